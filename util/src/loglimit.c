/* SPDX-License-Identifier: MIT */
/*
 * Log-line limiter (kd/loglimit.h): fixed windows, a burst of lines per
 * window, the rest counted and summarised once the window is over.
 */
#include <kd/clock.h>
#include <kd/loglimit.h>

void kd_loglimit_init(struct kd_loglimit *l, int burst, int window_ms)
{
	pthread_mutex_init(&l->lock, NULL);
	l->burst = burst > 0 ? burst : 1;
	l->window_ms = window_ms > 0 ? window_ms : 1;
	l->start_ms = -1;
	l->used = 0;
	l->held = 0;
}

void kd_loglimit_destroy(struct kd_loglimit *l)
{
	pthread_mutex_destroy(&l->lock);
}

/* Close the window when it is over; the count held in it.  Locked. */
static unsigned long roll(struct kd_loglimit *l, int64_t now_ms)
{
	unsigned long held = 0;

	if (l->start_ms >= 0 && now_ms - l->start_ms >= l->window_ms) {
		held = l->held;
		l->start_ms = -1;
		l->used = 0;
		l->held = 0;
	}
	return held;
}

bool kd_loglimit_allow_at(struct kd_loglimit *l, int64_t now_ms,
			  unsigned long *held_out)
{
	unsigned long held;
	bool ok;

	pthread_mutex_lock(&l->lock);
	held = roll(l, now_ms);
	if (l->start_ms < 0)
		l->start_ms = now_ms;
	ok = l->used < l->burst;
	if (ok)
		l->used++;
	else
		l->held++;
	pthread_mutex_unlock(&l->lock);
	if (held_out)
		*held_out = held;
	return ok;
}

bool kd_loglimit_allow(struct kd_loglimit *l, unsigned long *held_out)
{
	return kd_loglimit_allow_at(l, (int64_t)kd_mono_ms(), held_out);
}

unsigned long kd_loglimit_flush_at(struct kd_loglimit *l, int64_t now_ms,
				   bool force)
{
	unsigned long held;

	pthread_mutex_lock(&l->lock);
	held = roll(l, now_ms);
	if (force && !held) {
		held = l->held;
		l->held = 0;
	}
	pthread_mutex_unlock(&l->lock);
	return held;
}

unsigned long kd_loglimit_flush(struct kd_loglimit *l, bool force)
{
	return kd_loglimit_flush_at(l, (int64_t)kd_mono_ms(), force);
}

int kd_loglimit_window_s(const struct kd_loglimit *l)
{
	int s = (l->window_ms + 999) / 1000;

	return s > 0 ? s : 1;
}
