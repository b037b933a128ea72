/* SPDX-License-Identifier: MIT */
/*
 * What kdsrv opens for its clients: the operator's list of allowed
 * transport strings (`--allow`, `--allow-file`), or the built-in default.
 * A client's `trans=` string and every pattern are parsed by the one
 * connection-string parser the transports use (kd_params_parse, the same
 * '|' and `@{...}` splitting), and compared item by item, so case, order,
 * nesting, layering or duplicate keys cannot spell a way around a rule.
 * docs/security.md ("kdsrv policy") is the user's description.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kd/alloc.h>
#include <kd/error.h>
#include <kd/kdsrv.h>
#include <kd/sys/transport.h>

#define POL_SCHEME_MAX 15 /* as the transport registry */
#define POL_MAX_PATTERNS 256
#define POL_LINE_MAX 2048
#define POL_FILE_MAX (256 * 1024)

struct pol_seg {
	char scheme[POL_SCHEME_MAX + 1];
	struct kd_params *p;
};

struct pol_pattern {
	size_t nseg;
	struct pol_seg seg[KD_TRANSPORT_MAX_DEPTH];
	char *text; /* as written, for messages */
};

struct kd_srv_policy {
	size_t count;
	struct pol_pattern *pat[POL_MAX_PATTERNS];
};

/*
 * Options a client may add without the pattern naming them: they tune a
 * link the pattern allows, they do not choose what is opened.
 */
struct tuning {
	const char *scheme;
	const char *key;
};

static const struct tuning tuning[] = {
	{ "com", "baud" }, { "com", "resets" },	 { "com", "reconnect" },
	{ "net", "key" },  { "net", "auth_ms" }, { NULL, NULL },
};

/* Options whose values are numbers: compared in canonical decimal. */
static const struct tuning numeric[] = {
	{ "com", "baud" },	{ "com", "ipport" },  { "com", "resets" },
	{ "net", "port" },	{ "net", "auth_ms" }, { "net", "offer_ms" },
	{ "net", "localport" }, { NULL, NULL },
};

/* The built-in default: plain transports, no layers, nothing named by
 * the client that the operator did not (docs/security.md). */
static const char *const builtin[] = {
	"net:",
	"net:port=1024..65535",
	"com:port=/dev/ttyS[0-9]*",
	"com:port=/dev/ttyUSB[0-9]*",
	"com:port=/dev/ttyACM[0-9]*",
	NULL,
};

static bool in_table(const struct tuning *t, const char *scheme,
		     const char *key)
{
	for (; t->scheme; t++) {
		if (strcmp(t->scheme, scheme) == 0 &&
		    strcasecmp(t->key, key) == 0)
			return true;
	}
	return false;
}

/* --- parsing (the transports' splitting, then kd_params_parse) --- */

static void free_segs(struct pol_seg *seg, size_t n)
{
	for (size_t i = 0; i < n; i++)
		kd_params_free(seg[i].p);
}

/* Parse one part "scheme[:options]" of @p len bytes into @p seg. */
static int parse_part(const char *start, size_t len, struct pol_seg *seg,
		      const char *what, size_t part)
{
	char opts[KD_PARAMS_MAX_TEXT + 1];
	const char *colon = memchr(start, ':', len);
	size_t sl = colon ? (size_t)(colon - start) : len;

	if (sl == 0 || sl > POL_SCHEME_MAX)
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_SERVER,
				    "%s: no transport name in part %zu", what,
				    part);
	for (size_t i = 0; i < sl; i++) {
		char c = start[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			return kd_error_set(
				KD_EINVAL, KD_ERRCLASS_SERVER,
				"%s: bad transport name in part %zu", what,
				part);
		seg->scheme[i] = c;
	}
	seg->scheme[sl] = '\0';
	opts[0] = '\0';
	if (colon) {
		memcpy(opts, colon + 1, len - sl - 1);
		opts[len - sl - 1] = '\0';
	}
	return kd_params_parse(&seg->p, seg->scheme, opts);
}

/*
 * Split @p s into its layers with the transports' own splitter (so the
 * policy sees exactly what kd_transport_open() would open) and parse
 * each part.  @p what names the string in messages ("pattern",
 * "transport").
 */
static int parse_chain(const char *s, struct pol_seg *seg, size_t *nseg,
		       const char *what)
{
	struct kd_conn_part parts[KD_TRANSPORT_MAX_DEPTH];
	size_t n = 0;
	int rc;

	*nseg = 0;
	if (strlen(s) > KD_PARAMS_MAX_TEXT)
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_SERVER,
				    "%s too long (at most %d bytes)", what,
				    KD_PARAMS_MAX_TEXT);
	rc = kd_transport_split(s, parts, &n);
	if (rc < 0)
		return kd_error_set(rc, KD_ERRCLASS_SERVER, "%s: %s", what,
				    kd_error_last()->message);
	for (size_t i = 0; i < n; i++) {
		rc = parse_part(parts[i].text, parts[i].len, &seg[i], what,
				i + 1);
		if (rc < 0) {
			free_segs(seg, i);
			return rc;
		}
	}
	*nseg = n;
	return KD_OK;
}

/* --- values --- */

/* Canonical decimal: digits, no leading zero, at most 10 digits. */
static bool decimal(const char *v, unsigned long long *out)
{
	size_t n = strlen(v);

	if (n == 0 || n > 10 || (v[0] == '0' && n > 1))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
	}
	*out = strtoull(v, NULL, 10);
	return true;
}

/* A `lo..hi` range pattern of a numeric option. */
static bool range(const char *pat, unsigned long long *lo,
		  unsigned long long *hi)
{
	const char *dots = strstr(pat, "..");
	char a[16], b[16];
	size_t n;

	if (!dots)
		return false;
	n = (size_t)(dots - pat);
	if (n == 0 || n >= sizeof(a) || strlen(dots + 2) >= sizeof(b))
		return false;
	memcpy(a, pat, n);
	a[n] = '\0';
	snprintf(b, sizeof(b), "%s", dots + 2);
	return decimal(a, lo) && decimal(b, hi) && *lo <= *hi;
}

/* True when a '/'-separated component of @p v is "..". */
static bool dotdot(const char *v)
{
	for (const char *p = v; (p = strstr(p, "..")) != NULL; p += 2) {
		if ((p == v || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
			return true;
	}
	return false;
}

/*
 * Does value @p v (the client's) match @p pat (the operator's)?  Fills
 * @p why with the difference.
 */
static bool value_ok(const char *scheme, const char *key, const char *v,
		     const char *pat, char *why, size_t cap)
{
	unsigned long long n, lo, hi;

	if (in_table(numeric, scheme, key)) {
		if (!decimal(v, &n)) {
			snprintf(
				why, cap,
				"%s=%.64s: numbers must be written in plain decimal",
				key, v);
			return false;
		}
		if (range(pat, &lo, &hi)) {
			if (n >= lo && n <= hi)
				return true;
			snprintf(why, cap, "%s=%llu is outside %s", key, n,
				 pat);
			return false;
		}
	}
	if (dotdot(v)) {
		snprintf(why, cap, "%s=%.200s: a path with '..'", key, v);
		return false;
	}
	if (fnmatch(pat, v, FNM_PATHNAME | FNM_PERIOD) == 0)
		return true;
	snprintf(why, cap, "%s=%.120s does not match %s=%.120s", key, v, key,
		 pat);
	return false;
}

/*
 * One part of the client's string against one part of a pattern.  On a
 * mismatch @p close says how near it came (for the message): 0 another
 * transport, 100 - N with N options amiss, 200 the same options with
 * another value.
 */
static bool seg_ok(const struct pol_seg *req, const struct pol_seg *pat,
		   char *why, size_t cap, int *close)
{
	size_t n = kd_params_count(pat->p);
	int odd = 0;

	*close = 0;
	if (strcmp(req->scheme, pat->scheme) != 0) {
		snprintf(why, cap, "'%s:' is not '%s:'", req->scheme,
			 pat->scheme);
		return false;
	}
	/* Everything the pattern names must be there ... */
	for (size_t i = 0; i < n; i++) {
		const char *k, *pv;

		if (kd_params_at(pat->p, i, &k, &pv) < 0)
			return false;
		if (!kd_params_has(req->p, k)) {
			if (!odd++)
				snprintf(why, cap, "'%s' is missing", k);
		}
	}
	/* ... the client may add only tuning options ... */
	for (size_t i = 0; i < kd_params_count(req->p); i++) {
		const char *k, *rv;

		if (kd_params_at(req->p, i, &k, &rv) < 0)
			return false;
		if (!kd_params_has(pat->p, k) &&
		    !in_table(tuning, req->scheme, k)) {
			if (!odd++)
				snprintf(why, cap,
					 "option '%.32s' is not allowed", k);
		}
	}
	/* The fewer options amiss, the nearer (KD_PARAMS_MAX_ITEMS each). */
	*close = 100 - odd;
	if (odd)
		return false;
	*close = 200;
	/* ... and every value must match. */
	for (size_t i = 0; i < n; i++) {
		const char *k, *pv, *rv;

		if (kd_params_at(pat->p, i, &k, &pv) < 0)
			return false;
		rv = kd_params_get(req->p, k);
		if (!pv != !rv) {
			snprintf(why, cap,
				 pv ? "'%s' needs a value" :
				      "'%s' takes no value",
				 k);
			return false;
		}
		if (pv && !value_ok(req->scheme, k, rv, pv, why, cap))
			return false;
	}
	n = kd_params_count(req->p);
	for (size_t i = 0; i < n; i++) {
		const char *k, *rv;

		if (kd_params_at(req->p, i, &k, &rv) < 0)
			return false;
		if (kd_params_has(pat->p, k))
			continue;
		if (rv && in_table(numeric, req->scheme, k) &&
		    !value_ok(req->scheme, k, rv, "*", why, cap))
			return false;
	}
	return true;
}

/* --- the list --- */

static void pattern_free(struct pol_pattern *pt)
{
	if (!pt)
		return;
	free_segs(pt->seg, pt->nseg);
	kd_free(pt->text);
	kd_free(pt);
}

int kd_srv_policy_new(struct kd_srv_policy **out)
{
	*out = kd_calloc(1, sizeof(**out));
	return *out ? KD_OK : KD_ENOMEM;
}

void kd_srv_policy_free(struct kd_srv_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->count; i++)
		pattern_free(p->pat[i]);
	kd_free(p);
}

size_t kd_srv_policy_count(const struct kd_srv_policy *p)
{
	return p ? p->count : 0;
}

/* Glob characters in @p v made literal (for values from the environment). */
static void literal(char *dst, size_t cap, const char *v)
{
	size_t o = 0;

	for (; *v && o + 2 < cap; v++) {
		if (strchr("*?[]\\", *v))
			dst[o++] = '\\';
		dst[o++] = *v;
	}
	dst[o] = '\0';
}

static int add_one(struct kd_srv_policy *p, const char *text)
{
	struct pol_pattern *pt;
	size_t len = strlen(text);
	int rc;

	if (p->count == POL_MAX_PATTERNS)
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_SERVER,
				    "more than %d allowed transports",
				    POL_MAX_PATTERNS);
	pt = kd_calloc(1, sizeof(*pt));
	if (!pt)
		return KD_ENOMEM;
	pt->text = kd_malloc(len + 1);
	if (!pt->text) {
		kd_free(pt);
		return KD_ENOMEM;
	}
	memcpy(pt->text, text, len + 1);
	rc = parse_chain(text, pt->seg, &pt->nseg, "pattern");
	if (rc < 0) {
		pattern_free(pt);
		return rc;
	}
	p->pat[p->count++] = pt;
	return KD_OK;
}

/*
 * The default list, plus what kdsrv's own environment names: the values
 * kd_srv_trans_defaults() fills in are the operator's, not the client's.
 */
static int add_defaults(struct kd_srv_policy *p)
{
	char lit[600], pat[700];
	const char *v;
	int rc = KD_OK;

	for (size_t i = 0; rc == KD_OK && builtin[i]; i++)
		rc = add_one(p, builtin[i]);
	v = getenv("_NT_DEBUG_PORT");
	if (rc == KD_OK && v && *v && strlen(v) <= 200 &&
	    !strpbrk(v, ",@{}|")) {
		literal(lit, sizeof(lit), v);
		snprintf(pat, sizeof(pat), "com:port=%s", lit);
		rc = add_one(p, pat);
		if (rc == KD_OK) {
			snprintf(pat, sizeof(pat), "com:pipe,port=%s", lit);
			rc = add_one(p, pat);
		}
	}
	v = getenv("OPENKD_KDNET_PORT");
	if (rc == KD_OK && v && *v && strlen(v) <= 10 &&
	    strspn(v, "0123456789") == strlen(v)) {
		snprintf(pat, sizeof(pat), "net:port=%s", v);
		rc = add_one(p, pat);
	}
	return rc;
}

int kd_srv_policy_add(struct kd_srv_policy *p, const char *pattern)
{
	if (!p || !pattern)
		return KD_EINVAL;
	if (strcmp(pattern, "default") == 0)
		return add_defaults(p);
	if (strcmp(pattern, "none") == 0)
		return KD_OK;
	return add_one(p, pattern);
}

int kd_srv_policy_add_text(struct kd_srv_policy *p, const char *text,
			   size_t len, const char *origin)
{
	char line[POL_LINE_MAX + 1];
	size_t i = 0, lineno = 0;

	if (!p || (!text && len))
		return KD_EINVAL;
	if (!origin)
		origin = "policy";
	while (i < len) {
		size_t start = i, end, n;
		int rc;

		while (i < len && text[i] != '\n')
			i++;
		end = i;
		if (i < len)
			i++;
		lineno++;
		while (start < end &&
		       (text[start] == ' ' || text[start] == '\t'))
			start++;
		while (end > start &&
		       (text[end - 1] == ' ' || text[end - 1] == '\t' ||
			text[end - 1] == '\r'))
			end--;
		n = end - start;
		if (n == 0 || text[start] == '#')
			continue;
		if (n > POL_LINE_MAX)
			return kd_error_set(
				KD_EINVAL, KD_ERRCLASS_SERVER,
				"%.200s:%zu: line longer than %d bytes", origin,
				lineno, POL_LINE_MAX);
		if (memchr(text + start, '\0', n))
			return kd_error_set(KD_EINVAL, KD_ERRCLASS_SERVER,
					    "%.200s:%zu: NUL byte", origin,
					    lineno);
		memcpy(line, text + start, n);
		line[n] = '\0';
		rc = kd_srv_policy_add(p, line);
		if (rc < 0) {
			char msg[300];

			snprintf(msg, sizeof(msg), "%s", kd_error_message(rc));
			return kd_error_set(rc, KD_ERRCLASS_SERVER,
					    "%.200s:%zu: %s", origin, lineno,
					    msg);
		}
	}
	return KD_OK;
}

int kd_srv_policy_load(struct kd_srv_policy *p, const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;
	int rc;

	if (!f)
		return kd_error_set_os(KD_ENOTFOUND, errno, "cannot open %s",
				       path);
	buf = kd_malloc(POL_FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		return KD_ENOMEM;
	}
	n = fread(buf, 1, POL_FILE_MAX + 1, f);
	fclose(f);
	if (n > POL_FILE_MAX) {
		kd_free(buf);
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_SERVER,
				    "%s: larger than %d bytes", path,
				    POL_FILE_MAX);
	}
	rc = kd_srv_policy_add_text(p, buf, n, path);
	kd_free(buf);
	return rc;
}

size_t kd_srv_policy_describe(const struct kd_srv_policy *p, char *buf,
			      size_t cap)
{
	size_t o = 0;

	if (cap == 0)
		return 0;
	buf[0] = '\0';
	if (!p) {
		snprintf(buf, cap,
			 "the default list (net:, com: serial "
			 "devices, the environment's ports)");
		return strlen(buf);
	}
	if (p->count == 0) {
		snprintf(buf, cap, "nothing");
		return strlen(buf);
	}
	for (size_t i = 0; i < p->count && o + 1 < cap; i++) {
		int n = snprintf(buf + o, cap - o, "%s%s", i ? " ; " : "",
				 p->pat[i]->text);

		if (n < 0 || (size_t)n >= cap - o) {
			o = cap - 1;
			break;
		}
		o += (size_t)n;
	}
	return o;
}

/* --- the check --- */

static int check(const struct kd_srv_policy *p, const char *trans, char *why,
		 size_t cap)
{
	struct pol_seg req[KD_TRANSPORT_MAX_DEPTH] = { 0 };
	char diff[600] = "", first[600] = "";
	const struct pol_pattern *near = NULL;
	int best = -1;
	size_t nreq = 0;
	int rc;

	rc = parse_chain(trans, req, &nreq, "transport");
	if (rc < 0) {
		snprintf(why, cap, "not a transport string: %s",
			 kd_error_message(rc));
		return KD_EINVAL;
	}
	for (size_t i = 0; i < p->count; i++) {
		const struct pol_pattern *pt = p->pat[i];
		bool ok = pt->nseg == nreq;
		int close = 0, score = 0;

		for (size_t k = 0; ok && k < nreq; k++) {
			ok = seg_ok(&req[k], &pt->seg[k], diff, sizeof(diff),
				    &close);
			score = (int)k * 1000 + close;
		}
		if (ok) {
			free_segs(req, nreq);
			return KD_OK;
		}
		/* The nearest pattern of the same shape says why. */
		if (pt->nseg == nreq && score > best &&
		    (nreq > 1 || close > 0)) {
			best = score;
			near = pt;
			snprintf(first, sizeof(first), "%s", diff);
		}
	}
	if (p->count == 0)
		snprintf(why, cap,
			 "refused by policy: no transport is allowed");
	else if (near)
		snprintf(why, cap,
			 "refused by policy: %s (nearest rule %.200s)", first,
			 near->text);
	else if (nreq > 1)
		snprintf(
			why, cap,
			"refused by policy: layered transports ('%s|...') are not allowed",
			req[0].scheme);
	else
		snprintf(why, cap,
			 "refused by policy: transport '%s:' is not allowed",
			 req[0].scheme);
	free_segs(req, nreq);
	return KD_EAUTH;
}

int kd_srv_policy_check(const struct kd_srv_policy *p, const char *trans,
			char *why, size_t cap)
{
	struct kd_srv_policy *def = NULL;
	char tmp[8];
	int rc;

	if (!why || cap == 0) {
		why = tmp;
		cap = sizeof(tmp);
	}
	why[0] = '\0';
	if (!trans) {
		snprintf(why, cap, "no transport");
		return KD_EINVAL;
	}
	if (!p) {
		rc = kd_srv_policy_new(&def);
		if (rc == KD_OK)
			rc = add_defaults(def);
		if (rc < 0) {
			kd_srv_policy_free(def);
			snprintf(why, cap, "cannot build the default policy");
			return rc;
		}
		p = def;
	}
	rc = check(p, trans, why, cap);
	kd_srv_policy_free(def);
	return rc;
}
