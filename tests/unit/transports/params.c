/* SPDX-License-Identifier: MIT */
/*
 * Connection-string parsing: items, flags, nested values, typed getters, and
 * every error message of the parser, the validator and the registry lookup.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <kd/error.h>
#include <kd/sys/transport.h>
#include <kd/transport.h>

static struct kd_params *parse_ok(const char *text)
{
	struct kd_params *p = NULL;
	int rc = kd_params_parse(&p, "com", text);

	if (rc != KD_OK)
		fail_msg("parse '%s': %s", text, kd_error_last()->message);
	return p;
}

static void parse_fails(const char *text, const char *msg)
{
	struct kd_params *p = (struct kd_params *)&p;

	assert_int_equal(kd_params_parse(&p, "com", text), KD_EINVAL);
	assert_null(p);
	assert_string_equal(kd_error_last()->message, msg);
}

static void check_fails(const char *connstr, const char *msg)
{
	assert_int_equal(kd_transport_check(connstr), KD_EINVAL);
	assert_string_equal(kd_error_last()->message, msg);
}

static void test_transports_params__items(void **state)
{
	struct kd_params *p = parse_ok(
		"Port=/dev/ttyS0,BAUD=115200,pipe,reconnect");
	const char *k, *v;
	uint32_t baud;

	(void)state;
	assert_int_equal(kd_params_count(p), 4);
	assert_string_equal(kd_params_scheme(p), "com");
	assert_string_equal(kd_params_get(p, "port"), "/dev/ttyS0");
	assert_string_equal(kd_params_get(p, "PORT"), "/dev/ttyS0");
	assert_true(kd_params_has(p, "pipe"));
	assert_null(kd_params_get(p, "pipe"));
	assert_false(kd_params_has(p, "resets"));
	assert_int_equal(kd_params_at(p, 0, &k, &v), KD_OK);
	assert_string_equal(k, "Port");
	assert_int_equal(kd_params_at(p, 3, &k, &v), KD_OK);
	assert_string_equal(k, "reconnect");
	assert_null(v);
	assert_int_equal(kd_params_at(p, 4, &k, &v), KD_EINVAL);
	assert_int_equal(kd_params_get_u32(p, "baud", 50, 4000000, 9600, &baud),
			 KD_OK);
	assert_int_equal(baud, 115200);
	assert_int_equal(kd_params_get_u32(p, "resets", 0, 10, 7, &baud),
			 KD_OK);
	assert_int_equal(baud, 7);
	kd_params_free(p);

	p = parse_ok("");
	assert_int_equal(kd_params_count(p), 0);
	kd_params_free(p);
	kd_params_free(NULL);
}

static void test_transports_params__nested(void **state)
{
	struct kd_params *p = parse_ok(
		"server=@{tcp:server=HOST,port=5005},trans=@{net:port=50000,key=1.2.3.4,x=@{a,b}}");

	(void)state;
	assert_int_equal(kd_params_count(p), 2);
	assert_string_equal(kd_params_get(p, "server"),
			    "tcp:server=HOST,port=5005");
	assert_string_equal(kd_params_get(p, "trans"),
			    "net:port=50000,key=1.2.3.4,x=@{a,b}");
	assert_true(kd_params_is_nested(p, "trans"));
	kd_params_free(p);
	p = parse_ok("port=a:b");
	assert_false(kd_params_is_nested(p, "port"));
	kd_params_free(p);
}

static void test_transports_params__getters(void **state)
{
	struct kd_params *p = parse_ok(
		"n=0x10,big=70000,word=abc,f=0.25,g=1.5,dir=RX,seed=18446744073709551615,neg=-1,e=1e3,flag");
	static const char *const dirs[] = { "both", "tx", "rx", NULL };
	uint32_t u;
	uint64_t u64;
	double d;
	int e;
	const char *s;

	(void)state;
	assert_int_equal(kd_params_get_u32(p, "n", 0, 100, 0, &u), KD_OK);
	assert_int_equal(u, 16);
	assert_int_equal(kd_params_get_u32(p, "big", 0, 65535, 0, &u),
			 KD_EINVAL);
	assert_string_equal(kd_error_last()->message,
			    "value 70000 for 'big' out of range (0..65535)");
	assert_int_equal(kd_params_get_u32(p, "word", 0, 10, 0, &u), KD_EINVAL);
	assert_string_equal(kd_error_last()->message,
			    "value 'abc' for 'word' is not a number");
	assert_int_equal(kd_params_get_u32(p, "neg", 0, 10, 0, &u), KD_EINVAL);
	assert_string_equal(kd_error_last()->message,
			    "value '-1' for 'neg' is not a number");
	assert_int_equal(kd_params_get_u32(p, "flag", 0, 10, 0, &u), KD_EINVAL);
	assert_string_equal(kd_error_last()->message,
			    "missing value for 'flag'");
	assert_int_equal(kd_params_get_u64(p, "seed", 0, UINT64_MAX, 0, &u64),
			 KD_OK);
	assert_true(u64 == UINT64_MAX);
	assert_int_equal(kd_params_get_double(p, "f", 0, 1, 0, &d), KD_OK);
	assert_true(d == 0.25);
	assert_int_equal(kd_params_get_double(p, "g", 0, 1, 0, &d), KD_EINVAL);
	assert_string_equal(kd_error_last()->message,
			    "value 1.5 for 'g' out of range (0..1)");
	assert_int_equal(kd_params_get_double(p, "e", 0, 1e9, 0, &d),
			 KD_EINVAL);
	assert_string_equal(kd_error_last()->message,
			    "value '1e3' for 'e' is not a number");
	assert_int_equal(kd_params_get_double(p, "absent", 0, 1, 0.5, &d),
			 KD_OK);
	assert_true(d == 0.5);
	assert_int_equal(kd_params_get_enum(p, "dir", dirs, 0, &e), KD_OK);
	assert_int_equal(e, 2);
	assert_int_equal(kd_params_get_enum(p, "word", dirs, 0, &e), KD_EINVAL);
	assert_string_equal(
		kd_error_last()->message,
		"value 'abc' for 'word' must be one of both, tx, rx");
	assert_int_equal(kd_params_get_str(p, "flag", NULL, &s), KD_EINVAL);
	assert_int_equal(kd_params_get_str(p, "word", NULL, &s), KD_OK);
	assert_string_equal(s, "abc");
	kd_params_free(p);
}

static void test_transports_params__syntax_errors(void **state)
{
	(void)state;
	parse_fails("port=", "missing value for 'port'");
	parse_fails("port=x,", "empty option after 'port'");
	parse_fails("pipe,", "empty option after 'pipe'");
	parse_fails(",port=x", "empty option in 'com:' options");
	parse_fails("port=x,,baud=1", "empty option in 'com:' options");
	parse_fails("port=x,port=y", "duplicate option 'port'");
	parse_fails("PIPE,pipe", "duplicate option 'pipe'");
	parse_fails("po rt=x", "invalid character ' ' in option name");
	parse_fails("p\x01=x", "invalid byte 0x01 in option name");
	parse_fails("=x", "invalid character '=' in option name");
	parse_fails("server=@{tcp:port=1",
		    "unterminated '@{' in value of 'server'");
	parse_fails("server=@{a}b",
		    "unexpected text after '}' in value of 'server'");
	parse_fails("server=a@{b}", "'@{' must start the value of 'server'");
	parse_fails("a=@{@{@{@{@{@{@{@{@{x}}}}}}}}}",
		    "unterminated '@{' in value of 'a'");
	{
		char many[400] = "";
		size_t n = 0;

		for (int i = 0; i < 33; i++)
			n += (size_t)snprintf(many + n, sizeof(many) - n,
					      "%sk%d", i ? "," : "", i);
		assert_true(n < sizeof(many));
		parse_fails(many, "too many options (at most 32)");
	}
	{
		static char longs[KD_PARAMS_MAX_TEXT + 10];

		memset(longs, 'a', sizeof(longs) - 1);
		parse_fails(longs,
			    "options too long (4105 bytes, at most 4096)");
	}
}

static void test_transports_params__validate(void **state)
{
	static const struct kd_param_spec specs[] = {
		{ "port", KD_PARAM_VALUE },
		{ "pipe", KD_PARAM_FLAG },
		{ NULL, 0 },
	};
	struct kd_params *p;

	(void)state;
	p = parse_ok("PORT=x,Pipe");
	assert_int_equal(kd_params_validate(p, specs), KD_OK);
	kd_params_free(p);
	p = parse_ok("port=x,bud=9600");
	assert_int_equal(kd_params_validate(p, specs), KD_EINVAL);
	assert_string_equal(kd_error_last()->message,
			    "unknown option 'bud' for com");
	kd_params_free(p);
	p = parse_ok("port");
	assert_int_equal(kd_params_validate(p, specs), KD_EINVAL);
	assert_string_equal(kd_error_last()->message,
			    "missing value for 'port'");
	kd_params_free(p);
	p = parse_ok("pipe=1");
	assert_int_equal(kd_params_validate(p, specs), KD_EINVAL);
	assert_string_equal(kd_error_last()->message,
			    "option 'pipe' takes no value");
	kd_params_free(p);
}

static void test_transports_params__connstr(void **state)
{
	(void)state;
	assert_int_equal(kd_transport_check("loop:name=a"), KD_OK);
	assert_int_equal(kd_transport_check("loop"), KD_OK);
	assert_int_equal(kd_transport_check("Loop:NAME=a,Datagram"), KD_OK);
	assert_int_equal(
		kd_transport_check(
			"fault:drop=0.01,seed=7|pcap:file=x|loop:name=a"),
		KD_OK);
	check_fails("", "empty connection string");
	check_fails("cmo:port=1", "unknown transport 'cmo'");
	check_fails("c-m:port=1", "unknown transport 'c-m'");
	check_fails(":port=1", "missing transport name before ':'");
	check_fails("loop:bogus=1", "unknown option 'bogus' for loop");
	check_fails("loop:name", "missing value for 'name'");
	check_fails("loop:name=a,datagram=yes",
		    "option 'datagram' takes no value");
	check_fails("loop:name=a|", "empty transport in connection string");
	check_fails("|loop:name=a", "empty transport in connection string");
	check_fails("loop:name=a|loop:name=b",
		    "transport 'loop' cannot be stacked over another one");
	check_fails("fault|fault|fault|fault|fault|fault|fault|fault|loop",
		    "too many stacked transports (at most 8)");
	if (kd_transport_available("com")) {
		assert_int_equal(
			kd_transport_check(
				"com:pipe,port=/tmp/x,resets=0,reconnect"),
			KD_OK);
		check_fails("com:port=/dev/ttyS0,bud=9600",
			    "unknown option 'bud' for com");
		check_fails("com:port", "missing value for 'port'");
		check_fails("com:port=", "missing value for 'port'");
		check_fails("com:pipe=1,port=x",
			    "option 'pipe' takes no value");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transports_params__items),
		cmocka_unit_test(test_transports_params__nested),
		cmocka_unit_test(test_transports_params__getters),
		cmocka_unit_test(test_transports_params__syntax_errors),
		cmocka_unit_test(test_transports_params__validate),
		cmocka_unit_test(test_transports_params__connstr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
