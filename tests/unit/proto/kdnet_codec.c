/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the KDNET envelope codec and handshake messages with the
 * OpenSSL crypto: round trips, a known-answer datagram computed by an
 * independent implementation, tampering, truncation and garbage.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <kd/error.h>
#include <kd/net_crypto.h>
#include <kd/proto/kdnet.h>

struct fixture {
	struct kd_net_crypto crypto;
	struct kd_net_codec codec;
	uint8_t ck[KD_NET_KEY_SIZE];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx || kd_net_key_parse("1.2.3.4", 7, fx->ck, NULL) != 0 ||
	    kd_net_crypto_new(&fx->crypto) != 0 ||
	    kd_net_codec_init(&fx->codec, &fx->crypto, fx->ck) != 0)
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	kd_net_crypto_free(&fx->crypto);
	free(fx);
	return 0;
}

/*
 * "hello KDNET", version 4, control channel, seq 0x0102030405, debugger to
 * target, key 1.2.3.4: computed with Python's `cryptography` package
 * (AES-CBC, HMAC) from the §3.2/§3.3 description, not with this codec.
 */
static const uint8_t known_dgram[54] = {
	0x4d, 0x44, 0x42, 0x47, 0x04, 0x01, 0x7a, 0x24, 0x08, 0x6a, 0x8a,
	0x0b, 0xc5, 0xf3, 0x46, 0x48, 0xbb, 0xac, 0x29, 0xff, 0x35, 0x59,
	0xe6, 0x7b, 0x42, 0x07, 0xdb, 0x3b, 0x51, 0x98, 0xb9, 0x2c, 0xb0,
	0xcf, 0x15, 0xaf, 0xe9, 0x78, 0x89, 0xbe, 0xab, 0x8b, 0x87, 0x1a,
	0x6f, 0x06, 0x57, 0x64, 0xae, 0x5d, 0x0a, 0x22, 0xff, 0x53,
};

static void test_proto_kdnet_codec__known_answer(void **state)
{
	struct fixture *fx = *state;
	struct kd_net_frame f = { 0 };
	uint8_t out[128], plain[128];
	size_t len;

	f.version = KD_NET_VERSION_4;
	f.channel = KD_NET_CHANNEL_CONTROL;
	f.from_debugger = true;
	f.seq = 0x0102030405;
	f.payload = (const uint8_t *)"hello KDNET";
	f.payload_len = 11;
	assert_int_equal(kd_net_encoded_size(11), 54);
	assert_int_equal(kd_net_encode(&fx->codec, &f, out, sizeof(out), &len),
			 0);
	assert_int_equal(len, sizeof(known_dgram));
	assert_memory_equal(out, known_dgram, sizeof(known_dgram));

	memset(&f, 0xcc, sizeof(f));
	assert_int_equal(kd_net_decode(&fx->codec, known_dgram,
				       sizeof(known_dgram), plain,
				       sizeof(plain), &f),
			 0);
	assert_int_equal(f.version, 4);
	assert_int_equal(f.channel, 1);
	assert_true(f.from_debugger);
	assert_int_equal(f.seq, 0x0102030405);
	assert_int_equal(f.pad, 13);
	assert_int_equal(f.payload_len, 11);
	assert_ptr_equal(f.payload, plain + 8);
	assert_memory_equal(f.payload, "hello KDNET", 11);
}

static void round_trip(struct fixture *fx, uint8_t channel, size_t plen,
		       uint64_t seq, bool dbg)
{
	uint8_t *payload = malloc(plen + 1);
	uint8_t *out = malloc(KD_NET_MAX_DATAGRAM);
	uint8_t *plain = malloc(KD_NET_MAX_BODY);
	struct kd_net_frame f = { 0 }, g;
	size_t len;

	assert_non_null(payload);
	assert_non_null(out);
	assert_non_null(plain);
	for (size_t i = 0; i < plen; i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	f.version = KD_NET_VERSION_2;
	f.channel = channel;
	f.from_debugger = dbg;
	f.seq = seq;
	f.payload = payload;
	f.payload_len = plen;
	assert_int_equal(
		kd_net_encode(&fx->codec, &f, out, KD_NET_MAX_DATAGRAM, &len),
		0);
	assert_int_equal(len, kd_net_encoded_size(plen));
	assert_int_equal((len - 22) % 16, 0);
	assert_true(len - 22 - 8 - plen < 16);
	assert_memory_equal(out, "MDBG\x02", 5);
	assert_int_equal(out[5], channel);
	assert_int_equal(
		kd_net_decode(&fx->codec, out, len, plain, KD_NET_MAX_BODY, &g),
		0);
	assert_int_equal(g.channel, channel);
	assert_int_equal(g.seq, seq);
	assert_int_equal(g.from_debugger, dbg);
	assert_int_equal(g.payload_len, plen);
	if (plen)
		assert_memory_equal(g.payload, payload, plen);
	/* In place: plaintext over the ciphertext. */
	assert_int_equal(
		kd_net_decode(&fx->codec, out, len, out + 6, len - 6, &g), 0);
	assert_int_equal(g.payload_len, plen);
	if (plen)
		assert_memory_equal(g.payload, payload, plen);
	free(payload);
	free(out);
	free(plain);
}

static void test_proto_kdnet_codec__round_trips(void **state)
{
	struct fixture *fx = *state;
	static const uint8_t dk[32] = { 0x11, 0x22, 0x33 };

	assert_int_equal(kd_net_codec_set_data_key(&fx->codec, dk), 0);
	for (size_t n = 0; n <= 40; n++) {
		round_trip(fx, KD_NET_CHANNEL_DATA, n, n + 1, n & 1);
		round_trip(fx, KD_NET_CHANNEL_CONTROL, n, n * 3, !(n & 1));
	}
	round_trip(fx, KD_NET_CHANNEL_DATA, 1400, KD_NET_SEQ_MAX, true);
	round_trip(fx, KD_NET_CHANNEL_DATA, KD_NET_MAX_PAYLOAD, 7, false);
}

static void test_proto_kdnet_codec__channel_keys_differ(void **state)
{
	struct fixture *fx = *state;
	static const uint8_t dk[32] = { 0x5a };
	struct kd_net_frame f = { 0 }, g;
	uint8_t out[64], plain[64];
	size_t len;

	f.version = 4;
	f.channel = KD_NET_CHANNEL_DATA;
	f.payload = (const uint8_t *)"b";
	f.payload_len = 1;
	/* No data key yet: neither side can use channel 0. */
	assert_int_equal(kd_net_encode(&fx->codec, &f, out, sizeof(out), &len),
			 KD_EAUTH);
	assert_int_equal(kd_net_codec_set_data_key(&fx->codec, dk), 0);
	assert_int_equal(kd_net_encode(&fx->codec, &f, out, sizeof(out), &len),
			 0);
	assert_int_equal(len, 38);
	/* Relabel as control: decrypts under the wrong key, tag fails. */
	out[5] = KD_NET_CHANNEL_CONTROL;
	assert_int_equal(
		kd_net_decode(&fx->codec, out, len, plain, sizeof(plain), &g),
		KD_EAUTH);
	assert_string_equal(g.why, "tag mismatch (wrong key?)");
	/* Plaintext of a failed datagram is not left behind. */
	for (size_t i = 0; i < 16; i++)
		assert_int_equal(plain[i], 0);
	out[5] = KD_NET_CHANNEL_DATA;
	assert_int_equal(
		kd_net_decode(&fx->codec, out, len, plain, sizeof(plain), &g),
		0);
	assert_true(kd_net_is_breakin(g.payload, g.payload_len));
	assert_int_equal(g.pad, 7);
}

static void test_proto_kdnet_codec__tamper(void **state)
{
	struct fixture *fx = *state;
	uint8_t d[sizeof(known_dgram)], plain[64];
	struct kd_net_frame g;

	/* Every single-bit flip in ciphertext or tag fails authentication;
	 * in the header it fails authentication or the header checks. */
	for (size_t i = 0; i < sizeof(d); i++) {
		for (int bit = 0; bit < 8; bit++) {
			int rc;

			memcpy(d, known_dgram, sizeof(d));
			d[i] ^= (uint8_t)(1u << bit);
			rc = kd_net_decode(&fx->codec, d, sizeof(d), plain,
					   sizeof(plain), &g);
			if (i >= 6)
				assert_int_equal(rc, KD_EAUTH);
			else
				assert_true(rc == KD_EAUTH || rc == KD_EPROTO ||
					    rc == KD_ENOTSUP);
			assert_non_null(g.why);
		}
	}
	memcpy(d, known_dgram, sizeof(d));
	d[53] ^= 0x80;
	assert_int_equal(kd_net_decode(&fx->codec, d, sizeof(d), plain,
				       sizeof(plain), &g),
			 KD_EAUTH);
}

static void test_proto_kdnet_codec__malformed(void **state)
{
	struct fixture *fx = *state;
	uint8_t d[sizeof(known_dgram)], plain[64], big[8192];
	struct kd_net_frame g;

	/* Every truncation: too short, misaligned, or (38) a bad tag. */
	for (size_t n = 0; n < sizeof(known_dgram); n++) {
		int rc = kd_net_decode(&fx->codec, known_dgram, n, plain,
				       sizeof(plain), &g);

		assert_int_equal(rc, n == 38 ? KD_EAUTH : KD_EPROTO);
		assert_non_null(g.why);
	}
	assert_int_equal(kd_net_decode(&fx->codec, known_dgram, 37, plain,
				       sizeof(plain), &g),
			 KD_EPROTO);
	assert_string_equal(g.why, "datagram too short");
	assert_int_equal(kd_net_decode(&fx->codec, known_dgram, 53, plain,
				       sizeof(plain), &g),
			 KD_EPROTO);
	assert_string_equal(g.why, "body length not a multiple of 16");

	memcpy(d, known_dgram, sizeof(d));
	d[0] = 'X';
	assert_int_equal(kd_net_decode(&fx->codec, d, sizeof(d), plain,
				       sizeof(plain), &g),
			 KD_EPROTO);
	assert_string_equal(g.why, "bad magic (not MDBG)");
	memcpy(d, known_dgram, sizeof(d));
	d[5] = 2;
	assert_int_equal(kd_net_decode(&fx->codec, d, sizeof(d), plain,
				       sizeof(plain), &g),
			 KD_EPROTO);
	assert_string_equal(g.why, "unknown channel");
	memcpy(d, known_dgram, sizeof(d));
	d[4] = 9;
	assert_int_equal(kd_net_decode(&fx->codec, d, sizeof(d), plain,
				       sizeof(plain), &g),
			 KD_ENOTSUP);
	d[4] = 1;
	assert_int_equal(kd_net_decode(&fx->codec, d, sizeof(d), plain,
				       sizeof(plain), &g),
			 KD_ENOTSUP);
	/* Plaintext buffer too small. */
	assert_int_equal(kd_net_decode(&fx->codec, known_dgram,
				       sizeof(known_dgram), plain, 31, &g),
			 KD_EBUFS);
	/* Too long, even though it is well aligned. */
	memset(big, 0, sizeof(big));
	memcpy(big, "MDBG\x04\x01", 6);
	assert_int_equal(kd_net_decode(&fx->codec, big,
				       6 + KD_NET_MAX_BODY + 16 + 16, big,
				       sizeof(big), &g),
			 KD_EPROTO);
	assert_string_equal(g.why, "datagram too long");
	/* Random garbage with a valid header never authenticates. */
	srand(1234);
	for (int i = 0; i < 200; i++) {
		size_t n = 22 + 16 * (size_t)(1 + rand() % 8);

		for (size_t j = 6; j < n; j++)
			big[j] = (uint8_t)rand();
		assert_int_equal(kd_net_decode(&fx->codec, big, n, plain,
					       sizeof(plain), &g),
				 n - 22 > sizeof(plain) ? KD_EBUFS : KD_EAUTH);
	}
}

/* Authentic datagram whose inner pad count exceeds the body. */
static void test_proto_kdnet_codec__bad_pad(void **state)
{
	struct fixture *fx = *state;
	uint8_t d[64], plain[64], mac[32];
	struct kd_net_frame g;
	const struct kd_net_crypto *c = &fx->crypto;

	/* Build by hand: body of 16 bytes, 8 header + 8 payload, pad 15 > 8. */
	memcpy(d, "MDBG\x04\x01", 6);
	memset(plain, 0, 16);
	plain[6] = 1;
	plain[7] = 0x0f;
	assert_int_equal(c->ops->hmac(c->ctx, d, 6, plain, 16, mac), 0);
	assert_int_equal(c->ops->encrypt(c->ctx, KD_NET_SLOT_CONTROL, mac,
					 plain, d + 6, 16),
			 0);
	memcpy(d + 22, mac, 16);
	assert_int_equal(
		kd_net_decode(&fx->codec, d, 38, plain, sizeof(plain), &g),
		KD_EPROTO);
	assert_string_equal(g.why, "pad longer than the body");
	/* Pad 8 is exactly the body: an empty payload, accepted. */
	memset(plain, 0, 16);
	plain[7] = 0x88;
	assert_int_equal(c->ops->hmac(c->ctx, d, 6, plain, 16, mac), 0);
	assert_int_equal(c->ops->encrypt(c->ctx, KD_NET_SLOT_CONTROL, mac,
					 plain, d + 6, 16),
			 0);
	memcpy(d + 22, mac, 16);
	assert_int_equal(
		kd_net_decode(&fx->codec, d, 38, plain, sizeof(plain), &g), 0);
	assert_int_equal(g.payload_len, 0);
	assert_true(g.from_debugger);
}

static void test_proto_kdnet_codec__encode_errors(void **state)
{
	struct fixture *fx = *state;
	struct kd_net_frame f = { 0 };
	uint8_t out[64];
	size_t len = 99;

	f.channel = KD_NET_CHANNEL_CONTROL;
	f.payload = out;
	f.payload_len = 11;
	assert_int_equal(kd_net_encode(&fx->codec, &f, out, 53, &len),
			 KD_EBUFS);
	assert_int_equal(len, 0);
	f.seq = KD_NET_SEQ_MAX + 1;
	assert_int_equal(kd_net_encode(&fx->codec, &f, out, 64, &len),
			 KD_EINVAL);
	f.seq = 1;
	f.channel = 2;
	assert_int_equal(kd_net_encode(&fx->codec, &f, out, 64, &len),
			 KD_EINVAL);
	f.channel = 1;
	f.payload_len = KD_NET_MAX_PAYLOAD + 1;
	assert_int_equal(kd_net_encode(&fx->codec, &f, out, 64, &len),
			 KD_EINVAL);
}

static void test_proto_kdnet_codec__offer(void **state)
{
	struct kd_net_offer o = { 0 }, p;
	uint8_t buf[400];
	size_t len;

	(void)state;
	for (int i = 0; i < 32; i++)
		o.nonce[i] = (uint8_t)(0xa0 + i);
	o.target.ip[10] = o.target.ip[11] = 0xff;
	o.target.ip[12] = 192;
	o.target.ip[13] = 168;
	o.target.ip[14] = 2;
	o.target.ip[15] = 2;
	o.target.port = 50000;
	o.debugger.ip[15] = 1;
	o.debugger.port = 50001;
	assert_int_equal(kd_net_offer_build(&o, buf, 343, &len), KD_EBUFS);
	assert_int_equal(kd_net_offer_build(&o, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 344);
	assert_int_equal(len + 8, KD_NET_OFFER_BODY_SIZE);
	assert_int_equal(buf[0], 1);
	assert_int_equal(buf[1], 1);
	assert_int_equal(buf[2], 0xa0);
	/* Body offset 42 = payload 34: target IP; 58 = payload 50: BE port. */
	assert_int_equal(buf[34 + 12], 192);
	assert_int_equal(buf[50], 0xc3);
	assert_int_equal(buf[51], 0x50);
	assert_int_equal(buf[68], 0xc3);
	assert_int_equal(buf[69], 0x51);
	for (size_t i = 88; i < 344; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(kd_net_control_type(buf, len), KD_NET_CTRL_OFFER);
	assert_int_equal(kd_net_offer_parse(buf, len, &p), 0);
	assert_true(p.have_addrs);
	assert_memory_equal(p.nonce, o.nonce, 32);
	assert_memory_equal(p.target.ip, o.target.ip, 16);
	assert_int_equal(p.target.port, 50000);
	assert_int_equal(p.debugger.port, 50001);
	assert_int_equal(p.last.port, 0);
	/* Short forms: nonce only; anything shorter is refused. */
	assert_int_equal(kd_net_offer_parse(buf, 34, &p), 0);
	assert_false(p.have_addrs);
	assert_int_equal(kd_net_offer_parse(buf, 33, &p), KD_EPROTO);
	buf[1] = 2;
	assert_int_equal(kd_net_offer_parse(buf, len, &p), KD_EPROTO);
	assert_int_equal(kd_net_control_type(buf, 1), KD_EPROTO);
}

static void test_proto_kdnet_codec__response_and_data_key(void **state)
{
	struct fixture *fx = *state;
	struct kd_net_response r = { 0 }, q;
	uint8_t buf[400], dk[32];
	size_t len;
	/* SHA-256(key 1.2.3.4 ‖ this payload), computed with Python. */
	static const uint8_t want_dk[32] = {
		0x67, 0x68, 0xd3, 0x66, 0x69, 0x17, 0xb9, 0xf4,
		0x8a, 0x63, 0x60, 0xe2, 0xb3, 0xd2, 0x72, 0x27,
		0xc9, 0xc9, 0x4c, 0x25, 0x7c, 0x3b, 0xa4, 0x5b,
		0xa9, 0x2e, 0x36, 0x4c, 0x70, 0xea, 0xb3, 0xb7,
	};

	for (int i = 0; i < 32; i++) {
		r.target_nonce[i] = (uint8_t)i;
		r.debugger_nonce[i] = (uint8_t)(0xff - i);
	}
	assert_int_equal(kd_net_response_build(&r, buf, 321, &len), KD_EBUFS);
	assert_int_equal(kd_net_response_build(&r, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, KD_NET_RESPONSE_PAYLOAD_SIZE);
	assert_int_equal(kd_net_encoded_size(len) - 22,
			 KD_NET_RESPONSE_BODY_SIZE);
	assert_int_equal(buf[0], 1);
	assert_int_equal(buf[1], 2);
	assert_int_equal(buf[2 + 31], 31);
	assert_int_equal(buf[34], 0xff);
	for (size_t i = 66; i < 322; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(kd_net_response_parse(buf, len, &q), 0);
	assert_memory_equal(q.target_nonce, r.target_nonce, 32);
	assert_memory_equal(q.debugger_nonce, r.debugger_nonce, 32);
	assert_int_equal(kd_net_response_parse(buf, 321, &q), KD_EPROTO);
	assert_int_equal(
		kd_net_derive_data_key(&fx->crypto, fx->ck, buf, len, dk), 0);
	assert_memory_equal(dk, want_dk, 32);
	assert_int_equal(
		kd_net_derive_data_key(&fx->crypto, fx->ck, buf, 323, dk),
		KD_EPROTO);
	buf[1] = 1;
	assert_int_equal(kd_net_response_parse(buf, len, &q), KD_EPROTO);
}

static void test_proto_kdnet_codec__ping(void **state)
{
	uint8_t p[12];
	uint32_t ip = 0;

	(void)state;
	kd_net_ping_build(0xc0a80201, p); /* 192.168.2.1 */
	assert_memory_equal(p, "\0\0\0\0\0\0\0\0\x01\x02\xa8\xc0", 12);
	assert_int_equal(kd_net_ping_parse(p, 12, &ip), 0);
	assert_int_equal(ip, 0xc0a80201);
	assert_int_equal(kd_net_ping_parse(p, 11, &ip), KD_EPROTO);
	p[3] = 1;
	assert_int_equal(kd_net_ping_parse(p, 12, &ip), KD_EPROTO);
	assert_true(kd_net_is_breakin((const uint8_t *)"b", 1));
	assert_false(kd_net_is_breakin((const uint8_t *)"bb", 2));
	assert_false(kd_net_is_breakin((const uint8_t *)"c", 1));
}

/* Session codec: OFFER -> RESPONSE -> both sides share the data key. */
static void test_proto_kdnet_codec__session_handshake(void **state)
{
	struct fixture *fx = *state;
	struct kd_net_session *host = NULL;
	struct kd_net_offer o = { 0 };
	struct kd_net_frame f = { 0 }, g;
	uint8_t payload[400], dg[512], resp[512], plain[512], hk[32], tk[32];
	size_t plen, len, rlen;

	assert_int_equal(kd_net_session_new(&host, "1.2.3.5.6"), KD_EINVAL);
	assert_null(host);
	assert_int_equal(kd_net_session_new(&host, "1.2.3.4"), 0);
	assert_false(kd_net_session_has_data_key(host));
	/* The target (the fixture codec) offers. */
	memset(o.nonce, 0x42, 32);
	assert_int_equal(
		kd_net_offer_build(&o, payload, sizeof(payload), &plen), 0);
	f.version = 4;
	f.channel = KD_NET_CHANNEL_CONTROL;
	f.seq = 9;
	f.payload = payload;
	f.payload_len = plen;
	assert_int_equal(kd_net_encode(&fx->codec, &f, dg, sizeof(dg), &len),
			 0);
	assert_int_equal(len, 6 + KD_NET_OFFER_BODY_SIZE + 16);
	assert_int_equal(
		kd_net_session_decode(host, dg, len, plain, sizeof(plain), &g),
		0);
	assert_int_equal(kd_net_session_respond(host, &g, resp, 100, &rlen),
			 KD_EBUFS);
	assert_int_equal(
		kd_net_session_respond(host, &g, resp, sizeof(resp), &rlen), 0);
	assert_true(kd_net_session_has_data_key(host));
	assert_int_equal(rlen, 6 + KD_NET_RESPONSE_BODY_SIZE + 16);
	/* The target decodes the RESPONSE and derives the same key. */
	assert_int_equal(
		kd_net_decode(&fx->codec, resp, rlen, plain, sizeof(plain), &g),
		0);
	assert_int_equal(g.seq, 9);
	assert_true(g.from_debugger);
	assert_int_equal(g.pad, 6);
	assert_int_equal(g.version, 4);
	assert_int_equal(kd_net_control_type(g.payload, g.payload_len),
			 KD_NET_CTRL_RESPONSE);
	assert_memory_equal(g.payload + 2, o.nonce, 32);
	assert_int_equal(kd_net_derive_data_key(&fx->crypto, fx->ck, g.payload,
						g.payload_len, tk),
			 0);
	assert_int_equal(kd_net_session_data_key(host, hk), 0);
	assert_memory_equal(hk, tk, 32);
	assert_int_equal(kd_net_codec_set_data_key(&fx->codec, tk), 0);
	/* Data from the host decodes at the target. */
	f.channel = KD_NET_CHANNEL_DATA;
	f.from_debugger = true;
	f.seq = 1;
	f.payload = (const uint8_t *)"b";
	f.payload_len = 1;
	assert_int_equal(kd_net_session_encode(host, &f, dg, sizeof(dg), &len),
			 0);
	assert_int_equal(
		kd_net_decode(&fx->codec, dg, len, plain, sizeof(plain), &g),
		0);
	assert_true(kd_net_is_breakin(g.payload, g.payload_len));
	/* Responding to a RESPONSE is refused. */
	assert_int_equal(
		kd_net_decode(&fx->codec, resp, rlen, plain, sizeof(plain), &g),
		0);
	assert_int_equal(kd_net_session_respond(host, &g, dg, sizeof(dg), &len),
			 KD_EPROTO);
	/* Session decode failures carry a message. */
	dg[10] ^= 1;
	assert_int_equal(
		kd_net_session_decode(host, dg, 38, plain, sizeof(plain), &g),
		KD_EAUTH);
	assert_string_equal(kd_error_last()->message,
			    "KDNET: tag mismatch (wrong key?)");
	kd_net_session_free(host);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_proto_kdnet_codec__known_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_proto_kdnet_codec__round_trips, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_proto_kdnet_codec__channel_keys_differ, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_proto_kdnet_codec__tamper,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_proto_kdnet_codec__malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proto_kdnet_codec__bad_pad,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_proto_kdnet_codec__encode_errors, setup, teardown),
		cmocka_unit_test(test_proto_kdnet_codec__offer),
		cmocka_unit_test_setup_teardown(
			test_proto_kdnet_codec__response_and_data_key, setup,
			teardown),
		cmocka_unit_test(test_proto_kdnet_codec__ping),
		cmocka_unit_test_setup_teardown(
			test_proto_kdnet_codec__session_handshake, setup,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
