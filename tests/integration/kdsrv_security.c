/* SPDX-License-Identifier: MIT */
/*
 * kdsrv's defences with real processes: a wrong password is refused and
 * logged, repeated failures are throttled, the smart client works over TLS
 * with a certificate the test makes with the openssl CLI (and refuses a
 * server it cannot verify), a seeded stream of mutated messages from
 * authenticated clients gets each of them disconnected with a logged
 * reason, a flood trips the message rate limit, and a good client still
 * works afterwards.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <sys/stat.h>
#include <cmocka.h>

#include <kd/proto/kdsrv.h>
#include <kd/rchan.h>

#include "kdsim_client.h"
#include "kd_proc.h"
#include "kdsrv_proc.h"

#define T_MS 15000

static struct kc g_sim;
static char g_sock[96];
static char g_dir[96];

static int setup(void **state)
{
	char k[160];
	const char *args[] = { "-k", k, "--print-ms", "0", NULL };

	(void)state;
	snprintf(g_sock, sizeof(g_sock), "/tmp/openkd-kdsrvsec-%d.sock",
		 (int)getpid());
	unlink(g_sock);
	snprintf(k, sizeof(k), "com:pipe,port=%s", g_sock);
	kc_spawn(&g_sim, args);
	snprintf(g_dir, sizeof(g_dir), "/tmp/openkd-kdsrvsec-%d",
		 (int)getpid());
	mkdir(g_dir, 0700);
	return 0;
}

static int teardown(void **state)
{
	char cmdline[256];
	int rc;

	(void)state;
	kc_stop(&g_sim);
	unlink(g_sock);
	snprintf(cmdline, sizeof(cmdline), "rm -rf %s", g_dir);
	rc = system(cmdline);
	(void)rc;
	return 0;
}

/* Run a one-shot smart client; returns its exit status. */
static int client(const char *server, const char *input, char **out, char **err)
{
	char k[600];
	const char *args[] = { "-k", k, "-bonc", NULL };

	snprintf(k, sizeof(k), "kdsrv:server=@{%s},trans=@{com:pipe,port=%s}",
		 server, g_sock);
	return kp_run(args, input, T_MS, out, err);
}

/* Three clients with a wrong password: the third failure starts a block. */
static void fail_thrice(unsigned port)
{
	char server[160], *out, *err;
	int st;

	snprintf(server, sizeof(server),
		 "tcp:server=127.0.0.1,port=%u,password=Wrong1", port);
	for (int i = 0; i < 3; i++) {
		st = client(server, "q\n", &out, &err);
		assert_int_not_equal(st, 0);
		if (!strstr(err, "wrong password") &&
		    !strstr(out, "wrong password"))
			fail_msg("client %d said:\n%s\n%s", i, out, err);
		free(out);
		free(err);
	}
}

/*
 * The throttle in both its states, each made certain by the block length
 * the server is given (--throttle-ms) rather than by when the test's
 * clients happen to run: blocked for five minutes, the right password is
 * refused however slow the machine; blocked for 200 ms, the test tries
 * the right password until the server lets it in, each refusal before
 * that being the throttle's, so the end of the block is observed, not
 * slept through.
 */
static void test_password(void **state)
{
	const char *long_block[] = { "--throttle-ms", "300000", NULL };
	const char *short_block[] = { "--throttle-ms", "200", NULL };
	struct ks s;
	char spec[96], server[160], *out, *err, *log;
	unsigned base = ks_port_base() + 300;
	int st, tries = 0;

	(void)state;
	snprintf(spec, sizeof(spec), "tcp:port=%u:%u,password=Sesame42", base,
		 base + 50);
	assert_true(ks_start(&s, spec, ks_allow_pipes("kdsrvsec", long_block)));
	assert_non_null(strstr(s.ready, "Password=*"));
	assert_null(strstr(s.ready, "Sesame42"));
	/* Wrong password: refused, and the log says who and why. */
	fail_thrice(s.port);
	assert_true(ks_log_wait(&s, "refused a connection: 127.0.0.1:", 2000));
	assert_true(ks_log_wait(&s, "wrong password", 2000));
	/* Blocked: even the right password is held off, visibly. */
	snprintf(server, sizeof(server),
		 "tcp:server=127.0.0.1,port=%u,password=Sesame42", s.port);
	st = client(server, "q\n", &out, &err);
	assert_int_not_equal(st, 0);
	if (!strstr(err, "too many failed passwords") &&
	    !strstr(out, "too many failed passwords"))
		fail_msg("not throttled:\n%s\n%s", out, err);
	free(out);
	free(err);
	assert_true(ks_log_wait(&s, "failed passwords (throttled for", 2000));
	log = ks_log(&s);
	assert_null(strstr(log, "Sesame42"));
	assert_null(strstr(log, "Wrong1"));
	free(log);
	kill(s.pid, SIGTERM);
	assert_int_equal(ks_wait(&s, 5000), 0);
	ks_stop(&s);

	/* A block that ends: the right password gets in once it has. */
	assert_true(
		ks_start(&s, spec, ks_allow_pipes("kdsrvsec", short_block)));
	fail_thrice(s.port);
	snprintf(server, sizeof(server),
		 "tcp:server=127.0.0.1,port=%u,password=Sesame42", s.port);
	for (;;) {
		st = client(server, "vertarget\nq\n", &out, &err);
		if (st == 0)
			break;
		/* Only the throttle may refuse it, and not for ever. */
		if ((!strstr(err, "too many failed passwords") &&
		     !strstr(out, "too many failed passwords")) ||
		    ++tries > 100)
			fail_msg("good client failed (%d, try %d):\n%s\n%s", st,
				 tries, out, err);
		free(out);
		free(err);
	}
	if (!strstr(out, "Kernel Version 19041"))
		fail_msg("good client got no target:\n%s\n%s", out, err);
	free(out);
	free(err);
	print_message("right password refused %d time(s) by a 200 ms block, "
		      "then let in\n",
		      tries);
	kill(s.pid, SIGTERM);
	assert_int_equal(ks_wait(&s, 5000), 0);
	ks_stop(&s);
}

static bool make_cert(const char *name)
{
	char cmdline[1024];

	snprintf(cmdline, sizeof(cmdline),
		 "openssl req -x509 -newkey rsa:2048 -nodes -days 1 "
		 "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
		 "-keyout %s/%s.key -out %s/%s.pem >/dev/null 2>&1",
		 g_dir, name, g_dir, name);
	return system(cmdline) == 0;
}

static void test_tls(void **state)
{
	struct ks s;
	char spec[400], server[400], *out, *err, *log;
	unsigned base = ks_port_base() + 400;
	int st;

	(void)state;
	if (!make_cert("srv") || !make_cert("other"))
		skip();
	snprintf(spec, sizeof(spec),
		 "ssl:port=%u:%u,cert=%s/srv.pem,key=%s/srv.key", base,
		 base + 50, g_dir, g_dir);
	assert_true(ks_start(&s, spec, ks_allow_pipes("kdsrvsec", NULL)));
	assert_non_null(strstr(s.ready, "ssl:"));
	snprintf(server, sizeof(server),
		 "ssl:server=127.0.0.1,port=%u,ca=%s/srv.pem", s.port, g_dir);
	st = client(server, "vertarget\ndb nt!KeWorkerStep L4\nq\n", &out,
		    &err);
	if (st != 0 || !strstr(out, "Kernel Version 19041"))
		fail_msg("TLS client failed (%d):\n%s\n%s", st, out, err);
	free(out);
	free(err);
	assert_true(ks_log_wait(&s, "(ssl): session open on com:pipe", 2000));
	/* A client that trusts another certificate refuses the server. */
	snprintf(server, sizeof(server),
		 "ssl:server=127.0.0.1,port=%u,ca=%s/other.pem", s.port, g_dir);
	st = client(server, "q\n", &out, &err);
	assert_int_not_equal(st, 0);
	if (!strstr(err, "verif") && !strstr(out, "verif"))
		fail_msg("no verification failure:\n%s\n%s", out, err);
	free(out);
	free(err);
	/* A plain TCP client against the TLS port gets nowhere either. */
	snprintf(server, sizeof(server), "tcp:server=127.0.0.1,port=%u",
		 s.port);
	st = client(server, "q\n", &out, &err);
	assert_int_not_equal(st, 0);
	free(out);
	free(err);
	log = ks_log(&s);
	assert_non_null(strstr(log, "refused a connection"));
	free(log);
	kill(s.pid, SIGTERM);
	assert_int_equal(ks_wait(&s, 5000), 0);
	ks_stop(&s);
}

/* xorshift64*: the fuzz stream is the same for a given seed. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

/* A valid message of a random client type, then mutated. */
static size_t fuzz_msg(uint64_t *seed, uint8_t *buf, size_t cap)
{
	static const uint8_t types[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
					 0x07, 0x83, 0x8f, 0x00, 0xff };
	size_t n = 2 + rnd(seed) % 40;

	if (n > cap)
		n = cap;
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)rnd(seed);
	buf[0] = types[rnd(seed) % sizeof(types)];
	if (rnd(seed) % 2)
		buf[1] = 0;
	if (n >= 6 && rnd(seed) % 2) { /* a length field that lies */
		buf[4] = (uint8_t)rnd(seed);
		buf[5] = (uint8_t)(rnd(seed) % 0x20);
	}
	return n;
}

/* Messages the test must not send: valid and with effects on others. */
static bool harmful(const uint8_t *buf, size_t n)
{
	struct kd_srv_msg m;

	if (kd_srv_msg_decode(&m, buf, n) != KD_OK)
		return false;
	return m.type == KD_SRV_PACKET || m.type == KD_SRV_END ||
	       m.type == KD_SRV_SYNC || m.type == KD_SRV_OPEN;
}

static void open_session(struct kd_rchan *ch, const char *trans)
{
	struct kd_srv_msg m;
	uint8_t buf[KD_SRV_MSG_MAX];
	size_t n;

	memset(&m, 0, sizeof(m));
	m.type = KD_SRV_OPEN;
	m.timeout_ms = 5000;
	m.text = trans;
	m.text_len = (uint32_t)strlen(trans);
	assert_int_equal(kd_srv_msg_encode(buf, sizeof(buf), &n, &m), KD_OK);
	assert_int_equal(kd_rchan_send(ch, buf, n), KD_OK);
	assert_int_equal(kd_rchan_recv(ch, buf, sizeof(buf), &n, T_MS), KD_OK);
	assert_int_equal(kd_srv_msg_decode(&m, buf, n), KD_OK);
	assert_int_equal(m.type, KD_SRV_OPENED);
}

/* Read until the server drops us; true when it sent an ERROR first. */
static bool wait_dropped(struct kd_rchan *ch)
{
	uint8_t buf[KD_RCHAN_MAX_MSG];
	bool saw_error = false;

	for (int i = 0; i < 100000; i++) {
		size_t n;
		int rc = kd_rchan_recv(ch, buf, sizeof(buf), &n, 3000);

		if (rc == KD_ETIMEOUT)
			return false;
		if (rc < 0)
			return saw_error;
		if (n && buf[0] == KD_SRV_ERROR)
			saw_error = true;
	}
	return false;
}

static void test_fuzzed_clients(void **state)
{
	struct ks s;
	char spec[96], server[160], trans[128], *out, *err, *log;
	const char *extra[] = { "--msg-rate", "1000", NULL };
	unsigned base = ks_port_base() + 500;
	uint64_t seed = 0x6b647372763031ull; /* fixed: reproducible */
	int dropped = 0, st;

	(void)state;
	snprintf(spec, sizeof(spec), "tcp:port=%u:%u", base, base + 50);
	assert_true(ks_start(&s, spec, ks_allow_pipes("kdsrvsec", extra)));
	snprintf(server, sizeof(server), "tcp:server=127.0.0.1,port=%u",
		 s.port);
	snprintf(trans, sizeof(trans), "com:pipe,port=%s", g_sock);
	for (int conn = 0; conn < 24; conn++) {
		struct kd_rchan *ch = NULL;
		uint8_t buf[256];
		size_t n;

		assert_int_equal(
			kd_rconnect(&ch, server, KD_RCHAN_SERVICE_KDSRV, T_MS),
			KD_OK);
		/* Half before OPEN, half inside an open session. */
		if (conn % 2)
			open_session(ch, trans);
		do
			n = fuzz_msg(&seed, buf, sizeof(buf));
		while (harmful(buf, n) ||
		       kd_srv_msg_decode(&(struct kd_srv_msg){ 0 }, buf, n) ==
			       KD_OK);
		assert_int_equal(kd_rchan_send(ch, buf, n), KD_OK);
		if (wait_dropped(ch))
			dropped++;
		kd_rchan_close(ch);
	}
	assert_int_equal(dropped, 24);
	assert_true(ks_log_wait(&s, "disconnected: malformed", 2000));
	assert_true(ks_log_wait(&s, "disconnected: expected OPEN", 2000));
	/* A flood of break-ins trips the rate limit (1000/s here). */
	{
		struct kd_rchan *ch = NULL;
		static const uint8_t brk[2] = { KD_SRV_BREAKIN, 0 };

		assert_int_equal(
			kd_rconnect(&ch, server, KD_RCHAN_SERVICE_KDSRV, T_MS),
			KD_OK);
		open_session(ch, trans);
		for (int i = 0; i < 3000; i++) {
			if (kd_rchan_send(ch, brk, sizeof(brk)) < 0)
				break;
		}
		if (!wait_dropped(ch)) {
			log = ks_log(&s);
			fail_msg("flood not dropped; log:\n%s", log);
		}
		kd_rchan_close(ch);
		assert_true(
			ks_log_wait(&s, "over the message rate limit", 2000));
	}
	/* Nothing else was affected: a good client debugs the target. */
	st = client(server, "vertarget\ndq nt!KeWorkerStep L1\nq\n", &out,
		    &err);
	if (st != 0 || !strstr(out, "Kernel Version 19041") ||
	    !strstr(out, "fffff800`"))
		fail_msg("good client failed (%d):\n%s\n%s", st, out, err);
	free(out);
	free(err);
	log = ks_log(&s);
	assert_non_null(strstr(log, "taken over from an earlier client"));
	free(log);
	kill(s.pid, SIGTERM);
	assert_int_equal(ks_wait(&s, 5000), 0);
	ks_stop(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_password),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_fuzzed_clients),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
