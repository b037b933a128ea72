/* SPDX-License-Identifier: MIT */
/*
 * Attaching to a live target and following its stops: the connection
 * banners of WinDbg's kd, GetVersion and the debugger data block, the
 * module list, stop reports (breakpoint hits, break-in, exceptions),
 * DbgPrint streaming, reboots and re-connection, and the core commands
 * that belong to the session itself (vertarget, q, .reboot, .crash).
 */
#define _DEFAULT_SOURCE /* localtime_r, tm_gmtoff */
#include <string.h>
#include <strings.h>
#include <time.h>

#include <kd/link.h>
#include <kd/textsafe.h>
#include <kd/transport.h>

#include "core/engine_int.h"
#include "target/live.h"
#include "core/memcache.h"

/* "Sat Nov 21 10:15:17.807 2026 (UTC + 0:00)" */
static void kd_fmt_time(char buf[96], size_t cap, uint64_t unix_ms)
{
	time_t t = (time_t)(unix_ms / 1000u);
	struct tm tm;
	char day[48];
	long off;

	localtime_r(&t, &tm);
	strftime(day, sizeof(day), "%a %b %e %H:%M:%S", &tm);
	off = tm.tm_gmtoff / 60;
	snprintf(buf, cap, "%s.%03u %d (UTC %c %ld:%02ld)", day,
		 (unsigned)(unix_ms % 1000u), tm.tm_year + 1900,
		 off < 0 ? '-' : '+', (off < 0 ? -off : off) / 60,
		 (off < 0 ? -off : off) % 60);
}

const char *kd_windows_name(unsigned build)
{
	if (build >= 10240)
		return "Windows 10";
	if (build >= 9600)
		return "Windows 8.1";
	if (build >= 9200)
		return "Windows 8";
	if (build >= 7600)
		return "Windows 7";
	if (build >= 6000)
		return "Windows Vista";
	return "Windows";
}

/* Read the NtBuildLab string ("19041.1.amd64fre...") if the block has it. */
static void kd_build_lab(struct kd_session *s, char *buf, size_t cap)
{
	size_t done = 0, i;

	buf[0] = '\0';
	if (!s->tgt.have_kdbg || !s->tgt.kdbg.nt_build_lab || cap < 2)
		return;
	if (kd_read_virtual(s, s->tgt.kdbg.nt_build_lab, buf, cap - 1, &done) <
	    0)
		done = 0;
	buf[done] = '\0';
	for (i = 0; i < done; i++) {
		if (buf[i] == '\0')
			break;
		if ((unsigned char)buf[i] < 0x20 ||
		    (unsigned char)buf[i] > 0x7e)
			buf[i] = '?';
	}
}

static void kd_print_version_block(struct kd_session *s)
{
	char a[18], b[18], lab[128], when[96];
	unsigned build = s->tgt.version.minor_version;
	bool free_build = (s->tgt.version.major_version >> 8) == 0x0F ||
			  (s->tgt.version.major_version & 0xff) == 0x0F;

	if (kd_dump_of_target(s->target)) {
		kd_dump_version_block(s);
		return;
	}
	kd_out(s, "%s Kernel Version %u %s (%u procs) %s x64\n",
	       kd_windows_name(build), build,
	       (s->tgt.version.flags & KD_VERS_FLAG_MP) ? "MP" : "UP",
	       s->tgt.ncpus, free_build ? "Free" : "Checked");
	kd_build_lab(s, lab, sizeof(lab));
	if (lab[0])
		kd_out(s, "Built by: %s\n", lab);
	kd_out(s, "Machine Name:\n");
	kd_out(s, "Kernel base = 0x%s PsLoadedModuleList = 0x%s\n",
	       kd_fmt_addr(a, s->tgt.version.kern_base),
	       kd_fmt_addr(b, s->tgt.version.ps_loaded_module_list));
	kd_fmt_time(when, sizeof(when), kd_now_ms());
	kd_out(s, "Debug session time: %s\n", when);
	kd_out(s, "System Uptime: not available\n");
}

static int kd_cmd_vertarget(struct kd_session *s, struct kd_cmdctx *c)
{
	(void)c;
	kd_print_version_block(s);
	return KD_OK;
}

/* Find and decode KDDEBUGGER_DATA64 through DebuggerDataList. */
static void kd_load_kdbg(struct kd_session *s)
{
	uint8_t buf[0x400];
	uint64_t flink = 0;
	size_t done = 0;

	s->tgt.have_kdbg = false;
	if (!s->tgt.version.debugger_data_list)
		return;
	if (kd_read_u64(s, s->tgt.version.debugger_data_list, &flink) < 0 ||
	    !flink)
		return;
	/* The block is shorter than the buffer on older builds and in
	 * triage dumps (0x340-0x380 bytes): a short read is fine as long as
	 * it holds what the block's own Size says. */
	if (kd_read_virtual(s, flink, buf, sizeof(buf), &done) < 0 && done == 0)
		return;
	if (kd_debugger_data_decode(&s->tgt.kdbg, buf, done) < 0)
		return;
	s->tgt.kdbg_addr = flink;
	s->tgt.have_kdbg = true;
}

#define KD_MAX_CPUS 256u /* processors kd keeps state for */

/* The processor count kd uses for a target that reports @p n. */
static unsigned kd_ncpus_used(unsigned n)
{
	return n == 0 ? 1 : n > KD_MAX_CPUS ? KD_MAX_CPUS : n;
}

/* The target stopped for the first time (attach or after a reboot). */
static int kd_attach_stopped(struct kd_session *s, const struct kd_event *ev)
{
	char when[96];
	int rc;

	s->tgt.ncpus = kd_ncpus_used(ev->ncpus);
	if (s->tgt.ncpus != ev->ncpus) {
		/* Windows runs at most 2048 logical processors; a count
		 * past what kd keeps is a target bug, shown, not hidden. */
		kd_out(s,
		       "WARNING: the target reports %u processors; kd "
		       "uses %u\n",
		       ev->ncpus, s->tgt.ncpus);
	}
	s->tgt.cpu = ev->cpu < s->tgt.ncpus ? ev->cpu : 0;
	kd_free(s->tgt.cpus);
	s->tgt.cpus = kd_calloc(s->tgt.ncpus, sizeof(*s->tgt.cpus));
	if (!s->tgt.cpus)
		return KD_ENOMEM;
	rc = kd_live_version(s->target, s->tgt.cpu, &s->tgt.version);
	if (rc < 0)
		return kd_fail(s, rc, "GetVersion failed: %s",
			       kd_error_message(rc));
	s->tgt.have_version = true;
	kd_load_kdbg(s);
	kd_fmt_time(when, sizeof(when), kd_now_ms());
	kd_out(s, "Connected to %s %u x64 target at (%s), ptr64 %s\n",
	       kd_windows_name(s->tgt.version.minor_version),
	       s->tgt.version.minor_version, when,
	       (s->tgt.version.flags & KD_VERS_FLAG_PTR64) ? "TRUE" : "FALSE");
	kd_out(s, "Kernel Debugger connection established.%s\n",
	       s->opts.break_on_connect ? "  (Initial Breakpoint requested)" :
					  "");
	kd_print_version_block(s);
	s->sym.modules_valid = false;
	if (kd_modules_load(s) < 0)
		kd_out(s, "WARNING: the loaded module list could not be "
			  "read\n");
	if (!s->tgt.have_kdbg)
		kd_out(s, "WARNING: KDDEBUGGER_DATA64 not found: some "
			  "commands will not work\n");
	s->tgt.session_start = kd_now_ms();
	return KD_OK;
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

/*
 * DbgPrint text is the target's: shown with control bytes escaped
 * (kd/textsafe.h), so it cannot drive the terminal, a log viewer or a
 * debugging-server client.
 */
void kd_target_print(struct kd_session *s, const char *text, size_t len)
{
	char buf[1024];

	while (len > 0) {
		size_t used = 0;
		size_t n = kd_text_escape(buf, sizeof(buf), text, len, &used);

		if (used == 0)
			break;
		kd_out_raw(s, buf, n);
		text += used;
		len -= used;
	}
	s->tgt.prints_seen++;
}

int kd_target_prompt(struct kd_session *s, const char *prompt, char *buf,
		     size_t cap)
{
	char shown[512 * KD_TEXT_ESCAPE_MAX + 1];

	kd_text_escape(shown, sizeof(shown), prompt, strlen(prompt), NULL);
	kd_out(s, "%s", shown);
	if (!s->out.in_fn)
		return KD_ENOTSUP;
	return s->out.in_fn(s->out.in_ctx, "", buf, cap);
}

static void kd_print_shutdown(struct kd_session *s)
{
	char when[96];

	kd_fmt_time(when, sizeof(when), kd_now_ms());
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
		if (kd_live_take_reconnected(s->target)) {
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
		    kd_ncpus_used(ev.ncpus) != s->tgt.ncpus) {
			s->tgt.reattach = false;
			kd_session_reset_target_state(s);
			s->tgt.running = true;
			rc = kd_attach_stopped(s, &ev);
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

static const char *kd_conn_param(const char *connstr, const char *key,
				 char *buf, size_t cap)
{
	const char *p = strchr(connstr, ':');
	size_t klen = strlen(key);

	buf[0] = '\0';
	while (p) {
		p++;
		if (strncasecmp(p, key, klen) == 0 && p[klen] == '=') {
			size_t n = strcspn(p + klen + 1, ",");

			if (n >= cap)
				n = cap - 1;
			memcpy(buf, p + klen + 1, n);
			buf[n] = '\0';
			return buf;
		}
		p = strchr(p, ',');
	}
	return NULL;
}

/* Silence at attach after which the target is asked again for its stop. */
#define KD_ATTACH_RESYNC_MS 2000

int kd_session_attach(struct kd_session *s, const char *connstr)
{
	struct kd_transport *t = NULL;
	struct kd_event ev;
	char port[256], ip[64], shown[1024], why[200];
	bool net = strncasecmp(connstr, "net:", 4) == 0;
	uint64_t t0 = kd_mono_ms();
	int rc;

	if (s->target)
		return kd_fail(s, KD_EBUSY, "A target is already attached");
	snprintf(s->tgt.connstr, sizeof(s->tgt.connstr), "%s", connstr);
	if (net) {
		kd_out(s, "Using NET for debugging\n");
		kd_out(s, "Opened WinSock 2.0\n");
	}
	rc = kd_transport_open(&t, connstr);
	if (rc < 0)
		return kd_fail(s, rc, "Failed to open %s: %s",
			       kd_text_redact(shown, sizeof(shown), connstr),
			       kd_error_message(rc));
	if (!net && kd_conn_param(connstr, "port", port, sizeof(port))) {
		if (kd_conn_param(connstr, "ipport", ip, sizeof(ip)))
			kd_out(s, "Opened %s:%s\n", port, ip);
		else
			kd_out(s, "Opened %s\n", port);
	}
	kd_out(s, "Waiting to reconnect...\n");
	rc = kd_live_open(s, t, &s->target);
	if (rc < 0)
		return kd_fail(s, rc, "Failed to start the KD link: %s",
			       kd_error_message(rc));
	rc = kd_live_sync(s->target, s->opts.attach_timeout_ms);
	if (rc < 0)
		goto fail;
	if (net) {
		uint16_t hp = 0, tp = 0;

		if (kd_transport_udp_ports(t, &hp, &tp) == KD_OK)
			kd_out(s,
			       "Connected to target on port %u on local "
			       "port %u\n",
			       tp, hp);
	}
	s->tgt.running = true;
	if (s->opts.break_on_connect) {
		s->exec.breakin_requested = true;
		rc = s->target->ops->break_in(s->target);
		if (rc < 0)
			goto fail;
	}
	for (;;) {
		uint64_t now = kd_mono_ms();
		int left;

		if (now - t0 >= (uint64_t)s->opts.attach_timeout_ms &&
		    !s->interrupt) {
			rc = KD_ETIMEOUT;
			goto fail;
		}
		left = s->opts.attach_timeout_ms - (int)(now - t0);
		if (left < 50)
			left = 50;
		if (left > KD_ATTACH_RESYNC_MS)
			left = KD_ATTACH_RESYNC_MS;
		rc = s->target->ops->wait(s->target, left, &ev);
		(void)kd_live_take_reconnected(s->target);
		if (rc == KD_ETIMEOUT) {
			/*
			 * A stopped target re-sends its stop after a RESET;
			 * on a noisy line that copy can be lost while we
			 * still synchronise, and nothing else would make it
			 * come again.  Ask again, as WinDbg keeps doing.
			 */
			now = kd_mono_ms();
			if (now - t0 + KD_ATTACH_RESYNC_MS / 2 <
			    (uint64_t)s->opts.attach_timeout_ms) {
				/* Leave room: the bound is the user's. */
				int more = s->opts.attach_timeout_ms -
					   (int)(now - t0) -
					   KD_ATTACH_RESYNC_MS / 4;

				(void)kd_live_sync(s->target,
						   more < KD_ATTACH_RESYNC_MS ?
							   more :
							   KD_ATTACH_RESYNC_MS);
			}
			continue;
		}
		if (rc < 0)
			goto fail;
		if (s->interrupt)
			s->exec.breakin_requested = true;
		s->interrupt = 0;
		break;
	}
	rc = kd_attach_stopped(s, &ev);
	if (rc < 0)
		goto fail_quiet;
	if (ev.kind != KD_EV_EXCEPTION || kd_event_stop(s, &ev)) {
		s->tgt.running = true;
		rc = kd_exec_continue(s);
		if (rc < 0)
			goto fail_quiet;
		return kd_wait_stop(s, s->opts.attach_timeout_ms);
	}
	return KD_OK;
fail:
	/* Why, as precisely as known: what the target sent that was
	 * refused beats a bare time-out.  Kept as the error detail too, for
	 * the caller's own message (kd's stderr line). */
	if (rc != KD_ETIMEOUT)
		snprintf(why, sizeof(why), "%s", kd_error_message(rc));
	else if (kd_live_explain(s->target, why, sizeof(why)) == 0)
		snprintf(why, sizeof(why), "the target did not answer");
	kd_fail(s, rc, "Cannot attach to %s within %d ms: %s",
		kd_text_redact(shown, sizeof(shown), connstr),
		s->opts.attach_timeout_ms, why);
	(void)kd_error_set(rc, KD_ERRCLASS_ENGINE, "%s", why);
fail_quiet:
	s->target->ops->close(s->target);
	s->target = NULL;
	kd_session_reset_target_state(s);
	return rc;
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
		if (kd_live_take_reconnected(s->target) ||
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
	return kd_wait_stop(s, s->opts.attach_timeout_ms);
}

static int kd_cmd_reboot(struct kd_session *s, struct kd_cmdctx *c)
{
	int rc;

	(void)c;
	if (kd_target_require_run(s, "reboot") < 0)
		return KD_ENOTSUP;
	if (!s->target->ops->reboot)
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
	if (!s->target->ops->crash)
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
	struct kd_link *link = s->target ? kd_live_link(s->target) : NULL;
	struct kd_link_stats st;
	uint64_t stray = 0, resent = 0;

	(void)c;
	if (!link)
		return kd_fail(s, KD_ENOTSUP, "No live KD connection");
	kd_link_stats(link, &st);
	(void)kd_live_counters(s->target, &stray, &resent);
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
