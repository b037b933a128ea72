/* SPDX-License-Identifier: MIT */
/*
 * KDCOM stream parser: leader hunt (§1.2), header, payload and trailer
 * collection, validation and resync.  Pure and freestanding.
 */
#include <string.h>

#include <kd/proto/stream.h>

#define LEADER_RUN 4

void kd_stream_init(struct kd_stream *s)
{
	memset(s, 0, sizeof(*s));
	s->state = KD_STREAM_HUNT;
}

static void hunt_again(struct kd_stream *s)
{
	s->state = KD_STREAM_HUNT;
	s->run_len = 0;
	s->have = 0;
	s->want = 0;
}

bool kd_stream_reset(struct kd_stream *s)
{
	bool partial = kd_stream_in_packet(s);

	/* A half-seen leader run is garbage now. */
	s->skipped += s->run_len;
	s->stats.bytes_skipped += s->run_len;
	hunt_again(s);
	return partial;
}

bool kd_stream_in_packet(const struct kd_stream *s)
{
	return s->state != KD_STREAM_HUNT;
}

const struct kd_stream_stats *kd_stream_stats(const struct kd_stream *s)
{
	return &s->stats;
}

static void discard(struct kd_stream *s, size_t n)
{
	s->skipped += n;
	s->stats.bytes_skipped += n;
}

/* Fill the common part of an event and reset the per-event counters. */
static void emit(struct kd_stream *s, struct kd_stream_event *ev,
		 enum kd_stream_event_kind kind)
{
	ev->kind = kind;
	ev->skipped = s->skipped;
	if (s->skipped)
		s->stats.resyncs++;
	s->skipped = 0;
}

static void emit_bad(struct kd_stream *s, struct kd_stream_event *ev,
		     enum kd_packet_fault reason)
{
	emit(s, ev, KD_STREAM_EVENT_BAD_PACKET);
	ev->hdr = s->hdr;
	ev->reason = reason;
	switch (reason) {
	case KD_PACKET_FAULT_CHECKSUM:
		s->stats.bad_checksums++;
		break;
	case KD_PACKET_FAULT_TRAILER:
		s->stats.bad_trailers++;
		break;
	default:
		s->stats.bad_lengths++;
		break;
	}
	hunt_again(s);
}

static void emit_packet(struct kd_stream *s, struct kd_stream_event *ev)
{
	emit(s, ev, KD_STREAM_EVENT_PACKET);
	ev->hdr = s->hdr;
	ev->raw = s->buf;
	ev->raw_len = s->have;
	ev->payload_len = s->have - KD_PACKET_HEADER_SIZE;
	ev->payload = ev->payload_len ? s->buf + KD_PACKET_HEADER_SIZE : NULL;
	s->stats.packets++;
	if (s->hdr.leader == KD_PACKET_LEADER_DATA)
		s->stats.data_packets++;
	else
		s->stats.control_packets++;
	hunt_again(s);
}

/*
 * Hunt over @p buf.  Returns bytes consumed; stops after a full leader
 * (state HEADER) or a break-in byte (event emitted).
 */
static size_t hunt(struct kd_stream *s, const uint8_t *buf, size_t len,
		   struct kd_stream_event *ev)
{
	size_t i;

	for (i = 0; i < len; i++) {
		uint8_t b = buf[i];

		if (b == KD_PACKET_LEADER_BYTE_DATA ||
		    b == KD_PACKET_LEADER_BYTE_CONTROL) {
			if (s->run_len && b != s->run_byte) {
				/* A different leader byte restarts the run. */
				discard(s, s->run_len);
				s->run_len = 0;
			}
			s->run_byte = b;
			s->run_len++;
			if (s->run_len == LEADER_RUN) {
				memset(s->buf, b, LEADER_RUN);
				s->have = LEADER_RUN;
				s->want = KD_PACKET_HEADER_SIZE;
				s->run_len = 0;
				s->state = KD_STREAM_HEADER;
				return i + 1;
			}
			continue;
		}
		discard(s, s->run_len);
		s->run_len = 0;
		if (b == KD_BREAKIN_BYTE) {
			emit(s, ev, KD_STREAM_EVENT_BREAKIN);
			s->stats.breakins++;
			return i + 1;
		}
		discard(s, 1);
	}
	return len;
}

/* The header is complete: decide what follows. */
static void header_done(struct kd_stream *s, struct kd_stream_event *ev)
{
	kd_packet_header_decode(&s->hdr, s->buf);
	if (s->hdr.leader == KD_PACKET_LEADER_CONTROL) {
		/* Control packets are the bare header (§1.1). */
		emit_packet(s, ev);
		return;
	}
	if (s->hdr.byte_count > KD_PACKET_MAX_RECV) {
		emit_bad(s, ev, KD_PACKET_FAULT_LENGTH);
		return;
	}
	s->want = KD_PACKET_HEADER_SIZE + (size_t)s->hdr.byte_count;
	s->state = s->want > s->have ? KD_STREAM_PAYLOAD : KD_STREAM_TRAILER;
}

/* The trailer position has a byte: validate the data packet. */
static size_t trailer(struct kd_stream *s, uint8_t b,
		      struct kd_stream_event *ev)
{
	if (b != KD_PACKET_TRAILER) {
		/*
		 * Leave the byte unconsumed: after a dropped byte it may be
		 * the first of the next leader.
		 */
		emit_bad(s, ev, KD_PACKET_FAULT_TRAILER);
		return 0;
	}
	if (kd_checksum(s->buf + KD_PACKET_HEADER_SIZE, s->hdr.byte_count) !=
	    s->hdr.checksum)
		emit_bad(s, ev, KD_PACKET_FAULT_CHECKSUM);
	else
		emit_packet(s, ev);
	return 1;
}

size_t kd_stream_feed(struct kd_stream *s, const uint8_t *buf, size_t len,
		      struct kd_stream_event *ev)
{
	size_t used = 0;

	memset(ev, 0, sizeof(*ev));
	ev->kind = KD_STREAM_EVENT_NONE;
	while (used < len && ev->kind == KD_STREAM_EVENT_NONE) {
		size_t n;

		switch (s->state) {
		case KD_STREAM_HUNT:
			used += hunt(s, buf + used, len - used, ev);
			break;
		case KD_STREAM_HEADER:
		case KD_STREAM_PAYLOAD:
			n = s->want - s->have;
			if (n > len - used)
				n = len - used;
			memcpy(s->buf + s->have, buf + used, n);
			s->have += n;
			used += n;
			if (s->have < s->want)
				break;
			if (s->state == KD_STREAM_HEADER)
				header_done(s, ev);
			else
				s->state = KD_STREAM_TRAILER;
			break;
		case KD_STREAM_TRAILER:
			used += trailer(s, buf[used], ev);
			break;
		}
	}
	s->stats.bytes += used;
	return used;
}
