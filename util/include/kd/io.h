/* SPDX-License-Identifier: MIT */
/*
 * Whole-buffer I/O on file descriptors.  write(2), send(2) and read(2) may
 * move fewer bytes than asked (a full socket buffer, a pipe, a signal), so
 * each caller wrote the same loop; these are that loop, once:
 *
 *	if (kd_send_all(fd, line, len) < 0)
 *		return kd_error_set_os(KD_EDISCONNECTED, errno, "sending");
 *
 * All of them retry EINTR, and on a non-blocking descriptor wait in poll()
 * for room or data when the call would block (EAGAIN), so they return only
 * when done, at end of file, or on a real error.  None allocates or
 * records kd_error_last(): they report like the system calls, with errno.
 */
#ifndef KD_IO_H
#define KD_IO_H

#include <sys/types.h>

#include <kd/common.h>

KD_BEGIN_DECLS

/**
 * Write all @p len bytes of @p buf to @p fd with write(2).
 * @return 0 when all are written; -1 with errno set on an error, EIO when
 * write(2) wrote nothing.  Bytes written before an error stay written.  A
 * pipe or socket without a reader raises SIGPIPE as write(2) does; use
 * kd_send_all() on sockets.
 */
KD_API int kd_write_all(int fd, const void *buf, size_t len);

/**
 * As kd_write_all(), with send(2) and MSG_NOSIGNAL for a socket @p fd: a
 * peer that went away gives -1 with errno EPIPE, never SIGPIPE.
 */
KD_API int kd_send_all(int fd, const void *buf, size_t len);

/**
 * Write all @p len bytes of @p buf to @p fd at file offset @p off with
 * pwrite(2) (the descriptor's own offset does not move).
 * @return 0 when all are written; -1 with errno set on an error, ENOSPC
 * when pwrite(2) wrote nothing (no room left).
 */
KD_API int kd_pwrite_all(int fd, const void *buf, size_t len, uint64_t off);

/**
 * Read from @p fd into @p buf until @p len bytes have come or the end of
 * file (a closed pipe, socket or pty peer).
 * @return the count read, less than @p len only at end of file (0: at end
 * already); -1 with errno set on an error (bytes read before it are in
 * @p buf but not counted).
 */
KD_API ssize_t kd_read_full(int fd, void *buf, size_t len);

KD_END_DECLS

#endif /* KD_IO_H */
