/* SPDX-License-Identifier: MIT */
/*
 * kd/symstore.h without a network: the symbol-path grammar (every element
 * form, canonical text that parses back to itself, one clear error line
 * for each bad form, bounds), the store keys against the examples of
 * shared/docs/symbols.md, file.ptr bodies, the CAB name, the miss set and
 * allocation failures.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <kd/alloc.h>
#include <kd/error.h>
#include <kd/symstore.h>

#include "symstore_int.h"

static struct kd_sympath *parse_ok(const char *text)
{
	struct kd_sympath *p = NULL;

	assert_int_equal(kd_sympath_parse(&p, text), KD_OK);
	assert_non_null(p);
	return p;
}

/* Canonical text of @p text, which must parse back to the same text. */
static void canon(const char *text, const char *want)
{
	struct kd_sympath *p = parse_ok(text), *q;
	char buf[KD_SYMPATH_MAX + 64], buf2[KD_SYMPATH_MAX + 64];
	size_t n = kd_sympath_format(p, buf, sizeof(buf));

	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
	q = parse_ok(buf);
	kd_sympath_format(q, buf2, sizeof(buf2));
	assert_string_equal(buf2, buf);
	assert_int_equal(kd_sympath_count(q), kd_sympath_count(p));
	kd_sympath_free(q);
	kd_sympath_free(p);
}

static void test_sympath__forms(void **state)
{
	(void)state;
	canon("", "");
	canon(";;  ; ", "");
	canon("/sym", "/sym");
	canon(" /a ; /b ", "/a;/b");
	canon("srv*/cache*http://127.0.0.1:8080/sym",
	      "srv*/cache*http://127.0.0.1:8080/sym");
	canon("SRV*/c1*/c2*https://h/s", "srv*/c1*/c2*https://h/s");
	canon("symsrv*symsrv.dll*/c*http://h/s", "srv*/c*http://h/s");
	canon("srv**http://h/s", "srv**http://h/s");
	canon("srv*", "srv*" KD_SYMSTORE_MSDL);
	canon("srv*/c*", "srv*/c*" KD_SYMSTORE_MSDL);
	canon("cache*/c;srv*http://h", "cache*/c;srv*http://h");
	canon("cache*;/d", "cache*;/d");
	canon("srv*/local/store", "srv*/local/store");
}

static void test_sympath__elements(void **state)
{
	struct kd_sympath *p;
	struct kd_sympath_elem e;

	(void)state;
	p = parse_ok("/d;cache*/cc;srv*/c1**HTTP://h/s;cache*");
	assert_int_equal(kd_sympath_count(p), 4);
	assert_int_equal(kd_sympath_elem(p, 0, &e), KD_OK);
	assert_int_equal(e.kind, KD_SYMPATH_DIR);
	assert_string_equal(e.dir, "/d");
	assert_int_equal(kd_sympath_elem(p, 1, &e), KD_OK);
	assert_int_equal(e.kind, KD_SYMPATH_CACHE);
	assert_string_equal(e.dir, "/cc");
	assert_int_equal(kd_sympath_elem(p, 2, &e), KD_OK);
	assert_int_equal(e.kind, KD_SYMPATH_SRV);
	assert_true(e.http);
	assert_string_equal(e.store, "HTTP://h/s");
	assert_int_equal(e.ncaches, 2);
	assert_string_equal(e.caches[0], "/c1");
	assert_null(e.caches[1]); /* the default cache */
	assert_int_equal(kd_sympath_elem(p, 3, &e), KD_OK);
	assert_int_equal(e.kind, KD_SYMPATH_CACHE);
	assert_null(e.dir);
	assert_int_equal(kd_sympath_elem(p, 4, &e), KD_EINVAL);

	/* .sympath+: appended; a bad addition leaves the path as it was. */
	assert_int_equal(kd_sympath_append(p, "/more"), KD_OK);
	assert_int_equal(kd_sympath_count(p), 5);
	assert_int_equal(kd_sympath_append(p, "/x;srv*http://a*/b"), KD_EINVAL);
	assert_int_equal(kd_sympath_count(p), 5);
	kd_sympath_free(p);
	kd_sympath_free(NULL);
	assert_int_equal(kd_sympath_count(NULL), 0);
}

/* @p text is refused with a line containing @p what. */
static void refused(const char *text, const char *what)
{
	struct kd_sympath *p = (struct kd_sympath *)1;

	assert_int_equal(kd_sympath_parse(&p, text), KD_EINVAL);
	assert_null(p);
	if (!strstr(kd_error_last()->message, what))
		fail_msg("'%s': got '%s', want '%s'", text,
			 kd_error_last()->message, what);
	assert_null(strchr(kd_error_last()->message, '\n'));
}

static void test_sympath__errors(void **state)
{
	char big[KD_SYMPATH_MAX + 10];
	char chain[256];
	size_t i;

	(void)state;
	refused("/a;srv*http://x*/c", "element 2");
	refused("srv*http://x*/c", "must be the last");
	refused("symsrv*other.dll*/c*http://x", "symsrv.dll");
	refused("symsrv*symsrv.dll", "no store");
	refused("cache*/a*/b", "one folder");
	refused("cache*http://x", "not a URL");
	refused("foo*bar", "outside srv*");
	refused("/a\tb\x01", "control character");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	refused(big, "longer than");
	big[KD_SYMPATH_ELEM_MAX + 1] = '\0';
	refused(big, "too long");
	/* One cache more than a chain holds. */
	snprintf(chain, sizeof(chain), "srv");
	for (i = 0; i < KD_SYMPATH_TIERS_MAX + 1; i++)
		strncat(chain, "*/c", sizeof(chain) - strlen(chain) - 1);
	strncat(chain, "*http://h", sizeof(chain) - strlen(chain) - 1);
	refused(chain, "too many caches");
}

static void test_sympath__format_cut(void **state)
{
	struct kd_sympath *p = parse_ok("/abcdef;/ghi");
	char buf[5];

	(void)state;
	assert_int_equal(kd_sympath_format(p, buf, sizeof(buf)), 12);
	assert_string_equal(buf, "/abc");
	assert_int_equal(kd_sympath_format(p, NULL, 0), 12);
	kd_sympath_free(p);
}

static void test_sympath__oom(void **state)
{
	long n;
	int rc;

	(void)state;
	/* Every allocation failure is an error, never a half-made path. */
	for (n = 0; n < 40; n++) {
		struct kd_sympath *p = NULL;

		bool pending;

		kd_alloc_fail_after(n, false);
		rc = kd_sympath_parse(&p, "/a;srv*/c1*/c2*http://h;cache*/x");
		pending = kd_alloc_fail_pending();
		kd_alloc_fail_after(-1, false);
		if (rc == KD_OK) {
			/* Success only when no allocation was refused. */
			assert_true(pending);
			assert_int_equal(kd_sympath_count(p), 3);
			kd_sympath_free(p);
			break;
		}
		assert_int_equal(rc, KD_ENOMEM);
		assert_null(p);
	}
	assert_true(n < 40);
}

static void test_key__dirs(void **state)
{
	struct kd_symstore_key k = { .name = "drv.pdb" };
	static const uint8_t raw[16] = { 0x5E, 0x54, 0xC7, 0x4F, 0xD4, 0x13,
					 0x50, 0xF1, 0x4C, 0x4C, 0x44, 0x20,
					 0x50, 0x44, 0x42, 0x2E };
	char buf[40];

	(void)state;
	/* symbols.md §1.2: raw RSDS bytes, age 1. */
	memcpy(k.guid, raw, 16);
	k.age = 1;
	assert_int_equal(kd_symstore_key_dir(&k, buf, sizeof(buf)), KD_OK);
	assert_string_equal(buf, "4FC7545E13D4F1504C4C44205044422E1");
	k.age = 0x2a; /* age in lower-case hex */
	kd_symstore_key_dir(&k, buf, sizeof(buf));
	assert_string_equal(buf, "4FC7545E13D4F1504C4C44205044422E2a");
	assert_int_equal(kd_symstore_key_dir(&k, buf, 10), KD_EBUFS);
	/* Images: ntdll.dll\5F69600F1aa000, AcxHdAudio.sys\0829423388000. */
	k.image = true;
	k.timestamp = 0x5F69600F;
	k.size_of_image = 0x1aa000;
	kd_symstore_key_dir(&k, buf, sizeof(buf));
	assert_string_equal(buf, "5F69600F1aa000");
	k.timestamp = 0x08294233;
	k.size_of_image = 0x88000;
	kd_symstore_key_dir(&k, buf, sizeof(buf));
	assert_string_equal(buf, "0829423388000");
}

static void test_key__fileptr(void **state)
{
	char out[64];
	char big[KD_SYMSTORE_FILEPTR_MAX + 2];

	(void)state;
	assert_int_equal(kd_symstore__fileptr_parse("PATH:/x/y.pdb\r\n", 15,
						    out, sizeof(out)),
			 KD_OK);
	assert_string_equal(out, "/x/y.pdb");
	assert_int_equal(kd_symstore__fileptr_parse("path: http://h/a", 16, out,
						    sizeof(out)),
			 KD_OK);
	assert_string_equal(out, "http://h/a");
	assert_int_equal(kd_symstore__fileptr_parse("\\\\srv\\share\\a.pdb", 17,
						    out, sizeof(out)),
			 KD_OK);
	assert_string_equal(out, "\\\\srv\\share\\a.pdb");
	assert_int_equal(kd_symstore__fileptr_parse("MSG: NoLongerIndexed\n",
						    21, out, sizeof(out)),
			 KD_ENOTFOUND);
	assert_string_equal(out, "NoLongerIndexed");
	assert_int_equal(kd_symstore__fileptr_parse("", 0, out, sizeof(out)),
			 KD_EPROTO);
	assert_int_equal(
		kd_symstore__fileptr_parse("PATH:", 5, out, sizeof(out)),
		KD_EPROTO);
	assert_int_equal(
		kd_symstore__fileptr_parse("PATH:a\nb", 8, out, sizeof(out)),
		KD_EPROTO);
	assert_int_equal(kd_symstore__fileptr_parse("<html><body>", 12, out,
						    sizeof(out)),
			 KD_EPROTO);
	assert_int_equal(
		kd_symstore__fileptr_parse("PATH:a\0b", 8, out, sizeof(out)),
		KD_EPROTO);
	memset(big, 'a', sizeof(big));
	assert_int_equal(
		kd_symstore__fileptr_parse(big, sizeof(big), out, sizeof(out)),
		KD_EPROTO);
	assert_int_equal(kd_symstore__fileptr_parse(big, 100, out, sizeof(out)),
			 KD_EBUFS);
}

static void test_key__cab_name_and_misses(void **state)
{
	struct kd_symstore_misses *m;
	char buf[32];

	(void)state;
	assert_int_equal(kd_symstore__cab_name("nt.pdb", buf, sizeof(buf)),
			 KD_OK);
	assert_string_equal(buf, "nt.pd_");
	kd_symstore__cab_name("hal.dll", buf, sizeof(buf));
	assert_string_equal(buf, "hal.dl_");
	assert_int_equal(kd_symstore__cab_name("", buf, sizeof(buf)), KD_EBUFS);

	assert_int_equal(kd_symstore_misses_new(&m), KD_OK);
	assert_false(kd_symstore__miss_has(m, "a"));
	kd_symstore__miss_add(m, "a");
	kd_symstore__miss_add(m, "a");
	assert_true(kd_symstore__miss_has(m, "a"));
	assert_int_equal(m->n, 1);
	kd_symstore_misses_clear(m);
	assert_false(kd_symstore__miss_has(m, "a"));
	kd_symstore_misses_free(m);
	kd_symstore_misses_free(NULL);
}

static void test_key__default_cache(void **state)
{
	char buf[256];

	(void)state;
	setenv("OPENKD_SYMCACHE", "/tmp/x", 1);
	assert_int_equal(kd_symstore_default_cache(buf, sizeof(buf)), KD_OK);
	assert_string_equal(buf, "/tmp/x");
	unsetenv("OPENKD_SYMCACHE");
	setenv("XDG_CACHE_HOME", "/tmp/xdg", 1);
	kd_symstore_default_cache(buf, sizeof(buf));
	assert_string_equal(buf, "/tmp/xdg/openkd/sym");
	assert_int_equal(kd_symstore_default_cache(buf, 4), KD_EBUFS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sympath__forms),
		cmocka_unit_test(test_sympath__elements),
		cmocka_unit_test(test_sympath__errors),
		cmocka_unit_test(test_sympath__format_cut),
		cmocka_unit_test(test_sympath__oom),
		cmocka_unit_test(test_key__dirs),
		cmocka_unit_test(test_key__fileptr),
		cmocka_unit_test(test_key__cab_name_and_misses),
		cmocka_unit_test(test_key__default_cache),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
