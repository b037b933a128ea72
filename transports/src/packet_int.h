/* SPDX-License-Identifier: MIT */
/*
 * Packet transports (KD_TRANSPORT_CAP_PACKETS): drivers that carry whole KD
 * packets, such as the kdsrv smart client.  kd_link_open() hands every link
 * operation of such a transport to the ops below.
 */
#ifndef KD_PACKET_INT_H
#define KD_PACKET_INT_H

#include <kd/link.h>
#include <kd/transport.h>

/*
 * A driver with KD_TRANSPORT_CAP_PACKETS keeps a pointer to its packet ops
 * as the FIRST member of its private block (kd_transport_priv()), so the
 * link finds them without naming the driver.
 */
struct kd_packet_ops {
	int (*sync)(struct kd_transport *t, int timeout_ms);
	int (*send)(struct kd_transport *t, unsigned type, const void *payload,
		    size_t len);
	int (*recv)(struct kd_transport *t, unsigned *type_out, void *buf,
		    size_t cap, size_t *len_out, int timeout_ms);
	int (*break_in)(struct kd_transport *t);
	uint32_t (*events)(struct kd_transport *t);
	void (*stats)(struct kd_transport *t, struct kd_link_stats *out);
	bool (*is_kdnet)(struct kd_transport *t);
	int (*end_server)(struct kd_transport *t, char *desc, size_t cap,
			  int timeout_ms);
};

/* The packet ops of @p t, or NULL when it is not a packet transport. */
static inline const struct kd_packet_ops *kd_transport__packet_ops(
	struct kd_transport *t)
{
	if (!(kd_transport_caps(t) & KD_TRANSPORT_CAP_PACKETS))
		return NULL;
	return *(const struct kd_packet_ops *const *)kd_transport_priv(t);
}

#endif /* KD_PACKET_INT_H */
