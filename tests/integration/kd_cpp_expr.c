/* SPDX-License-Identifier: MIT */
/*
 * The C++ evaluator (`??`, `@@c++()`, `dx`) in kd against a live kdsim,
 * all real processes.
 *
 * kdsim's own PDBs hold no structures, so the test builds one:
 * tests/data/cpptypes.c compiled with clang-cl and linked with lld-link
 * into cpptypes.sys and its PDB, which kd loads with `.reload /f
 * cpptypes.sys=Base,Size,Stamp` (the image found on the symbol path by
 * its key).  Casts then lay its types over real kdsim memory (the code of
 * nt!DbgPrint), and every expected value comes from elsewhere: sizes and
 * member offsets from llvm-pdbutil on the same PDB, memory from dq/dd/dw/db
 * of the same session, registers from `r`, stamp and size from
 * llvm-readobj.  Skipped (77) without the LLVM tools or kdsim's PDBs.
 */
#include "kdsim_client.h"
#include "kd_proc.h"
#include "testsupport.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define T_MS 30000
#define MAX_FIELDS 32

struct field {
	char name[32];
	unsigned long long offset;
};

static char g_dir[128];	 /* the test's temporary folder */
static char g_kdir[512]; /* kdsim's kernel images and PDBs */
static struct field g_f[MAX_FIELDS];
static int g_nf;
static unsigned long long g_size; /* sizeof(_SAMPLE) from llvm-pdbutil */
static struct field g_kt[MAX_FIELDS], g_apc[MAX_FIELDS];
static int g_nkt, g_napc;
static unsigned long long g_kt_size, g_apc_size;
static unsigned long long g_stamp, g_image_size;
static struct kc g_sim;
static struct kp g_kd;
static char g_sock[160];
static unsigned long long g_obj; /* nt!DbgPrint: where _SAMPLE is laid */
static bool g_kd_unclean;	 /* kd's exit was not the expected one */

static char *cmd(const char *c)
{
	char *out = kp_cmd(&g_kd, c, T_MS);

	if (!out)
		fail_msg("kd did not answer '%s'; stdout so far:\n%s\nstderr:"
			 "\n%s",
			 c, g_kd.out.data ? g_kd.out.data : "",
			 g_kd.err.data ? g_kd.err.data : "");
	return out;
}

static char *cmdf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *cmdf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return cmd(buf);
}

/* "fffff800`00401150" from "? x"'s "= fffff800`00401150". */
static unsigned long long parse_tick(const char *p)
{
	unsigned long long v = 0;

	for (; *p; p++) {
		if (*p == '`')
			continue;
		if (*p >= '0' && *p <= '9')
			v = v * 16 + (unsigned)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			v = v * 16 + (unsigned)(*p - 'a' + 10);
		else
			break;
	}
	return v;
}

static unsigned long long eval_masm(const char *expr)
{
	char *out = cmdf("? %s", expr);
	const char *eq = strstr(out, "= ");
	unsigned long long v;

	if (!eq)
		fail_msg("? %s:\n%s", expr, out);
	v = parse_tick(eq + 2);
	free(out);
	return v;
}

/* The first value d* prints for one unit at @p addr. */
static unsigned long long mem(const char *dcmd, unsigned long long addr)
{
	char *out = cmdf("%s %llx L1", dcmd, addr);
	const char *p = strstr(out, "  ");
	unsigned long long v;

	if (!p)
		fail_msg("%s %llx:\n%s", dcmd, addr, out);
	v = parse_tick(p + 2);
	free(out);
	return v;
}

static const struct field *field(const char *name)
{
	int i;

	for (i = 0; i < g_nf; i++)
		if (strcmp(g_f[i].name, name) == 0)
			return &g_f[i];
	fail_msg("llvm-pdbutil lists no member %s of _SAMPLE", name);
	return NULL;
}

/*
 * The size and members of structure @p name from `llvm-pdbutil dump
 * --types`: the field list its defining LF_STRUCTURE record names.
 */
static bool load_layout(const char *t, const char *name, struct field *f,
			int *nf, unsigned long long *size)
{
	char fl[16], want[64], tag[64];
	const char *p, *q, *end;
	size_t tl;

	*nf = 0;
	/* "0x1011 | LF_STRUCTURE [size = 32] `_SAMPLE`" */
	snprintf(tag, sizeof(tag), "] `%s`", name);
	tl = strlen(tag);
	for (p = t; (p = strstr(p, "| LF_STRUCTURE [")) != NULL; p++) {
		end = strchr(p, '\n');
		q = strstr(p, tag);
		if (end && q && q < end && q + tl == end) {
			const char *l2 = strchr(end + 1, '\n');
			const char *has = strstr(end, "field list: 0x");

			/* Not the forward reference (field list <no type>). */
			if (l2 && has && has < l2)
				break;
		}
	}
	if (!p)
		return false;
	q = strstr(p, "field list: ");
	end = strstr(p, "sizeof ");
	if (!q || !end)
		return false;
	snprintf(fl, sizeof(fl), "%.6s", q + 12);
	*size = strtoull(end + 7, NULL, 10);
	snprintf(want, sizeof(want), "%s | LF_FIELDLIST", fl);
	p = strstr(t, want);
	if (!p)
		return false;
	p = strchr(p, '\n');
	while (p && strncmp(p + 1, "           - ", 13) == 0 &&
	       *nf < MAX_FIELDS) {
		const char *nl = strchr(p + 1, '\n');
		const char *n = strstr(p + 1, "name = `");
		const char *o = strstr(p + 1, "offset = ");

		if (strncmp(p + 14, "LF_MEMBER", 9) == 0 && n && o &&
		    (!nl || (n < nl && o < nl))) {
			const char *ne = strchr(n + 8, '`');

			snprintf(f[*nf].name, sizeof(f[*nf].name), "%.*s",
				 (int)(ne - n - 8), n + 8);
			f[*nf].offset = strtoull(o + 9, NULL, 10);
			(*nf)++;
		}
		p = nl;
	}
	return *size > 0 && *nf > 0;
}

/* Offset of member @p m in @p f (-1 when llvm-pdbutil lists none). */
static long long offset_of(const struct field *f, int nf, const char *m)
{
	int i;

	for (i = 0; i < nf; i++)
		if (strcmp(f[i].name, m) == 0)
			return (long long)f[i].offset;
	return -1;
}

static int setup(void **state)
{
	const char *b = getenv("KD_BUILD_DIR");
	const char *cl = kdt_have("clang-cl-14") ? "clang-cl-14" : "clang-cl";
	char *t, v[128], path[1024];
	char host[sizeof(g_sim.host_connstr)];
	const char *kdargs[] = { "-k", host, "-bonc", NULL };
	char k[200];
	char *banner;

	(void)state;
	snprintf(g_kdir, sizeof(g_kdir), "%s/firmware-stubs/sim/kernel",
		 b ? b : KD_BUILD_DIR);
	snprintf(g_dir, sizeof(g_dir), "/tmp/kd_cppexpr_XXXXXX");
	if (!mkdtemp(g_dir))
		return -1;
	if (kdt_sh("cd '%s' && %s /nologo /c /O2 /Z7 /GS- /Zl /Brepro /W4 "
		   "-fno-builtin /clang:-ffreestanding /Focpptypes.obj -- "
		   "'%s/cpptypes.c' >/dev/null && lld-link /nologo "
		   "/NODEFAULTLIB /DRIVER /FIXED /HIGHENTROPYVA:NO "
		   "/SUBSYSTEM:NATIVE /DEBUG /PDBALTPATH:%%_PDB%% /Brepro "
		   "/ENTRY:DriverEntry /BASE:0xfffff80020000000 "
		   "/OUT:cpptypes.sys /PDB:cpptypes.pdb cpptypes.obj",
		   g_dir, cl, KD_TEST_DATA_DIR) != 0)
		return -1;
	t = kdt_run_out("llvm-readobj --file-headers '%s/cpptypes.sys'", g_dir);
	if (!t || !kdt_field(t, "TimeDateStamp:", v, sizeof(v)) ||
	    !strstr(v, "(0x")) {
		free(t);
		return -1;
	}
	g_stamp = strtoull(strstr(v, "(0x") + 3, NULL, 16);
	if (!kdt_field(t, "SizeOfImage:", v, sizeof(v))) {
		free(t);
		return -1;
	}
	g_image_size = strtoull(v, NULL, 10);
	free(t);
	t = kdt_run_out("llvm-pdbutil dump --types '%s/cpptypes.pdb'", g_dir);
	if (!t || !load_layout(t, "_SAMPLE", g_f, &g_nf, &g_size) || g_nf < 8 ||
	    !load_layout(t, "_KTHREAD", g_kt, &g_nkt, &g_kt_size) ||
	    !load_layout(t, "_KAPC_STATE", g_apc, &g_napc, &g_apc_size)) {
		free(t);
		return -1;
	}
	free(t);

	/* kdsim, and kd with both folders on the symbol path. */
	snprintf(g_sock, sizeof(g_sock), "%s/sim.sock", g_dir);
	snprintf(k, sizeof(k), "com:pipe,port=%s", g_sock);
	{
		const char *args[] = { "-k",	 k,   "--print-ms", "0",
				       "--cpus", "1", NULL };

		kc_spawn(&g_sim, args);
	}
	snprintf(host, sizeof(host), "%s", g_sim.host_connstr);
	snprintf(path, sizeof(path), "%s;%s", g_kdir, g_dir);
	setenv("_NT_SYMBOL_PATH", path, 1);
	kp_start(&g_kd, kdargs);
	banner = kp_wait_prompt(&g_kd, T_MS);
	if (!banner)
		return -1;
	free(banner);
	t = cmdf(".reload /f cpptypes.sys=fffff800`20000000,%llx,%llx",
		 g_image_size, g_stamp);
	free(t);
	t = cmd("lm");
	if (!strstr(t, "cpptypes") || !strstr(t, "cpptypes.pdb")) {
		fprintf(stderr, "cpptypes not loaded:\n%s\n", t);
		free(t);
		return -1;
	}
	free(t);
	g_obj = eval_masm("nt!DbgPrint");
	return 0;
}

static int teardown(void **state)
{
	int rc;

	(void)state;
	kp_send(&g_kd, "q\n");
	/* Status 1: the errors test's commands failed, as they should;
	 * anything else (a sanitizer's abort, a leak) fails the group. */
	rc = kp_finish(&g_kd, T_MS);
	if (rc != 1 || (g_kd.err.data && strstr(g_kd.err.data, "Sanitizer"))) {
		fprintf(stderr, "kd exited %d:\n%s\n", rc,
			g_kd.err.data ? g_kd.err.data : "");
		g_kd_unclean = true;
		rc = -1;
	} else {
		rc = 0;
	}
	kp_free(&g_kd);
	kc_stop(&g_sim);
	kdt_sh("rm -rf '%s'", g_dir);
	return rc == 0 ? 0 : -1;
}

/* Output @p out must hold line @p want (whole line). */
static void has_line(const char *out, const char *want, const char *what)
{
	size_t n = strlen(want);
	const char *p = out;

	while ((p = strstr(p, want)) != NULL) {
		if ((p == out || p[-1] == '\n') &&
		    (p[n] == '\n' || p[n] == '\0'))
			return;
		p++;
	}
	fail_msg("%s: no line '%s' in:\n%s", what, want, out);
}

static void expect(const char *command, const char *want)
{
	char *out = cmd(command);

	has_line(out, want, command);
	free(out);
}

/* An unsigned value as ?? prints it: below 10 bare, else 0x hex. */
static void fmt_unsigned(unsigned long long v, char *buf, size_t cap)
{
	if (v < 10)
		snprintf(buf, cap, "%llu", v);
	else
		snprintf(buf, cap, "0x%llx", v);
}

/* sizeof and #FIELD_OFFSET against llvm-pdbutil's record of _SAMPLE. */
static void sizes_and_offsets(void **state)
{
	char want[128], cmdline[160], num[32];
	int i;

	(void)state;
	fmt_unsigned(g_size, num, sizeof(num));
	snprintf(want, sizeof(want), "unsigned int %s", num);
	expect("?? sizeof(cpptypes!_SAMPLE)", want);
	/* The same through MASM's @@c++(). */
	snprintf(want, sizeof(want), "Evaluate expression: %llu = ", g_size);
	{
		char *out = cmd("? @@c++(sizeof(cpptypes!_SAMPLE))");

		if (strncmp(out, want, strlen(want)) != 0)
			fail_msg("@@c++(sizeof): want '%s':\n%s", want, out);
		free(out);
	}
	for (i = 0; i < g_nf; i++) {
		snprintf(cmdline, sizeof(cmdline),
			 "?? #FIELD_OFFSET(cpptypes!_SAMPLE, %s)", g_f[i].name);
		fmt_unsigned(g_f[i].offset, num, sizeof(num));
		snprintf(want, sizeof(want), "unsigned __int64 %s", num);
		expect(cmdline, want);
	}
	print_message("sizeof and %d member offsets of _SAMPLE match "
		      "llvm-pdbutil\n",
		      g_nf);
}

/* Members through ->, ., [] and bit fields against d* of the bytes. */
static void members_match_memory(void **state)
{
	char want[160], c[200], num[32];
	unsigned long long v, byte;
	long long sv;

	(void)state;
	v = mem("dd", g_obj + field("Count")->offset);
	fmt_unsigned(v, num, sizeof(num));
	snprintf(c, sizeof(c), "?? ((cpptypes!_SAMPLE *)0x%llx)->Count", g_obj);
	snprintf(want, sizeof(want), "unsigned int %s", num);
	expect(c, want);

	sv = (int)(unsigned)mem("dd", g_obj + field("Signed")->offset);
	snprintf(c, sizeof(c), "?? (*(cpptypes!_SAMPLE *)0x%llx).Signed",
		 g_obj);
	snprintf(want, sizeof(want), "int 0n%lld", sv);
	expect(c, want);

	v = mem("dq", g_obj + field("Values")->offset + 2 * 8);
	snprintf(c, sizeof(c), "?? ((cpptypes!_SAMPLE *)0x%llx)->Values[2]",
		 g_obj);
	fmt_unsigned(v, num, sizeof(num));
	snprintf(want, sizeof(want), "unsigned __int64 %s", num);
	expect(c, want);

	/* The anonymous union's members are _SAMPLE's. */
	v = mem("dd", g_obj + field("High")->offset);
	snprintf(c, sizeof(c), "?? ((cpptypes!_SAMPLE *)0x%llx)->High", g_obj);
	fmt_unsigned(v, num, sizeof(num));
	snprintf(want, sizeof(want), "unsigned int %s", num);
	expect(c, want);

	v = mem("dw", g_obj + field("Inner")->offset);
	snprintf(c, sizeof(c), "?? ((cpptypes!_SAMPLE *)0x%llx)->Inner.Length",
		 g_obj);
	fmt_unsigned(v, num, sizeof(num));
	snprintf(want, sizeof(want), "unsigned short %s", num);
	expect(c, want);

	/* Flags:3 then Mode:5 share a byte (C's bit field layout). */
	byte = mem("db", g_obj + field("Mode")->offset);
	snprintf(c, sizeof(c), "?? (int)((cpptypes!_SAMPLE *)0x%llx)->Mode",
		 g_obj);
	snprintf(want, sizeof(want), "int 0n%llu", (byte >> 3) & 0x1f);
	expect(c, want);
	snprintf(c, sizeof(c), "?? (int)((cpptypes!_SAMPLE *)0x%llx)->Flags",
		 g_obj);
	snprintf(want, sizeof(want), "int 0n%llu", byte & 7);
	expect(c, want);

	/* A global's type and value from the kernel's PDB. */
	v = mem("dw", eval_masm("nt!NtBuildNumber"));
	fmt_unsigned(v, num, sizeof(num));
	snprintf(want, sizeof(want), "unsigned short %s", num);
	expect("?? nt!NtBuildNumber", want);
}

/* Pointer arithmetic steps by the pointee's size; & and [] agree. */
static void pointer_arithmetic(void **state)
{
	char want[160], c[200];
	unsigned long long p2 = g_obj + 2 * g_size;

	(void)state;
	snprintf(c, sizeof(c), "?? &((cpptypes!_SAMPLE *)0x%llx)[2]", g_obj);
	snprintf(want, sizeof(want), "struct _SAMPLE * 0x%08llx`%08llx",
		 p2 >> 32, p2 & 0xffffffffull);
	expect(c, want);
	snprintf(
		c, sizeof(c),
		"?? (cpptypes!_SAMPLE *)0x%llx + 3 - (cpptypes!_SAMPLE *)0x%llx",
		g_obj, g_obj);
	expect(c, "__int64 0n3");
	snprintf(
		c, sizeof(c),
		"?? &((cpptypes!_SAMPLE *)0x%llx)->Values[1] == "
		"(unsigned __int64 *)(0x%llx + #FIELD_OFFSET(cpptypes!_SAMPLE, "
		"Values) + 8)",
		g_obj, g_obj);
	expect(c, "bool true");
	/* Integers follow C: int, unsigned int, __int64, and their math. */
	expect("?? 1 + 2 * 3", "int 0n7");
	expect("?? (1 + 2) * 3", "int 0n9");
	expect("?? 7 / 2 - 10 % 4", "int 0n1");
	expect("?? -1 >> 1", "int 0n-1");
	expect("?? 0xffffffff", "unsigned int 0xffffffff");
	expect("?? 10u", "unsigned int 0xa");
	expect("?? 1i64 << 40", "__int64 0n1099511627776");
	expect("?? 'a' + 1", "int 0n98");
	expect("?? (char)65", "char 65 'A'");
	expect("?? 3 > 2 && 1 != 1", "bool false");
	expect("?? 0 && *(int *)0", "bool false");
	expect("?? 1 ? 5 : *(int *)0", "int 0n5");
	expect("?? sizeof(unsigned short)", "unsigned int 2");
}

/* Registers as `r` reads them; @@masm() and @@c++() both ways. */
static void registers_and_switches(void **state)
{
	char *out, want[128];
	unsigned long long rip;

	(void)state;
	out = cmd("r rip");
	rip = strtoull(strchr(out, '=') + 1, NULL, 16);
	free(out);
	snprintf(want, sizeof(want), "unsigned __int64 0x%llx", rip);
	expect("?? @rip", want);
	expect("?? @$ip", want);
	snprintf(want, sizeof(want), "unsigned __int64 0x%llx",
		 eval_masm("nt!NtBuildNumber"));
	expect("?? @@masm(nt!NtBuildNumber)", want);
	snprintf(want, sizeof(want), "unsigned short 0x%llx",
		 mem("dw", eval_masm("nt!NtBuildNumber")));
	expect("?? *(unsigned short *)@@masm(nt!NtBuildNumber)", want);
	out = cmd("? @@c++(nt!NtBuildNumber) + 1");
	snprintf(want, sizeof(want), "Evaluate expression: %llu = ",
		 mem("dw", eval_masm("nt!NtBuildNumber")) + 1);
	if (strncmp(out, want, strlen(want)) != 0)
		fail_msg("@@c++() in MASM: want '%s':\n%s", want, out);
	free(out);
}

/* The structure display: dt's member lines under the type line. */
static void struct_display(void **state)
{
	char c[200], want[200], num[32];
	char *out;
	unsigned long long v;

	(void)state;
	snprintf(c, sizeof(c), "?? (cpptypes!_SAMPLE *)0x%llx", g_obj);
	out = cmd(c);
	snprintf(want, sizeof(want), "struct _SAMPLE * 0x%08llx`%08llx",
		 g_obj >> 32, g_obj & 0xffffffffull);
	has_line(out, want, c);
	v = mem("dd", g_obj + field("Count")->offset);
	fmt_unsigned(v, num, sizeof(num));
	snprintf(want, sizeof(want), "   +0x%03llx Count            : %s",
		 field("Count")->offset, num);
	has_line(out, want, c);
	snprintf(want, sizeof(want),
		 "   +0x%03llx Inner            : "
		 "_SAMPLE_INNER",
		 field("Inner")->offset);
	has_line(out, want, c);
	free(out);
}

/* dx: the name line with [Type: ...], children at -r1, none at -r0. */
static void dx_display(void **state)
{
	char c[200], want[200], num[32];
	char *out;
	unsigned long long v;
	int i, lines = 0;

	(void)state;
	snprintf(c, sizeof(c), "dx -r1 (cpptypes!_SAMPLE *)0x%llx", g_obj);
	out = cmd(c);
	snprintf(want, sizeof(want), "%-28s : 0x%llx [Type: _SAMPLE *]", c + 7,
		 g_obj);
	has_line(out, want, c);
	v = mem("dd", g_obj + field("Count")->offset);
	snprintf(want, sizeof(want),
		 "    [+0x%03llx] Count            : 0x%llx [Type: unsigned "
		 "int]",
		 field("Count")->offset, v);
	has_line(out, want, c);
	for (i = 0; out[i]; i++)
		lines += out[i] == '\n';
	/* One line per member (the anonymous union's three included). */
	assert_int_equal(lines, 1 + g_nf);
	free(out);

	snprintf(c, sizeof(c), "dx -r0 (cpptypes!_SAMPLE *)0x%llx", g_obj);
	out = cmd(c);
	snprintf(want, sizeof(want), "%-28s : 0x%llx [Type: _SAMPLE *]", c + 7,
		 g_obj);
	if (strcmp(out, want) != 0 && !(strncmp(out, want, strlen(want)) == 0 &&
					strcmp(out + strlen(want), "\n") == 0))
		fail_msg("%s: want only '%s':\n%s", c, want, out);
	free(out);

	v = mem("dw", g_obj + field("Inner")->offset);
	fmt_unsigned(v, num, sizeof(num));
	snprintf(c, sizeof(c), "dx ((cpptypes!_SAMPLE *)0x%llx).Inner.Length",
		 g_obj);
	out = cmd(c);
	snprintf(want, sizeof(want), "%-28s : 0x%llx [Type: unsigned short]",
		 c + 3, v);
	has_line(out, want, c);
	free(out);
}

/* Hostile or wrong input: one error line each, and kd keeps going. */
static void errors(void **state)
{
	static const struct {
		const char *cmd;
		const char *want;
	} cases[] = {
		{ "?? 1 +", "Syntax error in '?? 1 +'" },
		{ "?? nt!NoSuchSymbol", "Couldn't resolve error at "
					"'nt!NoSuchSymbol'" },
		{ "?? *(int *)0", "Memory access error at 0" },
		{ "?? 1 / 0", "Divide by zero" },
		{ "?? #FIELD_OFFSET(cpptypes!_SAMPLE, Nope)",
		  "No field 'Nope' in the type" },
		{ "?? (cpptypes!_NOPE *)0", "Couldn't resolve error at "
					    "'cpptypes!_NOPE'" },
		{ "?? 1.Count", "Syntax error in '?? 1.Count'" },
		{ "?? 5->x", "'->' needs a pointer to a structure" },
		{ "? @@c++(1 +) + 1", "Syntax error: expression expected" },
		{ "dx Debugger.Sessions", "Error: Debugger.Sessions is not in "
					  "this data model (known: "
					  "@$curthread, @$curprocess)" },
	};
	char deep[400];
	char *out;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		out = cmd(cases[i].cmd);
		if (!strstr(out, cases[i].want) ||
		    strchr(out, '\n') != out + strlen(out) - 1)
			fail_msg("%s: want one line with '%s':\n%s",
				 cases[i].cmd, cases[i].want, out);
		free(out);
	}
	/* Nesting is bounded. */
	memset(deep, '(', sizeof(deep));
	memcpy(deep, "?? ", 3);
	deep[sizeof(deep) - 1] = '\0';
	out = cmd(deep);
	if (!strstr(out, "Expression nested too deeply"))
		fail_msg("deep nesting:\n%s", out);
	free(out);
	expect("?? 2 + 2", "int 0n4");
}

/*
 * dx's data model: @$curthread is the thread of the processor's control
 * space (MASM's $thread), @$curprocess its ApcState.Process, read at the
 * offsets llvm-pdbutil gives; MASM's $proc reads the same slot.
 */
static void data_model(void **state)
{
	unsigned long long thread = eval_masm("$thread"), proc;
	long long apc = offset_of(g_kt, g_nkt, "ApcState");
	long long pr = offset_of(g_apc, g_napc, "Process");
	char want[200];
	char *out;

	(void)state;
	assert_true(apc >= 0 && pr >= 0);
	proc = mem("dq", thread + (unsigned long long)(apc + pr));
	assert_int_equal(proc, eval_masm("$proc"));
	snprintf(want, sizeof(want), "%-28s : 0x%llx [Type: _ETHREAD *]",
		 "@$curthread", thread);
	expect("dx -r0 @$curthread", want);
	snprintf(want, sizeof(want), "%-28s : 0x%llx [Type: _EPROCESS *]",
		 "@$curprocess", proc);
	expect("dx -r0 @$curprocess", want);
	/* Children of the typed pointer, and a path through the root. */
	out = cmd("dx @$curthread");
	snprintf(want, sizeof(want),
		 "    [+0x000] Tcb              [Type: "
		 "_KTHREAD]");
	has_line(out, want, "dx @$curthread");
	free(out);
	snprintf(want, sizeof(want), "%-28s : 0x%llx [Type: _KPROCESS *]",
		 "@$curthread.Tcb.ApcState.Process", proc);
	expect("dx @$curthread.Tcb.ApcState.Process", want);
}

/*
 * Parameters of the current function by name: at a breakpoint on
 * nt!MiSimComputeStep, each parameter kp shows with a value (kp reads
 * the PDB's register ranges itself) must give the same typed value, and
 * what a pointer parameter points to must be what dq reads there.  Runs
 * last on the shared session: it lets kdsim go.
 */
static void parameters_by_name(void **state)
{
	char *out, *line, *p, want[256], c[160];
	int shown = 0;

	(void)state;
	free(cmd("bp nt!MiSimComputeStep"));
	kp_send(&g_kd, "g\n");
	out = kp_wait_prompt(&g_kd, T_MS);
	assert_non_null(out);
	free(out);
	free(cmd("bc *"));
	out = cmd("kp 1");
	line = strstr(out, "nt!MiSimComputeStep(");
	if (!line)
		fail_msg("kp at the breakpoint:\n%s", out);
	p = line + strlen("nt!MiSimComputeStep(");
	/* "unsigned __int64 * a = 0xfffff800`10015f00, ..." */
	while (*p && *p != ')') {
		const char *eq = strstr(p, " = ");
		const char *sep, *name;
		size_t tlen;

		if (!eq)
			break;
		sep = strpbrk(eq + 3, ",)");
		if (!sep)
			break;
		name = eq;
		while (name > p && name[-1] != ' ')
			name--;
		tlen = (size_t)(name - p);
		while (tlen > 0 && p[tlen - 1] == ' ')
			tlen--;
		if (strncmp(eq + 3, "0x", 2) == 0 && memchr(p, '*', tlen)) {
			unsigned long long ptr;

			snprintf(c, sizeof(c), "?? %.*s", (int)(eq - name),
				 name);
			snprintf(want, sizeof(want), "%.*s %.*s", (int)tlen, p,
				 (int)(sep - eq - 3), eq + 3);
			expect(c, want);
			ptr = parse_tick(eq + 5);
			snprintf(c, sizeof(c), "?? *%.*s", (int)(eq - name),
				 name);
			{
				char num[32];

				fmt_unsigned(mem("dq", ptr), num, sizeof(num));
				snprintf(want, sizeof(want),
					 "unsigned __int64 %s", num);
			}
			expect(c, want);
			shown++;
		}
		p = (char *)sep + (*sep == ',' ? 1 : 0);
		while (*p == ' ')
			p++;
	}
	free(out);
	print_message("%d parameters of MiSimComputeStep by name\n", shown);
	assert_true(shown > 0);
}

/* Batch mode: a failed ?? is a non-zero exit (on the kernel's image
 * file, the quickest target). */
static void batch_exit(void **state)
{
	const char *args[] = { "-z", NULL, "-c", "?? 1 +;q", NULL };
	char img[640], *out = NULL, *err = NULL;
	int rc;

	(void)state;
	snprintf(img, sizeof(img), "%s/ntoskrnl.exe", g_kdir);
	args[1] = img;
	rc = kp_run(args, NULL, T_MS, &out, &err);
	if (rc == 0 || !out || !strstr(out, "Syntax error"))
		fail_msg("kd -z -c '?? 1 +': exit %d\n%s\n%s", rc,
			 out ? out : "", err ? err : "");
	free(out);
	free(err);
	args[3] = "?? sizeof(int) + sizeof(nt!NtBuildNumber);q";
	rc = kp_run(args, NULL, T_MS, &out, &err);
	if (rc != 0 || !out || !strstr(out, "unsigned int 6\n"))
		fail_msg("kd -z -c '?? sizeof(int)...': exit %d\n%s\n%s", rc,
			 out ? out : "", err ? err : "");
	free(out);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sizes_and_offsets),
		cmocka_unit_test(members_match_memory),
		cmocka_unit_test(pointer_arithmetic),
		cmocka_unit_test(registers_and_switches),
		cmocka_unit_test(struct_display),
		cmocka_unit_test(dx_display),
		cmocka_unit_test(errors),
		cmocka_unit_test(data_model),
		cmocka_unit_test(parameters_by_name),
		cmocka_unit_test(batch_exit),
	};

	if (!kp_kd_path() || !kc_kdsim_path()) {
		fprintf(stderr, "skipped: kd or kdsim not built\n");
		return 77;
	}
	if (!kdt_have("llvm-pdbutil") || !kdt_have("llvm-readobj") ||
	    !kdt_have("lld-link") ||
	    (!kdt_have("clang-cl-14") && !kdt_have("clang-cl"))) {
		fprintf(stderr, "skipped: llvm-pdbutil, llvm-readobj, "
				"lld-link or clang-cl not found\n");
		return 77;
	}
	/* A failed group teardown is reported, but does not count as a
	 * failed test in cmocka's result: check it here. */
	if (cmocka_run_group_tests(tests, setup, teardown) != 0 || g_kd_unclean)
		return 1;
	return 0;
}
