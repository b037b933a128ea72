/* SPDX-License-Identifier: MIT */
/*
 * A log-line limiter for servers: per window (10 s by default) the first
 * `burst` lines of a kind are written; the rest are counted and told as
 * one summary line ("N more ... in the last 10 s") when the window ends.
 * So a flood of hostile connections costs a bounded number of log lines
 * and the operator still learns that it happened.  Thread-safe.
 *
 *	static struct kd_loglimit refusals;
 *	kd_loglimit_init(&refusals, 10, 10000);
 *	...
 *	unsigned long held;
 *	bool write = kd_loglimit_allow(&refusals, &held);
 *	if (held)
 *		log("%lu more refusals in the last %d s", held,
 *		    kd_loglimit_window_s(&refusals));
 *	if (write)
 *		log("refused a connection: ...");
 *	...   and now and then (a timer, an idle loop):
 *	held = kd_loglimit_flush(&refusals);   (summary as above when > 0)
 */
#ifndef KD_LOGLIMIT_H
#define KD_LOGLIMIT_H

#include <pthread.h>

#include <kd/common.h>

KD_BEGIN_DECLS

#define KD_LOGLIMIT_DEF_BURST 10
#define KD_LOGLIMIT_DEF_WINDOW_MS 10000

struct kd_loglimit {
	pthread_mutex_t lock;
	int burst; /* lines written per window */
	int window_ms;
	int64_t start_ms;   /* monotonic start of the window; -1 none */
	int used;	    /* lines written in this window */
	unsigned long held; /* lines not written in this window */
};

/** Set up: @p burst lines (>= 1) per @p window_ms (>= 1). */
KD_API void kd_loglimit_init(struct kd_loglimit *l, int burst, int window_ms);

/** Release what kd_loglimit_init() set up. */
KD_API void kd_loglimit_destroy(struct kd_loglimit *l);

/**
 * A line of this kind is due now.  @p held_out gets the count of lines
 * held back in a window that has just ended (0 mostly): log that summary
 * first.  @return true to write the line, false to leave it out (it is
 * counted for the next summary).
 */
KD_API bool kd_loglimit_allow(struct kd_loglimit *l, unsigned long *held_out);

/** As kd_loglimit_allow() at a given monotonic time (for tests). */
KD_API bool kd_loglimit_allow_at(struct kd_loglimit *l, int64_t now_ms,
				 unsigned long *held_out);

/**
 * The count held back in a window that has ended (then reset), or 0; the
 * count so far of the current window too when @p force (at shutdown).
 */
KD_API unsigned long kd_loglimit_flush(struct kd_loglimit *l, bool force);

/** As kd_loglimit_flush() at a given monotonic time (for tests). */
KD_API unsigned long kd_loglimit_flush_at(struct kd_loglimit *l, int64_t now_ms,
					  bool force);

/** The window in whole seconds (at least 1), for summary lines. */
KD_API int kd_loglimit_window_s(const struct kd_loglimit *l);

KD_END_DECLS

#endif /* KD_LOGLIMIT_H */
