/* SPDX-License-Identifier: MIT */
/*
 * Definitions every openkd component shares: error codes, export and
 * attribute macros, and the little-endian load/store helpers.  Freestanding:
 * only <stdint.h>, <stddef.h> and <stdbool.h>.
 */
#ifndef KD_COMMON_H
#define KD_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define KD_BEGIN_DECLS extern "C" {
#define KD_END_DECLS }
#else
#define KD_BEGIN_DECLS
#define KD_END_DECLS
#endif

#if defined(__GNUC__) || defined(__clang__)
#define KD_API __attribute__((visibility("default")))
#define KD_WARN_UNUSED __attribute__((warn_unused_result))
#define KD_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define KD_NORETURN __attribute__((noreturn))
#else
#define KD_API
#define KD_WARN_UNUSED
#define KD_PRINTF(fmt, args)
#define KD_NORETURN
#endif

KD_BEGIN_DECLS

/*
 * Every function that can fail returns 0 or one of these negative codes.
 * Detail, where a hosted component has any, is in kd_error_last().
 */
enum kd_error_code {
	KD_OK = 0,
	KD_ERROR = -1, /* details in kd_error_last() */
	KD_ENOMEM = -2,
	KD_EINVAL = -3, /* bad argument or malformed user input */
	KD_ETIMEOUT = -4,
	KD_EAGAIN = -5,	       /* would block; wait and retry */
	KD_EBUFS = -6,	       /* caller buffer too small */
	KD_EPROTO = -7,	       /* malformed or unexpected packet */
	KD_EDISCONNECTED = -8, /* the peer or channel went away */
	KD_EAUTH = -9,	       /* KDNET key or MAC mismatch, bad password */
	KD_ENOTSUP = -10,
	KD_ENOTFOUND = -11,
	KD_EBUSY = -12,
	KD_EOVERFLOW = -13, /* a number does not fit */
	KD_ETRUNC = -14,    /* input ends before the structure does */
	KD_EFAULT = -15,    /* target memory not accessible */
};

/* --- Little-endian and big-endian accessors on byte buffers --- */

static inline uint16_t kd_get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t kd_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static inline uint64_t kd_get_le64(const uint8_t *p)
{
	return (uint64_t)kd_get_le32(p) | ((uint64_t)kd_get_le32(p + 4) << 32);
}

static inline void kd_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void kd_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void kd_put_le64(uint8_t *p, uint64_t v)
{
	kd_put_le32(p, (uint32_t)v);
	kd_put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint16_t kd_get_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline void kd_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Compile-time check usable at file scope and inside functions. */
#define KD_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)

#define KD_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/** Static name of an error code ("KD_ETIMEOUT"); never NULL. */
KD_API const char *kd_strerror(int code);

KD_END_DECLS

#endif /* KD_COMMON_H */
