/* SPDX-License-Identifier: MIT */
/*
 * The C++ expression commands of cmd_cpp.c, listed in cmd_expr.c's
 * table: `??` and `dx`.
 */
#ifndef KD_CMD_CPP_H
#define KD_CMD_CPP_H

#include "core/engine_int.h"

/* ?? expr */
int kd_cmd__cpp_eval(struct kd_session *s, struct kd_cmdctx *c);
/* dx [-r[N]] expr */
int kd_cmd__dx(struct kd_session *s, struct kd_cmdctx *c);

#endif /* KD_CMD_CPP_H */
