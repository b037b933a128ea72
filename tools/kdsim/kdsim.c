/* SPDX-License-Identifier: MIT */
/*
 * kdsim: a simulated Windows x64 target for KD hosts.  Runs the synthetic
 * kernel on the simulated machine and speaks KD as the target over serial
 * (unix socket, TCP, pty) or KDNET, optionally misbehaving on request.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <kd/clock.h>
#include <kd/error.h>
#include <kd/io.h>
#include <kd/transport.h>
#include <kdsim/sim.h>
#include <kdstub/kdstub.h>

#include "dumpserve.h"

#define IO_BUF 8192

static struct {
	char connstr[1024]; /* what kdsim opens (with fault layer, server) */
	char base[512];	    /* the channel alone */
	bool net;
	bool pty;
	int pty_fd;
	int pty_slave;
	struct kd_transport *t;
	uint8_t rx[IO_BUF];
	size_t rx_len, rx_pos;
	uint8_t tx[IO_BUF];
	size_t tx_len;
	uint32_t slow_ms;
	uint64_t stall_after;
	uint32_t stall_ms;
	uint64_t sends;
	bool stalled;
} io;

static volatile int stop_flag;
static char pipe_path[108]; /* unix socket to remove on a signal */

/* kdstub may be waiting inside a report: leave at once. */
static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
	if (pipe_path[0])
		unlink(pipe_path);
	_exit(0);
}

static void sleep_ms(uint32_t ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !stop_flag)
		;
}

/* Misbehaviour applied to every outgoing unit: slow answers, one stall. */
static void before_send(void)
{
	io.sends++;
	if (io.slow_ms)
		sleep_ms(io.slow_ms);
	if (io.stall_after && !io.stalled && io.sends > io.stall_after) {
		io.stalled = true;
		fprintf(stderr, "kdsim: stalling for %u ms\n", io.stall_ms);
		sleep_ms(io.stall_ms);
	}
}

static int channel_open(void)
{
	int rc = kd_transport_open(&io.t, io.connstr);

	if (rc < 0)
		fprintf(stderr, "kdsim: cannot open %s: %s\n", io.connstr,
			kd_error_message(rc));
	return rc;
}

/*
 * `ipport=0` bound an ephemeral port: write the real one into the
 * connection string so a re-opened listener (next host) uses it again.
 */
static void keep_port(uint16_t port)
{
	char *p = strstr(io.connstr, "ipport=0");
	char rest[1024];

	if (!p || (p[8] != ',' && p[8] != '\0'))
		return;
	snprintf(rest, sizeof(rest), "%s", p + 8);
	snprintf(p, sizeof(io.connstr) - (size_t)(p - io.connstr),
		 "ipport=%u%s", port, rest);
}

/* The serial host went away: listen again for the next one. */
static void channel_reopen(void)
{
	kd_transport_close(io.t);
	io.t = NULL;
	io.rx_len = io.rx_pos = io.tx_len = 0;
	if (channel_open() < 0)
		stop_flag = 1;
}

/* --- serial (com transport or pty) --- */

static void ser_flush(void)
{
	if (io.tx_len == 0)
		return;
	before_send();
	if (io.pty) {
		/* A failed write (the pty closed) shows as silence, as on a
		 * serial line; the non-blocking pty waits for room. */
		(void)kd_write_all(io.pty_fd, io.tx, io.tx_len);
	} else if (kd_transport_send(io.t, io.tx, io.tx_len) ==
		   KD_EDISCONNECTED) {
		channel_reopen();
	}
	io.tx_len = 0;
}

static int ser_getc(void)
{
	ser_flush();
	if (io.rx_pos == io.rx_len) {
		size_t n = 0;

		io.rx_pos = io.rx_len = 0;
		if (io.pty) {
			struct pollfd pfd = { io.pty_fd, POLLIN, 0 };
			ssize_t r;

			if (poll(&pfd, 1, 1) <= 0)
				return -1;
			r = read(io.pty_fd, io.rx, sizeof(io.rx));
			if (r <= 0)
				return -1;
			n = (size_t)r;
		} else {
			/* Wait a little when idle: kdstub polls in a loop. */
			int rc = kd_transport_recv(io.t, io.rx, sizeof(io.rx),
						   &n, 1);

			if (rc == KD_EDISCONNECTED)
				channel_reopen();
			if (rc < 0)
				return -1;
		}
		io.rx_len = n;
	}
	return io.rx[io.rx_pos++];
}

static void ser_putc(uint8_t b)
{
	if (io.tx_len == sizeof(io.tx))
		ser_flush();
	io.tx[io.tx_len++] = b;
}

/* --- KDNET (net transport, target role: one KD packet per datagram) --- */

static int net_send(const uint8_t *pkt, size_t len)
{
	before_send();
	return kd_transport_send(io.t, pkt, len);
}

static int net_recv(uint8_t *buf, size_t cap, size_t *len)
{
	int rc = kd_transport_recv(io.t, buf, cap, len, 1);

	if (rc == KD_ETIMEOUT || rc == KD_EBUFS)
		return KD_EAGAIN;
	return rc;
}

static int net_reopen(void)
{
	kd_transport_close(io.t);
	io.t = NULL;
	return channel_open();
}

static const struct kdstub_io serial_io = {
	.name = "kdsim-serial",
	.getc = ser_getc,
	.putc = ser_putc,
	.flush = ser_flush,
	.now_ms = kd_mono_ms,
};

static const struct kdstub_io net_io = {
	.name = "kdsim-kdnet",
	.send_packet = net_send,
	.recv_packet = net_recv,
	.now_ms = kd_mono_ms,
};

static int open_pty(char *name, size_t cap)
{
	struct termios tio;
	const char *slave;

	io.pty_fd = posix_openpt(O_RDWR | O_NOCTTY);
	if (io.pty_fd < 0 || grantpt(io.pty_fd) < 0 || unlockpt(io.pty_fd) < 0)
		return KD_ERROR;
	slave = ptsname(io.pty_fd);
	if (!slave)
		return KD_ERROR;
	snprintf(name, cap, "%s", slave);
	/* Keep a slave descriptor open so the master never sees a hang-up
	 * while no host is attached, and make the line raw. */
	io.pty_slave = open(slave, O_RDWR | O_NOCTTY);
	if (io.pty_slave < 0 || tcgetattr(io.pty_slave, &tio) < 0)
		return KD_ERROR;
	cfmakeraw(&tio);
	if (tcsetattr(io.pty_slave, TCSANOW, &tio) < 0)
		return KD_ERROR;
	fcntl(io.pty_fd, F_SETFL, fcntl(io.pty_fd, F_GETFL) | O_NONBLOCK);
	return KD_OK;
}

static void usage(FILE *f)
{
	fputs("usage: kdsim (-k CONNSTR | --pty) [options]\n"
	      "  -k com:pipe,port=PATH       serial server on a unix socket\n"
	      "  -k com:ipport=P,port=ADDR   serial server on TCP (P=0: any)\n"
	      "  --pty                       serial on a new pty (path shown)\n"
	      "  -k net:port=P,key=K,hostip=ADDR  KDNET target\n"
	      "  --cpus N (1-64, default 4)  --mem-gib N (default 16)\n"
	      "  --mem-mib N                 memory in MiB (even, >= 96)\n"
	      "  --kernel DIR                folder of ntoskrnl.exe etc.\n"
	      "  --drop P --corrupt P        fault injection (probability)\n"
	      "  --delay-ms N                delay every packet sent by N ms\n"
	      "  --slow-ms N                 sleep N ms before each send\n"
	      "  --stall-after N [--stall-ms M]  stall once after N sends\n"
	      "  --reboot-after MS           reboot the machine after MS ms\n"
	      "  --bugcheck-after MS [--bugcheck-code C]\n"
	      "  --print-ms MS --loadmod-ms MS  DbgPrint / module load period\n"
	      "  --dump FILE                 serve a crash dump (x64) instead\n"
	      "  --seed N -v\n",
	      f);
}

enum {
	OPT_PTY = 256,
	OPT_CPUS,
	OPT_MEM,
	OPT_MEM_MIB,
	OPT_KERNEL,
	OPT_DROP,
	OPT_CORRUPT,
	OPT_DELAY,
	OPT_SLOW,
	OPT_STALL,
	OPT_STALL_MS,
	OPT_REBOOT,
	OPT_BUGCHECK,
	OPT_BUGCODE,
	OPT_PRINT,
	OPT_LOADMOD,
	OPT_SEED,
	OPT_SLICE,
	OPT_DUMP,
};

static bool parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *s == '\0' || *end != '\0' || v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool parse_prob(const char *s, const char **out)
{
	char *end;
	double v = strtod(s, &end);

	if (*s == '\0' || *end != '\0' || !(v >= 0.0 && v <= 1.0))
		return false;
	*out = s;
	return true;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pty", no_argument, NULL, OPT_PTY },
		{ "cpus", required_argument, NULL, OPT_CPUS },
		{ "mem-gib", required_argument, NULL, OPT_MEM },
		{ "mem-mib", required_argument, NULL, OPT_MEM_MIB },
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "drop", required_argument, NULL, OPT_DROP },
		{ "corrupt", required_argument, NULL, OPT_CORRUPT },
		{ "delay-ms", required_argument, NULL, OPT_DELAY },
		{ "slow-ms", required_argument, NULL, OPT_SLOW },
		{ "stall-after", required_argument, NULL, OPT_STALL },
		{ "stall-ms", required_argument, NULL, OPT_STALL_MS },
		{ "reboot-after", required_argument, NULL, OPT_REBOOT },
		{ "bugcheck-after", required_argument, NULL, OPT_BUGCHECK },
		{ "bugcheck-code", required_argument, NULL, OPT_BUGCODE },
		{ "print-ms", required_argument, NULL, OPT_PRINT },
		{ "loadmod-ms", required_argument, NULL, OPT_LOADMOD },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "slice", required_argument, NULL, OPT_SLICE },
		{ "dump", required_argument, NULL, OPT_DUMP },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kdsim_config cfg = KDSIM_CONFIG_INIT;
	const char *k = NULL, *drop = NULL, *corrupt = NULL, *dump = NULL;
	struct kdsim_dump *ds = NULL;
	uint32_t delay_ms = 0, seed = 1, v32 = 0;
	char fault[256] = "";
	char ready[600];
	struct kdsim *m = NULL;
	int c, rc;

	io.stall_ms = 5000;
	while ((c = getopt_long(argc, argv, "k:vh", opts, NULL)) != -1) {
		bool ok = true;

		switch (c) {
		case 'k':
			k = optarg;
			break;
		case OPT_PTY:
			io.pty = true;
			break;
		case OPT_CPUS:
			ok = parse_u32(optarg, KDSIM_MAX_CPUS, &cfg.cpus) &&
			     cfg.cpus >= 1;
			break;
		case OPT_MEM:
			ok = parse_u32(optarg, 1024, &cfg.mem_gib) &&
			     cfg.mem_gib >= 1;
			break;
		case OPT_MEM_MIB:
			ok = parse_u32(optarg, 1024u * 1024u, &cfg.mem_mib) &&
			     cfg.mem_mib >= KDSIM_MIN_MEM_MIB &&
			     cfg.mem_mib % 2 == 0;
			break;
		case OPT_KERNEL:
			cfg.kernel_dir = optarg;
			break;
		case OPT_DROP:
			ok = parse_prob(optarg, &drop);
			break;
		case OPT_CORRUPT:
			ok = parse_prob(optarg, &corrupt);
			break;
		case OPT_DELAY:
			ok = parse_u32(optarg, 600000, &delay_ms);
			break;
		case OPT_SLOW:
			ok = parse_u32(optarg, 600000, &io.slow_ms);
			break;
		case OPT_STALL:
			ok = parse_u32(optarg, UINT32_MAX, &v32);
			io.stall_after = v32;
			break;
		case OPT_STALL_MS:
			ok = parse_u32(optarg, 600000, &io.stall_ms);
			break;
		case OPT_REBOOT:
			ok = parse_u32(optarg, UINT32_MAX,
				       &cfg.reboot_after_ms);
			break;
		case OPT_BUGCHECK:
			ok = parse_u32(optarg, UINT32_MAX,
				       &cfg.bugcheck_after_ms);
			break;
		case OPT_BUGCODE:
			ok = parse_u32(optarg, UINT32_MAX, &cfg.bugcheck_code);
			break;
		case OPT_PRINT:
			ok = parse_u32(optarg, UINT32_MAX, &cfg.print_ms);
			break;
		case OPT_LOADMOD:
			ok = parse_u32(optarg, UINT32_MAX, &cfg.loadmod_ms);
			break;
		case OPT_SEED:
			ok = parse_u32(optarg, UINT32_MAX, &seed);
			break;
		case OPT_SLICE:
			ok = parse_u32(optarg, 100000000, &cfg.slice) &&
			     cfg.slice >= 1;
			break;
		case OPT_DUMP:
			dump = optarg;
			break;
		case 'v':
			cfg.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (!ok) {
			const char *name = "?";
			size_t o;

			for (o = 0; opts[o].name; o++)
				if (opts[o].val == c)
					name = opts[o].name;
			fprintf(stderr, "kdsim: bad value '%s' for --%s\n",
				optarg, name);
			return 2;
		}
	}
	if (optind != argc || (!k && !io.pty) || (k && io.pty)) {
		usage(stderr);
		return 2;
	}
	if (k && strlen(k) > 400) {
		fprintf(stderr, "kdsim: connection string too long\n");
		return 2;
	}

	/* Fault layer stacked over the channel. */
	if (drop || corrupt || delay_ms) {
		int n = snprintf(fault, sizeof(fault), "fault:seed=%u", seed);

		if (drop)
			n += snprintf(fault + n, sizeof(fault) - (size_t)n,
				      ",drop=%s", drop);
		if (corrupt)
			n += snprintf(fault + n, sizeof(fault) - (size_t)n,
				      ",corrupt=%s", corrupt);
		if (delay_ms)
			n += snprintf(fault + n, sizeof(fault) - (size_t)n,
				      ",delay=1,delay_ms=%u,dir=tx", delay_ms);
		(void)n;
		if (io.pty) {
			fprintf(stderr, "kdsim: fault options need -k\n");
			return 2;
		}
	}
	if (k) {
		io.net = strncmp(k, "net:", 4) == 0;
		if (!io.net && strncmp(k, "com:", 4) != 0) {
			fprintf(stderr, "kdsim: -k takes com: or net:\n");
			return 2;
		}
		snprintf(io.base, sizeof(io.base), "%s%s", k,
			 io.net ? (strstr(k, "role=") ? "" : ",role=target") :
				  (strstr(k, "server") ? "" : ",server"));
		snprintf(io.connstr, sizeof(io.connstr), "%s%s%s", fault,
			 fault[0] ? "|" : "", io.base);
		if (!io.net && strstr(k, "pipe") && strstr(k, "port=")) {
			const char *pp = strstr(k, "port=") + 5;

			snprintf(pipe_path, sizeof(pipe_path), "%.*s",
				 (int)strcspn(pp, ","), pp);
		}
	}

	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	if (dump) {
		char err[256] = "";

		rc = kdsim_dump_open(&ds, dump, cfg.verbose, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "kdsim: cannot serve %s: %s\n", dump,
				err[0] ? err : kd_error_message(rc));
			return 1;
		}
		cfg.cpus = kdsim_dump_cpus(ds);
		rc = KD_OK;
	} else {
		rc = kdsim_create(&m, &cfg);
	}
	if (rc < 0) {
		fprintf(stderr, "kdsim: cannot create the machine (%d)\n", rc);
		return 1;
	}
	if (io.pty) {
		if (open_pty(ready, sizeof(ready)) < 0) {
			fprintf(stderr, "kdsim: cannot open a pty: %s\n",
				strerror(errno));
			kdsim_destroy(m);
			kdsim_dump_close(ds);
			return 1;
		}
		printf("kdsim ready: com:port=%s cpus=%u\n", ready, cfg.cpus);
	} else {
		uint16_t port;

		if (channel_open() < 0) {
			kdsim_destroy(m);
			kdsim_dump_close(ds);
			return 1;
		}
		if (!io.net && k && strstr(k, "ipport=") &&
		    kd_transport_local_port(io.t, &port) == KD_OK) {
			keep_port(port);
			printf("kdsim ready: com:ipport=%u,port=127.0.0.1 "
			       "cpus=%u\n",
			       port, cfg.cpus);
		} else {
			printf("kdsim ready: %s cpus=%u\n", k, cfg.cpus);
		}
	}
	fflush(stdout);
	if (ds)
		rc = kdsim_dump_serve(ds, io.net ? &net_io : &serial_io,
				      &stop_flag);
	else
		rc = kdsim_run(m, io.net ? &net_io : &serial_io,
			       io.net ? net_reopen : NULL, &stop_flag);
	if (rc < 0)
		fprintf(stderr, "kdsim: stopped on error %d\n", rc);
	kd_transport_close(io.t);
	kdsim_destroy(m);
	kdsim_dump_close(ds);
	return rc < 0 ? 1 : 0;
}
