/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the MASM expression evaluator, address ranges and the
 * `?`, `.formats` and `n` commands, on a session around a small fake
 * target (64 KiB of memory, one register context, control space).
 */
#define _DEFAULT_SOURCE 1 /* setenv, tzset */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/engine_int.h"
#include "testsupport.h"

#define MEM_BASE UINT64_C(0xfffff80010000000)
#define MEM_SIZE 0x10000u
#define PHYS_BASE UINT64_C(0x5000) /* physical alias of the first page */
#define KPCR_OFF 0x1000u
#define KPRCB_OFF 0x1180u
#define KTHREAD_OFF 0x2000u
#define EPROCESS_OFF 0x3000u
#define STACK_OFF 0x8000u
#define CR3_VALUE UINT64_C(0x100000)

struct fake {
	struct kd_target t;
	uint8_t mem[MEM_SIZE];
	uint8_t ctx[KD_AMD64_CONTEXT_SIZE];
	uint8_t *image; /* ntoskrnl.exe laid out by sections, or NULL */
	uint64_t image_base;
	uint32_t image_size;
};

struct env {
	struct kd_session *s;
	struct fake *f;
	char out[8192];
	size_t len;
};

static struct fake *fake_of(struct kd_target *t)
{
	return (struct fake *)t;
}

static int fake_read_virtual(struct kd_target *t, unsigned cpu, uint64_t va,
			     void *buf, size_t len, size_t *done)
{
	struct fake *f = fake_of(t);
	size_t n;

	(void)cpu;
	*done = 0;
	if (va >= MEM_BASE && va - MEM_BASE < MEM_SIZE) {
		n = MEM_SIZE - (size_t)(va - MEM_BASE);
		if (n > len)
			n = len;
		memcpy(buf, f->mem + (va - MEM_BASE), n);
		*done = n;
		return KD_OK;
	}
	if (f->image && va >= f->image_base &&
	    va - f->image_base < f->image_size) {
		n = f->image_size - (size_t)(va - f->image_base);
		if (n > len)
			n = len;
		memcpy(buf, f->image + (va - f->image_base), n);
		*done = n;
		return KD_OK;
	}
	return KD_OK;
}

static int fake_read_physical(struct kd_target *t, uint64_t pa, void *buf,
			      size_t len, size_t *done)
{
	struct fake *f = fake_of(t);
	size_t n;

	*done = 0;
	if (pa < PHYS_BASE || pa - PHYS_BASE >= 0x1000)
		return KD_OK;
	n = 0x1000 - (size_t)(pa - PHYS_BASE);
	if (n > len)
		n = len;
	memcpy(buf, f->mem + (pa - PHYS_BASE), n);
	*done = n;
	return KD_OK;
}

static int fake_read_control(struct kd_target *t, unsigned cpu, uint64_t sel,
			     void *buf, size_t len, size_t *done)
{
	struct kd_amd64_kspecial ks;
	uint8_t tmp[KD_AMD64_KSPECIAL_SIZE];
	size_t n = 0;
	uint64_t addr;

	(void)t;
	(void)cpu;
	*done = 0;
	switch (sel) {
	case KD_AMD64_CS_PCR:
		addr = MEM_BASE + KPCR_OFF;
		break;
	case KD_AMD64_CS_PRCB:
		addr = MEM_BASE + KPRCB_OFF;
		break;
	case KD_AMD64_CS_THREAD:
		addr = MEM_BASE + KTHREAD_OFF;
		break;
	case KD_AMD64_CS_KSPECIAL:
		memset(&ks, 0, sizeof(ks));
		ks.cr0 = 0x80050033;
		ks.cr3 = CR3_VALUE;
		ks.cr4 = 0x350ef8;
		ks.gdtr_base = MEM_BASE + 0x4000;
		ks.gdtr_limit = 0x57;
		ks.has_xcr0 = true;
		if (kd_amd64_kspecial_encode(tmp, sizeof(tmp), &n, &ks) < 0)
			return KD_EINVAL;
		if (n > len)
			n = len;
		memcpy(buf, tmp, n);
		*done = n;
		return KD_OK;
	default:
		return KD_EINVAL;
	}
	if (len < 8)
		return KD_EINVAL;
	kd_put_le64(buf, addr);
	*done = 8;
	return KD_OK;
}

static int fake_get_context(struct kd_target *t, unsigned cpu, uint8_t *ctx)
{
	(void)cpu;
	memcpy(ctx, fake_of(t)->ctx, KD_AMD64_CONTEXT_SIZE);
	return KD_OK;
}

static const struct kd_target_ops fake_ops = {
	.name = "fake",
	.read_virtual = fake_read_virtual,
	.read_physical = fake_read_physical,
	.read_control = fake_read_control,
	.get_context = fake_get_context,
};

static void sink(void *ctx, const char *text, size_t len)
{
	struct env *e = ctx;

	if (e->len + len >= sizeof(e->out))
		len = sizeof(e->out) - 1 - e->len;
	memcpy(e->out + e->len, text, len);
	e->len += len;
	e->out[e->len] = '\0';
}

static void set_reg(struct fake *f, int reg, uint64_t v)
{
	assert_int_equal(kd_amd64_context_set(f->ctx, sizeof(f->ctx), reg, v),
			 KD_OK);
}

/* Lay ntoskrnl.exe out by sections as the loader does, when it is built. */
static void load_kernel(struct fake *f)
{
	char path[1024];
	uint8_t *file;
	size_t len;
	uint32_t pe, nsec, i, opt;

	if (kdt_build_path(path, sizeof(path),
			   "firmware-stubs/sim/kernel/ntoskrnl.exe") != 0)
		return;
	file = kdt_read_file(path, &len);
	if (!file)
		return;
	pe = len > 0x40 ? kd_get_le32(file + 0x3c) : 0;
	if (pe + 24 + 0xf0 > len || memcmp(file + pe, "PE\0\0", 4) != 0) {
		free(file);
		return;
	}
	nsec = kd_get_le16(file + pe + 6);
	opt = kd_get_le16(file + pe + 20);
	f->image_base = kd_get_le64(file + pe + 24 + 24);
	f->image_size = kd_get_le32(file + pe + 24 + 56);
	f->image = calloc(1, f->image_size);
	assert_non_null(f->image);
	memcpy(f->image, file, kd_get_le32(file + pe + 24 + 60));
	for (i = 0; i < nsec; i++) {
		const uint8_t *sh = file + pe + 24 + opt + 40 * i;
		uint32_t va = kd_get_le32(sh + 12);
		uint32_t raw = kd_get_le32(sh + 16);
		uint32_t off = kd_get_le32(sh + 20);

		if (raw > f->image_size - va)
			raw = f->image_size - va;
		if (off + raw <= len)
			memcpy(f->image + va, file + off, raw);
	}
	free(file);
}

/*
 * The RVA of export @p name, read straight from the export directory of
 * the image (an independent check of the engine's symbol code).
 */
static int64_t image_export(const struct fake *f, const char *name)
{
	const uint8_t *im = f->image;
	uint32_t pe = kd_get_le32(im + 0x3c);
	uint32_t dir = kd_get_le32(im + pe + 24 + 112);
	uint32_t nnames = kd_get_le32(im + dir + 24);
	uint32_t funcs = kd_get_le32(im + dir + 28);
	uint32_t names = kd_get_le32(im + dir + 32);
	uint32_t ords = kd_get_le32(im + dir + 36);
	uint32_t i;

	for (i = 0; i < nnames; i++) {
		uint32_t n = kd_get_le32(im + names + 4 * i);

		if (strcmp((const char *)im + n, name) == 0) {
			uint16_t o = kd_get_le16(im + ords + 2 * i);

			return kd_get_le32(im + funcs + 4 * o);
		}
	}
	return -1;
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct fake *f = calloc(1, sizeof(*f));
	struct kd_session *s;

	assert_non_null(e);
	assert_non_null(f);
	setenv("TZ", "UTC", 1);
	tzset();
	assert_int_equal(kd_session_new(&s, NULL), KD_OK);
	f->t.ops = &fake_ops;
	f->t.session = s;
	s->target = &f->t;
	s->tgt.ncpus = 1;
	s->tgt.cpus = kd_calloc(1, sizeof(*s->tgt.cpus));
	assert_non_null(s->tgt.cpus);
	s->tgt.have_version = true;
	s->tgt.version.flags = KD_VERS_FLAG_PTR64 | KD_VERS_FLAG_MP;
	kd_session_set_output(s, sink, e);

	set_reg(f, KD_AMD64_RAX, UINT64_C(0x1122334455667788));
	set_reg(f, KD_AMD64_RBX, UINT64_C(0xfedcba9876543210));
	set_reg(f, KD_AMD64_R8, UINT64_C(0x8877665544332211));
	set_reg(f, KD_AMD64_RSP, MEM_BASE + STACK_OFF);
	set_reg(f, KD_AMD64_RIP, UINT64_C(0xfffff80000401000));
	set_reg(f, KD_AMD64_EFLAGS, 0x246);
	kd_put_le64(f->mem + STACK_OFF, UINT64_C(0xfffff80000402345));
	kd_put_le64(f->mem + STACK_OFF + 8, MEM_BASE + 0x100);
	kd_put_le64(f->mem + 0x100, UINT64_C(0x0807060504030201));
	kd_put_le64(f->mem + KTHREAD_OFF + 0x220, MEM_BASE + EPROCESS_OFF);
	kd_put_le64(f->mem + EPROCESS_OFF + 0x440, 4);
	kd_put_le64(f->mem + MEM_SIZE - 4, 0);
	e->s = s;
	e->f = f;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	e->s->target = NULL;
	kd_session_free(e->s);
	free(e->f->image);
	free(e->f);
	free(e);
	return 0;
}

/* Evaluate @p text, expecting success and the whole text consumed. */
static uint64_t ev(struct env *e, const char *text)
{
	const char *end = NULL;
	uint64_t v = 0;
	int rc = kd_expr_eval(e->s, text, &end, &v);

	if (rc != KD_OK)
		fail_msg("'%s' failed with %d", text, rc);
	if (*end != '\0')
		fail_msg("'%s' stopped at '%s'", text, end);
	return v;
}

static int ev_err(struct env *e, const char *text, size_t *stop)
{
	const char *end = NULL;
	uint64_t v = 0;
	int rc = kd_expr_eval(e->s, text, &end, &v);

	if (stop)
		*stop = (size_t)(end - text);
	return rc;
}

static const char *run(struct env *e, const char *line)
{
	e->len = 0;
	e->out[0] = '\0';
	(void)kd_session_execute(e->s, line);
	return e->out;
}

static void test_expr__numbers(void **state)
{
	struct env *e = *state;
	size_t stop;

	assert_int_equal(ev(e, "10"), 0x10);
	assert_int_equal(ev(e, "0x10"), 0x10);
	assert_int_equal(ev(e, "0X1f"), 0x1f);
	assert_int_equal(ev(e, "0n10"), 10);
	assert_int_equal(ev(e, "0t17"), 15);
	assert_int_equal(ev(e, "0y101"), 5);
	assert_int_equal(ev(e, "10h"), 0x10);
	assert_int_equal(ev(e, "0ah"), 0xa);
	assert_true(ev(e, "fffff800`00401000") == UINT64_C(0xfffff80000401000));
	assert_true(ev(e, "0xffffffff`ffffffff") == UINT64_MAX);
	assert_int_equal(ev(e, "  42  "), 0x42);
	/* A word that is hexadecimal is a number even if it could be a
	 * symbol. */
	assert_int_equal(ev(e, "add"), 0xadd);
	assert_int_equal(ev(e, "DEAD"), 0xdead);
	/* Too large, bad digits, empty prefix. */
	assert_int_equal(ev_err(e, "1ffffffffffffffff", &stop), KD_EINVAL);
	assert_int_equal(stop, 0);
	assert_int_equal(ev_err(e, "0y102", NULL), KD_EINVAL);
	assert_int_equal(ev_err(e, "0t8", NULL), KD_EINVAL);
	assert_int_equal(ev_err(e, "12g", NULL), KD_EINVAL);
	assert_int_equal(ev_err(e, "0x", NULL), KD_EINVAL);
	assert_int_equal(ev_err(e, "", NULL), KD_EINVAL);
	/* n 10 changes the default radix; prefixes still win. */
	assert_string_equal(run(e, "n"), "base is 16\n");
	assert_string_equal(run(e, "n 10"), "");
	assert_string_equal(run(e, "n"), "base is 10\n");
	assert_int_equal(ev(e, "10"), 10);
	assert_int_equal(ev(e, "0x10"), 16);
	assert_int_equal(ev(e, "10h"), 16);
	assert_int_equal(ev_err(e, "1f", NULL), KD_EINVAL);
	assert_string_equal(run(e, "n 16"), "");
	assert_string_equal(run(e, "n 7"), "      ^ Syntax error in 'n 7'\n");
}

static void test_expr__operators(void **state)
{
	struct env *e = *state;

	assert_int_equal(ev(e, "1+2*3"), 7);
	assert_int_equal(ev(e, "(1+2)*3"), 9);
	assert_int_equal(ev(e, "1 + 2"), 3);
	assert_int_equal(ev(e, "10-1"), 0xf);
	assert_true(ev(e, "-1") == UINT64_MAX);
	assert_true(ev(e, "~0") == UINT64_MAX);
	assert_int_equal(ev(e, "--5"), 5);
	assert_int_equal(ev(e, "+5"), 5);
	assert_int_equal(ev(e, "!0"), 1);
	assert_int_equal(ev(e, "!5"), 0);
	assert_int_equal(ev(e, "not 0"), 1);
	assert_int_equal(ev(e, "not 7"), 0);
	assert_int_equal(ev(e, "7 mod 3"), 1);
	assert_int_equal(ev(e, "7%3"), 1);
	assert_int_equal(ev(e, "20/3"), 0xa);
	assert_int_equal(ev(e, "1<<4"), 0x10);
	assert_int_equal(ev(e, "100>>4"), 0x10);
	assert_true(ev(e, "-10>>>4") == UINT64_MAX);
	assert_true(ev(e, "-10>>4") == UINT64_C(0x0fffffffffffffff));
	assert_int_equal(ev(e, "1<<40"), 0);
	assert_true(ev(e, "1<<3f") == UINT64_C(0x8000000000000000));
	assert_int_equal(ev(e, "3==3"), 1);
	assert_int_equal(ev(e, "3=3"), 1);
	assert_int_equal(ev(e, "3!=3"), 0);
	assert_int_equal(ev(e, "3 != 4"), 1);
	assert_int_equal(ev(e, "2<3"), 1);
	assert_int_equal(ev(e, "2>3"), 0);
	assert_int_equal(ev(e, "3<=3"), 1);
	assert_int_equal(ev(e, "3>=4"), 0);
	assert_int_equal(ev(e, "6&3"), 2);
	assert_int_equal(ev(e, "6 and 3"), 2);
	assert_int_equal(ev(e, "6^3"), 5);
	assert_int_equal(ev(e, "6 xor 3"), 5);
	assert_int_equal(ev(e, "6|3"), 7);
	assert_int_equal(ev(e, "6 or 3"), 7);
	/* MASM precedence: * over +, + over shifts, shifts over compares,
	 * compares over and, and over xor, xor over or. */
	assert_int_equal(ev(e, "1+2<<1"), 6);
	assert_int_equal(ev(e, "1<<2 == 4"), 1);
	assert_int_equal(ev(e, "2==2 & 3"), 1);
	assert_int_equal(ev(e, "1|2^3&4"), 3);
	assert_int_equal(ev(e, "1 or 2 xor 3 and 6"), 1);
	assert_int_equal(ev(e, "-2*-3"), 6);
	assert_int_equal(ev(e, "hi(12345678)"), 0x1234);
	assert_int_equal(ev(e, "low(12345678)"), 0x5678);
	/* uint64 wrap-around */
	assert_int_equal(ev(e, "ffffffffffffffff+2"), 1);
	assert_int_equal(ev(e, "2*8000000000000000"), 0);
	assert_int_equal(ev(e, "0-1>5"), 1);
	assert_int_equal(ev_err(e, "1/0", NULL), KD_EINVAL);
	assert_int_equal(ev_err(e, "1 mod (2-2)", NULL), KD_EINVAL);
}

static void test_expr__stops(void **state)
{
	struct env *e = *state;
	const char *text = "rsp L4";
	const char *end;
	uint64_t v;
	size_t stop;

	assert_int_equal(kd_expr_eval(e->s, text, &end, &v), KD_OK);
	assert_true(v == MEM_BASE + STACK_OFF);
	assert_string_equal(end, "L4");
	text = "rsp+8 L4";
	assert_int_equal(kd_expr_eval(e->s, text, &end, &v), KD_OK);
	assert_true(v == MEM_BASE + STACK_OFF + 8);
	assert_string_equal(end, "L4");
	text = "1 2";
	assert_int_equal(kd_expr_eval(e->s, text, &end, &v), KD_OK);
	assert_int_equal(v, 1);
	assert_string_equal(end, "2");
	text = "(1) 'k';'g'";
	assert_int_equal(kd_expr_eval(e->s, text, &end, &v), KD_OK);
	assert_string_equal(end, "'k';'g'");
	/* Syntax errors: *end at the bad character. */
	assert_int_equal(ev_err(e, "1+", &stop), KD_EINVAL);
	assert_int_equal(stop, 2);
	assert_int_equal(ev_err(e, "(1", &stop), KD_EINVAL);
	assert_int_equal(stop, 2);
	assert_int_equal(ev_err(e, "1*)", &stop), KD_EINVAL);
	assert_int_equal(stop, 2);
}

static void test_expr__depth_bound(void **state)
{
	struct env *e = *state;
	char buf[4096];
	size_t i;

	for (i = 0; i < 2000; i++)
		buf[i] = '(';
	buf[i++] = '1';
	buf[i] = '\0';
	assert_int_equal(ev_err(e, buf, NULL), KD_EINVAL);
	memset(buf, '-', 3000);
	buf[3000] = '1';
	buf[3001] = '\0';
	assert_int_equal(ev_err(e, buf, NULL), KD_EINVAL);
	/* 40 levels are fine. */
	for (i = 0; i < 40; i++)
		buf[i] = '(';
	buf[40] = '7';
	for (i = 0; i < 40; i++)
		buf[41 + i] = ')';
	buf[81] = '\0';
	assert_int_equal(ev(e, buf), 7);
}

static void test_expr__registers(void **state)
{
	struct env *e = *state;

	assert_true(ev(e, "rax") == UINT64_C(0x1122334455667788));
	assert_true(ev(e, "@rax") == UINT64_C(0x1122334455667788));
	assert_true(ev(e, "RAX") == UINT64_C(0x1122334455667788));
	assert_int_equal(ev(e, "eax"), 0x55667788);
	assert_int_equal(ev(e, "ax"), 0x7788);
	assert_int_equal(ev(e, "al"), 0x88);
	assert_int_equal(ev(e, "ah"), 0x77);
	assert_int_equal(ev(e, "@ah"), 0x77);
	assert_int_equal(ev(e, "bh"), 0x32);
	assert_int_equal(ev(e, "ebx"), 0x76543210);
	assert_int_equal(ev(e, "r8d"), 0x44332211);
	assert_int_equal(ev(e, "r8w"), 0x2211);
	assert_int_equal(ev(e, "r8b"), 0x11);
	assert_int_equal(ev(e, "efl"), 0x246);
	assert_int_equal(ev(e, "@efl"), 0x246);
	assert_true(ev(e, "rip") == UINT64_C(0xfffff80000401000));
	assert_true(ev(e, ".") == UINT64_C(0xfffff80000401000));
	assert_true(ev(e, ".+5") == UINT64_C(0xfffff80000401005));
	assert_true(ev(e, "rax+rbx") == UINT64_C(0x1122334455667788) +
						UINT64_C(0xfedcba9876543210));
	/* Control registers through KSPECIAL. */
	assert_int_equal(ev(e, "cr0"), 0x80050033);
	assert_true(ev(e, "cr3") == CR3_VALUE);
	assert_int_equal(ev(e, "@cr4"), 0x350ef8);
	assert_true(ev(e, "gdtr") == MEM_BASE + 0x4000);
	assert_int_equal(ev(e, "gdtl"), 0x57);
	assert_int_equal(ev_err(e, "@foo", NULL), KD_ENOTFOUND);
}

static void test_expr__pseudo(void **state)
{
	struct env *e = *state;

	assert_true(ev(e, "$ip") == UINT64_C(0xfffff80000401000));
	assert_true(ev(e, "@$ip") == UINT64_C(0xfffff80000401000));
	assert_true(ev(e, "@$csp") == MEM_BASE + STACK_OFF);
	assert_true(ev(e, "@$ra") == UINT64_C(0xfffff80000402345));
	assert_true(ev(e, "$retreg") == UINT64_C(0x1122334455667788));
	assert_int_equal(ev(e, "$ptrsize"), 8);
	assert_int_equal(ev(e, "@$pagesize"), 0x1000);
	assert_true(ev(e, "@$pcr") == MEM_BASE + KPCR_OFF);
	assert_true(ev(e, "@$prcb") == MEM_BASE + KPRCB_OFF);
	assert_true(ev(e, "@$thread") == MEM_BASE + KTHREAD_OFF);
	assert_true(ev(e, "@$proc") == MEM_BASE + EPROCESS_OFF);
	assert_int_equal(ev(e, "@$tpid"), 4);
	assert_int_equal(ev(e, "$t0"), 0);
	assert_int_equal(kd_pseudo_reg_set(e->s, "$t0", 3, 0x1234), KD_OK);
	assert_int_equal(kd_pseudo_reg_set(e->s, "@$t19", 5, 7), KD_OK);
	assert_int_equal(kd_pseudo_reg_set(e->s, "$t20", 4, 7), KD_ENOTFOUND);
	assert_int_equal(kd_pseudo_reg_set(e->s, "$ip", 3, 7), KD_ENOTSUP);
	assert_int_equal(kd_pseudo_reg_set(e->s, "$nope", 5, 7), KD_ENOTFOUND);
	assert_int_equal(ev(e, "@$t0+$t19"), 0x123b);
	assert_int_equal(ev_err(e, "$nope", NULL), KD_ENOTFOUND);
	assert_string_equal(run(e, "? @$nope+1"),
			    "Bad register error at '@$nope+1'\n");
}

static void test_expr__memory(void **state)
{
	struct env *e = *state;

	assert_true(ev(e, "poi(rsp)") == UINT64_C(0xfffff80000402345));
	assert_true(ev(e, "poi(rsp+8)") == MEM_BASE + 0x100);
	assert_true(ev(e, "poi(poi(rsp+8))") == UINT64_C(0x0807060504030201));
	assert_true(ev(e, "poi rsp+8") == UINT64_C(0xfffff80000402345) + 8);
	assert_true(ev(e, "qwo(@rsp+8)") == MEM_BASE + 0x100);
	assert_int_equal(ev(e, "dwo(fffff800`10000100)"), 0x04030201);
	assert_int_equal(ev(e, "wo(fffff800`10000101)"), 0x0302);
	assert_int_equal(ev(e, "by(fffff800`10000107)"), 0x08);
	/* Physical reads: the first page of memory aliases pa 0x5000. */
	assert_int_equal(ev(e, "$pby(5100)"), 0x01);
	assert_int_equal(ev(e, "$pdwo(5104)"), 0x08070605);
	assert_int_equal(ev_err(e, "poi(0)", NULL), KD_EFAULT);
	/* The last readable dword, then one byte beyond. */
	assert_int_equal(ev(e, "dwo(fffff800`1000fffc)"), 0);
	assert_int_equal(ev_err(e, "dwo(fffff800`1000fffd)", NULL), KD_EFAULT);
	assert_string_equal(run(e, "? poi(0)"), "Memory access error at ')'\n");
	assert_string_equal(run(e, "? poi(0)+5"),
			    "Memory access error at ')+5'\n");
}

static void test_expr__messages(void **state)
{
	struct env *e = *state;

	assert_string_equal(run(e, "? 1"),
			    "Evaluate expression: 1 = 00000000`00000001\n");
	assert_string_equal(run(e, "? -1"),
			    "Evaluate expression: -1 = ffffffff`ffffffff\n");
	assert_string_equal(run(e, "?1 + 2"),
			    "Evaluate expression: 3 = 00000000`00000003\n");
	assert_string_equal(run(e, "? fffff800`00401000"),
			    "Evaluate expression: -8796088823808 = "
			    "fffff800`00401000\n");
	assert_string_equal(run(e, "? 0n100"),
			    "Evaluate expression: 100 = 00000000`00000064\n");
	assert_string_equal(run(e, "? eax"),
			    "Evaluate expression: 1432778632 = "
			    "00000000`55667788\n");
	/* Caret under the bad character, after the 4-character prompt. */
	assert_string_equal(run(e, "? 1 2"),
			    "        ^ Syntax error in '? 1 2'\n");
	assert_string_equal(run(e, "? 1+"),
			    "        ^ Syntax error in '? 1+'\n");
	assert_string_equal(run(e, "? (1"),
			    "        ^ Syntax error in '? (1'\n");
	assert_string_equal(run(e, "? 1/0"), "Divide by zero error at '0'\n");
	assert_string_equal(run(e, "? 5 % (3-3)"),
			    "Divide by zero error at '(3-3)'\n");
	assert_string_equal(run(e, "? foo+1"),
			    "Couldn't resolve error at 'foo+1'\n");
	assert_string_equal(run(e, "? mod!sym"),
			    "Couldn't resolve error at 'mod!sym'\n");
	/* ?? is the C++ evaluator now (issue 16): typed results. */
	assert_string_equal(run(e, "?? 1"), "int 0n1\n");
	/* Multiprocessor prompt "1: kd> " moves the caret. */
	e->s->tgt.ncpus = 2;
	e->s->tgt.cpu = 0;
	assert_string_equal(run(e, "? )"),
			    "         ^ Syntax error in '? )'\n");
	e->s->tgt.ncpus = 1;
	/* A dormant session: registers fail cleanly. */
	e->s->target = NULL;
	assert_string_equal(run(e, "? rax"), "Bad register error at 'rax'\n");
	assert_string_equal(run(e, "? poi(10)"),
			    "Memory access error at ')'\n");
	assert_string_equal(run(e, "? 2*3"),
			    "Evaluate expression: 6 = 00000000`00000006\n");
	e->s->target = &e->f->t;
}

static void test_expr__formats(void **state)
{
	struct env *e = *state;

	/* The value of the WinDbg documentation's example, in UTC. */
	assert_string_equal(
		run(e, ".formats 1c407e62"),
		"Evaluate expression:\n"
		"  Hex:     00000000`1c407e62\n"
		"  Decimal: 473988706\n"
		"  Decimal (unsigned) : 473988706\n"
		"  Octal:   0000000000003420077142\n"
		"  Binary:  00000000 00000000 00000000 00000000 00011100 "
		"01000000 01111110 01100010\n"
		"  Chars:   .....@~b\n"
		"  Time:    Mon Jan  7 23:31:46 1985\n"
		"  Float:   low 6.36908e-022 high 0\n"
		"  Double:  2.34182e-315\n");
	assert_string_equal(
		run(e, ".formats 57724231h"),
		"Evaluate expression:\n"
		"  Hex:     00000000`57724231\n"
		"  Decimal: 1467105841\n"
		"  Decimal (unsigned) : 1467105841\n"
		"  Octal:   0000000000012734441061\n"
		"  Binary:  00000000 00000000 00000000 00000000 01010111 "
		"01110010 01000010 00110001\n"
		"  Chars:   ....WrB1\n"
		"  Time:    Tue Jun 28 09:24:01 2016\n"
		"  Float:   low 2.66366e+014 high 0\n"
		"  Double:  7.24847e-315\n");
	/* CR0-like value: a 32-bit number past 2038 is not a CRT time. */
	assert_string_equal(
		run(e, ".formats 80050031"),
		"Evaluate expression:\n"
		"  Hex:     00000000`80050031\n"
		"  Decimal: 2147811377\n"
		"  Decimal (unsigned) : 2147811377\n"
		"  Octal:   0000000000020001200061\n"
		"  Binary:  00000000 00000000 00000000 00000000 10000000 "
		"00000101 00000000 00110001\n"
		"  Chars:   .......1\n"
		"  Time:    ***** Invalid\n"
		"  Float:   low -4.59246e-040 high 0\n"
		"  Double:  1.06116e-314\n");
	/* 64-bit values are FILETIMEs (with milliseconds). */
	assert_string_equal(
		run(e, ".formats 01d2b4ef`0d6c2a8b"),
		"Evaluate expression:\n"
		"  Hex:     01d2b4ef`0d6c2a8b\n"
		"  Decimal: 131366277962541707\n"
		"  Decimal (unsigned) : 131366277962541707\n"
		"  Octal:   0007225516741533025213\n"
		"  Binary:  00000001 11010010 10110100 11101111 00001101 "
		"01101100 00101010 10001011\n"
		"  Chars:   .....l*.\n"
		"  Time:    Fri Apr 14 07:16:36.254 2017 (UTC + 0:00)\n"
		"  Float:   low 7.27743e-031 high 7.74014e-038\n"
		"  Double:  6.98334e-300\n");
	assert_string_equal(
		run(e, ".formats -1"),
		"Evaluate expression:\n"
		"  Hex:     ffffffff`ffffffff\n"
		"  Decimal: -1\n"
		"  Decimal (unsigned) : 18446744073709551615\n"
		"  Octal:   1777777777777777777777\n"
		"  Binary:  11111111 11111111 11111111 11111111 11111111 "
		"11111111 11111111 11111111\n"
		"  Chars:   ........\n"
		"  Time:    ***** Invalid FILETIME\n"
		"  Float:   low -1.#QNAN high -1.#QNAN\n"
		"  Double:  -1.#QNAN\n");
	assert_string_equal(
		run(e, ".formats 7f800000"),
		"Evaluate expression:\n"
		"  Hex:     00000000`7f800000\n"
		"  Decimal: 2139095040\n"
		"  Decimal (unsigned) : 2139095040\n"
		"  Octal:   0000000000017740000000\n"
		"  Binary:  00000000 00000000 00000000 00000000 01111111 "
		"10000000 00000000 00000000\n"
		"  Chars:   ........\n"
		"  Time:    Wed Oct 14 01:04:00 2037\n"
		"  Float:   low 1.#INF high 0\n"
		"  Double:  1.05685e-314\n");
	assert_string_equal(run(e, ".formats"),
			    "            ^ Syntax error in '.formats'\n");
	assert_string_equal(run(e, ".formats 1 2"),
			    "               ^ Syntax error in "
			    "'.formats 1 2'\n");
}

static void test_expr__ranges(void **state)
{
	struct env *e = *state;
	const char *line, *p;
	uint64_t addr = 0, count;
	bool have;

	line = "rsp L4";
	p = line;
	count = 99;
	assert_int_equal(kd_range_arg(e->s, line, &p, 4, &addr, &count, &have),
			 KD_OK);
	assert_true(have);
	assert_true(addr == MEM_BASE + STACK_OFF);
	assert_int_equal(count, 4);
	assert_string_equal(p, "");

	line = "1000 l 0n20";
	p = line;
	assert_int_equal(kd_range_arg(e->s, line, &p, 1, &addr, &count, &have),
			 KD_OK);
	assert_int_equal(addr, 0x1000);
	assert_int_equal(count, 20);

	/* start end: the end address is inclusive. */
	line = "1000 100f";
	p = line;
	assert_int_equal(kd_range_arg(e->s, line, &p, 1, &addr, &count, &have),
			 KD_OK);
	assert_int_equal(count, 0x10);
	p = line;
	assert_int_equal(kd_range_arg(e->s, line, &p, 4, &addr, &count, &have),
			 KD_OK);
	assert_int_equal(count, 4);

	/* Only an address: count left as it was. */
	line = "rsp+10";
	p = line;
	count = 0x80;
	assert_int_equal(kd_range_arg(e->s, line, &p, 1, &addr, &count, &have),
			 KD_OK);
	assert_true(have);
	assert_int_equal(count, 0x80);
	line = "   ";
	p = line;
	assert_int_equal(kd_range_arg(e->s, line, &p, 1, &addr, &count, &have),
			 KD_OK);
	assert_false(have);

	/* A range followed by more arguments stops before them. */
	line = "rsp L8 \"abc\"";
	p = line;
	assert_int_equal(kd_range_arg(e->s, line, &p, 1, &addr, &count, &have),
			 KD_OK);
	assert_int_equal(count, 8);
	assert_string_equal(p, "\"abc\"");

	/* 256 MiB is the limit without L?. */
	line = "1000 L10000000";
	p = line;
	assert_int_equal(kd_range_arg(e->s, line, &p, 1, &addr, &count, &have),
			 KD_OK);
	assert_int_equal(count, 0x10000000);
	e->len = 0;
	line = "1000 L10000001";
	p = line;
	assert_int_equal(kd_range_arg(e->s, line, &p, 1, &addr, &count, &have),
			 KD_EINVAL);
	assert_string_equal(e->out,
			    "         ^ Range error in '1000 L10000001'\n");
	e->len = 0;
	line = "1000 L4000001";
	p = line;
	assert_int_equal(kd_range_arg(e->s, line, &p, 4, &addr, &count, &have),
			 KD_EINVAL);
	line = "1000 L?10000001";
	p = line;
	assert_int_equal(kd_range_arg(e->s, line, &p, 1, &addr, &count, &have),
			 KD_OK);
	assert_int_equal(count, 0x10000001);
	e->len = 0;
	line = "2000 1000";
	p = line;
	assert_int_equal(kd_range_arg(e->s, line, &p, 1, &addr, &count, &have),
			 KD_EINVAL);
	assert_string_equal(e->out, "         ^ Range error in '2000 1000'\n");
	e->len = 0;
	line = "1000 L0";
	p = line;
	assert_int_equal(kd_range_arg(e->s, line, &p, 1, &addr, &count, &have),
			 KD_EINVAL);
	e->len = 0;
	line = "foo L4";
	p = line;
	assert_int_equal(kd_range_arg(e->s, line, &p, 1, &addr, &count, &have),
			 KD_ENOTFOUND);
	assert_string_equal(e->out, "Couldn't resolve error at 'foo L4'\n");
}

static void test_expr__symbols(void **state)
{
	struct env *e = *state;
	struct kd_module *m;
	int64_t rva;
	uint64_t base;

	load_kernel(e->f);
	if (!e->f->image) {
		print_message("ntoskrnl.exe not built: symbols skipped\n");
		skip();
	}
	base = e->f->image_base;
	m = kd_calloc(1, sizeof(*m));
	assert_non_null(m);
	m->base = base;
	m->size = e->f->image_size;
	snprintf(m->name, sizeof(m->name), "nt");
	snprintf(m->image, sizeof(m->image), "ntoskrnl.exe");
	e->s->sym.modules = m;
	e->s->sym.nmodules = 1;
	e->s->sym.modules_valid = true;

	rva = image_export(e->f, "KeWorkerStep");
	assert_true(rva > 0);
	assert_true(ev(e, "nt") == base);
	assert_true(ev(e, "nt!KeWorkerStep") == base + (uint64_t)rva);
	assert_true(ev(e, "KeWorkerStep") == base + (uint64_t)rva);
	assert_true(ev(e, "nt!KeWorkerStep+0x10") == base + (uint64_t)rva + 16);
	assert_true(ev(e, "poi(nt!PsLoadedModuleList) == "
			  "poi(nt!PsLoadedModuleList)") == 1);
	rva = image_export(e->f, "DbgBreakPoint");
	assert_true(rva > 0);
	assert_true(ev(e, "nt!DbgBreakPoint-nt") == (uint64_t)rva);
	/* Still a number, symbol or not. */
	assert_int_equal(ev(e, "add"), 0xadd);
	assert_string_equal(run(e, "? nt!NoSuchExport"),
			    "Couldn't resolve error at 'nt!NoSuchExport'\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_expr__numbers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_expr__operators, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_expr__stops, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_expr__depth_bound, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_expr__registers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_expr__pseudo, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_expr__memory, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_expr__messages, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_expr__formats, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_expr__ranges, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_expr__symbols, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
