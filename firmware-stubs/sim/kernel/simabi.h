/* SPDX-License-Identifier: MIT */
/*
 * The contract between kdsim and its synthetic kernel: the debug services
 * (int 0x2d), the command ports and the per-processor offsets both sides
 * use.  Plain macros only: the mingw-built kernel includes it too.
 */
#ifndef KDSIM_SIMABI_H
#define KDSIM_SIMABI_H

/*
 * Debug services: `int 0x2d` with eax = service, arguments in rcx and rdx
 * (Windows uses the same vector for its debug services).  kdsim sees the
 * interrupt with RIP after the two-byte instruction.
 *   PRINT:    rcx = string address, rdx = length in bytes
 *   BUGCHECK: rcx = address of KiBugCheckData (u64 code, parameters 1-4)
 *   LOADMOD:  rcx = module slot to "load" (kdsim maps it and reports it)
 *   HALT:     the processor stops for good (after a bug check)
 *   EXCEPTION: rcx = EXCEPTION_RECORD64, rdx = the _KTRAP_FRAME it was
 *             built from: report a first-chance exception (except.c)
 */
#define SIMABI_VECTOR 0x2D
#define SIMABI_SVC_PRINT 1
#define SIMABI_SVC_BUGCHECK 2
#define SIMABI_SVC_LOADMOD 3
#define SIMABI_SVC_HALT 4
#define SIMABI_SVC_EXCEPTION 5

/* Raise-assertion vector (int 0x2c, NT_ASSERT): kdsim delivers it to the
 * kernel's KiRaiseAssertion with an x64 machine frame. */
#define SIMABI_VECTOR_ASSERT 0x2C

/*
 * `in eax, dx` from COMMAND returns what kdsim wants this processor to do
 * next; ARG returns the argument of the last command (bug-check code,
 * module slot).
 */
#define SIMABI_PORT_COMMAND 0x5D3
#define SIMABI_PORT_ARG 0x5D4

#define SIMABI_CMD_NONE 0
#define SIMABI_CMD_PRINT 1    /* print a status line */
#define SIMABI_CMD_BUGCHECK 2 /* call KeBugCheckEx(ARG, ...) */
#define SIMABI_CMD_LOADMOD 3  /* load module slot ARG */

/* DbgBreakPointWithStatus argument used by KeBugCheckEx. */
#define SIMABI_DBG_STATUS_BUGCHECK_FIRST 3

/* Per-processor structure offsets (x64 Windows 10 values). */
#define SIMABI_KPCR_SELF 0x18
#define SIMABI_KPCR_CURRENT_PRCB 0x20
#define SIMABI_KPCR_PRCB 0x180
#define SIMABI_KPRCB_CURRENT_THREAD 0x08
#define SIMABI_KPRCB_NUMBER 0x24
#define SIMABI_KPRCB_TICKS 0x40 /* kdsim's own: workload iterations */

#endif /* KDSIM_SIMABI_H */
