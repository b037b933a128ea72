/* SPDX-License-Identifier: MIT */
/*
 * Connection-string option parser: `key=value,flag,key=@{nested}` into a
 * bounded list with typed, range-checked getters.  Used by the transport
 * registry, every driver's open() and the remote channel.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <kd/alloc.h>
#include <kd/error.h>
#include <kd/params.h>

struct kd_param {
	char *key;
	char *value; /* NULL for a flag */
	bool nested;
};

struct kd_params {
	char scheme[KD_PARAMS_SCHEME_MAX + 1];
	size_t count;
	struct kd_param items[KD_PARAMS_MAX_ITEMS];
	char *text; /* one copy of the input; keys and values point into it */
};

/* A one-line KD_EINVAL message naming the offending part. */
#define BAD(...) kd_error_set(KD_EINVAL, KD_ERRCLASS_TRANSPORT, __VA_ARGS__)

static int ascii_caseeq(const char *a, const char *b)
{
	for (;; a++, b++) {
		int ca = (unsigned char)*a;
		int cb = (unsigned char)*b;

		if (ca >= 'A' && ca <= 'Z')
			ca += 'a' - 'A';
		if (cb >= 'A' && cb <= 'Z')
			cb += 'a' - 'A';
		if (ca != cb)
			return 0;
		if (ca == 0)
			return 1;
	}
}

static bool key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

/*
 * Find the end of a nested value starting at @p s (just after "@{"): the
 * matching '}', or NULL when unbalanced or nested too deeply.
 */
static char *nested_end(char *s)
{
	int depth = 1;

	for (; *s != '\0'; s++) {
		if (s[0] == '@' && s[1] == '{') {
			depth++;
			if (depth > KD_PARAMS_MAX_NESTING)
				return NULL;
			s++;
		} else if (*s == '}') {
			depth--;
			if (depth == 0)
				return s;
		}
	}
	return NULL;
}

/* Reject a character that cannot appear in an option name. */
static int bad_char(char c)
{
	unsigned char u = (unsigned char)c;

	if (u >= 0x20 && u < 0x7f)
		return BAD("invalid character '%c' in option name", c);
	return BAD("invalid byte 0x%02x in option name", u);
}

static struct kd_param *find(const struct kd_params *p, const char *key)
{
	for (size_t i = 0; i < p->count; i++) {
		if (ascii_caseeq(p->items[i].key, key))
			return (struct kd_param *)&p->items[i];
	}
	return NULL;
}

/* Parse one item starting at *cursor; advance past it and its comma. */
static int parse_item(struct kd_params *p, char **cursor)
{
	char *s = *cursor;
	char *key = s;
	struct kd_param *it;

	while (key_char(*s))
		s++;
	if (s == key) {
		if (*s == ',' || *s == '\0')
			return BAD("empty option in '%s:' options", p->scheme);
		return bad_char(*s);
	}
	if (p->count == KD_PARAMS_MAX_ITEMS)
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_TRANSPORT,
				    "too many options (at most %d)",
				    KD_PARAMS_MAX_ITEMS);
	it = &p->items[p->count];
	it->key = key;
	it->value = NULL;
	it->nested = false;
	if (*s == ',' || *s == '\0') {
		char end = *s;

		*s = '\0';
		*cursor = end == ',' ? s + 1 : s;
		if (find(p, key))
			return BAD("duplicate option '%s'", key);
		p->count++;
		if (end == ',' && **cursor == '\0')
			return BAD("empty option after '%s'", key);
		return KD_OK;
	}
	if (*s != '=')
		return bad_char(*s);
	*s++ = '\0';
	if (find(p, key))
		return BAD("duplicate option '%s'", key);
	if (s[0] == '@' && s[1] == '{') {
		char *end = nested_end(s + 2);

		if (!end)
			return BAD("unterminated '@{' in value of '%s'", key);
		*end = '\0';
		it->value = s + 2;
		it->nested = true;
		s = end + 1;
		if (*s != ',' && *s != '\0')
			return BAD("unexpected text after '}' in value of '%s'",
				   key);
	} else {
		it->value = s;
		while (*s != ',' && *s != '\0') {
			if (s[0] == '@' && s[1] == '{')
				return BAD("'@{' must start the value of '%s'",
					   key);
			s++;
		}
	}
	if (*s == ',') {
		*s++ = '\0';
		if (*s == '\0')
			return BAD("empty option after '%s'", key);
	}
	if (it->value[0] == '\0' && !it->nested)
		return BAD("missing value for '%s'", key);
	p->count++;
	*cursor = s;
	return KD_OK;
}

int kd_params_parse(struct kd_params **out, const char *scheme,
		    const char *text)
{
	struct kd_params *p;
	size_t len;
	char *cursor;
	int rc;

	*out = NULL;
	if (!scheme || strlen(scheme) > KD_PARAMS_SCHEME_MAX)
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_TRANSPORT,
				    "invalid transport name");
	if (!text)
		text = "";
	len = strlen(text);
	if (len > KD_PARAMS_MAX_TEXT)
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_TRANSPORT,
				    "options too long (%zu bytes, at most %d)",
				    len, KD_PARAMS_MAX_TEXT);
	p = kd_calloc(1, sizeof(*p));
	if (!p)
		return KD_ENOMEM;
	memcpy(p->scheme, scheme, strlen(scheme) + 1);
	p->text = kd_malloc(len + 1);
	if (!p->text) {
		kd_free(p);
		return KD_ENOMEM;
	}
	memcpy(p->text, text, len + 1);
	cursor = p->text;
	while (*cursor != '\0') {
		rc = parse_item(p, &cursor);
		if (rc < 0) {
			kd_params_free(p);
			return rc;
		}
	}
	*out = p;
	return KD_OK;
}

void kd_params_free(struct kd_params *p)
{
	if (!p)
		return;
	kd_free(p->text);
	kd_free(p);
}

int kd_params_validate(const struct kd_params *p,
		       const struct kd_param_spec *specs)
{
	for (size_t i = 0; i < p->count; i++) {
		const struct kd_param *it = &p->items[i];
		const struct kd_param_spec *s = specs;

		while (s && s->key && !ascii_caseeq(s->key, it->key))
			s++;
		if (!s || !s->key)
			return BAD("unknown option '%s' for %s", it->key,
				   p->scheme);
		if (s->kind == KD_PARAM_FLAG && it->value)
			return BAD("option '%s' takes no value", it->key);
		if (s->kind == KD_PARAM_VALUE && !it->value)
			return BAD("missing value for '%s'", it->key);
	}
	return KD_OK;
}

const char *kd_params_scheme(const struct kd_params *p)
{
	return p->scheme;
}

size_t kd_params_count(const struct kd_params *p)
{
	return p->count;
}

int kd_params_at(const struct kd_params *p, size_t i, const char **key_out,
		 const char **value_out)
{
	if (i >= p->count)
		return KD_EINVAL;
	*key_out = p->items[i].key;
	*value_out = p->items[i].value;
	return KD_OK;
}

bool kd_params_has(const struct kd_params *p, const char *key)
{
	return find(p, key) != NULL;
}

const char *kd_params_get(const struct kd_params *p, const char *key)
{
	const struct kd_param *it = find(p, key);

	return it ? it->value : NULL;
}

bool kd_params_is_nested(const struct kd_params *p, const char *key)
{
	const struct kd_param *it = find(p, key);

	return it && it->nested;
}

int kd_params_get_str(const struct kd_params *p, const char *key,
		      const char *def, const char **out)
{
	const struct kd_param *it = find(p, key);

	if (!it) {
		*out = def;
		return KD_OK;
	}
	if (!it->value)
		return BAD("missing value for '%s'", it->key);
	*out = it->value;
	return KD_OK;
}

/* Fetch the value text of @p key: 1 = present, 0 = absent, <0 = error. */
static int value_of(const struct kd_params *p, const char *key,
		    const struct kd_param **out)
{
	const struct kd_param *it = find(p, key);

	*out = it;
	if (!it)
		return 0;
	if (!it->value || it->value[0] == '\0')
		return BAD("missing value for '%s'", it->key);
	return 1;
}

int kd_params_get_u64(const struct kd_params *p, const char *key, uint64_t min,
		      uint64_t max, uint64_t def, uint64_t *out)
{
	const struct kd_param *it;
	unsigned long long v;
	char *end;
	int rc;

	rc = value_of(p, key, &it);
	if (rc <= 0) {
		if (rc == 0)
			*out = def;
		return rc;
	}
	if (it->value[0] < '0' || it->value[0] > '9')
		return BAD("value '%s' for '%s' is not a number", it->value,
			   it->key);
	errno = 0;
	v = strtoull(it->value, &end, 0);
	if (*end != '\0')
		return BAD("value '%s' for '%s' is not a number", it->value,
			   it->key);
	if (errno == ERANGE || v < min || v > max)
		return kd_error_set(
			KD_EINVAL, KD_ERRCLASS_TRANSPORT,
			"value %s for '%s' out of range (%llu..%llu)",
			it->value, it->key, (unsigned long long)min,
			(unsigned long long)max);
	*out = v;
	return KD_OK;
}

int kd_params_get_u32(const struct kd_params *p, const char *key, uint32_t min,
		      uint32_t max, uint32_t def, uint32_t *out)
{
	uint64_t v = 0;
	int rc;

	rc = kd_params_get_u64(p, key, min, max, def, &v);
	if (rc < 0)
		return rc;
	*out = (uint32_t)v;
	return KD_OK;
}

int kd_params_get_double(const struct kd_params *p, const char *key, double min,
			 double max, double def, double *out)
{
	const struct kd_param *it;
	const char *s;
	double v;
	char *end;
	int rc;

	rc = value_of(p, key, &it);
	if (rc <= 0) {
		if (rc == 0)
			*out = def;
		return rc;
	}
	/* Plain decimals only: no hex floats, inf, nan or exponents. */
	for (s = it->value; *s != '\0'; s++) {
		if ((*s < '0' || *s > '9') && *s != '.')
			return BAD("value '%s' for '%s' is not a number",
				   it->value, it->key);
	}
	v = strtod(it->value, &end);
	if (*end != '\0' || end == it->value)
		return BAD("value '%s' for '%s' is not a number", it->value,
			   it->key);
	if (!(v >= min && v <= max))
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_TRANSPORT,
				    "value %s for '%s' out of range (%g..%g)",
				    it->value, it->key, min, max);
	*out = v;
	return KD_OK;
}

int kd_params_get_enum(const struct kd_params *p, const char *key,
		       const char *const *names, int def, int *out)
{
	const struct kd_param *it;
	char list[256];
	size_t used = 0;
	int rc;

	rc = value_of(p, key, &it);
	if (rc <= 0) {
		if (rc == 0)
			*out = def;
		return rc;
	}
	for (int i = 0; names[i]; i++) {
		if (ascii_caseeq(names[i], it->value)) {
			*out = i;
			return KD_OK;
		}
	}
	list[0] = '\0';
	for (int i = 0; names[i]; i++) {
		size_t n = strlen(names[i]);

		if (used + n + 3 >= sizeof(list))
			break;
		if (i > 0) {
			memcpy(list + used, ", ", 2);
			used += 2;
		}
		memcpy(list + used, names[i], n + 1);
		used += n;
	}
	return kd_error_set(KD_EINVAL, KD_ERRCLASS_TRANSPORT,
			    "value '%s' for '%s' must be one of %s", it->value,
			    it->key, list);
}
