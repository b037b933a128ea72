/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the register commands: the x64 `r` layout byte-exact
 * against the documented sample, single registers, sub-registers, flags
 * by code, special registers, setters and their errors, and `~`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mem_fake.h"
#include "testsupport.h"

/* windbg-conventions §4.2 sample registers. */
static const struct {
	int reg;
	uint64_t v;
} sample[] = {
	{ KD_AMD64_RAX, 0x000000000000c301ull },
	{ KD_AMD64_RBX, 0xffffe00173eed880ull },
	{ KD_AMD64_RCX, 0x0000000000000001ull },
	{ KD_AMD64_RDX, 0x000000d800000000ull },
	{ KD_AMD64_RSI, 0xffffe00173eed8e0ull },
	{ KD_AMD64_RDI, 0xffffe00173eed8f0ull },
	{ KD_AMD64_RIP, 0xfffff803bb757020ull },
	{ KD_AMD64_RSP, 0xffffd001f01f8988ull },
	{ KD_AMD64_RBP, 0xffffe00173f0b620ull },
	{ KD_AMD64_R8, 0x000000000000003eull },
	{ KD_AMD64_R9, 0xffffe00167a4a000ull },
	{ KD_AMD64_R10, 0x000000000000001eull },
	{ KD_AMD64_R11, 0xffffd001f01f88f8ull },
	{ KD_AMD64_R12, 0 },
	{ KD_AMD64_R13, 0xffffd001f01efdc0ull },
	{ KD_AMD64_R14, 0x0000000000000001ull },
	{ KD_AMD64_R15, 0 },
	{ KD_AMD64_CS, 0x10 },
	{ KD_AMD64_SS, 0x18 },
	{ KD_AMD64_DS, 0x2b },
	{ KD_AMD64_ES, 0x2b },
	{ KD_AMD64_FS, 0x53 },
	{ KD_AMD64_GS, 0x2b },
	{ KD_AMD64_EFLAGS, 0x202 },
};

static const char sample_r[] =
	"rax=000000000000c301 rbx=ffffe00173eed880 rcx=0000000000000001\n"
	"rdx=000000d800000000 rsi=ffffe00173eed8e0 rdi=ffffe00173eed8f0\n"
	"rip=fffff803bb757020 rsp=ffffd001f01f8988 rbp=ffffe00173f0b620\n"
	" r8=000000000000003e  r9=ffffe00167a4a000 r10=000000000000001e\n"
	"r11=ffffd001f01f88f8 r12=0000000000000000 r13=ffffd001f01efdc0\n"
	"r14=0000000000000001 r15=0000000000000000\n"
	"iopl=0         nv up ei pl nz na pe nc\n"
	"cs=0010  ss=0018  ds=002b  es=002b  fs=0053  gs=002b"
	"             efl=00000202\n";

static int setup(void **state)
{
	struct fake_env *e = fake_env_new();
	size_t i;

	for (i = 0; i < KD_ARRAY_SIZE(sample); i++)
		assert_int_equal(
			kd_amd64_context_set(e->f->ctx, KD_AMD64_CONTEXT_SIZE,
					     sample[i].reg, sample[i].v),
			KD_OK);
	e->f->ks.cr0 = 0x80050033;
	e->f->ks.cr3 = 0x1aa000;
	e->f->ks.cr4 = 0x350ef8;
	e->f->ks.gdtr_base = 0xfffff80010000000ull;
	e->f->ks.gdtr_limit = 0x57;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	fake_env_free(*state);
	return 0;
}

static uint64_t ctx_get(struct fake_env *e, int reg)
{
	uint64_t v = 0;

	/* The session's copy (written back to the target before a run). */
	assert_int_equal(kd_reg_get(e->s, reg, &v), KD_OK);
	return v;
}

static void test_engine_reg__layout(void **state)
{
	struct fake_env *e = *state;
	const char *out = fake_run(e, "r");

	/* The register block is exact; the rip symbol and disassembly
	 * lines that follow come from the symbol code. */
	assert_memory_equal(out, sample_r, sizeof(sample_r) - 1);
	assert_int_equal(e->rc, KD_OK);
}

static void test_engine_reg__flags_line(void **state)
{
	struct fake_env *e = *state;
	const char *out, *line;

	fake_run(e, "r efl=246");
	out = fake_run(e, "r");
	line = strstr(out, "iopl=");
	assert_non_null(line);
	assert_memory_equal(line, "iopl=0         nv up ei pl zr na po nc\n",
			    39);
	fake_run(e, "r efl=3ed7");
	out = fake_run(e, "r");
	line = strstr(out, "iopl=");
	assert_memory_equal(line, "iopl=3         ov dn ei ng zr ac po cy\n",
			    39);
	line = strstr(out, "efl=00003ed7\n");
	assert_non_null(line);
	/* efl= starts at column 65 of its line. */
	assert_int_equal(line[-66], '\n');
}

static void test_engine_reg__single(void **state)
{
	struct fake_env *e = *state;

	assert_string_equal(fake_run(e, "r rax"), "rax=000000000000c301\n");
	assert_string_equal(fake_run(e, "r @rbx"), "rbx=ffffe00173eed880\n");
	assert_string_equal(fake_run(e, "r rax, rcx"),
			    "rax=000000000000c301 rcx=0000000000000001\n");
	assert_string_equal(fake_run(e, "r eax"), "eax=0000c301\n");
	assert_string_equal(fake_run(e, "r ax"), "ax=c301\n");
	assert_string_equal(fake_run(e, "r al"), "al=01\n");
	assert_string_equal(fake_run(e, "r ah"), "ah=c3\n");
	assert_string_equal(fake_run(e, "r r9d"), "r9d=67a4a000\n");
	assert_string_equal(fake_run(e, "r efl"), "efl=00000202\n");
	assert_string_equal(fake_run(e, "r cs"), "cs=0010\n");
	assert_string_equal(fake_run(e, "r if"), "if=1\n");
	assert_string_equal(fake_run(e, "r zf"), "zf=0\n");
	assert_string_equal(fake_run(e, "r RIP"), "rip=fffff803bb757020\n");
}

static void test_engine_reg__special(void **state)
{
	struct fake_env *e = *state;

	assert_string_equal(fake_run(e, "r cr0"), "cr0=0000000080050033\n");
	assert_string_equal(fake_run(e, "r cr3"), "cr3=00000000001aa000\n");
	assert_string_equal(fake_run(e, "r cr4"), "cr4=0000000000350ef8\n");
	assert_string_equal(fake_run(e, "r gdtr"), "gdtr=fffff80010000000\n");
	assert_string_equal(fake_run(e, "r gdtl"), "gdtl=0057\n");
	assert_string_equal(fake_run(e, "r dr7"), "dr7=0000000000000000\n");
	fake_run(e, "r cr3=0");
	assert_int_equal(e->rc, KD_ENOTSUP);
}

static void test_engine_reg__set(void **state)
{
	struct fake_env *e = *state;

	assert_string_equal(fake_run(e, "r rax=5"), "");
	assert_int_equal(e->rc, KD_OK);
	assert_int_equal(ctx_get(e, KD_AMD64_RAX), 5);
	assert_true(e->s->tgt.cpus[0].dirty);
	assert_string_equal(fake_run(e, "r rax"), "rax=0000000000000005\n");
	fake_run(e, "r @rcx = rax+1");
	assert_int_equal(e->rc, KD_OK);
	assert_int_equal(ctx_get(e, KD_AMD64_RCX), 6);
	fake_run(e, "r rdx=10, r8=0n10");
	assert_int_equal(ctx_get(e, KD_AMD64_RDX), 0x10);
	assert_int_equal(ctx_get(e, KD_AMD64_R8), 10);
	/* Sub-registers merge into the full register. */
	fake_run(e, "r rbx=1122334455667788");
	fake_run(e, "r bl=aa");
	assert_int_equal(ctx_get(e, KD_AMD64_RBX), 0x11223344556677aaull);
	fake_run(e, "r bh=bb");
	assert_int_equal(ctx_get(e, KD_AMD64_RBX), 0x112233445566bbaaull);
	fake_run(e, "r ebx=0");
	assert_int_equal(ctx_get(e, KD_AMD64_RBX), 0x1122334400000000ull);
	/* Flags by their code. */
	fake_run(e, "r zf=1");
	assert_int_equal(ctx_get(e, KD_AMD64_EFLAGS), 0x242);
	fake_run(e, "r if=0");
	assert_int_equal(ctx_get(e, KD_AMD64_EFLAGS), 0x42);
	assert_string_equal(fake_run(e, "r zf"), "zf=1\n");
	fake_run(e, "r cs=33");
	assert_int_equal(ctx_get(e, KD_AMD64_CS), 0x33);
}

static void test_engine_reg__errors(void **state)
{
	struct fake_env *e = *state;

	assert_string_equal(fake_run(e, "r foo"),
			    "Bad register error at 'foo'\n");
	assert_int_equal(e->rc, KD_ENOTFOUND);
	assert_string_equal(fake_run(e, "r al=100"),
			    "Overflow error in 'al'\n");
	assert_int_equal(e->rc, KD_EOVERFLOW);
	assert_int_equal(ctx_get(e, KD_AMD64_RAX), 0xc301);
	assert_string_equal(fake_run(e, "r zf=2"), "Overflow error in 'zf'\n");
	fake_run(e, "r rax=");
	assert_int_equal(e->rc, KD_EINVAL);
	assert_int_equal(ctx_get(e, KD_AMD64_RAX), 0xc301);
}

static void test_engine_reg__tilde(void **state)
{
	struct fake_env *e = *state;

	assert_string_equal(fake_run(e, "~0s"), "");
	assert_int_equal(e->rc, KD_OK);
	fake_run(e, "~5s");
	assert_int_equal(e->rc, KD_EINVAL);
	assert_int_equal(e->s->tgt.cpu, 0);
	fake_run(e, "~x");
	assert_int_equal(e->rc, KD_EINVAL);
}

/*
 * The real triage dump's CONTEXT (header offset 0x348): its rip is the
 * faulting address of the bug check (parameter 2, fffff8048b58334c).
 */
static void test_engine_reg__triage_context(void **state)
{
	static const char want[] =
		"rax=ffffc08be4da6240 rbx=0000000000000001 "
		"rcx=0000000000000020\n"
		"rdx=0000000000000001 rsi=ffffc08be457fcf0 "
		"rdi=ffffc08be52e7310\n"
		"rip=fffff8048b58334c rsp=ffff850429892120 "
		"rbp=fffff8048b58f598\n"
		" r8=ffff9b0003360008  r9=0000000000000044 "
		"r10=0000000000000020\n"
		"r11=0000000000000020 r12=0000000000000015 "
		"r13=fffff8048b590b01\n"
		"r14=0000000000000000 r15=0000000000000015\n"
		"iopl=0         nv up ei pl zr na po nc\n"
		"cs=0010  ss=0018  ds=002b  es=002b  fs=0053  gs=002b"
		"             efl=00050246\n";
	struct fake_env *e = *state;
	char path[512];
	uint8_t *dump;
	size_t len = 0;

	if (kdt_shared_path(path, sizeof(path), "dumps/triage_x64.dmp") != 0)
		skip();
	dump = kdt_read_file(path, &len);
	assert_non_null(dump);
	assert_true(len >= 0x348 + KD_AMD64_CONTEXT_SIZE);
	memcpy(e->f->ctx, dump + 0x348, KD_AMD64_CONTEXT_SIZE);
	free(dump);
	assert_memory_equal(fake_run(e, "r"), want, sizeof(want) - 1);
	assert_string_equal(fake_run(e, "r rip"), "rip=fffff8048b58334c\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(n) cmocka_unit_test_setup_teardown(n, setup, teardown)
		T(test_engine_reg__layout), T(test_engine_reg__flags_line),
		T(test_engine_reg__single), T(test_engine_reg__special),
		T(test_engine_reg__set),    T(test_engine_reg__errors),
		T(test_engine_reg__tilde),  T(test_engine_reg__triage_context),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
