/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: every KD API payload decoder (manipulate, state change,
 * debug/file/trace I/O, control request, GetVersion, KSPECIAL, KDBG) on the
 * same input, then re-encode and check that decoding the result agrees.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kd/proto/manipulate.h>
#include <kd/proto/names.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Twice the KD maximum payload: room for any input we re-encode. */
static uint8_t out[8192];

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kd_manipulate m, m2;
	struct kd_state_change sc, sc2;
	struct kd_debug_io dio;
	struct kd_file_io fio;
	struct kd_trace_io tio;
	struct kd_control_request cr;
	struct kd_version v;
	struct kd_amd64_kspecial ks;
	struct kd_debugger_data dd;
	size_t n;

	if (size > 4096)
		return 0;

	if (kd_manipulate_decode(&m, data, size) == KD_OK) {
		(void)kd_manipulate_api_name(m.api);
		check(kd_manipulate_encode(out, sizeof(out), &n, &m, m.data,
					   m.data_len) == KD_OK);
		check(n == size);
		/* Same machine shape: the bytes come back unchanged. */
		check(memcmp(out, data, size) == 0);
		check(kd_manipulate_decode(&m2, out, n) == KD_OK);
		check(m2.api == m.api && m2.data_len == m.data_len);
	}
	if (kd_state_change_decode(&sc, data, size) == KD_OK) {
		(void)kd_state_change_name(sc.new_state);
		if ((sc.new_state & ~KD_STATE_ALTERNATE) ==
		    KD_STATE_LOAD_SYMBOLS)
			check(sc.u.load_symbols.path_len <= sc.extra_len);
		if ((sc.new_state & ~KD_STATE_ALTERNATE) ==
		    KD_STATE_COMMAND_STRING)
			check(sc.u.command_string.name_len +
				      sc.u.command_string.command_len <=
			      sc.extra_len);
		sc.machine = size & 1 ? KD_MACHINE_I386 : KD_MACHINE_AMD64;
		check(kd_state_change_encode(out, sizeof(out), &n, &sc,
					     sc.extra, sc.extra_len) == KD_OK);
		check(n == size && memcmp(out, data, size) == 0);
		check(kd_state_change_decode(&sc2, out, n) == KD_OK);
		check(sc2.new_state == sc.new_state);
	}
	if (kd_debug_io_decode(&dio, data, size) == KD_OK) {
		check(kd_debug_io_encode(out, sizeof(out), &n, &dio, dio.text,
					 dio.text_len) == KD_OK);
		check(n == size && memcmp(out, data, size) == 0);
	}
	if (kd_file_io_decode(&fio, data, size) == KD_OK) {
		check(kd_file_io_encode(out, sizeof(out), &n, &fio, fio.data,
					fio.data_len) == KD_OK);
		check(n == size && memcmp(out, data, size) == 0);
	}
	if (kd_trace_io_decode(&tio, data, size) == KD_OK) {
		check(kd_trace_io_encode(out, sizeof(out), &n, &tio, tio.data,
					 tio.data_len) == KD_OK);
		check(n == size && memcmp(out, data, size) == 0);
	}
	if (kd_control_request_decode(&cr, data, size) == KD_OK) {
		check(kd_control_request_encode(out, sizeof(out), &n, &cr) ==
		      KD_OK);
		check(memcmp(out, data, n) == 0);
	}
	if (kd_version_decode(&v, data, size) == KD_OK) {
		check(kd_version_encode(out, sizeof(out), &v) == KD_OK);
		check(memcmp(out, data, KD_VERSION_SIZE) == 0);
	}
	if (kd_amd64_kspecial_decode(&ks, data, size) == KD_OK)
		check(kd_amd64_kspecial_encode(out, sizeof(out), &n, &ks) ==
		      KD_OK);
	if (kd_debugger_data_decode(&dd, data, size) == KD_OK)
		check(dd.valid_len <= size);
	if (size >= KD_AMD64_CONTEXT_SIZE) {
		for (int r = 0; r < KD_AMD64_REG_COUNT; r++) {
			uint64_t val;

			check(kd_amd64_context_get(data, size, r, &val) ==
			      KD_OK);
		}
	}
	return 0;
}
