/* SPDX-License-Identifier: MIT */
/*
 * WinDbg's scripting commands (kernel-commands.md §6): aliases (as, aS,
 * al, ad and their replacement when a line is parsed), .printf, and the
 * loops .for, .while, .do, .foreach with .break and .continue.
 *
 * Everything is bounded: alias count and value length, the length of a
 * line after replacement (one pass, so an alias naming itself cannot
 * loop), .printf output, captured command output, and loop iterations
 * (a runaway loop stops with an error line, Ctrl+C stops it sooner).
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/args.h"
#include "core/engine_int.h"
#include "sym/sym_int.h" /* kd_sym_line for %ly */

#define ALIAS_MAX 256
#define ALIAS_NAME_MAX 64
#define ALIAS_VALUE_MAX 8192
#define LINE_MAX_BYTES (64u << 10) /* a line after alias replacement */
#define PRINTF_MAX 16384	   /* one .printf's output */
#define PRINTF_ARGS_MAX 32
#define PRINTF_FIELD_MAX 1024 /* width and precision */
#define STRING_MAX 4096	      /* %ma / %mu characters read */
#define CAPTURE_MAX (1u << 20)
#define LOOP_MAX 100000u
#define CTL_MAX_DEPTH 64

struct kd_alias {
	char name[ALIAS_NAME_MAX];
	char *value;
};

/* ------------------------------------------------------------------ */
/* Growing text buffers                                                */
/* ------------------------------------------------------------------ */

struct sbuf {
	char *p;
	size_t len, cap, max;
	bool over; /* something did not fit under max */
};

static void sb_add(struct sbuf *b, const char *t, size_t n)
{
	if (b->over)
		return;
	if (b->len + n + 1 > b->max) {
		b->over = true;
		return;
	}
	if (!b->p || b->len + n + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 256;
		char *np;

		while (ncap < b->len + n + 1)
			ncap *= 2;
		np = kd_realloc(b->p, ncap);
		if (!np) {
			b->over = true;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	if (n > 0)
		memcpy(b->p + b->len, t, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_addc(struct sbuf *b, char c)
{
	sb_add(b, &c, 1);
}

static char *dup_n(const char *p, size_t len)
{
	char *d = kd_malloc(len + 1);

	if (!d)
		return NULL;
	memcpy(d, p, len);
	d[len] = '\0';
	return d;
}

/* ------------------------------------------------------------------ */
/* Nested runs and captured output                                     */
/* ------------------------------------------------------------------ */

/* Run @p len bytes at @p p as commands; the failures they count stay
 * counted once (see cmd_misc.c's nested_result). */
static int run_body(struct kd_session *s, const char *p, size_t len)
{
	unsigned long before = s->failures;
	char *copy;
	int rc;

	if (s->interrupt)
		return KD_ETIMEOUT;
	if (s->script.ctl_depth >= CTL_MAX_DEPTH)
		return kd_fail(s, KD_EOVERFLOW,
			       "Command nesting is too deep (%d levels)",
			       CTL_MAX_DEPTH);
	copy = dup_n(p, len);
	if (!copy)
		return kd_fail(s, KD_ENOMEM, "Out of memory");
	s->script.ctl_depth++;
	rc = kd_session_execute(s, copy);
	s->script.ctl_depth--;
	kd_free(copy);
	if (rc < 0 && s->failures > before)
		s->failures--;
	return rc;
}

static void capture_sink(void *ctx, const char *text, size_t len)
{
	sb_add(ctx, text, len);
}

/*
 * Run @p len bytes of commands with their output kept in @p b instead
 * of shown (.foreach's InCommands, as /c).  When they fail, what they
 * printed (the error lines) is shown after all.
 */
static int run_captured(struct kd_session *s, const char *p, size_t len,
			struct sbuf *b)
{
	kd_output_fn fn = s->out.out_fn;
	void *ctx = s->out.out_ctx;
	FILE *log = s->out.log;
	int rc;

	b->max = CAPTURE_MAX;
	s->out.out_fn = capture_sink;
	s->out.out_ctx = b;
	s->out.log = NULL;
	rc = run_body(s, p, len);
	s->out.out_fn = fn;
	s->out.out_ctx = ctx;
	s->out.log = log;
	if (rc < 0 && b->len)
		kd_out_raw(s, b->p, b->len);
	else if (rc >= 0 && b->over)
		rc = kd_fail(s, KD_EOVERFLOW,
			     "Command output is longer than %u bytes",
			     CAPTURE_MAX);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Aliases                                                             */
/* ------------------------------------------------------------------ */

static void aliases_free(struct kd_session *s)
{
	size_t i;

	for (i = 0; i < s->script.naliases; i++)
		kd_free(s->script.aliases[i].value);
	kd_free(s->script.aliases);
	s->script.aliases = NULL;
	s->script.naliases = 0;
	for (i = 0; i < 10; i++) {
		kd_free(s->script.fixed[i]);
		s->script.fixed[i] = NULL;
	}
}

static bool name_ch(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '$';
}

static struct kd_alias *alias_find(struct kd_session *s, const char *name,
				   size_t len)
{
	size_t i;

	for (i = 0; i < s->script.naliases; i++) {
		struct kd_alias *a = &s->script.aliases[i];

		if (strlen(a->name) == len && memcmp(a->name, name, len) == 0)
			return a;
	}
	return NULL;
}

/* A valid user alias name: not too long, no blank, and not starting
 * with al, as, aS, ad (which would read as those commands). */
static bool alias_name_ok(const char *name, size_t len)
{
	size_t i;

	if (len == 0 || len >= ALIAS_NAME_MAX)
		return false;
	if (len >= 2 && name[0] == 'a' && strchr("lsSd", name[1]))
		return false;
	for (i = 0; i < len; i++) {
		if (isspace((unsigned char)name[i]) || name[i] == ';' ||
		    name[i] == '{' || name[i] == '}' || name[i] == '"')
			return false;
	}
	return true;
}

static int alias_set(struct kd_session *s, const char *name, size_t len,
		     const char *value, size_t vlen)
{
	struct kd_alias *a = alias_find(s, name, len);
	char *v;
	size_t i;

	if (vlen > ALIAS_VALUE_MAX)
		return kd_fail(s, KD_EOVERFLOW,
			       "Alias value is longer than %u characters",
			       ALIAS_VALUE_MAX);
	v = dup_n(value, vlen);
	if (!v)
		return kd_fail(s, KD_ENOMEM, "Out of memory");
	if (a) {
		kd_free(a->value);
		a->value = v;
		return KD_OK;
	}
	if (s->script.naliases >= ALIAS_MAX) {
		kd_free(v);
		return kd_fail(s, KD_EOVERFLOW, "Too many aliases (%u)",
			       ALIAS_MAX);
	}
	if (!s->script.aliases) {
		s->script.aliases = kd_calloc(ALIAS_MAX,
					      sizeof(*s->script.aliases));
		if (!s->script.aliases) {
			kd_free(v);
			return kd_fail(s, KD_ENOMEM, "Out of memory");
		}
	}
	s->hooks.aliases_free = aliases_free;
	/* Sorted by name, the order al lists them in. */
	for (i = s->script.naliases; i > 0; i--) {
		struct kd_alias *prev = &s->script.aliases[i - 1];

		if (strncmp(prev->name, name, len) < 0 ||
		    (strncmp(prev->name, name, len) == 0 &&
		     strlen(prev->name) < len))
			break;
		s->script.aliases[i] = *prev;
	}
	memcpy(s->script.aliases[i].name, name, len);
	s->script.aliases[i].name[len] = '\0';
	s->script.aliases[i].value = v;
	s->script.naliases++;
	return KD_OK;
}

int kd_cmd__alias_set_fixed(struct kd_session *s, unsigned n, const char *v,
			    size_t len)
{
	char *d;

	if (n > 9)
		return KD_EINVAL;
	if (len > ALIAS_VALUE_MAX)
		return kd_fail(s, KD_EOVERFLOW,
			       "Alias value is longer than %u characters",
			       ALIAS_VALUE_MAX);
	d = dup_n(v, len);
	if (!d)
		return kd_fail(s, KD_ENOMEM, "Out of memory");
	kd_free(s->script.fixed[n]);
	s->script.fixed[n] = d;
	s->hooks.aliases_free = aliases_free;
	return KD_OK;
}

/* The as/aS/ad word at @p p (a command start): its length, or 0. */
static size_t alias_cmd_at(const char *p)
{
	if (p[0] == 'a' && (p[1] == 's' || p[1] == 'S' || p[1] == 'd') &&
	    (p[2] == ' ' || p[2] == '\t'))
		return 2;
	return 0;
}

/*
 * Copy an as/aS/ad command's options and name unreplaced (the name being
 * defined is not replaced by its old value).  Returns where to go on.
 */
static const char *copy_alias_head(struct sbuf *b, const char *p, size_t n)
{
	const char *q = p + n;

	for (;;) {
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q != '/')
			break;
		while (*q && *q != ' ' && *q != '\t' && *q != ';')
			q++;
	}
	while (*q && *q != ' ' && *q != '\t' && *q != ';')
		q++;
	sb_add(b, p, (size_t)(q - p));
	return q;
}

/* ${...} at @p p: appended to @p b; returns the characters used. */
static size_t expand_braced(struct kd_session *s, struct sbuf *b, const char *p)
{
	const char *close = strchr(p + 2, '}');
	const char *name = p + 2;
	char form = 0;
	struct kd_alias *a;
	size_t len;

	if (!close || close - p > ALIAS_NAME_MAX + 8) {
		sb_add(b, p, 2);
		return 2;
	}
	if (name[0] == '/' && name[1] && name[2] == ':') {
		form = name[1];
		name += 3;
	}
	len = (size_t)(close - name);
	a = alias_find(s, name, len);
	switch (form) {
	case 0:
		if (a)
			sb_add(b, a->value, strlen(a->value));
		else
			sb_add(b, p, (size_t)(close + 1 - p));
		break;
	case 'd':
		sb_addc(b, a ? '1' : '0');
		break;
	case 'f':
		if (a)
			sb_add(b, a->value, strlen(a->value));
		break;
	case 'n':
		if (a)
			sb_add(b, name, len);
		else
			sb_add(b, p, (size_t)(close + 1 - p));
		break;
	default: /* /v: never replaced */
		sb_add(b, p, (size_t)(close + 1 - p));
		break;
	}
	return (size_t)(close + 1 - p);
}

int kd_cmd__alias_expand(struct kd_session *s, const char *line, char **out)
{
	struct sbuf b = { NULL, 0, 0, LINE_MAX_BYTES, false };
	const char *p = line;
	bool cmd_start = true;
	bool any_fixed = false;
	char quote = 0;
	size_t i;

	*out = NULL;
	for (i = 0; i < 10; i++)
		any_fixed |= s->script.fixed[i] != NULL;
	if (s->script.naliases == 0 && !any_fixed && !strstr(line, "${"))
		return KD_OK;
	while (*p) {
		if (cmd_start) {
			size_t n;

			while (*p == ' ' || *p == '\t')
				sb_addc(&b, *p++);
			if (*p == '\0') /* blanks ended the line */
				break;
			n = alias_cmd_at(p);
			cmd_start = false;
			if (n) {
				p = copy_alias_head(&b, p, n);
				continue;
			}
		}
		if (*p == '"' && (p == line || p[-1] != '\\'))
			quote = quote ? 0 : '"';
		if (*p == ';' && !quote) {
			cmd_start = true;
			sb_addc(&b, *p++);
		} else if (p[0] == '$' && p[1] == '{') {
			p += expand_braced(s, &b, p);
		} else if (p[0] == '$' && p[1] == 'u' &&
			   isdigit((unsigned char)p[2]) &&
			   s->script.fixed[p[2] - '0']) {
			const char *v = s->script.fixed[p[2] - '0'];

			sb_add(&b, v, strlen(v));
			p += 3;
		} else if (name_ch(*p) && (p == line || !name_ch(p[-1]))) {
			size_t n = 0;
			struct kd_alias *a;

			while (name_ch(p[n]))
				n++;
			a = s->script.naliases ? alias_find(s, p, n) : NULL;
			if (a)
				sb_add(&b, a->value, strlen(a->value));
			else
				sb_add(&b, p, n);
			p += n;
		} else {
			sb_addc(&b, *p++);
		}
	}
	if (b.over) {
		kd_free(b.p);
		return kd_fail(s, KD_EOVERFLOW,
			       "Line is longer than %u characters after alias "
			       "replacement",
			       LINE_MAX_BYTES);
	}
	if (b.p && strcmp(b.p, line) == 0) {
		kd_free(b.p);
		return KD_OK;
	}
	*out = b.p ? b.p : dup_n("", 0);
	return *out ? KD_OK : KD_ENOMEM;
}

/* ---- reading strings from the target (%ma, as /ma, ...) ---- */

/* Target text is shown, never obeyed: control characters become '.'. */
static void add_safe(struct sbuf *b, unsigned cp)
{
	char u[4];

	if (cp < 0x20 || cp == 0x7f) {
		sb_addc(b, '.');
	} else if (cp < 0x80) {
		sb_addc(b, (char)cp);
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		sb_add(b, u, 2);
	} else if (cp >= 0xd800 && cp < 0xe000) {
		sb_addc(b, '?');
	} else {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		sb_add(b, u, 3);
	}
}

/*
 * The string at @p va: @p wide for UTF-16; @p count characters when
 * @p counted (a _STRING's Length), else up to the NUL.  KD_EFAULT when
 * not one character can be read.
 */
static int read_string(struct kd_session *s, uint64_t va, bool wide,
		       bool counted, size_t count, struct sbuf *b)
{
	size_t unit = wide ? 2 : 1;
	size_t i, max = counted ? count : STRING_MAX;

	if (max > STRING_MAX)
		max = STRING_MAX;
	for (i = 0; i < max; i++) {
		uint8_t c[2] = { 0, 0 };
		unsigned cp;

		if (kd_read_virtual_all(s, va + i * unit, c, unit) < 0) {
			if (i == 0 || counted)
				return KD_EFAULT;
			break;
		}
		cp = wide ? (unsigned)(c[0] | (c[1] << 8)) : c[0];
		if (cp == 0 && !counted)
			break;
		if (wide)
			add_safe(b, cp);
		else
			add_safe(b, cp < 0x80 ? cp : '?');
	}
	return KD_OK;
}

/* An ANSI_STRING / UNICODE_STRING at @p va: Length, then the Buffer
 * pointer at the target's pointer alignment. */
static int read_counted(struct kd_session *s, uint64_t va, bool wide,
			struct sbuf *b)
{
	uint8_t hdr[16];
	bool p64 = kd_is_ptr64(s);
	uint64_t buf;
	uint16_t len;

	if (kd_read_virtual_all(s, va, hdr, p64 ? 16 : 8) < 0)
		return KD_EFAULT;
	len = (uint16_t)(hdr[0] | (hdr[1] << 8));
	buf = p64 ? kd_get_le64(hdr + 8) : kd_get_le32(hdr + 4);
	if (len == 0)
		return KD_OK;
	return read_string(s, buf, wide, true, wide ? len / 2u : len, b);
}

/* ---- as, aS, ad, al ---- */

static int alias_name_arg(struct kd_args *a, const char **name, size_t *len)
{
	kd_args_skip(a);
	if (!kd_args_take_word(a, name, len))
		return kd_args_error(a);
	if (!alias_name_ok(*name, *len))
		return kd_fail(a->s, KD_EINVAL, "Invalid alias name '%.*s'",
			       (int)*len, *name);
	return KD_OK;
}

/* The rest as a plain value: one pair of quotes around it removed. */
static void alias_plain(const char *p, size_t len, const char **v, size_t *vl)
{
	while (len > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		len--;
	}
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t' ||
			   p[len - 1] == '\r' || p[len - 1] == '\n'))
		len--;
	if (len >= 2 && p[0] == '"' && p[len - 1] == '"') {
		p++;
		len -= 2;
	}
	*v = p;
	*vl = len;
}

/* A file's text (aS /f), bounded. */
static int alias_file(struct kd_session *s, const char *path, struct sbuf *b)
{
	char chunk[4096];
	FILE *f;
	size_t n;

	if (s->sandbox)
		return kd_fail(s, KD_ENOTSUP,
			       "Host files are disabled in this session");
	f = fopen(path, "r");
	if (!f)
		return kd_fail(s, KD_ENOTFOUND, "Unable to open '%s', %s", path,
			       strerror(errno));
	b->max = ALIAS_VALUE_MAX + 1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		sb_add(b, chunk, n);
	fclose(f);
	if (b->over)
		return kd_fail(s, KD_EOVERFLOW,
			       "Alias value is longer than %u characters",
			       ALIAS_VALUE_MAX);
	return KD_OK;
}

/*
 * as / aS.  `as` takes the rest of the line, `aS` stops at `;`; with an
 * option the value is what the option names and commands may follow
 * after `;`.
 */
static int cmd_as(struct kd_session *s, struct kd_cmdctx *c)
{
	bool phrase = strcmp(c->name, "aS") == 0;
	struct sbuf val = { NULL, 0, 0, ALIAS_VALUE_MAX + 1, false };
	const char *name, *rest = "", *v = "";
	char opt[4] = "";
	size_t nlen, vl = 0;
	struct kd_args a;
	int rc;

	kd_args_init(&a, s, c);
	kd_args_skip(&a);
	if (kd_args_peek(&a) == '/') {
		size_t n = 0;

		while (isalpha((unsigned char)kd_args_peek_at(&a, n + 1)) &&
		       n < 3)
			n++;
		memcpy(opt, a.p + 1, n);
		opt[n] = '\0';
		if (n == 0 || !strstr(" e ma mu msa msu x f c ", opt) ||
		    kd_args_peek_at(&a, n + 1) != ' ')
			return kd_args_error(&a);
		kd_args_advance(&a, n + 1);
	}
	rc = alias_name_arg(&a, &name, &nlen);
	if (rc < 0)
		return rc;
	kd_args_skip(&a);
	if (opt[0] == '\0' || opt[0] == 'c') {
		const char *next;
		size_t len = phrase || opt[0] == 'c' ?
				     kd_cmd_split(a.p, &next) :
				     strlen(a.p);

		if (opt[0] == 'c' && !phrase)
			len = strlen(a.p);
		rest = a.p + len;
		if (*rest == ';')
			rest++;
		alias_plain(a.p, len, &v, &vl);
		if (opt[0] == 'c') {
			struct sbuf out = { NULL, 0, 0, 0, false };

			rc = run_captured(s, v, vl, &out);
			if (rc >= 0) {
				size_t ol = out.len;

				while (ol > 0 && (out.p[ol - 1] == '\n' ||
						  out.p[ol - 1] == '\r'))
					ol--;
				sb_add(&val, out.p ? out.p : "", ol);
			}
			kd_free(out.p);
			if (rc < 0)
				goto out;
			v = val.p ? val.p : "";
			vl = val.len;
		}
	} else if (opt[0] == 'x' || opt[0] == 'm') {
		uint64_t x;
		char num[24];

		rc = kd_args_take_expr(&a, &x);
		if (rc < 0)
			goto out;
		/* Commands may follow the expression after `;`. */
		kd_args_skip(&a);
		if (kd_args_peek(&a) == ';')
			rest = a.p + 1;
		else if (!kd_args_at_end(&a)) {
			rc = kd_args_error(&a);
			goto out;
		}
		if (opt[0] == 'x') {
			snprintf(num, sizeof(num), "0x%llx",
				 (unsigned long long)x);
			sb_add(&val, num, strlen(num));
		} else {
			bool wide = strchr(opt, 'u') != NULL;

			rc = opt[1] == 's' ?
				     read_counted(s, x, wide, &val) :
				     read_string(s, x, wide, false, 0, &val);
			if (rc < 0) {
				rc = kd_memory_error(s, c->args);
				goto out;
			}
		}
		v = val.p ? val.p : "";
		vl = val.len;
	} else {
		const char *w, *next;
		size_t wl = kd_cmd_split(a.p, &next);
		char *arg;

		alias_plain(a.p, wl, &w, &wl);
		rest = next;
		arg = dup_n(w, wl);
		if (!arg) {
			rc = kd_fail(s, KD_ENOMEM, "Out of memory");
			goto out;
		}
		if (opt[0] == 'f') {
			rc = alias_file(s, arg, &val);
		} else if (s->sandbox) {
			rc = kd_fail(s, KD_ENOTSUP,
				     "The environment is not read in this "
				     "session");
		} else {
			const char *env = getenv(arg);

			if (!env)
				rc = kd_fail(s, KD_ENOTFOUND,
					     "Environment variable '%s' is "
					     "not set",
					     arg);
			else
				sb_add(&val, env, strlen(env));
		}
		kd_free(arg);
		if (rc < 0)
			goto out;
		v = val.p ? val.p : "";
		vl = val.len;
	}
	if (val.over) {
		rc = kd_fail(s, KD_EOVERFLOW,
			     "Alias value is longer than %u characters",
			     ALIAS_VALUE_MAX);
		goto out;
	}
	rc = alias_set(s, name, nlen, v, vl);
	if (rc >= 0 && *kd_skip_blanks(rest))
		rc = run_body(s, rest, strlen(rest));
out:
	kd_free(val.p);
	return rc;
}

static int cmd_ad(struct kd_session *s, struct kd_cmdctx *c)
{
	struct kd_args a;

	kd_args_init(&a, s, c);
	kd_args_skip(&a);
	if (kd_args_at_end(&a))
		return kd_args_error(&a);
	while (!kd_args_at_end(&a)) {
		const char *w;
		size_t n, i;
		struct kd_alias *al;

		(void)kd_args_take_word(&a, &w, &n);
		kd_args_skip(&a);
		if (n == 1 && w[0] == '*') {
			for (i = 0; i < s->script.naliases; i++)
				kd_free(s->script.aliases[i].value);
			s->script.naliases = 0;
			continue;
		}
		al = alias_find(s, w, n);
		if (!al)
			return kd_fail(s, KD_ENOTFOUND, "No alias named '%.*s'",
				       (int)n, w);
		kd_free(al->value);
		i = (size_t)(al - s->script.aliases);
		memmove(al, al + 1, (s->script.naliases - i - 1) * sizeof(*al));
		s->script.naliases--;
	}
	return KD_OK;
}

static int cmd_al(struct kd_session *s, struct kd_cmdctx *c)
{
	struct kd_args a;
	size_t i;
	int rc;

	kd_args_init(&a, s, c);
	rc = kd_args_end(&a);
	if (rc < 0)
		return rc;
	if (s->script.naliases == 0) {
		kd_out(s, "No aliases\n");
		return KD_OK;
	}
	kd_out(s, "  Alias            Value\n");
	kd_out(s, " -------          -------\n");
	for (i = 0; i < s->script.naliases; i++)
		kd_out(s, " %-16s %s\n", s->script.aliases[i].name,
		       s->script.aliases[i].value);
	return KD_OK;
}

/* ------------------------------------------------------------------ */
/* .printf                                                             */
/* ------------------------------------------------------------------ */

/* The format string's escapes: \n \t \r \a \" \\ (others kept). */
static char *printf_unescape(const char *t, size_t len)
{
	char *o = kd_malloc(len + 1);
	size_t i, n = 0;

	if (!o)
		return NULL;
	for (i = 0; i < len; i++) {
		char ch = t[i];

		if (ch == '\\' && i + 1 < len) {
			char e = t[++i];

			ch = (char)(e == 'n' ? '\n' :
				    e == 't' ? '\t' :
				    e == 'r' ? '\r' :
				    e == 'a' ? '\a' :
					       e);
		}
		o[n++] = ch;
	}
	o[n] = '\0';
	return o;
}

/*
 * The C conversions go to snprintf with a spec built here from checked
 * parts only (flags, bounded width and precision, one known letter).
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

/*
 * Format @p fmt with @p argv into @p b.  Returns KD_OK, or an error
 * printed as one line: a bad conversion, a missing argument, arguments
 * left over, memory that cannot be read.
 */
static int printf_format(struct kd_session *s, const char *fmt,
			 const uint64_t *argv, size_t argc, struct sbuf *b)
{
	const char *p = fmt;
	size_t used = 0;

	while (*p) {
		char spec[32], tmp[PRINTF_FIELD_MAX * 2 + 64], conv;
		const char *start = p;
		unsigned long width = 0, prec = 0;
		bool is64 = false, dbl = false;
		size_t sl = 0;
		uint64_t v;

		if (*p != '%') {
			const char *e = strchr(p, '%');
			size_t n = e ? (size_t)(e - p) : strlen(p);

			sb_add(b, p, n);
			p += n;
			continue;
		}
		p++;
		if (*p == '%') {
			sb_addc(b, '%');
			p++;
			continue;
		}
		spec[sl++] = '%';
		while (*p && strchr("-+ #0", *p) && sl < 8)
			spec[sl++] = *p++;
		while (isdigit((unsigned char)*p) && width <= PRINTF_FIELD_MAX)
			width = width * 10 + (unsigned long)(*p++ - '0');
		if (*p == '.') {
			p++;
			while (isdigit((unsigned char)*p) &&
			       prec <= PRINTF_FIELD_MAX)
				prec = prec * 10 + (unsigned long)(*p++ - '0');
		}
		if (width > PRINTF_FIELD_MAX || prec > PRINTF_FIELD_MAX ||
		    isdigit((unsigned char)*p))
			return kd_fail(s, KD_EINVAL,
				       "Format width or precision is larger "
				       "than %d in '%.*s'",
				       PRINTF_FIELD_MAX, (int)(p - start + 1),
				       start);
		if (strncmp(p, "I64", 3) == 0) {
			is64 = true;
			p += 3;
		} else if (strncmp(p, "I32", 3) == 0) {
			p += 3;
		} else if (p[0] == 'l' && p[1] == 'l') {
			is64 = true;
			p += 2;
		} else if (p[0] == 'l') {
			/* long is 32 bits, but %lf is double; %ly: %y with
			 * the source line */
			dbl = true;
			p++;
		} else if (p[0] == 'h') {
			p++;
		}
		conv = *p;
		if (conv == '\0')
			return kd_fail(s, KD_EINVAL,
				       "Incomplete format '%s' at the end",
				       start);
		if (!strchr("diouxXcspNmylfeEgGaA", conv))
			return kd_fail(s, KD_EINVAL, "Unknown format '%.*s'",
				       (int)(p - start + 1), start);
		if (used >= argc)
			return kd_fail(s, KD_EINVAL,
				       "Missing argument for format '%.*s'",
				       (int)(p - start + 1), start);
		v = argv[used++];
		p++;
		if (sl + 24 > sizeof(spec))
			return kd_fail(s, KD_EINVAL, "Bad format '%s'", start);
		if (width)
			sl += (size_t)snprintf(spec + sl, sizeof(spec) - sl,
					       "%lu", width);
		if (start[strcspn(start, ".")] == '.' && strchr(start, '.') < p)
			sl += (size_t)snprintf(spec + sl, sizeof(spec) - sl,
					       ".%lu", prec);
		switch (conv) {
		case 'd':
		case 'i':
			memcpy(spec + sl, "lld", 4);
			snprintf(tmp, sizeof(tmp), spec,
				 is64 ? (long long)v : (long long)(int32_t)v);
			break;
		case 'o':
		case 'u':
		case 'x':
		case 'X':
			spec[sl] = 'l';
			spec[sl + 1] = 'l';
			spec[sl + 2] = conv;
			spec[sl + 3] = '\0';
			snprintf(tmp, sizeof(tmp), spec,
				 (unsigned long long)(is64 ? v : (uint32_t)v));
			break;
		case 'c':
			memcpy(spec + sl, "c", 2);
			snprintf(tmp, sizeof(tmp), spec,
				 isprint((int)(v & 0xff)) ? (int)(v & 0xff) :
							    '.');
			break;
		case 'f':
		case 'e':
		case 'E':
		case 'g':
		case 'G':
		case 'a':
		case 'A': {
			double d;

			if (dbl) {
				memcpy(&d, &v, sizeof(d));
			} else {
				uint32_t lo = (uint32_t)v;
				float f;

				memcpy(&f, &lo, sizeof(f));
				d = f;
			}
			spec[sl] = conv;
			spec[sl + 1] = '\0';
			snprintf(tmp, sizeof(tmp), spec, d);
			break;
		}
		case 'p': {
			char a[18];

			snprintf(tmp, sizeof(tmp), "%s", kd_fmt_ptr(s, a, v));
			break;
		}
		case 'N':
			snprintf(tmp, sizeof(tmp), "%016llX",
				 (unsigned long long)v);
			break;
		case 'y': {
			char sym[256], a[18];

			char file[256], at[300];
			uint32_t line = 0;

			/* %ly adds " [file @ line]" as k does, when the
			 * module's PDB has the line. */
			at[0] = '\0';
			if (dbl && kd_sym_line(s, v, file, sizeof(file),
					       &line) == KD_OK)
				snprintf(at, sizeof(at), " [%s @ %u]", file,
					 line);
			if (kd_sym_format(s, v, sym, sizeof(sym)) < 0)
				snprintf(tmp, sizeof(tmp), "%s",
					 kd_fmt_ptr(s, a, v));
			else
				snprintf(tmp, sizeof(tmp), "%s%s (%s)", sym, at,
					 kd_fmt_ptr(s, a, v));
			break;
		}
		case 'm':
		case 's': {
			bool wide, counted;
			int rc;

			/* %s reads an ASCII string like %ma. */
			wide = false;
			counted = false;
			if (conv == 'm') {
				if (p[0] == 'a' || p[0] == 'u') {
					wide = p[0] == 'u';
					p++;
				} else if (p[0] == 's' &&
					   (p[1] == 'a' || p[1] == 'u')) {
					wide = p[1] == 'u';
					counted = true;
					p += 2;
				} else {
					return kd_fail(s, KD_EINVAL,
						       "Unknown format '%.*s'",
						       (int)(p - start), start);
				}
			}
			{
				struct sbuf str = { NULL, 0, 0, STRING_MAX * 4,
						    false };

				rc = counted ? read_counted(s, v, wide, &str) :
					       read_string(s, v, wide, false, 0,
							   &str);
				if (rc < 0) {
					char a[18];

					kd_free(str.p);
					return kd_fail(s, KD_EFAULT,
						       "Memory access error "
						       "at '%s'",
						       kd_fmt_ptr(s, a, v));
				}
				memcpy(spec + sl, "s", 2);
				snprintf(tmp, sizeof(tmp), spec,
					 str.p ? str.p : "");
				if (strlen(str.p ? str.p : "") >=
				    sizeof(tmp) - 1)
					sb_add(b, str.p, str.len);
				else
					sb_add(b, tmp, strlen(tmp));
				kd_free(str.p);
				tmp[0] = '\0';
			}
			break;
		}
		default:
			tmp[0] = '\0';
			break;
		}
		sb_add(b, tmp, strlen(tmp));
	}
	if (used < argc)
		return kd_fail(s, KD_EINVAL,
			       "%zu argument%s left over after the format",
			       argc - used, argc - used == 1 ? "" : "s");
	return KD_OK;
}

#pragma GCC diagnostic pop

static int cmd_printf(struct kd_session *s, struct kd_cmdctx *c)
{
	struct sbuf b = { NULL, 0, 0, PRINTF_MAX + 1, false };
	uint64_t argv[PRINTF_ARGS_MAX];
	size_t argc = 0, flen;
	const char *ftext;
	struct kd_args a;
	char *fmt;
	int rc;

	kd_args_init(&a, s, c);
	for (;;) {
		kd_args_skip(&a);
		/* /D (DML) and WinDbg's colour options: plain text here. */
		if (kd_args_peek(&a) == '/' &&
		    (kd_args_peek_at(&a, 1) == 'D' ||
		     kd_args_peek_at(&a, 1) == 'o')) {
			size_t n = kd_args_peek_at(&a, 1) == 'o' ? 3 : 2;

			kd_args_advance(&a, n);
			continue;
		}
		break;
	}
	if (kd_args_peek(&a) != '"')
		return kd_args_error(&a);
	rc = kd_args_take_quoted(&a, KD_ARGS_Q_ESCAPES, &ftext, &flen);
	if (rc < 0)
		return rc;
	for (;;) {
		kd_args_skip(&a);
		if (kd_args_at_end(&a))
			break;
		if (kd_args_peek(&a) != ',')
			return kd_args_error(&a);
		kd_args_advance(&a, 1);
		kd_args_skip(&a);
		if (argc == PRINTF_ARGS_MAX)
			return kd_fail(s, KD_EINVAL,
				       "More than %d .printf arguments",
				       PRINTF_ARGS_MAX);
		rc = kd_args_take_expr(&a, &argv[argc]);
		if (rc < 0)
			return rc;
		argc++;
	}
	fmt = printf_unescape(ftext, flen);
	if (!fmt)
		return kd_fail(s, KD_ENOMEM, "Out of memory");
	rc = printf_format(s, fmt, argv, argc, &b);
	kd_free(fmt);
	if (rc >= 0 && b.over)
		rc = kd_fail(s, KD_EOVERFLOW,
			     ".printf output is longer than %u characters",
			     PRINTF_MAX);
	if (rc >= 0 && b.len)
		kd_out_raw(s, b.p, b.len);
	kd_free(b.p);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Loops                                                               */
/* ------------------------------------------------------------------ */

/* The group opened at @p p ( `(`, `{`, a quote): its closing character,
 * nested groups and quoted text skipped; NULL when the text ends. */
static const char *group_end(const char *p)
{
	char open = *p;
	char close = (char)(open == '(' ? ')' : open == '{' ? '}' : open);
	int depth = 0;
	char quote = 0;

	if (open == '"') {
		for (p++; *p; p++) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '"')
				return p;
		}
		return NULL;
	}
	for (; *p; p++) {
		if (quote) {
			if (*p == '\\' && quote == '"' && p[1])
				p++;
			else if (*p == quote)
				quote = 0;
			continue;
		}
		if (*p == '"') {
			quote = *p;
		} else if (*p == open) {
			depth++;
		} else if (*p == close && --depth == 0) {
			return p;
		}
	}
	return NULL;
}

/* The group at the cursor (blanks skipped): its inside. */
static int take_group(struct kd_args *a, char open, const char **in,
		      size_t *len)
{
	const char *e;

	kd_args_skip(a);
	if (kd_args_peek(a) != open)
		return kd_args_error(a);
	e = group_end(a->p);
	if (!e)
		return kd_args_error_eol(a);
	*in = a->p + 1;
	*len = (size_t)(e - a->p - 1);
	a->p = e + 1;
	return KD_OK;
}

/* Evaluate @p len bytes at @p p as a condition (the whole text). */
static int loop_cond(struct kd_session *s, const char *p, size_t len,
		     bool *truth)
{
	char *t = dup_n(p, len);
	const char *pos;
	uint64_t v = 0;
	int rc;

	if (!t)
		return kd_fail(s, KD_ENOMEM, "Out of memory");
	pos = t;
	rc = kd_expr_arg(s, t, &pos, &v);
	if (rc >= 0 && *kd_skip_blanks(pos) != '\0')
		rc = kd_syntax_error(s, t, (size_t)(pos - t));
	kd_free(t);
	*truth = v != 0;
	return rc;
}

/*
 * After one run of a loop body: true when the loop goes on.  A pending
 * .break ends it, .continue is used up here; Ctrl+C, q or the iteration
 * bound stop it (the bound with an error line in *rc).
 */
static bool loop_next(struct kd_session *s, unsigned *iter, int *rc)
{
	int ctl = s->script.loop_ctl;

	s->script.loop_ctl = 0;
	if (ctl == KD_LOOP_BREAK || s->interrupt || s->quit)
		return false;
	if (++*iter >= LOOP_MAX) {
		*rc = kd_fail(s, KD_EOVERFLOW,
			      "Loop stopped after %u iterations", LOOP_MAX);
		return false;
	}
	return true;
}

static int loop_run(struct kd_session *s, const char *p, size_t len, int *first)
{
	int rc;

	s->script.loop_depth++;
	rc = run_body(s, p, len);
	s->script.loop_depth--;
	if (rc < 0 && *first == KD_OK)
		*first = rc;
	return rc;
}

static int cmd_while(struct kd_session *s, struct kd_cmdctx *c)
{
	const char *cond = "", *body = "";
	size_t clen = 0, blen = 0;
	unsigned iter = 0;
	int rc, first = KD_OK;
	struct kd_args a;

	kd_args_init(&a, s, c);
	rc = take_group(&a, '(', &cond, &clen);
	if (rc >= 0)
		rc = take_group(&a, '{', &body, &blen);
	if (rc >= 0)
		rc = kd_args_end(&a);
	if (rc < 0)
		return rc;
	for (;;) {
		bool truth = false;

		rc = loop_cond(s, cond, clen, &truth);
		if (rc < 0)
			return rc;
		if (!truth)
			break;
		(void)loop_run(s, body, blen, &first);
		if (!loop_next(s, &iter, &first))
			break;
	}
	return first;
}

static int cmd_do(struct kd_session *s, struct kd_cmdctx *c)
{
	const char *cond = "", *body = "";
	size_t clen = 0, blen = 0;
	unsigned iter = 0;
	int rc, first = KD_OK;
	struct kd_args a;

	kd_args_init(&a, s, c);
	rc = take_group(&a, '{', &body, &blen);
	if (rc >= 0)
		rc = take_group(&a, '(', &cond, &clen);
	if (rc >= 0)
		rc = kd_args_end(&a);
	if (rc < 0)
		return rc;
	for (;;) {
		bool truth = false;

		(void)loop_run(s, body, blen, &first);
		if (!loop_next(s, &iter, &first))
			break;
		rc = loop_cond(s, cond, clen, &truth);
		if (rc < 0)
			return rc;
		if (!truth)
			break;
	}
	return first;
}

/* .for (Init ; Condition ; Increment[; Increment...]) { Commands } */
static int cmd_for(struct kd_session *s, struct kd_cmdctx *c)
{
	const char *hdr = "", *body = "", *cond, *incr = "";
	size_t hlen = 0, blen = 0, ilen, clen;
	unsigned iter = 0;
	int rc, first = KD_OK;
	struct kd_args a;
	char *h;

	kd_args_init(&a, s, c);
	rc = take_group(&a, '(', &hdr, &hlen);
	if (rc >= 0)
		rc = take_group(&a, '{', &body, &blen);
	if (rc >= 0)
		rc = kd_args_end(&a);
	if (rc < 0)
		return rc;
	h = dup_n(hdr, hlen);
	if (!h)
		return kd_fail(s, KD_ENOMEM, "Out of memory");
	ilen = kd_cmd_split(h, &cond);
	clen = *cond ? kd_cmd_split(cond, &incr) : 0;
	if (h[ilen] != ';' || !*cond || cond[clen] != ';') {
		kd_free(h);
		return kd_fail(s, KD_EINVAL,
			       ".for needs (Init ; Condition ; Increment)");
	}
	rc = run_body(s, h, ilen);
	while (rc >= 0) {
		bool truth = false;

		rc = loop_cond(s, cond, clen, &truth);
		if (rc < 0 || !truth)
			break;
		(void)loop_run(s, body, blen, &first);
		if (!loop_next(s, &iter, &first))
			break;
		rc = run_body(s, incr, strlen(incr));
	}
	kd_free(h);
	if (rc < 0 && first == KD_OK)
		first = rc;
	return first;
}

static int cmd_break(struct kd_session *s, struct kd_cmdctx *c)
{
	struct kd_args a;
	int rc;

	kd_args_init(&a, s, c);
	rc = kd_args_end(&a);
	if (rc < 0)
		return rc;
	if (s->script.loop_depth == 0)
		return kd_fail(s, KD_EINVAL, "%s is only valid inside a loop",
			       c->name);
	s->script.loop_ctl = strcmp(c->name, ".break") == 0 ? KD_LOOP_BREAK :
							      KD_LOOP_CONTINUE;
	return KD_OK;
}

/*
 * The body with the whole-word @p var (or ${var}) replaced by @p tok:
 * .foreach's variable.
 */
static char *foreach_subst(const char *body, size_t blen, const char *var,
			   size_t vlen, const char *tok, size_t tlen)
{
	struct sbuf b = { NULL, 0, 0, LINE_MAX_BYTES, false };
	size_t i = 0;

	while (i < blen) {
		const char *p = body + i;

		if (p[0] == '$' && p[1] == '{' && i + vlen + 3 <= blen &&
		    memcmp(p + 2, var, vlen) == 0 && p[2 + vlen] == '}') {
			sb_add(&b, tok, tlen);
			i += vlen + 3;
		} else if ((i == 0 || !name_ch(p[-1])) && i + vlen <= blen &&
			   memcmp(p, var, vlen) == 0 &&
			   (i + vlen == blen || !name_ch(p[vlen]))) {
			sb_add(&b, tok, tlen);
			i += vlen;
		} else {
			sb_addc(&b, *p);
			i++;
		}
	}
	if (b.over) {
		kd_free(b.p);
		return NULL;
	}
	return b.p ? b.p : dup_n("", 0);
}

/* .foreach [/pS n] [/ps n] [/s | /f] ( Var { Cmds } | "Text" ) { Cmds } */
static int cmd_foreach(struct kd_session *s, struct kd_cmdctx *c)
{
	struct sbuf src = { NULL, 0, 0, CAPTURE_MAX, false };
	uint64_t skip_first = 0, skip_each = 0, used = 0;
	const char *hdr = "", *body = "", *var, *in = "", *t;
	size_t hlen = 0, blen = 0, vlen, inlen = 0;
	unsigned iter = 0;
	char mode = 0;
	int rc = KD_OK, first = KD_OK;
	struct kd_args a, h;
	char *ins;

	kd_args_init(&a, s, c);
	for (;;) {
		kd_args_skip(&a);
		if (kd_args_peek(&a) != '/')
			break;
		if (kd_args_peek_at(&a, 1) == 'p' &&
		    (kd_args_peek_at(&a, 2) == 'S' ||
		     kd_args_peek_at(&a, 2) == 's')) {
			bool each = kd_args_peek_at(&a, 2) == 's';

			const char *w, *end;
			char num[32];
			size_t n;

			/* One word: `/pS 1 /ps 1` is not `1 / ps`. */
			kd_args_advance(&a, 3);
			kd_args_skip(&a);
			if (!kd_args_take_word(&a, &w, &n) || n >= sizeof(num))
				return kd_args_error(&a);
			memcpy(num, w, n);
			num[n] = '\0';
			if (kd_expr_eval(s, num, &end,
					 each ? &skip_each : &skip_first) < 0 ||
			    *end != '\0')
				return kd_fail(s, KD_EINVAL,
					       "Bad count '%s' for /p%c", num,
					       each ? 's' : 'S');
			if ((each ? skip_each : skip_first) > LOOP_MAX)
				return kd_fail(s, KD_EINVAL,
					       "Count '%s' is larger than %u",
					       num, LOOP_MAX);
		} else if (kd_args_peek_at(&a, 1) == 's' ||
			   kd_args_peek_at(&a, 1) == 'f') {
			mode = kd_args_peek_at(&a, 1);
			kd_args_advance(&a, 2);
		} else {
			return kd_args_error(&a);
		}
	}
	rc = take_group(&a, '(', &hdr, &hlen);
	if (rc >= 0)
		rc = take_group(&a, '{', &body, &blen);
	if (rc >= 0)
		rc = kd_args_end(&a);
	if (rc < 0)
		return rc;
	/* Inside the parentheses: the variable, then { } or "". */
	ins = dup_n(hdr, hlen);
	if (!ins)
		return kd_fail(s, KD_ENOMEM, "Out of memory");
	kd_args_init_text(&h, s, ins, ins);
	kd_args_skip(&h);
	var = h.p;
	while (name_ch(kd_args_peek(&h)))
		kd_args_advance(&h, 1);
	vlen = (size_t)(h.p - var);
	if (vlen == 0) {
		rc = kd_args_error(&h);
		goto out;
	}
	if (mode) {
		const char *q;

		kd_args_skip(&h);
		if (kd_args_peek(&h) != '"') {
			rc = kd_args_error(&h);
			goto out;
		}
		rc = kd_args_take_quoted(&h, KD_ARGS_Q_ESCAPES, &q, &inlen);
		if (rc < 0)
			goto out;
		if (mode == 's') {
			sb_add(&src, q, inlen);
		} else {
			char *path = dup_n(q, inlen);

			if (!path) {
				rc = kd_fail(s, KD_ENOMEM, "Out of memory");
				goto out;
			}
			src.max = CAPTURE_MAX;
			if (s->sandbox) {
				rc = kd_fail(s, KD_ENOTSUP,
					     "Host files are disabled in "
					     "this session");
			} else {
				FILE *f = fopen(path, "r");
				char chunk[4096];
				size_t n;

				if (!f) {
					rc = kd_fail(s, KD_ENOTFOUND,
						     "Unable to open '%s', %s",
						     path, strerror(errno));
				} else {
					while ((n = fread(chunk, 1,
							  sizeof(chunk), f)) >
					       0)
						sb_add(&src, chunk, n);
					fclose(f);
				}
			}
			kd_free(path);
			if (rc < 0)
				goto out;
		}
	} else {
		rc = take_group(&h, '{', &in, &inlen);
		if (rc < 0)
			goto out;
		rc = run_captured(s, in, inlen, &src);
		if (rc < 0)
			goto out;
	}
	rc = kd_args_end(&h);
	if (rc < 0)
		goto out;
	if (src.over) {
		rc = kd_fail(s, KD_EOVERFLOW, "Input is longer than %u bytes",
			     CAPTURE_MAX);
		goto out;
	}
	/* Token by token: skip the first skip_first, then use one and
	 * skip skip_each after it. */
	t = src.p ? src.p : "";
	used = 0;
	while (*t && !s->quit && !s->interrupt) {
		size_t n = 0;
		char *run;

		while (*t && isspace((unsigned char)*t))
			t++;
		if (!*t)
			break;
		while (t[n] && !isspace((unsigned char)t[n]))
			n++;
		if (skip_first) {
			skip_first--;
			t += n;
			continue;
		}
		if (used++ % (skip_each + 1) != 0) {
			t += n;
			continue;
		}
		run = foreach_subst(body, blen, var, vlen, t, n);
		t += n;
		if (!run) {
			rc = kd_fail(s, KD_EOVERFLOW,
				     "Command is longer than %u characters",
				     LINE_MAX_BYTES);
			break;
		}
		(void)loop_run(s, run, strlen(run), &first);
		kd_free(run);
		if (!loop_next(s, &iter, &first))
			break;
	}
	if (rc >= 0)
		rc = first;
out:
	kd_free(ins);
	kd_free(src.p);
	return rc;
}

const struct kd_command kd_cmds_script[] = {
	{ "as", cmd_as, KD_CMDF_REST,
	  "as [/e|/ma|/mu|/msa|/msu|/x|/c] Name Value: set an alias" },
	{ "aS", cmd_as, 0,
	  "aS [/e|/ma|/mu|/msa|/msu|/x|/f|/c] Name Value: alias to `;`" },
	{ "ad", cmd_ad, 0, "ad Name|*: delete aliases" },
	{ "al", cmd_al, 0, "al: list the aliases" },
	{ ".printf", cmd_printf, 0,
	  ".printf [/D] \"format\" [, args]: formatted output" },
	{ ".for", cmd_for, 0, ".for (init ; cond ; incr) { cmds }" },
	{ ".while", cmd_while, 0, ".while (cond) { cmds }" },
	{ ".do", cmd_do, 0, ".do { cmds } (cond)" },
	{ ".foreach", cmd_foreach, 0,
	  ".foreach [/pS n] [/ps n] [/s|/f] (var {cmds}|\"text\") { cmds }" },
	{ ".break", cmd_break, 0, "leave the innermost loop" },
	{ ".continue", cmd_break, 0, "next iteration of the innermost loop" },
	{ NULL, NULL, 0, NULL },
};
