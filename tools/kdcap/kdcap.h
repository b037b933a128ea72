/* SPDX-License-Identifier: MIT */
/*
 * kdcap internals: the capture readers (pcap/pcapng through libpcap, raw
 * serial streams), the KD packet decoder and printer, and the session
 * synthesiser.  Built as the kdcap_core library so the fuzz target can use it.
 */
#ifndef KDCAP_H
#define KDCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <kd/proto.h>

/* Exit codes of `kdcap decode` (documented in docs/kdcap.md). */
#define KDCAP_EXIT_OK 0
#define KDCAP_EXIT_DECODE 1 /* unreadable input or nothing decoded */
#define KDCAP_EXIT_USAGE 2
#define KDCAP_EXIT_AUTH 3 /* KDNET datagrams failed authentication */

/* Largest raw serial file read into memory. */
#define KDCAP_MAX_RAW_FILE (64u * 1024u * 1024u)

/* Direction of a unit of traffic. */
enum kdcap_dir {
	KDCAP_DIR_H2T = 0, /* host (debugger) to target */
	KDCAP_DIR_T2H = 1, /* target to host */
	KDCAP_DIR_UNKNOWN = 2,
};

#define KDCAP_MAX_NAMES 96

/* One counter with a static name ("GetVersion", "KD_ACKNOWLEDGE"). */
struct kdcap_count {
	const char *name;
	uint64_t n;
};

struct kdcap_stats {
	/* KDNET */
	uint64_t datagrams; /* UDP datagrams carrying MDBG */
	uint64_t authenticated;
	uint64_t auth_failures;
	uint64_t malformed; /* bad MDBG framing or unsupported version */
	uint64_t other_udp; /* UDP datagrams that are not KDNET */
	uint64_t offers, responses, pings, kdnet_breakins, control_other;
	bool data_key; /* derived from a RESPONSE */
	bool need_key; /* KDNET seen without --key */
	/* KD packets, any carrier */
	uint64_t packets; /* well-framed KD packets (bad checksum too) */
	uint64_t data_packets;
	uint64_t control_packets;
	uint64_t checksum_ok;
	uint64_t checksum_bad;
	uint64_t bad_packets;	/* bad length, trailer, truncated */
	uint64_t breakins;	/* serial break-in bytes + KDNET break-ins */
	uint64_t garbage_bytes; /* serial bytes skipped while hunting */
	uint64_t records;	/* pcap records read */
	uint64_t read_errors;	/* truncated or unreadable input */
	struct kdcap_count by_type[KDCAP_MAX_NAMES];
	size_t n_types;
	struct kdcap_count by_api[KDCAP_MAX_NAMES];
	size_t n_apis;
};

/* Decoder state; one per `kdcap decode` run. */
struct kdcap_dec {
	FILE *out;
	FILE *err;
	bool json;
	struct kd_net_session *net; /* NULL without --key */
	struct kd_stream stream[3]; /* per enum kdcap_dir */
	bool have_t0;
	uint64_t t0_ns;
	struct kdcap_stats st;
	char lineb[512]; /* the line being built */
	size_t linelen;
	bool line_json_first;
};

/**
 * Set up @p d: output to @p out, one-line errors to @p err; @p key
 * (`w.x.y.z`, may be NULL) enables KDNET decryption.
 * @return 0; KD_EINVAL bad key (message written to @p err); KD_ENOMEM.
 */
int kdcap_dec_init(struct kdcap_dec *d, FILE *out, FILE *err, const char *key,
		   bool json);

/** Release what kdcap_dec_init() took. */
void kdcap_dec_free(struct kdcap_dec *d);

/** One UDP payload captured at @p ts_ns (ns since the epoch). */
void kdcap_dec_datagram(struct kdcap_dec *d, uint64_t ts_ns, const uint8_t *p,
			size_t len);

/**
 * Serial bytes going in @p dir.  @p ts_ns is the capture time, or
 * UINT64_MAX for raw files without time: lines then show @p offset (the
 * position of these bytes in their stream).
 */
void kdcap_dec_stream(struct kdcap_dec *d, enum kdcap_dir dir, uint64_t ts_ns,
		      uint64_t offset, const uint8_t *p, size_t len);

/** A one-line input error (printed to the error stream, counted). */
void kdcap_dec_error(struct kdcap_dec *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/** Print the summary block. */
void kdcap_dec_summary(struct kdcap_dec *d);

/** Exit code for what was seen (KDCAP_EXIT_*). */
int kdcap_dec_exit_code(const struct kdcap_dec *d);

/** True when @p p starts with a pcap or pcapng magic number. */
bool kdcap_is_pcap(const uint8_t *p, size_t len);

/**
 * Read a pcap/pcapng capture from @p f (taken over and closed) with
 * libpcap, feeding every record to @p d.  @p name is used in messages.
 * @return 0 when the file was read to its end; KD_ETRUNC when a record was
 *         truncated (the records before it were decoded); KD_EPROTO when
 *         the file is not readable as a capture or its link type is
 *         unsupported.
 */
int kdcap_read_pcap(struct kdcap_dec *d, FILE *f, const char *name);

/** Feed a whole raw serial stream going in @p dir. */
void kdcap_read_raw(struct kdcap_dec *d, enum kdcap_dir dir, const uint8_t *p,
		    size_t len);

/**
 * Write a synthetic session through the transport stack into @p path:
 * KDNET with key @p key when @p kdnet, else KD serial.  Progress and errors
 * go to @p err.
 * @return 0 or a negative KD_E* code.
 */
int kdcap_synth(const char *path, bool kdnet, const char *key, FILE *err);

#endif /* KDCAP_H */
