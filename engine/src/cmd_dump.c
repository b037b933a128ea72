/* SPDX-License-Identifier: MIT */
/* Crash-dump commands: .bugcheck, !analyze. */
#include "engine_int.h"

const struct kd_command kd_cmds_dump[] = {
	{ NULL, NULL, 0, NULL },
};
