/* SPDX-License-Identifier: MIT */
/*
 * The engine's top: the public kd_session_new.  Lower layers never name
 * higher ones (scripts/callgraph.sh --layers checks it), so what a higher
 * layer contributes to them is wired here, once per process, before the
 * first session: the debugging server's commands into the command table,
 * and that table into the interpreter (cmd/commands.c does not name it:
 * the handlers it lists call the interpreter); and, on each session, the
 * alias expansion of cmd/cmd_script.c into the interpreter's hook.
 */
#include <pthread.h>

#include "core/engine_int.h"

static pthread_once_t api_once = PTHREAD_ONCE_INIT;

static void api_wire(void)
{
	kd_cmd__set_group("Remote debugging", kd_cmds_server);
	kd_cmd__use_groups(kd_command_groups);
}

int kd_session_new(struct kd_session **out, const struct kd_session_opts *opts)
{
	int rc;

	pthread_once(&api_once, api_wire);
	rc = kd_session__create(out, opts);
	if (rc == KD_OK)
		(*out)->hooks.alias_expand = kd_cmd__alias_expand;
	return rc;
}
