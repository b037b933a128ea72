/* SPDX-License-Identifier: MIT */
/*
 * Test helper: UDP datagrams out of pcap/pcapng captures; see pcap_udp.h.
 * Only tests use it; tools read captures with their own code.
 */
/* libpcap's headers use the BSD u_int/u_char types. */
#define _DEFAULT_SOURCE 1
#include "pcap_udp.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

#include <kd/common.h>

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define IPPROTO_UDP_NUM 17

static int udp_from_ipv4(const uint8_t *p, size_t len, struct kdt_udp *u)
{
	size_t ihl, total;

	if (len < 20 || (p[0] >> 4) != 4)
		return -1;
	ihl = (size_t)(p[0] & 0x0f) * 4;
	total = kd_get_be16(p + 2);
	if (ihl < 20 || total < ihl || total > len)
		return -1;
	/* Fragments (MF set or non-zero offset) are not reassembled. */
	if ((kd_get_be16(p + 6) & 0x3fff) != 0 || p[9] != IPPROTO_UDP_NUM)
		return -1;
	u->family = 4;
	memset(u->src, 0, sizeof(u->src));
	memset(u->dst, 0, sizeof(u->dst));
	memcpy(u->src, p + 12, 4);
	memcpy(u->dst, p + 16, 4);
	p += ihl;
	len = total - ihl;
	if (len < 8 || kd_get_be16(p + 4) < 8 || kd_get_be16(p + 4) > len)
		return -1;
	u->sport = kd_get_be16(p);
	u->dport = kd_get_be16(p + 2);
	u->data = p + 8;
	u->len = (size_t)kd_get_be16(p + 4) - 8;
	return 0;
}

static int udp_from_ipv6(const uint8_t *p, size_t len, struct kdt_udp *u)
{
	size_t plen, off = 40;
	uint8_t next;

	if (len < 40 || (p[0] >> 4) != 6)
		return -1;
	plen = kd_get_be16(p + 4);
	if (plen > len - 40)
		return -1;
	len = 40 + plen;
	u->family = 6;
	memcpy(u->src, p + 8, 16);
	memcpy(u->dst, p + 24, 16);
	next = p[6];
	/* Skip hop-by-hop, routing and destination options; no fragments. */
	while (next == 0 || next == 43 || next == 60) {
		size_t ext;

		if (off + 8 > len)
			return -1;
		ext = ((size_t)p[off + 1] + 1) * 8;
		next = p[off];
		off += ext;
		if (off > len)
			return -1;
	}
	if (next != IPPROTO_UDP_NUM || len - off < 8)
		return -1;
	p += off;
	len -= off;
	if (kd_get_be16(p + 4) < 8 || kd_get_be16(p + 4) > len)
		return -1;
	u->sport = kd_get_be16(p);
	u->dport = kd_get_be16(p + 2);
	u->data = p + 8;
	u->len = (size_t)kd_get_be16(p + 4) - 8;
	return 0;
}

static int udp_from_ip(const uint8_t *p, size_t len, struct kdt_udp *u)
{
	if (len < 1)
		return -1;
	if ((p[0] >> 4) == 4)
		return udp_from_ipv4(p, len, u);
	if ((p[0] >> 4) == 6)
		return udp_from_ipv6(p, len, u);
	return -1;
}

static int udp_from_ethertype(uint16_t type, const uint8_t *p, size_t len,
			      struct kdt_udp *u)
{
	if (type == ETHERTYPE_IPV4)
		return udp_from_ipv4(p, len, u);
	if (type == ETHERTYPE_IPV6)
		return udp_from_ipv6(p, len, u);
	return -1;
}

int kdt_udp_from_link(int dlt, const uint8_t *p, size_t len, struct kdt_udp *u)
{
	uint16_t type;
	size_t off;

	memset(u, 0, sizeof(*u));
	switch (dlt) {
	case DLT_EN10MB:
		if (len < 14)
			return -1;
		off = 12;
		type = kd_get_be16(p + off);
		/* Up to two VLAN tags (802.1Q, 802.1ad). */
		for (int i = 0; i < 2; i++) {
			if (type != ETHERTYPE_VLAN && type != ETHERTYPE_QINQ)
				break;
			off += 4;
			if (len < off + 2)
				return -1;
			type = kd_get_be16(p + off);
		}
		return udp_from_ethertype(type, p + off + 2, len - off - 2, u);
	case DLT_NULL:
	case DLT_LOOP:
		/* The 4-byte family differs by OS and byte order: use the IP
		 * version nibble instead. */
		if (len < 4)
			return -1;
		return udp_from_ip(p + 4, len - 4, u);
	case DLT_RAW:
#ifdef DLT_IPV4
	case DLT_IPV4:
#endif
#ifdef DLT_IPV6
	case DLT_IPV6:
#endif
		return udp_from_ip(p, len, u);
	case DLT_LINUX_SLL:
		if (len < 16)
			return -1;
		return udp_from_ethertype(kd_get_be16(p + 14), p + 16, len - 16,
					  u);
#ifdef DLT_LINUX_SLL2
	case DLT_LINUX_SLL2:
		if (len < 20)
			return -1;
		return udp_from_ethertype(kd_get_be16(p), p + 20, len - 20, u);
#endif
	default:
		return -1;
	}
}

static bool dlt_supported(int dlt)
{
	/* Keep in step with the cases of kdt_udp_from_link(). */
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_NULL:
	case DLT_LOOP:
	case DLT_RAW:
	case DLT_LINUX_SLL:
#ifdef DLT_IPV4
	case DLT_IPV4:
#endif
#ifdef DLT_IPV6
	case DLT_IPV6:
#endif
#ifdef DLT_LINUX_SLL2
	case DLT_LINUX_SLL2:
#endif
		return true;
	default:
		return false;
	}
}

int kdt_pcap_udp_foreach(const char *path, uint16_t port, kdt_udp_fn fn,
			 void *arg, unsigned int *skipped, char *err,
			 size_t errcap)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	unsigned int frame = 0, skip = 0;
	pcap_t *pc;
	int dlt, rc = 0, nx;

	pc = pcap_open_offline(path, ebuf);
	if (!pc) {
		snprintf(err, errcap, "%s: %s", path, ebuf);
		return -1;
	}
	dlt = pcap_datalink(pc);
	if (!dlt_supported(dlt)) {
		snprintf(err, errcap, "%s: unsupported link type %d (%s)", path,
			 dlt,
			 pcap_datalink_val_to_name(dlt) ?
				 pcap_datalink_val_to_name(dlt) :
				 "?");
		pcap_close(pc);
		return -1;
	}
	while ((nx = pcap_next_ex(pc, &h, &data)) == 1) {
		struct kdt_udp u;

		frame++;
		if (kdt_udp_from_link(dlt, data, h->caplen, &u) != 0 ||
		    h->caplen < h->len) {
			skip++;
			continue;
		}
		if (port != 0 && u.sport != port && u.dport != port)
			continue;
		u.frame = frame;
		rc = fn(arg, &u);
		if (rc != 0)
			break;
	}
	if (rc == 0 && nx == -1) {
		snprintf(err, errcap, "%s: %s", path, pcap_geterr(pc));
		rc = -1;
	}
	pcap_close(pc);
	if (skipped)
		*skipped = skip;
	return rc;
}
