/* SPDX-License-Identifier: MIT */
/*
 * Memory-manager extensions: !pte and !vtop (x64 four-level tables,
 * walked by arch/paging.c).
 */
#include <stdio.h>

#include "arch/paging.h"
#include "cmd/args.h"
#include "core/engine_int.h"

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

const struct kd_command kd_cmds_ext_mm[] = {
	{ "!pte", cmd_pte, KD_CMDF_STOPPED,
	  "!pte va: page-table entries of an address" },
	{ "!vtop", cmd_vtop, KD_CMDF_STOPPED,
	  "!vtop dirbase va: translate an address" },
	{ NULL, NULL, 0, NULL },
};
