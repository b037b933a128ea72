/* SPDX-License-Identifier: MIT */
/*
 * The C++ evaluator's backend for a debugging session: globals and types
 * by name from the type layer (sym/types.c), locals from the current
 * function's PDB, memory and registers from the target, MASM
 * pieces (@@masm(), pseudo-registers) through the MASM evaluator the
 * caller passes in (so this file never names expr.c, which calls it).
 */
#include <stdio.h>
#include <string.h>

#include "arch/arch.h"
#include "expr/cppexpr.h"
#include "expr/cppsession.h"
#include "sym/sym_int.h"
#include "sym/types.h"

struct cppsess {
	struct kd_session *s;
	kd_cpp_masm_fn masm;
};

static bool target_ok(struct kd_session *s)
{
	return s->target != NULL && !s->tgt.running;
}

static int sess_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct cppsess *cs = ctx;

	if (!target_ok(cs->s))
		return KD_EINVAL;
	return kd_read_virtual_all(cs->s, addr, buf, len) < 0 ? KD_EFAULT :
								KD_OK;
}

static int sess_reg(void *ctx, const char *name, uint64_t *v, unsigned *size)
{
	struct cppsess *cs = ctx;
	const struct kd_arch_reg *r;
	char text[80];
	const char *end = NULL;
	size_t n = strlen(name);

	if (n == 0 || n >= 64)
		return KD_EINVAL;
	if (name[0] != '$') {
		r = kd_arch_reg_find(kd_arch(cs->s), name, n, KD_REGF_NOEXPR);
		if (!r || !target_ok(cs->s) ||
		    kd_arch_reg_read(cs->s, cs->s->tgt.cpu, r, v) < 0)
			return KD_ENOTFOUND;
		*size = r->bits ? (r->bits + 7u) / 8u : r->size;
		return KD_OK;
	}
	/* Pseudo-registers as the MASM side knows them. */
	if (!cs->masm)
		return KD_ENOTSUP;
	snprintf(text, sizeof(text), "@%s", name);
	if (cs->masm(cs->s, text, &end, v) < 0 || !end || *end)
		return KD_ENOTFOUND;
	*size = 8;
	return KD_OK;
}

static int sess_masm(void *ctx, const char *text, const char **end, uint64_t *v)
{
	struct cppsess *cs = ctx;

	if (!cs->masm)
		return KD_ENOTSUP;
	return cs->masm(cs->s, text, end, v);
}

/* A local or parameter of the current function, from its PDB. */
struct localfind {
	const char *name;
	struct kd_pdb_local l;
	bool hit;
};

static int local_cb(void *ctx, const struct kd_pdb_local *l)
{
	struct localfind *f = ctx;

	if (strcmp(l->name, f->name) == 0) {
		f->l = *l;
		f->hit = true;
		return 1;
	}
	return 0;
}

/* CodeView AMD64 register numbers (cvconst.h) to register names. */
static const char *cv_reg(uint16_t cv)
{
	static const char *const amd64[] = {
		"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
		"r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15",
	};

	if (cv >= 328 && cv < 328 + 16)
		return amd64[cv - 328];
	return NULL;
}

static int find_local(struct cppsess *cs, const char *name, uint64_t *v,
		      bool *is_value, struct kd_cpp_type *t)
{
	struct kd_session *s = cs->s;
	struct localfind f;
	struct kd_module *m;
	struct kd_pdb *pdb;
	const char *rn;
	uint64_t pc, rv;
	unsigned size;

	if (!target_ok(s) || kd_pc_get(s, &pc) < 0)
		return KD_ENOTFOUND;
	m = kd_module_by_addr(s, pc);
	pdb = m ? kd_sym__pdb(s, m) : NULL;
	if (!pdb)
		return KD_ENOTFOUND;
	memset(&f, 0, sizeof(f));
	f.name = name;
	if (kd_pdb_proc_locals(pdb, (uint32_t)(pc - m->base), local_cb, &f) <
		    0 ||
	    !f.hit)
		return KD_ENOTFOUND;
	t->src = pdb;
	t->ti = f.l.type;
	t->nptr = 0;
	if (f.l.kind == 0x113e) { /* S_LOCAL: its value in a register */
		rn = f.l.has_live_reg ? cv_reg(f.l.live_reg) : NULL;
		if (!rn || sess_reg(cs, rn, v, &size) < 0)
			return KD_ENOTFOUND;
		*is_value = true;
		return KD_OK;
	}
	rn = cv_reg(f.l.reg);
	if (!rn || sess_reg(cs, rn, &rv, &size) < 0)
		return KD_ENOTFOUND;
	*v = rv + (uint64_t)(int64_t)f.l.offset;
	*is_value = false;
	return KD_OK;
}

/* "ntkrnlmp!X" (the data model's name of the kernel) as "nt!X". */
static const char *kernel_alias(const char *name, char *buf, size_t cap)
{
	static const char *const alias[] = { "ntkrnlmp!", "ntoskrnl!" };
	size_t i, n;

	for (i = 0; i < sizeof(alias) / sizeof(alias[0]); i++) {
		n = strlen(alias[i]);
		if (strncmp(name, alias[i], n) == 0 &&
		    strlen(name + n) + 4 <= cap) {
			memcpy(buf, "nt!", 3);
			memcpy(buf + 3, name + n, strlen(name + n) + 1);
			return buf;
		}
	}
	return name;
}

/*
 * A local of the current function (bare names only), else a global with
 * its type from the type layer (sym/types.c), else any symbol or export
 * as an address without a type.
 */
static int sess_symbol(void *ctx, const char *name, uint64_t *v, bool *is_value,
		       struct kd_cpp_type *t)
{
	struct cppsess *cs = ctx;
	struct kd_session *s = cs->s;
	struct kd_type kt;
	char buf[300];

	*is_value = false;
	name = kernel_alias(name, buf, sizeof(buf));
	if (!strchr(name, '!') && find_local(cs, name, v, is_value, t) == KD_OK)
		return KD_OK;
	if (kd_sym__global_type(s, name, v, &kt) == KD_OK) {
		t->src = kt.pdb;
		t->ti = kt.ti;
		t->nptr = 0;
		return KD_OK;
	}
	t->src = NULL;
	t->ti = 0;
	t->nptr = 0;
	return kd_sym_lookup(s, name, v) == KD_OK ? KD_OK : KD_ENOTFOUND;
}

/* A type by name through the type layer. */
static int sess_type_named(void *ctx, const char *name, struct kd_cpp_type *t)
{
	struct cppsess *cs = ctx;
	struct kd_type kt;
	char buf[300];

	if (kd_sym__type_lookup(cs->s, kernel_alias(name, buf, sizeof(buf)),
				&kt) != KD_OK)
		return KD_ENOTFOUND;
	t->src = kt.pdb;
	t->ti = kt.ti;
	t->nptr = 0;
	return KD_OK;
}

static int sess_type_get(void *ctx, void *src, uint32_t ti,
			 struct kd_pdb_type *out)
{
	(void)ctx;
	return kd_pdb_type_get(src, ti, out);
}

static int sess_type_resolve(void *ctx, void *src, uint32_t ti, uint32_t *full)
{
	(void)ctx;
	return kd_pdb_type_resolve(src, ti, full);
}

static int sess_type_fields(void *ctx, void *src, uint32_t ti,
			    int (*cb)(void *, const struct kd_pdb_field *),
			    void *cbctx)
{
	(void)ctx;
	return kd_pdb_type_fields(src, ti, cb, cbctx);
}

void kd_cpp__session_ops(struct kd_session *s, kd_cpp_masm_fn masm,
			 struct kd_cpp_session *out)
{
	struct cppsess *cs = (struct cppsess *)out->ctx_space;

	_Static_assert(sizeof(out->ctx_space) >= sizeof(struct cppsess),
		       "kd_cpp_session context too small");
	cs->s = s;
	cs->masm = masm;
	memset(&out->ops, 0, sizeof(out->ops));
	out->ops.ctx = cs;
	out->ops.ptr_size = kd_is_ptr64(s) ? 8 : 4;
	out->ops.read = sess_read;
	out->ops.reg = sess_reg;
	out->ops.symbol = sess_symbol;
	out->ops.type_named = sess_type_named;
	out->ops.type_get = sess_type_get;
	out->ops.type_resolve = sess_type_resolve;
	out->ops.type_fields = sess_type_fields;
	out->ops.masm = sess_masm;
}

int kd_cpp__session_eval(struct kd_session *s, kd_cpp_masm_fn masm,
			 const char *text, const char **end, uint64_t *value,
			 struct kd_cpp_error *err)
{
	struct kd_cpp_session cs;
	struct kd_cpp_value v;
	int rc;

	kd_cpp__session_ops(s, masm, &cs);
	rc = kd_cpp__eval(&cs.ops, text, end, &v, err);
	if (rc != KD_OK)
		return rc;
	rc = kd_cpp__load(&cs.ops, &v, value);
	if (rc != KD_OK) {
		err->code = rc;
		err->at = text;
		snprintf(err->msg, sizeof(err->msg),
			 rc == KD_EFAULT ? "Memory access error at %llx" :
					   "No value at %llx",
			 (unsigned long long)v.addr);
	}
	return rc;
}
