/* SPDX-License-Identifier: MIT */
/*
 * x86 / ARM64 register model on a fake dump-like target: native register
 * names and widths, 8-digit addresses, and the bounds of the EBP and
 * frame-record walks (loops, unreadable memory, depth).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <kd/dump.h>

#include "core/engine_int.h"

#define STACK_VA 0x80600000ull
#define STACK_LEN 0x4000u

struct arch_fake {
	struct kd_target t;
	uint8_t ctx[KD_NATIVE_CTX_MAX];
	size_t ctx_len;
	uint64_t base; /* where stack[] is mapped */
	uint8_t stack[STACK_LEN];
};

static int af_read(struct kd_target *t, unsigned cpu, uint64_t va, void *buf,
		   size_t len, size_t *done)
{
	struct arch_fake *f = (struct arch_fake *)t;
	size_t n = 0;

	(void)cpu;
	while (n < len && va + n >= f->base && va + n - f->base < STACK_LEN) {
		((uint8_t *)buf)[n] = f->stack[va + n - f->base];
		n++;
	}
	*done = n;
	return n ? KD_OK : KD_EFAULT;
}

static int af_ctx(struct kd_target *t, unsigned cpu, uint8_t *ctx)
{
	(void)t;
	(void)cpu;
	memset(ctx, 0, KD_AMD64_CONTEXT_SIZE);
	return KD_OK;
}

static int af_native(struct kd_target *t, unsigned cpu, uint8_t *buf,
		     size_t cap, size_t *len)
{
	struct arch_fake *f = (struct arch_fake *)t;

	(void)cpu;
	if (cap < f->ctx_len)
		return KD_EBUFS;
	memcpy(buf, f->ctx, f->ctx_len);
	*len = f->ctx_len;
	return KD_OK;
}

static const struct kd_target_ops af_ops = {
	.name = "fake-dump",
	.read_virtual = af_read,
	.get_context = af_ctx,
	.get_native_context = af_native,
};

static struct kd_session *af_session(struct arch_fake *f, uint32_t machine)
{
	struct kd_session *s = NULL;

	assert_int_equal(kd_session_new(&s, NULL), KD_OK);
	assert_non_null(s);
	f->t.ops = &af_ops;
	f->t.session = s;
	f->base = STACK_VA;
	f->ctx_len = machine == KD_DUMP_MACHINE_I386 ? 0x2CC : 0x390;
	s->target = &f->t;
	s->tgt.ncpus = 1;
	s->tgt.cpus = kd_calloc(1, sizeof(*s->tgt.cpus));
	s->tgt.have_version = true;
	s->tgt.version.flags = machine == KD_DUMP_MACHINE_I386 ?
				       0 :
				       KD_VERS_FLAG_PTR64;
	s->tgt.machine = machine;
	return s;
}

static void af_free(struct kd_session *s)
{
	s->target = NULL;
	kd_session_free(s);
}

static void test_x86_names(void **state)
{
	struct arch_fake *f = calloc(1, sizeof(*f));
	struct kd_session *s;
	uint64_t v = 0;
	unsigned bits = 0;
	char buf[18];

	(void)state;
	s = af_session(f, KD_DUMP_MACHINE_I386);
	kd_put_le32(f->ctx + 0xB0, 0x12345678); /* Eax */
	kd_put_le32(f->ctx + 0xC0, 0x3246);	/* EFlags: IOPL 3, ZF */
	kd_put_le32(f->ctx + 0x90, 0x30);	/* SegFs */
	assert_true(kd_arch_native(s));
	assert_true(kd_arch_is_x86(s));
	assert_int_equal(kd_arch_reg_get(s, 0, "EAX", 3, &v, &bits), KD_OK);
	assert_true(v == 0x12345678 && bits == 32);
	assert_int_equal(kd_arch_reg_get(s, 0, "ah", 2, &v, &bits), KD_OK);
	assert_true(v == 0x56 && bits == 8);
	assert_int_equal(kd_arch_reg_get(s, 0, "ax", 2, &v, &bits), KD_OK);
	assert_true(v == 0x5678 && bits == 16);
	assert_int_equal(kd_arch_reg_get(s, 0, "zf", 2, &v, &bits), KD_OK);
	assert_true(v == 1 && bits == 1);
	assert_int_equal(kd_arch_reg_get(s, 0, "cf", 2, &v, &bits), KD_OK);
	assert_true(v == 0);
	assert_int_equal(kd_arch_reg_get(s, 0, "iopl", 4, &v, &bits), KD_OK);
	assert_true(v == 3);
	assert_int_equal(kd_arch_reg_get(s, 0, "fs", 2, &v, &bits), KD_OK);
	assert_true(v == 0x30 && bits == 16);
	assert_int_equal(kd_arch_reg_get(s, 0, "rax", 3, &v, &bits),
			 KD_ENOTFOUND);
	assert_int_equal(kd_arch_reg_get(s, 0, "x0", 2, &v, &bits),
			 KD_ENOTFOUND);
	assert_string_equal(kd_arch_reg_name(s, "EFL", 3), "efl");
	assert_string_equal(kd_fmt_ptr(s, buf, 0xffffffff80400100ull),
			    "80400100");
	/* Expressions use the same names. */
	assert_int_equal(kd_expr_eval(s, "@eax+1", NULL, &v), KD_OK);
	assert_true(v == 0x12345679);
	assert_int_not_equal(kd_expr_eval(s, "@rax", NULL, &v), KD_OK);
	af_free(s);
	free(f);
}

static void test_a64_names(void **state)
{
	struct arch_fake *f = calloc(1, sizeof(*f));
	struct kd_session *s;
	uint64_t v = 0;
	unsigned bits = 0;
	char buf[18];

	(void)state;
	s = af_session(f, KD_DUMP_MACHINE_ARM64);
	kd_put_le64(f->ctx + 0x08 + 8 * 28, 0x2828282828282828ull);
	kd_put_le64(f->ctx + 0x08 + 8 * 3, 0x1111222233334444ull);
	kd_put_le64(f->ctx + 0xF0, 0xfffff80000601000ull); /* Fp */
	kd_put_le32(f->ctx + 0x04, 0x60000005);		   /* Cpsr */
	assert_true(kd_arch_is_arm64(s));
	assert_int_equal(kd_arch_reg_get(s, 0, "x28", 3, &v, &bits), KD_OK);
	assert_true(v == 0x2828282828282828ull && bits == 64);
	assert_int_equal(kd_arch_reg_get(s, 0, "W3", 2, &v, &bits), KD_OK);
	assert_true(v == 0x33334444ull && bits == 32);
	assert_int_equal(kd_arch_reg_get(s, 0, "x29", 3, &v, &bits), KD_OK);
	assert_true(v == 0xfffff80000601000ull);
	assert_string_equal(kd_arch_reg_name(s, "x29", 3), "x29");
	assert_int_equal(kd_arch_reg_get(s, 0, "zf", 2, &v, &bits), KD_OK);
	assert_true(v == 1);
	assert_int_equal(kd_arch_reg_get(s, 0, "nf", 2, &v, &bits), KD_OK);
	assert_true(v == 0);
	assert_int_equal(kd_arch_reg_get(s, 0, "x31", 3, &v, &bits),
			 KD_ENOTFOUND);
	assert_int_equal(kd_arch_reg_get(s, 0, "x03", 3, &v, &bits),
			 KD_ENOTFOUND);
	assert_int_equal(kd_arch_reg_get(s, 0, "eax", 3, &v, &bits),
			 KD_ENOTFOUND);
	assert_string_equal(kd_fmt_ptr(s, buf, 0xfffff80000601000ull),
			    "fffff800`00601000");
	assert_int_equal(kd_expr_eval(s, "x3 & 0xffff", NULL, &v), KD_OK);
	assert_true(v == 0x4444);
	af_free(s);
	free(f);
}

/* x86 EBP chains: a loop, a walk into unmapped memory, a long chain. */
static void test_x86_walk_bounds(void **state)
{
	struct arch_fake *f = calloc(1, sizeof(*f));
	struct kd_frame fr[300];
	struct kd_session *s;
	size_t n = 0, i;

	(void)state;
	s = af_session(f, KD_DUMP_MACHINE_I386);
	kd_put_le32(f->ctx + 0xB8, 0x80400000);		/* Eip */
	kd_put_le32(f->ctx + 0xB4, (uint32_t)STACK_VA); /* Ebp */
	/* [ebp] = ebp: a loop. */
	kd_put_le32(f->stack, (uint32_t)STACK_VA);
	kd_put_le32(f->stack + 4, 0x80400100);
	assert_int_equal(kd_stack_walk(s, 0, fr, 300, &n), KD_OK);
	assert_int_equal(n, 1);
	assert_true(fr[0].sp == STACK_VA && fr[0].ret == 0x80400100);
	/* The next frame points outside the stack: it shows, unreturned. */
	kd_put_le32(f->stack, (uint32_t)STACK_VA + 0x10000);
	kd_cache_invalidate(s);
	assert_int_equal(kd_stack_walk(s, 0, fr, 300, &n), KD_OK);
	assert_int_equal(n, 2);
	assert_true(fr[1].ip == 0x80400100 && fr[1].ret == 0);
	/* A long increasing chain stops at the depth asked for. */
	for (i = 0; i < STACK_LEN / 16; i++) {
		kd_put_le32(f->stack + 16 * i,
			    (uint32_t)(STACK_VA + 16 * (i + 1)));
		kd_put_le32(f->stack + 16 * i + 4, 0x80400000 + (uint32_t)i);
	}
	kd_cache_invalidate(s);
	assert_int_equal(kd_stack_walk(s, 0, fr, 40, &n), KD_OK);
	assert_int_equal(n, 40);
	assert_true(fr[39].sp == STACK_VA + 16 * 39);
	assert_int_equal(kd_stack_walk(s, 0, fr, 300, &n), KD_OK);
	assert_true(n <= 256);
	af_free(s);
	free(f);
}

/* ARM64 frame records: a record that points back is a loop. */
static void test_a64_walk_bounds(void **state)
{
	struct arch_fake *f = calloc(1, sizeof(*f));
	struct kd_frame fr[16];
	struct kd_session *s;
	size_t n = 0;

	(void)state;
	s = af_session(f, KD_DUMP_MACHINE_ARM64);
	f->base = 0xfffff80000600000ull;
	kd_put_le64(f->ctx + 0x108, 0xfffff80000400000ull); /* Pc */
	kd_put_le64(f->ctx + 0x100, f->base + 0x100);	    /* Sp */
	kd_put_le64(f->ctx + 0xF0, f->base + 0x200);	    /* Fp */
	kd_put_le64(f->ctx + 0xF8, 0xfffff80000400400ull);  /* Lr */
	/* fp -> fp + 0x40 -> fp (loop). */
	kd_put_le64(f->stack + 0x200, f->base + 0x240);
	kd_put_le64(f->stack + 0x208, 0xfffff80000400500ull);
	kd_put_le64(f->stack + 0x240, f->base + 0x200);
	kd_put_le64(f->stack + 0x248, 0xfffff80000400600ull);
	assert_int_equal(kd_stack_walk(s, 0, fr, 16, &n), KD_OK);
	assert_int_equal(n, 3);
	assert_true(fr[0].ip == 0xfffff80000400000ull &&
		    fr[0].ret == 0xfffff80000400400ull);
	assert_true(fr[1].ip == 0xfffff80000400400ull &&
		    fr[1].ret == 0xfffff80000400500ull);
	assert_true(fr[2].ip == 0xfffff80000400500ull &&
		    fr[2].ret == 0xfffff80000400600ull &&
		    fr[2].sp == f->base + 0x210);
	/* A function that saved lr in its own record: not listed twice. */
	kd_put_le64(f->stack + 0x208, 0xfffff80000400400ull);
	kd_put_le64(f->stack + 0x240, 0);
	kd_cache_invalidate(s);
	assert_int_equal(kd_stack_walk(s, 0, fr, 16, &n), KD_OK);
	assert_int_equal(n, 3);
	assert_true(fr[1].ip == 0xfffff80000400400ull &&
		    fr[1].sp == f->base + 0x210 &&
		    fr[1].ret == 0xfffff80000400600ull);
	assert_true(fr[2].ip == 0xfffff80000400600ull && fr[2].ret == 0);
	af_free(s);
	free(f);
}

/* Output capture for command tests. */
struct af_out {
	char buf[4096];
	size_t len;
};

static void af_sink(void *ctx, const char *text, size_t len)
{
	struct af_out *o = ctx;

	if (len > sizeof(o->buf) - 1 - o->len)
		len = sizeof(o->buf) - 1 - o->len;
	memcpy(o->buf + o->len, text, len);
	o->len += len;
	o->buf[o->len] = '\0';
}

/* d* and bl print 8-digit addresses on a 32-bit target; dq values stay
 * 16 digits. */
static void test_x86_addr_columns(void **state)
{
	struct arch_fake *f = calloc(1, sizeof(*f));
	struct af_out *o = calloc(1, sizeof(*o));
	struct kd_session *s;
	unsigned i;

	(void)state;
	s = af_session(f, KD_DUMP_MACHINE_I386);
	kd_session_set_output(s, af_sink, o);
	for (i = 0; i < 8; i++)
		kd_put_le32(f->stack + 4 * i, 0x11111111u * (i + 1));
	s->exec.bps[0].used = true;
	s->exec.bps[0].enabled = true;
	s->exec.bps[0].addr = 0x80401000;
	s->exec.bps[0].passes = 1;
	s->exec.bps[0].passes_left = 1;
	assert_int_equal(kd_session_execute(s, "dd 80600000 L6"), KD_OK);
	assert_int_equal(kd_session_execute(s, "dq 80600000 L1"), KD_OK);
	assert_int_equal(kd_session_execute(s, "db 80600004 L4"), KD_OK);
	assert_int_equal(kd_session_execute(s, "dd 80603ff8 L4"), KD_OK);
	assert_int_equal(kd_session_execute(s, "bl"), KD_OK);
	assert_string_equal(o->buf,
			    "80600000  11111111 22222222 33333333 44444444\n"
			    "80600010  55555555 66666666\n"
			    "80600000  22222222`11111111\n"
			    "80600004  22 22 22 22"
			    "                                      \"\"\"\"\n"
			    "80603ff8  00000000 00000000 ???????? ????????\n"
			    "  0 e  80401000     0001 (0001) \n");
	s->exec.bps[0].used = false;
	af_free(s);
	free(f);
	free(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_x86_names),
		cmocka_unit_test(test_a64_names),
		cmocka_unit_test(test_x86_walk_bounds),
		cmocka_unit_test(test_a64_walk_bounds),
		cmocka_unit_test(test_x86_addr_columns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
