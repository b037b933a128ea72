/* SPDX-License-Identifier: MIT */
/*
 * The manipulate dispatcher: one DBGKD_MANIPULATE_STATE64 request in, the
 * echoed structure with ReturnStatus, output fields and data out, with the
 * statuses Windows gives (kd-protocol.md §2.3, §2.4, §2.11).
 */
#include <string.h>

#include "stub_int.h"

/* Start of the reply's data area in s->out. */
#define DATA(s) ((s)->out + KD_MANIP_SIZE)
#define DATA_CAP (KDSTUB_MAX_SEND - KD_MANIP_SIZE)

KD_STATIC_ASSERT(DATA_CAP == KD_MAX_TRANSFER, "reply data area is 3944");
KD_STATIC_ASSERT(KDSTUB_SEARCH_CHUNK <= KDSTUB_CONTEXT_SIZE,
		 "search chunk fits the scratch buffer");
KD_STATIC_ASSERT(KDSTUB_KSPECIAL_SIZE <= KDSTUB_CONTEXT_SIZE,
		 "special registers fit the scratch buffer");

#define PAGE_SIZE_4K 0x1000ull
#define KERNEL_SPACE_START 0xFFFF800000000000ull

static size_t reply(struct kdstub *s, struct kd_manipulate *m, uint32_t status,
		    size_t data_len)
{
	size_t n = 0;

	m->return_status = status;
	if (kd_manipulate_encode(s->out, sizeof(s->out), &n, m, DATA(s),
				 data_len) != 0)
		return 0;
	return n;
}

static uint32_t cpus(const struct kdstub *s)
{
	uint32_t n = s->ops->processor_count(s->ctx);

	if (n == 0)
		return 1;
	return n > KDSTUB_MAX_PROCESSORS ? KDSTUB_MAX_PROCESSORS : n;
}

static bool valid_proc(const struct kdstub *s, uint16_t proc)
{
	return proc < cpus(s);
}

static uint32_t clamp_done(uint32_t done, uint32_t want)
{
	return done > want ? want : done;
}

/* Read/Write Virtual and Physical memory. */
static size_t do_read_memory(struct kdstub *s, struct kd_manipulate *m,
			     bool physical)
{
	uint32_t count = m->u.mem.transfer_count;
	uint32_t caching = m->u.mem.actual_count;
	uint32_t done = 0;
	int r = KD_ENOTSUP;

	if (count > KD_MAX_TRANSFER)
		count = KD_MAX_TRANSFER; /* §1.9 */
	if (physical && s->ops->read_physical)
		r = s->ops->read_physical(s->ctx, m->u.mem.address, DATA(s),
					  count, caching, &done);
	else if (!physical)
		r = s->ops->read_virtual(s->ctx, s->cur_proc, m->u.mem.address,
					 DATA(s), count, &done);
	if (r != 0 && r != KD_ETRUNC && done == count)
		done = 0;
	done = clamp_done(done, count);
	m->u.mem.actual_count = done;
	return reply(s, m,
		     done == count && r == 0 ? KD_STATUS_SUCCESS :
					       KD_STATUS_UNSUCCESSFUL,
		     done);
}

static size_t do_write_memory(struct kdstub *s, struct kd_manipulate *m,
			      bool physical)
{
	uint32_t count = m->u.mem.transfer_count;
	uint32_t caching = m->u.mem.actual_count;
	uint32_t n = count;
	uint32_t done = 0;
	int r = KD_ENOTSUP;

	if (n > m->data_len)
		n = (uint32_t)m->data_len;
	if (physical && s->ops->write_physical)
		r = s->ops->write_physical(s->ctx, m->u.mem.address, m->data, n,
					   caching, &done);
	else if (!physical)
		r = s->ops->write_virtual(s->ctx, s->cur_proc, m->u.mem.address,
					  m->data, n, &done);
	done = clamp_done(done, n);
	m->u.mem.actual_count = done;
	return reply(s, m,
		     r == 0 && done == count ? KD_STATUS_SUCCESS :
					       KD_STATUS_UNSUCCESSFUL,
		     0);
}

static size_t do_get_context(struct kdstub *s, struct kd_manipulate *m)
{
	if (!valid_proc(s, m->processor) ||
	    s->ops->get_context(s->ctx, m->processor, DATA(s)) != 0)
		return reply(s, m, KD_STATUS_UNSUCCESSFUL, 0);
	s->context_fetched = true;
	return reply(s, m, KD_STATUS_SUCCESS, KDSTUB_CONTEXT_SIZE);
}

/* A run of CONTEXT bytes one ContextFlags group covers (x64). */
struct ctx_range {
	uint16_t off;
	uint16_t len;
};

/*
 * What each ContextFlags group of an x64 CONTEXT covers (kd-protocol.md
 * §2.10): CONTROL is SegCs, EFlags, SegSs, Rsp and Rip; INTEGER the other
 * general registers; SEGMENTS Ds, Es, Fs, Gs; FLOATING_POINT MxCsr and the
 * FXSAVE image (x87, XMM0-15); DEBUG_REGISTERS Dr0-3, Dr6, Dr7.
 */
static const struct {
	uint32_t flag;
	struct ctx_range r[3];
} ctx_groups[] = {
	{ KD_CONTEXT_CONTROL,
	  { { KD_AMD64_CTX_OFF_CS, 2 },
	    { KD_AMD64_CTX_OFF_SS, 6 }, /* SegSs, EFlags */
	    { KD_AMD64_CTX_OFF_RSP, 8 } } },
	{ KD_CONTEXT_CONTROL, { { KD_AMD64_CTX_OFF_RIP, 8 } } },
	{ KD_CONTEXT_INTEGER,
	  { { KD_AMD64_CTX_OFF_RAX, 0x20 },	/* Rax, Rcx, Rdx, Rbx */
	    { KD_AMD64_CTX_OFF_RBP, 0x58 } } }, /* Rbp .. R15 */
	{ KD_CONTEXT_SEGMENTS, { { KD_AMD64_CTX_OFF_DS, 8 } } },
	{ KD_CONTEXT_FLOATING_POINT,
	  { { KD_AMD64_CTX_OFF_MXCSR, 4 },
	    { KD_AMD64_CTX_OFF_FLTSAVE, 0x200 } } },
	{ KD_CONTEXT_DEBUG_REGISTERS, { { KD_AMD64_CTX_OFF_DR0, 0x30 } } },
};

/*
 * A SetContext shorter than the full CONTEXT, as Windows takes it: only the
 * groups the CONTEXT's own ContextFlags name are applied (the request's
 * ContextFlags field is junk, kd-protocol.md §2.3), so the CONTEXT must
 * reach the end of the last of them; the rest of the processor's state is
 * kept.  Without the x64 bit nothing would apply, and that is refused
 * rather than silently ignored.  Returns 0 or -1.
 */
static int merge_short_context(struct kdstub *s, const struct kd_manipulate *m)
{
	uint32_t flags;
	size_t need = KD_AMD64_CTX_OFF_FLAGS + 4;
	size_t i, j;

	if (m->data_len < need)
		return -1;
	flags = kd_get_le32(m->data + KD_AMD64_CTX_OFF_FLAGS);
	if ((flags & KD_CONTEXT_AMD64) != KD_CONTEXT_AMD64)
		return -1;
	for (i = 0; i < KD_ARRAY_SIZE(ctx_groups); i++) {
		if (!(flags & ctx_groups[i].flag))
			continue;
		for (j = 0; j < KD_ARRAY_SIZE(ctx_groups[i].r); j++) {
			const struct ctx_range *r = &ctx_groups[i].r[j];

			if (r->len && (size_t)r->off + r->len > need)
				need = (size_t)r->off + r->len;
		}
	}
	if (m->data_len < need ||
	    s->ops->get_context(s->ctx, m->processor, s->scratch) != 0)
		return -1;
	for (i = 0; i < KD_ARRAY_SIZE(ctx_groups); i++) {
		if (!(flags & ctx_groups[i].flag))
			continue;
		for (j = 0; j < KD_ARRAY_SIZE(ctx_groups[i].r); j++) {
			const struct ctx_range *r = &ctx_groups[i].r[j];

			memcpy(s->scratch + r->off, m->data + r->off, r->len);
		}
	}
	return 0;
}

static size_t do_set_context(struct kdstub *s, struct kd_manipulate *m)
{
	const uint8_t *ctx = m->data;

	/* Windows refuses a SetContext before any GetContext in a stop. */
	if (!valid_proc(s, m->processor) || !s->context_fetched)
		return reply(s, m, KD_STATUS_UNSUCCESSFUL, 0);
	/* A full CONTEXT is taken whole, as it always was. */
	if (m->data_len < KDSTUB_CONTEXT_SIZE) {
		if (merge_short_context(s, m) != 0)
			return reply(s, m, KD_STATUS_UNSUCCESSFUL, 0);
		ctx = s->scratch;
	}
	if (s->ops->set_context(s->ctx, m->processor, ctx) != 0)
		return reply(s, m, KD_STATUS_UNSUCCESSFUL, 0);
	return reply(s, m, KD_STATUS_SUCCESS, 0);
}

static bool context_range_ok(const struct kd_context_ex *cx)
{
	return cx->offset < KDSTUB_CONTEXT_SIZE &&
	       cx->byte_count <= KDSTUB_CONTEXT_SIZE - cx->offset;
}

static size_t do_get_context_ex(struct kdstub *s, struct kd_manipulate *m)
{
	struct kd_context_ex *cx = &m->u.context_ex;

	if (!valid_proc(s, m->processor) || !context_range_ok(cx) ||
	    s->ops->get_context(s->ctx, m->processor, s->scratch) != 0) {
		cx->bytes_copied = 0;
		return reply(s, m, KD_STATUS_UNSUCCESSFUL, 0);
	}
	memcpy(DATA(s), s->scratch + cx->offset, cx->byte_count);
	cx->bytes_copied = cx->byte_count;
	s->context_fetched = true;
	return reply(s, m, KD_STATUS_SUCCESS, cx->byte_count);
}

static size_t do_set_context_ex(struct kdstub *s, struct kd_manipulate *m)
{
	struct kd_context_ex *cx = &m->u.context_ex;

	if (!valid_proc(s, m->processor) || !s->context_fetched ||
	    !context_range_ok(cx) || m->data_len < cx->byte_count ||
	    s->ops->get_context(s->ctx, m->processor, s->scratch) != 0) {
		cx->bytes_copied = 0;
		return reply(s, m, KD_STATUS_UNSUCCESSFUL, 0);
	}
	memcpy(s->scratch + cx->offset, m->data, cx->byte_count);
	if (s->ops->set_context(s->ctx, m->processor, s->scratch) != 0) {
		cx->bytes_copied = 0;
		return reply(s, m, KD_STATUS_UNSUCCESSFUL, 0);
	}
	cx->bytes_copied = cx->byte_count;
	return reply(s, m, KD_STATUS_SUCCESS, 0);
}

static void patched(struct kdstub *s, uint64_t addr)
{
	if (s->ops->icache_flush)
		s->ops->icache_flush(s->ctx, addr, 1);
}

static size_t do_write_bp(struct kdstub *s, struct kd_manipulate *m)
{
	static const uint8_t int3 = 0xCC;
	uint64_t addr = m->u.write_bp.address;
	struct kdstub_breakpoint *bp = NULL;
	uint32_t done = 0;
	uint8_t orig = 0;
	size_t i;

	m->u.write_bp.handle = kdstub_breakpoint_at(s, addr);
	if (m->u.write_bp.handle != 0)
		return reply(s, m, KD_STATUS_SUCCESS, 0); /* already there */
	for (i = 0; i < KDSTUB_MAX_BREAKPOINTS && !bp; i++)
		if (!s->bps[i].used)
			bp = &s->bps[i];
	if (!bp ||
	    s->ops->read_virtual(s->ctx, s->cur_proc, addr, &orig, 1, &done) !=
		    0 ||
	    done != 1)
		return reply(s, m, KD_STATUS_UNSUCCESSFUL, 0);
	done = 0;
	if (s->ops->write_virtual(s->ctx, s->cur_proc, addr, &int3, 1, &done) !=
		    0 ||
	    done != 1)
		return reply(s, m, KD_STATUS_UNSUCCESSFUL, 0);
	patched(s, addr);
	bp->used = true;
	bp->address = addr;
	bp->original = orig;
	bp->processor = s->cur_proc;
	m->u.write_bp.handle = (uint32_t)(bp - s->bps) + 1;
	return reply(s, m, KD_STATUS_SUCCESS, 0);
}

static size_t do_restore_bp(struct kdstub *s, struct kd_manipulate *m)
{
	uint32_t h = m->u.restore_bp_handle;
	struct kdstub_breakpoint *bp;
	uint32_t done = 0;
	int r;

	if (h == 0 || h > KDSTUB_MAX_BREAKPOINTS || !s->bps[h - 1].used)
		return reply(s, m, KD_STATUS_UNSUCCESSFUL, 0); /* §2.3 */
	bp = &s->bps[h - 1];
	r = s->ops->write_virtual(s->ctx, bp->processor, bp->address,
				  &bp->original, 1, &done);
	patched(s, bp->address);
	bp->used = false;
	return reply(s, m,
		     r == 0 && done == 1 ? KD_STATUS_SUCCESS :
					   KD_STATUS_UNSUCCESSFUL,
		     0);
}

static int do_continue2(struct kdstub *s, struct kd_manipulate *m,
			struct kdstub_resume *res)
{
	uint32_t i, n = cpus(s);

	res->kind = KDSTUB_RESUME_CONTINUE;
	res->continue_status = m->u.continue2.continue_status;
	if (!kd_nt_success(res->continue_status))
		return KDSTUB_DISPATCH_RESUME; /* resume, exception unhandled */
	res->trace = m->u.continue2.trace_flag != 0;
	res->dr7_set = true;
	res->dr7 = m->u.continue2.amd64.dr7;
	(void)s->ops->set_single_step(s->ctx, s->cur_proc, res->trace);
	/* Dr7 goes to every processor's KernelDr7 (§2.3). */
	for (i = 0; i < n; i++)
		(void)s->ops->set_dr7(s->ctx, (uint16_t)i, res->dr7);
	return KDSTUB_DISPATCH_RESUME;
}

static size_t do_read_control(struct kdstub *s, struct kd_manipulate *m)
{
	uint32_t count = m->u.mem.transfer_count;
	uint16_t proc = m->processor;
	uint64_t sel = m->u.mem.address;
	uint64_t addr = 0;
	uint32_t n;

	m->u.mem.actual_count = 0;
	if (count > KD_MAX_TRANSFER)
		count = KD_MAX_TRANSFER;
	if (!valid_proc(s, proc))
		return reply(s, m, KD_STATUS_UNSUCCESSFUL, 0);
	if (sel == KD_AMD64_CS_PCR || sel == KD_AMD64_CS_PRCB ||
	    sel == KD_AMD64_CS_THREAD) {
		if (!s->ops->control_address ||
		    s->ops->control_address(s->ctx, proc, (unsigned)sel,
					    &addr) != 0)
			return reply(s, m, KD_STATUS_UNSUCCESSFUL, 0);
		kd_put_le64(s->scratch, addr);
		n = count < 8 ? count : 8;
	} else if (sel == KD_AMD64_CS_KSPECIAL) {
		if (!s->ops->get_kspecial ||
		    s->ops->get_kspecial(s->ctx, proc, s->scratch) != 0)
			return reply(s, m, KD_STATUS_UNSUCCESSFUL, 0);
		n = count < KDSTUB_KSPECIAL_SIZE ? count : KDSTUB_KSPECIAL_SIZE;
	} else {
		return reply(s, m, KD_STATUS_UNSUCCESSFUL, 0);
	}
	memcpy(DATA(s), s->scratch, n);
	m->u.mem.actual_count = n;
	return reply(s, m, KD_STATUS_SUCCESS, n);
}

static size_t do_write_control(struct kdstub *s, struct kd_manipulate *m)
{
	uint32_t n = m->u.mem.transfer_count;
	uint16_t proc = m->processor;

	m->u.mem.actual_count = 0;
	/* Only the special registers are writable (§2.11). */
	if (!valid_proc(s, proc) || m->u.mem.address != KD_AMD64_CS_KSPECIAL ||
	    !s->ops->get_kspecial || !s->ops->set_kspecial)
		return reply(s, m, KD_STATUS_UNSUCCESSFUL, 0);
	if (n > m->data_len)
		n = (uint32_t)m->data_len;
	if (n > KDSTUB_KSPECIAL_SIZE)
		n = KDSTUB_KSPECIAL_SIZE;
	if (s->ops->get_kspecial(s->ctx, proc, s->scratch) != 0)
		return reply(s, m, KD_STATUS_UNSUCCESSFUL, 0);
	memcpy(s->scratch, m->data, n);
	if (s->ops->set_kspecial(s->ctx, proc, s->scratch) != 0)
		return reply(s, m, KD_STATUS_UNSUCCESSFUL, 0);
	m->u.mem.actual_count = n;
	return reply(s, m, KD_STATUS_SUCCESS, 0);
}

/* Port I/O common checks; returns 0 or an NTSTATUS to answer. */
static uint32_t io_check(uint64_t port, uint32_t size)
{
	if (size != 1 && size != 2 && size != 4)
		return KD_STATUS_INVALID_PARAMETER;
	if (port & (size - 1))
		return KD_STATUS_DATATYPE_MISALIGNMENT;
	return KD_STATUS_SUCCESS;
}

static uint32_t io_access(struct kdstub *s, bool write, uint64_t port,
			  uint32_t size, uint32_t *value)
{
	uint32_t st = io_check(port, size);
	int r;

	if (st != KD_STATUS_SUCCESS)
		return st;
	if (write)
		r = s->ops->io_write ?
			    s->ops->io_write(s->ctx, port, size, *value) :
			    KD_ENOTSUP;
	else
		r = s->ops->io_read ?
			    s->ops->io_read(s->ctx, port, size, value) :
			    KD_ENOTSUP;
	return r == 0 ? KD_STATUS_SUCCESS : KD_STATUS_UNSUCCESSFUL;
}

static size_t do_io(struct kdstub *s, struct kd_manipulate *m, bool write)
{
	uint32_t v = m->u.io.data_value;
	uint32_t st = io_access(s, write, m->u.io.address, m->u.io.data_size,
				&v);

	if (st != KD_STATUS_SUCCESS)
		m->u.io.data_size = 0;
	else if (!write)
		m->u.io.data_value = v;
	return reply(s, m, st, 0);
}

static size_t do_io_ex(struct kdstub *s, struct kd_manipulate *m, bool write)
{
	struct kd_io_space_ex *x = &m->u.io_ex;
	uint32_t v = x->data_value;
	uint32_t st;

	/* Only ISA bus 0 I/O space reaches the ports (InterfaceType 1). */
	if (x->interface_type != 1 || x->bus_number != 0 ||
	    x->address_space != 1)
		st = KD_STATUS_UNSUCCESSFUL;
	else
		st = io_access(s, write, x->address, x->data_size, &v);
	if (st != KD_STATUS_SUCCESS)
		x->data_size = 0;
	else if (!write)
		x->data_value = v;
	return reply(s, m, st, 0);
}

static size_t do_version(struct kdstub *s, struct kd_manipulate *m)
{
	struct kd_version *v = &m->u.version;

	memset(v, 0, sizeof(*v));
	v->major_version = (uint16_t)(KD_MAJOR_NT << 8 | KD_BUILD_FREE);
	v->protocol_version = KD_PROTOCOL_VERSION;
	v->secondary_version = KD_AMD64_SECONDARY_CONTEXT;
	v->flags = KD_VERS_FLAG_PTR64;
	if (cpus(s) > 1)
		v->flags |= KD_VERS_FLAG_MP;
	v->machine_type = KD_MACHINE_AMD64;
	v->max_packet_type = KD_PACKET_TYPE_MAX;
	v->max_state_change = KD_STATE_MAX - KD_STATE_EXCEPTION;
	v->max_manipulate = 0x31;
	s->ops->get_version(s->ctx, v);
	return reply(s, m, KD_STATUS_SUCCESS, 0);
}

static size_t do_msr(struct kdstub *s, struct kd_manipulate *m, bool write)
{
	struct kd_msr *x = &m->u.msr;
	uint64_t v = (uint64_t)x->high << 32 | x->low;
	int r = KD_ENOTSUP;

	if (write && s->ops->msr_write)
		r = s->ops->msr_write(s->ctx, s->cur_proc, x->msr, v);
	else if (!write && s->ops->msr_read)
		r = s->ops->msr_read(s->ctx, s->cur_proc, x->msr, &v);
	if (r != 0)
		return reply(s, m, KD_STATUS_NO_SUCH_DEVICE, 0);
	if (!write) {
		x->low = (uint32_t)v;
		x->high = (uint32_t)(v >> 32);
	}
	return reply(s, m, KD_STATUS_SUCCESS, 0);
}

/* First match of @pat in @buf[0..n), or n. */
static size_t find(const uint8_t *buf, size_t n, const uint8_t *pat,
		   size_t plen)
{
	size_t i;

	for (i = 0; i + plen <= n; i++)
		if (buf[i] == pat[0] && memcmp(buf + i, pat, plen) == 0)
			return i;
	return n;
}

/*
 * SearchMemory over the current CPU's virtual memory, chunk by chunk with
 * an overlap of plen - 1 bytes; unreadable pages are skipped and the scan
 * stops after s->search_max bytes.
 */
static size_t do_search(struct kdstub *s, struct kd_manipulate *m)
{
	struct kd_search_memory *x = &m->u.search;
	uint64_t pos = x->address, left = x->length, budget = s->search_max;
	size_t plen = x->pattern_length;
	uint32_t want, got;
	size_t at, step;

	if (plen == 0 || plen > m->data_len || plen > KDSTUB_MAX_PATTERN)
		return reply(s, m, KD_STATUS_INVALID_PARAMETER, 0);
	while (left >= plen && budget > 0) {
		want = left < KDSTUB_SEARCH_CHUNK ? (uint32_t)left :
						    KDSTUB_SEARCH_CHUNK;
		got = 0;
		(void)s->ops->read_virtual(s->ctx, s->cur_proc, pos, s->scratch,
					   want, &got);
		got = clamp_done(got, want);
		at = find(s->scratch, got, m->data, plen);
		if (at < got) {
			x->address = pos + at;
			return reply(s, m, KD_STATUS_SUCCESS, 0);
		}
		if (got < want || got < plen) {
			/* Unreadable from pos + got: go to the next page. */
			step = (size_t)(PAGE_SIZE_4K -
					((pos + got) & (PAGE_SIZE_4K - 1)));
			step += got;
		} else {
			step = got - plen + 1;
		}
		if (step >= left || pos + step < pos)
			break;
		pos += step;
		left -= step;
		budget = budget > step ? budget - step : 0;
	}
	return reply(s, m, KD_STATUS_NOT_FOUND, 0);
}

static size_t do_fill(struct kdstub *s, struct kd_manipulate *m)
{
	struct kd_fill_memory *x = &m->u.fill;
	size_t plen = x->pattern_length;
	uint32_t total = 0, chunk, done, i;
	int r;

	if (plen == 0 || plen > m->data_len ||
	    (x->flags != KD_FILL_VIRTUAL && x->flags != KD_FILL_PHYSICAL) ||
	    (x->flags == KD_FILL_PHYSICAL && !s->ops->write_physical))
		return reply(s, m, KD_STATUS_INVALID_PARAMETER, 0);
	while (total < x->length) {
		chunk = x->length - total;
		if (chunk > KDSTUB_CONTEXT_SIZE)
			chunk = KDSTUB_CONTEXT_SIZE;
		/* The pattern continues where the previous chunk ended. */
		for (i = 0; i < chunk; i++)
			s->scratch[i] = m->data[(total + i) % plen];
		done = 0;
		if (x->flags == KD_FILL_VIRTUAL)
			r = s->ops->write_virtual(s->ctx, s->cur_proc,
						  x->address + total,
						  s->scratch, chunk, &done);
		else
			r = s->ops->write_physical(
				s->ctx, x->address + total, s->scratch, chunk,
				KD_PHYS_CACHE_DEFAULT, &done);
		total += clamp_done(done, chunk);
		if (r != 0 || done < chunk)
			break;
	}
	x->length = total;
	return reply(s, m,
		     total == m->u.fill.length ? KD_STATUS_SUCCESS :
						 KD_STATUS_UNSUCCESSFUL,
		     0);
}

static size_t do_query(struct kdstub *s, struct kd_manipulate *m)
{
	struct kd_query_memory *x = &m->u.query;
	uint32_t space = 0, flags = 0;

	if (x->address_space != 0) /* only "virtual" is a valid input */
		return reply(s, m, KD_STATUS_INVALID_PARAMETER, 0);
	x->reserved = 0;
	if (s->ops->query_memory) {
		if (s->ops->query_memory(s->ctx, s->cur_proc, x->address,
					 &space, &flags) != 0)
			return reply(s, m, KD_STATUS_UNSUCCESSFUL, 0);
	} else {
		space = x->address >= KERNEL_SPACE_START ?
				KD_QUERY_SPACE_KERNEL :
				KD_QUERY_SPACE_PROCESS;
		flags = KD_QUERY_FLAG_READ | KD_QUERY_FLAG_WRITE |
			KD_QUERY_FLAG_EXECUTE;
	}
	x->address_space = space;
	x->flags = flags;
	return reply(s, m, KD_STATUS_SUCCESS, 0);
}

static size_t malformed(struct kdstub *s, const uint8_t *req, size_t len)
{
	size_t n = len < KD_MANIP_SIZE ? len : KD_MANIP_SIZE;

	s->stats.malformed_requests++;
	memset(s->out, 0, KD_MANIP_SIZE);
	if (n)
		memcpy(s->out, req, n);
	kd_put_le32(s->out + KD_MANIP_OFF_RETURN_STATUS,
		    KD_STATUS_INVALID_PARAMETER);
	return KD_MANIP_SIZE;
}

int kdstub_dispatch(struct kdstub *s, const uint8_t *req, size_t len,
		    size_t *reply_len, struct kdstub_resume *resume)
{
	struct kd_manipulate m;
	size_t n = 0;
	int ret = KDSTUB_DISPATCH_NEXT;

	if (!s || !s->ops || !reply_len || !resume)
		return KD_EINVAL;
	*reply_len = 0;
	s->stats.requests++;
	if (!req || len < KD_MANIP_SIZE ||
	    kd_manipulate_decode(&m, req, len) != 0) {
		*reply_len = malformed(s, req ? req : s->out, req ? len : 0);
		return KDSTUB_DISPATCH_NEXT;
	}
	switch (m.api) {
	case KD_API_READ_VIRTUAL_MEMORY:
		n = do_read_memory(s, &m, false);
		break;
	case KD_API_WRITE_VIRTUAL_MEMORY:
		n = do_write_memory(s, &m, false);
		break;
	case KD_API_READ_PHYSICAL_MEMORY:
		n = do_read_memory(s, &m, true);
		break;
	case KD_API_WRITE_PHYSICAL_MEMORY:
		n = do_write_memory(s, &m, true);
		break;
	case KD_API_GET_CONTEXT:
		n = do_get_context(s, &m);
		break;
	case KD_API_SET_CONTEXT:
		n = do_set_context(s, &m);
		break;
	case KD_API_GET_CONTEXT_EX:
		n = do_get_context_ex(s, &m);
		break;
	case KD_API_SET_CONTEXT_EX:
		n = do_set_context_ex(s, &m);
		break;
	case KD_API_WRITE_BREAKPOINT:
		n = do_write_bp(s, &m);
		break;
	case KD_API_RESTORE_BREAKPOINT:
		n = do_restore_bp(s, &m);
		break;
	case KD_API_CONTINUE:
		/* No reply; a failure status resumes with the exception
		 * unhandled (§2.3). */
		resume->kind = KDSTUB_RESUME_CONTINUE;
		resume->continue_status = m.u.continue_status;
		ret = KDSTUB_DISPATCH_RESUME;
		break;
	case KD_API_CONTINUE2:
		ret = do_continue2(s, &m, resume);
		break;
	case KD_API_READ_CONTROL_SPACE:
		n = do_read_control(s, &m);
		break;
	case KD_API_WRITE_CONTROL_SPACE:
		n = do_write_control(s, &m);
		break;
	case KD_API_READ_IO_SPACE:
		n = do_io(s, &m, false);
		break;
	case KD_API_WRITE_IO_SPACE:
		n = do_io(s, &m, true);
		break;
	case KD_API_READ_IO_SPACE_EX:
		n = do_io_ex(s, &m, false);
		break;
	case KD_API_WRITE_IO_SPACE_EX:
		n = do_io_ex(s, &m, true);
		break;
	case KD_API_REBOOT:
		if (s->ops->reboot)
			s->ops->reboot(s->ctx);
		resume->kind = KDSTUB_RESUME_REBOOT;
		ret = KDSTUB_DISPATCH_RESUME;
		break;
	case KD_API_CAUSE_BUGCHECK: {
		static const uint64_t none[4];

		if (s->ops->bugcheck)
			s->ops->bugcheck(s->ctx, s->cur_proc,
					 KD_BUGCHECK_MANUALLY_INITIATED_CRASH,
					 none);
		resume->kind = KDSTUB_RESUME_BUGCHECK;
		ret = KDSTUB_DISPATCH_RESUME;
		break;
	}
	case KD_API_SWITCH_PROCESSOR:
		/* No reply.  The current or a missing CPU: report again. */
		if (m.processor == s->cur_proc || !valid_proc(s, m.processor)) {
			ret = KDSTUB_DISPATCH_RESEND;
			break;
		}
		resume->kind = KDSTUB_RESUME_SWITCH;
		resume->processor = m.processor;
		ret = KDSTUB_DISPATCH_RESUME;
		break;
	case KD_API_GET_VERSION:
		n = do_version(s, &m);
		break;
	case KD_API_READ_MSR:
		n = do_msr(s, &m, false);
		break;
	case KD_API_WRITE_MSR:
		n = do_msr(s, &m, true);
		break;
	case KD_API_SEARCH_MEMORY:
		n = do_search(s, &m);
		break;
	case KD_API_FILL_MEMORY:
		n = do_fill(s, &m);
		break;
	case KD_API_QUERY_MEMORY:
		n = do_query(s, &m);
		break;
	case KD_API_PAGE_IN:
		n = reply(s, &m, KD_STATUS_UNSUCCESSFUL, 0);
		break;
	case KD_API_GET_BUS_DATA:
	case KD_API_SET_BUS_DATA:
		/* No bus access in the stub: nothing transferred. */
		m.u.bus.length = 0;
		n = reply(s, &m, KD_STATUS_UNSUCCESSFUL, 0);
		break;
	case KD_API_CHECK_LOW_MEMORY:
		n = reply(s, &m, KD_STATUS_SUCCESS, 0);
		break;
	case KD_API_CLEAR_ALL_INTERNAL_BPS:
		break; /* no reply (§2.3) */
	default:
		/* Unknown, legacy and unverified APIs. */
		s->stats.unknown_requests++;
		n = reply(s, &m, KD_STATUS_NOT_IMPLEMENTED, 0);
		break;
	}
	*reply_len = n;
	return ret;
}
