/* SPDX-License-Identifier: MIT */
/*
 * The debugging server with real processes on loopback: a `kd -server`
 * attached to kdsim and several `kd -remote` clients typing in turn,
 * .servers/.clients/.endsrv, q/qq rules, Ctrl+B, .remote_exit from a
 * script, a killed client, wrong password, TLS, a fuzzed client stream
 * and the `.remote` console relay.
 */
#include "kdsim_client.h"
#include "kd_proc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <cmocka.h>

#include <kd/rchan.h>
#include <kd/proto/srvmsg.h>

#define T_MS 15000

struct rt {
	struct kc sim;
	struct kp srv;
	char sock[128];
	char dir[128]; /* temp dir: certs, scripts, XDG_RUNTIME_DIR */
	unsigned port;
	char proto[8]; /* "tcp" / "ssl" */
	char password[32];
};

/* Whole output from @p p's consumed point once it holds @p needle and
 * ends with a prompt.  Fails the test on timeout. */
static char *wait_text(struct kp *p, const char *needle)
{
	uint64_t end = kp_now_ms() + T_MS;

	for (;;) {
		const char *at = p->out.len > p->pos ?
					 strstr(p->out.data + p->pos, needle) :
					 NULL;

		if (at && kp_prompt_before(p->out.data, p->out.len)) {
			char *r = strdup(p->out.data + p->pos);

			p->pos = p->out.len;
			return r;
		}
		if (kp_now_ms() >= end || !kp_pump(p, 50))
			fail_msg("no '%s' in:\n%s\nstderr:\n%s", needle,
				 p->out.data ? p->out.data + p->pos : "",
				 p->err.data ? p->err.data : "");
	}
}

/* Wait until stdout/stderr (all of it) holds @p needle. */
static void wait_any(struct kp *p, bool err, const char *needle)
{
	uint64_t end = kp_now_ms() + T_MS;

	for (;;) {
		struct kp_buf *b = err ? &p->err : &p->out;

		if (b->data && strstr(b->data, needle))
			return;
		if (kp_now_ms() >= end || !kp_pump(p, 50))
			fail_msg("no '%s' in %s:\n%s", needle,
				 err ? "stderr" : "stdout",
				 b->data ? b->data : "");
	}
}

static char *cmd(struct kp *p, const char *c)
{
	char *out = kp_cmd(p, c, T_MS);

	if (!out)
		fail_msg("no answer to '%s'; stdout:\n%s\nstderr:\n%s", c,
			 p->out.data ? p->out.data : "",
			 p->err.data ? p->err.data : "");
	return out;
}

/* The marker of @p p's last kp_cmd. */
static const char *last_mark(struct kp *p)
{
	static char m[32];

	snprintf(m, sizeof(m), "KPMARK_%u\n", p->marker - 1);
	return m;
}

static void mkdtemp_dir(struct rt *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/openkd-remote-test-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
}

/*
 * Start kdsim and `kd -server <proto>:port=LO:HI<extra> -k ...`; the
 * port actually taken is read from the "Server started." block.
 */
static void rt_start(struct rt *t, const char *proto, const char *extra)
{
	char spec[512], k[200];
	const char *sargs[] = { "-k", k, "--print-ms", "0", NULL };
	const char *kargs[] = { "-server",	     spec,    "-k",
				t->sim.host_connstr, "-bonc", NULL };
	unsigned lo = 30000 + (unsigned)(getpid() % 3000) * 10;
	const char *p;
	char *banner;

	snprintf(t->proto, sizeof(t->proto), "%s", proto);
	snprintf(t->sock, sizeof(t->sock), "/tmp/openkd-kdremote-%d.sock",
		 (int)getpid());
	snprintf(k, sizeof(k), "com:pipe,port=%s", t->sock);
	unlink(t->sock); /* left by a failed test */
	kc_spawn(&t->sim, sargs);
	snprintf(spec, sizeof(spec), "%s:port=%u:%u%s", proto, lo, lo + 9,
		 extra ? extra : "");
	kp_start(&t->srv, kargs);
	t->srv.marker = 9000;
	banner = kp_wait_prompt(&t->srv, T_MS);
	if (!banner)
		fail_msg("no server prompt:\n%s\nstderr:\n%s",
			 t->srv.out.data ? t->srv.out.data : "",
			 t->srv.err.data ? t->srv.err.data : "");
	/* windbg-conventions §2.1 */
	assert_non_null(strstr(banner, "Server started.  Client can connect "
				       "with any of these command lines\n"
				       "0: kd -remote "));
	assert_non_null(strstr(banner, "Break instruction exception"));
	p = strstr(banner, ":Port=");
	assert_non_null(p);
	t->port = (unsigned)strtoul(p + 6, NULL, 10);
	assert_true(t->port >= lo && t->port <= lo + 9);
	free(banner);
}

static void rt_connstr(struct rt *t, char *buf, size_t cap, const char *pw,
		       unsigned port)
{
	snprintf(buf, cap, "%s:server=%s,port=%u%s%s", t->proto,
		 strcmp(t->proto, "ssl") == 0 ? "localhost" : "127.0.0.1",
		 port ? port : t->port, pw ? ",password=" : "", pw ? pw : "");
}

/* Start a client; returns after its first prompt. */
static void client(struct rt *t, struct kp *c, unsigned marker_base,
		   const char *extra_connstr)
{
	char cs[512];
	const char *args[] = { "-remote", cs, NULL };
	char *out;

	rt_connstr(t, cs, sizeof(cs), t->password[0] ? t->password : NULL, 0);
	if (extra_connstr)
		strncat(cs, extra_connstr, sizeof(cs) - strlen(cs) - 1);
	kp_start(c, args);
	c->marker = marker_base;
	out = kp_wait_prompt(c, T_MS);
	if (!out)
		fail_msg("client got no prompt:\n%s\nstderr:\n%s",
			 c->out.data ? c->out.data : "",
			 c->err.data ? c->err.data : "");
	assert_non_null(strstr(out, " connected at "));
	free(out);
	/* The server console announces it (§2.4). */
	out = wait_text(&t->srv, " connected at ");
	assert_non_null(strstr(out, "(tcp 127.0.0.1:") ?
				strstr(out, "(tcp 127.0.0.1:") :
				strstr(out, "(ssl 127.0.0.1:"));
	free(out);
}

static void rt_stop(struct rt *t)
{
	if (t->srv.pid > 0) {
		kp_send(&t->srv, "q\n");
		assert_int_equal(kp_finish(&t->srv, T_MS), 0);
	}
	/* Sanitizer builds: nothing reported by the server. */
	if (t->srv.err.data && strstr(t->srv.err.data, "Sanitizer"))
		fail_msg("server stderr:\n%s", t->srv.err.data);
	kp_free(&t->srv);
	kc_stop(&t->sim);
	unlink(t->sock);
}

/* ------------------------------------------------------------------ */

static void three_clients(void **state)
{
	struct rt t;
	struct kp a, b, c, d;
	char *out, *local, *seen;
	const char *cmds[] = { "r", "u nt!KeWorkerStep L4", "dq @rsp L4", "lm",
			       "k" };
	size_t i;
	int st;

	(void)state;
	memset(&t, 0, sizeof(t));
	snprintf(t.password, sizeof(t.password), "Secret12");
	rt_start(&t, "tcp", ",password=Secret12");
	client(&t, &a, 1000, NULL);
	client(&t, &b, 2000, NULL);
	free(wait_text(&a, " connected at "));
	client(&t, &c, 3000, NULL);
	free(wait_text(&a, " connected at "));
	free(wait_text(&b, " connected at "));

	/* Each types in turn; the others see who typed what, and output. */
	out = cmd(&a, "r rip");
	assert_non_null(strstr(out, "rip=fffff800"));
	seen = wait_text(&b, last_mark(&a));
	assert_non_null(strstr(seen, ") issued: r rip\n"));
	assert_non_null(strstr(seen, out));
	free(seen);
	seen = wait_text(&c, last_mark(&a));
	assert_non_null(strstr(seen, ") issued: r rip\n"));
	free(seen);
	seen = wait_text(&t.srv, last_mark(&a));
	assert_non_null(strstr(seen, ") issued: r rip\n"));
	assert_non_null(strstr(seen, out));
	free(seen);
	free(out);

	out = cmd(&b, "? 1+2");
	assert_non_null(strstr(out, "Evaluate expression: 3 = "));
	seen = wait_text(&a, last_mark(&b));
	assert_non_null(strstr(seen, ") issued: ? 1+2\nEvaluate expression: "
				     "3 = "));
	free(seen);
	free(wait_text(&c, last_mark(&b)));
	free(wait_text(&t.srv, last_mark(&b)));
	free(out);

	out = cmd(&c, ".echo hello from c");
	assert_string_equal(out, "hello from c\n");
	seen = wait_text(&a, last_mark(&c));
	assert_non_null(strstr(seen, "issued: .echo hello from c\nhello from "
				     "c\n"));
	free(seen);
	free(wait_text(&b, last_mark(&c)));
	free(wait_text(&t.srv, last_mark(&c)));
	free(out);

	/* A command typed on the server is shown to clients with the
	 * prompt, without an identity. */
	out = cmd(&t.srv, "? 5");
	seen = wait_text(&a, last_mark(&t.srv));
	assert_non_null(strstr(seen, "kd> ? 5\nEvaluate expression: 5 = "));
	assert_null(strstr(seen, "issued: ? 5"));
	free(seen);
	free(wait_text(&b, last_mark(&t.srv)));
	free(wait_text(&c, last_mark(&t.srv)));
	free(out);

	/* What a client sees equals what the local console sees. */
	for (i = 0; i < KD_ARRAY_SIZE(cmds); i++) {
		local = cmd(&t.srv, cmds[i]);
		free(wait_text(&a, last_mark(&t.srv)));
		free(wait_text(&b, last_mark(&t.srv)));
		free(wait_text(&c, last_mark(&t.srv)));
		out = cmd(&a, cmds[i]);
		assert_true(strlen(out) > 10);
		assert_string_equal(out, local);
		free(wait_text(&b, last_mark(&a)));
		free(wait_text(&c, last_mark(&a)));
		free(wait_text(&t.srv, last_mark(&a)));
		free(out);
		free(local);
	}

	/* .servers (§2.2) and .clients (§2.4). */
	out = cmd(&c, ".servers");
	assert_non_null(strstr(out, "0 - Debugger Server - tcp:Port="));
	assert_non_null(strstr(out, ",Password=*\n"));
	assert_null(strstr(out, "Secret12"));
	free(wait_text(&a, last_mark(&c)));
	free(wait_text(&b, last_mark(&c)));
	free(wait_text(&t.srv, last_mark(&c)));
	free(out);
	out = cmd(&t.srv, ".clients");
	{
		const char *p = out;
		int n = 0;

		while ((p = strstr(p, ", last active ")) != NULL) {
			n++;
			p++;
		}
		assert_int_equal(n, 3);
		assert_non_null(strstr(out, " (tcp 127.0.0.1:"));
	}
	free(wait_text(&a, last_mark(&t.srv)));
	free(wait_text(&b, last_mark(&t.srv)));
	free(wait_text(&c, last_mark(&t.srv)));
	free(out);

	/* `q` from a client is refused (§2.5), the session goes on. */
	out = cmd(&b, "q");
	assert_string_equal(out, "Exit a remote ntsd/cdb client with "
				 "Ctrl-b<enter>.\n"
				 "Exit a remote windbg client with File.Exit "
				 "(Alt-F4).\n"
				 "If you really want the server to quit use an "
				 "extra q, such as 'qq' or 'qqd'.\n");
	free(wait_text(&a, last_mark(&b)));
	free(wait_text(&c, last_mark(&b)));
	free(wait_text(&t.srv, last_mark(&b)));
	free(out);

	/* Ctrl+B then Enter detaches b (exit 0); the others see it. */
	kp_send(&b, "\x02\n");
	st = kp_finish(&b, T_MS);
	assert_int_equal(st, 0);
	kp_free(&b);
	free(wait_text(&t.srv, " disconnected at "));
	free(wait_text(&a, " disconnected at "));

	/* A killed client: the session and the others go on. */
	kill(c.pid, SIGKILL);
	kp_finish(&c, T_MS);
	kp_free(&c);
	free(wait_text(&t.srv, " disconnected at "));
	free(wait_text(&a, " disconnected at "));
	out = cmd(&a, "r rip");
	assert_non_null(strstr(out, "rip=fffff800"));
	free(wait_text(&t.srv, last_mark(&a)));
	free(out);

	/* .endsrv 0: exit pending, a new client is refused, a stays. */
	out = cmd(&a, ".endsrv 0");
	assert_string_equal(out, "Server told to exit.  Actual exit may be "
				 "delayed until\nthe next connection "
				 "attempt.\n");
	free(wait_text(&t.srv, last_mark(&a)));
	free(out);
	out = cmd(&t.srv, ".servers");
	assert_string_equal(out, "0 - <Disabled, exit pending>\n");
	free(wait_text(&a, last_mark(&t.srv)));
	free(out);
	{
		char cs[256];
		const char *args[] = { "-remote", cs, NULL };
		char *err = NULL;

		rt_connstr(&t, cs, sizeof(cs), t.password, 0);
		char *sout = NULL;

		st = kp_run(args, "r\n", T_MS, &sout, &err);
		if (st != 1)
			fail_msg("refused client: status %d, out:\n%s\nerr:"
				 "\n%s",
				 st, sout, err);
		free(sout);
		assert_non_null(strstr(err, "kd: cannot connect to '"));
		assert_non_null(strstr(err, "password=*"));
		free(err);
	}
	out = cmd(&t.srv, ".servers");
	assert_string_equal(out, "");
	free(wait_text(&a, last_mark(&t.srv)));
	free(out);
	out = cmd(&a, "? 7");
	assert_non_null(strstr(out, "Evaluate expression: 7 = "));
	free(wait_text(&t.srv, last_mark(&a)));
	free(out);
	/* .endsrv of a server that is not there says what it can end. */
	out = cmd(&a, ".endsrv 5");
	assert_non_null(strstr(out, "No debugging server 5"));
	assert_non_null(strstr(out, "use .endpsrv"));
	free(wait_text(&t.srv, last_mark(&a)));
	free(out);

	/* A second server; the list shows every live one. */
	{
		char spec[128];
		unsigned lo = t.port + 1;

		snprintf(spec, sizeof(spec), ".server tcp:port=%u:%u", lo,
			 lo + 8);
		out = cmd(&t.srv, spec);
		assert_non_null(strstr(out, "Server started.  Client can "
					    "connect with any of these "
					    "command lines\n1: kd -remote "
					    "tcp:Port="));
		assert_null(strstr(out, "0: kd -remote"));
		t.port = (unsigned)strtoul(strstr(out, "Port=") + 5, NULL, 10);
		t.password[0] = '\0';
		free(wait_text(&a, last_mark(&t.srv)));
		free(out);
	}

	/* .remote_exit from a client script: final commands run on the
	 * server, the client leaves with status 0, the session stays. */
	{
		char script[256], cs[256];
		const char *args[] = { "-remote", cs, "-cf", script, NULL };
		FILE *f;

		snprintf(script, sizeof(script), "/tmp/openkd-kdremote-%d.txt",
			 (int)getpid());
		f = fopen(script, "w");
		assert_non_null(f);
		fputs("r rip\n.remote_exit .echo FINAL_ONE; ? 0x41\n"
		      ".echo NEVER_SENT\n",
		      f);
		fclose(f);
		rt_connstr(&t, cs, sizeof(cs), NULL, 0);
		kp_start(&d, args);
		st = kp_finish(&d, T_MS);
		assert_int_equal(st, 0);
		assert_non_null(strstr(d.out.data, "rip=fffff800"));
		assert_non_null(strstr(d.out.data, "FINAL_ONE\n"));
		assert_null(strstr(d.out.data, "NEVER_SENT"));
		kp_free(&d);
		unlink(script);
		seen = wait_text(&t.srv, "FINAL_ONE\nEvaluate expression: 65");
		assert_non_null(strstr(seen, "issued: .remote_exit .echo "
					     "FINAL_ONE; ? 0x41\n"));
		if (!strstr(seen, " disconnected at "))
			free(wait_text(&t.srv, " disconnected at "));
		free(seen);
		free(wait_text(&a, "FINAL_ONE"));
	}

	/* qq from a client ends the server session: kd exits, clients are
	 * told and exit 0. */
	kp_send(&a, "qq\n");
	st = kp_finish(&t.srv, T_MS);
	assert_int_equal(st, 0);
	st = kp_finish(&a, T_MS);
	assert_int_equal(st, 0);
	assert_non_null(strstr(a.out.data, "The debugging session has "
					   "ended."));
	kp_free(&a);
	rt_stop(&t);
}

/* Wrong password, then `q` on the server ends the clients too. */
static void password_and_quit(void **state)
{
	struct rt t;
	struct kp a;
	char cs[256], *err = NULL;
	const char *args[] = { "-remote", cs, NULL };
	int st;

	(void)state;
	memset(&t, 0, sizeof(t));
	rt_start(&t, "tcp", ",password=Right1");
	rt_connstr(&t, cs, sizeof(cs), "Wrong1", 0);
	st = kp_run(args, "r\n", T_MS, NULL, &err);
	assert_int_equal(st, 1);
	assert_non_null(strstr(err, "kd: cannot connect to '"));
	assert_null(strstr(err, "Wrong1"));
	free(err);
	wait_any(&t.srv, false, "Server 0 refused a client");
	snprintf(t.password, sizeof(t.password), "Right1");
	client(&t, &a, 100, NULL);
	kp_send(&t.srv, "q\n");
	assert_int_equal(kp_finish(&t.srv, T_MS), 0);
	assert_int_equal(kp_finish(&a, T_MS), 0);
	assert_non_null(strstr(a.out.data, "The debugging session has "
					   "ended."));
	kp_free(&a);
	rt_stop(&t);
}

/* TLS with a certificate made here by the openssl CLI. */
static void tls(void **state)
{
	struct rt t;
	struct kp a;
	char extra[512], ca[300], cmdline[1024], *out;

	(void)state;
	memset(&t, 0, sizeof(t));
	if (system("openssl version >/dev/null 2>&1") != 0)
		skip();
	mkdtemp_dir(&t);
	snprintf(cmdline, sizeof(cmdline),
		 "openssl req -x509 -newkey rsa:2048 -nodes -days 1 "
		 "-subj /CN=localhost -addext subjectAltName=DNS:localhost "
		 "-keyout %s/key.pem -out %s/cert.pem >/dev/null 2>&1",
		 t.dir, t.dir);
	assert_int_equal(system(cmdline), 0);
	snprintf(extra, sizeof(extra), ",cert=%s/cert.pem,key=%s/key.pem",
		 t.dir, t.dir);
	rt_start(&t, "ssl", extra);
	snprintf(ca, sizeof(ca), ",ca=%s/cert.pem", t.dir);
	client(&t, &a, 100, ca);
	out = cmd(&a, "r rip");
	assert_non_null(strstr(out, "rip=fffff800"));
	free(out);
	out = wait_text(&t.srv, last_mark(&a));
	assert_non_null(strstr(out, "(ssl 127.0.0.1:"));
	free(out);
	kp_send(&a, "\x02\n");
	assert_int_equal(kp_finish(&a, T_MS), 0);
	kp_free(&a);
	rt_stop(&t);
	snprintf(cmdline, sizeof(cmdline), "rm -rf %s", t.dir);
	assert_int_equal(system(cmdline), 0);
}

/* Send one raw message on @p ch. */
static void raw_send(struct kd_rchan *ch, const void *m, size_t n)
{
	int rc = kd_rchan_send(ch, m, n);

	/* The server may hang up while we still send: that is fine. */
	assert_true(rc == KD_OK || rc == KD_EDISCONNECTED);
}

/*
 * A fuzzed client stream after a valid handshake: seeded random and
 * mutated messages, oversized lines, a flood.  Each bad client is
 * dropped with a reason on the server console; the session and a
 * well-behaved client go on.
 */
static void fuzzed_stream(void **state)
{
	struct rt t;
	struct kp a;
	char cs[256], *out;
	unsigned seed = 12345, round, dropped = 0;

	(void)state;
	memset(&t, 0, sizeof(t));
	rt_start(&t, "tcp", NULL);
	client(&t, &a, 100, NULL);
	rt_connstr(&t, cs, sizeof(cs), NULL, 0);
	for (round = 0; round < 8; round++) {
		struct kd_rchan *ch = NULL;
		uint8_t msg[KD_SRVMSG_MAX_MSG];
		size_t n = 0, i;
		int k;

		k = kd_rconnect(&ch, cs, KD_RCHAN_SERVICE_DBGSRV, T_MS);
		if (k != KD_OK)
			fail_msg("round %u: connect: %d %s", round, k,
				 kd_error_last()->message);
		switch (round) {
		case 0: /* random bytes */
			for (i = 0; i < 64; i++)
				msg[i] = (uint8_t)rand_r(&seed);
			raw_send(ch, msg, 64);
			break;
		case 1: /* a line with a control character */
			assert_int_equal(kd_srvmsg_encode(msg, sizeof(msg),
							  KD_SRVMSG_LINE, "r",
							  1, &n),
					 KD_OK);
			msg[8] = 0x1b;
			raw_send(ch, msg, n);
			break;
		case 2: /* server message type from a client */
			assert_int_equal(kd_srvmsg_encode(msg, sizeof(msg),
							  KD_SRVMSG_LINE, "r",
							  1, &n),
					 KD_OK);
			msg[1] = KD_SRVMSG_OUTPUT;
			raw_send(ch, msg, n);
			break;
		case 3: /* a flood of valid lines while the target runs
			 * (the main thread waits, nothing is consumed) */
			kp_send(&a, "g\n");
			wait_any(&t.srv, false, ") issued: g\n");
			assert_int_equal(kd_srvmsg_encode(msg, sizeof(msg),
							  KD_SRVMSG_LINE,
							  ".echo flood", 11,
							  &n),
					 KD_OK);
			/* Until the server hangs up (it must, long before
			 * the end: at most 32 lines may wait). */
			for (k = 0; k < 20000; k++) {
				if (kd_rchan_send(ch, msg, n) != KD_OK)
					break;
			}
			break;
		case 4: /* length field lies */
			assert_int_equal(kd_srvmsg_encode(msg, sizeof(msg),
							  KD_SRVMSG_LINE, "r",
							  1, &n),
					 KD_OK);
			msg[4] = 9;
			raw_send(ch, msg, n);
			break;
		default: /* mutated valid messages */
			assert_int_equal(kd_srvmsg_encode(msg, sizeof(msg),
							  KD_SRVMSG_LINE, "? 1",
							  3, &n),
					 KD_OK);
			for (k = 0; k < 4; k++)
				msg[(unsigned)rand_r(&seed) % n] ^=
					(uint8_t)(1u + (unsigned)rand_r(&seed) %
							       255u);
			msg[0] = 7; /* at least the version is wrong */
			raw_send(ch, msg, n);
			for (i = 0; i < 200; i++)
				msg[i] = (uint8_t)rand_r(&seed);
			raw_send(ch, msg, 200);
			break;
		}
		/* The server hangs up on it. */
		for (k = 0; k < 100; k++) {
			int rc = kd_rchan_recv(ch, msg, sizeof(msg), &n, 100);

			if (rc == KD_EDISCONNECTED || rc == KD_EPROTO)
				break;
		}
		if (k >= 100) {
			kp_pump(&t.srv, 100);
			fail_msg("round %u: the server kept the client; "
				 "server output:\n%s",
				 round, t.srv.out.data + t.srv.pos);
		}
		kd_rchan_close(ch);
		dropped++;
		if (round == 3) {
			/* Ctrl+C on the good client breaks in. */
			kp_interrupt(&a);
			out = wait_text(&a, "Break instruction exception");
			free(out);
		}
	}
	/* The console names the reasons. */
	wait_any(&t.srv, false, "it sent a malformed message");
	wait_any(&t.srv, false, "command lines ahead");
	/* The session and the good client go on. */
	out = cmd(&a, "r rip");
	assert_non_null(strstr(out, "rip=fffff800"));
	free(out);
	out = cmd(&t.srv, ".clients");
	assert_non_null(strstr(out, ", last active "));
	assert_null(
		strstr(strstr(out, ", last active ") + 1, ", last active "));
	free(out);
	assert_int_equal(dropped, 8);
	kp_send(&a, "\x02\n");
	assert_int_equal(kp_finish(&a, T_MS), 0);
	kp_free(&a);
	rt_stop(&t);
}

/* `.remote NAME`: the console relay over a unix socket. */
static void relay(void **state)
{
	struct rt t;
	struct kp r;
	const char *args[] = { "-remote", "relay:kdtest", NULL };
	char path[256], *out;
	struct stat st;

	(void)state;
	memset(&t, 0, sizeof(t));
	mkdtemp_dir(&t);
	setenv("XDG_RUNTIME_DIR", t.dir, 1);
	rt_start(&t, "tcp", NULL);
	out = cmd(&t.srv, ".remote kdtest");
	snprintf(path, sizeof(path), "%s/openkd/remote-kdtest.sock", t.dir);
	assert_non_null(strstr(out, path));
	assert_non_null(strstr(out, "kd -remote relay:kdtest"));
	free(out);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);

	kp_start(&r, args);
	r.marker = 500;
	out = kp_wait_prompt(&r, T_MS);
	assert_non_null(out);
	assert_non_null(strstr(out, " (relay kdtest) connected at "));
	free(out);
	free(wait_text(&t.srv, " (relay kdtest) connected at "));
	out = cmd(&r, "r rip");
	assert_non_null(strstr(out, "rip=fffff800"));
	free(out);
	out = wait_text(&t.srv, last_mark(&r));
	assert_non_null(strstr(out, " (relay kdtest) issued: r rip\n"));
	free(out);
	/* The console's text reaches the relay client. */
	out = cmd(&t.srv, ".echo from the console");
	free(out);
	out = wait_text(&r, "from the console\n");
	assert_non_null(strstr(out, "kd> .echo from the console\n"));
	free(out);
	kp_send(&r, "\x02\n");
	assert_int_equal(kp_finish(&r, T_MS), 0);
	kp_free(&r);
	free(wait_text(&t.srv, " disconnected at "));
	rt_stop(&t);
	/* The socket goes with the session. */
	assert_int_not_equal(stat(path, &st), 0);
	/* ... in a directory only its user can enter. */
	snprintf(path, sizeof(path), "%s/openkd", t.dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	rmdir(path);
	rmdir(t.dir);
	unsetenv("XDG_RUNTIME_DIR");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(three_clients),
		cmocka_unit_test(password_and_quit),
		cmocka_unit_test(tls),
		cmocka_unit_test(fuzzed_stream),
		cmocka_unit_test(relay),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
