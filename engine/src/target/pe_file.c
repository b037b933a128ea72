/* SPDX-License-Identifier: MIT */
/*
 * Lay out a PE image file the way the loader maps it: the headers at RVA
 * 0, each section at its VirtualAddress, raw data bounded by
 * SizeOfRawData, VirtualSize and the file, zeros up to the section
 * alignment.  A layout the loader would refuse is refused here too, with
 * the reason, so a damaged file is one clear line and never memory made
 * up from whatever the headers claim.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <kd/common.h>

#include "target/pe_file.h"

#define DOS_LFANEW 0x3c
#define FH_SIZE 20u
#define SH_SIZE 40u
#define OPT_MIN_PE32 96u
#define OPT_MIN_PE32PLUS 112u

static int bad(char *err, size_t cap, const char *fmt, ...) KD_PRINTF(3, 4);

static int bad(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (cap) {
		va_start(ap, fmt);
		vsnprintf(err, cap, fmt, ap);
		va_end(ap);
	}
	return KD_EPROTO;
}

static bool pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

/* @p v rounded up to @p align (a power of two), in 64 bits: no wrap. */
static uint64_t align_up(uint64_t v, uint32_t align)
{
	return (v + align - 1) & ~(uint64_t)(align - 1);
}

static void section_name(char out[9], const uint8_t *raw)
{
	unsigned i;

	for (i = 0; i < 8 && raw[i]; i++)
		out[i] = (char)(raw[i] >= 0x21 && raw[i] < 0x7f ? raw[i] : '?');
	out[i] = '\0';
}

static int parse_optional(const uint8_t *opt, uint16_t optsz, struct kd_pef *pe,
			  char *err, size_t cap)
{
	uint16_t magic;

	/* The shorter of the two layouts first: the magic is inside. */
	if (optsz < OPT_MIN_PE32)
		return bad(err, cap,
			   "the optional header is %u bytes, too short for "
			   "PE32 or PE32+",
			   optsz);
	magic = kd_get_le16(opt);
	if (magic == 0x20b)
		pe->pe32plus = true;
	else if (magic != 0x10b)
		return bad(err, cap,
			   "unknown optional header magic 0x%04x (not PE32 or "
			   "PE32+)",
			   magic);
	if (optsz < (pe->pe32plus ? OPT_MIN_PE32PLUS : OPT_MIN_PE32))
		return bad(err, cap,
			   "the optional header is %u bytes, too short for "
			   "%s",
			   optsz, pe->pe32plus ? "PE32+" : "PE32");
	/* x64 and ARM64 images are PE32+, x86 images PE32: anything else
	 * would read pointers of the wrong size. */
	if (pe->pe32plus != (pe->machine != 0x14c))
		return bad(err, cap, "a %s optional header on machine 0x%04x",
			   pe->pe32plus ? "PE32+" : "PE32", pe->machine);
	pe->entry = kd_get_le32(opt + 16);
	pe->image_base = pe->pe32plus ? kd_get_le64(opt + 24) :
					kd_get_le32(opt + 28);
	pe->section_alignment = kd_get_le32(opt + 32);
	pe->size_of_image = kd_get_le32(opt + 56);
	pe->size_of_headers = kd_get_le32(opt + 60);
	pe->checksum = kd_get_le32(opt + 64);
	if (!pow2(pe->section_alignment))
		return bad(err, cap,
			   "SectionAlignment 0x%x is not a power of two",
			   pe->section_alignment);
	if (pe->size_of_image == 0 || pe->size_of_image > KD_PEF_MAX_IMAGE)
		return bad(err, cap, "SizeOfImage 0x%x is out of range",
			   pe->size_of_image);
	if (pe->image_base & 0xffff)
		return bad(err, cap, "ImageBase 0x%llx is not 64 KiB aligned",
			   (unsigned long long)pe->image_base);
	if (pe->image_base + pe->size_of_image < pe->image_base ||
	    (!pe->pe32plus &&
	     pe->image_base + pe->size_of_image > 0x100000000ull))
		return bad(err, cap,
			   "ImageBase 0x%llx + SizeOfImage 0x%x wraps the "
			   "address space",
			   (unsigned long long)pe->image_base,
			   pe->size_of_image);
	if (pe->size_of_headers == 0 || pe->size_of_headers > pe->size_of_image)
		return bad(err, cap,
			   "SizeOfHeaders 0x%x is outside SizeOfImage 0x%x",
			   pe->size_of_headers, pe->size_of_image);
	return KD_OK;
}

/* Add section @p i (header at @p sh) after the regions so far. */
static int add_section(struct kd_pef *pe, unsigned i, const uint8_t *sh,
		       size_t len, uint64_t *next, char *err, size_t cap)
{
	struct kd_pef_region *r = &pe->region[pe->nregions];
	uint32_t vsize = kd_get_le32(sh + 8);
	uint32_t va = kd_get_le32(sh + 12);
	uint32_t raw_size = kd_get_le32(sh + 16);
	uint32_t raw_ptr = kd_get_le32(sh + 20);
	uint64_t end;
	char name[9];

	section_name(name, sh);
	/* The loader maps SizeOfRawData when VirtualSize is 0. */
	if (vsize == 0)
		vsize = raw_size;
	if (vsize == 0)
		return KD_OK; /* maps nothing */
	if (va < *next)
		return bad(err, cap,
			   "section %u (%s) at RVA 0x%x overlaps what comes "
			   "before it (up to RVA 0x%llx)",
			   i + 1, name, va, (unsigned long long)*next);
	end = align_up((uint64_t)va + vsize, pe->section_alignment);
	if ((uint64_t)va + vsize > pe->size_of_image)
		return bad(
			err, cap,
			"section %u (%s) RVA 0x%x + 0x%x is past SizeOfImage "
			"0x%x",
			i + 1, name, va, vsize, pe->size_of_image);
	if (end > pe->size_of_image)
		end = pe->size_of_image;
	memset(r, 0, sizeof(*r));
	r->rva = va;
	r->size = (uint32_t)(end - va);
	r->raw_off = raw_ptr;
	r->raw_len = raw_size < vsize ? raw_size : vsize;
	if (raw_ptr == 0)
		r->raw_len = 0; /* uninitialised data: all zeros */
	if ((uint64_t)r->raw_off + r->raw_len > len)
		return bad(err, cap,
			   "section %u (%s) raw data 0x%x + 0x%x is past the "
			   "end of the file (0x%zx bytes): truncated?",
			   i + 1, name, r->raw_off, r->raw_len, len);
	memcpy(r->name, name, sizeof(r->name));
	pe->nregions++;
	*next = end;
	return KD_OK;
}

int kd_target__pe_parse(const uint8_t *file, size_t len, struct kd_pef *pe,
			char *err, size_t cap)
{
	const uint8_t *fh, *st;
	uint32_t lfanew;
	uint16_t optsz;
	uint64_t next, st_off;
	unsigned i;
	int rc;

	memset(pe, 0, sizeof(*pe));
	if (cap)
		err[0] = '\0';
	if (len < 0x40 || file[0] != 'M' || file[1] != 'Z')
		return bad(err, cap, "not a PE image: no MZ header");
	lfanew = kd_get_le32(file + DOS_LFANEW);
	if (lfanew > len || len - lfanew < 4 + FH_SIZE)
		return bad(err, cap,
			   "e_lfanew 0x%x points past the end of the file "
			   "(0x%zx bytes)",
			   lfanew, len);
	if (memcmp(file + lfanew, "PE\0\0", 4) != 0)
		return bad(err, cap, "no PE signature at e_lfanew 0x%x",
			   lfanew);
	fh = file + lfanew + 4;
	pe->machine = kd_get_le16(fh);
	if (pe->machine != 0x8664 && pe->machine != 0x14c &&
	    pe->machine != 0xaa64)
		return bad(err, cap, "machine 0x%04x is not x64, x86 or ARM64",
			   pe->machine);
	pe->nsections = kd_get_le16(fh + 2);
	pe->timestamp = kd_get_le32(fh + 4);
	optsz = kd_get_le16(fh + 16);
	if (pe->nsections == 0 || pe->nsections > KD_PEF_MAX_SECTIONS)
		return bad(err, cap, "%u sections (at most %u)", pe->nsections,
			   KD_PEF_MAX_SECTIONS);
	if ((size_t)(fh - file) + FH_SIZE + optsz > len)
		return bad(err, cap,
			   "the optional header (0x%x bytes) runs past the end "
			   "of the file",
			   optsz);
	rc = parse_optional(fh + FH_SIZE, optsz, pe, err, cap);
	if (rc < 0)
		return rc;
	st_off = (uint64_t)(fh - file) + FH_SIZE + optsz;
	if (st_off + (uint64_t)pe->nsections * SH_SIZE > len)
		return bad(err, cap,
			   "the section table (%u entries) runs past the end "
			   "of the file",
			   pe->nsections);
	if (pe->size_of_headers > len)
		return bad(err, cap,
			   "the headers (0x%x bytes) run past the end of the "
			   "file (0x%zx bytes): truncated?",
			   pe->size_of_headers, len);
	st = file + st_off;
	/* The headers: SizeOfHeaders from the file, zeros to the section
	 * alignment. */
	next = align_up(pe->size_of_headers, pe->section_alignment);
	if (next > pe->size_of_image)
		next = pe->size_of_image;
	pe->region[0].rva = 0;
	pe->region[0].size = (uint32_t)next;
	pe->region[0].raw_off = 0;
	pe->region[0].raw_len = pe->size_of_headers;
	memcpy(pe->region[0].name, "headers", 8);
	pe->nregions = 1;
	for (i = 0; i < pe->nsections; i++) {
		rc = add_section(pe, i, st + (size_t)i * SH_SIZE, len, &next,
				 err, cap);
		if (rc < 0)
			return rc;
	}
	if (pe->entry >= pe->size_of_image)
		return bad(err, cap,
			   "AddressOfEntryPoint 0x%x is past SizeOfImage 0x%x",
			   pe->entry, pe->size_of_image);
	return KD_OK;
}

static const struct kd_pef_region *region_at(const struct kd_pef *pe,
					     uint64_t rva)
{
	unsigned i;

	for (i = 0; i < pe->nregions; i++) {
		const struct kd_pef_region *r = &pe->region[i];

		if (rva >= r->rva && rva - r->rva < r->size)
			return r;
	}
	return NULL;
}

int kd_target__pe_read(const struct kd_pef *pe, const uint8_t *file, size_t len,
		       uint64_t rva, void *buf, size_t want, size_t *done)
{
	uint8_t *out = buf;
	size_t got = 0;

	if (rva >= pe->size_of_image)
		want = 0; /* also keeps rva + got from wrapping */
	while (got < want) {
		const struct kd_pef_region *r = region_at(pe, rva + got);
		uint64_t off, n, from_file;

		if (!r)
			break;
		off = rva + got - r->rva;
		n = r->size - off;
		if (n > want - got)
			n = want - got;
		from_file = off < r->raw_len ? r->raw_len - off : 0;
		if (from_file > n)
			from_file = n;
		/* parse() checked raw_off + raw_len against the file; the
		 * check here keeps a caller's wrong @p len harmless. */
		if (from_file && (uint64_t)r->raw_off + off + from_file > len)
			break;
		if (from_file)
			memcpy(out + got, file + r->raw_off + off,
			       (size_t)from_file);
		memset(out + got + from_file, 0, (size_t)(n - from_file));
		got += (size_t)n;
	}
	*done = got;
	return got ? KD_OK : KD_EFAULT;
}
