/* SPDX-License-Identifier: MIT */
/*
 * x86 (i386), crash dumps only: the 716-byte CONTEXT of kdproto's
 * layout.h, its register names, WinDbg's x86 `r` layout and flags line
 * (shared with x64), cr0-cr4 from the KPRCB, and the ChildEBP `k` table
 * of the walk in x86_unwind.c.
 */
#include <string.h>

#include <capstone/capstone.h>

#include <kd/dump.h>

#include "arch/arch.h"
#include "sym/sym_int.h"

_Static_assert(KD_X86_CONTEXT_SIZE <= KD_ARCH_CTX_MAX,
	       "x86 CONTEXT larger than kd_cpu's buffer");

/*
 * Field ids of the special registers: KSPECIAL_REGISTERS offsets (Cr0,
 * Cr2, Cr3, Cr4 at 0, 4, 8, 0xC), read from the KPRCB's ProcessorState
 * rather than the CONTEXT.
 */
#define X86_KS_CR0 0x0
#define X86_KS_CR2 0x4
#define X86_KS_CR3 0x8
#define X86_KS_CR4 0xC

#define R32(n, o, g, f)                          \
	{                                        \
		n, o, 4, 0, 32, g, (uint16_t)(f) \
	}
#define R16(n, o, g, f)                          \
	{                                        \
		n, o, 4, 0, 16, g, (uint16_t)(f) \
	}
#define R8(n, o, sh)                           \
	{                                      \
		n, o, 4, sh, 8, KD_REGG_SUB, 0 \
	}
#define FL(n, b)                                                  \
	{                                                         \
		n, KD_X86_CTX_OFF_EFLAGS, 4, b, 1, KD_REGG_FLAGS, \
			KD_REGF_FLAGBIT                           \
	}
#define CR(n, f)                                                 \
	{                                                        \
		n, f, 4, 0, 32, KD_REGG_CONTROL, KD_REGF_SPECIAL \
	}

static const struct kd_arch_reg x86_regs[] = {
	R32("eax", KD_X86_CTX_OFF_EAX, KD_REGG_GP, KD_REGF_RET),
	R32("ebx", KD_X86_CTX_OFF_EBX, KD_REGG_GP, 0),
	R32("ecx", KD_X86_CTX_OFF_ECX, KD_REGG_GP, 0),
	R32("edx", KD_X86_CTX_OFF_EDX, KD_REGG_GP, 0),
	R32("esi", KD_X86_CTX_OFF_ESI, KD_REGG_GP, 0),
	R32("edi", KD_X86_CTX_OFF_EDI, KD_REGG_GP, 0),
	R32("eip", KD_X86_CTX_OFF_EIP, KD_REGG_GP, KD_REGF_PC),
	R32("esp", KD_X86_CTX_OFF_ESP, KD_REGG_GP, KD_REGF_SP),
	R32("ebp", KD_X86_CTX_OFF_EBP, KD_REGG_GP, KD_REGF_FP),
	R32("efl", KD_X86_CTX_OFF_EFLAGS, KD_REGG_FLAGS, KD_REGF_FLAGS),
	R32("eflags", KD_X86_CTX_OFF_EFLAGS, KD_REGG_SUB, 0),
	R16("cs", KD_X86_CTX_OFF_CS, KD_REGG_SEG, KD_REGF_SEG),
	R16("ss", KD_X86_CTX_OFF_SS, KD_REGG_SEG, KD_REGF_SEG),
	R16("ds", KD_X86_CTX_OFF_DS, KD_REGG_SEG, KD_REGF_SEG),
	R16("es", KD_X86_CTX_OFF_ES, KD_REGG_SEG, KD_REGF_SEG),
	R16("fs", KD_X86_CTX_OFF_FS, KD_REGG_SEG, KD_REGF_SEG),
	R16("gs", KD_X86_CTX_OFF_GS, KD_REGG_SEG, KD_REGF_SEG),
	R32("dr0", KD_X86_CTX_OFF_DR0, KD_REGG_DEBUG, 0),
	R32("dr1", KD_X86_CTX_OFF_DR1, KD_REGG_DEBUG, 0),
	R32("dr2", KD_X86_CTX_OFF_DR2, KD_REGG_DEBUG, 0),
	R32("dr3", KD_X86_CTX_OFF_DR3, KD_REGG_DEBUG, 0),
	R32("dr6", KD_X86_CTX_OFF_DR6, KD_REGG_DEBUG, 0),
	R32("dr7", KD_X86_CTX_OFF_DR7, KD_REGG_DEBUG, 0),
	R16("ax", KD_X86_CTX_OFF_EAX, KD_REGG_SUB, 0),
	R16("bx", KD_X86_CTX_OFF_EBX, KD_REGG_SUB, 0),
	R16("cx", KD_X86_CTX_OFF_ECX, KD_REGG_SUB, 0),
	R16("dx", KD_X86_CTX_OFF_EDX, KD_REGG_SUB, 0),
	R16("si", KD_X86_CTX_OFF_ESI, KD_REGG_SUB, 0),
	R16("di", KD_X86_CTX_OFF_EDI, KD_REGG_SUB, 0),
	R16("ip", KD_X86_CTX_OFF_EIP, KD_REGG_SUB, 0),
	R16("sp", KD_X86_CTX_OFF_ESP, KD_REGG_SUB, 0),
	R16("bp", KD_X86_CTX_OFF_EBP, KD_REGG_SUB, 0),
	R16("fl", KD_X86_CTX_OFF_EFLAGS, KD_REGG_SUB, 0),
	R8("al", KD_X86_CTX_OFF_EAX, 0),
	R8("bl", KD_X86_CTX_OFF_EBX, 0),
	R8("cl", KD_X86_CTX_OFF_ECX, 0),
	R8("dl", KD_X86_CTX_OFF_EDX, 0),
	R8("ah", KD_X86_CTX_OFF_EAX, 8),
	R8("bh", KD_X86_CTX_OFF_EBX, 8),
	R8("ch", KD_X86_CTX_OFF_ECX, 8),
	R8("dh", KD_X86_CTX_OFF_EDX, 8),
	FL("of", 11),
	FL("df", 10),
	FL("if", 9),
	FL("tf", 8),
	FL("sf", 7),
	FL("zf", 6),
	FL("af", 4),
	FL("pf", 2),
	FL("cf", 0),
	{ "iopl", KD_X86_CTX_OFF_EFLAGS, 4, 12, 2, KD_REGG_FLAGS, 0 },
	CR("cr0", X86_KS_CR0),
	CR("cr2", X86_KS_CR2),
	CR("cr3", X86_KS_CR3),
	CR("cr4", X86_KS_CR4),
};

static int x86_read_context(struct kd_target *t, unsigned cpu, uint8_t *buf)
{
	return kd_arch__native_read(t, cpu, buf, KD_X86_CONTEXT_SIZE);
}

/*
 * An x86 control register of @p cpu: KiProcessorBlock[cpu] ->
 * KPRCB + OffsetPrcbProcStateSpecialReg (KDBG) + field.  Without that
 * offset cr3 falls back to the dump's directory table base.
 */
static int x86_special(struct kd_session *s, unsigned cpu, uint16_t off,
		       uint64_t *value)
{
	uint32_t prcb = 0, v = 0;
	uint64_t kpb, field;

	if (!s->tgt.cpus || cpu >= s->tgt.ncpus)
		return KD_EINVAL;
	if (s->tgt.have_kdbg && s->tgt.kdbg.ki_processor_block &&
	    s->tgt.kdbg.offset_prcb_proc_state_special_reg) {
		kpb = (s->tgt.kdbg.ki_processor_block + 4ull * cpu) &
		      0xffffffffu;
		if (kd_read_u32(s, kpb, &prcb) != KD_OK || prcb == 0)
			return KD_EFAULT;
		field = (uint64_t)prcb + off +
			s->tgt.kdbg.offset_prcb_proc_state_special_reg;
		if (kd_read_u32(s, field, &v) != KD_OK)
			return KD_EFAULT;
		*value = v;
		return KD_OK;
	}
	if (off == X86_KS_CR3 && s->tgt.id.snapshot && s->tgt.id.dtb) {
		*value = s->tgt.id.dtb & 0xffffffffu;
		return KD_OK;
	}
	return KD_EFAULT;
}

/* The flags line's two-letter states, in display order (x64 and x86). */
void kd_x86__eflags_states(uint64_t efl, char out[24])
{
	static const struct {
		unsigned bit;
		char clr[3];
		char set[3];
	} f[] = {
		{ 11, "nv", "ov" },
		{ 10, "up", "dn" },
		{ 9, "di", "ei" },
		{ 7, "pl", "ng" },
		{ 6, "nz", "zr" },
		{ 4, "na", "ac" },
		/* WinDbg prints pe for PF=0 and po for PF=1 (sic). */
		{ 2, "pe", "po" },
		{ 0, "nc", "cy" },
	};
	size_t i;
	char *p = out;

	for (i = 0; i < KD_ARRAY_SIZE(f); i++) {
		const char *t = (efl >> f[i].bit) & 1 ? f[i].set : f[i].clr;

		if (i)
			*p++ = ' ';
		*p++ = t[0];
		*p++ = t[1];
	}
	*p = '\0';
}

static void x86_print_regs(struct kd_session *s, const uint8_t *c)
{
	static const struct {
		const char *name;
		uint16_t off;
	} gp[] = {
		{ "eax", KD_X86_CTX_OFF_EAX }, { "ebx", KD_X86_CTX_OFF_EBX },
		{ "ecx", KD_X86_CTX_OFF_ECX }, { "edx", KD_X86_CTX_OFF_EDX },
		{ "esi", KD_X86_CTX_OFF_ESI }, { "edi", KD_X86_CTX_OFF_EDI },
		{ "eip", KD_X86_CTX_OFF_EIP }, { "esp", KD_X86_CTX_OFF_ESP },
		{ "ebp", KD_X86_CTX_OFF_EBP },
	};
	static const struct {
		const char *name;
		uint16_t off;
	} seg[] = {
		{ "cs", KD_X86_CTX_OFF_CS }, { "ss", KD_X86_CTX_OFF_SS },
		{ "ds", KD_X86_CTX_OFF_DS }, { "es", KD_X86_CTX_OFF_ES },
		{ "fs", KD_X86_CTX_OFF_FS }, { "gs", KD_X86_CTX_OFF_GS },
	};
	uint32_t efl = kd_get_le32(c + KD_X86_CTX_OFF_EFLAGS);
	char states[24];
	size_t i;

	for (i = 0; i < KD_ARRAY_SIZE(gp); i++)
		kd_out(s, "%s=%08x%s", gp[i].name,
		       (unsigned)kd_get_le32(c + gp[i].off),
		       i == 5 ? "\n" : " ");
	kd_x86__eflags_states(efl, states);
	kd_out(s, "iopl=%-10u%s\n", (unsigned)((efl >> 12) & 3), states);
	for (i = 0; i < KD_ARRAY_SIZE(seg); i++)
		kd_out(s, "%s=%04x%s", seg[i].name,
		       (unsigned)(kd_get_le32(c + seg[i].off) & 0xffff),
		       i + 1 < KD_ARRAY_SIZE(seg) ? "  " : "");
	kd_out(s, "%13sefl=%08x\n", "", (unsigned)efl);
}

/* The call site, with " [file @ line]" when line loading is on. */
static void site_line(struct kd_session *s, uint64_t ip, char *site, size_t cap)
{
	char file[256];
	uint32_t line;
	size_t n;

	kd_stack__site(s, ip, site, cap);
	n = strlen(site);
	if ((kd_sym__options(s) & KD_SYMOPT_LOAD_LINES) &&
	    kd_sym_line(s, ip, file, sizeof(file), &line) == KD_OK)
		snprintf(site + n, cap - n, " [%.200s @ %u]", file, line);
}

static void x86_print_stack(struct kd_session *s, const struct kd_frame *f,
			    size_t n, bool args, bool call_only)
{
	size_t i;

	if (call_only)
		kd_out(s, " # Call Site\n");
	else
		kd_out(s, " # ChildEBP RetAddr  %s\n",
		       args ? "Args to Child              " : "");
	for (i = 0; i < n && !s->interrupt; i++) {
		char site[256];

		site_line(s, f[i].ip, site, sizeof(site));
		if (call_only)
			kd_out(s, "%02zx %s\n", i, site);
		else if (args)
			kd_out(s, "%02zx %08x %08x %08x %08x %08x %s\n", i,
			       (unsigned)f[i].sp, (unsigned)f[i].ret,
			       (unsigned)f[i].args[0], (unsigned)f[i].args[1],
			       (unsigned)f[i].args[2], site);
		else
			kd_out(s, "%02zx %08x %08x %s\n", i, (unsigned)f[i].sp,
			       (unsigned)f[i].ret, site);
	}
}

static const uint8_t x86_int3[] = { 0xCC };

/* The x86 walk (x86_unwind.c) reading registers through these ops: the
 * leaf files never call back into the ops file. */
static int x86_unwind(struct kd_session *s, unsigned cpu, struct kd_frame *out,
		      size_t max, size_t *n)
{
	return kd_x86__unwind(s, &kd_arch_x86, cpu, out, max, n);
}

const struct kd_arch_ops kd_arch_x86 = {
	.id = KD_ARCH_X86,
	.machine = KD_MACHINE_I386,
	.name = "x86",
	.ptr_size = 4,
	.ctx_size = KD_X86_CONTEXT_SIZE,
	.regs = x86_regs,
	.nregs = KD_ARRAY_SIZE(x86_regs),
	.read_context = x86_read_context,
	.write_context = NULL, /* live x86 is issue 17 */
	.special_get = x86_special,
	.cs_arch = CS_ARCH_X86,
	.cs_mode = CS_MODE_32,
	.disasm = KD_DIS_X86,
	.hex_cols = 16,
	.unwind = x86_unwind,
	.print_stack = x86_print_stack,
	.print_regs = x86_print_regs,
	.flag_states = kd_x86__eflags_states,
	.virt_to_phys = NULL,
	.bp_insn = x86_int3,
	.bp_len = sizeof(x86_int3),
	.step = KD_STEP_TRAP_FLAG,
};
