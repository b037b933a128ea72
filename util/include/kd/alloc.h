/* SPDX-License-Identifier: MIT */
/*
 * The one choke point for heap use in hosted components, so tests can fail
 * any allocation on purpose (SQLite's faultsim idea).
 */
#ifndef KD_ALLOC_H
#define KD_ALLOC_H

#include <kd/common.h>

KD_BEGIN_DECLS

KD_API void *kd_malloc(size_t len);
KD_API void *kd_calloc(size_t n, size_t len);
KD_API void *kd_realloc(void *p, size_t len);
KD_API char *kd_strdup(const char *s);
KD_API void kd_free(void *p);

/** Wipe @p len bytes of secret material, then free it.  NULL-safe. */
KD_API void kd_free_secret(void *p, size_t len);

/** Wipe memory in a way the compiler may not remove. */
KD_API void kd_wipe(void *p, size_t len);

/**
 * Test hook: fail the allocation after @p n more successful ones (n < 0
 * turns failing off).  With @p persistent, every later one fails too.
 */
KD_API void kd_alloc_fail_after(long n, bool persistent);

/**
 * Test hook: true while a one-shot failure armed by kd_alloc_fail_after()
 * has not happened yet, i.e. the code under test made fewer allocations
 * than the count: an OOM loop has then reached every allocation.
 */
KD_API bool kd_alloc_fail_pending(void);

/** Overflow-checked size arithmetic: false on overflow. */
static inline bool kd_size_add(size_t *out, size_t a, size_t b)
{
	if (a > (size_t)-1 - b)
		return false;
	*out = a + b;
	return true;
}

static inline bool kd_size_mul(size_t *out, size_t a, size_t b)
{
	if (a != 0 && b > (size_t)-1 / a)
		return false;
	*out = a * b;
	return true;
}

KD_END_DECLS

#endif /* KD_ALLOC_H */
