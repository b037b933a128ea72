/* SPDX-License-Identifier: MIT */
/*
 * The session's one output path: every line the engine prints goes through
 * kd_out() to the sink and, when a log is open, to the log file.  Also the
 * WinDbg-shaped error messages the commands share.
 */
#include <stdarg.h>
#include <string.h>

#include "core/engine_int.h"

void kd_out_raw(struct kd_session *s, const char *text, size_t len)
{
	if (len == 0)
		return;
	if (s->out.out_fn)
		s->out.out_fn(s->out.out_ctx, text, len);
	if (s->out.log) {
		fwrite(text, 1, len, s->out.log);
		fflush(s->out.log);
	}
	s->out.at_line_start = text[len - 1] == '\n';
}

static void vout(struct kd_session *s, const char *fmt, va_list ap)
	KD_PRINTF(2, 0);

static void vout(struct kd_session *s, const char *fmt, va_list ap)
{
	char stackbuf[1024];
	char *buf = stackbuf;
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(stackbuf, sizeof(stackbuf), fmt, ap);
	if (n < 0) {
		va_end(ap2);
		return;
	}
	if ((size_t)n >= sizeof(stackbuf)) {
		buf = kd_malloc((size_t)n + 1);
		if (!buf) {
			va_end(ap2);
			kd_out_raw(s, stackbuf, sizeof(stackbuf) - 1);
			return;
		}
		vsnprintf(buf, (size_t)n + 1, fmt, ap2);
	}
	va_end(ap2);
	kd_out_raw(s, buf, (size_t)n);
	if (buf != stackbuf)
		kd_free(buf);
}

void kd_out(struct kd_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vout(s, fmt, ap);
	va_end(ap);
}

void kd_session_print(struct kd_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vout(s, fmt, ap);
	va_end(ap);
}

char *kd_fmt_addr(char buf[18], uint64_t addr)
{
	snprintf(buf, 18, "%08x`%08x", (unsigned)(addr >> 32),
		 (unsigned)(addr & 0xffffffffu));
	return buf;
}

int kd_fail(struct kd_session *s, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vout(s, fmt, ap);
	va_end(ap);
	kd_out_raw(s, "\n", 1);
	return code < 0 ? code : KD_EINVAL;
}

/* "<indent>^ <what> in '<line>'" with the caret under @p pos. */
static int caret_error(struct kd_session *s, const char *what, const char *line,
		       size_t pos)
{
	size_t indent = strlen(kd_session_prompt(s)) + pos;
	size_t len = strlen(line);

	/* Strip the line's trailing blanks the way WinDbg echoes it. */
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (indent > 200)
		indent = 200;
	kd_out(s, "%*s^ %s in '%.*s'\n", (int)indent, "", what, (int)len, line);
	return KD_EINVAL;
}

int kd_syntax_error(struct kd_session *s, const char *line, size_t pos)
{
	return caret_error(s, "Syntax error", line, pos);
}

int kd_range_error(struct kd_session *s, const char *line, size_t pos)
{
	return caret_error(s, "Range error", line, pos);
}

int kd_memory_error(struct kd_session *s, const char *text)
{
	kd_out(s, "Memory access error at '%s'\n", text);
	return KD_EFAULT;
}

int kd_resolve_error(struct kd_session *s, const char *text)
{
	kd_out(s, "Couldn't resolve error at '%s'\n", text);
	return KD_ENOTFOUND;
}
