/* SPDX-License-Identifier: MIT */
/*
 * x86-64, x86 and ARM64 disassembly with capstone, printed the way WinDbg
 * prints it: Intel operands without blanks, MASM hex (28h, 0FFFFFFFFh),
 * branch and RIP-relative targets as "nt!Sym+0x12 (fffff800`00401012)".
 */
#include <ctype.h>
#include <string.h>

#include <capstone/capstone.h>

#include "arch/arch.h"
#include "sym/sym_int.h"

#define KD_INSN_MAX 16

/* The session keeps one capstone handle per machine (kd_arch_ops.id). */
struct kd_cs_set {
	csh h[KD_ARCH_COUNT];
	bool open[KD_ARCH_COUNT];
};

/*
 * The session's decoder for the target's code with details, opened once
 * per machine (its first use builds capstone's tables); false when
 * unusable.
 */
static bool disasm_cs_open(struct kd_session *s, csh *h)
{
	struct kd_cs_set *set = s->sym.disasm;
	const struct kd_arch_ops *a = kd_arch(s);
	unsigned m = a->id;
	cs_err err;

	if (!set) {
		set = kd_calloc(1, sizeof(*set));
		if (!set)
			return false;
		s->sym.disasm = set;
		s->hooks.disasm_close = kd_disasm_close;
	}
	if (!set->open[m]) {
		err = cs_open((cs_arch)a->cs_arch, (cs_mode)a->cs_mode,
			      &set->h[m]);
		if (err != CS_ERR_OK)
			return false;
		if (a->disasm == KD_DIS_X86)
			cs_option(set->h[m], CS_OPT_SYNTAX, CS_OPT_SYNTAX_MASM);
		cs_option(set->h[m], CS_OPT_UNSIGNED, CS_OPT_ON);
		cs_option(set->h[m], CS_OPT_DETAIL, CS_OPT_ON);
		set->open[m] = true;
	}
	*h = set->h[m];
	return true;
}

void kd_disasm_close(struct kd_session *s)
{
	struct kd_cs_set *set = s->sym.disasm;
	unsigned i;

	if (!set)
		return;
	for (i = 0; i < KD_ARCH_COUNT; i++) {
		if (set->open[i])
			cs_close(&set->h[i]);
	}
	kd_free(set);
	s->sym.disasm = NULL;
}

/*
 * Decode one instruction at @p addr.  *got is how many bytes were
 * readable (0: none).  Returns the instruction (free with cs_free) or
 * NULL.
 */
static cs_insn *disasm_decode(struct kd_session *s, csh h, uint64_t addr,
			      uint8_t bytes[KD_INSN_MAX], size_t *got)
{
	const uint8_t *code = bytes;
	size_t size, done = 0;
	uint64_t a = addr;
	cs_insn *insn;

	*got = 0;
	if (kd_read_virtual(s, addr, bytes, KD_INSN_MAX, &done) != KD_OK)
		return NULL;
	*got = done;
	if (done == 0)
		return NULL;
	insn = cs_malloc(h);
	if (!insn)
		return NULL;
	size = done;
	if (!cs_disasm_iter(h, &code, &size, &a, insn)) {
		cs_free(insn, 1);
		return NULL;
	}
	return insn;
}

/* "nt!Sym+0x12 (fffff800`00401012)" or "fffff800`00401012". */
static void fmt_target(struct kd_session *s, uint64_t target, char *out,
		       size_t cap)
{
	char sym[256], a[18];

	kd_fmt_ptr(s, a, target);
	if (kd_sym_format(s, target, sym, sizeof(sym)) == KD_OK)
		snprintf(out, cap, "%s (%s)", sym, a);
	else
		snprintf(out, cap, "%s", a);
}

/* Drop capstone's blanks around `,`, `+`, `-`, `*`; upper-case hex. */
static void compact_ops(const char *in, char *out, size_t cap)
{
	size_t o = 0;
	const char *p = in;

	while (*p && o + 1 < cap) {
		if (p[0] == ',' && p[1] == ' ') {
			out[o++] = ',';
			p += 2;
			continue;
		}
		if (p[0] == ' ' &&
		    (p[1] == '+' || p[1] == '-' || p[1] == '*') &&
		    p[2] == ' ') {
			out[o++] = p[1];
			p += 3;
			continue;
		}
		/* A MASM number: digit first, hex digits, then 'h'. */
		if (isdigit((unsigned char)*p) &&
		    (p == in || !isalnum((unsigned char)p[-1]))) {
			size_t n = 0;

			while (isxdigit((unsigned char)p[n]))
				n++;
			if (p[n] == 'h' && !isalnum((unsigned char)p[n + 1])) {
				size_t i;

				for (i = 0; i < n && o + 1 < cap; i++)
					out[o++] = (char)toupper(
						(unsigned char)p[i]);
				if (o + 1 < cap)
					out[o++] = 'h';
				p += n + 1;
				continue;
			}
		}
		out[o++] = *p++;
	}
	out[o] = '\0';
}

/* Replace "[rip...]" in @p ops with the absolute target. */
static void rip_relative(struct kd_session *s, const char *ops, uint64_t target,
			 char *out, size_t cap)
{
	const char *open = strstr(ops, "[rip");
	const char *close = open ? strchr(open, ']') : NULL;
	char t[300];

	if (!open || !close) {
		snprintf(out, cap, "%s", ops);
		return;
	}
	fmt_target(s, target, t, sizeof(t));
	snprintf(out, cap, "%.*s[%s]%s", (int)(open - ops), ops, t, close + 1);
}

static bool insn_is_branch(const cs_insn *insn)
{
	const cs_detail *d = insn->detail;
	uint8_t i;

	if (!d)
		return false;
	for (i = 0; i < d->groups_count; i++) {
		if (d->groups[i] == CS_GRP_JUMP || d->groups[i] == CS_GRP_CALL)
			return true;
	}
	return false;
}

/* Mnemonic and operands of @p insn in WinDbg's words. */
static void format_insn(struct kd_session *s, const cs_insn *insn, char *mn,
			size_t mncap, char *ops, size_t opcap)
{
	const cs_x86 *x = insn->detail ? &insn->detail->x86 : NULL;
	char tmp[300];
	uint8_t i;

	snprintf(mn, mncap, "%s", insn->mnemonic);
	compact_ops(insn->op_str, tmp, sizeof(tmp));
	if (strcmp(insn->mnemonic, "int3") == 0) {
		snprintf(mn, mncap, "int");
		snprintf(ops, opcap, "3");
		return;
	}
	/* 66 90 is the two-byte nop; WinDbg spells it out. */
	if (insn->size == 2 && insn->bytes[0] == 0x66 &&
	    insn->bytes[1] == 0x90) {
		snprintf(mn, mncap, "xchg");
		snprintf(ops, opcap, "ax,ax");
		return;
	}
	if (strcmp(insn->mnemonic, "movabs") == 0)
		snprintf(mn, mncap, "mov");
	if (x && insn_is_branch(insn) && x->op_count == 1 &&
	    x->operands[0].type == X86_OP_IMM) {
		fmt_target(s, (uint64_t)x->operands[0].imm, ops, opcap);
		return;
	}
	for (i = 0; x && i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];

		if (op->type == X86_OP_MEM && op->mem.base == X86_REG_RIP &&
		    op->mem.index == X86_REG_INVALID) {
			uint64_t target = insn->address + insn->size +
					  (uint64_t)op->mem.disp;

			rip_relative(s, tmp, target, ops, opcap);
			return;
		}
	}
	snprintf(ops, opcap, "%s", tmp);
}

/*
 * ARM64 operands the WinDbg way: no blank after commas, fp/lr for
 * x29/x30, upper-case hex digits after "#0x", branch targets with their
 * symbol.
 */
static void format_a64(struct kd_session *s, const cs_insn *insn, char *ops,
		       size_t opcap)
{
	const cs_arm64 *x = insn->detail ? &insn->detail->arm64 : NULL;
	const char *p = insn->op_str;
	char tmp[600];
	size_t o = 0, cut = 0;
	bool hex = false;

	/* Where a branch's immediate target starts ("#0x..." at the end). */
	if (x && insn_is_branch(insn) && x->op_count > 0 &&
	    x->operands[x->op_count - 1].type == ARM64_OP_IMM) {
		const char *h = strrchr(p, '#');

		if (h)
			cut = (size_t)(h - p) + 1;
	}
	while (*p && o + 4 < sizeof(tmp)) {
		size_t at = (size_t)(p - insn->op_str);
		bool word_start = at == 0 || !isalnum((unsigned char)p[-1]);

		if (cut && at + 1 == cut)
			break;
		if (p[0] == ',' && p[1] == ' ') {
			tmp[o++] = ',';
			p += 2;
			hex = false;
			continue;
		}
		if (word_start && p[0] == 'x' && p[1] == '2' && p[2] == '9' &&
		    !isalnum((unsigned char)p[3])) {
			memcpy(tmp + o, "fp", 2);
			o += 2;
			p += 3;
			continue;
		}
		if (word_start && p[0] == 'x' && p[1] == '3' && p[2] == '0' &&
		    !isalnum((unsigned char)p[3])) {
			memcpy(tmp + o, "lr", 2);
			o += 2;
			p += 3;
			continue;
		}
		if (p[0] == '0' && p[1] == 'x') {
			tmp[o++] = '0';
			tmp[o++] = 'x';
			p += 2;
			hex = true;
			continue;
		}
		if (!isxdigit((unsigned char)*p))
			hex = false;
		tmp[o++] = (char)(hex ? toupper((unsigned char)*p) : *p);
		p++;
	}
	tmp[o] = '\0';
	if (cut)
		fmt_target(s, (uint64_t)x->operands[x->op_count - 1].imm,
			   tmp + o, sizeof(tmp) - o);
	if (opcap == 0)
		return;
	o = strlen(tmp);
	if (o >= opcap)
		o = opcap - 1;
	memcpy(ops, tmp, o);
	ops[o] = '\0';
}

int kd_disasm_line(struct kd_session *s, uint64_t addr, char *line, size_t cap,
		   unsigned *len)
{
	uint8_t bytes[KD_INSN_MAX];
	char a[18], hex[2 * KD_INSN_MAX + 1], mn[32], ops[320];
	cs_insn *insn = NULL;
	size_t got = 0, i, n;
	csh h;
	int rc = KD_OK;
	const struct kd_arch_ops *arch = kd_arch(s);
	bool arm64 = arch->disasm == KD_DIS_ARM64;
	int cols = (int)arch->hex_cols;
	char none[48];

	*len = arm64 ? 4 : 1;
	if (cap == 0)
		return KD_EBUFS;
	/* Undecodable: "??" in the code column, then "???". */
	snprintf(none, sizeof(none), "%-*s ???", cols, "??");
	kd_fmt_ptr(s, a, addr);
	if (!disasm_cs_open(s, &h)) {
		snprintf(line, cap, "%s %s", a, none);
		return s->sym.disasm ? KD_ENOTSUP : KD_ENOMEM;
	}
	insn = disasm_decode(s, h, addr, bytes, &got);
	if (got == 0 || (arm64 && got < 4)) {
		snprintf(line, cap, "%s %s", a, arm64 ? "???????? ???" : none);
		if (insn)
			cs_free(insn, 1);
		return KD_EFAULT;
	}
	if (insn && arm64) {
		snprintf(mn, sizeof(mn), "%s", insn->mnemonic);
		format_a64(s, insn, ops, sizeof(ops));
	} else if (insn) {
		*len = insn->size;
		format_insn(s, insn, mn, sizeof(mn), ops, sizeof(ops));
	} else {
		snprintf(mn, sizeof(mn), "???");
		ops[0] = '\0';
		rc = KD_EINVAL;
	}
	if (arm64) {
		/* The instruction word, then the mnemonic in 12 columns. */
		if (ops[0])
			snprintf(line, cap, "%s %08x %-11s %s", a,
				 (unsigned)kd_get_le32(bytes), mn, ops);
		else
			snprintf(line, cap, "%s %08x %s", a,
				 (unsigned)kd_get_le32(bytes), mn);
		if (insn)
			cs_free(insn, 1);
		return rc;
	}
	n = insn ? insn->size : 1;
	for (i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", bytes[i]);
	if (ops[0])
		snprintf(line, cap, "%s %-*s %-7s %s", a, cols, hex, mn, ops);
	else
		snprintf(line, cap, "%s %-*s %s", a, cols, hex, mn);
	if (insn)
		cs_free(insn, 1);
	return rc;
}

int kd_print_current_instruction(struct kd_session *s)
{
	char sym[256], line[512];
	uint64_t rip;
	unsigned len;

	if (kd_pc_get(s, &rip) != KD_OK)
		return KD_OK;
	if (kd_sym_format(s, rip, sym, sizeof(sym)) == KD_OK)
		kd_out(s, "%s:\n", sym);
	if (kd_disasm_line(s, rip, line, sizeof(line), &len) == KD_ENOMEM)
		return kd_fail(s, KD_ENOMEM,
			       "Unable to disassemble the current "
			       "instruction: out of memory");
	kd_out(s, "%s\n", line);
	return KD_OK;
}

int kd_insn_info(struct kd_session *s, uint64_t addr, unsigned *len,
		 bool *is_call, bool *is_ret, bool *is_branch)
{
	uint8_t bytes[KD_INSN_MAX];
	cs_insn *insn;
	size_t got;
	csh h;
	uint8_t i;

	*len = 1;
	*is_call = *is_ret = *is_branch = false;
	if (!disasm_cs_open(s, &h))
		return KD_ENOTSUP;
	insn = disasm_decode(s, h, addr, bytes, &got);
	if (!insn)
		return got == 0 ? KD_EFAULT : KD_EINVAL;
	*len = insn->size;
	/* capstone puts no ARM64 ret in CS_GRP_RET. */
	if (kd_arch(s)->disasm == KD_DIS_ARM64 &&
	    strcmp(insn->mnemonic, "ret") == 0)
		*is_ret = *is_branch = true;
	for (i = 0; insn->detail && i < insn->detail->groups_count; i++) {
		switch (insn->detail->groups[i]) {
		case CS_GRP_CALL:
			*is_call = true;
			*is_branch = true;
			break;
		case CS_GRP_RET:
		case CS_GRP_IRET:
			*is_ret = true;
			*is_branch = true;
			break;
		case CS_GRP_JUMP:
			*is_branch = true;
			break;
		default:
			break;
		}
	}
	cs_free(insn, 1);
	return KD_OK;
}
