/* SPDX-License-Identifier: MIT */
/*
 * kd_text_escape (control bytes, C1, malformed UTF-8 as \xNN; text,
 * tabs, line ends and good UTF-8 kept; pieces that fit), kd_text_redact
 * (password= values hidden at any depth) and kd_loglimit (a burst per
 * window, the rest summarised).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <kd/loglimit.h>
#include <kd/textsafe.h>

static void esc(const char *in, size_t len, const char *want)
{
	char out[512];
	size_t used = 99;
	size_t n = kd_text_escape(out, sizeof(out), in, len, &used);

	assert_int_equal(used, len);
	assert_int_equal(n, strlen(out));
	if (strcmp(out, want) != 0)
		fail_msg("escaped to '%s', want '%s'", out, want);
	assert_int_equal(kd_text_is_safe(in, len),
			 strcmp(in, want) == 0 && strlen(in) == len);
}

#define ESC(in, want) esc(in, sizeof(in) - 1, want)

static void test_textsafe__escape(void **state)
{
	(void)state;
	ESC("plain text, 100%\tok\n", "plain text, 100%\tok\n");
	ESC("C:\\Windows\\x", "C:\\Windows\\x");
	ESC("line\r\n", "line\r\n");
	/* Terminal escapes: title, clear, a fake prompt over the line. */
	ESC("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07");
	ESC("\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H");
	ESC("x\rkd> ", "x\\x0dkd> ");
	ESC("a\0b", "a\\x00b");
	ESC("\x7f\x01\x1f", "\\x7f\\x01\\x1f");
	/* 8-bit C1 (CSI 0x9b), raw or UTF-8 encoded (U+009B). */
	ESC("\x9b"
	    "31m",
	    "\\x9b31m");
	ESC("\xc2\x9b"
	    "31m",
	    "\\xc2\\x9b31m");
	/* Good UTF-8 stays: NBSP, e-acute, euro, an emoji. */
	ESC("\xc2\xa0\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
	    "\xc2\xa0\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	/* Malformed: overlong, surrogate, truncated, stray continuation,
	 * beyond U+10FFFF, Latin-1. */
	ESC("\xc0\xaf", "\\xc0\\xaf");
	ESC("\xe0\x80\xaf", "\\xe0\\x80\\xaf");
	ESC("\xed\xa0\x80", "\\xed\\xa0\\x80");
	ESC("\xe2\x82", "\\xe2\\x82");
	ESC("\x80x", "\\x80x");
	ESC("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80");
	ESC("caf\xe9", "caf\\xe9");
}

/* A small buffer: stops before an escape or a sequence that does not
 * fit, so a caller can go on with the rest. */
static void test_textsafe__pieces(void **state)
{
	static const char in[] = "ab\x1b\xc3\xa9z";
	char out[64], all[64] = "";
	size_t used, at = 0, n;

	(void)state;
	n = kd_text_escape(out, 4, in, sizeof(in) - 1, &used);
	assert_int_equal(n, 2);
	assert_string_equal(out, "ab");
	assert_int_equal(used, 2);
	while (at < sizeof(in) - 1) {
		n = kd_text_escape(out, 6, in + at, sizeof(in) - 1 - at, &used);
		assert_true(used > 0);
		strncat(all, out, sizeof(all) - strlen(all) - 1);
		at += used;
	}
	assert_string_equal(all, "ab\\x1b\xc3\xa9z");
	assert_int_equal(kd_text_escape(out, 0, in, 3, &used), 0);
	assert_int_equal(used, 0);
	n = kd_text_escape(out, 1, in, 3, &used);
	assert_int_equal(n, 0);
	assert_string_equal(out, "");
}

static void red(const char *in, const char *want)
{
	char out[256];

	kd_text_redact(out, sizeof(out), in);
	if (strcmp(out, want) != 0)
		fail_msg("'%s' redacted to '%s', want '%s'", in, out, want);
}

static void test_textsafe__redact(void **state)
{
	char small[16];

	(void)state;
	red("tcp:port=5,password=Sesame42", "tcp:port=5,password=*");
	red("tcp:PassWord=Sesame42,port=5", "tcp:PassWord=*,port=5");
	red("password=x", "password=*");
	red("kdsrv:server=@{tcp:server=h,port=1,password=Se,cr}},trans=@{com:}",
	    "kdsrv:server=@{tcp:server=h,port=1,password=*,cr}},trans=@{com:}");
	red("kdsrv:server=@{tcp:port=1,password=Sesame42},trans=@{com:}",
	    "kdsrv:server=@{tcp:port=1,password=*},trans=@{com:}");
	red("tcp:port=1,password=@{a,b}c},x=1", "tcp:port=1,password=*,x=1");
	red("tcp:port=1,password=a}b", "tcp:port=1,password=*");
	red("tcp:port=1,mypassword=x", "tcp:port=1,mypassword=x");
	red("tcp:port=1,password=ab|c", "tcp:port=1,password=*|c");
	/* The KDNET key is a secret too; an ssl: key= is a file. */
	red("net:port=50000,key=1.2.3.4", "net:port=50000,key=*");
	red("NET:Key=1.2.3.4,port=5", "NET:Key=*,port=5");
	red("pcap:file=a|net:port=1,key=1.2.3.4",
	    "pcap:file=a|net:port=1,key=*");
	red("kdsrv:server=@{ssl:port=1,key=s.key},trans=@{net:port=1,key=w.x.y.z}",
	    "kdsrv:server=@{ssl:port=1,key=s.key},trans=@{net:port=1,key=*}");
	red("com:port=/dev/ttyS0,key=x", "com:port=/dev/ttyS0,key=x");
	red("net:port=1,monkey=x", "net:port=1,monkey=x");
	/* Truncated output never holds part of a password. */
	kd_text_redact(small, sizeof(small), "tcp:p=1,password=Sesame42");
	assert_null(strstr(small, "Ses"));
	assert_string_equal(small, "tcp:p=1,");
}

static void test_textsafe__loglimit(void **state)
{
	struct kd_loglimit l;
	unsigned long held = 99;
	int written = 0;

	(void)state;
	kd_loglimit_init(&l, 3, 10000);
	assert_int_equal(kd_loglimit_window_s(&l), 10);
	for (int i = 0; i < 100; i++) {
		written += kd_loglimit_allow_at(&l, 1000 + i, &held);
		assert_int_equal(held, 0);
	}
	assert_int_equal(written, 3);
	/* Not over yet: nothing to summarise unless forced. */
	assert_int_equal(kd_loglimit_flush_at(&l, 5000, false), 0);
	/* The window is over: 97 held, told once. */
	assert_int_equal(kd_loglimit_flush_at(&l, 11000, false), 97);
	assert_int_equal(kd_loglimit_flush_at(&l, 11001, false), 0);
	/* A new window: lines again, the summary comes with the next. */
	for (int i = 0; i < 5; i++)
		(void)kd_loglimit_allow_at(&l, 20000, &held);
	assert_true(kd_loglimit_allow_at(&l, 31000, &held));
	assert_int_equal(held, 2);
	(void)kd_loglimit_allow_at(&l, 31000, &held);
	(void)kd_loglimit_allow_at(&l, 31000, &held);
	assert_false(kd_loglimit_allow_at(&l, 31000, &held));
	assert_int_equal(kd_loglimit_flush_at(&l, 31001, true), 1);
	kd_loglimit_destroy(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_textsafe__escape),
		cmocka_unit_test(test_textsafe__pieces),
		cmocka_unit_test(test_textsafe__redact),
		cmocka_unit_test(test_textsafe__loglimit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
