/* SPDX-License-Identifier: MIT */
/*
 * Transport consumer API: open a byte or datagram channel to a target from a
 * WinDbg-style connection string (`com:port=/dev/ttyS0,baud=115200`) and move
 * data through it.  The KD link layer sits on top of this.
 */
#ifndef KD_TRANSPORT_H
#define KD_TRANSPORT_H

#include <kd/common.h>

KD_BEGIN_DECLS

struct kd_transport;

/* Capability bits, from kd_transport_caps(). */
#define KD_TRANSPORT_CAP_STREAM 0x1u   /* bytes, any chunking (com) */
#define KD_TRANSPORT_CAP_DATAGRAM 0x2u /* one datagram per recv (net) */
#define KD_TRANSPORT_CAP_WAITABLE 0x4u /* kd_transport_wait_fd() works */
#define KD_TRANSPORT_CAP_BREAKIN 0x8u  /* kd_transport_break_in() works */
/*
 * Carries whole KD packets, not bytes (kdsrv: the KD link runs on the
 * server, next to the target).  Use such a transport only through a host
 * link: kd_link_open() hands every link operation (sync, send, recv,
 * break-in, stats) to the driver, which does the framing, acks and
 * resends on the far side.  On the transport itself kd_transport_send()
 * and kd_transport_recv() fail with KD_ENOTSUP and move nothing;
 * kd_transport_break_in() works (BREAKIN) and asks the far side to stop
 * the target.  Such a driver is never WAITABLE, is always the bottom of
 * its stack (a layer over it would see only the refused byte calls), and
 * also sets DATAGRAM so that the link numbers packets as over KDNET.
 */
#define KD_TRANSPORT_CAP_PACKETS 0x20u

/* Stacked transports: `upper|lower`, at most this many levels. */
#define KD_TRANSPORT_MAX_DEPTH 8

/**
 * Open a transport.  @p connstr is `scheme:key=value,flag,...`, optionally
 * stacked over another one with `|`: `fault:drop=0.01,seed=7|loop:name=a`.
 * Ownership: *out belongs to the caller; close with kd_transport_close().
 * @return KD_OK; KD_EINVAL (malformed string, unknown transport or option;
 *         the message names the offending part); KD_ENOTFOUND (device or
 *         socket absent); KD_EBUSY; KD_ENOTSUP; KD_ERROR.
 */
KD_API KD_WARN_UNUSED int kd_transport_open(struct kd_transport **out,
					    const char *connstr);

/**
 * Open the layer(s) in @p connstr over the already open @p lower.
 * Ownership: on success @p lower belongs to *out and is closed with it; on
 * failure it still belongs to the caller.
 * @return as kd_transport_open(); KD_EINVAL when the top driver of
 *         @p connstr cannot be stacked.
 */
KD_API KD_WARN_UNUSED int kd_transport_open_over_take(
	struct kd_transport **out, const char *connstr,
	struct kd_transport *lower);

/**
 * Parse and check @p connstr (schemes exist, options accepted, stacking
 * allowed) without opening anything.
 * @return KD_OK or KD_EINVAL with the same messages as kd_transport_open().
 */
KD_API KD_WARN_UNUSED int kd_transport_check(const char *connstr);

/** Close @p t and every transport stacked under it.  NULL-safe. */
KD_API void kd_transport_close(struct kd_transport *t);

/**
 * Send @p len bytes (stream) or one datagram.  All or nothing.
 * @return KD_OK; KD_EDISCONNECTED; KD_EBUFS (datagram too large); KD_ERROR;
 *         KD_ENOTSUP on a packet transport (KD_TRANSPORT_CAP_PACKETS).
 */
KD_API KD_WARN_UNUSED int kd_transport_send(struct kd_transport *t,
					    const void *buf, size_t len);

/**
 * Receive what has arrived (stream: 1..cap bytes; datagram: exactly one),
 * waiting up to @p timeout_ms (0 polls, -1 waits forever).
 * @return KD_OK with *len_out set; KD_ETIMEOUT; KD_EDISCONNECTED;
 *         KD_EBUFS (datagram larger than @p cap, consumed); KD_ERROR;
 *         KD_ENOTSUP on a packet transport (KD_TRANSPORT_CAP_PACKETS).
 */
KD_API KD_WARN_UNUSED int kd_transport_recv(struct kd_transport *t, void *buf,
					    size_t cap, size_t *len_out,
					    int timeout_ms);

/**
 * Ask the target to stop (serial: the byte 0x62).
 * @return KD_OK; KD_ENOTSUP without KD_TRANSPORT_CAP_BREAKIN;
 *         KD_EDISCONNECTED.
 */
KD_API KD_WARN_UNUSED int kd_transport_break_in(struct kd_transport *t);

/** KD_TRANSPORT_CAP_* of this instance. */
KD_API uint32_t kd_transport_caps(const struct kd_transport *t);

/** Scheme of the top driver ("com", "fault").  Static string. */
KD_API const char *kd_transport_scheme(const struct kd_transport *t);

/**
 * A descriptor poll() reports readable when recv would not block.  Borrowed:
 * do not close it.  @return KD_OK or KD_ENOTSUP (no KD_TRANSPORT_CAP_WAITABLE).
 */
KD_API KD_WARN_UNUSED int kd_transport_wait_fd(struct kd_transport *t,
					       int *fd_out);

/** True when a driver for @p scheme is built in or registered. */
KD_API bool kd_transport_available(const char *scheme);

/*
 * Serial link options a driver parsed for the link layer to implement
 * (WinDbg's `resets=N` and `reconnect`).
 */
struct kd_transport_link_opts {
	int resets;	/* -1 = not given; 0 = unlimited resets during sync */
	bool reconnect; /* re-open after errors, wait for the port to appear */
};

/**
 * Link options of the bottom driver of @p t (defaults when it sets none:
 * resets -1, reconnect false).
 */
KD_API void kd_transport_link_opts(const struct kd_transport *t,
				   struct kd_transport_link_opts *out);

/**
 * Local port bound by a server-mode driver in the stack (`ipport=0,server`
 * binds an ephemeral one).  @return KD_OK or KD_ENOTSUP.
 */
KD_API KD_WARN_UNUSED int kd_transport_local_port(const struct kd_transport *t,
						  uint16_t *port_out);

/**
 * UDP ports of the host and target sides, from a datagram driver that knows
 * them (net).  @return KD_OK or KD_ENOTSUP.
 */
KD_API KD_WARN_UNUSED int kd_transport_udp_ports(const struct kd_transport *t,
						 uint16_t *host_port_out,
						 uint16_t *target_port_out);

/* --- fault: counters of what the fault layer did --- */

struct kd_fault_counters {
	uint64_t units; /* datagrams or stream chunks seen */
	uint64_t dropped;
	uint64_t corrupted;
	uint64_t duplicated;
	uint64_t delayed;
	uint64_t truncated;
};

struct kd_fault_stats {
	struct kd_fault_counters tx; /* send() direction */
	struct kd_fault_counters rx; /* recv() direction */
};

/**
 * Counters of the topmost fault layer in @p t's stack.
 * @return KD_OK or KD_ENOTFOUND when the stack holds no fault layer.
 */
KD_API KD_WARN_UNUSED int kd_transport_fault_stats(struct kd_transport *t,
						   struct kd_fault_stats *out);

/* --- net: counters and session state of the KDNET driver --- */

struct kd_net_stats {
	uint64_t dgrams_in;	/* datagrams received */
	uint64_t dgrams_out;	/* datagrams sent */
	uint64_t kd_in;		/* KD packets handed to recv() callers */
	uint64_t kd_out;	/* KD packets sent (break-in included) */
	uint64_t auth_failures; /* dropped: tag mismatch (wrong key?) */
	uint64_t replays;	/* dropped: old sequence number or nonce */
	uint64_t malformed;	/* dropped: bad envelope, direction, type */
	uint64_t foreign;	/* dropped: not from the session's peer */
	uint64_t no_session;	/* dropped: data before any handshake */
	uint64_t offers;	/* OFFERs answered (host) or sent (target) */
	uint64_t sessions;	/* handshakes completed */
	uint64_t pings;		/* 12-byte pings absorbed (host) */
	uint64_t pokes;		/* host pokes seen (target) */
	uint64_t unreachable;	/* ICMP port-unreachable reports */
};

/**
 * Counters of the net driver in @p t's stack.
 * @return KD_OK or KD_ENOTFOUND when the stack holds no net driver.
 */
KD_API KD_WARN_UNUSED int kd_transport_net_stats(struct kd_transport *t,
						 struct kd_net_stats *out);

/**
 * The current session's 32-byte data key (tests, kdcap --show-keys).
 * @return KD_OK or KD_ENOTFOUND (no net driver, or no session yet).
 */
KD_API KD_WARN_UNUSED int kd_transport_net_data_key(struct kd_transport *t,
						    uint8_t key[32]);

/** True when the net driver in @p t's stack has a session. */
KD_API bool kd_transport_net_connected(struct kd_transport *t);

/**
 * role=target only: forget the session and start offering again with a new
 * nonce and sequence numbers restarted, as a rebooted target does.
 * @return KD_OK; KD_EINVAL (host role); KD_ENOTFOUND; send errors.
 */
KD_API KD_WARN_UNUSED int kd_transport_net_reboot(struct kd_transport *t);

KD_END_DECLS

#endif /* KD_TRANSPORT_H */
