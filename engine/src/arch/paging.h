/* SPDX-License-Identifier: MIT */
/*
 * x64 four-level page-table walks over target physical memory, for !pte,
 * !vtop and physical access to virtual ranges.
 */
#ifndef KD_PAGING_H
#define KD_PAGING_H

#include "core/engine_int.h"

#define KD_PTE_P 0x1ull
#define KD_PTE_RW 0x2ull
#define KD_PTE_US 0x4ull
#define KD_PTE_PWT 0x8ull
#define KD_PTE_PCD 0x10ull
#define KD_PTE_A 0x20ull
#define KD_PTE_D 0x40ull
#define KD_PTE_PS 0x80ull
#define KD_PTE_G 0x100ull
#define KD_PTE_COW 0x200ull /* Windows software bit */
#define KD_PTE_NX 0x8000000000000000ull
#define KD_PTE_PFN_MASK 0x000ffffffffff000ull

/* Levels, outermost first: PML4E (PXE), PDPTE (PPE), PDE, PTE. */
enum {
	KD_PT_PXE = 0,
	KD_PT_PPE,
	KD_PT_PDE,
	KD_PT_PTE,
	KD_PT_LEVELS
};

struct kd_pt_walk {
	uint64_t va;
	uint64_t dirbase;		 /* PML4 physical address */
	unsigned int nlevels;		 /* entries read (1..4) */
	uint64_t entry_pa[KD_PT_LEVELS]; /* physical address of entry */
	uint64_t entry[KD_PT_LEVELS];	 /* its contents */
	bool large;			 /* stopped at a PS entry */
	bool valid;			 /* translated */
	uint64_t pa;			 /* physical address of va */
};

/* Index of @p va into the table of @p level (0..511). */
unsigned kd_pt_index(uint64_t va, unsigned level);

/*
 * Walk the tables at @p dirbase (a CR3 value; low 12 bits ignored) for
 * @p va.  Returns KD_OK when translated, KD_ENOTFOUND when an entry is
 * not present (w->nlevels says which), KD_EFAULT when an entry cannot be
 * read.  @p w is filled as far as the walk got.
 */
int kd_pt_walk(struct kd_session *s, uint64_t dirbase, uint64_t va,
	       struct kd_pt_walk *w);

/* Translate on the current processor with the machine's ops (x64: its
 * CR3); KD_ENOTSUP on a machine the engine cannot translate for. */
int kd_virt_to_phys(struct kd_session *s, uint64_t va, uint64_t *pa);

/*
 * WinDbg's 11-character flag string for an entry, e.g. "---DA--KWEV"
 * (copy-on-write, global, large, dirty, accessed, cache-disable,
 * write-through, user/kernel, write, execute, valid).
 */
void kd_pte_flags(uint64_t entry, bool large, char out[12]);

#endif /* KD_PAGING_H */
