/* SPDX-License-Identifier: MIT */
/*
 * file.ptr: a store's pointer to where the real file lives.  One line,
 * "PATH:<location>", a bare "<location>" (old stores) or "MSG:<text>"
 * (the store says why it has no file).  Bounded to
 * KD_SYMSTORE_FILEPTR_MAX bytes; anything that is not one printable line
 * is refused.
 */
#define _GNU_SOURCE
#include <string.h>
#include <strings.h>

#include "symstore_int.h"

int kd_symstore__fileptr_parse(const char *body, size_t len, char *out,
			       size_t cap)
{
	size_t a = 0, b, i;
	bool msg = false;

	if (cap == 0)
		return KD_EBUFS;
	out[0] = '\0';
	if (len > KD_SYMSTORE_FILEPTR_MAX)
		return KD_EPROTO;
	b = len;
	/* One line: trailing CR/LF and blanks go, nothing may follow. */
	while (b > a && (body[b - 1] == '\n' || body[b - 1] == '\r' ||
			 body[b - 1] == ' ' || body[b - 1] == '\t'))
		b--;
	while (a < b && (body[a] == ' ' || body[a] == '\t'))
		a++;
	if (b - a >= 5 && strncasecmp(body + a, "PATH:", 5) == 0)
		a += 5;
	else if (b - a >= 4 && strncasecmp(body + a, "MSG:", 4) == 0) {
		a += 4;
		msg = true;
	}
	while (a < b && (body[a] == ' ' || body[a] == '\t'))
		a++;
	if (a == b && !msg)
		return KD_EPROTO;
	for (i = a; i < b; i++) {
		unsigned char c = (unsigned char)body[i];

		if (c < 0x20 || c == 0x7f)
			return KD_EPROTO;
		/* A location is a path or URL, never markup. */
		if (!msg && (c == '<' || c == '>' || c == '"'))
			return KD_EPROTO;
	}
	if (b - a >= cap)
		return KD_EBUFS;
	memcpy(out, body + a, b - a);
	out[b - a] = '\0';
	return msg ? KD_ENOTFOUND : KD_OK;
}
