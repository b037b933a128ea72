/* SPDX-License-Identifier: MIT */
/*
 * kdsim lays out its kernel lists the way Windows does, read through `kd`
 * (both real processes, serial over a unix socket): an empty LIST_ENTRY is
 * self-linked (Flink = Blink = &head), never zero, System's thread lists
 * hold the processors' threads, and every other process's thread lists
 * are closed rings linked both ways.
 */
#include "kdsim_client.h"
#include "kd_proc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define T_MS 20000
#define NPROCS 6 /* System, Registry, smss, csrss, wininit, kdsimapp */

/* Windows 10 19041 x64 offsets, relative to EPROCESS.ActiveProcessLinks. */
#define LINKS 0x448
#define EPROC_THREADS (0x5E0ull - LINKS)
#define KPROC_THREADS (0x30ull - LINKS) /* negative: wraps, added mod 2^64 */
#define KPROC_PROFILE (0x18ull - LINKS)
#define DISP_WAIT (0x08ull - LINKS)
#define ETHREAD_ENTRY 0x4E8
#define KTHREAD_ENTRY 0x2F8

static struct kp g_kd;

static char *cmd(const char *c)
{
	char *out = kp_cmd(&g_kd, c, T_MS);

	if (!out)
		fail_msg("kd did not answer '%s'; stderr:\n%s", c,
			 g_kd.err.data ? g_kd.err.data : "");
	return out;
}

/* A 64-bit value as kd prints it (`fffff800`10000748`). */
static uint64_t parse_addr(const char **p)
{
	char buf[24];
	size_t n = 0;

	while (**p == ' ')
		(*p)++;
	while (n + 1 < sizeof(buf) &&
	       (isxdigit((unsigned char)**p) || **p == '`')) {
		if (**p != '`')
			buf[n++] = **p;
		(*p)++;
	}
	buf[n] = '\0';
	if (n == 0)
		fail_msg("no address at '%s'", *p);
	return strtoull(buf, NULL, 16);
}

/* The LIST_ENTRY at the address @p expr evaluates to: {where, Flink, Blink}. */
static void list_entry(const char *expr, uint64_t *at, uint64_t *flink,
		       uint64_t *blink)
{
	char c[256];
	char *out;
	const char *p;

	snprintf(c, sizeof(c), "dq %s L2", expr);
	out = cmd(c);
	if (strchr(out, '?'))
		fail_msg("'%s' could not read: %s", c, out);
	p = out;
	*at = parse_addr(&p);
	*flink = parse_addr(&p);
	*blink = parse_addr(&p);
	free(out);
}

static uint64_t eval(const char *expr)
{
	char c[256];
	char *out, *eq;
	const char *p;
	uint64_t v;

	snprintf(c, sizeof(c), "? %s", expr);
	out = cmd(c);
	eq = strstr(out, " = ");
	if (!eq)
		fail_msg("'%s' printed: %s", c, out);
	p = eq + 3;
	v = parse_addr(&p);
	free(out);
	return v;
}

static void expect_empty(const char *expr)
{
	uint64_t at, f, b;

	list_entry(expr, &at, &f, &b);
	if (f != at || b != at)
		fail_msg("%s at %llx: Flink %llx Blink %llx, want self-linked",
			 expr, (unsigned long long)at, (unsigned long long)f,
			 (unsigned long long)b);
}

/* A non-empty ring: every entry's Blink is the one before it. */
static void expect_ring(const char *expr)
{
	uint64_t head, f, b, at, prev, f2, b2;
	char e[64];
	int n = 0;

	list_entry(expr, &head, &f, &b);
	prev = head;
	at = f;
	while (at != head) {
		if (++n > 16)
			fail_msg("%s: no way back to the head", expr);
		snprintf(e, sizeof(e), "0x%llx", (unsigned long long)at);
		list_entry(e, &at, &f2, &b2);
		assert_int_equal(b2, prev);
		prev = at;
		at = f2;
	}
	assert_int_equal(b, prev);
	if (n == 0)
		fail_msg("%s at %llx is empty", expr, (unsigned long long)head);
}

static void test_lists(void **state)
{
	char sock[128], k[160], expr[256];
	const char *simargs[] = { "-k",		k,   "--cpus", "2",
				  "--print-ms", "0", NULL };
	const char *kdargs[] = { "-k", NULL, NULL };
	struct kc sim;
	uint64_t thread[2], links, head, at, f, b, f2, b2;
	char *banner;
	int i;

	(void)state;
	snprintf(sock, sizeof(sock), "/tmp/openkd-kdlists-%d.sock",
		 (int)getpid());
	unlink(sock);
	snprintf(k, sizeof(k), "com:pipe,port=%s", sock);
	kc_spawn(&sim, simargs);
	kdargs[1] = sim.host_connstr;
	kp_start(&g_kd, kdargs);
	banner = kp_wait_prompt(&g_kd, T_MS);
	if (!banner)
		fail_msg("no prompt; stderr:\n%s",
			 g_kd.err.data ? g_kd.err.data : "");
	free(banner);

	/* Every process but System: empty profile and wait lists, threads
	 * on rings through both thread-list heads. */
	links = eval("poi(nt!PsActiveProcessHead)");
	for (i = 1; i < NPROCS; i++) {
		snprintf(expr, sizeof(expr), "poi(0x%llx)",
			 (unsigned long long)links);
		links = eval(expr);
		snprintf(expr, sizeof(expr), "0x%llx",
			 (unsigned long long)(links + EPROC_THREADS));
		expect_ring(expr);
		snprintf(expr, sizeof(expr), "0x%llx",
			 (unsigned long long)(links + KPROC_THREADS));
		expect_ring(expr);
		snprintf(expr, sizeof(expr), "0x%llx",
			 (unsigned long long)(links + KPROC_PROFILE));
		expect_empty(expr);
		snprintf(expr, sizeof(expr), "0x%llx",
			 (unsigned long long)(links + DISP_WAIT));
		expect_empty(expr);
	}
	/* The walk of the six processes closes on the head. */
	snprintf(expr, sizeof(expr), "poi(0x%llx)", (unsigned long long)links);
	assert_int_equal(eval(expr), eval("nt!PsActiveProcessHead"));

	/* System's EPROCESS.ThreadListHead: head -> cpu0 -> cpu1 -> head. */
	free(cmd("~0s"));
	thread[0] = eval("@$thread");
	free(cmd("~1s"));
	thread[1] = eval("@$thread");
	assert_true(thread[0] != thread[1]);
	snprintf(expr, sizeof(expr), "poi(nt!PsActiveProcessHead)+0x%llx",
		 EPROC_THREADS);
	list_entry(expr, &head, &f, &b);
	assert_int_equal(f, thread[0] + ETHREAD_ENTRY);
	assert_int_equal(b, thread[1] + ETHREAD_ENTRY);
	snprintf(expr, sizeof(expr), "0x%llx",
		 (unsigned long long)(thread[0] + ETHREAD_ENTRY));
	list_entry(expr, &at, &f2, &b2);
	assert_int_equal(f2, thread[1] + ETHREAD_ENTRY);
	assert_int_equal(b2, head);
	/* ... and the KPROCESS one through KTHREAD.ThreadListEntry. */
	snprintf(expr, sizeof(expr), "poi(nt!PsActiveProcessHead)-0x%x",
		 LINKS - 0x30);
	list_entry(expr, &head, &f, &b);
	assert_int_equal(f, thread[0] + KTHREAD_ENTRY);
	assert_int_equal(b, thread[1] + KTHREAD_ENTRY);
	/* A thread's own wait list is empty. */
	snprintf(expr, sizeof(expr), "0x%llx",
		 (unsigned long long)(thread[1] + 8));
	expect_empty(expr);

	kp_send(&g_kd, "q\n");
	assert_int_equal(kp_finish(&g_kd, T_MS), 0);
	kp_free(&g_kd);
	kc_stop(&sim);
	unlink(sock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lists),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
