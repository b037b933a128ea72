/* SPDX-License-Identifier: MIT */
/*
 * The PDB reader against llvm-pdbutil on the same file: a program with
 * hundreds of functions (extern and static), globals, structs, unions and
 * enums is built with clang-cl + lld-link at test time, then every public
 * (name, segment:offset), every global, every procedure (RVA, length, the
 * address and name lookups, its locals), every line entry, and every
 * class/union/enum (size, forward refs, members with offsets), pointer,
 * array and bitfield that llvm-pdbutil prints must match what the reader
 * returns.  Skipped (77) when clang-cl, lld-link or llvm-pdbutil is absent.
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

#include "pdbgen.h"

#define NFUNC 150
#define NTYPES 40

static struct pdbgen gen;
static struct kd_pdb *pdb;
static uint32_t sec_va[32];
static unsigned nsec;

/* --- Reading llvm-pdbutil's text ----------------------------------------- */

/* The next line of *@p cur into @p line (NUL-terminated); false at end. */
static bool next_line(const char **cur, char *line, size_t cap)
{
	const char *s = *cur, *e;
	size_t n;

	if (!*s)
		return false;
	e = strchr(s, '\n');
	n = e ? (size_t)(e - s) : strlen(s);
	if (n >= cap)
		n = cap - 1;
	memcpy(line, s, n);
	line[n] = 0;
	*cur = e ? e + 1 : s + strlen(s);
	return true;
}

/* The text between the first pair of backquotes of @p line. */
static bool quoted(const char *line, char *out, size_t cap)
{
	const char *a = strchr(line, '`'), *b;

	if (!a || !(b = strchr(a + 1, '`')) || (size_t)(b - a - 1) >= cap)
		return false;
	memcpy(out, a + 1, (size_t)(b - a - 1));
	out[b - a - 1] = 0;
	return true;
}

static uint32_t rva_of(unsigned seg, uint32_t off)
{
	assert_true(seg >= 1 && seg <= nsec);
	return sec_va[seg - 1] + off;
}

/* --- Fixture -------------------------------------------------------------- */

static int setup(void **state)
{
	char *txt, line[512];
	const char *cur;
	unsigned va;

	(void)state;
	if (pdbgen_build(&gen, NFUNC, NTYPES, 0) != 0)
		return -1;
	if (kd_pdb_open_file(&pdb, gen.pdb) != KD_OK) {
		fprintf(stderr, "open: %s\n", kd_error_last()->message);
		return -1;
	}
	txt = pdbgen_dump(&gen, "--section-headers");
	if (!txt)
		return -1;
	for (cur = txt; next_line(&cur, line, sizeof(line));)
		if (strstr(line, "virtual address") &&
		    sscanf(line, " %x", &va) == 1 && nsec < 32)
			sec_va[nsec++] = va;
	free(txt);
	return nsec ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	kd_pdb_close(pdb);
	pdbgen_cleanup(&gen);
	return 0;
}

/* --- Identity ------------------------------------------------------------- */

static void test_identity(void **state)
{
	struct kd_pdb_info info;
	char *txt = pdbgen_dump(&gen, "--summary"), line[256], want[64];
	char got[64];
	const char *cur;
	unsigned age = 0;
	const uint8_t *g = info.guid;

	(void)state;
	assert_non_null(txt);
	assert_int_equal(kd_pdb_info(pdb, &info), KD_OK);
	want[0] = 0;
	for (cur = txt; next_line(&cur, line, sizeof(line));) {
		sscanf(line, " Age: %u", &age);
		sscanf(line, " GUID: %63s", want);
	}
	free(txt);
	snprintf(got, sizeof(got),
		 "{%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-"
		 "%02X%02X%02X%02X%02X%02X}",
		 g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9],
		 g[10], g[11], g[12], g[13], g[14], g[15]);
	assert_string_equal(got, want);
	assert_int_equal(info.age, age);
	assert_true(info.has_dbi);
	assert_int_equal(info.machine, 0x8664);
}

/* Every stream's size and role from `--streams`. */
static void test_streams(void **state)
{
	char *txt = pdbgen_dump(&gen, "--streams"), line[512];
	const char *cur;
	struct kd_pdb_info info;
	struct kd_pdb_module m;
	unsigned idx, size, nstreams = 0, nmods = 0;
	uint32_t got, named;

	(void)state;
	assert_non_null(txt);
	assert_int_equal(kd_pdb_info(pdb, &info), KD_OK);
	for (cur = txt; next_line(&cur, line, sizeof(line));) {
		char *q;

		if (sscanf(line, " Stream %u ( %u bytes)", &idx, &size) != 2)
			continue;
		nstreams++;
		assert_int_equal(kd_pdb_stream_size(pdb, idx, &got), KD_OK);
		assert_int_equal(got, size);
		if (strstr(line, "[Section Header Data]"))
			assert_int_equal(info.section_stream, idx);
		if ((q = strstr(line, "[Named Stream \""))) {
			char name[64];

			assert_int_equal(
				sscanf(q, "[Named Stream \"%63[^\"]", name), 1);
			assert_int_equal(kd_pdb_named_stream(pdb, name, &named),
					 KD_OK);
			assert_int_equal(named, idx);
		}
		if ((q = strstr(line, "[Module \""))) {
			assert_int_equal(kd_pdb_module(pdb, nmods, &m), KD_OK);
			assert_int_equal(m.stream, idx);
			assert_non_null(strstr(q, m.name));
			nmods++;
		}
	}
	free(txt);
	assert_int_equal(nstreams, info.num_streams);
	assert_int_equal(nmods, info.num_modules);
	assert_int_equal(kd_pdb_stream_size(pdb, nstreams, &got), KD_EINVAL);
	assert_int_equal(info.fpo_stream, 0xffff); /* x64: no FPO */
	assert_int_equal(kd_pdb_named_stream(pdb, "/nope", &named),
			 KD_ENOTFOUND);
}

/* --- Publics and globals -------------------------------------------------- */

struct rec {
	char name[128];
	uint32_t off; /* record offset */
	unsigned seg;
	uint32_t addr, size, type, module;
	long long value;
	char kind[24];
	bool seen;
};

struct recs {
	struct rec *v;
	size_t n, cap;
};

static struct rec *recs_add(struct recs *r)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 256;
		r->v = realloc(r->v, r->cap * sizeof(*r->v));
		assert_non_null(r->v);
	}
	memset(&r->v[r->n], 0, sizeof(r->v[0]));
	return &r->v[r->n++];
}

/*
 * Records of a `--publics`/`--globals` dump: "  OFF | KIND [size = N] `name`"
 * and the detail line after it.
 */
static void parse_gsi(const char *txt, struct recs *out)
{
	char line[512];
	const char *cur = txt;
	struct rec *r = NULL;

	while (next_line(&cur, line, sizeof(line))) {
		unsigned off, seg, addr, mod, o2, ty;
		long long v;
		char kind[24];

		if (sscanf(line, " %u | %23s [size", &off, kind) == 2 &&
		    strncmp(kind, "S_", 2) == 0) {
			r = recs_add(out);
			r->off = off;
			snprintf(r->kind, sizeof(r->kind), "%s", kind);
			assert_true(quoted(line, r->name, sizeof(r->name)));
			continue;
		}
		if (!r)
			continue;
		if (strstr(line, "addr = ") &&
		    sscanf(strstr(line, "addr = "), "addr = %u:%u", &seg,
			   &addr) == 2) {
			r->seg = seg;
			r->addr = addr;
		}
		if (strstr(line, "type = 0x") &&
		    sscanf(strstr(line, "type = 0x"), "type = 0x%x", &ty) == 1)
			r->type = ty;
		if (strstr(line, "value = ") &&
		    sscanf(strstr(line, "value = "), "value = %lld", &v) == 1)
			r->value = v;
		if (sscanf(line, " module = %u, sum name = %*u, offset = %u",
			   &mod, &o2) == 2) {
			r->module = mod;
			r->addr = o2;
		}
	}
}

struct collect {
	struct kd_pdb_sym *v;
	size_t n, cap;
};

static int collect_cb(void *ctx, const struct kd_pdb_sym *s)
{
	struct collect *c = ctx;

	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 256;
		c->v = realloc(c->v, c->cap * sizeof(*c->v));
		assert_non_null(c->v);
	}
	c->v[c->n++] = *s;
	return 0;
}

static const struct kd_pdb_sym *find_off(const struct collect *c, uint32_t off,
					 int32_t module)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->v[i].sym_off == off && c->v[i].module == module)
			return &c->v[i];
	return NULL;
}

static void test_publics(void **state)
{
	char *txt = pdbgen_dump(&gen, "--publics");
	struct recs want = { 0 };
	struct collect got = { 0 };
	size_t i;

	(void)state;
	assert_non_null(txt);
	parse_gsi(txt, &want);
	free(txt);
	assert_true(want.n >= 2 * NFUNC / 2); /* externs + globals at least */
	assert_int_equal(kd_pdb_symbols_foreach(pdb, NULL, KD_PDB_SYM_PUBLIC,
						collect_cb, &got),
			 KD_OK);
	assert_int_equal(got.n, want.n);
	for (i = 0; i < want.n; i++) {
		const struct kd_pdb_sym *s = find_off(&got, want.v[i].off, -1);
		struct kd_pdb_sym byname;

		assert_non_null(s);
		assert_string_equal(s->name, want.v[i].name);
		assert_int_equal(s->segment, want.v[i].seg);
		assert_int_equal(s->offset, want.v[i].addr);
		assert_true(s->has_rva);
		assert_int_equal(s->rva, rva_of(want.v[i].seg, want.v[i].addr));
		/* The hash tables find every public by name. */
		assert_int_equal(kd_pdb_name_to_sym(pdb, s->name, &byname),
				 KD_OK);
		assert_int_equal(byname.rva, s->rva);
	}
	free(want.v);
	free(got.v);
}

static void test_globals(void **state)
{
	char *txt = pdbgen_dump(&gen, "--globals");
	struct recs want = { 0 };
	struct collect got = { 0 };
	size_t i, nother = 0, nrefs = 0;

	(void)state;
	assert_non_null(txt);
	parse_gsi(txt, &want);
	free(txt);
	assert_int_equal(kd_pdb_symbols_foreach(pdb, NULL,
						KD_PDB_SYM_DATA |
							KD_PDB_SYM_CONSTANT |
							KD_PDB_SYM_UDT,
						collect_cb, &got),
			 KD_OK);
	for (i = 0; i < want.n; i++) {
		const struct rec *w = &want.v[i];
		struct kd_pdb_sym s;
		const struct kd_pdb_sym *g;

		if (!strcmp(w->kind, "S_PROCREF") ||
		    !strcmp(w->kind, "S_LPROCREF")) {
			/* Followed into its module: the procedure itself. */
			assert_int_equal(kd_pdb_name_to_sym(pdb, w->name, &s),
					 KD_OK);
			assert_int_equal(s.kind, KD_PDB_SYM_PROC);
			assert_int_equal(s.module, (int32_t)w->module - 1);
			assert_int_equal(s.sym_off, w->addr);
			assert_int_equal(s.is_global,
					 strcmp(w->kind, "S_PROCREF") == 0);
			nrefs++;
			continue;
		}
		g = find_off(&got, w->off, -1);
		assert_non_null(g);
		nother++;
		assert_string_equal(g->name, w->name);
		if (!strcmp(w->kind, "S_GDATA32") ||
		    !strcmp(w->kind, "S_LDATA32")) {
			assert_int_equal(g->kind, KD_PDB_SYM_DATA);
			assert_int_equal(g->rva, rva_of(w->seg, w->addr));
			assert_int_equal(g->type, w->type);
			assert_int_equal(g->is_global,
					 !strcmp(w->kind, "S_GDATA32"));
		} else if (!strcmp(w->kind, "S_CONSTANT")) {
			assert_int_equal(g->kind, KD_PDB_SYM_CONSTANT);
			assert_int_equal(g->value, w->value);
		} else if (!strcmp(w->kind, "S_UDT")) {
			assert_int_equal(g->kind, KD_PDB_SYM_UDT);
		}
	}
	assert_int_equal(got.n, nother);
	assert_true(nrefs >= 2 * NFUNC);
	free(want.v);
	free(got.v);
}

/* --- Procedures, locals --------------------------------------------------- */

struct proc {
	struct rec r;
	uint32_t end;
	char locals[16][32];
	bool param[16];
	unsigned nlocals;
};

static struct proc *procs;
static size_t nprocs;

/* S_GPROC32/S_LPROC32 of every module from `--symbols`, with S_LOCALs. */
static void parse_procs(void)
{
	char *txt = pdbgen_dump(&gen, "--symbols"), line[512];
	const char *cur;
	size_t cap = 0;
	int mod = -1;
	struct proc *p = NULL;
	unsigned off, seg, addr, size, end, parent, m;
	char kind[24];

	assert_non_null(txt);
	for (cur = txt; next_line(&cur, line, sizeof(line));) {
		if (sscanf(line, " Mod %u |", &m) == 1) {
			mod = (int)m;
			p = NULL;
			continue;
		}
		if (sscanf(line, " %u | %23s [size", &off, kind) == 2) {
			if (p && off >= p->end)
				p = NULL;
			if (!strcmp(kind, "S_GPROC32") ||
			    !strcmp(kind, "S_LPROC32")) {
				if (nprocs == cap) {
					cap = cap ? cap * 2 : 256;
					procs = realloc(procs,
							cap * sizeof(*procs));
					assert_non_null(procs);
				}
				p = &procs[nprocs++];
				memset(p, 0, sizeof(*p));
				p->r.off = off;
				p->r.module = (uint32_t)mod;
				snprintf(p->r.kind, sizeof(p->r.kind), "%s",
					 kind);
				assert_true(quoted(line, p->r.name,
						   sizeof(p->r.name)));
			} else if (p && !strcmp(kind, "S_LOCAL") &&
				   p->nlocals < 16) {
				assert_true(quoted(line, p->locals[p->nlocals],
						   sizeof(p->locals[0])));
				p->param[p->nlocals] = false;
				p->nlocals++;
			}
			continue;
		}
		if (p &&
		    sscanf(line,
			   " parent = %u, end = %u, addr = %u:%u, "
			   "code size = %u",
			   &parent, &end, &seg, &addr, &size) == 5 &&
		    p->r.seg == 0) {
			p->end = end;
			p->r.seg = seg;
			p->r.addr = addr;
			p->r.size = size;
		}
		if (p && p->nlocals && strstr(line, "type=0x") &&
		    strstr(line, "flags = param"))
			p->param[p->nlocals - 1] = true;
	}
	free(txt);
}

static void test_procedures(void **state)
{
	struct collect got = { 0 };
	size_t i;
	uint32_t mod;

	(void)state;
	parse_procs();
	assert_true(nprocs >= 2 * NFUNC + 2);
	assert_int_equal(kd_pdb_symbols_foreach(pdb, NULL, KD_PDB_SYM_PROC,
						collect_cb, &got),
			 KD_OK);
	assert_int_equal(got.n, nprocs);
	for (i = 0; i < nprocs; i++) {
		const struct rec *w = &procs[i].r;
		const struct kd_pdb_sym *g = find_off(&got, w->off,
						      (int32_t)w->module);
		struct kd_pdb_sym s;
		uint32_t rva = rva_of(w->seg, w->addr), disp;

		assert_non_null(g);
		assert_string_equal(g->name, w->name);
		assert_int_equal(g->rva, rva);
		assert_int_equal(g->size, w->size);
		assert_int_equal(g->is_global, !strcmp(w->kind, "S_GPROC32"));
		/* Address -> name at the start, inside and at the last byte. */
		assert_int_equal(kd_pdb_addr_to_sym(pdb, rva, &s, &disp),
				 KD_OK);
		assert_string_equal(s.name, w->name);
		assert_int_equal(disp, 0);
		assert_int_equal(s.size, w->size);
		assert_int_equal(
			kd_pdb_addr_to_sym(pdb, rva + w->size - 1, &s, &disp),
			KD_OK);
		assert_string_equal(s.name, w->name);
		assert_int_equal(disp, w->size - 1);
		/* Name -> address through the GSI. */
		assert_int_equal(kd_pdb_name_to_sym(pdb, w->name, &s), KD_OK);
		assert_int_equal(s.rva, rva);
		assert_int_equal(s.size, w->size);
		/* The module that holds it. */
		assert_int_equal(kd_pdb_module_at(pdb, rva + 1, &mod), KD_OK);
		assert_int_equal(mod, w->module);
	}
	free(got.v);
}

/*
 * kd_pdb_sym_after: for every procedure llvm-pdbutil lists, the next
 * symbol is the lowest public or procedure RVA above it (llvm-pdbutil's
 * --publics and --symbols), named by a procedure there if one starts
 * there, else by a public.
 */
static void test_sym_after(void **state)
{
	char *txt = pdbgen_dump(&gen, "--publics");
	struct recs pubs = { 0 };
	size_t i, j;
	unsigned checked = 0, last = 0;

	(void)state;
	assert_non_null(txt);
	parse_gsi(txt, &pubs);
	free(txt);
	if (nprocs == 0) /* test_procedures read them already */
		parse_procs();
	assert_true(nprocs > 0);
	for (i = 0; i < nprocs; i++) {
		uint32_t rva = rva_of(procs[i].r.seg, procs[i].r.addr);
		uint32_t best = UINT32_MAX;
		bool by_proc = false, name_ok = false;
		struct kd_pdb_sym s;
		int rc;

		for (j = 0; j < nprocs; j++) {
			uint32_t r = rva_of(procs[j].r.seg, procs[j].r.addr);

			if (r > rva && r < best)
				best = r;
		}
		for (j = 0; j < pubs.n; j++) {
			uint32_t r = rva_of(pubs.v[j].seg, pubs.v[j].addr);

			if (r > rva && r < best)
				best = r;
		}
		rc = kd_pdb_sym_after(pdb, rva, &s);
		if (best == UINT32_MAX) {
			assert_int_equal(rc, KD_ENOTFOUND);
			last++;
			continue;
		}
		assert_int_equal(rc, KD_OK);
		assert_int_equal(s.rva, best);
		for (j = 0; j < nprocs; j++)
			if (rva_of(procs[j].r.seg, procs[j].r.addr) == best) {
				by_proc = true;
				name_ok |= !strcmp(s.name, procs[j].r.name);
			}
		for (j = 0; !by_proc && j < pubs.n; j++)
			if (rva_of(pubs.v[j].seg, pubs.v[j].addr) == best)
				name_ok |= !strcmp(s.name, pubs.v[j].name);
		assert_true(name_ok);
		checked++;
	}
	assert_true(checked > 0);
	assert_true(last <= 1);
	free(pubs.v);
}

struct lcollect {
	char names[16][32];
	bool param[16];
	unsigned n;
};

static int local_cb(void *ctx, const struct kd_pdb_local *l)
{
	struct lcollect *c = ctx;

	if (c->n < 16) {
		snprintf(c->names[c->n], sizeof(c->names[0]), "%s", l->name);
		c->param[c->n] = l->is_param;
	}
	c->n++;
	return 0;
}

static void test_locals(void **state)
{
	size_t i, checked = 0;
	unsigned j;

	(void)state;
	assert_true(nprocs > 0);
	for (i = 0; i < nprocs; i++) {
		struct lcollect c = { 0 };
		const struct rec *w = &procs[i].r;

		assert_int_equal(kd_pdb_proc_locals(pdb,
						    rva_of(w->seg, w->addr) + 1,
						    local_cb, &c),
				 KD_OK);
		assert_int_equal(c.n, procs[i].nlocals);
		for (j = 0; j < c.n && j < 16; j++) {
			assert_string_equal(c.names[j], procs[i].locals[j]);
			assert_int_equal(c.param[j], procs[i].param[j]);
		}
		checked += c.n;
	}
	/* ef_N: p, v, t, inner; sf_N: x, y. */
	assert_true(checked >= 6 * NFUNC);
}

static void test_wildcards(void **state)
{
	struct collect got = { 0 };

	(void)state;
	assert_int_equal(kd_pdb_symbols_foreach(pdb, "SF_1?", KD_PDB_SYM_PROC,
						collect_cb, &got),
			 KD_OK);
	assert_int_equal(got.n, 10); /* sf_10 .. sf_19 */
	got.n = 0;
	assert_int_equal(kd_pdb_symbols_foreach(pdb, "*_var_*", KD_PDB_SYM_DATA,
						collect_cb, &got),
			 KD_OK);
	assert_int_equal(got.n, 2 * NFUNC); /* g_var_N and s_var_N */
	free(got.v);
	assert_int_equal(kd_pdb_name_to_sym(pdb, "no_such_function", NULL),
			 KD_EINVAL);
	{
		struct kd_pdb_sym s;

		assert_int_equal(kd_pdb_name_to_sym(pdb, "no_such_fn", &s),
				 KD_ENOTFOUND);
	}
}

/* --- Lines ---------------------------------------------------------------- */

static void test_lines(void **state)
{
	char *txt = pdbgen_dump(&gen, "--l"), line[2048], file[2048] = "";
	const char *cur;
	unsigned seg = 0, checked = 0;

	(void)state;
	assert_non_null(txt);
	for (cur = txt; next_line(&cur, line, sizeof(line));) {
		unsigned s, a, b, n, ln, addr;
		const char *p;
		int used;

		if (line[0] == '/' && strstr(line, " (MD5")) {
			*strstr(line, " (MD5") = 0;
			snprintf(file, sizeof(file), "%s", line);
			continue;
		}
		if (sscanf(line, " %x:%x-%x, line/addr entries = %u", &s, &a,
			   &b, &n) == 4) {
			seg = s;
			continue;
		}
		if (!seg || !strchr(line, '!'))
			continue;
		for (p = line; sscanf(p, " %u %x !%n", &ln, &addr, &used) == 2;
		     p += used) {
			struct kd_pdb_line l;

			assert_int_equal(
				kd_pdb_line_at(pdb, rva_of(seg, addr), &l),
				KD_OK);
			assert_int_equal(l.line, ln);
			assert_int_equal(l.rva, rva_of(seg, addr));
			assert_string_equal(l.file, file);
			checked++;
		}
	}
	free(txt);
	assert_true(checked >= 2 * NFUNC);
}

/* --- Types ---------------------------------------------------------------- */

struct wfield {
	char name[64];
	unsigned leaf, type;
	long long off;
};

struct fcollect {
	struct kd_pdb_field v[64];
	char names[64][64];
	unsigned n;
};

static int field_cb(void *ctx, const struct kd_pdb_field *f)
{
	struct fcollect *c = ctx;

	if (c->n < 64) {
		c->v[c->n] = *f;
		snprintf(c->names[c->n], sizeof(c->names[0]), "%s", f->name);
	}
	c->n++;
	return 0;
}

static void check_fieldlist(uint32_t ti, const struct wfield *w, unsigned n)
{
	struct fcollect c;
	unsigned i;

	c.n = 0;
	assert_int_equal(kd_pdb_type_fields(pdb, ti, field_cb, &c), KD_OK);
	assert_int_equal(c.n, n);
	for (i = 0; i < n && i < 64; i++) {
		assert_string_equal(c.names[i], w[i].name);
		assert_int_equal(c.v[i].leaf, w[i].leaf);
		if (w[i].leaf == KD_LF_ENUMERATE) {
			assert_int_equal(c.v[i].value, w[i].off);
		} else {
			assert_int_equal(c.v[i].type, w[i].type);
			assert_int_equal(c.v[i].offset, w[i].off);
		}
	}
}

static void test_types(void **state)
{
	char *txt = pdbgen_dump(&gen, "--types"), line[512], kind[32];
	const char *cur;
	struct kd_pdb_type t;
	struct wfield wf[64];
	unsigned nf = 0, ti = 0, v1, v2, v3, nudt = 0, nmem = 0;
	uint32_t begin, end, full;

	(void)state;
	assert_non_null(txt);
	assert_int_equal(kd_pdb_type_range(pdb, &begin, &end), KD_OK);
	kind[0] = 0;
	for (cur = txt;;) {
		bool more = next_line(&cur, line, sizeof(line));
		unsigned nti;
		char nkind[32];

		/* A new record (or the end) closes a field list. */
		if ((!more || sscanf(line, " 0x%x | %31s", &nti, nkind) == 2) &&
		    !strcmp(kind, "LF_FIELDLIST")) {
			check_fieldlist(ti, wf, nf);
			nmem += nf;
		}
		if (!more)
			break;
		if (sscanf(line, " 0x%x | %31s", &nti, nkind) == 2) {
			ti = nti;
			snprintf(kind, sizeof(kind), "%s", nkind);
			nf = 0;
			assert_true(ti >= begin && ti < end);
			assert_int_equal(kd_pdb_type_get(pdb, ti, &t), KD_OK);
			if (!strcmp(kind, "LF_STRUCTURE") ||
			    !strcmp(kind, "LF_UNION") ||
			    !strcmp(kind, "LF_ENUM")) {
				char name[128];

				assert_true(quoted(line, name, sizeof(name)));
				assert_string_equal(t.name, name);
				nudt++;
			}
			continue;
		}
		if (!strcmp(kind, "LF_FIELDLIST") && nf < 64 &&
		    strstr(line, "- LF_")) {
			char *n = strstr(line, "- LF_");
			struct wfield *f = &wf[nf++];

			memset(f, 0, sizeof(*f));
			f->leaf = 0xffff;
			if (!strncmp(n, "- LF_MEMBER [", 13)) {
				f->leaf = KD_LF_MEMBER;
				assert_true(
					quoted(n, f->name, sizeof(f->name)));
				assert_true(sscanf(strstr(n, "Type = 0x"),
						   "Type = 0x%x",
						   &f->type) == 1);
				assert_true(sscanf(strstr(n, "offset = "),
						   "offset = %lld",
						   &f->off) == 1);
			} else if (!strncmp(n, "- LF_ENUMERATE [", 16)) {
				f->leaf = KD_LF_ENUMERATE;
				assert_true(sscanf(n,
						   "- LF_ENUMERATE [%63s = "
						   "%lld]",
						   f->name, &f->off) == 2);
			} else if (!strncmp(n, "- LF_NESTTYPE [", 15)) {
				f->leaf = KD_LF_NESTTYPE;
				assert_true(
					quoted(n, f->name, sizeof(f->name)));
				assert_true(sscanf(strstr(n, "parent = 0x"),
						   "parent = 0x%x",
						   &f->type) == 1);
			}
			continue;
		}
		if (strstr(line, "forward ref (-> 0x") &&
		    sscanf(strstr(line, "(-> 0x"), "(-> 0x%x)", &v1) == 1) {
			assert_true(t.forward);
			assert_int_equal(t.size, 0);
			assert_int_equal(kd_pdb_type_resolve(pdb, ti, &full),
					 KD_OK);
			assert_int_equal(full, v1);
		} else if (strstr(line, "sizeof ") &&
			   sscanf(strstr(line, "sizeof "), "sizeof %u", &v1) ==
				   1) {
			assert_int_equal(t.size, v1);
		}
		if (strstr(line, "field list: 0x") &&
		    sscanf(strstr(line, "field list: 0x"), "field list: 0x%x",
			   &v1) == 1)
			assert_int_equal(t.fields, v1);
		if (sscanf(line, " referent = 0x%x", &v1) == 1)
			assert_int_equal(t.ref, v1);
		if (sscanf(line, " size: %u, index type: 0x%x", &v1, &v2) ==
			    2 &&
		    strstr(line, "element type: 0x") &&
		    sscanf(strstr(line, "element type: 0x"),
			   "element type: 0x%x", &v3) == 1) {
			assert_int_equal(t.size, v1);
			assert_int_equal(t.index_type, v2);
			assert_int_equal(t.ref, v3);
		}
		if (sscanf(line,
			   " type = 0x%x %*[^,], bit offset = %u, # bits "
			   "= %u",
			   &v1, &v2, &v3) == 3) {
			assert_int_equal(t.leaf, KD_LF_BITFIELD);
			assert_int_equal(t.ref, v1);
			assert_int_equal(t.bit_pos, v2);
			assert_int_equal(t.bit_len, v3);
		}
	}
	free(txt);
	assert_true(nudt >= 3 * NTYPES);
	assert_true(nmem >= 7 * NTYPES);
	/* By name, and an index outside the stream is an error line. */
	assert_int_equal(kd_pdb_type_by_name(pdb, "s_7", &full), KD_OK);
	assert_int_equal(kd_pdb_type_get(pdb, full, &t), KD_OK);
	assert_string_equal(t.name, "s_7");
	assert_false(t.forward);
	assert_int_equal(kd_pdb_type_get(pdb, end + 10, &t), KD_EINVAL);
	assert_non_null(strstr(kd_error_last()->message, "outside the TPI"));
	assert_int_equal(kd_pdb_type_get(pdb, 0x0074, &t), KD_OK);
	assert_string_equal(t.name, "int");
	assert_int_equal(t.size, 4);
}

/* IPI: every LF_FUNC_ID (name, type) and LF_STRING_ID (string). */
static void test_ids(void **state)
{
	char *txt = pdbgen_dump(&gen, "--ids"), line[2048];
	const char *cur;
	struct kd_pdb_type t;
	uint32_t begin, end;
	unsigned id = 0, ty, nfunc = 0, nstr = 0;

	(void)state;
	assert_non_null(txt);
	assert_int_equal(kd_pdb_id_range(pdb, &begin, &end), KD_OK);
	for (cur = txt; next_line(&cur, line, sizeof(line));) {
		char kind[32], *q;

		if (sscanf(line, " 0x%x | %31s", &id, kind) == 2) {
			assert_true(id >= begin && id < end);
			assert_int_equal(kd_pdb_id_get(pdb, id, &t), KD_OK);
			if (!strcmp(kind, "LF_STRING_ID")) {
				q = strstr(line, "String: ");
				assert_non_null(q);
				assert_string_equal(t.name, q + 8);
				nstr++;
			}
			continue;
		}
		if (id && t.leaf == KD_LF_FUNC_ID &&
		    (q = strstr(line, "name = ")) &&
		    strstr(line, ", type = 0x")) {
			*strstr(q, ", type = 0x") = 0;
			assert_string_equal(t.name, q + 7);
			assert_int_equal(
				sscanf(q + strlen(q) + 1, " type = 0x%x", &ty),
				1);
			assert_int_equal(t.ref, ty);
			nfunc++;
		}
	}
	free(txt);
	assert_true(nfunc >= 2 * NFUNC);
	assert_true(nstr >= 3);
	assert_int_equal(kd_pdb_id_get(pdb, end, &t), KD_EINVAL);
	assert_non_null(strstr(kd_error_last()->message, "outside the IPI"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_streams),
		cmocka_unit_test(test_publics),
		cmocka_unit_test(test_globals),
		cmocka_unit_test(test_procedures),
		cmocka_unit_test(test_locals),
		cmocka_unit_test(test_sym_after),
		cmocka_unit_test(test_wildcards),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_ids),
	};
	int rc;

	if (!pdbgen_tools(&gen))
		return 77;
	rc = cmocka_run_group_tests(tests, setup, teardown);
	free(procs);
	return rc;
}
