/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for KDNET key strings (kd-protocol.md §3.3): base-36
 * components, little-endian packing, and every refusal with its position.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <kd/error.h>
#include <kd/net_crypto.h>
#include <kd/proto/kdnet.h>

static int parse(const char *s, uint8_t key[32], struct kd_net_key_error *e)
{
	return kd_net_key_parse(s, strlen(s), key, e);
}

static void test_proto_kdnet_key__single_digits(void **state)
{
	uint8_t key[32];
	uint8_t want[32] = { 0 };
	struct kd_net_key_error e;

	(void)state;
	want[0] = 1;
	want[8] = 2;
	want[16] = 3;
	want[24] = 4;
	assert_int_equal(parse("1.2.3.4", key, &e), 0);
	assert_memory_equal(key, want, 32);
	assert_int_equal(e.problem, KD_NET_KEY_OK);

	/* The public 10586 capture's key: 8 in every qword. */
	memset(want, 0, sizeof(want));
	want[0] = want[8] = want[16] = want[24] = 8;
	assert_int_equal(parse("8.8.8.8", key, NULL), 0);
	assert_memory_equal(key, want, 32);
}

static void test_proto_kdnet_key__multi_char_little_endian(void **state)
{
	uint8_t key[32];

	(void)state;
	/* "zz" = 35*36+35 = 1295 = 0x050f; "10" = 36; "abc" = 13368. */
	assert_int_equal(parse("zz.10.abc.0", key, NULL), 0);
	assert_int_equal(key[0], 0x0f);
	assert_int_equal(key[1], 0x05);
	assert_int_equal(kd_get_le64(key), 1295);
	assert_int_equal(kd_get_le64(key + 8), 36);
	assert_int_equal(kd_get_le64(key + 16), 10 * 1296 + 11 * 36 + 12);
	assert_int_equal(kd_get_le64(key + 24), 0);
}

static void test_proto_kdnet_key__upper_case(void **state)
{
	uint8_t lo[32], up[32];

	(void)state;
	assert_int_equal(parse("abc.xyz.q1.z9", lo, NULL), 0);
	assert_int_equal(parse("ABC.XyZ.Q1.z9", up, NULL), 0);
	assert_memory_equal(lo, up, 32);
}

static void test_proto_kdnet_key__max_values(void **state)
{
	uint8_t key[32];
	struct kd_net_key_error e;

	(void)state;
	/* 2^64 - 1 in base 36 is "3w5e11264sgsf" (13 digits). */
	assert_int_equal(parse("3w5e11264sgsf.0.0.zzzzzzzzzzzz", key, &e), 0);
	assert_true(kd_get_le64(key) == UINT64_MAX);
	for (int i = 0; i < 8; i++)
		assert_int_equal(key[i], 0xff);
	/* 12 z's = 36^12 - 1 */
	assert_true(kd_get_le64(key + 24) == UINT64_C(4738381338321616895));
	/* Leading zeros count as digits but do not change the value. */
	assert_int_equal(parse("0000000000001.2.3.4", key, &e), 0);
	assert_int_equal(kd_get_le64(key), 1);
}

static void test_proto_kdnet_key__overflow(void **state)
{
	uint8_t key[32];
	struct kd_net_key_error e;

	(void)state;
	/* 2^64 exactly: "3w5e11264sgsg". */
	memset(key, 0xee, sizeof(key));
	assert_int_equal(parse("1.3w5e11264sgsg.3.4", key, &e), KD_EOVERFLOW);
	assert_int_equal(e.problem, KD_NET_KEY_OVERFLOW);
	assert_int_equal(e.component, 1);
	assert_int_equal(e.pos, 14);
	assert_string_equal(e.message, "key component does not fit in 64 bits");
	for (int i = 0; i < 32; i++)
		assert_int_equal(key[i], 0);
	assert_int_equal(parse("1.2.3.zzzzzzzzzzzzz", key, &e), KD_EOVERFLOW);
	assert_int_equal(e.component, 3);
}

static void test_proto_kdnet_key__too_long(void **state)
{
	uint8_t key[32];
	struct kd_net_key_error e;

	(void)state;
	assert_int_equal(parse("1.2.00000000000001.4", key, &e), KD_EINVAL);
	assert_int_equal(e.problem, KD_NET_KEY_TOO_LONG);
	assert_int_equal(e.component, 2);
	assert_int_equal(e.pos, 4 + 13);
	assert_string_equal(e.message,
			    "key component longer than 13 base-36 digits");
}

static void test_proto_kdnet_key__bad_digit(void **state)
{
	uint8_t key[32];
	struct kd_net_key_error e;

	(void)state;
	assert_int_equal(parse("1.2.3x-.4", key, &e), KD_EINVAL);
	assert_int_equal(e.problem, KD_NET_KEY_BAD_DIGIT);
	assert_int_equal(e.component, 2);
	assert_int_equal(e.pos, 6);
	assert_int_equal(e.ch, '-');
	assert_string_equal(e.message, "invalid character in key component "
				       "(base 36: 0-9, a-z)");
	assert_int_equal(parse(" 1.2.3.4", key, &e), KD_EINVAL);
	assert_int_equal(e.problem, KD_NET_KEY_BAD_DIGIT);
	assert_int_equal(e.pos, 0);
	assert_int_equal(e.component, 0);
	/* An embedded NUL inside the given length is a bad digit too. */
	assert_int_equal(kd_net_key_parse("1.2\0.3.4", 8, key, &e), KD_EINVAL);
	assert_int_equal(e.problem, KD_NET_KEY_BAD_DIGIT);
	assert_int_equal(e.pos, 3);
	assert_int_equal(e.ch, 0);
}

static void test_proto_kdnet_key__component_count(void **state)
{
	uint8_t key[32];
	struct kd_net_key_error e;

	(void)state;
	assert_int_equal(parse("1.2.3", key, &e), KD_EINVAL);
	assert_int_equal(e.problem, KD_NET_KEY_COMPONENTS_BAD);
	assert_int_equal(e.component, 3);
	assert_string_equal(e.message,
			    "key must have exactly four components w.x.y.z");
	assert_int_equal(parse("1.2.3.4.5", key, &e), KD_EINVAL);
	assert_int_equal(e.problem, KD_NET_KEY_COMPONENTS_BAD);
	assert_int_equal(e.pos, 8);
	assert_int_equal(parse("1", key, &e), KD_EINVAL);
	assert_int_equal(e.problem, KD_NET_KEY_COMPONENTS_BAD);
}

static void test_proto_kdnet_key__empty_component(void **state)
{
	uint8_t key[32];
	struct kd_net_key_error e;

	(void)state;
	assert_int_equal(parse("", key, &e), KD_EINVAL);
	assert_int_equal(e.problem, KD_NET_KEY_EMPTY);
	assert_int_equal(e.component, 0);
	assert_int_equal(parse("1..3.4", key, &e), KD_EINVAL);
	assert_int_equal(e.problem, KD_NET_KEY_EMPTY);
	assert_int_equal(e.component, 1);
	assert_int_equal(e.pos, 2);
	assert_string_equal(e.message, "empty key component");
	assert_int_equal(parse("1.2.3.", key, &e), KD_EINVAL);
	assert_int_equal(e.problem, KD_NET_KEY_EMPTY);
	assert_int_equal(e.component, 3);
	assert_int_equal(parse(".1.2.3", key, &e), KD_EINVAL);
	assert_int_equal(e.problem, KD_NET_KEY_EMPTY);
	assert_int_equal(e.component, 0);
}

static void test_proto_kdnet_key__hmac_key_is_not(void **state)
{
	uint8_t key[32], hk[32];

	(void)state;
	assert_int_equal(parse("1.2.3.4", key, NULL), 0);
	kd_net_hmac_key(key, hk);
	assert_int_equal(hk[0], 0xfe);
	assert_int_equal(hk[1], 0xff);
	assert_int_equal(hk[8], 0xfd);
	assert_int_equal(hk[24], 0xfb);
	assert_int_equal(hk[31], 0xff);
}

static void test_proto_kdnet_key__hosted_messages(void **state)
{
	uint8_t key[32];

	(void)state;
	assert_int_equal(kd_net_key_from_string("1.2.G!.4", key), KD_EINVAL);
	assert_string_equal(kd_error_last()->message,
			    "bad KDNET key: component 3: invalid character "
			    "in key component (base 36: 0-9, a-z): '!' at "
			    "offset 5");
	assert_int_equal(kd_error_last()->code, KD_EINVAL);
	assert_int_equal(kd_net_key_from_string("1.2.3", key), KD_EINVAL);
	assert_string_equal(kd_error_last()->message,
			    "bad KDNET key: key must have exactly four "
			    "components w.x.y.z (found 3 or more at offset 5)");
	assert_int_equal(kd_net_key_from_string("zzzzzzzzzzzzz.2.3.4", key),
			 KD_EOVERFLOW);
	assert_string_equal(kd_error_last()->message,
			    "bad KDNET key: component 1: key component does "
			    "not fit in 64 bits (offset 12)");
	assert_int_equal(kd_net_key_from_string("1.2.3.4", key), 0);
	assert_int_equal(key[24], 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proto_kdnet_key__single_digits),
		cmocka_unit_test(
			test_proto_kdnet_key__multi_char_little_endian),
		cmocka_unit_test(test_proto_kdnet_key__upper_case),
		cmocka_unit_test(test_proto_kdnet_key__max_values),
		cmocka_unit_test(test_proto_kdnet_key__overflow),
		cmocka_unit_test(test_proto_kdnet_key__too_long),
		cmocka_unit_test(test_proto_kdnet_key__bad_digit),
		cmocka_unit_test(test_proto_kdnet_key__component_count),
		cmocka_unit_test(test_proto_kdnet_key__empty_component),
		cmocka_unit_test(test_proto_kdnet_key__hmac_key_is_not),
		cmocka_unit_test(test_proto_kdnet_key__hosted_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
