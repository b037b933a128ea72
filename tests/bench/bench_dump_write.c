/* SPDX-License-Identifier: MIT */
/*
 * `.dump /f` from a live kdsim over KDNET on loopback (and, in full runs,
 * the serial unix socket): MB/s of the dump against the link ceiling
 * measured in the same session, i.e. bulk physical reads of the same
 * pages over the same link into memory, without a file, once before and
 * once after the dump (the better counts).  --quick: a 96 MiB machine
 * and 16 MiB ceiling samples (MB/s either way).
 *
 *   bench_dump_write [--quick] [--mem-mib N]
 */
#include "../integration/kdsim_client.h"

#include <sys/stat.h>

#include <kd/engine.h>

#include "core/engine_int.h"

#define PAGE 4096ull
#define CHUNK (1u << 20)

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

/*
 * kdsim's physical memory runs (its KDBG MmPhysicalMemoryBlock): pages
 * 1-0x9F and 0x100 to the end.  Read them all in 1 MiB requests.
 */
static uint64_t read_runs(struct kd_session *s, uint64_t mem_bytes,
			  uint64_t limit, uint8_t *buf)
{
	const uint64_t runs[2][2] = { { PAGE, 0xA0000 },
				      { 0x100000, mem_bytes } };
	uint64_t total = 0;
	unsigned int r;

	for (r = 0; r < 2; r++) {
		uint64_t pa;

		for (pa = runs[r][0]; pa < runs[r][1] && total < limit;
		     pa += CHUNK) {
			size_t n = runs[r][1] - pa < CHUNK ?
					   (size_t)(runs[r][1] - pa) :
					   CHUNK;
			size_t done = 0;

			if (kd_read_physical(s, pa, buf, n, &done) != KD_OK ||
			    done != n)
				kc_die("physical read at %#llx: %zu of %zu",
				       (unsigned long long)pa, done, n);
			total += n;
		}
	}
	return total;
}

static void run(const char *label, const char *const *simargs, const char *host,
		unsigned int mem_mib, uint64_t ceil_limit)
{
	struct kd_session_opts o = KD_SESSION_OPTS_INIT;
	struct kd_session *s;
	struct kc c;
	struct stat st;
	char path[128], line[192];
	uint64_t mem = (uint64_t)mem_mib << 20, bytes, cbytes;
	uint8_t *buf = malloc(CHUNK);
	double t0, ceil_s, dump_s, ceil, dump;

	if (!buf)
		kc_die("out of memory");
	snprintf(path, sizeof(path), "/tmp/openkd-bench-dump-%d.dmp",
		 (int)getpid());
	unlink(path);
	kc_spawn(&c, simargs);
	o.break_on_connect = true;
	if (kd_session_new(&s, &o) != KD_OK)
		kc_die("session");
	kd_session_set_output(s, quiet, NULL);
	if (kd_session_attach(s, host ? host : c.host_connstr) != KD_OK)
		kc_die("attach failed: %s", kd_error_last()->message);

	t0 = now_s();
	cbytes = read_runs(s, mem, ceil_limit, buf);
	ceil_s = now_s() - t0;
	ceil = (double)cbytes / ceil_s / 1e6;
	/* The dump's memory bytes: every page of both runs. */
	bytes = mem - 0x61 * PAGE;
	kd_cache_invalidate(s);

	snprintf(line, sizeof(line), ".dump /f %s", path);
	t0 = now_s();
	if (kd_session_execute(s, line) != KD_OK)
		kc_die("%s failed", line);
	dump_s = now_s() - t0;
	if (stat(path, &st) != 0 || (uint64_t)st.st_size != bytes + 0x2000)
		kc_die("dump size %lld, expected %llu", (long long)st.st_size,
		       (unsigned long long)(bytes + 0x2000));
	unlink(path);
	/* The ceiling again after the dump: the better of the two counts
	 * (the machine is shared; both sides see the same load). */
	t0 = now_s();
	cbytes = read_runs(s, mem, ceil_limit, buf);
	ceil_s = now_s() - t0;
	if ((double)cbytes / ceil_s / 1e6 > ceil)
		ceil = (double)cbytes / ceil_s / 1e6;
	kd_session_free(s);
	kc_stop(&c);
	free(buf);

	dump = (double)bytes / dump_s / 1e6;
	printf("%s: .dump /f %.2f MB/s, physical-read ceiling %.2f MB/s, "
	       "ratio %.2f (%u MiB, dump %.2f s)\n",
	       label, dump, ceil, dump / ceil, mem_mib, dump_s);
}

int main(int argc, char **argv)
{
	char k[160], host[128], mib[16];
	unsigned int mem_mib = 512;
	bool quick = false;
	int port = 42000 + (int)(getpid() % 10000);
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			quick = true;
			mem_mib = 96;
		} else if (strcmp(argv[i], "--mem-mib") == 0 && i + 1 < argc) {
			mem_mib = (unsigned int)strtoul(argv[++i], NULL, 10);
		}
	}
	if (mem_mib < 96 || mem_mib > 4096 || mem_mib % 2)
		mem_mib = 96;
	snprintf(mib, sizeof(mib), "%u", mem_mib);
	signal(SIGPIPE, SIG_IGN);

	if (kd_transport_available("net")) {
		snprintf(k, sizeof(k),
			 "net:port=%d,key=1.2.3.4,hostip="
			 "127.0.0.1,offer_ms=100",
			 port);
		snprintf(host, sizeof(host), "net:port=%d,key=1.2.3.4", port);
		{
			const char *args[] = { "-k",	 k,   "--print-ms", "0",
					       "--cpus", "2", "--mem-mib",  mib,
					       NULL };

			run("kdnet loopback", args, host, mem_mib,
			    quick ? 16ull << 20 : UINT64_MAX);
		}
	} else {
		puts("kdnet transport not built: skipped");
		return 77;
	}
	if (!quick) {
		snprintf(k, sizeof(k),
			 "com:pipe,port=/tmp/openkd-bench-dw-%d"
			 ".sock",
			 (int)getpid());
		{
			const char *args[] = { "-k",	 k,   "--print-ms", "0",
					       "--cpus", "2", "--mem-mib",  mib,
					       NULL };

			run("serial unix socket", args, NULL, mem_mib,
			    UINT64_MAX);
		}
	}
	return 0;
}
