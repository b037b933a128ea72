/* SPDX-License-Identifier: MIT */
/*
 * The x86 frame tables of the DBI optional debug header: the old FPO
 * stream (index 0, 16-byte FPO_DATA records) and the new FPO stream
 * (index 9, 32-byte FRAMEDATA records whose frameFunc is an offset into
 * /names, the program string).  Each table is checked and sorted by
 * start RVA on first use so a lookup is a binary search.
 */
#include <stdlib.h>
#include <string.h>

#include <kd/alloc.h>
#include <kd/error.h>

#include "pdb_int.h"

#define FPO_DATA_SIZE 16
#define FRAME_DATA_SIZE 32
/* Optional debug header indices. */
#define DBG_FPO 0
#define DBG_NEW_FPO 9

static uint16_t opt_stream(const struct kd_pdb *pdb, uint32_t i)
{
	if ((i + 1) * 2 > pdb->dbg_hdr.len)
		return 0xffff;
	return kd_get_le16(pdb->dbg_hdr.p + i * 2);
}

static int by_start(const void *a, const void *b)
{
	const struct pdb_fpo_ent *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	/* Equal starts keep stream order: the sort is then stable. */
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int table_load(struct kd_pdb *pdb, struct pdb_fpo_tab *t, uint32_t idx,
		      uint32_t esz, const char *what)
{
	uint16_t sn = opt_stream(pdb, idx);
	struct pdb_buf s;
	uint32_t skip = 0, i;
	int rc;

	if (pdb_lazy_done(&t->lazy, &rc))
		return rc;
	if (sn == 0xffff) {
		rc = KD_ENOTFOUND;
		kd_error_set(rc, KD_ERRCLASS_DUMP, "pdb: %s: no %s stream",
			     pdb->name, what);
		goto out;
	}
	if (sn >= pdb->nstreams) {
		rc = pdb_bad(pdb, KD_EPROTO, "%s stream %u does not exist",
			     what, sn);
		goto out;
	}
	rc = pdb_stream(pdb, sn, &s);
	if (rc)
		goto out;
	/* A FRAMEDATA table copied from an object keeps its leading u32
	 * relocation pointer (LLVM's reader skips it the same way). */
	if (esz == FRAME_DATA_SIZE && s.len % esz == 4)
		skip = 4;
	if ((s.len - skip) % esz != 0) {
		rc = pdb_bad(pdb, KD_EPROTO,
			     "%s stream is %u bytes, not a multiple of %u",
			     what, s.len, esz);
		goto out;
	}
	t->base = s.p + skip;
	t->n = (s.len - skip) / esz;
	t->esz = esz;
	t->order = kd_calloc((size_t)t->n + 1, sizeof(*t->order));
	if (!t->order) {
		rc = KD_ENOMEM;
		goto out;
	}
	for (i = 0; i < t->n; i++) {
		t->order[i].start = kd_get_le32(t->base + (size_t)i * esz);
		t->order[i].idx = i;
	}
	qsort(t->order, t->n, sizeof(*t->order), by_start);
	rc = KD_OK;
out:
	return pdb_lazy_end(&t->lazy, rc);
}

static const uint8_t *entry(const struct pdb_fpo_tab *t, uint32_t sorted)
{
	return t->base + (size_t)t->order[sorted].idx * t->esz;
}

/*
 * The entry covering @p rva: the one with the greatest start at or below
 * it whose [start, start + size) holds it.  FRAMEDATA describes a
 * function as nested ranges (one per prolog step, all ending at the
 * function's end), so the innermost one is the latest start; a bounded
 * walk back covers entries of a neighbour in between.
 */
static int table_find(const struct pdb_fpo_tab *t, uint32_t rva, uint32_t *out)
{
	uint32_t lo = 0, hi = t->n, k;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (t->order[mid].start <= rva)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (k = 0; lo > 0 && k < 64; k++, lo--) {
		const uint8_t *e = entry(t, lo - 1);
		uint32_t start = kd_get_le32(e), size = kd_get_le32(e + 4);

		if (rva - start < size) {
			*out = lo - 1;
			return KD_OK;
		}
	}
	return KD_ENOTFOUND;
}

static void fpo_decode(const uint8_t *e, struct kd_pdb_fpo *o)
{
	uint16_t bits = kd_get_le16(e + 14);

	memset(o, 0, sizeof(*o));
	o->rva_start = kd_get_le32(e);
	o->proc_size = kd_get_le32(e + 4);
	o->locals_dwords = kd_get_le32(e + 8);
	o->params_dwords = kd_get_le16(e + 12);
	o->prolog = (uint8_t)(bits & 0xff);
	o->regs = (uint8_t)((bits >> 8) & 7);
	o->has_seh = (bits >> 11) & 1;
	o->use_bp = (bits >> 12) & 1;
	o->frame = (uint8_t)((bits >> 14) & 3);
}

static int frame_decode(struct kd_pdb *pdb, const uint8_t *e,
			struct kd_pdb_frame *o)
{
	uint32_t flags = kd_get_le32(e + 28), func = kd_get_le32(e + 20);
	int rc;

	memset(o, 0, sizeof(*o));
	o->rva_start = kd_get_le32(e);
	o->code_size = kd_get_le32(e + 4);
	o->locals = kd_get_le32(e + 8);
	o->params = kd_get_le32(e + 12);
	o->max_stack = kd_get_le32(e + 16);
	o->prolog = kd_get_le16(e + 24);
	o->saved_regs = kd_get_le16(e + 26);
	o->has_seh = flags & 1;
	o->has_eh = (flags >> 1) & 1;
	o->func_start = (flags >> 2) & 1;
	o->program = "";
	/* frameFunc 0 is the empty string at the start of /names. */
	if (func == 0)
		return KD_OK;
	rc = pdb_names_load(pdb);
	if (rc)
		return rc;
	o->program = pdb_str(&pdb->names, func, NULL);
	if (!o->program)
		return pdb_bad(pdb, KD_EPROTO,
			       "frame data at RVA %#x names program %u "
			       "outside /names",
			       o->rva_start, func);
	return KD_OK;
}

int kd_pdb_fpo_count(struct kd_pdb *pdb, uint32_t *count)
{
	int rc;

	if (!pdb || !count)
		return KD_EINVAL;
	rc = table_load(pdb, &pdb->fpo, DBG_FPO, FPO_DATA_SIZE, "FPO");
	*count = rc ? 0 : pdb->fpo.n;
	return rc;
}

int kd_pdb_fpo_get(struct kd_pdb *pdb, uint32_t index, struct kd_pdb_fpo *out)
{
	int rc;

	if (!pdb || !out)
		return KD_EINVAL;
	rc = table_load(pdb, &pdb->fpo, DBG_FPO, FPO_DATA_SIZE, "FPO");
	if (rc)
		return rc;
	if (index >= pdb->fpo.n)
		return KD_EINVAL;
	fpo_decode(entry(&pdb->fpo, index), out);
	return KD_OK;
}

int kd_pdb_fpo_at(struct kd_pdb *pdb, uint32_t rva, struct kd_pdb_fpo *out)
{
	uint32_t i;
	int rc;

	if (!pdb || !out)
		return KD_EINVAL;
	rc = table_load(pdb, &pdb->fpo, DBG_FPO, FPO_DATA_SIZE, "FPO");
	if (rc)
		return rc;
	rc = table_find(&pdb->fpo, rva, &i);
	if (rc)
		return rc;
	fpo_decode(entry(&pdb->fpo, i), out);
	return KD_OK;
}

int kd_pdb_frame_count(struct kd_pdb *pdb, uint32_t *count)
{
	int rc;

	if (!pdb || !count)
		return KD_EINVAL;
	rc = table_load(pdb, &pdb->frames, DBG_NEW_FPO, FRAME_DATA_SIZE,
			"frame data");
	*count = rc ? 0 : pdb->frames.n;
	return rc;
}

int kd_pdb_frame_get(struct kd_pdb *pdb, uint32_t index,
		     struct kd_pdb_frame *out)
{
	int rc;

	if (!pdb || !out)
		return KD_EINVAL;
	rc = table_load(pdb, &pdb->frames, DBG_NEW_FPO, FRAME_DATA_SIZE,
			"frame data");
	if (rc)
		return rc;
	if (index >= pdb->frames.n)
		return KD_EINVAL;
	return frame_decode(pdb, entry(&pdb->frames, index), out);
}

int kd_pdb_frame_at(struct kd_pdb *pdb, uint32_t rva, struct kd_pdb_frame *out)
{
	uint32_t i;
	int rc;

	if (!pdb || !out)
		return KD_EINVAL;
	rc = table_load(pdb, &pdb->frames, DBG_NEW_FPO, FRAME_DATA_SIZE,
			"frame data");
	if (rc)
		return rc;
	rc = table_find(&pdb->frames, rva, &i);
	if (rc)
		return rc;
	return frame_decode(pdb, entry(&pdb->frames, i), out);
}

void pdb_fpo_free(struct kd_pdb *pdb)
{
	kd_free(pdb->fpo.order);
	kd_free(pdb->frames.order);
}
