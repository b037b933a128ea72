/* SPDX-License-Identifier: MIT */
/*
 * The command table: every cmd_*.c file's commands, in lookup and
 * `.help` order, with their titles.  It is the top of cmd/: it names the
 * handler files' tables, and nothing in cmd/ names it back (the
 * interpreter, commands.c, gets it from api/session.c through
 * kd_cmd__use_groups), so the handlers may call the interpreter without
 * a call cycle.  A new handler file adds its table here.
 */
#include <string.h>

#include "core/engine_int.h"

/* Placeholder for a group a higher layer adds (kd_cmd__set_group). */
static const struct kd_command cmds_unset[] = { { NULL, NULL, 0, NULL } };

struct kd_command_group kd_command_groups[] = {
	{ kd_cmds_core, "Session" },
	{ kd_cmds_exec, "Execution" },
	{ kd_cmds_bp, "Breakpoints" },
	{ kd_cmds_mem, "Memory" },
	{ kd_cmds_reg, "Registers" },
	{ kd_cmds_expr, "Expressions" },
	{ kd_cmds_sym, "Symbols, modules, stacks" },
	{ kd_cmds_dt, "Types" },
	{ kd_cmds_dump, "Crash dumps" },
	{ kd_cmds_ctx, "Contexts and events" },
	{ kd_cmds_sx, "Event filters" },
	{ kd_cmds_dumpw, "Writing dumps" },
	{ kd_cmds_kobj, "Kernel objects" },
	{ cmds_unset, "Remote debugging" }, /* dbgserver/cmd_server.c */
	{ kd_cmds_kdsrv, "KD connection server" },
	{ kd_cmds_ext_cpu, "Kernel extensions: processors" },
	{ kd_cmds_ext_io, "Kernel extensions: I/O and objects" },
	{ kd_cmds_ext_mm, "Kernel extensions: memory" },
	{ kd_cmds_ext_error, "Kernel extensions: error codes" },
	{ kd_cmds_misc, "Scripts, logs and control flow" },
	{ kd_cmds_script, "Aliases, loops and .printf" },
	{ NULL, NULL },
};

void kd_cmd__set_group(const char *title, const struct kd_command *table)
{
	size_t t;

	for (t = 0; kd_command_groups[t].table; t++) {
		if (strcmp(kd_command_groups[t].title, title) == 0 &&
		    kd_command_groups[t].table == cmds_unset)
			kd_command_groups[t].table = table;
	}
}
