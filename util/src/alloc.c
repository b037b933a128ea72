/* SPDX-License-Identifier: MIT */
/*
 * Heap wrappers.  The only file allowed to call malloc and friends; the
 * fail-after counter lets OOM tests reach every allocation.
 */
#include <kd/alloc.h>
#include <kd/error.h>

#include <stdlib.h>
#include <string.h>

static long fail_countdown = -1;
static bool fail_persistent;

static bool should_fail(void)
{
	if (fail_countdown < 0)
		return false;
	if (fail_countdown == 0) {
		if (!fail_persistent)
			fail_countdown = -1;
		kd_error_set(KD_ENOMEM, KD_ERRCLASS_OS, "out of memory");
		return true;
	}
	fail_countdown--;
	return false;
}

void kd_alloc_fail_after(long n, bool persistent)
{
	fail_countdown = n;
	fail_persistent = persistent;
}

bool kd_alloc_fail_pending(void)
{
	return fail_countdown >= 0 && !fail_persistent;
}

void *kd_malloc(size_t len)
{
	if (should_fail())
		return NULL;
	return malloc(len ? len : 1);
}

void *kd_calloc(size_t n, size_t len)
{
	if (should_fail())
		return NULL;
	return calloc(n ? n : 1, len ? len : 1);
}

void *kd_realloc(void *p, size_t len)
{
	if (should_fail())
		return NULL;
	return realloc(p, len ? len : 1);
}

char *kd_strdup(const char *s)
{
	size_t len = strlen(s) + 1;
	char *d = kd_malloc(len);

	if (d)
		memcpy(d, s, len);
	return d;
}

void kd_free(void *p)
{
	free(p);
}

void kd_wipe(void *p, size_t len)
{
	volatile unsigned char *v = p;

	while (len--)
		*v++ = 0;
}

void kd_free_secret(void *p, size_t len)
{
	if (!p)
		return;
	kd_wipe(p, len);
	free(p);
}
