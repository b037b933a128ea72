/* SPDX-License-Identifier: MIT */
/*
 * Byte offsets and sizes of every KD API structure (kd-protocol.md §2).
 * Codecs read and write wire bytes at these offsets with kd_get/put_le*;
 * kdproto/src/layout_check.c checks each number against a compiled mirror.
 */
#ifndef KD_PROTO_LAYOUT_H
#define KD_PROTO_LAYOUT_H

/*
 * Manipulate offsets are from the start of DBGKD_MANIPULATE_STATE64, so they
 * include the 16-byte common header; state-change offsets are from the start
 * of DBGKD_ANY_WAIT_STATE_CHANGE.
 */

/* --- DBGKD_MANIPULATE_STATE64 (§2.2, §2.3) --- */

#define KD_MANIP_SIZE 56
#define KD_MANIP_OFF_API 0
#define KD_MANIP_OFF_PROCESSOR_LEVEL 4
#define KD_MANIP_OFF_PROCESSOR 6
#define KD_MANIP_OFF_RETURN_STATUS 8
#define KD_MANIP_OFF_UNION 16
#define KD_MANIP_UNION_SIZE 40

/* Read/Write Virtual, Physical and Control memory */
#define KD_MANIP_MEM_OFF_ADDRESS 16 /* u64 TargetBaseAddress */
#define KD_MANIP_MEM_OFF_COUNT 24   /* u32 TransferCount */
#define KD_MANIP_MEM_OFF_ACTUAL 28  /* u32 ActualBytesRead/Written */
#define KD_MANIP_MEM_OFF_CACHING 28 /* u32 physical caching flags (in) */

/* GetContext / SetContext */
#define KD_MANIP_CTX_OFF_FLAGS 16 /* u32 ContextFlags */

/* GetContextEx / SetContextEx */
#define KD_MANIP_CTXEX_OFF_OFFSET 16 /* u32 Offset */
#define KD_MANIP_CTXEX_OFF_COUNT 20  /* u32 ByteCount */
#define KD_MANIP_CTXEX_OFF_COPIED 24 /* u32 BytesCopied */

/* WriteBreakPoint / RestoreBreakPoint */
#define KD_MANIP_WBP_OFF_ADDRESS 16 /* u64 BreakPointAddress */
#define KD_MANIP_WBP_OFF_HANDLE 24  /* u32 BreakPointHandle */
#define KD_MANIP_RBP_OFF_HANDLE 16  /* u32 BreakPointHandle */

/* WriteBreakPointEx / RestoreBreakPointEx */
#define KD_MANIP_BPEX_OFF_COUNT 16  /* u32 BreakPointCount */
#define KD_MANIP_BPEX_OFF_STATUS 20 /* u32 ContinueStatus */

/* Continue */
#define KD_MANIP_CONT_OFF_STATUS 16 /* u32 ContinueStatus */

/* Continue2: x64 and x86 control sets */
#define KD_MANIP_CONT2_OFF_STATUS 16
#define KD_MANIP_CONT2_OFF_TRACE 20
#define KD_MANIP_CONT2_AMD64_OFF_DR7 24	      /* u64 */
#define KD_MANIP_CONT2_AMD64_OFF_SYM_START 32 /* u64 */
#define KD_MANIP_CONT2_AMD64_OFF_SYM_END 40   /* u64 */
#define KD_MANIP_CONT2_X86_OFF_DR7 24	      /* u32 */
#define KD_MANIP_CONT2_X86_OFF_SYM_START 28   /* u32 */
#define KD_MANIP_CONT2_X86_OFF_SYM_END 32     /* u32 */

/* Read/WriteIoSpace */
#define KD_MANIP_IO_OFF_ADDRESS 16 /* u64 IoAddress */
#define KD_MANIP_IO_OFF_SIZE 24	   /* u32 DataSize */
#define KD_MANIP_IO_OFF_VALUE 28   /* u32 DataValue */

/* Read/WriteIoSpaceExtended */
#define KD_MANIP_IOX_OFF_SIZE 16      /* u32 DataSize */
#define KD_MANIP_IOX_OFF_INTERFACE 20 /* u32 InterfaceType */
#define KD_MANIP_IOX_OFF_BUS 24	      /* u32 BusNumber */
#define KD_MANIP_IOX_OFF_SPACE 28     /* u32 AddressSpace */
#define KD_MANIP_IOX_OFF_ADDRESS 32   /* u64 IoAddress */
#define KD_MANIP_IOX_OFF_VALUE 40     /* u32 DataValue */

/* GetVersion: DBGKD_GET_VERSION64 at the union */
#define KD_MANIP_VERSION_OFF 16

/* Read/WriteMachineSpecificRegister */
#define KD_MANIP_MSR_OFF_MSR 16	 /* u32 Msr */
#define KD_MANIP_MSR_OFF_LOW 20	 /* u32 DataValueLow */
#define KD_MANIP_MSR_OFF_HIGH 24 /* u32 DataValueHigh */

/* SearchMemory */
#define KD_MANIP_SEARCH_OFF_ADDRESS 16 /* u64 SearchAddress / FoundAddress */
#define KD_MANIP_SEARCH_OFF_LENGTH 24  /* u64 SearchLength */
#define KD_MANIP_SEARCH_OFF_PATTERN 32 /* u32 PatternLength */

/* Get/SetBusData */
#define KD_MANIP_BUS_OFF_TYPE 16   /* u32 BusDataType */
#define KD_MANIP_BUS_OFF_BUS 20	   /* u32 BusNumber */
#define KD_MANIP_BUS_OFF_SLOT 24   /* u32 SlotNumber */
#define KD_MANIP_BUS_OFF_OFFSET 28 /* u32 Offset */
#define KD_MANIP_BUS_OFF_LENGTH 32 /* u32 Length */

/* FillMemory */
#define KD_MANIP_FILL_OFF_ADDRESS 16 /* u64 Address */
#define KD_MANIP_FILL_OFF_LENGTH 24  /* u32 Length */
#define KD_MANIP_FILL_OFF_FLAGS 28   /* u16 Flags */
#define KD_MANIP_FILL_OFF_PATTERN 30 /* u16 PatternLength */

/* QueryMemory */
#define KD_MANIP_QUERY_OFF_ADDRESS 16  /* u64 Address */
#define KD_MANIP_QUERY_OFF_RESERVED 24 /* u64 Reserved */
#define KD_MANIP_QUERY_OFF_SPACE 32    /* u32 AddressSpace */
#define KD_MANIP_QUERY_OFF_FLAGS 36    /* u32 Flags */

/* SwitchPartition */
#define KD_MANIP_PARTITION_OFF 16 /* u32 Partition */

/* --- DBGKD_GET_VERSION64 (§2.7), offsets within the 40-byte struct --- */

#define KD_VERSION_SIZE 40
#define KD_VERSION_OFF_MAJOR 0
#define KD_VERSION_OFF_MINOR 2
#define KD_VERSION_OFF_PROTOCOL 4
#define KD_VERSION_OFF_SECONDARY 5
#define KD_VERSION_OFF_FLAGS 6
#define KD_VERSION_OFF_MACHINE 8
#define KD_VERSION_OFF_MAX_PACKET 10
#define KD_VERSION_OFF_MAX_STATE 11
#define KD_VERSION_OFF_MAX_MANIP 12
#define KD_VERSION_OFF_SIMULATION 13
#define KD_VERSION_OFF_UNUSED 14
#define KD_VERSION_OFF_KERN_BASE 16
#define KD_VERSION_OFF_MODULE_LIST 24
#define KD_VERSION_OFF_DEBUGGER_DATA 32

/* --- DBGKD_ANY_WAIT_STATE_CHANGE (§2.5) --- */

#define KD_SC_SIZE 240
#define KD_SC_OFF_NEW_STATE 0
#define KD_SC_OFF_PROCESSOR_LEVEL 4
#define KD_SC_OFF_PROCESSOR 6
#define KD_SC_OFF_NUM_PROCESSORS 8
#define KD_SC_OFF_THREAD 16
#define KD_SC_OFF_PC 24
#define KD_SC_OFF_UNION 32
#define KD_SC_UNION_SIZE 160
#define KD_SC_OFF_CONTROL 192
#define KD_SC_CONTROL_SIZE 48
#define KD_SC_OFF_EXTRA 240

/* Exception variant: EXCEPTION_RECORD64 at 32, then FirstChance */
#define KD_SC_EXC_OFF_RECORD 32
#define KD_SC_EXC_OFF_FIRST_CHANCE 184

/* EXCEPTION_RECORD64 (152 bytes), offsets within the record */
#define KD_EXCREC_SIZE 152
#define KD_EXCREC_OFF_CODE 0
#define KD_EXCREC_OFF_FLAGS 4
#define KD_EXCREC_OFF_RECORD 8
#define KD_EXCREC_OFF_ADDRESS 16
#define KD_EXCREC_OFF_NUM_PARAMS 24
#define KD_EXCREC_OFF_INFO 32 /* u64[15] */

/* Load-symbols variant (DBGKD_LOAD_SYMBOLS64) */
#define KD_SC_LS_OFF_PATH_LEN 32
#define KD_SC_LS_OFF_BASE 40
#define KD_SC_LS_OFF_PROCESS_ID 48
#define KD_SC_LS_OFF_CHECKSUM 56
#define KD_SC_LS_OFF_SIZE 60
#define KD_SC_LS_OFF_UNLOAD 64

/* Command-string variant */
#define KD_SC_CMD_OFF_FLAGS 32
#define KD_SC_CMD_OFF_RESERVED1 36
#define KD_SC_CMD_OFF_RESERVED2 40 /* u64[7] */

/* AMD64 control report (absolute offsets) */
#define KD_SC_AMD64_OFF_DR6 192
#define KD_SC_AMD64_OFF_DR7 200
#define KD_SC_AMD64_OFF_EFLAGS 208
#define KD_SC_AMD64_OFF_COUNT 212
#define KD_SC_AMD64_OFF_REPORT_FLAGS 214
#define KD_SC_AMD64_OFF_STREAM 216
#define KD_SC_AMD64_OFF_CS 232
#define KD_SC_AMD64_OFF_DS 234
#define KD_SC_AMD64_OFF_ES 236
#define KD_SC_AMD64_OFF_FS 238

/* x86 control report (absolute offsets; 40 of the 48 bytes used) */
#define KD_SC_X86_OFF_DR6 192
#define KD_SC_X86_OFF_DR7 196
#define KD_SC_X86_OFF_COUNT 200
#define KD_SC_X86_OFF_REPORT_FLAGS 202
#define KD_SC_X86_OFF_STREAM 204
#define KD_SC_X86_OFF_CS 220
#define KD_SC_X86_OFF_DS 222
#define KD_SC_X86_OFF_ES 224
#define KD_SC_X86_OFF_FS 226
#define KD_SC_X86_OFF_EFLAGS 228
#define KD_SC_X86_CONTROL_USED 40

/* --- DBGKD_DEBUG_IO (§2.6) --- */

#define KD_DEBUG_IO_SIZE 16
#define KD_DEBUG_IO_OFF_API 0
#define KD_DEBUG_IO_OFF_PROCESSOR_LEVEL 4
#define KD_DEBUG_IO_OFF_PROCESSOR 6
/* LengthOfString (print) / LengthOfPromptString (get) */
#define KD_DEBUG_IO_OFF_LENGTH 8
#define KD_DEBUG_IO_OFF_READ_LENGTH 12 /* GetString: LengthOfStringRead */

/* --- DBGKD_FILE_IO (§2.8) --- */

#define KD_FILE_IO_SIZE 64
#define KD_FILE_IO_OFF_API 0
#define KD_FILE_IO_OFF_STATUS 4
#define KD_FILE_IO_OFF_UNION 8
#define KD_FILE_IO_CREATE_OFF_ACCESS 8
#define KD_FILE_IO_CREATE_OFF_ATTRIBUTES 12
#define KD_FILE_IO_CREATE_OFF_SHARE 16
#define KD_FILE_IO_CREATE_OFF_DISPOSITION 20
#define KD_FILE_IO_CREATE_OFF_OPTIONS 24
#define KD_FILE_IO_CREATE_OFF_HANDLE 32
#define KD_FILE_IO_CREATE_OFF_LENGTH 40
#define KD_FILE_IO_RW_OFF_HANDLE 8
#define KD_FILE_IO_RW_OFF_OFFSET 16
#define KD_FILE_IO_RW_OFF_LENGTH 24
#define KD_FILE_IO_CLOSE_OFF_HANDLE 8

/* --- DBGKD_TRACE_IO (§2.9) --- */

#define KD_TRACE_IO_SIZE 64
#define KD_TRACE_IO_OFF_API 0
#define KD_TRACE_IO_OFF_PROCESSOR_LEVEL 4
#define KD_TRACE_IO_OFF_PROCESSOR 6
#define KD_TRACE_IO_OFF_LENGTH 8 /* LengthOfData */

/* --- DBGKD_CONTROL_REQUEST (§2.9) --- */

#define KD_CONTROL_REQUEST_SIZE 12
#define KD_CONTROL_REQUEST_OFF_API 0
#define KD_CONTROL_REQUEST_OFF_BP_NUMBER 4 /* HardwareBreakPointNumber */
#define KD_CONTROL_REQUEST_OFF_RESULT 8	   /* Available / Released */

/* --- x64 CONTEXT (§2.10), 1232 bytes --- */

#define KD_AMD64_CONTEXT_SIZE 1232
#define KD_AMD64_CTX_OFF_P1HOME 0x000 /* P1Home..P6Home, u64 each */
#define KD_AMD64_CTX_OFF_FLAGS 0x030  /* u32 ContextFlags */
#define KD_AMD64_CTX_OFF_MXCSR 0x034  /* u32 */
#define KD_AMD64_CTX_OFF_CS 0x038     /* u16 segments */
#define KD_AMD64_CTX_OFF_DS 0x03A
#define KD_AMD64_CTX_OFF_ES 0x03C
#define KD_AMD64_CTX_OFF_FS 0x03E
#define KD_AMD64_CTX_OFF_GS 0x040
#define KD_AMD64_CTX_OFF_SS 0x042
#define KD_AMD64_CTX_OFF_EFLAGS 0x044 /* u32 */
#define KD_AMD64_CTX_OFF_DR0 0x048    /* u64 from here */
#define KD_AMD64_CTX_OFF_DR1 0x050
#define KD_AMD64_CTX_OFF_DR2 0x058
#define KD_AMD64_CTX_OFF_DR3 0x060
#define KD_AMD64_CTX_OFF_DR6 0x068
#define KD_AMD64_CTX_OFF_DR7 0x070
#define KD_AMD64_CTX_OFF_RAX 0x078
#define KD_AMD64_CTX_OFF_RCX 0x080
#define KD_AMD64_CTX_OFF_RDX 0x088
#define KD_AMD64_CTX_OFF_RBX 0x090
#define KD_AMD64_CTX_OFF_RSP 0x098
#define KD_AMD64_CTX_OFF_RBP 0x0A0
#define KD_AMD64_CTX_OFF_RSI 0x0A8
#define KD_AMD64_CTX_OFF_RDI 0x0B0
#define KD_AMD64_CTX_OFF_R8 0x0B8
#define KD_AMD64_CTX_OFF_R9 0x0C0
#define KD_AMD64_CTX_OFF_R10 0x0C8
#define KD_AMD64_CTX_OFF_R11 0x0D0
#define KD_AMD64_CTX_OFF_R12 0x0D8
#define KD_AMD64_CTX_OFF_R13 0x0E0
#define KD_AMD64_CTX_OFF_R14 0x0E8
#define KD_AMD64_CTX_OFF_R15 0x0F0
#define KD_AMD64_CTX_OFF_RIP 0x0F8
#define KD_AMD64_CTX_OFF_FLTSAVE 0x100 /* XMM_SAVE_AREA32, 512 */
#define KD_AMD64_CTX_FLTSAVE_SIZE 512
#define KD_AMD64_CTX_OFF_FX_MXCSR 0x118 /* MxCsr copy inside FltSave */
#define KD_AMD64_CTX_OFF_ST0 0x120	/* x87 regs, 16 bytes each */
#define KD_AMD64_CTX_OFF_XMM0 0x1A0	/* Xmm0..Xmm15, 16 bytes each */
#define KD_AMD64_CTX_OFF_XMM15 0x290
#define KD_AMD64_CTX_OFF_VECTOR 0x300 /* VectorRegister[26] */
#define KD_AMD64_CTX_VECTOR_COUNT 26
#define KD_AMD64_CTX_OFF_VECTOR_CONTROL 0x4A0
#define KD_AMD64_CTX_OFF_DEBUG_CONTROL 0x4A8
#define KD_AMD64_CTX_OFF_LAST_BRANCH_TO 0x4B0
#define KD_AMD64_CTX_OFF_LAST_BRANCH_FROM 0x4B8
#define KD_AMD64_CTX_OFF_LAST_EXC_TO 0x4C0
#define KD_AMD64_CTX_OFF_LAST_EXC_FROM 0x4C8

/*
 * --- x86 CONTEXT, 716 bytes ---
 * The size is from kd-protocol.md §2.10 (VirtualBox assert).  Field offsets
 * follow the standard i386 CONTEXT of the Windows SDK's winnt.h (the public
 * "CONTEXT (x86)" definition): ContextFlags, Dr0-3/6/7, the 112-byte
 * FLOATING_SAVE_AREA, segments, integer registers, control registers, then
 * 512 bytes of ExtendedRegisters.  The offsets sum to 0x2CC = 716, which
 * cross-checks them against the documented size.
 */
#define KD_X86_CONTEXT_SIZE 716
#define KD_X86_CTX_OFF_FLAGS 0x00
#define KD_X86_CTX_OFF_DR0 0x04
#define KD_X86_CTX_OFF_DR1 0x08
#define KD_X86_CTX_OFF_DR2 0x0C
#define KD_X86_CTX_OFF_DR3 0x10
#define KD_X86_CTX_OFF_DR6 0x14
#define KD_X86_CTX_OFF_DR7 0x18
#define KD_X86_CTX_OFF_FLOAT_SAVE 0x1C /* FLOATING_SAVE_AREA, 112 bytes */
#define KD_X86_CTX_FLOAT_SAVE_SIZE 112
#define KD_X86_CTX_OFF_GS 0x8C
#define KD_X86_CTX_OFF_FS 0x90
#define KD_X86_CTX_OFF_ES 0x94
#define KD_X86_CTX_OFF_DS 0x98
#define KD_X86_CTX_OFF_EDI 0x9C
#define KD_X86_CTX_OFF_ESI 0xA0
#define KD_X86_CTX_OFF_EBX 0xA4
#define KD_X86_CTX_OFF_EDX 0xA8
#define KD_X86_CTX_OFF_ECX 0xAC
#define KD_X86_CTX_OFF_EAX 0xB0
#define KD_X86_CTX_OFF_EBP 0xB4
#define KD_X86_CTX_OFF_EIP 0xB8
#define KD_X86_CTX_OFF_CS 0xBC
#define KD_X86_CTX_OFF_EFLAGS 0xC0
#define KD_X86_CTX_OFF_ESP 0xC4
#define KD_X86_CTX_OFF_SS 0xC8
#define KD_X86_CTX_OFF_EXTENDED 0xCC /* 512 bytes (FXSAVE image) */
#define KD_X86_CTX_EXTENDED_SIZE 512

/*
 * --- ARM64 CONTEXT (ARM64_NT_CONTEXT), 912 bytes ---
 * Offsets follow the public winnt.h definition: ContextFlags, Cpsr, X0-X28,
 * Fp (x29), Lr (x30), Sp, Pc, 32 16-byte V registers, Fpcr, Fpsr, then the
 * breakpoint and watchpoint registers (8 Bcr, 8 Bvr, 2 Wcr, 2 Wvr).  They
 * sum to 0x390 = 912, the size crash dumps of ARM64 machines carry.
 */
#define KD_ARM64_CONTEXT_SIZE 0x390
#define KD_ARM64_CTX_OFF_FLAGS 0x000
#define KD_ARM64_CTX_OFF_CPSR 0x004 /* u32 */
#define KD_ARM64_CTX_OFF_X0 0x008   /* X0..X28, u64 each */
#define KD_ARM64_CTX_OFF_FP 0x0F0
#define KD_ARM64_CTX_OFF_LR 0x0F8
#define KD_ARM64_CTX_OFF_SP 0x100
#define KD_ARM64_CTX_OFF_PC 0x108
#define KD_ARM64_CTX_OFF_V0 0x110 /* V0..V31, 16 bytes each */
#define KD_ARM64_CTX_OFF_FPCR 0x310
#define KD_ARM64_CTX_OFF_FPSR 0x314
#define KD_ARM64_CTX_OFF_BCR 0x318 /* u32[8] */
#define KD_ARM64_CTX_OFF_BVR 0x338 /* u64[8] */
#define KD_ARM64_CTX_OFF_WCR 0x378 /* u32[2] */
#define KD_ARM64_CTX_OFF_WVR 0x380 /* u64[2] */

/* --- x64 KSPECIAL_REGISTERS (§2.11): 0xE0 with Xcr0 --- */

#define KD_AMD64_KSPECIAL_SIZE 0xE0
#define KD_AMD64_KSPECIAL_SIZE_OLD 0xD8 /* ReactOS/WRK headers, no Xcr0 */
#define KD_KSPEC_OFF_CR0 0x00
#define KD_KSPEC_OFF_CR2 0x08
#define KD_KSPEC_OFF_CR3 0x10
#define KD_KSPEC_OFF_CR4 0x18
#define KD_KSPEC_OFF_KDR0 0x20
#define KD_KSPEC_OFF_KDR1 0x28
#define KD_KSPEC_OFF_KDR2 0x30
#define KD_KSPEC_OFF_KDR3 0x38
#define KD_KSPEC_OFF_KDR6 0x40
#define KD_KSPEC_OFF_KDR7 0x48
#define KD_KSPEC_OFF_GDTR 0x50 /* pad[6], u16 Limit, u64 Base */
#define KD_KSPEC_OFF_GDTR_LIMIT 0x56
#define KD_KSPEC_OFF_GDTR_BASE 0x58
#define KD_KSPEC_OFF_IDTR 0x60
#define KD_KSPEC_OFF_IDTR_LIMIT 0x66
#define KD_KSPEC_OFF_IDTR_BASE 0x68
#define KD_KSPEC_OFF_TR 0x70	/* u16 */
#define KD_KSPEC_OFF_LDTR 0x72	/* u16 */
#define KD_KSPEC_OFF_MXCSR 0x74 /* u32 */
#define KD_KSPEC_OFF_DEBUG_CONTROL 0x78
#define KD_KSPEC_OFF_LAST_BRANCH_TO 0x80
#define KD_KSPEC_OFF_LAST_BRANCH_FROM 0x88
#define KD_KSPEC_OFF_LAST_EXC_TO 0x90
#define KD_KSPEC_OFF_LAST_EXC_FROM 0x98
#define KD_KSPEC_OFF_CR8 0xA0
#define KD_KSPEC_OFF_MSR_GS_BASE 0xA8
#define KD_KSPEC_OFF_MSR_GS_SWAP 0xB0
#define KD_KSPEC_OFF_MSR_STAR 0xB8
#define KD_KSPEC_OFF_MSR_LSTAR 0xC0
#define KD_KSPEC_OFF_MSR_CSTAR 0xC8
#define KD_KSPEC_OFF_MSR_SYSCALL_MASK 0xD0
#define KD_KSPEC_OFF_XCR0 0xD8

/* x86: special registers follow the CONTEXT in KPROCESSOR_STATE (§2.11). */
#define KD_X86_CONTROL_OFF_KSPECIAL 0x2CC
#define KD_X86_KSPECIAL_SIZE 84

/* --- KDDEBUGGER_DATA64 (§2.12) --- */

#define KD_KDBG_OFF_FLINK 0x000
#define KD_KDBG_OFF_BLINK 0x008
#define KD_KDBG_OFF_OWNER_TAG 0x010
#define KD_KDBG_OFF_SIZE 0x014
#define KD_KDBG_OFF_KERN_BASE 0x018
#define KD_KDBG_OFF_BREAKPOINT_WITH_STATUS 0x020
#define KD_KDBG_OFF_SAVED_CONTEXT 0x028
#define KD_KDBG_OFF_TH_CALLBACK_STACK 0x030
#define KD_KDBG_OFF_NEXT_CALLBACK 0x032
#define KD_KDBG_OFF_FRAME_POINTER 0x034
#define KD_KDBG_OFF_PAE_ENABLED 0x036 /* u16 bit field */
#define KD_KDBG_OFF_KI_CALL_USER_MODE 0x038
#define KD_KDBG_OFF_KE_USER_CALLBACK_DISPATCHER 0x040
#define KD_KDBG_OFF_PS_LOADED_MODULE_LIST 0x048
#define KD_KDBG_OFF_PS_ACTIVE_PROCESS_HEAD 0x050
#define KD_KDBG_OFF_PSP_CID_TABLE 0x058
#define KD_KDBG_OFF_OBP_ROOT_DIRECTORY_OBJECT 0x098
#define KD_KDBG_OFF_MM_PFN_DATABASE 0x0C0
#define KD_KDBG_OFF_MM_PAGE_SIZE 0x138
#define KD_KDBG_OFF_MM_HIGHEST_USER_ADDRESS 0x1C8
#define KD_KDBG_OFF_MM_SYSTEM_RANGE_START 0x1D0
#define KD_KDBG_OFF_KD_PRINT_CIRCULAR_BUFFER 0x1E0
#define KD_KDBG_OFF_NT_BUILD_LAB 0x208
#define KD_KDBG_OFF_KI_PROCESSOR_BLOCK 0x218
#define KD_KDBG_OFF_CM_NT_CSD_VERSION 0x268
#define KD_KDBG_OFF_MM_PHYSICAL_MEMORY_BLOCK 0x270
#define KD_KDBG_OFF_SIZE_EPROCESS 0x2A8			 /* u16 */
#define KD_KDBG_OFF_OFFSET_EPROCESS_PEB 0x2AA		 /* u16 */
#define KD_KDBG_OFF_OFFSET_EPROCESS_DTB 0x2AE		 /* u16 */
#define KD_KDBG_OFF_OFFSET_PRCB_CURRENT_THREAD 0x2B4	 /* u16 */
#define KD_KDBG_OFF_OFFSET_PRCB_PROC_STATE_CONTEXT 0x2BC /* u16 */
#define KD_KDBG_OFF_KD_PRINT_CIRCULAR_BUFFER_PTR 0x2C8
#define KD_KDBG_OFF_KD_PRINT_BUFFER_SIZE 0x2D0
#define KD_KDBG_OFF_KE_LOADER_BLOCK 0x2D8
#define KD_KDBG_OFF_OFFSET_PRCB_PROC_STATE_SPECIAL_REG 0x2F2 /* u16 */
#define KD_KDBG_OFF_PTE_BASE 0x360			     /* Win10 RS1+ */
#define KD_KDBG_HEADER_SIZE 0x018
/* Size with the RS5 additions */
#define KD_KDBG_SIZE_MAX 0x380

#endif /* KD_PROTO_LAYOUT_H */
