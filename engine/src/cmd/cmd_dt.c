/* SPDX-License-Identifier: MIT */
/*
 * dt: a type's layout, or an instance of it in target memory, from the
 * module's PDB through the type layer (sym/types.h).  Values come through
 * the session's read path; a field that cannot be read shows `????` and
 * the command ends with WinDbg's "Memory read error" line, never a value
 * of its own making.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <kd/alloc.h>
#include <kd/error.h>

#include "cmd/args.h"
#include "core/engine_int.h"
#include "sym/sym_int.h"
#include "sym/types.h"

#define DT_MAX_FIELDS 16
#define DT_MAX_LEVEL 32	       /* -b and -r expansion depth */
#define DT_MAX_LIST 4096       /* -l elements */
#define DT_MAX_STRING 256      /* bytes of a string shown */
#define DT_MAX_ARRAY_LINES 256 /* -a / -b elements */
#define DT_MAX_LINES 200000    /* output lines of one dt */

struct dt_field {
	const char *name;
	size_t len;
	bool prefix;	   /* -y, or a trailing '*' */
	unsigned int dots; /* "Field." expands one level per dot */
};

struct dt {
	struct kd_session *s;
	struct kd_type t;
	unsigned int rdepth; /* -r[N] */
	bool blocks;	     /* -b */
	bool verbose;	     /* -v */
	bool arrays;	     /* -a[N] */
	unsigned long acount;
	struct dt_field fields[DT_MAX_FIELDS];
	unsigned int nfields;
	bool memerr;
	uint64_t errat;
	unsigned long lines;
	bool stopped; /* too many lines, or Ctrl+C */
};

/* ---- collecting members ---- */

struct mlist {
	struct kd_type_member *v;
	size_t n, cap;
};

static int mlist_add(void *ctx, const struct kd_type_member *m)
{
	struct mlist *l = ctx;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		struct kd_type_member *v = kd_malloc(cap * sizeof(*v));

		if (!v)
			return KD_ENOMEM;
		if (l->n)
			memcpy(v, l->v, l->n * sizeof(*v));
		kd_free(l->v);
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *m;
	return 0;
}

static int members_of(struct kd_pdb *pdb, uint32_t ti, struct mlist *l)
{
	int rc;

	memset(l, 0, sizeof(*l));
	rc = kd_sym__type_members(pdb, ti, mlist_add, l);
	if (rc < 0) {
		kd_free(l->v);
		memset(l, 0, sizeof(*l));
	}
	return rc;
}

/* ---- reading ---- */

/* Read @p len bytes at @p va, noting the first failing address. */
static bool dt_read(struct dt *d, uint64_t va, void *buf, size_t len)
{
	size_t done = 0;
	int had = d->s->cmd.target_err;

	if (kd_read_virtual(d->s, va, buf, len, &done) == KD_OK && done == len)
		return true;
	kd_error_clear();
	/* Memory the target does not have is dt's "Memory read error"
	 * line; any other failed request stays for the interpreter. */
	if (!had && d->s->cmd.target_err == KD_EFAULT)
		d->s->cmd.target_err = 0;
	if (!d->memerr) {
		d->memerr = true;
		d->errat = va + done;
	}
	return false;
}

/* ---- output ---- */

static bool dt_line_ok(struct dt *d)
{
	if (d->stopped)
		return false;
	if (++d->lines > DT_MAX_LINES || d->s->interrupt) {
		d->stopped = true;
		return false;
	}
	return true;
}

static void put_addr(struct kd_session *s, uint64_t v)
{
	char a[18];

	kd_out(s, "0x%s", kd_fmt_addr(a, v));
}

static void put_char(struct kd_session *s, uint64_t c)
{
	if (c >= 0x20 && c < 0x7f && c != '\'')
		kd_out(s, "%u '%c'", (unsigned)c, (char)c);
	else
		kd_out(s, "%u ''", (unsigned)c);
}

/* A NUL-terminated string of @p unit-byte characters at @p va. */
static void put_string(struct dt *d, uint64_t va, unsigned int unit,
		       uint64_t max)
{
	uint8_t buf[DT_MAX_STRING * 2];
	size_t done = 0, n, i;

	n = (size_t)(max && max < DT_MAX_STRING ? max : DT_MAX_STRING) * unit;
	if (kd_read_virtual(d->s, va, buf, n, &done) != KD_OK || done == 0) {
		kd_error_clear();
		kd_out(d->s, "\"????\"");
		return;
	}
	kd_out(d->s, "\"");
	for (i = 0; i + unit <= done; i += unit) {
		uint32_t c = unit == 2 ? kd_get_le16(buf + i) : buf[i];

		if (c == 0)
			break;
		kd_out(d->s, "%c", c >= 0x20 && c < 0x7f ? (char)c : '?');
	}
	kd_out(d->s, "\"");
}

static bool is_named(const struct kd_type_info *i, const char *name)
{
	return (i->kind == KD_TYPE_STRUCT || i->kind == KD_TYPE_UNION) &&
	       strcmp(i->name, name) == 0;
}

/* The dt word of @p ti into the output. */
static void put_type(struct dt *d, uint32_t ti)
{
	char name[KD_TYPE_NAME_MAX];

	(void)kd_sym__type_name(d->t.pdb, ti, name, sizeof(name));
	kd_error_clear();
	kd_out(d->s, "%s", name);
}

static void put_value(struct dt *d, uint32_t ti, uint64_t va, bool in_array);

/* A scalar (integer, enum, bitfield, float) at @p va. */
static void put_scalar(struct dt *d, const struct kd_type_info *i, uint32_t ti,
		       uint64_t va)
{
	uint8_t buf[8];
	uint64_t v;
	const char *en;

	if (i->size == 0 || i->size > 8 || !dt_read(d, va, buf, i->size)) {
		kd_out(d->s, "????");
		return;
	}
	if (i->kind == KD_TYPE_FLOAT) {
		if (i->size == 4) {
			float f;

			memcpy(&f, buf, 4);
			kd_out(d->s, "%g", (double)f);
		} else {
			double f;

			memcpy(&f, buf, 8);
			kd_out(d->s, "%g", f);
		}
		return;
	}
	if (kd_sym__type_read_int(d->t.pdb, ti, buf, sizeof(buf), &v) !=
	    KD_OK) {
		kd_error_clear();
		kd_out(d->s, "????");
		return;
	}
	if (i->kind == KD_TYPE_BITFIELD) {
		unsigned int b;

		kd_out(d->s, "0y");
		for (b = i->bit_len; b-- > 0;)
			kd_out(d->s, "%c", (v >> b) & 1 ? '1' : '0');
		return;
	}
	if (i->kind == KD_TYPE_ENUM) {
		kd_out(d->s, "%lld", (long long)v);
		if (kd_sym__enum_name(d->t.pdb, ti, (int64_t)v, &en) == KD_OK)
			kd_out(d->s, " ( %s )", en);
		kd_error_clear();
		return;
	}
	if (i->is_char) {
		put_char(d->s, i->is_signed ? v & 0xff : v);
		return;
	}
	if (i->is_signed)
		kd_out(d->s, "0n%lld", (long long)v);
	else
		kd_out(d->s, "0x%llx", (unsigned long long)v);
}

static void put_pointer(struct dt *d, const struct kd_type_info *i, uint32_t ti,
			uint64_t va)
{
	struct kd_type_info t;
	uint8_t buf[8];
	uint64_t v = 0;
	char sym[256];

	if (!dt_read(d, va, buf, i->ptr_size)) {
		kd_out(d->s, "????");
		return;
	}
	v = i->ptr_size == 8 ? kd_get_le64(buf) : kd_get_le32(buf);
	if (v == 0) {
		kd_out(d->s, "(null) ");
		return;
	}
	put_addr(d->s, v);
	if (i->basic) {
		uint32_t k = i->basic & 0xff;

		kd_out(d->s, " ");
		if (k == 0x70 || k == 0x10) {
			kd_out(d->s, " ");
			put_string(d, v, 1, 0);
		} else if (k == 0x71) {
			kd_out(d->s, " ");
			put_string(d, v, 2, 0);
		} else {
			put_type(d, i->ref);
		}
		return;
	}
	if (kd_sym__type_info(d->t.pdb, i->ref, &t) != KD_OK)
		kd_error_clear();
	kd_out(d->s, " ");
	if (t.kind == KD_TYPE_FUNCTION) {
		put_type(d, i->ref);
		kd_out(d->s, "  ");
		if (kd_sym_format(d->s, v, sym, sizeof(sym)) == KD_OK &&
		    !strchr(sym, '+'))
			kd_out(d->s, "%s+0", sym);
		else
			kd_out(d->s, "+0");
		return;
	}
	if (t.kind == KD_TYPE_INT && t.is_char) {
		kd_out(d->s, " ");
		put_string(d, v, t.is_wchar ? 2 : 1, 0);
		return;
	}
	put_type(d, i->ref);
	(void)ti;
}

/* `_LIST_ENTRY [ 0x... - 0x... ]` and `_UNICODE_STRING "..."`. */
static bool put_special(struct dt *d, const struct kd_type_info *i, uint64_t va)
{
	uint8_t buf[16];

	if (is_named(i, "_LIST_ENTRY") && i->size == 16) {
		kd_out(d->s, "_LIST_ENTRY [ ");
		if (!dt_read(d, va, buf, 16)) {
			kd_out(d->s, "???? - ???? ]");
			return true;
		}
		put_addr(d->s, kd_get_le64(buf));
		kd_out(d->s, " - ");
		put_addr(d->s, kd_get_le64(buf + 8));
		kd_out(d->s, " ]");
		return true;
	}
	if (is_named(i, "_UNICODE_STRING") && i->size == 16) {
		kd_out(d->s, "_UNICODE_STRING ");
		if (!dt_read(d, va, buf, 16)) {
			kd_out(d->s, "\"????\"");
			return true;
		}
		put_string(d, kd_get_le64(buf + 8), 2, kd_get_le16(buf) / 2u);
		return true;
	}
	return false;
}

/* The value column of a member of type @p ti at @p va. */
static void put_value(struct dt *d, uint32_t ti, uint64_t va, bool in_array)
{
	struct kd_type_info i;
	int rc = kd_sym__type_info(d->t.pdb, ti, &i);

	if (rc && rc != KD_ENOTFOUND) {
		kd_error_clear();
		kd_out(d->s, "????");
		return;
	}
	kd_error_clear();
	switch (i.kind) {
	case KD_TYPE_INT:
	case KD_TYPE_FLOAT:
	case KD_TYPE_ENUM:
	case KD_TYPE_BITFIELD:
		put_scalar(d, &i, ti, va);
		break;
	case KD_TYPE_POINTER:
		put_pointer(d, &i, ti, va);
		break;
	case KD_TYPE_ARRAY: {
		struct kd_type_info e;

		kd_out(d->s, "[%llu] ", (unsigned long long)i.count);
		if (kd_sym__type_info(d->t.pdb, i.ref, &e) != KD_OK) {
			kd_error_clear();
			kd_out(d->s, "????");
			break;
		}
		if (e.kind == KD_TYPE_INT && e.is_char && i.count) {
			if (e.is_wchar)
				kd_out(d->s, " ");
			put_string(d, va, e.is_wchar ? 2 : 1, i.count);
		} else if (e.kind == KD_TYPE_STRUCT ||
			   e.kind == KD_TYPE_UNION) {
			put_type(d, i.ref);
		} else if (i.count) {
			put_value(d, i.ref, va, true);
		}
		break;
	}
	case KD_TYPE_STRUCT:
	case KD_TYPE_UNION:
		if (!put_special(d, &i, va))
			put_type(d, ti);
		break;
	default:
		put_type(d, ti);
		break;
	}
	(void)in_array;
}

/* ---- members ---- */

static bool field_selected(struct dt *d, const char *name, unsigned int *dots)
{
	unsigned int k;

	*dots = 0;
	if (d->nfields == 0)
		return true;
	for (k = 0; k < d->nfields; k++) {
		const struct dt_field *f = &d->fields[k];
		size_t n = strlen(name);

		if (f->prefix ?
			    n >= f->len &&
				    strncasecmp(name, f->name, f->len) == 0 :
			    n == f->len && strncasecmp(name, f->name, n) == 0) {
			*dots = f->dots;
			return true;
		}
	}
	return false;
}

static void show_struct(struct dt *d, uint32_t ti, bool inst, uint64_t va,
			unsigned int level, unsigned int expand, bool top);

static void show_array_lines(struct dt *d, const struct kd_type_info *i,
			     bool inst, uint64_t va, unsigned int level,
			     unsigned int expand)
{
	struct kd_type_info e;
	uint64_t k, n, esz;

	if (kd_sym__type_info(d->t.pdb, i->ref, &e) != KD_OK) {
		kd_error_clear();
		return;
	}
	esz = e.size;
	n = i->count;
	if (d->arrays && d->acount && d->acount < n)
		n = d->acount;
	if (n > DT_MAX_ARRAY_LINES)
		n = DT_MAX_ARRAY_LINES;
	for (k = 0; k < n; k++) {
		if (!dt_line_ok(d))
			return;
		kd_out(d->s, "%*s[%02llu] ", 3 * (level + 1) + 1, "",
		       (unsigned long long)k);
		if (inst)
			put_value(d, i->ref, va + k * esz, true);
		else
			put_type(d, i->ref);
		kd_out(d->s, "\n");
		if ((e.kind == KD_TYPE_STRUCT || e.kind == KD_TYPE_UNION) &&
		    expand)
			show_struct(d, e.ti, inst, va + k * esz, level + 1,
				    expand - 1, false);
	}
}

/*
 * The members of @p ti (at @p va when @p inst), indented for @p level;
 * @p expand more levels of embedded (and, with -r, pointed-to) structs.
 */
static void show_struct(struct dt *d, uint32_t ti, bool inst, uint64_t va,
			unsigned int level, unsigned int expand, bool top)
{
	struct mlist l;
	size_t k;

	if (level > DT_MAX_LEVEL || d->stopped)
		return;
	if (members_of(d->t.pdb, ti, &l) < 0) {
		kd_error_clear();
		return;
	}
	for (k = 0; k < l.n && !d->stopped; k++) {
		const struct kd_type_member *m = &l.v[k];
		struct kd_type_info i;
		unsigned int dots = 0, sub = expand;

		if (top && !field_selected(d, m->name, &dots))
			continue;
		if (dots > sub)
			sub = dots;
		if (!dt_line_ok(d))
			break;
		kd_out(d->s, "%*s+0x%03llx %-16s : ", 3 * (level + 1), "",
		       (unsigned long long)m->offset, m->name);
		if (kd_sym__type_info(d->t.pdb, m->type, &i) != KD_OK) {
			kd_error_clear();
			memset(&i, 0, sizeof(i));
		}
		if (inst && (!d->arrays || i.kind != KD_TYPE_ARRAY))
			put_value(d, m->type, va + m->offset, false);
		else if (!inst)
			put_type(d, m->type);
		kd_out(d->s, "\n");
		if (i.kind == KD_TYPE_ARRAY && (d->arrays || d->blocks))
			show_array_lines(d, &i, inst, va + m->offset, level,
					 d->blocks ? DT_MAX_LEVEL : sub);
		if ((i.kind == KD_TYPE_STRUCT || i.kind == KD_TYPE_UNION) &&
		    sub > 0)
			show_struct(d, i.ti, inst, va + m->offset, level + 1,
				    sub - 1, false);
		/* -r follows pointers to structs (not -b, not type-only). */
		if (i.kind == KD_TYPE_POINTER && inst && d->rdepth && sub > 0 &&
		    !d->blocks) {
			struct kd_type_info p;
			uint8_t buf[8];
			uint64_t v;

			if (kd_sym__type_info(d->t.pdb, i.ref, &p) != KD_OK ||
			    (p.kind != KD_TYPE_STRUCT &&
			     p.kind != KD_TYPE_UNION)) {
				kd_error_clear();
				continue;
			}
			if (!dt_read(d, va + m->offset, buf, i.ptr_size))
				continue;
			v = i.ptr_size == 8 ? kd_get_le64(buf) :
					      kd_get_le32(buf);
			if (v)
				show_struct(d, p.ti, true, v, level + 1,
					    sub - 1, false);
		}
	}
	kd_free(l.v);
}

/* ---- the top of one display ---- */

static unsigned int top_expand(const struct dt *d)
{
	if (d->blocks)
		return DT_MAX_LEVEL;
	return d->rdepth;
}

/* One object of type @p ti: members, or the value of a scalar. */
static void show_object(struct dt *d, uint32_t ti, bool inst, uint64_t va)
{
	struct kd_type_info i;

	if (kd_sym__type_info(d->t.pdb, ti, &i) != KD_OK) {
		kd_error_clear();
		memset(&i, 0, sizeof(i));
	}
	if (i.kind == KD_TYPE_STRUCT || i.kind == KD_TYPE_UNION) {
		if (inst && (is_named(&i, "_UNICODE_STRING") ||
			     is_named(&i, "_LIST_ENTRY"))) {
			kd_out(d->s, " ");
			(void)put_special(d, &i, va);
			kd_out(d->s, "\n");
		}
		show_struct(d, i.ti, inst, va, 0, top_expand(d), true);
		return;
	}
	if (!dt_line_ok(d))
		return;
	if (inst) {
		put_value(d, ti, va, false);
	} else {
		put_type(d, ti);
	}
	kd_out(d->s, "\n");
	if (i.kind == KD_TYPE_ARRAY && (d->arrays || d->blocks))
		show_array_lines(d, &i, inst, va, 0, top_expand(d));
}

static int dt_finish(struct dt *d)
{
	if (d->memerr)
		return kd_fail(d->s, KD_EFAULT, "Memory read error %016llx",
			       (unsigned long long)d->errat);
	return KD_OK;
}

/* ---- wildcards ---- */

struct wild {
	struct dt *d;
	unsigned long n;
	struct kd_type first;
	bool have_first;
};

static int wild_type(void *ctx, const struct kd_type *t, const char *name)
{
	struct wild *w = ctx;

	if (strstr(name, "<unnamed-"))
		return 0;
	if (!dt_line_ok(w->d))
		return 1;
	kd_out(w->d->s, "%19s%s!%s\n", "", t->mod ? t->mod->name : "?", name);
	if (!w->have_first) {
		w->first = *t;
		w->have_first = true;
	}
	w->n++;
	return 0;
}

struct wild_sym {
	struct dt *d;
	struct kd_module *m;
	unsigned long n;
};

static int wild_global(void *ctx, const struct kd_pdb_sym *sym)
{
	struct wild_sym *w = ctx;
	char a[18];

	if (!sym->has_rva || sym->kind != KD_PDB_SYM_DATA)
		return 0;
	if (!dt_line_ok(w->d))
		return 1;
	kd_out(w->d->s, "%s  %s!%s\n", kd_fmt_addr(a, w->m->base + sym->rva),
	       w->m->name, sym->name);
	w->n++;
	return 0;
}

/* `dt mod!Pat*`: matching types (19 blanks) and globals (address). */
static int dt_wild(struct dt *d, const char *pattern, bool expand_first)
{
	struct wild w;
	const char *bang = strchr(pattern, '!');
	size_t i;
	int rc;

	memset(&w, 0, sizeof(w));
	w.d = d;
	rc = kd_sym__type_foreach(d->s, pattern, wild_type, &w);
	if (rc < 0) {
		const char *msg = kd_error_last()->message;

		return kd_fail(d->s, rc, "%s", *msg ? msg : kd_strerror(rc));
	}
	for (i = 0; i < d->s->sym.nmodules && !expand_first; i++) {
		struct kd_module *m = &d->s->sym.modules[i];
		struct wild_sym ws = { d, m, 0 };
		struct kd_pdb *pdb;
		size_t n = bang ? (size_t)(bang - pattern) : 0;

		if (bang && (strlen(m->name) != n ||
			     strncasecmp(m->name, pattern, n) != 0))
			continue;
		pdb = kd_sym__pdb(d->s, m);
		if (!pdb)
			continue;
		(void)kd_pdb_symbols_foreach(pdb, bang ? bang + 1 : pattern,
					     KD_PDB_SYM_DATA, wild_global, &ws);
		kd_error_clear();
		w.n += ws.n;
	}
	if (w.n == 0)
		return kd_fail(d->s, KD_ENOTFOUND, "Symbol %s not found.",
			       pattern);
	if (expand_first && w.have_first) {
		d->t = w.first;
		show_object(d, d->t.ti, false, 0);
	}
	return KD_OK;
}

/* ---- -l ---- */

static int dt_list(struct dt *d, uint32_t ti, uint64_t start, const char *path)
{
	struct kd_type_member lm;
	struct kd_type_info li;
	uint64_t *seen, cur = start;
	unsigned long n = 0, k;
	int rc;

	rc = kd_sym__type_field(d->t.pdb, ti, path, &lm);
	if (rc < 0) {
		const char *msg = kd_error_last()->message;

		return kd_fail(d->s, rc, "Cannot find specified field %s (%s)",
			       path, msg);
	}
	if (kd_sym__type_info(d->t.pdb, lm.type, &li) != KD_OK ||
	    li.kind != KD_TYPE_POINTER) {
		kd_error_clear();
		return kd_fail(d->s, KD_EINVAL,
			       "%s is not a pointer: no list to follow", path);
	}
	seen = kd_calloc(DT_MAX_LIST, sizeof(*seen));
	if (!seen)
		return kd_fail(d->s, KD_ENOMEM, "dt: out of memory");
	while (cur && n < DT_MAX_LIST && !d->stopped) {
		uint8_t buf[8];
		uint64_t next;
		char a[18];

		for (k = 0; k < n; k++) {
			if (seen[k] == cur)
				break;
		}
		if (k < n) {
			kd_out(d->s,
			       "List loops back to %s without returning "
			       "to the start\n",
			       kd_fmt_addr(a, cur));
			break;
		}
		seen[n++] = cur;
		kd_out(d->s, "## %s at 0x%s\n", path, kd_fmt_addr(a, cur));
		show_object(d, ti, true, cur);
		kd_out(d->s, "\n");
		if (!dt_read(d, cur + lm.offset, buf, li.ptr_size))
			break;
		next = li.ptr_size == 8 ? kd_get_le64(buf) : kd_get_le32(buf);
		if (next == 0)
			break;
		/* The link points at the next element's own link field. */
		next -= lm.offset;
		if (next == start)
			break;
		cur = next;
	}
	if (n >= DT_MAX_LIST)
		kd_out(d->s, "List walk stopped after %u elements\n",
		       DT_MAX_LIST);
	kd_free(seen);
	return dt_finish(d);
}

/* ---- parsing ---- */

/* Copy a word into @p buf; false when it does not fit. */
static bool word_copy(char *buf, size_t cap, const char *w, size_t n)
{
	if (n >= cap)
		return false;
	memcpy(buf, w, n);
	buf[n] = '\0';
	return true;
}

static bool take_count(const char **p, unsigned long *v)
{
	unsigned long n = 0;
	bool any = false;

	while (**p >= '0' && **p <= '9' && n < 100000) {
		n = n * 10 + (unsigned long)(**p - '0');
		(*p)++;
		any = true;
	}
	*v = n;
	return any;
}

static int cmd_dt(struct kd_session *s, struct kd_cmdctx *c)
{
	struct kd_args a;
	struct dt d;
	char name[512], list[256], path[256];
	const char *w;
	size_t n;
	bool have_name = false, have_addr = false, have_list = false;
	bool yprefix = false, yname = false, want_list = false;
	bool want_name = false, have_field_path = false;
	uint64_t addr = 0;
	int rc;

	memset(&d, 0, sizeof(d));
	d.s = s;
	path[0] = '\0';
	kd_args_init(&a, s, c);
	for (;;) {
		kd_args_skip(&a);
		if (kd_args_at_end(&a))
			break;
		const char *at = a.p;

		if (!kd_args_take_word(&a, &w, &n))
			break;
		if (w[0] == '-' && n > 1 && !want_list && !want_name) {
			const char *p = w + 1, *e = w + n;
			unsigned long v;

			while (p < e) {
				char o = *p++;

				switch (o) {
				case 'r':
					d.rdepth =
						take_count(&p, &v) ?
							(unsigned)(v > 9 ? 9 :
									   v) :
							1;
					break;
				case 'a':
					d.arrays = true;
					d.acount = take_count(&p, &v) ? v : 0;
					break;
				case 'b':
					d.blocks = true;
					break;
				case 'v':
					d.verbose = true;
					break;
				case 'y':
					yprefix = true;
					break;
				case 'n':
					want_name = true;
					break;
				case 'l':
					want_list = true;
					break;
				case 'c':
				case 'i':
				case 'o':
				case 'e':
				case 't':
				case 'd':
					break; /* accepted, no effect yet */
				default:
					return kd_args_error_at(
						&a, at + (p - 1 - w));
				}
			}
			continue;
		}
		if (want_list) {
			if (!word_copy(list, sizeof(list), w, n))
				return kd_args_error_at(&a, at);
			have_list = true;
			want_list = false;
			continue;
		}
		if (!have_name) {
			/* The name; a field path after the first '.'. */
			const char *dot = memchr(w, '.', n);
			size_t tn = dot ? (size_t)(dot - w) : n;

			if (!word_copy(name, sizeof(name), w, tn))
				return kd_args_error_at(&a, at);
			if (dot &&
			    !word_copy(path, sizeof(path), dot + 1, n - tn - 1))
				return kd_args_error_at(&a, at);
			have_field_path = dot != NULL && dot[1] != '\0';
			have_name = true;
			yname = yprefix;
			yprefix = false;
			want_name = false;
			continue;
		}
		/* After the name: a field (when the type has it) or the
		 * address. */
		if (!have_addr) {
			const char *end;
			uint64_t v;
			char fbuf[256];
			struct kd_type_member fm;
			struct kd_type ft;
			size_t fn = n;

			while (fn && w[fn - 1] == '.')
				fn--;
			if (fn && word_copy(fbuf, sizeof(fbuf), w, fn) &&
			    !yprefix && fbuf[fn - 1] != '*' &&
			    kd_sym__type_lookup(s, name, &ft) == KD_OK &&
			    kd_sym__type_field(ft.pdb, ft.ti, fbuf, &fm) ==
				    KD_OK) {
				goto field;
			}
			kd_error_clear();
			if (!yprefix && (fn == 0 || w[fn - 1] != '*')) {
				char ebuf[256];

				if (!word_copy(ebuf, sizeof(ebuf), w, n))
					return kd_args_error_at(&a, at);
				rc = kd_expr_eval(s, ebuf, &end, &v);
				if (rc == KD_OK && *end == '\0') {
					addr = v;
					have_addr = true;
					continue;
				}
				if (rc == KD_ENOTFOUND || rc == KD_EFAULT) {
					return kd_resolve_error(s, ebuf);
				}
			}
		}
field:
		if (d.nfields == DT_MAX_FIELDS)
			return kd_args_error_at(&a, at);
		{
			struct dt_field *f = &d.fields[d.nfields++];
			size_t fn = n;

			while (fn && w[fn - 1] == '.') {
				fn--;
				f->dots++;
			}
			f->prefix = yprefix;
			if (fn && w[fn - 1] == '*') {
				fn--;
				f->prefix = true;
			}
			f->name = w;
			f->len = fn;
			yprefix = false;
		}
	}
	if (want_list)
		return kd_args_error_eol(&a);
	if (!have_name)
		return kd_fail(s, KD_EINVAL,
			       "dt: give a type, a type and an address, or a "
			       "global (dt [-r[N]] [-b] [-v] [-y] "
			       "[mod!]Type[.Field] [Field...] [Address] "
			       "[-l Field])");
	if (kd_require_stopped(s) != KD_OK)
		return KD_ERROR;
	if (strchr(name, '*') || yname) {
		char pat[520];

		snprintf(pat, sizeof(pat), "%s%s", name,
			 yname && !strchr(name, '*') ? "*" : "");
		return dt_wild(&d, pat, yname);
	}
	/* A type, else a global of that name (its address and type). */
	rc = kd_sym__type_lookup(s, name, &d.t);
	if (rc < 0) {
		uint64_t gaddr;

		kd_error_clear();
		if (kd_sym__global_type(s, name, &gaddr, &d.t) == KD_OK) {
			if (!have_addr) {
				addr = gaddr;
				have_addr = true;
			}
		} else {
			kd_error_clear();
			return kd_fail(s, KD_ENOTFOUND, "Symbol %s not found.",
				       name);
		}
	} else if (!have_addr && !strchr(name, '!')) {
		/* Found by an unqualified search: WinDbg names it. */
	}
	if (have_field_path) {
		struct kd_type_member fm;

		rc = kd_sym__type_field(d.t.pdb, d.t.ti, path, &fm);
		if (rc < 0) {
			const char *msg = kd_error_last()->message;

			return kd_fail(s, rc,
				       "Cannot find specified field %s (%s)",
				       path, msg);
		}
		if (!kd_args_at_end(&a))
			(void)0;
		if (!dt_line_ok(&d))
			return KD_OK;
		kd_out(s,
		       "   +0x%03llx %-16s : ", (unsigned long long)fm.offset,
		       path);
		if (have_addr)
			put_value(&d, fm.type, addr + fm.offset, false);
		else
			put_type(&d, fm.type);
		kd_out(s, "\n");
		{
			struct kd_type_info fi;

			if (kd_sym__type_info(d.t.pdb, fm.type, &fi) == KD_OK &&
			    (fi.kind == KD_TYPE_STRUCT ||
			     fi.kind == KD_TYPE_UNION))
				show_struct(&d, fi.ti, have_addr,
					    addr + fm.offset, 1, top_expand(&d),
					    false);
			kd_error_clear();
		}
		return dt_finish(&d);
	}
	if (have_list) {
		if (!have_addr)
			return kd_fail(s, KD_EINVAL,
				       "dt -l needs the address of the first "
				       "element");
		return dt_list(&d, d.t.ti, addr, list);
	}
	if (!have_addr) {
		struct kd_pdb_type ty;

		if (kd_pdb_type_get(d.t.pdb, d.t.ti, &ty) != KD_OK)
			kd_error_clear();
		kd_out(s, "%s!", d.t.mod ? d.t.mod->name : "?");
		put_type(&d, d.t.ti);
		kd_out(s, "\n");
		if (d.verbose) {
			struct kd_type_info vi;

			if (kd_sym__type_info(d.t.pdb, d.t.ti, &vi) == KD_OK &&
			    (vi.kind == KD_TYPE_STRUCT ||
			     vi.kind == KD_TYPE_UNION))
				kd_out(s,
				       "%s %s, %llu elements, 0x%llx bytes\n",
				       vi.kind == KD_TYPE_UNION ? "union" :
								  "struct",
				       vi.name, (unsigned long long)vi.count,
				       (unsigned long long)vi.size);
			kd_error_clear();
		}
	}
	show_object(&d, d.t.ti, have_addr, addr);
	return dt_finish(&d);
}

const struct kd_command kd_cmds_dt[] = {
	{ "dt", cmd_dt, 0,
	  "dt [-r[N]] [-b] [-v] [-a[N]] [-y] [mod!]Type[.Field] [Field...] "
	  "[Address] [-l Field]: display a type or an instance of it" },
	{ NULL, NULL, 0, NULL },
};
