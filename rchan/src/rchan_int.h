/* SPDX-License-Identifier: MIT */
/*
 * Remote-channel internals: the proof function and test hooks.  The
 * handshake messages' codec is kdproto's (kd/proto/hello.h);
 * docs/remote-channel.md has the byte layout.
 */
#ifndef KD_RCHAN_INT_H
#define KD_RCHAN_INT_H

#include <stddef.h>
#include <stdint.h>

#include <kd/common.h>
#include <kd/proto/hello.h>

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
