/* SPDX-License-Identifier: MIT */
/*
 * The session: owns the target, the per-processor register state and the
 * memory cache, and gives the command files one way to reach them.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <string.h>
#include <time.h>

#include "core/engine_int.h"
#include "core/memcache.h"

uint64_t kd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int kd_session__create(struct kd_session **out,
		       const struct kd_session_opts *opts)
{
	struct kd_session *s;

	*out = NULL;
	if (opts && opts->version != KD_SESSION_OPTS_VERSION)
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_ENGINE,
				    "session options version %u unknown",
				    opts->version);
	s = kd_calloc(1, sizeof(*s));
	if (!s)
		return KD_ENOMEM;
	if (opts)
		s->opts = *opts;
	else
		s->opts.version = KD_SESSION_OPTS_VERSION;
	if (s->opts.request_timeout_ms <= 0)
		s->opts.request_timeout_ms = 5000;
	if (s->opts.attach_timeout_ms <= 0)
		s->opts.attach_timeout_ms = 10000;
	s->cache = kd_memcache_new();
	if (!s->cache) {
		kd_free(s);
		return KD_ENOMEM;
	}
	s->out.at_line_start = true;
	*out = s;
	return KD_OK;
}

/* Forget everything learned from the target (detach, reconnect). */
void kd_session_reset_target_state(struct kd_session *s)
{
	size_t i;

	kd_cache_invalidate(s);
	if (s->hooks.modules_free)
		s->hooks.modules_free(s);
	if (s->hooks.disasm_close)
		s->hooks.disasm_close(s);
	kd_free(s->tgt.cpus);
	s->tgt.cpus = NULL;
	s->tgt.ncpus = 0;
	s->tgt.cpu = 0;
	s->tgt.have_version = false;
	memset(&s->tgt.id, 0, sizeof(s->tgt.id));
	s->tgt.have_kdbg = false;
	s->tgt.running = false;
	for (i = 0; i < KD_MAX_BPS; i++)
		s->exec.bps[i].inserted = false;
	memset(&s->tgt.last, 0, sizeof(s->tgt.last));
}

void kd_session_free(struct kd_session *s)
{
	size_t i;

	if (!s)
		return;
	/* Server threads use the session: stop them first. */
	if (s->hooks.servers_close)
		s->hooks.servers_close(s, NULL);
	if (s->target && s->target->ops->close)
		s->target->ops->close(s->target);
	s->target = NULL;
	kd_session_reset_target_state(s);
	for (i = 0; i < KD_MAX_BPS; i++) {
		kd_free(s->exec.bps[i].expr);
		kd_free(s->exec.bps[i].command);
	}
	if (s->hooks.aliases_free)
		s->hooks.aliases_free(s);
	if (s->out.log)
		fclose(s->out.log);
	kd_memcache_free(s->cache);
	kd_free(s);
}

void kd_session_set_output(struct kd_session *s, kd_output_fn fn, void *ctx)
{
	s->out.out_fn = fn;
	s->out.out_ctx = ctx;
}

void kd_session_set_input(struct kd_session *s, kd_input_fn fn, void *ctx)
{
	s->out.in_fn = fn;
	s->out.in_ctx = ctx;
}

void kd_session_interrupt(struct kd_session *s)
{
	s->interrupt = 1;
}

bool kd_session_running(const struct kd_session *s)
{
	return s->tgt.running;
}

bool kd_session_quit_requested(const struct kd_session *s)
{
	return s->quit;
}

unsigned long kd_session_failures(const struct kd_session *s)
{
	return s->failures;
}

const char *kd_session_prompt(struct kd_session *s)
{
	if (s->tgt.ncpus > 1)
		snprintf(s->out.prompt, sizeof(s->out.prompt), "%u: kd> ",
			 s->tgt.cpu);
	else
		snprintf(s->out.prompt, sizeof(s->out.prompt), "kd> ");
	return s->out.prompt;
}

int kd_require_stopped(struct kd_session *s)
{
	if (!s->target)
		return kd_fail(s, KD_EINVAL,
			       "No target: attach with -k or open a dump with "
			       "-z first");
	if (s->tgt.running)
		return kd_fail(s, KD_EBUSY,
			       "Target is running: break in with Ctrl+C first");
	if (!s->tgt.cpus || s->tgt.ncpus == 0)
		return kd_fail(s, KD_EINVAL, "Target state is not available");
	return KD_OK;
}

/* ---- registers (the CONTEXT itself: arch/arch.c) ---- */

int kd_kspecial(struct kd_session *s, unsigned cpu,
		struct kd_amd64_kspecial **ks)
{
	struct kd_cpu *c;
	uint8_t buf[KD_AMD64_KSPECIAL_SIZE];
	size_t done = 0;
	int rc;

	if (!s->target || !s->tgt.cpus || cpu >= s->tgt.ncpus)
		return KD_EINVAL;
	c = &s->tgt.cpus[cpu];
	if (!c->ks_valid) {
		if (!s->target->ops->read_control)
			return KD_ENOTSUP;
		rc = s->target->ops->read_control(s->target, cpu,
						  KD_AMD64_CS_KSPECIAL, buf,
						  sizeof(buf), &done);
		if (rc < 0)
			return rc;
		rc = kd_amd64_kspecial_decode(&c->ks, buf, done);
		if (rc < 0)
			return rc;
		c->ks_valid = true;
	}
	*ks = &c->ks;
	return KD_OK;
}

/* Forget register state (the target ran). */
void kd_cpus_invalidate(struct kd_session *s)
{
	unsigned i;

	s->scope.ctx_set = false;
	s->scope.frame_set = false;
	for (i = 0; i < s->tgt.ncpus; i++) {
		s->tgt.cpus[i].valid = false;
		s->tgt.cpus[i].dirty = false;
		s->tgt.cpus[i].ks_valid = false;
	}
}

/* ---- failed requests ---- */

int kd_target_failed(struct kd_session *s, int rc)
{
	if (rc >= 0)
		rc = KD_ERROR;
	if (s->cmd.cmd_depth == 0 || s->cmd.target_err)
		return rc; /* attach reports its own; the first one counts */
	s->cmd.target_err = rc;
	snprintf(s->cmd.target_err_msg, sizeof(s->cmd.target_err_msg), "%s",
		 kd_error_message(rc));
	return rc;
}

int kd_target_failure(struct kd_session *s)
{
	if (!s->cmd.target_err)
		return KD_OK;
	return kd_error_set(s->cmd.target_err, KD_ERRCLASS_ENGINE, "%s",
			    s->cmd.target_err_msg);
}

/* ---- memory ---- */

int kd_read_virtual_all(struct kd_session *s, uint64_t va, void *buf,
			size_t len)
{
	size_t done = 0;
	int rc = kd_read_virtual(s, va, buf, len, &done);

	if (rc < 0)
		return rc;
	return done == len ? KD_OK : KD_EFAULT;
}

int kd_read_u64(struct kd_session *s, uint64_t va, uint64_t *v)
{
	uint8_t b[8];
	int rc = kd_read_virtual_all(s, va, b, 8);

	if (rc == KD_OK)
		*v = kd_get_le64(b);
	return rc;
}

int kd_read_u32(struct kd_session *s, uint64_t va, uint32_t *v)
{
	uint8_t b[4];
	int rc = kd_read_virtual_all(s, va, b, 4);

	if (rc == KD_OK)
		*v = kd_get_le32(b);
	return rc;
}

int kd_read_physical(struct kd_session *s, uint64_t pa, void *buf, size_t len,
		     size_t *done)
{
	*done = 0;
	if (!s->target)
		return KD_EINVAL;
	if (!s->target->ops->read_physical)
		return KD_ENOTSUP;
	return s->target->ops->read_physical(s->target, pa, buf, len, done);
}

int kd_write_physical(struct kd_session *s, uint64_t pa, const void *buf,
		      size_t len, size_t *done)
{
	*done = 0;
	if (!s->target)
		return KD_EINVAL;
	if (!s->target->ops->write_physical)
		return KD_ENOTSUP;
	/* Physical writes may alias any virtual page. */
	kd_cache_invalidate(s);
	return s->target->ops->write_physical(s->target, pa, buf, len, done);
}
