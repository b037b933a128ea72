/* SPDX-License-Identifier: MIT */
/*
 * pcap: capture and replay.  `pcap:file=X|lower` records every byte or
 * datagram of the transport under it to a pcapng file (written here, see
 * docs/capture-format.md); over a driver that shows its wire traffic
 * (KD_TRANSPORT_CAP_WIRETAP: net) it records the datagrams as they cross the
 * wire instead, with their real addresses.  `pcap:replay=X[,role=target]`
 * plays back one side of a capture read with libpcap.
 */
#include "transport_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <kd/alloc.h>
#include <kd/capture.h>
#include <kd/error.h>

#define CAPTURE_DEFAULT_PORT 50000
#define PCAPNG_SNAPLEN 262144u
#define MAX_UDP_PAYLOAD (65535u - 20u - 8u)
#define REPLAY_MAX_UNITS 200000u
#define REPLAY_MAX_BYTES (64u * 1024u * 1024u)
#define ETH_HDR 14
#define IP4_HDR 20
#define IP6_HDR 40
#define UDP_HDR 8
#define FRAME_HDR_MAX (ETH_HDR + IP6_HDR + UDP_HDR)
#define DIR_HOST_TO_TARGET KD_CAPTURE_DIR_HOST_TO_TARGET
#define DIR_TARGET_TO_HOST KD_CAPTURE_DIR_TARGET_TO_HOST

enum side {
	SIDE_HOST,
	SIDE_TARGET
};

static const char *const side_names[] = { "host", "target", NULL };

static const struct kd_param_spec pcap_keys[] = {
	{ "file", KD_PARAM_VALUE },
	{ "side", KD_PARAM_VALUE },
	{ "replay", KD_PARAM_VALUE },
	{ "role", KD_PARAM_VALUE },
	{ "target", KD_PARAM_VALUE },
	{ "port", KD_PARAM_VALUE },
	{ NULL, 0 },
};

/* One unit of a replayed capture: a datagram or a stream chunk. */
struct unit {
	uint8_t *data;
	size_t len;
	uint64_t gate; /* peer datagrams (or bytes) sent before it */
};

struct pcapdrv {
	bool replay;
	bool datagram;
	/* writer */
	FILE *f;
	bool wire;	/* the lower driver feeds us its wire traffic */
	int wire_errno; /* a tapped datagram could not be written */
	bool have_lock;
	pthread_mutex_t lock; /* send and recv record from two threads */
	enum side side;
	uint16_t host_port;
	uint16_t target_port;
	uint16_t ip_id;
	/* replay */
	struct unit *units; /* only the units this instance plays */
	size_t n_units;
	size_t next;
	size_t next_off;
	uint64_t peer_sent;
};

/* --- pcapng writing --- */

/* Direction of data this process sends. */
static int tx_dir(const struct pcapdrv *d)
{
	return d->side == SIDE_HOST ? DIR_HOST_TO_TARGET : DIR_TARGET_TO_HOST;
}

static void put32(uint8_t *p, uint32_t v)
{
	kd_put_le32(p, v);
}

static int write_all(struct pcapdrv *d, const void *buf, size_t len)
{
	if (fwrite(buf, 1, len, d->f) != len)
		return kd_error_set_os(KD_ERROR, errno, "writing capture");
	return KD_OK;
}

static int write_headers(struct pcapdrv *d)
{
	uint8_t shb[28];
	uint8_t idb[32];

	put32(shb, 0x0A0D0D0A);
	put32(shb + 4, sizeof(shb));
	put32(shb + 8, 0x1A2B3C4D);
	kd_put_le16(shb + 12, 1);
	kd_put_le16(shb + 14, 0);
	kd_put_le64(shb + 16, UINT64_MAX); /* section length unknown */
	put32(shb + 24, sizeof(shb));

	memset(idb, 0, sizeof(idb));
	put32(idb, 1);
	put32(idb + 4, sizeof(idb));
	kd_put_le16(idb + 8, d->datagram ? 1 /* LINKTYPE_ETHERNET */ :
					   KD_CAPTURE_LINKTYPE_USER0);
	put32(idb + 12, PCAPNG_SNAPLEN);
	kd_put_le16(idb + 16, 9); /* if_tsresol */
	kd_put_le16(idb + 18, 1);
	idb[20] = 9; /* nanoseconds */
	/* idb[24..27]: opt_endofopt */
	put32(idb + 28, sizeof(idb));
	if (write_all(d, shb, sizeof(shb)) < 0 ||
	    write_all(d, idb, sizeof(idb)) < 0)
		return KD_ERROR;
	return KD_OK;
}

/* RFC 1071 one's-complement sum over @p len bytes, folded, not inverted. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

static void put_ip6(uint8_t *out, const struct kd_wire_addr *a)
{
	if (a->family == 4) {
		/* An IPv4 end in an IPv6 frame: its ::ffff: form. */
		memset(out, 0, 10);
		out[10] = 0xff;
		out[11] = 0xff;
		memcpy(out + 12, a->ip, 4);
	} else {
		memcpy(out, a->ip, 16);
	}
}

/*
 * Build Ethernet + IPv4 (both ends IPv4) or IPv6 + UDP headers with valid
 * checksums for a datagram of @p len bytes from @p src to @p dst, going in
 * direction @p dir (it picks the MAC addresses), into @p hdr.
 * @return the header length.
 */
static size_t build_frame_headers(struct pcapdrv *d, uint8_t *hdr, int dir,
				  const struct kd_wire_addr *src,
				  const struct kd_wire_addr *dst,
				  const uint8_t *payload, size_t len)
{
	static const uint8_t mac_host[6] = { 2, 0, 0, 0, 0, 1 };
	static const uint8_t mac_target[6] = { 2, 0, 0, 0, 0, 2 };
	bool h2t = dir == DIR_HOST_TO_TARGET;
	bool v4 = src->family == 4 && dst->family == 4;
	uint8_t *ip = hdr + ETH_HDR;
	uint8_t *udp = ip + (v4 ? IP4_HDR : IP6_HDR);
	uint8_t pseudo[40];
	size_t pseudo_len;
	uint32_t sum;

	memcpy(hdr, h2t ? mac_target : mac_host, 6);
	memcpy(hdr + 6, h2t ? mac_host : mac_target, 6);
	kd_put_be16(hdr + 12, v4 ? 0x0800 : 0x86DD);

	if (v4) {
		ip[0] = 0x45;
		ip[1] = 0;
		kd_put_be16(ip + 2, (uint16_t)(IP4_HDR + UDP_HDR + len));
		kd_put_be16(ip + 4, d->ip_id++);
		kd_put_be16(ip + 6, 0x4000); /* DF */
		ip[8] = 64;
		ip[9] = 17;
		kd_put_be16(ip + 10, 0);
		memcpy(ip + 12, src->ip, 4);
		memcpy(ip + 16, dst->ip, 4);
		kd_put_be16(ip + 10, (uint16_t)~csum_add(0, ip, IP4_HDR));
		memcpy(pseudo, ip + 12, 8);
		pseudo[8] = 0;
		pseudo[9] = 17;
		kd_put_be16(pseudo + 10, (uint16_t)(UDP_HDR + len));
		pseudo_len = 12;
	} else {
		kd_put_be16(ip, 0x6000); /* version 6, no class or flow */
		kd_put_be16(ip + 2, 0);
		kd_put_be16(ip + 4, (uint16_t)(UDP_HDR + len));
		ip[6] = 17;
		ip[7] = 64;
		put_ip6(ip + 8, src);
		put_ip6(ip + 24, dst);
		memcpy(pseudo, ip + 8, 32);
		kd_put_be16(pseudo + 32, 0);
		kd_put_be16(pseudo + 34, (uint16_t)(UDP_HDR + len));
		memset(pseudo + 36, 0, 3);
		pseudo[39] = 17;
		pseudo_len = 40;
	}

	kd_put_be16(udp, src->port);
	kd_put_be16(udp + 2, dst->port);
	kd_put_be16(udp + 4, (uint16_t)(UDP_HDR + len));
	kd_put_be16(udp + 6, 0);
	sum = csum_add(0, pseudo, pseudo_len);
	sum = csum_add(sum, udp, UDP_HDR);
	sum = csum_add(sum, payload, len);
	sum = (uint16_t)~sum;
	kd_put_be16(udp + 6, sum == 0 ? 0xffff : (uint16_t)sum);
	return (size_t)(udp + UDP_HDR - hdr);
}

/*
 * Append one Enhanced Packet Block: @p prefix bytes of @p hdr, then @p len
 * bytes of @p buf, moving in @p dir.  Called with the lock held.
 */
static int write_epb(struct pcapdrv *d, int dir, const uint8_t *hdr,
		     size_t prefix, const uint8_t *buf, size_t len)
{
	uint8_t epb[28];
	uint8_t tail[16];
	static const uint8_t zeros[4];
	size_t caplen = prefix + len;
	size_t pad = (4 - caplen % 4) % 4;
	struct timespec ts;
	uint64_t ns;

	clock_gettime(CLOCK_REALTIME, &ts);
	ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;

	put32(epb, 6);
	put32(epb + 4, (uint32_t)(sizeof(epb) + caplen + pad + sizeof(tail)));
	put32(epb + 8, 0);
	put32(epb + 12, (uint32_t)(ns >> 32));
	put32(epb + 16, (uint32_t)ns);
	put32(epb + 20, (uint32_t)caplen);
	put32(epb + 24, (uint32_t)caplen);
	/* epb_flags (2): bits 0-1 = 1 inbound, 2 outbound, host's view. */
	kd_put_le16(tail, 2);
	kd_put_le16(tail + 2, 4);
	put32(tail + 4, dir == DIR_HOST_TO_TARGET ? 2u : 1u);
	put32(tail + 8, 0); /* opt_endofopt */
	put32(tail + 12, (uint32_t)(sizeof(epb) + caplen + pad + sizeof(tail)));
	if (write_all(d, epb, sizeof(epb)) < 0 ||
	    write_all(d, hdr, prefix) < 0 || write_all(d, buf, len) < 0 ||
	    write_all(d, zeros, pad) < 0 ||
	    write_all(d, tail, sizeof(tail)) < 0)
		return KD_ERROR;
	if (fflush(d->f) != 0)
		return kd_error_set_os(KD_ERROR, errno, "writing capture");
	return KD_OK;
}

static void lock(struct pcapdrv *d)
{
	if (d->have_lock)
		pthread_mutex_lock(&d->lock);
}

static void unlock(struct pcapdrv *d)
{
	if (d->have_lock)
		pthread_mutex_unlock(&d->lock);
}

/* Record @p len bytes moving in @p dir through this layer. */
static int record(struct pcapdrv *d, int dir, const uint8_t *buf, size_t len)
{
	uint8_t hdr[FRAME_HDR_MAX];
	size_t prefix;
	int rc;

	if (!d->datagram && len > PCAPNG_SNAPLEN - 1) {
		rc = record(d, dir, buf, PCAPNG_SNAPLEN - 1);
		if (rc < 0)
			return rc;
		return record(d, dir, buf + PCAPNG_SNAPLEN - 1,
			      len - (PCAPNG_SNAPLEN - 1));
	}
	lock(d);
	if (d->datagram) {
		/* Addresses of our own making: see capture-format.md. */
		struct kd_wire_addr host = { 4,
					     { 127, 0, 0, 1 },
					     d->host_port };
		struct kd_wire_addr target = { 4,
					       { 127, 0, 0, 2 },
					       d->target_port };
		bool h2t = dir == DIR_HOST_TO_TARGET;

		/* Longer cannot be a real UDP datagram: cut it. */
		if (len > MAX_UDP_PAYLOAD)
			len = MAX_UDP_PAYLOAD;
		prefix = build_frame_headers(d, hdr, dir, h2t ? &host : &target,
					     h2t ? &target : &host, buf, len);
	} else {
		hdr[0] = (uint8_t)dir;
		prefix = 1;
	}
	rc = write_epb(d, dir, hdr, prefix, buf, len);
	unlock(d);
	return rc;
}

/*
 * The lower driver's wire traffic (net): each datagram as it was sent or
 * received, with its real addresses.  A write error cannot be returned from
 * here: it is kept, and every later send and receive through the layer
 * fails with it, as they do when recording KD packets fails.
 */
static void wire_tap(void *ctx, const struct kd_wire_datagram *dg)
{
	struct pcapdrv *d = ctx;
	uint8_t hdr[FRAME_HDR_MAX];
	int dir = dg->outbound ? tx_dir(d) : !tx_dir(d);
	size_t len = dg->len > MAX_UDP_PAYLOAD ? MAX_UDP_PAYLOAD : dg->len;
	size_t prefix;

	lock(d);
	if (d->f) {
		prefix = build_frame_headers(d, hdr, dir, &dg->src, &dg->dst,
					     dg->data, len);
		if (write_epb(d, dir, hdr, prefix, dg->data, len) < 0) {
			d->wire_errno = errno ? errno : EIO;
			fclose(d->f);
			d->f = NULL;
		}
	}
	unlock(d);
}

static int open_writer(struct kd_transport *t, struct pcapdrv *d,
		       const struct kd_params *params, const char *path)
{
	struct kd_transport *lower = kd_transport_lower(t);
	int side;
	int rc;

	if (!lower)
		return kd_error_set(
			KD_EINVAL, KD_ERRCLASS_TRANSPORT,
			"pcap:file needs a transport under it (pcap:file=X|com:...)");
	if (kd_params_has(params, "role") || kd_params_has(params, "target") ||
	    kd_params_has(params, "port"))
		return kd_error_set(
			KD_EINVAL, KD_ERRCLASS_TRANSPORT,
			"options 'role', 'target' and 'port' belong to pcap:replay");
	rc = kd_params_get_enum(params, "side", side_names, SIDE_HOST, &side);
	if (rc < 0)
		return rc;
	d->side = (enum side)side;
	d->datagram = (kd_transport_caps(lower) & KD_TRANSPORT_CAP_DATAGRAM) !=
		      0;
	if (kd_transport_udp_ports(lower, &d->host_port, &d->target_port) < 0) {
		d->host_port = CAPTURE_DEFAULT_PORT;
		d->target_port = CAPTURE_DEFAULT_PORT;
	}
	d->f = fopen(path, "wb");
	if (!d->f)
		return kd_error_set_os(
			errno == ENOENT ? KD_ENOTFOUND : KD_ERROR, errno,
			"cannot create capture '%s'", path);
	rc = write_headers(d);
	if (rc == KD_OK && fflush(d->f) != 0)
		rc = kd_error_set_os(KD_ERROR, errno, "writing capture");
	if (rc == KD_OK && pthread_mutex_init(&d->lock, NULL) != 0)
		rc = kd_error_set(KD_ENOMEM, KD_ERRCLASS_TRANSPORT,
				  "pcap: cannot create a lock");
	if (rc < 0) {
		fclose(d->f);
		d->f = NULL;
		return rc;
	}
	d->have_lock = true;
	/* Over net: the encrypted datagrams on the wire, not KD packets. */
	if (kd_transport_caps(lower) & KD_TRANSPORT_CAP_WIRETAP) {
		rc = kd_transport_set_wire_tap(lower, wire_tap, d);
		if (rc < 0) {
			pthread_mutex_destroy(&d->lock);
			d->have_lock = false;
			fclose(d->f);
			d->f = NULL;
			return rc;
		}
		d->wire = true;
	}
	return KD_OK;
}

/* --- Capture reading (replay) --- */

struct ipaddr {
	int family; /* 4 or 6 */
	uint8_t a[16];
};

static bool addr_eq(const struct ipaddr *x, const struct ipaddr *y)
{
	return x->family == y->family &&
	       memcmp(x->a, y->a, x->family == 4 ? 4 : 16) == 0;
}

static struct ipaddr ipaddr_of(int family, const uint8_t *a)
{
	struct ipaddr r = { family, { 0 } };

	memcpy(r.a, a, family == 4 ? 4 : 16);
	return r;
}

/* Captured unit before it is split by side. */
struct raw_unit {
	bool from_target;
	size_t off; /* into the arena */
	size_t len;
};

struct reader {
	struct raw_unit *u;
	size_t n;
	size_t u_cap;
	uint8_t *arena;
	size_t used;
	size_t arena_cap;
};

/* Grow @p *buf (of @p *cap elements of @p size) to hold @p need. */
static int grow(void **buf, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 64;
	size_t bytes;
	void *p;

	if (need <= *cap)
		return KD_OK;
	while (n < need)
		n *= 2;
	if (!kd_size_mul(&bytes, n, size))
		return KD_ENOMEM;
	p = kd_realloc(*buf, bytes);
	if (!p)
		return KD_ENOMEM;
	*buf = p;
	*cap = n;
	return KD_OK;
}

static int add_unit(struct reader *r, bool from_target, const uint8_t *p,
		    size_t len)
{
	int rc;

	if (r->n == REPLAY_MAX_UNITS || len > REPLAY_MAX_BYTES - r->used)
		return kd_error_set(
			KD_EINVAL, KD_ERRCLASS_CAPTURE,
			"capture too large to replay (at most %u packets, %u bytes)",
			REPLAY_MAX_UNITS, REPLAY_MAX_BYTES);
	rc = grow((void **)&r->u, &r->u_cap, r->n + 1, sizeof(*r->u));
	if (rc == KD_OK)
		rc = grow((void **)&r->arena, &r->arena_cap, r->used + len, 1);
	if (rc < 0)
		return rc;
	if (len > 0) /* an empty first unit leaves the arena NULL */
		memcpy(r->arena + r->used, p, len);
	r->u[r->n].from_target = from_target;
	r->u[r->n].off = r->used;
	r->u[r->n].len = len;
	r->used += len;
	r->n++;
	return KD_OK;
}

struct replay_opts {
	bool have_target;
	struct ipaddr target;
	uint32_t port; /* 0 = any */
};

static int read_capture(pcap_t *pc, const struct replay_opts *o,
			struct reader *r, bool *datagram_out)
{
	static const struct ipaddr ours = { 4, { 127, 0, 0, 2 } };
	int dlt = pcap_datalink(pc);
	struct ipaddr target = o->target;
	bool have_target = o->have_target;
	bool same_host = false;
	uint16_t target_port = 0;
	bool stream = dlt == KD_CAPTURE_LINKTYPE_USER0;
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;

	if (!stream && !kd_capture_link_supported(dlt))
		return kd_error_set(
			KD_ENOTSUP, KD_ERRCLASS_CAPTURE,
			"capture link type %d (%s) cannot be replayed", dlt,
			pcap_datalink_val_to_name(dlt) ?
				pcap_datalink_val_to_name(dlt) :
				"unknown");
	for (;;) {
		struct kd_capture_udp v;
		struct ipaddr src, dst;
		size_t len;

		rc = pcap_next_ex(pc, &h, &data);
		if (rc == PCAP_ERROR_BREAK)
			break;
		if (rc != 1)
			return kd_error_set(KD_EPROTO, KD_ERRCLASS_CAPTURE,
					    "reading capture: %s",
					    pcap_geterr(pc));
		len = h->caplen;
		if (stream) {
			if (len < 1 || data[0] > DIR_TARGET_TO_HOST)
				continue;
			rc = add_unit(r, data[0] == DIR_TARGET_TO_HOST,
				      data + 1, len - 1);
			if (rc < 0)
				return rc;
			continue;
		}
		if (!kd_capture_udp_from_frame(dlt, data, len, &v))
			continue;
		if (o->port && v.sport != o->port && v.dport != o->port)
			continue;
		src = ipaddr_of(v.family, v.src);
		dst = ipaddr_of(v.family, v.dst);
		if (!have_target) {
			/* Our own captures put the target at 127.0.0.2. */
			have_target = true;
			target = addr_eq(&dst, &ours) ? dst : src;
			/*
			 * Both ends on one host (kd's own capture of the wire
			 * on loopback): the first sender's port is the
			 * target's, as a KDNET session starts with its OFFER.
			 */
			if (addr_eq(&src, &dst)) {
				same_host = true;
				target_port = v.sport;
			}
		}
		if (!addr_eq(&src, &target) && !addr_eq(&dst, &target))
			continue;
		rc = add_unit(r,
			      addr_eq(&src, &target) &&
				      (!same_host || v.sport == target_port),
			      v.payload, v.len);
		if (rc < 0)
			return rc;
	}
	*datagram_out = !stream;
	return KD_OK;
}

static void free_units(struct pcapdrv *d)
{
	if (d->units) {
		for (size_t i = 0; i < d->n_units; i++)
			kd_free(d->units[i].data);
	}
	kd_free(d->units);
	d->units = NULL;
}

static int parse_replay_opts(const struct kd_params *params,
			     struct replay_opts *o)
{
	const char *s;
	int rc;

	memset(o, 0, sizeof(*o));
	rc = kd_params_get_str(params, "target", NULL, &s);
	if (rc < 0)
		return rc;
	if (s) {
		o->have_target = true;
		if (inet_pton(AF_INET, s, o->target.a) == 1)
			o->target.family = 4;
		else if (inet_pton(AF_INET6, s, o->target.a) == 1)
			o->target.family = 6;
		else
			return kd_error_set(
				KD_EINVAL, KD_ERRCLASS_TRANSPORT,
				"value '%s' for 'target' is not an IP address",
				s);
	}
	return kd_params_get_u32(params, "port", 1, 65535, 0, &o->port);
}

static int open_replay(struct kd_transport *t, struct pcapdrv *d,
		       const struct kd_params *params, const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct replay_opts o = { 0 };
	struct reader r = { 0 };
	pcap_t *pc;
	uint64_t peer = 0;
	size_t own = 0;
	int role;
	int rc;

	if (kd_transport_lower(t))
		return kd_error_set(
			KD_EINVAL, KD_ERRCLASS_TRANSPORT,
			"pcap:replay cannot be stacked over another transport");
	if (kd_params_has(params, "file") || kd_params_has(params, "side"))
		return kd_error_set(
			KD_EINVAL, KD_ERRCLASS_TRANSPORT,
			"options 'file' and 'side' belong to pcap:file");
	rc = kd_params_get_enum(params, "role", side_names, SIDE_TARGET, &role);
	if (rc == KD_OK)
		rc = parse_replay_opts(params, &o);
	if (rc < 0)
		return rc;
	errbuf[0] = '\0';
	pc = pcap_open_offline(path, errbuf);
	if (!pc)
		return kd_error_set(errno == ENOENT ? KD_ENOTFOUND : KD_EINVAL,
				    KD_ERRCLASS_CAPTURE,
				    "cannot read capture: %s", errbuf);
	rc = read_capture(pc, &o, &r, &d->datagram);
	if (rc < 0)
		goto out;
	d->units = kd_calloc(r.n ? r.n : 1, sizeof(*d->units));
	if (!d->units) {
		rc = KD_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < r.n; i++) {
		bool mine = r.u[i].from_target == (role == SIDE_TARGET);

		if (!mine) {
			peer += d->datagram ? 1 : r.u[i].len;
			continue;
		}
		d->units[own].data = kd_malloc(r.u[i].len ? r.u[i].len : 1);
		if (!d->units[own].data) {
			d->n_units = own;
			free_units(d);
			rc = KD_ENOMEM;
			goto out;
		}
		if (r.u[i].len > 0) /* arena is NULL if all units are empty */
			memcpy(d->units[own].data, r.arena + r.u[i].off,
			       r.u[i].len);
		d->units[own].len = r.u[i].len;
		d->units[own].gate = peer;
		own++;
	}
	d->n_units = own;
	d->replay = true;
	rc = kd_transport_set_caps(t, d->datagram ?
					      KD_TRANSPORT_CAP_DATAGRAM :
					      KD_TRANSPORT_CAP_STREAM |
						      KD_TRANSPORT_CAP_BREAKIN);
	if (rc < 0)
		free_units(d);
out:
	kd_free(r.u);
	kd_free(r.arena);
	pcap_close(pc);
	return rc;
}

/* --- Ops --- */

/* After a lower operation: the wire capture's write error, if any. */
static int wire_status(struct pcapdrv *d, int rc)
{
	int e;

	if (rc < 0)
		return rc;
	lock(d);
	e = d->wire_errno;
	unlock(d);
	if (e)
		return kd_error_set_os(KD_ERROR, e, "writing capture");
	return rc;
}

static int pcapdrv_open(struct kd_transport *t, const struct kd_params *params)
{
	struct pcapdrv *d = kd_transport_priv(t);
	const char *file = kd_params_get(params, "file");
	const char *replay = kd_params_get(params, "replay");

	if (file && replay)
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_TRANSPORT,
				    "pcap takes either 'file' or 'replay'");
	if (file)
		return open_writer(t, d, params, file);
	if (replay)
		return open_replay(t, d, params, replay);
	return kd_error_set(
		KD_EINVAL, KD_ERRCLASS_TRANSPORT,
		"pcap needs 'file=' (record) or 'replay=' (play back)");
}

static void pcapdrv_close(struct kd_transport *t)
{
	struct pcapdrv *d = kd_transport_priv(t);

	if (d->wire) {
		/* Removing cannot fail: the lower has the capability. */
		int rc = kd_transport_set_wire_tap(kd_transport_lower(t), NULL,
						   NULL);

		(void)rc;
	}
	if (d->f)
		fclose(d->f);
	if (d->have_lock)
		pthread_mutex_destroy(&d->lock);
	free_units(d);
}

static int pcapdrv_send(struct kd_transport *t, const void *buf, size_t len)
{
	struct pcapdrv *d = kd_transport_priv(t);
	int rc;

	if (d->replay) {
		if (d->datagram && len > MAX_UDP_PAYLOAD)
			return kd_error_set(KD_EBUFS, KD_ERRCLASS_TRANSPORT,
					    "datagram of %zu bytes too large",
					    len);
		d->peer_sent += d->datagram ? 1 : len;
		return KD_OK;
	}
	rc = kd_transport_send(kd_transport_lower(t), buf, len);
	if (rc < 0 || d->wire)
		return wire_status(d, rc);
	return record(d, tx_dir(d), buf, len);
}

static int replay_recv(struct pcapdrv *d, uint8_t *buf, size_t cap,
		       size_t *len_out, int timeout_ms)
{
	struct unit *u;
	size_t n;

	if (d->next == d->n_units)
		return kd_error_set(KD_EDISCONNECTED, KD_ERRCLASS_TRANSPORT,
				    "end of replayed capture");
	u = &d->units[d->next];
	if (d->peer_sent < u->gate) {
		/* Nothing can change while we wait: act as a silent peer. */
		if (timeout_ms > 0) {
			struct timespec ts = { timeout_ms / 1000,
					       (long)(timeout_ms % 1000) *
						       1000000L };

			while (nanosleep(&ts, &ts) != 0)
				;
		}
		return KD_ETIMEOUT;
	}
	if (d->datagram) {
		d->next++;
		if (u->len > cap)
			return kd_error_set(KD_EBUFS, KD_ERRCLASS_TRANSPORT,
					    "datagram of %zu bytes, buffer %zu",
					    u->len, cap);
		memcpy(buf, u->data, u->len);
		*len_out = u->len;
		return KD_OK;
	}
	n = u->len - d->next_off;
	if (n > cap)
		n = cap;
	memcpy(buf, u->data + d->next_off, n);
	d->next_off += n;
	if (d->next_off == u->len) {
		d->next++;
		d->next_off = 0;
	}
	*len_out = n;
	return KD_OK;
}

static int pcapdrv_recv(struct kd_transport *t, void *buf, size_t cap,
			size_t *len_out, int timeout_ms)
{
	struct pcapdrv *d = kd_transport_priv(t);
	int rc;

	if (d->replay)
		return replay_recv(d, buf, cap, len_out, timeout_ms);
	rc = kd_transport_recv(kd_transport_lower(t), buf, cap, len_out,
			       timeout_ms);
	if (rc < 0 || d->wire)
		return wire_status(d, rc);
	return record(d, !tx_dir(d), buf, *len_out);
}

static int pcapdrv_wait_handle(struct kd_transport *t,
			       struct kd_wait_handle *out)
{
	int rc;

	rc = kd_transport_wait_fd(kd_transport_lower(t), &out->fd);
	return rc;
}

static int pcapdrv_break_in(struct kd_transport *t)
{
	static const uint8_t brk = 0x62;
	struct pcapdrv *d = kd_transport_priv(t);
	int rc;

	if (d->replay) {
		d->peer_sent++;
		return KD_OK;
	}
	rc = kd_transport_break_in(kd_transport_lower(t));
	if (rc < 0 || d->wire)
		return wire_status(d, rc);
	return record(d, tx_dir(d), &brk, 1);
}

const struct kd_transport_ops kd_transport_pcap = {
	.version = KD_TRANSPORT_OPS_VERSION,
	.scheme = "pcap",
	.caps = KD_TRANSPORT_CAP_LAYER | KD_TRANSPORT_CAP_STREAM |
		KD_TRANSPORT_CAP_DATAGRAM | KD_TRANSPORT_CAP_WAITABLE |
		KD_TRANSPORT_CAP_BREAKIN,
	.priv_size = sizeof(struct pcapdrv),
	.keys = pcap_keys,
	.open = pcapdrv_open,
	.close = pcapdrv_close,
	.send = pcapdrv_send,
	.recv = pcapdrv_recv,
	.wait_handle = pcapdrv_wait_handle,
	.break_in = pcapdrv_break_in,
};
