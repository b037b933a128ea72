/* SPDX-License-Identifier: MIT */
/*
 * Crash-dump writer: full (type 1, run list) and bitmap (types 5/6) dumps
 * with a 64-bit or 32-bit header, streamed through a large buffer from a
 * page callback; all-zero pages become file holes.
 */
#define _GNU_SOURCE
#include <kd/dump.h>
#include <kd/alloc.h>
#include <kd/io.h>
#include <kd/dumpfmt.h>
#include <kd/error.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DW_PAGE 4096u
#define DW_BATCH_PAGES 1024u /* 4 MiB per write */
#define DW_STATUS_BREAKPOINT 0x80000003u
#define DW_EXCEPTION_NONCONTINUABLE 1u
#define DW_CTX_X86_EIP 0xB8   /* x86 CONTEXT.Eip */
#define DW_CTX_ARM64_PC 0x108 /* ARM64 CONTEXT.Pc */

struct dw_run {
	uint64_t base, count;
};

struct dw {
	const struct kd_dump_write_params *p;
	const char *path;
	int fd;
	uint8_t *buf;
	unsigned int nbuf;    /* pages in buf */
	uint64_t buf_off;     /* file offset of buf[0] */
	uint64_t done, total; /* pages handed to the callback */
	uint8_t *bitmap;
	uint64_t present;
	uint64_t end; /* file size so far */
};

static int dw_cmp_run(const void *a, const void *b)
{
	const struct kd_dump_run *x = a, *y = b;

	if (x->base_page != y->base_page)
		return x->base_page < y->base_page ? -1 : 1;
	return 0;
}

static int dw_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Sort the caller's runs, drop empty ones, refuse overlaps, and merge the
 * smallest gaps until at most @p max runs remain (the gap pages then read
 * as zeros: the writer never asks the callback for them).
 */
static int dw_prepare_runs(const struct kd_dump_write_params *p,
			   unsigned int max, struct dw_run **out,
			   unsigned int *nout, struct dw_run **orig,
			   unsigned int *norig)
{
	struct kd_dump_run *s;
	struct dw_run *r;
	uint64_t *gaps = NULL, limit = 0;
	unsigned int i, n = 0, m, ties;

	*out = NULL;
	*nout = 0;
	*orig = NULL;
	*norig = 0;
	if (p->nruns == 0 || !p->runs)
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_DUMP,
				    "dump: no physical memory runs");
	s = kd_malloc((size_t)p->nruns * sizeof *s);
	r = kd_malloc((size_t)p->nruns * sizeof *r);
	if (!s || !r) {
		kd_free(s);
		kd_free(r);
		return KD_ENOMEM;
	}
	memcpy(s, p->runs, (size_t)p->nruns * sizeof *s);
	qsort(s, p->nruns, sizeof *s, dw_cmp_run);
	for (i = 0; i < p->nruns; i++) {
		uint64_t end = s[i].base_page + s[i].page_count;

		if (s[i].page_count == 0)
			continue;
		if (end < s[i].base_page || end > (UINT64_C(1) << 52)) {
			unsigned long long b = s[i].base_page;
			unsigned long long c = s[i].page_count;
			int rc = kd_error_set(KD_EINVAL, KD_ERRCLASS_DUMP,
					      "dump: run %#llx+%#llx out of "
					      "range",
					      b, c);

			kd_free(s);
			kd_free(r);
			return rc;
		}
		if (n && s[i].base_page < r[n - 1].base + r[n - 1].count) {
			unsigned long long b = s[i].base_page;
			int rc = kd_error_set(KD_EINVAL, KD_ERRCLASS_DUMP,
					      "dump: overlapping runs at page "
					      "%#llx",
					      b);

			kd_free(s);
			kd_free(r);
			return rc;
		}
		if (n && s[i].base_page == r[n - 1].base + r[n - 1].count) {
			r[n - 1].count += s[i].page_count;
			continue;
		}
		r[n].base = s[i].base_page;
		r[n].count = s[i].page_count;
		n++;
	}
	kd_free(s);
	if (n == 0) {
		kd_free(r);
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_DUMP,
				    "dump: every run is empty");
	}
	*orig = kd_malloc((size_t)n * sizeof *r);
	if (!*orig) {
		kd_free(r);
		return KD_ENOMEM;
	}
	memcpy(*orig, r, (size_t)n * sizeof *r);
	*norig = n;
	if (n > max) {
		/* Close the n - max smallest gaps (ties: leftmost first). */
		gaps = kd_malloc((size_t)(n - 1) * sizeof *gaps);
		if (!gaps) {
			kd_free(r);
			kd_free(*orig);
			*orig = NULL;
			return KD_ENOMEM;
		}
		for (i = 1; i < n; i++)
			gaps[i - 1] = r[i].base -
				      (r[i - 1].base + r[i - 1].count);
		qsort(gaps, n - 1, sizeof *gaps, dw_cmp_u64);
		limit = gaps[n - max - 1];
		ties = 0;
		for (i = 0; i < n - max; i++)
			if (gaps[i] == limit)
				ties++;
		kd_free(gaps);
		m = 0;
		for (i = 0; i < n; i++) {
			uint64_t gap;

			if (m == 0) {
				r[m++] = r[i];
				continue;
			}
			gap = r[i].base - (r[m - 1].base + r[m - 1].count);
			if (gap < limit || (gap == limit && ties > 0)) {
				if (gap == limit)
					ties--;
				r[m - 1].count = r[i].base + r[i].count -
						 r[m - 1].base;
				continue;
			}
			r[m++] = r[i];
		}
		n = m;
	}
	*out = r;
	*nout = n;
	return KD_OK;
}

static int dw_io_error(struct dw *w, int err, const char *what)
{
	if (err == ENOSPC || err == EDQUOT)
		return kd_error_set(KD_ERROR, KD_ERRCLASS_DUMP,
				    "dump: %s %s: disk full (%s)", what,
				    w->path, strerror(err));
	return kd_error_set(KD_ERROR, KD_ERRCLASS_DUMP, "dump: %s %s: %s", what,
			    w->path, strerror(err));
}

static int dw_pwrite_all(struct dw *w, const uint8_t *data, size_t len,
			 uint64_t off)
{
	if (kd_pwrite_all(w->fd, data, len, off) < 0)
		return dw_io_error(w, errno, "writing");
	return KD_OK;
}

static bool dw_page_zero(const uint8_t *pg)
{
	const uint64_t *q = (const uint64_t *)(const void *)pg;
	unsigned int i;

	for (i = 0; i < DW_PAGE / 8; i++)
		if (q[i])
			return false;
	return true;
}

/* Write the buffered pages; runs of all-zero pages are left as holes. */
static int dw_flush(struct dw *w)
{
	unsigned int i = 0, j;
	int rc;

	while (i < w->nbuf) {
		if (dw_page_zero(w->buf + (size_t)i * DW_PAGE)) {
			i++;
			continue;
		}
		j = i + 1;
		while (j < w->nbuf &&
		       !dw_page_zero(w->buf + (size_t)j * DW_PAGE))
			j++;
		rc = dw_pwrite_all(w, w->buf + (size_t)i * DW_PAGE,
				   (size_t)(j - i) * DW_PAGE,
				   w->buf_off + (uint64_t)i * DW_PAGE);
		if (rc < 0)
			return rc;
		i = j;
	}
	w->buf_off += (uint64_t)w->nbuf * DW_PAGE;
	w->nbuf = 0;
	if (w->p->progress && w->p->progress(w->p->ctx, w->done, w->total))
		return kd_error_set(KD_EAGAIN, KD_ERRCLASS_DUMP,
				    "dump: cancelled");
	return KD_OK;
}

/*
 * Emit one page.  @p gap: a page between merged runs (zeros, no callback).
 * Bitmap dumps store only pages the callback supplied and @p keep accepts.
 */
static int dw_page(struct dw *w, uint64_t pfn, bool gap, bool bitmap)
{
	uint8_t *pg = w->buf + (size_t)w->nbuf * DW_PAGE;
	int rc;

	w->done++;
	if (bitmap && w->p->keep_page && !w->p->keep_page(w->p->ctx, pfn))
		goto out;
	if (gap) {
		memset(pg, 0, DW_PAGE);
	} else if (w->p->read_page(w->p->ctx, pfn, pg) != 0) {
		if (bitmap)
			goto out;
		memset(pg, 0, DW_PAGE);
	}
	if (bitmap) {
		w->bitmap[pfn >> 3] |= (uint8_t)(1u << (pfn & 7));
		w->present++;
	}
	w->nbuf++;
	w->end += DW_PAGE;
out:
	if (w->nbuf == DW_BATCH_PAGES ||
	    (w->done & (DW_BATCH_PAGES - 1)) == 0) {
		rc = dw_flush(w);
		if (rc < 0)
			return rc;
	}
	return KD_OK;
}

/* Pull the program counter out of a CONTEXT for the exception record. */
static uint64_t dw_context_pc(const struct kd_dump_write_params *p)
{
	const uint8_t *c = p->context;

	if (!c)
		return 0;
	switch (p->machine) {
	case KD_DUMP_MACHINE_AMD64:
		if (p->context_len >= KD_CTX_AMD64_RIP + 8)
			return kd_get_le64(c + KD_CTX_AMD64_RIP);
		break;
	case KD_DUMP_MACHINE_I386:
		if (p->context_len >= DW_CTX_X86_EIP + 4)
			return kd_get_le32(c + DW_CTX_X86_EIP);
		break;
	case KD_DUMP_MACHINE_ARM64:
		if (p->context_len >= DW_CTX_ARM64_PC + 8)
			return kd_get_le64(c + DW_CTX_ARM64_PC);
		break;
	default:
		break;
	}
	return 0;
}

static void dw_fill_page(uint8_t *h, size_t len)
{
	size_t i;

	for (i = 0; i + 4 <= len; i += 4)
		memcpy(h + i, "PAGE", 4);
}

/* Comment: NUL-padded ASCII when given, else left PAGE-filled. */
static void dw_comment(uint8_t *dst, const char *comment)
{
	if (!comment)
		return;
	memset(dst, 0, KD_DMP64_COMMENT_SIZE);
	memcpy(dst, comment, strnlen(comment, KD_DMP64_COMMENT_SIZE - 1));
}

static void dw_header64(uint8_t *h, const struct kd_dump_write_params *p,
			const struct dw_run *runs, unsigned int nruns,
			uint64_t npages, bool bitmap)
{
	uint8_t *e = h + KD_DMP64_EXCEPTION;
	unsigned int i;

	dw_fill_page(h, KD_DMP64_HEADER_SIZE);
	memcpy(h + KD_DMP64_SIGNATURE, "PAGE", 4);
	memcpy(h + KD_DMP64_VALID_DUMP, "DU64", 4);
	kd_put_le32(h + KD_DMP64_MAJOR_VERSION, p->major);
	kd_put_le32(h + KD_DMP64_MINOR_VERSION, p->minor);
	kd_put_le64(h + KD_DMP64_DIRECTORY_TABLE_BASE, p->dtb);
	kd_put_le64(h + KD_DMP64_PFN_DATABASE, p->pfn_database);
	kd_put_le64(h + KD_DMP64_PS_LOADED_MODULE_LIST,
		    p->ps_loaded_module_list);
	kd_put_le64(h + KD_DMP64_PS_ACTIVE_PROCESS_HEAD,
		    p->ps_active_process_head);
	kd_put_le32(h + KD_DMP64_MACHINE_IMAGE_TYPE, p->machine);
	kd_put_le32(h + KD_DMP64_NUMBER_PROCESSORS, p->ncpus);
	kd_put_le32(h + KD_DMP64_BUGCHECK_CODE, p->bugcheck_code);
	for (i = 0; i < 4; i++)
		kd_put_le64(h + KD_DMP64_BUGCHECK_PARAM1 + 8 * i,
			    p->bugcheck_params[i]);
	kd_put_le64(h + KD_DMP64_KD_DEBUGGER_DATA_BLOCK, p->kdbg);
	if (!bitmap) {
		uint8_t *d = h + KD_DMP64_PHYS_MEM_BLOCK;

		kd_put_le32(d + KD_DMP64_PMD_NUMBER_OF_RUNS, nruns);
		kd_put_le64(d + KD_DMP64_PMD_NUMBER_OF_PAGES, npages);
		for (i = 0; i < nruns; i++) {
			uint8_t *q = d + KD_DMP64_PMD_RUNS +
				     KD_DMP64_PMD_RUN_SIZE * i;

			kd_put_le64(q, runs[i].base);
			kd_put_le64(q + 8, runs[i].count);
		}
	}
	/* Only the CONTEXT's own bytes: the rest stays PAGE, as Windows. */
	if (p->context)
		memcpy(h + KD_DMP64_CONTEXT_RECORD, p->context, p->context_len);
	/* EXCEPTION_RECORD64: a breakpoint at the current PC. */
	kd_put_le32(e + KD_DMP_EXC64_CODE, DW_STATUS_BREAKPOINT);
	kd_put_le32(e + KD_DMP_EXC64_FLAGS, DW_EXCEPTION_NONCONTINUABLE);
	kd_put_le64(e + KD_DMP_EXC64_RECORD, 0);
	kd_put_le64(e + KD_DMP_EXC64_ADDRESS, dw_context_pc(p));
	kd_put_le32(e + KD_DMP_EXC64_NPARAMS, 0);
	kd_put_le32(h + KD_DMP64_DUMP_TYPE, p->type);
	kd_put_le64(h + KD_DMP64_SYSTEM_TIME, p->system_time);
	dw_comment(h + KD_DMP64_COMMENT, p->comment);
	kd_put_le64(h + KD_DMP64_SYSTEM_UPTIME, p->system_uptime);
}

static void dw_header32(uint8_t *h, const struct kd_dump_write_params *p,
			const struct dw_run *runs, unsigned int nruns,
			uint64_t npages, bool bitmap)
{
	uint8_t *e = h + KD_DMP32_EXCEPTION;
	unsigned int i;

	dw_fill_page(h, KD_DMP32_HEADER_SIZE);
	memcpy(h + KD_DMP64_SIGNATURE, "PAGE", 4);
	memcpy(h + KD_DMP64_VALID_DUMP, "DUMP", 4);
	kd_put_le32(h + KD_DMP32_MAJOR_VERSION, p->major);
	kd_put_le32(h + KD_DMP32_MINOR_VERSION, p->minor);
	kd_put_le32(h + KD_DMP32_DIRECTORY_TABLE_BASE, (uint32_t)p->dtb);
	kd_put_le32(h + KD_DMP32_PFN_DATABASE, (uint32_t)p->pfn_database);
	kd_put_le32(h + KD_DMP32_PS_LOADED_MODULE_LIST,
		    (uint32_t)p->ps_loaded_module_list);
	kd_put_le32(h + KD_DMP32_PS_ACTIVE_PROCESS_HEAD,
		    (uint32_t)p->ps_active_process_head);
	kd_put_le32(h + KD_DMP32_MACHINE_IMAGE_TYPE, p->machine);
	kd_put_le32(h + KD_DMP32_NUMBER_PROCESSORS, p->ncpus);
	kd_put_le32(h + KD_DMP32_BUGCHECK_CODE, p->bugcheck_code);
	for (i = 0; i < 4; i++)
		kd_put_le32(h + KD_DMP32_BUGCHECK_PARAM1 + 4 * i,
			    (uint32_t)p->bugcheck_params[i]);
	h[KD_DMP32_PAE_ENABLED] = p->pae ? 1 : 0;
	kd_put_le32(h + KD_DMP32_KD_DEBUGGER_DATA_BLOCK, (uint32_t)p->kdbg);
	if (!bitmap) {
		uint8_t *d = h + KD_DMP32_PHYS_MEM_BLOCK;

		kd_put_le32(d + KD_DMP32_PMD_NUMBER_OF_RUNS, nruns);
		kd_put_le32(d + KD_DMP32_PMD_NUMBER_OF_PAGES, (uint32_t)npages);
		for (i = 0; i < nruns; i++) {
			uint8_t *q = d + KD_DMP32_PMD_RUNS +
				     KD_DMP32_PMD_RUN_SIZE * i;

			kd_put_le32(q, (uint32_t)runs[i].base);
			kd_put_le32(q + 4, (uint32_t)runs[i].count);
		}
	}
	if (p->context)
		memcpy(h + KD_DMP32_CONTEXT_RECORD, p->context, p->context_len);
	kd_put_le32(e + KD_DMP_EXC32_CODE, DW_STATUS_BREAKPOINT);
	kd_put_le32(e + KD_DMP_EXC32_FLAGS, DW_EXCEPTION_NONCONTINUABLE);
	kd_put_le32(e + KD_DMP_EXC32_RECORD, 0);
	kd_put_le32(e + KD_DMP_EXC32_ADDRESS, (uint32_t)dw_context_pc(p));
	kd_put_le32(e + KD_DMP_EXC32_NPARAMS, 0);
	dw_comment(h + KD_DMP32_COMMENT, p->comment);
	kd_put_le32(h + KD_DMP32_DUMP_TYPE, p->type);
	kd_put_le64(h + KD_DMP32_SYSTEM_UPTIME, p->system_uptime);
	kd_put_le64(h + KD_DMP32_SYSTEM_TIME, p->system_time);
}

static int dw_check(const struct kd_dump_write_params *p)
{
	size_t ctxmax;

	if (!p || p->version != KD_DUMP_WRITE_PARAMS_VERSION)
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_DUMP,
				    "dump: bad parameter block version");
	if (p->type != KD_DUMP_FULL && p->type != KD_DUMP_BITMAP_FULL &&
	    p->type != KD_DUMP_BITMAP_KERNEL)
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_DUMP,
				    "dump: cannot write dump type %u", p->type);
	if (!p->read_page)
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_DUMP,
				    "dump: no page source");
	if (p->ptr64 && p->pae)
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_DUMP,
				    "dump: PAE is a 32-bit header flag");
	ctxmax = p->ptr64 ? KD_DMP64_CONTEXT_RECORD_SIZE :
			    KD_DMP32_CONTEXT_RECORD_SIZE;
	if (p->context_len > ctxmax || (p->context_len && !p->context))
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_DUMP,
				    "dump: CONTEXT of %zu bytes does not fit "
				    "(at most %zu)",
				    p->context_len, ctxmax);
	return KD_OK;
}

/* Is the gap after original run @p o inside a merged run? */
static bool runs_gap(const struct dw_run *runs, unsigned int nruns,
		     const struct dw_run *o)
{
	uint64_t end = o->base + o->count;
	unsigned int lo = 0, hi = nruns;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (runs[mid].base + runs[mid].count <= end)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < nruns && runs[lo].base < end;
}

int kd_dump_write(const char *path, const struct kd_dump_write_params *p)
{
	struct dw w;
	struct dw_run *runs = NULL, *orig = NULL;
	unsigned int nruns = 0, norig = 0, i, maxruns;
	bool bitmap;
	uint64_t npages = 0, span, bmbytes = 0, first, hsize, pfn;
	uint8_t *hdr = NULL;
	int rc;

	rc = dw_check(p);
	if (rc < 0)
		return rc;
	if (!path || !*path)
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_DUMP,
				    "dump: no file name");
	bitmap = p->type != KD_DUMP_FULL;
	maxruns = p->ptr64 ? KD_DMP64_PMD_MAX_RUNS : KD_DMP32_PMD_MAX_RUNS;
	/* Bitmap dumps have no run list: keep every run as given. */
	rc = dw_prepare_runs(p, bitmap ? UINT32_MAX : maxruns, &runs, &nruns,
			     &orig, &norig);
	if (rc < 0)
		return rc;
	for (i = 0; i < nruns; i++)
		npages += runs[i].count;
	span = runs[nruns - 1].base + runs[nruns - 1].count;
	if ((!p->ptr64 && span > UINT64_C(0x100000000)) ||
	    (bitmap && span > UINT64_C(0x100000000))) {
		kd_free(runs);
		kd_free(orig);
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_DUMP,
				    "dump: page number %#llx too large for "
				    "this dump type",
				    (unsigned long long)span);
	}
	hsize = p->ptr64 ? KD_DMP64_HEADER_SIZE : KD_DMP32_HEADER_SIZE;
	if (bitmap) {
		/* Bits rounded up to whole 64-bit words; extra bits are 0. */
		span = (span + 63) & ~UINT64_C(63);
		bmbytes = span / 8;
		first = hsize + KD_DMP_BMP_BITMAP + bmbytes;
		if (!p->bitmap_unaligned)
			first = (first + DW_PAGE - 1) &
				~(uint64_t)(DW_PAGE - 1);
	} else {
		first = hsize;
	}
	memset(&w, 0, sizeof w);
	w.p = p;
	w.path = path;
	w.fd = -1;
	w.total = npages;
	w.buf_off = first;
	w.end = first;
	hdr = kd_malloc((size_t)first);
	w.buf = kd_malloc((size_t)DW_BATCH_PAGES * DW_PAGE);
	if (!hdr || !w.buf) {
		rc = kd_error_set(KD_ENOMEM, KD_ERRCLASS_DUMP,
				  "dump: out of memory");
		goto out;
	}
	memset(hdr, 0, (size_t)first);
	w.bitmap = bitmap ? hdr + hsize + KD_DMP_BMP_BITMAP : NULL;
	w.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w.fd < 0) {
		rc = dw_io_error(&w, errno, "cannot create");
		goto out;
	}
	/*
	 * Walk the runs as given (coalesced, sorted); for full dumps emit the
	 * zero pages of merged gaps between them.
	 */
	for (i = 0; i < norig; i++) {
		if (!bitmap && i > 0 && runs_gap(runs, nruns, &orig[i - 1])) {
			for (pfn = orig[i - 1].base + orig[i - 1].count;
			     pfn < orig[i].base; pfn++) {
				rc = dw_page(&w, pfn, true, false);
				if (rc < 0)
					goto fail;
			}
		}
		for (pfn = orig[i].base; pfn < orig[i].base + orig[i].count;
		     pfn++) {
			rc = dw_page(&w, pfn, false, bitmap);
			if (rc < 0)
				goto fail;
		}
	}
	if (w.nbuf) {
		rc = dw_flush(&w);
		if (rc < 0)
			goto fail;
	}
	if (p->ptr64)
		dw_header64(hdr, p, runs, nruns, npages, bitmap);
	else
		dw_header32(hdr, p, runs, nruns, npages, bitmap);
	if (p->ptr64)
		kd_put_le64(hdr + KD_DMP64_REQUIRED_DUMP_SPACE, w.end);
	else
		kd_put_le64(hdr + KD_DMP32_REQUIRED_DUMP_SPACE, w.end);
	if (bitmap) {
		uint8_t *b = hdr + hsize;

		memset(b, 0, KD_DMP_BMP_BITMAP);
		memcpy(b + KD_DMP_BMP_SIGNATURE,
		       p->type == KD_DUMP_BITMAP_FULL ? "FDMP" : "SDMP", 4);
		memcpy(b + KD_DMP_BMP_VALID_DUMP, "DUMP", 4);
		kd_put_le64(b + KD_DMP_BMP_FIRST_PAGE, first);
		kd_put_le64(b + KD_DMP_BMP_TOTAL_PRESENT, w.present);
		kd_put_le64(b + KD_DMP_BMP_PAGES, span);
	}
	rc = dw_pwrite_all(&w, hdr, (size_t)first, 0);
	if (rc < 0)
		goto fail;
	if (ftruncate(w.fd, (off_t)w.end) != 0) {
		rc = dw_io_error(&w, errno, "sizing");
		goto fail;
	}
	if (fsync(w.fd) != 0) {
		rc = dw_io_error(&w, errno, "syncing");
		goto fail;
	}
	if (close(w.fd) != 0) {
		rc = dw_io_error(&w, errno, "closing");
		w.fd = -1;
		unlink(path);
		goto out;
	}
	w.fd = -1;
	rc = KD_OK;
	goto out;
fail:
	if (w.fd >= 0) {
		close(w.fd);
		unlink(path);
	}
out:
	kd_free(hdr);
	kd_free(w.buf);
	kd_free(runs);
	kd_free(orig);
	return rc;
}
