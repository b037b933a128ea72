/* SPDX-License-Identifier: MIT */
/*
 * Packet-id bookkeeping for the KD link, host and target roles, as a pure
 * state machine: the caller reports what arrived and gets back what to do
 * (kd-protocol.md §1.6, §1.7; KDNET ids §3.5).  No I/O.
 */
#ifndef KD_PROTO_IDS_H
#define KD_PROTO_IDS_H

#include <kd/common.h>

KD_BEGIN_DECLS

enum kd_ids_role {
	KD_IDS_HOST = 0,
	KD_IDS_TARGET,
};

enum kd_ids_mode {
	/* Serial: ids alternate 0x80800000/1; target starts with SYNC. */
	KD_IDS_KDCOM = 0,
	/* KDNET as WinDbg does it: host 0x80000000 + 2n, target 2n. */
	KD_IDS_KDNET,
};

#define KD_IDS_KDNET_HOST_FIRST 0x80000000u
#define KD_IDS_KDNET_TARGET_FIRST 0x00000000u
#define KD_IDS_KDNET_STEP 2u

struct kd_ids {
	enum kd_ids_role role;
	enum kd_ids_mode mode;
	uint32_t send_id;   /* id of the pending or next outgoing data packet */
	uint32_t recv_id;   /* KDCOM: id expected on the next data packet */
	uint32_t last_recv; /* KDNET: id of the last data packet accepted */
	bool have_last;	    /* KDNET: last_recv is valid */
	bool awaiting_ack;  /* a data packet is out and not yet acknowledged */
};

/* What to do with an incoming data packet. */
struct kd_ids_rx {
	bool accept;	/* new packet: hand the payload up */
	bool duplicate; /* already seen: discard (still ACKed) */
	bool send_ack;	/* answer ACK with ack_id */
	uint32_t ack_id;
	bool send_resend;  /* §1.7(3): answer RESEND (id 0) instead */
	bool implicit_ack; /* our pending packet now counts as acknowledged */
	bool resync;	   /* KDCOM SYNC bit seen: peer restarted its ids */
};

/* What to do after a RESET arrived. */
struct kd_ids_reset {
	bool answer; /* target role: answer with RESET (answer_id) */
	uint32_t answer_id;
	bool resend_pending; /* re-send the pending data packet with send_id */
};

/** Set up the counters for @p role and @p mode; nothing pending. */
KD_API void kd_ids_init(struct kd_ids *s, enum kd_ids_role role,
			enum kd_ids_mode mode);

/**
 * Id for the data packet about to be sent; marks it pending.  Calling again
 * before the ACK returns the same id (a retransmission keeps its id).
 */
KD_API uint32_t kd_ids_send(struct kd_ids *s);

/**
 * An ACK with @p id arrived.  KDCOM: accepted only when @p id equals the
 * pending id with the SYNC bit cleared; the id then toggles bit 0 and drops
 * SYNC.  KDNET: accepted when @p id equals the pending id; the id then
 * advances by 2.
 * @return true when the pending packet is now acknowledged; false for a
 *         stale or unexpected ACK (ignore it).
 */
KD_API bool kd_ids_on_ack(struct kd_ids *s, uint32_t id);

/**
 * A valid data packet with @p id arrived; @p out says what to do.  KDCOM:
 * a packet whose id (SYNC masked) is not the expected one is a duplicate,
 * ACKed but discarded; ACK ids carry the SYNC bit stripped.  KDNET: a packet
 * repeating the last accepted id is a duplicate; ACKs carry the id.  In
 * the target role, a data packet while our own packet awaits its ACK is
 * answered with RESEND and counts as that ACK (§1.7(3)); the host role just
 * processes it.
 */
KD_API void kd_ids_on_data(struct kd_ids *s, uint32_t id,
			   struct kd_ids_rx *out);

/**
 * A RESEND arrived.
 * @return true when a data packet is pending: retransmit it with the same
 *         id (kd_ids_send()); false when there is nothing to resend.
 */
KD_API bool kd_ids_on_resend(const struct kd_ids *s);

/**
 * A RESET arrived.  KDCOM: both ids return to 0x80800000 (SYNC cleared).
 * KDNET: ids keep counting (§3.5) and duplicate memory is cleared.
 */
KD_API void kd_ids_on_reset(struct kd_ids *s, struct kd_ids_reset *out);

/**
 * We are about to send a RESET ourselves: reset as on receipt (KDCOM).
 * @return the id to put in the RESET packet (0 for KDCOM, the next send
 *         id for KDNET as WinDbg does).
 */
KD_API uint32_t kd_ids_send_reset(struct kd_ids *s);

/**
 * Target role, KDCOM: the debugger was declared absent after the retry
 * budget (§1.10): ids return to INITIAL|SYNC and the pending packet is
 * dropped.
 */
KD_API void kd_ids_target_give_up(struct kd_ids *s);

KD_END_DECLS

#endif /* KD_PROTO_IDS_H */
