/* SPDX-License-Identifier: MIT */
/*
 * PE32+ reading for kdsim: validate the headers and the section table,
 * copy the sections to their RVAs, and look up exports by name, with every
 * offset taken from the image checked against its buffer first.
 */
#include <string.h>

#include <kdsim/pe.h>

#define PE_MACHINE_AMD64 0x8664u
#define PE_MAGIC_PE32PLUS 0x20Bu
#define PE_OPT_MIN 112u /* PE32+ optional header up to the data dirs */
#define PE_OPT_EXPORT_DIR 112u
#define PE_SECTION_SIZE 40u
#define PE_MAX_SECTIONS 96u
#define PE_EXPORT_DIR_SIZE 40u
#define PE_MAX_EXPORTS 65536u

static int bad(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return KD_EPROTO;
}

int kdsim_pe_parse(struct kdsim_pe *out, const uint8_t *d, size_t len,
		   const char **why)
{
	uint32_t pe, opt_size, i;
	uint64_t table_end;

	memset(out, 0, sizeof(*out));
	if (len < 0x40 || d[0] != 'M' || d[1] != 'Z')
		return bad(why, "no MZ header");
	pe = kd_get_le32(d + 0x3C);
	if ((uint64_t)pe + 24 + PE_OPT_MIN > len)
		return bad(why, "PE header outside the file");
	if (memcmp(d + pe, "PE\0\0", 4) != 0)
		return bad(why, "no PE signature");
	if (kd_get_le16(d + pe + 4) != PE_MACHINE_AMD64)
		return bad(why, "not an AMD64 image");
	out->sections = kd_get_le16(d + pe + 6);
	out->timestamp = kd_get_le32(d + pe + 8);
	opt_size = kd_get_le16(d + pe + 20);
	if (kd_get_le16(d + pe + 24) != PE_MAGIC_PE32PLUS ||
	    opt_size < PE_OPT_MIN)
		return bad(why, "not PE32+");
	if (out->sections > PE_MAX_SECTIONS)
		return bad(why, "too many sections");
	out->section_table = pe + 24 + opt_size;
	table_end = (uint64_t)out->section_table +
		    (uint64_t)out->sections * PE_SECTION_SIZE;
	if (table_end > len)
		return bad(why, "section table outside the file");
	out->entry_rva = kd_get_le32(d + pe + 24 + 16);
	out->image_base = kd_get_le64(d + pe + 24 + 24);
	out->size_of_image = kd_get_le32(d + pe + 24 + 56);
	out->size_of_headers = kd_get_le32(d + pe + 24 + 60);
	out->checksum = kd_get_le32(d + pe + 24 + 64);
	if (out->image_base & 0xFFF)
		return bad(why, "ImageBase not page aligned");
	if (out->size_of_image == 0 || out->size_of_image > KDSIM_PE_MAX_IMAGE)
		return bad(why, "SizeOfImage out of range");
	if (out->size_of_headers > len ||
	    out->size_of_headers > out->size_of_image ||
	    out->size_of_headers < table_end)
		return bad(why, "SizeOfHeaders out of range");
	if (out->entry_rva >= out->size_of_image)
		return bad(why, "entry point outside the image");
	for (i = 0; i < out->sections; i++) {
		const uint8_t *s = d + out->section_table + i * PE_SECTION_SIZE;
		uint32_t vsize = kd_get_le32(s + 8), va = kd_get_le32(s + 12);
		uint32_t rsize = kd_get_le32(s + 16);
		uint32_t roff = kd_get_le32(s + 20);
		uint32_t n = rsize < vsize ? rsize : vsize;

		if ((uint64_t)va + vsize > out->size_of_image)
			return bad(why, "section outside the image");
		if (vsize && va < out->size_of_headers)
			return bad(why, "section overlaps the headers");
		if (n && (uint64_t)roff + n > len)
			return bad(why, "section data outside the file");
	}
	return KD_OK;
}

int kdsim_pe_layout(const struct kdsim_pe *pe, const uint8_t *d, size_t len,
		    uint8_t *image, size_t cap)
{
	uint32_t i;

	if (cap < pe->size_of_image || pe->size_of_headers > len)
		return KD_EBUFS;
	memset(image, 0, pe->size_of_image);
	memcpy(image, d, pe->size_of_headers);
	for (i = 0; i < pe->sections; i++) {
		const uint8_t *s = d + pe->section_table + i * PE_SECTION_SIZE;
		uint32_t vsize = kd_get_le32(s + 8), va = kd_get_le32(s + 12);
		uint32_t rsize = kd_get_le32(s + 16);
		uint32_t roff = kd_get_le32(s + 20);
		uint32_t n = rsize < vsize ? rsize : vsize;

		/* Re-checked: @p pe may not come from this file. */
		if (n == 0 || (uint64_t)roff + n > len ||
		    va < pe->size_of_headers ||
		    (uint64_t)va + n > pe->size_of_image)
			continue;
		memcpy(image + va, d + roff, n);
	}
	return KD_OK;
}

uint32_t kdsim_pe_export(const uint8_t *b, size_t size, const char *name)
{
	uint32_t pe, dir, n, names, ords, funcs, nfuncs, i;
	size_t l = strlen(name);

	if (size < 0x40)
		return 0;
	pe = kd_get_le32(b + 0x3C);
	if ((uint64_t)pe + 24 + PE_OPT_EXPORT_DIR + 8 > size)
		return 0;
	dir = kd_get_le32(b + pe + 24 + PE_OPT_EXPORT_DIR);
	if (dir == 0 || (uint64_t)dir + PE_EXPORT_DIR_SIZE > size)
		return 0;
	nfuncs = kd_get_le32(b + dir + 20);
	n = kd_get_le32(b + dir + 24);
	funcs = kd_get_le32(b + dir + 28);
	names = kd_get_le32(b + dir + 32);
	ords = kd_get_le32(b + dir + 36);
	if (n > PE_MAX_EXPORTS || (uint64_t)names + n * 4ull > size ||
	    (uint64_t)ords + n * 2ull > size ||
	    (uint64_t)funcs + nfuncs * 4ull > size)
		return 0;
	for (i = 0; i < n; i++) {
		uint32_t nm = kd_get_le32(b + names + i * 4);
		uint16_t o;

		if ((uint64_t)nm + l + 1 > size ||
		    memcmp(b + nm, name, l + 1) != 0)
			continue;
		o = kd_get_le16(b + ords + i * 2);
		if (o >= nfuncs)
			return 0;
		return kd_get_le32(b + funcs + o * 4u);
	}
	return 0;
}
