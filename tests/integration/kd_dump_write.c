/* SPDX-License-Identifier: MIT */
/*
 * Dumps written from a live target, all real processes: kd attached to
 * kdsim (96 MiB, 2 processors, serial unix socket) writes `.dump /f` and
 * `.dump /k`; kd -z on each file, and kd attached to `kdsim --dump` of the
 * full dump over serial and KDNET, print the same sampled reads and
 * registers as the live session.  Also `kdsim --dump` of the real triage
 * sample, and the 32-bit and ARM64 dumpgen fixtures through kd -z.
 */
#include "kdsim_client.h"
#include "kd_proc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>

#include <cmocka.h>

#include <kd/dump.h>

#include "dumpgen.h"
#include "testsupport.h"

#define T_MS 60000 /* generous: .dump /f under ASan on a loaded 2-core VM */

/* The sampled reads: kernel code, pool, page tables (virtual and
 * physical), registers of both processors, stack, modules, a PTE walk. */
static const char *const reads[] = {
	"r",
	"~1s; r; ~0s",
	"db fffff800`00400000 L80",
	"u nt!KeWorkerStep L4",
	"dq fffff800`10000000 L10",
	"dd fffff800`10fff000 L20",
	"dq fffff800`00100000 L8",
	"!dq 100f80 L4",
	"!db 5000000 L40",
	"!db 400000 L20",
	"!pte fffff800`10000000",
	"k",
	"lm",
};
#define NREADS (sizeof(reads) / sizeof(reads[0]))

static char dir[128], full_path[192], kern_path[192];
static char *live_out[NREADS];
static bool have_dumps;

static char *cmd(struct kp *k, const char *c)
{
	char *out = kp_cmd(k, c, T_MS);

	if (!out)
		fail_msg("kd did not answer '%s'; stdout:\n%s\nstderr:\n%s", c,
			 k->out.data ? k->out.data : "",
			 k->err.data ? k->err.data : "");
	return out;
}

static void wait_prompt(struct kp *k)
{
	char *b = kp_wait_prompt(k, T_MS);

	if (!b)
		fail_msg("no prompt; stdout:\n%s\nstderr:\n%s",
			 k->out.data ? k->out.data : "",
			 k->err.data ? k->err.data : "");
	free(b);
}

/* @p status: 0, or 1 when a command failed on purpose (docs/kd.md). */
static void finish(struct kp *k, int status)
{
	kp_send(k, "q\n");
	assert_int_equal(kp_finish(k, T_MS), status);
	kp_free(k);
}

/* Every sampled read in session @p k must print what the live one did. */
static void compare_reads(struct kp *k, const char *what)
{
	size_t i;

	for (i = 0; i < NREADS; i++) {
		char *out = cmd(k, reads[i]);

		if (strcmp(out, live_out[i]) != 0)
			fail_msg("%s: '%s' differs\n--- live:\n%s--- %s:\n%s",
				 what, reads[i], live_out[i], what, out);
		free(out);
	}
}

static off_t file_size(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 ? st.st_size : -1;
}

static void test_write_live(void **state)
{
	char sock[160], k[200];
	const char *simargs[] = { "-k",		k,	  "--mem-mib",
				  "96",		"--cpus", "2",
				  "--print-ms", "0",	  NULL };
	struct kc sim;
	struct kp kd;
	char *out, line[256];
	const char *kdargs[] = { "-k", sim.host_connstr, "-bonc", NULL };
	off_t fsize;
	size_t i;

	(void)state;
	snprintf(sock, sizeof(sock), "%s/live.sock", dir);
	snprintf(k, sizeof(k), "com:pipe,port=%s", sock);
	kc_spawn(&sim, simargs);
	kp_start(&kd, kdargs);
	wait_prompt(&kd);

	snprintf(line, sizeof(line), ".dump /f %s", full_path);
	out = cmd(&kd, line);
	if (!strstr(out, "Dump successfully written"))
		fail_msg(".dump /f printed:\n%s", out);
	snprintf(line, sizeof(line), "Creating %s - Full kernel dump\n",
		 full_path);
	assert_non_null(strstr(out, line));
	assert_non_null(strstr(out, "Percent written 50\n"));
	free(out);
	/* 96 MiB minus page 0 and the 0xA0000-0xFFFFF hole, plus the
	 * 0x2000-byte header (KDBG MmPhysicalMemoryBlock of kdsim). */
	fsize = file_size(full_path);
	assert_int_equal(fsize, 0x2000 + (96ll * 256 - 0x61) * 4096);

	snprintf(line, sizeof(line), ".dump /k %s", kern_path);
	out = cmd(&kd, line);
	if (!strstr(out, "Dump successfully written"))
		fail_msg(".dump /k printed:\n%s", out);
	assert_non_null(strstr(out, " - Kernel summary dump\n"));
	free(out);
	assert_true(file_size(kern_path) > 0x2000);
	assert_true(file_size(kern_path) < fsize);

	/* WinDbg's rule: an existing file needs /o. */
	snprintf(line, sizeof(line), ".dump /f %s", full_path);
	out = cmd(&kd, line);
	snprintf(line, sizeof(line),
		 "Dump file %s already exists, use /o "
		 "to overwrite it",
		 full_path);
	if (!strstr(out, line))
		fail_msg(".dump on an existing file printed:\n%s", out);
	assert_null(strstr(out, "Creating"));
	free(out);
	assert_int_equal(file_size(full_path), fsize);
	snprintf(line, sizeof(line), ".dump /o /k %s", kern_path);
	out = cmd(&kd, line);
	assert_non_null(strstr(out, "Dump successfully written"));
	free(out);

	for (i = 0; i < NREADS; i++)
		live_out[i] = cmd(&kd, reads[i]);
	/* The samples are real data, not failures. */
	assert_non_null(strstr(live_out[0], "rip=fffff800004"));
	assert_non_null(strstr(live_out[1], "rip=fffff800004"));
	assert_string_not_equal(live_out[0], live_out[1]);
	assert_non_null(strstr(live_out[2], "fffff800`00400000  4d 5a 90 00"));
	assert_non_null(strstr(live_out[7], "#  100f80 00000000`00101003"));
	assert_null(strstr(live_out[4], "????"));
	assert_null(strstr(live_out[5], "????"));
	assert_null(strstr(live_out[8], "????"));
	assert_non_null(strstr(live_out[12], "ntoskrnl.exe"));
	finish(&kd, 1); /* the refused .dump */
	kc_stop(&sim);
	unlink(sock);
	have_dumps = true;
}

/* kd -z on a written dump: the header, then the same reads. */
static void check_kd_z(const char *path, const char *kind)
{
	const char *args[] = { "-z", path, NULL };
	struct kp kd;
	char *out;

	if (!have_dumps)
		skip();
	kp_start(&kd, args);
	out = kp_wait_prompt(&kd, T_MS);
	assert_non_null(out);
	if (!strstr(out, kind))
		fail_msg("kd -z %s printed:\n%s\nexpected: %s", path, out,
			 kind);
	assert_non_null(strstr(out, "Windows 10 Kernel Version 19041 MP "
				    "(2 procs) Free x64"));
	assert_non_null(strstr(out, "Kernel base = 0xfffff800`00400000"));
	/* A live target's dump carries LIVE_SYSTEM_DUMP. */
	assert_non_null(strstr(out, "BugCheck 161, {"));
	free(out);
	compare_reads(&kd, path);
	finish(&kd, 0);
}

static void test_kd_z_full(void **state)
{
	(void)state;
	check_kd_z(full_path, "Kernel Complete Dump File: Full address space "
			      "is available");
}

static void test_kd_z_kernel(void **state)
{
	(void)state;
	check_kd_z(kern_path, "Kernel Bitmap Dump File: Kernel address space "
			      "is available");
}

/* kd attached to `kdsim --dump` of the full dump. */
static void check_served(bool kdnet)
{
	char k[200], host[sizeof(((struct kc *)0)->host_connstr)];
	const char *simargs[] = { "--dump", full_path, "-k", k, NULL };
	const char *kdargs[] = { "-k", host, "-bonc", NULL };
	int port = 40000 + (int)(getpid() % 20000);
	struct kc sim;
	struct kp kd;
	char *out, *banner;

	if (!have_dumps)
		skip();
	if (kdnet) {
		snprintf(k, sizeof(k),
			 "net:port=%d,key=1.2.3.4,hostip="
			 "127.0.0.1,offer_ms=200",
			 port);
		snprintf(host, sizeof(host), "net:port=%d,key=1.2.3.4", port);
	} else {
		snprintf(k, sizeof(k), "com:pipe,port=%s/served.sock", dir);
	}
	kc_spawn(&sim, simargs);
	if (!kdnet)
		snprintf(host, sizeof(host), "%s", sim.host_connstr);
	kp_start(&kd, kdargs);
	banner = kp_wait_prompt(&kd, T_MS);
	assert_non_null(banner);
	assert_non_null(strstr(banner, "Windows 10 Kernel Version 19041 MP "
				       "(2 procs) Free x64"));
	assert_non_null(strstr(banner, "Kernel base = 0xfffff800`00400000 "
				       "PsLoadedModuleList = 0xfffff800`"));
	assert_null(strstr(banner, "WARNING"));
	free(banner);
	compare_reads(&kd, kdnet ? "kdsim --dump (KDNET)" : "kdsim --dump");

	/* A dump cannot run: g reports the same stop again. */
	out = cmd(&kd, "g");
	assert_non_null(strstr(out, "Break instruction exception - code "
				    "80000003 (first chance)"));
	free(out);
	out = cmd(&kd, "r");
	assert_string_equal(out, live_out[0]);
	free(out);
	/* Writes are refused, memory stays as it was. */
	out = cmd(&kd, "eb fffff800`00400000 41");
	assert_non_null(strstr(out, "Memory access error"));
	free(out);
	out = cmd(&kd, "r rax=1234");
	free(out);
	out = cmd(&kd, "g");
	assert_non_null(strstr(out, "SetContext failed"));
	free(out);
	out = cmd(&kd, "db fffff800`00400000 L80");
	assert_string_equal(out, live_out[2]);
	free(out);
	finish(&kd, 1); /* the refused eb and g */
	kc_stop(&sim);
	if (!kdnet) {
		char sock[200];

		snprintf(sock, sizeof(sock), "%s/served.sock", dir);
		unlink(sock);
	}
}

static void test_served_serial(void **state)
{
	(void)state;
	check_served(false);
}

static void test_served_kdnet(void **state)
{
	(void)state;
	check_served(true);
}

/* The real triage sample served by kdsim: its facts through kd -k. */
static void test_served_triage(void **state)
{
	char path[512], k[200];
	const char *simargs[] = { "--dump", path, "-k", k, NULL };
	struct kc sim;
	struct kp kd;
	const char *kdargs[] = { "-k", sim.host_connstr, "-bonc", NULL };
	char *out;

	(void)state;
	/* Skipped (not the whole file) when the sample is absent. */
	if (kdt_shared_path(path, sizeof(path), "dumps/triage_x64.dmp") != 0)
		skip();
	snprintf(k, sizeof(k), "com:pipe,port=%s/triage.sock", dir);
	kc_spawn(&sim, simargs);
	kp_start(&kd, kdargs);
	wait_prompt(&kd);
	out = cmd(&kd, "vertarget");
	assert_non_null(strstr(out, "Windows 10 Kernel Version 19041 MP "
				    "(16 procs) Free x64"));
	assert_non_null(strstr(out, "Kernel base = 0xfffff804`7ba00000 "
				    "PsLoadedModuleList = "
				    "0xfffff804`7c62a390"));
	free(out);
	out = cmd(&kd, "r");
	assert_non_null(strstr(out, "rip=fffff8048b58334c "
				    "rsp=ffff850429892120"));
	assert_non_null(strstr(out, "efl=00050246"));
	free(out);
	/* The faulting instruction bytes (mov dword ptr [r9+r8],edx). */
	out = cmd(&kd, "db fffff804`8b58334c L4");
	assert_non_null(strstr(out, "fffff804`8b58334c  43 89 14 01"));
	free(out);
	/* Another processor's context from its KPRCB. */
	out = cmd(&kd, "~3s; r rip; ~0s");
	assert_non_null(strstr(out, "rip=fffff8047bd8d14d"));
	free(out);
	finish(&kd, 0);
	kc_stop(&sim);
	snprintf(path, sizeof(path), "%s/triage.sock", dir);
	unlink(path);
}

/* x86, PAE and ARM64 fixtures, full and kernel bitmap: db / dq at the
 * mapped pages show their tag and pattern words. */
static void check_fixture(enum kdt_dg_arch arch, uint32_t type,
			  const char *banner_want)
{
	struct kdt_dumpgen g;
	const struct kdt_dg_map *mp;
	char path[256], cmds[512], want[128], *out = NULL, *err = NULL;
	const char *args[] = { "-z", path, "-c", cmds, NULL };
	unsigned int pg, i;
	int n = 0;

	memset(&g, 0, sizeof(g));
	assert_int_equal(kdt_dumpgen_build(&g, arch, 2), 0);
	snprintf(path, sizeof(path), "%s/fixture.dmp", dir);
	assert_int_equal(kdt_dumpgen_write(&g, path, type), KD_OK);
	mp = kdt_dumpgen_find(&g, KDT_DG_PAGE);
	assert_non_null(mp);
	assert_true(mp->npages >= 2);
	for (pg = 0; pg < 2; pg++)
		n += snprintf(
			cmds + n, sizeof(cmds) - (size_t)n,
			"db %llx L10; dq %llx L1; ",
			(unsigned long long)(mp->va + pg * 4096ull),
			(unsigned long long)(mp->va + pg * 4096ull + 0x40));
	snprintf(cmds + n, sizeof(cmds) - (size_t)n, "q");
	assert_int_equal(kp_run(args, NULL, T_MS, &out, &err), 0);
	if (!strstr(out, banner_want))
		fail_msg("kd -z printed:\n%s\nexpected: %s", out, banner_want);
	for (pg = 0; pg < 2; pg++) {
		uint64_t w = kdt_dumpgen_word(mp->pa[pg] + 0x40);
		int m = 0;

		/* The 16 tag bytes as db prints them. */
		for (i = 0; i < 16; i++)
			m += snprintf(want + m, sizeof(want) - (size_t)m,
				      "%02x%s", (uint8_t)mp->tag[i],
				      i == 7  ? "-" :
				      i == 15 ? "" :
						" ");
		if (!strstr(out, want))
			fail_msg("page %u: no '%s' in:\n%s", pg, want, out);
		snprintf(want, sizeof(want), "%08x`%08x", (unsigned)(w >> 32),
			 (unsigned)w);
		if (!strstr(out, want))
			fail_msg("page %u: no '%s' in:\n%s", pg, want, out);
	}
	assert_null(strstr(out, "????"));
	free(out);
	free(err);
	unlink(path);
	kdt_dumpgen_free(&g);
}

/* kdsim --dump refuses what kdstub cannot serve, with a reason. */
static void test_served_refusals(void **state)
{
	struct kdt_dumpgen g;
	char path[256], cmdline[2048], out[1024];
	size_t n;
	FILE *f;

	(void)state;
	memset(&g, 0, sizeof(g));
	assert_int_equal(kdt_dumpgen_build(&g, KDT_DG_X86_PAE, 1), 0);
	snprintf(path, sizeof(path), "%s/x86.dmp", dir);
	assert_int_equal(kdt_dumpgen_write(&g, path, KD_DUMP_FULL), KD_OK);
	kdt_dumpgen_free(&g);
	snprintf(cmdline, sizeof(cmdline),
		 "%s --dump %s -k com:pipe,port=%s/refused.sock 2>&1",
		 kc_kdsim_path(), path, dir);
	f = popen(cmdline, "r");
	assert_non_null(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	assert_int_equal(WEXITSTATUS(pclose(f)), 1);
	if (!strstr(out, "machine 0x14c: kdsim serves x64 dumps only"))
		fail_msg("kdsim printed: %s", out);
	assert_null(strstr(out, "kdsim ready"));
	unlink(path);
	snprintf(cmdline, sizeof(cmdline),
		 "%s --dump %s/none.dmp -k com:pipe,port=%s/refused.sock 2>&1",
		 kc_kdsim_path(), dir, dir);
	f = popen(cmdline, "r");
	assert_non_null(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	assert_int_equal(WEXITSTATUS(pclose(f)), 1);
	assert_non_null(strstr(out, "kdsim: cannot serve "));
}

static void test_fixtures(void **state)
{
	static const uint32_t types[] = { KD_DUMP_FULL, KD_DUMP_BITMAP_KERNEL };
	size_t t;

	(void)state;
	if (!kp_kd_path())
		skip();
	for (t = 0; t < KD_ARRAY_SIZE(types); t++) {
		check_fixture(KDT_DG_X86, types[t], "(2 procs) Free x86");
		check_fixture(KDT_DG_X86_PAE, types[t], "(2 procs) Free x86");
		check_fixture(KDT_DG_ARM64, types[t], "(2 procs) Free ARM64");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_live),
		cmocka_unit_test(test_kd_z_full),
		cmocka_unit_test(test_kd_z_kernel),
		cmocka_unit_test(test_served_serial),
		cmocka_unit_test(test_served_kdnet),
		cmocka_unit_test(test_served_triage),
		cmocka_unit_test(test_served_refusals),
		cmocka_unit_test(test_fixtures),
	};
	int rc;
	size_t i;

	if (!kp_kd_path() || !kc_kdsim_path())
		return 77;
	snprintf(dir, sizeof(dir), "/tmp/openkd-dumpwrite-%d", (int)getpid());
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return 1;
	snprintf(full_path, sizeof(full_path), "%s/full.dmp", dir);
	snprintf(kern_path, sizeof(kern_path), "%s/kernel.dmp", dir);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	for (i = 0; i < NREADS; i++)
		free(live_out[i]);
	unlink(full_path);
	unlink(kern_path);
	rmdir(dir);
	return rc;
}
