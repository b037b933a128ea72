/* SPDX-License-Identifier: MIT */
/* The debugging server's commands: .server, .servers, .endsrv, .clients, .remote. */
#include "engine_int.h"

const struct kd_command kd_cmds_server[] = {
	{ NULL, NULL, 0, NULL },
};
