/* SPDX-License-Identifier: MIT */
/*
 * The type stream (TPI): header, a record offset table built by one walk on
 * first use (the hash stream's index offsets are only a sparse hint), the
 * decoding of the leaf kinds `dt` needs, field lists with their LF_INDEX
 * continuations, and forward-reference resolution by name.
 */
#include <string.h>

#include <kd/alloc.h>
#include <kd/error.h>

#include "pdb_int.h"

#define PDB_TPI_STREAM 2
#define PDB_IPI_STREAM 4
#define TPI_HDR 56
#define PROP_FWDREF 0x80
#define PROP_UNIQUE 0x200

static int tpi_read(struct kd_pdb *pdb, struct pdb_tpi *t);

/* The TPI, or the IPI (same layout) when @p t is pdb->ipi. */
static int tpi_load_in(struct kd_pdb *pdb, struct pdb_tpi *t)
{
	int rc;

	if (pdb_lazy_done(&t->lazy, &rc))
		return rc;
	return pdb_lazy_end(&t->lazy, tpi_read(pdb, t));
}

static int tpi_load(struct kd_pdb *pdb)
{
	return tpi_load_in(pdb, &pdb->tpi);
}

static int tpi_read(struct kd_pdb *pdb, struct pdb_tpi *t)
{
	uint32_t idx = t == &pdb->ipi ? PDB_IPI_STREAM : PDB_TPI_STREAM;
	const char *what = t == &pdb->ipi ? "IPI" : "TPI";
	struct pdb_buf s;
	uint32_t hsz, bytes, n, i, pos;
	int rc;

	if (pdb->nstreams <= idx || pdb->streams[idx].size == 0)
		return pdb_bad(pdb, KD_ENOTFOUND, "PDB has no %s stream", what);
	rc = pdb_stream(pdb, idx, &s);
	if (rc)
		return rc;
	if (s.len < TPI_HDR)
		return pdb_bad(pdb, KD_ETRUNC, "%s header is cut short", what);
	hsz = kd_get_le32(s.p + 4);
	t->ti_begin = kd_get_le32(s.p + 8);
	t->ti_end = kd_get_le32(s.p + 12);
	bytes = kd_get_le32(s.p + 16);
	if (hsz < TPI_HDR || hsz > s.len || bytes > s.len - hsz)
		return pdb_bad(pdb, KD_ETRUNC,
			       "%s header says %u + %u bytes, stream has %u",
			       what, hsz, bytes, s.len);
	if (t->ti_begin < 0x1000 || t->ti_end < t->ti_begin ||
	    t->ti_end - t->ti_begin > bytes / 4)
		return pdb_bad(pdb, KD_EPROTO,
			       "%s type index range %#x..%#x does not fit "
			       "%u record bytes",
			       what, t->ti_begin, t->ti_end, bytes);
	t->rec.p = s.p + hsz;
	t->rec.len = bytes;
	n = t->ti_end - t->ti_begin;
	t->offs = kd_malloc((size_t)n * 4 + 4);
	if (!t->offs)
		return KD_ENOMEM;
	for (i = 0, pos = 0; i < n; i++) {
		uint16_t len;

		if (bytes - pos < 4)
			break;
		len = kd_get_le16(t->rec.p + pos);
		if (len < 2 || len > bytes - pos - 2)
			return pdb_bad(pdb, KD_EPROTO,
				       "%s record %#x of %u bytes runs past "
				       "the stream",
				       what, t->ti_begin + i, len);
		t->offs[i] = pos;
		pos += 2u + len;
	}
	if (i != n || pos != bytes)
		return pdb_bad(pdb, KD_EPROTO,
			       "%s header counts %u records, its records "
			       "hold %u",
			       what, n, i);
	t->present = true;
	return KD_OK;
}

void pdb_tpi_free(struct kd_pdb *pdb)
{
	kd_free(pdb->tpi.offs);
	kd_free(pdb->tpi.names);
	kd_free(pdb->ipi.offs);
}

int kd_pdb_type_range(struct kd_pdb *pdb, uint32_t *begin, uint32_t *end)
{
	int rc;

	if (!pdb || !begin || !end)
		return KD_EINVAL;
	rc = tpi_load(pdb);
	if (rc)
		return rc;
	*begin = pdb->tpi.ti_begin;
	*end = pdb->tpi.ti_end;
	return KD_OK;
}

/* The record of @p ti: leaf in *@p leaf, bytes after the leaf in @p pl. */
static int tpi_rec_in(struct kd_pdb *pdb, struct pdb_tpi *t, uint32_t ti,
		      uint16_t *leaf, struct pdb_buf *pl)
{
	uint32_t off;
	int rc = tpi_load_in(pdb, t);

	if (rc)
		return rc;
	if (ti < t->ti_begin || ti >= t->ti_end)
		return pdb_bad(pdb, KD_EINVAL,
			       "%s index %#x is outside the %s (%#x..%#x)",
			       t == &pdb->ipi ? "id" : "type", ti,
			       t == &pdb->ipi ? "IPI" : "TPI", t->ti_begin,
			       t->ti_end);
	off = t->offs[ti - t->ti_begin];
	*leaf = kd_get_le16(t->rec.p + off + 2);
	pl->p = t->rec.p + off + 4;
	pl->len = kd_get_le16(t->rec.p + off) - 2u;
	return KD_OK;
}

static int tpi_rec(struct kd_pdb *pdb, uint32_t ti, uint16_t *leaf,
		   struct pdb_buf *pl)
{
	return tpi_rec_in(pdb, &pdb->tpi, ti, leaf, pl);
}

static const char *basic_name(uint32_t kind)
{
	switch (kind) {
	case 0x03:
		return "void";
	case 0x08:
		return "HRESULT";
	case 0x10:
		return "signed char";
	case 0x20:
		return "unsigned char";
	case 0x70:
		return "char";
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
	case 0x22:
		return "unsigned long";
	case 0x74:
		return "int";
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
		return "<unknown basic type>";
	}
}

static uint32_t basic_size(uint32_t kind)
{
	switch (kind) {
	case 0x03:
		return 0;
	case 0x10:
	case 0x20:
	case 0x70:
	case 0x30:
		return 1;
	case 0x71:
	case 0x7a:
	case 0x11:
	case 0x21:
	case 0x72:
	case 0x73:
		return 2;
	case 0x13:
	case 0x23:
	case 0x76:
	case 0x77:
	case 0x41:
		return 8;
	default:
		return 4;
	}
}

static void basic_type(uint32_t ti, struct kd_pdb_type *out)
{
	uint32_t kind = ti & 0xff, mode = (ti >> 8) & 0xf;

	out->name = basic_name(kind);
	if (mode == 0) {
		out->size = basic_size(kind);
	} else {
		/* A pointer to the basic type: 4 = 32-bit, 6 = 64-bit. */
		out->leaf = KD_LF_POINTER;
		out->ref = kind;
		out->size = mode == 6 ? 8 : 4;
	}
}

/* A name at @p off of @p pl (NULL when it runs off the record). */
static const char *rec_name(const struct pdb_buf *pl, uint32_t off)
{
	return pdb_str(pl, off, NULL);
}

static int decode(struct kd_pdb *pdb, uint32_t ti, uint16_t leaf,
		  const struct pdb_buf *pl, struct kd_pdb_type *out)
{
	const uint8_t *p = pl->p;
	uint32_t len = pl->len, used = 0, noff;
	int64_t v = 0;
	const char *nm;

	switch (leaf) {
	case KD_LF_MODIFIER:
		if (len < 6)
			goto short_rec;
		out->ref = kd_get_le32(p);
		out->props = kd_get_le16(p + 4);
		break;
	case KD_LF_POINTER:
		if (len < 8)
			goto short_rec;
		out->ref = kd_get_le32(p);
		out->attr = kd_get_le32(p + 4);
		out->size = (out->attr >> 13) & 0x3f;
		break;
	case KD_LF_PROCEDURE:
		if (len < 12)
			goto short_rec;
		out->ref = kd_get_le32(p);
		out->count = kd_get_le16(p + 6);
		out->index_type = kd_get_le32(p + 8);
		break;
	case KD_LF_MFUNCTION:
		if (len < 20)
			goto short_rec;
		out->ref = kd_get_le32(p);
		out->count = kd_get_le16(p + 14);
		out->index_type = kd_get_le32(p + 16);
		break;
	case KD_LF_ARGLIST:
		if (len < 4)
			goto short_rec;
		out->count = (uint16_t)kd_get_le32(p);
		break;
	case KD_LF_BITFIELD:
		if (len < 6)
			goto short_rec;
		out->ref = kd_get_le32(p);
		out->bit_len = p[4];
		out->bit_pos = p[5];
		break;
	case KD_LF_ARRAY:
		if (len < 8 || !pdb_numeric(p + 8, len - 8, &v, &used))
			goto short_rec;
		out->ref = kd_get_le32(p);
		out->index_type = kd_get_le32(p + 4);
		out->size = (uint64_t)v;
		nm = rec_name(pl, 8 + used);
		out->name = nm ? nm : "";
		break;
	case KD_LF_CLASS:
	case KD_LF_STRUCTURE:
	case KD_LF_INTERFACE:
	case KD_LF_UNION:
		noff = leaf == KD_LF_UNION ? 8 : 16;
		if (len < noff || !pdb_numeric(p + noff, len - noff, &v, &used))
			goto short_rec;
		out->count = kd_get_le16(p);
		out->props = kd_get_le16(p + 2);
		out->fields = kd_get_le32(p + 4);
		out->size = (uint64_t)v;
		noff += used;
		goto names;
	case KD_LF_ENUM:
		if (len < 12)
			goto short_rec;
		out->count = kd_get_le16(p);
		out->props = kd_get_le16(p + 2);
		out->ref = kd_get_le32(p + 4);
		out->fields = kd_get_le32(p + 8);
		noff = 12;
names:
		out->forward = (out->props & PROP_FWDREF) != 0;
		out->name = rec_name(pl, noff);
		if (!out->name)
			goto short_rec;
		if (out->props & PROP_UNIQUE) {
			nm = rec_name(pl,
				      noff + (uint32_t)strlen(out->name) + 1);
			out->unique_name = nm ? nm : "";
		}
		if (leaf == KD_LF_ENUM && out->ref < 0x1000) {
			struct kd_pdb_type u = { 0 };

			/* An enum is as large as its (basic) underlying type. */
			basic_type(out->ref, &u);
			out->size = u.size;
		}
		break;
	case KD_LF_ALIAS:
		if (len < 4)
			goto short_rec;
		out->ref = kd_get_le32(p);
		nm = rec_name(pl, 4);
		out->name = nm ? nm : "";
		break;
	case KD_LF_FUNC_ID:
	case KD_LF_MFUNC_ID:
		if (len < 8)
			goto short_rec;
		out->ref = kd_get_le32(p + 4);
		nm = rec_name(pl, 8);
		out->name = nm ? nm : "";
		break;
	case KD_LF_STRING_ID:
		if (len < 4)
			goto short_rec;
		out->ref = kd_get_le32(p);
		nm = rec_name(pl, 4);
		out->name = nm ? nm : "";
		break;
	default:
		break; /* other leaves: kind only */
	}
	return KD_OK;
short_rec:
	return pdb_bad(pdb, KD_EPROTO, "type record %#x (leaf %#x) is damaged",
		       ti, leaf);
}

int kd_pdb_type_get(struct kd_pdb *pdb, uint32_t ti, struct kd_pdb_type *out)
{
	struct pdb_buf pl;
	uint16_t leaf;
	int rc;

	if (!pdb || !out)
		return KD_EINVAL;
	memset(out, 0, sizeof(*out));
	out->ti = ti;
	out->name = "";
	out->unique_name = "";
	if (ti < 0x1000) {
		basic_type(ti, out);
		return KD_OK;
	}
	rc = tpi_rec(pdb, ti, &leaf, &pl);
	if (rc)
		return rc;
	out->leaf = leaf;
	return decode(pdb, ti, leaf, &pl, out);
}

int kd_pdb_id_get(struct kd_pdb *pdb, uint32_t id, struct kd_pdb_type *out)
{
	struct pdb_buf pl;
	uint16_t leaf;
	int rc;

	if (!pdb || !out)
		return KD_EINVAL;
	memset(out, 0, sizeof(*out));
	out->ti = id;
	out->name = "";
	out->unique_name = "";
	rc = tpi_rec_in(pdb, &pdb->ipi, id, &leaf, &pl);
	if (rc)
		return rc;
	out->leaf = leaf;
	return decode(pdb, id, leaf, &pl, out);
}

int kd_pdb_id_range(struct kd_pdb *pdb, uint32_t *begin, uint32_t *end)
{
	int rc;

	if (!pdb || !begin || !end)
		return KD_EINVAL;
	rc = tpi_load_in(pdb, &pdb->ipi);
	if (rc)
		return rc;
	*begin = pdb->ipi.ti_begin;
	*end = pdb->ipi.ti_end;
	return KD_OK;
}

static bool is_udt(uint16_t leaf)
{
	return leaf == KD_LF_CLASS || leaf == KD_LF_STRUCTURE ||
	       leaf == KD_LF_INTERFACE || leaf == KD_LF_UNION ||
	       leaf == KD_LF_ENUM;
}

static uint32_t name_hash(const char *s)
{
	return pdb_hash_v1((const uint8_t *)s, strlen(s));
}

/* Name (unique name when it has one) -> defining record, open addressing. */
static int names_build(struct kd_pdb *pdb)
{
	struct pdb_tpi *t = &pdb->tpi;
	struct kd_pdb_type ty;
	uint32_t n, cap = 16, ti, h;
	int rc = tpi_load(pdb);

	if (rc)
		return rc;
	if (t->names_built)
		return KD_OK;
	n = t->ti_end - t->ti_begin;
	while (cap < n * 2)
		cap *= 2;
	t->names = kd_calloc(cap, 4);
	if (!t->names)
		return KD_ENOMEM;
	t->names_cap = cap;
	for (ti = t->ti_begin; ti < t->ti_end; ti++) {
		uint16_t leaf = kd_get_le16(t->rec.p +
					    t->offs[ti - t->ti_begin] + 2);

		if (!is_udt(leaf))
			continue;
		if (kd_pdb_type_get(pdb, ti, &ty) != KD_OK) {
			kd_error_clear();
			continue;
		}
		if (ty.forward)
			continue;
		/* Keep the first definition of a name (LLVM does too). */
		for (h = name_hash(ty.name) & (cap - 1); t->names[h];
		     h = (h + 1) & (cap - 1)) {
			struct kd_pdb_type o;

			if (kd_pdb_type_get(pdb, t->names[h], &o) == KD_OK &&
			    strcmp(o.name, ty.name) == 0)
				break;
		}
		if (!t->names[h])
			t->names[h] = ti;
	}
	t->names_built = true;
	return KD_OK;
}

int kd_pdb_type_by_name(struct kd_pdb *pdb, const char *name, uint32_t *ti)
{
	struct pdb_tpi *t = &pdb->tpi;
	struct kd_pdb_type o;
	uint32_t h;
	int rc;

	if (!pdb || !name || !ti)
		return KD_EINVAL;
	rc = names_build(pdb);
	if (rc)
		return rc;
	for (h = name_hash(name) & (t->names_cap - 1); t->names[h];
	     h = (h + 1) & (t->names_cap - 1)) {
		if (kd_pdb_type_get(pdb, t->names[h], &o) == KD_OK &&
		    strcmp(o.name, name) == 0) {
			*ti = t->names[h];
			return KD_OK;
		}
	}
	return KD_ENOTFOUND;
}

int kd_pdb_type_resolve(struct kd_pdb *pdb, uint32_t ti, uint32_t *full)
{
	struct kd_pdb_type ty, d;
	int rc;

	if (!pdb || !full)
		return KD_EINVAL;
	rc = kd_pdb_type_get(pdb, ti, &ty);
	if (rc)
		return rc;
	if (!is_udt(ty.leaf) || !ty.forward) {
		*full = ti;
		return KD_OK;
	}
	rc = kd_pdb_type_by_name(pdb, ty.name, full);
	if (rc)
		return rc;
	rc = kd_pdb_type_get(pdb, *full, &d);
	if (rc)
		return rc;
	/* Same name, other kind (struct X vs enum X): no definition. */
	if ((d.leaf == KD_LF_ENUM) != (ty.leaf == KD_LF_ENUM))
		return KD_ENOTFOUND;
	return KD_OK;
}

/* Skip LF_PAD bytes (0xF1..0xFF: the low nibble is the count). */
static uint32_t skip_pad(const struct pdb_buf *pl, uint32_t pos)
{
	while (pos < pl->len && pl->p[pos] > 0xf0) {
		uint32_t n = pl->p[pos] & 0x0f;

		pos += n ? n : 1;
	}
	return pos;
}

int kd_pdb_type_fields(struct kd_pdb *pdb, uint32_t ti,
		       int (*cb)(void *ctx, const struct kd_pdb_field *field),
		       void *ctx)
{
	struct kd_pdb_type ty;
	struct kd_pdb_field f;
	struct pdb_buf pl;
	uint32_t list, pos, hops = 0, used;
	uint16_t leaf;
	int rc;

	if (!pdb || !cb)
		return KD_EINVAL;
	rc = kd_pdb_type_resolve(pdb, ti, &ti);
	if (rc)
		return rc;
	rc = kd_pdb_type_get(pdb, ti, &ty);
	if (rc)
		return rc;
	list = ty.leaf == KD_LF_FIELDLIST ? ti : ty.fields;
	if (ty.leaf != KD_LF_FIELDLIST && !is_udt(ty.leaf))
		return pdb_bad(pdb, KD_EINVAL, "type %#x has no fields", ti);
	while (list) {
		if (++hops > PDB_MAX_FIELD_CHAIN)
			return pdb_bad(pdb, KD_EPROTO,
				       "field list chain of %#x loops", ti);
		rc = tpi_rec(pdb, list, &leaf, &pl);
		if (rc)
			return rc;
		if (leaf != KD_LF_FIELDLIST)
			return pdb_bad(pdb, KD_EPROTO,
				       "type %#x is not a field list", list);
		list = 0;
		for (pos = 0; (pos = skip_pad(&pl, pos)) + 2 <= pl.len;) {
			const uint8_t *p = pl.p + pos + 2;
			uint32_t left = pl.len - pos - 2, n;
			uint16_t attr;

			memset(&f, 0, sizeof(f));
			f.leaf = kd_get_le16(pl.p + pos);
			f.name = "";
			if (left < 2)
				goto bad;
			attr = kd_get_le16(p);
			f.attr = attr;
			switch (f.leaf) {
			case KD_LF_MEMBER:
				if (left < 6 || !pdb_numeric(p + 6, left - 6,
							     &f.value, &used))
					goto bad;
				f.type = kd_get_le32(p + 2);
				f.offset = (uint64_t)f.value;
				f.value = 0;
				n = 6 + used;
				goto named;
			case KD_LF_ENUMERATE:
				if (!pdb_numeric(p + 2, left - 2, &f.value,
						 &used))
					goto bad;
				n = 2 + used;
				goto named;
			case KD_LF_STMEMBER:
			case KD_LF_NESTTYPE:
				if (left < 6)
					goto bad;
				f.type = kd_get_le32(p + 2);
				n = 6;
				goto named;
			case KD_LF_METHOD:
				if (left < 6)
					goto bad;
				f.type = kd_get_le32(p + 2);
				n = 6;
				goto named;
			case KD_LF_ONEMETHOD:
				if (left < 6)
					goto bad;
				f.type = kd_get_le32(p + 2);
				n = 6;
				/* Introducing virtuals carry a vtable offset. */
				if (((attr >> 2) & 7) == 4 ||
				    ((attr >> 2) & 7) == 6)
					n += 4;
				goto named;
			case KD_LF_BCLASS:
				if (left < 6 || !pdb_numeric(p + 6, left - 6,
							     &f.value, &used))
					goto bad;
				f.type = kd_get_le32(p + 2);
				f.offset = (uint64_t)f.value;
				f.value = 0;
				n = 6 + used;
				break;
			case KD_LF_VBCLASS:
			case KD_LF_IVBCLASS:
				if (left < 10 || !pdb_numeric(p + 10, left - 10,
							      &f.value, &used))
					goto bad;
				f.type = kd_get_le32(p + 2);
				n = 10 + used;
				if (!pdb_numeric(p + n, left - n, &f.value,
						 &used))
					goto bad;
				n += used;
				break;
			case KD_LF_VFUNCTAB:
				if (left < 6)
					goto bad;
				f.type = kd_get_le32(p + 2);
				n = 6;
				break;
			case KD_LF_INDEX:
				if (left < 6)
					goto bad;
				list = kd_get_le32(p + 2);
				pos = pl.len;
				continue;
			default:
				goto bad;
			}
			goto emit;
named:
			if (n > left)
				goto bad;
			{
				struct pdb_buf rest = { p + n, left - n };
				uint32_t l;

				f.name = pdb_str(&rest, 0, &l);
				if (!f.name)
					goto bad;
				n += l + 1;
			}
emit:
			if (n > left)
				goto bad;
			rc = cb(ctx, &f);
			if (rc)
				return rc;
			pos += 2 + n;
		}
	}
	return KD_OK;
bad:
	return pdb_bad(pdb, KD_EPROTO,
		       "field list of type %#x has a damaged or unknown "
		       "entry (leaf %#x)",
		       ti, f.leaf);
}

int kd_pdb_type_args(struct kd_pdb *pdb, uint32_t ti, uint32_t *out,
		     uint32_t cap, uint32_t *count)
{
	struct kd_pdb_type ty;
	struct pdb_buf pl;
	uint16_t leaf;
	uint32_t n, i;
	int rc;

	if (!pdb || !count || (cap && !out))
		return KD_EINVAL;
	rc = kd_pdb_type_get(pdb, ti, &ty);
	if (rc)
		return rc;
	if (ty.leaf == KD_LF_PROCEDURE || ty.leaf == KD_LF_MFUNCTION)
		ti = ty.index_type;
	rc = tpi_rec(pdb, ti, &leaf, &pl);
	if (rc)
		return rc;
	if (leaf != KD_LF_ARGLIST || pl.len < 4)
		return pdb_bad(pdb, KD_EPROTO,
			       "type %#x is not an argument "
			       "list",
			       ti);
	n = kd_get_le32(pl.p);
	if (n > (pl.len - 4) / 4)
		return pdb_bad(pdb, KD_EPROTO,
			       "argument list %#x claims %u entries", ti, n);
	for (i = 0; i < n && i < cap; i++)
		out[i] = kd_get_le32(pl.p + 4 + i * 4);
	*count = n;
	return KD_OK;
}
