/* SPDX-License-Identifier: MIT */
/*
 * The field answers of cmd/ext.h, from the PDB of the target's kernel.
 *
 * STOPGAP: issue 16 gives field access to cmd/kobj.h (branch r-kobj, on
 * r-dt's sym/types.h); until that lands this file walks nt's TPI through
 * pdb.h's type API, member by member.  When kobj.h is merged these
 * functions become calls into it and the walk below goes.
 */
#include <stdio.h>
#include <string.h>

#include <kd/pdb.h>

#include "cmd/ext.h"
#include "sym/sym_int.h"

#define EXT_PATH_DEPTH 8 /* components of a field path */
#define EXT_MOD_DEPTH 8	 /* modifiers stacked on a type */

/* nt's PDB without a line when there is none (a probe). */
static int nt_pdb_quiet(struct kd_session *s, struct kd_pdb **pdb)
{
	struct kd_module *m;

	kd_modules_load(s);
	m = kd_module_by_name(s, "nt");
	*pdb = m ? kd_sym__pdb(s, m) : NULL;
	return *pdb ? KD_OK : KD_ENOTFOUND;
}

static int nt_pdb(struct kd_session *s, struct kd_pdb **pdb)
{
	struct kd_module *m;

	kd_modules_load(s);
	m = kd_module_by_name(s, "nt");
	if (!m)
		return kd_fail(s, KD_ENOTFOUND,
			       "nt is not in the module list: the kernel "
			       "extensions need nt's types");
	*pdb = kd_sym__pdb(s, m);
	if (!*pdb)
		return kd_fail(s, KD_ENOTFOUND,
			       "nt has no PDB loaded: the kernel extensions "
			       "need nt's types (.sympath, .reload /f nt)");
	return KD_OK;
}

/* @p ti without const/volatile, forward references resolved. */
static int strip(struct kd_pdb *pdb, uint32_t ti, struct kd_pdb_type *t)
{
	unsigned d;
	uint32_t full;

	for (d = 0; d < EXT_MOD_DEPTH; d++) {
		if (kd_pdb_type_get(pdb, ti, t) != KD_OK)
			return KD_EPROTO;
		if (t->leaf == KD_LF_MODIFIER) {
			ti = t->ref;
			continue;
		}
		if (t->forward) {
			if (kd_pdb_type_resolve(pdb, ti, &full) != KD_OK)
				return KD_ENOTFOUND;
			if (full == ti)
				return KD_EPROTO;
			ti = full;
			continue;
		}
		return KD_OK;
	}
	return KD_EPROTO;
}

struct member_find {
	const char *name;
	size_t len;
	bool found;
	uint32_t type;
	uint64_t offset;
};

static int member_cb(void *ctx, const struct kd_pdb_field *f)
{
	struct member_find *mf = ctx;

	if (f->leaf != KD_LF_MEMBER || strlen(f->name) != mf->len ||
	    memcmp(f->name, mf->name, mf->len) != 0)
		return 0;
	mf->found = true;
	mf->type = f->type;
	mf->offset = f->offset;
	return 1;
}

static int not_found_line(struct kd_session *s, bool quiet, const char *path,
			  size_t len)
{
	if (quiet)
		return KD_ENOTFOUND;
	return kd_fail(s, KD_ENOTFOUND, "%.*s not found in nt's types",
		       (int)len, path);
}

#define not_found(s, path, len) not_found_line(s, quiet, path, len)

static int find_field(struct kd_session *s, const char *path,
		      struct kd_ext_field *f, bool quiet)
{
	const char *p = strchr(path, '.'), *name;
	struct kd_pdb_type t;
	struct kd_pdb *pdb;
	char type[96];
	uint32_t ti;
	unsigned depth;
	int rc;

	memset(f, 0, sizeof(*f));
	rc = quiet ? nt_pdb_quiet(s, &pdb) : nt_pdb(s, &pdb);
	if (rc < 0)
		return rc;
	if (!p || (size_t)(p - path) >= sizeof(type))
		return not_found(s, path, strlen(path));
	memcpy(type, path, (size_t)(p - path));
	type[p - path] = '\0';
	if (kd_pdb_type_by_name(pdb, type, &ti) != KD_OK ||
	    strip(pdb, ti, &t) != KD_OK)
		return not_found(s, type, strlen(type));
	for (depth = 0; p && *p == '.' && depth < EXT_PATH_DEPTH; depth++) {
		struct member_find mf = { 0 };

		name = p + 1;
		p = strchr(name, '.');
		mf.name = name;
		mf.len = p ? (size_t)(p - name) : strlen(name);
		if (t.leaf != KD_LF_STRUCTURE && t.leaf != KD_LF_UNION &&
		    t.leaf != KD_LF_CLASS)
			return not_found(s, path, (size_t)(name - path) - 1);
		kd_pdb_type_fields(pdb, t.ti, member_cb, &mf);
		if (!mf.found)
			return not_found(s, path, (size_t)(name - path) + mf.len);
		f->off += mf.offset;
		if (strip(pdb, mf.type, &t) != KD_OK)
			return not_found(s, path, (size_t)(name - path) + mf.len);
	}
	if (p)
		return not_found(s, path, strlen(path));
	f->size = f->elem_size = t.size;
	if (t.leaf == KD_LF_BITFIELD) {
		f->bit_pos = t.bit_pos;
		f->bit_len = t.bit_len;
		if (strip(pdb, t.ref, &t) != KD_OK)
			return not_found(s, path, strlen(path));
		f->size = f->elem_size = t.size;
	} else if (t.leaf == KD_LF_ARRAY) {
		struct kd_pdb_type e;

		if (strip(pdb, t.ref, &e) != KD_OK || e.size == 0)
			return not_found(s, path, strlen(path));
		f->elem_size = e.size;
	}
	return KD_OK;
}

#undef not_found

int kd_ext__field(struct kd_session *s, const char *path,
		  struct kd_ext_field *f)
{
	return find_field(s, path, f, false);
}

bool kd_ext__has(struct kd_session *s, const char *path)
{
	struct kd_ext_field f;

	return find_field(s, path, &f, true) == KD_OK;
}

int kd_ext__sizeof(struct kd_session *s, const char *type, uint64_t *size)
{
	struct kd_pdb_type t;
	struct kd_pdb *pdb;
	uint32_t ti;
	int rc;

	rc = nt_pdb(s, &pdb);
	if (rc < 0)
		return rc;
	if (kd_pdb_type_by_name(pdb, type, &ti) != KD_OK ||
	    strip(pdb, ti, &t) != KD_OK)
		return kd_fail(s, KD_ENOTFOUND, "%s not found in nt's types",
			       type);
	*size = t.size;
	return KD_OK;
}

static int read_scalar(struct kd_session *s, uint64_t va, uint64_t size,
		       const char *path, uint64_t *v)
{
	uint8_t b[8] = { 0 };
	char a[18];

	if (size == 0 || size > 8)
		return kd_fail(s, KD_EINVAL, "%s is %llu bytes, not a number",
			       path, (unsigned long long)size);
	if (kd_read_virtual_all(s, va, b, (size_t)size) != KD_OK)
		return kd_fail(s, KD_EFAULT, "Unable to read %s at %s", path,
			       kd_fmt_addr(a, va));
	*v = kd_get_le64(b);
	return KD_OK;
}

int kd_ext__read(struct kd_session *s, uint64_t addr, const char *path,
		 uint64_t *v)
{
	struct kd_ext_field f;
	int rc;

	rc = kd_ext__field(s, path, &f);
	if (rc < 0)
		return rc;
	rc = read_scalar(s, addr + f.off, f.size, path, v);
	if (rc < 0)
		return rc;
	if (f.bit_len) {
		*v >>= f.bit_pos;
		if (f.bit_len < 64)
			*v &= (1ull << f.bit_len) - 1;
	}
	return KD_OK;
}

int kd_ext__read_elem(struct kd_session *s, uint64_t addr, const char *path,
		      uint64_t i, uint64_t *v)
{
	struct kd_ext_field f;
	int rc;

	rc = kd_ext__field(s, path, &f);
	if (rc < 0)
		return rc;
	if (f.elem_size == 0 || i >= f.size / f.elem_size)
		return kd_fail(s, KD_EINVAL, "%s has no element %llu", path,
			       (unsigned long long)i);
	return read_scalar(s, addr + f.off + i * f.elem_size, f.elem_size,
			   path, v);
}

int kd_ext__ustr(struct kd_session *s, uint64_t addr, char *out, size_t cap)
{
	uint64_t len = 0, buf = 0;
	uint8_t w[512];
	size_t i, n;
	int rc;

	out[0] = '\0';
	rc = kd_ext__read(s, addr, "_UNICODE_STRING.Length", &len);
	if (rc == KD_OK)
		rc = kd_ext__read(s, addr, "_UNICODE_STRING.Buffer", &buf);
	if (rc < 0)
		return rc;
	/* Length is in bytes; the text is cut to what @p cap holds. */
	n = (size_t)(len / 2);
	if (n > sizeof(w) / 2)
		n = sizeof(w) / 2;
	if (n >= cap)
		n = cap - 1;
	if (n && kd_read_virtual_all(s, buf, w, n * 2) != KD_OK) {
		char a[18];

		return kd_fail(s, KD_EFAULT,
			       "Unable to read the string at %s",
			       kd_fmt_addr(a, buf));
	}
	for (i = 0; i < n; i++) {
		unsigned c = w[2 * i] | (unsigned)w[2 * i + 1] << 8;

		out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[n] = '\0';
	return KD_OK;
}

int kd_ext__global(struct kd_session *s, const char *name, uint64_t *addr)
{
	char full[96];

	snprintf(full, sizeof(full), "nt!%s", name);
	if (kd_sym_lookup(s, full, addr) != KD_OK)
		return kd_fail(s, KD_ENOTFOUND, "%s not found in nt's symbols",
			       full);
	return KD_OK;
}
