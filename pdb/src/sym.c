/* SPDX-License-Identifier: MIT */
/*
 * Symbols: the global symbol record stream (GSS) with its two hash tables
 * (GSI for globals, PSI for publics), the module symbol streams, and the
 * address index (publics + procedures sorted by RVA) built on first use.
 * Name lookups go through the PDB's own hash tables, so `bp name` costs no
 * index build.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <kd/alloc.h>
#include <kd/error.h>

#include "pdb_int.h"

#define S_END 0x0006
#define S_BLOCK32 0x1103
#define S_CONSTANT 0x1107
#define S_UDT 0x1108
#define S_BPREL32 0x110b
#define S_LDATA32 0x110c
#define S_GDATA32 0x110d
#define S_PUB32 0x110e
#define S_LPROC32 0x110f
#define S_GPROC32 0x1110
#define S_REGREL32 0x1111
#define S_LTHREAD32 0x1112
#define S_GTHREAD32 0x1113
#define S_PROCREF 0x1125
#define S_LPROCREF 0x1127
#define S_LOCAL 0x113e
#define S_DEFRANGE 0x113f
#define S_DEFRANGE_REGISTER 0x1141
#define S_DEFRANGE_REGISTER_REL 0x1145
#define S_LPROC32_ID 0x1146
#define S_GPROC32_ID 0x1147
#define S_INLINESITE 0x114d
#define S_INLINESITE_END 0x114e
#define S_PROC_ID_END 0x114f
#define S_INLINESITE2 0x115d

#define GSI_NBUCKETS 4096u
#define GSI_NBUCKETS_MINI 0x3ffffu

uint32_t pdb_hash_v1(const uint8_t *s, size_t len)
{
	uint32_t h = 0;
	size_t i = 0;

	for (; i + 4 <= len; i += 4)
		h ^= kd_get_le32(s + i);
	if (len - i >= 2) {
		h ^= kd_get_le16(s + i);
		i += 2;
	}
	if (len - i == 1)
		h ^= s[i];
	h |= 0x20202020u;
	h ^= h >> 11;
	return h ^ (h >> 16);
}

bool pdb_numeric(const uint8_t *p, uint32_t len, int64_t *val, uint32_t *used)
{
	uint16_t tag;
	uint32_t n;

	if (len < 2)
		return false;
	tag = kd_get_le16(p);
	if (tag < 0x8000) {
		*val = tag;
		*used = 2;
		return true;
	}
	switch (tag) {
	case 0x8000:
		n = 1;
		break;
	case 0x8001:
	case 0x8002:
		n = 2;
		break;
	case 0x8003:
	case 0x8004:
	case 0x8005:
		n = 4;
		break;
	case 0x800b:
		n = 6;
		break;
	case 0x8006:
	case 0x8009:
	case 0x800a:
		n = 8;
		break;
	case 0x8007:
		n = 10;
		break;
	case 0x8008:
	case 0x8017:
	case 0x8018:
		n = 16;
		break;
	case 0x8010:
		if (len < 4)
			return false;
		n = 2 + kd_get_le16(p + 2);
		break;
	default:
		return false;
	}
	if (len - 2 < n)
		return false;
	p += 2;
	switch (tag) {
	case 0x8000: /* LF_CHAR: one signed byte */
		*val = p[0] >= 0x80 ? (int64_t)p[0] - 0x100 : (int64_t)p[0];
		break;
	case 0x8001:
		*val = (int16_t)kd_get_le16(p);
		break;
	case 0x8002:
		*val = kd_get_le16(p);
		break;
	case 0x8003:
		*val = (int32_t)kd_get_le32(p);
		break;
	case 0x8004:
		*val = kd_get_le32(p);
		break;
	case 0x8009:
	case 0x800a:
		*val = (int64_t)kd_get_le64(p);
		break;
	default:
		*val = 0; /* reals and strings: no integer value */
		break;
	}
	*used = 2 + n;
	return true;
}

/*
 * The record at @p off in @p b: kind in *@p kind, payload (after the kind)
 * in *@p pl.  False when the record does not fit.
 */
static bool rec_at(const struct pdb_buf *b, uint32_t off, uint16_t *kind,
		   struct pdb_buf *pl)
{
	uint16_t len;

	if (off > b->len || b->len - off < 4)
		return false;
	len = kd_get_le16(b->p + off);
	if (len < 2 || (uint32_t)len + 2 > b->len - off)
		return false;
	*kind = kd_get_le16(b->p + off + 2);
	pl->p = b->p + off + 4;
	pl->len = len - 2u;
	return true;
}

static bool is_proc(uint16_t k)
{
	return k == S_GPROC32 || k == S_LPROC32 || k == S_GPROC32_ID ||
	       k == S_LPROC32_ID;
}

/*
 * Decode the symbol record at @p off of @p b into @p out.  False when the
 * kind is not one the reader hands out or the record is damaged.
 */
static bool sym_decode(struct kd_pdb *pdb, const struct pdb_buf *b,
		       uint32_t off, int32_t module, struct kd_pdb_sym *out)
{
	struct pdb_buf pl;
	uint16_t kind;
	uint32_t noff, used;

	if (!rec_at(b, off, &kind, &pl))
		return false;
	memset(out, 0, sizeof(*out));
	out->module = -1;
	out->sym_off = off;
	switch (kind) {
	case S_PUB32:
		if (pl.len < 10)
			return false;
		out->kind = KD_PDB_SYM_PUBLIC;
		out->flags = kd_get_le32(pl.p);
		out->offset = kd_get_le32(pl.p + 4);
		out->segment = kd_get_le16(pl.p + 8);
		out->is_global = true;
		out->is_function = (out->flags & 3) != 0;
		noff = 10;
		break;
	case S_GDATA32:
	case S_LDATA32:
	case S_GTHREAD32:
	case S_LTHREAD32:
		if (pl.len < 10)
			return false;
		out->kind = KD_PDB_SYM_DATA;
		out->type = kd_get_le32(pl.p);
		out->offset = kd_get_le32(pl.p + 4);
		out->segment = kd_get_le16(pl.p + 8);
		out->is_global = kind == S_GDATA32 || kind == S_GTHREAD32;
		noff = 10;
		break;
	case S_GPROC32:
	case S_LPROC32:
	case S_GPROC32_ID:
	case S_LPROC32_ID:
		if (pl.len < 35)
			return false;
		out->kind = KD_PDB_SYM_PROC;
		out->size = kd_get_le32(pl.p + 12);
		out->type = kd_get_le32(pl.p + 24);
		out->offset = kd_get_le32(pl.p + 28);
		out->segment = kd_get_le16(pl.p + 32);
		out->is_global = kind == S_GPROC32 || kind == S_GPROC32_ID;
		out->type_is_id = kind == S_GPROC32_ID || kind == S_LPROC32_ID;
		out->is_function = true;
		out->module = module;
		noff = 35;
		break;
	case S_CONSTANT:
		if (pl.len < 4 ||
		    !pdb_numeric(pl.p + 4, pl.len - 4, &out->value, &used))
			return false;
		out->kind = KD_PDB_SYM_CONSTANT;
		out->type = kd_get_le32(pl.p);
		noff = 4 + used;
		break;
	case S_UDT:
		if (pl.len < 4)
			return false;
		out->kind = KD_PDB_SYM_UDT;
		out->type = kd_get_le32(pl.p);
		noff = 4;
		break;
	default:
		return false;
	}
	out->name = pdb_str(&pl, noff, NULL);
	if (!out->name)
		return false;
	if ((out->kind & (KD_PDB_SYM_PUBLIC | KD_PDB_SYM_PROC)) ||
	    kind == S_GDATA32 || kind == S_LDATA32)
		out->has_rva = pdb_rva(pdb, out->segment, out->offset,
				       &out->rva) == KD_OK;
	return true;
}

/* Decode and check one GSI/PSI name table of @p len bytes at @p p. */
static int gsi_load(struct kd_pdb *pdb, const char *what, const uint8_t *p,
		    uint32_t len, struct pdb_gsi *g)
{
	uint32_t hr_bytes, bucket_bytes, bm_bytes, nonempty = 0, i, k;

	if (len < 16 || kd_get_le32(p) != 0xffffffffu ||
	    kd_get_le32(p + 4) != 0xf12f091au)
		return pdb_bad(pdb, KD_EPROTO, "%s hash header is damaged",
			       what);
	hr_bytes = kd_get_le32(p + 8);
	bucket_bytes = kd_get_le32(p + 12);
	if (hr_bytes % 8 != 0 || hr_bytes > len - 16 ||
	    bucket_bytes > len - 16 - hr_bytes)
		return pdb_bad(pdb, KD_EPROTO,
			       "%s hash sizes (%u records, %u buckets bytes) "
			       "exceed its %u bytes",
			       what, hr_bytes, bucket_bytes, len);
	g->hr = p + 16;
	g->hr_count = hr_bytes / 8;
	g->nbuckets = pdb->minimal ? GSI_NBUCKETS_MINI : GSI_NBUCKETS;
	bm_bytes = (g->nbuckets + 32) / 32 * 4;
	if (bucket_bytes < bm_bytes)
		return pdb_bad(pdb, KD_EPROTO,
			       "%s hash bucket bitmap is cut short", what);
	g->bitmap = g->hr + hr_bytes;
	for (i = 0; i < bm_bytes / 4; i++)
		nonempty += (uint32_t)__builtin_popcount(
			kd_get_le32(g->bitmap + i * 4));
	if ((uint64_t)nonempty * 4 != bucket_bytes - bm_bytes)
		return pdb_bad(pdb, KD_EPROTO,
			       "%s hash has %u non-empty buckets but %u "
			       "bucket bytes",
			       what, nonempty, bucket_bytes - bm_bytes);
	g->buckets = g->bitmap + bm_bytes;
	g->nonempty = nonempty;
	for (i = 0; i < g->hr_count; i++) {
		int32_t o = (int32_t)kd_get_le32(g->hr + i * 8);
		uint16_t kind;
		struct pdb_buf pl;

		if (o <= 0 || !rec_at(&pdb->gss, (uint32_t)o - 1, &kind, &pl))
			return pdb_bad(pdb, KD_EPROTO,
				       "%s hash record %u points outside "
				       "the symbol records",
				       what, i);
	}
	g->bucket_start = kd_malloc(((size_t)g->nbuckets + 1) * 4);
	if (!g->bucket_start)
		return KD_ENOMEM;
	g->bucket_start[g->nbuckets] = g->hr_count;
	for (i = 0, k = 0; i < g->nbuckets; i++) {
		if (!(g->bitmap[i / 8] & (1u << (i % 8)))) {
			g->bucket_start[i] = 0xffffffffu;
			continue;
		}
		g->bucket_start[i] = kd_get_le32(g->buckets + k * 4) / 12;
		k++;
	}
	for (i = g->nbuckets; i-- > 0;) {
		if (g->bucket_start[i] == 0xffffffffu)
			g->bucket_start[i] = g->bucket_start[i + 1];
		else if (g->bucket_start[i] > g->bucket_start[i + 1])
			return pdb_bad(pdb, KD_EPROTO,
				       "%s hash bucket %u points past its "
				       "records",
				       what, i);
	}
	g->present = true;
	return KD_OK;
}

static int gs_load(struct kd_pdb *pdb)
{
	struct pdb_buf s;
	uint32_t hb, ab;
	int rc;

	if (pdb_lazy_done(&pdb->gs_lazy, &rc))
		return rc;
	rc = pdb_stream_opt(pdb, pdb->gss_stream, &pdb->gss);
	if (rc)
		goto out;
	if (pdb->gsi_stream != 0xffff) {
		rc = pdb_stream(pdb, pdb->gsi_stream, &s);
		if (rc)
			goto out;
		rc = gsi_load(pdb, "globals (GSI)", s.p, s.len, &pdb->gsi);
		if (rc)
			goto out;
	}
	if (pdb->psi_stream != 0xffff) {
		rc = pdb_stream(pdb, pdb->psi_stream, &s);
		if (rc)
			goto out;
		if (s.len < 28) {
			rc = pdb_bad(pdb, KD_ETRUNC,
				     "publics (PSI) stream is cut short");
			goto out;
		}
		hb = kd_get_le32(s.p);
		ab = kd_get_le32(s.p + 4);
		if (hb > s.len - 28 || ab > s.len - 28 - hb || ab % 4 != 0) {
			rc = pdb_bad(pdb, KD_EPROTO,
				     "publics (PSI) header sizes %u + %u "
				     "exceed the %u-byte stream",
				     hb, ab, s.len);
			goto out;
		}
		rc = gsi_load(pdb, "publics (PSI)", s.p + 28, hb, &pdb->psi);
		if (rc)
			goto out;
		pdb->psi_addr.p = s.p + 28 + hb;
		pdb->psi_addr.len = ab;
	}
	rc = KD_OK;
out:
	return pdb_lazy_end(&pdb->gs_lazy, rc);
}

void pdb_sym_free(struct kd_pdb *pdb)
{
	kd_free(pdb->gsi.bucket_start);
	kd_free(pdb->psi.bucket_start);
	kd_free(pdb->addrs);
	kd_free(pdb->cons);
}

static int addr_cmp(const void *a, const void *b)
{
	const struct pdb_addr *x = a, *y = b;

	if (x->rva != y->rva)
		return x->rva < y->rva ? -1 : 1;
	/* At one address a procedure (with a length) wins over a public. */
	if ((x->module >= 0) != (y->module >= 0))
		return x->module >= 0 ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

static int addr_push(struct kd_pdb *pdb, uint32_t *cap,
		     const struct pdb_addr *a)
{
	struct pdb_addr *n;

	if (pdb->naddrs == *cap) {
		*cap = *cap ? *cap * 2 : 1024;
		n = kd_realloc(pdb->addrs, (size_t)*cap * sizeof(*n));
		if (!n)
			return KD_ENOMEM;
		pdb->addrs = n;
	}
	pdb->addrs[pdb->naddrs++] = *a;
	return KD_OK;
}

/* Walk module @p m's symbol records, calling @p fn on each. */
static int mod_walk(struct kd_pdb *pdb, uint32_t m,
		    int (*fn)(struct kd_pdb *pdb, const struct pdb_buf *b,
			      uint32_t off, uint16_t kind, uint32_t m,
			      void *ctx),
		    void *ctx)
{
	struct pdb_buf s, syms, pl;
	uint32_t off = 4;
	uint16_t kind;
	int rc;

	rc = pdb_mod_stream(pdb, m, &s);
	if (rc == KD_ENOTFOUND)
		return KD_OK;
	if (rc || pdb->mods[m].sym_bytes < 4)
		return rc;
	syms.p = s.p;
	syms.len = pdb->mods[m].sym_bytes;
	while (off < syms.len) {
		if (!rec_at(&syms, off, &kind, &pl))
			return pdb_bad(pdb, KD_EPROTO,
				       "module %u symbol record at %u runs "
				       "past its %u bytes",
				       m, off, syms.len);
		rc = fn(pdb, &syms, off, kind, m, ctx);
		if (rc)
			return rc;
		off += pl.len + 4;
	}
	return KD_OK;
}

struct idx_ctx {
	uint32_t cap;
};

static int idx_proc(struct kd_pdb *pdb, const struct pdb_buf *b, uint32_t off,
		    uint16_t kind, uint32_t m, void *ctx)
{
	struct idx_ctx *c = ctx;
	struct kd_pdb_sym s;
	struct pdb_addr a;

	if (!is_proc(kind) || !sym_decode(pdb, b, off, (int32_t)m, &s) ||
	    !s.has_rva)
		return KD_OK;
	a.rva = s.rva;
	a.size = s.size;
	a.off = off;
	a.module = (int32_t)m;
	return addr_push(pdb, &c->cap, &a);
}

int pdb_index_build(struct kd_pdb *pdb)
{
	struct idx_ctx c = { 0 };
	struct kd_pdb_sym s;
	struct pdb_addr a;
	uint32_t i;
	int rc;

	if (pdb_lazy_done(&pdb->idx_lazy, &rc))
		return rc;
	rc = gs_load(pdb);
	if (!rc)
		rc = pdb_sections_load(pdb);
	for (i = 0; !rc && i < pdb->psi.hr_count; i++) {
		a.off = kd_get_le32(pdb->psi.hr + i * 8) - 1;
		if (!sym_decode(pdb, &pdb->gss, a.off, -1, &s) ||
		    s.kind != KD_PDB_SYM_PUBLIC || !s.has_rva)
			continue;
		a.rva = s.rva;
		a.size = 0;
		a.module = -1;
		rc = addr_push(pdb, &c.cap, &a);
	}
	for (i = 0; !rc && i < pdb->nmods; i++)
		rc = mod_walk(pdb, i, idx_proc, &c);
	if (!rc && pdb->naddrs)
		qsort(pdb->addrs, pdb->naddrs, sizeof(*pdb->addrs), addr_cmp);
	return pdb_lazy_end(&pdb->idx_lazy, rc);
}

uint32_t pdb_addr_upper(const struct kd_pdb *pdb, uint32_t rva)
{
	uint32_t lo = 0, hi = pdb->naddrs, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (pdb->addrs[mid].rva <= rva)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct pdb_addr *pdb_proc_at(const struct kd_pdb *pdb, uint32_t rva)
{
	uint32_t i = pdb_addr_upper(pdb, rva), n = 0;
	const struct pdb_addr *a;

	/* Skip publics between the procedure and @p rva (a few at most). */
	while (i > 0 && pdb->addrs[i - 1].module < 0 && n++ < 256)
		i--;
	if (i == 0 || pdb->addrs[i - 1].module < 0)
		return NULL;
	a = &pdb->addrs[i - 1];
	return rva - a->rva < a->size ? a : NULL;
}

static int addr_sym(struct kd_pdb *pdb, const struct pdb_addr *a,
		    struct kd_pdb_sym *out)
{
	struct pdb_buf b;
	int rc;

	if (a->module < 0) {
		b = pdb->gss;
	} else {
		rc = pdb_mod_stream(pdb, (uint32_t)a->module, &b);
		if (rc)
			return rc;
		b.len = pdb->mods[a->module].sym_bytes;
	}
	if (!sym_decode(pdb, &b, a->off, a->module, out))
		return pdb_bad(pdb, KD_EPROTO, "symbol record at %u is damaged",
			       a->off);
	return KD_OK;
}

int kd_pdb_addr_to_sym(struct kd_pdb *pdb, uint32_t rva, struct kd_pdb_sym *out,
		       uint32_t *disp)
{
	uint32_t i, j;
	int rc;

	if (!pdb || !out)
		return KD_EINVAL;
	rc = pdb_index_build(pdb);
	if (rc)
		return rc;
	i = pdb_addr_upper(pdb, rva);
	if (i == 0)
		return KD_ENOTFOUND;
	i--;
	/* Entries at one RVA sort procedures first. */
	for (j = i; j > 0 && pdb->addrs[j - 1].rva == pdb->addrs[i].rva; j--)
		;
	rc = addr_sym(pdb, &pdb->addrs[j], out);
	if (rc)
		return rc;
	if (disp)
		*disp = rva - out->rva;
	return KD_OK;
}

int kd_pdb_sym_after(struct kd_pdb *pdb, uint32_t rva, struct kd_pdb_sym *out)
{
	uint32_t i;
	int rc;

	if (!pdb || !out)
		return KD_EINVAL;
	rc = pdb_index_build(pdb);
	if (rc)
		return rc;
	/* The first entry above @p rva; at one RVA procedures sort first,
	 * so a function's procedure wins over its public. */
	i = pdb_addr_upper(pdb, rva);
	if (i >= pdb->naddrs)
		return KD_ENOTFOUND;
	return addr_sym(pdb, &pdb->addrs[i], out);
}

/* Look @p name up in one hash table; decode the match into @p out. */
static bool gsi_find(struct kd_pdb *pdb, const struct pdb_gsi *g,
		     const char *name, struct kd_pdb_sym *out)
{
	size_t len = strlen(name);
	uint32_t h, i;
	struct kd_pdb_sym s;

	if (!g->present)
		return false;
	h = pdb_hash_v1((const uint8_t *)name, len) % g->nbuckets;
	for (i = g->bucket_start[h]; i < g->bucket_start[h + 1]; i++) {
		uint32_t off = kd_get_le32(g->hr + i * 8) - 1;
		struct pdb_buf pl, b;
		uint16_t kind;
		uint32_t m, ib;

		if (!sym_decode(pdb, &pdb->gss, off, -1, &s)) {
			/* A procedure reference: follow it into its module. */
			if (!rec_at(&pdb->gss, off, &kind, &pl) ||
			    (kind != S_PROCREF && kind != S_LPROCREF) ||
			    pl.len < 11)
				continue;
			/* The name must end inside the record before it is
			 * compared. */
			if (!memchr(pl.p + 10, 0, pl.len - 10) ||
			    strcmp((const char *)pl.p + 10, name) != 0)
				continue;
			m = kd_get_le16(pl.p + 8);
			ib = kd_get_le32(pl.p + 4);
			if (m == 0 || m > pdb->nmods ||
			    pdb_mod_stream(pdb, m - 1, &b))
				continue;
			b.len = pdb->mods[m - 1].sym_bytes;
			if (sym_decode(pdb, &b, ib, (int32_t)m - 1, out) &&
			    out->kind == KD_PDB_SYM_PROC)
				return true;
			continue;
		}
		if (strcmp(s.name, name) == 0) {
			*out = s;
			return true;
		}
	}
	return false;
}

int kd_pdb_name_to_sym(struct kd_pdb *pdb, const char *name,
		       struct kd_pdb_sym *out)
{
	int rc;

	if (!pdb || !name || !out)
		return KD_EINVAL;
	rc = gs_load(pdb);
	if (rc)
		return rc;
	if (gsi_find(pdb, &pdb->gsi, name, out) ||
	    gsi_find(pdb, &pdb->psi, name, out))
		return KD_OK;
	return KD_ENOTFOUND;
}

bool kd_pdb_wildcard(const char *pat, const char *s)
{
	const char *star = NULL, *retry = NULL;

	while (*s) {
		if (*pat == '*') {
			star = ++pat;
			retry = s;
		} else if (*pat == '?' ||
			   (*pat && tolower((unsigned char)*pat) ==
					    tolower((unsigned char)*s))) {
			pat++;
			s++;
		} else if (star) {
			pat = star;
			s = ++retry;
		} else {
			return false;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == 0;
}

struct each_ctx {
	const char *pattern;
	int (*cb)(void *ctx, const struct kd_pdb_sym *sym);
	void *ctx;
};

static int each_proc(struct kd_pdb *pdb, const struct pdb_buf *b, uint32_t off,
		     uint16_t kind, uint32_t m, void *ctx)
{
	struct each_ctx *e = ctx;
	struct kd_pdb_sym s;

	if (!is_proc(kind) || !sym_decode(pdb, b, off, (int32_t)m, &s))
		return KD_OK;
	if (e->pattern && !kd_pdb_wildcard(e->pattern, s.name))
		return KD_OK;
	return e->cb(e->ctx, &s);
}

static int each_table(struct kd_pdb *pdb, const struct pdb_gsi *g,
		      unsigned kinds, struct each_ctx *e)
{
	struct kd_pdb_sym s;
	uint32_t i;
	int rc;

	for (i = 0; i < g->hr_count; i++) {
		uint32_t off = kd_get_le32(g->hr + i * 8) - 1;

		if (!sym_decode(pdb, &pdb->gss, off, -1, &s) ||
		    !(s.kind & kinds) || s.kind == KD_PDB_SYM_PROC)
			continue;
		if (e->pattern && !kd_pdb_wildcard(e->pattern, s.name))
			continue;
		rc = e->cb(e->ctx, &s);
		if (rc)
			return rc;
	}
	return KD_OK;
}

int kd_pdb_symbols_foreach(struct kd_pdb *pdb, const char *pattern,
			   unsigned kinds,
			   int (*cb)(void *ctx, const struct kd_pdb_sym *sym),
			   void *ctx)
{
	struct each_ctx e = { pattern, cb, ctx };
	uint32_t i;
	int rc;

	if (!pdb || !cb)
		return KD_EINVAL;
	rc = gs_load(pdb);
	if (rc)
		return rc;
	if (kinds & KD_PDB_SYM_PUBLIC) {
		rc = each_table(pdb, &pdb->psi, KD_PDB_SYM_PUBLIC, &e);
		if (rc)
			return rc;
	}
	if (kinds & (KD_PDB_SYM_DATA | KD_PDB_SYM_CONSTANT | KD_PDB_SYM_UDT)) {
		rc = each_table(pdb, &pdb->gsi, kinds & ~KD_PDB_SYM_PUBLIC, &e);
		if (rc)
			return rc;
	}
	if (kinds & KD_PDB_SYM_PROC)
		for (i = 0; i < pdb->nmods; i++) {
			rc = mod_walk(pdb, i, each_proc, &e);
			if (rc)
				return rc;
		}
	return KD_OK;
}

/*
 * The S_DEFRANGE_* records after an S_LOCAL (at @p off, up to @p end):
 * the register of the first S_DEFRANGE_REGISTER whose range, less its
 * gaps, holds @p rva.  Damaged or unmappable ranges are skipped: a value
 * shown must come from a range that is known to cover the pc.
 */
static void local_live_reg(struct kd_pdb *pdb, const struct pdb_buf *b,
			   uint32_t off, uint32_t end, uint32_t rva,
			   struct kd_pdb_local *l)
{
	struct pdb_buf pl;
	uint16_t kind;

	for (; off < b->len && off < end; off += pl.len + 4) {
		uint32_t start, len, rel, g;
		bool in_gap = false;

		if (!rec_at(b, off, &kind, &pl) || kind < S_DEFRANGE ||
		    kind > S_DEFRANGE_REGISTER_REL)
			return;
		/* reg u16, may-have-no-name u16, {off u32, sect u16,
		 * len u16}, then gaps of {start u16, len u16}. */
		if (kind != S_DEFRANGE_REGISTER || pl.len < 12)
			continue;
		if (kd_pdb_seg_to_rva(pdb, kd_get_le16(pl.p + 8),
				      kd_get_le32(pl.p + 4), &start) != KD_OK)
			continue;
		len = kd_get_le16(pl.p + 10);
		if (rva < start || rva - start >= len)
			continue;
		rel = rva - start;
		for (g = 12; g + 4 <= pl.len; g += 4) {
			uint32_t gs = kd_get_le16(pl.p + g);
			uint32_t gl = kd_get_le16(pl.p + g + 2);

			if (rel >= gs && rel - gs < gl)
				in_gap = true;
		}
		if (in_gap)
			continue;
		l->has_live_reg = true;
		l->live_reg = kd_get_le16(pl.p);
		return;
	}
}

int kd_pdb_proc_locals(struct kd_pdb *pdb, uint32_t rva,
		       int (*cb)(void *ctx, const struct kd_pdb_local *local),
		       void *ctx)
{
	const struct pdb_addr *a;
	struct pdb_buf b, pl, rec;
	struct kd_pdb_local l;
	uint32_t off, end, depth = 0, inl = 0;
	uint16_t kind;
	int rc;

	if (!pdb || !cb)
		return KD_EINVAL;
	rc = pdb_index_build(pdb);
	if (rc)
		return rc;
	a = pdb_proc_at(pdb, rva);
	if (!a)
		return KD_ENOTFOUND;
	rc = pdb_mod_stream(pdb, (uint32_t)a->module, &b);
	if (rc)
		return rc;
	b.len = pdb->mods[a->module].sym_bytes;
	if (!rec_at(&b, a->off, &kind, &pl) || pl.len < 35)
		return pdb_bad(pdb, KD_EPROTO,
			       "procedure record at %u is damaged", a->off);
	end = kd_get_le32(pl.p + 4);
	for (off = a->off + pl.len + 4; off < b.len && off < end;
	     off += pl.len + 4) {
		if (!rec_at(&b, off, &kind, &pl))
			return pdb_bad(pdb, KD_EPROTO,
				       "symbol record at %u of module %d is "
				       "damaged",
				       off, a->module);
		rec.p = pl.p;
		rec.len = pl.len;
		memset(&l, 0, sizeof(l));
		l.kind = kind;
		l.depth = depth;
		switch (kind) {
		case S_BLOCK32:
			depth++;
			continue;
		case S_INLINESITE:
		case S_INLINESITE2:
			inl++;
			continue;
		case S_INLINESITE_END:
			if (inl)
				inl--;
			continue;
		case S_END:
		case S_PROC_ID_END:
			if (depth == 0)
				return KD_OK;
			depth--;
			continue;
		case S_LOCAL:
			if (pl.len < 6)
				continue;
			l.type = kd_get_le32(pl.p);
			l.is_param = (kd_get_le16(pl.p + 4) & 1) != 0;
			l.name = pdb_str(&rec, 6, NULL);
			local_live_reg(pdb, &b, off + pl.len + 4, end, rva, &l);
			break;
		case S_REGREL32:
			if (pl.len < 10)
				continue;
			l.offset = (int32_t)kd_get_le32(pl.p);
			l.type = kd_get_le32(pl.p + 4);
			l.reg = kd_get_le16(pl.p + 8);
			l.name = pdb_str(&rec, 10, NULL);
			break;
		case S_BPREL32:
			if (pl.len < 8)
				continue;
			l.offset = (int32_t)kd_get_le32(pl.p);
			l.type = kd_get_le32(pl.p + 4);
			l.name = pdb_str(&rec, 8, NULL);
			break;
		default:
			continue;
		}
		/* Locals of inlined callees belong to their inline frame. */
		if (inl || !l.name)
			continue;
		rc = cb(ctx, &l);
		if (rc)
			return rc;
	}
	return KD_OK;
}
