/* SPDX-License-Identifier: MIT */
/*
 * The type layer: a module's types as WinDbg shows them, from the TPI the
 * PDB reader decodes.  Modifiers and aliases are transparent, forward
 * references are resolved by name, and every walk is bounded (types.h),
 * because a PDB is input like any other: a record may name itself as its
 * own element, field list or base.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <kd/error.h>

#include "sym/sym_int.h"
#include "sym/types.h"

#define PROP_CONST 1
#define PROP_VOLATILE 2

static int type_bad(int code, const char *fmt, ...) KD_PRINTF(2, 3);

static int type_bad(int code, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return kd_error_set(code, KD_ERRCLASS_ENGINE, "types: %s", msg);
}

static bool leaf_is_tag(uint16_t leaf)
{
	return leaf == KD_LF_CLASS || leaf == KD_LF_STRUCTURE ||
	       leaf == KD_LF_INTERFACE || leaf == KD_LF_UNION ||
	       leaf == KD_LF_ENUM;
}

/*
 * Decode @p ti with modifiers and aliases stripped and a forward
 * reference resolved.  *@p ty is the record finally reached; const and
 * volatile land in @p info when given.
 */
static int strip(struct kd_pdb *pdb, uint32_t ti, struct kd_pdb_type *ty,
		 struct kd_type_info *info)
{
	unsigned int hops;
	uint32_t full;
	int rc;

	for (hops = 0; hops <= KD_TYPE_MAX_CHAIN; hops++) {
		rc = kd_pdb_type_get(pdb, ti, ty);
		if (rc)
			return rc;
		if (ty->leaf == KD_LF_MODIFIER) {
			if (info && (ty->props & PROP_CONST))
				info->is_const = true;
			if (info && (ty->props & PROP_VOLATILE))
				info->is_volatile = true;
			ti = ty->ref;
			continue;
		}
		if (ty->leaf == KD_LF_ALIAS) {
			ti = ty->ref;
			continue;
		}
		if (leaf_is_tag(ty->leaf) && ty->forward) {
			rc = kd_pdb_type_resolve(pdb, ti, &full);
			if (rc == KD_OK && full != ti) {
				ti = full;
				continue;
			}
			if (rc == KD_OK)
				return KD_OK;
			if (rc == KD_ENOTFOUND)
				return type_bad(KD_ENOTFOUND,
						"%s has no definition in the "
						"PDB",
						ty->name);
			return rc;
		}
		return KD_OK;
	}
	return type_bad(KD_EPROTO, "type %#x: modifier chain loops", ti);
}

static void basic_info(uint32_t kind, struct kd_type_info *out)
{
	switch (kind) {
	case 0x03:
		out->kind = KD_TYPE_VOID;
		return;
	case 0x40:
	case 0x41:
		out->kind = KD_TYPE_FLOAT;
		return;
	case 0x30:
		out->kind = KD_TYPE_INT;
		out->is_bool = true;
		return;
	case 0x10:
	case 0x70:
		out->is_char = true;
		out->is_signed = true;
		break;
	case 0x20:
		out->is_char = true;
		break;
	case 0x71:
	case 0x7a:
		out->is_char = true;
		out->is_wchar = true;
		break;
	case 0x08:
	case 0x11:
	case 0x72:
	case 0x12:
	case 0x74:
	case 0x13:
	case 0x76:
		out->is_signed = true;
		break;
	default:
		break;
	}
	out->kind = KD_TYPE_INT;
}

static int info_of(struct kd_pdb *pdb, uint32_t ti, struct kd_type_info *out)
{
	struct kd_pdb_type ty, el;
	int rc;

	memset(out, 0, sizeof(*out));
	out->name = "";
	rc = strip(pdb, ti, &ty, out);
	if (rc == KD_ENOTFOUND && leaf_is_tag(ty.leaf)) {
		/* A tag with no definition: its name, no size. */
		out->kind = ty.leaf == KD_LF_UNION ? KD_TYPE_UNION :
			    ty.leaf == KD_LF_ENUM  ? KD_TYPE_ENUM :
						     KD_TYPE_STRUCT;
		out->ti = ty.ti;
		out->name = ty.name;
		return rc;
	}
	if (rc)
		return rc;
	out->ti = ty.ti;
	out->size = ty.size;
	out->ref = ty.ref;
	switch (ty.leaf) {
	case 0:
		out->basic = ty.ti;
		basic_info(ty.ti & 0xff, out);
		break;
	case KD_LF_POINTER:
		out->kind = KD_TYPE_POINTER;
		if (ty.ti < 0x1000) {
			out->basic = ty.ti;
			out->ptr_size = (uint8_t)ty.size;
			break;
		}
		/* Size from the attributes, else from the pointer kind. */
		out->ptr_size = (uint8_t)((ty.attr >> 13) & 0x3f);
		if (out->ptr_size == 0)
			out->ptr_size = (ty.attr & 0x1f) == 0x0c ? 8 : 4;
		out->size = out->ptr_size;
		out->is_reference = ((ty.attr >> 5) & 7) == 1 ||
				    ((ty.attr >> 5) & 7) == 4;
		break;
	case KD_LF_ARRAY:
		out->kind = KD_TYPE_ARRAY;
		rc = kd_sym__type_size(pdb, ty.ref, &el.size);
		if (rc)
			return rc;
		out->count = el.size ? ty.size / el.size : 0;
		break;
	case KD_LF_CLASS:
	case KD_LF_STRUCTURE:
	case KD_LF_INTERFACE:
	case KD_LF_UNION:
		out->kind = ty.leaf == KD_LF_UNION ? KD_TYPE_UNION :
						     KD_TYPE_STRUCT;
		out->name = ty.name;
		out->count = ty.count;
		out->is_anonymous = ty.name[0] == '\0' ||
				    strstr(ty.name, "<unnamed-") ||
				    strncmp(ty.name, "__unnamed", 9) == 0;
		break;
	case KD_LF_ENUM:
		out->kind = KD_TYPE_ENUM;
		out->name = ty.name;
		out->count = ty.count;
		if (ty.ref < 0x1000) {
			struct kd_type_info u;

			memset(&u, 0, sizeof(u));
			basic_info(ty.ref & 0xff, &u);
			out->is_signed = u.is_signed;
		}
		break;
	case KD_LF_PROCEDURE:
	case KD_LF_MFUNCTION:
		out->kind = KD_TYPE_FUNCTION;
		out->size = 0;
		break;
	case KD_LF_BITFIELD: {
		struct kd_type_info base;

		out->kind = KD_TYPE_BITFIELD;
		out->bit_pos = ty.bit_pos;
		out->bit_len = ty.bit_len;
		/* The storage unit's size and signedness. */
		if (ty.ref == ti)
			return type_bad(KD_EPROTO,
					"bitfield %#x is its own base", ti);
		rc = strip(pdb, ty.ref, &el, NULL);
		if (rc)
			return rc;
		if (el.leaf == KD_LF_BITFIELD)
			return type_bad(KD_EPROTO,
					"bitfield %#x has a bitfield base", ti);
		rc = info_of(pdb, el.ti, &base);
		if (rc)
			return rc;
		out->size = base.size;
		out->is_signed = base.is_signed;
		out->is_bool = base.is_bool;
		if (out->size == 0 || out->size > 8)
			return type_bad(KD_EPROTO,
					"bitfield %#x has a base of %llu bytes",
					ti, (unsigned long long)out->size);
		break;
	}
	default:
		out->kind = KD_TYPE_NONE;
		break;
	}
	return KD_OK;
}

int kd_sym__type_info(struct kd_pdb *pdb, uint32_t ti, struct kd_type_info *out)
{
	if (!pdb || !out)
		return KD_EINVAL;
	return info_of(pdb, ti, out);
}

int kd_sym__type_size(struct kd_pdb *pdb, uint32_t ti, uint64_t *size)
{
	struct kd_pdb_type ty;
	int rc;

	if (!pdb || !size)
		return KD_EINVAL;
	rc = strip(pdb, ti, &ty, NULL);
	if (rc)
		return rc;
	if (ty.leaf == KD_LF_BITFIELD) {
		struct kd_type_info i;

		rc = info_of(pdb, ti, &i);
		if (rc)
			return rc;
		*size = i.size;
		return KD_OK;
	}
	if (ty.leaf == KD_LF_POINTER && ty.ti >= 0x1000 && ty.size == 0)
		ty.size = (ty.attr & 0x1f) == 0x0c ? 8 : 4;
	*size = ty.size;
	return KD_OK;
}

/* ---- names ---- */

struct sbuf {
	char *p;
	size_t cap, len;
	bool cut;
};

static void sb_add(struct sbuf *b, const char *fmt, ...) KD_PRINTF(2, 3);

static void sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->cut || b->len + 1 >= b->cap) {
		b->cut = true;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->cut = true;
		b->len = b->cap - 1;
		return;
	}
	b->len += (size_t)n;
}

static int sb_end(struct sbuf *b)
{
	if (!b->cut)
		return KD_OK;
	/* "..." where the name was cut, so nobody takes it for whole. */
	if (b->cap >= 4)
		memcpy(b->p + b->cap - 4, "...", 4);
	return KD_EOVERFLOW;
}

static const char *dt_basic(uint32_t kind)
{
	switch (kind) {
	case 0x03:
		return "Void";
	case 0x08:
		return "HRESULT";
	case 0x10:
	case 0x70:
	case 0x68:
		return "Char";
	case 0x20:
	case 0x69:
		return "UChar";
	case 0x71:
	case 0x7a:
		return "Wchar";
	case 0x7b:
		return "Uint4B";
	case 0x11:
	case 0x72:
		return "Int2B";
	case 0x21:
	case 0x73:
		return "Uint2B";
	case 0x12:
	case 0x74:
		return "Int4B";
	case 0x22:
	case 0x75:
		return "Uint4B";
	case 0x13:
	case 0x76:
		return "Int8B";
	case 0x23:
	case 0x77:
		return "Uint8B";
	case 0x40:
	case 0x41:
		return "Float";
	case 0x30:
		return "Bool";
	default:
		return "<unknown>";
	}
}

static void tag_name(struct sbuf *b, const char *name)
{
	/* clang names them "_PARENT::<unnamed-tag>"; WinDbg shows the tag. */
	sb_add(b, "%s",
	       name[0] && !strstr(name, "<unnamed-") ? name : "<unnamed-tag>");
}

static void c_name(struct kd_pdb *pdb, uint32_t ti, struct sbuf *b,
		   unsigned int depth);

static void dt_name(struct kd_pdb *pdb, uint32_t ti, struct sbuf *b,
		    unsigned int depth)
{
	struct kd_type_info i;
	int rc;

	if (depth > KD_TYPE_MAX_CHAIN) {
		sb_add(b, "<too deep>");
		return;
	}
	rc = info_of(pdb, ti, &i);
	if (rc && rc != KD_ENOTFOUND) {
		sb_add(b, "<bad type %#x>", ti);
		kd_error_clear();
		return;
	}
	switch (i.kind) {
	case KD_TYPE_VOID:
	case KD_TYPE_INT:
	case KD_TYPE_FLOAT:
		sb_add(b, "%s", dt_basic(i.basic & 0xff));
		break;
	case KD_TYPE_POINTER:
		sb_add(b, "Ptr%u ", i.ptr_size * 8u);
		if (i.basic)
			sb_add(b, "%s", dt_basic(i.basic & 0xff));
		else
			dt_name(pdb, i.ref, b, depth + 1);
		break;
	case KD_TYPE_ARRAY:
		sb_add(b, "[%llu] ", (unsigned long long)i.count);
		dt_name(pdb, i.ref, b, depth + 1);
		break;
	case KD_TYPE_STRUCT:
	case KD_TYPE_UNION:
	case KD_TYPE_ENUM:
		tag_name(b, i.name);
		break;
	case KD_TYPE_FUNCTION:
		/* WinDbg: four blanks, then the return type as C spells it. */
		sb_add(b, "    ");
		c_name(pdb, i.ref, b, depth + 1);
		break;
	case KD_TYPE_BITFIELD:
		sb_add(b, "Pos %u, %u Bit%s", i.bit_pos, i.bit_len,
		       i.bit_len == 1 ? "" : "s");
		break;
	default:
		sb_add(b, "<unknown type %#x>", ti);
		break;
	}
}

static const char *c_basic(uint32_t kind)
{
	switch (kind) {
	case 0x03:
		return "void";
	case 0x08:
		return "HRESULT";
	case 0x10:
		return "signed char";
	case 0x68:
	case 0x70:
		return "char";
	case 0x20:
	case 0x69:
		return "unsigned char";
	case 0x71:
		return "wchar_t";
	case 0x7a:
		return "char16_t";
	case 0x7b:
		return "char32_t";
	case 0x11:
	case 0x72:
		return "short";
	case 0x21:
	case 0x73:
		return "unsigned short";
	case 0x12:
		return "long";
	case 0x74:
		return "int";
	case 0x22:
		return "unsigned long";
	case 0x75:
		return "unsigned int";
	case 0x13:
	case 0x76:
		return "__int64";
	case 0x23:
	case 0x77:
		return "unsigned __int64";
	case 0x40:
		return "float";
	case 0x41:
		return "double";
	case 0x30:
		return "bool";
	default:
		return "<unknown>";
	}
}

static void c_name(struct kd_pdb *pdb, uint32_t ti, struct sbuf *b,
		   unsigned int depth)
{
	struct kd_type_info i;
	int rc;

	if (depth > KD_TYPE_MAX_CHAIN) {
		sb_add(b, "<too deep>");
		return;
	}
	rc = info_of(pdb, ti, &i);
	if (rc && rc != KD_ENOTFOUND) {
		sb_add(b, "<bad type %#x>", ti);
		kd_error_clear();
		return;
	}
	switch (i.kind) {
	case KD_TYPE_VOID:
	case KD_TYPE_INT:
	case KD_TYPE_FLOAT:
		sb_add(b, "%s", c_basic(i.basic & 0xff));
		break;
	case KD_TYPE_POINTER:
		if (i.basic)
			sb_add(b, "%s", c_basic(i.basic & 0xff));
		else
			c_name(pdb, i.ref, b, depth + 1);
		sb_add(b, " %s", i.is_reference ? "&" : "*");
		break;
	case KD_TYPE_ARRAY:
		c_name(pdb, i.ref, b, depth + 1);
		sb_add(b, " [%llu]", (unsigned long long)i.count);
		break;
	case KD_TYPE_STRUCT:
	case KD_TYPE_UNION:
	case KD_TYPE_ENUM:
		sb_add(b, "%s ",
		       i.kind == KD_TYPE_UNION ? "union" :
		       i.kind == KD_TYPE_ENUM  ? "enum" :
						 "struct");
		tag_name(b, i.name);
		break;
	case KD_TYPE_FUNCTION:
		c_name(pdb, i.ref, b, depth + 1);
		sb_add(b, " ()");
		break;
	case KD_TYPE_BITFIELD:
		c_name(pdb, i.ref, b, depth + 1);
		sb_add(b, " : %u", i.bit_len);
		break;
	default:
		sb_add(b, "<unknown type %#x>", ti);
		break;
	}
}

int kd_sym__type_name(struct kd_pdb *pdb, uint32_t ti, char *buf, size_t cap)
{
	struct sbuf b = { buf, cap, 0, false };

	if (!pdb || !buf || cap == 0)
		return KD_EINVAL;
	buf[0] = '\0';
	dt_name(pdb, ti, &b, 0);
	return sb_end(&b);
}

int kd_sym__type_cname(struct kd_pdb *pdb, uint32_t ti, char *buf, size_t cap)
{
	struct sbuf b = { buf, cap, 0, false };

	if (!pdb || !buf || cap == 0)
		return KD_EINVAL;
	buf[0] = '\0';
	c_name(pdb, ti, &b, 0);
	return sb_end(&b);
}

/* ---- members ---- */

struct walk {
	struct kd_pdb *pdb;
	int (*cb)(void *ctx, const struct kd_type_member *m);
	void *ctx;
	uint64_t base;
	unsigned int depth;
	unsigned long *count; /* shared by the nested walks */
	int urc;	      /* the callback's stop value */
	int err;	      /* an error of a nested walk */
};

static int walk_type(struct kd_pdb *pdb, uint32_t ti, struct walk *parent,
		     uint64_t base, unsigned int depth);

static int walk_field(void *ctx, const struct kd_pdb_field *f)
{
	struct walk *w = ctx;
	struct kd_type_member m;
	struct kd_type_info i;
	int rc;

	if (f->leaf != KD_LF_MEMBER && f->leaf != KD_LF_BCLASS)
		return 0;
	if (++*w->count > KD_TYPE_MAX_MEMBERS) {
		w->err = type_bad(KD_EPROTO, "more than %u members",
				  KD_TYPE_MAX_MEMBERS);
		return 1;
	}
	memset(&m, 0, sizeof(m));
	m.name = f->name;
	m.type = f->type;
	m.offset = w->base + f->offset;
	m.depth = w->depth;
	m.is_base = f->leaf == KD_LF_BCLASS;
	rc = info_of(w->pdb, f->type, &i);
	if (rc == KD_OK && i.kind == KD_TYPE_BITFIELD) {
		m.is_bitfield = true;
		m.bit_pos = i.bit_pos;
		m.bit_len = i.bit_len;
	}
	kd_error_clear();
	/* An unnamed member of an anonymous type: its members, inlined. */
	if (!m.is_base && f->name[0] == '\0' && rc == KD_OK &&
	    (i.kind == KD_TYPE_STRUCT || i.kind == KD_TYPE_UNION)) {
		rc = walk_type(w->pdb, i.ti, w, m.offset, w->depth + 1);
		if (rc) {
			if (w->urc == 0)
				w->err = rc;
			return 1;
		}
		return 0;
	}
	rc = w->cb(w->ctx, &m);
	if (rc) {
		w->urc = rc;
		return 1;
	}
	return 0;
}

static int walk_type(struct kd_pdb *pdb, uint32_t ti, struct walk *parent,
		     uint64_t base, unsigned int depth)
{
	struct walk w = *parent;
	int rc;

	if (depth > KD_TYPE_MAX_DEPTH)
		return type_bad(KD_EPROTO,
				"type %#x: anonymous members nest deeper "
				"than %u",
				ti, KD_TYPE_MAX_DEPTH);
	w.base = base;
	w.depth = depth;
	w.urc = 0;
	w.err = 0;
	rc = kd_pdb_type_fields(pdb, ti, walk_field, &w);
	if (w.urc) {
		parent->urc = w.urc;
		return w.urc;
	}
	if (w.err)
		return w.err;
	return rc;
}

int kd_sym__type_members(struct kd_pdb *pdb, uint32_t ti,
			 int (*cb)(void *ctx, const struct kd_type_member *m),
			 void *ctx)
{
	struct kd_type_info i;
	unsigned long count = 0;
	struct walk w;
	int rc;

	if (!pdb || !cb)
		return KD_EINVAL;
	rc = info_of(pdb, ti, &i);
	if (rc)
		return rc;
	if (i.kind != KD_TYPE_STRUCT && i.kind != KD_TYPE_UNION)
		return type_bad(KD_EINVAL, "type %#x has no members", ti);
	memset(&w, 0, sizeof(w));
	w.pdb = pdb;
	w.cb = cb;
	w.ctx = ctx;
	w.count = &count;
	return walk_type(pdb, i.ti, &w, 0, 0);
}

struct find {
	const char *name;
	size_t len;
	bool fold;
	struct kd_type_member hit;
	bool found;
};

static int find_cb(void *ctx, const struct kd_type_member *m)
{
	struct find *f = ctx;
	bool eq;

	if (strlen(m->name) != f->len)
		return 0;
	eq = f->fold ? strncasecmp(m->name, f->name, f->len) == 0 :
		       strncmp(m->name, f->name, f->len) == 0;
	if (!eq)
		return 0;
	f->hit = *m;
	f->found = true;
	return 1;
}

/* Member @p name (@p len bytes) of @p ti: exact case first, then folded. */
static int find_member(struct kd_pdb *pdb, uint32_t ti, const char *name,
		       size_t len, struct kd_type_member *out)
{
	struct find f;
	int rc, pass;

	for (pass = 0; pass < 2; pass++) {
		memset(&f, 0, sizeof(f));
		f.name = name;
		f.len = len;
		f.fold = pass == 1;
		rc = kd_sym__type_members(pdb, ti, find_cb, &f);
		if (f.found) {
			*out = f.hit;
			return KD_OK;
		}
		if (rc < 0)
			return rc;
	}
	return type_bad(KD_ENOTFOUND, "no member %.*s", (int)len, name);
}

int kd_sym__type_field(struct kd_pdb *pdb, uint32_t ti, const char *path,
		       struct kd_type_member *out)
{
	struct kd_type_member m;
	struct kd_type_info i;
	const char *p = path;
	uint64_t off = 0;
	unsigned int parts = 0;
	uint32_t cur = ti;
	int rc;

	if (!pdb || !path || !out)
		return KD_EINVAL;
	memset(&m, 0, sizeof(m));
	while (*p) {
		size_t n = strcspn(p, ".[");

		if (++parts > KD_TYPE_MAX_DEPTH)
			return type_bad(KD_EINVAL, "member path %s is too long",
					path);
		rc = info_of(pdb, cur, &i);
		if (rc)
			return rc;
		if (i.kind == KD_TYPE_POINTER)
			return type_bad(KD_EINVAL,
					"%.*s: the path goes through a pointer",
					(int)(p - path), path);
		if (i.kind != KD_TYPE_STRUCT && i.kind != KD_TYPE_UNION)
			return type_bad(KD_EINVAL, "%.*s is no struct or union",
					(int)(p - path), path);
		if (n == 0)
			return type_bad(KD_EINVAL, "empty member name in %s",
					path);
		rc = find_member(pdb, cur, p, n, &m);
		if (rc)
			return rc;
		off += m.offset;
		cur = m.type;
		p += n;
		while (*p == '[') {
			unsigned long long idx = 0;
			uint64_t esz;
			const char *q = p + 1;

			rc = info_of(pdb, cur, &i);
			if (rc)
				return rc;
			if (i.kind != KD_TYPE_ARRAY)
				return type_bad(KD_EINVAL,
						"%.*s is not an array",
						(int)(p - path), path);
			if (*q < '0' || *q > '9')
				return type_bad(KD_EINVAL, "bad index in %s",
						path);
			while (*q >= '0' && *q <= '9' && idx <= i.count)
				idx = idx * 10 + (unsigned)(*q++ - '0');
			if (*q != ']' || idx >= i.count)
				return type_bad(KD_EINVAL,
						"index out of range in %s",
						path);
			rc = kd_sym__type_size(pdb, i.ref, &esz);
			if (rc)
				return rc;
			off += idx * esz;
			cur = i.ref;
			m.is_bitfield = false;
			p = q + 1;
		}
		if (*p == '.')
			p++;
		else if (*p)
			return type_bad(KD_EINVAL, "bad member path %s", path);
	}
	if (parts == 0)
		return type_bad(KD_EINVAL, "empty member path");
	m.type = cur;
	m.offset = off;
	m.depth = 0;
	*out = m;
	return KD_OK;
}

/* ---- enums and values ---- */

struct enum_find {
	uint64_t mask;
	uint64_t value;
	const char *name;
	const char *want;
};

static int enum_cb(void *ctx, const struct kd_pdb_field *f)
{
	struct enum_find *e = ctx;

	if (f->leaf != KD_LF_ENUMERATE)
		return 0;
	if (e->want) {
		if (strcmp(f->name, e->want) != 0)
			return 0;
		e->value = (uint64_t)f->value;
		e->name = f->name;
		return 1;
	}
	if (((uint64_t)f->value & e->mask) != (e->value & e->mask))
		return 0;
	e->name = f->name;
	return 1;
}

static uint64_t size_mask(uint64_t size)
{
	return size == 0 || size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

int kd_sym__enum_name(struct kd_pdb *pdb, uint32_t ti, int64_t value,
		      const char **name)
{
	struct kd_type_info i;
	struct enum_find e;
	int rc;

	if (!pdb || !name)
		return KD_EINVAL;
	rc = info_of(pdb, ti, &i);
	if (rc)
		return rc;
	if (i.kind != KD_TYPE_ENUM)
		return type_bad(KD_EINVAL, "type %#x is not an enum", ti);
	memset(&e, 0, sizeof(e));
	e.mask = size_mask(i.size);
	e.value = (uint64_t)value;
	rc = kd_pdb_type_fields(pdb, i.ti, enum_cb, &e);
	if (rc < 0)
		return rc;
	if (!e.name)
		return KD_ENOTFOUND;
	*name = e.name;
	return KD_OK;
}

int kd_sym__enum_value(struct kd_pdb *pdb, uint32_t ti, const char *name,
		       int64_t *value)
{
	struct kd_type_info i;
	struct enum_find e;
	int rc;

	if (!pdb || !name || !value)
		return KD_EINVAL;
	rc = info_of(pdb, ti, &i);
	if (rc)
		return rc;
	if (i.kind != KD_TYPE_ENUM)
		return type_bad(KD_EINVAL, "type %#x is not an enum", ti);
	memset(&e, 0, sizeof(e));
	e.want = name;
	rc = kd_pdb_type_fields(pdb, i.ti, enum_cb, &e);
	if (rc < 0)
		return rc;
	if (!e.name)
		return KD_ENOTFOUND;
	*value = (int64_t)e.value;
	return KD_OK;
}

int kd_sym__type_read_int(struct kd_pdb *pdb, uint32_t ti, const void *bytes,
			  size_t len, uint64_t *value)
{
	const uint8_t *p = bytes;
	struct kd_type_info i;
	uint64_t v = 0, size;
	size_t k;
	int rc;

	if (!pdb || !bytes || !value)
		return KD_EINVAL;
	rc = info_of(pdb, ti, &i);
	if (rc)
		return rc;
	if (i.kind != KD_TYPE_INT && i.kind != KD_TYPE_ENUM &&
	    i.kind != KD_TYPE_POINTER && i.kind != KD_TYPE_BITFIELD)
		return type_bad(KD_EINVAL, "type %#x is not an integer", ti);
	size = i.size;
	if (size == 0 || size > 8)
		return type_bad(KD_EINVAL, "type %#x has %llu bytes", ti,
				(unsigned long long)size);
	if (len < size)
		return KD_ETRUNC;
	for (k = 0; k < size; k++)
		v |= (uint64_t)p[k] << (8 * k);
	if (i.kind == KD_TYPE_BITFIELD) {
		unsigned int bits = (unsigned int)size * 8;

		if (i.bit_len == 0 || i.bit_pos >= bits ||
		    i.bit_len > bits - i.bit_pos)
			return type_bad(KD_EPROTO,
					"bitfield %#x: Pos %u, %u Bits do not "
					"fit %u bits",
					ti, i.bit_pos, i.bit_len, bits);
		v >>= i.bit_pos;
		if (i.bit_len < 64)
			v &= (1ull << i.bit_len) - 1;
		if (i.is_signed && i.bit_len < 64 && (v >> (i.bit_len - 1)) & 1)
			v |= ~0ull << i.bit_len;
	} else if (i.is_signed && size < 8 && (v >> (size * 8 - 1)) & 1) {
		v |= ~0ull << (size * 8);
	}
	*value = v;
	return KD_OK;
}

int kd_sym__type_basic(const char *cname, uint32_t *ti)
{
	static const struct {
		const char *name;
		uint32_t ti;
	} basics[] = {
		{ "void", 0x03 },
		{ "HRESULT", 0x08 },
		{ "signed char", 0x10 },
		{ "unsigned char", 0x20 },
		{ "char", 0x70 },
		{ "wchar_t", 0x71 },
		{ "char16_t", 0x7a },
		{ "char32_t", 0x7b },
		{ "short", 0x11 },
		{ "signed short", 0x11 },
		{ "unsigned short", 0x21 },
		{ "long", 0x12 },
		{ "signed long", 0x12 },
		{ "unsigned long", 0x22 },
		{ "int", 0x74 },
		{ "signed int", 0x74 },
		{ "unsigned int", 0x75 },
		{ "unsigned", 0x75 },
		{ "__int64", 0x13 },
		{ "long long", 0x13 },
		{ "unsigned __int64", 0x23 },
		{ "unsigned long long", 0x23 },
		{ "float", 0x40 },
		{ "double", 0x41 },
		{ "bool", 0x30 },
	};
	char buf[64];
	size_t n, k;
	bool ptr = false;

	if (!cname || !ti)
		return KD_EINVAL;
	n = strlen(cname);
	while (n && cname[n - 1] == ' ')
		n--;
	if (n && cname[n - 1] == '*') {
		ptr = true;
		n--;
		while (n && cname[n - 1] == ' ')
			n--;
	}
	if (n == 0 || n >= sizeof(buf))
		return KD_ENOTFOUND;
	memcpy(buf, cname, n);
	buf[n] = '\0';
	for (k = 0; k < sizeof(basics) / sizeof(basics[0]); k++) {
		if (strcmp(basics[k].name, buf) == 0) {
			/* Mode 6: a 64-bit near pointer to the basic type. */
			*ti = basics[k].ti | (ptr ? 0x600u : 0);
			return KD_OK;
		}
	}
	return KD_ENOTFOUND;
}

/* ---- session lookups ---- */

/* Split "mod!Name": the module (NULL for a bare name) and the name. */
static int split_module(struct kd_session *s, const char *spec,
			struct kd_module **mod, const char **name)
{
	const char *bang = strchr(spec, '!');
	char buf[sizeof(((struct kd_module *)0)->name)];
	size_t n;

	*mod = NULL;
	*name = spec;
	if (!bang)
		return KD_OK;
	n = (size_t)(bang - spec);
	if (n == 0 || n >= sizeof(buf) || bang[1] == '\0')
		return type_bad(KD_EINVAL, "bad name %s", spec);
	memcpy(buf, spec, n);
	buf[n] = '\0';
	*mod = kd_module_by_name(s, buf);
	if (!*mod)
		return type_bad(KD_ENOTFOUND, "no module %s", buf);
	*name = bang + 1;
	return KD_OK;
}

/* The type @p name in the PDB of @p m: a tag, else a typedef (S_UDT). */
static int lookup_in(struct kd_session *s, struct kd_module *m,
		     const char *name, struct kd_type *out)
{
	struct kd_pdb *pdb = kd_sym__pdb(s, m);
	struct kd_pdb_sym sym;
	uint32_t ti;

	if (!pdb)
		return KD_ENOTFOUND;
	if (kd_pdb_type_by_name(pdb, name, &ti) == KD_OK) {
		out->mod = m;
		out->pdb = pdb;
		out->ti = ti;
		return KD_OK;
	}
	if (kd_pdb_name_to_sym(pdb, name, &sym) == KD_OK &&
	    sym.kind == KD_PDB_SYM_UDT) {
		out->mod = m;
		out->pdb = pdb;
		out->ti = sym.type;
		return KD_OK;
	}
	kd_error_clear();
	return KD_ENOTFOUND;
}

/* Modules in search order: nt, then the list's order. */
static struct kd_module *nth_module(struct kd_session *s, size_t k,
				    struct kd_module *nt)
{
	size_t i, seen = 0;

	if (nt) {
		if (k == 0)
			return nt;
		k--;
	}
	for (i = 0; i < s->sym.nmodules; i++) {
		if (&s->sym.modules[i] == nt)
			continue;
		if (seen++ == k)
			return &s->sym.modules[i];
	}
	return NULL;
}

int kd_sym__type_lookup(struct kd_session *s, const char *name,
			struct kd_type *out)
{
	struct kd_module *m, *nt;
	const char *tn;
	size_t k;
	int rc;

	if (!s || !name || !out)
		return KD_EINVAL;
	rc = kd_modules_load(s);
	if (rc)
		return rc;
	rc = split_module(s, name, &m, &tn);
	if (rc)
		return rc;
	if (m) {
		if (lookup_in(s, m, tn, out) == KD_OK)
			return KD_OK;
		return type_bad(KD_ENOTFOUND, "no type %s", name);
	}
	nt = kd_module_by_name(s, "nt");
	for (k = 0; (m = nth_module(s, k, nt)) != NULL; k++) {
		if (lookup_in(s, m, tn, out) == KD_OK)
			return KD_OK;
	}
	return type_bad(KD_ENOTFOUND, "no type %s", name);
}

static int foreach_in(struct kd_session *s, struct kd_module *m,
		      const char *pattern,
		      int (*cb)(void *ctx, const struct kd_type *t,
				const char *name),
		      void *ctx)
{
	struct kd_pdb *pdb = kd_sym__pdb(s, m);
	struct kd_pdb_type ty;
	struct kd_type t;
	uint32_t b, e, ti, first;
	int rc;

	if (!pdb)
		return KD_OK;
	if (kd_pdb_type_range(pdb, &b, &e) != KD_OK) {
		kd_error_clear();
		return KD_OK;
	}
	for (ti = b; ti < e; ti++) {
		if (kd_pdb_type_get(pdb, ti, &ty) != KD_OK) {
			kd_error_clear();
			continue;
		}
		if (!leaf_is_tag(ty.leaf) || ty.forward || !ty.name[0])
			continue;
		if (!kd_pdb_wildcard(pattern, ty.name))
			continue;
		/* Each name once: its first definition. */
		if (kd_pdb_type_by_name(pdb, ty.name, &first) != KD_OK ||
		    first != ti)
			continue;
		t.mod = m;
		t.pdb = pdb;
		t.ti = ti;
		rc = cb(ctx, &t, ty.name);
		if (rc)
			return rc;
	}
	return KD_OK;
}

int kd_sym__type_foreach(struct kd_session *s, const char *pattern,
			 int (*cb)(void *ctx, const struct kd_type *t,
				   const char *name),
			 void *ctx)
{
	struct kd_module *m, *nt;
	const char *pat;
	size_t k;
	int rc;

	if (!s || !pattern || !cb)
		return KD_EINVAL;
	rc = kd_modules_load(s);
	if (rc)
		return rc;
	rc = split_module(s, pattern, &m, &pat);
	if (rc)
		return rc;
	if (m)
		return foreach_in(s, m, pat, cb, ctx);
	nt = kd_module_by_name(s, "nt");
	for (k = 0; (m = nth_module(s, k, nt)) != NULL; k++) {
		rc = foreach_in(s, m, pat, cb, ctx);
		if (rc)
			return rc;
	}
	return KD_OK;
}

static int global_in(struct kd_session *s, struct kd_module *m,
		     const char *name, uint64_t *addr, struct kd_type *out)
{
	struct kd_pdb *pdb = kd_sym__pdb(s, m);
	struct kd_pdb_sym sym;

	if (!pdb)
		return KD_ENOTFOUND;
	if (kd_pdb_name_to_sym(pdb, name, &sym) != KD_OK) {
		kd_error_clear();
		return KD_ENOTFOUND;
	}
	if (sym.kind != KD_PDB_SYM_DATA || !sym.has_rva || !sym.type)
		return KD_ENOTFOUND;
	*addr = m->base + sym.rva;
	out->mod = m;
	out->pdb = pdb;
	out->ti = sym.type;
	return KD_OK;
}

int kd_sym__global_type(struct kd_session *s, const char *name, uint64_t *addr,
			struct kd_type *out)
{
	struct kd_module *m, *nt;
	const char *sn;
	size_t k;
	int rc;

	if (!s || !name || !addr || !out)
		return KD_EINVAL;
	rc = kd_modules_load(s);
	if (rc)
		return rc;
	rc = split_module(s, name, &m, &sn);
	if (rc)
		return rc;
	if (m) {
		if (global_in(s, m, sn, addr, out) == KD_OK)
			return KD_OK;
		return type_bad(KD_ENOTFOUND, "no global %s", name);
	}
	nt = kd_module_by_name(s, "nt");
	for (k = 0; (m = nth_module(s, k, nt)) != NULL; k++) {
		if (global_in(s, m, sn, addr, out) == KD_OK)
			return KD_OK;
	}
	return type_bad(KD_ENOTFOUND, "no global %s", name);
}
