/* SPDX-License-Identifier: MIT */
/*
 * fault: a layer that drops, corrupts, duplicates, delays and truncates the
 * datagrams or stream chunks of the transport under it, driven by a seeded
 * PRNG so every failure replays from its seed.  Stacked as `fault:...|lower`.
 */
#include "transport_int.h"

#include <string.h>
#include <time.h>

#include <kd/alloc.h>
#include <kd/error.h>

enum fault_dir {
	DIR_BOTH,
	DIR_TX,
	DIR_RX,
	DIR_NONE
};

static const char *const dir_names[] = { "both", "tx", "rx", "none", NULL };

static const struct kd_param_spec fault_keys[] = {
	{ "seed", KD_PARAM_VALUE },
	{ "drop", KD_PARAM_VALUE },
	{ "corrupt", KD_PARAM_VALUE },
	{ "dup", KD_PARAM_VALUE },
	{ "delay", KD_PARAM_VALUE },
	{ "delay_ms", KD_PARAM_VALUE },
	{ "truncate", KD_PARAM_VALUE },
	{ "dir", KD_PARAM_VALUE },
	{ NULL, 0 },
};

/* What the dice said for one unit; every roll is drawn every time. */
struct verdict {
	bool drop, corrupt, dup, delay, truncate;
	uint64_t pos;  /* corrupt position and truncation length source */
	uint64_t bits; /* corrupt xor value source */
};

struct fault {
	uint64_t rng;
	double p_drop, p_corrupt, p_dup, p_delay, p_truncate;
	uint32_t delay_ms;
	bool tx, rx;
	struct kd_fault_stats st;
	/* One held rx unit: a duplicate or a delayed one. */
	uint8_t *pend;
	size_t pend_len;
	size_t pend_off;
	int64_t pend_at;
};

/* splitmix64: tiny, deterministic, good enough for test dice. */
static uint64_t next_u64(struct fault *f)
{
	uint64_t z;

	f->rng += 0x9E3779B97F4A7C15ull;
	z = f->rng;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static bool roll(struct fault *f, double p)
{
	double u = (double)(next_u64(f) >> 11) * (1.0 / 9007199254740992.0);

	return u < p;
}

static void judge(struct fault *f, struct verdict *v)
{
	v->drop = roll(f, f->p_drop);
	v->corrupt = roll(f, f->p_corrupt);
	v->dup = roll(f, f->p_dup);
	v->delay = roll(f, f->p_delay);
	v->truncate = roll(f, f->p_truncate);
	v->pos = next_u64(f);
	v->bits = next_u64(f);
}

/* Apply corruption and truncation to @p buf in place; returns new length. */
static size_t mangle(const struct verdict *v, struct kd_fault_counters *c,
		     uint8_t *buf, size_t len)
{
	if (len > 0 && v->truncate) {
		len = (size_t)(v->pos % len);
		c->truncated++;
	}
	if (len > 0 && v->corrupt) {
		buf[v->pos % len] ^= (uint8_t)(1u + v->bits % 255u);
		c->corrupted++;
	}
	return len;
}

static void sleep_ms(uint32_t ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;

	while (nanosleep(&ts, &ts) != 0)
		;
}

static int fault_open(struct kd_transport *t, const struct kd_params *params)
{
	struct fault *f = kd_transport_priv(t);
	uint64_t seed = 0;
	int dir = DIR_BOTH;
	int rc;

	if (!kd_transport_lower(t))
		return kd_error_set(
			KD_EINVAL, KD_ERRCLASS_TRANSPORT,
			"fault needs a transport under it (fault:...|loop:...)");
	rc = kd_params_get_u64(params, "seed", 0, UINT64_MAX, 1, &seed);
	if (rc == KD_OK)
		rc = kd_params_get_double(params, "drop", 0, 1, 0, &f->p_drop);
	if (rc == KD_OK)
		rc = kd_params_get_double(params, "corrupt", 0, 1, 0,
					  &f->p_corrupt);
	if (rc == KD_OK)
		rc = kd_params_get_double(params, "dup", 0, 1, 0, &f->p_dup);
	if (rc == KD_OK)
		rc = kd_params_get_double(params, "delay", 0, 1, 0,
					  &f->p_delay);
	if (rc == KD_OK)
		rc = kd_params_get_double(params, "truncate", 0, 1, 0,
					  &f->p_truncate);
	if (rc == KD_OK)
		rc = kd_params_get_u32(params, "delay_ms", 0, 600000, 100,
				       &f->delay_ms);
	if (rc == KD_OK)
		rc = kd_params_get_enum(params, "dir", dir_names, DIR_BOTH,
					&dir);
	if (rc < 0)
		return rc;
	f->rng = seed;
	f->tx = dir == DIR_BOTH || dir == DIR_TX;
	f->rx = dir == DIR_BOTH || dir == DIR_RX;
	return KD_OK;
}

static void fault_close(struct kd_transport *t)
{
	struct fault *f = kd_transport_priv(t);

	kd_free(f->pend);
}

static int fault_send(struct kd_transport *t, const void *buf, size_t len)
{
	struct fault *f = kd_transport_priv(t);
	struct kd_transport *lower = kd_transport_lower(t);
	struct kd_fault_counters *c = &f->st.tx;
	struct verdict v;
	uint8_t *copy;
	int rc;

	if (!f->tx)
		return kd_transport_send(lower, buf, len);
	c->units++;
	judge(f, &v);
	if (v.drop) {
		c->dropped++;
		return KD_OK;
	}
	copy = kd_malloc(len ? len : 1);
	if (!copy)
		return KD_ENOMEM;
	memcpy(copy, buf, len);
	len = mangle(&v, c, copy, len);
	if (v.delay) {
		c->delayed++;
		sleep_ms(f->delay_ms);
	}
	rc = kd_transport_send(lower, copy, len);
	if (rc == KD_OK && v.dup) {
		c->duplicated++;
		rc = kd_transport_send(lower, copy, len);
	}
	kd_free(copy);
	return rc;
}

/* Hand out (part of) the held unit if its time has come. */
static int deliver_pending(struct fault *f, struct kd_transport *t,
			   uint8_t *buf, size_t cap, size_t *len_out,
			   int64_t deadline)
{
	size_t left = f->pend_len - f->pend_off;
	size_t n;
	int wait;

	wait = kd_transport__left_ms(f->pend_at);
	if (wait > 0) {
		int limit = kd_transport__left_ms(deadline);

		if (limit >= 0 && limit < wait) {
			sleep_ms((uint32_t)limit);
			return KD_ETIMEOUT;
		}
		sleep_ms((uint32_t)wait);
	}
	if (kd_transport_caps(t) & KD_TRANSPORT_CAP_DATAGRAM) {
		if (left > cap) {
			kd_free(f->pend);
			f->pend = NULL;
			return kd_error_set(KD_EBUFS, KD_ERRCLASS_TRANSPORT,
					    "datagram of %zu bytes, buffer %zu",
					    left, cap);
		}
		n = left;
	} else {
		n = left < cap ? left : cap;
	}
	memcpy(buf, f->pend + f->pend_off, n);
	f->pend_off += n;
	*len_out = n;
	if (f->pend_off == f->pend_len) {
		kd_free(f->pend);
		f->pend = NULL;
	}
	return KD_OK;
}

/* Hold a copy of @p buf to hand out at @p when. */
static int hold(struct fault *f, const uint8_t *buf, size_t len, int64_t when)
{
	f->pend = kd_malloc(len ? len : 1);
	if (!f->pend)
		return KD_ENOMEM;
	memcpy(f->pend, buf, len);
	f->pend_len = len;
	f->pend_off = 0;
	f->pend_at = when;
	return KD_OK;
}

static int fault_recv(struct kd_transport *t, void *buf, size_t cap,
		      size_t *len_out, int timeout_ms)
{
	struct fault *f = kd_transport_priv(t);
	struct kd_transport *lower = kd_transport_lower(t);
	struct kd_fault_counters *c = &f->st.rx;
	int64_t deadline = kd_transport__deadline(timeout_ms);
	struct verdict v;
	size_t len;
	int rc;

	if (f->pend)
		return deliver_pending(f, t, buf, cap, len_out, deadline);
	if (!f->rx)
		return kd_transport_recv(lower, buf, cap, len_out, timeout_ms);
	for (;;) {
		rc = kd_transport_recv(lower, buf, cap, &len,
				       kd_transport__left_ms(deadline));
		if (rc < 0)
			return rc;
		c->units++;
		judge(f, &v);
		if (v.drop) {
			c->dropped++;
			continue;
		}
		len = mangle(&v, c, buf, len);
		/* A stream chunk truncated to nothing delivers nothing. */
		if (len == 0 &&
		    (kd_transport_caps(t) & KD_TRANSPORT_CAP_STREAM))
			continue;
		if (v.delay) {
			c->delayed++;
			rc = hold(f, buf, len,
				  kd_transport__now_ms() + f->delay_ms);
			if (rc < 0)
				return rc;
			return deliver_pending(f, t, buf, cap, len_out,
					       deadline);
		}
		if (v.dup) {
			c->duplicated++;
			rc = hold(f, buf, len, 0);
			if (rc < 0)
				return rc;
		}
		*len_out = len;
		return KD_OK;
	}
}

static int fault_break_in(struct kd_transport *t)
{
	return kd_transport_break_in(kd_transport_lower(t));
}

int kd_transport_fault_stats(struct kd_transport *t, struct kd_fault_stats *out)
{
	for (; t; t = kd_transport_lower(t)) {
		if (strcmp(kd_transport_scheme(t), "fault") == 0) {
			const struct fault *f = kd_transport_priv(t);

			*out = f->st;
			return KD_OK;
		}
	}
	return kd_error_set(KD_ENOTFOUND, KD_ERRCLASS_TRANSPORT,
			    "no fault layer in this transport");
}

const struct kd_transport_ops kd_transport_fault = {
	.version = KD_TRANSPORT_OPS_VERSION,
	.scheme = "fault",
	.caps = KD_TRANSPORT_CAP_LAYER | KD_TRANSPORT_CAP_BREAKIN,
	.priv_size = sizeof(struct fault),
	.keys = fault_keys,
	.open = fault_open,
	.close = fault_close,
	.send = fault_send,
	.recv = fault_recv,
	.break_in = fault_break_in,
};
