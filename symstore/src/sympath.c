/* SPDX-License-Identifier: MIT */
/*
 * The symbol path: WinDbg's ';'-separated text parsed into elements, and
 * the canonical text back.  Every length is bounded (KD_SYMPATH_MAX for
 * the text, KD_SYMPATH_ELEM_MAX for an element, KD_SYMPATH_TIERS_MAX
 * caches in a chain); anything else is one error line naming the element.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include <kd/alloc.h>
#include <kd/error.h>

#include "symstore_int.h"

static void elem_clear(struct sympath_elem *e)
{
	size_t i;

	kd_free(e->dir);
	kd_free(e->store);
	for (i = 0; i < e->ncaches; i++)
		kd_free(e->caches[i]);
	memset(e, 0, sizeof(*e));
}

static bool is_http(const char *s)
{
	return strncasecmp(s, "http://", 7) == 0 ||
	       strncasecmp(s, "https://", 8) == 0;
}

/* A copy of @p n bytes at @p s; NULL for an empty token when @p empty_null. */
static int dup_token(char **out, const char *s, size_t n, bool empty_null)
{
	*out = NULL;
	if (n == 0 && empty_null)
		return KD_OK;
	*out = kd_malloc(n + 1);
	if (!*out)
		return KD_ENOMEM;
	memcpy(*out, s, n);
	(*out)[n] = '\0';
	return KD_OK;
}

static int elem_error(size_t idx, const char *s, size_t n, const char *what)
{
	return kd_error_set(KD_EINVAL, KD_ERRCLASS_ENGINE,
			    "symbol path: element %zu '%.*s': %s", idx,
			    (int)(n > 80 ? 80 : n), s, what);
}

/* Split [s, s+n) on '*' into at most @p max (start, len) pairs. */
static size_t split_stars(const char *s, size_t n, const char **tok,
			  size_t *len, size_t max)
{
	size_t k = 0, i, start = 0;

	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != '*')
			continue;
		if (k == max)
			return max + 1;
		tok[k] = s + start;
		len[k] = i - start;
		k++;
		start = i + 1;
	}
	return k;
}

/* Parse one non-empty element [s, s+n) (element number @p idx) into @p e. */
static int parse_elem(struct sympath_elem *e, size_t idx, const char *s,
		      size_t n)
{
	const char *tok[KD_SYMPATH_TIERS_MAX + 3];
	size_t len[KD_SYMPATH_TIERS_MAX + 3], ntok, first, i;
	int rc;

	memset(e, 0, sizeof(*e));
	if (n > KD_SYMPATH_ELEM_MAX)
		return elem_error(idx, s, n, "element too long");
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return elem_error(idx, s, n, "control character");
	ntok = split_stars(s, n, tok, len, KD_SYMPATH_TIERS_MAX + 3);
	if (ntok > KD_SYMPATH_TIERS_MAX + 2)
		return elem_error(idx, s, n, "too many caches in one chain");
	if (ntok == 1) {
		e->kind = KD_SYMPATH_DIR;
		return dup_token(&e->dir, s, n, false);
	}
	if (len[0] == 5 && strncasecmp(tok[0], "cache", 5) == 0) {
		if (ntok != 2)
			return elem_error(idx, s, n, "cache* takes one folder");
		if (len[1] && is_http(tok[1]))
			return elem_error(idx, s, n,
					  "cache* needs a folder, not a URL");
		e->kind = KD_SYMPATH_CACHE;
		return dup_token(&e->dir, tok[1], len[1], true);
	}
	if (len[0] == 3 && strncasecmp(tok[0], "srv", 3) == 0)
		first = 1;
	else if (len[0] == 6 && strncasecmp(tok[0], "symsrv", 6) == 0) {
		if (len[1] != 10 || strncasecmp(tok[1], "symsrv.dll", 10) != 0)
			return elem_error(idx, s, n,
					  "only symsrv*symsrv.dll* is known");
		if (ntok < 3)
			return elem_error(idx, s, n,
					  "no store after symsrv.dll*");
		first = 2;
	} else
		return elem_error(idx, s, n,
				  "'*' outside srv*, symsrv* or cache*");
	e->kind = KD_SYMPATH_SRV;
	/* The last token is the store; the ones before it are caches. */
	for (i = first; i + 1 < ntok; i++) {
		if (len[i] && is_http(tok[i]))
			return elem_error(idx, s, n,
					  "an http store must be the last "
					  "in a srv* chain");
		rc = dup_token(&e->caches[e->ncaches], tok[i], len[i], true);
		if (rc)
			return rc;
		e->ncaches++;
	}
	if (len[ntok - 1] == 0) /* "srv*": the Microsoft store */
		rc = dup_token(&e->store, KD_SYMSTORE_MSDL,
			       strlen(KD_SYMSTORE_MSDL), false);
	else
		rc = dup_token(&e->store, tok[ntok - 1], len[ntok - 1], false);
	if (rc)
		return rc;
	e->http = is_http(e->store);
	return KD_OK;
}

static int path_push(struct kd_sympath *p, struct sympath_elem *e)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 4;
		struct sympath_elem *v = kd_realloc(p->v, cap * sizeof(*p->v));

		if (!v)
			return KD_ENOMEM;
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n++] = *e;
	return KD_OK;
}

/* Parse @p text onto the end of @p p; on failure @p p is as before. */
static int parse_into(struct kd_sympath *p, const char *text)
{
	size_t before = p->n, idx = 0, tlen;
	const char *s = text, *end;
	int rc = KD_OK;

	if (!text)
		return KD_OK;
	tlen = strnlen(text, KD_SYMPATH_MAX + 1);
	if (tlen > KD_SYMPATH_MAX)
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_ENGINE,
				    "symbol path: longer than %d characters",
				    KD_SYMPATH_MAX);
	end = text + tlen;
	while (s <= end && rc == KD_OK) {
		const char *semi = memchr(s, ';', (size_t)(end - s));
		const char *e = semi ? semi : end;
		const char *a = s, *b = e;
		struct sympath_elem el;

		idx++;
		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		if (b > a) {
			rc = parse_elem(&el, idx, a, (size_t)(b - a));
			if (rc == KD_OK)
				rc = path_push(p, &el);
			if (rc != KD_OK)
				elem_clear(&el);
		}
		if (!semi)
			break;
		s = semi + 1;
	}
	if (rc != KD_OK) {
		while (p->n > before)
			elem_clear(&p->v[--p->n]);
		if (rc == KD_ENOMEM)
			kd_error_set(rc, KD_ERRCLASS_ENGINE,
				     "symbol path: out of memory");
	}
	return rc;
}

int kd_sympath_parse(struct kd_sympath **out, const char *text)
{
	struct kd_sympath *p;
	int rc;

	*out = NULL;
	p = kd_calloc(1, sizeof(*p));
	if (!p)
		return kd_error_set(KD_ENOMEM, KD_ERRCLASS_ENGINE,
				    "symbol path: out of memory");
	rc = parse_into(p, text);
	if (rc) {
		kd_sympath_free(p);
		return rc;
	}
	*out = p;
	return KD_OK;
}

int kd_sympath_append(struct kd_sympath *path, const char *text)
{
	if (!path)
		return KD_EINVAL;
	return parse_into(path, text);
}

void kd_sympath_free(struct kd_sympath *path)
{
	size_t i;

	if (!path)
		return;
	for (i = 0; i < path->n; i++)
		elem_clear(&path->v[i]);
	kd_free(path->v);
	kd_free(path);
}

/* Append @p s to the output, counting what does not fit. */
static void put(char *buf, size_t cap, size_t *pos, const char *s)
{
	size_t n = strlen(s);

	if (*pos < cap) {
		size_t room = cap - 1 - *pos;

		memcpy(buf + *pos, s, n < room ? n : room);
	}
	*pos += n;
}

size_t kd_sympath_format(const struct kd_sympath *path, char *buf, size_t cap)
{
	size_t pos = 0, i, j;

	for (i = 0; path && i < path->n; i++) {
		const struct sympath_elem *e = &path->v[i];

		if (i)
			put(buf, cap, &pos, ";");
		switch (e->kind) {
		case KD_SYMPATH_DIR:
			put(buf, cap, &pos, e->dir);
			break;
		case KD_SYMPATH_CACHE:
			put(buf, cap, &pos, "cache*");
			put(buf, cap, &pos, e->dir ? e->dir : "");
			break;
		case KD_SYMPATH_SRV:
			put(buf, cap, &pos, "srv*");
			for (j = 0; j < e->ncaches; j++) {
				put(buf, cap, &pos,
				    e->caches[j] ? e->caches[j] : "");
				put(buf, cap, &pos, "*");
			}
			put(buf, cap, &pos, e->store);
			break;
		}
	}
	if (cap > 0)
		buf[pos < cap ? pos : cap - 1] = '\0';
	return pos;
}

size_t kd_sympath_count(const struct kd_sympath *path)
{
	return path ? path->n : 0;
}

int kd_sympath_elem(const struct kd_sympath *path, size_t index,
		    struct kd_sympath_elem *out)
{
	const struct sympath_elem *e;
	size_t j;

	if (!path || index >= path->n)
		return KD_EINVAL;
	e = &path->v[index];
	memset(out, 0, sizeof(*out));
	out->kind = e->kind;
	out->dir = e->dir;
	out->store = e->store;
	out->http = e->http;
	out->ncaches = e->ncaches;
	for (j = 0; j < e->ncaches; j++)
		out->caches[j] = e->caches[j];
	return KD_OK;
}
