/* SPDX-License-Identifier: MIT */
/*
 * kdsrv's options and edges with real processes: a silent TCP peer does
 * not hold up other clients' accepts; `trans=@{com:pipe}` and
 * `trans=@{net:}` are filled from kdsrv's environment; an idle client is
 * told at once when another one ends the server; `clicon=` (kdsrv dials
 * the client) and `hidden`.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <kd/kdsrv.h>

#include "kdsim_client.h"
#include "kd_proc.h"
#include "kdsrv_proc.h"

#define T_MS 15000

struct rig {
	struct kc com[2]; /* serial over unix sockets */
	char sock[2][96];
	struct kc net; /* KDNET */
	unsigned net_port;
	unsigned base;
};

static struct rig R;

static void spawn_com(int i)
{
	char k[160];
	const char *args[] = { "-k", k, "--print-ms", "0", NULL };

	snprintf(R.sock[i], sizeof(R.sock[i]),
		 "/tmp/openkd-kdsrvopt-%d-%d.sock", (int)getpid(), i);
	unlink(R.sock[i]);
	snprintf(k, sizeof(k), "com:pipe,port=%s", R.sock[i]);
	kc_spawn(&R.com[i], args);
}

static int setup(void **state)
{
	char k[160];
	const char *args[] = { "-k", k, "--print-ms", "0", NULL };

	(void)state;
	memset(&R, 0, sizeof(R));
	R.base = ks_port_base() + 400;
	spawn_com(0);
	spawn_com(1);
	R.net_port = R.base + 150;
	snprintf(k, sizeof(k),
		 "net:port=%u,key=5.6.7.8,hostip=127.0.0.1,offer_ms=200",
		 R.net_port);
	kc_spawn(&R.net, args);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	kc_stop(&R.com[0]);
	kc_stop(&R.com[1]);
	kc_stop(&R.net);
	unlink(R.sock[0]);
	unlink(R.sock[1]);
	return 0;
}

static void start_kd(struct kp *p, char *k, size_t cap, const char *server,
		     const char *trans)
{
	const char *args[] = { "-k", k, "-bonc", NULL };
	char *banner;

	snprintf(k, cap, "kdsrv:server=@{%s},trans=@{%s}", server, trans);
	kp_start(p, args);
	banner = kp_wait_prompt(p, T_MS);
	if (!banner)
		fail_msg("%s: no prompt; stdout:\n%s\nstderr:\n%s", k,
			 p->out.data ? p->out.data : "",
			 p->err.data ? p->err.data : "");
	assert_non_null(strstr(banner, "Kernel Debugger connection "
				       "established."));
	free(banner);
}

static void expect(struct kp *p, const char *c, const char *needle)
{
	char *out = kp_cmd(p, c, T_MS);

	if (!out || !strstr(out, needle))
		fail_msg("'%s' printed:\n%s\nstderr:\n%s\nexpected: %s", c,
			 out ? out : "(nothing)",
			 p->err.data ? p->err.data : "", needle);
	free(out);
}

static void quit_kd(struct kp *p)
{
	kp_send(p, "q\n");
	assert_int_equal(kp_finish(p, T_MS), 0);
	kp_free(p);
}

static void end_srv(struct ks *s)
{
	kill(s->pid, SIGTERM);
	assert_int_equal(ks_wait(s, 8000), 0);
	ks_stop(s);
}

static int dial_silent(unsigned port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/*
 * Three peers connect and say nothing (each would hold kd_raccept() for
 * its 5 s handshake limit); a good client still gets its prompt at once,
 * and each silent peer is logged as refused afterwards.
 */
static void test_silent_peers_do_not_block(void **state)
{
	char spec[64], srvs[96], k[512];
	struct ks s;
	struct kp p;
	int fd[3];
	uint64_t t0, took;

	(void)state;
	snprintf(spec, sizeof(spec), "tcp:port=%u:%u", R.base, R.base + 40);
	assert_true(ks_start(&s, spec, ks_allow_pipes("kdsrvopt", NULL)));
	for (int i = 0; i < 3; i++)
		fd[i] = dial_silent(s.port);
	snprintf(srvs, sizeof(srvs), "tcp:server=127.0.0.1,port=%u", s.port);
	t0 = kp_now_ms();
	start_kd(&p, k, sizeof(k), srvs, R.com[0].host_connstr);
	took = kp_now_ms() - t0;
	if (took > 4000)
		fail_msg("the good client waited %llu ms behind silent peers",
			 (unsigned long long)took);
	expect(&p, "vertarget", "Kernel Version 19041");
	quit_kd(&p);
	/* The silent ones time out in their own threads, each logged. */
	assert_true(ks_log_wait(&s, "refused a connection", 8000));
	for (int i = 0; i < 3; i++)
		close(fd[i]);
	end_srv(&s);
}

/*
 * `trans=@{com:pipe}` and `trans=@{net:}` take the left-out port (and
 * KDNET key) from kdsrv's environment; parameters given win.
 */
static void test_trans_from_environment(void **state)
{
	char spec[64], srvs[96], k[512], port[16], buf[600];
	struct ks s;
	struct kp p;
	char *log;

	(void)state;
	/* The rules themselves, in this process's environment. */
	setenv("_NT_DEBUG_PORT", "/dev/ttyS3", 1);
	setenv("_NT_DEBUG_BAUD_RATE", "57600", 1);
	setenv("OPENKD_KDNET_PORT", "50001", 1);
	setenv("OPENKD_KDNET_KEY", "1.2.3.4", 1);
	assert_int_equal(kd_srv_trans_defaults("com:", buf, sizeof(buf)),
			 KD_OK);
	assert_string_equal(buf, "com:port=/dev/ttyS3,baud=57600");
	assert_int_equal(
		kd_srv_trans_defaults("COM:baud=9600", buf, sizeof(buf)),
		KD_OK);
	assert_string_equal(buf, "COM:baud=9600,port=/dev/ttyS3");
	assert_int_equal(kd_srv_trans_defaults("com:pipe", buf, sizeof(buf)),
			 KD_OK);
	assert_string_equal(buf, "com:pipe,port=/dev/ttyS3");
	assert_int_equal(kd_srv_trans_defaults("net:port=7", buf, sizeof(buf)),
			 KD_OK);
	assert_string_equal(buf, "net:port=7,key=1.2.3.4");
	assert_int_equal(
		kd_srv_trans_defaults("fault:seed=2|com", buf, sizeof(buf)),
		KD_OK);
	assert_string_equal(buf, "fault:seed=2|com:port=/dev/ttyS3,baud=57600");
	setenv("_NT_DEBUG_PORT", "x,ipport=1", 1);
	assert_int_equal(kd_srv_trans_defaults("com:", buf, sizeof(buf)),
			 KD_EINVAL);

	/* The real thing: kdsrv started with these variables. */
	setenv("_NT_DEBUG_PORT", R.sock[1], 1);
	unsetenv("_NT_DEBUG_BAUD_RATE");
	snprintf(port, sizeof(port), "%u", R.net_port);
	setenv("OPENKD_KDNET_PORT", port, 1);
	setenv("OPENKD_KDNET_KEY", "5.6.7.8", 1);
	snprintf(spec, sizeof(spec), "tcp:port=%u:%u", R.base + 41,
		 R.base + 80);
	assert_true(ks_start(&s, spec, NULL));
	unsetenv("_NT_DEBUG_PORT");
	unsetenv("OPENKD_KDNET_PORT");
	unsetenv("OPENKD_KDNET_KEY");
	snprintf(srvs, sizeof(srvs), "tcp:server=127.0.0.1,port=%u", s.port);

	start_kd(&p, k, sizeof(k), srvs, "com:pipe");
	expect(&p, "vertarget", "Kernel Version 19041");
	quit_kd(&p);
	start_kd(&p, k, sizeof(k), srvs, "net:");
	expect(&p, "vertarget", "Kernel Version 19041");
	quit_kd(&p);
	log = ks_log(&s);
	snprintf(buf, sizeof(buf), "session open on com:pipe,port=%s ",
		 R.sock[1]);
	if (!strstr(log, buf))
		fail_msg("no '%s' in the log:\n%s", buf, log);
	snprintf(buf, sizeof(buf), "session open on net:port=%u,key=* (KDNET",
		 R.net_port);
	if (!strstr(log, buf))
		fail_msg("no '%s' in the log:\n%s", buf, log);
	free(log);
	end_srv(&s);
}

/*
 * Client A sits at its prompt; client B ends the server with .endpsrv.
 * A prints the SERVER ENDING notice at once, without typing anything.
 */
static void test_endpsrv_tells_idle_clients(void **state)
{
	char spec[64], srvs[96], ka[512], kb[512];
	struct ks s;
	struct kp a, b;
	uint64_t t0;

	(void)state;
	snprintf(spec, sizeof(spec), "tcp:port=%u:%u", R.base + 81,
		 R.base + 120);
	assert_true(ks_start(&s, spec, ks_allow_pipes("kdsrvopt", NULL)));
	snprintf(srvs, sizeof(srvs), "tcp:server=127.0.0.1,port=%u", s.port);
	start_kd(&a, ka, sizeof(ka), srvs, R.com[0].host_connstr);
	start_kd(&b, kb, sizeof(kb), srvs, R.com[1].host_connstr);
	expect(&a, "vertarget", "Kernel Version 19041");
	expect(&b, ".endpsrv", "KD connection server at tcp:Port=");
	assert_int_equal(ks_wait(&s, 8000), 0);
	t0 = kp_now_ms();
	while (kp_now_ms() - t0 < 3000 &&
	       !(a.err.data && strstr(a.err.data, "SERVER ENDING")))
		kp_pump(&a, 100);
	if (!a.err.data ||
	    !strstr(a.err.data, "SERVER ENDING: the KD "
				"connection server tcp:Port=") ||
	    !strstr(a.err.data, "is ending, .endpsrv from 127.0.0.1:"))
		fail_msg("idle client A was not told; stderr:\n%s",
			 a.err.data ? a.err.data : "");
	quit_kd(&b);
	kp_send(&a, "q\n");
	(void)kp_finish(&a, T_MS);
	kp_free(&a);
	ks_stop(&s);
}

/* clicon=: the client listens, kdsrv dials it (and serves only it). */
static void test_clicon(void **state)
{
	char spec[64], srvs[96], k[1024];
	const char *args[] = { "-k", k, "-bonc", NULL };
	unsigned port = R.base + 121;
	struct ks s;
	struct kp p;
	char *banner, *log;

	(void)state;
	/* The client first: it listens on the port and waits. */
	snprintf(srvs, sizeof(srvs), "tcp:clicon=127.0.0.1,port=%u", port);
	snprintf(k, sizeof(k), "kdsrv:server=@{%s},trans=@{%s}", srvs,
		 R.com[0].host_connstr);
	kp_start(&p, args);
	kp_pump(&p, 300);
	snprintf(spec, sizeof(spec), "tcp:port=%u,clicon=127.0.0.1", port);
	assert_true(ks_start(&s, spec, ks_allow_pipes("kdsrvopt", NULL)));
	assert_non_null(strstr(s.ready, "tcp:Clicon="));
	banner = kp_wait_prompt(&p, T_MS);
	if (!banner)
		fail_msg("clicon client: no prompt; stderr:\n%s",
			 p.err.data ? p.err.data : "");
	free(banner);
	expect(&p, "vertarget", "Kernel Version 19041");
	quit_kd(&p);
	log = ks_log(&s);
	assert_non_null(strstr(log, "(tcp): session open on"));
	free(log);
	end_srv(&s);
}

/* hidden: not announced (logged so), serves clients like any other. */
static void test_hidden(void **state)
{
	char spec[64], srvs[96], k[512];
	struct ks s;
	struct kp p;

	(void)state;
	snprintf(spec, sizeof(spec), "tcp:port=%u:%u,hidden", R.base + 122,
		 R.base + 149);
	assert_true(ks_start(&s, spec, ks_allow_pipes("kdsrvopt", NULL)));
	assert_true(ks_log_wait(&s, "(hidden: not announced)", 2000));
	snprintf(srvs, sizeof(srvs), "tcp:server=127.0.0.1,port=%u", s.port);
	start_kd(&p, k, sizeof(k), srvs, R.com[1].host_connstr);
	expect(&p, "vertarget", "Kernel Version 19041");
	quit_kd(&p);
	end_srv(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_silent_peers_do_not_block),
		cmocka_unit_test(test_trans_from_environment),
		cmocka_unit_test(test_endpsrv_tells_idle_clients),
		cmocka_unit_test(test_clicon),
		cmocka_unit_test(test_hidden),
	};

	signal(SIGPIPE, SIG_IGN);
	if (!ks_path()) {
		fputs("kdsrv is not built: skipped\n", stderr);
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
