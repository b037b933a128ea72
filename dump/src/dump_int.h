/* SPDX-License-Identifier: MIT */
/*
 * Crash-dump reader internals shared by dump.c, the dump target and the
 * dump commands (and unit tests): raw pages, the decoded debugger data
 * block, the triage driver list, the crashing processor.
 */
#ifndef KD_DUMP_INT_H
#define KD_DUMP_INT_H

#include <kd/dump.h>

/* Add a warning (printf-style; at most 16 are kept). */
void kd_dump_warnf(struct kd_dump *d, const char *fmt, ...) KD_PRINTF(2, 3);
/* The 4 KiB page @p pfn inside the mapping, or NULL when absent. */
const uint8_t *kd_dump_page(const struct kd_dump *d, uint64_t pfn);
/* The decoded KDDEBUGGER_DATA64 copy (length 0: none). */
size_t kd_dump_kdbg_block(const struct kd_dump *d, const uint8_t **block);
/* Decode an encoded KDBG in place (crashdump-format §3.4). */
void kd_dump_kdbg_decode(uint8_t *block, size_t len, uint64_t never,
			 uint64_t always, uint64_t encoded_va);
/* The processor whose CONTEXT is the header's. */
unsigned int kd_dump_crash_cpu(struct kd_dump *d);
/* Triage driver list: entry @p i's base, size and file name. */
unsigned int kd_dump_triage_driver_count(const struct kd_dump *d);
int kd_dump_triage_driver(const struct kd_dump *d, unsigned int i,
			  uint64_t *base, uint32_t *size, char *name,
			  size_t cap);
/* Exception record code and address of the header. */
int kd_dump_exception(const struct kd_dump *d, uint32_t *code, uint64_t *addr);

#endif /* KD_DUMP_INT_H */
