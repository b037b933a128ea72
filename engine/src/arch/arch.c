/* SPDX-License-Identifier: MIT */
/*
 * Registers of x86 and ARM64 targets (crash dumps of those machines): the
 * native CONTEXT layouts, register names for `r` and expressions, and
 * WinDbg's `r` layouts of both machines.
 */
#include <ctype.h>
#include <string.h>

#include <kd/dump.h>

#include "core/engine_int.h"

/* x86 CONTEXT (0x2CC bytes). */
#define X86_EFL 0xC0
#define X86_CTX_SIZE 0x2CC
/*
 * Offsets from X86_SPECIAL name KSPECIAL_REGISTERS fields (Cr0, Cr2, Cr3,
 * Cr4 at 0, 4, 8, 0xC), read from the KPRCB's ProcessorState rather than
 * the CONTEXT.
 */
#define X86_SPECIAL 0xF000
#define X86_SPECIAL_CR3 (X86_SPECIAL + 8)
/* ARM64 CONTEXT (0x390 bytes). */
#define A64_CPSR 0x04
#define A64_X0 0x08
#define A64_FP 0xF0
#define A64_LR 0xF8
#define A64_SP 0x100
#define A64_PC 0x108
#define A64_CTX_SIZE 0x390

/* A register: @p size bytes at @p off, then bits [shift, shift+bits). */
struct kd_arch_reg {
	const char *name;
	uint16_t off;
	uint8_t size;
	uint8_t shift;
	uint8_t bits;
	bool flag; /* one EFLAGS bit: shown as one digit */
};

#define R32(n, o)                     \
	{                             \
		n, o, 4, 0, 32, false \
	}
#define R16(n, o)                     \
	{                             \
		n, o, 4, 0, 16, false \
	}
#define R8(n, o, sh)                  \
	{                             \
		n, o, 4, sh, 8, false \
	}
#define FL(n, b)                          \
	{                                 \
		n, X86_EFL, 4, b, 1, true \
	}

static const struct kd_arch_reg kd_x86_regs[] = {
	R32("eax", 0xB0),
	R32("ebx", 0xA4),
	R32("ecx", 0xAC),
	R32("edx", 0xA8),
	R32("esi", 0xA0),
	R32("edi", 0x9C),
	R32("eip", 0xB8),
	R32("esp", 0xC4),
	R32("ebp", 0xB4),
	R32("efl", X86_EFL),
	R32("eflags", X86_EFL),
	R16("cs", 0xBC),
	R16("ss", 0xC8),
	R16("ds", 0x98),
	R16("es", 0x94),
	R16("fs", 0x90),
	R16("gs", 0x8C),
	R32("dr0", 0x04),
	R32("dr1", 0x08),
	R32("dr2", 0x0C),
	R32("dr3", 0x10),
	R32("dr6", 0x14),
	R32("dr7", 0x18),
	R16("ax", 0xB0),
	R16("bx", 0xA4),
	R16("cx", 0xAC),
	R16("dx", 0xA8),
	R16("si", 0xA0),
	R16("di", 0x9C),
	R16("ip", 0xB8),
	R16("sp", 0xC4),
	R16("bp", 0xB4),
	R16("fl", X86_EFL),
	R8("al", 0xB0, 0),
	R8("bl", 0xA4, 0),
	R8("cl", 0xAC, 0),
	R8("dl", 0xA8, 0),
	R8("ah", 0xB0, 8),
	R8("bh", 0xA4, 8),
	R8("ch", 0xAC, 8),
	R8("dh", 0xA8, 8),
	FL("of", 11),
	FL("df", 10),
	FL("if", 9),
	FL("tf", 8),
	FL("sf", 7),
	FL("zf", 6),
	FL("af", 4),
	FL("pf", 2),
	FL("cf", 0),
	{ "iopl", X86_EFL, 4, 12, 2, false },
	R32("cr0", X86_SPECIAL),
	R32("cr2", X86_SPECIAL + 4),
	R32("cr3", X86_SPECIAL_CR3),
	R32("cr4", X86_SPECIAL + 12),
};

#define X64(n, o)                     \
	{                             \
		n, o, 8, 0, 64, false \
	}
#define W32(n, o)                     \
	{                             \
		n, o, 8, 0, 32, false \
	}

static const struct kd_arch_reg kd_a64_named[] = {
	X64("fp", A64_FP),
	X64("lr", A64_LR),
	X64("sp", A64_SP),
	X64("pc", A64_PC),
	X64("x29", A64_FP),
	X64("x30", A64_LR),
	W32("w29", A64_FP),
	W32("w30", A64_LR),
	{ "psr", A64_CPSR, 4, 0, 32, false },
	{ "cpsr", A64_CPSR, 4, 0, 32, false },
	{ "nf", A64_CPSR, 4, 31, 1, true },
	{ "zf", A64_CPSR, 4, 30, 1, true },
	{ "cf", A64_CPSR, 4, 29, 1, true },
	{ "vf", A64_CPSR, 4, 28, 1, true },
};

bool kd_arch_is_x86(const struct kd_session *s)
{
	return s->target && s->target->ops->get_native_context &&
	       s->tgt.machine == KD_DUMP_MACHINE_I386;
}

bool kd_arch_is_arm64(const struct kd_session *s)
{
	return s->target && s->target->ops->get_native_context &&
	       s->tgt.machine == KD_DUMP_MACHINE_ARM64;
}

bool kd_arch_native(const struct kd_session *s)
{
	return kd_arch_is_x86(s) || kd_arch_is_arm64(s);
}

char *kd_fmt_ptr(const struct kd_session *s, char buf[18], uint64_t addr)
{
	if (kd_is_ptr64(s))
		return kd_fmt_addr(buf, addr);
	snprintf(buf, 18, "%08x", (unsigned)(addr & 0xffffffffu));
	return buf;
}

int kd_native_context(struct kd_session *s, unsigned cpu, uint8_t *buf,
		      size_t *len)
{
	size_t need = kd_arch_is_x86(s) ? X86_CTX_SIZE : A64_CTX_SIZE;
	int rc;

	*len = 0;
	if (!kd_arch_native(s) || !s->tgt.cpus || cpu >= s->tgt.ncpus)
		return KD_EINVAL;
	if (!s->target->ops->get_native_context)
		return KD_ENOTSUP;
	rc = s->target->ops->get_native_context(s->target, cpu, buf,
						KD_NATIVE_CTX_MAX, len);
	if (rc < 0)
		return rc;
	if (*len < need)
		return KD_EPROTO;
	return KD_OK;
}

/* Case-insensitive match of @p name (@p len bytes) with @p want. */
static bool kd_name_is(const char *name, size_t len, const char *want)
{
	size_t i;

	if (strlen(want) != len)
		return false;
	for (i = 0; i < len; i++) {
		if (tolower((unsigned char)name[i]) != want[i])
			return false;
	}
	return true;
}

/* ARM64 x0..x28 / w0..w28 by number; false when @p name is not one. */
static bool kd_a64_numbered(const char *name, size_t len,
			    struct kd_arch_reg *out)
{
	static const char *const xn[29] = {
		"x0",  "x1",  "x2",  "x3",  "x4",  "x5",  "x6",	 "x7",
		"x8",  "x9",  "x10", "x11", "x12", "x13", "x14", "x15",
		"x16", "x17", "x18", "x19", "x20", "x21", "x22", "x23",
		"x24", "x25", "x26", "x27", "x28",
	};
	static const char *const wn[29] = {
		"w0",  "w1",  "w2",  "w3",  "w4",  "w5",  "w6",	 "w7",
		"w8",  "w9",  "w10", "w11", "w12", "w13", "w14", "w15",
		"w16", "w17", "w18", "w19", "w20", "w21", "w22", "w23",
		"w24", "w25", "w26", "w27", "w28",
	};
	unsigned n = 0;
	size_t i;
	char c;

	if (len < 2 || len > 3)
		return false;
	c = (char)tolower((unsigned char)name[0]);
	if (c != 'x' && c != 'w')
		return false;
	for (i = 1; i < len; i++) {
		if (!isdigit((unsigned char)name[i]))
			return false;
		n = n * 10 + (unsigned)(name[i] - '0');
	}
	if (n > 28 || (len == 3 && name[1] == '0'))
		return false;
	out->name = c == 'x' ? xn[n] : wn[n];
	out->off = (uint16_t)(A64_X0 + 8 * n);
	out->size = 8;
	out->shift = 0;
	out->bits = c == 'x' ? 64 : 32;
	out->flag = false;
	return true;
}

static bool kd_arch_find(const struct kd_session *s, const char *name,
			 size_t len, struct kd_arch_reg *out)
{
	const struct kd_arch_reg *t;
	size_t n, i;

	if (kd_arch_is_x86(s)) {
		t = kd_x86_regs;
		n = KD_ARRAY_SIZE(kd_x86_regs);
	} else if (kd_arch_is_arm64(s)) {
		if (kd_a64_numbered(name, len, out))
			return true;
		t = kd_a64_named;
		n = KD_ARRAY_SIZE(kd_a64_named);
	} else {
		return false;
	}
	for (i = 0; i < n; i++) {
		if (kd_name_is(name, len, t[i].name)) {
			*out = t[i];
			return true;
		}
	}
	return false;
}

const char *kd_arch_reg_name(const struct kd_session *s, const char *name,
			     size_t len)
{
	struct kd_arch_reg r;

	return kd_arch_find(s, name, len, &r) ? r.name : NULL;
}

static uint64_t kd_arch_load(const uint8_t *ctx, const struct kd_arch_reg *r)
{
	uint64_t v = r->size == 8 ? kd_get_le64(ctx + r->off) :
				    kd_get_le32(ctx + r->off);

	v >>= r->shift;
	return r->bits >= 64 ? v : v & ((UINT64_C(1) << r->bits) - 1);
}

/*
 * An x86 control register of @p cpu: KiProcessorBlock[cpu] ->
 * KPRCB + OffsetPrcbProcStateSpecialReg (KDBG) + field.  Without that
 * offset cr3 falls back to the dump's directory table base.
 */
static int kd_x86_special(struct kd_session *s, unsigned cpu, uint16_t off,
			  uint64_t *value)
{
	struct kd_dump *d = kd_dump_of_target(s->target);
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
		field = (uint64_t)prcb + (off - X86_SPECIAL) +
			s->tgt.kdbg.offset_prcb_proc_state_special_reg;
		if (kd_read_u32(s, field, &v) != KD_OK)
			return KD_EFAULT;
		*value = v;
		return KD_OK;
	}
	if (off == X86_SPECIAL_CR3 && d) {
		*value = kd_dump_info(d)->dtb & 0xffffffffu;
		return KD_OK;
	}
	return KD_ENOTFOUND;
}

int kd_arch_reg_get(struct kd_session *s, unsigned cpu, const char *name,
		    size_t len, uint64_t *value, unsigned *bits)
{
	uint8_t ctx[KD_NATIVE_CTX_MAX];
	struct kd_arch_reg r;
	size_t clen = 0;
	int rc;

	if (!kd_arch_find(s, name, len, &r))
		return KD_ENOTFOUND;
	if (kd_arch_is_x86(s) && r.off >= X86_SPECIAL) {
		rc = kd_x86_special(s, cpu, r.off, value);
		if (rc == KD_OK && bits)
			*bits = r.bits;
		return rc == KD_ENOTFOUND ? KD_EFAULT : rc;
	}
	rc = kd_native_context(s, cpu, ctx, &clen);
	if (rc < 0)
		return rc;
	*value = kd_arch_load(ctx, &r);
	if (bits)
		*bits = r.flag ? 1 : r.bits;
	return KD_OK;
}

int kd_arch_reg_value(struct kd_session *s, const char *name, size_t len,
		      uint64_t *value)
{
	return kd_arch_reg_get(s, s->tgt.cpu, name, len, value, NULL);
}

static void kd_x86_dump(struct kd_session *s, const uint8_t *c)
{
	static const struct {
		const char *name;
		uint16_t off;
	} gp[] = {
		{ "eax", 0xB0 }, { "ebx", 0xA4 }, { "ecx", 0xAC },
		{ "edx", 0xA8 }, { "esi", 0xA0 }, { "edi", 0x9C },
		{ "eip", 0xB8 }, { "esp", 0xC4 }, { "ebp", 0xB4 },
	};
	static const struct {
		const char *name;
		uint16_t off;
	} seg[] = {
		{ "cs", 0xBC }, { "ss", 0xC8 }, { "ds", 0x98 },
		{ "es", 0x94 }, { "fs", 0x90 }, { "gs", 0x8C },
	};
	uint32_t efl = kd_get_le32(c + X86_EFL);
	char states[24];
	size_t i;

	for (i = 0; i < KD_ARRAY_SIZE(gp); i++)
		kd_out(s, "%s=%08x%s", gp[i].name,
		       (unsigned)kd_get_le32(c + gp[i].off),
		       i == 5 ? "\n" : " ");
	kd_eflags_states(efl, states);
	kd_out(s, "iopl=%-10u%s\n", (unsigned)((efl >> 12) & 3), states);
	for (i = 0; i < KD_ARRAY_SIZE(seg); i++)
		kd_out(s, "%s=%04x%s", seg[i].name,
		       (unsigned)(kd_get_le32(c + seg[i].off) & 0xffff),
		       i + 1 < KD_ARRAY_SIZE(seg) ? "  " : "");
	kd_out(s, "%13sefl=%08x\n", "", (unsigned)efl);
}

static void kd_a64_dump(struct kd_session *s, const uint8_t *c)
{
	static const char *const tail[] = { "fp", "lr", "sp" };
	uint32_t psr = kd_get_le32(c + A64_CPSR);
	char name[8];
	unsigned i;

	/* x0..x28, then fp lr sp: four cells a line. */
	for (i = 0; i < 32; i++) {
		uint64_t v;

		if (i < 29) {
			snprintf(name, sizeof(name), "x%u", i);
			v = kd_get_le64(c + A64_X0 + 8 * i);
		} else {
			snprintf(name, sizeof(name), "%s", tail[i - 29]);
			v = kd_get_le64(c + A64_FP + 8 * (i - 29));
		}
		kd_out(s, "%3s=%016llx%s", name, (unsigned long long)v,
		       i % 4 == 3 ? "\n" : "  ");
	}
	kd_out(s, " pc=%016llx  psr=%08x %c%c%c%c EL%u\n",
	       (unsigned long long)kd_get_le64(c + A64_PC), (unsigned)psr,
	       psr & 0x80000000u ? 'N' : '-', psr & 0x40000000u ? 'Z' : '-',
	       psr & 0x20000000u ? 'C' : '-', psr & 0x10000000u ? 'V' : '-',
	       (unsigned)((psr >> 2) & 3));
}

int kd_arch_reg_dump(struct kd_session *s)
{
	uint8_t ctx[KD_NATIVE_CTX_MAX];
	size_t len = 0;
	int rc = kd_native_context(s, s->tgt.cpu, ctx, &len);

	if (rc < 0)
		return kd_fail(s, rc, "Unable to get register context");
	if (kd_arch_is_x86(s))
		kd_x86_dump(s, ctx);
	else
		kd_a64_dump(s, ctx);
	kd_print_current_instruction(s);
	return KD_OK;
}
