/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the command interpreter and the expression
 * evaluator: the input is run as a command line (and evaluated as an
 * expression) on a dormant sandboxed session, then again on a session
 * around a small fake target (64 KiB of memory, one register context,
 * control space) so the memory, register and symbol paths run too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_INPUT 4096
#define FZ_MEM_BASE UINT64_C(0xfffff80010000000)
#define FZ_MEM_SIZE 0x10000u

struct fz_target {
	struct kd_target t;
	uint8_t mem[FZ_MEM_SIZE];
	uint8_t ctx[KD_AMD64_CONTEXT_SIZE];
	uint32_t next_bp;
};

static size_t fz_span(uint64_t va, size_t len)
{
	size_t n;

	if (va < FZ_MEM_BASE || va - FZ_MEM_BASE >= FZ_MEM_SIZE)
		return 0;
	n = FZ_MEM_SIZE - (size_t)(va - FZ_MEM_BASE);
	return n < len ? n : len;
}

static int fz_read_virtual(struct kd_target *t, unsigned cpu, uint64_t va,
			   void *buf, size_t len, size_t *done)
{
	struct fz_target *f = (struct fz_target *)t;
	size_t n = fz_span(va, len);

	(void)cpu;
	if (n)
		memcpy(buf, f->mem + (va - FZ_MEM_BASE), n);
	*done = n;
	return KD_OK;
}

static int fz_write_virtual(struct kd_target *t, unsigned cpu, uint64_t va,
			    const void *buf, size_t len, size_t *done)
{
	struct fz_target *f = (struct fz_target *)t;
	size_t n = fz_span(va, len);

	(void)cpu;
	if (n)
		memcpy(f->mem + (va - FZ_MEM_BASE), buf, n);
	*done = n;
	return KD_OK;
}

/* Physical address p is virtual FZ_MEM_BASE + p. */
static int fz_read_physical(struct kd_target *t, uint64_t pa, void *buf,
			    size_t len, size_t *done)
{
	return fz_read_virtual(t, 0, FZ_MEM_BASE + pa, buf, len, done);
}

static int fz_write_physical(struct kd_target *t, uint64_t pa, const void *buf,
			     size_t len, size_t *done)
{
	return fz_write_virtual(t, 0, FZ_MEM_BASE + pa, buf, len, done);
}

static int fz_read_control(struct kd_target *t, unsigned cpu, uint64_t sel,
			   void *buf, size_t len, size_t *done)
{
	struct kd_amd64_kspecial ks;
	uint8_t tmp[KD_AMD64_KSPECIAL_SIZE];
	size_t n = 0;

	(void)t;
	(void)cpu;
	*done = 0;
	if (sel == KD_AMD64_CS_KSPECIAL) {
		memset(&ks, 0, sizeof(ks));
		ks.cr0 = 0x80050033;
		ks.cr3 = 0x1000;
		ks.cr4 = 0x350ef8;
		ks.has_xcr0 = true;
		if (kd_amd64_kspecial_encode(tmp, sizeof(tmp), &n, &ks) < 0)
			return KD_EINVAL;
		if (n > len)
			n = len;
		memcpy(buf, tmp, n);
		*done = n;
		return KD_OK;
	}
	if (sel > KD_AMD64_CS_THREAD || len < 8)
		return KD_EINVAL;
	kd_put_le64(buf, FZ_MEM_BASE + 0x1000 * (sel + 1));
	*done = 8;
	return KD_OK;
}

static int fz_get_context(struct kd_target *t, unsigned cpu, uint8_t *ctx)
{
	(void)cpu;
	memcpy(ctx, ((struct fz_target *)t)->ctx, KD_AMD64_CONTEXT_SIZE);
	return KD_OK;
}

static int fz_set_context(struct kd_target *t, unsigned cpu, const uint8_t *ctx)
{
	(void)cpu;
	memcpy(((struct fz_target *)t)->ctx, ctx, KD_AMD64_CONTEXT_SIZE);
	return KD_OK;
}

static int fz_read_msr(struct kd_target *t, unsigned cpu, uint32_t msr,
		       uint64_t *value)
{
	(void)t;
	(void)cpu;
	*value = (uint64_t)msr * 3;
	return KD_OK;
}

static int fz_insert_bp(struct kd_target *t, unsigned cpu, uint64_t va,
			uint32_t *handle)
{
	struct fz_target *f = (struct fz_target *)t;

	(void)cpu;
	if (!fz_span(va, 1))
		return KD_EFAULT;
	*handle = ++f->next_bp;
	return KD_OK;
}

static int fz_remove_bp(struct kd_target *t, unsigned cpu, uint32_t handle)
{
	(void)t;
	(void)cpu;
	(void)handle;
	return KD_OK;
}

/* The fake never runs: resuming fails, so no command can block. */
static int fz_resume(struct kd_target *t, unsigned cpu,
		     const struct kd_resume *how)
{
	(void)t;
	(void)cpu;
	(void)how;
	return KD_ENOTSUP;
}

static int fz_wait(struct kd_target *t, int timeout_ms, struct kd_event *ev)
{
	(void)t;
	(void)timeout_ms;
	(void)ev;
	return KD_EDISCONNECTED;
}

static const struct kd_target_ops fz_ops = {
	.version = KD_TARGET_OPS_VERSION,
	.name = "fuzz",
	.caps = KD_TCAP_RUN | KD_TCAP_WRITE_MEMORY | KD_TCAP_WRITE_REGS |
		KD_TCAP_BREAKPOINTS | KD_TCAP_MSR | KD_TCAP_PHYSICAL |
		KD_TCAP_CONTROL,
	.read_virtual = fz_read_virtual,
	.write_virtual = fz_write_virtual,
	.read_physical = fz_read_physical,
	.write_physical = fz_write_physical,
	.read_control = fz_read_control,
	.get_context = fz_get_context,
	.set_context = fz_set_context,
	.read_msr = fz_read_msr,
	.insert_bp = fz_insert_bp,
	.remove_bp = fz_remove_bp,
	.resume = fz_resume,
	.wait = fz_wait,
};

static size_t fz_out_total;

static void fz_sink(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	(void)text;
	fz_out_total += len;
}

static int fz_input(void *ctx, const char *prompt, char *buf, size_t cap)
{
	(void)ctx;
	(void)prompt;
	(void)buf;
	(void)cap;
	return KD_EDISCONNECTED;
}

static void fz_fill(struct fz_target *f)
{
	size_t i;

	/* A recognisable pattern with pointers back into the memory. */
	for (i = 0; i + 8 <= FZ_MEM_SIZE; i += 8) {
		uint64_t v = UINT64_C(0x9090c3cc4883ec28) + i;

		if (i & 0x40)
			v = FZ_MEM_BASE + i * 3 % FZ_MEM_SIZE;
		kd_put_le64(f->mem + i, v);
	}
	(void)kd_amd64_context_set(f->ctx, sizeof(f->ctx), KD_AMD64_RAX,
				   0x1234);
	(void)kd_amd64_context_set(f->ctx, sizeof(f->ctx), KD_AMD64_RSP,
				   FZ_MEM_BASE + 0x8000);
	(void)kd_amd64_context_set(f->ctx, sizeof(f->ctx), KD_AMD64_RIP,
				   FZ_MEM_BASE + 0x100);
	(void)kd_amd64_context_set(f->ctx, sizeof(f->ctx), KD_AMD64_EFLAGS,
				   0x246);
	(void)kd_amd64_context_set(f->ctx, sizeof(f->ctx), KD_AMD64_CS, 0x10);
}

static void fz_run(struct kd_session *s, const char *line)
{
	const char *end = NULL;
	uint64_t v = 0;

	(void)kd_expr_eval(s, line, &end, &v);
	/* And what follows the first expression (range counts, values). */
	if (end && *end != '\0' && end != line)
		(void)kd_expr_eval(s, end, &end, &v);
	(void)kd_session_execute(s, line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz_target fake;
	struct kd_session *s = NULL;
	char *line;

	if (size > FZ_MAX_INPUT)
		return 0;
	line = malloc(size + 1);
	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';

	/* Dormant: no target at all. */
	if (kd_session_new(&s, NULL) == KD_OK) {
		s->sandbox = true;
		kd_session_set_output(s, fz_sink, NULL);
		kd_session_set_input(s, fz_input, NULL);
		fz_run(s, line);
		kd_session_free(s);
		s = NULL;
	}

	/* Stopped on a small fake target. */
	memset(&fake, 0, sizeof(fake));
	fz_fill(&fake);
	fake.t.ops = &fz_ops;
	if (kd_session_new(&s, NULL) == KD_OK) {
		fake.t.session = s;
		s->sandbox = true;
		kd_session_set_output(s, fz_sink, NULL);
		kd_session_set_input(s, fz_input, NULL);
		s->target = &fake.t;
		s->tgt.ncpus = 1;
		s->tgt.cpus = kd_calloc(1, sizeof(*s->tgt.cpus));
		s->tgt.have_version = true;
		s->tgt.version.flags = KD_VERS_FLAG_PTR64 | KD_VERS_FLAG_MP;
		if (s->tgt.cpus)
			fz_run(s, line);
		/* The fake is static: do not let the session close it. */
		s->target = NULL;
		kd_session_free(s);
	}
	free(line);
	return 0;
}
