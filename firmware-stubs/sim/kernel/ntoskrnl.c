/* SPDX-License-Identifier: MIT */
/*
 * The synthetic Windows x64 kernel kdsim runs: a freestanding PE32+ image
 * whose exports, data blocks and workload give the debugger real code to
 * stop in.  kdsim fills the exported data blocks after loading it.
 */
#include <stdarg.h>

#include "ntstructs.h"
#include "simabi.h"

typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

#define EXPORT __declspec(dllexport)

/* --- Data the debugger finds (filled by kdsim at boot) --- */

EXPORT struct _LIST_ENTRY PsLoadedModuleList;
EXPORT struct _LIST_ENTRY PsActiveProcessHead;
EXPORT u64 KdpDebuggerDataListHead[2];
EXPORT u8 KdDebuggerDataBlock[0x380] __attribute__((aligned(16)));
EXPORT struct _KPRCB *KiProcessorBlock[64];
EXPORT u32 KeNumberProcessors;
EXPORT u16 NtBuildNumber = 19041;
EXPORT char NtBuildLab[] = "19041.1.amd64fre.kdsim.000000-0000";
EXPORT volatile u64 KiWorkCounter[64];

/* --- Hypercalls --- */

/* Debug service @svc (simabi.h) with rcx = @a and rdx = @b. */
static inline void sim_service(u32 svc, u64 a, u64 b)
{
	__asm__ volatile("int $0x2d" : : "a"(svc), "c"(a), "d"(b) : "memory");
}

static inline u32 sim_in(u16 port)
{
	u32 v;

	__asm__ volatile("inl %%dx, %%eax" : "=a"(v) : "d"(port) : "memory");
	return v;
}

/* --- Tiny runtime --- */

void *memset(void *d, int c, unsigned long long n);
void *memcpy(void *d, const void *s, unsigned long long n);

void *memset(void *d, int c, unsigned long long n)
{
	volatile u8 *p = d;

	while (n--)
		*p++ = (u8)c;
	return d;
}

void *memcpy(void *d, const void *s, unsigned long long n)
{
	volatile u8 *p = d;
	const u8 *q = s;

	while (n--)
		*p++ = *q++;
	return d;
}

static u64 put_num(char *buf, u64 pos, u64 cap, u64 v, u32 base, int width)
{
	char tmp[24];
	int n = 0;

	do {
		u32 d = (u32)(v % base);

		tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= base;
	} while (v && n < 24);
	while (n < width && n < 24)
		tmp[n++] = '0';
	while (n > 0 && pos < cap)
		buf[pos++] = tmp[--n];
	return pos;
}

/* A small vsnprintf: %s %c %d %u %x %p, with l/ll and a 0-padded width. */
static u64 format(char *buf, u64 cap, const char *fmt, va_list ap)
{
	u64 pos = 0;

	while (*fmt && pos < cap) {
		int longs = 0, width = 0;
		u64 v;

		if (*fmt != '%') {
			buf[pos++] = *fmt++;
			continue;
		}
		fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l') {
			longs++;
			fmt++;
		}
		switch (*fmt) {
		case 's': {
			const char *s = va_arg(ap, const char *);

			while (s && *s && pos < cap)
				buf[pos++] = *s++;
			break;
		}
		case 'c':
			buf[pos++] = (char)va_arg(ap, int);
			break;
		case 'd': {
			long long sv = longs ? va_arg(ap, long long) :
					       va_arg(ap, int);

			if (sv < 0) {
				buf[pos++] = '-';
				sv = -sv;
			}
			pos = put_num(buf, pos, cap, (u64)sv, 10, width);
			break;
		}
		case 'u':
			v = longs ? va_arg(ap, u64) : va_arg(ap, u32);
			pos = put_num(buf, pos, cap, v, 10, width);
			break;
		case 'x':
			v = longs ? va_arg(ap, u64) : va_arg(ap, u32);
			pos = put_num(buf, pos, cap, v, 16, width);
			break;
		case 'p':
			v = (u64)va_arg(ap, void *);
			pos = put_num(buf, pos, cap, v, 16, 16);
			break;
		case '%':
			buf[pos++] = '%';
			break;
		default:
			buf[pos++] = '?';
			break;
		}
		if (*fmt)
			fmt++;
	}
	return pos;
}

/* --- Debugger entry points --- */

/* int3; ret: the hard-coded breakpoints of the kernel. */
__asm__(".globl DbgBreakPoint\n"
	"DbgBreakPoint:\n\tint3\n\tret\n"
	".globl DbgBreakPointWithStatus\n"
	".globl RtlpBreakWithStatusInstruction\n"
	"DbgBreakPointWithStatus:\n"
	"RtlpBreakWithStatusInstruction:\n\tint3\n\tret\n"
	".section .drectve\n"
	".ascii \" -export:DbgBreakPoint\"\n"
	".ascii \" -export:DbgBreakPointWithStatus\"\n"
	".ascii \" -export:RtlpBreakWithStatusInstruction\"\n"
	".text\n");

void DbgBreakPointWithStatus(u32 status);

EXPORT __attribute__((noinline)) u32 DbgPrint(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	u64 n;

	va_start(ap, fmt);
	n = format(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sim_service(SIMABI_SVC_PRINT, (u64)buf, n);
	return 0;
}

EXPORT u64 KiBugCheckData[5];

EXPORT __attribute__((noreturn)) void KeBugCheckEx(u32 code, u64 p1, u64 p2,
						   u64 p3, u64 p4)
{
	KiBugCheckData[0] = code;
	KiBugCheckData[1] = p1;
	KiBugCheckData[2] = p2;
	KiBugCheckData[3] = p3;
	KiBugCheckData[4] = p4;
	DbgPrint("\n*** Fatal System Error: 0x%08x\n"
		 "                       (0x%016llx,0x%016llx,0x%016llx,"
		 "0x%016llx)\n\n",
		 code, p1, p2, p3, p4);
	sim_service(SIMABI_SVC_BUGCHECK, (u64)KiBugCheckData, 0);
	DbgBreakPointWithStatus(SIMABI_DBG_STATUS_BUGCHECK_FIRST);
	for (;;)
		sim_service(SIMABI_SVC_HALT, 0, 0);
}

/* --- The workload --- */

EXPORT __attribute__((noinline)) u32 RtlComputeCrc32(u32 crc, const u8 *buf,
						     u32 len)
{
	u32 i;
	int k;

	crc = ~crc;
	for (i = 0; i < len; i++) {
		crc ^= buf[i];
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

/*
 * Not exported, like the Ki and Mi internals of a real kernel: only the
 * PDB names these two frames, so a `k` through the workload shows whether
 * the debugger read it (export symbols would call them nt!Export+0x...).
 * RtlFibonacci -> MiSimComputeStep -> KiSimWorkerInner on every step.
 */
static __attribute__((noinline)) u64 KiSimWorkerInner(u64 a, u64 b)
{
	return a + b;
}

/* The stores after the call keep this a frame rather than a tail jump. */
static __attribute__((noinline)) void MiSimComputeStep(u64 *a, u64 *b)
{
	u64 t = KiSimWorkerInner(*a, *b);

	*a = *b;
	*b = t;
}

EXPORT __attribute__((noinline)) u64 RtlFibonacci(u32 n)
{
	u64 a = 0, b = 1;

	while (n--)
		MiSimComputeStep(&a, &b);
	return a;
}

static u8 work_buffer[64][64];

EXPORT __attribute__((noinline)) u64 KeWorkerStep(u32 cpu, u64 iteration)
{
	u8 *buf = work_buffer[cpu & 63];
	u64 v;

	buf[iteration & 63] = (u8)iteration;
	v = RtlComputeCrc32((u32)iteration, buf, 64);
	v += RtlFibonacci((u32)(iteration & 63));
	KiWorkCounter[cpu & 63] = iteration;
	return v;
}

EXPORT __attribute__((noinline)) void MmLoadSystemImage(u32 slot)
{
	sim_service(SIMABI_SVC_LOADMOD, slot, 0);
	DbgPrint("kdsim: loaded module slot %u\n", slot);
}

static u64 read_prcb_ticks(void)
{
	u64 v;

	__asm__ volatile("mov %%gs:%c1, %0"
			 : "=r"(v)
			 : "i"(SIMABI_KPCR_PRCB + SIMABI_KPRCB_TICKS));
	return v;
}

static void write_prcb_ticks(u64 v)
{
	__asm__ volatile("mov %0, %%gs:%c1"
			 :
			 : "r"(v), "i"(SIMABI_KPCR_PRCB + SIMABI_KPRCB_TICKS)
			 : "memory");
}

/* except.c: the assertion the debugger asks for through a trap frame. */
void KiSimCheckAssertRequest(u64 iteration);

/* Entry point of every processor: rcx = processor number. */
EXPORT __attribute__((noreturn)) void KiSystemStartup(u32 cpu)
{
	u64 i;
	u64 acc = 0;

	if (cpu == 0)
		DbgPrint("kdsim: synthetic kernel build %u started\n",
			 (u32)NtBuildNumber);
	for (i = 0;; i++) {
		u32 cmd;

		acc += KeWorkerStep(cpu, i);
		write_prcb_ticks(read_prcb_ticks() + 1);
		KiSimCheckAssertRequest(i);
		cmd = sim_in(SIMABI_PORT_COMMAND);
		if (cmd == SIMABI_CMD_PRINT)
			DbgPrint("kdsim: cpu %u iteration %llu acc %llx\n", cpu,
				 i, acc);
		else if (cmd == SIMABI_CMD_BUGCHECK)
			KeBugCheckEx(sim_in(SIMABI_PORT_ARG), 0, 0, 0, 0);
		else if (cmd == SIMABI_CMD_LOADMOD)
			MmLoadSystemImage(sim_in(SIMABI_PORT_ARG));
	}
}

/* --- Kernel objects (kdsim builds them at boot: objects.c) --- */

/*
 * Where a debugger finds kdsim's objects, by the names Windows exports:
 * the processes through PsActiveProcessHead (and PsInitialSystemProcess),
 * the processors through KiProcessorBlock, the object namespace (\Driver,
 * \Device, \ObjectTypes) through ObpRootDirectoryObject, the object types
 * through ObTypeIndexTable (OBJECT_HEADER.TypeIndex, not encoded here).
 */
EXPORT struct _EPROCESS *PsInitialSystemProcess;
EXPORT struct _OBJECT_DIRECTORY *ObpRootDirectoryObject;
EXPORT struct _OBJECT_TYPE *ObTypeIndexTable[16];
EXPORT struct _OBJECT_TYPE *PsProcessType;
EXPORT struct _OBJECT_TYPE *PsThreadType;
EXPORT struct _OBJECT_TYPE *IoDriverObjectType;
EXPORT struct _OBJECT_TYPE *IoDeviceObjectType;
EXPORT struct _OBJECT_TYPE *ObpDirectoryObjectType;
/* Every process's HANDLE_TABLE.HandleTableList. */
EXPORT struct _LIST_ENTRY HandleTableListHead;

/*
 * Types no exported variable above reaches: one pointer each keeps them in
 * the PDB (its type records are what a debugger reads the objects by).
 */
struct _KDSIM_TYPE_ANCHOR {
	struct _ETHREAD *Thread;
	struct _KEVENT *Event;
	struct _CLIENT_ID *ClientId;
	struct _OBJECT_HEADER *ObjectHeader;
	struct _OBJECT_HEADER_NAME_INFO *NameInfo;
	struct _POOL_HEADER *PoolHeader;
	struct _KIDTENTRY64 *IdtEntry;
	struct _KPCR *Pcr;
	struct _DRIVER_OBJECT *DriverObject;
	struct _DEVICE_OBJECT *DeviceObject;
	struct _DEVOBJ_EXTENSION *DevobjExtension;
	struct _IRP *Irp;
	struct _IO_STACK_LOCATION *IoStackLocation;
	struct _HANDLE_TABLE *HandleTable;
};
EXPORT struct _KDSIM_TYPE_ANCHOR KdsimTypeAnchor;

/*
 * The interrupt handlers the IDT points at (Windows' names).  kdsim takes
 * every interrupt in its own hooks before the processor would dispatch
 * through the IDT, so these never run: each stops the processor.
 */
#define KI_TRAP(name, vec)                             \
	".globl " #name "\n" #name ":\n\tpushq $" #vec \
	"\n\tjmp KiUnexpectedTrap\n"
__asm__(".text\n"
	".globl KiUnexpectedTrap\n"
	"KiUnexpectedTrap:\n\thlt\n\tjmp KiUnexpectedTrap\n" KI_TRAP(
		KiDivideErrorFault,
		0x00) KI_TRAP(KiDebugTrapOrFault,
			      0x01) KI_TRAP(KiNmiInterrupt,
					    0x02) KI_TRAP(KiBreakpointTrap,
							  0x03) KI_TRAP(KiOverflowTrap,
									0x04)
		KI_TRAP(KiBoundFault, 0x05) KI_TRAP(KiInvalidOpcodeFault, 0x06) KI_TRAP(
			KiNpxNotAvailableFault,
			0x07) KI_TRAP(KiDoubleFaultAbort,
				      0x08) KI_TRAP(KiNpxSegmentOverrunAbort,
						    0x09) KI_TRAP(KiInvalidTssFault,
								  0x0a)
			KI_TRAP(KiSegmentNotPresentFault, 0x0b) KI_TRAP(
				KiStackFault,
				0x0c) KI_TRAP(KiGeneralProtectionFault,
					      0x0d) KI_TRAP(KiPageFault, 0x0e)
				KI_TRAP(KiFloatingErrorFault, 0x10) KI_TRAP(
					KiAlignmentFault,
					0x11) KI_TRAP(KiMcheckAbort,
						      0x12) KI_TRAP(KiXmmException,
								    0x13)
					KI_TRAP(KiApcInterrupt, 0x1f) KI_TRAP(
						KiRaiseSecurityCheckFailure,
						0x29) KI_TRAP(KiDebugServiceTrap,
							      0x2d)
						KI_TRAP(KiDpcInterrupt, 0x2f)
							KI_TRAP(KiIpiInterrupt,
								0xe1));

void KiDivideErrorFault(void);
void KiDebugTrapOrFault(void);
void KiNmiInterrupt(void);
void KiBreakpointTrap(void);
void KiOverflowTrap(void);
void KiBoundFault(void);
void KiInvalidOpcodeFault(void);
void KiNpxNotAvailableFault(void);
void KiDoubleFaultAbort(void);
void KiNpxSegmentOverrunAbort(void);
void KiInvalidTssFault(void);
void KiSegmentNotPresentFault(void);
void KiStackFault(void);
void KiGeneralProtectionFault(void);
void KiPageFault(void);
void KiFloatingErrorFault(void);
void KiAlignmentFault(void);
void KiMcheckAbort(void);
void KiXmmException(void);
void KiApcInterrupt(void);
void KiRaiseSecurityCheckFailure(void);
/* The 0x2c handler is kernel/except.c's, which builds a trap frame. */
void KiRaiseAssertion(void);
void KiDebugServiceTrap(void);
void KiDpcInterrupt(void);
void KiIpiInterrupt(void);

/* kdsim fills the IDT from this table (Windows' KiInterruptInitTable). */
EXPORT struct _KIDT_INIT_ENTRY KiInterruptInitTable[] = {
	{ 0x00, 0, (void *)KiDivideErrorFault },
	{ 0x01, 0, (void *)KiDebugTrapOrFault },
	{ 0x02, 0, (void *)KiNmiInterrupt },
	{ 0x03, 3, (void *)KiBreakpointTrap },
	{ 0x04, 3, (void *)KiOverflowTrap },
	{ 0x05, 0, (void *)KiBoundFault },
	{ 0x06, 0, (void *)KiInvalidOpcodeFault },
	{ 0x07, 0, (void *)KiNpxNotAvailableFault },
	{ 0x08, 0, (void *)KiDoubleFaultAbort },
	{ 0x09, 0, (void *)KiNpxSegmentOverrunAbort },
	{ 0x0a, 0, (void *)KiInvalidTssFault },
	{ 0x0b, 0, (void *)KiSegmentNotPresentFault },
	{ 0x0c, 0, (void *)KiStackFault },
	{ 0x0d, 0, (void *)KiGeneralProtectionFault },
	{ 0x0e, 0, (void *)KiPageFault },
	{ 0x10, 0, (void *)KiFloatingErrorFault },
	{ 0x11, 0, (void *)KiAlignmentFault },
	{ 0x12, 0, (void *)KiMcheckAbort },
	{ 0x13, 0, (void *)KiXmmException },
	{ 0x1f, 0, (void *)KiApcInterrupt },
	{ 0x29, 3, (void *)KiRaiseSecurityCheckFailure },
	{ 0x2c, 3, (void *)KiRaiseAssertion },
	{ 0x2d, 3, (void *)KiDebugServiceTrap },
	{ 0x2f, 0, (void *)KiDpcInterrupt },
	{ 0xe1, 0, (void *)KiIpiInterrupt },
	{ 0, 0, 0 },
};

/*
 * Dispatch routines of the drivers kdsim creates (objects.c); a pending
 * request stays pending, everything else fails as an unset
 * MajorFunction entry does in Windows.
 */
#define STATUS_PENDING 0x00000103
#define STATUS_INVALID_DEVICE_REQUEST 0xC0000010

EXPORT __attribute__((noinline)) u32 IopInvalidDeviceRequest(
	struct _DEVICE_OBJECT *dev, struct _IRP *irp)
{
	(void)dev;
	irp->IoStatus.Status = (int)STATUS_INVALID_DEVICE_REQUEST;
	return STATUS_INVALID_DEVICE_REQUEST;
}

EXPORT __attribute__((noinline)) u32 PnpDispatch(struct _DEVICE_OBJECT *dev,
						 struct _IRP *irp)
{
	(void)dev;
	irp->PendingReturned = 1;
	return STATUS_PENDING;
}

EXPORT __attribute__((noinline)) u32 KdsimFilterDispatch(
	struct _DEVICE_OBJECT *dev, struct _IRP *irp)
{
	return PnpDispatch(dev->DeviceObjectExtension->AttachedTo, irp);
}

EXPORT __attribute__((noinline)) u32 KdsimFilterCompletion(
	struct _DEVICE_OBJECT *dev, struct _IRP *irp, void *ctx)
{
	(void)dev;
	(void)ctx;
	return irp->PendingReturned;
}
