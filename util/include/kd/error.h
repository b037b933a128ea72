/* SPDX-License-Identifier: MIT */
/*
 * Hosted error detail: a thread-local {code, class, message} set once where a
 * failure is detected and read by whoever handles it.
 */
#ifndef KD_ERROR_H
#define KD_ERROR_H

#include <kd/common.h>

KD_BEGIN_DECLS

enum kd_error_class {
	KD_ERRCLASS_NONE = 0,
	KD_ERRCLASS_OS,
	KD_ERRCLASS_PROTO,
	KD_ERRCLASS_TRANSPORT,
	KD_ERRCLASS_CRYPTO,
	KD_ERRCLASS_CAPTURE,
	KD_ERRCLASS_ENGINE,
	KD_ERRCLASS_SERVER,
	KD_ERRCLASS_DUMP,
};

struct kd_error {
	int code; /* KD_E* */
	enum kd_error_class klass;
	char message[256]; /* one line, no trailing newline */
};

/**
 * Record a failure.  Returns @p code so callers can write
 * `return kd_error_set(KD_EPROTO, KD_ERRCLASS_PROTO, "...")`.
 */
KD_API int kd_error_set(int code, enum kd_error_class klass, const char *fmt,
			...) KD_PRINTF(3, 4);

/** As kd_error_set(), appending ": strerror(oserr)". */
KD_API int kd_error_set_os(int code, int oserr, const char *fmt, ...)
	KD_PRINTF(3, 4);

/**
 * The last error recorded on this thread.  Borrowed; valid until the next
 * kd_error_* call on this thread.  Never NULL: with no error, code is KD_OK
 * and the message is empty.
 */
KD_API const struct kd_error *kd_error_last(void);

/** The last message, or kd_strerror(code) when none was recorded. */
KD_API const char *kd_error_message(int code);

KD_API void kd_error_clear(void);

KD_END_DECLS

#endif /* KD_ERROR_H */
