/* SPDX-License-Identifier: MIT */
/*
 * Benchmark: KDCOM stream parsing speed over a large stream of max-size
 * packets (built with kd_packet_build) mixed with control packets and line
 * noise, against a memcpy + checksum pass over the same bytes (the ceiling).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kd/proto/stream.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Build about @p want bytes; returns the length and the data packet count. */
static size_t build_stream(uint8_t *buf, size_t want, uint64_t *npackets)
{
	static uint8_t payload[KD_PACKET_MAX_SEND];
	size_t len = 0;
	uint32_t id = KD_PACKET_ID_INITIAL;
	unsigned i = 0;

	for (size_t k = 0; k < sizeof(payload); k++)
		payload[k] = (uint8_t)(k * 131u + 7u);
	*npackets = 0;
	while (len + 5000 < want) {
		size_t n = 0;

		if (kd_packet_build(buf + len, want - len, &n,
				    KD_PACKET_TYPE_STATE_MANIPULATE, id,
				    payload, sizeof(payload), true) != 0)
			abort();
		len += n;
		(*npackets)++;
		if (kd_packet_build_control(buf + len, want - len, &n,
					    KD_PACKET_TYPE_ACKNOWLEDGE,
					    id) != 0)
			abort();
		len += n;
		(*npackets)++;
		id ^= 1u;
		if (++i % 8 == 0) {
			/* Line noise, including a broken leader run. */
			static const uint8_t junk[] = { 0x00, 0x30, 0x30,
							0x30, 0x17, 0xFF };

			memcpy(buf + len, junk, sizeof(junk));
			len += sizeof(junk);
		}
	}
	return len;
}

/* Bytes of one max-size serial packet: header, payload, trailer. */
#define CHUNK (KD_PACKET_HEADER_SIZE + KD_PACKET_MAX_SEND + 1)

static volatile uint32_t sink;

int main(int argc, char **argv)
{
	int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
	size_t size = quick ? (8u << 20) : (64u << 20);
	int reps = quick ? 3 : 10;
	uint8_t *buf = malloc(size), *copy = malloc(CHUNK);
	struct kd_stream *s = malloc(sizeof(*s));
	uint64_t npackets;
	size_t len;
	double best_parse = 1e9, best_ceil = 1e9;

	if (!buf || !copy || !s)
		return 1;
	len = build_stream(buf, size, &npackets);

	for (int r = 0; r < reps; r++) {
		double t0 = now();
		const uint8_t *p = buf;
		size_t left = len;

		kd_stream_init(s);
		while (left) {
			struct kd_stream_event ev;
			size_t n = kd_stream_feed(s, p, left, &ev);

			p += n;
			left -= n;
			if (ev.kind == KD_STREAM_EVENT_PACKET)
				sink += ev.hdr.id;
		}
		t0 = now() - t0;
		if (t0 < best_parse)
			best_parse = t0;
		if (kd_stream_stats(s)->packets != npackets ||
		    kd_stream_stats(s)->bad_checksums != 0) {
			fprintf(stderr, "kdcom_parse: wrong packet count\n");
			return 1;
		}

		/*
		 * Ceiling: copy every byte once into a packet-sized buffer
		 * (as the parser does) and sum it, with no framing at all.
		 */
		t0 = now();
		for (size_t off = 0; off < len; off += CHUNK) {
			size_t n = len - off < CHUNK ? len - off : CHUNK;

			memcpy(copy, buf + off, n);
			sink += kd_checksum(copy, n);
		}
		t0 = now() - t0;
		if (t0 < best_ceil)
			best_ceil = t0;
	}
	double mb = (double)len / 1e6;
	printf("kdcom_parse: %.1f MB/s; checksum-only ceiling %.1f MB/s; "
	       "ratio %.2f (%.1f MB, %llu packets, best of %d)\n",
	       mb / best_parse, mb / best_ceil, best_ceil / best_parse, mb,
	       (unsigned long long)npackets, reps);
	free(buf);
	free(copy);
	free(s);
	return 0;
}
