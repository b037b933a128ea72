/* SPDX-License-Identifier: MIT */
/*
 * The bug-check name table against the facts: every `0xCODE` NAME pair
 * of kernel-commands.md §8.2 must be in the table with that exact name,
 * and the table must hold nothing else (so nothing was made up).  The
 * facts file is read at run time; without it the test is skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmd/bugcodes.h"

static char *facts;

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_table_matches_facts(void **state)
{
	const struct kd_bugcode *t;
	const char *p, *end;
	size_t n, seen = 0, i;

	(void)state;
	t = kd_cmd__bugcodes(&n);
	p = strstr(facts, "### 8.2 Full table");
	assert_non_null(p);
	end = strstr(p + 1, "\n## ");
	if (!end)
		end = p + strlen(p);
	while ((p = strstr(p, "| `0x")) != NULL && p < end) {
		char name[80];
		unsigned long code;
		const char *got;
		int used = 0;

		p += 2;
		assert_int_equal(
			sscanf(p, "`0x%lx` %79[A-Z0-9_]%n", &code, name, &used),
			2);
		got = kd_cmd__bugcode_name((uint32_t)code);
		if (!got || strcmp(got, name) != 0)
			fail_msg("0x%lX: facts say %s, table says %s", code,
				 name, got ? got : "(none)");
		seen++;
		p += used;
	}
	/* Microsoft's reference has 379 codes; the table has no others. */
	assert_int_equal(seen, 379);
	assert_int_equal(n, seen);
	for (i = 1; i < n; i++)
		assert_true(t[i - 1].code < t[i].code);
}

static void test_lookups(void **state)
{
	(void)state;
	assert_string_equal(kd_cmd__bugcode_name(0x1C8),
			    "MANUALLY_INITIATED_POWER_BUTTON_HOLD");
	assert_string_equal(kd_cmd__bugcode_name(0x1), "APC_INDEX_MISMATCH");
	assert_string_equal(kd_cmd__bugcode_name(0xDEADDEAD),
			    "MANUALLY_INITIATED_CRASH1");
	/* Gaps in the numbering and a code no one documents. */
	assert_null(kd_cmd__bugcode_name(0));
	assert_null(kd_cmd__bugcode_name(0x83));
	assert_null(kd_cmd__bugcode_name(0x5454414D));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_matches_facts),
		cmocka_unit_test(test_lookups),
	};
	int rc;

	facts = slurp(KD_SHARED_DATA_DIR "/../docs/kernel-commands.md");
	if (!facts) {
		fprintf(stderr, "SKIP: no kernel-commands.md next to %s\n",
			KD_SHARED_DATA_DIR);
		return 77;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(facts);
	return rc;
}
