/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the net driver's receive path: datagrams into the host or
 * target role without a socket, key 1.2.3.4.  Modes 2 and 3 seal fuzzed
 * frames with the real keys so the checks after authentication are reached.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kd/common.h>
#include <kd/net_crypto.h>
#include <kd/proto/kdnet.h>

#include "../../transports/net/net_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[KD_NET_MAX_PAYLOAD];
static uint8_t dg[KD_NET_MAX_DATAGRAM];

static void feed(struct kd_net_drv *d, const uint8_t *p, size_t n)
{
	size_t got = 0;
	int rc = kd_net__input(d, p, n, NULL, 0, out, sizeof(out), &got);

	if (rc < 0 && rc != KD_EBUFS)
		abort();
	if (rc == 1 && (got == 0 || got > sizeof(out)))
		abort();
	if (rc == 0 && got != 0)
		abort();
}

/* Seal one frame with @p s and feed it. */
static void seal(struct kd_net_drv *d, struct kd_net_session *s,
		 struct kd_net_frame *f)
{
	size_t n = 0;

	if (kd_net_session_encode(s, f, dg, sizeof(dg), &n) == 0)
		feed(d, dg, n);
}

/* The host answers this OFFER; @p s then gets the same data key. */
static void host_session(struct kd_net_drv *d, struct kd_net_session *s)
{
	uint8_t payload[KD_NET_OFFER_PAYLOAD_SIZE];
	uint8_t resp[KD_NET_RESPONSE_PAYLOAD_SIZE];
	struct kd_net_offer o;
	struct kd_net_response r;
	struct kd_net_frame f;
	size_t n;

	memset(&o, 0, sizeof(o));
	o.format = KD_NET_CTRL_FORMAT;
	memset(o.nonce, 0x42, sizeof(o.nonce));
	if (kd_net_offer_build(&o, payload, sizeof(payload), &n) != 0)
		abort();
	memset(&f, 0, sizeof(f));
	f.version = KD_NET_VERSION_4;
	f.channel = KD_NET_CHANNEL_CONTROL;
	f.seq = 1;
	f.payload = payload;
	f.payload_len = n;
	seal(d, s, &f);
	memset(&r, 0, sizeof(r));
	r.format = KD_NET_CTRL_FORMAT;
	memcpy(r.target_nonce, o.nonce, sizeof(o.nonce));
	if (kd_net_response_build(&r, resp, sizeof(resp), &n) != 0 ||
	    kd_net_session_accept_response(s, resp, n) != 0)
		abort();
}

/*
 * Sealed records: channel, flags (bit 0: from the debugger, bits 1-7:
 * version), sequence (2 bytes LE), length (2 bytes LE), payload.
 */
static void sealed(struct kd_net_drv *d, bool target, const uint8_t *p,
		   size_t n)
{
	static const uint8_t zero_resp[KD_NET_RESPONSE_PAYLOAD_SIZE] = {
		KD_NET_CTRL_FORMAT, KD_NET_CTRL_RESPONSE
	};
	struct kd_net_session *s = NULL;

	if (kd_net_session_new(&s, "1.2.3.4") != 0)
		abort();
	if (target) {
		if (kd_net_session_accept_response(s, zero_resp,
						   sizeof(zero_resp)) != 0)
			abort();
	} else {
		host_session(d, s);
	}
	while (n >= 6) {
		struct kd_net_frame f;
		size_t len = kd_get_le16(p + 4);

		memset(&f, 0, sizeof(f));
		f.channel = p[0] & 1;
		f.from_debugger = p[1] & 1;
		f.version = (uint8_t)(p[1] >> 1);
		f.seq = kd_get_le16(p + 2);
		p += 6;
		n -= 6;
		if (len > n)
			len = n;
		f.payload = p;
		f.payload_len = len;
		seal(d, s, &f);
		p += len;
		n -= len;
	}
	kd_net_session_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kd_net_drv *d = NULL;
	uint8_t mode;

	if (size < 1)
		return 0;
	mode = data[0] & 3;
	if (kd_net__test_new(&d, mode & 1) != 0)
		abort();
	if (mode < 2) {
		/* Raw datagrams, each prefixed by a 2-byte LE length. */
		const uint8_t *p = data + 1;
		size_t n = size - 1;

		while (n >= 2) {
			size_t len = kd_get_le16(p);

			p += 2;
			n -= 2;
			if (len > n)
				len = n;
			feed(d, p, len);
			p += len;
			n -= len;
		}
	} else {
		sealed(d, mode & 1, data + 1, size - 1);
	}
	kd_net__test_free(d);
	return 0;
}
