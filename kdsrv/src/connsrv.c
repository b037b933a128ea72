/* SPDX-License-Identifier: MIT */
/*
 * The KD connection server: accepts smart clients on a remote channel,
 * opens the transport each asks for, runs the KD link there (host role)
 * and relays whole KD packets.  A registry of open links refuses a second
 * client for a channel in use and keeps a link whose client vanished, for
 * the next client that asks for it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <kd/alloc.h>
#include <kd/clock.h>
#include <kd/error.h>
#include <kd/kdsrv.h>
#include <kd/link.h>
#include <kd/loglimit.h>
#include <kd/proto/kdsrv.h>
#include <kd/proto/packet.h>
#include <kd/rchan.h>
#include <kd/textsafe.h>
#include <kd/transport.h>

#define SRV_KEY_MAX 300
#define SRV_PEER_MAX 64
#define SRV_DRAIN_MS 50	       /* janitor period for links nobody holds */
#define SRV_POLL_MS 200	       /* client loop wake-up with a waitable link */
#define SRV_BUSY_POLL_MS 2     /* ... and with one that is not */
#define SRV_OPEN_WAIT_MS 10000 /* a new client must send OPEN by then */
#define SRV_SPARE_THREADS 8    /* cut handshakes still winding down */

/* One opened target link, attached to a client or waiting for one. */
struct line {
	struct line *next;
	char key[SRV_KEY_MAX];
	char trans[KD_SRV_MAX_TEXT + 1];
	struct kd_link *link;
	bool attached;
	bool busy; /* the janitor is draining it */
	bool kdnet;
	int request_ms; /* resync budget after a send time-out */
	uint64_t taken; /* packets handed up to us (see line_rebase) */
	char owner[SRV_PEER_MAX];
	char since[16]; /* HH:MM:SS the owner took it */
	time_t idle_since;
};

struct kd_connsrv {
	struct kd_srv_opts o;
	struct kd_rlistener *l;
	FILE *log;
	int stop_pipe[2]; /* readable once the server is ending */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct line *lines;
	int clients;  /* client threads alive (handshakes included) */
	int sessions; /* clients past the handshake */
	bool ending;
	pthread_t janitor;
	bool janitor_up;
	char desc[256];
	char end_by[96];	     /* who ended the server, for the others */
	struct kd_loglimit refusals; /* "refused" lines: floods summarised */
};

struct client {
	struct kd_connsrv *s;
	struct kd_rchan *ch;
	struct line *line;
	bool counted; /* in s->sessions */
	char peer[SRV_PEER_MAX];
	const char *proto;
	uint64_t packets_in;
	uint64_t packets_out;
	/* rate limit: a token bucket of msg_rate tokens per second */
	double tokens;
	int64_t last_ms;
	uint8_t rx[KD_SRV_MSG_MAX];
	uint8_t tx[KD_SRV_MSG_MAX];
	uint8_t pkt[KD_SRV_MAX_PAYLOAD];
};

/* --- logging --- */

static void clock_text(char *buf, size_t cap, bool date)
{
	time_t t = time(NULL);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, cap, date ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S", &tm);
}

static void vslog(struct kd_connsrv *s, const char *fmt, va_list ap)
	KD_PRINTF(2, 0);

static void vslog(struct kd_connsrv *s, const char *fmt, va_list ap)
{
	char when[32], line[1024], safe[1024];

	clock_text(when, sizeof(when), true);
	vsnprintf(line, sizeof(line), fmt, ap);
	/* Lines quote clients' text: no terminal escapes into the log. */
	kd_text_escape(safe, sizeof(safe), line, strlen(line), NULL);
	flockfile(s->log);
	fprintf(s->log, "%s kdsrv: %s\n", when, safe);
	fflush(s->log);
	funlockfile(s->log);
}

static void slog(struct kd_connsrv *s, const char *fmt, ...) KD_PRINTF(2, 3);

static void slog(struct kd_connsrv *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vslog(s, fmt, ap);
	va_end(ap);
}

static void refusal_summary(struct kd_connsrv *s, unsigned long held)
{
	if (held)
		slog(s,
		     "%lu more refusals in the last %d s (not logged one "
		     "by one)",
		     held, kd_loglimit_window_s(&s->refusals));
}

/* A refusal line: a few per window, the rest summarised (loglimit.h). */
static void slog_refused(struct kd_connsrv *s, const char *fmt, ...)
	KD_PRINTF(2, 3);

static void slog_refused(struct kd_connsrv *s, const char *fmt, ...)
{
	unsigned long held;
	bool write = kd_loglimit_allow(&s->refusals, &held);
	va_list ap;

	refusal_summary(s, held);
	if (!write)
		return;
	va_start(ap, fmt);
	vslog(s, fmt, ap);
	va_end(ap);
}

/* --- messages to a client --- */

static int put(struct client *c, const struct kd_srv_msg *m)
{
	size_t n;
	int rc;

	rc = kd_srv_msg_encode(c->tx, sizeof(c->tx), &n, m);
	if (rc < 0)
		return rc;
	return kd_rchan_send(c->ch, c->tx, n);
}

static void put_error(struct client *c, int status, const char *text)
{
	struct kd_srv_msg m;

	memset(&m, 0, sizeof(m));
	m.type = KD_SRV_ERROR;
	m.status = status < 0 && status >= -1000 ? status : KD_ERROR;
	m.text = text;
	m.text_len = (uint32_t)strnlen(text, KD_SRV_MAX_TEXT);
	(void)put(c, &m);
}

/* Text for a message: bounded and printable. */
static void clean_text(char *dst, size_t cap, const char *src)
{
	size_t i;

	for (i = 0; src[i] && i + 1 < cap; i++) {
		unsigned char ch = (unsigned char)src[i];

		dst[i] = (char)(ch >= 0x20 && ch <= 0x7e ? ch : '?');
	}
	dst[i] = '\0';
}

/* --- the registry --- */

static struct line *find_line(struct kd_connsrv *s, const char *key)
{
	for (struct line *l = s->lines; l; l = l->next) {
		if (strcmp(l->key, key) == 0)
			return l;
	}
	return NULL;
}

static void unlink_line(struct kd_connsrv *s, struct line *dead)
{
	for (struct line **pp = &s->lines; *pp; pp = &(*pp)->next) {
		if (*pp == dead) {
			*pp = dead->next;
			return;
		}
	}
}

/* Give the line back to the registry (client gone); the link lives on. */
static void detach_line(struct kd_connsrv *s, struct line *l)
{
	pthread_mutex_lock(&s->lock);
	l->attached = false;
	l->owner[0] = '\0';
	l->idle_since = time(NULL);
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/* Remove and close a line whose transport failed (caller holds it). */
static void drop_line(struct kd_connsrv *s, struct line *l)
{
	pthread_mutex_lock(&s->lock);
	unlink_line(s, l);
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	kd_link_close(l->link);
	kd_free(l);
}

/*
 * Take the line for @p key for client @p c: a free one left by an earlier
 * client (same transport string) or a new one.  Fills @p why on refusal.
 */
static int take_line(struct client *c, const char *trans, int request_ms,
		     bool *reused, char *why, size_t cap)
{
	struct kd_connsrv *s = c->s;
	struct kd_transport *t = NULL;
	struct line *l, *old = NULL;
	char key[SRV_KEY_MAX];
	int rc;

	rc = kd_srv_transport_key(trans, key, sizeof(key));
	if (rc < 0) {
		char shown[KD_SRV_MAX_TEXT + 1];

		snprintf(why, cap, "bad transport '%.200s': %.150s",
			 kd_text_redact(shown, sizeof(shown), trans),
			 kd_error_message(rc));
		return rc;
	}
	pthread_mutex_lock(&s->lock);
	for (;;) {
		l = find_line(s, key);
		if (!l || l->attached || !l->busy)
			break;
		pthread_cond_wait(&s->cond, &s->lock);
	}
	if (l && l->attached) {
		snprintf(why, cap, "%s: in use by %s since %s", key, l->owner,
			 l->since);
		pthread_mutex_unlock(&s->lock);
		return KD_EBUSY;
	}
	if (l && strcmp(l->trans, trans) == 0) {
		l->attached = true;
		l->request_ms = request_ms;
		snprintf(l->owner, sizeof(l->owner), "%s", c->peer);
		clock_text(l->since, sizeof(l->since), false);
		pthread_mutex_unlock(&s->lock);
		c->line = l;
		*reused = true;
		return KD_OK;
	}
	if (l) {
		/* Same channel, other options: close the old link first. */
		unlink_line(s, l);
		old = l;
	}
	l = kd_calloc(1, sizeof(*l));
	if (!l) {
		pthread_mutex_unlock(&s->lock);
		if (old) {
			kd_link_close(old->link);
			kd_free(old);
		}
		snprintf(why, cap, "out of memory");
		return KD_ENOMEM;
	}
	snprintf(l->key, sizeof(l->key), "%s", key);
	snprintf(l->trans, sizeof(l->trans), "%s", trans);
	l->attached = true;
	l->request_ms = request_ms;
	snprintf(l->owner, sizeof(l->owner), "%s", c->peer);
	clock_text(l->since, sizeof(l->since), false);
	l->next = s->lines;
	s->lines = l; /* reserves the key while the transport opens */
	pthread_mutex_unlock(&s->lock);
	if (old) {
		kd_link_close(old->link);
		kd_free(old);
	}
	rc = kd_transport_open(&t, trans);
	if (rc == KD_OK) {
		struct kd_link_opts o = KD_LINK_OPTS_INIT;

		o.role = KD_LINK_HOST;
		rc = kd_link_open(&l->link, t, &o);
		if (rc < 0)
			kd_transport_close(t);
	}
	if (rc < 0) {
		char shown[KD_SRV_MAX_TEXT + 1];

		snprintf(why, cap, "cannot open %.200s: %.150s",
			 kd_text_redact(shown, sizeof(shown), trans),
			 kd_error_message(rc));
		pthread_mutex_lock(&s->lock);
		unlink_line(s, l);
		pthread_cond_broadcast(&s->cond);
		pthread_mutex_unlock(&s->lock);
		kd_free(l);
		return rc;
	}
	l->kdnet = kd_link_is_kdnet(l->link);
	c->line = l;
	*reused = false;
	return KD_OK;
}

/*
 * Packets the link holds = its count of packets handed up (queued) minus
 * `taken`.  The base is set whenever kd_link_recv() said "nothing"
 * (KD_ETIMEOUT: its queue is empty then); each packet it returns after
 * that adds one.  kd_link_sync() may drop queued packets: the difference
 * then overstates until the next KD_ETIMEOUT, which only costs one
 * needless kd_link_recv(); it never understates.
 */
static void line_rebase(struct line *l)
{
	struct kd_link_stats st;

	kd_link_stats(l->link, &st);
	l->taken = st.packets_received;
}

/* --- janitor: keep links nobody holds serviced (ACK, drop) --- */

static void *janitor_main(void *arg)
{
	struct kd_connsrv *s = arg;
	struct pollfd pfd = { .fd = s->stop_pipe[0], .events = POLLIN };

	for (;;) {
		struct line *l;
		int prc = poll(&pfd, 1, SRV_DRAIN_MS);

		if (prc > 0 || (prc < 0 && errno != EINTR))
			break;
		refusal_summary(s, kd_loglimit_flush(&s->refusals, false));

		pthread_mutex_lock(&s->lock);
		for (;;) {
			time_t now = time(NULL);

			for (l = s->lines; l; l = l->next) {
				if (!l->attached && !l->busy && l->link)
					break;
			}
			if (!l)
				break;
			if (s->o.idle_close_s > 0 &&
			    now - l->idle_since >= s->o.idle_close_s) {
				unlink_line(s, l);
				pthread_mutex_unlock(&s->lock);
				slog(s,
				     "%s: closed after %d s without a client",
				     l->key, s->o.idle_close_s);
				kd_link_close(l->link);
				kd_free(l);
				pthread_mutex_lock(&s->lock);
				continue;
			}
			break;
		}
		/* Drain every free line once per period. */
		for (l = s->lines; l; l = l->next) {
			unsigned type;
			size_t len;
			uint8_t buf[KD_SRV_MAX_PAYLOAD];
			int n = 0;

			if (l->attached || l->busy || !l->link)
				continue;
			l->busy = true;
			pthread_mutex_unlock(&s->lock);
			while (n++ < 64) {
				int r = kd_link_recv(l->link, &type, buf,
						     sizeof(buf), &len, 0);

				if (r == KD_ETIMEOUT)
					line_rebase(l);
				if (r != KD_OK && r != KD_EBUFS)
					break;
				l->taken++;
			}
			pthread_mutex_lock(&s->lock);
			l->busy = false;
			pthread_cond_broadcast(&s->cond);
		}
		pthread_mutex_unlock(&s->lock);
	}
	return NULL;
}

/* --- one client --- */

/* Rate limit: false when the client exceeded its message budget. */
static bool rate_ok(struct client *c)
{
	int64_t t = (int64_t)kd_mono_ms();
	double rate = c->s->o.msg_rate;

	c->tokens += (double)(t - c->last_ms) * rate / 1000.0;
	if (c->tokens > rate)
		c->tokens = rate;
	c->last_ms = t;
	if (c->tokens < 1.0)
		return false;
	c->tokens -= 1.0;
	return true;
}

static int relay_packet(struct client *c, unsigned type, size_t len)
{
	struct kd_srv_msg m;

	memset(&m, 0, sizeof(m));
	m.type = KD_SRV_RPACKET;
	m.pkt_type = (uint16_t)type;
	m.events = kd_link_events(c->line->link);
	m.data = c->pkt;
	m.data_len = (uint32_t)len;
	c->packets_out++;
	return put(c, &m);
}

static int do_send(struct client *c, const struct kd_srv_msg *in)
{
	struct kd_link *link = c->line->link;
	struct kd_srv_msg m;
	char text[256];
	int rc;

	c->packets_in++;
	rc = kd_link_send(link, in->pkt_type, in->data, in->data_len);
	if (rc == KD_ETIMEOUT) {
		/* As a direct host does: resynchronise once and retry. */
		rc = kd_link_sync(link, c->line->request_ms);
		if (rc == KD_OK)
			rc = kd_link_send(link, in->pkt_type, in->data,
					  in->data_len);
	}
	if (rc == KD_OK)
		return KD_OK;
	clean_text(text, sizeof(text), kd_error_message(rc));
	memset(&m, 0, sizeof(m));
	m.type = KD_SRV_SEND_FAILED;
	m.pkt_type = in->pkt_type;
	m.status = rc >= -1000 ? rc : KD_ERROR;
	m.events = kd_link_events(link);
	m.text = text;
	m.text_len = (uint32_t)strlen(text);
	return put(c, &m);
}

static int do_sync(struct client *c, const struct kd_srv_msg *in)
{
	struct kd_srv_msg m;
	char text[256] = "";
	int rc;

	rc = kd_link_sync(c->line->link, in->timeout_ms);
	if (rc < 0)
		clean_text(text, sizeof(text), kd_error_message(rc));
	memset(&m, 0, sizeof(m));
	m.type = KD_SRV_SYNCED;
	m.seq = in->seq;
	m.status = rc >= -1000 ? rc : KD_ERROR;
	m.events = kd_link_events(c->line->link);
	m.text = text;
	m.text_len = (uint32_t)strlen(text);
	return put(c, &m);
}

static int do_stats(struct client *c, const struct kd_srv_msg *in)
{
	struct kd_link_stats st;
	struct kd_srv_msg m;

	kd_link_stats(c->line->link, &st);
	memset(&m, 0, sizeof(m));
	m.type = KD_SRV_STATS_REPLY;
	m.seq = in->seq;
	KD_STATIC_ASSERT(sizeof(st) / 8 <= KD_SRV_MAX_COUNTERS,
			 "link stats fit a STATS reply");
	m.ncounters = (uint32_t)(sizeof(st) / 8);
	memcpy(m.counters, &st, sizeof(st));
	return put(c, &m);
}

/* Why a session ended, for the log. */
enum leave {
	LEAVE_CLOSE, /* CLOSE message */
	LEAVE_GONE,  /* EOF or reset */
	LEAVE_BAD,   /* protocol error: disconnected */
	LEAVE_END,   /* END: the server ends */
	LEAVE_STOP,  /* the server ends for another reason */
	LEAVE_LINK,  /* the target transport failed */
};

/* Handle one client message.  @return true to keep going. */
static bool handle(struct client *c, const struct kd_srv_msg *m,
		   enum leave *why, char *reason, size_t cap)
{
	int rc = KD_OK;

	switch (m->type) {
	case KD_SRV_PACKET:
		rc = do_send(c, m);
		break;
	case KD_SRV_SYNC:
		rc = do_sync(c, m);
		break;
	case KD_SRV_BREAKIN:
		rc = kd_link_break_in(c->line->link);
		if (rc < 0) {
			snprintf(reason, cap, "break-in failed: %s",
				 kd_error_message(rc));
			*why = LEAVE_LINK;
			return false;
		}
		return true;
	case KD_SRV_STATS:
		rc = do_stats(c, m);
		break;
	case KD_SRV_END: {
		struct kd_srv_msg a;

		memset(&a, 0, sizeof(a));
		a.type = KD_SRV_ENDED;
		a.seq = m->seq;
		a.text = c->s->desc;
		a.text_len = (uint32_t)strlen(c->s->desc);
		(void)put(c, &a);
		*why = LEAVE_END;
		return false;
	}
	case KD_SRV_CLOSE:
		*why = LEAVE_CLOSE;
		return false;
	default:
		snprintf(reason, cap, "unexpected %s message",
			 kd_srv_msg_name(m->type));
		*why = LEAVE_BAD;
		return false;
	}
	if (rc < 0) {
		*why = LEAVE_GONE;
		snprintf(reason, cap, "send to client failed");
		return false;
	}
	return true;
}

/*
 * True when the link may hold a packet already read from the target (one
 * that came with the ACK of ours): its count of packets handed up is
 * ahead of what we took (line_rebase()).  Saves a poll() per request.
 */
static bool link_queued(struct line *l)
{
	struct kd_link_stats st;

	kd_link_stats(l->link, &st);
	return st.packets_received > l->taken;
}

/* The relay loop of an attached client.  @return why it ended. */
static enum leave relay(struct client *c, char *reason, size_t cap)
{
	struct kd_link *link = c->line->link;
	int tfd = -1;
	enum leave why = LEAVE_GONE;
	struct pollfd pfd[3];
	nfds_t npfd = 2;
	bool look = true;

	if (kd_transport_wait_fd(kd_link_transport(link), &tfd) < 0) {
		kd_error_clear();
		tfd = -1;
	}
	/* Built once: the client, the server's stop pipe, the target. */
	pfd[0].fd = kd_rchan_fd(c->ch);
	pfd[0].events = POLLIN;
	pfd[1].fd = c->s->stop_pipe[0];
	pfd[1].events = POLLIN;
	pfd[2].fd = tfd;
	pfd[2].events = POLLIN;
	if (tfd >= 0)
		npfd = 3;
	for (;;) {
		struct kd_srv_msg m;
		unsigned type;
		size_t len = 0;
		int rc;

		/*
		 * Ask the link when the target's fd was readable, when the
		 * link already holds a packet, or always without an fd.
		 */
		if (look || tfd < 0 || link_queued(c->line)) {
			look = false;
			rc = kd_link_recv(link, &type, c->pkt, sizeof(c->pkt),
					  &len, 0);
			if (rc == KD_OK || rc == KD_EBUFS)
				c->line->taken++;
			else if (rc == KD_ETIMEOUT)
				line_rebase(c->line);
			if (rc == KD_OK) {
				if (relay_packet(c, type, len) < 0) {
					snprintf(reason, cap,
						 "send to client failed");
					return LEAVE_GONE;
				}
				continue;
			}
			if (rc != KD_ETIMEOUT && rc != KD_EBUFS) {
				snprintf(reason, cap,
					 "target transport failed: %s",
					 kd_error_message(rc));
				return LEAVE_LINK;
			}
		}
		if (!kd_rchan_pending(c->ch)) {
			pfd[0].revents = pfd[1].revents = 0;
			pfd[2].revents = 0;
			rc = poll(pfd, npfd,
				  tfd >= 0 ? SRV_POLL_MS : SRV_BUSY_POLL_MS);
			if (rc < 0 && errno != EINTR) {
				snprintf(reason, cap, "poll: %s",
					 strerror(errno));
				return LEAVE_GONE;
			}
			if (pfd[1].revents)
				return LEAVE_STOP;
			/* Target data, or a quiet while: the link's turn. */
			if (rc == 0 || pfd[2].revents)
				look = true;
			if (!pfd[0].revents)
				continue;
		}
		rc = kd_rchan_recv(c->ch, c->rx, sizeof(c->rx), &len, 0);
		if (rc == KD_ETIMEOUT)
			continue;
		if (rc == KD_EDISCONNECTED) {
			snprintf(reason, cap, "connection closed");
			return LEAVE_GONE;
		}
		if (rc < 0) {
			snprintf(reason, cap, "channel error: %s",
				 kd_error_message(rc));
			return LEAVE_BAD;
		}
		if (!rate_ok(c)) {
			snprintf(reason, cap,
				 "over the message rate limit (%d/s)",
				 c->s->o.msg_rate);
			put_error(c, KD_EBUSY, reason);
			return LEAVE_BAD;
		}
		rc = kd_srv_msg_decode(&m, c->rx, len);
		if (rc < 0 || !kd_srv_msg_from_client(m.type)) {
			snprintf(
				reason, cap,
				"malformed %s message (%zu bytes, first 0x%02x): %s",
				kd_srv_msg_name(len ? c->rx[0] : 0), len,
				len ? c->rx[0] : 0u,
				rc < 0 ? kd_strerror(rc) : "server type");
			put_error(c, KD_EPROTO, reason);
			return LEAVE_BAD;
		}
		if (!handle(c, &m, &why, reason, cap)) {
			if (why == LEAVE_BAD)
				put_error(c, KD_EPROTO, reason);
			return why;
		}
	}
}

/* Wait for the OPEN message of a new client. */
static int wait_open(struct client *c, struct kd_srv_msg *m, char *reason,
		     size_t cap)
{
	int64_t deadline = (int64_t)kd_mono_ms() + SRV_OPEN_WAIT_MS;
	size_t len = 0;
	int rc = KD_ETIMEOUT;

	/* Wait for OPEN, or for the server to end meanwhile. */
	while ((int64_t)kd_mono_ms() < deadline) {
		struct pollfd p[2] = {
			{ .fd = kd_rchan_fd(c->ch), .events = POLLIN },
			{ .fd = c->s->stop_pipe[0], .events = POLLIN },
		};

		if (!kd_rchan_pending(c->ch) &&
		    poll(p, 2, (int)(deadline - (int64_t)kd_mono_ms())) < 0 &&
		    errno != EINTR)
			break;
		if (p[1].revents) {
			rc = kd_error_set(KD_EDISCONNECTED, KD_ERRCLASS_SERVER,
					  "the server is ending");
			break;
		}
		rc = kd_rchan_recv(c->ch, c->rx, sizeof(c->rx), &len, 0);
		if (rc != KD_ETIMEOUT)
			break;
	}
	if (rc < 0) {
		snprintf(reason, cap, "no OPEN: %s", kd_error_message(rc));
		return rc;
	}
	rc = kd_srv_msg_decode(m, c->rx, len);
	if (rc < 0 || m->type != KD_SRV_OPEN) {
		snprintf(reason, cap, "expected OPEN, got %s (%zu bytes%s%s)",
			 kd_srv_msg_name(len ? c->rx[0] : 0), len,
			 rc < 0 ? ", " : "", rc < 0 ? kd_strerror(rc) : "");
		put_error(c, KD_EPROTO, reason);
		return KD_EPROTO;
	}
	if (m->minor > KD_SRV_PROTO_MINOR) {
		/* Newer clients speak down to us; nothing to refuse yet. */
		m->minor = KD_SRV_PROTO_MINOR;
	}
	return KD_OK;
}

static void client_end(struct client *c)
{
	struct kd_connsrv *s = c->s;

	kd_rchan_close(c->ch);
	kd_rchan_thread_done();
	pthread_mutex_lock(&s->lock);
	s->clients--;
	if (c->counted)
		s->sessions--;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	kd_free(c);
}

static void *client_main(void *arg)
{
	struct client *c = arg;
	struct kd_connsrv *s = c->s;
	struct kd_srv_msg m, a;
	char asked[KD_SRV_MAX_TEXT + 1], trans[KD_SRV_MAX_TEXT + 1];
	char shown[KD_SRV_MAX_TEXT + 1];
	char reason[512] = "", why[400] = "";
	bool reused = false;
	enum leave leave;
	int rc;

	/* The handshake runs here, so a silent peer delays nobody else. */
	rc = kd_rchan_handshake(s->l, c->ch);
	if (rc < 0) {
		slog_refused(s, "refused a connection: %s",
			     kd_error_message(rc));
		client_end(c);
		return NULL;
	}
	c->proto = kd_rchan_proto(c->ch);
	{
		const char *who = kd_rchan_identity(c->ch);
		bool full;

		pthread_mutex_lock(&s->lock);
		full = s->sessions >= s->o.max_clients;
		if (!full) {
			s->sessions++;
			c->counted = true;
		}
		pthread_mutex_unlock(&s->lock);
		if (full) {
			slog_refused(s, "%s (%s): refused: %d clients already",
				     c->peer, c->proto, s->o.max_clients);
			put_error(
				c, KD_EBUSY,
				"too many clients on this KD connection server");
			client_end(c);
			return NULL;
		}
		slog(s, "%s (%s): connected%s%s", c->peer, c->proto,
		     who && *who ? " as " : "", who ? who : "");
	}
	rc = wait_open(c, &m, reason, sizeof(reason));
	if (rc < 0) {
		slog(s, "%s (%s): disconnected: %s", c->peer, c->proto, reason);
		client_end(c);
		return NULL;
	}
	memcpy(asked, m.text, m.text_len);
	asked[m.text_len] = '\0';
	/* The log never shows a KDNET key (nor a password). */
	kd_text_redact(shown, sizeof(shown), asked);
	/* Parameters left out come from this machine's environment. */
	rc = kd_srv_trans_defaults(asked, trans, sizeof(trans));
	if (rc < 0)
		snprintf(why, sizeof(why), "bad transport '%.200s': %.150s",
			 asked, kd_error_message(rc));
	else /* the operator's --allow list (policy.c) */
		rc = kd_srv_policy_check(s->o.policy, trans, why, sizeof(why));
	if (rc < 0) {
		slog_refused(s, "%s (%s): refused %s: %s", c->peer, c->proto,
			     shown, why);
		put_error(c, rc, why);
		client_end(c);
		return NULL;
	}
	kd_text_redact(shown, sizeof(shown), trans);
	rc = take_line(c, trans, m.timeout_ms < 0 ? 10000 : m.timeout_ms,
		       &reused, why, sizeof(why));
	if (rc < 0) {
		slog_refused(s, "%s (%s): refused %s: %s", c->peer, c->proto,
			     shown, why);
		put_error(c, rc, why);
		client_end(c);
		return NULL;
	}
	memset(&a, 0, sizeof(a));
	a.type = KD_SRV_OPENED;
	a.minor = KD_SRV_PROTO_MINOR;
	a.flags = (c->line->kdnet ? KD_SRV_OPENED_KDNET : 0) |
		  (reused ? KD_SRV_OPENED_REUSED : 0);
	a.text = c->line->key;
	a.text_len = (uint32_t)strlen(c->line->key);
	slog(s, "%s (%s): session open on %s (%s link%s)", c->peer, c->proto,
	     shown, c->line->kdnet ? "KDNET" : "KDCOM",
	     reused ? ", taken over from an earlier client" : "");
	if (put(c, &a) < 0) {
		snprintf(reason, sizeof(reason), "connection closed");
		leave = LEAVE_GONE;
	} else {
		leave = relay(c, reason, sizeof(reason));
	}
	switch (leave) {
	case LEAVE_CLOSE:
		slog(s,
		     "%s (%s): session closed on %s (client left; link kept)",
		     c->peer, c->proto, shown);
		break;
	case LEAVE_GONE:
		slog(s,
		     "%s (%s): client vanished (%s) after %llu packets "
		     "in, %llu out; %s kept for the next client",
		     c->peer, c->proto, reason,
		     (unsigned long long)c->packets_in,
		     (unsigned long long)c->packets_out, c->line->key);
		break;
	case LEAVE_BAD:
		slog(s, "%s (%s): disconnected: %s; %s kept", c->peer, c->proto,
		     reason, c->line->key);
		break;
	case LEAVE_END:
		slog(s, "%s (%s): .endpsrv: ending the server", c->peer,
		     c->proto);
		pthread_mutex_lock(&s->lock);
		snprintf(s->end_by, sizeof(s->end_by), ".endpsrv from %s",
			 c->peer);
		pthread_mutex_unlock(&s->lock);
		break;
	case LEAVE_STOP: {
		char text[512];

		/* Told at once: the client's watcher prints it. */
		pthread_mutex_lock(&s->lock);
		snprintf(
			text, sizeof(text),
			"SERVER ENDING: the KD connection server %.250s is ending%s%.95s",
			s->desc, s->end_by[0] ? ", " : "", s->end_by);
		pthread_mutex_unlock(&s->lock);
		put_error(c, KD_EDISCONNECTED, text);
		slog(s, "%s (%s): session closed on %s (server ending)",
		     c->peer, c->proto, shown);
		break;
	}
	case LEAVE_LINK:
		put_error(c, KD_EDISCONNECTED, reason);
		slog(s, "%s (%s): %s; %s closed", c->peer, c->proto, reason,
		     c->line->key);
		break;
	}
	if (leave == LEAVE_LINK)
		drop_line(s, c->line);
	else
		detach_line(s, c->line);
	if (leave == LEAVE_END)
		kd_srv_stop(s);
	client_end(c);
	return NULL;
}

/* --- the server --- */

int kd_srv_open(struct kd_connsrv **out, const struct kd_srv_opts *o)
{
	struct kd_connsrv *s;
	int rc;

	*out = NULL;
	if (!o || o->version != KD_SRV_OPTS_VERSION || !o->spec)
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_SERVER,
				    "kdsrv: bad options");
	s = kd_calloc(1, sizeof(*s));
	if (!s)
		return KD_ENOMEM;
	s->o = *o;
	s->log = o->log ? o->log : stderr;
	if (s->o.max_clients <= 0)
		s->o.max_clients = KD_SRV_DEF_MAX_CLIENTS;
	if (s->o.msg_rate <= 0)
		s->o.msg_rate = KD_SRV_DEF_MSG_RATE;
	if (s->o.throttle_ms < 0)
		s->o.throttle_ms = 0;
	if (pipe2(s->stop_pipe, O_CLOEXEC) < 0) {
		rc = kd_error_set_os(KD_ERROR, errno, "kdsrv: pipe");
		kd_free(s);
		return rc;
	}
	rc = kd_rlisten(&s->l, o->spec, KD_RCHAN_SERVICE_KDSRV);
	if (rc < 0) {
		close(s->stop_pipe[0]);
		close(s->stop_pipe[1]);
		kd_free(s);
		return rc;
	}
	kd_rlistener_set_throttle_ms(s->l, (unsigned int)s->o.throttle_ms);
	kd_rlistener_describe(s->l, o->host ? o->host : "localhost", s->desc,
			      sizeof(s->desc));
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	kd_loglimit_init(&s->refusals, KD_LOGLIMIT_DEF_BURST,
			 KD_LOGLIMIT_DEF_WINDOW_MS);
	*out = s;
	return KD_OK;
}

size_t kd_srv_describe(const struct kd_connsrv *s, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s", s->desc);

	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap ? cap - 1 : 0;
}

void kd_srv_stop(struct kd_connsrv *s)
{
	static const char one = 1;
	ssize_t n;

	n = write(s->stop_pipe[1], &one, 1);
	(void)n;
}

static bool stopping(struct kd_connsrv *s)
{
	struct pollfd p = { .fd = s->stop_pipe[0], .events = POLLIN };

	return poll(&p, 1, 0) > 0;
}

/*
 * Wait until fewer than KD_RCHAN_PENDING_MAX + SRV_SPARE_THREADS threads
 * are in their handshake (lock held).  The listener lets at most
 * KD_RCHAN_PENDING_MAX handshakes run, so the threads past that were cut
 * and end as soon as they are scheduled: the wait is short and bounded,
 * and the connection that waits (perhaps a genuine client) is served
 * rather than closed because a flood's cut threads are slow to end on a
 * loaded machine.  False when the server is ending meanwhile.
 */
static bool handshake_room(struct kd_connsrv *s)
{
	while (s->clients - s->sessions >=
	       KD_RCHAN_PENDING_MAX + SRV_SPARE_THREADS) {
		struct timespec ts;

		if (stopping(s))
			return false;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		(void)pthread_cond_timedwait(&s->cond, &s->lock, &ts);
	}
	return true;
}

/*
 * A TCP connection came (not yet authenticated): its own thread runs the
 * handshake and the session.  Handshakes are counted apart from
 * sessions: the listener admits at most KD_RCHAN_PENDING_MAX of them and
 * makes room fairly (kd_raccept_conn()), so silent connections never
 * take the places of authenticated clients.  A few more threads may be
 * alive while cut handshakes wind down; past that the accept loop waits
 * for them (handshake_room()).
 */
static void start_client(struct kd_connsrv *s, struct kd_rchan *ch)
{
	struct client *c;
	pthread_attr_t attr;
	pthread_t tid;
	const char *peer = kd_rchan_peer(ch);

	pthread_mutex_lock(&s->lock);
	if (!handshake_room(s)) {
		pthread_mutex_unlock(&s->lock);
		kd_rchan_close(ch);
		return;
	}
	s->clients++;
	pthread_mutex_unlock(&s->lock);
	c = kd_calloc(1, sizeof(*c));
	if (!c)
		goto fail;
	c->s = s;
	c->ch = ch;
	c->proto = kd_rchan_proto(ch);
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	c->tokens = s->o.msg_rate;
	c->last_ms = (int64_t)kd_mono_ms();
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&tid, &attr, client_main, c) != 0) {
		pthread_attr_destroy(&attr);
		kd_free(c);
		goto fail;
	}
	pthread_attr_destroy(&attr);
	return;
fail:
	slog(s, "%s: cannot start a session thread", peer);
	kd_rchan_close(ch);
	pthread_mutex_lock(&s->lock);
	s->clients--;
	pthread_mutex_unlock(&s->lock);
}

int kd_srv_run(struct kd_connsrv *s)
{
	int lfd = kd_rlistener_fd(s->l);
	bool dialled = false; /* clicon: the one reverse connection made */
	int rc = KD_OK;

	if (pthread_create(&s->janitor, NULL, janitor_main, s) == 0)
		s->janitor_up = true;
	slog(s, "listening on %s%s", s->desc,
	     kd_rlistener_hidden(s->l) ? " (hidden: not announced)" : "");
	{
		char allowed[600];

		kd_srv_policy_describe(s->o.policy, allowed, sizeof(allowed));
		slog(s, "clients may open: %s", allowed);
	}
	while (!stopping(s)) {
		struct kd_rchan *ch = NULL;
		int wait = 500;

		if (lfd >= 0) {
			struct pollfd p[2] = {
				{ .fd = lfd, .events = POLLIN },
				{ .fd = s->stop_pipe[0], .events = POLLIN },
			};

			if (poll(p, 2, -1) < 0 && errno != EINTR) {
				rc = kd_error_set_os(KD_ERROR, errno,
						     "kdsrv: poll");
				break;
			}
			if (p[1].revents || !p[0].revents)
				continue;
			wait = 0;
		} else if (dialled) {
			/* clicon serves one client: wait for the end. */
			struct pollfd p = { .fd = s->stop_pipe[0],
					    .events = POLLIN };

			(void)poll(&p, 1, -1);
			continue;
		}
		rc = kd_raccept_conn(s->l, &ch, wait);
		if (rc == KD_OK) {
			dialled = lfd < 0;
			start_client(s, ch);
			continue;
		}
		if (rc != KD_ETIMEOUT)
			slog_refused(s, "refused a connection: %s",
				     kd_error_message(rc));
		rc = KD_OK;
	}
	slog(s, "ending: closing every session");
	/* Handshakes in progress end at once rather than time out. */
	(void)kd_rlistener_cut_pending(s->l);
	pthread_mutex_lock(&s->lock);
	s->ending = true;
	while (s->clients > 0)
		pthread_cond_wait(&s->cond, &s->lock);
	pthread_mutex_unlock(&s->lock);
	if (s->janitor_up) {
		pthread_join(s->janitor, NULL);
		s->janitor_up = false;
	}
	while (s->lines) {
		struct line *l = s->lines;

		s->lines = l->next;
		slog(s, "%s: link closed", l->key);
		kd_link_close(l->link);
		kd_free(l);
	}
	/* Handshakes end above: their refusals are counted by now. */
	refusal_summary(s, kd_loglimit_flush(&s->refusals, true));
	slog(s, "ended");
	return rc;
}

void kd_srv_close(struct kd_connsrv *s)
{
	if (!s)
		return;
	if (s->janitor_up) {
		kd_srv_stop(s);
		pthread_join(s->janitor, NULL);
	}
	while (s->lines) {
		struct line *l = s->lines;

		s->lines = l->next;
		kd_link_close(l->link);
		kd_free(l);
	}
	kd_rlistener_close(s->l);
	close(s->stop_pipe[0]);
	close(s->stop_pipe[1]);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	kd_loglimit_destroy(&s->refusals);
	kd_free(s);
}
