/* SPDX-License-Identifier: MIT */
/*
 * The remote channel's handshake messages (docs/remote-channel.md): server
 * hello, client hello and verdict, exchanged before a channel (kd/rchan.h)
 * carries anything.  Pure encode and decode, every field bounded; the proof
 * they carry is computed by the channel (HMAC-SHA256), not here.
 */
#ifndef KD_PROTO_HELLO_H
#define KD_PROTO_HELLO_H

#include <kd/common.h>

KD_BEGIN_DECLS

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

/*
 * Largest encoded handshake message: a client hello with the longest
 * service and identity (each after its length byte), nonce and proof.
 */
#define KD_RCHAN_HS_MAX                                                \
	(8u + 1u + KD_RCHAN_SERVICE_MAX + 1u + KD_RCHAN_IDENTITY_MAX + \
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
KD_API size_t kd_rchan_enc_shello(uint8_t *buf, size_t cap,
				  const struct kd_rchan_shello *m);
KD_API size_t kd_rchan_enc_chello(uint8_t *buf, size_t cap,
				  const struct kd_rchan_chello *m);
KD_API size_t kd_rchan_enc_verdict(uint8_t *buf, size_t cap,
				   const struct kd_rchan_verdict *m);

/*
 * Parsers: KD_OK with *m filled; KD_ENOTSUP when the magic is right but the
 * channel version is not ours (*version_out says which); KD_EPROTO with
 * *why set to a static one-line reason for anything else.  The type byte
 * is checked: a verdict handed to kd_rchan_parse_shello() is KD_EPROTO
 * ("not a server hello"); use kd_rchan_msg_type() first to dispatch.
 */
KD_API KD_WARN_UNUSED int kd_rchan_parse_shello(const uint8_t *buf, size_t len,
						struct kd_rchan_shello *m,
						unsigned int *version_out,
						const char **why);
KD_API KD_WARN_UNUSED int kd_rchan_parse_chello(const uint8_t *buf, size_t len,
						struct kd_rchan_chello *m,
						unsigned int *version_out,
						const char **why);
KD_API KD_WARN_UNUSED int kd_rchan_parse_verdict(const uint8_t *buf, size_t len,
						 struct kd_rchan_verdict *m,
						 unsigned int *version_out,
						 const char **why);

/* Type byte of a handshake message, or 0 when too short or no magic. */
KD_API unsigned int kd_rchan_msg_type(const uint8_t *buf, size_t len);

KD_END_DECLS

#endif /* KD_PROTO_HELLO_H */
