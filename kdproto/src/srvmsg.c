/* SPDX-License-Identifier: MIT */
/*
 * Encoder and decoder of the debugging server's messages
 * (kd/proto/srvmsg.h).  Pure and freestanding like the rest of kdproto:
 * no I/O, no heap, no libc beyond the mem* functions.
 */
#include <string.h>

#include <kd/proto/srvmsg.h>

const char *kd_srvmsg_type_name(unsigned int type)
{
	switch (type) {
	case KD_SRVMSG_LINE:
		return "line";
	case KD_SRVMSG_DETACH:
		return "detach";
	case KD_SRVMSG_EXIT:
		return "exit";
	case KD_SRVMSG_BREAK:
		return "break";
	case KD_SRVMSG_OUTPUT:
		return "output";
	case KD_SRVMSG_PROMPT:
		return "prompt";
	case KD_SRVMSG_ENDED:
		return "ended";
	default:
		return "unknown";
	}
}

/* Command lines: tab and bytes >= 0x20 except DEL (UTF-8 passes). */
static bool srvmsg_line_ok(const char *t, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)t[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return false;
	}
	return true;
}

/* Output: anything but NUL (a loop: memchr is not freestanding). */
static bool srvmsg_output_ok(const char *t, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (t[i] == '\0')
			return false;
	}
	return true;
}

/*
 * Check @p text against the rules of @p type.  Returns NULL when it is
 * fine, else the reason.
 */
static const char *srvmsg_check(unsigned int type, const char *text, size_t len)
{
	switch (type) {
	case KD_SRVMSG_DETACH:
	case KD_SRVMSG_BREAK:
		return len ? "detach/break message carries text" : NULL;
	case KD_SRVMSG_LINE:
	case KD_SRVMSG_EXIT:
		if (len > KD_SRVMSG_MAX_LINE)
			return "command line too long";
		return srvmsg_line_ok(text, len) ?
			       NULL :
			       "control character in a command line";
	case KD_SRVMSG_OUTPUT:
		if (len > KD_SRVMSG_MAX_OUTPUT)
			return "output message too long";
		return srvmsg_output_ok(text, len) ? NULL :
						     "NUL byte in output";
	case KD_SRVMSG_PROMPT:
		if (len > KD_SRVMSG_MAX_PROMPT)
			return "prompt too long";
		return srvmsg_line_ok(text, len) ?
			       NULL :
			       "control character in the prompt";
	case KD_SRVMSG_ENDED:
		if (len > KD_SRVMSG_MAX_REASON)
			return "end reason too long";
		return srvmsg_line_ok(text, len) ?
			       NULL :
			       "control character in the end reason";
	default:
		return "unknown message type";
	}
}

int kd_srvmsg_encode(uint8_t *buf, size_t cap, unsigned int type,
		     const char *text, size_t len, size_t *out_len)
{
	if (!text)
		len = 0;
	*out_len = 0;
	if (srvmsg_check(type, text ? text : "", len))
		return KD_EINVAL;
	if (cap < KD_SRVMSG_HDR || cap - KD_SRVMSG_HDR < len)
		return KD_EBUFS;
	buf[0] = (uint8_t)KD_SRVMSG_VERSION;
	buf[1] = (uint8_t)type;
	buf[2] = 0;
	buf[3] = 0;
	kd_put_le32(buf + 4, (uint32_t)len);
	if (len)
		memcpy(buf + KD_SRVMSG_HDR, text, len);
	*out_len = KD_SRVMSG_HDR + len;
	return KD_OK;
}

static int srvmsg_bad(const char **why, const char *text, int code)
{
	if (why)
		*why = text;
	return code;
}

int kd_srvmsg_decode(const uint8_t *buf, size_t len, bool from_client,
		     struct kd_srvmsg *m, const char **why)
{
	const char *problem;
	uint32_t tlen;
	unsigned int type;

	memset(m, 0, sizeof(*m));
	m->text = "";
	if (why)
		*why = NULL;
	if (len < KD_SRVMSG_HDR)
		return srvmsg_bad(why, "message shorter than its header",
				  KD_ETRUNC);
	if (buf[0] != KD_SRVMSG_VERSION)
		return srvmsg_bad(why, "unknown message version", KD_EPROTO);
	type = buf[1];
	if (buf[2] != 0 || buf[3] != 0)
		return srvmsg_bad(why, "reserved header bytes not zero",
				  KD_EPROTO);
	tlen = kd_get_le32(buf + 4);
	if (tlen > KD_SRVMSG_MAX_OUTPUT)
		return srvmsg_bad(why, "text length out of range", KD_EPROTO);
	if (len - KD_SRVMSG_HDR < tlen)
		return srvmsg_bad(why, "message shorter than its length",
				  KD_ETRUNC);
	if (len - KD_SRVMSG_HDR > tlen)
		return srvmsg_bad(why, "bytes after the message text",
				  KD_EPROTO);
	if (from_client != ((type & 0x80u) == 0))
		return srvmsg_bad(why,
				  from_client ?
					  "server message sent by a client" :
					  "client message sent by a server",
				  KD_EPROTO);
	problem = srvmsg_check(type, (const char *)buf + KD_SRVMSG_HDR, tlen);
	if (problem)
		return srvmsg_bad(why, problem, KD_EPROTO);
	m->type = type;
	if (tlen)
		m->text = (const char *)buf + KD_SRVMSG_HDR;
	m->len = tlen;
	return KD_OK;
}
