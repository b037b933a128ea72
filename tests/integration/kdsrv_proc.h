/* SPDX-License-Identifier: MIT */
/*
 * Spawn the `kdsrv` program for integration tests: start it with a -t
 * string and a log file, wait for `kdsrv ready: <client string>`, read the
 * port it took, wait for its exit.  Pairs with kd_proc.h and
 * kdsim_client.h.
 */
#ifndef KDSRV_PROC_H
#define KDSRV_PROC_H

#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct ks {
	pid_t pid;
	int out_fd;
	unsigned port;	 /* the port kdsrv took */
	char ready[512]; /* text after "kdsrv ready: " */
	char log[256];	 /* its -l file */
};

/* Path of the kdsrv binary of this build; NULL when it is not built. */
static inline const char *ks_path(void)
{
	static char path[1024];
	const char *b = getenv("KD_BUILD_DIR");

	snprintf(path, sizeof(path), "%s/tools/kdsrv/kdsrv",
		 b ? b : KD_BUILD_DIR);
	return access(path, X_OK) == 0 ? path : NULL;
}

/*
 * A port range unlikely to collide with parallel tests, below the
 * kernel's ephemeral range (32768 up): there a busy machine's outgoing
 * connections hold ports that a test expects free (a clicon client
 * listens on exactly one).  Callers add up to +800.
 */
static inline unsigned ks_port_base(void)
{
	return 20000u + (unsigned)(getpid() * 37 % 11900);
}

/*
 * Start kdsrv -t @p spec -l <log> plus @p extra (NULL-terminated, may be
 * NULL).  Returns false with the reason on stderr when it did not get
 * ready in 10 s.  Exits 77 when kdsrv is not built.
 */
static inline bool ks_start(struct ks *k, const char *spec,
			    const char *const *extra)
{
	const char *exe = ks_path();
	const char *argv[32];
	char buf[1024];
	size_t have = 0;
	int p[2], n = 0;
	struct timespec t0, t1;

	memset(k, 0, sizeof(*k));
	k->pid = -1;
	if (!exe) {
		fputs("kdsrv is not built: skipped\n", stderr);
		exit(77);
	}
	snprintf(k->log, sizeof(k->log), "/tmp/openkd-kdsrv-%d-%ld.log",
		 (int)getpid(), (long)random());
	unlink(k->log);
	argv[n++] = exe;
	argv[n++] = "-t";
	argv[n++] = spec;
	argv[n++] = "-l";
	argv[n++] = k->log;
	for (int i = 0; extra && extra[i] && n < 30; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	if (pipe(p) < 0)
		return false;
	k->pid = fork();
	if (k->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execv(exe, (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	k->out_fd = p[0];
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pfd = { k->out_fd, POLLIN, 0 };
		ssize_t r;
		const char *s, *q;

		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec > 10)
			break;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		r = read(k->out_fd, buf + have, sizeof(buf) - 1 - have);
		if (r <= 0)
			break;
		have += (size_t)r;
		buf[have] = '\0';
		if (!strchr(buf, '\n'))
			continue;
		s = strstr(buf, "kdsrv ready: ");
		if (!s)
			break;
		s += strlen("kdsrv ready: ");
		snprintf(k->ready, sizeof(k->ready), "%.*s",
			 (int)strcspn(s, "\n"), s);
		q = strstr(k->ready, "Port=");
		if (q)
			k->port = (unsigned)strtoul(q + 5, NULL, 10);
		return k->port != 0;
	}
	fprintf(stderr, "kdsrv did not get ready: %s\n", buf);
	return false;
}

/*
 * kdsrv opens only what its operator allows (docs/security.md): the
 * extra arguments that allow the unix sockets a test made as
 * /tmp/openkd-<tag>-<pid>...sock (`com:pipe`) plus the default list
 * (KDNET on unprivileged ports), then @p more (NULL-terminated, may be
 * NULL).  Static storage: valid until the next call.
 */
static inline const char *const *ks_allow_pipes(const char *tag,
						const char *const *more)
{
	static char pattern[160];
	static const char *argv[24];
	int n = 0;

	snprintf(pattern, sizeof(pattern),
		 "com:pipe,port=/tmp/openkd-%s-%d*.sock", tag, (int)getpid());
	argv[n++] = "--allow";
	argv[n++] = pattern;
	argv[n++] = "--allow";
	argv[n++] = "default";
	for (int i = 0; more && more[i] && n < 23; i++)
		argv[n++] = more[i];
	argv[n] = NULL;
	return argv;
}

/* Wait up to @p ms for kdsrv to exit: its status, 128+sig, -1 on time-out. */
static inline int ks_wait(struct ks *k, int ms)
{
	int st;

	for (int i = 0; i < ms / 10 + 1; i++) {
		pid_t w = waitpid(k->pid, &st, WNOHANG);

		if (w == k->pid) {
			k->pid = -1;
			return WIFEXITED(st) ? WEXITSTATUS(st) :
					       128 + WTERMSIG(st);
		}
		usleep(10000);
	}
	return -1;
}

/* The log so far (malloc'd, "" when none). */
static inline char *ks_log(const struct ks *k)
{
	FILE *f = fopen(k->log, "r");
	char *d = NULL;
	size_t n = 0;
	long sz;

	if (f && fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) >= 0) {
		rewind(f);
		d = malloc((size_t)sz + 1);
		if (d)
			n = fread(d, 1, (size_t)sz, f);
	}
	if (f)
		fclose(f);
	if (!d)
		d = calloc(1, 1);
	else
		d[n] = '\0';
	return d;
}

/* Wait up to @p ms until the log contains @p needle. */
static inline bool ks_log_wait(const struct ks *k, const char *needle, int ms)
{
	for (int i = 0; i < ms / 20 + 1; i++) {
		char *l = ks_log(k);
		bool hit = strstr(l, needle) != NULL;

		free(l);
		if (hit)
			return true;
		usleep(20000);
	}
	return false;
}

/* Kill (SIGKILL) and reap if still running; remove the log. */
static inline void ks_stop(struct ks *k)
{
	if (k->pid > 0) {
		kill(k->pid, SIGKILL);
		waitpid(k->pid, NULL, 0);
		k->pid = -1;
	}
	if (k->out_fd > 0)
		close(k->out_fd);
	k->out_fd = -1;
	unlink(k->log);
}

#endif /* KDSRV_PROC_H */
