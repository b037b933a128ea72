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

#include <kd/alloc.h>
#include <kd/error.h>
#include <kd/pdb.h>

#include "x86fpo.h"

#define MAX_ROWS 256

static struct x86fpo gen;
static struct kd_pdb *pdb;
static struct x86fpo_row rows[MAX_ROWS];
static unsigned nrows;
static bool old_absent;

static int setup(void **state)
{
	(void)state;
	if (!x86fpo_tools())
		exit(77);
	if (x86fpo_build(&gen) != 0)
		return -1;
	nrows = x86fpo_frame_rows(gen.pdb, rows, MAX_ROWS, &old_absent);
	if (nrows == 0)
		return -1;
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

/* One row of llvm-pdbutil's "Old FPO Data" table. */
struct old_row {
	uint32_t rva, code, locals, params, prolog, regs;
	char type[16];
};

static unsigned old_rows(const char *path, struct old_row *r, unsigned max)
{
	char *out = kdt_run_out("llvm-pdbutil dump --fpo %s", path);
	char *line, *save = NULL;
	unsigned n = 0;
	bool in_old = false;

	assert_non_null(out);
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char bp[8], seh[8];

		if (strstr(line, "Old FPO Data"))
			in_old = true;
		if (strstr(line, "New FPO Data"))
			in_old = false;
		if (in_old && n < max &&
		    sscanf(line,
			   "%x | %u | %u | %u | %u | %u | %7s | %7s | %15s",
			   &r[n].rva, &r[n].code, &r[n].locals, &r[n].params,
			   &r[n].prolog, &r[n].regs, bp, seh, r[n].type) == 9)
			n++;
	}
	free(out);
	return n;
}

/* This file's folder, where fpo_inject.py (and msf_repack.py) are. */
static const char *script_dir(void)
{
	static char dir[512];
	const char *slash = strrchr(__FILE__, '/');

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - __FILE__) : 1,
		 slash ? __FILE__ : ".");
	return dir;
}

static const char *frame_type(uint8_t t)
{
	static const char *const names[] = { "FPO", "Trap", "TSS", "Non-FPO" };

	return names[t & 3];
}

/*
 * An old FPO stream added to the PDB (tests/unit/pdb/fpo_inject.py; no
 * free linker writes one): every record as llvm-pdbutil reads it.
 * llvm-pdbutil 14 decodes the attribute word's prolog as 4 bits and
 * fHasSEH/fUseBP from bits 9/10, where winnt.h's FPO_DATA has cbProlog :
 * 8, cbRegs : 3, fHasSEH : 1 (bit 11), fUseBP : 1 (bit 12): those are
 * checked against the values written, prologs kept below 16.
 */
static void test_old_fpo_injected(void **state)
{
	static const struct {
		uint32_t rva, size, locals;
		uint16_t params;
		uint8_t prolog, regs;
		bool seh, bp;
		uint8_t frame;
	} recs[] = {
		/* Out of order on purpose: the reader sorts. */
		{ 0x3100, 32, 0, 0, 0, 0, false, false, KD_FPO_FRAME_NONFPO },
		{ 0x3000, 16, 2, 1, 9, 7, true, true, KD_FPO_FRAME_TSS },
		{ 0x3010, 8, 1, 3, 3, 1, false, true, KD_FPO_FRAME_TRAP },
		{ 0x3200, 64, 300, 5, 15, 4, true, false, KD_FPO_FRAME_FPO },
	};
	struct old_row llvm[8];
	char list[192], out[192];
	struct kd_pdb *p = NULL;
	struct kd_pdb_fpo f;
	struct kd_pdb_frame fd;
	uint32_t n = 0, i, k;
	FILE *fp;

	(void)state;
	snprintf(list, sizeof(list), "%s/fpo.txt", gen.dir);
	snprintf(out, sizeof(out), "%s/old.pdb", gen.dir);
	fp = fopen(list, "w");
	assert_non_null(fp);
	for (i = 0; i < KD_ARRAY_SIZE(recs); i++)
		fprintf(fp, "%u %u %u %u %u %u %d %d %u\n", recs[i].rva,
			recs[i].size, recs[i].locals, recs[i].params,
			recs[i].prolog, recs[i].regs, recs[i].seh, recs[i].bp,
			recs[i].frame);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(kdt_sh("python3 %s/fpo_inject.py %s %s %s",
				script_dir(), gen.pdb, out, list),
			 0);
	assert_int_equal(old_rows(out, llvm, 8), KD_ARRAY_SIZE(recs));
	assert_int_equal(kd_pdb_open_file(&p, out), KD_OK);
	assert_int_equal(kd_pdb_fpo_count(p, &n), KD_OK);
	assert_int_equal(n, KD_ARRAY_SIZE(recs));
	for (i = 0; i < n; i++) {
		assert_int_equal(kd_pdb_fpo_get(p, i, &f), KD_OK);
		/* Sorted: entry i has the i-th smallest start. */
		for (k = 0;
		     k < KD_ARRAY_SIZE(llvm) && llvm[k].rva != f.rva_start; k++)
			;
		assert_true(k < KD_ARRAY_SIZE(recs));
		assert_int_equal(f.proc_size, llvm[k].code);
		assert_int_equal(f.locals_dwords, llvm[k].locals);
		assert_int_equal(f.params_dwords, llvm[k].params);
		assert_int_equal(f.prolog, llvm[k].prolog);
		assert_int_equal(f.regs, llvm[k].regs);
		assert_string_equal(frame_type(f.frame), llvm[k].type);
		for (k = 0; recs[k].rva != f.rva_start; k++)
			;
		assert_int_equal(f.has_seh, recs[k].seh);
		assert_int_equal(f.use_bp, recs[k].bp);
		if (i > 0) {
			struct kd_pdb_fpo prev;

			assert_int_equal(kd_pdb_fpo_get(p, i - 1, &prev),
					 KD_OK);
			assert_true(prev.rva_start < f.rva_start);
		}
	}
	assert_int_equal(kd_pdb_fpo_at(p, 0x3005, &f), KD_OK);
	assert_int_equal(f.rva_start, 0x3000);
	assert_int_equal(kd_pdb_fpo_at(p, 0x3017, &f), KD_OK);
	assert_int_equal(f.rva_start, 0x3010);
	assert_int_equal(kd_pdb_fpo_at(p, 0x3018, &f), KD_ENOTFOUND);
	assert_int_equal(kd_pdb_fpo_at(p, 0x323f, &f), KD_OK);
	assert_int_equal(f.locals_dwords, 300);
	assert_int_equal(kd_pdb_fpo_at(p, 0x3240, &f), KD_ENOTFOUND);
	assert_int_equal(kd_pdb_fpo_get(p, n, &f), KD_EINVAL);
	/* The frame data table is still there beside it. */
	assert_int_equal(kd_pdb_frame_at(p, rows[0].rva, &fd), KD_OK);
	kd_pdb_close(p);

	/* A table that is no whole number of records: one clear line. */
	assert_int_equal(kdt_sh("python3 %s/fpo_inject.py %s %s %s --junk 5",
				script_dir(), gen.pdb, out, list),
			 0);
	assert_int_equal(kd_pdb_open_file(&p, out), KD_OK);
	assert_int_equal(kd_pdb_fpo_count(p, &n), KD_EPROTO);
	assert_non_null(strstr(kd_error_last()->message, "not a multiple"));
	assert_int_equal(kd_pdb_fpo_at(p, 0x3005, &f), KD_EPROTO);
	kd_pdb_close(p);
}

/*
 * Every allocation of opening the PDB and loading both frame tables
 * failed in turn: each failure is KD_ENOMEM from the call that needed
 * it (never a quiet empty table), and the loop reaches the end.
 */
static void test_oom(void **state)
{
	long n;

	(void)state;
	for (n = 0; n < 10000; n++) {
		struct kd_pdb *p = NULL;
		struct kd_pdb_frame fd;
		uint32_t count = 0;
		int rc;

		kd_alloc_fail_after(n, false);
		rc = kd_pdb_open_file(&p, gen.pdb);
		if (rc == KD_OK) {
			rc = kd_pdb_frame_count(p, &count);
			if (rc == KD_OK) {
				assert_int_equal(count, nrows);
				rc = kd_pdb_frame_at(p, rows[0].rva, &fd);
			}
		}
		if (rc != KD_OK)
			assert_int_equal(rc, KD_ENOMEM);
		kd_pdb_close(p);
		if (!kd_alloc_fail_pending()) {
			assert_int_not_equal(rc, KD_OK);
			continue;
		}
		/* Fewer allocations than n: every one was failed once. */
		assert_int_equal(rc, KD_OK);
		break;
	}
	kd_alloc_fail_after(-1, false);
	assert_true(n > 0 && n < 10000);
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
		("$T0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 "
		 "23 24 25 26 27 28 29 30 31 32 33 ="),
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
		cmocka_unit_test(test_old_fpo_injected),
		cmocka_unit_test(test_oom),
		cmocka_unit_test(test_programs),
		cmocka_unit_test(test_hostile_programs),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
