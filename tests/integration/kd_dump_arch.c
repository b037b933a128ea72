/* SPDX-License-Identifier: MIT */
/*
 * x86, x86 PAE and ARM64 crash dumps through `kd -z`: WinDbg's register
 * layouts of those machines, native register names in `r` and
 * expressions, 32-bit / ARM64 disassembly, EBP and frame-record stack
 * walks, and `~1s` switching to the second processor's own CONTEXT.
 */
#include "kd_proc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <kd/dump.h>

#include "dumpgen.h"
#include "testsupport.h"

#define T_MS 15000

static char g_path[256];

/* Build @p arch with 2 processors, run @p cmds, return kd's output. */
static char *run_fixture(struct kdt_dumpgen *g, enum kdt_dg_arch arch,
			 uint32_t type, const char *cmds, int *status)
{
	const char *args[] = { "-z", g_path, "-c", cmds, NULL };
	char *out = NULL, *err = NULL;

	memset(g, 0, sizeof(*g));
	assert_int_equal(kdt_dumpgen_build(g, arch, 2), 0);
	snprintf(g_path, sizeof(g_path), "/tmp/kd_dump_arch_%d.dmp",
		 (int)getpid());
	assert_int_equal(kdt_dumpgen_write(g, g_path, type), KD_OK);
	*status = kp_run(args, NULL, T_MS, &out, &err);
	free(err);
	unlink(g_path);
	assert_non_null(out);
	return out;
}

static void want(const char *out, const char *text)
{
	if (!strstr(out, text)) {
		fprintf(stderr, "missing:\n%s\n--- in kd output:\n%s\n",
			text, out);
		fail();
	}
}

static void want_not(const char *out, const char *text)
{
	if (strstr(out, text)) {
		fprintf(stderr, "unexpected:\n%s\n--- in kd output:\n%s\n",
			text, out);
		fail();
	}
}

static void check_x86(enum kdt_dg_arch arch, uint32_t type)
{
	struct kdt_dumpgen g;
	char line[256], *out;
	int st;
	uint32_t eip0, eip1;

	out = run_fixture(&g, arch, type,
			  "r; u @eip L2; ub @eip+5 L1; k; kb; r eax, efl, zf; "
			  "? @eip; ? eax + 1; ? $ip; ~1s; r; r ebp; k; q",
			  &st);
	eip0 = kd_get_le32(g.ctx[0] + 0xB8);
	eip1 = kd_get_le32(g.ctx[1] + 0xB8);
	assert_int_equal(eip0, (uint32_t)g.kernbase + KDT_DG_CODE_OFF);
	assert_int_equal(eip1, eip0 + 0x10);
	/* Processor 0, from the header CONTEXT. */
	want(out, "eax=10000500 ebx=10000200 ecx=10000400 edx=10000300 "
		  "esi=10000100 edi=10000000\n"
		  "eip=80400100 esp=80603f00 ebp=80603f20 iopl=0         "
		  "nv up ei pl nz na pe nc\n"
		  "cs=0008  ss=0010  ds=0023  es=0023  fs=0030  gs=0000"
		  "             efl=00000202\n"
		  "80400100 8b4508           mov     eax,dword ptr [ebp+8]\n");
	want(out, "80400103 85c0             test    eax,eax\n");
	/* ub: the instruction before eip+5 is test eax,eax. */
	want(out, "80400103 85c0             test    eax,eax\n"
		  " # ChildEBP");
	want(out, " # ChildEBP RetAddr  \n"
		  "00 80603f20 80400200 0x80400100\n"
		  "01 80603f40 80400300 0x80400200\n"
		  "02 80603f60 00000000 0x80400300\n");
	want(out, " # ChildEBP RetAddr  Args to Child              \n"
		  "00 80603f20 80400200 a0000001 a0000002 a0000003 "
		  "0x80400100\n"
		  "01 80603f40 80400300 b0000001 b0000002 b0000003 "
		  "0x80400200\n");
	want(out, "eax=10000500 efl=00000202 zf=0\n");
	want(out, "Evaluate expression: -2143289088 = 80400100\n");
	want(out, "Evaluate expression: 268436737 = 10000501\n");
	/* Processor 1: its KPRCB CONTEXT. */
	snprintf(line, sizeof(line),
		 "eax=20000501 ebx=20000201 ecx=20000401 edx=20000301 "
		 "esi=20000101 edi=20000001\n"
		 "eip=%08x esp=80603e00 ebp=80603e20 iopl=0         "
		 "nv up ei pl nz na pe nc\n", eip1);
	want(out, line);
	want(out, "80400110 8b4508           mov     eax,dword ptr [ebp+8]\n");
	want(out, "ebp=80603e20\n");
	want(out, "02 80603f60 00000000 c0000001 c0000002 c0000003 "
		  "0x80400300\n");
	want(out, "00 80603e20 80400210 0x80400110\n"
		  "01 80603e40 80400310 0x80400210\n");
	/* No x64 registers, no 64-bit addresses. */
	want_not(out, "rax=");
	want_not(out, "rip=");
	want_not(out, "`");
	assert_int_equal(st, 0);
	free(out);
	kdt_dumpgen_free(&g);
}

static void test_x86(void **state)
{
	(void)state;
	if (!kp_kd_path())
		skip();
	check_x86(KDT_DG_X86, KD_DUMP_BITMAP_FULL);
	check_x86(KDT_DG_X86_PAE, KD_DUMP_FULL);
}

static void test_x86_refusals(void **state)
{
	struct kdt_dumpgen g;
	char *out;
	int st;

	(void)state;
	if (!kp_kd_path())
		skip();
	out = run_fixture(&g, KDT_DG_X86, KD_DUMP_FULL,
			  "r rax; r eax=1; ? @rip; q", &st);
	want(out, "Bad register error at 'rax'");
	want(out, "Register eax is read-only here");
	want(out, "Bad register error at '@rip'");
	assert_int_equal(st, 1);
	free(out);
	kdt_dumpgen_free(&g);
}

static void test_arm64(void **state)
{
	struct kdt_dumpgen g;
	char *out;
	int st;

	(void)state;
	if (!kp_kd_path())
		skip();
	out = run_fixture(&g, KDT_DG_ARM64, KD_DUMP_BITMAP_FULL,
			  "r; u @pc L4; k; r x0, fp, lr, w1, psr; ? @x0; "
			  "? @pc; ? x28 - x27; ~1s; r pc, sp, x5; k; "
			  "r rax; q",
			  &st);
	assert_int_equal(kd_get_le64(g.ctx[0] + 0x108),
			 g.kernbase + KDT_DG_CODE_OFF);
	want(out,
	     " x0=1000000000000000   x1=1000000000000100"
	     "   x2=1000000000000200   x3=1000000000000300\n"
	     " x4=1000000000000400   x5=1000000000000500"
	     "   x6=1000000000000600   x7=1000000000000700\n"
	     " x8=1000000000000800   x9=1000000000000900"
	     "  x10=1000000000000a00  x11=1000000000000b00\n");
	want(out,
	     "x28=1000000000001c00   fp=fffff80000603f40"
	     "   lr=fffff80000400140   sp=fffff80000603f00\n"
	     " pc=fffff80000400100  psr=000003c5 ---- EL1\n"
	     "fffff800`00400100 f9400020 ldr         x0,[x1]\n");
	want(out, "fffff800`00400104 b4000040 cbz         "
		  "x0,fffff800`0040010c\n"
		  "fffff800`00400108 d65f03c0 ret\n"
		  "fffff800`0040010c d43e0000 brk         #0xF000\n");
	want(out, " # Child-SP          RetAddr               Call Site\n"
		  "00 fffff800`00603f00 fffff800`00400140     "
		  "0xfffff800`00400100\n"
		  "01 fffff800`00603f00 fffff800`00400200     "
		  "0xfffff800`00400140\n"
		  "02 fffff800`00603f50 fffff800`00400300     "
		  "0xfffff800`00400200\n"
		  "03 fffff800`00603f90 00000000`00000000     "
		  "0xfffff800`00400300\n");
	want(out, "x0=1000000000000000 fp=fffff80000603f40 "
		  "lr=fffff80000400140 w1=00000100 psr=000003c5\n");
	want(out, "Evaluate expression: 1152921504606846976 = "
		  "10000000`00000000\n");
	want(out, "= fffff800`00400100\n");
	want(out, "Evaluate expression: 256 = 00000000`00000100\n");
	/* Processor 1. */
	want(out, "pc=fffff80000400110 sp=fffff80000603e00 "
		  "x5=2000000000000501\n");
	want(out, "00 fffff800`00603e00 fffff800`00400150     "
		  "0xfffff800`00400110\n");
	want(out, "Bad register error at 'rax'");
	want_not(out, "rip=");
	assert_int_equal(st, 1);
	free(out);
	kdt_dumpgen_free(&g);
}

/* x64 fixtures keep the x64 layout. */
static void test_x64_unchanged(void **state)
{
	struct kdt_dumpgen g;
	char *out;
	int st;

	(void)state;
	if (!kp_kd_path())
		skip();
	out = run_fixture(&g, KDT_DG_X64, KD_DUMP_FULL, "r; ~1s; r rip; q",
			  &st);
	want(out, "rax=1000000000000000 rbx=1000000000000300 "
		  "rcx=1000000000000100\n");
	want(out, "rip=fffff80000400010\n");
	want_not(out, "eax=");
	assert_int_equal(st, 0);
	free(out);
	kdt_dumpgen_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_x86),
		cmocka_unit_test(test_x86_refusals),
		cmocka_unit_test(test_arm64),
		cmocka_unit_test(test_x64_unchanged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
