/* SPDX-License-Identifier: MIT */
/*
 * KD packet header codec, checksum, builders and the datagram decoder.
 * Pure and freestanding; see kd/proto/packet.h.
 */
#include <string.h>

#include <kd/proto/packet.h>

KD_STATIC_ASSERT(KD_PACKET_MAX_SEND <= KD_PACKET_MAX_RECV,
		 "send limit within receive limit");
KD_STATIC_ASSERT(KD_PACKET_MAX_RECV <= UINT16_MAX, "count is 16 bits");

static const char *const type_names[] = {
	"UNUSED",	   "KD_STATE_CHANGE32",	 "KD_STATE_MANIPULATE",
	"KD_DEBUG_IO",	   "KD_ACKNOWLEDGE",	 "KD_RESEND",
	"KD_RESET",	   "KD_STATE_CHANGE64",	 "KD_POLL_BREAKIN",
	"KD_TRACE_IO",	   "KD_CONTROL_REQUEST", "KD_FILE_IO",
	"PACKET_TYPE_MAX",
};

KD_STATIC_ASSERT(KD_ARRAY_SIZE(type_names) == KD_PACKET_TYPE_MAX + 1,
		 "one name per packet type");

const char *kd_packet_type_name(unsigned type)
{
	if (type >= KD_ARRAY_SIZE(type_names))
		return NULL;
	return type_names[type];
}

const char *kd_packet_fault_name(enum kd_packet_fault fault)
{
	switch (fault) {
	case KD_PACKET_FAULT_NONE:
		return "none";
	case KD_PACKET_FAULT_LEADER:
		return "leader";
	case KD_PACKET_FAULT_TRUNCATED:
		return "truncated";
	case KD_PACKET_FAULT_LENGTH:
		return "length";
	case KD_PACKET_FAULT_CHECKSUM:
		return "checksum";
	case KD_PACKET_FAULT_TRAILER:
		return "trailer";
	}
	return "unknown";
}

bool kd_packet_type_is_control(unsigned type)
{
	return type == KD_PACKET_TYPE_ACKNOWLEDGE ||
	       type == KD_PACKET_TYPE_RESEND || type == KD_PACKET_TYPE_RESET;
}

uint32_t kd_checksum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t a = 0, b = 0, c = 0, d = 0;
	size_t i = 0;

	/* Four independent sums let the compiler vectorise the loop. */
	for (; i + 4 <= len; i += 4) {
		a += p[i];
		b += p[i + 1];
		c += p[i + 2];
		d += p[i + 3];
	}
	for (; i < len; i++)
		a += p[i];
	return a + b + c + d;
}

void kd_packet_header_encode(uint8_t *out, const struct kd_packet_header *h)
{
	kd_put_le32(out, h->leader);
	kd_put_le16(out + 4, h->type);
	kd_put_le16(out + 6, h->byte_count);
	kd_put_le32(out + 8, h->id);
	kd_put_le32(out + 12, h->checksum);
}

void kd_packet_header_decode(struct kd_packet_header *h, const uint8_t *in)
{
	h->leader = kd_get_le32(in);
	h->type = kd_get_le16(in + 4);
	h->byte_count = kd_get_le16(in + 6);
	h->id = kd_get_le32(in + 8);
	h->checksum = kd_get_le32(in + 12);
}

int kd_packet_build(uint8_t *out, size_t cap, size_t *len_out, unsigned type,
		    uint32_t id, const void *payload, size_t payload_len,
		    bool with_trailer)
{
	struct kd_packet_header h;
	size_t total;

	if (payload_len > KD_PACKET_MAX_SEND || type > UINT16_MAX ||
	    kd_packet_type_is_control(type) || (!payload && payload_len))
		return KD_EINVAL;
	total = KD_PACKET_HEADER_SIZE + payload_len + (with_trailer ? 1 : 0);
	if (!out || cap < total)
		return KD_EBUFS;

	h.leader = KD_PACKET_LEADER_DATA;
	h.type = (uint16_t)type;
	h.byte_count = (uint16_t)payload_len;
	h.id = id;
	h.checksum = kd_checksum(payload, payload_len);
	kd_packet_header_encode(out, &h);
	if (payload_len)
		memcpy(out + KD_PACKET_HEADER_SIZE, payload, payload_len);
	if (with_trailer)
		out[KD_PACKET_HEADER_SIZE + payload_len] = KD_PACKET_TRAILER;
	if (len_out)
		*len_out = total;
	return 0;
}

int kd_packet_build_control(uint8_t *out, size_t cap, size_t *len_out,
			    unsigned type, uint32_t id)
{
	struct kd_packet_header h;

	if (!kd_packet_type_is_control(type))
		return KD_EINVAL;
	if (!out || cap < KD_PACKET_HEADER_SIZE)
		return KD_EBUFS;
	h.leader = KD_PACKET_LEADER_CONTROL;
	h.type = (uint16_t)type;
	h.byte_count = 0;
	h.id = id;
	h.checksum = 0;
	kd_packet_header_encode(out, &h);
	if (len_out)
		*len_out = KD_PACKET_HEADER_SIZE;
	return 0;
}

static int decode_fail(struct kd_packet_view *out, enum kd_packet_fault fault,
		       int code)
{
	out->fault = fault;
	out->payload = NULL;
	out->payload_len = 0;
	return code;
}

int kd_packet_decode(const uint8_t *buf, size_t len, struct kd_packet_view *out)
{
	size_t want;

	memset(out, 0, sizeof(*out));
	if (!buf || len < KD_PACKET_HEADER_SIZE)
		return decode_fail(out, KD_PACKET_FAULT_TRUNCATED, KD_ETRUNC);
	kd_packet_header_decode(&out->hdr, buf);

	if (out->hdr.leader == KD_PACKET_LEADER_CONTROL) {
		if (len != KD_PACKET_HEADER_SIZE)
			return decode_fail(out, KD_PACKET_FAULT_LENGTH,
					   KD_EPROTO);
		return 0;
	}
	if (out->hdr.leader != KD_PACKET_LEADER_DATA)
		return decode_fail(out, KD_PACKET_FAULT_LEADER, KD_EPROTO);
	if (out->hdr.byte_count > KD_PACKET_MAX_RECV)
		return decode_fail(out, KD_PACKET_FAULT_LENGTH, KD_EPROTO);
	want = KD_PACKET_HEADER_SIZE + (size_t)out->hdr.byte_count;
	if (len < want)
		return decode_fail(out, KD_PACKET_FAULT_TRUNCATED, KD_ETRUNC);
	if (len > want)
		return decode_fail(out, KD_PACKET_FAULT_LENGTH, KD_EPROTO);
	if (kd_checksum(buf + KD_PACKET_HEADER_SIZE, out->hdr.byte_count) !=
	    out->hdr.checksum)
		return decode_fail(out, KD_PACKET_FAULT_CHECKSUM, KD_EPROTO);
	if (out->hdr.byte_count) {
		out->payload = buf + KD_PACKET_HEADER_SIZE;
		out->payload_len = out->hdr.byte_count;
	}
	return 0;
}
