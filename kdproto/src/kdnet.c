/* SPDX-License-Identifier: MIT */
/*
 * KDNET codec: key strings, the MDBG envelope, handshake messages and the
 * data-channel specials (kd-protocol.md §3).  Pure: all cryptography goes
 * through the caller's struct kd_net_crypto.
 */
#include <kd/proto/kdnet.h>

#include <string.h>

/* --- Key strings --- */

static int key_fail(struct kd_net_key_error *err, uint8_t *key,
		    enum kd_net_key_problem problem, size_t pos,
		    unsigned int component, char ch)
{
	static const char *const messages[] = {
		[KD_NET_KEY_OK] = "ok",
		[KD_NET_KEY_EMPTY] = "empty key component",
		[KD_NET_KEY_BAD_DIGIT] =
			"invalid character in key component (base 36: 0-9, a-z)",
		[KD_NET_KEY_TOO_LONG] =
			"key component longer than 13 base-36 digits",
		[KD_NET_KEY_OVERFLOW] = "key component does not fit in 64 bits",
		[KD_NET_KEY_COMPONENTS_BAD] =
			"key must have exactly four components w.x.y.z",
	};

	memset(key, 0, KD_NET_KEY_SIZE);
	if (err) {
		err->problem = problem;
		err->message = messages[problem];
		err->pos = pos;
		err->component = component;
		err->ch = ch;
	}
	return problem == KD_NET_KEY_OVERFLOW ? KD_EOVERFLOW : KD_EINVAL;
}

static int base36_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return -1;
}

int kd_net_key_parse(const char *s, size_t len, uint8_t key[KD_NET_KEY_SIZE],
		     struct kd_net_key_error *err)
{
	unsigned int comp = 0;
	size_t i = 0;

	memset(key, 0, KD_NET_KEY_SIZE);
	if (err) {
		err->problem = KD_NET_KEY_OK;
		err->message = "ok";
		err->pos = 0;
		err->component = 0;
		err->ch = 0;
	}
	if (!s)
		return key_fail(err, key, KD_NET_KEY_EMPTY, 0, 0, 0);
	for (;;) {
		size_t start = i;
		uint64_t v = 0;

		if (comp >= KD_NET_KEY_COMPONENTS)
			return key_fail(err, key, KD_NET_KEY_COMPONENTS_BAD, i,
					comp, 0);
		while (i < len && s[i] != '.') {
			int d = base36_digit(s[i]);

			if (d < 0)
				return key_fail(err, key, KD_NET_KEY_BAD_DIGIT,
						i, comp, s[i]);
			if (i - start >= KD_NET_KEY_MAX_DIGITS)
				return key_fail(err, key, KD_NET_KEY_TOO_LONG,
						i, comp, 0);
			if (v > (UINT64_MAX - (uint64_t)d) / 36)
				return key_fail(err, key, KD_NET_KEY_OVERFLOW,
						i, comp, 0);
			v = v * 36 + (uint64_t)d;
			i++;
		}
		if (i == start)
			return key_fail(err, key, KD_NET_KEY_EMPTY, i, comp, 0);
		kd_put_le64(key + 8 * comp, v);
		comp++;
		if (i == len)
			break;
		i++; /* the '.' */
	}
	if (comp != KD_NET_KEY_COMPONENTS)
		return key_fail(err, key, KD_NET_KEY_COMPONENTS_BAD, len, comp,
				0);
	return 0;
}

void kd_net_hmac_key(const uint8_t control_key[KD_NET_KEY_SIZE],
		     uint8_t hmac_key[KD_NET_KEY_SIZE])
{
	for (size_t i = 0; i < KD_NET_KEY_SIZE; i++)
		hmac_key[i] = (uint8_t)~control_key[i];
}

void kd_net_wipe(void *p, size_t len)
{
	volatile uint8_t *v = p;

	while (len--)
		*v++ = 0;
}

/* --- Envelope --- */

int kd_net_codec_init(struct kd_net_codec *c,
		      const struct kd_net_crypto *crypto,
		      const uint8_t control_key[KD_NET_KEY_SIZE])
{
	uint8_t hk[KD_NET_KEY_SIZE];
	int rc;

	memset(c, 0, sizeof(*c));
	if (!crypto || !crypto->ops)
		return KD_EINVAL;
	c->crypto = *crypto;
	rc = crypto->ops->set_key(crypto->ctx, KD_NET_SLOT_CONTROL,
				  control_key);
	if (rc != 0)
		return rc;
	kd_net_hmac_key(control_key, hk);
	rc = crypto->ops->set_key(crypto->ctx, KD_NET_SLOT_MAC, hk);
	kd_net_wipe(hk, sizeof(hk));
	if (rc != 0)
		return rc;
	c->have_control = true;
	return 0;
}

int kd_net_codec_set_data_key(struct kd_net_codec *c,
			      const uint8_t data_key[KD_NET_KEY_SIZE])
{
	int rc;

	if (!c->crypto.ops)
		return KD_EINVAL;
	rc = c->crypto.ops->set_key(c->crypto.ctx, KD_NET_SLOT_DATA, data_key);
	if (rc != 0)
		return rc;
	c->have_data = true;
	return 0;
}

/* Slot of @p channel, or -1 when its key is not installed. */
static int channel_slot(const struct kd_net_codec *c, uint8_t channel)
{
	if (channel == KD_NET_CHANNEL_CONTROL)
		return c->have_control ? KD_NET_SLOT_CONTROL : -1;
	return c->have_data ? KD_NET_SLOT_DATA : -1;
}

/* Constant-time comparison of two tags. */
static bool tag_equal(const uint8_t *a, const uint8_t *b)
{
	uint8_t diff = 0;

	for (size_t i = 0; i < KD_NET_TAG_SIZE; i++)
		diff |= (uint8_t)(a[i] ^ b[i]);
	return diff == 0;
}

static int decode_fail(struct kd_net_frame *f, int code, const char *why)
{
	f->why = why;
	return code;
}

int kd_net_decode(const struct kd_net_codec *c, const uint8_t *dgram,
		  size_t len, uint8_t *plain, size_t cap,
		  struct kd_net_frame *f)
{
	const uint8_t *tag;
	uint8_t mac[KD_NET_HASH_SIZE];
	size_t body;
	int slot;
	int rc;

	memset(f, 0, sizeof(*f));
	if (len < KD_NET_MIN_DATAGRAM)
		return decode_fail(f, KD_EPROTO, "datagram too short");
	if (memcmp(dgram, KD_NET_MAGIC, KD_NET_MAGIC_SIZE) != 0)
		return decode_fail(f, KD_EPROTO, "bad magic (not MDBG)");
	f->version = dgram[4];
	f->channel = dgram[5];
	if (f->version < KD_NET_VERSION_MIN || f->version > KD_NET_VERSION_MAX)
		return decode_fail(f, KD_ENOTSUP, "unsupported KDNET version");
	if (f->channel > KD_NET_CHANNEL_CONTROL)
		return decode_fail(f, KD_EPROTO, "unknown channel");
	body = len - KD_NET_HEADER_SIZE - KD_NET_TAG_SIZE;
	if (body % KD_NET_BLOCK_SIZE != 0)
		return decode_fail(f, KD_EPROTO,
				   "body length not a multiple of 16");
	if (body > KD_NET_MAX_BODY)
		return decode_fail(f, KD_EPROTO, "datagram too long");
	slot = channel_slot(c, f->channel);
	if (slot < 0 && f->channel == KD_NET_CHANNEL_DATA)
		return decode_fail(f, KD_EAUTH,
				   "no data key yet (handshake not seen)");
	if (slot < 0)
		return decode_fail(f, KD_EAUTH, "no control key");
	if (cap < body)
		return decode_fail(f, KD_EBUFS, "plaintext buffer too small");
	tag = dgram + KD_NET_HEADER_SIZE + body;

	rc = c->crypto.ops->decrypt(c->crypto.ctx, (enum kd_net_slot)slot, tag,
				    dgram + KD_NET_HEADER_SIZE, plain, body);
	if (rc != 0)
		return decode_fail(f, rc, "decryption failed");
	rc = c->crypto.ops->hmac(c->crypto.ctx, dgram, KD_NET_HEADER_SIZE,
				 plain, body, mac);
	if (rc != 0) {
		kd_net_wipe(plain, body);
		return decode_fail(f, rc, "HMAC failed");
	}
	if (!tag_equal(mac, tag)) {
		kd_net_wipe(plain, body);
		return decode_fail(f, KD_EAUTH, "tag mismatch (wrong key?)");
	}

	f->seq = 0;
	for (size_t i = 0; i < 7; i++)
		f->seq = (f->seq << 8) | plain[i];
	f->from_debugger = (plain[7] & KD_NET_DIR_DEBUGGER) != 0;
	f->pad = plain[7] & KD_NET_PAD_MASK;
	if ((size_t)f->pad > body - KD_NET_INNER_SIZE)
		return decode_fail(f, KD_EPROTO, "pad longer than the body");
	f->payload = plain + KD_NET_INNER_SIZE;
	f->payload_len = body - KD_NET_INNER_SIZE - f->pad;
	return 0;
}

size_t kd_net_encoded_size(size_t payload_len)
{
	size_t body = KD_NET_INNER_SIZE + payload_len;

	body = (body + KD_NET_BLOCK_SIZE - 1) &
	       ~(size_t)(KD_NET_BLOCK_SIZE - 1);
	return KD_NET_HEADER_SIZE + body + KD_NET_TAG_SIZE;
}

int kd_net_encode(const struct kd_net_codec *c, const struct kd_net_frame *f,
		  uint8_t *out, size_t cap, size_t *out_len)
{
	uint8_t mac[KD_NET_HASH_SIZE];
	uint8_t *plain = out + KD_NET_HEADER_SIZE;
	size_t total, body, pad;
	uint64_t seq;
	int slot;
	int rc;

	*out_len = 0;
	if (f->channel > KD_NET_CHANNEL_CONTROL || f->seq > KD_NET_SEQ_MAX ||
	    f->payload_len > KD_NET_MAX_PAYLOAD ||
	    (f->payload_len > 0 && !f->payload))
		return KD_EINVAL;
	slot = channel_slot(c, f->channel);
	if (slot < 0)
		return KD_EAUTH;
	total = kd_net_encoded_size(f->payload_len);
	if (cap < total)
		return KD_EBUFS;
	body = total - KD_NET_HEADER_SIZE - KD_NET_TAG_SIZE;
	pad = body - KD_NET_INNER_SIZE - f->payload_len;

	/* Payload first: it may already sit inside @p out. */
	if (f->payload_len > 0)
		memmove(plain + KD_NET_INNER_SIZE, f->payload, f->payload_len);
	memset(plain + KD_NET_INNER_SIZE + f->payload_len, 0, pad);
	memcpy(out, KD_NET_MAGIC, KD_NET_MAGIC_SIZE);
	out[4] = f->version;
	out[5] = f->channel;
	seq = f->seq;
	for (int i = 6; i >= 0; i--) {
		plain[i] = (uint8_t)seq;
		seq >>= 8;
	}
	plain[7] = (uint8_t)((f->from_debugger ? KD_NET_DIR_DEBUGGER : 0) |
			     pad);

	rc = c->crypto.ops->hmac(c->crypto.ctx, out, KD_NET_HEADER_SIZE, plain,
				 body, mac);
	if (rc != 0)
		return rc;
	memcpy(plain + body, mac, KD_NET_TAG_SIZE);
	rc = c->crypto.ops->encrypt(c->crypto.ctx, (enum kd_net_slot)slot,
				    plain + body, plain, plain, body);
	if (rc != 0) {
		kd_net_wipe(out, total);
		return rc;
	}
	*out_len = total;
	return 0;
}

/* --- Handshake --- */

int kd_net_control_type(const uint8_t *payload, size_t len)
{
	if (len < 2)
		return KD_EPROTO;
	return payload[1];
}

static void get_addr(const uint8_t *p, struct kd_net_addr *a)
{
	memcpy(a->ip, p, sizeof(a->ip));
	a->port = kd_get_be16(p + 16);
}

static void put_addr(uint8_t *p, const struct kd_net_addr *a)
{
	memcpy(p, a->ip, sizeof(a->ip));
	kd_put_be16(p + 16, a->port);
}

/*
 * OFFER payload (body offsets minus 8): 0 format, 1 type, 2 nonce[32],
 * 34 target addr+port, 52 debugger addr+port, 70 third addr+port, 88 zeros.
 */
int kd_net_offer_parse(const uint8_t *payload, size_t len,
		       struct kd_net_offer *o)
{
	memset(o, 0, sizeof(*o));
	if (len < KD_NET_OFFER_MIN_PAYLOAD || payload[1] != KD_NET_CTRL_OFFER)
		return KD_EPROTO;
	o->format = payload[0];
	memcpy(o->nonce, payload + 2, KD_NET_NONCE_SIZE);
	if (len >= KD_NET_OFFER_ADDR_PAYLOAD) {
		o->have_addrs = true;
		get_addr(payload + 34, &o->target);
		get_addr(payload + 52, &o->debugger);
		get_addr(payload + 70, &o->last);
	}
	return 0;
}

int kd_net_offer_build(const struct kd_net_offer *o, uint8_t *out, size_t cap,
		       size_t *out_len)
{
	*out_len = 0;
	if (cap < KD_NET_OFFER_PAYLOAD_SIZE)
		return KD_EBUFS;
	memset(out, 0, KD_NET_OFFER_PAYLOAD_SIZE);
	out[0] = o->format ? o->format : KD_NET_CTRL_FORMAT;
	out[1] = KD_NET_CTRL_OFFER;
	memcpy(out + 2, o->nonce, KD_NET_NONCE_SIZE);
	put_addr(out + 34, &o->target);
	put_addr(out + 52, &o->debugger);
	put_addr(out + 70, &o->last);
	*out_len = KD_NET_OFFER_PAYLOAD_SIZE;
	return 0;
}

/* RESPONSE payload: 0 format, 1 type, 2 target nonce, 34 own nonce, 66 0s. */
int kd_net_response_parse(const uint8_t *payload, size_t len,
			  struct kd_net_response *r)
{
	memset(r, 0, sizeof(*r));
	if (len != KD_NET_RESPONSE_PAYLOAD_SIZE ||
	    payload[1] != KD_NET_CTRL_RESPONSE)
		return KD_EPROTO;
	r->format = payload[0];
	memcpy(r->target_nonce, payload + 2, KD_NET_NONCE_SIZE);
	memcpy(r->debugger_nonce, payload + 34, KD_NET_NONCE_SIZE);
	return 0;
}

int kd_net_response_build(const struct kd_net_response *r, uint8_t *out,
			  size_t cap, size_t *out_len)
{
	*out_len = 0;
	if (cap < KD_NET_RESPONSE_PAYLOAD_SIZE)
		return KD_EBUFS;
	memset(out, 0, KD_NET_RESPONSE_PAYLOAD_SIZE);
	out[0] = r->format ? r->format : KD_NET_CTRL_FORMAT;
	out[1] = KD_NET_CTRL_RESPONSE;
	memcpy(out + 2, r->target_nonce, KD_NET_NONCE_SIZE);
	memcpy(out + 34, r->debugger_nonce, KD_NET_NONCE_SIZE);
	*out_len = KD_NET_RESPONSE_PAYLOAD_SIZE;
	return 0;
}

int kd_net_derive_data_key(const struct kd_net_crypto *crypto,
			   const uint8_t control_key[KD_NET_KEY_SIZE],
			   const uint8_t *response_payload, size_t len,
			   uint8_t data_key[KD_NET_KEY_SIZE])
{
	if (len != KD_NET_RESPONSE_PAYLOAD_SIZE)
		return KD_EPROTO;
	return crypto->ops->sha256(crypto->ctx, control_key, KD_NET_KEY_SIZE,
				   response_payload, len, data_key);
}

/* --- Data-channel specials --- */

void kd_net_ping_build(uint32_t ipv4, uint8_t out[KD_NET_PING_SIZE])
{
	memset(out, 0, 8);
	kd_put_le32(out + 8, ipv4);
}

int kd_net_ping_parse(const uint8_t *payload, size_t len, uint32_t *ipv4)
{
	static const uint8_t zero[8];

	if (len != KD_NET_PING_SIZE || memcmp(payload, zero, 8) != 0)
		return KD_EPROTO;
	*ipv4 = kd_get_le32(payload + 8);
	return 0;
}

bool kd_net_is_breakin(const uint8_t *payload, size_t len)
{
	return len == 1 && payload[0] == KD_NET_BREAKIN_BYTE;
}
