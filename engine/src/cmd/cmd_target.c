/* SPDX-License-Identifier: MIT */
/*
 * Following the target's stops: opening it for the session (kd -k, kd -z
 * through kd_target_open), stop reports (breakpoint hits, break-in,
 * exceptions), breakpoint commands, reboots and re-connection, and the
 * core commands that belong to the session itself (vertarget, q,
 * .reboot, .crash, .kdlink).  Above the targets: it may run commands.
 */
#include <string.h>

#include <kd/link.h>

#include "core/engine_int.h"
#include "core/memcache.h"

static int kd_cmd_vertarget(struct kd_session *s, struct kd_cmdctx *c)
{
	(void)c;
	kd_target_print_version(s);
	return KD_OK;
}

/* True once after the target restarted (targets that can). */
static bool kd_take_reconnected(struct kd_session *s)
{
	return s->target->ops->take_reconnected &&
	       s->target->ops->take_reconnected(s->target);
}

static void kd_print_banner_box(struct kd_session *s)
{
	static const char *const lines[] = {
		"You are seeing this message because you pressed either",
		"    CTRL+C (if you run console kernel debugger) or,",
		"    CTRL+BREAK (if you run GUI kernel debugger),",
		"on your debugger machine's keyboard.",
		"",
		"                  THIS IS NOT A BUG OR A SYSTEM CRASH",
		"",
		"If you did not intend to break into the debugger, press the \"g\" "
		"key, then",
		"press the \"Enter\" key now.  This message might immediately "
		"reappear.  If it",
		"does, press \"g\" and \"Enter\" again.",
	};
	size_t i;

	kd_out(s, "%s\n",
	       "*****************************************"
	       "**************************************");
	for (i = 0; i < KD_ARRAY_SIZE(lines); i++)
		kd_out(s, "*%-77s*\n", lines[i][0] ? lines[i] : "");
	kd_out(s, "%s\n",
	       "*****************************************"
	       "**************************************");
}

static const char *kd_exception_name(uint32_t code)
{
	switch (code) {
	case KD_STATUS_BREAKPOINT:
		return "Break instruction exception";
	case KD_STATUS_SINGLE_STEP:
		return "Single step exception";
	case 0xC0000005u:
		return "Access violation";
	case 0xC000001Du:
		return "Illegal instruction";
	case 0xC0000094u:
		return "Integer divide-by-zero";
	case 0x80000002u:
		return "Data misaligned";
	default:
		return "Unknown exception";
	}
}

/* Remove every breakpoint from the target (done at each stop). */
static void kd_bps_pull(struct kd_session *s)
{
	size_t i;

	for (i = 0; i < KD_MAX_BPS; i++) {
		struct kd_bp *b = &s->exec.bps[i];

		if (b->kind == KD_BP_SOFT && b->inserted) {
			if (s->target->ops->remove_bp)
				(void)s->target->ops->remove_bp(
					s->target, s->tgt.cpu, b->handle);
			b->inserted = false;
		}
	}
	kd_exec_pull_temps(s);
}

/* Which user breakpoint does this stop belong to?  -1 for none. */
static int kd_bp_for_event(struct kd_session *s, const struct kd_event *ev)
{
	size_t i;

	for (i = 0; i < KD_MAX_BPS; i++) {
		struct kd_bp *b = &s->exec.bps[i];

		if (!b->used || !b->enabled || b->deferred)
			continue;
		if (b->kind == KD_BP_SOFT && ev->code == KD_STATUS_BREAKPOINT &&
		    b->addr == ev->pc)
			return (int)i;
		if (b->kind == KD_BP_HW && ev->code == KD_STATUS_SINGLE_STEP &&
		    (ev->dr6 & (1u << b->hw_slot)))
			return (int)i;
	}
	return -1;
}

bool kd_event_stop(struct kd_session *s, const struct kd_event *ev)
{
	int id;

	s->tgt.running = false;
	s->tgt.last = *ev;
	if (ev->cpu < s->tgt.ncpus)
		s->tgt.cpu = ev->cpu;
	kd_cpus_invalidate(s);
	kd_cache_invalidate(s);
	kd_bps_pull(s);

	if (kd_exec_temp_hit(s, ev))
		return kd_exec_temp_continue(s, ev);

	id = kd_bp_for_event(s, ev);
	if (id >= 0) {
		struct kd_bp *b = &s->exec.bps[id];

		if (b->passes_left > 1) {
			b->passes_left--;
			return true; /* not yet: run on */
		}
		b->passes_left = b->passes;
		kd_out(s, "Breakpoint %d hit\n", id);
		kd_print_current_instruction(s);
		if (b->one_shot) {
			kd_free(b->expr);
			kd_free(b->command);
			memset(b, 0, sizeof(*b));
		} else if (b->command) {
			return kd_exec_bp_commands(s, b->command);
		}
		return false;
	}
	if (s->exec.stepping)
		return false; /* the step command reports */
	if (ev->kind == KD_EV_EXCEPTION) {
		kd_out(s, "%s - code %08x (%s)\n", kd_exception_name(ev->code),
		       ev->code,
		       ev->first_chance ? "first chance" :
					  "!!! second chance !!!");
		if (ev->code == KD_STATUS_BREAKPOINT &&
		    s->exec.breakin_requested)
			kd_print_banner_box(s);
	}
	s->exec.breakin_requested = false;
	kd_print_current_instruction(s);
	return false;
}

static void kd_print_shutdown(struct kd_session *s)
{
	char when[96];

	kd_fmt_local_time(when, sizeof(when), kd_now_ms());
	kd_out(s, "Shutdown occurred at (%s)...unloading all symbol tables.\n",
	       when);
	kd_out(s, "Waiting to reconnect...\n");
}

/*
 * Wait for the next real stop: module loads are acknowledged and the
 * target resumed, breakpoint commands may resume it, reboots are told.
 */
static int kd_wait_stop(struct kd_session *s, int timeout_ms)
{
	uint64_t deadline = timeout_ms < 0 ?
				    UINT64_MAX :
				    kd_mono_ms() + (uint64_t)timeout_ms;

	while (s->tgt.running) {
		struct kd_event ev;
		uint64_t now = kd_mono_ms();
		int left = -1;
		int rc;

		if (timeout_ms >= 0) {
			if (now >= deadline)
				return KD_ETIMEOUT;
			left = (int)(deadline - now);
		}
		rc = s->target->ops->wait(s->target, left, &ev);
		if (kd_take_reconnected(s)) {
			kd_print_shutdown(s);
			s->tgt.reattach = true;
		}
		if (rc == KD_ETIMEOUT)
			continue;
		if (rc < 0)
			return kd_fail(s, rc, "Lost the target: %s",
				       kd_error_message(rc));
		if (s->interrupt)
			s->exec.breakin_requested = true;
		s->interrupt = 0;
		if (s->tgt.reattach || !s->tgt.cpus ||
		    kd_target_ncpus_used(ev.ncpus) != s->tgt.ncpus) {
			s->tgt.reattach = false;
			kd_session_reset_target_state(s);
			s->tgt.running = true;
			rc = kd_target_first_stop(s, &ev);
			if (rc < 0)
				return rc;
		}
		if (ev.kind == KD_EV_LOAD || ev.kind == KD_EV_UNLOAD) {
			struct kd_resume go = { KD_DBG_CONTINUE, false, 0 };

			s->sym.modules_valid = false;
			rc = s->target->ops->resume(s->target, ev.cpu, &go);
			if (rc < 0)
				return rc;
			continue;
		}
		if (ev.kind != KD_EV_EXCEPTION) {
			struct kd_resume go = { KD_DBG_CONTINUE, false, 0 };

			rc = s->target->ops->resume(s->target, ev.cpu, &go);
			if (rc < 0)
				return rc;
			continue;
		}
		if (kd_event_stop(s, &ev)) {
			rc = kd_exec_continue(s);
			if (rc < 0)
				return rc;
		}
	}
	return KD_OK;
}

int kd_session_wait(struct kd_session *s, int timeout_ms)
{
	if (!s->target)
		return KD_EINVAL;
	return kd_wait_stop(s, timeout_ms);
}

int kd_exec_wait(struct kd_session *s)
{
	return kd_wait_stop(s, -1);
}

int kd_session_attach(struct kd_session *s, const char *connstr)
{
	struct kd_event ev;
	int rc;

	rc = kd_target_open(s, connstr, &ev);
	if (rc < 0 || ev.kind == KD_EV_NONE)
		return rc;
	if (ev.kind != KD_EV_EXCEPTION || kd_event_stop(s, &ev)) {
		s->tgt.running = true;
		rc = kd_exec_continue(s);
		if (rc < 0) {
			s->target->ops->close(s->target);
			s->target = NULL;
			kd_session_reset_target_state(s);
			return rc;
		}
		return kd_wait_stop(s, s->opts.attach_timeout_ms);
	}
	return KD_OK;
}

int kd_session_open_dump(struct kd_session *s, const char *path)
{
	struct kd_event ev;
	char spec[4200];
	int n;

	n = snprintf(spec, sizeof(spec), "file:%s", path);
	if (n < 0 || (size_t)n >= sizeof(spec))
		return kd_fail(s, KD_EINVAL,
			       "Could not open dump file: the path is longer "
			       "than %zu bytes",
			       sizeof(spec) - 6);
	return kd_target_open(s, spec, &ev);
}

/* ---- core commands ---- */

static int kd_cmd_quit(struct kd_session *s, struct kd_cmdctx *c)
{
	/* windbg-conventions §2.5: a remote client's `q` leaves the
	 * session alone; `qq` ends the server. */
	if (s->dbgsrv.remote_cmd && strcmp(c->name, "q") == 0) {
		kd_out(s, "Exit a remote ntsd/cdb client with Ctrl-b<enter>.\n"
			  "Exit a remote windbg client with File.Exit "
			  "(Alt-F4).\n"
			  "If you really want the server to quit use an extra "
			  "q, such as 'qq' or 'qqd'.\n");
		return KD_OK;
	}
	s->quit = true;
	return KD_OK;
}

/*
 * After .reboot or .crash the machine restarts: wait for it to come back
 * (serial re-sync, or its boot output), then break in and re-attach.
 */
static int kd_wait_reboot(struct kd_session *s)
{
	uint64_t t0 = kd_mono_ms();
	unsigned long prints = s->tgt.prints_seen;
	struct kd_event ev;
	int rc;

	kd_print_shutdown(s);
	s->tgt.running = true;
	while (kd_mono_ms() - t0 < (uint64_t)s->opts.attach_timeout_ms) {
		rc = s->target->ops->wait(s->target, 100, &ev);
		if (kd_take_reconnected(s) || s->tgt.prints_seen != prints ||
		    rc == KD_OK)
			break;
		if (rc < 0 && rc != KD_ETIMEOUT)
			return kd_fail(s, rc, "Lost the target: %s",
				       kd_error_message(rc));
	}
	s->tgt.reattach = true;
	s->exec.breakin_requested = true;
	rc = s->target->ops->break_in(s->target);
	if (rc < 0)
		return rc;
	return kd_wait_stop(s, s->opts.attach_timeout_ms);
}

static int kd_cmd_reboot(struct kd_session *s, struct kd_cmdctx *c)
{
	int rc;

	(void)c;
	if (kd_target_require_run(s, "reboot") < 0)
		return KD_ENOTSUP;
	if (!kd_target_has(s, KD_TCAP_REBOOT))
		return kd_fail(s, KD_ENOTSUP, "This target cannot reboot");
	rc = s->target->ops->reboot(s->target);
	if (rc < 0)
		return kd_fail(s, rc, "Reboot failed: %s",
			       kd_error_message(rc));
	return kd_wait_reboot(s);
}

static int kd_cmd_crash(struct kd_session *s, struct kd_cmdctx *c)
{
	int rc;

	(void)c;
	if (kd_target_require_run(s, "crash") < 0)
		return KD_ENOTSUP;
	if (!kd_target_has(s, KD_TCAP_CRASH))
		return kd_fail(s, KD_ENOTSUP, "This target cannot crash");
	rc = kd_cpus_flush(s);
	if (rc == KD_OK)
		rc = s->target->ops->crash(
			s->target, s->tgt.cpu,
			KD_BUGCHECK_MANUALLY_INITIATED_CRASH);
	if (rc < 0)
		return kd_fail(s, rc, ".crash failed: %s",
			       kd_error_message(rc));
	s->tgt.running = true;
	kd_cache_invalidate(s);
	kd_cpus_invalidate(s);
	/* The bug check stops at DbgBreakPointWithStatus. */
	return kd_wait_stop(s, s->opts.attach_timeout_ms);
}

/* .kdlink: the link's counters, for checking a noisy or slow connection. */
static int kd_cmd_kdlink(struct kd_session *s, struct kd_cmdctx *c)
{
	struct kd_link *link = NULL;
	struct kd_link_stats st;
	uint64_t stray = 0, resent = 0;

	(void)c;
	if (kd_target_has(s, KD_TCAP_LINK))
		link = s->target->ops->link(s->target, &stray, &resent);
	if (!link)
		return kd_fail(s, KD_ENOTSUP, "No live KD connection");
	kd_link_stats(link, &st);
	kd_out(s, "packets sent         %llu\n",
	       (unsigned long long)st.packets_sent);
	kd_out(s, "packets received     %llu\n",
	       (unsigned long long)st.packets_received);
	kd_out(s, "retransmissions      %llu\n",
	       (unsigned long long)st.retransmissions);
	kd_out(s, "requests asked again %llu\n", (unsigned long long)resent);
	kd_out(s, "stray replies        %llu\n", (unsigned long long)stray);
	kd_out(s, "duplicates           %llu\n",
	       (unsigned long long)st.duplicates);
	kd_out(s, "bad packets          %llu\n",
	       (unsigned long long)(st.bad_checksums + st.bad_trailers +
				    st.bad_lengths + st.bad_headers));
	kd_out(s, "resyncs              %llu\n",
	       (unsigned long long)st.resyncs);
	return KD_OK;
}

const struct kd_command kd_cmds_core[] = {
	{ ".kdlink", kd_cmd_kdlink, 0,
	  "show the KD link's counters (resends, stray replies...)" },
	{ "q", kd_cmd_quit, 0, "quit (the target stays as it is)" },
	{ "qq", kd_cmd_quit, 0, "quit" },
	{ "vertarget", kd_cmd_vertarget, KD_CMDF_STOPPED,
	  "show the target's version" },
	{ ".reboot", kd_cmd_reboot, KD_CMDF_STOPPED, "reboot the target" },
	{ ".crash", kd_cmd_crash, KD_CMDF_STOPPED,
	  "bug check the target (0xE2)" },
	{ NULL, NULL, 0, NULL },
};
