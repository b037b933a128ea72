/* SPDX-License-Identifier: MIT */
/*
 * Kernel objects through nt's PDB types (kobj.h): field offsets by name
 * and bounded typed reads of target memory.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <kd/error.h>
#include <kd/proto/wire.h>

#include "cmd/kobj.h"
#include "sym/types.h"

static int kobj_err(struct kd_kobj *k, int rc, const char *fmt, ...)
	KD_PRINTF(3, 4);

static int kobj_err(struct kd_kobj *k, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(k->err, sizeof(k->err), fmt, ap);
	va_end(ap);
	return rc;
}

int kd_kobj__open(struct kd_kobj *k, struct kd_session *s)
{
	struct kd_type t;

	memset(k, 0, sizeof(*k));
	k->s = s;
	/* Any structure of nt's types names its PDB. */
	if (kd_sym__type_lookup(s, "nt!_LIST_ENTRY", &t) != KD_OK || !t.pdb) {
		kd_error_clear();
		return kobj_err(k, KD_ENOTFOUND,
				"no type information for nt (its PDB is not "
				"loaded)");
	}
	k->pdb = t.pdb;
	return KD_OK;
}

static int type_of(struct kd_kobj *k, const char *type, uint32_t *ti)
{
	char name[128];
	struct kd_type t;

	snprintf(name, sizeof(name), "nt!%s", type);
	if (kd_sym__type_lookup(k->s, name, &t) != KD_OK || t.pdb != k->pdb) {
		kd_error_clear();
		return kobj_err(k, KD_ENOTFOUND, "%s not found in nt's types",
				type);
	}
	*ti = t.ti;
	return KD_OK;
}

int kd_kobj__type_size(struct kd_kobj *k, const char *type, uint64_t *size)
{
	uint32_t ti = 0;
	int rc = type_of(k, type, &ti);

	if (rc == KD_OK && kd_sym__type_size(k->pdb, ti, size) != KD_OK) {
		kd_error_clear();
		return kobj_err(k, KD_EPROTO, "%s: size unknown in nt's types",
				type);
	}
	return rc;
}

int kd_kobj__field(struct kd_kobj *k, const char *type, const char *path,
		   struct kd_kobj_field *out)
{
	struct kd_type_member m;
	struct kd_type_info ti_info;
	uint32_t ti = 0;

	/* The type or the member: either way the line names both. */
	if (type_of(k, type, &ti) < 0 ||
	    kd_sym__type_field(k->pdb, ti, path, &m) != KD_OK) {
		kd_error_clear();
		return kobj_err(k, KD_ENOTFOUND,
				"%s.%s not found in nt's types", type, path);
	}
	out->offset = m.offset;
	out->type = m.type;
	out->is_bitfield = m.is_bitfield;
	if (kd_sym__type_info(k->pdb, m.type, &ti_info) != KD_OK) {
		kd_error_clear();
		return kobj_err(k, KD_EPROTO, "%s.%s: undecodable type", type,
				path);
	}
	out->size = ti_info.size;
	if (ti_info.kind == KD_TYPE_BITFIELD &&
	    kd_sym__type_size(k->pdb, ti_info.ref, &out->size) != KD_OK) {
		kd_error_clear();
		return kobj_err(k, KD_EPROTO, "%s.%s: undecodable bitfield",
				type, path);
	}
	return KD_OK;
}

bool kd_kobj__has(struct kd_kobj *k, const char *type, const char *path)
{
	struct kd_kobj_field f;

	if (kd_kobj__field(k, type, path, &f) == KD_OK)
		return true;
	k->err[0] = '\0';
	return false;
}

static int read_mem(struct kd_kobj *k, uint64_t at, void *buf, size_t len,
		    const char *type, const char *path)
{
	char a[18];

	if (kd_read_virtual_all(k->s, at, buf, len) == KD_OK)
		return KD_OK;
	return kobj_err(k, KD_EFAULT, "cannot read %s.%s at %s", type, path,
			kd_fmt_addr(a, at));
}

int kd_kobj__read(struct kd_kobj *k, uint64_t addr, const char *type,
		  const char *path, uint64_t *v)
{
	struct kd_kobj_field f = { 0 };
	uint8_t b[8];
	int rc = kd_kobj__field(k, type, path, &f);

	if (rc < 0)
		return rc;
	if (f.size == 0 || f.size > sizeof(b))
		return kobj_err(k, KD_EINVAL, "%s.%s is no integer or pointer",
				type, path);
	rc = read_mem(k, addr + f.offset, b, (size_t)f.size, type, path);
	if (rc < 0)
		return rc;
	if (kd_sym__type_read_int(k->pdb, f.type, b, (size_t)f.size, v) !=
	    KD_OK) {
		kd_error_clear();
		return kobj_err(k, KD_EINVAL, "%s.%s is no integer or pointer",
				type, path);
	}
	return KD_OK;
}

int kd_kobj__read_bytes(struct kd_kobj *k, uint64_t addr, const char *type,
			const char *path, void *buf, size_t cap, size_t *len)
{
	struct kd_kobj_field f = { 0 };
	int rc = kd_kobj__field(k, type, path, &f);

	if (rc < 0)
		return rc;
	*len = f.size < cap ? (size_t)f.size : cap;
	return read_mem(k, addr + f.offset, buf, *len, type, path);
}

int kd_kobj__read_ustr(struct kd_kobj *k, uint64_t addr, const char *type,
		       const char *path, char *buf, size_t cap)
{
	uint8_t w[2 * KD_KOBJ_MAX_USTR];
	uint64_t len = 0, ptr = 0;
	struct kd_kobj_field f = { 0 };
	size_t n, i;
	int rc;

	if (cap == 0)
		return KD_EINVAL;
	buf[0] = '\0';
	if (path) {
		rc = kd_kobj__field(k, type, path, &f);
		if (rc < 0)
			return rc;
		addr += f.offset;
	}
	rc = kd_kobj__read(k, addr, "_UNICODE_STRING", "Length", &len);
	if (rc == KD_OK)
		rc = kd_kobj__read(k, addr, "_UNICODE_STRING", "Buffer", &ptr);
	if (rc < 0)
		return rc;
	n = (size_t)(len / 2);
	if (n > KD_KOBJ_MAX_USTR)
		n = KD_KOBJ_MAX_USTR;
	if (n > cap - 1)
		n = cap - 1;
	if (n && read_mem(k, ptr, w, n * 2, "_UNICODE_STRING", "Buffer") < 0)
		return KD_EFAULT;
	for (i = 0; i < n; i++) {
		uint16_t c = kd_get_le16(w + i * 2);

		buf[i] = (char)(c >= 0x20 && c < 0x7f ? c : '?');
	}
	buf[n] = '\0';
	return KD_OK;
}

int kd_kobj__list_walk(struct kd_kobj *k, uint64_t head, const char *type,
		       const char *link, int (*cb)(void *ctx, uint64_t record),
		       void *ctx)
{
	struct kd_kobj_field lf = { 0 };
	uint64_t cur = head, tortoise, power = 1, lam = 0, n = 0;
	char a[18];
	int rc = kd_kobj__field(k, type, link, &lf);

	if (rc == KD_OK)
		rc = kd_kobj__read(k, head, "_LIST_ENTRY", "Flink", &cur);
	if (rc < 0)
		return rc;
	tortoise = head;
	/* Brent's cycle detection: a loop that never comes back to the
	 * head is found within twice its length. */
	while (cur != head) {
		if (cur == 0)
			return kobj_err(k, KD_EPROTO,
					"list at %s: a zero Flink",
					kd_fmt_addr(a, head));
		if (++n > KD_KOBJ_MAX_LIST)
			return kobj_err(k, KD_EPROTO,
					"list at %s: more than %u entries",
					kd_fmt_addr(a, head), KD_KOBJ_MAX_LIST);
		rc = cb(ctx, cur - lf.offset);
		if (rc)
			return rc;
		if (k->s->interrupt)
			return kobj_err(k, KD_ERROR, "interrupted");
		rc = kd_kobj__read(k, cur, "_LIST_ENTRY", "Flink", &cur);
		if (rc < 0)
			return rc;
		if (cur == tortoise && cur != head)
			return kobj_err(k, KD_EPROTO,
					"list at %s loops without coming "
					"back to its head",
					kd_fmt_addr(a, head));
		if (++lam == power) {
			tortoise = cur;
			power *= 2;
			lam = 0;
		}
	}
	return KD_OK;
}

int kd_kobj__fail(struct kd_kobj *k, const char *cmd, int rc)
{
	return kd_fail(k->s, rc < 0 ? rc : KD_ERROR, "%s: %s", cmd,
		       k->err[0] ? k->err : "failed");
}
