/* SPDX-License-Identifier: MIT */
/* Commands of a KD connection server's smart client: .endpsrv. */
#include "core/engine_int.h"
#include "core/memcache.h"

#include <kd/error.h>
#include <kd/link.h>

#define KD_ENDPSRV_WAIT_MS 10000

/*
 * .endpsrv: ask the KD connection server this session is a smart client of
 * to close every session and exit; this session becomes dormant.
 */
static int cmd_endpsrv(struct kd_session *s, struct kd_cmdctx *c)
{
	struct kd_link *link = NULL;
	char desc[256] = "";
	int rc;

	(void)c;
	if (kd_target_has(s, KD_TCAP_LINK))
		link = s->target->ops->link(s->target, NULL, NULL);
	rc = link ? kd_link_end_server(link, desc, sizeof(desc),
				       KD_ENDPSRV_WAIT_MS) :
		    KD_ENOTSUP;
	if (rc == KD_ENOTSUP)
		return kd_fail(s, KD_ENOTSUP,
			       "This session is not a smart client of a KD "
			       "connection server; .endpsrv cannot end a "
			       "debugging server (use .endsrv)");
	if (rc < 0)
		return kd_fail(s, rc,
			       "The KD connection server did not end: %s",
			       kd_error_message(rc));
	kd_out(s, "KD connection server at %s ended\n", desc);
	s->target->ops->close(s->target);
	s->target = NULL;
	s->tgt.running = false;
	kd_session_reset_target_state(s);
	kd_out(s, "The session is dormant; no target is attached\n");
	return KD_OK;
}

const struct kd_command kd_cmds_kdsrv[] = {
	{ ".endpsrv", cmd_endpsrv, 0,
	  "end the KD connection server of this smart client" },
	{ NULL, NULL, 0, NULL },
};
