/* SPDX-License-Identifier: MIT */
/*
 * Synthetic crash-dump fixtures: page tables, KDBG, KPRCB contexts and
 * tagged data pages built in memory, then written with kd_dump_write().
 */
#define _POSIX_C_SOURCE 200809L
#include "dumpgen.h"

#include <kd/common.h>
#include <kd/dump.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PG 4096u

/* Physical layout shared by every architecture. */
#define RUN0_PAGES 0x100u  /* PFN 0..0xFF */
#define PT_FIRST_PFN 0x01u /* page tables grow from here */
#define PT_LAST_PFN 0x1Fu
#define DATA_PFN 0x20u /* 4 KiB data pages 0x20..0x23 */
#define TRANS_PFN 0x30u
#define USER_PFN 0x38u
#define KDATA_PFN 0x40u /* 4 pages: KDBG, then KPRCBs */
#define KDATA_PAGES 4u
#define LARGE_PA 0x800000ull /* 4 MiB aligned: fits x86 and PAE */
#define LARGE_PRESENT 16u
#define HUGE_PA 0x40000000ull
#define HUGE_PRESENT 8u
#define MISSING_PFN 0x1000u	    /* valid PTE, frame not in any run */
#define DG_CODE_OFF KDT_DG_CODE_OFF /* code at the pc (not x64) */
#define DRV_PFN0 0x50u		    /* PE32 module pages: 0x50, 0x52, 0x51 */
#define LDR_OFF 0x900u		    /* KDATA: 32-bit LDR entries, names */

struct dg_build {
	struct kdt_dumpgen *g;
	uint64_t next_pt;
	int err;
};

uint64_t kdt_dumpgen_word(uint64_t pa)
{
	return (pa * 0x9E3779B97F4A7C15ull) ^ 0x00006F70656E6B64ull;
}

static uint8_t *dg_ptr(const struct kdt_dumpgen *g, uint64_t pa)
{
	unsigned int i;
	uint64_t pfn = pa / PG;

	for (i = 0; i < g->nruns; i++) {
		const struct kdt_dg_run *r = &g->runs[i];

		if (pfn >= r->base_page && pfn - r->base_page < r->page_count)
			return r->mem + (pa - r->base_page * PG);
	}
	return NULL;
}

bool kdt_dumpgen_phys(const struct kdt_dumpgen *g, uint64_t pa, void *buf,
		      size_t len)
{
	uint8_t *out = buf;

	while (len > 0) {
		size_t n = PG - (size_t)(pa % PG);
		uint8_t *p = dg_ptr(g, pa);

		if (n > len)
			n = len;
		if (!p)
			return false;
		memcpy(out, p, n);
		out += n;
		pa += n;
		len -= n;
	}
	return true;
}

const struct kdt_dg_map *kdt_dumpgen_find(const struct kdt_dumpgen *g,
					  enum kdt_dg_kind kind)
{
	unsigned int i;

	for (i = 0; i < g->nmaps; i++)
		if (g->maps[i].kind == kind)
			return &g->maps[i];
	return NULL;
}

static void dg_fill_data(struct kdt_dumpgen *g, uint64_t pa, const char *tag)
{
	uint8_t *p = dg_ptr(g, pa);
	unsigned int i;

	if (!p)
		return;
	for (i = 32; i < PG; i += 8)
		kd_put_le64(p + i, kdt_dumpgen_word(pa + i));
	memset(p, 0, 32);
	memcpy(p, tag, strnlen(tag, 31));
}

/* ---- page-table construction ------------------------------------------ */

static uint64_t dg_new_table(struct dg_build *b)
{
	uint64_t pfn;

	if (b->next_pt > PT_LAST_PFN) {
		b->err = KD_ENOMEM;
		return 0;
	}
	pfn = b->next_pt++;
	memset(dg_ptr(b->g, pfn * PG), 0, PG);
	return pfn * PG;
}

static bool dg_user_va(const struct kdt_dumpgen *g, uint64_t va)
{
	return g->ptr64 ? va < 0x800000000000ull : va < 0x80000000ull;
}

/* Entry bits for a table pointer and a leaf (per architecture). */
static uint64_t dg_table_bits(const struct kdt_dumpgen *g, bool user)
{
	if (g->arch == KDT_DG_ARM64)
		return 0x3;
	return user ? 0x67 : 0x63;
}

static uint64_t dg_leaf_bits(const struct kdt_dumpgen *g, bool user, bool large)
{
	if (g->arch == KDT_DG_ARM64)
		return large ? 0x701 : 0x703; /* AF | SH inner | block/page */
	return (user ? 0x67 : 0x63) | (large ? 0x80 : 0);
}

static uint64_t dg_get_entry(struct kdt_dumpgen *g, uint64_t table,
			     unsigned int idx, unsigned int esz)
{
	uint8_t *p = dg_ptr(g, table) + (size_t)idx * esz;

	return esz == 8 ? kd_get_le64(p) : kd_get_le32(p);
}

static void dg_set_entry(struct kdt_dumpgen *g, uint64_t table,
			 unsigned int idx, unsigned int esz, uint64_t v)
{
	uint8_t *p = dg_ptr(g, table) + (size_t)idx * esz;

	if (esz == 8)
		kd_put_le64(p, v);
	else
		kd_put_le32(p, (uint32_t)v);
}

/*
 * Install @p entry for @p va at @p leaf_level (0 = 4 KiB PTE, 1 = 2/4 MiB,
 * 2 = 1 GiB), creating intermediate tables.
 */
static void dg_map(struct dg_build *b, uint64_t va, unsigned int leaf_level,
		   uint64_t entry)
{
	struct kdt_dumpgen *g = b->g;
	unsigned int shifts[4], bits[4], nlev, esz, lev;
	uint64_t table = g->dtb & ~0xFFFull, mask;
	bool user = dg_user_va(g, va);

	if (g->arch == KDT_DG_X86) {
		nlev = 2;
		esz = 4;
		shifts[0] = 22;
		bits[0] = 10;
		shifts[1] = 12;
		bits[1] = 10;
	} else if (g->arch == KDT_DG_X86_PAE) {
		nlev = 3;
		esz = 8;
		shifts[0] = 30;
		bits[0] = 2;
		shifts[1] = 21;
		bits[1] = 9;
		shifts[2] = 12;
		bits[2] = 9;
		table = g->dtb & ~0x1Full;
	} else {
		nlev = 4;
		esz = 8;
		for (lev = 0; lev < 4; lev++) {
			shifts[lev] = 39 - 9 * lev;
			bits[lev] = 9;
		}
	}
	mask = g->arch == KDT_DG_X86 ? 0xFFFFF000ull : 0x0000FFFFFFFFF000ull;
	for (lev = 0; lev + 1 + leaf_level < nlev; lev++) {
		unsigned int idx = (unsigned int)(va >> shifts[lev]) &
				   ((1u << bits[lev]) - 1);
		uint64_t e = dg_get_entry(g, table, idx, esz);

		if (!(e & 1)) {
			uint64_t t = dg_new_table(b);

			if (b->err)
				return;
			/* PAE PDPTEs carry only the present bit. */
			if (g->arch == KDT_DG_X86_PAE && lev == 0)
				e = t | 1;
			else
				e = t | dg_table_bits(g, user);
			dg_set_entry(g, table, idx, esz, e);
		}
		table = e & mask;
	}
	dg_set_entry(g, table,
		     (unsigned int)(va >> shifts[lev]) &
			     ((1u << bits[lev]) - 1),
		     esz, entry);
}

static struct kdt_dg_map *dg_add_map(struct kdt_dumpgen *g,
				     enum kdt_dg_kind kind, uint64_t va,
				     uint64_t len, const char *tag)
{
	struct kdt_dg_map *m = &g->maps[g->nmaps++];

	memset(m, 0, sizeof *m);
	m->kind = kind;
	m->va = va;
	m->len = len;
	snprintf(m->tag, sizeof m->tag, "%s", tag);
	return m;
}

static const char *dg_arch_name(enum kdt_dg_arch a)
{
	switch (a) {
	case KDT_DG_X64:
		return "x64";
	case KDT_DG_X86:
		return "x86";
	case KDT_DG_X86_PAE:
		return "x86pae";
	case KDT_DG_ARM64:
		return "arm64";
	}
	return "?";
}

/* ---- CONTEXT records ---------------------------------------------------- */

static void dg_context(struct kdt_dumpgen *g, unsigned int cpu, uint64_t pc,
		       uint64_t sp)
{
	uint8_t *c = g->ctx[cpu];
	uint64_t tagv = 0x1000000000000000ull * (cpu + 1);
	unsigned int i;

	memset(c, 0, KDT_DG_CTX_MAX);
	if (g->arch == KDT_DG_X64) {
		kd_put_le32(c + 0x30, 0x0010001Fu);
		kd_put_le32(c + 0x34, 0x1F80);
		kd_put_le16(c + 0x38, 0x10);
		kd_put_le16(c + 0x3A, 0x2B);
		kd_put_le16(c + 0x3C, 0x2B);
		kd_put_le16(c + 0x3E, 0x53);
		kd_put_le16(c + 0x40, 0x2B);
		kd_put_le16(c + 0x42, 0x18);
		kd_put_le32(c + 0x44, 0x202 | (cpu << 6 & 0x40));
		/* Rax..R15 at 0x78..0xF0: distinct per CPU and register. */
		for (i = 0; i < 16; i++)
			kd_put_le64(c + 0x78 + 8 * i, tagv + 0x100 * i + cpu);
		kd_put_le64(c + 0x98, sp);
		kd_put_le64(c + 0xF8, pc);
		kd_put_le16(c + 0x100, 0x27F);	/* FltSave.ControlWord */
		kd_put_le32(c + 0x118, 0x1F80); /* FltSave.MxCsr */
		kd_put_le32(c + 0x11C, 0xFFFF);
		g->ctx_len = 0x4D0;
	} else if (g->arch == KDT_DG_ARM64) {
		kd_put_le32(c + 0x00, 0x00400007u);
		kd_put_le32(c + 0x04, 0x000003C5u);
		for (i = 0; i < 29; i++)
			kd_put_le64(c + 8 + 8 * i, tagv + 0x100 * i + cpu);
		kd_put_le64(c + 0xF0, sp + 0x40); /* Fp */
		kd_put_le64(c + 0xF8, pc + 0x40); /* Lr */
		kd_put_le64(c + 0x100, sp);
		kd_put_le64(c + 0x108, pc);
		g->ctx_len = 0x390;
	} else {
		uint32_t t32 = 0x10000000u * (cpu + 1);

		kd_put_le32(c + 0x00, 0x0001001Fu);
		kd_put_le32(c + 0x8C, 0);    /* SegGs */
		kd_put_le32(c + 0x90, 0x30); /* SegFs */
		kd_put_le32(c + 0x94, 0x23);
		kd_put_le32(c + 0x98, 0x23);
		for (i = 0; i < 6; i++) /* Edi..Eax */
			kd_put_le32(c + 0x9C + 4 * i, t32 + 0x100 * i + cpu);
		kd_put_le32(c + 0xB4, (uint32_t)sp + 0x20); /* Ebp */
		kd_put_le32(c + 0xB8, (uint32_t)pc);
		kd_put_le32(c + 0xBC, 0x08);
		kd_put_le32(c + 0xC0, 0x202);
		kd_put_le32(c + 0xC4, (uint32_t)sp);
		kd_put_le32(c + 0xC8, 0x10);
		g->ctx_len = 0x2CC;
	}
}

/* ---- the KDBG block and KPRCBs ------------------------------------------ */

static void dg_put_ptr(const struct kdt_dumpgen *g, uint8_t *p, uint64_t v)
{
	if (g->ptr64)
		kd_put_le64(p, v);
	else
		kd_put_le32(p, (uint32_t)v);
}

/* KD structures carry 32-bit pointers sign-extended. */
static uint64_t dg_kd_ptr(const struct kdt_dumpgen *g, uint64_t v)
{
	if (!g->ptr64 && (v & 0x80000000ull))
		return v | 0xFFFFFFFF00000000ull;
	return v;
}

static void dg_kdata(struct kdt_dumpgen *g, uint64_t kva)
{
	uint8_t *k = dg_ptr(g, (uint64_t)KDATA_PFN * PG);
	unsigned int psz = g->ptr64 ? 8 : 4, i;

	memset(k, 0, (size_t)KDATA_PAGES * PG);
	g->kdbg = kva;
	g->ps_loaded_module_list = kva + 0x400;
	g->ps_active_process_head = kva + 0x410;
	g->ki_processor_block = kva + 0x800;
	/* KDDEBUGGER_DATA64 */
	kd_put_le64(k + 0x00, dg_kd_ptr(g, kva));
	kd_put_le64(k + 0x08, dg_kd_ptr(g, kva));
	memcpy(k + 0x10, "KDBG", 4);
	kd_put_le32(k + 0x14, 0x380);
	kd_put_le64(k + 0x18, dg_kd_ptr(g, g->kernbase));
	kd_put_le64(k + 0x48, dg_kd_ptr(g, g->ps_loaded_module_list));
	kd_put_le64(k + 0x50, dg_kd_ptr(g, g->ps_active_process_head));
	kd_put_le64(k + 0x88, dg_kd_ptr(g, kva + 0x420));
	kd_put_le64(k + 0x218, dg_kd_ptr(g, g->ki_processor_block));
	kd_put_le16(k + 0x2B0, KDT_DG_PRCB_SIZE);
	kd_put_le16(k + 0x2B4, KDT_DG_PRCB_CURRENT_THREAD);
	kd_put_le16(k + 0x2BC, KDT_DG_PRCB_PROCSTATE_CONTEXT);
	kd_put_le16(k + 0x2BE, KDT_DG_PRCB_NUMBER);
	kd_put_le16(k + 0x338, KDT_DG_PRCB_CONTEXT_PTR);
	/* Empty lists: heads point at themselves. */
	dg_put_ptr(g, k + 0x400, g->ps_loaded_module_list);
	dg_put_ptr(g, k + 0x400 + psz, g->ps_loaded_module_list);
	dg_put_ptr(g, k + 0x410, g->ps_active_process_head);
	dg_put_ptr(g, k + 0x410 + psz, g->ps_active_process_head);
	/* KiBugCheckData: code, then 4 parameters (pointer sized). */
	kd_put_le32(k + 0x420, g->bugcheck_code);
	for (i = 0; i < 4; i++)
		dg_put_ptr(g, k + 0x420 + psz * (i + 1), g->bugcheck_params[i]);
	for (i = 0; i < g->ncpus; i++) {
		uint64_t prcb = kva + PG + (uint64_t)i * KDT_DG_PRCB_SIZE;
		uint8_t *pp = k + PG + (size_t)i * KDT_DG_PRCB_SIZE;

		g->prcb_va[i] = prcb;
		g->ctx_va[i] = prcb + KDT_DG_PRCB_PROCSTATE_CONTEXT;
		dg_put_ptr(g, k + 0x800 + psz * i, prcb);
		pp[KDT_DG_PRCB_NUMBER] = (uint8_t)i;
		dg_put_ptr(g, pp + KDT_DG_PRCB_CONTEXT_PTR, g->ctx_va[i]);
		memcpy(pp + KDT_DG_PRCB_PROCSTATE_CONTEXT, g->ctx[i],
		       g->ctx_len);
		if (!g->ptr64) {
			uint8_t *sr = pp + KDT_DG_PRCB_SPECIAL_REG;

			kd_put_le32(sr + 0x0, KDT_DG_X86_CR0);
			kd_put_le32(sr + 0x4, KDT_DG_X86_CR2 + i);
			kd_put_le32(sr + 0x8, (uint32_t)g->dtb);
			kd_put_le32(sr + 0xC,
				    KDT_DG_X86_CR4 | (g->pae ? 0x20u : 0));
		}
	}
	if (!g->ptr64)
		kd_put_le16(k + 0x2F2, KDT_DG_PRCB_SPECIAL_REG);
}

/* ---- code at the pc and a frame chain (x86, PAE, ARM64) --------------- */

/*
 * 16 bytes of real code at each processor's pc, in data page 0 after the
 * pattern words the tests check (so `u` shows instructions), and a frame
 * chain on its stack: x86 EBP frames (ebp -> ebp+0x20 -> ebp+0x40, the
 * last with a zero return) and ARM64 frame records (fp -> fp+0x40 -> 0).
 */
static void dg_code_and_stack(struct kdt_dumpgen *g, uint64_t code_pa,
			      uint64_t stack_pa, uint64_t kva)
{
	static const uint8_t x86[16] = {
		0x8b, 0x45, 0x08, /* mov eax,dword ptr [ebp+8] */
		0x85, 0xc0,	  /* test eax,eax */
		0x74, 0x02,	  /* je +2 */
		0x33, 0xc0,	  /* xor eax,eax */
		0xc9,		  /* leave */
		0xc2, 0x04, 0x00, /* ret 4 */
		0xcc, 0xcc, 0xcc,
	};
	static const uint32_t a64[4] = {
		0xf9400020u, /* ldr x0,[x1] */
		0xb4000040u, /* cbz x0,pc+8 */
		0xd65f03c0u, /* ret */
		0xd43e0000u, /* brk #0xF000 */
	};
	uint64_t prcb_end = (uint64_t)KDATA_PFN * PG + PG +
			    (uint64_t)g->ncpus * KDT_DG_PRCB_SIZE;
	unsigned int i, k;

	for (i = 0; i < g->ncpus; i++) {
		uint8_t *code = dg_ptr(g, code_pa + 0x10u * i);
		uint64_t spa = stack_pa - 0x100u * i;
		uint64_t sva = kva + (spa - (uint64_t)KDATA_PFN * PG);
		uint64_t ret1 = g->kernbase + 0x200 + 0x10u * i;
		uint64_t ret2 = g->kernbase + 0x300 + 0x10u * i;
		uint8_t *st = dg_ptr(g, spa);

		if (!code || !st)
			continue;
		if (g->arch == KDT_DG_ARM64) {
			for (k = 0; k < 4; k++)
				kd_put_le32(code + 4 * k, a64[k]);
		} else {
			memcpy(code, x86, sizeof(x86));
		}
		/* Leave the KPRCBs (and their CONTEXTs) alone. */
		if (spa < prcb_end)
			continue;
		memset(st, 0, 0xA0);
		if (g->arch == KDT_DG_ARM64) {
			/* fp = sp + 0x40 (the CONTEXT says so). */
			kd_put_le64(st + 0x40, sva + 0x80);
			kd_put_le64(st + 0x48, ret1);
			kd_put_le64(st + 0x80, 0);
			kd_put_le64(st + 0x88, ret2);
			continue;
		}
		/* ebp = esp + 0x20: saved ebp, return address, 3 args. */
		for (k = 0; k < 3; k++) {
			uint8_t *f = st + 0x20 + 0x20 * k;

			kd_put_le32(f, k < 2 ? (uint32_t)sva + 0x40 + 0x20 * k :
					       0);
			kd_put_le32(f + 4, k == 0 ? (uint32_t)ret1 :
					   k == 1 ? (uint32_t)ret2 :
						    0);
			kd_put_le32(f + 8,
				    0xA0000001u + 0x10000000u * k + 0x100u * i);
			kd_put_le32(f + 12,
				    0xA0000002u + 0x10000000u * k + 0x100u * i);
			kd_put_le32(f + 16,
				    0xA0000003u + 0x10000000u * k + 0x100u * i);
		}
	}
}

/* ---- x86 loaded-module list and a PE32 image --------------------------- */

/* A UNICODE_STRING32 at @p us for @p s, its UTF-16 text at @p k + @p off. */
static void dg_ustr32(uint8_t *k, uint64_t kva, uint8_t *us, size_t off,
		      const char *s)
{
	size_t n = strlen(s), i;

	for (i = 0; i < n; i++)
		kd_put_le16(k + off + 2 * i, (uint8_t)s[i]);
	kd_put_le16(us, (uint16_t)(2 * n));
	kd_put_le16(us + 2, (uint16_t)(2 * n + 2));
	kd_put_le32(us + 4, (uint32_t)(kva + off));
}

/* One LDR_DATA_TABLE_ENTRY32 at KDATA + @p off. */
static void dg_ldr32(uint8_t *k, uint64_t kva, size_t off, uint64_t flink,
		     uint64_t blink, uint64_t base, uint32_t entry,
		     uint32_t size, uint32_t stamp, const char *full,
		     const char *name, size_t str_off)
{
	uint8_t *e = k + off;

	kd_put_le32(e + 0x00, (uint32_t)flink);
	kd_put_le32(e + 0x04, (uint32_t)blink);
	kd_put_le32(e + 0x18, (uint32_t)base);
	kd_put_le32(e + 0x1C, entry ? (uint32_t)base + entry : 0);
	kd_put_le32(e + 0x20, size);
	dg_ustr32(k, kva, e + 0x24, str_off, full);
	dg_ustr32(k, kva, e + 0x2C, str_off + 0x80, name);
	kd_put_le32(e + 0x44, stamp);
}

/* The PE32 image (3 pages, see dumpgen.h) into frames hdr, text, edata. */
static void dg_pe32(uint8_t *hdr, uint8_t *text, uint8_t *edata, uint32_t base)
{
	static const uint8_t f0[] = {
		0x55,		  /* push ebp */
		0x8b, 0xec,	  /* mov ebp,esp */
		0x8b, 0x45, 0x08, /* mov eax,dword ptr [ebp+8] */
		0x5d,		  /* pop ebp */
		0xc2, 0x04, 0x00, /* ret 4 */
	};
	static const uint8_t f1[] = { 0x33, 0xc0, 0xc3 }; /* xor; ret */
	uint8_t *fh = hdr + 0x84, *opt = hdr + 0x98, *sec = opt + 0xE0;
	static const struct {
		char name[8];
		uint32_t rva, flags;
	} secs[2] = {
		{ ".text", 0x1000, 0x60000020u },
		{ ".edata", 0x2000, 0x40000040u },
	};
	unsigned int i;

	memset(hdr, 0, PG);
	memset(text, 0xcc, PG);
	memset(edata, 0, PG);
	hdr[0] = 'M';
	hdr[1] = 'Z';
	kd_put_le16(hdr + 0x02, 0x90);
	kd_put_le16(hdr + 0x04, 3);
	kd_put_le32(hdr + 0x3C, 0x80);
	memcpy(hdr + 0x80, "PE\0\0", 4);
	kd_put_le16(fh + 0, 0x14C); /* Machine: i386 */
	kd_put_le16(fh + 2, 2);	    /* NumberOfSections */
	kd_put_le32(fh + 4, KDT_DG_DRV_TIMESTAMP);
	kd_put_le16(fh + 16, 0xE0);    /* SizeOfOptionalHeader */
	kd_put_le16(fh + 18, 0x2102);  /* exe, 32-bit, DLL */
	kd_put_le16(opt + 0, 0x10B);   /* PE32 */
	kd_put_le32(opt + 4, PG);      /* SizeOfCode */
	kd_put_le32(opt + 16, 0x1000); /* AddressOfEntryPoint */
	kd_put_le32(opt + 20, 0x1000); /* BaseOfCode */
	kd_put_le32(opt + 24, 0x2000); /* BaseOfData */
	kd_put_le32(opt + 28, base);   /* ImageBase */
	kd_put_le32(opt + 32, PG);     /* SectionAlignment */
	kd_put_le32(opt + 36, 0x200);  /* FileAlignment */
	kd_put_le16(opt + 40, 6);      /* OS 6.1 */
	kd_put_le16(opt + 42, 1);
	kd_put_le16(opt + 48, 6); /* subsystem 6.1 */
	kd_put_le16(opt + 50, 1);
	kd_put_le32(opt + 56, KDT_DG_DRV_SIZE); /* SizeOfImage */
	kd_put_le32(opt + 60, 0x400);		/* SizeOfHeaders */
	kd_put_le32(opt + 64, KDT_DG_DRV_CHECKSUM);
	kd_put_le16(opt + 68, 1);      /* native */
	kd_put_le32(opt + 92, 16);     /* NumberOfRvaAndSizes */
	kd_put_le32(opt + 96, 0x2000); /* export directory */
	kd_put_le32(opt + 100, 0x80);
	for (i = 0; i < 2; i++) {
		uint8_t *sh = sec + 40 * i;

		memcpy(sh, secs[i].name, strlen(secs[i].name));
		kd_put_le32(sh + 8, i == 0 ? 0x20 : 0x80); /* VirtualSize */
		kd_put_le32(sh + 12, secs[i].rva);
		kd_put_le32(sh + 16, 0x200);
		kd_put_le32(sh + 20, 0x400 + 0x200 * i);
		kd_put_le32(sh + 36, secs[i].flags);
	}
	memcpy(text, f0, sizeof(f0));
	memcpy(text + 0x10, f1, sizeof(f1));
	/* IMAGE_EXPORT_DIRECTORY: 2 functions, 2 names (sorted). */
	kd_put_le32(edata + 4, KDT_DG_DRV_TIMESTAMP);
	kd_put_le32(edata + 12, 0x2060); /* Name */
	kd_put_le32(edata + 16, 1);	 /* Base */
	kd_put_le32(edata + 20, 2);
	kd_put_le32(edata + 24, 2);
	kd_put_le32(edata + 28, 0x2028); /* AddressOfFunctions */
	kd_put_le32(edata + 32, 0x2030); /* AddressOfNames */
	kd_put_le32(edata + 36, 0x2038); /* AddressOfNameOrdinals */
	kd_put_le32(edata + 0x28, 0x1000);
	kd_put_le32(edata + 0x2C, 0x1010);
	kd_put_le32(edata + 0x30, 0x2040);
	kd_put_le32(edata + 0x34, 0x2050);
	kd_put_le16(edata + 0x38, 0);
	kd_put_le16(edata + 0x3A, 1);
	memcpy(edata + 0x40, KDT_DG_DRV_EXPORT0, sizeof(KDT_DG_DRV_EXPORT0));
	memcpy(edata + 0x50, KDT_DG_DRV_EXPORT1, sizeof(KDT_DG_DRV_EXPORT1));
	memcpy(edata + 0x60, KDT_DG_DRV_NAME, sizeof(KDT_DG_DRV_NAME));
}

/*
 * PsLoadedModuleList of the 32-bit fixtures: nt at kernbase, then the
 * PE32 module mapped at kernbase + KDT_DG_DRV_OFF (frames DRV_PFN0...).
 */
static void dg_modules32(struct kdt_dumpgen *g, struct dg_build *b,
			 uint64_t kva)
{
	static const unsigned int frame[3] = { 0, 2, 1 };
	uint8_t *k = dg_ptr(g, (uint64_t)KDATA_PFN * PG);
	uint64_t head = g->ps_loaded_module_list;
	uint64_t e0 = kva + LDR_OFF, e1 = kva + LDR_OFF + 0x60;
	uint64_t drv = g->kernbase + KDT_DG_DRV_OFF;
	const char *nt = g->pae ? "ntkrnlpa.exe" : "ntoskrnl.exe";
	char full[64];
	unsigned int i;

	for (i = 0; i < 3; i++)
		dg_map(b, drv + (uint64_t)i * PG, 0,
		       (uint64_t)(DRV_PFN0 + frame[i]) * PG |
			       dg_leaf_bits(g, false, false));
	dg_pe32(dg_ptr(g, (uint64_t)(DRV_PFN0 + frame[0]) * PG),
		dg_ptr(g, (uint64_t)(DRV_PFN0 + frame[1]) * PG),
		dg_ptr(g, (uint64_t)(DRV_PFN0 + frame[2]) * PG), (uint32_t)drv);
	g->drv_base = drv;
	kd_put_le32(k + 0x400, (uint32_t)e0);
	kd_put_le32(k + 0x404, (uint32_t)e1);
	snprintf(full, sizeof full, "\\SystemRoot\\system32\\%s", nt);
	dg_ldr32(k, kva, LDR_OFF, e1, head, g->kernbase, 0, KDT_DG_NT_SIZE,
		 0x4CE78A09u, full, nt, 0xA00);
	dg_ldr32(k, kva, LDR_OFF + 0x60, head, e0, drv, 0x1000, KDT_DG_DRV_SIZE,
		 KDT_DG_DRV_TIMESTAMP,
		 "\\SystemRoot\\system32\\drivers\\" KDT_DG_DRV_NAME,
		 KDT_DG_DRV_NAME, 0xB00);
}

void kdt_dumpgen_free(struct kdt_dumpgen *g)
{
	unsigned int i;

	if (!g)
		return;
	for (i = 0; i < g->nruns; i++)
		free(g->runs[i].mem);
	g->nruns = 0;
}

static int dg_add_run(struct kdt_dumpgen *g, uint64_t base, uint64_t count)
{
	struct kdt_dg_run *r = &g->runs[g->nruns];

	r->mem = calloc((size_t)count, PG);
	if (!r->mem)
		return KD_ENOMEM;
	r->base_page = base;
	r->page_count = count;
	g->nruns++;
	return KD_OK;
}

int kdt_dumpgen_build(struct kdt_dumpgen *g, enum kdt_dg_arch arch,
		      unsigned int ncpus)
{
	struct dg_build b;
	uint64_t kbase, uva, trans_bits;
	struct kdt_dg_map *m;
	static const unsigned int scatter[4] = { 2, 0, 3, 1 };
	bool big = arch == KDT_DG_X64 || arch == KDT_DG_ARM64;
	char tag[32];
	unsigned int i;
	int rc;

	memset(g, 0, sizeof *g);
	if (ncpus == 0 || ncpus > KDT_DG_MAX_CPUS)
		return KD_EINVAL;
	g->arch = arch;
	g->ncpus = ncpus;
	g->ptr64 = big;
	g->pae = arch == KDT_DG_X86_PAE;
	g->machine = arch == KDT_DG_X64	  ? KD_DUMP_MACHINE_AMD64 :
		     arch == KDT_DG_ARM64 ? KD_DUMP_MACHINE_ARM64 :
					    KD_DUMP_MACHINE_I386;
	g->build = arch == KDT_DG_ARM64 ? 22000 : big ? 19041 : 7601;
	g->bugcheck_code = 0x1E;
	g->bugcheck_params[0] = 0xC0000005;
	g->bugcheck_params[1] = big ? 0xFFFFF80000400010ull : 0x80400010;
	g->bugcheck_params[2] = 0;
	g->bugcheck_params[3] = 0xDEAD;
	rc = dg_add_run(g, 0, RUN0_PAGES);
	if (rc == KD_OK)
		rc = dg_add_run(g, LARGE_PA / PG, LARGE_PRESENT);
	if (rc == KD_OK && big)
		rc = dg_add_run(g, HUGE_PA / PG, HUGE_PRESENT);
	if (rc < 0) {
		kdt_dumpgen_free(g);
		return rc;
	}
	memset(&b, 0, sizeof b);
	b.g = g;
	b.next_pt = PT_FIRST_PFN;
	/* The root: PML4 / L0 table, x86 PD, or a page holding the PDPT. */
	g->dtb = dg_new_table(&b);
	kbase = big ? 0xFFFFF80000000000ull : 0x80000000ull;
	uva = big ? 0x00007FF000010000ull : 0x00410000ull;
	g->kernbase = kbase + 0x400000;
	trans_bits = arch == KDT_DG_ARM64 ? 0 : 0x880; /* transition + prot */

	/* 4 KiB pages, physically scattered. */
	m = dg_add_map(g, KDT_DG_PAGE, kbase + 0x400000, 4 * PG, "");
	for (i = 0; i < 4; i++) {
		uint64_t pa = (uint64_t)(DATA_PFN + scatter[i]) * PG;

		m->pa[i] = pa;
		snprintf(tag, sizeof tag, "dumpgen %s page %u",
			 dg_arch_name(arch), i);
		dg_fill_data(g, pa, tag);
		dg_map(&b, m->va + (uint64_t)i * PG, 0,
		       pa | dg_leaf_bits(g, false, false));
	}
	m->npages = 4;
	snprintf(m->tag, sizeof m->tag, "dumpgen %s page 0",
		 dg_arch_name(arch));

	if (trans_bits) {
		snprintf(tag, sizeof tag, "dumpgen %s transition",
			 dg_arch_name(arch));
		m = dg_add_map(g, KDT_DG_TRANSITION, kbase + 0x404000, PG, tag);
		m->pa[0] = (uint64_t)TRANS_PFN * PG;
		m->npages = 1;
		dg_fill_data(g, m->pa[0], tag);
		dg_map(&b, m->va, 0, m->pa[0] | trans_bits);
	}

	m = dg_add_map(g, KDT_DG_NOT_PRESENT, kbase + 0x405000, PG, "");
	dg_map(&b, m->va, 0, 0);

	m = dg_add_map(g, KDT_DG_MISSING, kbase + 0x406000, PG, "");
	m->pa[0] = (uint64_t)MISSING_PFN * PG;
	m->npages = 1;
	dg_map(&b, m->va, 0, m->pa[0] | dg_leaf_bits(g, false, false));

	/* Large page: 4 MiB on x86, 2 MiB elsewhere; 16 pages present. */
	snprintf(tag, sizeof tag, "dumpgen %s large", dg_arch_name(arch));
	m = dg_add_map(g, KDT_DG_LARGE, kbase + 0x800000,
		       (uint64_t)LARGE_PRESENT * PG, tag);
	for (i = 0; i < LARGE_PRESENT && i < KDT_DG_MAX_PAGES; i++)
		m->pa[i] = LARGE_PA + (uint64_t)i * PG;
	m->npages = i;
	for (i = 0; i < LARGE_PRESENT; i++)
		dg_fill_data(g, LARGE_PA + (uint64_t)i * PG, tag);
	dg_map(&b, m->va, 1, LARGE_PA | dg_leaf_bits(g, false, true));

	if (big) {
		snprintf(tag, sizeof tag, "dumpgen %s huge",
			 dg_arch_name(arch));
		m = dg_add_map(g, KDT_DG_HUGE, kbase + 0x40000000ull,
			       (uint64_t)HUGE_PRESENT * PG, tag);
		for (i = 0; i < HUGE_PRESENT; i++) {
			m->pa[i] = HUGE_PA + (uint64_t)i * PG;
			dg_fill_data(g, m->pa[i], tag);
		}
		m->npages = HUGE_PRESENT;
		dg_map(&b, m->va, 2, HUGE_PA | dg_leaf_bits(g, false, true));
	}

	snprintf(tag, sizeof tag, "dumpgen %s user", dg_arch_name(arch));
	m = dg_add_map(g, KDT_DG_USERONLY, uva, PG, tag);
	m->pa[0] = (uint64_t)USER_PFN * PG;
	m->npages = 1;
	g->user_pfn = USER_PFN;
	dg_fill_data(g, m->pa[0], tag);
	dg_map(&b, m->va, 0, m->pa[0] | dg_leaf_bits(g, true, false));

	/* Kernel data: KDBG, lists, KiProcessorBlock, KPRCBs + CONTEXTs. */
	m = dg_add_map(g, KDT_DG_KDATA, kbase + 0x600000,
		       (uint64_t)KDATA_PAGES * PG, "KDBG");
	for (i = 0; i < KDATA_PAGES; i++) {
		m->pa[i] = (uint64_t)(KDATA_PFN + i) * PG;
		dg_map(&b, m->va + (uint64_t)i * PG, 0,
		       m->pa[i] | dg_leaf_bits(g, false, false));
	}
	m->npages = KDATA_PAGES;
	/* x64 keeps its pc at the page start; the others run real code
	 * at +0x100 (see dg_code_and_stack). */
	for (i = 0; i < ncpus; i++)
		dg_context(g, i,
			   g->kernbase +
				   (arch == KDT_DG_X64 ? 0 : DG_CODE_OFF) +
				   0x10 * i,
			   kbase + 0x600000 + 0x3F00 - 0x100 * i);
	dg_kdata(g, m->va);
	if (!big)
		dg_modules32(g, &b, m->va);
	if (arch != KDT_DG_X64)
		dg_code_and_stack(
			g, (uint64_t)(DATA_PFN + scatter[0]) * PG + DG_CODE_OFF,
			(uint64_t)KDATA_PFN * PG + 0x3F00, m->va);
	if (b.err) {
		kdt_dumpgen_free(g);
		return b.err;
	}
	return KD_OK;
}

/* ---- writing -------------------------------------------------------------- */

static int dg_read_page(void *ctx, uint64_t pfn, uint8_t *page)
{
	const struct kdt_dumpgen *g = ctx;

	return kdt_dumpgen_phys(g, pfn * PG, page, PG) ? 0 : -1;
}

static bool dg_keep_kernel(void *ctx, uint64_t pfn)
{
	const struct kdt_dumpgen *g = ctx;

	return pfn != g->user_pfn;
}

int kdt_dumpgen_write(const struct kdt_dumpgen *g, const char *path,
		      uint32_t type)
{
	struct kd_dump_write_params p;
	struct kd_dump_run runs[KDT_DG_MAX_RUNS];
	unsigned int i;

	memset(&p, 0, sizeof p);
	for (i = 0; i < g->nruns; i++) {
		runs[i].base_page = g->runs[i].base_page;
		runs[i].page_count = g->runs[i].page_count;
	}
	p.version = KD_DUMP_WRITE_PARAMS_VERSION;
	p.type = type;
	p.ptr64 = g->ptr64;
	p.pae = g->pae;
	p.machine = g->machine;
	p.major = 0xF;
	p.minor = g->build;
	p.ncpus = g->ncpus;
	p.dtb = g->dtb;
	p.ps_loaded_module_list = g->ps_loaded_module_list;
	p.ps_active_process_head = g->ps_active_process_head;
	p.kdbg = g->kdbg;
	p.bugcheck_code = g->bugcheck_code;
	memcpy(p.bugcheck_params, g->bugcheck_params, sizeof p.bugcheck_params);
	p.context = g->ctx[0];
	p.context_len = g->ctx_len;
	p.system_time = 0x01DA000000000000ull;
	p.system_uptime = 36000000000ull; /* 1 hour */
	p.comment = "openkd dumpgen fixture";
	p.runs = runs;
	p.nruns = g->nruns;
	if (type == KD_DUMP_BITMAP_KERNEL)
		p.keep_page = dg_keep_kernel;
	p.read_page = dg_read_page;
	p.ctx = (void *)(uintptr_t)g;
	p.bitmap_unaligned = g->bitmap_unaligned;
	return kd_dump_write(path, &p);
}

/* ---- the big sparse x64 dump -------------------------------------------- */

/* Big dump layout: PML4 at 1, PDPT at 2, PDs from 3, then the PTs. */
static uint64_t dg_big_npt(const struct kdt_dg_big *b)
{
	return b->mem_bytes >> 21;
}

static uint64_t dg_big_npd(const struct kdt_dg_big *b)
{
	return (dg_big_npt(b) + 511) / 512;
}

void kdt_dumpgen_big_page(const struct kdt_dg_big *b, uint64_t pfn,
			  uint8_t *page)
{
	uint64_t npt = dg_big_npt(b), npd = dg_big_npd(b), pt0 = 3 + npd, i;

	memset(page, 0, PG);
	if (pfn == 1) {
		/* PML4: one entry for KDT_DG_BIG_VA. */
		unsigned int idx = (unsigned int)(KDT_DG_BIG_VA >> 39) & 511;

		kd_put_le64(page + 8 * idx, 2 * PG | 0x63);
	} else if (pfn == 2) {
		for (i = 0; i < npd; i++)
			kd_put_le64(page + 8 * i, (3 + i) * PG | 0x63);
	} else if (pfn >= 3 && pfn < pt0) {
		uint64_t pd = pfn - 3;

		for (i = 0; i < 512 && pd * 512 + i < npt; i++)
			kd_put_le64(page + 8 * i,
				    (pt0 + pd * 512 + i) * PG | 0x63);
	} else if (pfn >= pt0 && pfn < b->first_data_pfn) {
		uint64_t t = pfn - pt0;

		for (i = 0; i < 512; i++)
			kd_put_le64(page + 8 * i, (t * 512 + i) * PG | 0x63);
	} else if (pfn >= b->first_data_pfn && pfn % b->dense_every == 0) {
		for (i = 0; i < PG; i += 8)
			kd_put_le64(page + i, kdt_dumpgen_word(pfn * PG + i));
	}
}

static int dg_big_read(void *ctx, uint64_t pfn, uint8_t *page)
{
	kdt_dumpgen_big_page(ctx, pfn, page);
	return 0;
}

int kdt_dumpgen_write_big(const char *path, uint64_t mem_bytes,
			  unsigned int dense_every, uint32_t type,
			  struct kdt_dg_big *out)
{
	struct kd_dump_write_params p;
	struct kd_dump_run run;
	uint8_t ctx[0x4D0];
	if (mem_bytes == 0 || mem_bytes > (64ull << 30) ||
	    (mem_bytes & ((1ull << 21) - 1)))
		return KD_EINVAL;
	memset(out, 0, sizeof *out);
	out->mem_bytes = mem_bytes;
	out->dense_every = dense_every ? dense_every : 1;
	out->dtb = 1 * PG;
	out->first_data_pfn = 3 + dg_big_npd(out) + dg_big_npt(out);
	memset(ctx, 0, sizeof ctx);
	kd_put_le32(ctx + 0x30, 0x0010001Fu);
	kd_put_le32(ctx + 0x34, 0x1F80);
	kd_put_le16(ctx + 0x38, 0x10);
	kd_put_le16(ctx + 0x3A, 0x2B);
	kd_put_le16(ctx + 0x3C, 0x2B);
	kd_put_le16(ctx + 0x3E, 0x53);
	kd_put_le16(ctx + 0x40, 0x2B);
	kd_put_le16(ctx + 0x42, 0x18);
	kd_put_le32(ctx + 0x44, 0x202);
	kd_put_le64(ctx + 0x98, KDT_DG_BIG_VA + 0x10000);
	kd_put_le64(ctx + 0xF8, KDT_DG_BIG_VA + 0x20000);
	kd_put_le32(ctx + 0x118, 0x1F80);
	run.base_page = 0;
	run.page_count = mem_bytes / PG;
	memset(&p, 0, sizeof p);
	p.version = KD_DUMP_WRITE_PARAMS_VERSION;
	p.type = type;
	p.ptr64 = true;
	p.machine = KD_DUMP_MACHINE_AMD64;
	p.major = 0xF;
	p.minor = 19041;
	p.ncpus = 1;
	p.dtb = out->dtb;
	p.bugcheck_code = 0x161;
	p.context = ctx;
	p.context_len = sizeof ctx;
	p.comment = "openkd dumpgen big sparse";
	p.runs = &run;
	p.nruns = 1;
	p.read_page = dg_big_read;
	p.ctx = out;
	return kd_dump_write(path, &p);
}
