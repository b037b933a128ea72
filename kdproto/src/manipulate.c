/* SPDX-License-Identifier: MIT */
/*
 * Explicit little-endian codecs for the KD API payloads declared in
 * kd/proto/manipulate.h (kd-protocol.md §2).  No wire byte is ever cast to
 * a struct: every field goes through kd_get_le* / kd_put_le* at its offset.
 */
#include <string.h>

#include <kd/proto/manipulate.h>

/*
 * Copy trailing data after a fixed header.  The source may alias @p out
 * (a caller building a reply in place), hence memmove.
 */
static int put_trailer(uint8_t *out, size_t cap, size_t hdr, const void *data,
		       size_t data_len, size_t *len_out)
{
	if (data_len > 0 && !data)
		return KD_EINVAL;
	if (cap < hdr || data_len > cap - hdr)
		return KD_EBUFS;
	if (data_len > 0)
		memmove(out + hdr, data, data_len);
	if (len_out)
		*len_out = hdr + data_len;
	return KD_OK;
}

/* --- DBGKD_GET_VERSION64 --- */

int kd_version_decode(struct kd_version *out, const uint8_t *buf, size_t len)
{
	if (!out || (!buf && len > 0))
		return KD_EINVAL;
	memset(out, 0, sizeof(*out));
	if (len < KD_VERSION_SIZE)
		return KD_ETRUNC;
	out->major_version = kd_get_le16(buf + KD_VERSION_OFF_MAJOR);
	out->minor_version = kd_get_le16(buf + KD_VERSION_OFF_MINOR);
	out->protocol_version = buf[KD_VERSION_OFF_PROTOCOL];
	out->secondary_version = buf[KD_VERSION_OFF_SECONDARY];
	out->flags = kd_get_le16(buf + KD_VERSION_OFF_FLAGS);
	out->machine_type = kd_get_le16(buf + KD_VERSION_OFF_MACHINE);
	out->max_packet_type = buf[KD_VERSION_OFF_MAX_PACKET];
	out->max_state_change = buf[KD_VERSION_OFF_MAX_STATE];
	out->max_manipulate = buf[KD_VERSION_OFF_MAX_MANIP];
	out->simulation = buf[KD_VERSION_OFF_SIMULATION];
	out->unused = kd_get_le16(buf + KD_VERSION_OFF_UNUSED);
	out->kern_base = kd_get_le64(buf + KD_VERSION_OFF_KERN_BASE);
	out->ps_loaded_module_list = kd_get_le64(buf +
						 KD_VERSION_OFF_MODULE_LIST);
	out->debugger_data_list = kd_get_le64(buf +
					      KD_VERSION_OFF_DEBUGGER_DATA);
	return KD_OK;
}

int kd_version_encode(uint8_t *buf, size_t cap, const struct kd_version *v)
{
	if (!buf || !v)
		return KD_EINVAL;
	if (cap < KD_VERSION_SIZE)
		return KD_EBUFS;
	kd_put_le16(buf + KD_VERSION_OFF_MAJOR, v->major_version);
	kd_put_le16(buf + KD_VERSION_OFF_MINOR, v->minor_version);
	buf[KD_VERSION_OFF_PROTOCOL] = v->protocol_version;
	buf[KD_VERSION_OFF_SECONDARY] = v->secondary_version;
	kd_put_le16(buf + KD_VERSION_OFF_FLAGS, v->flags);
	kd_put_le16(buf + KD_VERSION_OFF_MACHINE, v->machine_type);
	buf[KD_VERSION_OFF_MAX_PACKET] = v->max_packet_type;
	buf[KD_VERSION_OFF_MAX_STATE] = v->max_state_change;
	buf[KD_VERSION_OFF_MAX_MANIP] = v->max_manipulate;
	buf[KD_VERSION_OFF_SIMULATION] = v->simulation;
	kd_put_le16(buf + KD_VERSION_OFF_UNUSED, v->unused);
	kd_put_le64(buf + KD_VERSION_OFF_KERN_BASE, v->kern_base);
	kd_put_le64(buf + KD_VERSION_OFF_MODULE_LIST, v->ps_loaded_module_list);
	kd_put_le64(buf + KD_VERSION_OFF_DEBUGGER_DATA, v->debugger_data_list);
	return KD_OK;
}

/* --- DBGKD_MANIPULATE_STATE64 --- */

/* Fill the union member of m->api from the 56-byte structure at @p p. */
static void manip_decode_union(struct kd_manipulate *m, const uint8_t *p)
{
	switch (m->api) {
	case KD_API_READ_VIRTUAL_MEMORY:
	case KD_API_WRITE_VIRTUAL_MEMORY:
	case KD_API_READ_CONTROL_SPACE:
	case KD_API_WRITE_CONTROL_SPACE:
	case KD_API_READ_PHYSICAL_MEMORY:
	case KD_API_WRITE_PHYSICAL_MEMORY:
		m->u.mem.address = kd_get_le64(p + KD_MANIP_MEM_OFF_ADDRESS);
		m->u.mem.transfer_count = kd_get_le32(p +
						      KD_MANIP_MEM_OFF_COUNT);
		m->u.mem.actual_count = kd_get_le32(p +
						    KD_MANIP_MEM_OFF_ACTUAL);
		break;
	case KD_API_GET_CONTEXT:
	case KD_API_SET_CONTEXT:
		m->u.context_flags = kd_get_le32(p + KD_MANIP_CTX_OFF_FLAGS);
		break;
	case KD_API_GET_CONTEXT_EX:
	case KD_API_SET_CONTEXT_EX:
		m->u.context_ex.offset = kd_get_le32(p +
						     KD_MANIP_CTXEX_OFF_OFFSET);
		m->u.context_ex.byte_count = kd_get_le32(
			p + KD_MANIP_CTXEX_OFF_COUNT);
		m->u.context_ex.bytes_copied = kd_get_le32(
			p + KD_MANIP_CTXEX_OFF_COPIED);
		break;
	case KD_API_WRITE_BREAKPOINT:
		m->u.write_bp.address = kd_get_le64(p +
						    KD_MANIP_WBP_OFF_ADDRESS);
		m->u.write_bp.handle = kd_get_le32(p + KD_MANIP_WBP_OFF_HANDLE);
		break;
	case KD_API_RESTORE_BREAKPOINT:
		m->u.restore_bp_handle = kd_get_le32(p +
						     KD_MANIP_RBP_OFF_HANDLE);
		break;
	case KD_API_WRITE_BREAKPOINT_EX:
	case KD_API_RESTORE_BREAKPOINT_EX:
		m->u.bp_ex.count = kd_get_le32(p + KD_MANIP_BPEX_OFF_COUNT);
		m->u.bp_ex.continue_status = kd_get_le32(
			p + KD_MANIP_BPEX_OFF_STATUS);
		break;
	case KD_API_CONTINUE:
		m->u.continue_status = kd_get_le32(p +
						   KD_MANIP_CONT_OFF_STATUS);
		break;
	case KD_API_CONTINUE2:
		m->u.continue2.continue_status = kd_get_le32(
			p + KD_MANIP_CONT2_OFF_STATUS);
		m->u.continue2.trace_flag = kd_get_le32(
			p + KD_MANIP_CONT2_OFF_TRACE);
		m->u.continue2.amd64.dr7 = kd_get_le64(
			p + KD_MANIP_CONT2_AMD64_OFF_DR7);
		m->u.continue2.amd64.symbol_start = kd_get_le64(
			p + KD_MANIP_CONT2_AMD64_OFF_SYM_START);
		m->u.continue2.amd64.symbol_end = kd_get_le64(
			p + KD_MANIP_CONT2_AMD64_OFF_SYM_END);
		m->u.continue2.x86.dr7 = kd_get_le32(
			p + KD_MANIP_CONT2_X86_OFF_DR7);
		m->u.continue2.x86.symbol_start = kd_get_le32(
			p + KD_MANIP_CONT2_X86_OFF_SYM_START);
		m->u.continue2.x86.symbol_end = kd_get_le32(
			p + KD_MANIP_CONT2_X86_OFF_SYM_END);
		break;
	case KD_API_READ_IO_SPACE:
	case KD_API_WRITE_IO_SPACE:
		m->u.io.address = kd_get_le64(p + KD_MANIP_IO_OFF_ADDRESS);
		m->u.io.data_size = kd_get_le32(p + KD_MANIP_IO_OFF_SIZE);
		m->u.io.data_value = kd_get_le32(p + KD_MANIP_IO_OFF_VALUE);
		break;
	case KD_API_READ_IO_SPACE_EX:
	case KD_API_WRITE_IO_SPACE_EX:
		m->u.io_ex.data_size = kd_get_le32(p + KD_MANIP_IOX_OFF_SIZE);
		m->u.io_ex.interface_type = kd_get_le32(
			p + KD_MANIP_IOX_OFF_INTERFACE);
		m->u.io_ex.bus_number = kd_get_le32(p + KD_MANIP_IOX_OFF_BUS);
		m->u.io_ex.address_space = kd_get_le32(p +
						       KD_MANIP_IOX_OFF_SPACE);
		m->u.io_ex.address = kd_get_le64(p + KD_MANIP_IOX_OFF_ADDRESS);
		m->u.io_ex.data_value = kd_get_le32(p + KD_MANIP_IOX_OFF_VALUE);
		break;
	case KD_API_GET_VERSION:
		(void)kd_version_decode(&m->u.version, p + KD_MANIP_VERSION_OFF,
					KD_VERSION_SIZE);
		break;
	case KD_API_READ_MSR:
	case KD_API_WRITE_MSR:
		m->u.msr.msr = kd_get_le32(p + KD_MANIP_MSR_OFF_MSR);
		m->u.msr.low = kd_get_le32(p + KD_MANIP_MSR_OFF_LOW);
		m->u.msr.high = kd_get_le32(p + KD_MANIP_MSR_OFF_HIGH);
		break;
	case KD_API_SEARCH_MEMORY:
		m->u.search.address = kd_get_le64(p +
						  KD_MANIP_SEARCH_OFF_ADDRESS);
		m->u.search.length = kd_get_le64(p +
						 KD_MANIP_SEARCH_OFF_LENGTH);
		m->u.search.pattern_length = kd_get_le32(
			p + KD_MANIP_SEARCH_OFF_PATTERN);
		break;
	case KD_API_FILL_MEMORY:
		m->u.fill.address = kd_get_le64(p + KD_MANIP_FILL_OFF_ADDRESS);
		m->u.fill.length = kd_get_le32(p + KD_MANIP_FILL_OFF_LENGTH);
		m->u.fill.flags = kd_get_le16(p + KD_MANIP_FILL_OFF_FLAGS);
		m->u.fill.pattern_length = kd_get_le16(
			p + KD_MANIP_FILL_OFF_PATTERN);
		break;
	case KD_API_QUERY_MEMORY:
		m->u.query.address = kd_get_le64(p +
						 KD_MANIP_QUERY_OFF_ADDRESS);
		m->u.query.reserved = kd_get_le64(p +
						  KD_MANIP_QUERY_OFF_RESERVED);
		m->u.query.address_space = kd_get_le32(
			p + KD_MANIP_QUERY_OFF_SPACE);
		m->u.query.flags = kd_get_le32(p + KD_MANIP_QUERY_OFF_FLAGS);
		break;
	case KD_API_GET_BUS_DATA:
	case KD_API_SET_BUS_DATA:
		m->u.bus.bus_data_type = kd_get_le32(p + KD_MANIP_BUS_OFF_TYPE);
		m->u.bus.bus_number = kd_get_le32(p + KD_MANIP_BUS_OFF_BUS);
		m->u.bus.slot_number = kd_get_le32(p + KD_MANIP_BUS_OFF_SLOT);
		m->u.bus.offset = kd_get_le32(p + KD_MANIP_BUS_OFF_OFFSET);
		m->u.bus.length = kd_get_le32(p + KD_MANIP_BUS_OFF_LENGTH);
		break;
	case KD_API_SWITCH_PARTITION:
		m->u.partition = kd_get_le32(p + KD_MANIP_PARTITION_OFF);
		break;
	default:
		/* No fields (Reboot, SwitchProcessor, ...) or unknown api. */
		break;
	}
}

/* Write the union member of m->api over the raw bytes already at @p p. */
static void manip_encode_union(const struct kd_manipulate *m, uint8_t *p)
{
	bool x86 = m->machine == KD_MACHINE_I386;

	switch (m->api) {
	case KD_API_READ_VIRTUAL_MEMORY:
	case KD_API_WRITE_VIRTUAL_MEMORY:
	case KD_API_READ_CONTROL_SPACE:
	case KD_API_WRITE_CONTROL_SPACE:
	case KD_API_READ_PHYSICAL_MEMORY:
	case KD_API_WRITE_PHYSICAL_MEMORY:
		kd_put_le64(p + KD_MANIP_MEM_OFF_ADDRESS, m->u.mem.address);
		kd_put_le32(p + KD_MANIP_MEM_OFF_COUNT,
			    m->u.mem.transfer_count);
		kd_put_le32(p + KD_MANIP_MEM_OFF_ACTUAL, m->u.mem.actual_count);
		break;
	case KD_API_GET_CONTEXT:
	case KD_API_SET_CONTEXT:
		kd_put_le32(p + KD_MANIP_CTX_OFF_FLAGS, m->u.context_flags);
		break;
	case KD_API_GET_CONTEXT_EX:
	case KD_API_SET_CONTEXT_EX:
		kd_put_le32(p + KD_MANIP_CTXEX_OFF_OFFSET,
			    m->u.context_ex.offset);
		kd_put_le32(p + KD_MANIP_CTXEX_OFF_COUNT,
			    m->u.context_ex.byte_count);
		kd_put_le32(p + KD_MANIP_CTXEX_OFF_COPIED,
			    m->u.context_ex.bytes_copied);
		break;
	case KD_API_WRITE_BREAKPOINT:
		kd_put_le64(p + KD_MANIP_WBP_OFF_ADDRESS,
			    m->u.write_bp.address);
		kd_put_le32(p + KD_MANIP_WBP_OFF_HANDLE, m->u.write_bp.handle);
		break;
	case KD_API_RESTORE_BREAKPOINT:
		kd_put_le32(p + KD_MANIP_RBP_OFF_HANDLE,
			    m->u.restore_bp_handle);
		break;
	case KD_API_WRITE_BREAKPOINT_EX:
	case KD_API_RESTORE_BREAKPOINT_EX:
		kd_put_le32(p + KD_MANIP_BPEX_OFF_COUNT, m->u.bp_ex.count);
		kd_put_le32(p + KD_MANIP_BPEX_OFF_STATUS,
			    m->u.bp_ex.continue_status);
		break;
	case KD_API_CONTINUE:
		kd_put_le32(p + KD_MANIP_CONT_OFF_STATUS, m->u.continue_status);
		break;
	case KD_API_CONTINUE2:
		kd_put_le32(p + KD_MANIP_CONT2_OFF_STATUS,
			    m->u.continue2.continue_status);
		kd_put_le32(p + KD_MANIP_CONT2_OFF_TRACE,
			    m->u.continue2.trace_flag);
		if (x86) {
			kd_put_le32(p + KD_MANIP_CONT2_X86_OFF_DR7,
				    m->u.continue2.x86.dr7);
			kd_put_le32(p + KD_MANIP_CONT2_X86_OFF_SYM_START,
				    m->u.continue2.x86.symbol_start);
			kd_put_le32(p + KD_MANIP_CONT2_X86_OFF_SYM_END,
				    m->u.continue2.x86.symbol_end);
		} else {
			kd_put_le64(p + KD_MANIP_CONT2_AMD64_OFF_DR7,
				    m->u.continue2.amd64.dr7);
			kd_put_le64(p + KD_MANIP_CONT2_AMD64_OFF_SYM_START,
				    m->u.continue2.amd64.symbol_start);
			kd_put_le64(p + KD_MANIP_CONT2_AMD64_OFF_SYM_END,
				    m->u.continue2.amd64.symbol_end);
		}
		break;
	case KD_API_READ_IO_SPACE:
	case KD_API_WRITE_IO_SPACE:
		kd_put_le64(p + KD_MANIP_IO_OFF_ADDRESS, m->u.io.address);
		kd_put_le32(p + KD_MANIP_IO_OFF_SIZE, m->u.io.data_size);
		kd_put_le32(p + KD_MANIP_IO_OFF_VALUE, m->u.io.data_value);
		break;
	case KD_API_READ_IO_SPACE_EX:
	case KD_API_WRITE_IO_SPACE_EX:
		kd_put_le32(p + KD_MANIP_IOX_OFF_SIZE, m->u.io_ex.data_size);
		kd_put_le32(p + KD_MANIP_IOX_OFF_INTERFACE,
			    m->u.io_ex.interface_type);
		kd_put_le32(p + KD_MANIP_IOX_OFF_BUS, m->u.io_ex.bus_number);
		kd_put_le32(p + KD_MANIP_IOX_OFF_SPACE,
			    m->u.io_ex.address_space);
		kd_put_le64(p + KD_MANIP_IOX_OFF_ADDRESS, m->u.io_ex.address);
		kd_put_le32(p + KD_MANIP_IOX_OFF_VALUE, m->u.io_ex.data_value);
		break;
	case KD_API_GET_VERSION:
		(void)kd_version_encode(p + KD_MANIP_VERSION_OFF,
					KD_VERSION_SIZE, &m->u.version);
		break;
	case KD_API_READ_MSR:
	case KD_API_WRITE_MSR:
		kd_put_le32(p + KD_MANIP_MSR_OFF_MSR, m->u.msr.msr);
		kd_put_le32(p + KD_MANIP_MSR_OFF_LOW, m->u.msr.low);
		kd_put_le32(p + KD_MANIP_MSR_OFF_HIGH, m->u.msr.high);
		break;
	case KD_API_SEARCH_MEMORY:
		kd_put_le64(p + KD_MANIP_SEARCH_OFF_ADDRESS,
			    m->u.search.address);
		kd_put_le64(p + KD_MANIP_SEARCH_OFF_LENGTH, m->u.search.length);
		kd_put_le32(p + KD_MANIP_SEARCH_OFF_PATTERN,
			    m->u.search.pattern_length);
		break;
	case KD_API_FILL_MEMORY:
		kd_put_le64(p + KD_MANIP_FILL_OFF_ADDRESS, m->u.fill.address);
		kd_put_le32(p + KD_MANIP_FILL_OFF_LENGTH, m->u.fill.length);
		kd_put_le16(p + KD_MANIP_FILL_OFF_FLAGS, m->u.fill.flags);
		kd_put_le16(p + KD_MANIP_FILL_OFF_PATTERN,
			    m->u.fill.pattern_length);
		break;
	case KD_API_QUERY_MEMORY:
		kd_put_le64(p + KD_MANIP_QUERY_OFF_ADDRESS, m->u.query.address);
		kd_put_le64(p + KD_MANIP_QUERY_OFF_RESERVED,
			    m->u.query.reserved);
		kd_put_le32(p + KD_MANIP_QUERY_OFF_SPACE,
			    m->u.query.address_space);
		kd_put_le32(p + KD_MANIP_QUERY_OFF_FLAGS, m->u.query.flags);
		break;
	case KD_API_GET_BUS_DATA:
	case KD_API_SET_BUS_DATA:
		kd_put_le32(p + KD_MANIP_BUS_OFF_TYPE, m->u.bus.bus_data_type);
		kd_put_le32(p + KD_MANIP_BUS_OFF_BUS, m->u.bus.bus_number);
		kd_put_le32(p + KD_MANIP_BUS_OFF_SLOT, m->u.bus.slot_number);
		kd_put_le32(p + KD_MANIP_BUS_OFF_OFFSET, m->u.bus.offset);
		kd_put_le32(p + KD_MANIP_BUS_OFF_LENGTH, m->u.bus.length);
		break;
	case KD_API_SWITCH_PARTITION:
		kd_put_le32(p + KD_MANIP_PARTITION_OFF, m->u.partition);
		break;
	default:
		break;
	}
}

int kd_manipulate_decode(struct kd_manipulate *out, const uint8_t *payload,
			 size_t len)
{
	if (!out || (!payload && len > 0))
		return KD_EINVAL;
	memset(out, 0, sizeof(*out));
	if (len < KD_MANIP_SIZE)
		return KD_ETRUNC;
	out->api = kd_get_le32(payload + KD_MANIP_OFF_API);
	out->processor_level = kd_get_le16(payload +
					   KD_MANIP_OFF_PROCESSOR_LEVEL);
	out->processor = kd_get_le16(payload + KD_MANIP_OFF_PROCESSOR);
	out->return_status = kd_get_le32(payload + KD_MANIP_OFF_RETURN_STATUS);
	out->padding = kd_get_le32(payload + KD_MANIP_OFF_RETURN_STATUS + 4);
	memcpy(out->raw, payload + KD_MANIP_OFF_UNION, KD_MANIP_UNION_SIZE);
	manip_decode_union(out, payload);
	out->data = payload + KD_MANIP_SIZE;
	out->data_len = len - KD_MANIP_SIZE;
	return KD_OK;
}

int kd_manipulate_encode(uint8_t *out, size_t cap, size_t *len_out,
			 const struct kd_manipulate *m, const void *data,
			 size_t data_len)
{
	int rc;

	if (!out || !m)
		return KD_EINVAL;
	rc = put_trailer(out, cap, KD_MANIP_SIZE, data, data_len, len_out);
	if (rc != KD_OK)
		return rc;
	kd_put_le32(out + KD_MANIP_OFF_API, m->api);
	kd_put_le16(out + KD_MANIP_OFF_PROCESSOR_LEVEL, m->processor_level);
	kd_put_le16(out + KD_MANIP_OFF_PROCESSOR, m->processor);
	kd_put_le32(out + KD_MANIP_OFF_RETURN_STATUS, m->return_status);
	kd_put_le32(out + KD_MANIP_OFF_RETURN_STATUS + 4, m->padding);
	memcpy(out + KD_MANIP_OFF_UNION, m->raw, KD_MANIP_UNION_SIZE);
	manip_encode_union(m, out);
	return KD_OK;
}

/* --- DBGKD_ANY_WAIT_STATE_CHANGE --- */

/* Length of a string of at most @p max bytes, stopping at a NUL. */
static size_t bounded_strlen(const uint8_t *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n] != 0)
		n++;
	return n;
}

static void sc_decode_strings(struct kd_state_change *sc)
{
	uint32_t state = sc->new_state & ~KD_STATE_ALTERNATE;
	const uint8_t *x = sc->extra;
	size_t n = sc->extra_len;

	if (state == KD_STATE_LOAD_SYMBOLS) {
		size_t max = sc->u.load_symbols.path_name_length;

		if (max > n)
			max = n;
		sc->u.load_symbols.path = x;
		sc->u.load_symbols.path_len = max ? bounded_strlen(x, max) : 0;
	} else if (state == KD_STATE_COMMAND_STRING) {
		size_t name_len = n ? bounded_strlen(x, n) : 0;
		size_t rest;

		sc->u.command_string.name = x;
		sc->u.command_string.name_len = name_len;
		/* The command starts after the name's NUL, if there is one. */
		rest = name_len < n ? n - name_len - 1 : 0;
		sc->u.command_string.command = x + (n - rest);
		sc->u.command_string.command_len =
			rest ? bounded_strlen(x + (n - rest), rest) : 0;
	}
}

int kd_state_change_decode(struct kd_state_change *out, const uint8_t *payload,
			   size_t len)
{
	const uint8_t *p = payload;
	uint32_t state;

	if (!out || (!payload && len > 0))
		return KD_EINVAL;
	memset(out, 0, sizeof(*out));
	if (len < KD_SC_SIZE)
		return KD_ETRUNC;
	out->new_state = kd_get_le32(p + KD_SC_OFF_NEW_STATE);
	out->processor_level = kd_get_le16(p + KD_SC_OFF_PROCESSOR_LEVEL);
	out->processor = kd_get_le16(p + KD_SC_OFF_PROCESSOR);
	out->number_processors = kd_get_le32(p + KD_SC_OFF_NUM_PROCESSORS);
	out->padding = kd_get_le32(p + KD_SC_OFF_NUM_PROCESSORS + 4);
	out->thread = kd_get_le64(p + KD_SC_OFF_THREAD);
	out->program_counter = kd_get_le64(p + KD_SC_OFF_PC);
	memcpy(out->raw, p + KD_SC_OFF_UNION, KD_SC_UNION_SIZE);
	memcpy(out->raw_control, p + KD_SC_OFF_CONTROL, KD_SC_CONTROL_SIZE);
	out->extra = p + KD_SC_SIZE;
	out->extra_len = len - KD_SC_SIZE;

	state = out->new_state & ~KD_STATE_ALTERNATE;
	if (state == KD_STATE_EXCEPTION) {
		struct kd_exception_record *r = &out->u.exception.record;
		const uint8_t *q = p + KD_SC_EXC_OFF_RECORD;

		r->code = kd_get_le32(q + KD_EXCREC_OFF_CODE);
		r->flags = kd_get_le32(q + KD_EXCREC_OFF_FLAGS);
		r->record = kd_get_le64(q + KD_EXCREC_OFF_RECORD);
		r->address = kd_get_le64(q + KD_EXCREC_OFF_ADDRESS);
		r->number_parameters = kd_get_le32(q +
						   KD_EXCREC_OFF_NUM_PARAMS);
		for (size_t i = 0; i < KD_EXCEPTION_MAXIMUM_PARAMETERS; i++)
			r->information[i] = kd_get_le64(q + KD_EXCREC_OFF_INFO +
							8 * i);
		out->u.exception.first_chance = kd_get_le32(
			p + KD_SC_EXC_OFF_FIRST_CHANCE);
	} else if (state == KD_STATE_LOAD_SYMBOLS) {
		out->u.load_symbols.path_name_length = kd_get_le32(
			p + KD_SC_LS_OFF_PATH_LEN);
		out->u.load_symbols.base_of_dll = kd_get_le64(
			p + KD_SC_LS_OFF_BASE);
		out->u.load_symbols.process_id = kd_get_le64(
			p + KD_SC_LS_OFF_PROCESS_ID);
		out->u.load_symbols.checksum = kd_get_le32(
			p + KD_SC_LS_OFF_CHECKSUM);
		out->u.load_symbols.size_of_image = kd_get_le32(
			p + KD_SC_LS_OFF_SIZE);
		out->u.load_symbols.unload_symbols = p[KD_SC_LS_OFF_UNLOAD];
	} else if (state == KD_STATE_COMMAND_STRING) {
		out->u.command_string.flags = kd_get_le32(p +
							  KD_SC_CMD_OFF_FLAGS);
		out->u.command_string.reserved1 = kd_get_le32(
			p + KD_SC_CMD_OFF_RESERVED1);
		for (size_t i = 0; i < 7; i++)
			out->u.command_string.reserved2[i] = kd_get_le64(
				p + KD_SC_CMD_OFF_RESERVED2 + 8 * i);
	}
	sc_decode_strings(out);

	out->amd64.dr6 = kd_get_le64(p + KD_SC_AMD64_OFF_DR6);
	out->amd64.dr7 = kd_get_le64(p + KD_SC_AMD64_OFF_DR7);
	out->amd64.eflags = kd_get_le32(p + KD_SC_AMD64_OFF_EFLAGS);
	out->amd64.instruction_count = kd_get_le16(p + KD_SC_AMD64_OFF_COUNT);
	out->amd64.report_flags = kd_get_le16(p + KD_SC_AMD64_OFF_REPORT_FLAGS);
	memcpy(out->amd64.instruction_stream, p + KD_SC_AMD64_OFF_STREAM,
	       KD_MAXSTREAM);
	out->amd64.seg_cs = kd_get_le16(p + KD_SC_AMD64_OFF_CS);
	out->amd64.seg_ds = kd_get_le16(p + KD_SC_AMD64_OFF_DS);
	out->amd64.seg_es = kd_get_le16(p + KD_SC_AMD64_OFF_ES);
	out->amd64.seg_fs = kd_get_le16(p + KD_SC_AMD64_OFF_FS);

	out->x86.dr6 = kd_get_le32(p + KD_SC_X86_OFF_DR6);
	out->x86.dr7 = kd_get_le32(p + KD_SC_X86_OFF_DR7);
	out->x86.instruction_count = kd_get_le16(p + KD_SC_X86_OFF_COUNT);
	out->x86.report_flags = kd_get_le16(p + KD_SC_X86_OFF_REPORT_FLAGS);
	memcpy(out->x86.instruction_stream, p + KD_SC_X86_OFF_STREAM,
	       KD_MAXSTREAM);
	out->x86.seg_cs = kd_get_le16(p + KD_SC_X86_OFF_CS);
	out->x86.seg_ds = kd_get_le16(p + KD_SC_X86_OFF_DS);
	out->x86.seg_es = kd_get_le16(p + KD_SC_X86_OFF_ES);
	out->x86.seg_fs = kd_get_le16(p + KD_SC_X86_OFF_FS);
	out->x86.eflags = kd_get_le32(p + KD_SC_X86_OFF_EFLAGS);
	return KD_OK;
}

static void sc_encode_control(const struct kd_state_change *sc, uint8_t *p)
{
	if (sc->machine == KD_MACHINE_I386) {
		const struct kd_control_report_x86 *r = &sc->x86;

		kd_put_le32(p + KD_SC_X86_OFF_DR6, r->dr6);
		kd_put_le32(p + KD_SC_X86_OFF_DR7, r->dr7);
		kd_put_le16(p + KD_SC_X86_OFF_COUNT, r->instruction_count);
		kd_put_le16(p + KD_SC_X86_OFF_REPORT_FLAGS, r->report_flags);
		memcpy(p + KD_SC_X86_OFF_STREAM, r->instruction_stream,
		       KD_MAXSTREAM);
		kd_put_le16(p + KD_SC_X86_OFF_CS, r->seg_cs);
		kd_put_le16(p + KD_SC_X86_OFF_DS, r->seg_ds);
		kd_put_le16(p + KD_SC_X86_OFF_ES, r->seg_es);
		kd_put_le16(p + KD_SC_X86_OFF_FS, r->seg_fs);
		kd_put_le32(p + KD_SC_X86_OFF_EFLAGS, r->eflags);
	} else {
		const struct kd_control_report_amd64 *r = &sc->amd64;

		kd_put_le64(p + KD_SC_AMD64_OFF_DR6, r->dr6);
		kd_put_le64(p + KD_SC_AMD64_OFF_DR7, r->dr7);
		kd_put_le32(p + KD_SC_AMD64_OFF_EFLAGS, r->eflags);
		kd_put_le16(p + KD_SC_AMD64_OFF_COUNT, r->instruction_count);
		kd_put_le16(p + KD_SC_AMD64_OFF_REPORT_FLAGS, r->report_flags);
		memcpy(p + KD_SC_AMD64_OFF_STREAM, r->instruction_stream,
		       KD_MAXSTREAM);
		kd_put_le16(p + KD_SC_AMD64_OFF_CS, r->seg_cs);
		kd_put_le16(p + KD_SC_AMD64_OFF_DS, r->seg_ds);
		kd_put_le16(p + KD_SC_AMD64_OFF_ES, r->seg_es);
		kd_put_le16(p + KD_SC_AMD64_OFF_FS, r->seg_fs);
	}
}

int kd_state_change_encode(uint8_t *out, size_t cap, size_t *len_out,
			   const struct kd_state_change *sc, const void *extra,
			   size_t extra_len)
{
	uint8_t *p = out;
	uint32_t state;
	int rc;

	if (!out || !sc)
		return KD_EINVAL;
	rc = put_trailer(out, cap, KD_SC_SIZE, extra, extra_len, len_out);
	if (rc != KD_OK)
		return rc;
	kd_put_le32(p + KD_SC_OFF_NEW_STATE, sc->new_state);
	kd_put_le16(p + KD_SC_OFF_PROCESSOR_LEVEL, sc->processor_level);
	kd_put_le16(p + KD_SC_OFF_PROCESSOR, sc->processor);
	kd_put_le32(p + KD_SC_OFF_NUM_PROCESSORS, sc->number_processors);
	kd_put_le32(p + KD_SC_OFF_NUM_PROCESSORS + 4, sc->padding);
	kd_put_le64(p + KD_SC_OFF_THREAD, sc->thread);
	kd_put_le64(p + KD_SC_OFF_PC, sc->program_counter);
	memcpy(p + KD_SC_OFF_UNION, sc->raw, KD_SC_UNION_SIZE);
	memcpy(p + KD_SC_OFF_CONTROL, sc->raw_control, KD_SC_CONTROL_SIZE);

	state = sc->new_state & ~KD_STATE_ALTERNATE;
	if (state == KD_STATE_EXCEPTION) {
		const struct kd_exception_record *r = &sc->u.exception.record;
		uint8_t *q = p + KD_SC_EXC_OFF_RECORD;

		kd_put_le32(q + KD_EXCREC_OFF_CODE, r->code);
		kd_put_le32(q + KD_EXCREC_OFF_FLAGS, r->flags);
		kd_put_le64(q + KD_EXCREC_OFF_RECORD, r->record);
		kd_put_le64(q + KD_EXCREC_OFF_ADDRESS, r->address);
		kd_put_le32(q + KD_EXCREC_OFF_NUM_PARAMS, r->number_parameters);
		for (size_t i = 0; i < KD_EXCEPTION_MAXIMUM_PARAMETERS; i++)
			kd_put_le64(q + KD_EXCREC_OFF_INFO + 8 * i,
				    r->information[i]);
		kd_put_le32(p + KD_SC_EXC_OFF_FIRST_CHANCE,
			    sc->u.exception.first_chance);
	} else if (state == KD_STATE_LOAD_SYMBOLS) {
		kd_put_le32(p + KD_SC_LS_OFF_PATH_LEN,
			    sc->u.load_symbols.path_name_length);
		kd_put_le64(p + KD_SC_LS_OFF_BASE,
			    sc->u.load_symbols.base_of_dll);
		kd_put_le64(p + KD_SC_LS_OFF_PROCESS_ID,
			    sc->u.load_symbols.process_id);
		kd_put_le32(p + KD_SC_LS_OFF_CHECKSUM,
			    sc->u.load_symbols.checksum);
		kd_put_le32(p + KD_SC_LS_OFF_SIZE,
			    sc->u.load_symbols.size_of_image);
		p[KD_SC_LS_OFF_UNLOAD] = sc->u.load_symbols.unload_symbols;
	} else if (state == KD_STATE_COMMAND_STRING) {
		kd_put_le32(p + KD_SC_CMD_OFF_FLAGS,
			    sc->u.command_string.flags);
		kd_put_le32(p + KD_SC_CMD_OFF_RESERVED1,
			    sc->u.command_string.reserved1);
		for (size_t i = 0; i < 7; i++)
			kd_put_le64(p + KD_SC_CMD_OFF_RESERVED2 + 8 * i,
				    sc->u.command_string.reserved2[i]);
	}
	sc_encode_control(sc, p);
	return KD_OK;
}

/* --- DBGKD_DEBUG_IO --- */

int kd_debug_io_decode(struct kd_debug_io *out, const uint8_t *payload,
		       size_t len)
{
	if (!out || (!payload && len > 0))
		return KD_EINVAL;
	memset(out, 0, sizeof(*out));
	if (len < KD_DEBUG_IO_SIZE)
		return KD_ETRUNC;
	out->api = kd_get_le32(payload + KD_DEBUG_IO_OFF_API);
	out->processor_level = kd_get_le16(payload +
					   KD_DEBUG_IO_OFF_PROCESSOR_LEVEL);
	out->processor = kd_get_le16(payload + KD_DEBUG_IO_OFF_PROCESSOR);
	out->length = kd_get_le32(payload + KD_DEBUG_IO_OFF_LENGTH);
	out->read_length = kd_get_le32(payload + KD_DEBUG_IO_OFF_READ_LENGTH);
	out->text = payload + KD_DEBUG_IO_SIZE;
	out->text_len = len - KD_DEBUG_IO_SIZE;
	return KD_OK;
}

int kd_debug_io_encode(uint8_t *out, size_t cap, size_t *len_out,
		       const struct kd_debug_io *io, const void *text,
		       size_t text_len)
{
	int rc;

	if (!out || !io)
		return KD_EINVAL;
	rc = put_trailer(out, cap, KD_DEBUG_IO_SIZE, text, text_len, len_out);
	if (rc != KD_OK)
		return rc;
	kd_put_le32(out + KD_DEBUG_IO_OFF_API, io->api);
	kd_put_le16(out + KD_DEBUG_IO_OFF_PROCESSOR_LEVEL, io->processor_level);
	kd_put_le16(out + KD_DEBUG_IO_OFF_PROCESSOR, io->processor);
	kd_put_le32(out + KD_DEBUG_IO_OFF_LENGTH, io->length);
	kd_put_le32(out + KD_DEBUG_IO_OFF_READ_LENGTH, io->read_length);
	return KD_OK;
}

/* --- DBGKD_FILE_IO --- */

int kd_file_io_decode(struct kd_file_io *out, const uint8_t *payload,
		      size_t len)
{
	const uint8_t *p = payload;

	if (!out || (!payload && len > 0))
		return KD_EINVAL;
	memset(out, 0, sizeof(*out));
	if (len < KD_FILE_IO_SIZE)
		return KD_ETRUNC;
	out->api = kd_get_le32(p + KD_FILE_IO_OFF_API);
	out->status = kd_get_le32(p + KD_FILE_IO_OFF_STATUS);
	memcpy(out->raw, p + KD_FILE_IO_OFF_UNION, sizeof(out->raw));
	switch (out->api) {
	case KD_FILE_IO_CREATE:
		out->u.create.desired_access = kd_get_le32(
			p + KD_FILE_IO_CREATE_OFF_ACCESS);
		out->u.create.file_attributes = kd_get_le32(
			p + KD_FILE_IO_CREATE_OFF_ATTRIBUTES);
		out->u.create.share_access = kd_get_le32(
			p + KD_FILE_IO_CREATE_OFF_SHARE);
		out->u.create.create_disposition = kd_get_le32(
			p + KD_FILE_IO_CREATE_OFF_DISPOSITION);
		out->u.create.create_options = kd_get_le32(
			p + KD_FILE_IO_CREATE_OFF_OPTIONS);
		out->u.create.handle = kd_get_le64(
			p + KD_FILE_IO_CREATE_OFF_HANDLE);
		out->u.create.length = kd_get_le64(
			p + KD_FILE_IO_CREATE_OFF_LENGTH);
		break;
	case KD_FILE_IO_READ:
	case KD_FILE_IO_WRITE:
		out->u.rw.handle = kd_get_le64(p + KD_FILE_IO_RW_OFF_HANDLE);
		out->u.rw.offset = kd_get_le64(p + KD_FILE_IO_RW_OFF_OFFSET);
		out->u.rw.length = kd_get_le32(p + KD_FILE_IO_RW_OFF_LENGTH);
		break;
	case KD_FILE_IO_CLOSE:
		out->u.close.handle = kd_get_le64(p +
						  KD_FILE_IO_CLOSE_OFF_HANDLE);
		break;
	default:
		break;
	}
	out->data = p + KD_FILE_IO_SIZE;
	out->data_len = len - KD_FILE_IO_SIZE;
	return KD_OK;
}

int kd_file_io_encode(uint8_t *out, size_t cap, size_t *len_out,
		      const struct kd_file_io *io, const void *data,
		      size_t data_len)
{
	uint8_t *p = out;
	int rc;

	if (!out || !io)
		return KD_EINVAL;
	rc = put_trailer(out, cap, KD_FILE_IO_SIZE, data, data_len, len_out);
	if (rc != KD_OK)
		return rc;
	kd_put_le32(p + KD_FILE_IO_OFF_API, io->api);
	kd_put_le32(p + KD_FILE_IO_OFF_STATUS, io->status);
	memcpy(p + KD_FILE_IO_OFF_UNION, io->raw, sizeof(io->raw));
	switch (io->api) {
	case KD_FILE_IO_CREATE:
		kd_put_le32(p + KD_FILE_IO_CREATE_OFF_ACCESS,
			    io->u.create.desired_access);
		kd_put_le32(p + KD_FILE_IO_CREATE_OFF_ATTRIBUTES,
			    io->u.create.file_attributes);
		kd_put_le32(p + KD_FILE_IO_CREATE_OFF_SHARE,
			    io->u.create.share_access);
		kd_put_le32(p + KD_FILE_IO_CREATE_OFF_DISPOSITION,
			    io->u.create.create_disposition);
		kd_put_le32(p + KD_FILE_IO_CREATE_OFF_OPTIONS,
			    io->u.create.create_options);
		kd_put_le64(p + KD_FILE_IO_CREATE_OFF_HANDLE,
			    io->u.create.handle);
		kd_put_le64(p + KD_FILE_IO_CREATE_OFF_LENGTH,
			    io->u.create.length);
		break;
	case KD_FILE_IO_READ:
	case KD_FILE_IO_WRITE:
		kd_put_le64(p + KD_FILE_IO_RW_OFF_HANDLE, io->u.rw.handle);
		kd_put_le64(p + KD_FILE_IO_RW_OFF_OFFSET, io->u.rw.offset);
		kd_put_le32(p + KD_FILE_IO_RW_OFF_LENGTH, io->u.rw.length);
		break;
	case KD_FILE_IO_CLOSE:
		kd_put_le64(p + KD_FILE_IO_CLOSE_OFF_HANDLE,
			    io->u.close.handle);
		break;
	default:
		break;
	}
	return KD_OK;
}

/* --- DBGKD_TRACE_IO --- */

int kd_trace_io_decode(struct kd_trace_io *out, const uint8_t *payload,
		       size_t len)
{
	if (!out || (!payload && len > 0))
		return KD_EINVAL;
	memset(out, 0, sizeof(*out));
	if (len < KD_TRACE_IO_SIZE)
		return KD_ETRUNC;
	out->api = kd_get_le32(payload + KD_TRACE_IO_OFF_API);
	out->processor_level = kd_get_le16(payload +
					   KD_TRACE_IO_OFF_PROCESSOR_LEVEL);
	out->processor = kd_get_le16(payload + KD_TRACE_IO_OFF_PROCESSOR);
	memcpy(out->raw, payload + KD_TRACE_IO_OFF_LENGTH, sizeof(out->raw));
	out->length_of_data = kd_get_le32(payload + KD_TRACE_IO_OFF_LENGTH);
	out->data = payload + KD_TRACE_IO_SIZE;
	out->data_len = len - KD_TRACE_IO_SIZE;
	return KD_OK;
}

int kd_trace_io_encode(uint8_t *out, size_t cap, size_t *len_out,
		       const struct kd_trace_io *io, const void *data,
		       size_t data_len)
{
	int rc;

	if (!out || !io)
		return KD_EINVAL;
	rc = put_trailer(out, cap, KD_TRACE_IO_SIZE, data, data_len, len_out);
	if (rc != KD_OK)
		return rc;
	kd_put_le32(out + KD_TRACE_IO_OFF_API, io->api);
	kd_put_le16(out + KD_TRACE_IO_OFF_PROCESSOR_LEVEL, io->processor_level);
	kd_put_le16(out + KD_TRACE_IO_OFF_PROCESSOR, io->processor);
	memcpy(out + KD_TRACE_IO_OFF_LENGTH, io->raw, sizeof(io->raw));
	kd_put_le32(out + KD_TRACE_IO_OFF_LENGTH, io->length_of_data);
	return KD_OK;
}

/* --- DBGKD_CONTROL_REQUEST --- */

int kd_control_request_decode(struct kd_control_request *out,
			      const uint8_t *payload, size_t len)
{
	if (!out || (!payload && len > 0))
		return KD_EINVAL;
	memset(out, 0, sizeof(*out));
	if (len < KD_CONTROL_REQUEST_SIZE)
		return KD_ETRUNC;
	out->api = kd_get_le32(payload + KD_CONTROL_REQUEST_OFF_API);
	out->breakpoint_number = kd_get_le32(payload +
					     KD_CONTROL_REQUEST_OFF_BP_NUMBER);
	out->result = kd_get_le32(payload + KD_CONTROL_REQUEST_OFF_RESULT);
	return KD_OK;
}

int kd_control_request_encode(uint8_t *out, size_t cap, size_t *len_out,
			      const struct kd_control_request *req)
{
	if (!out || !req)
		return KD_EINVAL;
	if (cap < KD_CONTROL_REQUEST_SIZE)
		return KD_EBUFS;
	kd_put_le32(out + KD_CONTROL_REQUEST_OFF_API, req->api);
	kd_put_le32(out + KD_CONTROL_REQUEST_OFF_BP_NUMBER,
		    req->breakpoint_number);
	kd_put_le32(out + KD_CONTROL_REQUEST_OFF_RESULT, req->result);
	if (len_out)
		*len_out = KD_CONTROL_REQUEST_SIZE;
	return KD_OK;
}
