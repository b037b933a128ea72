/* SPDX-License-Identifier: MIT */
/*
 * C++ expression commands: `?? expr` (the typed result, then a
 * structure's members the way dt shows an instance) and `dx [-r[N]]
 * expr` (the data model's display: name, value, [Type: ...], children
 * indented by four).  The evaluator is expr/cppexpr.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cmd/args.h"
#include "cmd/cmd_cpp.h"
#include "core/engine_int.h"
#include "expr/cppsession.h"

/* Members shown per structure, array elements per array, dx depth. */
#define SHOW_MEMBERS 1024
#define SHOW_ELEMENTS 100
#define DX_MAX_DEPTH 8
/* Lines one dx prints at most (a structure may contain itself). */
#define DX_MAX_LINES 5000
/* Characters of a char array shown as a string. */
#define SHOW_STRING 256

/* "0xffffe709`68a36470" (64-bit) or "0x8054a000". */
static void fmt_ptr(const struct kd_cpp_ops *ops, uint64_t v, bool tick,
		    char *buf, size_t cap)
{
	if (ops->ptr_size == 8 && tick)
		snprintf(buf, cap, "0x%08x`%08x", (unsigned)(v >> 32),
			 (unsigned)(v & 0xffffffffu));
	else if (ops->ptr_size == 8)
		snprintf(buf, cap, "0x%llx", (unsigned long long)v);
	else
		snprintf(buf, cap, "0x%08x", (unsigned)v);
}

/* The value of a scalar of type @p t as dt and ?? print it. */
static void fmt_scalar(const struct kd_cpp_ops *ops, struct kd_cpp_type t,
		       uint64_t x, bool dx, char *buf, size_t cap)
{
	struct kd_cpp_tinfo ti;
	const char *en;
	char ch;

	if (kd_cpp__tinfo(ops, t, &ti) != KD_OK) {
		snprintf(buf, cap, "0x%llx", (unsigned long long)x);
		return;
	}
	switch (ti.kind) {
	case KD_CPP_BOOL:
		snprintf(buf, cap, "%s", x ? "true" : "false");
		return;
	case KD_CPP_CHAR:
		ch = (char)x;
		if (x < 0x80 && isprint((unsigned char)ch))
			snprintf(buf, cap, "%lld '%c'",
				 ti.is_signed ? (long long)(int64_t)x :
						(long long)x,
				 ch);
		else
			snprintf(buf, cap, "%lld ''",
				 ti.is_signed ? (long long)(int64_t)x :
						(long long)x);
		return;
	case KD_CPP_ENUM:
		en = kd_cpp__enum_name(ops, t, x);
		if (en)
			snprintf(buf, cap, "%lld ( %s )", (long long)(int64_t)x,
				 en);
		else
			snprintf(buf, cap, "%lld", (long long)(int64_t)x);
		return;
	case KD_CPP_PTR:
	case KD_CPP_FUNC:
		fmt_ptr(ops, x, !dx, buf, cap);
		return;
	case KD_CPP_FLOAT: {
		double d;

		if (ti.size == 4) {
			float f;
			uint32_t b = (uint32_t)x;

			memcpy(&f, &b, 4);
			d = f;
		} else {
			memcpy(&d, &x, 8);
		}
		snprintf(buf, cap, "%g", d);
		return;
	}
	default:
		if (ti.is_signed)
			snprintf(buf, cap, "%s%lld", dx ? "" : "0n",
				 (long long)(int64_t)x);
		else if (x < 10 && !dx)
			snprintf(buf, cap, "%llu", (unsigned long long)x);
		else
			snprintf(buf, cap, "0x%llx", (unsigned long long)x);
		return;
	}
}

/* A char array's text, quoted, unprintables as '?'; false if unread. */
static bool fmt_string(const struct kd_cpp_ops *ops, uint64_t addr,
		       uint64_t count, unsigned width, char *buf, size_t cap)
{
	uint8_t raw[SHOW_STRING * 2];
	size_t n = 0, i;

	if (count > SHOW_STRING)
		count = SHOW_STRING;
	if (count * width > sizeof(raw) ||
	    ops->read(ops->ctx, addr, raw, (size_t)count * width) < 0)
		return false;
	if (cap < 3)
		return false;
	buf[n++] = '"';
	for (i = 0; i < count && n + 2 < cap; i++) {
		unsigned c = width == 2 ? (unsigned)(raw[2 * i] |
						     raw[2 * i + 1] << 8) :
					  raw[i];

		if (c == 0)
			break;
		if (c < 0x80 && isprint((int)c))
			buf[n++] = (char)(uint8_t)c;
		else
			buf[n++] = '?';
	}
	buf[n++] = '"';
	buf[n] = '\0';
	return true;
}

/* Is @p t a _LIST_ENTRY (the form ?? and dt show with its links)? */
static bool is_list_entry(const struct kd_cpp_ops *ops, struct kd_cpp_type t)
{
	struct kd_cpp_tinfo ti;

	return kd_cpp__tinfo(ops, t, &ti) == KD_OK && ti.kind == KD_CPP_UDT &&
	       (strcmp(ti.name, "_LIST_ENTRY") == 0 ||
		strcmp(ti.name, "LIST_ENTRY") == 0);
}

static bool list_links(const struct kd_cpp_ops *ops, uint64_t addr, char *buf,
		       size_t cap)
{
	uint8_t raw[16];
	uint64_t f = 0, b = 0;
	unsigned i, w = ops->ptr_size;
	char fs[24], bs[24];

	if (ops->read(ops->ctx, addr, raw, 2 * w) < 0)
		return false;
	for (i = w; i > 0; i--) {
		f = (f << 8) | raw[i - 1];
		b = (b << 8) | raw[w + i - 1];
	}
	fmt_ptr(ops, f, false, fs, sizeof(fs));
	fmt_ptr(ops, b, false, bs, sizeof(bs));
	snprintf(buf, cap, "[ %s - %s ]", fs, bs);
	return true;
}

/* ---- ?? -------------------------------------------------------------- */

struct dtwalk {
	struct kd_session *s;
	const struct kd_cpp_ops *ops;
	uint64_t base;
	bool read_error;
	uint64_t bad_addr;
	unsigned shown;
};

/* One member line the way dt prints it for an instance. */
static int dt_member_cb(void *ctx, const struct kd_cpp_member *m)
{
	struct dtwalk *w = ctx;
	struct kd_cpp_tinfo ti;
	struct kd_cpp_value v;
	char val[SHOW_STRING + 64], tn[160];
	uint64_t x;

	if (++w->shown > SHOW_MEMBERS)
		return 1;
	memset(&v, 0, sizeof(v));
	v.type = m->type;
	v.lvalue = true;
	v.addr = w->base + m->offset;
	v.bit_pos = m->bit_pos;
	v.bit_len = m->bit_len;
	if (kd_cpp__tinfo(w->ops, m->type, &ti) != KD_OK) {
		snprintf(val, sizeof(val), "<damaged type 0x%x>", m->type.ti);
	} else if (m->bit_len > 0) {
		if (kd_cpp__load(w->ops, &v, &x) != KD_OK) {
			snprintf(val, sizeof(val), "????");
			w->read_error = true;
			w->bad_addr = v.addr;
		} else {
			int i, n = 0;

			n = snprintf(val, sizeof(val), "0y");
			for (i = m->bit_len - 1;
			     i >= 0 && n + 2 < (int)sizeof(val); i--)
				val[n++] = (x >> i) & 1 ? '1' : '0';
			val[n] = '\0';
		}
	} else if (ti.kind == KD_CPP_UDT) {
		kd_cpp__type_name(w->ops, m->type, false, tn, sizeof(tn));
		if (is_list_entry(w->ops, m->type)) {
			char links[80];

			if (!list_links(w->ops, v.addr, links, sizeof(links)))
				snprintf(links, sizeof(links), "????");
			snprintf(val, sizeof(val), "%s %s", tn, links);
		} else {
			snprintf(val, sizeof(val), "%s", tn);
		}
	} else if (ti.kind == KD_CPP_ARRAY) {
		struct kd_cpp_tinfo el;
		uint64_t n = 0;

		if (kd_cpp__tinfo(w->ops, ti.inner, &el) == KD_OK && el.size)
			n = ti.size / el.size;
		if (el.kind == KD_CPP_CHAR && (el.size == 1 || el.size == 2)) {
			char str[SHOW_STRING + 4];

			if (!fmt_string(w->ops, v.addr, n, (unsigned)el.size,
					str, sizeof(str)))
				snprintf(str, sizeof(str), "????");
			snprintf(val, sizeof(val), "[%llu] %s%s",
				 (unsigned long long)n, el.size == 2 ? " " : "",
				 str);
		} else {
			struct kd_cpp_value e = v;
			char first[96];

			e.type = ti.inner;
			if (el.kind == KD_CPP_UDT || el.kind == KD_CPP_ARRAY) {
				kd_cpp__type_name(w->ops, ti.inner, false,
						  first, sizeof(first));
			} else if (kd_cpp__load(w->ops, &e, &x) == KD_OK) {
				fmt_scalar(w->ops, ti.inner, x, false, first,
					   sizeof(first));
			} else {
				snprintf(first, sizeof(first), "????");
			}
			snprintf(val, sizeof(val), "[%llu] %s",
				 (unsigned long long)n, first);
		}
	} else if (kd_cpp__load(w->ops, &v, &x) != KD_OK) {
		snprintf(val, sizeof(val), "????");
		if (!w->read_error) {
			w->read_error = true;
			w->bad_addr = v.addr;
		}
	} else if (ti.kind == KD_CPP_PTR) {
		if (x == 0) {
			snprintf(val, sizeof(val), "(null) ");
		} else {
			struct kd_cpp_tinfo pt;

			fmt_ptr(w->ops, x, true, val, sizeof(val));
			if (kd_cpp__tinfo(w->ops, ti.inner, &pt) == KD_OK &&
			    pt.kind == KD_CPP_VOID)
				snprintf(tn, sizeof(tn), "Void");
			else
				kd_cpp__type_name(w->ops, ti.inner, false, tn,
						  sizeof(tn));
			snprintf(val + strlen(val), sizeof(val) - strlen(val),
				 " %s", tn);
		}
	} else {
		fmt_scalar(w->ops, m->type, x, false, val, sizeof(val));
	}
	kd_out(w->s, "   +0x%03llx %-16s : %s\n", (unsigned long long)m->offset,
	       m->name, val);
	return 0;
}

static void dt_members(struct kd_session *s, const struct kd_cpp_ops *ops,
		       struct kd_cpp_type t, uint64_t addr)
{
	struct dtwalk w;

	memset(&w, 0, sizeof(w));
	w.s = s;
	w.ops = ops;
	w.base = addr;
	if (kd_cpp__members(ops, t, dt_member_cb, &w) < 0)
		kd_out(s, "Type information of the members is damaged\n");
	if (w.read_error)
		kd_out(s, "Memory read error %llx\n",
		       (unsigned long long)w.bad_addr);
}

/* Print @p v the way ?? does; KD_EFAULT when its value is unreadable. */
static int show_cpp(struct kd_session *s, const struct kd_cpp_ops *ops,
		    const struct kd_cpp_value *v)
{
	struct kd_cpp_tinfo ti;
	char tn[256], val[SHOW_STRING + 64];
	uint64_t x;
	int rc;

	kd_cpp__type_name(ops, v->type, true, tn, sizeof(tn));
	if (kd_cpp__tinfo(ops, v->type, &ti) != KD_OK)
		return kd_fail(s, KD_EPROTO,
			       "Type information of '%s' is "
			       "damaged",
			       tn);
	switch (ti.kind) {
	case KD_CPP_UDT:
		if (!v->lvalue)
			return kd_fail(s, KD_EINVAL,
				       "The structure has no address");
		kd_out(s, "%s\n", tn);
		if (is_list_entry(ops, v->type) &&
		    list_links(ops, v->addr, val, sizeof(val)))
			kd_out(s, " %s\n", val);
		dt_members(s, ops, v->type, v->addr);
		return KD_OK;
	case KD_CPP_ARRAY: {
		struct kd_cpp_tinfo el;

		if (!v->lvalue)
			return kd_fail(s, KD_EINVAL,
				       "The array has no address");
		if (kd_cpp__tinfo(ops, ti.inner, &el) == KD_OK &&
		    el.kind == KD_CPP_CHAR && (el.size == 1 || el.size == 2) &&
		    fmt_string(ops, v->addr, ti.size / el.size,
			       (unsigned)el.size, val, sizeof(val))) {
			kd_out(s, "%s  %s\n", tn, val);
			return KD_OK;
		}
		fmt_ptr(ops, v->addr, true, val, sizeof(val));
		kd_out(s, "%s %s\n", tn, val);
		return KD_OK;
	}
	case KD_CPP_VOID:
		if (!v->lvalue)
			return kd_fail(s, KD_EINVAL,
				       "No type information: the expression "
				       "is void");
		/* A symbol without a type: its address, as in MASM. */
		fmt_ptr(ops, v->addr, true, val, sizeof(val));
		kd_out(s, "void * %s\n", val);
		return KD_OK;
	default:
		break;
	}
	rc = kd_cpp__load(ops, v, &x);
	if (rc == KD_EFAULT)
		return kd_fail(s, rc, "Memory access error at %llx",
			       (unsigned long long)v->addr);
	if (rc < 0)
		return kd_fail(s, rc, "Cannot read a value of type %s", tn);
	fmt_scalar(ops, v->type, x, false, val, sizeof(val));
	kd_out(s, "%s %s\n", tn, val);
	if (ti.kind == KD_CPP_PTR && x != 0) {
		struct kd_cpp_tinfo pt;

		if (kd_cpp__tinfo(ops, ti.inner, &pt) == KD_OK &&
		    pt.kind == KD_CPP_UDT)
			dt_members(s, ops, ti.inner, x);
	}
	return KD_OK;
}

/* Report a failed evaluation: a caret for syntax, else the line. */
static int eval_error(struct kd_session *s, struct kd_cmdctx *c,
		      const struct kd_cpp_error *err)
{
	if (err->code == KD_EINVAL && strncmp(err->msg, "Syntax", 6) == 0 &&
	    err->at >= c->line && err->at <= c->line + strlen(c->line))
		return kd_syntax_error(s, c->line, (size_t)(err->at - c->line));
	return kd_fail(s, err->code < 0 ? err->code : KD_EINVAL, "%s",
		       err->msg);
}

int kd_cmd__cpp_eval(struct kd_session *s, struct kd_cmdctx *c)
{
	struct kd_cpp_session cs;
	struct kd_cpp_value v;
	struct kd_cpp_error err;
	const char *end = NULL;
	struct kd_args a;

	kd_args_init(&a, s, c);
	if (kd_args_blank_rest(&a))
		return kd_fail(s, KD_EINVAL, "?? needs an expression");
	kd_cpp__session_ops(s, kd_expr_eval, &cs);
	if (kd_cpp__eval(&cs.ops, a.p, &end, &v, &err) != KD_OK)
		return eval_error(s, c, &err);
	if (end && *end) {
		memset(&err, 0, sizeof(err));
		err.code = KD_EINVAL;
		err.at = end;
		snprintf(err.msg, sizeof(err.msg), "Syntax error");
		return eval_error(s, c, &err);
	}
	return show_cpp(s, &cs.ops, &v);
}

/* ---- dx -------------------------------------------------------------- */

struct dxwalk {
	unsigned *lines; /* left to print in this dx */
	struct kd_session *s;
	const struct kd_cpp_ops *ops;
	uint64_t base;
	unsigned depth, max;
	unsigned shown;
};

static void dx_children(unsigned *lines, struct kd_session *s,
			const struct kd_cpp_ops *ops, struct kd_cpp_type t,
			uint64_t addr, unsigned depth, unsigned max);

/* " : value" of @p v for dx (empty for aggregates), its [Type: ...]. */
static void dx_value(const struct kd_cpp_ops *ops, struct kd_cpp_value *v,
		     char *val, size_t vcap, char *tn, size_t tcap,
		     bool *expand, struct kd_cpp_type *et, uint64_t *eaddr)
{
	struct kd_cpp_tinfo ti, pt;
	uint64_t x;

	*expand = false;
	val[0] = '\0';
	kd_cpp__type_name(ops, v->type, false, tn, tcap);
	if (kd_cpp__tinfo(ops, v->type, &ti) != KD_OK) {
		snprintf(val, vcap, " : <damaged type>");
		return;
	}
	if (ti.kind == KD_CPP_UDT || ti.kind == KD_CPP_ARRAY) {
		*expand = v->lvalue;
		*et = v->type;
		*eaddr = v->addr;
		if (ti.kind == KD_CPP_UDT && is_list_entry(ops, v->type) &&
		    v->lvalue) {
			char links[80];

			if (list_links(ops, v->addr, links, sizeof(links)))
				snprintf(val, vcap, " : %s", links);
		}
		return;
	}
	if (ti.kind == KD_CPP_VOID) {
		snprintf(val, vcap, " : <no type information>");
		return;
	}
	if (kd_cpp__load(ops, v, &x) != KD_OK) {
		snprintf(val, vcap,
			 " : Unable to read memory at Address 0x%llx",
			 (unsigned long long)v->addr);
		return;
	}
	snprintf(val, vcap, " : ");
	if (v->bit_len > 0)
		snprintf(val + 3, vcap - 3, "0x%llx", (unsigned long long)x);
	else
		fmt_scalar(ops, v->type, x, true, val + 3, vcap - 3);
	if (ti.kind == KD_CPP_PTR && x != 0 &&
	    kd_cpp__tinfo(ops, ti.inner, &pt) == KD_OK &&
	    pt.kind == KD_CPP_UDT) {
		*expand = true;
		*et = ti.inner;
		*eaddr = x;
	}
}

static int dx_member_cb(void *ctx, const struct kd_cpp_member *m)
{
	struct dxwalk *w = ctx;
	struct kd_cpp_value v;
	struct kd_cpp_type et;
	uint64_t eaddr = 0;
	char val[SHOW_STRING + 64], tn[160], off[40];
	bool expand;

	if (++w->shown > SHOW_MEMBERS || *w->lines == 0)
		return 1;
	(*w->lines)--;
	memset(&v, 0, sizeof(v));
	v.type = m->type;
	v.lvalue = true;
	v.addr = w->base + m->offset;
	v.bit_pos = m->bit_pos;
	v.bit_len = m->bit_len;
	dx_value(w->ops, &v, val, sizeof(val), tn, sizeof(tn), &expand, &et,
		 &eaddr);
	if (m->bit_len > 0)
		snprintf(off, sizeof(off), "[+0x%03llx (%2u:%2u)]",
			 (unsigned long long)m->offset,
			 (unsigned)(m->bit_pos + m->bit_len - 1),
			 (unsigned)m->bit_pos);
	else
		snprintf(off, sizeof(off), "[+0x%03llx]",
			 (unsigned long long)m->offset);
	kd_out(w->s, "%*s%s %-16s%s [Type: %s]\n", (int)(4 * w->depth), "", off,
	       m->name, val, tn);
	if (expand && w->depth < w->max)
		dx_children(w->lines, w->s, w->ops, et, eaddr, w->depth + 1,
			    w->max);
	return 0;
}

static void dx_children(unsigned *lines, struct kd_session *s,
			const struct kd_cpp_ops *ops, struct kd_cpp_type t,
			uint64_t addr, unsigned depth, unsigned max)
{
	struct kd_cpp_tinfo ti, el;
	struct dxwalk w;
	uint64_t i, n;

	if (kd_cpp__tinfo(ops, t, &ti) != KD_OK)
		return;
	if (ti.kind == KD_CPP_UDT) {
		memset(&w, 0, sizeof(w));
		w.lines = lines;
		w.s = s;
		w.ops = ops;
		w.base = addr;
		w.depth = depth;
		w.max = max;
		(void)kd_cpp__members(ops, t, dx_member_cb, &w);
		return;
	}
	if (ti.kind != KD_CPP_ARRAY ||
	    kd_cpp__tinfo(ops, ti.inner, &el) != KD_OK || el.size == 0)
		return;
	n = ti.size / el.size;
	for (i = 0; i < n && i<SHOW_ELEMENTS && * lines> 0; i++) {
		struct kd_cpp_value v;
		struct kd_cpp_type et;
		uint64_t eaddr = 0;
		char val[SHOW_STRING + 64], tn[160], idx[32];
		bool expand;

		(*lines)--;
		memset(&v, 0, sizeof(v));
		v.type = ti.inner;
		v.lvalue = true;
		v.addr = addr + i * el.size;
		dx_value(ops, &v, val, sizeof(val), tn, sizeof(tn), &expand,
			 &et, &eaddr);
		snprintf(idx, sizeof(idx), "[%llu]", (unsigned long long)i);
		kd_out(s, "%*s%-16s%s [Type: %s]\n", (int)(4 * depth), "", idx,
		       val, tn);
		if (expand && depth < max)
			dx_children(lines, s, ops, et, eaddr, depth + 1, max);
	}
	if (n > SHOW_ELEMENTS)
		kd_out(s, "%*s[...]\n", (int)(4 * depth), "");
}

/*
 * The data model's roots this dx knows, as C++ text over the MASM
 * pseudo-registers with the kernel's types: the thread from the
 * processor block, its process from the thread.
 */
static const struct {
	const char *name;
	const char *text;
} dx_roots[] = {
	{ "@$curthread", "((_ETHREAD *)@$thread)" },
	{ "@$curprocess", "((_EPROCESS *)((_KTHREAD *)@$thread)->"
			  "ApcState.Process)" },
};

int kd_cmd__dx(struct kd_session *s, struct kd_cmdctx *c)
{
	struct kd_cpp_session cs;
	struct kd_cpp_value v;
	struct kd_cpp_error err;
	struct kd_cpp_type et;
	const char *end = NULL, *text;
	char buf[KD_CPP_MAX_TEXT], val[SHOW_STRING + 64], tn[256];
	unsigned depth = 1, lines = DX_MAX_LINES;
	uint64_t eaddr = 0;
	struct kd_args a;
	bool expand;
	size_t i, len;

	kd_args_init(&a, s, c);
	for (;;) {
		kd_args_skip(&a);
		if (kd_args_peek(&a) != '-')
			break;
		if (a.p[1] == 'r') {
			kd_args_advance(&a, 2);
			if (!isdigit((unsigned char)kd_args_peek(&a)))
				return kd_args_error_at(&a, a.p);
			depth = 0;
			while (isdigit((unsigned char)kd_args_peek(&a))) {
				depth = depth * 10 +
					(unsigned)(kd_args_peek(&a) - '0');
				if (depth > 100)
					return kd_args_error_at(&a, a.p);
				kd_args_advance(&a, 1);
			}
		} else if (a.p[1] == 'n' || a.p[1] == 'v') {
			kd_args_advance(&a, 2); /* no visualizers here */
		} else {
			return kd_args_error_at(&a, a.p);
		}
	}
	if (depth > DX_MAX_DEPTH)
		depth = DX_MAX_DEPTH;
	if (kd_args_blank_rest(&a))
		return kd_fail(s, KD_EINVAL, "dx needs an expression");
	text = a.p;
	len = strlen(text);
	while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	/* A root of the data model at the start becomes its C++ text. */
	buf[0] = '\0';
	for (i = 0; i < sizeof(dx_roots) / sizeof(dx_roots[0]); i++) {
		size_t n = strlen(dx_roots[i].name);

		if (strncmp(text, dx_roots[i].name, n) == 0 &&
		    !isalnum((unsigned char)text[n]) && text[n] != '_') {
			if (strlen(dx_roots[i].text) + strlen(text + n) >=
			    sizeof(buf))
				return kd_fail(s, KD_EINVAL,
					       "Expression too long");
			memcpy(buf, dx_roots[i].text, strlen(dx_roots[i].text));
			memcpy(buf + strlen(dx_roots[i].text), text + n,
			       strlen(text + n) + 1);
			break;
		}
	}
	if (strncmp(text, "Debugger", 8) == 0 || strncmp(text, "@$cur", 5) == 0)
		if (!buf[0])
			return kd_fail(s, KD_ENOTSUP,
				       "Error: %.*s is not in this data model "
				       "(known: @$curthread, @$curprocess)",
				       (int)len, text);
	kd_cpp__session_ops(s, kd_expr_eval, &cs);
	cs.ops.dot_derefs = true;
	if (kd_cpp__eval(&cs.ops, buf[0] ? buf : text, &end, &v, &err) !=
	    KD_OK) {
		if (buf[0])
			return kd_fail(s, err.code < 0 ? err.code : KD_EINVAL,
				       "Error: %.*s needs the kernel's "
				       "_KTHREAD/_ETHREAD/_EPROCESS types: "
				       "%s",
				       (int)len, text, err.msg);
		return eval_error(s, c, &err);
	}
	if (end && *end) {
		if (buf[0])
			return kd_fail(s, KD_EINVAL, "Error: syntax error");
		memset(&err, 0, sizeof(err));
		err.code = KD_EINVAL;
		err.at = end;
		snprintf(err.msg, sizeof(err.msg), "Syntax error");
		return eval_error(s, c, &err);
	}
	dx_value(&cs.ops, &v, val, sizeof(val), tn, sizeof(tn), &expand, &et,
		 &eaddr);
	if (strncmp(val, " : Unable", 9) == 0)
		return kd_fail(s, KD_EFAULT, "Error: %s", val + 3);
	kd_out(s, "%-28.*s%s [Type: %s]\n", (int)len, text, val, tn);
	if (expand && depth > 0)
		dx_children(&lines, s, &cs.ops, et, eaddr, 1, depth);
	if (lines == 0)
		kd_out(s, "    [...] (output cut at %u lines)\n", DX_MAX_LINES);
	return KD_OK;
}
