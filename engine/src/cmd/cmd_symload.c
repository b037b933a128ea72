/* SPDX-License-Identifier: MIT */
/*
 * Symbol path and symbol loading commands in WinDbg's words: .sympath[+],
 * .symfix[+], .symopt[+-], !sym, .lines, ld.  Their table entries are in
 * cmd_sym.c's table (the "Symbols, modules, stacks" group).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <kd/symstore.h>

#include "cmd/args.h"
#include "cmd/cmd_sym.h"
#include "sym/sym_int.h"

#define KD_MSDL "https://msdl.microsoft.com/download/symbols"

/* The default downstream store (symstore's: $OPENKD_SYMCACHE, else the
 * user's cache folder). */
static void default_cache(char *buf, size_t cap)
{
	if (kd_symstore_default_cache(buf, cap) != KD_OK)
		snprintf(buf, cap, "<no default cache: set OPENKD_SYMCACHE>");
}

/* One element as it will be searched: default caches filled in. */
static void print_elem(struct kd_session *s, const struct kd_sympath_elem *e)
{
	char def[1024];
	size_t j;

	default_cache(def, sizeof(def));
	switch (e->kind) {
	case KD_SYMPATH_DIR:
		kd_out(s, "%s", e->dir);
		break;
	case KD_SYMPATH_CACHE:
		kd_out(s, "cache*%s", e->dir ? e->dir : def);
		break;
	case KD_SYMPATH_SRV:
		kd_out(s, "SRV*");
		for (j = 0; j < e->ncaches; j++)
			kd_out(s, "%s*", e->caches[j] ? e->caches[j] : def);
		/* An HTTP store always gets a downstream cache. */
		if (e->ncaches == 0 && e->http)
			kd_out(s, "%s*", def);
		kd_out(s, "%s", e->store);
		break;
	}
}

/* The "Expanded Symbol search path is:" text and the validation block. */
static void print_path(struct kd_session *s)
{
	const char *path = kd_sym__path(s);
	struct kd_sympath *sp = NULL;
	struct kd_sympath_elem e;
	size_t i, n;

	if (*path == '\0') {
		kd_out(s, "Symbol search path is: <empty>\n");
		kd_out(s, "Expanded Symbol search path is: <empty>\n");
		return;
	}
	kd_out(s, "Symbol search path is: %s\n", path);
	if (kd_sympath_parse(&sp, path) != KD_OK) {
		kd_out(s, "Expanded Symbol search path is: <invalid: %s>\n",
		       kd_error_last()->message);
		return;
	}
	n = kd_sympath_count(sp);
	kd_out(s, "Expanded Symbol search path is: ");
	for (i = 0; i < n; i++) {
		if (kd_sympath_elem(sp, i, &e) != KD_OK)
			break;
		if (i)
			kd_out(s, ";");
		print_elem(s, &e);
	}
	kd_out(s, "\n\n************* Path validation summary "
		  "**************\n");
	kd_out(s, "%-33s%-14s%s\n", "Response", "Time (ms)", "Location");
	for (i = 0; i < n; i++) {
		struct stat st;

		if (kd_sympath_elem(sp, i, &e) != KD_OK)
			break;
		if (e.kind != KD_SYMPATH_DIR)
			kd_out(s, "%-47s", "Deferred");
		else if (stat(e.dir, &st) == 0 && S_ISDIR(st.st_mode))
			kd_out(s, "%-47s", "OK");
		else
			kd_out(s, "%-47s", "Error");
		print_elem(s, &e);
		kd_out(s, "\n");
	}
	kd_sympath_free(sp);
}

/* `+` glued to the name or first in the arguments: .sympath+, .symfix+ */
static bool take_plus(struct kd_args *a)
{
	kd_args_skip(a);
	if (kd_args_peek(a) != '+')
		return false;
	kd_args_advance(a, 1);
	kd_args_skip(a);
	return true;
}

int kd_cmd__sympath(struct kd_session *s, struct kd_cmdctx *c)
{
	struct kd_args a;
	const char *text;
	size_t n;
	bool plus;
	char *path;
	int rc;

	kd_args_init(&a, s, c);
	plus = take_plus(&a);
	kd_args_take_rest(&a, KD_ARGS_Q_STRIP, &text, &n);
	while (n && (text[n - 1] == ' ' || text[n - 1] == '\t'))
		n--;
	if (n == 0 && !plus) {
		print_path(s);
		return KD_OK;
	}
	path = kd_malloc(n + 1);
	if (!path)
		return kd_fail(s, KD_ENOMEM, "Out of memory");
	memcpy(path, text, n);
	path[n] = '\0';
	rc = kd_sym__set_path(s, path, plus);
	kd_free(path);
	if (rc < 0)
		return kd_fail(s, rc, "%s", kd_error_last()->message);
	print_path(s);
	return KD_OK;
}

int kd_cmd__symfix(struct kd_session *s, struct kd_cmdctx *c)
{
	char cache[1024], elem[1200];
	struct kd_args a;
	const char *text;
	size_t n;
	bool plus;
	int rc;

	kd_args_init(&a, s, c);
	plus = take_plus(&a);
	kd_args_take_rest(&a, KD_ARGS_Q_STRIP, &text, &n);
	while (n && (text[n - 1] == ' ' || text[n - 1] == '\t'))
		n--;
	if (n >= sizeof(cache))
		return kd_fail(s, KD_EOVERFLOW, "The cache path is too long");
	if (n) {
		snprintf(cache, sizeof(cache), "%.*s", (int)n, text);
	} else {
		default_cache(cache, sizeof(cache));
		kd_out(s, "No downstream store given, using %s\n", cache);
	}
	snprintf(elem, sizeof(elem), "srv*%s*%s", cache, KD_MSDL);
	rc = kd_sym__set_path(s, elem, plus);
	if (rc < 0)
		return kd_fail(s, rc, "%s", kd_error_last()->message);
	return KD_OK;
}

static const struct {
	uint32_t bit;
	const char *name;
} kd_symopt_names[] = {
	{ 0x1, "SYMOPT_CASE_INSENSITIVE" },
	{ 0x2, "SYMOPT_UNDNAME" },
	{ 0x4, "SYMOPT_DEFERRED_LOADS" },
	{ 0x8, "SYMOPT_NO_CPP" },
	{ 0x10, "SYMOPT_LOAD_LINES" },
	{ 0x20, "SYMOPT_OMAP_FIND_NEAREST" },
	{ 0x40, "SYMOPT_LOAD_ANYTHING" },
	{ 0x80, "SYMOPT_IGNORE_CVREC" },
	{ 0x100, "SYMOPT_NO_UNQUALIFIED_LOADS" },
	{ 0x200, "SYMOPT_FAIL_CRITICAL_ERRORS" },
	{ 0x400, "SYMOPT_EXACT_SYMBOLS" },
	{ 0x800, "SYMOPT_ALLOW_ABSOLUTE_SYMBOLS" },
	{ 0x1000, "SYMOPT_IGNORE_NT_SYMPATH" },
	{ 0x2000, "SYMOPT_INCLUDE_32BIT_MODULES" },
	{ 0x4000, "SYMOPT_PUBLICS_ONLY" },
	{ 0x8000, "SYMOPT_NO_PUBLICS" },
	{ 0x10000, "SYMOPT_AUTO_PUBLICS" },
	{ 0x20000, "SYMOPT_NO_IMAGE_SEARCH" },
	{ 0x40000, "SYMOPT_SECURE" },
	{ 0x80000, "SYMOPT_NO_PROMPTS" },
	{ 0x40000000u, "SYMOPT_OFFLINE (openkd: no symbol server)" },
	{ 0x80000000u, "SYMOPT_DEBUG" },
};

static void print_symopt(struct kd_session *s)
{
	uint32_t o = kd_sym__options(s);
	size_t i;

	kd_out(s, "Symbol options are 0x%X:\n", o);
	for (i = 0; i < KD_ARRAY_SIZE(kd_symopt_names); i++) {
		if (o & kd_symopt_names[i].bit)
			kd_out(s, "  0x%08x - %s\n", kd_symopt_names[i].bit,
			       kd_symopt_names[i].name);
	}
}

int kd_cmd__symopt(struct kd_session *s, struct kd_cmdctx *c)
{
	uint32_t o = kd_sym__options(s);
	struct kd_args a;
	uint64_t v;
	char op = '+';
	int rc;

	kd_args_init(&a, s, c);
	kd_args_skip(&a);
	if (kd_args_at_end(&a)) {
		print_symopt(s);
		return KD_OK;
	}
	if (kd_args_peek(&a) == '+' || kd_args_peek(&a) == '-') {
		op = kd_args_peek(&a);
		kd_args_advance(&a, 1);
		kd_args_skip(&a);
	}
	rc = kd_args_take_expr(&a, &v);
	if (rc < 0)
		return rc;
	rc = kd_args_end(&a);
	if (rc < 0)
		return rc;
	if (op == '+')
		o |= (uint32_t)v;
	else
		o &= ~(uint32_t)v;
	kd_sym__set_options(s, o);
	print_symopt(s);
	return KD_OK;
}

int kd_cmd__bang_sym(struct kd_session *s, struct kd_cmdctx *c)
{
	uint32_t o = kd_sym__options(s);
	struct kd_args a;
	const char *w;
	size_t n = 0;

	kd_args_init(&a, s, c);
	kd_args_skip(&a);
	if (kd_args_take_word(&a, &w, &n)) {
		if (n == 5 && strncasecmp(w, "noisy", 5) == 0)
			o |= KD_SYMOPT_DEBUG;
		else if (n == 5 && strncasecmp(w, "quiet", 5) == 0)
			o &= ~KD_SYMOPT_DEBUG;
		else if (n == 7 && strncasecmp(w, "prompts", 7) == 0)
			kd_args_take_rest(&a, 0, &w, &n); /* no prompts */
		else
			return kd_fail(s, KD_EINVAL,
				       "!sym: unknown option '%.*s' (noisy, "
				       "quiet, prompts [off])",
				       (int)n, w);
	}
	kd_sym__set_options(s, o);
	kd_out(s, "%s mode - symbol prompts off\n",
	       (o & KD_SYMOPT_DEBUG) ? "noisy" : "quiet");
	return KD_OK;
}

int kd_cmd__lines(struct kd_session *s, struct kd_cmdctx *c)
{
	uint32_t o = kd_sym__options(s);
	struct kd_args a;
	int opt;

	kd_args_init(&a, s, c);
	kd_args_skip(&a);
	if (kd_args_at_end(&a)) {
		o ^= KD_SYMOPT_LOAD_LINES;
	} else {
		const char *at = a.p;

		opt = kd_args_take_option(&a, "-/", NULL, 0);
		if (opt == 'e')
			o |= KD_SYMOPT_LOAD_LINES;
		else if (opt == 'd')
			o &= ~KD_SYMOPT_LOAD_LINES;
		else if (opt == 't')
			o ^= KD_SYMOPT_LOAD_LINES;
		else
			return kd_args_error_at(&a, at);
		if (kd_args_end(&a) < 0)
			return KD_EINVAL;
	}
	kd_sym__set_options(s, o);
	kd_out(s, "Line number information will %sbe loaded\n",
	       (o & KD_SYMOPT_LOAD_LINES) ? "" : "not ");
	return KD_OK;
}

int kd_cmd__ld(struct kd_session *s, struct kd_cmdctx *c)
{
	struct kd_module *m;
	struct kd_modsyms *ms;
	struct kd_args a;
	const char *w;
	size_t n = 0, i;
	char name[64];
	bool any = false;

	kd_args_init(&a, s, c);
	kd_args_skip(&a);
	if (!kd_args_take_word(&a, &w, &n) || n >= sizeof(name))
		return kd_args_error(&a);
	snprintf(name, sizeof(name), "%.*s", (int)n, w);
	if (kd_modules_load(s) < 0)
		return kd_fail(s, KD_ENOTFOUND,
			       "Unable to read PsLoadedModuleList");
	for (i = 0; i < s->sym.nmodules; i++) {
		m = &s->sym.modules[i];
		if (!kd_wildcard_match(name, m->name) &&
		    !kd_wildcard_match(name, m->image))
			continue;
		any = true;
		ms = kd_module_syms(s, m);
		if (ms && ms->pdb_state == KD_PDB_LOADED) {
			kd_out(s, "Symbols already loaded for %s\n", m->name);
			continue;
		}
		if (ms && ms->pdb_state == KD_PDB_UNLOADED)
			ms->pdb_state = KD_PDB_DEFERRED;
		if (kd_sym__pdb_load(s, m, false) == KD_PDB_LOADED)
			kd_out(s, "Symbols loaded for %s\n", m->name);
		else
			return kd_fail(s, KD_ENOTFOUND,
				       "Symbols could not be loaded for %s",
				       m->name);
	}
	if (!any)
		return kd_fail(s, KD_ENOTFOUND, "Unable to find module '%s'",
			       name);
	return KD_OK;
}

struct bm_hit {
	uint64_t addr;
	char name[200];
};

struct bm_ctx {
	struct bm_hit *hits;
	size_t n, cap;
	const struct kd_module *m;
	bool nomem;
};

static int bm_add(struct bm_ctx *b, uint64_t addr, const char *name)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		if (b->hits[i].addr == addr)
			return 0; /* a public and its procedure: one bp */
	}
	if (b->n == b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 16;
		struct bm_hit *nh = kd_realloc(b->hits, ncap * sizeof(*nh));

		if (!nh) {
			b->nomem = true;
			return KD_ENOMEM;
		}
		b->hits = nh;
		b->cap = ncap;
	}
	b->hits[b->n].addr = addr;
	snprintf(b->hits[b->n].name, sizeof(b->hits[b->n].name), "%s!%s",
		 b->m->name, name);
	b->n++;
	return 0;
}

static int bm_pdb_cb(void *ctx, const struct kd_pdb_sym *sym)
{
	struct bm_ctx *b = ctx;

	if (!sym->is_function || !sym->has_rva || sym->rva >= b->m->size)
		return 0;
	return bm_add(b, b->m->base + sym->rva, sym->name);
}

/*
 * bm mod!pattern: a breakpoint on every function that matches, from the
 * PDB (else the exports), listed as WinDbg lists them.
 */
int kd_cmd__bm(struct kd_session *s, struct kd_cmdctx *c)
{
	struct bm_ctx b = { NULL, 0, 0, NULL, false };
	char modpat[64], sympat[256], line[64];
	const char *w, *bang;
	struct kd_args a;
	size_t n = 0, i, j;
	int rc = KD_OK;

	kd_args_init(&a, s, c);
	kd_args_skip(&a);
	if (!kd_args_take_word(&a, &w, &n))
		return kd_args_error_eol(&a);
	rc = kd_args_end(&a);
	if (rc < 0)
		return rc;
	bang = memchr(w, '!', n);
	if (bang) {
		if ((size_t)(bang - w) >= sizeof(modpat) ||
		    n - (size_t)(bang - w) - 1 >= sizeof(sympat))
			return kd_args_error_at(&a, w);
		snprintf(modpat, sizeof(modpat), "%.*s", (int)(bang - w), w);
		snprintf(sympat, sizeof(sympat), "%.*s",
			 (int)(n - (size_t)(bang - w) - 1), bang + 1);
	} else {
		if (n >= sizeof(sympat))
			return kd_args_error_at(&a, w);
		snprintf(modpat, sizeof(modpat), "*");
		snprintf(sympat, sizeof(sympat), "%.*s", (int)n, w);
	}
	if (kd_modules_load(s) < 0)
		return kd_fail(s, KD_ENOTFOUND,
			       "Unable to read PsLoadedModuleList");
	for (i = 0; i < s->sym.nmodules && !b.nomem; i++) {
		struct kd_module *m = &s->sym.modules[i];
		struct kd_modsyms *ms;
		struct kd_pdb *pdb;

		if (!kd_wildcard_match(modpat, m->name))
			continue;
		b.m = m;
		pdb = kd_sym__pdb(s, m);
		if (pdb) {
			(void)kd_pdb_symbols_foreach(pdb, sympat,
						     KD_PDB_SYM_PUBLIC |
							     KD_PDB_SYM_PROC,
						     bm_pdb_cb, &b);
			continue;
		}
		ms = kd_module_syms(s, m);
		for (j = 0; ms && j < ms->nexports && !b.nomem; j++) {
			if (ms->exports[j].code &&
			    kd_wildcard_match(sympat, ms->exports[j].name))
				(void)bm_add(&b, m->base + ms->exports[j].rva,
					     ms->exports[j].name);
		}
	}
	if (b.nomem) {
		kd_free(b.hits);
		return kd_fail(s, KD_ENOMEM, "Out of memory");
	}
	if (b.n == 0) {
		kd_free(b.hits);
		return kd_fail(s, KD_ENOTFOUND,
			       "No matching code symbols "
			       "found, no breakpoints set.");
	}
	for (i = 0; i < b.n && rc == KD_OK; i++) {
		char a18[18];
		int id;

		/* Set through bp, so its rules (slots, redefinition)
		 * hold; then report the id it took. */
		snprintf(line, sizeof(line), "bp 0x%llx",
			 (unsigned long long)b.hits[i].addr);
		rc = kd_cmd_run_one(s, line);
		if (rc < 0)
			break;
		for (id = 0; id < KD_MAX_BPS; id++) {
			if (s->exec.bps[id].used && !s->exec.bps[id].deferred &&
			    s->exec.bps[id].addr == b.hits[i].addr)
				break;
		}
		if (id < KD_MAX_BPS)
			kd_out(s, "%3d: %s          @!\"%s\"\n", id,
			       kd_fmt_ptr(s, a18, b.hits[i].addr),
			       b.hits[i].name);
	}
	kd_free(b.hits);
	return rc;
}
