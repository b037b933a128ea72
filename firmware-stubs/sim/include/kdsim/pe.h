/* SPDX-License-Identifier: MIT */
/*
 * The PE32+ reader kdsim loads its kernel and driver images with: header
 * checks, section layout into a caller buffer, export lookup.  Pure (no
 * I/O, no heap); every offset read from the image is bounded first.
 */
#ifndef KDSIM_PE_H
#define KDSIM_PE_H

#include <kd/common.h>

KD_BEGIN_DECLS

/* Largest SizeOfImage kdsim accepts. */
#define KDSIM_PE_MAX_IMAGE (32u << 20)

struct kdsim_pe {
	uint64_t image_base; /* OptionalHeader.ImageBase */
	uint32_t size_of_image;
	uint32_t size_of_headers;
	uint32_t checksum;
	uint32_t timestamp;	/* FileHeader.TimeDateStamp */
	uint32_t entry_rva;	/* AddressOfEntryPoint */
	uint32_t sections;	/* NumberOfSections */
	uint32_t section_table; /* file offset of the section table */
};

/**
 * Check that @p file is an AMD64 PE32+ image whose headers and sections
 * lie inside the file and inside SizeOfImage.
 * @return KD_OK; KD_EPROTO with a reason in *why for anything else.
 */
KD_API int kdsim_pe_parse(struct kdsim_pe *out, const uint8_t *file, size_t len,
			  const char **why);

/**
 * Lay the image out in @p image (SizeOfImage bytes, zero-filled first):
 * headers, then each section's raw data at its RVA.
 * @return KD_OK; KD_EBUFS when @p cap < SizeOfImage.
 */
KD_API int kdsim_pe_layout(const struct kdsim_pe *pe, const uint8_t *file,
			   size_t len, uint8_t *image, size_t cap);

/**
 * RVA of the export @p name in a laid-out image of @p size bytes, or 0
 * when absent or when the export directory is malformed.
 */
KD_API uint32_t kdsim_pe_export(const uint8_t *image, size_t size,
				const char *name);

KD_END_DECLS

#endif /* KDSIM_PE_H */
