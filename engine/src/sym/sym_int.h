/* SPDX-License-Identifier: MIT */
/*
 * Private interface between modules.c, symbols.c, disasm.c, stack.c and
 * cmd_sym.c: the per-module image data read from target memory.
 */
#ifndef KD_SYM_INT_H
#define KD_SYM_INT_H

#include <kd/pdb.h>

#include "core/engine_int.h"

/* One named export (forwarders and ordinal-only entries are left out). */
struct kd_export {
	uint32_t rva;
	uint16_t ordinal;
	bool code;	  /* in an executable section */
	const char *name; /* points into kd_modsyms.names */
};

/* One .pdata entry (RVAs). */
struct kd_rtfunc {
	uint32_t begin;
	uint32_t end;
	uint32_t unwind;
};

/* Where a module's PDB stands (pdbsyms.c). */
enum kd_pdbstate {
	KD_PDB_NONE = 0, /* no symbol path, or no CodeView record */
	KD_PDB_DEFERRED, /* a symbol path is set; not looked for yet */
	KD_PDB_LOADED,	 /* ms->pdb is open and matches */
	KD_PDB_MISSING,	 /* not found on the path: export symbols */
	KD_PDB_MISMATCH, /* found, wrong GUID/age: export symbols */
	KD_PDB_DAMAGED,	 /* found, unreadable: export symbols */
	KD_PDB_UNLOADED, /* .reload /u: nothing until the next .reload */
};

/* What symbols.c caches per module (struct kd_module.syms). */
struct kd_modsyms {
	int status;		   /* KD_OK, or why the image was unreadable */
	uint32_t size_of_image;	   /* from the optional header */
	uint32_t timestamp;	   /* file header */
	uint32_t checksum;	   /* optional header */
	uint32_t entry;		   /* AddressOfEntryPoint */
	struct kd_export *exports; /* sorted by rva, then by name */
	size_t nexports;
	char *names;		 /* every export name, NUL-separated */
	struct kd_rtfunc *pdata; /* sorted by begin */
	size_t npdata;
	/* The CodeView RSDS record of the debug directory (symbols.c). */
	bool have_cv;
	uint8_t cv_guid[16]; /* as stored (Data1..3 little-endian) */
	uint32_t cv_age;
	char cv_path[260];  /* the PDB path the linker recorded */
	char pdb_name[128]; /* its base name: what the store is keyed by */
	/* A REPRO debug entry (/Brepro): TimeDateStamp is a file hash. */
	bool repro;
	/* Headers not readable from the target but the module list gave
	 * TimeDateStamp and SizeOfImage: the record is read from a copy
	 * of the image found on the symbol path by that key (pdbsyms.c). */
	bool image_key;
	bool image_tried;     /* looked for since the module was read */
	char image_file[512]; /* the copy the record came from */
	/* The PDB (pdbsyms.c). */
	enum kd_pdbstate pdb_state;
	struct kd_pdb *pdb;
	char pdb_file[512]; /* the file it was read from */
	bool pdb_private;   /* module symbols present (not publics only) */
	bool pdb_forced;    /* .reload /i loaded a mismatch: the M mark */
};

/* Largest counts accepted from an image. */
#define KD_MAX_MODULES 4096
#define KD_MAX_EXPORTS 65536
#define KD_MAX_PDATA (1u << 20)

/*
 * The cached image data of @p m, read on first use.  Never NULL after a
 * successful call; on an unreadable image the result has status < 0 and
 * no exports.  Returns NULL only when out of memory.
 */
struct kd_modsyms *kd_module_syms(struct kd_session *s, struct kd_module *m);
/*
 * .reload Image=Base,Size[,Timestamp]: add a module the target's list does
 * not have (or replace the entries at that range or name) and read the
 * list again.  KD_EINVAL for an empty or wrapping range, KD_EOVERFLOW when
 * KD_SYM_ADDED_MAX modules were added already.
 */
int kd_sym__module_add(struct kd_session *s, const char *image, uint64_t base,
		       uint64_t size, uint32_t timestamp);
/* A plain .reload: the target's list only. */
void kd_sym__modules_forget_added(struct kd_session *s);
/* Free what kd_module_syms() cached (modules.c). */
void kd_modsyms_free(struct kd_module *m);

/*
 * The .pdata entry covering @p addr (its module through *mod), or NULL.
 */
const struct kd_rtfunc *kd_pdata_lookup(struct kd_session *s, uint64_t addr,
					struct kd_module **mod);

/*
 * Nearest export at or before @p addr inside @p m (alias rule: the first
 * name in sorted order), or NULL when none precedes it.
 */
const struct kd_export *kd_export_at_or_before(struct kd_session *s,
					       struct kd_module *m,
					       uint64_t addr);
/* Export @p name of @p m: exact case first, then folded. */
const struct kd_export *kd_sym__export_by_name(struct kd_session *s,
					       struct kd_module *m,
					       const char *name);
/* The first export strictly after @p addr in @p m, or NULL. */
const struct kd_export *kd_export_after(struct kd_session *s,
					struct kd_module *m, uint64_t addr);

/*
 * The matching PDB of @p m, loading it first when it is deferred (and
 * printing WinDbg's lines when it cannot be had).  NULL when the module
 * has export symbols only.
 */
struct kd_pdb *kd_sym__pdb(struct kd_session *s, struct kd_module *m);
/* Look for the PDB of @p m now (.reload /f, ld); @p force takes a
 * mismatched one (.reload /i).  Returns the new state. */
enum kd_pdbstate kd_sym__pdb_load(struct kd_session *s, struct kd_module *m,
				  bool force);
/* Close the PDB of @p m (.reload /u, a module reloaded). */
void kd_sym__pdb_unload(struct kd_module *m);
/*
 * The CodeView RSDS record of the image file in @p buf (@p len bytes)
 * into @p ms (cv_*, pdb_name, have_cv), the debug directory found
 * through the section table.  KD_ENOTFOUND without a record, KD_EPROTO
 * for a damaged image; @p why says which.
 */
int kd_sym__image_file_cv(const uint8_t *buf, size_t len, struct kd_modsyms *ms,
			  char *why, size_t cap);
/* The store key of the module's PDB: GUID digits and age. */
void kd_sym__pdb_key(const struct kd_modsyms *ms, char *buf, size_t cap);
/* PDB symbol at or before @p addr in @p m: its name (borrowed from the
 * PDB) and address.  KD_ENOTFOUND without a PDB or symbol. */
int kd_sym__pdb_addr(struct kd_session *s, struct kd_module *m, uint64_t addr,
		     const char **name, uint64_t *sym_addr);
/* The PDB symbol of @p m that starts first above @p addr (ln's "|"
 * part).  KD_ENOTFOUND without a PDB or such a symbol. */
int kd_sym__pdb_next(struct kd_session *s, struct kd_module *m, uint64_t addr,
		     const char **name, uint64_t *sym_addr);
/* Address of @p name (exact) in the PDB of @p m. */
int kd_sym__pdb_name(struct kd_session *s, struct kd_module *m,
		     const char *name, uint64_t *addr);
/* Source file and line of the code at @p addr from its module's PDB. */
int kd_sym_line(struct kd_session *s, uint64_t addr, char *file, size_t cap,
		uint32_t *line);
/* The PDB state of @p m after a new symbol path: missing ones go back to
 * deferred. */
void kd_sym__path_changed(struct kd_session *s);
/* SYMOPT_* bits the engine honours (dbghelp's values). */
#define KD_SYMOPT_DEFERRED_LOADS 0x4u
#define KD_SYMOPT_LOAD_LINES 0x10u
#define KD_SYMOPT_LOAD_ANYTHING 0x40u
#define KD_SYMOPT_EXACT_SYMBOLS 0x400u
#define KD_SYMOPT_IGNORE_NT_SYMPATH 0x1000u
#define KD_SYMOPT_PUBLICS_ONLY 0x4000u
#define KD_SYMOPT_DEBUG 0x80000000u
/* openkd's own: symbol servers are not asked (caches and folders are). */
#define KD_SYMOPT_OFFLINE 0x40000000u
/* The mask CDB and KD start with. */
#define KD_SYMOPT_DEFAULT 0xB0227u

/* The session's symbol path ("" when none) and options. */
const char *kd_sym__path(struct kd_session *s);
uint32_t kd_sym__options(struct kd_session *s);
void kd_sym__set_options(struct kd_session *s, uint32_t opts);
/* Replace (or with @p append add to) the path; KD_EOVERFLOW if too long. */
int kd_sym__set_path(struct kd_session *s, const char *path, bool append);
/* Print a "DBGHELP: ..." line when !sym noisy is on. */
void kd_sym__noisy(struct kd_session *s, const char *fmt, ...) KD_PRINTF(2, 3);

/* Close the session's disassembler (session reset and kd_modules_free do,
 * through s->hooks.disasm_close, which opening it sets). */
void kd_disasm_close(struct kd_session *s);

/* Case-insensitive wildcard match (`*`, `?`), WinDbg's symbol rules. */
bool kd_wildcard_match(const char *pat, const char *text);

#endif /* KD_SYM_INT_H */
