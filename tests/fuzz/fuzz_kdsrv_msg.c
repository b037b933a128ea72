/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the kdsrv message codec (what kdsrv decodes from every client and
 * the smart client from the server): decode must accept or reject any
 * bytes without reading outside them, and whatever it accepts must
 * re-encode to exactly the same bytes (the format has one spelling).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kd/proto/kdsrv.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[KD_SRV_MSG_MAX];
	struct kd_srv_msg m;
	size_t n = 0;
	uint8_t *copy;

	if (size > KD_SRV_MSG_MAX + 16)
		return 0;
	/* An exact-size heap copy: ASan sees any read past the end. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	if (size)
		memcpy(copy, data, size);
	if (kd_srv_msg_decode(&m, copy, size) == KD_OK) {
		if (kd_srv_msg_encode(out, sizeof(out), &n, &m) != KD_OK ||
		    n != size || memcmp(out, copy, size) != 0)
			abort();
		(void)kd_srv_msg_from_client(m.type);
		(void)kd_srv_msg_name(m.type);
	}
	free(copy);
	return 0;
}
