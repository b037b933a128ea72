/* SPDX-License-Identifier: MIT */
/*
 * Test helpers; see testsupport.h.
 */
#include "testsupport.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int kdt_shared_path(char *buf, size_t cap, const char *rel)
{
	const char *dir = getenv("KD_SHARED_DATA");
	struct stat st;

	if (!dir)
		dir = KD_SHARED_DATA_DIR;
	snprintf(buf, cap, "%s/%s", dir, rel);
	return stat(buf, &st) == 0 ? 0 : -1;
}

void kdt_require_shared(char *buf, size_t cap, const char *rel)
{
	if (kdt_shared_path(buf, cap, rel) != 0) {
		fprintf(stderr, "SKIP: sample %s is absent\n", buf);
		exit(KD_TEST_SKIP);
	}
}

uint8_t *kdt_read_file(const char *path, size_t *len_out)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0)
		goto out;
	buf = malloc((size_t)len + 1);
	if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
		free(buf);
		buf = NULL;
		goto out;
	}
	*len_out = (size_t)len;
out:
	fclose(f);
	return buf;
}

int kdt_build_path(char *buf, size_t cap, const char *rel)
{
	const char *dir = getenv("KD_BUILD_DIR");

	if (!dir)
		dir = KD_BUILD_DIR;
	snprintf(buf, cap, "%s/%s", dir, rel);
	return 0;
}
