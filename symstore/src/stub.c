/* SPDX-License-Identifier: MIT */
/*
 * Placeholders so users of kd/symstore.h link while the implementation
 * lands; every call fails with KD_ENOTSUP.
 */
#include <kd/error.h>
#include <kd/symstore.h>

int kd_sympath_parse(struct kd_sympath **out, const char *text)
{
	(void)text;
	*out = NULL;
	return kd_error_set(KD_ENOTSUP, KD_ERRCLASS_ENGINE,
			    "symbol path: not implemented yet");
}

int kd_sympath_append(struct kd_sympath *path, const char *text)
{
	(void)path;
	(void)text;
	return KD_ENOTSUP;
}

void kd_sympath_free(struct kd_sympath *path)
{
	(void)path;
}

size_t kd_sympath_format(const struct kd_sympath *path, char *buf, size_t cap)
{
	(void)path;
	if (cap > 0)
		buf[0] = '\0';
	return 0;
}

size_t kd_sympath_count(const struct kd_sympath *path)
{
	(void)path;
	return 0;
}

int kd_sympath_elem(const struct kd_sympath *path, size_t index,
		    struct kd_sympath_elem *out)
{
	(void)path;
	(void)index;
	(void)out;
	return KD_EINVAL;
}

int kd_symstore_misses_new(struct kd_symstore_misses **out)
{
	*out = NULL;
	return KD_ENOTSUP;
}

void kd_symstore_misses_clear(struct kd_symstore_misses *m)
{
	(void)m;
}

void kd_symstore_misses_free(struct kd_symstore_misses *m)
{
	(void)m;
}

int kd_symstore_key_dir(const struct kd_symstore_key *key, char *buf,
			size_t cap)
{
	(void)key;
	(void)buf;
	(void)cap;
	return KD_ENOTSUP;
}

int kd_symstore_find(const struct kd_sympath *path,
		     const struct kd_symstore_opts *opts,
		     const struct kd_symstore_key *key, char *path_out,
		     size_t cap, char *why, size_t whycap)
{
	(void)path;
	(void)opts;
	(void)key;
	(void)path_out;
	(void)cap;
	(void)why;
	(void)whycap;
	return KD_ENOTSUP;
}

int kd_symstore_default_cache(char *buf, size_t cap)
{
	(void)buf;
	(void)cap;
	return KD_ENOTSUP;
}
