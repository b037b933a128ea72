/* SPDX-License-Identifier: MIT */
/*
 * Checks the layout constants against the numbers printed in kd-protocol.md
 * §2 and §6, and against the sizes of the real serial session's packets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <kd/proto/layout.h>
#include <kd/proto/wire.h>

#include "testsupport.h"

static void test_proto_layout__sizes(void **state)
{
	(void)state;
	/* §6 quick constant sheet */
	assert_int_equal(KD_MANIP_SIZE, 56);
	assert_int_equal(KD_MANIP_OFF_UNION, 16);
	assert_int_equal(KD_SC_SIZE, 240);
	assert_int_equal(KD_DEBUG_IO_SIZE, 16);
	assert_int_equal(KD_FILE_IO_SIZE, 64);
	assert_int_equal(KD_TRACE_IO_SIZE, 64);
	assert_int_equal(KD_AMD64_CONTEXT_SIZE, 1232);
	assert_int_equal(KD_X86_CONTEXT_SIZE, 716);
	assert_int_equal(KD_VERSION_SIZE, 40);
	assert_int_equal(KD_AMD64_KSPECIAL_SIZE, 0xE0);
	assert_int_equal(KD_MAX_TRANSFER, 3944);
	assert_int_equal(KD_MAXSTREAM, 16);
	assert_int_equal(KD_KDBG_SIZE_MAX, 0x380);
	/* GetContext reply = 56 + 1232 = 1288 bytes (§2.3, capture). */
	assert_int_equal(KD_MANIP_SIZE + KD_AMD64_CONTEXT_SIZE, 1288);
}

static void test_proto_layout__documented_offsets(void **state)
{
	(void)state;
	assert_int_equal(KD_MANIP_MEM_OFF_ACTUAL, 28);
	assert_int_equal(KD_MANIP_IOX_OFF_ADDRESS, 32);
	assert_int_equal(KD_MANIP_IOX_OFF_VALUE, 40);
	assert_int_equal(KD_MANIP_CONT2_X86_OFF_SYM_END, 32);
	assert_int_equal(KD_MANIP_CONT2_AMD64_OFF_SYM_END, 40);
	assert_int_equal(KD_MANIP_FILL_OFF_PATTERN, 30);
	assert_int_equal(KD_MANIP_QUERY_OFF_FLAGS, 36);
	assert_int_equal(KD_SC_OFF_CONTROL, 192);
	assert_int_equal(KD_SC_EXC_OFF_FIRST_CHANCE, 184);
	assert_int_equal(KD_SC_LS_OFF_UNLOAD, 64);
	assert_int_equal(KD_SC_AMD64_OFF_STREAM, 216);
	assert_int_equal(KD_SC_AMD64_OFF_FS, 238);
	assert_int_equal(KD_SC_X86_OFF_EFLAGS, 228);
	assert_int_equal(KD_FILE_IO_CREATE_OFF_HANDLE, 32);
	assert_int_equal(KD_FILE_IO_CREATE_OFF_LENGTH, 40);
	assert_int_equal(KD_AMD64_CTX_OFF_FLAGS, 0x30);
	assert_int_equal(KD_AMD64_CTX_OFF_DR0, 0x48);
	assert_int_equal(KD_AMD64_CTX_OFF_DR7, 0x70);
	assert_int_equal(KD_AMD64_CTX_OFF_RAX, 0x78);
	assert_int_equal(KD_AMD64_CTX_OFF_RIP, 0xF8);
	assert_int_equal(KD_AMD64_CTX_OFF_FLTSAVE, 0x100);
	assert_int_equal(KD_AMD64_CTX_OFF_FX_MXCSR, 0x118);
	assert_int_equal(KD_AMD64_CTX_OFF_XMM0, 0x1A0);
	assert_int_equal(KD_AMD64_CTX_OFF_XMM15, 0x290);
	assert_int_equal(KD_AMD64_CTX_OFF_VECTOR, 0x300);
	assert_int_equal(KD_AMD64_CTX_OFF_LAST_EXC_FROM, 0x4C8);
	assert_int_equal(KD_X86_CTX_OFF_EIP, 0xB8);
	assert_int_equal(KD_X86_CTX_OFF_EXTENDED + KD_X86_CTX_EXTENDED_SIZE,
			 KD_X86_CONTEXT_SIZE);
	assert_int_equal(KD_X86_CONTROL_OFF_KSPECIAL, 0x2CC);
	assert_int_equal(KD_KSPEC_OFF_GDTR_LIMIT, 0x56);
	assert_int_equal(KD_KSPEC_OFF_IDTR_BASE, 0x68);
	assert_int_equal(KD_KSPEC_OFF_XCR0, 0xD8);
	assert_int_equal(KD_KDBG_OFF_OWNER_TAG, 0x10);
	assert_int_equal(KD_KDBG_OFF_PS_LOADED_MODULE_LIST, 0x48);
	assert_int_equal(KD_KDBG_OFF_CM_NT_CSD_VERSION, 0x268);
	assert_int_equal(KD_KDBG_OFF_PTE_BASE, 0x360);
	/* 'KDBG' on the wire is 4B 44 42 47. */
	assert_int_equal(KD_KDBG_TAG,
			 (uint32_t)('K' | 'D' << 8 | 'B' << 16 | 'G' << 24));
}

static void test_proto_layout__constants(void **state)
{
	(void)state;
	assert_int_equal(KD_API_READ_VIRTUAL_MEMORY, 0x3130);
	assert_int_equal(KD_API_GET_VERSION, 0x3146);
	assert_int_equal(KD_API_SWITCH_PROCESSOR, 0x3150);
	assert_int_equal(KD_API_GET_CONTEXT_EX, 0x315F);
	assert_int_equal(KD_API_MANIPULATE_MAX, 0x3161);
	assert_int_equal(KD_STATE_MAX - KD_STATE_EXCEPTION, 3);
	assert_int_equal(KD_STATE_ALTERNATE, 0x10000);
	assert_int_equal(KD_VERS_FLAG_PTR64, 0x4);
	assert_int_equal(KD_CONTEXT_AMD64, 0x00100000);
	assert_int_equal(KD_DBG_CONTINUE, 0x00010002);
	assert_true(kd_nt_success(KD_DBG_CONTINUE));
	assert_true(kd_nt_success(KD_STATUS_PENDING));
	assert_false(kd_nt_success(KD_DBG_EXCEPTION_NOT_HANDLED));
	assert_false(kd_nt_success(KD_STATUS_UNSUCCESSFUL));
}

/*
 * Every data packet of the real session is at least as long as the fixed
 * structure its type carries, and the fixed sizes are the exact ones seen.
 */
static void test_proto_layout__sample_sizes(void **state)
{
	static const char *files[] = { "kdserial/target-to-host.bin",
				       "kdserial/host-to-target.bin" };
	int seen_manip = 0, seen_sc = 0, seen_dio = 0;

	(void)state;
	for (size_t f = 0; f < 2; f++) {
		char path[512];
		size_t len, i = 0;
		uint8_t *b;

		kdt_require_shared(path, sizeof(path), files[f]);
		b = kdt_read_file(path, &len);
		assert_non_null(b);
		while (i + 16 <= len) {
			if (memcmp(b + i, "0000", 4) != 0) {
				i += memcmp(b + i, "iiii", 4) == 0 ? 16 : 1;
				continue;
			}
			uint16_t type = kd_get_le16(b + i + 4);
			uint16_t n = kd_get_le16(b + i + 6);

			assert_true(i + 16 + n <= len);
			if (type == 2) {
				assert_true(n >= KD_MANIP_SIZE);
				seen_manip++;
			} else if (type == 7) {
				assert_int_equal(n, KD_SC_SIZE);
				seen_sc++;
			} else if (type == 3) {
				assert_true(n >= KD_DEBUG_IO_SIZE);
				assert_int_equal(kd_get_le32(b + i + 16 + 8),
						 n - KD_DEBUG_IO_SIZE);
				seen_dio++;
			}
			i += 16 + (size_t)n + 1;
		}
		free(b);
	}
	assert_int_equal(seen_manip, 10);
	assert_int_equal(seen_sc, 3);
	assert_int_equal(seen_dio, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proto_layout__sizes),
		cmocka_unit_test(test_proto_layout__documented_offsets),
		cmocka_unit_test(test_proto_layout__constants),
		cmocka_unit_test(test_proto_layout__sample_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
