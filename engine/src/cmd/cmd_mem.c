/* SPDX-License-Identifier: MIT */
/*
 * Memory commands in WinDbg's layouts: d* displays (virtual and physical),
 * e* edits, s searches and .writemem/.readmem (!pte and !vtop are in
 * ext_mm.c).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdarg.h>
#include <string.h>

#include "cmd/args.h"
#include "core/engine_int.h"
#include "arch/arch.h"

#define KD_PAGE 0x1000u
/* Largest display or edit a single command may ask for. */
#define KD_MAX_DISPLAY (64ull << 20)
/* Sandboxed sessions (fuzzing) display and search at most this much. */
#define KD_MAX_SANDBOX (1ull << 20)
/* Characters on one da/du line. */
#define KD_STR_LINE 48

/* The largest number of bytes one command may display or search. */
static uint64_t max_bytes(const struct kd_session *s, bool search)
{
	if (s->sandbox)
		return KD_MAX_SANDBOX;
	return search ? UINT64_MAX : KD_MAX_DISPLAY;
}

/* ------------------------------------------------------------------ */
/* Reading with holes                                                  */
/* ------------------------------------------------------------------ */

/*
 * Read @p len bytes at @p addr; ok[i] says whether buf[i] is real.  An
 * unreadable byte makes the rest of its page unreadable (one request per
 * page of hole, as the debugger reads by pages).
 */
static void cmd_mem_fetch(struct kd_session *s, bool phys, uint64_t addr,
			  uint8_t *buf, bool *ok, size_t len)
{
	size_t off = 0;

	while (off < len) {
		size_t done = 0;
		size_t want = len - off;
		uint64_t a = addr + off;
		size_t skip;
		int rc;

		/* A failed request is no unreadable memory: stop, the
		 * command reports it (kd_target_failed). */
		if (s->interrupt || s->cmd.target_err)
			break;
		if (phys)
			rc = kd_read_physical(s, a, buf + off, want, &done);
		else
			rc = kd_read_virtual(s, a, buf + off, want, &done);
		if (rc >= 0 && done > 0) {
			if (done > want)
				done = want;
			memset(ok + off, 1, done);
			off += done;
			continue;
		}
		skip = KD_PAGE - (size_t)(a & (KD_PAGE - 1));
		if (skip > want)
			skip = want;
		memset(buf + off, 0, skip);
		memset(ok + off, 0, skip);
		off += skip;
	}
	if (off < len) {
		memset(buf + off, 0, len - off);
		memset(ok + off, 0, len - off);
	}
}

static bool all_ok(const bool *ok, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!ok[i])
			return false;
	}
	return true;
}

static uint64_t get_unit(const uint8_t *b, unsigned size)
{
	switch (size) {
	case 1:
		return b[0];
	case 2:
		return kd_get_le16(b);
	case 4:
		return kd_get_le32(b);
	default:
		return kd_get_le64(b);
	}
}

static void put_unit(uint8_t *b, unsigned size, uint64_t v)
{
	switch (size) {
	case 1:
		b[0] = (uint8_t)v;
		break;
	case 2:
		kd_put_le16(b, (uint16_t)v);
		break;
	case 4:
		kd_put_le32(b, (uint32_t)v);
		break;
	default:
		kd_put_le64(b, v);
		break;
	}
}

static char cmd_mem_ascii(uint8_t c)
{
	return (char)(c >= 0x20 && c < 0x7f ? c : '.');
}

/* ------------------------------------------------------------------ */
/* Display                                                             */
/* ------------------------------------------------------------------ */

struct kd_dfmt {
	char kind;     /* 'b' 'w' 'd' 'q' 'a' 'u' */
	unsigned size; /* element size */
	unsigned cols; /* elements per line */
	bool ascii;    /* db, dc: ASCII column */
	bool sym;      /* dds, dqs, dps */
	bool bang;     /* !db style: "#    1000 " addresses */
};

/*
 * Append printf output at @p p, never past @p end (the byte after the
 * buffer); returns where the text ends, truncated if it did not fit.
 */
static char *cmd_mem_put(char *p, char *end, const char *fmt, ...)
	KD_PRINTF(3, 4);

static char *cmd_mem_put(char *p, char *end, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p >= end)
		return p;
	va_start(ap, fmt);
	n = vsnprintf(p, (size_t)(end - p), fmt, ap);
	va_end(ap);
	if (n < 0)
		return p;
	return (size_t)n < (size_t)(end - p) ? p + n : end - 1;
}

/* One value, or its unreadable form, appended at @p p (up to @p end). */
static char *fmt_unit(char *p, char *end, unsigned size, bool ok, uint64_t v)
{
	switch (size) {
	case 1:
		return ok ? cmd_mem_put(p, end, "%02x", (unsigned)v) :
			    cmd_mem_put(p, end, "??");
	case 2:
		return ok ? cmd_mem_put(p, end, "%04x", (unsigned)v) :
			    cmd_mem_put(p, end, "????");
	case 4:
		return ok ? cmd_mem_put(p, end, "%08x", (unsigned)v) :
			    cmd_mem_put(p, end, "????????");
	default:
		return ok ? cmd_mem_put(p, end, "%08x`%08x",
					(unsigned)(v >> 32),
					(unsigned)(v & 0xffffffffu)) :
			    cmd_mem_put(p, end, "????????`????????");
	}
}

static char *fmt_line_addr(const struct kd_session *s, char *p, char *end,
			   const struct kd_dfmt *f, uint64_t addr)
{
	char a[18];

	if (f->bang)
		return cmd_mem_put(p, end, "#%8llx ", (unsigned long long)addr);
	return cmd_mem_put(p, end, "%s  ", kd_fmt_ptr(s, a, addr));
}

/*
 * Print one line of @p n elements (n <= f->cols) at @p addr from @p buf.
 */
static void print_line(struct kd_session *s, const struct kd_dfmt *f,
		       uint64_t addr, const uint8_t *buf, const bool *ok,
		       unsigned n)
{
	char line[64 * 20 + 64 * 8 + 64];
	char *end = line + sizeof(line);
	unsigned cols = f->cols;
	char *p = line;
	unsigned i;

	p = fmt_line_addr(s, p, end, f, addr);
	for (i = 0; i < cols; i++) {
		const uint8_t *e = buf + (size_t)i * f->size;
		bool eok;

		if (i >= n) {
			if (!f->ascii)
				break;
			/* Keep the ASCII column where full lines have it. */
			memset(p, ' ', 2u * f->size + 1);
			p += 2u * f->size + 1;
			if (f->size == 8)
				*p++ = ' ';
			continue;
		}
		if (i > 0)
			*p++ = (f->size == 1 && cols == 16 && i == 8) ? '-' :
									' ';
		eok = all_ok(ok + (size_t)i * f->size, f->size);
		p = fmt_unit(p, end, f->size, eok,
			     eok ? get_unit(e, f->size) : 0);
	}
	if (f->ascii) {
		size_t nb = (size_t)n * f->size;
		size_t k;

		*p++ = ' ';
		if (!f->bang)
			*p++ = ' ';
		for (k = 0; k < nb; k++)
			*p++ = (char)(ok[k] ? cmd_mem_ascii(buf[k]) : '?');
	}
	*p++ = '\n';
	kd_out_raw(s, line, (size_t)(p - line));
}

/* dds / dqs / dps: "addr  value symbol" one per line. */
static void print_sym_line(struct kd_session *s, const struct kd_dfmt *f,
			   uint64_t addr, const uint8_t *buf, const bool *ok)
{
	char line[128 + 256];
	char sym[256];
	char *p = line;
	bool eok = all_ok(ok, f->size);
	uint64_t v = eok ? get_unit(buf, f->size) : 0;

	p = fmt_line_addr(s, p, line + sizeof(line) - 2, f, addr);
	p = fmt_unit(p, line + sizeof(line) - 2, f->size, eok, v);
	if (eok && kd_sym_format(s, v, sym, sizeof(sym)) == KD_OK &&
	    sym[0] != '\0')
		p += snprintf(p, sizeof(line) - (size_t)(p - line) - 2, " %s",
			      sym);
	*p++ = '\n';
	kd_out_raw(s, line, (size_t)(p - line));
}

/* Display @p count elements at @p addr; returns where the display ended. */
static uint64_t cmd_mem_display(struct kd_session *s, const struct kd_dfmt *f,
				bool phys, uint64_t addr, uint64_t count)
{
	unsigned per_line = f->sym ? 1 : f->cols;
	uint8_t buf[64 * 8];
	bool ok[64 * 8];

	while (count > 0 && !s->interrupt) {
		unsigned n = count < per_line ? (unsigned)count : per_line;
		size_t nb = (size_t)n * f->size;

		cmd_mem_fetch(s, phys, addr, buf, ok, nb);
		if (s->cmd.target_err)
			break; /* never `??` for bytes the target did not refuse */
		if (f->sym)
			print_sym_line(s, f, addr, buf, ok);
		else
			print_line(s, f, addr, buf, ok, n);
		addr += nb;
		count -= n;
	}
	return addr;
}

/*
 * da / du: strings up to @p max characters, 48 a line, stopping at a NUL
 * or unreadable memory.  Returns the address after the string.
 */
/*
 * A UTF-16 code point as UTF-8 (du prints text, not dots, for every
 * printable character).  Controls, C1 controls, the bidirectional
 * overrides and isolates (text that reorders the line around it) and
 * non-characters are a dot, as controls are in ASCII.  Returns bytes
 * written (1 to 4).
 */
static unsigned put_utf8(char *p, uint32_t cp)
{
	if (cp < 0x80) {
		*p = (char)cmd_mem_ascii((uint8_t)cp);
		return 1;
	}
	if (cp < 0xA0 || (cp >= 0x202A && cp <= 0x202E) ||
	    (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E || cp == 0x200F ||
	    (cp >= 0xD800 && cp <= 0xDFFF) || (cp & 0xFFFE) == 0xFFFE ||
	    cp > 0x10FFFF) {
		*p = '.';
		return 1;
	}
	if (cp < 0x800) {
		p[0] = (char)(0xC0 | (cp >> 6));
		p[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		p[0] = (char)(0xE0 | (cp >> 12));
		p[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		p[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	p[0] = (char)(0xF0 | (cp >> 18));
	p[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	p[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	p[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

static uint64_t display_string(struct kd_session *s, bool phys, bool wide,
			       uint64_t addr, uint64_t max)
{
	unsigned csize = wide ? 2 : 1;
	char line[KD_STR_LINE * 4 + 32];
	uint64_t shown = 0;

	while (shown < max && !s->interrupt) {
		uint8_t buf[KD_STR_LINE * 2];
		bool ok[KD_STR_LINE * 2];
		uint64_t lineaddr = addr + shown * csize;
		unsigned n = KD_STR_LINE, i;
		char *p = line;
		bool end = false;
		char a[18];

		if (max - shown < n)
			n = (unsigned)(max - shown);
		cmd_mem_fetch(s, phys, lineaddr, buf, ok, (size_t)n * csize);
		if (s->cmd.target_err)
			break;
		p = cmd_mem_put(p, line + sizeof(line), "%s  ",
				kd_fmt_ptr(s, a, lineaddr));
		if (!all_ok(ok, csize)) {
			/* Nothing readable where the string starts. */
			memset(p, '?', KD_STR_LINE);
			p += KD_STR_LINE;
			*p++ = '\n';
			kd_out_raw(s, line, (size_t)(p - line));
			return lineaddr + (uint64_t)KD_STR_LINE * csize;
		}
		*p++ = '"';
		for (i = 0; i < n; i++) {
			uint64_t ch;

			if (!all_ok(ok + (size_t)i * csize, csize)) {
				end = true;
				break;
			}
			ch = get_unit(buf + (size_t)i * csize, csize);
			if (ch == 0) {
				end = true;
				shown++;
				break;
			}
			if (!wide) {
				*p++ = (char)(ch < 0x80 ? cmd_mem_ascii(
								  (uint8_t)ch) :
							  '.');
				shown++;
				continue;
			}
			/* A surrogate pair is one character; both halves
			 * on this line, or the high one shows as a dot. */
			if (ch >= 0xD800 && ch <= 0xDBFF && i + 1 < n &&
			    all_ok(ok + (size_t)(i + 1) * csize, csize)) {
				uint64_t lo = get_unit(
					buf + (size_t)(i + 1) * csize, csize);

				if (lo >= 0xDC00 && lo <= 0xDFFF) {
					ch = 0x10000 + ((ch - 0xD800) << 10) +
					     (lo - 0xDC00);
					i++;
					shown++;
				}
			}
			p += put_utf8(p, (uint32_t)ch);
			shown++;
		}
		*p++ = '"';
		*p++ = '\n';
		kd_out_raw(s, line, (size_t)(p - line));
		if (end)
			break;
	}
	return addr + shown * csize;
}

/* Parse `/c N` and `/p`, `/p[c]`, `/p[uc]`, `/p[wc]` options. */
static int display_opts(struct kd_args *a, unsigned *cols, bool *phys)
{
	while (kd_args_peek(a) == '/') {
		int opt = kd_args_take_option(a, "/", "cp", 0);

		if (opt == 'c') {
			uint64_t v;

			kd_args_skip(a);
			if (kd_args_take_expr(a, &v) < 0)
				return KD_EINVAL;
			if (v == 0 || v > 64)
				return kd_fail(a->s, KD_EINVAL,
					       "Invalid column count %llx",
					       (unsigned long long)v);
			*cols = (unsigned)v;
		} else if (opt == 'p') {
			int rc = kd_args_take_group(a, '[', ']');

			if (rc < 0)
				return rc;
			*phys = true;
		} else {
			return kd_args_error(a);
		}
		kd_args_skip(a);
	}
	return KD_OK;
}

/* The d* form named @p form ("db", "dps", "da"...), or false. */
static bool dform(const struct kd_session *s, const char *form,
		  struct kd_dfmt *f, uint64_t *defcount)
{
	unsigned psize = kd_is_ptr64(s) ? 8 : 4;

	memset(f, 0, sizeof(*f));
	if (strcmp(form, "db") == 0) {
		*f = (struct kd_dfmt){ 'b', 1, 16, true, false, false };
		*defcount = 128;
	} else if (strcmp(form, "dw") == 0) {
		*f = (struct kd_dfmt){ 'w', 2, 8, false, false, false };
		*defcount = 64;
	} else if (strcmp(form, "dd") == 0) {
		*f = (struct kd_dfmt){ 'd', 4, 4, false, false, false };
		*defcount = 32;
	} else if (strcmp(form, "dc") == 0) {
		*f = (struct kd_dfmt){ 'd', 4, 4, true, false, false };
		*defcount = 32;
	} else if (strcmp(form, "dq") == 0) {
		*f = (struct kd_dfmt){ 'q', 8, 2, false, false, false };
		*defcount = 16;
	} else if (strcmp(form, "dp") == 0) {
		*f = (struct kd_dfmt){ 'q',   psize, 16 / psize,
				       false, false, false };
		*defcount = 128 / psize;
	} else if (strcmp(form, "dds") == 0) {
		*f = (struct kd_dfmt){ 'd', 4, 1, false, true, false };
		*defcount = 32;
	} else if (strcmp(form, "dqs") == 0) {
		*f = (struct kd_dfmt){ 'q', 8, 1, false, true, false };
		*defcount = 16;
	} else if (strcmp(form, "dps") == 0) {
		*f = (struct kd_dfmt){ 'q', psize, 1, false, true, false };
		*defcount = 128 / psize;
	} else if (strcmp(form, "da") == 0) {
		*f = (struct kd_dfmt){ 'a', 1, 1, false, false, false };
		*defcount = 128;
	} else if (strcmp(form, "du") == 0) {
		*f = (struct kd_dfmt){ 'u', 2, 1, false, false, false };
		*defcount = 128;
	} else {
		return false;
	}
	return true;
}

static int cmd_d(struct kd_session *s, struct kd_cmdctx *c)
{
	const char *form = c->name;
	struct kd_dfmt f;
	uint64_t addr = 0, count, defcount = 0;
	unsigned cols = 0;
	bool phys = false, have_addr = false;
	struct kd_args a;
	int rc;

	kd_args_init(&a, s, c);
	if (strcmp(form, "d") == 0)
		form = s->mem.last_dcmd[0] ? s->mem.last_dcmd : "db";
	if (!dform(s, form, &f, &defcount))
		return kd_args_error_at(&a, a.line);
	rc = display_opts(&a, &cols, &phys);
	if (rc < 0)
		return rc;
	if (cols && !f.sym && f.kind != 'a' && f.kind != 'u')
		f.cols = cols;
	count = defcount;
	rc = kd_args_take_range(&a, f.size == 0 ? 1 : f.size, &addr, &count,
				&have_addr);
	if (rc < 0)
		return rc;
	rc = kd_args_end(&a);
	if (rc < 0)
		return rc;
	if (!have_addr) {
		if (s->mem.have_next_d) {
			addr = s->mem.next_d;
		} else {
			rc = kd_pc_get(s, &addr);
			if (rc < 0)
				return kd_fail(s, rc,
					       "Unable to get the current "
					       "instruction pointer");
		}
	}
	if (count == 0)
		count = defcount;
	if (count > max_bytes(s, false) / (f.size ? f.size : 1))
		return kd_range_error(s, c->line, 0);
	if (phys && s->target && !s->target->ops->read_physical)
		return kd_target_refuse(s, "read physical memory of");
	snprintf(s->mem.last_dcmd, sizeof(s->mem.last_dcmd), "%s", form);
	if (f.kind == 'a' || f.kind == 'u')
		s->mem.next_d = display_string(s, phys, f.kind == 'u', addr,
					       count);
	else
		s->mem.next_d = cmd_mem_display(s, &f, phys, addr, count);
	s->mem.have_next_d = true;
	return KD_OK;
}

/* !db !dc !dd !dq !dw !dp: physical memory, "#    1000 " lines. */
static int cmd_bang_d(struct kd_session *s, struct kd_cmdctx *c)
{
	struct kd_dfmt f;
	uint64_t addr = s->mem.next_phys, count, defcount = 0;
	bool have_addr = false;
	struct kd_args a;
	int rc;

	kd_args_init(&a, s, c);
	if (!dform(s, c->name + 1, &f, &defcount))
		return kd_args_error_at(&a, a.line);
	f.bang = true;
	/* Caching attributes and -m change how memory is read, not what. */
	for (;;) {
		if (kd_args_peek(&a) == '[') {
			rc = kd_args_take_group(&a, '[', ']');
			if (rc < 0)
				return rc;
		} else if (kd_args_peek(&a) == '-' &&
			   kd_args_peek_at(&a, 1) == 'm' &&
			   (kd_args_peek_at(&a, 2) == ' ' ||
			    kd_args_peek_at(&a, 2) == '\0')) {
			kd_args_advance(&a, 2);
		} else {
			break;
		}
		kd_args_skip(&a);
	}
	count = defcount;
	rc = kd_args_take_range(&a, f.size, &addr, &count, &have_addr);
	if (rc < 0)
		return rc;
	if (!have_addr)
		addr = s->mem.next_phys;
	if (count == 0)
		count = defcount;
	if (count > max_bytes(s, false) / f.size)
		return kd_range_error(s, c->line, 0);
	/* Not `??` for a target that has no physical memory at all. */
	if (s->target && !s->target->ops->read_physical)
		return kd_target_refuse(s, "read physical memory of");
	s->mem.next_phys = cmd_mem_display(s, &f, true, addr, count);
	return KD_OK;
}

/* ------------------------------------------------------------------ */
/* Enter values                                                        */
/* ------------------------------------------------------------------ */

/* Text of the value at @p p for messages, without trailing blanks. */
static void trimmed(const char *p, char *out, size_t cap)
{
	size_t n = strlen(p);

	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n >= cap)
		n = cap - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

static int write_mem(struct kd_session *s, bool phys, uint64_t addr,
		     const void *buf, size_t len)
{
	size_t done = 0;
	int rc;

	if (phys)
		rc = kd_write_physical(s, addr, buf, len, &done);
	else
		rc = kd_write_virtual(s, addr, buf, len, &done);
	if (rc < 0)
		return rc;
	return done == len ? KD_OK : KD_EFAULT;
}

/*
 * Write the values at @p p (numbers, or 'c' for bytes) one element after
 * another from *addr.  Advances *addr.
 */
static int enter_values(struct kd_args *a, bool phys, unsigned size,
			uint64_t *addr)
{
	struct kd_session *s = a->s;

	while (!kd_args_at_end(a)) {
		const char *start;
		uint8_t b[8];
		uint64_t v;
		char text[128];
		int rc;

		kd_args_skip_also(a, ",");
		if (kd_args_at_end(a))
			break;
		start = a->p;
		if (kd_args_peek(a) == '\'' && kd_args_peek_at(a, 1) != '\0' &&
		    kd_args_peek_at(a, 2) == '\'') {
			v = (uint8_t)kd_args_peek_at(a, 1);
			kd_args_advance(a, 3);
		} else {
			rc = kd_args_take_expr(a, &v);
			if (rc < 0)
				return rc;
		}
		if (size < 8 && (v >> (size * 8)) != 0) {
			trimmed(start, text, sizeof(text));
			return kd_fail(s, KD_EOVERFLOW,
				       "Overflow error at '%s'", text);
		}
		put_unit(b, size, v);
		rc = write_mem(s, phys, *addr, b, size);
		if (rc < 0) {
			trimmed(start, text, sizeof(text));
			return kd_memory_error(s, text);
		}
		*addr += size;
		if (a->p == start)
			return kd_args_error(a);
	}
	return KD_OK;
}

/* `e addr` with no values: show each element and ask for a new one. */
static int enter_interactive(struct kd_session *s, const char *line, bool phys,
			     unsigned size, uint64_t addr)
{
	unsigned steps;

	if (!s->out.in_fn)
		return kd_fail(s, KD_ENOTSUP, "No input available for '%s'",
			       line);
	for (steps = 0; steps < 65536 && !s->interrupt; steps++) {
		uint8_t b[8];
		bool ok[8];
		char in[256];
		char a[18];
		char val[24];
		uint64_t before = addr;
		struct kd_args args;
		int rc;

		cmd_mem_fetch(s, phys, addr, b, ok, size);
		if (!all_ok(ok, size)) {
			kd_fmt_ptr(s, a, addr);
			return kd_memory_error(s, a);
		}
		fmt_unit(val, val + sizeof(val), size, true, get_unit(b, size));
		kd_out(s, "%s %s\n", kd_fmt_ptr(s, a, addr), val);
		rc = s->out.in_fn(s->out.in_ctx, "Input> ", in, sizeof(in));
		if (rc < 0 || in[0] == '\0')
			break;
		kd_args_init_text(&args, s, in, in);
		rc = enter_values(&args, phys, size, &addr);
		if (rc < 0)
			return rc;
		if (addr == before)
			break;
	}
	return KD_OK;
}

static int enter_string(struct kd_args *a, bool phys, bool wide, bool zero,
			uint64_t addr)
{
	struct kd_session *s = a->s;
	const char *text, *start = a->p;
	uint8_t *buf;
	size_t len, n, i;
	char msg[128];
	int rc;

	rc = kd_args_take_quoted(a, 0, &text, &len);
	if (rc < 0)
		return rc;
	rc = kd_args_end(a);
	if (rc < 0)
		return rc;
	n = (len + (zero ? 1 : 0)) * (wide ? 2 : 1);
	if (n == 0)
		return KD_OK;
	buf = kd_calloc(1, n);
	if (!buf)
		return kd_fail(s, KD_ENOMEM, "Out of memory");
	for (i = 0; i < len; i++) {
		if (wide)
			kd_put_le16(buf + 2 * i, (uint8_t)text[i]);
		else
			buf[i] = (uint8_t)text[i];
	}
	rc = write_mem(s, phys, addr, buf, n);
	kd_free(buf);
	if (rc < 0) {
		trimmed(start, msg, sizeof(msg));
		return kd_memory_error(s, msg);
	}
	return KD_OK;
}

/* eb ew ed eq ep ea eu eza ezu (and !eb !ed ... physical). */
static int cmd_e(struct kd_session *s, struct kd_cmdctx *c)
{
	const char *form = c->name;
	bool phys = false;
	struct kd_args a;
	uint64_t addr;
	unsigned size;
	int rc;

	kd_args_init(&a, s, c);
	if (form[0] == '!') {
		phys = true;
		form++;
	}
	if (form[0] == 'e' && form[1] == '\0')
		form = "eb";
	/* /p: physical (WinDbg 1.2402+). */
	if (kd_args_take_option(&a, "/", "p", 0)) {
		phys = true;
		rc = kd_args_take_group(&a, '[', ']');
		if (rc < 0)
			return rc;
		kd_args_skip(&a);
	}
	if (kd_args_at_end(&a))
		return kd_args_error(&a);
	rc = kd_args_take_expr(&a, &addr);
	if (rc < 0)
		return rc;
	kd_args_skip(&a);
	if (strcmp(form, "ea") == 0 || strcmp(form, "eza") == 0)
		return enter_string(&a, phys, false, form[1] == 'z', addr);
	if (strcmp(form, "eu") == 0 || strcmp(form, "ezu") == 0)
		return enter_string(&a, phys, true, form[1] == 'z', addr);
	switch (form[1]) {
	case 'b':
		size = 1;
		break;
	case 'w':
		size = 2;
		break;
	case 'd':
		size = 4;
		break;
	case 'q':
		size = 8;
		break;
	case 'p':
		size = kd_is_ptr64(s) ? 8 : 4;
		break;
	default:
		return kd_args_error_at(&a, a.line);
	}
	if (kd_args_at_end(&a))
		return enter_interactive(s, c->line, phys, size, addr);
	return enter_values(&a, phys, size, &addr);
}

/* ------------------------------------------------------------------ */
/* Search                                                              */
/* ------------------------------------------------------------------ */

#define KD_SEARCH_CHUNK 0x10000u
#define KD_SEARCH_MAXPAT 256u

static int cmd_s(struct kd_session *s, struct kd_cmdctx *c)
{
	uint8_t pat[KD_SEARCH_MAXPAT];
	size_t plen = 0;
	struct kd_dfmt f;
	uint64_t addr = 0, count = 0, defcount, total, off;
	unsigned size = 1, step;
	char kind = 'b';
	bool have_addr = false;
	struct kd_args a;
	uint8_t *buf;
	bool *ok;
	int rc, opt;

	kd_args_init(&a, s, c);
	opt = kd_args_take_option(&a, "-", "bwdqau", KD_ARGS_OPT_BLANK);
	if (opt) {
		kind = (char)opt;
		kd_args_skip(&a);
	} else if (kd_args_peek(&a) == '-') {
		return kd_args_error(&a);
	}
	switch (kind) {
	case 'w':
		size = 2;
		break;
	case 'd':
		size = 4;
		break;
	case 'q':
		size = 8;
		break;
	default:
		size = 1;
		break;
	}
	rc = kd_args_take_range(&a, size, &addr, &count, &have_addr);
	if (rc < 0)
		return rc;
	if (!have_addr || count == 0)
		return kd_args_error(&a);
	kd_args_skip(&a);
	if (kind == 'a' || kind == 'u') {
		const char *text;
		size_t len, i;

		rc = kd_args_take_quoted(&a, 0, &text, &len);
		if (rc < 0)
			return rc;
		if (len == 0 || len * (kind == 'u' ? 2 : 1) > sizeof(pat))
			return kd_args_error_at(&a, text);
		for (i = 0; i < len; i++) {
			if (kind == 'u')
				kd_put_le16(pat + 2 * i, (uint8_t)text[i]);
			else
				pat[i] = (uint8_t)text[i];
		}
		plen = len * (kind == 'u' ? 2 : 1);
	} else {
		while (!kd_args_at_end(&a)) {
			const char *start = a.p;
			uint64_t v;

			if (kd_args_peek(&a) == '\'' &&
			    kd_args_peek_at(&a, 1) != '\0' &&
			    kd_args_peek_at(&a, 2) == '\'') {
				v = (uint8_t)kd_args_peek_at(&a, 1);
				kd_args_advance(&a, 3);
			} else {
				rc = kd_args_take_expr(&a, &v);
				if (rc < 0)
					return rc;
			}
			if (a.p == start)
				return kd_args_error(&a);
			if (size < 8 && (v >> (size * 8)) != 0) {
				char t[64];

				trimmed(start, t, sizeof(t));
				return kd_fail(s, KD_EOVERFLOW,
					       "Overflow error at '%s'", t);
			}
			if (plen + size > sizeof(pat))
				return kd_fail(s, KD_EINVAL,
					       "Search pattern too long");
			put_unit(pat + plen, size, v);
			plen += size;
			kd_args_skip(&a);
		}
	}
	rc = kd_args_end(&a);
	if (rc < 0)
		return rc;
	if (plen == 0)
		return kd_args_error(&a);
	if (count > max_bytes(s, true) / size)
		return kd_range_error(s, c->line, 0);
	total = count * size;

	/* Hits print in the matching display layout. */
	if (kind == 'w')
		dform(s, "dw", &f, &defcount);
	else if (kind == 'd')
		dform(s, "dc", &f, &defcount);
	else if (kind == 'q')
		dform(s, "dq", &f, &defcount);
	else
		dform(s, "db", &f, &defcount);
	step = (kind == 'w' || kind == 'd' || kind == 'q') ? size : 1;

	buf = kd_malloc(KD_SEARCH_CHUNK + KD_SEARCH_MAXPAT);
	ok = kd_malloc(KD_SEARCH_CHUNK + KD_SEARCH_MAXPAT);
	if (!buf || !ok) {
		kd_free(buf);
		kd_free(ok);
		return kd_fail(s, KD_ENOMEM, "Out of memory");
	}
	for (off = 0; off < total && !s->interrupt && !s->cmd.target_err;
	     off += KD_SEARCH_CHUNK) {
		uint64_t span = total - off;
		size_t win, pos, scan;

		if (span < plen)
			break;
		scan = span - plen + 1 < KD_SEARCH_CHUNK ?
			       (size_t)(span - plen + 1) :
			       KD_SEARCH_CHUNK;
		win = scan + plen - 1;
		cmd_mem_fetch(s, false, addr + off, buf, ok, win);
		for (pos = 0; pos < scan; pos += step) {
			if (memcmp(buf + pos, pat, plen) != 0 ||
			    !all_ok(ok + pos, plen))
				continue;
			cmd_mem_display(s, &f, false, addr + off + pos, f.cols);
		}
	}
	kd_free(buf);
	kd_free(ok);
	return KD_OK;
}

/* ------------------------------------------------------------------ */
/* .writemem / .readmem                                                */
/* ------------------------------------------------------------------ */

#define KD_FILE_CHUNK 0x10000u

/* A file name: "quoted" or up to the next blank. */
static int file_arg(struct kd_args *a, char *out, size_t cap)
{
	const char *at = a->p;
	const char *name;
	size_t n = 0;

	if (kd_args_peek(a) == '"') {
		int rc = kd_args_take_quoted(a, 0, &name, &n);

		if (rc < 0)
			return rc;
		if (n == 0 || n >= cap)
			return kd_args_error_at(a, at);
	} else if (!kd_args_take_word(a, &name, &n) || n >= cap) {
		return kd_args_error_at(a, at);
	}
	memcpy(out, name, n);
	out[n] = '\0';
	kd_args_skip(a);
	return KD_OK;
}

static int cmd_writemem(struct kd_session *s, struct kd_cmdctx *c)
{
	struct kd_args args;
	char path[512];
	uint64_t addr = 0, count = 0, off;
	bool have_addr = false;
	uint8_t *buf;
	FILE *fp;
	char a[18];
	int rc;

	if (s->sandbox)
		return kd_fail(s, KD_ENOTSUP,
			       ".writemem is disabled in this session");
	kd_args_init(&args, s, c);
	rc = file_arg(&args, path, sizeof(path));
	if (rc < 0)
		return rc;
	rc = kd_args_take_range(&args, 1, &addr, &count, &have_addr);
	if (rc < 0)
		return rc;
	if (!have_addr || count == 0)
		return kd_args_error(&args);
	buf = kd_malloc(KD_FILE_CHUNK);
	if (!buf)
		return kd_fail(s, KD_ENOMEM, "Out of memory");
	fp = fopen(path, "wb");
	if (!fp) {
		kd_free(buf);
		return kd_fail(s, KD_ERROR, "Unable to create file '%s' - %s",
			       path, strerror(errno));
	}
	kd_out(s, "Writing %llx bytes", (unsigned long long)count);
	rc = KD_OK;
	for (off = 0; off < count; off += KD_FILE_CHUNK) {
		size_t n = count - off < KD_FILE_CHUNK ? (size_t)(count - off) :
							 KD_FILE_CHUNK;

		if (s->interrupt) {
			kd_out(s, "\n");
			rc = kd_fail(s, KD_EAGAIN, "Interrupted");
			break;
		}
		if (kd_read_virtual_all(s, addr + off, buf, n) != KD_OK) {
			kd_out(s, "\n");
			rc = kd_fail(s, KD_EFAULT,
				     "Unable to read memory at "
				     "%s, file is partial",
				     kd_fmt_ptr(s, a, addr + off));
			break;
		}
		if (fwrite(buf, 1, n, fp) != n) {
			kd_out(s, "\n");
			rc = kd_fail(s, KD_ERROR, "Unable to write to '%s'",
				     path);
			break;
		}
		kd_out(s, ".");
	}
	if (fclose(fp) != 0 && rc == KD_OK) {
		kd_out(s, "\n");
		rc = kd_fail(s, KD_ERROR, "Unable to write to '%s'", path);
	}
	if (rc == KD_OK)
		kd_out(s, "\n");
	kd_free(buf);
	return rc;
}

static int cmd_readmem(struct kd_session *s, struct kd_cmdctx *c)
{
	struct kd_args args;
	char path[512];
	uint64_t addr = 0, count = 0, off;
	bool have_addr = false;
	uint8_t *buf;
	long fsize;
	FILE *fp;
	char a[18];
	int rc;

	if (s->sandbox)
		return kd_fail(s, KD_ENOTSUP,
			       ".readmem is disabled in this session");
	kd_args_init(&args, s, c);
	rc = file_arg(&args, path, sizeof(path));
	if (rc < 0)
		return rc;
	rc = kd_args_take_range(&args, 1, &addr, &count, &have_addr);
	if (rc < 0)
		return rc;
	if (!have_addr)
		return kd_args_error(&args);
	fp = fopen(path, "rb");
	if (!fp)
		return kd_fail(s, KD_ENOTFOUND, "Unable to open file '%s' - %s",
			       path, strerror(errno));
	if (fseek(fp, 0, SEEK_END) != 0 || (fsize = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) != 0) {
		fclose(fp);
		return kd_fail(s, KD_ERROR, "Unable to read '%s'", path);
	}
	if (count == 0 || count > (uint64_t)fsize)
		count = (uint64_t)fsize;
	buf = kd_malloc(KD_FILE_CHUNK);
	if (!buf) {
		fclose(fp);
		return kd_fail(s, KD_ENOMEM, "Out of memory");
	}
	kd_out(s, "Reading %llx bytes", (unsigned long long)count);
	rc = KD_OK;
	for (off = 0; off < count; off += KD_FILE_CHUNK) {
		size_t n = count - off < KD_FILE_CHUNK ? (size_t)(count - off) :
							 KD_FILE_CHUNK;

		if (fread(buf, 1, n, fp) != n) {
			kd_out(s, "\n");
			rc = kd_fail(s, KD_ERROR, "Unable to read '%s'", path);
			break;
		}
		if (write_mem(s, false, addr + off, buf, n) != KD_OK) {
			kd_out(s, "\n");
			rc = kd_memory_error(s, kd_fmt_ptr(s, a, addr + off));
			break;
		}
		kd_out(s, ".");
	}
	if (rc == KD_OK)
		kd_out(s, "\n");
	fclose(fp);
	kd_free(buf);
	return rc;
}

#define KD_DCMD(n, h)                                         \
	{                                                     \
		n, cmd_d, KD_CMDF_STOPPED | KD_CMDF_PREFIX, h \
	}
#define KD_ECMD(n, h)                                         \
	{                                                     \
		n, cmd_e, KD_CMDF_STOPPED | KD_CMDF_PREFIX, h \
	}
#define KD_PCMD(n, h)                             \
	{                                         \
		n, cmd_bang_d, KD_CMDF_STOPPED, h \
	}

const struct kd_command kd_cmds_mem[] = {
	KD_DCMD("d", "d [range]: repeat the last d* form"),
	KD_DCMD("db", "db [/c N] [/p] [range]: bytes and ASCII"),
	KD_DCMD("dw", "dw [range]: words"),
	KD_DCMD("dd", "dd [range]: double words"),
	KD_DCMD("dc", "dc [range]: double words and ASCII"),
	KD_DCMD("dq", "dq [range]: quad words"),
	KD_DCMD("dp", "dp [range]: pointers"),
	KD_DCMD("da", "da [range]: ASCII string"),
	KD_DCMD("du", "du [range]: Unicode string"),
	KD_DCMD("dds", "dds [range]: double words and symbols"),
	KD_DCMD("dqs", "dqs [range]: quad words and symbols"),
	KD_DCMD("dps", "dps [range]: pointers and symbols"),
	KD_ECMD("e", "e addr [values]: enter bytes"),
	KD_ECMD("eb", "eb addr [values]: enter bytes ('c' allowed)"),
	KD_ECMD("ew", "ew addr [values]: enter words"),
	KD_ECMD("ed", "ed addr [values]: enter double words"),
	KD_ECMD("eq", "eq addr [values]: enter quad words"),
	KD_ECMD("ep", "ep addr [values]: enter pointers"),
	KD_ECMD("ea", "ea addr \"text\": enter ASCII"),
	KD_ECMD("eu", "eu addr \"text\": enter Unicode"),
	KD_ECMD("eza", "eza addr \"text\": enter ASCII with a NUL"),
	KD_ECMD("ezu", "ezu addr \"text\": enter Unicode with a NUL"),
	{ "s", cmd_s, KD_CMDF_STOPPED,
	  "s -b|-w|-d|-q|-a|-u range pattern: search memory" },
	KD_PCMD("!db", "!db [phys] [L n]: physical bytes and ASCII"),
	KD_PCMD("!dc", "!dc [phys] [L n]: physical dwords and ASCII"),
	KD_PCMD("!dd", "!dd [phys] [L n]: physical double words"),
	KD_PCMD("!dq", "!dq [phys] [L n]: physical quad words"),
	KD_PCMD("!dw", "!dw [phys] [L n]: physical words"),
	KD_PCMD("!dp", "!dp [phys] [L n]: physical pointers"),
	{ "!eb", cmd_e, KD_CMDF_STOPPED, "!eb phys values: enter bytes" },
	{ "!ew", cmd_e, KD_CMDF_STOPPED, "!ew phys values: enter words" },
	{ "!ed", cmd_e, KD_CMDF_STOPPED,
	  "!ed phys values: enter double words" },
	{ "!eq", cmd_e, KD_CMDF_STOPPED, "!eq phys values: enter quad words" },
	{ ".writemem", cmd_writemem, KD_CMDF_STOPPED,
	  ".writemem file range: save target memory to a file" },
	{ ".readmem", cmd_readmem, KD_CMDF_STOPPED,
	  ".readmem file range: load a file into target memory" },
	{ NULL, NULL, 0, NULL },
};
