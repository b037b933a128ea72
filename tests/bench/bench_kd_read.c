/* SPDX-License-Identifier: MIT */
/*
 * Engine benchmark against a real kdsim process: bulk reads of target
 * memory through the engine (kd_read_virtual, the path `.writemem` and `db`
 * take) over KDNET on loopback and over the serial unix socket, against the
 * link ceiling measured in the same run (the same maximum-size
 * ReadVirtualMemory requests issued straight on a kd_link), and the attach
 * time from kd_session_attach() to a stopped target.
 *
 *   bench_kd_read [--quick] [--mib N]
 */
#include "../integration/kdsim_client.h"

#include <kd/engine.h>

#include "core/engine_int.h"

#define KERNEL_WINDOW 0xfffff80000000000ull

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void quiet(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	(void)text;
	(void)len;
}

/* The ceiling: bare maximum-size reads on the link, no engine. */
static double ceiling_mbps(const char *const *args, const char *host,
			   size_t total)
{
	static uint8_t buf[KD_MAX_TRANSFER];
	struct kc c;
	size_t off;
	double t0, dt;

	kc_spawn(&c, args);
	kc_attach(&c, host);
	if (kd_link_sync(c.link, KC_TIMEOUT_MS) != KD_OK)
		kc_die("sync failed");
	if (kd_link_break_in(c.link) != KD_OK)
		kc_die("break-in failed");
	kc_wait_stop(&c);
	t0 = now_s();
	for (off = 0; off < total; off += KD_MAX_TRANSFER) {
		size_t n = total - off < KD_MAX_TRANSFER ? total - off :
							   KD_MAX_TRANSFER;

		if (kc_read(&c, KD_API_READ_VIRTUAL_MEMORY, KERNEL_WINDOW + off,
			    buf, (uint32_t)n) != n)
			kc_die("ceiling read at +%zx failed", off);
	}
	dt = now_s() - t0;
	kc_stop(&c);
	return (double)total / dt / 1e6;
}

/* The engine: attach, then read @p total bytes in 1 MiB calls. */
static double engine_mbps(const char *const *args, const char *host,
			  size_t total, double *attach_ms)
{
	struct kd_session_opts o = KD_SESSION_OPTS_INIT;
	struct kd_session *s;
	struct kc c;
	uint8_t *buf = malloc(1u << 20);
	size_t off;
	double t0, dt;

	if (!buf)
		kc_die("out of memory");
	kc_spawn(&c, args);
	o.break_on_connect = true;
	if (kd_session_new(&s, &o) != KD_OK)
		kc_die("session");
	kd_session_set_output(s, quiet, NULL);
	t0 = now_s();
	if (kd_session_attach(s, host ? host : c.host_connstr) != KD_OK)
		kc_die("attach failed: %s", kd_error_last()->message);
	*attach_ms = (now_s() - t0) * 1e3;
	t0 = now_s();
	for (off = 0; off < total; off += 1u << 20) {
		size_t n = total - off < (1u << 20) ? total - off : 1u << 20;
		size_t done = 0;

		if (kd_read_virtual(s, KERNEL_WINDOW + off, buf, n, &done) !=
			    KD_OK ||
		    done != n)
			kc_die("engine read at +%zx: %zu of %zu", off, done, n);
	}
	dt = now_s() - t0;
	kd_session_free(s);
	kc_stop(&c);
	free(buf);
	return (double)total / dt / 1e6;
}

static void run(const char *label, const char *const *args, const char *host,
		size_t total)
{
	double attach_ms = 0;
	double ceil = ceiling_mbps(args, host, total);
	double eng = engine_mbps(args, host, total, &attach_ms);

	printf("%s: engine %.2f MB/s, link ceiling %.2f MB/s, ratio %.2f "
	       "(%zu MiB); attach %.0f ms\n",
	       label, eng, ceil, eng / ceil, total >> 20, attach_ms);
}

int main(int argc, char **argv)
{
	char k[128], host[128];
	size_t mib = 64;
	int port = 40000 + (int)(getpid() % 10000);
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			mib = 4;
		else if (strcmp(argv[i], "--mib") == 0 && i + 1 < argc)
			mib = strtoul(argv[++i], NULL, 10);
	}
	if (mib == 0 || mib > 64)
		mib = 64; /* the kernel window is 64 MiB */
	signal(SIGPIPE, SIG_IGN);

	/* KDNET on loopback; the simulated target offers every 100 ms. */
	snprintf(k, sizeof(k),
		 "net:port=%d,key=1.2.3.4,hostip=127.0.0.1,offer_ms=100", port);
	snprintf(host, sizeof(host), "net:port=%d,key=1.2.3.4", port);
	{
		const char *args[] = { "-k", k, "--print-ms", "0", NULL };

		if (kd_transport_available("net"))
			run("kdnet loopback", args, host, mib << 20);
	}
	/* Serial over a unix socket. */
	snprintf(k, sizeof(k), "com:pipe,port=/tmp/openkd-bench-%d.sock",
		 (int)getpid());
	{
		const char *args[] = { "-k", k, "--print-ms", "0", NULL };

		run("serial unix socket", args, NULL, mib << 20);
	}
	return 0;
}
