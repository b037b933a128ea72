/* SPDX-License-Identifier: MIT */
/*
 * x86 stack walking with frame data, end to end: an i686 driver whose
 * functions keep no frame pointer (clang-cl /O2 /Oy, tests/support/
 * x86fpo.h) runs in unicorn under x86 paging until its breakpoint five
 * calls deep (tests/tools/x86fpo_run.c), which writes a 32-bit full
 * kernel dump.  `kd -z` with the PDB on -y then must print the real call
 * chain with `kn`: every frame's name and offset, its return address and
 * its source line are checked against what the tool saw the CPU do (the
 * return addresses it pushed, the call targets), against llvm-pdbutil's
 * procedure addresses and section headers for the same PDB, and against
 * the source text -- never against kd alone.  Without the PDB the EBP
 * chain alone cannot get past the first frame (EBP holds data here),
 * which shows the frame data did the work.  Skipped (77) when clang-cl,
 * lld-link, llvm-pdbutil or unicorn (the tool) is absent.
 */
#include "kd_proc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "testsupport.h"
#include "x86fpo.h"

#define T_MS 30000
#define MAX_CALLS 16

static struct x86fpo gen;
static char dump[160];
static uint32_t base, size, brk_eip;
static struct {
	uint32_t slot, ret, target;
	uint32_t args[3];
} calls[MAX_CALLS];
static unsigned ncalls;
/* llvm-pdbutil's view: RVA of each function on the chain. */
static uint32_t fn_rva[X86FPO_DEPTH];

/* Section @p n's virtual address from llvm-pdbutil's section headers. */
static uint32_t section_va(const char *hdrs, unsigned n)
{
	char tag[40];
	const char *p, *va;

	snprintf(tag, sizeof(tag), "SECTION HEADER #%u\n", n);
	p = strstr(hdrs, tag);
	assert_non_null(p);
	va = strstr(p, " virtual address");
	assert_non_null(va);
	while (va > p && va[-1] != '\n')
		va--;
	return (uint32_t)strtoul(va, NULL, 16);
}

static void pdb_procs(void)
{
	char *syms = kdt_run_out("llvm-pdbutil dump --symbols %s", gen.pdb);
	char *hdrs = kdt_run_out("llvm-pdbutil dump --section-headers %s",
				 gen.pdb);
	unsigned i;

	assert_non_null(syms);
	assert_non_null(hdrs);
	for (i = 0; i < X86FPO_DEPTH; i++) {
		char tag[64];
		const char *p, *a;
		unsigned seg = 0, off = 0;

		/* `fpo_one` must not match `fpo_one_x`: the name is quoted. */
		snprintf(tag, sizeof(tag), "`%s`\n", x86fpo_chain[i]);
		p = strstr(syms, tag);
		assert_non_null(p);
		a = strstr(p, "addr = ");
		assert_non_null(a);
		assert_int_equal(sscanf(a, "addr = %u:%u", &seg, &off), 2);
		fn_rva[i] = section_va(hdrs, seg) + off;
	}
	free(syms);
	free(hdrs);
}

static int setup(void **state)
{
	char tool[256], *out, *line, *save = NULL;

	(void)state;
	if (!x86fpo_tools())
		exit(77);
	kdt_build_path(tool, sizeof(tool), "tests/x86fpo_run");
	if (access(tool, X_OK) != 0) {
		fprintf(stderr, "skipped: x86fpo_run not built (unicorn)\n");
		exit(77);
	}
	if (x86fpo_build(&gen) != 0)
		return -1;
	snprintf(dump, sizeof(dump), "%s/fpo.dmp", gen.dir);
	out = kdt_run_out("%s %s %s", tool, gen.img, dump);
	if (!out)
		return -1;
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned a, b, c, a0, a1, a2;

		if (sscanf(line, "image %x %x", &a, &b) == 2) {
			base = a;
			size = b;
		} else if (sscanf(line, "break %x %x", &a, &b) == 2) {
			brk_eip = a;
		} else if (sscanf(line, "call %x %x %x %x %x %x", &a, &b, &c,
				  &a0, &a1, &a2) == 6 &&
			   ncalls < MAX_CALLS) {
			calls[ncalls].slot = a;
			calls[ncalls].ret = b;
			calls[ncalls].target = c;
			calls[ncalls].args[0] = a0;
			calls[ncalls].args[1] = a1;
			calls[ncalls].args[2] = a2;
			ncalls++;
		}
	}
	free(out);
	pdb_procs();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	x86fpo_cleanup(&gen);
	return 0;
}

static char *run_kd(const char *cmds, bool with_pdb, int *status)
{
	const char *with[] = { "-z", dump, "-y", gen.dir, "-c", cmds, NULL };
	const char *without[] = { "-z", dump, "-c", cmds, NULL };
	char *out = NULL, *err = NULL;

	*status = kp_run(with_pdb ? with : without, NULL, T_MS, &out, &err);
	free(err);
	assert_non_null(out);
	return out;
}

/* The line of the source holding @p text (1-based), from the source. */
static uint32_t source_line(const char *text)
{
	const char *p = strstr(x86fpo_source, text), *q;
	uint32_t n = 1;

	assert_non_null(p);
	for (q = x86fpo_source; q < p; q++)
		n += *q == '\n';
	return n;
}

static void test_tool_chain(void **state)
{
	unsigned i;

	(void)state;
	/* The CPU made the four calls of the chain, to the functions
	 * llvm-pdbutil places where the calls went. */
	assert_int_equal(base, X86FPO_BASE);
	assert_int_equal(ncalls, X86FPO_DEPTH - 1);
	for (i = 0; i < ncalls; i++)
		assert_int_equal(calls[i].target,
				 base + fn_rva[X86FPO_DEPTH - 2 - i]);
	assert_true(brk_eip > base + fn_rva[0]);
}

/* `kn` with the PDBs of @p symdir: the chain, checked frame by frame. */
static void check_kn(const char *symdir)
{
	const char *args[] = { "-z", dump, "-y", symdir, "-c", NULL, NULL };
	char cmds[160], *out = NULL, *err = NULL, *p;
	unsigned i = 0;
	int st;
	static const char *const call_text[X86FPO_DEPTH] = {
		"__debugbreak();", "return fpo_leaf(", "return fpo_three(",
		"return fpo_two(", "return fpo_one(",
	};

	snprintf(cmds, sizeof(cmds), ".reload /f fpo.sys=%x,%x; .lines -e; kn",
		 base, size);
	args[5] = cmds;
	st = kp_run(args, NULL, T_MS, &out, &err);
	free(err);
	assert_non_null(out);
	assert_int_equal(st, 0);
	/* The PDB came from @p symdir. */
	if (!strstr(out, "fpo.sys") && !strstr(out, "fpo!")) {
		fprintf(stderr, "no fpo symbols in:\n%s\n", out);
		fail();
	}
	p = strstr(out, " # ChildEBP RetAddr");
	if (!p) {
		fprintf(stderr, "no kn table in:\n%s\n", out);
		fail();
	}
	for (p = strchr(p, '\n'); p && *p; p = strchr(p + 1, '\n')) {
		unsigned idx, child, ret, off, line;
		char name[64], file[256];
		uint32_t ip;

		if (sscanf(p + 1, "%2x %8x %8x fpo!%63[^+]+0x%x [%255s @ %u]",
			   &idx, &child, &ret, name, &off, file, &line) != 7)
			break;
		assert_int_equal(idx, i);
		assert_true(i < X86FPO_DEPTH);
		/* Name and offset: the function llvm-pdbutil places there,
		 * at the address the CPU was at (frame 0) or would return
		 * to (the rest, as the tool saw the calls push it). */
		assert_string_equal(name, x86fpo_chain[i]);
		ip = base + fn_rva[i] + off;
		if (i == 0)
			assert_int_equal(ip, brk_eip);
		else
			assert_int_equal(ip, calls[ncalls - i].ret);
		/* RetAddr: what the caller's call pushed; 0 past the end. */
		if (i + 1 < X86FPO_DEPTH) {
			assert_int_equal(ret, calls[ncalls - 1 - i].ret);
			/* ChildEBP sits just below the return address slot. */
			assert_int_equal(child + 4, calls[ncalls - 1 - i].slot);
		} else {
			assert_int_equal(ret, 0);
		}
		/* The source line of the statement making the call. */
		assert_non_null(strstr(file, "fpo.c"));
		assert_int_equal(line, source_line(call_text[i]));
		i++;
	}
	if (i != X86FPO_DEPTH) {
		fprintf(stderr, "%u frames parsed in:\n%s\n", i, out);
		fail();
	}
	free(out);
}

static void test_kn(void **state)
{
	(void)state;
	check_kn(gen.dir);
}

/*
 * The same walk from old FPO (FPO_DATA) records alone: the PDB is given
 * an FPO stream made from llvm-pdbutil's frame data rows (per function:
 * its range, prolog bytes, locals and saved registers at the body, its
 * parameters, whether it saves EBP) and loses its FRAMEDATA stream
 * (tests/unit/pdb/fpo_inject.py), in a folder of its own on -y.
 */
static void test_kn_old_fpo(void **state)
{
	struct x86fpo_row rows[64];
	char dir[128], list[160], pdb[160], *out;
	const char *slash = strrchr(__FILE__, '/');
	unsigned n, i, k, funcs = 0;
	bool old_absent;
	FILE *f;

	(void)state;
	n = x86fpo_frame_rows(gen.pdb, rows, 64, &old_absent);
	assert_true(n >= X86FPO_DEPTH);
	snprintf(dir, sizeof(dir), "%s/old", gen.dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(list, sizeof(list), "%s/fpo.txt", dir);
	snprintf(pdb, sizeof(pdb), "%s/fpo.pdb", dir);
	f = fopen(list, "w");
	assert_non_null(f);
	for (i = 0; i < n; i++) {
		const struct x86fpo_row *body = &rows[i];

		if (!rows[i].start)
			continue;
		/* The function's innermost row describes its body. */
		for (k = i + 1; k < n && !rows[k].start &&
				rows[k].rva - rows[i].rva < rows[i].code;
		     k++)
			body = &rows[k];
		fprintf(f, "%u %u %u %u %u %u 0 %d 0\n", rows[i].rva,
			rows[i].code, body->locals / 4, rows[i].params / 4,
			rows[i].prolog, body->saved / 4,
			strstr(body->prog, "$ebp") != NULL);
		funcs++;
	}
	assert_int_equal(fclose(f), 0);
	assert_true(funcs >= X86FPO_DEPTH);
	assert_int_equal(kdt_sh("python3 %.*s/../unit/pdb/fpo_inject.py %s %s "
				"%s --drop-frame-data",
				(int)(slash - __FILE__), __FILE__, gen.pdb, pdb,
				list),
			 0);
	/* llvm-pdbutil agrees: old FPO records only. */
	out = kdt_run_out("llvm-pdbutil dump --fpo %s", pdb);
	assert_non_null(out);
	assert_non_null(strstr(out, "New FPO stream not present"));
	assert_non_null(strstr(out, "|       FPO\n"));
	free(out);
	check_kn(dir);
}

/* kb: each frame's first three stack arguments, as the call pushed them. */
static void test_kb(void **state)
{
	char cmds[160], *out, *p;
	unsigned i = 0;
	int st;

	(void)state;
	snprintf(cmds, sizeof(cmds), ".reload /f fpo.sys=%x,%x; kb", base,
		 size);
	out = run_kd(cmds, true, &st);
	assert_int_equal(st, 0);
	p = strstr(out, " # ChildEBP RetAddr  Args to Child");
	assert_non_null(p);
	for (p = strchr(p, '\n'); p && *p; p = strchr(p + 1, '\n')) {
		unsigned idx, child, ret, a[3];
		char name[64];

		if (sscanf(p + 1, "%2x %8x %8x %8x %8x %8x fpo!%63[^+]", &idx,
			   &child, &ret, &a[0], &a[1], &a[2], name) != 7)
			break;
		assert_int_equal(idx, i);
		assert_string_equal(name, x86fpo_chain[i]);
		/* Frame i was called by the (ncalls - 1 - i)-th call. */
		if (i < ncalls) {
			unsigned k;

			for (k = 0; k < 3; k++)
				assert_int_equal(a[k],
						 calls[ncalls - 1 - i].args[k]);
		}
		i++;
	}
	assert_int_equal(i, X86FPO_DEPTH);
	free(out);
}

static void test_needs_frame_data(void **state)
{
	char cmds[160], hidden[128], *out;
	int st;

	(void)state;
	/* No PDB anywhere (not even at the path the image records): no
	 * frame data.  EBP holds a plain value in this code, so the EBP
	 * chain cannot leave the first frame. */
	snprintf(hidden, sizeof(hidden), "%s.hidden", gen.pdb);
	assert_int_equal(rename(gen.pdb, hidden), 0);
	snprintf(cmds, sizeof(cmds), ".reload fpo.sys=%x,%x; kn", base, size);
	out = run_kd(cmds, false, &st);
	assert_int_equal(rename(hidden, gen.pdb), 0);
	assert_int_equal(st, 0);
	assert_non_null(strstr(out, "fpo+0x"));
	assert_non_null(strstr(out, "00 "));
	assert_null(strstr(out, "\n01 "));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tool_chain),
		cmocka_unit_test(test_kn),
		cmocka_unit_test(test_kn_old_fpo),
		cmocka_unit_test(test_kb),
		cmocka_unit_test(test_needs_frame_data),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
