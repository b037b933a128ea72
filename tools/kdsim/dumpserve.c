/* SPDX-License-Identifier: MIT */
/*
 * kdsim --dump: kdstub platform ops backed by a kernel crash dump (the
 * reader of kd/dump.h).  Memory, per-processor contexts, KSPECIAL, control
 * space and GetVersion come from the dump; writes are refused and every
 * resume reports the same stop again, since a dump cannot run.
 */
#include "dumpserve.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kd/dump.h>
#include <kd/dumpfmt.h>
#include <kd/proto/layout.h>
#include <kd/proto/manipulate.h>
#include <kd/proto/wire.h>

/* KDDEBUGGER_DATA64 fields kdproto's layout.h does not name. */
#define DS_KDBG_OFF_PCR_CONTAINED_PRCB 0x2E6 /* u16 */
#define DS_AMD64_PCR_PRCB 0x180		     /* KPCR.Prcb on x64 */
#define DS_KDBG_COPY_MAX 0x800
/* SetContext compares from MxCsr on, skipping Dr0-Dr3, Dr6, Dr7. */
#define DS_CTX_CMP_FROM (KD_AMD64_CTX_OFF_FLAGS + 4)
#define DS_CTX_DR_END (KD_AMD64_CTX_OFF_DR7 + 8)

/* Bytes served at a virtual address instead of the dump's own. */
struct ds_overlay {
	uint64_t va;
	uint32_t len;
	uint8_t bytes[DS_KDBG_COPY_MAX];
};

struct kdsim_dump {
	struct kd_dump *d;
	const struct kd_dump_info *info;
	bool verbose;
	unsigned int ncpus;
	unsigned int crash_cpu;
	uint64_t kern_base;
	uint64_t list_head;    /* GetVersion DebuggerDataList, 0: none */
	uint64_t kpb;	       /* KiProcessorBlock, 0: unknown */
	uint16_t off_thread;   /* KPRCB.CurrentThread */
	uint16_t off_special;  /* KPRCB.ProcessorState.SpecialRegisters */
	uint16_t off_pcr_prcb; /* KPCR.Prcb */
	struct ds_overlay ov[2];
	unsigned int nov;
	uint64_t refused_writes;
	struct kdstub stub;
};

static void ds_log(const struct kdsim_dump *ds, const char *fmt, ...)
	KD_PRINTF(2, 3);

static void ds_log(const struct kdsim_dump *ds, const char *fmt, ...)
{
	va_list ap;

	(void)ds;
	va_start(ap, fmt);
	fputs("kdsim: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* Read @p len bytes at @p va: overlays first, then the dump. */
static int ds_vread(struct kdsim_dump *ds, uint64_t va, void *buf, uint32_t len,
		    uint32_t *done)
{
	uint8_t *out = buf;
	uint32_t pos = 0;

	while (pos < len) {
		uint64_t at = va + pos;
		uint32_t want = len - pos;
		unsigned int i;
		bool hit = false;

		for (i = 0; i < ds->nov; i++) {
			const struct ds_overlay *o = &ds->ov[i];

			if (at >= o->va && at - o->va < o->len) {
				uint32_t n = (uint32_t)(o->len - (at - o->va));

				if (n > want)
					n = want;
				memcpy(out + pos, o->bytes + (at - o->va), n);
				pos += n;
				hit = true;
				break;
			}
			/* Stop the dump read where an overlay starts. */
			if (o->va > at && o->va - at < want)
				want = (uint32_t)(o->va - at);
		}
		if (!hit) {
			size_t got = 0;
			int rc = kd_dump_read_virtual(ds->d, at, out + pos,
						      want, &got);

			pos += (uint32_t)got;
			if (rc < 0 || got < want) {
				*done = pos;
				return KD_EFAULT;
			}
		}
	}
	*done = pos;
	return KD_OK;
}

static bool ds_vread64(struct kdsim_dump *ds, uint64_t va, uint64_t *v)
{
	uint8_t b[8];
	uint32_t done = 0;

	if (ds_vread(ds, va, b, sizeof(b), &done) != KD_OK)
		return false;
	*v = kd_get_le64(b);
	return true;
}

static uint32_t p_processor_count(void *ctx)
{
	struct kdsim_dump *ds = ctx;

	return ds->ncpus;
}

static int p_read_virtual(void *ctx, uint16_t proc, uint64_t addr, void *buf,
			  uint32_t len, uint32_t *done)
{
	(void)proc; /* the dump has one (kernel) address space */
	return ds_vread(ctx, addr, buf, len, done);
}

static int p_write_virtual(void *ctx, uint16_t proc, uint64_t addr,
			   const void *buf, uint32_t len, uint32_t *done)
{
	struct kdsim_dump *ds = ctx;

	(void)proc;
	(void)buf;
	(void)len;
	if (ds->refused_writes++ == 0 || ds->verbose)
		ds_log(ds, "write to %#llx refused: a dump is read-only",
		       (unsigned long long)addr);
	*done = 0;
	return KD_ENOTSUP;
}

static int p_read_physical(void *ctx, uint64_t addr, void *buf, uint32_t len,
			   uint32_t caching, uint32_t *done)
{
	struct kdsim_dump *ds = ctx;
	size_t got = 0;
	int rc;

	(void)caching;
	rc = kd_dump_read_physical(ds->d, addr, buf, len, &got);
	*done = (uint32_t)got;
	return rc < 0 ? KD_EFAULT : KD_OK;
}

static int p_write_physical(void *ctx, uint64_t addr, const void *buf,
			    uint32_t len, uint32_t caching, uint32_t *done)
{
	(void)caching;
	return p_write_virtual(ctx, 0, addr, buf, len, done);
}

static int p_get_context(void *ctx, uint16_t proc,
			 uint8_t c[KDSTUB_CONTEXT_SIZE])
{
	struct kdsim_dump *ds = ctx;
	size_t n = 0;
	int rc;

	memset(c, 0, KDSTUB_CONTEXT_SIZE);
	rc = kd_dump_context(ds->d, proc, c, KDSTUB_CONTEXT_SIZE, &n);
	if (rc < 0 && ds->verbose)
		ds_log(ds, "no context for processor %u in the dump", proc);
	return rc;
}

static int p_set_context(void *ctx, uint16_t proc,
			 const uint8_t c[KDSTUB_CONTEXT_SIZE])
{
	struct kdsim_dump *ds = ctx;
	uint8_t cur[KDSTUB_CONTEXT_SIZE];

	/* Hosts write the registers back before they resume (with their
	 * own Dr0-Dr7): accept what the dump already holds apart from the
	 * debug registers, refuse any other change. */
	if (p_get_context(ds, proc, cur) == KD_OK &&
	    memcmp(cur + DS_CTX_CMP_FROM, c + DS_CTX_CMP_FROM,
		   KD_AMD64_CTX_OFF_DR0 - DS_CTX_CMP_FROM) == 0 &&
	    memcmp(cur + DS_CTX_DR_END, c + DS_CTX_DR_END,
		   KDSTUB_CONTEXT_SIZE - DS_CTX_DR_END) == 0)
		return KD_OK;
	ds_log(ds, "SetContext of processor %u refused: a dump is read-only",
	       proc);
	return KD_ENOTSUP;
}

/* KPRCB of @p proc from KiProcessorBlock, 0 when unknown. */
static uint64_t ds_prcb(struct kdsim_dump *ds, uint16_t proc)
{
	uint64_t prcb = 0;

	if (!ds->kpb || proc >= ds->ncpus ||
	    !ds_vread64(ds, ds->kpb + 8ull * proc, &prcb))
		return 0;
	return prcb;
}

static int p_get_kspecial(void *ctx, uint16_t proc,
			  uint8_t regs[KDSTUB_KSPECIAL_SIZE])
{
	struct kdsim_dump *ds = ctx;
	struct kd_amd64_kspecial ks;
	uint64_t prcb = ds_prcb(ds, proc);
	uint32_t done = 0;
	size_t n;

	if (proc >= ds->ncpus)
		return KD_EINVAL;
	memset(regs, 0, KDSTUB_KSPECIAL_SIZE);
	/* The KPRCB's ProcessorState.SpecialRegisters when the dump has it
	 * (the wire layout is the x64 KSPECIAL_REGISTERS one). */
	if (prcb && ds->off_special &&
	    ds_vread(ds, prcb + ds->off_special, regs, KDSTUB_KSPECIAL_SIZE,
		     &done) == KD_OK &&
	    kd_amd64_kspecial_decode(&ks, regs, KDSTUB_KSPECIAL_SIZE) ==
		    KD_OK) {
		if (ks.cr3 == 0)
			ks.cr3 = ds->info->dtb;
	} else {
		memset(&ks, 0, sizeof(ks));
		ks.cr3 = ds->info->dtb;
	}
	ks.has_xcr0 = true;
	return kd_amd64_kspecial_encode(regs, KDSTUB_KSPECIAL_SIZE, &n, &ks);
}

static int p_set_kspecial(void *ctx, uint16_t proc,
			  const uint8_t regs[KDSTUB_KSPECIAL_SIZE])
{
	(void)ctx;
	(void)proc;
	(void)regs;
	return KD_ENOTSUP;
}

static int p_control_address(void *ctx, uint16_t proc, unsigned selector,
			     uint64_t *addr)
{
	struct kdsim_dump *ds = ctx;
	uint64_t prcb = ds_prcb(ds, proc);

	if (!prcb)
		return KD_ENOTFOUND;
	switch (selector) {
	case KD_AMD64_CS_PCR:
		*addr = prcb - ds->off_pcr_prcb;
		return KD_OK;
	case KD_AMD64_CS_PRCB:
		*addr = prcb;
		return KD_OK;
	case KD_AMD64_CS_THREAD:
		return ds_vread64(ds, prcb + ds->off_thread, addr) ? KD_OK :
								     KD_EFAULT;
	default:
		return KD_EINVAL;
	}
}

static int p_set_single_step(void *ctx, uint16_t proc, bool enable)
{
	struct kdsim_dump *ds = ctx;

	if (enable)
		ds_log(ds, "processor %u cannot step: a dump cannot run", proc);
	return KD_OK;
}

static int p_set_dr7(void *ctx, uint16_t proc, uint64_t dr7)
{
	(void)ctx;
	(void)proc;
	(void)dr7;
	return KD_OK;
}

static int p_query_memory(void *ctx, uint16_t proc, uint64_t addr,
			  uint32_t *space, uint32_t *flags)
{
	struct kdsim_dump *ds = ctx;
	uint8_t b;
	uint32_t done = 0;

	(void)proc;
	if (ds_vread(ds, addr, &b, 1, &done) != KD_OK)
		return KD_ENOTFOUND;
	*space = addr >= 0xFFFF800000000000ull ? KD_QUERY_SPACE_KERNEL :
						 KD_QUERY_SPACE_PROCESS;
	*flags = KD_QUERY_FLAG_READ;
	return KD_OK;
}

static void p_reboot(void *ctx)
{
	ds_log(ctx, "reboot ignored: a dump cannot run");
}

static void p_bugcheck(void *ctx, uint16_t proc, uint32_t code,
		       const uint64_t params[4])
{
	(void)proc;
	(void)params;
	ds_log(ctx, "bug check %#x ignored: a dump cannot run", code);
}

static void p_get_version(void *ctx, struct kd_version *v)
{
	struct kdsim_dump *ds = ctx;
	const struct kd_dump_info *in = ds->info;

	v->major_version = (uint16_t)((KD_MAJOR_NT << 8) | (in->major & 0xFF));
	v->minor_version = (uint16_t)in->minor;
	v->flags = KD_VERS_FLAG_MP | KD_VERS_FLAG_PTR64;
	if (ds->list_head)
		v->flags |= KD_VERS_FLAG_DATA;
	v->machine_type = KD_MACHINE_AMD64;
	v->kern_base = ds->kern_base;
	v->ps_loaded_module_list = in->ps_loaded_module_list;
	v->debugger_data_list = ds->list_head;
}

static const struct kdstub_platform_ops dump_ops = {
	.processor_count = p_processor_count,
	.read_virtual = p_read_virtual,
	.write_virtual = p_write_virtual,
	.read_physical = p_read_physical,
	.write_physical = p_write_physical,
	.get_context = p_get_context,
	.set_context = p_set_context,
	.get_kspecial = p_get_kspecial,
	.set_kspecial = p_set_kspecial,
	.control_address = p_control_address,
	.set_single_step = p_set_single_step,
	.set_dr7 = p_set_dr7,
	.query_memory = p_query_memory,
	.reboot = p_reboot,
	.bugcheck = p_bugcheck,
	.get_version = p_get_version,
};

static void ds_add_overlay(struct kdsim_dump *ds, uint64_t va,
			   const uint8_t *bytes, size_t len)
{
	struct ds_overlay *o;

	if (ds->nov >= KD_ARRAY_SIZE(ds->ov) || len == 0)
		return;
	if (len > sizeof(o->bytes))
		len = sizeof(o->bytes);
	o = &ds->ov[ds->nov++];
	o->va = va;
	o->len = (uint32_t)len;
	memcpy(o->bytes, bytes, len);
}

/*
 * The debugger data block as the host must see it: the decoded copy when
 * the dump's memory holds it encoded (or not at all, as in triage dumps),
 * and a list head whose Flink is the block when that is missing too.
 */
static void ds_setup_kdbg(struct kdsim_dump *ds)
{
	const uint8_t *blk = NULL;
	size_t len = kd_dump_kdbg_block(ds->d, &blk);
	uint64_t kdbg = ds->info->kdbg;
	uint8_t raw[DS_KDBG_COPY_MAX];
	uint32_t done = 0;
	uint64_t flink, head[2];

	if (!kdbg || len < KD_KDBG_OFF_SIZE + 4 || !blk)
		return;
	if (len > sizeof(raw))
		len = sizeof(raw);
	if (ds_vread(ds, kdbg, raw, (uint32_t)len, &done) != KD_OK ||
	    memcmp(raw, blk, len) != 0)
		ds_add_overlay(ds, kdbg, blk, len);
	ds->kern_base = kd_get_le64(blk + KD_KDBG_OFF_KERN_BASE);
	if (len >= KD_KDBG_OFF_KI_PROCESSOR_BLOCK + 8)
		ds->kpb = kd_get_le64(blk + KD_KDBG_OFF_KI_PROCESSOR_BLOCK);
	if (len >= KD_KDBG_OFF_OFFSET_PRCB_CURRENT_THREAD + 2)
		ds->off_thread = kd_get_le16(
			blk + KD_KDBG_OFF_OFFSET_PRCB_CURRENT_THREAD);
	if (len >= DS_KDBG_OFF_PCR_CONTAINED_PRCB + 2)
		ds->off_pcr_prcb = kd_get_le16(blk +
					       DS_KDBG_OFF_PCR_CONTAINED_PRCB);
	if (len >= KD_KDBG_OFF_OFFSET_PRCB_PROC_STATE_SPECIAL_REG + 2)
		ds->off_special = kd_get_le16(
			blk + KD_KDBG_OFF_OFFSET_PRCB_PROC_STATE_SPECIAL_REG);
	/* The list head the KDBG's own links point at. */
	flink = kd_get_le64(blk + KD_KDBG_OFF_FLINK);
	if (flink && flink != kdbg && ds_vread64(ds, flink, &head[0]) &&
	    head[0] == kdbg) {
		ds->list_head = flink;
		return;
	}
	if (flink && flink != kdbg) {
		uint8_t b[16];

		kd_put_le64(b, kdbg);
		kd_put_le64(b + 8, kdbg);
		ds_add_overlay(ds, flink, b, sizeof(b));
		ds->list_head = flink;
		return;
	}
	/* No usable links: serve a list head right after the block. */
	head[0] = kdbg + ((len + 15) & ~(size_t)15);
	{
		uint8_t b[16];

		kd_put_le64(b, kdbg);
		kd_put_le64(b + 8, kdbg);
		ds_add_overlay(ds, head[0], b, sizeof(b));
	}
	ds->list_head = head[0];
}

int kdsim_dump_open(struct kdsim_dump **out, const char *path, bool verbose,
		    char *err, size_t errlen)
{
	struct kdsim_dump *ds;
	int rc;

	*out = NULL;
	ds = calloc(1, sizeof(*ds));
	if (!ds) {
		snprintf(err, errlen, "out of memory");
		return KD_ENOMEM;
	}
	rc = kd_dump_open(&ds->d, path, err, errlen);
	if (rc < 0) {
		free(ds);
		return rc;
	}
	ds->info = kd_dump_info(ds->d);
	ds->verbose = verbose;
	if (ds->info->machine != KD_DUMP_MACHINE_AMD64 || !ds->info->ptr64) {
		snprintf(err, errlen,
			 "machine %#x: kdsim serves x64 dumps only",
			 ds->info->machine);
		kdsim_dump_close(ds);
		return KD_ENOTSUP;
	}
	ds->ncpus = ds->info->ncpus;
	if (ds->ncpus == 0)
		ds->ncpus = 1;
	if (ds->ncpus > KDSTUB_MAX_PROCESSORS)
		ds->ncpus = KDSTUB_MAX_PROCESSORS;
	ds->off_thread = 8;
	ds_setup_kdbg(ds);
	if (ds->off_pcr_prcb == 0)
		ds->off_pcr_prcb = DS_AMD64_PCR_PRCB;
	ds->crash_cpu = kd_dump_crash_cpu(ds->d);
	if (ds->crash_cpu >= ds->ncpus)
		ds->crash_cpu = 0;
	*out = ds;
	return KD_OK;
}

unsigned int kdsim_dump_cpus(const struct kdsim_dump *ds)
{
	return ds->ncpus;
}

int kdsim_dump_serve(struct kdsim_dump *ds, const struct kdstub_io *io,
		     volatile int *stop)
{
	uint8_t c[KDSTUB_CONTEXT_SIZE];
	struct kd_exception_record rec;
	uint32_t code = 0;
	uint64_t addr = 0;
	unsigned long stops = 0;
	int rc;

	rc = kdstub_init(&ds->stub, io, &dump_ops, ds);
	if (rc < 0) {
		ds_log(ds, "kdstub_init failed (%d)", rc);
		return rc;
	}
	memset(&rec, 0, sizeof(rec));
	rec.code = KD_STATUS_BREAKPOINT;
	if (p_get_context(ds, (uint16_t)ds->crash_cpu, c) == KD_OK)
		rec.address = kd_get_le64(c + KD_AMD64_CTX_OFF_RIP);
	if (kd_dump_exception(ds->d, &code, &addr) == KD_OK && addr)
		ds_log(ds, "dump exception record: code %#x at %#llx", code,
		       (unsigned long long)addr);
	ds_log(ds,
	       "serving dump: %u processor(s), bug check %#x, "
	       "stopped on processor %u",
	       ds->ncpus, ds->info->bugcheck_code, ds->crash_cpu);
	rec.number_parameters = 1;
	while (!*stop) {
		struct kdstub_resume r;

		memset(&r, 0, sizeof(r));
		if (stops++ > 0)
			ds_log(ds, "a dump cannot run: reporting the same "
				   "stop again");
		rc = kdstub_report_exception(&ds->stub, (uint16_t)ds->crash_cpu,
					     &rec, true, &r);
		if (rc < 0)
			return rc;
		/* Switches are answered from the processor asked for. */
		while (r.kind == KDSTUB_RESUME_SWITCH && !*stop) {
			uint16_t to = r.processor;

			if (to >= ds->ncpus)
				to = 0;
			if (kdstub_report_switch(&ds->stub, to, &r) < 0)
				break;
		}
	}
	return KD_OK;
}

void kdsim_dump_close(struct kdsim_dump *ds)
{
	if (!ds)
		return;
	kd_dump_close(ds->d);
	free(ds);
}
