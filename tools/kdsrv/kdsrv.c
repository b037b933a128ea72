/* SPDX-License-Identifier: MIT */
/*
 * kdsrv: the KD connection server program.  `kdsrv -t tcp:port=5005`
 * listens for smart clients (`kd -k kdsrv:server=@{...},trans=@{...}`),
 * prints `kdsrv ready: <client string>` and serves until `.endpsrv`,
 * SIGTERM or SIGINT.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kd/error.h>
#include <kd/kdsrv.h>
#include <kd/textsafe.h>

static struct kd_connsrv *g_srv;

static void on_signal(int sig)
{
	(void)sig;
	if (g_srv)
		kd_srv_stop(g_srv);
}

static void usage(FILE *f)
{
	fputs("usage: kdsrv -t TRANSPORT [-l LOGFILE] [--max-clients N]\n"
	      "             [--msg-rate N] [--idle-close SECONDS] [--host NAME]\n"
	      "             [--throttle-ms MS]\n"
	      "             [--allow PATTERN]... [--allow-file FILE]...\n"
	      "  TRANSPORT: tcp:port=P[:Q][,password=X][,hidden]\n"
	      "             tcp:port=P,clicon=HOST[,password=X]\n"
	      "             ssl:port=P,cert=FILE.pem,key=FILE.key[,password=X]\n"
	      "Clients: kd -k kdsrv:server=@{tcp:server=HOST,port=P},"
	      "trans=@{com:...|net:...}\n"
	      "Left out of trans=: com: port= from _NT_DEBUG_PORT, baud= from\n"
	      "  _NT_DEBUG_BAUD_RATE; net: port= from OPENKD_KDNET_PORT, key=\n"
	      "  from OPENKD_KDNET_KEY (this machine's environment)\n"
	      "What clients may open (trans=): the --allow patterns, e.g.\n"
	      "  --allow 'net:port=50000..50099' --allow "
	      "'com:pipe,port=/run/vm/*.sock'\n"
	      "  (FILE: one pattern a line, # comments; 'default' adds the\n"
	      "  built-in list).  Without any: net: (host role, ports\n"
	      "  1024-65535), com: serial devices /dev/ttyS*, ttyUSB*,\n"
	      "  ttyACM*, and the ports this environment names.  See\n"
	      "  docs/security.md.\n",
	      f);
}

static int number(const char *opt, const char *v, int min, int max)
{
	char *end;
	long n = v ? strtol(v, &end, 10) : 0;

	if (!v || *end || n < min || n > max) {
		fprintf(stderr, "kdsrv: %s needs a number in %d..%d\n", opt,
			min, max);
		exit(2);
	}
	return (int)n;
}

int main(int argc, char **argv)
{
	struct kd_srv_opts o = {
		KD_SRV_OPTS_VERSION, NULL, NULL, NULL, 0, 0, 0, NULL, 0
	};
	char host[256], desc[300], shown[600];
	struct kd_srv_policy *policy = NULL;
	struct sigaction sa;
	FILE *log = NULL;
	int rc;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "-t") == 0 && v) {
			o.spec = v;
			i++;
		} else if (strcmp(a, "-l") == 0 && v) {
			log = fopen(v, "a");
			if (!log) {
				fprintf(stderr, "kdsrv: cannot open log %s\n",
					v);
				return 2;
			}
			o.log = log;
			i++;
		} else if (strcmp(a, "--max-clients") == 0) {
			o.max_clients = number(a, v, 1, 4096);
			i++;
		} else if (strcmp(a, "--msg-rate") == 0) {
			o.msg_rate = number(a, v, 1, 10000000);
			i++;
		} else if (strcmp(a, "--throttle-ms") == 0) {
			o.throttle_ms = number(a, v, 1, 3600 * 1000);
			i++;
		} else if (strcmp(a, "--idle-close") == 0) {
			o.idle_close_s = number(a, v, 0, 86400 * 365);
			i++;
		} else if (strcmp(a, "--host") == 0 && v) {
			o.host = v;
			i++;
		} else if ((strcmp(a, "--allow") == 0 ||
			    strcmp(a, "--allow-file") == 0) &&
			   v) {
			if (!policy && kd_srv_policy_new(&policy) < 0) {
				fputs("kdsrv: out of memory\n", stderr);
				return 2;
			}
			rc = a[7] ? kd_srv_policy_load(policy, v) :
				    kd_srv_policy_add(policy, v);
			if (rc < 0) {
				fprintf(stderr, "kdsrv: %s '%s': %s\n", a, v,
					kd_error_message(rc));
				kd_srv_policy_free(policy);
				return 2;
			}
			i++;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0 ||
			   strcmp(a, "-?") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "kdsrv: unknown argument '%s'\n",
				kd_text_redact(shown, sizeof(shown), a));
			usage(stderr);
			kd_srv_policy_free(policy);
			return 2;
		}
	}
	if (!o.spec) {
		usage(stderr);
		kd_srv_policy_free(policy);
		return 2;
	}
	o.policy = policy;
	if (!o.host) {
		if (gethostname(host, sizeof(host)) < 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		o.host = host;
	}
	signal(SIGPIPE, SIG_IGN);
	rc = kd_srv_open(&g_srv, &o);
	if (rc < 0) {
		/* Never the password: the spec is shown with it masked. */
		fprintf(stderr, "kdsrv: cannot listen on %s: %s\n",
			kd_text_redact(shown, sizeof(shown), o.spec),
			kd_error_message(rc));
		kd_srv_policy_free(policy);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	kd_srv_describe(g_srv, desc, sizeof(desc));
	printf("kdsrv ready: %s\n", desc);
	fflush(stdout);
	rc = kd_srv_run(g_srv);
	kd_srv_close(g_srv);
	g_srv = NULL;
	kd_srv_policy_free(policy);
	if (log)
		fclose(log);
	if (rc < 0) {
		fprintf(stderr, "kdsrv: %s\n", kd_error_message(rc));
		return 1;
	}
	return 0;
}
