/* SPDX-License-Identifier: MIT */
/*
 * The crash-dump reader: maps a MEMORY.DMP read-only, indexes its physical
 * pages once (sorted runs or a ranked bitmap) or its triage blocks, and
 * answers physical, virtual (through the dump's own page tables) and
 * per-processor context reads.  Damage is reported as warnings.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kd/alloc.h>
#include <kd/dump.h>
#include <kd/dumpfmt.h>

#include "dump_int.h"

#define KD_DUMP_MAX_WARNINGS 16
#define KD_DUMP_WARNING_LEN 256
#define KD_DUMP_MAX_PFN (1ull << 40) /* 4 EiB of physical memory */
#define KD_DUMP_MAX_BLOCKS (1u << 22)

enum kd_dump_index {
	KD_IDX_NONE = 0,
	KD_IDX_RUNS,
	KD_IDX_BITMAP
};

struct kd_dump_run_ix {
	uint64_t base, count, file_off;
};

struct kd_dump_vblock {
	uint64_t va, file_off, size;
};

struct kd_dump {
	int fd;
	const uint8_t *map;
	uint64_t size;
	uint8_t hdr[KD_DMP64_HEADER_SIZE]; /* zero-padded header copy */
	uint32_t hdr_size;
	struct kd_dump_info info;
	/* In the handle, not on the heap: a warning cannot be lost to a
	 * failed allocation (the open would then succeed with less). */
	char warn[KD_DUMP_MAX_WARNINGS][KD_DUMP_WARNING_LEN];
	unsigned int nwarn;

	enum kd_dump_index index;
	struct kd_dump_run_ix *runs; /* sorted by base */
	size_t nruns;
	uint64_t *bits; /* bitmap words (tail masked) */
	uint64_t *rank; /* set bits before each word */
	uint64_t nbits;
	uint64_t first_page;

	/* Triage: VA-keyed blocks, sorted, no overlaps. */
	struct kd_dump_vblock *vb;
	size_t nvb;
	uint64_t tri_prcb_off, tri_prcb_size;
	uint64_t tri_drv_off;
	uint32_t tri_drv_count;

	uint8_t kdbg[KD_KDBG_MAX_SIZE]; /* decoded block copy */
	uint32_t kdbg_len;
	uint32_t ctx_off; /* header CONTEXT file offset */
	uint32_t ctx_size;
	int crash_cpu; /* -1: not known yet */
};

/* ---- small helpers ---- */

void kd_dump_warnf(struct kd_dump *d, const char *fmt, ...)
{
	va_list ap;

	if (d->nwarn >= KD_DUMP_MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	vsnprintf(d->warn[d->nwarn], sizeof(d->warn[0]), fmt, ap);
	va_end(ap);
	d->nwarn++;
}

static uint32_t h32(const struct kd_dump *d, size_t off)
{
	return kd_get_le32(d->hdr + off);
}

static uint64_t h64(const struct kd_dump *d, size_t off)
{
	return kd_get_le64(d->hdr + off);
}

/* The file bytes [off, off+len) if all inside the file, else NULL. */
static const uint8_t *dump_at(const struct kd_dump *d, uint64_t off,
			      uint64_t len)
{
	if (off > d->size || len > d->size - off)
		return NULL;
	return d->map + off;
}

static void set_err(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
}

/* ---- physical index ---- */

static int run_cmp(const void *a, const void *b)
{
	const struct kd_dump_run_ix *x = a, *y = b;

	return x->base < y->base ? -1 : x->base > y->base;
}

static int dump_index_runs(struct kd_dump *d)
{
	bool p64 = d->info.ptr64;
	size_t pmd = p64 ? KD_DMP64_PHYS_MEM_BLOCK : KD_DMP32_PHYS_MEM_BLOCK;
	uint32_t nruns = h32(d, pmd);
	uint32_t maxr = p64 ? KD_DMP64_PMD_MAX_RUNS : KD_DMP32_PMD_MAX_RUNS;
	uint64_t declared = p64 ? h64(d, pmd + KD_DMP64_PMD_NUMBER_OF_PAGES) :
				  h32(d, pmd + KD_DMP32_PMD_NUMBER_OF_PAGES);
	uint64_t off = d->hdr_size, total = 0;
	size_t i, n = 0;

	if (nruns == KD_DMP_SIG_PAGE) {
		kd_dump_warnf(d, "the run list is not filled in (PAGE): no "
				 "physical memory");
		return KD_OK;
	}
	if (nruns > maxr) {
		kd_dump_warnf(d,
			      "NumberOfRuns %u is more than the header "
			      "holds (%u): using %u",
			      nruns, maxr, maxr);
		nruns = maxr;
	}
	d->runs = kd_calloc(nruns ? nruns : 1, sizeof(*d->runs));
	if (!d->runs)
		return KD_ENOMEM;
	for (i = 0; i < nruns; i++) {
		uint64_t base, count;

		if (p64) {
			size_t r = pmd + KD_DMP64_PMD_RUNS +
				   i * KD_DMP64_PMD_RUN_SIZE;
			base = h64(d, r);
			count = h64(d, r + 8);
		} else {
			size_t r = pmd + KD_DMP32_PMD_RUNS +
				   i * KD_DMP32_PMD_RUN_SIZE;
			base = h32(d, r);
			count = h32(d, r + 4);
		}
		if (count == 0)
			continue;
		if (base >= KD_DUMP_MAX_PFN || count > KD_DUMP_MAX_PFN - base ||
		    count > (UINT64_MAX - off) / KD_DMP_PAGE_SIZE) {
			kd_dump_warnf(d,
				      "run %zu (base %#llx, %#llx pages) "
				      "is out of range: ignored from here",
				      i, (unsigned long long)base,
				      (unsigned long long)count);
			break;
		}
		d->runs[n].base = base;
		d->runs[n].count = count;
		d->runs[n].file_off = off;
		off += count * KD_DMP_PAGE_SIZE;
		total += count;
		n++;
	}
	d->nruns = n;
	qsort(d->runs, n, sizeof(*d->runs), run_cmp);
	for (i = 1; i < n; i++) {
		if (d->runs[i].base <
		    d->runs[i - 1].base + d->runs[i - 1].count) {
			kd_dump_warnf(d,
				      "runs overlap at page %#llx: the first "
				      "one wins",
				      (unsigned long long)d->runs[i].base);
			break;
		}
	}
	if (declared != total)
		kd_dump_warnf(d,
			      "NumberOfPages %#llx disagrees with the runs "
			      "(%#llx pages)",
			      (unsigned long long)declared,
			      (unsigned long long)total);
	d->info.pages = total;
	if (off > d->size) {
		d->info.truncated = true;
		kd_dump_warnf(d,
			      "the file is truncated: the runs need %#llx "
			      "bytes, the file has %#llx",
			      (unsigned long long)off,
			      (unsigned long long)d->size);
	}
	d->index = KD_IDX_RUNS;
	return KD_OK;
}

/* Bitmap bodies (types 5/6 and the legacy type 2). */
static int dump_index_bitmap(struct kd_dump *d, uint64_t body, uint64_t bmp_off,
			     uint64_t first, uint64_t present, uint64_t nbits)
{
	uint64_t avail, nwords, i, count = 0, need;

	if (nbits > KD_DUMP_MAX_PFN) {
		kd_dump_warnf(d, "bitmap size %#llx bits is out of range",
			      (unsigned long long)nbits);
		nbits = KD_DUMP_MAX_PFN;
	}
	avail = body + bmp_off <= d->size ? (d->size - body - bmp_off) : 0;
	if ((nbits + 7) / 8 > avail) {
		d->info.truncated = true;
		kd_dump_warnf(d,
			      "the bitmap is truncated: %#llx bits "
			      "declared, %#llx in the file",
			      (unsigned long long)nbits,
			      (unsigned long long)(avail * 8));
		nbits = avail * 8;
	}
	nwords = (nbits + 63) / 64;
	d->bits = kd_calloc(nwords ? nwords : 1, sizeof(uint64_t));
	d->rank = kd_calloc(nwords ? nwords : 1, sizeof(uint64_t));
	if (!d->bits || !d->rank)
		return KD_ENOMEM;
	for (i = 0; i < nwords; i++) {
		uint8_t w[8] = { 0 };
		uint64_t nb = (nbits - i * 64 + 7) / 8;
		uint64_t v;

		memcpy(w, d->map + body + bmp_off + i * 8, nb < 8 ? nb : 8);
		v = kd_get_le64(w);
		if (i == nwords - 1 && nbits % 64)
			v &= (1ull << (nbits % 64)) - 1;
		d->bits[i] = v;
		d->rank[i] = count;
		count += (uint64_t)__builtin_popcountll(v);
	}
	d->nbits = nbits;
	d->first_page = first;
	if (count != present)
		kd_dump_warnf(d,
			      "the bitmap has %#llx pages set but the "
			      "header says %#llx",
			      (unsigned long long)count,
			      (unsigned long long)present);
	d->info.pages = count;
	if (first > d->size || count > (d->size - first) / KD_DMP_PAGE_SIZE) {
		need = first + count * KD_DMP_PAGE_SIZE;
		d->info.truncated = true;
		kd_dump_warnf(d,
			      "the file is truncated: the pages need %#llx "
			      "bytes, the file has %#llx",
			      (unsigned long long)need,
			      (unsigned long long)d->size);
	}
	d->index = KD_IDX_BITMAP;
	return KD_OK;
}

static int dump_parse_bitmap(struct kd_dump *d, char *err, size_t errlen)
{
	uint64_t body = d->hdr_size;
	const uint8_t *b = dump_at(d, body, KD_DMP_BMP_BITMAP);
	uint32_t sig;

	if (!b) {
		d->info.truncated = true;
		kd_dump_warnf(d, "the file is truncated: no bitmap header");
		return KD_OK;
	}
	sig = kd_get_le32(b);
	if ((sig != KD_DMP_SIG_SDMP && sig != KD_DMP_SIG_FDMP) ||
	    kd_get_le32(b + 4) != KD_DMP_VALID_DUMP) {
		set_err(err, errlen,
			"bitmap dump without an SDMP/FDMP "
			"body signature");
		return KD_EPROTO;
	}
	return dump_index_bitmap(d, body, KD_DMP_BMP_BITMAP,
				 kd_get_le64(b + KD_DMP_BMP_FIRST_PAGE),
				 kd_get_le64(b + KD_DMP_BMP_TOTAL_PRESENT),
				 kd_get_le64(b + KD_DMP_BMP_PAGES));
}

static int dump_parse_summary(struct kd_dump *d, char *err, size_t errlen)
{
	uint64_t body = d->hdr_size;
	uint64_t boff = d->info.ptr64 ? KD_DMP_SUM64_BITMAP :
					KD_DMP_SUM32_BITMAP;
	const uint8_t *b = dump_at(d, body, boff);

	if (!b) {
		d->info.truncated = true;
		kd_dump_warnf(d, "the file is truncated: no summary header");
		return KD_OK;
	}
	if (kd_get_le32(b) != KD_DMP_SIG_SDMP ||
	    kd_get_le32(b + 4) != KD_DMP_VALID_DUMP) {
		set_err(err, errlen,
			"summary dump without an SDMP body "
			"signature");
		return KD_EPROTO;
	}
	return dump_index_bitmap(d, body, boff,
				 kd_get_le32(b + KD_DMP_SUM_HEADER_SIZE),
				 kd_get_le32(b + KD_DMP_SUM_PAGES),
				 kd_get_le32(b + KD_DMP_SUM_BITMAP_SIZE));
}

/* File offset of page @p pfn, or UINT64_MAX when the dump lacks it. */
static uint64_t dump_page_off(const struct kd_dump *d, uint64_t pfn)
{
	uint64_t off;

	if (d->index == KD_IDX_BITMAP) {
		uint64_t w, bit, r;

		if (pfn >= d->nbits)
			return UINT64_MAX;
		w = pfn / 64;
		bit = pfn % 64;
		if (!(d->bits[w] & (1ull << bit)))
			return UINT64_MAX;
		r = d->rank[w] + (uint64_t)__builtin_popcountll(
					 d->bits[w] & ((1ull << bit) - 1));
		off = d->first_page + r * KD_DMP_PAGE_SIZE;
	} else if (d->index == KD_IDX_RUNS) {
		size_t lo = 0, hi = d->nruns;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (d->runs[mid].base <= pfn)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == 0)
			return UINT64_MAX;
		lo--;
		if (pfn - d->runs[lo].base >= d->runs[lo].count)
			return UINT64_MAX;
		off = d->runs[lo].file_off +
		      (pfn - d->runs[lo].base) * KD_DMP_PAGE_SIZE;
	} else {
		return UINT64_MAX;
	}
	if (off > d->size || d->size - off < KD_DMP_PAGE_SIZE)
		return UINT64_MAX;
	return off;
}

const uint8_t *kd_dump_page(const struct kd_dump *d, uint64_t pfn)
{
	uint64_t off = dump_page_off(d, pfn);

	return off == UINT64_MAX ? NULL : d->map + off;
}

int kd_dump_read_physical(struct kd_dump *d, uint64_t pa, void *buf, size_t len,
			  size_t *done)
{
	uint8_t *out = buf;
	size_t got = 0;

	while (got < len) {
		uint64_t a = pa + got;
		size_t in = (size_t)(a & (KD_DMP_PAGE_SIZE - 1));
		size_t n = KD_DMP_PAGE_SIZE - in;
		const uint8_t *p;

		if (a < pa)
			break;
		p = kd_dump_page(d, a >> KD_DMP_PAGE_SHIFT);
		if (!p)
			break;
		if (n > len - got)
			n = len - got;
		memcpy(out + got, p + in, n);
		got += n;
	}
	if (done)
		*done = got;
	return got == len ? KD_OK : KD_EFAULT;
}

static int phys_u64(struct kd_dump *d, uint64_t pa, uint64_t *v)
{
	uint8_t b[8];

	if (kd_dump_read_physical(d, pa, b, 8, NULL) != KD_OK)
		return KD_EFAULT;
	*v = kd_get_le64(b);
	return KD_OK;
}

static int phys_u32(struct kd_dump *d, uint64_t pa, uint32_t *v)
{
	uint8_t b[4];

	if (kd_dump_read_physical(d, pa, b, 4, NULL) != KD_OK)
		return KD_EFAULT;
	*v = kd_get_le32(b);
	return KD_OK;
}

/* ---- translation ---- */

static int tr_amd64(struct kd_dump *d, uint64_t dtb, uint64_t va, uint64_t *pa,
		    int depth);

/* A software PTE at the last level: transition or prototype. */
static int tr_soft_amd64(struct kd_dump *d, uint64_t dtb, uint64_t pte,
			 uint64_t va, uint64_t *pa, int depth)
{
	if ((pte & 0xC01ull) == 0x800ull) {
		*pa = (pte & KD_PTE64_TRANSITION_PFN_MASK) | (va & 0xfffull);
		return KD_OK;
	}
	if ((pte & 0x8000000000070401ull) == 0x8000000000000400ull &&
	    depth == 0) {
		uint64_t pva = (pte >> 16) | 0xFFFF000000000000ull;
		uint64_t ppa, proto;

		if (tr_amd64(d, dtb, pva, &ppa, depth + 1) != KD_OK ||
		    phys_u64(d, ppa, &proto) != KD_OK)
			return KD_EFAULT;
		if (proto & KD_PTE_VALID) {
			*pa = (proto & KD_PTE64_PFN_MASK) | (va & 0xfffull);
			return KD_OK;
		}
		if ((proto & 0xC01ull) == 0x800ull) {
			*pa = (proto & KD_PTE64_TRANSITION_PFN_MASK) |
			      (va & 0xfffull);
			return KD_OK;
		}
	}
	return KD_EFAULT;
}

static int tr_amd64(struct kd_dump *d, uint64_t dtb, uint64_t va, uint64_t *pa,
		    int depth)
{
	uint64_t table = dtb & KD_PTE64_PFN_MASK;
	int level;

	for (level = 0; level < 4; level++) {
		unsigned shift = 39u - 9u * (unsigned)level;
		uint64_t e;

		if (phys_u64(d, table + 8u * ((va >> shift) & 0x1ff), &e))
			return KD_EFAULT;
		if (!(e & KD_PTE_VALID)) {
			if (level == 3)
				return tr_soft_amd64(d, dtb, e, va, pa, depth);
			return KD_EFAULT;
		}
		if ((level == 1 || level == 2) && (e & KD_PTE_LARGE)) {
			uint64_t m = (1ull << shift) - 1;

			*pa = (e & KD_PTE64_PFN_MASK & ~m) | (va & m);
			return KD_OK;
		}
		table = e & KD_PTE64_PFN_MASK;
	}
	*pa = table | (va & 0xfffull);
	return KD_OK;
}

static int tr_x86(struct kd_dump *d, uint64_t dtb, uint64_t va, uint64_t *pa)
{
	uint32_t pde, pte;

	va &= 0xffffffffull;
	if (phys_u32(d, (dtb & 0xfffff000ull) + 4u * (va >> 22), &pde))
		return KD_EFAULT;
	if (!(pde & 1u))
		return KD_EFAULT;
	if (pde & 0x80u) {
		*pa = (pde & 0xffc00000u) | (va & 0x3fffffu);
		return KD_OK;
	}
	if (phys_u32(d, (pde & 0xfffff000u) + 4u * ((va >> 12) & 0x3ff), &pte))
		return KD_EFAULT;
	if ((pte & 1u) || (pte & 0xC01u) == 0x800u) {
		*pa = (pte & 0xfffff000u) | (va & 0xfffu);
		return KD_OK;
	}
	return KD_EFAULT;
}

static int tr_pae(struct kd_dump *d, uint64_t dtb, uint64_t va, uint64_t *pa)
{
	uint64_t e;

	va &= 0xffffffffull;
	if (phys_u64(d, (dtb & 0xffffffe0ull) + 8u * (va >> 30), &e) ||
	    !(e & 1u))
		return KD_EFAULT;
	if (phys_u64(d, (e & KD_PTE_PAE_PFN_MASK) + 8u * ((va >> 21) & 0x1ff),
		     &e) ||
	    !(e & 1u))
		return KD_EFAULT;
	if (e & KD_PTE_LARGE) {
		*pa = (e & KD_PTE_PAE_PFN_MASK & ~0x1fffffull) |
		      (va & 0x1fffffull);
		return KD_OK;
	}
	if (phys_u64(d, (e & KD_PTE_PAE_PFN_MASK) + 8u * ((va >> 12) & 0x1ff),
		     &e))
		return KD_EFAULT;
	if ((e & 1u) || (e & 0xC01u) == 0x800u) {
		*pa = (e & KD_PTE_PAE_PFN_MASK) | (va & 0xfffull);
		return KD_OK;
	}
	return KD_EFAULT;
}

/* ARM64, 4 KiB granule, 48-bit VA, 4 levels from the dump's TTBR. */
static int tr_arm64(struct kd_dump *d, uint64_t dtb, uint64_t va, uint64_t *pa)
{
	uint64_t table = dtb & KD_PTE64_PFN_MASK;
	int level;

	for (level = 0; level < 4; level++) {
		unsigned shift = 39u - 9u * (unsigned)level;
		uint64_t e;

		if (phys_u64(d, table + 8u * ((va >> shift) & 0x1ff), &e))
			return KD_EFAULT;
		if (!(e & 1u))
			return KD_EFAULT;
		if (level == 3) {
			if ((e & 3u) != 3u)
				return KD_EFAULT;
			*pa = (e & KD_PTE64_PFN_MASK) | (va & 0xfffull);
			return KD_OK;
		}
		if (!(e & 2u)) {
			uint64_t m = (1ull << shift) - 1;

			if (level == 0)
				return KD_EFAULT;
			*pa = (e & KD_PTE64_PFN_MASK & ~m) | (va & m);
			return KD_OK;
		}
		table = e & KD_PTE64_PFN_MASK;
	}
	return KD_EFAULT;
}

int kd_dump_translate(struct kd_dump *d, uint64_t dtb, uint64_t va,
		      uint64_t *pa_out)
{
	if (!d || d->index == KD_IDX_NONE)
		return KD_EFAULT;
	if (dtb == 0)
		dtb = d->info.dtb;
	switch (d->info.machine) {
	case KD_DUMP_MACHINE_AMD64:
		return tr_amd64(d, dtb, va, pa_out, 0);
	case KD_DUMP_MACHINE_ARM64:
		return tr_arm64(d, dtb, va, pa_out);
	case KD_DUMP_MACHINE_I386:
		return d->info.pae ? tr_pae(d, dtb, va, pa_out) :
				     tr_x86(d, dtb, va, pa_out);
	default:
		return d->info.ptr64 ? tr_amd64(d, dtb, va, pa_out, 0) :
				       KD_EFAULT;
	}
}

/* ---- triage blocks ---- */

static int vb_cmp(const void *a, const void *b)
{
	const struct kd_dump_vblock *x = a, *y = b;

	return x->va < y->va ? -1 : x->va > y->va;
}

static void vb_add(struct kd_dump *d, size_t cap, uint64_t va, uint64_t off,
		   uint64_t size)
{
	if (size == 0 || d->nvb >= cap)
		return;
	if (off > d->size || size > d->size - off) {
		kd_dump_warnf(d,
			      "triage block at %#llx (%#llx bytes) runs "
			      "past the end of the file",
			      (unsigned long long)off,
			      (unsigned long long)size);
		if (off >= d->size)
			return;
		size = d->size - off;
	}
	if (va + size < va)
		size = 0 - va;
	d->vb[d->nvb].va = va;
	d->vb[d->nvb].file_off = off;
	d->vb[d->nvb].size = size;
	d->nvb++;
}

static const struct kd_dump_vblock *vb_find(const struct kd_dump *d,
					    uint64_t va)
{
	size_t lo = 0, hi = d->nvb;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (d->vb[mid].va <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	lo--;
	if (va - d->vb[lo].va >= d->vb[lo].size)
		return NULL;
	return &d->vb[lo];
}

static void vb_finish(struct kd_dump *d)
{
	size_t i, n = 0;

	if (d->nvb > 1)
		qsort(d->vb, d->nvb, sizeof(*d->vb), vb_cmp);
	for (i = 0; i < d->nvb; i++) {
		if (n > 0) {
			struct kd_dump_vblock *p = &d->vb[n - 1];
			uint64_t end = p->va + p->size;

			if (d->vb[i].va < end) {
				/* Overlap: keep the earlier block's bytes. */
				uint64_t cut = end - d->vb[i].va;

				if (cut >= d->vb[i].size)
					continue;
				d->vb[i].va += cut;
				d->vb[i].file_off += cut;
				d->vb[i].size -= cut;
			}
		}
		d->vb[n++] = d->vb[i];
	}
	d->nvb = n;
}

static uint64_t vb_u64(const struct kd_dump *d, uint64_t va, bool *ok)
{
	const struct kd_dump_vblock *b = vb_find(d, va);
	uint64_t in;

	*ok = false;
	if (!b)
		return 0;
	in = va - b->va;
	if (b->size - in < 8)
		return 0;
	*ok = true;
	return kd_get_le64(d->map + b->file_off + in);
}

static uint16_t kdbg16(const struct kd_dump *d, uint32_t off)
{
	if (off + 2 > d->kdbg_len)
		return 0;
	return kd_get_le16(d->kdbg + off);
}

static uint64_t kdbg64(const struct kd_dump *d, uint32_t off)
{
	if (off + 8 > d->kdbg_len)
		return 0;
	if (!d->info.ptr64)
		return kd_get_le32(d->kdbg + off);
	return kd_get_le64(d->kdbg + off);
}

static int dump_parse_triage(struct kd_dump *d, char *err, size_t errlen)
{
	bool p64 = d->info.ptr64;
	uint64_t t = d->hdr_size;
	const uint8_t *th = dump_at(
		d, t, p64 ? KD_DMP_TRI64_SIZE : KD_DMP_TRI32_SIZE);
	uint32_t dbg_off, dbg_size, blk_off, blk_count, valid;
	uint32_t cs_off, cs_size, prcb, proc, thr;
	uint64_t tos, cap, i;
	uint32_t offs[6];

	(void)err;
	(void)errlen;
	if (!th) {
		d->info.truncated = true;
		kd_dump_warnf(d, "the file is truncated: no triage header");
		return KD_OK;
	}
	valid = kd_get_le32(th + KD_DMP_TRI_VALID_OFFSET);
	if (!dump_at(d, valid, 4) ||
	    kd_get_le32(d->map + valid) != KD_DMP_SIG_TRGD)
		kd_dump_warnf(d,
			      "the triage dump is not marked valid (no "
			      "TRGD at %#x)",
			      valid);
	dbg_off = kd_get_le32(th + (p64 ? KD_DMP_TRI64_DEBUGGER_DATA_OFFSET :
					  KD_DMP_TRI32_DEBUGGER_DATA_OFFSET));
	dbg_size = kd_get_le32(th + (p64 ? KD_DMP_TRI64_DEBUGGER_DATA_SIZE :
					   KD_DMP_TRI32_DEBUGGER_DATA_SIZE));
	blk_off = kd_get_le32(th + (p64 ? KD_DMP_TRI64_DATA_BLOCKS_OFFSET :
					  KD_DMP_TRI32_DATA_BLOCKS_OFFSET));
	blk_count = kd_get_le32(th + (p64 ? KD_DMP_TRI64_DATA_BLOCKS_COUNT :
					    KD_DMP_TRI32_DATA_BLOCKS_COUNT));
	cs_off = kd_get_le32(th + KD_DMP_TRI_CALL_STACK_OFFSET);
	cs_size = kd_get_le32(th + KD_DMP_TRI_SIZE_OF_CALL_STACK);
	tos = p64 ? kd_get_le64(th + KD_DMP_TRI_TOP_OF_STACK) :
		    kd_get_le32(th + KD_DMP_TRI_TOP_OF_STACK);
	prcb = kd_get_le32(th + KD_DMP_TRI_PRCB_OFFSET);
	proc = kd_get_le32(th + KD_DMP_TRI_PROCESS_OFFSET);
	thr = kd_get_le32(th + KD_DMP_TRI_THREAD_OFFSET);
	d->tri_drv_off = kd_get_le32(th + KD_DMP_TRI_DRIVER_LIST_OFFSET);
	d->tri_drv_count = kd_get_le32(th + KD_DMP_TRI_DRIVER_COUNT);
	if (d->tri_drv_count > d->size / KD_DMP_TRI64_DRIVER_ENTRY_SIZE) {
		kd_dump_warnf(d, "DriverCount %u does not fit in the file",
			      d->tri_drv_count);
		d->tri_drv_count = 0;
	}
	if (blk_count > d->size / KD_DMP_TRI_BLOCK_SIZE ||
	    blk_count > KD_DUMP_MAX_BLOCKS) {
		kd_dump_warnf(d,
			      "DataBlocksCount %u does not fit in the "
			      "file",
			      blk_count);
		blk_count = 0;
	}
	cap = (uint64_t)blk_count + 8;
	d->vb = kd_calloc((size_t)cap, sizeof(*d->vb));
	if (!d->vb)
		return KD_ENOMEM;
	/* The debugger data copy (stored decoded). */
	if (dbg_size > KD_KDBG_MAX_SIZE)
		dbg_size = KD_KDBG_MAX_SIZE;
	if (dbg_off && dump_at(d, dbg_off, dbg_size)) {
		memcpy(d->kdbg, d->map + dbg_off, dbg_size);
		d->kdbg_len = dbg_size;
		if (d->info.kdbg)
			vb_add(d, (size_t)cap, d->info.kdbg, dbg_off, dbg_size);
	}
	if (cs_off && tos)
		vb_add(d, (size_t)cap, tos, cs_off, cs_size);
	if (blk_off) {
		for (i = 0; i < blk_count; i++) {
			const uint8_t *b = dump_at(
				d, blk_off + i * KD_DMP_TRI_BLOCK_SIZE,
				KD_DMP_TRI_BLOCK_SIZE);

			if (!b) {
				kd_dump_warnf(d,
					      "the data block table ends "
					      "at block %llu of %u",
					      (unsigned long long)i, blk_count);
				break;
			}
			vb_add(d, (size_t)cap,
			       kd_get_le64(b + KD_DMP_TRI_BLOCK_VA),
			       kd_get_le32(b + KD_DMP_TRI_BLOCK_OFFSET),
			       kd_get_le32(b + KD_DMP_TRI_BLOCK_LEN));
		}
	}
	if (p64) {
		uint64_t dpa = kd_get_le64(th + KD_DMP_TRI64_DATA_PAGE_ADDRESS);

		if (dpa)
			vb_add(d, (size_t)cap, dpa,
			       kd_get_le32(th + KD_DMP_TRI64_DATA_PAGE_OFFSET),
			       kd_get_le32(th + KD_DMP_TRI64_DATA_PAGE_SIZE));
	}
	vb_finish(d);

	/*
	 * The KPRCB, thread and process copies: their VAs come from the
	 * debugger data (KiProcessorBlock[Number], CurrentThread, ApcState
	 * Process); each copy ends where the next stored item starts.
	 */
	offs[0] = prcb;
	offs[1] = proc;
	offs[2] = thr;
	offs[3] = cs_off;
	offs[4] = (uint32_t)d->tri_drv_off;
	offs[5] = dbg_off;
	{
		uint64_t sizes[3] = { 0, 0, 0 };
		unsigned a, b;

		for (a = 0; a < 3; a++) {
			uint64_t best = d->size;

			if (!offs[a])
				continue;
			for (b = 0; b < 6; b++) {
				if (offs[b] > offs[a] && offs[b] < best)
					best = offs[b];
			}
			sizes[a] = offs[a] < best ? best - offs[a] : 0;
		}
		if (sizes[0] > 0x10000)
			sizes[0] = 0x10000;
		if (sizes[1] > 0x4000)
			sizes[1] = 0x4000;
		if (sizes[2] > 0x4000)
			sizes[2] = 0x4000;
		d->tri_prcb_off = prcb;
		d->tri_prcb_size = sizes[0];
		if (prcb && d->kdbg_len >= KD_KDBG_MIN_SIZE &&
		    dump_at(d, prcb, sizes[0])) {
			uint16_t onum = kdbg16(d, KD_KDBG_OFFSET_PRCB_NUMBER);
			uint16_t othr = kdbg16(
				d, KD_KDBG_OFFSET_PRCB_CURRENT_THREAD);
			uint16_t oproc = kdbg16(d, 0x2A0);
			uint64_t kpb = kdbg64(d, KD_KDBG_KI_PROCESSOR_BLOCK);
			uint64_t thva = 0, prva = 0, prcbva = 0;
			bool ok = false;
			size_t extra = 0;
			struct kd_dump_vblock add[3];

			if (onum + 1u < sizes[0]) {
				uint8_t num = d->map[prcb + onum];

				prcbva = vb_u64(d, kpb + 8u * num, &ok);
				if (ok)
					d->crash_cpu = num;
				if (!ok)
					prcbva = 0;
			}
			if (othr + 8u <= sizes[0])
				thva = kd_get_le64(d->map + prcb + othr);
			if (thr && oproc && oproc + 8u <= sizes[2])
				prva = kd_get_le64(d->map + thr + oproc);
			if (prcbva) {
				add[extra].va = prcbva;
				add[extra].file_off = prcb;
				add[extra++].size = sizes[0];
			}
			if (thva && thr) {
				add[extra].va = thva;
				add[extra].file_off = thr;
				add[extra++].size = sizes[2];
			}
			if (prva && proc) {
				add[extra].va = prva;
				add[extra].file_off = proc;
				add[extra++].size = sizes[1];
			}
			if (extra) {
				struct kd_dump_vblock *nv = kd_realloc(
					d->vb,
					(d->nvb + extra) * sizeof(*d->vb));

				if (!nv)
					return KD_ENOMEM;
				d->vb = nv;
				memcpy(d->vb + d->nvb, add,
				       extra * sizeof(*add));
				d->nvb += extra;
				vb_finish(d);
			}
		}
	}
	return KD_OK;
}

/* ---- virtual reads ---- */

int kd_dump_read_virtual(struct kd_dump *d, uint64_t va, void *buf, size_t len,
			 size_t *done)
{
	uint8_t *out = buf;
	size_t got = 0;

	if (d->info.type == KD_DUMP_TRIAGE) {
		while (got < len) {
			const struct kd_dump_vblock *b = vb_find(d, va + got);
			uint64_t in, n;

			if (!b)
				break;
			in = va + got - b->va;
			n = b->size - in;
			if (n > len - got)
				n = len - got;
			memcpy(out + got, d->map + b->file_off + in, (size_t)n);
			got += (size_t)n;
		}
	} else {
		while (got < len) {
			uint64_t a = va + got, pa;
			size_t n = KD_DMP_PAGE_SIZE - (size_t)(a & 0xfff);
			size_t part = 0;

			if (!d->info.ptr64)
				a &= 0xffffffffull;
			if (kd_dump_translate(d, 0, a, &pa) != KD_OK)
				break;
			if (n > len - got)
				n = len - got;
			(void)kd_dump_read_physical(d, pa, out + got, n, &part);
			got += part;
			if (part != n)
				break;
		}
	}
	if (done)
		*done = got;
	return got == len ? KD_OK : KD_EFAULT;
}

static int vread_u64(struct kd_dump *d, uint64_t va, uint64_t *v)
{
	uint8_t b[8];

	if (kd_dump_read_virtual(d, va, b, d->info.ptr64 ? 8 : 4, NULL))
		return KD_EFAULT;
	*v = d->info.ptr64 ? kd_get_le64(b) : kd_get_le32(b);
	return KD_OK;
}

/* ---- the encoded debugger data block (Windows 8+ x64, §3.4) ---- */

void kd_dump_kdbg_decode(uint8_t *block, size_t len, uint64_t never,
			 uint64_t always, uint64_t encoded_va)
{
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t w = kd_get_le64(block + i);
		unsigned r = (unsigned)(never & 0xff) % 64u;

		w ^= never;
		if (r)
			w = (w << r) | (w >> (64u - r));
		w ^= encoded_va;
		w = __builtin_bswap64(w);
		w ^= always;
		kd_put_le64(block + i, w);
	}
}

/* Target of a rip-relative operand: disp32 at @p p, instruction end. */
static uint64_t riprel(const uint8_t *p, uint64_t end_va)
{
	return end_va + (uint64_t)(int64_t)(int32_t)kd_get_le32(p);
}

/*
 * Find N, A and E without symbols: in the kernel image, the code that
 * copies the block (KdCopyDataBlock) tests the flag byte with
 * `cmp byte [rip+E], 0`, loads the block address with `lea r, [rip+KDBG]`
 * and reads KiWaitNever / KiWaitAlways with `mov r, [rip+x]`.  Scan for
 * a lea of the header's KDBG address with such a cmp shortly before it.
 * Returns KD_OK (keys found), KD_ENOTFOUND or KD_ENOMEM (the image copy).
 */
static int dump_find_kdbg_keys(struct kd_dump *d, uint64_t kbase,
			       uint64_t *never, uint64_t *always, uint64_t *enc)
{
	uint8_t *img;
	uint8_t mz[0x400];
	uint32_t lfanew, isize, i;
	bool found = false;

	if (kd_dump_read_virtual(d, kbase, mz, sizeof(mz), NULL) ||
	    mz[0] != 'M' || mz[1] != 'Z')
		return KD_ENOTFOUND;
	lfanew = kd_get_le32(mz + 0x3c);
	if (lfanew > sizeof(mz) - 0x58)
		return KD_ENOTFOUND;
	isize = kd_get_le32(mz + lfanew + 0x50);
	if (isize > 0x4000000u)
		isize = 0x4000000u;
	img = kd_malloc(isize);
	if (!img)
		return KD_ENOMEM;
	/* Unreadable pages stay zero. */
	for (i = 0; i < isize; i += KD_DMP_PAGE_SIZE) {
		uint32_t n = isize - i < KD_DMP_PAGE_SIZE ? isize - i :
							    KD_DMP_PAGE_SIZE;

		if (kd_dump_read_virtual(d, kbase + i, img + i, n, NULL))
			memset(img + i, 0, n);
	}
	for (i = 0; i + 7 <= isize && !found; i++) {
		uint32_t j, k;
		uint64_t e, movs[2];
		unsigned nm = 0;

		/* lea r64, [rip+disp32]: REX.W 8D modrm(00 reg 101) */
		if ((img[i] & 0xFB) != 0x48 || img[i + 1] != 0x8D ||
		    (img[i + 2] & 0xC7) != 0x05)
			continue;
		if (riprel(img + i + 3, kbase + i + 7) != d->info.kdbg)
			continue;
		for (j = i > 0x40 ? i - 0x40 : 0; j < i; j++) {
			if (img[j] != 0x80 || img[j + 1] != 0x3D ||
			    img[j + 6] != 0)
				continue;
			e = riprel(img + j + 2, kbase + j + 7);
			for (k = j + 7;
			     k + 7 <= isize && k < j + 0x100 && nm < 2; k++) {
				if ((img[k] & 0xFB) == 0x48 &&
				    img[k + 1] == 0x8B &&
				    (img[k + 2] & 0xC7) == 0x05) {
					movs[nm++] = riprel(img + k + 3,
							    kbase + k + 7);
					k += 6;
				}
			}
			if (nm == 2 && vread_u64(d, movs[0], never) == KD_OK &&
			    vread_u64(d, movs[1], always) == KD_OK) {
				*enc = e;
				found = true;
			}
			break;
		}
	}
	kd_free(img);
	return found ? KD_OK : KD_ENOTFOUND;
}

/* KD_OK, also when the block is absent or unreadable (warned);
 * KD_ENOMEM when it could not be decoded for want of memory. */
static int dump_load_kdbg(struct kd_dump *d)
{
	uint8_t buf[KD_KDBG_MAX_SIZE];
	size_t got = 0;
	uint32_t size;

	if (d->info.type == KD_DUMP_TRIAGE || !d->info.kdbg)
		return KD_OK;
	(void)kd_dump_read_virtual(d, d->info.kdbg, buf, sizeof(buf), &got);
	if (got < KD_KDBG_HEADER_SIZE) {
		kd_dump_warnf(d,
			      "the debugger data block at %#llx is not in "
			      "the dump",
			      (unsigned long long)d->info.kdbg);
		return KD_OK;
	}
	if (kd_get_le32(buf + KD_KDBG_OWNER_TAG) != KD_KDBG_OWNER_TAG_VALUE &&
	    d->info.machine == KD_DUMP_MACHINE_AMD64) {
		uint64_t n = 0, a = 0, e = 0, head = 0, kbase = 0;
		uint8_t tmp[KD_KDBG_HEADER_SIZE];
		int rc = KD_ENOTFOUND;

		if (vread_u64(d, d->info.ps_loaded_module_list, &head) ==
			    KD_OK &&
		    vread_u64(d, head + KD_LDR64_DLL_BASE, &kbase) == KD_OK)
			rc = dump_find_kdbg_keys(d, kbase, &n, &a, &e);
		if (rc == KD_ENOMEM)
			return rc;
		if (rc == KD_OK) {
			memcpy(tmp, buf, sizeof(tmp));
			kd_dump_kdbg_decode(tmp, sizeof(tmp), n, a, e);
			if (kd_get_le32(tmp + KD_KDBG_OWNER_TAG) ==
			    KD_KDBG_OWNER_TAG_VALUE) {
				kd_dump_kdbg_decode(buf, got & ~(size_t)7, n, a,
						    e);
				d->info.kdbg_encoded = true;
			}
		}
	}
	if (kd_get_le32(buf + KD_KDBG_OWNER_TAG) != KD_KDBG_OWNER_TAG_VALUE) {
		kd_dump_warnf(d,
			      "the debugger data block at %#llx has no "
			      "KDBG tag (encoded, keys not found)",
			      (unsigned long long)d->info.kdbg);
		return KD_OK;
	}
	size = kd_get_le32(buf + KD_KDBG_SIZE);
	if (size < KD_KDBG_MIN_SIZE || size > KD_KDBG_MAX_SIZE) {
		kd_dump_warnf(d,
			      "the debugger data block size %#x is out of "
			      "range",
			      size);
		if (size > KD_KDBG_MAX_SIZE)
			size = KD_KDBG_MAX_SIZE;
	}
	if (size > got)
		size = (uint32_t)got;
	memcpy(d->kdbg, buf, size);
	d->kdbg_len = size;
	return KD_OK;
}

size_t kd_dump_kdbg_block(const struct kd_dump *d, const uint8_t **block)
{
	*block = d->kdbg;
	return d->kdbg_len;
}

/* ---- contexts ---- */

static uint32_t dump_ctx_size(const struct kd_dump *d)
{
	switch (d->info.machine) {
	case KD_DUMP_MACHINE_AMD64:
		return KD_CTX_AMD64_SIZE;
	case KD_DUMP_MACHINE_ARM64:
		return KD_CTX_ARM64_SIZE;
	case KD_DUMP_MACHINE_I386:
		return KD_CTX_X86_SIZE;
	default:
		return d->info.ptr64 ? KD_CTX_AMD64_SIZE : KD_CTX_X86_SIZE;
	}
}

/* CONTEXT of @p cpu from its KPRCB: a pointer (OffsetPrcbContext) or the
 * embedded ProcessorState context (OffsetPrcbProcStateContext). */
static int dump_prcb_context(struct kd_dump *d, unsigned cpu, uint8_t *out,
			     uint32_t size)
{
	uint64_t kpb = kdbg64(d, KD_KDBG_KI_PROCESSOR_BLOCK);
	uint64_t prcb = 0, cva = 0;
	uint16_t optr = kdbg16(d, KD_KDBG_OFFSET_PRCB_CONTEXT);
	uint16_t oemb = kdbg16(d, KD_KDBG_OFFSET_PRCB_PROC_STATE_CONTEXT);
	unsigned psz = d->info.ptr64 ? 8u : 4u;

	if (!kpb || vread_u64(d, kpb + (uint64_t)psz * cpu, &prcb) || !prcb)
		return KD_ENOTFOUND;
	if (optr && vread_u64(d, prcb + optr, &cva) == KD_OK && cva &&
	    kd_dump_read_virtual(d, cva, out, size, NULL) == KD_OK)
		return KD_OK;
	if (oemb &&
	    kd_dump_read_virtual(d, prcb + oemb, out, size, NULL) == KD_OK)
		return KD_OK;
	return KD_ENOTFOUND;
}

static void dump_find_crash_cpu(struct kd_dump *d)
{
	uint8_t c[KD_CTX_AMD64_SIZE];
	uint32_t size = dump_ctx_size(d);
	unsigned i;

	if (d->crash_cpu >= 0)
		return;
	d->crash_cpu = 0;
	if (d->info.machine != KD_DUMP_MACHINE_AMD64 || !d->ctx_off)
		return;
	for (i = 0; i < d->info.ncpus && i < 1024; i++) {
		if (dump_prcb_context(d, i, c, size) != KD_OK)
			continue;
		if (kd_get_le64(c + KD_CTX_AMD64_RSP) ==
			    kd_get_le64(d->map + d->ctx_off +
					KD_CTX_AMD64_RSP) &&
		    kd_get_le64(c + KD_CTX_AMD64_RIP) ==
			    kd_get_le64(d->map + d->ctx_off +
					KD_CTX_AMD64_RIP)) {
			d->crash_cpu = (int)i;
			return;
		}
	}
}

unsigned int kd_dump_crash_cpu(struct kd_dump *d)
{
	dump_find_crash_cpu(d);
	return (unsigned)d->crash_cpu;
}

int kd_dump_context(struct kd_dump *d, unsigned int cpu, void *buf, size_t cap,
		    size_t *len_out)
{
	uint32_t size = dump_ctx_size(d);
	int rc;

	if (cap < size)
		return KD_EBUFS;
	if (cpu >= d->info.ncpus)
		return KD_ENOTFOUND;
	dump_find_crash_cpu(d);
	if ((int)cpu == d->crash_cpu) {
		if (!d->ctx_off || !dump_at(d, d->ctx_off, size))
			return KD_ENOTFOUND;
		memcpy(buf, d->map + d->ctx_off, size);
		*len_out = size;
		return KD_OK;
	}
	rc = dump_prcb_context(d, cpu, buf, size);
	if (rc == KD_OK)
		*len_out = size;
	return rc;
}

/* ---- triage driver list ---- */

int kd_dump_triage_driver(const struct kd_dump *d, unsigned int i,
			  uint64_t *base, uint32_t *size, char *name,
			  size_t cap)
{
	const uint8_t *e, *ns;
	uint32_t noff, nchars, k;

	if (d->info.type != KD_DUMP_TRIAGE || !d->info.ptr64 ||
	    i >= d->tri_drv_count || cap == 0)
		return KD_ENOTFOUND;
	e = dump_at(d,
		    d->tri_drv_off +
			    (uint64_t)i * KD_DMP_TRI64_DRIVER_ENTRY_SIZE,
		    KD_DMP_TRI64_DRIVER_ENTRY_SIZE);
	if (!e)
		return KD_ENOTFOUND;
	*base = kd_get_le64(e + KD_DMP_TRI64_DRIVER_LDR + KD_LDR64_DLL_BASE);
	*size = kd_get_le32(e + KD_DMP_TRI64_DRIVER_LDR +
			    KD_LDR64_SIZE_OF_IMAGE);
	name[0] = '\0';
	noff = kd_get_le32(e + KD_DMP_TRI64_DRIVER_NAME_OFFSET);
	ns = dump_at(d, noff, 4);
	if (!ns)
		return KD_OK;
	nchars = kd_get_le32(ns);
	if (nchars > 1024)
		nchars = 1024;
	if (!dump_at(d, noff + 4ull, 2ull * nchars))
		return KD_OK;
	for (k = 0; k < nchars && k + 1 < cap; k++) {
		uint16_t ch = kd_get_le16(ns + 4 + 2 * k);

		if (ch == 0)
			break;
		name[k] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
	}
	name[k] = '\0';
	return KD_OK;
}

int kd_dump_triage_driver_stamp(const struct kd_dump *d, unsigned int i,
				uint32_t *timestamp, uint32_t *checksum)
{
	const uint8_t *e;

	if (d->info.type != KD_DUMP_TRIAGE || !d->info.ptr64 ||
	    i >= d->tri_drv_count)
		return KD_ENOTFOUND;
	e = dump_at(d,
		    d->tri_drv_off +
			    (uint64_t)i * KD_DMP_TRI64_DRIVER_ENTRY_SIZE,
		    KD_DMP_TRI64_DRIVER_ENTRY_SIZE);
	if (!e)
		return KD_ENOTFOUND;
	*timestamp = kd_get_le32(e + KD_DMP_TRI64_DRIVER_LDR +
				 KD_LDR64_TRIAGE_TIMEDATESTAMP);
	*checksum = kd_get_le32(e + KD_DMP_TRI64_DRIVER_LDR +
				KD_LDR64_TRIAGE_CHECKSUM);
	return KD_OK;
}

unsigned int kd_dump_triage_driver_count(const struct kd_dump *d)
{
	return d->info.type == KD_DUMP_TRIAGE ? d->tri_drv_count : 0;
}

int kd_dump_exception(const struct kd_dump *d, uint32_t *code, uint64_t *addr)
{
	if (d->info.ptr64) {
		*code = h32(d, KD_DMP64_EXCEPTION + KD_DMP_EXC64_CODE);
		*addr = h64(d, KD_DMP64_EXCEPTION + KD_DMP_EXC64_ADDRESS);
	} else {
		*code = h32(d, KD_DMP32_EXCEPTION + KD_DMP_EXC32_CODE);
		*addr = h32(d, KD_DMP32_EXCEPTION + KD_DMP_EXC32_ADDRESS);
	}
	return *code == KD_DMP_SIG_PAGE ? KD_ENOTFOUND : KD_OK;
}

/* ---- open / close ---- */

static int dump_parse_header(struct kd_dump *d, char *err, size_t errlen)
{
	struct kd_dump_info *in = &d->info;
	uint32_t sig, valid, attr;
	const char *c;
	size_t i;

	if (d->size < 8) {
		set_err(err, errlen,
			"the file is too small for a dump "
			"header");
		return KD_EPROTO;
	}
	sig = kd_get_le32(d->map);
	valid = kd_get_le32(d->map + 4);
	if (sig == KD_DMP_SIG_MDMP) {
		set_err(err, errlen,
			"a user-mode minidump (MDMP), not a "
			"kernel dump");
		return KD_ENOTSUP;
	}
	if (sig != KD_DMP_SIG_PAGE ||
	    (valid != KD_DMP_VALID_DU64 && valid != KD_DMP_VALID_DUMP)) {
		set_err(err, errlen,
			"not a kernel dump (no PAGEDU64 or "
			"PAGEDUMP signature)");
		return KD_EPROTO;
	}
	in->ptr64 = valid == KD_DMP_VALID_DU64;
	d->hdr_size = in->ptr64 ? KD_DMP64_HEADER_SIZE : KD_DMP32_HEADER_SIZE;
	memcpy(d->hdr, d->map, d->size < d->hdr_size ? d->size : d->hdr_size);
	if (d->size < d->hdr_size) {
		in->truncated = true;
		kd_dump_warnf(d,
			      "the file is truncated: it ends inside the "
			      "%#x-byte header (%#llx bytes)",
			      d->hdr_size, (unsigned long long)d->size);
	}
	in->file_size = d->size;
	if (in->ptr64) {
		in->major = h32(d, KD_DMP64_MAJOR_VERSION);
		in->minor = h32(d, KD_DMP64_MINOR_VERSION);
		in->dtb = h64(d, KD_DMP64_DIRECTORY_TABLE_BASE);
		in->pfn_database = h64(d, KD_DMP64_PFN_DATABASE);
		in->ps_loaded_module_list = h64(d,
						KD_DMP64_PS_LOADED_MODULE_LIST);
		in->ps_active_process_head = h64(
			d, KD_DMP64_PS_ACTIVE_PROCESS_HEAD);
		in->machine = h32(d, KD_DMP64_MACHINE_IMAGE_TYPE);
		in->ncpus = h32(d, KD_DMP64_NUMBER_PROCESSORS);
		in->bugcheck_code = h32(d, KD_DMP64_BUGCHECK_CODE);
		for (i = 0; i < 4; i++)
			in->bugcheck_params[i] = h64(
				d, KD_DMP64_BUGCHECK_PARAM1 + 8 * i);
		in->kdbg = h64(d, KD_DMP64_KD_DEBUGGER_DATA_BLOCK);
		in->type = h32(d, KD_DMP64_DUMP_TYPE);
		in->required_size = h64(d, KD_DMP64_REQUIRED_DUMP_SPACE);
		in->system_time = h64(d, KD_DMP64_SYSTEM_TIME);
		in->system_uptime = h64(d, KD_DMP64_SYSTEM_UPTIME);
		c = (const char *)d->hdr + KD_DMP64_COMMENT;
		attr = h32(d, KD_DMP64_ATTRIBUTES);
		d->ctx_off = KD_DMP64_CONTEXT_RECORD;
	} else {
		in->major = h32(d, KD_DMP32_MAJOR_VERSION);
		in->minor = h32(d, KD_DMP32_MINOR_VERSION);
		in->dtb = h32(d, KD_DMP32_DIRECTORY_TABLE_BASE);
		in->pfn_database = h32(d, KD_DMP32_PFN_DATABASE);
		in->ps_loaded_module_list = h32(d,
						KD_DMP32_PS_LOADED_MODULE_LIST);
		in->ps_active_process_head = h32(
			d, KD_DMP32_PS_ACTIVE_PROCESS_HEAD);
		in->machine = h32(d, KD_DMP32_MACHINE_IMAGE_TYPE);
		in->ncpus = h32(d, KD_DMP32_NUMBER_PROCESSORS);
		in->bugcheck_code = h32(d, KD_DMP32_BUGCHECK_CODE);
		for (i = 0; i < 4; i++)
			in->bugcheck_params[i] = h32(
				d, KD_DMP32_BUGCHECK_PARAM1 + 4 * i);
		in->pae = d->hdr[KD_DMP32_PAE_ENABLED] == 1;
		in->kdbg = h32(d, KD_DMP32_KD_DEBUGGER_DATA_BLOCK);
		in->type = h32(d, KD_DMP32_DUMP_TYPE);
		in->required_size = h64(d, KD_DMP32_REQUIRED_DUMP_SPACE);
		in->system_time = h64(d, KD_DMP32_SYSTEM_TIME);
		in->system_uptime = h64(d, KD_DMP32_SYSTEM_UPTIME);
		c = (const char *)d->hdr + KD_DMP32_COMMENT;
		attr = h32(d, KD_DMP32_ATTRIBUTES);
		d->ctx_off = KD_DMP32_CONTEXT_RECORD;
	}
	if (in->system_time == KD_DMP_PAGE_FILL64)
		in->system_time = 0;
	if (in->system_uptime == KD_DMP_PAGE_FILL64)
		in->system_uptime = 0;
	if (in->required_size == KD_DMP_PAGE_FILL64)
		in->required_size = 0;
	for (i = 0; i < sizeof(in->comment) - 1; i++) {
		unsigned char ch = (unsigned char)c[i];

		if (ch == 0 || (i % 4 == 0 && memcmp(c + i, "PAGE", 4) == 0))
			break;
		in->comment[i] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
	}
	in->comment[i] = '\0';
	if (attr != KD_DMP_SIG_PAGE && (attr & KD_DMP_ATTR_ENCRYPTED)) {
		set_err(err, errlen,
			"the dump's page data is encrypted "
			"(EncryptedDumpData attribute)");
		return KD_ENOTSUP;
	}
	if (in->ncpus == 0 || in->ncpus > 4096) {
		kd_dump_warnf(d,
			      "NumberProcessors %u is out of range: using "
			      "1",
			      in->ncpus);
		in->ncpus = 1;
	}
	if (in->machine != KD_DUMP_MACHINE_AMD64 &&
	    in->machine != KD_DUMP_MACHINE_ARM64 &&
	    in->machine != KD_DUMP_MACHINE_I386)
		kd_dump_warnf(d, "unknown machine type %#x", in->machine);
	return KD_OK;
}

int kd_dump_open(struct kd_dump **out, const char *path, char *err,
		 size_t errlen)
{
	struct kd_dump *d;
	struct stat st;
	void *m;
	int rc;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	d = kd_calloc(1, sizeof(*d));
	if (!d) {
		set_err(err, errlen, "out of memory opening the dump");
		return KD_ENOMEM;
	}
	d->crash_cpu = -1;
	d->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (d->fd < 0) {
		int e = errno;

		kd_free(d);
		if (err && errlen)
			snprintf(err, errlen, "cannot open %s: %s", path,
				 strerror(e));
		return e == ENOENT ? KD_ENOTFOUND : KD_ERROR;
	}
	if (fstat(d->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		set_err(err, errlen, "not a regular file");
		rc = KD_ERROR;
		goto fail;
	}
	d->size = (uint64_t)st.st_size;
	if (d->size == 0) {
		set_err(err, errlen, "the file is empty");
		rc = KD_EPROTO;
		goto fail;
	}
	m = mmap(NULL, (size_t)d->size, PROT_READ, MAP_PRIVATE, d->fd, 0);
	if (m == MAP_FAILED) {
		set_err(err, errlen, "cannot map the file");
		rc = KD_ERROR;
		goto fail;
	}
	d->map = m;
	rc = dump_parse_header(d, err, errlen);
	if (rc < 0)
		goto fail;
	switch (d->info.type) {
	case KD_DUMP_FULL:
		rc = dump_index_runs(d);
		break;
	case KD_DUMP_SUMMARY:
		rc = dump_parse_summary(d, err, errlen);
		break;
	case KD_DUMP_HEADER_ONLY:
		break;
	case KD_DUMP_TRIAGE:
		if (d->size < d->hdr_size + 0x10ull)
			d->ctx_off = 0;
		else
			d->ctx_off = kd_get_le32(d->map + d->hdr_size +
						 KD_DMP_TRI_CONTEXT_OFFSET);
		rc = dump_parse_triage(d, err, errlen);
		break;
	case KD_DUMP_BITMAP_FULL:
	case KD_DUMP_BITMAP_KERNEL:
		rc = dump_parse_bitmap(d, err, errlen);
		break;
	case 8:
	case 9:
	case 10:
		set_err(err, errlen,
			"RDMP dump bodies (DumpType 8-10) are "
			"not supported");
		rc = KD_ENOTSUP;
		break;
	default:
		if (err && errlen)
			snprintf(err, errlen, "unknown DumpType %#x",
				 d->info.type);
		rc = KD_EPROTO;
		break;
	}
	if (rc < 0)
		goto fail;
	rc = dump_load_kdbg(d);
	if (rc < 0)
		goto fail;
	*out = d;
	return KD_OK;
fail:
	/* Out of memory is an error, never a dump with less in it. */
	if (rc == KD_ENOMEM)
		set_err(err, errlen, "out of memory while indexing the dump");
	kd_dump_close(d);
	return rc;
}

void kd_dump_close(struct kd_dump *d)
{
	if (!d)
		return;
	if (d->map)
		munmap((void *)(uintptr_t)d->map, (size_t)d->size);
	if (d->fd >= 0)
		close(d->fd);
	kd_free(d->runs);
	kd_free(d->bits);
	kd_free(d->rank);
	kd_free(d->vb);
	kd_free(d);
}

const struct kd_dump_info *kd_dump_info(const struct kd_dump *d)
{
	return &d->info;
}

const char *kd_dump_warning(const struct kd_dump *d, unsigned int i)
{
	return i < d->nwarn ? d->warn[i] : NULL;
}
