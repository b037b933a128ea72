/* SPDX-License-Identifier: MIT */
/*
 * kdstub entry points: set-up, state-change reports (exception, load
 * symbols, processor switch), the debugger loop, DbgPrint and DbgPrompt,
 * and break-in polling (kd-protocol.md §2.5, §2.6, §1.8).
 */
#include <string.h>

#include "stub_int.h"

int kdstub_register_io(struct kdstub *s, const struct kdstub_io *io)
{
	if (!s || !io)
		return KD_EINVAL;
	if (s->io && s->io != io)
		return KDSTUB_EBUSY;
	if (!(io->send_packet && io->recv_packet) && !(io->getc && io->putc))
		return KD_EINVAL;
	s->io = io;
	s->packet_mode = io->send_packet && io->recv_packet;
	return 0;
}

int kdstub_unregister_io(struct kdstub *s, const struct kdstub_io *io)
{
	if (!s || !io || s->io != io)
		return KD_EINVAL;
	s->io = NULL;
	return 0;
}

int kdstub_init(struct kdstub *s, const struct kdstub_io *io,
		const struct kdstub_platform_ops *ops, void *ctx)
{
	int r;

	if (!s || !io || !ops)
		return KD_EINVAL;
	if (!ops->processor_count || !ops->read_virtual ||
	    !ops->write_virtual || !ops->get_context || !ops->set_context ||
	    !ops->set_single_step || !ops->set_dr7 || !ops->get_version)
		return KD_EINVAL;
	memset(s, 0, sizeof(*s));
	r = kdstub_register_io(s, io);
	if (r != 0)
		return r;
	s->ops = ops;
	s->ctx = ctx;
	s->held = -1;
	s->ack_timeout_ms = KDSTUB_ACK_TIMEOUT_MS;
	s->poll_limit = KDSTUB_POLL_LIMIT;
	s->retries = KDSTUB_RETRIES;
	s->retries_left = s->retries;
	s->search_max = KDSTUB_SEARCH_MAX;
	s->debugger_present = true;
	kd_ids_init(&s->ids, KD_IDS_TARGET,
		    s->packet_mode ? KD_IDS_KDNET : KD_IDS_KDCOM);
	kd_stream_init(&s->stream);
	if (io->init) {
		r = io->init();
		if (r != 0) {
			s->io = NULL;
			return r < 0 ? r : KD_ERROR;
		}
	}
	return 0;
}

static uint32_t cpu_count(const struct kdstub *s)
{
	uint32_t n = s->ops->processor_count(s->ctx);

	if (n == 0)
		return 1;
	return n > KDSTUB_MAX_PROCESSORS ? KDSTUB_MAX_PROCESSORS : n;
}

/* Fill the common header and the AMD64 control report of a report. */
static void fill_report(struct kdstub *s, uint16_t proc,
			struct kd_state_change *sc)
{
	struct kd_control_report_amd64 *cr = &sc->amd64;
	uint8_t *ctx = s->scratch;
	uint32_t got = 0;
	uint64_t thread = 0;
	size_t i, k;

	memset(ctx, 0, KDSTUB_CONTEXT_SIZE);
	(void)s->ops->get_context(s->ctx, proc, ctx);
	if (s->ops->control_address)
		(void)s->ops->control_address(s->ctx, proc, KD_AMD64_CS_THREAD,
					      &thread);
	sc->processor = proc;
	sc->number_processors = cpu_count(s);
	sc->thread = thread;
	sc->program_counter = kd_get_le64(ctx + 0xF8);
	sc->machine = KD_MACHINE_AMD64;
	cr->dr6 = kd_get_le64(ctx + 0x68);
	cr->dr7 = kd_get_le64(ctx + 0x70);
	cr->eflags = kd_get_le32(ctx + 0x44);
	cr->seg_cs = kd_get_le16(ctx + 0x38);
	cr->seg_ds = kd_get_le16(ctx + 0x3A);
	cr->seg_es = kd_get_le16(ctx + 0x3C);
	cr->seg_fs = kd_get_le16(ctx + 0x3E);
	cr->report_flags = KD_REPORT_INCLUDES_SEGS;
	if (cr->seg_cs == 0x10 || cr->seg_cs == 0x33)
		cr->report_flags |= KD_REPORT_STANDARD_CS;
	(void)s->ops->read_virtual(s->ctx, proc, sc->program_counter,
				   cr->instruction_stream, KD_MAXSTREAM, &got);
	if (got > KD_MAXSTREAM)
		got = KD_MAXSTREAM;
	cr->instruction_count = (uint16_t)got;
	/* The stream shows code as it is, without our breakpoints. */
	for (i = 0; i < KDSTUB_MAX_BREAKPOINTS; i++) {
		if (!s->bps[i].used)
			continue;
		k = (size_t)(s->bps[i].address - sc->program_counter);
		if (s->bps[i].address >= sc->program_counter && k < got)
			cr->instruction_stream[k] = s->bps[i].original;
	}
}

static void enter_stop(struct kdstub *s, uint16_t proc)
{
	if (s->io->pre_stop)
		s->io->pre_stop();
	s->in_debugger = true;
	s->cur_proc = proc;
	s->context_fetched = false;
	s->breakin_pending = false;
}

static void leave_stop(struct kdstub *s)
{
	s->in_debugger = false;
	if (s->io->post_stop)
		s->io->post_stop();
}

/*
 * Send the stop's report (s->report) and serve requests until one ends the
 * stop.  RESET, RESEND and break-in while waiting re-send the report, as
 * Windows does.
 */
static int stop_loop(struct kdstub *s, bool losable, struct kdstub_resume *out)
{
	size_t reply_len;
	int r;

	memset(out, 0, sizeof(*out));
resend:
	r = kdstub_link_send(s, s->report_type, s->report, s->report_len,
			     losable);
	if (r == KD_ETIMEOUT) {
		out->kind = KDSTUB_RESUME_LOST;
		return 0;
	}
	for (;;) {
		if (kdstub_link_wait(s, KD_PACKET_TYPE_STATE_MANIPULATE) ==
		    KDSTUB_WAIT_RESEND)
			goto resend;
		r = kdstub_dispatch(s, kdstub_rx_payload(s),
				    s->rx_hdr.byte_count, &reply_len, out);
		if (reply_len)
			(void)kdstub_link_send(s,
					       KD_PACKET_TYPE_STATE_MANIPULATE,
					       s->out, reply_len, false);
		if (r == KDSTUB_DISPATCH_RESEND)
			goto resend;
		if (r == KDSTUB_DISPATCH_RESUME)
			return 0;
	}
}

static int encode_report(struct kdstub *s, const struct kd_state_change *sc,
			 const void *extra, size_t extra_len)
{
	s->report_type = KD_PACKET_TYPE_STATE_CHANGE64;
	return kd_state_change_encode(s->report, sizeof(s->report),
				      &s->report_len, sc, extra, extra_len);
}

int kdstub_report_exception(struct kdstub *s, uint16_t proc,
			    const struct kd_exception_record *rec,
			    bool first_chance, struct kdstub_resume *out)
{
	struct kd_state_change sc;
	int r;

	if (!s || !s->io || !rec || !out || proc >= cpu_count(s))
		return KD_EINVAL;
	enter_stop(s, proc);
	memset(&sc, 0, sizeof(sc));
	sc.new_state = KD_STATE_EXCEPTION;
	fill_report(s, proc, &sc);
	sc.u.exception.record = *rec;
	if (sc.u.exception.record.number_parameters >
	    KD_EXCEPTION_MAXIMUM_PARAMETERS)
		sc.u.exception.record.number_parameters =
			KD_EXCEPTION_MAXIMUM_PARAMETERS;
	sc.u.exception.first_chance = first_chance ? 1 : 0;
	r = encode_report(s, &sc, NULL, 0);
	if (r == 0)
		r = stop_loop(s, false, out);
	leave_stop(s);
	return r;
}

int kdstub_report_switch(struct kdstub *s, uint16_t proc,
			 struct kdstub_resume *out)
{
	struct kd_exception_record rec;
	uint8_t *ctx;

	if (!s || !s->io || !out || proc >= cpu_count(s))
		return KD_EINVAL;
	ctx = s->scratch;
	memset(ctx, 0, KDSTUB_CONTEXT_SIZE);
	(void)s->ops->get_context(s->ctx, proc, ctx);
	memset(&rec, 0, sizeof(rec));
	rec.code = KD_STATUS_WAKE_SYSTEM_DEBUGGER;
	rec.address = kd_get_le64(ctx + 0xF8);
	return kdstub_report_exception(s, proc, &rec, true, out);
}

int kdstub_report_load_symbols(struct kdstub *s, uint16_t proc,
			       const struct kdstub_load_symbols *ls,
			       struct kdstub_resume *out)
{
	struct kd_state_change sc;
	uint8_t *path;
	size_t n;
	int r;

	if (!s || !s->io || !ls || !out || proc >= cpu_count(s) ||
	    (ls->path_len && !ls->path))
		return KD_EINVAL;
	enter_stop(s, proc);
	memset(&sc, 0, sizeof(sc));
	sc.new_state = KD_STATE_LOAD_SYMBOLS;
	fill_report(s, proc, &sc);
	n = ls->path_len;
	if (n > KDSTUB_MAX_SEND - KD_SC_SIZE - 1)
		n = KDSTUB_MAX_SEND - KD_SC_SIZE - 1;
	sc.u.load_symbols.path_name_length = (uint32_t)(n + 1);
	sc.u.load_symbols.base_of_dll = ls->base_of_dll;
	sc.u.load_symbols.process_id = ls->process_id;
	sc.u.load_symbols.checksum = ls->checksum;
	sc.u.load_symbols.size_of_image = ls->size_of_image;
	sc.u.load_symbols.unload_symbols = ls->unload ? 1 : 0;
	/* The path and its NUL, staged in s->out (free during a report). */
	path = s->out;
	if (n)
		memcpy(path, ls->path, n);
	path[n] = 0;
	r = encode_report(s, &sc, path, n + 1);
	if (r == 0)
		r = stop_loop(s, true, out);
	leave_stop(s);
	return r;
}

int kdstub_print(struct kdstub *s, uint16_t proc, const char *text, size_t len)
{
	struct kd_debug_io io;
	size_t n;
	int r;

	if (!s || !s->io || (len && !text))
		return KD_EINVAL;
	n = len;
	if (n > KDSTUB_MAX_SEND - 16)
		n = KDSTUB_MAX_SEND - 16;
	memset(&io, 0, sizeof(io));
	io.api = KD_DEBUG_IO_PRINT_STRING;
	io.processor = proc;
	io.length = (uint32_t)n;
	r = kd_debug_io_encode(s->out, sizeof(s->out), &n, &io, text, n);
	if (r != 0)
		return r;
	return kdstub_link_send(s, KD_PACKET_TYPE_DEBUG_IO, s->out, n, true);
}

int kdstub_prompt(struct kdstub *s, uint16_t proc, const char *prompt,
		  size_t prompt_len, char *buf, size_t cap, size_t *len)
{
	struct kd_debug_io io;
	size_t n;
	int r;

	if (!s || !s->io || !len || (prompt_len && !prompt) || (cap && !buf))
		return KD_EINVAL;
	*len = 0;
	n = prompt_len;
	if (n > KDSTUB_MAX_SEND - 16)
		n = KDSTUB_MAX_SEND - 16;
	memset(&io, 0, sizeof(io));
	io.api = KD_DEBUG_IO_GET_STRING;
	io.processor = proc;
	io.length = (uint32_t)n;
	io.read_length = cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap;
	r = kd_debug_io_encode(s->report, sizeof(s->report), &s->report_len,
			       &io, prompt, n);
	if (r != 0)
		return r;
	s->report_type = KD_PACKET_TYPE_DEBUG_IO;
	for (;;) {
		(void)kdstub_link_send(s, KD_PACKET_TYPE_DEBUG_IO, s->report,
				       s->report_len, false);
		do {
			r = kdstub_link_wait(s, KD_PACKET_TYPE_DEBUG_IO);
			if (r != KDSTUB_WAIT_PACKET)
				break;
			r = kd_debug_io_decode(&io, kdstub_rx_payload(s),
					       s->rx_hdr.byte_count);
			if (r == 0 && io.api == KD_DEBUG_IO_GET_STRING) {
				n = io.text_len < cap ? io.text_len : cap;
				if (n)
					memcpy(buf, io.text, n);
				*len = n;
				return 0;
			}
			/* Another debug I/O packet: keep waiting. */
			r = KDSTUB_WAIT_PACKET;
		} while (r == KDSTUB_WAIT_PACKET);
	}
}

bool kdstub_poll_breakin(struct kdstub *s)
{
	if (!s || !s->io)
		return false;
	if (!s->in_debugger)
		kdstub_link_drain_running(s);
	return s->breakin_pending;
}

uint32_t kdstub_breakpoint_at(const struct kdstub *s, uint64_t addr)
{
	size_t i;

	if (!s)
		return 0;
	for (i = 0; i < KDSTUB_MAX_BREAKPOINTS; i++)
		if (s->bps[i].used && s->bps[i].address == addr)
			return (uint32_t)(i + 1);
	return 0;
}

int kdstub_check_invariants(const struct kdstub *s)
{
	size_t i, j;
	uint32_t base;

	if (!s || !s->ops)
		return KD_EINVAL;
	if (s->tx_len > sizeof(s->tx) || s->report_len > sizeof(s->report))
		return KD_EPROTO;
	if (s->cur_proc >= KDSTUB_MAX_PROCESSORS)
		return KD_EPROTO;
	if (s->held > 0xFF || s->retries_left > s->retries)
		return KD_EPROTO;
	if (s->ids.mode == KD_IDS_KDCOM) {
		base = s->ids.send_id & ~(KD_PACKET_ID_SYNC | 1u);
		if (base != KD_PACKET_ID_INITIAL)
			return KD_EPROTO;
		if ((s->ids.recv_id & ~1u) != KD_PACKET_ID_INITIAL)
			return KD_EPROTO;
	}
	for (i = 0; i < KDSTUB_MAX_BREAKPOINTS; i++) {
		if (!s->bps[i].used)
			continue;
		for (j = i + 1; j < KDSTUB_MAX_BREAKPOINTS; j++)
			if (s->bps[j].used &&
			    s->bps[j].address == s->bps[i].address)
				return KD_EPROTO;
	}
	return 0;
}
