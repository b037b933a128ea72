/* SPDX-License-Identifier: MIT */
/*
 * A fake machine for kdstub tests: 4 CPUs with CONTEXTs and special
 * registers, 16 KiB of kernel memory seen virtually and physically, ports,
 * MSRs, and a record of what execution control the stub applied.
 * Header-only so unit, integration and fuzz tests share it.
 */
#ifndef KDSTUB_TEST_FAKE_PLATFORM_H
#define KDSTUB_TEST_FAKE_PLATFORM_H

#include <string.h>

#include <kdstub/kdstub.h>

#define FAKE_CPUS 4
#define FAKE_VBASE 0xFFFFF80000000000ull /* kernel virtual base */
#define FAKE_PBASE 0x0000000000100000ull /* the same bytes physically */
#define FAKE_MEM 0x4000u
#define FAKE_BUILD 19041
#define FAKE_MODLIST (FAKE_VBASE + 0x2000)
#define FAKE_KDBG_LIST (FAKE_VBASE + 0x2100)
#define FAKE_PCR(p) (0xFFFFF80000100000ull + (uint64_t)(p)*0x1000)
#define FAKE_PRCB(p) (FAKE_PCR(p) + 0x180)
#define FAKE_THREAD(p) (0xFFFFF80000200000ull + (uint64_t)(p)*0x800)
#define FAKE_RIP(p) (FAKE_VBASE + 0x400 + (uint64_t)(p)*0x10)
#define FAKE_MSR_LSTAR 0xC0000082u
#define FAKE_SEARCH_AT 0x3000u
#define FAKE_SEARCH_PAT "KDSTUB!!"

struct fake_machine {
	uint8_t mem[FAKE_MEM];
	uint8_t ctx[FAKE_CPUS][KDSTUB_CONTEXT_SIZE];
	uint8_t ks[FAKE_CPUS][KDSTUB_KSPECIAL_SIZE];
	uint8_t ports[0x10000];
	uint64_t lstar;
	bool step[FAKE_CPUS];
	uint64_t dr7[FAKE_CPUS];
	int dr7_calls;
	int reboots;
	uint32_t bugcheck;
	int flushes;
};

static inline uint8_t fake_mem_byte(size_t i)
{
	return (uint8_t)(i * 7 + 3);
}

static inline void fake_init(struct fake_machine *f)
{
	size_t i, p;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < FAKE_MEM; i++)
		f->mem[i] = fake_mem_byte(i);
	memcpy(f->mem + FAKE_SEARCH_AT, FAKE_SEARCH_PAT, 8);
	for (p = 0; p < FAKE_CPUS; p++) {
		kd_put_le32(f->ctx[p] + 0x30, KD_CONTEXT_AMD64_FULL);
		kd_put_le16(f->ctx[p] + 0x38, 0x10);		    /* SegCs */
		kd_put_le16(f->ctx[p] + 0x42, 0x18);		    /* SegSs */
		kd_put_le32(f->ctx[p] + 0x44, 0x202);		    /* EFlags */
		kd_put_le64(f->ctx[p] + 0x78, 0x1111 * (p + 1));    /* Rax */
		kd_put_le64(f->ctx[p] + 0x98, FAKE_VBASE + 0x3F00); /* Rsp */
		kd_put_le64(f->ctx[p] + 0xF8, FAKE_RIP(p));	    /* Rip */
		for (i = 0; i < KDSTUB_KSPECIAL_SIZE; i++)
			f->ks[p][i] = (uint8_t)(i + p);
		kd_put_le64(f->ks[p] + 0x10, 0x1AD000 + p * 0x1000); /* Cr3 */
	}
	for (i = 0; i < sizeof(f->ports); i++)
		f->ports[i] = (uint8_t)(i ^ 0x5A);
	f->lstar = FAKE_VBASE + 0x1000;
}

/* Offset of [addr, addr+len) clipped to the mapped window; bytes avail. */
static inline uint32_t fake_window(uint64_t addr, uint64_t base, uint32_t len,
				   size_t *off)
{
	uint64_t o;

	if (addr < base || addr - base >= FAKE_MEM)
		return 0;
	o = addr - base;
	*off = (size_t)o;
	return FAKE_MEM - o < len ? (uint32_t)(FAKE_MEM - o) : len;
}

static inline uint32_t fake_cpus(void *c)
{
	(void)c;
	return FAKE_CPUS;
}

static inline int fake_rw(struct fake_machine *f, uint64_t base, uint64_t addr,
			  void *rbuf, const void *wbuf, uint32_t len,
			  uint32_t *done)
{
	size_t off = 0;
	uint32_t n = fake_window(addr, base, len, &off);

	if (n && rbuf)
		memcpy(rbuf, f->mem + off, n);
	if (n && wbuf)
		memcpy(f->mem + off, wbuf, n);
	*done = n;
	return n == len ? 0 : KD_ETRUNC;
}

static inline int fake_read_virtual(void *c, uint16_t proc, uint64_t addr,
				    void *buf, uint32_t len, uint32_t *done)
{
	(void)proc;
	return fake_rw(c, FAKE_VBASE, addr, buf, NULL, len, done);
}

static inline int fake_write_virtual(void *c, uint16_t proc, uint64_t addr,
				     const void *buf, uint32_t len,
				     uint32_t *done)
{
	(void)proc;
	return fake_rw(c, FAKE_VBASE, addr, NULL, buf, len, done);
}

static inline int fake_read_physical(void *c, uint64_t addr, void *buf,
				     uint32_t len, uint32_t caching,
				     uint32_t *done)
{
	(void)caching;
	return fake_rw(c, FAKE_PBASE, addr, buf, NULL, len, done);
}

static inline int fake_write_physical(void *c, uint64_t addr, const void *buf,
				      uint32_t len, uint32_t caching,
				      uint32_t *done)
{
	(void)caching;
	return fake_rw(c, FAKE_PBASE, addr, NULL, buf, len, done);
}

static inline int fake_get_context(void *c, uint16_t proc, uint8_t *ctx)
{
	struct fake_machine *f = c;

	if (proc >= FAKE_CPUS)
		return KD_EINVAL;
	memcpy(ctx, f->ctx[proc], KDSTUB_CONTEXT_SIZE);
	return 0;
}

static inline int fake_set_context(void *c, uint16_t proc, const uint8_t *ctx)
{
	struct fake_machine *f = c;

	if (proc >= FAKE_CPUS)
		return KD_EINVAL;
	memcpy(f->ctx[proc], ctx, KDSTUB_CONTEXT_SIZE);
	return 0;
}

static inline int fake_get_kspecial(void *c, uint16_t proc, uint8_t *regs)
{
	struct fake_machine *f = c;

	if (proc >= FAKE_CPUS)
		return KD_EINVAL;
	memcpy(regs, f->ks[proc], KDSTUB_KSPECIAL_SIZE);
	return 0;
}

static inline int fake_set_kspecial(void *c, uint16_t proc, const uint8_t *regs)
{
	struct fake_machine *f = c;

	if (proc >= FAKE_CPUS)
		return KD_EINVAL;
	memcpy(f->ks[proc], regs, KDSTUB_KSPECIAL_SIZE);
	return 0;
}

static inline int fake_control_address(void *c, uint16_t proc, unsigned sel,
				       uint64_t *addr)
{
	(void)c;
	switch (sel) {
	case KD_AMD64_CS_PCR:
		*addr = FAKE_PCR(proc);
		return 0;
	case KD_AMD64_CS_PRCB:
		*addr = FAKE_PRCB(proc);
		return 0;
	case KD_AMD64_CS_THREAD:
		*addr = FAKE_THREAD(proc);
		return 0;
	default:
		return KD_EINVAL;
	}
}

static inline int fake_io_read(void *c, uint64_t port, unsigned size,
			       uint32_t *value)
{
	struct fake_machine *f = c;
	uint32_t v = 0;
	unsigned i;

	if (port + size > sizeof(f->ports))
		return KD_EINVAL;
	for (i = 0; i < size; i++)
		v |= (uint32_t)f->ports[port + i] << (8 * i);
	*value = v;
	return 0;
}

static inline int fake_io_write(void *c, uint64_t port, unsigned size,
				uint32_t value)
{
	struct fake_machine *f = c;
	unsigned i;

	if (port + size > sizeof(f->ports))
		return KD_EINVAL;
	for (i = 0; i < size; i++)
		f->ports[port + i] = (uint8_t)(value >> (8 * i));
	return 0;
}

static inline int fake_msr_read(void *c, uint16_t proc, uint32_t msr,
				uint64_t *v)
{
	struct fake_machine *f = c;

	(void)proc;
	if (msr != FAKE_MSR_LSTAR)
		return KD_ENOTFOUND;
	*v = f->lstar;
	return 0;
}

static inline int fake_msr_write(void *c, uint16_t proc, uint32_t msr,
				 uint64_t v)
{
	struct fake_machine *f = c;

	(void)proc;
	if (msr != FAKE_MSR_LSTAR)
		return KD_ENOTFOUND;
	f->lstar = v;
	return 0;
}

static inline void fake_icache_flush(void *c, uint64_t addr, uint32_t len)
{
	struct fake_machine *f = c;

	(void)addr;
	(void)len;
	f->flushes++;
}

static inline int fake_single_step(void *c, uint16_t proc, bool on)
{
	struct fake_machine *f = c;

	if (proc >= FAKE_CPUS)
		return KD_EINVAL;
	f->step[proc] = on;
	return 0;
}

static inline int fake_set_dr7(void *c, uint16_t proc, uint64_t dr7)
{
	struct fake_machine *f = c;

	if (proc >= FAKE_CPUS)
		return KD_EINVAL;
	f->dr7[proc] = dr7;
	f->dr7_calls++;
	return 0;
}

static inline void fake_reboot(void *c)
{
	((struct fake_machine *)c)->reboots++;
}

static inline void fake_bugcheck(void *c, uint16_t proc, uint32_t code,
				 const uint64_t params[4])
{
	(void)proc;
	(void)params;
	((struct fake_machine *)c)->bugcheck = code;
}

static inline void fake_get_version(void *c, struct kd_version *v)
{
	(void)c;
	v->minor_version = FAKE_BUILD;
	v->kern_base = FAKE_VBASE;
	v->ps_loaded_module_list = FAKE_MODLIST;
	v->debugger_data_list = FAKE_KDBG_LIST;
	v->flags |= KD_VERS_FLAG_DATA;
}

static const struct kdstub_platform_ops fake_ops = {
	.processor_count = fake_cpus,
	.read_virtual = fake_read_virtual,
	.write_virtual = fake_write_virtual,
	.read_physical = fake_read_physical,
	.write_physical = fake_write_physical,
	.get_context = fake_get_context,
	.set_context = fake_set_context,
	.get_kspecial = fake_get_kspecial,
	.set_kspecial = fake_set_kspecial,
	.control_address = fake_control_address,
	.io_read = fake_io_read,
	.io_write = fake_io_write,
	.msr_read = fake_msr_read,
	.msr_write = fake_msr_write,
	.icache_flush = fake_icache_flush,
	.set_single_step = fake_single_step,
	.set_dr7 = fake_set_dr7,
	.reboot = fake_reboot,
	.bugcheck = fake_bugcheck,
	.get_version = fake_get_version,
};

#endif /* KDSTUB_TEST_FAKE_PLATFORM_H */
