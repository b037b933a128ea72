/* SPDX-License-Identifier: MIT */
/*
 * The live KD target: requests and replies over a kd_link (kd/link.h).
 * One request is in flight at a time.  A reply that does not come is asked
 * for again (Windows takes any host data packet as the ACK of its last
 * reply), state changes are de-duplicated (a target re-sends its pending
 * report after a RESET), DebugIO prints are streamed to the session as they
 * arrive and GetString prompts are answered from the session's input.
 *
 * A reply answers a request only when it echoes the request's own fields
 * (API number, address and count, processor, handle, MSR: the target
 * echoes the request structure, kd-protocol.md §2.1).  A re-sent request
 * may be answered twice; the late answer matches no later request (or, for
 * the same fields at the same stop, carries the same bytes) and is dropped
 * and counted.  A request that fails without the target saying no is
 * reported to the running command (kd_target_failed), so it is never shown
 * as unreadable memory or an empty list.
 */
#include <string.h>
#include <strings.h>

#include <kd/dump.h>
#include <kd/link.h>
#include <kd/textsafe.h>
#include <kd/transport.h>

#include "core/engine_int.h"
#include "core/memcache.h"

#define KD_LIVE_SLICE_MS 50 /* wait granularity: Ctrl+C latency */

struct kd_live {
	struct kd_target base;
	struct kd_link *link;
	int request_timeout_ms;
	/* The state change we are stopped at, raw, for de-duplication. */
	uint8_t sc_raw[KD_PACKET_MAX_RECV];
	size_t sc_len;
	bool have_sc;
	/* A new state change that arrived while waiting for a reply. */
	struct kd_event pending;
	bool have_pending;
	bool reconnected;	/* the target restarted since last asked */
	uint64_t stray_replies; /* replies that matched no request */
	uint64_t resent;	/* requests asked again after silence */
	bool in_request;	/* live_request is waiting for a reply */
	int resend_ms;		/* silence before a request is asked again */
	/* State changes that did not decode: dropped, but never silently
	 * (an attach that times out says what the target sent instead). */
	uint64_t bad_sc;
	char bad_sc_why[128];
	uint8_t rx[KD_PACKET_MAX_RECV];
	uint8_t tx[KD_PACKET_MAX_SEND];
	uint8_t reply_data[KD_PACKET_MAX_RECV];
};

static struct kd_live *live_of(struct kd_target *t)
{
	return (struct kd_live *)t;
}

static size_t live_explain(struct kd_target *t, char *buf, size_t cap);

/* Decode a state change into an event. */
static int live_event(struct kd_event *ev, const uint8_t *buf, size_t len)
{
	struct kd_state_change sc;
	int rc = kd_state_change_decode(&sc, buf, len);
	unsigned i;

	if (rc < 0)
		return rc;
	memset(ev, 0, sizeof(*ev));
	ev->cpu = sc.processor;
	ev->ncpus = sc.number_processors;
	ev->thread = sc.thread;
	ev->pc = sc.program_counter;
	ev->dr6 = sc.amd64.dr6;
	ev->dr7 = sc.amd64.dr7;
	ev->eflags = sc.amd64.eflags;
	ev->stream_len = (unsigned)kd_report_stream_len(
		sc.amd64.instruction_count);
	memcpy(ev->stream, sc.amd64.instruction_stream, ev->stream_len);
	switch (sc.new_state & ~KD_STATE_ALTERNATE) {
	case KD_STATE_EXCEPTION:
		ev->kind = KD_EV_EXCEPTION;
		ev->code = sc.u.exception.record.code;
		ev->exc_flags = sc.u.exception.record.flags;
		ev->exc_address = sc.u.exception.record.address;
		ev->first_chance = sc.u.exception.first_chance != 0;
		ev->nparams = sc.u.exception.record.number_parameters;
		if (ev->nparams > KD_EXCEPTION_MAXIMUM_PARAMETERS)
			ev->nparams = KD_EXCEPTION_MAXIMUM_PARAMETERS;
		for (i = 0; i < ev->nparams; i++)
			ev->params[i] = sc.u.exception.record.information[i];
		break;
	case KD_STATE_LOAD_SYMBOLS:
		ev->kind = sc.u.load_symbols.unload_symbols ? KD_EV_UNLOAD :
							      KD_EV_LOAD;
		ev->mod_base = sc.u.load_symbols.base_of_dll;
		ev->mod_size = sc.u.load_symbols.size_of_image;
		if (sc.u.load_symbols.path) {
			size_t n = sc.u.load_symbols.path_len;

			if (n >= sizeof(ev->path))
				n = sizeof(ev->path) - 1;
			memcpy(ev->path, sc.u.load_symbols.path, n);
			ev->path[n] = '\0';
		}
		break;
	case KD_STATE_COMMAND_STRING:
		ev->kind = KD_EV_COMMAND;
		break;
	default:
		return KD_EPROTO;
	}
	return KD_OK;
}

/* Remember why the state change in lt->rx (@p len bytes) was dropped. */
static void live_bad_sc(struct kd_live *lt, size_t len)
{
	uint32_t state = len >= 4 ? kd_get_le32(lt->rx) : 0;

	lt->bad_sc++;
	if (len < KD_SC_SIZE)
		snprintf(lt->bad_sc_why, sizeof(lt->bad_sc_why),
			 "%zu bytes, shorter than DBGKD_ANY_WAIT_STATE_CHANGE "
			 "(%u)",
			 len, (unsigned)KD_SC_SIZE);
	else
		snprintf(lt->bad_sc_why, sizeof(lt->bad_sc_why),
			 "unknown NewState 0x%08x", state);
}

/* Answer a GetString prompt from the session's input. */
static int live_get_string(struct kd_live *lt, const struct kd_debug_io *io)
{
	char prompt[512], answer[512];
	struct kd_debug_io reply;
	size_t n = io->text_len < sizeof(prompt) - 1 ? io->text_len :
						       sizeof(prompt) - 1;
	size_t len, cap = io->read_length;
	int rc;

	memcpy(prompt, io->text, n);
	prompt[n] = '\0';
	rc = kd_target_prompt(lt->base.session, prompt, answer, sizeof(answer));
	if (rc < 0)
		answer[0] = '\0';
	len = strlen(answer);
	if (cap && len > cap)
		len = cap;
	memset(&reply, 0, sizeof(reply));
	reply.api = KD_DEBUG_IO_GET_STRING;
	reply.processor = io->processor;
	reply.processor_level = io->processor_level;
	reply.length = io->length;
	reply.read_length = (uint32_t)len;
	rc = kd_debug_io_encode(lt->tx, sizeof(lt->tx), &n, &reply, answer,
				len);
	if (rc < 0)
		return rc;
	return kd_link_send(lt->link, KD_PACKET_TYPE_DEBUG_IO, lt->tx, n);
}

/*
 * Receive one packet and handle what is not for the caller.  Returns
 * KD_OK with *type set for STATE_MANIPULATE (in lt->rx, *len) or a new
 * STATE_CHANGE64 (decoded into lt->pending, have_pending set), KD_EAGAIN
 * when a packet was consumed here, KD_ETIMEOUT or a link failure.
 */
static int live_pump(struct kd_live *lt, int timeout_ms, unsigned *type,
		     size_t *len)
{
	uint32_t events;
	int rc;

	rc = kd_link_recv(lt->link, type, lt->rx, sizeof(lt->rx), len,
			  timeout_ms);
	events = kd_link_events(lt->link);
	if (events & KD_LINK_EVENT_RESYNC) {
		lt->reconnected = true;
		/*
		 * While a request waits, the target is stopped and answering:
		 * a SYNC-bit packet then follows our own RESET on a noisy
		 * line, and a state change re-sent with it is the stop we
		 * are at, not a new one that would abort the request.
		 */
		if (!lt->in_request)
			lt->have_sc = false;
	}
	if (rc < 0)
		return rc;
	if (*type == KD_PACKET_TYPE_DEBUG_IO) {
		struct kd_debug_io io;

		if (kd_debug_io_decode(&io, lt->rx, *len) < 0)
			return KD_EAGAIN;
		if (io.api == KD_DEBUG_IO_PRINT_STRING)
			kd_target_print(lt->base.session, (const char *)io.text,
					io.text_len);
		else if (io.api == KD_DEBUG_IO_GET_STRING)
			live_get_string(lt, &io);
		return KD_EAGAIN;
	}
	if (*type == KD_PACKET_TYPE_STATE_CHANGE64) {
		struct kd_event ev;

		if (lt->have_sc && *len == lt->sc_len &&
		    memcmp(lt->rx, lt->sc_raw, *len) == 0)
			return KD_EAGAIN; /* the same stop, re-sent */
		if (live_event(&ev, lt->rx, *len) < 0) {
			live_bad_sc(lt, *len);
			return KD_EAGAIN;
		}
		memcpy(lt->sc_raw, lt->rx, *len);
		lt->sc_len = *len;
		lt->have_sc = true;
		lt->pending = ev;
		lt->have_pending = true;
		return KD_OK;
	}
	if (*type == KD_PACKET_TYPE_STATE_MANIPULATE)
		return KD_OK;
	return KD_EAGAIN; /* file I/O, trace I/O: not used by kdsim */
}

/*
 * Send a packet; on an ACK time-out re-synchronise once and retry, the
 * re-synchronisation bounded by what is left of @p deadline (the link's own
 * tries are bounded to about one request time-out at open).
 */
static int live_send(struct kd_live *lt, unsigned type, const void *buf,
		     size_t len, uint64_t deadline)
{
	int rc = kd_link_send(lt->link, type, buf, len);

	if (rc == KD_ETIMEOUT) {
		uint64_t now = kd_mono_ms();
		int left = now < deadline ? (int)(deadline - now) : 0;

		if (left < lt->resend_ms)
			left = lt->resend_ms; /* one RESET at least */
		rc = kd_link_sync(lt->link, left);
		if (rc == KD_OK)
			rc = kd_link_send(lt->link, type, buf, len);
	}
	return rc;
}

/* "ReadVirtualMemory of 0x1000 bytes at fffff800`00401000" and the like. */
static const char *live_describe(const struct kd_manipulate *m, char *buf,
				 size_t cap)
{
	const char *name = kd_manipulate_api_name(m->api);

	switch (m->api) {
	case KD_API_READ_VIRTUAL_MEMORY:
	case KD_API_WRITE_VIRTUAL_MEMORY:
	case KD_API_READ_PHYSICAL_MEMORY:
	case KD_API_WRITE_PHYSICAL_MEMORY:
	case KD_API_READ_CONTROL_SPACE:
	case KD_API_WRITE_CONTROL_SPACE:
		snprintf(buf, cap, "%s of 0x%x bytes at %08x`%08x", name,
			 m->u.mem.transfer_count,
			 (unsigned)(m->u.mem.address >> 32),
			 (unsigned)m->u.mem.address);
		break;
	default:
		snprintf(buf, cap, "%s on processor %u", name, m->processor);
		break;
	}
	return buf;
}

static bool live_is_mem(uint32_t api)
{
	return api == KD_API_READ_VIRTUAL_MEMORY ||
	       api == KD_API_WRITE_VIRTUAL_MEMORY ||
	       api == KD_API_READ_PHYSICAL_MEMORY ||
	       api == KD_API_WRITE_PHYSICAL_MEMORY ||
	       api == KD_API_READ_CONTROL_SPACE ||
	       api == KD_API_WRITE_CONTROL_SPACE;
}

/*
 * Whether @p r answers @p m: the same API and the request's own fields
 * echoed back.  Only fields the protocol echoes are compared (output
 * fields such as ActualBytesRead are checked for sense instead).
 */
static bool live_answers(const struct kd_manipulate *m,
			 const struct kd_manipulate *r)
{
	if (r->api != m->api)
		return false;
	if (live_is_mem(m->api)) {
		bool rd = m->api == KD_API_READ_VIRTUAL_MEMORY ||
			  m->api == KD_API_READ_PHYSICAL_MEMORY ||
			  m->api == KD_API_READ_CONTROL_SPACE;

		if (r->u.mem.address != m->u.mem.address ||
		    r->u.mem.transfer_count != m->u.mem.transfer_count ||
		    r->u.mem.actual_count > m->u.mem.transfer_count)
			return false;
		/* A read's bytes follow the structure: all of them. */
		if (rd && r->return_status == KD_STATUS_SUCCESS &&
		    r->data_len < r->u.mem.actual_count)
			return false;
		/* Control space is per processor. */
		if ((m->api == KD_API_READ_CONTROL_SPACE ||
		     m->api == KD_API_WRITE_CONTROL_SPACE) &&
		    r->processor != m->processor)
			return false;
		return true;
	}
	switch (m->api) {
	case KD_API_GET_CONTEXT:
	case KD_API_SET_CONTEXT:
		return r->processor == m->processor;
	case KD_API_WRITE_BREAKPOINT:
		return r->u.write_bp.address == m->u.write_bp.address;
	case KD_API_RESTORE_BREAKPOINT:
		return r->u.restore_bp_handle == m->u.restore_bp_handle;
	case KD_API_READ_MSR:
		return r->u.msr.msr == m->u.msr.msr;
	case KD_API_WRITE_MSR:
		return r->u.msr.msr == m->u.msr.msr &&
		       r->u.msr.low == m->u.msr.low &&
		       r->u.msr.high == m->u.msr.high;
	default:
		return true; /* GetVersion and the like: nothing to echo */
	}
}

/* Record a failed request for the running command; returns @p rc. */
static int live_fail(struct kd_live *lt, int rc)
{
	return kd_target_failed(lt->base.session, rc);
}

/* The same, naming the request and keeping the link's own reason. */
static int live_fail_why(struct kd_live *lt, const struct kd_manipulate *m,
			 int rc)
{
	char why[sizeof(((struct kd_error *)0)->message)];
	char what[96];

	/* Copied first: kd_error_set() writes over the message it prints. */
	snprintf(why, sizeof(why), "%s", kd_error_message(rc));
	return live_fail(lt, kd_error_set(rc, KD_ERRCLASS_ENGINE, "%s: %s",
					  live_describe(m, what, sizeof(what)),
					  why));
}

/*
 * One manipulate request.  With @p reply NULL nothing is awaited (resume
 * forms).  The reply's data (if any) is copied to lt->reply_data.
 */
static int live_request_once(struct kd_live *lt, struct kd_manipulate *m,
			     const void *data, size_t data_len,
			     struct kd_manipulate *reply)
{
	uint64_t deadline = kd_mono_ms() + (uint64_t)lt->request_timeout_ms;
	char what[96];
	bool again = false;
	size_t n;
	int rc;

	/* The running command already lost a request: do not wait again. */
	rc = kd_target_failure(lt->base.session);
	if (rc < 0)
		return rc;
	m->machine = KD_MACHINE_AMD64;
	m->return_status = KD_STATUS_PENDING;
	rc = kd_manipulate_encode(lt->tx, sizeof(lt->tx), &n, m, data,
				  data_len);
	if (rc < 0)
		return live_fail(lt, rc);
	if (lt->have_pending)
		return live_fail(
			lt, kd_error_set(KD_EAGAIN, KD_ERRCLASS_ENGINE,
					 "%s: the target reported a new stop",
					 live_describe(m, what, sizeof(what))));
	for (;;) {
		uint64_t now;

		if (again)
			lt->resent++;
		again = true;
		rc = live_send(lt, KD_PACKET_TYPE_STATE_MANIPULATE, lt->tx, n,
			       deadline);
		if (rc < 0)
			return live_fail_why(lt, m, rc);
		if (!reply)
			return KD_OK;
		for (;;) {
			unsigned type;
			size_t len;
			int wait;

			now = kd_mono_ms();
			if (now >= deadline) {
				char why[200];

				/* Say what came instead, if anything. */
				if (live_explain(&lt->base, why + 2,
						 sizeof(why) - 2))
					memcpy(why, "; ", 2);
				else
					why[0] = '\0';
				return live_fail(
					lt,
					kd_error_set(
						KD_ETIMEOUT, KD_ERRCLASS_ENGINE,
						"%s: no reply from the target in %d ms%s",
						live_describe(m, what,
							      sizeof(what)),
						lt->request_timeout_ms, why));
			}
			/* Ask again after a second of silence (a quarter of
			 * a shorter request bound: several tries fit). */
			wait = (int)(deadline - now);
			if (wait > lt->resend_ms)
				wait = lt->resend_ms;
			rc = live_pump(lt, wait, &type, &len);
			if (rc == KD_EAGAIN)
				continue;
			if (rc == KD_ETIMEOUT)
				break;
			if (rc < 0)
				return live_fail_why(lt, m, rc);
			if (type == KD_PACKET_TYPE_STATE_CHANGE64)
				return live_fail(
					lt,
					kd_error_set(
						KD_EAGAIN, KD_ERRCLASS_ENGINE,
						"%s: the target reported a new stop",
						live_describe(m, what,
							      sizeof(what))));
			if (kd_manipulate_decode(reply, lt->rx, len) < 0 ||
			    !live_answers(m, reply)) {
				/* A late answer to an earlier try or an
				 * earlier request: never this one's. */
				lt->stray_replies++;
				continue;
			}
			if (reply->data_len > sizeof(lt->reply_data))
				reply->data_len = sizeof(lt->reply_data);
			memcpy(lt->reply_data, reply->data, reply->data_len);
			reply->data = lt->reply_data;
			return KD_OK;
		}
	}
}

static int live_request(struct kd_live *lt, struct kd_manipulate *m,
			const void *data, size_t data_len,
			struct kd_manipulate *reply)
{
	int rc;

	/* A failed request leaves a defined (empty) reply behind. */
	if (reply)
		memset(reply, 0, sizeof(*reply));
	lt->in_request = reply != NULL;
	rc = live_request_once(lt, m, data, data_len, reply);
	lt->in_request = false;
	return rc;
}

static void live_init_req(struct kd_manipulate *m, uint32_t api, unsigned cpu)
{
	memset(m, 0, sizeof(*m));
	m->api = api;
	m->processor = (uint16_t)cpu;
}

/* Read or write memory-like spaces in KD_MAX_TRANSFER pieces. */
static int live_xfer(struct kd_target *t, uint32_t api, unsigned cpu,
		     uint64_t addr, void *rbuf, const void *wbuf, size_t len,
		     size_t *done)
{
	struct kd_live *lt = live_of(t);
	size_t total = 0;
	int rc = KD_OK;

	*done = 0;
	while (total < len) {
		struct kd_manipulate m, r;
		uint32_t chunk = (uint32_t)(len - total > KD_MAX_TRANSFER ?
						    KD_MAX_TRANSFER :
						    len - total);
		uint32_t got;

		live_init_req(&m, api, cpu);
		m.u.mem.address = addr + total;
		m.u.mem.transfer_count = chunk;
		rc = live_request(lt, &m,
				  wbuf ? (const uint8_t *)wbuf + total : NULL,
				  wbuf ? chunk : 0, &r);
		if (rc < 0)
			break;
		if (r.return_status != KD_STATUS_SUCCESS)
			break;
		got = r.u.mem.actual_count;
		if (got > chunk)
			got = chunk;
		if (rbuf) {
			if (got > r.data_len)
				got = (uint32_t)r.data_len;
			memcpy((uint8_t *)rbuf + total, r.data, got);
		}
		total += got;
		if (got < chunk)
			break;
	}
	*done = total;
	/* A link failure with nothing read is a failure; a short read is not. */
	return total == 0 && rc < 0 ? rc : KD_OK;
}

static int live_read_virtual(struct kd_target *t, unsigned cpu, uint64_t va,
			     void *buf, size_t len, size_t *done)
{
	return live_xfer(t, KD_API_READ_VIRTUAL_MEMORY, cpu, va, buf, NULL, len,
			 done);
}

static int live_write_virtual(struct kd_target *t, unsigned cpu, uint64_t va,
			      const void *buf, size_t len, size_t *done)
{
	return live_xfer(t, KD_API_WRITE_VIRTUAL_MEMORY, cpu, va, NULL, buf,
			 len, done);
}

static int live_read_physical(struct kd_target *t, uint64_t pa, void *buf,
			      size_t len, size_t *done)
{
	return live_xfer(t, KD_API_READ_PHYSICAL_MEMORY, t->session->tgt.cpu,
			 pa, buf, NULL, len, done);
}

static int live_write_physical(struct kd_target *t, uint64_t pa,
			       const void *buf, size_t len, size_t *done)
{
	return live_xfer(t, KD_API_WRITE_PHYSICAL_MEMORY, t->session->tgt.cpu,
			 pa, NULL, buf, len, done);
}

static int live_read_control(struct kd_target *t, unsigned cpu, uint64_t sel,
			     void *buf, size_t len, size_t *done)
{
	return live_xfer(t, KD_API_READ_CONTROL_SPACE, cpu, sel, buf, NULL, len,
			 done);
}

static int live_write_control(struct kd_target *t, unsigned cpu, uint64_t sel,
			      const void *buf, size_t len, size_t *done)
{
	return live_xfer(t, KD_API_WRITE_CONTROL_SPACE, cpu, sel, NULL, buf,
			 len, done);
}

static int live_status(struct kd_manipulate *r, const char *what)
{
	if (r->return_status == KD_STATUS_SUCCESS)
		return KD_OK;
	return kd_error_set(KD_EPROTO, KD_ERRCLASS_ENGINE,
			    "%s failed: status %08x", what, r->return_status);
}

static int live_get_context(struct kd_target *t, unsigned cpu, uint8_t *ctx)
{
	struct kd_live *lt = live_of(t);
	struct kd_manipulate m, r;
	int rc;

	live_init_req(&m, KD_API_GET_CONTEXT, cpu);
	rc = live_request(lt, &m, NULL, 0, &r);
	if (rc < 0)
		return rc;
	rc = live_status(&r, "GetContext");
	if (rc < 0)
		return rc;
	if (r.data_len < KD_AMD64_CONTEXT_SIZE)
		return kd_error_set(KD_EPROTO, KD_ERRCLASS_ENGINE,
				    "GetContext returned %zu bytes",
				    r.data_len);
	memcpy(ctx, r.data, KD_AMD64_CONTEXT_SIZE);
	return KD_OK;
}

static int live_set_context(struct kd_target *t, unsigned cpu,
			    const uint8_t *ctx)
{
	struct kd_live *lt = live_of(t);
	struct kd_manipulate m, r;
	int rc;

	live_init_req(&m, KD_API_SET_CONTEXT, cpu);
	m.u.context_flags = kd_get_le32(ctx + KD_AMD64_CTX_OFF_FLAGS);
	rc = live_request(lt, &m, ctx, KD_AMD64_CONTEXT_SIZE, &r);
	if (rc < 0)
		return rc;
	return live_status(&r, "SetContext");
}

static int live_msr(struct kd_target *t, unsigned cpu, uint32_t msr,
		    uint64_t *value, bool write)
{
	struct kd_live *lt = live_of(t);
	struct kd_manipulate m, r;
	int rc;

	live_init_req(&m, write ? KD_API_WRITE_MSR : KD_API_READ_MSR, cpu);
	m.u.msr.msr = msr;
	if (write) {
		m.u.msr.low = (uint32_t)*value;
		m.u.msr.high = (uint32_t)(*value >> 32);
	}
	rc = live_request(lt, &m, NULL, 0, &r);
	if (rc < 0)
		return rc;
	rc = live_status(&r, write ? "WriteMsr" : "ReadMsr");
	if (rc == KD_OK && !write)
		*value = ((uint64_t)r.u.msr.high << 32) | r.u.msr.low;
	return rc;
}

static int live_read_msr(struct kd_target *t, unsigned cpu, uint32_t msr,
			 uint64_t *value)
{
	return live_msr(t, cpu, msr, value, false);
}

static int live_write_msr(struct kd_target *t, unsigned cpu, uint32_t msr,
			  uint64_t value)
{
	return live_msr(t, cpu, msr, &value, true);
}

static int live_insert_bp(struct kd_target *t, unsigned cpu, uint64_t va,
			  uint32_t *handle)
{
	struct kd_live *lt = live_of(t);
	struct kd_manipulate m, r;
	int rc;

	live_init_req(&m, KD_API_WRITE_BREAKPOINT, cpu);
	m.u.write_bp.address = va;
	rc = live_request(lt, &m, NULL, 0, &r);
	if (rc < 0)
		return rc;
	if (r.return_status != KD_STATUS_SUCCESS)
		return kd_error_set(KD_EFAULT, KD_ERRCLASS_ENGINE,
				    "cannot write a breakpoint at %llx",
				    (unsigned long long)va);
	*handle = r.u.write_bp.handle;
	return KD_OK;
}

static int live_remove_bp(struct kd_target *t, unsigned cpu, uint32_t handle)
{
	struct kd_live *lt = live_of(t);
	struct kd_manipulate m, r;
	int rc;

	live_init_req(&m, KD_API_RESTORE_BREAKPOINT, cpu);
	m.u.restore_bp_handle = handle;
	rc = live_request(lt, &m, NULL, 0, &r);
	if (rc < 0)
		return rc;
	return live_status(&r, "RestoreBreakPoint");
}

static int live_resume(struct kd_target *t, unsigned cpu,
		       const struct kd_resume *how)
{
	struct kd_live *lt = live_of(t);
	struct kd_manipulate m;

	live_init_req(&m, KD_API_CONTINUE2, cpu);
	m.u.continue2.continue_status = how->status;
	m.u.continue2.trace_flag = how->trace ? 1 : 0;
	m.u.continue2.amd64.dr7 = how->dr7;
	m.u.continue2.amd64.symbol_start = KD_CONTINUE_NO_SYMBOL_RANGE;
	m.u.continue2.amd64.symbol_end = 0;
	lt->have_sc = false; /* the next report is a new stop */
	return live_request(lt, &m, NULL, 0, NULL);
}

static int live_wait(struct kd_target *t, int timeout_ms, struct kd_event *ev)
{
	struct kd_live *lt = live_of(t);
	uint64_t deadline = timeout_ms < 0 ?
				    UINT64_MAX :
				    kd_mono_ms() + (uint64_t)timeout_ms;
	bool broke = false;

	for (;;) {
		unsigned type;
		size_t len;
		uint64_t now;
		int wait = KD_LIVE_SLICE_MS;
		int rc;

		if (lt->have_pending) {
			*ev = lt->pending;
			lt->have_pending = false;
			return KD_OK;
		}
		if (t->session->interrupt && !broke) {
			rc = kd_link_break_in(lt->link);
			if (rc < 0)
				return rc;
			broke = true;
		}
		now = kd_mono_ms();
		if (now >= deadline)
			return KD_ETIMEOUT;
		if (deadline - now < (uint64_t)wait)
			wait = (int)(deadline - now);
		rc = live_pump(lt, wait, &type, &len);
		if (rc == KD_EAGAIN || rc == KD_ETIMEOUT)
			continue;
		if (rc < 0)
			return rc;
		/* A stray reply while running: ignore it. */
	}
}

static int live_break_in(struct kd_target *t)
{
	return kd_link_break_in(live_of(t)->link);
}

static int live_switch_cpu(struct kd_target *t, unsigned cpu)
{
	struct kd_live *lt = live_of(t);
	struct kd_manipulate m;

	live_init_req(&m, KD_API_SWITCH_PROCESSOR, cpu);
	lt->have_sc = false;
	return live_request(lt, &m, NULL, 0, NULL);
}

static int live_reboot(struct kd_target *t)
{
	struct kd_live *lt = live_of(t);
	struct kd_manipulate m;

	live_init_req(&m, KD_API_REBOOT, t->session->tgt.cpu);
	lt->have_sc = false;
	return live_request(lt, &m, NULL, 0, NULL);
}

static int live_crash(struct kd_target *t, unsigned cpu, uint32_t code)
{
	struct kd_live *lt = live_of(t);
	struct kd_manipulate m;

	(void)code;
	live_init_req(&m, KD_API_CAUSE_BUGCHECK, cpu);
	lt->have_sc = false;
	return live_request(lt, &m, NULL, 0, NULL);
}

static void live_close(struct kd_target *t)
{
	struct kd_live *lt = live_of(t);

	kd_link_close(lt->link);
	kd_free(lt);
}

/* Who the target is: GetVersion on @p cpu; the rest comes with each stop
 * (processor count) or from memory (the debugger data block). */
static int live_identify(struct kd_target *t, unsigned cpu,
			 struct kd_target_id *id)
{
	struct kd_manipulate m, r;
	int rc;

	memset(id, 0, sizeof(*id));
	live_init_req(&m, KD_API_GET_VERSION, cpu);
	rc = live_request(live_of(t), &m, NULL, 0, &r);
	if (rc < 0)
		return rc;
	rc = live_status(&r, "GetVersion");
	if (rc < 0)
		return rc;
	id->version = r.u.version;
	id->machine = KD_DUMP_MACHINE_AMD64;
	id->crash_cpu = cpu;
	id->checked_build = !((id->version.major_version >> 8) == 0x0F ||
			      (id->version.major_version & 0xff) == 0x0F);
	return KD_OK;
}

/* True once after the link saw the target restart (SYNC / re-offer). */
static bool live_take_reconnected(struct kd_target *t)
{
	struct kd_live *lt = live_of(t);
	bool r = lt->reconnected;

	lt->reconnected = false;
	return r;
}

static struct kd_link *live_link(struct kd_target *t, uint64_t *stray,
				 uint64_t *resent)
{
	if (stray)
		*stray = live_of(t)->stray_replies;
	if (resent)
		*resent = live_of(t)->resent;
	return live_of(t)->link;
}

static const struct kd_target_ops live_ops = {
	.version = KD_TARGET_OPS_VERSION,
	.name = "live",
	.caps = KD_TCAP_RUN | KD_TCAP_WRITE_MEMORY | KD_TCAP_WRITE_REGS |
		KD_TCAP_BREAKPOINTS | KD_TCAP_HW_BREAKPOINTS | KD_TCAP_MSR |
		KD_TCAP_REBOOT | KD_TCAP_CRASH | KD_TCAP_SWITCH_CPU |
		KD_TCAP_PHYSICAL | KD_TCAP_CONTROL | KD_TCAP_LINK |
		KD_TCAP_SAVE_DUMP,
	.identify = live_identify,
	.read_virtual = live_read_virtual,
	.write_virtual = live_write_virtual,
	.read_physical = live_read_physical,
	.write_physical = live_write_physical,
	.read_control = live_read_control,
	.write_control = live_write_control,
	.get_context = live_get_context,
	.set_context = live_set_context,
	.read_msr = live_read_msr,
	.write_msr = live_write_msr,
	.insert_bp = live_insert_bp,
	.remove_bp = live_remove_bp,
	.resume = live_resume,
	.wait = live_wait,
	.break_in = live_break_in,
	.switch_cpu = live_switch_cpu,
	.reboot = live_reboot,
	.crash = live_crash,
	.take_reconnected = live_take_reconnected,
	.link = live_link,
	.close = live_close,
};

/* Takes @p transport (closed on failure too). */
static int live_new(struct kd_session *s, struct kd_transport *transport,
		    struct kd_target **out)
{
	struct kd_link_opts o = KD_LINK_OPTS_INIT;
	struct kd_live *lt;
	int rc;

	*out = NULL;
	lt = kd_calloc(1, sizeof(*lt));
	if (!lt) {
		kd_transport_close(transport);
		return KD_ENOMEM;
	}
	o.role = KD_LINK_HOST;
	/* A send that is never ACKed gives up in about one request bound
	 * (the link's default is 20 tries of 500 ms: 10 s). */
	o.max_tries = s->opts.request_timeout_ms / 500;
	if (o.max_tries < 4)
		o.max_tries = 4;
	if (o.max_tries > 20)
		o.max_tries = 20;
	rc = kd_link_open(&lt->link, transport, &o);
	if (rc < 0) {
		/* On failure the transport is still ours (kd/link.h). */
		kd_transport_close(transport);
		kd_free(lt);
		return rc;
	}
	lt->base.ops = &live_ops;
	lt->base.session = s;
	lt->request_timeout_ms = s->opts.request_timeout_ms;
	lt->resend_ms = lt->request_timeout_ms / 4;
	if (lt->resend_ms > 1000)
		lt->resend_ms = 1000;
	if (lt->resend_ms < 50)
		lt->resend_ms = 50;
	*out = &lt->base;
	return KD_OK;
}

/*
 * What the target sent that was refused (malformed state changes, packets
 * over the size limit), as one phrase in @p buf; returns its length (0:
 * nothing was refused).
 */
static size_t live_explain(struct kd_target *t, char *buf, size_t cap)
{
	struct kd_link_stats st;
	struct kd_live *lt;
	size_t n = 0;
	int w;

	if (cap)
		buf[0] = '\0';
	if (!t || cap == 0)
		return 0;
	lt = live_of(t);
	if (lt->bad_sc) {
		w = snprintf(buf, cap,
			     "the target sent %llu malformed state "
			     "change(s) (the last: %s)",
			     (unsigned long long)lt->bad_sc, lt->bad_sc_why);
		n = w < 0 ? 0 : (size_t)w < cap ? (size_t)w : cap - 1;
	}
	kd_link_stats(lt->link, &st);
	if (st.bad_lengths && n + 2 < cap) {
		w = snprintf(buf + n, cap - n,
			     "%s%llu packet(s) longer than "
			     "%u bytes refused",
			     n ? "; " : "the target sent ",
			     (unsigned long long)st.bad_lengths,
			     (unsigned)KD_PACKET_MAX_RECV);
		if (w > 0)
			n += (size_t)w < cap - n ? (size_t)w : cap - n - 1;
	}
	return n;
}

static int live_sync(struct kd_target *t, int timeout_ms)
{
	return kd_link_sync(live_of(t)->link, timeout_ms);
}

static const char *conn_param(const char *connstr, const char *key, char *buf,
			      size_t cap)
{
	const char *p = strchr(connstr, ':');
	size_t klen = strlen(key);

	buf[0] = '\0';
	while (p) {
		p++;
		if (strncasecmp(p, key, klen) == 0 && p[klen] == '=') {
			size_t n = strcspn(p + klen + 1, ",");

			if (n >= cap)
				n = cap - 1;
			memcpy(buf, p + klen + 1, n);
			buf[n] = '\0';
			return buf;
		}
		p = strchr(p, ',');
	}
	return NULL;
}

/* Silence at attach after which the target is asked again for its stop. */
#define KD_ATTACH_RESYNC_MS 2000

/*
 * The live driver of kd_target_open(): open @p connstr, synchronise and
 * wait for the target's first stop, printing the connection banners, then
 * identify it (kd_target_first_stop).  *first is that stop, for the caller
 * to report (or run on from, when it is no exception).
 */
static int live_driver_open(struct kd_session *s, const char *connstr,
			    struct kd_event *first)
{
	struct kd_transport *t = NULL;
	struct kd_event ev;
	char port[256], ip[64], shown[1024], why[200];
	bool net = strncasecmp(connstr, "net:", 4) == 0;
	uint64_t t0 = kd_mono_ms();
	int rc;

	snprintf(s->tgt.connstr, sizeof(s->tgt.connstr), "%s", connstr);
	if (net) {
		kd_out(s, "Using NET for debugging\n");
		kd_out(s, "Opened WinSock 2.0\n");
	}
	rc = kd_transport_open(&t, connstr);
	if (rc < 0)
		return kd_fail(s, rc, "Failed to open %s: %s",
			       kd_text_redact(shown, sizeof(shown), connstr),
			       kd_error_message(rc));
	if (!net && conn_param(connstr, "port", port, sizeof(port))) {
		if (conn_param(connstr, "ipport", ip, sizeof(ip)))
			kd_out(s, "Opened %s:%s\n", port, ip);
		else
			kd_out(s, "Opened %s\n", port);
	}
	kd_out(s, "Waiting to reconnect...\n");
	rc = live_new(s, t, &s->target);
	if (rc < 0)
		return kd_fail(s, rc, "Failed to start the KD link: %s",
			       kd_error_message(rc));
	rc = live_sync(s->target, s->opts.attach_timeout_ms);
	if (rc < 0)
		goto fail;
	if (net) {
		uint16_t hp = 0, tp = 0;

		if (kd_transport_udp_ports(t, &hp, &tp) == KD_OK)
			kd_out(s,
			       "Connected to target on port %u on local "
			       "port %u\n",
			       tp, hp);
	}
	s->tgt.running = true;
	if (s->opts.break_on_connect) {
		s->exec.breakin_requested = true;
		rc = s->target->ops->break_in(s->target);
		if (rc < 0)
			goto fail;
	}
	for (;;) {
		uint64_t now = kd_mono_ms();
		int left;

		if (now - t0 >= (uint64_t)s->opts.attach_timeout_ms &&
		    !s->interrupt) {
			rc = KD_ETIMEOUT;
			goto fail;
		}
		left = s->opts.attach_timeout_ms - (int)(now - t0);
		if (left < 50)
			left = 50;
		if (left > KD_ATTACH_RESYNC_MS)
			left = KD_ATTACH_RESYNC_MS;
		rc = s->target->ops->wait(s->target, left, &ev);
		(void)live_take_reconnected(s->target);
		if (rc == KD_ETIMEOUT) {
			/*
			 * A stopped target re-sends its stop after a RESET;
			 * on a noisy line that copy can be lost while we
			 * still synchronise, and nothing else would make it
			 * come again.  Ask again, as WinDbg keeps doing.
			 */
			now = kd_mono_ms();
			if (now - t0 + KD_ATTACH_RESYNC_MS / 2 <
			    (uint64_t)s->opts.attach_timeout_ms) {
				/* Leave room: the bound is the user's. */
				int more = s->opts.attach_timeout_ms -
					   (int)(now - t0) -
					   KD_ATTACH_RESYNC_MS / 4;

				(void)live_sync(s->target,
						more < KD_ATTACH_RESYNC_MS ?
							more :
							KD_ATTACH_RESYNC_MS);
			}
			continue;
		}
		if (rc < 0)
			goto fail;
		if (s->interrupt)
			s->exec.breakin_requested = true;
		s->interrupt = 0;
		break;
	}
	*first = ev;
	rc = kd_target_first_stop(s, &ev);
	if (rc < 0)
		goto fail_quiet;
	return KD_OK;
fail:
	/* Why, as precisely as known: what the target sent that was
	 * refused beats a bare time-out.  Kept as the error detail too, for
	 * the caller's own message (kd's stderr line). */
	if (rc != KD_ETIMEOUT)
		snprintf(why, sizeof(why), "%s", kd_error_message(rc));
	else if (live_explain(s->target, why, sizeof(why)) == 0)
		snprintf(why, sizeof(why), "the target did not answer");
	kd_fail(s, rc, "Cannot attach to %s within %d ms: %s",
		kd_text_redact(shown, sizeof(shown), connstr),
		s->opts.attach_timeout_ms, why);
	(void)kd_error_set(rc, KD_ERRCLASS_ENGINE, "%s", why);
fail_quiet:
	s->target->ops->close(s->target);
	s->target = NULL;
	kd_session_reset_target_state(s);
	return rc;
}

const struct kd_target_driver kd_target_live_driver = {
	.name = "live",
	.prefix = NULL,
	.ops = &live_ops,
	.open = live_driver_open,
};
