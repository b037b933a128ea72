/* SPDX-License-Identifier: MIT */
/*
 * The architecture ops tables (engine/src/arch/{amd64,x86,arm64}.c): each
 * register offset cross-checked against kdproto's CONTEXT layouts, the
 * tables' own invariants, pc/sp round trips on a context buffer, partial
 * register stores, and capstone decoding each machine's breakpoint
 * instruction as int3 or brk.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <capstone/capstone.h>
#include <cmocka.h>

#include "arch/arch.h"

static const struct kd_arch_ops *const all_ops[] = {
	&kd_arch_amd64,
	&kd_arch_x86,
	&kd_arch_arm64,
};

static const struct kd_arch_reg *reg(const struct kd_arch_ops *a,
				     const char *name)
{
	const struct kd_arch_reg *r = kd_arch_reg_find(a, name, strlen(name),
						       0);

	assert_non_null(r);
	return r;
}

/* Identity, sizes and the lookup by machine id. */
static void test_arch_ops__identity(void **state)
{
	(void)state;
	assert_int_equal(kd_arch_amd64.machine, KD_MACHINE_AMD64);
	assert_int_equal(kd_arch_x86.machine, KD_MACHINE_I386);
	assert_int_equal(kd_arch_arm64.machine, KD_MACHINE_ARM64);
	assert_int_equal(kd_arch_amd64.ctx_size, KD_AMD64_CONTEXT_SIZE);
	assert_int_equal(kd_arch_x86.ctx_size, KD_X86_CONTEXT_SIZE);
	assert_int_equal(kd_arch_arm64.ctx_size, KD_ARM64_CONTEXT_SIZE);
	assert_int_equal(kd_arch_amd64.ptr_size, 8);
	assert_int_equal(kd_arch_x86.ptr_size, 4);
	assert_int_equal(kd_arch_arm64.ptr_size, 8);
	assert_ptr_equal(kd_arch_of_machine(KD_MACHINE_AMD64), &kd_arch_amd64);
	assert_ptr_equal(kd_arch_of_machine(KD_MACHINE_I386), &kd_arch_x86);
	assert_ptr_equal(kd_arch_of_machine(KD_MACHINE_ARM64), &kd_arch_arm64);
	assert_null(kd_arch_of_machine(KD_MACHINE_IA64));
	assert_null(kd_arch_of_machine(0));
}

/*
 * Every table: registers inside the CONTEXT, widths that fit their
 * storage, lower-case names unique among those one use sees, and one pc,
 * sp and fp.
 */
static void test_arch_ops__table_invariants(void **state)
{
	size_t k, i, j;

	(void)state;
	for (k = 0; k < KD_ARRAY_SIZE(all_ops); k++) {
		const struct kd_arch_ops *a = all_ops[k];
		unsigned npc = 0, nsp = 0, nfp = 0;

		assert_true(a->ctx_size <= KD_ARCH_CTX_MAX);
		assert_true(a->nregs > 0);
		assert_int_equal(a->id, (int)k);
		for (i = 0; i < a->nregs; i++) {
			const struct kd_arch_reg *r = &a->regs[i];
			const char *c;

			assert_true(r->size == 2 || r->size == 4 ||
				    r->size == 8);
			assert_true(r->bits >= 1 &&
				    r->shift + r->bits <= 8u * r->size);
			if (!(r->flags & KD_REGF_SPECIAL))
				assert_true(r->off + r->size <= a->ctx_size);
			for (c = r->name; *c; c++)
				assert_false(*c >= 'A' && *c <= 'Z');
			for (j = i + 1; j < a->nregs; j++)
				assert_string_not_equal(r->name,
							a->regs[j].name);
			npc += (r->flags & KD_REGF_PC) != 0;
			nsp += (r->flags & KD_REGF_SP) != 0;
			nfp += (r->flags & KD_REGF_FP) != 0;
			if (r->flags & KD_REGF_FLAGBIT)
				assert_int_equal(r->bits, 1);
		}
		assert_int_equal(npc, 1);
		assert_int_equal(nsp, 1);
		assert_int_equal(nfp, 1);
		assert_non_null(a->read_context);
		assert_non_null(a->unwind);
		assert_non_null(a->print_regs);
	}
	/* Live x86/ARM64 is issue 17: their registers cannot be written. */
	assert_non_null(kd_arch_amd64.write_context);
	assert_null(kd_arch_x86.write_context);
	assert_null(kd_arch_arm64.write_context);
}

/* x64: every register kdproto names has its offset and width. */
static void test_arch_ops__amd64_offsets(void **state)
{
	int id;

	(void)state;
	for (id = 0; id < KD_AMD64_REG_COUNT; id++) {
		const char *name = kd_amd64_reg_name(id);
		const struct kd_arch_reg *r;
		size_t off = 0, width = 0;

		assert_non_null(name);
		assert_int_equal(kd_amd64_reg_layout(id, &off, &width), KD_OK);
		r = reg(&kd_arch_amd64, name);
		assert_int_equal(r->off, off);
		assert_int_equal(r->size, width);
		assert_int_equal(r->shift, 0);
		assert_int_equal(r->bits, 8 * width);
	}
	assert_int_equal(reg(&kd_arch_amd64, "rip")->flags & KD_REGF_PC,
			 KD_REGF_PC);
	assert_int_equal(reg(&kd_arch_amd64, "ah")->off, KD_AMD64_CTX_OFF_RAX);
	assert_int_equal(reg(&kd_arch_amd64, "ah")->shift, 8);
	assert_int_equal(reg(&kd_arch_amd64, "r15d")->off,
			 KD_AMD64_CTX_OFF_R15);
	assert_int_equal(reg(&kd_arch_amd64, "zf")->off,
			 KD_AMD64_CTX_OFF_EFLAGS);
	assert_int_equal(reg(&kd_arch_amd64, "cr3")->off, KD_KSPEC_OFF_CR3);
	assert_true(reg(&kd_arch_amd64, "cr3")->flags & KD_REGF_SPECIAL);
	/* r and expressions see different sets, as before the ops. */
	assert_null(kd_arch_reg_find(&kd_arch_amd64, "zf", 2, KD_REGF_NOEXPR));
	assert_null(kd_arch_reg_find(&kd_arch_amd64, "contextflags", 12,
				     KD_REGF_NOR));
	assert_non_null(
		kd_arch_reg_find(&kd_arch_amd64, "RAX", 3, KD_REGF_NOEXPR));
}

static void test_arch_ops__x86_offsets(void **state)
{
	static const struct {
		const char *name;
		uint16_t off;
	} want[] = {
		{ "eax", KD_X86_CTX_OFF_EAX },
		{ "ebx", KD_X86_CTX_OFF_EBX },
		{ "ecx", KD_X86_CTX_OFF_ECX },
		{ "edx", KD_X86_CTX_OFF_EDX },
		{ "esi", KD_X86_CTX_OFF_ESI },
		{ "edi", KD_X86_CTX_OFF_EDI },
		{ "eip", KD_X86_CTX_OFF_EIP },
		{ "esp", KD_X86_CTX_OFF_ESP },
		{ "ebp", KD_X86_CTX_OFF_EBP },
		{ "efl", KD_X86_CTX_OFF_EFLAGS },
		{ "cs", KD_X86_CTX_OFF_CS },
		{ "ss", KD_X86_CTX_OFF_SS },
		{ "ds", KD_X86_CTX_OFF_DS },
		{ "es", KD_X86_CTX_OFF_ES },
		{ "fs", KD_X86_CTX_OFF_FS },
		{ "gs", KD_X86_CTX_OFF_GS },
		{ "dr0", KD_X86_CTX_OFF_DR0 },
		{ "dr7", KD_X86_CTX_OFF_DR7 },
		{ "ah", KD_X86_CTX_OFF_EAX },
		{ "iopl", KD_X86_CTX_OFF_EFLAGS },
	};
	size_t i;

	(void)state;
	for (i = 0; i < KD_ARRAY_SIZE(want); i++)
		assert_int_equal(reg(&kd_arch_x86, want[i].name)->off,
				 want[i].off);
	assert_int_equal(reg(&kd_arch_x86, "iopl")->shift, 12);
	assert_int_equal(reg(&kd_arch_x86, "iopl")->bits, 2);
	assert_null(kd_arch_reg_find(&kd_arch_x86, "rax", 3, 0));
}

static void test_arch_ops__arm64_offsets(void **state)
{
	char name[8];
	unsigned n;

	(void)state;
	for (n = 0; n <= 28; n++) {
		snprintf(name, sizeof(name), "x%u", n);
		assert_int_equal(reg(&kd_arch_arm64, name)->off,
				 KD_ARM64_CTX_OFF_X0 + 8 * n);
		assert_int_equal(reg(&kd_arch_arm64, name)->bits, 64);
		snprintf(name, sizeof(name), "w%u", n);
		assert_int_equal(reg(&kd_arch_arm64, name)->off,
				 KD_ARM64_CTX_OFF_X0 + 8 * n);
		assert_int_equal(reg(&kd_arch_arm64, name)->bits, 32);
	}
	assert_int_equal(reg(&kd_arch_arm64, "fp")->off, KD_ARM64_CTX_OFF_FP);
	assert_int_equal(reg(&kd_arch_arm64, "x29")->off, KD_ARM64_CTX_OFF_FP);
	assert_int_equal(reg(&kd_arch_arm64, "lr")->off, KD_ARM64_CTX_OFF_LR);
	assert_int_equal(reg(&kd_arch_arm64, "sp")->off, KD_ARM64_CTX_OFF_SP);
	assert_int_equal(reg(&kd_arch_arm64, "pc")->off, KD_ARM64_CTX_OFF_PC);
	assert_int_equal(reg(&kd_arch_arm64, "cpsr")->off,
			 KD_ARM64_CTX_OFF_CPSR);
	assert_int_equal(reg(&kd_arch_arm64, "zf")->shift, 30);
	/* The layout's fields add up to the size dumps carry. */
	assert_int_equal(KD_ARM64_CTX_OFF_WVR + 2 * 8, KD_ARM64_CONTEXT_SIZE);
	assert_null(kd_arch_reg_find(&kd_arch_arm64, "x31", 3, 0));
	assert_null(kd_arch_reg_find(&kd_arch_arm64, "x03", 3, 0));
}

/* pc and sp written through the ops land where kdproto says, alone. */
static void test_arch_ops__pc_sp_round_trip(void **state)
{
	static const struct {
		const struct kd_arch_ops *a;
		size_t pc_off, sp_off, width;
	} m[] = {
		{ &kd_arch_amd64, KD_AMD64_CTX_OFF_RIP, KD_AMD64_CTX_OFF_RSP,
		  8 },
		{ &kd_arch_x86, KD_X86_CTX_OFF_EIP, KD_X86_CTX_OFF_ESP, 4 },
		{ &kd_arch_arm64, KD_ARM64_CTX_OFF_PC, KD_ARM64_CTX_OFF_SP, 8 },
	};
	uint8_t ctx[KD_ARCH_CTX_MAX], before[KD_ARCH_CTX_MAX];
	size_t k, i;

	(void)state;
	for (k = 0; k < KD_ARRAY_SIZE(m); k++) {
		const struct kd_arch_ops *a = m[k].a;
		uint64_t pc = m[k].width == 8 ? 0xfffff80012345678ull :
						0x80401234ull;
		uint64_t sp = m[k].width == 8 ? 0xfffff88000aabbc0ull :
						0x8054ff00ull;

		for (i = 0; i < sizeof(ctx); i++)
			ctx[i] = (uint8_t)(i * 7 + k);
		memcpy(before, ctx, sizeof(ctx));
		kd_arch_set_pc(a, ctx, pc);
		kd_arch_set_sp(a, ctx, sp);
		assert_true(kd_arch_pc(a, ctx) == pc);
		assert_true(kd_arch_sp(a, ctx) == sp);
		if (m[k].width == 8) {
			assert_true(kd_get_le64(ctx + m[k].pc_off) == pc);
			assert_true(kd_get_le64(ctx + m[k].sp_off) == sp);
		} else {
			assert_true(kd_get_le32(ctx + m[k].pc_off) == pc);
			assert_true(kd_get_le32(ctx + m[k].sp_off) == sp);
		}
		/* Nothing else moved. */
		for (i = 0; i < sizeof(ctx); i++) {
			if ((i >= m[k].pc_off &&
			     i < m[k].pc_off + m[k].width) ||
			    (i >= m[k].sp_off && i < m[k].sp_off + m[k].width))
				continue;
			assert_int_equal(ctx[i], before[i]);
		}
	}
}

/* Parts of a register keep the rest; values too wide are refused. */
static void test_arch_ops__partial_store(void **state)
{
	uint8_t ctx[KD_ARCH_CTX_MAX];
	const struct kd_arch_reg *ah = reg(&kd_arch_amd64, "ah");
	const struct kd_arch_reg *rax = reg(&kd_arch_amd64, "rax");
	const struct kd_arch_reg *zf = reg(&kd_arch_x86, "zf");
	const struct kd_arch_reg *w3 = reg(&kd_arch_arm64, "w3");
	const struct kd_arch_reg *x3 = reg(&kd_arch_arm64, "x3");
	uint64_t v = 0;

	(void)state;
	memset(ctx, 0, sizeof(ctx));
	assert_int_equal(kd_arch_ctx_store(ctx, rax, 0x1122334455667788ull),
			 KD_OK);
	assert_int_equal(kd_arch_ctx_store(ctx, ah, 0xab), KD_OK);
	assert_true(kd_arch_ctx_load(ctx, rax) == 0x112233445566ab88ull);
	assert_int_equal(kd_arch_ctx_store(ctx, ah, 0x100), KD_EOVERFLOW);
	assert_true(kd_arch_ctx_load(ctx, rax) == 0x112233445566ab88ull);
	assert_int_equal(kd_amd64_context_get(ctx, KD_AMD64_CONTEXT_SIZE,
					      KD_AMD64_RAX, &v),
			 KD_OK);
	assert_true(v == 0x112233445566ab88ull);

	memset(ctx, 0, sizeof(ctx));
	kd_put_le32(ctx + KD_X86_CTX_OFF_EFLAGS, 0x202);
	assert_int_equal(kd_arch_ctx_store(ctx, zf, 1), KD_OK);
	assert_int_equal(kd_get_le32(ctx + KD_X86_CTX_OFF_EFLAGS), 0x242);
	assert_int_equal(kd_arch_ctx_store(ctx, zf, 2), KD_EOVERFLOW);

	kd_put_le64(ctx + KD_ARM64_CTX_OFF_X0 + 24, 0xffffffff00000000ull);
	assert_int_equal(kd_arch_ctx_store(ctx, w3, 0x12345678), KD_OK);
	assert_true(kd_arch_ctx_load(ctx, x3) == 0xffffffff12345678ull);
}

/* The flags line of `r` on x64 and x86 (one function, both tables). */
static void test_arch_ops__flag_states(void **state)
{
	char out[24];

	(void)state;
	assert_ptr_equal(kd_arch_amd64.flag_states, kd_arch_x86.flag_states);
	kd_arch_amd64.flag_states(0x246, out);
	assert_string_equal(out, "nv up ei pl zr na po nc");
	kd_arch_amd64.flag_states(0xcd5, out);
	assert_string_equal(out, "ov dn di ng zr ac po cy");
	assert_null(kd_arch_arm64.flag_states);
}

/* capstone, in each machine's own mode, reads its breakpoint back. */
static void test_arch_ops__bp_insn_decodes(void **state)
{
	static const char *const want[] = { "int3", "int3", "brk" };
	size_t k;

	(void)state;
	for (k = 0; k < KD_ARRAY_SIZE(all_ops); k++) {
		const struct kd_arch_ops *a = all_ops[k];
		cs_insn *insn = NULL;
		size_t n;
		csh h;

		assert_non_null(a->bp_insn);
		assert_int_equal(
			cs_open((cs_arch)a->cs_arch, (cs_mode)a->cs_mode, &h),
			CS_ERR_OK);
		n = cs_disasm(h, a->bp_insn, a->bp_len, 0x1000, 1, &insn);
		assert_int_equal(n, 1);
		assert_string_equal(insn[0].mnemonic, want[k]);
		assert_int_equal(insn[0].size, a->bp_len);
		if (a == &kd_arch_arm64)
			assert_string_equal(insn[0].op_str, "#0xf000");
		cs_free(insn, n);
		cs_close(&h);
	}
	assert_int_equal(kd_arch_amd64.step, KD_STEP_TRAP_FLAG);
	assert_int_equal(kd_arch_x86.step, KD_STEP_TRAP_FLAG);
	assert_int_equal(kd_arch_arm64.step, KD_STEP_ARM64_SS);
}

/* A session without a target, or with one that gives no native
 * context, is x64. */
static void test_arch_ops__session_default(void **state)
{
	struct kd_session *s = NULL;

	(void)state;
	assert_int_equal(kd_session_new(&s, NULL), KD_OK);
	assert_ptr_equal(kd_arch(s), &kd_arch_amd64);
	s->tgt.machine = KD_MACHINE_ARM64;
	assert_ptr_equal(kd_arch(s), &kd_arch_amd64);
	assert_false(kd_arch_native(s));
	kd_session_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arch_ops__identity),
		cmocka_unit_test(test_arch_ops__table_invariants),
		cmocka_unit_test(test_arch_ops__amd64_offsets),
		cmocka_unit_test(test_arch_ops__x86_offsets),
		cmocka_unit_test(test_arch_ops__arm64_offsets),
		cmocka_unit_test(test_arch_ops__pc_sp_round_trip),
		cmocka_unit_test(test_arch_ops__partial_store),
		cmocka_unit_test(test_arch_ops__flag_states),
		cmocka_unit_test(test_arch_ops__bp_insn_decodes),
		cmocka_unit_test(test_arch_ops__session_default),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
