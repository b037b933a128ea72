/* SPDX-License-Identifier: MIT */
/*
 * kdcap decoder: authenticates KDNET datagrams, runs serial bytes through
 * the KDCOM stream parser, and prints one line (text or JSON) per KD packet
 * or KDNET event, then a summary with counts by packet type and API.
 */
#include "kdcap.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include <kd/error.h>
#include <kd/net_crypto.h>

#define DEBUG_IO_TEXT_MAX 80
#define PATH_TEXT_MAX 160
#define PLAIN_CAP 65536

static const char *const dir_names[] = { "H>T", "T>H", "?>?" };

/* --- Output line builder: the same fields make a text or a JSON line --- */

static void put(struct kdcap_dec *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct kdcap_dec *d, const char *fmt, ...)
{
	size_t room = sizeof(d->lineb) - d->linelen;
	va_list ap;
	int n;

	if (room <= 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(d->lineb + d->linelen, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	d->linelen += (size_t)n < room ? (size_t)n : room - 1;
}

/* Append @p len bytes of @p s escaped for a C-like or JSON string. */
static void put_escaped(struct kdcap_dec *d, const uint8_t *s, size_t len,
			size_t max)
{
	size_t n = len < max ? len : max;

	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];

		if (c == '"' || c == '\\')
			put(d, "\\%c", c);
		else if (c == '\n')
			put(d, "\\n");
		else if (c == '\r')
			put(d, "\\r");
		else if (c == '\t')
			put(d, "\\t");
		else if (c < 0x20 || c >= 0x7f)
			put(d, d->json ? "\\u%04x" : "\\x%02x", c);
		else
			put(d, "%c", c);
	}
	if (len > max)
		put(d, "...");
}

static void sep(struct kdcap_dec *d)
{
	if (d->json) {
		if (!d->line_json_first)
			put(d, ",");
		d->line_json_first = false;
	} else {
		put(d, " ");
	}
}

static void kv_hex(struct kdcap_dec *d, const char *key, uint64_t v)
{
	sep(d);
	if (d->json)
		put(d, "\"%s\":\"0x%" PRIx64 "\"", key, v);
	else
		put(d, "%s=0x%" PRIx64, key, v);
}

static void kv_addr(struct kdcap_dec *d, const char *key, uint64_t v)
{
	sep(d);
	if (d->json)
		put(d, "\"%s\":\"%016" PRIx64 "\"", key, v);
	else
		put(d, "%s=%016" PRIx64, key, v);
}

static void kv_u(struct kdcap_dec *d, const char *key, uint64_t v)
{
	sep(d);
	if (d->json)
		put(d, "\"%s\":%" PRIu64, key, v);
	else
		put(d, "%s=%" PRIu64, key, v);
}

static void kv_str(struct kdcap_dec *d, const char *key, const uint8_t *s,
		   size_t len, size_t max)
{
	sep(d);
	if (d->json)
		put(d, "\"%s\":\"", key);
	else
		put(d, "%s=\"", key);
	put_escaped(d, s, len, max);
	put(d, "\"");
}

/*
 * A word: bare in text for the API and state names ("GetVersion"),
 * key=word otherwise; "key":"word" in JSON.
 */
static void word(struct kdcap_dec *d, const char *key, const char *w)
{
	sep(d);
	if (d->json)
		put(d, "\"%s\":\"%s\"", key, w);
	else if (strcmp(key, "api") == 0 || strcmp(key, "state") == 0)
		put(d, "%s", w);
	else
		put(d, "%s=%s", key, w);
}

/* NTSTATUS by name when known. */
static void kv_status(struct kdcap_dec *d, const char *key, uint32_t st)
{
	const char *n = kd_ntstatus_name(st);
	char hex[16];

	if (n) {
		sep(d);
		if (d->json)
			put(d, "\"%s\":\"%s\"", key, n);
		else
			put(d, "%s=%s", key, n);
	} else {
		snprintf(hex, sizeof(hex), "0x%08x", st);
		sep(d);
		if (d->json)
			put(d, "\"%s\":\"%s\"", key, hex);
		else
			put(d, "%s=%s", key, hex);
	}
}

static void line_begin(struct kdcap_dec *d, uint64_t ts_ns, uint64_t offset,
		       enum kdcap_dir dir, const char *kind)
{
	uint64_t rel;

	d->linelen = 0;
	d->lineb[0] = '\0';
	if (ts_ns != UINT64_MAX) {
		if (!d->have_t0) {
			d->have_t0 = true;
			d->t0_ns = ts_ns;
		}
		rel = ts_ns >= d->t0_ns ? ts_ns - d->t0_ns : 0;
		if (d->json)
			put(d, "{\"time\":%" PRIu64 ".%06" PRIu64,
			    rel / 1000000000u, rel % 1000000000u / 1000u);
		else
			put(d, "%" PRIu64 ".%06" PRIu64, rel / 1000000000u,
			    rel % 1000000000u / 1000u);
	} else {
		if (d->json)
			put(d, "{\"offset\":%" PRIu64, offset);
		else
			put(d, "@%06" PRIx64, offset);
	}
	if (d->json) {
		put(d, ",\"dir\":\"%s\",\"type\":\"%s\"", dir_names[dir], kind);
		d->line_json_first = false;
	} else {
		put(d, " %s %s", dir_names[dir], kind);
	}
}

static void line_end(struct kdcap_dec *d)
{
	if (d->json)
		put(d, "}");
	fprintf(d->out, "%s\n", d->lineb);
}

/* --- Counters --- */

static void count(struct kdcap_count *arr, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++) {
		if (strcmp(arr[i].name, name) == 0) {
			arr[i].n++;
			return;
		}
	}
	if (*n < KDCAP_MAX_NAMES) {
		arr[*n].name = name;
		arr[*n].n = 1;
		(*n)++;
	}
}

static void count_type(struct kdcap_dec *d, unsigned type)
{
	const char *n = kd_packet_type_name(type);

	count(d->st.by_type, &d->st.n_types, n ? n : "UNKNOWN_TYPE");
}

static void count_api(struct kdcap_dec *d, const char *name)
{
	count(d->st.by_api, &d->st.n_apis, name);
}

void kdcap_dec_error(struct kdcap_dec *d, const char *fmt, ...)
{
	va_list ap;

	d->st.read_errors++;
	fprintf(d->err, "kdcap: ");
	va_start(ap, fmt);
	vfprintf(d->err, fmt, ap);
	va_end(ap);
	fprintf(d->err, "\n");
}

/* --- KD payloads --- */

static bool is_mem_api(uint32_t api)
{
	switch (api) {
	case KD_API_READ_VIRTUAL_MEMORY:
	case KD_API_WRITE_VIRTUAL_MEMORY:
	case KD_API_READ_CONTROL_SPACE:
	case KD_API_WRITE_CONTROL_SPACE:
	case KD_API_READ_PHYSICAL_MEMORY:
	case KD_API_WRITE_PHYSICAL_MEMORY:
		return true;
	default:
		return false;
	}
}

static bool is_read_api(uint32_t api)
{
	return api == KD_API_READ_VIRTUAL_MEMORY ||
	       api == KD_API_READ_CONTROL_SPACE ||
	       api == KD_API_READ_PHYSICAL_MEMORY;
}

static void print_version(struct kdcap_dec *d, const struct kd_version *v)
{
	kv_hex(d, "major", v->major_version);
	kv_u(d, "minor", v->minor_version);
	kv_u(d, "protocol", v->protocol_version);
	kv_u(d, "secondary", v->secondary_version);
	kv_hex(d, "flags", v->flags);
	kv_hex(d, "machine", v->machine_type);
	kv_addr(d, "kernbase", v->kern_base);
	kv_addr(d, "PsLoadedModuleList", v->ps_loaded_module_list);
	kv_addr(d, "DebuggerDataList", v->debugger_data_list);
}

static void print_manipulate(struct kdcap_dec *d, enum kdcap_dir dir,
			     const uint8_t *p, size_t len)
{
	struct kd_manipulate m;
	const char *name;
	bool reply;
	uint64_t rip;
	uint64_t value;

	if (kd_manipulate_decode(&m, p, len) < 0) {
		word(d, "error", "short-manipulate");
		count_api(d, "(short manipulate)");
		return;
	}
	name = kd_manipulate_api_name(m.api);
	count_api(d, name ? name : "(unknown api)");
	word(d, "api", name ? name : "UnknownApi");
	if (!name)
		kv_hex(d, "api_number", m.api);
	if (dir == KDCAP_DIR_UNKNOWN)
		reply = m.return_status != KD_STATUS_PENDING;
	else
		reply = dir == KDCAP_DIR_T2H;
	if (reply)
		kv_status(d, "status", m.return_status);
	if (is_mem_api(m.api)) {
		if (!reply) {
			kv_addr(d, "addr", m.u.mem.address);
			kv_hex(d, "len", m.u.mem.transfer_count);
		} else {
			kv_hex(d, is_read_api(m.api) ? "read" : "written",
			       m.u.mem.actual_count);
		}
	} else {
		switch (m.api) {
		case KD_API_GET_VERSION:
			if (reply)
				print_version(d, &m.u.version);
			break;
		case KD_API_GET_CONTEXT:
			if (reply) {
				kv_hex(d, "context", m.data_len);
				if (kd_amd64_context_get(m.data, m.data_len,
							 KD_AMD64_RIP,
							 &rip) == 0)
					kv_addr(d, "rip", rip);
			}
			break;
		case KD_API_GET_CONTEXT_EX:
		case KD_API_SET_CONTEXT_EX:
			kv_hex(d, "offset", m.u.context_ex.offset);
			kv_hex(d, "count", m.u.context_ex.byte_count);
			if (reply)
				kv_hex(d, "copied",
				       m.u.context_ex.bytes_copied);
			break;
		case KD_API_WRITE_BREAKPOINT:
			kv_addr(d, "addr", m.u.write_bp.address);
			if (reply)
				kv_hex(d, "handle", m.u.write_bp.handle);
			break;
		case KD_API_RESTORE_BREAKPOINT:
			kv_hex(d, "handle", m.u.restore_bp_handle);
			break;
		case KD_API_CONTINUE:
			kv_status(d, "continue", m.u.continue_status);
			break;
		case KD_API_CONTINUE2:
			kv_status(d, "continue", m.u.continue2.continue_status);
			kv_u(d, "trace", m.u.continue2.trace_flag);
			kv_hex(d, "dr7", m.u.continue2.amd64.dr7);
			break;
		case KD_API_READ_MSR:
		case KD_API_WRITE_MSR:
			kv_hex(d, "msr", m.u.msr.msr);
			value = (uint64_t)m.u.msr.high << 32 | m.u.msr.low;
			if (reply || m.api == KD_API_WRITE_MSR)
				kv_hex(d, "value", value);
			break;
		default:
			break;
		}
	}
	kv_u(d, "proc", m.processor);
}

static void print_state_change(struct kdcap_dec *d, const uint8_t *p,
			       size_t len)
{
	struct kd_state_change sc;
	const char *name;

	if (kd_state_change_decode(&sc, p, len) < 0) {
		word(d, "error", "short-state-change");
		count_api(d, "(short state change)");
		return;
	}
	name = kd_state_change_name(sc.new_state);
	count_api(d, name ? name : "(unknown state)");
	word(d, "state", name ? name : "UnknownState");
	if (!name)
		kv_hex(d, "new_state", sc.new_state);
	switch (sc.new_state & 0xffffu) {
	case KD_STATE_EXCEPTION:
		kv_status(d, "code", sc.u.exception.record.code);
		kv_addr(d, "addr", sc.u.exception.record.address);
		kv_u(d, "first", sc.u.exception.first_chance);
		break;
	case KD_STATE_LOAD_SYMBOLS:
		kv_addr(d, "base", sc.u.load_symbols.base_of_dll);
		kv_hex(d, "size", sc.u.load_symbols.size_of_image);
		if (sc.u.load_symbols.unload_symbols)
			kv_u(d, "unload", 1);
		kv_str(d, "path", sc.u.load_symbols.path,
		       sc.u.load_symbols.path_len, PATH_TEXT_MAX);
		break;
	case KD_STATE_COMMAND_STRING:
		kv_str(d, "name", sc.u.command_string.name,
		       sc.u.command_string.name_len, PATH_TEXT_MAX);
		kv_str(d, "command", sc.u.command_string.command,
		       sc.u.command_string.command_len, PATH_TEXT_MAX);
		break;
	default:
		break;
	}
	kv_addr(d, "pc", sc.program_counter);
	kv_u(d, "proc", sc.processor);
	kv_u(d, "nproc", sc.number_processors);
}

static void print_debug_io(struct kdcap_dec *d, const uint8_t *p, size_t len)
{
	struct kd_debug_io io;
	const char *name;

	if (kd_debug_io_decode(&io, p, len) < 0) {
		word(d, "error", "short-debug-io");
		count_api(d, "(short debug io)");
		return;
	}
	name = kd_debug_io_api_name(io.api);
	count_api(d, name ? name : "(unknown debug io)");
	word(d, "api", name ? name : "UnknownDebugIo");
	kv_u(d, "proc", io.processor);
	kv_str(d, "text", io.text, io.text_len, DEBUG_IO_TEXT_MAX);
}

static void print_file_io(struct kdcap_dec *d, enum kdcap_dir dir,
			  const uint8_t *p, size_t len)
{
	struct kd_file_io io;
	const char *name;
	uint8_t ascii[PATH_TEXT_MAX];
	size_t n = 0;

	if (kd_file_io_decode(&io, p, len) < 0) {
		word(d, "error", "short-file-io");
		count_api(d, "(short file io)");
		return;
	}
	name = kd_file_io_api_name(io.api);
	count_api(d, name ? name : "(unknown file io)");
	word(d, "api", name ? name : "UnknownFileIo");
	if (dir == KDCAP_DIR_H2T)
		kv_status(d, "status", io.status);
	if (io.api == KD_FILE_IO_CREATE && dir != KDCAP_DIR_H2T) {
		/* UTF-16LE name, shown as ASCII. */
		for (size_t i = 0; i + 1 < io.data_len && n < sizeof(ascii);
		     i += 2) {
			uint16_t c = kd_get_le16(io.data + i);

			if (c == 0)
				break;
			ascii[n++] = c < 0x80 ? (uint8_t)c : '?';
		}
		kv_str(d, "name", ascii, n, sizeof(ascii));
	}
}

static void print_other_api(struct kdcap_dec *d, unsigned type,
			    const uint8_t *p, size_t len)
{
	const char *name = NULL;
	uint32_t api;

	if (len < 4) {
		count_api(d, "(short payload)");
		kv_u(d, "payload", len);
		return;
	}
	api = kd_get_le32(p);
	if (type == KD_PACKET_TYPE_TRACE_IO)
		name = kd_trace_io_api_name(api);
	else if (type == KD_PACKET_TYPE_CONTROL_REQUEST)
		name = kd_control_request_name(api);
	count_api(d, name ? name : "(unknown api)");
	word(d, "api", name ? name : "UnknownApi");
	if (!name)
		kv_hex(d, "api_number", api);
	kv_u(d, "payload", len);
}

/*
 * One KD packet.  @p payload is NULL when only the header is known (a bad
 * packet from the stream parser); @p fault says what was wrong.
 */
static void decode_kd(struct kdcap_dec *d, uint64_t ts, uint64_t off,
		      enum kdcap_dir dir, const struct kd_packet_header *h,
		      const uint8_t *payload, size_t len,
		      enum kd_packet_fault fault)
{
	const char *tname = kd_packet_type_name(h->type);
	bool control = h->leader == KD_PACKET_LEADER_CONTROL;

	d->st.packets++;
	if (control)
		d->st.control_packets++;
	else
		d->st.data_packets++;
	count_type(d, h->type);
	line_begin(d, ts, off, dir, tname ? tname : "UNKNOWN_TYPE");
	if (!tname)
		kv_u(d, "packet_type", h->type);
	sep(d);
	put(d, d->json ? "\"id\":\"%08x\"" : "id=%08x", h->id);
	if (fault != KD_PACKET_FAULT_NONE) {
		if (fault == KD_PACKET_FAULT_CHECKSUM) {
			d->st.checksum_bad++;
			kv_hex(d, "bad_checksum", h->checksum);
			if (payload)
				kv_hex(d, "computed",
				       kd_checksum(payload, len));
		} else {
			d->st.bad_packets++;
			word(d, "error", kd_packet_fault_name(fault));
		}
		kv_u(d, "len", h->byte_count);
		line_end(d);
		return;
	}
	if (!control)
		d->st.checksum_ok++;
	switch (h->type) {
	case KD_PACKET_TYPE_STATE_MANIPULATE:
		print_manipulate(d, dir, payload, len);
		break;
	case KD_PACKET_TYPE_STATE_CHANGE64:
		print_state_change(d, payload, len);
		break;
	case KD_PACKET_TYPE_DEBUG_IO:
		print_debug_io(d, payload, len);
		break;
	case KD_PACKET_TYPE_FILE_IO:
		print_file_io(d, dir, payload, len);
		break;
	case KD_PACKET_TYPE_TRACE_IO:
	case KD_PACKET_TYPE_CONTROL_REQUEST:
		print_other_api(d, h->type, payload, len);
		break;
	case KD_PACKET_TYPE_ACKNOWLEDGE:
	case KD_PACKET_TYPE_RESEND:
	case KD_PACKET_TYPE_RESET:
		break;
	default:
		count_api(d, "(unknown packet type)");
		kv_u(d, "payload", len);
		break;
	}
	line_end(d);
}

/* --- KDNET --- */

static void fmt_ip(const uint8_t ip[16], char *buf, size_t cap)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0,	0,
					      0, 0, 0, 0, 0xff, 0xff };

	if (memcmp(ip, v4mapped, 12) == 0) {
		snprintf(buf, cap, "%u.%u.%u.%u", ip[12], ip[13], ip[14],
			 ip[15]);
		return;
	}
	snprintf(buf, cap,
		 "%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:"
		 "%02x%02x:%02x%02x",
		 ip[0], ip[1], ip[2], ip[3], ip[4], ip[5], ip[6], ip[7], ip[8],
		 ip[9], ip[10], ip[11], ip[12], ip[13], ip[14], ip[15]);
}

static void kv_endpoint(struct kdcap_dec *d, const char *key,
			const struct kd_net_addr *a)
{
	char ip[48];
	char both[64];

	fmt_ip(a->ip, ip, sizeof(ip));
	snprintf(both, sizeof(both), "%s:%u", ip, a->port);
	sep(d);
	if (d->json)
		put(d, "\"%s\":\"%s\"", key, both);
	else
		put(d, "%s=%s", key, both);
}

static void decode_control(struct kdcap_dec *d, uint64_t ts, enum kdcap_dir dir,
			   const struct kd_net_frame *f)
{
	int type = kd_net_control_type(f->payload, f->payload_len);
	struct kd_net_offer o;

	if (type == KD_NET_CTRL_OFFER &&
	    kd_net_offer_parse(f->payload, f->payload_len, &o) == 0) {
		d->st.offers++;
		line_begin(d, ts, 0, dir, "KDNET_OFFER");
		kv_u(d, "seq", f->seq);
		kv_u(d, "version", f->version);
		if (o.have_addrs) {
			kv_endpoint(d, "target", &o.target);
			kv_endpoint(d, "debugger", &o.debugger);
		}
		line_end(d);
		return;
	}
	if (type == KD_NET_CTRL_RESPONSE) {
		int rc = kd_net_session_accept_response(d->net, f->payload,
							f->payload_len);

		d->st.responses++;
		line_begin(d, ts, 0, dir, "KDNET_RESPONSE");
		kv_u(d, "seq", f->seq);
		if (rc == 0) {
			d->st.data_key = true;
			word(d, "data_key", "derived");
		} else {
			word(d, "data_key", "not-derived");
			word(d, "error", "bad-response");
		}
		line_end(d);
		return;
	}
	d->st.control_other++;
	line_begin(d, ts, 0, dir, "KDNET_CONTROL");
	kv_u(d, "seq", f->seq);
	if (type >= 0)
		kv_u(d, "control_type", (unsigned)type);
	kv_u(d, "len", f->payload_len);
	line_end(d);
}

static void decode_data(struct kdcap_dec *d, uint64_t ts, enum kdcap_dir dir,
			const struct kd_net_frame *f)
{
	struct kd_packet_view v;
	struct kd_packet_header h;
	uint32_t ipv4;
	int rc;

	if (kd_net_ping_parse(f->payload, f->payload_len, &ipv4) == 0) {
		char ip[20];

		d->st.pings++;
		snprintf(ip, sizeof(ip), "%u.%u.%u.%u", ipv4 >> 24,
			 ipv4 >> 16 & 0xff, ipv4 >> 8 & 0xff, ipv4 & 0xff);
		line_begin(d, ts, 0, dir, "KDNET_PING");
		word(d, "debugger", ip);
		line_end(d);
		return;
	}
	if (kd_net_is_breakin(f->payload, f->payload_len)) {
		d->st.kdnet_breakins++;
		d->st.breakins++;
		line_begin(d, ts, 0, dir, "BREAKIN");
		line_end(d);
		return;
	}
	rc = kd_packet_decode(f->payload, f->payload_len, &v);
	if (rc == 0) {
		decode_kd(d, ts, 0, dir, &v.hdr, v.payload, v.payload_len,
			  KD_PACKET_FAULT_NONE);
		return;
	}
	if (f->payload_len >= KD_PACKET_HEADER_SIZE &&
	    v.fault != KD_PACKET_FAULT_LEADER) {
		kd_packet_header_decode(&h, f->payload);
		decode_kd(d, ts, 0, dir, &h, f->payload + KD_PACKET_HEADER_SIZE,
			  f->payload_len - KD_PACKET_HEADER_SIZE, v.fault);
		return;
	}
	d->st.bad_packets++;
	line_begin(d, ts, 0, dir, "KDNET_DATA");
	word(d, "error", "not-a-kd-packet");
	kv_u(d, "len", f->payload_len);
	line_end(d);
}

void kdcap_dec_datagram(struct kdcap_dec *d, uint64_t ts_ns, const uint8_t *p,
			size_t len)
{
	static uint8_t plain[PLAIN_CAP];
	struct kd_net_frame f;
	enum kdcap_dir dir;
	int rc;

	if (len < KD_NET_MAGIC_SIZE ||
	    memcmp(p, KD_NET_MAGIC, KD_NET_MAGIC_SIZE) != 0) {
		d->st.other_udp++;
		return;
	}
	d->st.datagrams++;
	if (!d->net) {
		if (!d->st.need_key)
			kdcap_dec_error(
				d, "this is a KDNET capture: "
				   "--key w.x.y.z is needed to decrypt it");
		d->st.need_key = true;
		return;
	}
	rc = kd_net_session_decode(d->net, p, len, plain, sizeof(plain), &f);
	if (rc == KD_EAUTH) {
		d->st.auth_failures++;
		return;
	}
	if (rc < 0) {
		d->st.malformed++;
		line_begin(d, ts_ns, 0, KDCAP_DIR_UNKNOWN, "KDNET_BAD");
		word(d, "error", f.why ? f.why : "malformed");
		kv_u(d, "len", len);
		line_end(d);
		return;
	}
	d->st.authenticated++;
	dir = f.from_debugger ? KDCAP_DIR_H2T : KDCAP_DIR_T2H;
	if (f.channel == KD_NET_CHANNEL_CONTROL)
		decode_control(d, ts_ns, dir, &f);
	else
		decode_data(d, ts_ns, dir, &f);
}

/* --- Serial --- */

void kdcap_dec_stream(struct kdcap_dec *d, enum kdcap_dir dir, uint64_t ts_ns,
		      uint64_t offset, const uint8_t *p, size_t len)
{
	struct kd_stream *s = &d->stream[dir];
	size_t used = 0;

	while (used < len) {
		struct kd_stream_event ev;
		uint64_t at = offset + used;
		size_t back;
		size_t n = kd_stream_feed(s, p + used, len - used, &ev);

		used += n;
		d->st.garbage_bytes += ev.skipped;
		switch (ev.kind) {
		case KD_STREAM_EVENT_PACKET:
			/*
			 * The event comes after the packet's last byte (the
			 * 0xAA trailer of a data packet); show its start.
			 */
			at = offset + used;
			back = ev.raw_len +
			       (ev.hdr.leader == KD_PACKET_LEADER_DATA);
			at = at >= back ? at - back : 0;
			decode_kd(d, ts_ns, at, dir, &ev.hdr, ev.payload,
				  ev.payload_len, KD_PACKET_FAULT_NONE);
			break;
		case KD_STREAM_EVENT_BREAKIN:
			d->st.breakins++;
			line_begin(d, ts_ns, offset + used - 1, dir, "BREAKIN");
			line_end(d);
			break;
		case KD_STREAM_EVENT_BAD_PACKET:
			decode_kd(d, ts_ns, at, dir, &ev.hdr, NULL, 0,
				  ev.reason);
			break;
		default:
			break;
		}
		if (n == 0 && ev.kind == KD_STREAM_EVENT_NONE)
			break; /* cannot happen; never spin */
	}
}

/* --- Set-up, summary --- */

int kdcap_dec_init(struct kdcap_dec *d, FILE *out, FILE *err, const char *key,
		   bool json)
{
	memset(d, 0, sizeof(*d));
	d->out = out;
	d->err = err;
	d->json = json;
	for (size_t i = 0; i < KD_ARRAY_SIZE(d->stream); i++)
		kd_stream_init(&d->stream[i]);
	if (key) {
		int rc = kd_net_session_new(&d->net, key);

		if (rc < 0) {
			fprintf(err, "kdcap: bad --key: %s\n",
				kd_error_last()->message);
			return rc;
		}
	}
	return 0;
}

void kdcap_dec_free(struct kdcap_dec *d)
{
	kd_net_session_free(d->net);
	d->net = NULL;
}

static void summary_counts(struct kdcap_dec *d, const char *what,
			   const struct kdcap_count *arr, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (d->json)
			fprintf(d->out, "%s\"%s\":%" PRIu64, i ? "," : "",
				arr[i].name, arr[i].n);
		else
			fprintf(d->out, "%s %s %" PRIu64 "\n", what,
				arr[i].name, arr[i].n);
	}
}

void kdcap_dec_summary(struct kdcap_dec *d)
{
	const struct kdcap_stats *s = &d->st;
	bool kdnet = s->datagrams > 0;

	for (size_t i = 0; i < KD_ARRAY_SIZE(d->stream); i++)
		if (kd_stream_in_packet(&d->stream[i]))
			kdcap_dec_error(d,
					"%s stream ends inside a packet "
					"(truncated input)",
					dir_names[i]);

	if (d->json) {
		fprintf(d->out,
			"{\"summary\":{\"packets\":%" PRIu64
			",\"data_packets\":%" PRIu64
			",\"control_packets\":%" PRIu64
			",\"checksum_ok\":%" PRIu64 ",\"checksum_bad\":%" PRIu64
			",\"bad_packets\":%" PRIu64 ",\"breakins\":%" PRIu64
			",\"garbage_bytes\":%" PRIu64
			",\"read_errors\":%" PRIu64,
			s->packets, s->data_packets, s->control_packets,
			s->checksum_ok, s->checksum_bad, s->bad_packets,
			s->breakins, s->garbage_bytes, s->read_errors);
		if (kdnet)
			fprintf(d->out,
				",\"kdnet\":{\"datagrams\":%" PRIu64
				",\"authenticated\":%" PRIu64
				",\"auth_failures\":%" PRIu64
				",\"malformed\":%" PRIu64 ",\"offers\":%" PRIu64
				",\"responses\":%" PRIu64 ",\"pings\":%" PRIu64
				",\"data_key\":%s}",
				s->datagrams, s->authenticated,
				s->auth_failures, s->malformed, s->offers,
				s->responses, s->pings,
				s->data_key ? "true" : "false");
		fprintf(d->out, ",\"types\":{");
		summary_counts(d, "type", s->by_type, s->n_types);
		fprintf(d->out, "},\"apis\":{");
		summary_counts(d, "api", s->by_api, s->n_apis);
		fprintf(d->out, "}}}\n");
	} else {
		fprintf(d->out, "-- summary\n");
		fprintf(d->out,
			"packets %" PRIu64 " (data %" PRIu64
			", control %" PRIu64 ")\n",
			s->packets, s->data_packets, s->control_packets);
		fprintf(d->out, "checksums ok %" PRIu64 " bad %" PRIu64 "\n",
			s->checksum_ok, s->checksum_bad);
		fprintf(d->out,
			"errors bad_packets %" PRIu64 " read_errors %" PRIu64
			" garbage_bytes %" PRIu64 "\n",
			s->bad_packets, s->read_errors, s->garbage_bytes);
		fprintf(d->out, "breakins %" PRIu64 "\n", s->breakins);
		if (kdnet) {
			fprintf(d->out,
				"kdnet datagrams %" PRIu64
				" authenticated %" PRIu64
				" auth_failures %" PRIu64 " malformed %" PRIu64
				" other_udp %" PRIu64 "\n",
				s->datagrams, s->authenticated,
				s->auth_failures, s->malformed, s->other_udp);
			fprintf(d->out,
				"kdnet handshake %s data_key %s offers %" PRIu64
				" responses %" PRIu64 " pings %" PRIu64 "\n",
				s->offers && s->responses ? "seen" : "missing",
				s->data_key ? "derived" : "none", s->offers,
				s->responses, s->pings);
		}
		summary_counts(d, "type", s->by_type, s->n_types);
		summary_counts(d, "api", s->by_api, s->n_apis);
	}
	if (s->auth_failures)
		fprintf(d->err,
			"kdcap: %" PRIu64 " of %" PRIu64
			" KDNET datagrams failed authentication"
			" (wrong --key?)\n",
			s->auth_failures, s->datagrams);
	if (s->packets == 0 && s->offers == 0 && !s->need_key &&
	    !s->auth_failures)
		fprintf(d->err, "kdcap: no KD packets found\n");
	else if (s->garbage_bytes)
		fprintf(d->err,
			"kdcap: %" PRIu64
			" garbage byte(s) skipped between packets\n",
			s->garbage_bytes);
}

int kdcap_dec_exit_code(const struct kdcap_dec *d)
{
	const struct kdcap_stats *s = &d->st;

	if (s->need_key)
		return KDCAP_EXIT_USAGE;
	if (s->auth_failures)
		return KDCAP_EXIT_AUTH;
	if (s->packets == 0 && s->offers == 0)
		return KDCAP_EXIT_DECODE;
	return KDCAP_EXIT_OK;
}
