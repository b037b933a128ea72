/* SPDX-License-Identifier: MIT */
/*
 * `kd -z image.dll` as a real process, cross-checked against LLVM's own
 * readers of the same file.  A small DLL with code and data exports, a
 * static function and a large zero-initialised array is built at test
 * time with clang-cl + lld-link (/DEBUG, so it has a PDB and a debug
 * directory) for x64, x86 and ARM64; kdsim's mingw-built kernel images
 * are read too when the build has them.  For each image:
 *  - lm / lmv: base, end, timestamp, checksum and size against
 *    `llvm-readobj --file-headers` and `llvm-objdump -p`;
 *  - x mod!*: every named export of `llvm-readobj --coff-exports` at its
 *    address, and no export at a wrong one;
 *  - db at every section: the file's bytes at PointerToRawData, and zeros
 *    past the raw data where VirtualSize is larger (not the next
 *    section's bytes, which follow in the file);
 *  - u <export>: the first instruction's bytes and mnemonic against
 *    `llvm-objdump -d`; ? and ln on exports.
 * Then what an image cannot do (r, g, p, t, bp, !db, memory outside the
 * image) is an error line and exit 1, and damaged files (truncated,
 * garbage, overlapping sections, a bare "MZ") are one error line and
 * exit 3.  Skipped (77) when clang-cl, lld-link or the LLVM tools are
 * missing.
 */
#include "kd_proc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <kd/common.h>

#include "testsupport.h"

#define T_MS 20000
#define MAX_SEC 16
#define MAX_EXP 64

struct sec {
	char name[16];
	uint32_t va, vsize, raw_size, raw_ptr;
};

struct exp {
	char name[64];
	uint32_t rva;
};

/* One image file and what LLVM says about it. */
struct img {
	char path[256];
	char mod[64]; /* the module name kd must give it */
	bool ptr64, arm64;
	bool repro; /* a REPRO debug entry: lmv's /Brepro form */
	uint64_t base;
	uint32_t size, timestamp, checksum;
	struct sec sec[MAX_SEC];
	unsigned nsec;
	struct exp exp[MAX_EXP];
	unsigned nexp;
	uint8_t *file;
	size_t len;
};

static char dir[64];
static char clang_cl[32];
static struct img imgs[3]; /* x64, x86, arm64 */

static const char src[] =
	"int g_counter = 3;\n"
	"__declspec(dllexport) char ExpBuffer[0x3000];\n"
	"__declspec(dllexport) int ExpTable[4] = { 0x11111111, 0x22222222,\n"
	"\t0x33333333, 0x44444444 };\n"
	/* Gr\u00fc\u00dfe \u65e5\u672c, U+1F600 as a surrogate pair, a
	 * right-to-left override (shown as a dot), A. */
	"__declspec(dllexport) unsigned short WideText[] = { 0x47, 0x72,\n"
	"\t0xFC, 0xDF, 0x65, 0x20, 0x65E5, 0x672C, 0xD83D, 0xDE00, 0x202E,\n"
	"\t0x41, 0 };\n"
	"static int helper(int a)\n{\n\tExpBuffer[a & 0xfff] = 1;\n"
	"\treturn a * 7;\n}\n"
	"__declspec(dllexport) int ExpAdd(int a, int b)\n{\n"
	"\tg_counter += a;\n\treturn a + b + helper(g_counter);\n}\n"
	"__declspec(dllexport) int ExpMul(int a, int b)\n{\n"
	"\treturn a * b + ExpTable[a & 3];\n}\n"
	"int _DllMainCRTStartup(void *h, unsigned r, void *p)\n{\n"
	"\treturn 1;\n}\n";

/* ---- running tools ---- */

static bool have(const char *tool)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
	return system(cmd) == 0;
}

static int run(const char *fmt, ...) KD_PRINTF(1, 2);

static int run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st != 0)
		fprintf(stderr, "command failed (%d): %s\n", st, cmd);
	return st;
}

/* stdout of a shell command, NUL-terminated (free()); fails the test. */
static char *capture(const char *fmt, ...) KD_PRINTF(1, 2);

static char *capture(const char *fmt, ...)
{
	char cmd[1024];
	struct kp_buf b = { 0 };
	char chunk[4096];
	va_list ap;
	FILE *p;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	assert_non_null(p);
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		kp_buf_add(&b, chunk, n);
	if (pclose(p) != 0)
		fail_msg("'%s' failed", cmd);
	if (!b.data)
		kp_buf_add(&b, "", 0);
	return b.data;
}

/* kd -z @p path -c "@p cmds; q": stdout into *out; the exit status. */
static int image_z(const char *path, const char *cmds, char **out)
{
	char c[1024];
	const char *args[] = { "-z", path, "-c", c, NULL };
	char *err = NULL;
	int st;

	snprintf(c, sizeof(c), "%s; q", cmds);
	st = kp_run(args, NULL, T_MS, out, &err);
	if (st < 0)
		fail_msg("kd -z %s hung; stderr:\n%s", path, err);
	free(err);
	return st;
}

/*
 * One kd -z session per image for the cross-checks (a process per
 * command would be slow under ASan): z_open() starts it and keeps its
 * banner, z_cmd() gives one command's output with a '\n' in front (so a
 * line is always "\n" + line), z_close() quits and gives the exit status.
 */
static struct kp zk;
static char *zbanner;

static void z_open(const char *path)
{
	const char *args[] = { "-z", path, NULL };

	kp_start(&zk, args);
	zbanner = kp_wait_prompt(&zk, T_MS);
	if (!zbanner)
		fail_msg("kd -z %s: no prompt; stdout:\n%s\nstderr:\n%s", path,
			 zk.out.data ? zk.out.data : "",
			 zk.err.data ? zk.err.data : "");
}

static char *z_cmd(const char *c)
{
	char *out = kp_cmd(&zk, c, T_MS), *r;

	if (!out)
		fail_msg("kd did not answer '%s'; stdout:\n%s", c,
			 zk.out.data ? zk.out.data : "");
	r = malloc(strlen(out) + 2);
	assert_non_null(r);
	r[0] = '\n';
	memcpy(r + 1, out, strlen(out) + 1);
	free(out);
	return r;
}

static int z_close(void)
{
	int st;

	kp_send(&zk, "q\n");
	st = kp_finish(&zk, T_MS);
	kp_free(&zk);
	free(zbanner);
	zbanner = NULL;
	return st;
}

/* ---- what LLVM says ---- */

static const char *field(const char *txt, const char *name)
{
	const char *p = txt;
	size_t n = strlen(name);

	while ((p = strstr(p, name)) != NULL) {
		if ((p == txt || p[-1] == ' ' || p[-1] == '\n') &&
		    strncmp(p + n, ":", 1) == 0)
			return p + n + 1;
		p += n;
	}
	return NULL;
}

static void read_llvm(struct img *im)
{
	char *hdr = capture("llvm-readobj --file-headers --sections "
			    "--coff-exports --coff-debug-directory '%s'",
			    im->path);
	char *priv = capture("llvm-objdump -p '%s'", im->path);
	const char *p, *q;
	unsigned long long v;

	assert_non_null(p = field(hdr, "ImageBase"));
	im->base = strtoull(p, NULL, 0);
	assert_non_null(p = field(hdr, "SizeOfImage"));
	im->size = (uint32_t)strtoul(p, NULL, 0);
	assert_non_null(p = field(hdr, "TimeDateStamp"));
	assert_non_null(q = strstr(p, "(0x"));
	im->timestamp = (uint32_t)strtoul(q + 1, NULL, 16);
	assert_non_null(p = strstr(priv, "\nCheckSum"));
	assert_int_equal(sscanf(p, "\nCheckSum %llx", &v), 1);
	im->checksum = (uint32_t)v;
	im->ptr64 = strstr(hdr, "AddressSize: 64bit") != NULL;
	im->arm64 = strstr(hdr, "IMAGE_FILE_MACHINE_ARM64") != NULL;
	im->repro = strstr(hdr, "Type: Repro (0x10)") != NULL;
	/* Sections: Name, VirtualSize, VirtualAddress, RawDataSize,
	 * PointerToRawData, in that order inside each "Section {". */
	for (p = hdr; (p = strstr(p, "Section {")) && im->nsec < MAX_SEC; p++) {
		struct sec *s = &im->sec[im->nsec++];

		assert_int_equal(sscanf(field(p, "Name"), " %15s", s->name), 1);
		s->vsize = (uint32_t)strtoul(field(p, "VirtualSize"), NULL, 0);
		s->va = (uint32_t)strtoul(field(p, "VirtualAddress"), NULL, 0);
		s->raw_size = (uint32_t)strtoul(field(p, "RawDataSize"), NULL,
						0);
		s->raw_ptr = (uint32_t)strtoul(field(p, "PointerToRawData"),
					       NULL, 0);
	}
	for (p = hdr; (p = strstr(p, "Export {")) && im->nexp < MAX_EXP; p++) {
		struct exp *e = &im->exp[im->nexp];
		const char *name = field(p, "Name");

		if (sscanf(name, " %63[^\n]", e->name) != 1 ||
		    strncmp(e->name, "RVA:", 4) == 0)
			continue; /* the unnamed ordinal-0 entry */
		e->rva = (uint32_t)strtoul(field(p, "RVA"), NULL, 0);
		im->nexp++;
	}
	free(hdr);
	free(priv);
	assert_true(im->nsec > 0);
	im->file = kdt_read_file(im->path, &im->len);
	assert_non_null(im->file);
}

/* kd's address form: 00000001`80001000, or 10001000 on 32 bits. */
static void fmt_addr(const struct img *im, uint64_t a, char *out, size_t cap)
{
	if (im->ptr64)
		snprintf(out, cap, "%08llx`%08llx",
			 (unsigned long long)(a >> 32),
			 (unsigned long long)(a & 0xffffffffu));
	else
		snprintf(out, cap, "%08llx", (unsigned long long)a);
}

/* ---- fixture ---- */

static int build_dll(struct img *im, const char *triple, const char *machine)
{
	char c[160], obj[160];

	snprintf(c, sizeof(c), "%s/prog.c", dir);
	snprintf(obj, sizeof(obj), "%s/prog_%s.obj", dir, machine);
	snprintf(im->path, sizeof(im->path), "%s/prog_%s.dll", dir, machine);
	snprintf(im->mod, sizeof(im->mod), "prog_%s", machine);
	if (run("%s --target=%s-pc-windows-msvc /nologo /c /Od /GS- /Zl /Z7 "
		"-Wno-everything /Fo%s %s",
		clang_cl, triple, obj, c) != 0)
		return -1;
	return run("lld-link /nologo /DLL /DEBUG /PDB:%s/prog_%s.pdb "
		   "/NODEFAULTLIB /ENTRY:_DllMainCRTStartup /MACHINE:%s "
		   "/OUT:%s %s",
		   dir, machine, machine, im->path, obj);
}

static int setup(void **state)
{
	char c[160];
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/kd_image_XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(c, sizeof(c), "%s/prog.c", dir);
	f = fopen(c, "w");
	if (!f || fputs(src, f) < 0 || fclose(f) != 0)
		return -1;
	if (build_dll(&imgs[0], "x86_64", "x64") != 0 ||
	    build_dll(&imgs[1], "i686", "x86") != 0 ||
	    build_dll(&imgs[2], "aarch64", "arm64") != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(imgs) / sizeof(imgs[0]); i++)
		free(imgs[i].file);
	run("rm -rf '%s'", dir);
	return 0;
}

/* ---- the checks, per image ---- */

static void check_lm(const struct img *im)
{
	char *out = NULL, want[384], a[24], b[24];
	const char *p;

	out = z_cmd("lm; lmv");
	fmt_addr(im, im->base, a, sizeof(a));
	fmt_addr(im, im->base + im->size, b, sizeof(b));
	/* WinDbg's -z banner, then the one module. */
	snprintf(want, sizeof(want), "Loading Dump File [%s]\n", im->path);
	assert_non_null(strstr(zbanner, want));
	snprintf(want, sizeof(want), "ModLoad: %s %s   %s\n", a, b, im->path);
	assert_non_null(strstr(zbanner, want));
	/* The executable path is said once, as kd says it. */
	assert_non_null(p = strstr(zbanner, "Executable search path is:"));
	assert_null(strstr(p + 1, "Executable search path is:"));
	snprintf(want, sizeof(want), "\n%s %s   %-10s ", a, b, im->mod);
	if (!strstr(out, want))
		fail_msg("no '%s' in:\n%s", want, out);
	if (im->repro) {
		assert_non_null(strstr(out, "    Image was built with /Brepro "
					    "flag.\n"));
		snprintf(want, sizeof(want),
			 "    Timestamp:        %08X (This is a reproducible "
			 "build file hash, not a timestamp)\n",
			 im->timestamp);
	} else {
		assert_null(strstr(out, "/Brepro"));
		snprintf(want, sizeof(want), "(%08X)\n", im->timestamp);
	}
	if (!strstr(out, want))
		fail_msg("no '%s' in:\n%s", want, out);
	snprintf(want, sizeof(want), "CheckSum:         %08X\n", im->checksum);
	assert_non_null(strstr(out, want));
	snprintf(want, sizeof(want), "ImageSize:        %08X\n", im->size);
	assert_non_null(strstr(out, want));
	free(out);
}

/* Every named export at its address; no export name at another one. */
static void check_exports(const struct img *im)
{
	char *out = NULL, cmd[96], want[160], a[24];
	const char *p;
	unsigned i;

	assert_true(im->nexp > 0);
	snprintf(cmd, sizeof(cmd), "x %s!*", im->mod);
	out = z_cmd(cmd);
	for (i = 0; i < im->nexp; i++) {
		fmt_addr(im, im->base + im->exp[i].rva, a, sizeof(a));
		snprintf(want, sizeof(want), "%s %s!%s ", a, im->mod,
			 im->exp[i].name);
		if (!strstr(out, want))
			fail_msg("no '%s' in:\n%s", want, out);
		/* The same name at another address would be wrong. */
		snprintf(want, sizeof(want), " %s!%s ", im->mod,
			 im->exp[i].name);
		p = strstr(out, want);
		assert_non_null(p);
		assert_null(strstr(p + 1, want));
	}
	free(out);
}

/* The bytes of one `db` line ("addr  xx xx ...-xx ...  ascii"). */
static size_t db_bytes(const char *line, uint8_t *out, size_t cap)
{
	const char *p = strstr(line, "  ");
	size_t n = 0;

	if (!p)
		return 0;
	p += 2;
	while (n < cap && n < 16) {
		unsigned v;

		if (sscanf(p, "%2x", &v) != 1 || p[2] == '?')
			break;
		out[n++] = (uint8_t)v;
		p += 3;
	}
	return n;
}

/* `db` of @p len bytes at @p rva (a multiple of 16) into @p out. */
static void image_db(const struct img *im, uint32_t rva, uint8_t *out,
		     size_t len)
{
	char *txt = NULL, cmd[96], a[24], key[32];
	const char *p;
	size_t got = 0;

	fmt_addr(im, im->base + rva, a, sizeof(a));
	snprintf(cmd, sizeof(cmd), "db %llx L%zx",
		 (unsigned long long)im->base + rva, len);
	txt = z_cmd(cmd);
	assert_null(strstr(txt, "??"));
	snprintf(key, sizeof(key), "\n%s  ", a); /* the first db line */
	p = strstr(txt, key);
	if (!p)
		fail_msg("no '%s' in:\n%s", key + 1, txt);
	p++;
	while (p && got < len) {
		got += db_bytes(p, out + got, len - got);
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	if (got != len)
		fail_msg("db gave %zu of %zu bytes:\n%s", got, len, txt);
	free(txt);
}

static void check_sections(const struct img *im)
{
	uint8_t got[64], want[64];
	unsigned i;

	for (i = 0; i < im->nsec; i++) {
		const struct sec *s = &im->sec[i];
		uint32_t raw = s->raw_size < s->vsize ? s->raw_size : s->vsize;

		/* The first bytes come from PointerToRawData. */
		assert_true(s->raw_ptr + sizeof(want) <= im->len);
		memcpy(want, im->file + s->raw_ptr, sizeof(want));
		if (raw < sizeof(want))
			memset(want + raw, 0, sizeof(want) - raw);
		image_db(im, s->va, got, sizeof(got));
		if (memcmp(got, want, sizeof(got)) != 0)
			fail_msg("section %s at RVA 0x%x: db differs from the "
				 "file at 0x%x",
				 s->name, s->va, s->raw_ptr);
		/* Past the raw data, inside VirtualSize: zeros, not the
		 * file bytes that follow (the next section's). */
		if (s->vsize >= s->raw_size + 0x40) {
			image_db(im, s->va + s->raw_size, got, 0x40);
			memset(want, 0, 0x40);
			assert_memory_equal(got, want, 0x40);
		}
	}
}

#define NINSN 6

struct insn {
	char hex[40]; /* the bytes, no blanks: "4883ec38" */
	char mn[32];
};

/* llvm-objdump's instructions from @p va on (at most NINSN); the count. */
static unsigned objdump_insns(const struct img *im, uint64_t va,
			      struct insn *out)
{
	char *txt = capture("llvm-objdump -d -M intel --start-address=0x%llx "
			    "--stop-address=0x%llx '%s'",
			    (unsigned long long)va, (unsigned long long)va + 32,
			    im->path);
	char key[32], *p;
	unsigned n = 0;

	snprintf(key, sizeof(key), "\n%llx:", (unsigned long long)va);
	p = strstr(txt, key);
	if (!p)
		fail_msg("no '%s' in objdump:\n%s", key + 1, txt);
	/* "180001000: 48 83 ec 38   \tsub\trsp, 56" per line. */
	while (p && n < NINSN) {
		struct insn *in = &out[n];
		size_t h = 0;

		p = strchr(p + 1, ':');
		if (!p)
			break;
		p++;
		for (;;) {
			while (*p == ' ')
				p++;
			if (!isxdigit((unsigned char)p[0]) ||
			    !isxdigit((unsigned char)p[1]) ||
			    (p[2] != ' ' && p[2] != '\t'))
				break;
			if (h + 2 < sizeof(in->hex)) {
				in->hex[h++] = p[0];
				in->hex[h++] = p[1];
			}
			p += 2;
		}
		in->hex[h] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (h == 0 || sscanf(p, "%31s", in->mn) != 1)
			break;
		n++;
		p = strchr(p, '\n');
	}
	free(txt);
	return n;
}

/*
 * u on each code export: the instructions objdump decodes there, bytes
 * and mnemonic, one for one (so the image is decoded as its own
 * machine); ? and ln on the same export.
 */
static void check_u(const struct img *im)
{
	unsigned i, k, checked = 0;

	for (i = 0; i < im->nexp; i++) {
		const struct exp *e = &im->exp[i];
		char cmd[512], a[24], line[160], hex[40], mn[32];
		struct insn want[NINSN];
		char *out = NULL;
		const char *p;
		uint64_t va = im->base + e->rva;
		unsigned n;

		if (strncmp(e->name, "Exp", 3) != 0 ||
		    strcmp(e->name, "ExpTable") == 0 ||
		    strcmp(e->name, "ExpBuffer") == 0)
			continue; /* code exports only */
		memset(want, 0, sizeof(want));
		n = objdump_insns(im, va, want);
		assert_true(n >= 3);
		snprintf(cmd, sizeof(cmd),
			 "u %s!%s L%u; ? %s!%s+0x10; ln %s!%s+2", im->mod,
			 e->name, n, im->mod, e->name, im->mod, e->name);
		out = z_cmd(cmd);
		snprintf(line, sizeof(line), "\n%s!%s:\n", im->mod, e->name);
		assert_non_null(p = strstr(out, line));
		p += strlen(line);
		for (k = 0; k < n; k++) {
			/* A label line where the symbol changes. */
			while (p && !isxdigit((unsigned char)*p))
				p = strchr(p, '\n') ? strchr(p, '\n') + 1 :
						      NULL;
			assert_non_null(p);
			if (k == 0) {
				fmt_addr(im, va, a, sizeof(a));
				assert_int_equal(strncmp(p, a, strlen(a)), 0);
			}
			p = strchr(p, ' ');
			assert_non_null(p);
			assert_int_equal(sscanf(p, " %39s %31s", hex, mn), 2);
			if (im->arm64) {
				/* kd shows the instruction word, objdump
				 * its bytes in file order. */
				const char *w = want[k].hex;
				char word[9];

				assert_int_equal(strlen(w), 8);
				snprintf(word, sizeof(word), "%.2s%.2s%.2s%.2s",
					 w + 6, w + 4, w + 2, w);
				assert_string_equal(hex, word);
			} else {
				assert_string_equal(hex, want[k].hex);
			}
			assert_string_equal(mn, want[k].mn);
			p = strchr(p, '\n');
			p = p ? p + 1 : NULL;
		}
		/* An x86 image is not decoded as x64. */
		if (!im->ptr64) {
			static const char *const r64[] = {
				"rsp", "rbp", "rip", "rax", "rcx", "rdx"
			};
			size_t r;

			for (r = 0; r < sizeof(r64) / sizeof(r64[0]); r++)
				if (strstr(out, r64[r]))
					fail_msg("x86 code decoded as x64:\n%s",
						 out);
		}
		fmt_addr(im, va + 0x10, a, sizeof(a));
		snprintf(line, sizeof(line), " = %s\n", a);
		assert_non_null(strstr(out, line));
		snprintf(line, sizeof(line), "%s!%s+0x2 ", im->mod, e->name);
		assert_non_null(strstr(out, line));
		free(out);
		checked++;
	}
	assert_int_equal(checked, 2);
}

/* Every cross-check on one image, in one session where all succeed. */
static void check_image(const struct img *im, bool code)
{
	z_open(im->path);
	check_lm(im);
	check_exports(im);
	check_sections(im);
	if (code)
		check_u(im);
	assert_int_equal(z_close(), 0);
}

static void test_x64(void **state)
{
	(void)state;
	read_llvm(&imgs[0]);
	check_image(&imgs[0], true);
}

static void test_x86(void **state)
{
	(void)state;
	read_llvm(&imgs[1]);
	assert_false(imgs[1].ptr64);
	check_image(&imgs[1], true);
}

static void test_arm64(void **state)
{
	(void)state;
	read_llvm(&imgs[2]);
	assert_true(imgs[2].arm64);
	check_image(&imgs[2], true);
}

/* A data export read as data: the initialised table, then dq/dd. */
static void test_data(void **state)
{
	const struct img *im = &imgs[0];
	char *out = NULL;

	(void)state;
	assert_int_equal(image_z(im->path,
				 "dd prog_x64!ExpTable L4; "
				 "? dwo(prog_x64!ExpTable+4)",
				 &out),
			 0);
	assert_non_null(strstr(out, "  11111111 22222222 33333333 44444444"));
	assert_non_null(strstr(out, "Evaluate expression: 572662306 = "
				    "00000000`22222222"));
	free(out);
	/* du: UTF-16 text as UTF-8, not dots; the override stays a dot. */
	assert_int_equal(image_z(im->path, "du prog_x64!WideText", &out), 0);
	if (!strstr(out, "  \"Gr\xc3\xbc\xc3\x9f"
			 "e \xe6\x97\xa5\xe6\x9c\xac"
			 "\xf0\x9f\x98\x80.A\"\n"))
		fail_msg("du prog_x64!WideText:\n%s", out);
	free(out);
}

/* What needs a machine, and memory the image does not have. */
static void test_refused(void **state)
{
	const struct img *im = &imgs[0];
	char *out = NULL, cmd[96], a[24], want[96];
	const char *p;

	(void)state;
	assert_int_equal(image_z(im->path, "r", &out), 1);
	assert_non_null(strstr(out, "Unable to get register context"));
	free(out);
	assert_int_equal(image_z(im->path, "g", &out), 1);
	assert_non_null(strstr(out, "Cannot resume an image file target"));
	free(out);
	assert_int_equal(image_z(im->path, "p", &out), 1);
	assert_non_null(strstr(out, "Cannot step an image file target"));
	free(out);
	assert_int_equal(image_z(im->path, "t", &out), 1);
	assert_non_null(strstr(out, "Cannot step an image file target"));
	free(out);
	assert_int_equal(image_z(im->path, "bp prog_x64!ExpAdd", &out), 1);
	assert_non_null(strstr(out, "Cannot set breakpoints in an image file "
				    "target"));
	free(out);
	assert_int_equal(image_z(im->path, "!db 1000", &out), 1);
	assert_non_null(strstr(out, "Cannot read physical memory of an image "
				    "file target"));
	assert_null(strstr(out, "??"));
	free(out);
	/* Outside the image: an error, never `??` made up. */
	assert_int_equal(image_z(im->path, "db 0", &out), 1);
	fmt_addr(im, im->base, a, sizeof(a));
	snprintf(want, sizeof(want),
		 "00000000`00000000 is not in the image file (%s - ", a);
	assert_non_null(strstr(out, want));
	assert_null(strstr(out, "??"));
	free(out);
	/* Across the end: the bytes that are there, then the error. */
	snprintf(cmd, sizeof(cmd), "db %llx L40",
		 (unsigned long long)(im->base + im->size - 0x20));
	assert_int_equal(image_z(im->path, cmd, &out), 1);
	fmt_addr(im, im->base + im->size - 0x10, a, sizeof(a));
	snprintf(want, sizeof(want), "\n%s  ", a);
	assert_non_null(p = strstr(out, want));
	fmt_addr(im, im->base + im->size, a, sizeof(a));
	snprintf(want, sizeof(want), "\n%s  ", a);
	assert_null(strstr(p, want));
	snprintf(want, sizeof(want), "%s is not in the image file", a);
	assert_non_null(strstr(p, want));
	assert_null(strstr(out, "??"));
	free(out);
	assert_int_equal(image_z(im->path, "u 0", &out), 1);
	assert_non_null(strstr(out, "is not in the image file"));
	assert_null(strstr(out, "??"));
	free(out);
	assert_int_equal(image_z(im->path, "~1s", &out), 1);
	assert_non_null(strstr(out, "1 is not a valid processor number"));
	free(out);
}

/* A damaged file: one line saying why, exit 3, and no crash. */
static void check_damaged(const char *path, const char *why)
{
	const char *args[] = { "-z", path, "-c", "lm; q", NULL };
	char *out = NULL, *err = NULL;
	const char *p;

	assert_int_equal(kp_run(args, NULL, T_MS, &out, &err), 3);
	p = strstr(out, "Could not open image file [");
	if (!p)
		fail_msg("%s: no error line in:\n%s", path, out);
	assert_null(strstr(p + 1, "Could not open image file ["));
	if (why && !strstr(p, why))
		fail_msg("%s: no '%s' in:\n%s", path, why, out);
	assert_null(strstr(out, "ModLoad:"));
	assert_non_null(strstr(err, "kd: could not open"));
	free(out);
	free(err);
}

static void write_file(const char *path, const uint8_t *d, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(d, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void test_damaged(void **state)
{
	const struct img *im = &imgs[0];
	char path[160];
	uint8_t *b = malloc(im->len > 4096 ? im->len : 4096);
	uint32_t lfanew, st;
	size_t i;

	(void)state;
	assert_non_null(b);
	snprintf(path, sizeof(path), "%s/damaged.dll", dir);
	/* Truncated in the middle of its sections. */
	write_file(path, im->file, im->len * 2 / 3);
	check_damaged(path, "past the end of the file");
	/* "MZ" and nothing else. */
	write_file(path, (const uint8_t *)"MZ", 2);
	check_damaged(path, "not a PE image");
	/* "MZ" and garbage. */
	srand(7);
	b[0] = 'M';
	b[1] = 'Z';
	for (i = 2; i < 4096; i++)
		b[i] = (uint8_t)rand();
	write_file(path, b, 4096);
	check_damaged(path, NULL);
	/* The second section moved into the first. */
	memcpy(b, im->file, im->len);
	lfanew = kd_get_le32(b + 0x3c);
	st = lfanew + 24 + kd_get_le16(b + lfanew + 20);
	kd_put_le32(b + st + 40 + 12, kd_get_le32(b + st + 12) + 0x10);
	write_file(path, b, im->len);
	check_damaged(path, "overlaps");
	/* SizeOfImage smaller than the sections. */
	memcpy(b, im->file, im->len);
	kd_put_le32(b + lfanew + 24 + 56, 0x2000);
	write_file(path, b, im->len);
	check_damaged(path, "past SizeOfImage");
	free(b);
	unlink(path);
}

/* kdsim's mingw images, when this build made them. */
static void test_kdsim_images(void **state)
{
	static const struct {
		const char *file, *mod;
	} files[] = {
		{ "ntoskrnl.exe", "nt" },
		{ "hal.dll", "hal" },
		{ "simdrv.sys", "simdrv" },
	};
	unsigned i, n = 0;

	(void)state;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct img *im = calloc(1, sizeof(*im));
		char rel[128];

		assert_non_null(im);
		snprintf(rel, sizeof(rel), "firmware-stubs/sim/kernel/%s",
			 files[i].file);
		if (kdt_build_path(im->path, sizeof(im->path), rel) != 0 ||
		    access(im->path, R_OK) != 0) {
			free(im);
			continue;
		}
		snprintf(im->mod, sizeof(im->mod), "%s", files[i].mod);
		read_llvm(im);
		check_image(im, false);
		free(im->file);
		free(im);
		n++;
	}
	if (n == 0)
		skip();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_x64),
		cmocka_unit_test(test_x86),
		cmocka_unit_test(test_arm64),
		cmocka_unit_test(test_data),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_kdsim_images),
	};

	if (!kp_kd_path())
		return 77;
	if (have("clang-cl-14"))
		snprintf(clang_cl, sizeof(clang_cl), "clang-cl-14");
	else if (have("clang-cl"))
		snprintf(clang_cl, sizeof(clang_cl), "clang-cl");
	if (!clang_cl[0] || !have("lld-link") || !have("llvm-readobj") ||
	    !have("llvm-objdump")) {
		fputs("skipped: clang-cl, lld-link, llvm-readobj or "
		      "llvm-objdump not found\n",
		      stderr);
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
