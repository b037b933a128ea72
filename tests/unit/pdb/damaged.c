/* SPDX-License-Identifier: MIT */
/*
 * Damaged and hostile PDBs: a real lld-link PDB (the fuzz seed
 * tests/fuzz/corpus/pdb/seed_b512_scattered.pdb, blocks scattered) is cut
 * short, given a wrong block size, a directory pointing past the end or
 * looping onto itself, lying stream sizes, type indices out of range, a
 * looping field-list chain, and hash tables whose counts lie.  Each must
 * give one "pdb: ..." error line naming the problem, never a crash (and no
 * leak under ASan).  Allocation failures are injected at every step too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <kd/alloc.h>
#include <kd/error.h>
#include <kd/pdb.h>

#include "testsupport.h"

/* The seed, found next to this file: tests/fuzz/corpus/pdb/. */
#define SEED_REL "fuzz/corpus/pdb/seed_b512_scattered.pdb"
#define THIS_REL "unit/pdb/damaged.c"

static uint8_t *seed;
static size_t seed_len;

/* --- A small independent MSF walker to find what to damage --------------- */

struct msf {
	uint8_t *b;
	size_t len;
	uint32_t bs, nblocks, nstreams;
	uint32_t dir_block; /* first directory block */
	uint32_t map_block; /* first block-map block */
};

static void msf_init(struct msf *m, uint8_t *b, size_t len)
{
	m->b = b;
	m->len = len;
	m->bs = kd_get_le32(b + 32);
	m->nblocks = kd_get_le32(b + 40);
	m->map_block = kd_get_le32(b + 52);
	m->dir_block = kd_get_le32(b + (size_t)m->map_block * m->bs);
	/* The seed's directory fits one block. */
	assert_true(kd_get_le32(b + 44) <= m->bs);
	m->nstreams = kd_get_le32(b + (size_t)m->dir_block * m->bs);
}

/* File offset of directory word @p i. */
static size_t dir_word(const struct msf *m, uint32_t i)
{
	return (size_t)m->dir_block * m->bs + (size_t)i * 4;
}

static uint32_t stream_size(const struct msf *m, uint32_t s)
{
	uint32_t sz = kd_get_le32(m->b + dir_word(m, 1 + s));

	return sz == 0xffffffffu ? 0 : sz;
}

/* Directory word index of stream @p s's block @p k. */
static uint32_t block_word(const struct msf *m, uint32_t s, uint32_t k)
{
	uint32_t i, w = 1 + m->nstreams;

	for (i = 0; i < s; i++)
		w += (stream_size(m, i) + m->bs - 1) / m->bs;
	return w + k;
}

/* File offset of byte @p off of stream @p s. */
static size_t stream_off(const struct msf *m, uint32_t s, uint32_t off)
{
	uint32_t blk = kd_get_le32(m->b +
				   dir_word(m, block_word(m, s, off / m->bs)));

	assert_true(off < stream_size(m, s));
	return (size_t)blk * m->bs + off % m->bs;
}

static uint32_t s_get32(const struct msf *m, uint32_t s, uint32_t off)
{
	uint8_t v[4];
	unsigned i;

	for (i = 0; i < 4; i++)
		v[i] = m->b[stream_off(m, s, off + i)];
	return kd_get_le32(v);
}

static void s_put32(struct msf *m, uint32_t s, uint32_t off, uint32_t val)
{
	unsigned i;

	for (i = 0; i < 4; i++)
		m->b[stream_off(m, s, off + i)] = (uint8_t)(val >> (8 * i));
}

static void s_put16(struct msf *m, uint32_t s, uint32_t off, uint16_t val)
{
	m->b[stream_off(m, s, off)] = (uint8_t)val;
	m->b[stream_off(m, s, off + 1)] = (uint8_t)(val >> 8);
}

/* --- Helpers --------------------------------------------------------------- */

static uint8_t *copy_seed(struct msf *m)
{
	uint8_t *b = malloc(seed_len);

	assert_non_null(b);
	memcpy(b, seed, seed_len);
	msf_init(m, b, seed_len);
	return b;
}

/* The last error is one "pdb: damaged.pdb: ..." line containing @p what. */
static void expect_error(const char *what)
{
	const char *msg = kd_error_last()->message;

	if (!strstr(msg, what))
		fail_msg("error line \"%s\" lacks \"%s\"", msg, what);
	assert_int_equal(strncmp(msg, "pdb: damaged.pdb: ", 18), 0);
	assert_null(strchr(msg, '\n'));
}

/* Opening @p b must fail with @p code and a line containing @p what. */
static void expect_open_fails(const uint8_t *b, size_t len, int code,
			      const char *what)
{
	struct kd_pdb *p = (struct kd_pdb *)1;

	kd_error_clear();
	assert_int_equal(kd_pdb_open_mem(&p, b, len, "damaged.pdb"), code);
	assert_null(p);
	expect_error(what);
}

static struct kd_pdb *open_ok(const uint8_t *b, size_t len)
{
	struct kd_pdb *p = NULL;

	if (kd_pdb_open_mem(&p, b, len, "damaged.pdb") != KD_OK)
		fail_msg("open: %s", kd_error_last()->message);
	return p;
}

static int count_cb(void *ctx, const struct kd_pdb_sym *s)
{
	(*(unsigned *)ctx)++;
	(void)s;
	return 0;
}

static int field_cb(void *ctx, const struct kd_pdb_field *f)
{
	(*(unsigned *)ctx)++;
	(void)f;
	return 0;
}

/* DBI header stream numbers: GSI at +12, PSI at +16. */
static uint32_t dbi_u16(struct msf *m, uint32_t off)
{
	return s_get32(m, 3, off) & 0xffff;
}

/* --- Tests ----------------------------------------------------------------- */

static void test_seed_is_sound(void **state)
{
	struct kd_pdb *p = open_ok(seed, seed_len);
	struct kd_pdb_sym s;
	struct kd_pdb_line l;
	unsigned n = 0;
	uint32_t disp;

	(void)state;
	assert_int_equal(
		kd_pdb_symbols_foreach(p, NULL, KD_PDB_SYM_ALL, count_cb, &n),
		KD_OK);
	assert_true(n > 10);
	assert_int_equal(kd_pdb_name_to_sym(p, "helper", &s), KD_OK);
	assert_int_equal(s.kind, KD_PDB_SYM_PROC);
	assert_false(s.is_global);
	assert_int_equal(kd_pdb_addr_to_sym(p, s.rva + 3, &s, &disp), KD_OK);
	assert_string_equal(s.name, "helper");
	assert_int_equal(disp, 3);
	assert_int_equal(kd_pdb_line_at(p, s.rva, &l), KD_OK);
	assert_non_null(strstr(l.file, "seed.c"));
	kd_pdb_close(p);
}

static void test_truncated(void **state)
{
	size_t cuts[] = { 0,	       20,	     40,
			  55,	       511,	     512,
			  4096,	       seed_len / 2, seed_len - 512,
			  seed_len - 1 };
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		struct kd_pdb *p = NULL;
		int rc;

		kd_error_clear();
		rc = kd_pdb_open_mem(&p, seed, cuts[i], "damaged.pdb");
		assert_true(rc == KD_ETRUNC || rc == KD_EPROTO);
		assert_null(p);
		expect_error(cuts[i] < 56 ? "not an MSF 7.00 PDB" :
					    "superblock says");
	}
}

static void test_block_size(void **state)
{
	struct msf m;
	uint8_t *b = copy_seed(&m);

	(void)state;
	kd_put_le32(b + 32, 1000);
	expect_open_fails(b, seed_len, KD_EPROTO, "block size 1000");
	kd_put_le32(b + 32, 256);
	expect_open_fails(b, seed_len, KD_EPROTO, "block size 256");
	/* A valid size that is wrong for this file. */
	kd_put_le32(b + 32, 4096);
	expect_open_fails(b, seed_len, KD_ETRUNC, "superblock says");
	kd_put_le32(b + 32, 512);
	kd_put_le32(b + 36, 7);
	expect_open_fails(b, seed_len, KD_EPROTO, "free page map block 7");
	free(b);
}

static void test_directory_past_end(void **state)
{
	struct msf m;
	uint8_t *b = copy_seed(&m);

	(void)state;
	/* The block map points past the end. */
	kd_put_le32(b + 52, m.nblocks + 7);
	expect_open_fails(b, seed_len, KD_EPROTO, "directory block map block");
	kd_put_le32(b + 52, m.map_block);
	/* The directory's own block list points past the end. */
	kd_put_le32(b + (size_t)m.map_block * m.bs, m.nblocks);
	expect_open_fails(b, seed_len, KD_EPROTO, "stream directory block");
	kd_put_le32(b + (size_t)m.map_block * m.bs, m.dir_block);
	/* A stream block past the end. */
	kd_put_le32(b + dir_word(&m, block_word(&m, 3, 0)), m.nblocks + 100);
	expect_open_fails(b, seed_len, KD_EPROTO, "stream 3 block");
	/* Directory bytes larger than the file. */
	memcpy(b, seed, seed_len);
	kd_put_le32(b + 44, (uint32_t)seed_len + 4);
	expect_open_fails(b, seed_len, KD_EPROTO, "directory size");
	free(b);
}

static void test_directory_loops(void **state)
{
	struct msf m;
	uint8_t *b = copy_seed(&m);
	uint32_t other;

	(void)state;
	/* A stream whose block is the directory itself. */
	kd_put_le32(b + dir_word(&m, block_word(&m, 2, 0)), m.dir_block);
	expect_open_fails(b, seed_len, KD_EPROTO, "used twice");
	/* Two streams sharing a block. */
	memcpy(b, seed, seed_len);
	other = kd_get_le32(b + dir_word(&m, block_word(&m, 1, 0)));
	kd_put_le32(b + dir_word(&m, block_word(&m, 3, 0)), other);
	expect_open_fails(b, seed_len, KD_EPROTO, "used twice");
	/* The block map naming the superblock. */
	memcpy(b, seed, seed_len);
	kd_put_le32(b + 52, 0);
	expect_open_fails(b, seed_len, KD_EPROTO, "out of range or used");
	free(b);
}

static void test_stream_sizes_lie(void **state)
{
	struct msf m;
	uint8_t *b = copy_seed(&m);
	struct kd_pdb *p;
	uint32_t begin, end;

	(void)state;
	kd_put_le32(b + dir_word(&m, 1 + 3), 0x7fffffffu);
	expect_open_fails(b, seed_len, KD_EPROTO, "stream 3 claims");
	memcpy(b, seed, seed_len);
	kd_put_le32(b + dir_word(&m, 0), 0x10000000u);
	expect_open_fails(b, seed_len, KD_EPROTO, "stream count");
	/* More blocks than the directory holds. */
	memcpy(b, seed, seed_len);
	kd_put_le32(b + dir_word(&m, 1 + 1), stream_size(&m, 1) + 3 * m.bs);
	expect_open_fails(b, seed_len, KD_ETRUNC, "stream directory lists");
	/* DBI substream sizes beyond the DBI stream. */
	memcpy(b, seed, seed_len);
	s_put32(&m, 3, 24, 0x7ffffff0u);
	expect_open_fails(b, seed_len, KD_ETRUNC, "DBI substreams need");
	/* TPI record bytes beyond the stream: open works, types fail. */
	memcpy(b, seed, seed_len);
	s_put32(&m, 2, 16, 0x00ffffffu);
	p = open_ok(b, seed_len);
	kd_error_clear();
	assert_int_equal(kd_pdb_type_range(p, &begin, &end), KD_ETRUNC);
	expect_error("TPI header says");
	kd_pdb_close(p);
	/* TPI counting more types than it holds. */
	memcpy(b, seed, seed_len);
	s_put32(&m, 2, 12, s_get32(&m, 2, 12) + 3);
	p = open_ok(b, seed_len);
	assert_int_equal(kd_pdb_type_range(p, &begin, &end), KD_EPROTO);
	expect_error("TPI header counts");
	kd_pdb_close(p);
	/* Module record naming a stream that does not exist. */
	memcpy(b, seed, seed_len);
	s_put16(&m, 3, 64 + 34, 0x7777);
	expect_open_fails(b, seed_len, KD_EPROTO, "module 0 symbol stream");
	free(b);
}

static void test_type_index_out_of_range(void **state)
{
	struct msf m;
	uint8_t *b = copy_seed(&m);
	struct kd_pdb *p = open_ok(b, seed_len);
	struct kd_pdb_type t;
	uint32_t begin, end, ti, fl = 0, hsz, off, i;
	unsigned n = 0;

	(void)state;
	assert_int_equal(kd_pdb_type_range(p, &begin, &end), KD_OK);
	kd_error_clear();
	assert_int_equal(kd_pdb_type_get(p, end, &t), KD_EINVAL);
	expect_error("outside the TPI");
	assert_int_equal(kd_pdb_type_get(p, 0xffffffffu, &t), KD_EINVAL);
	expect_error("outside the TPI");
	/* A struct whose field list index points past the TPI. */
	for (ti = begin; ti < end && !fl; ti++)
		if (kd_pdb_type_get(p, ti, &t) == KD_OK &&
		    t.leaf == KD_LF_STRUCTURE && !t.forward)
			fl = t.fields;
	assert_true(fl != 0);
	ti--;
	kd_pdb_close(p);
	/* Record offsets in the TPI, found by walking it here. */
	hsz = s_get32(&m, 2, 4);
	for (i = begin, off = hsz; i < ti; i++)
		off += 2 + (s_get32(&m, 2, off) & 0xffff);
	s_put32(&m, 2, off + 4 + 4, end + 50); /* LF_STRUCTURE field list */
	p = open_ok(b, seed_len);
	kd_error_clear();
	assert_int_equal(kd_pdb_type_fields(p, ti, field_cb, &n), KD_EINVAL);
	expect_error("outside the TPI");
	kd_pdb_close(p);
	/* The field list's first entry replaced by an LF_INDEX to itself. */
	memcpy(b, seed, seed_len);
	for (i = begin, off = hsz; i < fl; i++)
		off += 2 + (s_get32(&m, 2, off) & 0xffff);
	s_put16(&m, 2, off + 4, KD_LF_INDEX);
	s_put16(&m, 2, off + 6, 0);
	s_put32(&m, 2, off + 8, fl);
	p = open_ok(b, seed_len);
	assert_int_equal(kd_pdb_type_fields(p, ti, field_cb, &n), KD_EPROTO);
	expect_error("loops");
	kd_pdb_close(p);
	/* An unknown member kind. */
	s_put16(&m, 2, off + 4, 0x1234);
	p = open_ok(b, seed_len);
	assert_int_equal(kd_pdb_type_fields(p, ti, field_cb, &n), KD_EPROTO);
	expect_error("unknown entry (leaf 0x1234)");
	kd_pdb_close(p);
	free(b);
}

static void test_hash_tables_lie(void **state)
{
	struct msf m;
	uint8_t *b = copy_seed(&m);
	struct kd_pdb *p;
	struct kd_pdb_sym s;
	uint32_t gsi = dbi_u16(&m, 12), psi = dbi_u16(&m, 16), hr, bb;
	unsigned n = 0;

	(void)state;
	/* GSI record bytes larger than the stream. */
	hr = s_get32(&m, gsi, 8);
	s_put32(&m, gsi, 8, 0x7ffffff8u);
	p = open_ok(b, seed_len);
	kd_error_clear();
	assert_int_equal(kd_pdb_name_to_sym(p, "main", &s), KD_EPROTO);
	expect_error("globals (GSI) hash sizes");
	/* The failure sticks and every symbol call reports it again. */
	kd_error_clear();
	assert_int_equal(
		kd_pdb_symbols_foreach(p, NULL, KD_PDB_SYM_ALL, count_cb, &n),
		KD_EPROTO);
	expect_error("globals (GSI) hash sizes");
	kd_error_clear();
	assert_int_equal(kd_pdb_addr_to_sym(p, 0x1000, &s, NULL), KD_EPROTO);
	expect_error("globals (GSI) hash sizes");
	kd_pdb_close(p);
	/* One record fewer than the buckets count: the bitmap lies. */
	s_put32(&m, gsi, 8, hr - 8);
	bb = s_get32(&m, gsi, 12);
	s_put32(&m, gsi, 12, bb + 8);
	p = open_ok(b, seed_len);
	assert_int_equal(kd_pdb_name_to_sym(p, "main", &s), KD_EPROTO);
	expect_error("non-empty buckets");
	kd_pdb_close(p);
	/* A hash record pointing outside the symbol records. */
	memcpy(b, seed, seed_len);
	s_put32(&m, gsi, 16, 0x00fffff0u);
	p = open_ok(b, seed_len);
	assert_int_equal(kd_pdb_name_to_sym(p, "main", &s), KD_EPROTO);
	expect_error("points outside the symbol records");
	kd_pdb_close(p);
	/* A bucket pointing past the records. */
	memcpy(b, seed, seed_len);
	hr = s_get32(&m, gsi, 8);
	bb = s_get32(&m, gsi, 12);
	s_put32(&m, gsi, 16 + hr + bb - 4, 0x00ffff00u);
	p = open_ok(b, seed_len);
	assert_int_equal(kd_pdb_name_to_sym(p, "main", &s), KD_EPROTO);
	expect_error("points past its records");
	kd_pdb_close(p);
	/* PSI header sizes beyond the stream: the address index fails too. */
	memcpy(b, seed, seed_len);
	s_put32(&m, psi, 4, 0x40000000u);
	p = open_ok(b, seed_len);
	assert_int_equal(kd_pdb_addr_to_sym(p, 0x1000, &s, NULL), KD_EPROTO);
	expect_error("publics (PSI) header sizes");
	kd_pdb_close(p);
	free(b);
}

static void test_other_containers(void **state)
{
	uint8_t b[128];

	(void)state;
	memset(b, 0, sizeof(b));
	memcpy(b,
	       "Microsoft MSFZ Container\r\n\x1a"
	       "ALD\0\0",
	       32);
	expect_open_fails(b, sizeof(b), KD_ENOTSUP, "MSFZ");
	memcpy(b, "Microsoft C/C++ program database 2.00\r\n\x1aJG\0\0", 44);
	expect_open_fails(b, sizeof(b), KD_ENOTSUP, "2.00");
	memcpy(b, "MZ", 2);
	expect_open_fails(b, sizeof(b), KD_EPROTO, "not an MSF 7.00 PDB");
	assert_int_equal(kd_pdb_open_file(&(struct kd_pdb *){ NULL },
					  "/nonexistent/x.pdb"),
			 KD_ENOTFOUND);
}

static void test_lines_damaged(void **state)
{
	struct msf m;
	uint8_t *b = copy_seed(&m);
	struct kd_pdb *p = open_ok(b, seed_len);
	struct kd_pdb_module mod;
	struct kd_pdb_sym s;
	struct kd_pdb_line l;
	uint32_t c13;

	(void)state;
	assert_int_equal(kd_pdb_module(p, 0, &mod), KD_OK);
	assert_int_equal(kd_pdb_name_to_sym(p, "ext_fn", &s), KD_OK);
	kd_pdb_close(p);
	/* The first C13 subsection's size runs past the module stream. */
	c13 = mod.sym_bytes + mod.c11_bytes;
	s_put32(&m, mod.stream, c13 + 4, 0x00ffffffu);
	p = open_ok(b, seed_len);
	kd_error_clear();
	assert_int_equal(kd_pdb_line_at(p, s.rva, &l), KD_EPROTO);
	expect_error("runs past the end");
	kd_pdb_close(p);
	free(b);
}

/* Every allocation failing in turn: an error, never a crash or a leak. */
static void test_out_of_memory(void **state)
{
	long n;

	(void)state;
	for (n = 0; n < 10000; n++) {
		struct kd_pdb *p = NULL;
		struct kd_pdb_sym s;
		struct kd_pdb_line l;
		uint32_t ti;
		unsigned cnt = 0;
		int rc;

		kd_alloc_fail_after(n, false);
		rc = kd_pdb_open_mem(&p, seed, seed_len, "damaged.pdb");
		if (rc == KD_OK) {
			kd_pdb_addr_to_sym(p, 0x1010, &s, NULL);
			kd_pdb_line_at(p, 0x1010, &l);
			kd_pdb_type_by_name(p, "point", &ti);
			kd_pdb_symbols_foreach(p, NULL, KD_PDB_SYM_ALL,
					       count_cb, &cnt);
			kd_pdb_close(p);
		}
		if (kd_alloc_fail_pending())
			break;
	}
	kd_alloc_fail_after(-1, false);
	assert_true(n < 10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_is_sound),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_block_size),
		cmocka_unit_test(test_directory_past_end),
		cmocka_unit_test(test_directory_loops),
		cmocka_unit_test(test_stream_sizes_lie),
		cmocka_unit_test(test_type_index_out_of_range),
		cmocka_unit_test(test_hash_tables_lie),
		cmocka_unit_test(test_other_containers),
		cmocka_unit_test(test_lines_damaged),
		cmocka_unit_test(test_out_of_memory),
	};

	char path[512];
	const char *file = __FILE__;
	size_t dir = strlen(file) - strlen(THIS_REL);
	int rc;

	if (strlen(file) < strlen(THIS_REL) ||
	    strcmp(&file[dir], THIS_REL) != 0 ||
	    dir + strlen(SEED_REL) >= sizeof(path)) {
		fprintf(stderr, "damaged: unexpected source path %s\n",
			__FILE__);
		return 1;
	}
	memcpy(path, __FILE__, dir);
	snprintf(path + dir, sizeof(path) - dir, "%s", SEED_REL);
	seed = kdt_read_file(path, &seed_len);
	if (!seed) {
		fprintf(stderr, "cannot read %s\n", path);
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);

	free(seed);
	return rc;
}
