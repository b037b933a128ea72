/* SPDX-License-Identifier: MIT */
/*
 * Name tables for kd/proto/names.h.  Values without an entry map to NULL.
 */
#include <kd/proto/names.h>
#include <kd/proto/wire.h>

struct name_entry {
	uint32_t value;
	const char *name;
};

static const struct name_entry manipulate_names[] = {
	{ KD_API_READ_VIRTUAL_MEMORY, "ReadVirtualMemory" },
	{ KD_API_WRITE_VIRTUAL_MEMORY, "WriteVirtualMemory" },
	{ KD_API_GET_CONTEXT, "GetContext" },
	{ KD_API_SET_CONTEXT, "SetContext" },
	{ KD_API_WRITE_BREAKPOINT, "WriteBreakPoint" },
	{ KD_API_RESTORE_BREAKPOINT, "RestoreBreakPoint" },
	{ KD_API_CONTINUE, "Continue" },
	{ KD_API_READ_CONTROL_SPACE, "ReadControlSpace" },
	{ KD_API_WRITE_CONTROL_SPACE, "WriteControlSpace" },
	{ KD_API_READ_IO_SPACE, "ReadIoSpace" },
	{ KD_API_WRITE_IO_SPACE, "WriteIoSpace" },
	{ KD_API_REBOOT, "Reboot" },
	{ KD_API_CONTINUE2, "Continue2" },
	{ KD_API_READ_PHYSICAL_MEMORY, "ReadPhysicalMemory" },
	{ KD_API_WRITE_PHYSICAL_MEMORY, "WritePhysicalMemory" },
	{ KD_API_QUERY_SPECIAL_CALLS, "QuerySpecialCalls" },
	{ KD_API_SET_SPECIAL_CALL, "SetSpecialCall" },
	{ KD_API_CLEAR_SPECIAL_CALLS, "ClearSpecialCalls" },
	{ KD_API_SET_INTERNAL_BP, "SetInternalBreakPoint" },
	{ KD_API_GET_INTERNAL_BP, "GetInternalBreakPoint" },
	{ KD_API_READ_IO_SPACE_EX, "ReadIoSpaceExtended" },
	{ KD_API_WRITE_IO_SPACE_EX, "WriteIoSpaceExtended" },
	{ KD_API_GET_VERSION, "GetVersion" },
	{ KD_API_WRITE_BREAKPOINT_EX, "WriteBreakPointEx" },
	{ KD_API_RESTORE_BREAKPOINT_EX, "RestoreBreakPointEx" },
	{ KD_API_CAUSE_BUGCHECK, "CauseBugCheck" },
	{ KD_API_SWITCH_PROCESSOR, "SwitchProcessor" },
	{ KD_API_PAGE_IN, "PageIn" },
	{ KD_API_READ_MSR, "ReadMachineSpecificRegister" },
	{ KD_API_WRITE_MSR, "WriteMachineSpecificRegister" },
	{ KD_API_OLD_VLM1, "OldVlm1" },
	{ KD_API_OLD_VLM2, "OldVlm2" },
	{ KD_API_SEARCH_MEMORY, "SearchMemory" },
	{ KD_API_GET_BUS_DATA, "GetBusData" },
	{ KD_API_SET_BUS_DATA, "SetBusData" },
	{ KD_API_CHECK_LOW_MEMORY, "CheckLowMemory" },
	{ KD_API_CLEAR_ALL_INTERNAL_BPS, "ClearAllInternalBreakpoints" },
	{ KD_API_FILL_MEMORY, "FillMemory" },
	{ KD_API_QUERY_MEMORY, "QueryMemory" },
	{ KD_API_SWITCH_PARTITION, "SwitchPartition" },
	{ KD_API_WRITE_CUSTOM_BP, "WriteCustomBreakpoint" },
	{ KD_API_GET_CONTEXT_EX, "GetContextEx" },
	{ KD_API_SET_CONTEXT_EX, "SetContextEx" },
};

static const struct name_entry state_names[] = {
	{ KD_STATE_EXCEPTION, "Exception" },
	{ KD_STATE_LOAD_SYMBOLS, "LoadSymbols" },
	{ KD_STATE_COMMAND_STRING, "CommandString" },
};

static const struct name_entry debug_io_names[] = {
	{ KD_DEBUG_IO_PRINT_STRING, "PrintString" },
	{ KD_DEBUG_IO_GET_STRING, "GetString" },
};

static const struct name_entry file_io_names[] = {
	{ KD_FILE_IO_CREATE, "CreateFile" },
	{ KD_FILE_IO_READ, "ReadFile" },
	{ KD_FILE_IO_WRITE, "WriteFile" },
	{ KD_FILE_IO_CLOSE, "CloseFile" },
};

static const struct name_entry trace_io_names[] = {
	{ KD_TRACE_IO_PRINT_TRACE, "PrintTrace" },
};

static const struct name_entry control_names[] = {
	{ KD_CONTROL_REQUEST_HW_BP, "RequestHardwareBp" },
	{ KD_CONTROL_RELEASE_HW_BP, "ReleaseHardwareBp" },
};

static const struct name_entry status_names[] = {
	{ KD_STATUS_SUCCESS, "STATUS_SUCCESS" },
	{ KD_STATUS_PENDING, "STATUS_PENDING" },
	{ KD_DBG_EXCEPTION_HANDLED, "DBG_EXCEPTION_HANDLED" },
	{ KD_DBG_CONTINUE, "DBG_CONTINUE" },
	{ KD_DBG_EXCEPTION_NOT_HANDLED, "DBG_EXCEPTION_NOT_HANDLED" },
	{ KD_STATUS_DATATYPE_MISALIGNMENT, "STATUS_DATATYPE_MISALIGNMENT" },
	{ KD_STATUS_BREAKPOINT, "STATUS_BREAKPOINT" },
	{ KD_STATUS_SINGLE_STEP, "STATUS_SINGLE_STEP" },
	{ KD_STATUS_BUFFER_OVERFLOW, "STATUS_BUFFER_OVERFLOW" },
	{ KD_STATUS_WAKE_SYSTEM_DEBUGGER, "STATUS_WAKE_SYSTEM_DEBUGGER" },
	{ KD_STATUS_UNSUCCESSFUL, "STATUS_UNSUCCESSFUL" },
	{ KD_STATUS_NOT_IMPLEMENTED, "STATUS_NOT_IMPLEMENTED" },
	{ KD_STATUS_INVALID_PARAMETER, "STATUS_INVALID_PARAMETER" },
	{ KD_STATUS_NO_SUCH_DEVICE, "STATUS_NO_SUCH_DEVICE" },
	{ KD_STATUS_NO_SUCH_FILE, "STATUS_NO_SUCH_FILE" },
	{ KD_STATUS_NOT_FOUND, "STATUS_NOT_FOUND" },
};

static const char *lookup(const struct name_entry *t, size_t n, uint32_t v)
{
	for (size_t i = 0; i < n; i++) {
		if (t[i].value == v)
			return t[i].name;
	}
	return NULL;
}

#define LOOKUP(table, v) lookup(table, KD_ARRAY_SIZE(table), v)

const char *kd_manipulate_api_name(uint32_t api)
{
	return LOOKUP(manipulate_names, api);
}

const char *kd_state_change_name(uint32_t new_state)
{
	return LOOKUP(state_names, new_state & ~KD_STATE_ALTERNATE);
}

const char *kd_debug_io_api_name(uint32_t api)
{
	return LOOKUP(debug_io_names, api);
}

const char *kd_file_io_api_name(uint32_t api)
{
	return LOOKUP(file_io_names, api);
}

const char *kd_trace_io_api_name(uint32_t api)
{
	return LOOKUP(trace_io_names, api);
}

const char *kd_control_request_name(uint32_t api)
{
	return LOOKUP(control_names, api);
}

const char *kd_ntstatus_name(uint32_t status)
{
	return LOOKUP(status_names, status);
}

const char *kd_api_name(uint32_t api)
{
	const char *n = kd_manipulate_api_name(api);

	if (!n)
		n = kd_debug_io_api_name(api);
	if (!n)
		n = kd_file_io_api_name(api);
	if (!n)
		n = kd_trace_io_api_name(api);
	if (!n)
		n = kd_control_request_name(api);
	return n;
}
