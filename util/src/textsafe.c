/* SPDX-License-Identifier: MIT */
/*
 * Text from peers, made safe to show (kd_text_escape), and passwords kept
 * out of what is shown (kd_text_redact).  A target's DbgPrint or a remote
 * peer's message may hold terminal escapes (title changes, screen clears,
 * a fake prompt, answer-back queries that type into the debugger); they
 * are written as `\xNN` so the reader sees them and the terminal does not
 * act on them.
 */
#include <string.h>

#include <kd/textsafe.h>

static const char hex[] = "0123456789abcdef";

/*
 * Length of the well-formed UTF-8 sequence at @p s (at most @p n bytes)
 * that encodes U+00A0 or above, or 0.  Overlong forms, surrogates and
 * values above U+10FFFF are not well-formed (RFC 3629).
 */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;

	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1fu;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0fu;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07u;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	/* U+0080..U+009F: C1 controls, CSI (U+009B) among them. */
	if (cp < 0xa0)
		return 0;
	return len;
}

/* Bytes of @p s[i] kept as they are (0: escape one byte). */
static size_t keep_len(const unsigned char *s, size_t i, size_t n)
{
	unsigned char c = s[i];

	if ((c >= 0x20 && c < 0x7f) || c == '\t' || c == '\n')
		return 1;
	/* CR LF is a line end; a lone CR would overwrite the line. */
	if (c == '\r' && i + 1 < n && s[i + 1] == '\n')
		return 2; /* one unit: a piece never ends between them */
	if (c >= 0x80)
		return utf8_len(s + i, n - i);
	return 0;
}

size_t kd_text_escape(char *dst, size_t cap, const void *src, size_t len,
		      size_t *used)
{
	const unsigned char *s = src;
	size_t i = 0, o = 0;

	if (cap == 0) {
		if (used)
			*used = 0;
		return 0;
	}
	while (i < len) {
		size_t k = keep_len(s, i, len);

		if (k) {
			if (o + k >= cap)
				break;
			memcpy(dst + o, s + i, k);
			o += k;
			i += k;
			continue;
		}
		if (o + 4 >= cap)
			break;
		dst[o++] = '\\';
		dst[o++] = 'x';
		dst[o++] = hex[s[i] >> 4];
		dst[o++] = hex[s[i] & 15];
		i++;
	}
	dst[o] = '\0';
	if (used)
		*used = i;
	return o;
}

bool kd_text_is_safe(const void *src, size_t len)
{
	const unsigned char *s = src;

	for (size_t i = 0; i < len;) {
		size_t k = keep_len(s, i, len);

		if (!k)
			return false;
		i += k;
	}
	return true;
}

/*
 * Length of the secret option's name (with '=') that starts at @p p of
 * the string at @p start, or 0: `password=` anywhere, and a KDNET
 * `key=` (@p net: the transport of this part of the string is net:).
 */
static size_t secret_at(const char *start, const char *p, bool net)
{
	static const char *const names[] = { "password=", "key=" };

	if (p != start && p[-1] != ',' && p[-1] != ':' && p[-1] != '{')
		return 0;
	for (size_t k = 0; k < 2; k++) {
		const char *key = names[k];
		size_t i;

		if (k == 1 && !net)
			break;
		for (i = 0; key[i]; i++) {
			char c = p[i];

			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			if (c != key[i])
				break;
		}
		if (!key[i])
			return i;
	}
	return 0;
}

/* True when the part of a string at @p p names the net: transport. */
static bool part_is_net(const char *p)
{
	return (p[0] == 'n' || p[0] == 'N') && (p[1] == 'e' || p[1] == 'E') &&
	       (p[2] == 't' || p[2] == 'T') && p[3] == ':';
}

/*
 * End of the value at @p v: a plain one at ',', '|', the end, or
 * (inside a nested value, @p depth > 0) the '}' that closes it; a
 * `@{...}` one after its '}' and anything up to such an end.
 * Unbalanced text runs to the end: better too much hidden than a
 * password shown.
 */
static const char *value_end(const char *v, int depth)
{
	if (v[0] == '@' && v[1] == '{') {
		int d = 0;
		const char *p;

		for (p = v; *p; p++) {
			if (p[0] == '@' && p[1] == '{') {
				d++;
				p++;
			} else if (*p == '}' && --d == 0) {
				break;
			}
		}
		if (!*p)
			return p;
		v = p + 1; /* text after the '}' (malformed): hidden too */
	}
	while (*v && *v != ',' && *v != '|' && !(depth > 0 && *v == '}'))
		v++;
	return v;
}

#define REDACT_DEPTH 16

char *kd_text_redact(char *dst, size_t cap, const char *spec)
{
	const char *p = spec;
	size_t o = 0, n;
	int depth = 0;
	bool net[REDACT_DEPTH]; /* per nesting level: a net: part */

	if (cap == 0)
		return dst;
	net[0] = p && part_is_net(p);
	while (p && *p && o + 1 < cap) {
		n = secret_at(
			spec, p,
			net[depth < REDACT_DEPTH ? depth : REDACT_DEPTH - 1]);
		if (n) {
			const char *end = value_end(p + n, depth);

			if (o + n + 2 > cap)
				break; /* no room for all of "name=*" */
			memcpy(dst + o, p, n);
			o += n;
			dst[o++] = '*';
			p = end;
			continue;
		}
		if (p[0] == '@' && p[1] == '{') {
			depth++;
			if (depth < REDACT_DEPTH)
				net[depth] = part_is_net(p + 2);
			if (o + 2 >= cap)
				break;
			dst[o++] = *p++;
		} else if (*p == '}' && depth > 0) {
			depth--;
		} else if (*p == '|' && depth < REDACT_DEPTH) {
			net[depth] = part_is_net(p + 1);
		}
		dst[o++] = *p++;
	}
	dst[o] = '\0';
	return dst;
}
