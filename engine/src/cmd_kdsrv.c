/* SPDX-License-Identifier: MIT */
/* Commands of a KD connection server's smart client: .endpsrv. */
#include "engine_int.h"

const struct kd_command kd_cmds_kdsrv[] = {
	{ NULL, NULL, 0, NULL },
};
