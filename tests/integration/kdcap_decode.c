/* SPDX-License-Identifier: MIT */
/*
 * Runs the built kdcap as a real process on the real KDNET and serial
 * samples, on truncated and garbage copies, and on sessions it synthesises
 * itself, and checks the decoded facts and exit codes.
 */
#define _DEFAULT_SOURCE 1 /* popen, mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <kd/proto.h>

#include "testsupport.h"

#define OUT_CAP (256 * 1024)

static char kdcap[4096];
static char tmpdir[] = "/tmp/kdcap-test-XXXXXX";
static char out[OUT_CAP];

#define KDNET_REL "kdnet/r2-host_relay-target_key-1.2.3.4.pcapng"
#define H2T_REL "kdserial/host-to-target.bin"
#define T2H_REL "kdserial/target-to-host.bin"

/* Run `kdcap ARGS` with stdout and stderr into out[]; return exit code. */
static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int run(const char *fmt, ...)
{
	char args[8192];
	char cmd[16384];
	va_list ap;
	size_t len = 0;
	FILE *p;
	int st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "'%s' %s 2>&1", kdcap, args);
	p = popen(cmd, "r");
	assert_non_null(p);
	for (;;) {
		size_t n = fread(out + len, 1, sizeof(out) - 1 - len, p);

		if (n == 0)
			break;
		len += n;
	}
	out[len] = '\0';
	st = pclose(p);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void has(const char *s)
{
	if (!strstr(out, s)) {
		fprintf(stderr, "missing \"%s\" in output:\n%s\n", s, out);
		fail();
	}
}

/* Number of output lines containing @p s. */
static int lines_with(const char *s)
{
	int n = 0;

	for (const char *l = out; *l;) {
		const char *e = strchr(l, '\n');
		size_t len = e ? (size_t)(e - l) : strlen(l);
		char buf[1024];

		if (len >= sizeof(buf))
			len = sizeof(buf) - 1;
		memcpy(buf, l, len);
		buf[len] = '\0';
		if (strstr(buf, s))
			n++;
		l = e ? e + 1 : l + len;
	}
	return n;
}

static void write_prefix(const char *src, const char *dst, size_t n)
{
	size_t len;
	uint8_t *buf = kdt_read_file(src, &len);
	FILE *f;

	assert_non_null(buf);
	assert_true(n <= len);
	f = fopen(dst, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, n, f), n);
	fclose(f);
	free(buf);
}

static void test_kdcap__kdnet_sample(void **state)
{
	char p[4096];

	(void)state;
	kdt_require_shared(p, sizeof(p), KDNET_REL);
	assert_int_equal(run("decode '%s' --key 1.2.3.4", p), 0);
	has("kdnet datagrams 30 authenticated 30 auth_failures 0 "
	    "malformed 0 other_udp 0\n");
	has("kdnet handshake seen data_key derived offers 1 responses 1 "
	    "pings 1\n");
	has("packets 26 (data 13, control 13)\n");
	has("checksums ok 13 bad 0\n");
	has("breakins 1\n");
	has("type KD_ACKNOWLEDGE 13\n");
	has("type KD_STATE_MANIPULATE 10\n");
	has("type KD_STATE_CHANGE64 2\n");
	has("type KD_DEBUG_IO 1\n");
	has("api GetVersion 2\n");
	has("api ReadVirtualMemory 8\n");
	has("api Exception 2\n");
	has("api PrintString 1\n");
	/* Xen kdd's answer: a free NT build, 32-bit x86, DATA flag only. */
	has("T>H KD_STATE_MANIPULATE id=80800001 GetVersion "
	    "status=STATUS_SUCCESS major=0xf minor=0 protocol=6 secondary=0 "
	    "flags=0x2 machine=0x14c kernbase=0000000000000000");
	has("H>T KD_STATE_MANIPULATE id=80800001 ReadVirtualMemory "
	    "addr=0000000000000000 len=0x4 proc=0");
	has("KDNET_RESPONSE seq=1 data_key=derived");
	assert_int_equal(lines_with(" T>H "), 15);
	assert_int_equal(lines_with(" H>T "), 15);
}

static void test_kdcap__kdnet_wrong_and_missing_key(void **state)
{
	char p[4096];

	(void)state;
	kdt_require_shared(p, sizeof(p), KDNET_REL);
	assert_int_equal(run("decode '%s' --key 1.2.3.5", p), 3);
	has("kdcap: 30 of 30 KDNET datagrams failed authentication");
	has("packets 0 (data 0, control 0)\n");
	assert_int_equal(run("decode '%s'", p), 2);
	has("--key w.x.y.z is needed");
	assert_int_equal(run("decode '%s' --key 1.2.3.zz!", p), 2);
	has("bad --key");
}

/* GetVersion reply found with kdproto alone, to cross-check kdcap. */
static void check_version_independently(const char *path)
{
	static struct kd_stream s;
	size_t len, off = 0;
	uint8_t *buf = kdt_read_file(path, &len);
	int found = 0;

	assert_non_null(buf);
	kd_stream_init(&s);
	while (off < len) {
		struct kd_stream_event ev;
		struct kd_manipulate m;

		off += kd_stream_feed(&s, buf + off, len - off, &ev);
		if (ev.kind != KD_STREAM_EVENT_PACKET ||
		    ev.hdr.type != KD_PACKET_TYPE_STATE_MANIPULATE)
			continue;
		assert_int_equal(
			kd_manipulate_decode(&m, ev.payload, ev.payload_len),
			0);
		if (m.api != KD_API_GET_VERSION)
			continue;
		assert_int_equal(m.u.version.protocol_version, 6);
		assert_int_equal(m.u.version.machine_type, 0x14c);
		assert_int_equal(m.u.version.major_version, 0xf);
		found++;
	}
	free(buf);
	assert_int_equal(found, 1);
}

static void test_kdcap__serial_sample(void **state)
{
	char h[4096], t[4096];

	(void)state;
	kdt_require_shared(h, sizeof(h), H2T_REL);
	kdt_require_shared(t, sizeof(t), T2H_REL);
	assert_int_equal(run("decode '%s' '%s'", h, t), 0);
	has("packets 32 (data 15, control 17)\n");
	has("checksums ok 15 bad 0\n");
	has("errors bad_packets 0 read_errors 0 garbage_bytes 0\n");
	has("breakins 1\n");
	has("type KD_RESET 2\n");
	has("type KD_ACKNOWLEDGE 15\n");
	has("type KD_STATE_MANIPULATE 10\n");
	has("type KD_STATE_CHANGE64 3\n");
	has("type KD_DEBUG_IO 2\n");
	has("api GetVersion 2\n");
	has("api ReadVirtualMemory 8\n");
	has("api Exception 3\n");
	has("api PrintString 2\n");
	has("@000000 H>T BREAKIN\n");
	has("@000001 H>T KD_RESET id=00000000\n");
	has("T>H KD_RESET id=deadbeef\n");
	has("@000051 H>T KD_STATE_MANIPULATE id=80800000 GetVersion proc=0\n");
	has("GetVersion status=STATUS_SUCCESS major=0xf minor=0 protocol=6 "
	    "secondary=0 flags=0x2 machine=0x14c");
	has("text=\"[kdd: connected to fake flat-RAM guest]\\r\\n\"");
	/* Every packet is named: no unknown type or API anywhere. */
	assert_int_equal(lines_with("UNKNOWN"), 0);
	assert_int_equal(lines_with("Unknown"), 0);
	check_version_independently(t);

	/* One raw file: decoded as one stream of unknown direction. */
	assert_int_equal(run("decode '%s'", t), 0);
	has("direction unknown");
	has("packets 16 (data 10, control 6)\n");
}

static void test_kdcap__truncated(void **state)
{
	char p[4096], t[4096], h[4096], tmp[4200];

	(void)state;
	kdt_require_shared(p, sizeof(p), KDNET_REL);
	kdt_require_shared(h, sizeof(h), H2T_REL);
	kdt_require_shared(t, sizeof(t), T2H_REL);
	snprintf(tmp, sizeof(tmp), "%s/cut.pcapng", tmpdir);
	write_prefix(p, tmp, 3000);
	assert_int_equal(run("decode '%s' --key 1.2.3.4", tmp), 0);
	has("cut.pcapng: record 13: truncated");
	assert_int_equal(lines_with("record 13"), 1);
	has("kdnet datagrams 12 authenticated 12 auth_failures 0");
	has("packets 8 (data 4, control 4)\n");

	snprintf(tmp, sizeof(tmp), "%s/cut.bin", tmpdir);
	write_prefix(t, tmp, 1000);
	assert_int_equal(run("decode '%s' '%s'", h, tmp), 0);
	has("kdcap: T>H stream ends inside a packet (truncated input)\n");
	has("packets 23 (data 10, control 13)\n");

	/* A capture cut inside its file header decodes nothing. */
	snprintf(tmp, sizeof(tmp), "%s/head.pcapng", tmpdir);
	write_prefix(p, tmp, 10);
	assert_int_equal(run("decode '%s' --key 1.2.3.4", tmp), 1);
	has("head.pcapng: not a readable capture");
}

static void test_kdcap__garbage(void **state)
{
	char tmp[4200];
	FILE *f;

	(void)state;
	snprintf(tmp, sizeof(tmp), "%s/garbage.bin", tmpdir);
	f = fopen(tmp, "wb");
	assert_non_null(f);
	/* Deterministic noise without a leader run or a break-in byte. */
	for (unsigned i = 0; i < 4096; i++)
		fputc((int)((i * 7u + 3u) % 0x60), f);
	fclose(f);
	assert_int_equal(run("decode '%s'", tmp), 1);
	has("kdcap: no KD packets found\n");
	has("packets 0 (data 0, control 0)\n");
	assert_int_equal(run("decode '%s/absent.bin'", tmpdir), 1);
	assert_int_equal(run("decode"), 2);
	assert_int_equal(run("decode a b c"), 2);
	assert_int_equal(run("frobnicate"), 2);
}

static void test_kdcap__synth_round_trip(void **state)
{
	char n[4200], s[4200];

	(void)state;
	snprintf(n, sizeof(n), "%s/kdnet.pcapng", tmpdir);
	snprintf(s, sizeof(s), "%s/serial.pcapng", tmpdir);
	assert_int_equal(run("synth --kdnet '%s' --key 1.2.3.4", n), 0);
	assert_int_equal(run("synth --serial '%s'", s), 0);
	assert_int_equal(run("synth --kdnet '%s'", n), 2);

	assert_int_equal(run("decode '%s' --key 1.2.3.4", n), 0);
	has("kdnet datagrams 24 authenticated 24 auth_failures 0 "
	    "malformed 0 other_udp 0\n");
	has("kdnet handshake seen data_key derived offers 1 responses 1 "
	    "pings 1\n");
	has("packets 20 (data 10, control 10)\n");
	has("checksums ok 10 bad 0\n");
	has("breakins 1\n");
	has("type KD_ACKNOWLEDGE 10\n");
	has("type KD_STATE_MANIPULATE 7\n");
	has("type KD_STATE_CHANGE64 2\n");
	has("type KD_DEBUG_IO 1\n");
	has("api LoadSymbols 1\n");
	has("api GetVersion 2\n");
	has("api ReadVirtualMemory 2\n");
	has("api GetContext 2\n");
	has("api PrintString 1\n");
	has("api Continue2 1\n");
	has("api Exception 1\n");
	has("KDNET_OFFER seq=3 version=4 target=127.0.0.2:50000 "
	    "debugger=127.0.0.1:50000");
	has("T>H KD_STATE_MANIPULATE id=00000002 GetVersion "
	    "status=STATUS_SUCCESS major=0xf minor=19041 protocol=6 "
	    "secondary=2 flags=0x7 machine=0x8664 kernbase=fffff80000000000 "
	    "PsLoadedModuleList=fffff800002a0000 "
	    "DebuggerDataList=fffff80000300000");
	has("ReadVirtualMemory status=STATUS_SUCCESS read=0x380");
	has("Exception code=STATUS_BREAKPOINT addr=fffff80000001000 first=1");
	assert_int_equal(run("decode '%s' --key 1.2.3.5", n), 3);
	has("24 of 24 KDNET datagrams failed authentication");

	assert_int_equal(run("decode '%s'", s), 0);
	has("packets 22 (data 10, control 12)\n");
	has("checksums ok 10 bad 0\n");
	has("breakins 2\n");
	has("type KD_RESET 2\n");
	has("type KD_ACKNOWLEDGE 10\n");
	has("type KD_STATE_MANIPULATE 7\n");
	has("type KD_STATE_CHANGE64 2\n");
	has("LoadSymbols base=fffff80000000000 size=0xa00000 "
	    "path=\"\\\\SystemRoot\\\\system32\\\\ntoskrnl.exe\"");
	has("T>H KD_STATE_MANIPULATE id=80800001 GetContext "
	    "status=STATUS_SUCCESS context=0x4d0 rip=fffff80000001000");

	/* JSON: one object per line, the summary last. */
	assert_int_equal(run("decode '%s' --json", s), 0);
	has("{\"time\":");
	has("\"type\":\"KD_RESET\",\"id\":\"00000000\"}");
	has("\"apis\":{\"LoadSymbols\":1,");
	assert_int_equal(lines_with("{\""), 25);
}

static int teardown(void **state)
{
	char cmd[256];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kdcap__kdnet_sample),
		cmocka_unit_test(test_kdcap__kdnet_wrong_and_missing_key),
		cmocka_unit_test(test_kdcap__serial_sample),
		cmocka_unit_test(test_kdcap__truncated),
		cmocka_unit_test(test_kdcap__garbage),
		cmocka_unit_test(test_kdcap__synth_round_trip),
	};
	char p[4096];

	if (kdt_build_path(kdcap, sizeof(kdcap), "tools/kdcap/kdcap") != 0 ||
	    access(kdcap, X_OK) != 0) {
		fprintf(stderr, "kdcap not built at %s\n", kdcap);
		return 1;
	}
	/* The sample-based tests need ../shared/data; skip when absent. */
	kdt_require_shared(p, sizeof(p), KDNET_REL);
	kdt_require_shared(p, sizeof(p), H2T_REL);
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, teardown);
}
