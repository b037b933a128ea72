/* SPDX-License-Identifier: MIT */
/*
 * Link benchmark.  Serial: wire bytes per maximum-size memory read against
 * the protocol's own ceiling.  KDNET: request/reply exchanges per second and
 * bulk bytes per second over UDP loopback, against a bare UDP + AES-256-CBC
 * + HMAC-SHA256 ping-pong of the same sizes measured in the same run.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <kd/error.h>
#include <kd/link.h>
#include <kd/proto/packet.h>
#include <kd/transport.h>

#define REQ_LEN 56 /* a DBGKD_MANIPULATE_STATE64 request */
#define SMALL_REPLY 56
#define BULK_DATA 3944 /* §1.9: largest read a target answers */
#define BULK_REPLY (56 + BULK_DATA)
#define SERIAL_CEILING 4122 /* 73 + 16 + 4017 + 16 wire bytes */
#define STOP 0xFF

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- the link, host and target threads --- */

struct tgt {
	char connstr[256];
	int rc;
};

/* Target: byte 0 of a request picks the reply size. */
static void *link_target(void *arg)
{
	static uint8_t req[KD_PACKET_MAX_RECV], rep[BULK_REPLY];
	struct kd_link_opts o = KD_LINK_OPTS_INIT;
	struct tgt *tg = arg;
	struct kd_transport *t = NULL;
	struct kd_link *l = NULL;
	unsigned type;
	size_t len;

	tg->rc = kd_transport_open(&t, tg->connstr);
	if (tg->rc < 0)
		return NULL;
	o.role = KD_LINK_TARGET;
	tg->rc = kd_link_open(&l, t, &o);
	if (tg->rc < 0) {
		kd_transport_close(t);
		return NULL;
	}
	memset(rep, 0x5A, sizeof(rep));
	for (;;) {
		tg->rc = kd_link_recv(l, &type, req, sizeof(req), &len, 20000);
		if (tg->rc < 0)
			break;
		if (type == KD_PACKET_TYPE_POLL_BREAKIN || len < 1)
			continue;
		memcpy(rep, req, 4);
		tg->rc = kd_link_send(l, KD_PACKET_TYPE_STATE_MANIPULATE, rep,
				      req[0] == 1 ? BULK_REPLY : SMALL_REPLY);
		if (tg->rc < 0 || req[0] == STOP)
			break;
	}
	kd_link_close(l);
	return NULL;
}

/* Run exchanges for @p secs; returns exchanges per second. */
static double link_run(struct kd_link *l, uint8_t kind, double secs,
		       size_t want)
{
	static uint8_t req[REQ_LEN], rep[KD_PACKET_MAX_RECV];
	double t0 = now_s(), t;
	unsigned type;
	size_t len;
	long n = 0;

	memset(req, 0, sizeof(req));
	req[0] = kind;
	do {
		if (kd_link_send(l, KD_PACKET_TYPE_STATE_MANIPULATE, req,
				 REQ_LEN) != KD_OK ||
		    kd_link_recv(l, &type, rep, sizeof(rep), &len, 5000) !=
			    KD_OK ||
		    len != want) {
			fprintf(stderr, "link exchange failed: %s\n",
				kd_error_last()->message);
			exit(1);
		}
		n++;
		t = now_s() - t0;
	} while (t < secs);
	return (double)n / t;
}

static struct kd_link *open_host(const char *connstr)
{
	struct kd_transport *t = NULL;
	struct kd_link *l = NULL;

	if (kd_transport_open(&t, connstr) != KD_OK ||
	    kd_link_open(&l, t, NULL) != KD_OK) {
		fprintf(stderr, "open '%s': %s\n", connstr,
			kd_error_last()->message);
		exit(1);
	}
	return l;
}

static void stop_target(struct kd_link *l, pthread_t th)
{
	uint8_t req[REQ_LEN] = { STOP }, rep[KD_PACKET_MAX_RECV];
	unsigned type;
	size_t len;

	if (kd_link_send(l, KD_PACKET_TYPE_STATE_MANIPULATE, req, REQ_LEN) ==
	    KD_OK)
		(void)!kd_link_recv(l, &type, rep, sizeof(rep), &len, 2000);
	pthread_join(th, NULL);
}

/* --- serial: wire bytes per maximum-size read --- */

static void bench_serial(double secs)
{
	struct kd_link_stats a, b;
	struct tgt tg = { "loop:name=bench-serial,size=1048576", 0 };
	struct kd_link *l;
	pthread_t th;
	double rate, wire;
	uint64_t ex;

	l = open_host("loop:name=bench-serial,size=1048576");
	pthread_create(&th, NULL, link_target, &tg);
	if (kd_link_sync(l, 5000) != KD_OK) {
		fprintf(stderr, "serial sync: %s\n", kd_error_last()->message);
		exit(1);
	}
	kd_link_stats(l, &a);
	rate = link_run(l, 1, secs, BULK_REPLY);
	kd_link_stats(l, &b);
	ex = b.packets_sent - a.packets_sent;
	wire = (double)(b.wire_bytes_sent - a.wire_bytes_sent +
			b.wire_bytes_received - a.wire_bytes_received) /
	       (double)ex;
	printf("serial (KDCOM over loop stream): %llu reads of %d bytes, "
	       "%.1f wire bytes per read (ceiling %d); payload per wire byte "
	       "%.4f vs ceiling %.4f; ratio %.3f; %.1f MB/s\n",
	       (unsigned long long)ex, BULK_DATA, wire, SERIAL_CEILING,
	       BULK_DATA / wire, (double)BULK_DATA / SERIAL_CEILING,
	       SERIAL_CEILING / wire, rate * BULK_DATA / 1e6);
	stop_target(l, th);
	kd_link_close(l);
}

/* --- bare UDP + AES-256-CBC + HMAC-SHA256 ping-pong --- */

struct bare {
	EVP_CIPHER_CTX *enc, *dec;
	EVP_MAC *mac;
	EVP_MAC_CTX *hm;
	uint64_t seq;
	uint8_t dir;
};

static void bare_init(struct bare *b, uint8_t dir)
{
	static const uint8_t key[32] = { 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0,
					 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 4 };
	uint8_t hkey[32];
	OSSL_PARAM p[2];
	int i;

	for (i = 0; i < 32; i++)
		hkey[i] = (uint8_t)~key[i];
	b->enc = EVP_CIPHER_CTX_new();
	b->dec = EVP_CIPHER_CTX_new();
	EVP_EncryptInit_ex(b->enc, EVP_aes_256_cbc(), NULL, key, NULL);
	EVP_DecryptInit_ex(b->dec, EVP_aes_256_cbc(), NULL, key, NULL);
	EVP_CIPHER_CTX_set_padding(b->enc, 0);
	EVP_CIPHER_CTX_set_padding(b->dec, 0);
	b->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	b->hm = EVP_MAC_CTX_new(b->mac);
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						(char *)"SHA256", 0);
	p[1] = OSSL_PARAM_construct_end();
	EVP_MAC_init(b->hm, hkey, sizeof(hkey), p);
	b->seq = 1;
	b->dir = dir;
}

static void bare_free(struct bare *b)
{
	EVP_CIPHER_CTX_free(b->enc);
	EVP_CIPHER_CTX_free(b->dec);
	EVP_MAC_CTX_free(b->hm);
	EVP_MAC_free(b->mac);
}

static void tag16(struct bare *b, const uint8_t *hdr, const uint8_t *body,
		  size_t len, uint8_t *tag)
{
	uint8_t full[32];
	size_t n;

	EVP_MAC_init(b->hm, NULL, 0, NULL);
	EVP_MAC_update(b->hm, hdr, 6);
	EVP_MAC_update(b->hm, body, len);
	EVP_MAC_final(b->hm, full, &n, sizeof(full));
	memcpy(tag, full, 16);
}

/* Envelope a KD packet of @p len bytes as KDNET does (§3.2). */
static size_t bare_seal(struct bare *b, const uint8_t *kd, size_t len,
			uint8_t *out)
{
	uint8_t body[8 + KD_PACKET_HEADER_SIZE + KD_PACKET_MAX_RECV + 16];
	size_t blen = 8 + len, pad = (16 - blen % 16) % 16;
	int n, i;

	memcpy(out, "MDBG", 4);
	out[4] = 4;
	out[5] = 0;
	for (i = 0; i < 7; i++)
		body[i] = (uint8_t)(b->seq >> (8 * (6 - i)));
	body[7] = (uint8_t)(b->dir | pad);
	b->seq++;
	memcpy(body + 8, kd, len);
	memset(body + blen, 0, pad);
	blen += pad;
	tag16(b, out, body, blen, out + 6 + blen);
	EVP_EncryptInit_ex(b->enc, NULL, NULL, NULL, out + 6 + blen);
	EVP_EncryptUpdate(b->enc, out + 6, &n, body, (int)blen);
	return 6 + blen + 16;
}

static int bare_open(struct bare *b, const uint8_t *dg, size_t len,
		     uint8_t *body)
{
	uint8_t tag[16];
	size_t blen = len - 22;
	int n;

	EVP_DecryptInit_ex(b->dec, NULL, NULL, NULL, dg + len - 16);
	EVP_DecryptUpdate(b->dec, body, &n, dg + 6, (int)blen);
	tag16(b, dg, body, blen, tag);
	return memcmp(tag, dg + len - 16, 16) == 0 ? 0 : -1;
}

struct bare_srv {
	int fd;
	size_t reply_kd; /* KD packet bytes of each reply */
	bool acks;	 /* KD's pattern: ACK every data datagram */
};

static void *bare_server(void *arg)
{
	static uint8_t dg[8192], body[8192], kd[8192], out[8192];
	struct bare_srv *s = arg;
	struct sockaddr_in peer;
	socklen_t pl;
	struct bare b;
	ssize_t n;

	bare_init(&b, 0);
	memset(kd, 0x5A, sizeof(kd));
	for (;;) {
		pl = sizeof(peer);
		n = recvfrom(s->fd, dg, sizeof(dg), 0, (struct sockaddr *)&peer,
			     &pl);
		if (n < 22 || bare_open(&b, dg, (size_t)n, body) != 0)
			continue;
		if (body[8] == STOP)
			break;
		if ((size_t)n - 22 <= 8 + KD_PACKET_HEADER_SIZE + 8)
			continue; /* an ACK */
		if (s->acks) {
			n = (ssize_t)bare_seal(&b, kd, KD_PACKET_HEADER_SIZE,
					       out);
			sendto(s->fd, out, (size_t)n, 0,
			       (struct sockaddr *)&peer, pl);
		}
		n = (ssize_t)bare_seal(&b, kd, s->reply_kd, out);
		sendto(s->fd, out, (size_t)n, 0, (struct sockaddr *)&peer, pl);
	}
	bare_free(&b);
	return NULL;
}

static double bare_run(size_t req_kd, size_t reply_kd, bool acks, double secs)
{
	static uint8_t kd[8192], dg[8192], body[8192];
	struct bare_srv s = { -1, reply_kd, acks };
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct bare b;
	pthread_t th;
	double t0, t;
	long n = 0;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s.fd = socket(AF_INET, SOCK_DGRAM, 0);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (s.fd < 0 || fd < 0 ||
	    bind(s.fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(s.fd, (struct sockaddr *)&sa, &sl) != 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror("bare udp");
		exit(1);
	}
	bare_init(&b, 0x80);
	pthread_create(&th, NULL, bare_server, &s);
	memset(kd, 0x11, sizeof(kd));
	kd[0] = 1;
	t0 = now_s();
	do {
		size_t len = bare_seal(&b, kd, req_kd, dg);
		ssize_t r;

		if (send(fd, dg, len, 0) != (ssize_t)len)
			exit(1);
		if (acks && recv(fd, dg, sizeof(dg), 0) < 22)
			exit(1);
		r = recv(fd, dg, sizeof(dg), 0);
		if (r < 22 || bare_open(&b, dg, (size_t)r, body) != 0 ||
		    (size_t)r - 22 < reply_kd + 8) {
			fprintf(stderr, "bare exchange failed\n");
			exit(1);
		}
		if (acks) {
			len = bare_seal(&b, kd, KD_PACKET_HEADER_SIZE, dg);
			if (send(fd, dg, len, 0) != (ssize_t)len)
				exit(1);
		}
		n++;
		t = now_s() - t0;
	} while (t < secs);
	kd[0] = STOP;
	{
		size_t len = bare_seal(&b, kd, req_kd, dg);

		(void)!send(fd, dg, len, 0);
	}
	pthread_join(th, NULL);
	bare_free(&b);
	close(fd);
	close(s.fd);
	return (double)n / t;
}

/* --- KDNET --- */

#define ROUNDS 5

static double best(double a, double b)
{
	return a > b ? a : b;
}

static void bench_kdnet(double secs)
{
	struct tgt tg;
	struct kd_link *l;
	pthread_t th;
	uint16_t port = 0;
	bool udp = kd_transport_available("net");
	double ls, lb, bs, bb, as, ab;
	int r;
	const size_t kd_req = KD_PACKET_HEADER_SIZE + REQ_LEN;

	if (udp) {
		l = open_host("net:port=0,key=1.2.3.4,hostip=127.0.0.1");
		if (kd_transport_local_port(kd_link_transport(l), &port) !=
		    KD_OK)
			exit(1);
		snprintf(tg.connstr, sizeof(tg.connstr),
			 "net:role=target,port=%u,key=1.2.3.4,"
			 "hostip=127.0.0.1,offer_ms=100",
			 port);
	} else {
		l = open_host("loop:name=bench-net,datagram");
		snprintf(tg.connstr, sizeof(tg.connstr),
			 "loop:name=bench-net,datagram");
	}
	pthread_create(&th, NULL, link_target, &tg);
	if (kd_link_sync(l, 10000) != KD_OK) {
		fprintf(stderr, "kdnet sync: %s\n", kd_error_last()->message);
		exit(1);
	}
	/*
	 * Interleaved rounds, best of each: the machine is shared, and a
	 * slow moment should not land on one side of a ratio only.
	 */
	ls = lb = bs = bb = as = ab = 0;
	for (r = 0; r < ROUNDS; r++) {
		ls = best(ls, link_run(l, 0, secs / ROUNDS, SMALL_REPLY));
		bs = best(bs,
			  bare_run(kd_req, KD_PACKET_HEADER_SIZE + SMALL_REPLY,
				   false, secs / ROUNDS));
		as = best(as,
			  bare_run(kd_req, KD_PACKET_HEADER_SIZE + SMALL_REPLY,
				   true, secs / ROUNDS));
		lb = best(lb, link_run(l, 1, secs / ROUNDS, BULK_REPLY));
		bb = best(bb,
			  bare_run(kd_req, KD_PACKET_HEADER_SIZE + BULK_REPLY,
				   false, secs / ROUNDS));
		ab = best(ab,
			  bare_run(kd_req, KD_PACKET_HEADER_SIZE + BULK_REPLY,
				   true, secs / ROUNDS));
	}
	stop_target(l, th);
	kd_link_close(l);
	printf("kdnet link over %s\n",
	       udp ? "UDP loopback (net driver)" :
		     "loop datagrams (net driver absent: not comparable)");
	printf("kdnet small (%d/%d-byte payloads): link %.0f exchanges/s, "
	       "bare UDP+AES+HMAC %.0f/s, ratio %.3f; bare with KD's two "
	       "ACK datagrams %.0f/s, ratio %.3f\n",
	       REQ_LEN, SMALL_REPLY, ls, bs, ls / bs, as, ls / as);
	printf("kdnet bulk (%d-byte reads): link %.2f MB/s, bare %.2f MB/s, "
	       "ratio %.3f; bare with ACKs %.2f MB/s, ratio %.3f\n",
	       BULK_DATA, lb * BULK_DATA / 1e6, bb * BULK_DATA / 1e6, lb / bb,
	       ab * BULK_DATA / 1e6, lb / ab);
}

int main(int argc, char **argv)
{
	double secs = 3.0;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			secs = 0.4;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	bench_serial(secs);
	bench_kdnet(secs);
	return 0;
}
