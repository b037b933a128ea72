/* SPDX-License-Identifier: MIT */
/*
 * Link-layer frame to UDP payload, for the pcap driver's replay and for
 * kdcap.  Every length is checked against the bytes captured.
 */
#define _DEFAULT_SOURCE 1 /* u_char and friends in pcap.h under C11 */
#include <kd/capture.h>

#include <pcap/dlt.h>
#include <string.h>

#define ETH_HDR 14
#define IP4_HDR 20
#define IP6_HDR 40
#define UDP_HDR 8
#define SLL_HDR 16
#define SLL2_HDR 20
#define NULL_HDR 4
#define MAX_VLAN_TAGS 2
#define ETHERTYPE_IP4 0x0800
#define ETHERTYPE_IP6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define IPPROTO_UDP_NUM 17

bool kd_capture_link_supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_NULL:
	case DLT_LOOP:
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
		return true;
	default:
		return false;
	}
}

static bool is_ip_ethertype(uint16_t type)
{
	return type == ETHERTYPE_IP4 || type == ETHERTYPE_IP6;
}

/* Offset of the IP header inside a frame of link type @p dlt, or -1. */
static long ip_offset(int dlt, const uint8_t *p, size_t len)
{
	size_t off;
	uint16_t type;

	switch (dlt) {
	case DLT_EN10MB:
		if (len < ETH_HDR)
			return -1;
		off = 12;
		type = kd_get_be16(p + off);
		for (int i = 0; i < MAX_VLAN_TAGS && (type == ETHERTYPE_VLAN ||
						      type == ETHERTYPE_QINQ);
		     i++) {
			off += 4;
			if (off + 2 > len)
				return -1;
			type = kd_get_be16(p + off);
		}
		return is_ip_ethertype(type) ? (long)(off + 2) : -1;
	case DLT_NULL:
	case DLT_LOOP:
		/* The address family comes in either byte order: skip it. */
		return len >= NULL_HDR ? NULL_HDR : -1;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		return 0;
	case DLT_LINUX_SLL:
		if (len < SLL_HDR)
			return -1;
		return is_ip_ethertype(kd_get_be16(p + 14)) ? SLL_HDR : -1;
	case DLT_LINUX_SLL2:
		if (len < SLL2_HDR)
			return -1;
		return is_ip_ethertype(kd_get_be16(p)) ? SLL2_HDR : -1;
	default:
		return -1;
	}
}

/* The UDP datagram of the IPv4 or IPv6 packet at @p p, if it is one. */
static bool udp_of_ip(const uint8_t *p, size_t len, struct kd_capture_udp *v)
{
	size_t hl, total, ulen;
	const uint8_t *udp;

	if (len < 1)
		return false;
	memset(v, 0, sizeof(*v));
	if (p[0] >> 4 == 4) {
		if (len < IP4_HDR)
			return false;
		hl = (size_t)(p[0] & 0x0f) * 4;
		total = kd_get_be16(p + 2);
		if (hl < IP4_HDR || total < hl || total > len ||
		    p[9] != IPPROTO_UDP_NUM)
			return false;
		if ((kd_get_be16(p + 6) & 0x3fff) != 0)
			return false; /* a fragment (MF set or offset) */
		v->family = 4;
		memcpy(v->src, p + 12, 4);
		memcpy(v->dst, p + 16, 4);
	} else if (p[0] >> 4 == 6) {
		/* Extension headers are not walked: KDNET never uses them. */
		if (len < IP6_HDR || p[6] != IPPROTO_UDP_NUM)
			return false;
		hl = IP6_HDR;
		total = IP6_HDR + (size_t)kd_get_be16(p + 4);
		if (total > len)
			return false;
		v->family = 6;
		memcpy(v->src, p + 8, 16);
		memcpy(v->dst, p + 24, 16);
	} else {
		return false;
	}
	if (total - hl < UDP_HDR)
		return false;
	udp = p + hl;
	ulen = kd_get_be16(udp + 4);
	if (ulen < UDP_HDR || ulen > total - hl)
		return false;
	v->sport = kd_get_be16(udp);
	v->dport = kd_get_be16(udp + 2);
	v->payload = udp + UDP_HDR;
	v->len = ulen - UDP_HDR;
	return true;
}

bool kd_capture_udp_from_frame(int dlt, const uint8_t *frame, size_t len,
			       struct kd_capture_udp *out)
{
	long ip = ip_offset(dlt, frame, len);

	if (ip < 0 || (size_t)ip > len)
		return false;
	return udp_of_ip(frame + ip, len - (size_t)ip, out);
}
