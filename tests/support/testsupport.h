/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the tests: locating sample data, reading whole files,
 * and the skip convention (exit 77 = ctest SKIP_RETURN_CODE).
 */
#ifndef KD_TESTSUPPORT_H
#define KD_TESTSUPPORT_H

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

#endif /* KD_TESTSUPPORT_H */
