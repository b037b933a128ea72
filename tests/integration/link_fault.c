/* SPDX-License-Identifier: MIT */
/*
 * The KD link against a target-role peer over real OS channels: the real
 * radare2/kdd serial session replayed byte for byte, 10,000 request/reply
 * exchanges through `fault` (KDCOM between two processes over a unix
 * socket, KDNET between two threads over datagrams), SYNC, RESET, noise,
 * target reboot, break-in and timeouts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <kd/error.h>
#include <kd/link.h>
#include <kd/proto/packet.h>
#include <kd/proto/stream.h>
#include <kd/transport.h>

#include "testsupport.h"

#define EXCHANGES 10000
#define STOP_COUNTER 0xFFFFFFFFu
#define REQ_MAX 1500
#define FAST_ACK_MS 30
/* 1% drops and 1% corruption, applied on each side's sends. */
#define FAULTS "fault:drop=0.01,corrupt=0.01,"

static char tmpdir[64];
static unsigned sock_seq;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sock_path(char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/s%u.sock", tmpdir, sock_seq++);
}

static struct kd_link *link_over(const char *connstr, enum kd_link_role role,
				 int ack_ms, int tries)
{
	struct kd_link_opts o = KD_LINK_OPTS_INIT;
	struct kd_transport *t = NULL;
	struct kd_link *l = NULL;
	int rc;

	o.role = role;
	o.ack_timeout_ms = ack_ms;
	o.byte_timeout_ms = ack_ms / 2 > 0 ? ack_ms / 2 : 1;
	o.max_tries = tries;
	o.reset_interval_ms = 200;
	rc = kd_transport_open(&t, connstr);
	if (rc != KD_OK)
		return NULL;
	rc = kd_link_open(&l, t, &o);
	if (rc != KD_OK) {
		kd_transport_close(t);
		return NULL;
	}
	return l;
}

/* A raw client socket on a com:pipe server, the test's scripted peer. */
static int raw_connect(const char *path)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int i;

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	for (i = 0; i < 200; i++) {
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		usleep(10000);
	}
	close(fd);
	return -1;
}

static void write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		assert_true(n > 0);
		p += n;
		len -= (size_t)n;
	}
}

/* Read one whole KD packet from a raw socket with a parser (5 s bound). */
#define raw_read_packet(fd, s, h, p) raw_read_packet_at(fd, s, h, p, __LINE__)

static void raw_read_packet_at(int fd, struct kd_stream *s,
			       struct kd_packet_header *h, uint8_t *payload,
			       int line)
{
	int64_t end = now_ms() + 5000;
	uint8_t b;

	while (now_ms() < end) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		struct kd_stream_event ev;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		assert_int_equal(read(fd, &b, 1), 1);
		kd_stream_feed(s, &b, 1, &ev);
		if (ev.kind == KD_STREAM_EVENT_PACKET) {
			*h = ev.hdr;
			if (payload && ev.payload_len)
				memcpy(payload, ev.payload, ev.payload_len);
			return;
		}
	}
	fail_msg("line %d: no packet from the link within 5 s", line);
}

static void raw_send_data(int fd, unsigned type, uint32_t id,
			  const void *payload, size_t len)
{
	uint8_t pkt[KD_PACKET_HEADER_SIZE + KD_PACKET_MAX_SEND + 1];
	size_t n;

	assert_int_equal(kd_packet_build(pkt, sizeof(pkt), &n, type, id,
					 payload, len, true),
			 KD_OK);
	write_all(fd, pkt, n);
}

static void raw_send_control(int fd, unsigned type, uint32_t id)
{
	uint8_t pkt[KD_PACKET_HEADER_SIZE];
	size_t n;

	assert_int_equal(
		kd_packet_build_control(pkt, sizeof(pkt), &n, type, id), KD_OK);
	write_all(fd, pkt, n);
}

/* --- request/reply content --- */

static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static size_t make_request(uint32_t n, uint64_t *rng, uint8_t *buf)
{
	size_t len = 4 + (size_t)(rnd(rng) % REQ_MAX);
	size_t i;

	kd_put_le32(buf, n);
	for (i = 4; i < len; i++)
		buf[i] = (uint8_t)rnd(rng);
	return len;
}

/* Reply: the counter, the body reversed and xored, then its byte sum. */
static size_t make_reply(const uint8_t *req, size_t len, uint8_t *out)
{
	uint32_t sum = 0;
	size_t i;

	memcpy(out, req, 4);
	for (i = 4; i < len; i++) {
		out[i] = (uint8_t)(req[len - 1 - (i - 4)] ^ 0xA5);
		sum += out[i];
	}
	kd_put_le32(out + len, sum);
	return len + 4;
}

/* The target: answer every request until the STOP request. */
static int target_echo(struct kd_link *l, int idle_ms)
{
	uint8_t req[KD_PACKET_MAX_RECV];
	uint8_t rep[KD_PACKET_MAX_RECV + 4];
	unsigned type;
	size_t len;
	int rc;

	for (;;) {
		rc = kd_link_recv(l, &type, req, sizeof(req), &len, idle_ms);
		if (rc < 0)
			return rc;
		if (type == KD_PACKET_TYPE_POLL_BREAKIN)
			continue;
		if (type != KD_PACKET_TYPE_STATE_MANIPULATE || len < 4)
			return KD_EPROTO;
		rc = kd_link_send(l, KD_PACKET_TYPE_STATE_MANIPULATE, rep,
				  make_reply(req, len, rep));
		if (rc < 0)
			return rc;
		if (kd_get_le32(req) == STOP_COUNTER)
			return KD_OK;
	}
}

/* The host: @p n exchanges, every reply checked; then STOP. */
static void host_exchanges(struct kd_link *l, unsigned n, uint64_t seed)
{
	uint8_t req[REQ_MAX + 8];
	uint8_t want[REQ_MAX + 16];
	uint8_t got[KD_PACKET_MAX_RECV];
	unsigned type;
	size_t len, wlen, glen;
	uint32_t i;
	int rc;

	for (i = 0; i <= n; i++) {
		len = i == n ? 4 : make_request(i, &seed, req);
		if (i == n)
			kd_put_le32(req, STOP_COUNTER);
		rc = kd_link_send(l, KD_PACKET_TYPE_STATE_MANIPULATE, req, len);
		if (rc != KD_OK)
			fail_msg("exchange %u: send: %s (%s)", i,
				 kd_strerror(rc), kd_error_last()->message);
		rc = kd_link_recv(l, &type, got, sizeof(got), &glen, 10000);
		if (rc != KD_OK)
			fail_msg("exchange %u: recv: %s (%s)", i,
				 kd_strerror(rc), kd_error_last()->message);
		assert_int_equal(type, KD_PACKET_TYPE_STATE_MANIPULATE);
		wlen = make_reply(req, len, want);
		assert_int_equal(glen, wlen);
		assert_memory_equal(got, want, wlen);
	}
	/* Answer retransmissions of the last reply until the peer is done. */
	while (kd_link_recv(l, &type, got, sizeof(got), &glen, 300) == KD_OK)
		;
}

static void print_stats(const char *who, const struct kd_link_stats *s)
{
	printf("  %-12s sent %llu recv %llu retransmissions %llu "
	       "ack-timeouts %llu resends sent/recv %llu/%llu duplicates %llu "
	       "bad checksum/trailer/length %llu/%llu/%llu byte-timeouts %llu "
	       "bad-headers %llu garbage %llu stale-acks %llu\n",
	       who, (unsigned long long)s->packets_sent,
	       (unsigned long long)s->packets_received,
	       (unsigned long long)s->retransmissions,
	       (unsigned long long)s->ack_timeouts,
	       (unsigned long long)s->resends_sent,
	       (unsigned long long)s->resends_received,
	       (unsigned long long)s->duplicates,
	       (unsigned long long)s->bad_checksums,
	       (unsigned long long)s->bad_trailers,
	       (unsigned long long)s->bad_lengths,
	       (unsigned long long)s->byte_timeouts,
	       (unsigned long long)s->bad_headers,
	       (unsigned long long)s->garbage_bytes,
	       (unsigned long long)s->stale_acks);
}

/* --- a target in a child process --- */

typedef int (*target_fn)(struct kd_link *l, void *arg);

struct child {
	pid_t pid;
	int stats_fd; /* read end: the child's kd_link_stats */
};

static struct child spawn_target(const char *connstr, int ack_ms, int tries,
				 target_fn fn, void *arg)
{
	struct child c = { -1, -1 };
	int p[2];

	assert_int_equal(pipe(p), 0);
	c.pid = fork();
	assert_true(c.pid >= 0);
	if (c.pid == 0) {
		struct kd_link_stats st;
		struct kd_link *l;
		int rc;

		close(p[0]);
		l = link_over(connstr, KD_LINK_TARGET, ack_ms, tries);
		if (!l) {
			fprintf(stderr, "child: open '%s': %s\n", connstr,
				kd_error_last()->message);
			_exit(2);
		}
		rc = fn(l, arg);
		if (rc != KD_OK)
			fprintf(stderr, "child: %s (%s)\n", kd_strerror(rc),
				kd_error_last()->message);
		kd_link_stats(l, &st);
		if (write(p[1], &st, sizeof(st)) != (ssize_t)sizeof(st))
			rc = KD_ERROR;
		kd_link_close(l);
		_exit(rc == KD_OK ? 0 : 1);
	}
	close(p[1]);
	c.stats_fd = p[0];
	return c;
}

static void reap(struct child *c, struct kd_link_stats *st)
{
	int status = 0;

	memset(st, 0, sizeof(*st));
	assert_int_equal(read(c->stats_fd, st, sizeof(*st)),
			 (ssize_t)sizeof(*st));
	close(c->stats_fd);
	assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static int echo_fn(struct kd_link *l, void *arg)
{
	(void)arg;
	return target_echo(l, 20000);
}

/* --- 1. the real serial session, replayed byte for byte --- */

struct unit {
	size_t off, len;
	bool is_ack;
	bool is_reset;
	bool is_data;
	uint16_t type;
};

struct replay {
	const char *path;
	const uint8_t *tgt;
	struct unit units[64];
	size_t n_units;
	uint8_t host[4096]; /* what the host link wrote */
	size_t host_len;
	int rc;
};

static size_t split_units(const uint8_t *buf, size_t len, struct unit *u,
			  size_t cap)
{
	struct kd_stream s;
	size_t off = 0, start = 0, n = 0;

	kd_stream_init(&s);
	while (off < len && n < cap) {
		struct kd_stream_event ev;

		off += kd_stream_feed(&s, buf + off, len - off, &ev);
		if (ev.kind != KD_STREAM_EVENT_PACKET)
			continue;
		u[n].off = start;
		u[n].len = off - start;
		u[n].is_data = ev.hdr.leader == KD_PACKET_LEADER_DATA;
		u[n].is_ack = !u[n].is_data &&
			      ev.hdr.type == KD_PACKET_TYPE_ACKNOWLEDGE;
		u[n].is_reset = !u[n].is_data &&
				ev.hdr.type == KD_PACKET_TYPE_RESET;
		u[n].type = ev.hdr.type;
		n++;
		start = off;
	}
	return n;
}

/* The target side of the capture, causal: an ACK waits for its request. */
static void *replayer(void *arg)
{
	struct replay *r = arg;
	struct kd_stream s;
	size_t next = 0, acks = 0, host_data = 0;
	int64_t end = now_ms() + 30000;
	int fd = raw_connect(r->path);

	r->rc = -1;
	if (fd < 0)
		return NULL;
	kd_stream_init(&s);
	while (now_ms() < end) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		uint8_t buf[512];
		ssize_t n;
		size_t i;

		while (next < r->n_units &&
		       (!r->units[next].is_ack || host_data > acks)) {
			const struct unit *u = &r->units[next++];

			if (write(fd, r->tgt + u->off, u->len) !=
			    (ssize_t)u->len)
				goto out;
			if (u->is_ack)
				acks++;
		}
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n <= 0) {
			r->rc = next == r->n_units ? 0 : -2;
			break;
		}
		if (r->host_len + (size_t)n > sizeof(r->host))
			break;
		memcpy(r->host + r->host_len, buf, (size_t)n);
		r->host_len += (size_t)n;
		for (i = 0; i < (size_t)n;) {
			struct kd_stream_event ev;

			i += kd_stream_feed(&s, buf + i, (size_t)n - i, &ev);
			if (ev.kind == KD_STREAM_EVENT_PACKET &&
			    ev.hdr.leader == KD_PACKET_LEADER_DATA)
				host_data++;
		}
	}
out:
	close(fd);
	return NULL;
}

static void test_kdcom_replay_real_session(void **state)
{
	char tpath[512], hpath[512], path[128], cs[256];
	struct unit hunits[64];
	struct replay *r;
	uint8_t *tgt, *host;
	size_t tlen, hlen, nh, k, i, expect_n = 0, got_n = 0;
	uint16_t expect_types[64], got_types[64];
	struct kd_link *l;
	struct kd_link_stats st;
	pthread_t th;
	bool after_reset = false;

	(void)state;
	if (kdt_shared_path(tpath, sizeof(tpath),
			    "kdserial/target-to-host.bin") != 0 ||
	    kdt_shared_path(hpath, sizeof(hpath),
			    "kdserial/host-to-target.bin") != 0)
		skip();
	tgt = kdt_read_file(tpath, &tlen);
	host = kdt_read_file(hpath, &hlen);
	assert_non_null(tgt);
	assert_non_null(host);
	r = calloc(1, sizeof(*r));
	assert_non_null(r);
	r->tgt = tgt;
	r->n_units = split_units(tgt, tlen, r->units, 64);
	assert_int_equal(r->units[r->n_units - 1].off +
				 r->units[r->n_units - 1].len,
			 tlen);
	for (k = 0; k < r->n_units; k++) {
		if (r->units[k].is_reset)
			after_reset = true;
		else if (after_reset && r->units[k].is_data)
			expect_types[expect_n++] = r->units[k].type;
	}
	/* The host's requests, taken from the host side of the capture. */
	nh = split_units(host, hlen, hunits, 64);

	sock_path(path, sizeof(path));
	r->path = path;
	snprintf(cs, sizeof(cs), "com:pipe,server,port=%s", path);
	l = link_over(cs, KD_LINK_HOST, 3000, 3);
	assert_non_null(l);
	assert_int_equal(pthread_create(&th, NULL, replayer, r), 0);
	assert_int_equal(kd_link_sync(l, 5000), KD_OK);
	for (k = 0; k <= nh; k++) {
		uint8_t buf[KD_PACKET_MAX_RECV];
		unsigned type;
		size_t len;

		while (kd_link_recv(l, &type, buf, sizeof(buf), &len, 300) ==
		       KD_OK) {
			assert_true(got_n < 64);
			got_types[got_n++] = (uint16_t)type;
		}
		if (k == nh)
			break;
		if (!hunits[k].is_data)
			continue;
		/* Payload sits between the 16-byte header and the trailer. */
		assert_int_equal(kd_link_send(l, hunits[k].type,
					      host + hunits[k].off + 16,
					      hunits[k].len - 17),
				 KD_OK);
	}
	kd_link_stats(l, &st);
	kd_link_close(l);
	pthread_join(th, NULL);
	assert_int_equal(r->rc, 0);
	/* Every byte the link wrote is what radare2 wrote in the capture. */
	assert_int_equal(r->host_len, hlen);
	assert_memory_equal(r->host, host, hlen);
	assert_int_equal(got_n, expect_n);
	for (i = 0; i < got_n; i++)
		assert_int_equal(got_types[i], expect_types[i]);
	assert_int_equal(st.retransmissions, 0);
	assert_int_equal(st.resets_received, 1);
	assert_int_equal(st.acks_received, 5);
	printf("  replayed %zu target packets, %zu host bytes identical\n",
	       r->n_units, hlen);
	free(r);
	free(tgt);
	free(host);
}

/* --- 2. 10,000 exchanges through fault, KDCOM, two processes --- */

static void test_kdcom_fault_10000(void **state)
{
	char path[128], hcs[256], tcs[256];
	struct kd_link_stats hs, ts;
	struct kd_fault_stats fs;
	struct kd_link *l;
	struct child c;
	int64_t t0 = now_ms();

	(void)state;
	sock_path(path, sizeof(path));
	snprintf(hcs, sizeof(hcs),
		 FAULTS "seed=11,dir=tx|com:pipe,server,port=%s", path);
	snprintf(tcs, sizeof(tcs), FAULTS "seed=12,dir=tx|com:pipe,port=%s",
		 path);
	l = link_over(hcs, KD_LINK_HOST, FAST_ACK_MS, 100);
	assert_non_null(l);
	c = spawn_target(tcs, FAST_ACK_MS, 100, echo_fn, NULL);
	assert_int_equal(kd_link_sync(l, 10000), KD_OK);
	host_exchanges(l, EXCHANGES, 0x1234);
	kd_link_stats(l, &hs);
	assert_int_equal(kd_transport_fault_stats(kd_link_transport(l), &fs),
			 KD_OK);
	kd_link_close(l);
	reap(&c, &ts);
	printf("  KDCOM %d exchanges in %lld ms; host tx faults: %llu dropped, "
	       "%llu corrupted of %llu\n",
	       EXCHANGES, (long long)(now_ms() - t0),
	       (unsigned long long)fs.tx.dropped,
	       (unsigned long long)fs.tx.corrupted,
	       (unsigned long long)fs.tx.units);
	print_stats("host", &hs);
	print_stats("target", &ts);
	assert_true(hs.packets_sent == EXCHANGES + 1);
	assert_true(hs.packets_received == EXCHANGES + 1);
	assert_true(fs.tx.dropped > 0 && fs.tx.corrupted > 0);
	assert_true(hs.retransmissions > 0 && ts.retransmissions > 0);
	assert_true(hs.resends_sent + ts.resends_sent > 0);
	assert_true(now_ms() - t0 < 240000);
}

/* --- 3. 10,000 exchanges through fault, KDNET framing, two threads --- */

struct tthread {
	const char *connstr;
	int rc;
	struct kd_link_stats st;
	struct kd_link *ready;
};

static void *target_thread(void *arg)
{
	struct tthread *tt = arg;
	struct kd_link *l = link_over(tt->connstr, KD_LINK_TARGET, FAST_ACK_MS,
				      100);

	tt->rc = KD_ERROR;
	if (!l)
		return NULL;
	tt->rc = target_echo(l, 20000);
	kd_link_stats(l, &tt->st);
	kd_link_close(l);
	return NULL;
}

static void test_kdnet_fault_10000(void **state)
{
	char hcs[256], tcs[256];
	struct tthread tt = { 0 };
	struct kd_link_stats hs;
	struct kd_link *l;
	uint16_t port = 0;
	bool udp = kd_transport_available("net");
	pthread_t th;
	int64_t t0 = now_ms();

	(void)state;
	/*
	 * KDNET over UDP loopback with the `net` driver in both roles; the
	 * fault layer sits above it, so damage reaches the link authenticated.
	 * Without the driver, in-process datagrams carry the same framing.
	 */
	if (udp) {
		l = link_over(FAULTS "seed=21,dir=tx|net:port=0,key=1.2.3.4",
			      KD_LINK_HOST, FAST_ACK_MS, 100);
		assert_non_null(l);
		assert_int_equal(
			kd_transport_local_port(kd_link_transport(l), &port),
			KD_OK);
		snprintf(tcs, sizeof(tcs),
			 FAULTS "seed=22,dir=tx|net:role=target,port=%u,"
				"key=1.2.3.4,hostip=127.0.0.1,offer_ms=100",
			 port);
	} else {
		snprintf(hcs, sizeof(hcs),
			 FAULTS "seed=21,dir=tx|loop:name=lk1,datagram");
		l = link_over(hcs, KD_LINK_HOST, FAST_ACK_MS, 100);
		assert_non_null(l);
		snprintf(tcs, sizeof(tcs),
			 FAULTS "seed=22,dir=tx|loop:name=lk1,datagram");
	}
	assert_true(kd_link_is_kdnet(l));
	tt.connstr = tcs;
	assert_int_equal(pthread_create(&th, NULL, target_thread, &tt), 0);
	if (kd_link_sync(l, 10000) != KD_OK)
		fail_msg("sync: %s", kd_error_last()->message);
	host_exchanges(l, EXCHANGES, 0x5678);
	kd_link_stats(l, &hs);
	pthread_join(th, NULL);
	kd_link_close(l);
	if (tt.rc != KD_OK)
		fail_msg("target thread: %s", kd_strerror(tt.rc));
	printf("  KDNET %s: %d exchanges in %lld ms\n",
	       udp ? "over UDP loopback (net driver, both roles)" :
		     "framing over loop datagrams (no net driver)",
	       EXCHANGES, (long long)(now_ms() - t0));
	print_stats("host", &hs);
	print_stats("target", &tt.st);
	assert_true(hs.packets_received == EXCHANGES + 1);
	assert_true(hs.retransmissions > 0 && tt.st.retransmissions > 0);
	assert_true(hs.bad_checksums + tt.st.bad_checksums > 0);
	assert_true(now_ms() - t0 < 240000);
}

/* --- 4. SYNC bit, RESET handshake, noise, reboot, break-in --- */

static void test_kdcom_sync_bit_and_noise(void **state)
{
	char path[128], cs[256];
	uint8_t buf[KD_PACKET_MAX_RECV], pl[64];
	static const uint8_t noise[] = { 0x00, 0x30, 0x30, 0xff, 0x69, 0x13,
					 0x37, 0x30, 0x30, 0x30, 0x42 };
	struct kd_packet_header h;
	struct kd_stream s;
	struct kd_link_stats st;
	struct kd_link *l;
	unsigned type;
	size_t len;
	int fd;

	(void)state;
	sock_path(path, sizeof(path));
	snprintf(cs, sizeof(cs), "com:pipe,server,port=%s", path);
	l = link_over(cs, KD_LINK_HOST, 300, 5);
	assert_non_null(l);
	fd = raw_connect(path);
	assert_true(fd >= 0);
	kd_stream_init(&s);
	memset(pl, 0x11, sizeof(pl));

	/* A booting target's first packet: INITIAL|SYNC. */
	raw_send_data(fd, KD_PACKET_TYPE_STATE_CHANGE64, 0x80800800u, pl, 40);
	assert_int_equal(kd_link_recv(l, &type, buf, sizeof(buf), &len, 2000),
			 KD_OK);
	assert_int_equal(type, KD_PACKET_TYPE_STATE_CHANGE64);
	assert_int_equal(len, 40);
	raw_read_packet(fd, &s, &h, NULL);
	assert_int_equal(h.leader, KD_PACKET_LEADER_CONTROL);
	assert_int_equal(h.type, KD_PACKET_TYPE_ACKNOWLEDGE);
	assert_int_equal(h.id, 0x80800000u); /* SYNC bit stripped */
	assert_true(kd_link_events(l) & KD_LINK_EVENT_RESYNC);

	/* Line noise, then the next packet: delivered, noise counted. */
	write_all(fd, noise, sizeof(noise));
	raw_send_data(fd, KD_PACKET_TYPE_DEBUG_IO, 0x80800001u, pl, 20);
	assert_int_equal(kd_link_recv(l, &type, buf, sizeof(buf), &len, 2000),
			 KD_OK);
	assert_int_equal(type, KD_PACKET_TYPE_DEBUG_IO);
	raw_read_packet(fd, &s, &h, NULL);
	assert_int_equal(h.type, KD_PACKET_TYPE_ACKNOWLEDGE);
	assert_int_equal(h.id, 0x80800001u);

	/* The same packet again: ACKed, not delivered. */
	raw_send_data(fd, KD_PACKET_TYPE_DEBUG_IO, 0x80800001u, pl, 20);
	assert_int_equal(kd_link_recv(l, &type, buf, sizeof(buf), &len, 200),
			 KD_ETIMEOUT);
	raw_read_packet(fd, &s, &h, NULL);
	assert_int_equal(h.id, 0x80800001u);

	/* A bad checksum: RESEND with id 0, nothing delivered. */
	{
		uint8_t pkt[128];
		size_t n;

		assert_int_equal(kd_packet_build(pkt, sizeof(pkt), &n,
						 KD_PACKET_TYPE_DEBUG_IO,
						 0x80800000u, pl, 20, true),
				 KD_OK);
		pkt[20] ^= 0x40;
		write_all(fd, pkt, n);
	}
	assert_int_equal(kd_link_recv(l, &type, buf, sizeof(buf), &len, 200),
			 KD_ETIMEOUT);
	raw_read_packet(fd, &s, &h, NULL);
	assert_int_equal(h.type, KD_PACKET_TYPE_RESEND);
	assert_int_equal(h.id, 0);
	/* A packet cut off mid-way: RESEND after the byte timeout. */
	{
		uint8_t pkt[128];
		size_t n;

		assert_int_equal(kd_packet_build(pkt, sizeof(pkt), &n,
						 KD_PACKET_TYPE_DEBUG_IO,
						 0x80800000u, pl, 20, true),
				 KD_OK);
		write_all(fd, pkt, 24);
	}
	assert_int_equal(kd_link_recv(l, &type, buf, sizeof(buf), &len, 600),
			 KD_ETIMEOUT);
	raw_read_packet(fd, &s, &h, NULL);
	assert_int_equal(h.type, KD_PACKET_TYPE_RESEND);

	/* A RESET from the peer restarts the expected id. */
	raw_send_data(fd, KD_PACKET_TYPE_DEBUG_IO, 0x80800000u, pl, 8);
	assert_int_equal(kd_link_recv(l, &type, buf, sizeof(buf), &len, 500),
			 KD_OK);
	assert_int_equal(len, 8);
	raw_read_packet(fd, &s, &h, NULL);
	assert_int_equal(h.id, 0x80800000u);
	raw_send_control(fd, KD_PACKET_TYPE_RESET, 0);
	raw_send_data(fd, KD_PACKET_TYPE_DEBUG_IO, 0x80800000u, pl, 9);
	assert_int_equal(kd_link_recv(l, &type, buf, sizeof(buf), &len, 500),
			 KD_OK);
	assert_int_equal(len, 9);
	raw_read_packet(fd, &s, &h, NULL);
	assert_int_equal(h.type, KD_PACKET_TYPE_ACKNOWLEDGE);
	assert_int_equal(h.id, 0x80800000u);
	assert_true(kd_link_events(l) & KD_LINK_EVENT_PEER_RESET);

	kd_link_stats(l, &st);
	assert_int_equal(st.resets_received, 1);
	assert_int_equal(st.resets_sent, 0); /* the host does not answer */
	assert_int_equal(st.packets_received, 4);
	assert_int_equal(st.duplicates, 1);
	assert_int_equal(st.bad_checksums, 1);
	assert_int_equal(st.byte_timeouts, 1);
	assert_int_equal(st.resyncs, 1);
	assert_true(st.garbage_bytes >= sizeof(noise) - 4);
	close(fd);
	kd_link_close(l);
}

/* The target of the handshake test: wait for sync, then run the echo. */
static int sync_echo_fn(struct kd_link *l, void *arg)
{
	uint8_t sc[64] = { 0x30, 0x30 };
	int rc;

	(void)arg;
	/* Announce ourselves as a freshly booted target would. */
	rc = kd_link_send(l, KD_PACKET_TYPE_STATE_CHANGE64, sc, sizeof(sc));
	if (rc < 0)
		return rc;
	return target_echo(l, 20000);
}

static void test_kdcom_reset_handshake(void **state)
{
	char path[128], cs[256], tcs[256];
	struct kd_link_stats hs, ts;
	uint8_t buf[KD_PACKET_MAX_RECV];
	struct kd_link *l;
	struct child c;
	unsigned type;
	size_t len;

	(void)state;
	sock_path(path, sizeof(path));
	snprintf(cs, sizeof(cs), "com:pipe,server,port=%s", path);
	snprintf(tcs, sizeof(tcs), "com:pipe,port=%s", path);
	l = link_over(cs, KD_LINK_HOST, 200, 20);
	assert_non_null(l);
	c = spawn_target(tcs, 200, 50, sync_echo_fn, NULL);
	assert_int_equal(kd_link_sync(l, 5000), KD_OK);
	assert_true(kd_link_events(l) & KD_LINK_EVENT_PEER_RESET);
	/* After the RESET the target re-sends its state change. */
	assert_int_equal(kd_link_recv(l, &type, buf, sizeof(buf), &len, 3000),
			 KD_OK);
	assert_int_equal(type, KD_PACKET_TYPE_STATE_CHANGE64);
	host_exchanges(l, 20, 99);
	kd_link_stats(l, &hs);
	kd_link_close(l);
	reap(&c, &ts);
	assert_true(hs.resets_sent >= 1);
	assert_int_equal(hs.resets_received, 1);
	assert_int_equal(ts.resets_received, hs.resets_sent);
	assert_int_equal(hs.packets_received, 22);
}

/* Target that reboots after a few exchanges. */
static int reboot_fn(struct kd_link *l, void *arg)
{
	uint8_t buf[KD_PACKET_MAX_RECV], rep[KD_PACKET_MAX_RECV + 4];
	uint8_t sc[64] = { 0x30, 0x30, 0, 0, 1 };
	unsigned type;
	size_t len;
	int i, rc;

	(void)arg;
	for (i = 0; i < 3; i++) {
		rc = kd_link_recv(l, &type, buf, sizeof(buf), &len, 5000);
		if (rc < 0)
			return rc;
		if (type == KD_PACKET_TYPE_POLL_BREAKIN) {
			i--; /* the break-in byte of the host's sync */
			continue;
		}
		rc = kd_link_send(l, KD_PACKET_TYPE_STATE_MANIPULATE, rep,
				  make_reply(buf, len, rep));
		if (rc < 0)
			return rc;
	}
	rc = kd_link_restart(l);
	if (rc < 0)
		return rc;
	rc = kd_link_send(l, KD_PACKET_TYPE_STATE_CHANGE64, sc, sizeof(sc));
	if (rc < 0)
		return rc;
	return target_echo(l, 20000);
}

static void test_kdcom_target_reboot(void **state)
{
	char path[128], cs[256], tcs[256];
	uint8_t req[8], buf[KD_PACKET_MAX_RECV];
	struct kd_link_stats hs, ts;
	struct kd_link *l;
	struct child c;
	unsigned type;
	size_t len;
	uint32_t i;

	(void)state;
	sock_path(path, sizeof(path));
	snprintf(cs, sizeof(cs), "com:pipe,server,port=%s", path);
	snprintf(tcs, sizeof(tcs), "com:pipe,port=%s", path);
	l = link_over(cs, KD_LINK_HOST, 200, 20);
	assert_non_null(l);
	c = spawn_target(tcs, 200, 50, reboot_fn, NULL);
	assert_int_equal(kd_link_sync(l, 5000), KD_OK);
	for (i = 0; i < 3; i++) {
		kd_put_le32(req, i);
		memset(req + 4, 7, 4);
		assert_int_equal(kd_link_send(l,
					      KD_PACKET_TYPE_STATE_MANIPULATE,
					      req, 8),
				 KD_OK);
		assert_int_equal(
			kd_link_recv(l, &type, buf, sizeof(buf), &len, 3000),
			KD_OK);
		assert_int_equal(len, 12);
	}
	/* The host's ids are now 0x80800001 both ways; the target reboots. */
	assert_int_equal(kd_link_recv(l, &type, buf, sizeof(buf), &len, 3000),
			 KD_OK);
	assert_int_equal(type, KD_PACKET_TYPE_STATE_CHANGE64);
	assert_int_equal(buf[4], 1);
	assert_true(kd_link_events(l) & KD_LINK_EVENT_RESYNC);
	/* And the session carries on with fresh ids. */
	host_exchanges(l, 10, 7);
	kd_link_stats(l, &hs);
	kd_link_close(l);
	reap(&c, &ts);
	assert_int_equal(hs.resyncs, 1);
	assert_int_equal(hs.packets_received, 3 + 1 + 11);
}

static int breakin_fn(struct kd_link *l, void *arg)
{
	uint8_t buf[KD_PACKET_MAX_RECV], sc[64] = { 0x30, 0x30 };
	unsigned type;
	size_t len;
	int rc;

	(void)arg;
	/* Idle until the host breaks in, then report the stop. */
	rc = kd_link_recv(l, &type, buf, sizeof(buf), &len, 5000);
	if (rc < 0)
		return rc;
	if (type != KD_PACKET_TYPE_POLL_BREAKIN)
		return KD_EPROTO;
	if (!(kd_link_events(l) & KD_LINK_EVENT_BREAKIN))
		return KD_EPROTO;
	kd_put_le32(sc + 32, 0x80000003u); /* STATUS_BREAKPOINT */
	return kd_link_send(l, KD_PACKET_TYPE_STATE_CHANGE64, sc, sizeof(sc));
}

static void test_kdcom_break_in(void **state)
{
	char path[128], cs[256], tcs[256];
	uint8_t buf[KD_PACKET_MAX_RECV];
	struct kd_link_stats hs, ts;
	struct kd_link *l;
	struct child c;
	unsigned type;
	size_t len;

	(void)state;
	sock_path(path, sizeof(path));
	snprintf(cs, sizeof(cs), "com:pipe,server,port=%s", path);
	snprintf(tcs, sizeof(tcs), "com:pipe,port=%s", path);
	l = link_over(cs, KD_LINK_HOST, 200, 20);
	assert_non_null(l);
	c = spawn_target(tcs, 200, 20, breakin_fn, NULL);
	usleep(100000);
	assert_int_equal(kd_link_break_in(l), KD_OK);
	assert_int_equal(kd_link_recv(l, &type, buf, sizeof(buf), &len, 3000),
			 KD_OK);
	assert_int_equal(type, KD_PACKET_TYPE_STATE_CHANGE64);
	assert_int_equal(kd_get_le32(buf + 32), 0x80000003u);
	kd_link_stats(l, &hs);
	/* Keep ACKing until the target is done. */
	while (kd_link_recv(l, &type, buf, sizeof(buf), &len, 300) == KD_OK)
		;
	kd_link_close(l);
	reap(&c, &ts);
	assert_int_equal(hs.breakins_sent, 1);
	assert_int_equal(ts.breakins_received, 1);
}

static void test_timeouts(void **state)
{
	char path[128], cs[256];
	uint8_t buf[64] = { 0 };
	struct kd_link_stats st;
	struct kd_link *l;
	unsigned type;
	size_t len;
	int64_t t0;
	int fd;

	(void)state;
	sock_path(path, sizeof(path));
	snprintf(cs, sizeof(cs), "com:pipe,server,port=%s", path);
	l = link_over(cs, KD_LINK_HOST, 100, 3);
	assert_non_null(l);
	fd = raw_connect(path); /* a peer that never answers */
	assert_true(fd >= 0);
	t0 = now_ms();
	assert_int_equal(kd_link_recv(l, &type, buf, sizeof(buf), &len, 150),
			 KD_ETIMEOUT);
	assert_true(now_ms() - t0 >= 140 && now_ms() - t0 < 1000);
	t0 = now_ms();
	assert_int_equal(
		kd_link_send(l, KD_PACKET_TYPE_STATE_MANIPULATE, buf, 56),
		KD_ETIMEOUT);
	/* 3 sends, 100 ms apart each. */
	assert_true(now_ms() - t0 >= 290 && now_ms() - t0 < 1500);
	kd_link_stats(l, &st);
	assert_int_equal(st.retransmissions, 2);
	assert_int_equal(st.ack_timeouts, 3);
	t0 = now_ms();
	assert_int_equal(kd_link_sync(l, 500), KD_ETIMEOUT);
	assert_true(now_ms() - t0 < 1500);
	/* Bad arguments. */
	assert_int_equal(kd_link_send(l, KD_PACKET_TYPE_ACKNOWLEDGE, NULL, 0),
			 KD_EINVAL);
	assert_int_equal(kd_link_send(l, KD_PACKET_TYPE_STATE_MANIPULATE, buf,
				      KD_PACKET_MAX_SEND + 1),
			 KD_EINVAL);
	close(fd);
	kd_link_close(l);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/kd-link-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kdcom_replay_real_session),
		cmocka_unit_test(test_kdcom_sync_bit_and_noise),
		cmocka_unit_test(test_kdcom_reset_handshake),
		cmocka_unit_test(test_kdcom_target_reboot),
		cmocka_unit_test(test_kdcom_break_in),
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_kdcom_fault_10000),
		cmocka_unit_test(test_kdnet_fault_10000),
	};

	setvbuf(stdout, NULL, _IONBF, 0);
	if (getenv("KD_TEST_FILTER"))
		cmocka_set_test_filter(getenv("KD_TEST_FILTER"));
	return cmocka_run_group_tests(tests, setup, teardown);
}
