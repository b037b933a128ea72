/* SPDX-License-Identifier: MIT */
/*
 * Remote channels over real sockets on 127.0.0.1: framing, the password
 * handshake and its exact messages, service checks, handshake time limit,
 * throttling, port ranges, clicon, TLS (with certificates made by the
 * openssl CLI) and connection-string errors.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <kd/error.h>
#include <kd/rchan.h>

#include "../../../rchan/src/rchan_int.h"

#define KDSRV KD_RCHAN_SERVICE_KDSRV
#define DBGSRV KD_RCHAN_SERVICE_DBGSRV

static unsigned int port_base;
static char tls_dir[64];
static bool have_tls;

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A listener on the first free port of a 40-port window of this process. */
static struct kd_rlistener *listen_ok(const char *fmt_tail, const char *svc)
{
	struct kd_rlistener *l = NULL;
	char spec[512];
	int rc;

	snprintf(spec, sizeof(spec), "tcp:port=%u:%u%s", port_base,
		 port_base + 39, fmt_tail);
	rc = kd_rlisten(&l, spec, svc);
	if (rc != KD_OK)
		fail_msg("kd_rlisten(%s): %s", spec, kd_error_last()->message);
	return l;
}

/* --- A server thread: accept one client, optionally echo. --- */

struct srv {
	struct kd_rlistener *l;
	bool echo;
	int timeout_ms;
	int rc;
	char msg[256];
	char identity[128];
	char proto[8];
	pthread_t th;
};

static void *srv_main(void *arg)
{
	struct srv *s = arg;
	struct kd_rchan *c = NULL;
	static uint8_t buf[KD_RCHAN_MAX_MSG];

	s->rc = kd_raccept(s->l, &c, s->timeout_ms ? s->timeout_ms : 5000);
	snprintf(s->msg, sizeof(s->msg), "%s", kd_error_last()->message);
	if (s->rc != KD_OK)
		return NULL;
	snprintf(s->identity, sizeof(s->identity), "%s", kd_rchan_identity(c));
	snprintf(s->proto, sizeof(s->proto), "%s", kd_rchan_proto(c));
	while (s->echo) {
		size_t n;

		if (kd_rchan_recv(c, buf, sizeof(buf), &n, 5000) != KD_OK)
			break;
		if (kd_rchan_send(c, buf, n) != KD_OK)
			break;
	}
	kd_rchan_close(c);
	return NULL;
}

static void srv_start(struct srv *s, struct kd_rlistener *l, bool echo)
{
	memset(s, 0, sizeof(*s));
	s->l = l;
	s->echo = echo;
	assert_int_equal(pthread_create(&s->th, NULL, srv_main, s), 0);
}

static void srv_join(struct srv *s)
{
	pthread_join(s->th, NULL);
}

static int connect_to(struct kd_rchan **c, unsigned int port, const char *tail,
		      const char *svc)
{
	char spec[512];

	snprintf(spec, sizeof(spec), "tcp:server=127.0.0.1,port=%u%s", port,
		 tail);
	return kd_rconnect(c, spec, svc, 5000);
}

static void roundtrip(struct kd_rchan *c, size_t len)
{
	static uint8_t out[KD_RCHAN_MAX_MSG], in[KD_RCHAN_MAX_MSG];
	size_t n = (size_t)-1;

	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)(i * 7 + len);
	assert_int_equal(kd_rchan_send(c, out, len), KD_OK);
	assert_int_equal(kd_rchan_recv(c, in, sizeof(in), &n, 5000), KD_OK);
	assert_int_equal(n, len);
	assert_memory_equal(in, out, len ? len : 1);
}

static void test_roundtrip(void **state)
{
	struct kd_rlistener *l = listen_ok("", KDSRV);
	struct kd_rchan *c = NULL;
	uint8_t big[KD_RCHAN_MAX_MSG + 1];
	char peer[32];
	struct srv s;

	(void)state;
	srv_start(&s, l, true);
	assert_int_equal(connect_to(&c, kd_rlistener_port(l), "", KDSRV),
			 KD_OK);
	roundtrip(c, 0);
	roundtrip(c, 1);
	roundtrip(c, 1000);
	roundtrip(c, KD_RCHAN_MAX_MSG);
	memset(big, 0, sizeof(big));
	assert_int_equal(kd_rchan_send(c, big, sizeof(big)), KD_EINVAL);
	snprintf(peer, sizeof(peer), "127.0.0.1:%u", kd_rlistener_port(l));
	assert_string_equal(kd_rchan_peer(c), peer);
	assert_string_equal(kd_rchan_proto(c), "tcp");
	assert_false(kd_rchan_pending(c));
	assert_true(kd_rchan_fd(c) >= 0);
	kd_rchan_close(c);
	srv_join(&s);
	assert_int_equal(s.rc, KD_OK);
	assert_string_equal(s.proto, "tcp");
	/* "HOST\user" from gethostname() and the password database. */
	assert_non_null(strchr(s.identity, '\\'));
	assert_true(strlen(s.identity) > 2);
	kd_rlistener_close(l);
}

/* Two messages in one segment; a buffered one is reported pending. */
static void test_pending_and_small_cap(void **state)
{
	struct kd_rlistener *l = listen_ok("", KDSRV);
	struct kd_rchan *c = NULL;
	uint8_t buf[64];
	size_t n = 0;
	struct srv s;
	int64_t t0;

	(void)state;
	srv_start(&s, l, true);
	assert_int_equal(connect_to(&c, kd_rlistener_port(l), "", KDSRV),
			 KD_OK);
	/* Nothing waiting: a 0 ms recv times out at once. */
	assert_int_equal(kd_rchan_recv(c, buf, sizeof(buf), &n, 0),
			 KD_ETIMEOUT);
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(kd_rchan_send(c, buf, 40), KD_OK);
	assert_int_equal(kd_rchan_send(c, buf, 3), KD_OK);
	assert_int_equal(kd_rchan_recv(c, buf, sizeof(buf), &n, 5000), KD_OK);
	assert_int_equal(n, 40);
	/* Wait until the second echo has arrived, then peek at it. */
	t0 = mono_ms();
	while (mono_ms() - t0 < 2000) {
		struct pollfd pf = { .fd = kd_rchan_fd(c), .events = POLLIN };

		if (kd_rchan_pending(c) || poll(&pf, 1, 10) > 0)
			break;
	}
	/* A 3-byte message into a 2-byte buffer is a protocol error. */
	assert_int_equal(kd_rchan_recv(c, buf, 2, &n, 5000), KD_EPROTO);
	assert_non_null(strstr(kd_error_last()->message,
			       "message of 3 bytes exceeds the limit of 2"));
	/* The three bytes were read: they are buffered, so pending. */
	assert_true(kd_rchan_pending(c));
	/* And the channel stays unusable. */
	assert_int_equal(kd_rchan_recv(c, buf, sizeof(buf), &n, 0), KD_EPROTO);
	kd_rchan_close(c);
	srv_join(&s);
	kd_rlistener_close(l);
}

/* A raw TCP peer for the tests that need to misbehave on purpose. */
static int raw_connect(unsigned int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* A TCP connection to @p ip:@p port, or -1 when it is refused. */
static int dial_ip(const char *ip, unsigned int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET, ip, &a.sin_addr), 1);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void raw_send(int fd, const void *p, size_t len)
{
	uint8_t hdr[4] = { (uint8_t)len, (uint8_t)(len >> 8),
			   (uint8_t)(len >> 16), (uint8_t)(len >> 24) };

	assert_int_equal(write(fd, hdr, 4), 4);
	if (len)
		assert_int_equal(write(fd, p, len), (ssize_t)len);
}

static size_t raw_recv(int fd, uint8_t *buf, size_t cap)
{
	uint8_t hdr[4];
	size_t n, got = 0;

	assert_int_equal(recv(fd, hdr, 4, MSG_WAITALL), 4);
	n = (size_t)hdr[0] | (size_t)hdr[1] << 8 | (size_t)hdr[2] << 16 |
	    (size_t)hdr[3] << 24;
	assert_true(n <= cap);
	while (got < n) {
		ssize_t r = recv(fd, buf + got, n - got, 0);

		assert_true(r > 0);
		got += (size_t)r;
	}
	return n;
}

/* Complete a handshake by hand (no password), then misbehave. */
static void raw_handshake(int fd, const char *service)
{
	struct kd_rchan_shello sh;
	struct kd_rchan_chello ch;
	struct kd_rchan_verdict v;
	uint8_t buf[KD_RCHAN_HS_MAX];
	unsigned int ver;
	const char *why = NULL;
	size_t n;

	n = raw_recv(fd, buf, sizeof(buf));
	assert_int_equal(kd_rchan_parse_shello(buf, n, &sh, &ver, &why), KD_OK);
	assert_string_equal(sh.service, service);
	memset(&ch, 0, sizeof(ch));
	snprintf(ch.service, sizeof(ch.service), "%s", service);
	snprintf(ch.identity, sizeof(ch.identity), "RAW\\tester");
	n = kd_rchan_enc_chello(buf, sizeof(buf), &ch);
	assert_true(n > 0);
	raw_send(fd, buf, n);
	n = raw_recv(fd, buf, sizeof(buf));
	assert_int_equal(kd_rchan_parse_verdict(buf, n, &v, &ver, &why), KD_OK);
	assert_int_equal(v.status, KD_RCHAN_OK);
}

struct raw_peer {
	unsigned int port;
	const char *service;
	uint32_t prefix;
	pthread_t th;
};

static void *raw_peer_main(void *arg)
{
	struct raw_peer *p = arg;
	uint8_t hdr[4];
	int fd = raw_connect(p->port);

	raw_handshake(fd, p->service);
	hdr[0] = (uint8_t)p->prefix;
	hdr[1] = (uint8_t)(p->prefix >> 8);
	hdr[2] = (uint8_t)(p->prefix >> 16);
	hdr[3] = (uint8_t)(p->prefix >> 24);
	assert_int_equal(write(fd, hdr, 4), 4);
	/* Keep the connection open until the server has judged it. */
	(void)recv(fd, hdr, 1, 0);
	close(fd);
	return NULL;
}

static void test_oversized_prefix_rejected(void **state)
{
	struct kd_rlistener *l = listen_ok("", KDSRV);
	struct kd_rchan *c = NULL;
	static uint8_t buf[KD_RCHAN_MAX_MSG];
	struct raw_peer p = { kd_rlistener_port(l), KDSRV, KD_RCHAN_MAX_MSG + 1,
			      0 };
	size_t n = 0;

	(void)state;
	assert_int_equal(pthread_create(&p.th, NULL, raw_peer_main, &p), 0);
	assert_int_equal(kd_raccept(l, &c, 5000), KD_OK);
	assert_string_equal(kd_rchan_identity(c), "RAW\\tester");
	assert_int_equal(kd_rchan_recv(c, buf, sizeof(buf), &n, 5000),
			 KD_EPROTO);
	assert_non_null(
		strstr(kd_error_last()->message,
		       "message of 65537 bytes exceeds the limit of 65536"));
	kd_rchan_close(c);
	pthread_join(p.th, NULL);
	/* 0xffffffff as well (no allocation from the prefix). */
	p.prefix = 0xffffffffu;
	assert_int_equal(pthread_create(&p.th, NULL, raw_peer_main, &p), 0);
	assert_int_equal(kd_raccept(l, &c, 5000), KD_OK);
	assert_int_equal(kd_rchan_recv(c, buf, sizeof(buf), &n, 5000),
			 KD_EPROTO);
	kd_rchan_close(c);
	pthread_join(p.th, NULL);
	kd_rlistener_close(l);
}

static void test_passwords(void **state)
{
	struct kd_rlistener *l = listen_ok(",password=Secret7", KDSRV);
	unsigned int port = kd_rlistener_port(l);
	struct kd_rchan *c = NULL;
	char want[256];
	struct srv s;

	(void)state;
	/* Right password: both ends prove it. */
	srv_start(&s, l, true);
	{
		char spec[128];

		/* WinDbg's leading double backslash is accepted. */
		snprintf(spec, sizeof(spec),
			 "tcp:Server=\\\\127.0.0.1,Port=%u,Password=Secret7",
			 port);
		assert_int_equal(kd_rconnect(&c, spec, KDSRV, 5000), KD_OK);
	}
	roundtrip(c, 10);
	kd_rchan_close(c);
	srv_join(&s);
	assert_int_equal(s.rc, KD_OK);

	/* Wrong password (case matters). */
	srv_start(&s, l, false);
	assert_int_equal(connect_to(&c, port, ",password=secret7", KDSRV),
			 KD_EAUTH);
	assert_null(c);
	snprintf(want, sizeof(want),
		 "tcp:server=127.0.0.1,port=%u: wrong password (0x80004005)",
		 port);
	assert_string_equal(kd_error_last()->message, want);
	srv_join(&s);
	assert_int_equal(s.rc, KD_EAUTH);
	assert_non_null(strstr(s.msg, "127.0.0.1:"));
	assert_non_null(strstr(s.msg, "): wrong password"));

	/* No password. */
	srv_start(&s, l, false);
	assert_int_equal(connect_to(&c, port, "", KDSRV), KD_EAUTH);
	snprintf(
		want, sizeof(want),
		"tcp:server=127.0.0.1,port=%u: this server requires a password (0x80004005)",
		port);
	assert_string_equal(kd_error_last()->message, want);
	srv_join(&s);
	assert_int_equal(s.rc, KD_EAUTH);
	assert_non_null(strstr(s.msg, "): no password given"));
	kd_rlistener_close(l);
}

static void test_wrong_service(void **state)
{
	struct kd_rlistener *l = listen_ok("", KDSRV);
	unsigned int port = kd_rlistener_port(l);
	struct kd_rchan *c = NULL;
	char want[256];
	struct srv s;

	(void)state;
	srv_start(&s, l, false);
	assert_int_equal(connect_to(&c, port, "", DBGSRV), KD_EPROTO);
	snprintf(
		want, sizeof(want),
		"tcp:server=127.0.0.1,port=%u: that is a KD connection server (kdsrv), not a debugging server",
		port);
	assert_string_equal(kd_error_last()->message, want);
	srv_join(&s);
	assert_int_equal(s.rc, KD_EPROTO);
	assert_non_null(strstr(
		s.msg,
		": client wants a debugging server (dbgsrv/1), this is kdsrv/1"));

	/* Same service, other major version. */
	srv_start(&s, l, false);
	assert_int_equal(connect_to(&c, port, "", "kdsrv/2"), KD_EPROTO);
	snprintf(
		want, sizeof(want),
		"tcp:server=127.0.0.1,port=%u: protocol version 1, this client speaks 2",
		port);
	assert_string_equal(kd_error_last()->message, want);
	srv_join(&s);
	assert_int_equal(s.rc, KD_EPROTO);
	assert_non_null(
		strstr(s.msg, ": client speaks kdsrv/2, this server kdsrv/1"));
	kd_rlistener_close(l);
}

/* A listening socket that never says anything. */
static void *silent_server(void *arg)
{
	int lfd = *(int *)arg;
	int fd = accept(lfd, NULL, NULL);
	char b;

	if (fd >= 0) {
		(void)recv(fd, &b, 1, 0); /* until the client gives up */
		close(fd);
	}
	return NULL;
}

static void test_silent_peer(void **state)
{
	struct kd_rlistener *l = listen_ok("", KDSRV);
	struct kd_rchan *c = NULL;
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	pthread_t th;
	int64_t t0, dt;
	int fd, lfd;

	(void)state;
	kd_rchan__handshake_ms = 400;
	/* A client that connects and stays silent. */
	fd = raw_connect(kd_rlistener_port(l));
	t0 = mono_ms();
	assert_int_equal(kd_raccept(l, &c, 5000), KD_EPROTO);
	dt = mono_ms() - t0;
	assert_non_null(strstr(kd_error_last()->message,
			       ": no client hello within 400 ms"));
	assert_true(dt >= 350 && dt < 2000);
	close(fd);

	/* A server that accepts and stays silent. */
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &al), 0);
	assert_int_equal(pthread_create(&th, NULL, silent_server, &lfd), 0);
	t0 = mono_ms();
	assert_int_equal(connect_to(&c, ntohs(a.sin_port), "", KDSRV),
			 KD_ETIMEOUT);
	dt = mono_ms() - t0;
	assert_true(dt >= 350 && dt < 2000);
	assert_non_null(strstr(kd_error_last()->message,
			       ": no server hello within 400 ms"));
	pthread_join(th, NULL);
	close(lfd);
	kd_rchan__handshake_ms = 5000;
	kd_rlistener_close(l);
}

/*
 * The accept split: kd_raccept_conn() returns at once although the peer
 * is silent; a good client accepted after it is served while the silent
 * one's kd_rchan_handshake() still waits in its own thread; that one
 * then fails alone.
 */
struct hs_job {
	struct kd_rlistener *l;
	struct kd_rchan *c;
	int rc;
	char msg[256];
	pthread_t th;
};

static void *hs_main(void *arg)
{
	struct hs_job *j = arg;

	j->rc = kd_rchan_handshake(j->l, j->c);
	snprintf(j->msg, sizeof(j->msg), "%s", kd_error_last()->message);
	return NULL;
}

static void test_accept_split(void **state)
{
	struct kd_rlistener *l = listen_ok("", KDSRV);
	struct kd_rchan *silent = NULL, *good = NULL;
	struct hs_job j;
	uint8_t in[8];
	size_t n = 0;
	int64_t t0;
	pid_t pid;
	int fd, st;

	(void)state;
	kd_rchan__handshake_ms = 1500;
	assert_int_equal(kd_rchan_handshake(NULL, NULL), KD_EINVAL);
	fd = raw_connect(kd_rlistener_port(l));
	t0 = mono_ms();
	assert_int_equal(kd_raccept_conn(l, &silent, 2000), KD_OK);
	assert_true(mono_ms() - t0 < 500);
	assert_non_null(strstr(kd_rchan_peer(silent), "127.0.0.1:"));
	memset(&j, 0, sizeof(j));
	j.l = l;
	j.c = silent;
	assert_int_equal(pthread_create(&j.th, NULL, hs_main, &j), 0);

	/* A good client (another process), served meanwhile. */
	t0 = mono_ms();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct kd_rchan *cc = NULL;
		uint8_t m[3] = { 1, 2, 3 };

		if (connect_to(&cc, kd_rlistener_port(l), "", KDSRV) != KD_OK ||
		    kd_rchan_send(cc, m, sizeof(m)) != KD_OK)
			_exit(1);
		kd_rchan_close(cc);
		_exit(0);
	}
	assert_int_equal(kd_raccept_conn(l, &good, 2000), KD_OK);
	assert_int_equal(kd_rchan_handshake(l, good), KD_OK);
	assert_int_equal(kd_rchan_recv(good, in, sizeof(in), &n, 2000), KD_OK);
	assert_int_equal(n, 3);
	assert_int_equal(in[2], 3);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* Served well before the silent peer's handshake limit. */
	assert_true(mono_ms() - t0 < 1200);
	kd_rchan_close(good);

	pthread_join(j.th, NULL);
	assert_int_equal(j.rc, KD_EPROTO);
	assert_non_null(strstr(j.msg, ": no client hello within 1500 ms"));
	kd_rchan_close(silent);
	close(fd);
	kd_rchan__handshake_ms = 5000;
	kd_rlistener_close(l);
}

/* A silent TCP peer from @p src (an address of 127.0.0.0/8). */
static int raw_connect_from(const char *src, unsigned int port)
{
	struct sockaddr_in a, b;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&b, 0, sizeof(b));
	b.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, src, &b.sin_addr), 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&b, sizeof(b)), 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

struct conn_job {
	unsigned int port;
	int rc;
	char msg[256];
	pthread_t th;
};

static void *conn_main(void *arg)
{
	struct conn_job *j = arg;
	struct kd_rchan *c = NULL;

	j->rc = connect_to(&c, j->port, "", KDSRV);
	snprintf(j->msg, sizeof(j->msg), "%s", kd_error_last()->message);
	kd_rchan_close(c);
	kd_rchan_thread_done();
	return NULL;
}

#define FLOOD 200

/*
 * Fair admission.  A client is accepted, then silent peers from FLOOD
 * other addresses, one each: the spread at which every address holds
 * one place, where cutting "the oldest of the busiest address" cut the
 * client (server_hostile's flood cases failed that way under load).
 * The peers past the limit are refused instead (kd_raccept_conn() says
 * so: no thread need run their handshake), and the
 * client, answering when its handshake runs, gets in.  Then a silent
 * peer that was sent the server hello and let its window to answer pass
 * is the one a newcomer replaces.
 */
static void test_admission_fair(void **state)
{
	struct kd_rlistener *l = listen_ok("", KDSRV);
	unsigned int port = kd_rlistener_port(l);
	static struct kd_rchan *flood[FLOOD];
	static int fds[FLOOD];
	struct kd_rchan *good = NULL, *fill = NULL;
	struct conn_job cj;
	struct hs_job hj;
	unsigned int refused = 0;
	bool admitted = false;
	uint8_t b[64];
	int i, rc, fd, fill_fd;

	(void)state;
	kd_rchan__handshake_ms = 1000; /* a 200 ms window to answer */
	memset(&cj, 0, sizeof(cj));
	cj.port = port;
	assert_int_equal(pthread_create(&cj.th, NULL, conn_main, &cj), 0);
	assert_int_equal(kd_raccept_conn(l, &good, 5000), KD_OK);
	for (i = 0; i < FLOOD; i++) {
		char src[32];

		snprintf(src, sizeof(src), "127.0.3.%d", i + 1);
		fds[i] = raw_connect_from(src, port);
		if (i < KD_RCHAN_PENDING_MAX - 1) {
			/* The places left. */
			assert_int_equal(kd_raccept_conn(l, &flood[i], 5000),
					 KD_OK);
			continue;
		}
		/* Then refused, the client not cut for them. */
		assert_int_equal(kd_raccept_conn(l, &flood[i], 5000),
				 KD_EPROTO);
		assert_null(flood[i]);
		assert_non_null(
			strstr(kd_error_last()->message, ": refused: "));
		refused++;
	}
	assert_int_equal(refused, FLOOD - KD_RCHAN_PENDING_MAX + 1);
	assert_int_equal(kd_rchan_handshake(l, good), KD_OK);
	pthread_join(cj.th, NULL);
	if (cj.rc != KD_OK)
		fail_msg("the client was not let in: %s", cj.msg);
	kd_rchan_close(good);

	/* The client's place goes to one more silent peer: full again. */
	fill_fd = raw_connect_from("127.0.5.1", port);
	assert_int_equal(kd_raccept_conn(l, &fill, 5000), KD_OK);
	/* flood[0] is sent the server hello and says nothing. */
	memset(&hj, 0, sizeof(hj));
	hj.l = l;
	hj.c = flood[0];
	assert_int_equal(pthread_create(&hj.th, NULL, hs_main, &hj), 0);
	assert_true(recv(fds[0], b, sizeof(b), 0) > 0);
	/* Newcomers (fresh addresses) are refused
	 * until flood[0]'s window has passed, then one takes its place (and,
	 * silent too, fails when its own time is up). */
	for (i = 0; !admitted && i < 250; i++) {
		struct kd_rchan *late = NULL;
		char src[32];

		snprintf(src, sizeof(src), "127.0.4.%d", i + 1);
		fd = raw_connect_from(src, port);
		rc = kd_raccept_conn(l, &late, 5000);
		admitted = rc == KD_OK;
		if (admitted) {
			assert_int_equal(kd_rchan_handshake(l, late),
					 KD_EPROTO);
			assert_non_null(strstr(kd_error_last()->message,
					       ": no client hello within"));
		} else {
			assert_int_equal(rc, KD_EPROTO);
			assert_non_null(strstr(kd_error_last()->message,
					       ": refused: "));
		}
		kd_rchan_close(late);
		close(fd);
		if (!admitted)
			usleep(20 * 1000);
	}
	assert_true(admitted);
	pthread_join(hj.th, NULL);
	assert_int_equal(hj.rc, KD_EPROTO);
	assert_non_null(strstr(hj.msg, ": handshake cut to make room"));
	kd_rchan_close(flood[0]);
	kd_rchan__handshake_ms = 5000;
	/* flood[1..62] and the filler are the ones left. */
	assert_int_equal(kd_rlistener_cut_pending(l), KD_RCHAN_PENDING_MAX - 1);
	kd_rchan_close(fill);
	close(fill_fd);
	for (i = 1; i < KD_RCHAN_PENDING_MAX - 1; i++)
		kd_rchan_close(flood[i]);
	for (i = 0; i < FLOOD; i++)
		close(fds[i]);
	kd_rlistener_close(l);
}

/*
 * Many messages of varied sizes in one burst: they arrive packed in few
 * reads, are taken from the receive buffer by offset, and the partial
 * frame at the buffer's end is moved to the front when room runs out.
 */
static void test_burst(void **state)
{
	struct kd_rlistener *l = listen_ok("", KDSRV);
	struct kd_rchan *c = NULL, *acc = NULL;
	static uint8_t out[KD_RCHAN_MAX_MSG], in[KD_RCHAN_MAX_MSG];
	static const size_t sizes[] = { 1,     7,     4000, 0,	  60000, 3,
					65536, 12345, 2,    4014, 40000, 9 };
	pid_t pid;
	int st;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		unsigned int port = kd_rlistener_port(l);

		if (connect_to(&c, port, "", KDSRV) != KD_OK)
			_exit(1);
		for (int r = 0; r < 20; r++) {
			for (size_t i = 0; i < KD_ARRAY_SIZE(sizes); i++) {
				size_t len = sizes[i];

				for (size_t b = 0; b < len; b++)
					out[b] = (uint8_t)(b * 13 + i + r);
				if (kd_rchan_send(c, out, len) != KD_OK)
					_exit(2);
			}
		}
		kd_rchan_close(c);
		_exit(0);
	}
	assert_int_equal(kd_raccept(l, &acc, 5000), KD_OK);
	/* Let the sender fill the socket so reads come back full. */
	usleep(200000);
	for (int r = 0; r < 20; r++) {
		for (size_t i = 0; i < KD_ARRAY_SIZE(sizes); i++) {
			size_t len = sizes[i], n = (size_t)-1;

			assert_int_equal(
				kd_rchan_recv(acc, in, sizeof(in), &n, 5000),
				KD_OK);
			assert_int_equal(n, len);
			for (size_t b = 0; b < len; b++) {
				if (in[b] != (uint8_t)(b * 13 + i + r))
					fail_msg("round %d message %zu byte "
						 "%zu differs",
						 r, i, b);
			}
		}
	}
	assert_false(kd_rchan_pending(acc));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	kd_rchan_close(acc);
	kd_rlistener_close(l);
}

/* Not an openkd server: garbage instead of a hello. */
static void *garbage_server(void *arg)
{
	int lfd = *(int *)arg;
	int fd = accept(lfd, NULL, NULL);
	char b;

	if (fd >= 0) {
		static const char http[] = "HTTP/1.1 400 Bad Request\r\n\r\n";

		assert_int_equal(write(fd, http, sizeof(http) - 1),
				 (ssize_t)sizeof(http) - 1);
		(void)recv(fd, &b, 1, 0);
		close(fd);
	}
	return NULL;
}

static void test_not_openkd(void **state)
{
	struct kd_rchan *c = NULL;
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	pthread_t th;
	char want[200];
	int lfd;

	(void)state;
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &al), 0);
	assert_int_equal(pthread_create(&th, NULL, garbage_server, &lfd), 0);
	assert_int_equal(connect_to(&c, ntohs(a.sin_port), "", KDSRV),
			 KD_EPROTO);
	snprintf(
		want, sizeof(want),
		"tcp:server=127.0.0.1,port=%u: not an openkd remote channel (bad server hello)",
		ntohs(a.sin_port));
	assert_string_equal(kd_error_last()->message, want);
	pthread_join(th, NULL);
	close(lfd);
}

static void test_refused(void **state)
{
	struct kd_rlistener *l = listen_ok("", KDSRV);
	unsigned int port = kd_rlistener_port(l);
	struct kd_rchan *c = NULL;
	char want[200];

	(void)state;
	kd_rlistener_close(l);
	assert_int_equal(connect_to(&c, port, "", KDSRV), KD_EDISCONNECTED);
	snprintf(
		want, sizeof(want),
		"tcp:server=127.0.0.1,port=%u: 127.0.0.1:%u: Connection refused",
		port, port);
	assert_string_equal(kd_error_last()->message, want);
}

static void test_rate_limit(void **state)
{
	struct kd_rlistener *l = listen_ok(",password=pw", KDSRV);
	unsigned int port = kd_rlistener_port(l);
	struct kd_rchan *c = NULL;
	char want[256];
	struct srv s;

	(void)state;
	for (int i = 0; i < 3; i++) {
		srv_start(&s, l, false);
		assert_int_equal(connect_to(&c, port, ",password=bad", KDSRV),
				 KD_EAUTH);
		assert_non_null(strstr(kd_error_last()->message,
				       ": wrong password (0x80004005)"));
		srv_join(&s);
		assert_int_equal(s.rc, KD_EAUTH);
	}
	/* From the 3rd failure: refused for 1 s before any challenge, even
	 * with the right password (the refusal replaces the server hello). */
	srv_start(&s, l, false);
	assert_int_equal(connect_to(&c, port, ",password=pw", KDSRV), KD_EAUTH);
	snprintf(
		want, sizeof(want),
		"tcp:server=127.0.0.1,port=%u: refused: too many failed passwords; try again in 1 s",
		port);
	assert_string_equal(kd_error_last()->message, want);
	srv_join(&s);
	assert_int_equal(s.rc, KD_EAUTH);
	assert_non_null(strstr(
		s.msg,
		": refused after 3 failed passwords (throttled for 1 s more)"));
	/* After the block: the right password works and clears the count. */
	usleep(1100 * 1000);
	srv_start(&s, l, true);
	assert_int_equal(connect_to(&c, port, ",password=pw", KDSRV), KD_OK);
	kd_rchan_close(c);
	srv_join(&s);
	assert_int_equal(s.rc, KD_OK);
	/* The 4th failure in a window now starts at one again: no block. */
	srv_start(&s, l, false);
	assert_int_equal(connect_to(&c, port, ",password=x", KDSRV), KD_EAUTH);
	srv_join(&s);
	srv_start(&s, l, true);
	assert_int_equal(connect_to(&c, port, ",password=pw", KDSRV), KD_OK);
	kd_rchan_close(c);
	srv_join(&s);
	kd_rlistener_close(l);
}

/* IPv6: the default listener is dual stack; ipversion=6 is IPv6 only. */
static void test_ipv6(void **state)
{
	struct kd_rlistener *l = listen_ok("", KDSRV);
	struct kd_rchan *c = NULL;
	char spec[128], peer[64];
	struct srv s;
	int fd;

	(void)state;
	fd = socket(AF_INET6, SOCK_STREAM, 0);
	if (fd < 0) {
		kd_rlistener_close(l);
		skip();
	}
	close(fd);
	srv_start(&s, l, true);
	snprintf(spec, sizeof(spec), "tcp:server=::1,port=%u",
		 kd_rlistener_port(l));
	if (kd_rconnect(&c, spec, KDSRV, 2000) != KD_OK) {
		/* No IPv6 loopback here: unblock the server and skip. */
		assert_int_equal(
			connect_to(&c, kd_rlistener_port(l), "", KDSRV), KD_OK);
		kd_rchan_close(c);
		srv_join(&s);
		kd_rlistener_close(l);
		skip();
	}
	snprintf(peer, sizeof(peer), "[::1]:%u", kd_rlistener_port(l));
	assert_string_equal(kd_rchan_peer(c), peer);
	roundtrip(c, 77);
	kd_rchan_close(c);
	srv_join(&s);
	assert_int_equal(s.rc, KD_OK);
	kd_rlistener_close(l);
}

/*
 * A listener binds the loopback (127.0.0.1) unless bind= names another
 * address or every interface ("*"); a bad address is refused.
 */
static void test_bind(void **state)
{
	struct kd_rlistener *a = NULL, *b = NULL;
	unsigned lo = port_base + 300;
	char spec[128];
	int fd;

	(void)state;
	snprintf(spec, sizeof(spec), "tcp:port=%u:%u", lo, lo + 9);
	assert_int_equal(kd_rlisten(&a, spec, KDSRV), KD_OK);
	fd = dial_ip("127.0.0.2", kd_rlistener_port(a));
	assert_true(fd < 0);
	fd = dial_ip("127.0.0.1", kd_rlistener_port(a));
	assert_true(fd >= 0);
	close(fd);
	snprintf(spec, sizeof(spec), "tcp:port=%u:%u,bind=*", lo, lo + 9);
	assert_int_equal(kd_rlisten(&b, spec, KDSRV), KD_OK);
	fd = dial_ip("127.0.0.2", kd_rlistener_port(b));
	assert_true(fd >= 0);
	close(fd);
	kd_rlistener_close(b);
	snprintf(spec, sizeof(spec), "tcp:port=%u:%u,bind=127.0.0.3", lo,
		 lo + 9);
	assert_int_equal(kd_rlisten(&b, spec, KDSRV), KD_OK);
	fd = dial_ip("127.0.0.3", kd_rlistener_port(b));
	assert_true(fd >= 0);
	close(fd);
	kd_rlistener_close(b);
	snprintf(spec, sizeof(spec), "tcp:port=%u,bind=192.0.2.77", lo + 20);
	assert_int_equal(kd_rlisten(&b, spec, KDSRV), KD_EINVAL);
	assert_non_null(strstr(kd_error_last()->message,
			       "not an address of this machine"));
	kd_rlistener_close(a);
}

static void test_port_range(void **state)
{
	struct kd_rlistener *a = NULL, *b = NULL, *x = NULL;
	unsigned int lo = port_base + 100;
	char spec[128], want[128], got[128];

	(void)state;
	snprintf(spec, sizeof(spec), "tcp:port=%u:%u,bind=*", lo, lo + 9);
	assert_int_equal(kd_rlisten(&a, spec, KDSRV), KD_OK);
	assert_int_equal(kd_rlistener_port(a), lo);
	snprintf(spec, sizeof(spec),
		 "TCP:Port=%u:%u,Password=abc,Hidden,Bind=*", lo, lo + 9);
	assert_int_equal(kd_rlisten(&b, spec, KDSRV), KD_OK);
	assert_int_equal(kd_rlistener_port(b), lo + 1);
	assert_true(kd_rlistener_hidden(b));
	assert_false(kd_rlistener_hidden(a));
	assert_true(kd_rlistener_fd(b) >= 0);
	snprintf(want, sizeof(want), "tcp:Port=%u:%u,Server=myhost", lo,
		 lo + 9);
	kd_rlistener_describe(a, "myhost", got, sizeof(got));
	assert_string_equal(got, want);
	snprintf(want, sizeof(want), "tcp:Port=%u:%u,Server=myhost,Password=*",
		 lo + 1, lo + 9);
	assert_int_equal(kd_rlistener_describe(b, "myhost", got, sizeof(got)),
			 strlen(want));
	assert_string_equal(got, want);
	/* Truncation. */
	assert_int_equal(kd_rlistener_describe(b, "myhost", got, 5), 4);
	assert_string_equal(got, "tcp:");
	/* A single busy port. */
	snprintf(spec, sizeof(spec), "tcp:port=%u", lo);
	assert_int_equal(kd_rlisten(&x, spec, KDSRV), KD_EBUSY);
	snprintf(want, sizeof(want), "tcp:port=%u: port %u is in use", lo, lo);
	assert_string_equal(kd_error_last()->message, want);
	snprintf(spec, sizeof(spec), "tcp:port=%u:%u", lo, lo + 1);
	assert_int_equal(kd_rlisten(&x, spec, KDSRV), KD_EBUSY);
	snprintf(want, sizeof(want), "tcp:port=%u:%u: no free port in %u:%u",
		 lo, lo + 1, lo, lo + 1);
	assert_string_equal(kd_error_last()->message, want);
	/* Single port: describe shows it alone. */
	kd_rlistener_close(a);
	snprintf(spec, sizeof(spec), "tcp:port=%u,bind=*", lo);
	assert_int_equal(kd_rlisten(&a, spec, DBGSRV), KD_OK);
	snprintf(want, sizeof(want), "tcp:Port=%u,Server=h", lo);
	kd_rlistener_describe(a, "h", got, sizeof(got));
	assert_string_equal(got, want);
	kd_rlistener_close(a);
	/* Bound to the loopback (the default): Server= says where. */
	snprintf(spec, sizeof(spec), "tcp:port=%u", lo);
	assert_int_equal(kd_rlisten(&a, spec, DBGSRV), KD_OK);
	snprintf(want, sizeof(want), "tcp:Port=%u,Server=127.0.0.1", lo);
	kd_rlistener_describe(a, "h", got, sizeof(got));
	assert_string_equal(got, want);
	kd_rlistener_close(a);
	kd_rlistener_close(b);
}

struct clicon_client {
	char spec[128];
	int rc;
	char msg[256];
	pthread_t th;
};

static void *clicon_client_main(void *arg)
{
	struct clicon_client *cc = arg;
	struct kd_rchan *c = NULL;

	cc->rc = kd_rconnect(&c, cc->spec, DBGSRV, 5000);
	snprintf(cc->msg, sizeof(cc->msg), "%s", kd_error_last()->message);
	if (cc->rc == KD_OK) {
		roundtrip(c, 123);
		kd_rchan_close(c);
	}
	return NULL;
}

static void test_clicon(void **state)
{
	struct kd_rlistener *probe = listen_ok("", DBGSRV);
	unsigned int port = kd_rlistener_port(probe);
	struct kd_rlistener *l = NULL;
	struct kd_rchan *c = NULL;
	struct clicon_client cc;
	static uint8_t buf[256];
	char spec[128], got[128], want[128];
	size_t n;

	(void)state;
	kd_rlistener_close(probe);
	/* The client waits for the call; the server dials (retrying until
	 * the client listens). */
	memset(&cc, 0, sizeof(cc));
	snprintf(cc.spec, sizeof(cc.spec),
		 "tcp:clicon=127.0.0.1,port=%u,password=pw", port);
	assert_int_equal(pthread_create(&cc.th, NULL, clicon_client_main, &cc),
			 0);
	snprintf(spec, sizeof(spec), "tcp:port=%u,clicon=127.0.0.1,password=pw",
		 port);
	assert_int_equal(kd_rlisten(&l, spec, DBGSRV), KD_OK);
	assert_int_equal(kd_rlistener_fd(l), -1);
	assert_int_equal(kd_rlistener_port(l), port);
	kd_rlistener_describe(l, "srvhost", got, sizeof(got));
	snprintf(want, sizeof(want), "tcp:Clicon=srvhost,Port=%u,Password=*",
		 port);
	assert_string_equal(got, want);
	assert_int_equal(kd_raccept(l, &c, 5000), KD_OK);
	assert_int_equal(kd_rchan_recv(c, buf, sizeof(buf), &n, 5000), KD_OK);
	assert_int_equal(n, 123);
	assert_int_equal(kd_rchan_send(c, buf, n), KD_OK);
	pthread_join(cc.th, NULL);
	assert_int_equal(cc.rc, KD_OK);
	kd_rchan_close(c);
	/* A clicon server dials once. */
	assert_int_equal(kd_raccept(l, &c, 100), KD_EDISCONNECTED);
	kd_rlistener_close(l);

	/* Nobody dials: the clicon client times out. */
	{
		struct kd_rchan *c2 = NULL;

		snprintf(spec, sizeof(spec), "tcp:clicon=127.0.0.1,port=%u",
			 port);
		assert_int_equal(kd_rconnect(&c2, spec, DBGSRV, 200),
				 KD_ETIMEOUT);
		assert_string_equal(kd_error_last()->message + strlen(spec),
				    ": the server did not call within 200 ms");
	}
}

/* --- TLS --- */

static bool run(const char *cmd)
{
	char full[1024];

	snprintf(full, sizeof(full), "(%s) >/dev/null 2>&1", cmd);
	return system(full) == 0;
}

static void make_certs(void)
{
	char cmd[1024];

	snprintf(tls_dir, sizeof(tls_dir), "/tmp/kd-rchan-XXXXXX");
	if (!mkdtemp(tls_dir))
		return;
	snprintf(cmd, sizeof(cmd),
		 "cd %s && openssl req -x509 -newkey rsa:2048 -nodes -days 1 "
		 "-subj /CN=localhost -addext "
		 "subjectAltName=IP:127.0.0.1,DNS:localhost "
		 "-keyout key.pem -out cert.pem && "
		 "openssl req -x509 -newkey rsa:2048 -nodes -days 1 "
		 "-subj /CN=other -keyout other.key -out other.pem",
		 tls_dir);
	have_tls = run(cmd);
}

static void cleanup_certs(void)
{
	char cmd[256];

	if (tls_dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", tls_dir);
		(void)run(cmd);
	}
}

static struct kd_rlistener *tls_listen(const char *tail)
{
	struct kd_rlistener *l = NULL;
	char spec[512];
	int rc;

	snprintf(spec, sizeof(spec),
		 "ssl:port=%u:%u,cert=%s/cert.pem,key=%s/key.pem%s",
		 port_base + 200, port_base + 239, tls_dir, tls_dir, tail);
	rc = kd_rlisten(&l, spec, KDSRV);
	if (rc != KD_OK)
		fail_msg("kd_rlisten(%s): %s", spec, kd_error_last()->message);
	return l;
}

static void test_tls(void **state)
{
	struct kd_rlistener *l;
	struct kd_rchan *c = NULL;
	char spec[512], got[128], want[128];
	struct srv s;

	(void)state;
	if (!have_tls)
		skip();
	l = tls_listen(",password=pw");
	kd_rlistener_describe(l, "localhost", got, sizeof(got));
	snprintf(want, sizeof(want),
		 "ssl:Port=%u:%u,Server=127.0.0.1,Password=*",
		 kd_rlistener_port(l), port_base + 239);
	assert_string_equal(got, want);
	/* By IP address and by name. */
	for (int i = 0; i < 2; i++) {
		srv_start(&s, l, true);
		snprintf(spec, sizeof(spec),
			 "ssl:server=%s,port=%u,ca=%s/cert.pem,password=pw",
			 i ? "localhost" : "127.0.0.1", kd_rlistener_port(l),
			 tls_dir);
		if (kd_rconnect(&c, spec, KDSRV, 5000) != KD_OK)
			fail_msg("%s", kd_error_last()->message);
		assert_string_equal(kd_rchan_proto(c), "ssl");
		roundtrip(c, 0);
		roundtrip(c, 5000);
		roundtrip(c, KD_RCHAN_MAX_MSG);
		kd_rchan_close(c);
		srv_join(&s);
		assert_int_equal(s.rc, KD_OK);
		assert_string_equal(s.proto, "ssl");
	}
	/* Wrong password over TLS: same message. */
	srv_start(&s, l, false);
	snprintf(spec, sizeof(spec),
		 "ssl:server=127.0.0.1,port=%u,ca=%s/cert.pem,password=no",
		 kd_rlistener_port(l), tls_dir);
	assert_int_equal(kd_rconnect(&c, spec, KDSRV, 5000), KD_EAUTH);
	snprintf(want, sizeof(want),
		 "ssl:server=127.0.0.1,port=%u: wrong password (0x80004005)",
		 kd_rlistener_port(l));
	assert_string_equal(kd_error_last()->message, want);
	srv_join(&s);
	kd_rlistener_close(l);
}

static void test_tls_wrong_ca(void **state)
{
	struct kd_rlistener *l;
	int fd;
	struct kd_rchan *c = NULL;
	char spec[512], want[256];
	struct srv s;

	(void)state;
	if (!have_tls)
		skip();
	/* Every interface: the name check below dials it as 127.0.0.2. */
	l = tls_listen(",bind=*");
	srv_start(&s, l, false);
	snprintf(spec, sizeof(spec),
		 "ssl:server=127.0.0.1,port=%u,ca=%s/other.pem",
		 kd_rlistener_port(l), tls_dir);
	assert_int_equal(kd_rconnect(&c, spec, KDSRV, 5000), KD_EAUTH);
	snprintf(
		want, sizeof(want),
		"ssl:server=127.0.0.1,port=%u: TLS certificate verification failed: self-signed certificate",
		kd_rlistener_port(l));
	assert_string_equal(kd_error_last()->message, want);
	srv_join(&s);
	assert_int_equal(s.rc, KD_EPROTO);
	assert_non_null(strstr(s.msg, "TLS handshake failed"));

	/* Right CA, wrong name: the certificate is for localhost/127.0.0.1. */
	srv_start(&s, l, false);
	snprintf(spec, sizeof(spec),
		 "ssl:server=127.0.0.2,port=%u,ca=%s/cert.pem",
		 kd_rlistener_port(l), tls_dir);
	assert_int_equal(kd_rconnect(&c, spec, KDSRV, 5000), KD_EAUTH);
	snprintf(
		want, sizeof(want),
		"ssl:server=127.0.0.2,port=%u: TLS certificate verification failed: IP address mismatch",
		kd_rlistener_port(l));
	assert_string_equal(kd_error_last()->message, want);
	srv_join(&s);
	/* A silent peer on a TLS listener: the TLS handshake has the same
	 * time limit. */
	kd_rchan__handshake_ms = 300;
	fd = raw_connect(kd_rlistener_port(l));
	assert_int_equal(kd_raccept(l, &c, 5000), KD_EPROTO);
	assert_non_null(strstr(kd_error_last()->message,
			       ": TLS handshake not completed within 300 ms"));
	close(fd);
	kd_rchan__handshake_ms = 5000;
	kd_rlistener_close(l);
}

/* Reverse TLS: the server dials, then acts as the TLS server. */
static void test_tls_clicon(void **state)
{
	struct kd_rlistener *probe, *l = NULL;
	struct kd_rchan *c = NULL;
	struct clicon_client cc;
	static uint8_t buf[256];
	char spec[512];
	unsigned int port;
	size_t n;

	(void)state;
	if (!have_tls)
		skip();
	probe = listen_ok("", DBGSRV);
	port = kd_rlistener_port(probe);
	kd_rlistener_close(probe);
	memset(&cc, 0, sizeof(cc));
	snprintf(cc.spec, sizeof(cc.spec),
		 "ssl:clicon=localhost,port=%u,ca=%s/cert.pem", port, tls_dir);
	assert_int_equal(pthread_create(&cc.th, NULL, clicon_client_main, &cc),
			 0);
	snprintf(spec, sizeof(spec),
		 "ssl:port=%u,clicon=localhost,cert=%s/cert.pem,key=%s/key.pem",
		 port, tls_dir, tls_dir);
	assert_int_equal(kd_rlisten(&l, spec, DBGSRV), KD_OK);
	assert_int_equal(kd_raccept(l, &c, 5000), KD_OK);
	assert_string_equal(kd_rchan_proto(c), "ssl");
	assert_int_equal(kd_rchan_recv(c, buf, sizeof(buf), &n, 5000), KD_OK);
	assert_int_equal(n, 123);
	assert_int_equal(kd_rchan_send(c, buf, n), KD_OK);
	pthread_join(cc.th, NULL);
	assert_int_equal(cc.rc, KD_OK);
	kd_rchan_close(c);
	kd_rlistener_close(l);
}

/* One thread sends while another receives on the same TLS channel. */
struct pump {
	struct kd_rchan *c;
	int count;
	int rc;
};

static void *pump_send(void *arg)
{
	struct pump *p = arg;
	uint8_t buf[3000];

	for (int i = 0; i < p->count && p->rc == KD_OK; i++) {
		memset(buf, i & 0xff, sizeof(buf));
		p->rc = kd_rchan_send(p->c, buf, 1000 + (size_t)i % 2000);
	}
	return NULL;
}

static void test_tls_duplex(void **state)
{
	struct kd_rlistener *l;
	struct kd_rchan *c = NULL;
	char spec[512];
	struct pump p;
	pthread_t th;
	struct srv s;
	uint8_t buf[3000];

	(void)state;
	if (!have_tls)
		skip();
	l = tls_listen("");
	srv_start(&s, l, true);
	snprintf(spec, sizeof(spec),
		 "ssl:server=localhost,port=%u,ca=%s/cert.pem",
		 kd_rlistener_port(l), tls_dir);
	assert_int_equal(kd_rconnect(&c, spec, KDSRV, 5000), KD_OK);
	p.c = c;
	p.count = 300;
	p.rc = KD_OK;
	assert_int_equal(pthread_create(&th, NULL, pump_send, &p), 0);
	for (int i = 0; i < p.count; i++) {
		size_t n = 0;

		assert_int_equal(kd_rchan_recv(c, buf, sizeof(buf), &n, 5000),
				 KD_OK);
		assert_int_equal(n, 1000 + (size_t)i % 2000);
		assert_int_equal(buf[n - 1], i & 0xff);
	}
	pthread_join(th, NULL);
	assert_int_equal(p.rc, KD_OK);
	kd_rchan_close(c);
	srv_join(&s);
	kd_rlistener_close(l);
}

/* --- Connection-string errors --- */

static void bad_server(const char *spec, int code, const char *msg)
{
	struct kd_rlistener *l = (struct kd_rlistener *)&l;

	assert_int_equal(kd_rlisten(&l, spec, KDSRV), code);
	assert_null(l);
	assert_string_equal(kd_error_last()->message, msg);
}

static void bad_client(const char *spec, const char *msg)
{
	struct kd_rchan *c = (struct kd_rchan *)&c;

	assert_int_equal(kd_rconnect(&c, spec, KDSRV, 100), KD_EINVAL);
	assert_null(c);
	assert_string_equal(kd_error_last()->message, msg);
}

static void test_bad_strings(void **state)
{
	(void)state;
	bad_server("tcp:port=", KD_EINVAL, "tcp:port=: port must be 1-65535");
	bad_server("tcp:port=0", KD_EINVAL, "tcp:port=0: port must be 1-65535");
	bad_server("tcp:port=70000", KD_EINVAL,
		   "tcp:port=70000: port must be 1-65535");
	bad_server("tcp:port=5x", KD_EINVAL,
		   "tcp:port=5x: port must be 1-65535");
	bad_server("tcp:port=60:50", KD_EINVAL,
		   "tcp:port=60:50: port range 60:50 is backwards");
	bad_server("tcp:password=x", KD_EINVAL,
		   "tcp:password=*: port= is required");
	bad_server(
		"tcp:port=5,bogus=1,password=hunter2", KD_EINVAL,
		"tcp:port=5,bogus=1,password=*: unknown option 'bogus' for tcp");
	bad_server("tcp:port=5,hidden=1", KD_EINVAL,
		   "tcp:port=5,hidden=1: option 'hidden' takes no value");
	bad_server("udp:port=5", KD_EINVAL,
		   "udp:port=5: unknown protocol 'udp' (use tcp or ssl)");
	bad_server("port=5", KD_EINVAL, "port=5: expected tcp:... or ssl:...");
	bad_server("tcp:port=5,ipversion=5", KD_EINVAL,
		   "tcp:port=5,ipversion=5: ipversion must be 4 or 6");
	bad_server(
		"tcp:port=5:9,clicon=h", KD_EINVAL,
		"tcp:port=5:9,clicon=h: with clicon= the server takes one port, not a range");
	bad_server("ssl:port=5", KD_EINVAL,
		   "ssl:port=5: ssl: needs cert=FILE and key=FILE");
	bad_server(
		"ssl:port=5,cert=/nonexistent/c.pem,key=/nonexistent/k",
		KD_EINVAL,
		"ssl:port=5,cert=/nonexistent/c.pem,key=/nonexistent/k: cannot read cert file '/nonexistent/c.pem': No such file or directory");
	bad_server(
		"tcp:port=5,cert=a,key=b", KD_EINVAL,
		"tcp:port=5,cert=a,key=b: cert= and key= are for ssl:, not tcp:");
	bad_server(
		"tcp:port=5,password=0123456789012345678901234567890123456789012345678901234567890123456789",
		KD_EINVAL,
		"tcp:port=5,password=*: password must be 1-64 printable characters");
	bad_client("tcp:port=5",
		   "tcp:port=5: server= (or clicon=) is required");
	bad_client(
		"tcp:server=h,clicon=h,port=5",
		"tcp:server=h,clicon=h,port=5: give server= or clicon=, not both");
	bad_client(
		"tcp:server=h,port=5,hidden",
		"tcp:server=h,port=5,hidden: unknown option 'hidden' for tcp");
	bad_client(
		"tcp:server=h,port=5:9",
		"tcp:server=h,port=5:9: a client connects to one port, not a range");
	bad_client(
		"ssl:server=h,port=5",
		"ssl:server=h,port=5: ssl: needs ca=FILE (the CA certificate to verify the server with)");
	bad_client(
		"tcp:server=no-such-host.invalid,port=5",
		"tcp:server=no-such-host.invalid,port=5: cannot resolve 'no-such-host.invalid': Name or service not known");
	if (have_tls) {
		char spec[256], want[640];

		snprintf(spec, sizeof(spec),
			 "ssl:port=5,cert=%s/cert.pem,key=%s/other.key",
			 tls_dir, tls_dir);
		snprintf(
			want, sizeof(want),
			"%s: key '%s/other.key' does not match cert '%s/cert.pem'",
			spec, tls_dir, tls_dir);
		bad_server(spec, KD_EINVAL, want);
	}
}

/* --- Handshake codec --- */

static void test_codec(void **state)
{
	struct kd_rchan_verdict v, v2;
	struct kd_rchan_shello sh, sh2;
	uint8_t buf[KD_RCHAN_HS_MAX];
	unsigned int ver = 0;
	const char *why = NULL;
	size_t n;

	(void)state;
	memset(&sh, 0, sizeof(sh));
	sh.flags = KD_RCHAN_SF_PASSWORD;
	snprintf(sh.service, sizeof(sh.service), "kdsrv/1");
	for (int i = 0; i < 32; i++)
		sh.nonce[i] = (uint8_t)i;
	n = kd_rchan_enc_shello(buf, sizeof(buf), &sh);
	/* magic(4) version type flags reserved, len + "kdsrv/1", nonce */
	assert_int_equal(n, 8 + 1 + 7 + 32);
	assert_memory_equal(buf, "KDRC\x01\x01\x01\x00\x07kdsrv/1", 16);
	assert_int_equal(buf[16], 0);
	assert_int_equal(buf[47], 31);
	assert_int_equal(kd_rchan_parse_shello(buf, n, &sh2, &ver, &why),
			 KD_OK);
	assert_memory_equal(&sh, &sh2, sizeof(sh));
	assert_int_equal(kd_rchan_parse_shello(buf, n - 1, &sh2, &ver, &why),
			 KD_EPROTO);
	assert_string_equal(why, "server hello has the wrong length");
	buf[4] = 2;
	assert_int_equal(kd_rchan_parse_shello(buf, n, &sh2, &ver, &why),
			 KD_ENOTSUP);
	assert_int_equal(ver, 2);
	buf[4] = 1;
	buf[0] = 'X';
	assert_int_equal(kd_rchan_parse_shello(buf, n, &sh2, &ver, &why),
			 KD_EPROTO);
	assert_string_equal(why, "not an openkd remote channel (bad magic)");
	/* A verdict with a proof only when OK. */
	memset(&v, 0, sizeof(v));
	v.status = KD_RCHAN_DENIED;
	v.flags = KD_RCHAN_VF_PROOF;
	assert_int_equal(kd_rchan_enc_verdict(buf, sizeof(buf), &v), 0);
	v.status = KD_RCHAN_OK;
	memset(v.proof, 0xab, sizeof(v.proof));
	n = kd_rchan_enc_verdict(buf, sizeof(buf), &v);
	assert_int_equal(n, 8 + 1 + 32);
	assert_int_equal(kd_rchan_parse_verdict(buf, n, &v2, &ver, &why),
			 KD_OK);
	assert_memory_equal(&v, &v2, sizeof(v));
	assert_int_equal(kd_rchan_msg_type(buf, n), KD_RCHAN_T_VERDICT);
}

/*
 * The proof against an independent computation (Python's hashlib/hmac:
 * hmac.new(sha256(b"pw").digest(), b"a"*32 + b"b"*32 + b"kdsrv/1",
 * sha256)).
 */
static void test_proof_vector(void **state)
{
	static const uint8_t want[32] = {
		0x12, 0x49, 0xb3, 0xe4, 0xd3, 0x92, 0x04, 0x0a,
		0xe7, 0xd4, 0xcc, 0x04, 0xbc, 0x86, 0x58, 0x95,
		0x94, 0xe3, 0x4c, 0x86, 0x7e, 0x06, 0x1e, 0x97,
		0x1d, 0xe1, 0xa4, 0xeb, 0x63, 0xad, 0xc1, 0x67,
	};
	uint8_t key[32], a[32], b[32], out[32];

	(void)state;
	kd_rchan__key("pw", key);
	/* SHA-256("pw") = 30c952fa...6170c4 */
	assert_int_equal(key[0], 0x30);
	assert_int_equal(key[1], 0xc9);
	assert_int_equal(key[31], 0xc4);
	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	kd_rchan__proof(key, a, b, "kdsrv/1", out);
	assert_memory_equal(out, want, sizeof(want));
	/* The server's proof uses the other order and differs. */
	kd_rchan__proof(key, b, a, "kdsrv/1", out);
	assert_memory_not_equal(out, want, sizeof(want));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codec),
		cmocka_unit_test(test_proof_vector),
		cmocka_unit_test(test_bad_strings),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_pending_and_small_cap),
		cmocka_unit_test(test_oversized_prefix_rejected),
		cmocka_unit_test(test_passwords),
		cmocka_unit_test(test_wrong_service),
		cmocka_unit_test(test_silent_peer),
		cmocka_unit_test(test_accept_split),
		cmocka_unit_test(test_admission_fair),
		cmocka_unit_test(test_burst),
		cmocka_unit_test(test_not_openkd),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_bind),
		cmocka_unit_test(test_port_range),
		cmocka_unit_test(test_clicon),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_tls_wrong_ca),
		cmocka_unit_test(test_tls_duplex),
		cmocka_unit_test(test_tls_clicon),
	};
	int rc;

	/* Below the kernel's ephemeral range (32768 up), where a busy
	 * machine's outgoing connections could hold a port we expect free. */
	port_base = 20000 + (unsigned int)(getpid() % 120) * 100;
	make_certs();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	cleanup_certs();
	return rc;
}
