/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the packet-id state machines: host and target roles,
 * the SYNC bit, RESET, RESEND, duplicates, §1.7(3), and KDNET ids.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <kd/proto/ids.h>
#include <kd/proto/packet.h>

static void test_proto_ids__kdcom_initial(void **state)
{
	struct kd_ids h, t;

	(void)state;
	kd_ids_init(&h, KD_IDS_HOST, KD_IDS_KDCOM);
	kd_ids_init(&t, KD_IDS_TARGET, KD_IDS_KDCOM);
	assert_int_equal(h.send_id, 0x80800000u);
	assert_int_equal(h.recv_id, 0x80800000u);
	assert_int_equal(t.send_id, 0x80800800u);
	assert_int_equal(t.recv_id, 0x80800000u);
	assert_false(kd_ids_on_resend(&h));
	/* An ACK with nothing pending is ignored. */
	assert_false(kd_ids_on_ack(&h, 0x80800000u));
}

static void test_proto_ids__sync_handshake(void **state)
{
	struct kd_ids h, t;
	struct kd_ids_rx rx;
	uint32_t id;

	(void)state;
	kd_ids_init(&h, KD_IDS_HOST, KD_IDS_KDCOM);
	kd_ids_init(&t, KD_IDS_TARGET, KD_IDS_KDCOM);

	/* Target's first state change carries INITIAL|SYNC. */
	id = kd_ids_send(&t);
	assert_int_equal(id, 0x80800800u);
	kd_ids_on_data(&h, id, &rx);
	assert_true(rx.accept);
	assert_false(rx.duplicate);
	assert_true(rx.send_ack);
	assert_int_equal(rx.ack_id, 0x80800000u); /* SYNC stripped */
	assert_true(rx.resync);

	/* The target refuses an ACK that keeps the SYNC bit. */
	assert_false(kd_ids_on_ack(&t, 0x80800800u));
	assert_true(t.awaiting_ack);
	assert_true(kd_ids_on_ack(&t, rx.ack_id));
	assert_false(t.awaiting_ack);
	assert_int_equal(t.send_id, 0x80800001u);

	/* Host request, target reply: ids alternate. */
	id = kd_ids_send(&h);
	assert_int_equal(id, 0x80800000u);
	kd_ids_on_data(&t, id, &rx);
	assert_true(rx.accept);
	assert_int_equal(rx.ack_id, 0x80800000u);
	assert_true(kd_ids_on_ack(&h, rx.ack_id));
	assert_int_equal(h.send_id, 0x80800001u);

	id = kd_ids_send(&t);
	assert_int_equal(id, 0x80800001u);
	kd_ids_on_data(&h, id, &rx);
	assert_true(rx.accept);
	assert_false(rx.resync);
	assert_int_equal(rx.ack_id, 0x80800001u);
	assert_true(kd_ids_on_ack(&t, rx.ack_id));
	assert_int_equal(t.send_id, 0x80800000u);

	id = kd_ids_send(&h);
	assert_int_equal(id, 0x80800001u);
	/* Stale ACK for the previous id is ignored. */
	assert_false(kd_ids_on_ack(&h, 0x80800000u));
	assert_true(kd_ids_on_ack(&h, 0x80800001u));
	assert_int_equal(h.send_id, 0x80800000u);
}

static void test_proto_ids__duplicate(void **state)
{
	struct kd_ids t;
	struct kd_ids_rx rx;

	(void)state;
	kd_ids_init(&t, KD_IDS_TARGET, KD_IDS_KDCOM);
	kd_ids_on_data(&t, 0x80800000u, &rx);
	assert_true(rx.accept);
	/* Host did not see our ACK and sends the same packet again. */
	kd_ids_on_data(&t, 0x80800000u, &rx);
	assert_false(rx.accept);
	assert_true(rx.duplicate);
	assert_true(rx.send_ack);
	assert_int_equal(rx.ack_id, 0x80800000u);
	/* The next one is taken. */
	kd_ids_on_data(&t, 0x80800001u, &rx);
	assert_true(rx.accept);
	assert_int_equal(t.recv_id, 0x80800000u);
}

static void test_proto_ids__resend(void **state)
{
	struct kd_ids h;

	(void)state;
	kd_ids_init(&h, KD_IDS_HOST, KD_IDS_KDCOM);
	assert_int_equal(kd_ids_send(&h), 0x80800000u);
	assert_true(kd_ids_on_resend(&h));
	/* Retransmission keeps its id. */
	assert_int_equal(kd_ids_send(&h), 0x80800000u);
	assert_true(kd_ids_on_ack(&h, 0x80800000u));
	assert_false(kd_ids_on_resend(&h));
}

static void test_proto_ids__reset(void **state)
{
	struct kd_ids h, t;
	struct kd_ids_reset r;
	struct kd_ids_rx rx;

	(void)state;
	kd_ids_init(&h, KD_IDS_HOST, KD_IDS_KDCOM);
	kd_ids_init(&t, KD_IDS_TARGET, KD_IDS_KDCOM);
	kd_ids_on_data(&t, 0x80800000u, &rx);
	assert_int_equal(t.recv_id, 0x80800001u);
	assert_int_equal(kd_ids_send(&t), 0x80800800u);

	/* Host sends RESET (id 0); target answers and re-sends pending. */
	assert_int_equal(kd_ids_send_reset(&h), 0);
	assert_int_equal(h.send_id, 0x80800000u);
	kd_ids_on_reset(&t, &r);
	assert_true(r.answer);
	assert_int_equal(r.answer_id, 0);
	assert_true(r.resend_pending);
	assert_int_equal(t.send_id, 0x80800000u); /* SYNC cleared */
	assert_int_equal(t.recv_id, 0x80800000u);
	assert_int_equal(kd_ids_send(&t), 0x80800000u);

	/* The host does not answer the target's RESET (no bounce). */
	kd_ids_on_reset(&h, &r);
	assert_false(r.answer);
	assert_false(r.resend_pending);
	kd_ids_on_data(&h, 0x80800000u, &rx);
	assert_true(rx.accept);
	assert_false(rx.resync);
}

static void test_proto_ids__data_while_waiting(void **state)
{
	struct kd_ids t, h;
	struct kd_ids_rx rx;

	(void)state;
	/* §1.7(3), target role. */
	kd_ids_init(&t, KD_IDS_TARGET, KD_IDS_KDCOM);
	assert_int_equal(kd_ids_send(&t), 0x80800800u);
	kd_ids_on_data(&t, 0x80800000u, &rx);
	assert_true(rx.send_resend);
	assert_true(rx.implicit_ack);
	assert_false(rx.accept);
	assert_false(rx.send_ack);
	assert_false(t.awaiting_ack);
	assert_int_equal(t.send_id, 0x80800001u);
	assert_int_equal(t.recv_id, 0x80800000u);
	/* The host repeats it; now it is taken. */
	kd_ids_on_data(&t, 0x80800000u, &rx);
	assert_true(rx.accept);
	assert_false(rx.send_resend);

	/* Host role: processed normally, still waiting for its ACK. */
	kd_ids_init(&h, KD_IDS_HOST, KD_IDS_KDCOM);
	kd_ids_send(&h);
	kd_ids_on_data(&h, 0x80800000u, &rx);
	assert_true(rx.accept);
	assert_false(rx.implicit_ack);
	assert_true(h.awaiting_ack);
}

static void test_proto_ids__target_give_up(void **state)
{
	struct kd_ids t, h;
	struct kd_ids_rx rx;

	(void)state;
	kd_ids_init(&t, KD_IDS_TARGET, KD_IDS_KDCOM);
	kd_ids_init(&h, KD_IDS_HOST, KD_IDS_KDCOM);
	kd_ids_send(&t);
	assert_true(kd_ids_on_ack(&t, 0x80800000u));
	kd_ids_on_data(&h, 0x80800800u, &rx);
	kd_ids_send(&h);
	assert_true(kd_ids_on_ack(&h, 0x80800000u));
	assert_int_equal(h.send_id, 0x80800001u);
	kd_ids_send(&t);
	kd_ids_target_give_up(&t);
	assert_false(t.awaiting_ack);
	assert_int_equal(t.send_id, 0x80800800u);
	/* The host sees SYNC again and restarts both counters. */
	kd_ids_on_data(&h, kd_ids_send(&t), &rx);
	assert_true(rx.accept);
	assert_true(rx.resync);
	assert_int_equal(rx.ack_id, 0x80800000u);
	assert_int_equal(h.send_id, 0x80800000u);
	assert_int_equal(h.recv_id, 0x80800001u);
}

static void test_proto_ids__kdnet(void **state)
{
	struct kd_ids h, t;
	struct kd_ids_rx rx;
	struct kd_ids_reset r;

	(void)state;
	kd_ids_init(&h, KD_IDS_HOST, KD_IDS_KDNET);
	kd_ids_init(&t, KD_IDS_TARGET, KD_IDS_KDNET);
	assert_int_equal(kd_ids_send(&h), 0x80000000u);
	assert_false(kd_ids_on_ack(&h, 0x80000002u));
	assert_true(kd_ids_on_ack(&h, 0x80000000u));
	assert_int_equal(kd_ids_send(&h), 0x80000002u);
	assert_true(kd_ids_on_ack(&h, 0x80000002u));
	assert_int_equal(kd_ids_send(&h), 0x80000004u);

	assert_int_equal(kd_ids_send(&t), 0);
	assert_true(kd_ids_on_ack(&t, 0));
	assert_int_equal(kd_ids_send(&t), 2);
	assert_true(kd_ids_on_ack(&t, 2));

	/* Host receives target ids; ACK carries the id; repeat = dup. */
	kd_ids_on_data(&h, 0x926, &rx);
	assert_true(rx.accept);
	assert_int_equal(rx.ack_id, 0x926);
	kd_ids_on_data(&h, 0x926, &rx);
	assert_true(rx.duplicate);
	assert_true(rx.send_ack);
	assert_int_equal(rx.ack_id, 0x926);
	kd_ids_on_data(&h, 0x92E, &rx);
	assert_true(rx.accept);

	/* RESET keeps counting; WinDbg's RESET carries its next id. */
	assert_int_equal(kd_ids_send_reset(&h), 0x80000004u);
	kd_ids_on_reset(&t, &r);
	assert_true(r.answer);
	assert_int_equal(r.answer_id, 4);
	assert_false(r.resend_pending);
	/* After a RESET the same id is new again. */
	kd_ids_on_reset(&h, &r);
	kd_ids_on_data(&h, 0x92E, &rx);
	assert_true(rx.accept);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proto_ids__kdcom_initial),
		cmocka_unit_test(test_proto_ids__sync_handshake),
		cmocka_unit_test(test_proto_ids__duplicate),
		cmocka_unit_test(test_proto_ids__resend),
		cmocka_unit_test(test_proto_ids__reset),
		cmocka_unit_test(test_proto_ids__data_while_waiting),
		cmocka_unit_test(test_proto_ids__target_give_up),
		cmocka_unit_test(test_proto_ids__kdnet),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
