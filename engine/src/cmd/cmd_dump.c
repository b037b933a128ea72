/* SPDX-License-Identifier: MIT */
/*
 * Crash-dump commands: .bugcheck and an !analyze -v style summary built
 * only from facts the target holds (bug-check data, the faulting address
 * and its module, the stack, the current process).  Both work on a dump
 * and on a live target stopped in a bug check.
 */
#include <string.h>

#include <kd/dump.h>
#include <kd/dumpfmt.h>
#include "core/engine_int.h"
#include "arch/arch.h"
#include "cmd/args.h"
#include "cmd/bugcodes.h"
#include "cmd/cmd_ctx.h"
#include "sym/sym_int.h"
#include "sym/types.h"
#include "target/target.h"

struct kd_bugcheck {
	uint32_t code;
	uint64_t p[4];
};

/* What each parameter means (the names come from bugcodes.c); ip_arg: the 1-based parameter that holds
 * the faulting instruction address (0: use the context's rip). */
struct kd_bugcheck_desc {
	uint32_t code;
	const char *name;
	const char *text;
	const char *args[4];
	unsigned ip_arg;
};

static const struct kd_bugcheck_desc bugchecks[] = {
	{ 0x0A,
	  "IRQL_NOT_LESS_OR_EQUAL",
	  "Kernel-mode code touched pageable or invalid memory at a raised "
	  "IRQL.",
	  { "memory referenced", "IRQL",
	    "bitfield: bit 0 write, bit 3 "
	    "execute",
	    "address which referenced memory" },
	  4 },
	{ 0x1E,
	  "KMODE_EXCEPTION_NOT_HANDLED",
	  "A kernel-mode exception was not handled.",
	  { "The exception code that was not handled",
	    "The address that the exception occurred at",
	    "Parameter 0 of the exception", "Parameter 1 of the exception" },
	  2 },
	{ 0x3B,
	  "SYSTEM_SERVICE_EXCEPTION",
	  "An exception happened while executing a system service routine.",
	  { "Exception code",
	    "Address of the instruction which caused the "
	    "exception",
	    "Address of the context record", "zero" },
	  2 },
	{ 0x50,
	  "PAGE_FAULT_IN_NONPAGED_AREA",
	  "Invalid system memory was referenced.",
	  { "memory referenced", "value 0 = read, 1 = write, 2 = execute",
	    "If non-zero, the instruction address which referenced the bad "
	    "memory address",
	    "reserved" },
	  3 },
	{ 0x7E,
	  "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED",
	  "A system thread raised an exception that no handler caught; the "
	  "exception address usually points at the guilty driver.",
	  { "The exception code that was not handled",
	    "The address that the exception occurred at",
	    "Exception Record Address", "Context Record Address" },
	  2 },
	{ 0x1000007E,
	  "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M",
	  "A system thread raised an exception that no handler caught; the "
	  "exception address usually points at the guilty driver.",
	  { "The exception code that was not handled",
	    "The address that the exception occurred at",
	    "Exception Record Address", "Context Record Address" },
	  2 },
	{ 0x9F,
	  "DRIVER_POWER_STATE_FAILURE",
	  "A driver left a power request pending or in an inconsistent "
	  "state.",
	  { "subcode", "see subcode", "see subcode", "see subcode" },
	  0 },
	{ 0xD1,
	  "DRIVER_IRQL_NOT_LESS_OR_EQUAL",
	  "A driver touched pageable or invalid memory at a raised IRQL.",
	  { "memory referenced", "IRQL",
	    "value 0 = read, 1 = write, 8 = "
	    "execute",
	    "address which referenced memory" },
	  4 },
	{ 0xE2,
	  "MANUALLY_INITIATED_CRASH",
	  "The user deliberately started a crash dump from the debugger or "
	  "the keyboard.",
	  { "not used", "not used", "not used", "not used" },
	  0 },
	{ 0xEF,
	  "CRITICAL_PROCESS_DIED",
	  "A process or thread the system needs to run has ended.",
	  { "Process object", "If 0, a process died; if 1, a thread",
	    "reserved", "reserved" },
	  0 },
	{ 0x133,
	  "DPC_WATCHDOG_VIOLATION",
	  "A DPC ran too long, or the processor spent too long at DISPATCH "
	  "level or above.",
	  { "0: a single DPC exceeded its time; 1: the total did", "time count",
	    "time limit", "reserved" },
	  0 },
	{ 0x139,
	  "KERNEL_SECURITY_CHECK_FAILURE",
	  "The kernel found corrupted critical data (a stack buffer "
	  "overrun or a broken list).",
	  { "type of corruption", "Address of the trap frame",
	    "Address of the exception record", "reserved" },
	  0 },
	{ 0x161,
	  "LIVE_SYSTEM_DUMP",
	  "A dump was taken of a running system; nothing crashed.",
	  { "reserved", "reserved", "reserved", "reserved" },
	  0 },
};

static const struct kd_bugcheck_desc *bugcheck_find(uint32_t code)
{
	size_t i;

	for (i = 0; i < KD_ARRAY_SIZE(bugchecks); i++) {
		if (bugchecks[i].code == code)
			return &bugchecks[i];
	}
	return NULL;
}

/* From the dump header, or nt!KiBugcheckData on a live target. */
static int get_bugcheck(struct kd_session *s, struct kd_bugcheck *bc)
{
	uint8_t b[8 + 4 * 8];
	uint64_t data = 0;
	unsigned i;

	memset(bc, 0, sizeof(*bc));
	if (s->tgt.id.snapshot) {
		bc->code = s->tgt.id.bugcheck_code;
		for (i = 0; i < 4; i++)
			bc->p[i] = s->tgt.id.bugcheck_params[i];
		return KD_OK;
	}
	if (!s->tgt.have_kdbg || !s->tgt.kdbg_addr ||
	    kd_read_u64(s, s->tgt.kdbg_addr + KD_KDBG_KI_BUGCHECK_DATA,
			&data) ||
	    !data || kd_read_virtual_all(s, data, b, sizeof(b)) != KD_OK)
		return KD_ENOTFOUND;
	bc->code = kd_get_le32(b);
	for (i = 0; i < 4; i++)
		bc->p[i] = kd_get_le64(b + 8 + 8 * i);
	return KD_OK;
}

static int cmd_bugcheck(struct kd_session *s, struct kd_cmdctx *c)
{
	struct kd_bugcheck bc;
	char a[4][18];
	unsigned i;

	(void)c;
	if (get_bugcheck(s, &bc) != KD_OK)
		return kd_fail(s, KD_ENOTFOUND,
			       "Unable to read the bug check "
			       "data (KiBugcheckData)");
	kd_out(s, "Bugcheck code %08X\n", bc.code);
	for (i = 0; i < 4; i++) {
		if (kd_is_ptr64(s))
			kd_fmt_addr(a[i], bc.p[i]);
		else
			snprintf(a[i], sizeof(a[i]), "%08llx",
				 (unsigned long long)(bc.p[i] & 0xffffffffu));
	}
	kd_out(s, "Arguments %s %s %s %s\n", a[0], a[1], a[2], a[3]);
	return KD_OK;
}

/* The offset of @p type.@p field in the kernel's PDB (the type layer). */
static int pdb_field(struct kd_session *s, const char *type, const char *field,
		     uint32_t *off)
{
	struct kd_type_member mem;
	struct kd_type t;

	if (kd_sym__type_lookup(s, type, &t) != KD_OK ||
	    kd_sym__type_field(t.pdb, t.ti, field, &mem) != KD_OK ||
	    mem.offset > 0x10000)
		return KD_ENOTFOUND;
	*off = (uint32_t)mem.offset;
	return KD_OK;
}

/* ImageFileName of the current process: EPROCESS offsets by build. */
static bool process_name(struct kd_session *s, char *out, size_t cap)
{
	uint8_t b[16];
	uint64_t thread = 0, proc = 0;
	size_t done = 0, i;
	uint16_t apc = 0;
	uint32_t name_off;
	unsigned build = s->tgt.version.minor_version;

	out[0] = '\0';
	if (!s->target->ops->read_control || !s->tgt.have_kdbg ||
	    s->target->ops->read_control(s->target, s->tgt.cpu, 3, b, 8,
					 &done) < 0 ||
	    done != 8)
		return false;
	thread = kd_get_le64(b);
	/* KDDEBUGGER_DATA64.OffsetKThreadApcProcess. */
	if (kd_read_virtual_all(s, s->tgt.kdbg_addr + 0x2A0, b, 2) == KD_OK)
		apc = kd_get_le16(b);
	if (!thread || !apc || kd_read_u64(s, thread + apc, &proc) || !proc)
		return false;
	/* EPROCESS.ImageFileName: from the kernel's PDB when it has the
	 * type, else the offset of the builds known (the same in both). */
	if (pdb_field(s, "nt!_EPROCESS", "ImageFileName", &name_off) == KD_OK)
		;
	else if ((build >= 19041 && build <= 19045) ||
		 (build >= 22000 && build <= 22631))
		name_off = 0x5A8;
	else
		return false;
	if (kd_read_virtual_all(s, proc + name_off, b, 15) != KD_OK)
		return false;
	for (i = 0; i < 15 && i + 1 < cap && b[i]; i++)
		out[i] = (char)((b[i] >= 0x20 && b[i] < 0x7f) ? b[i] : '?');
	out[i] = '\0';
	return out[0] != '\0';
}

/* "NAME (code)" and the description, or WinDbg's two lines for a code
 * Microsoft does not document. */
static void print_name(struct kd_session *s, uint32_t code,
		       const struct kd_bugcheck_desc *desc)
{
	const char *name = kd_cmd__bugcode_name(code);

	if (!name && desc)
		name = desc->name;
	if (!name) {
		kd_out(s,
		       "\nUnknown bugcheck code (%x)\n"
		       "Unknown bugcheck description\n",
		       code);
		return;
	}
	kd_out(s, "\n%s (%x)\n", name, code);
	if (desc)
		kd_out(s, "%s\n", desc->text);
}

static void stars(struct kd_session *s)
{
	kd_out(s, "%s\n",
	       "*****************************************"
	       "**************************************");
}

/* "Arg1: value, meaning" lines at the target's pointer width. */
static void print_args(struct kd_session *s, const uint64_t *p,
		       const struct kd_bugcheck_desc *desc)
{
	unsigned k;

	kd_out(s, "Arguments:\n");
	for (k = 0; k < 4; k++)
		kd_out(s, "Arg%u: %0*llx%s%s\n", k + 1, kd_is_ptr64(s) ? 16 : 8,
		       (unsigned long long)(kd_is_ptr64(s) ?
						    p[k] :
						    p[k] & 0xffffffffu),
		       desc ? ", " : "", desc ? desc->args[k] : "");
}

/* !analyze -show Code [P1 [P2 [P3 [P4]]]]: the name and argument texts. */
static int analyze_show(struct kd_session *s, struct kd_args *a)
{
	uint64_t code = 0, p[4] = { 0 };
	unsigned k;

	kd_args_skip(a);
	if (kd_args_at_end(a))
		return kd_fail(s, KD_EINVAL,
			       "!analyze -show needs a bug check code");
	if (kd_args_take_expr(a, &code) != KD_OK)
		return KD_EINVAL;
	for (k = 0; k < 4; k++) {
		kd_args_skip(a);
		if (kd_args_at_end(a))
			break;
		if (kd_args_take_expr(a, &p[k]) != KD_OK)
			return KD_EINVAL;
	}
	if (kd_args_end(a) != KD_OK)
		return KD_EINVAL;
	print_name(s, (uint32_t)code, bugcheck_find((uint32_t)code));
	print_args(s, p, bugcheck_find((uint32_t)code));
	return KD_OK;
}

/* The records a bug check names and the command that shows its stack. */
struct records {
	uint64_t exr, cxr, trap;
	char stack_cmd[64];
};

/*
 * TRAP_FRAME, CONTEXT and EXCEPTION_RECORD blocks, each as its command
 * prints it, then "Resetting default scope" as WinDbg does.  A record
 * that cannot be read says so in its block.
 */
static void records(struct kd_session *s, struct records *r)
{
	unsigned w = kd_is_ptr64(s) ? 16 : 8;

	memset(r, 0, sizeof(*r));
	kd_cmd__bugcheck_records(s, &r->exr, &r->cxr, &r->trap);
	if (r->trap) {
		kd_out(s, "TRAP_FRAME:  %0*llx -- (.trap 0x%llx)\n", w,
		       (unsigned long long)r->trap,
		       (unsigned long long)r->trap);
		if (kd_cmd__trap_show(s, r->trap) == KD_OK)
			snprintf(r->stack_cmd, sizeof(r->stack_cmd),
				 ".trap 0x%llx ; kb",
				 (unsigned long long)r->trap);
		else
			kd_out(s, "Unable to read trap frame at %0*llx\n", w,
			       (unsigned long long)r->trap);
		kd_cmd__scope_reset(s);
		kd_out(s, "Resetting default scope\n\n");
	}
	if (r->cxr) {
		kd_out(s, "CONTEXT:  %0*llx -- (.cxr 0x%llx)\n", w,
		       (unsigned long long)r->cxr, (unsigned long long)r->cxr);
		if (kd_cmd__cxr_show(s, r->cxr) == KD_OK)
			snprintf(r->stack_cmd, sizeof(r->stack_cmd),
				 ".cxr 0x%llx ; kb",
				 (unsigned long long)r->cxr);
		else
			kd_out(s, "Unable to read context at %0*llx\n", w,
			       (unsigned long long)r->cxr);
		kd_cmd__scope_reset(s);
		kd_out(s, "Resetting default scope\n\n");
	}
	if (r->exr) {
		kd_out(s, "EXCEPTION_RECORD:  %0*llx -- (.exr 0x%llx)\n", w,
		       (unsigned long long)r->exr, (unsigned long long)r->exr);
		if (kd_cmd__exr_show(s, r->exr) != KD_OK)
			kd_out(s, "Cannot read Exception record @ %0*llx\n", w,
			       (unsigned long long)r->exr);
		kd_out(s, "\n");
	}
}

/* The context STACK_TEXT walks from (the one STACK_COMMAND names). */
static int load_record_context(struct kd_session *s, const struct records *r)
{
	if (r->cxr && !strncmp(r->stack_cmd, ".cxr", 4))
		return kd_cmd__cxr_load(s, r->cxr);
	if (r->trap)
		return kd_cmd__trap_load(s, r->trap);
	return KD_ENOTFOUND;
}

/*
 * OS_VERSION and BUILDLAB_STR from NtBuildLab
 * ("19041.1.amd64fre.vb_release.191206-1406": 10.0.19041.1 and
 * vb_release); nothing when the kernel's string cannot be read.
 */
static void os_version(struct kd_session *s)
{
	char lab[128], build[32] = "", branch[64] = "";
	const char *p = lab, *dot;
	unsigned field = 0;
	size_t n;

	kd_target_build_lab(s, lab, sizeof(lab));
	if (!lab[0])
		return;
	while (p && *p && field < 4) {
		dot = strchr(p, '.');
		n = dot ? (size_t)(dot - p) : strlen(p);
		if (field == 1 && n < sizeof(build) - strlen(build))
			snprintf(build + strlen(build),
				 sizeof(build) - strlen(build), ".%.*s", (int)n,
				 p);
		else if (field == 0 && n < sizeof(build))
			snprintf(build, sizeof(build), "%.*s", (int)n, p);
		else if (field == 3 && n < sizeof(branch))
			snprintf(branch, sizeof(branch), "%.*s", (int)n, p);
		field++;
		p = dot ? dot + 1 : NULL;
	}
	if (build[0])
		kd_out(s, "OS_VERSION:  10.0.%s\n\n", build);
	if (branch[0])
		kd_out(s, "BUILDLAB_STR:  %s\n\n", branch);
}

static int cmd_analyze(struct kd_session *s, struct kd_cmdctx *c)
{
	const struct kd_bugcheck_desc *desc;
	struct kd_bugcheck bc;
	struct kd_frame frames[32];
	struct kd_module *m = NULL;
	char a[18], b[18], sym[160], pname[32], bucket[300];
	struct records rec;
	uint64_t ip = 0;
	size_t n = 0, i;
	unsigned k;

	struct kd_args args;
	const char *w;
	size_t wl;

	kd_args_init(&args, s, c);
	kd_args_skip(&args);
	if (kd_args_take_word(&args, &w, &wl) && wl == 5 &&
	    !memcmp(w, "-show", 5))
		return analyze_show(s, &args);
	if (get_bugcheck(s, &bc) != KD_OK || bc.code == 0)
		return kd_fail(s, KD_ENOTFOUND,
			       "The target did not stop in a "
			       "bug check: nothing to analyze");
	desc = bugcheck_find(bc.code);
	stars(s);
	kd_out(s, "*%77s*\n", "");
	kd_out(s, "*%-77s*\n", "                        Bugcheck Analysis");
	kd_out(s, "*%77s*\n", "");
	stars(s);
	print_name(s, bc.code, desc);
	print_args(s, bc.p, desc);
	kd_out(s, "\nDebugging Details:\n------------------\n\n");
	kd_out(s, "BUGCHECK_CODE:  %x\n\n", bc.code);
	for (k = 0; k < 4; k++)
		kd_out(s, "BUGCHECK_P%u: %llx\n\n", k + 1,
		       (unsigned long long)bc.p[k]);
	if (desc && desc->ip_arg)
		ip = bc.p[desc->ip_arg - 1];
	if (!ip)
		(void)kd_pc_get(s, &ip);
	if ((bc.code & 0xFFFFFFF) == 0x7E || bc.code == 0x1E || bc.code == 0x3B)
		kd_out(s, "EXCEPTION_CODE_STR:  %x\n\n",
		       (unsigned)(bc.p[0] & 0xffffffffu));
	if (process_name(s, pname, sizeof(pname)))
		kd_out(s, "PROCESS_NAME:  %s\n\n", pname);
	records(s, &rec);
	if (ip) {
		kd_out(s, "FAULTING_IP: \n");
		if (kd_sym_format(s, ip, sym, sizeof(sym)) == KD_OK)
			kd_out(s, "%s\n", sym);
		kd_out(s, "%s\n\n", kd_fmt_ptr(s, a, ip));
		m = kd_module_by_addr(s, ip);
	}
	/* The stack of the exception's context when the bug check names
	 * one, else of the processor. */
	if (rec.stack_cmd[0] && load_record_context(s, &rec) != KD_OK)
		rec.stack_cmd[0] = '\0';
	if (kd_stack_walk(s, s->tgt.cpu, frames, KD_ARRAY_SIZE(frames), &n) ==
		    KD_OK &&
	    n > 0) {
		kd_out(s, "STACK_TEXT:  \n");
		for (i = 0; i < n; i++) {
			if (kd_sym_format(s, frames[i].ip, sym, sizeof(sym)) !=
			    KD_OK)
				snprintf(sym, sizeof(sym), "0x%llx",
					 (unsigned long long)frames[i].ip);
			kd_out(s, "%s %s : %s\n",
			       kd_fmt_ptr(s, a, frames[i].sp),
			       kd_fmt_ptr(s, b, frames[i].ret), sym);
		}
		kd_out(s, "\n");
	}
	kd_cmd__scope_reset(s);
	if (m && kd_sym_format(s, ip, sym, sizeof(sym)) == KD_OK) {
		kd_out(s, "FOLLOWUP_IP: \n%s\n%s\n\n", sym,
		       kd_fmt_ptr(s, a, ip));
		kd_out(s, "SYMBOL_NAME:  %s\n\n", sym);
	}
	if (m) {
		char fn[256];
		bool have_fn = kd_sym_function(s, ip, fn, sizeof(fn)) == KD_OK;
		bool av = (bc.p[0] & 0xffffffffu) == 0xC0000005u &&
			  ((bc.code & 0xFFFFFFF) == 0x7E || bc.code == 0x1E ||
			   bc.code == 0x3B);

		kd_out(s, "MODULE_NAME: %s\n\n", m->name);
		kd_out(s, "IMAGE_NAME:  %s\n\n", m->image);
		/* With PDB symbols the bucket names the function. */
		if (!have_fn)
			snprintf(fn, sizeof(fn), "%s!unknown_function",
				 m->name);
		if (av)
			snprintf(bucket, sizeof(bucket), "AV_%s", fn);
		else
			snprintf(bucket, sizeof(bucket), "0x%X_%s",
				 bc.code & 0xFFFFFFF, fn);
	} else {
		snprintf(bucket, sizeof(bucket), "0x%X_unknown_module",
			 bc.code & 0xFFFFFFF);
	}
	kd_out(s, "STACK_COMMAND:  %s\n\n",
	       rec.stack_cmd[0] ? rec.stack_cmd : "kb");
	kd_out(s, "FAILURE_BUCKET_ID:  %s\n\n", bucket);
	os_version(s);
	kd_out(s, "BUCKET_ID:  %s\n\n", bucket);
	kd_out(s, "Followup:     MachineOwner\n---------\n\n");
	return KD_OK;
}

const struct kd_command kd_cmds_dump[] = {
	{ ".bugcheck", cmd_bugcheck, KD_CMDF_STOPPED,
	  "show the bug check code and parameters" },
	{ "!analyze", cmd_analyze, KD_CMDF_STOPPED,
	  "!analyze -v: summary of the bug check" },
	{ NULL, NULL, 0, NULL },
};
