/* SPDX-License-Identifier: MIT */
/*
 * Fuzz kd::symstore's parsers with hostile text and files.  The first byte
 * picks what the rest is:
 *   0  a symbol path: parsed, formatted, the canonical text parsed again
 *      and formatted to the same text (abort otherwise), every element
 *      read back;
 *   1  a file.ptr body;
 *   2  a CAB, expanded in memory (output discarded, 1 MiB cap);
 *   3  the first bytes of a PE image checked against a key (the next 8
 *      input bytes are its TimeDateStamp and SizeOfImage);
 *   4  a local symbol store holding the rest as one file, then an offline
 *      kd_symstore_find over "srv*CACHE*STORE": the next byte says which
 *      file (0 name.pdb, 1 name.pd_, 2 file.ptr, 3 name.pdb in a two-tier
 *      store with index2.txt), the rest is its content.  Everything runs
 *      through the real search, CAB expansion, file.ptr and verification.
 *
 * Seeds (tests/fuzz/corpus/symstore): symbol paths, file.ptr bodies, a
 * gcab-made MSZIP CAB, a minimal PE header, and store files.
 */
#define _GNU_SOURCE
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kd/symstore.h>

#include "symstore_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char g_dir[64];

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* rm -rf without a shell: a fuzz run makes thousands of stores. */
static void rm_tree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void mkdirs(char *path)
{
	char *c;

	for (c = path + 1; *c; c++) {
		if (*c != '/')
			continue;
		*c = '\0';
		mkdir(path, 0755);
		*c = '/';
	}
	mkdir(path, 0755);
}

static void cleanup(void)
{
	if (g_dir[0])
		rm_tree(g_dir);
}

static void fuzz_path(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), out[KD_SYMPATH_MAX * 2];
	char again[KD_SYMPATH_MAX * 2];
	struct kd_sympath *p = NULL, *q = NULL;
	struct kd_sympath_elem e;
	size_t i;

	if (!text)
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	if (kd_sympath_parse(&p, text) == KD_OK) {
		size_t n = kd_sympath_format(p, out, sizeof(out));

		for (i = 0; i < kd_sympath_count(p); i++)
			if (kd_sympath_elem(p, i, &e) != KD_OK)
				abort();
		/* Canonical text is stable: it parses to the same text. */
		if (n < sizeof(out) && n <= KD_SYMPATH_MAX) {
			if (kd_sympath_parse(&q, out) != KD_OK)
				abort();
			kd_sympath_format(q, again, sizeof(again));
			if (strcmp(out, again) != 0)
				abort();
			kd_sympath_free(q);
		}
		kd_sympath_append(p, text);
		kd_sympath_free(p);
	}
	free(text);
}

static void put(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		return;
	if (size)
		fwrite(data, 1, size, f);
	fclose(f);
}

static void fuzz_store(const uint8_t *data, size_t size)
{
	static const char *files[] = { "f.pdb", "f.pd_", "file.ptr", "f.pdb" };
	struct kd_symstore_opts o = { .offline = true };
	struct kd_symstore_key k = { .name = "f.pdb", .age = 1 };
	char store[128], dir[256], p[320], sp[320], out[KD_SYMSTORE_PATH_MAX];
	char why[256], keydir[40];
	unsigned which;

	if (size < 1)
		return;
	which = data[0] & 3;
	if (!g_dir[0]) {
		snprintf(g_dir, sizeof(g_dir), "/tmp/kd_fuzz_symstore_XXXXXX");
		if (!mkdtemp(g_dir)) {
			g_dir[0] = 0;
			return;
		}
		atexit(cleanup);
	}
	snprintf(p, sizeof(p), "%s/s", g_dir);
	rm_tree(p);
	snprintf(p, sizeof(p), "%s/c", g_dir);
	rm_tree(p);
	snprintf(store, sizeof(store), "%s/s", g_dir);
	kd_symstore_key_dir(&k, keydir, sizeof(keydir));
	if (which == 3)
		snprintf(dir, sizeof(dir), "%s/f./f.pdb/%s", store, keydir);
	else
		snprintf(dir, sizeof(dir), "%s/f.pdb/%s", store, keydir);
	mkdirs(dir);
	if (which == 3) {
		snprintf(p, sizeof(p), "%s/index2.txt", store);
		put(p, NULL, 0);
	}
	snprintf(p, sizeof(p), "%s/%s", dir, files[which]);
	put(p, data + 1, size - 1);
	snprintf(sp, sizeof(sp), "srv*%s/c*%s", g_dir, store);
	{
		struct kd_sympath *path;

		if (kd_sympath_parse(&path, sp) != KD_OK)
			return;
		kd_symstore_find(path, &o, &k, out, sizeof(out), why,
				 sizeof(why));
		kd_sympath_free(path);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[KD_SYMSTORE_PATH_MAX], why[256];
	struct kd_symstore_key k = { .name = "x.sys", .image = true };

	if (size < 1)
		return 0;
	switch (data[0] % 5) {
	case 0:
		fuzz_path(data + 1, size - 1);
		break;
	case 1:
		kd_symstore__fileptr_parse((const char *)data + 1, size - 1,
					   out, sizeof(out));
		break;
	case 2:
		kd_symstore__cab_check_mem(data + 1, size - 1, 1u << 20, why,
					   sizeof(why));
		break;
	case 3:
		if (size < 9)
			break;
		k.timestamp = kd_get_le32(data + 1);
		k.size_of_image = kd_get_le32(data + 5);
		kd_symstore__verify_image_buf(data + 9, size - 9, &k, why,
					      sizeof(why));
		break;
	case 4:
		fuzz_store(data + 1, size - 1);
		break;
	}
	return 0;
}
