/* SPDX-License-Identifier: MIT */
/*
 * The command interpreter: splits a line at top-level `;`, finds each
 * command in the tables of the command files and runs it.  WinDbg's
 * matching rules: letters name a command and may be followed directly by
 * its arguments (`dd@rsp`, `lmvm nt`), `.` and `!` commands are whole
 * words, and `?`, `~`, `$$<` are prefixes.
 *
 * The table of every command is groups.c's, reached through a pointer
 * (kd_cmd__use_groups).  A handler gets the line and its argument text
 * (struct kd_cmdctx) and
 * reads the arguments with the cursor of args.h: blanks, options,
 * quoted strings, expressions, ranges and the end, with each syntax
 * error's caret where WinDbg puts it.  A new command does the same
 * rather than walking the text by hand.
 */
#include <ctype.h>
#include <string.h>

#include "cmd/args.h"
#include "core/engine_int.h"

/*
 * The command table (groups.c) as api/session.c handed it over: found
 * through this pointer, never by name, because groups.c names every
 * handler file's table and the handlers call this file (to run a line,
 * a script, breakpoint commands); naming it back would make the whole
 * folder one call cycle.  Empty until wired.
 */
static const struct kd_command_group no_groups[] = { { NULL, NULL } };
static const struct kd_command_group *groups = no_groups;

void kd_cmd__use_groups(const struct kd_command_group *g)
{
	groups = g;
}

const struct kd_command_group *kd_cmd__groups(void)
{
	return groups;
}

size_t kd_cmd_split(const char *text, const char **next)
{
	const char *p = text;
	char quote = 0;
	int depth = 0;

	for (; *p; p++) {
		char ch = *p;

		if (quote) {
			if (ch == '\\' && p[1] != '\0' && quote == '"')
				p++;
			else if (ch == quote)
				quote = 0;
			continue;
		}
		if (ch == '"' || ch == '\'') {
			quote = ch;
		} else if (ch == '{' || ch == '(') {
			depth++;
		} else if ((ch == '}' || ch == ')') && depth > 0) {
			depth--;
		} else if (ch == ';' && depth == 0) {
			*next = p + 1;
			return (size_t)(p - text);
		}
	}
	*next = p;
	return (size_t)(p - text);
}

/* Look @p name up exactly. */
static const struct kd_command *cmd_find(const char *name, size_t len)
{
	size_t t;

	for (t = 0; groups[t].table; t++) {
		const struct kd_command *c;

		for (c = groups[t].table; c->name; c++) {
			if (strlen(c->name) == len &&
			    strncmp(c->name, name, len) == 0)
				return c;
		}
	}
	return NULL;
}

/* The longest KD_CMDF_PREFIX command that @p word starts with. */
static const struct kd_command *cmd_find_prefix(const char *word, size_t len)
{
	const struct kd_command *best = NULL;
	size_t best_len = 0;
	size_t t;

	for (t = 0; groups[t].table; t++) {
		const struct kd_command *c;

		for (c = groups[t].table; c->name; c++) {
			size_t n = strlen(c->name);

			if (!(c->flags & KD_CMDF_PREFIX) || n > len ||
			    n <= best_len)
				continue;
			if (strncmp(c->name, word, n) == 0) {
				best = c;
				best_len = n;
			}
		}
	}
	return best;
}

/*
 * Find the command at the start of @p p (blanks skipped).  *name_len is
 * the length of the name as matched in the text.
 */
static const struct kd_command *cmd_match(const char *p, size_t *name_len)
{
	const struct kd_command *c;
	size_t n = 0;

	if (p[0] == '$' || p[0] == '?' || p[0] == '~' || p[0] == '*') {
		/* Symbol-led prefixes: the longest table name that matches. */
		size_t len = strlen(p);

		c = cmd_find_prefix(p, len);
		if (c)
			*name_len = strlen(c->name);
		return c;
	}
	if (p[0] == '.' || p[0] == '!') {
		n = 1;
		while (isalnum((unsigned char)p[n]) || p[n] == '_')
			n++;
		*name_len = n;
		return cmd_find(p, n);
	}
	while (isalpha((unsigned char)p[n]))
		n++;
	if (n == 0)
		return NULL;
	c = cmd_find(p, n);
	if (c) {
		*name_len = n;
		return c;
	}
	c = cmd_find_prefix(p, n);
	if (c)
		*name_len = strlen(c->name);
	return c;
}

/*
 * The line for a request that failed without the target saying no, in
 * WinDbg's words: Win32 error 0n1460 is ERROR_TIMEOUT ("the timeout
 * period expired"); anything else is the generic E_FAIL.  @p why is the
 * reason the link or the live target gave.
 */
static const char *request_error_text(int code, const char *why, char *buf,
				      size_t cap)
{
	if (code == KD_ETIMEOUT)
		snprintf(buf, cap,
			 "Target request failed - Win32 error "
			 "0n1460 (timeout): %s",
			 why);
	else
		snprintf(buf, cap,
			 "Target request failed - HRESULT "
			 "0x80004005 (%s): %s",
			 kd_strerror(code), why);
	return buf;
}

int kd_cmd_run_one(struct kd_session *s, const char *cmd)
{
	const struct kd_command *c;
	struct kd_cmdctx ctx;
	const char *p = cmd;
	char name[64];
	char ebuf[320];
	size_t name_len = 0;
	int saved_err;
	int rc;

	p = kd_skip_blanks(p);
	if (*p == '\0')
		return KD_OK;
	c = cmd_match(p, &name_len);
	if (!c) {
		if (p[0] == '!') {
			size_t n = 1;

			while (p[n] && !isspace((unsigned char)p[n]))
				n++;
			return kd_fail(s, KD_ENOTFOUND, "No export %.*s found",
				       (int)(n - 1), p + 1);
		}
		return kd_syntax_error(s, cmd, (size_t)(p - cmd));
	}
	if ((c->flags & KD_CMDF_STOPPED) && kd_require_stopped(s) != KD_OK)
		return KD_EINVAL;
	if (name_len >= sizeof(name))
		name_len = sizeof(name) - 1;
	memcpy(name, p, name_len);
	name[name_len] = '\0';
	ctx.line = cmd;
	ctx.name = name;
	ctx.args = kd_skip_blanks(p + name_len);
	saved_err = s->cmd.target_err;
	s->cmd.target_err = 0;
	s->cmd.cmd_depth++;
	rc = c->fn(s, &ctx);
	s->cmd.cmd_depth--;
	if (s->cmd.target_err) {
		/* Nothing the target did not say is shown as data: the
		 * command stopped where the request failed; say why. */
		rc = kd_fail(s, s->cmd.target_err, "%s",
			     request_error_text(s->cmd.target_err,
						s->cmd.target_err_msg, ebuf,
						sizeof(ebuf)));
	}
	s->cmd.target_err = saved_err;
	return rc;
}

/* True when the command at @p p takes the rest of the line. */
static bool cmd_takes_rest(const char *p)
{
	const struct kd_command *c;
	size_t n;

	p = kd_skip_blanks(p);
	c = cmd_match(p, &n);
	return c && (c->flags & KD_CMDF_REST);
}

size_t kd_cmd_next(const char *text, const char **next)
{
	size_t len;

	if (cmd_takes_rest(text)) {
		len = strlen(text);
		*next = text + len;
		return len;
	}
	return kd_cmd_split(text, next);
}

int kd_session_execute(struct kd_session *s, const char *line)
{
	const char *p = line;
	int first_rc = KD_OK;
	char *expanded = NULL;

	s->interrupt = 0;
	/* Aliases are replaced when a line (or a block) is parsed, so an
	 * alias set on this line applies in a later .block only. */
	if (s->hooks.alias_expand &&
	    s->hooks.alias_expand(s, line, &expanded) < 0) {
		s->failures++;
		return KD_EOVERFLOW;
	}
	if (expanded)
		p = expanded;
	while (*p && !s->quit) {
		const char *next;
		size_t len;
		char *one;
		int rc;

		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (*p == '\0')
			break;
		len = kd_cmd_next(p, &next);
		one = kd_malloc(len + 1);
		if (!one) {
			kd_free(expanded);
			return KD_ENOMEM;
		}
		memcpy(one, p, len);
		one[len] = '\0';
		rc = kd_cmd_run_one(s, one);
		kd_free(one);
		if (rc < 0) {
			s->failures++;
			if (first_rc == KD_OK)
				first_rc = rc;
		}
		/* Ctrl+C, or a .break/.continue leaving this body. */
		if (s->interrupt || s->script.loop_ctl)
			break;
		p = next;
	}
	kd_free(expanded);
	return first_rc;
}
