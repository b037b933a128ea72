/* SPDX-License-Identifier: MIT */
/*
 * kdsrv protocol messages (docs/kdsrv-protocol.md): byte-exact encodings
 * written out by hand from the tables, the validation of hostile input,
 * and the registry keys of transport strings.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <kd/kdsrv.h>
#include <kd/proto/kdsrv.h>

static void test_open_bytes(void **state)
{
	static const uint8_t want[] = {
		0x01, 0x00, 0x00, 0x00, 0x88, 0x13, 0x00, 0x00, /* 5000 ms */
		0x0a, 0x00, 'n',  'e',	't',  ':',  'p',  'o',
		'r',  't',  '=',  '1',
	};
	struct kd_srv_msg m, d;
	uint8_t buf[64];
	size_t n;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = KD_SRV_OPEN;
	m.timeout_ms = 5000;
	m.text = "net:port=1";
	m.text_len = 10;
	assert_int_equal(kd_srv_msg_encode(buf, sizeof(buf), &n, &m), KD_OK);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(kd_srv_msg_decode(&d, want, sizeof(want)), KD_OK);
	assert_int_equal(d.type, KD_SRV_OPEN);
	assert_int_equal(d.timeout_ms, 5000);
	assert_int_equal(d.text_len, 10);
	assert_memory_equal(d.text, "net:port=1", 10);
	/* one byte short, one byte long */
	assert_int_equal(kd_srv_msg_decode(&d, want, sizeof(want) - 1),
			 KD_ETRUNC);
	memcpy(buf, want, sizeof(want));
	buf[sizeof(want)] = 'x';
	assert_int_equal(kd_srv_msg_decode(&d, buf, sizeof(want) + 1),
			 KD_EPROTO);
	/* a control character in the transport string */
	buf[12] = '\n';
	assert_int_equal(kd_srv_msg_decode(&d, buf, sizeof(want)), KD_EPROTO);
	/* reserved byte */
	memcpy(buf, want, sizeof(want));
	buf[1] = 1;
	assert_int_equal(kd_srv_msg_decode(&d, buf, sizeof(want)), KD_EPROTO);
	/* empty transport, zero timeout */
	m.text_len = 0;
	assert_int_equal(kd_srv_msg_encode(buf, sizeof(buf), &n, &m),
			 KD_EINVAL);
}

static void test_packet_bytes(void **state)
{
	static const uint8_t want[] = {
		0x03, 0x00, 0x02, 0x00, 0x03, 0x00, 0xaa, 0xbb, 0xcc,
	};
	static const uint8_t rwant[] = {
		0x83, 0x00, 0x07, 0x00, 0x02, 0x00,
		0x00, 0x00, 0x01, 0x00, 0x5a,
	};
	static const uint8_t payload[] = { 0xaa, 0xbb, 0xcc };
	struct kd_srv_msg m, d;
	uint8_t buf[KD_SRV_MSG_MAX];
	size_t n;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = KD_SRV_PACKET;
	m.pkt_type = 2; /* STATE_MANIPULATE */
	m.data = payload;
	m.data_len = 3;
	assert_int_equal(kd_srv_msg_encode(buf, sizeof(buf), &n, &m), KD_OK);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(kd_srv_msg_decode(&d, rwant, sizeof(rwant)), KD_OK);
	assert_int_equal(d.type, KD_SRV_RPACKET);
	assert_int_equal(d.pkt_type, 7);
	assert_int_equal(d.events, 2);
	assert_int_equal(d.data_len, 1);
	assert_int_equal(d.data[0], 0x5a);
	/* control types never travel as data */
	m.pkt_type = 4; /* ACKNOWLEDGE */
	assert_int_equal(kd_srv_msg_encode(buf, sizeof(buf), &n, &m),
			 KD_EINVAL);
	memcpy(buf, want, sizeof(want));
	buf[2] = 6; /* RESET */
	assert_int_equal(kd_srv_msg_decode(&d, buf, sizeof(want)), KD_EPROTO);
	buf[2] = 12; /* past PACKET_TYPE_MAX */
	assert_int_equal(kd_srv_msg_decode(&d, buf, sizeof(want)), KD_EPROTO);
	/* a client packet over the send limit */
	memset(buf, 0, sizeof(buf));
	buf[0] = 0x03;
	buf[2] = 2;
	buf[4] = (uint8_t)(4001 & 0xff);
	buf[5] = (uint8_t)(4001 >> 8);
	assert_int_equal(kd_srv_msg_decode(&d, buf, 6 + 4001), KD_EPROTO);
	buf[4] = (uint8_t)(4000 & 0xff);
	buf[5] = (uint8_t)(4000 >> 8);
	assert_int_equal(kd_srv_msg_decode(&d, buf, 6 + 4000), KD_OK);
	/* length field larger than what follows */
	assert_int_equal(kd_srv_msg_decode(&d, buf, 6 + 3999), KD_ETRUNC);
}

static void test_small_messages(void **state)
{
	static const uint8_t sync[] = {
		0x02, 0, 0, 0, 0x07, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
	};
	static const uint8_t end[] = { 0x06, 0, 0, 0, 0x2a, 0, 0, 0 };
	static const uint8_t brk[] = { 0x04, 0 };
	static const uint8_t err[] = {
		0x8f, 0, 0, 0, 0xf4, 0xff, 0xff, 0xff, 0x02, 0x00, 'n', 'o',
	};
	struct kd_srv_msg d;
	uint8_t bad[16];

	(void)state;
	assert_int_equal(kd_srv_msg_decode(&d, sync, sizeof(sync)), KD_OK);
	assert_int_equal(d.seq, 7);
	assert_int_equal(d.timeout_ms, -1);
	assert_int_equal(kd_srv_msg_decode(&d, end, sizeof(end)), KD_OK);
	assert_int_equal(d.type, KD_SRV_END);
	assert_int_equal(d.seq, 42);
	assert_int_equal(kd_srv_msg_decode(&d, brk, sizeof(brk)), KD_OK);
	assert_int_equal(kd_srv_msg_decode(&d, brk, 1), KD_ETRUNC);
	assert_int_equal(kd_srv_msg_decode(&d, err, sizeof(err)), KD_OK);
	assert_int_equal(d.status, KD_EBUSY);
	assert_true(kd_srv_msg_from_client(KD_SRV_END));
	assert_false(kd_srv_msg_from_client(KD_SRV_ERROR));
	/* timeout -2 is not allowed */
	memcpy(bad, sync, sizeof(sync));
	bad[8] = 0xfe;
	assert_int_equal(kd_srv_msg_decode(&d, bad, sizeof(sync)), KD_EPROTO);
	/* positive status */
	memcpy(bad, err, sizeof(err));
	bad[4] = 1;
	bad[5] = bad[6] = bad[7] = 0;
	assert_int_equal(kd_srv_msg_decode(&d, bad, sizeof(err)), KD_EPROTO);
	/* unknown types */
	bad[0] = 0x00;
	bad[1] = 0;
	assert_int_equal(kd_srv_msg_decode(&d, bad, 2), KD_EPROTO);
	bad[0] = 0x80;
	assert_int_equal(kd_srv_msg_decode(&d, bad, 2), KD_EPROTO);
}

static void test_stats_roundtrip(void **state)
{
	struct kd_srv_msg m, d;
	uint8_t buf[KD_SRV_MSG_MAX];
	size_t n;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = KD_SRV_STATS_REPLY;
	m.seq = 9;
	m.ncounters = 3;
	m.counters[0] = 1;
	m.counters[2] = 0x1122334455667788ull;
	assert_int_equal(kd_srv_msg_encode(buf, sizeof(buf), &n, &m), KD_OK);
	assert_int_equal(n, 8 + 24);
	assert_int_equal(buf[2], 3);
	assert_int_equal(buf[8 + 16], 0x88);
	assert_int_equal(kd_srv_msg_decode(&d, buf, n), KD_OK);
	assert_true(d.counters[2] == 0x1122334455667788ull);
	buf[2] = 33; /* more counters than allowed */
	assert_int_equal(kd_srv_msg_decode(&d, buf, 8 + 33 * 8), KD_EPROTO);
	/* too small a buffer */
	assert_int_equal(kd_srv_msg_encode(buf, 10, &n, &m), KD_EBUFS);
}

static void test_transport_key(void **state)
{
	char k[256];

	(void)state;
	assert_int_equal(kd_srv_transport_key("net:port=50000,key=1.2.3.4", k,
					      sizeof(k)),
			 KD_OK);
	assert_string_equal(k, "net:port=50000");
	assert_int_equal(kd_srv_transport_key("NET:key=9.9.9.9,Port=50000", k,
					      sizeof(k)),
			 KD_OK);
	assert_string_equal(k, "net:port=50000");
	assert_int_equal(
		kd_srv_transport_key("com:pipe,port=/tmp/a.sock,resets=0", k,
				     sizeof(k)),
		KD_OK);
	assert_string_equal(k, "com:port=/tmp/a.sock");
	assert_int_equal(kd_srv_transport_key("com:ipport=5555,port=127.0.0.1",
					      k, sizeof(k)),
			 KD_OK);
	assert_string_equal(k, "com:port=127.0.0.1,ipport=5555");
	/* stacked: the bottom driver names the channel */
	assert_int_equal(
		kd_srv_transport_key("fault:drop=0.1,seed=3|loop:name=x", k,
				     sizeof(k)),
		KD_OK);
	assert_string_equal(k, "loop:name=x");
	assert_int_equal(kd_srv_transport_key("", k, sizeof(k)), KD_EINVAL);
	assert_int_equal(kd_srv_transport_key(":port=1", k, sizeof(k)),
			 KD_EINVAL);
	assert_int_equal(kd_srv_transport_key("net:port=50000", k, 8),
			 KD_EBUFS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_bytes),
		cmocka_unit_test(test_packet_bytes),
		cmocka_unit_test(test_small_messages),
		cmocka_unit_test(test_stats_roundtrip),
		cmocka_unit_test(test_transport_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
