/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: arbitrary manipulate payloads through kdstub's dispatcher
 * against the fake machine.  Input: records of [u16 length][bytes].  After
 * every request the reply is bounded and echoes the API, and the stub's
 * invariants hold (breakpoint table, ids, buffers).
 */
#include <stdlib.h>
#include <string.h>

#include <kdstub/kdstub.h>

#include "../unit/kdstub/fake_platform.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int nop_getc(void)
{
	return -1;
}

static void nop_putc(uint8_t b)
{
	(void)b;
}

static const struct kdstub_io nop_io = {
	.name = "fuzz",
	.getc = nop_getc,
	.putc = nop_putc,
};

static struct kdstub stub;
static struct fake_machine fake;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kdstub_resume res;
	size_t len, reply_len;
	int r;

	fake_init(&fake);
	if (kdstub_init(&stub, &nop_io, &fake_ops, &fake) != 0)
		abort();
	stub.search_max = 0x10000; /* keep each run fast */
	while (size >= 2) {
		len = kd_get_le16(data);
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		memset(&res, 0, sizeof(res));
		r = kdstub_dispatch(&stub, data, len, &reply_len, &res);
		if (r < KDSTUB_DISPATCH_NEXT || r > KDSTUB_DISPATCH_RESEND)
			abort();
		if (reply_len > KDSTUB_MAX_SEND)
			abort();
		if (reply_len && reply_len < KD_MANIP_SIZE)
			abort();
		if (reply_len && len >= 4 && memcmp(stub.out, data, 4) != 0)
			abort(); /* the reply echoes the ApiNumber */
		if (kdstub_check_invariants(&stub) != 0)
			abort();
		if (stub.ops != &fake_ops || stub.io != &nop_io ||
		    stub.ctx != &fake)
			abort();
		/* A breakpoint is only ever recorded where memory was. */
		for (size_t i = 0; i < KDSTUB_MAX_BREAKPOINTS; i++) {
			uint64_t a = stub.bps[i].address;

			if (stub.bps[i].used &&
			    (a < FAKE_VBASE || a - FAKE_VBASE >= FAKE_MEM))
				abort();
		}
		data += len;
		size -= len;
	}
	return 0;
}
