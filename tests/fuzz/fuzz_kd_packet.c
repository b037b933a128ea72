/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the datagram packet decoder (KDNET carrier).  A
 * decoded packet is rebuilt with the builder and must match byte for byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kd/proto/packet.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[KD_PACKET_HEADER_SIZE + KD_PACKET_MAX_RECV + 1];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kd_packet_view v;
	size_t len = 0;
	int rc = kd_packet_decode(data, size, &v);

	if (rc != 0) {
		if (v.fault == KD_PACKET_FAULT_NONE || v.payload)
			abort();
		if (rc != KD_ETRUNC && rc != KD_EPROTO)
			abort();
		return 0;
	}
	if (v.fault != KD_PACKET_FAULT_NONE)
		abort();
	if (v.hdr.leader == KD_PACKET_LEADER_CONTROL) {
		if (size != KD_PACKET_HEADER_SIZE || v.payload_len)
			abort();
		return 0;
	}
	if (v.payload_len != v.hdr.byte_count ||
	    size != KD_PACKET_HEADER_SIZE + v.payload_len)
		abort();
	if (v.payload_len > KD_PACKET_MAX_SEND ||
	    kd_packet_type_is_control(v.hdr.type))
		return 0; /* decodable but not something we would send */
	if (kd_packet_build(out, sizeof(out), &len, v.hdr.type, v.hdr.id,
			    v.payload, v.payload_len, false) != 0)
		abort();
	if (len != size || memcmp(out, data, size) != 0)
		abort();
	return 0;
}
