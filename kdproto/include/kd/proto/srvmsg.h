/* SPDX-License-Identifier: MIT */
/*
 * The debugging server's message protocol ("dbgsrv/1"), carried inside
 * remote-channel messages (kd/rchan.h): command lines, detach, break and
 * final commands from a client; output, prompts and the end of the session
 * from the server.  Pure encode and decode, every field bounded.
 */
#ifndef KD_PROTO_SRVMSG_H
#define KD_PROTO_SRVMSG_H

#include <kd/common.h>

KD_BEGIN_DECLS

/* Version byte of every message; a peer with another one is refused. */
#define KD_SRVMSG_VERSION 1u

/* Header: version u8, type u8, reserved u16 (0), text length u32 LE. */
#define KD_SRVMSG_HDR 8u

/* Longest command line (LINE, EXIT) in bytes, without a terminator. */
#define KD_SRVMSG_MAX_LINE 4096u
/* Longest OUTPUT text in one message. */
#define KD_SRVMSG_MAX_OUTPUT 60000u
/* Longest PROMPT and ENDED texts. */
#define KD_SRVMSG_MAX_PROMPT 64u
#define KD_SRVMSG_MAX_REASON 512u
/* Largest encoded message. */
#define KD_SRVMSG_MAX_MSG (KD_SRVMSG_HDR + KD_SRVMSG_MAX_OUTPUT)

enum kd_srvmsg_type {
	/* client -> server */
	KD_SRVMSG_LINE = 0x01,	 /* a typed command line */
	KD_SRVMSG_DETACH = 0x02, /* Ctrl+B: leave now, no text */
	KD_SRVMSG_EXIT = 0x03,	 /* .remote_exit: final commands, then leave */
	KD_SRVMSG_BREAK = 0x04,	 /* Ctrl+C: break in, no text */
	/* server -> client */
	KD_SRVMSG_OUTPUT = 0x81, /* session output text */
	KD_SRVMSG_PROMPT = 0x82, /* the prompt: ready for the next line */
	KD_SRVMSG_ENDED = 0x83,	 /* the session ended or you were dropped */
};

/* A decoded message; @c text points into the decoded buffer. */
struct kd_srvmsg {
	unsigned int type; /* enum kd_srvmsg_type */
	const char *text;  /* not NUL-terminated; "" when len is 0 */
	size_t len;
};

/**
 * Encode one message of @p type with @p len bytes of @p text into @p buf.
 * Texts are validated as the decoder does (see kd_srvmsg_decode()).
 * @return KD_OK with *out_len set; KD_EINVAL (unknown type, text too long
 *         or with forbidden bytes); KD_EBUFS (@p cap too small).
 */
KD_API KD_WARN_UNUSED int kd_srvmsg_encode(uint8_t *buf, size_t cap,
					   unsigned int type, const char *text,
					   size_t len, size_t *out_len);

/**
 * Decode one whole message of @p len bytes.  @p from_client selects the
 * direction: a server accepts only client types and vice versa.  Rules:
 * version 1, reserved 0, length field equal to the rest of the message,
 * DETACH/BREAK without text, LINE/EXIT up to KD_SRVMSG_MAX_LINE bytes
 * without NUL, CR, LF or other control bytes except tab, OUTPUT up to
 * KD_SRVMSG_MAX_OUTPUT bytes without NUL, PROMPT and ENDED printable.
 * @return KD_OK; KD_ETRUNC (shorter than the header or its length);
 *         KD_EPROTO (anything else wrong).  *why (optional) gets a short
 *         static sentence for the log.
 */
KD_API KD_WARN_UNUSED int kd_srvmsg_decode(const uint8_t *buf, size_t len,
					   bool from_client,
					   struct kd_srvmsg *m,
					   const char **why);

/** "line", "detach", ... or "unknown". */
KD_API const char *kd_srvmsg_type_name(unsigned int type);

KD_END_DECLS

#endif /* KD_PROTO_SRVMSG_H */
