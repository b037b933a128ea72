/* SPDX-License-Identifier: MIT */
/*
 * Breakpoint commands: bp, bu, bm-less WinDbg set (bp bu ba bl bc bd be).
 * A breakpoint keeps the text it was set with; `bu` ones stay deferred
 * until the name resolves (the module list is re-read on every check).
 */
#include <ctype.h>
#include <string.h>

#include "cmd/args.h"
#include "core/engine_int.h"
#include "arch/arch.h"

static int bp_free_id(struct kd_session *s)
{
	int i;

	for (i = 0; i < KD_MAX_BPS; i++)
		if (!s->exec.bps[i].used)
			return i;
	return -1;
}

static void bp_clear(struct kd_bp *b)
{
	kd_free(b->expr);
	kd_free(b->command);
	memset(b, 0, sizeof(*b));
}

/* The address expression as typed: up to the next blank outside (). */
static size_t expr_len(const char *p)
{
	size_t n = 0;
	int depth = 0;

	while (p[n] &&
	       (depth > 0 || (p[n] != ' ' && p[n] != '\t' && p[n] != '"'))) {
		if (p[n] == '(')
			depth++;
		else if (p[n] == ')' && depth > 0)
			depth--;
		n++;
	}
	return n;
}

/* bp / bu / ba: [ID] [access size] [/1] addr [passes] ["cmds"] */
static int cmd_bp_set(struct kd_session *s, struct kd_cmdctx *c)
{
	bool is_ba = strcmp(c->name, "ba") == 0;
	bool is_bu = strcmp(c->name, "bu") == 0;
	struct kd_args a;
	struct kd_bp nb;
	uint64_t addr = 0, passes = 1;
	char *cmd = NULL;
	int id = -1, rc;
	bool resolved;

	if (kd_target_require_run(s, "set breakpoints in") < 0)
		return KD_ENOTSUP;
	kd_args_init(&a, s, c);
	memset(&nb, 0, sizeof(nb));
	/* bp1 addr: an ID glued to the command. */
	if (isdigit((unsigned char)kd_args_peek(&a)) && a.glued) {
		unsigned long n = 0;

		(void)kd_args_take_number(&a, 10, &n);
		id = (int)n;
		if (id >= KD_MAX_BPS)
			return kd_fail(s, KD_EINVAL,
				       "Breakpoint IDs go from 0 to %d",
				       KD_MAX_BPS - 1);
		kd_args_skip(&a);
	}
	if (is_ba) {
		char access = (char)tolower((unsigned char)kd_args_peek(&a));
		unsigned long size = 0;

		if (access == '\0' || !strchr("erwi", access))
			return kd_args_error(&a);
		kd_args_advance(&a, 1);
		if (!kd_args_take_number(&a, 10, &size))
			size = 0;
		if (size != 1 && size != 2 && size != 4 && size != 8)
			return kd_fail(s, KD_EINVAL,
				       "Data breakpoint size must be 1, 2, 4 "
				       "or 8");
		if (access == 'e' && size != 1)
			return kd_fail(
				s, KD_EINVAL,
				"Execution breakpoints must have size 1");
		nb.kind = KD_BP_HW;
		nb.hw_access = access;
		nb.hw_size = (unsigned)size;
		kd_args_skip(&a);
	}
	if (kd_args_take_option(&a, "/", "1", 0)) {
		nb.one_shot = true;
		kd_args_skip(&a);
	}
	if (kd_args_at_end(&a) || kd_args_peek(&a) == '"') {
		if (is_ba)
			return kd_args_error(&a);
		rc = kd_pc_get(s, &addr);
		if (rc < 0)
			return kd_fail(s, rc, "Cannot read rip");
		resolved = true;
	} else {
		const char *start = a.p;
		const char *end = a.p;
		size_t elen;

		/* A name that does not resolve yet is no error for bu (and
		 * only a message for bp): evaluate without the messages. */
		elen = expr_len(start);
		rc = kd_expr_eval(s, start, &end, &addr);
		resolved = rc == KD_OK;
		if (rc == KD_EINVAL && !is_bu)
			return kd_args_error_at(&a, end);
		if (!resolved && !is_bu) {
			kd_out(s, "Couldn't resolve error at '%.*s'\n",
			       (int)elen, start);
			kd_out(s,
			       "Bp expression '%.*s' could not be resolved, "
			       "adding deferred bp\n",
			       (int)elen, start);
		}
		nb.expr = kd_malloc(elen + 1);
		if (!nb.expr)
			return KD_ENOMEM;
		memcpy(nb.expr, start, elen);
		nb.expr[elen] = '\0';
		a.p = resolved ? end : start + elen;
		kd_args_skip(&a);
		if (!kd_args_at_end(&a) && kd_args_peek(&a) != '"') {
			rc = kd_args_take_expr(&a, &passes);
			if (rc < 0) {
				kd_free(nb.expr);
				return rc;
			}
			if (passes == 0 || passes > 0xffffffffu)
				passes = 1;
			kd_args_skip(&a);
		}
	}
	if (kd_args_peek(&a) == '"') {
		const char *text;
		size_t len;

		rc = kd_args_take_quoted(&a, KD_ARGS_Q_ESCAPES, &text, &len);
		if (rc == KD_OK) {
			cmd = kd_args_unescape(text, len);
			if (!cmd)
				rc = KD_ENOMEM;
		}
		if (rc < 0) {
			kd_free(nb.expr);
			return rc;
		}
	}
	rc = kd_args_end(&a);
	if (rc < 0) {
		kd_free(nb.expr);
		kd_free(cmd);
		return rc;
	}
	if (is_ba) {
		unsigned slot, i;
		bool taken[KD_MAX_HW_BPS] = { false };

		if (addr & (nb.hw_size - 1)) {
			kd_free(nb.expr);
			kd_free(cmd);
			return kd_fail(s, KD_EINVAL,
				       "Data breakpoint must be aligned");
		}
		for (i = 0; i < KD_MAX_BPS; i++)
			if (s->exec.bps[i].used &&
			    s->exec.bps[i].kind == KD_BP_HW && (int)i != id)
				taken[s->exec.bps[i].hw_slot] = true;
		for (slot = 0; slot < KD_MAX_HW_BPS && taken[slot]; slot++)
			;
		if (slot == KD_MAX_HW_BPS) {
			kd_free(nb.expr);
			kd_free(cmd);
			return kd_fail(s, KD_EBUSY,
				       "Too many data breakpoints for "
				       "processor %u!",
				       s->tgt.cpu);
		}
		nb.hw_slot = slot;
	}
	/* The same address again redefines that breakpoint. */
	if (id < 0 && resolved) {
		int i;

		for (i = 0; i < KD_MAX_BPS; i++) {
			if (s->exec.bps[i].used && !s->exec.bps[i].deferred &&
			    s->exec.bps[i].addr == addr &&
			    s->exec.bps[i].kind == nb.kind) {
				id = i;
				kd_out(s, "breakpoint %d redefined\n", i);
				break;
			}
		}
	} else if (id >= 0 && s->exec.bps[id].used) {
		kd_out(s, "breakpoint %d redefined\n", id);
	}
	if (id < 0)
		id = bp_free_id(s);
	if (id < 0) {
		kd_free(nb.expr);
		kd_free(cmd);
		return kd_fail(s, KD_EBUSY, "No breakpoint slots left (%d)",
			       KD_MAX_BPS);
	}
	bp_clear(&s->exec.bps[id]);
	nb.used = true;
	nb.enabled = true;
	nb.deferred = !resolved;
	nb.addr = resolved ? addr : 0;
	nb.passes = (uint32_t)passes;
	nb.passes_left = (uint32_t)passes;
	nb.command = cmd;
	s->exec.bps[id] = nb;
	return KD_OK;
}

/* Try to resolve deferred breakpoints (after module loads). */
static void bps_resolve(struct kd_session *s)
{
	unsigned i;

	for (i = 0; i < KD_MAX_BPS; i++) {
		struct kd_bp *b = &s->exec.bps[i];
		const char *end;
		uint64_t addr;

		if (!b->used || !b->deferred || !b->expr)
			continue;
		if (kd_expr_eval(s, b->expr, &end, &addr) == KD_OK &&
		    *end == '\0') {
			b->addr = addr;
			b->deferred = false;
		}
	}
}

/*
 * Parse an ID list: `*`, `1 2 3`, `1,3`, `1-3`.  Sets sel[id].
 */
static int id_list(struct kd_session *s, struct kd_cmdctx *c,
		   bool sel[KD_MAX_BPS])
{
	struct kd_args a;
	bool any = false;

	kd_args_init(&a, s, c);
	memset(sel, 0, KD_MAX_BPS * sizeof(bool));
	for (;;) {
		unsigned long lo = 0, hi;

		kd_args_skip_also(&a, ",");
		if (kd_args_at_end(&a))
			break;
		if (kd_args_peek(&a) == '*') {
			memset(sel, 1, KD_MAX_BPS * sizeof(bool));
			any = true;
			kd_args_advance(&a, 1);
			continue;
		}
		if (!isxdigit((unsigned char)kd_args_peek(&a)))
			return kd_args_error(&a);
		(void)kd_args_take_number(&a, 16, &lo);
		hi = lo;
		if (kd_args_peek(&a) == '-') {
			kd_args_advance(&a, 1);
			if (!kd_args_take_number(&a, 16, &hi))
				return kd_args_error(&a);
		}
		for (; lo <= hi && lo < KD_MAX_BPS; lo++)
			sel[lo] = true;
		any = true;
	}
	if (!any)
		return kd_fail(s, KD_EINVAL,
			       "Breakpoint ID list expected: "
			       "* or IDs");
	return KD_OK;
}

static int cmd_bp_change(struct kd_session *s, struct kd_cmdctx *c)
{
	bool sel[KD_MAX_BPS];
	unsigned i;
	int rc = id_list(s, c, sel);

	if (rc < 0)
		return rc;
	for (i = 0; i < KD_MAX_BPS; i++) {
		struct kd_bp *b = &s->exec.bps[i];

		if (!sel[i] || !b->used)
			continue;
		if (c->name[1] == 'c')
			bp_clear(b);
		else
			b->enabled = c->name[1] == 'e';
	}
	return KD_OK;
}

static int cmd_bl(struct kd_session *s, struct kd_cmdctx *c)
{
	unsigned i;

	(void)c;
	bps_resolve(s);
	for (i = 0; i < KD_MAX_BPS; i++) {
		struct kd_bp *b = &s->exec.bps[i];
		char addr[18], sym[256], kind[8] = "    ";

		if (!b->used)
			continue;
		if (b->kind == KD_BP_HW)
			snprintf(kind, sizeof(kind), "%c %u ", b->hw_access,
				 b->hw_size);
		if (b->deferred) {
			kd_out(s,
			       "%3u %c%c                  %s%04x (%04x) (%s)",
			       i, b->enabled ? 'e' : 'd', 'u', kind,
			       b->passes_left, b->passes,
			       b->expr ? b->expr : "");
		} else {
			if (kd_sym_format(s, b->addr, sym, sizeof(sym)) < 0)
				sym[0] = '\0';
			kd_out(s, "%3u %c  %s %s%04x (%04x) %s", i,
			       b->enabled ? 'e' : 'd',
			       kd_fmt_ptr(s, addr, b->addr), kind,
			       b->passes_left, b->passes, sym);
		}
		if (b->command)
			kd_out(s, " \"%s\"", b->command);
		kd_out(s, "\n");
	}
	return KD_OK;
}

const struct kd_command kd_cmds_bp[] = {
	{ "bp", cmd_bp_set, KD_CMDF_PREFIX,
	  "set a breakpoint: bp [ID] [/1] addr [passes] [\"cmds\"]" },
	{ "bu", cmd_bp_set, KD_CMDF_PREFIX,
	  "set a breakpoint kept by name (deferred until it resolves)" },
	{ "ba", cmd_bp_set, KD_CMDF_PREFIX,
	  "processor breakpoint: ba [ID] e|r|w|i size addr" },
	{ "bl", cmd_bl, 0, "list breakpoints" },
	{ "bc", cmd_bp_change, 0, "clear breakpoints: bc *|IDs" },
	{ "bd", cmd_bp_change, 0, "disable breakpoints" },
	{ "be", cmd_bp_change, 0, "enable breakpoints" },
	{ NULL, NULL, 0, NULL },
};
