/* SPDX-License-Identifier: MIT */
/*
 * Types for `dt` to show, linked into the synthetic kernel: bitfields,
 * unions, anonymous members, arrays, nested structs, enums, pointers and
 * a function pointer, with global instances of known value so that an
 * instance display can be checked byte for byte.  Nothing in the kernel
 * uses them; the linker keeps them (/DEBUG implies /OPT:NOREF) and the
 * PDB describes them.
 */
typedef unsigned char UCHAR;
typedef char CHAR;
typedef short SHORT;
typedef unsigned short USHORT;
typedef long LONG;
typedef unsigned long ULONG;
typedef long long LONGLONG;
typedef unsigned long long ULONGLONG;

typedef enum _DT_COLOR {
	DtRed = 0,
	DtGreen = 1,
	DtBlue = 5,
	DtNegative = -2,
} DT_COLOR;

typedef struct _DT_LINK {
	struct _DT_LINK *Next;
	struct _DT_LINK *Prev;
} DT_LINK;

typedef struct _DT_INNER {
	USHORT Kind;
	SHORT Delta;
	ULONG Count;
} DT_INNER;

typedef union _DT_VALUE {
	ULONGLONG Quad;
	ULONG Parts[2];
	UCHAR Bytes[8];
} DT_VALUE;

typedef LONG (*DT_CALLBACK)(void *Context);

typedef struct _DT_OBJECT {
	SHORT Type;
	USHORT Size;
	ULONG Flags;
	union {
		ULONG AllFlags;
		struct {
			ULONG Enabled : 1;
			ULONG Mode : 3;
			ULONG Spare : 28;
		};
	};
	DT_INNER Inner;
	DT_INNER Pair[2];
	DT_VALUE Value;
	DT_COLOR Color;
	CHAR Name[16];
	struct _DT_OBJECT *Self;
	void *Opaque;
	DT_LINK Links;
	DT_CALLBACK Callback;
	LONGLONG Signed64;
	ULONGLONG Big;
	union {
		struct {
			USHORT Low;
			USHORT High;
		} s;
		ULONG Both;
	} u;
	UCHAR Grid[2][3];
	struct _DT_OBJECT *Missing;
} DT_OBJECT;

/* A list of three nodes linked through Links, which is not at offset 0,
 * so that `dt -l Links.Next` has to subtract the field's offset. */
typedef struct _DT_NODE {
	ULONG Id;
	ULONG Pad;
	DT_LINK Links;
	DT_COLOR Color;
} DT_NODE;

LONG DtCallback(void *Context);
extern DT_NODE DtNodes[3];
extern DT_NODE DtLoop[3];
extern DT_OBJECT DtObject;

LONG DtCallback(void *Context)
{
	return Context ? 1 : 0;
}

DT_NODE DtNodes[3] = {
	{ 1, 0, { &DtNodes[1].Links, &DtNodes[2].Links }, DtRed },
	{ 2, 0, { &DtNodes[2].Links, &DtNodes[0].Links }, DtGreen },
	{ 3, 0, { &DtNodes[0].Links, &DtNodes[1].Links }, DtBlue },
};

/* A list that loops back to its second element, never to its start:
 * the walk has to notice by itself. */
DT_NODE DtLoop[3] = {
	{ 0x10, 0, { &DtLoop[1].Links, 0 }, DtRed },
	{ 0x11, 0, { &DtLoop[2].Links, 0 }, DtRed },
	{ 0x12, 0, { &DtLoop[1].Links, 0 }, DtRed },
};

DT_OBJECT DtObject = {
	.Type = -3,
	.Size = sizeof(DT_OBJECT),
	.Flags = 0x80000001,
	.AllFlags = 0x2b, /* Enabled 1, Mode 5, Spare 2 */
	.Inner = { 7, -1, 0x1234 },
	.Pair = { { 1, 2, 3 }, { 4, -5, 6 } },
	.Value = { .Quad = 0x1122334455667788ull },
	.Color = DtBlue,
	.Name = "kdsim",
	.Self = &DtObject,
	.Opaque = 0,
	.Links = { &DtNodes[0].Links, &DtNodes[2].Links },
	.Callback = DtCallback,
	.Signed64 = -100,
	.Big = 0xfedcba9876543210ull,
	.u = { .s = { 0x1111, 0x2222 } },
	.Grid = { { 1, 2, 3 }, { 4, 5, 6 } },
	/* Points into unmapped space: a read there fails. */
	.Missing = (DT_OBJECT *)0xfffff8000ff00000ull,
};
