/* SPDX-License-Identifier: MIT */
/*
 * Whole-buffer I/O (kd/io.h): the write-all and read-full loops that used
 * to be copied wherever a descriptor was written or read.
 */
#define _GNU_SOURCE /* MSG_NOSIGNAL, pwrite */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <kd/io.h>

enum out_call {
	OUT_WRITE,
	OUT_SEND,
	OUT_PWRITE
};

/*
 * A call on the non-blocking @p fd would block: wait until it may not.
 * EINTR is no failure (the caller retries the call); 0 or -1 with errno.
 */
static int wait_ready(int fd, short events)
{
	struct pollfd p = { fd, events, 0 };

	if (poll(&p, 1, -1) < 0 && errno != EINTR)
		return -1;
	return 0;
}

/* errno says the call may be retried, after a wait for EAGAIN. */
static bool retry(int fd, short events)
{
	if (errno == EINTR)
		return true;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return wait_ready(fd, events) == 0;
	return false;
}

/*
 * Write @p len bytes with @p call until all are out; a call that writes
 * nothing fails with @p zero_err.  0 or -1 with errno.
 */
static int out_all(enum out_call call, int fd, const void *buf, size_t len,
		   uint64_t off, int zero_err)
{
	const unsigned char *p = buf;

	while (len > 0) {
		ssize_t n;

		if (call == OUT_SEND)
			n = send(fd, p, len, MSG_NOSIGNAL);
		else if (call == OUT_PWRITE)
			n = pwrite(fd, p, len, (off_t)off);
		else
			n = write(fd, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			off += (uint64_t)n;
			continue;
		}
		if (n == 0) {
			errno = zero_err;
			return -1;
		}
		if (!retry(fd, POLLOUT))
			return -1;
	}
	return 0;
}

int kd_write_all(int fd, const void *buf, size_t len)
{
	return out_all(OUT_WRITE, fd, buf, len, 0, EIO);
}

int kd_send_all(int fd, const void *buf, size_t len)
{
	return out_all(OUT_SEND, fd, buf, len, 0, EIO);
}

int kd_pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	return out_all(OUT_PWRITE, fd, buf, len, off, ENOSPC);
}

ssize_t kd_read_full(int fd, void *buf, size_t len)
{
	unsigned char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);

		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n == 0)
			break; /* end of file */
		if (!retry(fd, POLLIN))
			return -1;
	}
	return (ssize_t)got;
}
