/* SPDX-License-Identifier: MIT */
/*
 * Execution control: g, gc, gu, p, t, pc, tc, ~Ns, and following the
 * target's stops: stop reports (breakpoint hits, break-in, exceptions),
 * breakpoint commands, waiting, reboots and re-connection (attach,
 * .reboot and .crash in cmd_target.c use them).  Breakpoints live in
 * the target only while it runs: they are inserted on resume and pulled at
 * every stop, and a resume from an address that holds one first steps over
 * it with none inserted.  Step-over and go-up use temporary breakpoints
 * guarded by the stack pointer, so recursion does not stop them early.
 */
#include <string.h>

#include "cmd/args.h"
#include "core/engine_int.h"
#include "cmd/bugcodes.h"
#include "cmd/cmd_sx.h"
#include "arch/arch.h"
#include "core/memcache.h"

#define KD_STEP_LIMIT 100000u /* pc/tc: instructions before giving up */

void kd_exec_pull_temps(struct kd_session *s)
{
	unsigned i;

	for (i = 0; i < s->exec.ntemps; i++) {
		struct kd_temp_bp *t = &s->exec.temps[i];

		if (t->inserted && s->target->ops->remove_bp)
			(void)s->target->ops->remove_bp(s->target, s->tgt.cpu,
							t->handle);
		t->inserted = false;
	}
}

bool kd_exec_temp_hit(struct kd_session *s, const struct kd_event *ev)
{
	unsigned i;

	if (ev->kind != KD_EV_EXCEPTION || ev->code != KD_STATUS_BREAKPOINT)
		return false;
	for (i = 0; i < s->exec.ntemps; i++)
		if (s->exec.temps[i].addr == ev->pc)
			return true;
	return false;
}

bool kd_exec_temp_continue(struct kd_session *s, const struct kd_event *ev)
{
	uint64_t rsp = 0;
	unsigned i;

	for (i = 0; i < s->exec.ntemps; i++) {
		const struct kd_temp_bp *t = &s->exec.temps[i];

		if (t->addr != ev->pc)
			continue;
		if (t->cpu != ~0u && t->cpu != ev->cpu)
			return true; /* another processor passing by */
		if (t->min_sp && kd_sp_get(s, &rsp) == KD_OK &&
		    rsp <= t->min_sp)
			return true; /* a deeper frame: keep going */
	}
	s->exec.ntemps = 0;
	if (!s->exec.stepping)
		kd_print_current_instruction(s);
	return false;
}

bool kd_exec_bp_commands(struct kd_session *s, const char *cmds)
{
	bool resume;

	if (s->exec.bp_cmd_depth >= 4)
		return false;
	s->exec.bp_cmd_depth++;
	s->exec.resume_requested = false;
	(void)kd_session_execute(s, cmds);
	resume = s->exec.resume_requested;
	s->exec.resume_requested = false;
	s->exec.bp_cmd_depth--;
	return resume;
}

/* Is there an enabled execute breakpoint or a temporary one at @p pc? */
static bool bp_at(struct kd_session *s, uint64_t pc)
{
	unsigned i;

	for (i = 0; i < KD_MAX_BPS; i++) {
		const struct kd_bp *b = &s->exec.bps[i];

		if (!b->used || !b->enabled || b->deferred || b->addr != pc)
			continue;
		if (b->kind == KD_BP_SOFT ||
		    (b->kind == KD_BP_HW && b->hw_access == 'e'))
			return true;
	}
	for (i = 0; i < s->exec.ntemps; i++)
		if (s->exec.temps[i].addr == pc)
			return true;
	return false;
}

/* The Dr7 value for the enabled hardware breakpoints. */
static uint64_t hw_dr7(struct kd_session *s)
{
	uint64_t dr7 = 0;
	unsigned i;

	for (i = 0; i < KD_MAX_BPS; i++) {
		const struct kd_bp *b = &s->exec.bps[i];
		uint64_t rw, len;

		if (!b->used || !b->enabled || b->kind != KD_BP_HW)
			continue;
		rw = b->hw_access == 'e' ? 0 :
		     b->hw_access == 'w' ? 1 :
		     b->hw_access == 'i' ? 2 :
					   3;
		len = b->hw_size == 1 ? 0 :
		      b->hw_size == 2 ? 1 :
		      b->hw_size == 8 ? 2 :
					3;
		dr7 |= 1ull << (b->hw_slot * 2);
		dr7 |= (rw | len << 2) << (16 + b->hw_slot * 4);
	}
	return dr7;
}

/* Load Dr0-3 and Dr7 into every processor's context (by name from the
 * machine's register table: a machine without them has no such slots). */
static int hw_load(struct kd_session *s, uint64_t dr7)
{
	static const char *const dregs[4] = { "dr0", "dr1", "dr2", "dr3" };
	const struct kd_arch_ops *a = kd_arch(s);
	const struct kd_arch_reg *ctl = kd_arch_reg_find(a, "dr7", 3, 0);
	unsigned cpu, i;
	int rc;

	if (!ctl)
		return KD_ENOTSUP;
	for (cpu = 0; cpu < s->tgt.ncpus; cpu++) {
		uint8_t *ctx;
		uint64_t old;

		rc = kd_context(s, cpu, &ctx);
		if (rc < 0)
			return rc;
		old = kd_arch_ctx_load(ctx, ctl);
		if (old == dr7 && dr7 == 0)
			continue;
		for (i = 0; i < KD_MAX_BPS; i++) {
			const struct kd_bp *b = &s->exec.bps[i];
			const struct kd_arch_reg *r;

			if (!b->used || !b->enabled || b->kind != KD_BP_HW)
				continue;
			r = kd_arch_reg_find(a, dregs[b->hw_slot & 3], 3, 0);
			if (r)
				(void)kd_arch_ctx_store(ctx, r, b->addr);
		}
		(void)kd_arch_ctx_store(ctx, ctl, dr7);
		s->tgt.cpus[cpu].dirty = true;
	}
	return KD_OK;
}

static void mark_running(struct kd_session *s)
{
	s->tgt.running = true;
	kd_cache_invalidate(s);
	kd_cpus_invalidate(s);
}

/*
 * Execute one instruction of the current processor with no breakpoints in
 * the target; the stop comes back in *ev (module loads acknowledged).
 */
static int step_raw(struct kd_session *s, struct kd_event *ev)
{
	struct kd_resume how = { KD_DBG_CONTINUE, true, 0 };
	int rc;

	rc = kd_cpus_flush(s);
	if (rc < 0)
		return rc;
	rc = s->target->ops->resume(s->target, s->tgt.cpu, &how);
	if (rc < 0)
		return rc;
	mark_running(s);
	for (;;) {
		rc = s->target->ops->wait(s->target, s->opts.request_timeout_ms,
					  ev);
		if (rc < 0)
			return kd_fail(s, rc,
				       "The target did not finish the "
				       "step: %s",
				       kd_error_message(rc));
		if (ev->kind == KD_EV_EXCEPTION)
			return KD_OK;
		s->sym.modules_valid = false;
		how.trace = ev->kind == KD_EV_EXCEPTION;
		rc = s->target->ops->resume(s->target, ev->cpu, &how);
		if (rc < 0)
			return rc;
	}
}

/* Insert breakpoints and resume; the caller waits. */
int kd_exec_continue(struct kd_session *s)
{
	struct kd_resume how = { KD_DBG_CONTINUE, false, 0 };
	uint64_t pc = 0;
	unsigned i;
	int rc;

	rc = kd_pc_get(s, &pc);
	if (rc < 0)
		return kd_fail(s, rc, "Cannot read the registers: %s",
			       kd_error_message(rc));
	if (bp_at(s, pc)) {
		struct kd_event ev;
		bool saved = s->exec.stepping;

		rc = step_raw(s, &ev);
		if (rc < 0)
			return rc;
		if (ev.code != KD_STATUS_SINGLE_STEP) {
			/* Something else happened in that instruction. */
			s->exec.stepping = false;
			if (!kd_event_stop(s, &ev)) {
				s->exec.stepping = saved;
				return KD_OK;
			}
			s->exec.stepping = saved;
		} else {
			s->tgt.running = false;
			s->tgt.last = ev;
			s->tgt.cpu = ev.cpu < s->tgt.ncpus ? ev.cpu :
							     s->tgt.cpu;
		}
	}
	for (i = 0; i < KD_MAX_BPS; i++) {
		struct kd_bp *b = &s->exec.bps[i];

		if (!b->used || !b->enabled || b->deferred ||
		    b->kind != KD_BP_SOFT || b->inserted)
			continue;
		rc = s->target->ops->insert_bp(s->target, s->tgt.cpu, b->addr,
					       &b->handle);
		if (rc < 0) {
			kd_out(s,
			       "Unable to insert breakpoint %u at %llx, "
			       "disabled\n",
			       i, (unsigned long long)b->addr);
			b->enabled = false;
			continue;
		}
		b->inserted = true;
	}
	for (i = 0; i < s->exec.ntemps; i++) {
		struct kd_temp_bp *t = &s->exec.temps[i];

		if (s->target->ops->insert_bp(s->target, s->tgt.cpu, t->addr,
					      &t->handle) == KD_OK)
			t->inserted = true;
	}
	how.dr7 = hw_dr7(s);
	rc = hw_load(s, how.dr7);
	if (rc == KD_OK)
		rc = kd_cpus_flush(s);
	if (rc < 0)
		return kd_fail(s, rc, "Cannot write the registers: %s",
			       kd_error_message(rc));
	rc = s->target->ops->resume(s->target, s->tgt.cpu, &how);
	if (rc < 0)
		return kd_fail(s, rc, "Cannot resume the target: %s",
			       kd_error_message(rc));
	mark_running(s);
	return KD_OK;
}

/* ---- stops ---- */

/* True once after the target restarted (targets that can). */
static bool cmd_exec_take_reconnected(struct kd_session *s)
{
	return s->target->ops->take_reconnected &&
	       s->target->ops->take_reconnected(s->target);
}

static void print_banner_box(struct kd_session *s)
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

const char *kd_cmd__exception_name(uint32_t code)
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
	case 0xC0000420u:
		return "Assertion failure";
	default:
		return "Unknown exception";
	}
}

/* Remove every breakpoint from the target (done at each stop). */
static void bps_pull(struct kd_session *s)
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
static int bp_for_event(struct kd_session *s, const struct kd_event *ev)
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
	s->exec.event_ms = kd_now_ms();
	if (ev->cpu < s->tgt.ncpus)
		s->tgt.cpu = ev->cpu;
	kd_cpus_invalidate(s);
	kd_cache_invalidate(s);
	bps_pull(s);

	if (kd_exec_temp_hit(s, ev))
		return kd_exec_temp_continue(s, ev);

	id = bp_for_event(s, ev);
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
		kd_out(s, "%s - code %08x (%s)\n",
		       kd_cmd__exception_name(ev->code), ev->code,
		       ev->first_chance ? "first chance" :
					  "!!! second chance !!!");
		if (ev->code == KD_STATUS_BREAKPOINT &&
		    s->exec.breakin_requested)
			print_banner_box(s);
	}
	s->exec.breakin_requested = false;
	kd_print_current_instruction(s);
	return false;
}

/* "ModLoad: start end   path" of a load or unload the user breaks on. */
static void print_modload(struct kd_session *s, const struct kd_event *ev)
{
	char a[18], b[18];

	kd_out(s, "%s: %s %s   %s\n",
	       ev->kind == KD_EV_LOAD ? "ModLoad" : "Unload module",
	       kd_fmt_ptr(s, a, ev->mod_base),
	       kd_fmt_ptr(s, b, ev->mod_base + ev->mod_size), ev->path);
}

/* The sx command of @p ev's filter for its chance, or NULL. */
static const char *sx_cmd(struct kd_session *s, const struct kd_event *ev)
{
	struct kd_sx_action act;

	if (ev->kind != KD_EV_EXCEPTION || ev->code == KD_STATUS_BREAKPOINT ||
	    ev->code == KD_STATUS_SINGLE_STEP)
		return NULL;
	kd_cmd__sx_action(s, ev, &act);
	return ev->first_chance ? act.cmd : act.cmd2;
}

/* Stop at @p ev, then run the filter's command @p cmd (it may resume). */
static bool event_stop_sx(struct kd_session *s, const struct kd_event *ev,
			  const char *cmd)
{
	if (kd_event_stop(s, ev))
		return true;
	return cmd && kd_exec_bp_commands(s, cmd);
}

/*
 * An exception the filters let pass (sxd on the first chance, sxn, sxi):
 * report it for sxn and resume it, handled or not as the filter says.
 * 1 when it passed, 0 when it stops; the debugger's own breakpoints and
 * steps always stop.
 */
static int sx_pass(struct kd_session *s, const struct kd_event *ev)
{
	struct kd_resume go = { KD_DBG_CONTINUE, false, 0 };
	struct kd_sx_action act;
	int rc;

	if (ev->code == KD_STATUS_BREAKPOINT ||
	    ev->code == KD_STATUS_SINGLE_STEP)
		return 0;
	kd_cmd__sx_action(s, ev, &act);
	if (act.state == KD_SX_BREAK ||
	    (act.state == KD_SX_SECOND && !ev->first_chance))
		return 0;
	if (act.state == KD_SX_OUTPUT)
		kd_out(s, "%s - code %08x (%s)\n",
		       kd_cmd__exception_name(ev->code), ev->code,
		       ev->first_chance ? "first chance" :
					  "!!! second chance !!!");
	if (!act.handled || !ev->first_chance)
		go.status = KD_DBG_EXCEPTION_NOT_HANDLED;
	rc = s->target->ops->resume(s->target, ev->cpu, &go);
	return rc < 0 ? rc : 1;
}

static void print_shutdown(struct kd_session *s)
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
static int wait_stop(struct kd_session *s, int timeout_ms)
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
		if (cmd_exec_take_reconnected(s)) {
			print_shutdown(s);
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
			struct kd_sx_action act;

			s->sym.modules_valid = false;
			kd_cmd__sx_action(s, &ev, &act);
			if (act.state == KD_SX_BREAK) {
				/* sxe ld[:Module]: stop at the load. */
				print_modload(s, &ev);
				if (event_stop_sx(s, &ev, act.cmd)) {
					rc = kd_exec_continue(s);
					if (rc < 0)
						return rc;
				}
				continue;
			}
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
		rc = sx_pass(s, &ev);
		if (rc < 0)
			return rc;
		if (rc > 0)
			continue;
		if (event_stop_sx(s, &ev, sx_cmd(s, &ev))) {
			rc = kd_exec_continue(s);
			if (rc < 0)
				return rc;
		}
	}
	return KD_OK;
}

/*
 * After .reboot or .crash the machine restarts: wait for it to come back
 * (serial re-sync, or its boot output), then break in and re-attach.
 */
int kd_exec__wait_reboot(struct kd_session *s)
{
	uint64_t t0 = kd_mono_ms();
	unsigned long prints = s->tgt.prints_seen;
	struct kd_event ev;
	int rc;

	print_shutdown(s);
	s->tgt.running = true;
	while (kd_mono_ms() - t0 < (uint64_t)s->opts.attach_timeout_ms) {
		rc = s->target->ops->wait(s->target, 100, &ev);
		if (cmd_exec_take_reconnected(s) ||
		    s->tgt.prints_seen != prints || rc == KD_OK)
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
	return wait_stop(s, s->opts.attach_timeout_ms);
}

int kd_session_wait(struct kd_session *s, int timeout_ms)
{
	if (!s->target)
		return KD_EINVAL;
	return wait_stop(s, timeout_ms);
}

int kd_exec_wait(struct kd_session *s)
{
	return wait_stop(s, -1);
}

/* Resume and wait for the next stop (Ctrl+C breaks in). */
static int go_and_wait(struct kd_session *s)
{
	int rc = kd_exec_continue(s);

	if (rc < 0 || !s->tgt.running)
		return rc;
	return kd_exec_wait(s);
}

static void add_temp(struct kd_session *s, uint64_t addr, uint64_t min_sp,
		     unsigned cpu)
{
	if (s->exec.ntemps >= KD_ARRAY_SIZE(s->exec.temps))
		return;
	s->exec.temps[s->exec.ntemps].addr = addr;
	s->exec.temps[s->exec.ntemps].min_sp = min_sp;
	s->exec.temps[s->exec.ntemps].cpu = cpu;
	s->exec.temps[s->exec.ntemps].inserted = false;
	s->exec.ntemps++;
}

static int cmd_g(struct kd_session *s, struct kd_cmdctx *c)
{
	struct kd_args a;
	int rc;

	if (kd_target_require_run(s, "resume") < 0)
		return KD_ENOTSUP;
	if (s->exec.bp_cmd_depth > 0) {
		/* Inside breakpoint commands: resume when they are done. */
		s->exec.resume_requested = true;
		return KD_OK;
	}
	s->exec.ntemps = 0;
	kd_args_init(&a, s, c);
	if (kd_args_peek(&a) == '=') {
		uint64_t start;

		kd_args_advance(&a, 1);
		rc = kd_args_take_expr(&a, &start);
		if (rc < 0)
			return rc;
		rc = kd_pc_set(s, start);
		if (rc < 0)
			return kd_fail(s, rc, "Cannot set rip");
	}
	kd_args_skip(&a);
	while (!kd_args_at_end(&a)) {
		uint64_t addr;

		if (s->exec.ntemps >= 10)
			return kd_fail(s, KD_EINVAL,
				       "Too many break addresses: 10 at most");
		rc = kd_args_take_expr(&a, &addr);
		if (rc < 0)
			return rc;
		add_temp(s, addr, 0, ~0u);
		kd_args_skip(&a);
	}
	return go_and_wait(s);
}

/* Print what a step shows: the registers and the next instruction. */
static int step_report(struct kd_session *s, bool regs)
{
	if (regs)
		return kd_cmd_run_one(s, "r");
	return kd_print_current_instruction(s);
}

/* One trace step; reports an unexpected stop itself.  *plain false then. */
static int trace_one(struct kd_session *s, bool *plain)
{
	struct kd_event ev;
	int rc = step_raw(s, &ev);

	*plain = false;
	if (rc < 0)
		return rc;
	if (ev.code == KD_STATUS_SINGLE_STEP && ev.cpu == s->tgt.cpu) {
		s->exec.stepping = true;
		(void)kd_event_stop(s, &ev);
		s->exec.stepping = false;
		*plain = true;
		return KD_OK;
	}
	if (kd_event_stop(s, &ev))
		return go_and_wait(s);
	return KD_OK;
}

/* One step over: calls run to their return address. */
static int step_over_one(struct kd_session *s, bool *plain)
{
	uint64_t pc = 0, rsp = 0;
	unsigned len = 0;
	bool is_call = false, is_ret = false, is_branch = false;
	int rc;

	*plain = false;
	rc = kd_pc_get(s, &pc);
	if (rc == KD_OK)
		rc = kd_sp_get(s, &rsp);
	if (rc < 0)
		return kd_fail(s, rc, "Cannot read the registers");
	if (kd_insn_info(s, pc, &len, &is_call, &is_ret, &is_branch) < 0 ||
	    !is_call)
		return trace_one(s, plain);
	s->exec.ntemps = 0;
	add_temp(s, pc + len, rsp - 1, s->tgt.cpu);
	s->exec.stepping = true;
	rc = go_and_wait(s);
	s->exec.stepping = false;
	*plain = rc == KD_OK && s->tgt.last.pc == pc + len;
	s->exec.ntemps = 0;
	return rc;
}

static int count_arg(struct kd_session *s, struct kd_cmdctx *c, uint64_t *count)
{
	struct kd_args a;
	int rc;

	*count = 1;
	kd_args_init(&a, s, c);
	if (kd_args_peek(&a) == '=') {
		uint64_t start;

		kd_args_advance(&a, 1);
		rc = kd_args_take_expr(&a, &start);
		if (rc < 0)
			return rc;
		rc = kd_pc_set(s, start);
		if (rc < 0)
			return kd_fail(s, rc, "Cannot set rip");
		/* Spaces only: `t =addr<tab>` is an empty count. */
		while (kd_args_peek(&a) == ' ')
			kd_args_advance(&a, 1);
	}
	if (!kd_args_at_end(&a)) {
		rc = kd_args_take_expr(&a, count);
		if (rc < 0)
			return rc;
		if (*count == 0 || *count > 100000)
			return kd_fail(s, KD_EINVAL,
				       "Step count must be 1 to 0n100000");
	}
	return KD_OK;
}

static int cmd_step(struct kd_session *s, struct kd_cmdctx *c)
{
	bool over = c->name[0] == 'p';
	bool regs = c->name[1] != 'r';
	uint64_t count, i;
	int rc;

	if (kd_target_require_run(s, "step") < 0)
		return KD_ENOTSUP;
	rc = count_arg(s, c, &count);
	if (rc < 0)
		return rc;
	for (i = 0; i < count; i++) {
		bool plain;

		rc = over ? step_over_one(s, &plain) : trace_one(s, &plain);
		if (rc < 0)
			return rc;
		if (!plain || s->tgt.running)
			return KD_OK; /* something else stopped us */
		if (s->interrupt)
			break;
		rc = step_report(s, regs);
		if (rc < 0)
			return rc;
	}
	return KD_OK;
}

/* pc / tc: step until the next call instruction. */
static int cmd_to_call(struct kd_session *s, struct kd_cmdctx *c)
{
	bool over = c->name[0] == 'p';
	unsigned n;
	int rc;

	(void)c;
	if (kd_target_require_run(s, "step") < 0)
		return KD_ENOTSUP;
	for (n = 0; n < KD_STEP_LIMIT; n++) {
		uint64_t pc = 0;
		unsigned len;
		bool is_call = false, is_ret, is_branch, plain;

		rc = kd_pc_get(s, &pc);
		if (rc < 0)
			return kd_fail(s, rc, "Cannot read the registers");
		if (n > 0 &&
		    kd_insn_info(s, pc, &len, &is_call, &is_ret, &is_branch) ==
			    KD_OK &&
		    is_call)
			return step_report(s, true);
		rc = (over && n == 0) ? step_over_one(s, &plain) :
					trace_one(s, &plain);
		if (rc < 0)
			return rc;
		if (!plain || s->tgt.running)
			return KD_OK;
		if (s->interrupt)
			return step_report(s, true);
	}
	kd_out(s, "No call found in %u instructions\n", KD_STEP_LIMIT);
	return step_report(s, true);
}

static int cmd_gu(struct kd_session *s, struct kd_cmdctx *c)
{
	struct kd_frame f[2];
	size_t n = 0;
	int rc;

	(void)c;
	if (kd_target_require_run(s, "resume") < 0)
		return KD_ENOTSUP;
	rc = kd_stack_walk(s, s->tgt.cpu, f, 2, &n);
	if (rc < 0 || n < 1 || !f[0].ret)
		return kd_fail(s, rc < 0 ? rc : KD_ENOTFOUND,
			       "Cannot find the return address of this "
			       "frame");
	s->exec.ntemps = 0;
	add_temp(s, f[0].ret, f[0].sp, s->tgt.cpu);
	s->exec.stepping = true;
	rc = go_and_wait(s);
	s->exec.stepping = false;
	s->exec.ntemps = 0;
	if (rc < 0 || s->tgt.running || s->tgt.last.pc != f[0].ret)
		return rc;
	return step_report(s, true);
}

int kd_exec_switch_cpu(struct kd_session *s, unsigned cpu)
{
	struct kd_event ev;
	int rc;

	if (cpu >= s->tgt.ncpus)
		return kd_fail(s, KD_EINVAL,
			       "Processor %u does not exist: "
			       "the target has %u",
			       cpu, s->tgt.ncpus);
	if (cpu == s->tgt.cpu)
		return KD_OK;
	if (!s->target->ops->switch_cpu)
		return kd_fail(s, KD_ENOTSUP,
			       "This target cannot switch processors");
	rc = kd_cpus_flush(s);
	if (rc == KD_OK)
		rc = s->target->ops->switch_cpu(s->target, cpu);
	if (rc < 0)
		return kd_fail(s, rc, "Cannot switch to processor %u: %s", cpu,
			       kd_error_message(rc));
	mark_running(s);
	for (;;) {
		rc = s->target->ops->wait(s->target, s->opts.request_timeout_ms,
					  &ev);
		if (rc < 0)
			return kd_fail(s, rc, "Processor %u did not report: %s",
				       cpu, kd_error_message(rc));
		if (ev.kind == KD_EV_EXCEPTION)
			break;
	}
	s->tgt.running = false;
	s->tgt.last = ev;
	s->tgt.cpu = ev.cpu < s->tgt.ncpus ? ev.cpu : s->tgt.cpu;
	return KD_OK;
}

const struct kd_command kd_cmds_exec[] = {
	{ "g", cmd_g, KD_CMDF_STOPPED | KD_CMDF_PREFIX,
	  "go [=start] [address...]" },
	{ "gc", cmd_g, KD_CMDF_STOPPED, "go from a conditional breakpoint" },
	{ "gh", cmd_g, KD_CMDF_STOPPED, "go, exception handled" },
	{ "gn", cmd_g, KD_CMDF_STOPPED, "go, exception not handled" },
	{ "gu", cmd_gu, KD_CMDF_STOPPED, "go up: run to the return address" },
	{ "p", cmd_step, KD_CMDF_STOPPED | KD_CMDF_PREFIX,
	  "step over [count]" },
	{ "pr", cmd_step, KD_CMDF_STOPPED, "step over, no registers" },
	{ "t", cmd_step, KD_CMDF_STOPPED | KD_CMDF_PREFIX,
	  "trace into [count]" },
	{ "tr", cmd_step, KD_CMDF_STOPPED, "trace, no registers" },
	{ "pc", cmd_to_call, KD_CMDF_STOPPED, "step to the next call" },
	{ "tc", cmd_to_call, KD_CMDF_STOPPED, "trace to the next call" },
	{ NULL, NULL, 0, NULL },
};
