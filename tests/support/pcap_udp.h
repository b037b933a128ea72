/* SPDX-License-Identifier: MIT */
/*
 * Test helper: walk the UDP datagrams of a pcap or pcapng capture with
 * libpcap, whatever its link layer (Ethernet, loopback, raw IP, Linux SLL).
 */
#ifndef KD_TEST_PCAP_UDP_H
#define KD_TEST_PCAP_UDP_H

#include <stddef.h>
#include <stdint.h>

/* One UDP datagram; pointers are valid only during the callback. */
struct kdt_udp {
	unsigned int frame; /* 1-based record number in the file */
	int family;	    /* 4 or 6 */
	uint8_t src[16];    /* IPv4 in the first 4 bytes */
	uint8_t dst[16];
	uint16_t sport;
	uint16_t dport;
	const uint8_t *data; /* UDP payload */
	size_t len;
};

/* Return non-zero from the callback to stop the walk (that value returned). */
typedef int (*kdt_udp_fn)(void *arg, const struct kdt_udp *u);

/*
 * Call @p fn for every UDP datagram in @p path with @p port as source or
 * destination port (0 = any).  Records that are not UDP over IPv4/IPv6, IP
 * fragments and truncated records are skipped and counted in *skipped
 * (optional).  Returns 0, the callback's non-zero value, or -1 when the file
 * cannot be read or its link type is unsupported (message in @p err).
 */
int kdt_pcap_udp_foreach(const char *path, uint16_t port, kdt_udp_fn fn,
			 void *arg, unsigned int *skipped, char *err,
			 size_t errcap);

/*
 * Parse one link-layer record of type @p dlt (a DLT_* value) down to its UDP
 * payload.  Returns 0 and fills @p u (frame left 0), or -1 when the record
 * is not a complete, unfragmented UDP datagram.
 */
int kdt_udp_from_link(int dlt, const uint8_t *p, size_t len, struct kdt_udp *u);

#endif /* KD_TEST_PCAP_UDP_H */
