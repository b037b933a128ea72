/* SPDX-License-Identifier: MIT */
/*
 * Store keys, the default cache folder, the miss set (negative cache) and
 * the small helpers every file uses.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <kd/alloc.h>

#include "symstore_int.h"

void kd_symstore__why(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (!why || cap == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
}

void kd_symstore__log(const struct kd_symstore_opts *opts, const char *fmt, ...)
{
	char line[KD_SYMSTORE_PATH_MAX + 128];
	va_list ap;

	if (!opts || !opts->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	opts->log(opts->log_ctx, line);
}

int kd_symstore_key_dir(const struct kd_symstore_key *key, char *buf,
			size_t cap)
{
	const uint8_t *g = key->guid;
	int n;

	if (key->image)
		n = snprintf(buf, cap, "%08X%x", (unsigned)key->timestamp,
			     (unsigned)key->size_of_image);
	else
		/* WinDbg order: Data1..3 are little-endian in the record. */
		n = snprintf(buf, cap,
			     "%08X%04X%04X%02X%02X%02X%02X%02X%02X%02X%02X%x",
			     (unsigned)kd_get_le32(g), kd_get_le16(g + 4),
			     kd_get_le16(g + 6), g[8], g[9], g[10], g[11],
			     g[12], g[13], g[14], g[15], (unsigned)key->age);
	if (n < 0 || (size_t)n >= cap)
		return KD_EBUFS;
	return KD_OK;
}

int kd_symstore_default_cache(char *buf, size_t cap)
{
	const char *v;
	int n;

	if ((v = getenv("OPENKD_SYMCACHE")) && *v)
		n = snprintf(buf, cap, "%s", v);
	else if ((v = getenv("XDG_CACHE_HOME")) && *v)
		n = snprintf(buf, cap, "%s/openkd/sym", v);
	else if ((v = getenv("HOME")) && *v)
		n = snprintf(buf, cap, "%s/.cache/openkd/sym", v);
	else
		return KD_ENOTFOUND;
	if (n < 0 || (size_t)n >= cap)
		return KD_EBUFS;
	return KD_OK;
}

int kd_symstore_misses_new(struct kd_symstore_misses **out)
{
	*out = kd_calloc(1, sizeof(**out));
	return *out ? KD_OK : KD_ENOMEM;
}

void kd_symstore_misses_clear(struct kd_symstore_misses *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->n; i++)
		kd_free(m->v[i]);
	m->n = 0;
}

void kd_symstore_misses_free(struct kd_symstore_misses *m)
{
	if (!m)
		return;
	kd_symstore_misses_clear(m);
	kd_free(m->v);
	kd_free(m);
}

bool kd_symstore__miss_has(const struct kd_symstore_misses *m, const char *s)
{
	size_t i;

	for (i = 0; m && i < m->n; i++)
		if (strcmp(m->v[i], s) == 0)
			return true;
	return false;
}

/*
 * Remember @p s.  A failed allocation forgets it: the miss set only saves
 * requests, so losing an entry costs one more request, never a wrong
 * answer.  The set is bounded so a long session cannot grow it forever.
 */
void kd_symstore__miss_add(struct kd_symstore_misses *m, const char *s)
{
	char *c;

	if (!m || kd_symstore__miss_has(m, s))
		return;
	if (m->n == 4096)
		kd_symstore_misses_clear(m);
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		char **v = kd_realloc(m->v, cap * sizeof(*v));

		if (!v)
			return;
		m->v = v;
		m->cap = cap;
	}
	c = kd_strdup(s);
	if (c)
		m->v[m->n++] = c;
}
