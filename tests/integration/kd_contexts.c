/* SPDX-License-Identifier: MIT */
/*
 * Context and event commands (issue 16), kd and kdsim as real processes:
 *  - live: the debugger asks kdsim's kernel for an assertion
 *    (nt!KiSimAssertRequest), the kernel takes int 0x2c through a
 *    _KTRAP_FRAME and reports STATUS_ASSERTION_FAILURE; .lastevent,
 *    .exr -1 and .exr on the kernel's record, .trap on the frame (its
 *    rip/rsp checked against dq of the frame, the instruction there is
 *    the int 2Ch), k from the trap context, k from the live context
 *    walking through the machine frame, .cxr resetting, and the kernel
 *    running on past the assertion once continued;
 *  - the real triage dump: .cxr -1 / .ecxr load the CONTEXT the 0x7E
 *    bug check names, .exr -1 its EXCEPTION_RECORD, checked against the
 *    bug check's own parameters (README facts) and dq of the record.
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

/* The value after "Evaluate expression: ... = " (backtick removed). */
static uint64_t eval(struct live *l, const char *expr)
{
	char c[160], hex[40];
	char *out, *p;
	size_t n = 0;

	snprintf(c, sizeof(c), "? %s", expr);
	out = cmd(l, c);
	p = strstr(out, " = ");
	if (!p)
		fail_msg("'%s' printed:\n%s", c, out);
	for (p += 3; *p && n + 1 < sizeof(hex); p++)
		if (*p != '`' && *p != '\n')
			hex[n++] = *p;
		else if (*p == '\n')
			break;
	hex[n] = '\0';
	free(out);
	return strtoull(hex, NULL, 16);
}

static uint64_t reg_in(const char *out, const char *name)
{
	char key[16];
	const char *p;

	snprintf(key, sizeof(key), "%s=", name);
	p = strstr(out, key);
	assert_non_null(p);
	return strtoull(p + strlen(key), NULL, 16);
}

static void start(struct live *l)
{
	char k[160];
	const char *kdargs[] = { "-k",	  l->sim.host_connstr,
				 "-y",	  KD_KDSIM_KERNEL_DIR,
				 "-bonc", NULL };
	const char *args[] = { "-k", k, "--print-ms", "0", "--cpus", "1", NULL };
	char *banner;

	memset(l, 0, sizeof(*l));
	snprintf(l->sock, sizeof(l->sock), "/tmp/openkd-kdctx-%d.sock",
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

static void test_live_assertion(void **state)
{
	struct live l;
	char *out, c[160], line[200];
	uint64_t tf, rip, rsp, fn, stop_pc;

	(void)state;
	start(&l);
	/* Before any event of ours: the attach's break-in. */
	expect(&l, ".lastevent",
	       "Last event: Break instruction exception - code 80000003 "
	       "(first chance)\n  debugger time: ");

	/* The kernel asserts through a trap frame and reports it. */
	expect(&l, "ed nt!KiSimAssertRequest 1", "");
	out = cmd(&l, "g");
	has(out, "g", "Assertion failure - code c0000420 (first chance)\n");
	has(out, "g", "nt!KiSimDispatchException+0x");
	free(out);
	stop_pc = eval(&l, "@rip");
	expect(&l, ".lastevent",
	       "Last event: Assertion failure - code c0000420 (first "
	       "chance)\n  debugger time: ");

	/* The frame and the record the kernel published, read apart. */
	tf = eval(&l, "poi(nt!KiSimLastTrapFrame)");
	rip = eval(&l, "poi(poi(nt!KiSimLastTrapFrame) + 0x168)");
	rsp = eval(&l, "poi(poi(nt!KiSimLastTrapFrame) + 0x180)");
	fn = eval(&l, "nt!ExSimCheckInvariant");
	assert_true(rip > fn && rip < fn + 0x40);
	assert_true(tf != 0 && rsp > tf);

	/* .exr -1 (the event) and .exr of the kernel's record agree. */
	snprintf(line, sizeof(line),
		 "ExceptionAddress: %016llx (nt!ExSimCheckInvariant+"
		 "0x%016llx)\n"
		 "   ExceptionCode: c0000420 (Assertion failure)\n"
		 "  ExceptionFlags: 00000000\n"
		 "NumberParameters: 0\n",
		 (unsigned long long)rip, (unsigned long long)(rip - fn));
	expect(&l, ".exr -1", line);
	expect(&l, ".exr nt!KiSimLastExceptionRecord", line);

	/* The kernel PDB describes _KTRAP_FRAME (r-dt's dt reads it): .trap
	 * takes its offsets from there, Windows' own. */
	expect(&l, "dt nt!_KTRAP_FRAME Rip Rsp",
	       "   +0x168 Rip              : Uint8B\n"
	       "   +0x180 Rsp              : Uint8B\n");

	/* .trap: the registers of the frame, the int 2Ch at its rip. */
	snprintf(c, sizeof(c), ".trap %llx", (unsigned long long)tf);
	out = cmd(&l, c);
	has(out, c,
	    "NOTE: The trap frame does not contain all registers.\n"
	    "Some register values may be zeroed or incorrect.\n");
	assert_int_equal(reg_in(out, "rip"), rip);
	assert_int_equal(reg_in(out, "rsp"), rsp);
	has(out, c, "int     2Ch");
	/* No segment line after the flags: .trap's shape. */
	assert_null(strstr(out, "cs="));
	free(out);
	/* k from the trap context: the asserting code and its callers. */
	out = cmd(&l, "k");
	snprintf(line, sizeof(line), "00 %05llx`%08llx ",
		 (unsigned long long)(rsp >> 32),
		 (unsigned long long)(rsp & 0xffffffffu));
	has(out, "k", line);
	snprintf(line, sizeof(line), "nt!ExSimCheckInvariant+0x%llx\n",
		 (unsigned long long)(rip - fn));
	has(out, "k", line);
	has(out, "k", "nt!KiSimCheckAssertRequest+0x");
	has(out, "k", "nt!KiSystemStartup+0x");
	assert_null(strstr(out, "KiSimDispatchException"));
	free(out);
	assert_int_equal(eval(&l, "@rip"), rip);

	/* .cxr alone: back to the processor's own registers. */
	expect(&l, ".cxr", "Resetting default scope");
	assert_int_equal(eval(&l, "@rip"), stop_pc);
	/* The live walk goes on through the machine frame. */
	out = cmd(&l, "k");
	has(out, "k", "nt!KiSimDispatchException+0x");
	has(out, "k", "nt!KiRaiseAssertion+0x");
	has(out, "k", line);
	free(out);

	/* A bad address is one error line. */
	expect(&l, ".trap 0", "Unable to read trap frame at ");
	expect(&l, ".exr 0", "Cannot read Exception record @ ");

	/* Continued, the kernel passes over the assertion and runs on. */
	assert_true(kp_send(&l.kd, "g\n"));
	kc_sleep_ms(300);
	kp_interrupt(&l.kd);
	out = kp_wait_prompt(&l.kd, T_MS);
	assert_non_null(out);
	has(out, "g", "Break instruction exception - code 80000003");
	free(out);
	expect(&l, "dd nt!KiSimAssertRequest L1", " 00000000\n");
	stop(&l, true);
}

/* "fffff804`8b58334c" at @p p as a number. */
static uint64_t hex_bt(const char *p)
{
	char hex[24];
	size_t n = 0;

	while (*p && *p != ' ' && *p != '\n' && n + 1 < sizeof(hex)) {
		if (*p != '`')
			hex[n++] = *p;
		p++;
	}
	hex[n] = '\0';
	return strtoull(hex, NULL, 16);
}

static void test_dump_exception_context(void **state)
{
	char path[512], c[400];
	const char *args[] = { "-z", path, "-c", ".bugcheck; q", NULL };
	char *out = NULL, *err = NULL, *p;
	uint64_t exr, cxr;
	int i;

	(void)state;
	kdt_require_shared(path, sizeof(path), "dumps/triage_x64.dmp");
	if (!kp_kd_path())
		exit(77);
	assert_int_equal(kp_run(args, NULL, T_MS, &out, &err), 0);
	/* "Arguments p1 p2 p3 p4": the record and the context addresses. */
	p = strstr(out, "Arguments ");
	assert_non_null(p);
	for (i = 0; i < 3; i++) {
		p = strchr(p, ' ');
		assert_non_null(p);
		p++;
	}
	exr = hex_bt(p);
	p = strchr(p, ' ');
	assert_non_null(p);
	cxr = hex_bt(p + 1);
	free(out);
	free(err);
	assert_true(exr && cxr);

	snprintf(c, sizeof(c),
		 "dd %llx L1; dq %llx L1; .exr -1; .cxr -1; k 1; .cxr; "
		 ".ecxr; .cxr 0; .lastevent; q",
		 (unsigned long long)exr, (unsigned long long)cxr + 0xf8);
	args[3] = c;
	assert_int_equal(kp_run(args, NULL, T_MS, &out, &err), 0);
	/* Independent reads: the record's code, the CONTEXT's Rip. */
	assert_non_null(strstr(out, " c0000005\n"));
	assert_non_null(strstr(out, " fffff804`8b58334c\n"));
	/* README: 0x1000007E with (0xc0000005, 0xfffff8048b58334c, ...). */
	if (!strstr(out, "ExceptionAddress: fffff8048b58334c "
			 "(amdppm+0x000000000000334c)\n"
			 "   ExceptionCode: c0000005 (Access violation)\n"
			 "  ExceptionFlags: 00000000\n"
			 "NumberParameters: 2\n"))
		fail_msg("kd printed:\n%s", out);
	assert_non_null(strstr(out, "Attempt to "));
	/* The CONTEXT of parameter 4 (.cxr -1 and .ecxr): rip is the
	 * exception address. */
	p = strstr(out, "rip=fffff8048b58334c ");
	assert_non_null(p);
	assert_non_null(strstr(p + 1, "rip=fffff8048b58334c "));
	assert_non_null(strstr(out, "amdppm+0x334c:\n"));
	assert_non_null(strstr(out, "Resetting default scope"));
	/* A dump keeps no event: .lastevent says so, invents none. */
	assert_non_null(strstr(out, "Last event: <none> (a crash dump "
				    "records no event; see .bugcheck)\n"));
	free(out);
	free(err);
}

/* The text of the line starting with @p label in @p out ("" none). */
static void line_after(const char *out, const char *label, char *buf,
		       size_t cap)
{
	const char *p = strstr(out, label);
	size_t n = 0;

	buf[0] = '\0';
	if (!p)
		return;
	for (p += strlen(label); *p && *p != '\n' && n + 1 < cap; p++)
		buf[n++] = *p;
	buf[n] = '\0';
}

/*
 * !analyze -v on the real triage dump gets past the header: the CONTEXT
 * and EXCEPTION_RECORD of the 0x1000007E bug check (addresses from its
 * parameters), the stack from that context, STACK_COMMAND, OS_VERSION
 * and BUILDLAB_STR from the build string vertarget prints, FOLLOWUP_IP,
 * PROCESS_NAME and BUCKET_ID.
 */
static void test_dump_analyze(void **state)
{
	char path[512], want[300], lab[128], rsp[40];
	const char *args[] = { "-z", path, "-c",
			       (".bugcheck; vertarget; !analyze -v; "
				"!analyze -show 0x1C8; q"),
			       NULL };
	char *out = NULL, *err = NULL, *p, *ctx;
	char f[4][64];
	uint64_t exr, cxr;
	int i;

	(void)state;
	kdt_require_shared(path, sizeof(path), "dumps/triage_x64.dmp");
	if (!kp_kd_path())
		exit(77);
	assert_int_equal(kp_run(args, NULL, T_MS, &out, &err), 0);
	p = strstr(out, "Arguments ");
	assert_non_null(p);
	for (i = 0; i < 3; i++) {
		p = strchr(p, ' ');
		assert_non_null(p);
		p++;
	}
	exr = hex_bt(p);
	p = strchr(p, ' ');
	assert_non_null(p);
	cxr = hex_bt(p + 1);

	snprintf(want, sizeof(want), "CONTEXT:  %016llx -- (.cxr 0x%llx)\n",
		 (unsigned long long)cxr, (unsigned long long)cxr);
	ctx = strstr(out, want);
	if (!ctx)
		fail_msg("no '%s' in:\n%s", want, out);
	assert_non_null(strstr(ctx, "rip=fffff8048b58334c "));
	assert_non_null(strstr(ctx, "amdppm+0x334c:\n"));
	assert_non_null(strstr(ctx, "Resetting default scope\n"));
	line_after(ctx, "rsp=", rsp, sizeof(rsp));
	rsp[16] = '\0';
	snprintf(want, sizeof(want),
		 "EXCEPTION_RECORD:  %016llx -- (.exr 0x%llx)\n"
		 "ExceptionAddress: fffff8048b58334c "
		 "(amdppm+0x000000000000334c)\n"
		 "   ExceptionCode: c0000005 (Access violation)\n",
		 (unsigned long long)exr, (unsigned long long)exr);
	assert_non_null(strstr(out, want));
	/* STACK_TEXT starts at the context's rsp. */
	snprintf(want, sizeof(want), "STACK_TEXT:  \n%.8s`%.8s ", rsp, rsp + 8);
	if (!strstr(out, want))
		fail_msg("no '%s' in:\n%s", want, out);
	snprintf(want, sizeof(want), "STACK_COMMAND:  .cxr 0x%llx ; kb\n",
		 (unsigned long long)cxr);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "FOLLOWUP_IP: \namdppm+0x334c\n"));
	assert_non_null(strstr(out, "PROCESS_NAME:  "));
	assert_non_null(
		strstr(out, "BUCKET_ID:  AV_amdppm!unknown_function\n"));
	/* "Built by: 19041.1.amd64fre.<branch>.<date>": the version fields. */
	line_after(out, "Built by: ", lab, sizeof(lab));
	memset(f, 0, sizeof(f));
	assert_int_equal(sscanf(lab, "%63[^.].%63[^.].%63[^.].%63[^.]", f[0],
				f[1], f[2], f[3]),
			 4);
	snprintf(want, sizeof(want), "OS_VERSION:  10.0.%s.%s\n", f[0], f[1]);
	assert_non_null(strstr(out, want));
	assert_string_equal(f[0], "19041"); /* README */
	snprintf(want, sizeof(want), "BUILDLAB_STR:  %s\n", f[3]);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "MANUALLY_INITIATED_POWER_BUTTON_HOLD "
				    "(1c8)\n"));
	free(out);
	free(err);
}

/* The line of @p out that starts with @p prefix, into @p buf. */
static bool line_with(const char *out, const char *prefix, char *buf,
		      size_t cap)
{
	const char *p = out;
	size_t n = 0;

	while (p && *p) {
		if (!strncmp(p, prefix, strlen(prefix))) {
			while (p[n] && p[n] != '\n' && n + 1 < cap) {
				buf[n] = p[n];
				n++;
			}
			buf[n] = '\0';
			return true;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return false;
}

/* "fffff800`10015db0" for @p v. */
static void bt(char *buf, size_t cap, uint64_t v)
{
	snprintf(buf, cap, "%08llx`%08llx", (unsigned long long)(v >> 32),
		 (unsigned long long)(v & 0xffffffffu));
}

/*
 * .frame, kn numbers and dv with the kernel PDB's locals, at kdsim's
 * assertion stop: values checked against independent reads (the
 * kernel's published trap frame and record, dq of the trap frame), and
 * `<value unavailable>` where the location is a volatile register of an
 * outer frame.
 */
static void test_frames_and_locals(void **state)
{
	struct live l;
	char *out, c[160], want[200], line[300], a[24], b[24];
	uint64_t tf, er, rip, rsp, rax;

	(void)state;
	start(&l);
	expect(&l, "ed nt!KiSimAssertRequest 1", "");
	out = cmd(&l, "g");
	has(out, "g", "Assertion failure - code c0000420");
	free(out);
	tf = eval(&l, "poi(nt!KiSimLastTrapFrame)");
	er = eval(&l, "nt!KiSimLastExceptionRecord");
	rip = eval(&l, "poi(poi(nt!KiSimLastTrapFrame) + 0x168)");
	rsp = eval(&l, "poi(poi(nt!KiSimLastTrapFrame) + 0x180)");
	rax = eval(&l, "poi(poi(nt!KiSimLastTrapFrame) + 0x30)");

	/* Frame 0, KiSimDispatchException(TrapFrame): its parameter and
	 * local, names right-aligned. */
	bt(a, sizeof(a), tf);
	bt(b, sizeof(b), er);
	snprintf(want, sizeof(want), "TrapFrame = 0x%s\n       er = 0x%s\n", a,
		 b);
	expect(&l, "dv", want);
	snprintf(want, sizeof(want),
		 "prv param  @rdx                       struct _KTRAP_FRAME * "
		 "TrapFrame = 0x%s\n",
		 a);
	expect(&l, "dv /i /v /t", want);
	expect(&l, "dv er*", "er = 0x");

	/* kn numbers the frames; .frame 2 is the asserting code. */
	out = cmd(&l, "kn");
	assert_true(line_with(out, "02 ", line, sizeof(line)));
	has(line, "kn", "nt!ExSimCheckInvariant+0x");
	free(out);
	out = cmd(&l, ".frame 2");
	has(out, ".frame 2", line);
	free(out);
	assert_int_equal(eval(&l, "@rip"), rip);
	assert_int_equal(eval(&l, "@rsp"), rsp);
	/* value lives in rax there: not recovered in an outer frame. */
	expect(&l, "dv", "value = <value unavailable>\n");
	expect(&l, ".frame", line);
	/* /r: the frame's registers, then its instruction. */
	out = cmd(&l, ".frame /r 3");
	has(out, ".frame /r 3", "03 ");
	has(out, ".frame /r 3", "rip=");
	has(out, ".frame /r 3", "nt!KiSimCheckAssertRequest+0x");
	free(out);
	expect(&l, ".frame 9",
	       "Cannot find frame 0x9, previous scope "
	       "unchanged");

	/* From the trap context, frame 0 has every register: value is the
	 * trap frame's Rax (dq of the frame, read apart). */
	snprintf(c, sizeof(c), ".trap %llx", (unsigned long long)tf);
	free(cmd(&l, c));
	snprintf(want, sizeof(want),
		 "@rax                       value = 0x%llx\n",
		 (unsigned long long)rax);
	expect(&l, "dv /v value", want);

	/* Back to the processor: frame 1 is assembly without locals. */
	expect(&l, ".cxr", "Resetting default scope");
	expect(&l, "dv", "TrapFrame = 0x");
	free(cmd(&l, ".frame 1"));
	expect(&l, "dv",
	       "Unable to enumerate locals, HRESULT 0x80004005\n"
	       "Private symbols (symbols.pri) are required for "
	       "locals.");
	stop(&l, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_live_assertion),
		cmocka_unit_test(test_frames_and_locals),
		cmocka_unit_test(test_dump_exception_context),
		cmocka_unit_test(test_dump_analyze),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
