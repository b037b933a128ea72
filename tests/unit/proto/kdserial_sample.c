/* SPDX-License-Identifier: MIT */
/*
 * Runs the KDCOM stream parser and the id state machines over the real
 * serial session in ../shared/data/kdserial (radare2 host, Xen kdd target)
 * and checks facts about it.  Skips (77) when the samples are absent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <kd/proto/ids.h>
#include <kd/proto/stream.h>

#include "testsupport.h"

#define MAX_EV 64

struct ev {
	enum kd_stream_event_kind kind;
	struct kd_packet_header hdr;
	uint32_t api; /* first u32 of the payload */
};

struct trace {
	struct ev e[MAX_EV];
	size_t n;
	unsigned by_type[KD_PACKET_TYPE_MAX + 1];
	struct kd_stream_stats stats;
};

static struct trace h2t, t2h;

/* Parse @p rel one byte at a time (the way a UART delivers it). */
static void load(const char *rel, struct trace *tr)
{
	char path[4096];
	static struct kd_stream s;
	uint8_t *buf;
	size_t len, off = 0;

	kdt_require_shared(path, sizeof(path), rel);
	buf = kdt_read_file(path, &len);
	assert_non_null(buf);
	memset(tr, 0, sizeof(*tr));
	kd_stream_init(&s);
	while (off < len) {
		struct kd_stream_event e;

		off += kd_stream_feed(&s, buf + off, 1, &e);
		if (e.kind == KD_STREAM_EVENT_NONE)
			continue;
		assert_true(tr->n < MAX_EV);
		tr->e[tr->n].kind = e.kind;
		tr->e[tr->n].hdr = e.hdr;
		if (e.kind == KD_STREAM_EVENT_PACKET) {
			assert_true(e.hdr.type <= KD_PACKET_TYPE_MAX);
			tr->by_type[e.hdr.type]++;
			if (e.payload_len >= 4)
				tr->e[tr->n].api = kd_get_le32(e.payload);
		}
		tr->n++;
	}
	tr->stats = *kd_stream_stats(&s);
	assert_int_equal(tr->stats.bytes, len);
	free(buf);

	printf("%s: %zu bytes, %llu packets (%llu data, %llu control), "
	       "%llu break-ins, %llu skipped\n",
	       rel, len, (unsigned long long)tr->stats.packets,
	       (unsigned long long)tr->stats.data_packets,
	       (unsigned long long)tr->stats.control_packets,
	       (unsigned long long)tr->stats.breakins,
	       (unsigned long long)tr->stats.bytes_skipped);
	for (unsigned t = 0; t <= KD_PACKET_TYPE_MAX; t++)
		if (tr->by_type[t])
			printf("  %-20s %u\n", kd_packet_type_name(t),
			       tr->by_type[t]);
}

static int setup(void **state)
{
	(void)state;
	load("kdserial/host-to-target.bin", &h2t);
	load("kdserial/target-to-host.bin", &t2h);
	return 0;
}

static void test_proto_kdserial_sample__clean(void **state)
{
	(void)state;
	/* Every data packet checksums and ends in 0xAA; no noise at all. */
	for (const struct trace *tr = &h2t; tr; tr = tr == &h2t ? &t2h : NULL) {
		assert_int_equal(tr->stats.bad_checksums, 0);
		assert_int_equal(tr->stats.bad_trailers, 0);
		assert_int_equal(tr->stats.bad_lengths, 0);
		assert_int_equal(tr->stats.bytes_skipped, 0);
		for (size_t i = 0; i < tr->n; i++)
			assert_int_not_equal(tr->e[i].kind,
					     KD_STREAM_EVENT_BAD_PACKET);
	}
}

static void test_proto_kdserial_sample__host_to_target(void **state)
{
	static const uint32_t ids[] = { 0x80800000u, 0x80800001u, 0x80800000u,
					0x80800001u, 0x80800000u };
	size_t data = 0;

	(void)state;
	/* radare2 sync: break-in byte, then RESET (id 0). */
	assert_int_equal(h2t.e[0].kind, KD_STREAM_EVENT_BREAKIN);
	assert_int_equal(h2t.e[1].kind, KD_STREAM_EVENT_PACKET);
	assert_int_equal(h2t.e[1].hdr.type, KD_PACKET_TYPE_RESET);
	assert_int_equal(h2t.e[1].hdr.id, 0);
	assert_int_equal(h2t.stats.breakins, 1);
	assert_int_equal(h2t.stats.packets, 16);
	assert_int_equal(h2t.stats.data_packets, 5);
	assert_int_equal(h2t.by_type[KD_PACKET_TYPE_RESET], 1);
	assert_int_equal(h2t.by_type[KD_PACKET_TYPE_ACKNOWLEDGE], 10);
	assert_int_equal(h2t.by_type[KD_PACKET_TYPE_STATE_MANIPULATE], 5);
	for (size_t i = 0; i < h2t.n; i++) {
		const struct ev *e = &h2t.e[i];

		if (e->hdr.leader != KD_PACKET_LEADER_DATA)
			continue;
		/* Host ids alternate, starting at INITIAL. */
		assert_true(data < KD_ARRAY_SIZE(ids));
		assert_int_equal(e->hdr.id, ids[data]);
		assert_int_equal(e->hdr.byte_count, 56);
		/* GetVersion first, then ReadVirtualMemory. */
		assert_int_equal(e->api, data == 0 ? 0x3146 : 0x3130);
		data++;
	}
	assert_int_equal(data, 5);
}

static void test_proto_kdserial_sample__target_to_host(void **state)
{
	(void)state;
	assert_int_equal(t2h.stats.breakins, 0);
	assert_int_equal(t2h.stats.packets, 16);
	assert_int_equal(t2h.stats.data_packets, 10);
	assert_int_equal(t2h.by_type[KD_PACKET_TYPE_STATE_CHANGE64], 3);
	assert_int_equal(t2h.by_type[KD_PACKET_TYPE_DEBUG_IO], 2);
	assert_int_equal(t2h.by_type[KD_PACKET_TYPE_STATE_MANIPULATE], 5);
	assert_int_equal(t2h.by_type[KD_PACKET_TYPE_ACKNOWLEDGE], 5);
	assert_int_equal(t2h.by_type[KD_PACKET_TYPE_RESET], 1);
	/* kdd answers the RESET with id 0xdeadbeef. */
	assert_int_equal(t2h.e[2].hdr.type, KD_PACKET_TYPE_RESET);
	assert_int_equal(t2h.e[2].hdr.id, 0xDEADBEEFu);
	/* The first packet is a 240-byte state change. */
	assert_int_equal(t2h.e[0].hdr.type, KD_PACKET_TYPE_STATE_CHANGE64);
	assert_int_equal(t2h.e[0].hdr.byte_count, 240);
	assert_int_equal(t2h.e[0].hdr.checksum, 0x5740);
}

/*
 * Feed the data ids of one direction to the receiving role's state machine
 * (applying that direction's RESETs) and check that the ACKs it would send
 * are exactly the ACKs found, in order, in the other direction.
 */
static void check_acks(const struct trace *data_dir,
		       const struct trace *ack_dir, enum kd_ids_role receiver)
{
	struct kd_ids ids;
	uint32_t want[MAX_EV];
	size_t nwant = 0, nack = 0;

	kd_ids_init(&ids, receiver, KD_IDS_KDCOM);
	for (size_t i = 0; i < data_dir->n; i++) {
		const struct ev *e = &data_dir->e[i];
		struct kd_ids_rx rx;
		struct kd_ids_reset r;

		if (e->kind != KD_STREAM_EVENT_PACKET)
			continue;
		if (e->hdr.leader == KD_PACKET_LEADER_CONTROL) {
			if (e->hdr.type == KD_PACKET_TYPE_RESET)
				kd_ids_on_reset(&ids, &r);
			continue;
		}
		kd_ids_on_data(&ids, e->hdr.id, &rx);
		assert_true(rx.accept);
		assert_true(rx.send_ack);
		assert_int_equal(rx.ack_id, e->hdr.id & ~KD_PACKET_ID_SYNC);
		want[nwant++] = rx.ack_id;
	}
	for (size_t i = 0; i < ack_dir->n; i++) {
		const struct ev *e = &ack_dir->e[i];

		if (e->kind != KD_STREAM_EVENT_PACKET ||
		    e->hdr.type != KD_PACKET_TYPE_ACKNOWLEDGE)
			continue;
		assert_true(nack < nwant);
		assert_int_equal(e->hdr.id, want[nack]);
		assert_int_equal(e->hdr.id & KD_PACKET_ID_SYNC, 0);
		nack++;
	}
	assert_int_equal(nack, nwant);
}

static void test_proto_kdserial_sample__acks(void **state)
{
	(void)state;
	check_acks(&t2h, &h2t, KD_IDS_HOST);
	check_acks(&h2t, &t2h, KD_IDS_TARGET);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proto_kdserial_sample__clean),
		cmocka_unit_test(test_proto_kdserial_sample__host_to_target),
		cmocka_unit_test(test_proto_kdserial_sample__target_to_host),
		cmocka_unit_test(test_proto_kdserial_sample__acks),
	};
	char path[4096];

	/* Skip the whole program before cmocka starts if samples are absent. */
	kdt_require_shared(path, sizeof(path), "kdserial/host-to-target.bin");
	kdt_require_shared(path, sizeof(path), "kdserial/target-to-host.bin");
	return cmocka_run_group_tests(tests, setup, NULL);
}
