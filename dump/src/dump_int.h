/* SPDX-License-Identifier: MIT */
/*
 * Crash-dump reader internals shared by the reader's own files (and its
 * unit tests): warnings, raw pages, the KDBG decoder.  Everything a user
 * of the reader needs is in <kd/dump.h>.
 */
#ifndef KD_DUMP_INT_H
#define KD_DUMP_INT_H

#include <kd/dump.h>

/* Add a warning (printf-style; at most 16 are kept). */
void kd_dump_warnf(struct kd_dump *d, const char *fmt, ...) KD_PRINTF(2, 3);
/* The 4 KiB page @p pfn inside the mapping, or NULL when absent. */
const uint8_t *kd_dump_page(const struct kd_dump *d, uint64_t pfn);
/* Decode an encoded KDBG in place (crashdump-format §3.4). */
void kd_dump_kdbg_decode(uint8_t *block, size_t len, uint64_t never,
			 uint64_t always, uint64_t encoded_va);

#endif /* KD_DUMP_INT_H */
