/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for kdsrv's transport policy and the text-safety
 * helpers: the input is a policy text (one pattern a line, as in an
 * --allow-file), a NUL, then a client's transport string.  The policy is
 * loaded, the string checked against it and against the built-in
 * default, and both halves go through kd_text_escape() and
 * kd_text_redact(), whose results are checked for what they promise.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kd/kdsrv.h>
#include <kd/textsafe.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_escape(const uint8_t *s, size_t n)
{
	char out[256];
	size_t at = 0;

	while (at < n) {
		size_t used = 0;
		size_t w = kd_text_escape(out, sizeof(out), s + at, n - at,
					  &used);

		if (used == 0 || w >= sizeof(out) || out[w] != '\0')
			abort();
		/* No control byte but tab, LF and CR-before-LF survives. */
		for (size_t i = 0; i < w; i++) {
			unsigned char c = (unsigned char)out[i];

			if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
			    c == 0x7f)
				abort();
			if (c == '\r' && out[i + 1] != '\n')
				abort();
		}
		at += used;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t plen = nul ? (size_t)(nul - data) : size;
	struct kd_srv_policy *p = NULL;
	char why[512], red[512];
	char *trans;
	size_t tlen;
	int sink = 0;

	if (size > 64 * 1024)
		return 0;
	check_escape(data, size);
	tlen = nul ? size - plen - 1 : 0;
	trans = malloc(tlen + 1);
	if (!trans)
		return 0;
	memcpy(trans, nul ? nul + 1 : data, tlen);
	trans[tlen] = '\0';
	if (kd_srv_policy_new(&p) == 0) {
		sink += kd_srv_policy_add_text(p, (const char *)data, plen,
					       "fuzz");
		if (kd_srv_policy_check(p, trans, why, sizeof(why)) != 0 &&
		    strlen(why) >= sizeof(why))
			abort();
		kd_srv_policy_free(p);
	}
	sink += kd_srv_policy_check(NULL, trans, why, sizeof(why));
	kd_text_redact(red, sizeof(red), trans);
	if (strlen(red) >= sizeof(red))
		abort();
	free(trans);
	return sink == 1; /* never: codes are <= 0; keeps the results used */
}
