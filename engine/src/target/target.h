/* SPDX-License-Identifier: MIT */
/*
 * The target contract: what a debugger target (a live KD connection, a
 * crash dump, later a user-mode process) gives the engine, and the one way
 * to open one.
 *
 * Everything above the targets reaches a target only through its ops
 * (s->target->ops) and the capability bits; no file outside a target's own
 * files calls into it or casts a struct kd_target to its implementation.
 *
 * Common rules for every member, unless its comment says otherwise:
 *  - Called with the target stopped, from the thread that runs commands
 *    (the session is not thread-safe); never after close().
 *  - Return KD_OK (0) or a negative KD_E* code; a member the target does
 *    not have is NULL and its capability bit is clear.  KD_ENOTSUP: the
 *    target has the member but not this use of it.  KD_ETIMEOUT / KD_EIO:
 *    the target did not answer (a live link); the caller reports it
 *    (kd_target_failed()).
 *  - Buffers are the caller's: the target writes at most the length it is
 *    given and keeps no pointer to them after the call returns.
 *  - Partial reads: KD_OK with *done < len when readable memory ends;
 *    a negative code when nothing could be read at all.
 */
#ifndef KD_TARGET_H
#define KD_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kd/proto.h>

struct kd_session;
struct kd_target;
struct kd_link;
struct kd_module;

enum kd_event_kind {
	KD_EV_NONE = 0,
	KD_EV_EXCEPTION, /* breakpoint, single step, fault, break-in */
	KD_EV_LOAD,	 /* module loaded (LoadSymbols) */
	KD_EV_UNLOAD,
	KD_EV_COMMAND, /* CommandString state change */
};

/* A stop of the target, as the target reported it. */
struct kd_event {
	enum kd_event_kind kind;
	unsigned int cpu;
	unsigned int ncpus;
	uint64_t thread;
	uint64_t pc;
	uint32_t code;	      /* exception code (NTSTATUS) */
	uint32_t exc_flags;   /* the record's ExceptionFlags */
	uint64_t exc_address; /* the record's ExceptionAddress */
	bool first_chance;
	unsigned int nparams;
	uint64_t params[KD_EXCEPTION_MAXIMUM_PARAMETERS];
	uint64_t dr6, dr7;
	uint32_t eflags;
	uint8_t stream[16]; /* instruction bytes at pc */
	unsigned int stream_len;
	uint64_t mod_base; /* KD_EV_LOAD / KD_EV_UNLOAD */
	uint32_t mod_size;
	char path[260];
};

/* How to resume. */
struct kd_resume {
	uint32_t status; /* DBG_CONTINUE (0x10002) or exception not handled */
	bool trace;	 /* single step the current processor */
	uint64_t dr7;	 /* debug control to load on every processor */
};

/*
 * What a target can do, as bits of kd_target_ops.caps.  Commands ask these
 * (kd_target_has(), kd_target_require()) instead of asking which target it
 * is.  A bit set promises the members named beside it are non-NULL.
 */
enum kd_target_cap {
	KD_TCAP_RUN = 1u << 0,		  /* resume, wait, break_in: g, p, t */
	KD_TCAP_WRITE_MEMORY = 1u << 1,	  /* write_virtual (and _physical) */
	KD_TCAP_WRITE_REGS = 1u << 2,	  /* set_context */
	KD_TCAP_BREAKPOINTS = 1u << 3,	  /* insert_bp, remove_bp */
	KD_TCAP_HW_BREAKPOINTS = 1u << 4, /* debug registers through resume */
	KD_TCAP_MSR = 1u << 5,		  /* read_msr, write_msr */
	KD_TCAP_REBOOT = 1u << 6,	  /* reboot */
	KD_TCAP_CRASH = 1u << 7,	  /* crash */
	KD_TCAP_SWITCH_CPU = 1u << 8,	  /* switch_cpu */
	KD_TCAP_PHYSICAL = 1u << 9,	  /* read_physical */
	KD_TCAP_CONTROL = 1u << 10,	  /* read_control */
	KD_TCAP_LINK = 1u << 11,	  /* link: .kdlink, .endpsrv */
	/* The state can be saved with .dump (a dump of a dump is refused). */
	KD_TCAP_SAVE_DUMP = 1u << 12,
};

/*
 * What identify() reports: who the target is.  Filled once at open and
 * again after the target restarted; the session keeps it in s->tgt.
 */
struct kd_target_id {
	/* DBGKD_GET_VERSION64 (a dump rebuilds it from its header). */
	struct kd_version version;
	/* IMAGE_FILE_MACHINE_* (0x8664 AMD64, 0x14c I386, 0xaa64 ARM64). */
	uint32_t machine;
	/* Processors; 0 when each stop reports it (a live target). */
	unsigned int ncpus;
	/* The processor that stopped (a dump: the one that bug checked). */
	unsigned int crash_cpu;
	/* The target's own debugger data block, decoded, when it carries
	 * one (a dump: KdDebuggerDataBlock); else the engine finds it
	 * through version.debugger_data_list. */
	bool have_kdbg;
	uint64_t kdbg_addr;
	struct kd_debugger_data kdbg;
	/* Bug check of a crashed system (0: none known). */
	uint32_t bugcheck_code;
	uint64_t bugcheck_params[4];
	/* A snapshot: the state is from system_time (FILETIME, 0 unknown)
	 * after system_uptime (100 ns units, 0 unknown), not "now". */
	bool snapshot;
	bool checked_build;
	uint64_t system_time;
	uint64_t system_uptime;
	/* Directory table base the snapshot was taken with (0 unknown). */
	uint64_t dtb;
};

/* The ops version a target is built against; checked at open. */
#define KD_TARGET_OPS_VERSION 2u

/*
 * A target implementation.  Addresses are target virtual addresses on
 * processor @p cpu (kernel space is shared, so cpu mostly matters for
 * control space and contexts).  Unsupported operations are NULL.
 */
struct kd_target_ops {
	/* KD_TARGET_OPS_VERSION: kd_target_open() refuses any other, so a
	 * target built against an older contract cannot be half-used. */
	unsigned int version;
	const char *name; /* "live", "dump" */
	uint32_t caps;	  /* KD_TCAP_* */
	/* Reads are as cheap as a copy (a mapped dump): no memory cache. */
	bool uncached;
	/* What "Cannot <do> <noun>" calls it ("an image file target");
	 * NULL: "a crash dump target". */
	const char *noun;

	/* Required.  Who the target is (struct kd_target_id), asked of
	 * processor @p cpu; fills all of *id (zeroes what it does not
	 * know).  May talk to the target (GetVersion): KD_ETIMEOUT... */
	int (*identify)(struct kd_target *t, unsigned cpu,
			struct kd_target_id *id);
	/* Required.  Virtual memory; see the partial-read rule above. */
	int (*read_virtual)(struct kd_target *t, unsigned cpu, uint64_t va,
			    void *buf, size_t len, size_t *done);
	/* KD_TCAP_WRITE_MEMORY.  *done bytes were written. */
	int (*write_virtual)(struct kd_target *t, unsigned cpu, uint64_t va,
			     const void *buf, size_t len, size_t *done);
	/* KD_TCAP_PHYSICAL.  Physical memory, same rules. */
	int (*read_physical)(struct kd_target *t, uint64_t pa, void *buf,
			     size_t len, size_t *done);
	/* KD_TCAP_WRITE_MEMORY with KD_TCAP_PHYSICAL. */
	int (*write_physical)(struct kd_target *t, uint64_t pa, const void *buf,
			      size_t len, size_t *done);
	/* KD_TCAP_CONTROL.  x64 control space: 0 KPCR, 1 KPRCB,
	 * 2 KSPECIAL_REGISTERS, 3 thread. */
	int (*read_control)(struct kd_target *t, unsigned cpu, uint64_t sel,
			    void *buf, size_t len, size_t *done);
	int (*write_control)(struct kd_target *t, unsigned cpu, uint64_t sel,
			     const void *buf, size_t len, size_t *done);
	/* Required.  The full x64 CONTEXT (KD_AMD64_CONTEXT_SIZE bytes into
	 * the caller's @p ctx). */
	int (*get_context)(struct kd_target *t, unsigned cpu, uint8_t *ctx);
	/* The machine's own CONTEXT (x86 0x2CC, ARM64 0x390 bytes) when
	 * session->machine is not x64; *len = its size, at most @p cap. */
	int (*get_native_context)(struct kd_target *t, unsigned cpu,
				  uint8_t *buf, size_t cap, size_t *len);
	/* KD_TCAP_WRITE_REGS.  Load @p ctx (x64 CONTEXT) into @p cpu. */
	int (*set_context)(struct kd_target *t, unsigned cpu,
			   const uint8_t *ctx);
	/* KD_TCAP_MSR. */
	int (*read_msr)(struct kd_target *t, unsigned cpu, uint32_t msr,
			uint64_t *value);
	int (*write_msr)(struct kd_target *t, unsigned cpu, uint32_t msr,
			 uint64_t value);
	/* KD_TCAP_BREAKPOINTS.  Software breakpoints the target keeps
	 * (0xCC); *handle names one for remove_bp. */
	int (*insert_bp)(struct kd_target *t, unsigned cpu, uint64_t va,
			 uint32_t *handle);
	int (*remove_bp)(struct kd_target *t, unsigned cpu, uint32_t handle);
	/* KD_TCAP_RUN.  Let the target run; its next stop comes from
	 * wait(). */
	int (*resume)(struct kd_target *t, unsigned cpu,
		      const struct kd_resume *how);
	/* Required.  Next stop: KD_OK with *ev, KD_ETIMEOUT after
	 * @p timeout_ms (-1: no bound), or a link failure.  DbgPrint text
	 * and prompts are handled inside through the session
	 * (kd_target_print(), kd_target_prompt()); may be called while the
	 * target runs.  A target that cannot run reports only the stop a
	 * switch_cpu() asked for. */
	int (*wait)(struct kd_target *t, int timeout_ms, struct kd_event *ev);
	/* KD_TCAP_RUN.  Ask a running target to stop (async to wait()). */
	int (*break_in)(struct kd_target *t);
	/* KD_TCAP_SWITCH_CPU.  Make @p cpu current; its stop arrives
	 * through wait(). */
	int (*switch_cpu)(struct kd_target *t, unsigned cpu);
	/* KD_TCAP_REBOOT / KD_TCAP_CRASH: the target restarts or bug
	 * checks; the engine waits for it through wait(). */
	int (*reboot)(struct kd_target *t);
	int (*crash)(struct kd_target *t, unsigned cpu, uint32_t code);
	/* Optional.  True once after the target restarted (a KD reset, a
	 * re-offered connection): the engine forgets what it knew. */
	bool (*take_reconnected)(struct kd_target *t);
	/* KD_TCAP_LINK.  The KD link under the target (owned by the target,
	 * valid until close()), with the counters only the target knows:
	 * replies that answered no request, requests asked again. */
	struct kd_link *(*link)(struct kd_target *t, uint64_t *stray,
				uint64_t *resent);
	/* Optional.  Modules the target lists itself when memory has no
	 * PsLoadedModuleList (a triage dump's driver list, an image
	 * file): a kd_calloc'd array of *n entries the caller frees,
	 * base/size/path/image filled, timestamp/checksum when known.
	 * name: the target's own (an image file names its one module),
	 * or "" for WinDbg's rule (the first one listed is nt).
	 * KD_ENOTFOUND: none, walk the loaded module list. */
	int (*modules)(struct kd_target *t, struct kd_module **out, size_t *n);
	/* Required.  Free the target and everything it holds; @p t is gone
	 * after.  Safe in any state. */
	void (*close)(struct kd_target *t);
};

struct kd_target {
	const struct kd_target_ops *ops;
	struct kd_session *session; /* for DbgPrint and prompts */
};

/*
 * A kind of target kd_target_open() can pick: @p prefix matches the start
 * of the spec ("dump:" a crash dump file); the default (prefix NULL, the
 * live target) takes any other spec (a -k connection string).  open()
 * gets the spec without the prefix, makes s->target the new target, prints
 * its banners and identifies it (kd_target_first_stop()); on failure it
 * prints one line, leaves s->target NULL and returns the error.  *first is
 * the stop the target is at; KD_EV_NONE when open() reported it already.
 */
struct kd_target_driver {
	const char *name;
	const char *prefix;
	const struct kd_target_ops *ops; /* checked before open() */
	int (*open)(struct kd_session *s, const char *spec,
		    struct kd_event *first);
};

/*
 * Open the target @p spec names and make it the session's: "dump:<path>"
 * opens a crash dump, "image:<path>" a PE image file, "file:<path>"
 * whichever of the two the file is (kd -z), anything else is a -k
 * connection string.
 * Checks the ops version, identifies the target and fills s->tgt, loads
 * the module list, prints WinDbg's banners.  On success the target is
 * stopped at *first (or the session waits for the caller to handle it).
 * Errors are printed as one line and returned; the session is left
 * without a target.
 */
int kd_target_open(struct kd_session *s, const char *spec,
		   struct kd_event *first);

/* True when the session's target has every bit of @p caps. */
bool kd_target_has(const struct kd_session *s, uint32_t caps);
/* "Cannot <what> a crash dump target" (the target's noun) and
 * KD_ENOTSUP unless the session's target has @p caps; KD_OK when it has
 * or no target is open. */
int kd_target_require(struct kd_session *s, uint32_t caps, const char *what);
/* "Cannot <what> <the target's noun>", KD_ENOTSUP: for a command that
 * found a member of the ops missing. */
int kd_target_refuse(struct kd_session *s, const char *what);
/* kd_target_require(s, KD_TCAP_RUN, what). */
int kd_target_require_run(struct kd_session *s, const char *what);

/*
 * The first stop of a target just opened, or after it restarted: the
 * processors, identify(), the debugger data block, WinDbg's "Connected
 * to" and version banners, the module list (target/attach.c).
 */
int kd_target_first_stop(struct kd_session *s, const struct kd_event *ev);
/* The processor count kd keeps state for when a target reports @p n. */
unsigned int kd_target_ncpus_used(unsigned int n);
/* vertarget's block: version, build lab, kernel base, times. */
void kd_target_print_version(struct kd_session *s);
/* NtBuildLab ("19041.1.amd64fre.vb_release.191206-1406"), "" unknown. */
void kd_target_build_lab(struct kd_session *s, char *buf, size_t cap);
/* Fill s->tgt (version, machine, debugger data block) from identify(). */
int kd_target_identify(struct kd_session *s, struct kd_target_id *id);

/* The registered kinds (target/live.c, target/dump_target.c,
 * target/image_target.c). */
extern const struct kd_target_driver kd_target_live_driver;
extern const struct kd_target_driver kd_target_dump_driver;
extern const struct kd_target_driver kd_target_image_driver;

#endif /* KD_TARGET_H */
