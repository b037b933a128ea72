/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the argument cursor (engine/src/cmd/args.c) on a dormant
 * session: every take on good, empty and hostile text, where the cursor
 * stops, and that each syntax error's caret sits under the character the
 * cursor names.  Every text is a heap copy of exactly its size, so a take
 * that reads past the terminating NUL shows under ASan.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmd/args.h"

struct fix {
	struct kd_session *s;
	char out[8192];
	size_t len;
	char *line; /* the text under test, exactly sized */
};

static void capture(void *ctx, const char *text, size_t len)
{
	struct fix *f = ctx;

	/* A message quoting a 64 KiB line keeps only its start here. */
	if (len > sizeof(f->out) - 1 - f->len)
		len = sizeof(f->out) - 1 - f->len;
	memcpy(f->out + f->len, text, len);
	f->len += len;
	f->out[f->len] = '\0';
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(kd_session_new(&f->s, NULL), KD_OK);
	kd_session_set_output(f->s, capture, f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	free(f->line);
	kd_session_free(f->s);
	free(f);
	return 0;
}

/*
 * A cursor over a fresh heap copy of @p line with its arguments starting
 * at offset @p at (as the dispatcher hands them over: the name before).
 */
static void start(struct fix *f, struct kd_args *a, const char *line, size_t at)
{
	struct kd_cmdctx c;
	size_t n = strlen(line);

	free(f->line);
	f->line = malloc(n + 1);
	assert_non_null(f->line);
	memcpy(f->line, line, n + 1);
	assert_true(at <= n);
	c.line = f->line;
	c.name = "";
	c.args = f->line + at;
	kd_args_init(a, f->s, &c);
	f->len = 0;
	f->out[0] = '\0';
}

/*
 * The output is one "<blanks>^ Syntax error in '<line>'" line and its
 * caret is @p pos characters into the line, after the prompt.
 */
static void assert_caret(struct fix *f, const char *what, size_t pos)
{
	size_t col = strlen(kd_session_prompt(f->s)) + pos;
	const char *caret = strchr(f->out, '^');
	const char *nl = strchr(f->out, '\n');
	size_t i;

	assert_non_null(caret);
	assert_non_null(nl);
	assert_true(nl[1] == '\0' || f->len == sizeof(f->out) - 1);
	assert_int_equal((size_t)(caret - f->out), col);
	for (i = 0; i < col; i++)
		assert_int_equal(f->out[i], ' ');
	assert_non_null(strstr(f->out, what));
}

static void test_init_and_glued(void **state)
{
	struct fix *f = *state;
	struct kd_args a;

	start(f, &a, "kb 5", 1);
	assert_true(a.glued);
	assert_int_equal(kd_args_offset(&a), 1);
	assert_int_equal(kd_args_peek(&a), 'b');
	/* The dispatcher skipped a blank: the arguments are not glued. */
	start(f, &a, "k 5", 2);
	assert_false(a.glued);
	start(f, &a, "k\t5", 2);
	assert_false(a.glued);
	/* Arguments at the very start of the text (an Input> answer). */
	kd_args_init_text(&a, f->s, f->line, f->line);
	assert_true(a.glued);
	assert_int_equal(kd_args_offset(&a), 0);
}

static void test_looking(void **state)
{
	struct fix *f = *state;
	struct kd_args a;

	start(f, &a, "x  \t, ,y", 1);
	assert_false(kd_args_at_end(&a));
	assert_false(kd_args_blank_rest(&a));
	kd_args_skip(&a);
	assert_int_equal(kd_args_peek(&a), ',');
	kd_args_skip_also(&a, ",");
	assert_int_equal(kd_args_peek(&a), 'y');
	assert_int_equal(kd_args_offset(&a), 7);
	/* peek_at stops at the end and never reads past it. */
	assert_int_equal(kd_args_peek_at(&a, 0), 'y');
	assert_int_equal(kd_args_peek_at(&a, 1), '\0');
	assert_int_equal(kd_args_peek_at(&a, 2), '\0');
	assert_int_equal(kd_args_peek_at(&a, 1000), '\0');
	assert_false(kd_args_at_word_end(&a));
	kd_args_advance(&a, 1000);
	assert_true(kd_args_at_end(&a));
	assert_true(kd_args_at_word_end(&a));
	assert_int_equal(kd_args_offset(&a), 8);

	start(f, &a, "x   \t", 1);
	assert_true(kd_args_blank_rest(&a));
	assert_true(kd_args_at_word_end(&a));
	assert_false(kd_args_at_end(&a));

	assert_string_equal(kd_skip_blanks(" \t a"), "a");
	assert_string_equal(kd_skip_blanks(""), "");
}

static void test_errors_and_end(void **state)
{
	struct fix *f = *state;
	struct kd_args a;

	start(f, &a, "cmd abc", 4);
	assert_int_equal(kd_args_error(&a), KD_EINVAL);
	assert_caret(f, "Syntax error in 'cmd abc'", 4);

	start(f, &a, "cmd abc", 4);
	assert_int_equal(kd_args_error_at(&a, a.line + 5), KD_EINVAL);
	assert_caret(f, "Syntax error", 5);

	start(f, &a, "cmd abc  ", 4);
	assert_int_equal(kd_args_error_eol(&a), KD_EINVAL);
	/* The caret goes after the line as typed; the echo drops blanks. */
	assert_caret(f, "Syntax error in 'cmd abc'", 9);

	/* End: blanks are fine, anything else is an error where it is. */
	start(f, &a, "cmd   \t", 4);
	assert_int_equal(kd_args_end(&a), KD_OK);
	assert_string_equal(f->out, "");
	start(f, &a, "cmd    junk", 4);
	assert_int_equal(kd_args_end(&a), KD_EINVAL);
	assert_caret(f, "Syntax error in 'cmd    junk'", 7);
	assert_int_equal(kd_args_offset(&a), 7);
}

static void test_word(void **state)
{
	struct fix *f = *state;
	struct kd_args a;
	const char *w = NULL;
	size_t n = 0;

	start(f, &a, "lm nt!x* rest", 3);
	assert_true(kd_args_take_word(&a, &w, &n));
	assert_int_equal(n, 5);
	assert_memory_equal(w, "nt!x*", 5);
	assert_int_equal(kd_args_peek(&a), ' ');

	/* None at the end or on a blank: the cursor stays. */
	start(f, &a, "lm", 2);
	assert_false(kd_args_take_word(&a, &w, &n));
	assert_int_equal(kd_args_offset(&a), 2);
	start(f, &a, "lm  x", 2);
	assert_false(kd_args_take_word(&a, &w, &n));
	assert_int_equal(kd_args_offset(&a), 2);

	/* Bytes that are no text are still a word, up to the end. */
	start(f, &a, "x \x01\xff\x7f", 2);
	assert_true(kd_args_take_word(&a, &w, &n));
	assert_int_equal(n, 3);
	assert_true(kd_args_at_end(&a));
}

static void test_option(void **state)
{
	struct fix *f = *state;
	struct kd_args a;

	/* /x with letters, glued to what follows (bp /1addr). */
	start(f, &a, "bp /1fff", 3);
	assert_int_equal(kd_args_take_option(&a, "/", "1", 0), '1');
	assert_int_equal(kd_args_peek(&a), 'f');
	/* Not one of the letters, or no lead: 0 and the cursor stays. */
	start(f, &a, "bp /2", 3);
	assert_int_equal(kd_args_take_option(&a, "/", "1", 0), 0);
	assert_int_equal(kd_args_offset(&a), 3);
	start(f, &a, "bp 1", 3);
	assert_int_equal(kd_args_take_option(&a, "/", NULL, 0), 0);
	/* A lead at the end is no option. */
	start(f, &a, "x /", 2);
	assert_int_equal(kd_args_take_option(&a, "/", NULL, 0), 0);
	assert_int_equal(kd_args_offset(&a), 2);
	start(f, &a, "x", 1);
	assert_int_equal(kd_args_take_option(&a, "/-", NULL, 0), 0);

	/* -x with a blank after it (s -b range). */
	start(f, &a, "s -b 100", 2);
	assert_int_equal(kd_args_take_option(&a, "-", "bwd", KD_ARGS_OPT_BLANK),
			 'b');
	assert_int_equal(kd_args_offset(&a), 4);
	start(f, &a, "s -b", 2);
	assert_int_equal(kd_args_take_option(&a, "-", "bwd", KD_ARGS_OPT_BLANK),
			 0);
	start(f, &a, "s -bx", 2);
	assert_int_equal(kd_args_take_option(&a, "-", "bwd", KD_ARGS_OPT_BLANK),
			 0);

	/* Alone (a blank or the end after it), letters only. */
	start(f, &a, ".logopen /t", 9);
	assert_int_equal(
		kd_args_take_option(&a, "/-", NULL,
				    KD_ARGS_OPT_ALONE | KD_ARGS_OPT_ALPHA),
		't');
	assert_true(kd_args_at_end(&a));
	start(f, &a, ".logopen /tmp/x", 9);
	assert_int_equal(
		kd_args_take_option(&a, "/-", NULL,
				    KD_ARGS_OPT_ALONE | KD_ARGS_OPT_ALPHA),
		0);
	start(f, &a, ".logopen /1 x", 9);
	assert_int_equal(
		kd_args_take_option(&a, "/-", NULL,
				    KD_ARGS_OPT_ALONE | KD_ARGS_OPT_ALPHA),
		0);
	start(f, &a, ".logopen -U\tx", 9);
	assert_int_equal(
		kd_args_take_option(&a, "/-", NULL,
				    KD_ARGS_OPT_ALONE | KD_ARGS_OPT_ALPHA),
		'U');
	/* A byte above 0x7f comes back as itself, not negative. */
	start(f, &a, "x /\xe9", 2);
	assert_int_equal(kd_args_take_option(&a, "/", NULL, 0), 0xe9);
	assert_string_equal(f->out, "");
}

static void test_quoted(void **state)
{
	struct fix *f = *state;
	struct kd_args a;
	const char *t = NULL;
	size_t n = 0;

	start(f, &a, "ea 100 \"hi there\" x", 7);
	assert_int_equal(kd_args_take_quoted(&a, 0, &t, &n), KD_OK);
	assert_int_equal(n, 8);
	assert_memory_equal(t, "hi there", 8);
	assert_int_equal(kd_args_peek(&a), ' ');

	/* Empty is a string; the cursor moves past both quotes. */
	start(f, &a, "ea 100 \"\"", 7);
	assert_int_equal(kd_args_take_quoted(&a, 0, &t, &n), KD_OK);
	assert_int_equal(n, 0);
	assert_true(kd_args_at_end(&a));

	/* No quote here, or none closing: the caret on the cursor. */
	start(f, &a, "ea 100 hi", 7);
	assert_int_equal(kd_args_take_quoted(&a, 0, &t, &n), KD_EINVAL);
	assert_caret(f, "Syntax error", 7);
	start(f, &a, "ea 100 \"hi", 7);
	assert_int_equal(kd_args_take_quoted(&a, 0, &t, &n), KD_EINVAL);
	assert_caret(f, "Syntax error", 7);
	assert_int_equal(kd_args_offset(&a), 7);
	start(f, &a, "ea 100 \"", 7);
	assert_int_equal(kd_args_take_quoted(&a, 0, &t, &n), KD_EINVAL);
	assert_caret(f, "Syntax error", 7);

	/* Open: an unclosed string runs to the end. */
	start(f, &a, "$$>a< \"a b", 6);
	assert_int_equal(kd_args_take_quoted(&a, KD_ARGS_Q_OPEN, &t, &n),
			 KD_OK);
	assert_int_equal(n, 3);
	assert_true(kd_args_at_end(&a));
	assert_string_equal(f->out, "");

	/* Escapes: \" does not close; a lone backslash is itself. */
	start(f, &a, "bp 1 \"r; .echo \\\"x\\\" \\ y\" z", 5);
	assert_int_equal(kd_args_take_quoted(&a, KD_ARGS_Q_ESCAPES, &t, &n),
			 KD_OK);
	assert_int_equal(kd_args_peek(&a), ' ');
	{
		char *u = kd_args_unescape(t, n);

		assert_non_null(u);
		assert_string_equal(u, "r; .echo \"x\" \\ y");
		kd_free(u);
	}
	/* Without escapes the same text closes at the first \". */
	start(f, &a, "bp 1 \"a\\\"b\"", 5);
	assert_int_equal(kd_args_take_quoted(&a, 0, &t, &n), KD_OK);
	assert_int_equal(n, 2);
	/* A backslash at the very end of an open string. */
	start(f, &a, "bp 1 \"a\\", 5);
	assert_int_equal(kd_args_take_quoted(&a, KD_ARGS_Q_ESCAPES, &t, &n),
			 KD_EINVAL);
	assert_caret(f, "Syntax error", 5);
}

static void test_unescape_oom(void **state)
{
	char *u;

	(void)state;
	u = kd_args_unescape("a\\\"b", 4);
	assert_non_null(u);
	assert_string_equal(u, "a\"b");
	kd_free(u);
	/* A trailing backslash has nothing to escape. */
	u = kd_args_unescape("a\\", 2);
	assert_non_null(u);
	assert_string_equal(u, "a\\");
	kd_free(u);
	kd_alloc_fail_after(0, false);
	u = kd_args_unescape("abc", 3);
	kd_alloc_fail_after(-1, false);
	assert_null(u);
}

static void test_group(void **state)
{
	struct fix *f = *state;
	struct kd_args a;

	start(f, &a, "db /p[uc] 100", 5);
	assert_int_equal(kd_args_take_group(&a, '[', ']'), 1);
	assert_int_equal(kd_args_peek(&a), ' ');
	start(f, &a, "db /p 100", 5);
	assert_int_equal(kd_args_take_group(&a, '[', ']'), 0);
	assert_int_equal(kd_args_offset(&a), 5);
	start(f, &a, "db /p[uc 100", 5);
	assert_int_equal(kd_args_take_group(&a, '[', ']'), KD_EINVAL);
	assert_caret(f, "Syntax error in 'db /p[uc 100'", 5);
	start(f, &a, "db", 2);
	assert_int_equal(kd_args_take_group(&a, '[', ']'), 0);
}

static void test_rest(void **state)
{
	struct fix *f = *state;
	struct kd_args a;
	const char *t;
	size_t n;

	start(f, &a, ".echo  a b \t", 6);
	kd_args_take_rest(&a, 0, &t, &n);
	assert_int_equal(n, 4);
	assert_memory_equal(t, " a b", 4);
	assert_true(kd_args_at_end(&a));

	/* CR/LF only with the flag. */
	start(f, &a, ".echo x \r\n", 6);
	kd_args_take_rest(&a, 0, &t, &n);
	assert_int_equal(n, 4);
	start(f, &a, ".echo x \r\n", 6);
	kd_args_take_rest(&a, KD_ARGS_CRLF, &t, &n);
	assert_int_equal(n, 1);

	/* One pair of quotes around all of it goes with Q_STRIP. */
	start(f, &a, ".echo \"a \"b\"  ", 6);
	kd_args_take_rest(&a, KD_ARGS_Q_STRIP, &t, &n);
	assert_int_equal(n, 4);
	assert_memory_equal(t, "a \"b", 4);
	start(f, &a, ".echo \"", 6);
	kd_args_take_rest(&a, KD_ARGS_Q_STRIP, &t, &n);
	assert_int_equal(n, 1);
	assert_int_equal(t[0], '"');
	start(f, &a, ".echo \"\"", 6);
	kd_args_take_rest(&a, KD_ARGS_Q_STRIP, &t, &n);
	assert_int_equal(n, 0);
	start(f, &a, ".echo", 5);
	kd_args_take_rest(&a, KD_ARGS_Q_STRIP | KD_ARGS_CRLF, &t, &n);
	assert_int_equal(n, 0);
}

static void test_number(void **state)
{
	struct fix *f = *state;
	struct kd_args a;
	unsigned long v = 7;
	char big[64];

	start(f, &a, "bp12 x", 2);
	assert_true(kd_args_take_number(&a, 10, &v));
	assert_int_equal(v, 12);
	assert_int_equal(kd_args_peek(&a), ' ');
	start(f, &a, "bc 1f-", 3);
	assert_true(kd_args_take_number(&a, 16, &v));
	assert_int_equal(v, 0x1f);
	assert_int_equal(kd_args_peek(&a), '-');
	/* No digit: false, value and cursor untouched. */
	v = 7;
	start(f, &a, "bc x", 3);
	assert_false(kd_args_take_number(&a, 16, &v));
	assert_int_equal(v, 7);
	assert_int_equal(kd_args_offset(&a), 3);
	start(f, &a, "bc", 2);
	assert_false(kd_args_take_number(&a, 10, &v));
	/* Too many digits saturate as strtoul does; all are taken. */
	snprintf(big, sizeof(big), "bp%s", "999999999999999999999999999999");
	start(f, &a, big, 2);
	assert_true(kd_args_take_number(&a, 10, &v));
	assert_true(v == ULONG_MAX);
	assert_true(kd_args_at_end(&a));
}

static void test_expr(void **state)
{
	struct fix *f = *state;
	struct kd_args a;
	uint64_t v = 0;

	start(f, &a, "? 1+2  x", 2);
	assert_int_equal(kd_args_take_expr(&a, &v), KD_OK);
	assert_int_equal(v, 3);
	assert_int_equal(kd_args_peek(&a), 'x');
	assert_string_equal(f->out, "");

	/* A bad expression: the message, and the caret where it failed. */
	start(f, &a, "? 1+)", 2);
	assert_int_equal(kd_args_take_expr(&a, &v), KD_EINVAL);
	assert_caret(f, "Syntax error in '? 1+)'", 4);
	assert_int_equal(kd_args_offset(&a), 4);

	/* Nothing to evaluate is an error at the end. */
	start(f, &a, "? ", 2);
	assert_true(kd_args_take_expr(&a, &v) < 0);
	assert_non_null(strstr(f->out, "error"));

	/* An unknown name: WinDbg's resolve message, no caret. */
	start(f, &a, "? nosuchsymbol_x", 2);
	assert_true(kd_args_take_expr(&a, &v) < 0);
	assert_non_null(strstr(f->out, "nosuchsymbol_x"));
}

static void test_range(void **state)
{
	struct fix *f = *state;
	struct kd_args a;
	uint64_t addr = 0, count = 99;
	bool have = true;

	start(f, &a, "db 100 L4 x", 3);
	assert_int_equal(kd_args_take_range(&a, 1, &addr, &count, &have),
			 KD_OK);
	assert_true(have);
	assert_int_equal(addr, 0x100);
	assert_int_equal(count, 4);
	assert_int_equal(kd_args_peek(&a), 'x');

	/* An end address is inclusive and counted in units. */
	start(f, &a, "dd 100 10f", 3);
	assert_int_equal(kd_args_take_range(&a, 4, &addr, &count, &have),
			 KD_OK);
	assert_int_equal(count, 4);

	/* No address: count untouched, have_addr false. */
	count = 99;
	start(f, &a, "db   ", 2);
	assert_int_equal(kd_args_take_range(&a, 1, &addr, &count, &have),
			 KD_OK);
	assert_false(have);
	assert_int_equal(count, 99);

	/* Empty, reversed and too large ranges: the caret on the count. */
	start(f, &a, "db 100 L0", 3);
	assert_int_equal(kd_args_take_range(&a, 1, &addr, &count, &have),
			 KD_EINVAL);
	assert_caret(f, "Range error in 'db 100 L0'", 7);
	start(f, &a, "db 200 100", 3);
	assert_int_equal(kd_args_take_range(&a, 1, &addr, &count, &have),
			 KD_EINVAL);
	assert_caret(f, "Range error", 7);
	start(f, &a, "db 0 Lffffffffffffffff", 3);
	assert_int_equal(kd_args_take_range(&a, 8, &addr, &count, &have),
			 KD_EINVAL);
	assert_caret(f, "Range error", 5);
	/* L? lifts the size check. */
	start(f, &a, "db 0 L?ffffffff", 3);
	assert_int_equal(kd_args_take_range(&a, 1, &addr, &count, &have),
			 KD_OK);
	assert_int_equal(count, 0xffffffffu);
}

/* Long and odd text: every take stays inside it and ends. */
static void test_hostile(void **state)
{
	struct fix *f = *state;
	size_t n = 65536, i;
	char *big = malloc(n + 3);
	struct kd_args a;
	const char *t;
	size_t len;
	uint64_t v;
	bool have;

	assert_non_null(big);
	big[0] = 'x';
	big[1] = ' ';
	memset(big + 2, ' ', n);
	big[n + 2] = '\0';
	start(f, &a, big, 1);
	assert_true(kd_args_blank_rest(&a));
	assert_int_equal(kd_args_end(&a), KD_OK);
	assert_true(kd_args_at_end(&a));

	/* An unclosed quote a page long. */
	big[2] = '"';
	for (i = 3; i < n + 2; i++)
		big[i] = (char)('a' + i % 26);
	start(f, &a, big, 2);
	assert_int_equal(kd_args_take_quoted(&a, KD_ARGS_Q_ESCAPES, &t, &len),
			 KD_EINVAL);
	assert_int_equal(kd_args_offset(&a), 2);
	start(f, &a, big, 2);
	assert_int_equal(kd_args_take_quoted(&a, KD_ARGS_Q_OPEN, &t, &len),
			 KD_OK);
	assert_int_equal(len, n - 1);
	/* An unclosed group. */
	big[2] = '[';
	start(f, &a, big, 2);
	assert_int_equal(kd_args_take_group(&a, '[', ']'), KD_EINVAL);
	free(big);

	/* Expressions and ranges cut off at every length of one text. */
	{
		static const char full[] = "db (1+2)*3 L?(4) ";
		char part[sizeof(full)];

		for (i = 3; i < sizeof(full); i++) {
			memcpy(part, full, i);
			part[i] = '\0';
			start(f, &a, part, 3);
			(void)kd_args_take_range(&a, 1, &v, &v, &have);
			assert_true(kd_args_offset(&a) <= i);
			start(f, &a, part, 3);
			(void)kd_args_take_expr(&a, &v);
			assert_true(kd_args_offset(&a) <= i);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_and_glued, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_looking, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_and_end, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_word, setup, teardown),
		cmocka_unit_test_setup_teardown(test_option, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quoted, setup, teardown),
		cmocka_unit_test(test_unescape_oom),
		cmocka_unit_test_setup_teardown(test_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_number, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
