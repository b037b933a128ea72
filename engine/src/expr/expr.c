/* SPDX-License-Identifier: MIT */
/*
 * WinDbg's MASM expression evaluator (numbers, registers, pseudo-registers,
 * symbols, poi() and friends, MASM operator precedence) and the address
 * range argument (`addr L count`, `addr L? count`, `start end`) commands use.
 */
#define _DEFAULT_SOURCE 1 /* strnlen */
#include <ctype.h>
#include <string.h>

#include "arch/arch.h"
#include "expr/cppsession.h"

/* Nesting of parentheses and unary operators, for fuzzed input. */
#define EXPR_MAX_DEPTH 64
/* Longest word (symbol, register) looked up. */
#define EXPR_MAX_WORD 256
/* WinDbg refuses ranges larger than this without `L?`. */
#define RANGE_MAX_BYTES 0x10000000u

enum expr_err {
	EXPR_OK = 0,
	EXPR_SYNTAX,  /* caret at err_at */
	EXPR_RESOLVE, /* unknown symbol: "Couldn't resolve error at" */
	EXPR_MEMORY,  /* "Memory access error at" */
	EXPR_DIVZERO, /* "Divide by zero error at" */
	EXPR_BADREG,  /* "Bad register error at" */
	EXPR_CPP,     /* @@c++() failed: the C++ evaluator's line */
};

struct expr {
	struct kd_session *s;
	const char *p;
	int depth;
	enum expr_err err;
	const char *err_at;
	struct kd_cpp_error cpp; /* EXPR_CPP */
};

/* Binary operators, lowest precedence level first. */
enum {
	OP_NONE = 0,
	OP_OR,
	OP_XOR,
	OP_AND,
	OP_EQ,
	OP_NE,
	OP_LT,
	OP_GT,
	OP_LE,
	OP_GE,
	OP_SHL,
	OP_SHR,
	OP_SAR,
	OP_ADD,
	OP_SUB,
	OP_MUL,
	OP_DIV,
	OP_MOD,
};

#define LEVEL_OR 0
#define LEVEL_XOR 1
#define LEVEL_AND 2
#define LEVEL_CMP 3
#define LEVEL_SHF 4
#define LEVEL_ADD 5
#define LEVEL_MUL 6
#define LEVEL_TOP 7

/* Kernel structure offsets of the target (Windows 10 19041 x64). */
#define KTHREAD_PROCESS_OFF 0x220
#define EPROCESS_PEB_OFF 0x550
#define EPROCESS_PID_OFF 0x440

static bool expr_word_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '_' || ch == '`' ||
	       ch == '$' || ch == '!';
}

static void expr_skip_blanks(struct expr *e)
{
	while (*e->p == ' ' || *e->p == '\t')
		e->p++;
}

static int expr_fail(struct expr *e, enum expr_err err, const char *at)
{
	if (e->err == EXPR_OK) {
		e->err = err;
		e->err_at = at;
	}
	return -1;
}

/*
 * Length of the word at @p p: letters, digits, `_`, `$`, backticks and
 * `!` (module!symbol), but not the `!` of `!=`.
 */
static size_t expr_word_len(const char *p)
{
	size_t n = 0;

	while (expr_word_char(p[n])) {
		if (p[n] == '!' && p[n + 1] == '=')
			break;
		if (n >= 4096)
			break;
		n++;
	}
	return n;
}

static bool word_is(const char *w, size_t len, const char *kw)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (kw[i] == '\0' ||
		    tolower((unsigned char)w[i]) != (unsigned char)kw[i])
			return false;
	}
	return kw[len] == '\0';
}

static int digit_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A' + 10;
	return 99;
}

/*
 * Parse the whole word @p w (@p len bytes) as a number in MASM syntax.
 * Returns 1 (a number), 0 (not a number) or -1 (a number too large).
 */
static int parse_number(const char *w, size_t len, unsigned radix,
			uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;
	size_t ndigits = 0;

	if (len >= 2 && w[0] == '0') {
		switch (tolower((unsigned char)w[1])) {
		case 'x':
			radix = 16;
			i = 2;
			break;
		case 'n':
			radix = 10;
			i = 2;
			break;
		case 't':
			radix = 8;
			i = 2;
			break;
		case 'y':
			radix = 2;
			i = 2;
			break;
		default:
			break;
		}
	}
	/* `10h`: hexadecimal whatever the radix, if it starts with a digit
	 * (so `ah`, `bh` stay registers). */
	if (i == 0 && len >= 2 && (w[len - 1] == 'h' || w[len - 1] == 'H') &&
	    isdigit((unsigned char)w[0])) {
		radix = 16;
		len--;
	}
	for (; i < len; i++) {
		int d;

		if (w[i] == '`') {
			if (ndigits == 0)
				return 0;
			continue;
		}
		d = digit_value(w[i]);
		if (d >= (int)radix)
			return 0;
		if (v > (UINT64_MAX - (uint64_t)d) / radix)
			return -1;
		v = v * radix + (uint64_t)d;
		ndigits++;
	}
	if (ndigits == 0)
		return 0;
	*out = v;
	return 1;
}

static bool expr_target_ok(struct kd_session *s)
{
	return s->target != NULL && !s->tgt.running;
}

static int expr_read(struct expr *e, uint64_t va, unsigned size, bool physical,
		     uint64_t *out)
{
	uint8_t buf[8];
	size_t done = 0;
	int rc;

	if (!expr_target_ok(e->s))
		return -1;
	if (physical) {
		rc = kd_read_physical(e->s, va, buf, size, &done);
		if (rc < 0 || done != size)
			return -1;
	} else {
		rc = kd_read_virtual_all(e->s, va, buf, size);
		if (rc < 0)
			return -1;
	}
	switch (size) {
	case 1:
		*out = buf[0];
		break;
	case 2:
		*out = kd_get_le16(buf);
		break;
	case 4:
		*out = kd_get_le32(buf);
		break;
	default:
		*out = kd_get_le64(buf);
		break;
	}
	return 0;
}

/* A register of the current processor through the machine's ops
 * (kd_pc_get, kd_sp_get...). */
static int expr_reg(struct kd_session *s,
		    int (*get)(struct kd_session *, uint64_t *), uint64_t *v)
{
	if (!expr_target_ok(s))
		return -1;
	return get(s, v) < 0 ? -1 : 0;
}

/* An address from x64 control space (0 KPCR, 1 KPRCB, 3 KTHREAD). */
static int expr_control_addr(struct kd_session *s, uint64_t sel, uint64_t *v)
{
	uint8_t buf[8];
	size_t done = 0;

	if (!expr_target_ok(s) || !s->target->ops->read_control)
		return -1;
	if (s->target->ops->read_control(s->target, s->tgt.cpu, sel, buf,
					 sizeof(buf), &done) < 0 ||
	    done != sizeof(buf))
		return -1;
	*v = kd_get_le64(buf);
	return 0;
}

static int expr_thread(struct kd_session *s, uint64_t *v)
{
	if (expr_control_addr(s, 3, v) == 0 && *v != 0)
		return 0;
	if (expr_target_ok(s) && s->tgt.last.kind != KD_EV_NONE &&
	    s->tgt.last.cpu == s->tgt.cpu && s->tgt.last.thread != 0) {
		*v = s->tgt.last.thread;
		return 0;
	}
	return -1;
}

static int expr_process(struct kd_session *s, uint64_t *v)
{
	uint64_t thread;
	uint8_t buf[8];

	if (expr_thread(s, &thread) < 0)
		return -1;
	if (kd_read_virtual_all(s, thread + KTHREAD_PROCESS_OFF, buf, 8) < 0)
		return -1;
	*v = kd_get_le64(buf);
	return 0;
}

/* $t0..$t19: the index, or -1. */
static int pseudo_t_index(const char *name, size_t len)
{
	unsigned n = 0;
	size_t i;

	if (len < 3 || len > 4 || name[0] != '$' ||
	    (name[1] != 't' && name[1] != 'T'))
		return -1;
	for (i = 2; i < len; i++) {
		if (!isdigit((unsigned char)name[i]))
			return -1;
		n = n * 10 + (unsigned)(name[i] - '0');
	}
	if (len == 4 && name[2] == '0')
		return -1;
	return n < 20 ? (int)n : -1;
}

/*
 * The value of pseudo-register @p name ("$ip"...).  Returns 0, or -1 with
 * *known telling whether the name exists (then the target could not
 * answer).
 */
static int pseudo_get(struct kd_session *s, const char *name, size_t len,
		      uint64_t *v, bool *known)
{
	int t = pseudo_t_index(name, len);

	*known = true;
	if (t >= 0) {
		*v = s->expr.pseudo_t[t];
		return 0;
	}
	if (word_is(name, len, "$ptrsize")) {
		*v = kd_is_ptr64(s) ? 8 : 4;
		return 0;
	}
	if (word_is(name, len, "$pagesize")) {
		*v = 0x1000;
		return 0;
	}
	if (word_is(name, len, "$ip") || word_is(name, len, "$scopeip"))
		return expr_reg(s, kd_pc_get, v);
	if (word_is(name, len, "$csp"))
		return expr_reg(s, kd_sp_get, v);
	if (word_is(name, len, "$retreg") || word_is(name, len, "$retreg64"))
		return expr_reg(s, kd_retreg_get, v);
	if (word_is(name, len, "$ra"))
		return expr_reg(s, kd_ra_get, v);
	if (word_is(name, len, "$pcr"))
		return expr_control_addr(s, 0, v);
	if (word_is(name, len, "$prcb"))
		return expr_control_addr(s, 1, v);
	if (word_is(name, len, "$thread"))
		return expr_thread(s, v);
	if (word_is(name, len, "$proc"))
		return expr_process(s, v);
	if (word_is(name, len, "$peb") || word_is(name, len, "$tpid")) {
		uint64_t proc;
		uint64_t off = word_is(name, len, "$peb") ? EPROCESS_PEB_OFF :
							    EPROCESS_PID_OFF;

		if (expr_process(s, &proc) < 0)
			return -1;
		return kd_read_u64(s, proc + off, v) < 0 ? -1 : 0;
	}
	if (len >= 4 && len <= 5 && (name[1] == 'b' || name[1] == 'B') &&
	    (name[2] == 'p' || name[2] == 'P') &&
	    isdigit((unsigned char)name[3]) &&
	    (len == 4 || isdigit((unsigned char)name[4]))) {
		unsigned n = (unsigned)(name[3] - '0');

		if (len == 5)
			n = n * 10 + (unsigned)(name[4] - '0');
		if (n < KD_MAX_BPS && s->exec.bps[n].used) {
			*v = s->exec.bps[n].addr;
			return 0;
		}
		return -1;
	}
	*known = false;
	return -1;
}

int kd_pseudo_reg_set(struct kd_session *s, const char *name, size_t len,
		      uint64_t value)
{
	uint64_t v;
	bool known;
	int t;

	if (len > 0 && name[0] == '@') {
		name++;
		len--;
	}
	t = pseudo_t_index(name, len);
	if (t >= 0) {
		s->expr.pseudo_t[t] = value;
		return KD_OK;
	}
	if (len > 1 && name[0] == '$') {
		(void)pseudo_get(s, name, len, &v, &known);
		if (known)
			return KD_ENOTSUP;
	}
	return KD_ENOTFOUND;
}

/* A register or sub-register named by @p w in the machine's table; -1
 * when there is none, -2 when it exists but cannot be read now. */
static int expr_register(struct expr *e, const char *w, size_t len, uint64_t *v)
{
	const struct kd_arch_reg *r;

	if (len == 0 || len >= 16)
		return -1;
	r = kd_arch_reg_find(kd_arch(e->s), w, len, KD_REGF_NOEXPR);
	if (!r)
		return -1;
	if (!expr_target_ok(e->s) ||
	    kd_arch_reg_read(e->s, e->s->tgt.cpu, r, v) < 0)
		return -2;
	return 0;
}

static int parse_binary(struct expr *e, int level, uint64_t *v);
static int parse_switch(struct expr *e, uint64_t *v);

/* `@name`, `@$name`, `$name`. */
static int parse_at_name(struct expr *e, uint64_t *v)
{
	const char *start = e->p;
	const char *w;
	size_t len;
	bool known;
	int rc;

	if (*e->p == '@')
		e->p++;
	w = e->p;
	len = expr_word_len(w);
	if (len == 0)
		return expr_fail(e, EXPR_SYNTAX, w);
	e->p += len;
	if (w[0] == '$') {
		if (pseudo_get(e->s, w, len, v, &known) == 0)
			return 0;
		return expr_fail(e, EXPR_BADREG, start);
	}
	rc = expr_register(e, w, len, v);
	if (rc == 0)
		return 0;
	return expr_fail(e, EXPR_BADREG, start);
}

/* A number, register or symbol word. */
static int parse_word(struct expr *e, uint64_t *v)
{
	const char *w = e->p;
	size_t len = expr_word_len(w);
	char name[EXPR_MAX_WORD];
	bool has_bang = memchr(w, '!', len) != NULL;
	unsigned radix = e->s->expr.radix ? e->s->expr.radix : 16;
	int rc;

	if (len == 0)
		return expr_fail(e, EXPR_SYNTAX, w);
	if (w[0] == '$')
		return parse_at_name(e, v);
	if (!has_bang) {
		rc = parse_number(w, len, radix, v);
		if (rc > 0) {
			e->p += len;
			return 0;
		}
		if (rc < 0 || isdigit((unsigned char)w[0]))
			return expr_fail(e, EXPR_SYNTAX, w);
		rc = expr_register(e, w, len, v);
		if (rc == 0) {
			e->p += len;
			return 0;
		}
		if (rc == -2)
			return expr_fail(e, EXPR_BADREG, w);
	}
	if (len >= sizeof(name) || memchr(w, '`', len))
		return expr_fail(e, EXPR_RESOLVE, w);
	memcpy(name, w, len);
	name[len] = '\0';
	if (kd_sym_lookup(e->s, name, v) < 0)
		return expr_fail(e, EXPR_RESOLVE, w);
	e->p += len;
	return 0;
}

/*
 * @@c++(...) and @@(...): the parenthesised text in the C++ evaluator;
 * @@masm(...) is plain parentheses here.
 */
static int parse_switch(struct expr *e, uint64_t *v)
{
	const char *start = e->p;
	const char *open, *end = NULL;
	char buf[KD_CPP_MAX_TEXT];
	int level = 0;
	size_t n;
	bool cpp;

	e->p += 2;
	if (strncmp(e->p, "masm", 4) == 0) {
		cpp = false;
		e->p += 4;
	} else if (strncmp(e->p, "c++", 3) == 0) {
		cpp = true;
		e->p += 3;
	} else {
		cpp = true;
	}
	expr_skip_blanks(e);
	if (*e->p != '(')
		return expr_fail(e, EXPR_SYNTAX, e->p);
	open = e->p;
	if (!cpp) {
		e->p++;
		if (parse_binary(e, LEVEL_OR, v) < 0)
			return -1;
		expr_skip_blanks(e);
		if (*e->p != ')')
			return expr_fail(e, EXPR_SYNTAX, e->p);
		e->p++;
		return 0;
	}
	/* The matching parenthesis ends the C++ part. */
	for (n = 0; open[n] && n < sizeof(buf); n++) {
		if (open[n] == '(')
			level++;
		else if (open[n] == ')' && --level == 0)
			break;
	}
	if (open[n] != ')' || n >= sizeof(buf))
		return expr_fail(e, EXPR_SYNTAX, start);
	memcpy(buf, open + 1, n - 1);
	buf[n - 1] = '\0';
	if (kd_cpp__session_eval(e->s, kd_expr_eval, buf, &end, v, &e->cpp) <
	    0) {
		return expr_fail(e, EXPR_CPP, start);
	}
	while (end && (*end == ' ' || *end == '\t'))
		end++;
	if (end && *end)
		return expr_fail(e, EXPR_SYNTAX, open + 1 + (end - buf));
	e->p = open + n + 1;
	return 0;
}

/* Unary operator words: the read size (1..8) of a memory one, or 0. */
enum {
	U_NONE = 0,
	U_NOT,
	U_HI,
	U_LOW,
	U_BY,
	U_WO,
	U_DWO,
	U_QWO,
	U_POI,
	U_PBY,
	U_PWO,
	U_PDWO,
	U_PQWO,
	U_PPOI,
};

static int unary_word(const char *w, size_t len)
{
	static const struct {
		const char *name;
		int op;
	} words[] = {
		{ "not", U_NOT },    { "hi", U_HI },	  { "low", U_LOW },
		{ "by", U_BY },	     { "wo", U_WO },	  { "dwo", U_DWO },
		{ "qwo", U_QWO },    { "poi", U_POI },	  { "$pby", U_PBY },
		{ "$pwo", U_PWO },   { "$pdwo", U_PDWO }, { "$pqwo", U_PQWO },
		{ "$ppoi", U_PPOI },
	};
	size_t i;

	for (i = 0; i < KD_ARRAY_SIZE(words); i++) {
		if (word_is(w, len, words[i].name))
			return words[i].op;
	}
	return U_NONE;
}

static int parse_unary(struct expr *e, uint64_t *v)
{
	const char *start;
	size_t len;
	int op = U_NONE;
	bool paren;
	char ch;
	int rc;

	expr_skip_blanks(e);
	start = e->p;
	ch = *e->p;
	e->depth++;
	if (e->depth > EXPR_MAX_DEPTH) {
		e->depth--;
		return expr_fail(e, EXPR_SYNTAX, start);
	}
	if (ch == '-' || ch == '+' || ch == '~' ||
	    (ch == '!' && e->p[1] != '=')) {
		e->p++;
		rc = parse_unary(e, v);
		if (rc == 0) {
			if (ch == '-')
				*v = 0 - *v;
			else if (ch == '~')
				*v = ~*v;
			else if (ch == '!')
				*v = *v == 0;
		}
		e->depth--;
		return rc;
	}
	len = expr_word_len(e->p);
	if (len > 0)
		op = unary_word(e->p, len);
	if (op != U_NONE) {
		static const unsigned sizes[] = {
			[U_BY] = 1,  [U_WO] = 2,  [U_DWO] = 4,	[U_QWO] = 8,
			[U_PBY] = 1, [U_PWO] = 2, [U_PDWO] = 4, [U_PQWO] = 8,
		};
		unsigned size;

		e->p += len;
		expr_skip_blanks(e);
		paren = *e->p == '(';
		rc = parse_unary(e, v);
		e->depth--;
		if (rc < 0)
			return rc;
		switch (op) {
		case U_NOT:
			*v = *v == 0;
			return 0;
		case U_HI:
			*v = (*v >> 16) & 0xffff;
			return 0;
		case U_LOW:
			*v &= 0xffff;
			return 0;
		case U_POI:
		case U_PPOI:
			size = kd_is_ptr64(e->s) ? 8 : 4;
			break;
		default:
			size = sizes[op];
			break;
		}
		/* WinDbg quotes the text from the closing parenthesis. */
		if (expr_read(e, *v, size, op >= U_PBY, v) < 0)
			return expr_fail(e, EXPR_MEMORY,
					 paren ? e->p - 1 : e->p);
		return 0;
	}
	if (ch == '@' && e->p[1] == '@') {
		rc = parse_switch(e, v);
		e->depth--;
		return rc;
	}
	if (ch == '(') {
		e->p++;
		rc = parse_binary(e, LEVEL_OR, v);
		if (rc == 0) {
			expr_skip_blanks(e);
			if (*e->p != ')')
				rc = expr_fail(e, EXPR_SYNTAX, e->p);
			else
				e->p++;
		}
		e->depth--;
		return rc;
	}
	e->depth--;
	if (ch == '@' || ch == '$')
		return parse_at_name(e, v);
	if (ch == '.' && !expr_word_char(e->p[1])) {
		e->p++;
		if (expr_reg(e->s, kd_pc_get, v) < 0)
			return expr_fail(e, EXPR_BADREG, start);
		return 0;
	}
	if (len > 0)
		return parse_word(e, v);
	return expr_fail(e, EXPR_SYNTAX, start);
}

/* Match a binary operator of @p level at e->p (after blanks). */
static int match_op(struct expr *e, int level)
{
	const char *p = e->p;
	size_t len;
	int op = OP_NONE;
	size_t n = 1;

	switch (level) {
	case LEVEL_OR:
		if (p[0] == '|' && p[1] != '|')
			op = OP_OR;
		break;
	case LEVEL_XOR:
		if (p[0] == '^')
			op = OP_XOR;
		break;
	case LEVEL_AND:
		if (p[0] == '&' && p[1] != '&')
			op = OP_AND;
		break;
	case LEVEL_CMP:
		if (p[0] == '=' && p[1] == '=') {
			op = OP_EQ;
			n = 2;
		} else if (p[0] == '=') {
			op = OP_EQ;
		} else if (p[0] == '!' && p[1] == '=') {
			op = OP_NE;
			n = 2;
		} else if (p[0] == '<' && p[1] == '=') {
			op = OP_LE;
			n = 2;
		} else if (p[0] == '>' && p[1] == '=') {
			op = OP_GE;
			n = 2;
		} else if (p[0] == '<' && p[1] != '<') {
			op = OP_LT;
		} else if (p[0] == '>' && p[1] != '>') {
			op = OP_GT;
		}
		break;
	case LEVEL_SHF:
		if (p[0] == '<' && p[1] == '<') {
			op = OP_SHL;
			n = 2;
		} else if (p[0] == '>' && p[1] == '>' && p[2] == '>') {
			op = OP_SAR;
			n = 3;
		} else if (p[0] == '>' && p[1] == '>') {
			op = OP_SHR;
			n = 2;
		}
		break;
	case LEVEL_ADD:
		if (p[0] == '+')
			op = OP_ADD;
		else if (p[0] == '-')
			op = OP_SUB;
		break;
	case LEVEL_MUL:
		if (p[0] == '*')
			op = OP_MUL;
		else if (p[0] == '/')
			op = OP_DIV;
		else if (p[0] == '%')
			op = OP_MOD;
		break;
	default:
		break;
	}
	if (op == OP_NONE && isalpha((unsigned char)p[0])) {
		len = expr_word_len(p);
		n = len;
		if (level == LEVEL_OR && word_is(p, len, "or"))
			op = OP_OR;
		else if (level == LEVEL_XOR && word_is(p, len, "xor"))
			op = OP_XOR;
		else if (level == LEVEL_AND && word_is(p, len, "and"))
			op = OP_AND;
		else if (level == LEVEL_MUL && word_is(p, len, "mod"))
			op = OP_MOD;
	}
	if (op != OP_NONE)
		e->p += n;
	return op;
}

static uint64_t apply_op(int op, uint64_t a, uint64_t b)
{
	switch (op) {
	case OP_OR:
		return a | b;
	case OP_XOR:
		return a ^ b;
	case OP_AND:
		return a & b;
	case OP_EQ:
		return a == b;
	case OP_NE:
		return a != b;
	case OP_LT:
		return a < b;
	case OP_GT:
		return a > b;
	case OP_LE:
		return a <= b;
	case OP_GE:
		return a >= b;
	case OP_SHL:
		return b >= 64 ? 0 : a << b;
	case OP_SHR:
		return b >= 64 ? 0 : a >> b;
	case OP_SAR:
		if (b >= 64)
			b = 63;
		if (a & (UINT64_C(1) << 63))
			return ~(~a >> b);
		return a >> b;
	case OP_ADD:
		return a + b;
	case OP_SUB:
		return a - b;
	case OP_MUL:
		return a * b;
	case OP_DIV:
		return a / b;
	case OP_MOD:
		return a % b;
	default:
		return 0;
	}
}

static int parse_binary(struct expr *e, int level, uint64_t *v)
{
	const char *rhs_at;
	uint64_t rhs;
	int op;

	if (level >= LEVEL_TOP)
		return parse_unary(e, v);
	if (parse_binary(e, level + 1, v) < 0)
		return -1;
	for (;;) {
		const char *save = e->p;

		expr_skip_blanks(e);
		op = match_op(e, level);
		if (op == OP_NONE) {
			e->p = save;
			return 0;
		}
		expr_skip_blanks(e);
		rhs_at = e->p;
		if (parse_binary(e, level + 1, &rhs) < 0)
			return -1;
		if ((op == OP_DIV || op == OP_MOD) && rhs == 0)
			return expr_fail(e, EXPR_DIVZERO, rhs_at);
		*v = apply_op(op, *v, rhs);
	}
}

static int expr_run(struct kd_session *s, const char *text, struct expr *e,
		    uint64_t *value)
{
	uint64_t v = 0;

	*value = 0; /* written on failure too */
	memset(e, 0, sizeof(*e));
	e->s = s;
	e->p = text;
	if (parse_binary(e, LEVEL_OR, &v) < 0) {
		if (!e->err_at)
			e->err_at = e->p;
		return -1;
	}
	expr_skip_blanks(e);
	*value = v;
	return 0;
}

static int expr_code(enum expr_err err)
{
	switch (err) {
	case EXPR_RESOLVE:
	case EXPR_BADREG:
		return KD_ENOTFOUND;
	case EXPR_MEMORY:
		return KD_EFAULT;
	default:
		return KD_EINVAL;
	}
}

int kd_expr_eval(struct kd_session *s, const char *text, const char **end,
		 uint64_t *value)
{
	struct expr e;

	if (!s || !text || !value) {
		if (end)
			*end = text;
		return KD_EINVAL;
	}
	if (expr_run(s, text, &e, value) < 0) {
		if (end)
			*end = e.err_at;
		return expr_code(e.err);
	}
	if (end)
		*end = e.p;
	return KD_OK;
}

/* Offset of @p at in @p line, or 0 when it points elsewhere. */
static size_t line_offset(const char *line, const char *at)
{
	size_t len = strlen(line);

	if (at >= line && at <= line + len)
		return (size_t)(at - line);
	return 0;
}

/* The quoted rest of an expression in an error message, blanks trimmed. */
static int expr_report(struct kd_session *s, const char *line,
		       const struct expr *e)
{
	const char *at = e->err_at ? e->err_at : "";
	int len = (int)strnlen(at, 200);

	while (len > 0 && (at[len - 1] == ' ' || at[len - 1] == '\t'))
		len--;
	switch (e->err) {
	case EXPR_RESOLVE:
		kd_out(s, "Couldn't resolve error at '%.*s'\n", len, at);
		return KD_ENOTFOUND;
	case EXPR_MEMORY:
		kd_out(s, "Memory access error at '%.*s'\n", len, at);
		return KD_EFAULT;
	case EXPR_DIVZERO:
		kd_out(s, "Divide by zero error at '%.*s'\n", len, at);
		return KD_EINVAL;
	case EXPR_BADREG:
		kd_out(s, "Bad register error at '%.*s'\n", len, at);
		return KD_ENOTFOUND;
	case EXPR_CPP:
		kd_out(s, "%s\n", e->cpp.msg);
		return e->cpp.code < 0 ? e->cpp.code : KD_EINVAL;
	default:
		return kd_syntax_error(s, line, line_offset(line, at));
	}
}

int kd_expr_arg(struct kd_session *s, const char *line, const char **pos,
		uint64_t *value)
{
	struct expr e;

	if (expr_run(s, *pos, &e, value) < 0) {
		*pos = e.err_at;
		return expr_report(s, line, &e);
	}
	*pos = e.p;
	return KD_OK;
}

/* True when @p p can start an expression (an end address). */
static bool expr_can_start(const char *p)
{
	char ch = *p;

	return isalnum((unsigned char)ch) || ch == '_' || ch == '@' ||
	       ch == '$' || ch == '(' || ch == '-' || ch == '+' || ch == '~' ||
	       ch == '.' || (ch == '!' && p[1] != '=');
}

int kd_range_arg(struct kd_session *s, const char *line, const char **pos,
		 unsigned unit, uint64_t *addr, uint64_t *count,
		 bool *have_addr)
{
	const char *p = *pos;
	const char *count_at;
	uint64_t start, n, endaddr;
	bool unchecked = false;
	int rc;

	if (unit == 0)
		unit = 1;
	*have_addr = false;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == ';') {
		*pos = p;
		return KD_OK;
	}
	rc = kd_expr_arg(s, line, &p, &start);
	if (rc < 0) {
		*pos = p;
		return rc;
	}
	*have_addr = true;
	*addr = start;
	while (*p == ' ' || *p == '\t')
		p++;
	count_at = p;
	if ((*p == 'L' || *p == 'l') &&
	    (p[1] == '?' || expr_can_start(p + 1) || p[1] == ' ')) {
		p++;
		if (*p == '?') {
			unchecked = true;
			p++;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		rc = kd_expr_arg(s, line, &p, &n);
		if (rc < 0) {
			*pos = p;
			return rc;
		}
	} else if (*p != '\0' && expr_can_start(p)) {
		rc = kd_expr_arg(s, line, &p, &endaddr);
		if (rc < 0) {
			*pos = p;
			return rc;
		}
		if (endaddr < start) {
			*pos = p;
			return kd_range_error(s, line,
					      line_offset(line, count_at));
		}
		/* WinDbg's end address is inclusive. */
		n = (endaddr - start) / unit + 1;
	} else {
		*pos = p;
		return KD_OK;
	}
	if (n == 0 || (!unchecked && n > RANGE_MAX_BYTES / unit)) {
		*pos = p;
		return kd_range_error(s, line, line_offset(line, count_at));
	}
	*count = n;
	*pos = p;
	return KD_OK;
}
