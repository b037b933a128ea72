/* SPDX-License-Identifier: MIT */
/*
 * Windows kernel crash dumps (MEMORY.DMP): a reader that maps the file and
 * answers physical and virtual reads and per-processor contexts, and a
 * writer that produces full (type 1) and bitmap (types 5/6) dumps from any
 * source of pages.  Layouts: ../shared/docs/crashdump-format.md; the byte
 * offsets of the on-disk structures are in <kd/dumpfmt.h>.
 *
 * Common rules of the reader: a struct kd_dump comes from kd_dump_open()
 * and belongs to its caller until kd_dump_close(); every other function
 * takes a handle that is open (never NULL) and is not thread-safe on one
 * handle.  Pointers the reader returns (info, warnings, the KDBG block)
 * point into the handle and stay valid until kd_dump_close().  Every read
 * is bounded by the file: bytes the file does not hold read as missing
 * (KD_EFAULT / KD_ENOTFOUND), never past the mapping.
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
 * as missing.  Every length and offset the file gives is checked against
 * the file size and the format's own limits before use.
 * @p out must not be NULL; it is set to NULL on failure and to a new
 * handle on success (the caller closes it with kd_dump_close()).  The
 * file stays mapped (read-only, private) and its descriptor open until
 * then.  Nothing is left allocated on failure.
 * @return KD_OK; KD_ENOTFOUND / KD_ERROR (cannot open or map);
 *         KD_EPROTO (not a kernel dump: @p err says why, one line);
 *         KD_ENOTSUP (encrypted dump data, RDMP bodies, user minidumps);
 *         KD_ENOMEM (an allocation failed: nothing half-indexed is
 *         returned).
 *         @p err (may be NULL, or @p errlen 0) gets the one-line reason
 *         on failure, truncated to @p errlen - 1 characters.
 */
KD_API KD_WARN_UNUSED int kd_dump_open(struct kd_dump **out, const char *path,
				       char *err, size_t errlen);

/** Unmap, close and free everything of @p d.  NULL-safe. */
KD_API void kd_dump_close(struct kd_dump *d);

/**
 * What the header says, decoded once at open.  Never NULL; owned by @p d
 * (valid until kd_dump_close()).
 */
KD_API const struct kd_dump_info *kd_dump_info(const struct kd_dump *d);

/**
 * The @p i-th warning found while opening: one line of at most 255
 * characters, owned by @p d; NULL past the last (at most 16 are kept,
 * later ones are dropped).
 */
KD_API const char *kd_dump_warning(const struct kd_dump *d, unsigned int i);

/**
 * Read @p len bytes of physical memory at @p pa into @p buf (@p len
 * bytes of room).  Stops at the first page the dump lacks and at the end
 * of the address space; a page whose file bytes are cut off is missing.
 * @p done may be NULL.
 * @return KD_OK with *done = @p len; KD_EFAULT with *done < @p len (the
 *         bytes before it are valid).
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

/**
 * Read virtual memory through kd_dump_translate() with the dump's own
 * DirectoryTableBase (triage dumps: from their VA-keyed blocks); bounds,
 * @p done and returns as kd_dump_read_physical().
 */
KD_API int kd_dump_read_virtual(struct kd_dump *d, uint64_t va, void *buf,
				size_t len, size_t *done);

/**
 * The raw CONTEXT record of processor @p cpu (the crashing one from the
 * header, the others from their KPRCB), machine-specific layout, copied
 * into @p buf (@p cap bytes of room).
 * @return KD_OK with *len_out (the machine's CONTEXT size);
 *         KD_ENOTFOUND (no such processor or not recoverable); KD_EBUFS
 *         (@p cap smaller than the CONTEXT: nothing copied).
 */
KD_API int kd_dump_context(struct kd_dump *d, unsigned int cpu, void *buf,
			   size_t cap, size_t *len_out);

/**
 * The processor whose CONTEXT is the header's (the crashing one): found
 * on first use by matching the header CONTEXT against each KPRCB's (x64),
 * 0 when none matches or the machine is another.  Always < ncpus when
 * ncpus > 0.
 */
KD_API unsigned int kd_dump_crash_cpu(struct kd_dump *d);

/**
 * The decoded copy of the KDDEBUGGER_DATA64 block (crashdump-format §3.4,
 * field offsets KD_KDBG_* of <kd/dumpfmt.h>).  *@p block points into
 * @p d (valid until kd_dump_close(); at most KD_KDBG_MAX_SIZE bytes).
 * @return its length in bytes; 0 when the dump has none (or it could not
 *         be read or decoded: kd_dump_warning() says why).
 */
KD_API size_t kd_dump_kdbg_block(const struct kd_dump *d,
				 const uint8_t **block);

/**
 * The header's exception record: its code and address (32-bit headers
 * give a zero-extended address).
 * @return KD_OK; KD_ENOTFOUND when the record is not filled in ("PAGE");
 *         *@p code and *@p addr are set either way.
 */
KD_API int kd_dump_exception(const struct kd_dump *d, uint32_t *code,
			     uint64_t *addr);

/** Number of entries in a triage dump's driver list (0 for other types). */
KD_API unsigned int kd_dump_triage_driver_count(const struct kd_dump *d);

/**
 * Triage driver list entry @p i: its image base and size, and its file
 * name as printable ASCII (others become '?') in @p name, NUL-terminated
 * and truncated to @p cap - 1 characters (empty when the file does not
 * hold the name).
 * @return KD_OK; KD_ENOTFOUND (not a 64-bit triage dump, @p i past the
 *         list, the entry outside the file, or @p cap 0: nothing set).
 */
KD_API int kd_dump_triage_driver(const struct kd_dump *d, unsigned int i,
				 uint64_t *base, uint32_t *size, char *name,
				 size_t cap);

/**
 * The image key of triage driver list entry @p i: the TimeDateStamp and
 * CheckSum of the LDR entry copy (0 when the system left them 0).  With
 * the SizeOfImage of kd_dump_triage_driver() they find the image in a
 * symbol store when its pages are not in the dump.
 * @return KD_OK; KD_ENOTFOUND as for kd_dump_triage_driver() (nothing
 *         set).
 */
KD_API int kd_dump_triage_driver_stamp(const struct kd_dump *d, unsigned int i,
				       uint32_t *timestamp, uint32_t *checksum);

/* ---- writing ---------------------------------------------------------- */

/*
 * The writer is pure format: it knows nothing of a debugger session and
 * gets every page and the header's facts from its caller.
 */

/* Where the writer gets a page: fill @p page (4096 bytes) for @p pfn;
 * non-zero return: the page cannot be read. */
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
 * Write a dump to @p path (created mode 0644, or truncated).  Pages
 * @p read_page cannot supply (non-zero return) are written as zeros in
 * full dumps and left out of bitmap dumps.  @p p and everything it points
 * to are only read, and only during the call (the callbacks are called
 * from it, with p->ctx); p->comment is cut to 127 characters.  Every
 * failure sets kd_error_last(); once the file was created, a failure
 * removes it.
 * @return KD_OK; KD_EINVAL (bad params: version, type, no page source,
 *         PAE with a 64-bit header, a CONTEXT larger than the header's
 *         room, overlapping runs; more runs than the header holds are
 *         merged, not an error); KD_ERROR (I/O); KD_ENOMEM; the progress
 *         callback's cancel as KD_EAGAIN.
 */
KD_API KD_WARN_UNUSED int kd_dump_write(const char *path,
					const struct kd_dump_write_params *p);

KD_END_DECLS

#endif /* KD_DUMP_H */
