/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the debugging server's message codec: decode as a
 * server (client messages) and as a client (server messages); whatever
 * decodes must encode back to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kd/proto/srvmsg.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_roundtrip(const uint8_t *data, size_t size, bool from_client)
{
	static uint8_t out[KD_SRVMSG_MAX_MSG];
	struct kd_srvmsg m;
	const char *why = NULL;
	size_t n = 0;

	if (kd_srvmsg_decode(data, size, from_client, &m, &why) != KD_OK) {
		if (!why)
			abort(); /* every failure names its reason */
		return;
	}
	if (m.len > KD_SRVMSG_MAX_OUTPUT)
		abort();
	if (kd_srvmsg_encode(out, sizeof(out), m.type, m.text, m.len, &n) !=
		    KD_OK ||
	    n != size || memcmp(out, data, size) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > KD_SRVMSG_MAX_MSG + 16)
		return 0;
	fuzz_roundtrip(data, size, true);
	fuzz_roundtrip(data, size, false);
	return 0;
}
