/* SPDX-License-Identifier: MIT */
/*
 * x64 four-level page-table walks: the entries are read from target
 * physical memory, starting at a CR3 value.
 */
#include <string.h>

#include "arch/arch.h"
#include "arch/paging.h"

unsigned kd_pt_index(uint64_t va, unsigned level)
{
	unsigned shift = 39 - 9 * level;

	return (unsigned)((va >> shift) & 0x1ff);
}

static int pt_read_entry(struct kd_session *s, uint64_t pa, uint64_t *v)
{
	uint8_t b[8];
	size_t done = 0;
	int rc;

	rc = kd_read_physical(s, pa, b, sizeof(b), &done);
	if (rc < 0 || done != sizeof(b))
		return KD_EFAULT;
	*v = kd_get_le64(b);
	return KD_OK;
}

int kd_pt_walk(struct kd_session *s, uint64_t dirbase, uint64_t va,
	       struct kd_pt_walk *w)
{
	uint64_t table = dirbase & KD_PTE_PFN_MASK;
	unsigned level;

	memset(w, 0, sizeof(*w));
	w->va = va;
	w->dirbase = table;
	for (level = 0; level < KD_PT_LEVELS; level++) {
		uint64_t epa = table + 8u * kd_pt_index(va, level);
		uint64_t e;

		w->entry_pa[level] = epa;
		if (pt_read_entry(s, epa, &e) != KD_OK)
			return KD_EFAULT;
		w->entry[level] = e;
		w->nlevels = level + 1;
		if (!(e & KD_PTE_P))
			return KD_ENOTFOUND;
		if (level == KD_PT_PPE && (e & KD_PTE_PS)) {
			w->large = true;
			w->pa = (e & 0x000fffffc0000000ull) |
				(va & 0x3fffffffull);
			w->valid = true;
			return KD_OK;
		}
		if (level == KD_PT_PDE && (e & KD_PTE_PS)) {
			w->large = true;
			w->pa = (e & 0x000fffffffe00000ull) |
				(va & 0x1fffffull);
			w->valid = true;
			return KD_OK;
		}
		table = e & KD_PTE_PFN_MASK;
	}
	w->pa = table | (va & 0xfffull);
	w->valid = true;
	return KD_OK;
}

int kd_amd64__virt_to_phys(struct kd_session *s, uint64_t va, uint64_t *pa)
{
	struct kd_amd64_kspecial *ks = NULL;
	struct kd_pt_walk w;
	int rc;

	rc = kd_kspecial(s, s->tgt.cpu, &ks);
	if (rc < 0)
		return rc;
	rc = kd_pt_walk(s, ks->cr3, va, &w);
	if (rc < 0)
		return rc;
	*pa = w.pa;
	return KD_OK;
}

void kd_pte_flags(uint64_t e, bool large, char out[12])
{
	out[0] = (e & KD_PTE_COW) ? 'C' : '-';
	out[1] = (e & KD_PTE_G) ? 'G' : '-';
	out[2] = large ? 'L' : '-';
	out[3] = (e & KD_PTE_D) ? 'D' : '-';
	out[4] = (e & KD_PTE_A) ? 'A' : '-';
	out[5] = (e & KD_PTE_PCD) ? 'N' : '-';
	out[6] = (e & KD_PTE_PWT) ? 'T' : '-';
	out[7] = (e & KD_PTE_US) ? 'U' : 'K';
	out[8] = (e & KD_PTE_RW) ? 'W' : 'R';
	out[9] = (e & KD_PTE_NX) ? '-' : 'E';
	out[10] = (e & KD_PTE_P) ? 'V' : '-';
	out[11] = '\0';
}
