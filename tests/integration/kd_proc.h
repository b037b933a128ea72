/* SPDX-License-Identifier: MIT */
/*
 * Drive the `kd` program as a real process through pipes, the way a lab
 * script does: start it, wait for its prompt, send a command and collect
 * that command's output (delimited by a unique `.echo` marker), and
 * collect the exit status.  Pairs with kdsim_client.h (kc_spawn) to give
 * kd a live target.
 *
 *	struct kp k;
 *	const char *args[] = { "-k", kc.host_connstr, NULL };
 *	kp_start(&k, args);             exits 77 when kd is not built
 *	kp_wait_prompt(&k, 20000);      the first prompt (after attach)
 *	char *out = kp_cmd(&k, "r rip", 5000);   output of that command
 *	free(out);
 *	int st = kp_finish(&k, 5000);   close stdin, exit status (-1: hung)
 *
 * One-shot runs: kp_run(args, "cmds\n", timeout, &out, &err).
 * Every wait is bounded; a kd that does not answer is killed.
 */
#ifndef KD_PROC_H
#define KD_PROC_H

#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct kp_buf {
	char *data; /* NUL-terminated */
	size_t len, cap;
};

struct kp {
	pid_t pid;
	int in_fd;	    /* kd's stdin (we write), -1 once closed */
	int out_fd, err_fd; /* kd's stdout / stderr, -1 at EOF */
	struct kp_buf out;  /* all stdout so far */
	struct kp_buf err;  /* all stderr so far */
	size_t pos;	    /* stdout consumed by kp_wait_prompt/kp_cmd */
	unsigned marker;    /* next .echo marker number */
	int status;	    /* exit status once reaped, else -1 */
};

static inline uint64_t kp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Path of the kd binary of this build; NULL when it is not built. */
static inline const char *kp_kd_path(void)
{
	static char path[1024];
	const char *b = getenv("KD_BUILD_DIR");

	snprintf(path, sizeof(path), "%s/tools/kd/kd", b ? b : KD_BUILD_DIR);
	return access(path, X_OK) == 0 ? path : NULL;
}

static inline void kp_buf_add(struct kp_buf *b, const char *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *d;

		while (cap < b->len + n + 1)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d) {
			fputs("kd_proc: out of memory\n", stderr);
			exit(1);
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/*
 * Start kd with @p args (NULL-terminated, without argv[0]).  stdin,
 * stdout and stderr are pipes.  Exits 77 (skip) when kd is not built.
 */
static inline void kp_start(struct kp *p, const char *const *args)
{
	const char *exe = kp_kd_path();
	const char *argv[64];
	int in[2], out[2], err[2];
	int n = 0, i;

	memset(p, 0, sizeof(*p));
	p->pid = -1;
	p->status = -1;
	p->in_fd = p->out_fd = p->err_fd = -1;
	if (!exe) {
		fputs("kd is not built: skipped\n", stderr);
		exit(77);
	}
	argv[n++] = exe;
	for (i = 0; args && args[i] && n < 62; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (pipe(in) < 0 || pipe(out) < 0 || pipe(err) < 0) {
		perror("kd_proc: pipe");
		exit(1);
	}
	p->pid = fork();
	if (p->pid < 0) {
		perror("kd_proc: fork");
		exit(1);
	}
	if (p->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		close(err[0]);
		close(err[1]);
		execv(exe, (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	p->in_fd = in[1];
	p->out_fd = out[0];
	p->err_fd = err[0];
	signal(SIGPIPE, SIG_IGN);
}

/*
 * Read whatever kd writes for up to @p ms (stops early once both pipes
 * are at EOF).  Returns false when both are at EOF.
 */
static inline bool kp_pump(struct kp *p, int ms)
{
	struct pollfd pfd[2];
	char tmp[4096];
	int n = 0, i;

	if (p->out_fd >= 0)
		pfd[n++] = (struct pollfd){ p->out_fd, POLLIN, 0 };
	if (p->err_fd >= 0)
		pfd[n++] = (struct pollfd){ p->err_fd, POLLIN, 0 };
	if (n == 0)
		return false;
	if (poll(pfd, (nfds_t)n, ms) <= 0)
		return true;
	for (i = 0; i < n; i++) {
		ssize_t r;
		bool is_out = pfd[i].fd == p->out_fd;

		if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		r = read(pfd[i].fd, tmp, sizeof(tmp));
		if (r > 0) {
			kp_buf_add(is_out ? &p->out : &p->err, tmp, (size_t)r);
		} else if (r == 0 || errno != EINTR) {
			close(pfd[i].fd);
			if (is_out)
				p->out_fd = -1;
			else
				p->err_fd = -1;
		}
	}
	return true;
}

/* Length of a prompt ("kd> ", "N: kd> ") ending @p b at @p end, or 0. */
static inline size_t kp_prompt_before(const char *b, size_t end)
{
	size_t i;

	if (end < 4 || memcmp(b + end - 4, "kd> ", 4) != 0)
		return 0;
	i = end - 4;
	if (i == 0 || b[i - 1] == '\n')
		return 4;
	if (i >= 3 && b[i - 1] == ' ' && b[i - 2] == ':' &&
	    isdigit((unsigned char)b[i - 3])) {
		size_t j = i - 2;

		while (j > 0 && isdigit((unsigned char)b[j - 1]))
			j--;
		if (j == 0 || b[j - 1] == '\n')
			return end - j;
	}
	return 0;
}

/*
 * Length of the prompt kd printed last in [start, end) (it need not
 * start a line: a command without output leaves "kd> kd> "), or 0.
 */
static inline size_t kp_prompt_suffix(const char *b, size_t start, size_t end)
{
	size_t i, j;

	if (end - start < 4 || memcmp(b + end - 4, "kd> ", 4) != 0)
		return 0;
	i = end - 4;
	if (i - start < 3 || b[i - 1] != ' ' || b[i - 2] != ':' ||
	    !isdigit((unsigned char)b[i - 3]))
		return 4;
	j = i - 2;
	while (j > start && isdigit((unsigned char)b[j - 1]))
		j--;
	return end - j;
}

/*
 * Wait until stdout ends with a prompt (kd waits for input).  Returns
 * the text printed since the last consumed point, without the prompt
 * (malloc'd), or NULL on timeout / exit.
 */
static inline char *kp_wait_prompt(struct kp *p, int timeout_ms)
{
	uint64_t end = kp_now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		size_t pl = p->out.len > p->pos ?
				    kp_prompt_before(p->out.data, p->out.len) :
				    0;

		if (pl) {
			size_t n = p->out.len - pl - p->pos;
			char *r = malloc(n + 1);

			if (!r)
				return NULL;
			memcpy(r, p->out.data + p->pos, n);
			r[n] = '\0';
			p->pos = p->out.len;
			return r;
		}
		if (kp_now_ms() >= end || !kp_pump(p, 50))
			return NULL;
	}
}

/* Write raw text to kd's stdin. */
static inline bool kp_send(struct kp *p, const char *text)
{
	size_t len = strlen(text), off = 0;

	while (off < len) {
		ssize_t w = write(p->in_fd, text + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		off += (size_t)w;
	}
	return true;
}

/*
 * Run one command line and return its output (malloc'd; the caller
 * frees), NULL when kd does not come back within @p timeout_ms.  Sends
 * "<cmd>\n.echo KPMARK_<n>\n"; the output is what came before the
 * prompt that precedes the marker.  Call after kp_wait_prompt().
 */
static inline char *kp_cmd(struct kp *p, const char *cmd, int timeout_ms)
{
	char mark[64];
	uint64_t end = kp_now_ms() + (uint64_t)timeout_ms;
	char *r;

	snprintf(mark, sizeof(mark), "KPMARK_%u", p->marker++);
	if (!kp_send(p, cmd) || !kp_send(p, "\n.echo ") || !kp_send(p, mark) ||
	    !kp_send(p, "\n"))
		return NULL;
	for (;;) {
		const char *m = p->out.len > p->pos ?
					strstr(p->out.data + p->pos, mark) :
					NULL;

		/* The marker line, then the next prompt. */
		if (m && m[strlen(mark)] == '\n' &&
		    kp_prompt_before(p->out.data, p->out.len)) {
			size_t mpos = (size_t)(m - p->out.data);
			size_t pl = mpos > p->pos ?
					    kp_prompt_suffix(p->out.data,
							     p->pos, mpos) :
					    0;
			size_t n = mpos - pl > p->pos ? mpos - pl - p->pos : 0;

			r = malloc(n + 1);
			if (!r)
				return NULL;
			memcpy(r, p->out.data + p->pos, n);
			r[n] = '\0';
			p->pos = p->out.len;
			return r;
		}
		if (kp_now_ms() >= end || !kp_pump(p, 50))
			return NULL;
	}
}

/* Ctrl+C: SIGINT to kd (breaks into a running target). */
static inline void kp_interrupt(struct kp *p)
{
	if (p->pid > 0)
		kill(p->pid, SIGINT);
}

/*
 * Close kd's stdin, read to EOF and reap it.  Returns its exit status,
 * 128+signal when killed by one, or -1 when it did not end within
 * @p timeout_ms (it is then killed).
 */
static inline int kp_finish(struct kp *p, int timeout_ms)
{
	uint64_t end = kp_now_ms() + (uint64_t)timeout_ms;
	int st;

	if (p->in_fd >= 0) {
		close(p->in_fd);
		p->in_fd = -1;
	}
	while (p->pid > 0) {
		pid_t w = waitpid(p->pid, &st, WNOHANG);

		if (w == p->pid) {
			p->pid = -1;
			p->status = WIFEXITED(st) ? WEXITSTATUS(st) :
						    128 + WTERMSIG(st);
			break;
		}
		if (kp_now_ms() >= end) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &st, 0);
			p->pid = -1;
			p->status = -1;
			break;
		}
		if (p->out_fd < 0 && p->err_fd < 0)
			usleep(10000);
		else
			kp_pump(p, 20);
	}
	while (kp_pump(p, 0) && (p->out_fd >= 0 || p->err_fd >= 0) &&
	       kp_now_ms() < end + 1000)
		;
	return p->status;
}

/* Free the buffers (kills kd if it still runs). */
static inline void kp_free(struct kp *p)
{
	if (p->pid > 0) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
		p->pid = -1;
	}
	if (p->in_fd >= 0)
		close(p->in_fd);
	if (p->out_fd >= 0)
		close(p->out_fd);
	if (p->err_fd >= 0)
		close(p->err_fd);
	free(p->out.data);
	free(p->err.data);
	memset(p, 0, sizeof(*p));
	p->pid = -1;
	p->in_fd = p->out_fd = p->err_fd = -1;
}

/*
 * One-shot: run kd with @p args, feed @p input (may be NULL) on stdin,
 * close it and wait.  *out / *err (optional) get malloc'd copies of
 * stdout / stderr.  Returns the exit status (-1: timed out, killed).
 */
static inline int kp_run(const char *const *args, const char *input,
			 int timeout_ms, char **out, char **err)
{
	struct kp p;
	int st;

	kp_start(&p, args);
	if (input)
		kp_send(&p, input);
	st = kp_finish(&p, timeout_ms);
	if (out)
		*out = strdup(p.out.data ? p.out.data : "");
	if (err)
		*err = strdup(p.err.data ? p.err.data : "");
	kp_free(&p);
	return st;
}

#endif /* KD_PROC_H */
