/* SPDX-License-Identifier: MIT */
/*
 * The C++ evaluator over a debugging session (cppsession.c): what `??`,
 * `dx` and MASM's @@c++() call.
 */
#ifndef KD_EXPR_CPPSESSION_H
#define KD_EXPR_CPPSESSION_H

#include "core/engine_int.h"
#include "expr/cppexpr.h"

/* The MASM evaluator (kd_expr_eval's shape), for @@masm() and the
 * pseudo-registers; passed in so the C++ side never names expr.c. */
typedef int (*kd_cpp_masm_fn)(struct kd_session *s, const char *text,
			      const char **end, uint64_t *value);

/* The ops of a session and the room their context lives in. */
struct kd_cpp_session {
	struct kd_cpp_ops ops;
	uint64_t ctx_space[4];
};

/* Fill @p out with the backend of session @p s. */
void kd_cpp__session_ops(struct kd_session *s, kd_cpp_masm_fn masm,
			 struct kd_cpp_session *out);

/*
 * Evaluate C++ @p text to a number (a structure gives its address), for
 * @@c++() in MASM.  *@p end where it stopped; @p err says why it failed.
 */
int kd_cpp__session_eval(struct kd_session *s, kd_cpp_masm_fn masm,
			 const char *text, const char **end, uint64_t *value,
			 struct kd_cpp_error *err);

#endif /* KD_EXPR_CPPSESSION_H */
