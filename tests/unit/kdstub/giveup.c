/* SPDX-License-Identifier: MIT */
/*
 * kdstub's retry budget with no debugger attached (kd-protocol.md §1.10):
 * a DbgPrint is sent 1 + retries times over a real socketpair, then given
 * up; the ids return to INITIAL|SYNC, and the budget only refills on an
 * ACK, so the next print is sent once.  Also the I/O registration rules.
 */
#define _POSIX_C_SOURCE 200809L
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <kd/proto/stream.h>
#include <kdstub/kdstub.h>

#include "fake_platform.h"

static int g_fd = -1;

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int fd_getc(void)
{
	struct pollfd p = { .fd = g_fd, .events = POLLIN };
	uint8_t b;

	if (poll(&p, 1, 1) <= 0 || read(g_fd, &b, 1) != 1)
		return -1;
	return b;
}

static void fd_putc(uint8_t b)
{
	assert_int_equal(write(g_fd, &b, 1), 1);
}

static const struct kdstub_io fd_io = {
	.name = "socketpair",
	.getc = fd_getc,
	.putc = fd_putc,
	.now_ms = mono_ms,
};

static struct kdstub stub;
static struct fake_machine fake;

/* Data packets waiting on @fd: their ids into @ids, count returned. */
static size_t drain_ids(int fd, uint32_t *ids, size_t cap)
{
	static struct kd_stream st;
	struct kd_stream_event ev;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint8_t buf[8192];
	size_t n = 0, off, used;
	ssize_t got;

	kd_stream_init(&st);
	while (poll(&p, 1, 0) > 0) {
		got = read(fd, buf, sizeof(buf));
		if (got <= 0)
			break;
		for (off = 0; off < (size_t)got;) {
			used = kd_stream_feed(&st, buf + off, (size_t)got - off,
					      &ev);
			off += used;
			if (ev.kind == KD_STREAM_EVENT_PACKET && n < cap &&
			    ev.hdr.type == KD_PACKET_TYPE_DEBUG_IO)
				ids[n++] = ev.hdr.id;
		}
	}
	return n;
}

static void test_give_up(void **state)
{
	uint32_t ids[16];
	size_t n, i;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	g_fd = sv[1];
	fake_init(&fake);
	assert_int_equal(kdstub_init(&stub, &fd_io, &fake_ops, &fake), 0);
	stub.ack_timeout_ms = 5;
	stub.retries = 3;
	stub.retries_left = 3;

	assert_int_equal(kdstub_print(&stub, 0, "hello", 5), KD_ETIMEOUT);
	assert_int_equal(stub.stats.give_ups, 1);
	assert_int_equal(stub.stats.retransmissions, 3);
	assert_false(stub.debugger_present);
	n = drain_ids(sv[0], ids, 16);
	assert_int_equal(n, 4);
	for (i = 0; i < n; i++)
		assert_int_equal(ids[i], 0x80800800u);
	assert_int_equal(stub.ids.send_id, 0x80800800u);

	/* The budget is spent: the next losable print goes out once. */
	assert_int_equal(kdstub_print(&stub, 0, "again", 5), KD_ETIMEOUT);
	assert_int_equal(stub.stats.give_ups, 2);
	n = drain_ids(sv[0], ids, 16);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], 0x80800800u);
	assert_int_equal(kdstub_check_invariants(&stub), 0);
	close(sv[0]);
	close(sv[1]);
}

static void test_registration(void **state)
{
	static const struct kdstub_io other = {
		.name = "other",
		.getc = fd_getc,
		.putc = fd_putc,
	};
	static const struct kdstub_io none = { .name = "none" };
	struct kdstub_platform_ops bad = fake_ops;

	(void)state;
	fake_init(&fake);
	assert_int_equal(kdstub_init(&stub, &fd_io, &fake_ops, &fake), 0);
	assert_int_equal(kdstub_register_io(&stub, &other), KDSTUB_EBUSY);
	assert_int_equal(kdstub_unregister_io(&stub, &other), KD_EINVAL);
	assert_int_equal(kdstub_unregister_io(&stub, &fd_io), 0);
	assert_int_equal(kdstub_register_io(&stub, &other), 0);
	assert_int_equal(kdstub_init(&stub, &none, &fake_ops, &fake),
			 KD_EINVAL);
	bad.get_context = NULL;
	assert_int_equal(kdstub_init(&stub, &fd_io, &bad, &fake), KD_EINVAL);
}

/* The dispatcher alone: a short payload gets INVALID_PARAMETER echoed. */
static void test_dispatch_malformed(void **state)
{
	struct kdstub_resume res;
	uint8_t req[10] = { 0x30, 0x31, 0, 0, 0, 0, 2, 0 };
	size_t n = 0;

	(void)state;
	fake_init(&fake);
	assert_int_equal(kdstub_init(&stub, &fd_io, &fake_ops, &fake), 0);
	assert_int_equal(kdstub_dispatch(&stub, req, sizeof(req), &n, &res),
			 KDSTUB_DISPATCH_NEXT);
	assert_int_equal(n, KD_MANIP_SIZE);
	assert_int_equal(kd_get_le32(stub.out), KD_API_READ_VIRTUAL_MEMORY);
	assert_int_equal(kd_get_le16(stub.out + 6), 2);
	assert_int_equal(kd_get_le32(stub.out + 8),
			 KD_STATUS_INVALID_PARAMETER);
	assert_int_equal(stub.stats.malformed_requests, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_give_up),
		cmocka_unit_test(test_registration),
		cmocka_unit_test(test_dispatch_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
