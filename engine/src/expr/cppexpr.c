/* SPDX-License-Identifier: MIT */
/*
 * WinDbg's C++ expression evaluator: a recursive-descent parser over the
 * C grammar that evaluates as it parses (a `skip` flag parses the arm of
 * `&&`, `||` and `?:` that C does not evaluate), with typed values.
 * Everything it knows of the target comes through struct kd_cpp_ops.
 */
#define _DEFAULT_SOURCE 1 /* strnlen */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <kd/error.h>

#include "expr/cppexpr.h"

/* CodeView basic type indices (cvinfo.h T_*). */
#define T_VOID 0x03
#define T_BOOL08 0x30
#define T_CHAR 0x10
#define T_UCHAR 0x20
#define T_RCHAR 0x70
#define T_WCHAR 0x71
#define T_SHORT 0x11
#define T_USHORT 0x21
#define T_LONG 0x12
#define T_ULONG 0x22
#define T_QUAD 0x13
#define T_UQUAD 0x23
#define T_INT4 0x74
#define T_UINT4 0x75
#define T_INT8 0x76
#define T_UINT8 0x77
#define T_SHORT2 0x72
#define T_USHORT2 0x73
#define T_REAL32 0x40
#define T_REAL64 0x41

/* Type chains (modifier of alias of ...) followed at most this deep. */
#define TYPE_DEPTH 32
/* Members one walk visits at most, nested ones included. */
#define MEMBER_BUDGET 20000
/* Longest name (symbol, type, member) handled. */
#define NAME_MAX_LEN 256

struct cpp {
	const struct kd_cpp_ops *ops;
	const char *p;
	const char *text_end; /* bound of the text (KD_CPP_MAX_TEXT) */
	int depth;
	int skip; /* > 0: parse only, read nothing */
	struct kd_cpp_error *err;
	bool failed;
};

static struct kd_cpp_type basic(uint32_t ti)
{
	struct kd_cpp_type t = { NULL, ti, 0 };

	return t;
}

static int fail(struct cpp *c, int code, const char *at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct cpp *c, int code, const char *at, const char *fmt, ...)
{
	va_list ap;
	char *m;

	if (c->failed)
		return -1;
	c->failed = true;
	c->err->code = code;
	c->err->at = at;
	va_start(ap, fmt);
	vsnprintf(c->err->msg, sizeof(c->err->msg), fmt, ap);
	va_end(ap);
	/* The message quotes the text: keep it one printable line. */
	for (m = c->err->msg; *m; m++) {
		if ((unsigned char)*m < 0x20 || (unsigned char)*m >= 0x7f)
			*m = '?';
	}
	return -1;
}

/* ---- types ---------------------------------------------------------- */

static enum kd_cpp_kind basic_kind(uint32_t kind, bool *is_signed)
{
	*is_signed = false;
	switch (kind) {
	case T_VOID:
		return KD_CPP_VOID;
	case T_BOOL08:
		return KD_CPP_BOOL;
	case T_CHAR:
	case T_RCHAR:
		*is_signed = true;
		return KD_CPP_CHAR;
	case T_UCHAR:
	case T_WCHAR:
	case 0x7a:
	case 0x7b:
		return KD_CPP_CHAR;
	case T_SHORT:
	case T_SHORT2:
	case T_LONG:
	case T_INT4:
	case T_QUAD:
	case T_INT8:
	case 0x08: /* HRESULT */
		*is_signed = true;
		return KD_CPP_INT;
	case T_USHORT:
	case T_USHORT2:
	case T_ULONG:
	case T_UINT4:
	case T_UQUAD:
	case T_UINT8:
		return KD_CPP_INT;
	case T_REAL32:
	case T_REAL64:
		*is_signed = true;
		return KD_CPP_FLOAT;
	default:
		return KD_CPP_BAD;
	}
}

static uint64_t basic_size(uint32_t kind);

static const char *basic_name(uint32_t kind)
{
	switch (kind) {
	case T_VOID:
		return "void";
	case 0x08:
		return "HRESULT";
	case T_BOOL08:
		return "bool";
	case T_CHAR:
		return "signed char";
	case T_UCHAR:
		return "unsigned char";
	case T_RCHAR:
		return "char";
	case T_WCHAR:
		return "wchar_t";
	case 0x7a:
		return "char16_t";
	case 0x7b:
		return "char32_t";
	case T_SHORT:
	case T_SHORT2:
		return "short";
	case T_USHORT:
	case T_USHORT2:
		return "unsigned short";
	case T_LONG:
		return "long";
	case T_ULONG:
		return "unsigned long";
	case T_INT4:
		return "int";
	case T_UINT4:
		return "unsigned int";
	case T_QUAD:
	case T_INT8:
		return "__int64";
	case T_UQUAD:
	case T_UINT8:
		return "unsigned __int64";
	case T_REAL32:
		return "float";
	case T_REAL64:
		return "double";
	default:
		return "";
	}
}

static int tget(const struct kd_cpp_ops *ops, void *src, uint32_t ti,
		struct kd_pdb_type *out)
{
	memset(out, 0, sizeof(*out));
	out->name = "";
	out->unique_name = "";
	if (ti < 0x1000 && ((ti >> 8) & 0xf) == 0) {
		bool sg;

		/* Basic types need no source. */
		out->ti = ti;
		if (basic_kind(ti & 0xff, &sg) == KD_CPP_BAD)
			return KD_EINVAL;
		out->name = basic_name(ti & 0xff);
		out->size = basic_size(ti & 0xff);
		return KD_OK;
	}
	if (ti < 0x1000) {
		/* A pointer to a basic type (mode 4: 32-bit, 6: 64-bit). */
		out->ti = ti;
		out->leaf = KD_LF_POINTER;
		out->ref = ti & 0xff;
		out->size = ((ti >> 8) & 0xf) == 6 ? 8 : 4;
		return KD_OK;
	}
	if (!src || !ops->type_get)
		return KD_EINVAL;
	return ops->type_get(ops->ctx, src, ti, out);
}

static uint64_t basic_size(uint32_t kind)
{
	switch (kind) {
	case T_VOID:
		return 0;
	case T_CHAR:
	case T_UCHAR:
	case T_RCHAR:
	case T_BOOL08:
		return 1;
	case T_WCHAR:
	case 0x7a:
	case T_SHORT:
	case T_USHORT:
	case T_SHORT2:
	case T_USHORT2:
		return 2;
	case T_QUAD:
	case T_UQUAD:
	case T_INT8:
	case T_UINT8:
	case T_REAL64:
		return 8;
	default:
		return 4;
	}
}

int kd_cpp__tinfo(const struct kd_cpp_ops *ops, struct kd_cpp_type t,
		  struct kd_cpp_tinfo *out)
{
	struct kd_pdb_type r;
	unsigned depth;
	uint32_t full;

	memset(out, 0, sizeof(*out));
	out->name = "";
	if (t.nptr > 0) {
		out->kind = KD_CPP_PTR;
		out->size = ops->ptr_size;
		out->inner = t;
		out->inner.nptr--;
		return KD_OK;
	}
	for (depth = 0; depth < TYPE_DEPTH; depth++) {
		if (tget(ops, t.src, t.ti, &r) != KD_OK)
			return KD_EPROTO;
		out->ti = t.ti;
		switch (r.leaf) {
		case 0:
			out->kind = basic_kind(t.ti & 0xff, &out->is_signed);
			out->size = basic_size(t.ti & 0xff);
			out->name = r.name && *r.name ? r.name : "";
			return out->kind == KD_CPP_BAD ? KD_EPROTO : KD_OK;
		case KD_LF_MODIFIER:
		case KD_LF_ALIAS:
			t.ti = r.ref;
			continue;
		case KD_LF_POINTER:
			out->kind = KD_CPP_PTR;
			out->size = r.size ? r.size : ops->ptr_size;
			out->inner.src = t.src;
			out->inner.ti = r.ref;
			return KD_OK;
		case KD_LF_ARRAY:
			out->kind = KD_CPP_ARRAY;
			out->size = r.size;
			out->inner.src = t.src;
			out->inner.ti = r.ref;
			return KD_OK;
		case KD_LF_STRUCTURE:
		case KD_LF_CLASS:
		case KD_LF_UNION:
		case KD_LF_INTERFACE:
			if (r.forward) {
				if (!ops->type_resolve ||
				    ops->type_resolve(ops->ctx, t.src, t.ti,
						      &full) != KD_OK ||
				    full == t.ti)
					return KD_ENOTFOUND;
				t.ti = full;
				continue;
			}
			out->kind = KD_CPP_UDT;
			out->size = r.size;
			out->leaf = r.leaf;
			out->name = r.name ? r.name : "";
			return KD_OK;
		case KD_LF_ENUM:
			if (r.forward && ops->type_resolve &&
			    ops->type_resolve(ops->ctx, t.src, t.ti, &full) ==
				    KD_OK &&
			    full != t.ti) {
				t.ti = full;
				continue;
			}
			out->kind = KD_CPP_ENUM;
			out->inner.src = t.src;
			out->inner.ti = r.ref;
			out->size = basic_size(r.ref & 0xff);
			out->is_signed = true;
			if (r.ref < 0x1000)
				(void)basic_kind(r.ref & 0xff, &out->is_signed);
			out->name = r.name ? r.name : "";
			out->leaf = r.leaf;
			return KD_OK;
		case KD_LF_PROCEDURE:
		case KD_LF_MFUNCTION:
			out->kind = KD_CPP_FUNC;
			out->inner.src = t.src;
			out->inner.ti = r.ref;
			return KD_OK;
		case KD_LF_BITFIELD:
			t.ti = r.ref;
			continue;
		default:
			return KD_EPROTO;
		}
	}
	return KD_EPROTO;
}

/* Size of @p t in bytes (0 when unknown). */
static uint64_t type_size(const struct kd_cpp_ops *ops, struct kd_cpp_type t)
{
	struct kd_cpp_tinfo ti;

	if (kd_cpp__tinfo(ops, t, &ti) != KD_OK)
		return 0;
	return ti.size;
}

/* Append to a bounded buffer. */
static void cat(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void cat(char *buf, size_t cap, const char *fmt, ...)
{
	size_t n = strnlen(buf, cap);
	va_list ap;

	if (n + 1 >= cap)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, cap - n, fmt, ap);
	va_end(ap);
}

/*
 * The name of @p t into @p buf: the base part first, then the pointer
 * and array suffixes, built from the outside in (`char * [4]`).
 */
static void type_name_rec(const struct kd_cpp_ops *ops, struct kd_cpp_type t,
			  bool tagged, char *buf, size_t cap, unsigned depth)
{
	struct kd_cpp_tinfo ti;
	struct kd_pdb_type r;
	char inner[160];

	if (depth > TYPE_DEPTH || kd_cpp__tinfo(ops, t, &ti) != KD_OK) {
		cat(buf, cap, "<type 0x%x>", t.ti);
		return;
	}
	switch (ti.kind) {
	case KD_CPP_PTR:
		type_name_rec(ops, ti.inner, tagged, buf, cap, depth + 1);
		cat(buf, cap, " *");
		return;
	case KD_CPP_ARRAY: {
		uint64_t el = type_size(ops, ti.inner);

		type_name_rec(ops, ti.inner, tagged, buf, cap, depth + 1);
		cat(buf, cap, " [%llu]",
		    (unsigned long long)(el ? ti.size / el : 0));
		return;
	}
	case KD_CPP_UDT:
		if (tagged)
			cat(buf, cap, "%s ",
			    ti.leaf == KD_LF_UNION ? "union" :
			    ti.leaf == KD_LF_CLASS ? "class" :
						     "struct");
		cat(buf, cap, "%s", ti.name);
		return;
	case KD_CPP_ENUM:
		if (tagged)
			cat(buf, cap, "enum ");
		cat(buf, cap, "%s", ti.name);
		return;
	case KD_CPP_FUNC:
		inner[0] = '\0';
		type_name_rec(ops, ti.inner, tagged, inner, sizeof(inner),
			      depth + 1);
		cat(buf, cap, "%s (void)", inner);
		return;
	default:
		if (tget(ops, t.src, ti.ti, &r) == KD_OK && r.name && *r.name)
			cat(buf, cap, "%s", r.name);
		else
			cat(buf, cap, "%s", ti.name);
		return;
	}
}

void kd_cpp__type_name(const struct kd_cpp_ops *ops, struct kd_cpp_type t,
		       bool tagged, char *buf, size_t cap)
{
	if (cap == 0)
		return;
	buf[0] = '\0';
	type_name_rec(ops, t, tagged, buf, cap, 0);
}

/* ---- members -------------------------------------------------------- */

struct mwalk {
	unsigned *budget; /* members left to visit in this whole walk */
	const struct kd_cpp_ops *ops;
	void *src;
	uint64_t base;
	unsigned depth;
	int (*cb)(void *cbctx, const struct kd_cpp_member *m);
	void *cbctx;
	int rc;
};

static int members_rec(unsigned *budget, const struct kd_cpp_ops *ops,
		       void *src, uint32_t ti, uint64_t base, unsigned depth,
		       int (*cb)(void *, const struct kd_cpp_member *),
		       void *cbctx);

static int member_cb(void *ctx, const struct kd_pdb_field *f)
{
	struct mwalk *w = ctx;
	struct kd_cpp_member m;
	struct kd_pdb_type r;
	struct kd_cpp_tinfo ti;
	struct kd_cpp_type mt = { w->src, f->type, 0 };

	/* Hostile records can nest anonymous members and base classes in
	 * each other: the whole walk has a budget, not only a depth. */
	if (*w->budget == 0) {
		w->rc = KD_EPROTO;
		return w->rc;
	}
	(*w->budget)--;
	if (f->leaf == KD_LF_BCLASS) {
		/* A base class's members come first, at its offset. */
		if (kd_cpp__tinfo(w->ops, mt, &ti) == KD_OK &&
		    ti.kind == KD_CPP_UDT) {
			w->rc = members_rec(w->budget, w->ops, w->src, ti.ti,
					    w->base + f->offset, w->depth + 1,
					    w->cb, w->cbctx);
			return w->rc;
		}
		return 0;
	}
	if (f->leaf != KD_LF_MEMBER)
		return 0;
	memset(&m, 0, sizeof(m));
	m.name = f->name ? f->name : "";
	m.type = mt;
	m.offset = w->base + f->offset;
	if (tget(w->ops, w->src, f->type, &r) == KD_OK &&
	    r.leaf == KD_LF_BITFIELD) {
		m.type.ti = r.ref;
		m.bit_pos = r.bit_pos;
		m.bit_len = r.bit_len;
	}
	w->rc = w->cb(w->cbctx, &m);
	return w->rc;
}

static int members_rec(unsigned *budget, const struct kd_cpp_ops *ops,
		       void *src, uint32_t ti, uint64_t base, unsigned depth,
		       int (*cb)(void *, const struct kd_cpp_member *),
		       void *cbctx)
{
	struct mwalk w = { budget, ops, src, base, depth, cb, cbctx, 0 };
	int rc;

	if (depth > TYPE_DEPTH || !ops->type_fields)
		return KD_EPROTO;
	rc = ops->type_fields(ops->ctx, src, ti, member_cb, &w);
	if (w.rc != 0)
		return w.rc;
	return rc < 0 ? rc : 0;
}

int kd_cpp__members(const struct kd_cpp_ops *ops, struct kd_cpp_type udt,
		    int (*cb)(void *cbctx, const struct kd_cpp_member *m),
		    void *cbctx)
{
	unsigned budget = MEMBER_BUDGET;
	struct kd_cpp_tinfo ti;

	if (kd_cpp__tinfo(ops, udt, &ti) != KD_OK || ti.kind != KD_CPP_UDT)
		return KD_EINVAL;
	return members_rec(&budget, ops, udt.src, ti.ti, 0, 0, cb, cbctx);
}

struct mfind {
	unsigned *budget;
	const struct kd_cpp_ops *ops;
	const char *name;
	size_t len;
	unsigned depth;
	struct kd_cpp_member found;
	bool hit;
};

static int find_cb(void *ctx, const struct kd_cpp_member *m)
{
	struct mfind *f = ctx;
	struct kd_cpp_tinfo ti;

	if (strlen(m->name) == f->len &&
	    memcmp(m->name, f->name, f->len) == 0) {
		f->found = *m;
		f->hit = true;
		return 1;
	}
	/* Members of an anonymous union or struct are the parent's. */
	if ((m->name[0] == '\0' || strstr(m->name, "<unnamed") ||
	     strstr(m->name, "__unnamed")) &&
	    f->depth < 8 && kd_cpp__tinfo(f->ops, m->type, &ti) == KD_OK &&
	    ti.kind == KD_CPP_UDT) {
		struct mfind sub = *f;
		int rc;

		sub.depth++;
		sub.hit = false;
		rc = members_rec(f->budget, f->ops, m->type.src, ti.ti,
				 m->offset, sub.depth, find_cb, &sub);
		if (rc == 1 && sub.hit) {
			f->found = sub.found;
			f->hit = true;
			return 1;
		}
	}
	return 0;
}

static bool find_member(const struct kd_cpp_ops *ops, struct kd_cpp_type udt,
			const char *name, size_t len, struct kd_cpp_member *out)
{
	unsigned budget = MEMBER_BUDGET;
	struct mfind f;

	memset(&f, 0, sizeof(f));
	f.budget = &budget;
	f.ops = ops;
	f.name = name;
	f.len = len;
	if (kd_cpp__members(ops, udt, find_cb, &f) < 0 || !f.hit)
		return false;
	*out = f.found;
	return true;
}

struct efind {
	uint64_t v;
	uint64_t mask;
	const char *name;
};

static int enum_cb(void *ctx, const struct kd_pdb_field *f)
{
	struct efind *e = ctx;

	if (f->leaf == KD_LF_ENUMERATE &&
	    ((uint64_t)f->value & e->mask) == (e->v & e->mask)) {
		e->name = f->name;
		return 1;
	}
	return 0;
}

const char *kd_cpp__enum_name(const struct kd_cpp_ops *ops,
			      struct kd_cpp_type t, uint64_t v)
{
	struct kd_cpp_tinfo ti;
	struct efind e = { v, ~UINT64_C(0), NULL };

	if (kd_cpp__tinfo(ops, t, &ti) != KD_OK || ti.kind != KD_CPP_ENUM ||
	    !ops->type_fields)
		return NULL;
	if (ti.size > 0 && ti.size < 8)
		e.mask = (UINT64_C(1) << (ti.size * 8)) - 1;
	(void)ops->type_fields(ops->ctx, t.src, ti.ti, enum_cb, &e);
	return e.name;
}

/* ---- values --------------------------------------------------------- */

static uint64_t fit(uint64_t v, uint64_t size, bool is_signed)
{
	if (size == 0 || size >= 8)
		return v;
	v &= (UINT64_C(1) << (size * 8)) - 1;
	if (is_signed && (v >> (size * 8 - 1)) & 1)
		v |= ~((UINT64_C(1) << (size * 8)) - 1);
	return v;
}

int kd_cpp__load(const struct kd_cpp_ops *ops, const struct kd_cpp_value *v,
		 uint64_t *out)
{
	struct kd_cpp_tinfo ti;
	uint8_t buf[8];
	uint64_t x = 0;
	size_t i, n;

	if (!v->lvalue) {
		*out = v->v;
		return KD_OK;
	}
	if (kd_cpp__tinfo(ops, v->type, &ti) != KD_OK)
		return KD_EPROTO;
	switch (ti.kind) {
	case KD_CPP_ARRAY:
	case KD_CPP_UDT:
	case KD_CPP_FUNC:
		*out = v->addr;
		return KD_OK;
	case KD_CPP_VOID:
	case KD_CPP_BAD:
		return KD_EINVAL;
	default:
		break;
	}
	n = ti.size > 8 ? 8 : (size_t)ti.size;
	if (n == 0)
		return KD_EINVAL;
	if (!ops->read || ops->read(ops->ctx, v->addr, buf, n) < 0)
		return KD_EFAULT;
	for (i = n; i > 0; i--)
		x = (x << 8) | buf[i - 1];
	if (v->bit_len > 0) {
		x >>= v->bit_pos < 64 ? v->bit_pos : 63;
		if (v->bit_len < 64)
			x &= (UINT64_C(1) << v->bit_len) - 1;
		*out = x;
		return KD_OK;
	}
	*out = ti.kind == KD_CPP_FLOAT ? x : fit(x, n, ti.is_signed);
	return KD_OK;
}

/* ---- lexing ----------------------------------------------------------- */

static void skip_blanks(struct cpp *c)
{
	while (c->p < c->text_end && (*c->p == ' ' || *c->p == '\t'))
		c->p++;
}

static char peek(struct cpp *c)
{
	skip_blanks(c);
	if (c->p >= c->text_end)
		return '\0';
	return *c->p;
}

static bool ident_start(char ch)
{
	return isalpha((unsigned char)ch) || ch == '_' || ch == '$';
}

static bool ident_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '_' || ch == '$';
}

/* Length of the identifier at @p p, `module!name` included. */
static size_t ident_len(const struct cpp *c, const char *p, bool module)
{
	size_t n = 0;

	if (p >= c->text_end || !ident_start(*p))
		return 0;
	while (p + n < c->text_end && n < NAME_MAX_LEN) {
		if (ident_char(p[n]) ||
		    (module && p[n] == '!' && p + n + 1 < c->text_end &&
		     ident_start(p[n + 1]) && !memchr(p, '!', n)))
			n++;
		else
			break;
	}
	return n;
}

static bool accept(struct cpp *c, const char *tok)
{
	size_t n = strlen(tok);

	skip_blanks(c);
	if ((size_t)(c->text_end - c->p) >= n && memcmp(c->p, tok, n) == 0) {
		c->p += n;
		return true;
	}
	return false;
}

static bool word_at(struct cpp *c, const char *w)
{
	size_t n = strlen(w);

	skip_blanks(c);
	return (size_t)(c->text_end - c->p) >= n && memcmp(c->p, w, n) == 0 &&
	       (c->p + n == c->text_end || !ident_char(c->p[n]));
}

static int expect(struct cpp *c, char ch)
{
	if (peek(c) != ch)
		return fail(c, KD_EINVAL, c->p, "Syntax error: expected '%c'",
			    ch);
	c->p++;
	return 0;
}

/* ---- type names ------------------------------------------------------- */

static const struct {
	const char *name;
	uint32_t ti;
} basic_names[] = {
	/* Multi-word C spellings are assembled in parse_basic(). */
	{ "bool", T_BOOL08 },
	{ "wchar_t", T_WCHAR },
	{ "__int64", T_INT8 },
	{ "float", T_REAL32 },
	{ "double", T_REAL64 },
	{ "void", T_VOID },
	/* The Windows names WinDbg's C++ evaluator knows. */
	{ "CHAR", T_RCHAR },
	{ "UCHAR", T_UCHAR },
	{ "BOOLEAN", T_UCHAR },
	{ "BYTE", T_UCHAR },
	{ "SHORT", T_SHORT },
	{ "USHORT", T_USHORT },
	{ "WORD", T_USHORT },
	{ "WCHAR", T_WCHAR },
	{ "LONG", T_LONG },
	{ "ULONG", T_ULONG },
	{ "DWORD", T_ULONG },
	{ "INT", T_INT4 },
	{ "UINT", T_UINT4 },
	{ "LONG64", T_INT8 },
	{ "LONGLONG", T_INT8 },
	{ "ULONG64", T_UINT8 },
	{ "ULONGLONG", T_UINT8 },
	{ "DWORD64", T_UINT8 },
	{ "ULONG_PTR", T_UINT8 },
	{ "SIZE_T", T_UINT8 },
	{ "PVOID", 0x600 | T_VOID },
};

/* `unsigned long long` and friends; true with *ti when one is here. */
static bool parse_basic(struct cpp *c, uint32_t *ti)
{
	const char *save = c->p;
	bool is_unsigned = false, is_signed = false;
	int shorts = 0, longs = 0, ints = 0, chars = 0, words = 0;
	size_t i, n;

	for (;;) {
		skip_blanks(c);
		n = ident_len(c, c->p, false);
		if (n == 0)
			break;
		if (n == 8 && memcmp(c->p, "unsigned", 8) == 0)
			is_unsigned = true;
		else if (n == 6 && memcmp(c->p, "signed", 6) == 0)
			is_signed = true;
		else if (n == 5 && memcmp(c->p, "short", 5) == 0)
			shorts++;
		else if (n == 4 && memcmp(c->p, "long", 4) == 0)
			longs++;
		else if (n == 3 && memcmp(c->p, "int", 3) == 0)
			ints++;
		else if (n == 4 && memcmp(c->p, "char", 4) == 0)
			chars++;
		else if (n == 7 && memcmp(c->p, "__int64", 7) == 0)
			longs += 2;
		else if (n == 5 && memcmp(c->p, "const", 5) == 0)
			;
		else if (words == 0) {
			for (i = 0;
			     i < sizeof(basic_names) / sizeof(basic_names[0]);
			     i++) {
				if (strlen(basic_names[i].name) == n &&
				    memcmp(c->p, basic_names[i].name, n) == 0) {
					c->p += n;
					*ti = basic_names[i].ti;
					return true;
				}
			}
			break;
		} else {
			break;
		}
		c->p += n;
		words++;
	}
	if (words == 0 || (shorts + chars > 1) || longs > 2) {
		c->p = save;
		return false;
	}
	if (chars)
		*ti = is_unsigned ? T_UCHAR : is_signed ? T_CHAR : T_RCHAR;
	else if (shorts)
		*ti = is_unsigned ? T_USHORT : T_SHORT;
	else if (longs == 2)
		*ti = is_unsigned ? T_UINT8 : T_INT8;
	else if (longs == 1)
		*ti = is_unsigned ? T_ULONG : T_LONG;
	else
		*ti = is_unsigned ? T_UINT4 : T_INT4;
	(void)ints;
	return true;
}

/*
 * A type name at c->p: a basic type, or `[struct|class|union|enum]
 * [module!]Name`, then `*`s.  Without @p must, not finding one leaves
 * c->p where it was and returns 0 (the caller parses an expression);
 * 1 when a type was read.
 */
static int parse_type(struct cpp *c, bool must, struct kd_cpp_type *t)
{
	const char *save = c->p;
	char name[NAME_MAX_LEN + 1];
	uint32_t ti;
	bool tagged = false;
	size_t n;

	skip_blanks(c);
	(void)accept(c, "const ");
	if (parse_basic(c, &ti)) {
		*t = basic(ti);
		if ((ti >> 8) != 0) {
			t->ti = ti & 0xff;
			t->nptr = 1;
		}
	} else {
		static const char *const tags[] = { "struct", "class", "union",
						    "enum" };
		size_t i;

		for (i = 0; i < 4; i++) {
			if (word_at(c, tags[i])) {
				c->p += strlen(tags[i]);
				tagged = true;
				break;
			}
		}
		skip_blanks(c);
		n = ident_len(c, c->p, true);
		if (n == 0 || n > NAME_MAX_LEN || !c->ops->type_named) {
			c->p = save;
			if (must || tagged)
				return fail(c, KD_EINVAL, save,
					    "Syntax error: type name expected");
			return 0;
		}
		memcpy(name, c->p, n);
		name[n] = '\0';
		if (c->ops->type_named(c->ops->ctx, name, t) != KD_OK) {
			if (must || tagged)
				return fail(c, KD_ENOTFOUND, c->p,
					    "Couldn't resolve type '%s'", name);
			c->p = save;
			return 0;
		}
		c->p += n;
	}
	for (;;) {
		skip_blanks(c);
		if (accept(c, "const"))
			continue;
		if (peek(c) != '*')
			break;
		c->p++;
		if (t->nptr >= 16)
			return fail(c, KD_EINVAL, c->p,
				    "Syntax error: too many pointer levels");
		t->nptr++;
	}
	return 1;
}

/* ---- evaluation ------------------------------------------------------- */

static int parse_cond(struct cpp *c, struct kd_cpp_value *v);
static int parse_unary(struct cpp *c, struct kd_cpp_value *v);

static void set_int(struct kd_cpp_value *v, uint32_t ti, uint64_t x)
{
	memset(v, 0, sizeof(*v));
	v->type = basic(ti);
	v->v = x;
}

/* The rvalue of @p v: arrays and functions decay to pointers. */
static int rvalue(struct cpp *c, struct kd_cpp_value *v, const char *at)
{
	struct kd_cpp_tinfo ti;
	uint64_t x;
	int rc;

	if (kd_cpp__tinfo(c->ops, v->type, &ti) != KD_OK)
		return fail(c, KD_EPROTO, at, "Type information damaged");
	if (ti.kind == KD_CPP_ARRAY || ti.kind == KD_CPP_FUNC) {
		if (!v->lvalue)
			return 0;
		v->v = v->addr;
		v->lvalue = false;
		if (ti.kind == KD_CPP_ARRAY)
			v->type = ti.inner;
		v->type.nptr++;
		return 0;
	}
	if (!v->lvalue)
		return 0;
	if (ti.kind == KD_CPP_UDT)
		return 0; /* an aggregate stays where it is */
	if (c->skip) {
		/* Parsed for its type only (sizeof, the arm not taken). */
		v->lvalue = false;
		v->bit_len = 0;
		v->v = 0;
		return 0;
	}
	if (ti.kind == KD_CPP_VOID) {
		/* A symbol without type information (a function, a public,
		 * an export) stands for its address, as in MASM. */
		v->type.nptr++;
		v->v = v->addr;
		v->lvalue = false;
		return 0;
	}
	rc = kd_cpp__load(c->ops, v, &x);
	if (rc == KD_EFAULT)
		return fail(c, KD_EFAULT, at, "Memory access error at %llx",
			    (unsigned long long)v->addr);
	if (rc < 0)
		return fail(c, rc, at, "Cannot read a value of this type");
	if (v->bit_len > 0)
		v->bit_len = 0;
	v->v = x;
	v->lvalue = false;
	return 0;
}

/* The scalar kind of an rvalue, for arithmetic. */
static int scalar(struct cpp *c, struct kd_cpp_value *v, const char *at,
		  struct kd_cpp_tinfo *ti)
{
	if (rvalue(c, v, at) < 0)
		return -1;
	if (kd_cpp__tinfo(c->ops, v->type, ti) != KD_OK)
		return fail(c, KD_EPROTO, at, "Type information damaged");
	switch (ti->kind) {
	case KD_CPP_BOOL:
	case KD_CPP_CHAR:
	case KD_CPP_INT:
	case KD_CPP_ENUM:
	case KD_CPP_PTR:
		return 0;
	case KD_CPP_FLOAT:
		return fail(c, KD_ENOTSUP, at,
			    "Floating-point arithmetic is not supported");
	default:
		return fail(c, KD_EINVAL, at,
			    "Operator needs a scalar, not a structure or void");
	}
}

/* The usual arithmetic conversions: the result type of @p a op @p b. */
static uint32_t arith_type(const struct kd_cpp_tinfo *a,
			   const struct kd_cpp_tinfo *b)
{
	bool au = !a->is_signed && a->size >= 4;
	bool bu = !b->is_signed && b->size >= 4;

	if (a->size >= 8 || b->size >= 8) {
		if ((a->size >= 8 && au) || (b->size >= 8 && bu))
			return T_UINT8;
		return T_INT8;
	}
	return au || bu ? T_UINT4 : T_INT4;
}

static bool type_signed(uint32_t ti)
{
	return ti == T_INT4 || ti == T_INT8;
}

static uint64_t pointee_size(struct cpp *c, const struct kd_cpp_tinfo *ti)
{
	uint64_t n = type_size(c->ops, ti->inner);

	/* void * and unknown pointees step by bytes, as WinDbg does. */
	return n ? n : 1;
}

enum {
	B_MUL = 1,
	B_DIV,
	B_MOD,
	B_ADD,
	B_SUB,
	B_SHL,
	B_SHR,
	B_LT,
	B_GT,
	B_LE,
	B_GE,
	B_EQ,
	B_NE,
	B_AND,
	B_XOR,
	B_OR,
};

/* Apply binary operator @p op to @p a and @p b into @p a. */
static int binary(struct cpp *c, int op, struct kd_cpp_value *a,
		  struct kd_cpp_value *b, const char *at)
{
	struct kd_cpp_tinfo ta, tb;
	uint32_t rt;
	uint64_t x, y, r = 0;
	bool sg;

	if (scalar(c, a, at, &ta) < 0 || scalar(c, b, at, &tb) < 0)
		return -1;
	x = a->v;
	y = b->v;
	/* Pointer arithmetic, by the size of what is pointed to. */
	if (ta.kind == KD_CPP_PTR || tb.kind == KD_CPP_PTR) {
		if (op == B_ADD && ta.kind == KD_CPP_PTR &&
		    tb.kind != KD_CPP_PTR) {
			a->v = x + y * pointee_size(c, &ta);
			return 0;
		}
		if (op == B_ADD && tb.kind == KD_CPP_PTR) {
			a->type = b->type;
			a->v = y + x * pointee_size(c, &tb);
			return 0;
		}
		if (op == B_SUB && ta.kind == KD_CPP_PTR &&
		    tb.kind != KD_CPP_PTR) {
			a->v = x - y * pointee_size(c, &ta);
			return 0;
		}
		if (op == B_SUB && ta.kind == KD_CPP_PTR) {
			uint64_t n = pointee_size(c, &ta);

			if (pointee_size(c, &tb) != n)
				return fail(c, KD_EINVAL, at,
					    "Pointers to different types "
					    "cannot be subtracted");
			set_int(a, T_INT8,
				(uint64_t)((int64_t)(x - y) / (int64_t)n));
			return 0;
		}
		if (op >= B_LT && op <= B_NE) {
			ta.is_signed = tb.is_signed = false;
			ta.size = tb.size = 8;
		} else {
			return fail(c, KD_EINVAL, at,
				    "Operator not allowed on a pointer");
		}
	}
	rt = arith_type(&ta, &tb);
	sg = type_signed(rt);
	x = fit(x, rt == T_INT4 || rt == T_UINT4 ? 4 : 8, sg);
	y = fit(y, rt == T_INT4 || rt == T_UINT4 ? 4 : 8, sg);
	switch (op) {
	case B_MUL:
		r = x * y;
		break;
	case B_DIV:
	case B_MOD:
		if (y == 0 && c->skip)
			break;
		if (y == 0)
			return fail(c, KD_EINVAL, at, "Divide by zero");
		if (sg && (int64_t)y == -1)
			r = op == B_DIV ? 0 - x : 0;
		else if (sg)
			r = op == B_DIV ? (uint64_t)((int64_t)x / (int64_t)y) :
					  (uint64_t)((int64_t)x % (int64_t)y);
		else
			r = op == B_DIV ? x / y : x % y;
		break;
	case B_ADD:
		r = x + y;
		break;
	case B_SUB:
		r = x - y;
		break;
	case B_SHL:
		r = y >= 64 ? 0 : x << y;
		break;
	case B_SHR:
		if (y >= 64)
			y = 63;
		r = sg ? (uint64_t)((int64_t)x >> y) : x >> y;
		break;
	case B_LT:
	case B_GT:
	case B_LE:
	case B_GE:
	case B_EQ:
	case B_NE: {
		bool lt = sg ? (int64_t)x < (int64_t)y : x < y;
		bool gt = sg ? (int64_t)x > (int64_t)y : x > y;

		r = op == B_LT ? lt :
		    op == B_GT ? gt :
		    op == B_LE ? !gt :
		    op == B_GE ? !lt :
		    op == B_EQ ? x == y :
				 x != y;
		set_int(a, T_BOOL08, r);
		return 0;
	}
	case B_AND:
		r = x & y;
		break;
	case B_XOR:
		r = x ^ y;
		break;
	case B_OR:
		r = x | y;
		break;
	default:
		break;
	}
	set_int(a, rt, fit(r, rt == T_INT4 || rt == T_UINT4 ? 4 : 8, sg));
	return 0;
}

/* A number: decimal, 0x hex, 0 octal, 0n decimal, with C suffixes. */
static int parse_number(struct cpp *c, struct kd_cpp_value *v)
{
	const char *start = c->p;
	unsigned radix = 10;
	uint64_t x = 0;
	size_t digits = 0;
	bool u = false, big = false, dec;

	if (c->p + 1 < c->text_end && c->p[0] == '0' &&
	    (c->p[1] == 'x' || c->p[1] == 'X')) {
		radix = 16;
		c->p += 2;
	} else if (c->p + 1 < c->text_end && c->p[0] == '0' &&
		   (c->p[1] == 'n' || c->p[1] == 'N')) {
		c->p += 2;
	} else if (c->p[0] == '0') {
		radix = 8;
	}
	dec = radix == 10;
	while (c->p < c->text_end) {
		char ch = *c->p;
		unsigned d;

		if (ch == '`' && digits > 0) {
			c->p++;
			continue;
		}
		if (isdigit((unsigned char)ch))
			d = (unsigned)(ch - '0');
		else if (radix == 16 && isxdigit((unsigned char)ch))
			d = (unsigned)(tolower((unsigned char)ch) - 'a' + 10);
		else
			break;
		if (d >= radix)
			return fail(c, KD_EINVAL, start,
				    "Syntax error: bad digit in number");
		if (x > (UINT64_MAX - d) / radix)
			return fail(c, KD_EINVAL, start,
				    "Syntax error: number too large");
		x = x * radix + d;
		digits++;
		c->p++;
	}
	if (digits == 0 && radix != 8)
		return fail(c, KD_EINVAL, start, "Syntax error: bad number");
	/* Suffixes: u, l, ll, i64 in any case and order WinDbg takes. */
	for (;;) {
		if (c->p < c->text_end && (*c->p == 'u' || *c->p == 'U')) {
			u = true;
			c->p++;
		} else if (c->p < c->text_end &&
			   (*c->p == 'l' || *c->p == 'L')) {
			c->p++;
			if (c->p < c->text_end &&
			    (*c->p == 'l' || *c->p == 'L')) {
				big = true;
				c->p++;
			}
		} else if (c->text_end - c->p >= 3 &&
			   (c->p[0] == 'i' || c->p[0] == 'I') &&
			   c->p[1] == '6' && c->p[2] == '4') {
			big = true;
			c->p += 3;
		} else {
			break;
		}
	}
	if (c->p < c->text_end && (ident_char(*c->p) || *c->p == '.'))
		return fail(c, KD_EINVAL, start, "Syntax error: bad number");
	/* The C type: int, then unsigned int (hex/octal), then __int64. */
	if (!big && x <= 0x7fffffff && !u)
		set_int(v, T_INT4, x);
	else if (!big && x <= 0xffffffff && (u || !dec))
		set_int(v, T_UINT4, x);
	else if (!u && x <= INT64_MAX)
		set_int(v, T_INT8, x);
	else
		set_int(v, T_UINT8, x);
	return 0;
}

/* A character literal: 'a', '\n', '\x41', '\0', L'a'. */
static int parse_char(struct cpp *c, struct kd_cpp_value *v, bool wide)
{
	const char *start = c->p;
	uint64_t x = 0;

	c->p++; /* the quote */
	if (c->p >= c->text_end)
		return fail(c, KD_EINVAL, start, "Syntax error: bad character");
	if (*c->p == '\\') {
		c->p++;
		if (c->p >= c->text_end)
			return fail(c, KD_EINVAL, start,
				    "Syntax error: bad character");
		switch (*c->p) {
		case 'n':
			x = '\n';
			break;
		case 't':
			x = '\t';
			break;
		case 'r':
			x = '\r';
			break;
		case '0':
			x = 0;
			break;
		case '\\':
		case '\'':
		case '"':
			x = (unsigned char)*c->p;
			break;
		case 'x': {
			int n = 0;

			while (c->p + 1 < c->text_end &&
			       isxdigit((unsigned char)c->p[1]) && n < 4) {
				char h = (char)tolower((unsigned char)c->p[1]);

				x = x * 16 +
				    (unsigned)(isdigit((unsigned char)h) ?
						       h - '0' :
						       h - 'a' + 10);
				c->p++;
				n++;
			}
			if (n == 0)
				return fail(c, KD_EINVAL, start,
					    "Syntax error: bad character");
			break;
		}
		default:
			return fail(c, KD_EINVAL, start,
				    "Syntax error: bad character");
		}
		c->p++;
	} else {
		x = (unsigned char)*c->p++;
	}
	if (c->p >= c->text_end || *c->p != '\'')
		return fail(c, KD_EINVAL, start, "Syntax error: bad character");
	c->p++;
	set_int(v, wide ? T_WCHAR : T_RCHAR,
		wide ? x & 0xffff : fit(x & 0xff, 1, true));
	return 0;
}

/* The text of a nested evaluator's parentheses: find the matching ')'. */
static const char *matching_paren(struct cpp *c, const char *open)
{
	const char *p = open + 1;
	int level = 1;

	while (p < c->text_end) {
		if (*p == '(')
			level++;
		else if (*p == ')' && --level == 0)
			return p;
		p++;
	}
	return NULL;
}

/* @@masm(...), @@c++(...), @@(...) at c->p (past the "@@"). */
static int parse_switch(struct cpp *c, struct kd_cpp_value *v)
{
	const char *start = c->p - 2;
	const char *open, *close, *end = NULL;
	bool masm;
	uint64_t x = 0;
	char buf[KD_CPP_MAX_TEXT];
	size_t n;

	if (c->text_end - c->p >= 4 && memcmp(c->p, "masm", 4) == 0) {
		masm = true;
		c->p += 4;
	} else if (c->text_end - c->p >= 3 && memcmp(c->p, "c++", 3) == 0) {
		masm = false;
		c->p += 3;
	} else {
		masm = true; /* @@() inside C++ is MASM */
	}
	if (peek(c) != '(')
		return fail(c, KD_EINVAL, c->p, "Syntax error: '(' expected");
	open = c->p;
	close = matching_paren(c, open);
	if (!close)
		return fail(c, KD_EINVAL, open, "Syntax error: ')' missing");
	if (!masm) {
		/* @@c++() in C++ is just parentheses. */
		c->p = open + 1;
		if (parse_cond(c, v) < 0)
			return -1;
		return expect(c, ')');
	}
	if (!c->ops->masm)
		return fail(c, KD_ENOTSUP, start,
			    "MASM expressions are not available here");
	n = (size_t)(close - open - 1);
	if (n >= sizeof(buf))
		return fail(c, KD_EINVAL, start, "Expression too long");
	memcpy(buf, open + 1, n);
	buf[n] = '\0';
	if (!c->skip) {
		if (c->ops->masm(c->ops->ctx, buf, &end, &x) < 0)
			return fail(c, KD_EINVAL,
				    end ? open + 1 + (end - buf) : open,
				    "MASM expression failed: '%s'", buf);
		while (end && (*end == ' ' || *end == '\t'))
			end++;
		if (end && *end)
			return fail(c, KD_EINVAL, open + 1 + (end - buf),
				    "Syntax error in MASM expression '%s'",
				    buf);
	}
	c->p = close + 1;
	set_int(v, T_UINT8, x);
	return 0;
}

/* @name: a register or pseudo-register; $name as well. */
static int parse_register(struct cpp *c, struct kd_cpp_value *v)
{
	const char *start = c->p;
	char name[NAME_MAX_LEN + 1];
	unsigned size = 8;
	uint64_t x = 0;
	size_t n;

	if (*c->p == '@')
		c->p++;
	n = ident_len(c, c->p, false);
	if (n == 0 || n > NAME_MAX_LEN)
		return fail(c, KD_EINVAL, start, "Syntax error: bad register");
	memcpy(name, c->p, n);
	name[n] = '\0';
	c->p += n;
	if (!c->skip &&
	    (!c->ops->reg || c->ops->reg(c->ops->ctx, name, &x, &size) < 0))
		return fail(c, KD_ENOTFOUND, start,
			    "Bad register error at '%s'", name);
	set_int(v,
		size == 1 ? T_UCHAR :
		size == 2 ? T_USHORT :
		size == 4 ? T_UINT4 :
			    T_UINT8,
		x);
	return 0;
}

/* A global or local by name. */
static int parse_symbol(struct cpp *c, struct kd_cpp_value *v)
{
	const char *start = c->p;
	char name[NAME_MAX_LEN + 1];
	struct kd_cpp_type t = { NULL, 0, 0 };
	bool is_value = false;
	uint64_t x = 0;
	size_t n = ident_len(c, c->p, true);

	if (n == 0 || n > NAME_MAX_LEN)
		return fail(c, KD_EINVAL, start, "Syntax error");
	memcpy(name, c->p, n);
	name[n] = '\0';
	c->p += n;
	memset(v, 0, sizeof(*v));
	if (!c->ops->symbol ||
	    c->ops->symbol(c->ops->ctx, name, &x, &is_value, &t) < 0)
		return fail(c, KD_ENOTFOUND, start,
			    "Couldn't resolve error at '%s'", name);
	v->type = t.ti ? t : basic(T_VOID);
	if (is_value) {
		v->v = x;
	} else {
		v->lvalue = true;
		v->addr = x;
	}
	return 0;
}

/* sizeof(type), sizeof expr, #FIELD_OFFSET(type, field). */
static int parse_sizeof(struct cpp *c, struct kd_cpp_value *v)
{
	const char *at = c->p;
	struct kd_cpp_type t;
	struct kd_cpp_value e;
	const char *save;
	int rc;

	skip_blanks(c);
	save = c->p;
	if (accept(c, "(")) {
		rc = parse_type(c, false, &t);
		if (rc < 0)
			return -1;
		if (rc == 1 && peek(c) == ')') {
			c->p++;
			set_int(v, T_UINT4, type_size(c->ops, t));
			return 0;
		}
		c->p = save;
	}
	/* sizeof applies to the expression's type; nothing is read. */
	c->skip++;
	rc = parse_unary(c, &e);
	c->skip--;
	if (rc < 0)
		return -1;
	(void)at;
	set_int(v, T_UINT4, type_size(c->ops, e.type));
	return 0;
}

static int parse_field_offset(struct cpp *c, struct kd_cpp_value *v)
{
	struct kd_cpp_type t;
	struct kd_cpp_member m;
	const char *at;
	size_t n;

	if (expect(c, '(') < 0 || parse_type(c, true, &t) < 0 ||
	    expect(c, ',') < 0)
		return -1;
	skip_blanks(c);
	at = c->p;
	n = ident_len(c, c->p, false);
	if (n == 0)
		return fail(c, KD_EINVAL, at, "Syntax error: field expected");
	if (!find_member(c->ops, t, c->p, n, &m))
		return fail(c, KD_ENOTFOUND, at, "No field '%.*s' in the type",
			    (int)n, c->p);
	c->p += n;
	if (expect(c, ')') < 0)
		return -1;
	set_int(v, T_UINT8, m.offset);
	return 0;
}

/* #CONTAINING_RECORD(addr, type, field): a typed pointer. */
static int parse_containing(struct cpp *c, struct kd_cpp_value *v)
{
	struct kd_cpp_value a;
	struct kd_cpp_type t;
	struct kd_cpp_member m;
	struct kd_cpp_tinfo ti;
	const char *at;
	size_t n;

	if (expect(c, '(') < 0)
		return -1;
	at = c->p;
	if (parse_cond(c, &a) < 0 || scalar(c, &a, at, &ti) < 0 ||
	    expect(c, ',') < 0 || parse_type(c, true, &t) < 0 ||
	    expect(c, ',') < 0)
		return -1;
	skip_blanks(c);
	at = c->p;
	n = ident_len(c, c->p, false);
	if (n == 0 || !find_member(c->ops, t, c->p, n, &m))
		return fail(c, KD_ENOTFOUND, at, "No field '%.*s' in the type",
			    (int)n, c->p);
	c->p += n;
	if (expect(c, ')') < 0)
		return -1;
	memset(v, 0, sizeof(*v));
	v->type = t;
	v->type.nptr++;
	v->v = a.v - m.offset;
	return 0;
}

static int parse_primary(struct cpp *c, struct kd_cpp_value *v)
{
	const char *start;
	char ch = peek(c);

	start = c->p;
	if (ch == '\0')
		return fail(c, KD_EINVAL, start,
			    "Syntax error: expression expected");
	if (isdigit((unsigned char)ch))
		return parse_number(c, v);
	if (ch == '\'')
		return parse_char(c, v, false);
	if (ch == 'L' && c->p + 1 < c->text_end && c->p[1] == '\'') {
		c->p++;
		return parse_char(c, v, true);
	}
	if (ch == '(') {
		c->p++;
		if (parse_cond(c, v) < 0)
			return -1;
		return expect(c, ')');
	}
	if (ch == '@' && c->p + 1 < c->text_end && c->p[1] == '@') {
		c->p += 2;
		return parse_switch(c, v);
	}
	if (ch == '@' || ch == '$')
		return parse_register(c, v);
	if (ch == '#') {
		c->p++;
		if (word_at(c, "FIELD_OFFSET")) {
			c->p += 12;
			return parse_field_offset(c, v);
		}
		if (word_at(c, "CONTAINING_RECORD")) {
			c->p += 17;
			return parse_containing(c, v);
		}
		return fail(c, KD_EINVAL, start, "Syntax error: unknown '#'");
	}
	if (word_at(c, "sizeof")) {
		c->p += 6;
		return parse_sizeof(c, v);
	}
	if (word_at(c, "true") || word_at(c, "false")) {
		set_int(v, T_BOOL08, *c->p == 't');
		c->p += *c->p == 't' ? 4 : 5;
		return 0;
	}
	if (ident_start(ch))
		return parse_symbol(c, v);
	if (ch == '"')
		return fail(c, KD_ENOTSUP, start,
			    "String literals are not supported");
	return fail(c, KD_EINVAL, start, "Syntax error at '%.20s'", start);
}

/* `.field` / `->field` on @p v (after the operator). */
static int member_access(struct cpp *c, struct kd_cpp_value *v, bool arrow,
			 const char *at)
{
	struct kd_cpp_tinfo ti;
	struct kd_cpp_member m;
	const char *name;
	size_t n;

	skip_blanks(c);
	name = c->p;
	n = ident_len(c, c->p, false);
	if (n == 0)
		return fail(c, KD_EINVAL, name,
			    "Syntax error: member expected");
	c->p += n;
	if (arrow) {
		if (rvalue(c, v, at) < 0)
			return -1;
		if (kd_cpp__tinfo(c->ops, v->type, &ti) != KD_OK ||
		    ti.kind != KD_CPP_PTR)
			return fail(c, KD_EINVAL, at,
				    "'->' needs a pointer to a structure");
		v->type = ti.inner;
		v->addr = v->v;
		v->lvalue = true;
	}
	if (!arrow && c->ops->dot_derefs &&
	    kd_cpp__tinfo(c->ops, v->type, &ti) == KD_OK &&
	    ti.kind == KD_CPP_PTR) {
		if (rvalue(c, v, at) < 0)
			return -1;
		v->type = ti.inner;
		v->addr = v->v;
		v->lvalue = true;
	}
	if (kd_cpp__tinfo(c->ops, v->type, &ti) != KD_OK ||
	    ti.kind != KD_CPP_UDT)
		return fail(c, KD_EINVAL, at,
			    "'%s' needs a structure, class or union",
			    arrow ? "->" : ".");
	if (!v->lvalue)
		return fail(c, KD_EINVAL, at, "The structure has no address");
	if (!find_member(c->ops, v->type, name, n, &m))
		return fail(c, KD_ENOTFOUND, name,
			    "Type %s has no member '%.*s'", ti.name, (int)n,
			    name);
	v->type = m.type;
	v->addr += m.offset;
	v->bit_pos = m.bit_pos;
	v->bit_len = m.bit_len;
	return 0;
}

static int parse_postfix(struct cpp *c, struct kd_cpp_value *v)
{
	const char *at;

	if (parse_primary(c, v) < 0)
		return -1;
	for (;;) {
		skip_blanks(c);
		at = c->p;
		if (accept(c, "->")) {
			if (member_access(c, v, true, at) < 0)
				return -1;
		} else if (peek(c) == '.' &&
			   !(c->p + 1 < c->text_end &&
			     isdigit((unsigned char)c->p[1]))) {
			c->p++;
			if (member_access(c, v, false, at) < 0)
				return -1;
		} else if (peek(c) == '[') {
			struct kd_cpp_value idx;
			struct kd_cpp_tinfo ti;

			c->p++;
			if (parse_cond(c, &idx) < 0 || expect(c, ']') < 0)
				return -1;
			if (binary(c, B_ADD, v, &idx, at) < 0)
				return -1;
			if (kd_cpp__tinfo(c->ops, v->type, &ti) != KD_OK ||
			    ti.kind != KD_CPP_PTR)
				return fail(c, KD_EINVAL, at,
					    "'[]' needs an array or a "
					    "pointer");
			v->type = ti.inner;
			v->addr = v->v;
			v->lvalue = true;
		} else if (accept(c, "++") || accept(c, "--") ||
			   (peek(c) == '(' && !c->skip)) {
			return fail(c, KD_ENOTSUP, at,
				    "Calls and side effects are not "
				    "supported");
		} else {
			return 0;
		}
	}
}

static int parse_unary(struct cpp *c, struct kd_cpp_value *v)
{
	const char *at;
	struct kd_cpp_tinfo ti;
	char ch;
	int rc;

	if (++c->depth > KD_CPP_MAX_DEPTH) {
		c->depth--;
		return fail(c, KD_EINVAL, c->p, "Expression nested too deeply");
	}
	ch = peek(c);
	at = c->p;
	if ((ch == '+' || ch == '-') && c->p + 1 < c->text_end &&
	    c->p[1] == ch) {
		rc = fail(c, KD_ENOTSUP, at, "Side effects are not supported");
	} else if (ch == '-' || ch == '+' || ch == '~' || ch == '!') {
		c->p++;
		rc = parse_unary(c, v);
		if (rc == 0 && scalar(c, v, at, &ti) == 0) {
			uint32_t rt;

			if (ch == '!') {
				set_int(v, T_BOOL08, v->v == 0);
			} else if (ti.kind == KD_CPP_PTR) {
				rc = fail(c, KD_EINVAL, at,
					  "Operator not allowed on a pointer");
			} else {
				rt = arith_type(&ti, &ti);
				set_int(v, rt,
					fit(ch == '-' ? 0 - v->v :
					    ch == '~' ? ~v->v :
							v->v,
					    rt == T_INT4 || rt == T_UINT4 ? 4 :
									    8,
					    type_signed(rt)));
			}
		}
		if (c->failed)
			rc = -1;
	} else if (ch == '*') {
		c->p++;
		rc = parse_unary(c, v);
		if (rc == 0) {
			if (rvalue(c, v, at) < 0 ||
			    kd_cpp__tinfo(c->ops, v->type, &ti) != KD_OK ||
			    ti.kind != KD_CPP_PTR)
				rc = fail(c, KD_EINVAL, at,
					  "'*' needs a pointer");
			else {
				v->type = ti.inner;
				v->addr = v->v;
				v->lvalue = true;
			}
		}
	} else if (ch == '&' && !(c->p + 1 < c->text_end && c->p[1] == '&')) {
		c->p++;
		rc = parse_unary(c, v);
		if (rc == 0) {
			if (!v->lvalue || v->bit_len)
				rc = fail(c, KD_EINVAL, at,
					  "'&' needs an object in memory");
			else if (v->type.nptr >= 16)
				rc = fail(c, KD_EINVAL, at,
					  "Too many pointer levels");
			else {
				v->type.nptr++;
				v->v = v->addr;
				v->lvalue = false;
			}
		}
	} else if (ch == '(') {
		struct kd_cpp_type t;
		const char *save = c->p;

		c->p++;
		rc = parse_type(c, false, &t);
		if (rc == 1 && peek(c) == ')') {
			c->p++;
			rc = parse_unary(c, v);
			if (rc == 0) {
				struct kd_cpp_tinfo to;

				if (kd_cpp__tinfo(c->ops, t, &to) != KD_OK)
					rc = fail(c, KD_EPROTO, at,
						  "Type information damaged");
				else if (to.kind == KD_CPP_UDT ||
					 to.kind == KD_CPP_ARRAY) {
					/* (struct X)obj: a view of it. */
					if (!v->lvalue)
						rc = fail(c, KD_EINVAL, at,
							  "Cannot cast a "
							  "value to a "
							  "structure");
					else
						v->type = t;
				} else if (scalar(c, v, at, &ti) < 0) {
					rc = -1;
				} else {
					v->type = t;
					v->v = to.kind == KD_CPP_BOOL ?
						       v->v != 0 :
						       fit(v->v, to.size,
							   to.is_signed);
				}
			}
		} else if (rc >= 0 && !c->failed) {
			c->p = save;
			rc = parse_postfix(c, v);
		} else {
			rc = -1;
		}
	} else {
		rc = parse_postfix(c, v);
	}
	c->depth--;
	return rc;
}

/* Binary operator precedence levels, tightest first. */
static int match_binary(struct cpp *c, int level)
{
	static const struct {
		const char *tok;
		int level, op;
	} ops[] = {
		{ "<<", 2, B_SHL }, { ">>", 2, B_SHR }, { "<=", 3, B_LE },
		{ ">=", 3, B_GE },  { "==", 4, B_EQ },	{ "!=", 4, B_NE },
		{ "&&", -1, 0 },    { "||", -1, 0 },	{ "*", 0, B_MUL },
		{ "/", 0, B_DIV },  { "%", 0, B_MOD },	{ "+", 1, B_ADD },
		{ "-", 1, B_SUB },  { "<", 3, B_LT },	{ ">", 3, B_GT },
		{ "&", 5, B_AND },  { "^", 6, B_XOR },	{ "|", 7, B_OR },
	};
	size_t i, n;

	skip_blanks(c);
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		n = strlen(ops[i].tok);
		if ((size_t)(c->text_end - c->p) < n ||
		    memcmp(c->p, ops[i].tok, n) != 0)
			continue;
		/* The first (longest) match decides; `=` after it is an
		 * assignment, which C++ expressions here do not have. */
		if (ops[i].level != level)
			return 0;
		if (c->p + n < c->text_end && c->p[n] == '=' && n == 1)
			return 0;
		c->p += n;
		return ops[i].op;
	}
	return 0;
}

static int parse_binary(struct cpp *c, int level, struct kd_cpp_value *v)
{
	struct kd_cpp_value rhs;
	const char *at;
	int op;

	if (level < 0)
		return parse_unary(c, v);
	if (parse_binary(c, level - 1, v) < 0)
		return -1;
	for (;;) {
		at = c->p;
		op = match_binary(c, level);
		if (op == 0) {
			c->p = at;
			return 0;
		}
		if (parse_binary(c, level - 1, &rhs) < 0 ||
		    binary(c, op, v, &rhs, at) < 0)
			return -1;
	}
}

/* Truth of a scalar (for &&, ||, ?:). */
static int truth(struct cpp *c, struct kd_cpp_value *v, const char *at,
		 bool *out)
{
	struct kd_cpp_tinfo ti;

	if (scalar(c, v, at, &ti) < 0)
		return -1;
	*out = v->v != 0;
	return 0;
}

static int parse_and(struct cpp *c, struct kd_cpp_value *v)
{
	struct kd_cpp_value rhs;
	const char *at;
	bool l, r;

	if (parse_binary(c, 7, v) < 0)
		return -1;
	while (at = c->p, accept(c, "&&")) {
		if (truth(c, v, at, &l) < 0)
			return -1;
		if (!l)
			c->skip++;
		if (parse_binary(c, 7, &rhs) < 0) {
			if (!l)
				c->skip--;
			return -1;
		}
		if (!l)
			c->skip--;
		r = false;
		if (l && truth(c, &rhs, at, &r) < 0)
			return -1;
		set_int(v, T_BOOL08, l && r);
	}
	return 0;
}

static int parse_or(struct cpp *c, struct kd_cpp_value *v)
{
	struct kd_cpp_value rhs;
	const char *at;
	bool l, r;

	if (parse_and(c, v) < 0)
		return -1;
	while (at = c->p, accept(c, "||")) {
		if (truth(c, v, at, &l) < 0)
			return -1;
		if (l)
			c->skip++;
		if (parse_and(c, &rhs) < 0) {
			if (l)
				c->skip--;
			return -1;
		}
		if (l)
			c->skip--;
		r = false;
		if (!l && truth(c, &rhs, at, &r) < 0)
			return -1;
		set_int(v, T_BOOL08, l || r);
	}
	return 0;
}

static int parse_cond(struct cpp *c, struct kd_cpp_value *v)
{
	struct kd_cpp_value a, b;
	const char *at;
	bool t;
	int rc;

	if (++c->depth > KD_CPP_MAX_DEPTH) {
		c->depth--;
		return fail(c, KD_EINVAL, c->p, "Expression nested too deeply");
	}
	rc = parse_or(c, v);
	at = c->p;
	if (rc == 0 && accept(c, "?")) {
		rc = truth(c, v, at, &t);
		if (rc == 0) {
			if (!t)
				c->skip++;
			rc = parse_cond(c, &a);
			if (!t)
				c->skip--;
		}
		if (rc == 0)
			rc = expect(c, ':');
		if (rc == 0) {
			if (t)
				c->skip++;
			rc = parse_cond(c, &b);
			if (t)
				c->skip--;
		}
		if (rc == 0)
			*v = t ? a : b;
	}
	c->depth--;
	return c->failed ? -1 : rc;
}

int kd_cpp__eval(const struct kd_cpp_ops *ops, const char *text,
		 const char **end, struct kd_cpp_value *out,
		 struct kd_cpp_error *err)
{
	struct cpp c;
	struct kd_cpp_error dummy;

	if (!err)
		err = &dummy;
	memset(err, 0, sizeof(*err));
	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.ops = ops;
	c.p = text;
	c.text_end = text + strnlen(text, KD_CPP_MAX_TEXT);
	c.err = err;
	if (text[c.text_end - text] != '\0') {
		fail(&c, KD_EINVAL, text, "Expression too long");
		if (end)
			*end = text;
		return err->code;
	}
	if (parse_cond(&c, out) < 0 || c.failed) {
		if (!c.failed)
			fail(&c, KD_EINVAL, c.p, "Syntax error");
		if (end)
			*end = err->at ? err->at : c.p;
		return err->code ? err->code : KD_EINVAL;
	}
	skip_blanks(&c);
	if (end)
		*end = c.p;
	return KD_OK;
}
