/* SPDX-License-Identifier: MIT */
/*
 * Text from the target or a remote peer never reaches the terminal raw
 * (issue 24, finding 8).  Real processes:
 *   - kdsim's DbgPrint format string is overwritten through kd (`eb`)
 *     with a title change, a screen clear and a lone CR; the target then
 *     prints it by itself, and kd's console and its .logopen file show
 *     `\x1b]0;...` escaped, without one raw ESC byte; so does a `kd
 *     -remote` client of a `kd -server` on that target;
 *   - a hostile debugging server (this test, over the real remote
 *     channel) sends output full of escapes and 8-bit CSI to `kd
 *     -remote`, which shows them escaped.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>

#include <kd/rchan.h>
#include <kd/proto/srvmsg.h>

#include "kdsim_client.h"
#include "kd_proc.h"
#include "kdsrv_proc.h"

#define T_MS 15000

/* What replaces "kdsim: cpu " (11 bytes) in "kdsim: cpu %u iteration". */
#define EVIL_BYTES "1b 5d 30 3b 78 07 1b 5b 32 4a 0d"
#define EVIL_SHOWN "\\x1b]0;x\\x07\\x1b[2J\\x0d"

static char *cmd(struct kp *p, const char *c)
{
	char *out = kp_cmd(p, c, T_MS);

	if (!out)
		fail_msg("no answer to '%s'; stdout:\n%s\nstderr:\n%s", c,
			 p->out.data ? p->out.data : "",
			 p->err.data ? p->err.data : "");
	return out;
}

static char *slurp(const char *path)
{
	struct ks tmp;

	snprintf(tmp.log, sizeof(tmp.log), "%s", path);
	return ks_log(&tmp);
}

/* Overwrite the status DbgPrint's format string (kd @p p is stopped). */
static void poison_dbgprint(struct kp *p)
{
	char line[256], addr[32] = "", *out;
	const char *at;

	out = cmd(p, "s -a fffff800`00400000 L200000 \"kdsim: cpu\"");
	/* A line of its own, after any notice the console printed first. */
	at = strstr(out, "fffff800`");
	if (!at || sscanf(at, "%31[0-9a-f`]", addr) != 1 || strlen(addr) != 17)
		fail_msg("search printed:\n%s\nall:\n%s\nstderr:\n%s", out,
			 p->out.data ? p->out.data : "",
			 p->err.data ? p->err.data : "");
	free(out);
	snprintf(line, sizeof(line), "eb %s " EVIL_BYTES, addr);
	free(cmd(p, line));
}

/* Pump @p p until its stdout holds @p needle or T_MS passed. */
static bool wait_out(struct kp *p, const char *needle)
{
	uint64_t t0 = kp_now_ms();

	while (kp_now_ms() - t0 < T_MS &&
	       !(p->out.data && strstr(p->out.data, needle)))
		kp_pump(p, 100);
	return p->out.data && strstr(p->out.data, needle);
}

static void test_dbgprint_escaped(void **state)
{
	char sock[96], k[160], logf[128], line[256], *banner, *log;
	const char *sargs[] = { "-k", k, "--print-ms", "100", NULL };
	const char *kargs[] = { "-k", k, "-bonc", NULL };
	struct kc sim;
	struct kp p;

	(void)state;
	snprintf(sock, sizeof(sock), "/tmp/openkd-textsafe-%d.sock",
		 (int)getpid());
	snprintf(logf, sizeof(logf), "/tmp/openkd-textsafe-%d.log",
		 (int)getpid());
	unlink(sock);
	unlink(logf);
	snprintf(k, sizeof(k), "com:pipe,port=%s", sock);
	kc_spawn(&sim, sargs);
	kp_start(&p, kargs);
	banner = kp_wait_prompt(&p, T_MS);
	assert_non_null(banner);
	free(banner);

	poison_dbgprint(&p);
	snprintf(line, sizeof(line), ".logopen %s", logf);
	free(cmd(&p, line));

	/* The target prints it by itself every 100 ms. */
	assert_true(kp_send(&p, "g\n"));
	(void)wait_out(&p, EVIL_SHOWN "0 iteration ");
	kp_interrupt(&p);
	banner = kp_wait_prompt(&p, T_MS);
	assert_non_null(banner);
	free(banner);
	free(cmd(&p, ".logclose"));
	kp_send(&p, "q\n");
	(void)kp_finish(&p, T_MS);
	if (!p.out.data || !strstr(p.out.data, EVIL_SHOWN "0 iteration "))
		fail_msg("no escaped DbgPrint; stdout ends:\n%s",
			 p.out.data && p.out.len > 1500 ?
				 p.out.data + p.out.len - 1500 :
			 p.out.data ? p.out.data :
				      "");
	assert_null(memchr(p.out.data, 0x1b, p.out.len));
	assert_true(!p.err.data || !memchr(p.err.data, 0x1b, p.err.len));
	log = slurp(logf);
	if (!strstr(log, EVIL_SHOWN "0 iteration ") || strchr(log, 0x1b))
		fail_msg("log file:\n%s", log);
	free(log);
	kp_free(&p);
	kc_stop(&sim);
	unlink(sock);
	unlink(logf);
}

/*
 * The same DbgPrint through `kd -server`: a `kd -remote` client sees it
 * escaped (the server's engine escapes it once for every output).
 */
static void test_dbgprint_escaped_to_remote_client(void **state)
{
	char sock[96], k[160], spec[64], cs[96], *banner;
	const char *sargs[] = { "-k", k, "--print-ms", "100", NULL };
	const char *kargs[] = { "-server", spec, "-k", k, "-bonc", NULL };
	const char *cargs[] = { "-remote", cs, NULL };
	unsigned base = ks_port_base() + 750;
	const char *at;
	struct kc sim;
	struct kp srv, cli;

	(void)state;
	snprintf(sock, sizeof(sock), "/tmp/openkd-textsafe-%d-r.sock",
		 (int)getpid());
	unlink(sock);
	snprintf(k, sizeof(k), "com:pipe,port=%s", sock);
	kc_spawn(&sim, sargs);
	snprintf(spec, sizeof(spec), "tcp:port=%u:%u", base, base + 40);
	kp_start(&srv, kargs);
	srv.marker = 9000;
	banner = kp_wait_prompt(&srv, T_MS);
	assert_non_null(banner);
	at = strstr(banner, ":Port=");
	assert_non_null(at);
	snprintf(cs, sizeof(cs), "tcp:server=127.0.0.1,port=%lu",
		 strtoul(at + 6, NULL, 10));
	free(banner);
	kp_start(&cli, cargs);
	banner = kp_wait_prompt(&cli, T_MS);
	assert_non_null(banner);
	free(banner);
	/* The server console announces the client first. */
	assert_true(wait_out(&srv, " connected at "));
	poison_dbgprint(&srv);
	assert_true(kp_send(&srv, "g\n"));
	if (!wait_out(&cli, EVIL_SHOWN "0 iteration "))
		fail_msg("the client saw no escaped DbgPrint:\n%s",
			 cli.out.data ? cli.out.data : "");
	kp_interrupt(&srv);
	banner = kp_wait_prompt(&srv, T_MS);
	assert_non_null(banner);
	free(banner);
	assert_null(memchr(cli.out.data, 0x1b, cli.out.len));
	assert_null(memchr(srv.out.data, 0x1b, srv.out.len));
	kp_send(&cli, "\x02"); /* Ctrl+B: detach */
	(void)kp_finish(&cli, T_MS);
	kp_send(&srv, "q\n");
	(void)kp_finish(&srv, T_MS);
	kp_free(&cli);
	kp_free(&srv);
	kc_stop(&sim);
	unlink(sock);
}

/* A hostile debugging server: output with escapes, then the end. */
struct hostile {
	struct kd_rlistener *l;
	int rc;
};

static int send_msg(struct kd_rchan *ch, unsigned type, const char *text)
{
	uint8_t buf[KD_SRVMSG_MAX_MSG];
	size_t n;
	int rc;

	rc = kd_srvmsg_encode(buf, sizeof(buf), type, text, strlen(text), &n);
	return rc < 0 ? rc : kd_rchan_send(ch, buf, n);
}

static void *hostile_main(void *arg)
{
	struct hostile *h = arg;
	struct kd_rchan *ch = NULL;

	h->rc = kd_raccept(h->l, &ch, T_MS);
	if (h->rc < 0)
		return NULL;
	h->rc = send_msg(ch, KD_SRVMSG_OUTPUT,
			 "\x1b]0;pwned\x07\x1b[2J\x1b[Hfake\rkd> \xc2\x9b"
			 "31m\xe2\x82\xac ok\r\n");
	if (h->rc == KD_OK)
		h->rc = send_msg(ch, KD_SRVMSG_ENDED, "bye from the server");
	usleep(300000);
	kd_rchan_close(ch);
	kd_rchan_thread_done();
	return NULL;
}

static void test_hostile_debugging_server(void **state)
{
	struct hostile h = { NULL, 0 };
	char spec[64], cs[96];
	const char *args[] = { "-remote", cs, NULL };
	unsigned base = ks_port_base() + 700;
	pthread_t tid;
	struct kp p;
	uint64_t t0;

	(void)state;
	snprintf(spec, sizeof(spec), "tcp:port=%u:%u", base, base + 40);
	assert_int_equal(kd_rlisten(&h.l, spec, KD_RCHAN_SERVICE_DBGSRV),
			 KD_OK);
	snprintf(cs, sizeof(cs), "tcp:server=127.0.0.1,port=%u",
		 kd_rlistener_port(h.l));
	assert_int_equal(pthread_create(&tid, NULL, hostile_main, &h), 0);
	kp_start(&p, args);
	t0 = kp_now_ms();
	while (kp_now_ms() - t0 < T_MS &&
	       !(p.out.data && strstr(p.out.data, "bye from the server")))
		kp_pump(&p, 100);
	(void)kp_finish(&p, T_MS);
	pthread_join(tid, NULL);
	kd_rlistener_close(h.l);
	assert_int_equal(h.rc, KD_OK);
	if (!p.out.data ||
	    !strstr(p.out.data, "\\x1b]0;pwned\\x07\\x1b[2J\\x1b[Hfake"
				"\\x0dkd> \\xc2\\x9b31m\xe2\x82\xac ok\r\n"))
		fail_msg("kd -remote printed:\n%s\nstderr:\n%s",
			 p.out.data ? p.out.data : "",
			 p.err.data ? p.err.data : "");
	assert_null(memchr(p.out.data, 0x1b, p.out.len));
	kp_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dbgprint_escaped),
		cmocka_unit_test(test_dbgprint_escaped_to_remote_client),
		cmocka_unit_test(test_hostile_debugging_server),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
