/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the remote channel's hello codec in kdproto
 * (kd/proto/hello.h): the bounds of every string, every truncation of a
 * client hello, the wrong type and unknown flags, and the client hello
 * and verdict byte layouts of docs/remote-channel.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <kd/proto/hello.h>

static void fill(char *s, size_t n, char ch)
{
	memset(s, ch, n);
	s[n] = '\0';
}

/* Service and identity are bounded both ways, and printable. */
static void test_hello__string_bounds(void **state)
{
	struct kd_rchan_chello ch, ch2;
	uint8_t buf[KD_RCHAN_HS_MAX];
	unsigned int ver = 0;
	const char *why = NULL;
	size_t n;

	(void)state;
	memset(&ch, 0, sizeof(ch));
	fill(ch.service, KD_RCHAN_SERVICE_MAX, 's');
	fill(ch.identity, KD_RCHAN_IDENTITY_MAX, 'i');
	ch.flags = KD_RCHAN_CF_PROOF;
	memset(ch.nonce, 0x11, sizeof(ch.nonce));
	memset(ch.proof, 0x22, sizeof(ch.proof));
	/* The largest message is exactly KD_RCHAN_HS_MAX bytes. */
	n = kd_rchan_enc_chello(buf, sizeof(buf), &ch);
	assert_int_equal(n, KD_RCHAN_HS_MAX);
	assert_int_equal(kd_rchan_parse_chello(buf, n, &ch2, &ver, &why),
			 KD_OK);
	assert_memory_equal(&ch, &ch2, sizeof(ch));
	/* One byte short of room: refused. */
	assert_int_equal(kd_rchan_enc_chello(buf, n - 1, &ch), 0);

	/* An empty service is refused, an empty identity is not. */
	ch.service[0] = '\0';
	assert_int_equal(kd_rchan_enc_chello(buf, sizeof(buf), &ch), 0);
	fill(ch.service, 7, 'k');
	ch.identity[0] = '\0';
	n = kd_rchan_enc_chello(buf, sizeof(buf), &ch);
	assert_int_equal(n, 8 + 1 + 7 + 1 + 32 + 32);

	/* A control byte in the identity is refused by both sides. */
	fill(ch.identity, 5, 'i');
	ch.identity[2] = '\n';
	assert_int_equal(kd_rchan_enc_chello(buf, sizeof(buf), &ch), 0);
	fill(ch.identity, 5, 'i');
	n = kd_rchan_enc_chello(buf, sizeof(buf), &ch);
	assert_true(n > 0);
	buf[8 + 1 + 7 + 1 + 2] = 0x7f;
	assert_int_equal(kd_rchan_parse_chello(buf, n, &ch2, &ver, &why),
			 KD_EPROTO);
	assert_string_equal(why, "bad identity in client hello");

	/* A length byte over the bound is refused before it is read. */
	n = kd_rchan_enc_chello(buf, sizeof(buf), &ch);
	buf[8] = KD_RCHAN_SERVICE_MAX + 1;
	assert_int_equal(kd_rchan_parse_chello(buf, n, &ch2, &ver, &why),
			 KD_EPROTO);
	assert_string_equal(why, "bad service name in client hello");
}

/* Every proper prefix of a client hello is refused with a reason. */
static void test_hello__every_truncation(void **state)
{
	struct kd_rchan_chello ch, ch2;
	uint8_t buf[KD_RCHAN_HS_MAX + 1];
	unsigned int ver = 0;
	const char *why;
	size_t n;

	(void)state;
	memset(&ch, 0, sizeof(ch));
	memcpy(ch.service, "dbgsrv/1", 9);
	memcpy(ch.identity, "HOST\\user", 10);
	ch.flags = KD_RCHAN_CF_PROOF;
	n = kd_rchan_enc_chello(buf, sizeof(buf), &ch);
	assert_int_equal(n, 8 + 9 + 10 + 32 + 32);
	for (size_t len = 0; len < n; len++) {
		why = NULL;
		assert_int_equal(
			kd_rchan_parse_chello(buf, len, &ch2, &ver, &why),
			KD_EPROTO);
		assert_non_null(why);
	}
	/* One byte too many is refused too. */
	buf[n] = 0;
	why = NULL;
	assert_int_equal(kd_rchan_parse_chello(buf, n + 1, &ch2, &ver, &why),
			 KD_EPROTO);
	assert_string_equal(why, "client hello has the wrong length");
}

/* The type byte and the flag bytes are checked. */
static void test_hello__type_and_flags(void **state)
{
	struct kd_rchan_shello sh, sh2;
	struct kd_rchan_verdict v;
	uint8_t buf[KD_RCHAN_HS_MAX];
	unsigned int ver = 0;
	const char *why = NULL;
	size_t n;

	(void)state;
	memset(&sh, 0, sizeof(sh));
	memcpy(sh.service, "kdsrv/1", 8);
	n = kd_rchan_enc_shello(buf, sizeof(buf), &sh);
	assert_int_equal(kd_rchan_msg_type(buf, n), KD_RCHAN_T_SHELLO);
	assert_int_equal(kd_rchan_msg_type(buf, 7), 0);
	assert_int_equal(kd_rchan_parse_verdict(buf, n, &v, &ver, &why),
			 KD_EPROTO);
	assert_string_equal(why, "not a verdict");
	buf[6] = 0x02;
	assert_int_equal(kd_rchan_parse_shello(buf, n, &sh2, &ver, &why),
			 KD_EPROTO);
	assert_string_equal(why, "unknown flags in server hello");
	buf[6] = 0;
	buf[7] = 1;
	assert_int_equal(kd_rchan_parse_shello(buf, n, &sh2, &ver, &why),
			 KD_EPROTO);
	assert_string_equal(why, "unknown flags in server hello");

	/* Verdicts: status in range, proof flag only with OK. */
	memset(&v, 0, sizeof(v));
	v.status = KD_RCHAN_THROTTLED;
	memcpy(v.reason, "wait 30 s", 10);
	n = kd_rchan_enc_verdict(buf, sizeof(buf), &v);
	assert_int_equal(n, 8 + 1 + 9);
	assert_memory_equal(buf, "KDRC\x01\x03\x03\x00\x09wait 30 s", n);
	buf[6] = KD_RCHAN_STATUS_MAX + 1;
	assert_int_equal(kd_rchan_parse_verdict(buf, n, &v, &ver, &why),
			 KD_EPROTO);
	assert_string_equal(why, "unknown verdict status");
	buf[6] = KD_RCHAN_DENIED;
	buf[7] = KD_RCHAN_VF_PROOF;
	assert_int_equal(kd_rchan_parse_verdict(buf, n, &v, &ver, &why),
			 KD_EPROTO);
	assert_string_equal(why, "unknown flags in verdict");
	v.status = KD_RCHAN_STATUS_MAX + 1;
	v.flags = 0;
	assert_int_equal(kd_rchan_enc_verdict(buf, sizeof(buf), &v), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello__string_bounds),
		cmocka_unit_test(test_hello__every_truncation),
		cmocka_unit_test(test_hello__type_and_flags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
