/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the PDB reader: the input is a whole PDB file, opened from memory,
 * then every API is driven over what it holds: identity, modules, every
 * symbol with its address and name lookups, locals and lines, every
 * type with its fields, forward-ref resolution and argument lists, and
 * every IPI id.  Work is capped so one input stays fast.
 *
 * Seeds (tests/fuzz/corpus/pdb): lld-link PDBs of small programs of our
 * own, repacked to 512/1024-byte blocks by tests/unit/pdb/msf_repack.py.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kd/error.h>
#include <kd/pdb.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SYMS 512
#define MAX_TYPES 2048

struct fz {
	struct kd_pdb *pdb;
	unsigned n;
	uint32_t sink;
};

static int local_cb(void *ctx, const struct kd_pdb_local *l)
{
	struct fz *z = ctx;

	z->sink += (uint32_t)strlen(l->name) + l->type;
	if (l->has_live_reg)
		z->sink += l->live_reg;
	return 0;
}

static int field_cb(void *ctx, const struct kd_pdb_field *f)
{
	struct fz *z = ctx;

	z->sink += (uint32_t)strlen(f->name) + f->type + (uint32_t)f->offset;
	return 0;
}

static int sym_cb(void *ctx, const struct kd_pdb_sym *s)
{
	struct fz *z = ctx;
	struct kd_pdb_sym o;
	struct kd_pdb_line l;
	uint32_t disp;

	if (z->n++ >= MAX_SYMS)
		return 1;
	z->sink += (uint32_t)strlen(s->name);
	if (kd_pdb_name_to_sym(z->pdb, s->name, &o) == KD_OK)
		z->sink += o.rva;
	if (s->has_rva) {
		if (kd_pdb_addr_to_sym(z->pdb, s->rva, &o, &disp) == KD_OK)
			z->sink += disp + (uint32_t)strlen(o.name);
		if (kd_pdb_line_at(z->pdb, s->rva, &l) == KD_OK)
			z->sink += l.line + (uint32_t)strlen(l.file);
		kd_pdb_proc_locals(z->pdb, s->rva, local_cb, z);
		/* Inside the procedure: the def-range gaps are checked. */
		kd_pdb_proc_locals(z->pdb, s->rva + 1, local_cb, z);
		if (kd_pdb_sym_after(z->pdb, s->rva, &o) == KD_OK)
			z->sink += o.rva + (uint32_t)strlen(o.name);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz z = { 0 };
	struct kd_pdb_info info;
	struct kd_pdb_module m;
	struct kd_pdb_type t;
	uint32_t i, n, begin, end, full, args[8], st;

	if (kd_pdb_open_mem(&z.pdb, data, size, "fuzz.pdb") != KD_OK) {
		kd_error_clear();
		return 0;
	}
	kd_pdb_info(z.pdb, &info);
	kd_pdb_named_stream(z.pdb, "/names", &st);
	if (kd_pdb_module_count(z.pdb, &n) == KD_OK)
		for (i = 0; i < n && i < 64; i++)
			if (kd_pdb_module(z.pdb, i, &m) == KD_OK)
				z.sink += (uint32_t)strlen(m.name);
	kd_pdb_symbols_foreach(z.pdb, NULL, KD_PDB_SYM_ALL, sym_cb, &z);
	z.n = 0;
	kd_pdb_symbols_foreach(z.pdb, "*a?n*", KD_PDB_SYM_ALL, sym_cb, &z);
	kd_pdb_addr_to_sym(z.pdb, 0x1000, &(struct kd_pdb_sym){ 0 }, &i);
	if (kd_pdb_type_range(z.pdb, &begin, &end) == KD_OK) {
		for (i = begin; i < end && i - begin < MAX_TYPES; i++) {
			if (kd_pdb_type_get(z.pdb, i, &t) != KD_OK)
				continue;
			z.sink += (uint32_t)t.size + (uint32_t)strlen(t.name);
			if (kd_pdb_type_resolve(z.pdb, i, &full) == KD_OK)
				kd_pdb_type_fields(z.pdb, full, field_cb, &z);
			if (t.leaf == KD_LF_PROCEDURE)
				kd_pdb_type_args(z.pdb, i, args, 8, &n);
			if (t.name[0])
				kd_pdb_type_by_name(z.pdb, t.name, &full);
		}
		kd_pdb_type_get(z.pdb, end, &t);
	}
	if (kd_pdb_id_range(z.pdb, &begin, &end) == KD_OK)
		for (i = begin; i < end && i - begin < MAX_TYPES; i++)
			if (kd_pdb_id_get(z.pdb, i, &t) == KD_OK)
				z.sink += t.ref + (uint32_t)strlen(t.name);
	/* The x86 frame tables: every entry, and a lookup at each start. */
	if (kd_pdb_frame_count(z.pdb, &n) == KD_OK)
		for (i = 0; i < n && i < 4096; i++) {
			struct kd_pdb_frame f;

			if (kd_pdb_frame_get(z.pdb, i, &f) == KD_OK) {
				z.sink += (uint32_t)strlen(f.program);
				kd_pdb_frame_at(z.pdb, f.rva_start, &f);
			}
		}
	if (kd_pdb_fpo_count(z.pdb, &n) == KD_OK)
		for (i = 0; i < n && i < 4096; i++) {
			struct kd_pdb_fpo f;

			if (kd_pdb_fpo_get(z.pdb, i, &f) == KD_OK)
				kd_pdb_fpo_at(z.pdb, f.rva_start + 1, &f);
		}
	kd_pdb_close(z.pdb);
	kd_error_clear();
	return (int)(z.sink & 0);
}
