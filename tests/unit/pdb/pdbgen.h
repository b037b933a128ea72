/* SPDX-License-Identifier: MIT */
/*
 * Test PDBs made at test time: a generated C program with many functions
 * (extern and static), globals, structs, unions and enums, compiled with
 * clang-cl and linked with lld-link /DEBUG into an image and its PDB, and
 * llvm-pdbutil to read the same PDB independently.  Shared by the PDB unit
 * tests and bench/pdb.
 */
#ifndef KD_TEST_PDBGEN_H
#define KD_TEST_PDBGEN_H

#define _GNU_SOURCE
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kd/common.h>

struct pdbgen {
	char dir[128];
	char src[192], obj[192], exe[192], pdb[192];
	char clang_cl[64];
};

static inline bool pdbgen_have(const char *tool)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
	return system(cmd) == 0;
}

/*
 * Find clang-cl, lld-link and llvm-pdbutil.  False (with a "skipped:" line
 * on stderr) when one is missing: CI installs them with scripts/deps.sh.
 */
static inline bool pdbgen_tools(struct pdbgen *g)
{
	if (pdbgen_have("clang-cl-14"))
		snprintf(g->clang_cl, sizeof(g->clang_cl), "clang-cl-14");
	else if (pdbgen_have("clang-cl"))
		snprintf(g->clang_cl, sizeof(g->clang_cl), "clang-cl");
	else {
		fprintf(stderr, "skipped: clang-cl not found\n");
		return false;
	}
	if (!pdbgen_have("lld-link")) {
		fprintf(stderr, "skipped: lld-link not found\n");
		return false;
	}
	if (!pdbgen_have("llvm-pdbutil")) {
		fprintf(stderr, "skipped: llvm-pdbutil not found\n");
		return false;
	}
	return true;
}

/* Write the program: @p nfunc extern + @p nfunc static functions. */
static inline int pdbgen_source(const char *path, unsigned nfunc,
				unsigned ntypes)
{
	FILE *f = fopen(path, "w");
	unsigned i;

	if (!f)
		return -1;
	fprintf(f, "typedef unsigned long ULONG;\n"
		   "int _fltused;\n"
		   "void *memset(void *d, int c, unsigned long long n)\n"
		   "{\n\tunsigned char *p = d;\n"
		   "\twhile (n--)\n\t\t*p++ = (unsigned char)c;\n"
		   "\treturn d;\n}\n");
	for (i = 0; i < ntypes; i++) {
		fprintf(f,
			"struct s_%u {\n\tint a;\n\tunsigned b : 3;\n"
			"\tunsigned c : %u;\n\tchar name[%u];\n"
			"\tstruct s_%u *next;\n\tdouble d;\n"
			"\tunion { int i; float fl; } un;\n};\n"
			"enum e_%u { E_%u_A, E_%u_B = %u, E_%u_C };\n"
			"union u_%u { int i; double d; ULONG l[%u]; };\n"
			"struct s_%u g_s_%u;\nenum e_%u g_e_%u;\n"
			"union u_%u g_u_%u;\n",
			i, 1 + i % 20, 1 + i % 37, i, i, i, i, i * 3 + 5, i, i,
			1 + i % 5, i, i, i, i, i, i);
	}
	for (i = 0; i < nfunc; i++) {
		unsigned t = ntypes ? i % ntypes : 0;

		fprintf(f,
			"int g_var_%u = %u;\nstatic int s_var_%u;\n"
			"static int sf_%u(int x)\n{\n\tint y = x * %u;\n"
			"\ts_var_%u += y;\n"
			"\treturn y + g_var_%u;\n}\n",
			i, i, i, i, i + 1, i, i);
		if (ntypes)
			fprintf(f,
				"int ef_%u(struct s_%u *p, int v)\n{\n"
				"\tint t = p->a + v;\n"
				"\tif (t > %u) {\n\t\tint inner = t * 2;\n"
				"\t\tt += inner;\n\t}\n"
				"\treturn t + sf_%u(t);\n}\n",
				i, t, i, i);
		else
			fprintf(f,
				"int ef_%u(int v)\n{\n\tint t = v;\n"
				"\treturn t + sf_%u(t);\n}\n",
				i, i);
	}
	fprintf(f, "void *const g_table[] = {\n");
	for (i = 0; i < nfunc; i++)
		fprintf(f, "\t(void *)ef_%u, (void *)sf_%u,\n", i, i);
	fprintf(f, "\t0\n};\n"
		   "int main(void)\n{\n\tint n = 0;\n"
		   "\tfor (int i = 0; g_table[i]; i++)\n"
		   "\t\tn += (int)(unsigned long long)g_table[i];\n"
		   "\treturn n;\n}\n");
	return fclose(f) == 0 ? 0 : -1;
}

static inline int pdbgen_run(const char *fmt, ...) KD_PRINTF(1, 2);

static inline int pdbgen_run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st != 0)
		fprintf(stderr, "pdbgen: command failed (%d): %s\n", st, cmd);
	return st == 0 ? 0 : -1;
}

/*
 * Build the program into a fresh temporary folder: g->pdb is the PDB.
 * @p page_size 0 leaves lld-link's default block size.
 */
static inline int pdbgen_build(struct pdbgen *g, unsigned nfunc,
			       unsigned ntypes, unsigned page_size)
{
	char pagearg[48] = "";

	snprintf(g->dir, sizeof(g->dir), "/tmp/kd_pdbgen_XXXXXX");
	if (!mkdtemp(g->dir))
		return -1;
	snprintf(g->src, sizeof(g->src), "%s/prog.c", g->dir);
	snprintf(g->obj, sizeof(g->obj), "%s/prog.obj", g->dir);
	snprintf(g->exe, sizeof(g->exe), "%s/prog.exe", g->dir);
	snprintf(g->pdb, sizeof(g->pdb), "%s/prog.pdb", g->dir);
	if (page_size)
		snprintf(pagearg, sizeof(pagearg), "/pdbpagesize:%u",
			 page_size);
	if (pdbgen_source(g->src, nfunc, ntypes) != 0)
		return -1;
	if (pdbgen_run("%s --target=x86_64-pc-windows-msvc /nologo /c /Z7 "
		       "/Od /GS- /Zl -Wno-everything /Fo%s %s",
		       g->clang_cl, g->obj, g->src) != 0)
		return -1;
	return pdbgen_run("lld-link /nologo /DEBUG /PDB:%s %s /NODEFAULTLIB "
			  "/ENTRY:main /SUBSYSTEM:CONSOLE /OUT:%s %s",
			  g->pdb, pagearg, g->exe, g->obj);
}

/* Run llvm-pdbutil @p args on the PDB into a malloc'd NUL-terminated text. */
static inline char *pdbgen_dump(const struct pdbgen *g, const char *args)
{
	char out[256];
	FILE *f;
	char *buf;
	long len;

	snprintf(out, sizeof(out), "%s/dump.txt", g->dir);
	if (pdbgen_run("llvm-pdbutil dump %s %s > %s", args, g->pdb, out) != 0)
		return NULL;
	f = fopen(out, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)len + 1);
	if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[len] = 0;
	fclose(f);
	unlink(out);
	return buf;
}

static inline void pdbgen_cleanup(struct pdbgen *g)
{
	if (g->dir[0])
		pdbgen_run("rm -rf %s", g->dir);
	g->dir[0] = 0;
}

#endif /* KD_TEST_PDBGEN_H */
