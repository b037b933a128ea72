/* SPDX-License-Identifier: MIT */
/*
 * Text from peers and secrets in connection strings, made safe to show:
 * kd_text_escape() turns the bytes a target (DbgPrint) or a remote peer
 * sent into text a terminal, a log or a client cannot be steered by;
 * kd_text_redact() hides `password=` values and KDNET keys in a
 * connection string before it is printed or logged.  docs/security.md says what is escaped and why.
 */
#ifndef KD_TEXTSAFE_H
#define KD_TEXTSAFE_H

#include <kd/common.h>

KD_BEGIN_DECLS

/* Worst-case growth of kd_text_escape(): one byte becomes "\xNN". */
#define KD_TEXT_ESCAPE_MAX 4

/**
 * Escape @p len bytes of @p src into @p dst (always NUL-terminated when
 * @p cap > 0).  Kept as they are: printable ASCII, tab, newline, a CR
 * directly before a newline, and well-formed UTF-8 from U+00A0 up.
 * Written as `\xNN` (lower-case hex, one per byte): ESC and every other
 * C0 control, a lone CR, DEL, U+0080..U+009F (the C1 controls, also when
 * UTF-8 encoded), and every byte that is not part of well-formed UTF-8.
 * Stops before an input byte (or UTF-8 sequence) whose output would not
 * fit; @p used (may be NULL) gets the count of input bytes consumed, so a
 * caller can escape a long text in pieces.
 * @return bytes written to @p dst, not counting the NUL.
 */
KD_API size_t kd_text_escape(char *dst, size_t cap, const void *src, size_t len,
			     size_t *used);

/** True when kd_text_escape() would change nothing in @p src. */
KD_API bool kd_text_is_safe(const void *src, size_t len);

/**
 * Copy connection string @p spec to @p dst with the value of every
 * `password=` option, and of every `key=` option of a `net:` part (the
 * KDNET key), replaced by `*` (any case, at any nesting depth, `@{...}`
 * values included; `key=FILE` of ssl: is a path and stays).  Truncates
 * to @p cap; never leaves part of a secret.
 * @return @p dst.
 */
KD_API char *kd_text_redact(char *dst, size_t cap, const char *spec);

KD_END_DECLS

#endif /* KD_TEXTSAFE_H */
