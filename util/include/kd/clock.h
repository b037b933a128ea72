/* SPDX-License-Identifier: MIT */
/*
 * The monotonic clock and deadlines for hosted components.  CLOCK_MONOTONIC
 * does not jump when the wall clock is set, so timeouts, idle times and
 * rate windows measured with it stay right; only differences between two
 * readings mean anything.  Wall-clock time (log stamps, file times) is not
 * here: use time() or CLOCK_REALTIME for those.
 *
 *	int64_t deadline = kd_deadline_ms(timeout_ms);    (-1: forever)
 *	while (!done) {
 *		int left = kd_deadline_left_ms(deadline);  (-1, 0 or more)
 *		if (left == 0)
 *			return KD_ETIMEOUT;
 *		poll(&pfd, 1, left);
 *		...
 *	}
 */
#ifndef KD_CLOCK_H
#define KD_CLOCK_H

#include <kd/common.h>

KD_BEGIN_DECLS

/**
 * Milliseconds of CLOCK_MONOTONIC (time since an unspecified start, usually
 * boot).  Never goes backwards; thread-safe; cannot fail on Linux.
 */
KD_API uint64_t kd_mono_ms(void);

/** As kd_mono_ms(), in nanoseconds: for measuring short spans. */
KD_API uint64_t kd_mono_ns(void);

/**
 * The kd_mono_ms() time @p timeout_ms from now, or -1 (no deadline: wait
 * forever) when @p timeout_ms is negative.  Timeouts of the "-1 forever,
 * 0 poll, N milliseconds" kind convert to a deadline once, so a loop that
 * waits several times still ends on time.
 */
KD_API int64_t kd_deadline_ms(int timeout_ms);

/**
 * Milliseconds left until @p deadline (a kd_deadline_ms() value) as a
 * poll() timeout: -1 when @p deadline is negative (forever), 0 when it has
 * passed, else the time left, at most INT_MAX.
 */
KD_API int kd_deadline_left_ms(int64_t deadline);

KD_END_DECLS

#endif /* KD_CLOCK_H */
