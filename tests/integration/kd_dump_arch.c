/* SPDX-License-Identifier: MIT */
/*
 * x86, x86 PAE and ARM64 crash dumps through `kd -z`: WinDbg's register
 * layouts of those machines, native register names in `r` and
 * expressions, 32-bit / ARM64 disassembly, EBP and frame-record stack
 * walks, `~1s` switching to the second processor's own CONTEXT, and the
 * 32-bit module list with a PE32 image's exports (lm, ln, u, x, d*).
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
		fprintf(stderr, "missing:\n%s\n--- in kd output:\n%s\n", text,
			out);
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

/*
 * The 32-bit module list: nt (no PE header in the fixture) and the PE32
 * driver with two exports; every address in 8 hex digits.
 */
static void check_x86_modules(const char *out, enum kdt_dg_arch arch)
{
	want(out, "start    end        module name\n"
		  "80400000 80404000   nt         (no symbols)           ");
	want(out, arch == KDT_DG_X86_PAE ? "ntkrnlpa.exe\n" : "ntoskrnl.exe\n");
	want(out, "80500000 80503000   dgdrv      (export symbols)       "
		  "dgdrv.sys\n");
	want(out, "    Image path: \\SystemRoot\\system32\\drivers\\"
		  "dgdrv.sys\n"
		  "    Image name: dgdrv.sys\n"
		  "    Timestamp:        Sat Nov 20 10:23:46 2010 (4CE7A1B2)\n"
		  "    CheckSum:         0000C0DE\n"
		  "    ImageSize:        00003000\n");
	want(out, "(80501000)   dgdrv!DgDispatch+0x3   |  (80501010)   "
		  "dgdrv!DgReset\n");
	want(out, "(80501010)   dgdrv!DgReset\nExact matches:\n");
	want(out, "dgdrv!DgDispatch:\n"
		  "80501000 55               push    ebp\n"
		  "80501001 8bec             mov     ebp,esp\n"
		  "80501003 8b4508           mov     eax,dword ptr [ebp+8]\n"
		  "80501006 5d               pop     ebp\n"
		  "80501007 c20400           ret     4\n");
	want(out, "80501000 dgdrv!DgDispatch (<no parameter info>)\n"
		  "80501010 dgdrv!DgReset (<no parameter info>)\n");
	want(out, "Evaluate expression: -2142236656 = 80501010\n");
	/* The PE32 header words: 'MZ' 0x90, e_cp 3, e_lfanew 0x80. */
	want(out, "80500000  00905a4d 00000003 00000000 00000000\n"
		  "80500010  00000000 00000000\n");
	want(out, "80500000  00000003`00905a4d\n");
	want(out, "80603f20  80603f40\n80603f24  80400200 nt+0x200\n");
	/* !analyze at the pointer width. */
	want(out, "Arg1: c0000005, The exception code that was not handled\n"
		  "Arg2: 80400010, The address that the exception occurred "
		  "at\n");
	want(out, "FAULTING_IP: \nnt+0x10\n80400010\n");
	want(out, "STACK_TEXT:  \n80603e20 80400210 : nt+0x110\n");
	want(out, "MODULE_NAME: nt\n");
}

static void check_x86(enum kdt_dg_arch arch, uint32_t type)
{
	struct kdt_dumpgen g;
	char line[256], *out;
	int st;
	uint32_t eip0, eip1;

	out = run_fixture(&g, arch, type,
			  "r; u @eip L2; ub @eip+5 L1; k; kb; r eax, efl, zf; "
			  "? @eip; ? eax + 1; ? $ip; r cr0, cr2, cr3, cr4; "
			  "? @cr3; ~1s; r; r ebp; k; r cr2; "
			  "lm; lmv m dgdrv; ln 80501003; ln dgdrv!DgReset; "
			  "u dgdrv!DgDispatch L5; x dgdrv!*; ? dgdrv!DgReset; "
			  "dd 80500000 L6; dq 80500000 L1; dps 80603f20 L2; "
			  "!analyze -v; q",
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
		  "nt+0x100:\n"
		  "80400100 8b4508           mov     eax,dword ptr [ebp+8]\n");
	want(out, "80400103 85c0             test    eax,eax\n");
	/* ub: the instruction before eip+5 is test eax,eax. */
	want(out, "80400103 85c0             test    eax,eax\n"
		  " # ChildEBP");
	want(out, " # ChildEBP RetAddr  \n"
		  "00 80603f20 80400200 nt+0x100\n"
		  "01 80603f40 80400300 nt+0x200\n"
		  "02 80603f60 00000000 nt+0x300\n");
	want(out, " # ChildEBP RetAddr  Args to Child              \n"
		  "00 80603f20 80400200 a0000001 a0000002 a0000003 "
		  "nt+0x100\n"
		  "01 80603f40 80400300 b0000001 b0000002 b0000003 "
		  "nt+0x200\n");
	want(out, "eax=10000500 efl=00000202 zf=0\n");
	want(out, "Evaluate expression: -2143289088 = 80400100\n");
	want(out, "Evaluate expression: 268436737 = 10000501\n");
	/* Processor 1: its KPRCB CONTEXT. */
	snprintf(line, sizeof(line),
		 "eax=20000501 ebx=20000201 ecx=20000401 edx=20000301 "
		 "esi=20000101 edi=20000001\n"
		 "eip=%08x esp=80603e00 ebp=80603e20 iopl=0         "
		 "nv up ei pl nz na pe nc\n",
		 eip1);
	want(out, line);
	want(out, "80400110 8b4508           mov     eax,dword ptr [ebp+8]\n");
	want(out, "ebp=80603e20\n");
	want(out, "02 80603f60 00000000 c0000001 c0000002 c0000003 "
		  "nt+0x300\n");
	want(out, "00 80603e20 80400210 nt+0x110\n"
		  "01 80603e40 80400310 nt+0x210\n");
	check_x86_modules(out, arch);
	/* Control registers from the KPRCB's special registers. */
	snprintf(line, sizeof(line),
		 "cr0=8001003b cr2=c0de0000 cr3=%08x cr4=%08x\n",
		 (unsigned)g.dtb, arch == KDT_DG_X86_PAE ? 0x6f9u : 0x6d9u);
	want(out, line);
	snprintf(line, sizeof(line), "Evaluate expression: %u = %08x\n",
		 (unsigned)g.dtb, (unsigned)g.dtb);
	want(out, line);
	want(out, "cr2=c0de0001\n");
	/* No x64 registers, no 64-bit addresses. */
	want_not(out, "rax=");
	want_not(out, "rip=");
	want_not(out, "00000000`");
	want_not(out, "ffffffff`");
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
	want(out, " x0=1000000000000000   x1=1000000000000100"
		  "   x2=1000000000000200   x3=1000000000000300\n"
		  " x4=1000000000000400   x5=1000000000000500"
		  "   x6=1000000000000600   x7=1000000000000700\n"
		  " x8=1000000000000800   x9=1000000000000900"
		  "  x10=1000000000000a00  x11=1000000000000b00\n");
	want(out, "x28=1000000000001c00   fp=fffff80000603f40"
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
