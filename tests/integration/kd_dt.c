/* SPDX-License-Identifier: MIT */
/*
 * dt against real processes and real PDBs: kdsim's kernel (clang-cl +
 * lld-link, with dttypes.c's structs of known value linked in).
 *
 * 1. Layout: `dt -v nt!Name` of every struct and union llvm-pdbutil lists
 *    in ntoskrnl.pdb (kd -z on the kernel image file) shows every member
 *    llvm-pdbutil lists, in its order, at its offset, bitfields with
 *    llvm-pdbutil's bit position and width, and the type's size.
 * 2. Instances: kd attached to kdsim shows DtObject (dttypes.c) with the
 *    values its initializer gives, walks DtNodes with -l, follows a
 *    field path, and ends a display of unmapped memory with WinDbg's
 *    "Memory read error" line (batch exit 1).
 * 3. The same read-only dt commands on a `.dump /f` of that stop and on
 *    the kernel image file print the same lines as the live target.
 *
 * Skipped (77) when llvm-pdbutil or kdsim's PDBs are missing.
 */
#include "kdsim_client.h"
#include "kd_proc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "testsupport.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define T_MS 60000
#define MAX_TI 0x10000

static char g_kdir[512], g_image[600], g_pdb[600], g_dir[128], g_dump[192];

/* ---- llvm-pdbutil's view of the types ---- */

struct rec {
	const char *line; /* the record's first line in the dump */
	bool udt, forward, is_union, is_bitfield;
	char name[256];
	unsigned long fields, size;
	unsigned bit_pos, bit_len;
};

static struct rec *g_rec; /* indexed by ti - 0x1000 */

static unsigned long hexnum(const char *p)
{
	return strtoul(p, NULL, 16);
}

/* Parse `llvm-pdbutil dump --types`: one rec per "  0xNNNN | LF_..." */
static void parse_types(char *text)
{
	char *p = text;
	struct rec *r = NULL;

	g_rec = calloc(MAX_TI, sizeof(*g_rec));
	assert_non_null(g_rec);
	while (p && *p) {
		char *e = strchr(p, '\n'), *q;

		if (e)
			*e = '\0';
		q = p;
		while (*q == ' ')
			q++;
		if (strncmp(q, "0x", 2) == 0 && strstr(q, " | LF_")) {
			unsigned long ti = hexnum(q);

			r = ti >= 0x1000 && ti < 0x1000 + MAX_TI ?
				    &g_rec[ti - 0x1000] :
				    NULL;
			if (r) {
				const char *bq = strchr(q, '`');

				r->line = p;
				r->udt = strstr(q, "| LF_STRUCTURE ") ||
					 strstr(q, "| LF_UNION ");
				r->is_union = strstr(q, "| LF_UNION ") != NULL;
				r->is_bitfield = strstr(q, "| LF_BITFIELD ") !=
						 NULL;
				if (bq) {
					const char *eq = strrchr(bq + 1, '`');
					size_t n = eq ? (size_t)(eq - bq - 1) :
							0;

					if (n < sizeof(r->name)) {
						memcpy(r->name, bq + 1, n);
						r->name[n] = '\0';
					}
				}
			}
		} else if (r) {
			const char *f;

			if ((f = strstr(q, "field list: 0x")))
				r->fields = hexnum(f + 12);
			if (strstr(q, "forward ref"))
				r->forward = true;
			if ((f = strstr(q, "sizeof ")))
				r->size = strtoul(f + 7, NULL, 10);
			if (r->is_bitfield && (f = strstr(q, "bit offset = ")))
				r->bit_pos = (unsigned)atoi(f + 13);
			if (r->is_bitfield && (f = strstr(q, "# bits = ")))
				r->bit_len = (unsigned)atoi(f + 9);
		}
		p = e ? e + 1 : NULL;
	}
}

/* The expected `dt` lines of struct @p r, from its field list. */
static size_t expected_members(const struct rec *r, char lines[][160],
			       size_t cap)
{
	const struct rec *fl;
	const char *p;
	size_t n = 0;

	if (r->fields < 0x1000 || r->fields >= 0x1000 + MAX_TI)
		return 0;
	fl = &g_rec[r->fields - 0x1000];
	assert_non_null(fl->line);
	/* The field list's lines run until the next record's. */
	for (p = fl->line + strlen(fl->line) + 1; *p; p += strlen(p) + 1) {
		const char *q = p, *nm, *ty, *of;
		char name[128];
		unsigned long t, off;
		size_t len;

		while (*q == ' ')
			q++;
		if (strncmp(q, "0x", 2) == 0)
			break;
		if (strncmp(q, "- LF_MEMBER ", 12) != 0)
			continue;
		nm = strstr(q, "name = `");
		ty = strstr(q, "Type = 0x");
		of = strstr(q, "offset = ");
		assert_true(nm && ty && of);
		nm += 8;
		len = (size_t)(strchr(nm, '`') - nm);
		assert_true(len < sizeof(name));
		memcpy(name, nm, len);
		name[len] = '\0';
		t = hexnum(ty + 7);
		off = strtoul(of + 9, NULL, 10);
		assert_true(n < cap);
		if (t >= 0x1000 && t < 0x1000 + MAX_TI &&
		    g_rec[t - 0x1000].is_bitfield) {
			const struct rec *b = &g_rec[t - 0x1000];

			snprintf(lines[n], 160,
				 "   +0x%03lx %-16s : Pos %u, %u Bit%s\n", off,
				 name, b->bit_pos, b->bit_len,
				 b->bit_len == 1 ? "" : "s");
		} else {
			snprintf(lines[n], 160, "   +0x%03lx %-16s : ", off,
				 name);
		}
		n++;
	}
	return n;
}

static char *cmd(struct kp *k, const char *c)
{
	char *out = kp_cmd(k, c, T_MS);

	if (!out)
		fail_msg("kd did not answer '%s'; stdout:\n%s\nstderr:\n%s", c,
			 k->out.data ? k->out.data : "",
			 k->err.data ? k->err.data : "");
	return out;
}

static void wait_prompt(struct kp *k)
{
	char *b = kp_wait_prompt(k, T_MS);

	if (!b)
		fail_msg("no prompt; stdout:\n%s\nstderr:\n%s",
			 k->out.data ? k->out.data : "",
			 k->err.data ? k->err.data : "");
	free(b);
}

/* ---- 1. every struct and union against llvm-pdbutil ---- */

static void layouts_match_pdbutil(void **state)
{
	const char *args[] = { "-z", g_image, "-y", g_kdir, NULL };
	char *text, (*lines)[160];
	struct kp kd;
	unsigned checked = 0, ti;
	bool seen_bits = false, seen_union = false;

	(void)state;
	text = kdt_run_out("llvm-pdbutil dump --types '%s'", g_pdb);
	assert_non_null(text);
	parse_types(text);
	lines = calloc(4096, sizeof(*lines));
	assert_non_null(lines);
	kp_start(&kd, args);
	wait_prompt(&kd);
	for (ti = 0; ti < MAX_TI; ti++) {
		const struct rec *r = &g_rec[ti];
		char c[300], sz[64];
		const char *at;
		char *out;
		size_t n, k;
		unsigned o;

		if (!r->line || !r->udt || r->forward || !r->name[0] ||
		    strstr(r->name, "<unnamed-"))
			continue;
		/* The first definition of a name is the one dt shows. */
		for (o = 0; o < ti; o++) {
			if (g_rec[o].udt && !g_rec[o].forward &&
			    strcmp(g_rec[o].name, r->name) == 0)
				break;
		}
		if (o < ti)
			continue;
		n = expected_members(r, lines, 4096);
		snprintf(c, sizeof(c), "dt -v nt!%s", r->name);
		out = cmd(&kd, c);
		snprintf(sz, sizeof(sz), ", 0x%lx bytes\n", r->size);
		if (!strstr(out, sz))
			fail_msg("'%s': no size line with '%s':\n%s", c, sz,
				 out);
		at = out;
		for (k = 0; k < n; k++) {
			const char *h = strstr(at, lines[k]);

			if (!h)
				fail_msg("'%s': member line %zu '%s' missing "
					 "or out of order:\n%s",
					 c, k, lines[k], out);
			if (strstr(lines[k], ": Pos "))
				seen_bits = true;
			at = h + strlen(lines[k]);
		}
		if (r->is_union)
			seen_union = true;
		free(out);
		checked++;
	}
	kp_send(&kd, "q\n");
	assert_int_equal(kp_finish(&kd, T_MS), 0);
	kp_free(&kd);
	/* dttypes.c's structs at least, with a union and bitfields. */
	assert_true(checked >= 5);
	assert_true(seen_bits);
	assert_true(seen_union);
	free(lines);
	free(g_rec);
	g_rec = NULL;
	free(text);
}

/* ---- 2. and 3. instances, live, dump and image ---- */

/* Read-only dt commands the three targets answer alike. */
static const char *const ro_cmds[] = {
	"dt nt!_DT_OBJECT",
	"dt nt!DtObject",
	"dt nt!_DT_OBJECT nt!DtObject",
	"dt -r1 nt!_DT_OBJECT Inner Value Self u nt!DtObject",
	"dt -b nt!DtObject",
	"dt nt!_DT_OBJECT.Inner.Count nt!DtObject",
	"dt nt!_DT_OBJECT Color Name nt!DtObject",
	"dt -a nt!_DT_OBJECT Pair nt!DtObject",
	"dt nt!_DT_NODE -l Links.Next nt!DtNodes",
	"dt nt!_DT_NODE Id -l Links.Next nt!DtLoop",
	"dt nt!_DT*",
	"dt -y nt!_DT_V",
};
#define NRO (sizeof(ro_cmds) / sizeof(ro_cmds[0]))

static void must_have(const char *c, const char *out, const char *want)
{
	if (!strstr(out, want))
		fail_msg("'%s' lacks '%s':\n%s", c, want, out);
}

static void check_live(char **o)
{
	/* dt nt!DtObject: the values dttypes.c's initializer gives. */
	static const char *const obj[] = {
		"   +0x000 Type             : 0n-3\n",
		"   +0x002 Size             : 0x98\n",
		"   +0x004 Flags            : 0x80000001\n",
		"   +0x008 AllFlags         : 0x2b\n",
		"   +0x008 Enabled          : 0y1\n",
		"   +0x008 Mode             : 0y101\n",
		"   +0x008 Spare            : 0y0000000000000000000000000010\n",
		"   +0x00c Inner            : _DT_INNER\n",
		"   +0x014 Pair             : [2] _DT_INNER\n",
		"   +0x030 Color            : 5 ( DtBlue )\n",
		"   +0x034 Name             : [16] \"kdsim\"\n",
		"   +0x050 Opaque           : (null) \n",
		"     long  nt!DtCallback+0\n",
		"   +0x070 Signed64         : 0n-100\n",
		"   +0x078 Big              : 0xfedcba9876543210\n",
		"   +0x080 u                : <unnamed-tag>\n",
		"   +0x090 Missing          : 0xfffff800`0ff00000 _DT_OBJECT\n",
	};
	size_t i;

	must_have(ro_cmds[0], o[0],
		  "nt!_DT_OBJECT\n   +0x000 Type "
		  "            : Int2B\n");
	must_have(ro_cmds[0], o[0],
		  "   +0x068 Callback         : Ptr64  "
		  "   long\n");
	must_have(ro_cmds[0], o[0],
		  "   +0x084 Grid             : [2] [3] "
		  "UChar\n");
	for (i = 0; i < sizeof(obj) / sizeof(obj[0]); i++) {
		must_have(ro_cmds[1], o[1], obj[i]);
		must_have(ro_cmds[2], o[2], obj[i]);
	}
	/* -r1: embedded structs and the pointed-to one, 3 blanks deeper. */
	must_have(ro_cmds[3], o[3],
		  "   +0x00c Inner            : _DT_INNER\n"
		  "      +0x000 Kind             : 0x7\n"
		  "      +0x002 Delta            : 0n-1\n"
		  "      +0x004 Count            : 0x1234\n");
	must_have(ro_cmds[3], o[3],
		  "      +0x000 Quad             : "
		  "0x1122334455667788\n");
	must_have(ro_cmds[3], o[3],
		  "   +0x080 u                : <unnamed-tag>\n"
		  "      +0x000 s                : <unnamed-tag>\n"
		  "      +0x000 Both             : 0x22221111\n");
	/* -b: array elements on their own lines. */
	must_have(ro_cmds[4], o[4],
		  "    [01] _DT_INNER\n"
		  "      +0x000 Kind             : 0x4\n"
		  "      +0x002 Delta            : 0n-5\n"
		  "      +0x004 Count            : 0x6\n");
	must_have(ro_cmds[5], o[5], "   +0x010 Inner.Count      : 0x1234\n");
	must_have(ro_cmds[6], o[6],
		  "   +0x030 Color            : 5 ( DtBlue )\n"
		  "   +0x034 Name             : [16] \"kdsim\"\n");
	assert_null(strstr(o[6], "Flags"));
	must_have(ro_cmds[7], o[7],
		  "   +0x014 Pair             : \n"
		  "    [00] _DT_INNER\n    [01] _DT_INNER\n");
	/* -l: three nodes, Id 1 2 3, then back at the start. */
	must_have(ro_cmds[8], o[8], "   +0x000 Id               : 0x1\n");
	must_have(ro_cmds[8], o[8], "   +0x000 Id               : 0x2\n");
	must_have(ro_cmds[8], o[8], "   +0x000 Id               : 0x3\n");
	must_have(ro_cmds[8], o[8],
		  "   +0x018 Color            : 5 ( DtBlue )\n");
	assert_null(strstr(o[8], "Id               : 0x4"));
	/* A loop that misses the start: each element once, then a line. */
	must_have(ro_cmds[9], o[9], "   +0x000 Id               : 0x10\n");
	must_have(ro_cmds[9], o[9],
		  "   +0x000 Id               : 0x11\n\n## Links.Next at 0x");
	must_have(ro_cmds[9], o[9],
		  "   +0x000 Id               : 0x12\n\nList loops back to ");
	assert_null(strstr(o[9], "Color"));
	must_have(ro_cmds[10], o[10], "nt!_DT_OBJECT\n");
	must_have(ro_cmds[10], o[10], "nt!_DT_COLOR\n");
	must_have(ro_cmds[11], o[11],
		  "nt!_DT_VALUE\n   +0x000 Quad "
		  "            : Uint8B\n   +0x000 Parts "
		  "           : [2] Uint4B\n");
}

/* Line for line the same, or the test fails naming the command. */
static void same(const char *c, const char *want, const char *got,
		 const char *what)
{
	if (strcmp(want, got) != 0)
		fail_msg("'%s' on the %s differs from live:\n--- live:\n%s"
			 "--- %s:\n%s",
			 c, what, want, what, got);
}

static void instances_live_dump_image(void **state)
{
	char sock[160], k[200], line[256], ysym[600];
	const char *simargs[] = { "-k",		k,	  "--mem-mib",
				  "96",		"--cpus", "1",
				  "--print-ms", "0",	  NULL };
	struct kc sim;
	struct kp kd;
	const char *kdargs[] = { "-k", sim.host_connstr, "-y", ysym, NULL };
	const char *zargs[] = { "-z", g_dump, "-y", ysym, NULL };
	const char *iargs[] = { "-z", g_image, "-y", ysym, NULL };
	const char *bargs[] = { "-z", g_image, "-y", ysym, "-c", line, NULL };
	char *live[NRO], *out;
	size_t i;
	int pass;

	(void)state;
	snprintf(ysym, sizeof(ysym), "%s", g_kdir);
	snprintf(sock, sizeof(sock), "%s/live.sock", g_dir);
	snprintf(k, sizeof(k), "com:pipe,port=%s", sock);
	kc_spawn(&sim, simargs);
	kp_start(&kd, kdargs);
	wait_prompt(&kd);
	for (i = 0; i < NRO; i++)
		live[i] = cmd(&kd, ro_cmds[i]);
	/* Unmapped memory: `????` and the error line, not a value. */
	out = cmd(&kd, "dt nt!_DT_OBJECT fffff800`0ff00000");
	must_have("dt of unmapped memory", out,
		  "   +0x000 Type             : ????\n");
	must_have("dt of unmapped memory", out,
		  "Memory read error fffff8000ff00000\n");
	free(out);
	out = cmd(&kd, "dt -r1 nt!_DT_OBJECT Missing nt!DtObject");
	must_have("dt -r1 through Missing", out,
		  "Memory read error fffff8000ff00000\n");
	free(out);
	out = cmd(&kd, "dt nt!_DT_NOSUCH");
	must_have("dt of an unknown type", out,
		  "Symbol nt!_DT_NOSUCH not found.\n");
	free(out);
	snprintf(line, sizeof(line), ".dump /f %s", g_dump);
	out = cmd(&kd, line);
	must_have(".dump /f", out, "Dump successfully written");
	free(out);
	kp_send(&kd, "q\n");
	kp_finish(&kd, T_MS);
	kp_free(&kd);
	kc_stop(&sim);
	unlink(sock);
	check_live(live);

	for (pass = 0; pass < 2; pass++) {
		kp_start(&kd, pass == 0 ? zargs : iargs);
		wait_prompt(&kd);
		for (i = 0; i < NRO; i++) {
			out = cmd(&kd, ro_cmds[i]);
			same(ro_cmds[i], live[i], out,
			     pass == 0 ? "dump" : "image file");
			free(out);
		}
		kp_send(&kd, "q\n");
		assert_int_equal(kp_finish(&kd, T_MS), 0);
		kp_free(&kd);
	}
	for (i = 0; i < NRO; i++)
		free(live[i]);

	/* Batch: a failed read is exit status 1; a good dt is 0. */
	snprintf(line, sizeof(line), "dt nt!_DT_OBJECT fffff800`0ff00000; q");
	assert_int_equal(kp_run(bargs, NULL, T_MS, &out, NULL), 1);
	must_have("batch dt", out, "Memory read error fffff8000ff00000\n");
	free(out);
	snprintf(line, sizeof(line), "dt nt!DtObject; q");
	assert_int_equal(kp_run(bargs, NULL, T_MS, &out, NULL), 0);
	must_have("batch dt", out, "   +0x000 Type             : 0n-3\n");
	free(out);
}

static int setup(void **state)
{
	const char *b = getenv("KD_BUILD_DIR");

	(void)state;
	snprintf(g_kdir, sizeof(g_kdir), "%s/firmware-stubs/sim/kernel",
		 b ? b : KD_BUILD_DIR);
	snprintf(g_image, sizeof(g_image), "%s/ntoskrnl.exe", g_kdir);
	snprintf(g_pdb, sizeof(g_pdb), "%s/ntoskrnl.pdb", g_kdir);
	snprintf(g_dir, sizeof(g_dir), "/tmp/openkd-dt-XXXXXX");
	if (!mkdtemp(g_dir))
		return -1;
	snprintf(g_dump, sizeof(g_dump), "%s/full.dmp", g_dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(g_dump);
	rmdir(g_dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(layouts_match_pdbutil),
		cmocka_unit_test(instances_live_dump_image),
	};
	char pdb[600];
	const char *b = getenv("KD_BUILD_DIR");

	snprintf(pdb, sizeof(pdb), "%s/firmware-stubs/sim/kernel/ntoskrnl.pdb",
		 b ? b : KD_BUILD_DIR);
	if (!kp_kd_path() || !kdt_have("llvm-pdbutil") ||
	    access(pdb, R_OK) != 0)
		return 77;
	return cmocka_run_group_tests(tests, setup, teardown);
}
