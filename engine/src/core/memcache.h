/* SPDX-License-Identifier: MIT */
/* The per-stop cache of target virtual memory (memcache.c). */
#ifndef KD_MEMCACHE_H
#define KD_MEMCACHE_H

#include "core/engine_int.h"

struct kd_memcache_stats {
	uint64_t hits;	 /* pages served from the cache */
	uint64_t misses; /* pages read from the target */
	uint64_t reads;	 /* target read calls */
	uint64_t bypass; /* large reads that skipped the cache */
};

struct kd_memcache *kd_memcache_new(void);
void kd_memcache_free(struct kd_memcache *c);
void kd_memcache_stats(const struct kd_memcache *c,
		       struct kd_memcache_stats *out);

/* Session helpers that are not part of the command-file API. */
void kd_session_reset_target_state(struct kd_session *s);
int kd_cpus_flush(struct kd_session *s);
void kd_cpus_invalidate(struct kd_session *s);

#endif /* KD_MEMCACHE_H */
