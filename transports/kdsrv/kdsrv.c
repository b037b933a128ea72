/* SPDX-License-Identifier: MIT */
/*
 * The `kdsrv:` transport: a smart client of a KD connection server.  The
 * server runs the KD link next to the target; this driver carries whole KD
 * packets over a remote channel (kd/rchan.h) and is driven by the link
 * through its packet ops (packet_int.h).  Sends do not wait for the
 * target's ACK: a failure comes back later and surfaces on a recv.  A
 * watcher thread reads the channel while the session is idle, so that a
 * server that ends is reported at once, not at the next command.
 */
#include "transport_int.h"
#include "packet_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>
#include <strings.h>

#include <kd/alloc.h>
#include <kd/error.h>
#include <kd/proto/kdsrv.h>
#include <kd/proto/packet.h>
#include <kd/rchan.h>
#include <kd/textsafe.h>

#define KDSRVC_CONNECT_MS 10000 /* channel connect and handshake */
#define KDSRVC_OPEN_MS 30000	/* the server opening the transport */
#define KDSRVC_REQUEST_MS 5000	/* server-side resync budget per send */
#define KDSRVC_SLACK_MS 3000	/* added to a sync's own bound */
#define KDSRVC_IDLE_MS 300	/* the watcher reads after this quiet */

struct kdsrvc {
	const struct kd_packet_ops *pk; /* first: see packet_int.h */
	struct kd_rchan *ch;
	pthread_mutex_t tx_lock;   /* channel sends, tx buffer */
	pthread_mutex_t rx_lock;   /* channel reads, stash */
	_Atomic int64_t active_ms; /* last send or receive */
	pthread_t watcher;
	bool watcher_up;
	int wake[2];	  /* tells the watcher to stop */
	bool watch_gone;  /* the watcher saw the channel end */
	size_t stash_len; /* a message the watcher read */
	uint32_t seq;
	uint32_t events;
	bool kdnet;
	bool dead;
	int pending_rc; /* a send failure not yet reported */
	char pending_msg[200];
	char server[256]; /* server spec, password masked */
	struct kd_link_stats st;
	uint8_t tx[KD_SRV_MSG_MAX];
	uint8_t rx[KD_SRV_MSG_MAX];
	uint8_t stash[KD_SRV_MSG_MAX];
};

static const struct kd_param_spec kdsrvc_keys[] = {
	{ "server", KD_PARAM_VALUE },
	{ "trans", KD_PARAM_VALUE },
	{ NULL, 0 },
};

/*
 * A server's text made safe to show (kd/textsafe.h): a hostile or broken
 * kdsrv must not reach the user's terminal with escapes.
 */
static const char *shown(char *buf, size_t cap, const char *text, uint32_t len)
{
	kd_text_escape(buf, cap, text, len, NULL);
	return buf;
}

static struct kdsrvc *priv(struct kd_transport *t)
{
	return kd_transport_priv(t);
}

static int gone(struct kdsrvc *c)
{
	c->dead = true;
	return kd_error_set(KD_EDISCONNECTED, KD_ERRCLASS_SERVER,
			    "KD connection server %s went away", c->server);
}

static int put(struct kdsrvc *c, const struct kd_srv_msg *m)
{
	size_t n;
	int rc;

	if (c->dead)
		return gone(c);
	atomic_store(&c->active_ms, kd_transport__now_ms());
	pthread_mutex_lock(&c->tx_lock);
	rc = kd_srv_msg_encode(c->tx, sizeof(c->tx), &n, m);
	if (rc == KD_OK)
		rc = kd_rchan_send(c->ch, c->tx, n);
	if (rc == KD_OK)
		c->st.wire_bytes_sent += n + 4;
	pthread_mutex_unlock(&c->tx_lock);
	if (rc == KD_EDISCONNECTED)
		return gone(c);
	return rc;
}

/*
 * Receive one message into c->rx and decode it.  Server ERROR messages
 * end the session here.  @return KD_OK, KD_ETIMEOUT or a failure.
 */
static int get(struct kdsrvc *c, struct kd_srv_msg *m, int timeout_ms)
{
	size_t n = 0;
	int rc;

	if (c->dead)
		return gone(c);
	pthread_mutex_lock(&c->rx_lock);
	atomic_store(&c->active_ms, kd_transport__now_ms());
	if (c->stash_len) {
		n = c->stash_len;
		memcpy(c->rx, c->stash, n);
		c->stash_len = 0;
		rc = KD_OK;
	} else if (c->watch_gone) {
		rc = KD_EDISCONNECTED;
	} else {
		rc = kd_rchan_recv(c->ch, c->rx, sizeof(c->rx), &n, timeout_ms);
	}
	atomic_store(&c->active_ms, kd_transport__now_ms());
	pthread_mutex_unlock(&c->rx_lock);
	if (rc == KD_ETIMEOUT)
		return rc;
	if (rc == KD_EDISCONNECTED)
		return gone(c);
	if (rc < 0) {
		c->dead = true;
		return rc;
	}
	c->st.wire_bytes_received += n + 4;
	rc = kd_srv_msg_decode(m, c->rx, n);
	if (rc < 0 || kd_srv_msg_from_client(m->type)) {
		c->dead = true;
		return kd_error_set(
			KD_EPROTO, KD_ERRCLASS_SERVER,
			"malformed message from kdsrv %s (type 0x%02x, %zu bytes)",
			c->server, n ? c->rx[0] : 0u, n);
	}
	if (m->type == KD_SRV_ERROR) {
		char text[KD_SRV_MAX_TEXT * KD_TEXT_ESCAPE_MAX + 1];

		c->dead = true;
		return kd_error_set(
			m->status < 0 ? m->status : KD_EDISCONNECTED,
			KD_ERRCLASS_SERVER, "kdsrv: %s",
			shown(text, sizeof(text), m->text, m->text_len));
	}
	c->events |= m->events;
	return KD_OK;
}

/* Copy the server spec for messages, hiding the password's value. */
static void mask_spec(char *out, size_t cap, const char *spec)
{
	size_t o = 0;
	const char *p = spec;

	while (*p && o + 1 < cap) {
		if (strncasecmp(p, "password=", 9) == 0 &&
		    (p == spec || p[-1] == ',' || p[-1] == ':')) {
			snprintf(out + o, cap - o, "password=*");
			o = strlen(out);
			p += 9;
			while (*p && *p != ',')
				p++;
			continue;
		}
		out[o++] = *p++;
	}
	out[o] = '\0';
}

/* Sleep up to @p ms unless told to stop.  @return true to stop. */
static bool watch_nap(struct kdsrvc *c, int ms)
{
	struct pollfd p = { .fd = c->wake[0], .events = POLLIN };

	return poll(&p, 1, ms) > 0;
}

/*
 * The watcher: while nothing sends or receives for KDSRVC_IDLE_MS, wait
 * for the channel to become readable and read one message into the stash
 * (get() takes it from there).  An ERROR from the server (it is ending,
 * or the link failed) is printed at once; the session learns it at its
 * next request as before.
 */
static void *watch_main(void *arg)
{
	struct kdsrvc *c = arg;

	for (;;) {
		int64_t quiet = kd_transport__now_ms() -
				atomic_load(&c->active_ms);
		struct pollfd p[2] = {
			{ .fd = c->wake[0], .events = POLLIN },
			{ .fd = kd_rchan_fd(c->ch), .events = POLLIN },
		};
		struct kd_srv_msg m;
		size_t n = 0;
		int rc;

		if (quiet < KDSRVC_IDLE_MS) {
			if (watch_nap(c, (int)(KDSRVC_IDLE_MS - quiet)))
				return NULL;
			continue;
		}
		if (poll(p, 2, 1000) < 0 && errno != EINTR)
			return NULL;
		if (p[0].revents)
			return NULL;
		if (!p[1].revents)
			continue;
		if (pthread_mutex_trylock(&c->rx_lock) != 0) {
			/* A request is reading: its answer is its own. */
			if (watch_nap(c, 50))
				return NULL;
			continue;
		}
		if (c->stash_len || c->watch_gone) {
			pthread_mutex_unlock(&c->rx_lock);
			if (watch_nap(c, 200))
				return NULL;
			continue;
		}
		rc = kd_rchan_recv(c->ch, c->stash, sizeof(c->stash), &n, 0);
		if (rc == KD_OK)
			c->stash_len = n;
		else if (rc != KD_ETIMEOUT)
			c->watch_gone = true;
		pthread_mutex_unlock(&c->rx_lock);
		if (rc == KD_OK &&
		    kd_srv_msg_decode(&m, c->stash, n) == KD_OK &&
		    m.type == KD_SRV_ERROR) {
			char text[KD_SRV_MAX_TEXT * KD_TEXT_ESCAPE_MAX + 1];

			fprintf(stderr, "\nkdsrv %s: %s\n", c->server,
				shown(text, sizeof(text), m.text, m.text_len));
			fflush(stderr);
		} else if (rc != KD_OK && rc != KD_ETIMEOUT) {
			fprintf(stderr, "\nKD connection server %s went away\n",
				c->server);
			fflush(stderr);
		}
	}
}

static void watch_start(struct kdsrvc *c)
{
	atomic_store(&c->active_ms, kd_transport__now_ms());
	if (pipe2(c->wake, O_CLOEXEC) < 0) {
		c->wake[0] = c->wake[1] = -1;
		return;
	}
	c->watcher_up = pthread_create(&c->watcher, NULL, watch_main, c) == 0;
	if (!c->watcher_up) {
		close(c->wake[0]);
		close(c->wake[1]);
		c->wake[0] = c->wake[1] = -1;
	}
}

static void watch_stop(struct kdsrvc *c)
{
	static const char one = 1;

	if (!c->watcher_up)
		return;
	if (write(c->wake[1], &one, 1) < 0) {
		/* The pipe is ours and empty: cannot fail. */
	}
	pthread_join(c->watcher, NULL);
	c->watcher_up = false;
	close(c->wake[0]);
	close(c->wake[1]);
}

static int kdsrvc_open(struct kd_transport *t, const struct kd_params *p)
{
	struct kdsrvc *c = priv(t);
	const char *server = kd_params_get(p, "server");
	const char *trans = kd_params_get(p, "trans");
	struct kd_srv_msg m;
	int rc;

	if (!server || !trans)
		return kd_error_set(
			KD_EINVAL, KD_ERRCLASS_TRANSPORT,
			"kdsrv needs server=@{...} and trans=@{...}");
	if (strlen(trans) > KD_SRV_MAX_TEXT)
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_TRANSPORT,
				    "kdsrv: trans= longer than %u bytes",
				    KD_SRV_MAX_TEXT);
	mask_spec(c->server, sizeof(c->server), server);
	rc = kd_rconnect(&c->ch, server, KD_RCHAN_SERVICE_KDSRV,
			 KDSRVC_CONNECT_MS);
	if (rc < 0)
		return rc;
	pthread_mutex_init(&c->tx_lock, NULL);
	pthread_mutex_init(&c->rx_lock, NULL);
	memset(&m, 0, sizeof(m));
	m.type = KD_SRV_OPEN;
	m.minor = KD_SRV_PROTO_MINOR;
	m.timeout_ms = KDSRVC_REQUEST_MS;
	m.text = trans;
	m.text_len = (uint32_t)strlen(trans);
	rc = put(c, &m);
	if (rc == KD_OK) {
		rc = get(c, &m, KDSRVC_OPEN_MS);
		if (rc == KD_ETIMEOUT)
			rc = kd_error_set(KD_ETIMEOUT, KD_ERRCLASS_SERVER,
					  "kdsrv %s did not open %s in %d ms",
					  c->server, trans, KDSRVC_OPEN_MS);
		else if (rc == KD_OK && m.type != KD_SRV_OPENED)
			rc = kd_error_set(KD_EPROTO, KD_ERRCLASS_SERVER,
					  "kdsrv %s answered OPEN with %s",
					  c->server, kd_srv_msg_name(m.type));
	}
	if (rc < 0) {
		kd_rchan_close(c->ch);
		pthread_mutex_destroy(&c->tx_lock);
		pthread_mutex_destroy(&c->rx_lock);
		return rc;
	}
	c->kdnet = (m.flags & KD_SRV_OPENED_KDNET) != 0;
	c->dead = false;
	watch_start(c);
	return KD_OK;
}

static void kdsrvc_close(struct kd_transport *t)
{
	struct kdsrvc *c = priv(t);
	struct kd_srv_msg m;

	watch_stop(c);
	if (!c->dead) {
		memset(&m, 0, sizeof(m));
		m.type = KD_SRV_CLOSE;
		(void)put(c, &m);
	}
	kd_rchan_close(c->ch);
	pthread_mutex_destroy(&c->tx_lock);
	pthread_mutex_destroy(&c->rx_lock);
}

static int kdsrvc_raw(struct kd_transport *t)
{
	(void)t;
	return kd_error_set(KD_ENOTSUP, KD_ERRCLASS_TRANSPORT,
			    "kdsrv carries whole KD packets: use a KD link");
}

static int kdsrvc_send_raw(struct kd_transport *t, const void *buf, size_t len)
{
	(void)buf;
	(void)len;
	return kdsrvc_raw(t);
}

static int kdsrvc_recv_raw(struct kd_transport *t, void *buf, size_t cap,
			   size_t *len_out, int timeout_ms)
{
	(void)buf;
	(void)cap;
	(void)timeout_ms;
	*len_out = 0;
	return kdsrvc_raw(t);
}

/* --- packet ops --- */

static int pk_break_in(struct kd_transport *t)
{
	struct kdsrvc *c = priv(t);
	struct kd_srv_msg m;
	int rc;

	memset(&m, 0, sizeof(m));
	m.type = KD_SRV_BREAKIN;
	rc = put(c, &m);
	if (rc == KD_OK)
		c->st.breakins_sent++;
	return rc;
}

static int pk_send(struct kd_transport *t, unsigned type, const void *payload,
		   size_t len)
{
	struct kdsrvc *c = priv(t);
	struct kd_srv_msg m;
	int rc;

	if (type >= 0x10000 || len > KD_SRV_MAX_SEND ||
	    type == KD_PACKET_TYPE_UNUSED || type >= KD_PACKET_TYPE_MAX ||
	    kd_packet_type_is_control(type))
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_TRANSPORT,
				    "cannot send a %zu-byte packet of type %u",
				    len, type);
	memset(&m, 0, sizeof(m));
	m.type = KD_SRV_PACKET;
	m.pkt_type = (uint16_t)type;
	m.data = payload;
	m.data_len = (uint32_t)len;
	rc = put(c, &m);
	if (rc == KD_OK) {
		c->st.packets_sent++;
		c->st.payload_bytes_sent += len;
	}
	return rc;
}

static int pk_recv(struct kd_transport *t, unsigned *type_out, void *buf,
		   size_t cap, size_t *len_out, int timeout_ms)
{
	struct kdsrvc *c = priv(t);
	int64_t deadline = kd_transport__deadline(timeout_ms);
	struct kd_srv_msg m;
	int rc;

	*len_out = 0;
	for (;;) {
		if (c->pending_rc < 0) {
			rc = c->pending_rc;
			c->pending_rc = 0;
			return kd_error_set(rc, KD_ERRCLASS_SERVER, "%s",
					    c->pending_msg);
		}
		rc = get(c, &m, kd_transport__left_ms(deadline));
		if (rc < 0)
			return rc;
		if (m.type == KD_SRV_SEND_FAILED) {
			static const char pre[] = "kdsrv: ";

			KD_STATIC_ASSERT(sizeof(c->pending_msg) > sizeof(pre),
					 "room for the text");
			c->pending_rc = m.status;
			memcpy(c->pending_msg, pre, sizeof(pre));
			kd_text_escape(c->pending_msg + sizeof(pre) - 1,
				       sizeof(c->pending_msg) - sizeof(pre) + 1,
				       m.text, m.text_len, NULL);
			continue;
		}
		if (m.type != KD_SRV_RPACKET)
			continue; /* a late SYNCED or STATS_REPLY */
		c->st.packets_received++;
		c->st.payload_bytes_received += m.data_len;
		*type_out = m.pkt_type;
		*len_out = m.data_len;
		if (m.data_len > cap)
			return kd_error_set(KD_EBUFS, KD_ERRCLASS_TRANSPORT,
					    "packet of %u bytes, buffer %zu",
					    m.data_len, cap);
		if (m.data_len)
			memcpy(buf, m.data, m.data_len);
		return KD_OK;
	}
}

/*
 * Send @p req (SYNC or END) with a fresh sequence number and wait for the
 * answer of type @p want carrying it; packets meanwhile are dropped.
 */
static int transact(struct kdsrvc *c, struct kd_srv_msg *req, uint8_t want,
		    struct kd_srv_msg *ans, int timeout_ms)
{
	int64_t deadline = kd_transport__deadline(timeout_ms);
	int rc;

	memset(ans, 0, sizeof(*ans));
	req->seq = ++c->seq;
	rc = put(c, req);
	if (rc < 0)
		return rc;
	for (;;) {
		rc = get(c, ans, kd_transport__left_ms(deadline));
		if (rc == KD_ETIMEOUT)
			return kd_error_set(
				KD_ETIMEOUT, KD_ERRCLASS_SERVER,
				"kdsrv %s did not answer %s in %d ms",
				c->server, kd_srv_msg_name(req->type),
				timeout_ms);
		if (rc < 0)
			return rc;
		if (ans->type == want && ans->seq == req->seq)
			return KD_OK;
	}
}

static int pk_sync(struct kd_transport *t, int timeout_ms)
{
	struct kdsrvc *c = priv(t);
	struct kd_srv_msg m, a;
	int rc;

	memset(&m, 0, sizeof(m));
	m.type = KD_SRV_SYNC;
	m.timeout_ms = timeout_ms < 0 ? -1 :
		       timeout_ms > KD_SRV_MAX_TIMEOUT_MS ?
					KD_SRV_MAX_TIMEOUT_MS :
					timeout_ms;
	rc = transact(c, &m, KD_SRV_SYNCED, &a,
		      timeout_ms < 0 ? -1 : m.timeout_ms + KDSRVC_SLACK_MS);
	if (rc < 0)
		return rc;
	c->pending_rc = 0;
	if (a.status < 0) {
		char text[KD_SRV_MAX_TEXT * KD_TEXT_ESCAPE_MAX + 1];

		return kd_error_set(
			a.status, KD_ERRCLASS_SERVER, "kdsrv: %s",
			shown(text, sizeof(text), a.text, a.text_len));
	}
	return KD_OK;
}

static uint32_t pk_events(struct kd_transport *t)
{
	struct kdsrvc *c = priv(t);
	uint32_t ev = c->events;

	c->events = 0;
	return ev;
}

static void pk_stats(struct kd_transport *t, struct kd_link_stats *out)
{
	*out = priv(t)->st;
}

static bool pk_is_kdnet(struct kd_transport *t)
{
	return priv(t)->kdnet;
}

static int pk_end_server(struct kd_transport *t, char *desc, size_t cap,
			 int timeout_ms)
{
	struct kdsrvc *c = priv(t);
	struct kd_srv_msg m, a;
	int rc;

	memset(&m, 0, sizeof(m));
	m.type = KD_SRV_END;
	rc = transact(c, &m, KD_SRV_ENDED, &a, timeout_ms);
	if (rc < 0)
		return rc;
	if (desc && cap) {
		if (a.text_len)
			kd_text_escape(desc, cap, a.text, a.text_len, NULL);
		else
			snprintf(desc, cap, "%s", c->server);
	}
	c->dead = true;
	return KD_OK;
}

static const struct kd_packet_ops kdsrvc_packet_ops = {
	.sync = pk_sync,
	.send = pk_send,
	.recv = pk_recv,
	.break_in = pk_break_in,
	.events = pk_events,
	.stats = pk_stats,
	.is_kdnet = pk_is_kdnet,
	.end_server = pk_end_server,
};

static int kdsrvc_open_top(struct kd_transport *t, const struct kd_params *p)
{
	struct kdsrvc *c = priv(t);

	c->pk = &kdsrvc_packet_ops;
	return kdsrvc_open(t, p);
}

const struct kd_transport_ops kd_transport_kdsrv = {
	.version = KD_TRANSPORT_OPS_VERSION,
	.scheme = "kdsrv",
	.caps = KD_TRANSPORT_CAP_DATAGRAM | KD_TRANSPORT_CAP_PACKETS |
		KD_TRANSPORT_CAP_BREAKIN,
	.priv_size = sizeof(struct kdsrvc),
	.keys = kdsrvc_keys,
	.open = kdsrvc_open_top,
	.close = kdsrvc_close,
	.send = kdsrvc_send_raw,
	.recv = kdsrvc_recv_raw,
	.break_in = pk_break_in,
};
