/* SPDX-License-Identifier: MIT */
/*
 * Windows kernel crash dumps (MEMORY.DMP): a reader that maps the file and
 * answers physical and virtual reads and per-processor contexts, and a
 * writer that produces full (type 1) and bitmap (types 5/6) dumps from any
 * source of pages.  Layouts: ../shared/docs/crashdump-format.md.
 */
#ifndef KD_DUMP_H
#define KD_DUMP_H

#include <kd/common.h>

KD_BEGIN_DECLS

struct kd_dump;

/* DumpType values (crashdump-format §1.6). */
enum kd_dump_type {
	KD_DUMP_FULL = 1,
	KD_DUMP_SUMMARY = 2,
	KD_DUMP_HEADER_ONLY = 3,
	KD_DUMP_TRIAGE = 4,
	KD_DUMP_BITMAP_FULL = 5,
	KD_DUMP_BITMAP_KERNEL = 6,
};

/* PE machine values of MachineImageType. */
#define KD_DUMP_MACHINE_I386 0x014Cu
#define KD_DUMP_MACHINE_AMD64 0x8664u
#define KD_DUMP_MACHINE_ARM64 0xAA64u

/* What the header (and the decoded debugger data block) says. */
struct kd_dump_info {
	uint32_t type;	       /* enum kd_dump_type (raw value if unknown) */
	bool ptr64;	       /* PAGEDU64 */
	bool pae;	       /* 32-bit header PaeEnabled */
	uint32_t machine;      /* KD_DUMP_MACHINE_* */
	uint32_t major, minor; /* 0xF/0xC, build number */
	uint32_t ncpus;
	uint64_t dtb; /* DirectoryTableBase as stored */
	uint64_t pfn_database, ps_loaded_module_list, ps_active_process_head;
	uint64_t kdbg;	   /* KdDebuggerDataBlock VA (0: none) */
	bool kdbg_encoded; /* the block was encoded and got decoded */
	uint32_t bugcheck_code;
	uint64_t bugcheck_params[4];
	uint64_t system_time;	/* FILETIME */
	uint64_t system_uptime; /* 100 ns */
	uint64_t file_size;	/* bytes on disk */
	uint64_t required_size; /* bytes the header says the dump needs */
	uint64_t pages;		/* physical pages present */
	bool truncated;		/* the file ends before its pages do */
	char comment[129];
};

/**
 * Map and index @p path.  Problems the file has but that leave something
 * readable (truncation, a bad run, a page count that disagrees) do not
 * fail: they are listed by kd_dump_warning() and the affected pages read
 * as missing.
 * @return KD_OK; KD_ENOTFOUND / KD_ERROR (cannot open or map);
 *         KD_EPROTO (not a kernel dump: @p err says why, one line);
 *         KD_ENOTSUP (encrypted dump data, RDMP bodies, user minidumps).
 *         @p err (may be NULL) gets the one-line reason on failure.
 */
KD_API KD_WARN_UNUSED int kd_dump_open(struct kd_dump **out, const char *path,
				       char *err, size_t errlen);

/** Unmap and free.  NULL-safe. */
KD_API void kd_dump_close(struct kd_dump *d);

KD_API const struct kd_dump_info *kd_dump_info(const struct kd_dump *d);

/** The @p i-th warning found while opening (NULL past the last). */
KD_API const char *kd_dump_warning(const struct kd_dump *d, unsigned int i);

/**
 * Read physical memory.  Stops at the first page the dump lacks.
 * @return KD_OK with *done = @p len; KD_EFAULT with *done < @p len.
 */
KD_API int kd_dump_read_physical(struct kd_dump *d, uint64_t pa, void *buf,
				 size_t len, size_t *done);

/**
 * Translate @p va through the page tables at @p dtb (0: the dump's own
 * DirectoryTableBase) as the dump's machine does (x64 4-level with large
 * pages and transition PTEs, x86 2-level or PAE, ARM64 4 KiB granule).
 * @return KD_OK with *pa_out; KD_EFAULT (not present / table missing).
 */
KD_API int kd_dump_translate(struct kd_dump *d, uint64_t dtb, uint64_t va,
			     uint64_t *pa_out);

/** Read virtual memory through kd_dump_translate(); as read_physical. */
KD_API int kd_dump_read_virtual(struct kd_dump *d, uint64_t va, void *buf,
				size_t len, size_t *done);

/**
 * The raw CONTEXT record of processor @p cpu (the crashing one from the
 * header, the others from their KPRCB), machine-specific layout.
 * @return KD_OK with *len_out; KD_ENOTFOUND (no such processor or not
 *         recoverable); KD_EBUFS.
 */
KD_API int kd_dump_context(struct kd_dump *d, unsigned int cpu, void *buf,
			   size_t cap, size_t *len_out);

/* ---- writing ---------------------------------------------------------- */

/* Where the writer gets a page: fill @p page (4096 bytes) for @p pfn. */
typedef int (*kd_dump_page_fn)(void *ctx, uint64_t pfn, uint8_t *page);

/* Called after each written page batch; non-zero return cancels. */
typedef int (*kd_dump_progress_fn)(void *ctx, uint64_t done, uint64_t total);

struct kd_dump_run {
	uint64_t base_page;
	uint64_t page_count;
};

#define KD_DUMP_WRITE_PARAMS_VERSION 1

struct kd_dump_write_params {
	unsigned int version; /* KD_DUMP_WRITE_PARAMS_VERSION */
	uint32_t type;	      /* KD_DUMP_FULL, _BITMAP_FULL, _BITMAP_KERNEL */
	bool ptr64;	      /* false: 32-bit header (x86) */
	bool pae;
	uint32_t machine;
	uint32_t major, minor;
	uint32_t ncpus;
	uint64_t dtb, pfn_database, ps_loaded_module_list;
	uint64_t ps_active_process_head, kdbg;
	uint32_t bugcheck_code; /* 0x161 LIVE_SYSTEM_DUMP for live targets */
	uint64_t bugcheck_params[4];
	const void *context; /* CONTEXT of the current processor */
	size_t context_len;
	uint64_t system_time, system_uptime;
	const char *comment;
	/* Physical memory: runs (full), or the set of pages (bitmap). */
	const struct kd_dump_run *runs;
	unsigned int nruns;
	/* Bitmap dumps: NULL = every page of the runs; else pfn → keep? */
	bool (*keep_page)(void *ctx, uint64_t pfn);
	kd_dump_page_fn read_page;
	kd_dump_progress_fn progress;
	void *ctx;
	/*
	 * Bitmap dumps: false (default) rounds FirstPage up to a page, as
	 * kernel-written dumps and LeechCore expect; true puts the first
	 * page right after the bitmap, as WinDbg's .dump does.
	 */
	bool bitmap_unaligned;
};

/**
 * Write a dump to @p path (created, or truncated).  Pages @p read_page
 * cannot supply (non-zero return) are written as zeros in full dumps and
 * left out of bitmap dumps.
 * @return KD_OK; KD_EINVAL (bad params: more runs than the header holds
 *         are merged, not an error); KD_ERROR (I/O, kd_error_last());
 *         the progress callback's cancel as KD_EAGAIN.
 */
KD_API KD_WARN_UNUSED int kd_dump_write(const char *path,
					const struct kd_dump_write_params *p);

KD_END_DECLS

#endif /* KD_DUMP_H */
