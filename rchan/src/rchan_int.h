/* SPDX-License-Identifier: MIT */
/*
 * Remote-channel internals: the pure encoders and parsers of the three
 * handshake messages (server hello, client hello, verdict), the proof
 * function, and test hooks.  docs/remote-channel.md has the byte layout.
 */
#ifndef KD_RCHAN_INT_H
#define KD_RCHAN_INT_H

#include <stddef.h>
#include <stdint.h>

#include <kd/common.h>

#define KD_RCHAN_MAGIC "KDRC"
#define KD_RCHAN_VERSION 1u
#define KD_RCHAN_NONCE_LEN 32u
#define KD_RCHAN_PROOF_LEN 32u
#define KD_RCHAN_SERVICE_MAX 31u /* "name/major" */
#define KD_RCHAN_IDENTITY_MAX 127u
#define KD_RCHAN_REASON_MAX 200u

/* Message types (byte 5). */
#define KD_RCHAN_T_SHELLO 1u
#define KD_RCHAN_T_CHELLO 2u
#define KD_RCHAN_T_VERDICT 3u

/* Server hello flags. */
#define KD_RCHAN_SF_PASSWORD 0x01u /* a password is required */
/* Client hello flags. */
#define KD_RCHAN_CF_PROOF 0x01u /* a proof follows the nonce */
/* Verdict flags. */
#define KD_RCHAN_VF_PROOF 0x01u /* the server's proof follows */

/* Verdict status (byte 6). */
enum kd_rchan_status {
	KD_RCHAN_OK = 0,
	KD_RCHAN_DENIED = 1,	/* wrong or missing password */
	KD_RCHAN_MISMATCH = 2,	/* other service or protocol version */
	KD_RCHAN_THROTTLED = 3, /* too many failures from this address */
	KD_RCHAN_STATUS_MAX = 3,
};

/* Largest encoded handshake message (the client hello). */
#define KD_RCHAN_HS_MAX                                           \
	(8u + KD_RCHAN_SERVICE_MAX + 1u + KD_RCHAN_IDENTITY_MAX + \
	 KD_RCHAN_NONCE_LEN + KD_RCHAN_PROOF_LEN)

struct kd_rchan_shello {
	unsigned int flags;
	char service[KD_RCHAN_SERVICE_MAX + 1];
	uint8_t nonce[KD_RCHAN_NONCE_LEN];
};

struct kd_rchan_chello {
	unsigned int flags;
	char service[KD_RCHAN_SERVICE_MAX + 1];
	char identity[KD_RCHAN_IDENTITY_MAX + 1];
	uint8_t nonce[KD_RCHAN_NONCE_LEN];
	uint8_t proof[KD_RCHAN_PROOF_LEN]; /* valid with KD_RCHAN_CF_PROOF */
};

struct kd_rchan_verdict {
	unsigned int status; /* enum kd_rchan_status */
	unsigned int flags;
	char reason[KD_RCHAN_REASON_MAX + 1];
	uint8_t proof[KD_RCHAN_PROOF_LEN]; /* valid with KD_RCHAN_VF_PROOF */
};

/*
 * Encoders: write the message into @p buf (at least KD_RCHAN_HS_MAX bytes)
 * and return its length, or 0 when a field is out of bounds (service or
 * identity too long or not printable ASCII).
 */
size_t kd_rchan__enc_shello(uint8_t *buf, size_t cap,
			    const struct kd_rchan_shello *m);
size_t kd_rchan__enc_chello(uint8_t *buf, size_t cap,
			    const struct kd_rchan_chello *m);
size_t kd_rchan__enc_verdict(uint8_t *buf, size_t cap,
			     const struct kd_rchan_verdict *m);

/*
 * Parsers: KD_OK with *m filled; KD_ENOTSUP when the magic is right but the
 * channel version is not ours (*version_out says which); KD_EPROTO with
 * *why set to a static one-line reason for anything else.  The type byte
 * is checked: a verdict handed to kd_rchan__parse_shello() is KD_EPROTO
 * ("not a server hello"); use kd_rchan__msg_type() first to dispatch.
 */
int kd_rchan__parse_shello(const uint8_t *buf, size_t len,
			   struct kd_rchan_shello *m, unsigned int *version_out,
			   const char **why);
int kd_rchan__parse_chello(const uint8_t *buf, size_t len,
			   struct kd_rchan_chello *m, unsigned int *version_out,
			   const char **why);
int kd_rchan__parse_verdict(const uint8_t *buf, size_t len,
			    struct kd_rchan_verdict *m,
			    unsigned int *version_out, const char **why);

/* Type byte of a handshake message, or 0 when too short or no magic. */
unsigned int kd_rchan__msg_type(const uint8_t *buf, size_t len);

/*
 * proof = HMAC-SHA256(key, first || second || service); key is
 * SHA-256(password) (kd_rchan__key()).  The client proves with
 * (server nonce, client nonce), the server with (client, server).
 */
void kd_rchan__key(const char *password, uint8_t key[32]);
void kd_rchan__proof(const uint8_t key[32], const uint8_t *first,
		     const uint8_t *second, const char *service,
		     uint8_t out[KD_RCHAN_PROOF_LEN]);

/*
 * Test hook: the handshake time limit in milliseconds (default 5000).
 * Not thread-safe; set it before opening channels.
 */
extern int kd_rchan__handshake_ms;

/*
 * Test hook: when set (this thread only), client connections bind to this
 * IPv4 address first, so a test can come from many loopback addresses
 * (127.0.0.0/8) the way clients of many hosts do.
 */
extern _Thread_local const char *kd_rchan__source_ipv4;

#endif /* KD_RCHAN_INT_H */
