/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the engine's type layer (engine/src/sym/types.c) over hostile type
 * records.  The input is the record part of a TPI stream (u16 length,
 * u16 leaf, payload, ...); the harness wraps the whole records of it in a
 * minimal MSF 7.00 PDB (info stream, TPI, no DBI) opened with
 * kd_pdb_open_mem, then walks every type through the layer: info, size,
 * both spellings, the member walk, a dotted path of each member and of
 * two levels, integer reads of input bytes, and enum names.  Records may
 * name themselves or each other in any loop; nothing may crash or hang.
 *
 * Seeds (tests/fuzz/corpus/types, made by types_seeds.py): the TPI
 * records of kdsim's kernel PDB (dttypes.c's structs) and hand-made loops.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kd/error.h>
#include <kd/pdb.h>

#include "sym/types.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BS 4096u
#define MAX_IN (BS * 16u)
#define MAX_TYPES 512

static volatile uint64_t g_sink;

struct fz {
	struct kd_pdb *pdb;
	uint32_t ti;
	const uint8_t *data;
	size_t size;
	unsigned n;
	uint64_t sink;
};

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* The whole records at the start of @p data: their bytes and count. */
static size_t whole_records(const uint8_t *data, size_t size, uint32_t *n)
{
	size_t pos = 0;

	*n = 0;
	while (size - pos >= 4) {
		size_t len = (size_t)data[pos] | (size_t)data[pos + 1] << 8;

		if (len < 2 || len > size - pos - 2)
			break;
		pos += 2 + len;
		(*n)++;
	}
	return pos;
}

/*
 * A PDB around @p rec: block 0 superblock, 1-2 free page maps, 3 the
 * directory's block map, 4 the directory, 5 the info stream, 6.. the TPI.
 */
static uint8_t *make_pdb(const uint8_t *rec, size_t len, uint32_t n,
			 size_t *out_len)
{
	static const char magic[32] = "Microsoft C/C++ MSF 7.00\r\n\x1a"
				      "DS\0\0";
	size_t tpi = 56 + len, tblocks = (tpi + BS - 1) / BS, i;
	size_t nblocks = 6 + tblocks;
	uint8_t *f = calloc(nblocks, BS), *dir;
	uint32_t dpos;

	if (!f)
		return NULL;
	memcpy(f, magic, 32);
	put32(f + 32, BS);
	put32(f + 36, 1);
	put32(f + 40, (uint32_t)nblocks);
	put32(f + 52, 3);
	put32(f + 3 * BS, 4);
	dir = f + 4 * BS;
	put32(dir, 4); /* streams: old directory, info, TPI, DBI */
	put32(dir + 4, 0);
	put32(dir + 8, 28);
	put32(dir + 12, (uint32_t)tpi);
	put32(dir + 16, 0);
	dpos = 20;
	put32(dir + dpos, 5);
	dpos += 4;
	for (i = 0; i < tblocks; i++, dpos += 4)
		put32(dir + dpos, (uint32_t)(6 + i));
	put32(f + 44, dpos);
	put32(f + 5 * BS, 20000404);
	put32(f + 5 * BS + 8, 1);
	/* TPI header: version, header size, index range, record bytes. */
	put32(f + 6 * BS, 20040203);
	put32(f + 6 * BS + 4, 56);
	put32(f + 6 * BS + 8, 0x1000);
	put32(f + 6 * BS + 12, 0x1000 + n);
	put32(f + 6 * BS + 16, (uint32_t)len);
	if (len)
		memcpy(f + 6 * BS + 56, rec, len);
	*out_len = nblocks * BS;
	return f;
}

static int member_cb(void *ctx, const struct kd_type_member *m)
{
	struct fz *z = ctx;
	struct kd_type_member o;
	char path[300];
	uint64_t v;

	if (z->n++ > 64)
		return 1;
	z->sink += m->offset + m->bit_pos + m->bit_len + m->depth;
	if (kd_sym__type_field(z->pdb, z->ti, m->name, &o) == KD_OK)
		z->sink += o.offset;
	snprintf(path, sizeof(path), "%s.%s", m->name, m->name);
	if (kd_sym__type_field(z->pdb, z->ti, path, &o) == KD_OK)
		z->sink += o.offset;
	snprintf(path, sizeof(path), "%s[1]", m->name);
	if (kd_sym__type_field(z->pdb, z->ti, path, &o) == KD_OK)
		z->sink += o.offset;
	if (kd_sym__type_read_int(z->pdb, m->type, z->data,
				  z->size < 8 ? z->size : 8, &v) == KD_OK)
		z->sink += v;
	return 0;
}

static void walk(struct fz *z, uint32_t ti)
{
	struct kd_type_info i;
	struct kd_type_member m;
	char name[KD_TYPE_NAME_MAX];
	const char *en;
	uint64_t sz, v;
	int64_t ev;

	z->ti = ti;
	if (kd_sym__type_info(z->pdb, ti, &i) == KD_OK)
		z->sink += i.size + i.count + i.kind;
	if (kd_sym__type_size(z->pdb, ti, &sz) == KD_OK)
		z->sink += sz;
	kd_sym__type_name(z->pdb, ti, name, sizeof(name));
	z->sink += strlen(name);
	kd_sym__type_cname(z->pdb, ti, name, 16);
	z->sink += strlen(name);
	z->n = 0;
	kd_sym__type_members(z->pdb, ti, member_cb, z);
	if (kd_sym__type_field(z->pdb, ti, "a.b[2].c", &m) == KD_OK)
		z->sink += m.offset;
	if (kd_sym__enum_name(z->pdb, ti, 1, &en) == KD_OK)
		z->sink += strlen(en);
	if (kd_sym__enum_value(z->pdb, ti, "A", &ev) == KD_OK)
		z->sink += (uint64_t)ev;
	if (kd_sym__type_read_int(z->pdb, ti, z->data,
				  z->size < 8 ? z->size : 8, &v) == KD_OK)
		z->sink += v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t basics[] = { 0x0003, 0x0070, 0x0074, 0x0603,
					   0x0470, 0x0023, 0x0041, 0x00ff };
	struct fz z = { 0 };
	uint32_t n, ti, begin, end;
	uint8_t *file;
	size_t len, flen, k;

	if (size > MAX_IN)
		size = MAX_IN;
	len = whole_records(data, size, &n);
	file = make_pdb(data, len, n, &flen);
	if (!file)
		return 0;
	z.data = data;
	z.size = size;
	if (kd_pdb_open_mem(&z.pdb, file, flen, "fuzz.pdb") == KD_OK) {
		for (k = 0; k < sizeof(basics) / sizeof(basics[0]); k++)
			walk(&z, basics[k]);
		if (kd_sym__type_basic("unsigned long *", &ti) == KD_OK)
			walk(&z, ti);
		if (kd_pdb_type_range(z.pdb, &begin, &end) == KD_OK) {
			for (ti = begin; ti < end && ti - begin < MAX_TYPES;
			     ti++)
				walk(&z, ti);
			walk(&z, end);
		}
		kd_pdb_close(z.pdb);
	}
	kd_error_clear();
	free(file);
	/* Keep the results alive without printing them. */
	g_sink = z.sink;
	return 0;
}
