/* SPDX-License-Identifier: MIT */
/*
 * Private hooks of the KDNET `net` driver: the per-datagram input step,
 * callable without a socket so the fuzzer can drive it with a fixed key.
 */
#ifndef KD_NET_INT_H
#define KD_NET_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

struct kd_net_drv;

/*
 * A socketless driver state with key 1.2.3.4 for the host role (answering
 * OFFERs with an all-zero debugger nonce) or the target role (which already
 * has a session keyed by an all-zero RESPONSE).  What it sends is dropped.  Free with kd_net__test_free().
 */
int kd_net__test_new(struct kd_net_drv **out, bool target_role);
void kd_net__test_free(struct kd_net_drv *d);

/*
 * Handle one received datagram @p dg from @p from.
 * @return 1 and a KD packet in @p out (*out_len bytes); 0 when the datagram
 *         was consumed inside the driver (handshake, ping, dropped and
 *         counted); KD_EBUFS when the KD packet exceeds @p cap.
 */
int kd_net__input(struct kd_net_drv *d, const uint8_t *dg, size_t len,
		  const struct sockaddr *from, socklen_t fromlen, uint8_t *out,
		  size_t cap, size_t *out_len);

#endif /* KD_NET_INT_H */
