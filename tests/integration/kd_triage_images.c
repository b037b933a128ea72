/* SPDX-License-Identifier: MIT */
/*
 * Images by image key (TimeDateStamp + SizeOfImage) when their headers
 * are not in the target, all real processes.
 *
 * The real triage sample: every module's Timestamp, CheckSum and
 * ImageSize in `lmv` equal the driver list bytes that a few lines of
 * python read here from the documented layout (DUMP_DRIVER_ENTRY64 at
 * TRIAGE_DUMP64.DriverListOffset); with an empty local store `.reload /f`
 * says which image (and key) it could not find, and kd goes on.
 *
 * kdsim: kd attached to it writes `.dump /f`; the test then zeroes the
 * header page of each of kdsim's images in the file (found by the
 * image file's own first bytes), so the dump target cannot read them.
 * A folder store built here (name/<TIMESTAMP%08X><size%x>/name for the
 * images, name/<GUID><age>/name for the PDBs, keys from llvm-readobj and
 * llvm-pdbutil) lets `.reload /f` find each image, read its RSDS record
 * from the file and load the PDB: lm shows pdb symbols for every image,
 * and `x nt!*` and `ln` print what the live session printed.  Without
 * the images in the store, nt has no PDB and the missing image is named.
 *
 * Skipped (77) without the sample, python3, the LLVM tools or kdsim's
 * PDBs.
 */
#include "kdsim_client.h"
#include "kd_proc.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "testsupport.h"

/* Paths here are short /tmp and build names. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define T_MS 60000
#define MAX_IMAGES 16

struct image {
	char file[64];	   /* ntoskrnl.exe */
	char pdbname[64];  /* the RSDS path's base name */
	char pdbkey[48];   /* GUID + age, from llvm-pdbutil */
	uint32_t stamp;	   /* from llvm-readobj */
	uint32_t size;	   /* SizeOfImage, from llvm-readobj */
	uint8_t head[512]; /* the file's first bytes */
	bool loaded;	   /* in kdsim's module list */
};

static struct image g_img[MAX_IMAGES];
static int g_nimg;
static char g_kdir[512];
static char g_dir[128];

static void need_tools(void)
{
	if (!kp_kd_path() || !kdt_have("python3") ||
	    !kdt_have("llvm-readobj") || !kdt_have("llvm-pdbutil"))
		exit(77);
}

/* ---- the real triage sample ---- */

/* The driver list read by python from the documented layout: one line
 * "name TIMESTAMP CHECKSUM SIZE" (hex, %08X) per entry with a size. */
static const char py_drivers[] =
	"import struct,sys\n"
	"d=open(sys.argv[1],'rb').read()\n"
	"off,cnt=struct.unpack_from('<II',d,0x2000+0x30)\n"
	"for i in range(cnt):\n"
	" e=off+i*0x90\n"
	" no=struct.unpack_from('<I',d,e)[0]\n"
	" n=struct.unpack_from('<I',d,no)[0]\n"
	" s=d[no+4:no+4+2*n].decode('utf-16-le').split('\\0')[0]\n"
	" s=''.join(c if 32<=ord(c)<127 else '?' for c in s)\n"
	" base=struct.unpack_from('<Q',d,e+8+0x30)[0]\n"
	" size=struct.unpack_from('<I',d,e+8+0x40)[0]\n"
	" cs=struct.unpack_from('<I',d,e+8+0x78)[0]\n"
	" ts=struct.unpack_from('<I',d,e+8+0x80)[0]\n"
	" if base and size: print('%s %08X %08X %08X'%(s,ts,cs,size))\n";

static char *triage_drivers(const char *dump)
{
	char py[256];
	FILE *f;
	char *out;

	snprintf(py, sizeof(py), "%s/drivers.py", g_dir);
	f = fopen(py, "w");
	assert_non_null(f);
	fputs(py_drivers, f);
	fclose(f);
	out = kdt_run_out("python3 '%s' '%s'", py, dump);
	assert_non_null(out);
	return out;
}

static void test_triage_lmv(void **state)
{
	char path[512];
	const char *args[] = { "-z", path, "-c", "lmv; q", NULL };
	char *out = NULL, *drv, *line, *save = NULL;
	int checked = 0, stamped = 0;

	(void)state;
	kdt_require_shared(path, sizeof(path), "dumps/triage_x64.dmp");
	need_tools();
	drv = triage_drivers(path);
	assert_int_equal(kp_run(args, NULL, T_MS, &out, NULL), 0);
	for (line = strtok_r(drv, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[300], ts[9], cs[9], sz[9], key[340], want[64];
		const char *p, *end;

		if (sscanf(line, "%299s %8s %8s %8s", name, ts, cs, sz) != 4)
			fail_msg("python printed '%s'", line);
		snprintf(key, sizeof(key), "    Image path: %s\n", name);
		p = strstr(out, key);
		if (!p)
			fail_msg("no lmv entry for %s:\n%s", name, out);
		end = strstr(p + 1, "    Image path: ");
		if (!end)
			end = p + strlen(p);
		snprintf(want, sizeof(want), "(%s)\n", ts);
		if (!strstr(p, want) || strstr(p, want) > end)
			fail_msg("%s: timestamp %s not in\n%.*s", name, ts,
				 (int)(end - p), p);
		snprintf(want, sizeof(want), "    CheckSum:         %s\n", cs);
		if (!strstr(p, want) || strstr(p, want) > end)
			fail_msg("%s: checksum %s not in\n%.*s", name, cs,
				 (int)(end - p), p);
		snprintf(want, sizeof(want), "    ImageSize:        %s\n", sz);
		if (!strstr(p, want) || strstr(p, want) > end)
			fail_msg("%s: size %s not in\n%.*s", name, sz,
				 (int)(end - p), p);
		checked++;
		if (strcmp(ts, "00000000") != 0)
			stamped++;
	}
	/* 151 drivers in the sample; all of them carry a stamp. */
	assert_true(checked > 100);
	assert_int_equal(stamped, checked);
	free(drv);
	free(out);
}

static void test_triage_empty_store(void **state)
{
	char path[512], store[256], want[512];
	const char *args[] = { "-y", store,
			       "-z", path,
			       "-c", "!sym noisy; .reload /f; lm m nt; q",
			       NULL };
	char *out = NULL, *drv, *p;
	char name[300], ts[9], cs[9], sz[9];

	(void)state;
	kdt_require_shared(path, sizeof(path), "dumps/triage_x64.dmp");
	need_tools();
	snprintf(store, sizeof(store), "%s/empty", g_dir);
	assert_int_equal(mkdir(store, 0700), 0);
	drv = triage_drivers(path);
	p = strstr(drv, "\\SystemRoot\\system32\\ntoskrnl.exe ");
	assert_non_null(p);
	assert_int_equal(sscanf(p, "%299s %8s %8s %8s", name, ts, cs, sz), 4);
	assert_int_equal(kp_run(args, NULL, T_MS, &out, NULL), 0);
	/* The key the store was asked for, and the one line saying so. */
	snprintf(want, sizeof(want), "%s/ntoskrnl.exe/%s%lx/ntoskrnl.exe",
		 store, ts, strtoul(sz, NULL, 16));
	if (!strstr(out, want))
		fail_msg("no lookup of %s in:\n%s", want, out);
	snprintf(want, sizeof(want),
		 "*** ERROR: Unable to find image file ntoskrnl.exe "
		 "(TimeDateStamp %s, SizeOfImage %lx)",
		 ts, strtoul(sz, NULL, 16));
	if (!strstr(out, want))
		fail_msg("no '%s' in:\n%s", want, out);
	/* kd went on: lm after it printed nt, with no PDB. */
	p = strstr(out, "   nt         ");
	assert_non_null(p);
	assert_null(strstr(out, "pdb symbols"));
	free(drv);
	free(out);
}

/* ---- kdsim's images, headers gone from the dump ---- */

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
		char *t, v[128], guid[64], *slash, *x, path[700];
		size_t i, k = 0;
		FILE *f;

		if (!dot ||
		    (strcmp(dot, ".exe") != 0 && strcmp(dot, ".dll") != 0 &&
		     strcmp(dot, ".sys") != 0))
			continue;
		snprintf(im->file, sizeof(im->file), "%s", de->d_name);
		snprintf(path, sizeof(path), "%s/%s", g_kdir, im->file);
		t = kdt_run_out("llvm-readobj --file-headers "
				"--coff-debug-directory '%s'",
				path);
		if (!t || !kdt_field(t, "PDBFileName:", v, sizeof(v)) ||
		    !(x = strstr(t, "TimeDateStamp: ")) ||
		    !(x = strstr(x, "(0x")) ||
		    !kdt_field(t, "SizeOfImage:", guid, sizeof(guid))) {
			free(t);
			closedir(d);
			return false;
		}
		im->stamp = (uint32_t)strtoul(x + 1, NULL, 16);
		im->size = (uint32_t)strtoul(guid, NULL, 10);
		free(t);
		slash = strrchr(v, '\\');
		if (!slash)
			slash = strrchr(v, '/');
		snprintf(im->pdbname, sizeof(im->pdbname), "%s",
			 slash ? slash + 1 : v);
		t = kdt_run_out("llvm-pdbutil dump --summary '%s/%s'", g_kdir,
				im->pdbname);
		if (!t || !kdt_field(t, "GUID: {", guid, sizeof(guid)) ||
		    !kdt_field(t, "Age:", v, sizeof(v))) {
			free(t);
			closedir(d);
			return false;
		}
		free(t);
		for (i = 0; guid[i] && guid[i] != '}' && k < 32; i++) {
			if (guid[i] != '-')
				im->pdbkey[k++] = guid[i];
		}
		snprintf(im->pdbkey + k, sizeof(im->pdbkey) - k, "%lx",
			 strtoul(v, NULL, 10));
		f = fopen(path, "rb");
		if (!f || fread(im->head, 1, sizeof(im->head), f) !=
				  sizeof(im->head)) {
			if (f)
				fclose(f);
			closedir(d);
			return false;
		}
		fclose(f);
		g_nimg++;
	}
	closedir(d);
	return g_nimg > 0;
}

/* A folder store under g_dir/@p name: the PDBs, and the images when
 * @p images. */
static void make_store(const char *name, bool images)
{
	int i;

	for (i = 0; i < g_nimg; i++) {
		const struct image *im = &g_img[i];

		assert_int_equal(kdt_sh("mkdir -p '%s/%s/%s/%s' && cp '%s/%s' "
					"'%s/%s/%s/%s/'",
					g_dir, name, im->pdbname, im->pdbkey,
					g_kdir, im->pdbname, g_dir, name,
					im->pdbname, im->pdbkey),
				 0);
		if (!images)
			continue;
		assert_int_equal(
			kdt_sh("mkdir -p '%s/%s/%s/%08X%x' && cp '%s/%s' "
			       "'%s/%s/%s/%08X%x/'",
			       g_dir, name, im->file, im->stamp, im->size,
			       g_kdir, im->file, g_dir, name, im->file,
			       im->stamp, im->size),
			0);
	}
}

static char *cmd(struct kp *k, const char *c)
{
	char *out = kp_cmd(k, c, T_MS);

	if (!out)
		fail_msg("kd did not answer '%s'; stdout so far:\n%s\nstderr:"
			 "\n%s",
			 c, k->out.data ? k->out.data : "",
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

static void quit(struct kp *k)
{
	kp_send(k, "q\n");
	assert_int_equal(kp_finish(k, T_MS), 0);
	kp_free(k);
}

/* The page starts with the image's DOS header and its PE signature and
 * COFF file header (stamp included); the optional header may differ
 * (the loader may record the base it chose). */
static bool head_at(const uint8_t *page, const uint8_t *head)
{
	uint32_t lfanew = (uint32_t)head[0x3c] | (uint32_t)head[0x3d] << 8;

	if (lfanew + 24 > 512)
		return false;
	return memcmp(page, head, 0x40) == 0 &&
	       memcmp(page + lfanew, head + lfanew, 24) == 0;
}

/* Zero every page of the dump that starts with an image's headers as
 * mapped; each image must lose at least one. */
static void drop_headers(const char *dump)
{
	size_t len = 0, off;
	uint8_t *d = kdt_read_file(dump, &len);
	int i, hits[MAX_IMAGES] = { 0 };
	FILE *f;

	assert_non_null(d);
	for (off = 0x2000; off + 4096 <= len; off += 4096) {
		for (i = 0; i < g_nimg; i++) {
			if (g_img[i].loaded &&
			    head_at(d + off, g_img[i].head)) {
				memset(d + off, 0, 4096);
				hits[i]++;
				break;
			}
		}
	}
	for (i = 0; i < g_nimg; i++) {
		if (g_img[i].loaded && hits[i] == 0)
			fail_msg("%s: its headers are not in the dump",
				 g_img[i].file);
	}
	f = fopen(dump, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(d, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	free(d);
}

/* The address of the third line of an `x` listing, plus one. */
static uint64_t an_address(const char *x)
{
	const char *p = x;
	char hex[20];
	size_t n = 0;
	int i;

	for (i = 0; i < 2 && p; i++) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	assert_non_null(p);
	while (*p && *p != ' ' && n + 1 < sizeof(hex)) {
		if (*p != '`')
			hex[n++] = *p;
		p++;
	}
	hex[n] = 0;
	return strtoull(hex, NULL, 16) + 1;
}

static bool image_loaded(const char *file)
{
	int i;

	for (i = 0; i < g_nimg; i++) {
		if (strcmp(g_img[i].file, file) == 0)
			return g_img[i].loaded;
	}
	return false;
}

static void test_kdsim_headerless(void **state)
{
	char sock[160], k[200], store[200], dump[200], line[700];
	const char *simargs[] = { "-k",		k,	  "--mem-mib",
				  "96",		"--cpus", "1",
				  "--print-ms", "0",	  NULL };
	struct kc sim;
	struct kp kd;
	char *live_x, *live_ln, *out, *x, *ln;
	uint64_t addr;
	int i;

	(void)state;
	need_tools();
	if (!load_images())
		exit(77);
	make_store("store", true);
	make_store("pdbonly", false);
	snprintf(store, sizeof(store), "%s/store", g_dir);
	snprintf(dump, sizeof(dump), "%s/full.dmp", g_dir);
	snprintf(sock, sizeof(sock), "%s/sim.sock", g_dir);
	snprintf(k, sizeof(k), "com:pipe,port=%s", sock);

	/* Live: headers in memory, the PDBs from the store. */
	kc_spawn(&sim, simargs);
	{
		const char *kdargs[] = { "-k",	  sim.host_connstr,
					 "-bonc", "-y",
					 store,	  NULL };

		kp_start(&kd, kdargs);
	}
	wait_prompt(&kd);
	free(cmd(&kd, ".reload /f"));
	/* simdrv and simnet load only when a scenario asks for them. */
	out = cmd(&kd, "lmv");
	for (i = 0; i < g_nimg; i++) {
		snprintf(line, sizeof(line), "Image name: %s\n", g_img[i].file);
		g_img[i].loaded = strstr(out, line) != NULL;
	}
	assert_true(image_loaded("ntoskrnl.exe"));
	free(out);
	live_x = cmd(&kd, "x nt!*");
	{
		const char *p = live_x;
		int lines = 0;

		while ((p = strstr(p, "nt!")) != NULL && ++lines < 10)
			p++;
		/* A real listing, not an empty one on both sides. */
		assert_true(lines >= 10);
	}
	addr = an_address(live_x);
	snprintf(line, sizeof(line), "ln %llx", (unsigned long long)addr);
	live_ln = cmd(&kd, line);
	snprintf(line, sizeof(line), ".dump /f %s", dump);
	out = cmd(&kd, line);
	if (!strstr(out, "Dump successfully written"))
		fail_msg(".dump /f printed:\n%s", out);
	free(out);
	quit(&kd);
	kc_stop(&sim);
	unlink(sock);
	drop_headers(dump);

	/* The dump, images from the store. */
	{
		const char *kdargs[] = { "-z", dump, "-y", store, NULL };

		kp_start(&kd, kdargs);
	}
	wait_prompt(&kd);
	free(cmd(&kd, "!sym noisy"));
	out = cmd(&kd, ".reload /f");
	snprintf(line, sizeof(line), "mapped image file %s/ntoskrnl.exe/",
		 store);
	if (!strstr(out, line))
		fail_msg("no '%s' in .reload:\n%s", line, out);
	assert_null(strstr(out, "Unable to find image file"));
	free(out);
	free(cmd(&kd, "!sym quiet"));
	out = cmd(&kd, "lm");
	for (i = 0; i < g_nimg; i++) {
		const char *p = strstr(out, g_img[i].pdbname);

		if (!g_img[i].loaded)
			continue;
		/* The row names the PDB file it loaded. */
		if (!p)
			fail_msg("%s: no PDB in lm:\n%s", g_img[i].file, out);
	}
	assert_null(strstr(out, "(no symbols)"));
	free(out);
	/* lmv names the copy of the image it mapped, as WinDbg does. */
	out = cmd(&kd, "lmv m nt");
	snprintf(line, sizeof(line),
		 "    Mapped memory image file: %s/ntoskrnl.exe/", store);
	if (!strstr(out, line))
		fail_msg("no '%s' in lmv:\n%s", line, out);
	free(out);
	x = cmd(&kd, "x nt!*");
	assert_string_equal(x, live_x);
	snprintf(line, sizeof(line), "ln %llx", (unsigned long long)addr);
	ln = cmd(&kd, line);
	assert_string_equal(ln, live_ln);
	assert_non_null(strstr(ln, "nt!"));
	free(x);
	free(ln);
	quit(&kd);

	/* Without the images: nt's image is named as missing, no PDB. */
	snprintf(store, sizeof(store), "%s/pdbonly", g_dir);
	{
		const char *kdargs[] = { "-z", dump, "-y", store, NULL };

		kp_start(&kd, kdargs);
	}
	wait_prompt(&kd);
	out = cmd(&kd, ".reload /f");
	assert_non_null(strstr(out, "*** ERROR: Unable to find image file "
				    "ntoskrnl.exe"));
	free(out);
	out = cmd(&kd, "lm m nt");
	assert_null(strstr(out, "pdb symbols"));
	free(out);
	quit(&kd);
	free(live_x);
	free(live_ln);
}

static int setup(void **state)
{
	(void)state;
	snprintf(g_dir, sizeof(g_dir), "/tmp/kdimgkey.XXXXXX");
	return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return kdt_sh("rm -rf '%s'", g_dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_triage_lmv),
		cmocka_unit_test(test_triage_empty_store),
		cmocka_unit_test(test_kdsim_headerless),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
