/* SPDX-License-Identifier: MIT */
/*
 * Register commands: `r` in the machine's WinDbg layout, single
 * registers, sub-registers, flags by code, control/debug registers from
 * the special registers, setters (all over kd_arch(s)'s register table),
 * and `~` processor switching.
 */
#include <ctype.h>
#include <string.h>

#include "arch/arch.h"
#include "cmd/args.h"
#include "core/engine_int.h"

static bool is_regch(char c)
{
	return isalnum((unsigned char)c) != 0;
}

/* After a register (and its value): what may not follow it in a list. */
static bool reg_sep_bad(const struct kd_args *a)
{
	char ch = kd_args_peek(a);

	return ch && ch != ',' && !is_regch(ch) && ch != '@';
}

/* `r` alone: every register in the machine's layout, then the current
 * instruction (the disassembler, which arch.c must not call). */
static int reg_dump(struct kd_session *s)
{
	uint8_t *ctx;
	int rc = kd_context(s, s->tgt.cpu, &ctx);

	if (rc < 0)
		return kd_fail(s, rc, "Unable to get register context");
	kd_arch(s)->print_regs(s, ctx);
	return kd_print_current_instruction(s);
}

/*
 * `r $t0 = expr` / `r $t0`: a pseudo-register.  Setting goes through
 * kd_pseudo_reg_set (only $t0..$t19 are writable); showing evaluates
 * it as `?` would, printed the way `r` prints it ($t0=0000000000000005).
 */
static int reg_pseudo(struct kd_session *s, struct kd_args *args, char *one,
		      size_t cap)
{
	const char *name = args->p;
	size_t n = 1;
	uint64_t v;
	int rc;

	/* `r $.u0 = text`: the fixed-name alias $u0 gets the text. */
	if (name[1] == '.' && name[2] == 'u' &&
	    isdigit((unsigned char)name[3]) && !is_regch(name[4])) {
		const char *text;
		size_t tl;

		kd_args_advance(args, 4);
		kd_args_skip(args);
		if (kd_args_peek(args) != '=')
			return kd_args_error(args);
		kd_args_advance(args, 1);
		kd_args_skip(args);
		kd_args_take_rest(args, KD_ARGS_CRLF, &text, &tl);
		return kd_cmd__alias_set_fixed(s, (unsigned)(name[3] - '0'),
					       text, tl);
	}
	while (is_regch(name[n]) || name[n] == '_')
		n++;
	kd_args_advance(args, n);
	kd_args_skip(args);
	if (kd_args_peek(args) != '=') {
		const char *end;

		rc = kd_expr_eval(s, name, &end, &v);
		if (rc < 0 || end != name + n)
			return kd_fail(s, KD_ENOTFOUND,
				       "Bad register error at '%s'", name);
		snprintf(one, cap, "%.*s=%016llx", (int)n, name,
			 (unsigned long long)v);
		return KD_OK;
	}
	kd_args_advance(args, 1);
	kd_args_skip(args);
	rc = kd_args_take_expr(args, &v);
	if (rc < 0)
		return rc;
	rc = kd_pseudo_reg_set(s, name, n, v);
	if (rc == KD_ENOTSUP)
		return kd_fail(s, rc, "Pseudo-register %.*s is read-only",
			       (int)n, name);
	if (rc < 0)
		return kd_fail(s, rc, "Bad register error at '%.*s'", (int)n,
			       name);
	return KD_OK;
}

/*
 * `r`, `r reg`, `r reg=expr`, several separated by commas or blanks:
 * `r rax, rbx`, `r rax=1, rcx=2`.  A leading `@` is accepted.
 */
static int cmd_r(struct kd_session *s, struct kd_cmdctx *c)
{
	const struct kd_arch_ops *a = kd_arch(s);
	struct kd_args args;
	char shown[512];
	size_t used = 0;
	int rc = KD_OK;

	shown[0] = '\0';
	kd_args_init(&args, s, c);
	if (kd_args_at_end(&args))
		return reg_dump(s);
	while (!kd_args_at_end(&args)) {
		const struct kd_arch_reg *d;
		const char *name;
		size_t n = 0;

		kd_args_skip_also(&args, ",");
		if (kd_args_at_end(&args))
			break;
		if (kd_args_peek(&args) == '@')
			kd_args_advance(&args, 1);
		name = args.p;
		if (name[0] == '$') {
			char one[64];

			one[0] = '\0';
			rc = reg_pseudo(s, &args, one, sizeof(one));
			if (rc < 0)
				break;
			/* Shown on the line with the other registers. */
			if (one[0] && used + strlen(one) + 2 < sizeof(shown)) {
				if (used)
					shown[used++] = ' ';
				used += (size_t)snprintf(shown + used,
							 sizeof(shown) - used,
							 "%s", one);
			}
			goto next;
		}
		while (is_regch(name[n]))
			n++;
		d = n ? kd_arch_reg_find(a, name, n, KD_REGF_NOR) : NULL;
		if (!d) {
			rc = kd_fail(s, KD_ENOTFOUND,
				     "Bad register error at '%s'", name);
			break;
		}
		kd_args_advance(&args, n);
		kd_args_skip(&args);
		if (kd_args_peek(&args) == '=') {
			uint64_t v;

			/* No live target of this machine yet: its registers
			 * cannot go anywhere, whatever the value. */
			if (!a->write_context) {
				rc = kd_fail(s, KD_ENOTSUP,
					     "Register %s is read-only here",
					     d->name);
				break;
			}
			kd_args_advance(&args, 1);
			kd_args_skip(&args);
			rc = kd_args_take_expr(&args, &v);
			if (rc < 0)
				break;
			rc = kd_arch_reg_set(s, d, v);
			if (rc == KD_EOVERFLOW) {
				rc = kd_fail(s, rc, "Overflow error in '%.*s'",
					     (int)n, name);
				break;
			}
			if (rc == KD_ENOTSUP) {
				rc = kd_fail(s, rc,
					     "Register %s is read-only here",
					     d->name);
				break;
			}
			if (rc < 0) {
				rc = kd_fail(s, rc, "Unable to set register %s",
					     d->name);
				break;
			}
		} else {
			char one[64];
			uint64_t v;

			rc = kd_arch_reg_read(s, s->tgt.cpu, d, &v);
			if (rc < 0) {
				rc = kd_fail(s, rc, "Unable to get register %s",
					     d->name);
				break;
			}
			/* A flag bit shows as one digit (its bits is 1). */
			snprintf(one, sizeof(one), "%s=%0*llx", d->name,
				 (int)((d->bits + 3) / 4),
				 (unsigned long long)v);
			if (used + strlen(one) + 2 < sizeof(shown)) {
				if (used)
					shown[used++] = ' ';
				used += (size_t)snprintf(shown + used,
							 sizeof(shown) - used,
							 "%s", one);
			}
		}
next:
		kd_args_skip(&args);
		if (reg_sep_bad(&args)) {
			rc = kd_args_error(&args);
			break;
		}
	}
	if (used)
		kd_out(s, "%s\n", shown);
	return rc;
}

/* `~` (show the current processor) and `~Ns` (switch to processor N). */
static int cmd_tilde(struct kd_session *s, struct kd_cmdctx *c)
{
	unsigned long n = 0;
	size_t digits = 0;
	struct kd_args a;
	const char *p;

	kd_args_init(&a, s, c);
	p = a.p;
	if (kd_args_at_end(&a)) {
		kd_out(s, ".%3u  processor %u (current), %u processor%s\n",
		       s->tgt.cpu, s->tgt.cpu, s->tgt.ncpus,
		       s->tgt.ncpus == 1 ? "" : "s");
		return KD_OK;
	}
	while (isxdigit((unsigned char)p[digits]) && digits < 8) {
		char ch = p[digits];
		unsigned dv = isdigit((unsigned char)ch) ?
				      (unsigned)(ch - '0') :
				      (unsigned)(tolower((unsigned char)ch) -
						 'a' + 10);

		n = n * 16 + dv;
		digits++;
	}
	/* `~Ns`: hex processor number, then the s command letter. */
	if (digits == 0 || p[digits] != 's' ||
	    (p[digits + 1] != '\0' && p[digits + 1] != ' '))
		return kd_args_error(&a);
	if (n >= s->tgt.ncpus)
		return kd_fail(s, KD_EINVAL,
			       "%lu is not a valid processor "
			       "number",
			       n);
	if (n == s->tgt.cpu)
		return KD_OK;
	return kd_exec_switch_cpu(s, (unsigned)n);
}

const struct kd_command kd_cmds_reg[] = {
	{ "r", cmd_r, KD_CMDF_STOPPED | KD_CMDF_PREFIX,
	  "r [reg[=expr][, ...]]: show or set registers" },
	{ "~", cmd_tilde, KD_CMDF_STOPPED | KD_CMDF_PREFIX,
	  "~Ns: make processor N current" },
	{ NULL, NULL, 0, NULL },
};
