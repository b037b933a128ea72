/* SPDX-License-Identifier: MIT */
/*
 * The PDB info stream (identity, named streams, features), the DBI stream
 * (header, module records, section contributions, optional debug header),
 * the section headers and OMAP that turn segment:offset into RVAs, and the
 * /names string table.
 */
#include <stdlib.h>
#include <string.h>

#include <kd/alloc.h>
#include <kd/error.h>

#include "pdb_int.h"

#define PDB_INFO_STREAM 1
#define PDB_DBI_STREAM 3
#define DBI_HDR 64

#define FEAT_VC140 20140508u
#define FEAT_MINI 0x494e494du

static uint32_t popcount32(uint32_t v)
{
	return (uint32_t)__builtin_popcount(v);
}

int pdb_info_load(struct kd_pdb *pdb)
{
	struct pdb_buf s;
	uint32_t pos, keys, present_words, deleted_words, present = 0, i;
	int rc;

	rc = pdb_stream(pdb, PDB_INFO_STREAM, &s);
	if (rc)
		return rc;
	if (s.len < 28)
		return pdb_bad(pdb, KD_ETRUNC,
			       "PDB info stream is %u bytes, too short", s.len);
	pdb->version = kd_get_le32(s.p);
	pdb->signature = kd_get_le32(s.p + 4);
	pdb->age = kd_get_le32(s.p + 8);
	memcpy(pdb->guid, s.p + 12, 16);
	/* The named stream map.  Fields after keys are unaligned. */
	pos = 28;
	if (s.len - pos < 4)
		return KD_OK; /* no map: an old or minimal writer */
	keys = kd_get_le32(s.p + pos);
	pos += 4;
	if (keys > s.len - pos)
		goto bad;
	pdb->nm_keys = s.p + pos;
	pdb->nm_keys_len = keys;
	pos += keys;
	if (s.len - pos < 12)
		goto bad;
	/* num_names at pos, capacity at pos + 4. */
	present_words = kd_get_le32(s.p + pos + 8);
	pos += 12;
	if (present_words > (s.len - pos) / 4)
		goto bad;
	for (i = 0; i < present_words; i++)
		present += popcount32(kd_get_le32(s.p + pos + i * 4));
	pos += present_words * 4;
	if (s.len - pos < 4)
		goto bad;
	deleted_words = kd_get_le32(s.p + pos);
	pos += 4;
	if (deleted_words > (s.len - pos) / 4)
		goto bad;
	pos += deleted_words * 4;
	if (present > (s.len - pos) / 8)
		goto bad;
	pdb->nm_entries = s.p + pos;
	pdb->nm_count = present;
	pos += present * 8;
	/* Feature codes to the end (a leading 0 is the unused niMac). */
	while (s.len - pos >= 4) {
		uint32_t f = kd_get_le32(s.p + pos);

		if (f == FEAT_VC140)
			pdb->has_ipi = true;
		else if (f == FEAT_MINI)
			pdb->minimal = true;
		pos += 4;
	}
	return KD_OK;
bad:
	return pdb_bad(pdb, KD_EPROTO,
		       "named stream map in the PDB info stream is damaged");
}

int kd_pdb_named_stream(struct kd_pdb *pdb, const char *name, uint32_t *stream)
{
	struct pdb_buf keys;
	uint32_t i;

	if (!pdb || !name || !stream)
		return KD_EINVAL;
	keys.p = pdb->nm_keys;
	keys.len = pdb->nm_keys_len;
	for (i = 0; i < pdb->nm_count; i++) {
		const uint8_t *e = pdb->nm_entries + (size_t)i * 8;
		const char *k = pdb_str(&keys, kd_get_le32(e), NULL);

		if (k && strcmp(k, name) == 0) {
			*stream = kd_get_le32(e + 4);
			if (*stream >= pdb->nstreams)
				return pdb_bad(pdb, KD_EPROTO,
					       "named stream %s points at "
					       "stream %u of %u",
					       name, *stream, pdb->nstreams);
			return KD_OK;
		}
	}
	return KD_ENOTFOUND;
}

static int load_modules(struct kd_pdb *pdb, const struct pdb_buf *mi)
{
	uint32_t pos = 0, n = 0, cap = 0;
	struct pdb_mod *m;

	while (pos < mi->len) {
		const uint8_t *r;
		uint32_t l1, l2;
		struct pdb_buf b;

		if (mi->len - pos < 64)
			return pdb_bad(pdb, KD_ETRUNC,
				       "DBI module record %u is cut short", n);
		r = mi->p + pos;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			m = kd_realloc(pdb->mods, (size_t)cap * sizeof(*m));
			if (!m)
				return KD_ENOMEM;
			pdb->mods = m;
		}
		m = &pdb->mods[n];
		m->stream = kd_get_le16(r + 34);
		m->sym_bytes = kd_get_le32(r + 36);
		m->c11_bytes = kd_get_le32(r + 40);
		m->c13_bytes = kd_get_le32(r + 44);
		m->num_files = kd_get_le16(r + 48);
		b.p = mi->p;
		b.len = mi->len;
		m->name = pdb_str(&b, pos + 64, &l1);
		m->obj = m->name ? pdb_str(&b, pos + 64 + l1 + 1, &l2) : NULL;
		if (!m->name || !m->obj)
			return pdb_bad(pdb, KD_EPROTO,
				       "DBI module record %u has unterminated "
				       "names",
				       n);
		if (m->stream != 0xffff && m->stream >= pdb->nstreams)
			return pdb_bad(pdb, KD_EPROTO,
				       "module %u symbol stream %u does not "
				       "exist",
				       n, m->stream);
		pos += 64 + l1 + 1 + l2 + 1;
		pos = (pos + 3) & ~3u;
		if (++n > 0xffff)
			return pdb_bad(pdb, KD_EPROTO,
				       "DBI lists more than 65535 modules");
	}
	pdb->nmods = n;
	return KD_OK;
}

int pdb_dbi_load(struct kd_pdb *pdb)
{
	struct pdb_buf s, mi;
	uint32_t sizes[6], pos, i;
	uint64_t total = DBI_HDR;

	if (pdb->nstreams <= PDB_DBI_STREAM ||
	    pdb->streams[PDB_DBI_STREAM].size == 0) {
		pdb->gsi_stream = pdb->psi_stream = pdb->gss_stream = 0xffff;
		return KD_OK; /* types-only PDBs have no DBI */
	}
	if (pdb_stream(pdb, PDB_DBI_STREAM, &s))
		return KD_ENOMEM;
	if (s.len < DBI_HDR)
		return pdb_bad(pdb, KD_ETRUNC,
			       "DBI stream is %u bytes, "
			       "shorter than its header",
			       s.len);
	if (kd_get_le32(s.p) != 0xffffffffu)
		return pdb_bad(pdb, KD_EPROTO,
			       "DBI header signature %#x is not -1",
			       kd_get_le32(s.p));
	pdb->has_dbi = true;
	pdb->dbi_age = kd_get_le32(s.p + 8);
	pdb->gsi_stream = kd_get_le16(s.p + 12);
	pdb->psi_stream = kd_get_le16(s.p + 16);
	pdb->gss_stream = kd_get_le16(s.p + 20);
	pdb->machine = kd_get_le16(s.p + 58);
	/* mod info, contribs, section map, sources, type servers, EC are at
	 * 24..40 and 52; the optional debug header size at 48 comes last. */
	for (i = 0; i < 5; i++)
		sizes[i] = kd_get_le32(s.p + 24 + i * 4);
	sizes[5] = kd_get_le32(s.p + 52);
	for (i = 0; i < 6; i++) {
		if (sizes[i] > 0x7fffffffu)
			return pdb_bad(pdb, KD_EPROTO,
				       "DBI substream %u size is negative", i);
		total += sizes[i];
	}
	total += kd_get_le32(s.p + 48);
	if (total > s.len)
		return pdb_bad(pdb, KD_ETRUNC,
			       "DBI substreams need %llu bytes, stream has %u",
			       (unsigned long long)total, s.len);
	pos = DBI_HDR;
	mi.p = s.p + pos;
	mi.len = sizes[0];
	pos += sizes[0];
	pdb->contribs.p = s.p + pos;
	pdb->contribs.len = sizes[1];
	for (i = 1; i < 6; i++)
		pos += sizes[i];
	pdb->dbg_hdr.p = s.p + pos;
	pdb->dbg_hdr.len = kd_get_le32(s.p + 48);
	return load_modules(pdb, &mi);
}

/* Optional debug header entry @p i: a stream number or 0xFFFF. */
static uint16_t dbg_stream(const struct kd_pdb *pdb, uint32_t i)
{
	if ((i + 1) * 2 > pdb->dbg_hdr.len)
		return 0xffff;
	return kd_get_le16(pdb->dbg_hdr.p + i * 2);
}

int kd_pdb_info(struct kd_pdb *pdb, struct kd_pdb_info *out)
{
	if (!pdb || !out)
		return KD_EINVAL;
	memset(out, 0, sizeof(*out));
	out->version = pdb->version;
	out->signature = pdb->signature;
	out->age = pdb->age;
	out->dbi_age = pdb->dbi_age;
	memcpy(out->guid, pdb->guid, 16);
	out->machine = pdb->machine;
	out->block_size = pdb->bs;
	out->num_streams = pdb->nstreams;
	out->has_ipi = pdb->has_ipi;
	out->minimal = pdb->minimal;
	out->has_dbi = pdb->has_dbi;
	out->num_modules = pdb->nmods;
	out->fpo_stream = dbg_stream(pdb, 0);
	out->new_fpo_stream = dbg_stream(pdb, 9);
	out->section_stream = dbg_stream(pdb, 5);
	out->omap_from_stream = dbg_stream(pdb, 4);
	return KD_OK;
}

int kd_pdb_module_count(struct kd_pdb *pdb, uint32_t *count)
{
	if (!pdb || !count)
		return KD_EINVAL;
	*count = pdb->nmods;
	return KD_OK;
}

int kd_pdb_module(struct kd_pdb *pdb, uint32_t index, struct kd_pdb_module *out)
{
	const struct pdb_mod *m;

	if (!pdb || !out || index >= pdb->nmods)
		return KD_EINVAL;
	m = &pdb->mods[index];
	out->name = m->name;
	out->obj_name = m->obj;
	out->stream = m->stream;
	out->sym_bytes = m->sym_bytes;
	out->c11_bytes = m->c11_bytes;
	out->c13_bytes = m->c13_bytes;
	out->num_files = m->num_files;
	return KD_OK;
}

int pdb_mod_stream(struct kd_pdb *pdb, uint32_t mod, struct pdb_buf *out)
{
	const struct pdb_mod *m = &pdb->mods[mod];
	uint64_t need;
	int rc;

	if (m->stream == 0xffff)
		return KD_ENOTFOUND; /* a module with no symbols */
	rc = pdb_stream(pdb, m->stream, out);
	if (rc)
		return rc;
	need = (uint64_t)m->sym_bytes + m->c11_bytes + m->c13_bytes;
	if (need > out->len)
		return pdb_bad(pdb, KD_ETRUNC,
			       "module %u stream %u is %u bytes, its record "
			       "says %llu",
			       mod, m->stream, out->len,
			       (unsigned long long)need);
	return KD_OK;
}

int pdb_sections_load(struct kd_pdb *pdb)
{
	struct pdb_buf s;
	uint16_t sh, omap;
	uint32_t i;
	int rc;

	if (pdb_lazy_done(&pdb->secs_lazy, &rc))
		return rc;
	omap = dbg_stream(pdb, 4);
	/* A rewritten image keeps its pre-rewrite headers at index 10:
	 * symbols are in those coordinates, OMAP maps them to the image. */
	sh = omap != 0xffff && dbg_stream(pdb, 10) != 0xffff ?
		     dbg_stream(pdb, 10) :
		     dbg_stream(pdb, 5);
	if (sh == 0xffff) {
		rc = pdb_bad(pdb, KD_ENOTSUP,
			     "no section headers stream: addresses cannot "
			     "be turned into RVAs");
		goto out;
	}
	rc = pdb_stream(pdb, sh, &s);
	if (rc)
		goto out;
	if (s.len % 40 != 0) {
		rc = pdb_bad(pdb, KD_EPROTO,
			     "section headers stream is %u bytes, not a "
			     "multiple of 40",
			     s.len);
		goto out;
	}
	pdb->nsecs = s.len / 40;
	pdb->secs = kd_calloc(pdb->nsecs + 1, sizeof(*pdb->secs));
	if (!pdb->secs) {
		rc = KD_ENOMEM;
		goto out;
	}
	for (i = 0; i < pdb->nsecs; i++) {
		pdb->secs[i].size = kd_get_le32(s.p + i * 40 + 8);
		pdb->secs[i].va = kd_get_le32(s.p + i * 40 + 12);
	}
	if (omap != 0xffff) {
		rc = pdb_stream(pdb, omap, &pdb->omap_from);
		if (rc)
			goto out;
		if (pdb->omap_from.len % 8 != 0) {
			rc = pdb_bad(pdb, KD_EPROTO,
				     "OMAP stream size %u is not a "
				     "multiple of 8",
				     pdb->omap_from.len);
			goto out;
		}
	}
	rc = KD_OK;
out:
	return pdb_lazy_end(&pdb->secs_lazy, rc);
}

static int omap_map(const struct kd_pdb *pdb, uint32_t *rva)
{
	uint32_t lo = 0, hi = pdb->omap_from.len / 8, mid, src, dst;
	const uint8_t *o = pdb->omap_from.p;

	/* Last entry whose source RVA is <= *rva. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (kd_get_le32(o + mid * 8) <= *rva)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return KD_ENOTFOUND;
	src = kd_get_le32(o + (lo - 1) * 8);
	dst = kd_get_le32(o + (lo - 1) * 8 + 4);
	if (dst == 0)
		return KD_ENOTFOUND;
	*rva = dst + (*rva - src);
	return KD_OK;
}

int pdb_rva(struct kd_pdb *pdb, uint16_t seg, uint32_t off, uint32_t *rva)
{
	int rc = pdb_sections_load(pdb);

	if (rc)
		return rc;
	if (seg == 0 || seg > pdb->nsecs)
		return KD_ENOTFOUND;
	if (off > 0xffffffffu - pdb->secs[seg - 1].va)
		return KD_ENOTFOUND;
	*rva = pdb->secs[seg - 1].va + off;
	if (pdb->omap_from.len)
		return omap_map(pdb, rva);
	return KD_OK;
}

int kd_pdb_seg_to_rva(struct kd_pdb *pdb, uint16_t segment, uint32_t offset,
		      uint32_t *rva)
{
	if (!pdb || !rva)
		return KD_EINVAL;
	return pdb_rva(pdb, segment, offset, rva);
}

int pdb_names_load(struct kd_pdb *pdb)
{
	struct pdb_buf s;
	uint32_t idx, sz;
	int rc;

	if (pdb_lazy_done(&pdb->names_lazy, &rc))
		return rc;
	rc = kd_pdb_named_stream(pdb, "/names", &idx);
	if (rc == KD_ENOTFOUND)
		rc = pdb_bad(pdb, KD_ENOTFOUND, "no /names stream");
	if (rc)
		goto out;
	rc = pdb_stream(pdb, idx, &s);
	if (rc)
		goto out;
	if (s.len < 12 || kd_get_le32(s.p) != 0xeffeeffeu) {
		rc = pdb_bad(pdb, KD_EPROTO, "/names stream has a bad header");
		goto out;
	}
	sz = kd_get_le32(s.p + 8);
	if (sz > s.len - 12) {
		rc = pdb_bad(pdb, KD_ETRUNC,
			     "/names claims %u bytes of strings, stream has "
			     "%u",
			     sz, s.len - 12);
		goto out;
	}
	pdb->names.p = s.p + 12;
	pdb->names.len = sz;
	rc = KD_OK;
out:
	return pdb_lazy_end(&pdb->names_lazy, rc);
}

static int contrib_cmp(const void *a, const void *b)
{
	const struct pdb_contrib *x = a, *y = b;

	return x->rva < y->rva ? -1 : x->rva > y->rva;
}

int pdb_contribs_load(struct kd_pdb *pdb)
{
	const struct pdb_buf *c = &pdb->contribs;
	uint32_t esz, n, i, ver;
	int rc;

	if (pdb_lazy_done(&pdb->contribs_lazy, &rc))
		return rc;
	rc = pdb_sections_load(pdb);
	if (rc || c->len < 4)
		goto out;
	ver = kd_get_le32(c->p);
	if (ver == 0xf12eba2du) {
		esz = 28;
	} else if (ver == 0xf13151e4u) {
		esz = 32;
	} else {
		rc = pdb_bad(pdb, KD_EPROTO,
			     "section contribution version %#x is unknown",
			     ver);
		goto out;
	}
	n = (c->len - 4) / esz;
	pdb->cons = kd_calloc(n + 1, sizeof(*pdb->cons));
	if (!pdb->cons) {
		rc = KD_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		const uint8_t *e = c->p + 4 + i * esz;
		struct pdb_contrib *d = &pdb->cons[pdb->ncons];

		if (pdb_rva(pdb, kd_get_le16(e), kd_get_le32(e + 4), &d->rva))
			continue;
		d->size = kd_get_le32(e + 8);
		d->module = kd_get_le16(e + 16);
		if (d->module < pdb->nmods)
			pdb->ncons++;
	}
	qsort(pdb->cons, pdb->ncons, sizeof(*pdb->cons), contrib_cmp);
out:
	return pdb_lazy_end(&pdb->contribs_lazy, rc);
}
