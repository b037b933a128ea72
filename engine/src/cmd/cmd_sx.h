/* SPDX-License-Identifier: MIT */
/*
 * What the event filters (cmd_sx.c) say about a stop, for cmd_exec.c.
 */
#ifndef KD_CMD_SX_H
#define KD_CMD_SX_H

#include "core/engine_int.h"

struct kd_sx_action {
	int state;	  /* KD_SX_* */
	bool handled;	  /* resume with DBG_CONTINUE, else not handled */
	const char *cmd;  /* first-chance command, or NULL */
	const char *cmd2; /* second-chance command, or NULL */
};

/* The filter of @p ev's event or exception (break when it has none). */
void kd_cmd__sx_action(struct kd_session *s, const struct kd_event *ev,
		       struct kd_sx_action *act);

#endif /* KD_CMD_SX_H */
