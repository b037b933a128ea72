/* SPDX-License-Identifier: MIT */
/*
 * The session's target: opening it (kd -k, kd -z through kd_target_open)
 * and the core commands that belong to the session itself (vertarget, q,
 * .reboot, .crash, .kdlink).  Following its stops (stop reports,
 * breakpoint commands, reboots and re-connection) is cmd_exec.c's, which
 * this file calls and which calls nothing here.
 */
#include <string.h>

#include <kd/link.h>

#include "core/engine_int.h"
#include "core/memcache.h"

static int cmd_vertarget(struct kd_session *s, struct kd_cmdctx *c)
{
	(void)c;
	kd_target_print_version(s);
	return KD_OK;
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
		return kd_session_wait(s, s->opts.attach_timeout_ms);
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

static int cmd_quit(struct kd_session *s, struct kd_cmdctx *c)
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

static int cmd_reboot(struct kd_session *s, struct kd_cmdctx *c)
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
	return kd_exec__wait_reboot(s);
}

static int cmd_crash(struct kd_session *s, struct kd_cmdctx *c)
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
	return kd_session_wait(s, s->opts.attach_timeout_ms);
}

/* .kdlink: the link's counters, for checking a noisy or slow connection. */
static int cmd_kdlink(struct kd_session *s, struct kd_cmdctx *c)
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
	       (unsigned long long)st.bad_checksums + st.bad_trailers +
		       st.bad_lengths + st.bad_headers);
	kd_out(s, "resyncs              %llu\n",
	       (unsigned long long)st.resyncs);
	return KD_OK;
}

const struct kd_command kd_cmds_core[] = {
	{ ".kdlink", cmd_kdlink, 0,
	  "show the KD link's counters (resends, stray replies...)" },
	{ "q", cmd_quit, 0, "quit (the target stays as it is)" },
	{ "qq", cmd_quit, 0, "quit" },
	{ "vertarget", cmd_vertarget, KD_CMDF_STOPPED,
	  "show the target's version" },
	{ ".reboot", cmd_reboot, KD_CMDF_STOPPED, "reboot the target" },
	{ ".crash", cmd_crash, KD_CMDF_STOPPED, "bug check the target (0xE2)" },
	{ NULL, NULL, 0, NULL },
};
