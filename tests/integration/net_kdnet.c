/* SPDX-License-Identifier: MIT */
/*
 * The KDNET `net` driver over real UDP sockets on loopback: handshake and
 * data key on both ends, target reboot, wrong key, replays, malformed
 * datagrams, the host-initiated poke, and the real capture replayed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <kd/error.h>
#include <kd/net_crypto.h>
#include <kd/proto/kdnet.h>
#include <kd/sys/transport.h>
#include <kd/transport.h>

#include "pcap_udp.h"
#include "testsupport.h"

#define SAMPLE "kdnet/r2-host_relay-target_key-1.2.3.4.pcapng"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct kd_transport *open_ok(const char *fmt, ...) KD_PRINTF(1, 2);

static struct kd_transport *open_ok(const char *fmt, ...)
{
	char s[512];
	struct kd_transport *t = NULL;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(s, sizeof(s), fmt, ap);
	va_end(ap);
	rc = kd_transport_open(&t, s);
	if (rc != KD_OK)
		fail_msg("open '%s': %s (%s)", s, kd_strerror(rc),
			 kd_error_last()->message);
	return t;
}

static struct kd_net_stats stats(struct kd_transport *t)
{
	struct kd_net_stats st;

	assert_int_equal(kd_transport_net_stats(t, &st), KD_OK);
	return st;
}

static uint16_t local_port(struct kd_transport *t)
{
	uint16_t port = 0;

	assert_int_equal(kd_transport_local_port(t, &port), KD_OK);
	assert_true(port > 0);
	return port;
}

/* A KD-packet-shaped test payload (the driver does not parse KD). */
static void fill(uint8_t *p, size_t len, unsigned int salt)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 13 + salt);
}

static void expect_kd(struct kd_transport *t, const uint8_t *want, size_t len)
{
	uint8_t buf[KD_NET_MAX_PAYLOAD];
	size_t n = 0;
	int rc = kd_transport_recv(t, buf, sizeof(buf), &n, 3000);

	if (rc != KD_OK)
		fail_msg("recv: %s (%s)", kd_strerror(rc),
			 kd_error_last()->message);
	assert_int_equal(n, len);
	assert_memory_equal(buf, want, len);
}

static void expect_nothing(struct kd_transport *t, int ms)
{
	uint8_t buf[64];
	size_t n = 0;

	assert_int_equal(kd_transport_recv(t, buf, sizeof(buf), &n, ms),
			 KD_ETIMEOUT);
}

/* Drive the handshake one step per side (single thread, real sockets). */
static void handshake(struct kd_transport *host, struct kd_transport *target)
{
	for (int i = 0; i < 100; i++) {
		if (kd_transport_net_connected(host) &&
		    kd_transport_net_connected(target))
			return;
		expect_nothing(host, 20);
		expect_nothing(target, 20);
	}
	fail_msg("no KDNET session after 100 rounds");
}

static void assert_same_keys(struct kd_transport *a, struct kd_transport *b,
			     uint8_t out[32])
{
	uint8_t ka[32], kb[32];

	assert_int_equal(kd_transport_net_data_key(a, ka), KD_OK);
	assert_int_equal(kd_transport_net_data_key(b, kb), KD_OK);
	assert_memory_equal(ka, kb, 32);
	if (out)
		memcpy(out, ka, 32);
}

/* --- handshake and data --- */

static void run_handshake(const char *hostip)
{
	struct kd_transport *h = open_ok("net:port=0,key=1.2.3.4");
	struct kd_transport *t;
	uint8_t pkt[1000], big[KD_NET_MAX_PAYLOAD + 1];
	struct kd_net_stats sh, stt;

	t = open_ok(
		"net:role=target,port=%u,key=1.2.3.4,hostip=%s,offer_ms=100",
		local_port(h), hostip);
	assert_false(kd_transport_net_connected(h));
	assert_int_equal(kd_transport_net_data_key(h, pkt), KD_ENOTFOUND);
	handshake(h, t);
	assert_same_keys(h, t, NULL);

	fill(pkt, sizeof(pkt), 1);
	assert_int_equal(kd_transport_send(h, pkt, sizeof(pkt)), KD_OK);
	expect_kd(t, pkt, sizeof(pkt));
	fill(pkt, 16, 2);
	assert_int_equal(kd_transport_send(t, pkt, 16), KD_OK);
	expect_kd(h, pkt, 16); /* the ping before it was absorbed */
	fill(big, KD_NET_MAX_PAYLOAD, 3);
	assert_int_equal(kd_transport_send(t, big, KD_NET_MAX_PAYLOAD), KD_OK);
	expect_kd(h, big, KD_NET_MAX_PAYLOAD);
	assert_int_equal(kd_transport_send(t, big, sizeof(big)), KD_EBUFS);
	/* Break-in reaches the target as the one-byte datagram 0x62. */
	assert_int_equal(kd_transport_break_in(h), KD_OK);
	pkt[0] = 0x62;
	expect_kd(t, pkt, 1);
	assert_int_equal(kd_transport_break_in(t), KD_ENOTSUP);

	sh = stats(h);
	stt = stats(t);
	assert_int_equal(sh.sessions, 1);
	assert_int_equal(stt.sessions, 1);
	assert_int_equal(sh.offers, 1);
	assert_true(stt.offers >= 1);
	assert_int_equal(sh.pings, 1);
	assert_int_equal(sh.kd_in, 2);
	assert_int_equal(sh.kd_out, 2);
	assert_int_equal(stt.kd_in, 2);
	assert_int_equal(sh.auth_failures + sh.malformed + sh.replays, 0);
	assert_int_equal(stt.auth_failures + stt.malformed, 0);
	kd_transport_close(t);
	kd_transport_close(h);
}

static void test_handshake_v4(void **state)
{
	(void)state;
	run_handshake("127.0.0.1");
}

static void test_handshake_v6(void **state)
{
	(void)state;
	run_handshake("::1");
}

/* --- reboot --- */

static void test_reboot(void **state)
{
	struct kd_transport *h = open_ok("net:port=0,key=a.b.c.d");
	struct kd_transport *t;
	uint8_t k1[32], k2[32], pkt[40];

	(void)state;
	t = open_ok(
		"net:role=target,port=%u,key=A.B.C.D,hostip=127.0.0.1,offer_ms=50",
		local_port(h));
	handshake(h, t);
	assert_same_keys(h, t, k1);
	fill(pkt, sizeof(pkt), 7);
	assert_int_equal(kd_transport_send(t, pkt, sizeof(pkt)), KD_OK);
	expect_kd(h, pkt, sizeof(pkt));
	assert_int_equal(kd_transport_send(t, pkt, sizeof(pkt)), KD_OK);
	expect_kd(h, pkt, sizeof(pkt));

	/* Reboot: new OFFER, sequence numbers from 1 again. */
	assert_int_equal(kd_transport_net_reboot(t), KD_OK);
	assert_false(kd_transport_net_connected(t));
	assert_int_equal(kd_transport_net_reboot(h), KD_EINVAL);
	handshake(h, t);
	assert_same_keys(h, t, k2);
	assert_memory_not_equal(k1, k2, 32);
	fill(pkt, sizeof(pkt), 8);
	assert_int_equal(kd_transport_send(t, pkt, sizeof(pkt)), KD_OK);
	expect_kd(h, pkt, sizeof(pkt));
	assert_int_equal(kd_transport_send(h, pkt, 20), KD_OK);
	expect_kd(t, pkt, 20);
	assert_int_equal(stats(h).sessions, 2);
	assert_int_equal(stats(h).pings, 2);
	assert_int_equal(stats(h).replays, 0);
	assert_int_equal(stats(t).sessions, 2);
	kd_transport_close(t);
	kd_transport_close(h);
}

/* --- wrong key --- */

static void test_wrong_key(void **state)
{
	struct kd_transport *h = open_ok("net:port=0,key=1.2.3.4");
	struct kd_transport *t;
	uint8_t buf[64];
	size_t n = 0;
	int64_t t0;
	int rc;
	char want[64];

	(void)state;
	t = open_ok(
		"net:role=target,port=%u,key=1.2.3.5,hostip=127.0.0.1,offer_ms=100",
		local_port(h));
	t0 = now_ms();
	/* The target offers while the host listens; nothing authenticates. */
	do {
		expect_nothing(t, 0);
		rc = kd_transport_recv(h, buf, sizeof(buf), &n, 50);
	} while (rc == KD_ETIMEOUT && now_ms() - t0 < 5000);
	assert_int_equal(rc, KD_EAUTH);
	assert_true(now_ms() - t0 < 2000);
	/* Before any session one OFFER under another key is enough. */
	snprintf(want, sizeof(want), "1 datagram from 127.0.0.1:%u failed",
		 local_port(t));
	if (!strstr(kd_error_last()->message, want) ||
	    !strstr(kd_error_last()->message,
		    "failed authentication: wrong key?"))
		fail_msg("message: %s (wanted '%s')", kd_error_last()->message,
			 want);
	assert_int_equal(stats(h).auth_failures, 1);
	assert_int_equal(stats(h).sessions, 0);
	assert_false(kd_transport_net_connected(h));
	kd_transport_close(t);
	kd_transport_close(h);
}

/*
 * Once a session has worked, one stray OFFER under another key does not end
 * it: a second target offering with the wrong key is reported after three.
 */
static void test_wrong_key_after_session(void **state)
{
	struct kd_transport *h = open_ok("net:port=0,key=1.2.3.4");
	struct kd_transport *t, *bad;
	uint8_t buf[64];
	size_t n = 0;
	int64_t t0;
	int rc;
	char want[64];

	(void)state;
	t = open_ok(
		"net:role=target,port=%u,key=1.2.3.4,hostip=127.0.0.1,offer_ms=100",
		local_port(h));
	handshake(h, t);
	bad = open_ok(
		"net:role=target,port=%u,key=1.2.3.5,hostip=127.0.0.1,offer_ms=100",
		local_port(h));
	t0 = now_ms();
	do {
		expect_nothing(bad, 0);
		rc = kd_transport_recv(h, buf, sizeof(buf), &n, 50);
	} while (rc == KD_ETIMEOUT && now_ms() - t0 < 5000);
	assert_int_equal(rc, KD_EAUTH);
	snprintf(want, sizeof(want), "3 datagrams from 127.0.0.1:%u failed",
		 local_port(bad));
	if (!strstr(kd_error_last()->message, want))
		fail_msg("message: %s (wanted '%s')", kd_error_last()->message,
			 want);
	assert_int_equal(stats(h).auth_failures, 3);
	assert_true(kd_transport_net_connected(h));
	kd_transport_close(bad);
	kd_transport_close(t);
	kd_transport_close(h);
}

/* --- the pcap layer over net records the wire (IPv6 here) --- */

struct wire_walk {
	struct kd_net_session *obs; /* a passive observer with the key */
	uint16_t host_port, target_port;
	unsigned int n, authentic, data;
};

static int wire_datagram(void *arg, const struct kdt_udp *u)
{
	static const uint8_t lo6[16] = { [15] = 1 };
	struct wire_walk *w = arg;
	uint8_t plain[KD_NET_MAX_DATAGRAM];
	struct kd_net_frame f;

	w->n++;
	if (u->family != 6 || memcmp(u->src, lo6, 16) != 0 ||
	    memcmp(u->dst, lo6, 16) != 0)
		fail_msg("frame %u: not [::1] -> [::1]", u->frame);
	if (!((u->sport == w->host_port && u->dport == w->target_port) ||
	      (u->dport == w->host_port && u->sport == w->target_port)))
		fail_msg("frame %u: ports %u -> %u", u->frame, u->sport,
			 u->dport);
	if (kd_net_session_decode(w->obs, u->data, u->len, plain, sizeof(plain),
				  &f) != 0)
		fail_msg("frame %u: %s", u->frame, kd_error_last()->message);
	w->authentic++;
	/* From the debugger's direction the control frame is the RESPONSE. */
	if (f.channel == KD_NET_CHANNEL_CONTROL && f.from_debugger)
		assert_int_equal(kd_net_session_accept_response(
					 w->obs, f.payload, f.payload_len),
				 0);
	if (f.channel == KD_NET_CHANNEL_DATA)
		w->data++;
	return 0;
}

static void no_tap(void *ctx, const struct kd_wire_datagram *dg)
{
	(void)ctx;
	(void)dg;
}

static void test_pcap_records_wire(void **state)
{
	char path[] = "/tmp/openkd-wire-XXXXXX";
	struct kd_transport *h, *t;
	struct kd_net_stats sh;
	struct wire_walk w = { 0 };
	uint8_t pkt[300];
	unsigned int skipped = 0;
	char err[256];
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	h = open_ok("pcap:file=%s|net:port=0,key=1.2.3.4", path);
	/* The tap is the bottom driver's, and it has only one. */
	assert_int_equal(kd_transport_set_wire_tap(h, no_tap, NULL),
			 KD_ENOTSUP);
	assert_int_equal(
		kd_transport_set_wire_tap(kd_transport_lower(h), no_tap, NULL),
		KD_EBUSY);
	t = open_ok(
		"net:role=target,port=%u,key=1.2.3.4,hostip=::1,offer_ms=100",
		local_port(h));
	handshake(h, t);
	fill(pkt, sizeof(pkt), 7);
	assert_int_equal(kd_transport_send(h, pkt, sizeof(pkt)), KD_OK);
	expect_kd(t, pkt, sizeof(pkt));
	assert_int_equal(kd_transport_send(t, pkt, 40), KD_OK);
	expect_kd(h, pkt, 40);
	assert_int_equal(kd_transport_break_in(h), KD_OK);
	sh = stats(h);
	w.host_port = local_port(h);
	w.target_port = local_port(t);
	kd_transport_close(t);
	kd_transport_close(h);

	assert_int_equal(kd_net_session_new(&w.obs, "1.2.3.4"), 0);
	assert_int_equal(kdt_pcap_udp_foreach(path, 0, wire_datagram, &w,
					      &skipped, err, sizeof(err)),
			 0);
	kd_net_session_free(w.obs);
	unlink(path);
	/* Every datagram the host moved, each one authentic. */
	assert_int_equal(skipped, 0);
	assert_int_equal(w.n, sh.dgrams_in + sh.dgrams_out);
	assert_int_equal(w.authentic, w.n);
	/* ping, two KD packets and the break-in on the data channel */
	assert_int_equal(w.data, 4);
}

/* --- a relay socket between target and host: capture and resend --- */

struct relay {
	int fd;
	struct sockaddr_in host;   /* the host driver */
	struct sockaddr_in target; /* learnt from the first datagram */
	bool have_target;
	uint8_t last_from_target[2048];
	size_t last_from_target_len;
	uint8_t last_from_host[2048];
	size_t last_from_host_len;
};

static void relay_open(struct relay *r, uint16_t host_port)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	memset(r, 0, sizeof(*r));
	r->fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(r->fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(r->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(r->fd, (struct sockaddr *)&a, &len), 0);
	r->host = a;
	r->host.sin_port = htons(host_port);
}

static uint16_t relay_port(struct relay *r)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	assert_int_equal(getsockname(r->fd, (struct sockaddr *)&a, &len), 0);
	return ntohs(a.sin_port);
}

/* Forward every datagram waiting at the relay; returns how many. */
static int relay_pump(struct relay *r)
{
	int n = 0;

	for (;;) {
		struct pollfd pfd = { r->fd, POLLIN, 0 };
		struct sockaddr_in from;
		socklen_t len = sizeof(from);
		uint8_t buf[2048];
		ssize_t got;

		if (poll(&pfd, 1, 20) != 1)
			return n;
		got = recvfrom(r->fd, buf, sizeof(buf), 0,
			       (struct sockaddr *)&from, &len);
		assert_true(got > 0);
		if (from.sin_port == r->host.sin_port) {
			memcpy(r->last_from_host, buf, (size_t)got);
			r->last_from_host_len = (size_t)got;
			assert_true(r->have_target);
			assert_int_equal(sendto(r->fd, buf, (size_t)got, 0,
						(struct sockaddr *)&r->target,
						sizeof(r->target)),
					 got);
		} else {
			r->target = from;
			r->have_target = true;
			memcpy(r->last_from_target, buf, (size_t)got);
			r->last_from_target_len = (size_t)got;
			assert_int_equal(sendto(r->fd, buf, (size_t)got, 0,
						(struct sockaddr *)&r->host,
						sizeof(r->host)),
					 got);
		}
		n++;
	}
}

/* A datagram the host sent to the relay, without forwarding it. */
static bool relay_pending(struct relay *r, uint8_t *buf, size_t cap, size_t *n)
{
	struct pollfd pfd = { r->fd, POLLIN, 0 };
	ssize_t got;

	if (poll(&pfd, 1, 20) != 1)
		return false;
	got = recvfrom(r->fd, buf, cap, 0, NULL, NULL);
	assert_true(got > 0);
	*n = (size_t)got;
	return true;
}

static void relay_inject(struct relay *r, const void *buf, size_t len)
{
	assert_int_equal(sendto(r->fd, buf, len, 0, (struct sockaddr *)&r->host,
				sizeof(r->host)),
			 (ssize_t)len);
}

/* Host and target through a relay, with a session. */
static void relayed_pair(struct relay *r, struct kd_transport **h,
			 struct kd_transport **t)
{
	*h = open_ok("net:port=0,key=1.2.3.4");
	relay_open(r, local_port(*h));
	*t = open_ok(
		"net:role=target,port=%u,key=1.2.3.4,hostip=127.0.0.1,offer_ms=1000",
		relay_port(r));
	for (int i = 0; i < 50; i++) {
		if (kd_transport_net_connected(*h) &&
		    kd_transport_net_connected(*t))
			break;
		relay_pump(r);
		expect_nothing(*h, 10);
		relay_pump(r);
		expect_nothing(*t, 10);
	}
	assert_true(kd_transport_net_connected(*h));
	assert_true(kd_transport_net_connected(*t));
	relay_pump(r); /* the ping */
	expect_nothing(*h, 10);
	assert_int_equal(stats(*h).pings, 1);
}

static void test_replay_dropped(void **state)
{
	struct kd_transport *h, *t;
	struct relay r;
	uint8_t pkt[48], dg[2048], offer[2048];
	size_t dlen, olen;

	(void)state;
	relayed_pair(&r, &h, &t);
	/* The OFFER that started the session, captured at the relay. */
	fill(pkt, sizeof(pkt), 3);
	assert_int_equal(kd_transport_send(t, pkt, sizeof(pkt)), KD_OK);
	assert_int_equal(relay_pump(&r), 1);
	memcpy(dg, r.last_from_target, r.last_from_target_len);
	dlen = r.last_from_target_len;
	expect_kd(h, pkt, sizeof(pkt));

	/* The same datagram again: authentic, but an old sequence number. */
	relay_inject(&r, dg, dlen);
	expect_nothing(h, 100);
	assert_int_equal(stats(h).replays, 1);
	relay_inject(&r, dg, dlen);
	expect_nothing(h, 100);
	assert_int_equal(stats(h).replays, 2);

	/* An old OFFER (its nonce was answered already) is a replay too. */
	assert_int_equal(kd_transport_net_reboot(t), KD_OK);
	assert_int_equal(relay_pump(&r), 1);
	memcpy(offer, r.last_from_target, r.last_from_target_len);
	olen = r.last_from_target_len;
	expect_nothing(h, 50); /* answers it: session 2 */
	relay_pump(&r);
	expect_nothing(t, 50);
	relay_pump(&r);
	expect_nothing(h, 50);
	assert_int_equal(stats(h).sessions, 2);
	relay_inject(&r, offer, olen);
	expect_nothing(h, 100);
	assert_int_equal(stats(h).replays, 3);
	assert_int_equal(stats(h).sessions, 2);
	/* The session still works and nothing else was counted. */
	assert_int_equal(kd_transport_send(t, pkt, 16), KD_OK);
	relay_pump(&r);
	expect_kd(h, pkt, 16);
	assert_int_equal(stats(h).malformed + stats(h).auth_failures, 0);
	kd_transport_close(t);
	kd_transport_close(h);
	close(r.fd);
}

static void test_malformed_dropped(void **state)
{
	struct kd_transport *h, *t;
	struct relay r;
	uint8_t pkt[32], dg[2048], big[5000];
	size_t dlen;
	struct kd_net_stats st;

	(void)state;
	relayed_pair(&r, &h, &t);
	/* A genuine host datagram to learn from, captured at the relay. */
	fill(pkt, sizeof(pkt), 5);
	assert_int_equal(kd_transport_send(h, pkt, sizeof(pkt)), KD_OK);
	assert_int_equal(relay_pump(&r), 1);
	expect_kd(t, pkt, sizeof(pkt));
	memcpy(dg, r.last_from_host, r.last_from_host_len);
	dlen = r.last_from_host_len;

	relay_inject(&r, "abc", 3); /* too short */
	relay_inject(&r,
		     "XDBG\x04\x00"
		     "0123456789abcdef0123456789abcdef",
		     38);		/* bad magic */
	relay_inject(&r, dg, dlen - 5); /* not 16-aligned */
	memset(big, 0, sizeof(big));
	memcpy(big, "MDBG\x04\x00", 6);
	relay_inject(&r, big, sizeof(big)); /* oversize */
	relay_inject(&r, dg, 6);	    /* header only */
	relay_inject(&r, dg, dlen);	    /* our own direction */
	dg[dlen - 1] ^= 1;		    /* tag flipped */
	relay_inject(&r, dg, dlen);
	expect_nothing(h, 200);
	st = stats(h);
	assert_int_equal(st.malformed, 6);
	assert_int_equal(st.auth_failures, 1);
	assert_int_equal(st.kd_in, 0);
	assert_int_equal(st.sessions, 1);
	/* Still connected and working. */
	assert_int_equal(kd_transport_send(t, pkt, sizeof(pkt)), KD_OK);
	relay_pump(&r);
	expect_kd(h, pkt, sizeof(pkt));
	kd_transport_close(t);
	kd_transport_close(h);
	close(r.fd);
}

/* --- target=: the host pokes first --- */

static void test_host_initiated(void **state)
{
	struct kd_net_session *s = NULL;
	struct sockaddr_in a, from;
	socklen_t len = sizeof(a);
	struct kd_transport *h;
	struct kd_net_frame f;
	struct kd_net_offer o;
	uint8_t dg[2048], plain[2048], payload[KD_NET_OFFER_PAYLOAD_SIZE];
	size_t plen, elen;
	struct pollfd pfd;
	ssize_t n;
	uint16_t port;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	(void)state;
	/* The "target" is a raw socket on 127.0.0.2, the host on 127.0.0.1. */
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.2", &a.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	h = open_ok("net:port=%u,key=1.2.3.4,hostip=127.0.0.1,target=127.0.0.2",
		    port);
	expect_nothing(h, 50); /* sends the first poke */
	pfd = (struct pollfd){ fd, POLLIN, 0 };
	assert_int_equal(poll(&pfd, 1, 2000), 1);
	len = sizeof(from);
	n = recvfrom(fd, dg, sizeof(dg), 0, (struct sockaddr *)&from, &len);
	assert_true(n > 0);
	assert_int_equal(ntohs(from.sin_port), port);
	assert_int_equal(kd_net_session_new(&s, "1.2.3.4"), KD_OK);
	assert_int_equal(kd_net_session_decode(s, dg, (size_t)n, plain,
					       sizeof(plain), &f),
			 KD_OK);
	assert_int_equal(f.channel, KD_NET_CHANNEL_CONTROL);
	assert_true(f.from_debugger);
	assert_int_equal(f.payload_len, 2);
	assert_int_equal(f.payload[0], 0x01);
	assert_int_equal(f.payload[1], 0x00);

	/* Our OFFER is answered with a RESPONSE echoing its sequence. */
	memset(&o, 0, sizeof(o));
	o.format = 1;
	memset(o.nonce, 0x5a, sizeof(o.nonce));
	assert_int_equal(
		kd_net_offer_build(&o, payload, sizeof(payload), &plen), KD_OK);
	f = (struct kd_net_frame){ .version = 4,
				   .channel = 1,
				   .seq = 9,
				   .payload = payload,
				   .payload_len = plen };
	assert_int_equal(kd_net_session_encode(s, &f, dg, sizeof(dg), &elen),
			 KD_OK);
	a.sin_port = htons(port);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(
		sendto(fd, dg, elen, 0, (struct sockaddr *)&a, sizeof(a)),
		(ssize_t)elen);
	expect_nothing(h, 100);
	assert_int_equal(stats(h).sessions, 1);
	for (;;) {
		assert_int_equal(poll(&pfd, 1, 2000), 1);
		n = recvfrom(fd, dg, sizeof(dg), 0, NULL, NULL);
		assert_true(n > 0);
		assert_int_equal(kd_net_session_decode(s, dg, (size_t)n, plain,
						       sizeof(plain), &f),
				 KD_OK);
		if (f.payload_len == KD_NET_RESPONSE_PAYLOAD_SIZE)
			break; /* pokes sent before the OFFER came in */
	}
	assert_int_equal(f.seq, 9);
	assert_int_equal(f.payload[1], KD_NET_CTRL_RESPONSE);
	assert_memory_equal(f.payload + 2, o.nonce, 32);
	assert_int_equal(
		kd_net_session_accept_response(s, f.payload, f.payload_len),
		KD_OK);
	{
		uint8_t k1[32], k2[32];

		assert_int_equal(kd_net_session_data_key(s, k1), KD_OK);
		assert_int_equal(kd_transport_net_data_key(h, k2), KD_OK);
		assert_memory_equal(k1, k2, 32);
	}
	kd_net_session_free(s);
	kd_transport_close(h);
	close(fd);
}

/* --- the real capture, replayed through pcap against the host --- */

struct cap {
	struct kd_net_session *s;
	uint8_t nonce[32];
	uint8_t data_key[32];
	bool have_key;
	/* the capture's host datagrams, in order */
	uint8_t *host_dg[64];
	size_t host_len[64];
	size_t n_host;
	/* the KD payloads of the target's data datagrams, in order */
	uint8_t *kd[64];
	size_t kd_len[64];
	size_t n_kd;
	size_t n_ping;
};

static int cap_walk(void *arg, const struct kdt_udp *u)
{
	struct cap *c = arg;
	uint8_t plain[4200];
	struct kd_net_frame f;

	if (kd_net_session_decode(c->s, u->data, u->len, plain, sizeof(plain),
				  &f) != 0)
		fail_msg("frame %u does not authenticate", u->frame);
	if (f.from_debugger) {
		assert_true(c->n_host < 64);
		c->host_dg[c->n_host] = malloc(u->len);
		memcpy(c->host_dg[c->n_host], u->data, u->len);
		c->host_len[c->n_host++] = u->len;
		if (f.channel == KD_NET_CHANNEL_CONTROL &&
		    kd_net_control_type(f.payload, f.payload_len) ==
			    KD_NET_CTRL_RESPONSE) {
			memcpy(c->nonce, f.payload + 34, 32);
			assert_int_equal(
				kd_net_session_accept_response(c->s, f.payload,
							       f.payload_len),
				KD_OK);
			assert_int_equal(
				kd_net_session_data_key(c->s, c->data_key),
				KD_OK);
			c->have_key = true;
		}
		return 0;
	}
	if (f.channel != KD_NET_CHANNEL_DATA)
		return 0;
	if (kd_net_ping_parse(f.payload, f.payload_len, &(uint32_t){ 0 }) ==
	    0) {
		c->n_ping++;
		return 0;
	}
	assert_true(c->n_kd < 64);
	c->kd[c->n_kd] = malloc(f.payload_len);
	memcpy(c->kd[c->n_kd], f.payload, f.payload_len);
	c->kd_len[c->n_kd++] = f.payload_len;
	return 0;
}

static void test_capture_replay(void **state)
{
	char path[512], err[256], hex[65];
	struct cap c;
	struct kd_transport *rep, *h;
	struct relay r;
	uint8_t key[32], buf[4200], plain[4200];
	size_t got_kd = 0, next_host = 0, n;
	unsigned int skipped = 0;
	int64_t t0;

	(void)state;
	if (kdt_shared_path(path, sizeof(path), SAMPLE) != 0)
		skip();
	memset(&c, 0, sizeof(c));
	assert_int_equal(kd_net_session_new(&c.s, "1.2.3.4"), KD_OK);
	if (kdt_pcap_udp_foreach(path, 0, cap_walk, &c, &skipped, err,
				 sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_true(c.have_key);
	assert_true(c.n_kd >= 10);
	assert_int_equal(c.n_ping, 1);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", c.nonce[i]);

	/* Host with the capture's nonce; the capture's target via pcap. */
	h = open_ok("net:port=0,key=1.2.3.4,nonce=%s", hex);
	relay_open(&r, local_port(h));
	rep = open_ok("pcap:replay=%s,role=target", path);
	t0 = now_ms();
	while (got_kd < c.n_kd && now_ms() - t0 < 10000) {
		int rc = kd_transport_recv(rep, buf, sizeof(buf), &n, 0);

		if (rc == KD_OK) {
			relay_inject(&r, buf, n);
			continue;
		}
		assert_true(rc == KD_ETIMEOUT || rc == KD_EDISCONNECTED);
		/* Deliver what the host driver makes of it. */
		for (;;) {
			rc = kd_transport_recv(h, buf, sizeof(buf), &n, 20);
			if (rc != KD_OK)
				break;
			assert_true(got_kd < c.n_kd);
			assert_int_equal(n, c.kd_len[got_kd]);
			assert_memory_equal(buf, c.kd[got_kd], n);
			got_kd++;
		}
		assert_int_equal(rc, KD_ETIMEOUT);
		if (next_host == 1) {
			assert_true(kd_transport_net_connected(h));
			assert_int_equal(kd_transport_net_data_key(h, key),
					 KD_OK);
			assert_memory_equal(key, c.data_key, 32);
		}
		/*
		 * The replay waits for the host's next datagram: make the
		 * driver send the capture's next host KD packet, and check it
		 * puts the very same bytes on the wire.
		 */
		while (relay_pending(&r, buf, sizeof(buf), &n)) {
			assert_true(next_host < c.n_host);
			assert_int_equal(n, c.host_len[next_host]);
			assert_memory_equal(buf, c.host_dg[next_host], n);
			assert_int_equal(kd_transport_send(rep, buf, n), KD_OK);
			next_host++;
		}
		if (next_host < c.n_host) {
			struct kd_net_frame f;

			assert_int_equal(
				kd_net_session_decode(c.s, c.host_dg[next_host],
						      c.host_len[next_host],
						      plain, sizeof(plain), &f),
				KD_OK);
			if (kd_net_is_breakin(f.payload, f.payload_len))
				assert_int_equal(kd_transport_break_in(h),
						 KD_OK);
			else
				assert_int_equal(
					kd_transport_send(h, f.payload,
							  f.payload_len),
					KD_OK);
		}
	}
	assert_int_equal(got_kd, c.n_kd);
	assert_true(next_host >= 2);
	assert_int_equal(stats(h).sessions, 1);
	assert_int_equal(stats(h).pings, 1);
	assert_int_equal(stats(h).auth_failures + stats(h).malformed +
				 stats(h).replays,
			 0);
	print_message(
		"capture replay: %zu target KD packets decoded, %zu host datagrams byte-identical\n",
		got_kd, next_host);
	kd_transport_close(rep);
	kd_transport_close(h);
	close(r.fd);
	for (size_t i = 0; i < c.n_host; i++)
		free(c.host_dg[i]);
	for (size_t i = 0; i < c.n_kd; i++)
		free(c.kd[i]);
	kd_net_session_free(c.s);
}

/* --- option errors --- */

static void test_open_errors(void **state)
{
	struct kd_transport *t = NULL;

	(void)state;
	assert_int_equal(kd_transport_open(&t, "net:port=0"), KD_EINVAL);
	assert_int_equal(kd_transport_open(&t, "net:port=0,key=1.2.3"),
			 KD_EINVAL);
	assert_non_null(strstr(kd_error_last()->message, "key"));
	assert_int_equal(
		kd_transport_open(&t, "net:port=0,key=1.2.3.4,nonce=12"),
		KD_EINVAL);
	assert_int_equal(kd_transport_open(&t, "net:role=target,key=1.2.3.4"),
			 KD_EINVAL);
	assert_non_null(strstr(kd_error_last()->message, "hostip"));
	assert_int_equal(
		kd_transport_open(&t, "net:port=0,key=1.2.3.4,offer_ms=5"),
		KD_EINVAL);
	assert_int_equal(
		kd_transport_open(&t, "net:port=0,key=1.2.3.4,bogus=1"),
		KD_EINVAL);
	assert_null(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_v4),
		cmocka_unit_test(test_handshake_v6),
		cmocka_unit_test(test_reboot),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_wrong_key_after_session),
		cmocka_unit_test(test_pcap_records_wire),
		cmocka_unit_test(test_replay_dropped),
		cmocka_unit_test(test_malformed_dropped),
		cmocka_unit_test(test_host_initiated),
		cmocka_unit_test(test_capture_replay),
		cmocka_unit_test(test_open_errors),
	};

	return cmocka_run_group_tests_name("net_kdnet", tests, NULL, NULL);
}
