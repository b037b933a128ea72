/* SPDX-License-Identifier: MIT */
/*
 * kdsim's machine: a simulated Windows x64 computer whose processors run
 * real x86-64 instructions (unicorn), with sparse physical memory, 4-level
 * page tables and the Windows structures a kernel debugger looks for.
 */
#ifndef KDSIM_SIM_H
#define KDSIM_SIM_H

#include <kd/common.h>
#include <kdstub/kdstub.h>

KD_BEGIN_DECLS

#define KDSIM_MAX_CPUS 64
#define KDSIM_DEFAULT_CPUS 4
#define KDSIM_DEFAULT_MEM_GIB 16

/* Virtual layout (docs/kdsim.md). */
#define KDSIM_KERNEL_WINDOW_VA 0xFFFFF80000000000ull /* -> physical 0 */
#define KDSIM_KERNEL_WINDOW_SIZE (64ull << 20)
#define KDSIM_KERNEL_BASE 0xFFFFF80000400000ull
#define KDSIM_POOL_VA 0xFFFFF80010000000ull /* -> top of physical memory */
#define KDSIM_POOL_SIZE (16ull << 20)

struct kdsim_config {
	unsigned int cpus;	    /* 1..64 */
	unsigned int mem_gib;	    /* 1..1024, addressable physical memory */
	const char *kernel_dir;	    /* folder with ntoskrnl.exe and modules */
	uint32_t print_ms;	    /* status DbgPrint period; 0 = never */
	uint32_t loadmod_ms;	    /* module load period; 0 = never */
	uint32_t bugcheck_after_ms; /* 0 = never */
	uint32_t bugcheck_code;	    /* default 0xE2 */
	uint32_t reboot_after_ms;   /* 0 = never */
	uint32_t slice;		    /* instructions per processor turn */
	bool verbose;
	/* Memory in MiB instead of mem_gib when non-zero (even, at least
	 * KDSIM_MIN_MEM_MIB: the 64 MiB kernel window plus the pool). */
	unsigned int mem_mib;
};

#define KDSIM_MIN_MEM_MIB 96u

#define KDSIM_CONFIG_INIT                                                    \
	{                                                                    \
		KDSIM_DEFAULT_CPUS, KDSIM_DEFAULT_MEM_GIB, NULL, 2000, 0, 0, \
			0xE2, 0, 20000, false, 0                             \
	}

struct kdsim;

/** The kernel folder compiled into the build. */
KD_API const char *kdsim_default_kernel_dir(void);

/**
 * Create the machine and boot it (load the kernel, build the page tables
 * and the Windows structures, reset every processor).
 * @return KD_OK; KD_EINVAL (bad config); KD_ENOTFOUND (kernel missing);
 *         KD_EPROTO (kernel is not a valid PE32+); KD_ENOMEM; KD_ERROR.
 */
KD_API KD_WARN_UNUSED int kdsim_create(struct kdsim **out,
				       const struct kdsim_config *cfg);

/** Destroy the machine.  NULL-safe. */
KD_API void kdsim_destroy(struct kdsim *m);

/**
 * Run until @p stop becomes true or a fatal error.  Reports go to the host
 * through kdstub over @p io.  @p reopen (optional) is called after a
 * simulated reboot before kdstub is set up again (KDNET re-offers).
 * @return KD_OK when stopped; negative KD_E* on an emulation failure.
 */
KD_API int kdsim_run(struct kdsim *m, const struct kdstub_io *io,
		     int (*reopen)(void), volatile int *stop);

/** Address of an export of the loaded kernel, 0 when absent. */
KD_API uint64_t kdsim_kernel_export(const struct kdsim *m, const char *name);

KD_END_DECLS

#endif /* KDSIM_SIM_H */
