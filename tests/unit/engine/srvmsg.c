/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the debugging server's message codec (kd/srvmsg.h): the
 * byte layout of every type, the direction check, every bound and
 * rejection; and the server commands on a session without a server.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <kd/proto/srvmsg.h>

#include "core/engine_int.h"

static uint8_t buf[KD_SRVMSG_MAX_MSG + 16];

static void layout(void **state)
{
	static const uint8_t want[] = { 0x01, 0x01, 0x00, 0x00, 0x05,
					0x00, 0x00, 0x00, 'r',	' ',
					'r',  'i',  'p' };
	struct kd_srvmsg m;
	size_t n = 0;

	(void)state;
	assert_int_equal(kd_srvmsg_encode(buf, sizeof(buf), KD_SRVMSG_LINE,
					  "r rip", 5, &n),
			 KD_OK);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(kd_srvmsg_decode(want, sizeof(want), true, &m, NULL),
			 KD_OK);
	assert_int_equal(m.type, KD_SRVMSG_LINE);
	assert_int_equal(m.len, 5);
	assert_memory_equal(m.text, "r rip", 5);

	/* Empty messages: 8 bytes, length 0. */
	assert_int_equal(kd_srvmsg_encode(buf, sizeof(buf), KD_SRVMSG_DETACH,
					  NULL, 0, &n),
			 KD_OK);
	assert_int_equal(n, 8);
	assert_int_equal(buf[1], 0x02);
	assert_int_equal(kd_get_le32(buf + 4), 0);
	assert_int_equal(kd_srvmsg_decode(buf, n, true, &m, NULL), KD_OK);
	assert_int_equal(m.type, KD_SRVMSG_DETACH);
	assert_int_equal(m.len, 0);
	assert_string_equal(m.text, "");
}

static void roundtrip_all_types(void **state)
{
	static const struct {
		unsigned type;
		const char *text;
		bool from_client;
	} cases[] = {
		{ KD_SRVMSG_LINE, "dd @rsp L4; ? 1+2", true },
		{ KD_SRVMSG_DETACH, "", true },
		{ KD_SRVMSG_EXIT, ".echo bye\tnow", true },
		{ KD_SRVMSG_BREAK, "", true },
		{ KD_SRVMSG_OUTPUT, "rax=1\nnt!DbgPrint+0x11a:\n\x1b[0m",
		  false },
		{ KD_SRVMSG_PROMPT, "0: kd> ", false },
		{ KD_SRVMSG_ENDED, "The debugging session has ended.", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < KD_ARRAY_SIZE(cases); i++) {
		struct kd_srvmsg m;
		size_t n = 0, len = strlen(cases[i].text);
		const char *why = "x";

		assert_int_equal(kd_srvmsg_encode(buf, sizeof(buf),
						  cases[i].type, cases[i].text,
						  len, &n),
				 KD_OK);
		assert_int_equal(n, KD_SRVMSG_HDR + len);
		assert_int_equal(kd_srvmsg_decode(buf, n, cases[i].from_client,
						  &m, &why),
				 KD_OK);
		assert_null(why);
		assert_int_equal(m.type, cases[i].type);
		assert_int_equal(m.len, len);
		assert_memory_equal(m.text, cases[i].text, len);
		/* The other direction refuses it. */
		assert_int_equal(kd_srvmsg_decode(buf, n, !cases[i].from_client,
						  &m, &why),
				 KD_EPROTO);
		assert_non_null(why);
	}
	assert_string_equal(kd_srvmsg_type_name(KD_SRVMSG_EXIT), "exit");
	assert_string_equal(kd_srvmsg_type_name(0x42), "unknown");
}

static void encode_bounds(void **state)
{
	static char big[KD_SRVMSG_MAX_OUTPUT + 2];
	size_t n = 99;

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	/* Lines: 4096 bytes fit, 4097 do not. */
	assert_int_equal(kd_srvmsg_encode(buf, sizeof(buf), KD_SRVMSG_LINE, big,
					  KD_SRVMSG_MAX_LINE, &n),
			 KD_OK);
	assert_int_equal(n, KD_SRVMSG_HDR + KD_SRVMSG_MAX_LINE);
	assert_int_equal(kd_srvmsg_encode(buf, sizeof(buf), KD_SRVMSG_LINE, big,
					  KD_SRVMSG_MAX_LINE + 1, &n),
			 KD_EINVAL);
	assert_int_equal(n, 0);
	assert_int_equal(kd_srvmsg_encode(buf, sizeof(buf), KD_SRVMSG_OUTPUT,
					  big, KD_SRVMSG_MAX_OUTPUT, &n),
			 KD_OK);
	assert_int_equal(kd_srvmsg_encode(buf, sizeof(buf), KD_SRVMSG_OUTPUT,
					  big, KD_SRVMSG_MAX_OUTPUT + 1, &n),
			 KD_EINVAL);
	assert_int_equal(kd_srvmsg_encode(buf, sizeof(buf), KD_SRVMSG_PROMPT,
					  big, KD_SRVMSG_MAX_PROMPT + 1, &n),
			 KD_EINVAL);
	assert_int_equal(kd_srvmsg_encode(buf, sizeof(buf), KD_SRVMSG_ENDED,
					  big, KD_SRVMSG_MAX_REASON + 1, &n),
			 KD_EINVAL);
	/* Bytes a line may not hold; text on detach; unknown types. */
	assert_int_equal(kd_srvmsg_encode(buf, sizeof(buf), KD_SRVMSG_LINE,
					  "r\n", 2, &n),
			 KD_EINVAL);
	assert_int_equal(kd_srvmsg_encode(buf, sizeof(buf), KD_SRVMSG_LINE,
					  "r\x7f", 2, &n),
			 KD_EINVAL);
	assert_int_equal(kd_srvmsg_encode(buf, sizeof(buf), KD_SRVMSG_OUTPUT,
					  "a\0b", 3, &n),
			 KD_EINVAL);
	assert_int_equal(kd_srvmsg_encode(buf, sizeof(buf), KD_SRVMSG_DETACH,
					  "x", 1, &n),
			 KD_EINVAL);
	assert_int_equal(kd_srvmsg_encode(buf, sizeof(buf), 0x05, "", 0, &n),
			 KD_EINVAL);
	/* Buffer too small. */
	assert_int_equal(kd_srvmsg_encode(buf, 7, KD_SRVMSG_BREAK, NULL, 0, &n),
			 KD_EBUFS);
	assert_int_equal(
		kd_srvmsg_encode(buf, 10, KD_SRVMSG_LINE, "abc", 3, &n),
		KD_EBUFS);
	/* UTF-8 passes in lines. */
	assert_int_equal(kd_srvmsg_encode(buf, sizeof(buf), KD_SRVMSG_LINE,
					  ".echo \xc3\xa9t\xc3\xa9", 10, &n),
			 KD_OK);
}

static void decode_rejects(void **state)
{
	struct kd_srvmsg m;
	const char *why;
	uint8_t b[16];
	size_t n = 0;

	(void)state;
	assert_int_equal(
		kd_srvmsg_encode(b, sizeof(b), KD_SRVMSG_LINE, "r", 1, &n),
		KD_OK);
	assert_int_equal(n, 9);
	/* Truncated header and text. */
	assert_int_equal(kd_srvmsg_decode(b, 7, true, &m, &why), KD_ETRUNC);
	assert_string_equal(why, "message shorter than its header");
	assert_int_equal(kd_srvmsg_decode(b, 8, true, &m, &why), KD_ETRUNC);
	assert_string_equal(why, "message shorter than its length");
	/* Trailing bytes. */
	b[9] = 'x';
	assert_int_equal(kd_srvmsg_decode(b, 10, true, &m, &why), KD_EPROTO);
	assert_string_equal(why, "bytes after the message text");
	/* Version, reserved, huge length. */
	b[0] = 2;
	assert_int_equal(kd_srvmsg_decode(b, 9, true, &m, &why), KD_EPROTO);
	assert_string_equal(why, "unknown message version");
	b[0] = 1;
	b[3] = 1;
	assert_int_equal(kd_srvmsg_decode(b, 9, true, &m, &why), KD_EPROTO);
	assert_string_equal(why, "reserved header bytes not zero");
	b[3] = 0;
	kd_put_le32(b + 4, 0xffffffffu);
	assert_int_equal(kd_srvmsg_decode(b, 9, true, &m, &why), KD_EPROTO);
	assert_string_equal(why, "text length out of range");
	kd_put_le32(b + 4, 1);
	/* Control byte in a line. */
	b[8] = 0x1b;
	assert_int_equal(kd_srvmsg_decode(b, 9, true, &m, &why), KD_EPROTO);
	assert_string_equal(why, "control character in a command line");
	/* Text on a break. */
	b[1] = KD_SRVMSG_BREAK;
	b[8] = 'r';
	assert_int_equal(kd_srvmsg_decode(b, 9, true, &m, &why), KD_EPROTO);
	assert_string_equal(why, "detach/break message carries text");
	/* Unknown client type. */
	b[1] = 0x09;
	assert_int_equal(kd_srvmsg_decode(b, 9, true, &m, &why), KD_EPROTO);
	assert_string_equal(why, "unknown message type");
	/* A line longer than 4096 inside a well-formed frame. */
	memset(buf, 'a', sizeof(buf));
	buf[0] = 1;
	buf[1] = KD_SRVMSG_LINE;
	buf[2] = buf[3] = 0;
	kd_put_le32(buf + 4, KD_SRVMSG_MAX_LINE + 1);
	assert_int_equal(
		kd_srvmsg_decode(buf, KD_SRVMSG_HDR + KD_SRVMSG_MAX_LINE + 1,
				 true, &m, &why),
		KD_EPROTO);
	assert_string_equal(why, "command line too long");
	assert_int_equal(m.len, 0);
}

/* ---- the commands on a session without a server ---- */

struct cap {
	char out[8192];
	size_t len;
};

static void capture(void *ctx, const char *text, size_t len)
{
	struct cap *c = ctx;

	assert_true(c->len + len < sizeof(c->out));
	memcpy(c->out + c->len, text, len);
	c->len += len;
	c->out[c->len] = '\0';
}

static void commands_dormant(void **state)
{
	struct kd_session *s;
	struct cap c;
	char path[128], want[128];

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(kd_session_new(&s, NULL), KD_OK);
	kd_session_set_output(s, capture, &c);
	assert_int_equal(kd_session_execute(s, ".servers"), KD_OK);
	assert_int_equal(kd_session_execute(s, ".clients"), KD_OK);
	assert_string_equal(c.out, "");
	assert_int_equal(kd_session_poll_fd(s), -1);
	assert_int_equal(kd_session_service(s, true), 0);

	assert_int_not_equal(kd_session_execute(s, ".endsrv"), KD_OK);
	assert_non_null(strstr(c.out, "Usage: .endsrv ServerID"));
	assert_non_null(strstr(c.out, "use .endpsrv"));
	c.len = 0;
	assert_int_not_equal(kd_session_execute(s, ".endsrv 0"), KD_OK);
	assert_non_null(strstr(c.out, "No debugging server 0"));
	c.len = 0;
	assert_int_not_equal(kd_session_execute(s, ".endsrv zz"), KD_OK);
	assert_string_equal(c.out, "Bad server ID 'zz'\n");
	c.len = 0;
	assert_int_not_equal(kd_session_execute(s, ".server"), KD_OK);
	assert_non_null(strstr(c.out, "Usage: .server tcp:port="));
	c.len = 0;
	assert_int_not_equal(kd_session_execute(s, ".server bogus:port=1"),
			     KD_OK);
	assert_non_null(strstr(c.out, "Unable to start the server with "
				      "'bogus:port=1': "));
	c.len = 0;
	assert_int_not_equal(kd_session_execute(s, ".remote ../etc"), KD_OK);
	assert_non_null(strstr(c.out, "Bad session name '../etc'"));
	c.len = 0;
	assert_int_not_equal(kd_session_execute(s, ".remote_exit"), KD_OK);
	assert_non_null(strstr(c.out, "works only in a debugging client"));

	setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
	assert_int_equal(kd_session_relay_path("abc", path, sizeof(path)),
			 KD_OK);
	assert_string_equal(path, "/run/user/1000/openkd/remote-abc.sock");
	unsetenv("XDG_RUNTIME_DIR");
	unsetenv("TMPDIR");
	assert_int_equal(kd_session_relay_path("abc", path, sizeof(path)),
			 KD_OK);
	snprintf(want, sizeof(want), "/tmp/openkd-%u/remote-abc.sock",
		 (unsigned)geteuid());
	assert_string_equal(path, want);
	assert_int_equal(kd_session_relay_path("a/b", path, sizeof(path)),
			 KD_EINVAL);
	assert_int_equal(kd_session_relay_path("", path, sizeof(path)),
			 KD_EINVAL);
	kd_session_servers_close(s, NULL);
	kd_session_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(layout),
		cmocka_unit_test(roundtrip_all_types),
		cmocka_unit_test(encode_bounds),
		cmocka_unit_test(decode_rejects),
		cmocka_unit_test(commands_dormant),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
