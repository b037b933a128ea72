/* SPDX-License-Identifier: MIT */
/*
 * kdcap synth: plays both ends of a short KD session (KDNET or serial) on a
 * loop transport pair, with the host end recorded by the pcap driver, using
 * the project's own encoders.  The target is a SYNTHETIC x64 machine.
 */
#define _DEFAULT_SOURCE 1
#include "kdcap.h"

#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include <kd/error.h>
#include <kd/net_crypto.h>
#include <kd/transport.h>

#define RECV_TIMEOUT_MS 2000
#define KDNET_VERSION KD_NET_VERSION_4
#define BUF_CAP 8192

/* The synthetic machine (not a real Windows system). */
#define SYN_KERNBASE 0xfffff80000000000ull
#define SYN_MODULE_LIST 0xfffff800002a0000ull
#define SYN_DEBUGGER_DATA_LIST 0xfffff80000300000ull
#define SYN_KDBG 0xfffff80000310000ull
#define SYN_KDBG_SIZE 0x380u
#define SYN_ACTIVE_PROCESS_HEAD 0xfffff800002b0000ull
#define SYN_THREAD 0xfffff80000400000ull
#define SYN_BREAK_PC 0xfffff80000001000ull
#define SYN_RSP 0xfffff80000500f00ull
#define SYN_IMAGE_SIZE 0x00a00000u
#define SYN_BUILD 19041
#define SYN_HOST_IPV4 0x7f000001u /* 127.0.0.1 */

static const char syn_path[] = "\\SystemRoot\\system32\\ntoskrnl.exe";
static const char syn_print[] =
	"openkd synthetic target (not a real Windows machine): hello\n";

struct end {
	const char *who; /* "host" or "target" */
	struct kd_transport *t;
	bool host;
	struct kd_ids ids;
	struct kd_net_session *net; /* NULL for serial */
	uint64_t seq;		    /* next data-channel sequence number */
	struct kd_stream stream;
	uint8_t rx[BUF_CAP];
	size_t rx_off, rx_len;
};

/* What one receive produced. */
struct unit {
	bool breakin;
	struct kd_packet_header hdr;
	uint8_t payload[BUF_CAP];
	size_t payload_len;
};

static FILE *errf;

static int fail(int rc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(int rc, const char *fmt, ...)
{
	va_list ap;

	fprintf(errf, "kdcap: synth: ");
	va_start(ap, fmt);
	vfprintf(errf, fmt, ap);
	va_end(ap);
	fprintf(errf, "\n");
	return rc < 0 ? rc : KD_ERROR;
}

/* Send @p len bytes as one data-channel datagram (KDNET) or as bytes. */
static int send_raw(struct end *e, const uint8_t *buf, size_t len)
{
	uint8_t dg[BUF_CAP + 64];
	struct kd_net_frame f;
	size_t n;
	int rc;

	if (!e->net) {
		rc = kd_transport_send(e->t, buf, len);
		return rc < 0 ? fail(rc, "%s send: %s", e->who,
				     kd_error_last()->message) :
				0;
	}
	memset(&f, 0, sizeof(f));
	f.version = KDNET_VERSION;
	f.channel = KD_NET_CHANNEL_DATA;
	f.from_debugger = e->host;
	f.seq = e->seq++;
	f.payload = buf;
	f.payload_len = len;
	rc = kd_net_session_encode(e->net, &f, dg, sizeof(dg), &n);
	if (rc < 0)
		return fail(rc, "%s: KDNET encode failed", e->who);
	rc = kd_transport_send(e->t, dg, n);
	return rc < 0 ? fail(rc, "%s send: %s", e->who,
			     kd_error_last()->message) :
			0;
}

/* Receive one decrypted datagram of @p channel into @p f / @p plain. */
static int recv_datagram(struct end *e, uint8_t *plain, size_t cap,
			 struct kd_net_frame *f, uint8_t channel)
{
	uint8_t dg[BUF_CAP + 64];
	size_t n;
	int rc;

	rc = kd_transport_recv(e->t, dg, sizeof(dg), &n, RECV_TIMEOUT_MS);
	if (rc < 0)
		return fail(rc, "%s receive: %s", e->who,
			    kd_error_last()->message);
	rc = kd_net_session_decode(e->net, dg, n, plain, cap, f);
	if (rc < 0)
		return fail(rc, "%s: datagram does not decode: %s", e->who,
			    f->why ? f->why : "?");
	if (f->channel != channel || f->from_debugger == e->host)
		return fail(KD_EPROTO, "%s: unexpected datagram", e->who);
	return 0;
}

/* Receive the next KD packet or break-in at @p e. */
static int recv_unit(struct end *e, struct unit *u)
{
	memset(&u->hdr, 0, sizeof(u->hdr));
	u->breakin = false;
	u->payload_len = 0;
	if (e->net) {
		static uint8_t plain[BUF_CAP + 64];
		struct kd_net_frame f;
		struct kd_packet_view v;
		int rc = recv_datagram(e, plain, sizeof(plain), &f,
				       KD_NET_CHANNEL_DATA);

		if (rc < 0)
			return rc;
		if (kd_net_is_breakin(f.payload, f.payload_len)) {
			u->breakin = true;
			return 0;
		}
		rc = kd_packet_decode(f.payload, f.payload_len, &v);
		if (rc < 0)
			return fail(rc, "%s: bad KD packet (%s)", e->who,
				    kd_packet_fault_name(v.fault));
		u->hdr = v.hdr;
		memcpy(u->payload, v.payload ? v.payload : f.payload,
		       v.payload_len);
		u->payload_len = v.payload_len;
		return 0;
	}
	for (;;) {
		struct kd_stream_event ev;
		int rc;

		while (e->rx_off < e->rx_len) {
			size_t n = kd_stream_feed(&e->stream, e->rx + e->rx_off,
						  e->rx_len - e->rx_off, &ev);

			e->rx_off += n;
			if (ev.kind == KD_STREAM_EVENT_BREAKIN) {
				u->breakin = true;
				return 0;
			}
			if (ev.kind == KD_STREAM_EVENT_PACKET) {
				u->hdr = ev.hdr;
				if (ev.payload_len)
					memcpy(u->payload, ev.payload,
					       ev.payload_len);
				u->payload_len = ev.payload_len;
				return 0;
			}
			if (ev.kind == KD_STREAM_EVENT_BAD_PACKET)
				return fail(KD_EPROTO, "%s: bad packet (%s)",
					    e->who,
					    kd_packet_fault_name(ev.reason));
		}
		rc = kd_transport_recv(e->t, e->rx, sizeof(e->rx), &e->rx_len,
				       RECV_TIMEOUT_MS);
		e->rx_off = 0;
		if (rc < 0)
			return fail(rc, "%s receive: %s", e->who,
				    kd_error_last()->message);
	}
}

static int send_control(struct end *e, unsigned type, uint32_t id)
{
	uint8_t pkt[KD_PACKET_HEADER_SIZE];
	size_t n;

	if (kd_packet_build_control(pkt, sizeof(pkt), &n, type, id) < 0)
		return fail(KD_EINVAL, "cannot build control packet");
	return send_raw(e, pkt, n);
}

/*
 * Send one data packet from @p from to @p to, have @p to acknowledge it, and
 * give the received copy back in @p got.
 */
static int exchange(struct end *from, struct end *to, unsigned type,
		    const uint8_t *payload, size_t len, struct unit *got)
{
	uint8_t pkt[BUF_CAP];
	static struct unit ack;
	struct kd_ids_rx rx;
	uint32_t id = kd_ids_send(&from->ids);
	size_t n;
	int rc;

	rc = kd_packet_build(pkt, sizeof(pkt), &n, type, id, payload, len,
			     from->net == NULL);
	if (rc < 0)
		return fail(rc, "cannot build a %u-byte packet", (unsigned)len);
	rc = send_raw(from, pkt, n);
	if (rc == 0)
		rc = recv_unit(to, got);
	if (rc < 0)
		return rc;
	if (got->breakin || got->hdr.type != type || got->hdr.id != id ||
	    got->payload_len != len)
		return fail(KD_EPROTO, "%s: unexpected packet", to->who);
	kd_ids_on_data(&to->ids, id, &rx);
	if (!rx.accept || !rx.send_ack)
		return fail(KD_EPROTO, "%s: packet %08x not accepted", to->who,
			    id);
	rc = send_control(to, KD_PACKET_TYPE_ACKNOWLEDGE, rx.ack_id);
	if (rc < 0)
		return rc;
	rc = recv_unit(from, &ack);
	if (rc < 0)
		return rc;
	if (ack.breakin || ack.hdr.type != KD_PACKET_TYPE_ACKNOWLEDGE ||
	    !kd_ids_on_ack(&from->ids, ack.hdr.id))
		return fail(KD_EPROTO, "%s: expected ACK of %08x", from->who,
			    id);
	return 0;
}

/* --- The synthetic target's answers --- */

static void syn_version(struct kd_version *v)
{
	memset(v, 0, sizeof(*v));
	v->major_version = KD_BUILD_FREE; /* NT kernel, free build */
	v->minor_version = SYN_BUILD;
	v->protocol_version = KD_PROTOCOL_VERSION;
	v->secondary_version = KD_AMD64_SECONDARY_CONTEXT;
	v->flags = KD_VERS_FLAG_MP | KD_VERS_FLAG_DATA | KD_VERS_FLAG_PTR64;
	v->machine_type = KD_MACHINE_AMD64;
	v->max_packet_type = KD_PACKET_TYPE_MAX;
	v->max_state_change = KD_STATE_MAX - KD_STATE_EXCEPTION;
	v->max_manipulate = KD_API_MANIPULATE_MAX - KD_API_MANIPULATE_MIN;
	v->kern_base = SYN_KERNBASE;
	v->ps_loaded_module_list = SYN_MODULE_LIST;
	v->debugger_data_list = SYN_DEBUGGER_DATA_LIST;
}

static void syn_kdbg(uint8_t *b)
{
	memset(b, 0, SYN_KDBG_SIZE);
	kd_put_le64(b + 0x00, SYN_DEBUGGER_DATA_LIST);
	kd_put_le64(b + 0x08, SYN_DEBUGGER_DATA_LIST);
	kd_put_le32(b + 0x10, KD_KDBG_TAG);
	kd_put_le32(b + 0x14, SYN_KDBG_SIZE);
	kd_put_le64(b + 0x18, SYN_KERNBASE);
	kd_put_le64(b + 0x48, SYN_MODULE_LIST);
	kd_put_le64(b + 0x50, SYN_ACTIVE_PROCESS_HEAD);
	kd_put_le64(b + 0x138, 0x1000);
}

static void syn_context(uint8_t *ctx)
{
	memset(ctx, 0, KD_AMD64_CONTEXT_SIZE);
	kd_amd64_context_set(ctx, KD_AMD64_CONTEXT_SIZE, KD_AMD64_CONTEXT_FLAGS,
			     KD_CONTEXT_AMD64 | KD_CONTEXT_CONTROL |
				     KD_CONTEXT_INTEGER | KD_CONTEXT_SEGMENTS);
	kd_amd64_context_set(ctx, KD_AMD64_CONTEXT_SIZE, KD_AMD64_RIP,
			     SYN_BREAK_PC);
	kd_amd64_context_set(ctx, KD_AMD64_CONTEXT_SIZE, KD_AMD64_RSP, SYN_RSP);
	kd_amd64_context_set(ctx, KD_AMD64_CONTEXT_SIZE, KD_AMD64_CS, 0x10);
	kd_amd64_context_set(ctx, KD_AMD64_CONTEXT_SIZE, KD_AMD64_SS, 0x18);
	kd_amd64_context_set(ctx, KD_AMD64_CONTEXT_SIZE, KD_AMD64_EFLAGS,
			     0x246);
}

/* Answer a manipulate request the way a target would (echo + results). */
static int target_answer(const struct unit *req, uint8_t *out, size_t cap,
			 size_t *len)
{
	static uint8_t data[KD_AMD64_CONTEXT_SIZE];
	struct kd_manipulate m;
	size_t data_len = 0;
	int rc;

	rc = kd_manipulate_decode(&m, req->payload, req->payload_len);
	if (rc < 0)
		return fail(rc, "target: bad manipulate request");
	m.return_status = KD_STATUS_SUCCESS;
	m.data = NULL;
	m.data_len = 0;
	switch (m.api) {
	case KD_API_GET_VERSION:
		syn_version(&m.u.version);
		break;
	case KD_API_READ_VIRTUAL_MEMORY:
		if (m.u.mem.address != SYN_KDBG ||
		    m.u.mem.transfer_count > SYN_KDBG_SIZE)
			return fail(KD_EPROTO, "target: unexpected read");
		syn_kdbg(data);
		data_len = m.u.mem.transfer_count;
		m.u.mem.actual_count = (uint32_t)data_len;
		break;
	case KD_API_GET_CONTEXT:
		syn_context(data);
		data_len = KD_AMD64_CONTEXT_SIZE;
		break;
	default:
		return fail(KD_EPROTO, "target: api 0x%x not synthesised",
			    m.api);
	}
	rc = kd_manipulate_encode(out, cap, len, &m, data, data_len);
	return rc < 0 ? fail(rc, "target: cannot encode reply") : 0;
}

static void request(struct kd_manipulate *m, uint32_t api)
{
	memset(m, 0, sizeof(*m));
	m->api = api;
	m->return_status = KD_STATUS_PENDING;
	m->machine = KD_MACHINE_AMD64;
}

/* Host request, target reply, each acknowledged. */
static int round_trip(struct end *host, struct end *target,
		      const struct kd_manipulate *m, struct unit *u)
{
	static uint8_t buf[BUF_CAP];
	size_t n;
	int rc;

	rc = kd_manipulate_encode(buf, sizeof(buf), &n, m, NULL, 0);
	if (rc < 0)
		return fail(rc, "host: cannot encode request");
	rc = exchange(host, target, KD_PACKET_TYPE_STATE_MANIPULATE, buf, n, u);
	if (rc == 0)
		rc = target_answer(u, buf, sizeof(buf), &n);
	if (rc == 0)
		rc = exchange(target, host, KD_PACKET_TYPE_STATE_MANIPULATE,
			      buf, n, u);
	return rc;
}

static void state_change_base(struct kd_state_change *sc, uint32_t state)
{
	memset(sc, 0, sizeof(*sc));
	sc->new_state = state;
	sc->number_processors = 1;
	sc->thread = SYN_THREAD;
	sc->program_counter = SYN_BREAK_PC;
	sc->machine = KD_MACHINE_AMD64;
	sc->amd64.dr7 = 0x400;
	sc->amd64.eflags = 0x246;
	sc->amd64.instruction_count = KD_MAXSTREAM;
	sc->amd64.report_flags = KD_REPORT_INCLUDES_SEGS |
				 KD_REPORT_STANDARD_CS;
	sc->amd64.instruction_stream[0] = 0xcc; /* int3 */
	sc->amd64.instruction_stream[1] = 0xc3; /* ret */
	sc->amd64.seg_cs = 0x10;
	sc->amd64.seg_ds = 0x2b;
	sc->amd64.seg_es = 0x2b;
	sc->amd64.seg_fs = 0x53;
}

/* The exchange common to both carriers, after the connection is up. */
static int session(struct end *host, struct end *target)
{
	static uint8_t buf[BUF_CAP];
	static struct unit u;
	struct kd_state_change sc;
	struct kd_manipulate m;
	struct kd_debug_io io;
	size_t n;
	int rc;

	/* LoadSymbols for the kernel. */
	state_change_base(&sc, KD_STATE_LOAD_SYMBOLS);
	sc.u.load_symbols.path_name_length = sizeof(syn_path);
	sc.u.load_symbols.base_of_dll = SYN_KERNBASE;
	sc.u.load_symbols.process_id = 0;
	sc.u.load_symbols.size_of_image = SYN_IMAGE_SIZE;
	rc = kd_state_change_encode(buf, sizeof(buf), &n, &sc, syn_path,
				    sizeof(syn_path));
	if (rc < 0)
		return fail(rc, "cannot encode LoadSymbols");
	rc = exchange(target, host, KD_PACKET_TYPE_STATE_CHANGE64, buf, n, &u);
	if (rc < 0)
		return rc;

	request(&m, KD_API_GET_VERSION);
	rc = round_trip(host, target, &m, &u);
	if (rc < 0)
		return rc;
	request(&m, KD_API_READ_VIRTUAL_MEMORY);
	m.u.mem.address = SYN_KDBG;
	m.u.mem.transfer_count = SYN_KDBG_SIZE;
	rc = round_trip(host, target, &m, &u);
	if (rc < 0)
		return rc;
	request(&m, KD_API_GET_CONTEXT);
	rc = round_trip(host, target, &m, &u);
	if (rc < 0)
		return rc;

	memset(&io, 0, sizeof(io));
	io.api = KD_DEBUG_IO_PRINT_STRING;
	io.length = sizeof(syn_print) - 1;
	rc = kd_debug_io_encode(buf, sizeof(buf), &n, &io, syn_print,
				sizeof(syn_print) - 1);
	if (rc == 0)
		rc = exchange(target, host, KD_PACKET_TYPE_DEBUG_IO, buf, n,
			      &u);
	if (rc < 0)
		return rc;

	request(&m, KD_API_CONTINUE2);
	m.u.continue2.continue_status = KD_DBG_CONTINUE;
	m.u.continue2.amd64.dr7 = 0x400;
	m.u.continue2.amd64.symbol_start = KD_CONTINUE_NO_SYMBOL_RANGE;
	rc = kd_manipulate_encode(buf, sizeof(buf), &n, &m, NULL, 0);
	if (rc == 0)
		rc = exchange(host, target, KD_PACKET_TYPE_STATE_MANIPULATE,
			      buf, n, &u);
	if (rc < 0)
		return rc;

	/* Break in; the target stops with a breakpoint exception. */
	if (host->net) {
		uint8_t b = KD_NET_BREAKIN_BYTE;

		rc = send_raw(host, &b, 1);
	} else {
		rc = kd_transport_break_in(host->t);
		if (rc < 0)
			rc = fail(rc, "host break-in: %s",
				  kd_error_last()->message);
	}
	if (rc == 0)
		rc = recv_unit(target, &u);
	if (rc < 0)
		return rc;
	if (!u.breakin)
		return fail(KD_EPROTO, "target: expected a break-in");
	state_change_base(&sc, KD_STATE_EXCEPTION);
	sc.u.exception.record.code = KD_STATUS_BREAKPOINT;
	sc.u.exception.record.address = SYN_BREAK_PC;
	sc.u.exception.record.number_parameters = 1;
	sc.u.exception.first_chance = 1;
	rc = kd_state_change_encode(buf, sizeof(buf), &n, &sc, NULL, 0);
	if (rc < 0)
		return fail(rc, "cannot encode the exception");
	return exchange(target, host, KD_PACKET_TYPE_STATE_CHANGE64, buf, n,
			&u);
}

/* KDNET: OFFER from the target, RESPONSE from the host, then a ping. */
static int kdnet_connect(struct end *host, struct end *target)
{
	static uint8_t plain[BUF_CAP];
	uint8_t payload[KD_NET_OFFER_PAYLOAD_SIZE];
	uint8_t dg[BUF_CAP];
	uint8_t ping[KD_NET_PING_SIZE];
	struct kd_net_offer o;
	struct kd_net_frame f;
	uint32_t ipv4;
	size_t n;
	int rc;

	memset(&o, 0, sizeof(o));
	o.format = KD_NET_CTRL_FORMAT;
	rc = kd_net_random(o.nonce, sizeof(o.nonce));
	if (rc < 0)
		return fail(rc, "no random bytes");
	o.have_addrs = true;
	o.target.ip[10] = 0xff;
	o.target.ip[11] = 0xff;
	memcpy(o.debugger.ip, o.target.ip, sizeof(o.target.ip));
	o.target.ip[12] = 127;
	o.target.ip[15] = 2;
	o.debugger.ip[12] = 127;
	o.debugger.ip[15] = 1;
	o.target.port = KD_NET_DEFAULT_PORT;
	o.debugger.port = KD_NET_DEFAULT_PORT;
	rc = kd_net_offer_build(&o, payload, sizeof(payload), &n);
	if (rc < 0)
		return fail(rc, "cannot build OFFER");
	memset(&f, 0, sizeof(f));
	f.version = KDNET_VERSION;
	f.channel = KD_NET_CHANNEL_CONTROL;
	f.seq = 3; /* Windows' first OFFER; grows by 3 (§3.4) */
	f.payload = payload;
	f.payload_len = n;
	rc = kd_net_session_encode(target->net, &f, dg, sizeof(dg), &n);
	if (rc < 0)
		return fail(rc, "cannot encode OFFER");
	rc = kd_transport_send(target->t, dg, n);
	if (rc < 0)
		return fail(rc, "target send: %s", kd_error_last()->message);

	rc = recv_datagram(host, plain, sizeof(plain), &f,
			   KD_NET_CHANNEL_CONTROL);
	if (rc == 0)
		rc = kd_net_session_respond(host->net, &f, dg, sizeof(dg), &n);
	if (rc < 0)
		return fail(rc, "host cannot answer the OFFER");
	rc = kd_transport_send(host->t, dg, n);
	if (rc < 0)
		return fail(rc, "host send: %s", kd_error_last()->message);

	rc = recv_datagram(target, plain, sizeof(plain), &f,
			   KD_NET_CHANNEL_CONTROL);
	if (rc == 0)
		rc = kd_net_session_accept_response(target->net, f.payload,
						    f.payload_len);
	if (rc < 0)
		return fail(rc, "target cannot use the RESPONSE");

	kd_net_ping_build(SYN_HOST_IPV4, ping);
	rc = send_raw(target, ping, sizeof(ping));
	if (rc == 0)
		rc = recv_datagram(host, plain, sizeof(plain), &f,
				   KD_NET_CHANNEL_DATA);
	if (rc == 0 && kd_net_ping_parse(f.payload, f.payload_len, &ipv4) < 0)
		rc = fail(KD_EPROTO, "host: expected the ping");
	return rc;
}

/* Serial: break-in byte, host RESET, target RESET answer. */
static int serial_connect(struct end *host, struct end *target)
{
	static struct unit u;
	struct kd_ids_reset r;
	uint32_t id;
	int rc;

	rc = kd_transport_break_in(host->t);
	if (rc < 0)
		return fail(rc, "host break-in: %s", kd_error_last()->message);
	rc = recv_unit(target, &u);
	if (rc < 0)
		return rc;
	if (!u.breakin)
		return fail(KD_EPROTO, "target: expected a break-in");
	id = kd_ids_send_reset(&host->ids);
	rc = send_control(host, KD_PACKET_TYPE_RESET, id);
	if (rc == 0)
		rc = recv_unit(target, &u);
	if (rc < 0)
		return rc;
	if (u.breakin || u.hdr.type != KD_PACKET_TYPE_RESET)
		return fail(KD_EPROTO, "target: expected RESET");
	kd_ids_on_reset(&target->ids, &r);
	rc = send_control(target, KD_PACKET_TYPE_RESET,
			  r.answer ? r.answer_id : 0);
	if (rc == 0)
		rc = recv_unit(host, &u);
	if (rc < 0)
		return rc;
	if (u.breakin || u.hdr.type != KD_PACKET_TYPE_RESET)
		return fail(KD_EPROTO, "host: expected RESET");
	return 0;
}

int kdcap_synth(const char *path, bool kdnet, const char *key, FILE *err)
{
	static struct end host, target;
	char name[64];
	char connstr[4200];
	int rc;

	errf = err;
	if (strpbrk(path, ",|{}@") || strlen(path) > 4000)
		return fail(KD_EINVAL,
			    "output path must not contain , | { } @");
	memset(&host, 0, sizeof(host));
	memset(&target, 0, sizeof(target));
	host.who = "host";
	host.host = true;
	target.who = "target";
	host.seq = 1;
	target.seq = 1;
	kd_ids_init(&host.ids, KD_IDS_HOST,
		    kdnet ? KD_IDS_KDNET : KD_IDS_KDCOM);
	kd_ids_init(&target.ids, KD_IDS_TARGET,
		    kdnet ? KD_IDS_KDNET : KD_IDS_KDCOM);
	kd_stream_init(&host.stream);
	kd_stream_init(&target.stream);
	snprintf(name, sizeof(name), "kdcap-synth-%ld", (long)getpid());

	if (kdnet) {
		rc = kd_net_session_new(&host.net, key);
		if (rc == 0)
			rc = kd_net_session_new(&target.net, key);
		if (rc < 0) {
			rc = fail(rc, "bad key: %s", kd_error_last()->message);
			goto out;
		}
	}
	snprintf(connstr, sizeof(connstr), "loop:name=%s%s", name,
		 kdnet ? ",datagram" : "");
	rc = kd_transport_open(&target.t, connstr);
	if (rc < 0) {
		rc = fail(rc, "%s", kd_error_last()->message);
		goto out;
	}
	snprintf(connstr, sizeof(connstr), "pcap:file=%s|loop:name=%s%s", path,
		 name, kdnet ? ",datagram" : "");
	rc = kd_transport_open(&host.t, connstr);
	if (rc < 0) {
		rc = fail(rc, "%s", kd_error_last()->message);
		goto out;
	}
	rc = kdnet ? kdnet_connect(&host, &target) :
		     serial_connect(&host, &target);
	if (rc == 0)
		rc = session(&host, &target);
	if (rc == 0)
		fprintf(err, "kdcap: wrote a synthetic %s session to %s\n",
			kdnet ? "KDNET" : "serial", path);
out:
	kd_transport_close(host.t);
	kd_transport_close(target.t);
	kd_net_session_free(host.net);
	kd_net_session_free(target.net);
	host.t = target.t = NULL;
	host.net = target.net = NULL;
	return rc;
}
