/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the image-file target's PE layout (engine/src/target/pe_file.c):
 * any file through kd_target__pe_parse, and when it is accepted, reads
 * around every region it mapped.  Checks what the target relies on: the
 * regions are sorted, apart, inside SizeOfImage, their raw bytes inside
 * the file; a read never reports more than it was asked for, copies the
 * file's bytes where a region has them and zeros past them, and refuses
 * an RVA no region maps.
 *
 * Seeds (tests/fuzz/corpus/pe_file): x64, x86 and ARM64 DLLs made with
 * clang-cl and lld-link from a small program of our own, kdsim's hal.dll
 * (mingw), and damaged copies (truncated, overlapping sections, a
 * section past SizeOfImage, 0xffff sections).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kd/common.h>

#include "target/pe_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t buf[0x3000];

static void check_read(const struct kd_pef *pe, const uint8_t *data,
		       size_t size, uint64_t rva, size_t want)
{
	size_t done = 12345, i;
	int rc;

	if (want > sizeof(buf))
		want = sizeof(buf);
	rc = kd_target__pe_read(pe, data, size, rva, buf, want, &done);
	if (done > want || (rc == KD_OK) != (done > 0) ||
	    (rc != KD_OK && rc != KD_EFAULT))
		abort();
	/* Byte by byte, what the regions say each one is. */
	for (i = 0; i < done; i++) {
		uint64_t a = rva + i;
		const struct kd_pef_region *r = NULL;
		unsigned k;

		for (k = 0; k < pe->nregions && !r; k++)
			if (a >= pe->region[k].rva &&
			    a - pe->region[k].rva < pe->region[k].size)
				r = &pe->region[k];
		if (!r)
			abort(); /* a byte read from nowhere */
		if (a - r->rva < r->raw_len) {
			if (buf[i] != data[r->raw_off + (a - r->rva)])
				abort();
		} else if (buf[i] != 0) {
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kd_pef pe;
	char err[256];
	uint32_t prev_end = 0;
	unsigned i;

	if (kd_target__pe_parse(data, size, &pe, err, sizeof(err)) != KD_OK) {
		if (!err[0] || strlen(err) >= sizeof(err))
			abort(); /* a refusal always says why */
		return 0;
	}
	if (pe.nregions == 0 || pe.nregions > 1 + KD_PEF_MAX_SECTIONS)
		abort();
	for (i = 0; i < pe.nregions; i++) {
		const struct kd_pef_region *r = &pe.region[i];

		if (r->rva < prev_end || r->size == 0 ||
		    (uint64_t)r->rva + r->size > pe.size_of_image ||
		    (uint64_t)r->raw_off + r->raw_len > size ||
		    r->raw_len > r->size)
			abort();
		prev_end = r->rva + r->size;
	}
	for (i = 0; i < pe.nregions; i++) {
		const struct kd_pef_region *r = &pe.region[i];

		check_read(&pe, data, size, r->rva, 64);
		check_read(&pe, data, size, r->rva + r->size - 1, 64);
		check_read(&pe, data, size, r->rva + r->size, 64);
		if (r->raw_len)
			check_read(&pe, data, size, r->rva + r->raw_len - 8,
				   0x2000);
	}
	check_read(&pe, data, size, pe.size_of_image, 16);
	check_read(&pe, data, size, ~(uint64_t)0 - 4, 16);
	check_read(&pe, data, size, pe.entry, 32);
	return 0;
}
