/* SPDX-License-Identifier: MIT */
/*
 * Incremental KDCOM stream parser: turns a serial byte stream, cut into any
 * chunks, into packet, break-in and bad-packet events (kd-protocol.md §1).
 * Fixed internal buffer, no heap; the link layer and kdstub call it.
 */
#ifndef KD_PROTO_STREAM_H
#define KD_PROTO_STREAM_H

#include <kd/common.h>
#include <kd/proto/packet.h>

KD_BEGIN_DECLS

enum kd_stream_event_kind {
	KD_STREAM_EVENT_NONE = 0,   /* all input consumed, nothing to report */
	KD_STREAM_EVENT_PACKET,	    /* a valid data or control packet */
	KD_STREAM_EVENT_BREAKIN,    /* a 0x62 byte seen while hunting (§1.8) */
	KD_STREAM_EVENT_BAD_PACKET, /* framing ok, packet bad: answer RESEND */
};

/*
 * One parser event.  Views point into the parser's own buffer and stay valid
 * until the next kd_stream_feed() or kd_stream_reset().
 */
struct kd_stream_event {
	enum kd_stream_event_kind kind;
	/*
	 * Garbage bytes discarded while hunting for a leader since the previous
	 * event (any kind).  Bytes of a bad packet are not counted here.
	 */
	size_t skipped;
	/* PACKET and BAD_PACKET: */
	struct kd_packet_header hdr;
	/* PACKET: */
	const uint8_t *payload; /* NULL when payload_len is 0 */
	size_t payload_len;
	const uint8_t *raw; /* header + payload, no trailer */
	size_t raw_len;
	/* BAD_PACKET: */
	enum kd_packet_fault reason; /* LENGTH, CHECKSUM or TRAILER */
};

struct kd_stream_stats {
	uint64_t bytes;	  /* bytes consumed */
	uint64_t packets; /* PACKET events */
	uint64_t data_packets;
	uint64_t control_packets;
	uint64_t bad_checksums;
	uint64_t bad_trailers;
	uint64_t bad_lengths;
	uint64_t bytes_skipped; /* garbage discarded while hunting */
	uint64_t breakins;
	uint64_t resyncs; /* events preceded by skipped garbage */
};

enum kd_stream_state {
	KD_STREAM_HUNT = 0,
	KD_STREAM_HEADER,
	KD_STREAM_PAYLOAD,
	KD_STREAM_TRAILER,
};

/* Opaque in spirit: callers use the functions, tests may read stats. */
struct kd_stream {
	enum kd_stream_state state;
	uint8_t run_byte; /* leader byte of the current run */
	uint8_t run_len;  /* identical leader bytes seen, 0..3 */
	size_t have;	  /* bytes of header + payload in buf */
	size_t want;	  /* bytes of header + payload expected */
	size_t skipped;	  /* garbage since the previous event */
	struct kd_packet_header hdr;
	struct kd_stream_stats stats;
	uint8_t buf[KD_PACKET_HEADER_SIZE + KD_PACKET_MAX_RECV];
};

/** Start (or restart) hunting for a leader; statistics are cleared. */
KD_API void kd_stream_init(struct kd_stream *s);

/**
 * Drop a partly received packet and hunt again, keeping statistics: call on
 * an inter-byte timeout mid-packet (§1.7(5)), then answer RESEND.
 * @return true when a partial packet was dropped.
 */
KD_API bool kd_stream_reset(struct kd_stream *s);

/** True while a leader has been seen and its packet is incomplete. */
KD_API bool kd_stream_in_packet(const struct kd_stream *s);

/**
 * Feed bytes.  Stops after the first event; the caller loops until all
 * input is consumed.  A call may consume 0 bytes when it reports an event
 * (a bad trailer byte is left to be hunted again), so loop on events too:
 *
 *     while (len) {
 *             n = kd_stream_feed(s, buf, len, &ev);
 *             buf += n; len -= n;
 *             if (ev.kind != KD_STREAM_EVENT_NONE) handle(&ev);
 *     }
 *
 * Any chunking of the same bytes yields the same events.
 *
 * @param ev  out: the event, kind NONE when everything was consumed quietly.
 * @return bytes consumed from @p buf.
 */
KD_API size_t kd_stream_feed(struct kd_stream *s, const uint8_t *buf,
			     size_t len, struct kd_stream_event *ev);

/** Counters since kd_stream_init(). */
KD_API const struct kd_stream_stats *kd_stream_stats(const struct kd_stream *s);

KD_END_DECLS

#endif /* KD_PROTO_STREAM_H */
