/* SPDX-License-Identifier: MIT */
/*
 * kdsim's kernel images and the PDBs built next to them (issue 15), checked
 * against LLVM's own tools and the image bytes, never against openkd's
 * PDB reader:
 *  - each image's CodeView RSDS record (read from the file here and by
 *    llvm-readobj --coff-debug-directory) names <image>.pdb and carries the
 *    GUID and age llvm-pdbutil dump --summary reads from that PDB;
 *  - every function export is an S_PUB32 at the export's address;
 *  - the kernel's procedures that call others have .pdata covering them;
 *  - the kernel's non-exported KiSimWorkerInner and MiSimComputeStep are
 *    S_LPROC32 in the module stream and S_LPROCREF in the globals, absent
 *    from the publics and the export table, and on the workload's call
 *    path in the code (RtlFibonacci -> MiSimComputeStep ->
 *    KiSimWorkerInner);
 *  - live: kd on kdsim stops in KiSimWorkerInner (address from the PDB)
 *    and `k` returns through MiSimComputeStep, RtlFibonacci, KeWorkerStep
 *    and KiSystemStartup, each return address inside the extent the PDB
 *    gives that procedure.
 */
#include "kdsim_client.h"
#include "kd_proc.h"
#include "testsupport.h"

#include <kdsim/pe.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define T_MS 20000
#define OUT_MAX (4u << 20)

static const char *const images[] = {
	"ntoskrnl.exe", "hal.dll", "kdcom.dll", "simdrv.sys", "simnet.sys",
};

static char pdbutil[256], readobj[256];

/* ------------------------------------------------------------------ */
/* Files and tools                                                     */
/* ------------------------------------------------------------------ */

static void kernel_path(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", KD_KDSIM_KERNEL_DIR, name);
}

/* First of @p names found by the shell, or "" when none is installed. */
static void find_tool(char *out, size_t cap, const char *names)
{
	char cmd[256];
	FILE *p;

	out[0] = '\0';
	snprintf(cmd, sizeof(cmd), "command -v %s 2>/dev/null", names);
	p = popen(cmd, "r");
	if (!p)
		return;
	if (!fgets(out, (int)cap, p))
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	pclose(p);
}

/* Run "@p tool @p args 'path'" and return its stdout (exit status 0). */
static char *run_tool(const char *tool, const char *args, const char *path)
{
	char cmd[1024];
	size_t n = 0, got;
	char *buf = malloc(OUT_MAX + 1);
	FILE *p;

	assert_non_null(buf);
	snprintf(cmd, sizeof(cmd), "%s %s '%s'", tool, args, path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (n < OUT_MAX && (got = fread(buf + n, 1, OUT_MAX - n, p)) > 0)
		n += got;
	buf[n] = '\0';
	if (pclose(p) != 0)
		fail_msg("'%s' failed:\n%s", cmd, buf);
	return buf;
}

struct image {
	uint8_t *file;
	size_t len;
	uint8_t *mapped; /* SizeOfImage bytes, as kdsim lays it out */
	struct kdsim_pe pe;
};

static void image_load(const char *name, struct image *img)
{
	char path[512];

	kernel_path(path, sizeof(path), name);
	img->file = kdt_read_file(path, &img->len);
	assert_non_null(img->file);
	assert_int_equal(kdsim_pe_parse(&img->pe, img->file, img->len, NULL),
			 KD_OK);
	img->mapped = malloc(img->pe.size_of_image);
	assert_non_null(img->mapped);
	assert_int_equal(kdsim_pe_layout(&img->pe, img->file, img->len,
					 img->mapped, img->pe.size_of_image),
			 KD_OK);
}

static void image_free(struct image *img)
{
	free(img->file);
	free(img->mapped);
}

/* ------------------------------------------------------------------ */
/* The RSDS record, read from the image bytes                          */
/* ------------------------------------------------------------------ */

struct rsds {
	uint8_t guid[16];
	uint32_t age;
	char name[260];
};

#define DEBUG_DIR_ENTRY 28u
#define DEBUG_TYPE_CODEVIEW 2u

/* The CodeView entry of the laid-out image's debug directory. */
static void image_rsds(const struct image *img, struct rsds *r)
{
	const uint8_t *m = img->mapped;
	uint32_t size = img->pe.size_of_image;
	uint32_t pe = kd_get_le32(m + 0x3C), dir, dsize, i;
	bool found = false;

	/* PE32+: data directories at optional header + 112, debug is #6. */
	assert_true((uint64_t)pe + 24 + 112 + 7 * 8 <= size);
	dir = kd_get_le32(m + pe + 24 + 112 + 6 * 8);
	dsize = kd_get_le32(m + pe + 24 + 112 + 6 * 8 + 4);
	assert_true(dir != 0 && dsize >= DEBUG_DIR_ENTRY &&
		    dsize % DEBUG_DIR_ENTRY == 0 &&
		    (uint64_t)dir + dsize <= size);
	for (i = 0; i < dsize / DEBUG_DIR_ENTRY && !found; i++) {
		const uint8_t *e = m + dir + i * DEBUG_DIR_ENTRY;
		uint32_t len = kd_get_le32(e + 16), rva = kd_get_le32(e + 20);
		size_t nl;

		if (kd_get_le32(e + 12) != DEBUG_TYPE_CODEVIEW)
			continue;
		assert_true(len > 24 && (uint64_t)rva + len <= size);
		assert_memory_equal(m + rva, "RSDS", 4);
		memcpy(r->guid, m + rva + 4, 16);
		r->age = kd_get_le32(m + rva + 20);
		nl = strnlen((const char *)m + rva + 24, len - 24);
		assert_true(nl < len - 24 && nl < sizeof(r->name));
		memcpy(r->name, m + rva + 24, nl);
		r->name[nl] = '\0';
		found = true;
	}
	assert_true(found);
}

/* {0CC10391-F2E5-C30F-4C4C-44205044422E}: the first three fields are
 * little-endian in the record. */
static void guid_text(const uint8_t *g, char *out, size_t cap)
{
	snprintf(out, cap,
		 "{%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-"
		 "%02X%02X%02X%02X%02X%02X}",
		 g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9],
		 g[10], g[11], g[12], g[13], g[14], g[15]);
}

/* ------------------------------------------------------------------ */
/* llvm-pdbutil records                                                */
/* ------------------------------------------------------------------ */

/* A record "KIND [size = N] `name`" and its next line, or NULL. */
static const char *pdb_record(const char *out, const char *kind,
			      const char *name)
{
	char key[160];
	const char *p;

	snprintf(key, sizeof(key), "| %s [size = ", kind);
	for (p = strstr(out, key); p; p = strstr(p + 1, key)) {
		const char *q = strchr(p, '`');
		size_t n = strlen(name);

		if (q && strncmp(q + 1, name, n) == 0 && q[1 + n] == '`')
			return strchr(q, '\n');
	}
	return NULL;
}

/* "addr = 0003:4736" after a record: the RVA of section 3 + 4736. */
static uint32_t pdb_rva(const struct image *img, const char *rec)
{
	const char *a, *eol = strchr(rec + 1, '\n');
	unsigned sec, off;

	a = strstr(rec, "addr = ");
	assert_true(a && (!eol || a < eol));
	assert_int_equal(sscanf(a, "addr = %u:%u", &sec, &off), 2);
	assert_true(sec >= 1 && sec <= img->pe.sections);
	return kd_get_le32(img->file + img->pe.section_table + (sec - 1) * 40u +
			   12) +
	       off;
}

/* The number after "@p key = " in a record's line. */
static uint32_t pdb_field(const char *rec, const char *key)
{
	char k[64];
	const char *a, *eol = strchr(rec + 1, '\n');

	snprintf(k, sizeof(k), "%s = ", key);
	a = strstr(rec, k);
	assert_true(a && (!eol || a < eol));
	return (uint32_t)strtoul(a + strlen(k), NULL, 10);
}

struct proc {
	uint32_t rva, size;
};

/* A procedure's extent from its S_GPROC32/S_LPROC32 (--symbols). */
static struct proc pdb_proc(const char *syms, const char *kind,
			    const char *name, const struct image *img)
{
	const char *rec = pdb_record(syms, kind, name);
	struct proc p;

	if (!rec)
		fail_msg("no %s `%s` in llvm-pdbutil dump --symbols", kind,
			 name);
	p.rva = pdb_rva(img, rec);
	p.size = pdb_field(rec, "code size");
	assert_true(p.size != 0 &&
		    (uint64_t)p.rva + p.size <= img->pe.size_of_image);
	return p;
}

/* Does [p.rva, p.rva + size) hold a `call rel32` to @p target? */
static bool calls(const struct image *img, struct proc p, uint32_t target)
{
	uint32_t o;

	for (o = p.rva; o + 5 <= p.rva + p.size; o++) {
		if (img->mapped[o] == 0xE8 &&
		    o + 5 + (int32_t)kd_get_le32(img->mapped + o + 1) == target)
			return true;
	}
	return false;
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static int group_setup(void **state)
{
	char path[512];

	(void)state;
	kernel_path(path, sizeof(path), "ntoskrnl.pdb");
	if (KD_KDSIM_KERNEL_DIR[0] == '\0' || access(path, R_OK) != 0) {
		fprintf(stderr, "kdsim's kernel and PDBs are not built: "
				"skipped\n");
		exit(77);
	}
	find_tool(pdbutil, sizeof(pdbutil), "llvm-pdbutil llvm-pdbutil-14");
	find_tool(readobj, sizeof(readobj), "llvm-readobj llvm-readobj-14");
	if (!pdbutil[0] || !readobj[0]) {
		fprintf(stderr, "llvm-pdbutil/llvm-readobj (Debian llvm) "
				"absent: skipped\n");
		exit(77);
	}
	return 0;
}

/* Image RSDS == llvm-readobj's record == the PDB's info stream. */
static void test_rsds_matches_pdb(void **state)
{
	unsigned i, k;

	(void)state;
	for (i = 0; i < KD_ARRAY_SIZE(images); i++) {
		char path[512], pdb[512], want[128], stem[64];
		struct image img;
		struct rsds r;
		char *ro, *sum;
		const char *p;
		unsigned b[16], age;

		image_load(images[i], &img);
		image_rsds(&img, &r);
		snprintf(stem, sizeof(stem), "%s", images[i]);
		stem[strcspn(stem, ".")] = '\0';
		/* The record names the PDB without a folder (/PDBALTPATH). */
		snprintf(want, sizeof(want), "%s.pdb", stem);
		assert_string_equal(r.name, want);

		/* llvm-readobj reads the same record. */
		kernel_path(path, sizeof(path), images[i]);
		ro = run_tool(readobj, "--coff-debug-directory", path);
		assert_non_null(strstr(ro, "PDBSignature: 0x53445352"));
		p = strstr(ro, "PDBGUID: (");
		assert_non_null(p);
		assert_int_equal(
			sscanf(p,
			       "PDBGUID: (%x %x %x %x %x %x %x %x %x %x %x "
			       "%x %x %x %x %x)",
			       &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &b[6],
			       &b[7], &b[8], &b[9], &b[10], &b[11], &b[12],
			       &b[13], &b[14], &b[15]),
			16);
		for (k = 0; k < 16; k++)
			assert_int_equal(b[k], r.guid[k]);
		p = strstr(ro, "PDBAge: ");
		assert_non_null(p);
		assert_int_equal(strtoul(p + 8, NULL, 10), r.age);
		snprintf(want, sizeof(want), "PDBFileName: %s.pdb\n", stem);
		assert_non_null(strstr(ro, want));

		/* The PDB next to the image: MSF 7.00, same GUID and age. */
		kernel_path(pdb, sizeof(pdb), r.name);
		{
			size_t len = 0;
			uint8_t *d = kdt_read_file(pdb, &len);

			assert_non_null(d);
			assert_true(len > 32);
			assert_memory_equal(d,
					    "Microsoft C/C++ MSF 7.00\r\n\x1a"
					    "DS\0\0\0",
					    32);
			free(d);
		}
		sum = run_tool(pdbutil, "dump --summary", pdb);
		guid_text(r.guid, want, sizeof(want));
		p = strstr(sum, "GUID: ");
		assert_non_null(p);
		if (strncmp(p + 6, want, strlen(want)) != 0)
			fail_msg("%s: image GUID %s, PDB says %.40s", images[i],
				 want, p + 6);
		p = strstr(sum, "\n  Age: ");
		assert_non_null(p);
		assert_int_equal(sscanf(p, "\n  Age: %u", &age), 1);
		assert_int_equal(age, r.age);
		assert_non_null(strstr(sum, "Has Debug Info: true"));
		free(ro);
		free(sum);
		image_free(&img);
	}
}

/* Every public symbol that is an export (code and data) sits at the
 * export's address; the exported functions all have one. */
static void test_publics_are_exports(void **state)
{
	static const char *const funcs[] = {
		"KeWorkerStep",	     "RtlFibonacci", "RtlComputeCrc32",
		"KiSystemStartup",   "DbgPrint",     "KeBugCheckEx",
		"MmLoadSystemImage",
	};
	unsigned i, checked = 0;

	(void)state;
	for (i = 0; i < KD_ARRAY_SIZE(images); i++) {
		char pdb[512], stem[64];
		struct image img;
		char *pub;
		const char *p;

		image_load(images[i], &img);
		snprintf(stem, sizeof(stem), "%s", images[i]);
		stem[strcspn(stem, ".")] = '\0';
		strncat(stem, ".pdb", sizeof(stem) - strlen(stem) - 1);
		kernel_path(pdb, sizeof(pdb), stem);
		pub = run_tool(pdbutil, "dump --publics", pdb);
		for (p = strstr(pub, "| S_PUB32 ["); p;
		     p = strstr(p + 1, "| S_PUB32 [")) {
			char name[128];
			const char *q = strchr(p, '`'), *e;
			const char *rec = strchr(p, '\n');
			uint32_t rva;

			assert_true(q && rec);
			e = strchr(q + 1, '`');
			assert_true(e && e < rec && (size_t)(e - q) < 128);
			memcpy(name, q + 1, (size_t)(e - q - 1));
			name[e - q - 1] = '\0';
			rva = kdsim_pe_export(img.mapped, img.pe.size_of_image,
					      name);
			if (rva == 0)
				continue; /* memset, string literals... */
			assert_int_equal(rva, pdb_rva(&img, rec));
			checked++;
		}
		if (i == 0) {
			unsigned f;

			for (f = 0; f < KD_ARRAY_SIZE(funcs); f++)
				assert_non_null(
					pdb_record(pub, "S_PUB32", funcs[f]));
		} else {
			assert_non_null(
				pdb_record(pub, "S_PUB32", "DriverEntry"));
			assert_non_null(
				pdb_record(pub, "S_PUB32", "ModuleCompute"));
		}
		free(pub);
		image_free(&img);
	}
	/* The kernel's 20 named exports, three per driver. */
	assert_true(checked >= 20 + 4 * 3);
}

/* The non-exported functions: in the PDB's module symbols and globals,
 * not in its publics nor the export table, and on the call path. */
static void test_nonexported_in_pdb(void **state)
{
	static const char *const statics[] = { "KiSimWorkerInner",
					       "MiSimComputeStep" };
	char pdb[512];
	struct image img;
	char *syms, *glob, *pub;
	struct proc ki, mi, fib;
	unsigned i;

	(void)state;
	image_load("ntoskrnl.exe", &img);
	kernel_path(pdb, sizeof(pdb), "ntoskrnl.pdb");
	syms = run_tool(pdbutil, "dump --symbols", pdb);
	glob = run_tool(pdbutil, "dump --globals", pdb);
	pub = run_tool(pdbutil, "dump --publics", pdb);
	for (i = 0; i < KD_ARRAY_SIZE(statics); i++) {
		const char *ref = pdb_record(glob, "S_LPROCREF", statics[i]);
		const char *rec = pdb_record(syms, "S_LPROC32", statics[i]);
		char key[96];
		uint32_t off;

		if (!ref || !rec)
			fail_msg("%s: S_LPROCREF %s, S_LPROC32 %s", statics[i],
				 ref ? "found" : "missing",
				 rec ? "found" : "missing");
		/* The reference points at that S_LPROC32 in module 1's
		 * stream (its offset is the record's first column). */
		off = pdb_field(ref, "offset");
		snprintf(key, sizeof(key), "\n%*u | S_LPROC32 [", 8, off);
		assert_non_null(strstr(syms, key));
		assert_int_equal(pdb_field(ref, "module"), 1);
		/* Static: no public symbol, no export. */
		assert_null(pdb_record(pub, "S_PUB32", statics[i]));
		assert_int_equal(kdsim_pe_export(img.mapped,
						 img.pe.size_of_image,
						 statics[i]),
				 0);
	}
	/* RtlFibonacci -> MiSimComputeStep -> KiSimWorkerInner, with the
	 * extents the PDB gives, in the image's code. */
	ki = pdb_proc(syms, "S_LPROC32", "KiSimWorkerInner", &img);
	mi = pdb_proc(syms, "S_LPROC32", "MiSimComputeStep", &img);
	fib = pdb_proc(syms, "S_GPROC32", "RtlFibonacci", &img);
	assert_int_equal(fib.rva,
			 kdsim_pe_export(img.mapped, img.pe.size_of_image,
					 "RtlFibonacci"));
	assert_true(calls(&img, fib, mi.rva));
	assert_true(calls(&img, mi, ki.rva));
	free(syms);
	free(glob);
	free(pub);
	image_free(&img);
}

/*
 * The unwind data the engine's stack walker reads is still there: every
 * kernel procedure that calls another (the PDB's extents) has a
 * RUNTIME_FUNCTION in .pdata (llvm-readobj --unwind) that starts at it
 * and covers it (a jump table after the code may extend it).  Leaves
 * need none, as with Microsoft's compiler.
 */
static void test_unwind_covers_procs(void **state)
{
	static const char *const nonleaf[] = {
		"DbgPrint",	"KeBugCheckEx",	     "RtlFibonacci",
		"KeWorkerStep", "MmLoadSystemImage", "KiSystemStartup",
	};
	char path[512], pdb[512];
	struct image img;
	char *syms, *uw;
	unsigned i;

	(void)state;
	image_load("ntoskrnl.exe", &img);
	kernel_path(path, sizeof(path), "ntoskrnl.exe");
	kernel_path(pdb, sizeof(pdb), "ntoskrnl.pdb");
	syms = run_tool(pdbutil, "dump --symbols", pdb);
	uw = run_tool(readobj, "--unwind", path);
	for (i = 0; i <= KD_ARRAY_SIZE(nonleaf); i++) {
		struct proc p = i < KD_ARRAY_SIZE(nonleaf) ?
					pdb_proc(syms, "S_GPROC32", nonleaf[i],
						 &img) :
					pdb_proc(syms, "S_LPROC32",
						 "MiSimComputeStep", &img);
		uint64_t start = img.pe.image_base + p.rva, end;
		char key[64];
		const char *e;

		snprintf(key, sizeof(key), "StartAddress: (0x%llX)",
			 (unsigned long long)start);
		e = strstr(uw, key);
		if (!e)
			fail_msg("no RUNTIME_FUNCTION at %llx:\n%.2000s",
				 (unsigned long long)start, uw);
		e = strstr(e, "EndAddress: (0x");
		assert_non_null(e);
		end = strtoull(e + 15, NULL, 16);
		assert_true(end >= start + p.size);
	}
	free(syms);
	free(uw);
	image_free(&img);
}

/* The RetAddr column of row @p row of `k` output. */
static uint64_t k_retaddr(const char *out, unsigned row)
{
	char key[8];
	const char *p;
	unsigned long long hi, lo;

	snprintf(key, sizeof(key), "\n%02u ", row);
	p = strstr(out, key);
	if (!p)
		fail_msg("no frame %02u in:\n%s", row, out);
	/* "NN child`sp ret`addr    site" */
	assert_int_equal(sscanf(p + 4, "%*x`%*x %llx`%llx", &hi, &lo), 2);
	return hi << 32 | lo;
}

static bool inside(uint64_t a, uint64_t base, struct proc p)
{
	return a > base + p.rva && a <= base + p.rva + p.size;
}

/* Live: stopped in KiSimWorkerInner, `k` returns through the chain. */
static void test_live_stack_through_statics(void **state)
{
	const char *chain[] = { "MiSimComputeStep", "RtlFibonacci",
				"KeWorkerStep", "KiSystemStartup" };
	const char *kinds[] = { "S_LPROC32", "S_GPROC32", "S_GPROC32",
				"S_GPROC32" };
	char pdb[512], sock[128], k[192], bp[64], *out, *syms;
	char host[sizeof(((struct kc *)0)->host_connstr)];
	const char *kdargs[] = { "-k", host, "-bonc", NULL };
	struct image img;
	struct proc ki;
	struct kc sim;
	struct kp kd;
	uint64_t base, at;
	const char *rip;
	unsigned i;

	(void)state;
	image_load("ntoskrnl.exe", &img);
	base = img.pe.image_base;
	kernel_path(pdb, sizeof(pdb), "ntoskrnl.pdb");
	syms = run_tool(pdbutil, "dump --symbols", pdb);
	ki = pdb_proc(syms, "S_LPROC32", "KiSimWorkerInner", &img);

	snprintf(sock, sizeof(sock), "/tmp/openkd-kdsimpdb-%d.sock",
		 (int)getpid());
	snprintf(k, sizeof(k), "com:pipe,port=%s", sock);
	{
		const char *args[] = { "-k",	 k,   "--print-ms", "0",
				       "--cpus", "1", NULL };

		kc_spawn(&sim, args);
	}
	snprintf(host, sizeof(host), "%s", sim.host_connstr);
	memset(&kd, 0, sizeof(kd));
	kp_start(&kd, kdargs);
	out = kp_wait_prompt(&kd, T_MS);
	assert_non_null(out);
	free(out);

	at = base + ki.rva;
	snprintf(bp, sizeof(bp), "bp %llx", (unsigned long long)at);
	out = kp_cmd(&kd, bp, T_MS);
	assert_non_null(out);
	free(out);
	out = kp_cmd(&kd, "g", T_MS);
	assert_non_null(out);
	assert_non_null(strstr(out, "Breakpoint 0 hit"));
	free(out);
	out = kp_cmd(&kd, "r rip", T_MS);
	assert_non_null(out);
	rip = strstr(out, "rip=");
	assert_non_null(rip);
	assert_int_equal(strtoull(rip + 4, NULL, 16), at);
	free(out);
	out = kp_cmd(&kd, "k", T_MS);
	assert_non_null(out);
	/* Row i returns into chain[i]: inside its extent from the PDB. */
	for (i = 0; i < KD_ARRAY_SIZE(chain); i++) {
		struct proc p = pdb_proc(syms, kinds[i], chain[i], &img);
		uint64_t ret = k_retaddr(out, i);

		if (!inside(ret, base, p))
			fail_msg("frame %02u returns to %llx, not into %s "
				 "[%llx, %llx]:\n%s",
				 i, (unsigned long long)ret, chain[i],
				 (unsigned long long)(base + p.rva),
				 (unsigned long long)(base + p.rva + p.size),
				 out);
	}
	free(out);
	out = kp_cmd(&kd, "bc *", T_MS);
	free(out);
	kp_send(&kd, "q\n");
	assert_int_equal(kp_finish(&kd, T_MS), 0);
	kp_free(&kd);
	kc_stop(&sim);
	unlink(sock);
	free(syms);
	image_free(&img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rsds_matches_pdb),
		cmocka_unit_test(test_publics_are_exports),
		cmocka_unit_test(test_nonexported_in_pdb),
		cmocka_unit_test(test_unwind_covers_procs),
		cmocka_unit_test(test_live_stack_through_statics),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
