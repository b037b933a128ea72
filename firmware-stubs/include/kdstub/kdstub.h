/* SPDX-License-Identifier: MIT */
/*
 * kdstub: the target side of the Windows kernel-debugging protocol for
 * firmware and simulators.  Freestanding C11, no heap, built on kdproto;
 * one byte or packet I/O driver (shaped like kgdb_io) and one platform ops
 * struct for memory, registers and execution control.
 */
#ifndef KDSTUB_KDSTUB_H
#define KDSTUB_KDSTUB_H

#include <kd/common.h>
#include <kd/proto/ids.h>
#include <kd/proto/manipulate.h>
#include <kd/proto/packet.h>
#include <kd/proto/stream.h>
#include <kd/proto/wire.h>
#include <kdstub/config.h>

KD_BEGIN_DECLS

/* A second I/O driver registration (style.md §3.5). */
#define KDSTUB_EBUSY KD_EBUSY

/*
 * struct kdstub_io - the one I/O driver of the stub.
 *
 * Byte carriers (serial, pipe, TCP): set getc and putc.  The stub speaks
 * KDCOM: leaders, 0xAA trailer, ids 0x80800000/1 with the SYNC bit, the
 * 0x62 break-in byte.
 *
 * Datagram carriers (KDNET after its handshake and decryption): set
 * send_packet and recv_packet instead; getc/putc are then ignored.  One
 * call moves one whole KD packet (header + payload, no trailer); the stub
 * uses KDNET ids (target 0, 2, 4...), and a 1-byte packet 0x62 is a
 * break-in (kd-protocol.md §3.5).  The KDNET OFFER handshake and the
 * 12-byte ping belong to the carrier, not to the stub.
 *
 * Every function runs with the target stopped (or from the poll path) and
 * must not block for long: the stub polls.
 *
 * @name:        driver name, for messages.
 * @init:        optional; called by kdstub_init(); non-zero fails init.
 * @getc:        next received byte, or -1 when nothing is waiting.
 * @putc:        send one byte.
 * @flush:       optional; push out bytes buffered by putc.
 * @pre_stop:    optional; called when the target enters the debugger.
 * @post_stop:   optional; called just before the target resumes.
 * @send_packet: datagram mode; send one KD packet; 0 or negative KD_E*.
 * @recv_packet: datagram mode; poll for one KD packet: 0 and *len set when
 *               one was copied into buf (truncated packets are dropped by
 *               the driver), KD_EAGAIN when nothing is waiting, another
 *               negative KD_E* on failure.
 * @now_ms:      optional monotonic clock; without it timeouts count polls.
 */
struct kdstub_io {
	const char *name;
	int (*init)(void);
	int (*getc)(void);
	void (*putc)(uint8_t byte);
	void (*flush)(void);
	void (*pre_stop)(void);
	void (*post_stop)(void);
	int (*send_packet)(const uint8_t *pkt, size_t len);
	int (*recv_packet)(uint8_t *buf, size_t cap, size_t *len);
	uint64_t (*now_ms)(void);
};

/*
 * struct kdstub_platform_ops - what the machine under debug provides.
 *
 * Every function gets the @ctx pointer given to kdstub_init().  Return 0 on
 * success or a negative KD_E* code; the stub turns failures into the
 * NTSTATUS Windows gives.  Memory accessors must not fault the target: an
 * unreadable byte ends the transfer (partial transfers report *done).
 * Mandatory members are marked; the stub checks optional ones for NULL and
 * answers STATUS_UNSUCCESSFUL (or STATUS_NOT_IMPLEMENTED) without them.
 *
 * Breakpoints: the stub keeps the breakpoint table itself and patches the
 * 0xCC byte through write_virtual (in the address space of the processor
 * that asked), keeping the original byte; icache_flush, when given, is
 * called after each patch.  The platform reports a hit with
 * kdstub_report_exception(STATUS_BREAKPOINT) with the CONTEXT's Rip at the
 * 0xCC byte (Windows' convention: rewind past an int3).
 */
struct kdstub_platform_ops {
	/* Mandatory: 1..KDSTUB_MAX_PROCESSORS. */
	uint32_t (*processor_count)(void *ctx);

	/* Mandatory: virtual memory in @proc's address space. */
	int (*read_virtual)(void *ctx, uint16_t proc, uint64_t addr, void *buf,
			    uint32_t len, uint32_t *done);
	int (*write_virtual)(void *ctx, uint16_t proc, uint64_t addr,
			     const void *buf, uint32_t len, uint32_t *done);

	/* Optional: physical memory; @caching is KD_PHYS_* (a hint). */
	int (*read_physical)(void *ctx, uint64_t addr, void *buf, uint32_t len,
			     uint32_t caching, uint32_t *done);
	int (*write_physical)(void *ctx, uint64_t addr, const void *buf,
			      uint32_t len, uint32_t caching, uint32_t *done);

	/* Mandatory: the 1232-byte x64 CONTEXT of processor @proc. */
	int (*get_context)(void *ctx, uint16_t proc,
			   uint8_t context[KDSTUB_CONTEXT_SIZE]);
	int (*set_context)(void *ctx, uint16_t proc,
			   const uint8_t context[KDSTUB_CONTEXT_SIZE]);

	/* Optional: KSPECIAL_REGISTERS (0xE0 bytes, §2.11 layout). */
	int (*get_kspecial)(void *ctx, uint16_t proc,
			    uint8_t regs[KDSTUB_KSPECIAL_SIZE]);
	int (*set_kspecial)(void *ctx, uint16_t proc,
			    const uint8_t regs[KDSTUB_KSPECIAL_SIZE]);

	/*
	 * Optional: the address behind control-space selector @selector
	 * (KD_AMD64_CS_PCR, _PRCB or _THREAD) of @proc.
	 */
	int (*control_address)(void *ctx, uint16_t proc, unsigned selector,
			       uint64_t *addr);

	/* Optional: port I/O, @size 1, 2 or 4 (alignment already checked). */
	int (*io_read)(void *ctx, uint64_t port, unsigned size,
		       uint32_t *value);
	int (*io_write)(void *ctx, uint64_t port, unsigned size,
			uint32_t value);

	/* Optional: MSRs of @proc; failure answers STATUS_NO_SUCH_DEVICE. */
	int (*msr_read)(void *ctx, uint16_t proc, uint32_t msr,
			uint64_t *value);
	int (*msr_write)(void *ctx, uint16_t proc, uint32_t msr,
			 uint64_t value);

	/* Optional: called after the stub patched code bytes. */
	void (*icache_flush)(void *ctx, uint64_t addr, uint32_t len);

	/*
	 * Mandatory: execution control applied when the host continues.
	 * set_single_step: trace flag for @proc (the continuing CPU).
	 * set_dr7: called for every processor with Continue2's Dr7 (the
	 * platform also clears that CPU's KernelDr6).
	 */
	int (*set_single_step)(void *ctx, uint16_t proc, bool enable);
	int (*set_dr7)(void *ctx, uint16_t proc, uint64_t dr7);

	/*
	 * Optional: QueryMemory.  Fill *space (KD_QUERY_SPACE_*) and *flags
	 * (KD_QUERY_FLAG_*); KD_ENOTFOUND for an unmapped address.  Without
	 * it the stub answers from the address (kernel half or not) and a
	 * one-byte read probe.
	 */
	int (*query_memory)(void *ctx, uint16_t proc, uint64_t addr,
			    uint32_t *space, uint32_t *flags);

	/*
	 * Optional: Reboot and CauseBugCheck.  Called from inside the
	 * debugger loop; they must not re-enter the stub.  A simulator
	 * records the request and acts after kdstub_report_*() returns
	 * KDSTUB_RESUME_REBOOT / _BUGCHECK; real firmware may not return.
	 */
	void (*reboot)(void *ctx);
	void (*bugcheck)(void *ctx, uint16_t proc, uint32_t code,
			 const uint64_t params[4]);

	/*
	 * Mandatory: GetVersion.  @v arrives filled with the stub's defaults
	 * (protocol 6, AMD64, secondary 2, MaxPacketType 12, MaxStateChange 3,
	 * MaxManipulate 0x31, Flags MP|PTR64); the platform sets at least
	 * minor_version (build), kern_base, ps_loaded_module_list,
	 * debugger_data_list (then also KD_VERS_FLAG_DATA) and may change
	 * anything else.
	 */
	void (*get_version)(void *ctx, struct kd_version *v);
};

/* Why kdstub_report_*() returned. */
enum kdstub_resume_kind {
	KDSTUB_RESUME_CONTINUE = 0, /* Continue/Continue2: run again */
	/*
	 * SwitchProcessor: stop this CPU and call kdstub_report_switch() on
	 * processor @processor; it reports STATUS_WAKE_SYSTEM_DEBUGGER.
	 */
	KDSTUB_RESUME_SWITCH,
	KDSTUB_RESUME_REBOOT,	/* Reboot: ops->reboot() returned */
	KDSTUB_RESUME_BUGCHECK, /* CauseBugCheck: bug-check 0xE2 now */
	/* A losable report (LoadSymbols) went unacknowledged: no debugger. */
	KDSTUB_RESUME_LOST,
};

struct kdstub_resume {
	enum kdstub_resume_kind kind;
	uint32_t continue_status; /* ContinueStatus the host sent */
	uint16_t processor;	  /* SWITCH: the CPU to report from */
	bool trace;		  /* Continue2 trace flag (already applied) */
	bool dr7_set;		  /* Continue2 carried Dr7 (already applied) */
	uint64_t dr7;
};

/* A module load or unload to report (DBGKD_LOAD_SYMBOLS64). */
struct kdstub_load_symbols {
	uint64_t base_of_dll;
	uint64_t process_id; /* (uint64_t)-1 for boot images */
	uint32_t checksum;
	uint32_t size_of_image;
	bool unload;
	const char *path; /* ANSI, need not be NUL-terminated */
	size_t path_len;  /* bytes of @path without a NUL */
};

struct kdstub_stats {
	uint32_t packets_sent;	   /* data packets, first transmissions */
	uint32_t retransmissions;  /* resends after RESEND or timeout */
	uint32_t packets_received; /* valid data packets accepted */
	uint32_t duplicates;	   /* data packets ACKed but discarded */
	uint32_t bad_packets;	   /* answered with RESEND */
	uint32_t resets_received;
	uint32_t give_ups;	     /* losable packets dropped (§1.10) */
	uint32_t requests;	     /* manipulate requests handled */
	uint32_t unknown_requests;   /* answered STATUS_NOT_IMPLEMENTED */
	uint32_t malformed_requests; /* too short or inconsistent */
	uint32_t breakins;
};

struct kdstub_breakpoint {
	uint64_t address;
	uint16_t processor; /* whose address space it was written in */
	uint8_t original;   /* byte under the 0xCC */
	bool used;
};

/*
 * The whole stub state: caller-provided (static) storage, no heap.  Treat
 * it as opaque except for the documented tunables and the statistics.
 */
struct kdstub {
	const struct kdstub_io *io;
	const struct kdstub_platform_ops *ops;
	void *ctx;
	bool packet_mode;      /* io has send_packet/recv_packet */
	bool debugger_present; /* cleared when a losable send gave up */
	bool breakin_pending;  /* 0x62 seen, not yet reported */
	bool context_fetched;  /* a GetContext(Ex) happened in this stop */
	bool in_debugger;
	uint16_t cur_proc;	 /* the CPU that reported this stop */
	uint32_t ack_timeout_ms; /* tunable; KDSTUB_ACK_TIMEOUT_MS */
	long poll_limit;	 /* tunable; KDSTUB_POLL_LIMIT */
	uint32_t retries;	 /* tunable; KDSTUB_RETRIES */
	uint64_t search_max;	 /* tunable; KDSTUB_SEARCH_MAX */
	struct kd_ids ids;
	struct kd_stream stream;
	struct kdstub_stats stats;
	struct kdstub_breakpoint bps[KDSTUB_MAX_BREAKPOINTS];
	uint32_t retries_left; /* refilled only by an ACK (§1.10) */
	int held;	       /* byte to feed the parser again, or -1 */
	uint64_t rx_mark_ms;   /* when the last byte of a packet arrived */
	long rx_idle;	       /* empty polls since then */
	/* Last data packet sent, for retransmission (header+payload+0xAA). */
	uint8_t tx[KD_PACKET_HEADER_SIZE + KDSTUB_MAX_SEND + 1];
	size_t tx_len;
	/* The received packet being handled: header, then header+payload. */
	struct kd_packet_header rx_hdr;
	uint8_t rx[KD_PACKET_HEADER_SIZE + KDSTUB_MAX_RECV];
	/* Last accepted data packet, to tell a desynced host's new packet
	 * from a true duplicate (same id, same bytes). */
	uint16_t last_rx_type;
	uint16_t last_rx_count;
	uint32_t last_rx_sum;
	/* The report of the current stop, re-sent on RESET/RESEND/break-in. */
	uint8_t report[KDSTUB_MAX_SEND];
	size_t report_len;
	uint16_t report_type;
	/* Payload under construction and scratch for the dispatcher. */
	uint8_t out[KDSTUB_MAX_SEND];
	uint8_t scratch[KDSTUB_CONTEXT_SIZE];
};

/**
 * Set up @s with one I/O driver and the platform.  Calls io->init.  The
 * first packet sent carries the SYNC bit (KDCOM).
 * @return 0; KD_EINVAL for a missing mandatory member or a driver with
 *         neither getc/putc nor send_packet/recv_packet; the init error.
 */
KD_API int kdstub_init(struct kdstub *s, const struct kdstub_io *io,
		       const struct kdstub_platform_ops *ops, void *ctx);

/**
 * Register @io as the driver of @s (kdstub_init does it).
 * @return 0; KDSTUB_EBUSY when another driver is registered.
 */
KD_API int kdstub_register_io(struct kdstub *s, const struct kdstub_io *io);
/** Unregister @io; KD_EINVAL when it is not the current driver. */
KD_API int kdstub_unregister_io(struct kdstub *s, const struct kdstub_io *io);

/**
 * Report an exception on processor @proc and run the debugger loop until
 * the host continues (or switches processor, reboots, bug-checks).  The
 * trace flag and Dr7 of a Continue2 are applied through the ops before
 * returning.  Exception reports are retried forever (§1.10).
 *
 * Stack: under 1.5 KiB on x86-64 (gcc -O2 -fstack-usage: the deepest
 * chain is report_switch 208 + report_exception 576 + dispatch 320 +
 * link_send 160 plus kdproto leaf codecs) plus the ops' own use; no
 * recursion.
 * @return 0 with @out filled; KD_EINVAL for a bad argument.
 */
KD_API int kdstub_report_exception(struct kdstub *s, uint16_t proc,
				   const struct kd_exception_record *rec,
				   bool first_chance,
				   struct kdstub_resume *out);

/** After KDSTUB_RESUME_SWITCH: report STATUS_WAKE_SYSTEM_DEBUGGER from
 *  @proc (at its current Rip) and run the loop again. */
KD_API int kdstub_report_switch(struct kdstub *s, uint16_t proc,
				struct kdstub_resume *out);

/**
 * Report a module load/unload and run the debugger loop until continued.
 * Losable: when the host does not acknowledge within the retry budget the
 * stub declares the debugger absent and returns KDSTUB_RESUME_LOST.
 */
KD_API int kdstub_report_load_symbols(struct kdstub *s, uint16_t proc,
				      const struct kdstub_load_symbols *ls,
				      struct kdstub_resume *out);

/**
 * DbgPrint: send @len bytes (truncated to fit one packet) as PrintString.
 * @return 0 when acknowledged; KD_ETIMEOUT when dropped (no debugger).
 */
KD_API int kdstub_print(struct kdstub *s, uint16_t proc, const char *text,
			size_t len);

/**
 * DbgPrompt: send @prompt as GetString and wait (forever) for the host's
 * answer; copies min(answer, @cap) bytes to @buf and sets *len.
 * @return 0; KD_EINVAL for a bad argument.
 */
KD_API int kdstub_prompt(struct kdstub *s, uint16_t proc, const char *prompt,
			 size_t prompt_len, char *buf, size_t cap, size_t *len);

/**
 * Call while the target runs: drains the carrier and returns true once a
 * break-in (0x62 byte or KDNET break-in packet) arrived; the caller then
 * reports STATUS_BREAKPOINT.  The pending flag is cleared by the report.
 */
KD_API bool kdstub_poll_breakin(struct kdstub *s);

/**
 * Handle one KD_STATE_MANIPULATE request payload without any I/O: decode,
 * dispatch to the ops, build the reply in s->out.  Used by the debugger
 * loop and by the fuzz target.
 *
 * @param reply_len  out: reply payload bytes in s->out; 0 = no reply.
 * @param resume     out: set when the request ends the stop.
 * @return KDSTUB_DISPATCH_NEXT (0) when the loop goes on,
 *         KDSTUB_DISPATCH_RESUME when the request ends the stop (Continue,
 *         Continue2, SwitchProcessor to another CPU, Reboot,
 *         CauseBugCheck), KDSTUB_DISPATCH_RESEND when the stop's report
 *         must be sent again (SwitchProcessor to the current CPU).
 */
enum kdstub_dispatch_result {
	KDSTUB_DISPATCH_NEXT = 0,
	KDSTUB_DISPATCH_RESUME = 1,
	KDSTUB_DISPATCH_RESEND = 2,
};

KD_API int kdstub_dispatch(struct kdstub *s, const uint8_t *req, size_t len,
			   size_t *reply_len, struct kdstub_resume *resume);

/** Handle of the breakpoint at @addr, or 0; for platforms and tests. */
KD_API uint32_t kdstub_breakpoint_at(const struct kdstub *s, uint64_t addr);

/**
 * Consistency check of the stub's state for tests and the fuzz target.
 * @return 0, or KD_EPROTO when an invariant is broken.
 */
KD_API int kdstub_check_invariants(const struct kdstub *s);

KD_END_DECLS

#endif /* KDSTUB_KDSTUB_H */
