/* SPDX-License-Identifier: MIT */
/*
 * KDNET cryptography on the host: the OpenSSL implementation of struct
 * kd_net_crypto, and a session codec (keys + handshake + decode by channel)
 * for the net driver and kdcap.  No OpenSSL type appears here.
 */
#ifndef KD_NET_CRYPTO_H
#define KD_NET_CRYPTO_H

#include <kd/common.h>
#include <kd/proto/kdnet.h>

KD_BEGIN_DECLS

/**
 * Create an OpenSSL-backed crypto implementation: one prepared AES-256-CBC
 * context per slot and direction, and one HMAC context re-initialised per
 * datagram.  Fills @p out (ops and ctx).
 * @return 0, KD_ENOMEM, or KD_ERROR (OpenSSL failure, see kd_error_last()).
 * Ownership: free with kd_net_crypto_free().
 */
KD_API int kd_net_crypto_new(struct kd_net_crypto *out);

/** Free an implementation made by kd_net_crypto_new(); keys are wiped. */
KD_API void kd_net_crypto_free(struct kd_net_crypto *c);

/** Fill @p buf with cryptographically strong random bytes. */
KD_API int kd_net_random(uint8_t *buf, size_t len);

/**
 * kd_net_key_parse() for NUL-terminated strings that records a one-line
 * message with the component and character in kd_error_last().
 * @return 0, KD_EINVAL or KD_EOVERFLOW.
 */
KD_API int kd_net_key_from_string(const char *s, uint8_t key[KD_NET_KEY_SIZE]);

/* --- Session codec --- */

/*
 * One KDNET session: control key, HMAC key and (after the handshake) the
 * data key, with a codec that picks the key by channel.
 * Thread-safety: one thread at a time per session.
 */
struct kd_net_session;

/**
 * New session from a key string (`w.x.y.z`).
 * @return 0; KD_EINVAL/KD_EOVERFLOW bad key (message in kd_error_last());
 *         KD_ENOMEM; KD_ERROR OpenSSL failure.
 * Ownership: free with kd_net_session_free().
 */
KD_API int kd_net_session_new(struct kd_net_session **out, const char *key);

/** New session from a 32-byte control key. */
KD_API int kd_net_session_new_raw(struct kd_net_session **out,
				  const uint8_t control_key[KD_NET_KEY_SIZE]);

/** Free a session; all keys are wiped.  NULL-safe. */
KD_API void kd_net_session_free(struct kd_net_session *s);

/** The session's codec (borrowed, valid until the session is freed). */
KD_API const struct kd_net_codec *kd_net_session_codec(
	const struct kd_net_session *s);

KD_API bool kd_net_session_has_data_key(const struct kd_net_session *s);

/**
 * Decode one datagram (see kd_net_decode()); on failure also records
 * "KDNET: <reason>" in kd_error_last().
 */
KD_API int kd_net_session_decode(const struct kd_net_session *s,
				 const uint8_t *dgram, size_t len,
				 uint8_t *plain, size_t cap,
				 struct kd_net_frame *f);

/** Encode one datagram (see kd_net_encode()). */
KD_API int kd_net_session_encode(const struct kd_net_session *s,
				 const struct kd_net_frame *f, uint8_t *out,
				 size_t cap, size_t *out_len);

/**
 * Derive and install the data key from a 322-byte RESPONSE payload (a
 * decoded control frame), as a passive observer such as kdcap does.
 * @return 0; KD_EPROTO not a RESPONSE payload; KD_ERROR crypto failure.
 */
KD_API int kd_net_session_accept_response(struct kd_net_session *s,
					  const uint8_t *payload, size_t len);

/**
 * Answer a decoded OFFER frame as the debugger: random nonce, RESPONSE with
 * the OFFER's version and sequence number, direction bit set; installs the
 * data key.  @p out receives the datagram (cap >= 358).
 * @return 0; KD_EPROTO @p offer is not an OFFER from the target; KD_EBUFS.
 */
KD_API int kd_net_session_respond(struct kd_net_session *s,
				  const struct kd_net_frame *offer,
				  uint8_t *out, size_t cap, size_t *out_len);

/** Copy the current data key (tests and kdcap --show-keys). */
KD_API int kd_net_session_data_key(const struct kd_net_session *s,
				   uint8_t key[KD_NET_KEY_SIZE]);

KD_END_DECLS

#endif /* KD_NET_CRYPTO_H */
