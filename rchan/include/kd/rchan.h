/* SPDX-License-Identifier: MIT */
/*
 * Remote channels: the authenticated TCP or TLS connections that openkd's
 * servers (kdsrv, the debugging server) and their clients talk over.  A
 * channel carries whole messages (32-bit length prefix, bounded); the
 * password is proved by challenge and response and never sent.
 */
#ifndef KD_RCHAN_H
#define KD_RCHAN_H

#include <kd/common.h>

KD_BEGIN_DECLS

struct kd_rchan;     /* one connection, either end */
struct kd_rlistener; /* a server's listening endpoint */

/* Largest message a channel carries (payload bytes). */
#define KD_RCHAN_MAX_MSG (64u * 1024u)

/* Longest password (WinDbg allows 12 alphanumerics; we allow more). */
#define KD_RCHAN_MAX_PASSWORD 64

/*
 * Which application protocol a channel is for, as "NAME/MAJOR".  Both ends
 * must name the same service and the same major version or the handshake
 * fails with a clear message on both sides ("tcp:server=h,port=5: that is
 * a KD connection server (kdsrv), not a debugging server", "protocol
 * version 2, this client speaks 1").
 */
#define KD_RCHAN_SERVICE_KDSRV "kdsrv/1"
#define KD_RCHAN_SERVICE_DBGSRV "dbgsrv/1"

/* Handshakes one listener runs at once: in all, and per peer address. */
#define KD_RCHAN_PENDING_MAX 64
#define KD_RCHAN_PENDING_PER_ADDR 8

/*
 * Open a listener from a server-side transport string (windbg-conventions
 * §1.4):
 *   tcp:port=P[:Q][,password=X][,hidden][,ipversion=6][,bind=ADDR|*]
 *   tcp:port=P,clicon=HOST[,password=X]      (reverse: dials the client)
 *   ssl:port=P,cert=FILE.pem,key=FILE.key[,password=X][,hidden][,bind=..]
 * Keys are case-insensitive.  With a range the first free port is taken.
 * A listener takes the loopback only (127.0.0.1; ::1 with ipversion=6)
 * unless bind= names an address of this machine or "*" (every
 * interface): nothing is reachable from the network by accident.
 * With clicon= no socket listens: kd_raccept() dials HOST:P instead (once).
 * @p service is KD_RCHAN_SERVICE_*.
 * @return KD_OK; KD_EINVAL with kd_error_last() set (bad string, missing
 *         cert/key, unreadable files); KD_EBUSY (no free port).
 */
KD_API KD_WARN_UNUSED int kd_rlisten(struct kd_rlistener **out,
				     const char *spec, const char *service);

/** Stop listening and free.  NULL-safe.  Accepted channels live on. */
KD_API void kd_rlistener_close(struct kd_rlistener *l);

/** fd to poll for readability (an incoming connection); -1 for clicon. */
KD_API int kd_rlistener_fd(const struct kd_rlistener *l);

/** The port actually bound (or dialled with clicon). */
KD_API unsigned int kd_rlistener_port(const struct kd_rlistener *l);

/** True when the spec said `hidden`. */
KD_API bool kd_rlistener_hidden(const struct kd_rlistener *l);

/**
 * How long the first block of the password throttle lasts (see
 * kd_raccept()): @p first_ms milliseconds (0: the default, 1000), each
 * further failure doubling it up to 300 s (or @p first_ms when longer).
 * A server sets it before it accepts (kdsrv's --throttle-ms); tests set
 * it long to see the block, short to see it end.  NULL-safe.
 */
KD_API void kd_rlistener_set_throttle_ms(struct kd_rlistener *l,
					 unsigned int first_ms);

/**
 * The client-side string a user pastes into -remote / server=@{...}, in
 * WinDbg's capitalised form with the password masked, e.g.
 * "tcp:Port=5005,Server=HOST,Password=*" ("Port=53:60" for a range that
 * got 53; "ssl:..." for TLS).  @p host is the name to put in Server=
 * when the listener takes every interface (bind=*); otherwise Server= is
 * the address it is bound to (127.0.0.1 by default).
 * @return the length written (truncated to @p cap - 1).
 */
KD_API size_t kd_rlistener_describe(const struct kd_rlistener *l,
				    const char *host, char *buf, size_t cap);

/**
 * Accept one client: TCP accept (or the clicon dial), TLS handshake for
 * ssl:, then the hello and challenge-response exchange.  Waits up to
 * @p timeout_ms for a connection to arrive (-1: forever; 0: poll) and at
 * most 5 s for a connected peer to finish the handshake.
 * A peer that fails the password gets the one-line reason, and the failure
 * is counted per peer address: from the 3rd failure within 60 s that
 * address is refused for 2^(n-3) seconds (at most 300; the first block
 * is kd_rlistener_set_throttle_ms()) before the challenge is even sent.  Every address that has not proved the
 * password before also shares one more such count, so guesses from
 * rotating addresses come no faster than from one; the last 64 addresses
 * that proved it are judged by their own count only, so an attack from
 * elsewhere does not lock them out.  The check is made again, under
 * the same lock, when the proof is judged and counted, so parallel
 * connections that all got a challenge gain nothing either.
 * @return KD_OK with *out set; KD_ETIMEOUT (nobody came); KD_EAUTH (wrong
 *         password or throttled peer: no channel, kd_error_last() says
 *         who and why, for the server's log); KD_EPROTO (garbage, wrong
 *         service or version; same); KD_EDISCONNECTED.
 *         Only KD_ETIMEOUT and KD_OK leave nothing to log.
 */
KD_API KD_WARN_UNUSED int kd_raccept(struct kd_rlistener *l,
				     struct kd_rchan **out, int timeout_ms);

/**
 * kd_raccept() in two steps, so that a server's accept loop never waits
 * for a slow or silent peer: kd_raccept_conn() takes the next TCP
 * connection (or makes the clicon dial) and returns at once with a
 * channel that is not usable yet (kd_rchan_peer() is); the thread that
 * serves that peer then runs kd_rchan_handshake() (TLS, hello,
 * challenge and response, at most 5 s) and closes the channel itself when
 * it fails.  The listener must outlive every handshake in progress.
 * Admission: at most KD_RCHAN_PENDING_MAX handshakes run at once, and
 * KD_RCHAN_PENDING_PER_ADDR per peer address (an IPv6 address counts by
 * its /64).  Past either limit a newcomer may only take the place of a
 * handshake whose peer has not spoken and either let a fifth of the
 * handshake limit (1 s) pass since it was its turn to speak, or (for a
 * newcomer from an address that had nothing cut or refused in the last
 * 10 s) comes from an address whose share (handshakes in progress plus
 * those cut or refused in the last 10 s) is at least two more than the
 * newcomer's;
 * when none qualifies the newcomer is refused: kd_raccept_conn() closes
 * it and returns KD_EPROTO ("ADDR:PORT: refused: ..."), so no thread is
 * started for it.  So a flood only replaces its own connections or peers
 * that had their chance, and a client that answers in time is not cut,
 * however fast the flood renews and however late threads are scheduled.
 * kd_raccept_conn() returns what kd_raccept() does before the handshake
 * (KD_OK, KD_ETIMEOUT, KD_EDISCONNECTED, KD_ENOMEM), or KD_EPROTO for a
 * newcomer refused (kd_error_last() set; take the next one); kd_rchan_handshake()
 * returns KD_OK or what kd_raccept() does for a failed handshake
 * (KD_EAUTH, KD_EPROTO (also a peer that said nothing in time),
 * KD_EDISCONNECTED) with kd_error_last() set for the log.
 */
KD_API KD_WARN_UNUSED int kd_raccept_conn(struct kd_rlistener *l,
					  struct kd_rchan **out,
					  int timeout_ms);
KD_API KD_WARN_UNUSED int kd_rchan_handshake(struct kd_rlistener *l,
					     struct kd_rchan *c);

/**
 * Cut every handshake in progress on @p l (their kd_rchan_handshake()
 * fails at once), so a server that is ending need not wait for them.
 * @return how many were cut.
 */
KD_API unsigned int kd_rlistener_cut_pending(struct kd_rlistener *l);

/**
 * Stop taking connections on @p l: its socket closes (the port is free
 * again) while handshakes in progress go on; kd_rlistener_close() later.
 */
KD_API void kd_rlistener_stop_listening(struct kd_rlistener *l);

/**
 * Connect to a server from a client-side transport string:
 *   tcp:server=HOST,port=P[,password=X]
 *   ssl:server=HOST,port=P,ca=FILE.pem[,password=X]   (verifies the
 *        server's certificate against @c ca and its name against HOST)
 *   tcp:clicon=HOST,port=P[,password=X][,bind=ADDR|*]   (reverse: listen
 *        on P, on the loopback unless bind= says otherwise, and wait for
 *        the server HOST to dial in)
 * @return KD_OK; KD_EINVAL (bad string); KD_EAUTH (wrong password or TLS
 *         verification failed); KD_EPROTO (not an openkd server of that
 *         service, or another protocol version); KD_ETIMEOUT;
 *         KD_EDISCONNECTED (refused).  kd_error_last() has the sentence.
 */
KD_API KD_WARN_UNUSED int kd_rconnect(struct kd_rchan **out, const char *spec,
				      const char *service, int timeout_ms);

/**
 * Free the calling thread's OpenSSL state (DRBG, error queue).  A detached
 * thread that used channels calls it last, before it tells anyone it is
 * done, so a process that exits right after finds nothing left over.
 */
KD_API void kd_rchan_thread_done(void);

/** Close (TLS close_notify first) and free.  NULL-safe. */
KD_API void kd_rchan_close(struct kd_rchan *c);

/**
 * Send one message of @p len bytes (<= KD_RCHAN_MAX_MSG).  Thread-safe
 * against one concurrent kd_rchan_recv() on the same channel.
 * @return KD_OK; KD_EINVAL (too long); KD_EDISCONNECTED.
 */
KD_API KD_WARN_UNUSED int kd_rchan_send(struct kd_rchan *c, const void *msg,
					size_t len);

/**
 * Receive one whole message into @p buf, waiting up to @p timeout_ms
 * (0 polls, -1 forever).  A length prefix above KD_RCHAN_MAX_MSG or above
 * @p cap is a protocol error: the channel is unusable afterwards.
 * @return KD_OK with *len_out set; KD_ETIMEOUT; KD_EPROTO (oversized or
 *         malformed: disconnect the peer); KD_EDISCONNECTED.
 */
KD_API KD_WARN_UNUSED int kd_rchan_recv(struct kd_rchan *c, void *buf,
					size_t cap, size_t *len_out,
					int timeout_ms);

/** fd to poll; data may also be buffered (kd_rchan_pending()). */
KD_API int kd_rchan_fd(const struct kd_rchan *c);

/** True when a whole or partial message is already buffered (TLS). */
KD_API bool kd_rchan_pending(const struct kd_rchan *c);

/** Peer as "ADDR:PORT" ("127.0.0.1:63141", "[::1]:5005"). */
KD_API const char *kd_rchan_peer(const struct kd_rchan *c);

/** "tcp" or "ssl". */
KD_API const char *kd_rchan_proto(const struct kd_rchan *c);

/**
 * The identity the peer announced in its hello ("MACHINE\\user"), bounded
 * to 127 characters and printable ASCII; "" when none.
 */
KD_API const char *kd_rchan_identity(const struct kd_rchan *c);

KD_END_DECLS

#endif /* KD_RCHAN_H */
