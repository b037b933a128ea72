/* SPDX-License-Identifier: MIT */
/*
 * Packet-id state machines for both link roles (kd-protocol.md §1.6, §1.7,
 * §3.5).  Pure: every function only updates the struct and reports.
 */
#include <string.h>

#include <kd/proto/ids.h>
#include <kd/proto/packet.h>

void kd_ids_init(struct kd_ids *s, enum kd_ids_role role, enum kd_ids_mode mode)
{
	memset(s, 0, sizeof(*s));
	s->role = role;
	s->mode = mode;
	if (mode == KD_IDS_KDNET) {
		s->send_id = role == KD_IDS_HOST ? KD_IDS_KDNET_HOST_FIRST :
						   KD_IDS_KDNET_TARGET_FIRST;
		return;
	}
	/* §1.6: the target's first packet carries INITIAL|SYNC. */
	s->send_id = KD_PACKET_ID_INITIAL;
	if (role == KD_IDS_TARGET)
		s->send_id |= KD_PACKET_ID_SYNC;
	s->recv_id = KD_PACKET_ID_INITIAL;
}

uint32_t kd_ids_send(struct kd_ids *s)
{
	s->awaiting_ack = true;
	return s->send_id;
}

/* The pending packet is acknowledged: move to the next id. */
static void advance(struct kd_ids *s)
{
	if (s->mode == KD_IDS_KDNET)
		s->send_id += KD_IDS_KDNET_STEP;
	else
		s->send_id = (s->send_id ^ 1u) & ~KD_PACKET_ID_SYNC;
	s->awaiting_ack = false;
}

bool kd_ids_on_ack(struct kd_ids *s, uint32_t id)
{
	uint32_t want = s->send_id;

	if (!s->awaiting_ack)
		return false;
	if (s->mode == KD_IDS_KDCOM)
		want &= ~KD_PACKET_ID_SYNC;
	if (id != want)
		return false;
	advance(s);
	return true;
}

static void on_data_kdcom(struct kd_ids *s, uint32_t id, struct kd_ids_rx *out)
{
	uint32_t base = id & ~KD_PACKET_ID_SYNC;

	/* The host must ACK a SYNC packet with the bit stripped (§1.6). */
	out->send_ack = true;
	out->ack_id = base;
	if ((id & KD_PACKET_ID_SYNC) && s->role == KD_IDS_HOST) {
		/*
		 * The target restarted (boot, or it declared us absent and
		 * reset to INITIAL|SYNC, expecting INITIAL from us next).
		 */
		out->resync = true;
		s->recv_id = base;
		s->send_id = KD_PACKET_ID_INITIAL;
	}
	if (base == s->recv_id) {
		out->accept = true;
		s->recv_id ^= 1u;
	} else {
		out->duplicate = true;
	}
}

static void on_data_kdnet(struct kd_ids *s, uint32_t id, struct kd_ids_rx *out)
{
	out->send_ack = true;
	out->ack_id = id;
	if (s->have_last && id == s->last_recv) {
		out->duplicate = true;
		return;
	}
	out->accept = true;
	s->last_recv = id;
	s->have_last = true;
}

void kd_ids_on_data(struct kd_ids *s, uint32_t id, struct kd_ids_rx *out)
{
	memset(out, 0, sizeof(*out));
	if (s->role == KD_IDS_TARGET && s->awaiting_ack) {
		/*
		 * §1.7(3): the host sending data means it saw our packet.
		 * Answer RESEND so it repeats this one, and count ours as
		 * acknowledged.  The packet itself is not taken.
		 */
		out->send_resend = true;
		out->implicit_ack = true;
		advance(s);
		return;
	}
	if (s->mode == KD_IDS_KDNET)
		on_data_kdnet(s, id, out);
	else
		on_data_kdcom(s, id, out);
}

bool kd_ids_on_resend(const struct kd_ids *s)
{
	return s->awaiting_ack;
}

/* Shared by received and sent RESETs. */
static void reset_ids(struct kd_ids *s)
{
	if (s->mode == KD_IDS_KDNET) {
		s->have_last = false;
		return;
	}
	s->send_id = KD_PACKET_ID_INITIAL;
	s->recv_id = KD_PACKET_ID_INITIAL;
}

void kd_ids_on_reset(struct kd_ids *s, struct kd_ids_reset *out)
{
	memset(out, 0, sizeof(*out));
	reset_ids(s);
	/* Only the target answers, or two peers would bounce RESETs. */
	out->answer = s->role == KD_IDS_TARGET;
	out->answer_id = s->mode == KD_IDS_KDNET ? s->send_id : 0;
	out->resend_pending = s->awaiting_ack;
}

uint32_t kd_ids_send_reset(struct kd_ids *s)
{
	reset_ids(s);
	return s->mode == KD_IDS_KDNET ? s->send_id : 0;
}

void kd_ids_target_give_up(struct kd_ids *s)
{
	s->awaiting_ack = false;
	if (s->mode == KD_IDS_KDNET) {
		s->have_last = false;
		return;
	}
	s->send_id = KD_PACKET_ID_INITIAL | KD_PACKET_ID_SYNC;
	s->recv_id = KD_PACKET_ID_INITIAL;
}
