/* SPDX-License-Identifier: MIT */
/*
 * The field answers of cmd/ext.h, from the PDB of the target's kernel.
 *
 * Built on the type layer (sym/types.h): it finds the type and walks
 * the member path; this file only reads the bytes.  Issue 16 plans a
 * field-access helper (cmd/kobj.h, branch r-kobj); when it lands these
 * functions become calls into it.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/ext.h"
#include "sym/sym_int.h"
#include "sym/types.h"

/*
 * nt's type @p name ("_KPCR").  @p quiet: no line when missing (a probe);
 * else one naming what is missing: nt's PDB, or the type in it.
 */
static int nt_type(struct kd_session *s, const char *name, bool quiet,
		   struct kd_type *t)
{
	char full[128];
	struct kd_module *m;

	kd_modules_load(s);
	m = kd_module_by_name(s, "nt");
	if (!m || !kd_sym__pdb(s, m)) {
		if (quiet)
			return KD_ENOTFOUND;
		return kd_fail(s, KD_ENOTFOUND,
			       "nt has no PDB loaded: the kernel extensions "
			       "need nt's types (.sympath, .reload /f nt)");
	}
	snprintf(full, sizeof(full), "nt!%s", name);
	if (kd_sym__type_lookup(s, full, t) != KD_OK) {
		if (quiet)
			return KD_ENOTFOUND;
		return kd_fail(s, KD_ENOTFOUND, "%s not found in nt's types",
			       name);
	}
	return KD_OK;
}

static int find_field(struct kd_session *s, const char *path,
		      struct kd_ext_field *f, bool quiet)
{
	const char *dot = strchr(path, '.');
	struct kd_type_member m;
	struct kd_type_info ti, ei;
	struct kd_type t;
	char type[96];
	int rc;

	memset(f, 0, sizeof(*f));
	if (!dot || dot == path || (size_t)(dot - path) >= sizeof(type))
		return quiet ? KD_EINVAL :
			       kd_fail(s, KD_EINVAL, "%s: not _TYPE.Field",
				       path);
	memcpy(type, path, (size_t)(dot - path));
	type[dot - path] = '\0';
	rc = nt_type(s, type, quiet, &t);
	if (rc < 0)
		return rc;
	if (kd_sym__type_field(t.pdb, t.ti, dot + 1, &m) != KD_OK ||
	    kd_sym__type_info(t.pdb, m.type, &ti) != KD_OK)
		return quiet ? KD_ENOTFOUND :
			       kd_fail(s, KD_ENOTFOUND,
				       "%s not found in nt's types", path);
	f->off = m.offset;
	f->size = f->elem_size = ti.size;
	f->type = m.type;
	f->pdb = t.pdb;
	if (m.is_bitfield) {
		f->bit_pos = m.bit_pos;
		f->bit_len = m.bit_len;
	}
	if (ti.kind == KD_TYPE_ARRAY && ti.ref &&
	    kd_sym__type_info(t.pdb, ti.ref, &ei) == KD_OK && ei.size)
		f->elem_size = ei.size;
	return KD_OK;
}

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
	struct kd_type t;
	int rc;

	rc = nt_type(s, type, false, &t);
	if (rc < 0)
		return rc;
	if (kd_sym__type_size(t.pdb, t.ti, size) != KD_OK)
		return kd_fail(s, KD_EPROTO, "sizeof %s: damaged type record",
			       type);
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
	return read_scalar(s, addr + f.off + i * f.elem_size, f.elem_size, path,
			   v);
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

		return kd_fail(s, KD_EFAULT, "Unable to read the string at %s",
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
