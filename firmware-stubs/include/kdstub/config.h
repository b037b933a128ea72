/* SPDX-License-Identifier: MIT */
/*
 * Compile-time sizes and limits of kdstub, the target side of KD.  Every
 * buffer of the stub is sized here; override a value with -D before
 * including any kdstub header.
 */
#ifndef KDSTUB_CONFIG_H
#define KDSTUB_CONFIG_H

/* Software breakpoints the stub can hold at once (handles 1..N). */
#ifndef KDSTUB_MAX_BREAKPOINTS
#define KDSTUB_MAX_BREAKPOINTS 32
#endif

/* Highest processor count a platform may report. */
#ifndef KDSTUB_MAX_PROCESSORS
#define KDSTUB_MAX_PROCESSORS 64
#endif

/* Send attempts per packet before a losable packet is dropped (§1.10). */
#ifndef KDSTUB_RETRIES
#define KDSTUB_RETRIES 20
#endif

/*
 * How long the stub waits for an ACK, or for the rest of a packet whose
 * leader arrived, when the I/O driver has now_ms().  Without now_ms() the
 * stub counts empty polls instead (KDSTUB_POLL_LIMIT, §1.10).
 */
#ifndef KDSTUB_ACK_TIMEOUT_MS
#define KDSTUB_ACK_TIMEOUT_MS 1000
#endif
#ifndef KDSTUB_POLL_LIMIT
#define KDSTUB_POLL_LIMIT (1024L * 200L)
#endif

/* Bytes of the x64 CONTEXT (§2.10) and of KSPECIAL_REGISTERS (§2.11). */
#define KDSTUB_CONTEXT_SIZE 1232
#define KDSTUB_KSPECIAL_SIZE 0xE0

/* Largest payload the stub sends and accepts (§1.9). */
#define KDSTUB_MAX_SEND 4000
#define KDSTUB_MAX_RECV 4096

/* Largest pattern SearchMemory / FillMemory accept. */
#ifndef KDSTUB_MAX_PATTERN
#define KDSTUB_MAX_PATTERN 256
#endif

/* Bytes scanned per chunk by SearchMemory (a stack-free scratch buffer). */
#define KDSTUB_SEARCH_CHUNK 512

/*
 * Most bytes one SearchMemory request scans (unreadable pages count too),
 * so a request for 2^64 bytes ends in bounded time.
 */
#ifndef KDSTUB_SEARCH_MAX
#define KDSTUB_SEARCH_MAX 0x4000000ull
#endif

#endif /* KDSTUB_CONFIG_H */
