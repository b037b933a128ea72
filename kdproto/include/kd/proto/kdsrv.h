/* SPDX-License-Identifier: MIT */
/*
 * Messages of openkd's KD connection server protocol (docs/kdsrv-protocol.md):
 * what a smart client and kdsrv exchange inside remote-channel messages.
 * Pure encode/decode with every field and length bounded.
 */
#ifndef KD_PROTO_KDSRV_H
#define KD_PROTO_KDSRV_H

#include <kd/common.h>

KD_BEGIN_DECLS

/* Minor protocol version (the major one is in the channel's service name). */
#define KD_SRV_PROTO_MINOR 0

/* Longest text field (transport strings, messages). */
#define KD_SRV_MAX_TEXT 1024u
/* Longest KD packet payload carried (kd-protocol.md §1.9 receive limit). */
#define KD_SRV_MAX_PAYLOAD 4096u
/* Client-to-server packets carry at most the send limit. */
#define KD_SRV_MAX_SEND 4000u
/* Counters in a STATS reply. */
#define KD_SRV_MAX_COUNTERS 32u
/* Largest encoded message. */
#define KD_SRV_MSG_MAX (32u + KD_SRV_MAX_PAYLOAD + KD_SRV_MAX_TEXT)
/* Timeouts a client may ask for (ms); -1 means no bound. */
#define KD_SRV_MAX_TIMEOUT_MS 3600000

enum kd_srv_msg_type {
	/* client -> server */
	KD_SRV_OPEN = 0x01,
	KD_SRV_SYNC = 0x02,
	KD_SRV_PACKET = 0x03,
	KD_SRV_BREAKIN = 0x04,
	KD_SRV_STATS = 0x05,
	KD_SRV_END = 0x06,
	KD_SRV_CLOSE = 0x07,
	/* server -> client */
	KD_SRV_OPENED = 0x81,
	KD_SRV_SYNCED = 0x82,
	KD_SRV_RPACKET = 0x83,
	KD_SRV_SEND_FAILED = 0x84,
	KD_SRV_STATS_REPLY = 0x85,
	KD_SRV_ENDED = 0x86,
	KD_SRV_ERROR = 0x8f,
};

/* OPENED flags. */
#define KD_SRV_OPENED_KDNET 0x1u  /* the server's link uses KDNET framing */
#define KD_SRV_OPENED_REUSED 0x2u /* a link left by an earlier client */

/*
 * One decoded message.  Only the fields of its type are meaningful; the
 * pointers point into the buffer given to kd_srv_msg_decode().
 */
struct kd_srv_msg {
	uint8_t type;	     /* enum kd_srv_msg_type */
	uint16_t minor;	     /* OPEN, OPENED */
	uint16_t pkt_type;   /* PACKET, RPACKET, SEND_FAILED */
	uint32_t seq;	     /* SYNC, SYNCED, STATS, STATS_REPLY, END, ENDED */
	int32_t status;	     /* SYNCED, SEND_FAILED, ERROR: 0 or KD_E* */
	int32_t timeout_ms;  /* OPEN, SYNC: -1 or 0..KD_SRV_MAX_TIMEOUT_MS */
	uint32_t flags;	     /* OPENED */
	uint32_t events;     /* SYNCED, RPACKET, SEND_FAILED: link events */
	const uint8_t *data; /* PACKET, RPACKET payload */
	uint32_t data_len;
	const char *text; /* printable ASCII, not NUL-terminated */
	uint32_t text_len;
	uint32_t ncounters; /* STATS_REPLY */
	uint64_t counters[KD_SRV_MAX_COUNTERS];
};

/**
 * Encode @p m into @p buf.
 * @return KD_OK with *len_out set; KD_EINVAL (unknown type, field out of
 *         range, text not printable); KD_EBUFS (@p cap too small).
 */
KD_API KD_WARN_UNUSED int kd_srv_msg_encode(uint8_t *buf, size_t cap,
					    size_t *len_out,
					    const struct kd_srv_msg *m);

/**
 * Decode and validate one message of exactly @p len bytes.
 * @return KD_OK; KD_ETRUNC (shorter than its fields say); KD_EPROTO
 *         (unknown type, reserved byte set, bad field, trailing bytes,
 *         length over its bound, text not printable ASCII).
 */
KD_API KD_WARN_UNUSED int kd_srv_msg_decode(struct kd_srv_msg *m,
					    const uint8_t *buf, size_t len);

/** True for the types a client sends (the server accepts only these). */
KD_API bool kd_srv_msg_from_client(uint8_t type);

/** Name of a message type ("OPEN", "RPACKET"), "?" when unknown. */
KD_API const char *kd_srv_msg_name(uint8_t type);

KD_END_DECLS

#endif /* KD_PROTO_KDSRV_H */
