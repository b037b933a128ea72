/* SPDX-License-Identifier: MIT */
/*
 * The call site of a `kp` / `kP` frame: the PDB procedure's parameters
 * with their types and, where the frame allows, their values.  A value is
 * shown only when the PDB says where it lives at that pc (an
 * S_DEFRANGE_REGISTER covering it, or an S_REGREL32 slot off the stack
 * pointer); otherwise `<value unavailable>`, as WinDbg prints, never a
 * guess.  Registers are only known for frame 0: the unwinder does not
 * recover non-volatile registers of outer frames.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd_sym.h"
#include "arch/arch.h"
#include "sym/sym_int.h"

#define KP_MAX_PARAMS 32
#define KP_TYPE_DEPTH 8

/* CodeView AMD64 register numbers (cvconst.h CV_AMD64_*, CV_REG_*). */
#define CV_AMD64_RSP 335

static const struct {
	uint16_t cv;
	const char *name;
} cv_regs[] = {
	{ 17, "eax" },	 { 18, "ecx" },	  { 19, "edx" },   { 20, "ebx" },
	{ 21, "esp" },	 { 22, "ebp" },	  { 23, "esi" },   { 24, "edi" },
	{ 328, "rax" },	 { 329, "rbx" },  { 330, "rcx" },  { 331, "rdx" },
	{ 332, "rsi" },	 { 333, "rdi" },  { 334, "rbp" },  { 335, "rsp" },
	{ 336, "r8" },	 { 337, "r9" },	  { 338, "r10" },  { 339, "r11" },
	{ 340, "r12" },	 { 341, "r13" },  { 342, "r14" },  { 343, "r15" },
	{ 360, "r8d" },	 { 361, "r9d" },  { 362, "r10d" }, { 363, "r11d" },
	{ 364, "r12d" }, { 365, "r13d" }, { 366, "r14d" }, { 367, "r15d" },
};

struct kp_param {
	const char *name;
	uint32_t type;
	uint16_t kind;
	bool has_reg;
	uint16_t reg;
	int32_t offset;
};

struct kp_list {
	struct kp_param p[KP_MAX_PARAMS];
	size_t n;
	uint32_t nargs; /* parameters the procedure's type lists */
};

static int kp_local_cb(void *ctx, const struct kd_pdb_local *l)
{
	struct kp_list *list = ctx;
	struct kp_param *p;

	/* S_REGREL32 carries no param flag: clang-cl and MSVC put the
	 * parameters first, before any S_BLOCK32, as S_LOCAL does. */
	if (l->depth != 0 || list->n >= KP_MAX_PARAMS)
		return 0;
	if (l->kind == 0x113e && !l->is_param)
		return 0;
	if (l->kind != 0x113e && list->n >= list->nargs)
		return 0;
	p = &list->p[list->n++];
	p->name = l->name;
	p->type = l->type;
	p->kind = l->kind;
	p->has_reg = l->kind == 0x113e ? l->has_live_reg : true;
	p->reg = l->kind == 0x113e ? l->live_reg : l->reg;
	p->offset = l->offset;
	return 0;
}

/* WinDbg's C spelling of type @p ti ("unsigned __int64 *"), bounded. */
static void type_name(struct kd_pdb *pdb, uint32_t ti, char *buf, size_t cap,
		      unsigned depth)
{
	struct kd_pdb_type t;
	size_t n;

	if (depth > KP_TYPE_DEPTH || kd_pdb_type_get(pdb, ti, &t) != KD_OK) {
		snprintf(buf, cap, "<type 0x%x>", ti);
		return;
	}
	switch (t.leaf) {
	case KD_LF_POINTER:
		type_name(pdb, t.ref, buf, cap, depth + 1);
		n = strlen(buf);
		snprintf(buf + n, cap - n, " *");
		return;
	case KD_LF_MODIFIER:
		n = (size_t)snprintf(buf, cap, "%s",
				     (t.props & 1) ? "const " : "");
		if (n < cap)
			type_name(pdb, t.ref, buf + n, cap - n, depth + 1);
		return;
	case KD_LF_PROCEDURE:
	case KD_LF_MFUNCTION:
		snprintf(buf, cap, "<function>");
		return;
	case KD_LF_STRUCTURE:
		snprintf(buf, cap, "struct %s", t.name);
		return;
	case KD_LF_CLASS:
		snprintf(buf, cap, "class %s", t.name);
		return;
	case KD_LF_UNION:
		snprintf(buf, cap, "union %s", t.name);
		return;
	case KD_LF_ENUM:
		snprintf(buf, cap, "enum %s", t.name);
		return;
	default:
		snprintf(buf, cap, "%s", t.name && *t.name ? t.name : "<type>");
	}
}

/* Size in bytes of type @p ti; 0 when unknown.  Bounded: a hostile PDB
 * may chain modifiers into a loop. */
static uint64_t type_size(struct kd_pdb *pdb, uint32_t ti, unsigned depth)
{
	struct kd_pdb_type t;
	uint32_t full;

	if (depth > KP_TYPE_DEPTH || kd_pdb_type_get(pdb, ti, &t) != KD_OK)
		return 0;
	/* Modifiers and enums take the size of what they are built on. */
	if (t.leaf == KD_LF_MODIFIER || t.leaf == KD_LF_ENUM)
		return type_size(pdb, t.ref, depth + 1);
	if (t.forward && kd_pdb_type_resolve(pdb, ti, &full) == KD_OK &&
	    kd_pdb_type_get(pdb, full, &t) != KD_OK)
		return 0;
	return t.size;
}

static const char *cv_reg_name(uint16_t cv)
{
	size_t i;

	for (i = 0; i < sizeof(cv_regs) / sizeof(cv_regs[0]); i++)
		if (cv_regs[i].cv == cv)
			return cv_regs[i].name;
	return NULL;
}

/* Register @p cv of the current processor (frame 0 only). */
static bool reg_value(struct kd_session *s, uint16_t cv, uint64_t *v)
{
	const struct kd_arch_reg *r;
	const char *name = cv_reg_name(cv);
	bool was = s->scope.unwinding, ok;

	if (!name)
		return false;
	r = kd_arch_reg_find(kd_arch(s), name, strlen(name), 0);
	/* Frame 0's registers even after .frame n picked another frame. */
	s->scope.unwinding = true;
	ok = r && kd_arch_reg_read(s, s->tgt.cpu, r, v) == KD_OK;
	s->scope.unwinding = was;
	return ok;
}

/* " = value" text of @p p in frame @p fi (stack pointer @p sp). */
static void param_value(struct kd_session *s, struct kd_pdb *pdb,
			const struct kp_param *p, size_t fi, uint64_t sp,
			char *buf, size_t cap)
{
	uint64_t size = type_size(pdb, p->type, 0), v = 0, base, i;
	struct kd_pdb_type t;
	char a[18];
	uint8_t raw[8];

	if (size == 0 || size > 8 || !p->has_reg) {
		snprintf(buf, cap, "<value unavailable>");
		return;
	}
	if (p->kind == 0x113e) {
		if (fi != 0 || !reg_value(s, p->reg, &v)) {
			snprintf(buf, cap, "<value unavailable>");
			return;
		}
	} else {
		/* S_REGREL32 / S_BPREL32: a slot off a base register; the
		 * stack pointer is known for every frame. */
		if (p->kind == 0x1111 && p->reg == CV_AMD64_RSP)
			base = sp;
		else if (p->kind != 0x1111 || fi != 0 ||
			 !reg_value(s, p->reg, &base)) {
			snprintf(buf, cap, "<value unavailable>");
			return;
		}
		if (kd_read_virtual_all(s, base + (uint64_t)(int64_t)p->offset,
					raw, (size_t)size) != KD_OK) {
			snprintf(buf, cap, "<memory read error>");
			return;
		}
		for (i = 0; i < size; i++)
			v |= (uint64_t)raw[i] << (8 * i);
	}
	if (size < 8)
		v &= (1ull << (size * 8)) - 1;
	if (kd_pdb_type_get(pdb, p->type, &t) == KD_OK &&
	    t.leaf == KD_LF_POINTER && size == 8)
		snprintf(buf, cap, "0x%s", kd_fmt_ptr(s, a, v));
	else
		snprintf(buf, cap, "0x%llx", (unsigned long long)v);
}

/* Parameter count of the procedure at @p rva from its type (0 unknown). */
static uint32_t proc_nargs(struct kd_pdb *pdb, uint32_t rva)
{
	struct kd_pdb_sym sym;
	struct kd_pdb_type t;
	uint32_t disp, ti, count = 0, one;

	if (kd_pdb_addr_to_sym(pdb, rva, &sym, &disp) != KD_OK ||
	    sym.kind != KD_PDB_SYM_PROC)
		return 0;
	ti = sym.type;
	/* *_ID procedures name an IPI LF_FUNC_ID; its ref is the type. */
	if (kd_pdb_id_get(pdb, ti, &t) == KD_OK &&
	    (t.leaf == KD_LF_FUNC_ID || t.leaf == KD_LF_MFUNC_ID))
		ti = t.ref;
	if (kd_pdb_type_args(pdb, ti, &one, 1, &count) != KD_OK)
		return 0;
	return count;
}

int kd_cmd__kp_site(struct kd_session *s, const struct kd_frame *f, size_t fi,
		    bool one_per_line, char *buf, size_t cap)
{
	struct kd_module *m = kd_module_by_addr(s, f->ip);
	struct kd_pdb *pdb;
	struct kp_list list;
	const char *pname;
	uint64_t paddr;
	size_t n, i;

	if (!m || kd_sym__pdb_addr(s, m, f->ip, &pname, &paddr) != KD_OK)
		return KD_ENOTFOUND;
	pdb = kd_sym__pdb(s, m);
	if (!pdb)
		return KD_ENOTFOUND;
	list.n = 0;
	list.nargs = proc_nargs(pdb, (uint32_t)(f->ip - m->base));
	/* Publics carry no parameters: only a procedure gets a list. */
	if (kd_pdb_proc_locals(pdb, (uint32_t)(f->ip - m->base), kp_local_cb,
			       &list) != KD_OK)
		return KD_ENOTFOUND;
	n = (size_t)snprintf(buf, cap, "%s!%s(", m->name, pname);
	if (list.n == 0 && n < cap)
		n += (size_t)snprintf(buf + n, cap - n, "void");
	for (i = 0; i < list.n && n < cap; i++) {
		char ty[128], val[48];

		type_name(pdb, list.p[i].type, ty, sizeof(ty), 0);
		param_value(s, pdb, &list.p[i], fi, f->sp, val, sizeof(val));
		n += (size_t)snprintf(buf + n, cap - n, "%s%s %s = %s",
				      one_per_line ? "\n\t" : "", ty,
				      list.p[i].name, val);
		if (i + 1 < list.n && n < cap)
			n += (size_t)snprintf(buf + n, cap - n, ", ");
	}
	if (n < cap)
		n += (size_t)snprintf(buf + n, cap - n, ")");
	if (f->ip != paddr && n < cap)
		snprintf(buf + n, cap - n, "+0x%llx",
			 (unsigned long long)(f->ip - paddr));
	return KD_OK;
}

/* ---- dv ---- */

#define DV_MAX 64

struct dv_var {
	const char *name;
	uint32_t type;
	uint16_t kind;
	bool is_param;
	bool has_reg;
	uint16_t reg;
	int32_t offset;
};

struct dv_list {
	struct dv_var v[DV_MAX];
	size_t n;
	uint32_t nargs;
	uint32_t regrels; /* S_REGREL32 records seen (parameters first) */
};

static int dv_local_cb(void *ctx, const struct kd_pdb_local *l)
{
	struct dv_list *list = ctx;
	struct dv_var *v;

	if (list->n >= DV_MAX)
		return 0;
	v = &list->v[list->n++];
	v->name = l->name;
	v->type = l->type;
	v->kind = l->kind;
	if (l->kind == 0x113e) {
		v->is_param = l->is_param;
		v->has_reg = l->has_live_reg;
		v->reg = l->live_reg;
	} else {
		/* S_REGREL32 has no param flag: the procedure's first
		 * nargs records at its own scope are its parameters. */
		v->is_param = l->depth == 0 && list->regrels < list->nargs;
		if (l->depth == 0)
			list->regrels++;
		v->has_reg = true;
		v->reg = l->reg;
	}
	v->offset = l->offset;
	return 0;
}

/* The x64 encoding index (rax 0 .. r15 15) of CodeView register @p cv;
 * *@p bits its width.  -1 for another register. */
static int cv_index(uint16_t cv, unsigned *bits)
{
	static const int8_t amd64[] = { 0, 3, 1, 2, 6, 7, 5, 4 };

	*bits = 64;
	if (cv >= 17 && cv <= 24) { /* eax .. edi */
		*bits = 32;
		return cv - 17;
	}
	if (cv >= 328 && cv <= 335)
		return amd64[cv - 328];
	if (cv >= 336 && cv <= 343)
		return 8 + (cv - 336);
	if (cv >= 360 && cv <= 367) { /* r8d .. r15d */
		*bits = 32;
		return 8 + (cv - 360);
	}
	return -1;
}

/*
 * Register @p cv in frame @p fi: frame 0 has every register; an outer
 * frame only the non-volatile ones the unwinder restored (rbx, rbp, rsi,
 * rdi, r12-r15, rsp).  False when it is not known there.
 */
static bool frame_reg(const struct kd_frame *f, size_t fi, uint16_t cv,
		      uint64_t *v)
{
	unsigned bits;
	int i = cv_index(cv, &bits);

	if (i < 0 || !f->have_regs)
		return false;
	if (fi != 0 && (i <= 2 || (i >= 8 && i <= 11)))
		return false; /* rax, rcx, rdx, r8-r11: volatile */
	*v = i == 4 ? f->sp : f->regs[i];
	if (bits == 32)
		*v &= 0xffffffffu;
	return true;
}

/* Is basic type @p ti (below 0x1000, no pointer mode) signed? */
static bool basic_signed(uint32_t ti)
{
	switch (ti) {
	case 0x10: /* T_CHAR */
	case 0x11: /* T_SHORT */
	case 0x12: /* T_LONG */
	case 0x13: /* T_QUAD */
	case 0x68: /* T_INT1 */
	case 0x70: /* T_RCHAR */
	case 0x72: /* T_INT2 */
	case 0x74: /* T_INT4 */
	case 0x76: /* T_INT8 */
		return true;
	default:
		return false;
	}
}

/* Where @p v lives in frame @p f (for /v) and its value text. */
static void dv_value(struct kd_session *s, struct kd_pdb *pdb,
		     const struct dv_var *v, const struct kd_frame *f,
		     size_t fi, char *loc, size_t loc_cap, char *buf,
		     size_t cap)
{
	uint64_t size = type_size(pdb, v->type, 0), val = 0, base, addr, i;
	struct kd_pdb_type t;
	const char *rn;
	uint8_t raw[8];
	char a[18];
	bool ptr;

	loc[0] = '\0';
	if (kd_pdb_type_get(pdb, v->type, &t) != KD_OK)
		memset(&t, 0, sizeof(t));
	ptr = t.leaf == KD_LF_POINTER ||
	      (v->type < 0x1000 && (v->type & 0x700));
	if (!v->has_reg) {
		snprintf(buf, cap, "<value unavailable>");
		return;
	}
	if (v->kind == 0x113e) {
		rn = cv_reg_name(v->reg);
		snprintf(loc, loc_cap, "@%s", rn ? rn : "?");
		if (size == 0 || size > 8 || !frame_reg(f, fi, v->reg, &val)) {
			snprintf(buf, cap, "<value unavailable>");
			return;
		}
	} else {
		if (v->kind != 0x1111 ||
		    (v->reg == CV_AMD64_RSP ?
			     (base = f->sp, false) :
			     !frame_reg(f, fi, v->reg, &base))) {
			snprintf(buf, cap, "<value unavailable>");
			return;
		}
		addr = base + (uint64_t)(int64_t)v->offset;
		kd_fmt_ptr(s, a, addr);
		snprintf(loc, loc_cap, "%s", a);
		if (size == 0 || size > 8) {
			/* An aggregate: its type, as dv shows a struct. */
			type_name(pdb, v->type, buf, cap, 0);
			return;
		}
		if (kd_read_virtual_all(s, addr, raw, (size_t)size) != KD_OK) {
			snprintf(buf, cap, "<memory read error>");
			return;
		}
		for (i = 0; i < size; i++)
			val |= (uint64_t)raw[i] << (8 * i);
	}
	if (size < 8)
		val &= (1ull << (size * 8)) - 1;
	if (ptr && size == 8) {
		snprintf(buf, cap, "0x%s", kd_fmt_ptr(s, a, val));
	} else if (v->type < 0x1000 && basic_signed(v->type)) {
		int64_t sv = (int64_t)val;

		if (size < 8 && (val >> (size * 8 - 1)) & 1)
			sv = (int64_t)(val | ~((1ull << (size * 8)) - 1));
		snprintf(buf, cap, "0n%lld", (long long)sv);
	} else {
		snprintf(buf, cap, "0x%llx", (unsigned long long)val);
	}
}

int kd_cmd__dv(struct kd_session *s, const struct kd_frame *f, size_t fi,
	       unsigned flags, const char *pattern)
{
	struct kd_module *m = kd_module_by_addr(s, f->ip);
	/* An outer frame's pc is a return address: its call is before. */
	uint64_t pc = fi > 0 && f->ip ? f->ip - 1 : f->ip;
	struct kd_pdb *pdb = m ? kd_sym__pdb(s, m) : NULL;
	struct dv_list *list;
	size_t i, width = 0;
	unsigned pw = kd_is_ptr64(s) ? 17 : 8;

	list = kd_calloc(1, sizeof(*list));
	if (!list)
		return kd_fail(s, KD_ENOMEM, "Out of memory");
	if (pdb)
		list->nargs = proc_nargs(pdb, (uint32_t)(pc - m->base));
	if (!pdb || kd_pdb_proc_locals(pdb, (uint32_t)(pc - m->base),
				       dv_local_cb, list) != KD_OK) {
		kd_free(list);
		kd_out(s, "Unable to enumerate locals, HRESULT 0x80004005\n");
		return kd_fail(s, KD_ENOTFOUND,
			       "Private symbols (symbols.pri) are required "
			       "for locals.");
	}
	for (i = 0; i < list->n; i++) {
		size_t l = strlen(list->v[i].name);

		if (l > width)
			width = l;
	}
	for (i = 0; i < list->n && !s->interrupt; i++) {
		const struct dv_var *v = &list->v[i];
		char val[160], loc[24], ty[128];

		if (pattern && !kd_wildcard_match(pattern, v->name))
			continue;
		dv_value(s, pdb, v, f, fi, loc, sizeof(loc), val, sizeof(val));
		if (flags & KD_DV_KIND)
			kd_out(s, "prv %s  ", v->is_param ? "param" : "local");
		if (flags & KD_DV_ADDR)
			kd_out(s, "%-*s          ", (int)pw, loc);
		if (flags & KD_DV_TYPE) {
			type_name(pdb, v->type, ty, sizeof(ty), 0);
			kd_out(s, "%s %s = %s\n", ty, v->name, val);
		} else {
			kd_out(s, "%*s = %s\n", (int)width, v->name, val);
		}
	}
	kd_free(list);
	return KD_OK;
}
