/* SPDX-License-Identifier: MIT */
/*
 * The target role of the KD link: polls the one I/O driver, frames KDCOM
 * bytes or KDNET datagrams, and applies the target's id, ACK, RESEND, RESET
 * and retry rules (kd-protocol.md §1.6, §1.7, §1.10, §3.5).
 */
#include <string.h>

#include "stub_int.h"

/* A timeout measured in milliseconds when the driver has a clock, else in
 * empty polls (§1.10's counting loop). */
struct kdstub_timer {
	uint64_t start;
	long polls;
};

static void timer_start(const struct kdstub *s, struct kdstub_timer *t)
{
	t->start = s->io->now_ms ? s->io->now_ms() : 0;
	t->polls = 0;
}

/* Call after an empty poll. */
static bool timer_expired(const struct kdstub *s, struct kdstub_timer *t)
{
	if (s->io->now_ms)
		return s->io->now_ms() - t->start >= s->ack_timeout_ms;
	t->polls++;
	return t->polls > s->poll_limit;
}

static void xmit(struct kdstub *s, const uint8_t *p, size_t n)
{
	size_t i;

	if (s->packet_mode) {
		/* A failed datagram is a lost packet: retries cover it. */
		(void)s->io->send_packet(p, n);
		return;
	}
	for (i = 0; i < n; i++)
		s->io->putc(p[i]);
	if (s->io->flush)
		s->io->flush();
}

void kdstub_link_control(struct kdstub *s, unsigned type, uint32_t id)
{
	uint8_t pkt[KD_PACKET_HEADER_SIZE];
	size_t n;

	if (kd_packet_build_control(pkt, sizeof(pkt), &n, type, id) == 0)
		xmit(s, pkt, n);
}

static void send_ack(struct kdstub *s, uint32_t id)
{
	kdstub_link_control(s, KD_PACKET_TYPE_ACKNOWLEDGE, id);
}

static void send_resend(struct kdstub *s)
{
	kdstub_link_control(s, KD_PACKET_TYPE_RESEND, 0);
}

/* Byte carriers: feed the parser until an event or an empty driver. */
static int poll_bytes(struct kdstub *s)
{
	struct kd_stream_event ev;
	uint8_t b;
	size_t n;
	int c;

	for (;;) {
		c = s->held;
		if (c >= 0)
			s->held = -1;
		else
			c = s->io->getc();
		if (c < 0)
			break;
		s->rx_idle = 0;
		if (s->io->now_ms)
			s->rx_mark_ms = s->io->now_ms();
		b = (uint8_t)c;
		n = kd_stream_feed(&s->stream, &b, 1, &ev);
		if (n == 0 && ev.kind != KD_STREAM_EVENT_NONE)
			s->held = c; /* the parser hunts this byte again */
		switch (ev.kind) {
		case KD_STREAM_EVENT_NONE:
			break;
		case KD_STREAM_EVENT_PACKET:
			s->rx_hdr = ev.hdr;
			if (ev.raw_len > sizeof(s->rx))
				return KDSTUB_RX_BAD;
			memcpy(s->rx, ev.raw, ev.raw_len);
			return KDSTUB_RX_PACKET;
		case KD_STREAM_EVENT_BREAKIN:
			return KDSTUB_RX_BREAKIN;
		case KD_STREAM_EVENT_BAD_PACKET:
			return KDSTUB_RX_BAD;
		}
	}
	/* Nothing waiting: a packet stuck half way times out (§1.7(5)). */
	if (!kd_stream_in_packet(&s->stream))
		return KDSTUB_RX_NONE;
	if (s->io->now_ms) {
		if (s->io->now_ms() - s->rx_mark_ms < s->ack_timeout_ms)
			return KDSTUB_RX_NONE;
	} else if (++s->rx_idle <= s->poll_limit) {
		return KDSTUB_RX_NONE;
	}
	kd_stream_reset(&s->stream);
	s->rx_idle = 0;
	return KDSTUB_RX_BAD;
}

/* Datagram carriers: one KD packet per call, no trailer (§3.5). */
static int poll_packet(struct kdstub *s)
{
	struct kd_packet_view v;
	size_t len = 0;
	int r;

	r = s->io->recv_packet(s->rx, sizeof(s->rx), &len);
	if (r != 0 || len == 0 || len > sizeof(s->rx))
		return KDSTUB_RX_NONE;
	if (len < KD_PACKET_HEADER_SIZE) {
		/* Break-in: a datagram whose payload is the byte 0x62. */
		if (s->rx[0] == KD_BREAKIN_BYTE)
			return KDSTUB_RX_BREAKIN;
		return KDSTUB_RX_NONE; /* the 12-byte ping or noise */
	}
	if (kd_packet_decode(s->rx, len, &v) != 0) {
		if (v.fault == KD_PACKET_FAULT_LEADER)
			return KDSTUB_RX_NONE;
		return KDSTUB_RX_BAD;
	}
	s->rx_hdr = v.hdr;
	return KDSTUB_RX_PACKET;
}

int kdstub_link_poll(struct kdstub *s)
{
	return s->packet_mode ? poll_packet(s) : poll_bytes(s);
}

static void on_reset(struct kdstub *s)
{
	struct kd_ids_reset r;

	kd_ids_on_reset(&s->ids, &r);
	s->stats.resets_received++;
	s->last_rx_count = 0;
	s->last_rx_type = 0;
	s->last_rx_sum = 0;
	if (r.answer)
		kdstub_link_control(s, KD_PACKET_TYPE_RESET, r.answer_id);
}

static void acked(struct kdstub *s)
{
	s->retries_left = s->retries;
	s->debugger_present = true;
}

/* Retransmit the pending packet with the id the ids machine now wants. */
static void retransmit(struct kdstub *s)
{
	kd_put_le32(s->tx + 8, kd_ids_send(&s->ids));
	s->stats.retransmissions++;
	xmit(s, s->tx, s->tx_len);
}

int kdstub_link_send(struct kdstub *s, unsigned type, const uint8_t *payload,
		     size_t len, bool losable)
{
	struct kdstub_timer t;
	struct kd_ids_rx d;
	int r;

	if (len > KDSTUB_MAX_SEND)
		len = KDSTUB_MAX_SEND;
	r = kd_packet_build(s->tx, sizeof(s->tx), &s->tx_len, type,
			    kd_ids_send(&s->ids), payload, len,
			    !s->packet_mode);
	if (r != 0)
		return r;
	s->stats.packets_sent++;
	xmit(s, s->tx, s->tx_len);
	timer_start(s, &t);
	for (;;) {
		switch (kdstub_link_poll(s)) {
		case KDSTUB_RX_PACKET:
			if (s->rx_hdr.leader == KD_PACKET_LEADER_CONTROL) {
				switch (s->rx_hdr.type) {
				case KD_PACKET_TYPE_ACKNOWLEDGE:
					if (kd_ids_on_ack(&s->ids,
							  s->rx_hdr.id)) {
						acked(s);
						return 0;
					}
					break;
				case KD_PACKET_TYPE_RESEND:
					if (kd_ids_on_resend(&s->ids)) {
						retransmit(s);
						timer_start(s, &t);
					}
					break;
				case KD_PACKET_TYPE_RESET:
					/* §1.7(4): answer, re-send pending. */
					on_reset(s);
					retransmit(s);
					timer_start(s, &t);
					break;
				default:
					break; /* §1.7(6) */
				}
				break;
			}
			/* §1.7(3): host data means it saw ours. */
			kd_ids_on_data(&s->ids, s->rx_hdr.id, &d);
			if (d.send_resend)
				send_resend(s);
			else if (d.send_ack)
				send_ack(s, d.ack_id);
			if (d.implicit_ack) {
				acked(s);
				return 0;
			}
			break;
		case KDSTUB_RX_BREAKIN:
			if (!s->breakin_pending)
				s->stats.breakins++;
			s->breakin_pending = true;
			break;
		case KDSTUB_RX_BAD:
			s->stats.bad_packets++;
			send_resend(s);
			break;
		default:
			if (!timer_expired(s, &t))
				break;
			if (s->retries_left == 0) {
				if (losable) {
					/* §1.10: the debugger is absent. */
					kd_ids_target_give_up(&s->ids);
					s->debugger_present = false;
					s->stats.give_ups++;
					return KD_ETIMEOUT;
				}
			} else {
				s->retries_left--;
			}
			retransmit(s);
			timer_start(s, &t);
			break;
		}
	}
}

/* Smallest payload of each packet type the target takes (§1.7(5)). */
static size_t min_payload(unsigned type)
{
	switch (type) {
	case KD_PACKET_TYPE_STATE_MANIPULATE:
		return KD_MANIP_SIZE;
	case KD_PACKET_TYPE_DEBUG_IO:
		return 16;
	default:
		return 0;
	}
}

/*
 * A data packet the ids machine calls a duplicate, with bytes that differ
 * from the last one taken, comes from a host whose counter restarted: take
 * it (tolerance of host resets that the target did not see).
 */
static bool same_as_last(const struct kdstub *s)
{
	return s->rx_hdr.type == s->last_rx_type &&
	       s->rx_hdr.byte_count == s->last_rx_count &&
	       s->rx_hdr.checksum == s->last_rx_sum;
}

int kdstub_link_wait(struct kdstub *s, unsigned type)
{
	struct kd_ids_rx d;
	uint32_t base;

	for (;;) {
		switch (kdstub_link_poll(s)) {
		case KDSTUB_RX_PACKET:
			if (s->rx_hdr.leader == KD_PACKET_LEADER_CONTROL) {
				if (s->rx_hdr.type == KD_PACKET_TYPE_RESET) {
					on_reset(s);
					return KDSTUB_WAIT_RESEND;
				}
				if (s->rx_hdr.type == KD_PACKET_TYPE_RESEND)
					return KDSTUB_WAIT_RESEND;
				/* A late ACK: nothing is pending. */
				(void)kd_ids_on_ack(&s->ids, s->rx_hdr.id);
				break;
			}
			if (s->rx_hdr.type == type &&
			    s->rx_hdr.byte_count < min_payload(type)) {
				/* §1.7(5): too short for its header. */
				s->stats.bad_packets++;
				s->stats.malformed_requests++;
				send_resend(s);
				break;
			}
			kd_ids_on_data(&s->ids, s->rx_hdr.id, &d);
			if (d.duplicate && !same_as_last(s)) {
				d.duplicate = false;
				d.accept = true;
				if (s->ids.mode == KD_IDS_KDCOM) {
					base = s->rx_hdr.id &
					       ~KD_PACKET_ID_SYNC;
					s->ids.recv_id = base ^ 1u;
				}
			}
			if (d.send_ack)
				send_ack(s, d.ack_id);
			if (!d.accept) {
				s->stats.duplicates++;
				break;
			}
			s->last_rx_type = s->rx_hdr.type;
			s->last_rx_count = s->rx_hdr.byte_count;
			s->last_rx_sum = s->rx_hdr.checksum;
			s->stats.packets_received++;
			s->debugger_present = true;
			if (s->rx_hdr.type == type)
				return KDSTUB_WAIT_PACKET;
			break; /* another type: acknowledged and dropped */
		case KDSTUB_RX_BREAKIN:
			/* The host wants the report again (resync). */
			return KDSTUB_WAIT_RESEND;
		case KDSTUB_RX_BAD:
			s->stats.bad_packets++;
			send_resend(s);
			break;
		default:
			break;
		}
	}
}

void kdstub_link_drain_running(struct kdstub *s)
{
	struct kd_ids_reset r;

	for (;;) {
		switch (kdstub_link_poll(s)) {
		case KDSTUB_RX_NONE:
			return;
		case KDSTUB_RX_BREAKIN:
			/* Stop here: what follows belongs to the stop. */
			if (!s->breakin_pending)
				s->stats.breakins++;
			s->breakin_pending = true;
			return;
		case KDSTUB_RX_PACKET:
			/*
			 * While running only break-in matters (§1.8); a host
			 * RESET still restarts the ids so that the next
			 * report matches what the host expects.
			 */
			if (s->rx_hdr.leader == KD_PACKET_LEADER_CONTROL &&
			    s->rx_hdr.type == KD_PACKET_TYPE_RESET) {
				kd_ids_on_reset(&s->ids, &r);
				s->stats.resets_received++;
			}
			break;
		default:
			break;
		}
	}
}
