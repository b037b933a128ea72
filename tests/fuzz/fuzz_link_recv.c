/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the KD link's receive path.  A scripted transport
 * hands the input to the link as stream chunks (KDCOM) or datagrams
 * (KDNET); whatever arrives, everything the link sends must be well-formed
 * and everything it hands up must be a plausible data packet.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kd/link.h>
#include <kd/proto/packet.h>
#include <kd/proto/stream.h>
#include <kd/sys/transport.h>
#include <kd/transport.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Input: byte 0 = flags, then records.  Stream records are one length byte
 * (0 = the rest) and the bytes; datagram records two little-endian length
 * bytes (modulo 4200) and the bytes.
 */
#define F_DATAGRAM 0x01u
#define F_TARGET 0x02u
#define F_SEND 0x04u
#define F_SYNC 0x08u

static const uint8_t *script;
static size_t script_len;
static bool script_datagram;
static struct kd_stream out_check;

static const struct kd_param_spec fz_keys[] = {
	{ "datagram", KD_PARAM_FLAG },
	{ NULL, 0 },
};

static int fz_open(struct kd_transport *t, const struct kd_params *p)
{
	(void)p;
	return kd_transport_set_caps(t, script_datagram ?
						KD_TRANSPORT_CAP_DATAGRAM :
						KD_TRANSPORT_CAP_STREAM);
}

static void fz_close(struct kd_transport *t)
{
	(void)t;
}

/* The oracle: the link only ever writes well-formed packets. */
static int fz_send(struct kd_transport *t, const void *buf, size_t len)
{
	const uint8_t *b = buf;
	struct kd_packet_view v;
	size_t off = 0;

	(void)t;
	if (script_datagram) {
		if (len == 1 && b[0] == KD_BREAKIN_BYTE)
			return KD_OK;
		if (kd_packet_decode(b, len, &v) != KD_OK)
			abort();
		return KD_OK;
	}
	while (off < len) {
		struct kd_stream_event ev;

		off += kd_stream_feed(&out_check, b + off, len - off, &ev);
		if (ev.kind == KD_STREAM_EVENT_BAD_PACKET || ev.skipped)
			abort();
	}
	return KD_OK;
}

static int fz_recv(struct kd_transport *t, void *buf, size_t cap,
		   size_t *len_out, int timeout_ms)
{
	size_t n;

	(void)t;
	(void)timeout_ms;
	if (script_len == 0)
		return KD_EDISCONNECTED;
	if (script_datagram) {
		if (script_len < 2) {
			script_len = 0;
			return KD_ETIMEOUT;
		}
		n = (size_t)kd_get_le16(script) % 4200u;
		script += 2;
		script_len -= 2;
	} else {
		n = script[0];
		script++;
		script_len--;
	}
	if (n == 0 || n > script_len)
		n = script_len;
	if (n == 0)
		return KD_ETIMEOUT;
	if (n > cap) {
		if (script_datagram) {
			script += n;
			script_len -= n;
			return KD_EBUFS;
		}
		n = cap;
	}
	memcpy(buf, script, n);
	script += n;
	script_len -= n;
	*len_out = n;
	return KD_OK;
}

static int fz_break_in(struct kd_transport *t)
{
	static const uint8_t b = KD_BREAKIN_BYTE;

	return fz_send(t, &b, 1);
}

static const struct kd_transport_ops fz_ops = {
	.version = KD_TRANSPORT_OPS_VERSION,
	.scheme = "fuzzlink",
	.caps = KD_TRANSPORT_CAP_STREAM | KD_TRANSPORT_CAP_DATAGRAM |
		KD_TRANSPORT_CAP_BREAKIN,
	.priv_size = 1,
	.keys = fz_keys,
	.open = fz_open,
	.close = fz_close,
	.send = fz_send,
	.recv = fz_recv,
	.break_in = fz_break_in,
};

static bool plausible(unsigned type, size_t len)
{
	if (len > KD_PACKET_MAX_RECV)
		return false;
	if (type == KD_PACKET_TYPE_POLL_BREAKIN)
		return len == 0;
	return !kd_packet_type_is_control(type) && type != 0 &&
	       type < KD_PACKET_TYPE_MAX;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool registered;
	static uint8_t buf[KD_PACKET_MAX_RECV];
	struct kd_link_opts o = KD_LINK_OPTS_INIT;
	struct kd_transport *t = NULL;
	struct kd_link *l = NULL;
	struct kd_link_stats st;
	static const uint8_t req[56] = { 0x46, 0x31 };
	unsigned type;
	size_t len;
	int rc, rounds;

	if (size < 1)
		return 0;
	if (!registered) {
		if (kd_transport_register(&fz_ops) != KD_OK)
			abort();
		registered = true;
	}
	script_datagram = (data[0] & F_DATAGRAM) != 0;
	script = data + 1;
	script_len = size - 1;
	kd_stream_init(&out_check);
	if (kd_transport_open(&t, "fuzzlink:") != KD_OK)
		abort();
	o.role = (data[0] & F_TARGET) ? KD_LINK_TARGET : KD_LINK_HOST;
	o.ack_timeout_ms = 1;
	o.byte_timeout_ms = 1;
	o.max_tries = 3;
	o.resets = 2;
	o.reset_interval_ms = 1;
	if (kd_link_open(&l, t, &o) != KD_OK)
		abort();
	if ((data[0] & F_SYNC) && o.role == KD_LINK_HOST)
		rc = kd_link_sync(l, 0); /* any outcome is fine */
	if (data[0] & F_SEND)
		rc = kd_link_send(l, KD_PACKET_TYPE_STATE_MANIPULATE, req,
				  sizeof(req));
	for (rounds = 0; rounds < 10000; rounds++) {
		rc = kd_link_recv(l, &type, buf,
				  (data[0] & 0x10) ? 64 : sizeof(buf), &len, 0);
		if (rc == KD_EBUFS)
			continue;
		if (rc != KD_OK)
			break;
		if (!plausible(type, len))
			abort();
	}
	kd_link_stats(l, &st);
	if (st.payload_bytes_received > (uint64_t)size)
		abort();
	kd_link_close(l);
	return 0;
}
