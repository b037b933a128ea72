/* SPDX-License-Identifier: MIT */
/*
 * The type layer (sym/types.c): what `dt`, `??` and the kernel extensions
 * know about a module's types, read from its PDB's TPI.  It never reads
 * target memory: callers read the bytes and hand them in.
 *
 * A type is a PDB plus a type index.  Every function strips what WinDbg
 * treats as transparent (LF_MODIFIER, LF_ALIAS) and resolves forward
 * references before it looks at a record, and every walk is bounded:
 * KD_TYPE_MAX_CHAIN hops through modifiers/aliases/arrays, KD_TYPE_MAX_DEPTH
 * levels of nested anonymous members or path components, and
 * KD_TYPE_MAX_MEMBERS members per walk.  A type that goes past a bound
 * gives KD_EPROTO and one line in kd_error_last(), never a loop.
 */
#ifndef KD_SYM_TYPES_H
#define KD_SYM_TYPES_H

#include <kd/pdb.h>

#include "core/engine_int.h"

#define KD_TYPE_MAX_CHAIN 64
#define KD_TYPE_MAX_DEPTH 16
#define KD_TYPE_MAX_MEMBERS 65536
/* Longest type name the layer spells (longer ones are cut with "..."). */
#define KD_TYPE_NAME_MAX 512

enum kd_type_kind {
	KD_TYPE_NONE = 0, /* unknown or undecodable leaf */
	KD_TYPE_VOID,
	KD_TYPE_INT,   /* integers, characters, bool, HRESULT */
	KD_TYPE_FLOAT, /* float, double */
	KD_TYPE_POINTER,
	KD_TYPE_ARRAY,
	KD_TYPE_STRUCT, /* struct, class, interface */
	KD_TYPE_UNION,
	KD_TYPE_ENUM,
	KD_TYPE_FUNCTION, /* LF_PROCEDURE / LF_MFUNCTION */
	KD_TYPE_BITFIELD,
};

/* A type of one module: its PDB and an index in its TPI. */
struct kd_type {
	struct kd_module *mod; /* NULL when the caller has only a PDB */
	struct kd_pdb *pdb;
	uint32_t ti;
};

/* One type, decoded with transparent records stripped. */
struct kd_type_info {
	enum kd_type_kind kind;
	uint32_t ti;	  /* the index after stripping and resolving */
	uint64_t size;	  /* bytes (arrays: all elements; functions: 0) */
	const char *name; /* struct/union/enum tag, "" otherwise (borrowed) */
	/*
	 * ref: pointer target, array element, enum underlying type,
	 * bitfield base, function return type; 0 when none.
	 */
	uint32_t ref;
	uint64_t count;	   /* array elements; struct/union/enum members */
	uint8_t ptr_size;  /* pointers: 4 or 8 */
	uint8_t bit_pos;   /* bitfields */
	uint8_t bit_len;   /* bitfields */
	bool is_signed;	   /* integers and enums (their underlying type) */
	bool is_char;	   /* char, signed/unsigned char, wchar_t */
	bool is_wchar;	   /* wchar_t, char16_t */
	bool is_bool;	   /* bool */
	bool is_const;	   /* a const modifier was stripped */
	bool is_volatile;  /* a volatile modifier was stripped */
	bool is_anonymous; /* a struct/union with no name or <unnamed-*> */
	bool is_reference; /* a pointer in C++ reference mode */
	uint32_t basic;	   /* ti < 0x1000: the CodeView basic type */
};

/*
 * Decode @p ti of @p pdb into @p out.  KD_EINVAL outside the TPI,
 * KD_EPROTO for a damaged or looping record, KD_ENOTFOUND for a forward
 * reference with no definition (out->kind is then the tag's kind with
 * size 0, so a caller may still print its name).
 */
int kd_sym__type_info(struct kd_pdb *pdb, uint32_t ti,
		      struct kd_type_info *out);

/* The size in bytes of @p ti in *@p size (same errors). */
int kd_sym__type_size(struct kd_pdb *pdb, uint32_t ti, uint64_t *size);

/*
 * WinDbg's spelling of @p ti as dt prints it in the type column:
 * "Uint4B", "Ptr64 _LIST_ENTRY", "[4] Uint2B", "Pos 0, 3 Bits",
 * "_KTHREAD", "<unnamed-tag>", "Ptr64     long".  Always NUL-terminates
 * @p buf (cap > 0); KD_EOVERFLOW when it had to cut the name.
 */
int kd_sym__type_name(struct kd_pdb *pdb, uint32_t ti, char *buf, size_t cap);

/* The C spelling ("unsigned long", "struct _LIST_ENTRY *", "int [4]"). */
int kd_sym__type_cname(struct kd_pdb *pdb, uint32_t ti, char *buf, size_t cap);

/* One data member, as the member walk hands it out. */
struct kd_type_member {
	const char *name; /* borrowed from the PDB */
	uint32_t type;	  /* the member's type index as recorded */
	uint64_t offset;  /* bytes from the start of the walked type */
	bool is_bitfield;
	uint8_t bit_pos, bit_len;
	/*
	 * 0 for a member of the walked type; n for one of an anonymous
	 * struct/union member inlined n levels down (its offset already
	 * includes the parents').
	 */
	unsigned int depth;
	bool is_base; /* a base class (name "" or the class's tag) */
};

/*
 * Call @p cb for each data member of struct/union/class @p ti in record
 * order (unions repeat offsets, bitfields share them).  Unnamed members
 * of an anonymous struct/union type are inlined (depth > 0), as WinDbg
 * shows them; static members, methods and nested types are skipped.  A
 * non-zero return from @p cb stops the walk and is returned.
 */
int kd_sym__type_members(struct kd_pdb *pdb, uint32_t ti,
			 int (*cb)(void *ctx, const struct kd_type_member *m),
			 void *ctx);

/*
 * Look a dotted member path ("Tcb.Header.Type", "Array[3]", "u.s.Bit")
 * up in @p ti: *@p out gets the last member with its offset from the
 * start of @p ti (array indexes included).  Only embedded members are
 * followed (a path that goes through a pointer is KD_EINVAL).
 * KD_ENOTFOUND names the missing component in kd_error_last().
 */
int kd_sym__type_field(struct kd_pdb *pdb, uint32_t ti, const char *path,
		       struct kd_type_member *out);

/* The name of enumerator @p value of enum @p ti (borrowed), or
 * KD_ENOTFOUND. */
int kd_sym__enum_name(struct kd_pdb *pdb, uint32_t ti, int64_t value,
		      const char **name);

/* The value of enumerator @p name of enum @p ti. */
int kd_sym__enum_value(struct kd_pdb *pdb, uint32_t ti, const char *name,
		       int64_t *value);

/*
 * The integer in @p len bytes at @p bytes as type @p ti reads it
 * (little-endian; sign-extended for signed types; a bitfield's bits
 * extracted).  KD_EINVAL for a type that is not an integer, enum,
 * pointer or bitfield, KD_ETRUNC when @p len is too short.
 */
int kd_sym__type_read_int(struct kd_pdb *pdb, uint32_t ti, const void *bytes,
			  size_t len, uint64_t *value);

/*
 * The CodeView basic type index of C spelling @p cname ("int", "unsigned
 * long", "char", "wchar_t", "unsigned __int64", "void", "bool", "float",
 * "double", "short", "signed char", ...; "int *" etc. are the 64-bit
 * pointer forms) in *@p ti, usable with any PDB.  KD_ENOTFOUND for a
 * name that is no basic type.
 */
int kd_sym__type_basic(const char *cname, uint32_t *ti);

/*
 * Find the type named @p name: "mod!Name" in that module's PDB, or a bare
 * "Name" in nt's PDB first and then each loaded module's in list order.
 * Structs, unions, classes, enums and typedef names (S_UDT) are found;
 * KD_ENOTFOUND when no loaded PDB has it.
 */
int kd_sym__type_lookup(struct kd_session *s, const char *name,
			struct kd_type *out);

/*
 * Call @p cb for each struct/union/class/enum (definitions only, each name
 * once per module) whose name matches wildcard @p pattern ("mod!_KP*" or
 * "_KP*" over every module with a PDB).  A non-zero return stops.
 */
int kd_sym__type_foreach(struct kd_session *s, const char *pattern,
			 int (*cb)(void *ctx, const struct kd_type *t,
				   const char *name),
			 void *ctx);

/*
 * A global variable "mod!Name" or "Name" (nt first): its address and
 * type.  KD_ENOTFOUND when no loaded PDB has a data symbol of that name.
 */
int kd_sym__global_type(struct kd_session *s, const char *name, uint64_t *addr,
			struct kd_type *out);

#endif /* KD_SYM_TYPES_H */
