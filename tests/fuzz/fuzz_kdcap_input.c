/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for kdcap's input readers: input with a pcap/pcapng
 * magic goes through libpcap (fmemopen + pcap_fopen_offline) and the KDNET
 * decoder with key 1.2.3.4; anything else is a raw serial stream (both
 * halves as the two directions) and a single UDP payload.  Output goes to
 * /dev/null; the decoder must never crash or read out of bounds.
 */
#define _DEFAULT_SOURCE 1 /* fmemopen */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "kdcap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct kdcap_dec dec;
static FILE *devnull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!devnull) {
		devnull = fopen("/dev/null", "w");
		if (!devnull)
			abort();
	}
	if (kdcap_dec_init(&dec, devnull, devnull, "1.2.3.4", size & 1) != 0)
		abort();
	if (kdcap_is_pcap(data, size)) {
		FILE *f = fmemopen((void *)(uintptr_t)data, size, "rb");

		if (f)
			(void)kdcap_read_pcap(&dec, f, "fuzz");
	} else {
		kdcap_read_raw(&dec, KDCAP_DIR_H2T, data, size / 2);
		kdcap_read_raw(&dec, KDCAP_DIR_T2H, data + size / 2,
			       size - size / 2);
		kdcap_dec_datagram(&dec, 0, data, size);
	}
	kdcap_dec_summary(&dec);
	if (kdcap_dec_exit_code(&dec) > KDCAP_EXIT_AUTH)
		abort();
	kdcap_dec_free(&dec);
	return 0;
}
