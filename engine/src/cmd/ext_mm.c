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

/*
 * x64 !pte: four 27-character columns (PXE, PPE, PDE, PTE).  Windows
 * shows the entries' virtual addresses in the page-table self-map; the
 * simulated kernel has no self-map, so the "at" column holds each
 * entry's PHYSICAL address (same width and case).  A large page ends the
 * walk at its PDE/PPE, and the next column says "LARGE PAGE pfn".
 */
static int cmd_pte(struct kd_session *s, struct kd_cmdctx *c)
{
	static const char *const lvl[KD_PT_LEVELS] = { "PXE", "PPE", "PDE",
						       "PTE" };
	struct kd_pt_walk w;
	char l1[160], l2[160], l3[160];
	size_t n1 = 0, n2 = 0, n3 = 0;
	uint64_t va = 0, dirbase = 0;
	struct kd_args a;
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
	rc = kd_pt_walk(s, dirbase, va, &w);
	if (rc == KD_EFAULT && w.nlevels == 0)
		return kd_fail(s, rc,
			       "Unable to read the PXE at physical "
			       "%llx",
			       (unsigned long long)w.entry_pa[0]);
	kd_out(s, "%43sVA %016llx\n", "", (unsigned long long)va);
	for (i = 0; i < w.nlevels; i++) {
		uint64_t e = w.entry[i];
		bool last = i + 1 == w.nlevels;
		const char *pad = last ? "" : "    ";

		n1 += (size_t)snprintf(l1 + n1, sizeof(l1) - n1,
				       "%s at %016llX%s", lvl[i],
				       (unsigned long long)w.entry_pa[i], pad);
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
