/* SPDX-License-Identifier: MIT */
/*
 * Private state of kdsim's machine shared by machine.c (memory, paging,
 * unicorn, boot), platform.c (kdstub ops) and run.c (the scheduler).
 */
#ifndef KDSIM_SIM_INT_H
#define KDSIM_SIM_INT_H

/* mmap flags, madvise, clock_gettime: set before any system header. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <unicorn/unicorn.h>

#include <kdsim/sim.h>

#define SIM_PAGE 4096ull
#define SIM_PT_BASE 0x100000ull /* page-table pages live here */
#define SIM_PT_END 0x400000ull
#define SIM_MAX_MODULES 8

/* Windows structure offsets kdsim lays out that kernel/ntstructs.h does
 * not describe (the loader's entries; x64, Windows 10 19041). */
#define SIM_LDR_SIZE 0xA0
#define SIM_MAX_PROCS 8
#define SIM_STACK_SIZE (64ull << 10)

enum sim_event_kind {
	SIM_EV_NONE = 0,
	SIM_EV_BREAKPOINT, /* int3 (rip rewound to the 0xCC) */
	SIM_EV_SERVICE,	   /* int 0x2d */
	SIM_EV_HWBP,	   /* DR0-3 execute breakpoint */
	SIM_EV_FAULT,	   /* other interrupt or emulation error */
};

struct sim_event {
	enum sim_event_kind kind;
	uint32_t intno;
	uint64_t rip;
	uint64_t rax, rcx, rdx;
	uc_err err;
};

struct sim_image {
	char name[32];
	uint64_t base;
	uint32_t size;
	uint32_t checksum;
	uint32_t timestamp;
	uint64_t entry;
	bool loaded;
};

struct sim_cpu {
	uc_context *uctx;
	uint64_t kpcr, kprcb, kthread, stack_top;
	uint64_t dr[4], dr6, dr7;
	struct kd_amd64_kspecial ks; /* shadow control/special registers */
	uint64_t msr_lstar, msr_star, msr_cstar, msr_sfmask;
	bool halted;
	bool step;    /* trace flag: run exactly one instruction */
	bool skip_hw; /* resume past a DR execute breakpoint once */
	uint32_t cmd, cmd_arg;
};

/* The tagged small-pool page objects.c carves objects from. */
struct sim_objpool {
	uint64_t page;	   /* 0: none open */
	uint64_t off;	   /* next block's offset in the page */
	unsigned int prev; /* size of the last block, 16-byte units */
};

struct kdsim {
	struct kdsim_config cfg;
	char kernel_dir[512];
	uint8_t *phys;
	uint64_t phys_size;
	uint64_t pt_next;
	uint64_t pml4;
	uint64_t pool_pa;
	uint64_t pool_next;
	uc_engine *uc;
	int loaded; /* processor whose state is in the engine; -1 none */
	bool hw_hook_on;
	uc_hook hw_hook;
	struct sim_cpu cpu[KDSIM_MAX_CPUS];
	struct sim_event ev;
	struct sim_image img[SIM_MAX_MODULES];
	unsigned int nimg;
	/* Addresses in the loaded kernel. */
	uint64_t ps_loaded_module_list, ps_active_process_head;
	uint64_t kdbg, kdbg_list_head, bp_with_status, dbg_break_point;
	uint64_t gdt, idt, tss;
	/* Kernel objects (objects.c). */
	struct sim_objpool opool;
	uint64_t obtypes[16];
	uint64_t root_dir, driver_dir, device_dir, handle_table_list;
	uint64_t procs[SIM_MAX_PROCS];	      /* EPROCESS, System first */
	uint64_t first_thread[SIM_MAX_PROCS]; /* first waiting thread */
	uint64_t bugcheck[5];
	bool bugchecked;
	bool reboot_pending;
	uint32_t boots;
	uint8_t ports[65536];
	struct kdstub stub;
};

/* machine.c */
int sim_boot(struct kdsim *m);
int sim_select_cpu(struct kdsim *m, int cpu);
uint64_t sim_translate(const struct kdsim *m, uint64_t va, bool *ok);
int sim_read_virtual(struct kdsim *m, uint64_t va, void *buf, uint32_t len,
		     uint32_t *done);
int sim_write_virtual(struct kdsim *m, uint64_t va, const void *buf,
		      uint32_t len, uint32_t *done);
uint64_t sim_reg(struct kdsim *m, int reg);
void sim_set_reg(struct kdsim *m, int reg, uint64_t v);
int sim_load_module(struct kdsim *m, unsigned int slot, unsigned int *idx);
void sim_update_hw_hook(struct kdsim *m);
void sim_flush_code(struct kdsim *m);
int sim_new_address_space(struct kdsim *m, uint64_t *root);
int sim_map_new_page(struct kdsim *m, uint64_t root, uint64_t va);
void sim_vput64(struct kdsim *m, uint64_t va, uint64_t v);
void sim_vput32(struct kdsim *m, uint64_t va, uint32_t v);
void sim_vput16(struct kdsim *m, uint64_t va, uint16_t v);
void sim_vputs(struct kdsim *m, uint64_t va, const void *s, size_t n);
uint64_t sim_pool_alloc(struct kdsim *m, uint64_t size, uint64_t align);
void sim_put_unicode(struct kdsim *m, uint64_t us, const char *s);
void sim_list_insert_tail(struct kdsim *m, uint64_t head, uint64_t entry);
void sim_list_init(struct kdsim *m, uint64_t head);
void sim_log(const struct kdsim *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* objects.c */
uint64_t sim_pool_alloc_tagged(struct kdsim *m, uint64_t size, const char *tag);
int sim_build_processes(struct kdsim *m);
uint64_t sim_cpu_thread(struct kdsim *m, unsigned int cpu, uint64_t stack,
			uint64_t stack_top, uint64_t start);
void sim_build_pcr(struct kdsim *m, unsigned int cpu);
int sim_build_io(struct kdsim *m);

/* platform.c */
extern const struct kdstub_platform_ops kdsim_platform_ops;

#endif /* KDSIM_SIM_INT_H */
