/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the static name tables of kd/proto/names.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <kd/proto/names.h>
#include <kd/proto/wire.h>

static void test_proto_names__manipulate(void **state)
{
	(void)state;
	assert_string_equal(kd_manipulate_api_name(0x3130),
			    "ReadVirtualMemory");
	assert_string_equal(kd_manipulate_api_name(0x313C), "Continue2");
	assert_string_equal(kd_manipulate_api_name(0x3146), "GetVersion");
	assert_string_equal(kd_manipulate_api_name(0x3160), "SetContextEx");
	/* Every number of the contiguous ranges has a name. */
	for (uint32_t a = 0x3130; a <= 0x3149; a++)
		assert_non_null(kd_manipulate_api_name(a));
	for (uint32_t a = 0x3150; a <= 0x3160; a++)
		assert_non_null(kd_manipulate_api_name(a));
	/* Gaps and out-of-range values are unknown. */
	assert_null(kd_manipulate_api_name(0x314A));
	assert_null(kd_manipulate_api_name(0x314F));
	assert_null(kd_manipulate_api_name(0x3161));
	assert_null(kd_manipulate_api_name(0));
	assert_null(kd_manipulate_api_name(0xFFFFFFFFu));
}

static void test_proto_names__state_and_io(void **state)
{
	(void)state;
	assert_string_equal(kd_state_change_name(0x3030), "Exception");
	assert_string_equal(kd_state_change_name(0x3031), "LoadSymbols");
	assert_string_equal(kd_state_change_name(0x3032), "CommandString");
	assert_string_equal(kd_state_change_name(0x3030 | KD_STATE_ALTERNATE),
			    "Exception");
	assert_null(kd_state_change_name(0x3033));
	assert_string_equal(kd_debug_io_api_name(0x3230), "PrintString");
	assert_string_equal(kd_debug_io_api_name(0x3231), "GetString");
	assert_null(kd_debug_io_api_name(0x3232));
	assert_string_equal(kd_file_io_api_name(0x3430), "CreateFile");
	assert_string_equal(kd_file_io_api_name(0x3433), "CloseFile");
	assert_null(kd_file_io_api_name(0x3434));
	assert_string_equal(kd_trace_io_api_name(0x3330), "PrintTrace");
	assert_null(kd_trace_io_api_name(0x3331));
	assert_string_equal(kd_control_request_name(0x4300),
			    "RequestHardwareBp");
	assert_string_equal(kd_control_request_name(0x4301),
			    "ReleaseHardwareBp");
	assert_null(kd_control_request_name(0x4302));
	assert_string_equal(kd_api_name(0x3431), "ReadFile");
	assert_string_equal(kd_api_name(0x3231), "GetString");
	assert_string_equal(kd_api_name(0x315C), "QueryMemory");
	assert_null(kd_api_name(0x1234));
}

static void test_proto_names__ntstatus(void **state)
{
	(void)state;
	assert_string_equal(kd_ntstatus_name(0x80000003u), "STATUS_BREAKPOINT");
	assert_string_equal(kd_ntstatus_name(0), "STATUS_SUCCESS");
	assert_string_equal(kd_ntstatus_name(0x103), "STATUS_PENDING");
	assert_string_equal(kd_ntstatus_name(0x00010002), "DBG_CONTINUE");
	assert_string_equal(kd_ntstatus_name(0xC000000Fu),
			    "STATUS_NO_SUCH_FILE");
	assert_string_equal(kd_ntstatus_name(0xC0000225u), "STATUS_NOT_FOUND");
	assert_null(kd_ntstatus_name(0xC0000005u));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proto_names__manipulate),
		cmocka_unit_test(test_proto_names__state_and_io),
		cmocka_unit_test(test_proto_names__ntstatus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
