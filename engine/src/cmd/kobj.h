/* SPDX-License-Identifier: MIT */
/*
 * Kernel objects read through the kernel's own type information: the
 * offset and size of `nt!_TYPE.Field.Sub` from nt's PDB, and typed reads
 * of target memory by type and field name.  The kernel extensions
 * (!process, !thread, ...) are built on it, so they read kdsim's kernel
 * and a real Windows kernel alike: no offset is a constant of ours.
 *
 * Every failure leaves one line in the handle's err[] that names what
 * failed ("_EPROCESS.ObjectTable not found in nt's types", "cannot read
 * _EPROCESS.UniqueProcessId at ffff..."); the command prints it.
 */
#ifndef KD_CMD_KOBJ_H
#define KD_CMD_KOBJ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/engine_int.h"

/* Entries a list walk visits at most (a longer list is an error). */
#define KD_KOBJ_MAX_LIST 4096
/* Characters of a UNICODE_STRING the reads take at most. */
#define KD_KOBJ_MAX_USTR 512

struct kd_pdb;

struct kd_kobj {
	struct kd_session *s;
	struct kd_pdb *pdb; /* nt's */
	char err[256];
};

/* A field as the PDB lays it out, from the start of its type. */
struct kd_kobj_field {
	uint64_t offset;
	uint64_t size;
	uint32_t type; /* type index of the member */
	bool is_bitfield;
};

/* Open nt's types: KD_ENOTFOUND (err set) when nt has no PDB types. */
int kd_kobj__open(struct kd_kobj *k, struct kd_session *s);

/* sizeof(nt!@p type). */
int kd_kobj__type_size(struct kd_kobj *k, const char *type, uint64_t *size);

/* nt!@p type.@p path ("Tcb.Header.Type", "Tail.Overlay.Thread"). */
int kd_kobj__field(struct kd_kobj *k, const char *type, const char *path,
		   struct kd_kobj_field *out);

/* True when nt's @p type has member @p path (no error recorded). */
bool kd_kobj__has(struct kd_kobj *k, const char *type, const char *path);

/*
 * The integer, enum, pointer or bitfield @p path of the @p type at
 * @p addr, read as its type says (sign-extended when signed).
 */
int kd_kobj__read(struct kd_kobj *k, uint64_t addr, const char *type,
		  const char *path, uint64_t *v);

/* The raw bytes of field @p path (at most @p cap; *len gets the size). */
int kd_kobj__read_bytes(struct kd_kobj *k, uint64_t addr, const char *type,
			const char *path, void *buf, size_t cap, size_t *len);

/*
 * The _UNICODE_STRING field @p path (or, with @p path NULL, the
 * _UNICODE_STRING at @p addr) as printable ASCII ('?' for the rest),
 * cut at KD_KOBJ_MAX_USTR characters and at @p cap - 1.
 */
int kd_kobj__read_ustr(struct kd_kobj *k, uint64_t addr, const char *type,
		       const char *path, char *buf, size_t cap);

/*
 * Walk the _LIST_ENTRY at @p head: for each entry, @p cb gets the address
 * of the record that holds it as @p type.@p link (CONTAINING_RECORD).
 * Bounded: a zero or unreadable Flink, a loop that does not come back to
 * the head, or more than KD_KOBJ_MAX_LIST entries ends the walk with an
 * error.  A non-zero return from @p cb stops the walk and is returned.
 */
int kd_kobj__list_walk(struct kd_kobj *k, uint64_t head, const char *type,
		       const char *link, int (*cb)(void *ctx, uint64_t record),
		       void *ctx);

/* Print k->err as the command's error line and return @p rc. */
int kd_kobj__fail(struct kd_kobj *k, const char *cmd, int rc);

#endif /* KD_CMD_KOBJ_H */
