/* SPDX-License-Identifier: MIT */
/*
 * kdstub's SetContext the way Windows takes it: a CONTEXT shorter than the
 * full 1232 bytes is accepted for the groups its own ContextFlags name
 * (kd-protocol.md §2.10) and leaves the rest of the processor alone; one
 * too short for its flags, without the x64 bit, or before any GetContext in
 * the stop is refused.  The dispatcher runs against the fake machine.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <kd/proto/layout.h>
#include <kd/proto/manipulate.h>
#include <kd/proto/wire.h>
#include <kdstub/kdstub.h>

#include "fake_platform.h"

static int nop_getc(void)
{
	return -1;
}

static void nop_putc(uint8_t b)
{
	(void)b;
}

static const struct kdstub_io nop_io = {
	.name = "none",
	.getc = nop_getc,
	.putc = nop_putc,
};

static struct kdstub stub;
static struct fake_machine fake;
static uint8_t before[FAKE_CPUS][KDSTUB_CONTEXT_SIZE];

/* Send one manipulate request for processor @p proc; the reply status. */
static uint32_t request(uint32_t api, uint16_t proc, const uint8_t *data,
			size_t len)
{
	struct kd_manipulate m;
	struct kdstub_resume res;
	uint8_t req[KD_MANIP_SIZE + KDSTUB_CONTEXT_SIZE];
	size_t n = 0, reply_len = 0;

	memset(&m, 0, sizeof(m));
	m.api = api;
	m.processor = proc;
	if (api == KD_API_SET_CONTEXT)
		m.u.context_flags = 0xCCCCCCCC; /* junk, as WinDbg sends */
	assert_int_equal(
		kd_manipulate_encode(req, sizeof(req), &n, &m, data, len),
		KD_OK);
	assert_int_equal(kdstub_dispatch(&stub, req, n, &reply_len, &res),
			 KDSTUB_DISPATCH_NEXT);
	assert_true(reply_len >= KD_MANIP_SIZE);
	assert_int_equal(kd_get_le32(stub.out), api);
	return kd_get_le32(stub.out + 8);
}

static int setup(void **state)
{
	(void)state;
	fake_init(&fake);
	/* Recognisable bytes everywhere, so any stray write shows. */
	for (size_t p = 0; p < FAKE_CPUS; p++)
		for (size_t i = 0x48; i < KDSTUB_CONTEXT_SIZE; i++)
			fake.ctx[p][i] = (uint8_t)(i * 13 + p);
	memcpy(before, fake.ctx, sizeof(before));
	assert_int_equal(kdstub_init(&stub, &nop_io, &fake_ops, &fake), 0);
	return 0;
}

/* The first @p len bytes of processor @p proc's CONTEXT, @p flags set. */
static void image(uint8_t *c, size_t len, uint16_t proc, uint32_t flags)
{
	memcpy(c, fake.ctx[proc], len);
	kd_put_le32(c + KD_AMD64_CTX_OFF_FLAGS, flags);
}

static void assert_unchanged_except(uint16_t proc, size_t off, size_t len)
{
	for (size_t i = 0; i < KDSTUB_CONTEXT_SIZE; i++) {
		if (i >= off && i < off + len)
			continue;
		if (fake.ctx[proc][i] != before[proc][i])
			fail_msg("byte 0x%zx of processor %u's CONTEXT changed",
				 i, proc);
	}
}

static void test_refused_before_get_context(void **state)
{
	uint8_t c[0x100];

	(void)state;
	image(c, sizeof(c), 1, KD_CONTEXT_AMD64 | KD_CONTEXT_INTEGER);
	kd_put_le64(c + KD_AMD64_CTX_OFF_RAX, 0x1234);
	assert_int_equal(request(KD_API_SET_CONTEXT, 1, c, sizeof(c)),
			 KD_STATUS_UNSUCCESSFUL);
	assert_memory_equal(fake.ctx, before, sizeof(before));
}

/* CONTROL | INTEGER in 0x100 bytes: the registers change, nothing else. */
static void test_short_control_integer(void **state)
{
	uint8_t c[0x100];

	(void)state;
	assert_int_equal(request(KD_API_GET_CONTEXT, 1, NULL, 0),
			 KD_STATUS_SUCCESS);
	image(c, sizeof(c), 1,
	      KD_CONTEXT_AMD64 | KD_CONTEXT_CONTROL | KD_CONTEXT_INTEGER);
	kd_put_le64(c + KD_AMD64_CTX_OFF_RAX, 0x1122334455667788ull);
	kd_put_le64(c + KD_AMD64_CTX_OFF_R15, 0xF15);
	kd_put_le64(c + KD_AMD64_CTX_OFF_RIP, FAKE_VBASE + 0x777);
	kd_put_le64(c + KD_AMD64_CTX_OFF_RSP, FAKE_VBASE + 0x3E00);
	kd_put_le32(c + KD_AMD64_CTX_OFF_EFLAGS, 0x346);
	/* Groups the flags leave out: must not be applied. */
	kd_put_le64(c + KD_AMD64_CTX_OFF_DR7, 0xDEAD);
	kd_put_le16(c + KD_AMD64_CTX_OFF_DS, 0xBAD);
	kd_put_le32(c + KD_AMD64_CTX_OFF_MXCSR, 0xBAD);
	assert_int_equal(request(KD_API_SET_CONTEXT, 1, c, sizeof(c)),
			 KD_STATUS_SUCCESS);
	assert_true(kd_get_le64(fake.ctx[1] + KD_AMD64_CTX_OFF_RAX) ==
		    0x1122334455667788ull);
	assert_true(kd_get_le64(fake.ctx[1] + KD_AMD64_CTX_OFF_R15) == 0xF15);
	assert_true(kd_get_le64(fake.ctx[1] + KD_AMD64_CTX_OFF_RIP) ==
		    FAKE_VBASE + 0x777);
	assert_true(kd_get_le64(fake.ctx[1] + KD_AMD64_CTX_OFF_RSP) ==
		    FAKE_VBASE + 0x3E00);
	assert_int_equal(kd_get_le32(fake.ctx[1] + KD_AMD64_CTX_OFF_EFLAGS),
			 0x346);
	assert_memory_equal(fake.ctx[1] + KD_AMD64_CTX_OFF_DR0,
			    before[1] + KD_AMD64_CTX_OFF_DR0, 0x30);
	assert_memory_equal(fake.ctx[1] + KD_AMD64_CTX_OFF_DS,
			    before[1] + KD_AMD64_CTX_OFF_DS, 8);
	assert_memory_equal(fake.ctx[1] + KD_AMD64_CTX_OFF_MXCSR,
			    before[1] + KD_AMD64_CTX_OFF_MXCSR, 4);
	assert_unchanged_except(1, KD_AMD64_CTX_OFF_CS, 0x100 - 0x38);
	/* The other processors are untouched. */
	assert_memory_equal(fake.ctx[0], before[0], KDSTUB_CONTEXT_SIZE);
	assert_memory_equal(fake.ctx[2], before[2], KDSTUB_CONTEXT_SIZE);
}

/* DEBUG_REGISTERS alone needs only up to Dr7 (0x78 bytes). */
static void test_short_debug_registers(void **state)
{
	uint8_t c[0x78];

	(void)state;
	assert_int_equal(request(KD_API_GET_CONTEXT, 2, NULL, 0),
			 KD_STATUS_SUCCESS);
	image(c, sizeof(c), 2, KD_CONTEXT_AMD64 | KD_CONTEXT_DEBUG_REGISTERS);
	kd_put_le64(c + KD_AMD64_CTX_OFF_DR0, FAKE_VBASE + 0x400);
	kd_put_le64(c + KD_AMD64_CTX_OFF_DR7, 0x401);
	kd_put_le16(c + KD_AMD64_CTX_OFF_CS, 0x33); /* CONTROL: not named */
	assert_int_equal(request(KD_API_SET_CONTEXT, 2, c, sizeof(c)),
			 KD_STATUS_SUCCESS);
	assert_true(kd_get_le64(fake.ctx[2] + KD_AMD64_CTX_OFF_DR0) ==
		    FAKE_VBASE + 0x400);
	assert_true(kd_get_le64(fake.ctx[2] + KD_AMD64_CTX_OFF_DR7) == 0x401);
	assert_unchanged_except(2, KD_AMD64_CTX_OFF_DR0, 0x30);
}

/* FLOATING_POINT names the FXSAVE image up to 0x300: 0x100 is too short. */
static void test_too_short_for_flags(void **state)
{
	uint8_t c[0x300];

	(void)state;
	assert_int_equal(request(KD_API_GET_CONTEXT, 1, NULL, 0),
			 KD_STATUS_SUCCESS);
	image(c, sizeof(c), 1,
	      KD_CONTEXT_AMD64 | KD_CONTEXT_INTEGER |
		      KD_CONTEXT_FLOATING_POINT);
	kd_put_le64(c + KD_AMD64_CTX_OFF_RAX, 0x99);
	assert_int_equal(request(KD_API_SET_CONTEXT, 1, c, 0x100),
			 KD_STATUS_UNSUCCESSFUL);
	assert_int_equal(request(KD_API_SET_CONTEXT, 1, c, 0x2FF),
			 KD_STATUS_UNSUCCESSFUL);
	assert_memory_equal(fake.ctx[1], before[1], KDSTUB_CONTEXT_SIZE);
	/* Exactly long enough: accepted, XMM0 from the image. */
	memset(c + KD_AMD64_CTX_OFF_XMM0, 0x5A, 16);
	assert_int_equal(request(KD_API_SET_CONTEXT, 1, c, sizeof(c)),
			 KD_STATUS_SUCCESS);
	assert_true(kd_get_le64(fake.ctx[1] + KD_AMD64_CTX_OFF_RAX) == 0x99);
	assert_int_equal(fake.ctx[1][KD_AMD64_CTX_OFF_XMM0 + 15], 0x5A);
	/* The vector area past FltSave is not FLOATING_POINT's. */
	assert_memory_equal(fake.ctx[1] + KD_AMD64_CTX_OFF_VECTOR,
			    before[1] + KD_AMD64_CTX_OFF_VECTOR,
			    KDSTUB_CONTEXT_SIZE - KD_AMD64_CTX_OFF_VECTOR);
}

/* No ContextFlags to read, or not an x64 CONTEXT: refused, not ignored. */
static void test_unreadable_flags(void **state)
{
	uint8_t c[0x100];

	(void)state;
	assert_int_equal(request(KD_API_GET_CONTEXT, 0, NULL, 0),
			 KD_STATUS_SUCCESS);
	image(c, sizeof(c), 0, KD_CONTEXT_AMD64 | KD_CONTEXT_INTEGER);
	kd_put_le64(c + KD_AMD64_CTX_OFF_RAX, 0x42);
	assert_int_equal(request(KD_API_SET_CONTEXT, 0, c, 0x33),
			 KD_STATUS_UNSUCCESSFUL);
	kd_put_le32(c + KD_AMD64_CTX_OFF_FLAGS,
		    KD_CONTEXT_I386 | KD_CONTEXT_INTEGER);
	assert_int_equal(request(KD_API_SET_CONTEXT, 0, c, sizeof(c)),
			 KD_STATUS_UNSUCCESSFUL);
	kd_put_le32(c + KD_AMD64_CTX_OFF_FLAGS, KD_CONTEXT_INTEGER);
	assert_int_equal(request(KD_API_SET_CONTEXT, 0, c, sizeof(c)),
			 KD_STATUS_UNSUCCESSFUL);
	assert_memory_equal(fake.ctx[0], before[0], KDSTUB_CONTEXT_SIZE);
	/* A bad processor stays refused whatever the length. */
	assert_int_equal(request(KD_API_SET_CONTEXT, 9, c, sizeof(c)),
			 KD_STATUS_UNSUCCESSFUL);
}

/* The full CONTEXT is still taken whole. */
static void test_full_context(void **state)
{
	uint8_t c[KDSTUB_CONTEXT_SIZE];

	(void)state;
	assert_int_equal(request(KD_API_GET_CONTEXT, 3, NULL, 0),
			 KD_STATUS_SUCCESS);
	image(c, sizeof(c), 3, KD_CONTEXT_AMD64_FULL);
	kd_put_le64(c + KD_AMD64_CTX_OFF_RBX, 0xB0B);
	c[KDSTUB_CONTEXT_SIZE - 1] ^= 0xFF;
	assert_int_equal(request(KD_API_SET_CONTEXT, 3, c, sizeof(c)),
			 KD_STATUS_SUCCESS);
	assert_memory_equal(fake.ctx[3], c, sizeof(c));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_refused_before_get_context, setup),
		cmocka_unit_test_setup(test_short_control_integer, setup),
		cmocka_unit_test_setup(test_short_debug_registers, setup),
		cmocka_unit_test_setup(test_too_short_for_flags, setup),
		cmocka_unit_test_setup(test_unreadable_flags, setup),
		cmocka_unit_test_setup(test_full_context, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
