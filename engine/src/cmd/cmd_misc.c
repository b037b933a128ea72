/* SPDX-License-Identifier: MIT */
/*
 * Miscellaneous commands: .echo, .cls, log files, comments, script files
 * ($$< and its relatives) and the control-flow tokens .if/.elsif/.else, j
 * and .block, plus .help listing every command table.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "cmd/args.h"
#include "core/engine_int.h"

#define KD_SCRIPT_MAX_DEPTH 16
#define KD_CTL_MAX_DEPTH 64
#define KD_SCRIPT_MAX_BYTES (4u << 20)
#define KD_SCRIPT_MAX_ARGS 32

/* ------------------------------------------------------------------ */
/* Small text helpers                                                  */
/* ------------------------------------------------------------------ */

/* Length of @p p without trailing blanks (and CR/LF). */
static size_t trimmed_len(const char *p, size_t len)
{
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t' ||
			   p[len - 1] == '\r' || p[len - 1] == '\n'))
		len--;
	return len;
}

/* A NUL-terminated heap copy of @p len bytes at @p p, or NULL. */
static char *cmd_misc_strndup(const char *p, size_t len)
{
	char *d = kd_malloc(len + 1);

	if (!d)
		return NULL;
	memcpy(d, p, len);
	d[len] = '\0';
	return d;
}

/*
 * The character closing the group opened at @p p (`(`, `{` or a quote),
 * skipping nested groups and quoted text; NULL when the text ends first.
 */
static const char *match_close(const char *p)
{
	char open = *p;
	char close = (char)(open == '(' ? ')' : open == '{' ? '}' : open);
	int depth = 0;
	char quote = 0;

	if (open == '"' || open == '\'') {
		for (p++; *p; p++) {
			if (*p == '\\' && open == '"' && p[1] != '\0')
				p++;
			else if (*p == open)
				return p;
		}
		return NULL;
	}
	for (; *p; p++) {
		if (quote) {
			if (*p == '\\' && quote == '"' && p[1] != '\0')
				p++;
			else if (*p == quote)
				quote = 0;
			continue;
		}
		if (*p == '"' || *p == '\'') {
			quote = *p;
		} else if (*p == open) {
			depth++;
		} else if (*p == close) {
			depth--;
			if (depth == 0)
				return p;
		}
	}
	return NULL;
}

/*
 * One file-name or argument word: a "quoted" string (quotes removed, an
 * unclosed one runs to the end) or text up to the next blank.  Returns a
 * heap copy, NULL when there is no word or no memory.
 */
static char *take_word(struct kd_args *a)
{
	const char *w = NULL;
	size_t len = 0;

	kd_args_skip(a);
	if (kd_args_at_end(a))
		return NULL;
	if (kd_args_peek(a) == '"')
		(void)kd_args_take_quoted(a, KD_ARGS_Q_OPEN, &w, &len);
	else
		(void)kd_args_take_word(a, &w, &len);
	return cmd_misc_strndup(w, len);
}

/* The rest of the arguments as a file name: blanks trimmed, quotes
 * removed; NULL when there is none or no memory. */
static char *take_path(struct kd_args *a)
{
	const char *p;
	size_t len;

	kd_args_skip(a);
	kd_args_take_rest(a, KD_ARGS_Q_STRIP | KD_ARGS_CRLF, &p, &len);
	if (len == 0)
		return NULL;
	return cmd_misc_strndup(p, len);
}

/* ------------------------------------------------------------------ */
/* Nested command execution                                            */
/* ------------------------------------------------------------------ */

/*
 * Run @p text (`;`-separated commands) from inside a command: a script
 * line, an .if body.  The commands that fail are counted by the nested
 * kd_session_execute() where they fail.  An interrupt seen inside stays
 * set for the caller's loop.
 */
static int run_nested(struct kd_session *s, const char *text)
{
	int rc;

	if (s->interrupt)
		return KD_ETIMEOUT;
	if (s->script.ctl_depth >= KD_CTL_MAX_DEPTH)
		return kd_fail(s, KD_EOVERFLOW,
			       "Command nesting is too deep (%d levels)",
			       KD_CTL_MAX_DEPTH);
	s->script.ctl_depth++;
	rc = kd_session_execute(s, text);
	s->script.ctl_depth--;
	return rc;
}

/*
 * A command that ran nested commands returns their first failure; the
 * dispatcher counts that return as one more failure, so when the nested
 * run already counted some (failures above @p before) one is taken back
 * and kd_session_failures() counts each failed command once.
 */
static int nested_result(struct kd_session *s, unsigned long before, int rc)
{
	if (rc < 0 && s->failures > before)
		s->failures--;
	return rc;
}

/* Same, for @p len bytes at @p p. */
static int run_nested_n(struct kd_session *s, const char *p, size_t len)
{
	char *copy = cmd_misc_strndup(p, len);
	int rc;

	if (!copy)
		return kd_fail(s, KD_ENOMEM, "Out of memory");
	rc = run_nested(s, copy);
	kd_free(copy);
	return rc;
}

/* ------------------------------------------------------------------ */
/* .echo, .cls, comments                                               */
/* ------------------------------------------------------------------ */

static int cmd_echo(struct kd_session *s, struct kd_cmdctx *c)
{
	struct kd_args a;
	const char *p;
	size_t len;

	kd_args_init(&a, s, c);
	kd_args_take_rest(&a, KD_ARGS_Q_STRIP | KD_ARGS_CRLF, &p, &len);
	kd_out(s, "%.*s\n", (int)len, p);
	return KD_OK;
}

static int cmd_cls(struct kd_session *s, struct kd_cmdctx *c)
{
	static const char clear[] = "\033[H\033[2J";

	(void)c;
	/* The screen only: a log file keeps its text. */
	if (s->out.out_fn)
		s->out.out_fn(s->out.out_ctx, clear, sizeof(clear) - 1);
	s->out.at_line_start = true;
	return KD_OK;
}

static int cmd_comment(struct kd_session *s, struct kd_cmdctx *c)
{
	(void)s;
	(void)c;
	return KD_OK;
}

/* ------------------------------------------------------------------ */
/* Log files                                                           */
/* ------------------------------------------------------------------ */

static void log_close(struct kd_session *s, bool say)
{
	if (!s->out.log)
		return;
	if (say)
		kd_out(s, "Closing open log file %s\n", s->out.log_path);
	fclose(s->out.log);
	s->out.log = NULL;
	s->out.log_path[0] = '\0';
}

/*
 * The /t name: "_<pid 4 hex>_<YYYY-MM-DD>_<HH-MM-SS-mmm>" inserted before
 * the extension of @p path.
 */
static int log_stamp(const char *path, char *out, size_t cap)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(path, '.');
	struct timeval tv;
	struct tm tm;
	size_t stem;
	int n;

	if (!dot || (slash && dot < slash))
		dot = path + strlen(path);
	stem = (size_t)(dot - path);
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	n = snprintf(out, cap, "%.*s_%04x_%04d-%02d-%02d_%02d-%02d-%02d-%03d%s",
		     (int)stem, path, (unsigned)getpid() & 0xffffu,
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000), dot);
	return n < 0 || (size_t)n >= cap ? KD_EOVERFLOW : KD_OK;
}

static int log_open(struct kd_session *s, struct kd_cmdctx *c, bool append)
{
	bool stamp = false;
	char path[sizeof(s->out.log_path)];
	struct kd_args a;
	const char *at;
	char *name;
	FILE *f;
	int rc, opt;

	kd_args_init(&a, s, c);
	kd_args_skip(&a);
	/* Options are one letter: "/t" followed by a blank ("/tmp/x" is a
	 * file name). */
	at = a.p;
	while ((opt = kd_args_take_option(&a, "/-", NULL,
					  KD_ARGS_OPT_ALPHA |
						  KD_ARGS_OPT_ALONE)) != 0) {
		opt = tolower(opt);
		if (opt == 't' && !append) {
			stamp = true;
		} else if (opt == 'u') {
			/* Unicode logs: the text is written as UTF-8. */
		} else {
			return kd_args_error_at(&a, at);
		}
		kd_args_skip(&a);
		at = a.p;
	}
	if (s->sandbox)
		return kd_fail(s, KD_ENOTSUP,
			       "Log files are disabled in this session");
	name = take_path(&a);
	if (!name) {
		name = cmd_misc_strndup("Dbgeng.log", 10);
		if (!name)
			return kd_fail(s, KD_ENOMEM, "Out of memory");
	}
	if (stamp) {
		rc = log_stamp(name, path, sizeof(path));
	} else if (strlen(name) < sizeof(path)) {
		memcpy(path, name, strlen(name) + 1);
		rc = KD_OK;
	} else {
		rc = KD_EOVERFLOW;
	}
	kd_free(name);
	if (rc < 0)
		return kd_fail(s, rc, "Log file name is too long");
	log_close(s, true);
	f = fopen(path, append ? "a" : "w");
	if (!f)
		return kd_fail(s, KD_ERROR, "Unable to open log file '%s', %s",
			       path, strerror(errno));
	s->out.log = f;
	memcpy(s->out.log_path, path, strlen(path) + 1);
	kd_out(s, "Opened log file '%s'\n", path);
	return KD_OK;
}

void kd_session_log_command(struct kd_session *s, const char *line)
{
	if (!s->out.log)
		return;
	fprintf(s->out.log, "%s%s\n", kd_session_prompt(s), line);
	fflush(s->out.log);
}

static int cmd_logopen(struct kd_session *s, struct kd_cmdctx *c)
{
	return log_open(s, c, false);
}

static int cmd_logappend(struct kd_session *s, struct kd_cmdctx *c)
{
	return log_open(s, c, true);
}

static int cmd_logclose(struct kd_session *s, struct kd_cmdctx *c)
{
	(void)c;
	if (!s->out.log) {
		kd_out(s, "No log file open\n");
		return KD_OK;
	}
	log_close(s, true);
	return KD_OK;
}

static int cmd_logfile(struct kd_session *s, struct kd_cmdctx *c)
{
	(void)c;
	if (s->out.log)
		kd_out(s, "Log '%s' open\n", s->out.log_path);
	else
		kd_out(s, "No log file open\n");
	return KD_OK;
}

/* ------------------------------------------------------------------ */
/* Scripts                                                             */
/* ------------------------------------------------------------------ */

/* Read a whole script file (bounded) into a NUL-terminated heap buffer. */
static int script_read(struct kd_session *s, const char *path, char **out)
{
	FILE *f;
	char *buf;
	size_t len = 0, cap = 4096;

	*out = NULL;
	f = fopen(path, "r");
	if (!f)
		return kd_fail(s, KD_ENOTFOUND,
			       "Unable to open script file '%s', %s", path,
			       strerror(errno));
	buf = kd_malloc(cap);
	if (!buf) {
		fclose(f);
		return kd_fail(s, KD_ENOMEM, "Out of memory");
	}
	for (;;) {
		size_t n;

		if (len + 1 >= cap) {
			char *nb;

			if (cap >= KD_SCRIPT_MAX_BYTES) {
				kd_free(buf);
				fclose(f);
				return kd_fail(s, KD_EOVERFLOW,
					       "Script file '%s' is larger "
					       "than %u bytes",
					       path, KD_SCRIPT_MAX_BYTES);
			}
			nb = kd_realloc(buf, cap * 2);
			if (!nb) {
				kd_free(buf);
				fclose(f);
				return kd_fail(s, KD_ENOMEM, "Out of memory");
			}
			buf = nb;
			cap *= 2;
		}
		n = fread(buf + len, 1, cap - 1 - len, f);
		if (n == 0)
			break;
		len += n;
	}
	fclose(f);
	buf[len] = '\0';
	/* A NUL inside the file ends the script there. */
	*out = buf;
	return KD_OK;
}

/*
 * Replace ${$arg1}..${$argN} by the arguments; missing ones stay as
 * written.  Returns a new heap string.
 */
static char *script_subst(const char *text, int argc, char **argv)
{
	static const char tok[] = "${$arg";
	size_t cap = strlen(text) + 1, len = 0;
	const char *p = text;
	char *out;

	out = kd_malloc(cap);
	if (!out)
		return NULL;
	while (*p) {
		const char *add = p;
		size_t add_len = 1, skip = 1;

		if (strncmp(p, tok, sizeof(tok) - 1) == 0 &&
		    isdigit((unsigned char)p[sizeof(tok) - 1])) {
			const char *q = p + sizeof(tok) - 1;
			unsigned long n = 0;

			while (isdigit((unsigned char)*q) && n < 100000)
				n = n * 10 + (unsigned long)(*q++ - '0');
			if (*q == '}' && n >= 1 && n <= (unsigned long)argc) {
				add = argv[n - 1];
				add_len = strlen(add);
				skip = (size_t)(q + 1 - p);
			}
		}
		if (len + add_len + 1 > cap) {
			char *nb;

			cap = (len + add_len + 1) * 2;
			nb = kd_realloc(out, cap);
			if (!nb) {
				kd_free(out);
				return NULL;
			}
			out = nb;
		}
		memcpy(out + len, add, add_len);
		len += add_len;
		p += skip;
	}
	out[len] = '\0';
	return out;
}

/* True for a line that is blank or only a `*` comment. */
static bool script_line_skips(const char *line, size_t len)
{
	size_t i = 0;

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	return i == len || line[i] == '*';
}

/* Does the line (blanks skipped) start with .else / .elsif? */
static bool script_line_continues(const char *line, size_t len)
{
	size_t i = 0;

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (len - i < 5 || strncmp(line + i, ".else", 5) != 0)
		return false;
	if (len - i >= 6 && strncmp(line + i, ".elsif", 6) == 0)
		return true;
	return len - i == 5 || !isalnum((unsigned char)line[i + 5]);
}

/*
 * Block mode: the whole file as one command line.  Newlines become `;`
 * except before a line starting with .else/.elsif (so `}` and `.else`
 * may sit on separate lines); blank lines and whole-line `*` comments
 * are dropped (a `*` comment would otherwise swallow the rest of the
 * block).
 */
static char *script_join(const char *text)
{
	size_t cap = strlen(text) + 2, len = 0;
	const char *p = text;
	char *out = kd_malloc(cap);

	if (!out)
		return NULL;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		size_t tl = trimmed_len(p, l);

		if (!script_line_skips(p, tl)) {
			if (len > 0)
				out[len++] = script_line_continues(p, tl) ?
						     ' ' :
						     ';';
			memcpy(out + len, p, tl);
			len += tl;
		}
		p += l;
		if (*p == '\n')
			p++;
	}
	out[len] = '\0';
	return out;
}

/* Echo @p len bytes at @p cmd after the prompt, as WinDbg does. */
static void script_echo(struct kd_session *s, const char *cmd, size_t len)
{
	const char *p = kd_skip_blanks(cmd);

	len -= (size_t)(p - cmd);
	len = trimmed_len(p, len);
	kd_out(s, "%s%.*s\n", kd_session_prompt(s), (int)len, p);
}

/* Run one line of a script (or the joined block), echoing commands. */
static int script_line(struct kd_session *s, const char *line, bool echo)
{
	const char *p = line;
	int first = KD_OK;

	if (!echo)
		return run_nested(s, line);
	while (*p && !s->quit && !s->interrupt) {
		const char *next;
		size_t len;
		int rc;

		len = kd_cmd_next(p, &next);
		if (kd_skip_blanks(p) < p + len) {
			script_echo(s, p, len);
			rc = run_nested_n(s, p, len);
			if (rc < 0 && first == KD_OK)
				first = rc;
		}
		p = next;
	}
	return first;
}

int kd_script_run(struct kd_session *s, const char *path, bool block, int argc,
		  char **argv, bool echo)
{
	char *text = NULL, *work, *p;
	int rc, first = KD_OK;

	if (s->sandbox)
		return kd_fail(s, KD_ENOTSUP,
			       "Script files are disabled in this session");
	if (s->script.script_depth >= KD_SCRIPT_MAX_DEPTH)
		return kd_fail(s, KD_EOVERFLOW,
			       "Script files nest too deeply (%d levels)",
			       KD_SCRIPT_MAX_DEPTH);
	rc = script_read(s, path, &text);
	if (rc < 0)
		return rc;
	work = text;
	if (argc > 0) {
		work = script_subst(text, argc, argv);
		kd_free(text);
		if (!work)
			return kd_fail(s, KD_ENOMEM, "Out of memory");
	}
	s->script.script_depth++;
	if (block) {
		char *joined = script_join(work);

		if (!joined) {
			first = kd_fail(s, KD_ENOMEM, "Out of memory");
		} else {
			first = script_line(s, joined, echo);
			kd_free(joined);
		}
	} else {
		p = work;
		while (*p && !s->quit && !s->interrupt) {
			char *nl = strchr(p, '\n');
			size_t l = nl ? (size_t)(nl - p) : strlen(p);
			size_t tl = trimmed_len(p, l);

			p[tl] = '\0';
			if (kd_skip_blanks(p)[0] != '\0') {
				rc = script_line(s, p, echo);
				if (rc < 0 && first == KD_OK)
					first = rc;
			}
			p += l;
			if (nl)
				p++;
		}
	}
	s->script.script_depth--;
	kd_free(work);
	return first;
}

/*
 * `$$<file` and friends.  The name as matched tells the form: `>` runs
 * the file as one block, `a` takes arguments (and does not echo).
 */
static int cmd_script(struct kd_session *s, struct kd_cmdctx *c)
{
	bool block = strchr(c->name, '>') != NULL;
	bool args = strchr(c->name, 'a') != NULL;
	char *argv[KD_SCRIPT_MAX_ARGS];
	unsigned long before = s->failures;
	int argc = 0, rc, i;
	char *path;

	struct kd_args a;

	kd_args_init(&a, s, c);
	if (args) {
		path = take_word(&a);
		while (path && argc < KD_SCRIPT_MAX_ARGS) {
			char *w = take_word(&a);

			if (!w)
				break;
			argv[argc++] = w;
		}
	} else {
		path = take_path(&a);
	}
	if (!path) {
		rc = kd_args_error_eol(&a);
	} else {
		rc = kd_script_run(s, path, block, argc, argv, !args);
		rc = nested_result(s, before, rc);
	}
	for (i = 0; i < argc; i++)
		kd_free(argv[i]);
	kd_free(path);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Control flow: .if/.elsif/.else, j, .block                           */
/* ------------------------------------------------------------------ */

/* Does @p p start with the word @p w (not followed by a word char)? */
static bool word_at(const char *p, const char *w)
{
	size_t n = strlen(w);

	return strncmp(p, w, n) == 0 &&
	       !(isalnum((unsigned char)p[n]) || p[n] == '_');
}

/*
 * Evaluate the condition at the cursor (`(expr)` or a bare expression
 * before `{`), leaving the cursor after it.  When @p eval is false the
 * condition is only skipped.
 */
static int ctl_cond(struct kd_args *a, bool eval, bool *truth)
{
	uint64_t v = 0;
	int rc;

	*truth = false;
	kd_args_skip(a);
	if (kd_args_peek(a) == '{' || kd_args_at_end(a))
		return kd_args_error(a);
	if (!eval) {
		if (kd_args_peek(a) == '(') {
			const char *e = match_close(a->p);

			if (!e)
				return kd_args_error_eol(a);
			a->p = e + 1;
		} else {
			const char *e = strchr(a->p, '{');

			a->p = e ? e : a->p + strlen(a->p);
		}
		return KD_OK;
	}
	rc = kd_args_take_expr(a, &v);
	if (rc < 0)
		return rc;
	*truth = v != 0;
	return KD_OK;
}

/* The `{ ... }` body at the cursor: start and length of its inside. */
static int ctl_body(struct kd_args *a, const char **body, size_t *len)
{
	const char *e;

	*body = ""; /* written on failure too */
	*len = 0;
	kd_args_skip(a);
	if (kd_args_peek(a) != '{')
		return kd_args_error(a);
	e = match_close(a->p);
	if (!e)
		return kd_args_error_eol(a);
	*body = a->p + 1;
	*len = (size_t)(e - a->p - 1);
	a->p = e + 1;
	return KD_OK;
}

static int cmd_if(struct kd_session *s, struct kd_cmdctx *c)
{
	const char *chosen = NULL;
	size_t chosen_len = 0;
	bool have_cond = true;
	unsigned long before;
	struct kd_args a;
	int rc;

	kd_args_init(&a, s, c);
	for (;;) {
		const char *body;
		size_t len;
		bool truth = true;

		if (have_cond) {
			rc = ctl_cond(&a, chosen == NULL, &truth);
			if (rc < 0)
				return rc;
		}
		rc = ctl_body(&a, &body, &len);
		if (rc < 0)
			return rc;
		if (!chosen && truth) {
			chosen = body;
			chosen_len = len;
		}
		kd_args_skip(&a);
		if (kd_args_at_end(&a))
			break;
		if (!have_cond) /* nothing may follow .else { } */
			return kd_args_error(&a);
		if (word_at(a.p, ".elsif")) {
			kd_args_advance(&a, 6);
		} else if (word_at(a.p, ".else")) {
			kd_args_advance(&a, 5);
			have_cond = false;
		} else {
			return kd_args_error(&a);
		}
	}
	if (!chosen)
		return KD_OK;
	before = s->failures;
	rc = run_nested_n(s, chosen, chosen_len);
	return nested_result(s, before, rc);
}

/* .elsif / .else without their .if. */
static int cmd_else(struct kd_session *s, struct kd_cmdctx *c)
{
	struct kd_args a;

	kd_args_init(&a, s, c);
	return kd_args_error_at(&a, a.line);
}

static int cmd_block(struct kd_session *s, struct kd_cmdctx *c)
{
	const char *body;
	unsigned long before;
	struct kd_args a;
	size_t len;
	int rc;

	kd_args_init(&a, s, c);
	rc = ctl_body(&a, &body, &len);
	if (rc < 0)
		return rc;
	rc = kd_args_end(&a);
	if (rc < 0)
		return rc;
	before = s->failures;
	rc = run_nested_n(s, body, len);
	return nested_result(s, before, rc);
}

/*
 * One branch of `j` at the cursor: a 'quoted' command list, or text up
 * to the next top-level `;` (@p to_end: the whole rest).
 */
static int j_branch(struct kd_args *a, bool to_end, const char **start,
		    size_t *len)
{
	kd_args_skip(a);
	if (kd_args_peek(a) == '\'') {
		const char *e = match_close(a->p);

		if (!e)
			return kd_args_error_eol(a);
		*start = a->p + 1;
		*len = (size_t)(e - a->p - 1);
		a->p = e + 1;
		return KD_OK;
	}
	*start = a->p;
	if (to_end) {
		*len = strlen(a->p);
	} else {
		const char *next;

		*len = kd_cmd_split(a->p, &next);
	}
	a->p += *len;
	return KD_OK;
}

static int cmd_j(struct kd_session *s, struct kd_cmdctx *c)
{
	const char *b1 = "", *b2 = "", *rest = "";
	size_t l1 = 0, l2 = 0;
	unsigned long before;
	struct kd_args a;
	uint64_t v = 0;
	int rc;

	kd_args_init(&a, s, c);
	if (kd_args_at_end(&a))
		return kd_args_error(&a);
	rc = kd_args_take_expr(&a, &v);
	if (rc < 0)
		return rc;
	rc = j_branch(&a, false, &b1, &l1);
	if (rc < 0)
		return rc;
	kd_args_skip(&a);
	if (kd_args_peek(&a) == ';') {
		kd_args_advance(&a, 1);
		rc = j_branch(&a, true, &b2, &l2);
		if (rc < 0)
			return rc;
		/* After a quoted second branch, more commands may follow. */
		kd_args_skip(&a);
		if (kd_args_peek(&a) == ';')
			kd_args_advance(&a, 1);
		rest = a.p;
	} else if (!kd_args_at_end(&a)) {
		return kd_args_error(&a);
	}
	before = s->failures;
	rc = v ? run_nested_n(s, b1, l1) : run_nested_n(s, b2, l2);
	if (*kd_skip_blanks(rest) != '\0' && !s->quit && !s->interrupt) {
		int rc2 = run_nested(s, rest);

		if (rc == KD_OK)
			rc = rc2;
	}
	return nested_result(s, before, rc);
}

/* ------------------------------------------------------------------ */
/* .help                                                               */
/* ------------------------------------------------------------------ */

static int cmd_help(struct kd_session *s, struct kd_cmdctx *c)
{
	const struct kd_command_group *groups = kd_cmd__groups();
	const char *want;
	size_t want_len, g;
	bool any = false;
	struct kd_args a;

	kd_args_init(&a, s, c);
	kd_args_skip(&a);
	kd_args_take_rest(&a, KD_ARGS_CRLF, &want, &want_len);

	for (g = 0; groups[g].table; g++) {
		const struct kd_command *cmd;
		bool title = false;

		for (cmd = groups[g].table; cmd->name; cmd++) {
			if (want_len &&
			    (strlen(cmd->name) < want_len ||
			     strncmp(cmd->name, want, want_len) != 0))
				continue;
			if (!title && !want_len) {
				kd_out(s, "%s%s:\n", any ? "\n" : "",
				       groups[g].title);
				title = true;
			}
			kd_out(s, "  %-14s %s\n", cmd->name,
			       cmd->help ? cmd->help : "");
			any = true;
		}
	}
	if (!any)
		return kd_fail(s, KD_ENOTFOUND, "No command matches '%.*s'",
			       (int)want_len, want);
	return KD_OK;
}

const struct kd_command kd_cmds_misc[] = {
	{ ".echo", cmd_echo, 0, ".echo text: print the text" },
	{ ".cls", cmd_cls, 0, "clear the screen" },
	{ ".logopen", cmd_logopen, 0,
	  ".logopen [/t] [/u] [file]: open a log file (Dbgeng.log)" },
	{ ".logappend", cmd_logappend, 0,
	  ".logappend [/u] [file]: append to a log file" },
	{ ".logclose", cmd_logclose, 0, "close the log file" },
	{ ".logfile", cmd_logfile, 0, "show the log file" },
	{ "$$", cmd_comment, KD_CMDF_PREFIX,
	  "$$ comment: ignored up to the next `;`" },
	{ "*", cmd_comment, KD_CMDF_PREFIX | KD_CMDF_REST,
	  "* comment: ignored up to the end of the line" },
	{ "$<", cmd_script, KD_CMDF_PREFIX | KD_CMDF_REST,
	  "$<file: run a script file line by line" },
	{ "$><", cmd_script, KD_CMDF_PREFIX | KD_CMDF_REST,
	  "$><file: run a script file as one block" },
	{ "$$<", cmd_script, KD_CMDF_PREFIX,
	  "$$<file: run a script file line by line" },
	{ "$$><", cmd_script, KD_CMDF_PREFIX,
	  "$$><file: run a script file as one block" },
	{ "$$>a<", cmd_script, KD_CMDF_PREFIX,
	  "$$>a<file args: run a script with ${$arg1}.. replaced" },
	{ ".if", cmd_if, 0,
	  ".if (expr) { cmds } [.elsif (expr) { cmds }] [.else { cmds }]" },
	{ ".elsif", cmd_else, 0, "see .if" },
	{ ".else", cmd_else, 0, "see .if" },
	{ ".block", cmd_block, 0, ".block { cmds }: run a block" },
	{ "j", cmd_j, KD_CMDF_REST,
	  "j expr 'cmds' ; 'cmds': run one list or the other" },
	{ ".help", cmd_help, 0, ".help [name]: list the commands" },
	{ NULL, NULL, 0, NULL },
};
