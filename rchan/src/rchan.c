/* SPDX-License-Identifier: MIT */
/*
 * Remote channels (kd/rchan.h): length-prefixed messages over TCP or TLS
 * with a hello and HMAC challenge-response handshake, per-address throttling
 * of failed passwords, port ranges and reverse (clicon) connections.
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <kd/alloc.h>
#include <kd/clock.h>
#include <kd/error.h>
#include <kd/rchan.h>
#include <kd/params.h>

#include "rchan_int.h"

int kd_rchan__handshake_ms = 5000;
_Thread_local const char *kd_rchan__source_ipv4;

/* Sends wait at most this long for a peer that stopped reading. */
#define SEND_LIMIT_MS 30000
#define FRAME_MAX (4u + KD_RCHAN_MAX_MSG)
#define SPEC_SHOW_MAX 256

/* Failed-password throttling (see kd_raccept() in kd/rchan.h). */
#define THROTTLE_SLOTS 256 /* per-address records, least recent reused */
#define THROTTLE_WINDOW_MS 60000
#define THROTTLE_FREE 2 /* failures allowed before blocking */
#define THROTTLE_MAX_S 300
#define THROTTLE_FIRST_MS 1000 /* the first block, doubled after */
#define GOOD_SLOTS 64	       /* addresses that proved the password */

/*
 * Connections the kernel queues before we accept them: a flood of new
 * connections must not overflow it, or genuine clients' SYNs are dropped
 * and retried only a second later.
 */
#define LISTEN_BACKLOG 512

/* Admission of handshakes (see kd_raccept_conn() in kd/rchan.h). */
#define PENDING_MAX KD_RCHAN_PENDING_MAX
#define PENDING_PER_ADDR KD_RCHAN_PENDING_PER_ADDR
/*
 * A peer whose turn it is to speak is left alone this part of the
 * handshake limit (1 s of 5 s): a client that answers within it is never
 * cut for a newcomer of an address that holds as many places as its own.
 */
#define HELLO_WINDOW_DIV 5
/* Handshakes cut or refused per address, counted over this long. */
#define CUT_SLOTS 128
#define CUT_WINDOW_MS 10000

/* ------------------------------------------------------------------ */
/* Handshake proof                                                     */
/* ------------------------------------------------------------------ */

/* Printable ASCII only (passwords and services, as the hello wants). */
static bool printable(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	}
	return true;
}

void kd_rchan__key(const char *password, uint8_t key[32])
{
	unsigned int n = 32;

	if (!EVP_Digest(password, strlen(password), key, &n, EVP_sha256(),
			NULL))
		memset(key, 0, 32);
}

void kd_rchan__proof(const uint8_t key[32], const uint8_t *first,
		     const uint8_t *second, const char *service,
		     uint8_t out[KD_RCHAN_PROOF_LEN])
{
	uint8_t msg[2 * KD_RCHAN_NONCE_LEN + KD_RCHAN_SERVICE_MAX];
	size_t slen = strnlen(service, KD_RCHAN_SERVICE_MAX);
	unsigned int n = KD_RCHAN_PROOF_LEN;

	memcpy(msg, first, KD_RCHAN_NONCE_LEN);
	memcpy(msg + KD_RCHAN_NONCE_LEN, second, KD_RCHAN_NONCE_LEN);
	memcpy(msg + 2 * KD_RCHAN_NONCE_LEN, service, slen);
	if (!HMAC(EVP_sha256(), key, 32, msg, 2 * KD_RCHAN_NONCE_LEN + slen,
		  out, &n))
		memset(out, 0, KD_RCHAN_PROOF_LEN);
}

/* ------------------------------------------------------------------ */
/* Objects                                                             */
/* ------------------------------------------------------------------ */

struct kd_rchan {
	int fd;
	SSL *ssl;
	SSL_CTX *ctx;		  /* owned (client side) or NULL */
	pthread_mutex_t ssl_lock; /* SSL object; never held while polling */
	pthread_mutex_t send_lock;
	bool broken;   /* a framing error: refuse further recv */
	bool drained;  /* the last read emptied the socket */
	size_t rhead;  /* unread bytes start at rbuf + rhead */
	size_t rlen;   /* ... and are rlen long */
	uint8_t *rbuf; /* FRAME_MAX bytes */
	uint8_t *tbuf; /* FRAME_MAX bytes */
	char peer[64];
	char identity[KD_RCHAN_IDENTITY_MAX + 1];
	/* A handshake in progress on a listener (its lock). */
	struct kd_rlistener *pend_l; /* NULL once out of the list */
	struct kd_rchan *pend_prev, *pend_next;
	char group[48];	 /* peer address, IPv6 to its /64 */
	bool cut;	 /* cut to make room for others */
	bool heard;	 /* its client hello came: not a silent holder */
	bool refused;	 /* cut on arrival: no place could be made */
	int64_t turn_ms; /* when its turn to speak began; 0: not yet */
};

/*
 * One throttle state machine: per peer address, and one more for every
 * address that has not proved the password yet, so that rotating source
 * addresses buys no more guesses than one address gets.
 */
struct throttle {
	char addr[48];
	unsigned int failures;
	int64_t window_start;
	int64_t blocked_until;
	int64_t last_use;
};

struct goodaddr {
	char addr[48];
	int64_t last_use;
};

/* Handshakes of one address cut or refused lately (admission). */
struct cutrec {
	char group[48];
	unsigned int n;
	int64_t start; /* of the counting window */
};

struct kd_rlistener {
	int fd;
	bool tls;
	bool hidden;
	bool has_password;
	bool range;
	unsigned int port;
	unsigned int port_hi;
	SSL_CTX *ctx;
	char bound[64]; /* the address it listens on; "" for all */
	char *clicon;	/* host to dial, or NULL */
	bool clicon_done;
	int family; /* for clicon: AF_UNSPEC, AF_INET6 */
	uint8_t key[32];
	char service[KD_RCHAN_SERVICE_MAX + 1];
	pthread_mutex_t lock; /* the tables below */
	struct throttle tab[THROTTLE_SLOTS];
	struct throttle agg;   /* addresses not in good[] */
	unsigned int block_ms; /* the first block (THROTTLE_FIRST_MS) */
	struct goodaddr good[GOOD_SLOTS];
	struct kd_rchan *pend_head, *pend_tail; /* oldest first */
	unsigned int npend;
	struct cutrec cuts[CUT_SLOTS];
};

/* Parsed connection string, either side. */
struct rspec {
	bool tls;
	bool hidden;
	unsigned int port;
	unsigned int port_hi;
	bool range;
	int family;	      /* AF_UNSPEC, AF_INET, AF_INET6 */
	const char *password; /* NULL: none */
	const char *server;
	const char *bind; /* listener: NULL loopback, "*" all */
	const char *clicon;
	const char *cert;
	const char *key;
	const char *ca;
	struct kd_params *params;
	char show[SPEC_SHOW_MAX]; /* the string with the password masked */
};

/* Case helper of our own (deadlines are util's kd/clock.h). */
/* True when @p a and @p b are equal ignoring ASCII case. */
static bool ascii_caseeq(const char *a, const char *b)
{
	for (;; a++, b++) {
		int ca = (unsigned char)*a;
		int cb = (unsigned char)*b;

		if (ca >= 'A' && ca <= 'Z')
			ca += 'a' - 'A';
		if (cb >= 'A' && cb <= 'Z')
			cb += 'a' - 'A';
		if (ca != cb)
			return false;
		if (ca == 0)
			return true;
	}
}

/* ------------------------------------------------------------------ */
/* Connection strings                                                  */
/* ------------------------------------------------------------------ */

static int spec_err(const struct rspec *s, int code, const char *fmt, ...)
	KD_PRINTF(3, 4);

static int spec_err(const struct rspec *s, int code, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return kd_error_set(code, KD_ERRCLASS_TRANSPORT, "%s: %s", s->show,
			    msg);
}

/* Copy @p spec into s->show with every password value replaced by '*'. */
static void mask_spec(struct rspec *s, const char *spec)
{
	size_t o = 0;
	const char *p = spec;

	while (*p != '\0' && o + 1 < sizeof(s->show)) {
		bool at_item = p == spec || p[-1] == ',' || p[-1] == ':';

		if (at_item && strncasecmp(p, "password=", 9) == 0) {
			const char *end = strchr(p, ',');
			int n = snprintf(s->show + o, sizeof(s->show) - o,
					 "%.9s*", p);

			if (n < 0 || (size_t)n >= sizeof(s->show) - o)
				break;
			o += (size_t)n;
			p = end ? end : p + strlen(p);
			continue;
		}
		s->show[o++] = *p++;
	}
	s->show[o] = '\0';
}

/* `port=` with an empty value, which the generic parser words otherwise. */
static bool empty_port(const char *opts)
{
	const char *p = opts;

	for (;;) {
		if (strncasecmp(p, "port=", 5) == 0 &&
		    (p[5] == ',' || p[5] == '\0'))
			return true;
		p = strchr(p, ',');
		if (!p)
			return false;
		p++;
	}
}

static bool parse_uint(const char *s, const char **end, unsigned long *out)
{
	unsigned long v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535)
			return false;
		p++;
	}
	*end = p;
	*out = v;
	return true;
}

static int parse_port(struct rspec *s, const char *v)
{
	unsigned long lo, hi;
	const char *end;

	if (!parse_uint(v, &end, &lo) || lo == 0)
		return spec_err(s, KD_EINVAL, "port must be 1-65535");
	hi = lo;
	if (*end == ':') {
		if (!parse_uint(end + 1, &end, &hi) || hi == 0)
			return spec_err(s, KD_EINVAL, "port must be 1-65535");
		if (hi < lo)
			return spec_err(s, KD_EINVAL,
					"port range %lu:%lu is backwards", lo,
					hi);
		s->range = true;
	}
	if (*end != '\0')
		return spec_err(s, KD_EINVAL, "port must be 1-65535");
	s->port = (unsigned int)lo;
	s->port_hi = (unsigned int)hi;
	return KD_OK;
}

static const struct kd_param_spec server_keys[] = {
	{ "port", KD_PARAM_VALUE },	 { "password", KD_PARAM_VALUE },
	{ "hidden", KD_PARAM_FLAG },	 { "clicon", KD_PARAM_VALUE },
	{ "ipversion", KD_PARAM_VALUE }, { "icfenable", KD_PARAM_FLAG },
	{ "cert", KD_PARAM_VALUE },	 { "key", KD_PARAM_VALUE },
	{ "bind", KD_PARAM_VALUE },	 { NULL, 0 },
};

static const struct kd_param_spec client_keys[] = {
	{ "server", KD_PARAM_VALUE },
	{ "port", KD_PARAM_VALUE },
	{ "password", KD_PARAM_VALUE },
	{ "clicon", KD_PARAM_VALUE },
	{ "ipversion", KD_PARAM_VALUE },
	{ "ca", KD_PARAM_VALUE },
	{ "bind", KD_PARAM_VALUE }, /* with clicon: where to wait */
	{ NULL, 0 },
};

static int check_file(struct rspec *s, const char *what, const char *path)
{
	if (access(path, R_OK) != 0)
		return spec_err(s, KD_EINVAL, "cannot read %s file '%s': %s",
				what, path, strerror(errno));
	return KD_OK;
}

/* Parse @p spec into @p s (s->params must be freed by the caller). */
static int parse_spec(struct rspec *s, const char *spec, bool server)
{
	char scheme[8];
	const char *colon;
	const char *v;
	size_t n;
	int rc;

	memset(s, 0, sizeof(*s));
	s->family = AF_UNSPEC;
	if (!spec)
		spec = "";
	mask_spec(s, spec);
	colon = strchr(spec, ':');
	n = colon ? (size_t)(colon - spec) : 0;
	if (!colon || n >= sizeof(scheme))
		return spec_err(s, KD_EINVAL, "expected tcp:... or ssl:...");
	memcpy(scheme, spec, n);
	scheme[n] = '\0';
	if (ascii_caseeq(scheme, "ssl"))
		s->tls = true;
	else if (!ascii_caseeq(scheme, "tcp"))
		return spec_err(s, KD_EINVAL,
				"unknown protocol '%s' (use tcp or ssl)",
				scheme);
	if (empty_port(colon + 1))
		return spec_err(s, KD_EINVAL, "port must be 1-65535");
	rc = kd_params_parse(&s->params, s->tls ? "ssl" : "tcp", colon + 1);
	if (rc == KD_OK)
		rc = kd_params_validate(s->params,
					server ? server_keys : client_keys);
	if (rc < 0) {
		char msg[256];

		snprintf(msg, sizeof(msg), "%s", kd_error_last()->message);
		return spec_err(s, rc, "%s", msg);
	}
	v = kd_params_get(s->params, "port");
	if (!v)
		return spec_err(s, KD_EINVAL, "port= is required");
	rc = parse_port(s, v);
	if (rc < 0)
		return rc;
	v = kd_params_get(s->params, "ipversion");
	if (v) {
		if (strcmp(v, "6") == 0)
			s->family = AF_INET6;
		else if (strcmp(v, "4") == 0)
			s->family = AF_INET;
		else
			return spec_err(s, KD_EINVAL,
					"ipversion must be 4 or 6");
	}
	s->password = kd_params_get(s->params, "password");
	if (s->password && (strlen(s->password) > KD_RCHAN_MAX_PASSWORD ||
			    !printable(s->password, strlen(s->password))))
		return spec_err(s, KD_EINVAL,
				"password must be 1-%d printable characters",
				KD_RCHAN_MAX_PASSWORD);
	s->hidden = kd_params_has(s->params, "hidden");
	s->clicon = kd_params_get(s->params, "clicon");
	s->server = kd_params_get(s->params, "server");
	s->bind = kd_params_get(s->params, "bind");
	/* WinDbg accepts a leading double backslash: server=\\HOST. */
	if (s->server && s->server[0] == '\\' && s->server[1] == '\\')
		s->server += 2;
	s->cert = kd_params_get(s->params, "cert");
	s->key = kd_params_get(s->params, "key");
	s->ca = kd_params_get(s->params, "ca");
	if (server) {
		if (s->clicon && s->range)
			return spec_err(
				s, KD_EINVAL,
				"with clicon= the server takes one port, not a range");
		if (s->clicon && s->bind)
			return spec_err(
				s, KD_EINVAL,
				"a clicon= server dials out: bind= is for listeners");
		if (!s->tls && (s->cert || s->key))
			return spec_err(
				s, KD_EINVAL,
				"cert= and key= are for ssl:, not tcp:");
		if (s->tls && (!s->cert || !s->key))
			return spec_err(s, KD_EINVAL,
					"ssl: needs cert=FILE and key=FILE");
		if (s->tls) {
			rc = check_file(s, "cert", s->cert);
			if (rc == KD_OK)
				rc = check_file(s, "key", s->key);
			if (rc < 0)
				return rc;
		}
	} else {
		if (s->server && s->clicon)
			return spec_err(s, KD_EINVAL,
					"give server= or clicon=, not both");
		if (!s->server && !s->clicon)
			return spec_err(s, KD_EINVAL,
					"server= (or clicon=) is required");
		if (s->bind && !s->clicon)
			return spec_err(
				s, KD_EINVAL,
				"bind= is for a client that waits (clicon=)");
		if (!s->tls && s->ca)
			return spec_err(s, KD_EINVAL,
					"ca= is for ssl:, not tcp:");
		if (s->tls && !s->ca)
			return spec_err(
				s, KD_EINVAL,
				"ssl: needs ca=FILE (the CA certificate to verify the server with)");
		if (s->tls) {
			rc = check_file(s, "ca", s->ca);
			if (rc < 0)
				return rc;
		}
		if (s->server && s->range)
			return spec_err(
				s, KD_EINVAL,
				"a client connects to one port, not a range");
	}
	return KD_OK;
}

/* ------------------------------------------------------------------ */
/* Sockets                                                             */
/* ------------------------------------------------------------------ */

static void addr_text(const struct sockaddr *sa, char *buf, size_t cap,
		      bool with_port)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned int port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		port = ntohs(in6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], host,
				  sizeof(host));
		} else {
			inet_ntop(AF_INET6, &in6->sin6_addr, host,
				  sizeof(host));
			if (with_port) {
				snprintf(buf, cap, "[%s]:%u", host, port);
				return;
			}
		}
	}
	if (with_port)
		snprintf(buf, cap, "%s:%u", host, port);
	else
		snprintf(buf, cap, "%s", host);
}

/*
 * Request and answer traffic: no Nagle delay on our small messages.
 * (TCP_QUICKACK was measured and left out: with one answer per request
 * the delayed ACK rides on the answer; quick ACKs only add segments.)
 */
static void sock_tune(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Wait for @p events on @p fd: 1 ready, 0 timeout, <0 error code. */
static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t deadline = kd_deadline_ms(timeout_ms);
	int rc;

	for (;;) {
		rc = poll(&p, 1, kd_deadline_left_ms(deadline));
		if (rc >= 0)
			return rc > 0 ? 1 : 0;
		if (errno != EINTR)
			return kd_error_set_os(KD_EDISCONNECTED, errno, "poll");
	}
}

/*
 * Bind a listening socket to @p port: IPv6 dual stack unless @p family
 * says otherwise (falling back to IPv4 where there is no IPv6).
 * @return fd, or -errno.
 */
/*
 * The address a listener binds (@p ss, @p sl) for @p where: NULL is the
 * loopback (::1 for ipversion=6, else 127.0.0.1), "*" every interface
 * (dual-stack where it can), anything else an address or host name.
 */
static int bind_addr(const char *where, int family, int try,
		     struct sockaddr_storage *ss, socklen_t *sl)
{
	memset(ss, 0, sizeof(*ss));
	if (!where || strcmp(where, "*") == 0) {
		bool v6 = family == AF_INET6 ||
			  (family == AF_UNSPEC && where && try == 0);

		if (try > (family == AF_UNSPEC && where ? 1 : 0))
			return -1;
		if (v6) {
			struct sockaddr_in6 *in6 = (void *)ss;

			in6->sin6_family = AF_INET6;
			in6->sin6_addr = where ? in6addr_any : in6addr_loopback;
			*sl = sizeof(*in6);
		} else {
			struct sockaddr_in *in = (void *)ss;

			in->sin_family = AF_INET;
			in->sin_addr.s_addr = htonl(where ? INADDR_ANY :
							    INADDR_LOOPBACK);
			*sl = sizeof(*in);
		}
		return 0;
	} else {
		struct addrinfo hints, *res = NULL, *ai;
		int i = 0;

		memset(&hints, 0, sizeof(hints));
		hints.ai_family = family;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE;
		if (getaddrinfo(where, NULL, &hints, &res) != 0)
			return -2;
		for (ai = res; ai && i < try; ai = ai->ai_next)
			i++;
		if (!ai || ai->ai_addrlen > sizeof(*ss)) {
			freeaddrinfo(res);
			return -1;
		}
		memcpy(ss, ai->ai_addr, ai->ai_addrlen);
		*sl = (socklen_t)ai->ai_addrlen;
		freeaddrinfo(res);
		return 0;
	}
}

static int listen_on(unsigned int port, int family, const char *where)
{
	int err = EAFNOSUPPORT;

	for (int i = 0;; i++) {
		struct sockaddr_storage ss = { 0 };
		socklen_t sl = 0;
		int one = 1;
		int fd, rc = bind_addr(where, family, i, &ss, &sl);

		if (rc == -2)
			return -EADDRNOTAVAIL;
		if (rc < 0)
			break;
		if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *in6 = (void *)&ss;
			int v6only = family == AF_INET6 ? 1 : 0;

			in6->sin6_port = htons((uint16_t)port);
			fd = socket(AF_INET6,
				    SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
				    0);
			if (fd >= 0)
				(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
						 &v6only, sizeof(v6only));
		} else {
			struct sockaddr_in *in = (void *)&ss;

			in->sin_port = htons((uint16_t)port);
			fd = socket(AF_INET,
				    SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
				    0);
		}
		if (fd < 0) {
			err = errno;
			continue;
		}
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				 sizeof(one));
		if (bind(fd, (struct sockaddr *)&ss, sl) == 0 &&
		    listen(fd, LISTEN_BACKLOG) == 0)
			return fd;
		err = errno;
		close(fd);
		if (err == EADDRINUSE || err == EACCES)
			return -err;
	}
	return -err;
}

/* Take the first free port of [lo, hi]; *got says which.  fd or <0. */
static int listen_range(const struct rspec *s, unsigned int *got)
{
	int fd = -EADDRINUSE;

	for (unsigned int p = s->port; p <= s->port_hi; p++) {
		fd = listen_on(p, s->family, s->bind);
		if (fd >= 0) {
			*got = p;
			return fd;
		}
		if (fd != -EADDRINUSE)
			break;
	}
	if (fd == -EADDRINUSE && s->range)
		return spec_err(s, KD_EBUSY, "no free port in %u:%u", s->port,
				s->port_hi);
	if (fd == -EADDRINUSE)
		return spec_err(s, KD_EBUSY, "port %u is in use", s->port);
	if (fd == -EADDRNOTAVAIL)
		return spec_err(s, KD_EINVAL,
				"bind=%s: not an address of "
				"this machine",
				s->bind);
	return spec_err(s, KD_EINVAL, "cannot listen: %s", strerror(-fd));
}

/*
 * Accept one connection within @p timeout_ms; with @p only (a host name)
 * drop callers from other addresses.  fd, or KD_E*.
 */
static bool from_host(int fd, const char *host);

static int accept_one(int lfd, int timeout_ms, const char *only)
{
	int64_t deadline = kd_deadline_ms(timeout_ms);

	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		int rc;

		if (fd >= 0) {
			if (only && !from_host(fd, only)) {
				close(fd);
				continue;
			}
			sock_tune(fd);
			return fd;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return kd_error_set_os(KD_EDISCONNECTED, errno,
					       "accept");
		rc = wait_fd(lfd, POLLIN, kd_deadline_left_ms(deadline));
		if (rc < 0)
			return rc;
		if (rc == 0)
			return KD_ETIMEOUT;
	}
}

/* True when the peer of @p fd is one of @p host's addresses. */
static bool from_host(int fd, const char *host)
{
	struct sockaddr_storage ss = { 0 };
	struct addrinfo hints, *res = NULL;
	socklen_t sl = sizeof(ss);
	char peer[INET6_ADDRSTRLEN + 8], addr[INET6_ADDRSTRLEN + 8];
	bool ok = false;

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
		return false;
	addr_text((struct sockaddr *)&ss, peer, sizeof(peer), false);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return false;
	for (struct addrinfo *ai = res; ai && !ok; ai = ai->ai_next) {
		addr_text(ai->ai_addr, addr, sizeof(addr), false);
		ok = strcmp(addr, peer) == 0;
	}
	freeaddrinfo(res);
	return ok;
}

/*
 * Dial @p host:@p port within @p timeout_ms.  fd or KD_E* with
 * kd_error_last() set ("connection refused" = KD_EDISCONNECTED).
 */
static int dial(const char *host, unsigned int port, int family, int timeout_ms)
{
	struct addrinfo hints, *res = NULL;
	char pstr[8];
	int64_t deadline = kd_deadline_ms(timeout_ms);
	int err = ECONNREFUSED;
	bool timed_out = false;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(pstr, sizeof(pstr), "%u", port);
	rc = getaddrinfo(host, pstr, &hints, &res);
	if (rc != 0)
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_TRANSPORT,
				    "cannot resolve '%s': %s", host,
				    gai_strerror(rc));
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family,
				ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
				ai->ai_protocol);
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		if (fd < 0) {
			err = errno;
			continue;
		}
		if (kd_rchan__source_ipv4 && ai->ai_family == AF_INET) {
			struct sockaddr_in src;

			memset(&src, 0, sizeof(src));
			src.sin_family = AF_INET;
			if (inet_pton(AF_INET, kd_rchan__source_ipv4,
				      &src.sin_addr) != 1 ||
			    bind(fd, (struct sockaddr *)&src, sizeof(src)) <
				    0) {
				err = errno ? errno : EINVAL;
				close(fd);
				continue;
			}
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			freeaddrinfo(res);
			sock_tune(fd);
			return fd;
		}
		if (errno != EINPROGRESS) {
			err = errno;
			close(fd);
			continue;
		}
		rc = wait_fd(fd, POLLOUT, kd_deadline_left_ms(deadline));
		if (rc <= 0) {
			close(fd);
			if (rc == 0) {
				timed_out = true;
				break;
			}
			err = EIO;
			continue;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 &&
		    soerr == 0) {
			freeaddrinfo(res);
			sock_tune(fd);
			return fd;
		}
		err = soerr ? soerr : errno;
		close(fd);
	}
	freeaddrinfo(res);
	if (timed_out)
		return kd_error_set(KD_ETIMEOUT, KD_ERRCLASS_TRANSPORT,
				    "%s:%u: no answer", host, port);
	return kd_error_set_os(KD_EDISCONNECTED, err, "%s:%u", host, port);
}

/* ------------------------------------------------------------------ */
/* Channel I/O                                                         */
/* ------------------------------------------------------------------ */

static struct kd_rchan *chan_new(int fd)
{
	struct kd_rchan *c = kd_calloc(1, sizeof(*c));
	struct sockaddr_storage ss = { 0 };
	socklen_t sl = sizeof(ss);

	if (!c)
		return NULL;
	c->rbuf = kd_malloc(FRAME_MAX);
	c->tbuf = kd_malloc(FRAME_MAX);
	if (!c->rbuf || !c->tbuf) {
		kd_free(c->rbuf);
		kd_free(c->tbuf);
		kd_free(c);
		return NULL;
	}
	c->fd = fd;
	pthread_mutex_init(&c->ssl_lock, NULL);
	pthread_mutex_init(&c->send_lock, NULL);
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
		addr_text((struct sockaddr *)&ss, c->peer, sizeof(c->peer),
			  true);
	else
		snprintf(c->peer, sizeof(c->peer), "?");
	return c;
}

/*
 * SIGPIPE guard for OpenSSL's socket writes (plain TCP uses MSG_NOSIGNAL):
 * block it on this thread and swallow one raised meanwhile.
 */
struct pipe_guard {
	sigset_t old;
	bool was_pending;
};

static void pipe_block(struct pipe_guard *g)
{
	sigset_t set, pend;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigpending(&pend);
	g->was_pending = sigismember(&pend, SIGPIPE) == 1;
	pthread_sigmask(SIG_BLOCK, &set, &g->old);
}

static void pipe_unblock(struct pipe_guard *g)
{
	sigset_t set, pend;
	struct timespec zero = { 0, 0 };

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigpending(&pend);
	if (!g->was_pending && sigismember(&pend, SIGPIPE) == 1)
		(void)sigtimedwait(&set, NULL, &zero);
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* Write all of @p len bytes by @p deadline. */
static int write_all(struct kd_rchan *c, const uint8_t *p, size_t len,
		     int64_t deadline)
{
	while (len > 0) {
		short want = POLLOUT;
		ssize_t n;
		int rc;

		if (c->ssl) {
			struct pipe_guard g;
			int r, e;

			pthread_mutex_lock(&c->ssl_lock);
			pipe_block(&g);
			ERR_clear_error();
			r = SSL_write(c->ssl, p,
				      len > INT32_MAX ? INT32_MAX : (int)len);
			e = r > 0 ? SSL_ERROR_NONE : SSL_get_error(c->ssl, r);
			pipe_unblock(&g);
			pthread_mutex_unlock(&c->ssl_lock);
			if (r > 0) {
				p += r;
				len -= (size_t)r;
				continue;
			}
			if (e == SSL_ERROR_WANT_READ)
				want = POLLIN;
			else if (e != SSL_ERROR_WANT_WRITE)
				return kd_error_set(
					KD_EDISCONNECTED, KD_ERRCLASS_TRANSPORT,
					"%s: TLS connection lost", c->peer);
		} else {
			n = send(c->fd, p, len, MSG_NOSIGNAL);
			if (n > 0) {
				p += n;
				len -= (size_t)n;
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
				return kd_error_set_os(KD_EDISCONNECTED, errno,
						       "%s", c->peer);
		}
		rc = wait_fd(c->fd, want, kd_deadline_left_ms(deadline));
		if (rc < 0)
			return rc;
		if (rc == 0)
			return kd_error_set(
				KD_EDISCONNECTED, KD_ERRCLASS_TRANSPORT,
				"%s: peer stopped reading", c->peer);
	}
	return KD_OK;
}

/*
 * Plain TCP: the length prefix and the message leave in one sendmsg()
 * (one segment on the wire, no copy); the rest of a partial write goes
 * through write_all().
 */
static int send_plain(struct kd_rchan *c, const void *msg, size_t len,
		      int64_t deadline)
{
	uint8_t head[4];
	struct iovec iov[2];
	struct msghdr mh;
	size_t done;
	ssize_t n;

	kd_put_le32(head, (uint32_t)len);
	iov[0].iov_base = head;
	iov[0].iov_len = 4;
	iov[1].iov_base = (void *)msg;
	iov[1].iov_len = len;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = len ? 2 : 1;
	do {
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
		return kd_error_set_os(KD_EDISCONNECTED, errno, "%s", c->peer);
	done = n > 0 ? (size_t)n : 0;
	if (done < 4) {
		int rc = write_all(c, head + done, 4 - done, deadline);

		if (rc < 0)
			return rc;
		done = 4;
	}
	return write_all(c, (const uint8_t *)msg + (done - 4), len - (done - 4),
			 deadline);
}

static int send_frame(struct kd_rchan *c, const void *msg, size_t len,
		      int64_t deadline)
{
	int rc;

	pthread_mutex_lock(&c->send_lock);
	if (!c->ssl) {
		rc = send_plain(c, msg, len, deadline);
	} else {
		/* One SSL_write, one TLS record. */
		kd_put_le32(c->tbuf, (uint32_t)len);
		if (len)
			memcpy(c->tbuf + 4, msg, len);
		rc = write_all(c, c->tbuf, 4 + len, deadline);
	}
	pthread_mutex_unlock(&c->send_lock);
	return rc;
}

/*
 * Read what is available into rbuf, waiting until @p deadline.
 * @return KD_OK (something arrived), KD_ETIMEOUT, KD_EDISCONNECTED.
 */
static int fill(struct kd_rchan *c, int64_t deadline)
{
	size_t room;

	if (c->rlen == 0)
		c->rhead = 0;
	if (c->rhead + c->rlen > FRAME_MAX - 4096 && c->rhead > 0) {
		/* Little room left at the end: move the partial frame. */
		memmove(c->rbuf, c->rbuf + c->rhead, c->rlen);
		c->rhead = 0;
	}
	room = FRAME_MAX - c->rhead - c->rlen;
	/*
	 * Answers come a while after requests: when the last read emptied
	 * the socket, wait for data before reading instead of reading an
	 * EAGAIN first (one system call less per message).
	 */
	if (!c->ssl && c->drained && kd_deadline_left_ms(deadline) != 0) {
		int rc = wait_fd(c->fd, POLLIN, kd_deadline_left_ms(deadline));

		if (rc < 0)
			return rc;
		if (rc == 0)
			return KD_ETIMEOUT;
	}
	for (;;) {
		short want = POLLIN;
		ssize_t n;
		int rc;

		if (c->ssl) {
			struct pipe_guard g;
			int r, e;

			pthread_mutex_lock(&c->ssl_lock);
			pipe_block(&g);
			ERR_clear_error();
			r = SSL_read(c->ssl, c->rbuf + c->rhead + c->rlen,
				     (int)room);
			e = r > 0 ? SSL_ERROR_NONE : SSL_get_error(c->ssl, r);
			pipe_unblock(&g);
			pthread_mutex_unlock(&c->ssl_lock);
			if (r > 0) {
				c->rlen += (size_t)r;
				return KD_OK;
			}
			if (e == SSL_ERROR_WANT_WRITE)
				want = POLLOUT;
			else if (e == SSL_ERROR_ZERO_RETURN)
				return kd_error_set(
					KD_EDISCONNECTED, KD_ERRCLASS_TRANSPORT,
					"%s closed the connection", c->peer);
			else if (e != SSL_ERROR_WANT_READ)
				return kd_error_set(
					KD_EDISCONNECTED, KD_ERRCLASS_TRANSPORT,
					"%s: TLS connection lost", c->peer);
		} else {
			n = recv(c->fd, c->rbuf + c->rhead + c->rlen, room, 0);
			if (n > 0) {
				c->rlen += (size_t)n;
				c->drained = (size_t)n < room;
				return KD_OK;
			}
			c->drained = false;
			if (n == 0)
				return kd_error_set(
					KD_EDISCONNECTED, KD_ERRCLASS_TRANSPORT,
					"%s closed the connection", c->peer);
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return kd_error_set_os(KD_EDISCONNECTED, errno,
						       "%s", c->peer);
		}
		rc = wait_fd(c->fd, want, kd_deadline_left_ms(deadline));
		if (rc < 0)
			return rc;
		if (rc == 0)
			return KD_ETIMEOUT;
	}
}

static int recv_frame(struct kd_rchan *c, void *buf, size_t cap,
		      size_t *len_out, int64_t deadline)
{
	int rc;

	if (c->broken)
		return kd_error_set(KD_EPROTO, KD_ERRCLASS_PROTO,
				    "%s: channel closed after a framing error",
				    c->peer);
	for (;;) {
		if (c->rlen >= 4) {
			const uint8_t *f = c->rbuf + c->rhead;
			uint32_t n = kd_get_le32(f);

			size_t lim = cap < KD_RCHAN_MAX_MSG ? cap :
							      KD_RCHAN_MAX_MSG;

			if (n > lim) {
				c->broken = true;
				return kd_error_set(
					KD_EPROTO, KD_ERRCLASS_PROTO,
					"%s: message of %u bytes exceeds the limit of %zu",
					c->peer, n, lim);
			}
			if (c->rlen >= 4 + (size_t)n) {
				if (n)
					memcpy(buf, f + 4, n);
				c->rlen -= 4 + (size_t)n;
				c->rhead = c->rlen ? c->rhead + 4 + n : 0;
				*len_out = n;
				return KD_OK;
			}
		}
		rc = fill(c, deadline);
		if (rc < 0)
			return rc;
	}
}

int kd_rchan_send(struct kd_rchan *c, const void *msg, size_t len)
{
	if (!c || (len && !msg))
		return KD_EINVAL;
	if (len > KD_RCHAN_MAX_MSG)
		return kd_error_set(
			KD_EINVAL, KD_ERRCLASS_TRANSPORT,
			"message of %zu bytes exceeds the limit of %u", len,
			KD_RCHAN_MAX_MSG);
	return send_frame(c, msg, len, (int64_t)kd_mono_ms() + SEND_LIMIT_MS);
}

int kd_rchan_recv(struct kd_rchan *c, void *buf, size_t cap, size_t *len_out,
		  int timeout_ms)
{
	if (!c || !len_out || (cap && !buf))
		return KD_EINVAL;
	return recv_frame(c, buf, cap, len_out, kd_deadline_ms(timeout_ms));
}

int kd_rchan_fd(const struct kd_rchan *c)
{
	return c ? c->fd : -1;
}

bool kd_rchan_pending(const struct kd_rchan *c)
{
	struct kd_rchan *m = (struct kd_rchan *)c;
	bool any;

	if (!c)
		return false;
	if (c->rlen > 0)
		return true;
	if (!c->ssl)
		return false;
	pthread_mutex_lock(&m->ssl_lock);
	any = SSL_pending(m->ssl) > 0;
	pthread_mutex_unlock(&m->ssl_lock);
	return any;
}

const char *kd_rchan_peer(const struct kd_rchan *c)
{
	return c ? c->peer : "";
}

const char *kd_rchan_proto(const struct kd_rchan *c)
{
	return c && c->ssl ? "ssl" : "tcp";
}

const char *kd_rchan_identity(const struct kd_rchan *c)
{
	return c ? c->identity : "";
}

static bool pend_done(struct kd_rchan *c);

void kd_rchan_thread_done(void)
{
	OPENSSL_thread_stop();
}

void kd_rchan_close(struct kd_rchan *c)
{
	if (!c)
		return;
	(void)pend_done(c);
	if (c->ssl) {
		struct pipe_guard g;

		pthread_mutex_lock(&c->ssl_lock);
		pipe_block(&g);
		ERR_clear_error();
		(void)SSL_shutdown(c->ssl);
		pipe_unblock(&g);
		pthread_mutex_unlock(&c->ssl_lock);
		SSL_free(c->ssl);
	}
	SSL_CTX_free(c->ctx);
	if (c->fd >= 0) {
		/* FIN first, so the peer reads what we sent before EOF. */
		(void)shutdown(c->fd, SHUT_WR);
		close(c->fd);
	}
	pthread_mutex_destroy(&c->ssl_lock);
	pthread_mutex_destroy(&c->send_lock);
	kd_free(c->rbuf);
	kd_free(c->tbuf);
	kd_free(c);
}

/* ------------------------------------------------------------------ */
/* TLS                                                                 */
/* ------------------------------------------------------------------ */

/* The first queued OpenSSL error as text (or @p def). */
static void ssl_reason(char *buf, size_t cap, const char *def)
{
	unsigned long e = ERR_peek_last_error();

	if (e)
		ERR_error_string_n(e, buf, cap);
	else
		snprintf(buf, cap, "%s", def);
	ERR_clear_error();
}

static SSL_CTX *tls_ctx(bool server)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() :
					    TLS_client_method());

	if (!ctx)
		return NULL;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return ctx;
}

static int tls_server_ctx(struct rspec *s, SSL_CTX **out)
{
	char why[200];
	SSL_CTX *ctx = tls_ctx(true);

	*out = NULL;
	if (!ctx)
		return spec_err(s, KD_ENOMEM, "cannot create a TLS context");
	if (SSL_CTX_use_certificate_chain_file(ctx, s->cert) != 1) {
		ssl_reason(why, sizeof(why), "unreadable");
		SSL_CTX_free(ctx);
		return spec_err(s, KD_EINVAL, "cert '%s': %s", s->cert, why);
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, s->key, SSL_FILETYPE_PEM) != 1) {
		if (ERR_GET_REASON(ERR_peek_last_error()) ==
		    X509_R_KEY_VALUES_MISMATCH) {
			ERR_clear_error();
			SSL_CTX_free(ctx);
			return spec_err(s, KD_EINVAL,
					"key '%s' does not match cert '%s'",
					s->key, s->cert);
		}
		ssl_reason(why, sizeof(why), "unreadable");
		SSL_CTX_free(ctx);
		return spec_err(s, KD_EINVAL, "key '%s': %s", s->key, why);
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ERR_clear_error();
		SSL_CTX_free(ctx);
		return spec_err(s, KD_EINVAL,
				"key '%s' does not match cert '%s'", s->key,
				s->cert);
	}
	*out = ctx;
	return KD_OK;
}

static int tls_client_ctx(struct rspec *s, SSL_CTX **out)
{
	char why[200];
	SSL_CTX *ctx = tls_ctx(false);

	*out = NULL;
	if (!ctx)
		return spec_err(s, KD_ENOMEM, "cannot create a TLS context");
	if (SSL_CTX_load_verify_locations(ctx, s->ca, NULL) != 1) {
		ssl_reason(why, sizeof(why), "unreadable");
		SSL_CTX_free(ctx);
		return spec_err(s, KD_EINVAL, "ca '%s': %s", s->ca, why);
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	*out = ctx;
	return KD_OK;
}

/* Expect @p host (a name or an IP literal) in the server's certificate. */
static int tls_expect_host(SSL *ssl, const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, host, &a4) == 1 ||
	    inet_pton(AF_INET6, host, &a6) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
						     host) == 1 ?
			       KD_OK :
			       KD_EINVAL;
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (SSL_set1_host(ssl, host) != 1 ||
	    SSL_set_tlsext_host_name(ssl, host) != 1)
		return KD_EINVAL;
	return KD_OK;
}

/* TLS handshake on c->fd by @p deadline; @p host: client side. */
static int tls_handshake(struct kd_rchan *c, const char *who, SSL_CTX *ctx,
			 const char *host, int64_t deadline)
{
	char why[200];

	c->ssl = SSL_new(ctx);
	if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1)
		return kd_error_set(KD_ENOMEM, KD_ERRCLASS_CRYPTO,
				    "cannot create a TLS session");
	if (host && tls_expect_host(c->ssl, host) < 0)
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_CRYPTO,
				    "bad TLS host name '%s'", host);
	for (;;) {
		struct pipe_guard g;
		short want;
		int r, e, rc;

		pipe_block(&g);
		ERR_clear_error();
		r = host ? SSL_connect(c->ssl) : SSL_accept(c->ssl);
		e = r == 1 ? SSL_ERROR_NONE : SSL_get_error(c->ssl, r);
		pipe_unblock(&g);
		if (r == 1)
			return KD_OK;
		if (e == SSL_ERROR_WANT_READ) {
			want = POLLIN;
		} else if (e == SSL_ERROR_WANT_WRITE) {
			want = POLLOUT;
		} else {
			long v = SSL_get_verify_result(c->ssl);

			if (host && v != X509_V_OK) {
				const char *vs = X509_verify_cert_error_string(
					v);

				ERR_clear_error();
				return kd_error_set(
					KD_EAUTH, KD_ERRCLASS_CRYPTO,
					"%s: TLS certificate verification failed: %s",
					who, vs);
			}
			ssl_reason(
				why, sizeof(why),
				"connection closed during the TLS handshake");
			return kd_error_set(
				host ? KD_EAUTH : KD_EPROTO, KD_ERRCLASS_CRYPTO,
				"%s: TLS handshake failed: %s", who, why);
		}
		rc = wait_fd(c->fd, want, kd_deadline_left_ms(deadline));
		if (rc < 0)
			return rc;
		if (rc == 0)
			return kd_error_set(
				host ? KD_ETIMEOUT : KD_EPROTO,
				KD_ERRCLASS_CRYPTO,
				"%s: TLS handshake not completed within %d ms",
				who, kd_rchan__handshake_ms);
	}
}

/* ------------------------------------------------------------------ */
/* Handshake                                                           */
/* ------------------------------------------------------------------ */

/* Describe a service for messages: "a KD connection server (kdsrv)". */
static void service_words(const char *service, char *buf, size_t cap)
{
	size_t n = strcspn(service, "/");

	if (n == 5 && strncmp(service, "kdsrv", 5) == 0)
		snprintf(buf, cap, "a KD connection server (kdsrv)");
	else if (n == 6 && strncmp(service, "dbgsrv", 6) == 0)
		snprintf(buf, cap, "a debugging server");
	else
		snprintf(buf, cap, "a '%.*s' server", (int)n, service);
}

/* Compare services: 0 same; 1 other name; 2 same name, other major. */
static int service_diff(const char *mine, const char *theirs)
{
	size_t a = strcspn(mine, "/");
	size_t b = strcspn(theirs, "/");

	if (a != b || strncmp(mine, theirs, a) != 0)
		return 1;
	return strcmp(mine, theirs) == 0 ? 0 : 2;
}

static const char *service_major(const char *s)
{
	const char *slash = strchr(s, '/');

	return slash ? slash + 1 : "?";
}

static void own_identity(char *buf, size_t cap)
{
	char host[64] = "unknown";
	const char *user = "unknown";
	struct passwd pw, *res = NULL;
	char pwbuf[1024];
	size_t i;

	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	if (getpwuid_r(geteuid(), &pw, pwbuf, sizeof(pwbuf), &res) == 0 &&
	    res && res->pw_name)
		user = res->pw_name;
	snprintf(buf, cap, "%s\\%s", host, user);
	for (i = 0; buf[i]; i++) {
		if ((unsigned char)buf[i] < 0x20 ||
		    (unsigned char)buf[i] > 0x7e)
			buf[i] = '?';
	}
}

/* Receive one handshake message (bounded to KD_RCHAN_HS_MAX). */
static int hs_recv(struct kd_rchan *c, const char *who, uint8_t *buf,
		   size_t *len, int64_t deadline, const char *waiting_for)
{
	int rc = recv_frame(c, buf, KD_RCHAN_HS_MAX, len, deadline);

	if (rc == KD_ETIMEOUT)
		return kd_error_set(KD_ETIMEOUT, KD_ERRCLASS_PROTO,
				    "%s: no %s within %d ms", who, waiting_for,
				    kd_rchan__handshake_ms);
	if (rc == KD_EPROTO)
		return kd_error_set(KD_EPROTO, KD_ERRCLASS_PROTO,
				    "%s: not an openkd remote channel (bad %s)",
				    who, waiting_for);
	if (rc == KD_EDISCONNECTED)
		return kd_error_set(
			KD_EDISCONNECTED, KD_ERRCLASS_PROTO,
			"%s: connection closed during the handshake", who);
	return rc;
}

static int send_verdict(struct kd_rchan *c, unsigned status, const char *why,
			const uint8_t *proof, int64_t deadline)
{
	struct kd_rchan_verdict v;
	uint8_t buf[KD_RCHAN_HS_MAX];
	size_t n;

	memset(&v, 0, sizeof(v));
	v.status = status;
	snprintf(v.reason, sizeof(v.reason), "%s", why);
	if (proof) {
		v.flags = KD_RCHAN_VF_PROOF;
		memcpy(v.proof, proof, KD_RCHAN_PROOF_LEN);
	}
	n = kd_rchan_enc_verdict(buf, sizeof(buf), &v);
	if (n == 0)
		return KD_EINVAL;
	return send_frame(c, buf, n, deadline);
}

/* --- Throttle tables --- */

static struct throttle *throttle_find(struct kd_rlistener *l, const char *addr,
				      bool create)
{
	struct throttle *slot = NULL;

	for (int i = 0; i < THROTTLE_SLOTS; i++) {
		if (l->tab[i].addr[0] && strcmp(l->tab[i].addr, addr) == 0)
			return &l->tab[i];
	}
	if (!create)
		return NULL;
	/* An empty slot, else the least recently used one not in use. */
	for (int i = 0; i < THROTTLE_SLOTS; i++) {
		struct throttle *t = &l->tab[i];

		if (!t->addr[0]) {
			slot = t;
			break;
		}
		if (!slot || t->last_use < slot->last_use)
			slot = t;
	}
	memset(slot, 0, sizeof(*slot));
	snprintf(slot->addr, sizeof(slot->addr), "%s", addr);
	return slot;
}

static bool good_has(struct kd_rlistener *l, const char *addr)
{
	for (int i = 0; i < GOOD_SLOTS; i++) {
		if (l->good[i].addr[0] && strcmp(l->good[i].addr, addr) == 0)
			return true;
	}
	return false;
}

static void good_add(struct kd_rlistener *l, const char *addr, int64_t now)
{
	struct goodaddr *slot = NULL;

	for (int i = 0; i < GOOD_SLOTS; i++) {
		struct goodaddr *g = &l->good[i];

		if (g->addr[0] && strcmp(g->addr, addr) == 0) {
			slot = g;
			break;
		}
		if (!slot || (slot->addr[0] &&
			      (!g->addr[0] || g->last_use < slot->last_use)))
			slot = g;
	}
	snprintf(slot->addr, sizeof(slot->addr), "%s", addr);
	slot->last_use = now;
}

/* Seconds @p t refuses attempts (0: none), its window restarted. */
static int throttle_left(struct throttle *t, int64_t now)
{
	if (t->blocked_until > now)
		return (int)((t->blocked_until - now + 999) / 1000);
	if (now - t->window_start > THROTTLE_WINDOW_MS)
		t->failures = 0;
	return 0;
}

static void throttle_count(struct throttle *t, unsigned int first_ms,
			   int64_t now)
{
	if (t->failures == 0)
		t->window_start = now;
	t->failures++;
	t->last_use = now;
	if (t->failures > THROTTLE_FREE) {
		unsigned int shift = t->failures - THROTTLE_FREE - 1;
		int64_t max = (int64_t)THROTTLE_MAX_S * 1000;
		int64_t ms;

		if (first_ms > max)
			max = first_ms;
		ms = shift >= 20 ? max : (int64_t)first_ms << shift;
		if (ms > max)
			ms = max;
		t->blocked_until = now + ms;
		/* A block outlives the counting window. */
		t->window_start = now;
	}
}

/*
 * Seconds attempts from @p addr are refused (lock held): its own count,
 * then, for an address that has not proved the password, the shared one
 * (*whose says so).
 */
static int throttle_blocked(struct kd_rlistener *l, const char *addr,
			    int64_t now, bool create, struct throttle **own,
			    unsigned int *failures, const char **whose)
{
	struct throttle *t = throttle_find(l, addr, create);
	int left = 0;

	*own = t;
	*whose = "";
	*failures = 0;
	if (t) {
		t->last_use = now;
		left = throttle_left(t, now);
		*failures = t->failures;
	}
	if (left == 0 && !good_has(l, addr)) {
		left = throttle_left(&l->agg, now);
		if (left) {
			*failures = l->agg.failures;
			*whose = " from addresses new to this server";
		}
	}
	return left;
}

/* Before the challenge: seconds @p addr is refused (0: go on). */
static int throttle_check(struct kd_rlistener *l, const char *addr,
			  unsigned int *failures, const char **whose)
{
	struct throttle *t;
	int left;

	/* Only a look: an address gets a record when it is judged. */
	pthread_mutex_lock(&l->lock);
	left = throttle_blocked(l, addr, (int64_t)kd_mono_ms(), false, &t,
				failures, whose);
	pthread_mutex_unlock(&l->lock);
	return left;
}

/*
 * Judge a password attempt whose proof was @p right, atomically with the
 * check: an attempt that finds its address (or the shared count) blocked
 * is refused unjudged, so parallel connections that all got a challenge
 * before the first failure was counted learn nothing more than one would.
 * @return seconds refused (nothing judged), or 0 (judged and counted).
 */
static int throttle_attempt(struct kd_rlistener *l, const char *addr,
			    bool right, unsigned int *failures,
			    const char **whose)
{
	int64_t now = (int64_t)kd_mono_ms();
	struct throttle *t;
	bool known;
	int left;

	pthread_mutex_lock(&l->lock);
	left = throttle_blocked(l, addr, now, true, &t, failures, whose);
	if (left == 0) {
		known = good_has(l, addr);
		if (right) {
			memset(t, 0, sizeof(*t));
			snprintf(t->addr, sizeof(t->addr), "%s", addr);
			t->last_use = now;
			good_add(l, addr, now);
		} else {
			throttle_count(t, l->block_ms, now);
			if (!known)
				throttle_count(&l->agg, l->block_ms, now);
		}
	}
	pthread_mutex_unlock(&l->lock);
	return left;
}

/* --- Admission of handshakes --- */

/* The address a peer is counted by: IPv4 as is, IPv6 by its /64. */
static void peer_group(int fd, char *buf, size_t cap)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl = sizeof(ss);

	snprintf(buf, cap, "?");
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
		return;
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		if (!IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			memset(&in6->sin6_addr.s6_addr[8], 0, 8);
	}
	addr_text((struct sockaddr *)&ss, buf, cap, false);
}

static void pend_unlink(struct kd_rlistener *l, struct kd_rchan *c)
{
	if (c->pend_prev)
		c->pend_prev->pend_next = c->pend_next;
	else
		l->pend_head = c->pend_next;
	if (c->pend_next)
		c->pend_next->pend_prev = c->pend_prev;
	else
		l->pend_tail = c->pend_prev;
	c->pend_prev = c->pend_next = NULL;
	c->pend_l = NULL;
	l->npend--;
}

/* The record of @p group's recent cuts (lock held); NULL if none. */
static struct cutrec *cuts_find(struct kd_rlistener *l, const char *group,
				int64_t now, bool create)
{
	struct cutrec *slot = NULL;

	for (int i = 0; i < CUT_SLOTS; i++) {
		struct cutrec *r = &l->cuts[i];

		if (r->group[0] && strcmp(r->group, group) == 0) {
			if (now - r->start > CUT_WINDOW_MS) {
				r->n = 0;
				r->start = now;
			}
			return r;
		}
		/* An empty slot, else the one whose window began first. */
		if (!slot || (slot->group[0] &&
			      (!r->group[0] || r->start < slot->start)))
			slot = r;
	}
	if (!create)
		return NULL;
	memset(slot, 0, sizeof(*slot));
	snprintf(slot->group, sizeof(slot->group), "%s", group);
	slot->start = now;
	return slot;
}

/* Count a handshake of @p group cut or refused (lock held). */
static void cuts_count(struct kd_rlistener *l, const char *group)
{
	struct cutrec *r = cuts_find(l, group, (int64_t)kd_mono_ms(), true);

	r->n++;
}

/*
 * What @p group takes of the listener (lock held): its handshakes in
 * progress and those cut or refused lately.  A flood's addresses score
 * high however their connections come and go; a client's stays low.
 */
static unsigned int pend_share(struct kd_rlistener *l, const char *group,
			       int64_t now)
{
	struct cutrec *r = cuts_find(l, group, now, false);
	unsigned int n = r ? r->n : 0;

	for (struct kd_rchan *q = l->pend_head; q; q = q->pend_next)
		n += strcmp(q->group, group) == 0;
	return n;
}

/* Cut @p c's handshake (lock held): its reads and writes fail at once. */
static void pend_cut(struct kd_rlistener *l, struct kd_rchan *c)
{
	cuts_count(l, c->group);
	c->cut = true;
	(void)shutdown(c->fd, SHUT_RDWR);
	pend_unlink(l, c);
}

/* True when @p p has had its window to speak and said nothing (lock held). */
static bool pend_expired(const struct kd_rchan *p, int64_t now)
{
	return p->turn_ms != 0 &&
	       now - p->turn_ms >= kd_rchan__handshake_ms / HELLO_WINDOW_DIV;
}

/*
 * True when @p p spoke although its thread has not read it yet (lock
 * held): bytes wait in its socket.  A peer that closed is silent.
 */
static bool pend_spoke(struct kd_rchan *p)
{
	uint8_t b;
	ssize_t n;

	do {
		n = recv(p->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	return n > 0;
}

/*
 * The handshake to cut for a newcomer of @p group (lock held; only of
 * @p group when @p own): a silent one, either past its window to speak
 * or, for a newcomer whose address had nothing cut or refused lately,
 * of an address whose share (pend_share()) is at least two more than the
 * newcomer's.  (A flood's addresses thus replace one another only as
 * their windows pass, not at the rate they connect: every replacement
 * costs the server a thread.)  Of those, the largest share's first, past the window
 * before within it, the oldest first.  NULL: none may be cut, and the
 * newcomer is refused instead.  So a flood, from one address or many,
 * renewing its connections however fast, only replaces its own peers or
 * peers that had their chance: a client from an address of its own that
 * answers within its window is not cut, however late its threads (or
 * the server's) are scheduled.
 */
static struct kd_rchan *pend_victim(struct kd_rlistener *l, const char *group,
				    bool own)
{
	int64_t now = (int64_t)kd_mono_ms();
	unsigned int mine = pend_share(l, group, now);
	struct cutrec *r = cuts_find(l, group, now, false);
	/* An address cut or refused lately takes only expired places. */
	bool clean = !r || r->n == 0;

	for (;;) {
		struct kd_rchan *victim = NULL, *p;
		unsigned int vn = 0;
		bool vexp = false;

		for (p = l->pend_head; p; p = p->pend_next) {
			bool exp = pend_expired(p, now);
			unsigned int n;

			if (p->heard || (own && strcmp(p->group, group) != 0))
				continue;
			n = pend_share(l, p->group, now);
			if (!exp && (!clean || n < mine + 2))
				continue;
			/* Oldest first: a later one must be strictly better. */
			if (!victim || n > vn || (n == vn && exp && !vexp)) {
				victim = p;
				vn = n;
				vexp = exp;
			}
		}
		if (!victim || !pend_spoke(victim))
			return victim;
		/* Its hello is on the way: as good as heard. */
		victim->heard = true;
	}
}

/* Mark @p c's handshake as heard from (its client hello parsed). */
static void pend_heard(struct kd_rchan *c)
{
	struct kd_rlistener *l = c->pend_l;

	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	if (c->pend_l)
		c->heard = true;
	pthread_mutex_unlock(&l->lock);
}

/*
 * Mark that it is @p c's turn to speak (the server hello sent, or the
 * TLS handshake begun): its window to answer starts now.
 */
static void pend_turn(struct kd_rchan *c)
{
	struct kd_rlistener *l = c->pend_l;

	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	if (c->pend_l)
		c->turn_ms = (int64_t)kd_mono_ms();
	pthread_mutex_unlock(&l->lock);
}

/*
 * Register @p c's handshake, cutting another one to make room, or, when
 * none may be cut (pend_victim()), refusing @p c: it is cut at once.
 */
static void pend_add(struct kd_rlistener *l, struct kd_rchan *c)
{
	struct kd_rchan *victim = NULL, *p;
	unsigned int same = 0;
	bool full;

	peer_group(c->fd, c->group, sizeof(c->group));
	pthread_mutex_lock(&l->lock);
	for (p = l->pend_head; p; p = p->pend_next)
		same += strcmp(p->group, c->group) == 0;
	full = same >= PENDING_PER_ADDR || l->npend >= PENDING_MAX;
	if (full) {
		victim = pend_victim(l, c->group, same >= PENDING_PER_ADDR);
		if (!victim) {
			cuts_count(l, c->group);
			c->cut = c->refused = true;
			(void)shutdown(c->fd, SHUT_RDWR);
			pthread_mutex_unlock(&l->lock);
			return;
		}
		pend_cut(l, victim);
	}
	c->pend_l = l;
	c->pend_prev = l->pend_tail;
	if (l->pend_tail)
		l->pend_tail->pend_next = c;
	else
		l->pend_head = c;
	l->pend_tail = c;
	l->npend++;
	pthread_mutex_unlock(&l->lock);
}

/* Take @p c out of its listener's list; true when it had been cut. */
static bool pend_done(struct kd_rchan *c)
{
	struct kd_rlistener *l = c->pend_l;
	bool cut;

	if (!l)
		return c->cut;
	pthread_mutex_lock(&l->lock);
	if (c->pend_l)
		pend_unlink(l, c);
	cut = c->cut;
	pthread_mutex_unlock(&l->lock);
	return cut;
}

unsigned int kd_rlistener_cut_pending(struct kd_rlistener *l)
{
	unsigned int n = 0;

	if (!l)
		return 0;
	pthread_mutex_lock(&l->lock);
	while (l->pend_head) {
		pend_cut(l, l->pend_head);
		n++;
	}
	pthread_mutex_unlock(&l->lock);
	return n;
}

/* Handshakes in progress on @p l. */
static unsigned int pend_count(struct kd_rlistener *l)
{
	unsigned int n;

	pthread_mutex_lock(&l->lock);
	n = l->npend;
	pthread_mutex_unlock(&l->lock);
	return n;
}

static void peer_addr(const struct kd_rchan *c, char *buf, size_t cap)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl = sizeof(ss);

	if (getpeername(c->fd, (struct sockaddr *)&ss, &sl) == 0)
		addr_text((struct sockaddr *)&ss, buf, cap, false);
	else
		snprintf(buf, cap, "?");
}

/* Server side of the handshake on connected @p c. */
static int server_handshake(struct kd_rlistener *l, struct kd_rchan *c)
{
	int64_t deadline = (int64_t)kd_mono_ms() + kd_rchan__handshake_ms;
	struct kd_rchan_shello sh;
	struct kd_rchan_chello ch;
	uint8_t buf[KD_RCHAN_HS_MAX];
	uint8_t proof[KD_RCHAN_PROOF_LEN];
	char addr[48], who[200], why[KD_RCHAN_REASON_MAX + 1];
	unsigned int version = 0, failures = 0;
	const char *perr = NULL, *whose = "";
	size_t n;
	int left, rc;

	if (l->tls) {
		/* The client speaks first in TLS. */
		pend_turn(c);
		rc = tls_handshake(c, c->peer, l->ctx, NULL, deadline);
		if (rc < 0)
			return rc;
	}
	peer_addr(c, addr, sizeof(addr));
	left = l->has_password ? throttle_check(l, addr, &failures, &whose) : 0;
	if (left > 0) {
		snprintf(why, sizeof(why),
			 "too many failed passwords%s; try again in %d s",
			 whose, left);
		(void)send_verdict(c, KD_RCHAN_THROTTLED, why, NULL, deadline);
		return kd_error_set(
			KD_EAUTH, KD_ERRCLASS_SERVER,
			"%s: refused after %u failed passwords%s (throttled for %d s more)",
			c->peer, failures, whose, left);
	}
	memset(&sh, 0, sizeof(sh));
	sh.flags = l->has_password ? KD_RCHAN_SF_PASSWORD : 0;
	snprintf(sh.service, sizeof(sh.service), "%s", l->service);
	if (RAND_bytes(sh.nonce, sizeof(sh.nonce)) != 1)
		return kd_error_set(KD_ERROR, KD_ERRCLASS_CRYPTO,
				    "no random numbers for the challenge");
	n = kd_rchan_enc_shello(buf, sizeof(buf), &sh);
	rc = n ? send_frame(c, buf, n, deadline) : KD_EINVAL;
	if (rc < 0)
		return rc;
	pend_turn(c);
	rc = hs_recv(c, c->peer, buf, &n, deadline, "client hello");
	if (rc < 0)
		return rc;
	rc = kd_rchan_parse_chello(buf, n, &ch, &version, &perr);
	if (rc == KD_ENOTSUP) {
		snprintf(why, sizeof(why),
			 "remote channel version %u, this server speaks %u",
			 version, KD_RCHAN_VERSION);
		(void)send_verdict(c, KD_RCHAN_MISMATCH, why, NULL, deadline);
		return kd_error_set(KD_EPROTO, KD_ERRCLASS_PROTO, "%s: %s",
				    c->peer, why);
	}
	if (rc < 0)
		return kd_error_set(KD_EPROTO, KD_ERRCLASS_PROTO, "%s: %s",
				    c->peer, perr);
	pend_heard(c);
	snprintf(c->identity, sizeof(c->identity), "%s", ch.identity);
	if (ch.identity[0])
		snprintf(who, sizeof(who), "%s (%s)", c->peer, ch.identity);
	else
		snprintf(who, sizeof(who), "%s", c->peer);
	switch (service_diff(l->service, ch.service)) {
	case 1: {
		char mine[64], theirs[64];

		service_words(l->service, mine, sizeof(mine));
		service_words(ch.service, theirs, sizeof(theirs));
		snprintf(why, sizeof(why), "this is %s, not %s", mine, theirs);
		(void)send_verdict(c, KD_RCHAN_MISMATCH, why, NULL, deadline);
		return kd_error_set(KD_EPROTO, KD_ERRCLASS_PROTO,
				    "%s: client wants %s (%s), this is %s", who,
				    theirs, ch.service, l->service);
	}
	case 2:
		snprintf(why, sizeof(why),
			 "protocol version %s, this server speaks %s",
			 service_major(ch.service), service_major(l->service));
		(void)send_verdict(c, KD_RCHAN_MISMATCH, why, NULL, deadline);
		return kd_error_set(KD_EPROTO, KD_ERRCLASS_PROTO,
				    "%s: client speaks %s, this server %s", who,
				    ch.service, l->service);
	default:
		break;
	}
	if (l->has_password) {
		bool given = ch.flags & KD_RCHAN_CF_PROOF;
		bool right;

		kd_rchan__proof(l->key, sh.nonce, ch.nonce, l->service, proof);
		right = given &&
			CRYPTO_memcmp(proof, ch.proof, sizeof(proof)) == 0;
		left = throttle_attempt(l, addr, right, &failures, &whose);
		if (left > 0) {
			snprintf(
				why, sizeof(why),
				"too many failed passwords%s; try again in %d s",
				whose, left);
			(void)send_verdict(c, KD_RCHAN_THROTTLED, why, NULL,
					   deadline);
			return kd_error_set(
				KD_EAUTH, KD_ERRCLASS_SERVER,
				"%s: refused after %u failed passwords%s (throttled for %d s more)",
				who, failures, whose, left);
		}
		if (!right) {
			(void)send_verdict(
				c, KD_RCHAN_DENIED,
				given ? "wrong password (0x80004005)" :
					"this server requires a password (0x80004005)",
				NULL, deadline);
			return kd_error_set(
				KD_EAUTH, KD_ERRCLASS_SERVER, "%s: %s", who,
				given ? "wrong password" : "no password given");
		}
		kd_rchan__proof(l->key, ch.nonce, sh.nonce, l->service, proof);
		rc = send_verdict(c, KD_RCHAN_OK, "", proof, deadline);
	} else {
		rc = send_verdict(c, KD_RCHAN_OK, "", NULL, deadline);
	}
	return rc;
}

/* Client side of the handshake on connected @p c; @p where names it. */
static int client_handshake(struct kd_rchan *c, const char *where,
			    const char *service, const char *password,
			    int64_t deadline)
{
	struct kd_rchan_shello sh;
	struct kd_rchan_chello ch;
	struct kd_rchan_verdict v;
	uint8_t buf[KD_RCHAN_HS_MAX];
	uint8_t key[32], proof[KD_RCHAN_PROOF_LEN];
	unsigned int version = 0;
	const char *perr = NULL;
	int diff, rc;
	size_t n = 0;

	rc = hs_recv(c, where, buf, &n, deadline, "server hello");
	if (rc < 0)
		return rc;
	if (kd_rchan_msg_type(buf, n) == KD_RCHAN_T_VERDICT) {
		rc = kd_rchan_parse_verdict(buf, n, &v, &version, &perr);
		if (rc == KD_OK && v.status != KD_RCHAN_OK)
			return kd_error_set(v.status == KD_RCHAN_MISMATCH ?
						    KD_EPROTO :
						    KD_EAUTH,
					    KD_ERRCLASS_PROTO,
					    "%s: refused: %s", where, v.reason);
	}
	rc = kd_rchan_parse_shello(buf, n, &sh, &version, &perr);
	if (rc == KD_ENOTSUP)
		return kd_error_set(
			KD_EPROTO, KD_ERRCLASS_PROTO,
			"%s: remote channel version %u, this client speaks %u",
			where, version, KD_RCHAN_VERSION);
	if (rc < 0)
		return kd_error_set(KD_EPROTO, KD_ERRCLASS_PROTO, "%s: %s",
				    where, perr);
	memset(&ch, 0, sizeof(ch));
	snprintf(ch.service, sizeof(ch.service), "%s", service);
	own_identity(ch.identity, sizeof(ch.identity));
	if (RAND_bytes(ch.nonce, sizeof(ch.nonce)) != 1)
		return kd_error_set(KD_ERROR, KD_ERRCLASS_CRYPTO,
				    "no random numbers for the challenge");
	if (password) {
		kd_rchan__key(password, key);
		kd_rchan__proof(key, sh.nonce, ch.nonce, service, ch.proof);
		ch.flags = KD_RCHAN_CF_PROOF;
	}
	n = kd_rchan_enc_chello(buf, sizeof(buf), &ch);
	rc = n ? send_frame(c, buf, n, deadline) : KD_EINVAL;
	if (rc < 0)
		goto out;
	diff = service_diff(service, sh.service);
	if (diff) {
		char mine[64], theirs[64];

		/* Let the server log it too; our words are the clearer. */
		(void)hs_recv(c, where, buf, &n, deadline, "verdict");
		service_words(service, mine, sizeof(mine));
		service_words(sh.service, theirs, sizeof(theirs));
		if (diff == 1)
			rc = kd_error_set(KD_EPROTO, KD_ERRCLASS_PROTO,
					  "%s: that is %s, not %s", where,
					  theirs, mine);
		else
			rc = kd_error_set(
				KD_EPROTO, KD_ERRCLASS_PROTO,
				"%s: protocol version %s, this client speaks %s",
				where, service_major(sh.service),
				service_major(service));
		goto out;
	}
	rc = hs_recv(c, where, buf, &n, deadline, "verdict");
	if (rc < 0)
		goto out;
	rc = kd_rchan_parse_verdict(buf, n, &v, &version, &perr);
	if (rc < 0) {
		rc = kd_error_set(KD_EPROTO, KD_ERRCLASS_PROTO, "%s: %s", where,
				  perr ? perr : "bad verdict");
		goto out;
	}
	if (v.status != KD_RCHAN_OK) {
		rc = kd_error_set(v.status == KD_RCHAN_MISMATCH ? KD_EPROTO :
								  KD_EAUTH,
				  KD_ERRCLASS_PROTO, "%s: %s", where, v.reason);
		goto out;
	}
	if (sh.flags & KD_RCHAN_SF_PASSWORD) {
		kd_rchan__proof(key, ch.nonce, sh.nonce, service, proof);
		if (!(v.flags & KD_RCHAN_VF_PROOF) ||
		    CRYPTO_memcmp(proof, v.proof, sizeof(proof)) != 0) {
			rc = kd_error_set(
				KD_EAUTH, KD_ERRCLASS_PROTO,
				"%s: the server did not prove it knows the password",
				where);
			goto out;
		}
	}
	rc = KD_OK;
out:
	kd_wipe(key, sizeof(key));
	return rc;
}

/* ------------------------------------------------------------------ */
/* Listener                                                            */
/* ------------------------------------------------------------------ */

int kd_rlisten(struct kd_rlistener **out, const char *spec, const char *service)
{
	struct kd_rlistener *l = NULL;
	struct rspec s;
	int rc;

	*out = NULL;
	rc = parse_spec(&s, spec, true);
	if (rc < 0)
		goto fail;
	if (!service || !service[0] || strlen(service) > KD_RCHAN_SERVICE_MAX ||
	    !printable(service, strlen(service))) {
		rc = spec_err(&s, KD_EINVAL, "bad service name");
		goto fail;
	}
	l = kd_calloc(1, sizeof(*l));
	if (!l) {
		rc = KD_ENOMEM;
		goto fail;
	}
	l->fd = -1;
	l->block_ms = THROTTLE_FIRST_MS;
	pthread_mutex_init(&l->lock, NULL);
	l->tls = s.tls;
	l->hidden = s.hidden;
	l->range = s.range;
	l->port = s.port;
	l->port_hi = s.port_hi;
	l->family = s.family;
	if (!s.bind)
		snprintf(l->bound, sizeof(l->bound), "%s",
			 s.family == AF_INET6 ? "::1" : "127.0.0.1");
	else if (strcmp(s.bind, "*") != 0)
		snprintf(l->bound, sizeof(l->bound), "%s", s.bind);
	snprintf(l->service, sizeof(l->service), "%s", service);
	if (s.password) {
		l->has_password = true;
		kd_rchan__key(s.password, l->key);
	}
	if (s.tls) {
		rc = tls_server_ctx(&s, &l->ctx);
		if (rc < 0)
			goto fail;
	}
	if (s.clicon) {
		l->clicon = kd_strdup(s.clicon);
		if (!l->clicon) {
			rc = KD_ENOMEM;
			goto fail;
		}
	} else {
		rc = listen_range(&s, &l->port);
		if (rc < 0)
			goto fail;
		l->fd = rc;
	}
	kd_params_free(s.params);
	*out = l;
	return KD_OK;
fail:
	kd_params_free(s.params);
	kd_rlistener_close(l);
	return rc;
}

void kd_rlistener_close(struct kd_rlistener *l)
{
	if (!l)
		return;
	if (l->fd >= 0)
		close(l->fd);
	SSL_CTX_free(l->ctx);
	kd_free(l->clicon);
	kd_wipe(l->key, sizeof(l->key));
	pthread_mutex_destroy(&l->lock);
	kd_free(l);
}

void kd_rlistener_stop_listening(struct kd_rlistener *l)
{
	if (l && l->fd >= 0) {
		close(l->fd);
		l->fd = -1;
	}
	if (l)
		l->clicon_done = true; /* a clicon server dials no more */
}

int kd_rlistener_fd(const struct kd_rlistener *l)
{
	return l ? l->fd : -1;
}

unsigned int kd_rlistener_port(const struct kd_rlistener *l)
{
	return l ? l->port : 0;
}

bool kd_rlistener_hidden(const struct kd_rlistener *l)
{
	return l && l->hidden;
}

void kd_rlistener_set_throttle_ms(struct kd_rlistener *l, unsigned int first_ms)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	l->block_ms = first_ms ? first_ms : THROTTLE_FIRST_MS;
	pthread_mutex_unlock(&l->lock);
}

size_t kd_rlistener_describe(const struct kd_rlistener *l, const char *host,
			     char *buf, size_t cap)
{
	char port[16];
	int n;

	if (!buf || cap == 0)
		return 0;
	buf[0] = '\0';
	if (!l)
		return 0;
	if (l->range)
		snprintf(port, sizeof(port), "%u:%u", l->port, l->port_hi);
	else
		snprintf(port, sizeof(port), "%u", l->port);
	if (l->clicon)
		n = snprintf(buf, cap, "%s:Clicon=%s,Port=%s%s",
			     l->tls ? "ssl" : "tcp", host ? host : "", port,
			     l->has_password ? ",Password=*" : "");
	else
		n = snprintf(buf, cap, "%s:Port=%s,Server=%s%s",
			     l->tls ? "ssl" : "tcp", port,
			     l->bound[0] ? l->bound :
			     host	 ? host :
					   "",
			     l->has_password ? ",Password=*" : "");
	if (n < 0)
		return 0;
	return (size_t)n < cap ? (size_t)n : cap - 1;
}

/* Clicon: dial the waiting client, retrying refusals until the timeout. */
static int clicon_dial(struct kd_rlistener *l, int timeout_ms)
{
	int64_t deadline = kd_deadline_ms(timeout_ms);

	if (l->clicon_done)
		return kd_error_set(
			KD_EDISCONNECTED, KD_ERRCLASS_TRANSPORT,
			"clicon=%s,port=%u: a clicon server dials its client once",
			l->clicon, l->port);
	for (;;) {
		int left = kd_deadline_left_ms(deadline);
		int fd = dial(l->clicon, l->port, l->family,
			      left < 0 || left > 2000 ? 2000 : left);

		if (fd >= 0) {
			l->clicon_done = true;
			return fd;
		}
		if (fd != KD_EDISCONNECTED && fd != KD_ETIMEOUT)
			return fd;
		left = kd_deadline_left_ms(deadline);
		if (left == 0)
			return KD_ETIMEOUT;
		usleep((useconds_t)(left < 0 || left > 200 ? 200 : left) *
		       1000);
	}
}

int kd_raccept_conn(struct kd_rlistener *l, struct kd_rchan **out,
		    int timeout_ms)
{
	struct kd_rchan *c;
	int fd;

	*out = NULL;
	if (!l)
		return KD_EINVAL;
	if (l->clicon)
		fd = clicon_dial(l, timeout_ms);
	else
		fd = accept_one(l->fd, timeout_ms, NULL);
	if (fd < 0)
		return fd;
	c = chan_new(fd);
	if (!c) {
		close(fd);
		return KD_ENOMEM;
	}
	pend_add(l, c);
	if (c->refused) {
		/* No thread need start for it: say so now, for the log. */
		unsigned int n = pend_count(l);
		char peer[sizeof(c->peer)];

		snprintf(peer, sizeof(peer), "%s", c->peer);
		kd_rchan_close(c);
		return kd_error_set(
			KD_EPROTO, KD_ERRCLASS_SERVER,
			"%s: refused: %u handshakes in progress (at most %u, %u per address), none silent past its %d ms to answer",
			peer, n, PENDING_MAX, PENDING_PER_ADDR,
			kd_rchan__handshake_ms / HELLO_WINDOW_DIV);
	}
	*out = c;
	return KD_OK;
}

int kd_rchan_handshake(struct kd_rlistener *l, struct kd_rchan *c)
{
	int rc;

	if (!l || !c)
		return KD_EINVAL;
	rc = server_handshake(l, c);
	if (pend_done(c)) {
		unsigned int n = pend_count(l);

		return kd_error_set(
			KD_EPROTO, KD_ERRCLASS_SERVER,
			"%s: handshake cut to make room (%u others in progress, at most %u per address)",
			c->peer, n, PENDING_PER_ADDR);
	}
	if (rc == KD_ETIMEOUT) {
		char msg[sizeof(kd_error_last()->message)];

		/* A silent peer is worth logging, unlike nobody coming. */
		snprintf(msg, sizeof(msg), "%s", kd_error_last()->message);
		rc = kd_error_set(KD_EPROTO, KD_ERRCLASS_SERVER, "%s", msg);
	}
	return rc;
}

int kd_raccept(struct kd_rlistener *l, struct kd_rchan **out, int timeout_ms)
{
	struct kd_rchan *c;
	int rc;

	rc = kd_raccept_conn(l, &c, timeout_ms);
	if (rc < 0)
		return rc;
	rc = kd_rchan_handshake(l, c);
	if (rc < 0) {
		char msg[sizeof(kd_error_last()->message)];

		/* Closing must not overwrite the reason for the log. */
		snprintf(msg, sizeof(msg), "%s", kd_error_last()->message);
		kd_rchan_close(c);
		kd_error_set(rc, KD_ERRCLASS_SERVER, "%s", msg);
		return rc;
	}
	*out = c;
	return KD_OK;
}

/* ------------------------------------------------------------------ */
/* Client                                                              */
/* ------------------------------------------------------------------ */

/*
 * Clicon client: listen on the port(s) and take the call of the server
 * named by clicon= (others are hung up on).
 */
static int clicon_wait(struct rspec *s, int timeout_ms)
{
	unsigned int got = 0;
	int lfd = listen_range(s, &got);
	int fd;

	if (lfd < 0)
		return lfd;
	fd = accept_one(lfd, timeout_ms, s->clicon);
	close(lfd);
	if (fd == KD_ETIMEOUT)
		return spec_err(s, KD_ETIMEOUT,
				"the server did not call within %d ms",
				timeout_ms);
	return fd;
}

int kd_rconnect(struct kd_rchan **out, const char *spec, const char *service,
		int timeout_ms)
{
	int64_t deadline = kd_deadline_ms(timeout_ms);
	int64_t hs_deadline;
	struct kd_rchan *c = NULL;
	SSL_CTX *ctx = NULL;
	struct rspec s;
	char where[SPEC_SHOW_MAX];
	int fd, rc;

	*out = NULL;
	rc = parse_spec(&s, spec, false);
	if (rc < 0)
		goto fail;
	if (!service || !service[0] || strlen(service) > KD_RCHAN_SERVICE_MAX ||
	    !printable(service, strlen(service))) {
		rc = spec_err(&s, KD_EINVAL, "bad service name");
		goto fail;
	}
	if (s.server)
		snprintf(where, sizeof(where), "%s:server=%s,port=%u",
			 s.tls ? "ssl" : "tcp", s.server, s.port);
	else
		snprintf(where, sizeof(where), "%s:clicon=%s,port=%u",
			 s.tls ? "ssl" : "tcp", s.clicon, s.port);
	if (s.tls) {
		rc = tls_client_ctx(&s, &ctx);
		if (rc < 0)
			goto fail;
	}
	if (s.server) {
		fd = dial(s.server, s.port, s.family, timeout_ms);
		if (fd < 0) {
			char msg[256];

			snprintf(msg, sizeof(msg), "%s",
				 kd_error_last()->message);
			rc = kd_error_set(fd, KD_ERRCLASS_TRANSPORT, "%s: %s",
					  where, msg);
			goto fail;
		}
	} else {
		fd = clicon_wait(&s, timeout_ms);
		if (fd < 0) {
			rc = fd;
			goto fail;
		}
	}
	c = chan_new(fd);
	if (!c) {
		close(fd);
		rc = KD_ENOMEM;
		goto fail;
	}
	hs_deadline = (int64_t)kd_mono_ms() + kd_rchan__handshake_ms;
	if (deadline >= 0 && deadline < hs_deadline)
		hs_deadline = deadline;
	if (ctx) {
		rc = tls_handshake(c, where, ctx,
				   s.server ? s.server : s.clicon, hs_deadline);
		c->ctx = ctx;
		ctx = NULL;
		if (rc < 0)
			goto fail;
	}
	rc = client_handshake(c, where, service, s.password, hs_deadline);
	if (rc < 0)
		goto fail;
	kd_params_free(s.params);
	*out = c;
	return KD_OK;
fail : {
	char msg[sizeof(kd_error_last()->message)];
	int code = kd_error_last()->code;
	enum kd_error_class k = kd_error_last()->klass;

	snprintf(msg, sizeof(msg), "%s", kd_error_last()->message);
	kd_rchan_close(c);
	SSL_CTX_free(ctx);
	kd_params_free(s.params);
	if (code == rc)
		kd_error_set(rc, k, "%s", msg);
}
	return rc;
}
