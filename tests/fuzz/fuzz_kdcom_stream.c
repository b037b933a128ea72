/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the KDCOM stream parser.  The first bytes choose the
 * chunk sizes, the rest is the stream; events from the whole buffer, from
 * the chosen chunking and from one byte at a time must agree, else abort.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kd/proto/stream.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_REC 4096

struct rec {
	enum kd_stream_event_kind kind;
	size_t skipped;
	struct kd_packet_header hdr;
	enum kd_packet_fault reason;
	size_t payload_len;
	uint32_t sum;
};

struct run {
	struct rec r[MAX_REC];
	size_t n;
	struct kd_stream_stats stats;
};

static struct kd_stream parser;
static struct run runs[3];

static void check_event(const struct kd_stream_event *ev)
{
	if (ev->kind == KD_STREAM_EVENT_PACKET) {
		if (ev->raw_len != KD_PACKET_HEADER_SIZE + ev->payload_len)
			abort();
		if (ev->payload_len > KD_PACKET_MAX_RECV)
			abort();
		if (ev->hdr.leader == KD_PACKET_LEADER_DATA &&
		    kd_checksum(ev->payload, ev->payload_len) !=
			    ev->hdr.checksum)
			abort();
	}
}

/* mode 0: whole buffer; 1: one byte at a time; 2: sizes from @p sizes. */
static void run(const uint8_t *buf, size_t len, int mode, const uint8_t *sizes,
		size_t nsizes, struct run *out)
{
	size_t off = 0, k = 0;

	out->n = 0;
	kd_stream_init(&parser);
	while (off < len) {
		size_t c = len - off;

		if (mode == 1)
			c = 1;
		else if (mode == 2 && nsizes)
			c = 1 + sizes[k++ % nsizes] * 17u % 300u;
		if (c > len - off)
			c = len - off;
		while (c) {
			struct kd_stream_event ev;
			size_t n = kd_stream_feed(&parser, buf + off, c, &ev);

			if (n > c)
				abort();
			off += n;
			c -= n;
			if (ev.kind == KD_STREAM_EVENT_NONE) {
				if (c)
					abort();
				continue;
			}
			check_event(&ev);
			if (out->n < MAX_REC) {
				struct rec *r = &out->r[out->n++];

				memset(r, 0, sizeof(*r));
				r->kind = ev.kind;
				r->skipped = ev.skipped;
				r->hdr = ev.hdr;
				r->reason = ev.reason;
				r->payload_len = ev.payload_len;
				r->sum = kd_checksum(ev.payload,
						     ev.payload_len);
			}
		}
	}
	out->stats = *kd_stream_stats(&parser);
	if (out->stats.bytes != len)
		abort();
}

static void same(const struct run *a, const struct run *b)
{
	if (a->n != b->n || memcmp(a->r, b->r, a->n * sizeof(a->r[0])) != 0 ||
	    memcmp(&a->stats, &b->stats, sizeof(a->stats)) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t nsizes;

	if (size < 1)
		return 0;
	nsizes = data[0] % 16;
	if (nsizes + 1 > size)
		nsizes = size - 1;
	run(data + 1 + nsizes, size - 1 - nsizes, 0, NULL, 0, &runs[0]);
	run(data + 1 + nsizes, size - 1 - nsizes, 1, NULL, 0, &runs[1]);
	run(data + 1 + nsizes, size - 1 - nsizes, 2, data + 1, nsizes,
	    &runs[2]);
	same(&runs[0], &runs[1]);
	same(&runs[0], &runs[2]);
	return 0;
}
