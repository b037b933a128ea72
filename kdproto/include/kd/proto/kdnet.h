/* SPDX-License-Identifier: MIT */
/*
 * KDNET (KD over UDP): key strings, the MDBG envelope, the OFFER/RESPONSE
 * handshake and the small data-channel messages (kd-protocol.md §3).  Pure
 * and freestanding; the cryptography comes in through struct kd_net_crypto.
 */
#ifndef KD_PROTO_KDNET_H
#define KD_PROTO_KDNET_H

#include <kd/common.h>

KD_BEGIN_DECLS

/* --- Constants (kd-protocol.md §3.2-§3.7, §6) --- */

#define KD_NET_MAGIC "MDBG" /* bytes 4D 44 42 47 */
#define KD_NET_MAGIC_SIZE 4
#define KD_NET_VERSION_2 0x02 /* Win 8.1 (libKDNET) */
#define KD_NET_VERSION_4 0x04 /* Win10 10586, verified */
#define KD_NET_VERSION_5 0x05 /* Win10 19041, header only */
#define KD_NET_VERSION_MIN KD_NET_VERSION_2
#define KD_NET_VERSION_MAX KD_NET_VERSION_5
#define KD_NET_CHANNEL_DATA 0
#define KD_NET_CHANNEL_CONTROL 1

#define KD_NET_HEADER_SIZE 6 /* magic, version, channel */
#define KD_NET_TAG_SIZE 16   /* truncated HMAC-SHA256, also the IV */
#define KD_NET_INNER_SIZE 8  /* 7-byte BE sequence, dir|pad byte */
#define KD_NET_BLOCK_SIZE 16 /* AES block */
#define KD_NET_KEY_SIZE 32   /* AES-256 and HMAC keys */
#define KD_NET_HASH_SIZE 32  /* SHA-256 output */
#define KD_NET_NONCE_SIZE 32
#define KD_NET_SEQ_MAX ((UINT64_C(1) << 56) - 1)
#define KD_NET_DIR_DEBUGGER 0x80 /* inner byte 7: debugger -> target */
#define KD_NET_PAD_MASK 0x0f

/*
 * Size limits.  A KD packet is at most 4096 payload bytes when received
 * (kd-protocol.md §8, PACKET_MAX_SIZE) plus its 16-byte header, so one
 * envelope payload is at most 4112 bytes; with the inner header and padding
 * the body is at most 4128 bytes.  Real datagrams stay under 1.4 KiB (§3.6).
 */
#define KD_NET_MAX_PAYLOAD 4112
#define KD_NET_MAX_BODY 4128
#define KD_NET_MIN_DATAGRAM \
	(KD_NET_HEADER_SIZE + KD_NET_BLOCK_SIZE + KD_NET_TAG_SIZE)
#define KD_NET_MAX_DATAGRAM \
	(KD_NET_HEADER_SIZE + KD_NET_MAX_BODY + KD_NET_TAG_SIZE)

/* Control messages (§3.4): byte 0 format 0x01, byte 1 the type. */
#define KD_NET_CTRL_FORMAT 0x01
#define KD_NET_CTRL_OFFER 0x01
#define KD_NET_CTRL_RESPONSE 0x02
#define KD_NET_OFFER_BODY_SIZE 352 /* 8 inner + 344 payload, pad 0 */
#define KD_NET_OFFER_PAYLOAD_SIZE (KD_NET_OFFER_BODY_SIZE - KD_NET_INNER_SIZE)
#define KD_NET_OFFER_MIN_PAYLOAD 34  /* format, type, nonce */
#define KD_NET_OFFER_ADDR_PAYLOAD 88 /* ... and the three addresses */
#define KD_NET_RESPONSE_PAYLOAD_SIZE 322
#define KD_NET_RESPONSE_BODY_SIZE 336 /* 8 + 322 + 6 pad */

#define KD_NET_DEFAULT_PORT 50000 /* kdnet.exe default */
#define KD_NET_FALLBACK_PORT 5364 /* port missing from the BCD store */
#define KD_NET_PING_SIZE 12	  /* 8 zero bytes, IPv4 LE (§3.5) */
#define KD_NET_BREAKIN_BYTE 0x62  /* 'b', a one-byte data payload */

/* --- Key strings (§3.3) --- */

#define KD_NET_KEY_COMPONENTS 4
#define KD_NET_KEY_MAX_DIGITS 13 /* 36^13 > 2^64 > 36^12 */

enum kd_net_key_problem {
	KD_NET_KEY_OK = 0,
	KD_NET_KEY_EMPTY,	   /* a component has no digits */
	KD_NET_KEY_BAD_DIGIT,	   /* not 0-9, a-z, A-Z */
	KD_NET_KEY_TOO_LONG,	   /* more than 13 digits */
	KD_NET_KEY_OVERFLOW,	   /* value >= 2^64 */
	KD_NET_KEY_COMPONENTS_BAD, /* not exactly four components */
};

/** Where and why a key string was refused. */
struct kd_net_key_error {
	enum kd_net_key_problem problem;
	const char *message;	/* static, one line, no position in it */
	size_t pos;		/* byte offset into the string */
	unsigned int component; /* 0-based component index */
	char ch;		/* offending character (BAD_DIGIT), else 0 */
};

/**
 * Parse a key string `w.x.y.z` (four base-36 numbers, case-insensitive)
 * into the 32-byte control key, each component as a little-endian u64.
 *
 * @param s    the string; need not be NUL-terminated
 * @param len  its length in bytes
 * @param key  out: the control key (left zeroed on failure)
 * @param err  out, optional: details on failure
 * @return 0; KD_EINVAL for a malformed string; KD_EOVERFLOW when a
 *         component does not fit in 64 bits.
 */
KD_API int kd_net_key_parse(const char *s, size_t len,
			    uint8_t key[KD_NET_KEY_SIZE],
			    struct kd_net_key_error *err);

/** HMAC key = bitwise NOT of the control key (§3.3 item 2). */
KD_API void kd_net_hmac_key(const uint8_t control_key[KD_NET_KEY_SIZE],
			    uint8_t hmac_key[KD_NET_KEY_SIZE]);

/** Overwrite @p len bytes with zeros in a way the compiler keeps. */
KD_API void kd_net_wipe(void *p, size_t len);

/* --- Cryptography interface --- */

/*
 * Key slots: the codec installs each key once and then names the slot per
 * datagram, so an implementation keeps one prepared cipher per key and only
 * the IV changes per datagram.
 */
enum kd_net_slot {
	KD_NET_SLOT_CONTROL = 0, /* AES key of channel 1 */
	KD_NET_SLOT_DATA = 1,	 /* AES key of channel 0 */
	KD_NET_SLOT_MAC = 2,	 /* HMAC-SHA256 key, both channels */
	KD_NET_SLOT_COUNT
};

/*
 * Every member is mandatory, never blocks, and returns 0 or a negative KD_E*
 * code.  Lengths passed to the cipher calls are multiples of 16.
 */
struct kd_net_crypto_ops {
	/* Install (or replace) the 32-byte key of @p slot. */
	int (*set_key)(void *ctx, enum kd_net_slot slot, const uint8_t *key);
	/*
	 * AES-256-CBC without padding under the key of @p slot (CONTROL or
	 * DATA).  @p out may equal @p in exactly; no other overlap.
	 */
	int (*encrypt)(void *ctx, enum kd_net_slot slot, const uint8_t *iv,
		       const uint8_t *in, uint8_t *out, size_t len);
	int (*decrypt)(void *ctx, enum kd_net_slot slot, const uint8_t *iv,
		       const uint8_t *in, uint8_t *out, size_t len);
	/* Full 32-byte HMAC-SHA256 under the MAC slot over a ‖ b. */
	int (*hmac)(void *ctx, const uint8_t *a, size_t alen, const uint8_t *b,
		    size_t blen, uint8_t *out);
	/* SHA-256 over a ‖ b. */
	int (*sha256)(void *ctx, const uint8_t *a, size_t alen,
		      const uint8_t *b, size_t blen, uint8_t *out);
};

struct kd_net_crypto {
	const struct kd_net_crypto_ops *ops;
	void *ctx;
};

/* --- Envelope codec (§3.2, §3.3) --- */

/*
 * Codec state: which keys are installed in the crypto implementation.
 * Borrowed crypto; no secrets are stored here.
 */
struct kd_net_codec {
	struct kd_net_crypto crypto;
	bool have_control;
	bool have_data;
};

/** One datagram, decoded (output of kd_net_decode, input of encode). */
struct kd_net_frame {
	uint8_t version;
	uint8_t channel;    /* KD_NET_CHANNEL_* */
	bool from_debugger; /* direction bit */
	uint8_t pad;	    /* decode only: pad length */
	uint64_t seq;	    /* 56 bits */
	const uint8_t *payload;
	size_t payload_len;
	const char *why; /* decode only: static reason on failure */
};

/**
 * Bind a codec to a crypto implementation and install the control key in
 * the CONTROL slot and NOT(control key) in the MAC slot.
 * @return 0 or the error of the crypto implementation.
 */
KD_API int kd_net_codec_init(struct kd_net_codec *c,
			     const struct kd_net_crypto *crypto,
			     const uint8_t control_key[KD_NET_KEY_SIZE]);

/** Install the data key (after the handshake). */
KD_API int kd_net_codec_set_data_key(struct kd_net_codec *c,
				     const uint8_t data_key[KD_NET_KEY_SIZE]);

/**
 * Decode and authenticate one datagram.  The key is chosen by channel.
 *
 * @param plain  out: receives the decrypted body (datagram length - 22
 *               bytes); may be exactly @p dgram + 6, must not otherwise
 *               overlap.  Zeroed when authentication fails.
 * @param f      out: header fields; f->payload points into @p plain.
 *               On failure f->why names the reason.
 * @return 0; KD_EPROTO malformed (length, magic, channel, inner header);
 *         KD_ENOTSUP unknown version; KD_EAUTH tag mismatch or no key
 *         for the channel yet; KD_EBUFS @p cap too small.
 */
KD_API int kd_net_decode(const struct kd_net_codec *c, const uint8_t *dgram,
			 size_t len, uint8_t *plain, size_t cap,
			 struct kd_net_frame *f);

/** Datagram size for a payload of @p payload_len bytes. */
KD_API size_t kd_net_encoded_size(size_t payload_len);

/**
 * Encode @p f (version, channel, from_debugger, seq, payload) into a
 * datagram: zero pad, HMAC, encrypt with IV = tag, append the tag.
 * f->payload may lie inside @p out.
 * @return 0; KD_EINVAL bad field (channel, seq, payload too long);
 *         KD_EBUFS @p cap too small; KD_EAUTH no key for the channel.
 */
KD_API int kd_net_encode(const struct kd_net_codec *c,
			 const struct kd_net_frame *f, uint8_t *out, size_t cap,
			 size_t *out_len);

/* --- Handshake (§3.4) --- */

/** IPv6-form address (IPv4 as ::ffff:a.b.c.d) and a port. */
struct kd_net_addr {
	uint8_t ip[16];
	uint16_t port;
};

struct kd_net_offer {
	uint8_t format;			  /* byte 0, 0x01 */
	uint8_t nonce[KD_NET_NONCE_SIZE]; /* target nonce */
	bool have_addrs;		  /* payload long enough for them */
	struct kd_net_addr target;
	struct kd_net_addr debugger;
	struct kd_net_addr last; /* probably last debugger [?] */
};

struct kd_net_response {
	uint8_t format;
	uint8_t target_nonce[KD_NET_NONCE_SIZE];
	uint8_t debugger_nonce[KD_NET_NONCE_SIZE];
};

/**
 * Type byte of a control payload (KD_NET_CTRL_*), or KD_EPROTO when it is
 * shorter than two bytes.
 */
KD_API int kd_net_control_type(const uint8_t *payload, size_t len);

/**
 * Parse an OFFER payload (control channel, after the inner header).
 * Accepts the 344-byte Windows form and shorter ones down to 34 bytes.
 * @return 0; KD_EPROTO wrong type or too short.
 */
KD_API int kd_net_offer_parse(const uint8_t *payload, size_t len,
			      struct kd_net_offer *o);

/** Build the 344-byte OFFER payload into @p out (cap >= 344). */
KD_API int kd_net_offer_build(const struct kd_net_offer *o, uint8_t *out,
			      size_t cap, size_t *out_len);

/**
 * Parse a RESPONSE payload; exactly 322 bytes.
 * @return 0; KD_EPROTO wrong type or length.
 */
KD_API int kd_net_response_parse(const uint8_t *payload, size_t len,
				 struct kd_net_response *r);

/** Build the 322-byte RESPONSE payload (format 1, type 2, zero tail). */
KD_API int kd_net_response_build(const struct kd_net_response *r, uint8_t *out,
				 size_t cap, size_t *out_len);

/**
 * Data key = SHA-256(control key ‖ 322-byte RESPONSE payload) (§3.3 item 5).
 * @return 0, KD_EPROTO when @p len is not 322, or the crypto error.
 */
KD_API int kd_net_derive_data_key(const struct kd_net_crypto *crypto,
				  const uint8_t control_key[KD_NET_KEY_SIZE],
				  const uint8_t *response_payload, size_t len,
				  uint8_t data_key[KD_NET_KEY_SIZE]);

/* --- Data-channel specials (§3.5) --- */

/**
 * The 12-byte ping: 8 zero bytes, then the debugger's IPv4 address
 * @p ipv4 (a.b.c.d as (a << 24) | ... | d) stored little-endian.
 */
KD_API void kd_net_ping_build(uint32_t ipv4, uint8_t out[KD_NET_PING_SIZE]);

/** 0 and *ipv4 set when @p payload is a ping; KD_EPROTO otherwise. */
KD_API int kd_net_ping_parse(const uint8_t *payload, size_t len,
			     uint32_t *ipv4);

/** True when a data payload is the one-byte break-in request. */
KD_API bool kd_net_is_breakin(const uint8_t *payload, size_t len);

KD_END_DECLS

#endif /* KD_PROTO_KDNET_H */
