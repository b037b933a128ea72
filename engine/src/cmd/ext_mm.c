/* SPDX-License-Identifier: MIT */
/*
 * Memory-manager extensions: !pte and !vtop (x64 four-level tables,
 * walked by arch/paging.c), !pool and !poolused (x64 small pool, fields
 * of nt's types through cmd/ext.h).
 */
#include <stdio.h>
#include <string.h>

#include "arch/paging.h"
#include "cmd/args.h"
#include "cmd/ext.h"
#include "core/engine_int.h"

#define POOL_PAGE 4096u
#define POOL_TRACK_MAX 65536u /* entries of nt!PoolTrackTable read */

/* ------------------------------------------------------------------ */
/* !pte and !vtop                                                      */
/* ------------------------------------------------------------------ */

static int current_dirbase(struct kd_session *s, uint64_t *dirbase)
{
	struct kd_amd64_kspecial *ks = NULL;
	int rc = kd_kspecial(s, s->tgt.cpu, &ks);

	if (rc < 0)
		return kd_fail(s, rc,
			       "Unable to read the special registers "
			       "(CR3)");
	*dirbase = ks->cr3;
	return KD_OK;
}

/* The self-map's reach: 512 GiB of PTEs below the sign extension. */
#define SELFMAP_HIGH 0xFFFF000000000000ull

/*
 * PTE_BASE, the start of the page-table self-map, as WinDbg finds it:
 * nt!MmPteBase when the kernel's symbols name it (randomized since
 * Windows 10 1607), else the PML4 entry at @p dirbase that maps the PML4
 * itself (index 0x1ED before 1607).  KD_ENOTFOUND when the target has
 * neither; another error when a read fails (printed).
 */
static int pte_base(struct kd_session *s, uint64_t dirbase, uint64_t *base)
{
	uint64_t pml4 = dirbase & KD_PTE_PFN_MASK, sym = 0, v = 0;
	uint8_t page[4096];
	size_t done = 0;
	unsigned i;
	int rc;

	if (kd_sym_lookup(s, "nt!MmPteBase", &sym) == KD_OK) {
		rc = kd_read_u64(s, sym, &v);
		if (rc < 0)
			return kd_fail(s, rc,
				       "Unable to read nt!MmPteBase at %llx",
				       (unsigned long long)sym);
		if ((v & ((1ull << 39) - 1)) != 0 ||
		    (v & SELFMAP_HIGH) != SELFMAP_HIGH)
			return kd_fail(s, KD_EPROTO,
				       "nt!MmPteBase holds %llx, not a "
				       "PML4 slot's address",
				       (unsigned long long)v);
		*base = v;
		return KD_OK;
	}
	rc = kd_read_physical(s, pml4, page, sizeof(page), &done);
	if (rc < 0 || done != sizeof(page))
		return kd_fail(s, rc < 0 ? rc : KD_EFAULT,
			       "Unable to read the PML4 page at physical %llx",
			       (unsigned long long)pml4);
	/* Kernel half only: the self-map is a kernel address. */
	for (i = 256; i < 512; i++) {
		uint64_t e = kd_get_le64(page + 8u * i);

		if ((e & KD_PTE_P) && (e & KD_PTE_PFN_MASK) == pml4) {
			*base = SELFMAP_HIGH | ((uint64_t)i << 39);
			return KD_OK;
		}
	}
	return KD_ENOTFOUND;
}

/*
 * Self-map address of @p va's entry at @p level (KD_PT_PXE..KD_PT_PTE).
 * The PTEs of the 256 TiB sit at PTE_BASE; the PDEs are the PTEs of that
 * range, the PPEs the PDEs', the PXEs the PPEs' (facts §5.5):
 * PTE = PTE_BASE + ((va >> 9) & 0x7FFFFFFFF8), each level up adds the
 * slot index 9 bits lower to the base and shifts va 9 more.
 */
static uint64_t selfmap_entry(uint64_t pte_base, unsigned level, uint64_t va)
{
	uint64_t idx = (pte_base >> 39) & 511, base = pte_base;
	unsigned shift = 9, slot = 30, l;

	for (l = KD_PT_PTE; l > level; l--) {
		base |= idx << slot;
		slot -= 9;
		shift += 9;
	}
	return base + ((va >> shift) & ((0xFFFFFFFFFFFFull >> shift) & ~7ull));
}

/*
 * x64 !pte: four 27-character columns (PXE, PPE, PDE, PTE) with each
 * entry's address in the page-table self-map, as Windows maps it.  A
 * target without a self-map (kdsim: its PML4 has no entry mapping
 * itself and its kernel no MmPteBase) says so on a line of its own and
 * shows each entry's PHYSICAL address in the column instead.  A large
 * page ends the walk at its PDE/PPE, and the next column says "LARGE
 * PAGE pfn".
 */
static int cmd_pte(struct kd_session *s, struct kd_cmdctx *c)
{
	static const char *const lvl[KD_PT_LEVELS] = { "PXE", "PPE", "PDE",
						       "PTE" };
	struct kd_pt_walk w;
	char l1[160], l2[160], l3[160];
	size_t n1 = 0, n2 = 0, n3 = 0;
	uint64_t va = 0, dirbase = 0, base = 0;
	struct kd_args a;
	bool selfmap;
	unsigned i;
	int rc;

	kd_args_init(&a, s, c);
	if (kd_args_at_end(&a))
		return kd_args_error(&a);
	rc = kd_args_take_expr(&a, &va);
	if (rc < 0)
		return rc;
	rc = current_dirbase(s, &dirbase);
	if (rc < 0)
		return rc;
	rc = pte_base(s, dirbase, &base);
	if (rc < 0 && rc != KD_ENOTFOUND)
		return rc;
	selfmap = rc == KD_OK;
	rc = kd_pt_walk(s, dirbase, va, &w);
	if (rc == KD_EFAULT && w.nlevels == 0)
		return kd_fail(s, rc,
			       "Unable to read the PXE at physical "
			       "%llx",
			       (unsigned long long)w.entry_pa[0]);
	if (!selfmap)
		kd_out(s, "No page-table self-map (no nt!MmPteBase, no PML4 "
			  "entry maps the PML4): entry addresses are "
			  "physical\n");
	kd_out(s, "%43sVA %016llx\n", "", (unsigned long long)va);
	for (i = 0; i < w.nlevels; i++) {
		uint64_t e = w.entry[i];
		bool last = i + 1 == w.nlevels;
		const char *pad = last ? "" : "    ";

		n1 += (size_t)snprintf(
			l1 + n1, sizeof(l1) - n1, "%s at %016llX%s", lvl[i],
			(unsigned long long)(selfmap ? selfmap_entry(base, i,
								     va) :
						       w.entry_pa[i]),
			pad);
		n2 += (size_t)snprintf(l2 + n2, sizeof(l2) - n2,
				       "contains %016llX%s",
				       (unsigned long long)e, last ? "" : "  ");
		if (e & KD_PTE_P) {
			char fl[12];
			char pfn[24];

			kd_pte_flags(e, last && w.large, fl);
			snprintf(pfn, sizeof(pfn), "%llx",
				 (unsigned long long)((e & KD_PTE_PFN_MASK) >>
						      12));
			n3 += (size_t)snprintf(l3 + n3, sizeof(l3) - n3,
					       "pfn %-10s%s%s", pfn, fl,
					       last && !w.large ? "" : "  ");
		} else {
			n3 += (size_t)snprintf(l3 + n3, sizeof(l3) - n3,
					       "not valid");
		}
	}
	if (w.large)
		n3 += (size_t)snprintf(l3 + n3, sizeof(l3) - n3,
				       "LARGE PAGE pfn %llx",
				       (unsigned long long)(w.pa >> 12));
	kd_out(s, "%.*s\n%.*s\n%.*s\n", (int)n1, l1, (int)n2, l2, (int)n3, l3);
	if (rc == KD_EFAULT)
		return kd_fail(
			s, rc, "Unable to read the %s at physical %llx",
			lvl[w.nlevels < KD_PT_LEVELS ? w.nlevels : 3],
			(unsigned long long)w
				.entry_pa[w.nlevels < KD_PT_LEVELS ? w.nlevels :
								     3]);
	return KD_OK;
}

/* !vtop DirBase VA (DirBase 0: the current processor's CR3). */
static int cmd_vtop(struct kd_session *s, struct kd_cmdctx *c)
{
	static const char *const lvl[KD_PT_LEVELS] = { "PML4E", "PDPE", "PDE",
						       "PTE" };
	struct kd_pt_walk w;
	uint64_t dirbase = 0, va = 0;
	struct kd_args args;
	char a[18], b[18];
	unsigned i;
	int rc;

	kd_args_init(&args, s, c);
	if (kd_args_at_end(&args))
		return kd_args_error(&args);
	rc = kd_args_take_expr(&args, &dirbase);
	if (rc < 0)
		return rc;
	kd_args_skip(&args);
	if (kd_args_at_end(&args))
		return kd_args_error(&args);
	rc = kd_args_take_expr(&args, &va);
	if (rc < 0)
		return rc;
	if (dirbase == 0) {
		rc = current_dirbase(s, &dirbase);
		if (rc < 0)
			return rc;
	}
	rc = kd_pt_walk(s, dirbase, va, &w);
	kd_out(s, "Amd64VtoP: Virt %s, pagedir %s\n", kd_fmt_addr(a, va),
	       kd_fmt_addr(b, dirbase & KD_PTE_PFN_MASK));
	for (i = 0; i < KD_PT_LEVELS && i <= w.nlevels; i++) {
		if (i == w.nlevels && rc != KD_EFAULT)
			break;
		kd_out(s, "Amd64VtoP: %s %s\n", lvl[i],
		       kd_fmt_addr(a, w.entry_pa[i]));
		if (i == w.nlevels)
			break;
	}
	if (rc == KD_OK) {
		kd_out(s, "Amd64VtoP: %sapped phys %s\n",
		       w.large ? "Large page m" : "M", kd_fmt_addr(a, w.pa));
		kd_out(s,
		       "Virtual address %llx translates to physical "
		       "address %llx.\n",
		       (unsigned long long)va, (unsigned long long)w.pa);
		return KD_OK;
	}
	if (rc == KD_ENOTFOUND)
		kd_out(s, "Amd64VtoP: zero %s\n",
		       lvl[w.nlevels ? w.nlevels - 1 : 0]);
	else
		kd_out(s, "Amd64VtoP: unable to read %s at %s\n",
		       lvl[w.nlevels < KD_PT_LEVELS ? w.nlevels : 3],
		       kd_fmt_addr(
			       a,
			       w.entry_pa[w.nlevels < KD_PT_LEVELS ? w.nlevels :
								     3]));
	return kd_fail(s, rc,
		       "Virtual address %llx translation fails, "
		       "error 0x%X.",
		       (unsigned long long)va,
		       rc == KD_ENOTFOUND ? 0xD0000147u : 0xC0000005u);
}

/* ------------------------------------------------------------------ */
/* !pool and !poolused                                                 */
/* ------------------------------------------------------------------ */

/* A pool tag as WinDbg prints it: four characters, NULs as blanks. */
static void tag_text(uint64_t tag, char out[5])
{
	unsigned i;

	for (i = 0; i < 4; i++) {
		unsigned ch = (unsigned)(tag >> (8 * i)) & 0xff;

		out[i] = (char)(ch == 0			  ? ' ' :
				(ch >= 0x20 && ch < 0x7f) ? ch :
							    '.');
	}
	out[4] = '\0';
}

/* @p pat (up to 4 characters, '?' any one, '*' any rest) against @p tag. */
static bool tag_match(const char *pat, size_t len, const char tag[5])
{
	size_t i;

	for (i = 0; i < 4; i++) {
		if (i < len && pat[i] == '*')
			return true;
		if (i >= len ? tag[i] != ' ' :
			       pat[i] != '?' && pat[i] != tag[i])
			return false;
	}
	return true;
}

struct pool_block {
	uint64_t at, size, prev, type, tag;
};

static int pool_block_read(struct kd_session *s, uint64_t at, uint64_t unit,
			   struct pool_block *b)
{
	int rc;

	b->at = at;
	rc = kd_ext__read(s, at, "_POOL_HEADER.BlockSize", &b->size);
	if (rc == KD_OK)
		rc = kd_ext__read(s, at, "_POOL_HEADER.PreviousSize", &b->prev);
	if (rc == KD_OK)
		rc = kd_ext__read(s, at, "_POOL_HEADER.PoolType", &b->type);
	if (rc == KD_OK)
		rc = kd_ext__read(s, at, "_POOL_HEADER.PoolTag", &b->tag);
	b->size *= unit;
	b->prev *= unit;
	return rc;
}

/*
 * !pool Address: the small-pool page holding Address, block by block
 * from its start (_POOL_HEADER.BlockSize in units of the header's size,
 * as on x64); '*' marks the block holding Address.  Large pool
 * (nt!PoolBigPageTable) and the segment heap of recent Windows are not
 * read.
 */
static int cmd_pool(struct kd_session *s, struct kd_cmdctx *c)
{
	uint64_t addr = 0, flags = 0, unit = 0, page, at;
	struct pool_block b, hit = { 0 };
	bool found = false;
	struct kd_args a;
	uint8_t probe;
	int rc;

	if (!kd_is_ptr64(s))
		return kd_fail(s, KD_ENOTSUP, "!pool: x64 targets only");
	kd_args_init(&a, s, c);
	if (kd_args_at_end(&a))
		return kd_args_error(&a);
	rc = kd_args_take_expr(&a, &addr);
	if (rc < 0)
		return rc;
	kd_args_skip(&a);
	if (!kd_args_at_end(&a)) {
		rc = kd_args_take_expr(&a, &flags);
		if (rc < 0)
			return rc;
	}
	rc = kd_args_end(&a);
	if (rc == KD_OK)
		rc = kd_ext__sizeof(s, "_POOL_HEADER", &unit);
	if (rc < 0)
		return rc;
	if (unit == 0 || unit > POOL_PAGE / 2)
		return kd_fail(s, KD_EPROTO, "_POOL_HEADER is %llu bytes",
			       (unsigned long long)unit);
	page = addr & ~(uint64_t)(POOL_PAGE - 1);
	if (kd_read_virtual_all(s, page, &probe, 1) != KD_OK)
		return kd_fail(s, KD_EFAULT,
			       "Address %016llx could not be read. It may be "
			       "a freed, invalid or paged out page",
			       (unsigned long long)addr);
	/* The page's type: the block holding Address, found first. */
	for (at = page; at < page + POOL_PAGE; at += b.size) {
		rc = pool_block_read(s, at, unit, &b);
		if (rc < 0)
			return rc;
		if (b.size == 0 || at + b.size > page + POOL_PAGE)
			break;
		if (addr >= at && addr < at + b.size) {
			hit = b;
			found = true;
		}
	}
	kd_out(s, "Pool page %016llx region is %s\n", (unsigned long long)addr,
	       !found || hit.type == 0	 ? "Unknown" :
	       ((hit.type - 1) & 1) != 0 ? "Paged pool" :
					   "Nonpaged pool");
	for (at = page; at < page + POOL_PAGE; at += b.size) {
		bool mine;
		char tag[5];

		rc = pool_block_read(s, at, unit, &b);
		if (rc < 0)
			return rc;
		if (b.size == 0 || at + b.size > page + POOL_PAGE)
			return kd_fail(s, KD_EPROTO,
				       "Bad allocation size @%016llx, too "
				       "large or zero (%llx)",
				       (unsigned long long)at,
				       (unsigned long long)b.size);
		mine = found && at == hit.at;
		tag_text(b.tag, tag);
		kd_out(s,
		       "%c%016llx size: %4llx previous size: %4llx  %s %c%s\n",
		       mine ? '*' : ' ', (unsigned long long)at,
		       (unsigned long long)b.size, (unsigned long long)b.prev,
		       b.type ? "(Allocated)" : "(Free)     ", mine ? '*' : ' ',
		       tag);
		if (mine && b.type)
			kd_out(s, "\t\tOwning component : Unknown (update "
				  "pooltag.txt)\n");
	}
	return KD_OK;
}

/*
 * !poolused [Flags [Tag]]: the tag table nt keeps (nt!PoolTrackTable,
 * nt!PoolTrackTableSize, _POOL_TRACKER_TABLE), outstanding allocations
 * and bytes per tag, sorted by tag as the table is.  A kernel without
 * pool tracking says which symbol it lacks.
 */
static int cmd_poolused(struct kd_session *s, struct kd_cmdctx *c)
{
	static const char *const f[] = {
		"_POOL_TRACKER_TABLE.Key",
		"_POOL_TRACKER_TABLE.NonPagedAllocs",
		"_POOL_TRACKER_TABLE.NonPagedFrees",
		"_POOL_TRACKER_TABLE.NonPagedBytes",
		"_POOL_TRACKER_TABLE.PagedAllocs",
		"_POOL_TRACKER_TABLE.PagedFrees",
		"_POOL_TRACKER_TABLE.PagedBytes",
	};
	uint64_t tbl_var = 0, size_var = 0, tbl = 0, n = 0, esz = 0, i;
	uint64_t flags = 0;
	const char *pat = NULL;
	size_t patlen = 0;
	struct kd_args a;
	unsigned j;
	int rc;

	if (!kd_is_ptr64(s))
		return kd_fail(s, KD_ENOTSUP, "!poolused: x64 targets only");
	kd_args_init(&a, s, c);
	if (!kd_args_at_end(&a)) {
		rc = kd_args_take_expr(&a, &flags);
		if (rc < 0)
			return rc;
		kd_args_skip(&a);
		if (!kd_args_at_end(&a) &&
		    (!kd_args_take_word(&a, &pat, &patlen) || patlen > 4))
			return kd_args_error(&a);
	}
	rc = kd_args_end(&a);
	if (rc < 0)
		return rc;
	/* Only the tag-sorted table is built; the other sorts are not. */
	if (flags & ~1ull)
		return kd_fail(s, KD_ENOTSUP,
			       "!poolused: flags %llx are not supported "
			       "(0 or 1: sorted by tag)",
			       (unsigned long long)flags);
	rc = kd_ext__global(s, "PoolTrackTable", &tbl_var);
	if (rc == KD_OK)
		rc = kd_ext__global(s, "PoolTrackTableSize", &size_var);
	if (rc == KD_OK)
		rc = kd_ext__sizeof(s, "_POOL_TRACKER_TABLE", &esz);
	if (rc < 0)
		return rc;
	if (kd_read_u64(s, tbl_var, &tbl) != KD_OK ||
	    kd_read_u64(s, size_var, &n) != KD_OK)
		return kd_fail(s, KD_EFAULT,
			       "Unable to read nt!PoolTrackTable or "
			       "nt!PoolTrackTableSize");
	if (n > POOL_TRACK_MAX)
		return kd_fail(s, KD_EPROTO, "nt!PoolTrackTableSize is %llu",
			       (unsigned long long)n);
	kd_out(s, "   Sorting by  Tag\n\n  Pool Used:\n");
	kd_out(s, "            NonPaged            Paged\n");
	kd_out(s, " Tag    Allocs     Used    Allocs     Used\n");
	for (i = 0; i < n; i++) {
		uint64_t v[KD_ARRAY_SIZE(f)];
		char tag[5];

		for (j = 0; j < KD_ARRAY_SIZE(f); j++) {
			rc = kd_ext__read(s, tbl + i * esz, f[j], &v[j]);
			if (rc < 0)
				return rc;
		}
		if (v[0] == 0)
			continue;
		tag_text(v[0], tag);
		if (pat && !tag_match(pat, patlen, tag))
			continue;
		kd_out(s, " %s%9llu%9llu%10llu%9llu\n", tag,
		       (unsigned long long)(v[1] - v[2]),
		       (unsigned long long)v[3],
		       (unsigned long long)(v[4] - v[5]),
		       (unsigned long long)v[6]);
	}
	return KD_OK;
}

const struct kd_command kd_cmds_ext_mm[] = {
	{ "!pte", cmd_pte, KD_CMDF_STOPPED,
	  "!pte va: page-table entries of an address" },
	{ "!vtop", cmd_vtop, KD_CMDF_STOPPED,
	  "!vtop dirbase va: translate an address" },
	{ "!pool", cmd_pool, KD_CMDF_STOPPED,
	  "!pool address: the small-pool page of an address" },
	{ "!poolused", cmd_poolused, KD_CMDF_STOPPED,
	  "!poolused: pool use by tag (nt!PoolTrackTable)" },
	{ NULL, NULL, 0, NULL },
};
