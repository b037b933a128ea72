/* SPDX-License-Identifier: MIT */
/*
 * kd -remote: a thin console for a debugging server.  Prints what the
 * server sends, sends the lines typed (or read from -cf / -c), Ctrl+B then
 * Enter detaches, `.remote_exit [cmds]` runs final commands and leaves.
 * `relay:NAME` attaches to a `.remote NAME` console relay instead.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <kd/engine.h>
#include <kd/error.h>
#include <kd/io.h>
#include <kd/rchan.h>
#include <kd/proto/srvmsg.h>
#include <kd/textsafe.h>

#include "remote.h"

#define RC_EXIT_OK 0
#define RC_EXIT_FAILED 1
#define RC_END_WAIT_MS 20000

/* Lines waiting to be sent, oldest first. */
struct rc_lines {
	char **v;
	size_t n, cap, head;
};

/* Bytes read from stdin that do not make a whole line yet. */
struct rc_in {
	char *buf;
	size_t len, cap;
	bool eof;
};

static volatile sig_atomic_t rc_breaks;

static void rc_on_sigint(int sig)
{
	(void)sig;
	rc_breaks++;
}

static bool rc_lines_add(struct rc_lines *q, const char *text, size_t len)
{
	char *l;

	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 16;
		char **v = realloc(q->v, cap * sizeof(*v));

		if (!v)
			return false;
		q->v = v;
		q->cap = cap;
	}
	l = malloc(len + 1);
	if (!l)
		return false;
	memcpy(l, text, len);
	l[len] = '\0';
	q->v[q->n++] = l;
	return true;
}

/* The oldest line (caller frees) or NULL. */
static char *rc_lines_take(struct rc_lines *q)
{
	if (q->head >= q->n)
		return NULL;
	return q->v[q->head++];
}

static void rc_lines_free(struct rc_lines *q)
{
	while (q->head < q->n)
		free(q->v[q->head++]);
	free(q->v);
}

/* Split @p text into lines (CR LF or LF), queue each. */
static void rc_lines_split(struct rc_lines *q, const char *text, size_t len)
{
	while (len) {
		const char *nl = memchr(text, '\n', len);
		size_t n = nl ? (size_t)(nl - text) : len;
		size_t l = n;

		if (l && text[l - 1] == '\r')
			l--;
		rc_lines_add(q, text, l);
		if (!nl)
			break;
		text += n + 1;
		len -= n + 1;
	}
}

static int rc_load_script(struct rc_lines *q, const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f) {
		fprintf(stderr, "kd: cannot open script '%s': %s\n", path,
			strerror(errno));
		return -1;
	}
	for (n = getline(&buf, &cap, f); n >= 0; n = getline(&buf, &cap, f)) {
		size_t l = (size_t)n;

		while (l && (buf[l - 1] == '\n' || buf[l - 1] == '\r'))
			l--;
		rc_lines_add(q, buf, l);
	}
	free(buf);
	fclose(f);
	return 0;
}

/* Read what stdin has; whole lines go to @p q. */
static void rc_read_stdin(struct rc_in *in, struct rc_lines *q)
{
	char tmp[4096];
	ssize_t r = read(STDIN_FILENO, tmp, sizeof(tmp));
	char *nl;

	if (r < 0 && errno == EINTR)
		return;
	if (r <= 0) {
		in->eof = true;
		if (in->len)
			rc_lines_split(q, in->buf, in->len);
		in->len = 0;
		return;
	}
	if (in->len + (size_t)r > in->cap) {
		size_t cap = in->cap ? in->cap : 4096;
		char *b;

		while (cap < in->len + (size_t)r)
			cap *= 2;
		b = realloc(in->buf, cap);
		if (!b) {
			in->eof = true;
			return;
		}
		in->buf = b;
		in->cap = cap;
	}
	memcpy(in->buf + in->len, tmp, (size_t)r);
	in->len += (size_t)r;
	nl = memrchr(in->buf, '\n', in->len);
	if (nl) {
		size_t n = (size_t)(nl - in->buf) + 1;

		rc_lines_split(q, in->buf, n - 1);
		memmove(in->buf, in->buf + n, in->len - n);
		in->len -= n;
	}
}

/* True when a queued line (not yet taken) holds Ctrl+B. */
static bool rc_lines_detach(const struct rc_lines *q)
{
	size_t i;

	for (i = q->head; i < q->n; i++) {
		if (strchr(q->v[i], 0x02))
			return true;
	}
	return false;
}

/*
 * What the server (or the relay peer) sends, shown with control bytes
 * escaped (kd/textsafe.h): a hostile server must not drive this terminal
 * (title, screen, answer-back queries that type into kd).  A UTF-8
 * sequence or CR LF cut between two messages is held back until the next
 * one.  The one escape let through is the exact screen clear `.cls`
 * sends, a whole message of its own.
 */
static unsigned char rc_held[4];
static size_t rc_nheld;

/* Bytes at the end of @p s that may start a sequence not yet complete. */
static size_t rc_tail(const unsigned char *s, size_t n)
{
	size_t k;

	if (n && s[n - 1] == '\r')
		return 1;
	for (k = 1; k <= 3 && k <= n; k++) {
		unsigned char c = s[n - k];

		if ((c & 0xc0) == 0x80)
			continue;
		if ((c >= 0xc2 && c <= 0xdf && k < 2) ||
		    (c >= 0xe0 && c <= 0xef && k < 3) ||
		    (c >= 0xf0 && c <= 0xf4 && k < 4))
			return k;
		return 0;
	}
	return 0;
}

static void rc_out(const char *text, size_t len)
{
	static const char cls[] = "\033[H\033[2J";
	unsigned char *all;
	char buf[4096];
	size_t n, hold, at = 0;

	if (len == sizeof(cls) - 1 && memcmp(text, cls, len) == 0 &&
	    !rc_nheld) {
		fwrite(text, 1, len, stdout);
		fflush(stdout);
		return;
	}
	all = malloc(rc_nheld + len + 1);
	if (!all)
		return;
	memcpy(all, rc_held, rc_nheld);
	memcpy(all + rc_nheld, text, len);
	n = rc_nheld + len;
	hold = len ? rc_tail(all, n) : 0;
	n -= hold;
	rc_nheld = hold;
	memcpy(rc_held, all + n, hold);
	while (at < n) {
		size_t used = 0;
		size_t w = kd_text_escape(buf, sizeof(buf), all + at, n - at,
					  &used);

		if (!used)
			break;
		fwrite(buf, 1, w, stdout);
		at += used;
	}
	free(all);
	fflush(stdout);
}

/* ------------------------------------------------------------------ */
/* Debugging server client                                             */
/* ------------------------------------------------------------------ */

struct rc {
	struct kd_rchan *ch;
	uint8_t *buf;
	bool awaiting; /* a line was sent, its prompt not back yet */
	bool at_line_start;
};

static bool rc_send(struct rc *r, unsigned int type, const char *text,
		    size_t len)
{
	size_t n;

	if (kd_srvmsg_encode(r->buf, KD_SRVMSG_MAX_MSG, type, text, len, &n) <
	    0)
		return true;
	return kd_rchan_send(r->ch, r->buf, n) == KD_OK;
}

/*
 * Handle one server message.  Returns 1 to go on, 0 when the server
 * ended the session (printed), -1 on a protocol error.
 */
static int rc_on_message(struct rc *r, const uint8_t *msg, size_t len)
{
	struct kd_srvmsg m;
	const char *why = NULL;

	if (kd_srvmsg_decode(msg, len, false, &m, &why) < 0) {
		fprintf(stderr,
			"kd: the server sent a malformed message "
			"(%s)\n",
			why ? why : "?");
		return -1;
	}
	switch (m.type) {
	case KD_SRVMSG_OUTPUT:
		rc_out(m.text, m.len);
		r->at_line_start = m.len && m.text[m.len - 1] == '\n';
		break;
	case KD_SRVMSG_PROMPT:
		rc_out(m.text, m.len);
		r->at_line_start = false;
		r->awaiting = false;
		break;
	case KD_SRVMSG_ENDED:
		if (!r->at_line_start)
			rc_out("\n", 1);
		rc_out(m.text, m.len);
		rc_out("\n", 1);
		return 0;
	default:
		break;
	}
	return 1;
}

/* True when @p line is `.remote_exit` (and sets *rest to its argument). */
static bool rc_is_remote_exit(const char *line, const char **rest)
{
	static const char word[] = ".remote_exit";
	const char *p = line;

	while (*p == ' ' || *p == '\t')
		p++;
	if (strncmp(p, word, sizeof(word) - 1) != 0)
		return false;
	p += sizeof(word) - 1;
	if (*p && *p != ' ' && *p != '\t')
		return false;
	while (*p == ' ' || *p == '\t')
		p++;
	*rest = p;
	return true;
}

/* Check a line before it goes out; false after a local message. */
static bool rc_line_ok(const char *line)
{
	size_t len = strlen(line), i;

	if (len > KD_SRVMSG_MAX_LINE) {
		fprintf(stderr, "kd: line longer than %u bytes not sent\n",
			KD_SRVMSG_MAX_LINE);
		return false;
	}
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)line[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			fprintf(stderr,
				"kd: line with control character "
				"0x%02x not sent\n",
				ch);
			return false;
		}
	}
	return true;
}

/* Wait for the server's ENDED after .remote_exit. */
static int rc_wait_end(struct rc *r)
{
	uint64_t waited = 0;

	while (waited < RC_END_WAIT_MS) {
		size_t n = 0;
		int rc = kd_rchan_recv(r->ch, r->buf, KD_SRVMSG_MAX_MSG, &n,
				       200);

		if (rc == KD_ETIMEOUT) {
			waited += 200;
			continue;
		}
		if (rc < 0)
			return RC_EXIT_OK; /* the server closed: left anyway */
		rc = rc_on_message(r, r->buf, n);
		if (rc <= 0)
			return rc < 0 ? RC_EXIT_FAILED : RC_EXIT_OK;
	}
	fputs("kd: the server did not confirm .remote_exit; leaving\n", stderr);
	return RC_EXIT_OK;
}

static int rc_run(struct rc *r, struct rc_lines *q)
{
	struct rc_in in = { NULL, 0, 0, false };
	int status = RC_EXIT_OK;

	r->awaiting = true; /* the first prompt */
	r->at_line_start = true;
	for (;;) {
		struct pollfd pfd[2];
		int nfd = 0, pr;
		char *line;
		const char *rest;

		while (rc_breaks > 0) {
			rc_breaks--;
			if (!rc_send(r, KD_SRVMSG_BREAK, NULL, 0))
				goto lost;
		}
		if (rc_lines_detach(q)) {
			rc_send(r, KD_SRVMSG_DETACH, NULL, 0);
			break;
		}
		if (!r->awaiting) {
			line = rc_lines_take(q);
			if (line) {
				bool ok = true;

				if (rc_is_remote_exit(line, &rest)) {
					if (rc_line_ok(rest) &&
					    rc_send(r, KD_SRVMSG_EXIT, rest,
						    strlen(rest))) {
						free(line);
						status = rc_wait_end(r);
						break;
					}
				} else if (rc_line_ok(line)) {
					ok = rc_send(r, KD_SRVMSG_LINE, line,
						     strlen(line));
					r->awaiting = ok;
				}
				free(line);
				if (!ok)
					goto lost;
				continue;
			}
			if (in.eof) {
				rc_out("\n", 1);
				rc_send(r, KD_SRVMSG_DETACH, NULL, 0);
				break;
			}
		}
		if (kd_rchan_pending(r->ch)) {
			pfd[0] = (struct pollfd){ kd_rchan_fd(r->ch), POLLIN,
						  POLLIN };
			nfd = 1;
		} else {
			pfd[nfd++] = (struct pollfd){ kd_rchan_fd(r->ch),
						      POLLIN, 0 };
			if (!in.eof)
				pfd[nfd++] = (struct pollfd){ STDIN_FILENO,
							      POLLIN, 0 };
			pr = poll(pfd, (nfds_t)nfd, -1);
			if (pr < 0 && errno == EINTR)
				continue;
			if (pr < 0)
				goto lost;
		}
		if (nfd > 1 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)))
			rc_read_stdin(&in, q);
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			size_t n = 0;
			int rc = kd_rchan_recv(r->ch, r->buf, KD_SRVMSG_MAX_MSG,
					       &n, 0);

			if (rc == KD_ETIMEOUT)
				continue;
			if (rc < 0)
				goto lost;
			rc = rc_on_message(r, r->buf, n);
			if (rc == 0)
				break; /* the session ended */
			if (rc < 0) {
				status = RC_EXIT_FAILED;
				break;
			}
		}
	}
	free(in.buf);
	return status;
lost:
	if (!r->at_line_start)
		rc_out("\n", 1);
	fprintf(stderr, "kd: lost the connection to the debugging server\n");
	free(in.buf);
	return RC_EXIT_FAILED;
}

/* ------------------------------------------------------------------ */
/* .remote relay client                                                */
/* ------------------------------------------------------------------ */

static int rc_relay(const char *name, struct rc_lines *q)
{
	struct rc_in in = { NULL, 0, 0, false };
	char why[400];
	int fd;

	fd = kd_session_relay_connect(name, why, sizeof(why));
	if (fd < 0) {
		fprintf(stderr, "kd: cannot attach to session '%s': %s\n", name,
			why);
		return RC_EXIT_FAILED;
	}
	for (;;) {
		struct pollfd pfd[2] = { { fd, POLLIN, 0 },
					 { STDIN_FILENO, POLLIN, 0 } };
		char *line;
		char tmp[4096];

		for (line = rc_lines_take(q); line; line = rc_lines_take(q)) {
			bool bye = strchr(line, 0x02) != NULL;
			bool ok = bye ||
				  (kd_send_all(fd, line, strlen(line)) == 0 &&
				   kd_send_all(fd, "\n", 1) == 0);

			free(line);
			if (bye || !ok) {
				close(fd);
				free(in.buf);
				return RC_EXIT_OK;
			}
		}
		if (in.eof)
			break;
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = read(fd, tmp, sizeof(tmp));

			if (r <= 0)
				break; /* the relay ended */
			rc_out(tmp, (size_t)r);
		}
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))
			rc_read_stdin(&in, q);
	}
	rc_out("", 0); /* what was held back for a next piece */
	close(fd);
	free(in.buf);
	return RC_EXIT_OK;
}

/* ------------------------------------------------------------------ */

int kd_remote_main(const char *spec, const char *script, const char *cmds,
		   int timeout_ms)
{
	struct rc_lines q = { NULL, 0, 0, 0 };
	struct sigaction sa;
	struct rc r;
	char shown[600];
	int rc, status;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = rc_on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	if (script && rc_load_script(&q, script) < 0) {
		rc_lines_free(&q);
		return RC_EXIT_FAILED;
	}
	if (cmds)
		rc_lines_add(&q, cmds, strlen(cmds));
	if (strncasecmp(spec, "relay:", 6) == 0) {
		status = rc_relay(spec + 6, &q);
		rc_lines_free(&q);
		return status;
	}
	kd_text_redact(shown, sizeof(shown), spec);
	memset(&r, 0, sizeof(r));
	r.buf = malloc(KD_SRVMSG_MAX_MSG);
	if (!r.buf) {
		rc_lines_free(&q);
		return RC_EXIT_FAILED;
	}
	kd_error_clear();
	rc = kd_rconnect(&r.ch, spec, KD_RCHAN_SERVICE_DBGSRV,
			 timeout_ms > 0 ? timeout_ms : 10000);
	if (rc < 0) {
		fprintf(stderr, "kd: cannot connect to '%s': %s\n", shown,
			kd_error_last()->message[0] ? kd_error_last()->message :
						      kd_error_message(rc));
		free(r.buf);
		rc_lines_free(&q);
		return RC_EXIT_FAILED;
	}
	status = rc_run(&r, &q);
	kd_rchan_close(r.ch);
	free(r.buf);
	rc_lines_free(&q);
	fflush(stdout);
	return status;
}
