/* SPDX-License-Identifier: MIT */
/*
 * kdcap input readers: pcap and pcapng captures through libpcap (frames
 * down to UDP through kd/capture.h, the parser the pcap driver's replay
 * uses too; LINKTYPE_USER0 records are openkd's serial captures), and raw
 * serial byte streams.  Every length is checked against the bytes captured.
 */
#define _DEFAULT_SOURCE 1 /* u_char and friends in pcap.h under C11 */
#include "kdcap.h"

#include <inttypes.h>
#include <pcap/pcap.h>
#include <string.h>

#include <kd/capture.h>

bool kdcap_is_pcap(const uint8_t *p, size_t len)
{
	uint32_t m;

	if (len < 4)
		return false;
	m = kd_get_le32(p);
	return m == 0xa1b2c3d4u || m == 0xd4c3b2a1u || m == 0xa1b23c4du ||
	       m == 0x4d3cb2a1u || m == 0x0a0d0d0au;
}

static bool dlt_supported(int dlt)
{
	return dlt == KD_CAPTURE_LINKTYPE_USER0 ||
	       kd_capture_link_supported(dlt);
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
				dlt,
				pcap_datalink_val_to_name(dlt) ?
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
		if (dlt == KD_CAPTURE_LINKTYPE_USER0) {
			int dir;

			if (len < 1) {
				not_udp++;
				continue;
			}
			if (data[0] == KD_CAPTURE_DIR_HOST_TO_TARGET)
				dir = KDCAP_DIR_H2T;
			else if (data[0] == KD_CAPTURE_DIR_TARGET_TO_HOST)
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
			struct kd_capture_udp v;

			if (!kd_capture_udp_from_frame(dlt, data, len, &v)) {
				not_udp++;
				continue;
			}
			kdcap_dec_datagram(d, ts, v.payload, v.len);
		}
	}
	if (not_udp)
		fprintf(d->err,
			"kdcap: %s: %" PRIu64
			" record(s) without a KD payload skipped\n",
			name, not_udp);
	pcap_close(pc);
	return rc;
}

void kdcap_read_raw(struct kdcap_dec *d, enum kdcap_dir dir, const uint8_t *p,
		    size_t len)
{
	kdcap_dec_stream(d, dir, UINT64_MAX, 0, p, len);
}
