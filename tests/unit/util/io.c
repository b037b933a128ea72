/* SPDX-License-Identifier: MIT */
/*
 * kd/io.h over real descriptors: kd_write_all and kd_read_full through a
 * pipe far larger than its buffer, kd_send_all through a socketpair with a
 * small send buffer (partial sends) and non-blocking ends (EAGAIN waits),
 * end of file, a peer that went away (EPIPE, no SIGPIPE), bad descriptors
 * and kd_pwrite_all at an offset of a real file.
 */
#define _GNU_SOURCE /* pipe2, pread */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include <kd/io.h>

#define BIG (1u << 20) /* 16 times a default pipe buffer */

static unsigned char *pattern(size_t len, unsigned seed)
{
	unsigned char *p = malloc(len);

	assert_non_null(p);
	for (size_t i = 0; i < len; i++)
		p[i] = (unsigned char)((i * 131u + seed) ^ (i >> 9));
	return p;
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	assert_true(fl >= 0);
	assert_int_equal(fcntl(fd, F_SETFL, fl | O_NONBLOCK), 0);
}

struct writer {
	int fd;
	bool send;
	const unsigned char *buf;
	size_t len;
	int rc, err;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;

	w->rc = w->send ? kd_send_all(w->fd, w->buf, w->len) :
			  kd_write_all(w->fd, w->buf, w->len);
	w->err = errno;
	close(w->fd);
	return NULL;
}

/* Read @p len bytes in small reads, so the writer sees partial writes. */
static void read_slowly(int fd, unsigned char *out, size_t len)
{
	size_t got = 0;

	while (got < len) {
		size_t want = len - got < 777 ? len - got : 777;
		ssize_t n = kd_read_full(fd, out + got, want);

		assert_true(n > 0);
		got += (size_t)n;
	}
}

static void test_io__pipe_big(void **state)
{
	unsigned char *src = pattern(BIG, 1), *dst = calloc(1, BIG + 16);
	struct writer w = { .send = false, .buf = src, .len = BIG };
	pthread_t th;
	int p[2];

	(void)state;
	assert_non_null(dst);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	w.fd = p[1];
	assert_int_equal(pthread_create(&th, NULL, writer_main, &w), 0);
	/* One call reads it all; the rest after the writer closed: EOF. */
	assert_int_equal(kd_read_full(p[0], dst, BIG), (ssize_t)BIG);
	assert_int_equal(kd_read_full(p[0], dst + BIG, 16), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(w.rc, 0);
	assert_memory_equal(src, dst, BIG);
	close(p[0]);
	free(src);
	free(dst);
}

/*
 * A socketpair with a small send buffer and non-blocking ends: send() takes
 * part of the buffer and then fails with EAGAIN, and recv() has nothing
 * at first; kd_send_all and kd_read_full wait in poll() and finish.
 */
static void test_io__socket_partial_nonblocking(void **state)
{
	unsigned char *src = pattern(BIG, 2), *dst = calloc(1, BIG);
	struct writer w = { .send = true, .buf = src, .len = BIG };
	int sv[2], small = 4096;
	pthread_t th;
	ssize_t n;

	(void)state;
	assert_non_null(dst);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(
		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)),
		0);
	assert_int_equal(
		setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)),
		0);
	set_nonblock(sv[0]);
	set_nonblock(sv[1]);
	/* Nothing sent yet: a read would block, so this one must wait. */
	assert_int_equal(recv(sv[1], dst, 1, 0), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	/* The buffer is small: one send takes only part of a big write. */
	n = send(sv[0], src, BIG, MSG_NOSIGNAL);
	assert_true(n > 0 && (size_t)n < BIG);
	w.fd = sv[0];
	w.buf = src + n;
	w.len = BIG - (size_t)n;
	assert_int_equal(pthread_create(&th, NULL, writer_main, &w), 0);
	read_slowly(sv[1], dst, BIG);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(w.rc, 0);
	assert_memory_equal(src, dst, BIG);
	/* The writer closed its end: end of file, not an error. */
	assert_int_equal(kd_read_full(sv[1], dst, 10), 0);
	close(sv[1]);
	free(src);
	free(dst);
}

/* Fewer bytes than asked come back only at end of file. */
static void test_io__short_read_at_eof(void **state)
{
	char buf[64];
	int p[2];

	(void)state;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(kd_write_all(p[1], "0123456789", 10), 0);
	assert_int_equal(kd_write_all(p[1], "", 0), 0);
	close(p[1]);
	assert_int_equal(kd_read_full(p[0], buf, sizeof(buf)), 10);
	assert_memory_equal(buf, "0123456789", 10);
	assert_int_equal(kd_read_full(p[0], buf, sizeof(buf)), 0);
	assert_int_equal(kd_read_full(p[0], buf, 0), 0);
	close(p[0]);
}

/* A peer that went away: EPIPE from kd_send_all, and no SIGPIPE. */
static void test_io__peer_gone(void **state)
{
	unsigned char *src = pattern(BIG, 3);
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	errno = 0;
	assert_int_equal(kd_send_all(sv[0], src, BIG), -1);
	assert_int_equal(errno, EPIPE);
	close(sv[0]);
	free(src);
}

static void test_io__bad_fd(void **state)
{
	char buf[8] = "abc";
	int p[2];

	(void)state;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	close(p[0]);
	close(p[1]);
	errno = 0;
	assert_int_equal(kd_write_all(p[1], buf, 3), -1);
	assert_int_equal(errno, EBADF);
	errno = 0;
	assert_int_equal(kd_send_all(p[1], buf, 3), -1);
	assert_int_equal(errno, EBADF);
	errno = 0;
	assert_int_equal(kd_pwrite_all(p[1], buf, 3, 0), -1);
	assert_int_equal(errno, EBADF);
	errno = 0;
	assert_int_equal(kd_read_full(p[0], buf, 3), -1);
	assert_int_equal(errno, EBADF);
	/* Not a socket: send() fails, and so does kd_send_all. */
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	errno = 0;
	assert_int_equal(kd_send_all(p[1], buf, 3), -1);
	assert_int_equal(errno, ENOTSOCK);
	/* A pipe cannot seek: pwrite() fails with ESPIPE. */
	errno = 0;
	assert_int_equal(kd_pwrite_all(p[1], buf, 3, 0), -1);
	assert_int_equal(errno, ESPIPE);
	close(p[0]);
	close(p[1]);
}

/* kd_pwrite_all lands at its offset and leaves the file offset alone. */
static void test_io__pwrite_file(void **state)
{
	char path[] = "/tmp/kd-util-io-XXXXXX";
	unsigned char *src = pattern(BIG, 4), *back = calloc(1, BIG);
	unsigned char head[100], zero[100] = { 0 };
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_non_null(back);
	unlink(path);
	assert_int_equal(kd_pwrite_all(fd, src, BIG, 100), 0);
	assert_int_equal(kd_pwrite_all(fd, src, 0, 5), 0);
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 0);
	assert_int_equal(lseek(fd, 0, SEEK_END), 100 + BIG);
	assert_int_equal(pread(fd, head, sizeof(head), 0), sizeof(head));
	assert_memory_equal(head, zero, sizeof(zero));
	assert_int_equal(lseek(fd, 100, SEEK_SET), 100);
	assert_int_equal(kd_read_full(fd, back, BIG), (ssize_t)BIG);
	assert_memory_equal(src, back, BIG);
	close(fd);
	free(src);
	free(back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_io__pipe_big),
		cmocka_unit_test(test_io__socket_partial_nonblocking),
		cmocka_unit_test(test_io__short_read_at_eof),
		cmocka_unit_test(test_io__peer_gone),
		cmocka_unit_test(test_io__bad_fd),
		cmocka_unit_test(test_io__pwrite_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
