/* SPDX-License-Identifier: MIT */
/*
 * PDB symbols in kd against a live kdsim, all real processes: kdsim, kd,
 * and a symbol server on loopback (symstore_server.py, python) serving a
 * store built here from kdsim's own PDBs (clang-cl + lld-link builds).
 *
 * With _NT_SYMBOL_PATH=srv*<cache>*http://127.0.0.1:<port>/s: modules are
 * deferred, .reload /f gives pdb symbols for every module, `x nt!*` lists
 * every public and procedure llvm-pdbutil lists at base + RVA, `ln` names
 * a non-exported function with the source line llvm-pdbutil gives, and a
 * breakpoint on a non-exported function stops with `k` naming the frame
 * with [file @ line].  A second run works from the cache with the server
 * stopped; an offline run makes no request.  A PDB of another build (its
 * GUID differs) is refused with WinDbg's lines and nt keeps exports; a
 * PDB cut short is one error line and hal keeps exports.
 *
 * Every expected name, address, key and line comes from llvm-pdbutil or
 * llvm-readobj on the same files, never from openkd's own reader.
 * Skipped (77) when the LLVM tools, python3 or kdsim's PDBs are missing.
 */
#include "kdsim_client.h"
#include "kd_proc.h"
#include "testsupport.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <cmocka.h>

/* Paths here are short /tmp and build names: GCC's truncation guesses
 * about the fixed buffers are noise in this file. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define T_MS 30000
#define MAX_IMAGES 16

struct image {
	char file[64];	  /* ntoskrnl.exe */
	char pdbname[64]; /* the RSDS path's base name */
	char pdb[512];	  /* the PDB next to it */
	char key[48];	  /* GUID + age, from llvm-pdbutil */
};

static struct image g_img[MAX_IMAGES];
static int g_nimg;
static char g_kdir[512]; /* build/firmware-stubs/sim/kernel */
static char g_dir[128];	 /* the test's temporary folder */
static char g_url[64];	 /* http://127.0.0.1:PORT */
static char g_log[256];	 /* the server's request log */
static pid_t g_srv = -1;

struct live {
	struct kc sim;
	struct kp kd;
	char sock[160];
};

/*
 * Find each image of kdsim's kernel folder and its PDB; the store key
 * from llvm-pdbutil's summary (GUID digits and age in hex).
 */
static bool load_images(void)
{
	const char *b = getenv("KD_BUILD_DIR");
	struct dirent *de;
	DIR *d;

	snprintf(g_kdir, sizeof(g_kdir), "%s/firmware-stubs/sim/kernel",
		 b ? b : KD_BUILD_DIR);
	d = opendir(g_kdir);
	if (!d)
		return false;
	while ((de = readdir(d)) && g_nimg < MAX_IMAGES) {
		const char *dot = strrchr(de->d_name, '.');
		struct image *im = &g_img[g_nimg];
		char *t, v[128], guid[64], *slash;
		unsigned age;
		size_t i, k = 0;

		if (!dot ||
		    (strcmp(dot, ".exe") != 0 && strcmp(dot, ".dll") != 0 &&
		     strcmp(dot, ".sys") != 0))
			continue;
		snprintf(im->file, sizeof(im->file), "%s", de->d_name);
		t = kdt_run_out("llvm-readobj --coff-debug-directory '%s/%s'",
				g_kdir, im->file);
		if (!t || !kdt_field(t, "PDBFileName:", v, sizeof(v))) {
			free(t);
			closedir(d);
			return false;
		}
		free(t);
		slash = strrchr(v, '\\');
		if (!slash)
			slash = strrchr(v, '/');
		snprintf(im->pdbname, sizeof(im->pdbname), "%s",
			 slash ? slash + 1 : v);
		snprintf(im->pdb, sizeof(im->pdb), "%s/%s", g_kdir,
			 slash ? slash + 1 : v);
		if (access(im->pdb, R_OK) != 0) {
			closedir(d);
			return false;
		}
		t = kdt_run_out("llvm-pdbutil dump --summary '%s'", im->pdb);
		if (!t || !kdt_field(t, "GUID: {", guid, sizeof(guid)) ||
		    !kdt_field(t, "Age:", v, sizeof(v))) {
			free(t);
			closedir(d);
			return false;
		}
		free(t);
		age = (unsigned)strtoul(v, NULL, 10);
		for (i = 0; guid[i] && guid[i] != '}' && k < 32; i++) {
			if (guid[i] != '-')
				im->key[k++] = guid[i];
		}
		snprintf(im->key + k, sizeof(im->key) - k, "%x", age);
		g_nimg++;
	}
	closedir(d);
	return g_nimg > 0;
}

static struct image *image_named(const char *file)
{
	int i;

	for (i = 0; i < g_nimg; i++) {
		if (strcasecmp(g_img[i].file, file) == 0)
			return &g_img[i];
	}
	return NULL;
}

static void start_server(void)
{
	char script[512], portfile[192], buf[16] = "";
	const char *slash = strrchr(__FILE__, '/');
	int i;

	snprintf(script, sizeof(script), "%.*s/symstore_server.py",
		 slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".");
	snprintf(portfile, sizeof(portfile), "%s/port", g_dir);
	unlink(portfile);
	g_srv = fork();
	assert_true(g_srv >= 0);
	if (g_srv == 0) {
		char root[192];

		snprintf(root, sizeof(root), "%s/root", g_dir);
		execlp("python3", "python3", script, root, portfile, g_log,
		       (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 2000 && !buf[0]; i++) {
		FILE *f = fopen(portfile, "r");

		if (f) {
			if (!fgets(buf, sizeof(buf), f))
				buf[0] = 0;
			fclose(f);
		}
		if (!buf[0])
			kc_sleep_ms(10);
	}
	assert_true(buf[0] != 0);
	snprintf(g_url, sizeof(g_url), "http://127.0.0.1:%d", atoi(buf));
}

static void stop_server(void)
{
	if (g_srv > 0) {
		kill(g_srv, SIGTERM);
		waitpid(g_srv, NULL, 0);
	}
	g_srv = -1;
}

static size_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

static char *cmd(struct live *l, const char *c)
{
	char *out = kp_cmd(&l->kd, c, T_MS);

	if (!out)
		fail_msg("kd did not answer '%s'; stdout so far:\n%s\nstderr:"
			 "\n%s",
			 c, l->kd.out.data ? l->kd.out.data : "",
			 l->kd.err.data ? l->kd.err.data : "");
	return out;
}

static void start(struct live *l, const char *const *extra)
{
	char k[200], host[sizeof(l->sim.host_connstr)];
	const char *kdargs[12] = { "-k", host, "-bonc" };
	size_t n = 3;
	char *banner;

	memset(l, 0, sizeof(*l));
	snprintf(l->sock, sizeof(l->sock), "%s/sim.sock", g_dir);
	snprintf(k, sizeof(k), "com:pipe,port=%s", l->sock);
	{
		const char *args[] = { "-k",	 k,   "--print-ms", "0",
				       "--cpus", "1", NULL };

		kc_spawn(&l->sim, args);
	}
	snprintf(host, sizeof(host), "%s", l->sim.host_connstr);
	while (extra && *extra && n < 11)
		kdargs[n++] = *extra++;
	kdargs[n] = NULL;
	kp_start(&l->kd, kdargs);
	banner = kp_wait_prompt(&l->kd, T_MS);
	if (!banner)
		fail_msg("no prompt; stdout:\n%s\nstderr:\n%s",
			 l->kd.out.data ? l->kd.out.data : "",
			 l->kd.err.data ? l->kd.err.data : "");
	assert_non_null(strstr(banner, "Symbol search path is: "));
	free(banner);
}

static void stop(struct live *l)
{
	kp_send(&l->kd, "q\n");
	assert_int_equal(kp_finish(&l->kd, T_MS), 0);
	kp_free(&l->kd);
	kc_stop(&l->sim);
	unlink(l->sock);
}

/* The lm row of module @p name. */
static char *lm_row(const char *lm, const char *name, char *row, size_t cap)
{
	const char *p = lm;
	char key[80];

	snprintf(key, sizeof(key), "   %s ", name);
	while ((p = strstr(p, key)) != NULL) {
		const char *bol = p, *eol = strchr(p, '\n');

		while (bol > lm && bol[-1] != '\n')
			bol--;
		if (!eol)
			eol = p + strlen(p);
		snprintf(row, cap, "%.*s", (int)(eol - bol), bol);
		return row;
	}
	row[0] = '\0';
	return NULL;
}

/* "fffff800`00400000" as a number. */
static uint64_t parse_ptr(const char *p)
{
	char hex[24];
	size_t n = 0;

	while (*p && n < sizeof(hex) - 1 &&
	       (isxdigit((unsigned char)*p) || *p == '`')) {
		if (*p != '`')
			hex[n++] = *p;
		p++;
	}
	hex[n] = '\0';
	return strtoull(hex, NULL, 16);
}

static void fmt_ptr(uint64_t v, char *buf, size_t cap)
{
	snprintf(buf, cap, "%08x`%08x", (unsigned)(v >> 32), (unsigned)v);
}

/* Section virtual addresses from llvm-pdbutil --section-headers. */
static int section_vas(const char *pdb, uint32_t *va, int max)
{
	char *t = kdt_run_out("llvm-pdbutil dump --section-headers '%s'", pdb);
	const char *p;
	int n = 0;

	assert_non_null(t);
	for (p = t; (p = strstr(p, "SECTION HEADER #")) && n < max; p++) {
		const char *v = strstr(p, " virtual address");
		const char *b = v;

		assert_non_null(v);
		while (b > p && b[-1] != '\n')
			b--;
		va[n++] = (uint32_t)strtoul(b, NULL, 16);
	}
	free(t);
	return n;
}

struct sym {
	char name[128];
	uint32_t rva;
	bool proc;
};

/*
 * Publics and procedures (S_PUB32, S_GPROC32/S_LPROC32 and their _ID
 * forms) as llvm-pdbutil lists them, with RVAs from the section headers.
 */
static int pdb_syms(const char *pdb, struct sym *out, int max)
{
	char *t = kdt_run_out("llvm-pdbutil dump --publics --symbols '%s'",
			      pdb);
	uint32_t va[64];
	int nsec = section_vas(pdb, va, 64), n = 0;
	const char *p;

	assert_non_null(t);
	for (p = t; *p && n < max;) {
		const char *eol = strchr(p, '\n');
		const char *q1, *q2, *addr;
		bool pub = false, proc = false;

		if (!eol)
			eol = p + strlen(p);
		if (strstr(p, "S_PUB32 [") && strstr(p, "S_PUB32 [") < eol)
			pub = true;
		if ((strstr(p, "PROC32") && strstr(p, "PROC32") < eol &&
		     !strstr(p, "S_PROCREF")) ||
		    (strstr(p, "PROC32_ID") && strstr(p, "PROC32_ID") < eol))
			proc = true;
		if ((pub || proc) && (q1 = memchr(p, '`', (size_t)(eol - p))) &&
		    (q2 = memchr(q1 + 1, '`', (size_t)(eol - q1 - 1))) &&
		    (addr = strstr(eol, "addr = ")) != NULL) {
			/* llvm-pdbutil prints "addr = 0001:0016" in
			 * decimal (lines and section headers in hex). */
			unsigned seg = (unsigned)strtoul(addr + 7, NULL, 10);
			unsigned off = (unsigned)strtoul(addr + 12, NULL, 10);

			if (seg >= 1 && (int)seg <= nsec &&
			    (size_t)(q2 - q1 - 1) < sizeof(out[n].name)) {
				snprintf(out[n].name, sizeof(out[n].name),
					 "%.*s", (int)(q2 - q1 - 1), q1 + 1);
				out[n].rva = va[seg - 1] + off;
				out[n].proc = proc;
				n++;
			}
		}
		p = *eol ? eol + 1 : eol;
	}
	free(t);
	return n;
}

/* Names the image exports (llvm-readobj). */
static char *exports_of(const struct image *im)
{
	char *t = kdt_run_out("llvm-readobj --coff-exports '%s/%s'", g_kdir,
			      im->file);

	assert_non_null(t);
	return t;
}

static bool is_exported(const char *exports, const char *name)
{
	char key[160];

	snprintf(key, sizeof(key), "Name: %s\n", name);
	return strstr(exports, key) != NULL;
}

/*
 * The line llvm-pdbutil's --l gives for @p rva: in the block that holds
 * it, the last entry at or below it.  The source file in @p file.
 */
static bool pdb_line_at(const char *pdb, uint32_t rva, char *file, size_t cap,
			unsigned *line)
{
	char *t = kdt_run_out("llvm-pdbutil dump --l '%s'", pdb);
	uint32_t va[64];
	int nsec = section_vas(pdb, va, 64);
	char cur[512] = "";
	const char *p;
	bool in = false, found = false;
	uint32_t best = 0;

	assert_non_null(t);
	for (p = t; *p;) {
		const char *eol = strchr(p, '\n');
		unsigned seg, a, b, ln, off;

		if (!eol)
			eol = p + strlen(p);
		if (*p == '/' || (isalpha((unsigned char)*p) && p[1] == ':')) {
			const char *e = strstr(p, " (");

			if (e && e < eol)
				snprintf(cur, sizeof(cur), "%.*s", (int)(e - p),
					 p);
			in = false;
		} else if (sscanf(p, " %x:%x-%x,", &seg, &a, &b) == 3 &&
			   strstr(p, "line/addr entries") &&
			   strstr(p, "line/addr entries") < eol) {
			in = seg >= 1 && (int)seg <= nsec &&
			     rva >= va[seg - 1] + a && rva < va[seg - 1] + b;
			if (in)
				off = va[seg - 1];
			if (in)
				best = off;
		} else if (in) {
			const char *q = p;

			/* "  3 00000007 !   4 00000010 ! ..." */
			while (q < eol && sscanf(q, " %u %x", &ln, &off) == 2) {
				if (best + off <= rva) {
					*line = ln;
					snprintf(file, cap, "%s", cur);
					found = true;
				}
				q = strchr(q, '!');
				if (!q || q >= eol)
					break;
				q++;
			}
		}
		p = *eol ? eol + 1 : eol;
	}
	free(t);
	return found;
}

/* --- Fixture ------------------------------------------------------------- */

static int setup(void **state)
{
	int i;

	(void)state;
	snprintf(g_dir, sizeof(g_dir), "/tmp/kd_pdbsym_XXXXXX");
	if (!mkdtemp(g_dir))
		return -1;
	snprintf(g_log, sizeof(g_log), "%s/requests.log", g_dir);
	/* The store: root/store/<pdb>/<KEY>/<pdb>, served at /s/store. */
	for (i = 0; i < g_nimg; i++) {
		const struct image *im = &g_img[i];

		if (kdt_sh("mkdir -p '%s/root/store/%s/%s' && cp '%s' "
			   "'%s/root/store/%s/%s/%s'",
			   g_dir, im->pdbname, im->key, im->pdb, g_dir,
			   im->pdbname, im->key, im->pdbname) != 0)
			return -1;
	}
	start_server();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	stop_server();
	kdt_sh("rm -rf '%s'", g_dir);
	return 0;
}

static void set_env_path(const char *cache)
{
	char p[512];

	snprintf(p, sizeof(p), "srv*%s/%s*%s/s/store", g_dir, cache, g_url);
	setenv("_NT_SYMBOL_PATH", p, 1);
	unsetenv("_NT_ALT_SYMBOL_PATH");
	unsetenv("OPENKD_SYMSRV_OFFLINE");
}

/* Every module in lm with pdb symbols from @p where. */
static void expect_all_pdb(struct live *l, const char *where)
{
	char *out = cmd(l, "lm"), row[1024];
	int i, rows = 0;

	for (i = 0; i < g_nimg; i++) {
		const char *mod = strcmp(g_img[i].file, "ntoskrnl.exe") == 0 ?
					  "nt" :
				  strcmp(g_img[i].file, "hal.dll") == 0 ?
					  "hal" :
					  NULL;
		char name[64];

		if (!mod) {
			snprintf(name, sizeof(name), "%.*s",
				 (int)(strrchr(g_img[i].file, '.') -
				       g_img[i].file),
				 g_img[i].file);
			mod = name;
		}
		/* Drivers kdsim loads later are not listed yet. */
		if (!lm_row(out, mod, row, sizeof(row))) {
			if (strcmp(mod, "nt") == 0 || strcmp(mod, "hal") == 0)
				fail_msg("no lm row for %s:\n%s", mod, out);
			continue;
		}
		rows++;
		if (!strstr(row, "pdb symbols)") || !strstr(row, where) ||
		    !strstr(row, g_img[i].key))
			fail_msg("lm row of %s: '%s' (want pdb symbols from "
				 "%s, key %s)",
				 mod, row, where, g_img[i].key);
	}
	assert_true(rows >= 3);
	free(out);
}

/* --- Tests --------------------------------------------------------------- */

static void http_store(void **state)
{
	struct image *nt = image_named("ntoskrnl.exe");
	struct sym *syms = calloc(20000, sizeof(*syms));
	char *out, *xout, *exports, row[1024], buf[512], a[24], file[512];
	struct live l;
	uint64_t base;
	unsigned line;
	int nsym, i, bps = 0, checked = 0;
	const struct sym *np = NULL;

	(void)state;
	assert_non_null(nt);
	assert_non_null(syms);
	set_env_path("cache");
	start(&l, NULL);

	/* Deferred until needed (nt is needed at once: the stop report
	 * names the break address, as in WinDbg). */
	out = cmd(&l, "lm");
	assert_non_null(lm_row(out, "hal", row, sizeof(row)));
	if (!strstr(row, "(deferred)"))
		fail_msg("hal before loading: %s", row);
	assert_non_null(lm_row(out, "nt", row, sizeof(row)));
	base = parse_ptr(row);
	free(out);

	out = cmd(&l, ".reload /f");
	assert_null(strstr(out, "*** ERROR"));
	free(out);
	snprintf(buf, sizeof(buf), "%s/cache/", g_dir);
	expect_all_pdb(&l, buf);
	assert_true(file_size(g_log) > 0); /* the server was asked */

	/* x nt!* finds every public and procedure at base + RVA. */
	nsym = pdb_syms(nt->pdb, syms, 20000);
	assert_true(nsym > 0);
	xout = cmd(&l, "x nt!*");
	for (i = 0; i < nsym; i++) {
		fmt_ptr(base + syms[i].rva, a, sizeof(a));
		snprintf(buf, sizeof(buf), "%s nt!%s ", a, syms[i].name);
		if (!strstr(xout, buf))
			fail_msg("x nt!* lacks '%s' (llvm-pdbutil)", buf);
		checked++;
	}
	free(xout);
	print_message("x nt!*: %d symbols matched llvm-pdbutil\n", checked);

	/* ln on a procedure the image does not export. */
	exports = exports_of(nt);
	for (i = 0; i < nsym; i++) {
		if (syms[i].proc && !is_exported(exports, syms[i].name)) {
			np = &syms[i];
			break;
		}
	}
	if (!np)
		fail_msg("ntoskrnl.pdb has no non-exported procedure");
	fmt_ptr(base + np->rva, a, sizeof(a));
	snprintf(buf, sizeof(buf), "ln %s", a);
	out = cmd(&l, buf);
	/* The name ends there: the line goes on with the next symbol
	 * ("   |  (addr)   nt!Next", ln_next checks it) or ends. */
	snprintf(buf, sizeof(buf), "nt!%s\n", np->name);
	if (!strstr(out, buf)) {
		snprintf(buf, sizeof(buf), "nt!%s   |  (", np->name);
		if (!strstr(out, buf))
			fail_msg("ln of %s printed:\n%s", np->name, out);
	}
	if (pdb_line_at(nt->pdb, np->rva, file, sizeof(file), &line)) {
		snprintf(buf, sizeof(buf), "[%s @ %u]", file, line);
		if (!strstr(out, buf))
			fail_msg("ln: want %s, got:\n%s", buf, out);
	}
	free(out);

	/* Breakpoints by PDB name on the non-exported procedures (the
	 * compiler's memset/memcpy aside: the workload may not call them),
	 * else on KeWorkerStep; the first hit is frame 00 of k, named from
	 * the PDB with the source line llvm-pdbutil gives. */
	free(cmd(&l, ".lines -e"));
	for (i = 0; i < nsym && bps < 16; i++) {
		if (!syms[i].proc || is_exported(exports, syms[i].name) ||
		    strcmp(syms[i].name, "memset") == 0 ||
		    strcmp(syms[i].name, "memcpy") == 0)
			continue;
		snprintf(buf, sizeof(buf), "bp nt!%s", syms[i].name);
		out = cmd(&l, buf);
		if (strstr(out, "rror"))
			fail_msg("%s: %s", buf, out);
		free(out);
		bps++;
	}
	print_message("breakpoints on %d non-exported procedures\n", bps);
	if (bps == 0)
		free(cmd(&l, "bp nt!KeWorkerStep"));
	kp_send(&l.kd, "g\n");
	out = kp_wait_prompt(&l.kd, T_MS);
	assert_non_null(out);
	free(out);
	out = cmd(&l, "k");
	{
		const char *f0 = strstr(out, "\n00 ");
		const char *bang, *eol;
		const struct sym *hit = NULL;

		assert_non_null(f0);
		eol = strchr(f0 + 1, '\n');
		bang = strstr(f0, "nt!");
		assert_non_null(bang);
		for (i = 0; i < nsym; i++) {
			size_t n = strlen(syms[i].name);

			if (syms[i].proc &&
			    strncmp(bang + 3, syms[i].name, n) == 0 &&
			    (bang[3 + n] == ' ' || bang[3 + n] == '+'))
				hit = &syms[i];
		}
		if (!hit || (bps > 0 && is_exported(exports, hit->name)))
			fail_msg("k frame 00 is no%s PDB procedure:\n%s",
				 bps ? " non-exported" : "", out);
		if (!pdb_line_at(nt->pdb, hit->rva, file, sizeof(file), &line))
			fail_msg("llvm-pdbutil has no line for %s", hit->name);
		snprintf(buf, sizeof(buf), " [%s @ %u]", file, line);
		if (!strstr(f0, buf) || (eol && strstr(f0, buf) > eol))
			fail_msg("k frame 00 lacks '%s':\n%s", buf, out);
	}
	free(out);
	free(exports);
	free(syms);
	stop(&l);
}

static void cache_offline(void **state)
{
	char buf[512];
	struct live l;
	size_t before;

	(void)state;
	/* The cache http_store filled: an offline run asks nobody. */
	set_env_path("cache");
	setenv("OPENKD_SYMSRV_OFFLINE", "1", 1);
	before = file_size(g_log);
	start(&l, NULL);
	free(cmd(&l, ".reload /f"));
	snprintf(buf, sizeof(buf), "%s/cache/", g_dir);
	expect_all_pdb(&l, buf);
	assert_int_equal(file_size(g_log), before);
	stop(&l);

	/* And with the server gone, online: the cache still serves. */
	stop_server();
	unsetenv("OPENKD_SYMSRV_OFFLINE");
	start(&l, NULL);
	free(cmd(&l, ".reload /f"));
	expect_all_pdb(&l, buf);
	stop(&l);
	start_server();
}

static void mismatch_and_damage_refused(void **state)
{
	struct image *nt = image_named("ntoskrnl.exe");
	struct image *other = image_named("hal.dll");
	char dir[256], *out, row[1024];
	const char *args[] = { "-y", dir, NULL };
	struct live l;

	(void)state;
	assert_non_null(nt);
	assert_non_null(other);
	/* Another build's PDB under nt's PDB name: its GUID differs. */
	snprintf(dir, sizeof(dir), "%s/wrong", g_dir);
	assert_int_equal(kdt_sh("mkdir -p '%s' && cp '%s' '%s/%s'", dir,
				other->pdb, dir, nt->pdbname),
			 0);
	/* And hal's own PDB cut short: damaged. */
	assert_int_equal(kdt_sh("head -c 20000 '%s' > '%s/%s'", other->pdb, dir,
				other->pdbname),
			 0);
	unsetenv("_NT_SYMBOL_PATH");
	start(&l, args);
	out = cmd(&l, ".reload /f nt");
	if (!strstr(out, "has mismatched symbols") ||
	    !strstr(out, "*** ERROR: Symbol file could not be found.  "
			 "Defaulted to export symbols for ntoskrnl.exe - "))
		fail_msg(".reload /f nt with a wrong PDB printed:\n%s", out);
	free(out);
	out = cmd(&l, ".reload /f hal");
	snprintf(row, sizeof(row), "*** ERROR: Symbol file %s is damaged (",
		 other->pdbname);
	if (!strstr(out, row) || !strstr(out, "Defaulted to export symbols "
					      "for hal.dll - "))
		fail_msg(".reload /f hal with a cut PDB printed:\n%s", out);
	free(out);
	out = cmd(&l, "lm m hal");
	assert_non_null(lm_row(out, "hal", row, sizeof(row)));
	if (!strstr(row, "(export symbols)"))
		fail_msg("hal after a damaged PDB: %s", row);
	free(out);
	out = cmd(&l, "lm m nt");
	assert_non_null(lm_row(out, "nt", row, sizeof(row)));
	if (!strstr(row, "(export symbols)"))
		fail_msg("nt after a mismatch: %s", row);
	free(out);
	/* Exports still name things. */
	out = cmd(&l, "x nt!KeBugCheckEx");
	assert_non_null(strstr(out, "nt!KeBugCheckEx"));
	free(out);
	stop(&l);
}

/*
 * kd -z on kdsim's ntoskrnl.exe with -y naming the folder of its PDB:
 * the image file alone (no machine) gets pdb symbols; x, ln and u name
 * what llvm-pdbutil lists, at the ImageBase llvm-readobj reads.
 */
static void image_file(void **state)
{
	struct image *nt = image_named("ntoskrnl.exe");
	struct sym *syms = calloc(20000, sizeof(*syms));
	char exe[640], input[512], buf[512], a[24], file[512];
	const char *args[] = { "-y", g_kdir, "-z", exe, NULL };
	char *hdr, *exports, *out = NULL, *xs, *rest;
	const struct sym *np = NULL;
	const char *ib;
	uint64_t base;
	unsigned line;
	int nsym, i;

	(void)state;
	assert_non_null(nt);
	assert_non_null(syms);
	unsetenv("_NT_SYMBOL_PATH");
	unsetenv("_NT_ALT_SYMBOL_PATH");
	snprintf(exe, sizeof(exe), "%s/%s", g_kdir, nt->file);
	hdr = kdt_run_out("llvm-readobj --file-headers '%s'", exe);
	assert_non_null(hdr);
	ib = strstr(hdr, "ImageBase: 0x");
	assert_non_null(ib);
	base = strtoull(ib + 11, NULL, 16);
	free(hdr);

	nsym = pdb_syms(nt->pdb, syms, 20000);
	assert_true(nsym > 0);
	exports = exports_of(nt);
	for (i = 0; i < nsym; i++) {
		if (syms[i].proc && !is_exported(exports, syms[i].name) &&
		    strcmp(syms[i].name, "memset") != 0 &&
		    strcmp(syms[i].name, "memcpy") != 0) {
			np = &syms[i];
			break;
		}
	}
	if (!np)
		fail_msg("ntoskrnl.pdb has no non-exported procedure");
	fmt_ptr(base + np->rva, a, sizeof(a));
	snprintf(input, sizeof(input),
		 "x nt!*\n.echo ---ln\nln %s\n.echo ---u\nu nt!%s L1\n"
		 ".echo ---lm\nlm\n",
		 a, np->name);
	assert_int_equal(kp_run(args, input, T_MS, &out, NULL), 0);
	assert_non_null(out);
	snprintf(buf, sizeof(buf), "Symbol search path is: %s\n", g_kdir);
	if (!strstr(out, buf))
		fail_msg("no '%s' banner:\n%s", buf, out);

	/* x: every public and procedure at ImageBase + RVA. */
	xs = strstr(out, "---ln");
	assert_non_null(xs);
	for (i = 0; i < nsym; i++) {
		char *hit;

		fmt_ptr(base + syms[i].rva, a, sizeof(a));
		snprintf(buf, sizeof(buf), "%s nt!%s ", a, syms[i].name);
		hit = strstr(out, buf);
		if (!hit || hit > xs)
			fail_msg("kd -z: x nt!* lacks '%s'", buf);
	}
	/* ln: the non-exported procedure, with llvm-pdbutil's line. */
	rest = strstr(xs, "---u");
	assert_non_null(rest);
	/* "nt!Name" ends the line, or WinDbg's "   |  (next)" follows. */
	snprintf(buf, sizeof(buf), ")   nt!%s   |  (", np->name);
	if (!strstr(xs, buf) || strstr(xs, buf) > rest) {
		snprintf(buf, sizeof(buf), ")   nt!%s\n", np->name);
		if (!strstr(xs, buf) || strstr(xs, buf) > rest)
			fail_msg("kd -z: ln of %s printed:\n%s", np->name, xs);
	}
	if (pdb_line_at(nt->pdb, np->rva, file, sizeof(file), &line)) {
		snprintf(buf, sizeof(buf), "[%s @ %u]", file, line);
		if (!strstr(xs, buf) || strstr(xs, buf) > rest)
			fail_msg("kd -z: ln wants %s:\n%s", buf, xs);
	}
	/* u: the label and the first instruction at its address. */
	fmt_ptr(base + np->rva, a, sizeof(a));
	snprintf(buf, sizeof(buf), "nt!%s:\n%s ", np->name, a);
	if (!strstr(rest, buf))
		fail_msg("kd -z: u lacks '%s':\n%s", buf, rest);
	/* lm: the PDB found through -y. */
	if (!strstr(strstr(rest, "---lm"), "(private pdb symbols)") ||
	    !strstr(strstr(rest, "---lm"), nt->pdbname))
		fail_msg("kd -z: lm after loading:\n%s", rest);
	print_message("kd -z: %d symbols, %s named from the PDB\n", nsym,
		      np->name);
	free(out);
	free(exports);
	free(syms);
}

/* The path commands of a dormant kd (no target needed). */
static void path_commands(void **state)
{
	const char *none[] = { NULL };
	const char *y[] = { "-y", "/y/one;srv*/y/cache*http://127.0.0.1:1",
			    NULL };
	char *out = NULL;

	(void)state;
	/* The alternate path goes first. */
	setenv("_NT_ALT_SYMBOL_PATH", "/alt/dir", 1);
	setenv("_NT_SYMBOL_PATH", "/main/dir", 1);
	assert_int_equal(kp_run(none, ".sympath\n", T_MS, &out, NULL), 0);
	assert_non_null(strstr(out, "Symbol search path is: "
				    "/alt/dir;/main/dir\n"));
	free(out);
	/* -y replaces the environment; .sympath+ and .symfix add. */
	assert_int_equal(kp_run(y,
				".sympath+ /y/two\n.symfix+ /y/fix\n"
				".sympath\n!sym noisy\n.symopt+ 0x10\n",
				T_MS, &out, NULL),
			 0);
	assert_non_null(strstr(out,
			       "Symbol search path is: /y/one;srv*/y/cache*"
			       "http://127.0.0.1:1;/y/two;srv*/y/fix*https://"
			       "msdl.microsoft.com/download/symbols\n"));
	assert_non_null(strstr(out, "Expanded Symbol search path is: "));
	assert_non_null(strstr(out, "Deferred                        "
				    "               SRV*/y/fix*https://"));
	assert_non_null(strstr(out, "noisy mode - symbol prompts off"));
	assert_non_null(strstr(out, "0x00000010 - SYMOPT_LOAD_LINES"));
	free(out);
	/* A path the grammar refuses: one line, the path kept, exit 1. */
	assert_int_equal(kp_run(none,
				".sympath /keep\n.sympath srv*a*b*c*d*e*f*g*h*"
				"i*j*http://x\n.sympath\n",
				T_MS, &out, NULL),
			 1);
	assert_non_null(strstr(out, "symbol path: element 1"));
	assert_non_null(strstr(strstr(out, "symbol path: element 1"),
			       "Symbol search path is: /keep\n"));
	free(out);
	unsetenv("_NT_ALT_SYMBOL_PATH");
	unsetenv("_NT_SYMBOL_PATH");
}

/*
 * kd's symbol switches (-sins, -s, -lines, -n, -sflags) set the options
 * .symopt shows and change what loads; .reload's /l /w /v and an unknown
 * option.
 */
static void symopt_switches(void **state)
{
	struct image *nt = image_named("ntoskrnl.exe");
	char exe[640];
	const char *sins[] = { "-sins", "-z", exe, NULL };
	const char *snd[] = { "-s", "-y", g_kdir, "-z", exe, NULL };
	const char *dfl[] = { "-y", g_kdir, "-z", exe, NULL };
	const char *lines[] = { "-lines", "-n", "-z", exe, NULL };
	const char *flags[] = { "-sflags", "0x10", "-z", exe, NULL };
	const char *bad[] = { "-sflags", "0x1zz", "-z", exe, NULL };
	char *out = NULL, *err = NULL;

	(void)state;
	assert_non_null(nt);
	snprintf(exe, sizeof(exe), "%s/%s", g_kdir, nt->file);
	/* -sins: the environment's path is not used. */
	setenv("_NT_SYMBOL_PATH", g_kdir, 1);
	assert_int_equal(
		kp_run(sins, ".symopt\n.reload\nlm\n", T_MS, &out, NULL), 0);
	assert_non_null(strstr(out, "Symbol search path is: *** Invalid ***"));
	assert_non_null(strstr(out, "Symbol options are 0xB1227:"));
	assert_non_null(strstr(out, "(export symbols)"));
	assert_null(strstr(out, "pdb symbols)"));
	free(out);
	unsetenv("_NT_SYMBOL_PATH");
	/* Deferred by default: a plain .reload loads no PDB ... */
	assert_int_equal(kp_run(dfl, ".reload\nlm\n", T_MS, &out, NULL), 0);
	assert_non_null(strstr(out, "(deferred)"));
	free(out);
	/* ... with -s it does, and the options lose 0x4. */
	assert_int_equal(
		kp_run(snd, ".symopt\n.reload\nlm\n", T_MS, &out, NULL), 0);
	assert_non_null(strstr(out, "Symbol options are 0xB0223:"));
	if (!strstr(out, "(private pdb symbols)"))
		fail_msg("kd -s: .reload left the PDB deferred:\n%s", out);
	free(out);
	/* -lines and -n add their bits; -sflags replaces the mask. */
	assert_int_equal(kp_run(lines, ".symopt\n", T_MS, &out, NULL), 0);
	assert_non_null(strstr(out, "Symbol options are 0x800B0237:"));
	assert_non_null(strstr(out, "0x00000010 - SYMOPT_LOAD_LINES"));
	free(out);
	assert_int_equal(kp_run(flags, ".symopt\n", T_MS, &out, NULL), 0);
	assert_non_null(strstr(out, "Symbol options are 0x10:"));
	free(out);
	assert_int_equal(kp_run(bad, "", T_MS, NULL, &err), 2);
	assert_non_null(strstr(err, "bad -sflags '0x1zz'"));
	free(err);
	/* .reload /v says what it loads; /l lists; /w takes the name as
	 * it is; an option .reload lacks is an error, not ignored. */
	assert_int_equal(
		kp_run(dfl, ".reload /v /f\n.reload /l\n", T_MS, &out, NULL),
		0);
	assert_non_null(strstr(out, "DBGHELP: nt - private symbols & lines"));
	assert_non_null(strstr(out, "start             end                 "
				    "module name\n"));
	free(out);
	assert_int_equal(kp_run(dfl, ".reload /w nt*\n", T_MS, &out, NULL), 1);
	assert_non_null(
		strstr(out, "\"nt*\" was not found in the image list."));
	free(out);
	assert_int_equal(kp_run(dfl, ".reload /q\n", T_MS, &out, NULL), 1);
	assert_non_null(strstr(out, "Unknown .reload option '/q'"));
	free(out);
}

/*
 * lm's filters and columns (lm l, e, u, 1m, t n, f): each row or its
 * absence follows the module's symbol state; the stamp is the one
 * llvm-readobj reads from the image.
 */
static void lm_options(void **state)
{
	struct image *nt = image_named("ntoskrnl.exe");
	char exe[640], want[800], a[24], b[24], *hdr, *out = NULL;
	/* One -c line: the output has no prompts between the commands. */
	const char *dfl[] = { "-y",
			      g_kdir,
			      "-z",
			      exe,
			      "-c",
			      (".echo ---l; lml; .echo ---1m; lm1m; .echo ---u; "
			       "lmu; .echo ---tn; lm t n; .echo ---f; lmf; "
			       ".reload /f; .echo ---l2; lml; .echo ---e; lme; "
			       ".echo ---end"),
			      NULL };
	const char *none[] = { "-sins", "-z", exe, "-c", ".reload; lme; lm i f",
			       NULL };
	const char *p;
	uint64_t base;
	unsigned long size, stamp;

	(void)state;
	assert_non_null(nt);
	snprintf(exe, sizeof(exe), "%s/%s", g_kdir, nt->file);
	hdr = kdt_run_out("llvm-readobj --file-headers '%s'", exe);
	assert_non_null(hdr);
	assert_non_null(p = strstr(hdr, "ImageBase: 0x"));
	base = strtoull(p + 11, NULL, 16);
	assert_non_null(p = strstr(hdr, "SizeOfImage: "));
	size = strtoul(p + 13, NULL, 0);
	assert_non_null(p = strstr(hdr, "TimeDateStamp: "));
	assert_non_null(p = strstr(p, "(0x"));
	stamp = strtoul(p + 1, NULL, 16);
	free(hdr);
	fmt_ptr(base, a, sizeof(a));
	fmt_ptr(base + size, b, sizeof(b));

	assert_int_equal(kp_run(dfl, "", T_MS, &out, NULL), 0);
	/* Deferred: no symbols loaded yet, so lml lists nothing. */
	snprintf(want, sizeof(want),
		 "---l\nstart             end                 module name\n"
		 "---1m\nnt\n---u\nstart             end                 "
		 "module name\n---tn\n");
	if (!strstr(out, want))
		fail_msg("lml / lm1m / lmu:\n%s", out);
	p = strstr(out, "---tn\n");
	snprintf(want, sizeof(want), "%s %s   nt       %-12s ", a, b, nt->file);
	if (!strstr(p, want))
		fail_msg("lm t n wants '%s':\n%s", want, p);
	snprintf(want, sizeof(want), "(%08lX)\n---f\n", stamp);
	if (!strstr(p, want))
		fail_msg("lm t n wants '%s':\n%s", want, p);
	snprintf(want, sizeof(want), "%s %s   nt       %s\n", a, b, exe);
	if (!strstr(p, want))
		fail_msg("lmf wants '%s':\n%s", want, p);
	/* Loaded: lml has the row, lme (problems only) has none. */
	p = strstr(out, "---l2\n");
	assert_non_null(p);
	snprintf(want, sizeof(want), "%s %s   nt         (private pdb symbols)",
		 a, b);
	if (!strstr(p, want))
		fail_msg("lml after .reload /f:\n%s", p);
	if (!strstr(p, "---e\nstart             end                 "
		       "module name\n---end"))
		fail_msg("lme with a PDB loaded:\n%s", p);
	free(out);
	/* No symbol path: export symbols are a problem lme lists. */
	assert_int_equal(kp_run(none, "", T_MS, &out, NULL), 1);
	snprintf(want, sizeof(want), "%s %s   nt         (export symbols)", a,
		 b);
	if (!strstr(out, want))
		fail_msg("lme without PDB:\n%s", out);
	assert_non_null(strstr(out, "Syntax error in 'lm i f'"));
	free(out);
}

/*
 * x with private symbols spells each procedure's parameter types, as the
 * kernel's source declares them (u32 is unsigned int, u64 unsigned
 * __int64; const dropped, as WinDbg's x shows CreateFileW's LPCWSTR as
 * wchar_t *); a public alone keeps "(<no parameter info>)".
 */
static void x_param_types(void **state)
{
	struct image *nt = image_named("ntoskrnl.exe");
	char exe[640], *out = NULL;
	const char *pdb[] = { "-y",
			      g_kdir,
			      "-z",
			      exe,
			      "-c",
			      ("x nt!RtlFibonacci; x nt!DbgPrint; "
			       "x nt!MiSimComputeStep; x nt!KeBugCheckEx"),
			      NULL };
	const char *none[] = { "-sins", "-z", exe, "-c", "x nt!RtlFibonacci",
			       NULL };

	(void)state;
	assert_non_null(nt);
	snprintf(exe, sizeof(exe), "%s/%s", g_kdir, nt->file);
	assert_int_equal(kp_run(pdb, "", T_MS, &out, NULL), 0);
	if (!strstr(out, " nt!RtlFibonacci (unsigned int)\n") ||
	    !strstr(out, " nt!DbgPrint (char *, ...)\n") ||
	    !strstr(out, " nt!MiSimComputeStep (unsigned __int64 *, "
			 "unsigned __int64 *)\n") ||
	    !strstr(out, " nt!KeBugCheckEx (unsigned int, unsigned __int64, "
			 "unsigned __int64, unsigned __int64, unsigned "
			 "__int64)\n"))
		fail_msg("x with private symbols:\n%s", out);
	free(out);
	/* Exports only: nothing is known of the parameters. */
	assert_int_equal(kp_run(none, "", T_MS, &out, NULL), 0);
	if (!strstr(out, " nt!RtlFibonacci (<no parameter info>)\n"))
		fail_msg("x with exports only:\n%s", out);
	free(out);
}

/* ------------------------------------------------------------------ */
/* kp / kP against llvm-pdbutil's S_LOCAL and S_DEFRANGE_REGISTER      */
/* ------------------------------------------------------------------ */

#define KP_MAXP 8

struct kp_proc {
	char name[64];
	unsigned seg, off;
	int nparams;
	struct {
		char name[64];
		char type[96]; /* llvm-pdbutil's, spelled as WinDbg does */
		char reg[8];   /* register holding it at the entry, or "" */
	} p[KP_MAXP];
};

/* llvm-pdbutil's "unsigned __int64*" / "unsigned" as kp spells them
 * ("unsigned __int64 *", "unsigned int": the C names WinDbg prints). */
static void kp_type(const char *in, size_t n, char *out, size_t cap)
{
	size_t stars = 0;

	while (n > 0 && in[n - 1] == '*') {
		n--;
		stars++;
	}
	if (n == 8 && strncmp(in, "unsigned", 8) == 0)
		snprintf(out, cap, "unsigned int");
	else
		snprintf(out, cap, "%.*s", (int)n, in);
	while (stars--) {
		size_t l = strlen(out);

		snprintf(out + l, cap - l, " *");
	}
}

/*
 * Procedure @p name from `llvm-pdbutil dump --symbols`: its address, the
 * S_LOCALs flagged param with their types, and for each the register of
 * an S_DEFRANGE_REGISTER whose range starts at the procedure's entry.
 */
static bool kp_proc_of(const char *dump, const char *name, struct kp_proc *out)
{
	char key[96];
	const char *p, *end;
	int cur = -1;

	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", name);
	snprintf(key, sizeof(key), "PROC32 [size = ");
	for (p = dump; (p = strstr(p, key)) != NULL; p++) {
		const char *eol = strchr(p, '\n');
		char want[80];

		snprintf(want, sizeof(want), "`%s`", name);
		if (eol && strstr(p, want) && strstr(p, want) < eol)
			break;
	}
	if (!p)
		return false;
	p = strstr(p, "addr = ");
	if (!p || sscanf(p, "addr = %x:%u", &out->seg, &out->off) != 2)
		return false;
	end = strstr(p, "S_END");
	if (!end)
		return false;
	while ((p = strchr(p, '\n')) != NULL && p < end) {
		const char *q, *t, *te;

		p++;
		if ((q = strstr(p, "S_LOCAL [")) != NULL &&
		    q < strchr(p, '\n')) {
			const char *nb = strchr(q, '`'), *ne;

			cur = -1;
			if (!nb || !(ne = strchr(nb + 1, '`')))
				return false;
			t = strstr(ne, "type=");
			te = t ? strstr(t, "), flags = ") : NULL;
			if (!te || out->nparams >= KP_MAXP)
				return false;
			if (strncmp(te + 11, "param", 5) != 0)
				continue;
			cur = out->nparams++;
			snprintf(out->p[cur].name, sizeof(out->p[cur].name),
				 "%.*s", (int)(ne - nb - 1), nb + 1);
			t = strchr(t, '(');
			if (!t)
				return false;
			kp_type(t + 1, (size_t)(te - t - 1), out->p[cur].type,
				sizeof(out->p[cur].type));
		} else if (cur >= 0 && (q = strstr(p, "register = ")) != NULL &&
			   q < strchr(p, '\n')) {
			unsigned seg, off;
			const char *rs = strstr(q, "range start = ");
			size_t i;

			if (!rs ||
			    sscanf(rs, "range start = %x:%u", &seg, &off) != 2)
				return false;
			if (seg != out->seg || off != out->off ||
			    out->p[cur].reg[0])
				continue;
			for (i = 0; i + 1 < sizeof(out->p[cur].reg) &&
				    isalnum((unsigned char)q[11 + i]);
			     i++)
				out->p[cur].reg[i] = (char)tolower(
					(unsigned char)q[11 + i]);
		}
	}
	return out->nparams > 0;
}

/* The frame line of kp output @p out numbered @p nn, malloc'd. */
static char *kp_frame(const char *out, const char *nn, bool multi)
{
	char key[8];
	const char *p, *e;

	snprintf(key, sizeof(key), "\n%s ", nn);
	p = strstr(out, key);
	if (!p)
		return NULL;
	p++;
	e = p;
	/* kP: the frame runs until the next numbered line or the end. */
	do {
		e = strchr(e, '\n');
		if (!e)
			e = p + strlen(p);
	} while (multi && *e == '\n' && e[1] == '\t' && e++);
	return strndup(p, (size_t)(e - p));
}

static void kp_params(void **state)
{
	struct image *nt = image_named("ntoskrnl.exe");
	struct kp_proc pr, outer;
	char *dump, *out, *f0, *f1, *kpl, buf[256], want[512], r[32];
	const char *bang, *par;
	struct live l;
	int i, shown = 0;

	(void)state;
	assert_non_null(nt);
	dump = kdt_run_out("llvm-pdbutil dump --symbols '%s'", nt->pdb);
	assert_non_null(dump);
	if (!kp_proc_of(dump, "MiSimComputeStep", &pr))
		fail_msg("llvm-pdbutil lists no parameters of "
			 "MiSimComputeStep");
	/* The folder kdsim's build wrote the PDBs to, no server. */
	setenv("_NT_SYMBOL_PATH", g_kdir, 1);
	start(&l, NULL);
	free(cmd(&l, "bp nt!MiSimComputeStep"));
	kp_send(&l.kd, "g\n");
	out = kp_wait_prompt(&l.kd, T_MS);
	assert_non_null(out);
	free(out);

	/* Frame 0 stops at the entry: a parameter whose register range
	 * starts there shows that register (as `r` reads it), others say
	 * <value unavailable>. */
	out = cmd(&l, "kp");
	f0 = kp_frame(out, "00", false);
	if (!f0 || !strstr(f0, "nt!MiSimComputeStep("))
		fail_msg("kp frame 00:\n%s", out);
	for (i = 0; i < pr.nparams; i++) {
		if (pr.p[i].reg[0]) {
			char *rv;
			const char *eq;
			uint64_t v;

			snprintf(buf, sizeof(buf), "r %s", pr.p[i].reg);
			rv = cmd(&l, buf);
			eq = strchr(rv, '=');
			assert_non_null(eq);
			v = strtoull(eq + 1, NULL, 16);
			free(rv);
			if (strchr(pr.p[i].type, '*'))
				fmt_ptr(v, r, sizeof(r));
			else
				snprintf(r, sizeof(r), "%llx",
					 (unsigned long long)v);
			snprintf(want, sizeof(want), "%s %s = 0x%s",
				 pr.p[i].type, pr.p[i].name, r);
			shown++;
		} else {
			snprintf(want, sizeof(want),
				 "%s %s = <value unavailable>", pr.p[i].type,
				 pr.p[i].name);
		}
		if (!strstr(f0, want))
			fail_msg("kp frame 00 lacks '%s':\n%s", want, f0);
	}
	print_message("kp: %d of %d parameters of MiSimComputeStep with a "
		      "value from their register\n",
		      shown, pr.nparams);
	assert_true(shown > 0);

	/* Frame 1: registers of outer frames are not recovered, so every
	 * register parameter of its procedure is <value unavailable>. */
	f1 = kp_frame(out, "01", false);
	assert_non_null(f1);
	bang = strstr(f1, "nt!");
	par = bang ? strchr(bang, '(') : NULL;
	if (!par)
		fail_msg("kp frame 01 has no parameter list:\n%s", out);
	snprintf(buf, sizeof(buf), "%.*s", (int)(par - bang - 3), bang + 3);
	if (kp_proc_of(dump, buf, &outer)) {
		for (i = 0; i < outer.nparams; i++) {
			snprintf(want, sizeof(want),
				 "%s %s = <value unavailable>", outer.p[i].type,
				 outer.p[i].name);
			if (!strstr(f1, want))
				fail_msg("kp frame 01 lacks '%s':\n%s", want,
					 f1);
		}
	}
	free(f1);
	free(out);

	/* kP: the same parameters, one per line. */
	out = cmd(&l, "kP");
	kpl = kp_frame(out, "00", true);
	assert_non_null(kpl);
	snprintf(want, sizeof(want),
		 "nt!MiSimComputeStep(\n\t%s %s = ", pr.p[0].type,
		 pr.p[0].name);
	if (!strstr(kpl, want))
		fail_msg("kP frame 00 lacks '%s':\n%s", want, out);
	for (i = 1; i < pr.nparams; i++) {
		snprintf(want, sizeof(want), ", \n\t%s %s = ", pr.p[i].type,
			 pr.p[i].name);
		if (!strstr(kpl, want))
			fail_msg("kP frame 00 lacks '%s':\n%s", want, out);
	}
	free(kpl);
	free(out);
	free(f0);
	free(dump);
	unsetenv("_NT_SYMBOL_PATH");
	stop(&l);
}

/*
 * ln with a PDB names the following symbol too: for every procedure
 * llvm-pdbutil lists, at its start and one byte in, "|  (addr)   nt!Next"
 * where Next is a public or procedure at the lowest RVA above it.
 */
static void ln_next(void **state)
{
	struct image *nt = image_named("ntoskrnl.exe");
	struct sym *syms = calloc(20000, sizeof(*syms));
	char *out, row[1024], buf[512], a[24], b[24];
	struct live l;
	uint64_t base;
	int nsym, i, j, checked = 0;

	(void)state;
	assert_non_null(nt);
	assert_non_null(syms);
	nsym = pdb_syms(nt->pdb, syms, 20000);
	assert_true(nsym > 0);
	setenv("_NT_SYMBOL_PATH", g_kdir, 1);
	start(&l, NULL);
	out = cmd(&l, "lm");
	assert_non_null(lm_row(out, "nt", row, sizeof(row)));
	base = parse_ptr(row);
	free(out);
	for (i = 0; i < nsym; i++) {
		uint32_t next = UINT32_MAX;
		bool named = false;
		const char *bar;

		if (!syms[i].proc)
			continue;
		for (j = 0; j < nsym; j++)
			if (syms[j].rva > syms[i].rva && syms[j].rva < next)
				next = syms[j].rva;
		if (next == UINT32_MAX)
			continue;
		fmt_ptr(base + syms[i].rva, a, sizeof(a));
		snprintf(buf, sizeof(buf), "ln %s+1", a);
		out = cmd(&l, buf);
		fmt_ptr(base + next, b, sizeof(b));
		snprintf(buf, sizeof(buf), "   |  (%s)   nt!", b);
		bar = strstr(out, buf);
		if (!bar)
			fail_msg("ln of %s+1 lacks '%s':\n%s", syms[i].name,
				 buf, out);
		bar += strlen(buf);
		for (j = 0; j < nsym; j++) {
			size_t n = strlen(syms[j].name);

			if (syms[j].rva == next &&
			    strncmp(bar, syms[j].name, n) == 0 &&
			    (bar[n] == '\n' || bar[n] == '\0'))
				named = true;
		}
		if (!named)
			fail_msg("ln of %s+1: no symbol llvm-pdbutil lists at "
				 "%s is named:\n%s",
				 syms[i].name, b, out);
		free(out);
		checked++;
	}
	print_message("ln: next symbol of %d procedures matched "
		      "llvm-pdbutil\n",
		      checked);
	assert_true(checked > 0);
	free(syms);
	unsetenv("_NT_SYMBOL_PATH");
	stop(&l);
}

/*
 * .reload Image=Address,Size,Timestamp adds a module the list does not
 * have: hal's range under another name replaces hal, and its symbols come
 * from hal.pdb (the image in memory names it) at the RVAs llvm-pdbutil
 * gives.  Malformed forms are one error line each and change nothing.
 */
static void reload_module_eq(void **state)
{
	static const char *const bad[] = { ".reload foo=1", ".reload foo=1,0",
					   ".reload foo=zz,10",
					   ".reload foo=1,2,3,4",
					   ".reload =1,2" };
	struct image *hal = image_named("hal.dll");
	struct sym *syms = calloc(4096, sizeof(*syms));
	const struct sym *proc = NULL;
	char *out, row[1024], buf[512], a[24];
	uint64_t base, end;
	struct live l;
	int nsym, i;
	size_t k;

	(void)state;
	assert_non_null(hal);
	assert_non_null(syms);
	nsym = pdb_syms(hal->pdb, syms, 4096);
	for (i = 0; i < nsym && !proc; i++)
		if (syms[i].proc)
			proc = &syms[i];
	if (!proc)
		fail_msg("llvm-pdbutil lists no procedure in %s", hal->pdb);
	setenv("_NT_SYMBOL_PATH", g_kdir, 1);
	start(&l, NULL);
	out = cmd(&l, "lm");
	assert_non_null(lm_row(out, "hal", row, sizeof(row)));
	base = parse_ptr(row);
	end = parse_ptr(row + 18);
	free(out);
	assert_true(end > base);

	fmt_ptr(base, a, sizeof(a));
	snprintf(buf, sizeof(buf), ".reload /f myhal.dll=%s,%llx,5f000001", a,
		 (unsigned long long)(end - base));
	out = cmd(&l, buf);
	if (out[0])
		fail_msg("%s printed:\n%s", buf, out);
	free(out);
	/* /f: its PDB is loaded at once, not deferred. */
	out = cmd(&l, "lm");
	if (!lm_row(out, "myhal", row, sizeof(row)) || parse_ptr(row) != base ||
	    !strstr(row, "pdb symbols") || lm_row(out, "hal", row, sizeof(row)))
		fail_msg("lm after .reload /f myhal.dll=...:\n%s", out);
	free(out);

	/* Its symbols: the procedure at base + RVA, by name both ways. */
	fmt_ptr(base + proc->rva, a, sizeof(a));
	snprintf(buf, sizeof(buf), "ln %s", a);
	out = cmd(&l, buf);
	snprintf(buf, sizeof(buf), "myhal!%s", proc->name);
	if (!strstr(out, buf))
		fail_msg("ln of myhal's %s:\n%s", proc->name, out);
	free(out);
	snprintf(buf, sizeof(buf), "? myhal!%s", proc->name);
	out = cmd(&l, buf);
	if (parse_ptr(strstr(out, "= ") ? strstr(out, "= ") + 2 : out) !=
	    base + proc->rva)
		fail_msg("%s: want %s:\n%s", buf, a, out);
	free(out);
	out = cmd(&l, "lmv m myhal");
	/* The stamp given, in the /Brepro form (hal is linked so). */
	if (!strstr(out, "pdb symbols") ||
	    !strstr(out, "Timestamp:        5F000001 (This is a reproducible"))
		fail_msg("lmv m myhal:\n%s", out);
	free(out);

	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		const char *nl;

		out = cmd(&l, bad[k]);
		nl = strchr(out, '\n');
		if (!nl || nl[1] != '\0' || nl == out)
			fail_msg("%s: want one error line, got:\n%s", bad[k],
				 out);
		free(out);
	}
	out = cmd(&l, "lm");
	if (!lm_row(out, "myhal", row, sizeof(row)) ||
	    lm_row(out, "foo", row, sizeof(row)))
		fail_msg("lm after malformed .reload forms:\n%s", out);
	free(out);
	free(syms);
	unsetenv("_NT_SYMBOL_PATH");
	/* Failed commands make kd's exit status non-zero (stdin is no
	 * terminal: batch rules). */
	kp_send(&l.kd, "q\n");
	assert_int_equal(kp_finish(&l.kd, T_MS), 1);
	kp_free(&l.kd);
	kc_stop(&l.sim);
	unlink(l.sock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(path_commands),
		cmocka_unit_test(http_store),
		cmocka_unit_test(cache_offline),
		cmocka_unit_test(mismatch_and_damage_refused),
		cmocka_unit_test(image_file),
		cmocka_unit_test(kp_params),
		cmocka_unit_test(ln_next),
		cmocka_unit_test(reload_module_eq),
		cmocka_unit_test(symopt_switches),
		cmocka_unit_test(lm_options),
		cmocka_unit_test(x_param_types),
	};

	if (!kp_kd_path() || !kc_kdsim_path()) {
		fprintf(stderr, "skipped: kd or kdsim not built\n");
		return 77;
	}
	if (!kdt_have("llvm-pdbutil") || !kdt_have("llvm-readobj") ||
	    !kdt_have("python3") ||
	    (!kdt_have("clang-cl-14") && !kdt_have("clang-cl"))) {
		fprintf(stderr, "skipped: llvm-pdbutil, llvm-readobj, "
				"clang-cl or python3 not found\n");
		return 77;
	}
	if (!load_images()) {
		fprintf(stderr, "skipped: kdsim's images have no PDBs (built "
				"without clang-cl/lld-link)\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
