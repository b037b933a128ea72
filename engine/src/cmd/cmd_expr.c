/* SPDX-License-Identifier: MIT */
/*
 * Expression commands: `? expr` (evaluate), `.formats expr` (every number
 * format WinDbg shows) and `n [base]` (the default radix); `??` and `dx`
 * are in cmd_cpp.c.
 */
#define _DEFAULT_SOURCE 1 /* localtime_r, tm_gmtoff */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/args.h"
#include "cmd/cmd_cpp.h"
#include "core/engine_int.h"

/* 100 ns intervals between 1601-01-01 and 1970-01-01. */
#define FILETIME_UNIX_EPOCH UINT64_C(116444736000000000)

static const char *const expr_wday[] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
};
static const char *const expr_month[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

/* Evaluate the whole argument text; anything left over is an error. */
static int expr_whole(struct kd_session *s, struct kd_cmdctx *c, uint64_t *v)
{
	struct kd_args a;
	int rc;

	kd_args_init(&a, s, c);
	rc = kd_args_take_expr(&a, v);
	if (rc < 0)
		return rc;
	return kd_args_end(&a);
}

/* The command list `?` prints without an argument. */
static void expr_help(struct kd_session *s)
{
	const struct kd_command_group *groups = kd_cmd__groups();
	size_t t;

	kd_out(s, "Commands (expressions are MASM, numbers hex by "
		  "default):\n");
	for (t = 0; groups[t].table; t++) {
		const struct kd_command *c;

		for (c = groups[t].table; c->name; c++) {
			kd_out(s, "  %-12s %s\n", c->name,
			       c->help ? c->help : "");
		}
	}
}

static int cmd_evaluate(struct kd_session *s, struct kd_cmdctx *c)
{
	struct kd_args a;
	uint64_t v;
	int rc;

	kd_args_init(&a, s, c);
	if (kd_args_at_end(&a)) {
		expr_help(s);
		return KD_OK;
	}
	rc = expr_whole(s, c, &v);
	if (rc < 0)
		return rc;
	if (kd_is_ptr64(s))
		kd_out(s, "Evaluate expression: %lld = %08x`%08x\n",
		       (long long)(int64_t)v, (unsigned)(v >> 32),
		       (unsigned)(v & 0xffffffffu));
	else
		kd_out(s, "Evaluate expression: %d = %08x\n",
		       (int)(int32_t)(uint32_t)v, (unsigned)(uint32_t)v);
	return KD_OK;
}

/*
 * %g the way the Microsoft C runtime prints it: at least three exponent
 * digits (1.4013e-045) and 1.#INF / 1.#QNAN / 1.#SNAN / -1.#IND.
 */
static void fmt_float(char *buf, size_t cap, double d, uint64_t bits,
		      unsigned mant_bits)
{
	uint64_t mant = bits & ((UINT64_C(1) << mant_bits) - 1);
	uint64_t quiet = UINT64_C(1) << (mant_bits - 1);
	bool neg = signbit(d) != 0;
	char tmp[40];
	char *e;

	if (isinf(d)) {
		snprintf(buf, cap, "%s1.#INF", neg ? "-" : "");
		return;
	}
	if (isnan(d)) {
		if (neg && mant == quiet)
			snprintf(buf, cap, "-1.#IND");
		else
			snprintf(buf, cap, "%s1.#%s", neg ? "-" : "",
				 (mant & quiet) ? "QNAN" : "SNAN");
		return;
	}
	snprintf(tmp, sizeof(tmp), "%g", d);
	e = strchr(tmp, 'e');
	if (e && (e[1] == '-' || e[1] == '+') && strlen(e + 2) < 3) {
		size_t digits = strlen(e + 2);

		snprintf(buf, cap, "%.*s%s%s", (int)(e + 2 - tmp), tmp,
			 digits == 1 ? "00" : "0", e + 2);
		return;
	}
	snprintf(buf, cap, "%s", tmp);
}

/* "Fri Dec 23 12:42:42.797 2016 (UTC - 8:00)" or a CRT ctime() form. */
static bool fmt_local_time(char *buf, size_t cap, int64_t secs, int ms,
			   bool with_ms)
{
	time_t t = (time_t)secs;
	struct tm tm;
	long off;

	if ((int64_t)t != secs || !localtime_r(&t, &tm))
		return false;
	if (tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 || tm.tm_mon > 11)
		return false;
	if (!with_ms) {
		snprintf(buf, cap, "%s %s %2d %02d:%02d:%02d %d",
			 expr_wday[tm.tm_wday], expr_month[tm.tm_mon],
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			 tm.tm_year + 1900);
		return true;
	}
	off = tm.tm_gmtoff / 60;
	snprintf(buf, cap,
		 "%s %s %2d %02d:%02d:%02d.%03d %d (UTC %c %ld:%02ld)",
		 expr_wday[tm.tm_wday], expr_month[tm.tm_mon], tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, ms, tm.tm_year + 1900,
		 off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
	return true;
}

/* The Time: field: CRT time_t for 32-bit values, FILETIME above. */
static void fmt_time(char *buf, size_t cap, uint64_t v)
{
	int64_t rel, secs, rem;

	if (v <= 0xffffffffu) {
		if (v > 0x7fffffffu ||
		    !fmt_local_time(buf, cap, (int64_t)v, 0, false))
			snprintf(buf, cap, "***** Invalid");
		return;
	}
	rel = (int64_t)(v & INT64_MAX) - (int64_t)FILETIME_UNIX_EPOCH;
	secs = rel / 10000000;
	rem = rel % 10000000;
	if (rem < 0) {
		secs--;
		rem += 10000000;
	}
	if (v > INT64_MAX ||
	    !fmt_local_time(buf, cap, secs, (int)(rem / 10000), true))
		snprintf(buf, cap, "***** Invalid FILETIME");
}

static int cmd_formats(struct kd_session *s, struct kd_cmdctx *c)
{
	bool wide = kd_is_ptr64(s);
	unsigned nbytes = wide ? 8 : 4;
	char line[128];
	char fl[64], fh[64], dbl[64];
	uint32_t lo32, hi32;
	uint64_t v;
	float f;
	double d;
	struct kd_args a;
	size_t n;
	unsigned i;
	int rc;

	kd_args_init(&a, s, c);
	if (kd_args_at_end(&a))
		return kd_args_error_eol(&a);
	rc = expr_whole(s, c, &v);
	if (rc < 0)
		return rc;
	if (!wide)
		v &= 0xffffffffu;
	kd_out(s, "Evaluate expression:\n");
	if (wide) {
		kd_out(s, "  Hex:     %08x`%08x\n", (unsigned)(v >> 32),
		       (unsigned)(v & 0xffffffffu));
		kd_out(s, "  Decimal: %lld\n", (long long)(int64_t)v);
		kd_out(s, "  Decimal (unsigned) : %llu\n",
		       (unsigned long long)v);
		kd_out(s, "  Octal:   %022llo\n", (unsigned long long)v);
	} else {
		kd_out(s, "  Hex:     %08x\n", (unsigned)v);
		kd_out(s, "  Decimal: %d\n", (int)(int32_t)(uint32_t)v);
		kd_out(s, "  Decimal (unsigned) : %u\n", (unsigned)v);
		kd_out(s, "  Octal:   %011o\n", (unsigned)v);
	}
	/* Binary: byte groups, most significant first. */
	n = 0;
	for (i = 0; i < nbytes; i++) {
		unsigned b = (unsigned)(v >> (8 * (nbytes - 1 - i))) & 0xff;
		int bit;

		if (i > 0)
			line[n++] = ' ';
		for (bit = 7; bit >= 0; bit--)
			line[n++] = (char)('0' + ((b >> bit) & 1));
	}
	line[n] = '\0';
	kd_out(s, "  Binary:  %s\n", line);
	for (i = 0; i < nbytes; i++) {
		unsigned b = (unsigned)(v >> (8 * (nbytes - 1 - i))) & 0xff;

		line[i] = (char)((b >= 0x20 && b < 0x7f) ? b : '.');
	}
	line[nbytes] = '\0';
	kd_out(s, "  Chars:   %s\n", line);
	fmt_time(line, sizeof(line), v);
	kd_out(s, "  Time:    %s\n", line);
	lo32 = (uint32_t)v;
	hi32 = (uint32_t)(v >> 32);
	memcpy(&f, &lo32, sizeof(f));
	fmt_float(fl, sizeof(fl), f, lo32, 23);
	memcpy(&f, &hi32, sizeof(f));
	fmt_float(fh, sizeof(fh), f, hi32, 23);
	kd_out(s, "  Float:   low %s high %s\n", fl, fh);
	memcpy(&d, &v, sizeof(d));
	fmt_float(dbl, sizeof(dbl), d, v, 52);
	kd_out(s, "  Double:  %s\n", dbl);
	return KD_OK;
}

static int cmd_radix(struct kd_session *s, struct kd_cmdctx *c)
{
	unsigned base = 0;
	struct kd_args a;
	const char *start;
	char ch;

	kd_args_init(&a, s, c);
	start = a.p;
	if (kd_args_at_end(&a)) {
		kd_out(s, "base is %u\n", s->expr.radix ? s->expr.radix : 16);
		return KD_OK;
	}
	/* The new base is always read in decimal. */
	while ((ch = kd_args_peek(&a)) >= '0' && ch <= '9' && base < 100) {
		base = base * 10 + (unsigned)(ch - '0');
		kd_args_advance(&a, 1);
	}
	if (!kd_args_blank_rest(&a) || (base != 8 && base != 10 && base != 16))
		return kd_args_error_at(&a, start);
	s->expr.radix = base;
	return KD_OK;
}

const struct kd_command kd_cmds_expr[] = {
	{ "?", cmd_evaluate, KD_CMDF_PREFIX,
	  "? expr: evaluate a MASM expression" },
	{ "??", kd_cmd__cpp_eval, KD_CMDF_PREFIX,
	  "?? expr: evaluate a C++ expression, show its type" },
	{ "dx", kd_cmd__dx, 0,
	  "dx [-r[N]] expr: display a C++ expression's object" },
	{ ".formats", cmd_formats, 0,
	  ".formats expr: show a number in every format" },
	{ "n", cmd_radix, 0, "n [8|10|16]: show or set the number base" },
	{ NULL, NULL, 0, NULL },
};
