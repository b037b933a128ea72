/* SPDX-License-Identifier: MIT */
/*
 * Out-of-memory loop over kd_dump_open() (SQLite's way): open each dump
 * sample the tests use with the n-th allocation failing, n = 0, 1, ...
 * until the open makes fewer than n allocations.  Every failure point
 * must fail the open with an error line and no handle (never a success
 * with a page index, a warning or the KDBG block missing); the open that
 * finally succeeds must read exactly what an open without failures does;
 * under ASan none of them may leak.
 *
 * Samples: the dumpgen fixtures written by kd_dump_write() (x64, x86,
 * x86 PAE, ARM64; full and both bitmap types; an x64 one whose KDBG is
 * encoded as Windows 8+ does, so that the open decodes it through the
 * kernel image copy), the full and kernel
 * bitmap dumps kd's own `.dump /f` and `.dump /k` write from a live
 * kdsim (real processes; skipped when kd or kdsim is not built), and
 * the real samples of ../shared/data (skipped when absent).
 */
#include "../../integration/kdsim_client.h"
#include "../../integration/kd_proc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <kd/alloc.h>
#include <kd/dump.h>
#include <kd/dumpfmt.h>

#include "dumpgen.h"
#include "testsupport.h"

#define T_MS 120000 /* .dump /f of 96 MiB under ASan on a loaded VM */
#define MAX_ALLOCS 1000
#define SNAP_CPUS 4
#define SNAP_PAGES 4096 /* the first 16 MiB of physical memory */

struct sample {
	const char *name;
	char path[256];
	bool ready;	  /* the file is there to open */
	const char *why;  /* when not ready: the skip reason */
	bool need_pages;  /* the reference open must index pages */
	bool need_kdbg;	  /* ... and hold the KDBG block */
	bool must_warn;	  /* ... and warn (damaged real sample) */
	bool encoded;	  /* ... and decode an encoded KDBG */
	unsigned drivers; /* triage driver entries expected, or 0 */
};

/* Everything a user can read from an open dump, for comparison. */
struct snap {
	struct kd_dump_info info;
	char warn[16 * 260];
	uint8_t kdbg[KD_KDBG_MAX_SIZE];
	size_t kdbg_len;
	unsigned int crash_cpu;
	int exc_rc;
	uint32_t exc_code;
	uint64_t exc_addr;
	int ctx_rc[SNAP_CPUS];
	size_t ctx_len[SNAP_CPUS];
	uint8_t ctx[SNAP_CPUS][KD_DMP64_CONTEXT_RECORD_SIZE];
	int kdbg_rc;
	uint8_t kdbg_va[64];
	uint64_t phys_present, phys_hash;
	unsigned int ndrivers;
	uint64_t drv_hash;
};

static char tmpdir[64];

static struct sample samples[] = {
	{ .name = "dumpgen x64 full", .need_pages = true, .need_kdbg = true },
	{ .name = "dumpgen x64 bitmap full",
	  .need_pages = true,
	  .need_kdbg = true },
	{ .name = "dumpgen x64 bitmap kernel",
	  .need_pages = true,
	  .need_kdbg = true },
	{ .name = "dumpgen x86 full", .need_pages = true, .need_kdbg = true },
	{ .name = "dumpgen x86 bitmap full",
	  .need_pages = true,
	  .need_kdbg = true },
	{ .name = "dumpgen x86 PAE full",
	  .need_pages = true,
	  .need_kdbg = true },
	{ .name = "dumpgen x86 PAE bitmap kernel",
	  .need_pages = true,
	  .need_kdbg = true },
	{ .name = "dumpgen ARM64 full", .need_pages = true, .need_kdbg = true },
	{ .name = "dumpgen ARM64 bitmap full",
	  .need_pages = true,
	  .need_kdbg = true },
	{ .name = "dumpgen x64 full, encoded KDBG",
	  .need_pages = true,
	  .need_kdbg = true,
	  .encoded = true },
	{ .name = "kd .dump /f of kdsim",
	  .need_pages = true,
	  .need_kdbg = true },
	{ .name = "kd .dump /k of kdsim",
	  .need_pages = true,
	  .need_kdbg = true },
	{ .name = "shared dumps/triage_x64.dmp", .drivers = 151 },
	{ .name = "shared dumps/full_x64_header_16k.bin", .must_warn = true },
};

/* Which dumpgen fixture and type each of the first samples is. */
static const struct {
	enum kdt_dg_arch arch;
	uint32_t type;
	const char *file;
} gen[] = {
	{ KDT_DG_X64, KD_DUMP_FULL, "x64-full.dmp" },
	{ KDT_DG_X64, KD_DUMP_BITMAP_FULL, "x64-bmpfull.dmp" },
	{ KDT_DG_X64, KD_DUMP_BITMAP_KERNEL, "x64-bmpkern.dmp" },
	{ KDT_DG_X86, KD_DUMP_FULL, "x86-full.dmp" },
	{ KDT_DG_X86, KD_DUMP_BITMAP_FULL, "x86-bmpfull.dmp" },
	{ KDT_DG_X86_PAE, KD_DUMP_FULL, "pae-full.dmp" },
	{ KDT_DG_X86_PAE, KD_DUMP_BITMAP_KERNEL, "pae-bmpkern.dmp" },
	{ KDT_DG_ARM64, KD_DUMP_FULL, "arm64-full.dmp" },
	{ KDT_DG_ARM64, KD_DUMP_BITMAP_FULL, "arm64-bmpfull.dmp" },
};
#define NGEN (sizeof(gen) / sizeof(gen[0]))
#define S_ENCODED NGEN
#define S_KD_FULL (NGEN + 1)
#define S_KD_KERN (NGEN + 2)
#define S_TRIAGE (NGEN + 3)
#define S_HDR16K (NGEN + 4)

static uint64_t fnv(uint64_t h, const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static void take_snap(struct kd_dump *d, struct snap *s)
{
	const uint8_t *kb = NULL;
	uint8_t page[KD_DMP_PAGE_SIZE];
	size_t off = 0, done;
	const char *w;
	unsigned int i;

	memset(s, 0, sizeof(*s));
	memcpy(&s->info, kd_dump_info(d), sizeof(s->info));
	for (i = 0; (w = kd_dump_warning(d, i)) != NULL; i++) {
		int n = snprintf(s->warn + off, sizeof(s->warn) - off, "%s\n",
				 w);

		assert_true(n > 0 && (size_t)n < sizeof(s->warn) - off);
		off += (size_t)n;
	}
	s->kdbg_len = kd_dump_kdbg_block(d, &kb);
	assert_true(s->kdbg_len <= sizeof(s->kdbg));
	if (s->kdbg_len)
		memcpy(s->kdbg, kb, s->kdbg_len);
	s->crash_cpu = kd_dump_crash_cpu(d);
	s->exc_rc = kd_dump_exception(d, &s->exc_code, &s->exc_addr);
	for (i = 0; i < SNAP_CPUS; i++)
		s->ctx_rc[i] = kd_dump_context(
			d, i, s->ctx[i], sizeof(s->ctx[i]), &s->ctx_len[i]);
	s->kdbg_rc = kd_dump_read_virtual(d, s->info.kdbg, s->kdbg_va,
					  sizeof(s->kdbg_va), &done);
	s->phys_hash = 0xcbf29ce484222325ull;
	for (i = 0; i < SNAP_PAGES; i++) {
		if (kd_dump_read_physical(d, (uint64_t)i * KD_DMP_PAGE_SIZE,
					  page, sizeof(page), &done) != KD_OK)
			continue;
		s->phys_present++;
		s->phys_hash = fnv(s->phys_hash, &i, sizeof(i));
		s->phys_hash = fnv(s->phys_hash, page, sizeof(page));
	}
	s->ndrivers = kd_dump_triage_driver_count(d);
	for (i = 0; i < s->ndrivers; i++) {
		uint64_t base = 0;
		uint32_t size = 0;
		char name[260];

		if (kd_dump_triage_driver(d, i, &base, &size, name,
					  sizeof(name)) != KD_OK)
			continue;
		s->drv_hash = fnv(s->drv_hash, &base, sizeof(base));
		s->drv_hash = fnv(s->drv_hash, &size, sizeof(size));
		s->drv_hash = fnv(s->drv_hash, name, strlen(name));
	}
}

static void oom_open(void **state)
{
	struct sample *sm = *state;
	static struct snap ref, got;
	struct kd_dump *d = NULL;
	char err[256];
	long n;
	int rc;

	if (!sm->ready) {
		print_message("%s: skipped: %s\n", sm->name, sm->why);
		skip();
	}
	/* The reference: an open with no failure, and what it must hold. */
	kd_alloc_fail_after(-1, false);
	rc = kd_dump_open(&d, sm->path, err, sizeof(err));
	if (rc != KD_OK)
		fail_msg("%s: %s", sm->name, err);
	take_snap(d, &ref);
	kd_dump_close(d);
	if (sm->need_pages)
		assert_true(ref.info.pages > 0 && ref.phys_present > 0);
	if (sm->need_kdbg)
		assert_true(ref.kdbg_len >= KD_KDBG_MIN_SIZE);
	if (sm->must_warn)
		assert_true(ref.warn[0] != '\0');
	assert_int_equal(ref.info.kdbg_encoded, sm->encoded);
	assert_int_equal(ref.ndrivers, sm->drivers);

	for (n = 0; n < MAX_ALLOCS; n++) {
		bool pending;

		err[0] = '\0';
		d = (struct kd_dump *)&ref; /* must come back NULL */
		kd_alloc_fail_after(n, false);
		rc = kd_dump_open(&d, sm->path, err, sizeof(err));
		pending = kd_alloc_fail_pending();
		kd_alloc_fail_after(-1, false);
		if (pending) {
			/* Fewer than n allocations: the failure never came,
			 * and the open must read what the reference did. */
			assert_int_equal(rc, KD_OK);
			take_snap(d, &got);
			kd_dump_close(d);
			if (memcmp(&got, &ref, sizeof(ref)) != 0)
				fail_msg("%s: an open without failure reads "
					 "differently",
					 sm->name);
			break;
		}
		if (rc == KD_OK) {
			take_snap(d, &got);
			kd_dump_close(d);
			fail_msg("%s: allocation %ld failed and the open still "
				 "said OK (%s)",
				 sm->name, n,
				 memcmp(&got, &ref, sizeof(ref)) ?
					 "with data missing" :
					 "reading the same");
		}
		assert_true(rc < 0);
		assert_null(d);
		if (err[0] == '\0' || strchr(err, '\n'))
			fail_msg("%s: allocation %ld failed: rc %d without a "
				 "one-line reason ('%s')",
				 sm->name, n, rc, err);
	}
	if (n == MAX_ALLOCS)
		fail_msg("%s: more than %d allocations", sm->name, MAX_ALLOCS);
	print_message("%s: %ld allocations failed one at a time, each gave an "
		      "error\n",
		      sm->name, n);
}

/* The fixture's memory at physical address @p pa. */
static uint8_t *fx_phys(struct kdt_dumpgen *g, uint64_t pa, size_t len)
{
	unsigned int i;

	for (i = 0; i < g->nruns; i++) {
		uint64_t lo = g->runs[i].base_page * KD_DMP_PAGE_SIZE;
		uint64_t hi = lo + g->runs[i].page_count * KD_DMP_PAGE_SIZE;

		if (pa >= lo && pa + len <= hi)
			return g->runs[i].mem + (pa - lo);
	}
	return NULL;
}

/* The first mapping of @p kind and its memory. */
static uint8_t *fx_map(struct kdt_dumpgen *g, enum kdt_dg_kind kind,
		       uint64_t *va)
{
	unsigned int i;

	for (i = 0; i < g->nmaps; i++) {
		if (g->maps[i].kind != kind)
			continue;
		*va = g->maps[i].va;
		return fx_phys(g, g->maps[i].pa[0], KD_DMP_PAGE_SIZE);
	}
	return NULL;
}

static void put_riprel(uint8_t *p, uint64_t end_va, uint64_t target)
{
	kd_put_le32(p, (uint32_t)(target - end_va));
}

static uint64_t rotr64(uint64_t v, unsigned int r)
{
	r %= 64;
	return r ? (v >> r) | (v << (64 - r)) : v;
}

/*
 * Turn the x64 fixture into one whose KDBG is encoded (crashdump-format
 * §3.4): the first loaded module becomes a one-page kernel image holding
 * the KdCopyDataBlock pattern the reader looks for (cmp byte [rip+E], 0;
 * mov r, [rip+KiWaitNever]; mov r, [rip+KiWaitAlways]; lea r, [rip+KDBG])
 * and the block is encoded with those keys.
 */
static int encode_kdbg(struct kdt_dumpgen *g)
{
	const uint64_t never = 0x1234567890abcd17ull;
	const uint64_t always = 0x0fedcba987654321ull;
	uint64_t kva = 0, dva = 0, e, i, size;
	uint8_t *k = fx_map(g, KDT_DG_KDATA, &kva);
	uint8_t *img = fx_map(g, KDT_DG_PAGE, &dva);
	uint8_t *blk;

	if (!k || !img || dva != g->kernbase || g->kdbg != kva)
		return -1;
	blk = k;
	size = kd_get_le32(blk + KD_KDBG_SIZE);
	/* PsLoadedModuleList -> one entry whose DllBase is the image;
	 * the keys next to it; E is only a value in the decoding. */
	kd_put_le64(k + 0x400, kva + 0x600);
	kd_put_le64(k + 0x600 + KD_LDR64_DLL_BASE, g->kernbase);
	kd_put_le64(k + 0x680, never);
	kd_put_le64(k + 0x688, always);
	e = kva + 0x690;
	memset(img, 0, KD_DMP_PAGE_SIZE);
	img[0] = 'M';
	img[1] = 'Z';
	kd_put_le32(img + 0x3c, 0x80);
	kd_put_le32(img + 0x80 + 0x50, KD_DMP_PAGE_SIZE); /* SizeOfImage */
	memcpy(img + 0x500, "\x80\x3d\0\0\0\0\0", 7);
	put_riprel(img + 0x502, g->kernbase + 0x507, e);
	memcpy(img + 0x507, "\x48\x8b\x05", 3);
	put_riprel(img + 0x50a, g->kernbase + 0x50e, kva + 0x680);
	memcpy(img + 0x50e, "\x48\x8b\x05", 3);
	put_riprel(img + 0x511, g->kernbase + 0x515, kva + 0x688);
	memcpy(img + 0x515, "\x48\x8d\x05", 3);
	put_riprel(img + 0x518, g->kernbase + 0x51c, g->kdbg);
	/* Encode the block (its KDBG size) with the inverse of the
	 * decoding: xor A, swap, xor E, rotate by N's low byte, xor N. */
	for (i = 0; i + 8 <= size; i += 8) {
		uint64_t w = kd_get_le64(blk + i);

		w ^= always;
		w = __builtin_bswap64(w);
		w ^= e;
		w = rotr64(w, (unsigned int)(never & 0xff));
		w ^= never;
		kd_put_le64(blk + i, w);
	}
	return 0;
}

/* Let kd write `.dump /f` and `.dump /k` of a live kdsim. */
static void write_kd_dumps(void)
{
	char sock[128], k[160], line[320];
	const char *simargs[] = { "-k",		k,	  "--mem-mib",
				  "96",		"--cpus", "2",
				  "--print-ms", "0",	  NULL };
	struct sample *f = &samples[S_KD_FULL], *kk = &samples[S_KD_KERN];
	struct kc sim;
	struct kp kd;
	const char *kdargs[] = { "-k", sim.host_connstr, "-bonc", NULL };
	char *out;
	int st;

	f->why = kk->why = "kd or kdsim is not built";
	if (!kc_kdsim_path() || !kp_kd_path())
		return;
	f->why = kk->why = "kd's .dump failed (see the setup's output)";
	snprintf(sock, sizeof(sock), "%s/live.sock", tmpdir);
	snprintf(k, sizeof(k), "com:pipe,port=%s", sock);
	snprintf(f->path, sizeof(f->path), "%s/kd-full.dmp", tmpdir);
	snprintf(kk->path, sizeof(kk->path), "%s/kd-kern.dmp", tmpdir);
	kc_spawn(&sim, simargs);
	kp_start(&kd, kdargs);
	out = kp_wait_prompt(&kd, T_MS);
	if (!out) {
		fprintf(stderr, "kd: no prompt:\n%s\n%s\n",
			kd.out.data ? kd.out.data : "",
			kd.err.data ? kd.err.data : "");
		goto done;
	}
	free(out);
	snprintf(line, sizeof(line), ".dump /f %s", f->path);
	out = kp_cmd(&kd, line, T_MS);
	f->ready = out && strstr(out, "Dump successfully written");
	if (!f->ready)
		fprintf(stderr, "%s printed:\n%s\n", line, out ? out : "");
	free(out);
	snprintf(line, sizeof(line), ".dump /k %s", kk->path);
	out = kp_cmd(&kd, line, T_MS);
	kk->ready = out && strstr(out, "Dump successfully written");
	if (!kk->ready)
		fprintf(stderr, "%s printed:\n%s\n", line, out ? out : "");
	free(out);
	kp_send(&kd, "q\n");
done:
	st = kp_finish(&kd, T_MS);
	if (st != 0) {
		fprintf(stderr, "kd exited with %d\n", st);
		f->ready = kk->ready = false;
	}
	kp_free(&kd);
	kc_stop(&sim);
	unlink(sock);
}

static int setup(void **state)
{
	struct kdt_dumpgen g;
	size_t i;

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/kd_dump_oom.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	for (i = 0; i < NGEN; i++) {
		struct sample *s = &samples[i];

		s->why = "dumpgen could not write it";
		snprintf(s->path, sizeof(s->path), "%s/%s", tmpdir,
			 gen[i].file);
		if (kdt_dumpgen_build(&g, gen[i].arch, 2) != 0)
			return -1;
		if (kdt_dumpgen_write(&g, s->path, gen[i].type) != 0) {
			kdt_dumpgen_free(&g);
			return -1;
		}
		kdt_dumpgen_free(&g);
		s->ready = true;
	}
	samples[S_ENCODED].why = "dumpgen could not write it";
	snprintf(samples[S_ENCODED].path, sizeof(samples[S_ENCODED].path),
		 "%s/x64-encoded.dmp", tmpdir);
	if (kdt_dumpgen_build(&g, KDT_DG_X64, 2) != 0)
		return -1;
	if (encode_kdbg(&g) != 0 ||
	    kdt_dumpgen_write(&g, samples[S_ENCODED].path, KD_DUMP_FULL) != 0) {
		kdt_dumpgen_free(&g);
		return -1;
	}
	kdt_dumpgen_free(&g);
	samples[S_ENCODED].ready = true;
	write_kd_dumps();
	samples[S_TRIAGE].why = samples[S_HDR16K].why =
		"../shared/data is absent";
	samples[S_TRIAGE].ready = kdt_shared_path(
					  samples[S_TRIAGE].path,
					  sizeof(samples[S_TRIAGE].path),
					  "dumps/triage_x64.dmp") == 0;
	samples[S_HDR16K].ready = kdt_shared_path(
					  samples[S_HDR16K].path,
					  sizeof(samples[S_HDR16K].path),
					  "dumps/full_x64_header_16k.bin") == 0;
	return 0;
}

static int teardown(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NGEN; i++)
		unlink(samples[i].path);
	unlink(samples[S_ENCODED].path);
	unlink(samples[S_KD_FULL].path);
	unlink(samples[S_KD_KERN].path);
	return rmdir(tmpdir);
}

int main(void)
{
	struct CMUnitTest tests[sizeof(samples) / sizeof(samples[0])];
	size_t i;

	/* One test a sample, named after it. */
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		memset(&tests[i], 0, sizeof(tests[i]));
		tests[i].name = samples[i].name;
		tests[i].test_func = oom_open;
		tests[i].initial_state = &samples[i];
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
