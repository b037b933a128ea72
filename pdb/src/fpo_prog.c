/* SPDX-License-Identifier: MIT */
/*
 * The postfix programs of FRAMEDATA records, as dbghelp runs them to
 * unwind one x86 frame.  Tokens are separated by blanks; an operand is a
 * number or a variable name, an operator one character.  Operands keep
 * their name until used, since `=` needs the variable, not its value.
 * Stack depth, variables, name length and tokens run are all bounded.
 */
#include <string.h>

#include <kd/error.h>
#include <kd/pdb.h>

struct operand {
	bool is_var;
	uint32_t value;
	char name[KD_PDB_PROG_MAX_NAME];
};

static int prog_bad(const char *what, const char *tok, size_t len)
{
	return kd_error_set(KD_EPROTO, KD_ERRCLASS_DUMP,
			    "frame program: %s at \"%.*s\"", what,
			    (int)(len > 32 ? 32 : len), tok);
}

static int find_var(const struct kd_pdb_prog *p, const char *name)
{
	unsigned i;

	for (i = 0; i < p->nvars && i < KD_PDB_PROG_MAX_VARS; i++)
		if (strcmp(p->vars[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int set_var(struct kd_pdb_prog *p, const char *name, uint32_t value,
		   bool assigned)
{
	int i = find_var(p, name);

	if (i < 0) {
		if (p->nvars >= KD_PDB_PROG_MAX_VARS ||
		    strlen(name) >= KD_PDB_PROG_MAX_NAME)
			return KD_EBUFS;
		i = (int)p->nvars++;
		memcpy(p->vars[i].name, name, strlen(name) + 1);
	}
	p->vars[i].value = value;
	p->vars[i].assigned = assigned;
	return KD_OK;
}

int kd_pdb_prog_set(struct kd_pdb_prog *p, const char *name, uint32_t value)
{
	if (!p || !name || !*name)
		return KD_EINVAL;
	return set_var(p, name, value, false);
}

int kd_pdb_prog_get(const struct kd_pdb_prog *p, const char *name,
		    uint32_t *value, bool *assigned)
{
	int i;

	if (!p || !name || !value)
		return KD_EINVAL;
	i = find_var(p, name);
	if (i < 0)
		return KD_ENOTFOUND;
	*value = p->vars[i].value;
	if (assigned)
		*assigned = p->vars[i].assigned;
	return KD_OK;
}

/* The value of operand @p o (a variable's current value). */
static int value_of(const struct kd_pdb_prog *p, const struct operand *o,
		    uint32_t *v)
{
	int i;

	if (!o->is_var) {
		*v = o->value;
		return KD_OK;
	}
	i = find_var(p, o->name);
	if (i < 0)
		return prog_bad("unknown variable", o->name, strlen(o->name));
	*v = p->vars[i].value;
	return KD_OK;
}

/* A decimal or 0x-hex number, optionally negative; false if not one. */
static bool parse_number(const char *t, size_t len, uint32_t *out)
{
	uint64_t v = 0;
	bool neg = false, hex = false;
	size_t i = 0;

	if (len > 1 && t[0] == '-') {
		neg = true;
		i = 1;
	}
	if (len - i > 2 && t[i] == '0' &&
	    (t[i + 1] == 'x' || t[i + 1] == 'X')) {
		hex = true;
		i += 2;
	}
	if (i >= len)
		return false;
	for (; i < len; i++) {
		char c = t[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (hex && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (hex && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return false;
		v = v * (hex ? 16 : 10) + d;
		if (v > 0xffffffffull)
			return false;
	}
	*out = neg ? (uint32_t)(0u - (uint32_t)v) : (uint32_t)v;
	return true;
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '$' || c == '.';
}

static int binop(char op, uint32_t a, uint32_t b, uint32_t *r, const char *tok)
{
	switch (op) {
	case '+':
		*r = a + b;
		return KD_OK;
	case '-':
		*r = a - b;
		return KD_OK;
	case '*':
		*r = a * b;
		return KD_OK;
	case '/':
	case '%':
		if (b == 0)
			return prog_bad("division by zero", tok, 1);
		/* dbghelp and Breakpad divide signed values. */
		if ((int32_t)a == INT32_MIN && (int32_t)b == -1)
			*r = op == '/' ? a : 0;
		else if (op == '/')
			*r = (uint32_t)((int32_t)a / (int32_t)b);
		else
			*r = (uint32_t)((int32_t)a % (int32_t)b);
		return KD_OK;
	case '@':
		/* Align down to b, a power of two in real programs. */
		if (b == 0)
			return prog_bad("alignment by zero", tok, 1);
		*r = a & ~(b - 1);
		return KD_OK;
	default:
		return prog_bad("unknown operator", tok, 1);
	}
}

int kd_pdb_prog_run(struct kd_pdb_prog *p, const char *prog, size_t len)
{
	struct operand st[KD_PDB_PROG_MAX_STACK];
	unsigned sp = 0, ops = 0;
	size_t pos = 0;
	int rc;

	if (!p || !prog)
		return KD_EINVAL;
	for (;;) {
		const char *t;
		size_t tl = 0;

		while (pos < len && prog[pos] &&
		       (prog[pos] == ' ' || prog[pos] == '\t' ||
			prog[pos] == '\n' || prog[pos] == '\r'))
			pos++;
		if (pos >= len || !prog[pos])
			break;
		t = prog + pos;
		while (pos + tl < len && t[tl] && t[tl] != ' ' &&
		       t[tl] != '\t' && t[tl] != '\n' && t[tl] != '\r')
			tl++;
		pos += tl;
		if (++ops > KD_PDB_PROG_MAX_OPS)
			return prog_bad("too many tokens", t, tl);

		if (tl == 1 && strchr("+-*/%@^=", t[0])) {
			uint32_t a, b, r;

			if (t[0] == '^') {
				if (sp < 1)
					return prog_bad("stack underflow", t,
							tl);
				rc = value_of(p, &st[sp - 1], &a);
				if (rc)
					return rc;
				if (!p->read32)
					return prog_bad("no memory to read", t,
							tl);
				rc = p->read32(p->ctx, a, &r);
				if (rc < 0)
					return kd_error_set(
						rc, KD_ERRCLASS_DUMP,
						"frame program: cannot read "
						"memory at %#x",
						(unsigned)a);
				st[sp - 1].is_var = false;
				st[sp - 1].value = r;
				continue;
			}
			if (sp < 2)
				return prog_bad("stack underflow", t, tl);
			if (t[0] == '=') {
				if (!st[sp - 2].is_var)
					return prog_bad("assignment to a "
							"number",
							t, tl);
				rc = value_of(p, &st[sp - 1], &b);
				if (rc)
					return rc;
				if (set_var(p, st[sp - 2].name, b, true))
					return prog_bad(
						"too many variables",
						st[sp - 2].name,
						strlen(st[sp - 2].name));
				sp -= 2;
				continue;
			}
			rc = value_of(p, &st[sp - 2], &a);
			if (rc == KD_OK)
				rc = value_of(p, &st[sp - 1], &b);
			if (rc == KD_OK)
				rc = binop(t[0], a, b, &r, t);
			if (rc)
				return rc;
			sp--;
			st[sp - 1].is_var = false;
			st[sp - 1].value = r;
			continue;
		}
		if (sp >= KD_PDB_PROG_MAX_STACK)
			return prog_bad("stack overflow", t, tl);
		memset(&st[sp], 0, sizeof(st[sp]));
		if (parse_number(t, tl, &st[sp].value)) {
			sp++;
			continue;
		}
		if (tl >= KD_PDB_PROG_MAX_NAME)
			return prog_bad("name too long", t, tl);
		{
			size_t i;

			for (i = 0; i < tl; i++)
				if (!is_name_char(t[i]))
					return prog_bad("unknown token", t, tl);
		}
		if (t[0] != '$' && t[0] != '.' &&
		    !(t[0] >= 'a' && t[0] <= 'z') &&
		    !(t[0] >= 'A' && t[0] <= 'Z') && t[0] != '_')
			return prog_bad("unknown token", t, tl);
		st[sp].is_var = true;
		memcpy(st[sp].name, t, tl);
		st[sp].name[tl] = '\0';
		sp++;
	}
	/* What the program leaves unassigned is an error in dbghelp too. */
	if (sp != 0)
		return prog_bad("operands left over", prog,
				len < 32 ? len : 32);
	return KD_OK;
}
