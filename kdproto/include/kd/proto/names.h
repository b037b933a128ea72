/* SPDX-License-Identifier: MIT */
/*
 * Static names of KD API numbers, state changes and NTSTATUS values, for
 * traces and the console.  Every function returns NULL for an unknown value
 * (callers print hex); packet types are named in kd/proto/packet.h.
 */
#ifndef KD_PROTO_NAMES_H
#define KD_PROTO_NAMES_H

#include <kd/common.h>

KD_BEGIN_DECLS

/** Manipulate API name without prefix ("ReadVirtualMemory"). */
KD_API const char *kd_manipulate_api_name(uint32_t api);
/** State-change name ("Exception", "LoadSymbols", "CommandString"); the
 *  KD_STATE_ALTERNATE bit is ignored. */
KD_API const char *kd_state_change_name(uint32_t new_state);
/** Debug I/O API name ("PrintString", "GetString"). */
KD_API const char *kd_debug_io_api_name(uint32_t api);
/** File I/O API name ("CreateFile", "ReadFile", "WriteFile", "CloseFile"). */
KD_API const char *kd_file_io_api_name(uint32_t api);
/** Trace I/O API name ("PrintTrace"). */
KD_API const char *kd_trace_io_api_name(uint32_t api);
/** Control request name ("RequestHardwareBp", "ReleaseHardwareBp"). */
KD_API const char *kd_control_request_name(uint32_t api);
/** NTSTATUS name ("STATUS_BREAKPOINT", "DBG_CONTINUE"). */
KD_API const char *kd_ntstatus_name(uint32_t status);
/** Name of any KD API number of the tables above, whichever it is. */
KD_API const char *kd_api_name(uint32_t api);

KD_END_DECLS

#endif /* KD_PROTO_NAMES_H */
