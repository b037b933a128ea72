/* SPDX-License-Identifier: MIT */
/*
 * WinDbg's C++ expression evaluator (`??`, `@@c++()`, `dx`): C literals,
 * typed globals and locals, registers, C operators with C precedence,
 * members, indexing, casts to PDB and basic types, sizeof and
 * #FIELD_OFFSET, with typed results.
 *
 * cppexpr.c is pure: it reaches symbols, types, registers and memory only
 * through struct kd_cpp_ops, so the fuzz target drives it with a fake
 * backend.  cppsession.c is the backend of a debugging session.
 */
#ifndef KD_EXPR_CPPEXPR_H
#define KD_EXPR_CPPEXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kd/pdb.h>

/* Longest expression text read, nesting of sub-expressions. */
#define KD_CPP_MAX_TEXT 4096
#define KD_CPP_MAX_DEPTH 64

/*
 * A type: a type index of the type source @p src (a PDB; basic types
 * below 0x1000 need none) with @p nptr pointer levels added on top (what
 * `&x` and a cast to `T *` make when the source has no such record).
 */
struct kd_cpp_type {
	void *src;
	uint32_t ti;
	uint8_t nptr;
};

enum kd_cpp_kind {
	KD_CPP_BAD = 0, /* unreadable or unknown record */
	KD_CPP_VOID,
	KD_CPP_BOOL,
	KD_CPP_CHAR, /* char, signed/unsigned char, wchar_t */
	KD_CPP_INT,
	KD_CPP_FLOAT,
	KD_CPP_PTR,
	KD_CPP_ARRAY,
	KD_CPP_UDT, /* struct, class, union */
	KD_CPP_ENUM,
	KD_CPP_FUNC,
};

/* What a type is, modifiers and aliases stripped, forwards resolved. */
struct kd_cpp_tinfo {
	enum kd_cpp_kind kind;
	uint64_t size;
	bool is_signed;
	struct kd_cpp_type inner; /* pointee, element, enum's base */
	uint64_t count;		  /* array elements */
	uint16_t leaf;		  /* KD_LF_STRUCTURE... for a UDT */
	uint32_t ti;		  /* the stripped, resolved index */
	const char *name;	  /* UDT/enum/basic name, "" if none */
};

/* A typed result: a value, or an object at an address (lvalue). */
struct kd_cpp_value {
	struct kd_cpp_type type;
	bool lvalue;
	uint64_t addr;		  /* lvalue: where it lives */
	uint64_t v;		  /* scalar: the value (pointer: target) */
	uint8_t bit_pos, bit_len; /* a bit field member (bit_len > 0) */
};

struct kd_cpp_ops {
	void *ctx;
	unsigned ptr_size; /* 4 or 8 */
	bool dot_derefs;   /* dx: `.` on a pointer reaches the pointee */
	/* Read @p len bytes of target memory; < 0 when unreadable. */
	int (*read)(void *ctx, uint64_t addr, void *buf, size_t len);
	/* A register ("rax") or pseudo-register ("$ip"), with its size in
	 * bytes.  < 0 unknown or unreadable. */
	int (*reg)(void *ctx, const char *name, uint64_t *v, unsigned *size);
	/* A global or local ("nt!Name", "Name") with its type (ti 0 when
	 * the symbol carries none).  @p is_value: @p v holds the value
	 * itself (a local living in a register), not its address. */
	int (*symbol)(void *ctx, const char *name, uint64_t *v, bool *is_value,
		      struct kd_cpp_type *t);
	/* A type by name ("nt!_KTHREAD", "_LIST_ENTRY"). */
	int (*type_named)(void *ctx, const char *name, struct kd_cpp_type *t);
	/* The records of a type source (kd_pdb_type_* semantics). */
	int (*type_get)(void *ctx, void *src, uint32_t ti,
			struct kd_pdb_type *out);
	int (*type_resolve)(void *ctx, void *src, uint32_t ti, uint32_t *full);
	int (*type_fields)(void *ctx, void *src, uint32_t ti,
			   int (*cb)(void *cbctx,
				     const struct kd_pdb_field *field),
			   void *cbctx);
	/* A MASM expression (@@masm()); *end where it stopped.  May be
	 * NULL: @@masm() is then an error. */
	int (*masm)(void *ctx, const char *text, const char **end, uint64_t *v);
};

/* Why an evaluation failed: a code and one line of text. */
struct kd_cpp_error {
	int code;	/* KD_EINVAL syntax, KD_ENOTFOUND, KD_EFAULT... */
	const char *at; /* where in the text */
	char msg[160];	/* the line, without a newline */
};

/*
 * Evaluate the C++ expression at @p text.  Stops at the end of the text,
 * or at an unbalanced `)` or a `,` (for @@c++() inside other text);
 * *@p end says where.  Returns KD_OK or the error code with @p err.
 */
int kd_cpp__eval(const struct kd_cpp_ops *ops, const char *text,
		 const char **end, struct kd_cpp_value *out,
		 struct kd_cpp_error *err);

/* What type @p t is. */
int kd_cpp__tinfo(const struct kd_cpp_ops *ops, struct kd_cpp_type t,
		  struct kd_cpp_tinfo *out);

/*
 * WinDbg's spelling of @p t: "unsigned int", "struct _KTHREAD *",
 * "char [16]"; @p tagged adds struct/union/enum before a UDT's name.
 */
void kd_cpp__type_name(const struct kd_cpp_ops *ops, struct kd_cpp_type t,
		       bool tagged, char *buf, size_t cap);

/* The scalar value of @p v (loads an lvalue); < 0 when unreadable. */
int kd_cpp__load(const struct kd_cpp_ops *ops, const struct kd_cpp_value *v,
		 uint64_t *out);

/* One member of a UDT, as kd_cpp__members() reports it. */
struct kd_cpp_member {
	const char *name;
	struct kd_cpp_type type; /* bit field: its base type */
	uint64_t offset;
	uint8_t bit_pos, bit_len;
};

/*
 * Call @p cb for each data member of the UDT @p udt (static members,
 * methods and nested types left out), in record order.  A non-zero return
 * stops the walk.
 */
int kd_cpp__members(const struct kd_cpp_ops *ops, struct kd_cpp_type udt,
		    int (*cb)(void *cbctx, const struct kd_cpp_member *m),
		    void *cbctx);

/* The enumerator of enum @p t with value @p v, or NULL. */
const char *kd_cpp__enum_name(const struct kd_cpp_ops *ops,
			      struct kd_cpp_type t, uint64_t v);

#endif /* KD_EXPR_CPPEXPR_H */
