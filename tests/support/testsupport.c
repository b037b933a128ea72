/* SPDX-License-Identifier: MIT */
/*
 * Test helpers; see testsupport.h.  popen()/pclose() need POSIX 2008.
 */
#define _POSIX_C_SOURCE 200809L
#include "testsupport.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

char *kdt_run_out(const char *fmt, ...)
{
	char cmd[2048];
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);
	va_list ap;
	FILE *f;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	f = popen(cmd, "r");
	if (!f || !buf) {
		free(buf);
		if (f)
			pclose(f);
		return NULL;
	}
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				pclose(f);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
	}
	buf[len] = '\0';
	if (pclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

int kdt_sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd) == 0 ? 0 : -1;
}

bool kdt_have(const char *tool)
{
	return kdt_sh("command -v %s >/dev/null 2>&1", tool) == 0;
}

bool kdt_field(const char *text, const char *label, char *out, size_t cap)
{
	const char *p = strstr(text, label);
	size_t n = 0;

	if (!p)
		return false;
	p += strlen(label);
	while (*p == ' ')
		p++;
	while (p[n] && p[n] != '\n' && p[n] != '\r')
		n++;
	snprintf(out, cap, "%.*s", (int)n, p);
	return n > 0;
}
