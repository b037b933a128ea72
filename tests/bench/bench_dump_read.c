/* SPDX-License-Identifier: MIT */
/*
 * Crash-dump reader benchmark: a sparse multi-GiB x64 bitmap dump (made by
 * dumpgen: real 4-level tables, zero pages as file holes) is opened (index
 * build time) and read with random 4 KiB virtual reads, against plain
 * memcpy of random pages from the same mapped file in the same run.
 * --quick: 256 MiB of physical memory; full: 8 GiB.  Times are thread CPU
 * time (the machine is shared).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <kd/dump.h>

#include "dumpgen.h"

static double now_s(void)
{
	struct timespec ts;

	/* CPU time of this thread: the machine is shared, wall time is
	 * not what the reader costs. */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

int main(int argc, char **argv)
{
	bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
	uint64_t mem = quick ? (256ull << 20) : (8ull << 30);
	unsigned long nreads = quick ? 20000ul : 2000000ul;
	struct kdt_dg_big big;
	struct kd_dump *d = NULL;
	struct stat st;
	char path[128], err[160];
	uint8_t *page = malloc(4096), *want = malloc(4096);
	const uint8_t *map;
	uint64_t seed = 0x9e3779b97f4a7c15ull, npages, sum = 0;
	double t0, t_gen, t_open, t_virt, t_plain;
	unsigned long i, bad = 0;
	int fd, rc;

	if (!page || !want)
		return 1;
	snprintf(path, sizeof(path), "/tmp/kd_bench_dump_%d.dmp",
		 (int)getpid());
	t0 = now_s();
	rc = kdt_dumpgen_write_big(path, mem, 16, 5 /* bitmap full */, &big);
	if (rc != 0) {
		fprintf(stderr, "bench_dump_read: cannot write %s (%d)\n", path,
			rc);
		return 1;
	}
	t_gen = now_s() - t0;
	t0 = now_s();
	rc = kd_dump_open(&d, path, err, sizeof(err));
	t_open = now_s() - t0;
	if (rc != KD_OK) {
		fprintf(stderr, "bench_dump_read: open: %s\n", err);
		unlink(path);
		return 1;
	}
	npages = mem / 4096 - big.first_data_pfn;
	/* Random 4 KiB virtual reads through the dump's page tables. */
	t0 = now_s();
	for (i = 0; i < nreads; i++) {
		uint64_t pfn = big.first_data_pfn + rng(&seed) % npages;
		size_t done = 0;

		if (kd_dump_read_virtual(d, KDT_DG_BIG_VA + pfn * 4096, page,
					 4096, &done) != KD_OK)
			bad++;
		sum += page[8];
	}
	t_virt = now_s() - t0;
	/* Spot-check contents. */
	for (i = 0; i < 64; i++) {
		uint64_t pfn = big.first_data_pfn + rng(&seed) % npages;
		size_t done = 0;

		(void)kd_dump_read_virtual(d, KDT_DG_BIG_VA + pfn * 4096, page,
					   4096, &done);
		kdt_dumpgen_big_page(&big, pfn, want);
		if (memcmp(page, want, 4096) != 0)
			bad++;
	}
	kd_dump_close(d);
	/* Plain page copies from the same file, mapped the same way. */
	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0)
		return 1;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return 1;
	{
		uint64_t fpages = (uint64_t)st.st_size / 4096 - 4;

		t0 = now_s();
		for (i = 0; i < nreads; i++) {
			uint64_t p = 2 + rng(&seed) % fpages;

			memcpy(page, map + p * 4096, 4096);
			sum += page[8];
		}
		t_plain = now_s() - t0;
	}
	munmap((void *)(uintptr_t)map, (size_t)st.st_size);
	close(fd);
	unlink(path);
	printf("bench_dump_read: %llu MiB bitmap dump (file %lld bytes, "
	       "generated in %.2f s)\n",
	       (unsigned long long)(mem >> 20), (long long)st.st_size, t_gen);
	printf("open (map + bitmap index): %.3f ms\n", t_open * 1e3);
	printf("random 4 KiB virtual reads: %.0f /s (%lu reads)\n",
	       (double)nreads / t_virt, nreads);
	printf("plain 4 KiB page memcpy:    %.0f /s\n",
	       (double)nreads / t_plain);
	printf("ratio virtual/plain: %.2f (checksum %llu, errors %lu)\n",
	       t_plain / t_virt, (unsigned long long)(sum & 0xff), bad);
	free(page);
	free(want);
	return bad ? 1 : 0;
}
