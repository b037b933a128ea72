/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for kd_dump_write(): 64/32-bit headers byte-checked at the
 * crashdump-format offsets, full and bitmap bodies, run merging, holes,
 * cancel and I/O failure, and write -> kd_dump_open round trips of the
 * dumpgen fixtures (x64, x86, x86 PAE, ARM64).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <kd/dump.h>
#include <kd/error.h>

#include "dumpgen.h"
#include "testsupport.h"

static char tmpdir[64];

static void tpath(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", tmpdir, name);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	uint8_t *b = kdt_read_file(path, len);

	assert_non_null(b);
	return b;
}

/* The first @p n bytes of a file (large sparse files are not slurped). */
static uint8_t *head(const char *path, size_t n)
{
	uint8_t *b = malloc(n);
	FILE *fp = fopen(path, "rb");

	assert_non_null(b);
	assert_non_null(fp);
	assert_int_equal(fread(b, 1, n, fp), n);
	fclose(fp);
	return b;
}

static void assert_page_fill(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i += 4)
		assert_memory_equal(p + i, "PAGE", 4);
}

/* ---- 64-bit full ---------------------------------------------------------- */

static void test_full64_header(void **state)
{
	struct kdt_dumpgen g;
	char path[128];
	uint8_t *f, pg[4096];
	size_t len;
	uint64_t npages;

	(void)state;
	assert_int_equal(kdt_dumpgen_build(&g, KDT_DG_X64, 2), KD_OK);
	tpath(path, sizeof path, "full64.dmp");
	assert_int_equal(kdt_dumpgen_write(&g, path, KD_DUMP_FULL), KD_OK);
	f = slurp(path, &len);
	npages = 0x100 + 16 + 8;
	assert_int_equal(len, 0x2000 + npages * 4096);
	assert_memory_equal(f, "PAGEDU64", 8);
	assert_int_equal(kd_get_le32(f + 0x08), 0xF);
	assert_int_equal(kd_get_le32(f + 0x0C), 19041);
	assert_int_equal(kd_get_le64(f + 0x10), g.dtb);
	assert_int_equal(kd_get_le64(f + 0x20), g.ps_loaded_module_list);
	assert_int_equal(kd_get_le64(f + 0x28), g.ps_active_process_head);
	assert_int_equal(kd_get_le32(f + 0x30), 0x8664);
	assert_int_equal(kd_get_le32(f + 0x34), 2);
	assert_int_equal(kd_get_le32(f + 0x38), 0x1E);
	assert_page_fill(f + 0x3C, 4); /* padding stays PAGE */
	assert_int_equal(kd_get_le64(f + 0x40), 0xC0000005);
	assert_int_equal(kd_get_le64(f + 0x48), 0xFFFFF80000400010ull);
	assert_int_equal(kd_get_le64(f + 0x58), 0xDEAD);
	assert_page_fill(f + 0x60, 32); /* VersionUser */
	assert_int_equal(kd_get_le64(f + 0x80), g.kdbg);
	/* PHYSICAL_MEMORY_DESCRIPTOR64 */
	assert_int_equal(kd_get_le32(f + 0x88), 3);
	assert_page_fill(f + 0x8C, 4);
	assert_int_equal(kd_get_le64(f + 0x90), npages);
	assert_int_equal(kd_get_le64(f + 0x98), 0);
	assert_int_equal(kd_get_le64(f + 0xA0), 0x100);
	assert_int_equal(kd_get_le64(f + 0xA8), 0x800);
	assert_int_equal(kd_get_le64(f + 0xB0), 16);
	assert_int_equal(kd_get_le64(f + 0xB8), 0x40000);
	assert_int_equal(kd_get_le64(f + 0xC0), 8);
	assert_page_fill(f + 0xC8, 16); /* unused run slot */
	/* CONTEXT: its own 0x4D0 bytes, PAGE after it */
	assert_memory_equal(f + 0x348, g.ctx[0], 0x4D0);
	assert_page_fill(f + 0x348 + 0x4D0, 16);
	/* EXCEPTION_RECORD64: breakpoint at the context's Rip */
	assert_int_equal(kd_get_le32(f + 0xF00), 0x80000003u);
	assert_int_equal(kd_get_le64(f + 0xF10), kd_get_le64(g.ctx[0] + 0xF8));
	assert_int_equal(kd_get_le32(f + 0xF98), 1);
	assert_int_equal(kd_get_le64(f + 0xFA0), len);
	assert_int_equal(kd_get_le64(f + 0xFA8), 0x01DA000000000000ull);
	assert_string_equal((const char *)f + 0xFB0, "openkd dumpgen fixture");
	assert_int_equal(kd_get_le64(f + 0x1030), 36000000000ull);
	assert_page_fill(f + 0x1040, 8); /* ProductType, SuiteMask */
	assert_page_fill(f + 0x1050, 4); /* Attributes: unset */
	assert_page_fill(f + 0x1FF0, 16);
	/* Body: runs packed back to back from 0x2000. */
	assert_true(kdt_dumpgen_phys(&g, 0x20000, pg, sizeof pg));
	assert_memory_equal(f + 0x2000 + 0x20 * 4096, pg, 4096);
	assert_memory_equal(f + 0x2000 + 0x20 * 4096, "dumpgen x64 page 1", 18);
	assert_true(kdt_dumpgen_phys(&g, 0x800000, pg, sizeof pg));
	assert_memory_equal(f + 0x2000 + 0x100 * 4096, pg, 4096);
	assert_true(kdt_dumpgen_phys(&g, 0x40007000, pg, sizeof pg));
	assert_memory_equal(f + 0x2000 + (0x110 + 7) * 4096, pg, 4096);
	assert_memory_equal(f + 0x2000 + (0x110 + 7) * 4096, "dumpgen x64 huge",
			    16);
	unlink(path);
	free(f);
	kdt_dumpgen_free(&g);
}

static int zero_page(void *ctx, uint64_t pfn, uint8_t *page)
{
	(void)ctx;
	(void)pfn;
	memset(page, 0, 4096);
	return 0;
}

/* The real full dump's header layout matches ours at every field we set. */
static void test_full64_vs_real_header(void **state)
{
	char real[512], path[128];
	uint8_t *r, *f;
	size_t rlen;
	struct kd_dump_run runs[43];
	struct kd_dump_write_params p;
	unsigned int i, n;
	struct stat st;
	static const size_t same[][2] = {
		{ 0x000, 0x3C }, { 0x40, 0x20 }, { 0x80, 8 },
		{ 0x88, 4 },	 { 0x90, 8 },	 { 0x348, 0x4D0 },
		{ 0xF00, 0x1C }, { 0xF98, 4 },	 { 0xFA0, 8 },
		{ 0xFA8, 8 },
	};

	(void)state;
	if (kdt_shared_path(real, sizeof real,
			    "dumps/full_x64_header_16k.bin") != 0)
		skip();
	r = slurp(real, &rlen);
	n = kd_get_le32(r + 0x88);
	assert_true(n > 0 && n <= 43);
	for (i = 0; i < n; i++) {
		runs[i].base_page = kd_get_le64(r + 0x98 + 16 * i);
		runs[i].page_count = kd_get_le64(r + 0xA0 + 16 * i);
	}
	memset(&p, 0, sizeof p);
	p.version = KD_DUMP_WRITE_PARAMS_VERSION;
	p.type = KD_DUMP_FULL;
	p.ptr64 = true;
	p.machine = kd_get_le32(r + 0x30);
	p.major = kd_get_le32(r + 0x08);
	p.minor = kd_get_le32(r + 0x0C);
	p.ncpus = kd_get_le32(r + 0x34);
	p.dtb = kd_get_le64(r + 0x10);
	p.pfn_database = kd_get_le64(r + 0x18);
	p.ps_loaded_module_list = kd_get_le64(r + 0x20);
	p.ps_active_process_head = kd_get_le64(r + 0x28);
	p.kdbg = kd_get_le64(r + 0x80);
	p.bugcheck_code = kd_get_le32(r + 0x38);
	for (i = 0; i < 4; i++)
		p.bugcheck_params[i] = kd_get_le64(r + 0x40 + 8 * i);
	p.context = r + 0x348;
	p.context_len = 0x4D0;
	p.system_time = kd_get_le64(r + 0xFA8);
	p.runs = runs;
	p.nruns = n;
	p.read_page = zero_page;
	tpath(path, sizeof path, "real_shape.dmp");
	assert_int_equal(kd_dump_write(path, &p), KD_OK);
	/* ~2 GiB of zero pages: all holes, header only on disk. */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal((uint64_t)st.st_size, kd_get_le64(r + 0xFA0));
	assert_true((uint64_t)st.st_blocks * 512 < 1024 * 1024);
	f = head(path, 0x2000);
	for (i = 0; i < KD_ARRAY_SIZE(same); i++)
		assert_memory_equal(f + same[i][0], r + same[i][0], same[i][1]);
	/* Fields neither writer set read PAGE in both. */
	assert_memory_equal(f + 0x3C, r + 0x3C, 4);
	assert_memory_equal(f + 0x60, r + 0x60, 0x20);
	assert_memory_equal(f + 0x8C, r + 0x8C, 4);
	unlink(path);
	free(f);
	free(r);
}

/* ---- 64-bit bitmap -------------------------------------------------------- */

static uint64_t bit_rank(const uint8_t *bm, uint64_t pfn)
{
	uint64_t i, n = 0;

	for (i = 0; i < pfn; i++)
		if (bm[i >> 3] & (1u << (i & 7)))
			n++;
	return n;
}

static void check_bitmap(const struct kdt_dumpgen *g, uint32_t type,
			 unsigned int hsize)
{
	char path[128];
	uint8_t *f, *b, pg[4096];
	size_t len;
	uint64_t bits, first, present, want_present, span;

	tpath(path, sizeof path, "bmp.dmp");
	assert_int_equal(kdt_dumpgen_write(g, path, type), KD_OK);
	f = slurp(path, &len);
	b = f + hsize;
	assert_memory_equal(b, type == KD_DUMP_BITMAP_FULL ? "FDMP" : "SDMP",
			    4);
	assert_memory_equal(b + 4, "DUMP", 4);
	span = g->runs[g->nruns - 1].base_page +
	       g->runs[g->nruns - 1].page_count;
	bits = kd_get_le64(b + 0x30);
	assert_true(bits >= span && bits < span + 64 && bits % 64 == 0);
	first = kd_get_le64(b + 0x20);
	if (g->bitmap_unaligned)
		assert_int_equal(first, hsize + 0x38 + bits / 8);
	else
		assert_int_equal(first,
				 (hsize + 0x38 + bits / 8 + 4095) & ~4095ull);
	present = kd_get_le64(b + 0x28);
	want_present = 0x100 + 16 + (g->ptr64 ? 8 : 0);
	if (type == KD_DUMP_BITMAP_KERNEL)
		want_present--;
	assert_int_equal(present, want_present);
	assert_int_equal(len, first + present * 4096);
	if (g->ptr64) {
		assert_int_equal(kd_get_le32(f + 0xF98), type);
		assert_int_equal(kd_get_le64(f + 0xFA0), len);
		assert_page_fill(f + 0x88, 16); /* no run list */
	} else {
		assert_int_equal(kd_get_le32(f + 0xF88), type);
		assert_int_equal(kd_get_le64(f + 0xFA0), len);
		assert_page_fill(f + 0x64, 16);
	}
	assert_int_equal(bit_rank(b + 0x38, bits), present);
	assert_int_equal(!!(b[0x38 + (0x38 >> 3)] & (1u << (0x38 & 7))),
			 type == KD_DUMP_BITMAP_FULL);
	assert_true(b[0x38 + (0x800 >> 3)] & 1);
	/* The first large-page frame and a page after the user frame. */
	assert_true(kdt_dumpgen_phys(g, 0x800000, pg, sizeof pg));
	assert_memory_equal(f + first + bit_rank(b + 0x38, 0x800) * 4096, pg,
			    4096);
	assert_true(kdt_dumpgen_phys(g, 0x40000, pg, sizeof pg));
	assert_memory_equal(f + first + bit_rank(b + 0x38, 0x40) * 4096, pg,
			    4096);
	free(f);
	unlink(path);
}

static void test_bitmap64(void **state)
{
	struct kdt_dumpgen g;

	(void)state;
	assert_int_equal(kdt_dumpgen_build(&g, KDT_DG_X64, 4), KD_OK);
	check_bitmap(&g, KD_DUMP_BITMAP_FULL, 0x2000);
	check_bitmap(&g, KD_DUMP_BITMAP_KERNEL, 0x2000);
	g.bitmap_unaligned = true;
	check_bitmap(&g, KD_DUMP_BITMAP_FULL, 0x2000);
	kdt_dumpgen_free(&g);
	assert_int_equal(kdt_dumpgen_build(&g, KDT_DG_ARM64, 2), KD_OK);
	check_bitmap(&g, KD_DUMP_BITMAP_KERNEL, 0x2000);
	kdt_dumpgen_free(&g);
}

/* ---- 32-bit ----------------------------------------------------------------- */

static void test_hdr32(void **state)
{
	struct kdt_dumpgen g;
	char path[128];
	uint8_t *f, pg[4096];
	size_t len;
	int pae;

	(void)state;
	for (pae = 0; pae < 2; pae++) {
		assert_int_equal(
			kdt_dumpgen_build(&g, pae ? KDT_DG_X86_PAE : KDT_DG_X86,
					  2),
			KD_OK);
		tpath(path, sizeof path, "full32.dmp");
		assert_int_equal(kdt_dumpgen_write(&g, path, KD_DUMP_FULL),
				 KD_OK);
		f = slurp(path, &len);
		assert_int_equal(len, 0x1000 + (0x100 + 16) * 4096);
		assert_memory_equal(f, "PAGEDUMP", 8);
		assert_int_equal(kd_get_le32(f + 0x0C), 7601);
		assert_int_equal(kd_get_le32(f + 0x10), (uint32_t)g.dtb);
		assert_int_equal(kd_get_le32(f + 0x18),
				 (uint32_t)g.ps_loaded_module_list);
		assert_int_equal(kd_get_le32(f + 0x20), 0x14C);
		assert_int_equal(kd_get_le32(f + 0x24), 2);
		assert_int_equal(kd_get_le32(f + 0x28), 0x1E);
		assert_int_equal(kd_get_le32(f + 0x2C), 0xC0000005);
		assert_int_equal(kd_get_le32(f + 0x30), 0x80400010);
		assert_int_equal(f[0x5C], pae);
		assert_int_equal(kd_get_le32(f + 0x60), (uint32_t)g.kdbg);
		assert_int_equal(kd_get_le32(f + 0x64), 2);
		assert_int_equal(kd_get_le32(f + 0x68), 0x110);
		assert_int_equal(kd_get_le32(f + 0x6C), 0);
		assert_int_equal(kd_get_le32(f + 0x70), 0x100);
		assert_int_equal(kd_get_le32(f + 0x74), 0x800);
		assert_int_equal(kd_get_le32(f + 0x78), 16);
		assert_memory_equal(f + 0x320, g.ctx[0], 0x2CC);
		assert_int_equal(kd_get_le32(f + 0x7D0), 0x80000003u);
		assert_int_equal(kd_get_le32(f + 0x7DC),
				 kd_get_le32(g.ctx[0] + 0xB8));
		assert_string_equal((const char *)f + 0x820,
				    "openkd dumpgen fixture");
		assert_int_equal(kd_get_le32(f + 0xF88), 1);
		assert_int_equal(kd_get_le64(f + 0xFA0), len);
		assert_int_equal(kd_get_le64(f + 0xFB8), 36000000000ull);
		assert_int_equal(kd_get_le64(f + 0xFC0), 0x01DA000000000000ull);
		assert_true(kdt_dumpgen_phys(&g, 0x803000, pg, sizeof pg));
		assert_memory_equal(f + 0x1000 + (0x100 + 3) * 4096, pg, 4096);
		free(f);
		unlink(path);
		check_bitmap(&g, KD_DUMP_BITMAP_KERNEL, 0x1000);
		g.bitmap_unaligned = true;
		check_bitmap(&g, KD_DUMP_BITMAP_FULL, 0x1000);
		kdt_dumpgen_free(&g);
	}
}

/* ---- runs ------------------------------------------------------------------ */

struct seen {
	uint64_t calls;
	uint64_t bad; /* callback asked for a page outside the runs */
	uint64_t cancel_after;
	uint64_t progress_calls;
};

static const struct kd_dump_run *many_runs(unsigned int *n)
{
	static struct kd_dump_run r[100];
	unsigned int i;
	uint64_t base = 0x10;

	for (i = 0; i < 100; i++) {
		r[i].base_page = base;
		r[i].page_count = 1 + i % 3;
		/* gaps 1..7 pages, and one big gap of 1000 pages */
		base += r[i].page_count + 1 + (i * 7) % 7 +
			(i == 50 ? 1000 : 0);
	}
	*n = 100;
	return r;
}

static int tagged_page(void *ctx, uint64_t pfn, uint8_t *page)
{
	struct seen *s = ctx;
	unsigned int n, i;
	const struct kd_dump_run *r = many_runs(&n);
	bool in = false;

	for (i = 0; i < n; i++)
		if (pfn >= r[i].base_page &&
		    pfn < r[i].base_page + r[i].page_count)
			in = true;
	if (!in)
		s->bad++;
	s->calls++;
	memset(page, 0, 4096);
	kd_put_le64(page, pfn | 0x5000000000000000ull);
	return 0;
}

static void test_merge_runs(void **state)
{
	struct kd_dump_write_params p;
	struct seen s;
	char path[128];
	unsigned int n, i, k, nr;
	const struct kd_dump_run *r = many_runs(&n);
	uint64_t total = 0, want = 0, off, pfn;
	uint8_t *f;
	size_t len;
	int width;

	(void)state;
	for (i = 0; i < n; i++)
		want += r[i].page_count;
	for (width = 0; width < 2; width++) {
		unsigned int hsize = width ? 0x2000 : 0x1000;

		memset(&s, 0, sizeof s);
		memset(&p, 0, sizeof p);
		p.version = KD_DUMP_WRITE_PARAMS_VERSION;
		p.type = KD_DUMP_FULL;
		p.ptr64 = width;
		p.machine = width ? KD_DUMP_MACHINE_AMD64 :
				    KD_DUMP_MACHINE_I386;
		p.runs = r;
		p.nruns = n;
		p.read_page = tagged_page;
		p.ctx = &s;
		tpath(path, sizeof path, "runs.dmp");
		assert_int_equal(kd_dump_write(path, &p), KD_OK);
		assert_int_equal(s.bad, 0);
		assert_int_equal(s.calls, want);
		f = slurp(path, &len);
		if (width) {
			nr = kd_get_le32(f + 0x88);
			assert_int_equal(nr, 43);
		} else {
			nr = kd_get_le32(f + 0x64);
			assert_int_equal(nr, 86);
		}
		/* Walk the stored runs: every original page at its place. */
		off = hsize;
		total = 0;
		for (k = 0; k < nr; k++) {
			uint64_t base, cnt;

			if (width) {
				base = kd_get_le64(f + 0x98 + 16 * k);
				cnt = kd_get_le64(f + 0xA0 + 16 * k);
			} else {
				base = kd_get_le32(f + 0x6C + 8 * k);
				cnt = kd_get_le32(f + 0x70 + 8 * k);
			}
			for (pfn = base; pfn < base + cnt; pfn++) {
				uint64_t v = kd_get_le64(f + off);
				bool in = false;

				for (i = 0; i < n; i++)
					if (pfn >= r[i].base_page &&
					    pfn < r[i].base_page +
							    r[i].page_count)
						in = true;
				if (in)
					assert_int_equal(
						v, pfn | 0x5000000000000000ull);
				else
					assert_int_equal(v, 0);
				off += 4096;
			}
			total += cnt;
		}
		assert_int_equal(off, len);
		/* The 1000-page gap is never merged (smallest gaps go first). */
		assert_true(total < want + 1000);
		if (width)
			assert_int_equal(kd_get_le64(f + 0x90), total);
		else
			assert_int_equal(kd_get_le32(f + 0x68), total);
		free(f);
		unlink(path);
	}
}

/* ---- cancel, errors ------------------------------------------------------- */

static int cancel_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct seen *s = ctx;

	assert_true(done <= total);
	s->progress_calls++;
	return s->progress_calls >= s->cancel_after;
}

static int seen_page(void *ctx, uint64_t pfn, uint8_t *page)
{
	(void)ctx;
	memset(page, 0x11, 4096);
	kd_put_le64(page, pfn);
	return 0;
}

static void test_cancel(void **state)
{
	struct kd_dump_write_params p;
	struct kd_dump_run run = { 0, 8192 };
	struct seen s;
	char path[128];
	struct stat st;

	(void)state;
	memset(&s, 0, sizeof s);
	s.cancel_after = 2;
	memset(&p, 0, sizeof p);
	p.version = KD_DUMP_WRITE_PARAMS_VERSION;
	p.type = KD_DUMP_BITMAP_FULL;
	p.ptr64 = true;
	p.machine = KD_DUMP_MACHINE_AMD64;
	p.runs = &run;
	p.nruns = 1;
	p.read_page = seen_page;
	p.progress = cancel_progress;
	p.ctx = &s;
	tpath(path, sizeof path, "cancel.dmp");
	assert_int_equal(kd_dump_write(path, &p), KD_EAGAIN);
	assert_int_equal(s.progress_calls, 2);
	assert_int_not_equal(stat(path, &st), 0);
	/* Without cancel: progress reaches total exactly once at the end. */
	s.cancel_after = UINT64_MAX;
	s.progress_calls = 0;
	assert_int_equal(kd_dump_write(path, &p), KD_OK);
	assert_int_equal(s.progress_calls, 8);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 0x3000 + 8192 * 4096);
	unlink(path);
}

static void test_io_error(void **state)
{
	struct kd_dump_write_params p;
	struct kd_dump_run run = { 0, 4096 };
	char path[128];
	struct rlimit old, lim;
	struct stat st;
	void (*oldsig)(int);
	int rc;

	(void)state;
	memset(&p, 0, sizeof p);
	p.version = KD_DUMP_WRITE_PARAMS_VERSION;
	p.type = KD_DUMP_FULL;
	p.ptr64 = true;
	p.machine = KD_DUMP_MACHINE_AMD64;
	p.runs = &run;
	p.nruns = 1;
	p.read_page = seen_page;
	/* Cannot create. */
	assert_int_equal(kd_dump_write("/nonexistent-dir/x.dmp", &p), KD_ERROR);
	assert_non_null(strstr(kd_error_last()->message, "/nonexistent-dir"));
	/* The file-size limit plays a full disk. */
	tpath(path, sizeof path, "full.dmp");
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 1024 * 1024;
	oldsig = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	rc = kd_dump_write(path, &p);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, oldsig);
	assert_int_equal(rc, KD_ERROR);
	assert_non_null(strstr(kd_error_last()->message, "full.dmp"));
	assert_int_not_equal(stat(path, &st), 0);
}

static void test_bad_params(void **state)
{
	struct kd_dump_write_params p;
	struct kd_dump_run runs[2] = { { 0, 10 }, { 5, 10 } };
	uint8_t big[3001];
	char path[128];

	(void)state;
	memset(big, 0, sizeof big);
	tpath(path, sizeof path, "bad.dmp");
	memset(&p, 0, sizeof p);
	p.version = KD_DUMP_WRITE_PARAMS_VERSION;
	p.type = KD_DUMP_FULL;
	p.ptr64 = true;
	p.runs = runs;
	p.nruns = 2;
	p.read_page = seen_page;
	assert_int_equal(kd_dump_write(path, &p), KD_EINVAL); /* overlap */
	p.nruns = 1;
	p.version = 99;
	assert_int_equal(kd_dump_write(path, &p), KD_EINVAL);
	p.version = KD_DUMP_WRITE_PARAMS_VERSION;
	p.type = KD_DUMP_TRIAGE;
	assert_int_equal(kd_dump_write(path, &p), KD_EINVAL);
	p.type = KD_DUMP_FULL;
	p.context = big;
	p.context_len = sizeof big;
	assert_int_equal(kd_dump_write(path, &p), KD_EINVAL);
	p.context_len = 1201;
	p.ptr64 = false;
	assert_int_equal(kd_dump_write(path, &p), KD_EINVAL);
	p.context_len = 0;
	p.pae = true;
	p.ptr64 = true;
	assert_int_equal(kd_dump_write(path, &p), KD_EINVAL);
	p.pae = false;
	p.nruns = 0;
	assert_int_equal(kd_dump_write(path, &p), KD_EINVAL);
	runs[0].base_page = 0xFFFFFFFFull;
	runs[0].page_count = 2;
	p.nruns = 1;
	p.ptr64 = false;
	assert_int_equal(kd_dump_write(path, &p), KD_EINVAL);
}

/* ---- round trip through the reader -------------------------------------- */

static void round_trip(enum kdt_dg_arch arch, uint32_t type, bool unaligned)
{
	struct kdt_dumpgen g;
	struct kd_dump *d;
	const struct kd_dump_info *in;
	char path[128], err[256];
	uint8_t want[4 * 4096], got[4 * 4096], ctx[0x1000];
	size_t done, clen;
	unsigned int i, k;
	uint64_t pa;

	assert_int_equal(kdt_dumpgen_build(&g, arch, 3), KD_OK);
	g.bitmap_unaligned = unaligned;
	tpath(path, sizeof path, "rt.dmp");
	assert_int_equal(kdt_dumpgen_write(&g, path, type), KD_OK);
	err[0] = 0;
	if (kd_dump_open(&d, path, err, sizeof err) != KD_OK)
		fail_msg("kd_dump_open: %s", err);
	in = kd_dump_info(d);
	assert_int_equal(in->type, type);
	assert_int_equal(in->ptr64, g.ptr64);
	assert_int_equal(in->pae, g.pae);
	assert_int_equal(in->machine, g.machine);
	assert_int_equal(in->minor, g.build);
	assert_int_equal(in->ncpus, 3);
	assert_int_equal(in->dtb, g.dtb);
	assert_int_equal(in->bugcheck_code, 0x1E);
	assert_int_equal(in->bugcheck_params[0], 0xC0000005);
	assert_false(in->truncated);
	assert_int_equal(in->pages,
			 0x100 + 16 + (g.ptr64 ? 8 : 0) -
				 (type == KD_DUMP_BITMAP_KERNEL ? 1 : 0));
	/* Physical: one page of each run. */
	for (i = 0; i < g.nruns; i++) {
		pa = (g.runs[i].base_page + g.runs[i].page_count - 1) * 4096;
		assert_true(kdt_dumpgen_phys(&g, pa, want, 4096));
		assert_int_equal(kd_dump_read_physical(d, pa, got, 4096, &done),
				 KD_OK);
		assert_memory_equal(got, want, 4096);
	}
	/* Virtual: every mapping reads (or fails) as built. */
	for (i = 0; i < g.nmaps; i++) {
		const struct kdt_dg_map *m = &g.maps[i];
		uint64_t pa0;
		int rc;

		switch (m->kind) {
		case KDT_DG_NOT_PRESENT:
		case KDT_DG_MISSING:
			rc = kd_dump_read_virtual(d, m->va, got, 16, &done);
			assert_int_equal(rc, KD_EFAULT);
			assert_int_equal(done, 0);
			break;
		case KDT_DG_USERONLY:
			rc = kd_dump_read_virtual(d, m->va, got, 4096, &done);
			if (type == KD_DUMP_BITMAP_KERNEL) {
				assert_int_equal(rc, KD_EFAULT);
				/* translation works, the data is not there */
				assert_int_equal(
					kd_dump_translate(d, 0, m->va, &pa0),
					KD_OK);
				assert_int_equal(pa0, m->pa[0]);
				break;
			}
			assert_int_equal(rc, KD_OK);
			assert_memory_equal(got, m->tag, strlen(m->tag));
			break;
		default:
			for (k = 0; k < m->npages && k < 4; k++) {
				assert_int_equal(
					kd_dump_translate(d, 0,
							  m->va + k * 4096ull +
								  0x123,
							  &pa0),
					KD_OK);
				assert_int_equal(pa0, m->pa[k] + 0x123);
				assert_true(kdt_dumpgen_phys(
					&g, m->pa[k], want + k * 4096, 4096));
			}
			rc = kd_dump_read_virtual(d, m->va, got, k * 4096,
						  &done);
			assert_int_equal(rc, KD_OK);
			assert_memory_equal(got, want, k * 4096);
			if (m->kind != KDT_DG_KDATA)
				assert_memory_equal(got, m->tag,
						    strlen(m->tag));
			break;
		}
	}
	/* Contexts: the header one and the others from their KPRCBs. */
	for (i = 0; i < 3; i++) {
		int rc = kd_dump_context(d, i, ctx, sizeof ctx, &clen);

		if (rc != KD_OK)
			fail_msg("context of cpu %u: %d", i, rc);
		assert_true(clen >= g.ctx_len);
		assert_memory_equal(ctx, g.ctx[i], g.ctx_len);
	}
	kd_dump_close(d);
	unlink(path);
	kdt_dumpgen_free(&g);
}

static void test_rt_x64(void **state)
{
	(void)state;
	round_trip(KDT_DG_X64, KD_DUMP_FULL, false);
	round_trip(KDT_DG_X64, KD_DUMP_BITMAP_FULL, false);
	round_trip(KDT_DG_X64, KD_DUMP_BITMAP_KERNEL, false);
	round_trip(KDT_DG_X64, KD_DUMP_BITMAP_KERNEL, true);
}

static void test_rt_x86(void **state)
{
	(void)state;
	round_trip(KDT_DG_X86, KD_DUMP_FULL, false);
	round_trip(KDT_DG_X86, KD_DUMP_BITMAP_KERNEL, true);
}

static void test_rt_x86_pae(void **state)
{
	(void)state;
	round_trip(KDT_DG_X86_PAE, KD_DUMP_FULL, false);
	round_trip(KDT_DG_X86_PAE, KD_DUMP_BITMAP_FULL, false);
}

static void test_rt_arm64(void **state)
{
	(void)state;
	round_trip(KDT_DG_ARM64, KD_DUMP_FULL, false);
	round_trip(KDT_DG_ARM64, KD_DUMP_BITMAP_KERNEL, true);
}

/* The big sparse generator: tables on disk, zero pages as holes. */
static void test_big_sparse(void **state)
{
	struct kdt_dg_big b;
	char path[128];
	struct stat st;
	struct kd_dump *d;
	char err[256];
	uint8_t want[4096], got[4096];
	size_t done;
	uint64_t pfn;

	(void)state;
	tpath(path, sizeof path, "big.dmp");
	assert_int_equal(kdt_dumpgen_write_big(path, 64ull << 20, 16,
					       KD_DUMP_BITMAP_FULL, &b),
			 KD_OK);
	assert_int_equal(stat(path, &st), 0);
	/* 64 MiB: 16384 bits = 2 KiB bitmap, FirstPage page aligned */
	assert_int_equal((uint64_t)st.st_size, 0x3000 + (64ull << 20));
	/* header + tables (32 PTs) + 1/16 of the data on disk */
	assert_true((uint64_t)st.st_blocks * 512 <
		    0x3000 + 36 * 4096 + (64ull << 20) / 16 + 64 * 1024);
	assert_int_equal(kd_dump_open(&d, path, err, sizeof err), KD_OK);
	for (pfn = b.first_data_pfn; pfn < b.first_data_pfn + 64; pfn += 7) {
		kdt_dumpgen_big_page(&b, pfn, want);
		assert_int_equal(
			kd_dump_read_virtual(d, KDT_DG_BIG_VA + pfn * 4096, got,
					     4096, &done),
			KD_OK);
		assert_memory_equal(got, want, 4096);
	}
	kd_dump_close(d);
	unlink(path);
}

static int setup_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/kd_dump_write.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
	(void)state;
	return rmdir(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full64_header),
		cmocka_unit_test(test_full64_vs_real_header),
		cmocka_unit_test(test_bitmap64),
		cmocka_unit_test(test_hdr32),
		cmocka_unit_test(test_merge_runs),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_io_error),
		cmocka_unit_test(test_bad_params),
		cmocka_unit_test(test_rt_x64),
		cmocka_unit_test(test_rt_x86),
		cmocka_unit_test(test_rt_x86_pae),
		cmocka_unit_test(test_rt_arm64),
		cmocka_unit_test(test_big_sparse),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
