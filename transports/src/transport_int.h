/* SPDX-License-Identifier: MIT */
/*
 * Private declarations of the transport core, shared by transport.c,
 * params.c and the built-in drivers of kd::transports.
 */
#ifndef KD_TRANSPORT_INT_H
#define KD_TRANSPORT_INT_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stddef.h>
#include <stdint.h>

#include <kd/sys/transport.h>

#define KD_TRANSPORT_SCHEME_MAX KD_PARAMS_SCHEME_MAX

/* The instance; priv follows in the same allocation. */
struct kd_transport {
	const struct kd_transport_ops *ops;
	uint32_t caps;
	struct kd_transport *lower; /* owned; closed after ops->close */
	struct kd_transport_link_opts link;
	bool have_link;
	bool have_local_port;
	bool have_udp_ports;
	uint16_t local_port;
	uint16_t udp_host_port;
	uint16_t udp_target_port;
	kd_wire_tap_fn tap; /* KD_TRANSPORT_CAP_WIRETAP drivers */
	void *tap_ctx;
	void *priv;
};

/* Monotonic milliseconds, for deadlines. */
int64_t kd_transport__now_ms(void);

/*
 * Milliseconds left until @p deadline (-1 = forever stays -1), clamped
 * at 0.
 */
int kd_transport__left_ms(int64_t deadline);

/* Deadline for @p timeout_ms from now (-1 stays -1). */
int64_t kd_transport__deadline(int timeout_ms);

#if KD_WITH_COM
extern const struct kd_transport_ops kd_transport_com;
#endif

#endif /* KD_TRANSPORT_INT_H */
