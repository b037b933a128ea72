/* SPDX-License-Identifier: MIT */
/*
 * Register commands: `r` in WinDbg's x64 layout, single registers,
 * sub-registers, flags by code, control/debug registers from the special
 * registers, setters, and `~` processor switching.
 */
#include <ctype.h>
#include <string.h>

#include "cmd/args.h"
#include "core/engine_int.h"

enum kd_rsrc {
	KD_RS_CTX = 0, /* a CONTEXT register (kd_reg_get) */
	KD_RS_FLAG,    /* one EFLAGS bit */
	KD_RS_KS,      /* a KSPECIAL_REGISTERS field */
};

enum kd_ks_field {
	KD_KS_CR0 = 0,
	KD_KS_CR2,
	KD_KS_CR3,
	KD_KS_CR4,
	KD_KS_CR8,
	KD_KS_GDTR,
	KD_KS_GDTL,
	KD_KS_IDTR,
	KD_KS_IDTL,
	KD_KS_TR,
	KD_KS_LDTR,
};

/* A name `r` understands. */
struct kd_regdef {
	const char *name;
	enum kd_rsrc src;
	int reg;	/* KD_AMD64_*, flag bit, or KD_KS_* */
	unsigned shift; /* sub-register: bit offset in reg */
	unsigned bits;	/* width shown and written */
};

#define KD_R64(n, r)                   \
	{                              \
		n, KD_RS_CTX, r, 0, 64 \
	}
#define KD_R32(n, r)                   \
	{                              \
		n, KD_RS_CTX, r, 0, 32 \
	}
#define KD_R16(n, r)                   \
	{                              \
		n, KD_RS_CTX, r, 0, 16 \
	}
#define KD_R8(n, r)                   \
	{                             \
		n, KD_RS_CTX, r, 0, 8 \
	}
#define KD_RH(n, r)                   \
	{                             \
		n, KD_RS_CTX, r, 8, 8 \
	}
#define KD_FL(n, b)                    \
	{                              \
		n, KD_RS_FLAG, b, b, 1 \
	}
#define KD_KS(n, f, w)               \
	{                            \
		n, KD_RS_KS, f, 0, w \
	}

static const struct kd_regdef kd_regdefs[] = {
	KD_R64("rax", KD_AMD64_RAX),
	KD_R64("rbx", KD_AMD64_RBX),
	KD_R64("rcx", KD_AMD64_RCX),
	KD_R64("rdx", KD_AMD64_RDX),
	KD_R64("rsi", KD_AMD64_RSI),
	KD_R64("rdi", KD_AMD64_RDI),
	KD_R64("rip", KD_AMD64_RIP),
	KD_R64("rsp", KD_AMD64_RSP),
	KD_R64("rbp", KD_AMD64_RBP),
	KD_R64("r8", KD_AMD64_R8),
	KD_R64("r9", KD_AMD64_R9),
	KD_R64("r10", KD_AMD64_R10),
	KD_R64("r11", KD_AMD64_R11),
	KD_R64("r12", KD_AMD64_R12),
	KD_R64("r13", KD_AMD64_R13),
	KD_R64("r14", KD_AMD64_R14),
	KD_R64("r15", KD_AMD64_R15),
	KD_R32("eax", KD_AMD64_RAX),
	KD_R32("ebx", KD_AMD64_RBX),
	KD_R32("ecx", KD_AMD64_RCX),
	KD_R32("edx", KD_AMD64_RDX),
	KD_R32("esi", KD_AMD64_RSI),
	KD_R32("edi", KD_AMD64_RDI),
	KD_R32("eip", KD_AMD64_RIP),
	KD_R32("esp", KD_AMD64_RSP),
	KD_R32("ebp", KD_AMD64_RBP),
	KD_R32("r8d", KD_AMD64_R8),
	KD_R32("r9d", KD_AMD64_R9),
	KD_R32("r10d", KD_AMD64_R10),
	KD_R32("r11d", KD_AMD64_R11),
	KD_R32("r12d", KD_AMD64_R12),
	KD_R32("r13d", KD_AMD64_R13),
	KD_R32("r14d", KD_AMD64_R14),
	KD_R32("r15d", KD_AMD64_R15),
	KD_R16("ax", KD_AMD64_RAX),
	KD_R16("bx", KD_AMD64_RBX),
	KD_R16("cx", KD_AMD64_RCX),
	KD_R16("dx", KD_AMD64_RDX),
	KD_R16("si", KD_AMD64_RSI),
	KD_R16("di", KD_AMD64_RDI),
	KD_R16("ip", KD_AMD64_RIP),
	KD_R16("sp", KD_AMD64_RSP),
	KD_R16("bp", KD_AMD64_RBP),
	KD_R16("r8w", KD_AMD64_R8),
	KD_R16("r9w", KD_AMD64_R9),
	KD_R16("r10w", KD_AMD64_R10),
	KD_R16("r11w", KD_AMD64_R11),
	KD_R16("r12w", KD_AMD64_R12),
	KD_R16("r13w", KD_AMD64_R13),
	KD_R16("r14w", KD_AMD64_R14),
	KD_R16("r15w", KD_AMD64_R15),
	KD_R8("al", KD_AMD64_RAX),
	KD_R8("bl", KD_AMD64_RBX),
	KD_R8("cl", KD_AMD64_RCX),
	KD_R8("dl", KD_AMD64_RDX),
	KD_RH("ah", KD_AMD64_RAX),
	KD_RH("bh", KD_AMD64_RBX),
	KD_RH("ch", KD_AMD64_RCX),
	KD_RH("dh", KD_AMD64_RDX),
	KD_R8("sil", KD_AMD64_RSI),
	KD_R8("dil", KD_AMD64_RDI),
	KD_R8("spl", KD_AMD64_RSP),
	KD_R8("bpl", KD_AMD64_RBP),
	KD_R8("r8b", KD_AMD64_R8),
	KD_R8("r9b", KD_AMD64_R9),
	KD_R8("r10b", KD_AMD64_R10),
	KD_R8("r11b", KD_AMD64_R11),
	KD_R8("r12b", KD_AMD64_R12),
	KD_R8("r13b", KD_AMD64_R13),
	KD_R8("r14b", KD_AMD64_R14),
	KD_R8("r15b", KD_AMD64_R15),
	KD_R32("efl", KD_AMD64_EFLAGS),
	KD_R32("eflags", KD_AMD64_EFLAGS),
	KD_R16("fl", KD_AMD64_EFLAGS),
	KD_R16("cs", KD_AMD64_CS),
	KD_R16("ds", KD_AMD64_DS),
	KD_R16("es", KD_AMD64_ES),
	KD_R16("fs", KD_AMD64_FS),
	KD_R16("gs", KD_AMD64_GS),
	KD_R16("ss", KD_AMD64_SS),
	KD_R64("dr0", KD_AMD64_DR0),
	KD_R64("dr1", KD_AMD64_DR1),
	KD_R64("dr2", KD_AMD64_DR2),
	KD_R64("dr3", KD_AMD64_DR3),
	KD_R64("dr6", KD_AMD64_DR6),
	KD_R64("dr7", KD_AMD64_DR7),
	KD_R32("mxcsr", KD_AMD64_MXCSR),
	KD_FL("of", 11),
	KD_FL("df", 10),
	KD_FL("if", 9),
	KD_FL("tf", 8),
	KD_FL("sf", 7),
	KD_FL("zf", 6),
	KD_FL("af", 4),
	KD_FL("pf", 2),
	KD_FL("cf", 0),
	KD_KS("cr0", KD_KS_CR0, 64),
	KD_KS("cr2", KD_KS_CR2, 64),
	KD_KS("cr3", KD_KS_CR3, 64),
	KD_KS("cr4", KD_KS_CR4, 64),
	KD_KS("cr8", KD_KS_CR8, 64),
	KD_KS("gdtr", KD_KS_GDTR, 64),
	KD_KS("gdtl", KD_KS_GDTL, 16),
	KD_KS("idtr", KD_KS_IDTR, 64),
	KD_KS("idtl", KD_KS_IDTL, 16),
	KD_KS("tr", KD_KS_TR, 16),
	KD_KS("ldtr", KD_KS_LDTR, 16),
};

static const struct kd_regdef *kd_regdef_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < KD_ARRAY_SIZE(kd_regdefs); i++) {
		const char *n = kd_regdefs[i].name;
		size_t k;

		if (strlen(n) != len)
			continue;
		for (k = 0; k < len; k++) {
			if (tolower((unsigned char)name[k]) != n[k])
				break;
		}
		if (k == len)
			return &kd_regdefs[i];
	}
	return NULL;
}

static uint64_t kd_mask(unsigned bits)
{
	return bits >= 64 ? ~0ull : (1ull << bits) - 1;
}

static uint64_t *kd_ks_slot(struct kd_amd64_kspecial *ks, int f,
			    uint16_t **slot16)
{
	*slot16 = NULL;
	switch (f) {
	case KD_KS_CR0:
		return &ks->cr0;
	case KD_KS_CR2:
		return &ks->cr2;
	case KD_KS_CR3:
		return &ks->cr3;
	case KD_KS_CR4:
		return &ks->cr4;
	case KD_KS_CR8:
		return &ks->cr8;
	case KD_KS_GDTR:
		return &ks->gdtr_base;
	case KD_KS_IDTR:
		return &ks->idtr_base;
	case KD_KS_GDTL:
		*slot16 = &ks->gdtr_limit;
		return NULL;
	case KD_KS_IDTL:
		*slot16 = &ks->idtr_limit;
		return NULL;
	case KD_KS_TR:
		*slot16 = &ks->tr;
		return NULL;
	case KD_KS_LDTR:
		*slot16 = &ks->ldtr;
		return NULL;
	default:
		return NULL;
	}
}

static int kd_regdef_get(struct kd_session *s, const struct kd_regdef *d,
			 uint64_t *value)
{
	struct kd_amd64_kspecial *ks = NULL;
	uint16_t *s16;
	uint64_t *s64;
	uint64_t v;
	int rc;

	if (d->src == KD_RS_KS) {
		rc = kd_kspecial(s, s->tgt.cpu, &ks);
		if (rc < 0)
			return rc;
		s64 = kd_ks_slot(ks, d->reg, &s16);
		*value = s64 ? *s64 : (s16 ? *s16 : 0);
		return KD_OK;
	}
	rc = kd_reg_get(s, d->src == KD_RS_FLAG ? KD_AMD64_EFLAGS : d->reg, &v);
	if (rc < 0)
		return rc;
	*value = (v >> d->shift) & kd_mask(d->bits);
	return KD_OK;
}

static int kd_regdef_set(struct kd_session *s, const struct kd_regdef *d,
			 uint64_t value)
{
	uint64_t full, m;
	int reg = d->src == KD_RS_FLAG ? KD_AMD64_EFLAGS : d->reg;
	int rc;

	if (d->src == KD_RS_KS)
		return KD_ENOTSUP;
	if (value & ~kd_mask(d->bits))
		return KD_EOVERFLOW;
	if (d->bits == 64 && d->shift == 0)
		return kd_reg_set(s, reg, value);
	rc = kd_reg_get(s, reg, &full);
	if (rc < 0)
		return rc;
	m = kd_mask(d->bits) << d->shift;
	full = (full & ~m) | (value << d->shift);
	return kd_reg_set(s, reg, full);
}

/* "rax=0000000000000001" (no newline) into @p buf. */
static void kd_regdef_fmt(const struct kd_regdef *d, uint64_t v, char *buf,
			  size_t cap)
{
	int digits = (int)((d->bits + 3) / 4);

	if (d->src == KD_RS_FLAG)
		digits = 1;
	snprintf(buf, cap, "%s=%0*llx", d->name, digits, (unsigned long long)v);
}

/* The flags line's two-letter states, in display order (x64 and x86). */
void kd_eflags_states(uint32_t efl, char out[24])
{
	static const struct {
		unsigned bit;
		char clr[3];
		char set[3];
	} f[] = {
		{ 11, "nv", "ov" },
		{ 10, "up", "dn" },
		{ 9, "di", "ei" },
		{ 7, "pl", "ng" },
		{ 6, "nz", "zr" },
		{ 4, "na", "ac" },
		/* WinDbg prints pe for PF=0 and po for PF=1 (sic). */
		{ 2, "pe", "po" },
		{ 0, "nc", "cy" },
	};
	size_t i;
	char *p = out;

	for (i = 0; i < KD_ARRAY_SIZE(f); i++) {
		const char *t = (efl >> f[i].bit) & 1 ? f[i].set : f[i].clr;

		if (i)
			*p++ = ' ';
		*p++ = t[0];
		*p++ = t[1];
	}
	*p = '\0';
}

static int kd_reg_dump_all(struct kd_session *s)
{
	static const struct {
		const char *name;
		int reg;
	} order[] = {
		{ "rax", KD_AMD64_RAX }, { "rbx", KD_AMD64_RBX },
		{ "rcx", KD_AMD64_RCX }, { "rdx", KD_AMD64_RDX },
		{ "rsi", KD_AMD64_RSI }, { "rdi", KD_AMD64_RDI },
		{ "rip", KD_AMD64_RIP }, { "rsp", KD_AMD64_RSP },
		{ "rbp", KD_AMD64_RBP }, { "r8", KD_AMD64_R8 },
		{ "r9", KD_AMD64_R9 },	 { "r10", KD_AMD64_R10 },
		{ "r11", KD_AMD64_R11 }, { "r12", KD_AMD64_R12 },
		{ "r13", KD_AMD64_R13 }, { "r14", KD_AMD64_R14 },
		{ "r15", KD_AMD64_R15 },
	};
	static const int segs[] = { KD_AMD64_CS, KD_AMD64_SS, KD_AMD64_DS,
				    KD_AMD64_ES, KD_AMD64_FS, KD_AMD64_GS };
	static const char *const segn[] = { "cs", "ss", "ds", "es", "fs", "gs" };
	uint64_t v[KD_ARRAY_SIZE(order)];
	uint64_t sv[KD_ARRAY_SIZE(segs)];
	uint64_t efl;
	char states[24];
	size_t i;
	int rc;

	for (i = 0; i < KD_ARRAY_SIZE(order); i++) {
		rc = kd_reg_get(s, order[i].reg, &v[i]);
		if (rc < 0)
			return kd_fail(s, rc, "Unable to get register context");
	}
	for (i = 0; i < KD_ARRAY_SIZE(segs); i++) {
		rc = kd_reg_get(s, segs[i], &sv[i]);
		if (rc < 0)
			return kd_fail(s, rc, "Unable to get register context");
	}
	rc = kd_reg_get(s, KD_AMD64_EFLAGS, &efl);
	if (rc < 0)
		return kd_fail(s, rc, "Unable to get register context");
	for (i = 0; i < KD_ARRAY_SIZE(order); i++) {
		bool last = i % 3 == 2 || i + 1 == KD_ARRAY_SIZE(order);

		kd_out(s, "%3s=%016llx%s", order[i].name,
		       (unsigned long long)v[i], last ? "\n" : " ");
	}
	kd_eflags_states((uint32_t)efl, states);
	kd_out(s, "iopl=%-10u%s\n", (unsigned)((efl >> 12) & 3), states);
	for (i = 0; i < KD_ARRAY_SIZE(segs); i++)
		kd_out(s, "%s=%04x%s", segn[i], (unsigned)(sv[i] & 0xffff),
		       i + 1 < KD_ARRAY_SIZE(segs) ? "  " : "");
	kd_out(s, "%13sefl=%08x\n", "", (unsigned)(efl & 0xffffffffu));
	kd_print_current_instruction(s);
	return KD_OK;
}

static bool kd_is_regch(char c)
{
	return isalnum((unsigned char)c) != 0;
}

/* After a register (and its value): what may not follow it in a list. */
static bool kd_reg_sep_bad(const struct kd_args *a)
{
	char ch = kd_args_peek(a);

	return ch && ch != ',' && !kd_is_regch(ch) && ch != '@';
}

/* `r` on an x86 or ARM64 dump: the machine's own names, read-only. */
static int kd_cmd_r_native(struct kd_session *s, struct kd_cmdctx *c)
{
	struct kd_args a;
	char shown[512];
	size_t used = 0;
	int rc = KD_OK;

	shown[0] = '\0';
	kd_args_init(&a, s, c);
	if (kd_args_at_end(&a))
		return kd_arch_reg_dump(s);
	while (!kd_args_at_end(&a)) {
		const char *name, *canon;
		char one[64];
		unsigned bits = 0;
		uint64_t v;
		size_t n = 0;

		kd_args_skip_also(&a, ",");
		if (kd_args_at_end(&a))
			break;
		if (kd_args_peek(&a) == '@')
			kd_args_advance(&a, 1);
		name = a.p;
		while (kd_is_regch(name[n]))
			n++;
		canon = n ? kd_arch_reg_name(s, name, n) : NULL;
		if (!canon) {
			rc = kd_fail(s, KD_ENOTFOUND,
				     "Bad register error at '%s'", name);
			break;
		}
		kd_args_advance(&a, n);
		kd_args_skip(&a);
		if (kd_args_peek(&a) == '=') {
			rc = kd_fail(s, KD_ENOTSUP,
				     "Register %s is read-only here", canon);
			break;
		}
		rc = kd_arch_reg_get(s, s->tgt.cpu, name, n, &v, &bits);
		if (rc < 0) {
			rc = kd_fail(s, rc, "Unable to get register %s", canon);
			break;
		}
		snprintf(one, sizeof(one), "%s=%0*llx", canon,
			 (int)((bits + 3) / 4), (unsigned long long)v);
		if (used + strlen(one) + 2 < sizeof(shown)) {
			if (used)
				shown[used++] = ' ';
			used += (size_t)snprintf(
				shown + used, sizeof(shown) - used, "%s", one);
		}
		if (kd_reg_sep_bad(&a)) {
			rc = kd_args_error(&a);
			break;
		}
	}
	if (used)
		kd_out(s, "%s\n", shown);
	return rc;
}

/*
 * `r`, `r reg`, `r reg=expr`, several separated by commas or blanks:
 * `r rax, rbx`, `r rax=1, rcx=2`.  A leading `@` is accepted.
 */
static int kd_cmd_r(struct kd_session *s, struct kd_cmdctx *c)
{
	struct kd_args a;
	char shown[512];
	size_t used = 0;
	int rc = KD_OK;

	if (kd_arch_native(s))
		return kd_cmd_r_native(s, c);
	shown[0] = '\0';
	kd_args_init(&a, s, c);
	if (kd_args_at_end(&a))
		return kd_reg_dump_all(s);
	while (!kd_args_at_end(&a)) {
		const struct kd_regdef *d;
		const char *name;
		size_t n = 0;

		kd_args_skip_also(&a, ",");
		if (kd_args_at_end(&a))
			break;
		if (kd_args_peek(&a) == '@')
			kd_args_advance(&a, 1);
		name = a.p;
		while (kd_is_regch(name[n]))
			n++;
		d = n ? kd_regdef_find(name, n) : NULL;
		if (!d) {
			rc = kd_fail(s, KD_ENOTFOUND,
				     "Bad register error at '%s'", name);
			break;
		}
		kd_args_advance(&a, n);
		kd_args_skip(&a);
		if (kd_args_peek(&a) == '=') {
			uint64_t v;

			kd_args_advance(&a, 1);
			kd_args_skip(&a);
			rc = kd_args_take_expr(&a, &v);
			if (rc < 0)
				break;
			rc = kd_regdef_set(s, d, v);
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

			rc = kd_regdef_get(s, d, &v);
			if (rc < 0) {
				rc = kd_fail(s, rc, "Unable to get register %s",
					     d->name);
				break;
			}
			kd_regdef_fmt(d, v, one, sizeof(one));
			if (used + strlen(one) + 2 < sizeof(shown)) {
				if (used)
					shown[used++] = ' ';
				used += (size_t)snprintf(shown + used,
							 sizeof(shown) - used,
							 "%s", one);
			}
		}
		kd_args_skip(&a);
		if (kd_reg_sep_bad(&a)) {
			rc = kd_args_error(&a);
			break;
		}
	}
	if (used)
		kd_out(s, "%s\n", shown);
	return rc;
}

/* `~` (show the current processor) and `~Ns` (switch to processor N). */
static int kd_cmd_tilde(struct kd_session *s, struct kd_cmdctx *c)
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
	{ "r", kd_cmd_r, KD_CMDF_STOPPED | KD_CMDF_PREFIX,
	  "r [reg[=expr][, ...]]: show or set registers" },
	{ "~", kd_cmd_tilde, KD_CMDF_STOPPED | KD_CMDF_PREFIX,
	  "~Ns: make processor N current" },
	{ NULL, NULL, 0, NULL },
};
