/* SPDX-License-Identifier: MIT */
/*
 * Transport implementer API: the versioned driver ops struct and
 * registration.  The parsed connection-string parameters a driver's open()
 * receives are util's <kd/params.h>.
 * Consumers of the library need only <kd/transport.h>.
 */
#ifndef KD_SYS_TRANSPORT_H
#define KD_SYS_TRANSPORT_H

#include <kd/params.h>
#include <kd/transport.h>

KD_BEGIN_DECLS

#define KD_TRANSPORT_OPS_VERSION 1

/* --- Connection strings --- */

/* One layer of a connection string: "scheme[:options]", not terminated. */
struct kd_conn_part {
	const char *text;
	size_t len;
};

/**
 * Split @p connstr into its layers at every '|' outside `@{...}`, top
 * first, exactly as kd_transport_open() reads it (so a check of the
 * layers, such as kdsrv's policy, sees what would be opened).
 * @return KD_OK with *n layers; KD_EINVAL (empty string or layer, too
 *         long, more than KD_TRANSPORT_MAX_DEPTH layers).
 */
KD_API KD_WARN_UNUSED int kd_transport_split(
	const char *connstr, struct kd_conn_part parts[KD_TRANSPORT_MAX_DEPTH],
	size_t *n);

/* --- Driver ops --- */

/*
 * Wait handle of a transport: a descriptor that poll() reports readable when
 * recv() would not block.  (On Windows this would become a HANDLE.)
 */
struct kd_wait_handle {
	int fd;
};

/*
 * KD_TRANSPORT_CAP_LAYER: the driver may be opened over a lower transport
 * (`upper|lower` in a connection string).  Such a driver finds the lower
 * transport with kd_transport_lower(); the core closes the lower transport
 * after the upper one's close().
 */
#define KD_TRANSPORT_CAP_LAYER 0x10u

/*
 * KD_TRANSPORT_CAP_WIRETAP: the driver shows every datagram it sends or
 * receives *on the wire* (net: the encrypted, authenticated KDNET datagrams
 * with their UDP addresses, handshake and pings included) to a tap that the
 * layer directly above installs with kd_transport_set_wire_tap().  A capture
 * layer uses it to record the real traffic instead of the KD packets that
 * pass through it.  The bit belongs to the bottom instance only; layers never
 * inherit it.
 */
#define KD_TRANSPORT_CAP_WIRETAP 0x40u

struct kd_transport_ops {
	/* KD_TRANSPORT_OPS_VERSION; registration rejects any other value. */
	unsigned int version;
	/*
	 * Connection-string prefix ("com", "net", "loop"): lower-case letters
	 * and digits, unique among registered drivers.
	 */
	const char *scheme;
	/*
	 * KD_TRANSPORT_CAP_*.  A driver that decides between STREAM and
	 * DATAGRAM per instance sets both here and narrows the instance's
	 * caps in open() with kd_transport_set_caps().  WAITABLE is set
	 * exactly when wait_handle is, BREAKIN exactly when break_in is.
	 * A packet driver (KD_TRANSPORT_CAP_PACKETS, kd/transport.h) sets
	 * DATAGRAM | PACKETS, never LAYER or WAITABLE; its send and recv
	 * refuse bytes with KD_ENOTSUP and a message that says so, and the
	 * link reaches its packet operations through the first member of
	 * its private block (in-tree drivers only: transports/src/
	 * packet_int.h; docs/transport-driver.md §1).
	 */
	uint32_t caps;
	/*
	 * Bytes of driver state.  The core allocates them zeroed in the same
	 * block as struct kd_transport; reach them with kd_transport_priv().
	 */
	size_t priv_size;
	/*
	 * Accepted keys, terminated by {NULL, 0}.  The core rejects every
	 * other key before open() is called, with a message naming it.
	 */
	const struct kd_param_spec *keys;

	/*
	 * Mandatory.  Acquire the channel.  @params is borrowed for the
	 * duration of the call.  May block (connecting).  On failure the
	 * driver has already released everything it acquired, has set the
	 * error detail, and close() is never called.
	 */
	int (*open)(struct kd_transport *t, const struct kd_params *params);
	/*
	 * Mandatory.  Release everything; called exactly once after a
	 * successful open(); cannot fail.  Must not close the lower transport.
	 */
	void (*close)(struct kd_transport *t);
	/*
	 * Mandatory.  Send all @len bytes (STREAM) or one datagram of @len
	 * bytes (DATAGRAM), or fail.  May block while the channel is full.
	 * Returns KD_OK, KD_EDISCONNECTED, KD_EBUFS (datagram too large) or
	 * KD_ERROR with detail.
	 */
	int (*send)(struct kd_transport *t, const void *buf, size_t len);
	/*
	 * Mandatory.  Wait up to @timeout_ms (0 polls, -1 waits forever) for
	 * data.  STREAM: return 1..@cap bytes that have arrived.  DATAGRAM:
	 * return exactly one datagram, KD_EBUFS when it exceeds @cap (the
	 * datagram is then consumed).  Returns KD_OK with *@len_out set,
	 * KD_ETIMEOUT, KD_EDISCONNECTED or KD_ERROR with detail.
	 */
	int (*recv)(struct kd_transport *t, void *buf, size_t cap,
		    size_t *len_out, int timeout_ms);
	/*
	 * Optional (exactly with KD_TRANSPORT_CAP_WAITABLE).  Report a handle
	 * that becomes ready when recv() would not block.  Never blocks; the
	 * handle stays owned by the driver.
	 */
	int (*wait_handle)(struct kd_transport *t, struct kd_wait_handle *out);
	/*
	 * Optional (exactly with KD_TRANSPORT_CAP_BREAKIN).  Ask the target to
	 * stop: serial drivers send the single byte 0x62.  May block briefly.
	 */
	int (*break_in)(struct kd_transport *t);
};

/**
 * Add an out-of-tree driver.  @p ops must stay valid until unregistered.
 * @return KD_OK; KD_EINVAL (version mismatch, bad scheme, caps and
 *         pointers disagree); KD_EBUSY (scheme already registered).
 */
KD_API KD_WARN_UNUSED int kd_transport_register(
	const struct kd_transport_ops *ops);

/**
 * Remove a driver added with kd_transport_register().  Instances already
 * open keep working.  @return KD_OK or KD_ENOTFOUND (also for built-ins).
 */
KD_API int kd_transport_unregister(const char *scheme);

/** The driver state block (priv_size bytes, zeroed before open()). */
KD_API void *kd_transport_priv(struct kd_transport *t);

/** The transport under a layer, or NULL for a bottom driver.  Borrowed. */
KD_API struct kd_transport *kd_transport_lower(struct kd_transport *t);

/**
 * Narrow this instance's caps (from open()).  @p caps must be a subset of
 * the ops caps with exactly one of STREAM and DATAGRAM.
 * @return KD_OK or KD_EINVAL.
 */
KD_API int kd_transport_set_caps(struct kd_transport *t, uint32_t caps);

/** Record the serial link options parsed by the driver (com). */
KD_API void kd_transport_set_link_opts(struct kd_transport *t,
				       const struct kd_transport_link_opts *o);

/** Record the local TCP/UDP port the driver bound (server modes, net). */
KD_API void kd_transport_set_local_port(struct kd_transport *t, uint16_t port);

/** Record the UDP ports of the host and target sides (net). */
KD_API void kd_transport_set_udp_ports(struct kd_transport *t,
				       uint16_t host_port,
				       uint16_t target_port);

/* --- Wire tap (KD_TRANSPORT_CAP_WIRETAP) --- */

/* A UDP endpoint as it appears on the wire; IPv4 also for ::ffff:a.b.c.d. */
struct kd_wire_addr {
	int family;	/* 4 or 6; 0 = unknown */
	uint8_t ip[16]; /* IPv4 in the first 4 bytes */
	uint16_t port;
};

/* One datagram seen by the driver; everything is borrowed for the call. */
struct kd_wire_datagram {
	bool outbound; /* sent by this end (else received) */
	struct kd_wire_addr src;
	struct kd_wire_addr dst;
	const uint8_t *data; /* the UDP payload */
	size_t len;	     /* its real length (received: up to the cap) */
};

/*
 * Called by the driver for every datagram, in the thread that moved it: a
 * send and a receive may call it at the same time.  Must not call back into
 * the transport.
 */
typedef void (*kd_wire_tap_fn)(void *ctx, const struct kd_wire_datagram *dg);

/**
 * Install @p fn (NULL removes the tap) on @p t itself, which must have
 * KD_TRANSPORT_CAP_WIRETAP.  Install it before traffic flows and remove it
 * before @p t is closed or used by another thread.
 * @return KD_OK; KD_ENOTSUP (no such capability); KD_EBUSY (another tap
 *         is installed).
 */
KD_API KD_WARN_UNUSED int kd_transport_set_wire_tap(struct kd_transport *t,
						    kd_wire_tap_fn fn,
						    void *ctx);

/** Drivers: hand @p dg to the installed tap, if any. */
KD_API void kd_transport_wire_tap(struct kd_transport *t,
				  const struct kd_wire_datagram *dg);

/* Built-in drivers (registered automatically). */
extern KD_API const struct kd_transport_ops kd_transport_loop;
extern KD_API const struct kd_transport_ops kd_transport_fault;
extern KD_API const struct kd_transport_ops kd_transport_pcap;
extern KD_API const struct kd_transport_ops kd_transport_net;

KD_END_DECLS

#endif /* KD_SYS_TRANSPORT_H */
