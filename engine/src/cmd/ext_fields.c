/* SPDX-License-Identifier: MIT */
/*
 * The field answers of cmd/ext.h, through the kernel-object layer
 * (cmd/kobj.h): it looks nt's types and member paths up in the PDB and
 * reads them.  This file only splits a "_TYPE.Member" path, prints the
 * line kobj leaves when something is missing, and adds what kobj.h does
 * not offer: an array member's element size (from sym/types.h) and
 * element reads.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/ext.h"
#include "cmd/kobj.h"
#include "sym/types.h"

#define EXT_TYPE_MAX 96

/* "_TYPE.Member.Sub" into the type and the member path. */
static int split(struct kd_session *s, const char *path, char *type,
		 const char **member, bool quiet)
{
	const char *dot = strchr(path, '.');

	if (!dot || dot == path || (size_t)(dot - path) >= EXT_TYPE_MAX ||
	    !dot[1])
		return quiet ? KD_EINVAL :
			       kd_fail(s, KD_EINVAL, "%s: not _TYPE.Field",
				       path);
	memcpy(type, path, (size_t)(dot - path));
	type[dot - path] = '\0';
	*member = dot + 1;
	return KD_OK;
}

static int open_nt(struct kd_kobj *k, struct kd_session *s)
{
	int rc = kd_kobj__open(k, s);

	if (rc < 0)
		return kd_fail(s, rc, "%s", k->err);
	return KD_OK;
}

static int fail_kobj(struct kd_kobj *k, int rc)
{
	return kd_fail(k->s, rc < 0 ? rc : KD_ERROR, "%s",
		       k->err[0] ? k->err : "failed");
}

int kd_ext__field(struct kd_session *s, const char *path,
		  struct kd_ext_field *f)
{
	char type[EXT_TYPE_MAX];
	struct kd_kobj_field kf;
	struct kd_type_info ti, ei;
	const char *member = "";
	struct kd_kobj k;
	int rc;

	memset(f, 0, sizeof(*f));
	rc = split(s, path, type, &member, false);
	if (rc == KD_OK)
		rc = open_nt(&k, s);
	if (rc < 0)
		return rc;
	rc = kd_kobj__field(&k, type, member, &kf);
	if (rc < 0)
		return fail_kobj(&k, rc);
	f->off = kf.offset;
	f->size = f->elem_size = kf.size;
	f->type = kf.type;
	f->pdb = k.pdb;
	/* An array's element size: kobj.h gives the whole member. */
	if (kd_sym__type_info(k.pdb, kf.type, &ti) == KD_OK &&
	    ti.kind == KD_TYPE_ARRAY && ti.ref &&
	    kd_sym__type_info(k.pdb, ti.ref, &ei) == KD_OK && ei.size)
		f->elem_size = ei.size;
	kd_error_clear();
	return KD_OK;
}

bool kd_ext__has(struct kd_session *s, const char *path)
{
	char type[EXT_TYPE_MAX];
	const char *member;
	struct kd_kobj k;

	if (split(s, path, type, &member, true) != KD_OK ||
	    kd_kobj__open(&k, s) != KD_OK)
		return false;
	return kd_kobj__has(&k, type, member);
}

int kd_ext__sizeof(struct kd_session *s, const char *type, uint64_t *size)
{
	struct kd_kobj k;
	int rc = open_nt(&k, s);

	if (rc < 0)
		return rc;
	rc = kd_kobj__type_size(&k, type, size);
	return rc < 0 ? fail_kobj(&k, rc) : KD_OK;
}

int kd_ext__read(struct kd_session *s, uint64_t addr, const char *path,
		 uint64_t *v)
{
	char type[EXT_TYPE_MAX];
	const char *member = "";
	struct kd_kobj k;
	int rc;

	rc = split(s, path, type, &member, false);
	if (rc == KD_OK)
		rc = open_nt(&k, s);
	if (rc < 0)
		return rc;
	rc = kd_kobj__read(&k, addr, type, member, v);
	return rc < 0 ? fail_kobj(&k, rc) : KD_OK;
}

int kd_ext__read_elem(struct kd_session *s, uint64_t addr, const char *path,
		      uint64_t i, uint64_t *v)
{
	char elem[EXT_TYPE_MAX + 64];
	struct kd_ext_field f;
	int rc;

	rc = kd_ext__field(s, path, &f);
	if (rc < 0)
		return rc;
	if (f.elem_size == 0 || i >= f.size / f.elem_size)
		return kd_fail(s, KD_EINVAL, "%s has no element %llu", path,
			       (unsigned long long)i);
	/* kobj reads "Array[i]" as the type layer indexes it. */
	snprintf(elem, sizeof(elem), "%s[%llu]", path, (unsigned long long)i);
	return kd_ext__read(s, addr, elem, v);
}

int kd_ext__ustr(struct kd_session *s, uint64_t addr, char *out, size_t cap)
{
	struct kd_kobj k;
	int rc = open_nt(&k, s);

	if (rc < 0)
		return rc;
	rc = kd_kobj__read_ustr(&k, addr, NULL, NULL, out, cap);
	return rc < 0 ? fail_kobj(&k, rc) : KD_OK;
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
