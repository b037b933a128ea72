/* SPDX-License-Identifier: MIT */
/*
 * Types for the C++ evaluator's tests (tests/integration/kd_cpp_expr.c):
 * built at test time with clang-cl and lld-link into cpptypes.sys and its
 * PDB, which kd loads with `.reload /f cpptypes.sys=Base,Size,Stamp`.
 * Casts then lay these types over real kdsim memory.
 */
struct _LIST_ENTRY {
	struct _LIST_ENTRY *Flink;
	struct _LIST_ENTRY *Blink;
};

typedef enum _SAMPLE_KIND {
	SampleNone = 0,
	SampleOne = 1,
	SampleMany = 2,
} SAMPLE_KIND;

struct _SAMPLE_INNER {
	unsigned short Length;
	unsigned short MaximumLength;
	char *Buffer;
};

struct _SAMPLE {
	struct _LIST_ENTRY Links;
	unsigned int Count;
	int Signed;
	unsigned char Flags : 3;
	unsigned char Mode : 5;
	char Name[8];
	struct _SAMPLE_INNER Inner;
	union {
		unsigned long long Whole;
		struct {
			unsigned int Low;
			unsigned int High;
		};
	};
	SAMPLE_KIND Kind;
	struct _SAMPLE *Next;
	unsigned long long Values[4];
	short Small;
};

/*
 * The kernel objects dx's @$curthread and @$curprocess are typed with
 * (looked up by bare name: nt first, then every module).  kdsim keeps a
 * thread's process at +0x220, as Windows 10's _KTHREAD.Process; here the
 * current process of the thread, ApcState.Process, is laid there.
 */
struct _KPROCESS {
	unsigned long long Header[3];
};

struct _EPROCESS {
	struct _KPROCESS Pcb;
	void *UniqueProcessId;
};

struct _KAPC_STATE {
	struct _LIST_ENTRY ApcListHead[2];
	struct _KPROCESS *Process;
};

struct _KTHREAD {
	unsigned char Header[0x200];
	struct _KAPC_STATE ApcState;
};

struct _ETHREAD {
	struct _KTHREAD Tcb;
	void *Cid[2];
};

struct _ETHREAD *g_Thread;
struct _EPROCESS *g_Process;
struct _SAMPLE g_Sample;
struct _SAMPLE *g_SamplePtr = &g_Sample;

int DriverEntry(void)
{
	return (int)g_Sample.Count + (g_SamplePtr->Next != 0);
}
