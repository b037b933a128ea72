/* SPDX-License-Identifier: MIT */
/*
 * kdsim's hardware: sparse physical memory, real 4-level page tables in it,
 * one unicorn engine whose virtual mappings share the host bytes of their
 * physical pages, the PE loader and the Windows structures laid out at boot.
 */
#include "sim_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <kd/alloc.h>
#include <kdsim/pe.h>
#include <kd/proto/layout.h>
#include <kd/proto/wire.h>

#include "ntstructs.h"
#include "simabi.h"

#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_A 0x20ull
#define PTE_D 0x40ull
#define PTE_PS 0x80ull
#define PTE_ADDR 0x000FFFFFFFFFF000ull

/* Boot images: the kernel and the boot drivers; later slots load on demand. */
static const char *const boot_images[] = { "ntoskrnl.exe", "hal.dll",
					   "kdcom.dll" };
static const char *const slot_images[] = { "simdrv.sys", "simnet.sys" };

void sim_log(const struct kdsim *m, const char *fmt, ...)
{
	va_list ap;

	if (!m->cfg.verbose)
		return;
	va_start(ap, fmt);
	fputs("kdsim: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* --- physical memory and page tables --- */

static uint64_t phys_get64(const struct kdsim *m, uint64_t pa)
{
	return kd_get_le64(m->phys + pa);
}

static void phys_put64(struct kdsim *m, uint64_t pa, uint64_t v)
{
	kd_put_le64(m->phys + pa, v);
}

static int pt_alloc(struct kdsim *m, uint64_t *pa)
{
	if (m->pt_next >= SIM_PT_END)
		return KD_ENOMEM;
	*pa = m->pt_next;
	memset(m->phys + m->pt_next, 0, SIM_PAGE);
	m->pt_next += SIM_PAGE;
	return KD_OK;
}

/* Entry of the next level below table @table, creating it if needed. */
static int pt_next_level(struct kdsim *m, uint64_t table, unsigned int idx,
			 uint64_t *next)
{
	uint64_t e = phys_get64(m, table + idx * 8ull);
	int rc;

	if (!(e & PTE_P)) {
		rc = pt_alloc(m, next);
		if (rc < 0)
			return rc;
		phys_put64(m, table + idx * 8ull, *next | PTE_P | PTE_RW);
		return KD_OK;
	}
	*next = e & PTE_ADDR;
	return KD_OK;
}

/* Map [va, va+size) onto [pa, ...) under PML4 @root: 2 MiB pages when
 * @large. */
static int pt_map_root(struct kdsim *m, uint64_t root, uint64_t va, uint64_t pa,
		       uint64_t size, bool large)
{
	uint64_t step = large ? (2ull << 20) : SIM_PAGE;
	uint64_t off;
	int rc;

	for (off = 0; off < size; off += step) {
		uint64_t v = va + off, pdpt, pd, pt;

		rc = pt_next_level(m, root, (v >> 39) & 511, &pdpt);
		if (rc == KD_OK)
			rc = pt_next_level(m, pdpt, (v >> 30) & 511, &pd);
		if (rc < 0)
			return rc;
		if (large) {
			phys_put64(m, pd + ((v >> 21) & 511) * 8,
				   (pa + off) | PTE_P | PTE_RW | PTE_A | PTE_D |
					   PTE_PS);
			continue;
		}
		rc = pt_next_level(m, pd, (v >> 21) & 511, &pt);
		if (rc < 0)
			return rc;
		phys_put64(m, pt + ((v >> 12) & 511) * 8,
			   (pa + off) | PTE_P | PTE_RW | PTE_A | PTE_D);
	}
	return KD_OK;
}

static int pt_map(struct kdsim *m, uint64_t va, uint64_t pa, uint64_t size,
		  bool large)
{
	return pt_map_root(m, m->pml4, va, pa, size, large);
}

/*
 * A new address space: its own PML4 whose kernel half (entries 256-511)
 * shares the boot PML4's lower tables, as every Windows process's does.
 */
int sim_new_address_space(struct kdsim *m, uint64_t *root)
{
	int rc = pt_alloc(m, root);
	unsigned int i;

	if (rc < 0)
		return rc;
	for (i = 256; i < 512; i++)
		phys_put64(m, *root + i * 8ull,
			   phys_get64(m, m->pml4 + i * 8ull));
	return KD_OK;
}

/* A fresh zeroed physical page mapped at @va under @root. */
int sim_map_new_page(struct kdsim *m, uint64_t root, uint64_t va)
{
	uint64_t pa;
	int rc = pt_alloc(m, &pa);

	if (rc == KD_OK)
		rc = pt_map_root(m, root, va, pa, SIM_PAGE, false);
	return rc;
}

uint64_t sim_translate(const struct kdsim *m, uint64_t va, bool *ok)
{
	uint64_t e = m->pml4;
	int level;

	*ok = false;
	for (level = 3; level >= 0; level--) {
		unsigned int shift = 12 + 9 * (unsigned int)level;
		uint64_t table = e & PTE_ADDR;

		if (table + SIM_PAGE > m->phys_size)
			return 0;
		e = phys_get64(m, table + ((va >> shift) & 511) * 8);
		if (!(e & PTE_P))
			return 0;
		if (level > 0 && level < 3 && (e & PTE_PS)) {
			uint64_t mask = (1ull << shift) - 1;

			*ok = true;
			return ((e & PTE_ADDR) & ~mask) | (va & mask);
		}
	}
	*ok = true;
	return (e & PTE_ADDR) | (va & 0xFFF);
}

void sim_flush_code(struct kdsim *m)
{
	/* Not uc_ctl_flush_tlb(): unicorn 2.0.1 touches its whole 1 GiB
	 * translation buffer on a full flush. */
	uc_ctl_remove_cache(m->uc, KDSIM_KERNEL_WINDOW_VA,
			    KDSIM_KERNEL_WINDOW_VA + KDSIM_KERNEL_WINDOW_SIZE);
	uc_ctl_remove_cache(m->uc, KDSIM_POOL_VA,
			    KDSIM_POOL_VA + KDSIM_POOL_SIZE);
}

static void invalidate_code(struct kdsim *m, uint64_t va, uint32_t len)
{
	if (len)
		uc_ctl_remove_cache(m->uc, va, va + len);
}

int sim_read_virtual(struct kdsim *m, uint64_t va, void *buf, uint32_t len,
		     uint32_t *done)
{
	uint8_t *out = buf;
	uint32_t n = 0;

	while (n < len) {
		bool ok;
		uint64_t pa = sim_translate(m, va + n, &ok);
		uint32_t chunk = (uint32_t)(SIM_PAGE - ((va + n) & 0xFFF));

		if (!ok || pa >= m->phys_size)
			break;
		if (chunk > len - n)
			chunk = len - n;
		memcpy(out + n, m->phys + pa, chunk);
		n += chunk;
	}
	*done = n;
	return n == len ? KD_OK : KD_ETRUNC;
}

int sim_write_virtual(struct kdsim *m, uint64_t va, const void *buf,
		      uint32_t len, uint32_t *done)
{
	const uint8_t *in = buf;
	uint32_t n = 0;

	while (n < len) {
		bool ok;
		uint64_t pa = sim_translate(m, va + n, &ok);
		uint32_t chunk = (uint32_t)(SIM_PAGE - ((va + n) & 0xFFF));

		if (!ok || pa >= m->phys_size)
			break;
		if (chunk > len - n)
			chunk = len - n;
		memcpy(m->phys + pa, in + n, chunk);
		n += chunk;
	}
	invalidate_code(m, va, n);
	*done = n;
	return n == len ? KD_OK : KD_ETRUNC;
}

/* Boot-time writers into kernel virtual memory (always mapped). */
void sim_vput64(struct kdsim *m, uint64_t va, uint64_t v)
{
	uint8_t b[8];
	uint32_t done;

	kd_put_le64(b, v);
	(void)sim_write_virtual(m, va, b, 8, &done);
}

void sim_vput32(struct kdsim *m, uint64_t va, uint32_t v)
{
	uint8_t b[4];
	uint32_t done;

	kd_put_le32(b, v);
	(void)sim_write_virtual(m, va, b, 4, &done);
}

void sim_vput16(struct kdsim *m, uint64_t va, uint16_t v)
{
	uint8_t b[2];
	uint32_t done;

	kd_put_le16(b, v);
	(void)sim_write_virtual(m, va, b, 2, &done);
}

void sim_vputs(struct kdsim *m, uint64_t va, const void *s, size_t n)
{
	uint32_t done;

	(void)sim_write_virtual(m, va, s, (uint32_t)n, &done);
}

uint64_t sim_pool_alloc(struct kdsim *m, uint64_t size, uint64_t align)
{
	uint64_t va = (m->pool_next + align - 1) & ~(align - 1);

	if (va + size > KDSIM_POOL_VA + KDSIM_POOL_SIZE)
		return 0;
	m->pool_next = va + size;
	return va;
}

/* A UNICODE_STRING at @us whose buffer (in pool) holds @s in UTF-16LE. */
void sim_put_unicode(struct kdsim *m, uint64_t us, const char *s)
{
	size_t n = strlen(s), i;
	uint64_t buf = sim_pool_alloc(m, (n + 1) * 2, 8);

	for (i = 0; i <= n; i++)
		sim_vput16(m, buf + i * 2, (uint8_t)s[i]);
	sim_vput16(m, us, (uint16_t)(n * 2));
	sim_vput16(m, us + 2, (uint16_t)(n * 2 + 2));
	sim_vput64(m, us + 8, buf);
}

/* Insert @entry (a LIST_ENTRY64) at the tail of list @head. */
void sim_list_insert_tail(struct kdsim *m, uint64_t head, uint64_t entry)
{
	uint8_t b[8] = { 0 }; /* an unmapped head reads as an empty list */
	uint32_t done;
	uint64_t blink;

	(void)sim_read_virtual(m, head + 8, b, 8, &done);
	blink = kd_get_le64(b);
	if (blink == 0)
		blink = head;
	sim_vput64(m, entry, head);
	sim_vput64(m, entry + 8, blink);
	sim_vput64(m, blink, entry);
	sim_vput64(m, head + 8, entry);
}

void sim_list_init(struct kdsim *m, uint64_t head)
{
	sim_vput64(m, head, head);
	sim_vput64(m, head + 8, head);
}

/* --- PE32+ loading --- */

static int read_file(const char *path, uint8_t **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long n = -1;

	if (!f)
		return KD_ENOTFOUND;
	if (fseek(f, 0, SEEK_END) == 0)
		n = ftell(f);
	if (n < 0 || n > (32L << 20) || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return KD_ERROR;
	}
	*data = kd_malloc((size_t)n + 1);
	if (!*data) {
		fclose(f);
		return KD_ENOMEM;
	}
	if (fread(*data, 1, (size_t)n, f) != (size_t)n) {
		kd_free(*data);
		fclose(f);
		return KD_ERROR;
	}
	fclose(f);
	*len = (size_t)n;
	return KD_OK;
}

/* Copy the PE32+ image @name to its preferred base inside the window. */
static int load_pe(struct kdsim *m, const char *name, struct sim_image *img)
{
	char path[700];
	uint8_t *d = NULL;
	size_t len = 0;
	struct kdsim_pe pe;
	const char *why = "";
	uint64_t off;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", m->kernel_dir, name);
	rc = read_file(path, &d, &len);
	if (rc < 0) {
		fprintf(stderr, "kdsim: cannot read kernel image %s\n", path);
		return rc;
	}
	rc = kdsim_pe_parse(&pe, d, len, &why);
	off = pe.image_base - KDSIM_KERNEL_WINDOW_VA;
	if (rc == KD_OK &&
	    (pe.image_base < KDSIM_KERNEL_WINDOW_VA ||
	     off >= KDSIM_KERNEL_WINDOW_SIZE ||
	     off + pe.size_of_image > KDSIM_KERNEL_WINDOW_SIZE)) {
		why = "ImageBase outside kdsim's kernel window";
		rc = KD_EPROTO;
	}
	if (rc == KD_OK)
		rc = kdsim_pe_layout(&pe, d, len, m->phys + off,
				     KDSIM_KERNEL_WINDOW_SIZE - off);
	kd_free(d);
	if (rc < 0) {
		fprintf(stderr, "kdsim: %s: %s\n", path, why);
		return rc;
	}
	snprintf(img->name, sizeof(img->name), "%s", name);
	img->base = pe.image_base;
	img->size = pe.size_of_image;
	img->checksum = pe.checksum;
	img->timestamp = pe.timestamp;
	img->entry = pe.image_base + pe.entry_rva;
	img->loaded = true;
	invalidate_code(m, img->base, img->size);
	return KD_OK;
}

/* Export lookup in a loaded image, through its export directory. */
static uint64_t image_export(const struct kdsim *m, const struct sim_image *img,
			     const char *name)
{
	uint32_t rva;

	if (!img->loaded)
		return 0;
	rva = kdsim_pe_export(m->phys + (img->base - KDSIM_KERNEL_WINDOW_VA),
			      img->size, name);
	return rva ? img->base + rva : 0;
}

uint64_t kdsim_kernel_export(const struct kdsim *m, const char *name)
{
	return image_export(m, &m->img[0], name);
}

/* Put an LDR_DATA_TABLE_ENTRY64 for image @img into PsLoadedModuleList. */
static void link_ldr(struct kdsim *m, const struct sim_image *img)
{
	uint64_t e = sim_pool_alloc(m, SIM_LDR_SIZE, 16);
	char full[96];

	snprintf(full, sizeof(full), "\\SystemRoot\\system32\\%s%s",
		 strstr(img->name, ".sys") ? "drivers\\" : "", img->name);
	sim_vput64(m, e + 0x30, img->base);
	sim_vput64(m, e + 0x38, img->entry);
	sim_vput32(m, e + 0x40, img->size);
	sim_put_unicode(m, e + 0x48, full);
	sim_put_unicode(m, e + 0x58, img->name);
	sim_vput32(m, e + 0x68, 0x000C4000); /* Flags: image, entry processed */
	sim_vput16(m, e + 0x6C, 1);	     /* LoadCount */
	sim_vput32(m, e + 0x80, img->timestamp);
	sim_list_insert_tail(m, m->ps_loaded_module_list, e);
}

int sim_load_module(struct kdsim *m, unsigned int slot, unsigned int *idx)
{
	unsigned int i = m->nimg;
	int rc;

	if (slot >= KD_ARRAY_SIZE(slot_images) || i >= SIM_MAX_MODULES)
		return KD_EINVAL;
	for (i = 0; i < m->nimg; i++) {
		if (strcmp(m->img[i].name, slot_images[slot]) == 0) {
			*idx = i;
			return KD_EBUSY;
		}
	}
	rc = load_pe(m, slot_images[slot], &m->img[i]);
	if (rc < 0)
		return rc;
	link_ldr(m, &m->img[i]);
	m->nimg++;
	*idx = i;
	return KD_OK;
}

/* --- Windows structures --- */

static void build_gdt(struct kdsim *m)
{
	static const uint64_t gdt[] = {
		0,		       /* 0x00 */
		0,		       /* 0x08 */
		0x00209B0000000000ull, /* 0x10 KGDT64_R0_CODE */
		0x00CF93000000FFFFull, /* 0x18 KGDT64_R0_DATA */
		0x00CFFB000000FFFFull, /* 0x20 KGDT64_R3_CMCODE */
		0x00CFF3000000FFFFull, /* 0x28 KGDT64_R3_DATA */
		0x0020FB0000000000ull, /* 0x30 KGDT64_R3_CODE */
		0,		       /* 0x38 */
		0,
		0,		       /* 0x40 TSS (filled below) */
		0x0040F30000003C00ull, /* 0x50 KGDT64_R3_CMTEB */
	};
	unsigned int i;

	m->gdt = sim_pool_alloc(m, SIM_PAGE, SIM_PAGE);
	m->idt = sim_pool_alloc(m, SIM_PAGE, SIM_PAGE);
	m->tss = sim_pool_alloc(m, 0x68, 16);
	for (i = 0; i < KD_ARRAY_SIZE(gdt); i++)
		sim_vput64(m, m->gdt + i * 8, gdt[i]);
	sim_vput64(m, m->gdt + 0x40,
		   0x0000890000000067ull | ((m->tss & 0xFFFFFF) << 16) |
			   (((m->tss >> 24) & 0xFF) << 56));
	sim_vput64(m, m->gdt + 0x48, m->tss >> 32);
}

static void build_kdbg(struct kdsim *m)
{
	uint64_t k = m->kdbg;
	uint64_t nt = m->img[0].base;

	sim_vput32(m, k + KD_KDBG_OFF_OWNER_TAG, KD_KDBG_TAG);
	sim_vput32(m, k + KD_KDBG_OFF_SIZE, KD_KDBG_SIZE_MAX);
	sim_vput64(m, k + KD_KDBG_OFF_KERN_BASE, nt);
	sim_vput64(m, k + KD_KDBG_OFF_BREAKPOINT_WITH_STATUS,
		   m->bp_with_status);
	sim_vput16(m, k + KD_KDBG_OFF_PAE_ENABLED, 1 | (4 << 2));
	sim_vput64(m, k + KD_KDBG_OFF_PS_LOADED_MODULE_LIST,
		   m->ps_loaded_module_list);
	sim_vput64(m, k + KD_KDBG_OFF_PS_ACTIVE_PROCESS_HEAD,
		   m->ps_active_process_head);
	sim_vput64(m, k + KD_KDBG_OFF_MM_PAGE_SIZE, SIM_PAGE);
	sim_vput64(m, k + KD_KDBG_OFF_MM_HIGHEST_USER_ADDRESS,
		   0x7FFFFFFEFFFFull);
	sim_vput64(m, k + KD_KDBG_OFF_MM_SYSTEM_RANGE_START,
		   0xFFFF800000000000ull);
	sim_vput64(m, k + KD_KDBG_OFF_NT_BUILD_LAB,
		   kdsim_kernel_export(m, "NtBuildLab"));
	sim_vput64(m, k + KD_KDBG_OFF_KI_PROCESSOR_BLOCK,
		   kdsim_kernel_export(m, "KiProcessorBlock"));
	sim_vput16(m, k + KD_KDBG_OFF_SIZE_EPROCESS, sizeof(struct _EPROCESS));
	sim_vput16(m, k + KD_KDBG_OFF_OFFSET_EPROCESS_DTB,
		   offsetof(struct _KPROCESS, DirectoryTableBase));
	sim_vput16(m, k + KD_KDBG_OFF_OFFSET_EPROCESS_PEB,
		   offsetof(struct _EPROCESS, Peb));
	sim_vput16(m, k + KD_KDBG_OFF_OFFSET_PRCB_CURRENT_THREAD,
		   offsetof(struct _KPRCB, CurrentThread));
	sim_vput64(m, k + KD_KDBG_OFF_OBP_ROOT_DIRECTORY_OBJECT,
		   kdsim_kernel_export(m, "ObpRootDirectoryObject"));
	/* The registered-block list: head <-> this block. */
	sim_vput64(m, m->kdbg_list_head, k);
	sim_vput64(m, m->kdbg_list_head + 8, k);
	sim_vput64(m, k + KD_KDBG_OFF_FLINK, m->kdbg_list_head);
	sim_vput64(m, k + KD_KDBG_OFF_BLINK, m->kdbg_list_head);
}

/*
 * What a crash-dump writer needs from the KDBG: MmPhysicalMemoryBlock (a
 * pointer variable to a PHYSICAL_MEMORY_DESCRIPTOR64; page 0 and the
 * legacy hole 0xA0000-0xFFFFF are left out as on a PC), KiBugCheckData,
 * and where each KPRCB keeps its ProcessorState CONTEXT.  Allocated
 * after the processors so the pool layout before it is unchanged.
 */
static void build_kdbg_dump_fields(struct kdsim *m)
{
	uint64_t k = m->kdbg, pages = m->phys_size / SIM_PAGE;
	uint64_t var = sim_pool_alloc(m, 8, 8);
	uint64_t d = sim_pool_alloc(m, 0x10 + 2 * 16, 8);

	if (!var || !d)
		return;
	sim_vput32(m, d, 2);
	sim_vput64(m, d + 0x08, pages - 0x61);
	sim_vput64(m, d + 0x10, 0x1);
	sim_vput64(m, d + 0x18, 0x9F);
	sim_vput64(m, d + 0x20, 0x100);
	sim_vput64(m, d + 0x28, pages - 0x100);
	sim_vput64(m, var, d);
	sim_vput64(m, k + KD_KDBG_OFF_MM_PHYSICAL_MEMORY_BLOCK, var);
	sim_vput64(m, k + 0x88, kdsim_kernel_export(m, "KiBugCheckData"));
	sim_vput16(m, k + KD_KDBG_OFF_OFFSET_PRCB_PROC_STATE_CONTEXT,
		   offsetof(struct _KPRCB, ProcessorState.ContextFrame));
}

static int uc_check(uc_err e, const char *what)
{
	if (e == UC_ERR_OK)
		return KD_OK;
	fprintf(stderr, "kdsim: unicorn %s: %s\n", what, uc_strerror(e));
	return KD_ERROR;
}

uint64_t sim_reg(struct kdsim *m, int reg)
{
	uint64_t v = 0;

	uc_reg_read(m->uc, reg, &v);
	return v;
}

void sim_set_reg(struct kdsim *m, int reg, uint64_t v)
{
	uc_reg_write(m->uc, reg, &v);
}

int sim_select_cpu(struct kdsim *m, int cpu)
{
	if (cpu == m->loaded)
		return KD_OK;
	if (m->loaded >= 0 &&
	    uc_context_save(m->uc, m->cpu[m->loaded].uctx) != UC_ERR_OK)
		return KD_ERROR;
	if (uc_context_restore(m->uc, m->cpu[cpu].uctx) != UC_ERR_OK)
		return KD_ERROR;
	m->loaded = cpu;
	return KD_OK;
}

static int reset_cpu(struct kdsim *m, unsigned int i)
{
	struct sim_cpu *c = &m->cpu[i];
	uint64_t entry = kdsim_kernel_export(m, "KiSystemStartup");
	uint64_t stack = sim_pool_alloc(m, SIM_STACK_SIZE, SIM_PAGE);
	uc_x86_mmr gdtr = { 0, m->gdt, 0x57, 0 };
	uc_x86_mmr idtr = { 0, m->idt, 0xFFF, 0 };
	uint64_t kbp = kdsim_kernel_export(m, "KiProcessorBlock");
	int rc = KD_OK;
	uc_context *uctx = c->uctx;

	memset(c, 0, sizeof(*c));
	c->uctx = uctx;
	c->kpcr = sim_pool_alloc(m, SIM_PAGE * 2, SIM_PAGE);
	c->kprcb = c->kpcr + offsetof(struct _KPCR, Prcb);
	if (!entry || !stack || !c->kpcr || !kbp)
		return KD_ENOMEM;
	c->stack_top = stack + SIM_STACK_SIZE;
	c->kthread = sim_cpu_thread(m, i, stack, c->stack_top, entry);
	if (!c->kthread)
		return KD_ENOMEM;
	sim_build_pcr(m, i);
	sim_vput64(m, kbp + i * 8ull, c->kprcb);

	c->ks.cr0 = 0x80050033;
	c->ks.cr3 = m->pml4;
	c->ks.cr4 = 0x350EF8;
	c->ks.gdtr_base = m->gdt;
	c->ks.gdtr_limit = 0x57;
	c->ks.idtr_base = m->idt;
	c->ks.idtr_limit = 0xFFF;
	c->ks.tr = 0x40;
	c->ks.mxcsr = 0x1F80;
	c->ks.has_xcr0 = true;
	c->ks.xcr0 = 0x7;
	c->msr_star = 0x0023001000000000ull;
	c->msr_sfmask = 0x4700;
	c->dr7 = 0x400;
	c->dr6 = 0xFFFF0FF0;

	if (!c->uctx && uc_context_alloc(m->uc, &c->uctx) != UC_ERR_OK)
		return KD_ENOMEM;
	m->loaded = -1;
	/* Fresh register state for this processor. */
	{
		static const int zero_regs[] = {
			UC_X86_REG_RAX, UC_X86_REG_RBX, UC_X86_REG_RDX,
			UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_RBP,
			UC_X86_REG_R8,	UC_X86_REG_R9,	UC_X86_REG_R10,
			UC_X86_REG_R11, UC_X86_REG_R12, UC_X86_REG_R13,
			UC_X86_REG_R14, UC_X86_REG_R15,
		};
		unsigned int r;

		for (r = 0; r < KD_ARRAY_SIZE(zero_regs); r++)
			sim_set_reg(m, zero_regs[r], 0);
	}
	rc = uc_check(uc_reg_write(m->uc, UC_X86_REG_GDTR, &gdtr), "GDTR");
	if (rc == KD_OK)
		rc = uc_check(uc_reg_write(m->uc, UC_X86_REG_IDTR, &idtr),
			      "IDTR");
	if (rc < 0)
		return rc;
	/* Windows' selectors; unicorn may refuse some, which is harmless. */
	sim_set_reg(m, UC_X86_REG_SS, 0x18);
	sim_set_reg(m, UC_X86_REG_DS, 0x2B);
	sim_set_reg(m, UC_X86_REG_ES, 0x2B);
	sim_set_reg(m, UC_X86_REG_FS, 0x53);
	sim_set_reg(m, UC_X86_REG_GS, 0x2B);
	sim_set_reg(m, UC_X86_REG_GS_BASE, c->kpcr);
	sim_set_reg(m, UC_X86_REG_RSP, c->stack_top - 0x28);
	sim_vput64(m, c->stack_top - 0x28, 0); /* return address of the entry */
	sim_set_reg(m, UC_X86_REG_RCX, i);
	sim_set_reg(m, UC_X86_REG_RIP, entry);
	sim_set_reg(m, UC_X86_REG_EFLAGS, 0x202);
	if (uc_context_save(m->uc, c->uctx) != UC_ERR_OK)
		return KD_ERROR;
	return KD_OK;
}

int sim_boot(struct kdsim *m)
{
	unsigned int i;
	int rc;

	/* Power cycle: every page back to zero, backing returned to the OS. */
	if (madvise(m->phys, m->phys_size, MADV_DONTNEED) != 0)
		return KD_ERROR;
	sim_flush_code(m);
	m->pt_next = SIM_PT_BASE;
	m->nimg = 0;
	memset(m->img, 0, sizeof(m->img));
	m->bugchecked = false;
	m->reboot_pending = false;
	memset(m->bugcheck, 0, sizeof(m->bugcheck));
	m->pool_next = KDSIM_POOL_VA;
	rc = pt_alloc(m, &m->pml4);
	if (rc == KD_OK)
		rc = pt_map(m, KDSIM_KERNEL_WINDOW_VA, 0,
			    KDSIM_KERNEL_WINDOW_SIZE, true);
	if (rc == KD_OK)
		rc = pt_map(m, KDSIM_POOL_VA, m->pool_pa, KDSIM_POOL_SIZE,
			    false);
	for (i = 0; rc == KD_OK && i < KD_ARRAY_SIZE(boot_images); i++) {
		rc = load_pe(m, boot_images[i], &m->img[i]);
		m->nimg = i + 1;
	}
	if (rc < 0)
		return rc;
	m->ps_loaded_module_list = kdsim_kernel_export(m, "PsLoadedModuleList");
	m->ps_active_process_head = kdsim_kernel_export(m,
							"PsActiveProcessHead");
	m->kdbg = kdsim_kernel_export(m, "KdDebuggerDataBlock");
	m->kdbg_list_head = kdsim_kernel_export(m, "KdpDebuggerDataListHead");
	m->bp_with_status = kdsim_kernel_export(m, "DbgBreakPointWithStatus");
	m->dbg_break_point = kdsim_kernel_export(m, "DbgBreakPoint");
	if (!m->ps_loaded_module_list || !m->ps_active_process_head ||
	    !m->kdbg || !m->kdbg_list_head || !m->bp_with_status ||
	    !kdsim_kernel_export(m, "KiSystemStartup")) {
		fprintf(stderr, "kdsim: the kernel lacks a required export\n");
		return KD_EPROTO;
	}
	sim_list_init(m, m->ps_loaded_module_list);
	for (i = 0; i < m->nimg; i++)
		link_ldr(m, &m->img[i]);
	build_gdt(m);
	rc = sim_build_processes(m);
	if (rc < 0)
		return rc;
	build_kdbg(m);
	sim_vput32(m, kdsim_kernel_export(m, "KeNumberProcessors"),
		   m->cfg.cpus);
	for (i = 0; i < m->cfg.cpus; i++) {
		rc = reset_cpu(m, i);
		if (rc < 0)
			return rc;
	}
	rc = sim_build_io(m);
	if (rc < 0)
		return rc;
	build_kdbg_dump_fields(m);
	m->loaded = -1;
	m->boots++;
	sim_update_hw_hook(m);
	sim_log(m,
		"booted: %u processors, %llu MiB, kernel at %#llx, "
		"pml4 %#llx",
		m->cfg.cpus, (unsigned long long)(m->phys_size >> 20),
		(unsigned long long)m->img[0].base,
		(unsigned long long)m->pml4);
	return KD_OK;
}

const char *kdsim_default_kernel_dir(void)
{
	return KDSIM_DEFAULT_KERNEL_DIR;
}

/* run.c installs the hooks. */
int sim_install_hooks(struct kdsim *m);

int kdsim_create(struct kdsim **out, const struct kdsim_config *cfg)
{
	struct kdsim *m;
	int rc;

	*out = NULL;
	if (!cfg || cfg->cpus < 1 || cfg->cpus > KDSIM_MAX_CPUS ||
	    cfg->mem_gib < 1 || cfg->mem_gib > 1024 ||
	    (cfg->mem_mib &&
	     (cfg->mem_mib < KDSIM_MIN_MEM_MIB || cfg->mem_mib % 2)))
		return KD_EINVAL;
	m = kd_calloc(1, sizeof(*m));
	if (!m)
		return KD_ENOMEM;
	m->cfg = *cfg;
	if (m->cfg.slice == 0)
		m->cfg.slice = 20000;
	snprintf(m->kernel_dir, sizeof(m->kernel_dir), "%s",
		 cfg->kernel_dir ? cfg->kernel_dir : KDSIM_DEFAULT_KERNEL_DIR);
	m->phys_size = cfg->mem_mib ? (uint64_t)cfg->mem_mib << 20 :
				      (uint64_t)cfg->mem_gib << 30;
	m->pool_pa = m->phys_size - KDSIM_POOL_SIZE;
	m->phys = mmap(NULL, m->phys_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m->phys == MAP_FAILED) {
		kd_free(m);
		return KD_ENOMEM;
	}
	memset(m->ports, 0xFF, sizeof(m->ports));
	rc = uc_check(uc_open(UC_ARCH_X86, UC_MODE_64, &m->uc), "open");
	if (rc == KD_OK)
		rc = uc_check(uc_mem_map_ptr(m->uc, KDSIM_KERNEL_WINDOW_VA,
					     KDSIM_KERNEL_WINDOW_SIZE,
					     UC_PROT_ALL, m->phys),
			      "map window");
	if (rc == KD_OK)
		rc = uc_check(uc_mem_map_ptr(m->uc, KDSIM_POOL_VA,
					     KDSIM_POOL_SIZE, UC_PROT_ALL,
					     m->phys + m->pool_pa),
			      "map pool");
	if (rc == KD_OK)
		rc = sim_install_hooks(m);
	if (rc == KD_OK)
		rc = sim_boot(m);
	if (rc < 0) {
		kdsim_destroy(m);
		return rc;
	}
	*out = m;
	return KD_OK;
}

void kdsim_destroy(struct kdsim *m)
{
	unsigned int i;

	if (!m)
		return;
	for (i = 0; i < KDSIM_MAX_CPUS; i++)
		if (m->cpu[i].uctx)
			uc_context_free(m->cpu[i].uctx);
	if (m->uc)
		uc_close(m->uc);
	if (m->phys && m->phys != MAP_FAILED)
		munmap(m->phys, m->phys_size);
	kd_free(m);
}
