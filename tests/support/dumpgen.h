/* SPDX-License-Identifier: MIT */
/*
 * Synthetic crash-dump fixtures: a small physical memory image with real
 * page tables (x64, x86, x86 PAE, ARM64), a KDBG block with per-processor
 * KPRCB contexts, and known virtual-to-physical mappings, written through
 * kd_dump_write(); plus a multi-GiB sparse x64 bitmap dump for benchmarks.
 */
#ifndef KD_DUMPGEN_H
#define KD_DUMPGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum kdt_dg_arch {
	KDT_DG_X64,
	KDT_DG_X86,	/* 2-level, 4 MiB large pages */
	KDT_DG_X86_PAE, /* PDPT + 2 levels, 2 MiB large pages */
	KDT_DG_ARM64,	/* 4 KiB granule, 4 levels, 2 MiB / 1 GiB blocks */
};

/* What a mapping exercises in the translation. */
enum kdt_dg_kind {
	KDT_DG_PAGE,	    /* ordinary 4 KiB page(s), scattered frames */
	KDT_DG_LARGE,	    /* 2 MiB (x64/PAE/ARM64) or 4 MiB (x86) page */
	KDT_DG_HUGE,	    /* 1 GiB page (x64, ARM64) */
	KDT_DG_TRANSITION,  /* x64/x86 PTE: valid clear, transition bit set */
	KDT_DG_KDATA,	    /* the KDBG / KPRCB / CONTEXT page(s) */
	KDT_DG_NOT_PRESENT, /* PTE is zero: translation must fail */
	KDT_DG_MISSING,	    /* PTE valid but the frame is not in the dump */
	KDT_DG_USERONLY,    /* data page a kernel bitmap dump leaves out */
};

/*
 * One mapping: @p len bytes at @p va; pa[] gives the frame of every page
 * (virtually contiguous, physically scattered for KDT_DG_PAGE).  The first
 * 32 bytes of each present data page hold the ASCII @p tag (NUL padded);
 * the rest follows kdt_dumpgen_word().
 */
#define KDT_DG_MAX_PAGES 8
struct kdt_dg_map {
	enum kdt_dg_kind kind;
	uint64_t va;
	uint64_t len;
	unsigned int npages;	       /* pages described in pa[] */
	uint64_t pa[KDT_DG_MAX_PAGES]; /* physical address of each page */
	char tag[32];
};

#define KDT_DG_MAX_MAPS 16
#define KDT_DG_MAX_RUNS 4
#define KDT_DG_MAX_CPUS 8
#define KDT_DG_CTX_MAX 0x4D0

struct kdt_dg_run {
	uint64_t base_page, page_count;
	uint8_t *mem; /* page_count * 4096 bytes */
};

struct kdt_dumpgen {
	enum kdt_dg_arch arch;
	uint32_t machine; /* KD_DUMP_MACHINE_* */
	bool ptr64, pae;
	uint32_t build;
	unsigned int ncpus;
	uint64_t dtb;
	uint64_t kdbg; /* VA of the KDBG block */
	uint64_t kernbase;
	uint64_t ps_loaded_module_list, ps_active_process_head;
	uint64_t ki_processor_block;
	uint32_t bugcheck_code;
	uint64_t bugcheck_params[4];
	size_t ctx_len; /* CONTEXT size of the machine */
	uint8_t ctx[KDT_DG_MAX_CPUS][KDT_DG_CTX_MAX];
	uint64_t ctx_va[KDT_DG_MAX_CPUS]; /* where each CPU's CONTEXT lives */
	uint64_t prcb_va[KDT_DG_MAX_CPUS];
	struct kdt_dg_map maps[KDT_DG_MAX_MAPS];
	unsigned int nmaps;
	struct kdt_dg_run runs[KDT_DG_MAX_RUNS];
	unsigned int nruns;
	uint64_t user_pfn;     /* the KDT_DG_USERONLY frame */
	bool bitmap_unaligned; /* write: WinDbg's FirstPage */
	uint64_t drv_base;     /* x86/PAE: the PE32 module, or 0 */
};

/*
 * x86, PAE and ARM64 fixtures run code: processor i's pc is kernbase +
 * KDT_DG_CODE_OFF + 0x10 * i, where 16 bytes of real instructions sit
 * (x86: mov eax,dword ptr [ebp+8]; test; je; xor; leave; ret 4 / ARM64:
 * ldr x0,[x1]; cbz x0; ret; brk #0xF000), and its stack holds a frame
 * chain: x86 ebp = esp+0x20 -> +0x40 -> +0x60 (return 0) with return
 * addresses kernbase+0x200+0x10*i, +0x300+0x10*i and args 0xA0000001..;
 * ARM64 fp = sp+0x40 -> sp+0x80 -> 0 with saved lr kernbase+0x200+0x10*i
 * then +0x300+0x10*i.  x64 fixtures keep pc = kernbase + 0x10 * i.
 */
#define KDT_DG_CODE_OFF 0x100

/*
 * x86 and PAE fixtures also carry a loaded-module list (32-bit
 * LDR_DATA_TABLE_ENTRYs in the KDATA page after KiProcessorBlock): "nt"
 * (ntoskrnl.exe, PAE: ntkrnlpa.exe) at kernbase, KDT_DG_NT_SIZE bytes,
 * no PE header (the tagged data pages stay as they are), then
 * KDT_DG_DRV_NAME, a 3-page PE32 image at kernbase + KDT_DG_DRV_OFF:
 * headers, .text at RVA 0x1000 with exports KDT_DG_DRV_EXPORT0 (RVA
 * 0x1000: push ebp; mov ebp,esp; mov eax,dword ptr [ebp+8]; pop ebp;
 * ret 4) and KDT_DG_DRV_EXPORT1 (RVA 0x1010: xor eax,eax; ret), .edata
 * at RVA 0x2000.  Other machines keep an empty list.
 */
#define KDT_DG_NT_SIZE 0x4000u
#define KDT_DG_DRV_OFF 0x100000u
#define KDT_DG_DRV_SIZE 0x3000u
#define KDT_DG_DRV_NAME "dgdrv.sys"
#define KDT_DG_DRV_EXPORT0 "DgDispatch"
#define KDT_DG_DRV_EXPORT1 "DgReset"
#define KDT_DG_DRV_TIMESTAMP 0x4CE7A1B2u
#define KDT_DG_DRV_CHECKSUM 0x0000C0DEu

/* KDBG layout choices of the fixtures (also what a reader must find). */
#define KDT_DG_PRCB_CONTEXT_PTR 0x40 /* KPRCB: pointer to CONTEXT */
#define KDT_DG_PRCB_NUMBER 0x24	     /* KPRCB: u8 processor number */
#define KDT_DG_PRCB_CURRENT_THREAD 0x08
#define KDT_DG_PRCB_PROCSTATE_CONTEXT 0x100 /* KPRCB: embedded CONTEXT */
#define KDT_DG_PRCB_SIZE 0x600
/*
 * x86 / PAE only: KSPECIAL_REGISTERS after the embedded CONTEXT (KDBG
 * OffsetPrcbProcStateSpecialReg): Cr0 = KDT_DG_X86_CR0, Cr2 =
 * KDT_DG_X86_CR2 + processor number, Cr3 = dtb, Cr4 = KDT_DG_X86_CR4
 * (| 0x20 PAE on PAE fixtures).
 */
#define KDT_DG_PRCB_SPECIAL_REG (KDT_DG_PRCB_PROCSTATE_CONTEXT + 0x2CC)
#define KDT_DG_X86_CR0 0x8001003Bu
#define KDT_DG_X86_CR2 0xC0DE0000u
#define KDT_DG_X86_CR4 0x000006D9u

/* Build the image (not written yet).  @p ncpus 1..KDT_DG_MAX_CPUS. */
int kdt_dumpgen_build(struct kdt_dumpgen *g, enum kdt_dg_arch arch,
		      unsigned int ncpus);

/* Write it as KD_DUMP_FULL / _BITMAP_FULL / _BITMAP_KERNEL (KD_* code). */
int kdt_dumpgen_write(const struct kdt_dumpgen *g, const char *path,
		      uint32_t type);

void kdt_dumpgen_free(struct kdt_dumpgen *g);

/* Copy physical memory of the image; false if any byte is not in it. */
bool kdt_dumpgen_phys(const struct kdt_dumpgen *g, uint64_t pa, void *buf,
		      size_t len);

/* The pattern word at physical address @p pa (8-aligned) of data pages. */
uint64_t kdt_dumpgen_word(uint64_t pa);

/* First map of @p kind, or NULL. */
const struct kdt_dg_map *kdt_dumpgen_find(const struct kdt_dumpgen *g,
					  enum kdt_dg_kind kind);

/* ---- large sparse x64 bitmap dump (benchmarks) ------------------------ */

/*
 * @p mem_bytes of physical memory (multiple of 2 MiB, at most 64 GiB) all
 * mapped with 4 KiB pages at KDT_DG_BIG_VA + pa; every @p dense_every-th
 * data page holds kdt_dumpgen_word() words, the others are zero (file
 * holes).  Written as @p type (KD_DUMP_FULL or a bitmap type).
 */
#define KDT_DG_BIG_VA 0xFFFFA00000000000ull
struct kdt_dg_big {
	uint64_t mem_bytes;
	unsigned int dense_every;
	uint64_t dtb;
	uint64_t first_data_pfn; /* frames below hold the page tables */
};
int kdt_dumpgen_write_big(const char *path, uint64_t mem_bytes,
			  unsigned int dense_every, uint32_t type,
			  struct kdt_dg_big *out);

/* Expected content of a page of the big dump (4096 bytes). */
void kdt_dumpgen_big_page(const struct kdt_dg_big *b, uint64_t pfn,
			  uint8_t *page);

#endif /* KD_DUMPGEN_H */
