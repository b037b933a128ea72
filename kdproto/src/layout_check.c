/* SPDX-License-Identifier: MIT */
/*
 * Compile-time proof that every offset and size in kd/proto/layout.h matches
 * the documented structure.  The mirror structs below exist ONLY for
 * offsetof/sizeof checks; no code reads wire bytes through them.
 */
#include <kd/common.h>
#include <kd/proto/layout.h>
#include <kd/proto/wire.h>

/*
 * Padding is explicit everywhere, so the layout does not depend on the
 * compiler's alignment of 64-bit members (4 on i386, 8 on x86-64).
 */
#define CHECK_OFF(type, field, off) \
	KD_STATIC_ASSERT(offsetof(type, field) == (off), #type "." #field)
#define CHECK_SIZE(type, size) \
	KD_STATIC_ASSERT(sizeof(type) == (size), "sizeof " #type)

/* --- DBGKD_MANIPULATE_STATE64 and its union members --- */

struct m_mem {
	uint64_t address;
	uint32_t count;
	uint32_t actual;
};

struct m_ctx_ex {
	uint32_t offset;
	uint32_t count;
	uint32_t copied;
};

struct m_wbp {
	uint64_t address;
	uint32_t handle;
};

struct m_cont2_amd64 {
	uint32_t status;
	uint32_t trace;
	uint64_t dr7;
	uint64_t sym_start;
	uint64_t sym_end;
};

struct m_cont2_x86 {
	uint32_t status;
	uint32_t trace;
	uint32_t dr7;
	uint32_t sym_start;
	uint32_t sym_end;
};

struct m_io {
	uint64_t address;
	uint32_t size;
	uint32_t value;
};

struct m_iox {
	uint32_t size;
	uint32_t interface;
	uint32_t bus;
	uint32_t space;
	uint64_t address;
	uint32_t value;
};

struct m_msr {
	uint32_t msr;
	uint32_t low;
	uint32_t high;
};

struct m_search {
	uint64_t address;
	uint64_t length;
	uint32_t pattern;
};

struct m_bus {
	uint32_t type;
	uint32_t bus;
	uint32_t slot;
	uint32_t offset;
	uint32_t length;
};

struct m_fill {
	uint64_t address;
	uint32_t length;
	uint16_t flags;
	uint16_t pattern;
};

struct m_query {
	uint64_t address;
	uint64_t reserved;
	uint32_t space;
	uint32_t flags;
};

struct m_version {
	uint16_t major;
	uint16_t minor;
	uint8_t protocol;
	uint8_t secondary;
	uint16_t flags;
	uint16_t machine;
	uint8_t max_packet;
	uint8_t max_state;
	uint8_t max_manip;
	uint8_t simulation;
	uint16_t unused;
	uint64_t kern_base;
	uint64_t module_list;
	uint64_t debugger_data;
};

struct m_manipulate {
	uint32_t api;
	uint16_t processor_level;
	uint16_t processor;
	uint32_t return_status;
	uint32_t pad;
	union {
		struct m_mem mem;
		struct m_ctx_ex ctx_ex;
		struct m_wbp wbp;
		struct m_cont2_amd64 c2a;
		struct m_cont2_x86 c2x;
		struct m_io io;
		struct m_iox iox;
		struct m_msr msr;
		struct m_search search;
		struct m_bus bus;
		struct m_fill fill;
		struct m_query query;
		struct m_version version;
		uint8_t raw[40];
	} u;
};

CHECK_SIZE(struct m_manipulate, KD_MANIP_SIZE);
CHECK_SIZE(struct m_version, KD_VERSION_SIZE);
CHECK_OFF(struct m_manipulate, api, KD_MANIP_OFF_API);
CHECK_OFF(struct m_manipulate, processor_level, KD_MANIP_OFF_PROCESSOR_LEVEL);
CHECK_OFF(struct m_manipulate, processor, KD_MANIP_OFF_PROCESSOR);
CHECK_OFF(struct m_manipulate, return_status, KD_MANIP_OFF_RETURN_STATUS);
CHECK_OFF(struct m_manipulate, u, KD_MANIP_OFF_UNION);
CHECK_OFF(struct m_manipulate, u.mem.address, KD_MANIP_MEM_OFF_ADDRESS);
CHECK_OFF(struct m_manipulate, u.mem.count, KD_MANIP_MEM_OFF_COUNT);
CHECK_OFF(struct m_manipulate, u.mem.actual, KD_MANIP_MEM_OFF_ACTUAL);
CHECK_OFF(struct m_manipulate, u.mem.actual, KD_MANIP_MEM_OFF_CACHING);
CHECK_OFF(struct m_manipulate, u.ctx_ex.offset, KD_MANIP_CTX_OFF_FLAGS);
CHECK_OFF(struct m_manipulate, u.ctx_ex.offset, KD_MANIP_CTXEX_OFF_OFFSET);
CHECK_OFF(struct m_manipulate, u.ctx_ex.count, KD_MANIP_CTXEX_OFF_COUNT);
CHECK_OFF(struct m_manipulate, u.ctx_ex.copied, KD_MANIP_CTXEX_OFF_COPIED);
CHECK_OFF(struct m_manipulate, u.wbp.address, KD_MANIP_WBP_OFF_ADDRESS);
CHECK_OFF(struct m_manipulate, u.wbp.handle, KD_MANIP_WBP_OFF_HANDLE);
CHECK_OFF(struct m_manipulate, u.msr.msr, KD_MANIP_RBP_OFF_HANDLE);
CHECK_OFF(struct m_manipulate, u.msr.msr, KD_MANIP_BPEX_OFF_COUNT);
CHECK_OFF(struct m_manipulate, u.msr.low, KD_MANIP_BPEX_OFF_STATUS);
CHECK_OFF(struct m_manipulate, u.c2a.status, KD_MANIP_CONT_OFF_STATUS);
CHECK_OFF(struct m_manipulate, u.c2a.status, KD_MANIP_CONT2_OFF_STATUS);
CHECK_OFF(struct m_manipulate, u.c2a.trace, KD_MANIP_CONT2_OFF_TRACE);
CHECK_OFF(struct m_manipulate, u.c2a.dr7, KD_MANIP_CONT2_AMD64_OFF_DR7);
CHECK_OFF(struct m_manipulate, u.c2a.sym_start,
	  KD_MANIP_CONT2_AMD64_OFF_SYM_START);
CHECK_OFF(struct m_manipulate, u.c2a.sym_end, KD_MANIP_CONT2_AMD64_OFF_SYM_END);
CHECK_OFF(struct m_manipulate, u.c2x.dr7, KD_MANIP_CONT2_X86_OFF_DR7);
CHECK_OFF(struct m_manipulate, u.c2x.sym_start,
	  KD_MANIP_CONT2_X86_OFF_SYM_START);
CHECK_OFF(struct m_manipulate, u.c2x.sym_end, KD_MANIP_CONT2_X86_OFF_SYM_END);
CHECK_OFF(struct m_manipulate, u.io.address, KD_MANIP_IO_OFF_ADDRESS);
CHECK_OFF(struct m_manipulate, u.io.size, KD_MANIP_IO_OFF_SIZE);
CHECK_OFF(struct m_manipulate, u.io.value, KD_MANIP_IO_OFF_VALUE);
CHECK_OFF(struct m_manipulate, u.iox.size, KD_MANIP_IOX_OFF_SIZE);
CHECK_OFF(struct m_manipulate, u.iox.interface, KD_MANIP_IOX_OFF_INTERFACE);
CHECK_OFF(struct m_manipulate, u.iox.bus, KD_MANIP_IOX_OFF_BUS);
CHECK_OFF(struct m_manipulate, u.iox.space, KD_MANIP_IOX_OFF_SPACE);
CHECK_OFF(struct m_manipulate, u.iox.address, KD_MANIP_IOX_OFF_ADDRESS);
CHECK_OFF(struct m_manipulate, u.iox.value, KD_MANIP_IOX_OFF_VALUE);
CHECK_OFF(struct m_manipulate, u.version, KD_MANIP_VERSION_OFF);
CHECK_OFF(struct m_manipulate, u.msr.msr, KD_MANIP_MSR_OFF_MSR);
CHECK_OFF(struct m_manipulate, u.msr.low, KD_MANIP_MSR_OFF_LOW);
CHECK_OFF(struct m_manipulate, u.msr.high, KD_MANIP_MSR_OFF_HIGH);
CHECK_OFF(struct m_manipulate, u.search.address, KD_MANIP_SEARCH_OFF_ADDRESS);
CHECK_OFF(struct m_manipulate, u.search.length, KD_MANIP_SEARCH_OFF_LENGTH);
CHECK_OFF(struct m_manipulate, u.search.pattern, KD_MANIP_SEARCH_OFF_PATTERN);
CHECK_OFF(struct m_manipulate, u.bus.type, KD_MANIP_BUS_OFF_TYPE);
CHECK_OFF(struct m_manipulate, u.bus.bus, KD_MANIP_BUS_OFF_BUS);
CHECK_OFF(struct m_manipulate, u.bus.slot, KD_MANIP_BUS_OFF_SLOT);
CHECK_OFF(struct m_manipulate, u.bus.offset, KD_MANIP_BUS_OFF_OFFSET);
CHECK_OFF(struct m_manipulate, u.bus.length, KD_MANIP_BUS_OFF_LENGTH);
CHECK_OFF(struct m_manipulate, u.fill.address, KD_MANIP_FILL_OFF_ADDRESS);
CHECK_OFF(struct m_manipulate, u.fill.length, KD_MANIP_FILL_OFF_LENGTH);
CHECK_OFF(struct m_manipulate, u.fill.flags, KD_MANIP_FILL_OFF_FLAGS);
CHECK_OFF(struct m_manipulate, u.fill.pattern, KD_MANIP_FILL_OFF_PATTERN);
CHECK_OFF(struct m_manipulate, u.query.address, KD_MANIP_QUERY_OFF_ADDRESS);
CHECK_OFF(struct m_manipulate, u.query.reserved, KD_MANIP_QUERY_OFF_RESERVED);
CHECK_OFF(struct m_manipulate, u.query.space, KD_MANIP_QUERY_OFF_SPACE);
CHECK_OFF(struct m_manipulate, u.query.flags, KD_MANIP_QUERY_OFF_FLAGS);
CHECK_OFF(struct m_manipulate, u.msr.msr, KD_MANIP_PARTITION_OFF);

CHECK_OFF(struct m_version, major, KD_VERSION_OFF_MAJOR);
CHECK_OFF(struct m_version, minor, KD_VERSION_OFF_MINOR);
CHECK_OFF(struct m_version, protocol, KD_VERSION_OFF_PROTOCOL);
CHECK_OFF(struct m_version, secondary, KD_VERSION_OFF_SECONDARY);
CHECK_OFF(struct m_version, flags, KD_VERSION_OFF_FLAGS);
CHECK_OFF(struct m_version, machine, KD_VERSION_OFF_MACHINE);
CHECK_OFF(struct m_version, max_packet, KD_VERSION_OFF_MAX_PACKET);
CHECK_OFF(struct m_version, max_state, KD_VERSION_OFF_MAX_STATE);
CHECK_OFF(struct m_version, max_manip, KD_VERSION_OFF_MAX_MANIP);
CHECK_OFF(struct m_version, simulation, KD_VERSION_OFF_SIMULATION);
CHECK_OFF(struct m_version, unused, KD_VERSION_OFF_UNUSED);
CHECK_OFF(struct m_version, kern_base, KD_VERSION_OFF_KERN_BASE);
CHECK_OFF(struct m_version, module_list, KD_VERSION_OFF_MODULE_LIST);
CHECK_OFF(struct m_version, debugger_data, KD_VERSION_OFF_DEBUGGER_DATA);

/* --- DBGKD_ANY_WAIT_STATE_CHANGE --- */

struct m_exception_record64 {
	uint32_t code;
	uint32_t flags;
	uint64_t record;
	uint64_t address;
	uint32_t num_params;
	uint32_t pad;
	uint64_t info[KD_EXCEPTION_MAXIMUM_PARAMETERS];
};

struct m_exception64 {
	struct m_exception_record64 record;
	uint32_t first_chance;
	uint32_t pad;
};

struct m_load_symbols64 {
	uint32_t path_len;
	uint32_t pad;
	uint64_t base;
	uint64_t process_id;
	uint32_t checksum;
	uint32_t size;
	uint8_t unload;
	uint8_t pad2[7];
};

struct m_command_string {
	uint32_t flags;
	uint32_t reserved1;
	uint64_t reserved2[7];
};

struct m_amd64_report {
	uint64_t dr6;
	uint64_t dr7;
	uint32_t eflags;
	uint16_t count;
	uint16_t report_flags;
	uint8_t stream[KD_MAXSTREAM];
	uint16_t cs;
	uint16_t ds;
	uint16_t es;
	uint16_t fs;
};

struct m_x86_report {
	uint32_t dr6;
	uint32_t dr7;
	uint16_t count;
	uint16_t report_flags;
	uint8_t stream[KD_MAXSTREAM];
	uint16_t cs;
	uint16_t ds;
	uint16_t es;
	uint16_t fs;
	uint32_t eflags;
};

struct m_state_change {
	uint32_t new_state;
	uint16_t processor_level;
	uint16_t processor;
	uint32_t num_processors;
	uint32_t pad;
	uint64_t thread;
	uint64_t pc;
	union {
		struct m_exception64 exc;
		struct m_load_symbols64 ls;
		struct m_command_string cmd;
		uint8_t raw[160];
	} u;
	union {
		struct m_amd64_report amd64;
		struct m_x86_report x86;
		uint8_t raw[48];
	} control;
};

CHECK_SIZE(struct m_state_change, KD_SC_SIZE);
CHECK_SIZE(struct m_exception_record64, KD_EXCREC_SIZE);
CHECK_SIZE(struct m_x86_report, KD_SC_X86_CONTROL_USED);
CHECK_SIZE(struct m_amd64_report, KD_SC_CONTROL_SIZE);
CHECK_OFF(struct m_state_change, new_state, KD_SC_OFF_NEW_STATE);
CHECK_OFF(struct m_state_change, processor_level, KD_SC_OFF_PROCESSOR_LEVEL);
CHECK_OFF(struct m_state_change, processor, KD_SC_OFF_PROCESSOR);
CHECK_OFF(struct m_state_change, num_processors, KD_SC_OFF_NUM_PROCESSORS);
CHECK_OFF(struct m_state_change, thread, KD_SC_OFF_THREAD);
CHECK_OFF(struct m_state_change, pc, KD_SC_OFF_PC);
CHECK_OFF(struct m_state_change, u, KD_SC_OFF_UNION);
CHECK_OFF(struct m_state_change, control, KD_SC_OFF_CONTROL);
CHECK_OFF(struct m_state_change, u.exc.record, KD_SC_EXC_OFF_RECORD);
CHECK_OFF(struct m_state_change, u.exc.first_chance,
	  KD_SC_EXC_OFF_FIRST_CHANCE);
CHECK_OFF(struct m_exception_record64, code, KD_EXCREC_OFF_CODE);
CHECK_OFF(struct m_exception_record64, flags, KD_EXCREC_OFF_FLAGS);
CHECK_OFF(struct m_exception_record64, record, KD_EXCREC_OFF_RECORD);
CHECK_OFF(struct m_exception_record64, address, KD_EXCREC_OFF_ADDRESS);
CHECK_OFF(struct m_exception_record64, num_params, KD_EXCREC_OFF_NUM_PARAMS);
CHECK_OFF(struct m_exception_record64, info, KD_EXCREC_OFF_INFO);
CHECK_OFF(struct m_state_change, u.ls.path_len, KD_SC_LS_OFF_PATH_LEN);
CHECK_OFF(struct m_state_change, u.ls.base, KD_SC_LS_OFF_BASE);
CHECK_OFF(struct m_state_change, u.ls.process_id, KD_SC_LS_OFF_PROCESS_ID);
CHECK_OFF(struct m_state_change, u.ls.checksum, KD_SC_LS_OFF_CHECKSUM);
CHECK_OFF(struct m_state_change, u.ls.size, KD_SC_LS_OFF_SIZE);
CHECK_OFF(struct m_state_change, u.ls.unload, KD_SC_LS_OFF_UNLOAD);
CHECK_OFF(struct m_state_change, u.cmd.flags, KD_SC_CMD_OFF_FLAGS);
CHECK_OFF(struct m_state_change, u.cmd.reserved1, KD_SC_CMD_OFF_RESERVED1);
CHECK_OFF(struct m_state_change, u.cmd.reserved2, KD_SC_CMD_OFF_RESERVED2);
CHECK_OFF(struct m_state_change, control.amd64.dr6, KD_SC_AMD64_OFF_DR6);
CHECK_OFF(struct m_state_change, control.amd64.dr7, KD_SC_AMD64_OFF_DR7);
CHECK_OFF(struct m_state_change, control.amd64.eflags, KD_SC_AMD64_OFF_EFLAGS);
CHECK_OFF(struct m_state_change, control.amd64.count, KD_SC_AMD64_OFF_COUNT);
CHECK_OFF(struct m_state_change, control.amd64.report_flags,
	  KD_SC_AMD64_OFF_REPORT_FLAGS);
CHECK_OFF(struct m_state_change, control.amd64.stream, KD_SC_AMD64_OFF_STREAM);
CHECK_OFF(struct m_state_change, control.amd64.cs, KD_SC_AMD64_OFF_CS);
CHECK_OFF(struct m_state_change, control.amd64.ds, KD_SC_AMD64_OFF_DS);
CHECK_OFF(struct m_state_change, control.amd64.es, KD_SC_AMD64_OFF_ES);
CHECK_OFF(struct m_state_change, control.amd64.fs, KD_SC_AMD64_OFF_FS);
CHECK_OFF(struct m_state_change, control.x86.dr6, KD_SC_X86_OFF_DR6);
CHECK_OFF(struct m_state_change, control.x86.dr7, KD_SC_X86_OFF_DR7);
CHECK_OFF(struct m_state_change, control.x86.count, KD_SC_X86_OFF_COUNT);
CHECK_OFF(struct m_state_change, control.x86.report_flags,
	  KD_SC_X86_OFF_REPORT_FLAGS);
CHECK_OFF(struct m_state_change, control.x86.stream, KD_SC_X86_OFF_STREAM);
CHECK_OFF(struct m_state_change, control.x86.cs, KD_SC_X86_OFF_CS);
CHECK_OFF(struct m_state_change, control.x86.ds, KD_SC_X86_OFF_DS);
CHECK_OFF(struct m_state_change, control.x86.es, KD_SC_X86_OFF_ES);
CHECK_OFF(struct m_state_change, control.x86.fs, KD_SC_X86_OFF_FS);
CHECK_OFF(struct m_state_change, control.x86.eflags, KD_SC_X86_OFF_EFLAGS);

/* --- DEBUG_IO, FILE_IO, TRACE_IO, CONTROL_REQUEST --- */

struct m_debug_io {
	uint32_t api;
	uint16_t processor_level;
	uint16_t processor;
	uint32_t length;
	uint32_t read_length;
};

CHECK_SIZE(struct m_debug_io, KD_DEBUG_IO_SIZE);
CHECK_OFF(struct m_debug_io, api, KD_DEBUG_IO_OFF_API);
CHECK_OFF(struct m_debug_io, processor_level, KD_DEBUG_IO_OFF_PROCESSOR_LEVEL);
CHECK_OFF(struct m_debug_io, processor, KD_DEBUG_IO_OFF_PROCESSOR);
CHECK_OFF(struct m_debug_io, length, KD_DEBUG_IO_OFF_LENGTH);
CHECK_OFF(struct m_debug_io, read_length, KD_DEBUG_IO_OFF_READ_LENGTH);

struct m_file_create {
	uint32_t access;
	uint32_t attributes;
	uint32_t share;
	uint32_t disposition;
	uint32_t options;
	uint32_t pad;
	uint64_t handle;
	uint64_t length;
};

struct m_file_rw {
	uint64_t handle;
	uint64_t offset;
	uint32_t length;
};

struct m_file_io {
	uint32_t api;
	uint32_t status;
	union {
		struct m_file_create create;
		struct m_file_rw rw;
		uint64_t close_handle;
		uint8_t raw[56];
	} u;
};

CHECK_SIZE(struct m_file_io, KD_FILE_IO_SIZE);
CHECK_OFF(struct m_file_io, api, KD_FILE_IO_OFF_API);
CHECK_OFF(struct m_file_io, status, KD_FILE_IO_OFF_STATUS);
CHECK_OFF(struct m_file_io, u, KD_FILE_IO_OFF_UNION);
CHECK_OFF(struct m_file_io, u.create.access, KD_FILE_IO_CREATE_OFF_ACCESS);
CHECK_OFF(struct m_file_io, u.create.attributes,
	  KD_FILE_IO_CREATE_OFF_ATTRIBUTES);
CHECK_OFF(struct m_file_io, u.create.share, KD_FILE_IO_CREATE_OFF_SHARE);
CHECK_OFF(struct m_file_io, u.create.disposition,
	  KD_FILE_IO_CREATE_OFF_DISPOSITION);
CHECK_OFF(struct m_file_io, u.create.options, KD_FILE_IO_CREATE_OFF_OPTIONS);
CHECK_OFF(struct m_file_io, u.create.handle, KD_FILE_IO_CREATE_OFF_HANDLE);
CHECK_OFF(struct m_file_io, u.create.length, KD_FILE_IO_CREATE_OFF_LENGTH);
CHECK_OFF(struct m_file_io, u.rw.handle, KD_FILE_IO_RW_OFF_HANDLE);
CHECK_OFF(struct m_file_io, u.rw.offset, KD_FILE_IO_RW_OFF_OFFSET);
CHECK_OFF(struct m_file_io, u.rw.length, KD_FILE_IO_RW_OFF_LENGTH);
CHECK_OFF(struct m_file_io, u.close_handle, KD_FILE_IO_CLOSE_OFF_HANDLE);

struct m_trace_io {
	uint32_t api;
	uint16_t processor_level;
	uint16_t processor;
	union {
		uint32_t length;
		uint8_t raw[56];
	} u;
};

CHECK_SIZE(struct m_trace_io, KD_TRACE_IO_SIZE);
CHECK_OFF(struct m_trace_io, api, KD_TRACE_IO_OFF_API);
CHECK_OFF(struct m_trace_io, processor_level, KD_TRACE_IO_OFF_PROCESSOR_LEVEL);
CHECK_OFF(struct m_trace_io, processor, KD_TRACE_IO_OFF_PROCESSOR);
CHECK_OFF(struct m_trace_io, u.length, KD_TRACE_IO_OFF_LENGTH);

struct m_control_request {
	uint32_t api;
	uint32_t bp_number;
	uint32_t result;
};

CHECK_SIZE(struct m_control_request, KD_CONTROL_REQUEST_SIZE);
CHECK_OFF(struct m_control_request, api, KD_CONTROL_REQUEST_OFF_API);
CHECK_OFF(struct m_control_request, bp_number,
	  KD_CONTROL_REQUEST_OFF_BP_NUMBER);
CHECK_OFF(struct m_control_request, result, KD_CONTROL_REQUEST_OFF_RESULT);

/* --- x64 CONTEXT --- */

struct m_m128 {
	uint64_t low;
	uint64_t high;
};

struct m_xmm_save_area32 {
	uint16_t control_word;
	uint16_t status_word;
	uint8_t tag_word;
	uint8_t reserved1;
	uint16_t error_opcode;
	uint32_t error_offset;
	uint16_t error_selector;
	uint16_t reserved2;
	uint32_t data_offset;
	uint16_t data_selector;
	uint16_t reserved3;
	uint32_t mxcsr;
	uint32_t mxcsr_mask;
	struct m_m128 float_registers[8];
	struct m_m128 xmm[16];
	uint8_t reserved4[96];
};

struct m_amd64_context {
	uint64_t home[6];
	uint32_t context_flags;
	uint32_t mxcsr;
	uint16_t cs, ds, es, fs, gs, ss;
	uint32_t eflags;
	uint64_t dr0, dr1, dr2, dr3, dr6, dr7;
	uint64_t rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip;
	struct m_xmm_save_area32 flt;
	struct m_m128 vector[26];
	uint64_t vector_control;
	uint64_t debug_control;
	uint64_t last_branch_to;
	uint64_t last_branch_from;
	uint64_t last_exc_to;
	uint64_t last_exc_from;
};

CHECK_SIZE(struct m_xmm_save_area32, KD_AMD64_CTX_FLTSAVE_SIZE);
CHECK_SIZE(struct m_amd64_context, KD_AMD64_CONTEXT_SIZE);
CHECK_OFF(struct m_amd64_context, home, KD_AMD64_CTX_OFF_P1HOME);
CHECK_OFF(struct m_amd64_context, context_flags, KD_AMD64_CTX_OFF_FLAGS);
CHECK_OFF(struct m_amd64_context, mxcsr, KD_AMD64_CTX_OFF_MXCSR);
CHECK_OFF(struct m_amd64_context, cs, KD_AMD64_CTX_OFF_CS);
CHECK_OFF(struct m_amd64_context, ds, KD_AMD64_CTX_OFF_DS);
CHECK_OFF(struct m_amd64_context, es, KD_AMD64_CTX_OFF_ES);
CHECK_OFF(struct m_amd64_context, fs, KD_AMD64_CTX_OFF_FS);
CHECK_OFF(struct m_amd64_context, gs, KD_AMD64_CTX_OFF_GS);
CHECK_OFF(struct m_amd64_context, ss, KD_AMD64_CTX_OFF_SS);
CHECK_OFF(struct m_amd64_context, eflags, KD_AMD64_CTX_OFF_EFLAGS);
CHECK_OFF(struct m_amd64_context, dr0, KD_AMD64_CTX_OFF_DR0);
CHECK_OFF(struct m_amd64_context, dr1, KD_AMD64_CTX_OFF_DR1);
CHECK_OFF(struct m_amd64_context, dr2, KD_AMD64_CTX_OFF_DR2);
CHECK_OFF(struct m_amd64_context, dr3, KD_AMD64_CTX_OFF_DR3);
CHECK_OFF(struct m_amd64_context, dr6, KD_AMD64_CTX_OFF_DR6);
CHECK_OFF(struct m_amd64_context, dr7, KD_AMD64_CTX_OFF_DR7);
CHECK_OFF(struct m_amd64_context, rax, KD_AMD64_CTX_OFF_RAX);
CHECK_OFF(struct m_amd64_context, rcx, KD_AMD64_CTX_OFF_RCX);
CHECK_OFF(struct m_amd64_context, rdx, KD_AMD64_CTX_OFF_RDX);
CHECK_OFF(struct m_amd64_context, rbx, KD_AMD64_CTX_OFF_RBX);
CHECK_OFF(struct m_amd64_context, rsp, KD_AMD64_CTX_OFF_RSP);
CHECK_OFF(struct m_amd64_context, rbp, KD_AMD64_CTX_OFF_RBP);
CHECK_OFF(struct m_amd64_context, rsi, KD_AMD64_CTX_OFF_RSI);
CHECK_OFF(struct m_amd64_context, rdi, KD_AMD64_CTX_OFF_RDI);
CHECK_OFF(struct m_amd64_context, r8, KD_AMD64_CTX_OFF_R8);
CHECK_OFF(struct m_amd64_context, r9, KD_AMD64_CTX_OFF_R9);
CHECK_OFF(struct m_amd64_context, r10, KD_AMD64_CTX_OFF_R10);
CHECK_OFF(struct m_amd64_context, r11, KD_AMD64_CTX_OFF_R11);
CHECK_OFF(struct m_amd64_context, r12, KD_AMD64_CTX_OFF_R12);
CHECK_OFF(struct m_amd64_context, r13, KD_AMD64_CTX_OFF_R13);
CHECK_OFF(struct m_amd64_context, r14, KD_AMD64_CTX_OFF_R14);
CHECK_OFF(struct m_amd64_context, r15, KD_AMD64_CTX_OFF_R15);
CHECK_OFF(struct m_amd64_context, rip, KD_AMD64_CTX_OFF_RIP);
CHECK_OFF(struct m_amd64_context, flt, KD_AMD64_CTX_OFF_FLTSAVE);
CHECK_OFF(struct m_amd64_context, flt.mxcsr, KD_AMD64_CTX_OFF_FX_MXCSR);
CHECK_OFF(struct m_amd64_context, flt.float_registers, KD_AMD64_CTX_OFF_ST0);
CHECK_OFF(struct m_amd64_context, flt.xmm[0], KD_AMD64_CTX_OFF_XMM0);
CHECK_OFF(struct m_amd64_context, flt.xmm[15], KD_AMD64_CTX_OFF_XMM15);
CHECK_OFF(struct m_amd64_context, vector, KD_AMD64_CTX_OFF_VECTOR);
CHECK_OFF(struct m_amd64_context, vector_control,
	  KD_AMD64_CTX_OFF_VECTOR_CONTROL);
CHECK_OFF(struct m_amd64_context, debug_control,
	  KD_AMD64_CTX_OFF_DEBUG_CONTROL);
CHECK_OFF(struct m_amd64_context, last_branch_to,
	  KD_AMD64_CTX_OFF_LAST_BRANCH_TO);
CHECK_OFF(struct m_amd64_context, last_branch_from,
	  KD_AMD64_CTX_OFF_LAST_BRANCH_FROM);
CHECK_OFF(struct m_amd64_context, last_exc_to, KD_AMD64_CTX_OFF_LAST_EXC_TO);
CHECK_OFF(struct m_amd64_context, last_exc_from,
	  KD_AMD64_CTX_OFF_LAST_EXC_FROM);
KD_STATIC_ASSERT(KD_AMD64_CTX_VECTOR_COUNT == 26, "vector count");

/* --- x86 CONTEXT (winnt.h i386 layout) --- */

struct m_floating_save_area {
	uint32_t control_word;
	uint32_t status_word;
	uint32_t tag_word;
	uint32_t error_offset;
	uint32_t error_selector;
	uint32_t data_offset;
	uint32_t data_selector;
	uint8_t register_area[80];
	uint32_t cr0_npx_state;
};

struct m_x86_context {
	uint32_t context_flags;
	uint32_t dr0, dr1, dr2, dr3, dr6, dr7;
	struct m_floating_save_area float_save;
	uint32_t gs, fs, es, ds;
	uint32_t edi, esi, ebx, edx, ecx, eax;
	uint32_t ebp, eip, cs, eflags, esp, ss;
	uint8_t extended[512];
};

CHECK_SIZE(struct m_floating_save_area, KD_X86_CTX_FLOAT_SAVE_SIZE);
CHECK_SIZE(struct m_x86_context, KD_X86_CONTEXT_SIZE);
CHECK_OFF(struct m_x86_context, context_flags, KD_X86_CTX_OFF_FLAGS);
CHECK_OFF(struct m_x86_context, dr0, KD_X86_CTX_OFF_DR0);
CHECK_OFF(struct m_x86_context, dr1, KD_X86_CTX_OFF_DR1);
CHECK_OFF(struct m_x86_context, dr2, KD_X86_CTX_OFF_DR2);
CHECK_OFF(struct m_x86_context, dr3, KD_X86_CTX_OFF_DR3);
CHECK_OFF(struct m_x86_context, dr6, KD_X86_CTX_OFF_DR6);
CHECK_OFF(struct m_x86_context, dr7, KD_X86_CTX_OFF_DR7);
CHECK_OFF(struct m_x86_context, float_save, KD_X86_CTX_OFF_FLOAT_SAVE);
CHECK_OFF(struct m_x86_context, gs, KD_X86_CTX_OFF_GS);
CHECK_OFF(struct m_x86_context, fs, KD_X86_CTX_OFF_FS);
CHECK_OFF(struct m_x86_context, es, KD_X86_CTX_OFF_ES);
CHECK_OFF(struct m_x86_context, ds, KD_X86_CTX_OFF_DS);
CHECK_OFF(struct m_x86_context, edi, KD_X86_CTX_OFF_EDI);
CHECK_OFF(struct m_x86_context, esi, KD_X86_CTX_OFF_ESI);
CHECK_OFF(struct m_x86_context, ebx, KD_X86_CTX_OFF_EBX);
CHECK_OFF(struct m_x86_context, edx, KD_X86_CTX_OFF_EDX);
CHECK_OFF(struct m_x86_context, ecx, KD_X86_CTX_OFF_ECX);
CHECK_OFF(struct m_x86_context, eax, KD_X86_CTX_OFF_EAX);
CHECK_OFF(struct m_x86_context, ebp, KD_X86_CTX_OFF_EBP);
CHECK_OFF(struct m_x86_context, eip, KD_X86_CTX_OFF_EIP);
CHECK_OFF(struct m_x86_context, cs, KD_X86_CTX_OFF_CS);
CHECK_OFF(struct m_x86_context, eflags, KD_X86_CTX_OFF_EFLAGS);
CHECK_OFF(struct m_x86_context, esp, KD_X86_CTX_OFF_ESP);
CHECK_OFF(struct m_x86_context, ss, KD_X86_CTX_OFF_SS);
CHECK_OFF(struct m_x86_context, extended, KD_X86_CTX_OFF_EXTENDED);
KD_STATIC_ASSERT(KD_X86_CONTROL_OFF_KSPECIAL == KD_X86_CONTEXT_SIZE,
		 "x86 KSPECIAL_REGISTERS follow the CONTEXT");

/* --- x64 KSPECIAL_REGISTERS --- */

struct m_descriptor {
	uint16_t pad[3];
	uint16_t limit;
	uint64_t base;
};

struct m_kspecial {
	uint64_t cr0, cr2, cr3, cr4;
	uint64_t kdr0, kdr1, kdr2, kdr3, kdr6, kdr7;
	struct m_descriptor gdtr;
	struct m_descriptor idtr;
	uint16_t tr;
	uint16_t ldtr;
	uint32_t mxcsr;
	uint64_t debug_control;
	uint64_t last_branch_to;
	uint64_t last_branch_from;
	uint64_t last_exc_to;
	uint64_t last_exc_from;
	uint64_t cr8;
	uint64_t msr_gs_base;
	uint64_t msr_gs_swap;
	uint64_t msr_star;
	uint64_t msr_lstar;
	uint64_t msr_cstar;
	uint64_t msr_syscall_mask;
	uint64_t xcr0;
};

CHECK_SIZE(struct m_kspecial, KD_AMD64_KSPECIAL_SIZE);
CHECK_OFF(struct m_kspecial, cr0, KD_KSPEC_OFF_CR0);
CHECK_OFF(struct m_kspecial, cr2, KD_KSPEC_OFF_CR2);
CHECK_OFF(struct m_kspecial, cr3, KD_KSPEC_OFF_CR3);
CHECK_OFF(struct m_kspecial, cr4, KD_KSPEC_OFF_CR4);
CHECK_OFF(struct m_kspecial, kdr0, KD_KSPEC_OFF_KDR0);
CHECK_OFF(struct m_kspecial, kdr1, KD_KSPEC_OFF_KDR1);
CHECK_OFF(struct m_kspecial, kdr2, KD_KSPEC_OFF_KDR2);
CHECK_OFF(struct m_kspecial, kdr3, KD_KSPEC_OFF_KDR3);
CHECK_OFF(struct m_kspecial, kdr6, KD_KSPEC_OFF_KDR6);
CHECK_OFF(struct m_kspecial, kdr7, KD_KSPEC_OFF_KDR7);
CHECK_OFF(struct m_kspecial, gdtr, KD_KSPEC_OFF_GDTR);
CHECK_OFF(struct m_kspecial, gdtr.limit, KD_KSPEC_OFF_GDTR_LIMIT);
CHECK_OFF(struct m_kspecial, gdtr.base, KD_KSPEC_OFF_GDTR_BASE);
CHECK_OFF(struct m_kspecial, idtr, KD_KSPEC_OFF_IDTR);
CHECK_OFF(struct m_kspecial, idtr.limit, KD_KSPEC_OFF_IDTR_LIMIT);
CHECK_OFF(struct m_kspecial, idtr.base, KD_KSPEC_OFF_IDTR_BASE);
CHECK_OFF(struct m_kspecial, tr, KD_KSPEC_OFF_TR);
CHECK_OFF(struct m_kspecial, ldtr, KD_KSPEC_OFF_LDTR);
CHECK_OFF(struct m_kspecial, mxcsr, KD_KSPEC_OFF_MXCSR);
CHECK_OFF(struct m_kspecial, debug_control, KD_KSPEC_OFF_DEBUG_CONTROL);
CHECK_OFF(struct m_kspecial, last_branch_to, KD_KSPEC_OFF_LAST_BRANCH_TO);
CHECK_OFF(struct m_kspecial, last_branch_from, KD_KSPEC_OFF_LAST_BRANCH_FROM);
CHECK_OFF(struct m_kspecial, last_exc_to, KD_KSPEC_OFF_LAST_EXC_TO);
CHECK_OFF(struct m_kspecial, last_exc_from, KD_KSPEC_OFF_LAST_EXC_FROM);
CHECK_OFF(struct m_kspecial, cr8, KD_KSPEC_OFF_CR8);
CHECK_OFF(struct m_kspecial, msr_gs_base, KD_KSPEC_OFF_MSR_GS_BASE);
CHECK_OFF(struct m_kspecial, msr_gs_swap, KD_KSPEC_OFF_MSR_GS_SWAP);
CHECK_OFF(struct m_kspecial, msr_star, KD_KSPEC_OFF_MSR_STAR);
CHECK_OFF(struct m_kspecial, msr_lstar, KD_KSPEC_OFF_MSR_LSTAR);
CHECK_OFF(struct m_kspecial, msr_cstar, KD_KSPEC_OFF_MSR_CSTAR);
CHECK_OFF(struct m_kspecial, msr_syscall_mask, KD_KSPEC_OFF_MSR_SYSCALL_MASK);
CHECK_OFF(struct m_kspecial, xcr0, KD_KSPEC_OFF_XCR0);
KD_STATIC_ASSERT(KD_KSPEC_OFF_XCR0 == KD_AMD64_KSPECIAL_SIZE_OLD,
		 "older KSPECIAL_REGISTERS end where Xcr0 starts");

/*
 * --- KDDEBUGGER_DATA64 header and the fields of §2.12 ---
 * Only the documented fields are named; gap arrays stand for the rest.
 */
struct m_kdbg {
	uint64_t flink;
	uint64_t blink;
	uint32_t owner_tag;
	uint32_t size;
	uint64_t kern_base;
	uint64_t breakpoint_with_status;
	uint64_t saved_context;
	uint16_t th_callback_stack;
	uint16_t next_callback;
	uint16_t frame_pointer;
	uint16_t pae_enabled;
	uint64_t ki_call_user_mode;
	uint64_t ke_user_callback_dispatcher;
	uint64_t ps_loaded_module_list;
	uint64_t ps_active_process_head;
	uint64_t psp_cid_table;
	uint64_t gap_060[7];
	uint64_t obp_root_directory_object;
	uint64_t gap_0a0[4];
	uint64_t mm_pfn_database;
	uint64_t gap_0c8[14];
	uint64_t mm_page_size;
	uint64_t gap_140[17];
	uint64_t mm_highest_user_address;
	uint64_t mm_system_range_start;
	uint64_t gap_1d8;
	uint64_t kd_print_circular_buffer;
	uint64_t gap_1e8[4];
	uint64_t nt_build_lab;
	uint64_t gap_210;
	uint64_t ki_processor_block;
	uint64_t gap_220[9];
	uint64_t cm_nt_csd_version;
	uint64_t mm_physical_memory_block;
	uint64_t gap_278[6];
	uint16_t size_eprocess;
	uint16_t offset_eprocess_peb;
	uint16_t gap_2ac;
	uint16_t offset_eprocess_dtb;
	uint16_t gap_2b0[2];
	uint16_t offset_prcb_current_thread;
	uint16_t gap_2b6[3];
	uint16_t offset_prcb_proc_state_context;
	uint16_t gap_2be[5];
	uint64_t kd_print_circular_buffer_ptr;
	uint64_t kd_print_buffer_size;
	uint64_t ke_loader_block;
	uint16_t gap_2e0[9];
	uint16_t offset_prcb_proc_state_special_reg;
	uint16_t gap_2f4[54];
	uint64_t pte_base;
	uint64_t gap_368[3];
};

CHECK_SIZE(struct m_kdbg, KD_KDBG_SIZE_MAX);
CHECK_OFF(struct m_kdbg, flink, KD_KDBG_OFF_FLINK);
CHECK_OFF(struct m_kdbg, blink, KD_KDBG_OFF_BLINK);
CHECK_OFF(struct m_kdbg, owner_tag, KD_KDBG_OFF_OWNER_TAG);
CHECK_OFF(struct m_kdbg, size, KD_KDBG_OFF_SIZE);
CHECK_OFF(struct m_kdbg, kern_base, KD_KDBG_OFF_KERN_BASE);
CHECK_OFF(struct m_kdbg, kern_base, KD_KDBG_HEADER_SIZE);
CHECK_OFF(struct m_kdbg, breakpoint_with_status,
	  KD_KDBG_OFF_BREAKPOINT_WITH_STATUS);
CHECK_OFF(struct m_kdbg, saved_context, KD_KDBG_OFF_SAVED_CONTEXT);
CHECK_OFF(struct m_kdbg, th_callback_stack, KD_KDBG_OFF_TH_CALLBACK_STACK);
CHECK_OFF(struct m_kdbg, next_callback, KD_KDBG_OFF_NEXT_CALLBACK);
CHECK_OFF(struct m_kdbg, frame_pointer, KD_KDBG_OFF_FRAME_POINTER);
CHECK_OFF(struct m_kdbg, pae_enabled, KD_KDBG_OFF_PAE_ENABLED);
CHECK_OFF(struct m_kdbg, ki_call_user_mode, KD_KDBG_OFF_KI_CALL_USER_MODE);
CHECK_OFF(struct m_kdbg, ke_user_callback_dispatcher,
	  KD_KDBG_OFF_KE_USER_CALLBACK_DISPATCHER);
CHECK_OFF(struct m_kdbg, ps_loaded_module_list,
	  KD_KDBG_OFF_PS_LOADED_MODULE_LIST);
CHECK_OFF(struct m_kdbg, ps_active_process_head,
	  KD_KDBG_OFF_PS_ACTIVE_PROCESS_HEAD);
CHECK_OFF(struct m_kdbg, psp_cid_table, KD_KDBG_OFF_PSP_CID_TABLE);
CHECK_OFF(struct m_kdbg, obp_root_directory_object,
	  KD_KDBG_OFF_OBP_ROOT_DIRECTORY_OBJECT);
CHECK_OFF(struct m_kdbg, mm_pfn_database, KD_KDBG_OFF_MM_PFN_DATABASE);
CHECK_OFF(struct m_kdbg, mm_page_size, KD_KDBG_OFF_MM_PAGE_SIZE);
CHECK_OFF(struct m_kdbg, mm_highest_user_address,
	  KD_KDBG_OFF_MM_HIGHEST_USER_ADDRESS);
CHECK_OFF(struct m_kdbg, mm_system_range_start,
	  KD_KDBG_OFF_MM_SYSTEM_RANGE_START);
CHECK_OFF(struct m_kdbg, kd_print_circular_buffer,
	  KD_KDBG_OFF_KD_PRINT_CIRCULAR_BUFFER);
CHECK_OFF(struct m_kdbg, nt_build_lab, KD_KDBG_OFF_NT_BUILD_LAB);
CHECK_OFF(struct m_kdbg, ki_processor_block, KD_KDBG_OFF_KI_PROCESSOR_BLOCK);
CHECK_OFF(struct m_kdbg, cm_nt_csd_version, KD_KDBG_OFF_CM_NT_CSD_VERSION);
CHECK_OFF(struct m_kdbg, mm_physical_memory_block,
	  KD_KDBG_OFF_MM_PHYSICAL_MEMORY_BLOCK);
CHECK_OFF(struct m_kdbg, size_eprocess, KD_KDBG_OFF_SIZE_EPROCESS);
CHECK_OFF(struct m_kdbg, offset_eprocess_peb, KD_KDBG_OFF_OFFSET_EPROCESS_PEB);
CHECK_OFF(struct m_kdbg, offset_eprocess_dtb, KD_KDBG_OFF_OFFSET_EPROCESS_DTB);
CHECK_OFF(struct m_kdbg, offset_prcb_current_thread,
	  KD_KDBG_OFF_OFFSET_PRCB_CURRENT_THREAD);
CHECK_OFF(struct m_kdbg, offset_prcb_proc_state_context,
	  KD_KDBG_OFF_OFFSET_PRCB_PROC_STATE_CONTEXT);
CHECK_OFF(struct m_kdbg, kd_print_circular_buffer_ptr,
	  KD_KDBG_OFF_KD_PRINT_CIRCULAR_BUFFER_PTR);
CHECK_OFF(struct m_kdbg, kd_print_buffer_size,
	  KD_KDBG_OFF_KD_PRINT_BUFFER_SIZE);
CHECK_OFF(struct m_kdbg, ke_loader_block, KD_KDBG_OFF_KE_LOADER_BLOCK);
CHECK_OFF(struct m_kdbg, offset_prcb_proc_state_special_reg,
	  KD_KDBG_OFF_OFFSET_PRCB_PROC_STATE_SPECIAL_REG);
CHECK_OFF(struct m_kdbg, pte_base, KD_KDBG_OFF_PTE_BASE);

/* --- Limits --- */

KD_STATIC_ASSERT(KD_MAX_TRANSFER == 4000 - KD_MANIP_SIZE,
		 "read clamp is the max payload minus the manipulate header");
