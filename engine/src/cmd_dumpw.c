/* SPDX-License-Identifier: MIT */
/* Writing crash dumps from a live target: .dump. */
#include "engine_int.h"

const struct kd_command kd_cmds_dumpw[] = {
	{ NULL, NULL, 0, NULL },
};
