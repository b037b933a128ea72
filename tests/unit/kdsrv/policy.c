/* SPDX-License-Identifier: MIT */
/*
 * kdsrv's transport policy (kd_srv_policy_*): the built-in default, the
 * operator's patterns, and the spellings a client might try to get round
 * them (case, blanks, layering with '|', `@{...}` nesting, duplicate
 * keys, numbers in hex or octal, '..' in paths).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <kd/error.h>
#include <kd/kdsrv.h>

/* The default (NULL policy) or @p p says yes to @p trans. */
static void allowed(const struct kd_srv_policy *p, const char *trans)
{
	char why[512];
	int rc = kd_srv_policy_check(p, trans, why, sizeof(why));

	if (rc != KD_OK)
		fail_msg("'%s' refused: %s", trans, why);
}

/* ... says no, with @p needle in the reason. */
static void refused(const struct kd_srv_policy *p, const char *trans,
		    const char *needle)
{
	char why[512];
	int rc = kd_srv_policy_check(p, trans, why, sizeof(why));

	if (rc == KD_OK)
		fail_msg("'%s' allowed", trans);
	assert_true(rc == KD_EAUTH || rc == KD_EINVAL);
	if (!strstr(why, needle))
		fail_msg("'%s': reason '%s' lacks '%s'", trans, why, needle);
}

static struct kd_srv_policy *policy(const char *const *patterns)
{
	struct kd_srv_policy *p = NULL;

	assert_int_equal(kd_srv_policy_new(&p), KD_OK);
	for (int i = 0; patterns[i]; i++) {
		if (kd_srv_policy_add(p, patterns[i]) != KD_OK)
			fail_msg("pattern '%s': %s", patterns[i],
				 kd_error_last()->message);
	}
	return p;
}

static void test_kdsrv_policy__default(void **state)
{
	(void)state;
	unsetenv("_NT_DEBUG_PORT");
	unsetenv("OPENKD_KDNET_PORT");
	allowed(NULL, "net:port=50000,key=1.2.3.4");
	allowed(NULL, "NET:Port=50000,KEY=1.2.3.4,auth_ms=500");
	allowed(NULL, "net:key=1.2.3.4");
	allowed(NULL, "com:port=/dev/ttyS0,baud=115200");
	allowed(NULL, "com:port=/dev/ttyUSB1,reconnect,resets=3");
	allowed(NULL, "com:port=@{/dev/ttyS1}");
	/* Layers that write files, test layers, other transports. */
	refused(NULL, "pcap:file=/tmp/x.pcap|com:port=/dev/ttyS0",
		"layered transports ('pcap|...')");
	refused(NULL, "fault:seed=1|net:port=50000,key=1.2.3.4", "layered");
	refused(NULL, "loop:name=x", "transport 'loop:' is not allowed");
	refused(NULL, "pcap:replay=/etc/passwd", "'pcap:' is not allowed");
	refused(NULL, "kdsrv:server=@{tcp:server=h,port=1},trans=@{com:}",
		"'kdsrv:' is not allowed");
	/* Addresses and paths the operator did not name. */
	refused(NULL, "com:ipport=22,port=127.0.0.1", "refused by policy");
	refused(NULL, "com:port=/dev/ttyS0,ipport=22", "'ipport'");
	refused(NULL, "com:pipe,port=/run/docker.sock", "refused by policy");
	refused(NULL, "com:port=/dev/ttyS0,pipe", "'pipe' is not allowed");
	refused(NULL, "com:pipe,server,port=/tmp/x.sock", "refused");
	refused(NULL, "com:port=/dev/sda", "does not match");
	refused(NULL, "com:port=/dev/ttyS0/../sda", "'..'");
	refused(NULL, "com:port=/dev/../dev/ttyS0", "'..'");
	refused(NULL, "net:port=50000,key=1.2.3.4,target=10.0.0.1",
		"'target' is not allowed");
	refused(NULL, "net:port=50000,key=1.2.3.4,role=target,hostip=1.1.1.1",
		"not allowed");
	refused(NULL, "net:port=53,key=1.2.3.4", "outside 1024..65535");
	refused(NULL, "net:port=0xC350,key=1.2.3.4", "plain decimal");
	refused(NULL, "net:port=050000,key=1.2.3.4", "plain decimal");
	refused(NULL, "com:port=/dev/ttyS0,baud=0x1c200", "plain decimal");
}

/* Spellings that must not turn a refusal into a yes. */
static void test_kdsrv_policy__bypass_spellings(void **state)
{
	static const char *const pats[] = {
		"com:pipe,port=/run/vm/*.sock",
		"net:port=50000..50009",
		NULL,
	};
	struct kd_srv_policy *p = policy(pats);

	(void)state;
	allowed(p, "com:pipe,port=/run/vm/a.sock");
	allowed(p, "COM:PIPE,Port=/run/vm/a.sock,baud=9600");
	allowed(p, "com:port=/run/vm/a.sock,pipe");
	allowed(p, "com:pipe,port=@{/run/vm/a,b.sock}");
	allowed(p, "net:port=50009,key=1.2.3.4");
	/* Case of the transport or keys changes nothing. */
	refused(p, "PCAP:file=/tmp/x|com:pipe,port=/run/vm/a.sock", "layered");
	refused(p, "Pcap:file=/tmp/x|COM:pipe,port=/run/vm/a.sock", "layered");
	/* Blanks are not trimmed: they make another name. */
	refused(p, " com:pipe,port=/run/vm/a.sock", "");
	refused(p, "com :pipe,port=/run/vm/a.sock", "");
	refused(p, "com:pipe,port=/run/vm/a.sock ,baud=1", "");
	/* '|' inside a nested value is part of that value... */
	refused(p, "com:pipe,port=@{/run/vm/a.sock|pcap:file=/tmp/x}",
		"does not match");
	/* ... and a '|' outside one is a layer. */
	refused(p, "com:pipe,port=/run/vm/a.sock|pcap:file=/tmp/x", "layered");
	/* Duplicate keys, in any case: the transports' parser says no. */
	refused(p, "com:pipe,port=/run/vm/a.sock,PORT=/etc/x", "duplicate");
	refused(p, "com:pipe,pipe,port=/run/vm/a.sock", "duplicate");
	/* Globs stop at '/' and at a leading '.'. */
	refused(p, "com:pipe,port=/run/vm/x/../../../etc/a.sock", "'..'");
	refused(p, "com:pipe,port=/run/vm/sub/a.sock", "does not match");
	refused(p, "com:pipe,port=/run/vm/.hidden.sock", "does not match");
	refused(p, "com:pipe,port=/run/vm//a.sock", "does not match");
	/* Flags are flags, values are values. */
	refused(p, "com:pipe=1,port=/run/vm/a.sock", "takes no value");
	refused(p, "com:port=/run/vm/a.sock", "'pipe' is missing");
	refused(p, "com:pipe,port", "needs a value");
	/* Numbers: ranges in decimal only. */
	refused(p, "net:port=50010,key=1.2.3.4", "outside");
	refused(p, "net:port=0xC351,key=1.2.3.4", "plain decimal");
	refused(p, "net:port=0,key=1.2.3.4", "outside");
	/* Not a transport string at all. */
	refused(p, "", "not a transport string");
	refused(p, "com:port=@{/run/vm/a.sock", "not a transport string");
	refused(p, "c\x1bm:pipe,port=/run/vm/a.sock", "not a transport");
	kd_srv_policy_free(p);
}

/* The operator's list replaces the default; "default" brings it back. */
static void test_kdsrv_policy__lists(void **state)
{
	static const char *const only_pipe[] = {
		"com:pipe,port=/run/vm/*.sock",
		NULL,
	};
	static const char *const with_default[] = {
		"com:pipe,port=/run/vm/*.sock",
		"default",
		NULL,
	};
	static const char *const layered[] = {
		"pcap:file=/var/log/kd/*.pcap|com:port=/dev/ttyS[0-9]",
		NULL,
	};
	static const char *const nothing[] = { "none", NULL };
	struct kd_srv_policy *p;
	char why[300];

	(void)state;
	p = policy(only_pipe);
	assert_int_equal(kd_srv_policy_count(p), 1);
	refused(p, "net:port=50000,key=1.2.3.4", "'net:' is not allowed");
	kd_srv_policy_free(p);
	p = policy(with_default);
	kd_srv_policy_describe(p, why, sizeof(why));
	if (strncmp(why, "com:pipe,port=/run/vm/*.sock ; net: ; ", 38) != 0)
		fail_msg("described as '%s'", why);
	kd_srv_policy_describe(p, why, 20);
	assert_int_equal(strlen(why), 19);
	allowed(p, "net:port=50000,key=1.2.3.4");
	allowed(p, "com:pipe,port=/run/vm/a.sock");
	kd_srv_policy_free(p);
	p = policy(layered);
	allowed(p, "pcap:file=/var/log/kd/a.pcap|com:port=/dev/ttyS0");
	refused(p, "pcap:file=/tmp/a.pcap|com:port=/dev/ttyS0",
		"does not match");
	refused(p, "com:port=/dev/ttyS0", "not allowed");
	kd_srv_policy_free(p);
	p = policy(nothing);
	refused(p, "net:port=50000,key=1.2.3.4", "no transport is allowed");
	kd_srv_policy_describe(p, why, sizeof(why));
	assert_string_equal(why, "nothing");
	kd_srv_policy_free(p);
}

/* What kdsrv's environment names is the operator's: allowed by default. */
static void test_kdsrv_policy__environment(void **state)
{
	(void)state;
	setenv("_NT_DEBUG_PORT", "/tmp/vm[1]*.sock", 1);
	setenv("OPENKD_KDNET_PORT", "700", 1);
	allowed(NULL, "com:pipe,port=/tmp/vm[1]*.sock");
	allowed(NULL, "com:port=/tmp/vm[1]*.sock");
	/* Taken literally, not as a glob. */
	refused(NULL, "com:pipe,port=/tmp/vm1x.sock", "does not match");
	allowed(NULL, "net:port=700,key=1.2.3.4");
	refused(NULL, "net:port=701,key=1.2.3.4", "outside");
	unsetenv("_NT_DEBUG_PORT");
	unsetenv("OPENKD_KDNET_PORT");
	refused(NULL, "com:pipe,port=/tmp/vm[1]*.sock", "refused");
}

/* Policy files: one pattern a line, comments, errors name the line. */
static void test_kdsrv_policy__text_and_file(void **state)
{
	static const char text[] = "# kdsrv policy\n"
				   "\n"
				   "  com:pipe,port=/run/vm/*.sock  \r\n"
				   "\tnet:port=50000..50001\n";
	char path[] = "/tmp/openkd-policy-XXXXXX";
	struct kd_srv_policy *p = NULL;
	FILE *f;
	int fd;

	(void)state;
	assert_int_equal(kd_srv_policy_new(&p), KD_OK);
	assert_int_equal(kd_srv_policy_add_text(p, text, strlen(text), "t"),
			 KD_OK);
	assert_int_equal(kd_srv_policy_count(p), 2);
	allowed(p, "net:port=50001,key=1.2.3.4");
	assert_int_equal(kd_srv_policy_add_text(p, "net:port=1\ncom:a=@{\n", 20,
						"f.conf"),
			 KD_EINVAL);
	if (!strstr(kd_error_last()->message, "f.conf:2:"))
		fail_msg("message: %s", kd_error_last()->message);
	assert_int_equal(kd_srv_policy_add(p, "com:port=a,port=b"), KD_EINVAL);
	assert_int_equal(kd_srv_policy_add(p, "c!m:port=a"), KD_EINVAL);
	kd_srv_policy_free(p);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(kd_srv_policy_new(&p), KD_OK);
	assert_int_equal(kd_srv_policy_load(p, path), KD_OK);
	allowed(p, "com:pipe,port=/run/vm/b.sock");
	kd_srv_policy_free(p);
	unlink(path);
	assert_int_equal(kd_srv_policy_new(&p), KD_OK);
	assert_int_equal(kd_srv_policy_load(p, path), KD_ENOTFOUND);
	kd_srv_policy_free(p);
}

/* Bounded: at most 256 patterns; a long string is refused cleanly. */
static void test_kdsrv_policy__bounds(void **state)
{
	struct kd_srv_policy *p = NULL;
	char big[6000];
	int rc = KD_OK, n = 0;

	(void)state;
	assert_int_equal(kd_srv_policy_new(&p), KD_OK);
	while (rc == KD_OK && n < 1000) {
		rc = kd_srv_policy_add(p, "net:port=50000");
		n++;
	}
	assert_int_equal(rc, KD_EINVAL);
	assert_int_equal(n, 257);
	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, "com:port=", 9);
	big[sizeof(big) - 1] = '\0';
	refused(p, big, "not a transport string");
	kd_srv_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kdsrv_policy__default),
		cmocka_unit_test(test_kdsrv_policy__bypass_spellings),
		cmocka_unit_test(test_kdsrv_policy__lists),
		cmocka_unit_test(test_kdsrv_policy__environment),
		cmocka_unit_test(test_kdsrv_policy__text_and_file),
		cmocka_unit_test(test_kdsrv_policy__bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
