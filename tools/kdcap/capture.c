/* SPDX-License-Identifier: MIT */
/*
 * kdcap input readers: pcap and pcapng captures through libpcap (UDP
 * extracted here from Ethernet, loopback, raw IP, Linux SLL/SLL2 frames;
 * LINKTYPE_USER0 records are openkd's serial captures), and raw serial
 * byte streams.  Every length is checked against the bytes captured.
 */
#define _DEFAULT_SOURCE 1 /* u_char and friends in pcap.h under C11 */
#include "kdcap.h"

#include <inttypes.h>
#include <pcap/pcap.h>
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
#ifndef DLT_USER0
#define DLT_USER0 147
#endif

/* openkd serial capture record: 1 direction byte, then the bytes. */
#define USER0_DIR_H2T 0
#define USER0_DIR_T2H 1

bool kdcap_is_pcap(const uint8_t *p, size_t len)
{
	uint32_t m;

	if (len < 4)
		return false;
	m = kd_get_le32(p);
	return m == 0xa1b2c3d4u || m == 0xd4c3b2a1u || m == 0xa1b23c4du ||
	       m == 0x4d3cb2a1u || m == 0x0a0d0d0au;
}

/*
 * UDP payload of an IPv4 or IPv6 packet at @p p (@p len bytes captured).
 * @return true and @p out, @p out_len set when it is a complete, unfragmented
 *         UDP datagram.
 */
static bool udp_of_ip(const uint8_t *p, size_t len, const uint8_t **out,
		      size_t *out_len)
{
	size_t hl, total, ulen;

	if (len < 1)
		return false;
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
	} else if (p[0] >> 4 == 6) {
		/* Extension headers are not walked: KDNET never uses them. */
		if (len < IP6_HDR || p[6] != IPPROTO_UDP_NUM)
			return false;
		hl = IP6_HDR;
		total = IP6_HDR + (size_t)kd_get_be16(p + 4);
		if (total > len)
			return false;
	} else {
		return false;
	}
	if (total - hl < UDP_HDR)
		return false;
	ulen = kd_get_be16(p + hl + 4);
	if (ulen < UDP_HDR || ulen > total - hl)
		return false;
	*out = p + hl + UDP_HDR;
	*out_len = ulen - UDP_HDR;
	return true;
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
		for (int i = 0; i < MAX_VLAN_TAGS &&
				(type == ETHERTYPE_VLAN ||
				 type == ETHERTYPE_QINQ);
		     i++) {
			off += 4;
			if (off + 2 > len)
				return -1;
			type = kd_get_be16(p + off);
		}
		if (type != ETHERTYPE_IP4 && type != ETHERTYPE_IP6)
			return -1;
		return (long)(off + 2);
	case DLT_NULL:
	case DLT_LOOP:
		return len >= NULL_HDR ? NULL_HDR : -1;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		return 0;
	case DLT_LINUX_SLL:
		if (len < SLL_HDR)
			return -1;
		type = kd_get_be16(p + 14);
		return type == ETHERTYPE_IP4 || type == ETHERTYPE_IP6 ?
			       SLL_HDR : -1;
	case DLT_LINUX_SLL2:
		if (len < SLL2_HDR)
			return -1;
		type = kd_get_be16(p);
		return type == ETHERTYPE_IP4 || type == ETHERTYPE_IP6 ?
			       SLL2_HDR : -1;
	default:
		return -1;
	}
}

static bool dlt_supported(int dlt)
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
	case DLT_USER0:
		return true;
	default:
		return false;
	}
}

int kdcap_read_pcap(struct kdcap_dec *d, FILE *f, const char *name)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t off[2] = { 0, 0 };
	uint64_t record = 0;
	uint64_t not_udp = 0;
	pcap_t *pc;
	int dlt;
	int rc;

	errbuf[0] = '\0';
	pc = pcap_fopen_offline_with_tstamp_precision(
		f, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!pc) {
		fclose(f);
		kdcap_dec_error(d, "%s: not a readable capture: %s", name,
				errbuf[0] ? errbuf : "unknown error");
		return KD_EPROTO;
	}
	dlt = pcap_datalink(pc);
	if (!dlt_supported(dlt)) {
		kdcap_dec_error(d, "%s: unsupported link type %d (%s)", name,
				dlt, pcap_datalink_val_to_name(dlt) ?
					     pcap_datalink_val_to_name(dlt) :
					     "unknown");
		pcap_close(pc);
		return KD_EPROTO;
	}
	rc = 0;
	for (;;) {
		int r = pcap_next_ex(pc, &h, &data);
		uint64_t ts;
		size_t len;

		if (r == PCAP_ERROR_BREAK)
			break;
		if (r != 1) {
			kdcap_dec_error(d, "%s: record %" PRIu64 ": %s", name,
					record + 1, pcap_geterr(pc));
			rc = KD_ETRUNC;
			break;
		}
		record++;
		d->st.records++;
		len = h->caplen;
		ts = (uint64_t)h->ts.tv_sec * 1000000000u +
		     (uint64_t)h->ts.tv_usec; /* nanoseconds: see open */
		if (dlt == DLT_USER0) {
			int dir;

			if (len < 1) {
				not_udp++;
				continue;
			}
			if (data[0] == USER0_DIR_H2T)
				dir = KDCAP_DIR_H2T;
			else if (data[0] == USER0_DIR_T2H)
				dir = KDCAP_DIR_T2H;
			else {
				kdcap_dec_error(d,
						"%s: record %" PRIu64
						": bad direction byte 0x%02x",
						name, record, data[0]);
				continue;
			}
			kdcap_dec_stream(d, (enum kdcap_dir)dir, ts, off[dir],
					 data + 1, len - 1);
			off[dir] += len - 1;
		} else {
			long ip = ip_offset(dlt, data, len);
			const uint8_t *udp;
			size_t ulen;

			if (ip < 0 || !udp_of_ip(data + ip, len - (size_t)ip,
						 &udp, &ulen)) {
				not_udp++;
				continue;
			}
			kdcap_dec_datagram(d, ts, udp, ulen);
		}
	}
	if (not_udp)
		fprintf(d->err, "kdcap: %s: %" PRIu64
			" record(s) without a KD payload skipped\n",
			name, not_udp);
	pcap_close(pc);
	return rc;
}

void kdcap_read_raw(struct kdcap_dec *d, enum kdcap_dir dir,
		    const uint8_t *p, size_t len)
{
	kdcap_dec_stream(d, dir, UINT64_MAX, 0, p, len);
}
