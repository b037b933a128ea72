/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the miscellaneous commands on a dormant session: .echo,
 * comments, .if/.elsif/.else, j, .block, script files with and without
 * arguments, log files, the sandbox, nesting bounds and failure counts.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/engine_int.h"

struct fix {
	struct kd_session *s;
	char out[65536];
	size_t len;
	char dir[64];
};

static void capture(void *ctx, const char *text, size_t len)
{
	struct fix *f = ctx;

	assert_true(f->len + len < sizeof(f->out));
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
	snprintf(f->dir, sizeof(f->dir), "/tmp/kd_misc_XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	char cmd[128];

	kd_session_free(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Run @p line with a fresh output buffer; returns the result code. */
static int run(struct fix *f, const char *line)
{
	f->len = 0;
	f->out[0] = '\0';
	return kd_session_execute(f->s, line);
}

static void write_file(struct fix *f, const char *name, const char *text,
		       char *path, size_t cap)
{
	FILE *fp;

	snprintf(path, cap, "%s/%s", f->dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	fclose(fp);
}

static char *read_all(const char *path)
{
	static char buf[8192];
	FILE *fp = fopen(path, "r");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void test_echo(void **state)
{
	struct fix *f = *state;

	assert_int_equal(run(f, ".echo hello world"), KD_OK);
	assert_string_equal(f->out, "hello world\n");
	assert_int_equal(run(f, ".echo \"a; b\""), KD_OK);
	assert_string_equal(f->out, "a; b\n");
	assert_int_equal(run(f, ".echo x; .echo y ;.echo   z  "), KD_OK);
	assert_string_equal(f->out, "x\ny\nz\n");
	assert_int_equal(run(f, ".echo"), KD_OK);
	assert_string_equal(f->out, "\n");
	assert_int_equal(kd_session_failures(f->s), 0);
}

static void test_comments(void **state)
{
	struct fix *f = *state;

	assert_int_equal(run(f, "$$ a comment; .echo after"), KD_OK);
	assert_string_equal(f->out, "after\n");
	assert_int_equal(run(f, "* a comment; .echo swallowed"), KD_OK);
	assert_string_equal(f->out, "");
	assert_int_equal(run(f, ".echo before; * rest; .echo no"), KD_OK);
	assert_string_equal(f->out, "before\n");
	assert_int_equal(kd_session_failures(f->s), 0);
}

static void test_if(void **state)
{
	struct fix *f = *state;

	assert_int_equal(run(f, ".if (1) { .echo one } .else { .echo two }"),
			 KD_OK);
	assert_string_equal(f->out, "one\n");
	assert_int_equal(run(f, ".if (0) {.echo a} .elsif (2 > 1) "
				"{ .echo b } .else { .echo c }"),
			 KD_OK);
	assert_string_equal(f->out, "b\n");
	assert_int_equal(run(f, ".if (0) {.echo a} .elsif (0) {.echo b} "
				".else {.echo c; .echo d}"),
			 KD_OK);
	assert_string_equal(f->out, "c\nd\n");
	assert_int_equal(run(f, ".if (0) { .echo a }; .echo next"), KD_OK);
	assert_string_equal(f->out, "next\n");
	assert_int_equal(run(f, ".if (1) { .if (0) { .echo x } .else "
				"{ .echo y; .echo z } }"),
			 KD_OK);
	assert_string_equal(f->out, "y\nz\n");
	/* 0x10 and 0n16 are the same number; default radix 16. */
	assert_int_equal(run(f, ".if (10 == 0n16) { .echo hex }"), KD_OK);
	assert_string_equal(f->out, "hex\n");
	assert_int_equal(kd_session_failures(f->s), 0);

	/* Malformed: no braces, stray .else, text after .else's block. */
	assert_int_equal(run(f, ".if (1) .echo x"), KD_EINVAL);
	assert_non_null(strstr(f->out, "^ Syntax error in '.if (1) .echo x'"));
	assert_int_equal(run(f, ".else { .echo x }"), KD_EINVAL);
	assert_non_null(strstr(f->out, "Syntax error"));
	assert_int_equal(run(f, ".if (1) { .echo x } .else { } .echo"),
			 KD_EINVAL);
	assert_null(strstr(f->out, "x\n"));
	assert_int_equal(run(f, ".if (1) { .echo x"), KD_EINVAL);
	assert_int_equal(kd_session_failures(f->s), 4);
}

static void test_j(void **state)
{
	struct fix *f = *state;

	assert_int_equal(run(f, "j 1 '.echo a' ; '.echo b'"), KD_OK);
	assert_string_equal(f->out, "a\n");
	assert_int_equal(run(f, "j 0 '.echo a' ; '.echo b'"), KD_OK);
	assert_string_equal(f->out, "b\n");
	assert_int_equal(run(f, "j (1==0) .echo a ; .echo b; .echo c"), KD_OK);
	assert_string_equal(f->out, "b\nc\n");
	assert_int_equal(run(f, "j (1==1) .echo a ; .echo b; .echo c"), KD_OK);
	assert_string_equal(f->out, "a\n");
	assert_int_equal(run(f, "j 1 '.echo a;.echo c' ; '.echo b'; "
				".echo after"),
			 KD_OK);
	assert_string_equal(f->out, "a\nc\nafter\n");
	assert_int_equal(run(f, "j 0 '.echo a'"), KD_OK);
	assert_string_equal(f->out, "");
	assert_int_equal(kd_session_failures(f->s), 0);
	assert_true(run(f, "j") < 0);
	assert_int_equal(kd_session_failures(f->s), 1);
}

static void test_block_and_nesting(void **state)
{
	struct fix *f = *state;
	char line[2048] = "";
	size_t n = 0;
	int i;

	assert_int_equal(run(f, ".block { .echo in; .echo side }"), KD_OK);
	assert_string_equal(f->out, "in\nside\n");
	for (i = 0; i < 80; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, ".block {");
	n += (size_t)snprintf(line + n, sizeof(line) - n, ".echo deep");
	for (i = 0; i < 80; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "}");
	assert_true(n < sizeof(line));
	assert_true(run(f, line) < 0);
	assert_non_null(strstr(f->out, "Command nesting is too deep"));
	assert_null(strstr(f->out, "deep\n"));
	/* The one failure is counted once, not once per level. */
	assert_int_equal(kd_session_failures(f->s), 1);
}

static void test_script_lines(void **state)
{
	struct fix *f = *state;
	char path[256], cmd[300];

	write_file(f, "a.txt",
		   ".echo one\n\n$$ a comment\r\n  .echo two ; .echo three\n",
		   path, sizeof(path));
	snprintf(cmd, sizeof(cmd), "$$<%s", path);
	assert_int_equal(run(f, cmd), KD_OK);
	assert_string_equal(f->out, "kd> .echo one\none\n"
				    "kd> $$ a comment\n"
				    "kd> .echo two\ntwo\n"
				    "kd> .echo three\nthree\n");
	/* $< takes the rest of the line as the file name. */
	snprintf(cmd, sizeof(cmd), "$< %s", path);
	assert_int_equal(run(f, cmd), KD_OK);
	assert_non_null(strstr(f->out, "kd> .echo two\ntwo\n"));
	/* $$< ends at `;`: more commands may follow. */
	snprintf(cmd, sizeof(cmd), "$$<%s; .echo tail", path);
	assert_int_equal(run(f, cmd), KD_OK);
	assert_non_null(strstr(f->out, "three\ntail\n"));
	assert_int_equal(kd_session_failures(f->s), 0);
}

static void test_script_block(void **state)
{
	struct fix *f = *state;
	char path[256], cmd[300];

	write_file(f, "b.txt",
		   ".if (1) {\n"
		   "  .echo in\n"
		   "}\n"
		   ".else {\n"
		   "  .echo out\n"
		   "}\n"
		   "* a whole-line comment\n"
		   ".echo end\n",
		   path, sizeof(path));
	snprintf(cmd, sizeof(cmd), "$$><%s", path);
	assert_int_equal(run(f, cmd), KD_OK);
	assert_string_equal(f->out,
			    "kd> .if (1) {;  .echo in;} .else {;  .echo out;}\n"
			    "in\n"
			    "kd> .echo end\nend\n");
	assert_int_equal(kd_session_failures(f->s), 0);
}

static void test_script_args(void **state)
{
	struct fix *f = *state;
	char path[256], cmd[300];

	write_file(f, "c.txt",
		   ".echo ${$arg1}-${$arg2}-${$arg3}\n"
		   ".if (${$arg1} == 5) { .echo five }\n",
		   path, sizeof(path));
	snprintf(cmd, sizeof(cmd), "$$>a<%s 5 \"b 2\"; .echo done", path);
	assert_int_equal(run(f, cmd), KD_OK);
	/* No echo of the script's commands; missing args stay literal. */
	assert_string_equal(f->out, "5-b 2-${$arg3}\nfive\ndone\n");
	snprintf(cmd, sizeof(cmd), "$$>a<%s 6", path);
	assert_int_equal(run(f, cmd), KD_OK);
	assert_string_equal(f->out, "6-${$arg2}-${$arg3}\n");
	assert_int_equal(kd_session_failures(f->s), 0);
}

static void test_script_failures(void **state)
{
	struct fix *f = *state;
	char path[256], cmd[300];

	write_file(f, "d.txt", ".echo a\nbogus_cmd_1\n.echo b\nbogus_cmd_2\n",
		   path, sizeof(path));
	snprintf(cmd, sizeof(cmd), "$$<%s", path);
	assert_true(run(f, cmd) < 0);
	assert_non_null(strstr(f->out, "a\n"));
	assert_non_null(strstr(f->out, "b\n"));
	assert_non_null(strstr(f->out, "Syntax error in 'bogus_cmd_1'"));
	assert_int_equal(kd_session_failures(f->s), 2);

	assert_int_equal(run(f, "$$</nonexistent/kd/script.txt"), KD_ENOTFOUND);
	assert_non_null(strstr(f->out, "Unable to open script file "
				       "'/nonexistent/kd/script.txt'"));
	assert_int_equal(kd_session_failures(f->s), 3);
	assert_true(run(f, "$$<") < 0);
	assert_int_equal(kd_session_failures(f->s), 4);
}

static void test_script_recursion(void **state)
{
	struct fix *f = *state;
	char path[256], text[300];

	snprintf(path, sizeof(path), "%s/self.txt", f->dir);
	snprintf(text, sizeof(text), ".echo level\n$$<%s\n", path);
	write_file(f, "self.txt", text, path, sizeof(path));
	snprintf(text, sizeof(text), "$$<%s", path);
	assert_true(run(f, text) < 0);
	assert_non_null(strstr(f->out, "Script files nest too deeply (16"));
	assert_int_equal(kd_session_failures(f->s), 1);
	assert_int_equal(f->s->script.script_depth, 0);
	assert_int_equal(f->s->script.ctl_depth, 0);
}

static void test_logs(void **state)
{
	struct fix *f = *state;
	char path[256], cmd[300], expect[1024];

	snprintf(path, sizeof(path), "%s/x.log", f->dir);
	snprintf(cmd, sizeof(cmd), ".logopen %s", path);
	assert_int_equal(run(f, cmd), KD_OK);
	snprintf(expect, sizeof(expect), "Opened log file '%s'\n", path);
	assert_string_equal(f->out, expect);
	assert_int_equal(run(f, ".echo logged"), KD_OK);
	kd_session_log_command(f->s, "r rax");
	assert_int_equal(run(f, ".logfile"), KD_OK);
	assert_int_equal(run(f, ".logclose"), KD_OK);
	snprintf(expect, sizeof(expect), "Closing open log file %s\n", path);
	assert_string_equal(f->out, expect);
	snprintf(expect, sizeof(expect),
		 "Opened log file '%s'\nlogged\nkd> r rax\nLog '%s' open\n"
		 "Closing open log file %s\n",
		 path, path, path);
	assert_string_equal(read_all(path), expect);

	/* .logappend keeps the text; .logopen starts over. */
	snprintf(cmd, sizeof(cmd), ".logappend \"%s\"; .echo more; .logclose",
		 path);
	assert_int_equal(run(f, cmd), KD_OK);
	assert_non_null(strstr(read_all(path), "logged\n"));
	assert_non_null(strstr(read_all(path), "more\n"));
	snprintf(cmd, sizeof(cmd), ".logopen %s; .logclose", path);
	assert_int_equal(run(f, cmd), KD_OK);
	assert_null(strstr(read_all(path), "logged"));

	assert_int_equal(run(f, ".logclose"), KD_OK);
	assert_string_equal(f->out, "No log file open\n");
	assert_int_equal(kd_session_failures(f->s), 0);
}

static void test_log_stamp(void **state)
{
	struct fix *f = *state;
	char cmd[300], pre[300];
	const char *name, *q;

	snprintf(cmd, sizeof(cmd), ".logopen /t %s/t.log", f->dir);
	assert_int_equal(run(f, cmd), KD_OK);
	snprintf(pre, sizeof(pre), "Opened log file '%s/t_", f->dir);
	assert_memory_equal(f->out, pre, strlen(pre));
	/* _<4 hex>_<YYYY-MM-DD>_<HH-MM-SS-mmm>.log */
	name = f->out + strlen(pre);
	q = strchr(name, '\'');
	assert_non_null(q);
	assert_int_equal(q - name, 4 + 1 + 10 + 1 + 12 + 4);
	assert_memory_equal(q - 4, ".log", 4);
	assert_int_equal(name[4], '_');
	assert_int_equal(name[9], '-');
	assert_int_equal(name[15], '_');
	assert_int_equal(access(f->s->out.log_path, F_OK), 0);
	assert_int_equal(run(f, ".logclose"), KD_OK);
	assert_true(run(f, ".logopen /q x") < 0);
}

static void test_sandbox(void **state)
{
	struct fix *f = *state;
	char cmd[300];

	f->s->sandbox = true;
	snprintf(cmd, sizeof(cmd), ".logopen %s/s.log", f->dir);
	assert_true(run(f, cmd) < 0);
	assert_null(f->s->out.log);
	assert_true(run(f, "$$<whatever") < 0);
	assert_true(run(f, "$$>a<whatever 1 2") < 0);
	assert_int_equal(kd_session_failures(f->s), 3);
	assert_int_equal(run(f, ".echo still here"), KD_OK);
}

static void test_help(void **state)
{
	struct fix *f = *state;

	assert_int_equal(run(f, ".help"), KD_OK);
	assert_non_null(strstr(f->out, "  .echo "));
	assert_non_null(strstr(f->out, "  $$>a<"));
	assert_non_null(strstr(f->out, "  j "));
	assert_int_equal(run(f, ".help .log"), KD_OK);
	assert_non_null(strstr(f->out, ".logopen"));
	assert_null(strstr(f->out, ".echo"));
	assert_true(run(f, ".help .nosuchcommand") < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_echo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_comments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_if, setup, teardown),
		cmocka_unit_test_setup_teardown(test_j, setup, teardown),
		cmocka_unit_test_setup_teardown(test_block_and_nesting, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_script_lines, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_script_block, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_script_args, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_script_failures, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_script_recursion, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_logs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_stamp, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sandbox, setup, teardown),
		cmocka_unit_test_setup_teardown(test_help, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
