/* SPDX-License-Identifier: MIT */
/*
 * kdstub over a real OS channel: the stub runs in a child process on one
 * end of a unix socketpair with a small fd-based kdstub_io, and the test is
 * the host, built on kdproto (stream parser, host-role ids, manipulate
 * codec).  Every API the stub serves is checked against the fake machine.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
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

#include <kd/proto/ids.h>
#include <kd/proto/manipulate.h>
#include <kd/proto/packet.h>
#include <kd/proto/stream.h>
#include <kdstub/kdstub.h>

#include "../unit/kdstub/fake_platform.h"

/* ---------------------------------------------------------------- target */

static int g_fd = -1;
static uint8_t g_in[4096];
static size_t g_in_len, g_in_pos;
static uint8_t g_out[8192];
static size_t g_out_len;

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void fd_flush(void)
{
	size_t off = 0;
	ssize_t n;

	while (off < g_out_len) {
		n = write(g_fd, g_out + off, g_out_len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(4);
		off += (size_t)n;
	}
	g_out_len = 0;
}

static int fd_getc(void)
{
	struct pollfd p = { .fd = g_fd, .events = POLLIN };
	ssize_t n;

	if (g_in_pos == g_in_len) {
		if (poll(&p, 1, 1) <= 0)
			return -1;
		n = read(g_fd, g_in, sizeof(g_in));
		if (n == 0)
			_exit(3); /* the host went away */
		if (n < 0)
			return -1;
		g_in_len = (size_t)n;
		g_in_pos = 0;
	}
	return g_in[g_in_pos++];
}

static void fd_putc(uint8_t b)
{
	if (g_out_len == sizeof(g_out))
		fd_flush();
	g_out[g_out_len++] = b;
}

static const struct kdstub_io fd_io = {
	.name = "socketpair",
	.getc = fd_getc,
	.putc = fd_putc,
	.flush = fd_flush,
	.now_ms = mono_ms,
};

static struct kdstub g_stub;
static struct fake_machine g_fake;

static void tprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void tprintf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (kdstub_print(&g_stub, 0, buf, (size_t)n) != 0)
		_exit(5);
}

static void report(uint16_t proc, uint32_t code, struct kdstub_resume *res)
{
	struct kd_exception_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.code = code;
	rec.address = FAKE_RIP(proc);
	if (kdstub_report_exception(&g_stub, proc, &rec, true, res) != 0)
		_exit(6);
}

static void wait_breakin(void)
{
	uint64_t end = mono_ms() + 10000;

	while (!kdstub_poll_breakin(&g_stub)) {
		if (mono_ms() > end)
			_exit(7);
	}
}

static int target_main(int fd)
{
	struct kdstub_load_symbols ls;
	struct kdstub_resume res;
	char answer[64];
	size_t n = 0;
	uint32_t before;

	g_fd = fd;
	fake_init(&g_fake);
	if (kdstub_init(&g_stub, &fd_io, &fake_ops, &g_fake) != 0)
		return 10;
	g_stub.ack_timeout_ms = 200;

	/* 1: break-in, first stop: the host exercises every API. */
	wait_breakin();
	report(0, KD_STATUS_BREAKPOINT, &res);
	tprintf("c2 kind=%d status=%08x trace=%d step0=%d "
		"dr7=%llx/%llx/%llx/%llx",
		(int)res.kind, res.continue_status, (int)res.trace,
		(int)g_fake.step[0], (unsigned long long)g_fake.dr7[0],
		(unsigned long long)g_fake.dr7[1],
		(unsigned long long)g_fake.dr7[2],
		(unsigned long long)g_fake.dr7[3]);

	/* 2: a single step, then the host switches to CPU 2. */
	report(0, KD_STATUS_SINGLE_STEP, &res);
	if (res.kind != KDSTUB_RESUME_SWITCH || res.processor != 2)
		return 11;
	if (kdstub_report_switch(&g_stub, res.processor, &res) != 0)
		return 12;
	if (res.kind != KDSTUB_RESUME_CONTINUE)
		return 13;

	/* 3: load symbols; the host RESETs in the middle of the stop. */
	memset(&ls, 0, sizeof(ls));
	ls.base_of_dll = FAKE_VBASE;
	ls.process_id = 0;
	ls.checksum = 0x00A1B2C3;
	ls.size_of_image = 0x00A00000;
	ls.path = "\\SystemRoot\\system32\\ntoskrnl.exe";
	ls.path_len = strlen(ls.path);
	if (kdstub_report_load_symbols(&g_stub, 0, &ls, &res) != 0 ||
	    res.kind != KDSTUB_RESUME_CONTINUE)
		return 14;
	tprintf("resets=%u", g_stub.stats.resets_received);

	/* 4: DbgPrompt. */
	if (kdstub_prompt(&g_stub, 0, "kd> ", 4, answer, sizeof(answer), &n) !=
	    0)
		return 15;
	tprintf("prompt=[%.*s]", (int)n, answer);

	/* 5: the host drops the ACK of this print once. */
	before = g_stub.stats.retransmissions;
	tprintf("drop-me");
	tprintf("retrans=%u", g_stub.stats.retransmissions - before);

	/* 6: bug-check, then reboot. */
	report(1, KD_STATUS_BREAKPOINT, &res);
	if (res.kind != KDSTUB_RESUME_BUGCHECK)
		return 16;
	tprintf("bugcheck=%x", g_fake.bugcheck);
	report(1, KD_STATUS_BREAKPOINT, &res);
	if (res.kind != KDSTUB_RESUME_REBOOT || g_fake.reboots != 1)
		return 17;
	tprintf("done invariants=%d", kdstub_check_invariants(&g_stub));
	return 0;
}

/* ------------------------------------------------------------------ host */

struct host {
	int fd;
	struct kd_stream st;
	struct kd_ids ids;
	uint8_t rbuf[4096];
	size_t rlen, rpos;
	struct kd_packet_header hdr;
	uint8_t payload[KD_PACKET_MAX_RECV];
	size_t plen;
	uint8_t tx[KD_PACKET_HEADER_SIZE + KD_PACKET_MAX_SEND + 1];
};

static struct host H;

/* Next packet within @timeout_ms: 1, or 0 on timeout. */
static int host_next(struct host *h, int timeout_ms)
{
	struct kd_stream_event ev;
	uint64_t end = mono_ms() + (uint64_t)timeout_ms;
	struct pollfd p = { .fd = h->fd, .events = POLLIN };
	ssize_t n;
	size_t used;
	int64_t left;

	for (;;) {
		while (h->rpos < h->rlen) {
			used = kd_stream_feed(&h->st, h->rbuf + h->rpos,
					      h->rlen - h->rpos, &ev);
			h->rpos += used;
			if (ev.kind == KD_STREAM_EVENT_PACKET) {
				h->hdr = ev.hdr;
				h->plen = ev.payload_len;
				if (ev.payload_len)
					memcpy(h->payload, ev.payload,
					       ev.payload_len);
				return 1;
			}
			assert_int_not_equal(ev.kind,
					     KD_STREAM_EVENT_BAD_PACKET);
		}
		left = (int64_t)(end - mono_ms());
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return 0;
		n = read(h->fd, h->rbuf, sizeof(h->rbuf));
		assert_true(n > 0);
		h->rlen = (size_t)n;
		h->rpos = 0;
	}
}

static void host_write(struct host *h, const void *buf, size_t len)
{
	assert_int_equal(write(h->fd, buf, len), (ssize_t)len);
}

static void host_control(struct host *h, unsigned type, uint32_t id)
{
	uint8_t pkt[16];
	size_t n;

	assert_int_equal(
		kd_packet_build_control(pkt, sizeof(pkt), &n, type, id), 0);
	host_write(h, pkt, n);
}

/* Next data packet, ACKed unless @ack is false; control packets skipped. */
static void host_data_ex(struct host *h, bool ack)
{
	struct kd_ids_rx d;

	for (;;) {
		assert_int_equal(host_next(h, 5000), 1);
		if (h->hdr.leader == KD_PACKET_LEADER_CONTROL)
			continue;
		if (!ack)
			return;
		kd_ids_on_data(&h->ids, h->hdr.id, &d);
		if (d.send_ack)
			host_control(h, KD_PACKET_TYPE_ACKNOWLEDGE, d.ack_id);
		if (d.accept)
			return;
	}
}

static void host_data(struct host *h, unsigned type)
{
	host_data_ex(h, true);
	assert_int_equal(h->hdr.type, type);
}

static void host_send(struct host *h, unsigned type, const void *p, size_t len)
{
	size_t n;

	assert_int_equal(kd_packet_build(h->tx, sizeof(h->tx), &n, type,
					 kd_ids_send(&h->ids), p, len, true),
			 0);
	host_write(h, h->tx, n);
	for (;;) {
		assert_int_equal(host_next(h, 5000), 1);
		if (h->hdr.leader == KD_PACKET_LEADER_CONTROL &&
		    h->hdr.type == KD_PACKET_TYPE_ACKNOWLEDGE &&
		    kd_ids_on_ack(&h->ids, h->hdr.id))
			return;
	}
}

static uint8_t g_req[KD_PACKET_MAX_SEND];

static void req_init(struct kd_manipulate *m, uint32_t api, uint16_t proc)
{
	memset(m, 0, sizeof(*m));
	m->api = api;
	m->processor = proc;
	m->return_status = KD_STATUS_PENDING; /* as WinDbg sends it */
	m->machine = KD_MACHINE_AMD64;
}

/* Send a request, return its decoded reply (data valid until next). */
static void manip(struct kd_manipulate *m, const void *data, size_t dlen,
		  struct kd_manipulate *rep)
{
	size_t n;

	assert_int_equal(
		kd_manipulate_encode(g_req, sizeof(g_req), &n, m, data, dlen),
		0);
	host_send(&H, KD_PACKET_TYPE_STATE_MANIPULATE, g_req, n);
	host_data(&H, KD_PACKET_TYPE_STATE_MANIPULATE);
	assert_int_equal(kd_manipulate_decode(rep, H.payload, H.plen), 0);
	assert_int_equal(rep->api, m->api);
}

/* Send a request that has no reply. */
static void manip_noreply(struct kd_manipulate *m)
{
	size_t n;

	assert_int_equal(
		kd_manipulate_encode(g_req, sizeof(g_req), &n, m, NULL, 0), 0);
	host_send(&H, KD_PACKET_TYPE_STATE_MANIPULATE, g_req, n);
}

static void expect_print(const char *text)
{
	struct kd_debug_io io;

	host_data(&H, KD_PACKET_TYPE_DEBUG_IO);
	assert_int_equal(kd_debug_io_decode(&io, H.payload, H.plen), 0);
	assert_int_equal(io.api, KD_DEBUG_IO_PRINT_STRING);
	assert_int_equal(io.text_len, strlen(text));
	assert_memory_equal(io.text, text, io.text_len);
}

static void expect_exception(struct kd_state_change *sc, uint32_t code,
			     uint16_t proc)
{
	host_data(&H, KD_PACKET_TYPE_STATE_CHANGE64);
	assert_int_equal(kd_state_change_decode(sc, H.payload, H.plen), 0);
	assert_int_equal(sc->new_state, KD_STATE_EXCEPTION);
	assert_int_equal(sc->u.exception.record.code, code);
	assert_int_equal(sc->processor, proc);
	assert_int_equal(sc->number_processors, FAKE_CPUS);
	assert_true(sc->program_counter == FAKE_RIP(proc));
	assert_true(sc->thread == FAKE_THREAD(proc));
}

static void read_virtual(uint64_t addr, uint32_t count,
			 struct kd_manipulate *rep)
{
	struct kd_manipulate m;

	req_init(&m, KD_API_READ_VIRTUAL_MEMORY, 0);
	m.u.mem.address = addr;
	m.u.mem.transfer_count = count;
	manip(&m, NULL, 0, rep);
}

static void check_memory_apis(const struct fake_machine *ref)
{
	struct kd_manipulate m, r;
	uint8_t w[4] = { 0xDE, 0xAD, 0xBE, 0xEF };

	/* Reads equal the fake memory; big reads clamp to 3944. */
	read_virtual(FAKE_VBASE + 0x10, 64, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	assert_int_equal(r.u.mem.actual_count, 64);
	assert_int_equal(r.data_len, 64);
	assert_memory_equal(r.data, ref->mem + 0x10, 64);
	read_virtual(FAKE_VBASE, 5000, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	assert_int_equal(r.u.mem.actual_count, KD_MAX_TRANSFER);
	assert_int_equal(r.data_len, KD_MAX_TRANSFER);
	assert_memory_equal(r.data, ref->mem, KD_MAX_TRANSFER);
	/* Partial read at the end of the mapping. */
	read_virtual(FAKE_VBASE + FAKE_MEM - 8, 16, &r);
	assert_int_equal(r.return_status, KD_STATUS_UNSUCCESSFUL);
	assert_int_equal(r.u.mem.actual_count, 8);
	assert_memory_equal(r.data, ref->mem + FAKE_MEM - 8, 8);

	/* Write then read back. */
	req_init(&m, KD_API_WRITE_VIRTUAL_MEMORY, 0);
	m.u.mem.address = FAKE_VBASE + 0x200;
	m.u.mem.transfer_count = 4;
	manip(&m, w, 4, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	assert_int_equal(r.u.mem.actual_count, 4);
	read_virtual(FAKE_VBASE + 0x1FF, 6, &r);
	assert_int_equal(r.data[0], ref->mem[0x1FF]);
	assert_memory_equal(r.data + 1, w, 4);
	assert_int_equal(r.data[5], ref->mem[0x204]);

	/* Physical view of the same bytes. */
	req_init(&m, KD_API_READ_PHYSICAL_MEMORY, 0);
	m.u.mem.address = FAKE_PBASE + 0x200;
	m.u.mem.transfer_count = 4;
	m.u.mem.actual_count = KD_PHYS_CACHED;
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	assert_int_equal(r.u.mem.actual_count, 4);
	assert_memory_equal(r.data, w, 4);
	req_init(&m, KD_API_WRITE_PHYSICAL_MEMORY, 0);
	m.u.mem.address = FAKE_PBASE + 0x300;
	m.u.mem.transfer_count = 2;
	manip(&m, "hi", 2, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	read_virtual(FAKE_VBASE + 0x300, 2, &r);
	assert_memory_equal(r.data, "hi", 2);
}

static void check_context_apis(void)
{
	struct kd_manipulate m, r;
	uint8_t ctx[KDSTUB_CONTEXT_SIZE];
	uint8_t v[8];

	req_init(&m, KD_API_GET_CONTEXT, 1);
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	assert_int_equal(r.data_len, KDSTUB_CONTEXT_SIZE);
	assert_true(kd_get_le64(r.data + 0xF8) == FAKE_RIP(1));
	assert_true(kd_get_le64(r.data + 0x78) == 0x2222);
	memcpy(ctx, r.data, sizeof(ctx));
	kd_put_le64(ctx + 0x78, 0x1234567890ull); /* Rax */
	req_init(&m, KD_API_SET_CONTEXT, 1);
	m.u.context_flags = 0xCCCCCCCC; /* junk, as WinDbg sends */
	manip(&m, ctx, sizeof(ctx), &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);

	req_init(&m, KD_API_GET_CONTEXT_EX, 1);
	m.u.context_ex.offset = 0x78;
	m.u.context_ex.byte_count = 8;
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	assert_int_equal(r.u.context_ex.bytes_copied, 8);
	assert_true(kd_get_le64(r.data) == 0x1234567890ull);

	kd_put_le64(v, 0xABCDEF);
	req_init(&m, KD_API_SET_CONTEXT_EX, 1);
	m.u.context_ex.offset = 0x90; /* Rbx */
	m.u.context_ex.byte_count = 8;
	manip(&m, v, 8, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	assert_int_equal(r.u.context_ex.bytes_copied, 8);
	req_init(&m, KD_API_GET_CONTEXT, 1);
	manip(&m, NULL, 0, &r);
	assert_true(kd_get_le64(r.data + 0x90) == 0xABCDEF);
	assert_true(kd_get_le64(r.data + 0x78) == 0x1234567890ull);

	/* Out of bounds and bad processor. */
	req_init(&m, KD_API_GET_CONTEXT_EX, 1);
	m.u.context_ex.offset = KDSTUB_CONTEXT_SIZE - 2;
	m.u.context_ex.byte_count = 8;
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_UNSUCCESSFUL);
	assert_int_equal(r.u.context_ex.bytes_copied, 0);
	assert_int_equal(r.data_len, 0);
	req_init(&m, KD_API_GET_CONTEXT, 9);
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_UNSUCCESSFUL);
	assert_int_equal(r.data_len, 0);
}

static void check_breakpoints(const struct fake_machine *ref)
{
	struct kd_manipulate m, r;
	uint32_t h;

	req_init(&m, KD_API_WRITE_BREAKPOINT, 0);
	m.u.write_bp.address = FAKE_VBASE + 0x100;
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	h = r.u.write_bp.handle;
	assert_int_not_equal(h, 0);
	read_virtual(FAKE_VBASE + 0x100, 2, &r);
	assert_int_equal(r.data[0], 0xCC);
	assert_int_equal(r.data[1], ref->mem[0x101]);

	req_init(&m, KD_API_RESTORE_BREAKPOINT, 0);
	m.u.restore_bp_handle = h;
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	read_virtual(FAKE_VBASE + 0x100, 1, &r);
	assert_int_equal(r.data[0], ref->mem[0x100]);
	/* The same handle again, and one never given out. */
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_UNSUCCESSFUL);
	m.u.restore_bp_handle = 0x77;
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_UNSUCCESSFUL);
	/* Unmapped address. */
	req_init(&m, KD_API_WRITE_BREAKPOINT, 0);
	m.u.write_bp.address = 0x1000;
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_UNSUCCESSFUL);
	assert_int_equal(r.u.write_bp.handle, 0);
}

static void check_control_space(const struct fake_machine *ref)
{
	struct kd_manipulate m, r;
	uint8_t ks[KDSTUB_KSPECIAL_SIZE];

	req_init(&m, KD_API_READ_CONTROL_SPACE, 2);
	m.u.mem.address = KD_AMD64_CS_KSPECIAL;
	m.u.mem.transfer_count = 0xE0;
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	assert_int_equal(r.u.mem.actual_count, 224);
	assert_int_equal(r.data_len, 224);
	assert_memory_equal(r.data, ref->ks[2], 224);
	memcpy(ks, r.data, sizeof(ks));
	kd_put_le64(ks + 0x10, 0x7777000); /* Cr3 */
	req_init(&m, KD_API_WRITE_CONTROL_SPACE, 2);
	m.u.mem.address = KD_AMD64_CS_KSPECIAL;
	m.u.mem.transfer_count = 0xE0;
	manip(&m, ks, sizeof(ks), &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	assert_int_equal(r.u.mem.actual_count, 224);
	req_init(&m, KD_API_READ_CONTROL_SPACE, 2);
	m.u.mem.address = KD_AMD64_CS_KSPECIAL;
	m.u.mem.transfer_count = 0x100; /* more than there is */
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.u.mem.actual_count, 224);
	assert_true(kd_get_le64(r.data + 0x10) == 0x7777000);

	req_init(&m, KD_API_READ_CONTROL_SPACE, 3);
	m.u.mem.address = KD_AMD64_CS_PCR;
	m.u.mem.transfer_count = 8;
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	assert_int_equal(r.u.mem.actual_count, 8);
	assert_true(kd_get_le64(r.data) == FAKE_PCR(3));
	m.u.mem.address = KD_AMD64_CS_PRCB;
	manip(&m, NULL, 0, &r);
	assert_true(kd_get_le64(r.data) == FAKE_PRCB(3));
	m.u.mem.address = KD_AMD64_CS_THREAD;
	manip(&m, NULL, 0, &r);
	assert_true(kd_get_le64(r.data) == FAKE_THREAD(3));
	m.u.mem.address = 9;
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_UNSUCCESSFUL);
	assert_int_equal(r.u.mem.actual_count, 0);
	req_init(&m, KD_API_WRITE_CONTROL_SPACE, 3);
	m.u.mem.address = KD_AMD64_CS_PCR;
	m.u.mem.transfer_count = 8;
	manip(&m, ks, 8, &r);
	assert_int_equal(r.return_status, KD_STATUS_UNSUCCESSFUL);
}

static void check_io_msr(const struct fake_machine *ref)
{
	struct kd_manipulate m, r;

	req_init(&m, KD_API_READ_IO_SPACE, 0);
	m.u.io.address = 0x80;
	m.u.io.data_size = 1;
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	assert_int_equal(r.u.io.data_value, ref->ports[0x80]);
	req_init(&m, KD_API_WRITE_IO_SPACE, 0);
	m.u.io.address = 0x70;
	m.u.io.data_size = 2;
	m.u.io.data_value = 0xBEEF;
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	req_init(&m, KD_API_READ_IO_SPACE, 0);
	m.u.io.address = 0x70;
	m.u.io.data_size = 2;
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.u.io.data_value, 0xBEEF);
	m.u.io.address = 0x71;
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_DATATYPE_MISALIGNMENT);
	m.u.io.address = 0x70;
	m.u.io.data_size = 3;
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_INVALID_PARAMETER);

	req_init(&m, KD_API_READ_IO_SPACE_EX, 0);
	m.u.io_ex.data_size = 4;
	m.u.io_ex.interface_type = 1;
	m.u.io_ex.address_space = 1;
	m.u.io_ex.address = 0x70;
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	assert_int_equal(r.u.io_ex.data_value & 0xFFFF, 0xBEEF);
	m.u.io_ex.interface_type = 5; /* PCI bus: not port I/O */
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_UNSUCCESSFUL);

	req_init(&m, KD_API_READ_MSR, 0);
	m.u.msr.msr = FAKE_MSR_LSTAR;
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	assert_true(((uint64_t)r.u.msr.high << 32 | r.u.msr.low) ==
		    FAKE_VBASE + 0x1000);
	req_init(&m, KD_API_WRITE_MSR, 0);
	m.u.msr.msr = FAKE_MSR_LSTAR;
	m.u.msr.low = 0x5000;
	m.u.msr.high = 0xFFFFF801;
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	req_init(&m, KD_API_READ_MSR, 0);
	m.u.msr.msr = FAKE_MSR_LSTAR;
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.u.msr.low, 0x5000);
	assert_int_equal(r.u.msr.high, 0xFFFFF801);
	m.u.msr.msr = 0x12345;
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_NO_SUCH_DEVICE);
}

static void check_misc(const struct fake_machine *ref)
{
	struct kd_manipulate m, r;
	size_t i;

	req_init(&m, KD_API_GET_VERSION, 0);
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	assert_int_equal(r.u.version.minor_version, FAKE_BUILD);
	assert_int_equal(r.u.version.major_version, 0x000F);
	assert_int_equal(r.u.version.protocol_version, 6);
	assert_int_equal(r.u.version.secondary_version, 2);
	assert_int_equal(r.u.version.machine_type, KD_MACHINE_AMD64);
	assert_int_equal(r.u.version.flags, KD_VERS_FLAG_MP |
						    KD_VERS_FLAG_DATA |
						    KD_VERS_FLAG_PTR64);
	assert_int_equal(r.u.version.max_packet_type, 12);
	assert_true(r.u.version.kern_base == FAKE_VBASE);
	assert_true(r.u.version.ps_loaded_module_list == FAKE_MODLIST);
	assert_true(r.u.version.debugger_data_list == FAKE_KDBG_LIST);

	req_init(&m, KD_API_QUERY_MEMORY, 0);
	m.u.query.address = FAKE_VBASE;
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	assert_int_equal(r.u.query.address_space, KD_QUERY_SPACE_KERNEL);
	assert_int_equal(r.u.query.flags, 7);
	m.u.query.address = 0x10000;
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.u.query.address_space, KD_QUERY_SPACE_PROCESS);
	m.u.query.address_space = 1;
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_INVALID_PARAMETER);

	req_init(&m, KD_API_SEARCH_MEMORY, 0);
	m.u.search.address = FAKE_VBASE;
	m.u.search.length = FAKE_MEM;
	m.u.search.pattern_length = 8;
	manip(&m, FAKE_SEARCH_PAT, 8, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	assert_true(r.u.search.address == FAKE_VBASE + FAKE_SEARCH_AT);
	/* Not there: the tail of the mapping and beyond. */
	m.u.search.address = FAKE_VBASE + FAKE_SEARCH_AT + 1;
	m.u.search.length = 0x100000;
	manip(&m, FAKE_SEARCH_PAT, 8, &r);
	assert_int_equal(r.return_status, KD_STATUS_NOT_FOUND);
	m.u.search.pattern_length = 0;
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_INVALID_PARAMETER);

	req_init(&m, KD_API_FILL_MEMORY, 0);
	m.u.fill.address = FAKE_VBASE + 0x2801;
	m.u.fill.length = 101;
	m.u.fill.flags = KD_FILL_VIRTUAL;
	m.u.fill.pattern_length = 3;
	manip(&m, "xyz", 3, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	assert_int_equal(r.u.fill.length, 101);
	read_virtual(FAKE_VBASE + 0x2800, 103, &r);
	assert_int_equal(r.data[0], ref->mem[0x2800]);
	for (i = 0; i < 101; i++)
		assert_int_equal(r.data[1 + i], "xyz"[i % 3]);
	assert_int_equal(r.data[102], ref->mem[0x2800 + 102]);

	/* Unknown and legacy APIs: STATUS_NOT_IMPLEMENTED, union echoed. */
	req_init(&m, 0x3170, 0);
	m.raw[0] = 0x42;
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_NOT_IMPLEMENTED);
	assert_int_equal(r.raw[0], 0x42);
	req_init(&m, KD_API_WRITE_BREAKPOINT_EX, 0);
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_NOT_IMPLEMENTED);
	req_init(&m, KD_API_PAGE_IN, 0);
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_UNSUCCESSFUL);
	/* ClearAllInternalBreakpoints has no reply: the next one answers. */
	req_init(&m, KD_API_CLEAR_ALL_INTERNAL_BPS, 0);
	manip_noreply(&m);
	req_init(&m, KD_API_CHECK_LOW_MEMORY, 0);
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
}

/* A request shorter than its 56-byte header: RESEND, never ACK (§1.7). */
static void check_short_request(void)
{
	uint8_t shortreq[20];
	uint32_t id;
	size_t n;

	memset(shortreq, 0, sizeof(shortreq));
	kd_put_le32(shortreq, KD_API_READ_VIRTUAL_MEMORY);
	id = kd_ids_send(&H.ids);
	assert_int_equal(kd_packet_build(H.tx, sizeof(H.tx), &n,
					 KD_PACKET_TYPE_STATE_MANIPULATE, id,
					 shortreq, sizeof(shortreq), true),
			 0);
	host_write(&H, H.tx, n);
	assert_int_equal(host_next(&H, 5000), 1);
	assert_int_equal(H.hdr.leader, KD_PACKET_LEADER_CONTROL);
	assert_int_equal(H.hdr.type, KD_PACKET_TYPE_RESEND);
	/* The id stays pending; the next good request reuses it. */
}

static void host_main(int fd)
{
	struct fake_machine ref;
	struct kd_state_change sc;
	struct kd_manipulate m, r;
	struct kd_debug_io io;
	uint32_t id, id2;
	size_t n;
	char text[256];

	fake_init(&ref);
	H.fd = fd;
	kd_stream_init(&H.st);
	kd_ids_init(&H.ids, KD_IDS_HOST, KD_IDS_KDCOM);

	/* Break in; the first packet carries INITIAL|SYNC (§1.6). */
	host_write(&H, "b", 1);
	host_data_ex(&H, false);
	assert_int_equal(H.hdr.type, KD_PACKET_TYPE_STATE_CHANGE64);
	assert_int_equal(H.hdr.id, KD_PACKET_ID_INITIAL | KD_PACKET_ID_SYNC);
	/* ACK with the SYNC bit stripped, as hosts do. */
	{
		struct kd_ids_rx d;

		kd_ids_on_data(&H.ids, H.hdr.id, &d);
		assert_true(d.accept);
		assert_int_equal(d.ack_id, KD_PACKET_ID_INITIAL);
		host_control(&H, KD_PACKET_TYPE_ACKNOWLEDGE, d.ack_id);
	}
	assert_int_equal(kd_state_change_decode(&sc, H.payload, H.plen), 0);
	assert_int_equal(sc.u.exception.record.code, KD_STATUS_BREAKPOINT);
	assert_int_equal(sc.u.exception.first_chance, 1);
	assert_true(sc.program_counter == FAKE_RIP(0));
	assert_int_equal(sc.amd64.instruction_count, 16);
	assert_memory_equal(sc.amd64.instruction_stream, ref.mem + 0x400, 16);
	assert_int_equal(sc.amd64.seg_cs, 0x10);
	assert_int_equal(sc.amd64.eflags, 0x202);
	assert_int_equal(sc.amd64.report_flags,
			 KD_REPORT_INCLUDES_SEGS | KD_REPORT_STANDARD_CS);

	check_short_request();
	check_memory_apis(&ref);
	check_context_apis();
	check_breakpoints(&ref);
	check_control_space(&ref);
	check_io_msr(&ref);
	check_misc(&ref);

	/* Continue2 with the trace flag and Dr7. */
	req_init(&m, KD_API_CONTINUE2, 0);
	m.u.continue2.continue_status = KD_DBG_CONTINUE;
	m.u.continue2.trace_flag = 1;
	m.u.continue2.amd64.dr7 = 0x401;
	m.u.continue2.amd64.symbol_start = KD_CONTINUE_NO_SYMBOL_RANGE;
	manip_noreply(&m);
	expect_print("c2 kind=0 status=00010002 trace=1 step0=1 "
		     "dr7=401/401/401/401");

	/* Single step; switch to CPU 2, which reports itself. */
	expect_exception(&sc, KD_STATUS_SINGLE_STEP, 0);
	req_init(&m, KD_API_SWITCH_PROCESSOR, 0); /* the current CPU */
	manip_noreply(&m);
	expect_exception(&sc, KD_STATUS_SINGLE_STEP, 0); /* re-reported */
	req_init(&m, KD_API_SWITCH_PROCESSOR, 2);
	manip_noreply(&m);
	expect_exception(&sc, KD_STATUS_WAKE_SYSTEM_DEBUGGER, 2);
	req_init(&m, KD_API_GET_CONTEXT, 2);
	manip(&m, NULL, 0, &r);
	assert_true(kd_get_le64(r.data + 0xF8) == FAKE_RIP(2));
	req_init(&m, KD_API_CONTINUE, 2);
	m.u.continue_status = KD_DBG_CONTINUE;
	manip_noreply(&m);

	/* LoadSymbols, then a RESET in the middle of the stop. */
	host_data(&H, KD_PACKET_TYPE_STATE_CHANGE64);
	assert_int_equal(kd_state_change_decode(&sc, H.payload, H.plen), 0);
	assert_int_equal(sc.new_state, KD_STATE_LOAD_SYMBOLS);
	assert_int_equal(sc.u.load_symbols.path_name_length, 34);
	assert_int_equal(sc.u.load_symbols.path_len, 33);
	assert_memory_equal(sc.u.load_symbols.path,
			    "\\SystemRoot\\system32\\ntoskrnl.exe", 33);
	assert_true(sc.u.load_symbols.base_of_dll == FAKE_VBASE);
	assert_int_equal(sc.u.load_symbols.size_of_image, 0x00A00000);
	assert_int_equal(H.plen, 240 + 34);
	host_control(&H, KD_PACKET_TYPE_RESET, kd_ids_send_reset(&H.ids));
	assert_int_equal(host_next(&H, 5000), 1);
	assert_int_equal(H.hdr.leader, KD_PACKET_LEADER_CONTROL);
	assert_int_equal(H.hdr.type, KD_PACKET_TYPE_RESET);
	assert_int_equal(H.hdr.id, 0);
	host_data(&H, KD_PACKET_TYPE_STATE_CHANGE64);
	assert_int_equal(H.hdr.id, KD_PACKET_ID_INITIAL);
	assert_int_equal(kd_state_change_decode(&sc, H.payload, H.plen), 0);
	assert_int_equal(sc.new_state, KD_STATE_LOAD_SYMBOLS);
	req_init(&m, KD_API_GET_VERSION, 0);
	manip(&m, NULL, 0, &r);
	assert_int_equal(r.return_status, KD_STATUS_SUCCESS);
	req_init(&m, KD_API_CONTINUE2, 0);
	m.u.continue2.continue_status = KD_DBG_CONTINUE;
	manip_noreply(&m);
	expect_print("resets=1");

	/* GetString. */
	host_data(&H, KD_PACKET_TYPE_DEBUG_IO);
	assert_int_equal(kd_debug_io_decode(&io, H.payload, H.plen), 0);
	assert_int_equal(io.api, KD_DEBUG_IO_GET_STRING);
	assert_int_equal(io.text_len, 4);
	assert_memory_equal(io.text, "kd> ", 4);
	assert_int_equal(io.read_length, 64);
	io.read_length = 2;
	assert_int_equal(
		kd_debug_io_encode(g_req, sizeof(g_req), &n, &io, "g\n", 2), 0);
	host_send(&H, KD_PACKET_TYPE_DEBUG_IO, g_req, n);
	expect_print("prompt=[g\n]");

	/* Drop the ACK of one print: the stub retransmits, same id. */
	host_data_ex(&H, false);
	assert_int_equal(H.hdr.type, KD_PACKET_TYPE_DEBUG_IO);
	id = H.hdr.id;
	host_data_ex(&H, false);
	id2 = H.hdr.id;
	assert_int_equal(id, id2);
	{
		struct kd_ids_rx d;

		kd_ids_on_data(&H.ids, id2, &d);
		assert_true(d.accept);
		host_control(&H, KD_PACKET_TYPE_ACKNOWLEDGE, d.ack_id);
	}
	assert_int_equal(kd_debug_io_decode(&io, H.payload, H.plen), 0);
	assert_memory_equal(io.text, "drop-me", 7);
	expect_print("retrans=1");

	/* CauseBugCheck, then Reboot. */
	expect_exception(&sc, KD_STATUS_BREAKPOINT, 1);
	req_init(&m, KD_API_CAUSE_BUGCHECK, 1);
	manip_noreply(&m);
	expect_print("bugcheck=e2");
	expect_exception(&sc, KD_STATUS_BREAKPOINT, 1);
	req_init(&m, KD_API_REBOOT, 1);
	manip_noreply(&m);
	snprintf(text, sizeof(text), "done invariants=0");
	expect_print(text);
}

static void test_session(void **state)
{
	int sv[2];
	pid_t pid;
	int status = -1;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		_exit(target_main(sv[1]));
	}
	close(sv[1]);
	host_main(sv[0]);
	close(sv[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
