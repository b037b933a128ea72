/* SPDX-License-Identifier: MIT */
/*
 * The KDNET codec against a real capture (../shared/data/kdnet, radare2 as
 * host, an independent KDNET codec in front of Xen's kdd as target, key
 * 1.2.3.4): every datagram authenticates, the handshake parses, the data key
 * decrypts the data channel and every KD packet inside is well formed.
 */
/* libpcap's headers use the BSD u_int/u_char types. */
#define _DEFAULT_SOURCE 1
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <pcap/pcap.h>

#include <kd/error.h>
#include <kd/net_crypto.h>
#include <kd/proto/kdnet.h>
#include <kd/proto/packet.h>

#include "pcap_udp.h"
#include "testsupport.h"

#define SAMPLE "kdnet/r2-host_relay-target_key-1.2.3.4.pcapng"

static char sample_path[4096];

/* Data key of the capture's session, computed independently with Python
 * (hashlib SHA-256 over key 1.2.3.4 ‖ decrypted RESPONSE payload). */
static const uint8_t want_data_key[32] = {
	0xc9, 0xb2, 0xb9, 0x8d, 0xdc, 0x5e, 0xfa, 0x2e, 0xdb, 0x1d, 0x13,
	0xb7, 0x3e, 0x13, 0x66, 0xb8, 0xb1, 0x21, 0x30, 0x82, 0xf3, 0x63,
	0x6f, 0xd3, 0x20, 0x1a, 0x7b, 0x57, 0xd0, 0x15, 0x47, 0x46,
};

/* First bytes of the target nonce in the capture's OFFER. */
static const uint8_t want_nonce_head[8] = {
	0x40, 0x29, 0xb0, 0x24, 0x20, 0x12, 0xf1, 0xf1,
};

struct walk {
	struct kd_net_session *s;
	unsigned int datagrams;
	unsigned int auth_failed;
	unsigned int other_failed;
	unsigned int per[2][2]; /* [channel][from_debugger] */
	unsigned int offers, responses;
	unsigned int kd_data, kd_control, pings, breakins, bad_kd;
	unsigned int versions_seen; /* bitmask of version bytes */
	uint64_t last_seq[2][2];
	unsigned int seq_regress;
	struct kd_net_offer offer;
	uint64_t offer_seq;
	uint64_t response_seq;
	unsigned int max_len;
};

/* A KD packet: 16-byte header, ByteCount payload, checksum, no trailer. */
static void check_kd_packet(struct walk *w, const uint8_t *p, size_t len)
{
	uint32_t leader, sum = 0;
	uint16_t count;

	if (len < 16) {
		w->bad_kd++;
		return;
	}
	leader = kd_get_le32(p);
	count = kd_get_le16(p + 6);
	if (leader == 0x69696969) {
		/* Control packets carry no payload and checksum 0. */
		if (len != 16 || count != 0 || kd_get_le32(p + 12) != 0)
			w->bad_kd++;
		else
			w->kd_control++;
		return;
	}
	/* Exactly header + ByteCount: no 0xAA trailer on KDNET (§3.5). */
	if (leader != 0x30303030 || len != 16u + count) {
		w->bad_kd++;
		return;
	}
	/* Cross-check B's kd_checksum against a plain byte sum. */
	for (size_t i = 16; i < len; i++)
		sum += p[i];
	if (sum != kd_get_le32(p + 12) ||
	    kd_checksum(p + 16, len - 16) != sum) {
		w->bad_kd++;
		return;
	}
	w->kd_data++;
}

static int on_udp(void *arg, const struct kdt_udp *u)
{
	struct walk *w = arg;
	uint8_t plain[KD_NET_MAX_BODY];
	struct kd_net_frame f;
	uint32_t ip;
	int rc;

	w->datagrams++;
	if (u->len > w->max_len)
		w->max_len = (unsigned int)u->len;
	assert_int_equal(u->sport, 50000);
	assert_int_equal(u->dport, 50000);
	rc = kd_net_session_decode(w->s, u->data, u->len, plain, sizeof(plain),
				   &f);
	if (rc == KD_EAUTH) {
		w->auth_failed++;
		return 0;
	}
	if (rc != 0) {
		w->other_failed++;
		return 0;
	}
	w->versions_seen |= 1u << (f.version & 31);
	w->per[f.channel][f.from_debugger]++;
	if (f.seq < w->last_seq[f.channel][f.from_debugger])
		w->seq_regress++;
	w->last_seq[f.channel][f.from_debugger] = f.seq;

	if (f.channel == KD_NET_CHANNEL_CONTROL) {
		int type = kd_net_control_type(f.payload, f.payload_len);

		if (type == KD_NET_CTRL_OFFER && !f.from_debugger) {
			assert_int_equal(kd_net_offer_parse(f.payload,
							    f.payload_len,
							    &w->offer),
					 0);
			w->offer_seq = f.seq;
			w->offers++;
		} else if (type == KD_NET_CTRL_RESPONSE && f.from_debugger) {
			struct kd_net_response r;

			assert_int_equal(kd_net_response_parse(
						 f.payload, f.payload_len, &r),
					 0);
			assert_int_equal(w->offers, 1);
			assert_memory_equal(r.target_nonce, w->offer.nonce,
					    KD_NET_NONCE_SIZE);
			assert_int_equal(f.pad, 6);
			w->response_seq = f.seq;
			assert_int_equal(
				kd_net_session_accept_response(w->s, f.payload,
							       f.payload_len),
				0);
			w->responses++;
		}
		return 0;
	}
	if (kd_net_ping_parse(f.payload, f.payload_len, &ip) == 0) {
		assert_false(f.from_debugger);
		w->pings++;
	} else if (kd_net_is_breakin(f.payload, f.payload_len)) {
		assert_true(f.from_debugger);
		w->breakins++;
	} else {
		check_kd_packet(w, f.payload, f.payload_len);
	}
	return 0;
}

static void walk_file(struct walk *w, const char *path, const char *key)
{
	char err[512];
	unsigned int skipped = 99;

	memset(w, 0, sizeof(*w));
	assert_int_equal(kd_net_session_new(&w->s, key), 0);
	if (kdt_pcap_udp_foreach(path, KD_NET_DEFAULT_PORT, on_udp, w, &skipped,
				 err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(skipped, 0);
}

/* The counts the capture holds (cross-checked with an independent
 * Python decoder written from kd-protocol.md §3). */
static void assert_sample_counts(const struct walk *w)
{
	assert_int_equal(w->datagrams, 30);
	assert_int_equal(w->auth_failed, 0);
	assert_int_equal(w->other_failed, 0);
	assert_int_equal(w->per[KD_NET_CHANNEL_CONTROL][0], 1);
	assert_int_equal(w->per[KD_NET_CHANNEL_CONTROL][1], 1);
	assert_int_equal(w->per[KD_NET_CHANNEL_DATA][0], 14);
	assert_int_equal(w->per[KD_NET_CHANNEL_DATA][1], 14);
	assert_int_equal(w->offers, 1);
	assert_int_equal(w->responses, 1);
	assert_int_equal(w->pings, 1);
	assert_int_equal(w->breakins, 1);
	assert_int_equal(w->kd_data, 13);
	assert_int_equal(w->kd_control, 13);
	assert_int_equal(w->bad_kd, 0);
	assert_int_equal(w->seq_regress, 0);
	/* Version 2 only; sequence numbers per §3.4/§3.5. */
	assert_int_equal(w->versions_seen, 1u << 2);
	assert_int_equal(w->offer_seq, 1);
	assert_int_equal(w->response_seq, w->offer_seq);
	assert_int_equal(w->last_seq[0][0], 15);
	assert_int_equal(w->last_seq[0][1], 14);
	assert_int_equal(w->max_len, 358);
}

static void test_transports_kdnet_sample__decodes(void **state)
{
	struct walk w;
	uint8_t dk[32];

	(void)state;
	walk_file(&w, sample_path, "1.2.3.4");
	assert_sample_counts(&w);
	assert_memory_equal(w.offer.nonce, want_nonce_head,
			    sizeof(want_nonce_head));
	assert_int_equal(w.offer.format, 1);
	/* This target's OFFER is 322 bytes and leaves the addresses zero. */
	assert_true(w.offer.have_addrs);
	assert_int_equal(w.offer.target.port, 0);
	assert_int_equal(kd_net_session_data_key(w.s, dk), 0);
	assert_memory_equal(dk, want_data_key, 32);
	kd_net_session_free(w.s);
}

static void test_transports_kdnet_sample__wrong_key(void **state)
{
	struct walk w;

	(void)state;
	walk_file(&w, sample_path, "1.2.3.5");
	assert_int_equal(w.datagrams, 30);
	assert_int_equal(w.auth_failed, 30);
	assert_int_equal(w.other_failed, 0);
	assert_int_equal(w.responses, 0);
	assert_false(kd_net_session_has_data_key(w.s));
	assert_int_equal(kd_error_last()->code, KD_EAUTH);
	kd_net_session_free(w.s);
}

/* --- The UDP reader on other link layers --- */

struct rewrite {
	pcap_dumper_t *d;
	int dlt;
	bool ipv6;
	unsigned int written;
};

/* Wrap one datagram in IPv4 or IPv6 + UDP and the link header of r->dlt. */
static int on_udp_rewrite(void *arg, const struct kdt_udp *u)
{
	struct rewrite *r = arg;
	static uint8_t buf[2048];
	struct pcap_pkthdr h;
	size_t off = 0, iphdr = r->ipv6 ? 40 : 20;
	size_t udplen = 8 + u->len;
	uint8_t *ip;

	memset(buf, 0, sizeof(buf));
	switch (r->dlt) {
	case DLT_EN10MB: /* with one 802.1Q tag */
		kd_put_be16(buf + 12, 0x8100);
		kd_put_be16(buf + 16, r->ipv6 ? 0x86dd : 0x0800);
		off = 18;
		break;
	case DLT_NULL:
		kd_put_le32(buf, r->ipv6 ? 10 : 2);
		off = 4;
		break;
	case DLT_LINUX_SLL:
		kd_put_be16(buf + 14, r->ipv6 ? 0x86dd : 0x0800);
		off = 16;
		break;
	default: /* DLT_RAW */
		break;
	}
	ip = buf + off;
	if (r->ipv6) {
		ip[0] = 0x60;
		ip[6] = 60; /* a destination-options header first */
		ip[7] = 64;
		ip[23] = 1;
		ip[39] = 1;
		ip[40] = 17;
		ip[41] = 0;
		iphdr += 8;
		kd_put_be16(ip + 4, (uint16_t)(udplen + 8));
	} else {
		ip[0] = 0x45;
		kd_put_be16(ip + 2, (uint16_t)(20 + udplen));
		ip[8] = 64;
		ip[9] = 17;
		ip[12] = 127;
		ip[15] = 1;
		ip[16] = 127;
		ip[19] = 1;
	}
	kd_put_be16(ip + iphdr, u->sport);
	kd_put_be16(ip + iphdr + 2, u->dport);
	kd_put_be16(ip + iphdr + 4, (uint16_t)udplen);
	memcpy(ip + iphdr + 8, u->data, u->len);
	memset(&h, 0, sizeof(h));
	h.caplen = h.len = (bpf_u_int32)(off + iphdr + udplen);
	pcap_dump((u_char *)r->d, &h, buf);
	r->written++;
	return 0;
}

static void rewrite_and_walk(int dlt, bool ipv6)
{
	char path[] = "/tmp/kdnet_sample_XXXXXX";
	char err[512];
	struct rewrite r = { 0 };
	struct walk w;
	pcap_t *dead;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	dead = pcap_open_dead(dlt, 65535);
	assert_non_null(dead);
	r.d = pcap_dump_open(dead, path);
	assert_non_null(r.d);
	r.dlt = dlt;
	r.ipv6 = ipv6;
	if (kdt_pcap_udp_foreach(sample_path, 0, on_udp_rewrite, &r, NULL, err,
				 sizeof(err)) != 0)
		fail_msg("%s", err);
	pcap_dump_close(r.d);
	pcap_close(dead);
	assert_int_equal(r.written, 30);
	walk_file(&w, path, "1.2.3.4");
	assert_sample_counts(&w);
	kd_net_session_free(w.s);
	unlink(path);
}

static void test_transports_kdnet_sample__link_types(void **state)
{
	(void)state;
	rewrite_and_walk(DLT_EN10MB, false);
	rewrite_and_walk(DLT_EN10MB, true);
	rewrite_and_walk(DLT_NULL, false);
	rewrite_and_walk(DLT_NULL, true);
	rewrite_and_walk(DLT_RAW, false);
	rewrite_and_walk(DLT_RAW, true);
	rewrite_and_walk(DLT_LINUX_SLL, false);
	rewrite_and_walk(DLT_LINUX_SLL, true);
}

static void test_transports_kdnet_sample__udp_reader_refuses(void **state)
{
	struct kdt_udp u;
	uint8_t pkt[64] = { 0 };

	(void)state;
	/* IPv4 fragment, wrong protocol, short UDP length, bad version. */
	pkt[0] = 0x45;
	kd_put_be16(pkt + 2, 28);
	pkt[9] = 17;
	kd_put_be16(pkt + 24, 8);
	assert_int_equal(kdt_udp_from_link(DLT_RAW, pkt, 28, &u), 0);
	assert_int_equal(u.len, 0);
	assert_int_equal(kdt_udp_from_link(DLT_RAW, pkt, 27, &u), -1);
	kd_put_be16(pkt + 6, 0x2000); /* MF */
	assert_int_equal(kdt_udp_from_link(DLT_RAW, pkt, 28, &u), -1);
	kd_put_be16(pkt + 6, 0);
	pkt[9] = 6;
	assert_int_equal(kdt_udp_from_link(DLT_RAW, pkt, 28, &u), -1);
	pkt[9] = 17;
	kd_put_be16(pkt + 24, 9);
	assert_int_equal(kdt_udp_from_link(DLT_RAW, pkt, 28, &u), -1);
	kd_put_be16(pkt + 24, 8);
	pkt[0] = 0x44; /* IHL 16 < 20 */
	assert_int_equal(kdt_udp_from_link(DLT_RAW, pkt, 28, &u), -1);
	assert_int_equal(kdt_udp_from_link(DLT_EN10MB, pkt, 10, &u), -1);
	assert_int_equal(kdt_udp_from_link(DLT_LINUX_SLL, pkt, 15, &u), -1);
	assert_int_equal(kdt_udp_from_link(12345, pkt, 28, &u), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transports_kdnet_sample__decodes),
		cmocka_unit_test(test_transports_kdnet_sample__wrong_key),
		cmocka_unit_test(test_transports_kdnet_sample__link_types),
		cmocka_unit_test(
			test_transports_kdnet_sample__udp_reader_refuses),
	};

	kdt_require_shared(sample_path, sizeof(sample_path), SAMPLE);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
