/* SPDX-License-Identifier: MIT */
/*
 * KDNET cryptography with OpenSSL 3 libcrypto (EVP), and the session codec
 * built on it.  The only file of the project that includes OpenSSL headers.
 */
#include <kd/net_crypto.h>

#include <kd/alloc.h>
#include <kd/error.h>

#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

/* --- OpenSSL implementation of struct kd_net_crypto --- */

/*
 * One prepared cipher context per AES slot and direction: the key schedule
 * is computed once in set_key, and each datagram only sets a new IV.
 */
struct ossl_crypto {
	EVP_CIPHER *aes;
	EVP_MD *sha256;
	EVP_MAC *hmac;
	EVP_CIPHER_CTX *enc[2];
	EVP_CIPHER_CTX *dec[2];
	bool keyed[2];
	EVP_MAC_CTX *mac;
	bool mac_keyed;
};

static int ossl_fail(const char *what)
{
	char buf[160];
	unsigned long e = ERR_get_error();

	buf[0] = '\0';
	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return kd_error_set(KD_ERROR, KD_ERRCLASS_CRYPTO,
			    "OpenSSL %s failed%s%s", what, buf[0] ? ": " : "",
			    buf);
}

static int ossl_set_key(void *ctx, enum kd_net_slot slot, const uint8_t *key)
{
	struct ossl_crypto *oc = ctx;

	if (slot == KD_NET_SLOT_MAC) {
		OSSL_PARAM params[2];

		params[0] = OSSL_PARAM_construct_utf8_string(
			OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
		params[1] = OSSL_PARAM_construct_end();
		if (!EVP_MAC_init(oc->mac, key, KD_NET_KEY_SIZE, params))
			return ossl_fail("HMAC key set-up");
		oc->mac_keyed = true;
		return 0;
	}
	if (slot != KD_NET_SLOT_CONTROL && slot != KD_NET_SLOT_DATA)
		return KD_EINVAL;
	if (!EVP_EncryptInit_ex2(oc->enc[slot], oc->aes, key, NULL, NULL) ||
	    !EVP_DecryptInit_ex2(oc->dec[slot], oc->aes, key, NULL, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(oc->enc[slot], 0) ||
	    !EVP_CIPHER_CTX_set_padding(oc->dec[slot], 0))
		return ossl_fail("AES key set-up");
	oc->keyed[slot] = true;
	return 0;
}

static int ossl_cbc(struct ossl_crypto *oc, enum kd_net_slot slot, bool enc,
		    const uint8_t *iv, const uint8_t *in, uint8_t *out,
		    size_t len)
{
	EVP_CIPHER_CTX *cx;
	int outl = 0, finl = 0;

	if ((slot != KD_NET_SLOT_CONTROL && slot != KD_NET_SLOT_DATA) ||
	    !oc->keyed[slot] || len % KD_NET_BLOCK_SIZE != 0 || len > INT_MAX)
		return KD_EINVAL;
	cx = enc ? oc->enc[slot] : oc->dec[slot];
	/* NULL cipher and key: keep the key schedule, change only the IV. */
	if (!EVP_CipherInit_ex2(cx, NULL, NULL, iv, enc ? 1 : 0, NULL) ||
	    !EVP_CipherUpdate(cx, out, &outl, in, (int)len) ||
	    !EVP_CipherFinal_ex(cx, out + outl, &finl) ||
	    (size_t)outl + (size_t)finl != len)
		return ossl_fail(enc ? "AES-CBC encryption" :
				       "AES-CBC decryption");
	return 0;
}

static int ossl_encrypt(void *ctx, enum kd_net_slot slot, const uint8_t *iv,
			const uint8_t *in, uint8_t *out, size_t len)
{
	return ossl_cbc(ctx, slot, true, iv, in, out, len);
}

static int ossl_decrypt(void *ctx, enum kd_net_slot slot, const uint8_t *iv,
			const uint8_t *in, uint8_t *out, size_t len)
{
	return ossl_cbc(ctx, slot, false, iv, in, out, len);
}

static int ossl_hmac(void *ctx, const uint8_t *a, size_t alen, const uint8_t *b,
		     size_t blen, uint8_t *out)
{
	struct ossl_crypto *oc = ctx;
	size_t outl = 0;

	if (!oc->mac_keyed)
		return KD_EINVAL;
	/* A NULL key re-initialises with the key already installed. */
	if (!EVP_MAC_init(oc->mac, NULL, 0, NULL) ||
	    !EVP_MAC_update(oc->mac, a, alen) ||
	    !EVP_MAC_update(oc->mac, b, blen) ||
	    !EVP_MAC_final(oc->mac, out, &outl, KD_NET_HASH_SIZE) ||
	    outl != KD_NET_HASH_SIZE)
		return ossl_fail("HMAC-SHA256");
	return 0;
}

static int ossl_sha256(void *ctx, const uint8_t *a, size_t alen,
		       const uint8_t *b, size_t blen, uint8_t *out)
{
	struct ossl_crypto *oc = ctx;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int outl = 0;
	int ok;

	if (!md)
		return kd_error_set(KD_ENOMEM, KD_ERRCLASS_CRYPTO,
				    "out of memory for SHA-256");
	ok = EVP_DigestInit_ex2(md, oc->sha256, NULL) &&
	     EVP_DigestUpdate(md, a, alen) && EVP_DigestUpdate(md, b, blen) &&
	     EVP_DigestFinal_ex(md, out, &outl) && outl == KD_NET_HASH_SIZE;
	EVP_MD_CTX_free(md);
	return ok ? 0 : ossl_fail("SHA-256");
}

static const struct kd_net_crypto_ops ossl_ops = {
	.set_key = ossl_set_key,
	.encrypt = ossl_encrypt,
	.decrypt = ossl_decrypt,
	.hmac = ossl_hmac,
	.sha256 = ossl_sha256,
};

static void ossl_free(struct ossl_crypto *oc)
{
	if (!oc)
		return;
	/* Freeing a cipher or MAC context cleanses its key material. */
	for (int i = 0; i < 2; i++) {
		EVP_CIPHER_CTX_free(oc->enc[i]);
		EVP_CIPHER_CTX_free(oc->dec[i]);
	}
	EVP_MAC_CTX_free(oc->mac);
	EVP_MAC_free(oc->hmac);
	EVP_MD_free(oc->sha256);
	EVP_CIPHER_free(oc->aes);
	kd_free_secret(oc, sizeof(*oc));
}

int kd_net_crypto_new(struct kd_net_crypto *out)
{
	struct ossl_crypto *oc;

	out->ops = NULL;
	out->ctx = NULL;
	oc = kd_calloc(1, sizeof(*oc));
	if (!oc)
		return kd_error_set(KD_ENOMEM, KD_ERRCLASS_CRYPTO,
				    "out of memory for KDNET crypto");
	oc->aes = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
	oc->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	oc->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!oc->aes || !oc->sha256 || !oc->hmac) {
		ossl_free(oc);
		return ossl_fail("algorithm fetch (AES-256-CBC, SHA256, HMAC)");
	}
	for (int i = 0; i < 2; i++) {
		oc->enc[i] = EVP_CIPHER_CTX_new();
		oc->dec[i] = EVP_CIPHER_CTX_new();
		if (!oc->enc[i] || !oc->dec[i]) {
			ossl_free(oc);
			return ossl_fail("cipher context allocation");
		}
	}
	oc->mac = EVP_MAC_CTX_new(oc->hmac);
	if (!oc->mac) {
		ossl_free(oc);
		return ossl_fail("HMAC context allocation");
	}
	out->ops = &ossl_ops;
	out->ctx = oc;
	return 0;
}

void kd_net_crypto_free(struct kd_net_crypto *c)
{
	if (!c)
		return;
	ossl_free(c->ctx);
	c->ctx = NULL;
	c->ops = NULL;
}

int kd_net_random(uint8_t *buf, size_t len)
{
	if (len > INT_MAX || RAND_bytes(buf, (int)len) != 1)
		return ossl_fail("RAND_bytes");
	return 0;
}

int kd_net_key_from_string(const char *s, uint8_t key[KD_NET_KEY_SIZE])
{
	struct kd_net_key_error err;
	int rc;

	if (!s)
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_CRYPTO,
				    "KDNET key missing (expected w.x.y.z)");
	rc = kd_net_key_parse(s, strlen(s), key, &err);
	if (rc == 0)
		return 0;
	switch (err.problem) {
	case KD_NET_KEY_BAD_DIGIT:
		if (err.ch >= 0x20 && err.ch < 0x7f)
			return kd_error_set(
				rc, KD_ERRCLASS_CRYPTO,
				"bad KDNET key: component %u: %s: '%c' at offset %zu",
				err.component + 1, err.message, err.ch,
				err.pos);
		return kd_error_set(
			rc, KD_ERRCLASS_CRYPTO,
			"bad KDNET key: component %u: %s: byte 0x%02x at offset %zu",
			err.component + 1, err.message,
			(unsigned int)(unsigned char)err.ch, err.pos);
	case KD_NET_KEY_COMPONENTS_BAD:
		return kd_error_set(
			rc, KD_ERRCLASS_CRYPTO,
			"bad KDNET key: %s (found %u or more at offset %zu)",
			err.message, err.component, err.pos);
	default:
		return kd_error_set(
			rc, KD_ERRCLASS_CRYPTO,
			"bad KDNET key: component %u: %s (offset %zu)",
			err.component + 1, err.message, err.pos);
	}
}

/* --- Session codec --- */

struct kd_net_session {
	struct kd_net_crypto crypto;
	struct kd_net_codec codec;
	uint8_t control_key[KD_NET_KEY_SIZE];
	uint8_t data_key[KD_NET_KEY_SIZE];
};

int kd_net_session_new_raw(struct kd_net_session **out,
			   const uint8_t control_key[KD_NET_KEY_SIZE])
{
	struct kd_net_session *s;
	int rc;

	*out = NULL;
	s = kd_calloc(1, sizeof(*s));
	if (!s)
		return kd_error_set(KD_ENOMEM, KD_ERRCLASS_CRYPTO,
				    "out of memory for KDNET session");
	rc = kd_net_crypto_new(&s->crypto);
	if (rc != 0) {
		kd_free_secret(s, sizeof(*s));
		return rc;
	}
	memcpy(s->control_key, control_key, KD_NET_KEY_SIZE);
	rc = kd_net_codec_init(&s->codec, &s->crypto, control_key);
	if (rc != 0) {
		kd_net_session_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int kd_net_session_new(struct kd_net_session **out, const char *key)
{
	uint8_t ck[KD_NET_KEY_SIZE];
	int rc;

	*out = NULL;
	rc = kd_net_key_from_string(key, ck);
	if (rc == 0)
		rc = kd_net_session_new_raw(out, ck);
	kd_wipe(ck, sizeof(ck));
	return rc;
}

void kd_net_session_free(struct kd_net_session *s)
{
	if (!s)
		return;
	kd_net_crypto_free(&s->crypto);
	kd_free_secret(s, sizeof(*s));
}

const struct kd_net_codec *kd_net_session_codec(const struct kd_net_session *s)
{
	return &s->codec;
}

bool kd_net_session_has_data_key(const struct kd_net_session *s)
{
	return s->codec.have_data;
}

int kd_net_session_decode(const struct kd_net_session *s, const uint8_t *dgram,
			  size_t len, uint8_t *plain, size_t cap,
			  struct kd_net_frame *f)
{
	int rc = kd_net_decode(&s->codec, dgram, len, plain, cap, f);

	/* KD_ERROR comes from OpenSSL, whose detail is already recorded. */
	if (rc != 0 && rc != KD_ERROR)
		kd_error_set(rc,
			     rc == KD_EAUTH ? KD_ERRCLASS_CRYPTO :
					      KD_ERRCLASS_PROTO,
			     "KDNET: %s", f->why);
	return rc;
}

int kd_net_session_encode(const struct kd_net_session *s,
			  const struct kd_net_frame *f, uint8_t *out,
			  size_t cap, size_t *out_len)
{
	int rc = kd_net_encode(&s->codec, f, out, cap, out_len);

	if (rc != 0)
		return kd_error_set(rc, KD_ERRCLASS_PROTO,
				    "KDNET: cannot encode datagram (%s)",
				    kd_strerror(rc));
	return 0;
}

int kd_net_session_accept_response(struct kd_net_session *s,
				   const uint8_t *payload, size_t len)
{
	struct kd_net_response r;
	int rc;

	if (kd_net_response_parse(payload, len, &r) != 0)
		return kd_error_set(KD_EPROTO, KD_ERRCLASS_PROTO,
				    "KDNET: not a %d-byte RESPONSE payload",
				    KD_NET_RESPONSE_PAYLOAD_SIZE);
	rc = kd_net_derive_data_key(&s->crypto, s->control_key, payload, len,
				    s->data_key);
	if (rc == 0)
		rc = kd_net_codec_set_data_key(&s->codec, s->data_key);
	kd_wipe(&r, sizeof(r));
	return rc;
}

int kd_net_session_respond(struct kd_net_session *s,
			   const struct kd_net_frame *offer, uint8_t *out,
			   size_t cap, size_t *out_len)
{
	uint8_t payload[KD_NET_RESPONSE_PAYLOAD_SIZE];
	struct kd_net_offer o;
	struct kd_net_response r;
	struct kd_net_frame f;
	size_t plen;
	int rc;

	*out_len = 0;
	if (offer->channel != KD_NET_CHANNEL_CONTROL || offer->from_debugger ||
	    kd_net_offer_parse(offer->payload, offer->payload_len, &o) != 0)
		return kd_error_set(KD_EPROTO, KD_ERRCLASS_PROTO,
				    "KDNET: not an OFFER from the target");
	if (cap < kd_net_encoded_size(KD_NET_RESPONSE_PAYLOAD_SIZE))
		return kd_error_set(KD_EBUFS, KD_ERRCLASS_PROTO,
				    "KDNET: buffer too small for RESPONSE");
	memset(&r, 0, sizeof(r));
	r.format = KD_NET_CTRL_FORMAT;
	memcpy(r.target_nonce, o.nonce, KD_NET_NONCE_SIZE);
	rc = kd_net_random(r.debugger_nonce, KD_NET_NONCE_SIZE);
	if (rc == 0)
		rc = kd_net_response_build(&r, payload, sizeof(payload), &plen);
	if (rc == 0) {
		memset(&f, 0, sizeof(f));
		f.version = offer->version;
		f.channel = KD_NET_CHANNEL_CONTROL;
		f.from_debugger = true;
		f.seq = offer->seq;
		f.payload = payload;
		f.payload_len = plen;
		rc = kd_net_session_encode(s, &f, out, cap, out_len);
	}
	if (rc == 0)
		rc = kd_net_session_accept_response(s, payload, plen);
	kd_wipe(payload, sizeof(payload));
	kd_wipe(&r, sizeof(r));
	return rc;
}

int kd_net_session_data_key(const struct kd_net_session *s,
			    uint8_t key[KD_NET_KEY_SIZE])
{
	if (!s->codec.have_data)
		return KD_ENOTFOUND;
	memcpy(key, s->data_key, KD_NET_KEY_SIZE);
	return 0;
}
