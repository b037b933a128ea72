/* SPDX-License-Identifier: MIT */
/*
 * Transport core: the driver registry, connection-string splitting and
 * stacking (`upper|lower`), instance allocation, and the thin consumer entry
 * points that forward to a driver's ops.
 */
#include "transport_int.h"

#include <pthread.h>
#include <stdalign.h>
#include <string.h>

#include <kd/alloc.h>
#include <kd/clock.h>
#include <kd/error.h>

#define BAD(...) kd_error_set(KD_EINVAL, KD_ERRCLASS_TRANSPORT, __VA_ARGS__)

#define MAX_REGISTERED 16

/* The kdsrv smart-client driver (transports/kdsrv/kdsrv.c). */
extern const struct kd_transport_ops kd_transport_kdsrv;
#define MAX_CONNSTR (KD_PARAMS_MAX_TEXT * 2)

static const struct kd_transport_ops *const builtin[] = {
#if KD_WITH_COM
	&kd_transport_com,
#endif
	&kd_transport_net,  &kd_transport_loop,	 &kd_transport_fault,
	&kd_transport_pcap, &kd_transport_kdsrv, NULL,
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct kd_transport_ops *registered[MAX_REGISTERED];

/* --- Time helpers shared by the drivers --- */

/* The drivers' names for the kd/clock.h helpers (one clock in the tree). */

int64_t kd_transport__now_ms(void)
{
	return (int64_t)kd_mono_ms();
}

int64_t kd_transport__deadline(int timeout_ms)
{
	return kd_deadline_ms(timeout_ms);
}

int kd_transport__left_ms(int64_t deadline)
{
	return kd_deadline_left_ms(deadline);
}

/* --- Registry --- */

static bool scheme_valid(const char *s)
{
	size_t n = 0;

	if (!s)
		return false;
	for (; s[n] != '\0'; n++) {
		if (!((s[n] >= 'a' && s[n] <= 'z') ||
		      (s[n] >= '0' && s[n] <= '9')))
			return false;
	}
	return n > 0 && n <= KD_TRANSPORT_SCHEME_MAX;
}

static const struct kd_transport_ops *lookup(const char *scheme)
{
	const struct kd_transport_ops *found = NULL;

	for (size_t i = 0; builtin[i]; i++) {
		if (strcmp(builtin[i]->scheme, scheme) == 0)
			return builtin[i];
	}
	pthread_mutex_lock(&registry_lock);
	for (size_t i = 0; i < MAX_REGISTERED; i++) {
		if (registered[i] && strcmp(registered[i]->scheme, scheme) == 0)
			found = registered[i];
	}
	pthread_mutex_unlock(&registry_lock);
	return found;
}

int kd_transport_register(const struct kd_transport_ops *ops)
{
	const uint32_t kinds = KD_TRANSPORT_CAP_STREAM |
			       KD_TRANSPORT_CAP_DATAGRAM |
			       KD_TRANSPORT_CAP_LAYER;
	int rc = KD_OK;
	size_t slot = MAX_REGISTERED;

	if (!ops)
		return BAD("no driver ops");
	if (ops->version != KD_TRANSPORT_OPS_VERSION)
		return BAD("driver ops version %u, this library needs %u",
			   ops->version,
			   (unsigned int)KD_TRANSPORT_OPS_VERSION);
	if (!scheme_valid(ops->scheme))
		return BAD(
			"invalid driver scheme (lower-case letters and digits, at most %d)",
			KD_TRANSPORT_SCHEME_MAX);
	if (!ops->open || !ops->close || !ops->send || !ops->recv || !ops->keys)
		return BAD("driver '%s' lacks a mandatory member", ops->scheme);
	if (!(ops->caps & KD_TRANSPORT_CAP_WAITABLE) != !ops->wait_handle)
		return BAD("driver '%s': WAITABLE and wait_handle disagree",
			   ops->scheme);
	if (!(ops->caps & KD_TRANSPORT_CAP_BREAKIN) != !ops->break_in)
		return BAD("driver '%s': BREAKIN and break_in disagree",
			   ops->scheme);
	if (!(ops->caps & kinds))
		return BAD("driver '%s' is neither STREAM, DATAGRAM nor LAYER",
			   ops->scheme);
	if (lookup(ops->scheme))
		return kd_error_set(KD_EBUSY, KD_ERRCLASS_TRANSPORT,
				    "transport '%s' already registered",
				    ops->scheme);
	pthread_mutex_lock(&registry_lock);
	for (size_t i = 0; i < MAX_REGISTERED; i++) {
		if (registered[i] &&
		    strcmp(registered[i]->scheme, ops->scheme) == 0) {
			slot = MAX_REGISTERED;
			rc = kd_error_set(KD_EBUSY, KD_ERRCLASS_TRANSPORT,
					  "transport '%s' already registered",
					  ops->scheme);
			break;
		}
		if (!registered[i] && slot == MAX_REGISTERED)
			slot = i;
	}
	if (rc == KD_OK && slot == MAX_REGISTERED)
		rc = kd_error_set(KD_EBUSY, KD_ERRCLASS_TRANSPORT,
				  "too many registered transports (%d)",
				  MAX_REGISTERED);
	if (rc == KD_OK)
		registered[slot] = ops;
	pthread_mutex_unlock(&registry_lock);
	return rc;
}

int kd_transport_unregister(const char *scheme)
{
	int rc = KD_ENOTFOUND;

	if (!scheme)
		return KD_ENOTFOUND;
	pthread_mutex_lock(&registry_lock);
	for (size_t i = 0; i < MAX_REGISTERED; i++) {
		if (registered[i] &&
		    strcmp(registered[i]->scheme, scheme) == 0) {
			registered[i] = NULL;
			rc = KD_OK;
		}
	}
	pthread_mutex_unlock(&registry_lock);
	return rc;
}

bool kd_transport_available(const char *scheme)
{
	return scheme && scheme_valid(scheme) && lookup(scheme) != NULL;
}

/* --- Connection strings --- */

/*
 * Split @p s at top-level '|' (not inside `@{...}`) into at most
 * KD_TRANSPORT_MAX_DEPTH segments.
 */
static int split(const char *s, struct kd_conn_part *segs, size_t *n_out)
{
	size_t n = 0;
	int depth = 0;
	const char *start = s;
	size_t len = strlen(s);

	if (len == 0)
		return BAD("empty connection string");
	if (len > MAX_CONNSTR)
		return BAD("connection string too long (%zu bytes, at most %d)",
			   len, MAX_CONNSTR);
	for (const char *p = s;; p++) {
		if (p[0] == '@' && p[1] == '{') {
			depth++;
			p++;
			continue;
		}
		if (*p == '}' && depth > 0) {
			depth--;
			continue;
		}
		if ((*p == '|' && depth == 0) || *p == '\0') {
			if (n == KD_TRANSPORT_MAX_DEPTH)
				return BAD(
					"too many stacked transports (at most %d)",
					KD_TRANSPORT_MAX_DEPTH);
			if (p == start)
				return BAD(
					"empty transport in connection string");
			segs[n].text = start;
			segs[n].len = (size_t)(p - start);
			n++;
			if (*p == '\0')
				break;
			start = p + 1;
		}
	}
	*n_out = n;
	return KD_OK;
}

int kd_transport_split(const char *connstr,
		       struct kd_conn_part parts[KD_TRANSPORT_MAX_DEPTH],
		       size_t *n)
{
	*n = 0;
	if (!connstr)
		return BAD("no connection string");
	return split(connstr, parts, n);
}

/*
 * Resolve a segment's driver and parse its options.  *params_out is set on
 * success and must be freed by the caller.
 */
static int resolve(const struct kd_conn_part *seg,
		   const struct kd_transport_ops **ops_out,
		   struct kd_params **params_out)
{
	char scheme[KD_TRANSPORT_SCHEME_MAX + 1];
	char *opts;
	const struct kd_transport_ops *ops;
	size_t n = 0;
	int rc;

	while (n < seg->len && seg->text[n] != ':')
		n++;
	if (n == 0)
		return BAD("missing transport name before ':'");
	if (n > KD_TRANSPORT_SCHEME_MAX)
		return BAD("unknown transport '%.*s'", 32, seg->text);
	for (size_t i = 0; i < n; i++) {
		char c = seg->text[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			return BAD("unknown transport '%.*s'", (int)n,
				   seg->text);
		scheme[i] = c;
	}
	scheme[n] = '\0';
	ops = lookup(scheme);
	if (!ops)
		return BAD("unknown transport '%s'", scheme);
	if (n < seg->len) {
		size_t olen = seg->len - n - 1;

		opts = kd_malloc(olen + 1);
		if (!opts)
			return KD_ENOMEM;
		memcpy(opts, seg->text + n + 1, olen);
		opts[olen] = '\0';
	} else {
		opts = NULL;
	}
	rc = kd_params_parse(params_out, scheme, opts);
	kd_free(opts);
	if (rc < 0)
		return rc;
	rc = kd_params_validate(*params_out, ops->keys);
	if (rc < 0) {
		kd_params_free(*params_out);
		*params_out = NULL;
		return rc;
	}
	*ops_out = ops;
	return KD_OK;
}

static size_t priv_offset(void)
{
	size_t a = alignof(max_align_t);

	return (sizeof(struct kd_transport) + a - 1) / a * a;
}

/* Close @p t and the layers under it down to (not including) @p stop. */
static void close_until(struct kd_transport *t, struct kd_transport *stop)
{
	while (t && t != stop) {
		struct kd_transport *next = t->lower;

		t->ops->close(t);
		kd_free(t);
		t = next;
	}
}

static int open_one(struct kd_transport **out, const struct kd_conn_part *seg,
		    struct kd_transport *lower)
{
	const struct kd_transport_ops *ops;
	struct kd_params *params = NULL;
	struct kd_transport *t;
	const uint32_t kinds = KD_TRANSPORT_CAP_STREAM |
			       KD_TRANSPORT_CAP_DATAGRAM;
	size_t total;
	int rc;

	rc = resolve(seg, &ops, &params);
	if (rc < 0)
		return rc;
	if (lower && !(ops->caps & KD_TRANSPORT_CAP_LAYER)) {
		rc = BAD("transport '%s' cannot be stacked over another one",
			 ops->scheme);
		goto out;
	}
	if (!kd_size_add(&total, priv_offset(), ops->priv_size)) {
		rc = KD_ENOMEM;
		goto out;
	}
	t = kd_calloc(1, total);
	if (!t) {
		rc = KD_ENOMEM;
		goto out;
	}
	t->ops = ops;
	t->priv = (char *)t + priv_offset();
	t->lower = lower;
	t->link.resets = -1;
	if (lower) {
		t->caps = (lower->caps & kinds) | (ops->caps & lower->caps &
						   (KD_TRANSPORT_CAP_WAITABLE |
						    KD_TRANSPORT_CAP_BREAKIN));
	} else {
		t->caps = ops->caps & ~KD_TRANSPORT_CAP_LAYER;
	}
	rc = ops->open(t, params);
	if (rc < 0) {
		kd_free(t);
		goto out;
	}
	if ((t->caps & kinds) != KD_TRANSPORT_CAP_STREAM &&
	    (t->caps & kinds) != KD_TRANSPORT_CAP_DATAGRAM) {
		t->lower = NULL;
		ops->close(t);
		kd_free(t);
		rc = BAD(
			"driver '%s' left its instance neither stream nor datagram",
			ops->scheme);
		goto out;
	}
	*out = t;
out:
	kd_params_free(params);
	return rc;
}

/* Open segments [0, n) top-down over @p base (may be NULL). */
static int open_chain(struct kd_transport **out, const char *connstr,
		      struct kd_transport *base)
{
	struct kd_conn_part segs[KD_TRANSPORT_MAX_DEPTH];
	struct kd_transport *cur = base;
	size_t n;
	int rc;

	if (!out || !connstr)
		return BAD("no connection string");
	*out = NULL;
	rc = split(connstr, segs, &n);
	if (rc < 0)
		return rc;
	for (size_t i = n; i-- > 0;) {
		struct kd_transport *t = NULL;

		rc = open_one(&t, &segs[i], cur);
		if (rc < 0) {
			close_until(cur, base);
			return rc;
		}
		cur = t;
	}
	*out = cur;
	return KD_OK;
}

int kd_transport_open(struct kd_transport **out, const char *connstr)
{
	return open_chain(out, connstr, NULL);
}

int kd_transport_open_over_take(struct kd_transport **out, const char *connstr,
				struct kd_transport *lower)
{
	if (!lower)
		return BAD("no lower transport");
	return open_chain(out, connstr, lower);
}

int kd_transport_check(const char *connstr)
{
	struct kd_conn_part segs[KD_TRANSPORT_MAX_DEPTH];
	size_t n = 0;
	int rc;

	if (!connstr)
		return BAD("no connection string");
	rc = split(connstr, segs, &n);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		const struct kd_transport_ops *ops;
		struct kd_params *params = NULL;

		rc = resolve(&segs[i], &ops, &params);
		kd_params_free(params);
		if (rc < 0)
			return rc;
		if (i + 1 < n && !(ops->caps & KD_TRANSPORT_CAP_LAYER))
			return BAD(
				"transport '%s' cannot be stacked over another one",
				ops->scheme);
	}
	return KD_OK;
}

void kd_transport_close(struct kd_transport *t)
{
	close_until(t, NULL);
}

/* --- Data path --- */

int kd_transport_send(struct kd_transport *t, const void *buf, size_t len)
{
	if (!t || (!buf && len > 0))
		return KD_EINVAL;
	if (len == 0 && (t->caps & KD_TRANSPORT_CAP_STREAM))
		return KD_OK;
	return t->ops->send(t, buf, len);
}

int kd_transport_recv(struct kd_transport *t, void *buf, size_t cap,
		      size_t *len_out, int timeout_ms)
{
	if (!t || !len_out || (!buf && cap > 0))
		return KD_EINVAL;
	*len_out = 0;
	if (cap == 0 && (t->caps & KD_TRANSPORT_CAP_STREAM))
		return KD_EINVAL;
	return t->ops->recv(t, buf, cap, len_out, timeout_ms);
}

int kd_transport_break_in(struct kd_transport *t)
{
	if (!t)
		return KD_EINVAL;
	if (!(t->caps & KD_TRANSPORT_CAP_BREAKIN))
		return kd_error_set(KD_ENOTSUP, KD_ERRCLASS_TRANSPORT,
				    "transport '%s' has no break-in",
				    t->ops->scheme);
	return t->ops->break_in(t);
}

uint32_t kd_transport_caps(const struct kd_transport *t)
{
	return t->caps;
}

const char *kd_transport_scheme(const struct kd_transport *t)
{
	return t->ops->scheme;
}

int kd_transport_wait_fd(struct kd_transport *t, int *fd_out)
{
	struct kd_wait_handle h;
	int rc;

	if (!(t->caps & KD_TRANSPORT_CAP_WAITABLE))
		return kd_error_set(KD_ENOTSUP, KD_ERRCLASS_TRANSPORT,
				    "transport '%s' has no wait handle",
				    t->ops->scheme);
	rc = t->ops->wait_handle(t, &h);
	if (rc < 0)
		return rc;
	*fd_out = h.fd;
	return KD_OK;
}

/* --- Accessors --- */

void *kd_transport_priv(struct kd_transport *t)
{
	return t->priv;
}

struct kd_transport *kd_transport_lower(struct kd_transport *t)
{
	return t->lower;
}

int kd_transport_set_caps(struct kd_transport *t, uint32_t caps)
{
	const uint32_t kinds = KD_TRANSPORT_CAP_STREAM |
			       KD_TRANSPORT_CAP_DATAGRAM;

	if ((caps & ~t->caps) != 0 ||
	    ((caps & kinds) != KD_TRANSPORT_CAP_STREAM &&
	     (caps & kinds) != KD_TRANSPORT_CAP_DATAGRAM))
		return BAD("driver '%s' set invalid caps 0x%x", t->ops->scheme,
			   (unsigned int)caps);
	t->caps = caps;
	return KD_OK;
}

int kd_transport_set_wire_tap(struct kd_transport *t, kd_wire_tap_fn fn,
			      void *ctx)
{
	if (!(t->caps & KD_TRANSPORT_CAP_WIRETAP))
		return kd_error_set(
			KD_ENOTSUP, KD_ERRCLASS_TRANSPORT,
			"transport '%s' cannot show its wire traffic",
			t->ops->scheme);
	if (fn && t->tap)
		return kd_error_set(KD_EBUSY, KD_ERRCLASS_TRANSPORT,
				    "transport '%s' already feeds a wire tap",
				    t->ops->scheme);
	t->tap = fn;
	t->tap_ctx = fn ? ctx : NULL;
	return KD_OK;
}

void kd_transport_wire_tap(struct kd_transport *t,
			   const struct kd_wire_datagram *dg)
{
	if (t && t->tap)
		t->tap(t->tap_ctx, dg);
}

void kd_transport_set_link_opts(struct kd_transport *t,
				const struct kd_transport_link_opts *o)
{
	t->link = *o;
	t->have_link = true;
}

void kd_transport_set_local_port(struct kd_transport *t, uint16_t port)
{
	t->local_port = port;
	t->have_local_port = true;
}

void kd_transport_set_udp_ports(struct kd_transport *t, uint16_t host_port,
				uint16_t target_port)
{
	t->udp_host_port = host_port;
	t->udp_target_port = target_port;
	t->have_udp_ports = true;
}

void kd_transport_link_opts(const struct kd_transport *t,
			    struct kd_transport_link_opts *out)
{
	out->resets = -1;
	out->reconnect = false;
	for (; t; t = t->lower) {
		if (t->have_link) {
			*out = t->link;
			return;
		}
	}
}

int kd_transport_local_port(const struct kd_transport *t, uint16_t *port_out)
{
	for (; t; t = t->lower) {
		if (t->have_local_port) {
			*port_out = t->local_port;
			return KD_OK;
		}
	}
	return KD_ENOTSUP;
}

int kd_transport_udp_ports(const struct kd_transport *t,
			   uint16_t *host_port_out, uint16_t *target_port_out)
{
	for (; t; t = t->lower) {
		if (t->have_udp_ports) {
			*host_port_out = t->udp_host_port;
			*target_port_out = t->udp_target_port;
			return KD_OK;
		}
	}
	return KD_ENOTSUP;
}
