/* SPDX-License-Identifier: MIT */
/*
 * Names of the shared error codes.  Part of kdproto so that freestanding
 * builds (firmware stubs) can print them too.
 */
#include <kd/common.h>

const char *kd_strerror(int code)
{
	switch (code) {
	case KD_OK:
		return "KD_OK";
	case KD_ERROR:
		return "KD_ERROR";
	case KD_ENOMEM:
		return "KD_ENOMEM";
	case KD_EINVAL:
		return "KD_EINVAL";
	case KD_ETIMEOUT:
		return "KD_ETIMEOUT";
	case KD_EAGAIN:
		return "KD_EAGAIN";
	case KD_EBUFS:
		return "KD_EBUFS";
	case KD_EPROTO:
		return "KD_EPROTO";
	case KD_EDISCONNECTED:
		return "KD_EDISCONNECTED";
	case KD_EAUTH:
		return "KD_EAUTH";
	case KD_ENOTSUP:
		return "KD_ENOTSUP";
	case KD_ENOTFOUND:
		return "KD_ENOTFOUND";
	case KD_EBUSY:
		return "KD_EBUSY";
	case KD_EOVERFLOW:
		return "KD_EOVERFLOW";
	case KD_ETRUNC:
		return "KD_ETRUNC";
	case KD_EFAULT:
		return "KD_EFAULT";
	}
	return "KD_E?";
}
