/* SPDX-License-Identifier: MIT */
/*
 * net: KDNET over UDP (IPv4 and IPv6).  One KD packet per send()/recv(); the
 * MDBG envelope, sequence numbers, the OFFER/RESPONSE handshake and the ping
 * stay inside the driver.  Host role by default, `role=target` for kdsim.
 */
#include "transport_int.h"

#include "net_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <kd/alloc.h>
#include <kd/error.h>
#include <kd/net_crypto.h>

/*
 * Choices where the public facts stop (kd-protocol.md §3, §8):
 * - Options: port= (host: local port, 0 = ephemeral; target: the host's),
 *   key=, target=HOST (host pokes first), hostip= (host: bind address;
 *   target: the debugger), role=host|target, offer_ms= (target, default
 *   3000), localport= (target, default ephemeral), auth_ms= (wrong-key
 *   bound, default 10000), nonce=<64 hex> (host, tests only: fixed
 *   debugger nonce so a capture's data key can be reproduced).
 * - What Windows' debugger sends with target= is not public.  openkd sends a
 *   "poke" every 0.5 s until a session exists: a control datagram, direction
 *   bit set, payload {0x01, 0x00}.  openkd's target role answers it with an
 *   OFFER at once; whether a Windows target does is unknown, so a Windows
 *   target must still be configured to offer to this host.  Datagrams then
 *   count only from that address (others: stats.foreign).
 * - Replays: data datagrams whose sequence is not above the last accepted
 *   one, and OFFERs whose nonce was already answered (last 8 kept), are
 *   dropped and counted.  Control sequence numbers are not checked.
 * - Any new authentic OFFER with a fresh nonce starts a fresh session (the
 *   target rebooted); data sequence numbers restart at 1 on both sides.
 * - Wrong key: after 3 OFFER-sized datagrams (only 1 before the first
 *   session) or 2 or more datagrams over auth_ms fail authentication with
 *   none from the peer's side succeeding, recv() returns KD_EAUTH "N
 *   datagrams from A failed authentication: wrong key?"; send() waiting
 *   for a session says the same instead of "no KDNET target" when any
 *   datagram failed.  IPv4 peers are printed as a.b.c.d:port.
 * - The 12-byte ping is absorbed by the host and counted (stats.pings); the
 *   target role sends it after the RESPONSE with the host's IPv4 address
 *   (0 for IPv6).  A break-in (0x62) reaches the target role's recv() as a
 *   one-byte datagram.
 * - kd_transport_net_reboot() (target role): session forgotten, OFFER and
 *   data sequence numbers restart at 1, as after a real reboot.
 */
#define NET_DEFAULT_OFFER_MS 3000 /* Windows offers every ~3 s (§3.1) */
#define NET_POKE_MS 500		  /* target=HOST: host pokes every ~0.5 s */
#define NET_AUTH_MS 10000	  /* wrong key reported after this long */
#define NET_AUTH_OFFERS 3	  /* ... or after this many OFFER-sized */
#define NET_CONNECT_MS 10000	  /* send() waits this long for a session */
#define NET_RECENT_NONCES 8
#define NET_RX_CAP (KD_NET_MAX_DATAGRAM + 1)
#define NET_ADDR_STR 64
#define NET_POKE_TYPE 0x00 /* openkd's own "please offer now" */

static const struct kd_param_spec net_keys[] = {
	{ "port", KD_PARAM_VALUE },    { "key", KD_PARAM_VALUE },
	{ "target", KD_PARAM_VALUE },  { "hostip", KD_PARAM_VALUE },
	{ "role", KD_PARAM_VALUE },    { "offer_ms", KD_PARAM_VALUE },
	{ "nonce", KD_PARAM_VALUE },   { "localport", KD_PARAM_VALUE },
	{ "auth_ms", KD_PARAM_VALUE }, { NULL, 0 },
};

static const char *const role_names[] = { "host", "target", NULL };

struct kd_net_drv {
	struct kd_transport *t; /* NULL when socketless */
	int fd;
	uint16_t local_port;
	bool target_role;
	struct kd_net_session *s;
	uint8_t version; /* version byte we send */
	/* the peer: learnt from the OFFER (host) or configured (target) */
	struct sockaddr_storage peer;
	socklen_t peer_len;
	bool have_peer;
	bool fixed_peer; /* target= (host) / hostip= (target) */
	bool up;	 /* data key installed for the current session */
	uint64_t tx_seq; /* next data-channel sequence to send */
	uint64_t rx_seq; /* last data-channel sequence accepted */
	uint8_t recent[NET_RECENT_NONCES][KD_NET_NONCE_SIZE];
	size_t n_recent;
	bool have_nonce; /* nonce= (tests) */
	uint8_t nonce[KD_NET_NONCE_SIZE];
	/* target role */
	uint32_t offer_ms;
	int64_t next_offer; /* also the host's next poke */
	uint64_t ctrl_seq;  /* sequence of our last OFFER */
	uint8_t my_nonce[KD_NET_NONCE_SIZE];
	uint32_t host_ipv4; /* for the ping, 0 for IPv6 */
	/* wrong-key detection */
	uint32_t auth_ms;
	uint64_t bad_run;    /* failures since the last good datagram */
	uint64_t bad_offers; /* OFFER-sized ones among them */
	int64_t bad_since;
	char bad_from[NET_ADDR_STR];
	struct kd_net_stats st;
	/*
	 * wire tap: our address towards the last peer looked up.  send() and
	 * recv() may run in two threads at once, so the cache has a lock.
	 */
	pthread_mutex_t tap_lock;
	bool have_tap_lock;
	struct sockaddr_storage tap_peer;
	struct kd_wire_addr tap_local;
	bool have_tap_local;
	uint8_t rx[NET_RX_CAP];
	uint8_t plain[KD_NET_MAX_DATAGRAM];
	uint8_t tx[KD_NET_MAX_DATAGRAM];
};

/* --- helpers --- */

static int net_map_error(int err, const char *what)
{
	int code = KD_ERROR;

	if (err == ECONNREFUSED || err == ENETUNREACH || err == EHOSTUNREACH)
		code = KD_EDISCONNECTED;
	else if (err == EADDRINUSE)
		code = KD_EBUSY;
	else if (err == ENOMEM || err == ENOBUFS)
		code = KD_ENOMEM;
	return kd_error_set_os(code, err, "net: %s", what);
}

static void addr_str(const struct sockaddr *sa, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned int port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		port = ntohs(in->sin_port);
		snprintf(buf, cap, "%s:%u", ip, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		port = ntohs(in6->sin6_port);
		/* The dual-stack socket sees IPv4 peers as ::ffff:a.b.c.d;
		 * print them the way the user typed them. */
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], ip,
				  sizeof(ip));
			snprintf(buf, cap, "%s:%u", ip, port);
			return;
		}
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, cap, "[%s]:%u", ip, port);
	} else {
		snprintf(buf, cap, "(unknown address)");
	}
}

/* IPv6-form address and port of @p sa (IPv4 as ::ffff:a.b.c.d). */
static void to_kd_addr(const struct sockaddr *sa, struct kd_net_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		a->ip[10] = 0xff;
		a->ip[11] = 0xff;
		memcpy(a->ip + 12, &in->sin_addr, 4);
		a->port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		memcpy(a->ip, &in6->sin6_addr, 16);
		a->port = ntohs(in6->sin6_port);
	}
}

/* Same host and port; an IPv4 address equals its ::ffff: mapped form. */
static bool same_addr(const struct sockaddr *x, const struct sockaddr *y)
{
	struct kd_net_addr a, b;

	to_kd_addr(x, &a);
	to_kd_addr(y, &b);
	return x->sa_family != AF_UNSPEC && y->sa_family != AF_UNSPEC &&
	       a.port == b.port && memcmp(a.ip, b.ip, 16) == 0;
}

static int hex_nonce(const char *s, uint8_t out[KD_NET_NONCE_SIZE])
{
	if (strlen(s) != 2 * KD_NET_NONCE_SIZE)
		goto bad;
	for (size_t i = 0; i < 2 * KD_NET_NONCE_SIZE; i++) {
		char c = s[i];
		int v;

		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			goto bad;
		if (i % 2 == 0)
			out[i / 2] = (uint8_t)(v << 4);
		else
			out[i / 2] |= (uint8_t)v;
	}
	return KD_OK;
bad:
	return kd_error_set(KD_EINVAL, KD_ERRCLASS_TRANSPORT,
			    "value for 'nonce' must be %d hex digits",
			    2 * KD_NET_NONCE_SIZE);
}

/* --- wire tap --- */

static void wire_addr(const struct sockaddr *sa, struct kd_wire_addr *w)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0,    0,
					    0, 0, 0, 0, 0xff, 0xff };
	struct kd_net_addr a;

	memset(w, 0, sizeof(*w));
	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
		return;
	to_kd_addr(sa, &a);
	w->port = a.port;
	if (memcmp(a.ip, mapped, sizeof(mapped)) == 0) {
		w->family = 4;
		memcpy(w->ip, a.ip + 12, 4);
	} else {
		w->family = 6;
		memcpy(w->ip, a.ip, 16);
	}
}

static bool wire_addr_unspecified(const struct kd_wire_addr *w)
{
	static const uint8_t zero[16];

	return memcmp(w->ip, zero, w->family == 4 ? 4 : 16) == 0;
}

/*
 * This end's address towards @p peer as it appears on the wire: the bound
 * one, or, bound to the wildcard, the source address the kernel's route to
 * the peer picks (a connected scratch socket tells it without sending).
 * Remembered for the last peer: the tap runs once per datagram.
 */
static void tap_local_for(struct kd_net_drv *d, const struct sockaddr *peer,
			  socklen_t peer_len, struct kd_wire_addr *out)
{
	struct sockaddr_storage self = { 0 };
	socklen_t len = sizeof(self);
	int fd;

	if (d->have_tap_local &&
	    same_addr(peer, (const struct sockaddr *)&d->tap_peer)) {
		*out = d->tap_local;
		return;
	}
	memset(out, 0, sizeof(*out));
	if (getsockname(d->fd, (struct sockaddr *)&self, &len) < 0)
		return;
	wire_addr((struct sockaddr *)&self, out);
	if (wire_addr_unspecified(out)) {
		fd = socket(peer->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		len = sizeof(self);
		if (fd >= 0 && connect(fd, peer, peer_len) == 0 &&
		    getsockname(fd, (struct sockaddr *)&self, &len) == 0) {
			struct kd_wire_addr r;

			wire_addr((struct sockaddr *)&self, &r);
			out->family = r.family;
			memcpy(out->ip, r.ip, sizeof(out->ip));
		}
		if (fd >= 0)
			close(fd);
	}
	if (peer_len <= sizeof(d->tap_peer)) {
		memcpy(&d->tap_peer, peer, peer_len);
		d->tap_local = *out;
		d->have_tap_local = true;
	}
}

/* Show one datagram to the tap above (KD_TRANSPORT_CAP_WIRETAP). */
static void tap(struct kd_net_drv *d, bool outbound, const uint8_t *buf,
		size_t len, const struct sockaddr *peer, socklen_t peer_len)
{
	struct kd_wire_datagram dg;
	struct kd_wire_addr self, other;

	if (!d->t || !d->t->tap || !peer || !d->have_tap_lock)
		return;
	pthread_mutex_lock(&d->tap_lock);
	tap_local_for(d, peer, peer_len, &self);
	pthread_mutex_unlock(&d->tap_lock);
	wire_addr(peer, &other);
	dg.outbound = outbound;
	dg.src = outbound ? self : other;
	dg.dst = outbound ? other : self;
	dg.data = buf;
	dg.len = len;
	kd_transport_wire_tap(d->t, &dg);
}

/* Send one already encoded datagram to the peer. */
static int send_raw(struct kd_net_drv *d, const uint8_t *buf, size_t len)
{
	ssize_t n;

	if (d->fd < 0 || !d->have_peer) {
		d->st.dgrams_out++; /* socketless (fuzzing): goes nowhere */
		return KD_OK;
	}
	do {
		n = sendto(d->fd, buf, len, 0,
			   (const struct sockaddr *)&d->peer, d->peer_len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return net_map_error(errno, "sendto");
	if ((size_t)n != len)
		return kd_error_set(KD_ERROR, KD_ERRCLASS_TRANSPORT,
				    "net: short datagram sent (%zd of %zu)", n,
				    len);
	d->st.dgrams_out++;
	tap(d, true, buf, len, (const struct sockaddr *)&d->peer, d->peer_len);
	return KD_OK;
}

static int send_frame(struct kd_net_drv *d, uint8_t channel, uint64_t seq,
		      const uint8_t *payload, size_t len)
{
	struct kd_net_frame f;
	size_t out_len = 0;
	int rc;

	memset(&f, 0, sizeof(f));
	f.version = d->version;
	f.channel = channel;
	f.from_debugger = !d->target_role;
	f.seq = seq;
	f.payload = payload;
	f.payload_len = len;
	rc = kd_net_session_encode(d->s, &f, d->tx, sizeof(d->tx), &out_len);
	if (rc < 0)
		return rc;
	return send_raw(d, d->tx, out_len);
}

/* Tell the core the UDP ports once the peer is known (pcap uses them). */
static void note_ports(struct kd_net_drv *d)
{
	struct kd_net_addr a;

	if (!d->t || !d->have_peer)
		return;
	to_kd_addr((struct sockaddr *)&d->peer, &a);
	if (d->target_role)
		kd_transport_set_udp_ports(d->t, a.port, d->local_port);
	else
		kd_transport_set_udp_ports(d->t, d->local_port, a.port);
}

/* --- handshake --- */

static bool nonce_seen(const struct kd_net_drv *d, const uint8_t *nonce)
{
	for (size_t i = 0; i < d->n_recent; i++) {
		if (memcmp(d->recent[i], nonce, KD_NET_NONCE_SIZE) == 0)
			return true;
	}
	return false;
}

static void nonce_remember(struct kd_net_drv *d, const uint8_t *nonce)
{
	if (d->n_recent == NET_RECENT_NONCES) {
		memmove(d->recent[0], d->recent[1],
			sizeof(d->recent) - sizeof(d->recent[0]));
		d->n_recent--;
	}
	memcpy(d->recent[d->n_recent++], nonce, KD_NET_NONCE_SIZE);
}

/*
 * Host: answer an OFFER with a RESPONSE carrying the same sequence number
 * and start a fresh session with the data key derived from it.
 */
static int host_respond(struct kd_net_drv *d, const struct kd_net_frame *f,
			const struct kd_net_offer *o,
			const struct sockaddr *from, socklen_t fromlen)
{
	uint8_t payload[KD_NET_RESPONSE_PAYLOAD_SIZE];
	struct kd_net_response r;
	size_t plen = 0;
	int rc;

	memset(&r, 0, sizeof(r));
	r.format = KD_NET_CTRL_FORMAT;
	memcpy(r.target_nonce, o->nonce, KD_NET_NONCE_SIZE);
	if (d->have_nonce)
		memcpy(r.debugger_nonce, d->nonce, KD_NET_NONCE_SIZE);
	else if (kd_net_random(r.debugger_nonce, KD_NET_NONCE_SIZE) < 0)
		return KD_ERROR;
	rc = kd_net_response_build(&r, payload, sizeof(payload), &plen);
	if (rc == KD_OK) {
		if (from && fromlen <= sizeof(d->peer)) {
			memcpy(&d->peer, from, fromlen);
			d->peer_len = fromlen;
			d->have_peer = true;
		}
		d->version = f->version;
		rc = send_frame(d, KD_NET_CHANNEL_CONTROL, f->seq, payload,
				plen);
	}
	if (rc == KD_OK)
		rc = kd_net_session_accept_response(d->s, payload, plen);
	kd_net_wipe(payload, sizeof(payload));
	kd_net_wipe(&r, sizeof(r));
	if (rc < 0)
		return rc;
	nonce_remember(d, o->nonce);
	d->up = true;
	d->tx_seq = 1;
	d->rx_seq = 0;
	d->st.sessions++;
	return KD_OK;
}

/* Target: send a new OFFER (fresh nonce) and schedule the next one. */
static int target_offer(struct kd_net_drv *d)
{
	uint8_t payload[KD_NET_OFFER_PAYLOAD_SIZE];
	struct sockaddr_storage self = { 0 };
	socklen_t self_len = sizeof(self);
	struct kd_net_offer o;
	size_t plen = 0;
	int rc;

	memset(&o, 0, sizeof(o));
	o.format = KD_NET_CTRL_FORMAT;
	rc = kd_net_random(o.nonce, sizeof(o.nonce));
	if (rc < 0)
		return rc;
	memcpy(d->my_nonce, o.nonce, sizeof(o.nonce));
	o.have_addrs = true;
	if (d->fd >= 0 &&
	    getsockname(d->fd, (struct sockaddr *)&self, &self_len) == 0)
		to_kd_addr((struct sockaddr *)&self, &o.target);
	if (d->have_peer)
		to_kd_addr((struct sockaddr *)&d->peer, &o.debugger);
	rc = kd_net_offer_build(&o, payload, sizeof(payload), &plen);
	d->ctrl_seq++;
	if (rc == KD_OK)
		rc = send_frame(d, KD_NET_CHANNEL_CONTROL, d->ctrl_seq, payload,
				plen);
	d->next_offer = kd_transport__now_ms() + d->offer_ms;
	if (rc == KD_OK)
		d->st.offers++;
	return rc;
}

/* Host with target=: ask the target to offer (openkd's own message). */
static int host_poke(struct kd_net_drv *d)
{
	static const uint8_t poke[2] = { KD_NET_CTRL_FORMAT, NET_POKE_TYPE };

	d->next_offer = kd_transport__now_ms() + NET_POKE_MS;
	d->ctrl_seq++;
	return send_frame(d, KD_NET_CHANNEL_CONTROL, d->ctrl_seq, poke,
			  sizeof(poke));
}

/* Target: a RESPONSE to our current OFFER starts the session. */
static int target_accept(struct kd_net_drv *d, const struct kd_net_frame *f)
{
	struct kd_net_response r;
	uint8_t ping[KD_NET_PING_SIZE];
	int rc;

	if (kd_net_response_parse(f->payload, f->payload_len, &r) != 0) {
		d->st.malformed++;
		return 0;
	}
	if (d->up || f->seq != d->ctrl_seq ||
	    memcmp(r.target_nonce, d->my_nonce, KD_NET_NONCE_SIZE) != 0) {
		/* An answer to an older OFFER, or a repeated one. */
		d->st.replays++;
		kd_net_wipe(&r, sizeof(r));
		return 0;
	}
	kd_net_wipe(&r, sizeof(r));
	rc = kd_net_session_accept_response(d->s, f->payload, f->payload_len);
	if (rc < 0)
		return rc;
	d->up = true;
	d->tx_seq = 1;
	d->rx_seq = 0;
	d->st.sessions++;
	/* Data sequence numbers start at 1 after the handshake (§3.5). */
	kd_net_ping_build(d->host_ipv4, ping);
	rc = send_frame(d, KD_NET_CHANNEL_DATA, d->tx_seq, ping, sizeof(ping));
	if (rc == KD_OK)
		d->tx_seq++;
	return rc;
}

/* --- per-datagram input --- */

static void note_bad_auth(struct kd_net_drv *d, const uint8_t *dg, size_t len,
			  const struct sockaddr *from)
{
	d->st.auth_failures++;
	if (d->bad_run == 0)
		d->bad_since = kd_transport__now_ms();
	d->bad_run++;
	/* OFFER-sized: a control datagram of the Windows or the short form. */
	if (dg[5] == KD_NET_CHANNEL_CONTROL &&
	    (len == kd_net_encoded_size(KD_NET_OFFER_PAYLOAD_SIZE) ||
	     len == kd_net_encoded_size(KD_NET_RESPONSE_PAYLOAD_SIZE)))
		d->bad_offers++;
	if (from)
		addr_str(from, d->bad_from, sizeof(d->bad_from));
	else
		snprintf(d->bad_from, sizeof(d->bad_from), "(no address)");
}

static int input_control(struct kd_net_drv *d, const struct kd_net_frame *f,
			 const struct sockaddr *from, socklen_t fromlen)
{
	int type = kd_net_control_type(f->payload, f->payload_len);
	struct kd_net_offer o;

	if (d->target_role) {
		if (type == KD_NET_CTRL_RESPONSE)
			return target_accept(d, f);
		if (type == NET_POKE_TYPE && f->payload_len >= 2 &&
		    f->payload[0] == KD_NET_CTRL_FORMAT) {
			d->st.pokes++;
			if (!d->up)
				return target_offer(d);
			return 0;
		}
		d->st.malformed++;
		return 0;
	}
	if (type != KD_NET_CTRL_OFFER ||
	    kd_net_offer_parse(f->payload, f->payload_len, &o) != 0) {
		d->st.malformed++;
		return 0;
	}
	if (d->fixed_peer && from && !same_addr(from, (void *)&d->peer)) {
		d->st.foreign++;
		return 0;
	}
	if (nonce_seen(d, o.nonce)) {
		d->st.replays++;
		return 0;
	}
	d->st.offers++;
	return host_respond(d, f, &o, from, fromlen);
}

int kd_net__input(struct kd_net_drv *d, const uint8_t *dg, size_t len,
		  const struct sockaddr *from, socklen_t fromlen, uint8_t *out,
		  size_t cap, size_t *out_len)
{
	struct kd_net_frame f;
	int rc;

	*out_len = 0;
	d->st.dgrams_in++;
	if (len > KD_NET_MAX_DATAGRAM || len < KD_NET_HEADER_SIZE) {
		d->st.malformed++;
		return 0;
	}
	/* Data before any handshake: no key to check it with. */
	if (dg[5] == KD_NET_CHANNEL_DATA && !d->up &&
	    memcmp(dg, KD_NET_MAGIC, KD_NET_MAGIC_SIZE) == 0) {
		d->st.no_session++;
		return 0;
	}
	rc = kd_net_decode(kd_net_session_codec(d->s), dg, len, d->plain,
			   sizeof(d->plain), &f);
	if (rc == KD_EAUTH) {
		note_bad_auth(d, dg, len, from);
		return 0;
	}
	if (rc < 0) {
		d->st.malformed++;
		return 0;
	}
	if (f.from_debugger == !d->target_role) {
		/* Our own direction: reflected or looped back.  It says
		 * nothing about the peer's key, so the wrong-key run goes on. */
		d->st.malformed++;
		return 0;
	}
	d->bad_run = 0;
	d->bad_offers = 0;
	if (f.channel == KD_NET_CHANNEL_CONTROL)
		return input_control(d, &f, from, fromlen);
	if (d->have_peer && from && !same_addr(from, (void *)&d->peer)) {
		d->st.foreign++;
		return 0;
	}
	if (f.seq <= d->rx_seq) {
		d->st.replays++;
		return 0;
	}
	d->rx_seq = f.seq;
	if (!d->target_role && kd_net_ping_parse(f.payload, f.payload_len,
						 &(uint32_t){ 0 }) == 0) {
		d->st.pings++;
		return 0;
	}
	if (f.payload_len == 0) {
		d->st.malformed++;
		return 0;
	}
	if (f.payload_len > cap) {
		d->st.kd_in++;
		return kd_error_set(KD_EBUFS, KD_ERRCLASS_TRANSPORT,
				    "net: KD packet of %zu bytes, buffer %zu",
				    f.payload_len, cap);
	}
	memcpy(out, f.payload, f.payload_len);
	*out_len = f.payload_len;
	d->st.kd_in++;
	return 1;
}

/* The one-line wrong-key diagnosis (KD_EAUTH); starts a new run. */
static int wrong_key(struct kd_net_drv *d)
{
	uint64_t n = d->bad_run;

	d->bad_run = 0;
	d->bad_offers = 0;
	return kd_error_set(
		KD_EAUTH, KD_ERRCLASS_CRYPTO,
		"%llu datagram%s from %s failed authentication: wrong key?",
		(unsigned long long)n, n == 1 ? "" : "s", d->bad_from);
}

/* KD_EAUTH once the wrong-key bound is hit, else KD_OK. */
static int check_wrong_key(struct kd_net_drv *d)
{
	int64_t age;
	uint64_t n = d->bad_run;
	/*
	 * Before the first session an OFFER that fails authentication is a
	 * target offering under another key: say so at once, as the attach
	 * bound (10 s by default, often less) holds only one to three OFFERs
	 * at Windows' 3 s period.  Once a session has worked, a reboot with
	 * a new key must repeat itself before the session is given up.
	 */
	uint64_t offers = d->st.sessions ? NET_AUTH_OFFERS : 1;

	if (n == 0)
		return KD_OK;
	age = kd_transport__now_ms() - d->bad_since;
	if (d->bad_offers < offers && !(n >= 2 && age >= (int64_t)d->auth_ms))
		return KD_OK;
	return wrong_key(d);
}

/* Periodic sends while no session: OFFERs (target), pokes (target=). */
static int tick(struct kd_net_drv *d)
{
	if (d->up || kd_transport__now_ms() < d->next_offer)
		return KD_OK;
	if (d->target_role)
		return target_offer(d);
	if (d->fixed_peer)
		return host_poke(d);
	return KD_OK;
}

/*
 * Receive and handle datagrams until a KD packet arrives (1), @p stop_up and
 * a session exists (0), or @p timeout_ms passes (KD_ETIMEOUT).
 */
static int pump(struct kd_net_drv *d, uint8_t *buf, size_t cap, size_t *len_out,
		int timeout_ms, bool stop_up)
{
	int64_t deadline = kd_transport__deadline(timeout_ms);
	unsigned int late = 0;

	for (;;) {
		struct sockaddr_storage from = { 0 };
		socklen_t fromlen = sizeof(from);
		struct pollfd pfd = { d->fd, POLLIN, 0 };
		int wait = kd_transport__left_ms(deadline);
		ssize_t n;
		int rc;

		rc = tick(d);
		if (rc < 0)
			return rc;
		if (stop_up && d->up)
			return 0;
		if (!d->up && (d->target_role || d->fixed_peer)) {
			int64_t left = d->next_offer - kd_transport__now_ms();

			if (left < 0)
				left = 0;
			if (wait < 0 || left < wait)
				wait = (int)left;
		}
		rc = poll(&pfd, 1, wait);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return net_map_error(errno, "poll");
		if (rc == 0) {
			if (kd_transport__left_ms(deadline) == 0)
				return KD_ETIMEOUT;
			continue;
		}
		n = recvfrom(d->fd, d->rx, sizeof(d->rx), MSG_TRUNC,
			     (struct sockaddr *)&from, &fromlen);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			if (errno == ECONNREFUSED) {
				/* ICMP port unreachable: nobody there yet. */
				d->st.unreachable++;
				continue;
			}
			return net_map_error(errno, "recvfrom");
		}
		/* MSG_TRUNC: n is the real size; rx holds one byte more. */
		tap(d, false, d->rx,
		    (size_t)n > sizeof(d->rx) ? sizeof(d->rx) : (size_t)n,
		    (struct sockaddr *)&from, fromlen);
		rc = kd_net__input(
			d, d->rx,
			(size_t)n > sizeof(d->rx) ? sizeof(d->rx) : (size_t)n,
			(struct sockaddr *)&from, fromlen, buf, cap, len_out);
		if (rc != 0)
			return rc;
		note_ports(d);
		rc = check_wrong_key(d);
		if (rc < 0)
			return rc;
		/* Past the deadline, drain what is queued, but boundedly. */
		if (kd_transport__left_ms(deadline) == 0 && ++late > 64 &&
		    !(stop_up && d->up))
			return KD_ETIMEOUT;
	}
}

/* --- open --- */

static int resolve(const char *host, uint16_t port, int family,
		   struct sockaddr_storage *out, socklen_t *out_len,
		   const char *what)
{
	struct addrinfo hints, *res = NULL;
	char serv[8];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(serv, sizeof(serv), "%u", (unsigned int)port);
	rc = getaddrinfo(host, serv, &hints, &res);
	if (rc != 0 || !res)
		return kd_error_set(KD_ENOTFOUND, KD_ERRCLASS_TRANSPORT,
				    "net: cannot resolve %s '%s': %s", what,
				    host, gai_strerror(rc));
	memcpy(out, res->ai_addr, res->ai_addrlen);
	*out_len = res->ai_addrlen;
	freeaddrinfo(res);
	return KD_OK;
}

/* An IPv4 address as ::ffff:a.b.c.d for a dual-stack IPv6 socket. */
static void map_v4(struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in in;
	struct sockaddr_in6 in6;

	if (ss->ss_family != AF_INET)
		return;
	memcpy(&in, ss, sizeof(in));
	memset(&in6, 0, sizeof(in6));
	in6.sin6_family = AF_INET6;
	in6.sin6_port = in.sin_port;
	in6.sin6_addr.s6_addr[10] = 0xff;
	in6.sin6_addr.s6_addr[11] = 0xff;
	memcpy(&in6.sin6_addr.s6_addr[12], &in.sin_addr, 4);
	memcpy(ss, &in6, sizeof(in6));
	*len = sizeof(in6);
}

static int bind_socket(struct kd_net_drv *d, const struct sockaddr *sa,
		       socklen_t len, bool dual)
{
	int fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int off = 0;
	char where[NET_ADDR_STR];

	if (fd < 0)
		return net_map_error(errno, "socket");
	if (dual &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) < 0) {
		close(fd);
		return net_map_error(errno, "IPV6_V6ONLY");
	}
	if (bind(fd, sa, len) < 0) {
		int e = errno;

		close(fd);
		addr_str(sa, where, sizeof(where));
		return kd_error_set_os(e == EADDRINUSE ? KD_EBUSY : KD_ERROR, e,
				       "net: cannot bind UDP %s", where);
	}
	d->fd = fd;
	return KD_OK;
}

static int open_host(struct kd_net_drv *d, const struct kd_params *p,
		     uint16_t port)
{
	const char *hostip = kd_params_get(p, "hostip");
	const char *target = kd_params_get(p, "target");
	const char *nonce = kd_params_get(p, "nonce");
	struct sockaddr_storage ss = { 0 };
	socklen_t len = 0;
	int rc;

	if (kd_params_has(p, "offer_ms") || kd_params_has(p, "localport"))
		return kd_error_set(
			KD_EINVAL, KD_ERRCLASS_TRANSPORT,
			"net: 'offer_ms' and 'localport' belong to role=target");
	if (nonce) {
		rc = hex_nonce(nonce, d->nonce);
		if (rc < 0)
			return rc;
		d->have_nonce = true;
	}
	if (hostip) {
		rc = resolve(hostip, port, AF_UNSPEC, &ss, &len, "hostip");
		if (rc == KD_OK)
			rc = bind_socket(d, (struct sockaddr *)&ss, len, false);
	} else {
		struct sockaddr_in6 any6;
		struct sockaddr_in any4;

		memset(&any6, 0, sizeof(any6));
		any6.sin6_family = AF_INET6;
		any6.sin6_addr = in6addr_any;
		any6.sin6_port = htons(port);
		rc = bind_socket(d, (struct sockaddr *)&any6, sizeof(any6),
				 true);
		if (rc < 0 && rc != KD_EBUSY) {
			/* No IPv6 on this machine: IPv4 only. */
			memset(&any4, 0, sizeof(any4));
			any4.sin_family = AF_INET;
			any4.sin_addr.s_addr = htonl(INADDR_ANY);
			any4.sin_port = htons(port);
			rc = bind_socket(d, (struct sockaddr *)&any4,
					 sizeof(any4), false);
		}
	}
	if (rc < 0)
		return rc;
	if (target) {
		struct sockaddr_storage self = { 0 };
		socklen_t self_len = sizeof(self);
		uint16_t tport = port;

		if (getsockname(d->fd, (struct sockaddr *)&self, &self_len) < 0)
			return net_map_error(errno, "getsockname");
		if (tport == 0)
			return kd_error_set(
				KD_EINVAL, KD_ERRCLASS_TRANSPORT,
				"net: 'target=' needs a port other than 0");
		rc = resolve(target, tport,
			     self.ss_family == AF_INET ? AF_INET : AF_UNSPEC,
			     &d->peer, &d->peer_len, "target");
		if (rc < 0)
			return rc;
		if (self.ss_family == AF_INET6)
			map_v4(&d->peer, &d->peer_len);
		d->have_peer = true;
		d->fixed_peer = true;
		d->next_offer = 0; /* poke at once */
	}
	return KD_OK;
}

static int open_target(struct kd_net_drv *d, const struct kd_params *p,
		       uint16_t port)
{
	const char *hostip = kd_params_get(p, "hostip");
	struct sockaddr_storage self = { 0 };
	socklen_t self_len;
	uint32_t localport = 0;
	int rc;

	if (!hostip)
		return kd_error_set(
			KD_EINVAL, KD_ERRCLASS_TRANSPORT,
			"net: role=target needs 'hostip=' (the debugger's address)");
	if (kd_params_has(p, "target") || kd_params_has(p, "nonce"))
		return kd_error_set(
			KD_EINVAL, KD_ERRCLASS_TRANSPORT,
			"net: 'target' and 'nonce' belong to the host role");
	if (port == 0)
		return kd_error_set(
			KD_EINVAL, KD_ERRCLASS_TRANSPORT,
			"net: role=target needs the debugger's 'port='");
	rc = kd_params_get_u32(p, "offer_ms", 10, 60000, NET_DEFAULT_OFFER_MS,
			       &d->offer_ms);
	if (rc == KD_OK)
		rc = kd_params_get_u32(p, "localport", 0, 65535, 0, &localport);
	if (rc == KD_OK)
		rc = resolve(hostip, port, AF_UNSPEC, &d->peer, &d->peer_len,
			     "hostip");
	if (rc < 0)
		return rc;
	d->have_peer = true;
	d->fixed_peer = true;
	if (d->peer.ss_family == AF_INET) {
		struct sockaddr_in in;

		memcpy(&in, &d->peer, sizeof(in));
		d->host_ipv4 = ntohl(in.sin_addr.s_addr);
	}
	memset(&self, 0, sizeof(self));
	self.ss_family = d->peer.ss_family;
	if (self.ss_family == AF_INET) {
		((struct sockaddr_in *)&self)->sin_port = htons(
			(uint16_t)localport);
		self_len = sizeof(struct sockaddr_in);
	} else {
		((struct sockaddr_in6 *)&self)->sin6_port = htons(
			(uint16_t)localport);
		self_len = sizeof(struct sockaddr_in6);
	}
	rc = bind_socket(d, (struct sockaddr *)&self, self_len, false);
	if (rc < 0)
		return rc;
	/* Only the debugger's datagrams, and ICMP errors, reach us. */
	if (connect(d->fd, (struct sockaddr *)&d->peer, d->peer_len) < 0)
		return net_map_error(errno, "connect");
	d->version = KD_NET_VERSION_4;
	return target_offer(d);
}

static int net_open(struct kd_transport *t, const struct kd_params *p)
{
	struct kd_net_drv *d = kd_transport_priv(t);
	struct sockaddr_storage self = { 0 };
	socklen_t self_len = sizeof(self);
	const char *key;
	uint32_t port = 0;
	int role = 0;
	int rc;

	d->t = t;
	d->fd = -1;
	d->version = KD_NET_VERSION_4;
	rc = kd_params_get_enum(p, "role", role_names, 0, &role);
	if (rc == KD_OK)
		rc = kd_params_get_u32(p, "port", 0, 65535, KD_NET_DEFAULT_PORT,
				       &port);
	if (rc == KD_OK)
		rc = kd_params_get_u32(p, "auth_ms", 100, 600000, NET_AUTH_MS,
				       &d->auth_ms);
	if (rc < 0)
		return rc;
	key = kd_params_get(p, "key");
	if (!key)
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_TRANSPORT,
				    "net: 'key=w.x.y.z' is required");
	d->target_role = role == 1;
	rc = kd_net_session_new(&d->s, key);
	if (rc < 0)
		return rc;
	if (d->target_role)
		rc = open_target(d, p, (uint16_t)port);
	else
		rc = open_host(d, p, (uint16_t)port);
	if (rc == KD_OK &&
	    getsockname(d->fd, (struct sockaddr *)&self, &self_len) < 0)
		rc = net_map_error(errno, "getsockname");
	if (rc == KD_OK && d->target_role)
		rc = kd_transport_set_caps(t,
					   KD_TRANSPORT_CAP_DATAGRAM |
						   KD_TRANSPORT_CAP_WAITABLE |
						   KD_TRANSPORT_CAP_WIRETAP);
	if (rc == KD_OK) {
		if (pthread_mutex_init(&d->tap_lock, NULL) == 0)
			d->have_tap_lock = true;
		else
			rc = kd_error_set(KD_ENOMEM, KD_ERRCLASS_TRANSPORT,
					  "net: cannot create a lock");
	}
	if (rc < 0) {
		if (d->fd >= 0)
			close(d->fd);
		kd_net_session_free(d->s);
		return rc;
	}
	{
		struct kd_net_addr a;

		to_kd_addr((struct sockaddr *)&self, &a);
		d->local_port = a.port;
		kd_transport_set_local_port(t, a.port);
		kd_transport_set_udp_ports(
			t, d->target_role ? (uint16_t)port : a.port,
			d->target_role ? a.port : (uint16_t)port);
	}
	if (d->fixed_peer)
		note_ports(d);
	return KD_OK;
}

/* --- ops --- */

static void net_close(struct kd_transport *t)
{
	struct kd_net_drv *d = kd_transport_priv(t);

	if (d->fd >= 0)
		close(d->fd);
	if (d->have_tap_lock)
		pthread_mutex_destroy(&d->tap_lock);
	kd_net_session_free(d->s);
	kd_net_wipe(d->plain, sizeof(d->plain));
	kd_net_wipe(d->rx, sizeof(d->rx));
}

/* Wait (bounded) for a session before the first send. */
static int wait_session(struct kd_net_drv *d)
{
	size_t n = 0;
	int rc;

	if (d->up)
		return KD_OK;
	rc = pump(d, NULL, 0, &n, NET_CONNECT_MS, true);
	/* Datagrams came but none authenticated: that is the news. */
	if (rc == KD_ETIMEOUT && d->bad_run > 0)
		return wrong_key(d);
	if (rc == KD_ETIMEOUT)
		return kd_error_set(
			KD_EDISCONNECTED, KD_ERRCLASS_TRANSPORT,
			d->target_role ?
				"net: no debugger answered our OFFERs" :
				"net: no KDNET target has connected");
	return rc;
}

static int net_send(struct kd_transport *t, const void *buf, size_t len)
{
	struct kd_net_drv *d = kd_transport_priv(t);
	int rc;

	if (len == 0 || len > KD_NET_MAX_PAYLOAD)
		return kd_error_set(
			len ? KD_EBUFS : KD_EINVAL, KD_ERRCLASS_TRANSPORT,
			"net: a KD packet of %zu bytes cannot be sent (1..%d)",
			len, KD_NET_MAX_PAYLOAD);
	rc = wait_session(d);
	if (rc < 0)
		return rc;
	rc = send_frame(d, KD_NET_CHANNEL_DATA, d->tx_seq, buf, len);
	if (rc < 0)
		return rc;
	d->tx_seq++;
	d->st.kd_out++;
	return KD_OK;
}

static int net_recv(struct kd_transport *t, void *buf, size_t cap,
		    size_t *len_out, int timeout_ms)
{
	struct kd_net_drv *d = kd_transport_priv(t);
	int rc = pump(d, buf, cap, len_out, timeout_ms, false);

	return rc == 1 ? KD_OK : rc;
}

static int net_wait_handle(struct kd_transport *t, struct kd_wait_handle *out)
{
	struct kd_net_drv *d = kd_transport_priv(t);

	out->fd = d->fd;
	return KD_OK;
}

static int net_break_in(struct kd_transport *t)
{
	static const uint8_t brk = KD_NET_BREAKIN_BYTE;

	return net_send(t, &brk, 1);
}

const struct kd_transport_ops kd_transport_net = {
	.version = KD_TRANSPORT_OPS_VERSION,
	.scheme = "net",
	.caps = KD_TRANSPORT_CAP_DATAGRAM | KD_TRANSPORT_CAP_WAITABLE |
		KD_TRANSPORT_CAP_BREAKIN | KD_TRANSPORT_CAP_WIRETAP,
	.priv_size = sizeof(struct kd_net_drv),
	.keys = net_keys,
	.open = net_open,
	.close = net_close,
	.send = net_send,
	.recv = net_recv,
	.wait_handle = net_wait_handle,
	.break_in = net_break_in,
};

/* --- public extras --- */

static struct kd_net_drv *find_net(struct kd_transport *t)
{
	for (; t; t = t->lower) {
		if (t->ops == &kd_transport_net)
			return kd_transport_priv(t);
	}
	return NULL;
}

int kd_transport_net_stats(struct kd_transport *t, struct kd_net_stats *out)
{
	struct kd_net_drv *d = find_net(t);

	if (!d)
		return KD_ENOTFOUND;
	*out = d->st;
	return KD_OK;
}

int kd_transport_net_data_key(struct kd_transport *t,
			      uint8_t key[KD_NET_KEY_SIZE])
{
	struct kd_net_drv *d = find_net(t);

	if (!d)
		return KD_ENOTFOUND;
	if (!d->up)
		return kd_error_set(KD_ENOTFOUND, KD_ERRCLASS_TRANSPORT,
				    "net: no session yet");
	return kd_net_session_data_key(d->s, key);
}

bool kd_transport_net_connected(struct kd_transport *t)
{
	struct kd_net_drv *d = find_net(t);

	return d && d->up;
}

int kd_transport_net_reboot(struct kd_transport *t)
{
	struct kd_net_drv *d = find_net(t);

	if (!d)
		return KD_ENOTFOUND;
	if (!d->target_role)
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_TRANSPORT,
				    "net: only role=target can reboot");
	/* As after a real reboot: no session, sequence numbers restart. */
	d->up = false;
	d->ctrl_seq = 0;
	d->tx_seq = 1;
	d->rx_seq = 0;
	return target_offer(d);
}

/* --- socketless instances for the fuzzer --- */

int kd_net__test_new(struct kd_net_drv **out, bool target_role)
{
	static const uint8_t response[KD_NET_RESPONSE_PAYLOAD_SIZE] = {
		KD_NET_CTRL_FORMAT, KD_NET_CTRL_RESPONSE
	};
	struct kd_net_drv *d = kd_calloc(1, sizeof(*d));
	int rc;

	*out = NULL;
	if (!d)
		return KD_ENOMEM;
	d->fd = -1;
	d->target_role = target_role;
	d->version = KD_NET_VERSION_4;
	d->auth_ms = NET_AUTH_MS;
	d->offer_ms = NET_DEFAULT_OFFER_MS;
	d->have_nonce = true; /* all-zero debugger nonce: reproducible keys */
	rc = kd_net_session_new(&d->s, "1.2.3.4");
	if (rc == KD_OK && target_role) {
		/* A session whose data key comes from an all-zero RESPONSE. */
		rc = kd_net_session_accept_response(d->s, response,
						    sizeof(response));
		d->up = true;
		d->tx_seq = 1;
	}
	if (rc < 0) {
		kd_net__test_free(d);
		return rc;
	}
	*out = d;
	return KD_OK;
}

void kd_net__test_free(struct kd_net_drv *d)
{
	if (!d)
		return;
	kd_net_session_free(d->s);
	kd_free(d);
}
