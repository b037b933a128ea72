/* SPDX-License-Identifier: MIT */
/*
 * The KD connection server (kdsrv): owns KD links next to the targets and
 * relays whole KD packets to smart clients (`kd -k kdsrv:...`) over remote
 * channels.  docs/kdsrv.md describes the program, docs/kdsrv-protocol.md
 * the messages.
 */
#ifndef KD_KDSRV_H
#define KD_KDSRV_H

#include <stdio.h>

#include <kd/common.h>

KD_BEGIN_DECLS

struct kd_srv;

#define KD_SRV_OPTS_VERSION 1

/* Defaults of the limits below. */
#define KD_SRV_DEF_MAX_CLIENTS 64
#define KD_SRV_DEF_MSG_RATE 20000 /* messages per second and client */

struct kd_srv_opts {
	unsigned int version; /* KD_SRV_OPTS_VERSION */
	const char *spec;     /* -t string: tcp:port=P[,password=X]... */
	const char *host;     /* name for Server= in the description */
	FILE *log;            /* connection log; NULL: stderr */
	int max_clients;      /* 0: KD_SRV_DEF_MAX_CLIENTS */
	int msg_rate;         /* 0: KD_SRV_DEF_MSG_RATE; burst of one second */
	int idle_close_s;     /* close a link nobody took this long; 0 never */
};

/**
 * Start listening on @p o->spec (kd_rlisten(), service kdsrv/1).
 * @return KD_OK; KD_EINVAL (bad spec, kd_error_last() says why); KD_EBUSY
 *         (no free port); KD_ENOMEM.
 */
KD_API KD_WARN_UNUSED int kd_srv_open(struct kd_srv **out,
				      const struct kd_srv_opts *o);

/** Client string to give users: "tcp:Port=5005,Server=host". */
KD_API size_t kd_srv_describe(const struct kd_srv *s, char *buf, size_t cap);

/**
 * Serve until a client sends END (`.endpsrv`) or kd_srv_stop() is called;
 * then every session is closed (each client is told), every link closed.
 * @return KD_OK after a clean end; a listener failure otherwise.
 */
KD_API KD_WARN_UNUSED int kd_srv_run(struct kd_srv *s);

/** Ask kd_srv_run() to end.  Async-signal-safe. */
KD_API void kd_srv_stop(struct kd_srv *s);

/** Free after kd_srv_run() returned (or instead of running).  NULL-safe. */
KD_API void kd_srv_close(struct kd_srv *s);

/**
 * The registry key of a client's transport string: the bottom driver's
 * scheme and what names the physical channel ("net:port=50000",
 * "com:port=/tmp/vm.sock", "com:port=127.0.0.1,ipport=5555"), so that two
 * spellings of one channel collide.
 * @return KD_OK; KD_EINVAL (unparsable string); KD_EBUFS.
 */
KD_API KD_WARN_UNUSED int kd_srv_transport_key(const char *trans, char *buf,
					       size_t cap);

/**
 * Fill the parameters a client left out of its transport string from
 * kdsrv's own environment (windbg-conventions §1.6: `trans=@{com:}`):
 *   com: port=  from _NT_DEBUG_PORT        (e.g. /dev/ttyS0, or a socket
 *                                            path with `com:pipe`)
 *   com: baud=  from _NT_DEBUG_BAUD_RATE   (serial devices only, not
 *                                            with pipe or ipport)
 *   net: port=  from OPENKD_KDNET_PORT     (openkd's own names)
 *   net: key=   from OPENKD_KDNET_KEY
 * Given parameters always win; unset variables leave the string as it is
 * (the transport then names what is missing).
 * @return KD_OK with the string in @p buf; KD_EINVAL (unparsable string,
 *         or a variable holding ',', '@', '{', '}', '|', blanks or more
 *         than 200 bytes); KD_EBUFS.
 */
KD_API KD_WARN_UNUSED int kd_srv_trans_defaults(const char *trans, char *buf,
						size_t cap);

KD_END_DECLS

#endif /* KD_KDSRV_H */
