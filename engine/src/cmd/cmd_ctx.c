/* SPDX-License-Identifier: MIT */
/*
 * Context and event commands: .cxr, .ecxr, .trap, .exr and .lastevent.
 * A loaded context stands in for the processor's own (s->scope, read by
 * arch/regs.c), so r, k, u and expressions see it until `.cxr` resets it
 * or the target runs.  Structure layouts: CONTEXT is the machine's own
 * (kdproto's layout.h); _KTRAP_FRAME's fields come from the kernel's PDB
 * when it describes the type, else from the documented x64 layout
 * (ntddk.h's KTRAP_FRAME, unchanged since Windows Vista);
 * EXCEPTION_RECORD64 / EXCEPTION_RECORD32 are winnt.h's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "cmd/args.h"
#include "cmd/bugcodes.h"
#include "cmd/cmd_ctx.h"
#include "cmd/cmd_sym.h"
#include "core/engine_int.h"
#include "sym/sym_int.h"
#include "sym/types.h"

#define EXR_MAX_PARAMS 15

/* ---- loading a context ---- */

static void scope_reset(struct kd_session *s)
{
	s->scope.ctx_set = false;
	s->scope.frame_set = false;
}

/* Make @p ctx (ctx_size bytes of the machine's CONTEXT) the context. */
static void scope_load(struct kd_session *s, const uint8_t *ctx)
{
	memcpy(s->scope.ctx, ctx, kd_arch(s)->ctx_size);
	s->scope.cpu = s->tgt.cpu;
	s->scope.ctx_set = true;
	s->scope.frame_set = false;
}

static int print_context(struct kd_session *s)
{
	uint8_t *ctx;
	int rc = kd_context(s, s->tgt.cpu, &ctx);

	if (rc < 0)
		return kd_fail(s, rc, "Unable to get register context");
	kd_arch(s)->print_regs(s, ctx);
	return kd_print_current_instruction(s);
}

void kd_cmd__scope_reset(struct kd_session *s)
{
	scope_reset(s);
}

int kd_cmd__cxr_load(struct kd_session *s, uint64_t addr)
{
	uint8_t buf[KD_ARCH_CTX_MAX];

	if (kd_read_virtual_all(s, addr, buf, kd_arch(s)->ctx_size) != KD_OK)
		return KD_EFAULT;
	scope_load(s, buf);
	return KD_OK;
}

int kd_cmd__cxr_show(struct kd_session *s, uint64_t addr)
{
	int rc = kd_cmd__cxr_load(s, addr);

	if (rc != KD_OK)
		return rc;
	kd_arch(s)->print_regs(s, s->scope.ctx);
	(void)kd_print_current_instruction(s);
	return KD_OK;
}

/* The CONTEXT record at @p addr becomes the register context. */
static int cxr_load(struct kd_session *s, uint64_t addr)
{
	char a[18];

	if (kd_cmd__cxr_load(s, addr) != KD_OK)
		return kd_fail(s, KD_EFAULT,
			       "Unable to read context at %s, Win32 "
			       "error 0n30",
			       kd_fmt_ptr(s, a, addr));
	return print_context(s);
}

void kd_cmd__bugcheck_records(struct kd_session *s, uint64_t *exr,
			      uint64_t *cxr, uint64_t *trap)
{
	uint32_t code = s->tgt.id.snapshot ? s->tgt.id.bugcheck_code : 0;
	const uint64_t *p = s->tgt.id.bugcheck_params;

	*exr = 0;
	*cxr = 0;
	*trap = 0;
	switch (code & 0x0FFFFFFFu) {
	case 0x7E: /* SYSTEM_THREAD_EXCEPTION_NOT_HANDLED(_M) */
		*exr = p[2];
		*cxr = p[3];
		break;
	case 0x8E: /* KERNEL_MODE_EXCEPTION_NOT_HANDLED(_M) */
		*trap = p[2];
		break;
	case 0x3B: /* SYSTEM_SERVICE_EXCEPTION */
		*cxr = p[2];
		break;
	case 0x139: /* KERNEL_SECURITY_CHECK_FAILURE */
		*trap = p[1];
		*exr = p[2];
		break;
	default:
		break;
	}
}

static void bugcheck_records(struct kd_session *s, uint64_t *exr, uint64_t *cxr)
{
	uint64_t trap;

	kd_cmd__bugcheck_records(s, exr, cxr, &trap);
}

/* .cxr [Address]: no address (or 0) resets to the processor's context. */
static int cmd_cxr(struct kd_session *s, struct kd_cmdctx *c)
{
	struct kd_args a;
	uint64_t addr = 0, exr, cxr;

	kd_args_init(&a, s, c);
	kd_args_skip(&a);
	if (kd_args_at_end(&a)) {
		scope_reset(s);
		kd_out(s, "Resetting default scope\n");
		return KD_OK;
	}
	if (kd_args_take_expr(&a, &addr) != KD_OK || kd_args_end(&a) != KD_OK)
		return KD_EINVAL;
	if (addr == (uint64_t)-1 || (!kd_is_ptr64(s) && addr == 0xffffffffu)) {
		bugcheck_records(s, &exr, &cxr);
		if (!cxr)
			return kd_fail(s, KD_ENOTFOUND,
				       "Unable to get exception context, "
				       "HRESULT 0x8000FFFF");
		return cxr_load(s, cxr);
	}
	if (addr == 0) {
		scope_reset(s);
		kd_out(s, "Resetting default scope\n");
		return KD_OK;
	}
	return cxr_load(s, addr);
}

/*
 * .ecxr: the context stored with the event.  A live exception stop's is
 * the processor's own; a dump's is the CONTEXT its bug check names.
 */
static int cmd_ecxr(struct kd_session *s, struct kd_cmdctx *c)
{
	struct kd_args a;
	uint64_t exr, cxr;

	kd_args_init(&a, s, c);
	if (kd_args_end(&a) != KD_OK)
		return KD_EINVAL;
	bugcheck_records(s, &exr, &cxr);
	if (cxr)
		return cxr_load(s, cxr);
	if (!s->tgt.id.snapshot && s->tgt.last.kind == KD_EV_EXCEPTION) {
		scope_reset(s);
		return print_context(s);
	}
	return kd_fail(s, KD_ENOTFOUND,
		       "Unable to get exception context, HRESULT 0x8000FFFF");
}

/* ---- .trap ---- */

/* A _KTRAP_FRAME field, its documented x64 offset and its CONTEXT slot. */
struct trap_field {
	const char *name;
	uint16_t doc_off; /* ntddk.h KTRAP_FRAME (x64) */
	uint16_t ctx_off;
	uint8_t size;
};

static const struct trap_field trap_fields[] = {
	{ "Rax", 0x030, KD_AMD64_CTX_OFF_RAX, 8 },
	{ "Rcx", 0x038, KD_AMD64_CTX_OFF_RCX, 8 },
	{ "Rdx", 0x040, KD_AMD64_CTX_OFF_RDX, 8 },
	{ "R8", 0x048, KD_AMD64_CTX_OFF_R8, 8 },
	{ "R9", 0x050, KD_AMD64_CTX_OFF_R9, 8 },
	{ "R10", 0x058, KD_AMD64_CTX_OFF_R10, 8 },
	{ "R11", 0x060, KD_AMD64_CTX_OFF_R11, 8 },
	{ "SegDs", 0x130, KD_AMD64_CTX_OFF_DS, 2 },
	{ "SegEs", 0x132, KD_AMD64_CTX_OFF_ES, 2 },
	{ "SegFs", 0x134, KD_AMD64_CTX_OFF_FS, 2 },
	{ "SegGs", 0x136, KD_AMD64_CTX_OFF_GS, 2 },
	{ "Rbx", 0x140, KD_AMD64_CTX_OFF_RBX, 8 },
	{ "Rdi", 0x148, KD_AMD64_CTX_OFF_RDI, 8 },
	{ "Rsi", 0x150, KD_AMD64_CTX_OFF_RSI, 8 },
	{ "Rbp", 0x158, KD_AMD64_CTX_OFF_RBP, 8 },
	{ "Rip", 0x168, KD_AMD64_CTX_OFF_RIP, 8 },
	{ "SegCs", 0x170, KD_AMD64_CTX_OFF_CS, 2 },
	{ "EFlags", 0x178, KD_AMD64_CTX_OFF_EFLAGS, 4 },
	{ "Rsp", 0x180, KD_AMD64_CTX_OFF_RSP, 8 },
	{ "SegSs", 0x188, KD_AMD64_CTX_OFF_SS, 2 },
};

#define TRAP_DOC_SIZE 0x190u
#define NTRAP (sizeof(trap_fields) / sizeof(trap_fields[0]))

struct trap_layout {
	uint16_t off[NTRAP];
	uint64_t size;
	bool from_pdb;
};

/*
 * The _KTRAP_FRAME layout: the kernel PDB's (through the type layer) when
 * it has the type with every field .trap reads, else the documented one.
 */
static void trap_layout(struct kd_session *s, struct trap_layout *l)
{
	struct trap_layout p;
	struct kd_type_member mem;
	struct kd_type t;
	uint64_t size = 0;
	size_t i;

	for (i = 0; i < NTRAP; i++)
		l->off[i] = trap_fields[i].doc_off;
	l->size = TRAP_DOC_SIZE;
	l->from_pdb = false;
	if (kd_sym__type_lookup(s, "nt!_KTRAP_FRAME", &t) != KD_OK ||
	    kd_sym__type_size(t.pdb, t.ti, &size) != KD_OK || size == 0 ||
	    size > 0x1000)
		return;
	memset(&p, 0, sizeof(p));
	p.size = size;
	for (i = 0; i < NTRAP; i++) {
		if (kd_sym__type_field(t.pdb, t.ti, trap_fields[i].name,
				       &mem) != KD_OK ||
		    mem.offset + trap_fields[i].size > size)
			return; /* a field is missing: not this layout */
		p.off[i] = (uint16_t)mem.offset;
	}
	p.from_pdb = true;
	*l = p;
}

int kd_cmd__trap_load(struct kd_session *s, uint64_t addr)
{
	struct trap_layout l;
	uint8_t frame[0x1000], ctx[KD_ARCH_CTX_MAX];
	size_t i;

	if (kd_arch(s) != &kd_arch_amd64)
		return KD_ENOTSUP;
	trap_layout(s, &l);
	if (kd_read_virtual_all(s, addr, frame, (size_t)l.size) != KD_OK)
		return KD_EFAULT;
	/* What the frame does not hold stays zero, as WinDbg warns. */
	memset(ctx, 0, sizeof(ctx));
	kd_put_le32(ctx + KD_AMD64_CTX_OFF_FLAGS, 0x0010000bu);
	for (i = 0; i < NTRAP; i++) {
		const struct trap_field *f = &trap_fields[i];

		memcpy(ctx + f->ctx_off, frame + l.off[i], f->size);
	}
	scope_load(s, ctx);
	return KD_OK;
}

int kd_cmd__trap_show(struct kd_session *s, uint64_t addr)
{
	int rc = kd_cmd__trap_load(s, addr);

	if (rc != KD_OK)
		return rc;
	kd_out(s, "NOTE: The trap frame does not contain all registers.\n"
		  "Some register values may be zeroed or incorrect.\n");
	kd_amd64__print_gprs(s, s->scope.ctx);
	(void)kd_print_current_instruction(s);
	return KD_OK;
}

/* .trap [Address]: the registers a _KTRAP_FRAME saved (x64). */
static int cmd_trap(struct kd_session *s, struct kd_cmdctx *c)
{
	struct kd_args a;
	uint64_t addr = 0;
	char p[18];
	int rc;

	kd_args_init(&a, s, c);
	kd_args_skip(&a);
	if (kd_args_at_end(&a)) {
		scope_reset(s);
		kd_out(s, "Resetting default scope\n");
		return KD_OK;
	}
	if (kd_args_take_expr(&a, &addr) != KD_OK || kd_args_end(&a) != KD_OK)
		return KD_EINVAL;
	rc = kd_cmd__trap_show(s, addr);
	if (rc == KD_ENOTSUP)
		return kd_fail(s, rc,
			       ".trap reads x64 trap frames only; use .cxr "
			       "on this machine");
	if (rc != KD_OK)
		return kd_fail(s, rc, "Unable to read trap frame at %s",
			       kd_fmt_ptr(s, p, addr));
	return KD_OK;
}

/* ---- .exr ---- */

struct exr {
	uint32_t code, flags, nparams;
	uint64_t addr;
	uint64_t params[EXR_MAX_PARAMS];
};

/* EXCEPTION_RECORD64 (x64) or EXCEPTION_RECORD32 at @p va. */
static int exr_read(struct kd_session *s, uint64_t va, struct exr *e)
{
	uint8_t b[0x20 + 8 * EXR_MAX_PARAMS];
	bool p64 = kd_is_ptr64(s);
	size_t size = p64 ? 0x98 : 0x50, i;

	if (kd_read_virtual_all(s, va, b, size) != KD_OK)
		return KD_EFAULT;
	memset(e, 0, sizeof(*e));
	e->code = kd_get_le32(b);
	e->flags = kd_get_le32(b + 4);
	e->addr = p64 ? kd_get_le64(b + 0x10) : kd_get_le32(b + 0x0c);
	e->nparams = kd_get_le32(b + (p64 ? 0x18 : 0x10));
	for (i = 0; i < EXR_MAX_PARAMS; i++)
		e->params[i] = p64 ? kd_get_le64(b + 0x20 + 8 * i) :
				     kd_get_le32(b + 0x14 + 4 * i);
	return KD_OK;
}

/* "mod!Sym+0x000000000000000d": the offset at the pointer's width. */
static void exr_site(struct kd_session *s, uint64_t addr, char *buf, size_t cap)
{
	char sym[256];
	char *plus;
	unsigned long long off = 0;

	buf[0] = '\0';
	if (kd_sym_format(s, addr, sym, sizeof(sym)) != KD_OK)
		return;
	plus = strstr(sym, "+0x");
	if (plus) {
		off = strtoull(plus + 3, NULL, 16);
		*plus = '\0';
	}
	snprintf(buf, cap, " (%s+0x%0*llx)", sym, kd_is_ptr64(s) ? 16 : 8, off);
}

static void exr_print(struct kd_session *s, const struct exr *e)
{
	unsigned w = kd_is_ptr64(s) ? 16 : 8;
	char site[300];
	unsigned i, n = e->nparams;

	exr_site(s, e->addr, site, sizeof(site));
	kd_out(s, "ExceptionAddress: %0*llx%s\n", w,
	       (unsigned long long)e->addr, site);
	kd_out(s, "   ExceptionCode: %08x (%s)\n", e->code,
	       kd_cmd__exception_name(e->code));
	kd_out(s, "  ExceptionFlags: %08x\n", e->flags);
	kd_out(s, "NumberParameters: %u\n", e->nparams);
	if (n > EXR_MAX_PARAMS)
		n = EXR_MAX_PARAMS;
	for (i = 0; i < n; i++)
		kd_out(s, "   Parameter[%u]: %0*llx\n", i, w,
		       (unsigned long long)e->params[i]);
	if (e->code == 0xC0000005u && n >= 2) {
		const char *what = e->params[0] == 0 ? "read from" :
				   e->params[0] == 1 ? "write to" :
				   e->params[0] == 8 ? "execute" :
						       NULL;

		if (e->params[0] == 8)
			kd_out(s,
			       "Attempt to execute non-executable "
			       "address %0*llx\n",
			       w, (unsigned long long)e->params[1]);
		else if (what)
			kd_out(s, "Attempt to %s address %0*llx\n", what, w,
			       (unsigned long long)e->params[1]);
	}
}

/* The exception of the last event (a live exception stop), or the
 * EXCEPTION_RECORD a dump's bug check names. */
static int exr_last(struct kd_session *s, struct exr *e)
{
	uint64_t exr, cxr;
	unsigned i;

	bugcheck_records(s, &exr, &cxr);
	if (exr)
		return exr_read(s, exr, e);
	if (s->tgt.id.snapshot || s->tgt.last.kind != KD_EV_EXCEPTION)
		return KD_ENOTFOUND;
	memset(e, 0, sizeof(*e));
	e->code = s->tgt.last.code;
	e->flags = s->tgt.last.exc_flags;
	e->addr = s->tgt.last.exc_address;
	e->nparams = s->tgt.last.nparams;
	for (i = 0; i < e->nparams && i < EXR_MAX_PARAMS; i++)
		e->params[i] = s->tgt.last.params[i];
	return KD_OK;
}

int kd_cmd__exr_show(struct kd_session *s, uint64_t addr)
{
	struct exr e;

	if (exr_read(s, addr, &e) != KD_OK)
		return KD_EFAULT;
	exr_print(s, &e);
	return KD_OK;
}

/* .exr Address | -1 */
static int cmd_exr(struct kd_session *s, struct kd_cmdctx *c)
{
	struct kd_args a;
	struct exr e;
	uint64_t addr = 0;
	char p[18];
	int rc;

	kd_args_init(&a, s, c);
	kd_args_skip(&a);
	if (kd_args_at_end(&a))
		return kd_fail(s, KD_EINVAL, "Usage: .exr Address | -1");
	if (kd_args_take_expr(&a, &addr) != KD_OK || kd_args_end(&a) != KD_OK)
		return KD_EINVAL;
	if (addr == (uint64_t)-1 || (!kd_is_ptr64(s) && addr == 0xffffffffu)) {
		rc = exr_last(s, &e);
		if (rc != KD_OK)
			return kd_fail(s, rc,
				       "Unable to get exception record, "
				       "HRESULT 0x8000FFFF");
	} else if (exr_read(s, addr, &e) != KD_OK) {
		return kd_fail(s, KD_EFAULT,
			       "Cannot read Exception record @ %s",
			       kd_fmt_ptr(s, p, addr));
	}
	exr_print(s, &e);
	return KD_OK;
}

/* ---- .frame and dv ---- */

#define FRAME_MAX 256

/* Walk the stack of the current context: at least @p want + 1 frames
 * asked for.  The caller frees *@p frames. */
static int walk(struct kd_session *s, size_t want, struct kd_frame **frames,
		size_t *n)
{
	size_t max = want + 1 > FRAME_MAX ? FRAME_MAX : want + 1;
	int rc;

	*n = 0;
	*frames = kd_calloc(max, sizeof(**frames));
	if (!*frames)
		return KD_ENOMEM;
	rc = kd_stack_walk(s, s->tgt.cpu, *frames, max, n);
	if (rc < 0) {
		kd_free(*frames);
		*frames = NULL;
	}
	return rc;
}

/* The frame's `k` line: "02 fffff800`10015f80 fffff800`00401931     nt!X". */
static void frame_line(struct kd_session *s, const struct kd_frame *f, size_t i)
{
	char site[512], sp[18], ret[18];

	kd_stack__site(s, f->ip, site, sizeof(site));
	if (kd_arch(s)->ptr_size == 8)
		kd_out(s, "%02zx %s %s     %s\n", i, kd_fmt_addr(sp, f->sp),
		       kd_fmt_addr(ret, f->ret), site);
	else
		kd_out(s, "%02zx %s %s %s\n", i, kd_fmt_ptr(s, sp, f->sp),
		       kd_fmt_ptr(s, ret, f->ret), site);
}

/*
 * Make frame @p f (number @p n) the local context: the walk's context
 * with the registers the unwinder had at that frame, its pc and sp.
 */
static int frame_load(struct kd_session *s, const struct kd_frame *f, size_t n)
{
	const struct kd_arch_ops *a = kd_arch(s);
	uint8_t *base;
	bool was = s->scope.unwinding;
	int rc, i;

	if (s->scope.ctx_set && s->scope.cpu != s->tgt.cpu)
		s->scope.ctx_set = false;
	s->scope.unwinding = true;
	rc = kd_context(s, s->tgt.cpu, &base);
	s->scope.unwinding = was;
	if (rc < 0)
		return rc;
	memcpy(s->scope.fctx, base, a->ctx_size);
	if (f->have_regs && a == &kd_arch_amd64)
		for (i = 0; i < 16; i++) /* CONTEXT: rax.. in encoding order */
			kd_put_le64(s->scope.fctx + KD_AMD64_CTX_OFF_RAX +
					    8 * i,
				    f->regs[i]);
	kd_arch_set_pc(a, s->scope.fctx, f->ip);
	kd_arch_set_sp(a, s->scope.fctx, f->sp);
	s->scope.cpu = s->tgt.cpu;
	s->scope.frame = n;
	s->scope.frame_set = n != 0;
	return KD_OK;
}

/* .frame [/c] [/r] [FrameNumber] */
static int cmd_frame(struct kd_session *s, struct kd_cmdctx *c)
{
	struct kd_frame *frames = NULL;
	struct kd_args a;
	uint64_t want = s->scope.frame_set ? s->scope.frame : 0;
	bool regs = false;
	size_t n = 0;
	int opt, rc;

	kd_args_init(&a, s, c);
	for (;;) {
		kd_args_skip(&a);
		opt = kd_args_take_option(&a, "/", "rc", KD_ARGS_OPT_ALONE);
		if (!opt)
			break;
		if (opt == 'r')
			regs = true;
	}
	if (!kd_args_at_end(&a)) {
		if (kd_args_take_expr(&a, &want) != KD_OK ||
		    kd_args_end(&a) != KD_OK)
			return KD_EINVAL;
	}
	rc = walk(s, want > FRAME_MAX ? FRAME_MAX : (size_t)want, &frames, &n);
	if (rc < 0)
		return kd_fail(s, rc, "Unable to get the stack of processor %u",
			       s->tgt.cpu);
	if (want >= n) {
		kd_free(frames);
		return kd_fail(s, KD_ENOTFOUND,
			       "Cannot find frame 0x%llx, previous scope "
			       "unchanged",
			       (unsigned long long)want);
	}
	rc = frame_load(s, &frames[want], (size_t)want);
	if (rc == KD_OK)
		frame_line(s, &frames[want], (size_t)want);
	kd_free(frames);
	if (rc < 0)
		return kd_fail(s, rc, "Unable to get register context");
	return regs ? print_context(s) : KD_OK;
}

/* dv [/i] [/t] [/v] [Pattern]: locals of the current frame. */
static int cmd_dv(struct kd_session *s, struct kd_cmdctx *c)
{
	struct kd_frame *frames = NULL;
	struct kd_args a;
	size_t fi = s->scope.frame_set ? s->scope.frame : 0, n = 0, wl = 0;
	unsigned flags = 0;
	const char *w = NULL;
	char pat[128];
	int opt, rc;

	kd_args_init(&a, s, c);
	for (;;) {
		kd_args_skip(&a);
		opt = kd_args_take_option(&a, "/", "itvV", KD_ARGS_OPT_ALONE);
		if (!opt)
			break;
		flags |= opt == 'i' ? KD_DV_KIND :
			 opt == 't' ? KD_DV_TYPE :
				      KD_DV_ADDR;
	}
	if (!kd_args_at_end(&a) && !kd_args_take_word(&a, &w, &wl))
		return kd_args_error(&a);
	if (kd_args_end(&a) != KD_OK)
		return KD_EINVAL;
	if (wl >= sizeof(pat))
		return kd_fail(s, KD_EOVERFLOW, "Pattern too long");
	if (w)
		snprintf(pat, sizeof(pat), "%.*s", (int)wl, w);
	rc = walk(s, fi, &frames, &n);
	if (rc < 0 || fi >= n) {
		kd_free(frames);
		return kd_fail(s, rc < 0 ? rc : KD_ENOTFOUND,
			       "Unable to get the stack of processor %u",
			       s->tgt.cpu);
	}
	rc = kd_cmd__dv(s, &frames[fi], fi, flags, w ? pat : NULL);
	kd_free(frames);
	return rc;
}

/* ---- .lastevent ---- */

static int cmd_lastevent(struct kd_session *s, struct kd_cmdctx *c)
{
	const struct kd_event *ev = &s->tgt.last;
	struct kd_args a;
	char when[96], b[18];

	kd_args_init(&a, s, c);
	if (kd_args_end(&a) != KD_OK)
		return KD_EINVAL;
	if (s->tgt.id.snapshot) {
		/* A dump keeps the bug check, not the event before it. */
		kd_out(s, "Last event: <none> (a crash dump records no "
			  "event; see .bugcheck)\n");
		return KD_OK;
	}
	switch (ev->kind) {
	case KD_EV_EXCEPTION:
		kd_out(s, "Last event: %s - code %08x (%s)\n",
		       kd_cmd__exception_name(ev->code), ev->code,
		       ev->first_chance ? "first chance" :
					  "!!! second chance !!!");
		break;
	case KD_EV_LOAD:
		kd_out(s, "Last event: Load module %s at %s\n", ev->path,
		       kd_fmt_ptr(s, b, ev->mod_base));
		break;
	case KD_EV_UNLOAD:
		kd_out(s, "Last event: Unload module %s at %s\n", ev->path,
		       kd_fmt_ptr(s, b, ev->mod_base));
		break;
	default:
		kd_out(s, "Last event: <none>\n");
		break;
	}
	/* No stop since attaching: the attach's own break-in. */
	kd_fmt_local_time(when, sizeof(when),
			  s->exec.event_ms ? s->exec.event_ms :
					     s->tgt.session_start);
	kd_out(s, "  debugger time: %s\n", when);
	return KD_OK;
}

const struct kd_command kd_cmds_ctx[] = {
	{ ".cxr", cmd_cxr, KD_CMDF_STOPPED,
	  ".cxr [Address|-1]: use a CONTEXT record as the registers" },
	{ ".ecxr", cmd_ecxr, KD_CMDF_STOPPED,
	  "use the exception's context as the registers" },
	{ ".trap", cmd_trap, KD_CMDF_STOPPED,
	  ".trap [Address]: use a trap frame as the registers" },
	{ ".exr", cmd_exr, KD_CMDF_STOPPED,
	  ".exr Address|-1: show an exception record" },
	{ ".lastevent", cmd_lastevent, KD_CMDF_STOPPED,
	  "show the last event the target reported" },
	{ ".frame", cmd_frame, KD_CMDF_STOPPED,
	  ".frame [/r] [Frame]: select a stack frame as the local context" },
	{ "dv", cmd_dv, KD_CMDF_STOPPED,
	  "dv [/i] [/t] [/v] [Pattern]: locals of the current frame" },
	{ NULL, NULL, 0, NULL },
};
