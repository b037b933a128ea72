/* SPDX-License-Identifier: MIT */
/*
 * The argument cursor (args.h): one place for the blank skipping, option,
 * quoting, expression, range and end-of-arguments rules the command
 * handlers share, and for the caret positions of their syntax errors.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/args.h"

static bool args_is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

void kd_args_init(struct kd_args *a, struct kd_session *s,
		  const struct kd_cmdctx *c)
{
	a->s = s;
	a->line = c->line;
	a->p = c->args;
	/* The dispatcher skipped the blanks after the name: a blank just
	 * before the arguments means there were some (`k 5` vs `kb`). */
	a->glued = !(c->args > c->line && args_is_blank(c->args[-1]));
}

void kd_args_init_text(struct kd_args *a, struct kd_session *s,
		       const char *line, const char *at)
{
	a->s = s;
	a->line = line;
	a->p = at;
	a->glued = !(at > line && args_is_blank(at[-1]));
}

const char *kd_skip_blanks(const char *p)
{
	while (args_is_blank(*p))
		p++;
	return p;
}

void kd_args_skip(struct kd_args *a)
{
	while (args_is_blank(*a->p))
		a->p++;
}

void kd_args_skip_also(struct kd_args *a, const char *also)
{
	while (*a->p && (args_is_blank(*a->p) || strchr(also, *a->p)))
		a->p++;
}

bool kd_args_at_end(const struct kd_args *a)
{
	return *a->p == '\0';
}

bool kd_args_blank_rest(const struct kd_args *a)
{
	const char *p = a->p;

	while (args_is_blank(*p))
		p++;
	return *p == '\0';
}

bool kd_args_at_word_end(const struct kd_args *a)
{
	return *a->p == '\0' || args_is_blank(*a->p);
}

char kd_args_peek(const struct kd_args *a)
{
	return *a->p;
}

char kd_args_peek_at(const struct kd_args *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a->p[i] == '\0')
			return '\0';
	return a->p[n];
}

size_t kd_args_offset(const struct kd_args *a)
{
	return (size_t)(a->p - a->line);
}

void kd_args_advance(struct kd_args *a, size_t n)
{
	while (n-- > 0 && *a->p)
		a->p++;
}

int kd_args_error(struct kd_args *a)
{
	return kd_syntax_error(a->s, a->line, (size_t)(a->p - a->line));
}

int kd_args_error_at(struct kd_args *a, const char *at)
{
	return kd_syntax_error(a->s, a->line, (size_t)(at - a->line));
}

int kd_args_error_eol(struct kd_args *a)
{
	return kd_syntax_error(a->s, a->line, strlen(a->line));
}

int kd_args_end(struct kd_args *a)
{
	kd_args_skip(a);
	if (*a->p)
		return kd_args_error(a);
	return KD_OK;
}

bool kd_args_take_word(struct kd_args *a, const char **word, size_t *len)
{
	const char *p = a->p;

	while (*p && !args_is_blank(*p))
		p++;
	if (p == a->p)
		return false;
	*word = a->p;
	*len = (size_t)(p - a->p);
	a->p = p;
	return true;
}

int kd_args_take_option(struct kd_args *a, const char *leads,
			const char *letters, unsigned flags)
{
	const char *p = a->p;
	char opt;

	if (*p == '\0' || !strchr(leads, *p))
		return 0;
	opt = p[1];
	if (opt == '\0' || (letters && !strchr(letters, opt)))
		return 0;
	if ((flags & KD_ARGS_OPT_ALPHA) && !isalpha((unsigned char)opt))
		return 0;
	if ((flags & KD_ARGS_OPT_BLANK) && !args_is_blank(p[2]))
		return 0;
	if ((flags & KD_ARGS_OPT_ALONE) && !args_is_blank(p[2]) && p[2] != '\0')
		return 0;
	a->p = p + 2;
	return (unsigned char)opt;
}

int kd_args_take_quoted(struct kd_args *a, unsigned flags, const char **text,
			size_t *len)
{
	const char *open = a->p;
	const char *p = open + 1;

	if (*open != '"')
		return kd_args_error(a);
	while (*p && *p != '"') {
		if ((flags & KD_ARGS_Q_ESCAPES) && p[0] == '\\' && p[1] == '"')
			p++;
		p++;
	}
	if (*p != '"' && !(flags & KD_ARGS_Q_OPEN))
		return kd_args_error(a);
	*text = open + 1;
	*len = (size_t)(p - open - 1);
	a->p = *p ? p + 1 : p;
	return KD_OK;
}

char *kd_args_unescape(const char *text, size_t len)
{
	char *out = kd_malloc(len + 1);
	size_t i, n = 0;

	if (!out)
		return NULL;
	for (i = 0; i < len; i++) {
		/* \" and \\ as in C: `bp a ".printf \"x\\n\""` gives
		 * .printf its own \n. */
		if (text[i] == '\\' && i + 1 < len &&
		    (text[i + 1] == '"' || text[i + 1] == '\\'))
			i++;
		out[n++] = text[i];
	}
	out[n] = '\0';
	return out;
}

int kd_args_take_group(struct kd_args *a, char open, char close)
{
	const char *end;

	if (*a->p != open || open == '\0')
		return 0;
	end = strchr(a->p, close);
	if (!end || close == '\0')
		return kd_args_error(a);
	a->p = end + 1;
	return 1;
}

void kd_args_take_rest(struct kd_args *a, unsigned flags, const char **text,
		       size_t *len)
{
	const char *p = a->p;
	size_t n = strlen(p);

	while (n > 0 && (args_is_blank(p[n - 1]) ||
			 ((flags & KD_ARGS_CRLF) &&
			  (p[n - 1] == '\r' || p[n - 1] == '\n'))))
		n--;
	if ((flags & KD_ARGS_Q_STRIP) && n >= 2 && p[0] == '"' &&
	    p[n - 1] == '"') {
		p++;
		n -= 2;
	}
	*text = p;
	*len = n;
	a->p += strlen(a->p);
}

bool kd_args_take_number(struct kd_args *a, int base, unsigned long *v)
{
	char *end;
	unsigned long n = strtoul(a->p, &end, base);

	if (end == a->p)
		return false;
	*v = n;
	a->p = end;
	return true;
}

int kd_args_take_expr(struct kd_args *a, uint64_t *value)
{
	return kd_expr_arg(a->s, a->line, &a->p, value);
}

int kd_args_take_range(struct kd_args *a, unsigned unit, uint64_t *addr,
		       uint64_t *count, bool *have_addr)
{
	return kd_range_arg(a->s, a->line, &a->p, unit, addr, count, have_addr);
}
