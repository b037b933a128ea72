/* SPDX-License-Identifier: MIT */
/*
 * kdcap: decode KDNET and KD serial captures, one line per KD packet, and
 * synthesise self-consistent sessions through the transport stack.
 */
#define _DEFAULT_SOURCE 1
#include "kdcap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kdcap decode FILE [FILE2] [--key w.x.y.z] [--json]\n"
		"       kdcap synth --kdnet OUT.pcapng --key w.x.y.z\n"
		"       kdcap synth --serial OUT.pcapng\n"
		"FILE is a pcap/pcapng capture (KDNET over UDP or an openkd\n"
		"serial capture) or a raw serial byte stream; with two raw\n"
		"files, FILE is host->target and FILE2 target->host.\n"
		"exit: 0 ok, 1 decode errors, 2 usage, 3 authentication "
		"failures\n");
}

/* Read a whole raw file, at most KDCAP_MAX_RAW_FILE bytes. */
static uint8_t *read_raw(struct kdcap_dec *d, FILE *f, const char *name,
			 size_t *len_out)
{
	size_t cap = 65536, len = 0;
	uint8_t *buf = malloc(cap);

	while (buf) {
		size_t n = fread(buf + len, 1, cap - len, f);

		len += n;
		if (n == 0)
			break;
		if (len == cap) {
			uint8_t *nb;

			if (cap >= KDCAP_MAX_RAW_FILE) {
				kdcap_dec_error(d,
						"%s: larger than %u bytes, "
						"only the start is decoded",
						name, KDCAP_MAX_RAW_FILE);
				break;
			}
			cap *= 2;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				buf = NULL;
			}
			buf = nb;
		}
	}
	if (!buf) {
		kdcap_dec_error(d, "%s: out of memory", name);
		return NULL;
	}
	if (ferror(f))
		kdcap_dec_error(d, "%s: read error", name);
	*len_out = len;
	return buf;
}

static int cmd_decode(int argc, char **argv)
{
	const char *files[2] = { NULL, NULL };
	const char *key = NULL;
	bool json = false;
	int nfiles = 0;
	struct kdcap_dec *d;
	FILE *fp[2] = { NULL, NULL };
	bool pcap[2] = { false, false };
	int rc;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--key") == 0 && i + 1 < argc) {
			key = argv[++i];
		} else if (strncmp(argv[i], "--key=", 6) == 0) {
			key = argv[i] + 6;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "kdcap: unknown option '%s'\n",
				argv[i]);
			usage(stderr);
			return KDCAP_EXIT_USAGE;
		} else if (nfiles < 2) {
			files[nfiles++] = argv[i];
		} else {
			fprintf(stderr, "kdcap: at most two input files\n");
			return KDCAP_EXIT_USAGE;
		}
	}
	if (nfiles == 0) {
		usage(stderr);
		return KDCAP_EXIT_USAGE;
	}
	d = malloc(sizeof(*d));
	if (!d) {
		fprintf(stderr, "kdcap: out of memory\n");
		return KDCAP_EXIT_DECODE;
	}
	if (kdcap_dec_init(d, stdout, stderr, key, json) < 0) {
		free(d);
		return KDCAP_EXIT_USAGE;
	}
	for (int i = 0; i < nfiles; i++) {
		uint8_t magic[4];
		size_t n;

		fp[i] = fopen(files[i], "rb");
		if (!fp[i]) {
			fprintf(stderr, "kdcap: %s: %s\n", files[i],
				strerror(errno));
			for (int j = 0; j < i; j++)
				fclose(fp[j]);
			kdcap_dec_free(d);
			free(d);
			return KDCAP_EXIT_DECODE;
		}
		n = fread(magic, 1, sizeof(magic), fp[i]);
		pcap[i] = kdcap_is_pcap(magic, n);
		rewind(fp[i]);
	}
	if (nfiles == 1 && !pcap[0])
		fprintf(stderr,
			"kdcap: %s: one raw serial stream: direction "
			"unknown (give FILE2 for the other direction)\n",
			files[0]);
	else if (nfiles == 2 && !pcap[0] && !pcap[1])
		fprintf(stderr, "kdcap: raw streams carry no time: byte "
				"offsets shown, host->target first, then "
				"target->host\n");
	for (int i = 0; i < nfiles; i++) {
		if (pcap[i]) {
			kdcap_read_pcap(d, fp[i], files[i]);
		} else {
			size_t len = 0;
			uint8_t *buf = read_raw(d, fp[i], files[i], &len);
			enum kdcap_dir dir = nfiles == 1 ? KDCAP_DIR_UNKNOWN :
					     i == 0	 ? KDCAP_DIR_H2T :
							   KDCAP_DIR_T2H;

			fclose(fp[i]);
			if (buf)
				kdcap_read_raw(d, dir, buf, len);
			free(buf);
		}
	}
	kdcap_dec_summary(d);
	rc = kdcap_dec_exit_code(d);
	kdcap_dec_free(d);
	free(d);
	return rc;
}

static int cmd_synth(int argc, char **argv)
{
	const char *out = NULL;
	const char *key = NULL;
	int kind = -1; /* 1 kdnet, 0 serial */

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--kdnet") == 0 && i + 1 < argc) {
			kind = 1;
			out = argv[++i];
		} else if (strcmp(argv[i], "--serial") == 0 && i + 1 < argc) {
			kind = 0;
			out = argv[++i];
		} else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc) {
			key = argv[++i];
		} else {
			fprintf(stderr, "kdcap: synth: unexpected '%s'\n",
				argv[i]);
			usage(stderr);
			return KDCAP_EXIT_USAGE;
		}
	}
	if (kind < 0 || (kind == 1 && !key)) {
		fprintf(stderr,
			kind == 1 ?
				"kdcap: synth --kdnet needs --key w.x.y.z\n" :
				"kdcap: synth needs --kdnet OUT or --serial OUT\n");
		return KDCAP_EXIT_USAGE;
	}
	if (kdcap_synth(out, kind == 1, key, stderr) < 0)
		return KDCAP_EXIT_DECODE;
	return KDCAP_EXIT_OK;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "decode") == 0)
		return cmd_decode(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "synth") == 0)
		return cmd_synth(argc - 2, argv + 2);
	if (argc >= 2 &&
	    (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return KDCAP_EXIT_OK;
	}
	usage(stderr);
	return KDCAP_EXIT_USAGE;
}
