/* SPDX-License-Identifier: MIT */
/*
 * The synthetic Windows x64 kernel kdsim runs: a freestanding PE32+ image
 * whose exports, data blocks and workload give the debugger real code to
 * stop in.  kdsim fills the exported data blocks after loading it.
 */
#include <stdarg.h>

#include "simabi.h"

typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

#define EXPORT __declspec(dllexport)

/* --- Data the debugger finds (filled by kdsim at boot) --- */

EXPORT u64 PsLoadedModuleList[2];
EXPORT u64 PsActiveProcessHead[2];
EXPORT u64 KdpDebuggerDataListHead[2];
EXPORT u8 KdDebuggerDataBlock[0x380] __attribute__((aligned(16)));
EXPORT u64 KiProcessorBlock[64];
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
