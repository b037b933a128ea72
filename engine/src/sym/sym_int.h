/* SPDX-License-Identifier: MIT */
/*
 * Private interface between modules.c, symbols.c, disasm.c, stack.c and
 * cmd_sym.c: the per-module image data read from target memory.
 */
#ifndef KD_SYM_INT_H
#define KD_SYM_INT_H

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
/* The first export strictly after @p addr in @p m, or NULL. */
const struct kd_export *kd_export_after(struct kd_session *s,
					struct kd_module *m, uint64_t addr);

/* Close the session's disassembler (session reset and kd_modules_free do,
 * through s->hooks.disasm_close, which opening it sets). */
void kd_disasm_close(struct kd_session *s);

/* Case-insensitive wildcard match (`*`, `?`), WinDbg's symbol rules. */
bool kd_wildcard_match(const char *pat, const char *text);

#endif /* KD_SYM_INT_H */
