/* SPDX-License-Identifier: MIT */
/*
 * The CodeView RSDS record of an image file (not target memory): what the
 * PDB loader needs when a module's headers are not readable from the
 * target, as in triage dumps, and a copy of the image was found in a
 * symbol store by its image key.  The file is hostile input: every
 * offset, count and size is checked against the bytes read.
 */
#include <stdio.h>
#include <string.h>

#include "sym/sym_int.h"

#define IMGF_MAX_SECTIONS 96
#define IMGF_MAX_DEBUG 32
#define IMGF_DEBUG_ENTRY 28
#define IMGF_CODEVIEW 2
#define IMGF_RSDS_HEADER 24

static bool in_buf(size_t len, uint64_t off, uint64_t n)
{
	return off <= len && n <= len - off;
}

/* File offset of @p rva through the section table; false when no raw
 * section data holds it. */
static bool rva_to_off(const uint8_t *buf, size_t len, size_t sec,
		       unsigned nsec, uint32_t rva, uint32_t n, uint64_t *off)
{
	unsigned i;

	for (i = 0; i < nsec; i++) {
		const uint8_t *h = buf + sec + 40u * i;
		uint32_t va = kd_get_le32(h + 12);
		uint32_t raw_size = kd_get_le32(h + 16);
		uint32_t raw = kd_get_le32(h + 20);

		if (rva < va || (uint64_t)rva - va + n > raw_size)
			continue;
		*off = (uint64_t)raw + (rva - va);
		return in_buf(len, *off, n);
	}
	return false;
}

static int fail(char *why, size_t cap, int code, const char *what)
{
	snprintf(why, cap, "%s", what);
	return code;
}

int kd_sym__image_file_cv(const uint8_t *buf, size_t len, struct kd_modsyms *ms,
			  char *why, size_t cap)
{
	uint32_t lfanew, dirs, ndirs, dbg_rva, dbg_size, i, n;
	uint16_t nsec, optsz, magic;
	uint64_t dbg_off;
	size_t fh, opt, sec;

	if (len < 0x40 || buf[0] != 'M' || buf[1] != 'Z')
		return fail(why, cap, KD_EPROTO, "not an image (no MZ header)");
	lfanew = kd_get_le32(buf + 0x3c);
	if (!in_buf(len, lfanew, 24) || memcmp(buf + lfanew, "PE\0\0", 4) != 0)
		return fail(why, cap, KD_EPROTO, "no PE header");
	fh = (size_t)lfanew + 4;
	nsec = kd_get_le16(buf + fh + 2);
	optsz = kd_get_le16(buf + fh + 16);
	opt = fh + 20;
	if (!in_buf(len, opt, optsz) || optsz < 2)
		return fail(why, cap, KD_EPROTO, "optional header cut short");
	magic = kd_get_le16(buf + opt);
	if (magic == 0x20b)
		dirs = 112;
	else if (magic == 0x10b)
		dirs = 96;
	else
		return fail(why, cap, KD_EPROTO, "unknown optional header");
	if (optsz < dirs)
		return fail(why, cap, KD_EPROTO, "optional header too small");
	ndirs = kd_get_le32(buf + opt + dirs - 4);
	if (ndirs > (uint32_t)(optsz - dirs) / 8)
		ndirs = (uint32_t)(optsz - dirs) / 8;
	if (ndirs <= 6)
		return fail(why, cap, KD_ENOTFOUND, "no debug directory");
	dbg_rva = kd_get_le32(buf + opt + dirs + 48);
	dbg_size = kd_get_le32(buf + opt + dirs + 52);
	sec = opt + optsz;
	if (nsec > IMGF_MAX_SECTIONS)
		nsec = IMGF_MAX_SECTIONS;
	if (!in_buf(len, sec, 40ull * nsec))
		return fail(why, cap, KD_EPROTO, "section table cut short");
	n = dbg_size / IMGF_DEBUG_ENTRY;
	if (n > IMGF_MAX_DEBUG)
		n = IMGF_MAX_DEBUG;
	if (dbg_rva == 0 || n == 0 ||
	    !rva_to_off(buf, len, sec, nsec, dbg_rva, n * IMGF_DEBUG_ENTRY,
			&dbg_off))
		return fail(why, cap, KD_ENOTFOUND, "no debug directory");
	for (i = 0; i < n; i++) {
		const uint8_t *e = buf + dbg_off + IMGF_DEBUG_ENTRY * i;
		uint32_t size = kd_get_le32(e + 16);
		uint32_t ptr = kd_get_le32(e + 24);
		const uint8_t *cv;
		const char *slash, *fs;
		size_t plen = 0, blen;

		if (kd_get_le32(e + 12) != IMGF_CODEVIEW ||
		    size < IMGF_RSDS_HEADER + 1 || !in_buf(len, ptr, size))
			continue;
		cv = buf + ptr;
		if (memcmp(cv, "RSDS", 4) != 0)
			continue;
		while (IMGF_RSDS_HEADER + plen < size &&
		       cv[IMGF_RSDS_HEADER + plen])
			plen++;
		if (plen == 0 || plen >= sizeof(ms->cv_path))
			continue;
		memcpy(ms->cv_guid, cv + 4, 16);
		ms->cv_age = kd_get_le32(cv + 20);
		memcpy(ms->cv_path, cv + IMGF_RSDS_HEADER, plen);
		ms->cv_path[plen] = '\0';
		/* The store key is the base name, with either separator. */
		slash = strrchr(ms->cv_path, '\\');
		fs = strrchr(ms->cv_path, '/');
		if (!slash || (fs && fs > slash))
			slash = fs;
		slash = slash ? slash + 1 : ms->cv_path;
		blen = strlen(slash);
		if (blen == 0 || blen >= sizeof(ms->pdb_name))
			continue;
		memcpy(ms->pdb_name, slash, blen + 1);
		ms->have_cv = true;
		return KD_OK;
	}
	return fail(why, cap, KD_ENOTFOUND, "no CodeView (RSDS) record");
}
