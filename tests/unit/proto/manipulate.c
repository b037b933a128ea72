/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the KD API payload codecs: synthetic round trips checked
 * byte by byte against the offsets of kd-protocol.md §2, and decoding of the
 * real radare2 <-> Xen kdd serial session under ../shared/data/kdserial.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <kd/proto/manipulate.h>
#include <kd/proto/names.h>

#include "testsupport.h"

/* --- A tiny KDCOM scanner over a captured byte stream --- */

struct sample {
	uint8_t *buf;
	size_t len;
};

static struct sample t2h, h2t;

/*
 * Find the @p nth (0-based) data packet of @p type: a "0000" leader, then
 * u16 type and u16 ByteCount at offsets 4 and 6, payload at 16.  Control
 * packets ("iiii", 16 bytes) and stray bytes are skipped.
 */
static const uint8_t *find_packet(const struct sample *s, uint16_t type,
				  int nth, size_t *len)
{
	size_t i = 0;

	while (i + 16 <= s->len) {
		const uint8_t *p = s->buf + i;

		if (memcmp(p, "0000", 4) == 0) {
			uint16_t t = (uint16_t)(p[4] | p[5] << 8);
			size_t n = (size_t)(p[6] | p[7] << 8);

			if (i + 16 + n > s->len)
				return NULL;
			if (t == type && nth-- == 0) {
				*len = n;
				return p + 16;
			}
			i += 16 + n + 1; /* payload and the 0xAA trailer */
		} else if (memcmp(p, "iiii", 4) == 0) {
			i += 16;
		} else {
			i++;
		}
	}
	return NULL;
}

static int load_samples(void **state)
{
	char path[512];

	(void)state;
	kdt_require_shared(path, sizeof(path), "kdserial/target-to-host.bin");
	t2h.buf = kdt_read_file(path, &t2h.len);
	kdt_require_shared(path, sizeof(path), "kdserial/host-to-target.bin");
	h2t.buf = kdt_read_file(path, &h2t.len);
	return t2h.buf && h2t.buf ? 0 : -1;
}

static int free_samples(void **state)
{
	(void)state;
	free(t2h.buf);
	free(h2t.buf);
	return 0;
}

/* --- Real bytes from the kdd serial session --- */

static void test_proto_manipulate__sample_get_version(void **state)
{
	struct kd_manipulate m;
	const uint8_t *p;
	uint8_t out[64];
	size_t len, n;

	(void)state;
	/* Request from radare2: 56 bytes, api 0x3146. */
	p = find_packet(&h2t, 2, 0, &len);
	assert_non_null(p);
	assert_int_equal(len, KD_MANIP_SIZE);
	assert_int_equal(kd_manipulate_decode(&m, p, len), KD_OK);
	assert_int_equal(m.api, KD_API_GET_VERSION);
	assert_string_equal(kd_manipulate_api_name(m.api), "GetVersion");
	assert_int_equal(m.data_len, 0);

	/* Reply from kdd (an emulated 32-bit x86 guest). */
	p = find_packet(&t2h, 2, 0, &len);
	assert_non_null(p);
	assert_int_equal(len, 56);
	assert_int_equal(kd_manipulate_decode(&m, p, len), KD_OK);
	assert_int_equal(m.api, KD_API_GET_VERSION);
	assert_int_equal(m.processor_level, 0x0101);
	assert_int_equal(m.processor, 0x0101);
	assert_int_equal(m.return_status, KD_STATUS_SUCCESS);
	assert_int_equal(m.u.version.major_version, 0x000F);
	assert_int_equal(m.u.version.major_version >> 8, KD_MAJOR_NT);
	assert_int_equal(m.u.version.major_version & 0xFF, KD_BUILD_FREE);
	assert_int_equal(m.u.version.minor_version, 0);
	assert_int_equal(m.u.version.protocol_version, KD_PROTOCOL_VERSION);
	assert_int_equal(m.u.version.secondary_version, 0);
	assert_int_equal(m.u.version.flags, KD_VERS_FLAG_DATA);
	assert_int_equal(m.u.version.machine_type, KD_MACHINE_I386);
	assert_int_equal(m.u.version.max_packet_type, 0x0B);
	assert_int_equal(m.u.version.max_state_change, 0x0C);
	assert_int_equal(m.u.version.max_manipulate, 0x2E);
	assert_int_equal(m.u.version.kern_base, 0);
	assert_int_equal(m.u.version.ps_loaded_module_list, 0);
	assert_int_equal(m.u.version.debugger_data_list, 0);

	/* Re-encoding reproduces kdd's bytes exactly, padding included. */
	assert_int_equal(kd_manipulate_encode(out, sizeof(out), &n, &m, m.data,
					      m.data_len),
			 KD_OK);
	assert_int_equal(n, len);
	assert_memory_equal(out, p, len);
}

static void test_proto_manipulate__sample_read_virtual(void **state)
{
	static const struct {
		uint64_t address;
		uint32_t count;
	} want[] = { { 0, 4 }, { 0x36, 2 }, { 0x268, 8 }, { 0, 4 } };
	struct kd_manipulate m;
	const uint8_t *p;
	uint8_t out[128];
	size_t len, n;

	(void)state;
	for (int i = 0; i < 4; i++) {
		/* Request: TransferCount set, no data. */
		p = find_packet(&h2t, 2, i + 1, &len);
		assert_non_null(p);
		assert_int_equal(kd_manipulate_decode(&m, p, len), KD_OK);
		assert_int_equal(m.api, KD_API_READ_VIRTUAL_MEMORY);
		assert_int_equal(m.u.mem.address, want[i].address);
		assert_int_equal(m.u.mem.transfer_count, want[i].count);
		assert_int_equal(m.data_len, 0);

		/* Reply: ActualBytesRead and that many bytes after 56. */
		p = find_packet(&t2h, 2, i + 1, &len);
		assert_non_null(p);
		assert_int_equal(kd_manipulate_decode(&m, p, len), KD_OK);
		assert_int_equal(m.api, KD_API_READ_VIRTUAL_MEMORY);
		assert_int_equal(m.return_status, KD_STATUS_SUCCESS);
		assert_int_equal(m.u.mem.address, want[i].address);
		assert_int_equal(m.u.mem.transfer_count, want[i].count);
		assert_int_equal(m.u.mem.actual_count, want[i].count);
		assert_int_equal(m.data_len, want[i].count);
		assert_ptr_equal(m.data, p + 56);

		assert_int_equal(kd_manipulate_encode(out, sizeof(out), &n, &m,
						      m.data, m.data_len),
				 KD_OK);
		assert_int_equal(n, len);
		assert_memory_equal(out, p, len);
	}
}

static void test_proto_manipulate__sample_state_change(void **state)
{
	struct kd_state_change sc;
	const uint8_t *p;
	uint8_t out[256];
	size_t len, n;

	(void)state;
	p = find_packet(&t2h, 7, 0, &len);
	assert_non_null(p);
	assert_int_equal(len, KD_SC_SIZE);
	assert_int_equal(kd_state_change_decode(&sc, p, len), KD_OK);
	assert_int_equal(sc.new_state, KD_STATE_EXCEPTION);
	assert_string_equal(kd_state_change_name(sc.new_state), "Exception");
	assert_int_equal(sc.processor_level, 0x0504);
	assert_int_equal(sc.processor, 0);
	assert_int_equal(sc.number_processors, 1);
	assert_int_equal(sc.thread, 0);
	assert_int_equal(sc.program_counter, 0x1000);
	assert_int_equal(sc.u.exception.record.code, KD_STATUS_BREAKPOINT);
	assert_string_equal(kd_ntstatus_name(sc.u.exception.record.code),
			    "STATUS_BREAKPOINT");
	assert_int_equal(sc.u.exception.record.flags, 0);
	assert_int_equal(sc.u.exception.record.address, 0x1000);
	assert_int_equal(sc.u.exception.record.number_parameters, 0);
	assert_int_equal(sc.u.exception.first_chance, 1);
	assert_int_equal(sc.extra_len, 0);
	/* kdd sends the x86 report: Dr6/Dr7 u32, then the stream at 204. */
	assert_int_equal(sc.x86.dr6, 0xC3C2C1C0u);
	assert_int_equal(sc.x86.dr7, 0xC7C6C5C4u);
	assert_int_equal(sc.x86.instruction_count, 0x24);
	assert_int_equal(kd_report_stream_len(sc.x86.instruction_count),
			 KD_MAXSTREAM);
	assert_int_equal(sc.x86.instruction_stream[0], 0xCC); /* int3 */
	assert_int_equal(sc.x86.instruction_stream[1], 0x90);
	/* The same bytes read with the AMD64 shape. */
	assert_int_equal(sc.amd64.dr6, 0xC7C6C5C4C3C2C1C0ull);
	assert_int_equal(sc.amd64.dr7 & 0xFF, 0x24);

	/* Both shapes re-encode byte-identically. */
	sc.machine = KD_MACHINE_I386;
	assert_int_equal(
		kd_state_change_encode(out, sizeof(out), &n, &sc, NULL, 0),
		KD_OK);
	assert_int_equal(n, 240);
	assert_memory_equal(out, p, 240);
	sc.machine = KD_MACHINE_AMD64;
	memset(out, 0, sizeof(out));
	assert_int_equal(
		kd_state_change_encode(out, sizeof(out), &n, &sc, NULL, 0),
		KD_OK);
	assert_memory_equal(out, p, 240);
}

static void test_proto_manipulate__sample_debug_io(void **state)
{
	static const char first[] =
		"[kdd: connected to fake flat-RAM guest]\r\n";
	static const char second[] = "[kdd: unknown OS @0x0]\r\n";
	struct kd_debug_io io;
	const uint8_t *p;
	uint8_t out[128];
	size_t len, n;

	(void)state;
	p = find_packet(&t2h, 3, 0, &len);
	assert_non_null(p);
	assert_int_equal(kd_debug_io_decode(&io, p, len), KD_OK);
	assert_int_equal(io.api, KD_DEBUG_IO_PRINT_STRING);
	assert_string_equal(kd_debug_io_api_name(io.api), "PrintString");
	assert_int_equal(io.length, sizeof(first) - 1);
	assert_int_equal(io.text_len, sizeof(first) - 1);
	assert_memory_equal(io.text, first, sizeof(first) - 1);
	assert_int_equal(kd_debug_io_encode(out, sizeof(out), &n, &io, io.text,
					    io.text_len),
			 KD_OK);
	assert_int_equal(n, len);
	assert_memory_equal(out, p, len);

	p = find_packet(&t2h, 3, 1, &len);
	assert_non_null(p);
	assert_int_equal(kd_debug_io_decode(&io, p, len), KD_OK);
	assert_int_equal(io.length, sizeof(second) - 1);
	assert_memory_equal(io.text, second, io.text_len);
}

/* --- Synthetic round trips against documented offsets --- */

static void roundtrip(const struct kd_manipulate *m, const uint8_t *data,
		      size_t data_len, uint8_t *out, size_t cap,
		      struct kd_manipulate *back)
{
	size_t n = 0;

	assert_int_equal(kd_manipulate_encode(out, cap, &n, m, data, data_len),
			 KD_OK);
	assert_int_equal(n, KD_MANIP_SIZE + data_len);
	assert_int_equal(kd_manipulate_decode(back, out, n), KD_OK);
	assert_int_equal(back->api, m->api);
	assert_int_equal(back->processor, m->processor);
	assert_int_equal(back->return_status, m->return_status);
	assert_int_equal(back->data_len, data_len);
}

static void test_proto_manipulate__continue2_shapes(void **state)
{
	struct kd_manipulate m = { 0 }, b;
	uint8_t out[KD_MANIP_SIZE];

	(void)state;
	/* WinDbg's captured Continue2 (§2.3): DBG_CONTINUE, Dr7 0x400. */
	m.api = KD_API_CONTINUE2;
	m.return_status = KD_STATUS_PENDING;
	m.u.continue2.continue_status = KD_DBG_CONTINUE;
	m.u.continue2.amd64.dr7 = 0x400;
	m.u.continue2.amd64.symbol_start = KD_CONTINUE_NO_SYMBOL_RANGE;
	m.u.continue2.amd64.symbol_end = 0x1122334455667788ull;
	roundtrip(&m, NULL, 0, out, sizeof(out), &b);
	assert_int_equal(kd_get_le32(out + 0), 0x313C);
	assert_int_equal(kd_get_le32(out + 8), 0x103);
	assert_int_equal(kd_get_le32(out + 16), 0x00010002);
	assert_int_equal(kd_get_le32(out + 20), 0);
	assert_int_equal(kd_get_le64(out + 24), 0x400);
	assert_int_equal(kd_get_le64(out + 32), 1);
	assert_int_equal(kd_get_le64(out + 40), 0x1122334455667788ull);
	assert_int_equal(b.u.continue2.amd64.dr7, 0x400);
	assert_int_equal(b.u.continue2.amd64.symbol_end, 0x1122334455667788ull);

	memset(&m, 0, sizeof(m));
	m.api = KD_API_CONTINUE2;
	m.machine = KD_MACHINE_I386;
	m.u.continue2.continue_status = KD_DBG_CONTINUE;
	m.u.continue2.trace_flag = 1;
	m.u.continue2.x86.dr7 = 0x401;
	m.u.continue2.x86.symbol_start = 0x8000;
	m.u.continue2.x86.symbol_end = 0x9000;
	roundtrip(&m, NULL, 0, out, sizeof(out), &b);
	assert_int_equal(kd_get_le32(out + 20), 1);
	assert_int_equal(kd_get_le32(out + 24), 0x401);
	assert_int_equal(kd_get_le32(out + 28), 0x8000);
	assert_int_equal(kd_get_le32(out + 32), 0x9000);
	assert_int_equal(b.u.continue2.x86.symbol_end, 0x9000);
}

static void test_proto_manipulate__every_api_fields(void **state)
{
	struct kd_manipulate m = { 0 }, b;
	uint8_t out[KD_MANIP_SIZE + 16];
	static const uint8_t pattern[4] = { 0xDE, 0xAD, 0xBE, 0xEF };

	(void)state;
	m.api = KD_API_WRITE_PHYSICAL_MEMORY;
	m.u.mem.address = 0x1000;
	m.u.mem.transfer_count = 4;
	m.u.mem.actual_count = KD_PHYS_UNCACHED;
	roundtrip(&m, pattern, 4, out, sizeof(out), &b);
	assert_int_equal(kd_get_le64(out + 16), 0x1000);
	assert_int_equal(kd_get_le32(out + 28), 2);
	assert_memory_equal(out + 56, pattern, 4);
	assert_memory_equal(b.data, pattern, 4);

	memset(&m, 0, sizeof(m));
	m.api = KD_API_WRITE_BREAKPOINT;
	m.u.write_bp.address = 0xFFFFF80000001234ull;
	m.u.write_bp.handle = 7;
	roundtrip(&m, NULL, 0, out, sizeof(out), &b);
	assert_int_equal(kd_get_le64(out + 16), 0xFFFFF80000001234ull);
	assert_int_equal(kd_get_le32(out + 24), 7);
	assert_int_equal(b.u.write_bp.handle, 7);

	memset(&m, 0, sizeof(m));
	m.api = KD_API_RESTORE_BREAKPOINT;
	m.u.restore_bp_handle = 9;
	roundtrip(&m, NULL, 0, out, sizeof(out), &b);
	assert_int_equal(kd_get_le32(out + 16), 9);
	assert_int_equal(b.u.restore_bp_handle, 9);

	memset(&m, 0, sizeof(m));
	m.api = KD_API_GET_CONTEXT_EX;
	m.u.context_ex.offset = 0x78;
	m.u.context_ex.byte_count = 0x80;
	m.u.context_ex.bytes_copied = 0x10;
	roundtrip(&m, NULL, 0, out, sizeof(out), &b);
	assert_int_equal(kd_get_le32(out + 16), 0x78);
	assert_int_equal(kd_get_le32(out + 20), 0x80);
	assert_int_equal(kd_get_le32(out + 24), 0x10);
	assert_int_equal(b.u.context_ex.byte_count, 0x80);

	memset(&m, 0, sizeof(m));
	m.api = KD_API_READ_IO_SPACE_EX;
	m.u.io_ex.data_size = 4;
	m.u.io_ex.interface_type = 1;
	m.u.io_ex.bus_number = 2;
	m.u.io_ex.address_space = 1;
	m.u.io_ex.address = 0x3F8;
	m.u.io_ex.data_value = 0xAABBCCDD;
	roundtrip(&m, NULL, 0, out, sizeof(out), &b);
	assert_int_equal(kd_get_le32(out + 20), 1);
	assert_int_equal(kd_get_le32(out + 24), 2);
	assert_int_equal(kd_get_le64(out + 32), 0x3F8);
	assert_int_equal(kd_get_le32(out + 40), 0xAABBCCDD);
	assert_int_equal(b.u.io_ex.data_value, 0xAABBCCDD);

	memset(&m, 0, sizeof(m));
	m.api = KD_API_READ_IO_SPACE;
	m.u.io.address = 0x60;
	m.u.io.data_size = 1;
	m.u.io.data_value = 0x5A;
	roundtrip(&m, NULL, 0, out, sizeof(out), &b);
	assert_int_equal(kd_get_le32(out + 24), 1);
	assert_int_equal(kd_get_le32(out + 28), 0x5A);

	memset(&m, 0, sizeof(m));
	m.api = KD_API_READ_MSR;
	m.u.msr.msr = 0xC0000082;
	m.u.msr.low = 0x11223344;
	m.u.msr.high = 0xFFFFF800;
	roundtrip(&m, NULL, 0, out, sizeof(out), &b);
	assert_int_equal(kd_get_le32(out + 16), 0xC0000082);
	assert_int_equal(kd_get_le32(out + 24), 0xFFFFF800);
	assert_int_equal(b.u.msr.low, 0x11223344);

	memset(&m, 0, sizeof(m));
	m.api = KD_API_SEARCH_MEMORY;
	m.u.search.address = 0x10000;
	m.u.search.length = 0x2000;
	m.u.search.pattern_length = 4;
	roundtrip(&m, pattern, 4, out, sizeof(out), &b);
	assert_int_equal(kd_get_le64(out + 24), 0x2000);
	assert_int_equal(kd_get_le32(out + 32), 4);

	memset(&m, 0, sizeof(m));
	m.api = KD_API_FILL_MEMORY;
	m.u.fill.address = 0x20000;
	m.u.fill.length = 0x100;
	m.u.fill.flags = KD_FILL_PHYSICAL;
	m.u.fill.pattern_length = 4;
	roundtrip(&m, pattern, 4, out, sizeof(out), &b);
	assert_int_equal(kd_get_le16(out + 28), 2);
	assert_int_equal(kd_get_le16(out + 30), 4);
	assert_int_equal(b.u.fill.pattern_length, 4);

	memset(&m, 0, sizeof(m));
	m.api = KD_API_QUERY_MEMORY;
	m.u.query.address = 0xFFFFF80000000000ull;
	m.u.query.address_space = KD_QUERY_SPACE_KERNEL;
	m.u.query.flags = KD_QUERY_FLAG_READ | KD_QUERY_FLAG_EXECUTE;
	roundtrip(&m, NULL, 0, out, sizeof(out), &b);
	assert_int_equal(kd_get_le32(out + 32), 2);
	assert_int_equal(kd_get_le32(out + 36), 5);

	memset(&m, 0, sizeof(m));
	m.api = KD_API_GET_BUS_DATA;
	m.u.bus.bus_data_type = 4;
	m.u.bus.bus_number = 0;
	m.u.bus.slot_number = 3;
	m.u.bus.offset = 0x10;
	m.u.bus.length = 0x40;
	roundtrip(&m, NULL, 0, out, sizeof(out), &b);
	assert_int_equal(kd_get_le32(out + 24), 3);
	assert_int_equal(kd_get_le32(out + 32), 0x40);

	memset(&m, 0, sizeof(m));
	m.api = KD_API_SWITCH_PARTITION;
	m.u.partition = 1;
	roundtrip(&m, NULL, 0, out, sizeof(out), &b);
	assert_int_equal(kd_get_le32(out + 16), 1);

	memset(&m, 0, sizeof(m));
	m.api = KD_API_SET_CONTEXT;
	m.u.context_flags = KD_CONTEXT_AMD64_FULL;
	roundtrip(&m, NULL, 0, out, sizeof(out), &b);
	assert_int_equal(kd_get_le32(out + 16), 0x0010000B);

	memset(&m, 0, sizeof(m));
	m.api = KD_API_CONTINUE;
	m.u.continue_status = KD_DBG_EXCEPTION_HANDLED;
	roundtrip(&m, NULL, 0, out, sizeof(out), &b);
	assert_int_equal(kd_get_le32(out + 16), 0x00010001);

	memset(&m, 0, sizeof(m));
	m.api = KD_API_WRITE_BREAKPOINT_EX;
	m.u.bp_ex.count = 2;
	m.u.bp_ex.continue_status = KD_DBG_CONTINUE;
	roundtrip(&m, NULL, 0, out, sizeof(out), &b);
	assert_int_equal(kd_get_le32(out + 20), 0x00010002);
}

static void test_proto_manipulate__get_version_encode(void **state)
{
	struct kd_manipulate m = { 0 }, b;
	uint8_t out[KD_MANIP_SIZE];

	(void)state;
	/* The Win 8.1 x64 values of §2.7. */
	m.api = KD_API_GET_VERSION;
	m.u.version.major_version = 0x000F;
	m.u.version.minor_version = 9600;
	m.u.version.protocol_version = 6;
	m.u.version.secondary_version = 2;
	m.u.version.flags = KD_VERS_FLAG_MP | KD_VERS_FLAG_DATA |
			    KD_VERS_FLAG_PTR64;
	m.u.version.machine_type = KD_MACHINE_AMD64;
	m.u.version.max_packet_type = 12;
	m.u.version.max_state_change = 3;
	m.u.version.max_manipulate = 0x31;
	m.u.version.kern_base = 0xFFFFF80012345000ull;
	m.u.version.debugger_data_list = 0xFFFFF800AABBCCDDull;
	roundtrip(&m, NULL, 0, out, sizeof(out), &b);
	assert_int_equal(kd_get_le16(out + 18), 9600);
	assert_int_equal(out[20], 6);
	assert_int_equal(kd_get_le16(out + 22), 7);
	assert_int_equal(out[24], 0x64);
	assert_int_equal(out[25], 0x86);
	assert_int_equal(kd_get_le64(out + 32), 0xFFFFF80012345000ull);
	assert_int_equal(kd_get_le64(out + 48), 0xFFFFF800AABBCCDDull);
	assert_memory_equal(&b.u.version, &m.u.version, sizeof(m.u.version));
}

static void test_proto_manipulate__unknown_api(void **state)
{
	uint8_t buf[KD_MANIP_SIZE + 3];
	uint8_t out[sizeof(buf)];
	struct kd_manipulate m;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(0xA0 + i);
	kd_put_le32(buf, 0x31FE);
	kd_put_le16(buf + 6, 3);
	kd_put_le32(buf + 8, KD_STATUS_PENDING);
	assert_int_equal(kd_manipulate_decode(&m, buf, sizeof(buf)), KD_OK);
	assert_int_equal(m.api, 0x31FE);
	assert_null(kd_manipulate_api_name(m.api));
	assert_int_equal(m.processor, 3);
	assert_int_equal(m.return_status, KD_STATUS_PENDING);
	assert_int_equal(m.u.mem.address, 0); /* union untouched */
	assert_int_equal(m.u.version.machine_type, 0);
	assert_int_equal(m.data_len, 3);
	/* A target echoes it back with STATUS_NOT_IMPLEMENTED. */
	m.return_status = KD_STATUS_NOT_IMPLEMENTED;
	assert_int_equal(kd_manipulate_encode(out, sizeof(out), &n, &m, m.data,
					      m.data_len),
			 KD_OK);
	assert_int_equal(kd_get_le32(out + 8), 0xC0000002u);
	assert_memory_equal(out + 12, buf + 12, sizeof(buf) - 12);
}

static void test_proto_manipulate__errors(void **state)
{
	uint8_t buf[KD_MANIP_SIZE + 8] = { 0 };
	struct kd_manipulate m = { 0 };
	size_t n = 12345;

	(void)state;
	assert_int_equal(kd_manipulate_decode(&m, buf, 55), KD_ETRUNC);
	assert_int_equal(kd_manipulate_decode(&m, buf, 0), KD_ETRUNC);
	assert_int_equal(kd_manipulate_decode(NULL, buf, 56), KD_EINVAL);
	assert_int_equal(kd_manipulate_decode(&m, NULL, 56), KD_EINVAL);
	m.api = KD_API_READ_VIRTUAL_MEMORY;
	assert_int_equal(kd_manipulate_encode(buf, 55, &n, &m, NULL, 0),
			 KD_EBUFS);
	assert_int_equal(kd_manipulate_encode(buf, 60, &n, &m, buf, 5),
			 KD_EBUFS);
	assert_int_equal(kd_manipulate_encode(buf, 60, &n, &m, NULL, 4),
			 KD_EINVAL);
	assert_int_equal(n, 12345);
	assert_int_equal(kd_manipulate_encode(buf, 60, &n, &m, buf, 4), KD_OK);
	assert_int_equal(n, 60);
	/* SIZE_MAX data cannot overflow the capacity check. */
	assert_int_equal(
		kd_manipulate_encode(buf, sizeof(buf), &n, &m, buf, (size_t)-1),
		KD_EBUFS);
}

static void test_proto_manipulate__data_aliases_output(void **state)
{
	uint8_t buf[KD_MANIP_SIZE + 8];
	struct kd_manipulate m = { 0 };
	size_t n;

	(void)state;
	/* The reply data is built in place at offset 56. */
	memcpy(buf + 56, "abcdefgh", 8);
	m.api = KD_API_READ_VIRTUAL_MEMORY;
	m.u.mem.transfer_count = 8;
	m.u.mem.actual_count = 8;
	assert_int_equal(
		kd_manipulate_encode(buf, sizeof(buf), &n, &m, buf + 56, 8),
		KD_OK);
	assert_memory_equal(buf + 56, "abcdefgh", 8);
}

/* --- State changes --- */

static void test_proto_manipulate__load_symbols(void **state)
{
	struct kd_state_change sc = { 0 }, b;
	uint8_t out[KD_SC_SIZE + 12];
	size_t n;

	(void)state;
	/* The boot debugger's winload.efi report (§2.5): 252 bytes. */
	sc.new_state = KD_STATE_LOAD_SYMBOLS;
	sc.number_processors = 1;
	sc.program_counter = 0x10001000;
	sc.u.load_symbols.path_name_length = 12;
	sc.u.load_symbols.base_of_dll = 0x10000000;
	sc.u.load_symbols.process_id = (uint64_t)-1;
	sc.u.load_symbols.checksum = 0x1A2B3C;
	sc.u.load_symbols.size_of_image = 0x1C0000;
	sc.amd64.report_flags = KD_REPORT_INCLUDES_SEGS;
	sc.amd64.seg_cs = 0x10;
	sc.amd64.instruction_count = 1;
	sc.amd64.instruction_stream[0] = 0xCC;
	assert_int_equal(kd_state_change_encode(out, sizeof(out), &n, &sc,
						"winload.efi", 12),
			 KD_OK);
	assert_int_equal(n, 252);
	assert_int_equal(kd_get_le32(out), 0x3031);
	assert_int_equal(kd_get_le32(out + 32), 12);
	assert_int_equal(kd_get_le64(out + 40), 0x10000000);
	assert_int_equal(kd_get_le64(out + 48), 0xFFFFFFFFFFFFFFFFull);
	assert_int_equal(kd_get_le32(out + 60), 0x1C0000);
	assert_int_equal(kd_get_le16(out + 214), 1);
	assert_int_equal(out[216], 0xCC);
	assert_int_equal(kd_get_le16(out + 232), 0x10);
	assert_string_equal((const char *)out + 240, "winload.efi");

	assert_int_equal(kd_state_change_decode(&b, out, n), KD_OK);
	assert_string_equal(kd_state_change_name(b.new_state), "LoadSymbols");
	assert_int_equal(b.u.load_symbols.process_id, (uint64_t)-1);
	assert_int_equal(b.u.load_symbols.path_len, 11);
	assert_memory_equal(b.u.load_symbols.path, "winload.efi", 11);
	assert_int_equal(b.amd64.seg_cs, 0x10);

	/* PathNameLength larger than the data: bounded by the data. */
	kd_put_le32(out + 32, 4000);
	assert_int_equal(kd_state_change_decode(&b, out, 245), KD_OK);
	assert_int_equal(b.u.load_symbols.path_len, 5);
	/* No extra data at all. */
	assert_int_equal(kd_state_change_decode(&b, out, 240), KD_OK);
	assert_int_equal(b.u.load_symbols.path_len, 0);
	assert_int_equal(kd_state_change_decode(&b, out, 239), KD_ETRUNC);
}

static void test_proto_manipulate__command_string(void **state)
{
	static const char extra[] = "kdsim\0.reload /f\0tail";
	struct kd_state_change sc = { 0 }, b;
	uint8_t out[KD_SC_SIZE + sizeof(extra)];
	size_t n;

	(void)state;
	sc.new_state = KD_STATE_COMMAND_STRING | KD_STATE_ALTERNATE;
	sc.u.command_string.flags = 0;
	sc.u.command_string.reserved2[6] = 0x77;
	assert_int_equal(kd_state_change_encode(out, sizeof(out), &n, &sc,
						extra, sizeof(extra) - 1),
			 KD_OK);
	assert_int_equal(kd_get_le32(out), 0x00013032);
	assert_int_equal(kd_get_le64(out + 88), 0x77);
	assert_int_equal(kd_state_change_decode(&b, out, n), KD_OK);
	assert_string_equal(kd_state_change_name(b.new_state), "CommandString");
	assert_int_equal(b.u.command_string.name_len, 5);
	assert_memory_equal(b.u.command_string.name, "kdsim", 5);
	assert_int_equal(b.u.command_string.command_len, 10);
	assert_memory_equal(b.u.command_string.command, ".reload /f", 10);
	assert_int_equal(b.extra_len, sizeof(extra) - 1);

	/* Unterminated name: the command is empty, nothing read past it. */
	assert_int_equal(kd_state_change_decode(&b, out, KD_SC_SIZE + 3),
			 KD_OK);
	assert_int_equal(b.u.command_string.name_len, 3);
	assert_int_equal(b.u.command_string.command_len, 0);
}

static void test_proto_manipulate__exception_roundtrip(void **state)
{
	struct kd_state_change sc = { 0 }, b;
	uint8_t out[KD_SC_SIZE + 7];
	size_t n;

	(void)state;
	sc.new_state = KD_STATE_EXCEPTION;
	sc.processor = 2;
	sc.number_processors = 4;
	sc.thread = 0xFFFFE00012340080ull;
	sc.program_counter = 0xFFFFF80001002000ull;
	sc.u.exception.record.code = KD_STATUS_SINGLE_STEP;
	sc.u.exception.record.address = sc.program_counter;
	sc.u.exception.record.number_parameters = 2;
	sc.u.exception.record.information[0] = 1;
	sc.u.exception.record.information[14] = 0xFEEDull;
	sc.u.exception.first_chance = 1;
	sc.amd64.dr6 = 0x4000;
	sc.amd64.dr7 = 0x400;
	sc.amd64.eflags = 0x346;
	assert_int_equal(
		kd_state_change_encode(out, sizeof(out), &n, &sc, "ReactOS", 7),
		KD_OK);
	assert_int_equal(n, 247);
	assert_int_equal(kd_get_le32(out + 32), 0x80000004u);
	assert_int_equal(kd_get_le32(out + 56), 2);
	assert_int_equal(kd_get_le64(out + 64), 1);
	assert_int_equal(kd_get_le64(out + 176), 0xFEED);
	assert_int_equal(kd_get_le32(out + 184), 1);
	assert_int_equal(kd_get_le64(out + 192), 0x4000);
	assert_int_equal(kd_get_le32(out + 208), 0x346);
	assert_int_equal(kd_state_change_decode(&b, out, n), KD_OK);
	assert_memory_equal(&b.u.exception.record, &sc.u.exception.record,
			    sizeof(sc.u.exception.record));
	assert_int_equal(b.thread, sc.thread);
	assert_int_equal(b.extra_len, 7); /* extra bytes accepted, exposed */
	assert_memory_equal(b.extra, "ReactOS", 7);
}

/* --- Debug, file, trace I/O and control requests --- */

static void test_proto_manipulate__get_string(void **state)
{
	struct kd_debug_io io = { 0 }, b;
	uint8_t out[32];
	size_t n;

	(void)state;
	io.api = KD_DEBUG_IO_GET_STRING;
	io.length = 3;
	io.read_length = 2;
	assert_int_equal(kd_debug_io_encode(out, sizeof(out), &n, &io, "ok", 2),
			 KD_OK);
	assert_int_equal(n, 18);
	assert_int_equal(kd_get_le32(out), 0x3231);
	assert_int_equal(kd_get_le32(out + 12), 2);
	assert_int_equal(kd_debug_io_decode(&b, out, n), KD_OK);
	assert_int_equal(b.read_length, 2);
	assert_memory_equal(b.text, "ok", 2);
	assert_int_equal(kd_debug_io_decode(&b, out, 15), KD_ETRUNC);
	assert_int_equal(kd_debug_io_encode(out, 17, &n, &io, "ok", 2),
			 KD_EBUFS);
}

static void test_proto_manipulate__file_io(void **state)
{
	/* "\a.sys" in UTF-16LE with its NUL. */
	static const uint8_t name[] = { '\\', 0,   'a', 0,   '.', 0, 's',
					0,    'y', 0,	's', 0,	  0, 0 };
	struct kd_file_io io = { 0 }, b;
	uint8_t out[KD_FILE_IO_SIZE + sizeof(name)];
	size_t n;

	(void)state;
	io.api = KD_FILE_IO_CREATE;
	io.u.create.desired_access = 0x80100000;
	io.u.create.file_attributes = 0x80;
	io.u.create.share_access = 1;
	io.u.create.create_disposition = 1;
	io.u.create.create_options = 0x20;
	assert_int_equal(kd_file_io_encode(out, sizeof(out), &n, &io, name,
					   sizeof(name)),
			 KD_OK);
	assert_int_equal(n, 78);
	assert_int_equal(kd_get_le32(out), 0x3430);
	assert_int_equal(kd_get_le32(out + 8), 0x80100000);
	assert_int_equal(kd_get_le32(out + 24), 0x20);
	assert_int_equal(kd_file_io_decode(&b, out, n), KD_OK);
	assert_string_equal(kd_file_io_api_name(b.api), "CreateFile");
	assert_int_equal(b.u.create.create_options, 0x20);
	assert_int_equal(b.data_len, sizeof(name));

	/* The host's "no such file" answer: a bare 64-byte header. */
	b.status = KD_STATUS_NO_SUCH_FILE;
	b.u.create.handle = 0;
	assert_int_equal(kd_file_io_encode(out, sizeof(out), &n, &b, NULL, 0),
			 KD_OK);
	assert_int_equal(n, 64);
	assert_int_equal(kd_get_le32(out + 4), 0xC000000Fu);

	memset(&io, 0, sizeof(io));
	io.api = KD_FILE_IO_READ;
	io.u.rw.handle = 0x55;
	io.u.rw.offset = 0x1000;
	io.u.rw.length = 0x200;
	assert_int_equal(kd_file_io_encode(out, sizeof(out), &n, &io, NULL, 0),
			 KD_OK);
	assert_int_equal(kd_get_le64(out + 8), 0x55);
	assert_int_equal(kd_get_le64(out + 16), 0x1000);
	assert_int_equal(kd_get_le32(out + 24), 0x200);
	assert_int_equal(kd_file_io_decode(&b, out, n), KD_OK);
	assert_int_equal(b.u.rw.length, 0x200);

	memset(&io, 0, sizeof(io));
	io.api = KD_FILE_IO_CLOSE;
	io.u.close.handle = 0x55;
	assert_int_equal(kd_file_io_encode(out, sizeof(out), &n, &io, NULL, 0),
			 KD_OK);
	assert_int_equal(kd_file_io_decode(&b, out, n), KD_OK);
	assert_int_equal(b.u.close.handle, 0x55);
	assert_int_equal(kd_file_io_decode(&b, out, 63), KD_ETRUNC);
}

static void test_proto_manipulate__trace_and_control(void **state)
{
	struct kd_trace_io t = { 0 }, tb;
	struct kd_control_request c = { 0 }, cb;
	uint8_t out[KD_TRACE_IO_SIZE + 4];
	size_t n;

	(void)state;
	t.api = KD_TRACE_IO_PRINT_TRACE;
	t.processor = 1;
	t.length_of_data = 4;
	assert_int_equal(
		kd_trace_io_encode(out, sizeof(out), &n, &t, "\1\2\3\4", 4),
		KD_OK);
	assert_int_equal(n, 68);
	assert_int_equal(kd_get_le32(out), 0x3330);
	assert_int_equal(kd_get_le16(out + 6), 1);
	assert_int_equal(kd_get_le32(out + 8), 4);
	assert_int_equal(kd_trace_io_decode(&tb, out, n), KD_OK);
	assert_int_equal(tb.length_of_data, 4);
	assert_int_equal(tb.data_len, 4);
	assert_string_equal(kd_trace_io_api_name(tb.api), "PrintTrace");

	c.api = KD_CONTROL_REQUEST_HW_BP;
	c.breakpoint_number = 3;
	c.result = 1;
	assert_int_equal(kd_control_request_encode(out, sizeof(out), &n, &c),
			 KD_OK);
	assert_int_equal(n, 12);
	assert_int_equal(kd_get_le32(out), 0x4300);
	assert_int_equal(kd_get_le32(out + 4), 3);
	assert_int_equal(kd_control_request_decode(&cb, out, n), KD_OK);
	assert_int_equal(cb.result, 1);
	assert_int_equal(kd_control_request_decode(&cb, out, 11), KD_ETRUNC);
	assert_int_equal(kd_control_request_encode(out, 11, &n, &c), KD_EBUFS);
}

/* --- x64 CONTEXT, KSPECIAL_REGISTERS, KDDEBUGGER_DATA64 --- */

static void test_proto_manipulate__amd64_context(void **state)
{
	static uint8_t ctx[KD_AMD64_CONTEXT_SIZE];
	uint64_t v;

	(void)state;
	memset(ctx, 0, sizeof(ctx));
	for (int r = 0; r < KD_AMD64_REG_COUNT; r++) {
		size_t off, width;
		uint64_t val = 0x0102030405060708ull + (uint64_t)r;

		assert_int_equal(kd_amd64_reg_layout(r, &off, &width), KD_OK);
		if (width < 8)
			val &= (1ull << (8 * width)) - 1;
		assert_int_equal(kd_amd64_context_set(ctx, sizeof(ctx), r, val),
				 KD_OK);
		assert_int_equal(kd_amd64_context_get(ctx, sizeof(ctx), r, &v),
				 KD_OK);
		assert_int_equal(v, val);
		assert_int_equal(kd_amd64_reg_lookup(kd_amd64_reg_name(r)), r);
	}
	/* Documented offsets (§2.10). */
	assert_int_equal(kd_get_le64(ctx + 0x078),
			 0x0102030405060708ull + KD_AMD64_RAX);
	assert_int_equal(kd_get_le64(ctx + 0x0F8),
			 0x0102030405060708ull + KD_AMD64_RIP);
	assert_int_equal(kd_get_le64(ctx + 0x098),
			 0x0102030405060708ull + KD_AMD64_RSP);
	assert_int_equal(kd_get_le64(ctx + 0x0F0),
			 0x0102030405060708ull + KD_AMD64_R15);
	assert_int_equal(kd_get_le64(ctx + 0x070),
			 0x0102030405060708ull + KD_AMD64_DR7);
	assert_int_equal(kd_get_le32(ctx + 0x044),
			 0x05060708u + KD_AMD64_EFLAGS);
	assert_int_equal(kd_get_le16(ctx + 0x038), 0x0708 + KD_AMD64_CS);
	assert_int_equal(kd_get_le32(ctx + 0x030),
			 0x05060708u + KD_AMD64_CONTEXT_FLAGS);

	assert_int_equal(kd_amd64_reg_lookup("RIP"), KD_AMD64_RIP);
	assert_int_equal(kd_amd64_reg_lookup("EFlags"), KD_AMD64_EFLAGS);
	assert_int_equal(kd_amd64_reg_lookup("efl"), KD_AMD64_EFLAGS);
	assert_int_equal(kd_amd64_reg_lookup("r16"), KD_ENOTFOUND);
	assert_int_equal(kd_amd64_reg_lookup("ra"), KD_ENOTFOUND);
	assert_int_equal(kd_amd64_reg_lookup(NULL), KD_ENOTFOUND);
	assert_null(kd_amd64_reg_name(KD_AMD64_REG_COUNT));
	assert_null(kd_amd64_reg_name(-1));
	assert_int_equal(
		kd_amd64_context_set(ctx, sizeof(ctx), KD_AMD64_CS, 0x10000),
		KD_EOVERFLOW);
	assert_int_equal(kd_amd64_context_get(ctx, 1231, KD_AMD64_RAX, &v),
			 KD_ETRUNC);
	assert_int_equal(kd_amd64_context_set(ctx, 1231, KD_AMD64_RAX, 0),
			 KD_ETRUNC);
	assert_int_equal(kd_amd64_context_get(ctx, sizeof(ctx), 99, &v),
			 KD_EINVAL);
}

static void test_proto_manipulate__kspecial(void **state)
{
	struct kd_amd64_kspecial ks = { 0 }, b;
	uint8_t out[KD_AMD64_KSPECIAL_SIZE];
	size_t n;

	(void)state;
	ks.cr0 = 0x80050033;
	ks.cr3 = 0x1AD000;
	ks.kernel_dr7 = 0x400;
	ks.gdtr_limit = 0x57;
	ks.gdtr_base = 0xFFFFF80000010000ull;
	ks.idtr_limit = 0xFFF;
	ks.idtr_base = 0xFFFFF80000011000ull;
	ks.tr = 0x40;
	ks.mxcsr = 0x1F80;
	ks.msr_gs_swap = 0x7FF0000;
	ks.msr_lstar = 0xFFFFF80000401000ull;
	ks.msr_syscall_mask = 0x4700;
	ks.xcr0 = 7;
	ks.has_xcr0 = true;
	assert_int_equal(kd_amd64_kspecial_encode(out, sizeof(out), &n, &ks),
			 KD_OK);
	assert_int_equal(n, 0xE0);
	assert_int_equal(kd_get_le64(out + 0x10), 0x1AD000);
	assert_int_equal(kd_get_le64(out + 0x48), 0x400);
	assert_int_equal(kd_get_le16(out + 0x56), 0x57);
	assert_int_equal(kd_get_le64(out + 0x58), 0xFFFFF80000010000ull);
	assert_int_equal(kd_get_le16(out + 0x66), 0xFFF);
	assert_int_equal(kd_get_le16(out + 0x70), 0x40);
	assert_int_equal(kd_get_le32(out + 0x74), 0x1F80);
	assert_int_equal(kd_get_le64(out + 0xB0), 0x7FF0000);
	assert_int_equal(kd_get_le64(out + 0xC0), 0xFFFFF80000401000ull);
	assert_int_equal(kd_get_le64(out + 0xD0), 0x4700);
	assert_int_equal(kd_get_le64(out + 0xD8), 7);
	assert_int_equal(kd_amd64_kspecial_decode(&b, out, n), KD_OK);
	assert_memory_equal(&b, &ks, sizeof(ks));

	/* Older 216-byte layout: no Xcr0. */
	assert_int_equal(kd_amd64_kspecial_decode(&b, out, 0xD8), KD_OK);
	assert_false(b.has_xcr0);
	assert_int_equal(b.xcr0, 0);
	assert_int_equal(b.msr_syscall_mask, 0x4700);
	assert_int_equal(kd_amd64_kspecial_decode(&b, out, 0xD7), KD_ETRUNC);
	assert_int_equal(kd_amd64_kspecial_encode(out, 0xDF, &n, &ks),
			 KD_EBUFS);
}

static void test_proto_manipulate__debugger_data(void **state)
{
	static uint8_t blk[KD_KDBG_SIZE_MAX];
	struct kd_debugger_data d;

	(void)state;
	memset(blk, 0, sizeof(blk));
	kd_put_le64(blk + 0x00, 0xFFFFF80000C00000ull);
	memcpy(blk + 0x10, "KDBG", 4);
	kd_put_le32(blk + 0x14, 0x340); /* a block without PteBase */
	kd_put_le64(blk + 0x18, 0xFFFFF80000400000ull);
	kd_put_le16(blk + 0x36, 1);
	kd_put_le64(blk + 0x48, 0xFFFFF800005A0000ull);
	kd_put_le64(blk + 0x50, 0xFFFFF800005B0000ull);
	kd_put_le64(blk + 0x138, 0x1000);
	kd_put_le64(blk + 0x268, 0xFFFFF800005C0000ull);
	kd_put_le16(blk + 0x2A8, 0x850);
	kd_put_le16(blk + 0x2AE, 0x28);
	kd_put_le16(blk + 0x2F2, 0x40);
	kd_put_le64(blk + 0x360, 0xFFFFF68000000000ull);

	assert_int_equal(kd_debugger_data_decode(&d, blk, sizeof(blk)), KD_OK);
	assert_int_equal(d.owner_tag, KD_KDBG_TAG);
	assert_int_equal(d.size, 0x340);
	assert_int_equal(d.valid_len, 0x340);
	assert_int_equal(d.kern_base, 0xFFFFF80000400000ull);
	assert_int_equal(d.pae_enabled, 1);
	assert_int_equal(d.ps_loaded_module_list, 0xFFFFF800005A0000ull);
	assert_int_equal(d.ps_active_process_head, 0xFFFFF800005B0000ull);
	assert_int_equal(d.mm_page_size, 0x1000);
	assert_int_equal(d.cm_nt_csd_version, 0xFFFFF800005C0000ull);
	assert_int_equal(d.size_eprocess, 0x850);
	assert_int_equal(d.offset_eprocess_directory_table_base, 0x28);
	assert_int_equal(d.offset_prcb_proc_state_special_reg, 0x40);
	assert_int_equal(d.pte_base, 0); /* beyond Header.Size */

	kd_put_le32(blk + 0x14, KD_KDBG_SIZE_MAX);
	assert_int_equal(kd_debugger_data_decode(&d, blk, sizeof(blk)), KD_OK);
	assert_int_equal(d.pte_base, 0xFFFFF68000000000ull);
	/* Caller read less than Size: bounded by the buffer. */
	assert_int_equal(kd_debugger_data_decode(&d, blk, 0x50), KD_OK);
	assert_int_equal(d.valid_len, 0x50);
	assert_int_equal(d.ps_loaded_module_list, 0xFFFFF800005A0000ull);
	assert_int_equal(d.ps_active_process_head, 0);

	assert_int_equal(kd_debugger_data_decode(&d, blk, 0x17), KD_ETRUNC);
	kd_put_le32(blk + 0x14, 0x10);
	assert_int_equal(kd_debugger_data_decode(&d, blk, sizeof(blk)),
			 KD_EPROTO);
	kd_put_le32(blk + 0x14, 0x340);
	blk[0x10] = 'X'; /* an encoded block */
	assert_int_equal(kd_debugger_data_decode(&d, blk, sizeof(blk)),
			 KD_EPROTO);
}

int main(void)
{
	const struct CMUnitTest sample_tests[] = {
		cmocka_unit_test(test_proto_manipulate__sample_get_version),
		cmocka_unit_test(test_proto_manipulate__sample_read_virtual),
		cmocka_unit_test(test_proto_manipulate__sample_state_change),
		cmocka_unit_test(test_proto_manipulate__sample_debug_io),
	};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proto_manipulate__continue2_shapes),
		cmocka_unit_test(test_proto_manipulate__every_api_fields),
		cmocka_unit_test(test_proto_manipulate__get_version_encode),
		cmocka_unit_test(test_proto_manipulate__unknown_api),
		cmocka_unit_test(test_proto_manipulate__errors),
		cmocka_unit_test(test_proto_manipulate__data_aliases_output),
		cmocka_unit_test(test_proto_manipulate__load_symbols),
		cmocka_unit_test(test_proto_manipulate__command_string),
		cmocka_unit_test(test_proto_manipulate__exception_roundtrip),
		cmocka_unit_test(test_proto_manipulate__get_string),
		cmocka_unit_test(test_proto_manipulate__file_io),
		cmocka_unit_test(test_proto_manipulate__trace_and_control),
		cmocka_unit_test(test_proto_manipulate__amd64_context),
		cmocka_unit_test(test_proto_manipulate__kspecial),
		cmocka_unit_test(test_proto_manipulate__debugger_data),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	/* Sample-based tests last: load_samples exits 77 if data is absent. */
	return failed |
	       cmocka_run_group_tests(sample_tests, load_samples, free_samples);
}
