/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the KD packet codec: constants, header layout, checksum,
 * builders and the datagram decoder (kd-protocol.md §1.3-§1.5, §3.5).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <kd/proto/packet.h>

static void test_proto_packet__constants(void **state)
{
	(void)state;
	assert_int_equal(KD_PACKET_HEADER_SIZE, 16);
	assert_int_equal(KD_PACKET_MAX_SEND, 4000);
	assert_int_equal(KD_PACKET_MAX_RECV, 4096);
	assert_int_equal(KD_PACKET_ID_INITIAL, 0x80800000u);
	assert_int_equal(KD_PACKET_ID_SYNC, 0x800u);
	assert_int_equal(KD_PACKET_TYPE_STATE_MANIPULATE, 2);
	assert_int_equal(KD_PACKET_TYPE_ACKNOWLEDGE, 4);
	assert_int_equal(KD_PACKET_TYPE_STATE_CHANGE64, 7);
	assert_int_equal(KD_PACKET_TYPE_FILE_IO, 11);
	assert_int_equal(KD_PACKET_TYPE_MAX, 12);
}

static void test_proto_packet__type_names(void **state)
{
	(void)state;
	assert_string_equal(kd_packet_type_name(2), "KD_STATE_MANIPULATE");
	assert_string_equal(kd_packet_type_name(3), "KD_DEBUG_IO");
	assert_string_equal(kd_packet_type_name(4), "KD_ACKNOWLEDGE");
	assert_string_equal(kd_packet_type_name(5), "KD_RESEND");
	assert_string_equal(kd_packet_type_name(6), "KD_RESET");
	assert_string_equal(kd_packet_type_name(7), "KD_STATE_CHANGE64");
	assert_string_equal(kd_packet_type_name(10), "KD_CONTROL_REQUEST");
	assert_string_equal(kd_packet_type_name(12), "PACKET_TYPE_MAX");
	assert_null(kd_packet_type_name(13));
	assert_null(kd_packet_type_name(0xFFFF));
	for (unsigned t = 0; t <= 12; t++)
		assert_non_null(kd_packet_type_name(t));
	assert_true(kd_packet_type_is_control(4));
	assert_true(kd_packet_type_is_control(5));
	assert_true(kd_packet_type_is_control(6));
	assert_false(kd_packet_type_is_control(2));
	assert_false(kd_packet_type_is_control(7));
	assert_string_equal(kd_packet_fault_name(KD_PACKET_FAULT_CHECKSUM),
			    "checksum");
}

static void test_proto_packet__checksum(void **state)
{
	static const uint8_t bytes[] = { 0x01, 0x02, 0xFF, 0x80, 0x7F };
	uint8_t big[70000];

	(void)state;
	assert_int_equal(kd_checksum(NULL, 0), 0);
	assert_int_equal(kd_checksum(bytes, sizeof(bytes)), 0x201);
	assert_int_equal(kd_checksum(bytes, 1), 1);
	assert_int_equal(kd_checksum(bytes, 3), 0x102);
	/* Unsigned bytes, no sign extension, sum of 70000 x 0xFF. */
	memset(big, 0xFF, sizeof(big));
	assert_int_equal(kd_checksum(big, sizeof(big)), 70000u * 0xFFu);
}

static void test_proto_packet__header_layout(void **state)
{
	/* The first data packet of the radare2->kdd serial sample. */
	static const uint8_t wire[16] = { 0x30, 0x30, 0x30, 0x30, 0x02, 0x00,
					  0x38, 0x00, 0x00, 0x00, 0x80, 0x80,
					  0x77, 0x00, 0x00, 0x00 };
	struct kd_packet_header h;
	uint8_t out[16];

	(void)state;
	kd_packet_header_decode(&h, wire);
	assert_int_equal(h.leader, KD_PACKET_LEADER_DATA);
	assert_int_equal(h.type, KD_PACKET_TYPE_STATE_MANIPULATE);
	assert_int_equal(h.byte_count, 56);
	assert_int_equal(h.id, 0x80800000u);
	assert_int_equal(h.checksum, 0x77);
	kd_packet_header_encode(out, &h);
	assert_memory_equal(out, wire, 16);

	h.leader = 0x11223344;
	h.type = 0x5566;
	h.byte_count = 0x7788;
	h.id = 0x99AABBCC;
	h.checksum = 0xDDEEFF01;
	kd_packet_header_encode(out, &h);
	static const uint8_t want[16] = { 0x44, 0x33, 0x22, 0x11, 0x66, 0x55,
					  0x88, 0x77, 0xCC, 0xBB, 0xAA, 0x99,
					  0x01, 0xFF, 0xEE, 0xDD };
	assert_memory_equal(out, want, 16);
}

static void test_proto_packet__build_data(void **state)
{
	uint8_t payload[56] = { 0x46, 0x31 }; /* GetVersion 0x3146 */
	uint8_t out[100];
	size_t len = 0;

	(void)state;
	assert_int_equal(kd_packet_build(out, sizeof(out), &len,
					 KD_PACKET_TYPE_STATE_MANIPULATE,
					 0x80800000u, payload, sizeof(payload),
					 true),
			 0);
	assert_int_equal(len, 16 + 56 + 1);
	static const uint8_t hdr[16] = { 0x30, 0x30, 0x30, 0x30, 0x02, 0x00,
					 0x38, 0x00, 0x00, 0x00, 0x80, 0x80,
					 0x77, 0x00, 0x00, 0x00 };
	assert_memory_equal(out, hdr, 16);
	assert_memory_equal(out + 16, payload, 56);
	assert_int_equal(out[72], 0xAA);

	/* KDNET: no trailer. */
	assert_int_equal(kd_packet_build(out, 72, &len, 2, 7, payload,
					 sizeof(payload), false),
			 0);
	assert_int_equal(len, 72);

	/* Empty payload. */
	assert_int_equal(kd_packet_build(out, 17, &len, 3, 1, NULL, 0, true),
			 0);
	assert_int_equal(len, 17);
	assert_int_equal(kd_get_le16(out + 6), 0);
	assert_int_equal(kd_get_le32(out + 12), 0);
	assert_int_equal(out[16], 0xAA);
}

static void test_proto_packet__build_errors(void **state)
{
	static uint8_t payload[4001];
	static uint8_t out[4100];
	size_t len = 12345;

	(void)state;
	assert_int_equal(
		kd_packet_build(out, 72, &len, 2, 0, payload, 56, true),
		KD_EBUFS);
	assert_int_equal(len, 12345);
	assert_int_equal(kd_packet_build(out, sizeof(out), &len, 2, 0, payload,
					 4001, true),
			 KD_EINVAL);
	assert_int_equal(kd_packet_build(out, sizeof(out), &len, 2, 0, payload,
					 4000, true),
			 0);
	assert_int_equal(len, 4017);
	assert_int_equal(kd_packet_build(out, sizeof(out), &len,
					 KD_PACKET_TYPE_ACKNOWLEDGE, 0, payload,
					 4, true),
			 KD_EINVAL);
	assert_int_equal(
		kd_packet_build(out, sizeof(out), &len, 2, 0, NULL, 4, true),
		KD_EINVAL);
}

static void test_proto_packet__build_control(void **state)
{
	static const uint8_t ack[16] = { 0x69, 0x69, 0x69, 0x69, 0x04, 0x00,
					 0x00, 0x00, 0x01, 0x00, 0x80, 0x80,
					 0x00, 0x00, 0x00, 0x00 };
	uint8_t out[16];
	size_t len = 0;

	(void)state;
	assert_int_equal(kd_packet_build_control(out, sizeof(out), &len,
						 KD_PACKET_TYPE_ACKNOWLEDGE,
						 0x80800001u),
			 0);
	assert_int_equal(len, 16);
	assert_memory_equal(out, ack, 16);
	assert_int_equal(kd_packet_build_control(out, 15, &len, 6, 0),
			 KD_EBUFS);
	assert_int_equal(kd_packet_build_control(out, 16, &len, 2, 0),
			 KD_EINVAL);
	assert_int_equal(kd_packet_build_control(out, 16, &len, 5, 0), 0);
	assert_int_equal(kd_get_le16(out + 4), 5);
}

static void test_proto_packet__decode(void **state)
{
	uint8_t payload[300];
	uint8_t buf[400];
	struct kd_packet_view v;
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(kd_packet_build(buf, sizeof(buf), &len, 7, 0x80000002u,
					 payload, sizeof(payload), false),
			 0);
	assert_int_equal(kd_packet_decode(buf, len, &v), 0);
	assert_int_equal(v.fault, KD_PACKET_FAULT_NONE);
	assert_int_equal(v.hdr.type, 7);
	assert_int_equal(v.hdr.id, 0x80000002u);
	assert_int_equal(v.payload_len, 300);
	assert_ptr_equal(v.payload, buf + 16);

	/* Truncated by one byte, and header-short. */
	assert_int_equal(kd_packet_decode(buf, len - 1, &v), KD_ETRUNC);
	assert_int_equal(v.fault, KD_PACKET_FAULT_TRUNCATED);
	assert_null(v.payload);
	assert_int_equal(kd_packet_decode(buf, 15, &v), KD_ETRUNC);
	/* A trailing byte (e.g. a serial 0xAA) is not part of a datagram. */
	buf[len] = 0xAA;
	assert_int_equal(kd_packet_decode(buf, len + 1, &v), KD_EPROTO);
	assert_int_equal(v.fault, KD_PACKET_FAULT_LENGTH);
	/* Corrupt one payload byte. */
	buf[100] ^= 0x01;
	assert_int_equal(kd_packet_decode(buf, len, &v), KD_EPROTO);
	assert_int_equal(v.fault, KD_PACKET_FAULT_CHECKSUM);
	buf[100] ^= 0x01;
	/* Bad leader. */
	buf[0] = 0x31;
	assert_int_equal(kd_packet_decode(buf, len, &v), KD_EPROTO);
	assert_int_equal(v.fault, KD_PACKET_FAULT_LEADER);
	buf[0] = 0x30;
	/* Count above 4096. */
	kd_put_le16(buf + 6, 4097);
	assert_int_equal(kd_packet_decode(buf, len, &v), KD_EPROTO);
	assert_int_equal(v.fault, KD_PACKET_FAULT_LENGTH);
}

static void test_proto_packet__decode_recv_limit(void **state)
{
	static uint8_t buf[16 + 4096];
	struct kd_packet_view v;

	(void)state;
	/* A 4096-byte payload (over the send limit) is still accepted. */
	memset(buf + 16, 0x01, 4096);
	kd_put_le32(buf, KD_PACKET_LEADER_DATA);
	kd_put_le16(buf + 4, 2);
	kd_put_le16(buf + 6, 4096);
	kd_put_le32(buf + 8, 0);
	kd_put_le32(buf + 12, 4096);
	assert_int_equal(kd_packet_decode(buf, sizeof(buf), &v), 0);
	assert_int_equal(v.payload_len, 4096);
}

static void test_proto_packet__decode_control(void **state)
{
	uint8_t buf[20];
	struct kd_packet_view v;
	size_t len;

	(void)state;
	assert_int_equal(
		kd_packet_build_control(buf, sizeof(buf), &len, 6, 0x80000060u),
		0);
	assert_int_equal(kd_packet_decode(buf, len, &v), 0);
	assert_int_equal(v.hdr.leader, KD_PACKET_LEADER_CONTROL);
	assert_int_equal(v.hdr.type, KD_PACKET_TYPE_RESET);
	assert_int_equal(v.hdr.id, 0x80000060u);
	assert_int_equal(v.payload_len, 0);
	assert_null(v.payload);
	assert_int_equal(kd_packet_decode(buf, 17, &v), KD_EPROTO);

	/* The 12-byte KDNET ping (8 zero bytes + IPv4) is not a packet. */
	static const uint8_t ping[12] = { 0, 0, 0,    0,    0,	  0,
					  0, 0, 0x01, 0x02, 0xA8, 0xC0 };
	assert_int_equal(kd_packet_decode(ping, sizeof(ping), &v), KD_ETRUNC);
	assert_int_equal(kd_packet_decode(NULL, 0, &v), KD_ETRUNC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proto_packet__constants),
		cmocka_unit_test(test_proto_packet__type_names),
		cmocka_unit_test(test_proto_packet__checksum),
		cmocka_unit_test(test_proto_packet__header_layout),
		cmocka_unit_test(test_proto_packet__build_data),
		cmocka_unit_test(test_proto_packet__build_errors),
		cmocka_unit_test(test_proto_packet__build_control),
		cmocka_unit_test(test_proto_packet__decode),
		cmocka_unit_test(test_proto_packet__decode_recv_limit),
		cmocka_unit_test(test_proto_packet__decode_control),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
