/* SPDX-License-Identifier: MIT */
/*
 * Soak: the servers under a flood of hostile connections while genuine
 * clients work.  (1) kdsrv with 4 smart clients, each reading memory of
 * its own kdsim through it; (2) `kd -server` with 4 `kd -remote` clients
 * running `dd` on pages not read yet, in turn on the shared session.  Quiet and hostile phases
 * alternate; in a hostile phase a thread opens ~1,000 connections a
 * second from rotating loopback addresses (127.0.3.x): silent ones held
 * open, handshakes reset at once, wrong passwords, garbage.
 *
 * Figures: the genuine clients' throughput in each hostile phase against
 * the quiet phase before it (goal >= 0.8), min/median/max over the
 * rounds; the server's RSS before the first hostile phase, after it and
 * after the last (flat once warm), descriptors and threads (flat).  --quick: short phases, 2
 * rounds (what ctest runs).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include "../integration/kd_proc.h"
#include "../integration/kdsim_client.h"
#include "../integration/kdsrv_proc.h"
#include "../integration/peer_tools.h"

#include <kd/rchan.h>

#include "../../rchan/src/rchan_int.h"

#define BASE_VA 0xfffff80000400000ull
#define PASSWORD "soak-pw"
#define CLIENTS 4
#define HELD 200 /* silent connections held at once */

static uint64_t now_ms(void)
{
	return kp_now_ms();
}

struct figures {
	long rss_kb, fds, threads;
};

static void sample(pid_t pid, struct figures *f)
{
	f->rss_kb = pt_status(pid, "VmRSS");
	f->fds = pt_fds(pid);
	f->threads = pt_status(pid, "Threads");
}

/* ------------------------------------------------------------------ */
/* The hostile thread                                                  */
/* ------------------------------------------------------------------ */

struct hostile {
	unsigned port;
	const char *service;
	volatile bool on; /* attacking now */
	volatile bool quit;
	unsigned long made; /* connections made while on */
	pthread_t th;
};

static void rst_close(int fd)
{
	struct linger lg = { 1, 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static void *hostile_main(void *arg)
{
	struct hostile *h = arg;
	int held[HELD];
	unsigned n = 0, slot = 0;
	uint64_t next = now_ms();

	for (int i = 0; i < HELD; i++)
		held[i] = -1;
	while (!h->quit) {
		char src[32];
		int fd;

		if (!h->on) {
			for (int i = 0; i < HELD; i++) {
				if (held[i] >= 0)
					close(held[i]);
				held[i] = -1;
			}
			usleep(5000);
			next = now_ms();
			continue;
		}
		snprintf(src, sizeof(src), "127.0.3.%u", 2 + n % 200);
		switch (n++ % 4) {
		case 0: /* silent, held until its place is needed */
			fd = pt_tcp_from(src, h->port);
			if (held[slot] >= 0)
				close(held[slot]);
			held[slot] = fd;
			slot = (slot + 1) % HELD;
			break;
		case 1: /* reset at once */
			fd = pt_tcp_from(src, h->port);
			if (fd >= 0)
				rst_close(fd);
			break;
		case 2: { /* a wrong password */
			struct kd_rchan *ch = NULL;
			char cs[128];

			snprintf(cs, sizeof(cs),
				 "tcp:server=127.0.0.1,port=%u,password=nope",
				 h->port);
			kd_rchan__source_ipv4 = src;
			if (kd_rconnect(&ch, cs, h->service, 2000) == KD_OK)
				kd_rchan_close(ch);
			kd_rchan__source_ipv4 = NULL;
			break;
		}
		default: { /* garbage */
			static const char junk[] =
				"GET / HTTP/1.0\r\n\r\n\xff\xfe\x00KDRC\x01";

			fd = pt_tcp_from(src, h->port);
			if (fd >= 0) {
				(void)send(fd, junk, sizeof(junk),
					   MSG_NOSIGNAL);
				close(fd);
			}
			break;
		}
		}
		h->made++;
		/* ~1,000 a second */
		next += 1;
		if (next > now_ms())
			usleep((useconds_t)(next - now_ms()) * 1000);
		else if (now_ms() - next > 100)
			next = now_ms(); /* behind: do not burst */
	}
	for (int i = 0; i < HELD; i++) {
		if (held[i] >= 0)
			close(held[i]);
	}
	kd_rchan_thread_done();
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Phases                                                              */
/* ------------------------------------------------------------------ */

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct work {
	volatile unsigned long done; /* units of work, all clients */
	volatile bool stop;
};

typedef void (*pump_fn)(void *ctx, int ms);

/*
 * Alternate quiet and hostile phases of @p phase_ms, @p rounds times;
 * @p pump keeps a server's console drained meanwhile.
 */
static void phases(const char *what, struct work *w, struct hostile *h,
		   pid_t server, int phase_ms, int rounds, pump_fn pump,
		   void *ctx)
{
	double ratio[8];
	struct figures before, warm, after;
	unsigned long made = 0;

	for (int r = 0; r < rounds; r++) {
		unsigned long q0, q1, h0, h1;
		uint64_t t0, t1, t2;

		q0 = w->done;
		t0 = now_ms();
		while (now_ms() - t0 < (uint64_t)phase_ms)
			pump(ctx, 20);
		q1 = w->done;
		t1 = now_ms();
		if (r == 0)
			sample(server, &before);
		h->made = 0;
		h->on = true;
		h0 = w->done;
		while (now_ms() - t1 < (uint64_t)phase_ms)
			pump(ctx, 20);
		h1 = w->done;
		t2 = now_ms();
		h->on = false;
		made += h->made;
		if (r == 0)
			sample(server, &warm);
		ratio[r] = ((double)(h1 - h0) / (double)(t2 - t1)) /
			   ((double)(q1 - q0) / (double)(t1 - t0));
		printf("  %s round %d: quiet %.1f/s, hostile %.1f/s "
		       "(%lu connections, %.0f/s): %.3f\n",
		       what, r, (q1 - q0) * 1000.0 / (double)(t1 - t0),
		       (h1 - h0) * 1000.0 / (double)(t2 - t1), h->made,
		       h->made * 1000.0 / (double)(t2 - t1), ratio[r]);
	}
	/* Let the last hostile connections wind down before sampling. */
	for (int i = 0; i < 50; i++)
		pump(ctx, 20);
	sample(server, &after);
	qsort(ratio, (size_t)rounds, sizeof(ratio[0]), cmp_d);
	printf("%s: genuine throughput under ~1,000 hostile connections/s "
	       "against quiet, min/median/max %.3f/%.3f/%.3f (goal >= 0.8); "
	       "%lu hostile connections\n",
	       what, ratio[0], ratio[rounds / 2], ratio[rounds - 1], made);
	printf("%s: server RSS %ld KiB before the first hostile phase, %ld "
	       "after it, %ld after the last; fds %ld -> %ld, threads %ld -> "
	       "%ld\n",
	       what, before.rss_kb, warm.rss_kb, after.rss_kb, before.fds,
	       after.fds, before.threads, after.threads);
}

/* ------------------------------------------------------------------ */
/* kdsrv                                                               */
/* ------------------------------------------------------------------ */

struct reader {
	struct kc c;
	struct work *w;
	pthread_t th;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	static _Thread_local uint8_t buf[KD_MAX_TRANSFER];
	unsigned i = 0;

	while (!r->w->stop) {
		if (kc_read(&r->c, KD_API_READ_VIRTUAL_MEMORY,
			    BASE_VA + (uint64_t)(i++ % 256) * sizeof(buf), buf,
			    sizeof(buf)) != sizeof(buf))
			kc_die("a genuine read failed");
		__atomic_add_fetch(&r->w->done, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void sleep_pump(void *ctx, int ms)
{
	(void)ctx;
	usleep((useconds_t)ms * 1000);
}

static void soak_kdsrv(int phase_ms, int rounds)
{
	const char *args[] = { "-k", NULL, "--print-ms", "0", NULL };
	struct reader rd[CLIENTS];
	struct kc sim[CLIENTS];
	char k[CLIENTS][512], sock[CLIENTS][400], spec[96];
	struct hostile h;
	struct work w;
	struct ks srv;
	unsigned base = ks_port_base() + 400;

	memset(&w, 0, sizeof(w));
	for (int i = 0; i < CLIENTS; i++) {
		snprintf(sock[i], sizeof(sock[i]),
			 "/tmp/openkd-soak-%d-%d.sock", (int)getpid(), i);
		unlink(sock[i]);
		snprintf(k[i], sizeof(k[i]), "com:pipe,port=%.380s", sock[i]);
		args[1] = k[i];
		kc_spawn(&sim[i], args);
	}
	snprintf(spec, sizeof(spec), "tcp:port=%u:%u,password=%s", base,
		 base + 50, PASSWORD);
	if (!ks_start(&srv, spec, ks_allow_pipes("soak", NULL)))
		kc_die("kdsrv did not start");
	for (int i = 0; i < CLIENTS; i++) {
		char via[1280];

		snprintf(via, sizeof(via),
			 "kdsrv:server=@{tcp:server=127.0.0.1,port=%u,"
			 "password=%s},trans=@{%.500s}",
			 srv.port, PASSWORD, k[i]);
		memset(&rd[i], 0, sizeof(rd[i]));
		rd[i].c.pid = -1;
		rd[i].w = &w;
		kc_attach(&rd[i].c, via);
		if (kd_link_sync(rd[i].c.link, KC_TIMEOUT_MS) != KD_OK ||
		    kd_link_break_in(rd[i].c.link) != KD_OK)
			kc_die("attach through kdsrv failed");
		kc_wait_stop(&rd[i].c);
		if (pthread_create(&rd[i].th, NULL, reader_main, &rd[i]))
			kc_die("no thread");
	}
	memset(&h, 0, sizeof(h));
	h.port = srv.port;
	h.service = KD_RCHAN_SERVICE_KDSRV;
	if (pthread_create(&h.th, NULL, hostile_main, &h))
		kc_die("no thread");
	phases("kdsrv (4 smart clients reading 3,944-byte pieces)", &w, &h,
	       srv.pid, phase_ms, rounds, sleep_pump, NULL);
	h.quit = true;
	pthread_join(h.th, NULL);
	w.stop = true;
	for (int i = 0; i < CLIENTS; i++) {
		pthread_join(rd[i].th, NULL);
		kd_link_close(rd[i].c.link);
	}
	kill(srv.pid, SIGTERM);
	if (ks_wait(&srv, 20000) != 0)
		kc_die("kdsrv did not end cleanly");
	ks_stop(&srv);
	for (int i = 0; i < CLIENTS; i++) {
		kc_stop(&sim[i]);
		unlink(sock[i]);
	}
}

/* ------------------------------------------------------------------ */
/* kd -server                                                          */
/* ------------------------------------------------------------------ */

struct remote {
	struct kp p;
	struct work *w;
	unsigned first; /* its first page */
	pthread_t th;
};

static void *remote_main(void *arg)
{
	struct remote *r = arg;
	unsigned i = r->first;

	while (!r->w->stop) {
		/* A page not read yet in this stop (16 MiB round: more than
		 * the memory cache holds), so each command reads the target;
		 * one line of output, so the shared console stays small. */
		uint64_t va = BASE_VA + (uint64_t)(i++ % 4096) * 0x1000;
		char c[64], want[32];
		char *out;

		snprintf(c, sizeof(c), "dd %llx L4", (unsigned long long)va);
		snprintf(want, sizeof(want), "%08x`%08x", (unsigned)(va >> 32),
			 (unsigned)va);
		out = kp_cmd(&r->p, c, 30000);
		if (!out || !strstr(out, want))
			kc_die("a genuine client's command failed: %s",
			       out ? out : "(no answer)");
		free(out);
		__atomic_add_fetch(&r->w->done, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void kp_pump_fn(void *ctx, int ms)
{
	struct kp *p = ctx;

	(void)kp_pump(p, ms);
	/* Keep only the tail: the console prints for every client. */
	if (p->out.len > (1u << 20)) {
		p->out.len = 0;
		p->pos = 0;
		p->out.data[0] = '\0';
	}
}

static void soak_dbgsrv(int phase_ms, int rounds)
{
	char sock[96], k[160], spec[96], cs[160];
	const char *sargs[] = { "-k", k, "--print-ms", "0", NULL };
	const char *kargs[] = { "-server", spec, "-k", NULL, "-bonc", NULL };
	const char *rargs[] = { "-remote", cs, NULL };
	struct remote rm[CLIENTS];
	struct hostile h;
	struct work w;
	struct kc sim;
	struct kp srv;
	unsigned lo = 32000 + (unsigned)(getpid() % 2000) * 10;
	const char *pp;
	char *banner;
	unsigned port;

	memset(&w, 0, sizeof(w));
	snprintf(sock, sizeof(sock), "/tmp/openkd-soakd-%d.sock",
		 (int)getpid());
	unlink(sock);
	snprintf(k, sizeof(k), "com:pipe,port=%s", sock);
	kc_spawn(&sim, sargs);
	snprintf(spec, sizeof(spec), "tcp:port=%u:%u,password=%s", lo, lo + 9,
		 PASSWORD);
	kargs[3] = sim.host_connstr;
	kp_start(&srv, kargs);
	srv.marker = 90000;
	banner = kp_wait_prompt(&srv, 30000);
	if (!banner || !(pp = strstr(banner, ":Port=")))
		kc_die("kd -server did not start");
	port = (unsigned)strtoul(pp + 6, NULL, 10);
	free(banner);
	snprintf(cs, sizeof(cs), "tcp:server=127.0.0.1,port=%u,password=%s",
		 port, PASSWORD);
	for (int i = 0; i < CLIENTS; i++) {
		char *out;

		memset(&rm[i], 0, sizeof(rm[i]));
		rm[i].w = &w;
		rm[i].first = (unsigned)i * 1024;
		kp_start(&rm[i].p, rargs);
		rm[i].p.marker = 1000u * (unsigned)(i + 1);
		out = kp_wait_prompt(&rm[i].p, 30000);
		if (!out)
			kc_die("a kd -remote client got no prompt");
		free(out);
		kp_pump(&srv, 0);
	}
	for (int i = 0; i < CLIENTS; i++) {
		if (pthread_create(&rm[i].th, NULL, remote_main, &rm[i]))
			kc_die("no thread");
	}
	memset(&h, 0, sizeof(h));
	h.port = port;
	h.service = KD_RCHAN_SERVICE_DBGSRV;
	if (pthread_create(&h.th, NULL, hostile_main, &h))
		kc_die("no thread");
	phases("kd -server (4 kd -remote clients running dd on fresh pages)",
	       &w, &h, srv.pid, phase_ms, rounds, kp_pump_fn, &srv);
	h.quit = true;
	pthread_join(h.th, NULL);
	w.stop = true;
	for (int i = 0; i < CLIENTS; i++) {
		while (pthread_tryjoin_np(rm[i].th, NULL) != 0)
			kp_pump_fn(&srv, 20);
		kp_send(&rm[i].p, ".remote_exit\n");
		(void)kp_finish(&rm[i].p, 20000);
		kp_free(&rm[i].p);
	}
	kp_send(&srv, "q\n");
	if (kp_finish(&srv, 30000) != 0)
		kc_die("kd -server did not end cleanly");
	kp_free(&srv);
	kc_stop(&sim);
	unlink(sock);
}

int main(int argc, char **argv)
{
	bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
	int phase_ms = quick ? 1500 : 5000, rounds = quick ? 2 : 5;

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	soak_kdsrv(phase_ms, rounds);
	soak_dbgsrv(phase_ms, rounds);
	return 0;
}
