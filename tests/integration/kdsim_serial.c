/* SPDX-License-Identifier: MIT */
/*
 * kdsim over a unix-socket serial line: a host-role client attaches to a
 * kdsim process and checks every reply against the simulated machine
 * (structures, page tables, breakpoints, single steps, break-in, bug check).
 */
#include "kdsim_client.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <kd/error.h>

#define KERNEL_BASE 0xFFFFF80000400000ull

static struct kc g;
static char sock_path[128];
static struct kd_version ver;
static uint64_t kdbg;

static int group_setup(void **state)
{
	const char *args[] = { "-k",	     NULL, "--cpus",	   "4",
			       "--print-ms", "0",  "--loadmod-ms", "0",
			       NULL };
	static char k[200];

	(void)state;
	snprintf(sock_path, sizeof(sock_path), "/tmp/kdsim-test-%d.sock",
		 (int)getpid());
	unlink(sock_path);
	snprintf(k, sizeof(k), "com:pipe,port=%s", sock_path);
	args[1] = k;
	kc_spawn(&g, args);
	kc_attach(&g, NULL);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	kc_stop(&g);
	unlink(sock_path);
	return 0;
}

/* Attach: sync, break in, the first DbgPrint and the first stop. */
static void test_attach_breakin(void **state)
{
	(void)state;
	assert_int_equal(kd_link_sync(g.link, KC_TIMEOUT_MS), KD_OK);
	assert_int_equal(kd_link_break_in(g.link), KD_OK);
	assert_int_equal(kc_wait_stop(&g), KD_STATUS_BREAKPOINT);
	assert_int_equal(g.sc.number_processors, 4);
	assert_true(g.sc.program_counter >= KERNEL_BASE);
	assert_non_null(strstr(g.prints, "synthetic kernel build 19041"));
}

static void test_version(void **state)
{
	uint8_t mz[2];

	(void)state;
	kc_version(&g, &ver);
	assert_int_equal(ver.protocol_version, 6);
	assert_int_equal(ver.machine_type, KD_MACHINE_AMD64);
	assert_int_equal(ver.minor_version, 19041);
	assert_true(ver.flags & KD_VERS_FLAG_DATA);
	assert_true(ver.flags & KD_VERS_FLAG_PTR64);
	assert_true(ver.kern_base == KERNEL_BASE);
	assert_int_equal(
		kc_read(&g, KD_API_READ_VIRTUAL_MEMORY, ver.kern_base, mz, 2),
		2);
	assert_memory_equal(mz, "MZ", 2);
	assert_true(ver.ps_loaded_module_list > ver.kern_base);
	assert_true(ver.debugger_data_list != 0);
}

static void test_kdbg(void **state)
{
	uint8_t b[KD_KDBG_SIZE_MAX];
	struct kd_debugger_data d;

	(void)state;
	kdbg = kc_read64(&g, ver.debugger_data_list);
	assert_true(kdbg != ver.debugger_data_list);
	assert_int_equal(
		kc_read(&g, KD_API_READ_VIRTUAL_MEMORY, kdbg, b, sizeof(b)),
		sizeof(b));
	assert_int_equal(kd_debugger_data_decode(&d, b, sizeof(b)), KD_OK);
	assert_int_equal(d.owner_tag, KD_KDBG_TAG);
	assert_int_equal(d.size, 0x380);
	assert_true(d.kern_base == ver.kern_base);
	assert_true(d.ps_loaded_module_list == ver.ps_loaded_module_list);
	assert_true(d.flink == ver.debugger_data_list);
	assert_true(d.breakpoint_with_status ==
		    kc_export(&g, ver.kern_base, "DbgBreakPointWithStatus"));
	assert_true(d.ps_active_process_head ==
		    kc_export(&g, ver.kern_base, "PsActiveProcessHead"));
	assert_int_equal(d.mm_page_size, 4096);
}

static void test_module_list(void **state)
{
	static const char *const want[] = { "ntoskrnl.exe", "hal.dll",
					    "kdcom.dll" };
	uint64_t head = ver.ps_loaded_module_list, e;
	unsigned int n = 0;

	(void)state;
	for (e = kc_read64(&g, head); e != head && n < 16;
	     e = kc_read64(&g, e), n++) {
		char name[64];
		uint64_t base = kc_read64(&g, e + 0x30);
		uint8_t sz[4];

		kc_unicode(&g, e + 0x58, name, sizeof(name));
		kc_read(&g, KD_API_READ_VIRTUAL_MEMORY, e + 0x40, sz, 4);
		if (n < 3)
			assert_string_equal(name, want[n]);
		if (n == 0) {
			uint8_t h[0x200], rf[12];
			uint32_t pe, rva, size;

			assert_true(base == ver.kern_base);
			/* .pdata: the exception directory (data directory 3)
			 * holds RUNTIME_FUNCTIONs for the stack walker. */
			kc_read(&g, KD_API_READ_VIRTUAL_MEMORY, base, h,
				sizeof(h));
			pe = kd_get_le32(h + 0x3C);
			assert_true(pe + 24 + 112 + 32 <= sizeof(h));
			rva = kd_get_le32(h + pe + 24 + 112 + 3 * 8);
			size = kd_get_le32(h + pe + 24 + 112 + 3 * 8 + 4);
			assert_true(rva != 0 && size >= 12 && size % 12 == 0);
			kc_read(&g, KD_API_READ_VIRTUAL_MEMORY, base + rva, rf,
				12);
			assert_true(kd_get_le32(rf) < kd_get_le32(rf + 4));
			assert_true(kd_get_le32(rf + 8) != 0); /* UnwindInfo */
		}
		assert_true(kd_get_le32(sz) >= 0x1000);
		/* Every module is a real PE32+ with an export table. */
		assert_true(kc_export(&g, base, "DbgPrint") != 0 ||
			    kc_export(&g, base, "ModuleCompute") != 0);
	}
	assert_int_equal(n, 3);
}

static void test_process_list(void **state)
{
	uint64_t head = kc_export(&g, ver.kern_base, "PsActiveProcessHead");
	uint64_t e = kc_read64(&g, head);
	uint8_t name[16];

	(void)state;
	assert_true(e != head);
	/* System: pid 4, ActiveProcessLinks at 0x448, name at 0x5a8. */
	assert_true(kc_read64(&g, e - 0x448 + 0x440) == 4);
	kc_read(&g, KD_API_READ_VIRTUAL_MEMORY, e - 0x448 + 0x5A8, name, 15);
	assert_memory_equal(name, "System", 7);
}

/* Virtual reads equal physical reads through the page tables at CR3. */
static void test_virtual_equals_physical(void **state)
{
	uint8_t ks[KD_AMD64_KSPECIAL_SIZE], v[256], p[256];
	struct kd_amd64_kspecial k;
	uint64_t kpcr, pa = 0, addrs[3];
	unsigned int i;

	(void)state;
	assert_int_equal(kc_read(&g, KD_API_READ_CONTROL_SPACE,
				 KD_AMD64_CS_KSPECIAL, ks, sizeof(ks)),
			 sizeof(ks));
	assert_int_equal(kd_amd64_kspecial_decode(&k, ks, sizeof(ks)), KD_OK);
	assert_true(k.cr0 & 0x80000000u); /* paging on */
	assert_int_equal(
		kc_read(&g, KD_API_READ_CONTROL_SPACE, KD_AMD64_CS_PCR, v, 8),
		8);
	kpcr = kd_get_le64(v);
	assert_true(kc_read64(&g, kpcr + 0x18) == kpcr); /* KPCR.Self */
	addrs[0] = ver.kern_base + 0x1000;
	addrs[1] = kpcr;
	addrs[2] = kdbg;
	for (i = 0; i < 3; i++) {
		assert_true(kc_translate(&g, k.cr3, addrs[i], &pa));
		assert_int_equal(kc_read(&g, KD_API_READ_VIRTUAL_MEMORY,
					 addrs[i], v, sizeof(v)),
				 sizeof(v));
		assert_int_equal(kc_read(&g, KD_API_READ_PHYSICAL_MEMORY, pa, p,
					 sizeof(p)),
				 sizeof(p));
		assert_memory_equal(v, p, sizeof(v));
	}
	/* The pool sits at the top of 16 GiB of physical memory. */
	assert_true(kc_translate(&g, k.cr3, kpcr, &pa));
	assert_true(pa >= (15ull << 30));
	/* GS base is the KPCR. */
	{
		struct kd_manipulate m, r;

		kc_init_req(&m, KD_API_READ_MSR, g.cur_proc);
		m.u.msr.msr = 0xC0000101u;
		kc_request(&g, &m, NULL, 0, &r);
		assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
		assert_true(((uint64_t)r.u.msr.high << 32 | r.u.msr.low) ==
			    kpcr);
	}
}

static void test_io_space(void **state)
{
	struct kd_manipulate m, r;

	(void)state;
	kc_init_req(&m, KD_API_WRITE_IO_SPACE, g.cur_proc);
	m.u.io.address = 0x80;
	m.u.io.data_size = 1;
	m.u.io.data_value = 0x5A;
	kc_request(&g, &m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	kc_init_req(&m, KD_API_READ_IO_SPACE, g.cur_proc);
	m.u.io.address = 0x80;
	m.u.io.data_size = 1;
	kc_request(&g, &m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	assert_int_equal(r.u.io.data_value & 0xFF, 0x5A);
}

/* The remaining memory, register and machine APIs, each checked. */
static void test_more_apis(void **state)
{
	struct kd_manipulate m, r;
	uint8_t ctx[KD_AMD64_CONTEXT_SIZE], b[64], ks[KD_AMD64_KSPECIAL_SIZE];
	struct kd_amd64_kspecial k;
	uint64_t kpcr, pa = 0, scratch;
	uint16_t p = g.cur_proc;

	(void)state;
	/* Control space 0, 1, 3 agree with KPCR.CurrentPrcb and
	 * KPRCB.CurrentThread read from memory. */
	kc_read(&g, KD_API_READ_CONTROL_SPACE, KD_AMD64_CS_PCR, b, 8);
	kpcr = kd_get_le64(b);
	assert_int_equal(
		kc_read(&g, KD_API_READ_CONTROL_SPACE, KD_AMD64_CS_PRCB, b, 8),
		8);
	assert_true(kd_get_le64(b) == kc_read64(&g, kpcr + 0x20));
	assert_int_equal(kc_read(&g, KD_API_READ_CONTROL_SPACE,
				 KD_AMD64_CS_THREAD, b, 8),
			 8);
	assert_true(kd_get_le64(b) == kc_read64(&g, kpcr + 0x180 + 0x8));

	/* WritePhysical shows through the virtual view. */
	scratch = kc_export(&g, ver.kern_base, "KiWorkCounter") + 62 * 8;
	kc_read(&g, KD_API_READ_CONTROL_SPACE, KD_AMD64_CS_KSPECIAL, ks,
		sizeof(ks));
	kd_amd64_kspecial_decode(&k, ks, sizeof(ks));
	assert_true(kc_translate(&g, k.cr3, scratch, &pa));
	kd_put_le64(b, 0x0123456789ABCDEFull);
	assert_int_equal(kc_write(&g, KD_API_WRITE_PHYSICAL_MEMORY, pa, b, 8),
			 8);
	assert_true(kc_read64(&g, scratch) == 0x0123456789ABCDEFull);

	/* FillMemory (virtual), then SearchMemory finds the pattern. */
	kc_init_req(&m, KD_API_FILL_MEMORY, p);
	m.u.fill.address = scratch;
	m.u.fill.length = 8;
	m.u.fill.flags = KD_FILL_VIRTUAL;
	m.u.fill.pattern_length = 2;
	kc_request(&g, &m, "\x5A\xA5", 2, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	assert_true(kc_read64(&g, scratch) == 0xA55AA55AA55AA55Aull);
	kc_init_req(&m, KD_API_SEARCH_MEMORY, p);
	m.u.search.address = ver.kern_base;
	m.u.search.length = 0x100000;
	m.u.search.pattern_length = 4;
	kc_request(&g, &m, "KDBG", 4, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	/* The first "KDBG" in the image is the block's tag or an earlier
	 * copy of the bytes; either way memory there says KDBG. */
	kc_read(&g, KD_API_READ_VIRTUAL_MEMORY, r.u.search.address, b, 4);
	assert_memory_equal(b, "KDBG", 4);
	assert_true(r.u.search.address <= kdbg + 0x10);

	/* QueryMemory: mapped kernel memory vs. a hole. */
	kc_init_req(&m, KD_API_QUERY_MEMORY, p);
	m.u.query.address = ver.kern_base;
	kc_request(&g, &m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	assert_int_equal(r.u.query.address_space, KD_QUERY_SPACE_KERNEL);
	assert_true(r.u.query.flags & KD_QUERY_FLAG_EXECUTE);
	kc_init_req(&m, KD_API_QUERY_MEMORY, p);
	m.u.query.address = 0xFFFFF90000000000ull;
	kc_request(&g, &m, NULL, 0, &r);
	assert_int_not_equal(r.return_status, KD_STATUS_SUCCESS);

	/* WriteMSR LSTAR, read it back; an unknown MSR is refused. */
	kc_init_req(&m, KD_API_WRITE_MSR, p);
	m.u.msr.msr = 0xC0000082u;
	m.u.msr.low = 0x00401000u;
	m.u.msr.high = 0xFFFFF800u;
	kc_request(&g, &m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	kc_init_req(&m, KD_API_READ_MSR, p);
	m.u.msr.msr = 0xC0000082u;
	kc_request(&g, &m, NULL, 0, &r);
	assert_int_equal(r.u.msr.low, 0x00401000u);
	assert_int_equal(r.u.msr.high, 0xFFFFF800u);
	kc_read(&g, KD_API_READ_CONTROL_SPACE, KD_AMD64_CS_KSPECIAL, ks,
		sizeof(ks));
	kd_amd64_kspecial_decode(&k, ks, sizeof(ks));
	assert_true(k.msr_lstar == 0xFFFFF80000401000ull);
	kc_init_req(&m, KD_API_READ_MSR, p);
	m.u.msr.msr = 0x12345678u;
	kc_request(&g, &m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_NO_SUCH_DEVICE);

	/* Extended I/O space: the port latch written above reads back. */
	kc_init_req(&m, KD_API_WRITE_IO_SPACE_EX, p);
	m.u.io_ex.data_size = 2;
	m.u.io_ex.interface_type = 1;
	m.u.io_ex.address_space = 1;
	m.u.io_ex.address = 0x3F8;
	m.u.io_ex.data_value = 0xBEEF;
	kc_request(&g, &m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	kc_init_req(&m, KD_API_READ_IO_SPACE_EX, p);
	m.u.io_ex.data_size = 2;
	m.u.io_ex.interface_type = 1;
	m.u.io_ex.address_space = 1;
	m.u.io_ex.address = 0x3F8;
	kc_request(&g, &m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	assert_int_equal(r.u.io_ex.data_value & 0xFFFF, 0xBEEF);

	/* GetContextEx: a slice equals the same bytes of GetContext. */
	kc_get_context(&g, p, ctx);
	kc_init_req(&m, KD_API_GET_CONTEXT_EX, p);
	m.u.context_ex.offset = KD_AMD64_CTX_OFF_RAX;
	m.u.context_ex.byte_count = 0x88;
	kc_request(&g, &m, NULL, 0, &r);
	if (r.return_status == KD_STATUS_SUCCESS) {
		assert_int_equal(r.u.context_ex.bytes_copied, 0x88);
		assert_true(r.data_len >= 0x88);
		assert_memory_equal(r.data, ctx + KD_AMD64_CTX_OFF_RAX, 0x88);
	}
}

/* A breakpoint at an exported function is hit on the next run. */
static uint64_t bp_addr;
static uint32_t bp_handle;
static uint8_t bp_orig;

static void test_breakpoint(void **state)
{
	struct kd_manipulate m, r;
	uint8_t ctx[KD_AMD64_CONTEXT_SIZE], b;

	(void)state;
	bp_addr = kc_export(&g, ver.kern_base, "KeWorkerStep");
	assert_true(bp_addr > ver.kern_base);
	assert_int_equal(
		kc_read(&g, KD_API_READ_VIRTUAL_MEMORY, bp_addr, &bp_orig, 1),
		1);
	kc_init_req(&m, KD_API_WRITE_BREAKPOINT, g.cur_proc);
	m.u.write_bp.address = bp_addr;
	kc_request(&g, &m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	bp_handle = r.u.write_bp.handle;
	assert_true(bp_handle != 0);
	/* The 0xCC is really in the simulated memory (physical view). */
	{
		uint8_t ks[KD_AMD64_KSPECIAL_SIZE];
		struct kd_amd64_kspecial k;
		uint64_t pa = 0;

		kc_read(&g, KD_API_READ_CONTROL_SPACE, KD_AMD64_CS_KSPECIAL, ks,
			sizeof(ks));
		kd_amd64_kspecial_decode(&k, ks, sizeof(ks));
		assert_true(kc_translate(&g, k.cr3, bp_addr, &pa));
		kc_read(&g, KD_API_READ_PHYSICAL_MEMORY, pa, &b, 1);
		assert_int_equal(b, 0xCC);
	}
	kc_continue2(&g, false);
	assert_int_equal(kc_wait_stop(&g), KD_STATUS_BREAKPOINT);
	assert_true(g.sc.u.exception.record.address == bp_addr);
	assert_true(g.sc.program_counter == bp_addr);
	kc_get_context(&g, g.cur_proc, ctx);
	assert_true(kc_reg(ctx, KD_AMD64_RIP) == bp_addr);
	/* Remove it: the original byte comes back. */
	kc_init_req(&m, KD_API_RESTORE_BREAKPOINT, g.cur_proc);
	m.u.restore_bp_handle = bp_handle;
	kc_request(&g, &m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	kc_read(&g, KD_API_READ_VIRTUAL_MEMORY, bp_addr, &b, 1);
	assert_int_equal(b, bp_orig);
}

/* Length of the prologue instructions KeWorkerStep may start with. */
static unsigned int insn_len(const uint8_t *p)
{
	if (p[0] >= 0x50 && p[0] <= 0x57)
		return 1; /* push r64 */
	if (p[0] == 0x41 && p[1] >= 0x50 && p[1] <= 0x57)
		return 2; /* push r8-r15 */
	if (p[0] == 0x48 && p[1] == 0x83 && p[2] == 0xEC)
		return 4; /* sub rsp, imm8 */
	if (p[0] == 0x48 && p[1] == 0x81 && p[2] == 0xEC)
		return 7; /* sub rsp, imm32 */
	return 0;
}

/* A trace-flag continue advances exactly one instruction. */
static void test_single_step(void **state)
{
	uint8_t before[KD_AMD64_CONTEXT_SIZE], after[KD_AMD64_CONTEXT_SIZE];
	uint8_t code[16];
	unsigned int len;
	uint16_t proc = g.cur_proc;

	(void)state;
	kc_get_context(&g, proc, before);
	assert_true(kc_reg(before, KD_AMD64_RIP) == bp_addr);
	kc_read(&g, KD_API_READ_VIRTUAL_MEMORY, bp_addr, code, sizeof(code));
	len = insn_len(code);
	assert_true(len != 0);
	kc_continue2(&g, true);
	assert_int_equal(kc_wait_stop(&g), KD_STATUS_SINGLE_STEP);
	assert_int_equal(g.sc.processor, proc);
	assert_true(g.sc.program_counter == bp_addr + len);
	kc_get_context(&g, proc, after);
	assert_true(kc_reg(after, KD_AMD64_RIP) == bp_addr + len);
	if (code[0] >= 0x50 && code[0] <= 0x57) {
		/* push: RSP down by 8 and the register is on the stack. */
		int reg = KD_AMD64_RAX + (code[0] - 0x50);

		assert_true(kc_reg(after, KD_AMD64_RSP) ==
			    kc_reg(before, KD_AMD64_RSP) - 8);
		assert_true(kc_read64(&g, kc_reg(after, KD_AMD64_RSP)) ==
			    kc_reg(before, reg));
	}
	/* One more: the next instruction, again exactly. */
	kc_read(&g, KD_API_READ_VIRTUAL_MEMORY, bp_addr + len, code,
		sizeof(code));
	{
		unsigned int len2 = insn_len(code);

		assert_true(len2 != 0);
		kc_continue2(&g, true);
		assert_int_equal(kc_wait_stop(&g), KD_STATUS_SINGLE_STEP);
		assert_true(g.sc.program_counter == bp_addr + len + len2);
	}
}

/* Break-in while running stops it; the workload made progress. */
static void test_breakin_running(void **state)
{
	uint64_t counter = kc_export(&g, ver.kern_base, "KiWorkCounter");
	uint64_t before, after;

	(void)state;
	before = kc_read64(&g, counter);
	{
		/* The old Continue API this time. */
		struct kd_manipulate m;

		kc_init_req(&m, KD_API_CONTINUE, g.cur_proc);
		m.u.continue_status = KD_DBG_CONTINUE;
		kc_request(&g, &m, NULL, 0, NULL);
	}
	kc_sleep_ms(300);
	assert_int_equal(kd_link_break_in(g.link), KD_OK);
	assert_int_equal(kc_wait_stop(&g), KD_STATUS_BREAKPOINT);
	after = kc_read64(&g, counter);
	assert_true(after > before);
	printf("# workload: %llu KeWorkerStep iterations on cpu 0 in ~300 ms "
	       "(4 processors sharing one host thread)\n",
	       (unsigned long long)(after - before));
}

/* SetContext round trip: the value really lands in the CPU register. */
static void test_set_context(void **state)
{
	uint8_t ctx[KD_AMD64_CONTEXT_SIZE], again[KD_AMD64_CONTEXT_SIZE];
	struct kd_manipulate m, r;
	uint64_t old;

	(void)state;
	kc_get_context(&g, g.cur_proc, ctx);
	old = kc_reg(ctx, KD_AMD64_R15);
	assert_int_equal(kd_amd64_context_set(ctx, sizeof(ctx), KD_AMD64_R15,
					      0x1122334455667788ull),
			 KD_OK);
	kc_init_req(&m, KD_API_SET_CONTEXT, g.cur_proc);
	m.u.context_flags = 0x0010001F;
	kc_request(&g, &m, ctx, sizeof(ctx), &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	kc_get_context(&g, g.cur_proc, again);
	assert_true(kc_reg(again, KD_AMD64_R15) == 0x1122334455667788ull);
	kd_amd64_context_set(ctx, sizeof(ctx), KD_AMD64_R15, old);
	kc_request(&g, &m, ctx, sizeof(ctx), &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
}

/*
 * A SetContext of only the CONTROL and INTEGER groups (0x100 bytes, as
 * Windows accepts): R15 lands in the CPU, Dr7 outside the groups stays.
 */
static void test_set_context_short(void **state)
{
	uint8_t ctx[KD_AMD64_CONTEXT_SIZE], again[KD_AMD64_CONTEXT_SIZE];
	struct kd_manipulate m, r;
	uint64_t old, dr7;

	(void)state;
	kc_get_context(&g, g.cur_proc, ctx);
	old = kc_reg(ctx, KD_AMD64_R15);
	dr7 = kd_get_le64(ctx + KD_AMD64_CTX_OFF_DR7);
	kd_put_le32(ctx + KD_AMD64_CTX_OFF_FLAGS,
		    KD_CONTEXT_AMD64 | KD_CONTEXT_CONTROL | KD_CONTEXT_INTEGER);
	kd_put_le64(ctx + KD_AMD64_CTX_OFF_R15, 0x5A5A0000F00Dull);
	kd_put_le64(ctx + KD_AMD64_CTX_OFF_DR7, 0x455);
	kc_init_req(&m, KD_API_SET_CONTEXT, g.cur_proc);
	kc_request(&g, &m, ctx, KD_AMD64_CTX_OFF_FLTSAVE, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	kc_get_context(&g, g.cur_proc, again);
	assert_true(kc_reg(again, KD_AMD64_R15) == 0x5A5A0000F00Dull);
	assert_true(kd_get_le64(again + KD_AMD64_CTX_OFF_DR7) == dr7);
	/* Too short for FLOATING_POINT: refused, R15 unchanged. */
	kd_put_le32(ctx + KD_AMD64_CTX_OFF_FLAGS,
		    KD_CONTEXT_AMD64 | KD_CONTEXT_INTEGER |
			    KD_CONTEXT_FLOATING_POINT);
	kd_put_le64(ctx + KD_AMD64_CTX_OFF_R15, 1);
	kc_request(&g, &m, ctx, KD_AMD64_CTX_OFF_FLTSAVE, &r);
	assert_int_equal(r.return_status, KD_STATUS_UNSUCCESSFUL);
	kc_get_context(&g, g.cur_proc, again);
	assert_true(kc_reg(again, KD_AMD64_R15) == 0x5A5A0000F00Dull);
	/* Put R15 back. */
	kd_put_le32(ctx + KD_AMD64_CTX_OFF_FLAGS,
		    KD_CONTEXT_AMD64 | KD_CONTEXT_INTEGER);
	kd_put_le64(ctx + KD_AMD64_CTX_OFF_R15, old);
	kc_request(&g, &m, ctx, KD_AMD64_CTX_OFF_RIP, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
}

/* WriteVirtual lands in the physical page the page tables name. */
static void test_write_virtual(void **state)
{
	uint8_t ks[KD_AMD64_KSPECIAL_SIZE], b[8], p[8];
	struct kd_amd64_kspecial k;
	uint64_t va = kc_export(&g, ver.kern_base, "KiWorkCounter") + 63 * 8;
	uint64_t pa = 0;

	(void)state;
	kd_put_le64(b, 0xA5A5F00DCAFEBEEFull);
	assert_int_equal(kc_write(&g, KD_API_WRITE_VIRTUAL_MEMORY, va, b, 8),
			 8);
	kc_read(&g, KD_API_READ_CONTROL_SPACE, KD_AMD64_CS_KSPECIAL, ks,
		sizeof(ks));
	kd_amd64_kspecial_decode(&k, ks, sizeof(ks));
	assert_true(kc_translate(&g, k.cr3, va, &pa));
	assert_int_equal(kc_read(&g, KD_API_READ_PHYSICAL_MEMORY, pa, p, 8), 8);
	assert_memory_equal(b, p, 8);
	/* An unmapped address reads nothing. */
	assert_int_equal(kc_read(&g, KD_API_READ_VIRTUAL_MEMORY,
				 0xFFFFF90000000000ull, p, 8),
			 0);
}

/* A DR0 execute breakpoint (Continue2 Dr7) stops on RtlFibonacci. */
static void test_hw_breakpoint(void **state)
{
	uint8_t ks[KD_AMD64_KSPECIAL_SIZE], ctx[KD_AMD64_CONTEXT_SIZE];
	struct kd_amd64_kspecial k;
	struct kd_manipulate m;
	uint64_t fib = kc_export(&g, ver.kern_base, "RtlFibonacci");
	size_t n;
	uint16_t proc = g.cur_proc;

	(void)state;
	assert_true(fib != 0);
	kc_read(&g, KD_API_READ_CONTROL_SPACE, KD_AMD64_CS_KSPECIAL, ks,
		sizeof(ks));
	kd_amd64_kspecial_decode(&k, ks, sizeof(ks));
	k.kernel_dr0 = fib;
	kd_amd64_kspecial_encode(ks, sizeof(ks), &n, &k);
	assert_int_equal(kc_write(&g, KD_API_WRITE_CONTROL_SPACE,
				  KD_AMD64_CS_KSPECIAL, ks, sizeof(ks)),
			 sizeof(ks));
	kc_init_req(&m, KD_API_CONTINUE2, proc);
	m.u.continue2.continue_status = KD_DBG_CONTINUE;
	m.u.continue2.amd64.dr7 = 0x1; /* L0, execute, 1 byte */
	m.u.continue2.amd64.symbol_start = 1;
	kc_request(&g, &m, NULL, 0, NULL);
	assert_int_equal(kc_wait_stop(&g), KD_STATUS_SINGLE_STEP);
	assert_true(g.sc.program_counter == fib);
	assert_int_equal(g.sc.processor, proc);
	kc_get_context(&g, proc, ctx);
	assert_true(kc_reg(ctx, KD_AMD64_RIP) == fib);
	assert_true(kc_reg(ctx, KD_AMD64_DR6) & 1);
	/* Clear it again: Dr7 0 on the next continue. */
	kc_init_req(&m, KD_API_CONTINUE2, proc);
	m.u.continue2.continue_status = KD_DBG_CONTINUE;
	m.u.continue2.amd64.dr7 = 0;
	m.u.continue2.amd64.symbol_start = 1;
	kc_request(&g, &m, NULL, 0, NULL);
	kc_sleep_ms(100);
	assert_int_equal(kd_link_break_in(g.link), KD_OK);
	assert_int_equal(kc_wait_stop(&g), KD_STATUS_BREAKPOINT);
}

/* SwitchProcessor: processor 2 reports and has its own KPCR. */
static void test_switch_processor(void **state)
{
	struct kd_manipulate m;
	uint8_t ctx[KD_AMD64_CONTEXT_SIZE], b[8];
	uint64_t kpcr2;

	(void)state;
	kc_init_req(&m, KD_API_SWITCH_PROCESSOR, 2);
	kc_request(&g, &m, NULL, 0, NULL);
	kc_wait_stop(&g);
	assert_int_equal(g.sc.processor, 2);
	kc_get_context(&g, 2, ctx);
	assert_true(kc_reg(ctx, KD_AMD64_RIP) == g.sc.program_counter);
	assert_int_equal(
		kc_read(&g, KD_API_READ_CONTROL_SPACE, KD_AMD64_CS_PCR, b, 8),
		8);
	kpcr2 = kd_get_le64(b);
	/* KPRCB.Number of this processor is 2. */
	kc_read(&g, KD_API_READ_VIRTUAL_MEMORY, kpcr2 + 0x180 + 0x24, b, 4);
	assert_int_equal(kd_get_le32(b), 2);
}

/* CauseBugCheck: the kernel runs KeBugCheckEx(0xE2) and breaks in. */
static void test_bugcheck(void **state)
{
	struct kd_manipulate m;
	uint64_t data;

	(void)state;
	kc_init_req(&m, KD_API_CAUSE_BUGCHECK, g.cur_proc);
	kc_request(&g, &m, NULL, 0, NULL);
	assert_int_equal(kc_wait_stop(&g), KD_STATUS_BREAKPOINT);
	assert_true(g.sc.u.exception.record.address ==
		    kc_export(&g, ver.kern_base, "DbgBreakPointWithStatus"));
	assert_non_null(strstr(g.prints, "*** Fatal System Error: 0x000000e2"));
	data = kc_export(&g, ver.kern_base, "KiBugCheckData");
	assert_true(kc_read64(&g, data) == 0xE2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attach_breakin),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_kdbg),
		cmocka_unit_test(test_module_list),
		cmocka_unit_test(test_process_list),
		cmocka_unit_test(test_virtual_equals_physical),
		cmocka_unit_test(test_io_space),
		cmocka_unit_test(test_more_apis),
		cmocka_unit_test(test_breakpoint),
		cmocka_unit_test(test_single_step),
		cmocka_unit_test(test_breakin_running),
		cmocka_unit_test(test_set_context),
		cmocka_unit_test(test_set_context_short),
		cmocka_unit_test(test_write_virtual),
		cmocka_unit_test(test_hw_breakpoint),
		cmocka_unit_test(test_switch_processor),
		cmocka_unit_test(test_bugcheck),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
