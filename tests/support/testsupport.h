/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the tests: locating sample data, reading whole files,
 * and the skip convention (exit 77 = ctest SKIP_RETURN_CODE).
 */
#ifndef KD_TESTSUPPORT_H
#define KD_TESTSUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KD_TEST_SKIP 77

/*
 * Path of a sample under ../shared/data, written into @p buf.  Returns 0 when
 * the file exists, -1 when it is absent (the caller then skips).
 */
int kdt_shared_path(char *buf, size_t cap, const char *rel);

/*
 * Skip the whole test program (exit 77) with a reason on stderr unless the
 * sample @p rel exists; on success the path is written into @p buf.
 */
void kdt_require_shared(char *buf, size_t cap, const char *rel);

/* Read a whole file into a heap buffer (free with free()).  NULL on error. */
uint8_t *kdt_read_file(const char *path, size_t *len_out);

/* Path of a built tool ("tools/kdcap/kdcap") under the build directory. */
int kdt_build_path(char *buf, size_t cap, const char *rel);

/* The output of shell command @p fmt, malloc'd; NULL when it failed
 * (exit status not 0) or memory ran out. */
char *kdt_run_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Run shell command @p fmt: 0 on exit status 0, else -1. */
int kdt_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Whether @p tool is on PATH. */
bool kdt_have(const char *tool);
/* The value after @p label on its line ("  Age: 1" -> "1") into @p out;
 * false when @p label is absent or its value empty. */
bool kdt_field(const char *text, const char *label, char *out, size_t cap);

#endif /* KD_TESTSUPPORT_H */
