/* SPDX-License-Identifier: MIT */
/*
 * The type layer (engine/src/sym/types.c) over the PDB of the BUILT kdsim
 * kernel (dttypes.c's structs): member paths with their offsets, enum
 * names both ways, integer reads of bitfields and signed members from
 * bytes, the C spellings, and the basic types by C name.  Offsets are the
 * ones llvm-pdbutil gives for the same PDB; skipped (77) without it or
 * without the PDB.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <kd/error.h>

#include "sym/types.h"
#include "testsupport.h"

static char g_pdb[600];
static struct kd_pdb *g;
static char *g_dump; /* llvm-pdbutil dump --types */

/* The offset llvm-pdbutil lists for member @p name of field list
 * @p list (its "0xNNNN | LF_FIELDLIST" record). */
static unsigned long pdbutil_offset(const char *name)
{
	char want[96];
	const char *p, *o;

	snprintf(want, sizeof(want), "LF_MEMBER [name = `%s`,", name);
	p = strstr(g_dump, want);
	assert_non_null(p);
	o = strstr(p, "offset = ");
	assert_non_null(o);
	return strtoul(o + 9, NULL, 10);
}

static uint32_t type_of(const char *name)
{
	uint32_t ti;

	assert_int_equal(kd_pdb_type_by_name(g, name, &ti), KD_OK);
	return ti;
}

static void paths(void **state)
{
	struct kd_type_member m;
	uint32_t obj = type_of("_DT_OBJECT"), inner = type_of("_DT_INNER");
	uint64_t esz;

	(void)state;
	assert_int_equal(kd_sym__type_field(g, obj, "Inner.Count", &m), KD_OK);
	assert_int_equal(m.offset,
			 pdbutil_offset("Inner") + pdbutil_offset("Count"));
	assert_int_equal(kd_sym__type_size(g, inner, &esz), KD_OK);
	assert_int_equal(kd_sym__type_field(g, obj, "Pair[1].Delta", &m),
			 KD_OK);
	assert_int_equal(m.offset, pdbutil_offset("Pair") + esz +
					   pdbutil_offset("Delta"));
	/* Bitfields keep their position; case is folded when exact fails. */
	assert_int_equal(kd_sym__type_field(g, obj, "mode", &m), KD_OK);
	assert_true(m.is_bitfield);
	assert_int_equal(m.bit_pos, 1);
	assert_int_equal(m.bit_len, 3);
	/* Named member of an anonymous union, then its anonymous struct. */
	assert_int_equal(kd_sym__type_field(g, obj, "u.s.High", &m), KD_OK);
	assert_int_equal(m.offset, pdbutil_offset("u") + 2);
	/* Errors: no such member, through a pointer, index past the end. */
	assert_int_equal(kd_sym__type_field(g, obj, "Nope", &m), KD_ENOTFOUND);
	assert_int_equal(kd_sym__type_field(g, obj, "Self.Type", &m),
			 KD_EINVAL);
	assert_int_equal(kd_sym__type_field(g, obj, "Pair[2]", &m), KD_EINVAL);
	assert_int_equal(kd_sym__type_field(g, obj, "", &m), KD_EINVAL);
	kd_error_clear();
}

static void enums_and_ints(void **state)
{
	uint32_t color = type_of("_DT_COLOR"), obj = type_of("_DT_OBJECT");
	struct kd_type_member m;
	const uint8_t flags[4] = { 0x2b, 0, 0, 0 };
	const uint8_t neg[2] = { 0xfd, 0xff };
	const char *name;
	int64_t v;
	uint64_t u;

	(void)state;
	assert_int_equal(kd_sym__enum_name(g, color, 5, &name), KD_OK);
	assert_string_equal(name, "DtBlue");
	assert_int_equal(kd_sym__enum_name(g, color, -2, &name), KD_OK);
	assert_string_equal(name, "DtNegative");
	assert_int_equal(kd_sym__enum_name(g, color, 3, &name), KD_ENOTFOUND);
	assert_int_equal(kd_sym__enum_value(g, color, "DtGreen", &v), KD_OK);
	assert_int_equal(v, 1);
	/* Mode is bits 1..3 of 0x2b: 5; Spare bits 4..31: 2. */
	assert_int_equal(kd_sym__type_field(g, obj, "Mode", &m), KD_OK);
	assert_int_equal(kd_sym__type_read_int(g, m.type, flags, 4, &u), KD_OK);
	assert_int_equal(u, 5);
	assert_int_equal(kd_sym__type_field(g, obj, "Spare", &m), KD_OK);
	assert_int_equal(kd_sym__type_read_int(g, m.type, flags, 4, &u), KD_OK);
	assert_int_equal(u, 2);
	/* A short reads sign-extended; too few bytes is KD_ETRUNC. */
	assert_int_equal(kd_sym__type_field(g, obj, "Type", &m), KD_OK);
	assert_int_equal(kd_sym__type_read_int(g, m.type, neg, 2, &u), KD_OK);
	assert_int_equal((int64_t)u, -3);
	assert_int_equal(kd_sym__type_read_int(g, m.type, neg, 1, &u),
			 KD_ETRUNC);
	kd_error_clear();
}

static void spellings(void **state)
{
	static const char *const names[] = {
		"void",	 "char",	   "signed char", "unsigned char",
		"short", "unsigned short", "long",	  "unsigned long",
		"int",	 "unsigned int",   "__int64",	  "unsigned __int64",
		"float", "double",	   "bool",	  "wchar_t",
	};
	uint32_t obj = type_of("_DT_OBJECT"), ti;
	struct kd_type_member m;
	char buf[KD_TYPE_NAME_MAX];
	size_t k;

	(void)state;
	/* Basic types by C name round-trip through the C spelling. */
	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		assert_int_equal(kd_sym__type_basic(names[k], &ti), KD_OK);
		assert_int_equal(kd_sym__type_cname(g, ti, buf, sizeof(buf)),
				 KD_OK);
		assert_string_equal(buf, names[k]);
	}
	assert_int_equal(kd_sym__type_basic("unsigned long *", &ti), KD_OK);
	assert_int_equal(kd_sym__type_name(g, ti, buf, sizeof(buf)), KD_OK);
	assert_string_equal(buf, "Ptr64 Uint4B");
	assert_int_equal(kd_sym__type_basic("struct X", &ti), KD_ENOTFOUND);
	/* Struct members as C spells them. */
	assert_int_equal(kd_sym__type_field(g, obj, "Self", &m), KD_OK);
	assert_int_equal(kd_sym__type_cname(g, m.type, buf, sizeof(buf)),
			 KD_OK);
	assert_string_equal(buf, "struct _DT_OBJECT *");
	assert_int_equal(kd_sym__type_field(g, obj, "Grid", &m), KD_OK);
	assert_int_equal(kd_sym__type_name(g, m.type, buf, sizeof(buf)), KD_OK);
	assert_string_equal(buf, "[2] [3] UChar");
	/* A name cut to the buffer says so. */
	assert_int_equal(kd_sym__type_name(g, m.type, buf, 6), KD_EOVERFLOW);
	assert_string_equal(buf, "[2...");
}

static int setup(void **state)
{
	(void)state;
	if (kd_pdb_open_file(&g, g_pdb) != KD_OK)
		return -1;
	g_dump = kdt_run_out("llvm-pdbutil dump --types '%s'", g_pdb);
	return g_dump ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	kd_pdb_close(g);
	free(g_dump);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(paths),
		cmocka_unit_test(enums_and_ints),
		cmocka_unit_test(spellings),
	};

	kdt_build_path(g_pdb, sizeof(g_pdb),
		       "firmware-stubs/sim/kernel/ntoskrnl.pdb");
	if (access(g_pdb, R_OK) != 0 || !kdt_have("llvm-pdbutil"))
		return 77;
	return cmocka_run_group_tests(tests, setup, teardown);
}
