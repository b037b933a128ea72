/* SPDX-License-Identifier: MIT */
/*
 * PDB symbols of loaded modules: the PDB named by a module's CodeView
 * record is looked for on the symbol path when a symbol of that module is
 * first needed (deferred loading), checked against the record's GUID and
 * age, and then preferred over export symbols for names and addresses.
 * A missing, mismatched or damaged PDB leaves the module with its export
 * symbols and WinDbg's lines saying so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <sys/stat.h>

#include <kd/error.h>
#include <kd/pdb.h>
#include <kd/symstore.h>

#include "sym/sym_int.h"

/* "4FC7545E13D4F1504C4C44205044422E1": GUID as Data1-3 swapped, age %x. */
void kd_sym__pdb_key(const struct kd_modsyms *ms, char *buf, size_t cap)
{
	const uint8_t *g = ms->cv_guid;

	snprintf(buf, cap, "%08X%04X%04X%02X%02X%02X%02X%02X%02X%02X%02X%x",
		 (unsigned)kd_get_le32(g), (unsigned)kd_get_le16(g + 4),
		 (unsigned)kd_get_le16(g + 6), g[8], g[9], g[10], g[11], g[12],
		 g[13], g[14], g[15], (unsigned)ms->cv_age);
}

static bool is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* symstore's step lines, shown under !sym noisy. */
static void store_log(void *ctx, const char *line)
{
	kd_sym__noisy(ctx, "%s", line);
}

/* OPENKD_SYMSRV_OFFLINE=1: caches and folders only, never the network. */
static bool offline_env(void)
{
	const char *v = getenv("OPENKD_SYMSRV_OFFLINE");

	return v && *v && strcmp(v, "0") != 0;
}

/* How the store is asked: offline or not, noisy lines, Ctrl+C, /o. */
static void store_opts(struct kd_session *s, struct kd_symstore_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->offline = offline_env() ||
		     (kd_sym__options(s) & KD_SYMOPT_OFFLINE) != 0;
	o->log = store_log;
	o->log_ctx = s;
	/* Ctrl+C stops a download as it stops a command. */
	o->cancel = (volatile int *)&s->interrupt;
	o->refresh = s->sym.refresh;
}

/*
 * Look for the PDB of @p ms along the symbol path through symstore
 * (folders, caches, symbol servers; a file is verified before it is
 * returned), then at the path the linker recorded, as dbghelp does.
 * Returns symstore's code; @p why says what went wrong.
 */
static int find_pdb(struct kd_session *s, const struct kd_modsyms *ms,
		    char *out, size_t cap, char *why, size_t whycap)
{
	struct kd_symstore_opts o;
	struct kd_symstore_key key;
	struct kd_sympath *sp = NULL;
	int rc;

	why[0] = '\0';
	rc = kd_sympath_parse(&sp, kd_sym__path(s));
	if (rc < 0) {
		snprintf(why, whycap, "%s", kd_error_last()->message);
		return rc;
	}
	store_opts(s, &o);
	memset(&key, 0, sizeof(key));
	key.name = ms->pdb_name;
	memcpy(key.guid, ms->cv_guid, 16);
	key.age = ms->cv_age;
	rc = kd_symstore_find(sp, &o, &key, out, cap, why, whycap);
	kd_sympath_free(sp);
	if (rc == KD_ENOTFOUND && ms->cv_path[0] == '/' &&
	    is_file(ms->cv_path) && strlen(ms->cv_path) < cap) {
		snprintf(out, cap, "%s", ms->cv_path);
		return KD_OK;
	}
	return rc;
}

/*
 * For .reload /i and SYMOPT_LOAD_ANYTHING: a same-named PDB in a plain
 * folder of the path, whatever its GUID (symstore returns matches only).
 */
static int find_any_pdb(struct kd_session *s, const struct kd_modsyms *ms,
			char *out, size_t cap)
{
	struct kd_sympath *sp = NULL;
	struct kd_sympath_elem e;
	size_t i;

	if (kd_sympath_parse(&sp, kd_sym__path(s)) < 0)
		return KD_ENOTFOUND;
	for (i = 0; i < kd_sympath_count(sp); i++) {
		if (kd_sympath_elem(sp, i, &e) != KD_OK ||
		    e.kind != KD_SYMPATH_DIR)
			continue;
		if (snprintf(out, cap, "%s/%s", e.dir, ms->pdb_name) <
			    (int)cap &&
		    is_file(out)) {
			kd_sympath_free(sp);
			return KD_OK;
		}
	}
	kd_sympath_free(sp);
	return KD_ENOTFOUND;
}

/* The largest image file read for its RSDS record (ntoskrnl is ~11 MiB). */
#define IMAGE_FILE_MAX (256u << 20)

/* All of file @p path, bounded by IMAGE_FILE_MAX. */
static int read_image_file(const char *path, uint8_t **out, size_t *len,
			   char *why, size_t whycap)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint8_t *buf;
	size_t n;

	*out = NULL;
	if (!f || stat(path, &st) != 0) {
		snprintf(why, whycap, "%.400s: %s", path, strerror(errno));
		if (f)
			fclose(f);
		return KD_ERROR;
	}
	if (st.st_size <= 0 || (uint64_t)st.st_size > IMAGE_FILE_MAX) {
		snprintf(why, whycap, "%.400s: size %lld out of range", path,
			 (long long)st.st_size);
		fclose(f);
		return KD_EPROTO;
	}
	buf = kd_malloc((size_t)st.st_size);
	if (!buf) {
		fclose(f);
		snprintf(why, whycap, "out of memory");
		return KD_ENOMEM;
	}
	n = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	if (n != (size_t)st.st_size) {
		kd_free(buf);
		snprintf(why, whycap, "%.400s: short read", path);
		return KD_ERROR;
	}
	*out = buf;
	*len = n;
	return KD_OK;
}

/*
 * The module's headers were not in target memory (triage dumps): find a
 * copy of its image on the symbol path by the image key the module list
 * gave (name, TimeDateStamp, SizeOfImage; symstore verifies both in the
 * file's headers) and read the RSDS record from it.  Each step is shown
 * under !sym noisy; a failure leaves have_cv false.
 */
static int image_cv(struct kd_session *s, struct kd_module *m,
		    struct kd_modsyms *ms, char *why, size_t whycap)
{
	struct kd_symstore_opts o;
	struct kd_symstore_key key;
	struct kd_sympath *sp = NULL;
	char file[sizeof(ms->image_file)], dir[40];
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	ms->image_tried = true;
	why[0] = '\0';
	memset(&key, 0, sizeof(key));
	key.name = m->image;
	key.timestamp = m->timestamp;
	key.size_of_image = m->size;
	key.image = true;
	if (kd_symstore_key_dir(&key, dir, sizeof(dir)) != KD_OK)
		dir[0] = '\0';
	kd_sym__noisy(s,
		      "DBGHELP: %s - image headers not in memory, looking "
		      "for %s/%s/%s on the symbol path",
		      m->name, m->image, dir, m->image);
	rc = kd_sympath_parse(&sp, kd_sym__path(s));
	if (rc < 0) {
		snprintf(why, whycap, "%s", kd_error_last()->message);
		return rc;
	}
	store_opts(s, &o);
	rc = kd_symstore_find(sp, &o, &key, file, sizeof(file), why, whycap);
	kd_sympath_free(sp);
	if (rc != KD_OK) {
		if (!why[0])
			snprintf(why, whycap, "%s not found", m->image);
		return rc;
	}
	kd_sym__noisy(s, "DBGHELP: %s - mapped image file %s", m->name, file);
	rc = read_image_file(file, &buf, &len, why, whycap);
	if (rc == KD_OK) {
		rc = kd_sym__image_file_cv(buf, len, ms, why, whycap);
		kd_free(buf);
	}
	if (rc != KD_OK)
		return rc;
	snprintf(ms->image_file, sizeof(ms->image_file), "%s", file);
	kd_sym__noisy(s, "DBGHELP: %s - RSDS record from the image: %s",
		      m->name, ms->pdb_name);
	return KD_OK;
}

/* True when the PDB holds module symbols, not only publics. */
static bool pdb_is_private(struct kd_pdb *pdb)
{
	struct kd_pdb_info in;
	uint32_t i;

	if (kd_pdb_info(pdb, &in) != KD_OK || in.minimal)
		return false;
	for (i = 0; i < in.num_modules && i < 64; i++) {
		struct kd_pdb_module mod;

		if (kd_pdb_module(pdb, i, &mod) == KD_OK &&
		    mod.stream != 0xFFFF && mod.sym_bytes > 4)
			return true;
	}
	return false;
}

static void defaulted(struct kd_session *s, struct kd_module *m)
{
	kd_out(s,
	       "*** ERROR: Symbol file could not be found.  Defaulted to "
	       "export symbols for %s - \n",
	       m->image[0] ? m->image : m->name);
	kd_sym__noisy(s, "DBGHELP: %s - export symbols", m->name);
}

enum kd_pdbstate kd_sym__pdb_load(struct kd_session *s, struct kd_module *m,
				  bool force)
{
	struct kd_modsyms *ms = kd_module_syms(s, m);
	struct kd_pdb_info in;
	struct kd_pdb *pdb = NULL;
	char file[sizeof(ms->pdb_file)], why[512];
	uint32_t opts = kd_sym__options(s);
	int rc;

	if (!ms)
		return KD_PDB_NONE;
	if (ms->pdb_state == KD_PDB_LOADED)
		return KD_PDB_LOADED;
	/* A sandboxed session (fuzzing) opens no host files. */
	if (!ms->have_cv && ms->image_key && !ms->image_tried && !s->sandbox &&
	    *kd_sym__path(s)) {
		rc = image_cv(s, m, ms, why, sizeof(why));
		/* Out of memory is no answer about the image: look again
		 * next time, but say it now. */
		if (rc == KD_ENOMEM)
			ms->image_tried = false;
		if (rc != KD_OK) {
			kd_out(s,
			       "*** ERROR: Unable to find image file %s "
			       "(TimeDateStamp %08X, SizeOfImage %x): %s\n",
			       m->image, m->timestamp, m->size, why);
			kd_sym__noisy(s, "DBGHELP: %s - no image, no symbols",
				      m->name);
			ms->pdb_state = KD_PDB_MISSING;
			return ms->pdb_state;
		}
	}
	if (!ms->have_cv || s->sandbox) {
		ms->pdb_state = KD_PDB_NONE;
		return KD_PDB_NONE;
	}
	rc = find_pdb(s, ms, file, sizeof(file), why, sizeof(why));
	if (rc == KD_EINVAL && (force || (opts & KD_SYMOPT_LOAD_ANYTHING)) &&
	    !(opts & KD_SYMOPT_EXACT_SYMBOLS) &&
	    find_any_pdb(s, ms, file, sizeof(file)) == KD_OK)
		rc = KD_OK;
	if (rc != KD_OK) {
		if (rc == KD_EINVAL) {
			/* Found, but another build's: dbgerr003. */
			kd_sym__noisy(s, "DBGHELP: %s - mismatched pdb",
				      ms->pdb_name);
			kd_out(s,
			       "*** WARNING: %s has mismatched symbols: %s\n",
			       ms->pdb_name, why);
			ms->pdb_state = KD_PDB_MISMATCH;
		} else if (rc == KD_EPROTO) {
			kd_out(s,
			       "*** ERROR: Symbol file %s is damaged (%s).  "
			       "Defaulted to export symbols for %s - \n",
			       ms->pdb_name, why,
			       m->image[0] ? m->image : m->name);
			ms->pdb_state = KD_PDB_DAMAGED;
			return ms->pdb_state;
		} else {
			if (why[0] && rc != KD_ENOTFOUND)
				kd_out(s, "*** ERROR: %s\n", why);
			else if (why[0])
				kd_sym__noisy(s, "SYMSRV:  %s", why);
			ms->pdb_state = KD_PDB_MISSING;
		}
		defaulted(s, m);
		return ms->pdb_state;
	}
	rc = kd_pdb_open_file(&pdb, file);
	if (rc != KD_OK) {
		/* One line: what is wrong with which file, then exports. */
		kd_out(s,
		       "*** ERROR: Symbol file %s is damaged (%s).  Defaulted "
		       "to export symbols for %s - \n",
		       file, kd_error_last()->message,
		       m->image[0] ? m->image : m->name);
		ms->pdb_state = KD_PDB_DAMAGED;
		return ms->pdb_state;
	}
	(void)kd_pdb_info(pdb, &in);
	if (memcmp(in.guid, ms->cv_guid, 16) != 0 ||
	    (in.has_dbi ? in.dbi_age : in.age) != ms->cv_age) {
		kd_sym__noisy(s, "DBGHELP: %s - mismatched pdb", file);
		if (!(force || (opts & KD_SYMOPT_LOAD_ANYTHING)) ||
		    (opts & KD_SYMOPT_EXACT_SYMBOLS)) {
			kd_out(s, "*** WARNING: %s has mismatched symbols\n",
			       file);
			kd_pdb_close(pdb);
			defaulted(s, m);
			ms->pdb_state = KD_PDB_MISMATCH;
			return ms->pdb_state;
		}
		ms->pdb_forced = true;
	}
	ms->pdb = pdb;
	ms->pdb_private = pdb_is_private(pdb);
	snprintf(ms->pdb_file, sizeof(ms->pdb_file), "%s", file);
	ms->pdb_state = KD_PDB_LOADED;
	kd_sym__noisy(s, "DBGHELP: %s - %s", m->name,
		      ms->pdb_private ? "private symbols & lines" :
					"public symbols");
	kd_sym__noisy(s, "        %s", file);
	return KD_PDB_LOADED;
}

struct kd_pdb *kd_sym__pdb(struct kd_session *s, struct kd_module *m)
{
	struct kd_modsyms *ms = kd_module_syms(s, m);

	if (!ms)
		return NULL;
	if (ms->pdb_state == KD_PDB_DEFERRED)
		(void)kd_sym__pdb_load(s, m, false);
	return ms->pdb_state == KD_PDB_LOADED ? ms->pdb : NULL;
}

void kd_sym__pdb_unload(struct kd_module *m)
{
	struct kd_modsyms *ms = m->syms;

	if (!ms)
		return;
	kd_pdb_close(ms->pdb);
	ms->pdb = NULL;
	ms->pdb_file[0] = '\0';
	ms->pdb_private = false;
	ms->pdb_forced = false;
}

int kd_sym__pdb_addr(struct kd_session *s, struct kd_module *m, uint64_t addr,
		     const char **name, uint64_t *sym_addr)
{
	struct kd_pdb *pdb = kd_sym__pdb(s, m);
	struct kd_pdb_sym sym;
	uint32_t disp;

	if (!pdb || addr < m->base || addr - m->base >= m->size)
		return KD_ENOTFOUND;
	if (kd_pdb_addr_to_sym(pdb, (uint32_t)(addr - m->base), &sym, &disp) !=
	    KD_OK)
		return KD_ENOTFOUND;
	*name = sym.name;
	*sym_addr = addr - disp;
	return KD_OK;
}

int kd_sym__pdb_next(struct kd_session *s, struct kd_module *m, uint64_t addr,
		     const char **name, uint64_t *sym_addr)
{
	struct kd_pdb *pdb = kd_sym__pdb(s, m);
	struct kd_pdb_sym sym;

	if (!pdb || addr < m->base || addr - m->base >= m->size)
		return KD_ENOTFOUND;
	/* A symbol past the image's end belongs to nothing ln shows. */
	if (kd_pdb_sym_after(pdb, (uint32_t)(addr - m->base), &sym) != KD_OK ||
	    !sym.has_rva || sym.rva >= m->size)
		return KD_ENOTFOUND;
	*name = sym.name;
	*sym_addr = m->base + sym.rva;
	return KD_OK;
}

int kd_sym__pdb_name(struct kd_session *s, struct kd_module *m,
		     const char *name, uint64_t *addr)
{
	struct kd_pdb *pdb = kd_sym__pdb(s, m);
	struct kd_pdb_sym sym;

	if (!pdb || kd_pdb_name_to_sym(pdb, name, &sym) != KD_OK ||
	    !sym.has_rva)
		return KD_ENOTFOUND;
	*addr = m->base + sym.rva;
	return KD_OK;
}

int kd_sym_line(struct kd_session *s, uint64_t addr, char *file, size_t cap,
		uint32_t *line)
{
	struct kd_module *m = kd_module_by_addr(s, addr);
	struct kd_pdb_line ln;
	struct kd_pdb *pdb;

	if (!m)
		return KD_ENOTFOUND;
	pdb = kd_sym__pdb(s, m);
	if (!pdb ||
	    kd_pdb_line_at(pdb, (uint32_t)(addr - m->base), &ln) != KD_OK)
		return KD_ENOTFOUND;
	snprintf(file, cap, "%s", ln.file);
	*line = ln.line;
	return KD_OK;
}

int kd_sym_function(struct kd_session *s, uint64_t addr, char *buf, size_t cap)
{
	struct kd_module *m = kd_module_by_addr(s, addr);
	const char *name;
	uint64_t at;

	if (!m || kd_sym__pdb_addr(s, m, addr, &name, &at) != KD_OK)
		return KD_ENOTFOUND;
	snprintf(buf, cap, "%s!%s", m->name, name);
	return KD_OK;
}
