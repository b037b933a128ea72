/* SPDX-License-Identifier: MIT */
/*
 * WinDbg scripting in kd against a live kdsim, all real processes over a
 * unix socket: $t pseudo-registers set with r, .printf's conversions,
 * aliases (as, aS, al, ad, ${} forms, $u0), the loops (.for, .while,
 * .do, .foreach, .break, .continue) with their iteration bound, and a
 * WinDbg script written the way users write one run unchanged through
 * kd -cf with its expected output.
 *
 * Expected values come from other commands in the same session (r, dq,
 * db, lm, ?), never from constants about kdsim's memory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "kd_proc.h"
#include "kdsim_client.h"

/* Lines are built from short names into fixed buffers: GCC's
 * truncation guesses about them are noise here. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define T_MS 30000

static struct kc g_sim;
static char g_dir[64];

/*
 * Run kd on kdsim with @p script (-cf, so each line is echoed after the
 * prompt, then its output) and the -c line @p cmds; its exit status
 * must be @p want_status.
 */
static char *run_kd_cf(const char *script, const char *cmds, int want_status)
{
	const char *args[] = {
		"-k", g_sim.host_connstr, "-b", "-cf", script, "-c", cmds, NULL
	};
	char *out = NULL, *err = NULL;
	int st;

	st = kp_run(args, NULL, T_MS, &out, &err);
	if (st != want_status)
		fail_msg("kd exited %d (want %d) for '%s'\nstdout:\n%s\n"
			 "stderr:\n%s",
			 st, want_status, cmds, out, err);
	free(err);
	return out;
}

/* @p lines (one command line each) as a script, then q. */
static char *run_kd(const char *lines, int want_status)
{
	char path[128];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/cmds.txt", g_dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_true(fputs(lines, fp) >= 0);
	fclose(fp);
	return run_kd_cf(path, "q", want_status);
}

static void expect_in(const char *out, const char *needle)
{
	if (!strstr(out, needle))
		fail_msg("expected:\n%s\nin:\n%s", needle, out);
}

/* The hex value after "@p name=" in @p out. */
static uint64_t reg_in(const char *out, const char *name)
{
	char key[32];
	const char *p;

	snprintf(key, sizeof(key), "\n%s=", name);
	p = strstr(out, key);
	if (!p)
		fail_msg("no %s= in:\n%s", name, out);
	return strtoull(p + strlen(key), NULL, 16);
}

/* The value of "Evaluate expression: N = hhhhhhhh`hhhhhhhh" after the
 * command line @p after. */
static uint64_t eval_after(const char *out, const char *after)
{
	const char *p = strstr(out, after);

	if (!p || !(p = strstr(p, "Evaluate expression: ")))
		fail_msg("no value after '%s' in:\n%s", after, out);
	return strtoull(p + strlen("Evaluate expression: "), NULL, 10);
}

/* WinDbg's 64-bit address form. */
static void fmt_addr(char *buf, size_t cap, uint64_t v)
{
	snprintf(buf, cap, "%08x`%08x", (unsigned)(v >> 32), (unsigned)v);
}

static int setup(void **state)
{
	char sock[128];
	const char *args[] = { "-k",	 NULL, "--print-ms", "0",
			       "--cpus", "1",  NULL };
	char k[160];

	(void)state;
	snprintf(g_dir, sizeof(g_dir), "/tmp/openkd-scripts-%d", (int)getpid());
	if (mkdir(g_dir, 0700) != 0 && errno != EEXIST)
		return -1;
	snprintf(sock, sizeof(sock), "%s/sim.sock", g_dir);
	snprintf(k, sizeof(k), "com:pipe,port=%s", sock);
	args[1] = k;
	kc_spawn(&g_sim, args);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	kc_stop(&g_sim);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", g_dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* r $t0=5 sets, ? and r read back, read-only ones say so. */
static void test_pseudo_registers(void **state)
{
	char *out, line[128];
	uint64_t rip;

	(void)state;
	out = run_kd("r rip\nr $t0=5\n? $t0\nr $t1 = @rip+1\nr $t1\n"
		     "? @$t1 - @rip\nr $t19 = 0n7 * 3\n? @$t19\nr $t0, rip\n"
		     "r $ip=1\n",
		     1);
	rip = reg_in(out, "rip");
	expect_in(out, "Evaluate expression: 5 = 00000000`00000005\n");
	snprintf(line, sizeof(line), "\n$t1=%016llx\n",
		 (unsigned long long)rip + 1);
	expect_in(out, line);
	expect_in(out, "Evaluate expression: 1 = 00000000`00000001\n");
	expect_in(out, "Evaluate expression: 21 = 00000000`00000015\n");
	expect_in(out, "Pseudo-register $ip is read-only\n");
	/* Listed with other registers on one line, as r lists them. */
	snprintf(line, sizeof(line), "\n$t0=0000000000000005 rip=%016llx\n",
		 (unsigned long long)rip);
	expect_in(out, line);
	free(out);
}

/* .printf conversions against values from r, dq, db and ?. */
static void test_printf(void **state)
{
	char *out, line[256], a[32], ms[16];
	const char *p;
	uint64_t rip, top, fib;
	unsigned bytes[4];
	size_t i, n = 0;

	(void)state;
	out = run_kd("r rip\ndq @rsp L1\ndb nt L4\n? nt!RtlFibonacci\n"
		     ".printf \"[%p] [%I64x] [%x] [%d] [%5d|%-5d] [%c] "
		     "[%%]\\n\", @rip, poi(@rsp), 0x123456789, -0n5, 0n42, "
		     "0n42, 0x41\n"
		     ".printf \"<%ma>\\n\", nt\n"
		     ".printf \"%y\\n\", nt!RtlFibonacci\n"
		     ".printf \"%d\\n\"\n.printf \"%q\\n\", 1\n"
		     ".printf \"%x\\n\", 1, 2\n"
		     ".printf /D \"dml %u\\n\", 0n3\n",
		     1);
	rip = reg_in(out, "rip");
	/* dq: "addr  hhhhhhhh`hhhhhhhh" */
	p = strstr(out, "dq @rsp L1\n");
	assert_non_null(p);
	p = strchr(p, '\n') + 1;
	p = strstr(p, "  ");
	assert_non_null(p);
	{
		char hi[9], lo[9];

		assert_int_equal(sscanf(p, " %8[0-9a-f]`%8[0-9a-f]", hi, lo),
				 2);
		top = (strtoull(hi, NULL, 16) << 32) | strtoull(lo, NULL, 16);
	}
	p = strstr(out, "db nt L4\n");
	assert_non_null(p);
	p = strchr(p, '\n') + 1;
	p = strstr(p, "  ");
	assert_int_equal(sscanf(p, " %x %x %x %x", &bytes[0], &bytes[1],
				&bytes[2], &bytes[3]),
			 4);
	/* %ma: up to the NUL, bytes above 0x7f shown as '?'. */
	for (i = 0; i < 4 && bytes[i]; i++)
		ms[n++] = (char)(bytes[i] < 0x80 ? bytes[i] : '?');
	ms[n] = '\0';
	fib = eval_after(out, "? nt!RtlFibonacci\n");

	fmt_addr(a, sizeof(a), rip);
	snprintf(line, sizeof(line),
		 "[%s] [%llx] [23456789] [-5] [   42|42   ] [A] [%%]\n", a,
		 (unsigned long long)top);
	expect_in(out, line);
	snprintf(line, sizeof(line), "<%s>\n", ms);
	expect_in(out, line);
	fmt_addr(a, sizeof(a), fib);
	snprintf(line, sizeof(line), "nt!RtlFibonacci (%s)\n", a);
	expect_in(out, line);
	expect_in(out, "Missing argument for format '%d'\n");
	expect_in(out, "Unknown format '%q'\n");
	expect_in(out, "1 argument left over after the format\n");
	expect_in(out, "dml 3\n");
	free(out);
}

static void test_aliases(void **state)
{
	char *out, line[128];
	unsigned b0, b1;

	(void)state;
	char path[128];

	out = run_kd(
		"db nt L2\naS /x a 5+1\nal\n"
		"aS Name \"two words\"\n.echo [${Name}] "
		"[${/d:Name}] [${/d:None}] [${/f:None}] [${/n:Name}] "
		"[${/v:Name}]\nas /ma zm nt; .block { .echo value=${zm} }\n"
		"ad a\n.echo a ${/d:a}\nal\nad *\nal\nad nope\n"
		"aS al1 x\nr $.u0 = fixed text\n.echo $u0 ok\n",
		1);
	expect_in(out, "kd> al\n  Alias            Value\n"
		       " -------          -------\n"
		       " a                0x6\n");
	expect_in(out, "[two words] [1] [0] [] [Name] [${/v:Name}]\n");
	expect_in(out, "\na 0\nkd> al\n  Alias            Value\n"
		       " -------          -------\n"
		       " Name             two words\n"
		       " zm               ");
	expect_in(out, "\nNo aliases\n");
	expect_in(out, "No alias named 'nope'\n");
	expect_in(out, "Invalid alias name 'al1'\n");
	expect_in(out, "\nfixed text ok\n");
	{
		const char *p = strstr(out, "db nt L2\n");

		assert_non_null(p);
		p = strstr(strchr(p, '\n') + 1, "  ");
		assert_int_equal(sscanf(p, " %x %x", &b0, &b1), 2);
		snprintf(line, sizeof(line), "value=%c%c", (char)b0, (char)b1);
		expect_in(out, line);
	}
	free(out);

	/* A line is parsed once: an alias set on it applies in a .block
	 * of the same line (parsed when it runs), not in a plain command
	 * (windbg-conventions, kernel-commands.md §6). */
	snprintf(path, sizeof(path), "%s/empty.txt", g_dir);
	fclose(fopen(path, "w"));
	out = run_kd_cf(path, "aS /x b 5+1; .block{.echo b}; .echo [b]; q", 0);
	expect_in(out, "\n0x6\n[b]\n");
	free(out);
}

/* Values from a file, the environment, command output; .foreach /f. */
static void test_alias_sources(void **state)
{
	char path[128], lines[512], *out;
	FILE *fp;

	(void)state;
	snprintf(path, sizeof(path), "%s/words.txt", g_dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_true(fputs("alpha beta\n gamma\n", fp) >= 0);
	fclose(fp);
	assert_int_equal(setenv("OPENKD_SCRIPT_TEST", "from-env", 1), 0);
	snprintf(lines, sizeof(lines),
		 ".block { .foreach /f (t \"%s\") { .printf \"${t},\" }; "
		 ".echo end }\n"
		 "aS /f fa %s\n.echo [${fa}]\n"
		 "as /e ea OPENKD_SCRIPT_TEST\n.echo [${ea}]\n"
		 "as /c ca .echo one; .echo two\n.echo [${ca}]\n"
		 "as /e eb OPENKD_SCRIPT_NOT_SET\n",
		 path, path);
	out = run_kd(lines, 1);
	expect_in(out, "\nalpha,beta,gamma,end\n");
	expect_in(out, "\n[alpha beta\n gamma\n]\n");
	expect_in(out, "\n[from-env]\n");
	expect_in(out, "\n[one\ntwo]\n");
	expect_in(out, "Environment variable 'OPENKD_SCRIPT_NOT_SET' is not "
		       "set\n");
	free(out);
}

static void test_loops(void **state)
{
	char *out, line[128];
	const char *p;
	int mods = 0;

	(void)state;
	out = run_kd("r $t0=0\n.block { .while (@$t0 < 3) { .printf \"w%d \", "
		     "@$t0; r $t0=@$t0+1 }; .echo end }\n"
		     ".block { .for (r $t1=0; @$t1 < 6; r $t1=@$t1+1) { "
		     ".if (@$t1 == 2) { .continue }; .if (@$t1 == 4) "
		     "{ .break }; .printf \"f%d \", @$t1 }; .echo end }\n"
		     ".block { .do { .printf \"d%d \", @$t0; r $t0=@$t0-1 } "
		     "(@$t0 > 0); .echo end }\n"
		     ".block { .foreach /pS 1 /ps 1 /s (w \"a b c d e\") "
		     "{ .printf \"${w} \" }; .echo end }\n"
		     ".foreach (m { lm1m }) { .echo mod m }\nlm\n"
		     ".while (1) { }\n.break\n",
		     1);
	expect_in(out, "w0 w1 w2 end\n");
	expect_in(out, "f0 f1 f3 end\n");
	expect_in(out, "d3 d2 d1 end\n");
	expect_in(out, "b d end\n");
	/* Every module lm lists, in its order, and lm1m's own output
	 * (the bare names) not shown. */
	p = strstr(out, "start             end                 module name\n");
	assert_non_null(p);
	p = strchr(p, '\n') + 1;
	while (*p == 'f') {
		char name[64];

		assert_int_equal(sscanf(p, "%*s %*s %63s", name), 1);
		snprintf(line, sizeof(line), "\nmod %s\n", name);
		expect_in(out, line);
		snprintf(line, sizeof(line), "\n%s\n", name);
		assert_null(strstr(out, line));
		mods++;
		p = strchr(p, '\n') + 1;
	}
	assert_true(mods >= 2);
	expect_in(out, "Loop stopped after 100000 iterations\n");
	expect_in(out, ".break is only valid inside a loop\n");
	free(out);
}

/* The script as a user writes it for WinDbg, run with kd -cf. */
static const char must_show[] =
	"$$ modules.txt: count the modules, show where each starts, log "
	"calls\n"
	"ad *\n"
	"r $t0 = 0\n"
	".foreach (name { lm1m }) { r $t0 = @$t0 + 1; .printf \"${name} "
	"starts at %p\\n\", name }\n"
	".printf \"%d modules\\n\", @$t0\n"
	"aS /x count @$t0\n"
	".block { .if (${count} > 2) { .echo more than two: ${count} } .else "
	"{ .echo two or fewer: ${count} } }\n"
	"al\n"
	"bp nt!RtlFibonacci \".printf \\\"hit %p\\\\n\\\", @rip; g\"\n"
	"bp nt!RtlComputeCrc32 2\n"
	"g\n"
	".printf \"stopped in %y\\n\", @rip\n"
	"bc *\n";

static void test_must_show_script(void **state)
{
	char path[128], *out, line[512], a[32], names[8][64];
	const char *p;
	uint64_t bases[8], fib, crc;
	int n = 0, i;
	FILE *fp;

	(void)state;
	snprintf(path, sizeof(path), "%s/modules.txt", g_dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_true(fputs(must_show, fp) >= 0);
	fclose(fp);
	out = run_kd_cf(path,
			"lm; .echo ==; ? nt!RtlFibonacci; .echo ==; "
			"? nt!RtlComputeCrc32; q",
			0);
	/* The modules from lm, run after the script in the session. */
	p = strstr(out, "kd> lm; .echo ==");
	assert_non_null(p);
	p = strstr(p, "module name\n");
	assert_non_null(p);
	p += strlen("module name\n");
	while (*p == 'f' && n < 8) {
		char hi[9], lo[9];

		assert_int_equal(sscanf(p, "%8[0-9a-f]`%8[0-9a-f] %*s %63s", hi,
					lo, names[n]),
				 3);
		bases[n] = (strtoull(hi, NULL, 16) << 32) |
			   strtoull(lo, NULL, 16);
		n++;
		p = strchr(p, '\n') + 1;
	}
	assert_true(n >= 2);
	p = strstr(out, "kd> lm; .echo ==");
	fib = eval_after(p, "\n==\n");
	crc = eval_after(strstr(p, "\n==\n") + 4, "\n==\n");

	/* Each command echoed after the prompt, then its output. */
	p = strstr(out, "kd> .foreach (name { lm1m }) { r $t0 = @$t0 + 1; "
			".printf \"${name} starts at %p\\n\", name }\n");
	assert_non_null(p);
	p = strchr(p, '\n') + 1;
	for (i = 0; i < n; i++) {
		fmt_addr(a, sizeof(a), bases[i]);
		snprintf(line, sizeof(line), "%s starts at %s\n", names[i], a);
		if (strncmp(p, line, strlen(line)) != 0)
			fail_msg("expected '%s' at:\n%s", line, p);
		p += strlen(line);
	}
	snprintf(line, sizeof(line),
		 "kd> .printf \"%%d modules\\n\", @$t0\n%d modules\n", n);
	expect_in(p, line);
	snprintf(line, sizeof(line), "%s: 0x%x\n",
		 n > 2 ? "more than two" : "two or fewer", n);
	expect_in(p, line);
	snprintf(line, sizeof(line),
		 "kd> al\n  Alias            Value\n"
		 " -------          -------\n"
		 " count            0x%x\n",
		 n);
	expect_in(p, line);
	/* The logging breakpoint printed its line (at least once, one CPU:
	 * Fibonacci runs between two CRC calls), then the stop. */
	fmt_addr(a, sizeof(a), fib);
	snprintf(line, sizeof(line), "\nhit %s\n", a);
	expect_in(p, line);
	fmt_addr(a, sizeof(a), crc);
	snprintf(line, sizeof(line),
		 "kd> .printf \"stopped in %%y\\n\", @rip\n"
		 "stopped in nt!RtlComputeCrc32 (%s)\n",
		 a);
	expect_in(p, line);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pseudo_registers),
		cmocka_unit_test(test_printf),
		cmocka_unit_test(test_aliases),
		cmocka_unit_test(test_alias_sources),
		cmocka_unit_test(test_loops),
		cmocka_unit_test(test_must_show_script),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
