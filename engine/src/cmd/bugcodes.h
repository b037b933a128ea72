/* SPDX-License-Identifier: MIT */
/*
 * Bug-check code names: every code of Microsoft's bug check code
 * reference (bugcodes.c), for !analyze and .bugcheck.
 */
#ifndef KD_CMD_BUGCODES_H
#define KD_CMD_BUGCODES_H

#include <stddef.h>
#include <stdint.h>

struct kd_bugcode {
	uint32_t code;
	const char *name;
};

/* The name Microsoft documents for @p code, or NULL. */
const char *kd_cmd__bugcode_name(uint32_t code);
/* The whole table, sorted by code (for the unit test). */
const struct kd_bugcode *kd_cmd__bugcodes(size_t *n);

/* "Access violation", "Break instruction exception"... (cmd_exec.c). */
const char *kd_cmd__exception_name(uint32_t code);

#endif /* KD_CMD_BUGCODES_H */
