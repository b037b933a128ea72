/* SPDX-License-Identifier: MIT */
/*
 * Transport conformance: the same cases (echo of 1, 100 and 4122 bytes,
 * prompt timeouts, peer close, break-in) run over every driver through real
 * OS channels, plus driver-specific checks of fault, pcap and com.  Adding a
 * driver is one entry in the pairs[] table.
 *
 * Packet-carrying drivers (KD_TRANSPORT_CAP_PACKETS: kdsrv) move whole KD
 * packets to a target, not bytes to a peer end: their pair is a real kdsrv
 * re-exporting a real kdsim, and each case runs its packet form through a
 * KD link (echo: bytes written to the target's memory and read back;
 * break-in: the target stops; peer close: kdsrv is killed).  What a case
 * cannot check on such a driver is printed with the reason.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <pty.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <kd/error.h>
#include <kd/sys/transport.h>
#include <kd/transport.h>

#include "kdsim_client.h"
#include "kdsrv_proc.h"
#include "pcap_udp.h"
#include "testsupport.h"

/* --- helpers --- */

static char tmpdir[64];

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void tmp_path(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", tmpdir, name);
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

/* Receive exactly @p len bytes (stream) or one datagram of @p len bytes. */
static void recv_exact(struct kd_transport *t, uint8_t *buf, size_t len)
{
	size_t got = 0;

	if (kd_transport_caps(t) & KD_TRANSPORT_CAP_DATAGRAM) {
		assert_int_equal(
			kd_transport_recv(t, buf, len + 16, &got, 5000), KD_OK);
		assert_int_equal(got, len);
		return;
	}
	while (got < len) {
		size_t n = 0;
		int rc = kd_transport_recv(t, buf + got, len - got, &n, 5000);

		if (rc != KD_OK)
			fail_msg("recv after %zu of %zu bytes: %s (%s)", got,
				 len, kd_strerror(rc),
				 kd_error_last()->message);
		assert_true(n > 0 && n <= len - got);
		got += n;
	}
}

/* --- a test-only driver for the pty master (exercises registration) --- */

struct ptym {
	int fd;
};

static const struct kd_param_spec ptym_keys[] = {
	{ "fd", KD_PARAM_VALUE },
	{ NULL, 0 },
};

static int ptym_open(struct kd_transport *t, const struct kd_params *p)
{
	struct ptym *m = kd_transport_priv(t);
	uint32_t fd;
	int rc = kd_params_get_u32(p, "fd", 0, 65535, 0, &fd);

	if (rc < 0)
		return rc;
	m->fd = (int)fd;
	return KD_OK;
}

static void ptym_close(struct kd_transport *t)
{
	close(((struct ptym *)kd_transport_priv(t))->fd);
}

static int ptym_send(struct kd_transport *t, const void *buf, size_t len)
{
	struct ptym *m = kd_transport_priv(t);
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = write(m->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return KD_EDISCONNECTED;
		p += n;
		len -= (size_t)n;
	}
	return KD_OK;
}

static int ptym_recv(struct kd_transport *t, void *buf, size_t cap,
		     size_t *len_out, int timeout_ms)
{
	struct ptym *m = kd_transport_priv(t);
	struct pollfd pfd = { m->fd, POLLIN, 0 };
	ssize_t n;

	if (poll(&pfd, 1, timeout_ms) == 0)
		return KD_ETIMEOUT;
	n = read(m->fd, buf, cap);
	if (n <= 0)
		return KD_EDISCONNECTED;
	*len_out = (size_t)n;
	return KD_OK;
}

static const struct kd_transport_ops ptym_ops = {
	.version = KD_TRANSPORT_OPS_VERSION,
	.scheme = "ptym",
	.caps = KD_TRANSPORT_CAP_STREAM,
	.priv_size = sizeof(struct ptym),
	.keys = ptym_keys,
	.open = ptym_open,
	.close = ptym_close,
	.send = ptym_send,
	.recv = ptym_recv,
};

/* --- the pairs table --- */

struct pair;
typedef int (*pair_open_fn)(struct pair *p);

struct pair {
	const char *name;
	const char *needs; /* scheme that must be available, or NULL */
	pair_open_fn open;
	void (*after)(struct pair *p); /* extra checks after a case, or NULL */
	char file[256];		       /* capture written by the pair, if any */
	size_t max_unit;     /* largest datagram the pair carries, 0 = any */
	bool connectionless; /* no way to see the peer leave (UDP) */
	bool packets;	     /* a carries KD packets to a kdsim; b is NULL */
	struct kd_transport *a, *b;
	struct kd_link *link; /* packets: the link over a (owns a) */
	bool checked;	      /* the after() check ran once already */
};

static int counter;

static int open_loop(struct pair *p)
{
	p->a = open_ok("loop:name=conf%d", counter);
	p->b = open_ok("LOOP:Name=conf%d", counter);
	return 0;
}

static int open_loop_dgram(struct pair *p)
{
	p->a = open_ok("loop:name=confd%d,datagram", counter);
	p->b = open_ok("loop:name=confd%d,datagram", counter);
	return 0;
}

static int open_pty(struct pair *p)
{
	int m, s;
	char name[128];

	assert_int_equal(openpty(&m, &s, name, NULL, NULL), 0);
	p->a = open_ok("com:port=%s,baud=115200", name);
	close(s);
	p->b = open_ok("ptym:fd=%d", m);
	return 0;
}

static int open_unix(struct pair *p)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/s%d", tmpdir, counter);
	p->a = open_ok("com:pipe,port=%s,server", path);
	p->b = open_ok("com:pipe,port=%s", path);
	return 0;
}

static int open_tcp(struct pair *p)
{
	uint16_t port = 0;

	p->a = open_ok("com:ipport=0,port=127.0.0.1,server");
	assert_int_equal(kd_transport_local_port(p->a, &port), KD_OK);
	assert_true(port > 0);
	p->b = open_ok("com:ipport=%u,port=127.0.0.1", port);
	return 0;
}

static int open_fault0(struct pair *p)
{
	p->a = open_ok(
		"fault:seed=9,drop=0,corrupt=0,dup=0,delay=0,truncate=0|loop:name=cf%d",
		counter);
	p->b = open_ok("loop:name=cf%d", counter);
	return 0;
}

static int open_pcap_stream(struct pair *p)
{
	snprintf(p->file, sizeof(p->file), "%s/stream%d.pcapng", tmpdir,
		 counter);
	p->a = open_ok("pcap:file=%s|loop:name=cp%d", p->file, counter);
	p->b = open_ok("loop:name=cp%d", counter);
	return 0;
}

static int open_pcap_dgram(struct pair *p)
{
	snprintf(p->file, sizeof(p->file), "%s/dgram%d.pcapng", tmpdir,
		 counter);
	p->a = open_ok("pcap:file=%s|loop:name=cq%d,datagram", p->file,
		       counter);
	p->b = open_ok("loop:name=cq%d,datagram", counter);
	return 0;
}

/* net: host (a) and target (b) on loopback, handshake done over UDP. */
static int open_net(struct pair *p, const char *hostip)
{
	uint16_t port = 0;

	p->a = open_ok("net:port=0,key=1.2.3.4");
	assert_int_equal(kd_transport_local_port(p->a, &port), KD_OK);
	p->b = open_ok(
		"net:role=target,port=%u,key=1.2.3.4,hostip=%s,offer_ms=100",
		port, hostip);
	for (int i = 0; i < 100; i++) {
		uint8_t buf[16];
		size_t n;

		if (kd_transport_net_connected(p->a) &&
		    kd_transport_net_connected(p->b))
			return 0;
		assert_int_equal(
			kd_transport_recv(p->a, buf, sizeof(buf), &n, 20),
			KD_ETIMEOUT);
		assert_int_equal(
			kd_transport_recv(p->b, buf, sizeof(buf), &n, 20),
			KD_ETIMEOUT);
	}
	fail_msg("no KDNET session");
	return -1;
}

static int open_net4(struct pair *p)
{
	return open_net(p, "127.0.0.1");
}

static int open_net6(struct pair *p)
{
	return open_net(p, "::1");
}

/*
 * kdsrv: a real kdsim (serial over a unix socket, or KDNET) behind a real
 * kdsrv; a is the `kdsrv:` client, with a host link over it that is synced
 * and has stopped the target, so each case starts from a debugger's view
 * of a broken-in machine.  Fresh processes for every case: peer_close
 * kills kdsrv.
 */
static struct kc ksim;
static struct ks ksrv;
static char ksock[128];

static void kdsrv_stop_all(void)
{
	ks_stop(&ksrv);
	kc_stop(&ksim);
	if (ksock[0])
		unlink(ksock);
	ksock[0] = '\0';
}

static int open_kdsrv(struct pair *p, bool kdnet)
{
	struct kd_link_opts o = KD_LINK_OPTS_INIT;
	unsigned base = ks_port_base() + 300 + (unsigned)(counter % 64) * 2;
	char k[160], trans[160], spec[64];
	const char *args[] = { "-k",	       k,   "--print-ms", "0",
			       "--loadmod-ms", "0", NULL };

	if (kdnet) {
		snprintf(
			k, sizeof(k),
			"net:port=%u,key=1.2.3.4,hostip=127.0.0.1,offer_ms=100",
			base + 1);
		snprintf(trans, sizeof(trans), "net:port=%u,key=1.2.3.4",
			 base + 1);
	} else {
		snprintf(ksock, sizeof(ksock), "/tmp/openkd-conf-%d-%d.sock",
			 (int)getpid(), counter);
		unlink(ksock);
		snprintf(k, sizeof(k), "com:pipe,port=%s", ksock);
		snprintf(trans, sizeof(trans), "com:pipe,port=%s", ksock);
	}
	kc_spawn(&ksim, args);
	snprintf(spec, sizeof(spec), "tcp:port=%u:%u", base, base);
	if (!ks_start(&ksrv, spec, ks_allow_pipes("conf", NULL)))
		fail_msg("kdsrv did not start on port %u", base);
	p->a = open_ok("kdsrv:server=@{tcp:server=127.0.0.1,port=%u},"
		       "trans=@{%s}",
		       ksrv.port, trans);
	assert_true(kd_transport_caps(p->a) & KD_TRANSPORT_CAP_PACKETS);
	o.role = KD_LINK_HOST;
	assert_int_equal(kd_link_open(&p->link, p->a, &o), KD_OK);
	ksim.link = p->link;
	assert_int_equal(kd_link_is_kdnet(p->link), kdnet);
	if (kd_link_sync(p->link, KC_TIMEOUT_MS) != KD_OK)
		fail_msg("sync through kdsrv: %s", kd_error_last()->message);
	assert_int_equal(kd_link_break_in(p->link), KD_OK);
	assert_int_equal(kc_wait_stop(&ksim), KD_STATUS_BREAKPOINT);
	return 0;
}

static int open_kdsrv_com(struct pair *p)
{
	return open_kdsrv(p, false);
}

static int open_kdsrv_net(struct pair *p)
{
	return open_kdsrv(p, true);
}

/* tshark, when installed, must open what the pcap layer wrote. */
static void check_tshark(struct pair *p)
{
	char cmd[512];
	int st;

	if (system("command -v tshark >/dev/null 2>&1") != 0) {
		print_message("tshark not installed: capture check skipped\n");
		return;
	}
	snprintf(
		cmd, sizeof(cmd),
		"tshark -r '%s' -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -Y 'ip.checksum.status==0 || udp.checksum.status==0 || _ws.malformed || _ws.expert.severity>=error' 2>/dev/null | grep -q .",
		p->file);
	st = system(cmd);
	assert_int_not_equal(WEXITSTATUS(st), 0); /* no bad frame listed */
	snprintf(cmd, sizeof(cmd), "tshark -r '%s' >/dev/null 2>&1", p->file);
	st = system(cmd);
	assert_int_equal(WEXITSTATUS(st), 0);
}

static struct pair pairs[] = {
	{ .name = "loop", .open = open_loop },
	{ .name = "loop-datagram", .open = open_loop_dgram },
	{ .name = "com-pty", .needs = "com", .open = open_pty },
	{ .name = "com-unix", .needs = "com", .open = open_unix },
	{ .name = "com-tcp", .needs = "com", .open = open_tcp },
	{ .name = "fault0-loop", .open = open_fault0 },
	{ .name = "pcap-loop", .open = open_pcap_stream, .after = check_tshark },
	{ .name = "pcap-loop-datagram",
	  .open = open_pcap_dgram,
	  .after = check_tshark },
	{ .name = "net-ipv4",
	  .open = open_net4,
	  .max_unit = 4112,
	  .connectionless = true },
	{ .name = "net-ipv6",
	  .open = open_net6,
	  .max_unit = 4112,
	  .connectionless = true },
	{ .name = "kdsrv-com",
	  .needs = "com",
	  .open = open_kdsrv_com,
	  .max_unit = KD_PACKET_MAX_SEND,
	  .packets = true },
	{ .name = "kdsrv-net",
	  .open = open_kdsrv_net,
	  .max_unit = KD_PACKET_MAX_SEND,
	  .packets = true },
};

static int pair_setup(void **state)
{
	struct pair *p = *state;

	if (p->needs && !kd_transport_available(p->needs))
		skip();
	counter++;
	p->file[0] = '\0';
	return p->open(p);
}

static int pair_teardown(void **state)
{
	struct pair *p = *state;

	if (p->link) {
		kd_link_close(p->link); /* and a under it */
		ksim.link = NULL;
	} else {
		kd_transport_close(p->a);
	}
	kd_transport_close(p->b);
	p->a = NULL;
	p->b = NULL;
	p->link = NULL;
	if (p->packets)
		kdsrv_stop_all();
	if (p->file[0] && p->after && !p->checked) {
		p->checked = true;
		p->after(p);
	}
	return 0;
}

/* --- the cases --- */

/* A check of a case that a packet driver cannot have, and why. */
static void not_applicable(const struct pair *p, const char *what,
			   const char *why)
{
	print_message("%s: not applicable to a packet driver: %s: %s\n",
		      p->name, what, why);
}

/* A packet driver refuses raw bytes, saying why, and moves nothing. */
static void packets_refuse_bytes(struct pair *p)
{
	uint8_t b[4] = { 0 };
	size_t n = 99;

	assert_int_equal(kd_transport_send(p->a, b, 1), KD_ENOTSUP);
	assert_non_null(strstr(kd_error_last()->message, "whole KD packets"));
	assert_int_equal(kd_transport_recv(p->a, b, sizeof(b), &n, 0),
			 KD_ENOTSUP);
	assert_int_equal(n, 0);
}

/*
 * Nothing new comes from a stopped target: kd_link_recv() times out.  The
 * target may re-send its pending stop after the RESET of the sync (the
 * same bytes, §1.7(4)); that is the same stop, anything else fails.
 */
static int packets_recv_stopped(struct pair *p, int timeout_ms)
{
	static uint8_t buf[KD_PACKET_MAX_RECV];
	unsigned type;
	size_t n = 0;
	int rc;

	while ((rc = kd_link_recv(p->link, &type, buf, sizeof(buf), &n,
				  timeout_ms)) == KD_OK) {
		if (type != KD_PACKET_TYPE_STATE_CHANGE64 || n != ksim.sc_len ||
		    memcmp(buf, ksim.sc_raw, n) != 0)
			fail_msg("a stopped target sent a %zu-byte packet of "
				 "type %u",
				 n, type);
	}
	return rc;
}

static void packets_quiet(struct pair *p, int timeout_ms)
{
	int rc = packets_recv_stopped(p, timeout_ms);

	if (rc != KD_ETIMEOUT)
		fail_msg("recv on a stopped target: %s (%s)", kd_strerror(rc),
			 kd_error_last()->message);
}

/*
 * Move @p len bytes between @p buf and the target's memory at @p addr in
 * requests of at most 2 KiB (one KD packet each, as a debugger does).
 */
static void target_memory(uint32_t api, uint64_t addr, uint8_t *buf, size_t len)
{
	for (size_t off = 0; off < len;) {
		uint32_t n = (uint32_t)(len - off > 2048 ? 2048 : len - off);
		uint32_t done;

		if (api == KD_API_WRITE_VIRTUAL_MEMORY)
			done = kc_write(&ksim, api, addr + off, buf + off, n);
		else
			done = kc_read(&ksim, api, addr + off, buf + off, n);
		if (done != n)
			fail_msg("%s of %u bytes at %#llx: %u done",
				 api == KD_API_WRITE_VIRTUAL_MEMORY ? "write" :
								      "read",
				 n, (unsigned long long)(addr + off), done);
		off += n;
	}
}

/*
 * Echo through a packet driver: the bytes go into the target's memory
 * (at the kernel's image base, restored afterwards) and come back.
 */
static void echo_packets(struct pair *p, size_t len)
{
	uint8_t *out = calloc(1, len), *orig = malloc(len), *back = malloc(len);
	struct kd_version v;

	assert_true(out && orig && back);
	packets_refuse_bytes(p);
	if (len > p->max_unit) {
		/* Larger than one KD packet: refused whole, not cut. */
		assert_int_equal(kd_link_send(p->link,
					      KD_PACKET_TYPE_STATE_MANIPULATE,
					      out, len),
				 KD_EINVAL);
	}
	kc_version(&ksim, &v);
	target_memory(KD_API_READ_VIRTUAL_MEMORY, v.kern_base, orig, len);
	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)(i * 7 + len);
	target_memory(KD_API_WRITE_VIRTUAL_MEMORY, v.kern_base, out, len);
	target_memory(KD_API_READ_VIRTUAL_MEMORY, v.kern_base, back, len);
	assert_memory_equal(back, out, len);
	target_memory(KD_API_WRITE_VIRTUAL_MEMORY, v.kern_base, orig, len);
	target_memory(KD_API_READ_VIRTUAL_MEMORY, v.kern_base, back, len);
	assert_memory_equal(back, orig, len);
	not_applicable(p, "byte echo between two ends",
		       "the far end is a kdsim behind kdsrv; the bytes went "
		       "as KD requests into its memory and back instead");
	free(out);
	free(orig);
	free(back);
}

static void echo(struct pair *p, size_t len)
{
	uint8_t *out, *in, *back;

	if (p->packets) {
		echo_packets(p, len);
		return;
	}
	out = malloc(len);
	in = malloc(len + 16);
	back = malloc(len + 16);
	if (p->max_unit && len > p->max_unit) {
		/* Larger than one KD packet over KDNET: refused, not cut. */
		memset(out, 0, len);
		assert_int_equal(kd_transport_send(p->a, out, len), KD_EBUFS);
		assert_int_equal(kd_transport_send(p->b, out, len), KD_EBUFS);
		len = p->max_unit;
	}
	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)(i * 7 + len);
	assert_int_equal(kd_transport_send(p->a, out, len), KD_OK);
	recv_exact(p->b, in, len);
	assert_memory_equal(in, out, len);
	assert_int_equal(kd_transport_send(p->b, in, len), KD_OK);
	recv_exact(p->a, back, len);
	assert_memory_equal(back, out, len);
	free(out);
	free(in);
	free(back);
}

static void test_echo_1(void **state)
{
	echo(*state, 1);
}

static void test_echo_100(void **state)
{
	echo(*state, 100);
}

static void test_echo_4122(void **state)
{
	echo(*state, 4122);
}

static void test_timeout(void **state)
{
	struct pair *p = *state;
	uint8_t buf[64];
	size_t n = 99;
	int64_t t0 = now_ms();

	if (p->packets) {
		/* The target is stopped: no packet comes. */
		packets_refuse_bytes(p);
		packets_quiet(p, 200);
		packets_quiet(p, 0);
		not_applicable(p, "elapsed-time bounds",
			       "a kdsrv round trip over TCP on a shared "
			       "machine has no fixed bound; the outcome is "
			       "checked");
		return;
	}
	assert_int_equal(kd_transport_recv(p->a, buf, sizeof(buf), &n, 200),
			 KD_ETIMEOUT);
	assert_true(now_ms() - t0 >= 150);
	assert_true(now_ms() - t0 < 1500);
	assert_int_equal(n, 0);
	t0 = now_ms();
	assert_int_equal(kd_transport_recv(p->b, buf, sizeof(buf), &n, 0),
			 KD_ETIMEOUT);
	assert_true(now_ms() - t0 < 200);
}

static void test_peer_close(void **state)
{
	struct pair *p = *state;
	uint8_t buf[64];
	size_t n;
	int64_t t0;

	if (p->connectionless)
		skip(); /* UDP: a peer that leaves sends nothing */
	if (p->packets) {
		int rc;

		/* The peer of a kdsrv client is kdsrv: it dies. */
		ks_stop(&ksrv);
		rc = packets_recv_stopped(p, 5000);
		if (rc != KD_EDISCONNECTED)
			fail_msg("recv after kdsrv died: %s (%s)",
				 kd_strerror(rc), kd_error_last()->message);
		assert_non_null(strstr(kd_error_last()->message, "went away"));
		assert_int_equal(kd_link_send(p->link,
					      KD_PACKET_TYPE_STATE_MANIPULATE,
					      buf, 8),
				 KD_EDISCONNECTED);
		not_applicable(p, "the one-second bound",
			       "the outcome is checked, not the time");
		return;
	}
	/* Make sure a server side has accepted before the peer leaves. */
	assert_int_equal(kd_transport_send(p->b, "x", 1), KD_OK);
	recv_exact(p->a, buf, 1);
	kd_transport_close(p->b);
	p->b = NULL;
	t0 = now_ms();
	assert_int_equal(kd_transport_recv(p->a, buf, sizeof(buf), &n, 3000),
			 KD_EDISCONNECTED);
	assert_true(now_ms() - t0 < 1000);
}

static void test_break_in(void **state)
{
	struct pair *p = *state;
	uint8_t b = 0;

	if (!(kd_transport_caps(p->a) & KD_TRANSPORT_CAP_BREAKIN)) {
		assert_int_equal(kd_transport_break_in(p->a), KD_ENOTSUP);
		return;
	}
	if (p->packets) {
		/* Let the target run, then stop it through the transport. */
		kc_continue2(&ksim, false);
		assert_int_equal(kd_transport_break_in(p->a), KD_OK);
		assert_int_equal(kc_wait_stop(&ksim), KD_STATUS_BREAKPOINT);
		not_applicable(p, "the byte 0x62 at the far end",
			       "kdsrv sends the break-in on its own link; "
			       "the target's stop is what arrives");
		return;
	}
	assert_int_equal(kd_transport_break_in(p->a), KD_OK);
	recv_exact(p->b, &b, 1);
	assert_int_equal(b, 0x62);
}

static void test_wait_fd(void **state)
{
	struct pair *p = *state;
	struct pollfd pfd = { -1, POLLIN, 0 };
	uint8_t buf[8];

	if (!(kd_transport_caps(p->a) & KD_TRANSPORT_CAP_WAITABLE)) {
		assert_int_equal(kd_transport_wait_fd(p->a, &pfd.fd),
				 KD_ENOTSUP);
		return;
	}
	assert_int_equal(kd_transport_wait_fd(p->a, &pfd.fd), KD_OK);
	assert_int_equal(kd_transport_send(p->b, "wake", 4), KD_OK);
	assert_int_equal(poll(&pfd, 1, 3000), 1);
	assert_int_equal(kd_transport_wait_fd(p->a, &pfd.fd), KD_OK);
	recv_exact(p->a, buf, 4);
	assert_memory_equal(buf, "wake", 4);
}

/* --- driver-specific checks --- */

static void test_fault_drops(void **state)
{
	struct kd_transport *a, *b;
	struct kd_fault_stats st, st2;
	uint8_t buf[64];
	size_t n;
	unsigned int got = 0;

	(void)state;
	a = open_ok("fault:seed=7,drop=0.3,dir=tx|loop:name=fdrop,datagram");
	b = open_ok("loop:name=fdrop,datagram");
	for (unsigned int i = 0; i < 200; i++) {
		buf[0] = (uint8_t)i;
		assert_int_equal(kd_transport_send(a, buf, 10), KD_OK);
	}
	while (kd_transport_recv(b, buf, sizeof(buf), &n, 0) == KD_OK) {
		assert_int_equal(n, 10);
		got++;
	}
	assert_int_equal(kd_transport_fault_stats(a, &st), KD_OK);
	print_message(
		"fault drop=0.3 seed=7: units %llu dropped %llu received %u\n",
		(unsigned long long)st.tx.units,
		(unsigned long long)st.tx.dropped, got);
	assert_int_equal(st.tx.units, 200);
	assert_int_equal(st.tx.units - st.tx.dropped, got);
	assert_true(st.tx.dropped > 30 && st.tx.dropped < 90);
	assert_int_equal(st.rx.units, 0);
	assert_int_equal(kd_transport_fault_stats(b, &st2), KD_ENOTFOUND);
	kd_transport_close(a);
	kd_transport_close(b);

	/* Same seed, same decisions. */
	a = open_ok("fault:seed=7,drop=0.3,dir=tx|loop:name=fdrop2,datagram");
	b = open_ok("loop:name=fdrop2,datagram");
	for (unsigned int i = 0; i < 200; i++)
		assert_int_equal(kd_transport_send(a, buf, 10), KD_OK);
	assert_int_equal(kd_transport_fault_stats(a, &st2), KD_OK);
	assert_int_equal(st2.tx.dropped, st.tx.dropped);
	kd_transport_close(a);
	kd_transport_close(b);
}

static void test_fault_corrupt_dup_rx(void **state)
{
	struct kd_transport *a, *b;
	struct kd_fault_stats st;
	uint8_t buf[64], ref[32];
	size_t n;
	unsigned int got = 0, differ = 0;

	(void)state;
	memset(ref, 0x5a, sizeof(ref));
	a = open_ok(
		"fault:seed=11,corrupt=0.25,dup=0.2,dir=rx|loop:name=fcd,datagram");
	b = open_ok("loop:name=fcd,datagram");
	for (unsigned int i = 0; i < 100; i++)
		assert_int_equal(kd_transport_send(b, ref, sizeof(ref)), KD_OK);
	while (kd_transport_recv(a, buf, sizeof(buf), &n, 0) == KD_OK) {
		assert_int_equal(n, sizeof(ref));
		got++;
		if (memcmp(buf, ref, sizeof(ref)) != 0)
			differ++;
	}
	assert_int_equal(kd_transport_fault_stats(a, &st), KD_OK);
	print_message(
		"fault rx: units %llu corrupted %llu duplicated %llu received %u\n",
		(unsigned long long)st.rx.units,
		(unsigned long long)st.rx.corrupted,
		(unsigned long long)st.rx.duplicated, got);
	assert_int_equal(st.rx.units, 100);
	assert_int_equal(got, 100 + st.rx.duplicated);
	assert_true(st.rx.corrupted > 0 && st.rx.duplicated > 0);
	/* A corrupted datagram that is duplicated is seen twice. */
	assert_true(differ >= st.rx.corrupted);
	assert_true(differ <= 2 * st.rx.corrupted);
	kd_transport_close(a);
	kd_transport_close(b);
}

static void test_fault_delay(void **state)
{
	struct kd_transport *a, *b;
	uint8_t buf[16];
	size_t n;

	(void)state;
	a = open_ok("fault:delay=1,delay_ms=300,dir=rx|loop:name=fdl,datagram");
	b = open_ok("loop:name=fdl,datagram");
	assert_int_equal(kd_transport_send(b, "late", 4), KD_OK);
	assert_int_equal(kd_transport_recv(a, buf, sizeof(buf), &n, 100),
			 KD_ETIMEOUT);
	assert_int_equal(kd_transport_recv(a, buf, sizeof(buf), &n, 1000),
			 KD_OK);
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "late", 4);
	kd_transport_close(a);
	kd_transport_close(b);
}

struct count_ctx {
	unsigned int n, h2t, t2h;
	size_t bytes;
};

static int count_udp(void *arg, const struct kdt_udp *u)
{
	struct count_ctx *c = arg;

	c->n++;
	c->bytes += u->len;
	if (u->src[3] == 1 && u->dst[3] == 2)
		c->h2t++;
	if (u->src[3] == 2 && u->dst[3] == 1)
		c->t2h++;
	assert_int_equal(u->sport, 50000);
	assert_int_equal(u->dport, 50000);
	return 0;
}

/* Write a datagram capture, read it with an independent reader, replay it. */
static void test_pcap_roundtrip(void **state)
{
	char path[256], err[256], cs[512];
	struct kd_transport *a, *b, *r;
	struct count_ctx c = { 0 };
	uint8_t buf[2048];
	size_t n;

	(void)state;
	tmp_path(path, sizeof(path), "rt.pcapng");
	a = open_ok("pcap:file=%s|loop:name=prt,datagram", path);
	b = open_ok("loop:name=prt,datagram");
	/* host sends 3, target answers 2, host sends 1 more */
	assert_int_equal(kd_transport_send(a, "h1", 2), KD_OK);
	assert_int_equal(kd_transport_send(a, "h22", 3), KD_OK);
	assert_int_equal(kd_transport_send(a, "h333", 4), KD_OK);
	for (int i = 0; i < 3; i++)
		assert_int_equal(
			kd_transport_recv(b, buf, sizeof(buf), &n, 1000),
			KD_OK);
	assert_int_equal(kd_transport_send(b, "t1", 2), KD_OK);
	assert_int_equal(kd_transport_send(b, "t22", 3), KD_OK);
	assert_int_equal(kd_transport_recv(a, buf, sizeof(buf), &n, 1000),
			 KD_OK);
	assert_int_equal(kd_transport_recv(a, buf, sizeof(buf), &n, 1000),
			 KD_OK);
	assert_int_equal(kd_transport_send(a, "h4", 2), KD_OK);
	kd_transport_close(a);
	kd_transport_close(b);

	assert_int_equal(kdt_pcap_udp_foreach(path, 0, count_udp, &c, NULL, err,
					      sizeof(err)),
			 0);
	assert_int_equal(c.n, 6);
	assert_int_equal(c.h2t, 4);
	assert_int_equal(c.t2h, 2);
	assert_int_equal(c.bytes, 2 + 3 + 4 + 2 + 3 + 2);

	/* Replay as the target: t1 only after the host's first three. */
	snprintf(cs, sizeof(cs), "pcap:replay=%s,role=target", path);
	assert_int_equal(kd_transport_open(&r, cs), KD_OK);
	assert_true(kd_transport_caps(r) & KD_TRANSPORT_CAP_DATAGRAM);
	assert_int_equal(kd_transport_send(r, "x", 1), KD_OK);
	assert_int_equal(kd_transport_send(r, "x", 1), KD_OK);
	assert_int_equal(kd_transport_recv(r, buf, sizeof(buf), &n, 50),
			 KD_ETIMEOUT);
	assert_int_equal(kd_transport_send(r, "x", 1), KD_OK);
	assert_int_equal(kd_transport_recv(r, buf, sizeof(buf), &n, 50), KD_OK);
	assert_int_equal(n, 2);
	assert_memory_equal(buf, "t1", 2);
	assert_int_equal(kd_transport_recv(r, buf, sizeof(buf), &n, 50), KD_OK);
	assert_memory_equal(buf, "t22", 3);
	assert_int_equal(kd_transport_recv(r, buf, sizeof(buf), &n, 50),
			 KD_EDISCONNECTED);
	kd_transport_close(r);

	/* Replay as the host. */
	snprintf(cs, sizeof(cs), "pcap:replay=%s,role=host", path);
	assert_int_equal(kd_transport_open(&r, cs), KD_OK);
	assert_int_equal(kd_transport_recv(r, buf, sizeof(buf), &n, 0), KD_OK);
	assert_memory_equal(buf, "h1", 2);
	assert_int_equal(kd_transport_recv(r, buf, 2, &n, 0), KD_EBUFS);
	kd_transport_close(r);
}

static void test_pcap_stream_replay(void **state)
{
	char path[256], cs[512];
	struct kd_transport *a, *b, *r;
	uint8_t buf[64];
	size_t n;

	(void)state;
	tmp_path(path, sizeof(path), "st.pcapng");
	a = open_ok("pcap:file=%s|loop:name=pst", path);
	b = open_ok("loop:name=pst");
	assert_int_equal(kd_transport_break_in(a), KD_OK);
	recv_exact(b, buf, 1);
	assert_int_equal(kd_transport_send(b, "ABCDEF", 6), KD_OK);
	recv_exact(a, buf, 6);
	kd_transport_close(a);
	kd_transport_close(b);

	snprintf(cs, sizeof(cs), "pcap:replay=%s", path);
	assert_int_equal(kd_transport_open(&r, cs), KD_OK);
	assert_true(kd_transport_caps(r) & KD_TRANSPORT_CAP_STREAM);
	assert_int_equal(kd_transport_recv(r, buf, sizeof(buf), &n, 0),
			 KD_ETIMEOUT);
	assert_int_equal(kd_transport_break_in(r), KD_OK);
	assert_int_equal(kd_transport_recv(r, buf, 4, &n, 0), KD_OK);
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "ABCD", 4);
	assert_int_equal(kd_transport_recv(r, buf, sizeof(buf), &n, 0), KD_OK);
	assert_int_equal(n, 2);
	assert_memory_equal(buf, "EF", 2);
	kd_transport_close(r);
}

/* Replay the real KDNET capture (../shared/data) as the target. */
static void test_pcap_replay_kdnet_sample(void **state)
{
	char path[512], cs[600];
	struct kd_transport *r;
	uint8_t buf[2048];
	size_t n;

	(void)state;
	if (kdt_shared_path(path, sizeof(path),
			    "kdnet/r2-host_relay-target_key-1.2.3.4.pcapng") <
	    0)
		skip();
	snprintf(cs, sizeof(cs), "pcap:replay=%s,role=target", path);
	assert_int_equal(kd_transport_open(&r, cs), KD_OK);
	/* frame 1: the target's 358-byte OFFER-sized datagram, "MDBG" */
	assert_int_equal(kd_transport_recv(r, buf, sizeof(buf), &n, 0), KD_OK);
	assert_int_equal(n, 358);
	assert_memory_equal(buf, "MDBG", 4);
	assert_int_equal(buf[5], 1); /* control channel */
	/* frame 3 comes only after the host's frame 2 */
	assert_int_equal(kd_transport_recv(r, buf, sizeof(buf), &n, 20),
			 KD_ETIMEOUT);
	assert_int_equal(kd_transport_send(r, buf, 358), KD_OK);
	assert_int_equal(kd_transport_recv(r, buf, sizeof(buf), &n, 0), KD_OK);
	assert_int_equal(n, 54);
	assert_memory_equal(buf, "MDBG", 4);
	kd_transport_close(r);

	/* With an explicit target address the same. */
	snprintf(cs, sizeof(cs), "pcap:replay=%s,target=127.0.0.2,port=50000",
		 path);
	assert_int_equal(kd_transport_open(&r, cs), KD_OK);
	assert_int_equal(kd_transport_recv(r, buf, sizeof(buf), &n, 0), KD_OK);
	assert_int_equal(n, 358);
	kd_transport_close(r);
}

struct late_server {
	char path[128];
	struct kd_transport *t;
};

static void *late_server_main(void *arg)
{
	struct late_server *ls = arg;
	struct timespec ts = { 0, 300 * 1000000L };
	char cs[256];

	nanosleep(&ts, NULL);
	snprintf(cs, sizeof(cs), "com:pipe,port=%s,server", ls->path);
	if (kd_transport_open(&ls->t, cs) != KD_OK)
		ls->t = NULL;
	return NULL;
}

static void test_com_reconnect_and_link_opts(void **state)
{
	struct late_server ls = { .t = NULL };
	struct kd_transport *c;
	struct kd_transport_link_opts lo;
	pthread_t th;
	char cs[256];
	uint8_t buf[4];
	int64_t t0;

	(void)state;
	if (!kd_transport_available("com"))
		skip();
	tmp_path(ls.path, sizeof(ls.path), "late.sock");
	snprintf(cs, sizeof(cs), "com:pipe,port=%s", ls.path);
	assert_int_equal(kd_transport_open(&c, cs), KD_ENOTFOUND);

	assert_int_equal(pthread_create(&th, NULL, late_server_main, &ls), 0);
	t0 = now_ms();
	snprintf(cs, sizeof(cs),
		 "fault:seed=1|com:pipe,port=%s,resets=0,reconnect", ls.path);
	c = open_ok("%s", cs);
	pthread_join(th, NULL);
	assert_non_null(ls.t);
	assert_true(now_ms() - t0 >= 250);
	kd_transport_link_opts(c, &lo);
	assert_int_equal(lo.resets, 0);
	assert_true(lo.reconnect);
	assert_int_equal(kd_transport_send(c, "ab", 2), KD_OK);
	recv_exact(ls.t, buf, 2);
	assert_memory_equal(buf, "ab", 2);
	kd_transport_close(c);
	kd_transport_close(ls.t);

	c = open_ok("loop:name=lo1");
	kd_transport_link_opts(c, &lo);
	assert_int_equal(lo.resets, -1);
	assert_false(lo.reconnect);
	kd_transport_close(c);
}

/*
 * reconnect after the peer is lost (WinDbg: "disconnect and reconnect the
 * pipe if a read/write failure occurs"): a server with `reconnect` accepts
 * the next peer, a client with `reconnect` connects again, and neither
 * reports KD_EDISCONNECTED; without it the loss is reported.
 */
static void reconnect_case(const char *server_cs, const char *client_cs)
{
	struct kd_transport *srv, *c1, *c2;
	char cs[256];
	uint8_t buf[8];
	size_t len;
	uint16_t port = 0;
	int rc;

	srv = open_ok("%s", server_cs);
	if (strstr(client_cs, "ipport=") != NULL) {
		/* TCP: the client string ends with the server's port. */
		assert_int_equal(kd_transport_local_port(srv, &port), KD_OK);
		snprintf(cs, sizeof(cs), "%s%u", client_cs, (unsigned)port);
	} else {
		snprintf(cs, sizeof(cs), "%s", client_cs);
	}
	/* Server side: first peer comes and goes, the second is accepted. */
	c1 = open_ok("%s", cs);
	assert_int_equal(kd_transport_send(c1, "one", 3), KD_OK);
	recv_exact(srv, buf, 3);
	assert_memory_equal(buf, "one", 3);
	kd_transport_close(c1);
	rc = kd_transport_recv(srv, buf, sizeof(buf), &len, 300);
	assert_int_equal(rc, KD_ETIMEOUT);
	c2 = open_ok("%s", cs);
	assert_int_equal(kd_transport_send(c2, "two", 3), KD_OK);
	recv_exact(srv, buf, 3);
	assert_memory_equal(buf, "two", 3);
	/* And the server answers the new peer. */
	assert_int_equal(kd_transport_send(srv, "ok", 2), KD_OK);
	recv_exact(c2, buf, 2);
	assert_memory_equal(buf, "ok", 2);
	kd_transport_close(c2);
	kd_transport_close(srv);
}

static void test_com_reconnect_after_loss(void **state)
{
	char path[256], srv[320], fmt[320];
	struct kd_transport *s, *c;
	uint8_t buf[4];
	size_t len;

	(void)state;
	if (!kd_transport_available("com"))
		skip();
	tmp_path(path, sizeof(path), "recon.sock");
	snprintf(srv, sizeof(srv), "com:pipe,server,reconnect,port=%s", path);
	snprintf(fmt, sizeof(fmt), "com:pipe,port=%s", path);
	reconnect_case(srv, fmt);
	reconnect_case("com:ipport=0,port=127.0.0.1,server,reconnect",
		       "com:port=127.0.0.1,ipport=");

	/* Client side: the server restarts; the client reconnects itself. */
	tmp_path(path, sizeof(path), "recon2.sock");
	snprintf(srv, sizeof(srv), "com:pipe,server,port=%s", path);
	snprintf(fmt, sizeof(fmt), "com:pipe,reconnect,port=%s", path);
	s = open_ok("%s", srv);
	c = open_ok("%s", fmt);
	assert_int_equal(kd_transport_send(c, "a", 1), KD_OK);
	recv_exact(s, buf, 1);
	kd_transport_close(s);
	assert_int_equal(kd_transport_recv(c, buf, sizeof(buf), &len, 200),
			 KD_ETIMEOUT);
	s = open_ok("%s", srv);
	/* The client's next call connects to the restarted server. */
	assert_int_equal(kd_transport_send(c, "c", 1), KD_OK);
	recv_exact(s, buf, 1);
	assert_memory_equal(buf, "c", 1);
	assert_int_equal(kd_transport_send(s, "b", 1), KD_OK);
	recv_exact(c, buf, 1);
	assert_memory_equal(buf, "b", 1);
	kd_transport_close(c);
	kd_transport_close(s);

	/* Without reconnect the loss is reported. */
	tmp_path(path, sizeof(path), "recon3.sock");
	snprintf(srv, sizeof(srv), "com:pipe,server,port=%s", path);
	snprintf(fmt, sizeof(fmt), "com:pipe,port=%s", path);
	s = open_ok("%s", srv);
	c = open_ok("%s", fmt);
	assert_int_equal(kd_transport_send(c, "a", 1), KD_OK);
	recv_exact(s, buf, 1);
	kd_transport_close(c);
	assert_int_equal(kd_transport_recv(s, buf, sizeof(buf), &len, 1000),
			 KD_EDISCONNECTED);
	kd_transport_close(s);
}

static void test_open_errors(void **state)
{
	struct kd_transport *t = (struct kd_transport *)&t;
	struct kd_transport *lower;
	char cs[256];

	(void)state;
	assert_int_equal(kd_transport_open(&t, "cmo:port=/dev/null"),
			 KD_EINVAL);
	assert_null(t);
	assert_string_equal(kd_error_last()->message,
			    "unknown transport 'cmo'");
	assert_int_equal(kd_transport_open(&t, "loop:name=e1|loop:name=e2"),
			 KD_EINVAL);
	assert_string_equal(
		kd_error_last()->message,
		"transport 'loop' cannot be stacked over another one");
	assert_int_equal(kd_transport_open(&t, "fault:drop=0.1"), KD_EINVAL);
	assert_int_equal(kd_transport_open(&t, "fault:drop=2|loop:name=e3"),
			 KD_EINVAL);
	assert_string_equal(kd_error_last()->message,
			    "value 2 for 'drop' out of range (0..1)");
	assert_int_equal(kd_transport_open(&t, "pcap:replay=/nonexistent.pcap"),
			 KD_ENOTFOUND);
	if (kd_transport_available("com")) {
		assert_int_equal(
			kd_transport_open(&t, "com:port=/dev/ttyS0,bud=9600"),
			KD_EINVAL);
		assert_string_equal(kd_error_last()->message,
				    "unknown option 'bud' for com");
		assert_int_equal(
			kd_transport_open(&t, "com:pipe,port=/nonexistent/x"),
			KD_ENOTFOUND);
		assert_int_equal(kd_transport_open(&t, "com:port=/dev/null"),
				 KD_EINVAL);
		assert_string_equal(kd_error_last()->message,
				    "'/dev/null' is not a serial device");
		assert_int_equal(kd_transport_open(&t, "com:modem"),
				 KD_ENOTSUP);
	}
	/* third end of a loop */
	t = open_ok("loop:name=three");
	lower = open_ok("loop:name=three");
	{
		struct kd_transport *x;

		assert_int_equal(kd_transport_open(&x, "loop:name=three"),
				 KD_EBUSY);
	}
	kd_transport_close(t);

	/* stacking over an already open transport */
	snprintf(cs, sizeof(cs), "fault:seed=3");
	assert_int_equal(kd_transport_open_over_take(&t, "loop:name=x", lower),
			 KD_EINVAL);
	assert_int_equal(kd_transport_open_over_take(&t, cs, lower), KD_OK);
	assert_string_equal(kd_transport_scheme(t), "fault");
	assert_ptr_equal(kd_transport_lower(t), lower);
	kd_transport_close(t); /* closes lower too */
}

static int bad_open(struct kd_transport *t, const struct kd_params *p)
{
	(void)t;
	(void)p;
	return KD_ERROR;
}

static void test_register(void **state)
{
	struct kd_transport_ops ops = ptym_ops;

	(void)state;
	assert_int_equal(kd_transport_register(&ptym_ops), KD_EBUSY);
	ops.scheme = "loop";
	assert_int_equal(kd_transport_register(&ops), KD_EBUSY);
	ops.scheme = "zz9";
	ops.version = 99;
	assert_int_equal(kd_transport_register(&ops), KD_EINVAL);
	ops.version = KD_TRANSPORT_OPS_VERSION;
	ops.caps |= KD_TRANSPORT_CAP_WAITABLE; /* but no wait_handle */
	assert_int_equal(kd_transport_register(&ops), KD_EINVAL);
	ops.caps = KD_TRANSPORT_CAP_STREAM;
	ops.scheme = "Bad!";
	assert_int_equal(kd_transport_register(&ops), KD_EINVAL);
	ops.scheme = "zz9";
	ops.open = bad_open;
	assert_int_equal(kd_transport_register(&ops), KD_OK);
	assert_true(kd_transport_available("zz9"));
	{
		struct kd_transport *t;

		assert_int_equal(kd_transport_open(&t, "zz9:fd=1"), KD_ERROR);
	}
	assert_int_equal(kd_transport_unregister("zz9"), KD_OK);
	assert_false(kd_transport_available("zz9"));
	assert_int_equal(kd_transport_unregister("loop"), KD_ENOTFOUND);
}

/* --- runner --- */

struct case_def {
	const char *name;
	CMUnitTestFunction fn;
};

static const struct case_def cases[] = {
	{ "echo_1", test_echo_1 },	   { "echo_100", test_echo_100 },
	{ "echo_4122", test_echo_4122 },   { "timeout", test_timeout },
	{ "break_in", test_break_in },	   { "wait_fd", test_wait_fd },
	{ "peer_close", test_peer_close },
};

int main(void)
{
	static char names[KD_ARRAY_SIZE(pairs) * KD_ARRAY_SIZE(cases)][64];
	struct CMUnitTest
		tests[KD_ARRAY_SIZE(pairs) * KD_ARRAY_SIZE(cases) + 16];
	const struct CMUnitTest extra[] = {
		cmocka_unit_test(test_fault_drops),
		cmocka_unit_test(test_fault_corrupt_dup_rx),
		cmocka_unit_test(test_fault_delay),
		cmocka_unit_test(test_pcap_roundtrip),
		cmocka_unit_test(test_pcap_stream_replay),
		cmocka_unit_test(test_pcap_replay_kdnet_sample),
		cmocka_unit_test(test_com_reconnect_and_link_opts),
		cmocka_unit_test(test_com_reconnect_after_loss),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_register),
	};
	size_t n = 0;
	int rc;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/kdconfXXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	if (kd_transport_register(&ptym_ops) != KD_OK) {
		fprintf(stderr, "register ptym: %s\n",
			kd_error_last()->message);
		return 1;
	}
	for (size_t p = 0; p < KD_ARRAY_SIZE(pairs); p++) {
		for (size_t c = 0; c < KD_ARRAY_SIZE(cases); c++) {
			snprintf(names[n], sizeof(names[n]), "%s/%s",
				 pairs[p].name, cases[c].name);
			tests[n] = (struct CMUnitTest){
				.name = names[n],
				.test_func = cases[c].fn,
				.setup_func = pair_setup,
				.teardown_func = pair_teardown,
				.initial_state = &pairs[p],
			};
			n++;
		}
	}
	for (size_t i = 0; i < KD_ARRAY_SIZE(extra); i++)
		tests[n++] = extra[i];
	rc = _cmocka_run_group_tests("transport_conformance", tests, n, NULL,
				     NULL);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", tmpdir);
	}
	return rc;
}
