/* SPDX-License-Identifier: MIT */
/*
 * The monotonic clock (kd/clock.h): the one place that reads
 * CLOCK_MONOTONIC for timeouts, instead of a copy in every component.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <limits.h>
#include <time.h>

#include <kd/clock.h>

uint64_t kd_mono_ns(void)
{
	struct timespec ts;

	/* Cannot fail: CLOCK_MONOTONIC exists and ts is valid memory. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t kd_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int64_t kd_deadline_ms(int timeout_ms)
{
	if (timeout_ms < 0)
		return -1;
	return (int64_t)kd_mono_ms() + timeout_ms;
}

int kd_deadline_left_ms(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - (int64_t)kd_mono_ms();
	if (left < 0)
		return 0;
	if (left > INT_MAX)
		return INT_MAX;
	return (int)left;
}
