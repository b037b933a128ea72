/* SPDX-License-Identifier: MIT */
/*
 * kdstub platform ops of the simulated machine: memory through the page
 * tables and physically, CONTEXT and KSPECIAL_REGISTERS to and from the
 * unicorn registers, control space, ports, MSRs, stepping and Dr7.
 */
#include "sim_int.h"

#include <string.h>

#include <kd/proto/layout.h>
#include <kd/proto/manipulate.h>
#include <kd/proto/wire.h>

#include "simabi.h"

#define MSR_EFER 0xC0000080u
#define MSR_STAR 0xC0000081u
#define MSR_LSTAR 0xC0000082u
#define MSR_CSTAR 0xC0000083u
#define MSR_SFMASK 0xC0000084u
#define MSR_FS_BASE 0xC0000100u
#define MSR_GS_BASE 0xC0000101u
#define MSR_KERNEL_GS_BASE 0xC0000102u
#define MSR_APIC_BASE 0x1Bu

static uint32_t p_processor_count(void *ctx)
{
	struct kdsim *m = ctx;

	return m->cfg.cpus;
}

static int p_read_virtual(void *ctx, uint16_t proc, uint64_t addr, void *buf,
			  uint32_t len, uint32_t *done)
{
	(void)proc; /* one kernel address space shared by every CPU */
	return sim_read_virtual(ctx, addr, buf, len, done);
}

static int p_write_virtual(void *ctx, uint16_t proc, uint64_t addr,
			   const void *buf, uint32_t len, uint32_t *done)
{
	(void)proc;
	return sim_write_virtual(ctx, addr, buf, len, done);
}

static int p_read_physical(void *ctx, uint64_t addr, void *buf, uint32_t len,
			   uint32_t caching, uint32_t *done)
{
	struct kdsim *m = ctx;
	uint64_t n = len;

	(void)caching;
	if (addr >= m->phys_size)
		n = 0;
	else if (n > m->phys_size - addr)
		n = m->phys_size - addr;
	memcpy(buf, m->phys + addr, (size_t)n);
	*done = (uint32_t)n;
	return n == len ? KD_OK : KD_ETRUNC;
}

static int p_write_physical(void *ctx, uint64_t addr, const void *buf,
			    uint32_t len, uint32_t caching, uint32_t *done)
{
	struct kdsim *m = ctx;
	uint64_t n = len;

	(void)caching;
	if (addr >= m->phys_size)
		n = 0;
	else if (n > m->phys_size - addr)
		n = m->phys_size - addr;
	memcpy(m->phys + addr, buf, (size_t)n);
	/* Physical writes may change code: drop every translation. */
	sim_flush_code(m);
	*done = (uint32_t)n;
	return n == len ? KD_OK : KD_ETRUNC;
}

static const struct {
	int uc;
	size_t off;
} gpr_map[] = {
	{ UC_X86_REG_RAX, KD_AMD64_CTX_OFF_RAX },
	{ UC_X86_REG_RCX, KD_AMD64_CTX_OFF_RCX },
	{ UC_X86_REG_RDX, KD_AMD64_CTX_OFF_RDX },
	{ UC_X86_REG_RBX, KD_AMD64_CTX_OFF_RBX },
	{ UC_X86_REG_RSP, KD_AMD64_CTX_OFF_RSP },
	{ UC_X86_REG_RBP, KD_AMD64_CTX_OFF_RBP },
	{ UC_X86_REG_RSI, KD_AMD64_CTX_OFF_RSI },
	{ UC_X86_REG_RDI, KD_AMD64_CTX_OFF_RDI },
	{ UC_X86_REG_R8, KD_AMD64_CTX_OFF_R8 },
	{ UC_X86_REG_R9, KD_AMD64_CTX_OFF_R9 },
	{ UC_X86_REG_R10, KD_AMD64_CTX_OFF_R10 },
	{ UC_X86_REG_R11, KD_AMD64_CTX_OFF_R11 },
	{ UC_X86_REG_R12, KD_AMD64_CTX_OFF_R12 },
	{ UC_X86_REG_R13, KD_AMD64_CTX_OFF_R13 },
	{ UC_X86_REG_R14, KD_AMD64_CTX_OFF_R14 },
	{ UC_X86_REG_R15, KD_AMD64_CTX_OFF_R15 },
	{ UC_X86_REG_RIP, KD_AMD64_CTX_OFF_RIP },
};

static const struct {
	int uc;
	size_t off;
} seg_map[] = {
	{ UC_X86_REG_CS, KD_AMD64_CTX_OFF_CS },
	{ UC_X86_REG_DS, KD_AMD64_CTX_OFF_DS },
	{ UC_X86_REG_ES, KD_AMD64_CTX_OFF_ES },
	{ UC_X86_REG_FS, KD_AMD64_CTX_OFF_FS },
	{ UC_X86_REG_GS, KD_AMD64_CTX_OFF_GS },
	{ UC_X86_REG_SS, KD_AMD64_CTX_OFF_SS },
};

static int p_get_context(void *ctx, uint16_t proc,
			 uint8_t c[KDSTUB_CONTEXT_SIZE])
{
	struct kdsim *m = ctx;
	struct sim_cpu *cpu;
	unsigned int i;
	uint32_t mxcsr = 0x1F80;

	if (proc >= m->cfg.cpus || sim_select_cpu(m, proc) < 0)
		return KD_EINVAL;
	cpu = &m->cpu[proc];
	memset(c, 0, KDSTUB_CONTEXT_SIZE);
	kd_put_le32(c + KD_AMD64_CTX_OFF_FLAGS,
		    KD_CONTEXT_AMD64_FULL | KD_CONTEXT_SEGMENTS |
			    KD_CONTEXT_DEBUG_REGISTERS);
	for (i = 0; i < KD_ARRAY_SIZE(gpr_map); i++)
		kd_put_le64(c + gpr_map[i].off, sim_reg(m, gpr_map[i].uc));
	for (i = 0; i < KD_ARRAY_SIZE(seg_map); i++)
		kd_put_le16(c + seg_map[i].off,
			    (uint16_t)sim_reg(m, seg_map[i].uc));
	/* unicorn keeps CS at 0 in long mode; report the selector Windows
	 * uses for kernel code. */
	if (kd_get_le16(c + KD_AMD64_CTX_OFF_CS) == 0)
		kd_put_le16(c + KD_AMD64_CTX_OFF_CS, 0x10);
	kd_put_le32(c + KD_AMD64_CTX_OFF_EFLAGS,
		    (uint32_t)sim_reg(m, UC_X86_REG_EFLAGS));
	uc_reg_read(m->uc, UC_X86_REG_MXCSR, &mxcsr);
	kd_put_le32(c + KD_AMD64_CTX_OFF_MXCSR, mxcsr);
	kd_put_le16(c + KD_AMD64_CTX_OFF_FLTSAVE, 0x027F); /* ControlWord */
	kd_put_le32(c + KD_AMD64_CTX_OFF_FX_MXCSR, mxcsr);
	kd_put_le32(c + KD_AMD64_CTX_OFF_FX_MXCSR + 4, 0xFFFF);
	for (i = 0; i < 16; i++)
		uc_reg_read(m->uc, UC_X86_REG_XMM0 + (int)i,
			    c + KD_AMD64_CTX_OFF_XMM0 + i * 16);
	for (i = 0; i < 4; i++)
		kd_put_le64(c + KD_AMD64_CTX_OFF_DR0 + i * 8, cpu->dr[i]);
	kd_put_le64(c + KD_AMD64_CTX_OFF_DR6, cpu->dr6);
	kd_put_le64(c + KD_AMD64_CTX_OFF_DR7, cpu->dr7);
	return KD_OK;
}

static int p_set_context(void *ctx, uint16_t proc,
			 const uint8_t c[KDSTUB_CONTEXT_SIZE])
{
	struct kdsim *m = ctx;
	struct sim_cpu *cpu;
	unsigned int i;
	uint32_t mxcsr;

	if (proc >= m->cfg.cpus || sim_select_cpu(m, proc) < 0)
		return KD_EINVAL;
	cpu = &m->cpu[proc];
	for (i = 0; i < KD_ARRAY_SIZE(gpr_map); i++)
		sim_set_reg(m, gpr_map[i].uc, kd_get_le64(c + gpr_map[i].off));
	sim_set_reg(m, UC_X86_REG_EFLAGS,
		    kd_get_le32(c + KD_AMD64_CTX_OFF_EFLAGS));
	mxcsr = kd_get_le32(c + KD_AMD64_CTX_OFF_MXCSR);
	uc_reg_write(m->uc, UC_X86_REG_MXCSR, &mxcsr);
	for (i = 0; i < 16; i++)
		uc_reg_write(m->uc, UC_X86_REG_XMM0 + (int)i,
			     c + KD_AMD64_CTX_OFF_XMM0 + i * 16);
	for (i = 0; i < 4; i++)
		cpu->dr[i] = kd_get_le64(c + KD_AMD64_CTX_OFF_DR0 + i * 8);
	cpu->dr6 = kd_get_le64(c + KD_AMD64_CTX_OFF_DR6);
	cpu->dr7 = kd_get_le64(c + KD_AMD64_CTX_OFF_DR7);
	sim_update_hw_hook(m);
	return KD_OK;
}

static void refresh_kspecial(struct kdsim *m, uint16_t proc)
{
	struct sim_cpu *cpu = &m->cpu[proc];
	uint32_t mxcsr = 0x1F80;

	cpu->ks.kernel_dr0 = cpu->dr[0];
	cpu->ks.kernel_dr1 = cpu->dr[1];
	cpu->ks.kernel_dr2 = cpu->dr[2];
	cpu->ks.kernel_dr3 = cpu->dr[3];
	cpu->ks.kernel_dr6 = cpu->dr6;
	cpu->ks.kernel_dr7 = cpu->dr7;
	if (sim_select_cpu(m, proc) == KD_OK) {
		cpu->ks.msr_gs_base = sim_reg(m, UC_X86_REG_GS_BASE);
		uc_reg_read(m->uc, UC_X86_REG_MXCSR, &mxcsr);
		cpu->ks.mxcsr = mxcsr;
	}
	cpu->ks.msr_star = cpu->msr_star;
	cpu->ks.msr_lstar = cpu->msr_lstar;
	cpu->ks.msr_cstar = cpu->msr_cstar;
	cpu->ks.msr_syscall_mask = cpu->msr_sfmask;
	cpu->ks.has_xcr0 = true;
}

static int p_get_kspecial(void *ctx, uint16_t proc,
			  uint8_t regs[KDSTUB_KSPECIAL_SIZE])
{
	struct kdsim *m = ctx;
	size_t n;

	if (proc >= m->cfg.cpus)
		return KD_EINVAL;
	refresh_kspecial(m, proc);
	return kd_amd64_kspecial_encode(regs, KDSTUB_KSPECIAL_SIZE, &n,
					&m->cpu[proc].ks);
}

static int p_set_kspecial(void *ctx, uint16_t proc,
			  const uint8_t regs[KDSTUB_KSPECIAL_SIZE])
{
	struct kdsim *m = ctx;
	struct sim_cpu *cpu;
	struct kd_amd64_kspecial ks;
	int rc;

	if (proc >= m->cfg.cpus)
		return KD_EINVAL;
	rc = kd_amd64_kspecial_decode(&ks, regs, KDSTUB_KSPECIAL_SIZE);
	if (rc < 0)
		return rc;
	cpu = &m->cpu[proc];
	/* The debugger owns the debug registers; CR3 and the descriptor
	 * tables stay what the machine really uses. */
	cpu->dr[0] = ks.kernel_dr0;
	cpu->dr[1] = ks.kernel_dr1;
	cpu->dr[2] = ks.kernel_dr2;
	cpu->dr[3] = ks.kernel_dr3;
	cpu->dr6 = ks.kernel_dr6;
	cpu->dr7 = ks.kernel_dr7;
	cpu->ks.cr0 = ks.cr0;
	cpu->ks.cr2 = ks.cr2;
	cpu->ks.cr4 = ks.cr4;
	cpu->ks.cr8 = ks.cr8;
	cpu->ks.debug_control = ks.debug_control;
	sim_update_hw_hook(m);
	return KD_OK;
}

static int p_control_address(void *ctx, uint16_t proc, unsigned selector,
			     uint64_t *addr)
{
	struct kdsim *m = ctx;

	if (proc >= m->cfg.cpus)
		return KD_EINVAL;
	switch (selector) {
	case KD_AMD64_CS_PCR:
		*addr = m->cpu[proc].kpcr;
		return KD_OK;
	case KD_AMD64_CS_PRCB:
		*addr = m->cpu[proc].kprcb;
		return KD_OK;
	case KD_AMD64_CS_THREAD:
		*addr = m->cpu[proc].kthread;
		return KD_OK;
	default:
		return KD_EINVAL;
	}
}

/* Ports: a latch per byte port (reads return what was last written, 0xFF
 * for ports never written). */
static int p_io_read(void *ctx, uint64_t port, unsigned size, uint32_t *value)
{
	struct kdsim *m = ctx;
	uint32_t v = 0;
	unsigned int i;

	if (port + size > sizeof(m->ports))
		return KD_EINVAL;
	for (i = 0; i < size; i++)
		v |= (uint32_t)m->ports[port + i] << (8 * i);
	*value = v;
	return KD_OK;
}

static int p_io_write(void *ctx, uint64_t port, unsigned size, uint32_t value)
{
	struct kdsim *m = ctx;
	unsigned int i;

	if (port + size > sizeof(m->ports))
		return KD_EINVAL;
	for (i = 0; i < size; i++)
		m->ports[port + i] = (uint8_t)(value >> (8 * i));
	return KD_OK;
}

static int p_msr_read(void *ctx, uint16_t proc, uint32_t msr, uint64_t *value)
{
	struct kdsim *m = ctx;
	struct sim_cpu *cpu;

	if (proc >= m->cfg.cpus || sim_select_cpu(m, proc) < 0)
		return KD_EINVAL;
	cpu = &m->cpu[proc];
	switch (msr) {
	case MSR_EFER:
		*value = 0xD01; /* SCE | LME | LMA | NXE */
		return KD_OK;
	case MSR_STAR:
		*value = cpu->msr_star;
		return KD_OK;
	case MSR_LSTAR:
		*value = cpu->msr_lstar;
		return KD_OK;
	case MSR_CSTAR:
		*value = cpu->msr_cstar;
		return KD_OK;
	case MSR_SFMASK:
		*value = cpu->msr_sfmask;
		return KD_OK;
	case MSR_FS_BASE:
		*value = sim_reg(m, UC_X86_REG_FS_BASE);
		return KD_OK;
	case MSR_GS_BASE:
		*value = sim_reg(m, UC_X86_REG_GS_BASE);
		return KD_OK;
	case MSR_KERNEL_GS_BASE:
		*value = cpu->ks.msr_gs_swap;
		return KD_OK;
	case MSR_APIC_BASE:
		*value = 0xFEE00000ull | 0x800 | (proc == 0 ? 0x100 : 0);
		return KD_OK;
	default:
		return KD_ENOTFOUND;
	}
}

static int p_msr_write(void *ctx, uint16_t proc, uint32_t msr, uint64_t value)
{
	struct kdsim *m = ctx;
	struct sim_cpu *cpu;

	if (proc >= m->cfg.cpus || sim_select_cpu(m, proc) < 0)
		return KD_EINVAL;
	cpu = &m->cpu[proc];
	switch (msr) {
	case MSR_STAR:
		cpu->msr_star = value;
		return KD_OK;
	case MSR_LSTAR:
		cpu->msr_lstar = value;
		return KD_OK;
	case MSR_CSTAR:
		cpu->msr_cstar = value;
		return KD_OK;
	case MSR_SFMASK:
		cpu->msr_sfmask = value;
		return KD_OK;
	case MSR_GS_BASE:
		sim_set_reg(m, UC_X86_REG_GS_BASE, value);
		return KD_OK;
	case MSR_KERNEL_GS_BASE:
		cpu->ks.msr_gs_swap = value;
		return KD_OK;
	default:
		return KD_ENOTFOUND;
	}
}

static void p_icache_flush(void *ctx, uint64_t addr, uint32_t len)
{
	struct kdsim *m = ctx;

	if (len)
		uc_ctl_remove_cache(m->uc, addr, addr + len);
}

static int p_set_single_step(void *ctx, uint16_t proc, bool enable)
{
	struct kdsim *m = ctx;

	if (proc >= m->cfg.cpus)
		return KD_EINVAL;
	m->cpu[proc].step = enable;
	return KD_OK;
}

static int p_set_dr7(void *ctx, uint16_t proc, uint64_t dr7)
{
	struct kdsim *m = ctx;

	if (proc >= m->cfg.cpus)
		return KD_EINVAL;
	m->cpu[proc].dr7 = dr7;
	m->cpu[proc].dr6 = 0xFFFF0FF0;
	sim_update_hw_hook(m);
	return KD_OK;
}

static int p_query_memory(void *ctx, uint16_t proc, uint64_t addr,
			  uint32_t *space, uint32_t *flags)
{
	struct kdsim *m = ctx;
	bool ok;

	(void)proc;
	(void)sim_translate(m, addr, &ok);
	if (!ok)
		return KD_ENOTFOUND;
	*space = addr >= 0xFFFF800000000000ull ? KD_QUERY_SPACE_KERNEL :
						 KD_QUERY_SPACE_PROCESS;
	*flags = KD_QUERY_FLAG_READ | KD_QUERY_FLAG_WRITE |
		 KD_QUERY_FLAG_EXECUTE;
	return KD_OK;
}

static void p_reboot(void *ctx)
{
	struct kdsim *m = ctx;

	m->reboot_pending = true;
}

static void p_bugcheck(void *ctx, uint16_t proc, uint32_t code,
		       const uint64_t params[4])
{
	struct kdsim *m = ctx;

	(void)params;
	if (proc >= m->cfg.cpus)
		proc = 0;
	m->cpu[proc].cmd = SIMABI_CMD_BUGCHECK;
	m->cpu[proc].cmd_arg = code;
}

static void p_get_version(void *ctx, struct kd_version *v)
{
	struct kdsim *m = ctx;

	v->major_version = (uint16_t)((KD_MAJOR_NT << 8) | KD_BUILD_FREE);
	v->minor_version = 19041;
	v->flags = KD_VERS_FLAG_MP | KD_VERS_FLAG_DATA | KD_VERS_FLAG_PTR64;
	v->machine_type = KD_MACHINE_AMD64;
	v->kern_base = m->img[0].base;
	v->ps_loaded_module_list = m->ps_loaded_module_list;
	v->debugger_data_list = m->kdbg_list_head;
}

const struct kdstub_platform_ops kdsim_platform_ops = {
	.processor_count = p_processor_count,
	.read_virtual = p_read_virtual,
	.write_virtual = p_write_virtual,
	.read_physical = p_read_physical,
	.write_physical = p_write_physical,
	.get_context = p_get_context,
	.set_context = p_set_context,
	.get_kspecial = p_get_kspecial,
	.set_kspecial = p_set_kspecial,
	.control_address = p_control_address,
	.io_read = p_io_read,
	.io_write = p_io_write,
	.msr_read = p_msr_read,
	.msr_write = p_msr_write,
	.icache_flush = p_icache_flush,
	.set_single_step = p_set_single_step,
	.set_dr7 = p_set_dr7,
	.query_memory = p_query_memory,
	.reboot = p_reboot,
	.bugcheck = p_bugcheck,
	.get_version = p_get_version,
};
