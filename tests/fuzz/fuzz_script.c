/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the scripting layer (cmd/cmd_script.c): alias
 * definition and replacement (as, aS, ad, ${} forms, $u0), .printf
 * format parsing and the loops.  The input is a script, one command line
 * a line, run on a sandboxed session around a fake target whose memory
 * is the input itself, so %ma / %mu / %msa / %msu and as /ma read
 * hostile strings and _STRING headers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_INPUT 8192
#define FZ_MAX_LINES 64
#define FZ_MEM_BASE UINT64_C(0xfffff80010000000)

struct fz_target {
	struct kd_target t;
	const uint8_t *mem;
	size_t size;
	uint8_t ctx[KD_AMD64_CONTEXT_SIZE];
};

static int fz_read_virtual(struct kd_target *t, unsigned cpu, uint64_t va,
			   void *buf, size_t len, size_t *done)
{
	struct fz_target *f = (struct fz_target *)t;
	size_t n = 0;

	(void)cpu;
	if (va >= FZ_MEM_BASE && va - FZ_MEM_BASE < f->size) {
		n = f->size - (size_t)(va - FZ_MEM_BASE);
		if (n > len)
			n = len;
		memcpy(buf, f->mem + (va - FZ_MEM_BASE), n);
	}
	*done = n;
	return KD_OK;
}

static int fz_get_context(struct kd_target *t, unsigned cpu, uint8_t *ctx)
{
	(void)cpu;
	memcpy(ctx, ((struct fz_target *)t)->ctx, KD_AMD64_CONTEXT_SIZE);
	return KD_OK;
}

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
	.name = "fuzz-script",
	.read_virtual = fz_read_virtual,
	.get_context = fz_get_context,
	.resume = fz_resume,
	.wait = fz_wait,
};

static void fz_sink(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	(void)text;
	(void)len;
}

/* Aliases every input starts with, so replacement always has work. */
static const char *const fz_prelude[] = {
	"aS A1 0x10",
	"aS /x X2 A1+1",
	"r $.u1 = poi",
	"r $t0 = 0xfffff80010000000",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz_target fake;
	struct kd_session *s = NULL;
	char *text, *p;
	size_t i;
	int lines = 0;

	if (size > FZ_MAX_INPUT)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	memset(&fake, 0, sizeof(fake));
	fake.t.ops = &fz_ops;
	fake.mem = data;
	fake.size = size;
	(void)kd_amd64_context_set(fake.ctx, sizeof(fake.ctx), KD_AMD64_RIP,
				   FZ_MEM_BASE);
	if (kd_session_new(&s, NULL) != KD_OK) {
		free(text);
		return 0;
	}
	fake.t.session = s;
	s->sandbox = true;
	kd_session_set_output(s, fz_sink, NULL);
	s->target = &fake.t;
	s->tgt.ncpus = 1;
	s->tgt.cpus = kd_calloc(1, sizeof(*s->tgt.cpus));
	s->tgt.have_version = true;
	s->tgt.version.flags = KD_VERS_FLAG_PTR64;
	if (s->tgt.cpus) {
		for (i = 0; i < sizeof(fz_prelude) / sizeof(fz_prelude[0]); i++)
			(void)kd_session_execute(s, fz_prelude[i]);
		p = text;
		while (*p && lines++ < FZ_MAX_LINES && !s->quit) {
			char *nl = strchr(p, '\n');

			if (nl)
				*nl = '\0';
			(void)kd_session_execute(s, p);
			if (!nl)
				break;
			p = nl + 1;
		}
	}
	/* The fake is static: do not let the session close it. */
	s->target = NULL;
	kd_session_free(s);
	free(text);
	return 0;
}
