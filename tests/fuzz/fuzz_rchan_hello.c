/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the remote-channel handshake parsers of kdproto
 * (kd/proto/hello.h: server hello, client hello, verdict).  Whatever
 * parses must re-encode to the very same bytes: the encoding is
 * canonical, so a difference is a parser bug.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kd/proto/hello.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen || memcmp(a, b, alen) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kd_rchan_shello sh;
	struct kd_rchan_chello ch;
	struct kd_rchan_verdict v;
	uint8_t out[KD_RCHAN_HS_MAX];
	unsigned int ver = 0;
	const char *why = NULL;
	size_t n;

	(void)kd_rchan_msg_type(data, size);
	if (kd_rchan_parse_shello(data, size, &sh, &ver, &why) == 0) {
		n = kd_rchan_enc_shello(out, sizeof(out), &sh);
		same(out, n, data, size);
	} else if (!why) {
		abort();
	}
	why = NULL;
	if (kd_rchan_parse_chello(data, size, &ch, &ver, &why) == 0) {
		if (strlen(ch.identity) > KD_RCHAN_IDENTITY_MAX)
			abort();
		n = kd_rchan_enc_chello(out, sizeof(out), &ch);
		same(out, n, data, size);
	} else if (!why) {
		abort();
	}
	why = NULL;
	if (kd_rchan_parse_verdict(data, size, &v, &ver, &why) == 0) {
		n = kd_rchan_enc_verdict(out, sizeof(out), &v);
		same(out, n, data, size);
	} else if (!why) {
		abort();
	}
	return 0;
}
