/* SPDX-License-Identifier: MIT */
/*
 * Module, symbol, disassembly and stack commands in WinDbg's layouts:
 * lm, x, ln, u, ub, uf, k (b c f n p v), .reload (and, from
 * cmd_symload.c, .sympath, .symfix, .symopt, !sym, .lines, ld).
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cmd/args.h"
#include "cmd/cmd_sym.h"
#include "arch/arch.h"
#include "sym/sym_int.h"
#include "sym/types.h"

#define KD_U_DEFAULT 8
#define KD_U_MAX 0x10000u
#define KD_UF_MAX 4096u
#define KD_K_DEFAULT 256

/* The symbol text of @p addr for a Call Site column ("0x" + address). */
static void cmd_sym_site(struct kd_session *s, uint64_t addr, char *buf,
			 size_t cap)
{
	char a[18];

	if (kd_sym_format(s, addr, buf, cap) == KD_OK) {
		char file[256];
		uint32_t line;
		size_t n = strlen(buf);

		/* With line loading on: " [file @ line]" as WinDbg does. */
		if ((kd_sym__options(s) & KD_SYMOPT_LOAD_LINES) &&
		    kd_sym_line(s, addr, file, sizeof(file), &line) == KD_OK)
			snprintf(buf + n, cap - n, " [%.200s @ %u]", file,
				 line);
		return;
	}
	snprintf(buf, cap, "0x%s", kd_fmt_ptr(s, a, addr));
}

/* ------------------------------------------------------------------ */
/* lm                                                                  */
/* ------------------------------------------------------------------ */

/* The one column that replaces the symbol status and file (lm i f n p t). */
enum lm_column {
	LM_COL_SYMBOLS, /* default: status and PDB or image file */
	LM_COL_IMAGE,	/* i: status, then the image file name */
	LM_COL_PATH,	/* f: the full image path, no status */
	LM_COL_NAME,	/* n: the image name, no status */
	LM_COL_MAPPED,	/* p: the mapped image file, no status */
};

struct kd_lm_opts {
	bool verbose;
	bool sort_name;
	enum lm_column col;
	bool stamps;	     /* t: the file time stamp (after n's name) */
	bool names_only;     /* 1m */
	bool loaded_syms;    /* l: symbols loaded (not deferred, not none) */
	bool problems;	     /* e: no symbols, export symbols, mismatch */
	bool user_only;	     /* u: user-mode modules only */
	const char *pattern; /* module name pattern or NULL */
	char pat_buf[128];
	bool have_addr;
	uint64_t addr;
};

static int cmp_mod_name(const void *a, const void *b)
{
	const struct kd_module *const *x = a, *const *y = b;

	return strcasecmp((*x)->name, (*y)->name);
}

static void fmt_time(uint32_t t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) ||
	    strftime(buf, cap, "%a %b %e %H:%M:%S %Y", &tm) == 0)
		snprintf(buf, cap, "unavailable");
}

static int lm_verbose(struct kd_session *s, const struct kd_module *m,
		      const struct kd_modsyms *ms, const struct kd_lm_opts *o,
		      uint32_t ts, const char *when);

/* Does the symbol state of a module pass lm's l / e filters? */
static bool lm_wanted(const struct kd_modsyms *ms, const struct kd_lm_opts *o)
{
	bool pdb = ms->pdb_state == KD_PDB_LOADED;
	bool exports = !pdb && ms->pdb_state != KD_PDB_DEFERRED &&
		       ms->status == KD_OK;

	if (o->loaded_syms && !pdb && !exports)
		return false;
	/* Problems: none, exports only, or a mismatch loaded by /i. */
	if (o->problems && pdb && !ms->pdb_forced)
		return false;
	if (o->problems && ms->pdb_state == KD_PDB_DEFERRED)
		return false;
	return true;
}

static int lm_row(struct kd_session *s, struct kd_module *m,
		  const struct kd_lm_opts *o)
{
	struct kd_modsyms *ms = kd_module_syms(s, m);
	const char *status = (ms && ms->status == KD_OK) ? "(export symbols)" :
							   "(no symbols)";
	const char *file = m->image;
	char a[18], b[18], when[64], st[32];
	uint32_t ts;

	/* No symbol state at all: out of memory or a failed request, not
	 * a module without symbols.  Say so; "(no symbols)" would lie. */
	if (!ms)
		return kd_fail(
			s, s->cmd.target_err ? s->cmd.target_err : KD_ENOMEM,
			"Unable to read the symbols of %s: %s", m->name,
			kd_error_last()->message[0] ? kd_error_last()->message :
						      "out of memory");
	if (ms->pdb_state == KD_PDB_DEFERRED) {
		status = "(deferred)";
		file = "";
	} else if (ms->pdb_state == KD_PDB_LOADED) {
		snprintf(st, sizeof(st), "%s%s", ms->pdb_forced ? "M " : "",
			 ms->pdb_private ? "(private pdb symbols)" :
					   "(pdb symbols)");
		status = st;
		file = ms->pdb_file;
	}
	if (!lm_wanted(ms, o))
		return KD_OK;
	if (o->names_only) {
		kd_out(s, "%s\n", m->name);
		return KD_OK;
	}
	kd_fmt_ptr(s, a, m->base);
	kd_fmt_ptr(s, b, m->base + m->size);
	ts = m->timestamp ? m->timestamp : (ms ? ms->timestamp : 0);
	fmt_time(ts, when, sizeof(when));
	if (o->col == LM_COL_IMAGE) {
		file = m->image;
	} else if (o->col != LM_COL_SYMBOLS || o->stamps) {
		/* No symbol status: the one column asked for. */
		const char *what = o->col == LM_COL_PATH ?
					   (m->path[0] ? m->path : m->image) :
				   o->col == LM_COL_MAPPED ? ms->image_file :
				   o->col == LM_COL_NAME   ? m->image :
							     NULL;

		kd_out(s, "%s %s   %-8s", a, b, m->name);
		if (what && *what)
			kd_out(s, " %-12s", what);
		if (o->stamps)
			kd_out(s, " %s (%08X)", when, ts);
		kd_out(s, "\n");
		return lm_verbose(s, m, ms, o, ts, when);
	}
	kd_out(s, "%s %s   %-10s %-22s %s\n", a, b, m->name, status, file);
	return lm_verbose(s, m, ms, o, ts, when);
}

/* lmv's indented lines after the row. */
static int lm_verbose(struct kd_session *s, const struct kd_module *m,
		      const struct kd_modsyms *ms, const struct kd_lm_opts *o,
		      uint32_t ts, const char *when)
{
	if (!o->verbose)
		return KD_OK;
	if (ms && ms->status == KD_OK)
		kd_out(s, "    Loaded symbol image file: %s\n", m->image);
	/* The copy of the image found by its key (triage dumps). */
	if (ms && ms->image_file[0])
		kd_out(s, "    Mapped memory image file: %s\n", ms->image_file);
	kd_out(s, "    Image path: %s\n", m->path[0] ? m->path : m->image);
	kd_out(s, "    Image name: %s\n", m->image);
	if (ms && ms->repro) {
		kd_out(s, "    Image was built with /Brepro flag.\n");
		kd_out(s,
		       "    Timestamp:        %08X (This is a reproducible "
		       "build file hash, not a timestamp)\n",
		       ts);
	} else {
		kd_out(s, "    Timestamp:        %s (%08X)\n", when, ts);
	}
	kd_out(s, "    CheckSum:         %08X\n", ms ? ms->checksum : 0u);
	kd_out(s, "    ImageSize:        %08X\n", m->size);
	kd_out(s, "    Translations:     0000.04b0 0000.04e4 0409.04b0 "
		  "0409.04e4\n");
	return KD_OK;
}

/*
 * Options: v, l, e, u, 1m, sm (sort), one of i f n p (and t), m pat,
 * a addr; o, k, D change nothing in kernel mode (every module listed is
 * a loaded kernel module; no DML).
 */
static int lm_parse(struct kd_session *s, struct kd_cmdctx *c,
		    struct kd_lm_opts *o)
{
	struct kd_args a;

	kd_args_init(&a, s, c);
	for (;;) {
		const char *tok;

		kd_args_skip(&a);
		if (kd_args_at_end(&a))
			break;
		tok = a.p;
		while (!kd_args_at_word_end(&a)) {
			char ch = kd_args_peek(&a);

			if (ch == 's' && kd_args_peek_at(&a, 1) == 'm') {
				o->sort_name = true;
				kd_args_advance(&a, 2);
			} else if (ch == '1' && kd_args_peek_at(&a, 1) == 'm') {
				o->names_only = true;
				kd_args_advance(&a, 2);
			} else if (ch == 'v') {
				o->verbose = true;
				kd_args_advance(&a, 1);
			} else if (strchr("ifnp", ch)) {
				enum lm_column col = ch == 'i' ? LM_COL_IMAGE :
						     ch == 'f' ? LM_COL_PATH :
						     ch == 'n' ? LM_COL_NAME :
								 LM_COL_MAPPED;

				/* Only one of them, as WinDbg allows. */
				if (o->col != LM_COL_SYMBOLS && o->col != col)
					return kd_args_error(&a);
				o->col = col;
				kd_args_advance(&a, 1);
			} else if (ch == 't') {
				o->stamps = true;
				kd_args_advance(&a, 1);
			} else if (ch == 'l') {
				o->loaded_syms = true;
				kd_args_advance(&a, 1);
			} else if (ch == 'e') {
				o->problems = true;
				kd_args_advance(&a, 1);
			} else if (ch == 'u') {
				o->user_only = true;
				kd_args_advance(&a, 1);
			} else if (strchr("okD", ch)) {
				/* o: every module listed is loaded; k: all
				 * are kernel modules; D: no DML here. */
				kd_args_advance(&a, 1);
			} else if (ch == 'm') {
				const char *pat = NULL, *at;
				size_t n = 0;

				/* The pattern may be glued on: lmvmnt. */
				kd_args_advance(&a, 1);
				kd_args_skip(&a);
				at = a.p;
				if (!kd_args_take_word(&a, &pat, &n) ||
				    n >= sizeof(o->pat_buf))
					return kd_args_error_at(&a, at);
				memcpy(o->pat_buf, pat, n);
				o->pat_buf[n] = '\0';
				o->pattern = o->pat_buf;
				break;
			} else if (ch == 'a') {
				int rc;

				kd_args_advance(&a, 1);
				kd_args_skip(&a);
				rc = kd_args_take_expr(&a, &o->addr);
				if (rc < 0)
					return rc;
				o->have_addr = true;
				break;
			} else {
				return kd_args_error(&a);
			}
		}
		if (a.p == tok)
			return kd_args_error(&a);
	}
	return KD_OK;
}

static int cmd_lm(struct kd_session *s, struct kd_cmdctx *c)
{
	struct kd_lm_opts o;
	struct kd_module **list;
	size_t i, n = 0;
	int rc;

	memset(&o, 0, sizeof(o));
	rc = lm_parse(s, c, &o);
	if (rc < 0)
		return rc;
	if (o.names_only)
		; /* lm1m: the names, for .foreach */
	else if (kd_is_ptr64(s))
		kd_out(s, "start             end                 "
			  "module name\n");
	else
		kd_out(s, "start    end        module name\n");
	rc = kd_modules_load(s);
	if (rc < 0)
		return kd_fail(s, rc, "Unable to read PsLoadedModuleList");
	list = kd_calloc(s->sym.nmodules ? s->sym.nmodules : 1, sizeof(*list));
	if (!list)
		return kd_fail(s, KD_ENOMEM, "Out of memory");
	for (i = 0; i < s->sym.nmodules; i++) {
		struct kd_module *m = &s->sym.modules[i];

		if (o.pattern && !kd_wildcard_match(o.pattern, m->name))
			continue;
		if (o.have_addr &&
		    !(o.addr >= m->base && o.addr - m->base < m->size))
			continue;
		/* u: user space only; the kernel's list has none, but
		 * .reload Name=Addr,Size may add one. */
		if (o.user_only &&
		    m->base >= (kd_is_ptr64(s) ? 0xFFFF800000000000ull :
						 0x80000000ull))
			continue;
		list[n++] = m;
	}
	if (o.sort_name && n > 1)
		qsort(list, n, sizeof(*list), cmp_mod_name);
	for (i = 0; i < n && !s->interrupt && rc == KD_OK; i++)
		rc = lm_row(s, list[i], &o);
	kd_free(list);
	return rc;
}

/* ------------------------------------------------------------------ */
/* x, ln                                                               */
/* ------------------------------------------------------------------ */

struct kd_xhit {
	uint64_t addr;
	struct kd_module *m;
	const char *name; /* borrowed: export table or PDB */
	bool code;
	/* A PDB procedure's function type (TPI index), 0 when none. */
	uint32_t ftype;
};

static int cmp_xhit_name(const void *a, const void *b)
{
	const struct kd_xhit *x = a, *y = b;
	int r = strcasecmp(x->m->name, y->m->name);

	return r ? r : strcasecmp(x->name, y->name);
}

static int cmp_xhit_addr(const void *a, const void *b)
{
	const struct kd_xhit *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Module order, then address, then name: duplicates end up adjacent. */
static int cmp_xhit_mod_addr(const void *a, const void *b)
{
	const struct kd_xhit *x = a, *y = b;

	if (x->m != y->m)
		return x->m < y->m ? -1 : 1;
	return cmp_xhit_addr(a, b);
}

/* Most parameters x spells out before it ends the list with ", ...". */
#define X_MAX_PARAMS 32

/*
 * A procedure's parameter types in C spelling, as x prints them with
 * private symbols: "(unsigned int, struct _X *)", "(void)", "(char *,
 * ...)".  False when @p ftype is no procedure type of @p pdb.
 */
static bool x_params(struct kd_pdb *pdb, uint32_t ftype, char *buf, size_t cap)
{
	uint32_t args[X_MAX_PARAMS], n = 0, i;
	struct kd_pdb_type t;
	size_t len = 1;

	if (!pdb || !ftype || kd_pdb_type_get(pdb, ftype, &t) != KD_OK ||
	    (t.leaf != KD_LF_PROCEDURE && t.leaf != KD_LF_MFUNCTION) ||
	    kd_pdb_type_args(pdb, ftype, args, X_MAX_PARAMS, &n) != KD_OK)
		return false;
	snprintf(buf, cap, "(");
	if (n == 0)
		snprintf(buf + len, cap - len, "void");
	for (i = 0; i < n && i < X_MAX_PARAMS && len + 8 < cap; i++) {
		char one[160];

		/* T_NOTYPE ends a variadic list. */
		if (args[i] == 0)
			snprintf(one, sizeof(one), "...");
		else if (kd_sym__type_cname(pdb, args[i], one, sizeof(one)) < 0)
			snprintf(one, sizeof(one), "<type 0x%x>", args[i]);
		snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", one);
		len = strlen(buf);
	}
	if (n > X_MAX_PARAMS && len + 8 < cap)
		snprintf(buf + len, cap - len, ", ...");
	len = strlen(buf);
	snprintf(buf + len, cap - len, ")");
	return true;
}

static void x_print(struct kd_session *s, uint64_t addr, struct kd_module *m,
		    const char *name, bool code, uint32_t ftype,
		    const char *indent)
{
	char a[18], params[1024];
	const char *what = code ? "(<no parameter info>)" :
				  "= <no type information>";

	if (code && ftype &&
	    x_params(kd_sym__pdb(s, m), ftype, params, sizeof(params)))
		what = params;
	if (indent)
		kd_out(s, "%s%s!%s %s\n", indent, m->name, name, what);
	else
		kd_out(s, "%s %s!%s %s\n", kd_fmt_ptr(s, a, addr), m->name,
		       name, what);
}

struct kd_xlist {
	struct kd_xhit *hits;
	size_t n, cap;
	struct kd_module *m;
};

static int x_add(struct kd_xlist *l, uint64_t addr, const char *name, bool code,
		 uint32_t ftype)
{
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		struct kd_xhit *nh = kd_realloc(l->hits, ncap * sizeof(*nh));

		if (!nh)
			return KD_ENOMEM;
		l->hits = nh;
		l->cap = ncap;
	}
	l->hits[l->n].addr = addr;
	l->hits[l->n].m = l->m;
	l->hits[l->n].name = name;
	l->hits[l->n].code = code;
	l->hits[l->n].ftype = ftype;
	l->n++;
	return KD_OK;
}

/* A procedure's TPI function type (an *_ID procedure names it through
 * its LF_FUNC_ID), or 0. */
static uint32_t x_proc_type(struct kd_pdb *pdb, const struct kd_pdb_sym *sym)
{
	struct kd_pdb_type id;

	if (sym->kind != KD_PDB_SYM_PROC)
		return 0;
	if (!sym->type_is_id)
		return sym->type;
	if (kd_pdb_id_get(pdb, sym->type, &id) != KD_OK ||
	    (id.leaf != KD_LF_FUNC_ID && id.leaf != KD_LF_MFUNC_ID))
		return 0;
	return id.ref;
}

struct x_pdb_ctx {
	struct kd_xlist *l;
	struct kd_pdb *pdb;
};

static int x_pdb_cb(void *ctx, const struct kd_pdb_sym *sym)
{
	struct x_pdb_ctx *x = ctx;
	struct kd_xlist *l = x->l;

	if (!sym->has_rva || sym->rva >= l->m->size)
		return 0;
	return x_add(l, l->m->base + sym->rva, sym->name, sym->is_function,
		     x_proc_type(x->pdb, sym)) < 0 ?
		       KD_ENOMEM :
		       0;
}

static int cmd_x(struct kd_session *s, struct kd_cmdctx *c)
{
	char modpat[64], sympat[256];
	const char *p, *bang, *end;
	struct kd_xlist l = { NULL, 0, 0, NULL };
	size_t i, j, first;
	int sort = 0; /* 0 module/address, 1 address, 2 name */
	struct kd_args a;
	int rc;

	kd_args_init(&a, s, c);
	for (;;) {
		const char *at;
		int opt;

		kd_args_skip(&a);
		if (kd_args_peek(&a) != '/')
			break;
		at = a.p;
		opt = kd_args_take_option(&a, "/", NULL, 0);
		if (opt == 'a')
			sort = 1;
		else if (opt == 'n')
			sort = 2;
		else if (opt == 0 || !strchr("ANvtDzZdf", opt))
			return kd_args_error_at(&a, at);
	}
	p = a.p;
	if (!kd_args_take_word(&a, &p, &i))
		i = 0;
	end = p + i;
	rc = kd_args_end(&a);
	if (rc < 0)
		return rc;
	bang = memchr(p, '!', (size_t)(end - p));
	if (end == p) {
		snprintf(modpat, sizeof(modpat), "*");
		snprintf(sympat, sizeof(sympat), "*");
	} else if (bang) {
		if ((size_t)(bang - p) >= sizeof(modpat) ||
		    (size_t)(end - bang - 1) >= sizeof(sympat))
			return kd_args_error_at(&a, p);
		snprintf(modpat, sizeof(modpat), "%.*s", (int)(bang - p), p);
		snprintf(sympat, sizeof(sympat), "%.*s", (int)(end - bang - 1),
			 bang + 1);
		if (sympat[0] == '\0')
			snprintf(sympat, sizeof(sympat), "*");
	} else {
		if ((size_t)(end - p) >= sizeof(sympat))
			return kd_args_error_at(&a, p);
		snprintf(modpat, sizeof(modpat), "*");
		snprintf(sympat, sizeof(sympat), "%.*s", (int)(end - p), p);
	}
	rc = kd_modules_load(s);
	if (rc < 0)
		return kd_fail(s, rc, "Unable to read PsLoadedModuleList");
	for (i = 0; i < s->sym.nmodules; i++) {
		struct kd_module *m = &s->sym.modules[i];
		struct kd_modsyms *ms;
		struct kd_pdb *pdb;

		if (!kd_wildcard_match(modpat, m->name))
			continue;
		l.m = m;
		/* The PDB's publics, globals and procedures hold the
		 * exports too: they replace them when the PDB loads. */
		pdb = kd_sym__pdb(s, m);
		if (pdb) {
			struct x_pdb_ctx xc = { &l, pdb };

			rc = kd_pdb_symbols_foreach(pdb, sympat,
						    KD_PDB_SYM_PUBLIC |
							    KD_PDB_SYM_PROC |
							    KD_PDB_SYM_DATA,
						    x_pdb_cb, &xc);
			if (rc == KD_ENOMEM)
				goto nomem;
			continue;
		}
		ms = kd_module_syms(s, m);
		for (j = 0; ms && j < ms->nexports; j++) {
			const struct kd_export *e = &ms->exports[j];

			if (!kd_wildcard_match(sympat, e->name))
				continue;
			if (x_add(&l, m->base + e->rva, e->name, e->code, 0) <
			    0)
				goto nomem;
		}
	}
	/* A C function is both a public and a procedure: show it once. */
	if (l.n > 1)
		qsort(l.hits, l.n, sizeof(*l.hits), cmp_xhit_mod_addr);
	for (i = 0, first = 0; i < l.n; i++) {
		if (first > 0 && l.hits[first - 1].m == l.hits[i].m &&
		    l.hits[first - 1].addr == l.hits[i].addr &&
		    strcmp(l.hits[first - 1].name, l.hits[i].name) == 0) {
			l.hits[first - 1].code |= l.hits[i].code;
			/* The procedure's type, not the public's none. */
			if (!l.hits[first - 1].ftype)
				l.hits[first - 1].ftype = l.hits[i].ftype;
			continue;
		}
		l.hits[first++] = l.hits[i];
	}
	l.n = first;
	if (sort == 1 && l.n > 1)
		qsort(l.hits, l.n, sizeof(*l.hits), cmp_xhit_addr);
	else if (sort == 2 && l.n > 1)
		qsort(l.hits, l.n, sizeof(*l.hits), cmp_xhit_name);
	for (i = 0; i < l.n && !s->interrupt; i++)
		x_print(s, l.hits[i].addr, l.hits[i].m, l.hits[i].name,
			l.hits[i].code, l.hits[i].ftype, NULL);
	kd_free(l.hits);
	return KD_OK;
nomem:
	kd_free(l.hits);
	return kd_fail(s, KD_ENOMEM, "Out of memory");
}

static int cmd_ln(struct kd_session *s, struct kd_cmdctx *c)
{
	const struct kd_export *prev, *next;
	struct kd_modsyms *ms;
	struct kd_module *m;
	struct kd_args args;
	const char *pname, *nname;
	char a[18], b[18];
	uint64_t addr, paddr, naddr;
	int rc;

	kd_args_init(&args, s, c);
	if (kd_args_at_end(&args)) {
		rc = kd_pc_get(s, &addr);
		if (rc < 0)
			return rc;
	} else {
		rc = kd_args_take_expr(&args, &addr);
		if (rc < 0)
			return rc;
		rc = kd_args_end(&args);
		if (rc < 0)
			return rc;
	}
	m = kd_module_by_addr(s, addr);
	if (!m)
		return KD_OK;
	if (kd_sym__pdb_addr(s, m, addr, &pname, &paddr) == KD_OK) {
		char file[256];
		uint32_t line;

		/* The PDB's nearest procedure or public, its source line
		 * first as WinDbg prints it. */
		if (kd_sym_line(s, addr, file, sizeof(file), &line) == KD_OK)
			kd_out(s, "[%s @ %u] ", file, line);
		kd_out(s, "(%s)   ", kd_fmt_ptr(s, a, paddr));
		if (addr != paddr)
			kd_out(s, "%s!%s+0x%llx", m->name, pname,
			       (unsigned long long)(addr - paddr));
		else
			kd_out(s, "%s!%s", m->name, pname);
		/* The following symbol, as with exports. */
		if (kd_sym__pdb_next(s, m, addr, &nname, &naddr) == KD_OK)
			kd_out(s, "   |  (%s)   %s!%s", kd_fmt_ptr(s, b, naddr),
			       m->name, nname);
		kd_out(s, "\n");
		if (addr == paddr)
			kd_out(s,
			       "Exact matches:\n    %s!%s "
			       "(<no parameter info>)\n",
			       m->name, pname);
		return KD_OK;
	}
	ms = kd_module_syms(s, m);
	prev = kd_export_at_or_before(s, m, addr);
	next = kd_export_after(s, m, addr);
	paddr = prev ? m->base + prev->rva : m->base;
	kd_out(s, "(%s)   ", kd_fmt_ptr(s, a, paddr));
	if (prev && addr != paddr)
		kd_out(s, "%s!%s+0x%llx", m->name, prev->name,
		       (unsigned long long)(addr - paddr));
	else if (prev)
		kd_out(s, "%s!%s", m->name, prev->name);
	else if (addr != paddr)
		kd_out(s, "%s+0x%llx", m->name,
		       (unsigned long long)(addr - paddr));
	else
		kd_out(s, "%s", m->name);
	if (next)
		kd_out(s, "   |  (%s)   %s!%s",
		       kd_fmt_ptr(s, b, m->base + next->rva), m->name,
		       next->name);
	kd_out(s, "\n");
	if (prev && addr == paddr && ms) {
		size_t i;

		kd_out(s, "Exact matches:\n");
		for (i = (size_t)(prev - ms->exports);
		     i < ms->nexports && ms->exports[i].rva == prev->rva; i++)
			x_print(s, addr, m, ms->exports[i].name,
				ms->exports[i].code, 0, "    ");
	}
	return KD_OK;
}

/* ------------------------------------------------------------------ */
/* u, ub, uf                                                           */
/* ------------------------------------------------------------------ */

/* True when @p p can start an expression after an `L`. */
static bool count_follows(const char *p)
{
	return *p == '?' || *p == ' ' || *p == '\t' ||
	       isalnum((unsigned char)*p) || *p == '@' || *p == '$' ||
	       *p == '(';
}

/*
 * `[addr] [L count | endaddr]`.  Count is in instructions; *end is set
 * (inclusive) for the end-address form.
 */
static int u_args(struct kd_session *s, struct kd_cmdctx *c, bool *have_addr,
		  uint64_t *addr, uint64_t *count, bool *have_end,
		  uint64_t *end)
{
	struct kd_args a;
	char ch;
	int rc;

	*have_addr = false;
	*have_end = false;
	kd_args_init(&a, s, c);
	kd_args_skip(&a);
	if (kd_args_at_end(&a))
		return KD_OK;
	rc = kd_args_take_expr(&a, addr);
	if (rc < 0)
		return rc;
	*have_addr = true;
	kd_args_skip(&a);
	ch = kd_args_peek(&a);
	if ((ch == 'L' || ch == 'l') && count_follows(a.p + 1)) {
		const char *at = a.p;
		bool unchecked = false;

		kd_args_advance(&a, 1);
		if (kd_args_peek(&a) == '?') {
			unchecked = true;
			kd_args_advance(&a, 1);
		}
		kd_args_skip(&a);
		rc = kd_args_take_expr(&a, count);
		if (rc < 0)
			return rc;
		if (*count == 0 || (!unchecked && *count > KD_U_MAX))
			return kd_fail(s, KD_EINVAL, "%*s^ Range error in '%s'",
				       (int)(strlen(kd_session_prompt(s)) +
					     (size_t)(at - c->line)),
				       "", c->line);
		if (*count > KD_U_MAX)
			*count = KD_U_MAX;
	} else if (!kd_args_at_end(&a)) {
		const char *at = a.p;

		rc = kd_args_take_expr(&a, end);
		if (rc < 0)
			return rc;
		if (*end < *addr || *end - *addr > 16ull * KD_U_MAX)
			return kd_fail(s, KD_EINVAL, "%*s^ Range error in '%s'",
				       (int)(strlen(kd_session_prompt(s)) +
					     (size_t)(at - c->line)),
				       "", c->line);
		*have_end = true;
	}
	return kd_args_end(&a);
}

/* The part of "mod!Sym+0x12" before the offset. */
static size_t sym_base_len(const char *sym)
{
	const char *plus = strchr(sym, '+');

	return plus ? (size_t)(plus - sym) : strlen(sym);
}

/*
 * Print instructions from @p addr: @p count of them, or up to @p end
 * (inclusive) when @p have_end.  Labels where the symbol changes.
 * *next (if given) is the address after the last one.  KD_ENOMEM
 * (printed) when the disassembler could not be had: never `??` lines
 * that look like unreadable memory.
 */
static int u_print(struct kd_session *s, uint64_t addr, uint64_t count,
		   bool have_end, uint64_t end, uint64_t *next)
{
	char sym[256], last[256], line[512];
	uint64_t i;
	int rc = KD_OK;

	last[0] = '\0';
	for (i = 0; !s->interrupt; i++) {
		unsigned len = 1;

		if (have_end ? addr > end : i >= count)
			break;
		if (i >= KD_U_MAX)
			break;
		if (kd_sym_format(s, addr, sym, sizeof(sym)) == KD_OK) {
			size_t n = sym_base_len(sym);

			if (strlen(last) != n || strncmp(last, sym, n) != 0) {
				kd_out(s, "%s:\n", sym);
				snprintf(last, sizeof(last), "%.*s", (int)n,
					 sym);
			}
		} else {
			last[0] = '\0';
		}
		if (kd_disasm_line(s, addr, line, sizeof(line), &len) ==
		    KD_ENOMEM) {
			rc = kd_fail(s, KD_ENOMEM,
				     "Unable to disassemble: out of memory");
			break;
		}
		if (s->cmd.target_err)
			break; /* a failed request: no `??` line, say why */
		kd_out(s, "%s\n", line);
		addr += len;
	}
	if (next)
		*next = addr;
	return rc;
}

static int cmd_u(struct kd_session *s, struct kd_cmdctx *c)
{
	uint64_t addr = 0, count = KD_U_DEFAULT, end = 0, rip = 0;
	bool have_addr, have_end;
	int rc;

	rc = u_args(s, c, &have_addr, &addr, &count, &have_end, &end);
	if (rc < 0)
		return rc;
	(void)kd_pc_get(s, &rip);
	if (!have_addr) {
		if (s->sym.next_u != 0 && s->sym.next_u_rip == rip)
			addr = s->sym.next_u;
		else
			addr = rip;
	}
	rc = u_print(s, addr, count, have_end, end, &s->sym.next_u);
	s->sym.next_u_rip = rip;
	return rc;
}

/* Instruction starts decoded from @p from up to @p to (exclusive). */
static size_t decode_run(struct kd_session *s, uint64_t from, uint64_t to,
			 uint64_t *starts, size_t max, bool *landed)
{
	size_t n = 0;
	uint64_t a = from;

	*landed = false;
	while (a < to && n < max) {
		unsigned len;
		bool call, ret, branch;

		if (kd_insn_info(s, a, &len, &call, &ret, &branch) != KD_OK)
			return n;
		starts[n++] = a;
		a += len;
	}
	*landed = a == to;
	return n;
}

/* Where `ub` starts so that @p count instructions end at @p addr. */
static uint64_t ub_start(struct kd_session *s, uint64_t addr, uint64_t count)
{
	uint64_t starts[512];
	const struct kd_rtfunc *rf;
	struct kd_module *m = NULL;
	uint64_t back, from;
	size_t n;
	bool landed;

	if (count > 64)
		count = 64;
	/* Decode from the start of the function when we know it. */
	rf = kd_pdata_lookup(s, addr - 1, &m);
	if (rf && m) {
		from = m->base + rf->begin;
		if (addr - from <= 4096) {
			n = decode_run(s, from, addr, starts,
				       KD_ARRAY_SIZE(starts), &landed);
			if (landed && n >= count)
				return starts[n - count];
		}
	}
	/* Else the shortest back-off that decodes onto @p addr. */
	for (back = count; back <= count * 15 && back <= addr; back++) {
		n = decode_run(s, addr - back, addr, starts,
			       KD_ARRAY_SIZE(starts), &landed);
		if (landed && n >= count)
			return starts[n - count];
	}
	return addr - count;
}

static int cmd_ub(struct kd_session *s, struct kd_cmdctx *c)
{
	uint64_t addr = 0, count = KD_U_DEFAULT, end = 0, start;
	bool have_addr, have_end;
	int rc;

	rc = u_args(s, c, &have_addr, &addr, &count, &have_end, &end);
	if (rc < 0)
		return rc;
	if (!have_addr) {
		rc = kd_pc_get(s, &addr);
		if (rc < 0)
			return rc;
	}
	if (have_end) {
		struct kd_args a;

		kd_args_init(&a, s, c);
		return kd_args_error_eol(&a);
	}
	start = ub_start(s, addr, count);
	return u_print(s, start, count, false, 0, NULL);
}

static int cmd_uf(struct kd_session *s, struct kd_cmdctx *c)
{
	const struct kd_rtfunc *rf;
	struct kd_module *m = NULL;
	struct kd_args args;
	char sym[256];
	uint64_t addr, a;
	unsigned i;
	int rc;

	kd_args_init(&args, s, c);
	if (kd_args_at_end(&args))
		return kd_args_error_eol(&args);
	rc = kd_args_take_expr(&args, &addr);
	if (rc < 0)
		return rc;
	rc = kd_args_end(&args);
	if (rc < 0)
		return rc;
	rf = kd_pdata_lookup(s, addr, &m);
	if (rf && m)
		return u_print(s, m->base + rf->begin, 0, true,
			       m->base + rf->end - 1, NULL);
	/* No unwind data: from the nearest symbol to the first ret. */
	if (m && kd_sym_format(s, addr, sym, sizeof(sym)) == KD_OK) {
		const struct kd_export *e = kd_export_at_or_before(s, m, addr);

		if (e)
			addr = m->base + e->rva;
	}
	a = addr;
	for (i = 0; i < KD_UF_MAX && !s->interrupt; i++) {
		unsigned len;
		bool call, ret, branch;

		if (kd_insn_info(s, a, &len, &call, &ret, &branch) != KD_OK)
			break;
		a += len;
		if (ret)
			break;
	}
	if (a == addr)
		return kd_memory_error(s, c->args);
	return u_print(s, addr, 0, true, a - 1, NULL);
}

/* ------------------------------------------------------------------ */
/* k                                                                   */
/* ------------------------------------------------------------------ */

struct kd_k_opts {
	bool args;	  /* b, v */
	bool call_only;	  /* c */
	bool sizes;	  /* f */
	bool params;	  /* p, P */
	bool param_lines; /* P: one parameter per line */
};

/* The kp/kP call site of @p f in @p site, its line suffix kept. */
static void kp_site(struct kd_session *s, const struct kd_frame *f, size_t i,
		    bool lines, char *site, size_t cap)
{
	char file[256];
	uint32_t line;
	size_t n;

	if (kd_cmd__kp_site(s, f, i, lines, site, cap) != KD_OK)
		return;
	n = strlen(site);
	if ((kd_sym__options(s) & KD_SYMOPT_LOAD_LINES) &&
	    kd_sym_line(s, f->ip, file, sizeof(file), &line) == KD_OK)
		snprintf(site + n, cap - n, " [%.200s @ %u]", file, line);
}

static int cmd_k(struct kd_session *s, struct kd_cmdctx *c)
{
	struct kd_k_opts o = { false, false, false, false, false };
	struct kd_frame *frames;
	uint64_t count = KD_K_DEFAULT;
	struct kd_args a;
	size_t n = 0, i;
	int rc;

	/* Letters glued to the name are options; after a blank, a count. */
	kd_args_init(&a, s, c);
	while (a.glued && isalpha((unsigned char)kd_args_peek(&a))) {
		switch (kd_args_peek(&a)) {
		case 'b':
		case 'v':
			o.args = true;
			break;
		case 'c':
			o.call_only = true;
			break;
		case 'f':
			o.sizes = true;
			break;
		case 'P':
			o.param_lines = true;
			o.params = true;
			break;
		case 'p':
			o.params = true;
			break;
		case 'n':
		case 'L':
		case 'M':
			break;
		default:
			return kd_args_error(&a);
		}
		kd_args_advance(&a, 1);
	}
	kd_args_skip(&a);
	if (kd_args_peek(&a) == '=')
		return kd_fail(s, KD_ENOTSUP,
			       "k = is not supported; use .frame or r");
	if (!kd_args_at_end(&a)) {
		rc = kd_args_take_expr(&a, &count);
		if (rc < 0)
			return rc;
		rc = kd_args_end(&a);
		if (rc < 0)
			return rc;
		if (count == 0)
			return KD_OK;
		if (count > KD_K_DEFAULT)
			count = KD_K_DEFAULT;
	}
	frames = kd_calloc((size_t)count, sizeof(*frames));
	if (!frames)
		return kd_fail(s, KD_ENOMEM, "Out of memory");
	rc = kd_stack_walk(s, s->tgt.cpu, frames, (size_t)count, &n);
	if (rc < 0) {
		kd_free(frames);
		return kd_fail(s, rc, "Unable to get the stack of processor %u",
			       s->tgt.cpu);
	}
	if (kd_arch(s)->print_stack) {
		kd_arch(s)->print_stack(s, frames, n, o.args, o.call_only);
		kd_free(frames);
		return KD_OK;
	}
	if (o.call_only)
		kd_out(s, " # Call Site\n");
	else
		kd_out(s,
		       " # %sChild-SP          RetAddr               %s"
		       "Call Site\n",
		       o.sizes ? "  Memory  " : "",
		       o.args ? ": Args to Child                              "
				"                             : " :
				"");
	for (i = 0; i < n && !s->interrupt; i++) {
		const struct kd_frame *f = &frames[i];
		char site[2048], sp[18], ret[18], mem[16];

		cmd_sym_site(s, f->ip, site, sizeof(site));
		if (o.params)
			kp_site(s, f, i, o.param_lines, site, sizeof(site));
		if (o.call_only) {
			kd_out(s, "%02zx %s\n", i, site);
			continue;
		}
		mem[0] = '\0';
		if (o.sizes) {
			uint64_t size = i > 0 ? f->sp - frames[i - 1].sp : 0;

			if (i > 0)
				snprintf(mem, sizeof(mem), "%8llx ",
					 (unsigned long long)size);
			else
				snprintf(mem, sizeof(mem), "%8s ", "");
		}
		kd_fmt_addr(sp, f->sp);
		kd_fmt_addr(ret, f->ret);
		if (o.args) {
			char a0[18], a1[18], a2[18], a3[18];

			kd_out(s, "%02zx %s%s %s     : %s %s %s %s : %s\n", i,
			       mem, sp, ret, kd_fmt_addr(a0, f->args[0]),
			       kd_fmt_addr(a1, f->args[1]),
			       kd_fmt_addr(a2, f->args[2]),
			       kd_fmt_addr(a3, f->args[3]), site);
		} else {
			kd_out(s, "%02zx %s%s %s     %s\n", i, mem, sp, ret,
			       site);
		}
	}
	kd_free(frames);
	return KD_OK;
}

/* ------------------------------------------------------------------ */
/* .reload                                                             */
/* ------------------------------------------------------------------ */

/* The options of one .reload (symbols.md §2.3). */
struct reload_opts {
	bool user_only; /* /user */
	bool force;	/* /f, /o, or SYMOPT_DEFERRED_LOADS off */
	bool ignore;	/* /i: a mismatched PDB too */
	bool unload;	/* /u */
	bool list;	/* /l: list, load nothing */
	bool literal;	/* /w: the name has no wildcards */
	bool verbose;	/* /v: the DBGHELP lines for this command */
	bool refresh;	/* /o: fetch over cached copies */
	bool keep_list; /* /d: the debugger's list, not read again */
};

static bool reload_match(const struct reload_opts *o, const char *name,
			 const char *text)
{
	return o->literal ? strcasecmp(name, text) == 0 :
			    kd_wildcard_match(name, text);
}

/* .reload Module / .reload /f Module / .reload /u Module. */
static int reload_one(struct kd_session *s, const char *name,
		      const struct reload_opts *o)
{
	bool any = false;
	size_t i;

	if (kd_modules_load(s) < 0)
		return kd_fail(s, KD_ENOTFOUND,
			       "Unable to read PsLoadedModuleList");
	for (i = 0; i < s->sym.nmodules; i++) {
		struct kd_module *m = &s->sym.modules[i];
		struct kd_modsyms *ms;

		/* The module name, then the image name (hal = hal.dll). */
		if (!reload_match(o, name, m->name) &&
		    !reload_match(o, name, m->image))
			continue;
		any = true;
		ms = kd_module_syms(s, m);
		if (!ms)
			return kd_fail(s, KD_ENOMEM,
				       "Unable to read the symbols of %s",
				       m->name);
		kd_sym__pdb_unload(m);
		if (o->unload) {
			ms->pdb_state = KD_PDB_UNLOADED;
			kd_out(s, "Unloaded %s\n", name);
			continue;
		}
		ms->pdb_state = ms->have_cv && *kd_sym__path(s) ?
					KD_PDB_DEFERRED :
					KD_PDB_NONE;
		if (o->force || o->ignore)
			(void)kd_sym__pdb_load(s, m, o->ignore);
	}
	if (!any)
		return kd_fail(s, KD_ENOTFOUND,
			       "\"%s\" was not found in the image list.", name);
	return KD_OK;
}

/*
 * .reload Image=Address,Size[,Timestamp]: @p spec is what follows the `=`
 * (each part an expression, no blanks).  The module is added, or replaces
 * the entries at its range, and its symbols load as any module's do.
 */
static int reload_add(struct kd_session *s, const char *image, const char *spec,
		      const struct reload_opts *o)
{
	struct kd_module *m;
	uint64_t v[3] = { 0, 0, 0 };
	char part[96];
	const char *p = spec;
	unsigned n = 0;
	int rc;

	while (n < 3) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		const char *end = NULL;

		if (len == 0 || len >= sizeof(part))
			break;
		memcpy(part, p, len);
		part[len] = '\0';
		if (kd_expr_eval(s, part, &end, &v[n]) != KD_OK ||
		    (end && *end))
			break;
		n++;
		if (!comma) {
			p += len;
			break;
		}
		p = comma + 1;
	}
	if (n < 2 || *p || !*image)
		return kd_fail(s, KD_EINVAL,
			       "Syntax error in '%s=%s': use "
			       ".reload Module=Address,Size[,Timestamp]",
			       image, spec);
	if (v[2] > UINT32_MAX)
		return kd_fail(s, KD_EINVAL, "Timestamp 0x%llx is not 32 bits",
			       (unsigned long long)v[2]);
	rc = kd_sym__module_add(s, image, v[0], v[1], (uint32_t)v[2]);
	if (rc == KD_EINVAL)
		return kd_fail(s, rc, "Invalid module range %llx,%llx",
			       (unsigned long long)v[0],
			       (unsigned long long)v[1]);
	if (rc == KD_EOVERFLOW)
		return kd_fail(s, rc,
			       "Too many added modules (%d); .reload "
			       "forgets them",
			       KD_SYM_ADDED_MAX);
	if (rc < 0)
		return kd_fail(s, rc, "Unable to read PsLoadedModuleList");
	/* /f, /i: its PDB now, as for a module of the list. */
	m = kd_module_by_addr(s, v[0]);
	if (m && (o->force || o->ignore))
		(void)kd_sym__pdb_load(s, m, o->ignore);
	return KD_OK;
}

/* Read the options; KD_EINVAL (with its line) for one .reload lacks. */
static int reload_parse_opts(struct kd_session *s, struct kd_args *a,
			     struct reload_opts *o)
{
	for (;;) {
		const char *opt;
		size_t n = 0;

		kd_args_skip(a);
		if (kd_args_peek(a) != '/' && kd_args_peek(a) != '-')
			return KD_OK;
		kd_args_advance(a, 1);
		if (!kd_args_take_word(a, &opt, &n))
			continue;
		if (n == 4 && strncmp(opt, "user", 4) == 0)
			o->user_only = true;
		else if (n == 1 && *opt == 'f')
			o->force = true;
		else if (n == 1 && *opt == 'i')
			o->ignore = true;
		else if (n == 1 && *opt == 'u')
			o->unload = true;
		else if (n == 1 && *opt == 'l')
			o->list = true;
		else if (n == 1 && *opt == 'w')
			o->literal = true;
		else if (n == 1 && *opt == 'v')
			o->verbose = true;
		else if (n == 1 && *opt == 'o')
			o->refresh = o->force = true;
		else if (n == 1 && *opt == 'd')
			o->keep_list = true;
		else if (!((n == 1 && (*opt == 'n' || *opt == 's')) ||
			   (n == 3 && strncmp(opt, "unl", 3) == 0)))
			/* /n and /s are what kernel mode does anyway (no
			 * user modules; the system image list); /unl
			 * reads the unloaded list, which is read always. */
			return kd_fail(s, KD_EINVAL,
				       "Unknown .reload option '/%.*s'", (int)n,
				       opt);
	}
}

static int reload_all(struct kd_session *s, const struct reload_opts *o)
{
	size_t i;
	int rc;

	/* Read everything afresh, the list and the images; modules added
	 * by Name=Address,Size are forgotten as WinDbg does.  /d keeps the
	 * list the debugger has. */
	if (!o->keep_list) {
		kd_sym__modules_forget_added(s);
		kd_cache_invalidate(s);
		kd_modules_free(s);
	}
	kd_out(s, "Loading Kernel Symbols\n");
	rc = kd_modules_load(s);
	if (rc < 0)
		return kd_fail(s, rc, "Unable to read PsLoadedModuleList");
	for (i = 0; i < s->sym.nmodules; i++) {
		(void)kd_module_syms(s, &s->sym.modules[i]);
		kd_out(s, ".");
		if (i % 64 == 63 && i + 1 < s->sym.nmodules)
			kd_out(s, "\n");
	}
	kd_out(s, "\n");
	/* /f: the PDBs now, not when first needed. */
	for (i = 0; (o->force || o->ignore) && i < s->sym.nmodules; i++)
		(void)kd_sym__pdb_load(s, &s->sym.modules[i], o->ignore);
	kd_out(s, "Loading User Symbols\n");
	kd_out(s, "Loading unloaded module list\n");
	return KD_OK;
}

static int reload_run(struct kd_session *s, struct kd_args *a,
		      const struct reload_opts *o)
{
	char name[128], *eq;
	int rc;

	name[0] = '\0';
	kd_args_skip(a);
	if (!kd_args_at_end(a)) {
		const char *w;
		size_t n = 0;

		/* Module[=Address,Size[,Timestamp]]. */
		if (!kd_args_take_word(a, &w, &n) || n >= sizeof(name))
			return kd_args_error(a);
		snprintf(name, sizeof(name), "%.*s", (int)n, w);
		eq = strchr(name, '=');
		if (eq) {
			*eq = '\0';
			rc = kd_args_end(a);
			if (rc < 0)
				return rc;
			return reload_add(s, name, eq + 1, o);
		}
	}
	if (o->user_only) {
		kd_out(s, "Loading User Symbols\n");
		return KD_OK;
	}
	if (name[0])
		return reload_one(s, name, o);
	if (o->unload)
		return kd_fail(s, KD_EINVAL, ".reload /u needs a module");
	return reload_all(s, o);
}

static int cmd_reload(struct kd_session *s, struct kd_cmdctx *c)
{
	struct reload_opts o;
	struct kd_args a;
	uint32_t opts = kd_sym__options(s);
	int rc;

	memset(&o, 0, sizeof(o));
	kd_args_init(&a, s, c);
	rc = reload_parse_opts(s, &a, &o);
	if (rc < 0)
		return rc;
	/* /l lists the modules (kernel mode: as lm does), loads nothing. */
	if (o.list) {
		rc = kd_args_end(&a);
		return rc < 0 ? rc : kd_cmd_run_one(s, "lm");
	}
	/* -s (SYMOPT_DEFERRED_LOADS off): every load is a /f load. */
	if (!(opts & KD_SYMOPT_DEFERRED_LOADS))
		o.force = true;
	if (o.verbose)
		kd_sym__set_options(s, opts | KD_SYMOPT_DEBUG);
	s->sym.refresh = o.refresh;
	rc = reload_run(s, &a, &o);
	s->sym.refresh = false;
	if (o.verbose)
		kd_sym__set_options(s, (kd_sym__options(s) & ~KD_SYMOPT_DEBUG) |
					       (opts & KD_SYMOPT_DEBUG));
	return rc;
}

const struct kd_command kd_cmds_sym[] = {
	{ "lm", cmd_lm, KD_CMDF_STOPPED | KD_CMDF_PREFIX,
	  "lm[v][sm] [m pattern] [a addr]: list loaded modules" },
	{ "x", cmd_x, KD_CMDF_STOPPED,
	  "x [/a|/n] mod!pattern: list symbols (PDB, else exports)" },
	{ "ln", cmd_ln, KD_CMDF_STOPPED,
	  "ln addr: nearest symbols before and after" },
	{ "u", cmd_u, KD_CMDF_STOPPED,
	  "u [addr] [L count | end]: disassemble" },
	{ "ub", cmd_ub, KD_CMDF_STOPPED,
	  "ub [addr] [L count]: disassemble backwards" },
	{ "uf", cmd_uf, KD_CMDF_STOPPED, "uf addr: disassemble a function" },
	{ "k", cmd_k, KD_CMDF_STOPPED | KD_CMDF_PREFIX,
	  "k[b|c|f|n|p|P|v] [count]: stack backtrace (p, P: parameters)" },
	{ ".reload", cmd_reload, KD_CMDF_STOPPED,
	  ".reload [/f|/i|/u|/l|/o|/v|/w|/d] [/user] "
	  "[module[=addr,size[,time]]]: "
	  "re-read modules and symbols" },
	{ "bm", kd_cmd__bm, KD_CMDF_STOPPED,
	  "bm mod!pattern: a breakpoint on every matching function" },
	{ "ld", kd_cmd__ld, KD_CMDF_STOPPED,
	  "ld module: load its symbols now" },
	{ ".sympath", kd_cmd__sympath, 0,
	  ".sympath[+] [path]: show, set or extend the symbol path" },
	{ ".symfix", kd_cmd__symfix, 0,
	  ".symfix[+] [cache]: the Microsoft symbol store" },
	{ ".symopt", kd_cmd__symopt, 0,
	  ".symopt[+|-] [flags]: show or change the symbol options" },
	{ "!sym", kd_cmd__bang_sym, 0,
	  "!sym [noisy|quiet]: symbol loading messages" },
	{ ".lines", kd_cmd__lines, 0,
	  ".lines [-e|-d|-t]: source line information" },
	{ NULL, NULL, 0, NULL },
};
