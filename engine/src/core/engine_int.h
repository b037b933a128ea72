/* SPDX-License-Identifier: MIT */
/*
 * Engine internals shared by the session, the targets and the command
 * files.  Not installed; tests of engine internals include it directly.
 */
#ifndef KD_ENGINE_INT_H
#define KD_ENGINE_INT_H

#include <signal.h>
#include <stdio.h>

#include <kd/alloc.h>
#include <kd/clock.h>
#include <kd/engine.h>
#include <kd/error.h>
#include <kd/proto.h>

/* ------------------------------------------------------------------ */
/* Targets                                                             */
/* ------------------------------------------------------------------ */

#include "target/target.h"

/* ------------------------------------------------------------------ */
/* Session                                                             */
/* ------------------------------------------------------------------ */

#define KD_MAX_BPS 32
#define KD_MAX_HW_BPS 4

enum kd_bp_kind {
	KD_BP_SOFT = 0,
	KD_BP_HW
};

struct kd_bp {
	bool used;
	bool enabled;
	bool deferred; /* bu on a name that does not resolve yet */
	bool inserted; /* soft: in the target now */
	bool one_shot; /* /1 */
	enum kd_bp_kind kind;
	char hw_access; /* 'e' 'r' 'w' 'i' */
	unsigned int hw_size;
	unsigned int hw_slot;
	uint64_t addr;
	uint32_t handle; /* target handle while inserted */
	uint32_t passes; /* initial pass count (1 by default) */
	uint32_t passes_left;
	char *expr;    /* the address text as typed (bu keeps it) */
	char *command; /* commands run on a hit, or NULL */
};

/*
 * The largest native CONTEXT of the machines arch/ knows (x64, 1232
 * bytes; x86 716, ARM64 912): arch.c checks every table against it.
 */
#define KD_ARCH_CTX_MAX KD_AMD64_CONTEXT_SIZE

/* Per-processor register state. */
struct kd_cpu {
	uint8_t ctx[KD_ARCH_CTX_MAX]; /* the machine's own CONTEXT */
	bool valid;		      /* ctx read since the last stop */
	bool dirty;		      /* must be written before resuming */
	struct kd_amd64_kspecial ks;
	bool ks_valid;
};

/* Memory cache (memcache.c): pages of target memory read during one stop. */
struct kd_memcache;

/* Modules .reload Name=Base,Size can add at one time. */
#define KD_SYM_ADDED_MAX 16

/* A loaded module (modules.c). */
struct kd_module {
	uint64_t base;
	uint32_t size;
	uint32_t timestamp;
	uint32_t checksum;
	char name[64];	/* WinDbg module name: "nt", "hal", "simdrv" */
	char image[64]; /* image file name: "ntoskrnl.exe" */
	char path[260]; /* full path from the LDR entry */
	void *syms;	/* symbols.c private: exports, .pdata */
};

/* A temporary breakpoint of g <addr>, p over a call, gu (cmd_exec.c). */
struct kd_temp_bp {
	uint64_t addr;
	uint64_t min_sp;  /* stop only when rsp > min_sp (0: any) */
	unsigned int cpu; /* stop only on this processor (~0u: any) */
	uint32_t handle;
	bool inserted;
};

/*
 * What the layers above the core hang on a session, so the core can undo
 * their state (detach, free) without calling up into them.  Each layer
 * sets its member when it first creates such state; NULL members are
 * skipped, so a session that never used a layer needs nothing from it.
 */
struct kd_session_hooks {
	/* Stop the debugging server's threads (dbgserver/server.c). */
	void (*servers_close)(struct kd_session *s, const char *reason);
	/* Drop the module list and symbols (sym/modules.c). */
	void (*modules_free)(struct kd_session *s);
	/* Close the disassembler, its mode follows the target
	 * (arch/disasm.c). */
	void (*disasm_close)(struct kd_session *s);
	/* Drop the aliases (cmd/cmd_script.c). */
	void (*aliases_free)(struct kd_session *s);
	/* Replace the aliases in a line as the interpreter parses it
	 * (kd_cmd__alias_expand, cmd/cmd_script.c; api/session.c sets it
	 * for every session: cmd/commands.c must not name a handler file). */
	int (*alias_expand)(struct kd_session *s, const char *line, char **out);
};

/* Event filter states (sx*) and bounds. */
#define KD_SX_BREAK 0
#define KD_SX_SECOND 1
#define KD_SX_OUTPUT 2
#define KD_SX_IGNORE 3
#define KD_SX_COUNT 27
#define KD_SX_ARG_MAX 64
#define KD_SX_CMD_MAX 256

/* A .break / .continue waiting for its loop (s->script.loop_ctl): the
 * interpreter stops running the rest of the body. */
#define KD_LOOP_BREAK 1
#define KD_LOOP_CONTINUE 2

/*
 * The session, one sub-struct per area.  Each area's fields are written by
 * the files named in its comment; others may read them.
 */
struct kd_session {
	struct kd_session_opts opts;
	struct kd_target *target; /* NULL when dormant */
	struct kd_memcache *cache;
	bool quit;
	unsigned long failures;
	volatile sig_atomic_t interrupt;
	/* No host files, shells or logs (fuzzing): commands that would
	 * touch them fail with a message. */
	bool sandbox;
	struct kd_session_hooks hooks;

	/* Output, input, log and prompt (core/output.c). */
	struct kd_sess_out {
		kd_output_fn out_fn;
		void *out_ctx;
		kd_input_fn in_fn;
		void *in_ctx;
		FILE *log;
		char log_path[512];
		bool at_line_start;
		char prompt[32];
	} out;

	/* What attach learned about the target and where it stopped
	 * (target/attach.c, target/dump_target.c, core/session.c). */
	struct kd_sess_tgt {
		char connstr[512];
		bool running;
		struct kd_target_id id; /* what identify() said */
		struct kd_version version;
		bool have_version;
		struct kd_debugger_data kdbg;
		uint64_t kdbg_addr;
		bool have_kdbg;
		uint64_t session_start; /* unix ms when attached */
		unsigned int ncpus;
		unsigned int cpu;     /* current processor */
		struct kd_cpu *cpus;  /* ncpus entries */
		struct kd_event last; /* the stop we are at */
		/* KD_DUMP_MACHINE_I386 / _ARM64 for such dumps; 0 (x64)
		 * otherwise: kd_arch() picks the ops from it */
		uint32_t machine;
		struct kd_dump *dump; /* dump target's reader (it owns it) */
		bool reattach;	      /* target restarted: re-read it all */
		unsigned long prints_seen; /* DbgPrint messages received */
	} tgt;

	/* Modules and disassembly (sym/modules.c, arch/disasm.c). */
	struct kd_sess_sym {
		struct kd_module *modules;
		size_t nmodules;
		bool modules_valid;
		uint64_t next_u;     /* where a bare u continues */
		uint64_t next_u_rip; /* rip when next_u was set */
		/* capstone handle, kd_modules_free closes it */
		void *disasm;
		/* Symbol path and options (sym/sympath.c): set from the
		 * environment on first use unless kd -y set them. */
		bool path_ready;
		bool symopt_set; /* kd set options before the path */
		bool refresh;	 /* .reload /o: fetch over cached copies */
		char path[4096];
		uint32_t symopt; /* SYMOPT_* bits, .symopt */
		/* Modules `.reload Name=Base,Size` added: merged into every
		 * read of the list until a plain .reload (sym/modules.c). */
		struct kd_module added[KD_SYM_ADDED_MAX];
		size_t nadded;
	} sym;

	/* Where bare d / !d continue (cmd/cmd_mem.c). */
	struct kd_sess_mem {
		char last_dcmd[8];  /* last d* form, for a bare `d` */
		uint64_t next_d;    /* where a bare d continues */
		bool have_next_d;   /* a d* ran (else d starts at rip) */
		uint64_t next_phys; /* where a bare !db/!dd... continues */
	} mem;

	/* Expression state (expr/expr.c, cmd/cmd_expr.c). */
	struct kd_sess_expr {
		unsigned int radix;    /* `n`: 8, 10 or 16 (0 means 16) */
		uint64_t pseudo_t[20]; /* $t0..$t19 */
	} expr;

	/* Scripts and control flow (cmd/cmd_misc.c, cmd/cmd_script.c). */
	struct kd_sess_script {
		int script_depth; /* $$< nesting */
		int ctl_depth;	  /* .if / j / .block / script nesting */
		/* User aliases (as/aS), sorted by name, and $u0..$u9
		 * (cmd/cmd_script.c; freed through hooks.aliases_free). */
		struct kd_alias *aliases;
		size_t naliases;
		char *fixed[10];
		int loop_depth; /* .for/.while/.do/.foreach nesting */
		int loop_ctl;	/* KD_LOOP_BREAK / KD_LOOP_CONTINUE pending */
	} script;

	/* Execution and breakpoints (cmd/cmd_exec.c, cmd/cmd_bp.c). */
	struct kd_sess_exec {
		struct kd_bp bps[KD_MAX_BPS];
		int bp_cmd_depth;	/* breakpoint command nesting */
		bool resume_requested;	/* g/gc inside breakpoint commands */
		bool stepping;		/* a step command owns the next stop */
		bool breakin_requested; /* the next break is our break-in */
		struct kd_temp_bp temps[12];
		unsigned int ntemps;
		uint64_t event_ms; /* unix ms of the last stop (.lastevent) */
	} exec;

	/* The debugging server and its clients (dbgserver/). */
	struct kd_sess_dbgsrv {
		struct kd_dbgserver *srv; /* NULL until .server */
		/* running a client's line: `q` is refused, also inside its
		 * scripts */
		bool remote_cmd;
	} dbgsrv;

	/* Event filters: sx, sxe, sxd, sxn, sxi (cmd/cmd_sx.c; the table
	 * of events is there, in the order of ev[]). */
	struct kd_sess_sx {
		bool ready; /* ev[] holds the defaults or the user's */
		struct kd_sx {
			uint8_t state; /* KD_SX_* */
			bool handled;
			char arg[KD_SX_ARG_MAX]; /* ld:/ud: module filter */
			char cmd[KD_SX_CMD_MAX];
			char cmd2[KD_SX_CMD_MAX];
		} ev[KD_SX_COUNT];
	} sx;

	/* A register context that stands in for processor cpu's own:
	 * .cxr/.trap/.ecxr load ctx, .frame n fctx (the frame's registers
	 * as far as the unwinder recovered them).  Written by
	 * cmd/cmd_ctx.c, read by arch/regs.c; dropped when the target runs
	 * or stops again (core/session.c). */
	struct kd_sess_scope {
		bool ctx_set;
		bool frame_set;
		bool unwinding; /* a walk starts from ctx, not fctx */
		unsigned int cpu;
		size_t frame;
		uint8_t ctx[KD_ARCH_CTX_MAX];
		uint8_t fctx[KD_ARCH_CTX_MAX];
	} scope;

	/* Loud failures: the first target request that failed (timed out,
	 * link lost...) while a command ran.  The command prints it and
	 * fails; the rest of its requests fail at once (core/session.c). */
	struct kd_sess_cmd {
		unsigned int cmd_depth; /* commands running (nesting) */
		int target_err;		/* 0, or the KD_E* of that failure */
		char target_err_msg[256];
	} cmd;
};

/* ---- output (output.c) ---- */

void kd_out(struct kd_session *s, const char *fmt, ...) KD_PRINTF(2, 3);
void kd_out_raw(struct kd_session *s, const char *text, size_t len);
/* The 64-bit address form WinDbg prints: fffff800`00401000. */
char *kd_fmt_addr(char buf[18], uint64_t addr);
/*
 * Report a failed command the WinDbg way and return @p code (negative):
 * the text is printed as one line.
 */
int kd_fail(struct kd_session *s, int code, const char *fmt, ...)
	KD_PRINTF(3, 4);
/*
 * "       ^ Syntax error in '<line>'" with the caret under @p pos (offset
 * into @p line), aligned with the prompt.  Returns KD_EINVAL.
 */
int kd_syntax_error(struct kd_session *s, const char *line, size_t pos);
/* The same with "Range error" (a range too large, empty or reversed). */
int kd_range_error(struct kd_session *s, const char *line, size_t pos);
/* "Memory access error at '<text>'".  Returns KD_EFAULT. */
int kd_memory_error(struct kd_session *s, const char *text);
/* "Couldn't resolve error at '<text>'".  Returns KD_ENOTFOUND. */
int kd_resolve_error(struct kd_session *s, const char *text);

/* ---- target access through the session (session.c, memcache.c) ---- */

/* Fails with a printed "no target" style message when dormant/running. */
int kd_require_stopped(struct kd_session *s);

/* Cached; *done may be short at the end of readable memory. */
int kd_read_virtual(struct kd_session *s, uint64_t va, void *buf, size_t len,
		    size_t *done);
/* All or nothing: KD_OK or KD_EFAULT. */
int kd_read_virtual_all(struct kd_session *s, uint64_t va, void *buf,
			size_t len);
int kd_read_u64(struct kd_session *s, uint64_t va, uint64_t *v);
int kd_read_u32(struct kd_session *s, uint64_t va, uint32_t *v);
int kd_write_virtual(struct kd_session *s, uint64_t va, const void *buf,
		     size_t len, size_t *done);
int kd_read_physical(struct kd_session *s, uint64_t pa, void *buf, size_t len,
		     size_t *done);
int kd_write_physical(struct kd_session *s, uint64_t pa, const void *buf,
		      size_t len, size_t *done);
/*
 * A request to the target failed without the target saying no (time-out,
 * link failure, a new stop in the middle): remember it for the running
 * command, which then reports it and fails (kd_cmd_run_one).  The last
 * kd_error text is the reason.  Returns @p rc.
 */
int kd_target_failed(struct kd_session *s, int rc);
/* The failure recorded for the running command, as kd_error_set() would
 * report it again (KD_OK when none). */
int kd_target_failure(struct kd_session *s);
/* Drop every cached page (run, write, reconnect). */
void kd_cache_invalidate(struct kd_session *s);

/*
 * Registers of processor @p cpu in the machine's own CONTEXT layout (read
 * on demand through kd_arch(s)->read_context, written before resume).
 */
int kd_context(struct kd_session *s, unsigned cpu, uint8_t **ctx);
/* An x64 CONTEXT register by KD_AMD64_* id (arch/arch.c): KD_ENOTSUP on
 * another machine, whose code uses the ops' register table. */
int kd_reg_get(struct kd_session *s, int reg, uint64_t *value);
int kd_reg_set(struct kd_session *s, int reg, uint64_t value);
/* x64 KSPECIAL_REGISTERS of @p cpu (control space). */
int kd_kspecial(struct kd_session *s, unsigned cpu,
		struct kd_amd64_kspecial **ks);

/* The 64-bit pointer size of the target (8), and whether it is x64. */
static inline bool kd_is_ptr64(const struct kd_session *s)
{
	return !s->tgt.have_version ||
	       (s->tgt.version.flags & KD_VERS_FLAG_PTR64) != 0;
}

/* ---- registers by name (arch/arch.c; the ops are in arch/arch.h) ---- */

/* Largest native CONTEXT a target's get_native_context fills. */
#define KD_NATIVE_CTX_MAX 0x400

/*
 * The machine of the session, for tests and messages: engine code asks
 * kd_arch(s) (arch/arch.h) instead.  Native means an x86 or ARM64 dump.
 */
bool kd_arch_native(const struct kd_session *s);
bool kd_arch_is_x86(const struct kd_session *s);
bool kd_arch_is_arm64(const struct kd_session *s);
/* The native CONTEXT of @p cpu into @p buf (KD_NATIVE_CTX_MAX bytes) of an
 * x86 or ARM64 dump; KD_EINVAL on an x64 target. */
int kd_native_context(struct kd_session *s, unsigned cpu, uint8_t *buf,
		      size_t *len);
/*
 * A register of the current processor by name (@p len bytes, any case),
 * from the machine's table: KD_OK, KD_ENOTFOUND when the machine has no
 * such register, or the context read error.
 */
int kd_arch_reg_value(struct kd_session *s, const char *name, size_t len,
		      uint64_t *value);
/* Same for processor @p cpu; *bits is the register's width. */
int kd_arch_reg_get(struct kd_session *s, unsigned cpu, const char *name,
		    size_t len, uint64_t *value, unsigned *bits);
/* The canonical lower-case name of a register (for `r x`). */
const char *kd_arch_reg_name(const struct kd_session *s, const char *name,
			     size_t len);
/* An address at the target's pointer width: 8 hex digits for 32-bit
 * targets, else kd_fmt_addr()'s fffff800`00401000. */
char *kd_fmt_ptr(const struct kd_session *s, char buf[18], uint64_t addr);

/* ---- expressions (expr.c) ---- */

/*
 * Evaluate one MASM expression at @p text (WinDbg's default radix 16;
 * 0x 0n 0t 0y prefixes; registers rax/@rax and sub-registers, pseudo
 * registers $ip $csp $ra $proc $thread $peb; module!symbol, module, and
 * bare symbols of nt; poi() by() wo() dwo() qwo(); + - * / % << >> & | ^
 * and or xor not; == != < > <= >=; unary - ~ !; parentheses; `.` = the
 * current instruction).  Stops at the first character that cannot
 * continue the expression and sets *end there.  On failure prints
 * nothing and returns KD_EINVAL (syntax, *end at the bad character),
 * KD_ENOTFOUND (unknown symbol) or KD_EFAULT (poi on bad memory).
 */
int kd_expr_eval(struct kd_session *s, const char *text, const char **end,
		 uint64_t *value);
/*
 * Evaluate with WinDbg's messages on failure (syntax error caret,
 * "Couldn't resolve error at", "Memory access error at").  @p line is
 * the whole command line, for the caret.
 */
int kd_expr_arg(struct kd_session *s, const char *line, const char **pos,
		uint64_t *value);
/*
 * An address range: `addr`, `addr L count`, `addr L? count`,
 * `addr endaddr`.  @p unit is the element size (count is in elements);
 * *count is left as given when only an address is present.  Returns
 * KD_OK, or a negative code after printing the error.
 */
int kd_range_arg(struct kd_session *s, const char *line, const char **pos,
		 unsigned unit, uint64_t *addr, uint64_t *count,
		 bool *have_addr);
/*
 * Set a user pseudo-register ($t0..$t19, with or without `@`; @p len
 * bytes of @p name).  KD_OK, KD_ENOTSUP for a read-only pseudo-register
 * ($ip, $ptrsize...), KD_ENOTFOUND for an unknown name.  Prints nothing.
 */
int kd_pseudo_reg_set(struct kd_session *s, const char *name, size_t len,
		      uint64_t value);

/* ---- symbols and modules (modules.c, symbols.c) ---- */

/* Re-read PsLoadedModuleList (lazy: only when !modules_valid). */
int kd_modules_load(struct kd_session *s);
void kd_modules_free(struct kd_session *s);
/* Make the session free the module list and its symbols (through
 * s->hooks.modules_free): every sym entry point that may find or fill
 * s->sym.modules calls it first. */
void kd_modules_hook(struct kd_session *s);
struct kd_module *kd_module_by_addr(struct kd_session *s, uint64_t addr);
/* WinDbg's module name for image file name @p image: "simdrv" for
 * simdrv.sys, "nt" and "hal" for the kernel's and HAL's file names. */
void kd_sym__module_name(char *out, size_t cap, const char *image,
			 uint64_t base, bool ptr32);
struct kd_module *kd_module_by_name(struct kd_session *s, const char *name);
/* "nt!Sym" / "mod!Sym" / "Sym" (nt then every module) / "mod". */
int kd_sym_lookup(struct kd_session *s, const char *name, uint64_t *addr);
/*
 * Nearest symbol at or before @p addr: "nt!KeWorkerStep+0x12", or
 * "nt+0x1234" inside a module without a symbol before it.  Returns
 * KD_ENOTFOUND (buf empty) outside every module.
 */
int kd_sym_format(struct kd_session *s, uint64_t addr, char *buf, size_t cap);

/* "nt!KiFoo": the PDB function holding @p addr (no offset), for
 * !analyze's buckets.  KD_ENOTFOUND without PDB symbols there. */
int kd_sym_function(struct kd_session *s, uint64_t addr, char *buf, size_t cap);
/* "Symbol search path is: ..." and "Executable search path is:" as kd
 * prints them after connecting or opening a dump (sym/sympath.c). */
void kd_sym__print_banner(struct kd_session *s);

/* ---- disassembly (disasm.c) ---- */

/*
 * One WinDbg disassembly line for the instruction at @p addr, without the
 * newline: "fffff800`00401000 4883ec28        sub     rsp,28h".  *len is
 * the instruction length (1 on undecodable bytes, shown as "???").
 */
int kd_disasm_line(struct kd_session *s, uint64_t addr, char *line, size_t cap,
		   unsigned *len);
/* Print "sym:" and the line for the current rip (after r, p, t, stops). */
/* The current instruction as WinDbg shows it after `r` and at a stop;
 * KD_ENOMEM (with an error line) when the disassembler cannot be had. */
int kd_print_current_instruction(struct kd_session *s);
/* Instruction length and whether it is a call (for p / pc / gu). */
int kd_insn_info(struct kd_session *s, uint64_t addr, unsigned *len,
		 bool *is_call, bool *is_ret, bool *is_branch);

/* ---- stacks (arch/arch.c, the x64 unwinder in arch/stack.c) ---- */

struct kd_frame {
	uint64_t sp;	  /* Child-SP */
	uint64_t ip;	  /* Call Site */
	uint64_t ret;	  /* RetAddr */
	uint64_t args[4]; /* home slots above the return address */
	/* x64: rax..r15 in encoding order as the unwinder had them at this
	 * frame (non-volatile ones recovered, volatile ones the callee's);
	 * have_regs false on other machines. */
	uint64_t regs[16];
	bool have_regs;
};
/* Walk with the machine's unwinder (x64: the unwind data of the loaded
 * images; x86: frame data, FPO, then the EBP chain, sp = ChildEBP, args =
 * 3 dwords; ARM64: the fp/lr chain). */
int kd_stack_walk(struct kd_session *s, unsigned cpu, struct kd_frame *out,
		  size_t max, size_t *n);

/* ---- commands (commands.c and the cmd_*.c files) ---- */

struct kd_cmdctx {
	const char *line; /* the whole command as typed (for errors) */
	const char *name; /* the command name as matched */
	const char *args; /* text after the name, leading blanks skipped */
};

typedef int (*kd_cmd_fn)(struct kd_session *s, struct kd_cmdctx *c);

struct kd_command {
	const char *name; /* "db", ".formats", "!pte" */
	kd_cmd_fn fn;
	unsigned flags;	  /* KD_CMDF_* */
	const char *help; /* one line */
};

#define KD_CMDF_STOPPED 0x1u /* needs a stopped target */
#define KD_CMDF_PREFIX \
	0x2u		  /* may be followed directly by arguments (d*,
			      * e*, r, ?, ~) */
#define KD_CMDF_REST 0x4u /* takes the rest of the line, `;` included */

/* Tables, each ended by a { NULL } entry. */
extern const struct kd_command kd_cmds_core[];	 /* commands.c, session.c */
extern const struct kd_command kd_cmds_exec[];	 /* cmd_exec.c */
extern const struct kd_command kd_cmds_bp[];	 /* cmd_bp.c */
extern const struct kd_command kd_cmds_mem[];	 /* cmd_mem.c */
extern const struct kd_command kd_cmds_reg[];	 /* cmd_reg.c */
extern const struct kd_command kd_cmds_expr[];	 /* cmd_expr.c */
extern const struct kd_command kd_cmds_sym[];	 /* cmd_sym.c */
extern const struct kd_command kd_cmds_dt[];	 /* cmd_dt.c */
extern const struct kd_command kd_cmds_misc[];	 /* cmd_misc.c */
extern const struct kd_command kd_cmds_script[]; /* cmd_script.c */
extern const struct kd_command kd_cmds_dump[];	 /* cmd_dump.c: reading */
extern const struct kd_command kd_cmds_ctx[];	 /* cmd_ctx.c: .cxr, .trap */
extern const struct kd_command kd_cmds_sx[];	 /* cmd_sx.c: sx* */
extern const struct kd_command kd_cmds_dumpw[];	 /* cmd_dumpw.c: .dump */
extern const struct kd_command kd_cmds_kobj[];	 /* cmd_kobj.c: !process */
extern const struct kd_command kd_cmds_server[]; /* dbgserver/cmd_server.c */
extern const struct kd_command kd_cmds_kdsrv[];	 /* cmd_kdsrv.c */

/* The kernel extensions (issue 16), one table per file. */
extern const struct kd_command kd_cmds_ext_cpu[];   /* ext_cpu.c */
extern const struct kd_command kd_cmds_ext_io[];    /* ext_io.c */
extern const struct kd_command kd_cmds_ext_mm[];    /* ext_mm.c */
extern const struct kd_command kd_cmds_ext_error[]; /* ext_error.c */

/* Every table with its .help title, in lookup order; ends with NULLs. */
struct kd_command_group {
	const struct kd_command *table;
	const char *title;
};
/* The table (cmd/groups.c).  Only api/session.c names it: cmd/ reaches
 * it through kd_cmd__groups(), so the handlers it names may call the
 * interpreter without a call cycle. */
extern struct kd_command_group kd_command_groups[];
/*
 * Fill the placeholder group titled @p title with @p table (a layer above
 * cmd/, such as the debugging server, adds its commands this way; see
 * api/session.c).  Called once, before any session exists.
 */
void kd_cmd__set_group(const char *title, const struct kd_command *table);
/* Hand the interpreter (commands.c) its table; api/session.c does, once,
 * before any session exists.  Until then no command is found. */
void kd_cmd__use_groups(const struct kd_command_group *g);
/* The table the interpreter uses (for `?` and `.help`). */
const struct kd_command_group *kd_cmd__groups(void);
/*
 * Replace the aliases in @p line as WinDbg does when it parses a line
 * (cmd/cmd_script.c): user aliases as whole words, ${Name} and its
 * ${/d: /f: /n: /v:} forms, $u0..$u9.  *out is NULL when nothing
 * changed, else a heap copy (kd_free).  KD_EOVERFLOW (after printing
 * the error line) when the result would be too long.
 */
int kd_cmd__alias_expand(struct kd_session *s, const char *line, char **out);
/* Set fixed-name alias $u@p n (`r $.u0 = text`); @p len bytes. */
int kd_cmd__alias_set_fixed(struct kd_session *s, unsigned n, const char *v,
			    size_t len);
/* Create a session (core/session.c); the public kd_session_new of
 * api/session.c wires the layers, then calls it. */
int kd_session__create(struct kd_session **out,
		       const struct kd_session_opts *opts);

/*
 * Split @p text at the next top-level `;` (outside quotes, braces and
 * parentheses).  Returns the length of the first command; *next points
 * after the `;` or at the NUL.
 */
size_t kd_cmd_split(const char *text, const char **next);

/*
 * The next command of a line: up to the next top-level `;`, or the whole
 * rest for KD_CMDF_REST commands (`.shell`, `j`, `.if`, `*`).
 */
size_t kd_cmd_next(const char *text, const char **next);

/* Run one command (no top-level `;`). */
int kd_cmd_run_one(struct kd_session *s, const char *cmd);

/* ---- scripts (cmd_misc.c) ---- */

/* $$<file, $$><file, $$>a<file args: run a script file. */
int kd_script_run(struct kd_session *s, const char *path, bool block, int argc,
		  char **argv, bool echo);

/* ---- execution (cmd_exec.c, session.c) ---- */

/* After a stop: refresh state, handle breakpoints, print the report.
 * Returns true when the session should keep running (bp condition). */
bool kd_event_stop(struct kd_session *s, const struct kd_event *ev);

/* Breakpoints at a stop (cmd_exec.c). */
void kd_exec_pull_temps(struct kd_session *s);
bool kd_exec_temp_hit(struct kd_session *s, const struct kd_event *ev);
bool kd_exec_temp_continue(struct kd_session *s, const struct kd_event *ev);
bool kd_exec_bp_commands(struct kd_session *s, const char *cmds);
/* Resume with breakpoints inserted, without waiting. */
int kd_exec_continue(struct kd_session *s);
/* Wait (Ctrl+C breaks in) for the running target to stop. */
int kd_exec_wait(struct kd_session *s);
/* After .reboot or .crash: wait for the machine to come back, break in
 * and re-attach. */
int kd_exec__wait_reboot(struct kd_session *s);
/* `~Ns`: make processor @p cpu current (the target switches). */
int kd_exec_switch_cpu(struct kd_session *s, unsigned cpu);

/* Called by a target while waiting: DbgPrint text, GetString prompts. */
void kd_target_print(struct kd_session *s, const char *text, size_t len);
int kd_target_prompt(struct kd_session *s, const char *prompt, char *buf,
		     size_t cap);

/* "Windows 10", "Windows 8.1"... for a build number (attach.c). */
const char *kd_windows_name(unsigned build);
/* "Sat Nov 21 10:15:17.807 2026 (UTC + 0:00)", local time (attach.c). */
void kd_fmt_local_time(char buf[96], size_t cap, uint64_t unix_ms);

/* Unix milliseconds (monotonic ones: kd_mono_ms() of kd/clock.h). */
uint64_t kd_now_ms(void);

/* ---- crash-dump target (dump_target.c) ---- */

#endif /* KD_ENGINE_INT_H */
