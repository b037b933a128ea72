/* SPDX-License-Identifier: MIT */
/*
 * Numeric constants of the KD API payloads (protocol version 6): API numbers,
 * state-change codes, NTSTATUS values, GetVersion bits, machine types,
 * CONTEXT flags, control-space selectors and limits (kd-protocol.md §2, §6).
 * Packet framing constants live in kd/proto/packet.h, KDNET in kdnet.h.
 */
#ifndef KD_PROTO_WIRE_H
#define KD_PROTO_WIRE_H

#include <kd/common.h>

KD_BEGIN_DECLS

/* --- DBGKD_MANIPULATE_STATE64 ApiNumber values (§2.3) --- */

/* clang-format off */
enum kd_manipulate_api {
	KD_API_MANIPULATE_MIN = 0x3130,  /* DbgKdMinimumManipulate */
	KD_API_READ_VIRTUAL_MEMORY = 0x3130, /* DbgKdReadVirtualMemoryApi */
	KD_API_WRITE_VIRTUAL_MEMORY = 0x3131, /* DbgKdWriteVirtualMemoryApi */
	KD_API_GET_CONTEXT = 0x3132,     /* DbgKdGetContextApi */
	KD_API_SET_CONTEXT = 0x3133,     /* DbgKdSetContextApi */
	KD_API_WRITE_BREAKPOINT = 0x3134, /* DbgKdWriteBreakPointApi */
	KD_API_RESTORE_BREAKPOINT = 0x3135, /* DbgKdRestoreBreakPointApi */
	KD_API_CONTINUE = 0x3136,        /* DbgKdContinueApi */
	KD_API_READ_CONTROL_SPACE = 0x3137, /* DbgKdReadControlSpaceApi */
	KD_API_WRITE_CONTROL_SPACE = 0x3138, /* DbgKdWriteControlSpaceApi */
	KD_API_READ_IO_SPACE = 0x3139,   /* DbgKdReadIoSpaceApi */
	KD_API_WRITE_IO_SPACE = 0x313A,  /* DbgKdWriteIoSpaceApi */
	KD_API_REBOOT = 0x313B,          /* DbgKdRebootApi */
	KD_API_CONTINUE2 = 0x313C,       /* DbgKdContinueApi2 */
	KD_API_READ_PHYSICAL_MEMORY = 0x313D, /* DbgKdReadPhysicalMemoryApi */
	KD_API_WRITE_PHYSICAL_MEMORY = 0x313E, /* DbgKdWritePhysicalMemoryApi */
	KD_API_QUERY_SPECIAL_CALLS = 0x313F, /* DbgKdQuerySpecialCallsApi */
	KD_API_SET_SPECIAL_CALL = 0x3140, /* DbgKdSetSpecialCallApi */
	KD_API_CLEAR_SPECIAL_CALLS = 0x3141, /* DbgKdClearSpecialCallsApi */
	KD_API_SET_INTERNAL_BP = 0x3142, /* DbgKdSetInternalBreakPointApi */
	KD_API_GET_INTERNAL_BP = 0x3143, /* DbgKdGetInternalBreakPointApi */
	KD_API_READ_IO_SPACE_EX = 0x3144, /* DbgKdReadIoSpaceExtendedApi */
	KD_API_WRITE_IO_SPACE_EX = 0x3145, /* DbgKdWriteIoSpaceExtendedApi */
	KD_API_GET_VERSION = 0x3146,     /* DbgKdGetVersionApi */
	KD_API_WRITE_BREAKPOINT_EX = 0x3147, /* DbgKdWriteBreakPointExApi */
	KD_API_RESTORE_BREAKPOINT_EX = 0x3148, /* DbgKdRestoreBreakPointExApi */
	KD_API_CAUSE_BUGCHECK = 0x3149,  /* DbgKdCauseBugCheckApi */
	KD_API_SWITCH_PROCESSOR = 0x3150, /* DbgKdSwitchProcessor */
	KD_API_PAGE_IN = 0x3151,         /* DbgKdPageInApi */
	KD_API_READ_MSR = 0x3152,        /* DbgKdReadMachineSpecificRegister */
	KD_API_WRITE_MSR = 0x3153,       /* DbgKdWriteMachineSpecificRegister */
	KD_API_OLD_VLM1 = 0x3154,        /* OldVlm1 */
	KD_API_OLD_VLM2 = 0x3155,        /* OldVlm2 */
	KD_API_SEARCH_MEMORY = 0x3156,   /* DbgKdSearchMemoryApi */
	KD_API_GET_BUS_DATA = 0x3157,    /* DbgKdGetBusDataApi */
	KD_API_SET_BUS_DATA = 0x3158,    /* DbgKdSetBusDataApi */
	KD_API_CHECK_LOW_MEMORY = 0x3159, /* DbgKdCheckLowMemoryApi */
	/* DbgKdClearAllInternalBreakpointsApi */
	KD_API_CLEAR_ALL_INTERNAL_BPS = 0x315A,
	KD_API_FILL_MEMORY = 0x315B,     /* DbgKdFillMemoryApi */
	KD_API_QUERY_MEMORY = 0x315C,    /* DbgKdQueryMemoryApi */
	KD_API_SWITCH_PARTITION = 0x315D, /* DbgKdSwitchPartition */
	/* 0x315E is disputed (§8): WriteCustomBreakpoint or "Midori". */
	KD_API_WRITE_CUSTOM_BP = 0x315E, /* DbgKdWriteCustomBreakpointApi */
	KD_API_GET_CONTEXT_EX = 0x315F,  /* DbgKdGetContextExApi */
	KD_API_SET_CONTEXT_EX = 0x3160,  /* DbgKdSetContextExApi */
	KD_API_MANIPULATE_MAX = 0x3161,  /* DbgKdMaximumManipulate */
};
/* clang-format on */

/* --- DBGKD_ANY_WAIT_STATE_CHANGE NewState values (§2.5) --- */

enum kd_state_change_code {
	KD_STATE_EXCEPTION = 0x3030,	  /* DbgKdExceptionStateChange */
	KD_STATE_LOAD_SYMBOLS = 0x3031,	  /* DbgKdLoadSymbolsStateChange */
	KD_STATE_COMMAND_STRING = 0x3032, /* DbgKdCommandStringStateChange */
	KD_STATE_MAX = 0x3033,		  /* DbgKdMaximumStateChange */
};

/* OR-ed into NewState when the report comes from an alternate source. */
#define KD_STATE_ALTERNATE 0x00010000u /* DbgKdAlternateStateChange */

/* --- DBGKD_DEBUG_IO, DBGKD_TRACE_IO, DBGKD_FILE_IO, control requests --- */

enum kd_debug_io_api {
	KD_DEBUG_IO_PRINT_STRING = 0x3230, /* DbgKdPrintStringApi */
	KD_DEBUG_IO_GET_STRING = 0x3231,   /* DbgKdGetStringApi */
};

enum kd_trace_io_api {
	KD_TRACE_IO_PRINT_TRACE = 0x3330, /* DbgKdPrintTraceApi */
};

enum kd_file_io_api {
	KD_FILE_IO_CREATE = 0x3430, /* DbgKdCreateFileApi */
	KD_FILE_IO_READ = 0x3431,   /* DbgKdReadFileApi */
	KD_FILE_IO_WRITE = 0x3432,  /* DbgKdWriteFileApi */
	KD_FILE_IO_CLOSE = 0x3433,  /* DbgKdCloseFileApi */
};

enum kd_control_request_api {
	KD_CONTROL_REQUEST_HW_BP = 0x4300, /* DbgKdRequestHardwareBp */
	KD_CONTROL_RELEASE_HW_BP = 0x4301, /* DbgKdReleaseHardwareBp */
};

/* --- NTSTATUS values seen on the wire (§2.4) --- */

#define KD_STATUS_SUCCESS 0x00000000u
#define KD_STATUS_PENDING 0x00000103u
#define KD_DBG_EXCEPTION_HANDLED 0x00010001u
#define KD_DBG_CONTINUE 0x00010002u
#define KD_DBG_EXCEPTION_NOT_HANDLED 0x80010001u
#define KD_STATUS_DATATYPE_MISALIGNMENT 0x80000002u
#define KD_STATUS_BREAKPOINT 0x80000003u
#define KD_STATUS_SINGLE_STEP 0x80000004u
#define KD_STATUS_BUFFER_OVERFLOW 0x80000005u
#define KD_STATUS_WAKE_SYSTEM_DEBUGGER 0x80000007u
#define KD_STATUS_UNSUCCESSFUL 0xC0000001u
#define KD_STATUS_NOT_IMPLEMENTED 0xC0000002u
#define KD_STATUS_INVALID_PARAMETER 0xC000000Du
#define KD_STATUS_NO_SUCH_DEVICE 0xC000000Eu
#define KD_STATUS_NO_SUCH_FILE 0xC000000Fu
#define KD_STATUS_NOT_FOUND 0xC0000225u

/* NT_SUCCESS(): severity "success" or "informational" (bit 31 clear). */
static inline bool kd_nt_success(uint32_t status)
{
	return (status & 0x80000000u) == 0;
}

/* --- DBGKD_GET_VERSION64 (§2.7) --- */

#define KD_PROTOCOL_VERSION 6	/* DBGKD_64BIT_PROTOCOL_VERSION2 */
#define KD_PROTOCOL_VERSION_1 5 /* DBGKD_64BIT_PROTOCOL_VERSION1 */

/* Flags */
#define KD_VERS_FLAG_MP 0x0001u		/* DBGKD_VERS_FLAG_MP */
#define KD_VERS_FLAG_DATA 0x0002u	/* DBGKD_VERS_FLAG_DATA */
#define KD_VERS_FLAG_PTR64 0x0004u	/* DBGKD_VERS_FLAG_PTR64 */
#define KD_VERS_FLAG_NOMM 0x0008u	/* DBGKD_VERS_FLAG_NOMM */
#define KD_VERS_FLAG_HSS 0x0010u	/* DBGKD_VERS_FLAG_HSS */
#define KD_VERS_FLAG_PARTITIONS 0x0020u /* DBGKD_VERS_FLAG_PARTITIONS */

/* High byte of MajorVersion. */
enum kd_major_type {
	KD_MAJOR_NT = 0,	  /* DBGKD_MAJOR_NT */
	KD_MAJOR_XBOX = 1,	  /* DBGKD_MAJOR_XBOX */
	KD_MAJOR_BIG = 2,	  /* DBGKD_MAJOR_BIG */
	KD_MAJOR_EXDI = 3,	  /* DBGKD_MAJOR_EXDI */
	KD_MAJOR_NTBD = 4,	  /* DBGKD_MAJOR_NTBD (boot debugger) */
	KD_MAJOR_EFI = 5,	  /* DBGKD_MAJOR_EFI */
	KD_MAJOR_TNT = 6,	  /* DBGKD_MAJOR_TNT */
	KD_MAJOR_SINGULARITY = 7, /* DBGKD_MAJOR_SINGULARITY */
	KD_MAJOR_HYPERVISOR = 8,  /* DBGKD_MAJOR_HYPERVISOR */
	KD_MAJOR_MIDORI = 9,	  /* DBGKD_MAJOR_MIDORI */
};

/* Low byte of MajorVersion (NtBuildNumber >> 28). */
#define KD_BUILD_FREE 0x0F    /* retail */
#define KD_BUILD_CHECKED 0x0C /* checked */

/* Simulation byte */
#define KD_SIMULATION_NONE 0
#define KD_SIMULATION_EXDI 1

/* AMD64 KdSecondaryVersion: 2 = current CONTEXT layout. */
#define KD_AMD64_SECONDARY_CONTEXT 2

/* PE machine types (MachineType) */
#define KD_MACHINE_I386 0x014Cu	 /* IMAGE_FILE_MACHINE_I386 */
#define KD_MACHINE_ARM 0x01C0u	 /* IMAGE_FILE_MACHINE_ARM */
#define KD_MACHINE_IA64 0x0200u	 /* IMAGE_FILE_MACHINE_IA64 */
#define KD_MACHINE_EBC 0x0EBCu	 /* IMAGE_FILE_MACHINE_EBC */
#define KD_MACHINE_AMD64 0x8664u /* IMAGE_FILE_MACHINE_AMD64 */
#define KD_MACHINE_ARM64 0xAA64u /* IMAGE_FILE_MACHINE_ARM64 (PE spec) */

/* --- CONTEXT.ContextFlags (§2.10) --- */

#define KD_CONTEXT_AMD64 0x00100000u /* CONTEXT_AMD64 */
#define KD_CONTEXT_I386 0x00010000u  /* CONTEXT_i386 */
#define KD_CONTEXT_CONTROL 0x01u
#define KD_CONTEXT_INTEGER 0x02u
#define KD_CONTEXT_SEGMENTS 0x04u
#define KD_CONTEXT_FLOATING_POINT 0x08u
#define KD_CONTEXT_DEBUG_REGISTERS 0x10u
#define KD_CONTEXT_EXTENDED_REGISTERS 0x20u /* x86 only */
#define KD_CONTEXT_AMD64_FULL                                         \
	(KD_CONTEXT_AMD64 | KD_CONTEXT_CONTROL | KD_CONTEXT_INTEGER | \
	 KD_CONTEXT_FLOATING_POINT)

/* --- Control-report ReportFlags (§2.5) --- */

#define KD_REPORT_INCLUDES_SEGS 0x0001u /* REPORT_INCLUDES_SEGS */
#define KD_REPORT_STANDARD_CS 0x0002u	/* REPORT_STANDARD_CS */

/* --- x64 control-space selectors (§2.11) --- */

enum kd_amd64_control_space {
	KD_AMD64_CS_PCR = 0,	  /* AMD64_DEBUG_CONTROL_SPACE_KPCR */
	KD_AMD64_CS_PRCB = 1,	  /* AMD64_DEBUG_CONTROL_SPACE_KPRCB */
	KD_AMD64_CS_KSPECIAL = 2, /* AMD64_DEBUG_CONTROL_SPACE_KSPECIAL */
	KD_AMD64_CS_THREAD = 3,	  /* AMD64_DEBUG_CONTROL_SPACE_KTHREAD */
};

/* Physical-memory caching flags (ReadPhysicalMemory offset 28 on input). */
#define KD_PHYS_CACHE_DEFAULT 0
#define KD_PHYS_CACHED 1
#define KD_PHYS_UNCACHED 2
#define KD_PHYS_WRITE_COMBINED 3

/* FillMemory Flags */
#define KD_FILL_VIRTUAL 0x0001u
#define KD_FILL_PHYSICAL 0x0002u

/* QueryMemory AddressSpace (out) and Flags (out) */
#define KD_QUERY_SPACE_PROCESS 0
#define KD_QUERY_SPACE_SESSION 1
#define KD_QUERY_SPACE_KERNEL 2
#define KD_QUERY_FLAG_READ 0x1u
#define KD_QUERY_FLAG_WRITE 0x2u
#define KD_QUERY_FLAG_EXECUTE 0x4u
#define KD_QUERY_FLAG_FIXED 0x8u

/* Continue2 CurrentSymbolStart value meaning "no symbol-range update". */
#define KD_CONTINUE_NO_SYMBOL_RANGE 1

/* --- Limits (§1.9, §2.5) --- */

/* 4000 - 56: the target's clamp on memory and control-space reads */
#define KD_MAX_TRANSFER 3944
#define KD_MAXSTREAM 16 /* DBGKD_MAXSTREAM */
#define KD_EXCEPTION_MAXIMUM_PARAMETERS 15
#define KD_COMMAND_STRING_MAX_NAME 127 /* name chars, excluding NUL */
#define KD_BUGCHECK_MANUALLY_INITIATED_CRASH 0xE2u

/* 'KDBG' OwnerTag of KDDEBUGGER_DATA64 (bytes 4B 44 42 47). */
#define KD_KDBG_TAG 0x4742444Bu

KD_END_DECLS

#endif /* KD_PROTO_WIRE_H */
