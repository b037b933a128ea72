/* SPDX-License-Identifier: MIT */
/*
 * `kd` against kdsim over KDNET, both real processes on loopback, looking at
 * what crosses the wire: a wrong key is reported as such within the attach
 * bound.
 */
#include "kdsim_client.h"
#include "kd_proc.h"

#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/socket.h>
#include <cmocka.h>

#define T_MS 20000

/* A UDP port that was free a moment ago (bound and released). */
static int free_udp_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int port;

	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/*
 * kdsim offers under 1.2.3.4, kd answers nothing under 5.6.7.8.  With an
 * attach bound of 6 s (two of kdsim's 3 s OFFER periods) kd must name the
 * failed authentication, the target's address, and exit 3.
 */
static void test_wrong_key(void **state)
{
	char k[160], host[160];
	const char *simargs[] = { "-k", k, "--cpus", "1", "--print-ms", "0",
				  NULL };
	const char *kdargs[] = { "-k", host, "--timeout", "6000", "-c", "r",
				 NULL };
	struct kc sim;
	char *out = NULL, *err = NULL;
	int port = free_udp_port();
	int st;

	(void)state;
	snprintf(k, sizeof(k), "net:port=%d,key=1.2.3.4,hostip=127.0.0.1",
		 port);
	snprintf(host, sizeof(host), "net:port=%d,key=5.6.7.8", port);
	kc_spawn(&sim, simargs);
	st = kp_run(kdargs, NULL, T_MS, &out, &err);
	kc_stop(&sim);
	if (st != 3 || !strstr(err, "failed authentication: wrong key?") ||
	    !strstr(out, "failed authentication: wrong key?") ||
	    strstr(err, "no KDNET target") || strstr(err, "did not answer"))
		fail_msg("kd exited %d\nstdout:\n%s\nstderr:\n%s", st, out,
			 err);
	/* The target's address as the user knows it, not ::ffff:. */
	assert_non_null(strstr(err, "datagram from 127.0.0.1:"));
	free(out);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wrong_key),
	};

	if (!kd_transport_available("net"))
		return 77;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
