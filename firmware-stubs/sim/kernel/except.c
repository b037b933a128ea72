/* SPDX-License-Identifier: MIT */
/*
 * Exceptions through a trap frame, as Windows x64 takes them: the
 * workload raises an assertion with `int 0x2c` (what NT_ASSERT compiles
 * to), kdsim delivers the interrupt like the processor does (the machine
 * frame pushed on the aligned stack, rip = the vector's handler), and
 * KiRaiseAssertion builds a _KTRAP_FRAME around that machine frame, backs
 * Rip up to the `int 0x2c`, and hands it to KiSimDispatchException.
 * That builds the EXCEPTION_RECORD and reports it to the debugger (debug
 * service EXCEPTION), which sees a first-chance STATUS_ASSERTION_FAILURE
 * stopped in the dispatcher; `.trap` on the frame shows the assertion
 * site.  When the debugger continues, the assertion is passed over.
 *
 * _KTRAP_FRAME has Windows' x64 layout (ntddk.h), so the PDB describes
 * the type under its Windows name with Windows' offsets.
 */
#include "simabi.h"

typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

#define EXPORT __declspec(dllexport)
#define STATUS_ASSERTION_FAILURE 0xC0000420u

typedef struct _M128A {
	u64 Low;
	long long High;
} M128A;

typedef struct _KTRAP_FRAME {
	u64 P1Home;
	u64 P2Home;
	u64 P3Home;
	u64 P4Home;
	u64 P5Home;
	char PreviousMode;
	u8 PreviousIrql;
	u8 FaultIndicator;
	u8 ExceptionActive;
	u32 MxCsr;
	u64 Rax;
	u64 Rcx;
	u64 Rdx;
	u64 R8;
	u64 R9;
	u64 R10;
	u64 R11;
	u64 GsBase;
	M128A Xmm0;
	M128A Xmm1;
	M128A Xmm2;
	M128A Xmm3;
	M128A Xmm4;
	M128A Xmm5;
	u64 FaultAddress;
	u64 Dr0;
	u64 Dr1;
	u64 Dr2;
	u64 Dr3;
	u64 Dr6;
	u64 Dr7;
	u64 DebugControl;
	u64 LastBranchToRip;
	u64 LastBranchFromRip;
	u64 LastExceptionToRip;
	u64 LastExceptionFromRip;
	u16 SegDs;
	u16 SegEs;
	u16 SegFs;
	u16 SegGs;
	u64 TrapFrame;
	u64 Rbx;
	u64 Rdi;
	u64 Rsi;
	u64 Rbp;
	u64 ErrorCode;
	u64 Rip;
	u16 SegCs;
	u8 Fill0;
	u8 Logging;
	u16 Fill1[2];
	u32 EFlags;
	u32 Fill2;
	u64 Rsp;
	u16 SegSs;
	u16 Fill3;
	u32 Fill4;
} KTRAP_FRAME;

/* The offsets KiRaiseAssertion's stores and kdsim's delivery rely on. */
_Static_assert(__builtin_offsetof(KTRAP_FRAME, Rax) == 0x30, "Rax");
_Static_assert(__builtin_offsetof(KTRAP_FRAME, SegDs) == 0x130, "SegDs");
_Static_assert(__builtin_offsetof(KTRAP_FRAME, Rbx) == 0x140, "Rbx");
_Static_assert(__builtin_offsetof(KTRAP_FRAME, Rip) == 0x168, "Rip");
_Static_assert(__builtin_offsetof(KTRAP_FRAME, EFlags) == 0x178, "EFlags");
_Static_assert(__builtin_offsetof(KTRAP_FRAME, Rsp) == 0x180, "Rsp");
_Static_assert(sizeof(KTRAP_FRAME) == 0x190, "size");

typedef struct _EXCEPTION_RECORD {
	u32 ExceptionCode;
	u32 ExceptionFlags;
	struct _EXCEPTION_RECORD *ExceptionRecord;
	void *ExceptionAddress;
	u32 NumberParameters;
	u64 ExceptionInformation[15];
} EXCEPTION_RECORD;

_Static_assert(__builtin_offsetof(EXCEPTION_RECORD, NumberParameters) == 0x18,
	       "NumberParameters");
_Static_assert(sizeof(EXCEPTION_RECORD) == 0x98, "EXCEPTION_RECORD");

/* Set by the debugger (`ed nt!KiSimAssertRequest 1`): the next workload
 * step of any processor raises the assertion. */
EXPORT volatile u32 KiSimAssertRequest;
/* The last trap frame and record dispatched, for the debugger to find. */
EXPORT KTRAP_FRAME *volatile KiSimLastTrapFrame;
EXPORT EXCEPTION_RECORD KiSimLastExceptionRecord;

EXPORT __attribute__((noinline)) void KiSimDispatchException(
	KTRAP_FRAME *TrapFrame)
{
	EXCEPTION_RECORD *er = &KiSimLastExceptionRecord;

	er->ExceptionCode = STATUS_ASSERTION_FAILURE;
	er->ExceptionFlags = 0;
	er->ExceptionRecord = 0;
	er->ExceptionAddress = (void *)TrapFrame->Rip;
	er->NumberParameters = 0;
	KiSimLastTrapFrame = TrapFrame;
	__asm__ volatile("int $0x2d"
			 :
			 : "a"(SIMABI_SVC_EXCEPTION), "c"(er), "d"(TrapFrame)
			 : "memory");
	/* Continued: resume after the two-byte int 0x2c. */
	TrapFrame->Rip += 2;
}

/*
 * The interrupt 0x2c handler.  On entry rsp points at the machine frame
 * (Rip, SegCs, EFlags, Rsp, SegSs) that is the tail of the trap frame;
 * the prologue allocates the rest of the frame and the callee's home
 * slots below it (all in the prologue, so the unwind data describes the
 * whole frame: 0x20 home bytes, then the trap frame at rsp+0x20).
 * r10 and r11 carry the return (the asserting code gives them up, as
 * around any call); everything else comes back as it was.
 */
__asm__(".globl KiRaiseAssertion\n"
	".def KiRaiseAssertion; .scl 2; .type 32; .endef\n"
	".seh_proc KiRaiseAssertion\n"
	"KiRaiseAssertion:\n"
	"\t.seh_pushframe\n"
	"\tsub $0x188, %rsp\n"
	"\t.seh_stackalloc 0x188\n"
	"\t.seh_endprologue\n"
	"\tmov %rax, 0x50(%rsp)\n"
	"\tmov %rcx, 0x58(%rsp)\n"
	"\tmov %rdx, 0x60(%rsp)\n"
	"\tmov %r8, 0x68(%rsp)\n"
	"\tmov %r9, 0x70(%rsp)\n"
	"\tmov %r10, 0x78(%rsp)\n"
	"\tmov %r11, 0x80(%rsp)\n"
	"\tmov %ds, %ax\n"
	"\tmov %ax, 0x150(%rsp)\n"
	"\tmov %es, %ax\n"
	"\tmov %ax, 0x152(%rsp)\n"
	"\tmov %fs, %ax\n"
	"\tmov %ax, 0x154(%rsp)\n"
	"\tmov %gs, %ax\n"
	"\tmov %ax, 0x156(%rsp)\n"
	"\tmov %rbx, 0x160(%rsp)\n"
	"\tmov %rdi, 0x168(%rsp)\n"
	"\tmov %rsi, 0x170(%rsp)\n"
	"\tmov %rbp, 0x178(%rsp)\n"
	"\tmovq $0, 0x180(%rsp)\n"
	"\tmovq $0, 0x158(%rsp)\n"
	/* int 0x2c leaves Rip past itself: the assertion is the int. */
	"\tsubq $2, 0x188(%rsp)\n"
	"\tlea 0x20(%rsp), %rcx\n"
	"\tcall KiSimDispatchException\n"
	"\tmov 0x50(%rsp), %rax\n"
	"\tmov 0x58(%rsp), %rcx\n"
	"\tmov 0x60(%rsp), %rdx\n"
	"\tmov 0x68(%rsp), %r8\n"
	"\tmov 0x70(%rsp), %r9\n"
	"\tmov 0x160(%rsp), %rbx\n"
	"\tmov 0x168(%rsp), %rdi\n"
	"\tmov 0x170(%rsp), %rsi\n"
	"\tmov 0x178(%rsp), %rbp\n"
	"\tmov 0x188(%rsp), %r11\n"
	"\tmov 0x1a0(%rsp), %r10\n"
	"\tpushq 0x198(%rsp)\n"
	"\tpopfq\n"
	"\tmov %r10, %rsp\n"
	"\tjmp *%r11\n"
	".seh_endproc\n"
	".section .drectve\n"
	".ascii \" -export:KiRaiseAssertion\"\n"
	".text\n");

/* The asserting code: checks an invariant of the work counters and
 * raises STATUS_ASSERTION_FAILURE through int 0x2c when it fails. */
EXPORT __attribute__((noinline)) u64 ExSimCheckInvariant(u64 value)
{
	u64 twice = value * 2;

	if (twice != value + value || KiSimAssertRequest)
		__asm__ volatile("int $0x2c" : : : "r10", "r11", "memory");
	return twice;
}

/* One workload step's check: raise the assertion when asked to. */
EXPORT __attribute__((noinline)) void KiSimCheckAssertRequest(u64 iteration)
{
	if (!KiSimAssertRequest)
		return;
	ExSimCheckInvariant(iteration);
	KiSimAssertRequest = 0;
}
