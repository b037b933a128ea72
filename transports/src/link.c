/* SPDX-License-Identifier: MIT */
/*
 * The KD link (kd-protocol.md §1.6-1.10, §3.5-3.6): KDCOM framing over
 * stream transports, KDNET framing over datagram ones, and the shared
 * reliability rules: ACK, RESEND, RESET, retransmission, duplicates.
 */
#include "transport_int.h"
#include "packet_int.h"

#include <pthread.h>
#include <string.h>

#include <kd/alloc.h>
#include <kd/error.h>
#include <kd/link.h>
#include <kd/proto/ids.h>
#include <kd/proto/kdnet.h>
#include <kd/proto/packet.h>
#include <kd/proto/stream.h>
#include <kd/transport.h>

#define LINK_QUEUE 8	       /* data packets kept for recv */
#define LINK_DEF_ACK_MS 500    /* WinDbg resent after ~0.49 s (§3.6) */
#define LINK_DEF_TRIES 20      /* KdpDefaultRetries (§1.10) */
#define LINK_DEF_BYTE_MS 1000  /* VirtualBox waits 1 s mid-packet */
#define LINK_DEF_RESET_MS 1000 /* WinDbg RESETs about once a second */
#define LINK_DEF_RESETS 8
#define LINK_KDNET_WINDOW 64 /* largest forward jump of a KDNET id */
#define LINK_IN_CAP (KD_PACKET_HEADER_SIZE + KD_PACKET_MAX_RECV + 64)
#define LINK_OUT_CAP (KD_PACKET_HEADER_SIZE + KD_PACKET_MAX_SEND + 1)

struct link_rx {
	uint16_t type;
	uint16_t len;
	uint8_t data[KD_PACKET_MAX_RECV];
};

struct kd_link {
	struct kd_transport *t;
	const struct kd_packet_ops *pk; /* packet transport: all goes there */
	struct kd_link_opts o;
	bool kdnet;
	struct kd_ids ids;
	struct kd_stream stream;
	pthread_mutex_t tx_lock; /* transport sends and tx counters */
	struct kd_link_stats st;
	uint32_t events;
	/* Set by the dispatcher for the waiting call. */
	bool got_ack;
	bool got_resend;
	bool got_reset; /* our pending packet must go again with a new id */
	bool got_resync;
	bool syncing; /* kd_link_sync(): drop data, wait for RESET */
	bool sync_done;
	bool breakin_pending;
	bool have_suspect;
	uint32_t suspect_id;
	int64_t last_byte_ms;
	/* Received packets waiting for kd_link_recv(). */
	unsigned q_head;
	unsigned q_count;
	struct link_rx q[LINK_QUEUE];
	/* Transport input not yet fed to the KDCOM parser. */
	size_t in_off;
	size_t in_len;
	uint8_t in[LINK_IN_CAP];
	uint8_t out[LINK_OUT_CAP];
	size_t out_len;
};

/* --- sending --- */

static int tx(struct kd_link *l, const void *buf, size_t len)
{
	int rc;

	pthread_mutex_lock(&l->tx_lock);
	rc = kd_transport_send(l->t, buf, len);
	if (rc == KD_OK)
		l->st.wire_bytes_sent += len;
	pthread_mutex_unlock(&l->tx_lock);
	return rc;
}

static int tx_control(struct kd_link *l, unsigned type, uint32_t id)
{
	uint8_t pkt[KD_PACKET_HEADER_SIZE];
	size_t len;
	int rc;

	rc = kd_packet_build_control(pkt, sizeof(pkt), &len, type, id);
	if (rc < 0)
		return rc;
	rc = tx(l, pkt, len);
	if (rc < 0)
		return rc;
	if (type == KD_PACKET_TYPE_ACKNOWLEDGE)
		l->st.acks_sent++;
	else if (type == KD_PACKET_TYPE_RESEND)
		l->st.resends_sent++;
	else
		l->st.resets_sent++;
	return KD_OK;
}

static int tx_breakin(struct kd_link *l)
{
	static const uint8_t brk = KD_BREAKIN_BYTE;
	int rc;

	pthread_mutex_lock(&l->tx_lock);
	if (kd_transport_caps(l->t) & KD_TRANSPORT_CAP_BREAKIN)
		rc = kd_transport_break_in(l->t);
	else
		rc = kd_transport_send(l->t, &brk, 1);
	if (rc == KD_OK) {
		l->st.wire_bytes_sent++;
		l->st.breakins_sent++;
	}
	pthread_mutex_unlock(&l->tx_lock);
	return rc;
}

/* --- receiving: one dispatcher for both framings --- */

/*
 * Host role outside sync: a RESET carrying the id of our own data packet is
 * an ACK whose type byte was damaged on the line (targets send RESET with
 * id 0 or their own id), and honouring it would split the two sides' ids.
 */
static bool looks_like_ack(const struct kd_link *l, uint32_t id)
{
	uint32_t mine = l->ids.send_id;

	if (l->o.role != KD_LINK_HOST || l->syncing)
		return false;
	if (!l->kdnet)
		return (id & ~1u) == KD_PACKET_ID_INITIAL;
	return id == mine || id == mine - KD_IDS_KDNET_STEP;
}

/* Data packet types a peer may send (§1.5); 8 never leaves the target. */
static bool wire_data_type(unsigned type)
{
	return type == KD_PACKET_TYPE_STATE_CHANGE32 ||
	       type == KD_PACKET_TYPE_STATE_MANIPULATE ||
	       type == KD_PACKET_TYPE_DEBUG_IO ||
	       type == KD_PACKET_TYPE_STATE_CHANGE64 ||
	       type == KD_PACKET_TYPE_TRACE_IO ||
	       type == KD_PACKET_TYPE_CONTROL_REQUEST ||
	       type == KD_PACKET_TYPE_FILE_IO;
}

/*
 * Ids that cannot be right: KDCOM ids are 0x80800000/1, optionally with
 * SYNC.  KDNET ids advance by 2; one far from the last accepted id is
 * taken only when it comes again (a real jump repeats, line damage does
 * not), since only the KDNET MAC normally guards the header.
 */
static bool plausible_id(struct kd_link *l, uint32_t id)
{
	uint32_t delta;

	if (!l->kdnet)
		return (id & ~(1u | KD_PACKET_ID_SYNC)) == KD_PACKET_ID_INITIAL;
	if (!l->ids.have_last || id == l->ids.last_recv)
		return true;
	delta = id - l->ids.last_recv;
	if (!(delta & 1u) && delta <= LINK_KDNET_WINDOW)
		return true;
	if (l->have_suspect && id == l->suspect_id) {
		l->have_suspect = false;
		return true;
	}
	l->have_suspect = true;
	l->suspect_id = id;
	return false;
}

static void on_control(struct kd_link *l, const struct kd_packet_header *h)
{
	struct kd_ids_reset r;

	switch (h->type) {
	case KD_PACKET_TYPE_ACKNOWLEDGE:
		/*
		 * After a RESET our packet goes again; an ACK read before
		 * that answers the copy the peer dropped while resetting
		 * (VirtualKD's "RESET bounce").
		 */
		if (!l->got_reset && kd_ids_on_ack(&l->ids, h->id)) {
			l->st.acks_received++;
			l->got_ack = true;
		} else {
			l->st.stale_acks++;
		}
		break;
	case KD_PACKET_TYPE_RESEND:
		l->st.resends_received++;
		if (kd_ids_on_resend(&l->ids))
			l->got_resend = true;
		break;
	case KD_PACKET_TYPE_RESET:
		if (looks_like_ack(l, h->id)) {
			l->st.stale_acks++;
			break;
		}
		l->st.resets_received++;
		l->events |= KD_LINK_EVENT_PEER_RESET;
		kd_ids_on_reset(&l->ids, &r);
		if (r.answer)
			(void)tx_control(l, KD_PACKET_TYPE_RESET, r.answer_id);
		if (r.resend_pending)
			l->got_reset = true;
		if (l->syncing) {
			l->syncing = false;
			l->sync_done = true;
		}
		break;
	default:
		break; /* §1.7(6): unknown control types are ignored */
	}
}

/* True when a data packet with @p id repeats the last one accepted. */
static bool repeats_last(const struct kd_link *l, uint32_t id)
{
	if (l->kdnet)
		return l->ids.have_last && id == l->ids.last_recv;
	return (id & ~KD_PACKET_ID_SYNC) != l->ids.recv_id;
}

static void on_data(struct kd_link *l, const struct kd_packet_header *h,
		    const uint8_t *payload, size_t len)
{
	struct kd_ids_rx rx;
	struct link_rx *slot;

	/* No room: stay silent, the peer sends it again later. */
	if (!l->syncing && l->q_count == LINK_QUEUE &&
	    !(l->o.role == KD_LINK_TARGET && l->ids.awaiting_ack))
		return;
	if (l->o.role == KD_LINK_TARGET && l->ids.awaiting_ack &&
	    repeats_last(l, h->id)) {
		/*
		 * §1.7(3) takes a host data packet as the ACK of ours, but
		 * a repeat of the host's last packet only says our ACK of it
		 * was lost, not that our answer arrived: ACK it, keep ours.
		 */
		l->st.duplicates++;
		(void)tx_control(l, KD_PACKET_TYPE_ACKNOWLEDGE,
				 l->kdnet ? h->id : h->id & ~KD_PACKET_ID_SYNC);
		return;
	}
	kd_ids_on_data(&l->ids, h->id, &rx);
	if (rx.send_resend)
		(void)tx_control(l, KD_PACKET_TYPE_RESEND, 0);
	if (rx.implicit_ack)
		l->got_ack = true;
	if (rx.send_ack)
		(void)tx_control(l, KD_PACKET_TYPE_ACKNOWLEDGE, rx.ack_id);
	if (rx.resync) {
		l->st.resyncs++;
		l->events |= KD_LINK_EVENT_RESYNC;
		l->got_resync = true;
	}
	if (rx.duplicate)
		l->st.duplicates++;
	if (!rx.accept || l->syncing)
		return;
	slot = &l->q[(l->q_head + l->q_count) % LINK_QUEUE];
	slot->type = h->type;
	slot->len = (uint16_t)len;
	if (len)
		memcpy(slot->data, payload, len);
	l->q_count++;
	l->st.packets_received++;
	l->st.payload_bytes_received += len;
}

static void on_packet(struct kd_link *l, const struct kd_packet_header *h,
		      const uint8_t *payload, size_t len)
{
	if (h->leader == KD_PACKET_LEADER_CONTROL) {
		on_control(l, h);
		return;
	}
	/* A control type behind a data leader is neither: ignore it. */
	if (kd_packet_type_is_control(h->type))
		return;
	if (!wire_data_type(h->type) || !plausible_id(l, h->id)) {
		l->st.bad_headers++;
		(void)tx_control(l, KD_PACKET_TYPE_RESEND, 0);
		return;
	}
	on_data(l, h, payload, len);
}

/* A packet whose framing was fine but whose content was not: §1.7(5). */
static void on_bad(struct kd_link *l, enum kd_packet_fault why)
{
	if (why == KD_PACKET_FAULT_CHECKSUM)
		l->st.bad_checksums++;
	else if (why == KD_PACKET_FAULT_TRAILER)
		l->st.bad_trailers++;
	else
		l->st.bad_lengths++;
	(void)tx_control(l, KD_PACKET_TYPE_RESEND, 0);
}

static void on_breakin(struct kd_link *l)
{
	l->st.breakins_received++;
	if (l->o.role == KD_LINK_TARGET) {
		l->events |= KD_LINK_EVENT_BREAKIN;
		l->breakin_pending = true;
	}
}

/* KDCOM: feed buffered input to the stream parser. */
static void feed_stream(struct kd_link *l)
{
	struct kd_stream_event ev;

	while (l->in_off < l->in_len) {
		l->in_off += kd_stream_feed(&l->stream, l->in + l->in_off,
					    l->in_len - l->in_off, &ev);
		switch (ev.kind) {
		case KD_STREAM_EVENT_PACKET:
			on_packet(l, &ev.hdr, ev.payload, ev.payload_len);
			break;
		case KD_STREAM_EVENT_BAD_PACKET:
			on_bad(l, ev.reason);
			break;
		case KD_STREAM_EVENT_BREAKIN:
			on_breakin(l);
			break;
		default:
			break;
		}
	}
}

/* KDNET: one datagram is one KD packet, a ping or a break-in. */
static void feed_datagram(struct kd_link *l, size_t len)
{
	struct kd_packet_view v;
	uint32_t ipv4;

	memset(&v, 0, sizeof(v));
	if (kd_net_is_breakin(l->in, len)) {
		on_breakin(l);
		return;
	}
	if (len == KD_NET_PING_SIZE &&
	    kd_net_ping_parse(l->in, len, &ipv4) == KD_OK) {
		l->st.pings_received++;
		return;
	}
	if (kd_packet_decode(l->in, len, &v) == KD_OK) {
		on_packet(l, &v.hdr, v.payload, v.payload_len);
		return;
	}
	/* Only answer what claims to be one of ours; drop other junk. */
	if (len >= 4 && kd_get_le32(l->in) == KD_PACKET_LEADER_DATA &&
	    v.fault != KD_PACKET_FAULT_LEADER) {
		on_bad(l, v.fault);
		return;
	}
	l->st.garbage_bytes += len;
}

/* KDCOM: the line went quiet mid-packet: drop it and ask again. */
static void byte_timeout(struct kd_link *l)
{
	if (kd_stream_reset(&l->stream)) {
		l->st.byte_timeouts++;
		(void)tx_control(l, KD_PACKET_TYPE_RESEND, 0);
	}
}

/*
 * Read once from the transport (or use buffered input) and dispatch all of
 * it.  @return KD_OK when input was processed (the caller checks its
 * flags), KD_ETIMEOUT at @p deadline, or a transport error.
 */
static int pump(struct kd_link *l, int64_t deadline)
{
	bool byte_wait = false;
	size_t n = 0;
	int wait;
	int rc;

	if (l->in_off < l->in_len) {
		feed_stream(l);
		return KD_OK;
	}
	wait = kd_transport__left_ms(deadline);
	if (!l->kdnet && kd_stream_in_packet(&l->stream)) {
		int64_t left = l->last_byte_ms + l->o.byte_timeout_ms -
			       kd_transport__now_ms();

		if (left <= 0) {
			byte_timeout(l);
			return KD_OK;
		}
		if (wait < 0 || wait >= left) {
			wait = (int)left;
			byte_wait = true;
		}
	}
	rc = kd_transport_recv(l->t, l->in, sizeof(l->in), &n, wait);
	if (rc == KD_ETIMEOUT) {
		if (!byte_wait)
			return KD_ETIMEOUT;
		byte_timeout(l);
		return KD_OK;
	}
	if (rc == KD_EBUFS && l->kdnet) {
		l->st.bad_lengths++;
		kd_error_clear();
		return KD_OK;
	}
	if (rc < 0)
		return rc;
	l->st.wire_bytes_received += n;
	l->last_byte_ms = kd_transport__now_ms();
	if (l->kdnet) {
		feed_datagram(l, n);
		return KD_OK;
	}
	l->in_off = 0;
	l->in_len = n;
	feed_stream(l);
	return KD_OK;
}

static void clear_flags(struct kd_link *l)
{
	l->got_ack = false;
	l->got_resend = false;
	l->got_reset = false;
	l->got_resync = false;
}

/* --- public API --- */

int kd_link_open(struct kd_link **out, struct kd_transport *transport,
		 const struct kd_link_opts *opts)
{
	static const struct kd_link_opts defaults = KD_LINK_OPTS_INIT;
	struct kd_transport_link_opts topts;
	struct kd_link *l;

	*out = NULL;
	if (!transport)
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_TRANSPORT,
				    "link needs an open transport");
	if (!opts)
		opts = &defaults;
	if (opts->version != KD_LINK_OPTS_VERSION)
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_TRANSPORT,
				    "link options version %u, expected %u",
				    opts->version, KD_LINK_OPTS_VERSION);
	if (opts->role != KD_LINK_HOST && opts->role != KD_LINK_TARGET)
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_TRANSPORT,
				    "link role %d unknown", (int)opts->role);
	l = kd_calloc(1, sizeof(*l));
	if (!l)
		return KD_ENOMEM;
	l->t = transport;
	l->o = *opts;
	if (l->o.ack_timeout_ms <= 0)
		l->o.ack_timeout_ms = LINK_DEF_ACK_MS;
	if (l->o.max_tries <= 0)
		l->o.max_tries = LINK_DEF_TRIES;
	if (l->o.byte_timeout_ms <= 0)
		l->o.byte_timeout_ms = LINK_DEF_BYTE_MS;
	if (l->o.reset_interval_ms <= 0)
		l->o.reset_interval_ms = LINK_DEF_RESET_MS;
	if (l->o.resets < 0) {
		kd_transport_link_opts(transport, &topts);
		l->o.resets = topts.resets >= 0 ? topts.resets :
						  LINK_DEF_RESETS;
	}
	l->kdnet = (kd_transport_caps(transport) & KD_TRANSPORT_CAP_DATAGRAM) !=
		   0;
	kd_ids_init(&l->ids,
		    l->o.role == KD_LINK_HOST ? KD_IDS_HOST : KD_IDS_TARGET,
		    l->kdnet ? KD_IDS_KDNET : KD_IDS_KDCOM);
	kd_stream_init(&l->stream);
	pthread_mutex_init(&l->tx_lock, NULL);
	l->pk = kd_transport__packet_ops(transport);
	if (l->pk && l->o.role != KD_LINK_HOST) {
		pthread_mutex_destroy(&l->tx_lock);
		kd_free(l);
		return kd_error_set(
			KD_EINVAL, KD_ERRCLASS_TRANSPORT,
			"a packet transport has only the host role");
	}
	*out = l;
	return KD_OK;
}

void kd_link_close(struct kd_link *link)
{
	if (!link)
		return;
	kd_transport_close(link->t);
	pthread_mutex_destroy(&link->tx_lock);
	kd_free(link);
}

int kd_link_sync(struct kd_link *l, int timeout_ms)
{
	int64_t deadline = kd_transport__deadline(timeout_ms);
	int sent = 0;
	int rc;

	if (l->pk)
		return l->pk->sync(l->t, timeout_ms);
	if (l->o.role != KD_LINK_HOST)
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_TRANSPORT,
				    "only the host role synchronises");
	l->q_count = 0;
	l->breakin_pending = false;
	l->syncing = true;
	l->sync_done = false;
	for (;;) {
		int64_t next;

		if (l->o.resets > 0 && sent >= l->o.resets) {
			rc = kd_error_set(KD_ETIMEOUT, KD_ERRCLASS_TRANSPORT,
					  "target did not answer %d RESETs",
					  sent);
			break;
		}
		rc = tx_breakin(l);
		if (rc == KD_OK)
			rc = tx_control(l, KD_PACKET_TYPE_RESET,
					kd_ids_send_reset(&l->ids));
		if (rc < 0)
			break;
		l->ids.awaiting_ack = false;
		sent++;
		next = kd_transport__now_ms() + l->o.reset_interval_ms;
		if (deadline >= 0 && deadline < next)
			next = deadline;
		do {
			rc = pump(l, next);
		} while (rc == KD_OK && !l->sync_done);
		if (l->sync_done) {
			rc = KD_OK;
			break;
		}
		if (rc != KD_ETIMEOUT)
			break;
		if (deadline >= 0 && kd_transport__now_ms() >= deadline) {
			rc = kd_error_set(KD_ETIMEOUT, KD_ERRCLASS_TRANSPORT,
					  "no RESET answer in %d ms (%d sent)",
					  timeout_ms, sent);
			break;
		}
	}
	l->syncing = false;
	clear_flags(l);
	return rc;
}

/*
 * A SYNC packet while ours was pending: the target rebooted or declared us
 * absent, so the pending request means nothing to it any more.
 */
static int target_restarted(struct kd_link *l)
{
	clear_flags(l);
	l->ids.awaiting_ack = false;
	return kd_error_set(KD_EDISCONNECTED, KD_ERRCLASS_TRANSPORT,
			    "target restarted while a packet was pending");
}

static int no_ack(struct kd_link *l, int tries)
{
	l->ids.awaiting_ack = false;
	return kd_error_set(KD_ETIMEOUT, KD_ERRCLASS_TRANSPORT,
			    "no ACK for packet id 0x%08x after %d sends",
			    kd_get_le32(l->out + 8), tries);
}

int kd_link_send(struct kd_link *l, unsigned type, const void *payload,
		 size_t len)
{
	int tries = 0;
	int rc;

	if (l->pk)
		return l->pk->send(l->t, type, payload, len);
	if (type >= 0x10000 || kd_packet_type_is_control(type))
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_TRANSPORT,
				    "packet type %u cannot be sent as data",
				    type);
	rc = kd_packet_build(l->out, sizeof(l->out), &l->out_len, type,
			     kd_ids_send(&l->ids), payload, len, !l->kdnet);
	if (rc < 0) {
		l->ids.awaiting_ack = false;
		return kd_error_set(rc, KD_ERRCLASS_TRANSPORT,
				    "cannot build a %zu-byte packet of type %u",
				    len, type);
	}
	l->st.packets_sent++;
	l->st.payload_bytes_sent += len;
	clear_flags(l);
	for (;;) {
		int64_t deadline;

		if (tries == l->o.max_tries)
			return no_ack(l, tries);
		if (tries++ > 0)
			l->st.retransmissions++;
		rc = tx(l, l->out, l->out_len);
		if (rc < 0) {
			l->ids.awaiting_ack = false;
			return rc;
		}
		deadline = kd_transport__now_ms() + l->o.ack_timeout_ms;
		for (;;) {
			rc = pump(l, deadline);
			if (l->got_ack) {
				clear_flags(l);
				return KD_OK;
			}
			if (l->got_resync && l->o.role == KD_LINK_HOST)
				return target_restarted(l);
			if (l->got_reset) {
				/* Ids restarted: the packet goes again. */
				kd_put_le32(l->out + 8, kd_ids_send(&l->ids));
				clear_flags(l);
				break;
			}
			if (l->got_resend) {
				clear_flags(l);
				break;
			}
			if (rc == KD_ETIMEOUT) {
				l->st.ack_timeouts++;
				break;
			}
			if (rc < 0) {
				l->ids.awaiting_ack = false;
				return rc;
			}
		}
	}
}

static int too_small(unsigned len, size_t cap)
{
	return kd_error_set(KD_EBUFS, KD_ERRCLASS_TRANSPORT,
			    "packet of %u bytes, buffer %zu", len, cap);
}

int kd_link_recv(struct kd_link *l, unsigned *type_out, void *buf, size_t cap,
		 size_t *len_out, int timeout_ms)
{
	int64_t deadline = kd_transport__deadline(timeout_ms);
	struct link_rx *slot;
	int rc;

	if (l->pk)
		return l->pk->recv(l->t, type_out, buf, cap, len_out,
				   timeout_ms);
	*len_out = 0;
	for (;;) {
		if (l->breakin_pending) {
			l->breakin_pending = false;
			*type_out = KD_PACKET_TYPE_POLL_BREAKIN;
			return KD_OK;
		}
		if (l->q_count) {
			slot = &l->q[l->q_head];
			l->q_head = (l->q_head + 1) % LINK_QUEUE;
			l->q_count--;
			*type_out = slot->type;
			*len_out = slot->len;
			if (slot->len > cap)
				return too_small(slot->len, cap);
			if (slot->len)
				memcpy(buf, slot->data, slot->len);
			return KD_OK;
		}
		rc = pump(l, deadline);
		if (rc < 0)
			return rc;
		clear_flags(l);
	}
}

int kd_link_break_in(struct kd_link *l)
{
	if (l->pk)
		return l->pk->break_in(l->t);
	return tx_breakin(l);
}

int kd_link_restart(struct kd_link *l)
{
	if (l->o.role != KD_LINK_TARGET)
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_TRANSPORT,
				    "only a target restarts its link");
	kd_ids_target_give_up(&l->ids);
	l->q_count = 0;
	l->breakin_pending = false;
	l->in_off = l->in_len;
	(void)kd_stream_reset(&l->stream);
	clear_flags(l);
	return KD_OK;
}

void kd_link_stats(const struct kd_link *l, struct kd_link_stats *out)
{
	if (l->pk) {
		l->pk->stats(l->t, out);
		return;
	}
	*out = l->st;
	if (!l->kdnet)
		out->garbage_bytes = kd_stream_stats(&l->stream)->bytes_skipped;
}

uint32_t kd_link_events(struct kd_link *l)
{
	uint32_t ev = l->events;

	if (l->pk)
		return l->pk->events(l->t);
	l->events = 0;
	return ev;
}

int kd_link_end_server(struct kd_link *l, char *desc, size_t cap,
		       int timeout_ms)
{
	if (!l->pk || !l->pk->end_server)
		return kd_error_set(
			KD_ENOTSUP, KD_ERRCLASS_TRANSPORT,
			"not a smart client of a KD connection server");
	return l->pk->end_server(l->t, desc, cap, timeout_ms);
}

bool kd_link_is_kdnet(const struct kd_link *l)
{
	if (l->pk)
		return l->pk->is_kdnet(l->t);
	return l->kdnet;
}

struct kd_transport *kd_link_transport(struct kd_link *l)
{
	return l->t;
}
