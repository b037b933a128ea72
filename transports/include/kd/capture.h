/* SPDX-License-Identifier: MIT */
/*
 * Capture frames: the one parser from a captured link-layer frame down to
 * its UDP payload, and openkd's serial capture record format.  Used by the
 * pcap driver's replay and by kdcap; no libpcap types.
 */
#ifndef KD_CAPTURE_H
#define KD_CAPTURE_H

#include <kd/common.h>

KD_BEGIN_DECLS

/*
 * openkd's serial captures use LINKTYPE_USER0; each record is one direction
 * byte followed by the bytes sent that way (docs/capture-format.md).
 */
#define KD_CAPTURE_LINKTYPE_USER0 147
#define KD_CAPTURE_DIR_HOST_TO_TARGET 0
#define KD_CAPTURE_DIR_TARGET_TO_HOST 1

/* A UDP datagram found in a frame; views point into the frame. */
struct kd_capture_udp {
	int family;	 /* 4 or 6 */
	uint8_t src[16]; /* IPv4 uses the first 4 bytes */
	uint8_t dst[16];
	uint16_t sport, dport;
	const uint8_t *payload;
	size_t len;
};

/**
 * True when @p dlt (a libpcap DLT_* value) is a link type whose frames
 * kd_capture_udp_from_frame() understands: Ethernet (with up to two VLAN
 * tags), BSD loopback, raw IPv4/IPv6, Linux SLL and SLL2.
 */
KD_API bool kd_capture_link_supported(int dlt);

/**
 * Find a complete, unfragmented UDP datagram in a frame of link type
 * @p dlt with @p len bytes captured.  Every length is checked against
 * what was captured.
 * @return true and @p out filled, or false when the frame carries none.
 */
KD_API bool kd_capture_udp_from_frame(int dlt, const uint8_t *frame, size_t len,
				      struct kd_capture_udp *out);

KD_END_DECLS

#endif /* KD_CAPTURE_H */
