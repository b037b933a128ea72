/* SPDX-License-Identifier: MIT */
/*
 * The architecture axis: one const struct kd_arch_ops per machine the
 * engine knows (amd64.c, x86.c, arm64.c), in the shape of kgdb's struct
 * kgdb_arch.  Everything that differs between machines -- the native
 * CONTEXT layout and its register names, pc/sp/fp, the capstone mode, the
 * stack walker, the `r` layout, address translation, the breakpoint
 * instruction and the single-step mechanism -- is a member here, so
 * commands, expressions and targets ask kd_arch(s) instead of testing the
 * machine.
 *
 * Adding a machine: (1) its CONTEXT offsets in kdproto's layout.h; (2) a
 * new arch/<machine>.c defining a const struct kd_arch_ops with its
 * register table, printers and unwinder, and a KD_ARCH_* id below; (3)
 * the ops in arch_all[] (arch.c), found by IMAGE_FILE_MACHINE_* from
 * the target's machine (s->tgt.machine); (4) the table in
 * tests/unit/engine/arch_ops.c, which cross-checks it against layout.h.
 * The new file calls the "shared inside arch/" helpers below with its own
 * ops, never kd_arch() or the other entry points of arch.c.
 */
#ifndef KD_ARCH_H
#define KD_ARCH_H

#include "core/engine_int.h"

/* Register flags. */
#define KD_REGF_PC 0x001u      /* the program counter */
#define KD_REGF_SP 0x002u      /* the stack pointer */
#define KD_REGF_FP 0x004u      /* the frame pointer */
#define KD_REGF_RET 0x008u     /* the return-value register ($retreg) */
#define KD_REGF_RA 0x010u      /* holds the return address ($ra) */
#define KD_REGF_SEG 0x020u     /* a segment selector */
#define KD_REGF_FLAGS 0x040u   /* the flags register (EFLAGS, CPSR) */
#define KD_REGF_FLAGBIT 0x080u /* one flag bit: shown as one digit */
/* Not in the CONTEXT: read with ops->special_get (off is the arch's own
 * field id), never written. */
#define KD_REGF_SPECIAL 0x100u
#define KD_REGF_NOEXPR 0x200u /* `r` knows it, expressions do not */
#define KD_REGF_NOR 0x400u    /* expressions know it, `r` does not */

/* `r` display groups. */
enum kd_reg_group {
	KD_REGG_SUB = 0, /* an alias or part of another register */
	KD_REGG_GP,	 /* general purpose, pc, sp, fp */
	KD_REGG_SEG,
	KD_REGG_FLAGS,
	KD_REGG_DEBUG,
	KD_REGG_CONTROL, /* control and descriptor-table registers */
	KD_REGG_OTHER,
};

/*
 * A register: @size bytes at @off in the native CONTEXT, then bits
 * [shift, shift + bits).  Names are lower case and matched in any case.
 */
struct kd_arch_reg {
	const char *name;
	uint16_t off;
	uint8_t size;
	uint8_t shift;
	uint8_t bits;
	uint8_t group;	/* enum kd_reg_group */
	uint16_t flags; /* KD_REGF_* */
};

/* How a single step is made. */
enum kd_arch_step {
	/* Continue2 with TraceFlag: the target sets EFLAGS.TF (bit 8). */
	KD_STEP_TRAP_FLAG = 0,
	/* Continue2 with TraceFlag: the ARM64 target arms the software step
	 * (MDSCR_EL1.SS with PSTATE.SS), KD's own single step there. */
	KD_STEP_ARM64_SS,
};

/* How disassembly lines are laid out. */
enum kd_arch_disasm {
	KD_DIS_X86 = 0, /* byte string, MASM operands */
	KD_DIS_ARM64,	/* one instruction word */
};

/* Indices of the machines the engine knows (capstone handles, tests). */
enum kd_arch_id {
	KD_ARCH_AMD64 = 0,
	KD_ARCH_X86,
	KD_ARCH_ARM64,
	KD_ARCH_COUNT
};

/**
 * struct kd_arch_ops - one machine.  Every member is required unless its
 * comment says it may be NULL.
 */
struct kd_arch_ops {
	enum kd_arch_id id;
	uint32_t machine;      /* IMAGE_FILE_MACHINE_*: KD_MACHINE_AMD64... */
	const char *name;      /* "x64", "x86", "ARM64" */
	unsigned int ptr_size; /* 8 or 4 */
	size_t ctx_size;       /* the native CONTEXT, <= KD_ARCH_CTX_MAX */

	/* Registers, in lookup order (the first name that matches wins). */
	const struct kd_arch_reg *regs;
	size_t nregs;

	/*
	 * Read processor @cpu's CONTEXT from the target into @buf
	 * (KD_ARCH_CTX_MAX bytes).  KD_ENOTSUP when the target has no way
	 * to, KD_EPROTO when it answers short, else its error.
	 */
	int (*read_context)(struct kd_target *t, unsigned cpu, uint8_t *buf);
	/* Write it back before the target runs.  NULL: registers of this
	 * machine are read-only here (no live target of it yet). */
	int (*write_context)(struct kd_target *t, unsigned cpu,
			     const uint8_t *buf);
	/* A KD_REGF_SPECIAL register (@off is its field id) of @cpu.  May be
	 * NULL when the table has none. */
	int (*special_get)(struct kd_session *s, unsigned cpu, uint16_t off,
			   uint64_t *value);

	/* capstone's cs_arch and cs_mode for this machine's code. */
	int cs_arch;
	int cs_mode;
	enum kd_arch_disasm disasm;
	/* Bytes of a disassembly line's code column (x64 15, x86 16). */
	unsigned int hex_cols;

	/* Walk the stack of @cpu: at most @max frames into @out. */
	int (*unwind)(struct kd_session *s, unsigned cpu, struct kd_frame *out,
		      size_t max, size_t *n);
	/* Print `k`'s table for @f; NULL: the engine's x64 layout. */
	void (*print_stack)(struct kd_session *s, const struct kd_frame *f,
			    size_t n, bool args, bool call_only);
	/* `r` with no arguments, from @ctx (the processor's CONTEXT), without
	 * the current instruction that follows. */
	void (*print_regs)(struct kd_session *s, const uint8_t *ctx);
	/* The flags line's two-letter states ("nv up ei pl zr na pe nc") of
	 * the flags register.  NULL when `r` shows flags otherwise. */
	void (*flag_states)(uint64_t flags, char out[24]);
	/* Virtual to physical on the current processor.  NULL: the target
	 * translates (crash dumps) and the engine cannot. */
	int (*virt_to_phys)(struct kd_session *s, uint64_t va, uint64_t *pa);

	/* The software breakpoint instruction the target plants. */
	const uint8_t *bp_insn;
	unsigned int bp_len;
	enum kd_arch_step step;
};

extern const struct kd_arch_ops kd_arch_amd64;
extern const struct kd_arch_ops kd_arch_x86;
extern const struct kd_arch_ops kd_arch_arm64;

/* The ops of @machine (IMAGE_FILE_MACHINE_*), or NULL when unknown. */
const struct kd_arch_ops *kd_arch_of_machine(uint32_t machine);

/*
 * The session's machine: the target's (s->tgt.machine, set when a dump of
 * another machine opens), x64 when unknown or without a target.
 */
const struct kd_arch_ops *kd_arch(const struct kd_session *s);

/* The first register of @a with @flag, or NULL. */
const struct kd_arch_reg *kd_arch_reg_by_flag(const struct kd_arch_ops *a,
					      unsigned flag);
/* The register named @name (@len bytes, any case) that a use may see
 * (@hide: KD_REGF_NOR for `r`, KD_REGF_NOEXPR for expressions). */
const struct kd_arch_reg *kd_arch_reg_find(const struct kd_arch_ops *a,
					   const char *name, size_t len,
					   unsigned hide);
/* Value and store of a CONTEXT register on a context buffer. */
uint64_t kd_arch_ctx_load(const uint8_t *ctx, const struct kd_arch_reg *r);
/* KD_EOVERFLOW when @value does not fit the register's bits. */
int kd_arch_ctx_store(uint8_t *ctx, const struct kd_arch_reg *r,
		      uint64_t value);

/* pc, sp and fp of @ctx through the machine's flagged registers. */
uint64_t kd_arch_pc(const struct kd_arch_ops *a, const uint8_t *ctx);
uint64_t kd_arch_sp(const struct kd_arch_ops *a, const uint8_t *ctx);
uint64_t kd_arch_fp(const struct kd_arch_ops *a, const uint8_t *ctx);
void kd_arch_set_pc(const struct kd_arch_ops *a, uint8_t *ctx, uint64_t v);
void kd_arch_set_sp(const struct kd_arch_ops *a, uint8_t *ctx, uint64_t v);

/* ---- the current processor of a session ---- */

int kd_pc_get(struct kd_session *s, uint64_t *value);
int kd_pc_set(struct kd_session *s, uint64_t value);
int kd_sp_get(struct kd_session *s, uint64_t *value);
/* $retreg: the return-value register. */
int kd_retreg_get(struct kd_session *s, uint64_t *value);
/* $ra: a register that holds it (ARM64 lr), else the pointer at sp. */
int kd_ra_get(struct kd_session *s, uint64_t *value);
/*
 * Set register @r of the current processor (read-modify-write for a
 * part).  KD_ENOTSUP when it cannot be written here, KD_EOVERFLOW when
 * @value does not fit.
 */
int kd_arch_reg_set(struct kd_session *s, const struct kd_arch_reg *r,
		    uint64_t value);
/* Read register @r of processor @cpu. */
int kd_arch_reg_read(struct kd_session *s, unsigned cpu,
		     const struct kd_arch_reg *r, uint64_t *value);

/* ---- shared inside arch/ ---- */

/*
 * regs.c: what the ops files use instead of the entry points above, with
 * their own ops given rather than looked up (arch.c, which looks them up,
 * names every ops table: a call back into it from them would be a cycle).
 */

/* The x86 or ARM64 CONTEXT a crash dump hands out, at least @need bytes
 * (KD_EPROTO when shorter). */
int kd_arch__native_read(struct kd_target *t, unsigned cpu, uint8_t *buf,
			 size_t need);
/* kd_context() through @a's read_context. */
int kd_arch__context(struct kd_session *s, const struct kd_arch_ops *a,
		     unsigned cpu, uint8_t **ctx);
/* kd_arch_reg_read() and kd_arch_reg_get() with @a's table. */
int kd_arch__reg_read(struct kd_session *s, const struct kd_arch_ops *a,
		      unsigned cpu, const struct kd_arch_reg *r,
		      uint64_t *value);
int kd_arch__reg_get(struct kd_session *s, const struct kd_arch_ops *a,
		     unsigned cpu, const char *name, size_t len,
		     uint64_t *value, unsigned *bits);
/* Whether @value fits register @r's bits. */
bool kd_arch__reg_fits(const struct kd_arch_reg *r, uint64_t value);

/* The x64 and x86 flags line. */
void kd_x86__eflags_states(uint64_t efl, char out[24]);
/* The x64 unwinder from @ctx, @cpu's x64 CONTEXT (stack.c), and
 * page-table translation (paging.c). */
int kd_amd64__unwind(struct kd_session *s, const uint8_t *ctx,
		     struct kd_frame *out, size_t max, size_t *n);
/* The x64 register rows and flag line of `r` (without the segments). */
void kd_amd64__print_gprs(struct kd_session *s, const uint8_t *c);
int kd_amd64__virt_to_phys(struct kd_session *s, uint64_t va, uint64_t *pa);
/* The x86 walk: frame data, FPO, then the EBP chain (x86_unwind.c),
 * reading @cpu's registers through @ops, the x86 ops (x86.c passes them:
 * the leaf never names the ops file). */
int kd_x86__unwind(struct kd_session *s, const struct kd_arch_ops *ops,
		   unsigned cpu, struct kd_frame *out, size_t max, size_t *n);
/* "nt!Sym+0x12", else the address as "0x80400100" (stack.c). */
void kd_stack__site(struct kd_session *s, uint64_t addr, char *buf, size_t cap);

#endif /* KD_ARCH_H */
