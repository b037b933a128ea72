/* SPDX-License-Identifier: MIT */
/*
 * kdsrv benchmark.  (1) Bulk memory read (16 MiB, 4 MiB with --quick) from
 * a kdsim over a serial unix socket, once direct (kd_link over com:) and
 * once through a kdsrv process (kd_link over kdsrv:), in the same run:
 * ratio = direct time / kdsrv time (goal >= 0.9); the same over KDNET
 * (UDP loopback, a second kdsim).  (2) Round trips per KD
 * request across the client-server hop: a TCP proxy thread in this
 * process delays every chunk by D ms each way; small requests through it
 * take (time per request) / (2 D) hop round trips (goal: 1, not 2).
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <dirent.h>
#include <pthread.h>
#include <sys/socket.h>

#include "../integration/kdsim_client.h"
#include "../integration/kdsrv_proc.h"

#define BASE_VA 0xfffff80000400000ull
#define CHUNK KD_MAX_TRANSFER /* largest read one request carries */

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Attach over @p connstr (not spawning anything) and stop the target. */
static void attach(struct kc *c, const char *connstr)
{
	memset(c, 0, sizeof(*c));
	c->pid = -1;
	kc_attach(c, connstr);
	if (kd_link_sync(c->link, KC_TIMEOUT_MS) != KD_OK)
		kc_die("sync over %s failed: %s", connstr,
		       kd_error_last()->message);
	if (kd_link_break_in(c->link) != KD_OK)
		kc_die("break-in failed");
	kc_wait_stop(c);
}

static void detach(struct kc *c)
{
	kd_link_close(c->link);
	c->link = NULL;
}

/*
 * CPU time (ns) the threads of process @p pid ran so far, from
 * /proc/PID/task/TID/schedstat (its first field); 0 when unreadable.
 */
static uint64_t cpu_ns(pid_t pid)
{
	char path[64];
	struct dirent *e;
	uint64_t sum = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char f[128];
		unsigned long long ns = 0;
		FILE *fp;

		if (e->d_name[0] == '.')
			continue;
		snprintf(f, sizeof(f), "%s/%.32s/schedstat", path, e->d_name);
		fp = fopen(f, "r");
		if (!fp)
			continue;
		if (fscanf(fp, "%llu", &ns) == 1)
			sum += ns;
		fclose(fp);
	}
	closedir(d);
	return sum;
}

/* CPU per request of the target and of kdsrv, best round kept. */
struct cpu_cost {
	double sim_direct_us, sim_relay_us, srv_us;
};

/* Read @p total bytes in CHUNK pieces; returns microseconds. */
static uint64_t bulk_read(struct kc *c, size_t total, uint32_t *crc)
{
	static uint8_t buf[CHUNK];
	uint64_t t0 = now_us();
	uint32_t h = 2166136261u;

	for (size_t off = 0; off < total; off += CHUNK) {
		uint32_t n = total - off < CHUNK ? (uint32_t)(total - off) :
						   CHUNK;

		if (kc_read(c, KD_API_READ_VIRTUAL_MEMORY, BASE_VA + off, buf,
			    n) != n)
			kc_die("read at +%zx failed", off);
		for (uint32_t i = 0; i < n; i++)
			h = (h ^ buf[i]) * 16777619u;
	}
	*crc = h;
	return now_us() - t0;
}

/* --- a TCP proxy that delays every chunk by delay_ms each way --- */

struct chunk {
	uint64_t due_us;
	size_t len;
	uint8_t data[16384];
};

struct pipe_dir {
	int from, to;
	int delay_ms;
	struct chunk q[64];
	unsigned head, count;
};

static void *pump_dir(void *arg)
{
	struct pipe_dir *d = arg;

	for (;;) {
		uint64_t now = now_us();
		int timeout = -1;
		struct pollfd p = { d->from, POLLIN, 0 };

		while (d->count && d->q[d->head].due_us <= now) {
			struct chunk *ch = &d->q[d->head];

			if (write(d->to, ch->data, ch->len) != (ssize_t)ch->len)
				return NULL;
			d->head = (d->head + 1) % 64;
			d->count--;
		}
		if (d->count)
			timeout = (int)((d->q[d->head].due_us - now + 999) /
					1000);
		if (d->count == 64)
			p.events = 0; /* full: only wait for the head */
		if (poll(&p, 1, timeout) < 0 && errno != EINTR)
			return NULL;
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			struct chunk *ch = &d->q[(d->head + d->count) % 64];
			ssize_t r = read(d->from, ch->data, sizeof(ch->data));

			if (r <= 0) {
				shutdown(d->to, SHUT_WR);
				return NULL;
			}
			ch->len = (size_t)r;
			ch->due_us = now_us() + (uint64_t)d->delay_ms * 1000u;
			d->count++;
		}
	}
}

struct proxy {
	int lfd;
	unsigned port;	   /* where clients connect */
	unsigned upstream; /* kdsrv */
	int delay_ms;
	struct pipe_dir up, down;
};

static void *proxy_main(void *arg)
{
	struct proxy *px = arg;
	struct sockaddr_in a;
	pthread_t t1, t2;
	int one = 1;
	int cfd, sfd;

	cfd = accept(px->lfd, NULL, NULL);
	if (cfd < 0)
		return NULL;
	sfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)px->upstream);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(sfd, (struct sockaddr *)&a, sizeof(a)) < 0)
		kc_die("proxy: connect: %s", strerror(errno));
	setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	px->up = (struct pipe_dir){ .from = cfd,
				    .to = sfd,
				    .delay_ms = px->delay_ms };
	px->down = (struct pipe_dir){ .from = sfd,
				      .to = cfd,
				      .delay_ms = px->delay_ms };
	pthread_create(&t1, NULL, pump_dir, &px->up);
	pthread_create(&t2, NULL, pump_dir, &px->down);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	close(cfd);
	close(sfd);
	return NULL;
}

static void proxy_start(struct proxy *px, pthread_t *tid)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);

	px->lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(px->lfd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(px->lfd, 1) < 0 ||
	    getsockname(px->lfd, (struct sockaddr *)&a, &al) < 0)
		kc_die("proxy: %s", strerror(errno));
	px->port = ntohs(a.sin_port);
	pthread_create(tid, NULL, proxy_main, px);
}

static void report(const char *what, size_t total, uint64_t direct_us,
		   uint64_t relay_us, const struct cpu_cost *cc)
{
	double reqs = (double)((total + CHUNK - 1) / CHUNK);

	printf("bulk read %zu KiB over %s: direct %.1f MB/s (%.1f us per "
	       "request), through kdsrv %.1f MB/s (%.1f us); ratio %.3f "
	       "(goal >= 0.9)\n",
	       total >> 10, what, (double)total / (double)direct_us,
	       (double)direct_us / reqs, (double)total / (double)relay_us,
	       (double)relay_us / reqs, (double)direct_us / (double)relay_us);
	printf("  CPU per request: target %.1f us direct, %.1f us relayed; "
	       "kdsrv %.1f us\n",
	       cc->sim_direct_us, cc->sim_relay_us, cc->srv_us);
}

/*
 * Serial: direct and through kdsrv to one kdsim, alternating, best of
 * @p rounds each; kdsrv is restarted after each relayed round because it
 * keeps the link (the unix socket) for the next client.
 */
static void compare_com(const struct kc *sim, const char *direct,
			struct ks *srv, const char *spec, const char *trans,
			const char *what, size_t total, int rounds)
{
	double reqs = (double)((total + CHUNK - 1) / CHUNK);
	struct cpu_cost cc = { 1e30, 1e30, 1e30 };
	char via[512];
	struct kc c;
	uint64_t direct_us = UINT64_MAX, relay_us = UINT64_MAX;
	uint32_t h1, h2;

	for (int round = 0; round < rounds; round++) {
		uint64_t t, s0, v0;
		double x;

		attach(&c, direct);
		s0 = cpu_ns(sim->pid);
		t = bulk_read(&c, total, &h1);
		x = (double)(cpu_ns(sim->pid) - s0) / 1000.0 / reqs;
		if (x < cc.sim_direct_us)
			cc.sim_direct_us = x;
		detach(&c);
		if (t < direct_us)
			direct_us = t;
		snprintf(via, sizeof(via),
			 "kdsrv:server=@{tcp:server=127.0.0.1,port=%u},"
			 "trans=@{%s}",
			 srv->port, trans);
		attach(&c, via);
		s0 = cpu_ns(sim->pid);
		v0 = cpu_ns(srv->pid);
		t = bulk_read(&c, total, &h2);
		x = (double)(cpu_ns(sim->pid) - s0) / 1000.0 / reqs;
		if (x < cc.sim_relay_us)
			cc.sim_relay_us = x;
		x = (double)(cpu_ns(srv->pid) - v0) / 1000.0 / reqs;
		if (x < cc.srv_us)
			cc.srv_us = x;
		detach(&c);
		if (t < relay_us)
			relay_us = t;
		if (h1 != h2)
			kc_die("the bytes read through kdsrv differ");
		kill(srv->pid, SIGTERM);
		if (ks_wait(srv, 5000) != 0)
			kc_die("kdsrv did not end cleanly");
		ks_stop(srv);
		if (!ks_start(srv, spec, ks_allow_pipes("benchkdsrv", NULL)))
			kc_die("kdsrv did not restart");
	}
	report(what, total, direct_us, relay_us, &cc);
}

/*
 * KDNET: a KDNET target keeps its session with the first host, so two
 * kdsims booted alike: one read directly over one link kept for every
 * round, one through kdsrv, which keeps its link between its clients.
 */
static void compare_net(const struct kc *dsim, const struct kc *rsim,
			const char *direct, const char *trans, struct ks *srv,
			size_t total, int rounds)
{
	double reqs = (double)((total + CHUNK - 1) / CHUNK);
	struct cpu_cost cc = { 1e30, 1e30, 1e30 };
	char via[512];
	struct kc d, c;
	uint64_t direct_us = UINT64_MAX, relay_us = UINT64_MAX;
	uint32_t h1, h2;

	attach(&d, direct);
	snprintf(via, sizeof(via),
		 "kdsrv:server=@{tcp:server=127.0.0.1,port=%u},trans=@{%s}",
		 srv->port, trans);
	for (int round = 0; round < rounds; round++) {
		uint64_t s0 = cpu_ns(dsim->pid), v0;
		uint64_t t = bulk_read(&d, total, &h1);
		double x = (double)(cpu_ns(dsim->pid) - s0) / 1000.0 / reqs;

		if (x < cc.sim_direct_us)
			cc.sim_direct_us = x;
		if (t < direct_us)
			direct_us = t;
		attach(&c, via);
		s0 = cpu_ns(rsim->pid);
		v0 = cpu_ns(srv->pid);
		t = bulk_read(&c, total, &h2);
		x = (double)(cpu_ns(rsim->pid) - s0) / 1000.0 / reqs;
		if (x < cc.sim_relay_us)
			cc.sim_relay_us = x;
		x = (double)(cpu_ns(srv->pid) - v0) / 1000.0 / reqs;
		if (x < cc.srv_us)
			cc.srv_us = x;
		detach(&c);
		if (t < relay_us)
			relay_us = t;
		if (h1 != h2)
			kc_die("the bytes read through kdsrv differ");
	}
	detach(&d);
	report("KDNET (UDP loopback)", total, direct_us, relay_us, &cc);
}

int main(int argc, char **argv)
{
	bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
	size_t total = quick ? 4u << 20 : 16u << 20;
	int delay_ms = 20, nreq = quick ? 8 : 40, rounds = quick ? 2 : 3;
	char sock[96], k[160], spec[64], via[512], trans[160];
	const char *args[] = { "-k", k, "--print-ms", "0", NULL };
	struct kc sim, nsim, nsim2, c;
	struct ks srv;
	struct proxy px;
	pthread_t ptid;
	uint64_t t0, per_req_us;
	unsigned base = ks_port_base() + 700;
	unsigned nport = base + 60;

	signal(SIGPIPE, SIG_IGN);
	snprintf(sock, sizeof(sock), "/tmp/openkd-benchkdsrv-%d.sock",
		 (int)getpid());
	unlink(sock);
	snprintf(k, sizeof(k), "com:pipe,port=%s", sock);
	snprintf(trans, sizeof(trans), "com:pipe,port=%s", sock);
	kc_spawn(&sim, args);
	snprintf(k, sizeof(k),
		 "net:port=%u,key=1.2.3.4,hostip=127.0.0.1,offer_ms=200",
		 nport);
	kc_spawn(&nsim, args);
	snprintf(k, sizeof(k),
		 "net:port=%u,key=1.2.3.4,hostip=127.0.0.1,offer_ms=200",
		 nport + 1);
	kc_spawn(&nsim2, args);
	snprintf(spec, sizeof(spec), "tcp:port=%u:%u", base, base + 50);
	if (!ks_start(&srv, spec, ks_allow_pipes("benchkdsrv", NULL)))
		kc_die("kdsrv did not start");

	compare_com(&sim, sim.host_connstr, &srv, spec, trans,
		    "com:pipe (unix socket)", total, rounds);
	{
		char d[96], t[96];

		snprintf(d, sizeof(d), "net:port=%u,key=1.2.3.4", nport);
		snprintf(t, sizeof(t), "net:port=%u,key=1.2.3.4", nport + 1);
		compare_net(&nsim, &nsim2, d, t, &srv, total, rounds);
	}
	kc_stop(&nsim2);
	{
		/* A target slower than loopback: each unit sent 1 ms late. */
		const char *sargs[] = { "-k",	      k,   "--print-ms", "0",
					"--delay-ms", "1", NULL };
		char sock2[96], trans2[160];
		struct kc slow;

		snprintf(sock2, sizeof(sock2),
			 "/tmp/openkd-benchkdsrv-%d-slow.sock", (int)getpid());
		unlink(sock2);
		snprintf(k, sizeof(k), "com:pipe,port=%s", sock2);
		snprintf(trans2, sizeof(trans2), "com:pipe,port=%s", sock2);
		kc_spawn(&slow, sargs);
		compare_com(&slow, slow.host_connstr, &srv, spec, trans2,
			    "com:pipe, kdsim --delay-ms 1", total / 16, rounds);
		kc_stop(&slow);
		unlink(sock2);
	}
	kc_stop(&nsim);

	/* Round trips per request across a hop delayed by delay_ms. */
	memset(&px, 0, sizeof(px));
	px.upstream = srv.port;
	px.delay_ms = delay_ms;
	proxy_start(&px, &ptid);
	snprintf(via, sizeof(via),
		 "kdsrv:server=@{tcp:server=127.0.0.1,port=%u},trans=@{%s}",
		 px.port, trans);
	attach(&c, via);
	(void)kc_read64(&c, BASE_VA); /* warm */
	t0 = now_us();
	for (int i = 0; i < nreq; i++)
		(void)kc_read64(&c, BASE_VA + 8u * (unsigned)i);
	per_req_us = (now_us() - t0) / (uint64_t)nreq;
	printf("round trips per KD request across the client-kdsrv hop "
	       "(%d ms each way): %.2f ms per request / %d ms hop RTT = %.2f "
	       "(goal 1, not 2)\n",
	       delay_ms, (double)per_req_us / 1000.0, 2 * delay_ms,
	       (double)per_req_us / 1000.0 / (2.0 * delay_ms));
	detach(&c);
	kill(srv.pid, SIGTERM);
	(void)ks_wait(&srv, 5000);
	ks_stop(&srv);
	pthread_join(ptid, NULL);
	close(px.lfd);
	kc_stop(&sim);
	unlink(sock);
	return 0;
}
