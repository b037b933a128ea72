/* SPDX-License-Identifier: MIT */
/*
 * An x86 driver image made at test time for the FPO tests: five
 * functions calling each other (fpo_entry -> fpo_one -> fpo_two ->
 * fpo_three -> fpo_leaf), each with five stack arguments and locals,
 * compiled by clang-cl for i686 with /O2 /Oy (no frame pointers; EBP is
 * used as a general register) and linked by lld-link /machine:x86
 * /debug, so its PDB carries the FRAMEDATA table clang emits through
 * .cv_fpo_data.  fpo_leaf stops on __debugbreak().
 */
#ifndef KD_TEST_X86FPO_H
#define KD_TEST_X86FPO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testsupport.h"

/* Where the image lands (lld-link /base) and the names along the chain,
 * innermost first. */
#define X86FPO_BASE 0x80400000u
#define X86FPO_DEPTH 5
static const char *const x86fpo_chain[X86FPO_DEPTH] = {
	"fpo_leaf", "fpo_three", "fpo_two", "fpo_one", "fpo_entry",
};

static const char x86fpo_source[] =
	"volatile int sink;\n"
	"__declspec(noinline) int fpo_leaf(int a, int b, int c, int d, int e)\n"
	"{\n"
	"\tint arr[8];\n"
	"\tfor (int i = 0; i < 8; i++)\n"
	"\t\tarr[i] = a * i + b;\n"
	"\tsink = arr[c & 7];\n"
	"\t__debugbreak();\n"
	"\treturn arr[d & 7] + e;\n"
	"}\n"
	"__declspec(noinline) int fpo_three(int a, int b, int c, int d, int e)\n"
	"{\n"
	"\tint x[4] = { a, b, c, d };\n"
	"\tsink = x[e & 3];\n"
	"\treturn fpo_leaf(b, c, d, e, a) + x[a & 3] + 1;\n"
	"}\n"
	"__declspec(noinline) int fpo_two(int a, int b, int c, int d, int e)\n"
	"{\n"
	"\tint y[6] = { a, b, c, d, e, a };\n"
	"\tsink = y[b % 6];\n"
	"\treturn fpo_three(c, d, e, a, b) * 2 + y[e % 6];\n"
	"}\n"
	"__declspec(noinline) int fpo_one(int a, int b, int c, int d, int e)\n"
	"{\n"
	"\treturn fpo_two(e, d, c, b, a) + 3;\n"
	"}\n"
	"int __stdcall fpo_entry(void)\n"
	"{\n"
	"\treturn fpo_one(1, 2, 3, 4, 5) + 7;\n"
	"}\n";

struct x86fpo {
	char dir[64];
	char src[96], obj[96], img[96], pdb[96];
};

static inline const char *x86fpo_clang_cl(void)
{
	if (kdt_have("clang-cl-14"))
		return "clang-cl-14";
	return kdt_have("clang-cl") ? "clang-cl" : NULL;
}

/* True when clang-cl, lld-link and llvm-pdbutil are all here; else a
 * "skipped:" line on stderr. */
static inline bool x86fpo_tools(void)
{
	static const char *const t[] = { "lld-link", "llvm-pdbutil" };
	size_t i;

	if (!x86fpo_clang_cl()) {
		fprintf(stderr, "skipped: clang-cl not found\n");
		return false;
	}
	for (i = 0; i < 2; i++)
		if (!kdt_have(t[i])) {
			fprintf(stderr, "skipped: %s not found\n", t[i]);
			return false;
		}
	return true;
}

/* Build fpo.sys and fpo.pdb in a fresh folder under /tmp. */
static inline int x86fpo_build(struct x86fpo *g)
{
	FILE *f;

	memset(g, 0, sizeof(*g));
	snprintf(g->dir, sizeof(g->dir), "/tmp/kd_x86fpo_XXXXXX");
	if (!mkdtemp(g->dir))
		return -1;
	snprintf(g->src, sizeof(g->src), "%s/fpo.c", g->dir);
	snprintf(g->obj, sizeof(g->obj), "%s/fpo.obj", g->dir);
	snprintf(g->img, sizeof(g->img), "%s/fpo.sys", g->dir);
	snprintf(g->pdb, sizeof(g->pdb), "%s/fpo.pdb", g->dir);
	f = fopen(g->src, "w");
	if (!f)
		return -1;
	fputs(x86fpo_source, f);
	if (fclose(f) != 0)
		return -1;
	if (kdt_sh("%s --target=i686-pc-windows-msvc /nologo /c /O2 /Oy /Z7 "
		   "/GS- /Zl -Wno-everything /Fo%s %s",
		   x86fpo_clang_cl(), g->obj, g->src) != 0)
		return -1;
	return kdt_sh("lld-link /nologo /machine:x86 /debug /pdb:%s "
		      "/nodefaultlib /entry:fpo_entry /subsystem:native "
		      "/driver /base:%#x /out:%s %s",
		      g->pdb, X86FPO_BASE, g->img, g->obj);
}

/* One row of llvm-pdbutil's "New FPO Data" table. */
struct x86fpo_row {
	uint32_t rva, code, locals, params, stack, prolog, saved;
	bool seh, eh, start;
	char prog[512];
};

static inline bool x86fpo_bool(const char *s, bool *v)
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

/* 10 `|`-separated columns, then the program (trailing blanks cut). */
static inline bool x86fpo_parse_row(char *line, struct x86fpo_row *r)
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
	if (!x86fpo_bool(col[7], &r->seh) || !x86fpo_bool(col[8], &r->eh) ||
	    !x86fpo_bool(col[9], &r->start))
		return false;
	while (*col[10] == ' ')
		col[10]++;
	snprintf(r->prog, sizeof(r->prog), "%s", col[10]);
	l = strlen(r->prog);
	while (l && (r->prog[l - 1] == ' ' || r->prog[l - 1] == '\n'))
		r->prog[--l] = 0;
	return true;
}

static inline int x86fpo_row_cmp(const void *a, const void *b)
{
	const struct x86fpo_row *x = a, *y = b;

	return x->rva < y->rva ? -1 : x->rva > y->rva;
}

/*
 * The rows of `llvm-pdbutil dump --fpo PDB`'s "New FPO Data" table,
 * sorted by RVA (starts are distinct in this image), into @p rows; the
 * count is returned (0 on failure).  *@p old_absent says whether the
 * tool reported no old FPO stream.
 */
static inline unsigned x86fpo_frame_rows(const char *pdb,
					 struct x86fpo_row *rows, unsigned max,
					 bool *old_absent)
{
	char *out, *line, *save = NULL;
	bool in_new = false;
	unsigned n = 0;

	out = kdt_run_out("llvm-pdbutil dump --fpo %s", pdb);
	if (!out)
		return 0;
	*old_absent = strstr(out, "FPO stream not present") != NULL;
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, "New FPO Data"))
			in_new = true;
		if (!in_new || strncmp(line, "  RVA", 5) == 0 ||
		    !strchr(line, '|'))
			continue;
		if (n < max && x86fpo_parse_row(line, &rows[n]))
			n++;
	}
	free(out);
	qsort(rows, n, sizeof(rows[0]), x86fpo_row_cmp);
	return n;
}

static inline void x86fpo_cleanup(struct x86fpo *g)
{
	if (g->dir[0])
		(void)kdt_sh("rm -rf %s", g->dir);
	g->dir[0] = 0;
}

#endif /* KD_TEST_X86FPO_H */
