/* SPDX-License-Identifier: MIT */
/*
 * Symbol loading commands (cmd_symload.c) that cmd_sym.c's table lists.
 */
#ifndef KD_CMD_SYM_H
#define KD_CMD_SYM_H

#include "core/engine_int.h"

int kd_cmd__sympath(struct kd_session *s, struct kd_cmdctx *c);
int kd_cmd__symfix(struct kd_session *s, struct kd_cmdctx *c);
int kd_cmd__symopt(struct kd_session *s, struct kd_cmdctx *c);
int kd_cmd__bang_sym(struct kd_session *s, struct kd_cmdctx *c);
int kd_cmd__lines(struct kd_session *s, struct kd_cmdctx *c);
int kd_cmd__bm(struct kd_session *s, struct kd_cmdctx *c);
int kd_cmd__ld(struct kd_session *s, struct kd_cmdctx *c);
/*
 * kp / kP call site of frame @p fi: "mod!Func(type name = value, ...)+0x.."
 * into @p buf (@p one_per_line: kP's "\n\t" before each parameter).
 * KD_ENOTFOUND when no PDB procedure covers the frame's pc.
 */
int kd_cmd__kp_site(struct kd_session *s, const struct kd_frame *f, size_t fi,
		    bool one_per_line, char *buf, size_t cap);

/*
 * dv for frame @p f (number @p fi of the walk): the PDB procedure's
 * parameters and locals whose names match @p pattern (NULL: all), with
 * KD_DV_* columns.  A value the frame cannot give is
 * `<value unavailable>`, never a guess.
 */
#define KD_DV_TYPE 0x1u /* /t */
#define KD_DV_ADDR 0x2u /* /v */
#define KD_DV_KIND 0x4u /* /i */
int kd_cmd__dv(struct kd_session *s, const struct kd_frame *f, size_t fi,
	       unsigned flags, const char *pattern);

#endif /* KD_CMD_SYM_H */
