/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the RSDS reader of image files found by image key
 * (engine/src/sym/imagefile.c): any file through kd_sym__image_file_cv.
 * Checks what the PDB loader relies on: an accepted record has a
 * NUL-terminated path and a non-empty base name without separators; a
 * refused one leaves have_cv false and says why.
 *
 * Seeds (tests/fuzz/corpus/image_cv, tests/fuzz/image_cv_seeds.py):
 * kdsim's hal.dll and copies broken in one way each.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sym/sym_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kd_modsyms ms;
	char why[128];
	int rc;

	memset(&ms, 0, sizeof(ms));
	why[0] = '\0';
	rc = kd_sym__image_file_cv(data, size, &ms, why, sizeof(why));
	if (rc == KD_OK) {
		if (!ms.have_cv ||
		    !memchr(ms.cv_path, '\0', sizeof(ms.cv_path)) ||
		    !memchr(ms.pdb_name, '\0', sizeof(ms.pdb_name)) ||
		    ms.pdb_name[0] == '\0' || strchr(ms.pdb_name, '\\') ||
		    strchr(ms.pdb_name, '/'))
			abort();
	} else if (ms.have_cv || why[0] == '\0' ||
		   (rc != KD_ENOTFOUND && rc != KD_EPROTO)) {
		abort();
	}
	return 0;
}
