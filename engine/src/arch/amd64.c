/* SPDX-License-Identifier: MIT */
/*
 * x64 (AMD64): the CONTEXT of kdproto's layout.h, the register names `r`
 * and expressions know, WinDbg's x64 `r` layout, and the control and
 * descriptor-table registers read from KSPECIAL_REGISTERS.
 */
#include <string.h>

#include <capstone/capstone.h>

#include "arch/arch.h"

_Static_assert(KD_AMD64_CONTEXT_SIZE <= KD_ARCH_CTX_MAX,
	       "x64 CONTEXT larger than kd_cpu's buffer");

#define GP(n, o, f)                                       \
	{                                                 \
		n, o, 8, 0, 64, KD_REGG_GP, (uint16_t)(f) \
	}
#define SUB(n, o, sh, b)                       \
	{                                      \
		n, o, 8, sh, b, KD_REGG_SUB, 0 \
	}
#define SEG(n, o)                                        \
	{                                                \
		n, o, 2, 0, 16, KD_REGG_SEG, KD_REGF_SEG \
	}
#define DR(n, o)                                 \
	{                                        \
		n, o, 8, 0, 64, KD_REGG_DEBUG, 0 \
	}
/* EFLAGS bits: `r` knows them, expressions do not. */
#define FL(n, b)                                                    \
	{                                                           \
		n, KD_AMD64_CTX_OFF_EFLAGS, 4, b, 1, KD_REGG_FLAGS, \
			KD_REGF_FLAGBIT | KD_REGF_NOEXPR            \
	}
#define KS(n, f, b)                                             \
	{                                                       \
		n, f, 8, 0, b, KD_REGG_CONTROL, KD_REGF_SPECIAL \
	}

static const struct kd_arch_reg amd64_regs[] = {
	GP("rax", KD_AMD64_CTX_OFF_RAX, KD_REGF_RET),
	GP("rbx", KD_AMD64_CTX_OFF_RBX, 0),
	GP("rcx", KD_AMD64_CTX_OFF_RCX, 0),
	GP("rdx", KD_AMD64_CTX_OFF_RDX, 0),
	GP("rsi", KD_AMD64_CTX_OFF_RSI, 0),
	GP("rdi", KD_AMD64_CTX_OFF_RDI, 0),
	GP("rip", KD_AMD64_CTX_OFF_RIP, KD_REGF_PC),
	GP("rsp", KD_AMD64_CTX_OFF_RSP, KD_REGF_SP),
	GP("rbp", KD_AMD64_CTX_OFF_RBP, KD_REGF_FP),
	GP("r8", KD_AMD64_CTX_OFF_R8, 0),
	GP("r9", KD_AMD64_CTX_OFF_R9, 0),
	GP("r10", KD_AMD64_CTX_OFF_R10, 0),
	GP("r11", KD_AMD64_CTX_OFF_R11, 0),
	GP("r12", KD_AMD64_CTX_OFF_R12, 0),
	GP("r13", KD_AMD64_CTX_OFF_R13, 0),
	GP("r14", KD_AMD64_CTX_OFF_R14, 0),
	GP("r15", KD_AMD64_CTX_OFF_R15, 0),
	SUB("eax", KD_AMD64_CTX_OFF_RAX, 0, 32),
	SUB("ebx", KD_AMD64_CTX_OFF_RBX, 0, 32),
	SUB("ecx", KD_AMD64_CTX_OFF_RCX, 0, 32),
	SUB("edx", KD_AMD64_CTX_OFF_RDX, 0, 32),
	SUB("esi", KD_AMD64_CTX_OFF_RSI, 0, 32),
	SUB("edi", KD_AMD64_CTX_OFF_RDI, 0, 32),
	SUB("eip", KD_AMD64_CTX_OFF_RIP, 0, 32),
	SUB("esp", KD_AMD64_CTX_OFF_RSP, 0, 32),
	SUB("ebp", KD_AMD64_CTX_OFF_RBP, 0, 32),
	SUB("r8d", KD_AMD64_CTX_OFF_R8, 0, 32),
	SUB("r9d", KD_AMD64_CTX_OFF_R9, 0, 32),
	SUB("r10d", KD_AMD64_CTX_OFF_R10, 0, 32),
	SUB("r11d", KD_AMD64_CTX_OFF_R11, 0, 32),
	SUB("r12d", KD_AMD64_CTX_OFF_R12, 0, 32),
	SUB("r13d", KD_AMD64_CTX_OFF_R13, 0, 32),
	SUB("r14d", KD_AMD64_CTX_OFF_R14, 0, 32),
	SUB("r15d", KD_AMD64_CTX_OFF_R15, 0, 32),
	SUB("ax", KD_AMD64_CTX_OFF_RAX, 0, 16),
	SUB("bx", KD_AMD64_CTX_OFF_RBX, 0, 16),
	SUB("cx", KD_AMD64_CTX_OFF_RCX, 0, 16),
	SUB("dx", KD_AMD64_CTX_OFF_RDX, 0, 16),
	SUB("si", KD_AMD64_CTX_OFF_RSI, 0, 16),
	SUB("di", KD_AMD64_CTX_OFF_RDI, 0, 16),
	SUB("ip", KD_AMD64_CTX_OFF_RIP, 0, 16),
	SUB("sp", KD_AMD64_CTX_OFF_RSP, 0, 16),
	SUB("bp", KD_AMD64_CTX_OFF_RBP, 0, 16),
	SUB("r8w", KD_AMD64_CTX_OFF_R8, 0, 16),
	SUB("r9w", KD_AMD64_CTX_OFF_R9, 0, 16),
	SUB("r10w", KD_AMD64_CTX_OFF_R10, 0, 16),
	SUB("r11w", KD_AMD64_CTX_OFF_R11, 0, 16),
	SUB("r12w", KD_AMD64_CTX_OFF_R12, 0, 16),
	SUB("r13w", KD_AMD64_CTX_OFF_R13, 0, 16),
	SUB("r14w", KD_AMD64_CTX_OFF_R14, 0, 16),
	SUB("r15w", KD_AMD64_CTX_OFF_R15, 0, 16),
	SUB("al", KD_AMD64_CTX_OFF_RAX, 0, 8),
	SUB("bl", KD_AMD64_CTX_OFF_RBX, 0, 8),
	SUB("cl", KD_AMD64_CTX_OFF_RCX, 0, 8),
	SUB("dl", KD_AMD64_CTX_OFF_RDX, 0, 8),
	SUB("ah", KD_AMD64_CTX_OFF_RAX, 8, 8),
	SUB("bh", KD_AMD64_CTX_OFF_RBX, 8, 8),
	SUB("ch", KD_AMD64_CTX_OFF_RCX, 8, 8),
	SUB("dh", KD_AMD64_CTX_OFF_RDX, 8, 8),
	SUB("sil", KD_AMD64_CTX_OFF_RSI, 0, 8),
	SUB("dil", KD_AMD64_CTX_OFF_RDI, 0, 8),
	SUB("spl", KD_AMD64_CTX_OFF_RSP, 0, 8),
	SUB("bpl", KD_AMD64_CTX_OFF_RBP, 0, 8),
	SUB("r8b", KD_AMD64_CTX_OFF_R8, 0, 8),
	SUB("r9b", KD_AMD64_CTX_OFF_R9, 0, 8),
	SUB("r10b", KD_AMD64_CTX_OFF_R10, 0, 8),
	SUB("r11b", KD_AMD64_CTX_OFF_R11, 0, 8),
	SUB("r12b", KD_AMD64_CTX_OFF_R12, 0, 8),
	SUB("r13b", KD_AMD64_CTX_OFF_R13, 0, 8),
	SUB("r14b", KD_AMD64_CTX_OFF_R14, 0, 8),
	SUB("r15b", KD_AMD64_CTX_OFF_R15, 0, 8),
	{ "efl", KD_AMD64_CTX_OFF_EFLAGS, 4, 0, 32, KD_REGG_FLAGS,
	  KD_REGF_FLAGS },
	{ "eflags", KD_AMD64_CTX_OFF_EFLAGS, 4, 0, 32, KD_REGG_SUB, 0 },
	{ "fl", KD_AMD64_CTX_OFF_EFLAGS, 4, 0, 16, KD_REGG_SUB,
	  KD_REGF_NOEXPR },
	SEG("cs", KD_AMD64_CTX_OFF_CS),
	SEG("ds", KD_AMD64_CTX_OFF_DS),
	SEG("es", KD_AMD64_CTX_OFF_ES),
	SEG("fs", KD_AMD64_CTX_OFF_FS),
	SEG("gs", KD_AMD64_CTX_OFF_GS),
	SEG("ss", KD_AMD64_CTX_OFF_SS),
	DR("dr0", KD_AMD64_CTX_OFF_DR0),
	DR("dr1", KD_AMD64_CTX_OFF_DR1),
	DR("dr2", KD_AMD64_CTX_OFF_DR2),
	DR("dr3", KD_AMD64_CTX_OFF_DR3),
	DR("dr6", KD_AMD64_CTX_OFF_DR6),
	DR("dr7", KD_AMD64_CTX_OFF_DR7),
	{ "mxcsr", KD_AMD64_CTX_OFF_MXCSR, 4, 0, 32, KD_REGG_OTHER, 0 },
	{ "contextflags", KD_AMD64_CTX_OFF_FLAGS, 4, 0, 32, KD_REGG_OTHER,
	  KD_REGF_NOR },
	FL("of", 11),
	FL("df", 10),
	FL("if", 9),
	FL("tf", 8),
	FL("sf", 7),
	FL("zf", 6),
	FL("af", 4),
	FL("pf", 2),
	FL("cf", 0),
	/* Field ids are KSPECIAL_REGISTERS offsets (layout.h). */
	KS("cr0", KD_KSPEC_OFF_CR0, 64),
	KS("cr2", KD_KSPEC_OFF_CR2, 64),
	KS("cr3", KD_KSPEC_OFF_CR3, 64),
	KS("cr4", KD_KSPEC_OFF_CR4, 64),
	KS("cr8", KD_KSPEC_OFF_CR8, 64),
	KS("gdtr", KD_KSPEC_OFF_GDTR_BASE, 64),
	KS("gdtl", KD_KSPEC_OFF_GDTR_LIMIT, 16),
	KS("idtr", KD_KSPEC_OFF_IDTR_BASE, 64),
	KS("idtl", KD_KSPEC_OFF_IDTR_LIMIT, 16),
	KS("tr", KD_KSPEC_OFF_TR, 16),
	KS("ldtr", KD_KSPEC_OFF_LDTR, 16),
};

static int amd64_read_context(struct kd_target *t, unsigned cpu, uint8_t *buf)
{
	if (!t->ops->get_context)
		return KD_ENOTSUP;
	return t->ops->get_context(t, cpu, buf);
}

static int amd64_write_context(struct kd_target *t, unsigned cpu,
			       const uint8_t *buf)
{
	if (!t->ops->set_context)
		return KD_ENOTSUP;
	return t->ops->set_context(t, cpu, buf);
}

static int amd64_special(struct kd_session *s, unsigned cpu, uint16_t off,
			 uint64_t *value)
{
	struct kd_amd64_kspecial *ks = NULL;
	int rc = kd_kspecial(s, cpu, &ks);

	if (rc < 0)
		return rc;
	switch (off) {
	case KD_KSPEC_OFF_CR0:
		*value = ks->cr0;
		break;
	case KD_KSPEC_OFF_CR2:
		*value = ks->cr2;
		break;
	case KD_KSPEC_OFF_CR3:
		*value = ks->cr3;
		break;
	case KD_KSPEC_OFF_CR4:
		*value = ks->cr4;
		break;
	case KD_KSPEC_OFF_CR8:
		*value = ks->cr8;
		break;
	case KD_KSPEC_OFF_GDTR_BASE:
		*value = ks->gdtr_base;
		break;
	case KD_KSPEC_OFF_GDTR_LIMIT:
		*value = ks->gdtr_limit;
		break;
	case KD_KSPEC_OFF_IDTR_BASE:
		*value = ks->idtr_base;
		break;
	case KD_KSPEC_OFF_IDTR_LIMIT:
		*value = ks->idtr_limit;
		break;
	case KD_KSPEC_OFF_TR:
		*value = ks->tr;
		break;
	case KD_KSPEC_OFF_LDTR:
		*value = ks->ldtr;
		break;
	default:
		return KD_ENOTFOUND;
	}
	return KD_OK;
}

/*
 * WinDbg's x64 register rows: three general registers a line, then the
 * iopl and flag-state line (`r`, and `.trap` without the segments).
 */
void kd_amd64__print_gprs(struct kd_session *s, const uint8_t *c)
{
	static const struct {
		const char *name;
		uint16_t off;
	} order[] = {
		{ "rax", KD_AMD64_CTX_OFF_RAX },
		{ "rbx", KD_AMD64_CTX_OFF_RBX },
		{ "rcx", KD_AMD64_CTX_OFF_RCX },
		{ "rdx", KD_AMD64_CTX_OFF_RDX },
		{ "rsi", KD_AMD64_CTX_OFF_RSI },
		{ "rdi", KD_AMD64_CTX_OFF_RDI },
		{ "rip", KD_AMD64_CTX_OFF_RIP },
		{ "rsp", KD_AMD64_CTX_OFF_RSP },
		{ "rbp", KD_AMD64_CTX_OFF_RBP },
		{ "r8", KD_AMD64_CTX_OFF_R8 },
		{ "r9", KD_AMD64_CTX_OFF_R9 },
		{ "r10", KD_AMD64_CTX_OFF_R10 },
		{ "r11", KD_AMD64_CTX_OFF_R11 },
		{ "r12", KD_AMD64_CTX_OFF_R12 },
		{ "r13", KD_AMD64_CTX_OFF_R13 },
		{ "r14", KD_AMD64_CTX_OFF_R14 },
		{ "r15", KD_AMD64_CTX_OFF_R15 },
	};
	uint32_t efl = kd_get_le32(c + KD_AMD64_CTX_OFF_EFLAGS);
	char states[24];
	size_t i;

	for (i = 0; i < KD_ARRAY_SIZE(order); i++) {
		bool last = i % 3 == 2 || i + 1 == KD_ARRAY_SIZE(order);

		kd_out(s, "%3s=%016llx%s", order[i].name,
		       (unsigned long long)kd_get_le64(c + order[i].off),
		       last ? "\n" : " ");
	}
	kd_x86__eflags_states(efl, states);
	kd_out(s, "iopl=%-10u%s\n", (unsigned)((efl >> 12) & 3), states);
}

/* WinDbg's x64 `r`: the register rows, then the segments. */
static void amd64_print_regs(struct kd_session *s, const uint8_t *c)
{
	static const struct {
		const char *name;
		uint16_t off;
	} seg[] = {
		{ "cs", KD_AMD64_CTX_OFF_CS }, { "ss", KD_AMD64_CTX_OFF_SS },
		{ "ds", KD_AMD64_CTX_OFF_DS }, { "es", KD_AMD64_CTX_OFF_ES },
		{ "fs", KD_AMD64_CTX_OFF_FS }, { "gs", KD_AMD64_CTX_OFF_GS },
	};
	uint32_t efl = kd_get_le32(c + KD_AMD64_CTX_OFF_EFLAGS);
	size_t i;

	kd_amd64__print_gprs(s, c);
	for (i = 0; i < KD_ARRAY_SIZE(seg); i++)
		kd_out(s, "%s=%04x%s", seg[i].name,
		       (unsigned)kd_get_le16(c + seg[i].off),
		       i + 1 < KD_ARRAY_SIZE(seg) ? "  " : "");
	kd_out(s, "%13sefl=%08x\n", "", (unsigned)efl);
}

static const uint8_t amd64_int3[] = { 0xCC };

/* The x64 unwinder (stack.c) from @cpu's CONTEXT, read through these ops
 * rather than the registry's: the ops files never call arch.c. */
static int amd64_unwind(struct kd_session *s, unsigned cpu,
			struct kd_frame *out, size_t max, size_t *n)
{
	uint8_t *ctx;
	int rc;

	*n = 0;
	rc = kd_arch__context(s, &kd_arch_amd64, cpu, &ctx);
	if (rc != KD_OK)
		return rc;
	return kd_amd64__unwind(s, ctx, out, max, n);
}

const struct kd_arch_ops kd_arch_amd64 = {
	.id = KD_ARCH_AMD64,
	.machine = KD_MACHINE_AMD64,
	.name = "x64",
	.ptr_size = 8,
	.ctx_size = KD_AMD64_CONTEXT_SIZE,
	.regs = amd64_regs,
	.nregs = KD_ARRAY_SIZE(amd64_regs),
	.read_context = amd64_read_context,
	.write_context = amd64_write_context,
	.special_get = amd64_special,
	.cs_arch = CS_ARCH_X86,
	.cs_mode = CS_MODE_64,
	.disasm = KD_DIS_X86,
	.hex_cols = 15,
	.unwind = amd64_unwind,
	.print_stack = NULL,
	.print_regs = amd64_print_regs,
	.flag_states = kd_x86__eflags_states,
	.virt_to_phys = kd_amd64__virt_to_phys,
	.bp_insn = amd64_int3,
	.bp_len = sizeof(amd64_int3),
	.step = KD_STEP_TRAP_FLAG,
};
