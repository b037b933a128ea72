/* SPDX-License-Identifier: MIT */
/*
 * Processor extensions: !pcr, !prcb, !irql, !idt, !running (x64).
 *
 * A processor's KPRCB is nt!KiProcessorBlock[N]; its KPCR is the KPRCB
 * less the offset of _KPCR.Prcb.  Every field is read by its Windows
 * path through cmd/ext.h, so the offsets are those of the target
 * kernel's PDB; a field the PDB lacks is one line naming it.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/args.h"
#include "cmd/ext.h"
#include "core/engine_int.h"

#define IDT_VECTORS 256

static int need_x64(struct kd_session *s, const char *cmd)
{
	if (!kd_is_ptr64(s))
		return kd_fail(s, KD_ENOTSUP, "%s: x64 targets only", cmd);
	return KD_OK;
}

/* The processor number argument, the current processor when absent. */
static int take_cpu(struct kd_session *s, struct kd_cmdctx *c, unsigned *cpu)
{
	uint64_t v = s->tgt.cpu;
	struct kd_args a;
	int rc;

	kd_args_init(&a, s, c);
	if (!kd_args_at_end(&a)) {
		rc = kd_args_take_expr(&a, &v);
		if (rc < 0)
			return rc;
	}
	rc = kd_args_end(&a);
	if (rc < 0)
		return rc;
	if (v >= s->tgt.ncpus)
		return kd_fail(s, KD_EINVAL,
			       "Cannot get PRCB address for processor 0x%llx "
			       "(%u processors)",
			       (unsigned long long)v, s->tgt.ncpus);
	*cpu = (unsigned)v;
	return KD_OK;
}

/* KiProcessorBlock[@p cpu]. */
static int cpu_prcb(struct kd_session *s, unsigned cpu, uint64_t *prcb)
{
	uint64_t kpb = 0;
	char a[18];
	int rc;

	rc = kd_ext__global(s, "KiProcessorBlock", &kpb);
	if (rc < 0)
		return rc;
	if (kd_read_u64(s, kpb + 8ull * cpu, prcb) != KD_OK)
		return kd_fail(s, KD_EFAULT,
			       "Unable to read nt!KiProcessorBlock[%u] at %s",
			       cpu, kd_fmt_addr(a, kpb + 8ull * cpu));
	if (*prcb == 0)
		return kd_fail(s, KD_ENOTFOUND,
			       "nt!KiProcessorBlock[%u] is NULL", cpu);
	return KD_OK;
}

static int cpu_pcr(struct kd_session *s, unsigned cpu, uint64_t *pcr,
		   uint64_t *prcb)
{
	struct kd_ext_field f = { 0 };
	int rc;

	rc = cpu_prcb(s, cpu, prcb);
	if (rc == KD_OK)
		rc = kd_ext__field(s, "_KPCR.Prcb", &f);
	if (rc < 0)
		return rc;
	*pcr = *prcb - f.off;
	return KD_OK;
}

/* Read each of @p n fields of the object at @p base into @p v. */
static int read_fields(struct kd_session *s, uint64_t base,
		       const char *const *paths, uint64_t *v, size_t n)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		rc = kd_ext__read(s, base, paths[i], &v[i]);
		if (rc < 0)
			return rc;
	}
	return KD_OK;
}

/*
 * !pcr [Processor]: x64 WinDbg's label column.  The x86-only rows
 * (NtTib.*, IRR, IDR, InterruptMode, DpcQueue) have no _KPCR field on
 * x64 and are left out rather than shown as zeros.
 */
static int cmd_pcr(struct kd_session *s, struct kd_cmdctx *c)
{
	static const char *const f[] = {
		"_KPCR.MajorVersion",	"_KPCR.MinorVersion",
		"_KPCR.Self",		"_KPCR.CurrentPrcb",
		"_KPCR.Irql",		"_KPCR.IdtBase",
		"_KPCR.GdtBase",	"_KPCR.TssBase",
		"_KPRCB.CurrentThread", "_KPRCB.NextThread",
		"_KPRCB.IdleThread",
	};
	uint64_t v[KD_ARRAY_SIZE(f)] = { 0 }, pcr = 0, prcb = 0;
	unsigned cpu = 0;
	int rc;

	rc = need_x64(s, "!pcr");
	if (rc == KD_OK)
		rc = take_cpu(s, c, &cpu);
	if (rc == KD_OK)
		rc = cpu_pcr(s, cpu, &pcr, &prcb);
	if (rc == KD_OK)
		rc = read_fields(s, pcr, f, v, 8);
	if (rc == KD_OK)
		rc = read_fields(s, prcb, f + 8, v + 8, 3);
	if (rc < 0)
		return rc;
	kd_out(s, "KPCR for Processor %u at %016llx:\n", cpu,
	       (unsigned long long)pcr);
	kd_out(s, "    Major %llu Minor %llu\n", (unsigned long long)v[0],
	       (unsigned long long)v[1]);
	kd_out(s, "\t%19s: %016llx\n", "SelfPcr", (unsigned long long)v[2]);
	kd_out(s, "\t%19s: %016llx\n", "Prcb", (unsigned long long)v[3]);
	kd_out(s, "\t%19s: %016llx\n", "Irql", (unsigned long long)v[4]);
	kd_out(s, "\t%19s: %016llx\n", "IDT", (unsigned long long)v[5]);
	kd_out(s, "\t%19s: %016llx\n", "GDT", (unsigned long long)v[6]);
	kd_out(s, "\t%19s: %016llx\n\n", "TSS", (unsigned long long)v[7]);
	kd_out(s, "\t%19s: %016llx\n", "CurrentThread",
	       (unsigned long long)v[8]);
	kd_out(s, "\t%19s: %016llx\n", "NextThread", (unsigned long long)v[9]);
	kd_out(s, "\t%19s: %016llx\n", "IdleThread", (unsigned long long)v[10]);
	return KD_OK;
}

/* !prcb [Processor]: the layout of WinDbg's sample. */
static int cmd_prcb(struct kd_session *s, struct kd_cmdctx *c)
{
	static const char *const f[] = {
		"_KPRCB.CurrentThread", "_KPRCB.NextThread",
		"_KPRCB.IdleThread",	"_KPRCB.Number",
		"_KPRCB.SetMember",	"_KPRCB.InterruptCount",
		"_KPRCB.DpcTime",	"_KPRCB.InterruptTime",
		"_KPRCB.KernelTime",	"_KPRCB.UserTime",
	};
	uint64_t v[KD_ARRAY_SIZE(f)] = { 0 }, prcb = 0;
	unsigned cpu = 0;
	int rc;

	rc = need_x64(s, "!prcb");
	if (rc == KD_OK)
		rc = take_cpu(s, c, &cpu);
	if (rc == KD_OK)
		rc = cpu_prcb(s, cpu, &prcb);
	if (rc == KD_OK)
		rc = read_fields(s, prcb, f, v, KD_ARRAY_SIZE(f));
	if (rc < 0)
		return rc;
	kd_out(s, "PRCB for Processor %u at %016llx:\n", cpu,
	       (unsigned long long)prcb);
	kd_out(s, "Threads--  Current %016llx Next %016llx Idle %016llx\n",
	       (unsigned long long)v[0], (unsigned long long)v[1],
	       (unsigned long long)v[2]);
	kd_out(s, "Number %llu SetMember %08llx\n", (unsigned long long)v[3],
	       (unsigned long long)v[4]);
	kd_out(s, "Interrupt Count -- %08llx\n", (unsigned long long)v[5]);
	kd_out(s, "Times -- Dpc    %08llx Interrupt %08llx \n",
	       (unsigned long long)v[6], (unsigned long long)v[7]);
	kd_out(s, "         Kernel %08llx User      %08llx \n",
	       (unsigned long long)v[8], (unsigned long long)v[9]);
	return KD_OK;
}

/* x64 IRQL names; the device levels between have none. */
static const char *irql_name(uint64_t irql)
{
	switch (irql) {
	case 0:
		return "LOW_LEVEL";
	case 1:
		return "APC_LEVEL";
	case 2:
		return "DISPATCH_LEVEL";
	case 12:
		return "SYNCH_LEVEL";
	case 13:
		return "CLOCK_LEVEL";
	case 14:
		return "IPI_LEVEL";
	case 15:
		return "HIGH_LEVEL";
	default:
		return NULL;
	}
}

/* !irql [Processor]: the IRQL the processor had when it broke in. */
static int cmd_irql(struct kd_session *s, struct kd_cmdctx *c)
{
	uint64_t prcb = 0, irql = 0;
	unsigned cpu = 0;
	const char *name;
	int rc;

	rc = need_x64(s, "!irql");
	if (rc == KD_OK)
		rc = take_cpu(s, c, &cpu);
	if (rc == KD_OK)
		rc = cpu_prcb(s, cpu, &prcb);
	if (rc == KD_OK)
		rc = kd_ext__read(s, prcb, "_KPRCB.DebuggerSavedIRQL", &irql);
	if (rc < 0)
		return rc;
	name = irql_name(irql);
	kd_out(s, "Debugger saved IRQL for processor 0x%x -- %llu%s%s%s%s\n",
	       cpu, (unsigned long long)irql, name ? " (" : "",
	       name ? name : "", name ? ")" : "",
	       irql == 12 ? " [Synchronization level]" : "");
	return KD_OK;
}

/* The handler address of the _KIDTENTRY64 at @p e. */
static int idt_entry(struct kd_session *s, uint64_t e, uint64_t *isr,
		     bool *present)
{
	uint64_t lo = 0, mid = 0, hi = 0, p = 0;
	int rc;

	rc = kd_ext__read(s, e, "_KIDTENTRY64.OffsetLow", &lo);
	if (rc == KD_OK)
		rc = kd_ext__read(s, e, "_KIDTENTRY64.OffsetMiddle", &mid);
	if (rc == KD_OK)
		rc = kd_ext__read(s, e, "_KIDTENTRY64.OffsetHigh", &hi);
	if (rc == KD_OK)
		rc = kd_ext__read(s, e, "_KIDTENTRY64.Present", &p);
	if (rc < 0)
		return rc;
	*isr = (hi << 32) | (mid << 16) | lo;
	*present = p != 0;
	return KD_OK;
}

/*
 * !idt [-a]: the current processor's IDT (_KPCR.IdtBase), one line per
 * present vector with the handler's symbol; -a adds the vectors that are
 * not present.  The KINTERRUPT column needs _KPRCB.InterruptObject,
 * which is shown when nt's types have it.
 */
static int cmd_idt(struct kd_session *s, struct kd_cmdctx *c)
{
	uint64_t pcr = 0, prcb = 0, idt = 0, esz = 0;
	bool all = false, have_intobj;
	struct kd_args a;
	unsigned v;
	int rc;

	rc = need_x64(s, "!idt");
	if (rc < 0)
		return rc;
	kd_args_init(&a, s, c);
	if (!kd_args_at_end(&a)) {
		const char *w;
		size_t n;

		if (!kd_args_take_word(&a, &w, &n) || n != 2 ||
		    memcmp(w, "-a", 2) != 0)
			return kd_args_error(&a);
		all = true;
	}
	rc = kd_args_end(&a);
	if (rc == KD_OK)
		rc = cpu_pcr(s, s->tgt.cpu, &pcr, &prcb);
	if (rc == KD_OK)
		rc = kd_ext__read(s, pcr, "_KPCR.IdtBase", &idt);
	if (rc == KD_OK)
		rc = kd_ext__sizeof(s, "_KIDTENTRY64", &esz);
	if (rc < 0)
		return rc;
	have_intobj = kd_ext__has(s, "_KPRCB.InterruptObject");
	kd_out(s, "Dumping IDT: %016llx\n\n", (unsigned long long)idt);
	for (v = 0; v < IDT_VECTORS; v++) {
		uint64_t isr = 0, intobj = 0;
		bool present = false;
		char sym[256];

		rc = idt_entry(s, idt + esz * v, &isr, &present);
		if (rc < 0)
			return rc;
		if (!present && !all)
			continue;
		if (kd_sym_format(s, isr, sym, sizeof(sym)) != KD_OK)
			sym[0] = '\0';
		if (have_intobj) {
			rc = kd_ext__read_elem(
				s, prcb, "_KPRCB.InterruptObject", v, &intobj);
			if (rc < 0)
				return rc;
		}
		if (intobj)
			kd_out(s, "%02x:\t%016llx %s (KINTERRUPT %016llx)\n", v,
			       (unsigned long long)isr, sym,
			       (unsigned long long)intobj);
		else
			kd_out(s, "%02x:\t%016llx %s\n", v,
			       (unsigned long long)isr, sym);
	}
	return KD_OK;
}

/*
 * The 16 queued spin lock characters of the KPRCB at @p prcb: '.' free,
 * 'O' owned, 'W' waiting (the low bits of _KSPIN_LOCK_QUEUE.Lock).
 */
static int lock_column(struct kd_session *s, uint64_t prcb, char out[17])
{
	struct kd_ext_field lq = { 0 }, lk = { 0 };
	unsigned i;
	int rc;

	rc = kd_ext__field(s, "_KPRCB.LockQueue", &lq);
	if (rc == KD_OK)
		rc = kd_ext__field(s, "_KSPIN_LOCK_QUEUE.Lock", &lk);
	if (rc < 0)
		return rc;
	for (i = 0; i < 16; i++) {
		uint64_t at = prcb + lq.off + lq.elem_size * i + lk.off, v = 0;
		char a[18];

		if (lq.elem_size == 0 || (i + 1) * lq.elem_size > lq.size) {
			out[i] = ' ';
			continue;
		}
		if (kd_read_u64(s, at, &v) != KD_OK)
			return kd_fail(s, KD_EFAULT,
				       "Unable to read _KPRCB.LockQueue[%u] "
				       "at %s",
				       i, kd_fmt_addr(a, at));
		out[i] = (char)((v & 2) ? 'O' : (v & 1) ? 'W' : '.');
	}
	out[16] = '\0';
	return KD_OK;
}

/*
 * !running [-i]: each busy processor (-i: every one) with its KPRCB and
 * current and next threads.  The 16-character queued spin lock column
 * comes from _KPRCB.LockQueue; without that field the row ends after
 * Next and a line after the table says why.  -t (stacks) is not built.
 */
static int cmd_running(struct kd_session *s, struct kd_cmdctx *c)
{
	uint64_t sysmask = 0, idlemask = 0;
	bool idle_too = false, locks;
	struct kd_args a;
	unsigned cpu, shown = 0;
	int rc;

	rc = need_x64(s, "!running");
	if (rc < 0)
		return rc;
	kd_args_init(&a, s, c);
	while (!kd_args_at_end(&a)) {
		const char *w;
		size_t n;

		if (!kd_args_take_word(&a, &w, &n) || n != 2 ||
		    memcmp(w, "-i", 2) != 0)
			return kd_args_error(&a);
		idle_too = true;
		kd_args_skip(&a);
	}
	if (s->tgt.ncpus == 0 || s->tgt.ncpus > 64)
		return kd_fail(s, KD_EINVAL, "!running: %u processors",
			       s->tgt.ncpus);
	locks = kd_ext__has(s, "_KPRCB.LockQueue");
	for (cpu = 0; cpu < s->tgt.ncpus; cpu++) {
		uint64_t prcb = 0, cur = 0, idle = 0;

		rc = cpu_prcb(s, cpu, &prcb);
		if (rc == KD_OK)
			rc = kd_ext__read(s, prcb, "_KPRCB.CurrentThread",
					  &cur);
		if (rc == KD_OK)
			rc = kd_ext__read(s, prcb, "_KPRCB.IdleThread", &idle);
		if (rc < 0)
			return rc;
		sysmask |= 1ull << cpu;
		if (cur == idle)
			idlemask |= 1ull << cpu;
	}
	kd_out(s, "System Processors %llx\n", (unsigned long long)sysmask);
	kd_out(s, " Idle Processors %llx\n\n", (unsigned long long)idlemask);
	if (idlemask == sysmask && !idle_too) {
		kd_out(s, "All processors idle.\n");
		return KD_OK;
	}
	kd_out(s, "     Prcb              Current           Next\n");
	for (cpu = 0; cpu < s->tgt.ncpus; cpu++) {
		uint64_t prcb = 0, cur = 0, next = 0;
		char lk[17] = "";

		if ((idlemask >> cpu & 1) && !idle_too)
			continue;
		rc = cpu_prcb(s, cpu, &prcb);
		if (rc == KD_OK)
			rc = kd_ext__read(s, prcb, "_KPRCB.CurrentThread",
					  &cur);
		if (rc == KD_OK)
			rc = kd_ext__read(s, prcb, "_KPRCB.NextThread", &next);
		if (rc == KD_OK && locks)
			rc = lock_column(s, prcb, lk);
		if (rc < 0)
			return rc;
		kd_out(s, "%3u  %016llx  %016llx  %016llx%s%s\n", cpu,
		       (unsigned long long)prcb, (unsigned long long)cur,
		       (unsigned long long)next, locks ? "  " : "", lk);
		shown++;
	}
	if (!locks && shown)
		kd_out(s, "(no spin lock column: _KPRCB.LockQueue not found "
			  "in nt's types)\n");
	return KD_OK;
}

const struct kd_command kd_cmds_ext_cpu[] = {
	{ "!pcr", cmd_pcr, KD_CMDF_STOPPED,
	  "!pcr [processor]: the processor control region" },
	{ "!prcb", cmd_prcb, KD_CMDF_STOPPED,
	  "!prcb [processor]: the processor control block" },
	{ "!irql", cmd_irql, KD_CMDF_STOPPED,
	  "!irql [processor]: the IRQL saved at the break-in" },
	{ "!idt", cmd_idt, KD_CMDF_STOPPED,
	  "!idt [-a]: the interrupt descriptor table" },
	{ "!running", cmd_running, KD_CMDF_STOPPED,
	  "!running [-i]: what each processor runs" },
	{ NULL, NULL, 0, NULL },
};
