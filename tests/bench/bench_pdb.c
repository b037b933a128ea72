/* SPDX-License-Identifier: MIT */
/*
 * PDB reader benchmark: a large PDB made here (a generated C program with
 * tens of thousands of functions and types, clang-cl + lld-link) is opened
 * and indexed by the reader, against `llvm-pdbutil dump --publics --types`
 * of the same file in the same run, alternating, repeated: min/median/max
 * of our thread CPU time and of llvm-pdbutil's CPU time (user+sys from
 * wait4).  Then name->address and address->name lookups per CPU second,
 * and peak RSS against the file size.  --quick: a small program (ctest);
 * no timing is asserted, only that every lookup finds its symbol.
 * Skipped (77) when clang-cl, lld-link or llvm-pdbutil is absent.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <kd/error.h>
#include <kd/pdb.h>

#include "../unit/pdb/pdbgen.h"

#define MAX_REPS 9

static double cpu_now(void)
{
	struct timespec ts;

	/* CPU time of this thread: the machine is shared. */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void stats(const char *what, double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), dcmp);
	printf("%-44s min %8.2f  median %8.2f  max %8.2f ms\n", what,
	       v[0] * 1e3, v[n / 2] * 1e3, v[n - 1] * 1e3);
}

/* llvm-pdbutil's CPU time (user+sys) and peak RSS (KiB) for one dump. */
static int run_pdbutil(const char *pdb, double *cpu, long *rss)
{
	struct rusage ru;
	int st, fd;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("llvm-pdbutil", "llvm-pdbutil", "dump", "--publics",
		       "--types", pdb, (char *)NULL);
		_exit(127);
	}
	if (wait4(pid, &st, 0, &ru) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		return -1;
	*cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	*rss = ru.ru_maxrss;
	return 0;
}

struct names {
	char **v;
	uint32_t *rva, *size;
	size_t n, cap;
};

static int name_cb(void *ctx, const struct kd_pdb_sym *s)
{
	struct names *nm = ctx;

	if (!s->has_rva || !s->size)
		return 0;
	if (nm->n == nm->cap) {
		nm->cap = nm->cap ? nm->cap * 2 : 1024;
		nm->v = realloc(nm->v, nm->cap * sizeof(*nm->v));
		nm->rva = realloc(nm->rva, nm->cap * sizeof(*nm->rva));
		nm->size = realloc(nm->size, nm->cap * sizeof(*nm->size));
		if (!nm->v || !nm->rva || !nm->size)
			return -1;
	}
	nm->v[nm->n] = strdup(s->name);
	nm->rva[nm->n] = s->rva;
	nm->size[nm->n] = s->size;
	nm->n++;
	return 0;
}

static int field_cb(void *ctx, const struct kd_pdb_field *f)
{
	*(uint64_t *)ctx += f->offset + f->type;
	return 0;
}

/* Open + index: address index, type offsets, type names. */
static int open_index(const char *path, struct kd_pdb **out)
{
	struct kd_pdb_sym s;
	uint32_t b, e, ti;
	int rc = kd_pdb_open_file(out, path);

	if (rc)
		return rc;
	rc = kd_pdb_addr_to_sym(*out, 0x1000, &s, NULL);
	if (rc && rc != KD_ENOTFOUND)
		return rc;
	rc = kd_pdb_type_range(*out, &b, &e);
	if (!rc)
		rc = kd_pdb_type_by_name(*out, "s_0", &ti);
	return rc;
}

/* Open, then decode every public and every type with its fields. */
static int open_walk(const char *path, uint64_t *sink)
{
	struct kd_pdb *p;
	struct kd_pdb_type t;
	struct names nm = { 0 };
	uint32_t b = 0, e = 0, ti;
	int rc = kd_pdb_open_file(&p, path);

	if (rc)
		return rc;
	rc = kd_pdb_symbols_foreach(p, NULL, KD_PDB_SYM_PUBLIC, name_cb, &nm);
	if (!rc)
		rc = kd_pdb_type_range(p, &b, &e);
	for (ti = b; !rc && ti < e; ti++) {
		rc = kd_pdb_type_get(p, ti, &t);
		if (!rc && t.leaf == KD_LF_FIELDLIST)
			rc = kd_pdb_type_fields(p, ti, field_cb, sink);
		*sink += t.size;
	}
	while (nm.n)
		free(nm.v[--nm.n]);
	free(nm.v);
	free(nm.rva);
	free(nm.size);
	kd_pdb_close(p);
	return rc;
}

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

int main(int argc, char **argv)
{
	bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
	unsigned nfunc = quick ? 300 : 15000, ntypes = quick ? 100 : 5000;
	int reps = quick ? 2 : 7, r, rc = 1;
	double t_ours[MAX_REPS], t_walk[MAX_REPS], t_util[MAX_REPS], t0, t;
	long util_rss = 0, rss0, rss1;
	struct pdbgen g = { 0 };
	struct kd_pdb *p = NULL;
	struct names nm = { 0 };
	struct rusage ru;
	struct stat st;
	uint64_t sink = 0, seed = 0x9e3779b97f4a7c15ull;
	unsigned long i, nlook, bad = 0;
	uint32_t bt, et;

	if (!pdbgen_tools(&g))
		return 77;
	t0 = wall_now();
	if (pdbgen_build(&g, nfunc, ntypes, 0) != 0 || stat(g.pdb, &st) != 0) {
		fprintf(stderr, "bench_pdb: cannot build the test PDB\n");
		pdbgen_cleanup(&g);
		return 1;
	}
	printf("PDB: %u+%u functions, %u struct/union/enum groups, "
	       "%lld bytes (generated in %.1f s of wall time)\n",
	       nfunc, nfunc, ntypes, (long long)st.st_size, wall_now() - t0);
	getrusage(RUSAGE_SELF, &ru);
	rss0 = ru.ru_maxrss;

	/* Warm the page cache once for both sides. */
	if (open_index(g.pdb, &p) != KD_OK) {
		fprintf(stderr, "bench_pdb: %s\n", kd_error_last()->message);
		goto out;
	}
	kd_pdb_close(p);
	p = NULL;
	for (r = 0; r < reps; r++) {
		double cpu;
		long rss;

		t0 = cpu_now();
		if (open_index(g.pdb, &p) != KD_OK)
			goto out;
		t_ours[r] = cpu_now() - t0;
		kd_pdb_close(p);
		p = NULL;
		t0 = cpu_now();
		if (open_walk(g.pdb, &sink) != KD_OK)
			goto out;
		t_walk[r] = cpu_now() - t0;
		if (run_pdbutil(g.pdb, &cpu, &rss) != 0) {
			fprintf(stderr, "bench_pdb: llvm-pdbutil failed\n");
			goto out;
		}
		t_util[r] = cpu;
		if (rss > util_rss)
			util_rss = rss;
	}
	stats("kd_pdb open + index (thread CPU)", t_ours, reps);
	stats("kd_pdb open + decode publics, all types", t_walk, reps);
	stats("llvm-pdbutil dump --publics --types (CPU)", t_util, reps);
	printf("ratio llvm-pdbutil / kd_pdb (medians): open+index %.1fx, "
	       "decode-all %.1fx\n",
	       t_util[reps / 2] / t_ours[reps / 2],
	       t_util[reps / 2] / t_walk[reps / 2]);

	/* Lookups, both ways, on every procedure. */
	if (open_index(g.pdb, &p) != KD_OK ||
	    kd_pdb_symbols_foreach(p, NULL, KD_PDB_SYM_PROC, name_cb, &nm) ||
	    nm.n < 2 * nfunc)
		goto out;
	nlook = quick ? 20000 : 1000000;
	t0 = cpu_now();
	for (i = 0; i < nlook; i++) {
		struct kd_pdb_sym s;
		size_t k = (size_t)(rng(&seed) % nm.n);

		if (kd_pdb_name_to_sym(p, nm.v[k], &s) != KD_OK ||
		    s.rva != nm.rva[k])
			bad++;
	}
	t = cpu_now() - t0;
	printf("name -> address: %lu lookups, %.0f per CPU second\n", nlook,
	       nlook / t);
	t0 = cpu_now();
	for (i = 0; i < nlook; i++) {
		struct kd_pdb_sym s;
		size_t k = (size_t)(rng(&seed) % nm.n);
		uint32_t d, off = (uint32_t)(rng(&seed) % nm.size[k]);

		if (kd_pdb_addr_to_sym(p, nm.rva[k] + off, &s, &d) != KD_OK ||
		    d != off || strcmp(s.name, nm.v[k]) != 0)
			bad++;
	}
	t = cpu_now() - t0;
	printf("address -> name: %lu lookups, %.0f per CPU second\n", nlook,
	       nlook / t);
	if (kd_pdb_type_range(p, &bt, &et) == KD_OK)
		printf("types: %u records\n", et - bt);
	getrusage(RUSAGE_SELF, &ru);
	rss1 = ru.ru_maxrss;
	printf("peak RSS: kd_pdb process %ld KiB (%ld KiB before opening), "
	       "llvm-pdbutil %ld KiB, file %lld KiB\n",
	       rss1, rss0, util_rss, (long long)st.st_size / 1024);
	if (bad) {
		fprintf(stderr, "bench_pdb: %lu lookups went wrong\n", bad);
		goto out;
	}
	rc = (int)(sink & 0);
out:
	if (rc)
		fprintf(stderr, "bench_pdb: failed: %s\n",
			kd_error_last()->message);
	kd_pdb_close(p);
	while (nm.n)
		free(nm.v[--nm.n]);
	free(nm.v);
	free(nm.rva);
	free(nm.size);
	pdbgen_cleanup(&g);
	return rc;
}
