/* SPDX-License-Identifier: MIT */
/*
 * A small in-test target for the memory and register command tests:
 * virtual regions backed by byte arrays, 4 MiB of physical memory with
 * hand-built x64 page tables, one CONTEXT and one KSPECIAL block.
 */
#ifndef KD_TEST_MEM_FAKE_H
#define KD_TEST_MEM_FAKE_H

#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"

#define FAKE_PHYS_SIZE (4u << 20)
#define FAKE_NREGIONS 3

struct fake_region {
	uint64_t va;
	size_t len;
	uint8_t *data;
	bool readonly;
};

struct fake_target {
	struct kd_target t;
	struct fake_region r[FAKE_NREGIONS];
	uint8_t *phys;
	uint8_t ctx[KD_AMD64_CONTEXT_SIZE];
	struct kd_amd64_kspecial ks;
	unsigned writes;
};

static struct fake_region *fake_find(struct fake_target *f, uint64_t va)
{
	size_t i;

	for (i = 0; i < FAKE_NREGIONS; i++) {
		if (f->r[i].data && va >= f->r[i].va &&
		    va - f->r[i].va < f->r[i].len)
			return &f->r[i];
	}
	return NULL;
}

static int fake_rw_virtual(struct fake_target *f, uint64_t va, uint8_t *rd,
			   const uint8_t *wr, size_t len, size_t *done)
{
	size_t n = 0;

	while (n < len) {
		struct fake_region *r = fake_find(f, va + n);

		if (!r || (wr && r->readonly))
			break;
		if (wr)
			r->data[va + n - r->va] = wr[n];
		else
			rd[n] = r->data[va + n - r->va];
		n++;
	}
	*done = n;
	return n ? KD_OK : KD_EFAULT;
}

static int fake_read_virtual(struct kd_target *t, unsigned cpu, uint64_t va,
			     void *buf, size_t len, size_t *done)
{
	(void)cpu;
	return fake_rw_virtual((struct fake_target *)t, va, buf, NULL, len,
			       done);
}

static int fake_write_virtual(struct kd_target *t, unsigned cpu, uint64_t va,
			      const void *buf, size_t len, size_t *done)
{
	struct fake_target *f = (struct fake_target *)t;

	(void)cpu;
	f->writes++;
	return fake_rw_virtual(f, va, NULL, buf, len, done);
}

static int fake_read_physical(struct kd_target *t, uint64_t pa, void *buf,
			      size_t len, size_t *done)
{
	struct fake_target *f = (struct fake_target *)t;
	size_t n = 0;

	if (pa < FAKE_PHYS_SIZE)
		n = FAKE_PHYS_SIZE - (size_t)pa < len ?
			    FAKE_PHYS_SIZE - (size_t)pa :
			    len;
	memcpy(buf, f->phys + (n ? pa : 0), n);
	*done = n;
	return n ? KD_OK : KD_EFAULT;
}

static int fake_write_physical(struct kd_target *t, uint64_t pa,
			       const void *buf, size_t len, size_t *done)
{
	struct fake_target *f = (struct fake_target *)t;
	size_t n = 0;

	if (pa < FAKE_PHYS_SIZE)
		n = FAKE_PHYS_SIZE - (size_t)pa < len ?
			    FAKE_PHYS_SIZE - (size_t)pa :
			    len;
	memcpy(f->phys + (n ? pa : 0), buf, n);
	*done = n;
	return n ? KD_OK : KD_EFAULT;
}

static int fake_read_control(struct kd_target *t, unsigned cpu, uint64_t sel,
			     void *buf, size_t len, size_t *done)
{
	struct fake_target *f = (struct fake_target *)t;

	(void)cpu;
	if (sel != KD_AMD64_CS_KSPECIAL)
		return KD_ENOTSUP;
	return kd_amd64_kspecial_encode(buf, len, done, &f->ks);
}

static int fake_get_context(struct kd_target *t, unsigned cpu, uint8_t *ctx)
{
	(void)cpu;
	memcpy(ctx, ((struct fake_target *)t)->ctx, KD_AMD64_CONTEXT_SIZE);
	return KD_OK;
}

static int fake_set_context(struct kd_target *t, unsigned cpu,
			    const uint8_t *ctx)
{
	(void)cpu;
	memcpy(((struct fake_target *)t)->ctx, ctx, KD_AMD64_CONTEXT_SIZE);
	return KD_OK;
}

static const struct kd_target_ops fake_ops = {
	.name = "fake",
	.read_virtual = fake_read_virtual,
	.write_virtual = fake_write_virtual,
	.read_physical = fake_read_physical,
	.write_physical = fake_write_physical,
	.read_control = fake_read_control,
	.get_context = fake_get_context,
	.set_context = fake_set_context,
};

/* Captured output of the last command. */
struct fake_out {
	char *text;
	size_t len;
};

static void fake_sink(void *ctx, const char *text, size_t len)
{
	struct fake_out *o = ctx;

	o->text = realloc(o->text, o->len + len + 1);
	memcpy(o->text + o->len, text, len);
	o->len += len;
	o->text[o->len] = '\0';
}

struct fake_env {
	struct kd_session *s;
	struct fake_target *f;
	struct fake_out out;
	int rc;
};

static struct fake_env *fake_env_new(void)
{
	struct fake_env *e = calloc(1, sizeof(*e));
	struct fake_target *f = calloc(1, sizeof(*f));

	if (!e || !f || kd_session_new(&e->s, NULL) != KD_OK)
		abort();
	f->t.ops = &fake_ops;
	f->t.session = e->s;
	f->phys = calloc(1, FAKE_PHYS_SIZE);
	if (!f->phys)
		abort();
	e->f = f;
	e->s->target = &f->t;
	e->s->tgt.ncpus = 1;
	e->s->tgt.cpus = kd_calloc(1, sizeof(*e->s->tgt.cpus));
	e->s->tgt.have_version = true;
	e->s->tgt.version.flags = KD_VERS_FLAG_PTR64 | KD_VERS_FLAG_MP;
	e->s->sandbox = true;
	kd_session_set_output(e->s, fake_sink, &e->out);
	return e;
}

static void fake_env_free(struct fake_env *e)
{
	struct fake_target *f = e->f;
	size_t i;

	kd_session_free(e->s);
	for (i = 0; i < FAKE_NREGIONS; i++)
		free(f->r[i].data);
	free(f->phys);
	free(f);
	free(e->out.text);
	free(e);
}

/* Run @p cmd; returns its output (valid until the next run). */
static const char *fake_run(struct fake_env *e, const char *cmd)
{
	free(e->out.text);
	e->out.text = NULL;
	e->out.len = 0;
	e->rc = kd_session_execute(e->s, cmd);
	return e->out.text ? e->out.text : "";
}

#endif /* KD_TEST_MEM_FAKE_H */
