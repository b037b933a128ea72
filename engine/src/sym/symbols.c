/* SPDX-License-Identifier: MIT */
/*
 * Export symbols and unwind tables of loaded modules, read lazily from the
 * PE32 / PE32+ headers in target memory (never from host files), with
 * every RVA and count bounded by the image size.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sym/sym_int.h"

#define PE_MAX_SECTIONS 96
#define PE_MAX_EXPORT_DIR (16u << 20)
#define PE_MAX_NAME 512
#define IMAGE_SCN_CNT_CODE 0x20u
#define IMAGE_SCN_MEM_EXECUTE 0x20000000u

struct kd_pe_section {
	uint32_t rva;
	uint32_t size;
	uint32_t flags;
};

/* Headers of one image as far as this file needs them. */
struct kd_pe {
	uint32_t size_of_image;
	uint32_t exp_rva, exp_size;
	uint32_t exc_rva, exc_size;
	uint32_t dbg_rva, dbg_size;
	struct kd_pe_section sec[PE_MAX_SECTIONS];
	unsigned nsec;
};

static bool rva_range_ok(uint32_t size, uint32_t rva, uint64_t len)
{
	return rva <= size && len <= (uint64_t)size - rva;
}

/* Parse the DOS, file, optional and section headers at @p base. */
static int pe_read_headers(struct kd_session *s, uint64_t base,
			   uint32_t mod_size, struct kd_pe *pe,
			   struct kd_modsyms *ms)
{
	uint8_t h[0x1000];
	uint32_t lfanew, ndirs, dirs, i;
	uint16_t nsec, optsz, magic;
	const uint8_t *fh, *opt;
	size_t done = 0;

	memset(pe, 0, sizeof(*pe));
	if (kd_read_virtual(s, base, h, sizeof(h), &done) != KD_OK ||
	    done < 0x40)
		return KD_EFAULT;
	if (h[0] != 'M' || h[1] != 'Z')
		return KD_EPROTO;
	lfanew = kd_get_le32(h + 0x3c);
	if (lfanew < 0x40 || done < 24 + 112 || lfanew > done - 24 - 112)
		return KD_EPROTO;
	if (memcmp(h + lfanew, "PE\0\0", 4) != 0)
		return KD_EPROTO;
	fh = h + lfanew + 4;
	nsec = kd_get_le16(fh + 2);
	ms->timestamp = kd_get_le32(fh + 4);
	optsz = kd_get_le16(fh + 16);
	opt = fh + 20;
	/* PE32+ (0x20b) data directories start at 112, PE32 (0x10b) at
	 * 96; the fields before them that matter here are at the same
	 * offsets in both. */
	magic = kd_get_le16(opt);
	if (magic == 0x20b)
		dirs = 112;
	else if (magic == 0x10b)
		dirs = 96;
	else
		return KD_EPROTO;
	if (optsz < dirs || (size_t)(opt - h) + optsz > done)
		return KD_EPROTO;
	ms->entry = kd_get_le32(opt + 16);
	pe->size_of_image = kd_get_le32(opt + 56);
	ms->checksum = kd_get_le32(opt + 64);
	/* The loader's SizeOfImage bounds everything when it is smaller. */
	if (mod_size &&
	    (pe->size_of_image == 0 || pe->size_of_image > mod_size))
		pe->size_of_image = mod_size;
	ms->size_of_image = pe->size_of_image;
	ndirs = kd_get_le32(opt + dirs - 4);
	if (ndirs > (optsz - dirs) / 8)
		ndirs = (optsz - dirs) / 8;
	if (ndirs > 0) {
		pe->exp_rva = kd_get_le32(opt + dirs);
		pe->exp_size = kd_get_le32(opt + dirs + 4);
	}
	/* x86 images have no unwind table: .pdata is an x64 thing. */
	if (ndirs > 3 && magic == 0x20b) {
		pe->exc_rva = kd_get_le32(opt + dirs + 24);
		pe->exc_size = kd_get_le32(opt + dirs + 28);
	}
	if (ndirs > 6) {
		pe->dbg_rva = kd_get_le32(opt + dirs + 48);
		pe->dbg_size = kd_get_le32(opt + dirs + 52);
	}
	if (!rva_range_ok(pe->size_of_image, pe->dbg_rva, pe->dbg_size))
		pe->dbg_rva = pe->dbg_size = 0;
	if (!rva_range_ok(pe->size_of_image, pe->exp_rva, pe->exp_size))
		pe->exp_rva = pe->exp_size = 0;
	if (!rva_range_ok(pe->size_of_image, pe->exc_rva, pe->exc_size))
		pe->exc_rva = pe->exc_size = 0;
	for (i = 0; i < nsec && i < PE_MAX_SECTIONS; i++) {
		size_t off = (size_t)(opt - h) + optsz + 40u * i;
		struct kd_pe_section *sc = &pe->sec[pe->nsec];

		if (off + 40 > done)
			break;
		sc->size = kd_get_le32(h + off + 8);
		sc->rva = kd_get_le32(h + off + 12);
		sc->flags = kd_get_le32(h + off + 36);
		if (sc->size < kd_get_le32(h + off + 16))
			sc->size = kd_get_le32(h + off + 16);
		pe->nsec++;
	}
	return KD_OK;
}

static bool pe_is_code(const struct kd_pe *pe, uint32_t rva)
{
	unsigned i;

	for (i = 0; i < pe->nsec; i++) {
		const struct kd_pe_section *sc = &pe->sec[i];

		if (rva >= sc->rva && rva - sc->rva < sc->size)
			return (sc->flags & (IMAGE_SCN_CNT_CODE |
					     IMAGE_SCN_MEM_EXECUTE)) != 0;
	}
	return false;
}

static int export_cmp(const void *a, const void *b)
{
	const struct kd_export *x = a, *y = b;

	if (x->rva != y->rva)
		return x->rva < y->rva ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * Copy the NUL-terminated name at @p rva: from the export directory copy
 * @p dir when it lies inside, else read from the target.  Returns the
 * length (0 when unreadable or empty).
 */
static size_t export_name(struct kd_session *s, uint64_t base,
			  const uint8_t *dir, uint32_t dir_rva,
			  uint32_t dir_size, uint32_t size_of_image,
			  uint32_t rva, char *out)
{
	size_t n = 0, done = 0;

	if (rva >= dir_rva && rva - dir_rva < dir_size) {
		const uint8_t *p = dir + (rva - dir_rva);
		size_t avail = dir_size - (rva - dir_rva);

		while (n < avail && n < PE_MAX_NAME - 1 && p[n])
			n++;
		if (n == avail)
			return 0;
		memcpy(out, p, n);
	} else {
		uint8_t tmp[PE_MAX_NAME];
		size_t want = PE_MAX_NAME - 1;

		if (rva >= size_of_image)
			return 0;
		if (want > size_of_image - rva)
			want = size_of_image - rva;
		if (kd_read_virtual(s, base + rva, tmp, want, &done) != KD_OK)
			return 0;
		while (n < done && tmp[n])
			n++;
		if (n == done)
			return 0;
		memcpy(out, tmp, n);
	}
	out[n] = '\0';
	return n;
}

/* Read the export directory into @p ms. */
static int load_exports(struct kd_session *s, uint64_t base,
			const struct kd_pe *pe, struct kd_modsyms *ms)
{
	uint32_t nfuncs, nnames, funcs_rva, names_rva, ords_rva, i;
	uint8_t *dir = NULL, *funcs = NULL, *names = NULL, *ords = NULL;
	struct kd_export *ex = NULL;
	char *blob = NULL;
	size_t *offs = NULL; /* each name's offset in blob, which moves */
	size_t blob_len = 0, blob_cap = 4096, n = 0;
	uint32_t sz = pe->size_of_image;
	int rc = KD_EPROTO;

	if (pe->exp_rva == 0 || pe->exp_size < 40)
		return KD_OK;
	if (pe->exp_size > PE_MAX_EXPORT_DIR)
		return KD_EPROTO;
	dir = kd_malloc(pe->exp_size);
	if (!dir)
		return KD_ENOMEM;
	if (kd_read_virtual_all(s, base + pe->exp_rva, dir, pe->exp_size) !=
	    KD_OK) {
		rc = KD_EFAULT;
		goto out;
	}
	nfuncs = kd_get_le32(dir + 20);
	nnames = kd_get_le32(dir + 24);
	funcs_rva = kd_get_le32(dir + 28);
	names_rva = kd_get_le32(dir + 32);
	ords_rva = kd_get_le32(dir + 36);
	if (nfuncs > KD_MAX_EXPORTS || nnames > KD_MAX_EXPORTS ||
	    !rva_range_ok(sz, funcs_rva, 4ull * nfuncs) ||
	    !rva_range_ok(sz, names_rva, 4ull * nnames) ||
	    !rva_range_ok(sz, ords_rva, 2ull * nnames))
		goto out;
	if (nnames == 0 || nfuncs == 0) {
		rc = KD_OK;
		goto out;
	}
	funcs = kd_malloc(4u * nfuncs);
	names = kd_malloc(4u * nnames);
	ords = kd_malloc(2u * nnames);
	ex = kd_calloc(nnames, sizeof(*ex));
	offs = kd_calloc(nnames, sizeof(*offs));
	blob = kd_malloc(blob_cap);
	if (!funcs || !names || !ords || !ex || !offs || !blob) {
		rc = KD_ENOMEM;
		goto out;
	}
	if (kd_read_virtual_all(s, base + funcs_rva, funcs, 4u * nfuncs) !=
		    KD_OK ||
	    kd_read_virtual_all(s, base + names_rva, names, 4u * nnames) !=
		    KD_OK ||
	    kd_read_virtual_all(s, base + ords_rva, ords, 2u * nnames) !=
		    KD_OK) {
		rc = KD_EFAULT;
		goto out;
	}
	for (i = 0; i < nnames; i++) {
		uint16_t ord = kd_get_le16(ords + 2u * i);
		uint32_t rva, nrva;
		char name[PE_MAX_NAME];
		size_t len;

		if (ord >= nfuncs)
			continue;
		rva = kd_get_le32(funcs + 4u * ord);
		if (rva == 0 || rva >= sz)
			continue;
		/* Forwarders point into the export directory. */
		if (rva >= pe->exp_rva && rva - pe->exp_rva < pe->exp_size)
			continue;
		nrva = kd_get_le32(names + 4u * i);
		len = export_name(s, base, dir, pe->exp_rva, pe->exp_size, sz,
				  nrva, name);
		if (len == 0)
			continue;
		if (blob_len + len + 1 > blob_cap) {
			size_t ncap = blob_cap * 2;
			char *nb;

			while (ncap < blob_len + len + 1)
				ncap *= 2;
			nb = kd_realloc(blob, ncap);
			if (!nb) {
				rc = KD_ENOMEM;
				goto out;
			}
			blob = nb;
			blob_cap = ncap;
		}
		memcpy(blob + blob_len, name, len + 1);
		ex[n].rva = rva;
		ex[n].ordinal = (uint16_t)(ord + kd_get_le32(dir + 16));
		ex[n].code = pe_is_code(pe, rva);
		/* An offset for now: the blob may still move. */
		offs[n] = blob_len;
		blob_len += len + 1;
		n++;
	}
	for (i = 0; i < n; i++)
		ex[i].name = blob + offs[i];
	if (n > 1)
		qsort(ex, n, sizeof(*ex), export_cmp);
	ms->exports = ex;
	ms->nexports = n;
	ms->names = blob;
	ex = NULL;
	blob = NULL;
	rc = KD_OK;
out:
	kd_free(dir);
	kd_free(funcs);
	kd_free(names);
	kd_free(ords);
	kd_free(offs);
	kd_free(ex);
	kd_free(blob);
	return rc;
}

/* Debug directory entries looked at (real images have 1 to 6). */
#define PE_MAX_DEBUG_ENTRIES 32
#define IMAGE_DEBUG_TYPE_CODEVIEW 2
#define IMAGE_DEBUG_TYPE_REPRO 16
#define CV_RSDS_HEADER 24

/*
 * The CodeView RSDS record of the debug directory: GUID, age and the
 * recorded PDB path.  A missing, unmapped or malformed record leaves
 * have_cv false (the module keeps export symbols); it is no error.
 */
static void load_cv(struct kd_session *s, uint64_t base, const struct kd_pe *pe,
		    struct kd_modsyms *ms)
{
	uint8_t dir[PE_MAX_DEBUG_ENTRIES * 28];
	uint8_t cv[CV_RSDS_HEADER + sizeof(ms->cv_path)];
	uint32_t n = pe->dbg_size / 28, i;
	const char *slash;
	size_t len;

	if (pe->dbg_rva == 0 || n == 0)
		return;
	if (n > PE_MAX_DEBUG_ENTRIES)
		n = PE_MAX_DEBUG_ENTRIES;
	if (kd_read_virtual_all(s, base + pe->dbg_rva, dir, 28u * n) != KD_OK)
		return;
	/* Either order: lld-link and link.exe put REPRO after CODEVIEW. */
	for (i = 0; i < n; i++) {
		if (kd_get_le32(dir + 28u * i + 12) == IMAGE_DEBUG_TYPE_REPRO)
			ms->repro = true;
	}
	for (i = 0; i < n; i++) {
		const uint8_t *e = dir + 28u * i;
		uint32_t size = kd_get_le32(e + 16);
		uint32_t rva = kd_get_le32(e + 20);

		if (kd_get_le32(e + 12) != IMAGE_DEBUG_TYPE_CODEVIEW)
			continue;
		/* Not mapped, or not inside the image: nothing to read. */
		if (rva == 0 || size < CV_RSDS_HEADER + 1 ||
		    !rva_range_ok(pe->size_of_image, rva, size))
			continue;
		if (size > sizeof(cv))
			size = sizeof(cv);
		if (kd_read_virtual_all(s, base + rva, cv, size) != KD_OK)
			continue;
		if (memcmp(cv, "RSDS", 4) != 0)
			continue;
		len = 0;
		while (CV_RSDS_HEADER + len < size && cv[CV_RSDS_HEADER + len])
			len++;
		if (len == 0 || len >= sizeof(ms->cv_path))
			continue;
		memcpy(ms->cv_guid, cv + 4, 16);
		ms->cv_age = kd_get_le32(cv + 20);
		memcpy(ms->cv_path, cv + CV_RSDS_HEADER, len);
		ms->cv_path[len] = '\0';
		/* The store key is the base name, with either separator. */
		slash = strrchr(ms->cv_path, '\\');
		if (!slash || (strrchr(ms->cv_path, '/') &&
			       strrchr(ms->cv_path, '/') > slash))
			slash = strrchr(ms->cv_path, '/');
		slash = slash ? slash + 1 : ms->cv_path;
		len = strlen(slash);
		if (len == 0 || len >= sizeof(ms->pdb_name))
			continue;
		memcpy(ms->pdb_name, slash, len + 1);
		ms->have_cv = true;
		return;
	}
}

static int rtfunc_cmp(const void *a, const void *b)
{
	const struct kd_rtfunc *x = a, *y = b;

	return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/* Read the RUNTIME_FUNCTION array of the exception directory. */
static int load_pdata(struct kd_session *s, uint64_t base,
		      const struct kd_pe *pe, struct kd_modsyms *ms)
{
	size_t count = pe->exc_size / 12, i, n = 0;
	struct kd_rtfunc *rf;
	uint8_t *raw;
	bool sorted = true;

	if (pe->exc_rva == 0 || count == 0)
		return KD_OK;
	if (count > KD_MAX_PDATA)
		return KD_EPROTO;
	raw = kd_malloc(count * 12);
	rf = kd_calloc(count, sizeof(*rf));
	if (!raw || !rf) {
		kd_free(raw);
		kd_free(rf);
		return KD_ENOMEM;
	}
	if (kd_read_virtual_all(s, base + pe->exc_rva, raw, count * 12) !=
	    KD_OK) {
		kd_free(raw);
		kd_free(rf);
		return KD_EFAULT;
	}
	for (i = 0; i < count; i++) {
		uint32_t b = kd_get_le32(raw + 12 * i);
		uint32_t e = kd_get_le32(raw + 12 * i + 4);
		uint32_t u = kd_get_le32(raw + 12 * i + 8);

		if (b >= e || e > pe->size_of_image || u >= pe->size_of_image)
			continue;
		if (n > 0 && b < rf[n - 1].begin)
			sorted = false;
		rf[n].begin = b;
		rf[n].end = e;
		rf[n].unwind = u;
		n++;
	}
	kd_free(raw);
	if (!sorted)
		qsort(rf, n, sizeof(*rf), rtfunc_cmp);
	ms->pdata = rf;
	ms->npdata = n;
	return KD_OK;
}

struct kd_modsyms *kd_module_syms(struct kd_session *s, struct kd_module *m)
{
	struct kd_modsyms *ms = m->syms;
	struct kd_pe pe;
	int rc;

	kd_modules_hook(s);
	if (ms)
		return ms;
	ms = kd_calloc(1, sizeof(*ms));
	if (!ms)
		return NULL;
	rc = pe_read_headers(s, m->base, m->size, &pe, ms);
	if (rc == KD_OK)
		rc = load_exports(s, m->base, &pe, ms);
	if (rc == KD_OK)
		load_cv(s, m->base, &pe, ms);
	if (rc == KD_OK || rc == KD_EPROTO || rc == KD_EFAULT) {
		int prc = KD_OK;

		if (pe.size_of_image)
			prc = load_pdata(s, m->base, &pe, ms);
		if (rc == KD_OK)
			rc = prc;
	}
	if (rc == KD_ENOMEM || s->cmd.target_err) {
		/* Out of memory, or a request failed (not the image): keep
		 * nothing, so the next command reads the symbols again. */
		m->syms = ms;
		kd_modsyms_free(m);
		return NULL;
	}
	if (ms->checksum)
		m->checksum = ms->checksum;
	/* Headers not in memory (triage dumps): what the module list
	 * says, so lmv still shows them. */
	if (rc != KD_OK && !ms->timestamp && !ms->checksum) {
		ms->timestamp = m->timestamp;
		ms->checksum = m->checksum;
	}
	/* No RSDS record read, but the image (or its debug directory) was
	 * not all readable: the PDB loader may find a copy of the image by
	 * its key instead. */
	ms->image_key = !ms->have_cv && m->timestamp && m->size &&
			m->image[0] && (rc != KD_OK || pe.dbg_rva != 0);
	ms->status = rc;
	/* With a symbol path, the PDB is looked for when first needed. */
	ms->pdb_state = (ms->have_cv || ms->image_key) && *kd_sym__path(s) ?
				KD_PDB_DEFERRED :
				KD_PDB_NONE;
	m->syms = ms;
	return ms;
}

const struct kd_rtfunc *kd_pdata_lookup(struct kd_session *s, uint64_t addr,
					struct kd_module **mod)
{
	struct kd_module *m = kd_module_by_addr(s, addr);
	struct kd_modsyms *ms;
	uint32_t rva;
	size_t lo = 0, hi;

	if (mod)
		*mod = m;
	if (!m)
		return NULL;
	ms = kd_module_syms(s, m);
	if (!ms || ms->npdata == 0)
		return NULL;
	rva = (uint32_t)(addr - m->base);
	hi = ms->npdata;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ms->pdata[mid].begin <= rva)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	if (rva < ms->pdata[lo - 1].end)
		return &ms->pdata[lo - 1];
	return NULL;
}

/* Index of the first export with rva > @p rva. */
static size_t export_upper(const struct kd_modsyms *ms, uint32_t rva)
{
	size_t lo = 0, hi = ms->nexports;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ms->exports[mid].rva <= rva)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct kd_export *kd_export_at_or_before(struct kd_session *s,
					       struct kd_module *m,
					       uint64_t addr)
{
	struct kd_modsyms *ms = kd_module_syms(s, m);
	size_t i;

	if (!ms || addr < m->base || addr - m->base >= m->size)
		return NULL;
	i = export_upper(ms, (uint32_t)(addr - m->base));
	if (i == 0)
		return NULL;
	i--;
	while (i > 0 && ms->exports[i - 1].rva == ms->exports[i].rva)
		i--;
	return &ms->exports[i];
}

const struct kd_export *kd_export_after(struct kd_session *s,
					struct kd_module *m, uint64_t addr)
{
	struct kd_modsyms *ms = kd_module_syms(s, m);
	size_t i;

	if (!ms || addr < m->base || addr - m->base >= m->size)
		return NULL;
	i = export_upper(ms, (uint32_t)(addr - m->base));
	return i < ms->nexports ? &ms->exports[i] : NULL;
}

/* Exact export @p name in @p m: case-sensitive first, then not. */
const struct kd_export *kd_sym__export_by_name(struct kd_session *s,
					       struct kd_module *m,
					       const char *name)
{
	struct kd_modsyms *ms = kd_module_syms(s, m);
	const struct kd_export *fold = NULL;
	size_t i;

	if (!ms)
		return NULL;
	for (i = 0; i < ms->nexports; i++) {
		if (strcmp(ms->exports[i].name, name) == 0)
			return &ms->exports[i];
		if (!fold && strcasecmp(ms->exports[i].name, name) == 0)
			fold = &ms->exports[i];
	}
	return fold;
}
