/* SPDX-License-Identifier: MIT */
/*
 * The PDB reader: an MSF 7.00 program database (what MSVC's link.exe and
 * lld-link write) opened read-only, from a file (mapped) or a caller's
 * buffer, and read lazily.  Opening checks the container, the stream
 * directory, the PDB info stream and the DBI header; symbols, lines and
 * types are indexed on first use.
 *
 * A damaged or hostile file never crashes the reader: every failing call
 * returns a negative KD_E* code and leaves one line in kd_error_last()
 * ("pdb: NAME: what is wrong").  Malformed data gives KD_EPROTO, data cut
 * short KD_ETRUNC, an unsupported container (MSFZ, the old 2.00 format)
 * KD_ENOTSUP, a name or address with no symbol KD_ENOTFOUND.
 *
 * Names handed out are borrowed: NUL-terminated UTF-8 inside the reader's
 * memory, valid until kd_pdb_close().  Addresses are RVAs (image base not
 * added); the reader turns segment:offset into RVAs through the section
 * headers the linker stored (and OMAP when the image was rewritten).
 * A struct kd_pdb is not thread-safe: one thread at a time.
 */
#ifndef KD_PDB_H
#define KD_PDB_H

#include <kd/common.h>

KD_BEGIN_DECLS

struct kd_pdb;

/* --- Opening ----------------------------------------------------------- */

/**
 * Open the PDB file at @p path (mapped read-only) and check its container,
 * stream directory, info stream and DBI header.  On success *@p out owns
 * the mapping; on failure *@p out is NULL and kd_error_last() says why.
 */
KD_API int kd_pdb_open_file(struct kd_pdb **out, const char *path);

/**
 * As kd_pdb_open_file() over @p len bytes at @p buf, which the caller keeps
 * alive and unchanged until kd_pdb_close().  @p name (may be NULL) is used
 * in error lines.
 */
KD_API int kd_pdb_open_mem(struct kd_pdb **out, const void *buf, size_t len,
			   const char *name);

/** Release everything the reader holds.  NULL-safe. */
KD_API void kd_pdb_close(struct kd_pdb *pdb);

/* --- Identity ---------------------------------------------------------- */

struct kd_pdb_info {
	uint32_t version;   /* info stream version (20000404 = VC70) */
	uint32_t signature; /* time stamp written by the linker */
	uint32_t age;	    /* info stream age */
	uint32_t dbi_age; /* DBI age: the one an image's RSDS record matches */
	uint8_t guid[16]; /* as stored (Data1..3 little-endian) */
	uint16_t machine; /* IMAGE_FILE_MACHINE_* from the DBI header */
	uint32_t block_size;
	uint32_t num_streams;
	bool has_ipi;	      /* VC140 feature: an IPI stream is present */
	bool minimal;	      /* /DEBUG:FASTLINK: no types, publics only */
	bool has_dbi;	      /* a DBI stream was present */
	uint32_t num_modules; /* DBI module records */
	/* Optional debug header streams, 0xFFFF when absent. */
	uint16_t fpo_stream;	   /* FPO_DATA (x86) */
	uint16_t new_fpo_stream;   /* FRAMEDATA (x86, "new FPO") */
	uint16_t section_stream;   /* IMAGE_SECTION_HEADERs */
	uint16_t omap_from_stream; /* OMAP from source (rewritten images) */
};

/** Fill @p out from the streams checked at open.  Never fails on an open pdb. */
KD_API int kd_pdb_info(struct kd_pdb *pdb, struct kd_pdb_info *out);

/**
 * Stream number of the named stream @p name ("/names", "/LinkInfo", ...)
 * from the info stream's map, in *@p stream.  KD_ENOTFOUND if absent.
 */
KD_API int kd_pdb_named_stream(struct kd_pdb *pdb, const char *name,
			       uint32_t *stream);

/**
 * Size in bytes of MSF stream @p stream in *@p size (0 for a nil stream).
 * KD_EINVAL when the stream does not exist.
 */
KD_API int kd_pdb_stream_size(struct kd_pdb *pdb, uint32_t stream,
			      uint32_t *size);

/* --- Modules ----------------------------------------------------------- */

struct kd_pdb_module {
	const char *name;     /* module (object) name */
	const char *obj_name; /* library or object file name */
	uint16_t stream;      /* module symbol stream, 0xFFFF when none */
	uint32_t sym_bytes;   /* symbols, including the 4-byte signature */
	uint32_t c11_bytes;
	uint32_t c13_bytes;
	uint16_t num_files;
};

/** Number of DBI module records in *@p count. */
KD_API int kd_pdb_module_count(struct kd_pdb *pdb, uint32_t *count);

/** Module record @p index (0-based) in *@p out. KD_EINVAL past the end. */
KD_API int kd_pdb_module(struct kd_pdb *pdb, uint32_t index,
			 struct kd_pdb_module *out);

/**
 * The module whose code covers @p rva (its procedure, else its section
 * contribution) in *@p index.  KD_ENOTFOUND when none does.
 */
KD_API int kd_pdb_module_at(struct kd_pdb *pdb, uint32_t rva, uint32_t *index);

/**
 * Turn @p segment:@p offset (segment 1-based) into an RVA in *@p rva via
 * the section headers (and OMAP).  KD_ENOTFOUND for an unknown segment or
 * an address OMAP drops; KD_ENOTSUP when the PDB stores no section headers.
 */
KD_API int kd_pdb_seg_to_rva(struct kd_pdb *pdb, uint16_t segment,
			     uint32_t offset, uint32_t *rva);

/* --- Symbols ----------------------------------------------------------- */

enum kd_pdb_sym_kind {
	KD_PDB_SYM_PUBLIC = 1 << 0,   /* S_PUB32 (decorated name) */
	KD_PDB_SYM_PROC = 1 << 1,     /* S_GPROC32/S_LPROC32 (+_ID) */
	KD_PDB_SYM_DATA = 1 << 2,     /* S_GDATA32/S_LDATA32/thread data */
	KD_PDB_SYM_CONSTANT = 1 << 3, /* S_CONSTANT */
	KD_PDB_SYM_UDT = 1 << 4,      /* S_UDT: a name for a type */
};
#define KD_PDB_SYM_ALL 0x1f

struct kd_pdb_sym {
	const char *name;
	enum kd_pdb_sym_kind kind;
	uint16_t segment;
	uint32_t offset;
	uint32_t rva;	  /* valid when has_rva */
	uint32_t size;	  /* procedure code size; 0 when not known */
	uint32_t type;	  /* type index (TPI), or IPI id for *_ID procs */
	uint32_t flags;	  /* S_PUB32 flags (1 code, 2 function, ...) */
	int32_t module;	  /* module index of a procedure, -1 otherwise */
	uint32_t sym_off; /* record offset in its stream (module or GSS) */
	int64_t value;	  /* S_CONSTANT value */
	bool has_rva;
	bool is_global;	  /* S_GPROC32/S_GDATA32 (not a static) */
	bool is_function; /* a procedure or a public flagged function/code */
	bool type_is_id;  /* type is an IPI id (S_GPROC32_ID, S_LPROC32_ID) */
};

/**
 * The symbol covering or preceding @p rva: a procedure whose range holds
 * it, else the nearest public or procedure at or below it.  *@p disp gets
 * rva - start.  KD_ENOTFOUND when nothing lies at or below @p rva.  Builds
 * the address index on first use (publics + module procedures).
 */
KD_API int kd_pdb_addr_to_sym(struct kd_pdb *pdb, uint32_t rva,
			      struct kd_pdb_sym *out, uint32_t *disp);

/**
 * The first public or procedure that starts above @p rva (what `ln`
 * prints after the `|`), a procedure before a public at the same RVA.
 * KD_ENOTFOUND when nothing lies above @p rva.
 */
KD_API int kd_pdb_sym_after(struct kd_pdb *pdb, uint32_t rva,
			    struct kd_pdb_sym *out);

/**
 * Look @p name up exactly (case-sensitive) through the PDB's own hash
 * tables: globals first (procedure references are followed into their
 * module for start and length), then publics.  KD_ENOTFOUND if absent.
 */
KD_API int kd_pdb_name_to_sym(struct kd_pdb *pdb, const char *name,
			      struct kd_pdb_sym *out);

/**
 * Call @p cb for every symbol whose kind is in @p kinds (KD_PDB_SYM_*
 * bits) and whose name matches @p pattern (NULL = all; `*` any run, `?`
 * one character, case-insensitive as WinDbg's `x`).  Publics and globals
 * come from the PSI/GSI, procedures from the module streams (so statics
 * with no global reference are found too).  A non-zero return from @p cb
 * stops the walk and is returned.
 */
KD_API int kd_pdb_symbols_foreach(
	struct kd_pdb *pdb, const char *pattern, unsigned kinds,
	int (*cb)(void *ctx, const struct kd_pdb_sym *sym), void *ctx);

/** WinDbg-style wildcard match (`*`, `?`, case-insensitive). */
KD_API bool kd_pdb_wildcard(const char *pattern, const char *name);

struct kd_pdb_local {
	const char *name;
	uint16_t kind; /* S_LOCAL, S_REGREL32 or S_BPREL32 */
	uint32_t type;
	bool is_param;
	int32_t offset; /* S_REGREL32/S_BPREL32 frame offset */
	uint16_t reg;	/* S_REGREL32 base register (CV_REG_*) */
	uint32_t depth; /* 0 = procedure scope, 1+ = nested S_BLOCK32 */
	/*
	 * S_LOCAL: an S_DEFRANGE_REGISTER of this local covers the rva asked
	 * for (outside its gaps), so the value lives in CV register
	 * live_reg there.  False when no range covers it or only ranges the
	 * reader does not decode (frame-relative, subfields) do.
	 */
	bool has_live_reg;
	uint16_t live_reg;
};

/**
 * Call @p cb for each parameter and local of the procedure covering
 * @p rva, in record order (live_reg resolved at @p rva).  KD_ENOTFOUND
 * when no procedure covers it.
 */
KD_API int kd_pdb_proc_locals(struct kd_pdb *pdb, uint32_t rva,
			      int (*cb)(void *ctx,
					const struct kd_pdb_local *local),
			      void *ctx);

/* --- Lines ------------------------------------------------------------- */

struct kd_pdb_line {
	const char *file; /* from the /names string table */
	uint32_t line;
	uint32_t rva; /* start of the line's code */
	uint32_t module;
};

/**
 * Source line of the code at @p rva from the C13 line information of the
 * module that contributed it.  KD_ENOTFOUND when no line covers @p rva.
 */
KD_API int kd_pdb_line_at(struct kd_pdb *pdb, uint32_t rva,
			  struct kd_pdb_line *out);

/* --- Types (TPI) ------------------------------------------------------- */

/* Leaf kinds the reader decodes (CodeView values). */
#define KD_LF_MODIFIER 0x1001
#define KD_LF_POINTER 0x1002
#define KD_LF_PROCEDURE 0x1008
#define KD_LF_MFUNCTION 0x1009
#define KD_LF_ARGLIST 0x1201
#define KD_LF_FIELDLIST 0x1203
#define KD_LF_BITFIELD 0x1205
#define KD_LF_METHODLIST 0x1206
#define KD_LF_BCLASS 0x1400
#define KD_LF_VBCLASS 0x1401
#define KD_LF_IVBCLASS 0x1402
#define KD_LF_INDEX 0x1404
#define KD_LF_VFUNCTAB 0x1409
#define KD_LF_ENUMERATE 0x1502
#define KD_LF_ARRAY 0x1503
#define KD_LF_CLASS 0x1504
#define KD_LF_STRUCTURE 0x1505
#define KD_LF_UNION 0x1506
#define KD_LF_ENUM 0x1507
#define KD_LF_ALIAS 0x150a
#define KD_LF_MEMBER 0x150d
#define KD_LF_STMEMBER 0x150e
#define KD_LF_METHOD 0x150f
#define KD_LF_NESTTYPE 0x1510
#define KD_LF_ONEMETHOD 0x1511
#define KD_LF_INTERFACE 0x1519
#define KD_LF_FUNC_ID 0x1601
#define KD_LF_MFUNC_ID 0x1602
#define KD_LF_STRING_ID 0x1605

struct kd_pdb_type {
	uint32_t ti;
	uint16_t leaf;		 /* KD_LF_*, 0 for a basic type (ti < 0x1000) */
	const char *name;	 /* "" when the record has none */
	const char *unique_name; /* "" when none */
	uint64_t size;		 /* bytes (0 for forward refs, procedures) */
	/*
	 * ref: the type this one is built on: pointer referent, modifier
	 * base, array element, bitfield base, enum underlying type, alias
	 * target, procedure return type, LF_FUNC_ID function type.
	 */
	uint32_t ref;
	uint32_t index_type;	  /* array index type; procedure arglist */
	uint32_t fields;	  /* field list (class/struct/union/enum) */
	uint16_t count;		  /* members, enumerators or parameters */
	uint16_t props;		  /* property bits; modifier attributes */
	uint32_t attr;		  /* LF_POINTER attributes */
	uint8_t bit_len, bit_pos; /* LF_BITFIELD */
	bool forward;		  /* property bit 7: a forward reference */
};

/** The index range of the TPI in [*@p begin, *@p end). */
KD_API int kd_pdb_type_range(struct kd_pdb *pdb, uint32_t *begin,
			     uint32_t *end);

/**
 * Decode type @p ti (basic types below 0x1000 included) into @p out.
 * KD_EINVAL for an index outside the TPI, KD_EPROTO for a damaged record.
 */
KD_API int kd_pdb_type_get(struct kd_pdb *pdb, uint32_t ti,
			   struct kd_pdb_type *out);

/** The index range of the IPI (ids) in [*@p begin, *@p end). */
KD_API int kd_pdb_id_range(struct kd_pdb *pdb, uint32_t *begin, uint32_t *end);

/**
 * Decode IPI record @p id (what S_GPROC32_ID's type and S_INLINESITE's
 * inlinee name): LF_FUNC_ID / LF_MFUNC_ID give the function name and its
 * TPI type in ref, LF_STRING_ID its string; other ids their leaf only.
 * KD_EINVAL for an id outside the IPI.
 */
KD_API int kd_pdb_id_get(struct kd_pdb *pdb, uint32_t id,
			 struct kd_pdb_type *out);

/**
 * The full definition of a forward-referenced class/struct/union/enum @p ti
 * in *@p full (@p ti itself when it is no forward reference).
 * KD_ENOTFOUND when the PDB holds no definition.
 */
KD_API int kd_pdb_type_resolve(struct kd_pdb *pdb, uint32_t ti, uint32_t *full);

/**
 * The defining (non-forward) class/struct/union/enum named @p name in
 * *@p ti.  KD_ENOTFOUND if none.
 */
KD_API int kd_pdb_type_by_name(struct kd_pdb *pdb, const char *name,
			       uint32_t *ti);

struct kd_pdb_field {
	uint16_t leaf;	  /* KD_LF_MEMBER, KD_LF_ENUMERATE, ... */
	const char *name; /* "" for base classes and vtables */
	uint32_t type;
	uint64_t offset; /* member / base class offset in bytes */
	int64_t value;	 /* enumerator value */
	uint16_t attr;
};

/**
 * Call @p cb for each entry of the field list of type @p ti (a
 * class/struct/union/enum, forward refs resolved, or an LF_FIELDLIST),
 * following LF_INDEX continuations.  A non-zero return from @p cb stops.
 */
KD_API int kd_pdb_type_fields(struct kd_pdb *pdb, uint32_t ti,
			      int (*cb)(void *ctx,
					const struct kd_pdb_field *field),
			      void *ctx);

/**
 * Parameter types of an LF_PROCEDURE/LF_MFUNCTION @p ti (or an
 * LF_ARGLIST): up to @p cap indices into @p out, the count in *@p count
 * (may exceed @p cap).
 */
KD_API int kd_pdb_type_args(struct kd_pdb *pdb, uint32_t ti, uint32_t *out,
			    uint32_t cap, uint32_t *count);

/* --- x86 frame tables (FPO) ------------------------------------------ */

/* FPO_DATA: the old FPO stream's 16-byte records (IMAGE_DEBUG_TYPE_FPO). */
#define KD_FPO_FRAME_FPO 0    /* no frame pointer */
#define KD_FPO_FRAME_TRAP 1   /* a trap frame */
#define KD_FPO_FRAME_TSS 2    /* a task gate */
#define KD_FPO_FRAME_NONFPO 3 /* a normal EBP frame */

struct kd_pdb_fpo {
	uint32_t rva_start;	/* ulOffStart */
	uint32_t proc_size;	/* cbProcSize */
	uint32_t locals_dwords; /* cdwLocals */
	uint16_t params_dwords; /* cdwParams */
	uint8_t prolog;		/* cbProlog: prolog bytes */
	uint8_t regs;		/* cbRegs: registers saved */
	bool has_seh;
	bool use_bp;   /* EBP was set up as a frame pointer */
	uint8_t frame; /* KD_FPO_FRAME_* */
};

/* FRAMEDATA: the new FPO stream's 32-byte records with a program string. */
struct kd_pdb_frame {
	uint32_t rva_start;  /* ulRvaStart */
	uint32_t code_size;  /* cbBlock */
	uint32_t locals;     /* cbLocals, bytes */
	uint32_t params;     /* cbParams, bytes */
	uint32_t max_stack;  /* cbStkMax */
	const char *program; /* frameFunc from /names, "" when none */
	uint16_t prolog;     /* cbProlog */
	uint16_t saved_regs; /* cbSavedRegs, bytes */
	bool has_seh, has_eh, func_start;
};

/*
 * Entries in the FPO (FPO_DATA) table in *@p count; KD_ENOTFOUND when the
 * PDB has no FPO stream, KD_EPROTO when its size is no whole number of
 * records.
 */
KD_API int kd_pdb_fpo_count(struct kd_pdb *pdb, uint32_t *count);
/** Entry @p index of the table sorted by start RVA.  KD_EINVAL past it. */
KD_API int kd_pdb_fpo_get(struct kd_pdb *pdb, uint32_t index,
			  struct kd_pdb_fpo *out);
/**
 * The FPO_DATA entry covering @p rva (binary search; the latest start
 * whose range holds it).  KD_ENOTFOUND when none does.
 */
KD_API int kd_pdb_fpo_at(struct kd_pdb *pdb, uint32_t rva,
			 struct kd_pdb_fpo *out);

/** As kd_pdb_fpo_count() for the new FPO (FRAMEDATA) table. */
KD_API int kd_pdb_frame_count(struct kd_pdb *pdb, uint32_t *count);
/** As kd_pdb_fpo_get(); program is borrowed from /names. */
KD_API int kd_pdb_frame_get(struct kd_pdb *pdb, uint32_t index,
			    struct kd_pdb_frame *out);
/**
 * The FRAMEDATA entry for the code at @p rva: the innermost one (the
 * latest start) whose range holds it, so a prolog address gets the
 * program of the registers pushed so far.  KD_ENOTFOUND when none does.
 */
KD_API int kd_pdb_frame_at(struct kd_pdb *pdb, uint32_t rva,
			   struct kd_pdb_frame *out);

/* --- Frame programs ---------------------------------------------------- */

/*
 * A FRAMEDATA program string ("$T0 .raSearch = $eip $T0 ^ = $esp $T0 4 +
 * = ...") is postfix: operands are pushed, `+ - * / %` combine the two
 * on top, `@` aligns (a b @ = a & -b), `^` reads the 32-bit value at the
 * address on top through the caller's callback, `=` assigns the value on
 * top to the variable under it.  Variables ($eip, $T0, .raSearch, ...)
 * live in struct kd_pdb_prog; the caller sets the registers and the
 * values dbghelp provides (.raSearch, .cbLocals, .cbSavedRegs,
 * .cbParams) before running it and reads the registers back after.
 * Every bound is fixed below; a bad program gives KD_EPROTO and one line.
 */
#define KD_PDB_PROG_MAX_VARS 32
#define KD_PDB_PROG_MAX_STACK 32
#define KD_PDB_PROG_MAX_NAME 24
#define KD_PDB_PROG_MAX_OPS 512 /* tokens run */

struct kd_pdb_prog {
	struct {
		char name[KD_PDB_PROG_MAX_NAME];
		uint32_t value;
		bool assigned; /* set by the program (not the caller) */
	} vars[KD_PDB_PROG_MAX_VARS];
	unsigned nvars;
	/* Read 4 bytes at @addr: 0 on success, a negative KD_E* else. */
	int (*read32)(void *ctx, uint32_t addr, uint32_t *value);
	void *ctx;
};

/** Set variable @p name (created when new).  KD_EBUFS when full. */
KD_API int kd_pdb_prog_set(struct kd_pdb_prog *p, const char *name,
			   uint32_t value);
/**
 * Value of variable @p name in *@p value; *@p assigned (may be NULL)
 * says whether the program set it.  KD_ENOTFOUND when unknown.
 */
KD_API int kd_pdb_prog_get(const struct kd_pdb_prog *p, const char *name,
			   uint32_t *value, bool *assigned);
/**
 * Run program @p prog (at most @p len bytes, stopping at a NUL) on @p p.
 * KD_EPROTO for a malformed program (unknown token, stack under- or
 * overflow, unknown variable, division by zero, too long), the read
 * callback's error when a `^` read fails.
 */
KD_API int kd_pdb_prog_run(struct kd_pdb_prog *p, const char *prog, size_t len);

KD_END_DECLS

#endif /* KD_PDB_H */
