/* SPDX-License-Identifier: MIT */
/*
 * Thread-local error detail for hosted components (libgit2's giterr idea).
 */
#include <kd/error.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local struct kd_error last_error;

static int set_v(int code, enum kd_error_class klass, const char *fmt,
		 va_list ap) KD_PRINTF(3, 0);

static int set_v(int code, enum kd_error_class klass, const char *fmt,
		 va_list ap)
{
	last_error.code = code;
	last_error.klass = klass;
	vsnprintf(last_error.message, sizeof(last_error.message), fmt, ap);
	return code;
}

int kd_error_set(int code, enum kd_error_class klass, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_v(code, klass, fmt, ap);
	va_end(ap);
	return code;
}

int kd_error_set_os(int code, int oserr, const char *fmt, ...)
{
	va_list ap;
	size_t used;

	va_start(ap, fmt);
	set_v(code, KD_ERRCLASS_OS, fmt, ap);
	va_end(ap);
	used = strlen(last_error.message);
	snprintf(last_error.message + used, sizeof(last_error.message) - used,
		 ": %s", strerror(oserr));
	return code;
}

const struct kd_error *kd_error_last(void)
{
	return &last_error;
}

const char *kd_error_message(int code)
{
	if (last_error.code == code && last_error.message[0] != '\0')
		return last_error.message;
	return kd_strerror(code);
}

void kd_error_clear(void)
{
	memset(&last_error, 0, sizeof(last_error));
}
