/* SPDX-License-Identifier: MIT */
/*
 * kdsim on each channel it offers (serial over TCP, serial over a pty, KDNET
 * in the target role): a host-role client attaches over the real OS
 * channel, stops the machine, checks GetVersion and the KDBG block, and
 * lets it run again.
 */
#include "kdsim_client.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

/* Stop, check the machine's identity, run, stop again. */
static void session(struct kc *c, bool sync)
{
	struct kd_version v;
	uint8_t tag[4];
	uint64_t kdbg;

	/* kd_link_sync() sends the break-in byte itself. */
	if (sync)
		assert_int_equal(kd_link_sync(c->link, KC_TIMEOUT_MS), KD_OK);
	else
		assert_int_equal(kd_link_break_in(c->link), KD_OK);
	assert_int_equal(kc_wait_stop(c), KD_STATUS_BREAKPOINT);
	kc_version(c, &v);
	assert_true(v.kern_base == 0xFFFFF80000400000ull);
	kdbg = kc_read64(c, v.debugger_data_list);
	assert_int_equal(
		kc_read(c, KD_API_READ_VIRTUAL_MEMORY, kdbg + 0x10, tag, 4), 4);
	assert_memory_equal(tag, "KDBG", 4);
	kc_continue2(c, false);
	kc_sleep_ms(100);
	assert_int_equal(kd_link_break_in(c->link), KD_OK);
	assert_int_equal(kc_wait_stop(c), KD_STATUS_BREAKPOINT);
	kc_continue2(c, false);
}

static void test_tcp(void **state)
{
	const char *args[] = { "-k",	     "com:ipport=0,port=127.0.0.1",
			       "--cpus",     "2",
			       "--print-ms", "0",
			       NULL };
	struct kc c;

	(void)state;
	kc_spawn(&c, args);
	assert_non_null(strstr(c.host_connstr, "com:ipport="));
	kc_attach(&c, NULL);
	session(&c, true);
	kc_stop(&c);
}

/* A host that leaves and a second host that attaches to the same port. */
static void test_tcp_reattach(void **state)
{
	const char *args[] = { "-k",	     "com:ipport=0,port=127.0.0.1",
			       "--cpus",     "1",
			       "--print-ms", "0",
			       NULL };
	struct kc c;

	(void)state;
	kc_spawn(&c, args);
	kc_attach(&c, NULL);
	session(&c, true);
	kd_link_close(c.link);
	c.link = NULL;
	kc_sleep_ms(200);
	kc_attach(&c, NULL);
	session(&c, true);
	kc_stop(&c);
}

static void test_pty(void **state)
{
	const char *args[] = { "--pty", "--cpus", "1", "--print-ms", "0", NULL };
	struct kc c;

	(void)state;
	kc_spawn(&c, args);
	assert_non_null(strstr(c.host_connstr, "com:port=/dev/"));
	kc_attach(&c, NULL);
	session(&c, true);
	kc_stop(&c);
}

static void test_kdnet(void **state)
{
	char k[128], host[128];
	const char *args[] = { "-k", k, "--cpus", "2", "--print-ms", "0", NULL };
	struct kc c;
	int port = 40000 + (int)(getpid() % 20000);

	(void)state;
	if (!kd_transport_available("net"))
		skip();
	snprintf(k, sizeof(k), "net:port=%d,key=1.2.3.4,hostip=127.0.0.1",
		 port);
	snprintf(host, sizeof(host), "net:port=%d,key=1.2.3.4", port);
	kc_spawn(&c, args);
	kc_attach(&c, host);
	session(&c, false);
	kc_stop(&c);
}

/* 64 processors and 64 GiB of sparse physical memory. */
static void test_many_cpus(void **state)
{
	char k[160], path[128];
	const char *args[] = { "-k",	     k,		  "--cpus",
			       "64",	     "--mem-gib", "64",
			       "--print-ms", "0",	  NULL };
	struct kc c;
	struct kd_manipulate m;
	uint8_t b[8];
	uint64_t kpcr;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/kdsim-cpus-%d.sock", (int)getpid());
	unlink(path);
	snprintf(k, sizeof(k), "com:pipe,port=%s", path);
	kc_spawn(&c, args);
	kc_attach(&c, NULL);
	assert_int_equal(kd_link_sync(c.link, KC_TIMEOUT_MS), KD_OK);
	assert_int_equal(kd_link_break_in(c.link), KD_OK);
	assert_int_equal(kc_wait_stop(&c), KD_STATUS_BREAKPOINT);
	assert_int_equal(c.sc.number_processors, 64);
	kc_init_req(&m, KD_API_SWITCH_PROCESSOR, 63);
	kc_request(&c, &m, NULL, 0, NULL);
	kc_wait_stop(&c);
	assert_int_equal(c.sc.processor, 63);
	assert_int_equal(
		kc_read(&c, KD_API_READ_CONTROL_SPACE, KD_AMD64_CS_PCR, b, 8),
		8);
	kpcr = kd_get_le64(b);
	kc_read(&c, KD_API_READ_VIRTUAL_MEMORY, kpcr + 0x180 + 0x24, b, 4);
	assert_int_equal(kd_get_le32(b), 63);
	/* The last physical page is addressable; one past it is not. */
	assert_int_equal(kc_read(&c, KD_API_READ_PHYSICAL_MEMORY,
				 (64ull << 30) - 8, b, 8),
			 8);
	assert_int_equal(
		kc_read(&c, KD_API_READ_PHYSICAL_MEMORY, 64ull << 30, b, 8), 0);
	kc_stop(&c);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp),
		cmocka_unit_test(test_tcp_reattach),
		cmocka_unit_test(test_pty),
		cmocka_unit_test(test_kdnet),
		cmocka_unit_test(test_many_cpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
