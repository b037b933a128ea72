/* SPDX-License-Identifier: MIT */
/*
 * Context loading for !analyze (cmd_dump.c): the records a bug check
 * names, shown as .exr / .cxr / .trap show them.  Errors are returned,
 * not printed: the caller says what it could not read.
 */
#ifndef KD_CMD_CTX_H
#define KD_CMD_CTX_H

#include "core/engine_int.h"

/* Where the dump's bug check keeps its EXCEPTION_RECORD, CONTEXT and
 * _KTRAP_FRAME (0 when the code names none). */
void kd_cmd__bugcheck_records(struct kd_session *s, uint64_t *exr,
			      uint64_t *cxr, uint64_t *trap);
/* Load the CONTEXT / _KTRAP_FRAME at @p addr as the register context
 * (KD_EFAULT unreadable, KD_ENOTSUP .trap off x64); the _show forms
 * print it too, as .cxr / .trap do. */
int kd_cmd__cxr_load(struct kd_session *s, uint64_t addr);
int kd_cmd__cxr_show(struct kd_session *s, uint64_t addr);
int kd_cmd__trap_load(struct kd_session *s, uint64_t addr);
int kd_cmd__trap_show(struct kd_session *s, uint64_t addr);
/* Print the EXCEPTION_RECORD at @p addr as .exr does. */
int kd_cmd__exr_show(struct kd_session *s, uint64_t addr);
/* Back to the processor's own registers. */
void kd_cmd__scope_reset(struct kd_session *s);

#endif /* KD_CMD_CTX_H */
