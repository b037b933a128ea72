/* SPDX-License-Identifier: MIT */
/*
 * Event filters (issue 16), kd and kdsim as real processes: sx lists the
 * kernel events and exceptions with their defaults; sxe ld:simnet.sys
 * stops at that driver's load (kdsim loads simdrv.sys, then simnet.sys),
 * checked against lm; sxn reports kdsim's assertion and runs on, sxi
 * passes it silently, sxe -c stops and runs the command; bad names are
 * one error line.  Context commands are kd_contexts.c.
 *
 * (The helpers below are the ones of kd_contexts.c.)
 */
#include "kdsim_client.h"
#include "kd_proc.h"
#include "testsupport.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define T_MS 20000

struct live {
	struct kc sim;
	struct kp kd;
	char sock[128];
};

static char *cmd(struct live *l, const char *c)
{
	char *out = kp_cmd(&l->kd, c, T_MS);

	if (!out)
		fail_msg("kd did not answer '%s'; stdout so far:\n%s\nstderr:"
			 "\n%s",
			 c, l->kd.out.data ? l->kd.out.data : "",
			 l->kd.err.data ? l->kd.err.data : "");
	return out;
}

static void has(const char *out, const char *c, const char *needle)
{
	if (!strstr(out, needle))
		fail_msg("'%s' printed:\n%s\nexpected: %s", c, out, needle);
}

static void expect(struct live *l, const char *c, const char *needle)
{
	char *out = cmd(l, c);

	has(out, c, needle);
	free(out);
}

static void start(struct live *l)
{
	char k[160];
	const char *kdargs[] = { "-k",	  l->sim.host_connstr,
				 "-y",	  KD_KDSIM_KERNEL_DIR,
				 "-bonc", NULL };
	const char *args[] = {
		"-k",	k,	  "--print-ms", "0", "--loadmod-ms",
		"2500", "--cpus", "1",		NULL
	};
	char *banner;

	memset(l, 0, sizeof(*l));
	snprintf(l->sock, sizeof(l->sock), "/tmp/openkd-kdsx-%d.sock",
		 (int)getpid());
	snprintf(k, sizeof(k), "com:pipe,port=%s", l->sock);
	kc_spawn(&l->sim, args);
	kdargs[1] = l->sim.host_connstr;
	kp_start(&l->kd, kdargs);
	banner = kp_wait_prompt(&l->kd, T_MS);
	if (!banner)
		fail_msg("no prompt; stdout:\n%s\nstderr:\n%s",
			 l->kd.out.data ? l->kd.out.data : "",
			 l->kd.err.data ? l->kd.err.data : "");
	free(banner);
}

/* @p failed: commands failed on purpose, so kd exits with status 1. */
static void stop(struct live *l, bool failed)
{
	kp_send(&l->kd, "q\n");
	assert_int_equal(kp_finish(&l->kd, T_MS), failed ? 1 : 0);
	kp_free(&l->kd);
	kc_stop(&l->sim);
	unlink(l->sock);
}

/* Let the target run a while, break in, and return what it printed. */
static char *run_a_while(struct live *l)
{
	char *out;

	assert_true(kp_send(&l->kd, "g\n"));
	kc_sleep_ms(300);
	kp_interrupt(&l->kd);
	out = kp_wait_prompt(&l->kd, T_MS);
	assert_non_null(out);
	has(out, "g", "Break instruction exception - code 80000003");
	return out;
}

static void test_filters(void **state)
{
	struct live l;
	char *out, *p, base[24];

	(void)state;
	start(&l);
	out = cmd(&l, "sx");
	has(out, "sx", "  ld - Load module - output\n");
	has(out, "sx", " ibp - Initial breakpoint - ignore\n");
	has(out, "sx", " iml - Initial module load - ignore\n");
	has(out, "sx", "  av - Access violation - break - not handled\n");
	has(out, "sx", "asrt - Assertion failure - break - not handled\n");
	free(out);

	/* sxe ld:Module: only that driver's load stops.  kdsim loads
	 * simdrv.sys 2.5 s after it starts and simnet.sys 2.5 s later: the
	 * filter is set long before either. */
	expect(&l, "sxe ld:simnet.sys", "");
	expect(&l, "sx",
	       "  ld - Load module - break (only break for "
	       "simnet.sys)\n");
	out = cmd(&l, "g");
	has(out, "g", "ModLoad: ");
	has(out, "g", "\\SystemRoot\\system32\\drivers\\simnet.sys\n");
	assert_null(strstr(out, "simdrv.sys"));
	p = strstr(out, "ModLoad: ");
	snprintf(base, sizeof(base), "%.17s", p + 9);
	free(out);
	/* lm, read apart, has simnet at the base the load named. */
	out = cmd(&l, "lm m simnet");
	has(out, "lm m simnet", base);
	has(out, "lm m simnet", "   simnet ");
	free(out);
	out = cmd(&l, ".lastevent");
	has(out, ".lastevent",
	    "Last event: Load module \\SystemRoot\\system32\\drivers\\"
	    "simnet.sys at ");
	has(out, ".lastevent", base);
	free(out);

	/* sxn: the assertion is reported and the kernel runs on. */
	expect(&l, "sxn asrt", "");
	expect(&l, "ed nt!KiSimAssertRequest 1", "");
	out = run_a_while(&l);
	has(out, "g", "Assertion failure - code c0000420 (first chance)\n");
	free(out);
	expect(&l, "dd nt!KiSimAssertRequest L1", " 00000000\n");

	/* sxi: passed over without a word. */
	expect(&l, "sxi asrt", "");
	expect(&l, "ed nt!KiSimAssertRequest 1", "");
	out = run_a_while(&l);
	assert_null(strstr(out, "Assertion failure"));
	free(out);
	expect(&l, "dd nt!KiSimAssertRequest L1", " 00000000\n");

	/* sxe -c: it stops and the command runs there. */
	expect(&l, "sxe -c \"? 0x1234\" asrt", "");
	expect(&l, "sx",
	       "asrt - Assertion failure - break - not handled\n"
	       "       Command: \"? 0x1234\"\n");
	expect(&l, "ed nt!KiSimAssertRequest 1", "");
	out = cmd(&l, "g");
	has(out, "g", "Assertion failure - code c0000420 (first chance)\n");
	has(out, "g", "Evaluate expression: 4660 = 00000000`00001234\n");
	free(out);

	/* sxr: the defaults again; a bad name is one error line. */
	expect(&l, "sxr", "");
	expect(&l, "sx",
	       "asrt - Assertion failure - break - not handled\n"
	       " bpe - ");
	expect(&l, "sxe nosuchevent",
	       "Unknown event or exception 'nosuchevent'");
	expect(&l, "sxe av:foo", "Only ld and ud take a module argument");
	stop(&l, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filters),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
