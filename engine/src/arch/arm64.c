/* SPDX-License-Identifier: MIT */
/*
 * ARM64, crash dumps only: the 912-byte CONTEXT of kdproto's layout.h,
 * x0-x28 / w0-w28 and the named registers, WinDbg's ARM64 `r` layout
 * and the fp/lr frame-record walk.
 */
#include <string.h>

#include <capstone/capstone.h>

#include "arch/arch.h"

_Static_assert(KD_ARM64_CONTEXT_SIZE <= KD_ARCH_CTX_MAX,
	       "ARM64 CONTEXT larger than kd_cpu's buffer");
_Static_assert(KD_ARM64_CONTEXT_SIZE <= KD_NATIVE_CTX_MAX,
	       "ARM64 CONTEXT larger than a native context read");

#define XN(n, f)                                                             \
	{                                                                    \
		"x" #n, KD_ARM64_CTX_OFF_X0 + 8 * (n), 8, 0, 64, KD_REGG_GP, \
			(uint16_t)(f)                                        \
	}
#define WN(n)                                                                 \
	{                                                                     \
		"w" #n, KD_ARM64_CTX_OFF_X0 + 8 * (n), 8, 0, 32, KD_REGG_SUB, \
			0                                                     \
	}
#define X64(n, o, g, f)                          \
	{                                        \
		n, o, 8, 0, 64, g, (uint16_t)(f) \
	}
#define FL(n, b)                                                  \
	{                                                         \
		n, KD_ARM64_CTX_OFF_CPSR, 4, b, 1, KD_REGG_FLAGS, \
			KD_REGF_FLAGBIT                           \
	}

static const struct kd_arch_reg arm64_regs[] = {
	XN(0, KD_REGF_RET),
	XN(1, 0),
	XN(2, 0),
	XN(3, 0),
	XN(4, 0),
	XN(5, 0),
	XN(6, 0),
	XN(7, 0),
	XN(8, 0),
	XN(9, 0),
	XN(10, 0),
	XN(11, 0),
	XN(12, 0),
	XN(13, 0),
	XN(14, 0),
	XN(15, 0),
	XN(16, 0),
	XN(17, 0),
	XN(18, 0),
	XN(19, 0),
	XN(20, 0),
	XN(21, 0),
	XN(22, 0),
	XN(23, 0),
	XN(24, 0),
	XN(25, 0),
	XN(26, 0),
	XN(27, 0),
	XN(28, 0),
	WN(0),
	WN(1),
	WN(2),
	WN(3),
	WN(4),
	WN(5),
	WN(6),
	WN(7),
	WN(8),
	WN(9),
	WN(10),
	WN(11),
	WN(12),
	WN(13),
	WN(14),
	WN(15),
	WN(16),
	WN(17),
	WN(18),
	WN(19),
	WN(20),
	WN(21),
	WN(22),
	WN(23),
	WN(24),
	WN(25),
	WN(26),
	WN(27),
	WN(28),
	X64("fp", KD_ARM64_CTX_OFF_FP, KD_REGG_GP, KD_REGF_FP),
	X64("lr", KD_ARM64_CTX_OFF_LR, KD_REGG_GP, KD_REGF_RA),
	X64("sp", KD_ARM64_CTX_OFF_SP, KD_REGG_GP, KD_REGF_SP),
	X64("pc", KD_ARM64_CTX_OFF_PC, KD_REGG_GP, KD_REGF_PC),
	X64("x29", KD_ARM64_CTX_OFF_FP, KD_REGG_SUB, 0),
	X64("x30", KD_ARM64_CTX_OFF_LR, KD_REGG_SUB, 0),
	{ "w29", KD_ARM64_CTX_OFF_FP, 8, 0, 32, KD_REGG_SUB, 0 },
	{ "w30", KD_ARM64_CTX_OFF_LR, 8, 0, 32, KD_REGG_SUB, 0 },
	{ "psr", KD_ARM64_CTX_OFF_CPSR, 4, 0, 32, KD_REGG_FLAGS,
	  KD_REGF_FLAGS },
	{ "cpsr", KD_ARM64_CTX_OFF_CPSR, 4, 0, 32, KD_REGG_SUB, 0 },
	FL("nf", 31),
	FL("zf", 30),
	FL("cf", 29),
	FL("vf", 28),
};

static int arm64_read_context(struct kd_target *t, unsigned cpu, uint8_t *buf)
{
	return kd_arch__native_read(t, cpu, buf, KD_ARM64_CONTEXT_SIZE);
}

static void arm64_print_regs(struct kd_session *s, const uint8_t *c)
{
	static const char *const tail[] = { "fp", "lr", "sp" };
	uint32_t psr = kd_get_le32(c + KD_ARM64_CTX_OFF_CPSR);
	char name[8];
	unsigned i;

	/* x0..x28, then fp lr sp: four cells a line. */
	for (i = 0; i < 32; i++) {
		uint64_t v;

		if (i < 29) {
			snprintf(name, sizeof(name), "x%u", i);
			v = kd_get_le64(c + KD_ARM64_CTX_OFF_X0 + 8 * i);
		} else {
			snprintf(name, sizeof(name), "%s", tail[i - 29]);
			v = kd_get_le64(c + KD_ARM64_CTX_OFF_FP + 8 * (i - 29));
		}
		kd_out(s, "%3s=%016llx%s", name, (unsigned long long)v,
		       i % 4 == 3 ? "\n" : "  ");
	}
	kd_out(s, " pc=%016llx  psr=%08x %c%c%c%c EL%u\n",
	       (unsigned long long)kd_get_le64(c + KD_ARM64_CTX_OFF_PC),
	       (unsigned)psr, psr & 0x80000000u ? 'N' : '-',
	       psr & 0x40000000u ? 'Z' : '-', psr & 0x20000000u ? 'C' : '-',
	       psr & 0x10000000u ? 'V' : '-', (unsigned)((psr >> 2) & 3));
}

/* ---- ARM64: the frame records (fp, lr pairs) ---- */

static int arm64_unwind(struct kd_session *s, unsigned cpu,
			struct kd_frame *out, size_t max, size_t *n)
{
	uint64_t pc = 0, sp = 0, fp = 0, lr = 0, rec[2];
	size_t count = 0;
	int rc;

	rc = kd_arch__reg_get(s, &kd_arch_arm64, cpu, "pc", 2, &pc, NULL);
	if (rc == KD_OK)
		rc = kd_arch__reg_get(s, &kd_arch_arm64, cpu, "sp", 2, &sp,
				      NULL);
	if (rc == KD_OK)
		rc = kd_arch__reg_get(s, &kd_arch_arm64, cpu, "fp", 2, &fp,
				      NULL);
	if (rc == KD_OK)
		rc = kd_arch__reg_get(s, &kd_arch_arm64, cpu, "lr", 2, &lr,
				      NULL);
	if (rc < 0)
		return rc;
	if (max == 0) {
		*n = 0;
		return KD_OK;
	}
	/* Frame 0 returns to lr.  When fp's record already holds lr, the
	 * function saved it: the record is its own and is consumed. */
	memset(&out[0], 0, sizeof(out[0]));
	out[0].sp = sp;
	out[0].ip = pc;
	out[0].ret = lr;
	count = 1;
	if (fp && !(fp & 7) && fp >= sp &&
	    kd_read_u64(s, fp, &rec[0]) == KD_OK &&
	    kd_read_u64(s, fp + 8, &rec[1]) == KD_OK && rec[1] == lr) {
		sp = fp + 16;
		if (rec[0] <= fp)
			fp = 0;
		else
			fp = rec[0];
	}
	pc = lr;
	while (count < max && pc != 0 && !s->interrupt) {
		struct kd_frame *f = &out[count];

		memset(f, 0, sizeof(*f));
		f->sp = sp;
		f->ip = pc;
		count++;
		if (fp == 0 || (fp & 7) ||
		    kd_read_u64(s, fp, &rec[0]) != KD_OK ||
		    kd_read_u64(s, fp + 8, &rec[1]) != KD_OK)
			break;
		f->ret = rec[1];
		sp = fp + 16;
		pc = rec[1];
		/* Records live higher up the stack each time, or it loops. */
		if (rec[0] != 0 && rec[0] <= fp)
			break;
		fp = rec[0];
	}
	*n = count;
	return KD_OK;
}

/* BRK #0xF000, the breakpoint Windows plants on ARM64. */
static const uint8_t arm64_brk[] = { 0x00, 0x00, 0x3E, 0xD4 };

const struct kd_arch_ops kd_arch_arm64 = {
	.id = KD_ARCH_ARM64,
	.machine = KD_MACHINE_ARM64,
	.name = "ARM64",
	.ptr_size = 8,
	.ctx_size = KD_ARM64_CONTEXT_SIZE,
	.regs = arm64_regs,
	.nregs = KD_ARRAY_SIZE(arm64_regs),
	.read_context = arm64_read_context,
	.write_context = NULL, /* live ARM64 is issue 17 */
	.special_get = NULL,
	.cs_arch = CS_ARCH_ARM64,
	.cs_mode = CS_MODE_ARM,
	.disasm = KD_DIS_ARM64,
	.hex_cols = 8,
	.unwind = arm64_unwind,
	.print_stack = NULL,
	.print_regs = arm64_print_regs,
	.flag_states = NULL,
	.virt_to_phys = NULL,
	.bp_insn = arm64_brk,
	.bp_len = sizeof(arm64_brk),
	.step = KD_STEP_ARM64_SS,
};
