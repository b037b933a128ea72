/* SPDX-License-Identifier: MIT */
/*
 * What the kernel extensions (ext_cpu.c, ext_io.c, ext_mm.c) ask of nt's
 * types: a field's place by its Windows path ("_KPCR.Prcb.CurrentThread")
 * and its value at an object's address.  Every offset and size comes from
 * the PDB of the target's kernel; a field it lacks is one printed line
 * naming it ("_KPCR.Irql not found in nt's types") and a negative return.
 * ext_fields.c answers these through cmd/kobj.h; nothing here keeps an
 * offset of its own.
 */
#ifndef KD_CMD_EXT_H
#define KD_CMD_EXT_H

#include "core/engine_int.h"

struct kd_ext_field {
	uint64_t off;	    /* from the start of the outer type */
	uint64_t size;	    /* bytes of the member (the whole array) */
	uint64_t elem_size; /* an array's element; else == size */
	uint32_t type;	    /* the member's type index in @p pdb */
	struct kd_pdb *pdb;
};

/* Place of @p path: "_TYPE.Member[.Member...]". */
int kd_ext__field(struct kd_session *s, const char *path,
		  struct kd_ext_field *f);
/* Whether nt's types have @p path; prints nothing (optional columns). */
bool kd_ext__has(struct kd_session *s, const char *path);
/* sizeof(nt!@p type). */
int kd_ext__sizeof(struct kd_session *s, const char *type, uint64_t *size);
/*
 * The value of scalar/pointer field @p path of the object at
 * @p addr (bitfields extracted, signed types sign-extended).  A failed
 * read prints kobj's "cannot read <path> at <addr>" and returns KD_EFAULT.
 */
int kd_ext__read(struct kd_session *s, uint64_t addr, const char *path,
		 uint64_t *v);
/* Element @p i of array field @p path (pointer or scalar elements). */
int kd_ext__read_elem(struct kd_session *s, uint64_t addr, const char *path,
		      uint64_t i, uint64_t *v);
/*
 * The text of the _UNICODE_STRING at @p addr into @p out (non-ASCII as
 * '?', at most @p cap - 1 characters, NUL-terminated).
 */
int kd_ext__ustr(struct kd_session *s, uint64_t addr, char *out, size_t cap);
/* Address of nt!@p name (a global the kernel's symbols name). */
int kd_ext__global(struct kd_session *s, const char *name, uint64_t *addr);

#endif /* KD_CMD_EXT_H */
