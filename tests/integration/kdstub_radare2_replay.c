/* SPDX-License-Identifier: MIT */
/*
 * Interoperability with an independent host: the byte stream radare2's KD
 * client sent to a serial target (../shared/data/kdserial/host-to-target.bin:
 * break-in, RESET, ACKs, GetVersion, ReadVirtualMemory) is played into
 * kdstub running in a child process over a unix socketpair, and what the
 * stub answers is checked packet by packet.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <kd/proto/manipulate.h>
#include <kd/proto/packet.h>
#include <kd/proto/stream.h>
#include <kdstub/kdstub.h>
#include <testsupport.h>

#include "../unit/kdstub/fake_platform.h"

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

	if (poll(&p, 1, 1) <= 0)
		return -1;
	if (read(g_fd, &b, 1) != 1)
		_exit(3);
	return b;
}

static void fd_putc(uint8_t b)
{
	if (write(g_fd, &b, 1) != 1)
		_exit(4);
}

static const struct kdstub_io fd_io = {
	.name = "socketpair",
	.getc = fd_getc,
	.putc = fd_putc,
	.now_ms = mono_ms,
};

static struct kdstub g_stub;
static struct fake_machine g_fake;

static int target_main(int fd)
{
	struct kd_exception_record rec;
	struct kdstub_resume res;

	g_fd = fd;
	fake_init(&g_fake);
	if (kdstub_init(&g_stub, &fd_io, &fake_ops, &g_fake) != 0)
		return 10;
	g_stub.ack_timeout_ms = 1000;
	while (!kdstub_poll_breakin(&g_stub))
		;
	memset(&rec, 0, sizeof(rec));
	rec.code = KD_STATUS_BREAKPOINT;
	rec.address = FAKE_RIP(0);
	/* radare2's stream never continues: the parent ends us. */
	kdstub_report_exception(&g_stub, 0, &rec, true, &res);
	return 0;
}

struct seen {
	struct kd_packet_header hdr;
	uint8_t payload[KD_PACKET_MAX_RECV];
	size_t len;
};

static struct seen g_out[64];

static void test_radare2_stream(void **state)
{
	char path[4096];
	uint8_t *in, buf[4096];
	size_t in_len, n_out = 0, i, used, off;
	struct kd_stream st;
	struct kd_stream_event ev;
	struct kd_manipulate req[8], rep;
	size_t n_req = 0, n_rep = 0, n_acks = 0;
	uint32_t ack_ids[16] = { 0 };
	int sv[2], status;
	pid_t pid;
	ssize_t n;

	(void)state;
	kdt_require_shared(path, sizeof(path), "kdserial/host-to-target.bin");
	in = kdt_read_file(path, &in_len);
	assert_non_null(in);

	/* radare2's own requests, for comparison with the replies. */
	kd_stream_init(&st);
	for (off = 0; off < in_len;) {
		used = kd_stream_feed(&st, in + off, in_len - off, &ev);
		off += used;
		if (ev.kind == KD_STREAM_EVENT_PACKET &&
		    ev.hdr.type == KD_PACKET_TYPE_STATE_MANIPULATE &&
		    n_req < 8) {
			assert_int_equal(kd_manipulate_decode(&req[n_req],
							      ev.payload,
							      ev.payload_len),
					 0);
			n_req++;
		}
	}
	assert_int_equal(n_req, 5);

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		_exit(target_main(sv[1]));
	}
	close(sv[1]);
	assert_int_equal(write(sv[0], in, in_len), (ssize_t)in_len);
	free(in);

	/* Collect everything until the stub has been quiet for 600 ms. */
	kd_stream_init(&st);
	for (;;) {
		struct pollfd p = { .fd = sv[0], .events = POLLIN };

		if (poll(&p, 1, 600) <= 0)
			break;
		n = read(sv[0], buf, sizeof(buf));
		if (n <= 0)
			break;
		for (off = 0; off < (size_t)n;) {
			used = kd_stream_feed(&st, buf + off, (size_t)n - off,
					      &ev);
			off += used;
			if (ev.kind != KD_STREAM_EVENT_PACKET || n_out >= 64)
				continue;
			g_out[n_out].hdr = ev.hdr;
			g_out[n_out].len = ev.payload_len;
			if (ev.payload_len)
				memcpy(g_out[n_out].payload, ev.payload,
				       ev.payload_len);
			n_out++;
		}
	}
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(sv[0]);

	/* 1: the first report carries INITIAL|SYNC. */
	assert_true(n_out >= 3);
	assert_int_equal(g_out[0].hdr.type, KD_PACKET_TYPE_STATE_CHANGE64);
	assert_int_equal(g_out[0].hdr.id, 0x80800800u);
	/* 2: radare2's RESET is answered with RESET, id 0 ... */
	assert_int_equal(g_out[1].hdr.type, KD_PACKET_TYPE_RESET);
	assert_int_equal(g_out[1].hdr.id, 0);
	/* 3: ... and the report re-sent from INITIAL. */
	assert_int_equal(g_out[2].hdr.type, KD_PACKET_TYPE_STATE_CHANGE64);
	assert_int_equal(g_out[2].hdr.id, KD_PACKET_ID_INITIAL);
	assert_int_equal(g_out[2].len, KD_SC_SIZE);

	/* Every request acknowledged with its id, every one answered. */
	for (i = 3; i < n_out; i++) {
		if (g_out[i].hdr.type == KD_PACKET_TYPE_ACKNOWLEDGE) {
			assert_true(n_acks < 16);
			ack_ids[n_acks++] = g_out[i].hdr.id;
			continue;
		}
		assert_int_equal(g_out[i].hdr.type,
				 KD_PACKET_TYPE_STATE_MANIPULATE);
		assert_true(n_rep < n_req);
		assert_int_equal(kd_manipulate_decode(&rep, g_out[i].payload,
						      g_out[i].len),
				 0);
		assert_int_equal(rep.api, req[n_rep].api);
		if (rep.api == KD_API_GET_VERSION) {
			assert_int_equal(rep.return_status, KD_STATUS_SUCCESS);
			assert_int_equal(rep.u.version.protocol_version, 6);
			assert_int_equal(rep.u.version.minor_version,
					 FAKE_BUILD);
			assert_true(rep.u.version.kern_base == FAKE_VBASE);
		} else {
			assert_int_equal(rep.api, KD_API_READ_VIRTUAL_MEMORY);
			assert_true(rep.u.mem.address ==
				    req[n_rep].u.mem.address);
			assert_true(rep.u.mem.actual_count <=
				    req[n_rep].u.mem.transfer_count);
			assert_int_equal(rep.data_len, rep.u.mem.actual_count);
		}
		n_rep++;
	}
	assert_int_equal(n_rep, n_req);
	assert_int_equal(n_acks, n_req);
	assert_int_equal(ack_ids[0], 0x80800000u);
	for (i = 1; i < n_acks; i++)
		assert_int_equal(ack_ids[i], ack_ids[i - 1] ^ 1u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_radare2_stream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
