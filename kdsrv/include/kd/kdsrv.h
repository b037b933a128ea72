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

struct kd_connsrv;
struct kd_srv_policy;

#define KD_SRV_OPTS_VERSION 2 /* 2: throttle_ms */

/* Defaults of the limits below. */
#define KD_SRV_DEF_MAX_CLIENTS 64
#define KD_SRV_DEF_MSG_RATE 20000 /* messages per second and client */

struct kd_srv_opts {
	unsigned int version; /* KD_SRV_OPTS_VERSION */
	const char *spec;     /* -t string: tcp:port=P[,password=X]... */
	const char *host;     /* name for Server= in the description */
	FILE *log;	      /* connection log; NULL: stderr */
	int max_clients;      /* 0: KD_SRV_DEF_MAX_CLIENTS */
	int msg_rate;	      /* 0: KD_SRV_DEF_MSG_RATE; burst of one second */
	int idle_close_s;     /* close a link nobody took this long; 0 never */
	/* what clients may open; NULL: the built-in default (see
	 * kd_srv_policy_check); not copied: keep it until kd_srv_close */
	const struct kd_srv_policy *policy;
	/* the first block of the password throttle in ms (after the 3rd
	 * failure; doubled by each further one); 0: 1000 */
	int throttle_ms;
};

/**
 * Start listening on @p o->spec (kd_rlisten(), service kdsrv/1).
 * @return KD_OK; KD_EINVAL (bad spec, kd_error_last() says why); KD_EBUSY
 *         (no free port); KD_ENOMEM.
 */
KD_API KD_WARN_UNUSED int kd_srv_open(struct kd_connsrv **out,
				      const struct kd_srv_opts *o);

/** Client string to give users: "tcp:Port=5005,Server=host". */
KD_API size_t kd_srv_describe(const struct kd_connsrv *s, char *buf,
			      size_t cap);

/**
 * Serve until a client sends END (`.endpsrv`) or kd_srv_stop() is called;
 * then every session is closed (each client is told), every link closed.
 * @return KD_OK after a clean end; a listener failure otherwise.
 */
KD_API KD_WARN_UNUSED int kd_srv_run(struct kd_connsrv *s);

/** Ask kd_srv_run() to end.  Async-signal-safe. */
KD_API void kd_srv_stop(struct kd_connsrv *s);

/** Free after kd_srv_run() returned (or instead of running).  NULL-safe. */
KD_API void kd_srv_close(struct kd_connsrv *s);

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

/*
 * The transports kdsrv opens for its clients (docs/security.md, "kdsrv
 * policy").  A pattern is a transport string whose values are globs
 * (fnmatch, '/' and a leading '.' matched only literally) or, for a
 * number, `lo..hi`:
 *   net:port=50000..50099          com:pipe,port=/run/vm/kd-?.sock
 * A client's string matches a pattern when it has the same layers
 * (`a|b`) with the same transport names, every option the pattern names
 * (flags as flags, values matching), and no other option except the
 * tuning ones (com: baud, resets, reconnect; net: key, auth_ms).  Numbers
 * must be plain decimal; a path with a ".." component never matches.
 * "default" adds the built-in list: `net:` and `net:port=1024..65535`
 * (host role only), `com:port=/dev/ttyS[0-9]*`, `/dev/ttyUSB[0-9]*`,
 * `/dev/ttyACM[0-9]*`, and the ports kdsrv's environment names
 * (_NT_DEBUG_PORT, also with `pipe`; OPENKD_KDNET_PORT).  "none" adds
 * nothing.
 */

/** An empty list (allows nothing until patterns are added). */
KD_API KD_WARN_UNUSED int kd_srv_policy_new(struct kd_srv_policy **out);

/**
 * Add one pattern, "default" or "none".
 * @return KD_OK; KD_EINVAL (unparsable, or more than 256 patterns, with
 *         kd_error_last() saying why); KD_ENOMEM.
 */
KD_API KD_WARN_UNUSED int kd_srv_policy_add(struct kd_srv_policy *p,
					    const char *pattern);

/**
 * Add the patterns of a policy text: one a line, blanks around ignored,
 * empty lines and lines starting with '#' skipped.  Messages name
 * @p origin and the line.
 */
KD_API KD_WARN_UNUSED int kd_srv_policy_add_text(struct kd_srv_policy *p,
						 const char *text, size_t len,
						 const char *origin);

/** kd_srv_policy_add_text() of a file (at most 256 KiB). */
KD_API KD_WARN_UNUSED int kd_srv_policy_load(struct kd_srv_policy *p,
					     const char *path);

/**
 * The list for a log line: the patterns separated by " ; ", "nothing",
 * or (@p p NULL) a note on the default.  @return its length.
 */
KD_API size_t kd_srv_policy_describe(const struct kd_srv_policy *p, char *buf,
				     size_t cap);

/** Patterns in the list. */
KD_API size_t kd_srv_policy_count(const struct kd_srv_policy *p);

/**
 * May a client open @p trans (after kd_srv_trans_defaults())?  @p p NULL
 * means the built-in default.  On refusal @p why gets a one-line reason.
 * @return KD_OK; KD_EAUTH (not allowed); KD_EINVAL (not a transport
 *         string); KD_ENOMEM.
 */
KD_API KD_WARN_UNUSED int kd_srv_policy_check(const struct kd_srv_policy *p,
					      const char *trans, char *why,
					      size_t cap);

/** NULL-safe. */
KD_API void kd_srv_policy_free(struct kd_srv_policy *p);

KD_END_DECLS

#endif /* KD_KDSRV_H */
