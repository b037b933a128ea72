/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the crash-dump reader: the real triage sample and the
 * truncated full-dump header from ../shared/data, hand-made damaged
 * headers, x64/x86/PAE translation over hand-built tables (large pages,
 * transition PTEs), the KDBG decoding, and the dumpgen fixtures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <kd/dump.h>
#include <kd/dumpfmt.h>

#include "dump_int.h"
#include "dumpgen.h"
#include "testsupport.h"

#define PG 0x1000u

/* A hand-made dump image: header + body, grown as needed. */
struct img {
	uint8_t *b;
	size_t len;
};

static void img_init(struct img *m, bool ptr64, uint32_t type)
{
	size_t hs = ptr64 ? KD_DMP64_HEADER_SIZE : KD_DMP32_HEADER_SIZE;
	size_t i;

	m->len = hs;
	m->b = calloc(1, hs);
	assert_non_null(m->b);
	for (i = 0; i < hs; i += 4)
		memcpy(m->b + i, "PAGE", 4);
	kd_put_le32(m->b + 4, ptr64 ? KD_DMP_VALID_DU64 : KD_DMP_VALID_DUMP);
	if (ptr64) {
		kd_put_le32(m->b + KD_DMP64_MAJOR_VERSION, 0xF);
		kd_put_le32(m->b + KD_DMP64_MINOR_VERSION, 19041);
		kd_put_le32(m->b + KD_DMP64_MACHINE_IMAGE_TYPE, 0x8664);
		kd_put_le32(m->b + KD_DMP64_NUMBER_PROCESSORS, 1);
		kd_put_le32(m->b + KD_DMP64_DUMP_TYPE, type);
		kd_put_le32(m->b + KD_DMP64_BUGCHECK_CODE, 0xE2);
		kd_put_le64(m->b + KD_DMP64_KD_DEBUGGER_DATA_BLOCK, 0);
	} else {
		kd_put_le32(m->b + KD_DMP32_MAJOR_VERSION, 0xF);
		kd_put_le32(m->b + KD_DMP32_MINOR_VERSION, 2600);
		kd_put_le32(m->b + KD_DMP32_MACHINE_IMAGE_TYPE, 0x14C);
		kd_put_le32(m->b + KD_DMP32_NUMBER_PROCESSORS, 2);
		kd_put_le32(m->b + KD_DMP32_DUMP_TYPE, type);
		kd_put_le32(m->b + KD_DMP32_KD_DEBUGGER_DATA_BLOCK, 0);
	}
}

static void img_grow(struct img *m, size_t len)
{
	if (len <= m->len)
		return;
	m->b = realloc(m->b, len);
	assert_non_null(m->b);
	memset(m->b + m->len, 0, len - m->len);
	m->len = len;
}

/* Full dump runs (64-bit): body pages zero, filled by the caller. */
static void img_runs64(struct img *m, const uint64_t (*runs)[2], unsigned n,
		       uint32_t nruns_field)
{
	size_t pmd = KD_DMP64_PHYS_MEM_BLOCK;
	uint64_t total = 0;
	unsigned i;

	kd_put_le32(m->b + pmd, nruns_field);
	for (i = 0; i < n; i++) {
		kd_put_le64(m->b + pmd + 0x10 + 16 * i, runs[i][0]);
		kd_put_le64(m->b + pmd + 0x18 + 16 * i, runs[i][1]);
		total += runs[i][1];
	}
	kd_put_le64(m->b + pmd + 8, total);
	img_grow(m, KD_DMP64_HEADER_SIZE + total * PG);
}

static char g_path[256];

static const char *img_write(const struct img *m)
{
	FILE *f;

	snprintf(g_path, sizeof(g_path), "/tmp/kd_dump_read_%d.dmp",
		 (int)getpid());
	f = fopen(g_path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(m->b, 1, m->len, f), m->len);
	fclose(f);
	return g_path;
}

static bool has_warning(const struct kd_dump *d, const char *needle)
{
	unsigned i;

	for (i = 0; kd_dump_warning(d, i); i++) {
		if (strstr(kd_dump_warning(d, i), needle))
			return true;
	}
	return false;
}

/* ---- real samples ---- */

static void test_triage_sample(void **state)
{
	char path[512], err[128], name[260];
	struct kd_dump *d = NULL;
	const struct kd_dump_info *in;
	uint8_t buf[0x4D0], k[0x20];
	size_t len = 0;
	uint64_t base = 0, pa;
	uint32_t size = 0, code = 0;
	uint64_t addr = 0;

	(void)state;
	kdt_require_shared(path, sizeof(path), "dumps/triage_x64.dmp");
	assert_int_equal(kd_dump_open(&d, path, err, sizeof(err)), KD_OK);
	in = kd_dump_info(d);
	assert_int_equal(in->type, KD_DUMP_TRIAGE);
	assert_true(in->ptr64);
	assert_int_equal(in->minor, 19041);
	assert_int_equal(in->machine, KD_DUMP_MACHINE_AMD64);
	assert_int_equal(in->ncpus, 16);
	assert_int_equal(in->bugcheck_code, 0x1000007E);
	assert_int_equal(in->bugcheck_params[0] & 0xffffffffu, 0xc0000005u);
	assert_true(in->bugcheck_params[1] == 0xfffff8048b58334cull);
	assert_true(in->dtb == 0x1ad000);
	assert_false(in->truncated);
	assert_null(kd_dump_warning(d, 0));
	/* The KDBG copy is readable at the header's VA. */
	assert_int_equal(kd_dump_read_virtual(d, in->kdbg, k, sizeof(k), &len),
			 KD_OK);
	assert_memory_equal(k + 0x10, "KDBG", 4);
	assert_int_equal(kd_get_le32(k + 0x14), 0x380);
	/* Crashing CONTEXT: rip at the faulting address. */
	assert_int_equal(kd_dump_context(d, 0, buf, sizeof(buf), &len), KD_OK);
	assert_int_equal(len, 0x4D0);
	assert_true(kd_get_le64(buf + KD_CTX_AMD64_RIP) ==
		    0xfffff8048b58334cull);
	assert_true(kd_get_le64(buf + KD_CTX_AMD64_RSP) ==
		    0xffff850429892120ull);
	assert_int_equal(kd_dump_context(d, 16, buf, sizeof(buf), &len),
			 KD_ENOTFOUND);
	assert_int_equal(kd_dump_context(d, 0, buf, 16, &len), KD_EBUFS);
	/* The stack copy is readable from TopOfStack. */
	assert_int_equal(
		kd_dump_read_virtual(d, 0xffff850429892120ull, k, 8, &len),
		KD_OK);
	/* No page tables in a triage dump. */
	assert_int_equal(kd_dump_translate(d, 0, in->kdbg, &pa), KD_EFAULT);
	/* Driver list: 151 entries, the kernel first. */
	assert_int_equal(kd_dump_triage_driver_count(d), 151);
	assert_int_equal(
		kd_dump_triage_driver(d, 0, &base, &size, name, sizeof(name)),
		KD_OK);
	assert_string_equal(name, "\\SystemRoot\\system32\\ntoskrnl.exe");
	assert_true(base == 0xfffff8047ba00000ull);
	assert_int_equal(kd_dump_exception(d, &code, &addr), KD_OK);
	kd_dump_close(d);
}

static void test_truncated_full_header(void **state)
{
	char path[512], err[128];
	struct kd_dump *d = NULL;
	const struct kd_dump_info *in;
	uint8_t b[16];
	size_t done = 7;

	(void)state;
	kdt_require_shared(path, sizeof(path), "dumps/full_x64_header_16k.bin");
	assert_int_equal(kd_dump_open(&d, path, err, sizeof(err)), KD_OK);
	in = kd_dump_info(d);
	assert_int_equal(in->type, KD_DUMP_FULL);
	assert_int_equal(in->minor, 19045);
	assert_int_equal(in->bugcheck_code, 0x5454414D);
	assert_true(in->truncated);
	assert_true(has_warning(d, "truncated"));
	assert_true(in->file_size == 16384);
	/* A page past the end reads as missing, not garbage. */
	assert_int_equal(
		kd_dump_read_physical(d, 0x7fff000, b, sizeof(b), &done),
		KD_EFAULT);
	assert_int_equal(done, 0);
	kd_dump_close(d);
}

/* ---- damaged headers ---- */

static void test_bad_signature(void **state)
{
	struct img m;
	struct kd_dump *d = NULL;
	char err[128];

	(void)state;
	img_init(&m, true, KD_DUMP_FULL);
	memcpy(m.b, "PAGX", 4);
	assert_int_equal(kd_dump_open(&d, img_write(&m), err, sizeof(err)),
			 KD_EPROTO);
	assert_null(d);
	assert_non_null(strstr(err, "not a kernel dump"));
	memcpy(m.b, "MDMP", 4);
	assert_int_equal(kd_dump_open(&d, img_write(&m), err, sizeof(err)),
			 KD_ENOTSUP);
	/* Too short for anything. */
	m.len = 5;
	assert_int_equal(kd_dump_open(&d, img_write(&m), err, sizeof(err)),
			 KD_EPROTO);
	assert_int_equal(
		kd_dump_open(&d, "/nonexistent/x.dmp", err, sizeof(err)),
		KD_ENOTFOUND);
	free(m.b);
	unlink(g_path);
}

static void test_runs_past_eof(void **state)
{
	static const uint64_t runs[2][2] = { { 0, 4 }, { 0x10, 4 } };
	struct img m;
	struct kd_dump *d = NULL;
	uint8_t b[PG];
	size_t done = 0;
	char err[128];

	(void)state;
	img_init(&m, true, KD_DUMP_FULL);
	img_runs64(&m, runs, 2, 2);
	memset(m.b + 0x2000 + 3 * PG, 0x33, PG); /* pfn 3 */
	memset(m.b + 0x2000 + 4 * PG, 0x44, PG); /* pfn 0x10 */
	m.len = 0x2000 + 5 * PG + 100;		 /* cut in pfn 0x11 */
	assert_int_equal(kd_dump_open(&d, img_write(&m), err, sizeof(err)),
			 KD_OK);
	assert_true(kd_dump_info(d)->truncated);
	assert_true(has_warning(d, "truncated"));
	assert_int_equal(kd_dump_read_physical(d, 3 * PG, b, PG, &done), KD_OK);
	assert_int_equal(b[0], 0x33);
	assert_int_equal(kd_dump_read_physical(d, 0x10 * PG + 8, b, 8, &done),
			 KD_OK);
	assert_int_equal(b[7], 0x44);
	/* A read across into the cut page stops at the page boundary. */
	assert_int_equal(kd_dump_read_physical(d, 0x11 * PG - 4, b, 8, &done),
			 KD_EFAULT);
	assert_int_equal(done, 4);
	/* A hole between runs. */
	assert_int_equal(kd_dump_read_physical(d, 5 * PG, b, 1, &done),
			 KD_EFAULT);
	kd_dump_close(d);
	free(m.b);
	unlink(g_path);
}

static void test_huge_counts(void **state)
{
	static const uint64_t runs[2][2] = { { 0, 1 }, { 0x100, 1ull << 50 } };
	struct img m;
	struct kd_dump *d = NULL;
	char err[128];

	(void)state;
	img_init(&m, true, KD_DUMP_FULL);
	img_runs64(&m, runs, 1, 1000);
	kd_put_le64(m.b + KD_DMP64_PHYS_MEM_BLOCK + 0x20, runs[1][0]);
	kd_put_le64(m.b + KD_DMP64_PHYS_MEM_BLOCK + 0x28, runs[1][1]);
	kd_put_le32(m.b + KD_DMP64_NUMBER_PROCESSORS, 100000);
	assert_int_equal(kd_dump_open(&d, img_write(&m), err, sizeof(err)),
			 KD_OK);
	assert_true(has_warning(d, "NumberOfRuns 1000"));
	assert_true(has_warning(d, "out of range"));
	assert_true(has_warning(d, "NumberProcessors"));
	assert_int_equal(kd_dump_info(d)->ncpus, 1);
	assert_true(kd_dump_info(d)->pages == 1);
	kd_dump_close(d);
	/* The run list left as PAGE filler. */
	memcpy(m.b + KD_DMP64_PHYS_MEM_BLOCK, "PAGE", 4);
	assert_int_equal(kd_dump_open(&d, img_write(&m), err, sizeof(err)),
			 KD_OK);
	assert_true(has_warning(d, "not filled in"));
	kd_dump_close(d);
	/* Unknown and RDMP types. */
	kd_put_le32(m.b + KD_DMP64_DUMP_TYPE, 0x77);
	assert_int_equal(kd_dump_open(&d, img_write(&m), err, sizeof(err)),
			 KD_EPROTO);
	kd_put_le32(m.b + KD_DMP64_DUMP_TYPE, 0xA);
	assert_int_equal(kd_dump_open(&d, img_write(&m), err, sizeof(err)),
			 KD_ENOTSUP);
	free(m.b);
	unlink(g_path);
}

static void test_encrypted(void **state)
{
	struct img m;
	struct kd_dump *d = NULL;
	char err[128];

	(void)state;
	img_init(&m, true, KD_DUMP_FULL);
	kd_put_le32(m.b + KD_DMP64_ATTRIBUTES, KD_DMP_ATTR_ENCRYPTED);
	assert_int_equal(kd_dump_open(&d, img_write(&m), err, sizeof(err)),
			 KD_ENOTSUP);
	assert_non_null(strstr(err, "encrypted"));
	free(m.b);
	unlink(g_path);
}

/* Bitmap body with @p npfn bits; pages for set bits get byte = pfn. */
static void img_bitmap(struct img *m, const uint64_t *pfns, unsigned n,
		       uint64_t nbits, uint64_t present_field)
{
	uint64_t body = KD_DMP64_HEADER_SIZE;
	uint64_t first = body + KD_DMP_BMP_BITMAP + (nbits + 7) / 8;
	unsigned i;

	img_grow(m, first + n * PG);
	kd_put_le32(m->b + body, KD_DMP_SIG_SDMP);
	kd_put_le32(m->b + body + 4, KD_DMP_VALID_DUMP);
	kd_put_le64(m->b + body + KD_DMP_BMP_FIRST_PAGE, first);
	kd_put_le64(m->b + body + KD_DMP_BMP_TOTAL_PRESENT, present_field);
	kd_put_le64(m->b + body + KD_DMP_BMP_PAGES, nbits);
	for (i = 0; i < n; i++) {
		m->b[body + KD_DMP_BMP_BITMAP + pfns[i] / 8] |=
			(uint8_t)(1u << (pfns[i] % 8));
		memset(m->b + first + i * PG, (int)(pfns[i] & 0xff), PG);
	}
}

static void test_bitmap(void **state)
{
	static const uint64_t pfns[] = { 1, 63, 64, 600, 1000 };
	struct img m;
	struct kd_dump *d = NULL;
	uint8_t b[8];
	size_t done;
	char err[128];
	unsigned i;

	(void)state;
	img_init(&m, true, KD_DUMP_BITMAP_KERNEL);
	img_bitmap(&m, pfns, 5, 1003, 5);
	assert_int_equal(kd_dump_open(&d, img_write(&m), err, sizeof(err)),
			 KD_OK);
	assert_null(kd_dump_warning(d, 0));
	assert_true(kd_dump_info(d)->pages == 5);
	for (i = 0; i < 5; i++) {
		assert_int_equal(kd_dump_read_physical(d, pfns[i] * PG + 100, b,
						       8, &done),
				 KD_OK);
		assert_int_equal(b[0], pfns[i] & 0xff);
	}
	assert_int_equal(kd_dump_read_physical(d, 2 * PG, b, 8, &done),
			 KD_EFAULT);
	assert_int_equal(kd_dump_read_physical(d, 1003 * PG, b, 8, &done),
			 KD_EFAULT);
	kd_dump_close(d);
	/* Count disagrees: a warning, pages still right. */
	kd_put_le64(m.b + 0x2000 + KD_DMP_BMP_TOTAL_PRESENT, 9);
	assert_int_equal(kd_dump_open(&d, img_write(&m), err, sizeof(err)),
			 KD_OK);
	assert_true(has_warning(d, "header says 0x9"));
	assert_int_equal(kd_dump_read_physical(d, 1000 * PG, b, 8, &done),
			 KD_OK);
	assert_int_equal(b[0], 1000 & 0xff);
	kd_dump_close(d);
	/* Bitmap that runs past the file: truncated, early bits usable. */
	kd_put_le64(m.b + 0x2000 + KD_DMP_BMP_PAGES, 1ull << 36);
	m.len = 0x2000 + KD_DMP_BMP_BITMAP + 16;
	assert_int_equal(kd_dump_open(&d, img_write(&m), err, sizeof(err)),
			 KD_OK);
	assert_true(kd_dump_info(d)->truncated);
	assert_true(has_warning(d, "bitmap is truncated"));
	assert_int_equal(kd_dump_read_physical(d, 1 * PG, b, 8, &done),
			 KD_EFAULT);
	kd_dump_close(d);
	/* Bad body signature. */
	memcpy(m.b + 0x2000, "XDMP", 4);
	assert_int_equal(kd_dump_open(&d, img_write(&m), err, sizeof(err)),
			 KD_EPROTO);
	free(m.b);
	unlink(g_path);
}

/* ---- translation over hand-built x64 tables ---- */

static void put_pte(struct img *m, uint64_t pa, uint64_t v)
{
	kd_put_le64(m->b + KD_DMP64_HEADER_SIZE + pa, v);
}

static void test_translate_x64(void **state)
{
	/* One run 0..0x600 pages; tables: PML4 1, PDPT 2, PD 3, PT 4. */
	static const uint64_t runs[1][2] = { { 0, 0x600 } };
	const uint64_t va = 0xfffff80000000000ull;
	struct img m;
	struct kd_dump *d = NULL;
	uint64_t pa = 0;
	uint8_t b[8];
	size_t done;
	char err[128];

	(void)state;
	img_init(&m, true, KD_DUMP_FULL);
	img_runs64(&m, runs, 1, 1);
	kd_put_le64(m.b + KD_DMP64_DIRECTORY_TABLE_BASE, 0x1000 | 0x2);
	put_pte(&m, 0x1000 + 8 * ((va >> 39) & 0x1ff), 0x2000 | 3);
	/* PDPT[0] -> PD; PDPT[1] = 1 GiB page at 0x40000000. */
	put_pte(&m, 0x2000 + 0, 0x3000 | 3);
	put_pte(&m, 0x2000 + 8, 0x40000000ull | 0x83);
	/* PD[0] -> PT; PD[1] = 2 MiB page at 0x200000 (inside the run). */
	put_pte(&m, 0x3000 + 0, 0x4000 | 3);
	put_pte(&m, 0x3000 + 8, 0x200000ull | 0x83);
	/* PT[0] valid -> 0x10000; PT[1] transition -> 0x11000 (+bit 45);
	 * PT[2] prototype/pagefile -> fails; PT[3] zero. */
	put_pte(&m, 0x4000 + 0, 0x10000 | 0x63);
	put_pte(&m, 0x4000 + 8, (1ull << 45) | 0x11000 | 0x800);
	put_pte(&m, 0x4000 + 16, 0x0000000500000000ull | 0x80);
	kd_put_le64(m.b + 0x2000 + 0x10000 + 0x18, 0x1111222233334444ull);
	kd_put_le64(m.b + 0x2000 + 0x11000 + 0x20, 0x5555666677778888ull);
	kd_put_le64(m.b + 0x2000 + 0x200000 + 0x12345, 0x9999aaaabbbbccccull);
	assert_int_equal(kd_dump_open(&d, img_write(&m), err, sizeof(err)),
			 KD_OK);
	assert_int_equal(kd_dump_translate(d, 0, va + 0x18, &pa), KD_OK);
	assert_true(pa == 0x10018);
	assert_int_equal(kd_dump_read_virtual(d, va + 0x18, b, 8, &done),
			 KD_OK);
	assert_true(kd_get_le64(b) == 0x1111222233334444ull);
	assert_int_equal(kd_dump_translate(d, 0, va + 0x1020, &pa), KD_OK);
	assert_true(pa == 0x11020);
	assert_int_equal(kd_dump_read_virtual(d, va + 0x1020, b, 8, &done),
			 KD_OK);
	assert_true(kd_get_le64(b) == 0x5555666677778888ull);
	assert_int_equal(kd_dump_translate(d, 0, va + 0x2000, &pa), KD_EFAULT);
	assert_int_equal(kd_dump_translate(d, 0, va + 0x3000, &pa), KD_EFAULT);
	/* 2 MiB page. */
	assert_int_equal(kd_dump_translate(d, 0, va + 0x200000 + 0x12345, &pa),
			 KD_OK);
	assert_true(pa == 0x212345);
	assert_int_equal(kd_dump_read_virtual(d, va + 0x212345, b, 8, &done),
			 KD_OK);
	assert_true(kd_get_le64(b) == 0x9999aaaabbbbccccull);
	/* 1 GiB page: translates, the frame is not in the dump. */
	assert_int_equal(
		kd_dump_translate(d, 0, va + 0x40000000 + 0x1234567, &pa),
		KD_OK);
	assert_true(pa == 0x41234567);
	assert_int_equal(kd_dump_read_virtual(d, va + 0x41234567, b, 8, &done),
			 KD_EFAULT);
	/* Unmapped PML4 slot. */
	assert_int_equal(kd_dump_translate(d, 0, 0x1000, &pa), KD_EFAULT);
	kd_dump_close(d);
	free(m.b);
	unlink(g_path);
}

/* 32-bit header, PAE and non-PAE walks. */
static void test_x86_header(void **state)
{
	struct img m;
	struct kd_dump *d = NULL;
	const struct kd_dump_info *in;
	uint64_t pa = 0;
	char err[128];
	size_t pmd = KD_DMP32_PHYS_MEM_BLOCK;
	const uint64_t va = 0x80401234u;
	uint8_t *body;

	(void)state;
	img_init(&m, false, KD_DUMP_FULL);
	kd_put_le32(m.b + pmd, 1);
	kd_put_le32(m.b + pmd + 4, 0x20);
	kd_put_le32(m.b + pmd + 8, 0);
	kd_put_le32(m.b + pmd + 12, 0x20);
	img_grow(&m, 0x1000 + 0x20 * PG);
	body = m.b + 0x1000;
	/* non-PAE: PD at 0x1000, PT at 0x2000, page 0x5000; 4 MiB page for
	 * 0xC0000000 -> 0x400000. */
	kd_put_le32(m.b + KD_DMP32_DIRECTORY_TABLE_BASE, 0x1000);
	kd_put_le32(body + 0x1000 + 4 * (va >> 22), 0x2000 | 3);
	kd_put_le32(body + 0x2000 + 4 * ((va >> 12) & 0x3ff), 0x5000 | 3);
	kd_put_le32(body + 0x1000 + 4 * (0xC0000000u >> 22), 0x400000 | 0x83);
	assert_int_equal(kd_dump_open(&d, img_write(&m), err, sizeof(err)),
			 KD_OK);
	in = kd_dump_info(d);
	assert_false(in->ptr64);
	assert_false(in->pae);
	assert_int_equal(in->minor, 2600);
	assert_int_equal(in->ncpus, 2);
	assert_int_equal(in->machine, KD_DUMP_MACHINE_I386);
	assert_int_equal(kd_dump_translate(d, 0, va, &pa), KD_OK);
	assert_true(pa == 0x5234);
	assert_int_equal(kd_dump_translate(d, 0, 0xC0123456u, &pa), KD_OK);
	assert_true(pa == 0x523456);
	kd_dump_close(d);
	/* PAE: PDPT at 0x6000 (32-byte aligned), PD 0x7000, PT 0x8000. */
	m.b[KD_DMP32_PAE_ENABLED] = 1;
	kd_put_le32(m.b + KD_DMP32_DIRECTORY_TABLE_BASE, 0x6020);
	kd_put_le64(body + 0x6020 + 8 * (va >> 30), 0x7000 | 1);
	kd_put_le64(body + 0x7000 + 8 * ((va >> 21) & 0x1ff), 0x8000 | 3);
	kd_put_le64(body + 0x8000 + 8 * ((va >> 12) & 0x1ff),
		    0x9000 | 0x800); /* transition */
	assert_int_equal(kd_dump_open(&d, img_write(&m), err, sizeof(err)),
			 KD_OK);
	assert_true(kd_dump_info(d)->pae);
	assert_int_equal(kd_dump_translate(d, 0, va, &pa), KD_OK);
	assert_true(pa == 0x9234);
	kd_dump_close(d);
	free(m.b);
	unlink(g_path);
}

/* ---- encoded KDBG ---- */

static uint64_t rotr64(uint64_t v, unsigned r)
{
	r %= 64;
	return r ? (v >> r) | (v << (64 - r)) : v;
}

static void test_kdbg_decode(void **state)
{
	const uint64_t never = 0x1234567890abcd17ull;
	const uint64_t always = 0x0fedcba987654321ull;
	const uint64_t enc_va = 0xfffff8047c6fc3b8ull;
	uint8_t blk[0x20], orig[0x20];
	unsigned i;

	(void)state;
	memset(orig, 0, sizeof(orig));
	kd_put_le64(orig, 0xfffff8047c600b20ull);
	memcpy(orig + 0x10, "KDBG", 4);
	kd_put_le32(orig + 0x14, 0x380);
	kd_put_le64(orig + 0x18, 0xfffff8047ba00000ull);
	/* Encode with the inverse of the documented decoding. */
	for (i = 0; i < sizeof(orig); i += 8) {
		uint64_t w = kd_get_le64(orig + i);

		w ^= always;
		w = __builtin_bswap64(w);
		w ^= enc_va;
		w = rotr64(w, (unsigned)(never & 0xff));
		w ^= never;
		kd_put_le64(blk + i, w);
	}
	assert_memory_not_equal(blk + 0x10, "KDBG", 4);
	kd_dump_kdbg_decode(blk, sizeof(blk), never, always, enc_va);
	assert_memory_equal(blk, orig, sizeof(orig));
}

/* ---- dumpgen fixtures: every machine, full and bitmap ---- */

static void check_fixture(enum kdt_dg_arch arch, uint32_t type)
{
	struct kdt_dumpgen g;
	struct kd_dump *d = NULL;
	char err[128];
	unsigned i, cpu;
	uint8_t got[64], want[64];
	size_t done = 0;

	memset(&g, 0, sizeof(g));
	assert_int_equal(kdt_dumpgen_build(&g, arch, 2), 0);
	snprintf(g_path, sizeof(g_path), "/tmp/kd_dump_read_fx_%d.dmp",
		 (int)getpid());
	assert_int_equal(kdt_dumpgen_write(&g, g_path, type), KD_OK);
	assert_int_equal(kd_dump_open(&d, g_path, err, sizeof(err)), KD_OK);
	assert_int_equal(kd_dump_info(d)->machine, g.machine);
	assert_int_equal(kd_dump_info(d)->pae, g.pae);
	for (i = 0; i < g.nmaps; i++) {
		const struct kdt_dg_map *mp = &g.maps[i];
		uint64_t pa = 0;
		int rc = kd_dump_translate(d, 0, mp->va, &pa);

		if (mp->kind == KDT_DG_NOT_PRESENT) {
			assert_int_equal(rc, KD_EFAULT);
			continue;
		}
		if (mp->kind == KDT_DG_KDATA)
			continue;
		assert_int_equal(rc, KD_OK);
		assert_true(pa == mp->pa[0]);
		if (mp->kind == KDT_DG_MISSING ||
		    (mp->kind == KDT_DG_USERONLY &&
		     type == KD_DUMP_BITMAP_KERNEL)) {
			assert_int_equal(
				kd_dump_read_virtual(d, mp->va, got, 8, &done),
				KD_EFAULT);
			continue;
		}
		assert_int_equal(kd_dump_read_virtual(d, mp->va, got,
						      sizeof(got), &done),
				 KD_OK);
		assert_true(
			kdt_dumpgen_phys(&g, mp->pa[0], want, sizeof(want)));
		assert_memory_equal(got, want, sizeof(want));
		assert_string_equal((const char *)got, mp->tag);
	}
	for (cpu = 0; cpu < 2; cpu++) {
		uint8_t ctx[0x4D0];
		size_t len = 0;

		assert_int_equal(
			kd_dump_context(d, cpu, ctx, sizeof(ctx), &len), KD_OK);
		assert_int_equal(len, g.ctx_len);
		assert_memory_equal(ctx, g.ctx[cpu], g.ctx_len);
	}
	kd_dump_close(d);
	kdt_dumpgen_free(&g);
	unlink(g_path);
}

static void test_fixtures(void **state)
{
	static const enum kdt_dg_arch archs[] = { KDT_DG_X64, KDT_DG_X86,
						  KDT_DG_X86_PAE,
						  KDT_DG_ARM64 };
	unsigned i;

	(void)state;
	for (i = 0; i < 4; i++) {
		check_fixture(archs[i], KD_DUMP_FULL);
		check_fixture(archs[i], KD_DUMP_BITMAP_FULL);
		check_fixture(archs[i], KD_DUMP_BITMAP_KERNEL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_triage_sample),
		cmocka_unit_test(test_truncated_full_header),
		cmocka_unit_test(test_bad_signature),
		cmocka_unit_test(test_runs_past_eof),
		cmocka_unit_test(test_huge_counts),
		cmocka_unit_test(test_encrypted),
		cmocka_unit_test(test_bitmap),
		cmocka_unit_test(test_translate_x64),
		cmocka_unit_test(test_x86_header),
		cmocka_unit_test(test_kdbg_decode),
		cmocka_unit_test(test_fixtures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
