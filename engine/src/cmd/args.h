/* SPDX-License-Identifier: MIT */
/*
 * The argument cursor every command handler reads its arguments with.
 *
 * A cursor walks the argument text of one command (struct kd_cmdctx's
 * args) and remembers the whole line, so that an error says where it is
 * the way WinDbg does: a caret under the offending character of the line
 * as typed.  The take_* calls move the cursor past what they took and
 * leave it where they stopped on failure (the caret goes there), so a
 * handler is a sequence of takes ended by kd_args_end().
 *
 * Nothing here skips blanks on its own unless it says so: WinDbg's
 * commands differ in where blanks may go (`bp1`, `dd@rsp`, `lmvm nt`),
 * and the handlers keep those rules.  Every take is bounded by the
 * text's terminating NUL; none reads past it.
 */
#ifndef KD_CMD_ARGS_H
#define KD_CMD_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/engine_int.h"

struct kd_args {
	struct kd_session *s;
	const char *line; /* the whole command, for carets */
	const char *p;	  /* the cursor: a position inside line's text */
	bool glued;	  /* no blank between the command name and args */
};

/* A cursor at the start of @p c's arguments. */
void kd_args_init(struct kd_args *a, struct kd_session *s,
		  const struct kd_cmdctx *c);
/*
 * A cursor at @p at inside @p line (text that is not a command's
 * arguments: an `Input>` answer, a nested part of a line).
 */
void kd_args_init_text(struct kd_args *a, struct kd_session *s,
		       const char *line, const char *at);

/* ---- looking ---- */

/*
 * @p p past its blanks (spaces and tabs).  For text that is not under a
 * cursor: script lines, the commands after a `j`.
 */
const char *kd_skip_blanks(const char *p);

/* Skip blanks (spaces and tabs). */
void kd_args_skip(struct kd_args *a);
/* Skip blanks and any of the characters in @p also (for `,` lists). */
void kd_args_skip_also(struct kd_args *a, const char *also);
/* True at the end of the text (blanks are not skipped). */
bool kd_args_at_end(const struct kd_args *a);
/* True when only blanks are left. */
bool kd_args_blank_rest(const struct kd_args *a);
/* True at the end or on a blank: where a word ends. */
bool kd_args_at_word_end(const struct kd_args *a);
/* The character at the cursor ('\0' at the end). */
char kd_args_peek(const struct kd_args *a);
/* The character @p n places on, '\0' when the text ends before it. */
char kd_args_peek_at(const struct kd_args *a, size_t n);
/* Offset of the cursor in the line (where a caret would go). */
size_t kd_args_offset(const struct kd_args *a);
/* Move on @p n characters, never past the end. */
void kd_args_advance(struct kd_args *a, size_t n);

/* ---- errors ---- */

/* "Syntax error" with the caret at the cursor.  Returns KD_EINVAL. */
int kd_args_error(struct kd_args *a);
/* The same with the caret at @p at (a position in the line). */
int kd_args_error_at(struct kd_args *a, const char *at);
/* The same with the caret after the last character of the line. */
int kd_args_error_eol(struct kd_args *a);
/*
 * Expect the end: blanks are skipped, and anything left is a syntax
 * error at its first character.  Returns KD_OK or KD_EINVAL.
 */
int kd_args_end(struct kd_args *a);

/* ---- taking ---- */

/*
 * A word: the characters up to the next blank or the end (none skipped
 * first).  Returns false, cursor unmoved, when there is none.
 */
bool kd_args_take_word(struct kd_args *a, const char **word, size_t *len);

/*
 * An option: one of the characters of @p leads ("/", "/-") followed by
 * one character, which must be one of @p letters (NULL: any but the
 * end; with KD_ARGS_OPT_ALPHA any letter).  With KD_ARGS_OPT_ALONE a blank or the end must follow it, with
 * KD_ARGS_OPT_BLANK a blank (so `/tmp/x` is a file name, not option t).
 * Returns the option character and moves past it, or 0 with the cursor
 * unmoved when there is no such option here.  Its value, if it takes
 * one, is the next take (an expression, a word, a [group]).
 */
#define KD_ARGS_OPT_ALONE 0x1u
#define KD_ARGS_OPT_BLANK 0x2u
#define KD_ARGS_OPT_ALPHA 0x4u /* the option must be a letter */
int kd_args_take_option(struct kd_args *a, const char *leads,
			const char *letters, unsigned flags);

/*
 * A "quoted" string at the cursor (which must be on the opening quote):
 * *text is its inside, *len its length, and the cursor moves past the
 * closing quote.  With KD_ARGS_Q_ESCAPES a backslash-quote pair inside
 * does not close it (bp's command strings: "r; .echo \"x\"").  A syntax
 * error with the caret on the opening quote when there is none, or no
 * closing one; with KD_ARGS_Q_OPEN a missing closing quote ends the
 * string at the end of the text instead.
 */
#define KD_ARGS_Q_ESCAPES 0x1u
#define KD_ARGS_Q_OPEN 0x2u
int kd_args_take_quoted(struct kd_args *a, unsigned flags, const char **text,
			size_t *len);
/*
 * A heap copy (kd_free) of @p len bytes of quoted text with each
 * backslash-quote pair made a quote and each backslash pair one
 * backslash.  NULL when out of memory.
 */
char *kd_args_unescape(const char *text, size_t len);

/*
 * A group opened by @p open at the cursor (`[uc]` after /p): the cursor
 * moves past its @p close.  Returns 0 when no group opens here, 1 when
 * one was taken, or a syntax error at the opening character when it is
 * not closed.
 */
int kd_args_take_group(struct kd_args *a, char open, char close);

/*
 * The rest of the text, trailing blanks cut off (with KD_ARGS_CRLF
 * carriage returns and line feeds too: text from script files); with
 * KD_ARGS_Q_STRIP one pair of quotes around all of it is removed
 * (.echo "text", a script's file name).  The cursor moves to the end.
 */
#define KD_ARGS_Q_STRIP 0x4u
#define KD_ARGS_CRLF 0x8u
void kd_args_take_rest(struct kd_args *a, unsigned flags, const char **text,
		       size_t *len);

/*
 * A number as strtoul() reads it in @p base (blanks and a sign first
 * included).  Returns false, cursor unmoved, when no digit was read.
 */
bool kd_args_take_number(struct kd_args *a, int base, unsigned long *v);

/*
 * An expression (kd_expr_arg: WinDbg's messages, the caret where the
 * expression went wrong).  Returns KD_OK or its negative code.
 */
int kd_args_take_expr(struct kd_args *a, uint64_t *value);

/*
 * A range (kd_range_arg): `addr`, `addr L count`, `addr L? count`,
 * `addr endaddr`; @p unit is the element size.  *have_addr is false when
 * no address is given (*count left as it was).
 */
int kd_args_take_range(struct kd_args *a, unsigned unit, uint64_t *addr,
		       uint64_t *count, bool *have_addr);

#endif /* KD_CMD_ARGS_H */
