/* SPDX-License-Identifier: MIT */
/*
 * Connection-string parameters: `key=value,flag,key=@{nested}` parsed into a
 * bounded list with typed, range-checked getters.  Transport drivers read
 * their options with it (kd/sys/transport.h), the remote channel its
 * `tcp:`/`ssl:` options.  Hosted only; no state outside the list.
 */
#ifndef KD_PARAMS_H
#define KD_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kd/common.h>

KD_BEGIN_DECLS

/* Longest scheme name the parser keeps (`kdsrv`, `ssl`, ...). */
#define KD_PARAMS_SCHEME_MAX 15

/*
 * One accepted key of a driver.  KD_PARAM_FLAG keys take no value (`pipe`,
 * `reconnect`); KD_PARAM_VALUE keys need a non-empty one (`port=...`).
 */
#define KD_PARAM_FLAG 0x1u
#define KD_PARAM_VALUE 0x2u

struct kd_param_spec {
	const char *key;   /* lower case; matched case-insensitively */
	unsigned int kind; /* KD_PARAM_FLAG or KD_PARAM_VALUE */
};

/* Limits of the connection-string parser (bounded input, bounded state). */
#define KD_PARAMS_MAX_TEXT 4096
#define KD_PARAMS_MAX_ITEMS 32
#define KD_PARAMS_MAX_NESTING 8

/*
 * Opaque list of `key[=value]` items parsed from the part of a connection
 * string after `scheme:`.  Keys compare case-insensitively.  A value written
 * `@{...}` is kept whole (the text between the braces, nesting included).
 */
struct kd_params;

/**
 * Parse @p text (`port=/dev/ttyS0,baud=115200,pipe`) for @p scheme.
 * Ownership: *out belongs to the caller; free with kd_params_free().
 * @return KD_OK; KD_EINVAL with a one-line message naming the bad part;
 *         KD_ENOMEM.
 */
KD_API KD_WARN_UNUSED int kd_params_parse(struct kd_params **out,
					  const char *scheme, const char *text);

/** Free a parameter list.  NULL-safe. */
KD_API void kd_params_free(struct kd_params *p);

/**
 * Reject keys not in @p specs (terminated by a {NULL, 0} entry), values on
 * flags and flags without values.
 * @return KD_OK; KD_EINVAL with `unknown option 'bud' for com`,
 *         `missing value for 'port'` or `option 'pipe' takes no value`.
 */
KD_API KD_WARN_UNUSED int kd_params_validate(const struct kd_params *p,
					     const struct kd_param_spec *specs);

/** The scheme the list was parsed for (borrowed). */
KD_API const char *kd_params_scheme(const struct kd_params *p);

/** Number of items. */
KD_API size_t kd_params_count(const struct kd_params *p);

/**
 * Item @p i: key (as written) and value (NULL for a flag).  Borrowed until
 * kd_params_free().  @return KD_OK or KD_EINVAL when @p i is out of range.
 */
KD_API int kd_params_at(const struct kd_params *p, size_t i,
			const char **key_out, const char **value_out);

/** True when @p key is present, with or without a value. */
KD_API bool kd_params_has(const struct kd_params *p, const char *key);

/** Value of @p key, NULL when absent or a flag.  Borrowed. */
KD_API const char *kd_params_get(const struct kd_params *p, const char *key);

/** True when @p key's value was written as `@{...}`. */
KD_API bool kd_params_is_nested(const struct kd_params *p, const char *key);

/**
 * String value of @p key, or @p def when absent.
 * @return KD_OK; KD_EINVAL when the key is a flag (`missing value for ...`).
 */
KD_API KD_WARN_UNUSED int kd_params_get_str(const struct kd_params *p,
					    const char *key, const char *def,
					    const char **out);

/**
 * Unsigned value of @p key (decimal or 0x hex) in [min, max], or @p def when
 * absent.
 * @return KD_OK; KD_EINVAL (`value 'x' for 'baud' is not a number`,
 *         `value 70000 for 'port' out of range (0..65535)`).
 */
KD_API KD_WARN_UNUSED int kd_params_get_u32(const struct kd_params *p,
					    const char *key, uint32_t min,
					    uint32_t max, uint32_t def,
					    uint32_t *out);

/** As kd_params_get_u32() for 64-bit values. */
KD_API KD_WARN_UNUSED int kd_params_get_u64(const struct kd_params *p,
					    const char *key, uint64_t min,
					    uint64_t max, uint64_t def,
					    uint64_t *out);

/** Decimal fraction value of @p key in [min, max] (`drop=0.01`). */
KD_API KD_WARN_UNUSED int kd_params_get_double(const struct kd_params *p,
					       const char *key, double min,
					       double max, double def,
					       double *out);

/**
 * Index into @p names (NULL-terminated) of @p key's value, compared
 * case-insensitively; @p def when absent.
 * @return KD_OK; KD_EINVAL (`value 'x' for 'dir' must be one of tx, rx`).
 */
KD_API KD_WARN_UNUSED int kd_params_get_enum(const struct kd_params *p,
					     const char *key,
					     const char *const *names, int def,
					     int *out);

KD_END_DECLS

#endif /* KD_PARAMS_H */
