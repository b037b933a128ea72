/* SPDX-License-Identifier: MIT */
/*
 * The KD link: a reliable channel of whole KD packets over any transport.
 * Streams get KDCOM framing (leaders, checksum, 0xAA trailer), datagram
 * transports KDNET framing (one packet per datagram, no trailer); both get
 * ACK, RESEND, RESET, retransmission and duplicate suppression.
 */
#ifndef KD_LINK_H
#define KD_LINK_H

#include <kd/common.h>

KD_BEGIN_DECLS

struct kd_transport;
struct kd_link;

enum kd_link_role {
	KD_LINK_HOST = 0, /* the debugger */
	KD_LINK_TARGET,	  /* the debuggee side: tests, kdsim, kdsrv relays */
};

#define KD_LINK_OPTS_VERSION 1

/* Zero or negative fields take the defaults named in the comments. */
struct kd_link_opts {
	unsigned int version; /* KD_LINK_OPTS_VERSION */
	enum kd_link_role role;
	int ack_timeout_ms;    /* wait for an ACK before resending; 500 */
	int max_tries;	       /* sends of one packet before KD_ETIMEOUT; 20 */
	int byte_timeout_ms;   /* KDCOM: quiet mid-packet, then RESEND; 1000 */
	int reset_interval_ms; /* sync: time between RESETs; 1000 */
	/*
	 * sync: RESETs to send before giving up; 0 = unlimited (WinDbg's
	 * `resets=0`), -1 = the transport's `resets=` or else 8.
	 */
	int resets;
};

#define KD_LINK_OPTS_INIT                                          \
	{                                                          \
		KD_LINK_OPTS_VERSION, KD_LINK_HOST, 0, 0, 0, 0, -1 \
	}

/* Counters since kd_link_open(). */
struct kd_link_stats {
	uint64_t packets_sent;	   /* distinct data packets sent */
	uint64_t packets_received; /* new data packets handed up */
	uint64_t retransmissions;  /* data packets sent again */
	uint64_t ack_timeouts;	   /* waits for an ACK that ran out */
	uint64_t acks_sent;
	uint64_t acks_received; /* ACKs that acknowledged our packet */
	uint64_t stale_acks;	/* ACKs with an unexpected id, ignored */
	uint64_t resends_sent;	/* RESEND answers to bad packets */
	uint64_t resends_received;
	uint64_t resets_sent;
	uint64_t resets_received;
	uint64_t resyncs;    /* KDCOM SYNC-bit packets: peer restarted */
	uint64_t duplicates; /* repeated data packets, ACKed, dropped */
	uint64_t bad_checksums;
	uint64_t bad_trailers;
	uint64_t bad_lengths;	/* count too large or datagram malformed */
	uint64_t bad_headers;	/* impossible type or id: RESEND */
	uint64_t byte_timeouts; /* KDCOM packets cut off mid-way */
	uint64_t garbage_bytes; /* KDCOM noise skipped between packets */
	uint64_t breakins_sent;
	uint64_t breakins_received;
	uint64_t pings_received;  /* KDNET 12-byte pings, ignored */
	uint64_t wire_bytes_sent; /* everything handed to the transport */
	uint64_t wire_bytes_received;
	uint64_t payload_bytes_sent;	 /* payload of distinct data packets */
	uint64_t payload_bytes_received; /* payload of packets handed up */
};

/* Event bits from kd_link_events(). */
#define KD_LINK_EVENT_PEER_RESET 0x1u /* a RESET arrived; ids restarted */
#define KD_LINK_EVENT_RESYNC 0x2u     /* SYNC-bit packet: target restarted */
#define KD_LINK_EVENT_BREAKIN 0x4u    /* target role: break-in seen */

/**
 * Open a link over @p transport, taking ownership of it on success (it is
 * closed with the link; on failure it still belongs to the caller).
 * Stream transports get KDCOM framing, datagram ones KDNET framing and ids.
 * @p opts may be NULL for a host with the defaults.
 * @return KD_OK; KD_EINVAL (bad options or version); KD_ENOMEM.
 */
KD_API KD_WARN_UNUSED int kd_link_open(struct kd_link **out,
				       struct kd_transport *transport,
				       const struct kd_link_opts *opts);

/** Close the link and its transport.  NULL-safe. */
KD_API void kd_link_close(struct kd_link *link);

/**
 * Host role: synchronise with the target: send the break-in request and a
 * RESET, repeated every reset interval, until the target answers with a
 * RESET; data packets that arrive meanwhile are ACKed and dropped (the
 * target re-sends its pending packet after the RESET, §1.7(4)).
 * @return KD_OK; KD_ETIMEOUT when @p timeout_ms (-1: no bound) or the RESET
 *         budget ran out; KD_EINVAL in the target role; KD_EDISCONNECTED.
 */
KD_API KD_WARN_UNUSED int kd_link_sync(struct kd_link *link, int timeout_ms);

/**
 * Send one data packet and wait until the peer acknowledges it, resending
 * it after each ACK timeout and on RESEND.  Packets that arrive meanwhile
 * are ACKed and kept for kd_link_recv().  After KD_ETIMEOUT the two sides'
 * ids may disagree: call kd_link_sync() before going on.
 * @return KD_OK; KD_ETIMEOUT after max_tries sends; KD_EINVAL (control
 *         type, or more than 4000 payload bytes); KD_EDISCONNECTED (channel
 *         closed, or the target restarted while the packet was pending).
 */
KD_API KD_WARN_UNUSED int kd_link_send(struct kd_link *link, unsigned type,
				       const void *payload, size_t len);

/**
 * Receive the next new data packet, waiting up to @p timeout_ms (0 polls,
 * -1 forever).  ACKs, RESENDs and duplicates are handled on the way.  In
 * the target role a break-in request is returned as a packet of type
 * KD_PACKET_TYPE_POLL_BREAKIN with no payload.
 * @return KD_OK with *type_out and *len_out set; KD_ETIMEOUT;
 *         KD_EBUFS when @p cap is smaller than the payload (the packet is
 *         consumed, *len_out tells its size); KD_EDISCONNECTED.
 */
KD_API KD_WARN_UNUSED int kd_link_recv(struct kd_link *link, unsigned *type_out,
				       void *buf, size_t cap, size_t *len_out,
				       int timeout_ms);

/**
 * Ask the target to stop: the byte 0x62 (KDCOM) or the one-byte break-in
 * datagram (KDNET).  May be called from another thread while a
 * kd_link_recv() is blocked: it is serialised with the link's own sends,
 * and the transport must allow one send during a recv (com, net and loop
 * do).
 * @return KD_OK; KD_EDISCONNECTED.
 */
KD_API KD_WARN_UNUSED int kd_link_break_in(struct kd_link *link);

/**
 * Target role: behave as a freshly booted target (or one that declared the
 * debugger absent, §1.10): ids return to INITIAL|SYNC, the pending packet
 * and queued input are forgotten.  Used by simulators and tests.
 * @return KD_OK; KD_EINVAL in the host role.
 */
KD_API KD_WARN_UNUSED int kd_link_restart(struct kd_link *link);

/** Counters since open. */
KD_API void kd_link_stats(const struct kd_link *link,
			  struct kd_link_stats *out);

/** KD_LINK_EVENT_* bits seen since the last call; clears them. */
KD_API uint32_t kd_link_events(struct kd_link *link);

/**
 * Smart client of a KD connection server (`kdsrv:` transport): ask that
 * server to close every session and exit, and wait up to @p timeout_ms for
 * its answer.  @p desc (may be NULL) receives the server's description
 * ("tcp:Port=5005,Server=host").  The link is unusable afterwards.
 * @return KD_OK; KD_ENOTSUP when the link is not over a kdsrv transport;
 *         KD_ETIMEOUT; KD_EDISCONNECTED.
 */
KD_API KD_WARN_UNUSED int kd_link_end_server(struct kd_link *link, char *desc,
					     size_t cap, int timeout_ms);

/** True when the link uses KDNET framing (datagram transport). */
KD_API bool kd_link_is_kdnet(const struct kd_link *link);

/** The transport under the link (borrowed). */
KD_API struct kd_transport *kd_link_transport(struct kd_link *link);

KD_END_DECLS

#endif /* KD_LINK_H */
