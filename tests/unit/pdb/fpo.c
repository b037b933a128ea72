/* SPDX-License-Identifier: MIT */
/*
 * The x86 frame tables against llvm-pdbutil on the same file: an i686
 * driver built with clang-cl /O2 /Oy and lld-link /machine:x86 at test
 * time (tests/support/x86fpo.h) has a FRAMEDATA table; every row that
 * `llvm-pdbutil dump --fpo` prints must come back from the reader with the
 * same fields and program string, lookups by RVA must pick the innermost
 * row llvm-pdbutil's table says covers the address, and each program run
 * through the evaluator must restore $eip/$esp from .raSearch and as many
 * registers as the row's "Saved Regs" column says.  The evaluator's
 * bounds are checked on hostile programs.  Skipped (77) when clang-cl,
 * lld-link or llvm-pdbutil is absent.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <kd/error.h>
#include <kd/pdb.h>

#include "x86fpo.h"

#define MAX_ROWS 256

struct row {
	uint32_t rva, code, locals, params, stack, prolog, saved;
	bool seh, eh, start;
	char prog[512];
};

static struct x86fpo gen;
static struct kd_pdb *pdb;
static struct row rows[MAX_ROWS];
static unsigned nrows;
static bool old_absent;

static bool parse_bool(const char *s, bool *v)
{
	while (*s == ' ')
		s++;
	if (strncmp(s, "true", 4) == 0)
		*v = true;
	else if (strncmp(s, "false", 5) == 0)
		*v = false;
	else
		return false;
	return true;
}

/* One "New FPO Data" row: 10 `|`-separated columns, then the program. */
static bool parse_row(char *line, struct row *r)
{
	char *col[11];
	unsigned n = 0;
	char *p = line, *bar;
	size_t l;

	while (n < 10 && (bar = strchr(p, '|')) != NULL) {
		*bar = 0;
		col[n++] = p;
		p = bar + 1;
	}
	if (n != 10)
		return false;
	col[10] = p;
	r->rva = (uint32_t)strtoul(col[0], NULL, 16);
	r->code = (uint32_t)strtoul(col[1], NULL, 10);
	r->locals = (uint32_t)strtoul(col[2], NULL, 10);
	r->params = (uint32_t)strtoul(col[3], NULL, 10);
	r->stack = (uint32_t)strtoul(col[4], NULL, 10);
	r->prolog = (uint32_t)strtoul(col[5], NULL, 10);
	r->saved = (uint32_t)strtoul(col[6], NULL, 10);
	if (!parse_bool(col[7], &r->seh) || !parse_bool(col[8], &r->eh) ||
	    !parse_bool(col[9], &r->start))
		return false;
	while (*col[10] == ' ')
		col[10]++;
	snprintf(r->prog, sizeof(r->prog), "%s", col[10]);
	l = strlen(r->prog);
	while (l && (r->prog[l - 1] == ' ' || r->prog[l - 1] == '\n'))
		r->prog[--l] = 0;
	return true;
}

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	return x->rva < y->rva ? -1 : x->rva > y->rva;
}

static int setup(void **state)
{
	char *out, *line, *save = NULL;
	bool in_new = false;

	(void)state;
	if (!x86fpo_tools())
		exit(77);
	if (x86fpo_build(&gen) != 0)
		return -1;
	out = kdt_run_out("llvm-pdbutil dump --fpo %s", gen.pdb);
	if (!out)
		return -1;
	old_absent = strstr(out, "FPO stream not present") != NULL;
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, "New FPO Data"))
			in_new = true;
		if (!in_new || strncmp(line, "  RVA", 5) == 0 ||
		    !strchr(line, '|'))
			continue;
		if (nrows < MAX_ROWS && parse_row(line, &rows[nrows]))
			nrows++;
	}
	free(out);
	/* The reader hands the table out by start RVA; so are these rows
	 * (starts are distinct in this image). */
	qsort(rows, nrows, sizeof(rows[0]), row_cmp);
	return kd_pdb_open_file(&pdb, gen.pdb) == KD_OK ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	kd_pdb_close(pdb);
	x86fpo_cleanup(&gen);
	return 0;
}

static void trim(const char *in, char *out, size_t cap)
{
	size_t l;

	snprintf(out, cap, "%s", in);
	l = strlen(out);
	while (l && out[l - 1] == ' ')
		out[--l] = 0;
}

static void test_table(void **state)
{
	uint32_t n = 0, i;
	struct kd_pdb_info info;

	(void)state;
	assert_int_equal(kd_pdb_info(pdb, &info), KD_OK);
	assert_int_equal(info.machine, 0x14c);
	assert_int_not_equal(info.new_fpo_stream, 0xffff);
	/* One row per prolog step of each of the five functions at least. */
	assert_true(nrows >= X86FPO_DEPTH);
	assert_int_equal(kd_pdb_frame_count(pdb, &n), KD_OK);
	assert_int_equal(n, nrows);
	for (i = 0; i < n; i++) {
		struct kd_pdb_frame f;
		char prog[512];

		assert_int_equal(kd_pdb_frame_get(pdb, i, &f), KD_OK);
		assert_int_equal(f.rva_start, rows[i].rva);
		assert_int_equal(f.code_size, rows[i].code);
		assert_int_equal(f.locals, rows[i].locals);
		assert_int_equal(f.params, rows[i].params);
		assert_int_equal(f.max_stack, rows[i].stack);
		assert_int_equal(f.prolog, rows[i].prolog);
		assert_int_equal(f.saved_regs, rows[i].saved);
		assert_int_equal(f.has_seh, rows[i].seh);
		assert_int_equal(f.has_eh, rows[i].eh);
		assert_int_equal(f.func_start, rows[i].start);
		trim(f.program, prog, sizeof(prog));
		assert_string_equal(prog, rows[i].prog);
	}
	assert_int_equal(kd_pdb_frame_get(pdb, n, &(struct kd_pdb_frame){ 0 }),
			 KD_EINVAL);
}

/* The row llvm-pdbutil's table says covers @p rva: latest start. */
static int expect_at(uint32_t rva)
{
	int i;

	for (i = (int)nrows - 1; i >= 0; i--)
		if (rows[i].rva <= rva && rva - rows[i].rva < rows[i].code)
			return i;
	return -1;
}

static void test_lookup(void **state)
{
	unsigned i;

	(void)state;
	for (i = 0; i < nrows; i++) {
		uint32_t probe[3] = { rows[i].rva,
				      rows[i].rva + rows[i].code - 1,
				      rows[i].rva + rows[i].code / 2 };
		unsigned k;

		for (k = 0; k < 3; k++) {
			struct kd_pdb_frame f;
			int want = expect_at(probe[k]);

			assert_true(want >= 0);
			assert_int_equal(kd_pdb_frame_at(pdb, probe[k], &f),
					 KD_OK);
			assert_int_equal(f.rva_start, rows[want].rva);
			assert_int_equal(f.saved_regs, rows[want].saved);
		}
	}
	/* Below the first function (the headers) nothing covers. */
	assert_int_equal(
		kd_pdb_frame_at(pdb, 0x10, &(struct kd_pdb_frame){ 0 }),
		KD_ENOTFOUND);
}

static void test_old_fpo_absent(void **state)
{
	uint32_t n = 1;

	(void)state;
	/* clang writes no FPO_DATA: llvm-pdbutil and the reader agree. */
	assert_true(old_absent);
	assert_int_equal(kd_pdb_fpo_count(pdb, &n), KD_ENOTFOUND);
	assert_int_equal(n, 0);
	assert_int_equal(
		kd_pdb_fpo_at(pdb, rows[0].rva, &(struct kd_pdb_fpo){ 0 }),
		KD_ENOTFOUND);
}

/* A stack of 64 words at 0x1000 whose word at address a is a ^ 0x5a5a. */
static int fake_read(void *ctx, uint32_t addr, uint32_t *v)
{
	(void)ctx;
	if (addr < 0x1000 || addr >= 0x1100 || (addr & 3))
		return KD_EFAULT;
	*v = addr ^ 0x5a5au;
	return KD_OK;
}

static void test_programs(void **state)
{
	static const char *const regs[] = { "$ebx", "$esi", "$edi", "$ebp" };
	unsigned i;

	(void)state;
	for (i = 0; i < nrows; i++) {
		struct kd_pdb_prog p;
		uint32_t v, ra = 0x1080;
		unsigned k, restored = 0;
		bool set;

		memset(&p, 0, sizeof(p));
		p.read32 = fake_read;
		assert_int_equal(kd_pdb_prog_set(&p, ".raSearch", ra), KD_OK);
		assert_int_equal(kd_pdb_prog_set(&p, "$esp", 0x1000), KD_OK);
		assert_int_equal(kd_pdb_prog_set(&p, "$eip", 0x401000), KD_OK);
		assert_int_equal(
			kd_pdb_prog_run(&p, rows[i].prog, strlen(rows[i].prog)),
			KD_OK);
		assert_int_equal(kd_pdb_prog_get(&p, "$eip", &v, &set), KD_OK);
		assert_true(set);
		assert_int_equal(v, ra ^ 0x5a5au);
		assert_int_equal(kd_pdb_prog_get(&p, "$esp", &v, NULL), KD_OK);
		assert_int_equal(v, ra + 4);
		for (k = 0; k < 4; k++)
			if (kd_pdb_prog_get(&p, regs[k], &v, &set) == KD_OK &&
			    set) {
				/* Read from a slot just below the return
				 * address: pushed after it. */
				unsigned j, hit = 0;

				for (j = 1; j <= 4; j++)
					hit += v == ((ra - 4 * j) ^ 0x5a5au);
				assert_int_equal(hit, 1);
				restored++;
			}
		assert_int_equal(restored * 4, rows[i].saved);
	}
}

static void test_hostile_programs(void **state)
{
	static const char *const bad[] = {
		"+",
		"$T0",
		"$T0 =",
		"1 2 =",
		"$T0 1 0 / =",
		"$T0 1 0 % =",
		"$T0 $nosuch =",
		"$T0 8 ^ =",
		"$T0 1 # =",
		"$T0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 "
		"23 24 25 26 27 28 29 30 31 32 33 =",
		"$averyveryveryverylongvariablename 1 =",
		"$T0 99999999999 =",
	};
	struct kd_pdb_prog p;
	char big[8192];
	size_t i, pos = 0;

	(void)state;
	for (i = 0; i < KD_ARRAY_SIZE(bad); i++) {
		memset(&p, 0, sizeof(p));
		p.read32 = fake_read;
		if (kd_pdb_prog_run(&p, bad[i], strlen(bad[i])) == KD_OK)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(
			strstr(kd_error_last()->message, "frame program"));
	}
	/* Too many tokens, though each assignment is fine. */
	while (pos + 16 < sizeof(big))
		pos += (size_t)snprintf(big + pos, sizeof(big) - pos,
					"$T0 1 = ");
	memset(&p, 0, sizeof(p));
	assert_int_equal(kd_pdb_prog_run(&p, big, pos), KD_EPROTO);
	/* Too many variables. */
	memset(&p, 0, sizeof(p));
	for (i = 0, pos = 0; i < KD_PDB_PROG_MAX_VARS + 1; i++)
		pos += (size_t)snprintf(big + pos, sizeof(big) - pos,
					"$v%zu 1 = ", i);
	assert_int_equal(kd_pdb_prog_run(&p, big, pos), KD_EPROTO);
	/* The length bound is honoured: the rest is not read. */
	memset(&p, 0, sizeof(p));
	assert_int_equal(kd_pdb_prog_run(&p, "$T0 5 = garbage#", 8), KD_OK);
	assert_int_equal(kd_pdb_prog_get(&p, "$T0", &(uint32_t){ 0 }, NULL),
			 KD_OK);
	/* Operators: alignment, signed division, negative numbers. */
	memset(&p, 0, sizeof(p));
	assert_int_equal(kd_pdb_prog_run(&p,
					 "$a 0x1237 16 @ = $b -7 2 / = "
					 "$c $a $b - 3 * 5 % =",
					 64),
			 KD_OK);
	{
		uint32_t a = 0, b = 0, c = 0;

		kd_pdb_prog_get(&p, "$a", &a, NULL);
		kd_pdb_prog_get(&p, "$b", &b, NULL);
		kd_pdb_prog_get(&p, "$c", &c, NULL);
		assert_int_equal(a, 0x1230);
		assert_int_equal((int32_t)b, -3);
		assert_int_equal(c, (0x1233u * 3u) % 5u);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_old_fpo_absent),
		cmocka_unit_test(test_programs),
		cmocka_unit_test(test_hostile_programs),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
