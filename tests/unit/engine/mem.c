/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the memory commands (d*, e*, s, !d*, !e*, .writemem,
 * .readmem, !pte, !vtop) against a fake target: exact WinDbg lines,
 * unreadable holes at a page boundary, writes and their errors, and page
 * walks over hand-built x64 tables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>

#include "mem_fake.h"
#include "arch/paging.h"

#define VBASE 0xfffff80000401000ull
#define ROBASE 0xfffff80000500000ull

static const char mem_long[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz01234567";

static void put64(uint8_t *p, uint64_t v)
{
	kd_put_le64(p, v);
}

static int setup(void **state)
{
	struct fake_env *e = fake_env_new();
	struct fake_target *f = e->f;
	static const uint8_t mz[16] = { 0x4d, 0x5a, 0x90, 0, 3,	   0,	 0, 0,
					4,    0,    0,	  0, 0xff, 0xff, 0, 0 };
	uint8_t *d, *ph;
	size_t i;

	d = malloc(0x1000);
	for (i = 0; i < 0x1000; i++)
		d[i] = (uint8_t)i;
	memcpy(d, mz, sizeof(mz));
	memcpy(d + 0x100, "Hello, kd!", 11);
	memcpy(d + 0x140, mem_long, sizeof(mem_long));
	memcpy(d + 0x200, "W\0i\0d\0e\0\0\0", 10);
	memcpy(d + 0x300, "\xde\xad\xbe\xef", 4);
	put64(d + 0x380, VBASE);
	put64(d + 0x388, 0x1234);
	f->r[0] = (struct fake_region){ VBASE, 0x1000, d, false };
	f->r[1] = (struct fake_region){ ROBASE, 0x1000, calloc(1, 0x1000),
					true };

	/* Page tables at physical 1 MiB: 4 KiB page, 2 MiB page, hole. */
	ph = f->phys;
	put64(ph + 0x100000 + 8 * 0x1f0, 0x101063);
	put64(ph + 0x101000, 0x102063);
	put64(ph + 0x102000 + 8 * 2, 0x103063);
	put64(ph + 0x102000 + 8 * 3, 0x4001e3);
	put64(ph + 0x103000 + 8 * 1, 0x8000000000205163ull);
	memcpy(ph + 0x1000, "PhysicalMemory!!", 16);
	f->ks.cr3 = 0x100000;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	fake_env_free(*state);
	return 0;
}

static void test_engine_mem__db_line(void **state)
{
	struct fake_env *e = *state;

	assert_string_equal(fake_run(e, "db fffff800`00401000 L10"),
			    "fffff800`00401000  4d 5a 90 00 03 00 00 00-04 00 "
			    "00 00 ff ff 00 00  MZ..............\n");
	assert_int_equal(e->rc, KD_OK);
	/* A short line keeps the ASCII column in place. */
	assert_string_equal(fake_run(e, "db fffff800`00401000 L4"),
			    "fffff800`00401000  4d 5a 90 00"
			    "                                    "
			    "  MZ..\n");
}

static void test_engine_mem__page_boundary(void **state)
{
	struct fake_env *e = *state;

	assert_string_equal(fake_run(e, "db fffff800`00401ff8 L10"),
			    "fffff800`00401ff8  f8 f9 fa fb fc fd fe ff-?? ?? "
			    "?? ?? ?? ?? ?? ??  ........????????\n");
	assert_string_equal(fake_run(e, "dd fffff800`00401ff8 L4"),
			    "fffff800`00401ff8  fbfaf9f8 fffefdfc ???????? "
			    "????????\n");
	assert_string_equal(fake_run(e, "dq fffff800`00401ff8 L2"),
			    "fffff800`00401ff8  fffefdfc`fbfaf9f8 "
			    "????????`????????\n");
	assert_string_equal(fake_run(e, "dd fffff800`00402000 L4"),
			    "fffff800`00402000  ???????? ???????? ???????? "
			    "????????\n");
	assert_int_equal(e->rc, KD_OK);
}

static void test_engine_mem__dw_dc(void **state)
{
	struct fake_env *e = *state;

	assert_string_equal(fake_run(e, "dw fffff800`00401010 L3"),
			    "fffff800`00401010  1110 1312 1514\n");
	assert_string_equal(fake_run(e, "dc fffff800`00401100 L4"),
			    "fffff800`00401100  6c6c6548 6b202c6f 0b002164 "
			    "0f0e0d0c  Hello, kd!......\n");
}

static size_t count_lines(const char *t)
{
	size_t n = 0;

	for (; *t; t++)
		n += *t == '\n';
	return n;
}

static void test_engine_mem__defaults_and_repeat(void **state)
{
	struct fake_env *e = *state;
	const char *out;

	out = fake_run(e, "db fffff800`00401000");
	assert_int_equal(count_lines(out), 8);
	out = fake_run(e, "d");
	assert_int_equal(count_lines(out), 8);
	assert_memory_equal(out, "fffff800`00401080  80 81 82", 26);
	out = fake_run(e, "dd fffff800`00401000");
	assert_int_equal(count_lines(out), 8);
	out = fake_run(e, "dq fffff800`00401000");
	assert_int_equal(count_lines(out), 8);
	out = fake_run(e, "dp fffff800`00401000");
	assert_int_equal(count_lines(out), 8);
	assert_memory_equal(out, "fffff800`00401000  00000003`00905a4d ", 37);
	/* d after dq keeps the dq layout and continues. */
	fake_run(e, "dq fffff800`00401000 L2");
	out = fake_run(e, "d");
	assert_memory_equal(out, "fffff800`00401010  17161514`13121110 ", 37);
	out = fake_run(e, "dw fffff800`00401000");
	assert_int_equal(count_lines(out), 8);
}

static void test_engine_mem__start_at_rip(void **state)
{
	struct fake_env *e = *state;
	uint8_t *ctx = e->f->ctx;
	const char *out;

	/* No d* yet: a bare d starts at the instruction pointer as db. */
	kd_put_le64(ctx + KD_AMD64_CTX_OFF_RIP, VBASE + 0x100);
	out = fake_run(e, "d");
	assert_int_equal(count_lines(out), 8);
	assert_memory_equal(out, "fffff800`00401100  48 65 6c 6c 6f 2c", 36);
	/* Too much for a sandboxed session: WinDbg's range error. */
	out = fake_run(e, "db fffff800`00401000 L?200000");
	assert_string_equal(out, "    ^ Range error in "
				 "'db fffff800`00401000 L?200000'\n");
	assert_int_equal(e->rc, KD_EINVAL);
	fake_run(e, "s -b 0 L?1000000 1");
	assert_int_equal(e->rc, KD_EINVAL);
}

static void test_engine_mem__columns(void **state)
{
	struct fake_env *e = *state;

	assert_string_equal(fake_run(e, "db /c 8 fffff800`00401020 L10"),
			    "fffff800`00401020  20 21 22 23 24 25 26 27  "
			    " !\"#$%&'\n"
			    "fffff800`00401028  28 29 2a 2b 2c 2d 2e 2f  "
			    "()*+,-./\n");
}

static void test_engine_mem__strings(void **state)
{
	struct fake_env *e = *state;

	assert_string_equal(fake_run(e, "da fffff800`00401100"),
			    "fffff800`00401100  \"Hello, kd!\"\n");
	assert_string_equal(fake_run(e, "da fffff800`00401100 L5"),
			    "fffff800`00401100  \"Hello\"\n");
	assert_string_equal(fake_run(e, "da fffff800`00401140"),
			    "fffff800`00401140  \"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "abcdefghijklmnopqrstuv\"\n"
			    "fffff800`00401170  \"wxyz01234567\"\n");
	assert_string_equal(fake_run(e, "du fffff800`00401200"),
			    "fffff800`00401200  \"Wide\"\n");
}

static void test_engine_mem__dps(void **state)
{
	struct fake_env *e = *state;
	const char *out = fake_run(e, "dps fffff800`00401380 L2");
	const char *nl;

	/* Value first; a symbol may follow when the symbols resolve. */
	assert_memory_equal(out, "fffff800`00401380  fffff800`00401000", 36);
	assert_true(out[36] == '\n' || out[36] == ' ');
	nl = strchr(out, '\n');
	assert_non_null(nl);
	assert_memory_equal(nl + 1, "fffff800`00401388  00000000`00001234", 36);
	assert_string_equal(fake_run(e, "dds fffff800`00402000 L1"),
			    "fffff800`00402000  ????????\n");
}

static void test_engine_mem__enter(void **state)
{
	struct fake_env *e = *state;
	uint8_t *d = e->f->r[0].data;

	assert_string_equal(fake_run(e, "eb fffff800`00401400 41 'B' 43"), "");
	assert_int_equal(e->rc, KD_OK);
	assert_memory_equal(d + 0x400, "ABC", 3);
	assert_int_equal(d[0x403], 0x03);
	fake_run(e, "ed fffff800`00401410 12345678");
	assert_memory_equal(d + 0x410, "\x78\x56\x34\x12", 4);
	fake_run(e, "eq fffff800`00401418 1122334455667788");
	assert_memory_equal(d + 0x418, "\x88\x77\x66\x55\x44\x33\x22\x11", 8);
	fake_run(e, "ew fffff800`00401420 beef 1");
	assert_memory_equal(d + 0x420, "\xef\xbe\x01\x00", 4);
	assert_string_equal(fake_run(e, "ea fffff800`00401430 \"xyz\""), "");
	assert_memory_equal(d + 0x430, "xyz\x33", 4);
	fake_run(e, "eza fffff800`00401440 \"hi\"");
	assert_memory_equal(d + 0x440, "hi\0\x43", 4);
	fake_run(e, "eu fffff800`00401450 \"ok\"");
	assert_memory_equal(d + 0x450, "o\0k\0\x54", 5);
	/* Reads see the writes (the cache is dropped). */
	assert_string_equal(fake_run(e, "db fffff800`00401400 L3"),
			    "fffff800`00401400  41 42 43"
			    "                                       "
			    "  ABC\n");
}

static void test_engine_mem__enter_errors(void **state)
{
	struct fake_env *e = *state;

	assert_string_equal(fake_run(e, "eb fffff800`00500000 1"),
			    "Memory access error at '1'\n");
	assert_int_equal(e->rc, KD_EFAULT);
	assert_string_equal(fake_run(e, "ed fffff800`00402000 5 6"),
			    "Memory access error at '5 6'\n");
	assert_string_equal(fake_run(e, "eb fffff800`00401400 100"),
			    "Overflow error at '100'\n");
	assert_int_equal(e->rc, KD_EOVERFLOW);
	assert_string_equal(fake_run(e, "ea fffff800`00500000 \"no\""),
			    "Memory access error at '\"no\"'\n");
	assert_true(fake_run(e, "ea fffff800`00401400 noquote")[0] != '\0');
	assert_int_equal(e->rc, KD_EINVAL);
}

static int in_calls;

static int fake_input(void *ctx, const char *prompt, char *buf, size_t cap)
{
	(void)ctx;
	assert_string_equal(prompt, "Input> ");
	in_calls++;
	snprintf(buf, cap, "%s", in_calls == 1 ? "55 66" : "");
	return KD_OK;
}

static void test_engine_mem__enter_interactive(void **state)
{
	struct fake_env *e = *state;

	in_calls = 0;
	kd_session_set_input(e->s, fake_input, NULL);
	assert_string_equal(fake_run(e, "eb fffff800`00401460"),
			    "fffff800`00401460 60\n"
			    "fffff800`00401462 62\n");
	assert_int_equal(in_calls, 2);
	assert_memory_equal(e->f->r[0].data + 0x460, "\x55\x66\x62", 3);
	kd_session_set_input(e->s, NULL, NULL);
}

static void test_engine_mem__search(void **state)
{
	struct fake_env *e = *state;

	assert_string_equal(
		fake_run(e, "s -b fffff800`00401000 L1000 de ad be ef"),
		"fffff800`00401300  de ad be ef 04 05 06 07-08 09 0a 0b 0c "
		"0d 0e 0f  ................\n");
	assert_string_equal(
		fake_run(e, "s -d fffff800`00401000 L400 efbeadde"),
		"fffff800`00401300  efbeadde 07060504 0b0a0908 0f0e0d0c  "
		"................\n");
	assert_string_equal(
		fake_run(e, "s -a fffff800`00401000 L1000 \"kd!\""),
		"fffff800`00401107  6b 64 21 00 0b 0c 0d 0e-0f 10 11 12 13 "
		"14 15 16  kd!.............\n");
	assert_string_equal(
		fake_run(e, "s -u fffff800`00401000 L1000 \"ide\""),
		"fffff800`00401202  69 00 64 00 65 00 00 00-0a 0b 0c 0d 0e "
		"0f 10 11  i.d.e...........\n");
	/* Into the hole after the page: one hit, shown with ??. */
	assert_string_equal(
		fake_run(e, "s -b fffff800`00401f00 L200 ff"),
		"fffff800`00401fff  ff ?? ?? ?? ?? ?? ?? ?\?-?? ?? ?? ?? ?? "
		"?? ?? ??  .???????????????\n");
	assert_string_equal(fake_run(e, "s -q fffff800`00401000 L200 1234"),
			    "fffff800`00401388  00000000`00001234 "
			    "97969594`93929190\n");
	assert_string_equal(
		fake_run(e, "s -b fffff800`00401000 L1000 de ad de ad"), "");
	assert_int_equal(e->rc, KD_OK);
	fake_run(e, "s -x fffff800`00401000 L10 1");
	assert_int_equal(e->rc, KD_EINVAL);
}

static void test_engine_mem__physical(void **state)
{
	struct fake_env *e = *state;

	assert_string_equal(fake_run(e, "!db 1000 L10"),
			    "#    1000 50 68 79 73 69 63 61 6c-4d 65 6d 6f 72 "
			    "79 21 21 PhysicalMemory!!\n");
	assert_string_equal(fake_run(e, "!dd 1000 L4"),
			    "#    1000 73796850 6c616369 6f6d654d 21217972\n");
	assert_string_equal(fake_run(e, "!dq 1000 L2"),
			    "#    1000 6c616369`73796850 21217972`6f6d654d\n");
	assert_string_equal(fake_run(e, "!dd 3ffff8 L4"),
			    "#  3ffff8 00000000 00000000 ???????? ????????\n");
	assert_string_equal(fake_run(e, "db /p 1000 L10"),
			    "00000000`00001000  50 68 79 73 69 63 61 6c-4d 65 "
			    "6d 6f 72 79 21 21  PhysicalMemory!!\n");
	assert_string_equal(fake_run(e, "!eb 2000 aa bb"), "");
	assert_memory_equal(e->f->phys + 0x2000, "\xaa\xbb", 2);
	assert_string_equal(fake_run(e, "!dw 2000 L2"),
			    "#    2000 bbaa 0000\n");
}

/* !pte's header: the VA right-aligned as WinDbg prints it, after the
 * line saying the fake's tables have no self-map (addresses physical). */
#define PTE_HDR                                                            \
	"No page-table self-map (no nt!MmPteBase, no PML4 entry maps the " \
	"PML4): entry addresses are physical\n"                            \
	"                                           "
#define PTE_VA "                                           VA "

static void test_engine_mem__pte(void **state)
{
	struct fake_env *e = *state;

	assert_string_equal(
		fake_run(e, "!pte fffff800`00401abc"), PTE_HDR
		"VA fffff80000401abc\n"
		"PXE at 0000000000100F80    PPE at 0000000000101000    "
		"PDE at 0000000000102010    PTE at 0000000000103008\n"
		"contains 0000000000101063  contains 0000000000102063  "
		"contains 0000000000103063  contains 8000000000205163\n"
		"pfn 101       ---DA--KWEV  pfn 102       ---DA--KWEV  "
		"pfn 103       ---DA--KWEV  pfn 205       -G-DA--KW-V\n");
	assert_string_equal(
		fake_run(e, "!pte fffff800`00654321"),
		PTE_HDR "VA fffff80000654321\n"
			"PXE at 0000000000100F80    PPE at 0000000000101000    "
			"PDE at 0000000000102018\n"
			"contains 0000000000101063  contains 0000000000102063  "
			"contains 00000000004001E3\n"
			"pfn 101       ---DA--KWEV  pfn 102       ---DA--KWEV  "
			"pfn 400       -GLDA--KWEV  LARGE PAGE pfn 454\n");
	assert_string_equal(
		fake_run(e, "!pte fffff800`00800000"),
		PTE_HDR "VA fffff80000800000\n"
			"PXE at 0000000000100F80    PPE at 0000000000101000    "
			"PDE at 0000000000102020\n"
			"contains 0000000000101063  contains 0000000000102063  "
			"contains 0000000000000000\n"
			"pfn 101       ---DA--KWEV  pfn 102       ---DA--KWEV  "
			"not valid\n");
	assert_int_equal(e->rc, KD_OK);
}

/*
 * With a self-map, the entry addresses are the self-map's virtual ones.
 * Slot 0x1ED (Windows before 1607): the expected addresses of VA
 * 1`40000000 are those of the WinDbg transcript in the facts (kernel-
 * commands.md 5.5), not computed here; the PTE's contents too.
 */
static void test_engine_mem__pte_selfmap(void **state)
{
	struct fake_env *e = *state;
	uint8_t *ph = e->f->phys;

	put64(ph + 0x100000 + 8 * 0x1ed, 0x100063);
	put64(ph + 0x100000, 0x110067);
	put64(ph + 0x110000 + 8 * 5, 0x111067);
	put64(ph + 0x111000, 0x112067);
	put64(ph + 0x112000, 0x82A0000061330025ull);
	assert_string_equal(
		fake_run(e, "!pte 1`40000000"), PTE_VA
		"0000000140000000\n"
		"PXE at FFFFF6FB7DBED000    PPE at FFFFF6FB7DA00028    "
		"PDE at FFFFF6FB40005000    PTE at FFFFF68000A00000\n"
		"contains 0000000000110067  contains 0000000000111067  "
		"contains 0000000000112067  contains 82A0000061330025\n"
		"pfn 110       ---DA--UWEV  pfn 111       ---DA--UWEV  "
		"pfn 112       ---DA--UWEV  pfn 61330     ----A--UR-V\n");
	/* The kernel VA of the other cases: PXE slot 0x1F0 is F80 into
	 * the PXE page, as the physical column showed. */
	assert_string_equal(
		fake_run(e, "!pte fffff800`00401abc"), PTE_VA
		"fffff80000401abc\n"
		"PXE at FFFFF6FB7DBEDF80    PPE at FFFFF6FB7DBF0000    "
		"PDE at FFFFF6FB7E000010    PTE at FFFFF6FC00002008\n"
		"contains 0000000000101063  contains 0000000000102063  "
		"contains 0000000000103063  contains 8000000000205163\n"
		"pfn 101       ---DA--KWEV  pfn 102       ---DA--KWEV  "
		"pfn 103       ---DA--KWEV  pfn 205       -G-DA--KW-V\n");
	assert_int_equal(e->rc, KD_OK);
	/* A randomized slot (1607 and later): 0x1F3. */
	put64(ph + 0x100000 + 8 * 0x1ed, 0);
	put64(ph + 0x100000 + 8 * 0x1f3, 0x100063);
	assert_non_null(strstr(fake_run(e, "!pte 1`40000000"),
			       "PXE at FFFFF9FCFE7F3000    "));
}

static void test_engine_mem__vtop(void **state)
{
	struct fake_env *e = *state;
	uint64_t pa = 0;

	assert_string_equal(
		fake_run(e, "!vtop 0 fffff800`00401abc"),
		"Amd64VtoP: Virt fffff800`00401abc, pagedir 00000000`00100000\n"
		"Amd64VtoP: PML4E 00000000`00100f80\n"
		"Amd64VtoP: PDPE 00000000`00101000\n"
		"Amd64VtoP: PDE 00000000`00102010\n"
		"Amd64VtoP: PTE 00000000`00103008\n"
		"Amd64VtoP: Mapped phys 00000000`00205abc\n"
		"Virtual address fffff80000401abc translates to physical "
		"address 205abc.\n");
	assert_string_equal(
		fake_run(e, "!vtop 100000 fffff800`00654321"),
		"Amd64VtoP: Virt fffff800`00654321, pagedir 00000000`00100000\n"
		"Amd64VtoP: PML4E 00000000`00100f80\n"
		"Amd64VtoP: PDPE 00000000`00101000\n"
		"Amd64VtoP: PDE 00000000`00102018\n"
		"Amd64VtoP: Large page mapped phys 00000000`00454321\n"
		"Virtual address fffff80000654321 translates to physical "
		"address 454321.\n");
	assert_string_equal(
		fake_run(e, "!vtop 0 fffff800`00800000"),
		"Amd64VtoP: Virt fffff800`00800000, pagedir 00000000`00100000\n"
		"Amd64VtoP: PML4E 00000000`00100f80\n"
		"Amd64VtoP: PDPE 00000000`00101000\n"
		"Amd64VtoP: PDE 00000000`00102020\n"
		"Amd64VtoP: zero PDE\n"
		"Virtual address fffff80000800000 translation fails, error "
		"0xD0000147.\n");
	assert_int_equal(e->rc, KD_ENOTFOUND);
	/* The helper the other commands use. */
	assert_int_equal(kd_virt_to_phys(e->s, 0xfffff80000401abcull, &pa),
			 KD_OK);
	assert_int_equal(pa, 0x205abc);
	assert_int_equal(kd_virt_to_phys(e->s, 0x1000, &pa), KD_ENOTFOUND);
}

static void test_engine_mem__writemem_readmem(void **state)
{
	struct fake_env *e = *state;
	char path[256], cmd[400];
	uint8_t *back;
	size_t len = 0;

	/* Sandboxed sessions never touch host files. */
	snprintf(path, sizeof(path), "/tmp/kd-mem-test-%ld.bin",
		 (long)getpid());
	snprintf(cmd, sizeof(cmd), ".writemem %s fffff800`00401000 L20", path);
	fake_run(e, cmd);
	assert_true(e->rc < 0);
	assert_int_equal(access(path, F_OK), -1);

	e->s->sandbox = false;
	assert_string_equal(fake_run(e, cmd), "Writing 20 bytes.\n");
	assert_int_equal(e->rc, KD_OK);
	back = malloc(64);
	{
		FILE *fp = fopen(path, "rb");

		assert_non_null(fp);
		len = fread(back, 1, 64, fp);
		fclose(fp);
	}
	assert_int_equal(len, 0x20);
	assert_memory_equal(back, e->f->r[0].data, 0x20);
	free(back);
	snprintf(cmd, sizeof(cmd), ".readmem %s fffff800`00401800 L10", path);
	assert_string_equal(fake_run(e, cmd), "Reading 10 bytes.\n");
	assert_memory_equal(e->f->r[0].data + 0x800, e->f->r[0].data, 0x10);
	assert_int_equal(e->f->r[0].data[0x810], 0x10);
	/* Unreadable source: a partial file and an error. */
	snprintf(cmd, sizeof(cmd), ".writemem %s fffff800`00402000 L10", path);
	assert_string_equal(fake_run(e, cmd),
			    "Writing 10 bytes\n"
			    "Unable to read memory at fffff800`00402000, file "
			    "is partial\n");
	assert_int_equal(e->rc, KD_EFAULT);
	unlink(path);
	e->s->sandbox = true;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(n) cmocka_unit_test_setup_teardown(n, setup, teardown)
		T(test_engine_mem__db_line),
		T(test_engine_mem__page_boundary),
		T(test_engine_mem__dw_dc),
		T(test_engine_mem__defaults_and_repeat),
		T(test_engine_mem__start_at_rip),
		T(test_engine_mem__columns),
		T(test_engine_mem__strings),
		T(test_engine_mem__dps),
		T(test_engine_mem__enter),
		T(test_engine_mem__enter_errors),
		T(test_engine_mem__enter_interactive),
		T(test_engine_mem__search),
		T(test_engine_mem__physical),
		T(test_engine_mem__pte),
		T(test_engine_mem__pte_selfmap),
		T(test_engine_mem__vtop),
		T(test_engine_mem__writemem_readmem),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
