/* SPDX-License-Identifier: MIT */
/*
 * loop: an in-process transport pair.  `loop:name=X` opened twice gives the
 * two ends of one channel (stream by default, `datagram` for datagrams), with
 * bounded queues and condition-variable timeouts.  The reference driver.
 */
#include "transport_int.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <kd/alloc.h>
#include <kd/error.h>

#define LOOP_NAME_MAX 63
#define LOOP_DEFAULT_SIZE (256u * 1024u)
#define LOOP_MAX_DATAGRAM 65535u
#define LOOP_HDR 4 /* little-endian length before each queued datagram */

/* Bytes flowing towards one end: a ring buffer. */
struct loop_queue {
	uint8_t *buf;
	size_t cap;
	size_t head; /* next byte to read */
	size_t used;
};

struct loop_chan {
	struct loop_chan *next;
	char name[LOOP_NAME_MAX + 1];
	bool datagram;
	int opened; /* ends handed out so far: 0..2 */
	int refs;   /* ends still open */
	bool closed[2];
	bool signalled[2];
	int efd[2]; /* readable while recv on that end would not block */
	struct loop_queue q[2]; /* q[i]: data for end i */
	pthread_cond_t cond;
};

struct loop_end {
	struct loop_chan *ch;
	int side;
};

/* One lock for every channel: loops are test plumbing, not a hot path. */
static pthread_mutex_t loop_lock = PTHREAD_MUTEX_INITIALIZER;
static struct loop_chan *loop_chans;

static const struct kd_param_spec loop_keys[] = {
	{ "name", KD_PARAM_VALUE },
	{ "datagram", KD_PARAM_FLAG },
	{ "size", KD_PARAM_VALUE },
	{ NULL, 0 },
};

static void q_put(struct loop_queue *q, const uint8_t *src, size_t len)
{
	size_t tail = (q->head + q->used) % q->cap;
	size_t first = q->cap - tail < len ? q->cap - tail : len;

	memcpy(q->buf + tail, src, first);
	memcpy(q->buf, src + first, len - first);
	q->used += len;
}

static void q_get(struct loop_queue *q, uint8_t *dst, size_t len)
{
	size_t first = q->cap - q->head < len ? q->cap - q->head : len;

	if (dst) {
		memcpy(dst, q->buf + q->head, first);
		memcpy(dst + first, q->buf, len - first);
	}
	q->head = (q->head + len) % q->cap;
	q->used -= len;
}

/* Make end @p side's eventfd readable exactly when recv would not block. */
static void update_signal(struct loop_chan *ch, int side)
{
	bool want = ch->q[side].used > 0 || ch->closed[!side];
	uint64_t v = 1;
	ssize_t n;

	if (want == ch->signalled[side])
		return;
	if (want)
		n = write(ch->efd[side], &v, sizeof(v));
	else
		n = read(ch->efd[side], &v, sizeof(v));
	if (n == (ssize_t)sizeof(v))
		ch->signalled[side] = want;
}

static void chan_free(struct loop_chan *ch)
{
	struct loop_chan **pp = &loop_chans;

	while (*pp && *pp != ch)
		pp = &(*pp)->next;
	if (*pp)
		*pp = ch->next;
	for (int i = 0; i < 2; i++) {
		if (ch->efd[i] >= 0)
			close(ch->efd[i]);
		kd_free(ch->q[i].buf);
	}
	pthread_cond_destroy(&ch->cond);
	kd_free(ch);
}

static int chan_new(struct loop_chan **out, const char *name, bool datagram,
		    size_t size)
{
	struct loop_chan *ch;
	pthread_condattr_t attr;

	ch = kd_calloc(1, sizeof(*ch));
	if (!ch)
		return KD_ENOMEM;
	ch->efd[0] = -1;
	ch->efd[1] = -1;
	memcpy(ch->name, name, strlen(name) + 1);
	ch->datagram = datagram;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&ch->cond, &attr);
	pthread_condattr_destroy(&attr);
	for (int i = 0; i < 2; i++) {
		ch->q[i].cap = size;
		ch->q[i].buf = kd_malloc(size);
		if (!ch->q[i].buf) {
			chan_free(ch);
			return KD_ENOMEM;
		}
		ch->efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (ch->efd[i] < 0) {
			int err = errno;

			chan_free(ch);
			return kd_error_set_os(KD_ERROR, err, "eventfd");
		}
	}
	*out = ch;
	return KD_OK;
}

static int loop_open(struct kd_transport *t, const struct kd_params *params)
{
	struct loop_end *e = kd_transport_priv(t);
	struct loop_chan *ch;
	const char *name;
	bool datagram = kd_params_has(params, "datagram");
	uint32_t size;
	int rc;

	rc = kd_params_get_str(params, "name", "default", &name);
	if (rc < 0)
		return rc;
	if (strlen(name) > LOOP_NAME_MAX)
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_TRANSPORT,
				    "loop name longer than %d characters",
				    LOOP_NAME_MAX);
	rc = kd_params_get_u32(params, "size", 4096, 64u * 1024 * 1024,
			       LOOP_DEFAULT_SIZE, &size);
	if (rc < 0)
		return rc;
	rc = kd_transport_set_caps(
		t,
		datagram ?
			KD_TRANSPORT_CAP_DATAGRAM | KD_TRANSPORT_CAP_WAITABLE :
			KD_TRANSPORT_CAP_STREAM | KD_TRANSPORT_CAP_WAITABLE |
				KD_TRANSPORT_CAP_BREAKIN);
	if (rc < 0)
		return rc;

	pthread_mutex_lock(&loop_lock);
	for (ch = loop_chans; ch; ch = ch->next) {
		if (strcmp(ch->name, name) == 0)
			break;
	}
	if (ch && ch->opened == 2) {
		rc = kd_error_set(KD_EBUSY, KD_ERRCLASS_TRANSPORT,
				  "loop '%s' already has two ends", name);
	} else if (ch && ch->datagram != datagram) {
		rc = kd_error_set(KD_EINVAL, KD_ERRCLASS_TRANSPORT,
				  "loop '%s' was opened as a %s channel", name,
				  ch->datagram ? "datagram" : "stream");
	} else if (!ch) {
		rc = chan_new(&ch, name, datagram, size);
		if (rc == KD_OK) {
			ch->next = loop_chans;
			loop_chans = ch;
		}
	}
	if (rc == KD_OK) {
		e->ch = ch;
		e->side = ch->opened++;
		ch->refs++;
	}
	pthread_mutex_unlock(&loop_lock);
	return rc;
}

static void loop_close(struct kd_transport *t)
{
	struct loop_end *e = kd_transport_priv(t);
	struct loop_chan *ch = e->ch;

	pthread_mutex_lock(&loop_lock);
	ch->closed[e->side] = true;
	update_signal(ch, !e->side);
	pthread_cond_broadcast(&ch->cond);
	if (--ch->refs == 0)
		chan_free(ch);
	pthread_mutex_unlock(&loop_lock);
}

/* Wait on the channel until @p deadline; false when it passed. */
static bool wait_until(struct loop_chan *ch, int64_t deadline)
{
	struct timespec ts;
	int64_t ms;

	if (deadline < 0) {
		pthread_cond_wait(&ch->cond, &loop_lock);
		return true;
	}
	ms = deadline;
	if (kd_transport__now_ms() >= ms)
		return false;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	pthread_cond_timedwait(&ch->cond, &loop_lock, &ts);
	return true;
}

static int loop_send(struct kd_transport *t, const void *buf, size_t len)
{
	struct loop_end *e = kd_transport_priv(t);
	struct loop_chan *ch = e->ch;
	struct loop_queue *q = &ch->q[!e->side];
	const uint8_t *p = buf;
	int rc = KD_OK;

	if (ch->datagram &&
	    (len > LOOP_MAX_DATAGRAM || len + LOOP_HDR > q->cap))
		return kd_error_set(KD_EBUFS, KD_ERRCLASS_TRANSPORT,
				    "datagram of %zu bytes too large for loop",
				    len);
	pthread_mutex_lock(&loop_lock);
	for (;;) {
		size_t room = q->cap - q->used;

		if (ch->closed[!e->side]) {
			rc = kd_error_set(KD_EDISCONNECTED,
					  KD_ERRCLASS_TRANSPORT,
					  "loop peer closed");
			break;
		}
		if (ch->datagram && room >= len + LOOP_HDR) {
			uint8_t hdr[LOOP_HDR];

			kd_put_le32(hdr, (uint32_t)len);
			q_put(q, hdr, LOOP_HDR);
			q_put(q, p, len);
			len = 0;
		} else if (!ch->datagram && room > 0) {
			size_t n = room < len ? room : len;

			q_put(q, p, n);
			p += n;
			len -= n;
		}
		update_signal(ch, !e->side);
		pthread_cond_broadcast(&ch->cond);
		if (len == 0)
			break;
		wait_until(ch, -1);
	}
	pthread_mutex_unlock(&loop_lock);
	return rc;
}

static int loop_recv(struct kd_transport *t, void *buf, size_t cap,
		     size_t *len_out, int timeout_ms)
{
	struct loop_end *e = kd_transport_priv(t);
	struct loop_chan *ch = e->ch;
	struct loop_queue *q = &ch->q[e->side];
	int64_t deadline = kd_transport__deadline(timeout_ms);
	int rc = KD_OK;

	pthread_mutex_lock(&loop_lock);
	while (q->used == 0) {
		if (ch->closed[!e->side]) {
			rc = kd_error_set(KD_EDISCONNECTED,
					  KD_ERRCLASS_TRANSPORT,
					  "loop peer closed");
			goto out;
		}
		if (!wait_until(ch, deadline)) {
			rc = KD_ETIMEOUT;
			goto out;
		}
	}
	if (ch->datagram) {
		uint8_t hdr[LOOP_HDR];
		size_t len;

		q_get(q, hdr, LOOP_HDR);
		len = kd_get_le32(hdr);
		if (len > cap) {
			q_get(q, NULL, len);
			rc = kd_error_set(KD_EBUFS, KD_ERRCLASS_TRANSPORT,
					  "datagram of %zu bytes, buffer %zu",
					  len, cap);
		} else {
			q_get(q, buf, len);
			*len_out = len;
		}
	} else {
		size_t n = q->used < cap ? q->used : cap;

		q_get(q, buf, n);
		*len_out = n;
	}
	update_signal(ch, e->side);
	pthread_cond_broadcast(&ch->cond);
out:
	pthread_mutex_unlock(&loop_lock);
	return rc;
}

static int loop_wait_handle(struct kd_transport *t, struct kd_wait_handle *out)
{
	struct loop_end *e = kd_transport_priv(t);

	out->fd = e->ch->efd[e->side];
	return KD_OK;
}

static int loop_break_in(struct kd_transport *t)
{
	static const uint8_t brk = 0x62; /* kd-protocol.md 1.8 */

	return loop_send(t, &brk, 1);
}

const struct kd_transport_ops kd_transport_loop = {
	.version = KD_TRANSPORT_OPS_VERSION,
	.scheme = "loop",
	.caps = KD_TRANSPORT_CAP_STREAM | KD_TRANSPORT_CAP_DATAGRAM |
		KD_TRANSPORT_CAP_WAITABLE | KD_TRANSPORT_CAP_BREAKIN,
	.priv_size = sizeof(struct loop_end),
	.keys = loop_keys,
	.open = loop_open,
	.close = loop_close,
	.send = loop_send,
	.recv = loop_recv,
	.wait_handle = loop_wait_handle,
	.break_in = loop_break_in,
};
