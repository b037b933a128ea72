/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the KDNET codec.  The first input byte picks the entry
 * point: datagram decode with fixed keys, a "sealed" body (the target makes
 * the tag itself so the inner-header checks are reached), OFFER, RESPONSE,
 * ping and key-string parsers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kd/net_crypto.h>
#include <kd/proto/kdnet.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct kd_net_crypto crypto;
static struct kd_net_codec codec;
static uint8_t control_key[KD_NET_KEY_SIZE];

/* Fixed keys: control key 1.2.3.4, data key of the seeds' handshake. */
static void init_once(void)
{
	static bool done;
	static const uint8_t data_key[KD_NET_KEY_SIZE] = {
		0x64, 0x61, 0x74, 0x61, 0x20, 0x6b, 0x65, 0x79,
	};

	if (done)
		return;
	if (kd_net_key_parse("1.2.3.4", 7, control_key, NULL) != 0 ||
	    kd_net_crypto_new(&crypto) != 0 ||
	    kd_net_codec_init(&codec, &crypto, control_key) != 0 ||
	    kd_net_codec_set_data_key(&codec, data_key) != 0)
		abort();
	done = true;
}

/* Decode; on success re-encode the frame and decode it again. */
static void decode_and_recode(const uint8_t *d, size_t n)
{
	static uint8_t plain[KD_NET_MAX_DATAGRAM];
	static uint8_t again[KD_NET_MAX_DATAGRAM];
	static uint8_t plain2[KD_NET_MAX_DATAGRAM];
	struct kd_net_frame f, g;
	size_t len;

	if (kd_net_decode(&codec, d, n, plain, sizeof(plain), &f) != 0) {
		if (!f.why)
			abort();
		return;
	}
	if (f.payload_len > n || f.seq > KD_NET_SEQ_MAX)
		abort();
	if (kd_net_encode(&codec, &f, again, sizeof(again), &len) != 0)
		abort();
	if (len > n)
		abort(); /* minimal padding is never longer */
	if (kd_net_decode(&codec, again, len, plain2, sizeof(plain2), &g) != 0)
		abort();
	if (g.payload_len != f.payload_len || g.seq != f.seq ||
	    g.channel != f.channel || g.from_debugger != f.from_debugger ||
	    memcmp(g.payload, f.payload, f.payload_len) != 0)
		abort();
	if (f.channel == KD_NET_CHANNEL_CONTROL) {
		struct kd_net_offer o;
		struct kd_net_response r;

		(void)kd_net_offer_parse(f.payload, f.payload_len, &o);
		(void)kd_net_response_parse(f.payload, f.payload_len, &r);
	}
}

/*
 * Input: 6-byte outer header then a body; the body is padded to 16 and
 * sealed with a valid tag, so decoding reaches the inner-header checks.
 */
static void seal_and_decode(const uint8_t *d, size_t n)
{
	static uint8_t dg[KD_NET_MAX_DATAGRAM];
	uint8_t mac[KD_NET_HASH_SIZE];
	size_t body;

	if (n < KD_NET_HEADER_SIZE + 1)
		return;
	body = (n - KD_NET_HEADER_SIZE + 15) & ~(size_t)15;
	if (body > KD_NET_MAX_BODY)
		return;
	memset(dg, 0, sizeof(dg));
	memcpy(dg, d, n);
	memcpy(dg, KD_NET_MAGIC, KD_NET_MAGIC_SIZE);
	dg[5] &= 1;
	if (crypto.ops->hmac(crypto.ctx, dg, KD_NET_HEADER_SIZE,
			     dg + KD_NET_HEADER_SIZE, body, mac) != 0 ||
	    crypto.ops->encrypt(crypto.ctx,
				dg[5] ? KD_NET_SLOT_CONTROL : KD_NET_SLOT_DATA,
				mac, dg + KD_NET_HEADER_SIZE,
				dg + KD_NET_HEADER_SIZE, body) != 0)
		abort();
	memcpy(dg + KD_NET_HEADER_SIZE + body, mac, KD_NET_TAG_SIZE);
	decode_and_recode(dg, KD_NET_HEADER_SIZE + body + KD_NET_TAG_SIZE);
}

static void offer_round_trip(const uint8_t *d, size_t n)
{
	struct kd_net_offer o, p;
	uint8_t buf[KD_NET_OFFER_PAYLOAD_SIZE];
	size_t len;

	if (kd_net_offer_parse(d, n, &o) != 0)
		return;
	if (kd_net_offer_build(&o, buf, sizeof(buf), &len) != 0 ||
	    kd_net_offer_parse(buf, len, &p) != 0 ||
	    memcmp(o.nonce, p.nonce, sizeof(o.nonce)) != 0 ||
	    (o.have_addrs &&
	     (o.target.port != p.target.port || o.last.port != p.last.port)))
		abort();
}

static void response_round_trip(const uint8_t *d, size_t n)
{
	struct kd_net_response r, q;
	uint8_t buf[KD_NET_RESPONSE_PAYLOAD_SIZE], dk[KD_NET_KEY_SIZE];
	size_t len;

	if (kd_net_response_parse(d, n, &r) != 0)
		return;
	if (kd_net_derive_data_key(&crypto, control_key, d, n, dk) != 0 ||
	    kd_net_response_build(&r, buf, sizeof(buf), &len) != 0 ||
	    kd_net_response_parse(buf, len, &q) != 0 ||
	    q.format != (r.format ? r.format : KD_NET_CTRL_FORMAT) ||
	    memcmp(q.target_nonce, r.target_nonce, KD_NET_NONCE_SIZE) != 0 ||
	    memcmp(q.debugger_nonce, r.debugger_nonce, KD_NET_NONCE_SIZE) != 0)
		abort();
}

static void key_string(const uint8_t *d, size_t n)
{
	struct kd_net_key_error e;
	uint8_t key[KD_NET_KEY_SIZE];
	int rc = kd_net_key_parse((const char *)d, n, key, &e);

	if ((rc == 0) != (e.problem == KD_NET_KEY_OK) || !e.message ||
	    (rc != 0 && e.pos > n))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t ip;

	init_once();
	if (size < 1)
		return 0;
	switch (data[0] % 6) {
	case 0:
		decode_and_recode(data + 1, size - 1);
		break;
	case 1:
		seal_and_decode(data + 1, size - 1);
		break;
	case 2:
		offer_round_trip(data + 1, size - 1);
		break;
	case 3:
		response_round_trip(data + 1, size - 1);
		break;
	case 4:
		key_string(data + 1, size - 1);
		break;
	default:
		(void)kd_net_ping_parse(data + 1, size - 1, &ip);
		(void)kd_net_is_breakin(data + 1, size - 1);
		(void)kd_net_control_type(data + 1, size - 1);
		break;
	}
	return 0;
}
