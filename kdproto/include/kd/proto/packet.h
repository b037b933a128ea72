/* SPDX-License-Identifier: MIT */
/*
 * The KD packet: 16-byte header, payload, and (on serial carriers) the 0xAA
 * trailer.  Constants, header codec, checksum, builders, and a whole-buffer
 * decoder for datagram carriers (KDNET).  Facts: kd-protocol.md §1, §3.5.
 */
#ifndef KD_PROTO_PACKET_H
#define KD_PROTO_PACKET_H

#include <kd/common.h>

KD_BEGIN_DECLS

/*
 * Wire layout (little-endian, kd-protocol.md §1.3):
 *
 *   0      4      6      8          12         16            16+n
 *   +------+------+------+----------+----------+-------------+----+
 *   |leader| type | count|    id    | checksum | payload (n) | AA |
 *   +------+------+------+----------+----------+-------------+----+
 *
 * The 0xAA trailer follows data packets on serial and pipe carriers only.
 * Control packets (ACK, RESEND, RESET) are the bare header.
 */
#define KD_PACKET_LEADER_DATA 0x30303030u    /* "0000" */
#define KD_PACKET_LEADER_CONTROL 0x69696969u /* "iiii" */
#define KD_PACKET_LEADER_BYTE_DATA 0x30
#define KD_PACKET_LEADER_BYTE_CONTROL 0x69
#define KD_BREAKIN_BYTE 0x62 /* "b", host asks to break */
#define KD_PACKET_TRAILER 0xAA
#define KD_PACKET_HEADER_SIZE 16
#define KD_PACKET_MAX_SEND 4000		 /* §1.9: send at most */
#define KD_PACKET_MAX_RECV 4096		 /* §1.9: accept at most */
#define KD_PACKET_ID_INITIAL 0x80800000u /* §1.6 */
#define KD_PACKET_ID_SYNC 0x00000800u	 /* §1.6 */

/* Packet types (kd-protocol.md §1.5); Microsoft names in the comments. */
enum kd_packet_type {
	KD_PACKET_TYPE_UNUSED = 0,	   /* PACKET_TYPE_UNUSED */
	KD_PACKET_TYPE_STATE_CHANGE32 = 1, /* PACKET_TYPE_KD_STATE_CHANGE32 */
	/* PACKET_TYPE_KD_STATE_MANIPULATE */
	KD_PACKET_TYPE_STATE_MANIPULATE = 2,
	KD_PACKET_TYPE_DEBUG_IO = 3,	   /* PACKET_TYPE_KD_DEBUG_IO */
	KD_PACKET_TYPE_ACKNOWLEDGE = 4,	   /* PACKET_TYPE_KD_ACKNOWLEDGE */
	KD_PACKET_TYPE_RESEND = 5,	   /* PACKET_TYPE_KD_RESEND */
	KD_PACKET_TYPE_RESET = 6,	   /* PACKET_TYPE_KD_RESET */
	KD_PACKET_TYPE_STATE_CHANGE64 = 7, /* PACKET_TYPE_KD_STATE_CHANGE64 */
	KD_PACKET_TYPE_POLL_BREAKIN = 8,   /* PACKET_TYPE_KD_POLL_BREAKIN */
	KD_PACKET_TYPE_TRACE_IO = 9,	   /* PACKET_TYPE_KD_TRACE_IO */
	/* PACKET_TYPE_KD_CONTROL_REQUEST */
	KD_PACKET_TYPE_CONTROL_REQUEST = 10,
	KD_PACKET_TYPE_FILE_IO = 11, /* PACKET_TYPE_KD_FILE_IO */
	KD_PACKET_TYPE_MAX = 12,     /* PACKET_TYPE_MAX */
};

/* Why a packet was rejected; shared by the stream parser and the decoder. */
enum kd_packet_fault {
	KD_PACKET_FAULT_NONE = 0,
	KD_PACKET_FAULT_LEADER,	   /* not 0000/iiii (datagram decoder only) */
	KD_PACKET_FAULT_TRUNCATED, /* buffer shorter than header + count */
	KD_PACKET_FAULT_LENGTH,	   /* count > 4096, or bytes after the packet */
	KD_PACKET_FAULT_CHECKSUM,  /* payload sum differs from the header */
	KD_PACKET_FAULT_TRAILER,   /* data packet not followed by 0xAA */
};

/* The header, decoded to host order.  Never overlay this on wire bytes. */
struct kd_packet_header {
	uint32_t leader;     /* KD_PACKET_LEADER_DATA or _CONTROL */
	uint16_t type;	     /* enum kd_packet_type */
	uint16_t byte_count; /* payload bytes; excludes header and trailer */
	uint32_t id;	     /* §1.6 / §3.5 */
	uint32_t checksum;   /* kd_checksum(payload); 0 on control packets */
};

/* A decoded packet; payload points into the caller's buffer. */
struct kd_packet_view {
	struct kd_packet_header hdr;
	const uint8_t *payload; /* NULL when payload_len is 0 */
	size_t payload_len;
	enum kd_packet_fault fault; /* set by kd_packet_decode() on failure */
};

/** Microsoft name of a packet type ("KD_STATE_MANIPULATE"); NULL if unknown. */
KD_API const char *kd_packet_type_name(unsigned type);

/** Static name of a fault ("checksum"); never NULL. */
KD_API const char *kd_packet_fault_name(enum kd_packet_fault fault);

/** True for ACK, RESEND and RESET, the types sent with the control leader. */
KD_API bool kd_packet_type_is_control(unsigned type);

/**
 * Unsigned 32-bit sum of @p len bytes, wrapping (§1.4).
 * @return the checksum; 0 for an empty buffer.
 */
KD_API uint32_t kd_checksum(const void *data, size_t len);

/** Write @p h as 16 little-endian bytes at @p out. */
KD_API void kd_packet_header_encode(uint8_t *out,
				    const struct kd_packet_header *h);

/** Read 16 bytes at @p in into @p h.  No validation. */
KD_API void kd_packet_header_decode(struct kd_packet_header *h,
				    const uint8_t *in);

/**
 * Build a data packet: header, @p payload, and the 0xAA trailer when
 * @p with_trailer (serial carriers; false for KDNET).  @p payload may alias
 * nothing in @p out.
 *
 * @param len_out   out: bytes written.
 * @return 0; KD_EINVAL when @p payload_len exceeds KD_PACKET_MAX_SEND, when
 *         @p payload is NULL with a non-zero length, or when @p type is a
 *         control type; KD_EBUFS when @p cap is too small (nothing written).
 */
KD_API int kd_packet_build(uint8_t *out, size_t cap, size_t *len_out,
			   unsigned type, uint32_t id, const void *payload,
			   size_t payload_len, bool with_trailer);

/**
 * Build a 16-byte control packet (ACK, RESEND or RESET; checksum 0).
 * @return 0; KD_EINVAL for another type; KD_EBUFS when @p cap < 16.
 */
KD_API int kd_packet_build_control(uint8_t *out, size_t cap, size_t *len_out,
				   unsigned type, uint32_t id);

/**
 * Decode one whole packet that fills @p buf exactly, as a datagram carrier
 * delivers it (KDNET, §3.5: no trailer).  Control packets must be exactly
 * 16 bytes; their count and checksum are not checked (§1.7(6)).  The
 * 12-byte KDNET "ping" (leader 0) is rejected as truncated: the link
 * recognises it before calling this.
 *
 * @param out  out: header, payload view into @p buf, and fault.
 * @return 0; KD_ETRUNC when @p buf is shorter than the header or than
 *         16 + count; KD_EPROTO for a bad leader, count > 4096, trailing
 *         bytes, or a checksum mismatch (out->fault tells which).
 */
KD_API int kd_packet_decode(const uint8_t *buf, size_t len,
			    struct kd_packet_view *out);

KD_END_DECLS

#endif /* KD_PROTO_PACKET_H */
