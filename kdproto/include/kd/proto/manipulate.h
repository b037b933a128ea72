/* SPDX-License-Identifier: MIT */
/*
 * Host-side views of the KD API payloads and their explicit little-endian
 * codecs: manipulate requests/replies, GetVersion, state changes, debug,
 * file and trace I/O, control requests, the x64 CONTEXT and special
 * registers, and the KDDEBUGGER_DATA64 header.  Pure and freestanding.
 */
#ifndef KD_PROTO_MANIPULATE_H
#define KD_PROTO_MANIPULATE_H

#include <kd/common.h>
#include <kd/proto/layout.h>
#include <kd/proto/wire.h>

KD_BEGIN_DECLS

/*
 * Conventions for every codec here:
 * - decode never reads past @p len, zeroes @p out first, returns KD_ETRUNC
 *   when @p len is shorter than the fixed structure and KD_EINVAL for NULL
 *   arguments; trailing bytes are exposed as a view (pointer + length) into
 *   the caller's buffer, valid as long as that buffer is.
 * - each struct keeps the raw bytes of its union, so an API or state this
 *   code does not know (or bytes it does not interpret, like WinDbg's junk
 *   in unused fields, §2.1) re-encode unchanged.
 * - encode writes the fixed structure then the trailing data, sets
 *   *len_out, and returns KD_EBUFS when @p cap is too small (nothing
 *   useful is written then).  Trailing data may alias the output buffer.
 */

/* --- DBGKD_GET_VERSION64 --- */

struct kd_version {
	uint16_t major_version;	  /* high byte enum kd_major_type */
	uint16_t minor_version;	  /* build number */
	uint8_t protocol_version; /* KD_PROTOCOL_VERSION */
	uint8_t secondary_version;
	uint16_t flags;	       /* KD_VERS_FLAG_* */
	uint16_t machine_type; /* KD_MACHINE_* */
	uint8_t max_packet_type;
	uint8_t max_state_change;
	uint8_t max_manipulate;
	uint8_t simulation;
	uint16_t unused;
	uint64_t kern_base;
	uint64_t ps_loaded_module_list;
	uint64_t debugger_data_list;
};

/** Decode the 40-byte structure at @p buf. */
KD_API int kd_version_decode(struct kd_version *out, const uint8_t *buf,
			     size_t len);
/** Encode into @p buf (at least KD_VERSION_SIZE bytes). */
KD_API int kd_version_encode(uint8_t *buf, size_t cap,
			     const struct kd_version *v);

/* --- DBGKD_MANIPULATE_STATE64 --- */

/* Read/Write Virtual, Physical and Control memory. */
struct kd_mem_transfer {
	uint64_t address; /* TargetBaseAddress (selector for x64 control) */
	uint32_t transfer_count;
	uint32_t actual_count; /* reply; physical requests: caching flags */
};

struct kd_context_ex {
	uint32_t offset;
	uint32_t byte_count;
	uint32_t bytes_copied;
};

struct kd_continue2 {
	uint32_t continue_status;
	uint32_t trace_flag;
	/* Both shapes decoded; encode picks one by kd_manipulate.machine. */
	struct {
		uint64_t dr7;
		uint64_t symbol_start;
		uint64_t symbol_end;
	} amd64;
	struct {
		uint32_t dr7;
		uint32_t symbol_start;
		uint32_t symbol_end;
	} x86;
};

struct kd_io_space {
	uint64_t address;
	uint32_t data_size;
	uint32_t data_value;
};

struct kd_io_space_ex {
	uint32_t data_size;
	uint32_t interface_type;
	uint32_t bus_number;
	uint32_t address_space;
	uint64_t address;
	uint32_t data_value;
};

struct kd_msr {
	uint32_t msr;
	uint32_t low;
	uint32_t high;
};

struct kd_search_memory {
	uint64_t address; /* in: start; out: FoundAddress */
	uint64_t length;
	uint32_t pattern_length;
};

struct kd_fill_memory {
	uint64_t address;
	uint32_t length;
	uint16_t flags; /* KD_FILL_VIRTUAL / KD_FILL_PHYSICAL */
	uint16_t pattern_length;
};

struct kd_query_memory {
	uint64_t address;
	uint64_t reserved;
	uint32_t address_space;
	uint32_t flags;
};

struct kd_bus_data {
	uint32_t bus_data_type;
	uint32_t bus_number;
	uint32_t slot_number;
	uint32_t offset;
	uint32_t length;
};

struct kd_manipulate {
	uint32_t api; /* enum kd_manipulate_api */
	uint16_t processor_level;
	uint16_t processor;
	uint32_t return_status; /* NTSTATUS */
	uint32_t padding;	/* bytes 12..15, kept for exact echo */
	/*
	 * Member by api: mem for Read/Write Virtual/Physical/ControlSpace;
	 * context_flags for Get/SetContext; context_ex for Get/SetContextEx;
	 * write_bp, restore_bp_handle, bp_ex, continue_status (Continue),
	 * continue2, io, io_ex, version, msr, search, fill, query, bus,
	 * partition.  Unknown apis leave the union zero.
	 */
	union {
		struct kd_mem_transfer mem;
		uint32_t context_flags;
		struct kd_context_ex context_ex;
		struct {
			uint64_t address;
			uint32_t handle;
		} write_bp;
		uint32_t restore_bp_handle;
		struct {
			uint32_t count;
			uint32_t continue_status;
		} bp_ex;
		uint32_t continue_status;
		struct kd_continue2 continue2;
		struct kd_io_space io;
		struct kd_io_space_ex io_ex;
		struct kd_version version;
		struct kd_msr msr;
		struct kd_search_memory search;
		struct kd_fill_memory fill;
		struct kd_query_memory query;
		struct kd_bus_data bus;
		uint32_t partition;
	} u;
	uint8_t raw[KD_MANIP_UNION_SIZE]; /* union bytes as received */
	/* Continue2 shape for encode: KD_MACHINE_I386 = x86, else x64. */
	uint16_t machine;
	const uint8_t *data; /* bytes after the 56-byte structure */
	size_t data_len;
};

/**
 * Decode a KD_STATE_MANIPULATE payload.  Unknown api numbers decode the
 * common header and return KD_OK with @c u zero, so a target can answer
 * STATUS_NOT_IMPLEMENTED.
 * @return KD_OK, KD_ETRUNC (< 56 bytes), KD_EINVAL.
 */
KD_API int kd_manipulate_decode(struct kd_manipulate *out,
				const uint8_t *payload, size_t len);

/**
 * Encode @p m followed by @p data_len bytes of @p data.  The union bytes
 * start from m->raw and the fields of m->api's member are written over them.
 * @return KD_OK, KD_EBUFS, KD_EINVAL.
 */
KD_API int kd_manipulate_encode(uint8_t *out, size_t cap, size_t *len_out,
				const struct kd_manipulate *m, const void *data,
				size_t data_len);

/* --- DBGKD_ANY_WAIT_STATE_CHANGE --- */

struct kd_exception_record {
	uint32_t code;
	uint32_t flags;
	uint64_t record; /* chained record address */
	uint64_t address;
	uint32_t number_parameters; /* as sent; may exceed 15 on bad input */
	uint64_t information[KD_EXCEPTION_MAXIMUM_PARAMETERS];
};

struct kd_control_report_amd64 {
	uint64_t dr6;
	uint64_t dr7;
	uint32_t eflags;
	uint16_t instruction_count; /* as sent; valid stream bytes = min(16) */
	uint16_t report_flags;	    /* KD_REPORT_* */
	uint8_t instruction_stream[KD_MAXSTREAM];
	uint16_t seg_cs, seg_ds, seg_es, seg_fs;
};

struct kd_control_report_x86 {
	uint32_t dr6;
	uint32_t dr7;
	uint16_t instruction_count;
	uint16_t report_flags;
	uint8_t instruction_stream[KD_MAXSTREAM];
	uint16_t seg_cs, seg_ds, seg_es, seg_fs;
	uint32_t eflags;
};

struct kd_state_change {
	uint32_t new_state; /* KD_STATE_*, maybe | KD_STATE_ALTERNATE */
	uint16_t processor_level;
	uint16_t processor;
	uint32_t number_processors;
	uint32_t padding;
	uint64_t thread;
	uint64_t program_counter;
	union {
		struct {
			struct kd_exception_record record;
			uint32_t first_chance;
		} exception;
		struct {
			uint32_t path_name_length; /* includes the NUL */
			uint64_t base_of_dll;
			uint64_t process_id;
			uint32_t checksum;
			uint32_t size_of_image;
			uint8_t unload_symbols;
			/* decode: path in the extra data, NUL excluded */
			const uint8_t *path;
			size_t path_len;
		} load_symbols;
		struct {
			uint32_t flags;
			uint32_t reserved1;
			uint64_t reserved2[7];
			/* decode: the two NUL-terminated extra strings */
			const uint8_t *name;
			size_t name_len;
			const uint8_t *command;
			size_t command_len;
		} command_string;
	} u;
	uint8_t raw[KD_SC_UNION_SIZE];
	/* The first state change comes before GetVersion, so both shapes are
	 * decoded from the 48 control bytes; encode uses @c machine. */
	struct kd_control_report_amd64 amd64;
	struct kd_control_report_x86 x86;
	uint8_t raw_control[KD_SC_CONTROL_SIZE];
	uint16_t machine;     /* encode: KD_MACHINE_I386 = x86 shape */
	const uint8_t *extra; /* bytes after 240 */
	size_t extra_len;
};

/** Valid instruction-stream bytes of a report: min(count, 16). */
static inline size_t kd_report_stream_len(uint16_t instruction_count)
{
	return instruction_count < KD_MAXSTREAM ? instruction_count :
						  KD_MAXSTREAM;
}

/** Decode a KD_STATE_CHANGE64 payload (240 bytes + extra data). */
KD_API int kd_state_change_decode(struct kd_state_change *out,
				  const uint8_t *payload, size_t len);
/** Encode @p sc followed by @p extra. */
KD_API int kd_state_change_encode(uint8_t *out, size_t cap, size_t *len_out,
				  const struct kd_state_change *sc,
				  const void *extra, size_t extra_len);

/* --- DBGKD_DEBUG_IO --- */

struct kd_debug_io {
	uint32_t api; /* KD_DEBUG_IO_* */
	uint16_t processor_level;
	uint16_t processor;
	uint32_t length;      /* LengthOfString / LengthOfPromptString */
	uint32_t read_length; /* GetString: LengthOfStringRead */
	const uint8_t *text;  /* bytes after the header; not NUL-terminated */
	size_t text_len;      /* trust this, not @c length */
};

KD_API int kd_debug_io_decode(struct kd_debug_io *out, const uint8_t *payload,
			      size_t len);
KD_API int kd_debug_io_encode(uint8_t *out, size_t cap, size_t *len_out,
			      const struct kd_debug_io *io, const void *text,
			      size_t text_len);

/* --- DBGKD_FILE_IO --- */

struct kd_file_io {
	uint32_t api;	 /* KD_FILE_IO_* */
	uint32_t status; /* NTSTATUS, host reply */
	union {
		struct {
			uint32_t desired_access;
			uint32_t file_attributes;
			uint32_t share_access;
			uint32_t create_disposition;
			uint32_t create_options;
			uint64_t handle; /* out */
			uint64_t length; /* out: file size */
		} create;
		struct {
			uint64_t handle;
			uint64_t offset;
			uint32_t length;
		} rw; /* ReadFile / WriteFile */
		struct {
			uint64_t handle;
		} close;
	} u;
	uint8_t raw[KD_FILE_IO_SIZE - KD_FILE_IO_OFF_UNION];
	const uint8_t *data; /* CreateFile: UTF-16LE name; Read/Write: bytes */
	size_t data_len;
};

KD_API int kd_file_io_decode(struct kd_file_io *out, const uint8_t *payload,
			     size_t len);
KD_API int kd_file_io_encode(uint8_t *out, size_t cap, size_t *len_out,
			     const struct kd_file_io *io, const void *data,
			     size_t data_len);

/* --- DBGKD_TRACE_IO --- */

struct kd_trace_io {
	uint32_t api; /* KD_TRACE_IO_PRINT_TRACE */
	uint16_t processor_level;
	uint16_t processor;
	uint32_t length_of_data;
	uint8_t raw[KD_TRACE_IO_SIZE - 8];
	const uint8_t *data;
	size_t data_len;
};

KD_API int kd_trace_io_decode(struct kd_trace_io *out, const uint8_t *payload,
			      size_t len);
KD_API int kd_trace_io_encode(uint8_t *out, size_t cap, size_t *len_out,
			      const struct kd_trace_io *io, const void *data,
			      size_t data_len);

/* --- DBGKD_CONTROL_REQUEST --- */

struct kd_control_request {
	uint32_t api; /* KD_CONTROL_* */
	uint32_t breakpoint_number;
	uint32_t result; /* Available / Released */
};

KD_API int kd_control_request_decode(struct kd_control_request *out,
				     const uint8_t *payload, size_t len);
KD_API int kd_control_request_encode(uint8_t *out, size_t cap, size_t *len_out,
				     const struct kd_control_request *req);

/* --- x64 CONTEXT registers (on a KD_AMD64_CONTEXT_SIZE buffer) --- */

enum kd_amd64_reg {
	KD_AMD64_RAX,
	KD_AMD64_RCX,
	KD_AMD64_RDX,
	KD_AMD64_RBX,
	KD_AMD64_RSP,
	KD_AMD64_RBP,
	KD_AMD64_RSI,
	KD_AMD64_RDI,
	KD_AMD64_R8,
	KD_AMD64_R9,
	KD_AMD64_R10,
	KD_AMD64_R11,
	KD_AMD64_R12,
	KD_AMD64_R13,
	KD_AMD64_R14,
	KD_AMD64_R15,
	KD_AMD64_RIP,
	KD_AMD64_EFLAGS,
	KD_AMD64_CS,
	KD_AMD64_DS,
	KD_AMD64_ES,
	KD_AMD64_FS,
	KD_AMD64_GS,
	KD_AMD64_SS,
	KD_AMD64_DR0,
	KD_AMD64_DR1,
	KD_AMD64_DR2,
	KD_AMD64_DR3,
	KD_AMD64_DR6,
	KD_AMD64_DR7,
	KD_AMD64_MXCSR,
	KD_AMD64_CONTEXT_FLAGS,
	KD_AMD64_REG_COUNT
};

/** Lower-case register name ("rax", "efl"...) or NULL if out of range. */
KD_API const char *kd_amd64_reg_name(int reg);
/** Register index for a name (case-insensitive; "eflags" and "efl" both
 *  work), or KD_ENOTFOUND. */
KD_API int kd_amd64_reg_lookup(const char *name);
/** Offset and width (2, 4 or 8) of @p reg in the CONTEXT; KD_EINVAL. */
KD_API int kd_amd64_reg_layout(int reg, size_t *offset, size_t *width);
/** Read @p reg from @p ctx.  KD_ETRUNC if @p len < KD_AMD64_CONTEXT_SIZE. */
KD_API int kd_amd64_context_get(const uint8_t *ctx, size_t len, int reg,
				uint64_t *value);
/** Write @p reg; KD_EOVERFLOW if @p value does not fit its width. */
KD_API int kd_amd64_context_set(uint8_t *ctx, size_t len, int reg,
				uint64_t value);

/* --- x64 KSPECIAL_REGISTERS (control space selector 2) --- */

struct kd_amd64_kspecial {
	uint64_t cr0, cr2, cr3, cr4;
	uint64_t kernel_dr0, kernel_dr1, kernel_dr2, kernel_dr3;
	uint64_t kernel_dr6, kernel_dr7;
	uint16_t gdtr_limit;
	uint64_t gdtr_base;
	uint16_t idtr_limit;
	uint64_t idtr_base;
	uint16_t tr, ldtr;
	uint32_t mxcsr;
	uint64_t debug_control;
	uint64_t last_branch_to_rip, last_branch_from_rip;
	uint64_t last_exception_to_rip, last_exception_from_rip;
	uint64_t cr8;
	uint64_t msr_gs_base, msr_gs_swap, msr_star, msr_lstar, msr_cstar;
	uint64_t msr_syscall_mask;
	uint64_t xcr0;
	bool has_xcr0; /* decode: len >= 0xE0; encode: write 0xE0 bytes */
};

/** Decode; needs at least KD_AMD64_KSPECIAL_SIZE_OLD (0xD8) bytes. */
KD_API int kd_amd64_kspecial_decode(struct kd_amd64_kspecial *out,
				    const uint8_t *buf, size_t len);
/** Encode 0xD8 or 0xE0 bytes (has_xcr0). Bytes not modelled (descriptor
 *  padding) are written as zero. */
KD_API int kd_amd64_kspecial_encode(uint8_t *buf, size_t cap, size_t *len_out,
				    const struct kd_amd64_kspecial *ks);

/* --- KDDEBUGGER_DATA64 --- */

struct kd_debugger_data {
	uint64_t flink, blink;
	uint32_t owner_tag; /* KD_KDBG_TAG */
	uint32_t size;	    /* Header.Size */
	size_t valid_len;   /* min(size, len): fields past it stay zero */
	uint64_t kern_base;
	uint64_t breakpoint_with_status;
	uint64_t saved_context;
	uint16_t pae_enabled; /* raw bit field word at 0x36 */
	uint64_t ps_loaded_module_list;
	uint64_t ps_active_process_head;
	uint64_t psp_cid_table;
	uint64_t obp_root_directory_object;
	uint64_t mm_pfn_database;
	uint64_t mm_page_size;
	uint64_t mm_highest_user_address;
	uint64_t mm_system_range_start;
	uint64_t kd_print_circular_buffer;
	uint64_t nt_build_lab;
	uint64_t ki_processor_block;
	uint64_t cm_nt_csd_version;
	uint64_t mm_physical_memory_block;
	uint16_t size_eprocess;
	uint16_t offset_eprocess_peb;
	uint16_t offset_eprocess_directory_table_base;
	uint16_t offset_prcb_current_thread;
	uint16_t offset_prcb_proc_state_context;
	uint64_t kd_print_circular_buffer_ptr;
	uint64_t kd_print_buffer_size;
	uint64_t ke_loader_block;
	uint16_t offset_prcb_proc_state_special_reg;
	uint64_t pte_base;
};

/**
 * Decode a KDDEBUGGER_DATA64 block read from target memory.  Every field is
 * bounded by min(Header.Size, len).
 * @return KD_OK, KD_ETRUNC (< 0x18 bytes), KD_EPROTO (tag is not 'KDBG' or
 *         Size smaller than the header: e.g. an encoded block), KD_EINVAL.
 */
KD_API int kd_debugger_data_decode(struct kd_debugger_data *out,
				   const uint8_t *buf, size_t len);

KD_END_DECLS

#endif /* KD_PROTO_MANIPULATE_H */
