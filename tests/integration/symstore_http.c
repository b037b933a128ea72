/* SPDX-License-Identifier: MIT */
/*
 * The symbol-server client against a real HTTP server on 127.0.0.1
 * (tests/integration/symstore_server.py, a python process) holding PDBs
 * built at test time with clang-cl /Z7 + lld-link /DEBUG:
 *   - a plain store: the PDB lands in the cache, byte-equal to the one
 *     the linker wrote; the image (.exe) by its TimeDateStamp+SizeOfImage
 *     key the same way;
 *   - a CAB-compressed name.pd_ (made with gcab, MSZIP) is expanded;
 *   - a file.ptr pointing at another URL is followed; "MSG:" is a miss
 *     with the store's message;
 *   - a two-tier store (index2.txt) is asked for na/name/KEY/name;
 *   - redirects are followed, a redirect loop is an error;
 *   - a PDB with the wrong GUID, an HTML page with 200, a truncated body
 *     and a stalled body are refused and never enter the cache;
 *   - a 404 is remembered: the second lookup asks nothing;
 *   - offline mode asks nothing (the server's request log stays as it
 *     was), and a second lookup is served from the cache after the
 *     server has been stopped;
 *   - a cache*dir and a cascading srv*c1*c2*store get their copies.
 * Skipped (77) when clang-cl, lld-link, llvm-pdbutil, gcab or python3 is
 * absent.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <kd/error.h>
#include <kd/pdb.h>
#include <kd/symstore.h>

/* pdbgen.h's snprintf calls into fixed paths trip GCC's truncation
 * analysis when inlined here; the paths are short /tmp names. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
#include "../unit/pdb/pdbgen.h"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#include "testsupport.h"

#define NPROG 3

static struct pdbgen g_prog[NPROG]; /* a, b, c: three different PDBs */
static struct kd_symstore_key g_key[NPROG], g_img;
static char g_dir[128];	 /* the test's folder */
static char g_root[192]; /* the server's folder */
static char g_log[192];	 /* the server's request log */
static char g_url[64];	 /* http://127.0.0.1:PORT */
static pid_t g_srv = -1;
static char g_names[NPROG][16] = { "a.pdb", "b.pdb", "c.pdb" };

/* --- Helpers ------------------------------------------------------------- */

static void mkdirs(const char *fmt, ...) KD_PRINTF(1, 2);

static void mkdirs(const char *fmt, ...)
{
	char p[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p, sizeof(p), fmt, ap);
	va_end(ap);
	assert_int_equal(pdbgen_run("mkdir -p '%s'", p), 0);
}

static void put_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static bool same_file(const char *a, const char *b)
{
	size_t la, lb;
	uint8_t *x = slurp(a, &la), *y = slurp(b, &lb);
	bool eq = x && y && la == lb && memcmp(x, y, la) == 0;

	free(x);
	free(y);
	return eq;
}

/* Number of requests the server has logged so far. */
static int requests(void)
{
	size_t len, i;
	uint8_t *buf = slurp(g_log, &len);
	int n = 0;

	for (i = 0; buf && i < len; i++)
		n += buf[i] == '\n';
	free(buf);
	return n;
}

/* Did the server log a request for exactly @p path? */
static bool requested(const char *path)
{
	size_t len;
	uint8_t *buf = slurp(g_log, &len);
	char want[512];
	bool hit;

	if (!buf)
		return false;
	buf[len] = 0;
	snprintf(want, sizeof(want), "%s\n", path);
	hit = strstr((char *)buf, want) != NULL;
	free(buf);
	return hit;
}

/* Nothing but folders under @p dir: no file, no temporary left behind. */
static bool no_files(const char *dir)
{
	char cmd[640];

	snprintf(cmd, sizeof(cmd),
		 "test -z \"$(find '%s' -type f 2>/dev/null)\"", dir);
	return system(cmd) == 0;
}

static void key_of(struct kd_symstore_key *k, const char *pdbpath,
		   const char *name)
{
	struct kd_pdb *pdb;
	struct kd_pdb_info info;

	assert_int_equal(kd_pdb_open_file(&pdb, pdbpath), KD_OK);
	assert_int_equal(kd_pdb_info(pdb, &info), KD_OK);
	kd_pdb_close(pdb);
	memset(k, 0, sizeof(*k));
	k->name = name;
	memcpy(k->guid, info.guid, 16);
	k->age = info.has_dbi ? info.dbi_age : info.age;
}

/* The image key read straight from the PE headers of @p exe. */
static void image_key_of(struct kd_symstore_key *k, const char *exe)
{
	size_t len;
	uint8_t *b = slurp(exe, &len);
	uint32_t pe;

	assert_non_null(b);
	assert_true(len > 0x40 && b[0] == 'M' && b[1] == 'Z');
	pe = kd_get_le32(b + 0x3c);
	assert_true(pe + 24 + 60 < len);
	memset(k, 0, sizeof(*k));
	k->name = "prog.exe";
	k->image = true;
	k->timestamp = kd_get_le32(b + pe + 8);
	k->size_of_image = kd_get_le32(b + pe + 24 + 56);
	free(b);
}

static char *key_path(const struct kd_symstore_key *k, char *buf, size_t cap)
{
	char dir[40];

	assert_int_equal(kd_symstore_key_dir(k, dir, sizeof(dir)), KD_OK);
	snprintf(buf, cap, "%s/%s", k->name, dir);
	return buf;
}

/* Copy @p src into store @p store under @p k as @p file. */
static void stock(const char *store, const struct kd_symstore_key *k,
		  const char *src, const char *file)
{
	char kp[128];

	key_path(k, kp, sizeof(kp));
	mkdirs("%s/%s/%s", g_root, store, kp);
	assert_int_equal(pdbgen_run("cp '%s' '%s/%s/%s/%s'", src, g_root, store,
				    kp, file),
			 0);
}

static void start_server(void)
{
	char script[512], portfile[192];
	const char *slash = strrchr(__FILE__, '/');
	char buf[16] = "";
	int i;

	/* The server script sits next to this file. */
	snprintf(script, sizeof(script), "%.*s/symstore_server.py",
		 slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".");
	snprintf(portfile, sizeof(portfile), "%s/port", g_dir);
	unlink(portfile);
	g_srv = fork();
	assert_true(g_srv >= 0);
	if (g_srv == 0) {
		execlp("python3", "python3", script, g_root, portfile, g_log,
		       (char *)NULL);
		_exit(127);
	}
	/* Wait for the port file (written once the server listens). */
	for (i = 0; i < 2000; i++) {
		FILE *f = fopen(portfile, "r");

		if (f) {
			if (!fgets(buf, sizeof(buf), f))
				buf[0] = 0;
			fclose(f);
			break;
		}
		if (waitpid(g_srv, NULL, WNOHANG) == g_srv) {
			g_srv = -1;
			fail_msg("the symbol server did not start");
		}
		struct timespec ts = { 0, 10000000L };

		nanosleep(&ts, NULL);
	}
	assert_true(buf[0] != 0);
	snprintf(g_url, sizeof(g_url), "http://127.0.0.1:%d", atoi(buf));
}

static void stop_server(void)
{
	if (g_srv > 0) {
		kill(g_srv, SIGTERM);
		waitpid(g_srv, NULL, 0);
	}
	g_srv = -1;
}

/* --- Fixture ------------------------------------------------------------- */

static int setup(void **state)
{
	char p[512];
	int i;

	(void)state;
	if (!pdbgen_tools(&g_prog[0]))
		exit(KD_TEST_SKIP);
	if (!pdbgen_have("gcab") || !pdbgen_have("python3")) {
		fprintf(stderr, "skipped: gcab or python3 not found\n");
		exit(KD_TEST_SKIP);
	}
	snprintf(g_dir, sizeof(g_dir), "/tmp/kd_symstore_XXXXXX");
	assert_non_null(mkdtemp(g_dir));
	snprintf(g_root, sizeof(g_root), "%s/root", g_dir);
	snprintf(g_log, sizeof(g_log), "%s/requests.log", g_dir);
	for (i = 0; i < NPROG; i++) {
		if (i > 0)
			memcpy(g_prog[i].clang_cl, g_prog[0].clang_cl,
			       sizeof(g_prog[0].clang_cl));
		/* Different sizes give different content, so GUIDs. */
		if (pdbgen_build(&g_prog[i], 3 + (unsigned)i * 4, 1, 0) != 0)
			return -1;
		key_of(&g_key[i], g_prog[i].pdb, g_names[i]);
	}
	image_key_of(&g_img, g_prog[0].exe);

	/* one/: a plain store (a.pdb, the image), b.pd_ (CAB), c file.ptr */
	stock("one", &g_key[0], g_prog[0].pdb, "a.pdb");
	stock("one", &g_img, g_prog[0].exe, "prog.exe");
	snprintf(p, sizeof(p), "%s/b.pdb", g_dir);
	assert_int_equal(pdbgen_run("cp '%s' '%s'", g_prog[1].pdb, p), 0);
	assert_int_equal(pdbgen_run("cd '%s' && gcab -c -z b.pd_ b.pdb", g_dir),
			 0);
	snprintf(p, sizeof(p), "%s/b.pd_", g_dir);
	stock("one", &g_key[1], p, "b.pd_");
	mkdirs("%s/files", g_root);
	snprintf(p, sizeof(p), "%s/files/c.pdb", g_root);
	assert_int_equal(pdbgen_run("cp '%s' '%s'", g_prog[2].pdb, p), 0);

	/* two/: two-tier (index2.txt), a.pdb under a./a.pdb/KEY/ */
	mkdirs("%s/two", g_root);
	snprintf(p, sizeof(p), "%s/two/index2.txt", g_root);
	put_file(p, "", 0);
	stock("two/a.", &g_key[0], g_prog[0].pdb, "a.pdb");

	/* bad/: b's PDB where a's key says a.pdb should be */
	stock("bad", &g_key[0], g_prog[1].pdb, "a.pdb");

	start_server();

	/* The file.ptr needs the port: it points at /s/files/c.pdb. */
	{
		char kp[128], body[256];

		key_path(&g_key[2], kp, sizeof(kp));
		mkdirs("%s/one/%s", g_root, kp);
		snprintf(p, sizeof(p), "%s/one/%s/file.ptr", g_root, kp);
		snprintf(body, sizeof(body), "PATH:%s/s/files/c.pdb\r\n",
			 g_url);
		put_file(p, body, strlen(body));
	}
	setenv("OPENKD_SYMCACHE", "/nonexistent/should-not-be-used", 1);
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("_NT_SYMBOL_PROXY");
	return 0;
}

static int teardown(void **state)
{
	int i;

	(void)state;
	stop_server();
	for (i = 0; i < NPROG; i++)
		pdbgen_cleanup(&g_prog[i]);
	if (g_dir[0])
		pdbgen_run("rm -rf '%s'", g_dir);
	return 0;
}

/* --- Lookups ------------------------------------------------------------- */

struct res {
	int rc;
	char path[KD_SYMSTORE_PATH_MAX];
	char why[512];
};

static struct res find(const char *pathfmt, const struct kd_symstore_opts *o,
		       const struct kd_symstore_key *k, ...) KD_PRINTF(1, 4);

static struct res find(const char *pathfmt, const struct kd_symstore_opts *o,
		       const struct kd_symstore_key *k, ...)
{
	struct kd_sympath *sp;
	struct res r;
	char text[1024];
	va_list ap;

	va_start(ap, k);
	vsnprintf(text, sizeof(text), pathfmt, ap);
	va_end(ap);
	assert_int_equal(kd_sympath_parse(&sp, text), KD_OK);
	memset(&r, 0, sizeof(r));
	r.rc = kd_symstore_find(sp, o, k, r.path, sizeof(r.path), r.why,
				sizeof(r.why));
	kd_sympath_free(sp);
	return r;
}

static const struct kd_symstore_opts g_fast = { .timeout_ms = 5000 };

static void test_plain_then_offline_from_cache(void **state)
{
	struct kd_symstore_opts off = { .offline = true };
	char want[512], kp[128];
	struct res r;
	int before;

	(void)state;
	r = find("srv*%s/c1*%s/s/one", &g_fast, &g_key[0], g_dir, g_url);
	assert_int_equal(r.rc, KD_OK);
	snprintf(want, sizeof(want), "%s/c1/%s/a.pdb", g_dir,
		 key_path(&g_key[0], kp, sizeof(kp)));
	assert_string_equal(r.path, want);
	assert_true(same_file(r.path, g_prog[0].pdb));
	snprintf(want, sizeof(want), "/s/one/%s/a.pdb", kp);
	assert_true(requested(want));

	/* Offline, the server up: the cache answers, nothing is asked. */
	before = requests();
	r = find("srv*%s/c1*%s/s/one", &off, &g_key[0], g_dir, g_url);
	assert_int_equal(r.rc, KD_OK);
	assert_true(same_file(r.path, g_prog[0].pdb));
	/* A key the cache lacks is a miss offline, still without a request. */
	r = find("srv*%s/c1*%s/s/one", &off, &g_key[1], g_dir, g_url);
	assert_int_equal(r.rc, KD_ENOTFOUND);
	assert_int_equal(requests(), before);
}

/* Is a connection waiting on listening socket @p s? */
static bool pending_connection(int s)
{
	struct pollfd p = { .fd = s, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

static void test_offline_never_connects(void **state)
{
	struct kd_symstore_opts off = { .offline = true, .timeout_ms = 1000 };
	struct kd_symstore_opts on = { .timeout_ms = 1000 };
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	struct kd_symstore_key k = g_key[0];
	struct res r;
	int s;

	(void)state;
	/* A bare listening socket that never answers stands in for the
	 * server: any connect() shows as a pending connection. */
	k.age += 3; /* in no cache */
	s = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s, 8), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &alen), 0);

	r = find("srv*%s/c16*http://127.0.0.1:%d/s", &off, &k, g_dir,
		 ntohs(a.sin_port));
	assert_int_equal(r.rc, KD_ENOTFOUND);
	assert_false(pending_connection(s));

	/* The control: online, the same lookup does connect (and then
	 * times out, as nothing answers). */
	r = find("srv*%s/c16*http://127.0.0.1:%d/s", &on, &k, g_dir,
		 ntohs(a.sin_port));
	assert_int_equal(r.rc, KD_ETIMEOUT);
	assert_true(pending_connection(s));
	close(s);
}

static void test_image_by_stamp_and_size(void **state)
{
	char want[512], kp[128];
	struct res r;

	(void)state;
	r = find("srv*%s/ci*%s/s/one", &g_fast, &g_img, g_dir, g_url);
	assert_int_equal(r.rc, KD_OK);
	snprintf(want, sizeof(want), "%s/ci/%s/prog.exe", g_dir,
		 key_path(&g_img, kp, sizeof(kp)));
	assert_string_equal(r.path, want);
	assert_true(same_file(r.path, g_prog[0].exe));
}

static void test_cab(void **state)
{
	char want[512], kp[128];
	struct res r;

	(void)state;
	r = find("srv*%s/c2*%s/s/one", &g_fast, &g_key[1], g_dir, g_url);
	assert_int_equal(r.rc, KD_OK);
	snprintf(want, sizeof(want), "/s/one/%s/b.pd_",
		 key_path(&g_key[1], kp, sizeof(kp)));
	assert_true(requested(want));
	assert_true(same_file(r.path, g_prog[1].pdb));
}

static void test_fileptr(void **state)
{
	char p[512], kp[128];
	struct res r;

	(void)state;
	r = find("srv*%s/c3*%s/s/one", &g_fast, &g_key[2], g_dir, g_url);
	assert_int_equal(r.rc, KD_OK);
	assert_true(requested("/s/files/c.pdb"));
	assert_true(same_file(r.path, g_prog[2].pdb));

	/* MSG: is a miss that says why. */
	key_path(&g_key[0], kp, sizeof(kp));
	mkdirs("%s/msg/%s", g_root, kp);
	snprintf(p, sizeof(p), "%s/msg/%s/file.ptr", g_root, kp);
	put_file(p, "MSG: NoLongerIndexed", 20);
	r = find("srv*%s/c3m*%s/s/msg", &g_fast, &g_key[0], g_dir, g_url);
	assert_int_equal(r.rc, KD_ENOTFOUND);
	assert_non_null(strstr(r.why, "NoLongerIndexed"));
}

static void test_two_tier(void **state)
{
	char want[512], kp[128];
	struct res r;

	(void)state;
	r = find("srv*%s/c4*%s/s/two", &g_fast, &g_key[0], g_dir, g_url);
	assert_int_equal(r.rc, KD_OK);
	assert_true(requested("/s/two/index2.txt"));
	snprintf(want, sizeof(want), "/s/two/a./%s/a.pdb",
		 key_path(&g_key[0], kp, sizeof(kp)));
	assert_true(requested(want));
	assert_true(same_file(r.path, g_prog[0].pdb));
}

static void test_redirects(void **state)
{
	char c[256];
	struct res r;

	(void)state;
	r = find("srv*%s/c5*%s/redir/one", &g_fast, &g_key[0], g_dir, g_url);
	assert_int_equal(r.rc, KD_OK);
	assert_true(same_file(r.path, g_prog[0].pdb));

	r = find("srv*%s/c5l*%s/loop/one", &g_fast, &g_key[0], g_dir, g_url);
	assert_int_equal(r.rc, KD_EDISCONNECTED);
	assert_non_null(strstr(r.why, "redirect"));
	snprintf(c, sizeof(c), "%s/c5l", g_dir);
	assert_true(no_files(c));
}

static void test_refused(void **state)
{
	const struct kd_symstore_opts slow = { .timeout_ms = 1000 };
	char c[256];
	struct res r;

	(void)state;
	/* The wrong GUID: a mismatch, and the cache stays empty. */
	r = find("srv*%s/c6*%s/s/bad", &g_fast, &g_key[0], g_dir, g_url);
	assert_int_equal(r.rc, KD_EINVAL);
	assert_non_null(strstr(r.why, "mismatched"));
	snprintf(c, sizeof(c), "%s/c6", g_dir);
	assert_true(no_files(c));

	/* An HTML page with 200 is not a PDB. */
	r = find("srv*%s/c7*%s/html/one", &g_fast, &g_key[0], g_dir, g_url);
	assert_int_equal(r.rc, KD_EPROTO);
	assert_non_null(strstr(r.why, "not a PDB"));
	snprintf(c, sizeof(c), "%s/c7", g_dir);
	assert_true(no_files(c));

	/* Half the bytes, then the connection closes. */
	r = find("srv*%s/c8*%s/trunc/one", &g_fast, &g_key[0], g_dir, g_url);
	assert_int_equal(r.rc, KD_EDISCONNECTED);
	snprintf(c, sizeof(c), "%s/c8", g_dir);
	assert_true(no_files(c));

	/* Headers, then silence: the stall timeout ends it. */
	r = find("srv*%s/c9*%s/slow/one", &slow, &g_key[0], g_dir, g_url);
	assert_int_equal(r.rc, KD_ETIMEOUT);
	snprintf(c, sizeof(c), "%s/c9", g_dir);
	assert_true(no_files(c));

	/* A server error, retried, then reported. */
	{
		const struct kd_symstore_opts retry = { .timeout_ms = 5000,
							.retries = 2 };
		int before = requests();

		r = find("srv*%s/c10*%s/e500/one", &retry, &g_key[0], g_dir,
			 g_url);
		assert_int_equal(r.rc, KD_EDISCONNECTED);
		assert_non_null(strstr(r.why, "500"));
		/* index2.txt probe: first try and two retries. */
		assert_int_equal(requests() - before, 3);
	}
}

static void test_negative_cache(void **state)
{
	struct kd_symstore_misses *m;
	struct kd_symstore_opts o = { .timeout_ms = 5000 };
	struct kd_symstore_key k = g_key[0];
	struct res r;
	int before;

	(void)state;
	k.age += 7; /* a key no store has */
	assert_int_equal(kd_symstore_misses_new(&m), KD_OK);
	o.misses = m;
	before = requests();
	r = find("srv*%s/c11*%s/s/one", &o, &k, g_dir, g_url);
	assert_int_equal(r.rc, KD_ENOTFOUND);
	/* index2.txt, name, name_, file.ptr */
	assert_int_equal(requests() - before, 4);
	before = requests();
	r = find("srv*%s/c11*%s/s/one", &o, &k, g_dir, g_url);
	assert_int_equal(r.rc, KD_ENOTFOUND);
	assert_int_equal(requests(), before);
	/* Forgotten on request. */
	kd_symstore_misses_clear(m);
	r = find("srv*%s/c11*%s/s/one", &o, &k, g_dir, g_url);
	assert_int_equal(r.rc, KD_ENOTFOUND);
	assert_true(requests() > before);
	kd_symstore_misses_free(m);
}

static void test_cancel(void **state)
{
	volatile int stop = 1;
	struct kd_symstore_opts o = { .timeout_ms = 5000, .cancel = &stop };
	struct res r;
	int before = requests();

	(void)state;
	r = find("srv*%s/c12*%s/slow/one", &o, &g_key[0], g_dir, g_url);
	assert_int_equal(r.rc, KD_EAGAIN);
	assert_int_equal(requests(), before);
}

static void test_chains_and_folders(void **state)
{
	char a[512], b[512], kp[128], p[512];
	struct res r;

	(void)state;
	key_path(&g_key[0], kp, sizeof(kp));
	/* Cascade: the store's file is copied into both caches. */
	r = find("srv*%s/t1*%s/t2*%s/s/one", &g_fast, &g_key[0], g_dir, g_dir,
		 g_url);
	assert_int_equal(r.rc, KD_OK);
	snprintf(a, sizeof(a), "%s/t1/%s/a.pdb", g_dir, kp);
	snprintf(b, sizeof(b), "%s/t2/%s/a.pdb", g_dir, kp);
	assert_string_equal(r.path, a);
	assert_true(same_file(a, g_prog[0].pdb));
	assert_true(same_file(b, g_prog[0].pdb));

	/* A hit in the second cache is copied into the first. */
	unlink(a);
	r = find("srv*%s/t1*%s/t2*%s/s/html", &g_fast, &g_key[0], g_dir, g_dir,
		 g_url);
	assert_int_equal(r.rc, KD_OK);
	assert_string_equal(r.path, a);
	assert_true(same_file(a, g_prog[0].pdb));

	/* A plain folder with the wrong PDB, then a good one: the good one
	 * wins; alone, the wrong one is a mismatch. */
	mkdirs("%s/flat1", g_dir);
	mkdirs("%s/flat2/pdb", g_dir);
	snprintf(p, sizeof(p), "%s/flat1/a.pdb", g_dir);
	assert_int_equal(pdbgen_run("cp '%s' '%s'", g_prog[1].pdb, p), 0);
	snprintf(p, sizeof(p), "%s/flat2/pdb/a.pdb", g_dir);
	assert_int_equal(pdbgen_run("cp '%s' '%s'", g_prog[0].pdb, p), 0);
	r = find("%s/flat1;%s/flat2", &g_fast, &g_key[0], g_dir, g_dir);
	assert_int_equal(r.rc, KD_OK);
	assert_string_equal(r.path, p);
	r = find("%s/flat1", &g_fast, &g_key[0], g_dir);
	assert_int_equal(r.rc, KD_EINVAL);

	/* A plain folder laid out as a store: found there; a key it lacks
	 * is a plain miss (a.pdb is a folder there, not a bad file). */
	r = find("%s/one", &g_fast, &g_key[0], g_root);
	assert_int_equal(r.rc, KD_OK);
	assert_true(same_file(r.path, g_prog[0].pdb));
	{
		struct kd_symstore_key k = g_key[0];

		k.age += 9;
		r = find("%s/one", &g_fast, &k, g_root);
		assert_int_equal(r.rc, KD_ENOTFOUND);
	}

	/* cache*dir caches what the folder to its right found. */
	r = find("cache*%s/cc;%s/flat2", &g_fast, &g_key[0], g_dir, g_dir);
	assert_int_equal(r.rc, KD_OK);
	snprintf(a, sizeof(a), "%s/cc/%s/a.pdb", g_dir, kp);
	assert_string_equal(r.path, a);
	assert_true(same_file(a, g_prog[0].pdb));

	/* A local folder store behind a cache: its CAB is expanded into
	 * the cache, the store itself is not written to. */
	r = find("srv*%s/t3*%s/one", &g_fast, &g_key[1], g_dir, g_root);
	assert_int_equal(r.rc, KD_OK);
	assert_true(same_file(r.path, g_prog[1].pdb));
	snprintf(a, sizeof(a), "%s/t3/%s/b.pdb", g_dir,
		 key_path(&g_key[1], kp, sizeof(kp)));
	assert_string_equal(r.path, a);
	snprintf(p, sizeof(p), "%s/one/%s/b.pdb", g_root, kp);
	assert_int_equal(access(p, F_OK), -1);
}

struct lines {
	char text[8192];
	volatile int *cancel_on_get; /* set when an HTTPGET line shows */
};

static void collect(void *ctx, const char *line)
{
	struct lines *l = ctx;
	size_t n = strlen(l->text);

	snprintf(l->text + n, sizeof(l->text) - n, "%s\n", line);
	if (l->cancel_on_get && strstr(line, "HTTPGET") &&
	    strstr(line, "/slow/"))
		*l->cancel_on_get = 1;
}

static void test_progress_and_noisy_log(void **state)
{
	struct lines l = { .text = "" };
	struct kd_symstore_opts o = { .timeout_ms = 5000,
				      .log = collect,
				      .log_ctx = &l };
	struct kd_symstore_key k = g_key[0];
	char p[512], kp[128];
	size_t big = 2u << 20;
	uint8_t *junk = calloc(1, big);
	struct res r;

	(void)state;
	/* 2 MiB that is no PDB: progress lines, then refused. */
	assert_non_null(junk);
	k.name = "big.pdb";
	key_path(&k, kp, sizeof(kp));
	mkdirs("%s/one/%s", g_root, kp);
	snprintf(p, sizeof(p), "%s/one/%s/big.pdb", g_root, kp);
	put_file(p, junk, big);
	free(junk);
	r = find("srv*%s/c14*%s/s/one", &o, &k, g_dir, g_url);
	assert_int_equal(r.rc, KD_EPROTO);
	assert_non_null(strstr(l.text, "SYMSRV:  HTTPGET: "));
	assert_non_null(strstr(l.text, "100% of 2097152 bytes"));
	assert_non_null(strstr(l.text, "refused"));
	snprintf(p, sizeof(p), "%s/c14", g_dir);
	assert_true(no_files(p));
}

/*
 * A store copied from Windows, where names ignore case: the PDB's folder
 * in capitals, the GUID folder in lower case, the file in capitals.
 */
static void test_case_of_names(void **state)
{
	char kp[128], lower[128], p[512];
	const char *slash;
	struct res r;
	size_t i;

	(void)state;
	key_path(&g_key[0], kp, sizeof(kp));
	/* kp is "a.pdb/<GUID><age>": lower-case the key folder. */
	slash = strchr(kp, '/');
	assert_non_null(slash);
	snprintf(lower, sizeof(lower), "%s", slash + 1);
	for (i = 0; lower[i]; i++)
		lower[i] = (char)tolower((unsigned char)lower[i]);
	mkdirs("%s/winstore/A.PDB/%s", g_dir, lower);
	snprintf(p, sizeof(p), "%s/winstore/A.PDB/%s/A.PDB", g_dir, lower);
	assert_int_equal(pdbgen_run("cp '%s' '%s'", g_prog[0].pdb, p), 0);
	r = find("srv*%s/winstore", &g_fast, &g_key[0], g_dir);
	assert_int_equal(r.rc, KD_OK);
	assert_string_equal(r.path, p);
	assert_true(same_file(r.path, g_prog[0].pdb));
	/* Another key is still a miss, not a near match. */
	r = find("srv*%s/winstore", &g_fast, &g_key[1], g_dir);
	assert_int_equal(r.rc, KD_ENOTFOUND);
}

/*
 * Through a proxy (_NT_SYMBOL_PROXY as WinDbg reads it, or libcurl's
 * http_proxy): the store's host is never resolved, the proxy is asked
 * for the whole URL.
 */
static void test_proxy(void **state)
{
	char want[512], kp[128], proxy[64];
	const char *port = strrchr(g_url, ':') + 1;
	struct res r;

	(void)state;
	unsetenv("no_proxy");
	unsetenv("NO_PROXY");
	snprintf(proxy, sizeof(proxy), "127.0.0.1:%s", port);
	setenv("_NT_SYMBOL_PROXY", proxy, 1);
	r = find("srv*%s/cproxy*http://symbols.invalid/s/one", &g_fast,
		 &g_key[0], g_dir);
	unsetenv("_NT_SYMBOL_PROXY");
	assert_int_equal(r.rc, KD_OK);
	assert_true(same_file(r.path, g_prog[0].pdb));
	snprintf(want, sizeof(want), "http://symbols.invalid/s/one/%s/a.pdb",
		 key_path(&g_key[0], kp, sizeof(kp)));
	assert_true(requested(want));
	/* libcurl's own variable works the same way. */
	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%s", port);
	setenv("http_proxy", proxy, 1);
	r = find("srv*%s/cproxy2*http://symbols2.invalid/s/one", &g_fast,
		 &g_key[0], g_dir);
	unsetenv("http_proxy");
	assert_int_equal(r.rc, KD_OK);
	snprintf(want, sizeof(want), "http://symbols2.invalid/s/one/%s/a.pdb",
		 kp);
	assert_true(requested(want));
}

static void test_cancel_while_stalled(void **state)
{
	volatile int stop = 0;
	struct lines l = { .text = "", .cancel_on_get = &stop };
	struct kd_symstore_opts o = { .timeout_ms = 60000,
				      .log = collect,
				      .log_ctx = &l,
				      .cancel = &stop };
	struct res r;

	(void)state;
	/* Ctrl+C during a body that never comes: cancelled, not timed out
	 * (the timeout is a minute). */
	r = find("srv*%s/c15*%s/slow/one", &o, &g_key[0], g_dir, g_url);
	assert_int_equal(r.rc, KD_EAGAIN);
	assert_non_null(strstr(r.why, "cancelled"));
}

/* Last: the server goes away, the cache still answers. */
static void test_server_stopped(void **state)
{
	struct res r;

	(void)state;
	stop_server();
	r = find("srv*%s/c1*%s/s/one", &g_fast, &g_key[0], g_dir, g_url);
	assert_int_equal(r.rc, KD_OK);
	assert_true(same_file(r.path, g_prog[0].pdb));
	/* A miss now is a network error, said as such. */
	r = find("srv*%s/c13*%s/s/one", &g_fast, &g_key[0], g_dir, g_url);
	assert_int_equal(r.rc, KD_EDISCONNECTED);
	assert_true(r.why[0] != 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_then_offline_from_cache),
		cmocka_unit_test(test_offline_never_connects),
		cmocka_unit_test(test_image_by_stamp_and_size),
		cmocka_unit_test(test_cab),
		cmocka_unit_test(test_fileptr),
		cmocka_unit_test(test_two_tier),
		cmocka_unit_test(test_redirects),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_negative_cache),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_chains_and_folders),
		cmocka_unit_test(test_progress_and_noisy_log),
		cmocka_unit_test(test_case_of_names),
		cmocka_unit_test(test_proxy),
		cmocka_unit_test(test_cancel_while_stalled),
		cmocka_unit_test(test_server_stopped),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
