/* SPDX-License-Identifier: MIT */
/*
 * x86fpo_run IMAGE DUMP: run an x86 PE image (an i686 driver linked at
 * its preferred base) in unicorn, in 32-bit protected mode with non-PAE
 * paging (CR3 -> page directory -> 4 KiB page tables), from its entry
 * point until the first int3, then write a 32-bit full kernel dump of the
 * machine's physical memory through kd::dump's writer: machine 0x14C,
 * DirectoryTableBase = CR3, the x86 CONTEXT at the breakpoint (eip on the
 * int3, as the kernel reports a breakpoint), and an empty
 * PsLoadedModuleList so a debugger can add the image by hand.
 *
 * While it runs it keeps its own record of the call chain from what the
 * CPU does: at each call instruction the stack slot it pushes to, the
 * return address and the target; at each ret the record is popped.  At
 * the breakpoint each recorded slot is read back from guest memory and
 * must still hold its return address.  Printed on stdout, outermost
 * first:
 *
 *   image BASE SIZE
 *   break EIP ESP
 *   call SLOT RET TARGET ARG0 ARG1 ARG2
 *
 * (the first three stack arguments as they were when the call ran).
 *
 * Exit status 0 on success, 1 with a line on stderr otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicorn/unicorn.h>

#include <kd/common.h>
#include <kd/dump.h>
#include <kd/error.h>
#include <kd/proto/layout.h>

#define PHYS_SIZE 0x800000u /* 8 MiB of guest RAM */
#define PD_PA 0x1000u
#define PT_IMAGE_PA 0x2000u
#define PT_STACK_PA 0x3000u
#define PT_LOW_PA 0x4000u
#define STUB_PA 0x8000u /* identity-mapped: turns paging on */
#define IMAGE_PA 0x400000u
#define STACK_PA 0x600000u
#define STACK_VA 0x80800000u
#define STACK_SIZE 0x10000u
/* The empty PsLoadedModuleList: a LIST_ENTRY at the stack's base page. */
#define LIST_VA STACK_VA
#define MAX_CALLS 64
#define MAX_STEPS 1000000u

struct run {
	uint8_t *phys;
	const uint8_t *img; /* the file */
	size_t img_len;
	uint32_t base, size;
	struct {
		uint32_t slot, ret, target;
		uint8_t args[12];
	} calls[MAX_CALLS];
	unsigned ncalls;
	bool hit, bad;
	uint32_t eip, esp;
	uint64_t steps;
};

/* uc_hook_add takes callbacks as void *: convert without a cast ISO C
 * forbids. */
static void *cb(void (*fn)(void))
{
	void *p;

	memcpy(&p, &fn, sizeof(p));
	return p;
}

#define CB(f) cb((void (*)(void))(f))

static int die(const char *msg)
{
	fprintf(stderr, "x86fpo_run: %s\n", msg);
	return 1;
}

/* The image file bytes mapped at @p va, or NULL (headers, sections). */
static const uint8_t *code_at(const struct run *r, uint32_t va, uint32_t len)
{
	uint32_t rva = va - r->base;

	if (va < r->base || rva >= r->size || len > r->size - rva)
		return NULL;
	return r->phys + IMAGE_PA + rva;
}

static void on_code(uc_engine *uc, uint64_t addr, uint32_t size, void *ctx)
{
	struct run *r = ctx;
	const uint8_t *b = code_at(r, (uint32_t)addr, size);
	uint32_t esp;

	if (++r->steps > MAX_STEPS) {
		r->bad = true;
		uc_emu_stop(uc);
		return;
	}
	if (!b)
		return;
	uc_reg_read(uc, UC_X86_REG_ESP, &esp);
	if (b[0] == 0xe8 && size == 5) {
		if (r->ncalls == MAX_CALLS) {
			r->bad = true;
			uc_emu_stop(uc);
			return;
		}
		r->calls[r->ncalls].slot = esp - 4;
		r->calls[r->ncalls].ret = (uint32_t)addr + 5;
		r->calls[r->ncalls].target = (uint32_t)addr + 5 +
					     kd_get_le32(b + 1);
		if (uc_mem_read(uc, esp, r->calls[r->ncalls].args, 12) !=
		    UC_ERR_OK) {
			r->bad = true;
			uc_emu_stop(uc);
			return;
		}
		r->ncalls++;
	} else if ((b[0] == 0xc3 || b[0] == 0xc2) && r->ncalls) {
		r->ncalls--;
	}
}

static void on_intr(uc_engine *uc, uint32_t intno, void *ctx)
{
	struct run *r = ctx;

	if (intno == 3) {
		r->hit = true;
		uc_reg_read(uc, UC_X86_REG_EIP, &r->eip);
		r->eip -= 1; /* back on the int3, as KiTrap03 reports it */
		uc_reg_read(uc, UC_X86_REG_ESP, &r->esp);
	} else {
		r->bad = true;
	}
	uc_emu_stop(uc);
}

/* Copy headers and sections of the PE32 image into guest memory. */
static int load_image(struct run *r, uint32_t *entry)
{
	const uint8_t *f = r->img;
	uint32_t pe, opt, nsec, i, hdrs;

	if (r->img_len < 0x40)
		return die("image too short");
	pe = kd_get_le32(f + 0x3c);
	if (pe > r->img_len - 24 || memcmp(f + pe, "PE\0\0", 4) != 0 ||
	    kd_get_le16(f + pe + 4) != 0x14c)
		return die("not an i386 PE image");
	nsec = kd_get_le16(f + pe + 6);
	opt = pe + 24;
	if (opt + 96 > r->img_len || kd_get_le16(f + opt) != 0x10b)
		return die("no PE32 optional header");
	*entry = kd_get_le32(f + opt + 16);
	r->base = kd_get_le32(f + opt + 28);
	r->size = kd_get_le32(f + opt + 56);
	hdrs = kd_get_le32(f + opt + 60);
	if (r->size == 0 || r->size > STACK_PA - IMAGE_PA || hdrs > r->size ||
	    hdrs > r->img_len || (r->base & 0xfff) || *entry >= r->size)
		return die("image does not fit the guest");
	memcpy(r->phys + IMAGE_PA, f, hdrs);
	for (i = 0; i < nsec; i++) {
		const uint8_t *sh = f + opt + kd_get_le16(f + pe + 20) + 40 * i;
		uint32_t va, raw, ptr;

		if ((size_t)(sh - f) + 40 > r->img_len)
			return die("section table cut short");
		va = kd_get_le32(sh + 12);
		raw = kd_get_le32(sh + 16);
		ptr = kd_get_le32(sh + 20);
		if (raw > r->img_len || ptr > r->img_len - raw ||
		    va > r->size || raw > r->size - va)
			return die("section outside the image");
		memcpy(r->phys + IMAGE_PA + va, f + ptr, raw);
	}
	return 0;
}

/*
 * Non-PAE page tables: the image at its base, the stack at STACK_VA, the
 * start-up stub at its own address.
 */
static void build_paging(struct run *r)
{
	uint8_t *pd = r->phys + PD_PA;
	uint32_t i, pages = (r->size + 0xfff) / 0x1000;

	/* Present, writable, supervisor. */
	kd_put_le32(pd, PT_LOW_PA | 3);
	kd_put_le32(r->phys + PT_LOW_PA + 4 * (STUB_PA >> 12), STUB_PA | 3);
	kd_put_le32(pd + 4 * (r->base >> 22), PT_IMAGE_PA | 3);
	kd_put_le32(pd + 4 * (STACK_VA >> 22), PT_STACK_PA | 3);
	for (i = 0; i < pages; i++)
		kd_put_le32(r->phys + PT_IMAGE_PA +
				    4 * (((r->base >> 12) + i) & 0x3ff),
			    (IMAGE_PA + i * 0x1000) | 3);
	for (i = 0; i < STACK_SIZE / 0x1000; i++)
		kd_put_le32(r->phys + PT_STACK_PA +
				    4 * (((STACK_VA >> 12) + i) & 0x3ff),
			    (STACK_PA + i * 0x1000) | 3);
}

/*
 * The start-up code, run with paging off: load CR3, set CR0.PG, switch to
 * the stack, push a return address of 0 (the end of the chain) and jump
 * to the entry point.  The CPU's own mov-to-CR helpers turn paging on.
 */
static void build_stub(struct run *r, uint32_t entry_va, uint32_t esp)
{
	uint8_t *p = r->phys + STUB_PA;

	*p++ = 0xb8; /* mov eax, PD_PA */
	kd_put_le32(p, PD_PA);
	p += 4;
	memcpy(p, "\x0f\x22\xd8", 3); /* mov cr3, eax */
	p += 3;
	memcpy(p, "\x0f\x20\xc0", 3); /* mov eax, cr0 */
	p += 3;
	*p++ = 0x0d; /* or eax, PG | PE */
	kd_put_le32(p, 0x80000001u);
	p += 4;
	memcpy(p, "\x0f\x22\xc0", 3); /* mov cr0, eax */
	p += 3;
	*p++ = 0xbc; /* mov esp, imm32 */
	kd_put_le32(p, esp);
	p += 4;
	memcpy(p, "\x6a\x00", 2); /* push 0 */
	p += 2;
	*p++ = 0xb8; /* mov eax, entry */
	kd_put_le32(p, entry_va);
	p += 4;
	memcpy(p, "\xff\xe0", 2); /* jmp eax */
}

static int read_page(void *ctx, uint64_t pfn, uint8_t *page)
{
	const struct run *r = ctx;

	if (pfn >= PHYS_SIZE / 0x1000)
		return -1;
	memcpy(page, r->phys + pfn * 0x1000, 0x1000);
	return 0;
}

static int write_dump(struct run *r, uc_engine *uc, const char *path)
{
	static const struct {
		int reg;
		uint16_t off;
	} regs[] = {
		{ UC_X86_REG_EDI, KD_X86_CTX_OFF_EDI },
		{ UC_X86_REG_ESI, KD_X86_CTX_OFF_ESI },
		{ UC_X86_REG_EBX, KD_X86_CTX_OFF_EBX },
		{ UC_X86_REG_EDX, KD_X86_CTX_OFF_EDX },
		{ UC_X86_REG_ECX, KD_X86_CTX_OFF_ECX },
		{ UC_X86_REG_EAX, KD_X86_CTX_OFF_EAX },
		{ UC_X86_REG_EBP, KD_X86_CTX_OFF_EBP },
		{ UC_X86_REG_EFLAGS, KD_X86_CTX_OFF_EFLAGS },
	};
	uint8_t ctx[KD_X86_CONTEXT_SIZE];
	struct kd_dump_write_params p;
	struct kd_dump_run run = { 0, PHYS_SIZE / 0x1000 };
	size_t i;
	int rc;

	memset(ctx, 0, sizeof(ctx));
	/* CONTEXT_i386 | CONTROL | INTEGER | SEGMENTS. */
	kd_put_le32(ctx + KD_X86_CTX_OFF_FLAGS, 0x10007);
	for (i = 0; i < KD_ARRAY_SIZE(regs); i++) {
		uint32_t v = 0;

		uc_reg_read(uc, regs[i].reg, &v);
		kd_put_le32(ctx + regs[i].off, v);
	}
	kd_put_le32(ctx + KD_X86_CTX_OFF_EIP, r->eip);
	kd_put_le32(ctx + KD_X86_CTX_OFF_ESP, r->esp);
	/* Windows' kernel selectors. */
	kd_put_le32(ctx + KD_X86_CTX_OFF_CS, 0x08);
	kd_put_le32(ctx + KD_X86_CTX_OFF_SS, 0x10);
	kd_put_le32(ctx + KD_X86_CTX_OFF_DS, 0x23);
	kd_put_le32(ctx + KD_X86_CTX_OFF_ES, 0x23);
	kd_put_le32(ctx + KD_X86_CTX_OFF_FS, 0x30);

	memset(&p, 0, sizeof(p));
	p.version = KD_DUMP_WRITE_PARAMS_VERSION;
	p.type = KD_DUMP_FULL;
	p.ptr64 = false;
	p.pae = false;
	p.machine = KD_DUMP_MACHINE_I386;
	p.major = 0xF;
	p.minor = 7601;
	p.ncpus = 1;
	p.dtb = PD_PA;
	p.ps_loaded_module_list = LIST_VA;
	p.bugcheck_code = 0x7E; /* SYSTEM_THREAD_EXCEPTION_NOT_HANDLED */
	p.bugcheck_params[0] = 0x80000003; /* STATUS_BREAKPOINT */
	p.bugcheck_params[1] = r->eip;
	p.context = ctx;
	p.context_len = sizeof(ctx);
	p.comment = "openkd x86fpo_run";
	p.runs = &run;
	p.nruns = 1;
	p.read_page = read_page;
	p.ctx = r;
	rc = kd_dump_write(path, &p);
	if (rc != KD_OK) {
		fprintf(stderr, "x86fpo_run: %s\n", kd_error_last()->message);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct run r;
	uc_engine *uc = NULL;
	uc_hook h1, h2;
	uc_err err;
	uint32_t entry = 0, esp, v;
	FILE *f;
	long len;
	uint8_t *img;
	unsigned i;
	int rc = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: x86fpo_run IMAGE DUMP\n");
		return 2;
	}
	memset(&r, 0, sizeof(r));
	f = fopen(argv[1], "rb");
	if (!f)
		return die("cannot open the image");
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	img = len > 0 && len < 0x400000 ? malloc((size_t)len) : NULL;
	if (!img || fread(img, 1, (size_t)len, f) != (size_t)len) {
		fclose(f);
		free(img);
		return die("cannot read the image");
	}
	fclose(f);
	r.img = img;
	r.img_len = (size_t)len;
	r.phys = calloc(1, PHYS_SIZE);
	if (!r.phys || load_image(&r, &entry) != 0)
		goto out;
	build_paging(&r);
	/* The empty module list: Flink = Blink = itself. */
	kd_put_le32(r.phys + STACK_PA, LIST_VA);
	kd_put_le32(r.phys + STACK_PA + 4, LIST_VA);

	if (uc_open(UC_ARCH_X86, UC_MODE_32, &uc) != UC_ERR_OK ||
	    uc_mem_map_ptr(uc, 0, PHYS_SIZE, UC_PROT_ALL, r.phys) !=
		    UC_ERR_OK) {
		die("unicorn cannot set up the machine");
		goto out;
	}
	/*
	 * unicorn 2.0 checks accesses against its memory map by linear
	 * address even with paging on, so the image's and the stack's pages
	 * are also mapped at their linear addresses -- the same host memory
	 * as their physical pages, so both views hold the same bytes.
	 */
	if (uc_mem_map_ptr(uc, r.base, (r.size + 0xfff) & ~0xfffu, UC_PROT_ALL,
			   r.phys + IMAGE_PA) != UC_ERR_OK ||
	    uc_mem_map_ptr(uc, STACK_VA, STACK_SIZE, UC_PROT_ALL,
			   r.phys + STACK_PA) != UC_ERR_OK) {
		die("unicorn cannot alias the image and the stack");
		goto out;
	}
	esp = STACK_VA + STACK_SIZE - 0x100;
	build_stub(&r, r.base + entry, esp);
	uc_hook_add(uc, &h1, UC_HOOK_CODE, CB(on_code), &r, r.base,
		    r.base + r.size - 1);
	uc_hook_add(uc, &h2, UC_HOOK_INTR, CB(on_intr), &r, 1, 0);
	err = uc_emu_start(uc, STUB_PA, 0, 0, 0);
	if (err != UC_ERR_OK && !r.hit) {
		fprintf(stderr,
			"x86fpo_run: the image faulted before its "
			"breakpoint: %s\n",
			uc_strerror(err));
		goto out;
	}
	if (!r.hit || r.bad) {
		die("no breakpoint reached");
		goto out;
	}
	/* What the CPU pushed must still be on the stack (read through the
	 * paging the guest used: the stack is linear in physical memory). */
	for (i = 0; i < r.ncalls; i++) {
		uint32_t slot = r.calls[i].slot;

		if (slot < STACK_VA || slot - STACK_VA >= STACK_SIZE - 4) {
			die("a call pushed outside the stack");
			goto out;
		}
		v = kd_get_le32(r.phys + STACK_PA + (slot - STACK_VA));
		if (v != r.calls[i].ret) {
			die("a recorded return address was overwritten");
			goto out;
		}
	}
	if (write_dump(&r, uc, argv[2]) != 0)
		goto out;
	printf("image %08x %x\n", r.base, r.size);
	printf("break %08x %08x\n", r.eip, r.esp);
	for (i = 0; i < r.ncalls; i++)
		printf("call %08x %08x %08x %08x %08x %08x\n", r.calls[i].slot,
		       r.calls[i].ret, r.calls[i].target,
		       kd_get_le32(r.calls[i].args),
		       kd_get_le32(r.calls[i].args + 4),
		       kd_get_le32(r.calls[i].args + 8));
	rc = 0;
out:
	if (uc)
		uc_close(uc);
	free(r.phys);
	free(img);
	return rc;
}
