/* SPDX-License-Identifier: MIT */
/*
 * kdsim misbehaving on request and doing things on its own: dropped and
 * corrupted bytes, delays, a stall, a reboot with re-sync, a timed bug
 * check and module loads reported as LoadSymbols state changes.
 */
#include "kdsim_client.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#define KERNEL_BASE 0xFFFFF80000400000ull

static uint64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The first 0x400 bytes of the kernel file, as the PE loader copies them. */
static size_t kernel_headers(uint8_t *out, size_t cap)
{
	char path[1024];
	const char *b = getenv("KD_BUILD_DIR");
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path),
		 "%s/firmware-stubs/sim/kernel/ntoskrnl.exe",
		 b ? b : KD_BUILD_DIR);
	f = fopen(path, "rb");
	assert_non_null(f);
	n = fread(out, 1, cap, f);
	fclose(f);
	return n;
}

static void attach_stop(struct kc *c)
{
	assert_int_equal(kd_link_sync(c->link, KC_TIMEOUT_MS), KD_OK);
	assert_int_equal(kd_link_break_in(c->link), KD_OK);
	assert_int_equal(kc_wait_stop(c), KD_STATUS_BREAKPOINT);
}

/* 2% dropped and 2% corrupted chunks each way: every reply still right. */
static void test_drop_corrupt(void **state)
{
	const char *args[] = { "-k",	     "com:ipport=0,port=127.0.0.1",
			       "--drop",     "0.02",
			       "--corrupt",  "0.02",
			       "--seed",     "7",
			       "--print-ms", "0",
			       "--cpus",     "2",
			       NULL };
	uint8_t file[0x400], mem[0x400];
	struct kc c;
	struct kd_link_stats st;
	int i;

	(void)state;
	assert_int_equal(kernel_headers(file, sizeof(file)), sizeof(file));
	kc_spawn(&c, args);
	kc_attach(&c, NULL);
	attach_stop(&c);
	for (i = 0; i < 40; i++) {
		memset(mem, 0, sizeof(mem));
		assert_int_equal(kc_read(&c, KD_API_READ_VIRTUAL_MEMORY,
					 KERNEL_BASE, mem, sizeof(mem)),
				 sizeof(mem));
		assert_memory_equal(mem, file, sizeof(mem));
	}
	kd_link_stats(c.link, &st);
	printf("# drop/corrupt: %llu retransmissions, %llu bad checksums, "
	       "%llu resends received\n",
	       (unsigned long long)st.retransmissions,
	       (unsigned long long)st.bad_checksums,
	       (unsigned long long)st.resends_received);
	kc_stop(&c);
}

/* --delay-ms and --stall-after slow the answers but lose nothing. */
static void test_delay_stall(void **state)
{
	const char *args[] = { "-k",
			       "com:ipport=0,port=127.0.0.1",
			       "--delay-ms",
			       "40",
			       "--stall-after",
			       "12",
			       "--stall-ms",
			       "1500",
			       "--print-ms",
			       "0",
			       "--cpus",
			       "1",
			       NULL };
	struct kc c;
	struct kd_version v;
	uint64_t t0, slowest = 0;
	int i;

	(void)state;
	kc_spawn(&c, args);
	kc_attach(&c, NULL);
	attach_stop(&c);
	for (i = 0; i < 10; i++) {
		uint64_t dt;

		t0 = ms_now();
		kc_version(&c, &v);
		dt = ms_now() - t0;
		assert_true(dt >= 40);
		if (dt > slowest)
			slowest = dt;
		assert_true(v.kern_base == KERNEL_BASE);
	}
	assert_true(slowest >= 1400);
	kc_stop(&c);
}

/*
 * --reboot-after: the machine boots again; the host sees the serial line
 * re-sync, or (KDNET) a new OFFER and session, and the boot message again.
 */
static void reboot_case(bool kdnet, bool api)
{
	char k[128], host[128];
	const char *args[] = { "-k",
			       k,
			       "--print-ms",
			       "0",
			       "--cpus",
			       "2",
			       api ? NULL : "--reboot-after",
			       "800",
			       NULL };
	struct kc c;
	const char *first;
	uint64_t t0 = ms_now();
	int port = 30000 + (int)(getpid() % 10000);

	if (kdnet) {
		snprintf(k, sizeof(k),
			 "net:port=%d,key=1.2.3.4,hostip=127.0.0.1", port);
		snprintf(host, sizeof(host), "net:port=%d,key=1.2.3.4", port);
	} else {
		snprintf(k, sizeof(k), "com:ipport=0,port=127.0.0.1");
	}
	kc_spawn(&c, args);
	kc_attach(&c, kdnet ? host : NULL);
	if (kdnet) {
		assert_int_equal(kd_link_break_in(c.link), KD_OK);
		assert_int_equal(kc_wait_stop(&c), KD_STATUS_BREAKPOINT);
	} else {
		attach_stop(&c);
	}
	if (api) {
		/* The Reboot API: no reply, the machine restarts. */
		struct kd_manipulate m;

		kc_init_req(&m, KD_API_REBOOT, c.cur_proc);
		kc_request(&c, &m, NULL, 0, NULL);
	} else {
		kc_continue2(&c, false);
	}
	/* The boot message arrives again after the reboot. */
	while (ms_now() - t0 < KC_TIMEOUT_MS) {
		unsigned type;
		size_t len;
		int rc = kd_link_recv(c.link, &type, c.buf, sizeof(c.buf), &len,
				      200);
		struct kd_debug_io io;

		if (rc == KD_ETIMEOUT)
			continue;
		assert_int_equal(rc, KD_OK);
		if (type == KD_PACKET_TYPE_DEBUG_IO &&
		    kd_debug_io_decode(&io, c.buf, len) == KD_OK &&
		    io.text_len > 0 &&
		    memmem(io.text, io.text_len, "synthetic kernel", 16))
			break;
	}
	assert_true(ms_now() - t0 < KC_TIMEOUT_MS);
	if (!kdnet)
		assert_true(kd_link_events(c.link) & KD_LINK_EVENT_RESYNC);
	first = strstr(c.prints, "synthetic kernel");
	assert_non_null(first);
	/* The rebooted machine answers like a fresh one. */
	assert_int_equal(kd_link_break_in(c.link), KD_OK);
	assert_int_equal(kc_wait_stop(&c), KD_STATUS_BREAKPOINT);
	{
		struct kd_version v;

		kc_version(&c, &v);
		assert_true(v.kern_base == KERNEL_BASE);
	}
	kc_stop(&c);
}

static void test_reboot(void **state)
{
	(void)state;
	reboot_case(false, false);
}

static void test_reboot_api(void **state)
{
	(void)state;
	reboot_case(false, true);
}

static void test_reboot_kdnet(void **state)
{
	(void)state;
	if (!kd_transport_available("net"))
		skip();
	reboot_case(true, false);
}

/* --bugcheck-after with a chosen code. */
static void test_bugcheck_after(void **state)
{
	const char *args[] = { "-k",
			       "com:ipport=0,port=127.0.0.1",
			       "--bugcheck-after",
			       "300",
			       "--bugcheck-code",
			       "0xDEAD",
			       "--print-ms",
			       "0",
			       "--cpus",
			       "2",
			       NULL };
	struct kc c;
	struct kd_version v;
	uint64_t kdbg;

	(void)state;
	kc_spawn(&c, args);
	kc_attach(&c, NULL);
	/* No kd_link_sync(): it sends a break-in byte. */
	assert_int_equal(kc_wait_stop(&c), KD_STATUS_BREAKPOINT);
	assert_non_null(strstr(c.prints, "Fatal System Error: 0x0000dead"));
	kc_version(&c, &v);
	kdbg = kc_read64(&c, v.debugger_data_list);
	/* KDBG.BreakpointWithStatus is where the bug check stopped. */
	assert_true(c.sc.u.exception.record.address ==
		    kc_read64(&c, kdbg + 0x20));
	assert_int_equal(c.sc.u.exception.record.information[0], 3);
	kc_stop(&c);
}

/* Module loads: LoadSymbols state changes, then the list has them. */
static void test_load_modules(void **state)
{
	const char *args[] = { "-k",
			       "com:ipport=0,port=127.0.0.1",
			       "--loadmod-ms",
			       "300",
			       "--print-ms",
			       "0",
			       "--cpus",
			       "2",
			       NULL };
	static const char *const names[] = { "simdrv.sys", "simnet.sys" };
	static const uint64_t bases[] = { 0xFFFFF80001200000ull,
					  0xFFFFF80001300000ull };
	struct kc c;
	struct kd_version v;
	int i;
	unsigned int n = 0;
	uint64_t e;

	(void)state;
	kc_spawn(&c, args);
	kc_attach(&c, NULL);
	for (i = 0; i < 2; i++) {
		char path[128];

		assert_int_equal(kc_wait_stop(&c), 0);
		assert_int_equal(c.sc.new_state, KD_STATE_LOAD_SYMBOLS);
		assert_true(c.sc.u.load_symbols.base_of_dll == bases[i]);
		assert_true(c.sc.u.load_symbols.size_of_image >= 0x1000);
		assert_true(c.sc.u.load_symbols.path_len < sizeof(path));
		memcpy(path, c.sc.u.load_symbols.path,
		       c.sc.u.load_symbols.path_len);
		path[c.sc.u.load_symbols.path_len] = '\0';
		assert_non_null(strstr(path, names[i]));
		kc_continue2(&c, false);
	}
	assert_int_equal(kd_link_break_in(c.link), KD_OK);
	assert_int_equal(kc_wait_stop(&c), KD_STATUS_BREAKPOINT);
	kc_version(&c, &v);
	for (e = kc_read64(&c, v.ps_loaded_module_list);
	     e != v.ps_loaded_module_list && n < 16;
	     e = kc_read64(&c, e), n++) {
		char name[64];

		kc_unicode(&c, e + 0x58, name, sizeof(name));
		if (n >= 3) {
			assert_string_equal(name, names[n - 3]);
			assert_true(kc_read64(&c, e + 0x30) == bases[n - 3]);
			assert_true(kc_export(&c, bases[n - 3],
					      "ModuleCompute") != 0);
		}
	}
	assert_int_equal(n, 5);
	kc_stop(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drop_corrupt),
		cmocka_unit_test(test_delay_stall),
		cmocka_unit_test(test_reboot),
		cmocka_unit_test(test_reboot_api),
		cmocka_unit_test(test_reboot_kdnet),
		cmocka_unit_test(test_bugcheck_after),
		cmocka_unit_test(test_load_modules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
