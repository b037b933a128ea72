/* SPDX-License-Identifier: MIT */
/* The live KD target (live.c): what attach needs beyond kd_target_ops. */
#ifndef KD_LIVE_H
#define KD_LIVE_H

#include "core/engine_int.h"

struct kd_transport;
struct kd_link;

/* Takes @p transport (closed on failure too). */
int kd_live_open(struct kd_session *s, struct kd_transport *transport,
		 struct kd_target **out);
struct kd_link *kd_live_link(struct kd_target *t);
/* True once after the link saw the target restart (SYNC / re-offer). */
bool kd_live_take_reconnected(struct kd_target *t);
int kd_live_version(struct kd_target *t, unsigned cpu, struct kd_version *v);
/* Replies that answered no request (dropped), requests asked again. */
int kd_live_counters(struct kd_target *t, uint64_t *stray, uint64_t *resent);
/*
 * What the target sent that was refused (malformed state changes, packets
 * over the size limit), as one phrase in @p buf; returns its length (0:
 * nothing was refused).
 */
size_t kd_live_explain(struct kd_target *t, char *buf, size_t cap);
int kd_live_sync(struct kd_target *t, int timeout_ms);

#endif /* KD_LIVE_H */
