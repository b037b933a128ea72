/* SPDX-License-Identifier: MIT */
/*
 * Out-of-memory loops (SQLite's way): run an operation with the N-th
 * allocation failing, for N = 0, 1, 2, ... until the operation makes
 * fewer than N allocations.  Every failure point must give an error (or,
 * where the operation may lose something small on purpose, still
 * succeed), never a crash; under ASan every one of them must also leak
 * nothing.  Subjects: the connection-string parser, the remote-channel
 * listener, the kdsrv policy, opening a crash dump (kd -z), a PE image
 * file (kd -z) and attaching to a live kdsim (kd -k), each with a few
 * commands after.
 */
#include "kdsim_client.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <kd/alloc.h>
#include <kd/dump.h>
#include <kd/engine.h>
#include <kd/kdsrv.h>
#include <kd/rchan.h>
#include <kd/sys/transport.h>

#include "dumpgen.h"
#include "testsupport.h"

typedef int (*subject_fn)(void *ctx);
/* What a subject printed that must not change (NULL: nothing kept). */
typedef const char *(*seen_fn)(void *ctx);

/* "line N: `got` instead of `want`" for the first line that differs. */
static const char *first_diff(const char *got, const char *want)
{
	static char msg[512];
	unsigned line = 1;
	size_t g, w;

	while (*got && *got == *want) {
		if (*got == '\n')
			line++;
		got++;
		want++;
	}
	while (line > 1 && got[-1] != '\n') {
		got--;
		want--;
	}
	g = strcspn(got, "\n");
	w = strcspn(want, "\n");
	snprintf(msg, sizeof(msg), "line %u: `%.*s` instead of `%.*s`", line,
		 (int)(g > 200 ? 200 : g), got, (int)(w > 200 ? 200 : w), want);
	return msg;
}

/*
 * Run @p f with the n-th allocation failing, n = 0.. until an armed
 * failure is never reached.  @p must_fail: every failure point must make
 * @p f fail (parsers).  Else a success despite it must have printed what
 * a run without failures prints (@p seen, read first with no failure):
 * the failure was absorbed (a cache left out, a retry), not a result
 * silently short.
 */
static void oom_loop(const char *name, subject_fn f, void *ctx, bool must_fail,
		     long max, seen_fn seen)
{
	long n, survived = 0;
	int rc, again = 0;
	char *ref = NULL;

	if (seen) {
		kd_alloc_fail_after(-1, false);
		assert_int_equal(f(ctx), KD_OK);
		ref = strdup(seen(ctx));
		assert_non_null(ref);
		assert_true(ref[0] != '\0');
	}
	for (n = 0; n < max; n++) {
		kd_error_clear();
		kd_alloc_fail_after(n, false);
		rc = f(ctx);
		if (rc < 0 && kd_alloc_fail_pending() && again < 20) {
			/* Failed without the injected failure: kdsim refuses
			 * or resets a connection that comes while it still
			 * closes the last one.  The same n again. */
			kd_alloc_fail_after(-1, false);
			again++;
			usleep(200 * 1000);
			n--;
			continue;
		}
		again = 0;
		if (getenv("KD_OOM_VERBOSE"))
			fprintf(stderr, "%s: n=%ld rc=%d pending=%d %s\n", name,
				n, rc, kd_alloc_fail_pending(),
				kd_error_last()->message);
		if (kd_alloc_fail_pending()) {
			kd_alloc_fail_after(-1, false);
			assert_int_equal(rc, KD_OK);
			break;
		}
		kd_alloc_fail_after(-1, false);
		if (rc == KD_OK) {
			if (must_fail)
				fail_msg("%s: allocation %ld failed and the "
					 "operation still said OK",
					 name, n);
			if (ref && strcmp(seen(ctx), ref) != 0)
				fail_msg("%s: allocation %ld failed, the "
					 "commands said OK and printed "
					 "something else: %s",
					 name, n, first_diff(seen(ctx), ref));
			survived++;
		} else {
			assert_true(rc < 0);
		}
	}
	if (n == max)
		fail_msg("%s: more than %ld allocations", name, max);
	print_message("%s: %ld allocations failed one at a time: %ld gave "
		      "an error, %ld still succeeded%s\n",
		      name, n, n - survived, survived,
		      ref ? " with the same output" : "");
	free(ref);
}

/* --- parsers --- */

static int params_subject(void *ctx)
{
	struct kd_params *p = NULL;
	int rc;

	(void)ctx;
	rc = kd_params_parse(&p, "com",
			     "port=@{/tmp/a|b,c},baud=115200,pipe,reconnect");
	kd_params_free(p);
	return rc;
}

static int listen_subject(void *ctx)
{
	unsigned *port = ctx;
	struct kd_rlistener *l = NULL;
	char spec[96];
	int rc;

	snprintf(spec, sizeof(spec),
		 "tcp:port=%u:%u,password=oom,bind=127.0.0.1", *port,
		 *port + 20);
	rc = kd_rlisten(&l, spec, KD_RCHAN_SERVICE_KDSRV);
	kd_rlistener_close(l);
	return rc;
}

static int policy_subject(void *ctx)
{
	static const char text[] = "# lab\n"
				   "com:pipe,port=/run/vm/*.sock\n"
				   "net:port=50000..50099\n"
				   "default\n";
	struct kd_srv_policy *p = NULL;
	char why[256];
	int rc;

	(void)ctx;
	rc = kd_srv_policy_new(&p);
	if (rc == KD_OK)
		rc = kd_srv_policy_add_text(p, text, sizeof(text) - 1, "oom");
	if (rc == KD_OK)
		rc = kd_srv_policy_check(p, "net:port=50001,key=1.2.3.4", why,
					 sizeof(why));
	kd_srv_policy_free(p);
	return rc;
}

static void parsers(void **state)
{
	unsigned port = 24000 + (unsigned)(getpid() % 300) * 25;

	(void)state;
	oom_loop("kd_params_parse", params_subject, NULL, true, 1000, NULL);
	oom_loop("kd_rlisten", listen_subject, &port, true, 1000, NULL);
	oom_loop("kdsrv policy", policy_subject, NULL, true, 10000, NULL);
}

/* --- the two open paths --- */

static void quiet(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	(void)text;
	(void)len;
}

struct open_ctx {
	const char *what; /* dump path or connection string */
	bool live;
	const char *cmds; /* after opening a file (NULL: a dump's) */
	/* What must not change: a dump's whole output; a live target's
	 * `lm` (its registers and stack move between attaches). */
	char out[64 * 1024];
	size_t len;
};

static void keep(void *ctx, const char *text, size_t len)
{
	struct open_ctx *o = ctx;
	size_t room = sizeof(o->out) - 1 - o->len;

	if (len > room)
		len = room;
	memcpy(o->out + o->len, text, len);
	o->len += len;
	o->out[o->len] = '\0';
}

static const char *open_seen(void *ctx)
{
	return ((struct open_ctx *)ctx)->out;
}

static int open_subject(void *arg)
{
	struct open_ctx *o = arg;
	struct kd_session_opts opts = KD_SESSION_OPTS_INIT;
	struct kd_session *s = NULL;
	int rc;

	opts.quiet = true;
	o->len = 0;
	o->out[0] = '\0';
	rc = kd_session_new(&s, &opts);
	if (rc < 0)
		return rc;
	kd_session_set_output(s, o->live ? quiet : keep, o);
	rc = o->live ? kd_session_attach(s, o->what) :
		       kd_session_open_dump(s, o->what);
	if (rc == KD_OK && o->live) {
		rc = kd_session_execute(s, "r; k; db @rsp L20");
		kd_session_set_output(s, keep, o);
		if (rc == KD_OK)
			rc = kd_session_execute(s, "lm");
	} else if (rc == KD_OK) {
		rc = kd_session_execute(s, o->cmds ? o->cmds :
						     "r; lm; k; db @rsp L20");
	}
	kd_session_free(s);
	return rc;
}

static void open_dump(void **state)
{
	char path[] = "/tmp/openkd-oom-XXXXXX";
	struct kdt_dumpgen g;
	static struct open_ctx o;
	int fd;

	(void)state;
	o.what = path;
	o.live = false;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(kdt_dumpgen_build(&g, KDT_DG_X64, 2), 0);
	assert_int_equal(kdt_dumpgen_write(&g, path, KD_DUMP_BITMAP_FULL),
			 KD_OK);
	kdt_dumpgen_free(&g);
	oom_loop("kd -z (open a dump; r; lm; k; db)", open_subject, &o, false,
		 100000, open_seen);
	unlink(path);
}

static void open_image(void **state)
{
	static char path[512];
	static struct open_ctx o;

	(void)state;
	kdt_build_path(path, sizeof(path),
		       "firmware-stubs/sim/kernel/simdrv.sys");
	if (access(path, R_OK) != 0)
		skip(); /* kdsim's images are not built */
	o.what = path;
	o.live = false;
	o.cmds = "lm; lmv; x simdrv!*; u simdrv!DriverEntry L3; "
		 "db simdrv!DriverEntry L20";
	oom_loop("kd -z (open an image; lm; x; u; db)", open_subject, &o, false,
		 100000, open_seen);
}

static void open_live(void **state)
{
	char sock[96], k[160];
	const char *args[] = { "-k", k, "--print-ms", "0", NULL };
	static struct open_ctx o;
	struct kc sim;

	(void)state;
	snprintf(sock, sizeof(sock), "/tmp/openkd-oom-%d.sock", (int)getpid());
	unlink(sock);
	snprintf(k, sizeof(k), "com:pipe,port=%s", sock);
	kc_spawn(&sim, args);
	o.what = sim.host_connstr;
	o.live = true;
	oom_loop("kd -k (attach to kdsim; r; lm; k; db)", open_subject, &o,
		 false, 100000, open_seen);
	kc_stop(&sim);
	unlink(sock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parsers),
		cmocka_unit_test(open_dump),
		cmocka_unit_test(open_image),
		cmocka_unit_test(open_live),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
