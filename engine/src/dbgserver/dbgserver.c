/* SPDX-License-Identifier: MIT */
/*
 * The debugging server: the session shared with remote clients.  Listener
 * threads accept clients (remote channels, or the `.remote` unix-socket
 * relay), a reader thread per client queues its command lines, and the
 * main thread runs them in arrival order; every byte of output is fanned
 * out to the local console and every client through per-client writers.
 */
#define _GNU_SOURCE /* SO_PEERCRED, struct ucred */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <kd/io.h>
#include <kd/loglimit.h>
#include <kd/rchan.h>
#include <kd/proto/srvmsg.h>
#include <kd/textsafe.h>

#include "dbgserver/dbgserver.h"

#define SRV_POLL_MS 200
#define SRV_FLUSH_MS 2000

enum srv_kind {
	SRV_RCHAN = 0,
	SRV_RELAY
};
enum srv_state {
	SRV_ACTIVE = 0,
	SRV_DISABLED,
	SRV_GONE
};

struct kd_dbgserver;

struct srv_listener {
	struct kd_dbgserver *srv;
	enum srv_kind kind;
	unsigned int id;
	enum srv_state state;	/* under lock */
	bool stop;		/* under lock */
	struct kd_rlistener *l; /* SRV_RCHAN */
	int ufd;		/* SRV_RELAY: listening unix socket */
	char name[KD_DBGSRV_MAX_RELAY_NAME + 1];
	char path[108];
	char desc[320]; /* client string, password masked */
	pthread_t th;
	bool started;
};

struct srv_out {
	struct srv_out *next;
	unsigned int type;
	size_t len;
	char text[];
};

struct srv_client {
	struct kd_dbgserver *srv;
	enum srv_kind kind;
	unsigned int id;
	struct kd_rchan *ch; /* SRV_RCHAN */
	int fd;		     /* SRV_RELAY: connected socket */
	char ident[256];     /* "HOST\user (tcp 127.0.0.1:5)" */
	pthread_t rd, wr;
	bool rd_started, wr_started; /* valid once set_up (under lock) */
	pthread_cond_t cv;
	/* under lock */
	bool set_up; /* the starter is done with it */
	struct srv_out *ohead, *otail;
	size_t obytes;
	bool dead;	      /* both threads stop */
	bool wr_done;	      /* the writer has ended */
	bool ended;	      /* ENDED queued: nothing after it */
	unsigned int ahead;   /* lines queued, not yet run */
	uint64_t last_active; /* unix ms */
	char reason[200];     /* why it was dropped, "" when it left */
	/* main thread only */
	bool joined;	   /* announced: gets output */
	bool prompt_shown; /* its prompt is the last thing it got */
	bool disturbed;	   /* got others' output since its prompt */
};

enum srv_item_kind {
	IT_CONNECTED,
	IT_LINE,
	IT_EXIT,
	IT_GONE,
	IT_LOG
};

struct srv_item {
	struct srv_item *next;
	enum srv_item_kind kind;
	struct srv_client *c;
	char text[];
};

struct kd_dbgserver {
	struct kd_session *s;
	kd_output_fn local_fn;
	void *local_ctx;
	pthread_mutex_t lock;
	int ev[2]; /* readable while the queue is not empty */
	struct srv_listener *servers[KD_DBGSRV_MAX_SERVERS];
	unsigned int nservers;
	struct srv_listener *relays[KD_DBGSRV_MAX_RELAYS];
	unsigned int nrelays;
	struct srv_client *clients[KD_DBGSRV_MAX_CLIENTS]; /* under lock */
	unsigned int nclients;
	struct srv_item *qhead, *qtail; /* under lock */
	unsigned int handshakes;     /* handshake threads alive (under lock) */
	pthread_cond_t hs_cv;	     /* ... signalled as each one ends */
	bool accepting;		     /* new clients are listed (under lock) */
	struct kd_loglimit refusals; /* refused connections' log lines */
	unsigned int next_id;
	/* main thread only */
	struct srv_client *current; /* whose command runs now */
	bool local_prompt;	    /* the console shows its prompt */
	bool local_printed;	    /* service printed on the console */
	bool closing;
	char host[64];
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

/* "Wed Dec 19 06:23:07 2018" (the ctime shape, day zero-padded). */
static void srv_ctime(uint64_t unix_ms, char buf[32])
{
	time_t t = (time_t)(unix_ms / 1000u);
	struct tm tm;

	if (!localtime_r(&t, &tm) ||
	    strftime(buf, 32, "%a %b %d %H:%M:%S %Y", &tm) == 0)
		snprintf(buf, 32, "?");
}

static void srv_shutdown_fd(struct srv_client *c)
{
	int fd = c->kind == SRV_RCHAN ? kd_rchan_fd(c->ch) : c->fd;

	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);
}

/* Wake kd_session_poll_fd() (lock held). */
static void srv_push(struct kd_dbgserver *v, enum srv_item_kind kind,
		     struct srv_client *c, const char *text)
{
	size_t len = text ? strlen(text) : 0;
	struct srv_item *it = kd_malloc(sizeof(*it) + len + 1);
	bool was_empty = v->qhead == NULL;

	if (!it)
		return; /* a lost line; GONE items are tiny */
	it->next = NULL;
	it->kind = kind;
	it->c = c;
	if (len)
		memcpy(it->text, text, len);
	it->text[len] = '\0';
	if (v->qtail)
		v->qtail->next = it;
	else
		v->qhead = it;
	v->qtail = it;
	if (was_empty) {
		char b = 1;
		ssize_t w = write(v->ev[1], &b, 1);

		(void)w;
	}
}

static struct srv_item *srv_pop(struct kd_dbgserver *v)
{
	struct srv_item *it;

	pthread_mutex_lock(&v->lock);
	it = v->qhead;
	if (it) {
		v->qhead = it->next;
		if (!v->qhead) {
			char b;
			ssize_t r;

			v->qtail = NULL;
			r = read(v->ev[0], &b, 1);
			(void)r;
		}
	}
	pthread_mutex_unlock(&v->lock);
	return it;
}

/* Queue @p text for client @p c (lock held). */
static void srv_enqueue(struct srv_client *c, unsigned int type,
			const char *text, size_t len)
{
	struct srv_out *o;

	if (c->dead || c->ended)
		return;
	if (c->obytes + len > KD_DBGSRV_MAX_OUTQ) {
		c->dead = true;
		snprintf(c->reason, sizeof(c->reason),
			 "it did not read its output (%u bytes waiting)",
			 (unsigned)c->obytes);
		srv_shutdown_fd(c);
		pthread_cond_signal(&c->cv);
		return;
	}
	o = kd_malloc(sizeof(*o) + len + 1);
	if (!o)
		return;
	o->next = NULL;
	o->type = type;
	o->len = len;
	if (len)
		memcpy(o->text, text, len);
	o->text[len] = '\0';
	if (c->otail)
		c->otail->next = o;
	else
		c->ohead = o;
	c->otail = o;
	c->obytes += len;
	if (type == KD_SRVMSG_ENDED)
		c->ended = true;
	pthread_cond_signal(&c->cv);
}

/* Local console, with a newline first when its prompt is showing. */
static void srv_local(struct kd_dbgserver *v, const char *text, size_t len)
{
	if (!v->local_fn || len == 0)
		return;
	v->local_printed = true;
	if (v->local_prompt) {
		v->local_prompt = false;
		v->local_fn(v->local_ctx, "\n", 1);
	}
	v->local_fn(v->local_ctx, text, len);
}

/* Text for the console and every joined client except @p except. */
static void srv_emit(struct kd_dbgserver *v, struct srv_client *except,
		     const char *text, size_t len)
{
	unsigned int i;

	if (len == 0)
		return;
	srv_local(v, text, len);
	pthread_mutex_lock(&v->lock);
	for (i = 0; i < v->nclients; i++) {
		struct srv_client *c = v->clients[i];

		if (c == except || !c->joined)
			continue;
		if (c != v->current) {
			if (c->prompt_shown)
				srv_enqueue(c, KD_SRVMSG_OUTPUT, "\n", 1);
			c->disturbed = true;
		}
		c->prompt_shown = false;
		srv_enqueue(c, KD_SRVMSG_OUTPUT, text, len);
	}
	pthread_mutex_unlock(&v->lock);
}

/* The session's output function while a server runs. */
static void srv_fanout(void *ctx, const char *text, size_t len)
{
	srv_emit(ctx, NULL, text, len);
}

static void srv_emitf(struct kd_dbgserver *v, struct srv_client *except,
		      const char *fmt, ...) KD_PRINTF(3, 4);

static void srv_emitf(struct kd_dbgserver *v, struct srv_client *except,
		      const char *fmt, ...)
{
	char buf[KD_SRVMSG_MAX_LINE + 512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = (int)sizeof(buf) - 1;
	/* The log gets what the console gets. */
	if (v->s->out.log) {
		fwrite(buf, 1, (size_t)n, v->s->out.log);
		fflush(v->s->out.log);
	}
	srv_emit(v, except, buf, (size_t)n);
}

static void srv_prompt(struct kd_dbgserver *v, struct srv_client *c)
{
	const char *p = kd_session_prompt(v->s);

	pthread_mutex_lock(&v->lock);
	srv_enqueue(c, KD_SRVMSG_PROMPT, p, strlen(p));
	pthread_mutex_unlock(&v->lock);
	c->prompt_shown = true;
	c->disturbed = false;
}

/* Give a fresh prompt to every client that saw others' output. */
static void srv_reprompt(struct kd_dbgserver *v)
{
	unsigned int i;

	for (i = 0; i < v->nclients; i++) {
		struct srv_client *c = v->clients[i];

		if (c->joined && c->disturbed)
			srv_prompt(v, c);
	}
}

/* ------------------------------------------------------------------ */
/* Client threads                                                      */
/* ------------------------------------------------------------------ */

static bool srv_is_dead(struct srv_client *c)
{
	bool d;

	pthread_mutex_lock(&c->srv->lock);
	d = c->dead;
	pthread_mutex_unlock(&c->srv->lock);
	return d;
}

/* Record why @p c goes away (first reason wins; lock not held). */
static void srv_set_reason(struct srv_client *c, const char *why)
{
	pthread_mutex_lock(&c->srv->lock);
	if (!c->reason[0] && why)
		snprintf(c->reason, sizeof(c->reason), "%.190s", why);
	pthread_mutex_unlock(&c->srv->lock);
}

/* A command line arrived: queue it, or drop a flooding client. */
static bool srv_take_line(struct srv_client *c, enum srv_item_kind kind,
			  const char *text)
{
	struct kd_dbgserver *v = c->srv;
	bool ok = true;

	pthread_mutex_lock(&v->lock);
	c->last_active = kd_now_ms();
	if (c->ahead >= KD_DBGSRV_MAX_AHEAD) {
		snprintf(c->reason, sizeof(c->reason),
			 "it sent more than %u command lines ahead",
			 KD_DBGSRV_MAX_AHEAD);
		ok = false;
	} else {
		c->ahead++;
		srv_push(v, kind, c, text);
	}
	pthread_mutex_unlock(&v->lock);
	return ok;
}

/* The reader ends: mark the client dead and tell the main thread. */
static void srv_reader_done(struct srv_client *c)
{
	struct kd_dbgserver *v = c->srv;

	pthread_mutex_lock(&v->lock);
	c->dead = true;
	pthread_cond_signal(&c->cv);
	srv_shutdown_fd(c);
	srv_push(v, IT_GONE, c, NULL);
	pthread_mutex_unlock(&v->lock);
}

static void *srv_reader_rchan(void *arg)
{
	struct srv_client *c = arg;
	uint8_t *buf = kd_malloc(KD_SRVMSG_MAX_MSG);
	char line[KD_SRVMSG_MAX_LINE + 1];

	if (!buf) {
		srv_set_reason(c, "out of memory");
		srv_reader_done(c);
		return NULL;
	}
	while (!srv_is_dead(c)) {
		struct kd_srvmsg m;
		const char *why = NULL;
		size_t n = 0;
		int rc = kd_rchan_recv(c->ch, buf, KD_SRVMSG_MAX_MSG, &n,
				       SRV_POLL_MS);

		if (rc == KD_ETIMEOUT)
			continue;
		if (rc == KD_EDISCONNECTED)
			break;
		if (rc < 0) {
			char r[300];

			snprintf(r, sizeof(r), "it broke the channel (%.200s)",
				 kd_error_last()->message[0] ?
					 kd_error_last()->message :
					 kd_error_message(rc));
			srv_set_reason(c, r);
			break;
		}
		rc = kd_srvmsg_decode(buf, n, true, &m, &why);
		if (rc < 0) {
			char r[200];

			snprintf(r, sizeof(r),
				 "it sent a malformed message "
				 "(%s)",
				 why ? why : "?");
			srv_set_reason(c, r);
			break;
		}
		if (m.type == KD_SRVMSG_BREAK) {
			pthread_mutex_lock(&c->srv->lock);
			c->last_active = kd_now_ms();
			pthread_mutex_unlock(&c->srv->lock);
			kd_session_interrupt(c->srv->s);
			continue;
		}
		if (m.type == KD_SRVMSG_DETACH)
			break;
		memcpy(line, m.text, m.len);
		line[m.len] = '\0';
		if (!srv_take_line(c,
				   m.type == KD_SRVMSG_EXIT ? IT_EXIT : IT_LINE,
				   line))
			break;
	}
	kd_free(buf);
	srv_reader_done(c);
	return NULL;
}

static void *srv_reader_relay(void *arg)
{
	struct srv_client *c = arg;
	char line[KD_SRVMSG_MAX_LINE + 2];
	size_t have = 0;

	while (!srv_is_dead(c)) {
		struct pollfd pfd = { c->fd, POLLIN, 0 };
		char tmp[1024];
		ssize_t r;
		size_t i;
		bool stop = false;

		if (poll(&pfd, 1, SRV_POLL_MS) <= 0)
			continue;
		r = read(c->fd, tmp, sizeof(tmp));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (i = 0; i < (size_t)r && !stop; i++) {
			unsigned char ch = (unsigned char)tmp[i];

			if (ch == '\n') {
				if (have && line[have - 1] == '\r')
					have--;
				line[have] = '\0';
				have = 0;
				if (strchr(line, 0x02)) {
					stop = true; /* Ctrl+B */
					break;
				}
				if (!srv_take_line(c, IT_LINE, line))
					stop = true;
				continue;
			}
			if (ch == 0x02 || ch == '\r' || ch == '\t' ||
			    (ch >= 0x20 && ch != 0x7f)) {
				if (have >= KD_SRVMSG_MAX_LINE) {
					srv_set_reason(c, "it sent a line "
							  "longer than 4096 "
							  "bytes");
					stop = true;
					break;
				}
				line[have++] = (char)ch;
				continue;
			}
			srv_set_reason(c, "it sent a control character");
			stop = true;
		}
		if (stop)
			break;
	}
	srv_reader_done(c);
	return NULL;
}

/* Send one server message to a remote-channel client. */
static bool srv_send_msg(struct srv_client *c, unsigned int type,
			 const char *text, size_t len, uint8_t *buf)
{
	size_t n = 0;

	if (kd_srvmsg_encode(buf, KD_SRVMSG_MAX_MSG, type, text, len, &n) < 0)
		return true; /* unencodable (cannot happen): skip it */
	return kd_rchan_send(c->ch, buf, n) == KD_OK;
}

/* Send @p len bytes of output, in chunks, NUL bytes shown as '?'. */
static bool srv_send_output(struct srv_client *c, const char *text, size_t len,
			    uint8_t *buf, char *tmp)
{
	while (len) {
		size_t n = len < KD_SRVMSG_MAX_OUTPUT ? len :
							KD_SRVMSG_MAX_OUTPUT;
		size_t i;

		for (i = 0; i < n; i++)
			tmp[i] = (char)(text[i] ? text[i] : '?');
		if (c->kind == SRV_RELAY) {
			if (kd_send_all(c->fd, tmp, n) < 0)
				return false;
		} else if (!srv_send_msg(c, KD_SRVMSG_OUTPUT, tmp, n, buf)) {
			return false;
		}
		text += n;
		len -= n;
	}
	return true;
}

static void srv_free_outs(struct srv_out *o)
{
	while (o) {
		struct srv_out *n = o->next;

		kd_free(o);
		o = n;
	}
}

static void *srv_writer(void *arg)
{
	struct srv_client *c = arg;
	struct kd_dbgserver *v = c->srv;
	uint8_t *buf = kd_malloc(KD_SRVMSG_MAX_MSG);
	char *tmp = kd_malloc(KD_SRVMSG_MAX_OUTPUT);
	bool done = false;

	while (!done && buf && tmp) {
		struct srv_out *list, *o;
		bool ok = true;

		pthread_mutex_lock(&v->lock);
		while (!c->ohead && !c->dead)
			pthread_cond_wait(&c->cv, &v->lock);
		list = c->ohead;
		c->ohead = c->otail = NULL;
		c->obytes = 0;
		if (c->dead)
			done = true;
		pthread_mutex_unlock(&v->lock);
		if (done) {
			srv_free_outs(list);
			break;
		}
		for (o = list; o && ok; o = o->next) {
			if (o->type == KD_SRVMSG_OUTPUT) {
				ok = srv_send_output(c, o->text, o->len, buf,
						     tmp);
			} else if (c->kind == SRV_RELAY) {
				ok = kd_send_all(c->fd, o->text, o->len) == 0;
				if (ok && o->type == KD_SRVMSG_ENDED)
					ok = kd_send_all(c->fd, "\n", 1) == 0;
			} else {
				ok = srv_send_msg(c, o->type, o->text, o->len,
						  buf);
			}
			if (o->type == KD_SRVMSG_ENDED)
				done = true;
		}
		srv_free_outs(list);
		if (!ok) {
			srv_set_reason(c, "the connection was lost");
			pthread_mutex_lock(&v->lock);
			c->dead = true;
			srv_shutdown_fd(c);
			pthread_mutex_unlock(&v->lock);
			done = true;
		}
	}
	kd_free(buf);
	kd_free(tmp);
	pthread_mutex_lock(&v->lock);
	c->wr_done = true;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&v->lock);
	return NULL;
}

/* Stop the threads of a client already out of the list, and free it. */
static void srv_client_destroy(struct srv_client *c)
{
	struct kd_dbgserver *v = c->srv;

	pthread_mutex_lock(&v->lock);
	c->dead = true;
	srv_shutdown_fd(c);
	pthread_cond_broadcast(&c->cv);
	/* Its starter may still be storing the thread handles. */
	while (!c->set_up)
		pthread_cond_wait(&c->cv, &v->lock);
	pthread_mutex_unlock(&v->lock);
	if (c->rd_started)
		pthread_join(c->rd, NULL);
	if (c->wr_started)
		pthread_join(c->wr, NULL);
	srv_free_outs(c->ohead);
	if (c->kind == SRV_RCHAN)
		kd_rchan_close(c->ch);
	else if (c->fd >= 0)
		close(c->fd);
	pthread_cond_destroy(&c->cv);
	kd_free(c);
}

/*
 * Add a new client and start its threads (a listener or handshake
 * thread).  Once listed, the client belongs to the main thread, which
 * frees it when its GONE item comes; that may be before this function
 * has stored the thread handles, so srv_client_destroy() waits for
 * set_up, which is set last, under the lock.
 */
static void srv_client_add(struct kd_dbgserver *v, enum srv_kind kind,
			   struct kd_rchan *ch, int fd, const char *ident)
{
	struct srv_client *c = kd_calloc(1, sizeof(*c));
	pthread_t rd, wr;
	bool full, closing, rd_ok, wr_ok;

	memset(&rd, 0, sizeof(rd));
	memset(&wr, 0, sizeof(wr));

	if (!c) {
		if (ch)
			kd_rchan_close(ch);
		if (fd >= 0)
			close(fd);
		return;
	}
	c->srv = v;
	c->kind = kind;
	c->ch = ch;
	c->fd = fd;
	snprintf(c->ident, sizeof(c->ident), "%s", ident);
	pthread_cond_init(&c->cv, NULL);
	c->last_active = kd_now_ms();
	pthread_mutex_lock(&v->lock);
	closing = !v->accepting;
	full = v->nclients >= KD_DBGSRV_MAX_CLIENTS;
	if (!full && !closing) {
		c->id = v->next_id++;
		v->clients[v->nclients++] = c;
	}
	pthread_mutex_unlock(&v->lock);
	if (closing) {
		c->set_up = true;
		srv_client_destroy(c);
		return;
	}
	if (full) {
		char msg[300];

		snprintf(msg, sizeof(msg),
			 "Refused %s: %u clients are connected already\n",
			 ident, KD_DBGSRV_MAX_CLIENTS);
		pthread_mutex_lock(&v->lock);
		srv_push(v, IT_LOG, NULL, msg);
		pthread_mutex_unlock(&v->lock);
		if (kind == SRV_RCHAN) {
			static const char why[] = "The server has too many "
						  "clients.";
			uint8_t b[KD_SRVMSG_HDR + 64];
			size_t n;
			int rc;

			rc = kd_srvmsg_encode(b, sizeof(b), KD_SRVMSG_ENDED,
					      why, sizeof(why) - 1, &n);
			if (rc == KD_OK && kd_rchan_send(ch, b, n) == KD_OK)
				usleep(1000);
		}
		c->dead = true;
		c->set_up = true;
		srv_client_destroy(c);
		return;
	}
	/* CONNECTED first so it precedes every line of this client. */
	pthread_mutex_lock(&v->lock);
	srv_push(v, IT_CONNECTED, c, NULL);
	pthread_mutex_unlock(&v->lock);
	wr_ok = pthread_create(&wr, NULL, srv_writer, c) == 0;
	rd_ok = pthread_create(&rd, NULL,
			       kind == SRV_RCHAN ? srv_reader_rchan :
						   srv_reader_relay,
			       c) == 0;
	pthread_mutex_lock(&v->lock);
	c->wr = wr;
	c->rd = rd;
	c->wr_started = wr_ok;
	c->rd_started = rd_ok;
	c->set_up = true;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&v->lock);
	/* From here on c may be gone: only the main thread touches it. */
	if (!rd_ok) {
		srv_set_reason(c, "no thread for it");
		srv_reader_done(c);
	}
}

/* ------------------------------------------------------------------ */
/* Listener threads                                                    */
/* ------------------------------------------------------------------ */

static void srv_log(struct kd_dbgserver *v, const char *fmt, ...)
	KD_PRINTF(2, 3);

static void srv_log(struct kd_dbgserver *v, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&v->lock);
	srv_push(v, IT_LOG, NULL, buf);
	pthread_mutex_unlock(&v->lock);
}

/*
 * Log a refused connection, at most KD_LOGLIMIT_DEF_BURST lines per 10 s
 * and then one line that counts the rest, so a flood of bad connections
 * cannot flood the console.
 */
static void srv_log_refusal(struct kd_dbgserver *v, unsigned int id,
			    const char *why)
{
	unsigned long held = 0;
	bool say = kd_loglimit_allow(&v->refusals, &held);

	if (held)
		srv_log(v,
			"Server refused %lu more connections in the last "
			"%d s (not shown one by one)\n",
			held, kd_loglimit_window_s(&v->refusals));
	if (say)
		srv_log(v, "Server %u refused a client: %s\n", id, why);
}

struct srv_handshake {
	struct srv_listener *L;
	struct kd_rchan *ch;
};

/*
 * One connection's handshake, in a thread of its own so that a slow or
 * silent peer holds up nobody (the listener admits at most
 * KD_RCHAN_PENDING_MAX of them and makes room fairly: kd_raccept_conn()).
 */
static void *srv_handshake_main(void *arg)
{
	struct srv_handshake *h = arg;
	struct srv_listener *L = h->L;
	struct kd_dbgserver *v = L->srv;
	struct kd_rchan *ch = h->ch;
	char ident[256];
	int rc;

	kd_free(h);
	kd_error_clear();
	rc = kd_rchan_handshake(L->l, ch);
	if (rc < 0) {
		char why[sizeof(kd_error_last()->message)];

		snprintf(why, sizeof(why), "%s",
			 kd_error_last()->message[0] ?
				 kd_error_last()->message :
				 kd_error_message(rc));
		kd_rchan_close(ch);
		srv_log_refusal(v, L->id, why);
	} else {
		/* The identity is printable ASCII (checked by the parser). */
		snprintf(ident, sizeof(ident), "%s (%s %s)",
			 kd_rchan_identity(ch)[0] ? kd_rchan_identity(ch) :
						    "unknown\\unknown",
			 kd_rchan_proto(ch), kd_rchan_peer(ch));
		srv_client_add(v, SRV_RCHAN, ch, -1, ident);
	}
	kd_rchan_thread_done();
	pthread_mutex_lock(&v->lock);
	v->handshakes--;
	pthread_cond_broadcast(&v->hs_cv);
	pthread_mutex_unlock(&v->lock);
	return NULL;
}

static void srv_start_handshake(struct srv_listener *L, struct kd_rchan *ch)
{
	struct kd_dbgserver *v = L->srv;
	struct srv_handshake *h = kd_malloc(sizeof(*h));
	pthread_attr_t attr;
	pthread_t th;
	bool ok = false;

	if (h) {
		h->L = L;
		h->ch = ch;
		pthread_mutex_lock(&v->lock);
		v->handshakes++;
		pthread_mutex_unlock(&v->lock);
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&attr, 256u << 10);
		ok = pthread_create(&th, &attr, srv_handshake_main, h) == 0;
		pthread_attr_destroy(&attr);
		if (!ok) {
			pthread_mutex_lock(&v->lock);
			v->handshakes--;
			pthread_cond_broadcast(&v->hs_cv);
			pthread_mutex_unlock(&v->lock);
			kd_free(h);
		}
	}
	if (!ok) {
		kd_rchan_close(ch);
		srv_log_refusal(v, L->id, "no thread for its handshake");
	}
}

static void *srv_listen_rchan(void *arg)
{
	struct srv_listener *L = arg;
	struct kd_dbgserver *v = L->srv;

	for (;;) {
		struct kd_rchan *ch = NULL;
		enum srv_state st;
		bool stop;
		int fd, rc;

		pthread_mutex_lock(&v->lock);
		stop = L->stop;
		pthread_mutex_unlock(&v->lock);
		if (stop)
			break;
		fd = kd_rlistener_fd(L->l);
		if (fd >= 0) {
			struct pollfd pfd = { fd, POLLIN, 0 };

			if (poll(&pfd, 1, SRV_POLL_MS) <= 0)
				continue;
		}
		/* .endsrv may have come while we waited. */
		pthread_mutex_lock(&v->lock);
		st = L->state;
		pthread_mutex_unlock(&v->lock);
		if (st == SRV_DISABLED) {
			/* The next connection attempt ends it (WinDbg). */
			kd_rlistener_stop_listening(L->l);
			pthread_mutex_lock(&v->lock);
			L->state = SRV_GONE;
			pthread_mutex_unlock(&v->lock);
			break;
		}
		rc = kd_raccept_conn(L->l, &ch, fd >= 0 ? 0 : SRV_POLL_MS);
		if (rc == KD_ETIMEOUT)
			continue;
		if (rc < 0) {
			srv_log_refusal(v, L->id,
					kd_error_last()->message[0] ?
						kd_error_last()->message :
						kd_error_message(rc));
			continue;
		}
		srv_start_handshake(L, ch);
	}
	return NULL;
}

static void *srv_listen_relay(void *arg)
{
	struct srv_listener *L = arg;
	struct kd_dbgserver *v = L->srv;

	for (;;) {
		struct pollfd pfd = { L->ufd, POLLIN, 0 };
		struct ucred cred;
		socklen_t clen = sizeof(cred);
		char user[64] = "unknown";
		char ident[256];
		bool stop;
		int fd;

		pthread_mutex_lock(&v->lock);
		stop = L->stop;
		pthread_mutex_unlock(&v->lock);
		if (stop)
			break;
		if (poll(&pfd, 1, SRV_POLL_MS) <= 0)
			continue;
		fd = accept4(L->ufd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) ==
		    0) {
			struct passwd pw, *res = NULL;
			char pwbuf[1024];

			if (getpwuid_r(cred.uid, &pw, pwbuf, sizeof(pwbuf),
				       &res) == 0 &&
			    res)
				snprintf(user, sizeof(user), "%s",
					 res->pw_name);
			else
				snprintf(user, sizeof(user), "uid%u",
					 (unsigned)cred.uid);
		}
		snprintf(ident, sizeof(ident), "%s\\%s (relay %s)", v->host,
			 user, L->name);
		srv_client_add(v, SRV_RELAY, NULL, fd, ident);
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Setting up                                                          */
/* ------------------------------------------------------------------ */

static struct kd_dbgserver *srv_get(struct kd_session *s)
{
	struct kd_dbgserver *v;

	if (s->dbgsrv.srv)
		return s->dbgsrv.srv;
	v = kd_calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	if (pipe2(v->ev, O_CLOEXEC | O_NONBLOCK) < 0) {
		kd_free(v);
		return NULL;
	}
	pthread_mutex_init(&v->lock, NULL);
	pthread_cond_init(&v->hs_cv, NULL);
	kd_loglimit_init(&v->refusals, KD_LOGLIMIT_DEF_BURST,
			 KD_LOGLIMIT_DEF_WINDOW_MS);
	v->accepting = true;
	v->s = s;
	if (gethostname(v->host, sizeof(v->host)) < 0 || !v->host[0])
		snprintf(v->host, sizeof(v->host), "localhost");
	v->host[sizeof(v->host) - 1] = '\0';
	/* Install the fan-out around the session's output. */
	v->local_fn = s->out.out_fn;
	v->local_ctx = s->out.out_ctx;
	s->out.out_fn = srv_fanout;
	s->out.out_ctx = v;
	s->dbgsrv.srv = v;
	s->hooks.servers_close = kd_session_servers_close;
	return v;
}

int kd_srv_cmd_server(struct kd_session *s, const char *spec)
{
	struct srv_listener *L;
	struct kd_dbgserver *v;
	unsigned int i;
	int rc;

	v = srv_get(s);
	if (!v)
		return kd_fail(s, KD_ENOMEM,
			       "Unable to start the server: "
			       "out of memory");
	if (v->nservers >= KD_DBGSRV_MAX_SERVERS)
		return kd_fail(s, KD_EBUSY,
			       "Unable to start the server: %u servers were "
			       "started already",
			       KD_DBGSRV_MAX_SERVERS);
	L = kd_calloc(1, sizeof(*L));
	if (!L)
		return KD_ENOMEM;
	L->srv = v;
	L->kind = SRV_RCHAN;
	L->ufd = -1;
	kd_error_clear();
	rc = kd_rlisten(&L->l, spec, KD_RCHAN_SERVICE_DBGSRV);
	if (rc < 0) {
		char shown[512];

		kd_free(L);
		return kd_fail(s, rc,
			       "Unable to start the server with '%s': "
			       "%s",
			       kd_text_redact(shown, sizeof(shown), spec),
			       kd_error_last()->message[0] ?
				       kd_error_last()->message :
				       kd_error_message(rc));
	}
	kd_rlistener_describe(L->l, v->host, L->desc, sizeof(L->desc));
	L->id = v->nservers;
	if (pthread_create(&L->th, NULL, srv_listen_rchan, L) != 0) {
		kd_rlistener_close(L->l);
		kd_free(L);
		return kd_fail(s, KD_ENOMEM,
			       "Unable to start the server: "
			       "no thread");
	}
	L->started = true;
	v->servers[v->nservers++] = L;
	kd_out(s, "Server started.  Client can connect with any of these "
		  "command lines\n");
	for (i = 0; i < v->nservers; i++) {
		struct srv_listener *x = v->servers[i];
		enum srv_state st;

		pthread_mutex_lock(&v->lock);
		st = x->state;
		pthread_mutex_unlock(&v->lock);
		if (st == SRV_ACTIVE)
			kd_out(s, "%u: kd -remote %s\n", x->id, x->desc);
	}
	return KD_OK;
}

int kd_srv_cmd_servers(struct kd_session *s)
{
	struct kd_dbgserver *v = s->dbgsrv.srv;
	unsigned int i;

	if (!v)
		return KD_OK;
	for (i = 0; i < v->nservers; i++) {
		struct srv_listener *x = v->servers[i];
		enum srv_state st;

		pthread_mutex_lock(&v->lock);
		st = x->state;
		pthread_mutex_unlock(&v->lock);
		if (st == SRV_ACTIVE)
			kd_out(s, "%u - Debugger Server - %s\n", x->id,
			       x->desc);
		else if (st == SRV_DISABLED)
			kd_out(s, "%u - <Disabled, exit pending>\n", x->id);
	}
	return KD_OK;
}

int kd_srv_cmd_endsrv(struct kd_session *s, unsigned long id)
{
	struct kd_dbgserver *v = s->dbgsrv.srv;
	struct srv_listener *x;
	bool ok;

	if (!v || id >= v->nservers)
		return kd_fail(s, KD_ENOTFOUND,
			       "No debugging server %lu (.servers lists them; "
			       ".endsrv cannot end a KD connection server: "
			       "use .endpsrv)",
			       id);
	x = v->servers[id];
	pthread_mutex_lock(&v->lock);
	ok = x->state == SRV_ACTIVE;
	if (ok)
		x->state = SRV_DISABLED;
	pthread_mutex_unlock(&v->lock);
	if (!ok)
		return kd_fail(s, KD_EINVAL,
			       "Debugging server %lu was told to exit already",
			       id);
	kd_out(s, "Server told to exit.  Actual exit may be delayed until\n"
		  "the next connection attempt.\n");
	return KD_OK;
}

int kd_srv_cmd_clients(struct kd_session *s)
{
	struct kd_dbgserver *v = s->dbgsrv.srv;
	char lines[KD_DBGSRV_MAX_CLIENTS][320];
	unsigned int i, n = 0;

	if (!v)
		return KD_OK;
	pthread_mutex_lock(&v->lock);
	for (i = 0; i < v->nclients; i++) {
		struct srv_client *c = v->clients[i];
		char when[32];

		if (!c->joined || c->dead)
			continue;
		srv_ctime(c->last_active, when);
		snprintf(lines[n++], sizeof(lines[0]), "%s, last active %s\n",
			 c->ident, when);
	}
	pthread_mutex_unlock(&v->lock);
	for (i = 0; i < n; i++)
		kd_out(s, "%s", lines[i]);
	return KD_OK;
}

bool kd_srv_relay_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > KD_DBGSRV_MAX_RELAY_NAME)
		return false;
	for (i = 0; i < n; i++) {
		char ch = name[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
		      ch == '.'))
			return false;
	}
	return name[0] != '.';
}

/*
 * The relay sockets live in a directory only their user can enter:
 * $XDG_RUNTIME_DIR/openkd (that directory is the user's by the XDG spec)
 * or, without it, ${TMPDIR:-/tmp}/openkd-UID.  In a shared /tmp another
 * user could create that directory first, so both ends check that it is
 * a real directory, owned by us, closed to everyone else.
 */
static int srv_relay_dir(char *buf, size_t cap)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	const char *tmp = getenv("TMPDIR");
	int n;

	if (xdg && *xdg == '/')
		n = snprintf(buf, cap, "%s/openkd", xdg);
	else
		n = snprintf(buf, cap, "%s/openkd-%u",
			     tmp && *tmp == '/' ? tmp : "/tmp",
			     (unsigned)geteuid());
	return n < 0 || (size_t)n >= cap ? KD_EOVERFLOW : KD_OK;
}

int kd_srv_relay_path(const char *name, char *buf, size_t cap)
{
	char dir[128];
	int n;

	if (!kd_srv_relay_name_ok(name))
		return KD_EINVAL;
	if (srv_relay_dir(dir, sizeof(dir)) < 0)
		return KD_EOVERFLOW;
	n = snprintf(buf, cap, "%s/remote-%s.sock", dir, name);
	if (n < 0 || (size_t)n >= cap ||
	    (size_t)n >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return KD_EOVERFLOW;
	return KD_OK;
}

int kd_session_relay_path(const char *name, char *buf, size_t cap)
{
	return kd_srv_relay_path(name, buf, cap);
}

int kd_srv_relay_dir_check(bool create, char *why, size_t cap)
{
	char dir[128];
	struct stat st;

	if (srv_relay_dir(dir, sizeof(dir)) < 0) {
		snprintf(why, cap, "the relay directory name is too long");
		return KD_EOVERFLOW;
	}
	if (create && mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(why, cap, "cannot create %s: %s", dir,
			 strerror(errno));
		return KD_ERROR;
	}
	if (lstat(dir, &st) < 0) {
		snprintf(why, cap, "%s: %s", dir, strerror(errno));
		return KD_ENOTFOUND;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, cap, "%s is not a directory; refusing it", dir);
		return KD_EAUTH;
	}
	if (st.st_uid != geteuid()) {
		snprintf(why, cap,
			 "%s belongs to uid %u, not to uid %u; refusing it "
			 "(someone else may be waiting to read your session)",
			 dir, (unsigned)st.st_uid, (unsigned)geteuid());
		return KD_EAUTH;
	}
	if (st.st_mode & 077) {
		snprintf(why, cap,
			 "%s is open to other users (mode %03o); refusing it",
			 dir, (unsigned)(st.st_mode & 0777));
		return KD_EAUTH;
	}
	return KD_OK;
}

int kd_session_relay_connect(const char *name, char *why, size_t cap)
{
	struct sockaddr_un sa;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	char path[sizeof(sa.sun_path)];
	int fd, rc;

	rc = kd_srv_relay_path(name, path, sizeof(path));
	if (rc < 0) {
		snprintf(why, cap, "bad relay session name '%s'", name);
		return rc;
	}
	rc = kd_srv_relay_dir_check(false, why, cap);
	if (rc < 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, cap, "socket: %s", strerror(errno));
		return KD_ERROR;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(why, cap, "%s: %s", path, strerror(errno));
		close(fd);
		return KD_EDISCONNECTED;
	}
	/* Whoever listens there must be us. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 ||
	    cred.uid != geteuid()) {
		snprintf(why, cap,
			 "%s is served by uid %u, not by uid %u; refusing it",
			 path, (unsigned)cred.uid, (unsigned)geteuid());
		close(fd);
		return KD_EAUTH;
	}
	return fd;
}

int kd_srv_cmd_remote(struct kd_session *s, const char *name)
{
	struct sockaddr_un sa;
	struct srv_listener *L;
	struct kd_dbgserver *v;
	char path[108], why[300];
	mode_t old;
	int fd, rc;

	if (!kd_srv_relay_name_ok(name))
		return kd_fail(s, KD_EINVAL,
			       "Bad session name '%s': use 1 to %u letters, "
			       "digits, '_', '-' or '.'",
			       name, KD_DBGSRV_MAX_RELAY_NAME);
	rc = kd_srv_relay_path(name, path, sizeof(path));
	if (rc < 0)
		return kd_fail(s, rc,
			       "Session name '%s' makes too long a "
			       "socket path",
			       name);
	rc = kd_srv_relay_dir_check(true, why, sizeof(why));
	if (rc < 0)
		return kd_fail(s, rc, ".remote: %s", why);
	v = srv_get(s);
	if (!v)
		return KD_ENOMEM;
	if (v->nrelays >= KD_DBGSRV_MAX_RELAYS)
		return kd_fail(s, KD_EBUSY, "Too many .remote sessions");
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return kd_fail(s, KD_ERROR, ".remote: socket: %s",
			       strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* A stale socket of a dead kd may be replaced; a live one not. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(fd);
		return kd_fail(s, KD_EBUSY,
			       ".remote: session '%s' is in use (%s)", name,
			       path);
	}
	close(fd);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return kd_fail(s, KD_ERROR, ".remote: socket: %s",
			       strerror(errno));
	old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || chmod(path, 0600) < 0 || listen(fd, 8) < 0) {
		int e = errno;

		close(fd);
		return kd_fail(s, KD_ERROR, ".remote: cannot listen on %s: %s",
			       path, strerror(e));
	}
	L = kd_calloc(1, sizeof(*L));
	if (!L) {
		close(fd);
		unlink(path);
		return KD_ENOMEM;
	}
	L->srv = v;
	L->kind = SRV_RELAY;
	L->ufd = fd;
	L->id = v->nrelays;
	snprintf(L->name, sizeof(L->name), "%s", name);
	snprintf(L->path, sizeof(L->path), "%s", path);
	if (pthread_create(&L->th, NULL, srv_listen_relay, L) != 0) {
		close(fd);
		unlink(path);
		kd_free(L);
		return kd_fail(s, KD_ENOMEM, ".remote: no thread");
	}
	L->started = true;
	v->relays[v->nrelays++] = L;
	kd_out(s,
	       "Remote session '%s' started on %s\n"
	       "Attach with: kd -remote relay:%s\n",
	       name, path, name);
	return KD_OK;
}

/* ------------------------------------------------------------------ */
/* Running what the clients sent (main thread)                        */
/* ------------------------------------------------------------------ */

/* kd_session_execute() for a client's line: `q` is refused. */
static void srv_execute(struct kd_dbgserver *v, const char *line)
{
	struct kd_session *s = v->s;
	const char *p = line;

	s->interrupt = 0;
	while (*p && !s->quit) {
		const char *next;
		size_t len;
		char *one;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		len = kd_cmd_next(p, &next);
		one = kd_malloc(len + 1);
		if (!one)
			return;
		memcpy(one, p, len);
		one[len] = '\0';
		s->dbgsrv.remote_cmd = true;
		(void)kd_cmd_run_one(s, one);
		s->dbgsrv.remote_cmd = false;
		kd_free(one);
		if (s->interrupt)
			break;
		p = next;
	}
	while (s->tgt.running && !s->quit) {
		int rc = kd_session_wait(s, -1);

		if (rc != KD_OK && rc != KD_ETIMEOUT) {
			kd_out(s, "Waiting for the target failed: %s\n",
			       kd_error_message(rc));
			break;
		}
	}
}

/* Remove @p c from the list (main thread). */
static void srv_unlist(struct kd_dbgserver *v, struct srv_client *c)
{
	unsigned int i;

	pthread_mutex_lock(&v->lock);
	for (i = 0; i < v->nclients; i++) {
		if (v->clients[i] == c) {
			memmove(&v->clients[i], &v->clients[i + 1],
				(v->nclients - i - 1) *
					sizeof(struct srv_client *));
			v->nclients--;
			break;
		}
	}
	pthread_mutex_unlock(&v->lock);
}

static void srv_handle(struct kd_dbgserver *v, struct srv_item *it)
{
	struct kd_session *s = v->s;
	struct srv_client *c = it->c;
	char shown[KD_SRVMSG_MAX_LINE + 1];
	char when[32];
	bool dead;

	switch (it->kind) {
	case IT_LOG:
		srv_local(v, it->text, strlen(it->text));
		return;
	case IT_CONNECTED:
		if (srv_is_dead(c))
			return; /* its GONE follows */
		c->joined = true;
		srv_ctime(kd_now_ms(), when);
		srv_emitf(v, NULL, "%s connected at %s\n", c->ident, when);
		c->disturbed = false;
		srv_prompt(v, c);
		return;
	case IT_LINE:
	case IT_EXIT:
		pthread_mutex_lock(&v->lock);
		if (c->ahead)
			c->ahead--;
		dead = c->dead;
		pthread_mutex_unlock(&v->lock);
		if (dead || !c->joined)
			return;
		/* Others see what it typed, a password in it masked. */
		kd_text_redact(shown, sizeof(shown), it->text);
		if (it->kind == IT_EXIT)
			srv_emitf(v, c, "%s issued: .remote_exit %s\n",
				  c->ident, shown);
		else if (it->text[strspn(it->text, " \t")] != '\0')
			srv_emitf(v, c, "%s issued: %s\n", c->ident, shown);
		v->current = c;
		c->prompt_shown = false;
		c->disturbed = false;
		srv_execute(v, it->text);
		v->current = NULL;
		if (it->kind == IT_EXIT) {
			static const char bye[] = "Detached from the "
						  "debugging server.";

			pthread_mutex_lock(&v->lock);
			srv_enqueue(c, KD_SRVMSG_ENDED, bye, sizeof(bye) - 1);
			pthread_mutex_unlock(&v->lock);
			c->joined = false;
			srv_ctime(kd_now_ms(), when);
			srv_emitf(v, c, "%s disconnected at %s\n", c->ident,
				  when);
			c->prompt_shown = true; /* no prompt for it */
			c->disturbed = false;
		} else if (!s->quit) {
			srv_prompt(v, c);
		}
		return;
	case IT_GONE:
		srv_unlist(v, c);
		if (c->joined && !v->closing) {
			srv_ctime(kd_now_ms(), when);
			if (c->reason[0])
				srv_emitf(v, c, "%s disconnected at %s: %s\n",
					  c->ident, when, c->reason);
			else
				srv_emitf(v, c, "%s disconnected at %s\n",
					  c->ident, when);
		} else if (c->reason[0] && !v->closing) {
			srv_ctime(kd_now_ms(), when);
			srv_local(v, c->ident, strlen(c->ident));
			srv_local(v, " dropped: ", 10);
			srv_local(v, c->reason, strlen(c->reason));
			srv_local(v, "\n", 1);
		}
		srv_client_destroy(c);
		return;
	}
}

/* ------------------------------------------------------------------ */
/* Public entry points                                                 */
/* ------------------------------------------------------------------ */

int kd_session_server_start(struct kd_session *s, const char *spec)
{
	return kd_srv_cmd_server(s, spec);
}

int kd_session_remote_start(struct kd_session *s, const char *name)
{
	return kd_srv_cmd_remote(s, name);
}

int kd_session_poll_fd(struct kd_session *s)
{
	return s->dbgsrv.srv ? s->dbgsrv.srv->ev[0] : -1;
}

int kd_session_service(struct kd_session *s, bool at_prompt)
{
	struct kd_dbgserver *v = s->dbgsrv.srv;
	struct srv_item *it;
	int n = 0;

	if (!v)
		return 0;
	v->local_prompt = at_prompt;
	v->local_printed = false;
	while (!s->quit) {
		it = srv_pop(v);
		if (!it)
			break;
		srv_handle(v, it);
		kd_free(it);
	}
	if (!s->quit)
		srv_reprompt(v);
	v->local_prompt = false;
	n = v->local_printed ? 1 : 0;
	v->local_printed = false;
	return n;
}

void kd_session_echo_local(struct kd_session *s, const char *line)
{
	struct kd_dbgserver *v = s->dbgsrv.srv;
	char shown[KD_SRVMSG_MAX_LINE + 1];
	const char *p;
	unsigned int i;

	if (!v)
		return;
	p = kd_session_prompt(s);
	/* Clients see what was typed, a password in it masked. */
	kd_text_redact(shown, sizeof(shown), line);
	line = shown;
	pthread_mutex_lock(&v->lock);
	for (i = 0; i < v->nclients; i++) {
		struct srv_client *c = v->clients[i];

		if (!c->joined)
			continue;
		if (c->prompt_shown)
			srv_enqueue(c, KD_SRVMSG_OUTPUT, "\n", 1);
		c->prompt_shown = false;
		c->disturbed = true;
		srv_enqueue(c, KD_SRVMSG_OUTPUT, p, strlen(p));
		srv_enqueue(c, KD_SRVMSG_OUTPUT, line, strlen(line));
		srv_enqueue(c, KD_SRVMSG_OUTPUT, "\n", 1);
	}
	pthread_mutex_unlock(&v->lock);
}

void kd_session_servers_close(struct kd_session *s, const char *reason)
{
	struct kd_dbgserver *v = s->dbgsrv.srv;
	struct srv_item *it;
	uint64_t deadline;
	unsigned int i;

	if (!v)
		return;
	v->closing = true;
	if (!reason)
		reason = "The debugging session has ended.";
	/* Stop accepting. */
	pthread_mutex_lock(&v->lock);
	v->accepting = false;
	pthread_mutex_unlock(&v->lock);
	for (i = 0; i < v->nservers + v->nrelays; i++) {
		struct srv_listener *L = i < v->nservers ?
						 v->servers[i] :
						 v->relays[i - v->nservers];

		pthread_mutex_lock(&v->lock);
		L->stop = true;
		pthread_mutex_unlock(&v->lock);
	}
	for (i = 0; i < v->nservers + v->nrelays; i++) {
		struct srv_listener *L = i < v->nservers ?
						 v->servers[i] :
						 v->relays[i - v->nservers];

		if (L->started)
			pthread_join(L->th, NULL);
		L->started = false;
		kd_rlistener_cut_pending(L->l);
	}
	/* Handshakes use their listener: let them end first. */
	pthread_mutex_lock(&v->lock);
	while (v->handshakes)
		pthread_cond_wait(&v->hs_cv, &v->lock);
	pthread_mutex_unlock(&v->lock);
	for (i = 0; i < v->nservers + v->nrelays; i++) {
		struct srv_listener *L = i < v->nservers ?
						 v->servers[i] :
						 v->relays[i - v->nservers];

		if (L->l)
			kd_rlistener_close(L->l);
		if (L->ufd >= 0 && L->kind == SRV_RELAY) {
			close(L->ufd);
			unlink(L->path);
		}
		kd_free(L);
	}
	v->nservers = v->nrelays = 0;
	/* Tell every client, give the writers a moment to flush. */
	pthread_mutex_lock(&v->lock);
	for (i = 0; i < v->nclients; i++)
		srv_enqueue(v->clients[i], KD_SRVMSG_ENDED, reason,
			    strlen(reason));
	deadline = kd_mono_ms() + SRV_FLUSH_MS;
	for (i = 0; i < v->nclients; i++) {
		struct srv_client *c = v->clients[i];

		while (!c->wr_done && c->wr_started && !c->dead &&
		       kd_mono_ms() < deadline) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 50 * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&c->cv, &v->lock, &ts);
		}
	}
	pthread_mutex_unlock(&v->lock);
	while (v->nclients) {
		struct srv_client *c = v->clients[v->nclients - 1];

		v->nclients--;
		srv_client_destroy(c);
	}
	for (it = srv_pop(v); it; it = srv_pop(v))
		kd_free(it);
	s->out.out_fn = v->local_fn;
	s->out.out_ctx = v->local_ctx;
	close(v->ev[0]);
	close(v->ev[1]);
	pthread_cond_destroy(&v->hs_cv);
	kd_loglimit_destroy(&v->refusals);
	pthread_mutex_destroy(&v->lock);
	kd_free(v);
	s->dbgsrv.srv = NULL;
}
