/* SPDX-License-Identifier: MIT */
/*
 * The session's symbol path and symbol options, as WinDbg keeps them:
 * kd -y, else _NT_ALT_SYMBOL_PATH;_NT_SYMBOL_PATH (the alternate path
 * first), changed by .sympath[+] and .symfix[+]; SYMOPT_* bits shown and
 * changed by .symopt, SYMOPT_DEBUG toggled by !sym noisy|quiet.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <kd/engine.h>
#include <kd/error.h>
#include <kd/symstore.h>

#include "sym/sym_int.h"

/*
 * Read the environment once, the first time the path is needed; not at
 * all with SYMOPT_IGNORE_NT_SYMPATH set before then (kd -sins).
 */
static void path_init(struct kd_session *s)
{
	const char *alt, *sym;

	if (s->sym.path_ready)
		return;
	s->sym.path_ready = true;
	if (!s->sym.symopt_set)
		s->sym.symopt = KD_SYMOPT_DEFAULT;
	s->sym.symopt_set = true;
	s->sym.path[0] = '\0';
	if (s->sym.symopt & KD_SYMOPT_IGNORE_NT_SYMPATH)
		return;
	alt = getenv("_NT_ALT_SYMBOL_PATH");
	sym = getenv("_NT_SYMBOL_PATH");
	if (alt && *alt)
		(void)kd_sym__set_path(s, alt, true);
	if (sym && *sym)
		(void)kd_sym__set_path(s, sym, true);
}

const char *kd_sym__path(struct kd_session *s)
{
	path_init(s);
	return s->sym.path;
}

uint32_t kd_sym__options(struct kd_session *s)
{
	path_init(s);
	return s->sym.symopt;
}

void kd_sym__set_options(struct kd_session *s, uint32_t opts)
{
	path_init(s);
	s->sym.symopt = opts;
}

void kd_sym__path_changed(struct kd_session *s)
{
	bool have_path = s->sym.path[0] != '\0';
	size_t i;

	/* Nothing loads now; what failed before is looked for again. */
	for (i = 0; i < s->sym.nmodules; i++) {
		struct kd_modsyms *ms = s->sym.modules[i].syms;

		if (!ms || !(ms->have_cv || ms->image_key) ||
		    ms->pdb_state == KD_PDB_LOADED)
			continue;
		ms->image_tried = false;
		ms->pdb_state = have_path ? KD_PDB_DEFERRED : KD_PDB_NONE;
	}
}

int kd_sym__set_path(struct kd_session *s, const char *path, bool append)
{
	struct kd_sympath *sp = NULL;
	size_t have, n = strlen(path);
	int rc;

	path_init(s);
	have = append ? strlen(s->sym.path) : 0;
	/* Room for the separator and the NUL; a longer path is refused
	 * whole rather than cut (a cut path names other folders). */
	if (have + n + 2 > sizeof(s->sym.path))
		return kd_error_set(KD_EOVERFLOW, KD_ERRCLASS_ENGINE,
				    "symbol path: longer than %zu characters",
				    sizeof(s->sym.path) - 1);
	/* A path symstore cannot parse is refused with its line. */
	rc = kd_sympath_parse(&sp, path);
	kd_sympath_free(sp);
	if (rc < 0)
		return rc;
	if (have && n)
		s->sym.path[have++] = ';';
	memcpy(s->sym.path + have, path, n);
	s->sym.path[have + n] = '\0';
	kd_sym__path_changed(s);
	return KD_OK;
}

KD_API void kd_session_change_symopt(struct kd_session *s, uint32_t set,
				     uint32_t clear)
{
	if (!s)
		return;
	/* Before the path is first read the environment is not looked
	 * at yet, so -sins can still keep it out. */
	if (!s->sym.symopt_set) {
		s->sym.symopt = KD_SYMOPT_DEFAULT;
		s->sym.symopt_set = true;
	}
	s->sym.symopt = (s->sym.symopt & ~clear) | set;
}

KD_API uint32_t kd_session_symopt(struct kd_session *s)
{
	return s ? kd_sym__options(s) : 0;
}

KD_API int kd_session_set_sympath(struct kd_session *s, const char *path)
{
	if (!s || !path)
		return KD_EINVAL;
	path_init(s);
	return kd_sym__set_path(s, path, false);
}

void kd_sym__noisy(struct kd_session *s, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!(kd_sym__options(s) & KD_SYMOPT_DEBUG))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	kd_out(s, "%s\n", line);
}

void kd_sym__print_banner(struct kd_session *s)
{
	const char *p = kd_sym__path(s);

	if (*p) {
		kd_out(s, "Symbol search path is: %s\n", p);
	} else {
		kd_out(s, "Symbol search path is: *** Invalid ***\n");
		kd_out(s,
		       "*****************************************************"
		       "***********************\n"
		       "* Symbol loading may be unreliable without a symbol "
		       "search path.           *\n"
		       "* Use .symfix to have the debugger choose a symbol "
		       "path.                   *\n"
		       "* After setting your symbol path, use .reload to "
		       "refresh symbol locations. *\n"
		       "*****************************************************"
		       "***********************\n");
	}
	kd_out(s, "Executable search path is: \n");
}
