/* SPDX-License-Identifier: MIT */
/*
 * `kd` against kdsim over KDNET, both real processes on loopback, looking at
 * what crosses the wire: kd's own capture (`pcap:file=F|net:...`) holds the
 * encrypted datagrams, which kdcap decodes with the key into the very KD
 * packets the session moved (recorded at the same time by a second pcap
 * layer above, at KD-packet level), and whose UDP framing tshark accepts; a
 * wrong key is reported as such within the attach bound.  The same layer
 * over a serial channel still records the byte stream kdcap decodes.
 */
#include "kdsim_client.h"
#include "kd_proc.h"

#include <kd/proto/names.h>

#include "pcap_udp.h"

#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/socket.h>
#include <cmocka.h>

#define T_MS 20000

/* A UDP port that was free a moment ago (bound and released). */
static int free_udp_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int port;

	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/*
 * kdsim offers under 1.2.3.4, kd answers nothing under 5.6.7.8.  With an
 * attach bound of 6 s (two of kdsim's 3 s OFFER periods) kd must name the
 * failed authentication, the target's address, and exit 3.
 */
static void test_wrong_key(void **state)
{
	char k[160], host[160];
	const char *simargs[] = { "-k",		k,   "--cpus", "1",
				  "--print-ms", "0", NULL };
	const char *kdargs[] = { "-k", host, "--timeout", "6000",
				 "-c", "r",  NULL };
	struct kc sim;
	char *out = NULL, *err = NULL;
	int port = free_udp_port();
	int st;

	(void)state;
	snprintf(k, sizeof(k), "net:port=%d,key=1.2.3.4,hostip=127.0.0.1",
		 port);
	snprintf(host, sizeof(host), "net:port=%d,key=5.6.7.8", port);
	kc_spawn(&sim, simargs);
	st = kp_run(kdargs, NULL, T_MS, &out, &err);
	kc_stop(&sim);
	if (st != 3 || !strstr(err, "failed authentication: wrong key?") ||
	    !strstr(out, "failed authentication: wrong key?") ||
	    strstr(err, "no KDNET target") || strstr(err, "did not answer"))
		fail_msg("kd exited %d\nstdout:\n%s\nstderr:\n%s", st, out,
			 err);
	/* The target's address as the user knows it, not ::ffff:. */
	assert_non_null(strstr(err, "datagram from 127.0.0.1:"));
	free(out);
	free(err);
}

/* --- kd's own KDNET capture --- */

#define KEY "1.2.3.4"

struct sigs {
	char **v;
	size_t n, cap;
};

static void sigs_add(struct sigs *s, const char *fmt, ...) KD_PRINTF(2, 3);

static void sigs_add(struct sigs *s, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		assert_non_null(s->v);
	}
	s->v[s->n] = strdup(buf);
	assert_non_null(s->v[s->n]);
	s->n++;
}

static void sigs_free(struct sigs *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* Per direction: [0] host -> target, [1] target -> host. */
struct session_sigs {
	struct sigs dir[2];
};

/*
 * The KD packets the session moved, from the KD-level capture (plain KD
 * packets as UDP payloads, host 127.0.0.1 -> target 127.0.0.2), in the
 * words kdcap uses.
 */
static int level_packet(void *arg, const struct kdt_udp *u)
{
	struct session_sigs *ss = arg;
	struct kd_packet_view v;
	int t2h = u->family == 4 && u->src[3] == 2;
	struct sigs *s = &ss->dir[t2h];
	const char *tn;

	if (u->len == 1 && u->data[0] == 0x62) {
		sigs_add(s, "BREAKIN");
		return 0;
	}
	if (kd_packet_decode(u->data, u->len, &v) != 0)
		fail_msg("KD-level capture: frame %u is no KD packet",
			 u->frame);
	tn = kd_packet_type_name(v.hdr.type);
	if (v.hdr.type == KD_PACKET_TYPE_STATE_MANIPULATE && !t2h &&
	    v.payload_len >= 28 &&
	    kd_get_le32(v.payload) == KD_API_READ_VIRTUAL_MEMORY)
		sigs_add(s, "%s id=%08x api=%s addr=%016llx len=0x%x", tn,
			 v.hdr.id,
			 kd_manipulate_api_name(kd_get_le32(v.payload)),
			 (unsigned long long)kd_get_le64(v.payload + 16),
			 kd_get_le32(v.payload + 24));
	else if (v.hdr.type == KD_PACKET_TYPE_STATE_MANIPULATE &&
		 v.payload_len >= 4)
		sigs_add(s, "%s id=%08x api=%s", tn, v.hdr.id,
			 kd_manipulate_api_name(kd_get_le32(v.payload)));
	else
		sigs_add(s, "%s id=%08x", tn ? tn : "?", v.hdr.id);
	return 0;
}

/* "key":"value" or "key":number of a kdcap --json line, into @p buf. */
static bool json_field(const char *line, const char *key, char *buf, size_t cap)
{
	char pat[64];
	const char *p;
	size_t n;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(line, pat);
	if (!p)
		return false;
	p += strlen(pat);
	if (*p == '"')
		p++;
	n = strcspn(p, "\",}");
	if (n >= cap)
		n = cap - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return true;
}

/* The same signatures from kdcap's decode of the wire capture. */
static void kdcap_sigs(const char *json, struct session_sigs *ss)
{
	for (const char *l = json; *l;) {
		const char *e = strchr(l, '\n');
		size_t len = e ? (size_t)(e - l) : strlen(l);
		char line[2048], dir[8], type[48], id[16], api[48], addr[24],
			cnt[16];
		struct sigs *s;

		if (len >= sizeof(line))
			len = sizeof(line) - 1;
		memcpy(line, l, len);
		line[len] = '\0';
		l = e ? e + 1 : l + len;
		if (!json_field(line, "dir", dir, sizeof(dir)) ||
		    !json_field(line, "type", type, sizeof(type)) ||
		    strncmp(type, "KDNET_", 6) == 0)
			continue;
		s = &ss->dir[strcmp(dir, "T>H") == 0];
		if (strcmp(type, "BREAKIN") == 0) {
			sigs_add(s, "BREAKIN");
			continue;
		}
		assert_true(json_field(line, "id", id, sizeof(id)));
		if (strcmp(type, "KD_STATE_MANIPULATE") == 0 &&
		    json_field(line, "api", api, sizeof(api)) &&
		    json_field(line, "addr", addr, sizeof(addr)) &&
		    json_field(line, "len", cnt, sizeof(cnt)) &&
		    strcmp(dir, "H>T") == 0 &&
		    strcmp(api, "ReadVirtualMemory") == 0)
			sigs_add(s, "%s id=%s api=%s addr=%s len=%s", type, id,
				 api, addr, cnt);
		else if (strcmp(type, "KD_STATE_MANIPULATE") == 0 &&
			 json_field(line, "api", api, sizeof(api)))
			sigs_add(s, "%s id=%s api=%s", type, id, api);
		else
			sigs_add(s, "%s id=%s", type, id);
	}
}

/* Run @p cmd through the shell; its stdout (malloc'd) and exit status. */
static char *run_cmd(const char *cmd, int *status)
{
	FILE *p = popen(cmd, "r");
	size_t len = 0, cap = 65536;
	char *out = malloc(cap);
	int st;

	assert_non_null(p);
	assert_non_null(out);
	for (;;) {
		size_t n;

		if (cap - len < 4096) {
			cap *= 2;
			out = realloc(out, cap);
			assert_non_null(out);
		}
		n = fread(out + len, 1, cap - 1 - len, p);
		if (n == 0)
			break;
		len += n;
	}
	out[len] = '\0';
	st = pclose(p);
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return out;
}

struct wire_check {
	uint16_t host_port;
	uint16_t target_port; /* learnt from the first datagram */
	unsigned int n;
	/* what the target sent, in order */
	uint8_t **t_data;
	size_t *t_len;
	size_t t_n, t_cap;
};

/* Every frame: UDP over IPv4 loopback between the two real ports, MDBG. */
static int wire_frame(void *arg, const struct kdt_udp *u)
{
	static const uint8_t lo[4] = { 127, 0, 0, 1 };
	struct wire_check *w = arg;
	uint16_t other;

	if (u->family != 4 || memcmp(u->src, lo, 4) != 0 ||
	    memcmp(u->dst, lo, 4) != 0)
		fail_msg("frame %u: not 127.0.0.1 -> 127.0.0.1", u->frame);
	if (u->sport != w->host_port && u->dport != w->host_port)
		fail_msg("frame %u: ports %u -> %u, host port %u", u->frame,
			 u->sport, u->dport, w->host_port);
	other = u->sport == w->host_port ? u->dport : u->sport;
	if (!w->target_port)
		w->target_port = other;
	if (other != w->target_port)
		fail_msg("frame %u: target port %u, was %u", u->frame, other,
			 w->target_port);
	if (u->len < 4 || memcmp(u->data, "MDBG", 4) != 0)
		fail_msg("frame %u: not a KDNET datagram", u->frame);
	w->n++;
	if (u->sport == w->target_port) {
		if (w->t_n == w->t_cap) {
			w->t_cap = w->t_cap ? w->t_cap * 2 : 64;
			w->t_data = realloc(w->t_data,
					    w->t_cap * sizeof(*w->t_data));
			w->t_len = realloc(w->t_len,
					   w->t_cap * sizeof(*w->t_len));
			assert_true(w->t_data && w->t_len);
		}
		w->t_data[w->t_n] = malloc(u->len);
		assert_non_null(w->t_data[w->t_n]);
		memcpy(w->t_data[w->t_n], u->data, u->len);
		w->t_len[w->t_n++] = u->len;
	}
	return 0;
}

/*
 * `pcap:replay=` of kd's own loopback capture, role=target, plays exactly
 * the target's datagrams although both ends share 127.0.0.1: the target
 * is told apart by its port.  The replay releases each one after the
 * host datagrams before it, so a stand-in host sends one per timeout.
 */
static void replay_check(const char *wire, struct wire_check *w)
{
	char cs[256];
	struct kd_transport *rep = NULL;
	uint8_t buf[8192];
	size_t got = 0, n = 0;
	int rounds = 0;
	int rc;

	snprintf(cs, sizeof(cs), "pcap:replay=%s,role=target", wire);
	assert_int_equal(kd_transport_open(&rep, cs), KD_OK);
	for (;;) {
		assert_true(++rounds < 100000);
		rc = kd_transport_recv(rep, buf, sizeof(buf), &n, 0);
		if (rc == KD_EDISCONNECTED)
			break;
		if (rc == KD_ETIMEOUT) {
			assert_int_equal(kd_transport_send(rep, "h", 1), KD_OK);
			continue;
		}
		assert_int_equal(rc, KD_OK);
		assert_true(got < w->t_n);
		assert_int_equal(n, w->t_len[got]);
		assert_memory_equal(buf, w->t_data[got], n);
		got++;
	}
	assert_int_equal(got, w->t_n);
	assert_true(got > 0 && got < w->n);
	kd_transport_close(rep);
	for (size_t i = 0; i < w->t_n; i++)
		free(w->t_data[i]);
	free(w->t_data);
	free(w->t_len);
}

static bool have_tshark(void)
{
	const char *path = getenv("PATH");
	char buf[1024];

	while (path && *path) {
		size_t n = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/tshark", (int)n, path);
		if (access(buf, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

/*
 * tshark's view of the frames: its own IP and UDP checksum checks
 * (1 = good) and the ports.  Its releases up to 4.0 carry no kdnet
 * dissector, so the payload is left to kdcap.
 */
static void tshark_check(const char *wire, const struct wire_check *w)
{
	char cmd[1024];
	char *out;
	int st;
	unsigned int lines = 0;

	if (!have_tshark()) {
		fprintf(stderr, "tshark not installed: the tshark check of "
				"the UDP framing is skipped\n");
		return;
	}
	snprintf(cmd, sizeof(cmd),
		 "tshark -r '%s' -o ip.check_checksum:TRUE "
		 "-o udp.check_checksum:TRUE -T fields -e udp.srcport "
		 "-e udp.dstport -e ip.checksum.status "
		 "-e udp.checksum.status 2>/dev/null",
		 wire);
	out = run_cmd(cmd, &st);
	assert_int_equal(st, 0);
	for (char *l = out; *l;) {
		char *e = strchr(l, '\n');
		unsigned int sp, dp, ipok, udpok;

		if (e)
			*e = '\0';
		if (sscanf(l, "%u\t%u\t%u\t%u", &sp, &dp, &ipok, &udpok) != 4)
			fail_msg("tshark printed '%s'", l);
		if (!((sp == w->host_port && dp == w->target_port) ||
		      (dp == w->host_port && sp == w->target_port)) ||
		    ipok != 1 || udpok != 1)
			fail_msg("tshark: frame %u '%s'", lines + 1, l);
		lines++;
		l = e ? e + 1 : l + strlen(l);
	}
	assert_int_equal(lines, w->n);
	free(out);
}

static void test_capture_decoded(void **state)
{
	char k[160], host[512], dir[] = "/tmp/openkd-kdnetcap-XXXXXX";
	char kdlevel[128], wire[128], cmd[1024], err[256], want[128];
	const char *simargs[] = { "-k",		k,   "--cpus", "1",
				  "--print-ms", "0", NULL };
	/* Known requests: the kernel's MZ header, a pool quadword, rip. */
	const char *kdargs[] = { "-k", host, "-c",
				 "db fffff800`00400000 L20; "
				 "dq fffff800`10000000 L1; r rip",
				 NULL };
	struct session_sigs said = { 0 }, decoded = { 0 };
	struct wire_check w = { 0 };
	struct kc sim;
	char *out = NULL, *kerr = NULL, *json;
	unsigned int skipped = 0;
	int port = free_udp_port();
	int st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(kdlevel, sizeof(kdlevel), "%s/kd.pcapng", dir);
	snprintf(wire, sizeof(wire), "%s/wire.pcapng", dir);
	snprintf(k, sizeof(k),
		 "net:port=%d,key=" KEY ",hostip=127.0.0.1,offer_ms=200", port);
	/* The upper layer records KD packets, the lower one the wire. */
	snprintf(host, sizeof(host),
		 "pcap:file=%s|pcap:file=%s|net:port=%d,key=" KEY, kdlevel,
		 wire, port);
	kc_spawn(&sim, simargs);
	st = kp_run(kdargs, NULL, T_MS, &out, &kerr);
	kc_stop(&sim);
	if (st != 0 || !strstr(out, "4d 5a 90 00") || !strstr(out, "rip="))
		fail_msg("kd exited %d\nstdout:\n%s\nstderr:\n%s", st, out,
			 kerr);
	free(out);
	free(kerr);

	/* kdcap: every datagram authenticated, the handshake decoded. */
	snprintf(cmd, sizeof(cmd),
		 "'%s/tools/kdcap/kdcap' decode '%s' "
		 "--key " KEY " --json",
		 getenv("KD_BUILD_DIR") ? getenv("KD_BUILD_DIR") : KD_BUILD_DIR,
		 wire);
	json = run_cmd(cmd, &st);
	if (st != 0 || !strstr(json, "\"auth_failures\":0,\"malformed\":0") ||
	    !strstr(json, "\"data_key\":true"))
		fail_msg("kdcap exited %d:\n%s", st, json);
	{
		char n_dg[16], n_auth[16];
		const char *sum = strstr(json, "{\"summary\"");

		assert_non_null(sum);
		assert_true(json_field(sum, "datagrams", n_dg, sizeof(n_dg)));
		assert_true(json_field(sum, "authenticated", n_auth,
				       sizeof(n_auth)));
		assert_string_equal(n_dg, n_auth);
		/* The UDP framing: real loopback addresses and ports. */
		w.host_port = (uint16_t)port;
		assert_int_equal(kdt_pcap_udp_foreach(wire, 0, wire_frame, &w,
						      &skipped, err,
						      sizeof(err)),
				 0);
		assert_int_equal(skipped, 0);
		assert_int_equal(w.n, strtoul(n_dg, NULL, 10));
		assert_true(w.n > 10);
	}

	/* What kdcap decoded is what the session sent and received. */
	kdcap_sigs(json, &decoded);
	assert_int_equal(kdt_pcap_udp_foreach(kdlevel, 0, level_packet, &said,
					      &skipped, err, sizeof(err)),
			 0);
	for (int d = 0; d < 2; d++) {
		size_t n = said.dir[d].n > decoded.dir[d].n ? said.dir[d].n :
							      decoded.dir[d].n;

		for (size_t i = 0; i < n; i++) {
			const char *a = i < said.dir[d].n ? said.dir[d].v[i] :
							    "(none)";
			const char *b = i < decoded.dir[d].n ?
						decoded.dir[d].v[i] :
						"(none)";

			if (strcmp(a, b) != 0)
				fail_msg("%s packet %zu: session '%s', kdcap "
					 "'%s'",
					 d ? "T>H" : "H>T", i, a, b);
		}
	}
	/* The known requests are among them. */
	{
		bool mz = false, pool = false;

		for (size_t i = 0; i < decoded.dir[0].n; i++) {
			if (strstr(decoded.dir[0].v[i],
				   "addr=fffff80000400000"))
				mz = true;
			if (strstr(decoded.dir[0].v[i],
				   "addr=fffff80010000000"))
				pool = true;
		}
		assert_true(mz && pool);
		snprintf(want, sizeof(want), "\"api\":\"GetContext\"");
		assert_non_null(strstr(json, want));
	}
	tshark_check(wire, &w);
	replay_check(wire, &w);

	sigs_free(&said.dir[0]);
	sigs_free(&said.dir[1]);
	sigs_free(&decoded.dir[0]);
	sigs_free(&decoded.dir[1]);
	free(json);
	unlink(kdlevel);
	unlink(wire);
	rmdir(dir);
}

/* kd over serial with a pcap layer: kdcap finds the session in it. */
static void test_serial_capture(void **state)
{
	char sock[128], k[160], host[800], cmd[1024],
		dir[] = "/tmp/openkd-sercap-XXXXXX";
	char path[128];
	const char *simargs[] = { "-k",		k,   "--cpus", "1",
				  "--print-ms", "0", NULL };
	const char *kdargs[] = { "-k", host, "-c", "db fffff800`00400000 L20",
				 NULL };
	struct kc sim;
	char *out = NULL, *kerr = NULL, *json;
	int st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/serial.pcapng", dir);
	snprintf(sock, sizeof(sock), "%s/kd.sock", dir);
	snprintf(k, sizeof(k), "com:pipe,port=%s", sock);
	kc_spawn(&sim, simargs);
	snprintf(host, sizeof(host), "pcap:file=%s|%s", path, sim.host_connstr);
	st = kp_run(kdargs, NULL, T_MS, &out, &kerr);
	kc_stop(&sim);
	if (st != 0 || !strstr(out, "4d 5a 90 00"))
		fail_msg("kd exited %d\nstdout:\n%s\nstderr:\n%s", st, out,
			 kerr);
	free(out);
	free(kerr);
	snprintf(cmd, sizeof(cmd), "'%s/tools/kdcap/kdcap' decode '%s' --json",
		 getenv("KD_BUILD_DIR") ? getenv("KD_BUILD_DIR") : KD_BUILD_DIR,
		 path);
	json = run_cmd(cmd, &st);
	if (st != 0 || !strstr(json, "\"checksum_bad\":0,\"bad_packets\":0") ||
	    !strstr(json, "\"read_errors\":0") ||
	    !strstr(json, "\"dir\":\"H>T\",\"type\":\"KD_STATE_MANIPULATE\"") ||
	    !strstr(json, "\"api\":\"ReadVirtualMemory\",\"addr\":"
			  "\"fffff80000400000\"") ||
	    !strstr(json, "\"type\":\"KD_STATE_CHANGE64\""))
		fail_msg("kdcap exited %d:\n%s", st, json);
	free(json);
	unlink(path);
	unlink(sock);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capture_decoded),
		cmocka_unit_test(test_serial_capture),
		cmocka_unit_test(test_wrong_key),
	};

	if (!kd_transport_available("net"))
		return 77;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
