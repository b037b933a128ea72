/* SPDX-License-Identifier: MIT */
/*
 * Writing crash dumps from a live target: `.dump /f` (full, type 1, the
 * physical memory runs of MmPhysicalMemoryBlock) and `.dump /k` (kernel
 * bitmap, type 6: kernel-half mappings and the page tables themselves).
 */
#define _GNU_SOURCE
#include "cmd/args.h"
#include "core/engine_int.h"
#include "arch/arch.h"
#include "arch/paging.h"

#include <kd/dump.h>
#include <kd/dumpfmt.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DW_PAGE 4096u
#define DW_PREFETCH_PAGES 64u /* 256 KiB per physical read request */
#define DW_MAX_RUNS 1024u
#define DW_LIVE_SYSTEM_DUMP 0x161u
#define DW_KUSER_INTERRUPT_TIME 0xFFFFF78000000008ull
#define DW_FILETIME_UNIX_EPOCH 116444736000000000ull

/* Bytes written over the emitted memory (contexts into KPRCBs). */
struct dw_overlay {
	uint64_t pa;
	uint32_t len;
	uint8_t data[KD_ARCH_CTX_MAX];
};

struct dw_live {
	struct kd_session *s;
	uint8_t *pf;	   /* prefetch buffer */
	uint64_t pf_pfn;   /* first pfn in pf */
	unsigned int pf_n; /* pages in pf */
	uint8_t *pf_ok;	   /* per page: read completely */
	uint8_t *keep;	   /* bitmap of kept pfns (/k), else NULL */
	uint64_t keep_bits;
	const struct kd_dump_run *runs;
	unsigned int nruns;
	struct dw_overlay *ov;
	unsigned int nov;
	uint64_t failed; /* pages that could not be read */
	int link_rc;	 /* a link failure: abort */
	unsigned int last_pct;
	bool cancelled;
};

static bool dw_keep_bit(const struct dw_live *w, uint64_t pfn)
{
	return pfn < w->keep_bits && (w->keep[pfn >> 3] >> (pfn & 7)) & 1;
}

static bool dw_keep(void *ctx, uint64_t pfn)
{
	return dw_keep_bit(ctx, pfn);
}

/* The end (exclusive) of the run holding @p pfn, or pfn + 1. */
static uint64_t dw_run_end(const struct dw_live *w, uint64_t pfn)
{
	unsigned int i;

	for (i = 0; i < w->nruns; i++)
		if (pfn >= w->runs[i].base_page &&
		    pfn - w->runs[i].base_page < w->runs[i].page_count)
			return w->runs[i].base_page + w->runs[i].page_count;
	return pfn + 1;
}

static void dw_prefetch(struct dw_live *w, uint64_t pfn)
{
	uint64_t end = dw_run_end(w, pfn);
	unsigned int n = 1, i;
	size_t done = 0;
	int rc;

	while (n < DW_PREFETCH_PAGES && pfn + n < end &&
	       (!w->keep || dw_keep_bit(w, pfn + n)))
		n++;
	w->pf_pfn = pfn;
	w->pf_n = n;
	memset(w->pf_ok, 0, DW_PREFETCH_PAGES);
	rc = kd_read_physical(w->s, pfn * DW_PAGE, w->pf, (size_t)n * DW_PAGE,
			      &done);
	if (rc < 0 && rc != KD_EFAULT && done == 0)
		w->link_rc = rc;
	for (i = 0; i < n; i++)
		w->pf_ok[i] = done >= (size_t)(i + 1) * DW_PAGE;
	/* Retry page by page after a short read: one bad page only. */
	for (i = (unsigned int)(done / DW_PAGE); rc >= 0 && i < n; i++) {
		size_t d1 = 0;

		if (kd_read_physical(w->s, (pfn + i) * DW_PAGE,
				     w->pf + (size_t)i * DW_PAGE, DW_PAGE,
				     &d1) >= 0 &&
		    d1 == DW_PAGE)
			w->pf_ok[i] = 1;
	}
}

static int dw_read_page(void *ctx, uint64_t pfn, uint8_t *page)
{
	struct dw_live *w = ctx;
	uint64_t base = pfn * DW_PAGE;
	unsigned int i;

	if (w->link_rc < 0)
		return -1;
	if (pfn < w->pf_pfn || pfn >= w->pf_pfn + w->pf_n)
		dw_prefetch(w, pfn);
	i = (unsigned int)(pfn - w->pf_pfn);
	if (!w->pf_ok[i]) {
		w->failed++;
		return -1;
	}
	memcpy(page, w->pf + (size_t)i * DW_PAGE, DW_PAGE);
	for (i = 0; i < w->nov; i++) {
		const struct dw_overlay *o = &w->ov[i];

		if (o->pa >= base && o->pa < base + DW_PAGE) {
			uint32_t n = o->len;

			if (o->pa - base + n > DW_PAGE)
				n = (uint32_t)(base + DW_PAGE - o->pa);
			memcpy(page + (o->pa - base), o->data, n);
		}
	}
	return 0;
}

static int dw_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct dw_live *w = ctx;
	unsigned int pct = total ? (unsigned int)(done * 100 / total) : 100;

	if (w->s->interrupt) {
		w->cancelled = true;
		return 1;
	}
	if (w->link_rc < 0)
		return 1;
	pct -= pct % 5;
	if (pct != w->last_pct && pct < 100) {
		kd_out(w->s, "Percent written %u\n", pct);
		w->last_pct = pct;
	}
	return 0;
}

/* ---- gathering what the header needs ------------------------------------ */

static int dw_read_runs(struct kd_session *s, struct kd_dump_run **out,
			unsigned int *nout)
{
	uint64_t ptr = 0, npages;
	uint8_t hdr[16], *buf;
	uint32_t n, i;
	struct kd_dump_run *r;
	bool p64 = kd_is_ptr64(s);
	size_t rsz = p64 ? 16 : 8, hsz = p64 ? 16 : 8;

	*out = NULL;
	*nout = 0;
	if (!s->tgt.have_kdbg || !s->tgt.kdbg.mm_physical_memory_block)
		return kd_fail(s, KD_ENOTFOUND,
			       "Unable to find the physical "
			       "memory runs (KDBG MmPhysicalMemoryBlock is "
			       "not set)");
	if (kd_read_u64(s, s->tgt.kdbg.mm_physical_memory_block, &ptr) < 0 ||
	    !ptr)
		return kd_fail(s, KD_EFAULT,
			       "Unable to read "
			       "nt!MmPhysicalMemoryBlock at %#llx",
			       (unsigned long long)
				       s->tgt.kdbg.mm_physical_memory_block);
	if (!p64)
		ptr &= 0xFFFFFFFFull;
	if (kd_read_virtual_all(s, ptr, hdr, hsz) < 0)
		return kd_fail(s, KD_EFAULT,
			       "Unable to read the physical "
			       "memory descriptor at %#llx",
			       (unsigned long long)ptr);
	n = kd_get_le32(hdr);
	npages = p64 ? kd_get_le64(hdr + 8) : kd_get_le32(hdr + 4);
	if (n == 0 || n > DW_MAX_RUNS)
		return kd_fail(s, KD_EPROTO,
			       "The physical memory descriptor "
			       "has %u runs",
			       n);
	buf = kd_malloc(n * rsz);
	r = kd_calloc(n, sizeof(*r));
	if (!buf || !r) {
		kd_free(buf);
		kd_free(r);
		return kd_fail(s, KD_ENOMEM, "Out of memory");
	}
	if (kd_read_virtual_all(s, ptr + hsz, buf, n * rsz) < 0) {
		kd_free(buf);
		kd_free(r);
		return kd_fail(s, KD_EFAULT,
			       "Unable to read the physical "
			       "memory runs at %#llx",
			       (unsigned long long)ptr + hsz);
	}
	for (i = 0; i < n; i++) {
		if (p64) {
			r[i].base_page = kd_get_le64(buf + rsz * i);
			r[i].page_count = kd_get_le64(buf + rsz * i + 8);
		} else {
			r[i].base_page = kd_get_le32(buf + rsz * i);
			r[i].page_count = kd_get_le32(buf + rsz * i + 4);
		}
	}
	kd_free(buf);
	(void)npages;
	*out = r;
	*nout = n;
	return KD_OK;
}

/* KiBugCheckData through KDBG (+0x88), else nt!KiBugCheckData. */
static void dw_bugcheck(struct kd_session *s, struct kd_dump_write_params *p)
{
	uint64_t va = 0;
	uint8_t b[40];
	unsigned int i;

	if (s->tgt.have_kdbg && s->tgt.kdbg_addr)
		(void)kd_read_u64(
			s, s->tgt.kdbg_addr + KD_KDBG_KI_BUGCHECK_DATA, &va);
	if (!va)
		(void)kd_sym_lookup(s, "nt!KiBugCheckData", &va);
	p->bugcheck_code = DW_LIVE_SYSTEM_DUMP;
	if (!va || kd_read_virtual_all(s, va, b, sizeof(b)) < 0 ||
	    kd_get_le32(b) == 0)
		return;
	p->bugcheck_code = kd_get_le32(b);
	for (i = 0; i < 4; i++)
		p->bugcheck_params[i] = kd_get_le64(b + 8 + 8 * i);
}

/* Queue a CONTEXT at virtual @p va: split per page after translation. */
static int dw_add_overlay(struct kd_session *s, struct dw_live *w, uint64_t va,
			  const uint8_t *ctx, uint32_t len)
{
	uint32_t off = 0;

	while (off < len) {
		uint64_t pa;
		uint32_t n = DW_PAGE - (uint32_t)((va + off) & (DW_PAGE - 1));
		struct dw_overlay *o;

		if (n > len - off)
			n = len - off;
		if (kd_virt_to_phys(s, va + off, &pa) < 0)
			return KD_EFAULT;
		o = kd_realloc(w->ov, (w->nov + 1) * sizeof(*w->ov));
		if (!o)
			return KD_ENOMEM;
		w->ov = o;
		o = &w->ov[w->nov++];
		o->pa = pa;
		o->len = n;
		memcpy(o->data, ctx + off, n);
		off += n;
	}
	return KD_OK;
}

/*
 * Every processor's registers into its KPRCB (the embedded
 * ProcessorState CONTEXT and/or the CONTEXT the Context pointer names),
 * so ~N works on the dump.  Returns the number of processors written.
 */
static unsigned int dw_prcb_contexts(struct kd_session *s, struct dw_live *w)
{
	unsigned int i, nok = 0;
	uint16_t optr = 0, oemb = 0;
	uint8_t b[2];

	if (!s->tgt.have_kdbg || !s->tgt.kdbg.ki_processor_block)
		return 0;
	oemb = s->tgt.kdbg.offset_prcb_proc_state_context;
	if (kd_read_virtual_all(s,
				s->tgt.kdbg_addr + KD_KDBG_OFFSET_PRCB_CONTEXT,
				b, 2) == KD_OK &&
	    s->tgt.kdbg.size > KD_KDBG_OFFSET_PRCB_CONTEXT + 2)
		optr = kd_get_le16(b);
	if (!oemb && !optr)
		return 0;
	for (i = 0; i < s->tgt.ncpus; i++) {
		uint64_t prcb = 0, cva = 0;
		uint8_t *ctx = NULL;
		bool ok = false;

		if (kd_read_u64(s, s->tgt.kdbg.ki_processor_block + 8ull * i,
				&prcb) < 0 ||
		    !prcb)
			continue;
		if (kd_context(s, i, &ctx) < 0 || !ctx)
			continue;
		if (oemb &&
		    dw_add_overlay(s, w, prcb + oemb, ctx,
				   (uint32_t)kd_arch(s)->ctx_size) == KD_OK)
			ok = true;
		if (optr && kd_read_u64(s, prcb + optr, &cva) == KD_OK && cva &&
		    dw_add_overlay(s, w, cva, ctx,
				   (uint32_t)kd_arch(s)->ctx_size) == KD_OK)
			ok = true;
		nok += ok;
	}
	return nok;
}

/* ---- /k: the kernel half of the page tables ----------------------------- */

static void dw_mark(struct dw_live *w, uint64_t pfn, uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++, pfn++)
		if (pfn < w->keep_bits)
			w->keep[pfn >> 3] |= (uint8_t)(1u << (pfn & 7));
}

static int dw_walk(struct kd_session *s, struct dw_live *w, uint64_t table,
		   unsigned int level, unsigned int first, uint64_t *budget)
{
	uint8_t *pt;
	unsigned int i;
	size_t done = 0;
	int rc = KD_OK;

	if ((*budget)-- == 0)
		return KD_EOVERFLOW;
	dw_mark(w, table >> 12, 1);
	pt = kd_malloc(DW_PAGE);
	if (!pt)
		return KD_ENOMEM;
	if (kd_read_physical(s, table, pt, DW_PAGE, &done) < 0 ||
	    done != DW_PAGE) {
		kd_free(pt);
		return KD_OK; /* an unreadable table: nothing below it */
	}
	for (i = first; i < 512 && rc == KD_OK && !s->interrupt; i++) {
		uint64_t e = kd_get_le64(pt + 8 * i);
		uint64_t pa = e & KD_PTE_PFN_MASK;

		if (!(e & KD_PTE_P))
			continue;
		if (level == 3) {
			dw_mark(w, pa >> 12, 1);
		} else if ((level == 1 || level == 2) && (e & KD_PTE_PS)) {
			uint64_t n = level == 1 ? 1ull << 18 : 1ull << 9;

			dw_mark(w, (pa >> 12) & ~(n - 1), n);
		} else if (level < 3) {
			rc = dw_walk(s, w, pa, level + 1, 0, budget);
		}
	}
	kd_free(pt);
	return rc;
}

static int dw_kernel_pages(struct kd_session *s, struct dw_live *w,
			   uint64_t dtb)
{
	uint64_t span = 0, budget = 1u << 20;
	unsigned int i;

	for (i = 0; i < w->nruns; i++)
		if (w->runs[i].base_page + w->runs[i].page_count > span)
			span = w->runs[i].base_page + w->runs[i].page_count;
	w->keep_bits = span;
	w->keep = kd_calloc((size_t)((span + 7) / 8), 1);
	if (!w->keep)
		return KD_ENOMEM;
	/* PML4 entries 256..511: the kernel half. */
	return dw_walk(s, w, dtb & ~0xFFFull, 0, 256, &budget);
}

/* ---- the command ----------------------------------------------------------- */

/*
 * "/f", "/ka", "/o", "/c"...: an option; "/tmp/x.dmp" is the file (a
 * path whose first component is not an option word).
 */
static bool dw_is_option(const char *p)
{
	size_t n = strcspn(p + 1, " \t");

	if (n == 0 || n > 2)
		return false;
	return strspn(p + 1, "ofkacmub") >= n;
}

/*
 * A file name: "quoted" (what follows the quote is not looked at) or up
 * to the end (trailing blanks cut).  A syntax error at its start when
 * there is none.
 */
static int dw_file_arg(struct kd_args *a, char *out, size_t cap)
{
	const char *at = a->p;
	const char *name;
	size_t n;

	if (kd_args_peek(a) == '"') {
		int rc = kd_args_take_quoted(a, 0, &name, &n);

		if (rc < 0)
			return rc;
	} else {
		kd_args_take_rest(a, 0, &name, &n);
	}
	if (n == 0 || n >= cap)
		return kd_args_error_at(a, at);
	memcpy(out, name, n);
	out[n] = 0;
	return KD_OK;
}

static int cmd_dump_write(struct kd_session *s, struct kd_cmdctx *c)
{
	char path[512], comment[128] = "", ctype = 0;
	bool overwrite = false, active = false;
	struct kd_dump_write_params wp;
	struct dw_live w;
	struct kd_dump_run *runs = NULL;
	unsigned int nruns = 0, nctx;
	struct kd_amd64_kspecial *ks = NULL;
	uint8_t *ctx = NULL;
	struct stat st;
	uint64_t it = 0, t0;
	struct kd_args a;
	int rc;

	kd_args_init(&a, s, c);
	while ((kd_args_peek(&a) == '/' || kd_args_peek(&a) == '-') &&
	       dw_is_option(a.p)) {
		const char *o = a.p + 1;

		if (*o == 'o') {
			overwrite = true;
			kd_args_advance(&a, 2);
		} else if (*o == 'f') {
			ctype = 'f';
			kd_args_advance(&a, 2);
		} else if (o[0] == 'k' && o[1] == 'a') {
			ctype = 'k';
			active = true;
			kd_args_advance(&a, 3);
		} else if (*o == 'k') {
			ctype = 'k';
			kd_args_advance(&a, 2);
		} else if (*o == 'c') {
			const char *text = NULL;
			size_t n = 0;

			kd_args_advance(&a, 2);
			kd_args_skip(&a);
			if (kd_args_peek(&a) == '"') {
				rc = kd_args_take_quoted(&a, 0, &text, &n);
				if (rc < 0)
					return rc;
			} else if (!kd_args_take_word(&a, &text, &n)) {
				n = 0;
			}
			if (n >= sizeof(comment))
				n = sizeof(comment) - 1;
			if (n)
				memcpy(comment, text, n);
			comment[n] = 0;
		} else if (*o == 'm' || *o == 'b' || *o == 'u') {
			return kd_fail(s, KD_ENOTSUP,
				       ".dump /%c is not "
				       "supported: use /f (full) or /k "
				       "(kernel)",
				       *o);
		} else {
			return kd_args_error_at(&a, o);
		}
		if (!kd_args_at_word_end(&a) && kd_args_peek(&a) != '/')
			return kd_args_error(&a);
		kd_args_skip(&a);
	}
	if (!ctype)
		return kd_fail(s, KD_ENOTSUP,
			       "Small (mini) kernel dumps are "
			       "not supported: use .dump /f or .dump /k");
	rc = dw_file_arg(&a, path, sizeof(path));
	if (rc < 0)
		return rc;
	if (s->sandbox)
		return kd_fail(s, KD_ENOTSUP, ".dump is disabled here");
	if (s->target && !kd_target_has(s, KD_TCAP_SAVE_DUMP))
		return kd_fail(s, KD_ENOTSUP,
			       "Writing a dump of a dump "
			       "target is not supported");
	if (!overwrite && stat(path, &st) == 0)
		return kd_fail(s, KD_EBUSY,
			       "Dump file %s already exists, "
			       "use /o to overwrite it",
			       path);
	memset(&w, 0, sizeof(w));
	memset(&wp, 0, sizeof(wp));
	w.s = s;
	w.last_pct = ~0u;
	rc = dw_read_runs(s, &runs, &nruns);
	if (rc < 0)
		return rc;
	w.runs = runs;
	w.nruns = nruns;
	rc = kd_kspecial(s, s->tgt.cpu, &ks);
	if (rc < 0 || !ks) {
		kd_free(runs);
		return kd_fail(s, rc < 0 ? rc : KD_ERROR,
			       "Unable to read the "
			       "special registers (CR3)");
	}
	rc = kd_context(s, s->tgt.cpu, &ctx);
	if (rc < 0 || !ctx) {
		kd_free(runs);
		return kd_fail(s, rc < 0 ? rc : KD_ERROR,
			       "Unable to read the "
			       "registers of processor %u",
			       s->tgt.cpu);
	}
	wp.version = KD_DUMP_WRITE_PARAMS_VERSION;
	wp.type = ctype == 'f' ? KD_DUMP_FULL :
		  active       ? KD_DUMP_BITMAP_FULL :
				 KD_DUMP_BITMAP_KERNEL;
	wp.ptr64 = kd_is_ptr64(s);
	wp.machine = s->tgt.version.machine_type;
	wp.major = s->tgt.version.major_version & 0xFF;
	wp.minor = s->tgt.version.minor_version;
	wp.ncpus = s->tgt.ncpus;
	wp.dtb = ks->cr3;
	if (s->tgt.have_kdbg) {
		wp.pfn_database = s->tgt.kdbg.mm_pfn_database;
		wp.ps_loaded_module_list = s->tgt.kdbg.ps_loaded_module_list;
		wp.ps_active_process_head = s->tgt.kdbg.ps_active_process_head;
		wp.kdbg = s->tgt.kdbg_addr;
	}
	if (!wp.ps_loaded_module_list)
		wp.ps_loaded_module_list = s->tgt.version.ps_loaded_module_list;
	dw_bugcheck(s, &wp);
	wp.context = ctx;
	wp.context_len = kd_arch(s)->ctx_size;
	wp.system_time = kd_now_ms() * 10000ull + DW_FILETIME_UNIX_EPOCH;
	if (kd_read_u64(s, DW_KUSER_INTERRUPT_TIME, &it) == KD_OK)
		wp.system_uptime = it;
	wp.comment = comment[0] ? comment : "openkd .dump";
	wp.runs = runs;
	wp.nruns = nruns;
	wp.read_page = dw_read_page;
	wp.progress = dw_progress;
	wp.ctx = &w;
	if (!s->tgt.have_kdbg)
		kd_out(s, "WARNING: no KDDEBUGGER_DATA64: the dump will lack "
			  "the module and processor lists\n");
	nctx = dw_prcb_contexts(s, &w);
	/* kd_context() may have switched buffers: take the current one. */
	rc = kd_context(s, s->tgt.cpu, &ctx);
	if (rc < 0 || !ctx) {
		rc = kd_fail(s, KD_ERROR,
			     "Unable to read the registers of "
			     "processor %u",
			     s->tgt.cpu);
		goto out;
	}
	wp.context = ctx;
	if (nctx < s->tgt.ncpus && s->tgt.ncpus > 1)
		kd_out(s,
		       "WARNING: %u of %u processor contexts could be put "
		       "in their KPRCB\n",
		       nctx, s->tgt.ncpus);
	w.pf = kd_malloc((size_t)DW_PREFETCH_PAGES * DW_PAGE);
	w.pf_ok = kd_malloc(DW_PREFETCH_PAGES);
	if (!w.pf || !w.pf_ok) {
		rc = kd_fail(s, KD_ENOMEM, "Out of memory");
		goto out;
	}
	w.pf_n = 0;
	s->interrupt = 0;
	if (ctype == 'k' && !active) {
		rc = dw_kernel_pages(s, &w, ks->cr3);
		if (rc < 0) {
			rc = kd_fail(s, rc,
				     "Unable to walk the kernel page "
				     "tables: %s",
				     kd_error_message(rc));
			goto out;
		}
		wp.keep_page = dw_keep;
	}
	kd_out(s, "Creating %s - %s\n", path,
	       ctype == 'f' ? "Full kernel dump" :
	       active	    ? "Active kernel and user dump" :
			      "Kernel summary dump");
	t0 = kd_mono_ms();
	rc = kd_dump_write(path, &wp);
	if (rc == KD_OK && w.link_rc < 0)
		rc = w.link_rc;
	if (w.cancelled) {
		s->interrupt = 0;
		rc = kd_fail(s, KD_EAGAIN,
			     "Dump creation was cancelled, %s "
			     "removed",
			     path);
		goto out;
	}
	if (w.link_rc < 0) {
		(void)unlink(path);
		rc = kd_fail(s, w.link_rc,
			     "Dump creation failed: the target "
			     "stopped answering (%s)",
			     kd_error_message(w.link_rc));
		goto out;
	}
	if (rc < 0) {
		rc = kd_fail(s, rc, "Dump creation failed: %s",
			     kd_error_message(rc));
		goto out;
	}
	if (w.failed)
		kd_out(s,
		       "WARNING: %llu pages could not be read and were "
		       "%s\n",
		       (unsigned long long)w.failed,
		       ctype == 'f' ? "written as zeros" : "left out");
	if (stat(path, &st) == 0 && kd_mono_ms() > t0)
		kd_out(s, "Wrote %llu bytes in %.1f s\n",
		       (unsigned long long)st.st_size,
		       (double)(kd_mono_ms() - t0) / 1000.0);
	kd_out(s, "Dump successfully written\n");
	rc = KD_OK;
out:
	kd_free(w.pf);
	kd_free(w.pf_ok);
	kd_free(w.keep);
	kd_free(w.ov);
	kd_free(runs);
	return rc;
}

const struct kd_command kd_cmds_dumpw[] = {
	{ ".dump", cmd_dump_write, KD_CMDF_STOPPED,
	  "write a crash dump: .dump [/o] /f|/k|/ka [/c \"text\"] File" },
	{ NULL, NULL, 0, NULL },
};
