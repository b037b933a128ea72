/* SPDX-License-Identifier: MIT */
/*
 * The kd program driven as a lab script drives it: -c, -cf, $$>a< with
 * arguments, log files, .if/j, commands from a pipe, exit statuses, and
 * the same against a live kdsim target attached over TCP serial.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kd_proc.h"
#include "kdsim_client.h"

#define T_MS 20000

static char g_dir[64];

static void put_file(const char *name, const char *text, char *path, size_t cap)
{
	FILE *fp;

	snprintf(path, cap, "%s/%s", g_dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_true(fputs(text, fp) >= 0);
	fclose(fp);
}

static char *slurp(const char *path)
{
	static char buf[16384];
	FILE *fp = fopen(path, "r");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

/* ---- dormant: no target ---- */

static void test_c_commands_and_q(void **state)
{
	const char *args[] = { "-c", ".echo a; .echo \"b; c\"; q; .echo no",
			       NULL };
	char *out, *err;

	(void)state;
	assert_int_equal(kp_run(args, NULL, T_MS, &out, &err), 0);
	/* The -c line is echoed after the prompt, then its output. */
	assert_non_null(strstr(out, "kd> .echo a; .echo \"b; c\"; q; "
				    ".echo no\na\nb; c\n"));
	assert_null(strstr(out, "\nno\n"));
	assert_string_equal(err, "");
	free(out);
	free(err);
}

static void test_cf_script(void **state)
{
	char path[256];
	const char *args[] = { "-cf", path, NULL };
	char *out;

	(void)state;
	put_file("start.txt",
		 "$$ start-up script\n.echo from script\n"
		 ".if (3 > 2) { .echo branch }\nq\n",
		 path, sizeof(path));
	assert_int_equal(kp_run(args, ".echo never\n", T_MS, &out, NULL), 0);
	assert_non_null(strstr(out, "kd> $$ start-up script\n"
				    "kd> .echo from script\nfrom script\n"
				    "kd> .if (3 > 2) { .echo branch }\n"
				    "branch\nkd> q\n"));
	assert_null(strstr(out, "never"));
	free(out);
}

static void test_script_args(void **state)
{
	char path[256], cmd[512];
	const char *args[] = { "-c", cmd, NULL };
	char *out;

	(void)state;
	put_file("args.txt",
		 ".echo first=${$arg1} second=${$arg2} third=${$arg3}\n"
		 "j (${$arg1} == 7) '.echo seven' ; '.echo other'\n",
		 path, sizeof(path));
	snprintf(cmd, sizeof(cmd), "$$>a<%s 7 \"two words\"; q", path);
	assert_int_equal(kp_run(args, NULL, T_MS, &out, NULL), 0);
	assert_non_null(strstr(out, "\nfirst=7 second=two words "
				    "third=${$arg3}\nseven\n"));
	/* $$>a< does not echo the script's commands. */
	assert_null(strstr(out, "kd> .echo first"));
	free(out);
}

static void test_logs(void **state)
{
	char log[256], log2[256], cmd[600];
	const char *args[] = { "-logo", log, "-c", cmd, NULL };
	char *out, *text;

	(void)state;
	snprintf(log, sizeof(log), "%s/session.log", g_dir);
	snprintf(log2, sizeof(log2), "%s/second.log", g_dir);
	snprintf(cmd, sizeof(cmd),
		 ".echo in-first; .logopen %s; "
		 ".echo in-second; .logclose",
		 log2);
	assert_int_equal(kp_run(args, ".echo typed\nq\n", T_MS, &out, NULL), 0);
	text = slurp(log);
	assert_true(strncmp(text, "Opened log file '", 17) == 0);
	assert_non_null(strstr(text, "in-first\n"));
	assert_non_null(strstr(text, "Closing open log file "));
	assert_null(strstr(text, "\nin-second\n"));
	text = slurp(log2);
	assert_true(strncmp(text, "Opened log file '", 17) == 0);
	assert_non_null(strstr(text, "in-second\nClosing open log file "));
	assert_null(strstr(out, "Unable"));
	free(out);

	/* -loga appends; typed commands are logged after the prompt. */
	args[0] = "-loga";
	snprintf(cmd, sizeof(cmd), ".echo appended");
	assert_int_equal(kp_run(args, ".echo typed\nq\n", T_MS, &out, NULL), 0);
	text = slurp(log);
	assert_non_null(strstr(text, "in-first\n"));
	assert_non_null(strstr(text, "appended\n"));
	assert_non_null(strstr(text, "kd> .echo typed\ntyped\n"));
	/* The console got the prompt but not the typed text. */
	assert_null(strstr(out, "kd> .echo typed"));
	assert_non_null(strstr(out, "kd> typed\n"));
	free(out);
}

static void test_pipe_session(void **state)
{
	struct kp k;
	char *o;

	(void)state;
	kp_start(&k, NULL);
	o = kp_wait_prompt(&k, T_MS);
	assert_non_null(o);
	free(o);
	o = kp_cmd(&k, ".echo hello", T_MS);
	assert_string_equal(o, "hello\n");
	free(o);
	o = kp_cmd(&k,
		   ".if (0) { .echo a } .elsif (1) { .echo b } "
		   ".else { .echo c }",
		   T_MS);
	assert_string_equal(o, "b\n");
	free(o);
	o = kp_cmd(&k, "j 0 .echo yes ; .echo no", T_MS);
	assert_string_equal(o, "no\n");
	free(o);
	o = kp_cmd(&k, "$$ nothing", T_MS);
	assert_string_equal(o, "");
	free(o);
	assert_int_equal(kp_finish(&k, T_MS), 0);
	kp_free(&k);
}

static void test_exit_codes(void **state)
{
	const char *bad[] = { "-nosuchswitch", NULL };
	const char *late[] = { "-c", "q", "-remote", "tcp:port=1", NULL };
	const char *fail[] = { "-c", "nosuchcommand; q", NULL };
	const char *help[] = { "-?", NULL };
	const char *ver[] = { "-version", NULL };
	const char *dump[] = { "-z", "/nonexistent/MEMORY.DMP", NULL };
	const char *eof[] = { NULL };
	char *out, *err;

	(void)state;
	assert_int_equal(kp_run(bad, NULL, T_MS, NULL, &err), 2);
	assert_non_null(strstr(err, "unknown switch '-nosuchswitch'"));
	free(err);
	assert_int_equal(kp_run(late, NULL, T_MS, NULL, &err), 2);
	assert_non_null(strstr(err, "must be the first option"));
	free(err);
	assert_int_equal(kp_run(fail, NULL, T_MS, &out, NULL), 1);
	assert_non_null(strstr(out, "^ Syntax error in 'nosuchcommand'"));
	free(out);
	/* A failure typed on the pipe counts too. */
	assert_int_equal(kp_run(eof, "bogus\n", T_MS, NULL, NULL), 1);
	assert_int_equal(kp_run(eof, ".echo ok\n", T_MS, NULL, NULL), 0);
	assert_int_equal(kp_run(help, NULL, T_MS, &out, NULL), 0);
	assert_non_null(strstr(out, "usage: kd"));
	free(out);
	assert_int_equal(kp_run(ver, NULL, T_MS, &out, NULL), 0);
	assert_non_null(strstr(out, "kd (openkd) version "));
	free(out);
	/* A dump that cannot be opened is "could not attach" (3). */
	assert_int_equal(kp_run(dump, NULL, T_MS, &out, &err), 3);
	assert_non_null(strstr(out, "/nonexistent/MEMORY.DMP"));
	free(out);
	free(err);
}

static void test_unreachable(void **state)
{
	char connstr[300];
	const char *tcp[] = { "--timeout", "1500", "-k",
			      "com:ipport=1,port=127.0.0.1", NULL };
	const char *unix_rc[] = { "--timeout", "1500", "-k", connstr, NULL };
	uint64_t t0;
	char *err;

	(void)state;
	t0 = kp_now_ms();
	assert_int_equal(kp_run(tcp, NULL, T_MS, NULL, &err), 3);
	assert_true(kp_now_ms() - t0 < 5000);
	assert_non_null(strstr(err, "com:ipport=1,port=127.0.0.1"));
	assert_non_null(strstr(err, "limit 1500 ms"));
	free(err);

	/* A unix socket nobody serves, with reconnect (waits for it):
	 * still bounded by --timeout. */
	snprintf(connstr, sizeof(connstr),
		 "com:pipe,port=%s/nobody.sock,reconnect", g_dir);
	t0 = kp_now_ms();
	assert_int_equal(kp_run(unix_rc, NULL, T_MS, NULL, &err), 3);
	assert_true(kp_now_ms() - t0 < 6000);
	assert_non_null(strstr(err, "nobody.sock"));
	free(err);
}

/* ---- attached to kdsim ---- */

static struct kc g_sim;

static void test_attached_session(void **state)
{
	const char *args[] = { "-k", g_sim.host_connstr, NULL };
	struct kp k;
	char *o;

	(void)state;
	kp_start(&k, args);
	o = kp_wait_prompt(&k, T_MS);
	assert_non_null(o);
	assert_non_null(strstr(o, "Kernel Debugger connection established"));
	free(o);
	/* kdsim has 4 processors: the multiprocessor prompt. */
	assert_int_equal(kp_prompt_before(k.out.data, k.out.len), 7);
	o = kp_cmd(&k, "r rip", T_MS);
	assert_non_null(o);
	assert_true(strncmp(o, "rip=fffff800", 12) == 0);
	free(o);
	o = kp_cmd(&k,
		   "j (@rip > 0xfffff80000000000) '.echo kernel' ; "
		   "'.echo user'",
		   T_MS);
	assert_string_equal(o, "kernel\n");
	free(o);
	o = kp_cmd(&k, ".if (@rip == 0) { .echo zero } .else { r rip }", T_MS);
	assert_true(strncmp(o, "rip=fffff800", 12) == 0);
	free(o);
	assert_int_equal(kp_finish(&k, T_MS), 0);
	kp_free(&k);
}

static void test_attached_batch(void **state)
{
	char path[256];
	const char *args[] = { "--timeout", "10000", "-k", g_sim.host_connstr,
			       "-cf",	    path,    "-c", "r rip; q",
			       NULL };
	char *out;

	(void)state;
	put_file("live.txt", ".echo script-ran\nr rip\n", path, sizeof(path));
	assert_int_equal(kp_run(args, NULL, T_MS, &out, NULL), 0);
	assert_non_null(strstr(out, "0: kd> .echo script-ran\nscript-ran\n"
				    "0: kd> r rip\nrip=fffff800"));
	assert_non_null(strstr(out, "0: kd> r rip; q\nrip=fffff800"));
	free(out);
}

static void test_attached_failure_status(void **state)
{
	const char *args[] = { "-k", g_sim.host_connstr, "-c",
			       "r rip; nosuchcommand; q", NULL };
	char *out;

	(void)state;
	assert_int_equal(kp_run(args, NULL, T_MS, &out, NULL), 1);
	assert_non_null(strstr(out, "rip=fffff800"));
	free(out);
}

/* `g`, then Ctrl+C: kd breaks in and gives the prompt back. */
static void test_attached_break_in(void **state)
{
	const char *args[] = { "-k", g_sim.host_connstr, NULL };
	struct kp k;
	char *o;

	(void)state;
	kp_start(&k, args);
	o = kp_wait_prompt(&k, T_MS);
	assert_non_null(o);
	free(o);
	assert_true(kp_send(&k, "g\n"));
	kc_sleep_ms(500);
	/* Running: no prompt yet. */
	kp_pump(&k, 0);
	assert_int_equal(kp_prompt_before(k.out.data, k.out.len) &&
				 k.out.len > k.pos,
			 0);
	kp_interrupt(&k);
	o = kp_wait_prompt(&k, T_MS);
	assert_non_null(o);
	assert_non_null(strstr(o, "Break instruction exception - code "
				  "80000003"));
	free(o);
	o = kp_cmd(&k, "r rip", T_MS);
	assert_true(strncmp(o, "rip=fffff800", 12) == 0);
	free(o);
	assert_int_equal(kp_finish(&k, T_MS), 0);
	kp_free(&k);
}

static int group_setup(void **state)
{
	(void)state;
	if (!kp_kd_path()) {
		fputs("kd is not built: skipped\n", stderr);
		exit(77);
	}
	snprintf(g_dir, sizeof(g_dir), "/tmp/kd_auto_XXXXXX");
	assert_non_null(mkdtemp(g_dir));
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int sim_setup(void **state)
{
	const char *args[] = { "-k", "com:ipport=0,port=127.0.0.1",
			       "--print-ms", "0", NULL };

	(void)state;
	group_setup(state);
	kc_spawn(&g_sim, args);
	return 0;
}

static int sim_teardown(void **state)
{
	kc_stop(&g_sim);
	return group_teardown(state);
}

int main(void)
{
	const struct CMUnitTest dormant[] = {
		cmocka_unit_test(test_c_commands_and_q),
		cmocka_unit_test(test_cf_script),
		cmocka_unit_test(test_script_args),
		cmocka_unit_test(test_logs),
		cmocka_unit_test(test_pipe_session),
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_unreachable),
	};
	const struct CMUnitTest live[] = {
		cmocka_unit_test(test_attached_session),
		cmocka_unit_test(test_attached_batch),
		cmocka_unit_test(test_attached_failure_status),
		cmocka_unit_test(test_attached_break_in),
	};
	int rc;

	rc = cmocka_run_group_tests_name("kd dormant", dormant, group_setup,
					 group_teardown);
	if (!kc_kdsim_path()) {
		fputs("kdsim is not built: live cases skipped\n", stderr);
		return rc;
	}
	rc |= cmocka_run_group_tests_name("kd on kdsim", live, sim_setup,
					  sim_teardown);
	return rc;
}
