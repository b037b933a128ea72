/* SPDX-License-Identifier: MIT */
/*
 * Event filters: sx, sxe, sxd, sxn, sxi, sxr and sx-.  Each kernel event
 * and exception has a break state (break, second-chance break, output,
 * ignore), a handling state and two commands; cmd_exec.c asks
 * kd_cmd__sx_action() what to do with each stop the target reports, so
 * `sxe ld:simdrv.sys` stops when that driver loads and `sxi asrt` lets
 * an assertion pass.  Only the most recent ld / ud module filter is kept,
 * as WinDbg does.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd/args.h"
#include "cmd/cmd_sx.h"
#include "core/engine_int.h"

struct sx_def {
	const char *name;
	const char *desc;
	uint32_t code; /* 0 for an event */
	uint8_t state; /* KD_SX_* default */
	bool handled;  /* default handling (exceptions) */
};

/*
 * Kernel-mode defaults: ibp and iml ignore, loads and output shown;
 * cpr/epr and ct/et exist but never happen in kernel mode.
 */
static const struct sx_def defs[] = {
	{ "ct", "Create thread", 0, KD_SX_IGNORE, false },
	{ "et", "Exit thread", 0, KD_SX_IGNORE, false },
	{ "cpr", "Create process", 0, KD_SX_IGNORE, false },
	{ "epr", "Exit process", 0, KD_SX_IGNORE, false },
	{ "ld", "Load module", 0, KD_SX_OUTPUT, false },
	{ "ud", "Unload module", 0, KD_SX_OUTPUT, false },
	{ "ser", "System error", 0, KD_SX_IGNORE, false },
	{ "ibp", "Initial breakpoint", 0, KD_SX_IGNORE, false },
	{ "iml", "Initial module load", 0, KD_SX_IGNORE, false },
	{ "out", "Debuggee output", 0, KD_SX_OUTPUT, false },
	{ "av", "Access violation", 0xC0000005u, KD_SX_BREAK, false },
	{ "asrt", "Assertion failure", 0xC0000420u, KD_SX_BREAK, false },
	{ "bpe", "Break instruction exception", 0x80000003u, KD_SX_BREAK,
	  true },
	{ "ch", "Invalid handle", 0xC0000008u, KD_SX_BREAK, false },
	{ "dm", "Data misaligned", 0x80000002u, KD_SX_BREAK, false },
	{ "dz", "Integer divide-by-zero", 0xC0000094u, KD_SX_BREAK, false },
	{ "eh", "C++ EH exception", 0xE06D7363u, KD_SX_SECOND, false },
	{ "gp", "Guard page violation", 0x80000001u, KD_SX_BREAK, false },
	{ "ii", "Illegal instruction", 0xC000001Du, KD_SX_BREAK, false },
	{ "iov", "Integer overflow", 0xC0000095u, KD_SX_BREAK, false },
	{ "ip", "In-page I/O error", 0xC0000006u, KD_SX_BREAK, false },
	{ "isc", "Invalid system call", 0xC000001Cu, KD_SX_BREAK, false },
	{ "lsq", "Invalid lock sequence", 0xC000001Eu, KD_SX_BREAK, false },
	{ "sbo", "Security check failure or stack buffer overrun", 0xC0000409u,
	  KD_SX_BREAK, false },
	{ "sov", "Stack overflow", 0xC00000FDu, KD_SX_BREAK, false },
	{ "sse", "Single step exception", 0x80000004u, KD_SX_BREAK, true },
	{ "wkd", "Wake debugger", 0x80000007u, KD_SX_BREAK, false },
};

_Static_assert(sizeof(defs) / sizeof(defs[0]) == KD_SX_COUNT,
	       "KD_SX_COUNT is the number of filters");

static const char *const state_names[] = {
	[KD_SX_BREAK] = "break",
	[KD_SX_SECOND] = "second-chance break",
	[KD_SX_OUTPUT] = "output",
	[KD_SX_IGNORE] = "ignore",
};

static void sx_init(struct kd_session *s)
{
	size_t i;

	if (s->sx.ready)
		return;
	memset(&s->sx, 0, sizeof(s->sx));
	for (i = 0; i < KD_SX_COUNT; i++) {
		s->sx.ev[i].state = defs[i].state;
		s->sx.ev[i].handled = defs[i].handled;
	}
	s->sx.ready = true;
}

static int find_def(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < KD_SX_COUNT; i++)
		if (strlen(defs[i].name) == len &&
		    strncasecmp(defs[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

static int find_code(uint32_t code)
{
	size_t i;

	for (i = 0; i < KD_SX_COUNT; i++)
		if (defs[i].code && defs[i].code == code)
			return (int)i;
	return -1;
}

/* The file name part of @p path ("\SystemRoot\...\simdrv.sys"). */
static const char *base_name(const char *path)
{
	const char *b = path, *p;

	for (p = path; *p; p++)
		if (*p == '\\' || *p == '/')
			b = p + 1;
	return b;
}

/*
 * Does module @p path match filter @p f?  Case-insensitive, the
 * extension optional ("simdrv" matches simdrv.sys); `*` alone or an
 * empty filter matches every module.
 */
static bool module_match(const char *f, const char *path)
{
	const char *b = base_name(path);
	size_t fl = strlen(f), bl = strlen(b);

	if (fl == 0 || strcmp(f, "*") == 0)
		return true;
	if (fl == bl && strncasecmp(f, b, fl) == 0)
		return true;
	return fl < bl && b[fl] == '.' && strncasecmp(f, b, fl) == 0 &&
	       !strchr(f, '.');
}

void kd_cmd__sx_action(struct kd_session *s, const struct kd_event *ev,
		       struct kd_sx_action *act)
{
	int i = -1;

	sx_init(s);
	memset(act, 0, sizeof(*act));
	act->state = KD_SX_BREAK;
	switch (ev->kind) {
	case KD_EV_LOAD:
		i = find_def("ld", 2);
		break;
	case KD_EV_UNLOAD:
		i = find_def("ud", 2);
		break;
	case KD_EV_EXCEPTION:
		i = find_code(ev->code);
		break;
	default:
		return;
	}
	if (i < 0)
		return; /* an exception with no filter: break */
	act->state = s->sx.ev[i].state;
	act->handled = s->sx.ev[i].handled;
	act->cmd = s->sx.ev[i].cmd[0] ? s->sx.ev[i].cmd : NULL;
	act->cmd2 = s->sx.ev[i].cmd2[0] ? s->sx.ev[i].cmd2 : NULL;
	/* A module filter narrows a break to that module. */
	if (ev->kind != KD_EV_EXCEPTION && act->state == KD_SX_BREAK &&
	    !module_match(s->sx.ev[i].arg, ev->path))
		act->state = KD_SX_OUTPUT;
}

/* ---- sx: the list ---- */

static void print_one(struct kd_session *s, size_t i)
{
	const struct kd_sx *e = &s->sx.ev[i];

	kd_out(s, "%4s - %s - %s", defs[i].name, defs[i].desc,
	       state_names[e->state]);
	if (defs[i].code)
		kd_out(s, " - %s", e->handled ? "handled" : "not handled");
	if (e->arg[0] && strcmp(e->arg, "*") != 0)
		kd_out(s, " (only %s for %s)",
		       e->state == KD_SX_BREAK ? "break" : "output", e->arg);
	kd_out(s, "\n");
	if (e->cmd[0])
		kd_out(s, "       Command: \"%s\"\n", e->cmd);
	if (e->cmd2[0])
		kd_out(s, "       Second command: \"%s\"\n", e->cmd2);
}

static int sx_set(struct kd_session *s, struct kd_cmdctx *c, int state);

/* sx lists; `sx-` (the name parses as sx, then '-') changes commands. */
static int cmd_sx(struct kd_session *s, struct kd_cmdctx *c)
{
	struct kd_args a;
	size_t i;

	kd_args_init(&a, s, c);
	if (kd_args_peek(&a) == '-')
		return sx_set(s, c, -1);
	if (kd_args_end(&a) != KD_OK)
		return KD_EINVAL;
	sx_init(s);
	for (i = 0; i < KD_SX_COUNT; i++) {
		if (i > 0 && defs[i].code && !defs[i - 1].code)
			kd_out(s, "\n");
		print_one(s, i);
	}
	return KD_OK;
}

static int cmd_sxr(struct kd_session *s, struct kd_cmdctx *c)
{
	struct kd_args a;

	kd_args_init(&a, s, c);
	if (kd_args_end(&a) != KD_OK)
		return KD_EINVAL;
	s->sx.ready = false;
	sx_init(s);
	kd_out(s, "sx state reset to defaults\n");
	return KD_OK;
}

/* Copy a quoted command (@p len bytes) into @p dst, bounded. */
static int take_cmd(struct kd_session *s, struct kd_args *a, char *dst,
		    size_t cap)
{
	const char *text;
	size_t len;

	kd_args_skip(a);
	if (kd_args_peek(a) != '"')
		return kd_args_error(a);
	if (kd_args_take_quoted(a, KD_ARGS_Q_ESCAPES, &text, &len) != KD_OK)
		return KD_EINVAL;
	if (len >= cap)
		return kd_fail(s, KD_EOVERFLOW,
			       "Command too long (%zu bytes, at most %zu)", len,
			       cap - 1);
	memcpy(dst, text, len);
	dst[len] = '\0';
	return KD_OK;
}

/*
 * sxe / sxd / sxn / sxi / sx-: [-c "Cmd1"] [-c2 "Cmd2"] [-h]
 * {Exception|Event[:Module]|*}.
 */
static int sx_set(struct kd_session *s, struct kd_cmdctx *c, int state)
{
	char cmd1[KD_SX_CMD_MAX] = "", cmd2[KD_SX_CMD_MAX] = "";
	char arg[KD_SX_ARG_MAX] = "";
	bool have1 = false, have2 = false, handling = false, all = false;
	const char *w;
	size_t wl, i, first, last;
	struct kd_args a;
	int idx = -1;

	sx_init(s);
	kd_args_init(&a, s, c);
	if (state < 0)
		kd_args_advance(&a, 1); /* the '-' of sx- */
	for (;;) {
		kd_args_skip(&a);
		if (kd_args_peek(&a) != '-')
			break;
		if (kd_args_peek_at(&a, 1) == 'c' &&
		    kd_args_peek_at(&a, 2) == '2') {
			kd_args_advance(&a, 3);
			if (take_cmd(s, &a, cmd2, sizeof(cmd2)) != KD_OK)
				return KD_EINVAL;
			have2 = true;
		} else if (kd_args_peek_at(&a, 1) == 'c') {
			kd_args_advance(&a, 2);
			if (take_cmd(s, &a, cmd1, sizeof(cmd1)) != KD_OK)
				return KD_EINVAL;
			have1 = true;
		} else if (kd_args_peek_at(&a, 1) == 'h') {
			kd_args_advance(&a, 2);
			handling = true;
		} else {
			break; /* a negative exception number? not valid */
		}
	}
	kd_args_skip(&a);
	if (!kd_args_take_word(&a, &w, &wl))
		return kd_args_error_eol(&a);
	if (kd_args_end(&a) != KD_OK)
		return KD_EINVAL;
	if (wl == 1 && w[0] == '*') {
		all = true;
	} else {
		const char *colon = memchr(w, ':', wl);
		size_t nl = colon ? (size_t)(colon - w) : wl;

		idx = find_def(w, nl);
		if (idx < 0 && !colon) {
			char num[24];
			unsigned long long code;
			char *end;

			/* An exception number in the current radix. */
			if (wl >= sizeof(num))
				return kd_fail(s, KD_EINVAL,
					       "Unknown event or exception "
					       "'%.*s'",
					       (int)wl, w);
			memcpy(num, w, wl);
			num[wl] = '\0';
			code = strtoull(num, &end,
					s->expr.radix ? (int)s->expr.radix :
							16);
			if (*end == '\0')
				idx = find_code((uint32_t)code);
			if (*end == '\0' && idx < 0)
				return kd_fail(s, KD_ENOTSUP,
					       "Exception %llx has no filter "
					       "of its own here",
					       code);
		}
		if (idx < 0)
			return kd_fail(s, KD_EINVAL,
				       "Unknown event or exception '%.*s'",
				       (int)wl, w);
		if (colon) {
			size_t al = wl - nl - 1;

			if (strcmp(defs[idx].name, "ld") != 0 &&
			    strcmp(defs[idx].name, "ud") != 0)
				return kd_fail(s, KD_EINVAL,
					       "Only ld and ud take a module "
					       "argument");
			if (al >= sizeof(arg))
				return kd_fail(s, KD_EOVERFLOW,
					       "Module name too long");
			memcpy(arg, colon + 1, al);
			arg[al] = '\0';
		}
	}
	first = all ? 0 : (size_t)idx;
	last = all ? KD_SX_COUNT : (size_t)idx + 1;
	for (i = first; i < last; i++) {
		struct kd_sx *e = &s->sx.ev[i];

		if (have1)
			memcpy(e->cmd, cmd1, sizeof(e->cmd));
		if (have2)
			memcpy(e->cmd2, cmd2, sizeof(e->cmd2));
		if (state < 0)
			continue; /* sx-: the commands only */
		if (handling) {
			/* sxe -h: handled; sxd -h: not handled. */
			if (state == KD_SX_BREAK)
				e->handled = true;
			else if (state == KD_SX_SECOND)
				e->handled = false;
			continue;
		}
		e->state = (uint8_t)state;
		if (!all)
			memcpy(e->arg, arg, sizeof(e->arg));
	}
	return KD_OK;
}

static int cmd_sxe(struct kd_session *s, struct kd_cmdctx *c)
{
	return sx_set(s, c, KD_SX_BREAK);
}

static int cmd_sxd(struct kd_session *s, struct kd_cmdctx *c)
{
	return sx_set(s, c, KD_SX_SECOND);
}

static int cmd_sxn(struct kd_session *s, struct kd_cmdctx *c)
{
	return sx_set(s, c, KD_SX_OUTPUT);
}

static int cmd_sxi(struct kd_session *s, struct kd_cmdctx *c)
{
	return sx_set(s, c, KD_SX_IGNORE);
}

const struct kd_command kd_cmds_sx[] = {
	{ "sx", cmd_sx, 0, "list the event and exception filters" },
	{ "sxe", cmd_sxe, 0, "sxe [-c \"Cmd\"] [-h] Event: break on it" },
	{ "sxd", cmd_sxd, 0, "sxd Event: break on its second chance" },
	{ "sxn", cmd_sxn, 0, "sxn Event: report it and run on" },
	{ "sxi", cmd_sxi, 0, "sxi Event: ignore it" },
	{ "sxr", cmd_sxr, 0, "reset every filter to its default" },
	{ NULL, NULL, 0, NULL },
};
