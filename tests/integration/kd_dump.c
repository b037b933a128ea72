/* SPDX-License-Identifier: MIT */
/*
 * `kd -z` as a real process: the real triage sample (banners, vertarget,
 * r, .bugcheck, !analyze -v, k, lm, ~N), the truncated full-dump header,
 * execution commands refused, a missing file (exit 3), and the dumpgen
 * x86 / PAE / ARM64 fixtures read through kd.
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

static void test_triage(void **state)
{
	char path[512];
	const char *args[] = { "-z", path, "-c",
			       "vertarget; r; .bugcheck; !analyze -v; k; lm; "
			       "~3s; r rip; q",
			       NULL };
	char *out = NULL, *err = NULL;

	(void)state;
	kdt_require_shared(path, sizeof(path), "dumps/triage_x64.dmp");
	if (!kp_kd_path())
		exit(77);
	assert_int_equal(kp_run(args, NULL, T_MS, &out, &err), 0);
	assert_non_null(strstr(out, "Loading Dump File ["));
	assert_non_null(strstr(out, "Mini Kernel Dump File: Only registers "
				    "and stack trace are available"));
	assert_non_null(strstr(out, "Windows 10 Kernel Version 19041 MP "
				    "(16 procs) Free x64"));
	assert_non_null(strstr(out, "Built by: 19041.1.amd64fre."));
	assert_non_null(strstr(out, "Kernel base = 0xfffff804`7ba00000 "
				    "PsLoadedModuleList = "
				    "0xfffff804`7c62a390"));
	assert_non_null(strstr(out, "BugCheck 1000007E, {ffffffffc0000005, "
				    "fffff8048b58334c,"));
	assert_non_null(strstr(out, "rip=fffff8048b58334c "
				    "rsp=ffff850429892120"));
	assert_non_null(strstr(out, "Bugcheck code 1000007E\nArguments "
				    "ffffffff`c0000005 fffff804`8b58334c"));
	assert_non_null(strstr(out, "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED"));
	assert_non_null(strstr(out, "Arg2: fffff8048b58334c, The address "
				    "that the exception occurred at"));
	assert_non_null(strstr(out, "MODULE_NAME: amdppm"));
	assert_non_null(strstr(out, "IMAGE_NAME:  amdppm.sys"));
	assert_non_null(strstr(out, "FAILURE_BUCKET_ID:  "
				    "AV_amdppm!unknown_function"));
	assert_non_null(strstr(out, "amdppm+0x334c"));
	assert_non_null(strstr(out, "fffff804`7ba00000 fffff804`7ca46000   "
				    "nt "));
	/* Processor 3's context comes from its KPRCB. */
	assert_non_null(strstr(out, "rip=fffff8047bd8d14d"));
	free(out);
	free(err);
}

static void test_truncated_header(void **state)
{
	char path[512];
	const char *args[] = { "-z", path, "-c", ".bugcheck; vertarget; q",
			       NULL };
	char *out = NULL, *err = NULL;

	(void)state;
	kdt_require_shared(path, sizeof(path), "dumps/full_x64_header_16k.bin");
	if (!kp_kd_path())
		exit(77);
	/* Reads of the missing body fail, so the status may be 0 or 1. */
	assert_true(kp_run(args, NULL, T_MS, &out, &err) <= 1);
	assert_non_null(strstr(out, "Kernel Complete Dump File"));
	assert_non_null(strstr(out, "WARNING: the file is truncated"));
	assert_non_null(strstr(out, "Kernel Version 19045"));
	assert_non_null(strstr(out, "Bugcheck code 5454414D"));
	free(out);
	free(err);
}

static void test_execution_refused(void **state)
{
	char path[512];
	const char *args[] = { "-z", path, "-c",
			       "g; p; t; bp nt; .reboot; .crash; r rax=1; q",
			       NULL };
	char *out = NULL, *err = NULL;

	(void)state;
	kdt_require_shared(path, sizeof(path), "dumps/triage_x64.dmp");
	if (!kp_kd_path())
		exit(77);
	assert_int_equal(kp_run(args, NULL, T_MS, &out, &err), 1);
	assert_non_null(strstr(out, "Cannot resume a crash dump target"));
	assert_non_null(strstr(out, "Cannot step a crash dump target"));
	assert_non_null(strstr(out, "Cannot set breakpoints in a crash dump "
				    "target"));
	assert_non_null(strstr(out, "Cannot reboot a crash dump target"));
	assert_non_null(strstr(out, "Cannot crash a crash dump target"));
	free(out);
	free(err);
}

static void test_missing_file(void **state)
{
	const char *args[] = { "-z", "/nonexistent/memory.dmp", "-c", "q",
			       NULL };
	char *out = NULL, *err = NULL;

	(void)state;
	if (!kp_kd_path())
		exit(77);
	assert_int_equal(kp_run(args, NULL, T_MS, &out, &err), 3);
	assert_non_null(strstr(out, "Could not open dump file"));
	free(out);
	free(err);
}

/* dumpgen fixture through kd: the tag of a mapped page via db. */
static void check_kd_fixture(enum kdt_dg_arch arch, const char *machine)
{
	struct kdt_dumpgen g;
	const struct kdt_dg_map *mp;
	char path[256], cmd[128], want[64];
	const char *args[] = { "-z", path, "-c", cmd, NULL };
	char *out = NULL, *err = NULL;

	memset(&g, 0, sizeof(g));
	assert_int_equal(kdt_dumpgen_build(&g, arch, 2), 0);
	snprintf(path, sizeof(path), "/tmp/kd_dump_it_%d.dmp", (int)getpid());
	assert_int_equal(kdt_dumpgen_write(&g, path, KD_DUMP_BITMAP_FULL),
			 KD_OK);
	mp = kdt_dumpgen_find(&g, KDT_DG_PAGE);
	assert_non_null(mp);
	snprintf(cmd, sizeof(cmd), "da %llx; ~1s; r %s; q",
		 (unsigned long long)mp->va,
		 arch == KDT_DG_X64   ? "rip" :
		 arch == KDT_DG_ARM64 ? "pc" :
					"eip");
	assert_int_equal(kp_run(args, NULL, T_MS, &out, &err), 0);
	snprintf(want, sizeof(want), "(%u procs) Free %s", g.ncpus, machine);
	assert_non_null(strstr(out, want));
	snprintf(want, sizeof(want), "\"%s\"", mp->tag);
	assert_non_null(strstr(out, want));
	if (arch == KDT_DG_X64) {
		/* Processor 1's rip from its KPRCB CONTEXT. */
		snprintf(want, sizeof(want), "rip=%016llx",
			 (unsigned long long)kd_get_le64(g.ctx[1] + 0xF8));
		assert_non_null(strstr(out, want));
	} else if (arch == KDT_DG_ARM64) {
		snprintf(want, sizeof(want), "pc=%016llx",
			 (unsigned long long)kd_get_le64(g.ctx[1] + 0x108));
		assert_non_null(strstr(out, want));
	} else {
		snprintf(want, sizeof(want), "eip=%08x",
			 (unsigned)kd_get_le32(g.ctx[1] + 0xB8));
		assert_non_null(strstr(out, want));
	}
	free(out);
	free(err);
	unlink(path);
	kdt_dumpgen_free(&g);
}

static void test_fixtures(void **state)
{
	(void)state;
	if (!kp_kd_path())
		exit(77);
	check_kd_fixture(KDT_DG_X64, "x64");
	check_kd_fixture(KDT_DG_X86, "x86");
	check_kd_fixture(KDT_DG_X86_PAE, "x86");
	check_kd_fixture(KDT_DG_ARM64, "ARM64");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_triage),
		cmocka_unit_test(test_truncated_header),
		cmocka_unit_test(test_execution_refused),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_fixtures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
