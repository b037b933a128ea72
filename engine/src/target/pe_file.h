/* SPDX-License-Identifier: MIT */
/*
 * A PE32 / PE32+ image file laid out as the Windows loader maps it, for
 * the image-file target (kd -z file.dll): pure functions over the file's
 * bytes, no session and no I/O, so tests/fuzz/fuzz_pe_file.c drives them
 * directly.
 */
#ifndef KD_TARGET_PE_FILE_H
#define KD_TARGET_PE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The Windows loader refuses more sections than this. */
#define KD_PEF_MAX_SECTIONS 96u
/* Largest SizeOfImage accepted (the loader's limit is below 4 GiB). */
#define KD_PEF_MAX_IMAGE 0x80000000u

/* One mapped range of the image, as RVAs. */
struct kd_pef_region {
	uint32_t rva;	  /* start */
	uint32_t size;	  /* mapped bytes (section alignment) */
	uint32_t raw_off; /* file offset of the bytes that come from it */
	uint32_t raw_len; /* bytes from the file; the rest reads as zero */
	char name[9];	  /* section name, printable; "headers" */
};

/* What kd_target__pe_parse() found; regions sorted, never overlapping. */
struct kd_pef {
	uint16_t machine; /* IMAGE_FILE_MACHINE_*: 0x8664, 0x14c, 0xaa64 */
	bool pe32plus;	  /* optional header magic 0x20b */
	uint64_t image_base;
	uint32_t size_of_image;
	uint32_t size_of_headers;
	uint32_t section_alignment;
	uint32_t timestamp; /* file header TimeDateStamp */
	uint32_t checksum;  /* optional header CheckSum */
	uint32_t entry;	    /* AddressOfEntryPoint */
	unsigned int nsections;
	unsigned int nregions; /* the headers, then each non-empty section */
	struct kd_pef_region region[1 + KD_PEF_MAX_SECTIONS];
};

/*
 * Lay out the image file @p file (@p len bytes).  Every field, count and
 * RVA is bounded: a section past SizeOfImage, sections out of order or
 * overlapping, raw data past the end of the file, an unknown machine...
 * give KD_EPROTO with one line in @p err (@p cap bytes).  KD_OK with *pe
 * filled otherwise.
 */
int kd_target__pe_parse(const uint8_t *file, size_t len, struct kd_pef *pe,
			char *err, size_t cap);

/*
 * Copy the image bytes at @p rva into @p buf as mapped: file bytes of
 * each region, zeros past its raw data, across adjacent regions.  *done
 * is how many; it stops at the first RVA no region maps.  KD_EFAULT when
 * @p rva itself is not mapped (nothing copied).
 */
int kd_target__pe_read(const struct kd_pef *pe, const uint8_t *file, size_t len,
		       uint64_t rva, void *buf, size_t want, size_t *done);

#endif /* KD_TARGET_PE_FILE_H */
