/* SPDX-License-Identifier: MIT */
/*
 * Inside kd::symstore: the parsed path, the miss set, and the helpers that
 * cross files (layout, verification, CAB, file.ptr, HTTP).
 */
#ifndef KD_SYMSTORE_INT_H
#define KD_SYMSTORE_INT_H

#include <stdio.h>

#include <kd/symstore.h>

/* The Microsoft public store, what an empty srv* store token means. */
#define KD_SYMSTORE_MSDL "https://msdl.microsoft.com/download/symbols"

/* Largest file the client accepts or expands (a kernel PDB is ~30 MB). */
#define KD_SYMSTORE_FILE_MAX (1ull << 30)

/* Largest file.ptr body read. */
#define KD_SYMSTORE_FILEPTR_MAX 4096

struct sympath_elem {
	enum kd_sympath_kind kind;
	char *dir;
	char *store;
	bool http;
	size_t ncaches;
	char *caches[KD_SYMPATH_TIERS_MAX];
};

struct kd_sympath {
	struct sympath_elem *v;
	size_t n, cap;
};

struct kd_symstore_misses {
	char **v; /* "url|name/KEY" strings; also "tier|url" probes */
	size_t n, cap;
};

/* Formatting a one-line reason into a caller's buffer. */
void kd_symstore__why(char *why, size_t cap, const char *fmt, ...)
	KD_PRINTF(3, 4);

/* Is @p s a remembered entry / remember it (no-op when @p m is NULL). */
bool kd_symstore__miss_has(const struct kd_symstore_misses *m, const char *s);
void kd_symstore__miss_add(struct kd_symstore_misses *m, const char *s);

/*
 * Check the file at @p path against @p key: KD_OK; KD_EINVAL mismatch;
 * KD_EPROTO not a PDB/image at all; KD_ENOTFOUND no such file.  @p why
 * gets one line on failure.
 */
int kd_symstore__verify(const char *path, const struct kd_symstore_key *key,
			char *why, size_t whycap);

/*
 * Check a PE image's first @p len bytes against @p key's TimeDateStamp and
 * SizeOfImage (same codes as kd_symstore__verify).
 */
int kd_symstore__verify_image_buf(const uint8_t *buf, size_t len,
				  const struct kd_symstore_key *key, char *why,
				  size_t whycap);

/*
 * Parse a file.ptr body: "PATH:<where>", a bare "<where>", or
 * "MSG:<text>".  KD_OK with the location in @p out; KD_ENOTFOUND with the
 * message in @p out for MSG:; KD_EPROTO for anything else.
 */
int kd_symstore__fileptr_parse(const char *body, size_t len, char *out,
			       size_t cap);

/*
 * Expand the one file of CAB @p cab into @p out (created), refusing more
 * than @p cap bytes.  KD_EPROTO for a damaged or unexpected cabinet,
 * KD_EOVERFLOW past @p cap.
 */
int kd_symstore__cab_extract(const char *cab, const char *out, uint64_t cap,
			     char *why, size_t whycap);

/* The same over a CAB in memory, output discarded (the fuzz target). */
int kd_symstore__cab_check_mem(const uint8_t *buf, size_t len, uint64_t cap,
			       char *why, size_t whycap);

/* The compressed name: the last character replaced by '_'. */
int kd_symstore__cab_name(const char *name, char *out, size_t cap);

/*
 * One HTTP GET of @p url into the file descriptor @p fd (empty at the
 * start), at most @p max bytes.  KD_OK on 200; KD_ENOTFOUND on 404/410;
 * otherwise the codes of kd_symstore_find with a line in @p why.
 */
int kd_symstore__http_get(const char *url, int fd, uint64_t max,
			  const struct kd_symstore_opts *opts, char *why,
			  size_t whycap);

/* Log one line through opts->log when there is one. */
void kd_symstore__log(const struct kd_symstore_opts *opts, const char *fmt, ...)
	KD_PRINTF(2, 3);

#endif /* KD_SYMSTORE_INT_H */
