/* SPDX-License-Identifier: MIT */
/*
 * Registers over one machine's ops, given explicitly: the ops' tables by
 * name and flag, values in a CONTEXT buffer, a processor's CONTEXT read
 * through the ops, and the pointer-width address format.  The ops files
 * (amd64.c, x86.c, arm64.c) and their helpers (stack.c) use these, never
 * the registry of arch.c: they know their own ops, and a call from them
 * back into the registry, which names every ops table, would tie all the
 * machines into one call cycle.  Nothing here calls another file of
 * arch/.
 */
#include <ctype.h>
#include <string.h>

#include "arch/arch.h"

char *kd_fmt_ptr(const struct kd_session *s, char buf[18], uint64_t addr)
{
	if (kd_is_ptr64(s))
		return kd_fmt_addr(buf, addr);
	snprintf(buf, 18, "%08x", (unsigned)(addr & 0xffffffffu));
	return buf;
}

/* The x86 or ARM64 CONTEXT a crash dump hands out, checked for size. */
int kd_arch__native_read(struct kd_target *t, unsigned cpu, uint8_t *buf,
			 size_t need)
{
	size_t len = 0;
	int rc;

	if (!t->ops->get_native_context)
		return KD_ENOTSUP;
	rc = t->ops->get_native_context(t, cpu, buf, KD_NATIVE_CTX_MAX, &len);
	if (rc < 0)
		return rc;
	return len < need ? KD_EPROTO : KD_OK;
}

/* ---- register tables ---- */

/* Case-insensitive match of @p name (@p len bytes) with @p want. */
static bool name_is(const char *name, size_t len, const char *want)
{
	size_t i;

	if (strlen(want) != len)
		return false;
	for (i = 0; i < len; i++) {
		if (tolower((unsigned char)name[i]) != want[i])
			return false;
	}
	return true;
}

const struct kd_arch_reg *kd_arch_reg_find(const struct kd_arch_ops *a,
					   const char *name, size_t len,
					   unsigned hide)
{
	size_t i;

	for (i = 0; i < a->nregs; i++) {
		const struct kd_arch_reg *r = &a->regs[i];

		if (!(r->flags & hide) && name_is(name, len, r->name))
			return r;
	}
	return NULL;
}

const struct kd_arch_reg *kd_arch_reg_by_flag(const struct kd_arch_ops *a,
					      unsigned flag)
{
	size_t i;

	for (i = 0; i < a->nregs; i++) {
		if (a->regs[i].flags & flag)
			return &a->regs[i];
	}
	return NULL;
}

static uint64_t regs_mask(unsigned bits)
{
	return bits >= 64 ? ~0ull : (1ull << bits) - 1;
}

static uint64_t ctx_raw(const uint8_t *ctx, const struct kd_arch_reg *r)
{
	switch (r->size) {
	case 8:
		return kd_get_le64(ctx + r->off);
	case 4:
		return kd_get_le32(ctx + r->off);
	default:
		return kd_get_le16(ctx + r->off);
	}
}

bool kd_arch__reg_fits(const struct kd_arch_reg *r, uint64_t value)
{
	return (value & ~regs_mask(r->bits)) == 0;
}

uint64_t kd_arch_ctx_load(const uint8_t *ctx, const struct kd_arch_reg *r)
{
	return (ctx_raw(ctx, r) >> r->shift) & regs_mask(r->bits);
}

int kd_arch_ctx_store(uint8_t *ctx, const struct kd_arch_reg *r, uint64_t value)
{
	uint64_t m = regs_mask(r->bits) << r->shift;
	uint64_t v;

	if (value & ~regs_mask(r->bits))
		return KD_EOVERFLOW;
	v = (ctx_raw(ctx, r) & ~m) | (value << r->shift);
	switch (r->size) {
	case 8:
		kd_put_le64(ctx + r->off, v);
		break;
	case 4:
		kd_put_le32(ctx + r->off, (uint32_t)v);
		break;
	default:
		kd_put_le16(ctx + r->off, (uint16_t)v);
		break;
	}
	return KD_OK;
}

static uint64_t arch_flagged(const struct kd_arch_ops *a, const uint8_t *ctx,
			     unsigned flag)
{
	const struct kd_arch_reg *r = kd_arch_reg_by_flag(a, flag);

	return r ? kd_arch_ctx_load(ctx, r) : 0;
}

uint64_t kd_arch_pc(const struct kd_arch_ops *a, const uint8_t *ctx)
{
	return arch_flagged(a, ctx, KD_REGF_PC);
}

uint64_t kd_arch_sp(const struct kd_arch_ops *a, const uint8_t *ctx)
{
	return arch_flagged(a, ctx, KD_REGF_SP);
}

uint64_t kd_arch_fp(const struct kd_arch_ops *a, const uint8_t *ctx)
{
	return arch_flagged(a, ctx, KD_REGF_FP);
}

void kd_arch_set_pc(const struct kd_arch_ops *a, uint8_t *ctx, uint64_t v)
{
	const struct kd_arch_reg *r = kd_arch_reg_by_flag(a, KD_REGF_PC);

	if (r)
		(void)kd_arch_ctx_store(ctx, r, v & regs_mask(r->bits));
}

void kd_arch_set_sp(const struct kd_arch_ops *a, uint8_t *ctx, uint64_t v)
{
	const struct kd_arch_reg *r = kd_arch_reg_by_flag(a, KD_REGF_SP);

	if (r)
		(void)kd_arch_ctx_store(ctx, r, v & regs_mask(r->bits));
}

/* ---- a processor's registers through given ops ---- */

int kd_arch__context(struct kd_session *s, const struct kd_arch_ops *a,
		     unsigned cpu, uint8_t **ctx)
{
	struct kd_cpu *c;
	int rc;

	if (!s->target || !s->tgt.cpus || cpu >= s->tgt.ncpus)
		return KD_EINVAL;
	/* .frame, .cxr, .trap: their context stands in for the cpu's. */
	if (s->scope.cpu == cpu && s->scope.frame_set && !s->scope.unwinding) {
		*ctx = s->scope.fctx;
		return KD_OK;
	}
	if (s->scope.cpu == cpu && s->scope.ctx_set) {
		*ctx = s->scope.ctx;
		return KD_OK;
	}
	c = &s->tgt.cpus[cpu];
	if (!c->valid) {
		rc = a->read_context(s->target, cpu, c->ctx);
		if (rc < 0)
			return rc;
		c->valid = true;
		c->dirty = false;
	}
	*ctx = c->ctx;
	return KD_OK;
}

int kd_arch__reg_read(struct kd_session *s, const struct kd_arch_ops *a,
		      unsigned cpu, const struct kd_arch_reg *r,
		      uint64_t *value)
{
	uint8_t *ctx;
	int rc;

	if (r->flags & KD_REGF_SPECIAL) {
		if (!a->special_get)
			return KD_ENOTSUP;
		return a->special_get(s, cpu, r->off, value);
	}
	rc = kd_arch__context(s, a, cpu, &ctx);
	if (rc < 0)
		return rc;
	*value = kd_arch_ctx_load(ctx, r);
	return KD_OK;
}

int kd_arch__reg_get(struct kd_session *s, const struct kd_arch_ops *a,
		     unsigned cpu, const char *name, size_t len,
		     uint64_t *value, unsigned *bits)
{
	const struct kd_arch_reg *r = kd_arch_reg_find(a, name, len,
						       KD_REGF_NOR);
	int rc;

	if (!r)
		return KD_ENOTFOUND;
	rc = kd_arch__reg_read(s, a, cpu, r, value);
	if (rc == KD_OK && bits)
		*bits = r->bits;
	return rc;
}
