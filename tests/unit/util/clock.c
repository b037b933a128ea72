/* SPDX-License-Identifier: MIT */
/*
 * kd/clock.h: the monotonic clock never goes back, its ms and ns readings
 * agree, a sleep shows as at least its length, and deadlines keep the
 * "-1 forever, 0 now, N ms" convention with the poll() timeout clamped.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include <kd/clock.h>

static void test_clock__monotonic(void **state)
{
	uint64_t ms = kd_mono_ms(), ns = kd_mono_ns();

	(void)state;
	for (int i = 0; i < 10000; i++) {
		uint64_t ms2 = kd_mono_ms(), ns2 = kd_mono_ns();

		assert_true(ms2 >= ms);
		assert_true(ns2 >= ns);
		ms = ms2;
		ns = ns2;
	}
}

/* Both read the same clock: ns / 10^6 lies between two ms readings. */
static void test_clock__ms_and_ns_agree(void **state)
{
	(void)state;
	for (int i = 0; i < 1000; i++) {
		uint64_t before = kd_mono_ms();
		uint64_t ns = kd_mono_ns();
		uint64_t after = kd_mono_ms();

		assert_true(before <= ns / 1000000u);
		assert_true(ns / 1000000u <= after);
	}
}

/* nanosleep() sleeps at least as long as asked (POSIX): a lower bound. */
static void test_clock__sleep_shows(void **state)
{
	struct timespec ts = { 0, 30 * 1000000L };
	uint64_t ms0 = kd_mono_ms(), ns0 = kd_mono_ns();

	(void)state;
	while (nanosleep(&ts, &ts) != 0)
		;
	assert_true(kd_mono_ms() - ms0 >= 30);
	assert_true(kd_mono_ns() - ns0 >= (uint64_t)30 * 1000000u);
}

static void test_clock__deadline(void **state)
{
	int64_t d;
	uint64_t now;

	(void)state;
	/* Negative timeouts mean forever, and stay so. */
	assert_int_equal(kd_deadline_ms(-1), -1);
	assert_int_equal(kd_deadline_ms(INT_MIN), -1);
	assert_int_equal(kd_deadline_left_ms(-1), -1);
	assert_int_equal(kd_deadline_left_ms(INT64_MIN), -1);

	/* A zero timeout is a deadline of now: nothing left. */
	assert_int_equal(kd_deadline_left_ms(kd_deadline_ms(0)), 0);
	/* A deadline in the past leaves 0, never a negative time. */
	now = kd_mono_ms();
	assert_int_equal(kd_deadline_left_ms((int64_t)now - 5000), 0);
	assert_int_equal(kd_deadline_left_ms(0), 0);

	/* N ms from now: at least now + N, and no more than N left. */
	now = kd_mono_ms();
	d = kd_deadline_ms(60000);
	assert_true(d >= (int64_t)now + 60000);
	assert_true(kd_deadline_left_ms(d) <= 60000);
	assert_true(kd_deadline_left_ms(d) > 0);
	d = kd_deadline_ms(INT_MAX);
	assert_true(kd_deadline_left_ms(d) > 0);

	/* Further than INT_MAX away: clamped to a valid poll() timeout. */
	assert_int_equal(kd_deadline_left_ms(INT64_MAX), INT_MAX);
	assert_int_equal(kd_deadline_left_ms((int64_t)kd_mono_ms() +
					     (int64_t)INT_MAX * 4),
			 INT_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clock__monotonic),
		cmocka_unit_test(test_clock__ms_and_ns_agree),
		cmocka_unit_test(test_clock__sleep_shows),
		cmocka_unit_test(test_clock__deadline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
