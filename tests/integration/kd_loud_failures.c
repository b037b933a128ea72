/* SPDX-License-Identifier: MIT */
/*
 * Nothing silently wrong (issue 13), all real processes over real sockets:
 *
 * - kdsim that stalls for 30 s after its 40th send: `kd -c "db nt L4000;
 *   r rip; lm"` prints an error line naming the time-out, no `??` for the
 *   memory it never got, and exits 1.
 * - A hostile target (a child process of this test speaking KDCOM on a
 *   unix socket through the project's link and codec) that sends a state
 *   change too short to decode, one with an unknown NewState, a reply
 *   longer than any KD packet, or claims 4,294,967,295 processors: kd says
 *   what was wrong instead of a bare time-out, and warns about the count.
 */
#include "kdsim_client.h"
#include "kd_proc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>

#include <cmocka.h>

#include <kd/proto/names.h>

#define T_MS 60000

static char dir[128];

/* ---- the stalled target ---------------------------------------------- */

static void test_stall(void **state)
{
	char k[200];
	const char *simargs[] = { "-k",
				  k,
				  "--cpus",
				  "2",
				  "--print-ms",
				  "0",
				  "--stall-after",
				  "40",
				  "--stall-ms",
				  "30000",
				  NULL };
	struct kc sim;
	const char *kdargs[] = { "--timeout", "3000",
				 "-k",	      sim.host_connstr,
				 "-c",	      "db nt L4000; r rip; lm",
				 NULL };
	char *out = NULL, *err = NULL;
	int st;

	(void)state;
	snprintf(k, sizeof(k), "com:pipe,port=%s/stall.sock", dir);
	kc_spawn(&sim, simargs);
	st = kp_run(kdargs, NULL, T_MS, &out, &err);
	if (st != 1 || !strstr(out, "Target request failed - Win32 error "
				    "0n1460 (timeout): "))
		fail_msg("exit %d; stdout:\n%s\nstderr:\n%s", st, out, err);
	/* The request is named, and nothing unknown is shown as `??`. */
	assert_non_null(strstr(out, "ReadVirtualMemory"));
	assert_null(strstr(out, "??"));
	free(out);
	free(err);
	kc_stop(&sim);
}

/* ---- the hostile target ---------------------------------------------- */

enum hostile {
	SHORT_SC,
	BAD_STATE,
	OVERSIZE,
	MANY_CPUS
};

/* A breakpoint stop on processor 0 reporting @p ncpus processors. */
static size_t stop_packet(uint8_t *buf, size_t cap, uint32_t ncpus)
{
	struct kd_state_change sc;
	size_t n = 0;

	memset(&sc, 0, sizeof(sc));
	sc.new_state = KD_STATE_EXCEPTION;
	sc.number_processors = ncpus;
	sc.thread = 0xfffff80010001000ull;
	sc.program_counter = 0xfffff80000401000ull;
	sc.u.exception.record.code = KD_STATUS_BREAKPOINT;
	sc.u.exception.record.address = sc.program_counter;
	sc.u.exception.first_chance = 1;
	sc.machine = KD_MACHINE_AMD64;
	if (kd_state_change_encode(buf, cap, &n, &sc, NULL, 0) < 0)
		_exit(3);
	return n;
}

/* KDCOM data packet of @p len payload bytes (len > 4096 on purpose),
 * written straight to the transport: the link would refuse it. */
static void send_oversize(struct kd_transport *t, size_t len)
{
	uint8_t *p = calloc(1, 16 + len + 1);
	uint32_t sum = 0;
	size_t i;

	if (!p)
		_exit(3);
	kd_put_le32(p, KD_PACKET_LEADER_DATA);
	kd_put_le16(p + 4, KD_PACKET_TYPE_STATE_MANIPULATE);
	kd_put_le16(p + 6, (uint16_t)len);
	kd_put_le32(p + 8, 0x80800001u);
	kd_put_le32(p + 16, KD_API_GET_VERSION);
	for (i = 0; i < len; i++)
		sum += p[16 + i];
	kd_put_le32(p + 12, sum);
	p[16 + len] = KD_PACKET_TRAILER;
	if (kd_transport_send(t, p, 16 + len + 1) < 0)
		_exit(0);
	free(p);
}

/* Answer a manipulate request: GetVersion truthfully, the rest "no". */
static void answer(struct kd_link *l, struct kd_transport *t, enum hostile how,
		   const uint8_t *req, size_t len)
{
	struct kd_manipulate m;
	uint8_t out[4000];
	size_t n;

	if (kd_manipulate_decode(&m, req, len) < 0)
		return;
	if (m.api == KD_API_CONTINUE2 || m.api == KD_API_CONTINUE)
		return;
	if (m.api == KD_API_GET_VERSION && how == OVERSIZE) {
		send_oversize(t, 5000);
		return;
	}
	m.return_status = KD_STATUS_UNSUCCESSFUL;
	if (m.api == KD_API_GET_VERSION) {
		m.return_status = KD_STATUS_SUCCESS;
		memset(&m.u.version, 0, sizeof(m.u.version));
		m.u.version.major_version = 0x0f00;
		m.u.version.minor_version = 19041;
		m.u.version.protocol_version = 6;
		m.u.version.flags = KD_VERS_FLAG_PTR64;
		m.u.version.machine_type = KD_MACHINE_AMD64;
		m.u.version.kern_base = 0xfffff80000400000ull;
	} else if (m.api == KD_API_READ_VIRTUAL_MEMORY ||
		   m.api == KD_API_READ_CONTROL_SPACE ||
		   m.api == KD_API_READ_PHYSICAL_MEMORY) {
		m.u.mem.actual_count = 0;
	}
	m.machine = KD_MACHINE_AMD64;
	if (kd_manipulate_encode(out, sizeof(out), &n, &m, NULL, 0) == KD_OK &&
	    kd_link_send(l, KD_PACKET_TYPE_STATE_MANIPULATE, out, n) ==
		    KD_EDISCONNECTED)
		_exit(0);
}

/* The child: listen on @p sock and misbehave @p how until killed. */
static void hostile_target(const char *sock, enum hostile how)
{
	struct kd_link_opts o = KD_LINK_OPTS_INIT;
	struct kd_transport *t;
	struct kd_link *l;
	char cs[256];
	uint8_t buf[4096];

	snprintf(cs, sizeof(cs), "com:pipe,port=%s,server", sock);
	if (kd_transport_open(&t, cs) < 0)
		_exit(2);
	o.role = KD_LINK_TARGET;
	if (kd_link_open(&l, t, &o) < 0)
		_exit(2);
	for (;;) {
		unsigned type;
		size_t len;
		int rc = kd_link_recv(l, &type, buf, sizeof(buf), &len, 100);
		uint32_t ev = kd_link_events(l);

		if (rc == KD_EDISCONNECTED)
			_exit(0);
		/* The host synchronised or broke in: report a stop. */
		if ((ev & KD_LINK_EVENT_PEER_RESET) ||
		    (rc == KD_OK && type == KD_PACKET_TYPE_POLL_BREAKIN)) {
			uint8_t sc[512];
			size_t n = stop_packet(sc, sizeof(sc),
					       how == MANY_CPUS ? 0xffffffffu :
								  1u);

			if (how == SHORT_SC)
				n = 100; /* cut: not a whole structure */
			else if (how == BAD_STATE)
				kd_put_le32(sc, 0x1234);
			/* A host that does not ACK is the test's failure,
			 * seen on its side. */
			if (kd_link_send(l, KD_PACKET_TYPE_STATE_CHANGE64, sc,
					 n) == KD_EDISCONNECTED)
				_exit(0);
			continue;
		}
		if (rc == KD_OK && type == KD_PACKET_TYPE_STATE_MANIPULATE)
			answer(l, t, how, buf, len);
	}
}

/* Run kd against a hostile target; returns kd's exit status. */
static int against(enum hostile how, const char *cmds, char **out, char **err)
{
	char sock[200], cs[256];
	const char *args[] = { "--timeout", "3000", "-k", cs, "-c", cmds, NULL };
	pid_t pid;
	int st, i;

	snprintf(sock, sizeof(sock), "%s/hostile%d.sock", dir, (int)how);
	unlink(sock);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		hostile_target(sock, how);
		_exit(0);
	}
	for (i = 0; i < 200 && access(sock, F_OK) != 0; i++)
		kc_sleep_ms(10);
	snprintf(cs, sizeof(cs), "com:pipe,port=%s", sock);
	st = kp_run(args, NULL, T_MS, out, err);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	unlink(sock);
	return st;
}

/* Attaching fails (exit 3) with @p what and @p also on kd's stdout and in
 * its status-3 line on stderr. */
static void expect_attach_error(enum hostile how, const char *what,
				const char *also)
{
	char *out = NULL, *err = NULL;
	int st = against(how, "r rip", &out, &err);

	if (st != 3 || !strstr(err, what) || !strstr(err, also) ||
	    !strstr(out, what) || !strstr(out, also))
		fail_msg("exit %d, expected 3 and '%s'; stdout:\n%s\n"
			 "stderr:\n%s",
			 st, what, out, err);
	free(out);
	free(err);
}

/* The count depends on how often kd's RESET made the target repeat it. */
static void test_short_state_change(void **state)
{
	(void)state;
	expect_attach_error(SHORT_SC, "the target sent ",
			    "malformed state change(s) (the last: 100 bytes, "
			    "shorter than DBGKD_ANY_WAIT_STATE_CHANGE (240))");
}

static void test_unknown_state(void **state)
{
	(void)state;
	expect_attach_error(BAD_STATE, "the target sent ",
			    "(the last: unknown NewState 0x00001234)");
}

static void test_oversize_reply(void **state)
{
	(void)state;
	expect_attach_error(OVERSIZE,
			    "GetVersion on processor 0: no reply "
			    "from the target in 3000 ms; the target "
			    "sent ",
			    "longer than 4096 bytes refused");
}

static void test_many_cpus(void **state)
{
	char *out = NULL, *err = NULL;
	int st;

	(void)state;
	st = against(MANY_CPUS, "r rip", &out, &err);
	if (!strstr(out, "WARNING: the target reports 4294967295 processors; "
			 "kd uses 256\n"))
		fail_msg("exit %d; stdout:\n%s\nstderr:\n%s", st, out, err);
	free(out);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stall),
		cmocka_unit_test(test_short_state_change),
		cmocka_unit_test(test_unknown_state),
		cmocka_unit_test(test_oversize_reply),
		cmocka_unit_test(test_many_cpus),
	};
	int rc;

	if (!kp_kd_path())
		return 77;
	snprintf(dir, sizeof(dir), "/tmp/openkd-loud-%d", (int)getpid());
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(dir);
	return rc;
}
