/* SPDX-License-Identifier: MIT */
/*
 * The machine-independent half of the architecture axis: which ops a
 * session uses, registers by name over the ops' tables, pc/sp/fp of the
 * current processor, and `r`'s entry point.  Each machine's tables and
 * printers are in amd64.c, x86.c and arm64.c.
 */
#include <ctype.h>
#include <string.h>

#include <kd/dump.h>

#include "arch/arch.h"
#include "arch/paging.h"
#include "core/memcache.h"

static const struct kd_arch_ops *const kd_arch_all[KD_ARCH_COUNT] = {
	[KD_ARCH_AMD64] = &kd_arch_amd64,
	[KD_ARCH_X86] = &kd_arch_x86,
	[KD_ARCH_ARM64] = &kd_arch_arm64,
};

const struct kd_arch_ops *kd_arch_of_machine(uint32_t machine)
{
	size_t i;

	for (i = 0; i < KD_ARRAY_SIZE(kd_arch_all); i++) {
		if (kd_arch_all[i]->machine == machine)
			return kd_arch_all[i];
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

char *kd_fmt_ptr(const struct kd_session *s, char buf[18], uint64_t addr)
{
	if (kd_is_ptr64(s))
		return kd_fmt_addr(buf, addr);
	snprintf(buf, 18, "%08x", (unsigned)(addr & 0xffffffffu));
	return buf;
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
static bool kd_name_is(const char *name, size_t len, const char *want)
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

		if (!(r->flags & hide) && kd_name_is(name, len, r->name))
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

static uint64_t kd_mask(unsigned bits)
{
	return bits >= 64 ? ~0ull : (1ull << bits) - 1;
}

static uint64_t kd_ctx_raw(const uint8_t *ctx, const struct kd_arch_reg *r)
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

uint64_t kd_arch_ctx_load(const uint8_t *ctx, const struct kd_arch_reg *r)
{
	return (kd_ctx_raw(ctx, r) >> r->shift) & kd_mask(r->bits);
}

int kd_arch_ctx_store(uint8_t *ctx, const struct kd_arch_reg *r, uint64_t value)
{
	uint64_t m = kd_mask(r->bits) << r->shift;
	uint64_t v;

	if (value & ~kd_mask(r->bits))
		return KD_EOVERFLOW;
	v = (kd_ctx_raw(ctx, r) & ~m) | (value << r->shift);
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

static uint64_t kd_arch_flagged(const struct kd_arch_ops *a, const uint8_t *ctx,
				unsigned flag)
{
	const struct kd_arch_reg *r = kd_arch_reg_by_flag(a, flag);

	return r ? kd_arch_ctx_load(ctx, r) : 0;
}

uint64_t kd_arch_pc(const struct kd_arch_ops *a, const uint8_t *ctx)
{
	return kd_arch_flagged(a, ctx, KD_REGF_PC);
}

uint64_t kd_arch_sp(const struct kd_arch_ops *a, const uint8_t *ctx)
{
	return kd_arch_flagged(a, ctx, KD_REGF_SP);
}

uint64_t kd_arch_fp(const struct kd_arch_ops *a, const uint8_t *ctx)
{
	return kd_arch_flagged(a, ctx, KD_REGF_FP);
}

void kd_arch_set_pc(const struct kd_arch_ops *a, uint8_t *ctx, uint64_t v)
{
	const struct kd_arch_reg *r = kd_arch_reg_by_flag(a, KD_REGF_PC);

	if (r)
		(void)kd_arch_ctx_store(ctx, r, v & kd_mask(r->bits));
}

void kd_arch_set_sp(const struct kd_arch_ops *a, uint8_t *ctx, uint64_t v)
{
	const struct kd_arch_reg *r = kd_arch_reg_by_flag(a, KD_REGF_SP);

	if (r)
		(void)kd_arch_ctx_store(ctx, r, v & kd_mask(r->bits));
}

/* ---- registers of a session's processors ---- */

int kd_context(struct kd_session *s, unsigned cpu, uint8_t **ctx)
{
	struct kd_cpu *c;
	int rc;

	if (!s->target || !s->tgt.cpus || cpu >= s->tgt.ncpus)
		return KD_EINVAL;
	c = &s->tgt.cpus[cpu];
	if (!c->valid) {
		rc = kd_arch(s)->read_context(s->target, cpu, c->ctx);
		if (rc < 0)
			return rc;
		c->valid = true;
		c->dirty = false;
	}
	*ctx = c->ctx;
	return KD_OK;
}

/* Write back dirty contexts before the target runs. */
int kd_cpus_flush(struct kd_session *s)
{
	unsigned i;
	int rc;

	for (i = 0; i < s->tgt.ncpus; i++) {
		struct kd_cpu *c = &s->tgt.cpus[i];

		if (!c->dirty)
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
	const struct kd_arch_ops *a = kd_arch(s);
	uint8_t *ctx;
	int rc;

	if (r->flags & KD_REGF_SPECIAL) {
		if (!a->special_get)
			return KD_ENOTSUP;
		return a->special_get(s, cpu, r->off, value);
	}
	rc = kd_context(s, cpu, &ctx);
	if (rc < 0)
		return rc;
	*value = kd_arch_ctx_load(ctx, r);
	return KD_OK;
}

int kd_arch_reg_set(struct kd_session *s, const struct kd_arch_reg *r,
		    uint64_t value)
{
	const struct kd_arch_ops *a = kd_arch(s);
	uint8_t *ctx;
	int rc;

	if (r->flags & KD_REGF_SPECIAL)
		return KD_ENOTSUP;
	if (value & ~kd_mask(r->bits))
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

static int kd_flagged_get(struct kd_session *s, unsigned flag, uint64_t *v)
{
	const struct kd_arch_reg *r = kd_arch_reg_by_flag(kd_arch(s), flag);

	if (!r)
		return KD_ENOTSUP;
	return kd_arch_reg_read(s, s->tgt.cpu, r, v);
}

int kd_pc_get(struct kd_session *s, uint64_t *value)
{
	return kd_flagged_get(s, KD_REGF_PC, value);
}

int kd_sp_get(struct kd_session *s, uint64_t *value)
{
	return kd_flagged_get(s, KD_REGF_SP, value);
}

int kd_retreg_get(struct kd_session *s, uint64_t *value)
{
	return kd_flagged_get(s, KD_REGF_RET, value);
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
		return kd_flagged_get(s, KD_REGF_RA, value);
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
	const struct kd_arch_reg *r = kd_arch_reg_find(kd_arch(s), name, len,
						       KD_REGF_NOR);
	int rc;

	if (!r)
		return KD_ENOTFOUND;
	rc = kd_arch_reg_read(s, cpu, r, value);
	if (rc == KD_OK && bits)
		*bits = r->bits;
	return rc;
}

int kd_arch_reg_value(struct kd_session *s, const char *name, size_t len,
		      uint64_t *value)
{
	return kd_arch_reg_get(s, s->tgt.cpu, name, len, value, NULL);
}

int kd_arch_reg_dump(struct kd_session *s)
{
	uint8_t *ctx;
	int rc = kd_context(s, s->tgt.cpu, &ctx);

	if (rc < 0)
		return kd_fail(s, rc, "Unable to get register context");
	kd_arch(s)->print_regs(s, ctx);
	return kd_print_current_instruction(s);
}

int kd_virt_to_phys(struct kd_session *s, uint64_t va, uint64_t *pa)
{
	const struct kd_arch_ops *a = kd_arch(s);

	if (!a->virt_to_phys)
		return KD_ENOTSUP;
	return a->virt_to_phys(s, va, pa);
}
