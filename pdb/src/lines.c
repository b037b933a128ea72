/* SPDX-License-Identifier: MIT */
/*
 * C13 line information: a module stream's DEBUG_S_LINES subsections give
 * code offset -> line, its DEBUG_S_FILECHKSMS entry gives the file's name
 * offset into /names.  The module is the one whose procedure (or section
 * contribution) covers the address, so a lookup reads one module only.
 */
#include <stdlib.h>
#include <string.h>

#include <kd/error.h>

#include "pdb_int.h"

#define DEBUG_S_LINES 0xf2
#define DEBUG_S_FILECHKSMS 0xf4
#define LINE_HIDDEN_1 0xfeefee
#define LINE_HIDDEN_2 0xf00f00

struct line_best {
	bool found;
	uint32_t rva, line, file_off;
};

/* Search one DEBUG_S_LINES subsection for the line covering @p rva. */
static int lines_sub(struct kd_pdb *pdb, const uint8_t *p, uint32_t len,
		     uint32_t rva, struct line_best *best)
{
	uint32_t base, code, pos, n, bsize, i;
	uint16_t flags;

	if (len < 12)
		return pdb_bad(pdb, KD_EPROTO, "C13 lines header is cut short");
	flags = kd_get_le16(p + 6);
	code = kd_get_le32(p + 8);
	if (pdb_rva(pdb, kd_get_le16(p + 4), kd_get_le32(p), &base) != KD_OK)
		return KD_OK;
	if (rva < base || rva - base >= code)
		return KD_OK;
	for (pos = 12; pos < len; pos += bsize) {
		if (len - pos < 12)
			return pdb_bad(pdb, KD_EPROTO,
				       "C13 line block is cut short");
		n = kd_get_le32(p + pos + 4);
		bsize = kd_get_le32(p + pos + 8);
		if (bsize < 12 || bsize > len - pos ||
		    (uint64_t)n * ((flags & 1) ? 12 : 8) > bsize - 12)
			return pdb_bad(pdb, KD_EPROTO,
				       "C13 line block claims %u lines in "
				       "%u bytes",
				       n, bsize);
		for (i = 0; i < n; i++) {
			const uint8_t *e = p + pos + 12 + i * 8;
			uint32_t off = kd_get_le32(e);
			uint32_t line = kd_get_le32(e + 4) & 0xffffff;

			if (line == LINE_HIDDEN_1 || line == LINE_HIDDEN_2)
				continue;
			if (off > rva - base)
				continue;
			if (!best->found || base + off >= best->rva) {
				best->found = true;
				best->rva = base + off;
				best->line = line;
				best->file_off = kd_get_le32(p + pos);
			}
		}
	}
	return KD_OK;
}

static int module_of(struct kd_pdb *pdb, uint32_t rva, uint32_t *mod)
{
	const struct pdb_addr *a = pdb_proc_at(pdb, rva);
	uint32_t lo = 0, hi, mid;
	int rc;

	if (a) {
		*mod = (uint32_t)a->module;
		return KD_OK;
	}
	rc = pdb_contribs_load(pdb);
	if (rc)
		return rc;
	hi = pdb->ncons;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (pdb->cons[mid].rva <= rva)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || rva - pdb->cons[lo - 1].rva >= pdb->cons[lo - 1].size)
		return KD_ENOTFOUND;
	*mod = pdb->cons[lo - 1].module;
	return KD_OK;
}

int kd_pdb_module_at(struct kd_pdb *pdb, uint32_t rva, uint32_t *index)
{
	int rc;

	if (!pdb || !index)
		return KD_EINVAL;
	rc = pdb_index_build(pdb);
	return rc ? rc : module_of(pdb, rva, index);
}

int kd_pdb_line_at(struct kd_pdb *pdb, uint32_t rva, struct kd_pdb_line *out)
{
	struct line_best best = { 0 };
	struct pdb_buf s, chk = { NULL, 0 };
	const struct pdb_mod *m;
	uint32_t mod, pos, end, kind, len, name;
	int rc;

	if (!pdb || !out)
		return KD_EINVAL;
	rc = pdb_index_build(pdb);
	if (!rc)
		rc = module_of(pdb, rva, &mod);
	if (!rc)
		rc = pdb_mod_stream(pdb, mod, &s);
	if (rc)
		return rc;
	m = &pdb->mods[mod];
	pos = m->sym_bytes + m->c11_bytes;
	end = pos + m->c13_bytes;
	/* Two passes: the checksums may follow the lines. */
	for (int pass = 0; pass < 2; pass++) {
		uint32_t p = pos;

		while (p < end) {
			if (end - p < 8)
				return pdb_bad(pdb, KD_EPROTO,
					       "module %u C13 subsection "
					       "header is cut short",
					       mod);
			kind = kd_get_le32(s.p + p);
			len = kd_get_le32(s.p + p + 4);
			if (len > end - p - 8)
				return pdb_bad(pdb, KD_EPROTO,
					       "module %u C13 subsection of "
					       "%u bytes runs past the end",
					       mod, len);
			if (pass == 0 && kind == DEBUG_S_FILECHKSMS) {
				chk.p = s.p + p + 8;
				chk.len = len;
			} else if (pass == 1 && kind == DEBUG_S_LINES) {
				rc = lines_sub(pdb, s.p + p + 8, len, rva,
					       &best);
				if (rc)
					return rc;
			}
			p += 8 + ((len + 3) & ~3u);
		}
	}
	if (!best.found)
		return KD_ENOTFOUND;
	if (best.file_off > chk.len || chk.len - best.file_off < 6)
		return pdb_bad(pdb, KD_EPROTO,
			       "line block names file checksum %u past the "
			       "table",
			       best.file_off);
	name = kd_get_le32(chk.p + best.file_off);
	rc = pdb_names_load(pdb);
	if (rc)
		return rc;
	out->file = pdb_str(&pdb->names, name, NULL);
	if (!out->file)
		return pdb_bad(pdb, KD_EPROTO, "file name %u is outside /names",
			       name);
	out->line = best.line;
	out->rva = best.rva;
	out->module = mod;
	return KD_OK;
}
