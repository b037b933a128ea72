/* SPDX-License-Identifier: MIT */
/*
 * The registry of the architecture axis: which ops a session uses
 * (kd_arch), and the entry points that ask it first -- registers of the
 * current processor by name, pc/sp/fp, the x64 registers by id, the stack
 * walk and address translation.  Each machine's tables and printers are
 * in amd64.c, x86.c and arm64.c; what they share is in regs.c, which
 * takes the ops as an argument.  This file names every ops table, so
 * nothing they call may call back here: their calls go down to regs.c,
 * stack.c and paging.c, and arch/ has no call cycle.
 */
#include <kd/dump.h>

#include "arch/arch.h"
#include "arch/paging.h"
#include "core/memcache.h"

#define KD_STACK_MAX_DEPTH 256

static const struct kd_arch_ops *const arch_all[KD_ARCH_COUNT] = {
	[KD_ARCH_AMD64] = &kd_arch_amd64,
	[KD_ARCH_X86] = &kd_arch_x86,
	[KD_ARCH_ARM64] = &kd_arch_arm64,
};

const struct kd_arch_ops *kd_arch_of_machine(uint32_t machine)
{
	size_t i;

	for (i = 0; i < KD_ARRAY_SIZE(arch_all); i++) {
		if (arch_all[i]->machine == machine)
			return arch_all[i];
	}
	return NULL;
}

const struct kd_arch_ops *kd_arch(const struct kd_session *s)
{
	const struct kd_arch_ops *a;

	/* Only a target that hands out its machine's own CONTEXT (a crash
	 * dump) can be another machine: live targets are x64 (issue 17). */
	if (!s->target || !s->target->ops->get_native_context)
		return &kd_arch_amd64;
	a = kd_arch_of_machine(s->tgt.machine);
	return a ? a : &kd_arch_amd64;
}

bool kd_arch_is_x86(const struct kd_session *s)
{
	return kd_arch(s) == &kd_arch_x86;
}

bool kd_arch_is_arm64(const struct kd_session *s)
{
	return kd_arch(s) == &kd_arch_arm64;
}

bool kd_arch_native(const struct kd_session *s)
{
	return kd_arch(s) != &kd_arch_amd64;
}

int kd_native_context(struct kd_session *s, unsigned cpu, uint8_t *buf,
		      size_t *len)
{
	const struct kd_arch_ops *a = kd_arch(s);
	int rc;

	*len = 0;
	if (a == &kd_arch_amd64 || !s->tgt.cpus || cpu >= s->tgt.ncpus)
		return KD_EINVAL;
	rc = s->target->ops->get_native_context(s->target, cpu, buf,
						KD_NATIVE_CTX_MAX, len);
	if (rc < 0)
		return rc;
	if (*len < a->ctx_size)
		return KD_EPROTO;
	return KD_OK;
}

/* ---- registers of a session's processors ---- */

int kd_context(struct kd_session *s, unsigned cpu, uint8_t **ctx)
{
	return kd_arch__context(s, kd_arch(s), cpu, ctx);
}

/* Write back dirty contexts before the target runs. */
int kd_cpus_flush(struct kd_session *s)
{
	unsigned i;
	int rc;

	for (i = 0; i < s->tgt.ncpus; i++) {
		struct kd_cpu *c = &s->tgt.cpus[i];

		/* A register set in a .cxr/.frame context changed only that
		 * context: the processor's own was never read. */
		if (!c->dirty || !c->valid)
			continue;
		rc = kd_arch(s)->write_context ?
			     kd_arch(s)->write_context(s->target, i, c->ctx) :
			     KD_ENOTSUP;
		if (rc < 0)
			return rc;
		c->dirty = false;
	}
	return KD_OK;
}

int kd_arch_reg_read(struct kd_session *s, unsigned cpu,
		     const struct kd_arch_reg *r, uint64_t *value)
{
	return kd_arch__reg_read(s, kd_arch(s), cpu, r, value);
}

int kd_arch_reg_set(struct kd_session *s, const struct kd_arch_reg *r,
		    uint64_t value)
{
	const struct kd_arch_ops *a = kd_arch(s);
	uint8_t *ctx;
	int rc;

	if (r->flags & KD_REGF_SPECIAL)
		return KD_ENOTSUP;
	if (!kd_arch__reg_fits(r, value))
		return KD_EOVERFLOW;
	rc = kd_context(s, s->tgt.cpu, &ctx);
	/* A crash dump, or a machine whose context cannot go back yet. */
	if (rc == KD_OK && (!a->write_context || !s->target->ops->set_context))
		rc = KD_ENOTSUP;
	if (rc < 0)
		return rc;
	rc = kd_arch_ctx_store(ctx, r, value);
	if (rc == KD_OK)
		s->tgt.cpus[s->tgt.cpu].dirty = true;
	return rc;
}

static int flagged_get(struct kd_session *s, unsigned flag, uint64_t *v)
{
	const struct kd_arch_reg *r = kd_arch_reg_by_flag(kd_arch(s), flag);

	if (!r)
		return KD_ENOTSUP;
	return kd_arch_reg_read(s, s->tgt.cpu, r, v);
}

int kd_pc_get(struct kd_session *s, uint64_t *value)
{
	return flagged_get(s, KD_REGF_PC, value);
}

int kd_sp_get(struct kd_session *s, uint64_t *value)
{
	return flagged_get(s, KD_REGF_SP, value);
}

int kd_retreg_get(struct kd_session *s, uint64_t *value)
{
	return flagged_get(s, KD_REGF_RET, value);
}

int kd_pc_set(struct kd_session *s, uint64_t value)
{
	const struct kd_arch_reg *r = kd_arch_reg_by_flag(kd_arch(s),
							  KD_REGF_PC);

	return r ? kd_arch_reg_set(s, r, value) : KD_ENOTSUP;
}

int kd_ra_get(struct kd_session *s, uint64_t *value)
{
	const struct kd_arch_ops *a = kd_arch(s);
	uint64_t sp;
	uint32_t ra32;
	int rc;

	if (kd_arch_reg_by_flag(a, KD_REGF_RA))
		return flagged_get(s, KD_REGF_RA, value);
	rc = kd_sp_get(s, &sp);
	if (rc < 0)
		return rc;
	if (a->ptr_size == 8)
		return kd_read_u64(s, sp, value);
	rc = kd_read_u32(s, sp, &ra32);
	if (rc == KD_OK)
		*value = ra32;
	return rc;
}

const char *kd_arch_reg_name(const struct kd_session *s, const char *name,
			     size_t len)
{
	const struct kd_arch_reg *r = kd_arch_reg_find(kd_arch(s), name, len,
						       KD_REGF_NOR);

	return r ? r->name : NULL;
}

int kd_arch_reg_get(struct kd_session *s, unsigned cpu, const char *name,
		    size_t len, uint64_t *value, unsigned *bits)
{
	return kd_arch__reg_get(s, kd_arch(s), cpu, name, len, value, bits);
}

int kd_arch_reg_value(struct kd_session *s, const char *name, size_t len,
		      uint64_t *value)
{
	return kd_arch_reg_get(s, s->tgt.cpu, name, len, value, NULL);
}

int kd_virt_to_phys(struct kd_session *s, uint64_t va, uint64_t *pa)
{
	const struct kd_arch_ops *a = kd_arch(s);

	if (!a->virt_to_phys)
		return KD_ENOTSUP;
	return a->virt_to_phys(s, va, pa);
}

/* The machine's unwinder, at most KD_STACK_MAX_DEPTH frames. */
int kd_stack_walk(struct kd_session *s, unsigned cpu, struct kd_frame *out,
		  size_t max, size_t *n)
{
	bool was = s->scope.unwinding;
	int rc;

	*n = 0;
	if (max > KD_STACK_MAX_DEPTH)
		max = KD_STACK_MAX_DEPTH;
	/* After .frame n, k still walks the whole stack of the context. */
	s->scope.unwinding = true;
	rc = kd_arch(s)->unwind(s, cpu, out, max, n);
	s->scope.unwinding = was;
	return rc;
}

/* ---- x64 CONTEXT registers by KD_AMD64_* id ---- */

int kd_reg_get(struct kd_session *s, int reg, uint64_t *value)
{
	uint8_t *ctx;
	int rc;

	if (kd_arch(s) != &kd_arch_amd64)
		return KD_ENOTSUP;
	rc = kd_context(s, s->tgt.cpu, &ctx);
	if (rc < 0)
		return rc;
	return kd_amd64_context_get(ctx, KD_AMD64_CONTEXT_SIZE, reg, value);
}

int kd_reg_set(struct kd_session *s, int reg, uint64_t value)
{
	uint8_t *ctx;
	int rc;

	if (kd_arch(s) != &kd_arch_amd64)
		return KD_ENOTSUP;
	rc = kd_context(s, s->tgt.cpu, &ctx);
	if (rc == KD_OK && !s->target->ops->set_context)
		rc = KD_ENOTSUP; /* a crash dump: registers are read-only */
	if (rc < 0)
		return rc;
	rc = kd_amd64_context_set(ctx, KD_AMD64_CONTEXT_SIZE, reg, value);
	if (rc == KD_OK)
		s->tgt.cpus[s->tgt.cpu].dirty = true;
	return rc;
}
