/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the C++ expression evaluator (engine/src/expr/
 * cppexpr.c) over a fake backend: a fixed set of types (a structure
 * _NODE with a self pointer, a bit field, an array, an anonymous union,
 * an enum), symbols `node`, `nodep`, `x`, memory readable at
 * [0x1000, 0x11000), registers rax and $ip, and @@masm() reading a hex
 * number.
 *
 * The input: byte 0 says how many hostile type records follow (0..8, six
 * bytes each: leaf, ref (2), size, flags, bits), named T0..T7 and free to
 * loop (modifiers of modifiers, structures that contain themselves,
 * forward references to nothing); the rest is the expression.  After a
 * good evaluation the result's type is named, loaded and its members
 * walked.  Nothing may crash, hang or read outside the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kd/error.h>

#include "expr/cppexpr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_TEXT 4096
#define FZ_BASE 0x1000u
#define FZ_NFIXED 8
#define FZ_NHOSTILE 8
#define MEM_LO 0x1000u
#define MEM_HI 0x11000u

struct fz_field {
	const char *name;
	uint16_t leaf;
	uint32_t type;
	uint64_t offset;
	int64_t value;
};

struct fz_type {
	struct kd_pdb_type t;
	struct fz_field f[8];
	int nf;
};

static struct fz_type fz_types[FZ_NFIXED + FZ_NHOSTILE];
static int fz_ntypes;
static char fz_src; /* the fake type source's address */

static void fz_fixed(void)
{
	struct fz_type *n = &fz_types[0];

	memset(fz_types, 0, sizeof(fz_types));
	/* 0x1000 struct _NODE (0x30 bytes) */
	n->t.leaf = KD_LF_STRUCTURE;
	n->t.name = "_NODE";
	n->t.size = 0x30;
	n->f[0] = (struct fz_field){ "Next", KD_LF_MEMBER, 0x1001, 0, 0 };
	n->f[1] = (struct fz_field){ "Value", KD_LF_MEMBER, 0x75, 8, 0 };
	n->f[2] = (struct fz_field){ "Bits", KD_LF_MEMBER, 0x1002, 12, 0 };
	n->f[3] = (struct fz_field){ "Arr", KD_LF_MEMBER, 0x1003, 16, 0 };
	n->f[4] = (struct fz_field){ "", KD_LF_MEMBER, 0x1004, 32, 0 };
	n->f[5] = (struct fz_field){ "Kind", KD_LF_MEMBER, 0x1005, 40, 0 };
	n->f[6] = (struct fz_field){ "Cv", KD_LF_MEMBER, 0x1006, 44, 0 };
	n->nf = 7;
	/* 0x1001 _NODE * */
	fz_types[1].t.leaf = KD_LF_POINTER;
	fz_types[1].t.ref = 0x1000;
	fz_types[1].t.size = 8;
	/* 0x1002 unsigned int : 5 at bit 3 */
	fz_types[2].t.leaf = KD_LF_BITFIELD;
	fz_types[2].t.ref = 0x75;
	fz_types[2].t.bit_pos = 3;
	fz_types[2].t.bit_len = 5;
	/* 0x1003 unsigned short [8] */
	fz_types[3].t.leaf = KD_LF_ARRAY;
	fz_types[3].t.ref = 0x21;
	fz_types[3].t.size = 16;
	/* 0x1004 union <unnamed-tag> { Low; High; } */
	fz_types[4].t.leaf = KD_LF_UNION;
	fz_types[4].t.name = "<unnamed-tag>";
	fz_types[4].t.size = 8;
	fz_types[4].f[0] = (struct fz_field){ "Low", KD_LF_MEMBER, 0x75, 0, 0 };
	fz_types[4].f[1] = (struct fz_field){ "High", KD_LF_MEMBER, 0x75, 4,
					      0 };
	fz_types[4].nf = 2;
	/* 0x1005 enum _KIND : int { KindA, KindB = 5 } */
	fz_types[5].t.leaf = KD_LF_ENUM;
	fz_types[5].t.name = "_KIND";
	fz_types[5].t.ref = 0x74;
	fz_types[5].f[0] = (struct fz_field){ "KindA", KD_LF_ENUMERATE, 0, 0,
					      0 };
	fz_types[5].f[1] = (struct fz_field){ "KindB", KD_LF_ENUMERATE, 0, 0,
					      5 };
	fz_types[5].nf = 2;
	/* 0x1006 const char */
	fz_types[6].t.leaf = KD_LF_MODIFIER;
	fz_types[6].t.ref = 0x70;
	fz_types[6].t.props = 1;
	/* 0x1007 a forward reference to _NODE */
	fz_types[7].t.leaf = KD_LF_STRUCTURE;
	fz_types[7].t.name = "_NODE";
	fz_types[7].t.forward = true;
	fz_ntypes = FZ_NFIXED;
}

static const uint16_t fz_leaves[] = {
	KD_LF_MODIFIER,	 KD_LF_POINTER, KD_LF_ARRAY,	KD_LF_STRUCTURE,
	KD_LF_UNION,	 KD_LF_ENUM,	KD_LF_BITFIELD, KD_LF_ALIAS,
	KD_LF_PROCEDURE, 0x1234,
};

static const char *const fz_names[] = { "T0", "T1", "T2", "T3",
					"T4", "T5", "T6", "T7" };

/* A type index from two input bytes: a basic type or one of ours. */
static uint32_t fz_ref(uint8_t lo, uint8_t hi)
{
	if (hi & 0x80)
		return (uint32_t)lo | ((uint32_t)(hi & 0x0f) << 8);
	return FZ_BASE + (uint32_t)(lo % (FZ_NFIXED + FZ_NHOSTILE + 2));
}

static void fz_hostile(const uint8_t *p)
{
	struct fz_type *h = &fz_types[fz_ntypes];

	memset(h, 0, sizeof(*h));
	h->t.leaf =
		fz_leaves[p[0] % (sizeof(fz_leaves) / sizeof(fz_leaves[0]))];
	h->t.ref = fz_ref(p[1], p[2]);
	h->t.size = (uint64_t)p[3] << (p[4] & 7);
	h->t.forward = (p[4] & 0x80) != 0;
	h->t.bit_pos = p[5] & 0x7f;
	h->t.bit_len = (uint8_t)(p[5] >> 1);
	h->t.name = fz_names[fz_ntypes - FZ_NFIXED];
	/* Structures and unions contain their ref, maybe as an anonymous
	 * member (so a name lookup descends into it), and themselves. */
	h->f[0] = (struct fz_field){ (p[4] & 1) ? "" : "a", KD_LF_MEMBER,
				     h->t.ref, p[3], 0 };
	h->f[1] = (struct fz_field){ (p[4] & 2) ? "" : "b", KD_LF_MEMBER,
				     FZ_BASE + (uint32_t)fz_ntypes, p[5], 0 };
	h->f[2] = (struct fz_field){ "c",
				     (p[4] & 4) ? KD_LF_BCLASS :
						  KD_LF_ENUMERATE,
				     h->t.ref, 0, (int64_t)p[3] };
	h->nf = 3;
	fz_ntypes++;
}

static int fz_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	uint8_t *b = buf;
	size_t i;

	(void)ctx;
	if (addr < MEM_LO || addr >= MEM_HI || len > MEM_HI - addr)
		return KD_EFAULT;
	for (i = 0; i < len; i++)
		b[i] = (uint8_t)(((addr + i) * 31u) >> 3);
	return KD_OK;
}

static int fz_reg(void *ctx, const char *name, uint64_t *v, unsigned *size)
{
	(void)ctx;
	if (strcmp(name, "rax") == 0) {
		*v = MEM_LO;
		*size = 8;
		return KD_OK;
	}
	if (strcmp(name, "eax") == 0) {
		*v = MEM_LO;
		*size = 4;
		return KD_OK;
	}
	if (strcmp(name, "$ip") == 0) {
		*v = 0x2000;
		*size = 8;
		return KD_OK;
	}
	return KD_ENOTFOUND;
}

static int fz_symbol(void *ctx, const char *name, uint64_t *v, bool *is_value,
		     struct kd_cpp_type *t)
{
	(void)ctx;
	*is_value = false;
	t->src = &fz_src;
	t->nptr = 0;
	if (strcmp(name, "node") == 0 || strcmp(name, "m!node") == 0) {
		*v = MEM_LO;
		t->ti = 0x1000;
	} else if (strcmp(name, "nodep") == 0) {
		*v = MEM_LO + 0x100;
		t->ti = 0x1001;
	} else if (strcmp(name, "x") == 0) {
		*v = 5;
		*is_value = true;
		t->ti = 0x74;
	} else if (strcmp(name, "fn") == 0) {
		*v = 0x3000;
		t->src = NULL;
		t->ti = 0;
	} else if (strncmp(name, "g", 1) == 0 && name[1] >= '0' &&
		   name[1] <= '7' && name[2] == '\0') {
		*v = MEM_LO + 0x200;
		t->ti = FZ_BASE + FZ_NFIXED + (uint32_t)(name[1] - '0');
	} else {
		return KD_ENOTFOUND;
	}
	return KD_OK;
}

static int fz_type_named(void *ctx, const char *name, struct kd_cpp_type *t)
{
	int i;

	(void)ctx;
	t->src = &fz_src;
	t->nptr = 0;
	if (strcmp(name, "_NODE") == 0 || strcmp(name, "m!_NODE") == 0) {
		t->ti = 0x1000;
		return KD_OK;
	}
	if (strcmp(name, "_KIND") == 0) {
		t->ti = 0x1005;
		return KD_OK;
	}
	if (strcmp(name, "_FWD") == 0) {
		t->ti = 0x1007;
		return KD_OK;
	}
	for (i = 0; i < fz_ntypes - FZ_NFIXED; i++) {
		if (strcmp(name, fz_names[i]) == 0) {
			t->ti = FZ_BASE + FZ_NFIXED + (uint32_t)i;
			return KD_OK;
		}
	}
	return KD_ENOTFOUND;
}

static const struct fz_type *fz_get(void *src, uint32_t ti)
{
	if (src != &fz_src || ti < FZ_BASE ||
	    ti - FZ_BASE >= (uint32_t)fz_ntypes)
		return NULL;
	return &fz_types[ti - FZ_BASE];
}

static int fz_type_get(void *ctx, void *src, uint32_t ti,
		       struct kd_pdb_type *out)
{
	const struct fz_type *t = fz_get(src, ti);

	(void)ctx;
	if (!t)
		return KD_EINVAL;
	*out = t->t;
	out->ti = ti;
	if (!out->name)
		out->name = "";
	out->unique_name = "";
	return KD_OK;
}

static int fz_type_resolve(void *ctx, void *src, uint32_t ti, uint32_t *full)
{
	const struct fz_type *t = fz_get(src, ti);

	(void)ctx;
	if (!t)
		return KD_EINVAL;
	if (ti == 0x1007) {
		*full = 0x1000;
		return KD_OK;
	}
	/* A hostile forward reference resolves to the next record. */
	*full = ti + 1;
	return fz_get(src, *full) ? KD_OK : KD_ENOTFOUND;
}

static int fz_type_fields(void *ctx, void *src, uint32_t ti,
			  int (*cb)(void *, const struct kd_pdb_field *),
			  void *cbctx)
{
	const struct fz_type *t = fz_get(src, ti);
	struct kd_pdb_field f;
	int i, rc;

	(void)ctx;
	if (!t)
		return KD_EINVAL;
	for (i = 0; i < t->nf; i++) {
		memset(&f, 0, sizeof(f));
		f.leaf = t->f[i].leaf;
		f.name = t->f[i].name;
		f.type = t->f[i].type;
		f.offset = t->f[i].offset;
		f.value = t->f[i].value;
		rc = cb(cbctx, &f);
		if (rc)
			return rc;
	}
	return KD_OK;
}

static int fz_masm(void *ctx, const char *text, const char **end, uint64_t *v)
{
	char *e = NULL;

	(void)ctx;
	*v = strtoull(text, &e, 16);
	*end = e;
	return e == text ? KD_EINVAL : KD_OK;
}

static int fz_member_cb(void *ctx, const struct kd_cpp_member *m)
{
	const struct kd_cpp_ops *ops = ctx;
	char name[256];

	kd_cpp__type_name(ops, m->type, true, name, sizeof(name));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[FZ_MAX_TEXT + 1];
	struct kd_cpp_ops ops;
	struct kd_cpp_value v;
	struct kd_cpp_error err;
	struct kd_cpp_tinfo ti;
	const char *end = NULL;
	char name[512];
	uint64_t x;
	size_t n = 0, i, len;

	fz_fixed();
	if (size > 0) {
		n = data[0] % (FZ_NHOSTILE + 1);
		data++;
		size--;
	}
	for (i = 0; i < n && size >= 6; i++) {
		fz_hostile(data);
		data += 6;
		size -= 6;
	}
	len = size < FZ_MAX_TEXT ? size : FZ_MAX_TEXT;
	memcpy(text, data, len);
	text[len] = '\0';

	memset(&ops, 0, sizeof(ops));
	ops.ptr_size = 8;
	ops.dot_derefs = (len & 1) != 0;
	ops.read = fz_read;
	ops.reg = fz_reg;
	ops.symbol = fz_symbol;
	ops.type_named = fz_type_named;
	ops.type_get = fz_type_get;
	ops.type_resolve = fz_type_resolve;
	ops.type_fields = fz_type_fields;
	ops.masm = fz_masm;

	if (kd_cpp__eval(&ops, text, &end, &v, &err) != KD_OK) {
		/* The error points into the text and has one line. */
		if (err.at && (err.at < text || err.at > text + len))
			abort();
		if (strchr(err.msg, '\n'))
			abort();
		return 0;
	}
	if (!end || end < text || end > text + len)
		abort();
	kd_cpp__type_name(&ops, v.type, true, name, sizeof(name));
	if (strlen(name) >= sizeof(name))
		abort();
	(void)kd_cpp__load(&ops, &v, &x);
	if (kd_cpp__tinfo(&ops, v.type, &ti) == KD_OK) {
		if (ti.kind == KD_CPP_UDT)
			(void)kd_cpp__members(&ops, v.type, fz_member_cb, &ops);
		if (ti.kind == KD_CPP_PTR)
			(void)kd_cpp__members(&ops, ti.inner, fz_member_cb,
					      &ops);
		if (ti.kind == KD_CPP_ENUM)
			(void)kd_cpp__enum_name(&ops, v.type, v.v);
	}
	return 0;
}
