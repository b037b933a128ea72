/* SPDX-License-Identifier: MIT */
/*
 * Registry keys of transport strings: what names the physical channel a
 * client asks kdsrv to open, so two spellings of one channel collide.
 */
#include <stdio.h>
#include <string.h>

#include <kd/alloc.h>
#include <kd/error.h>
#include <kd/kdsrv.h>
#include <kd/sys/transport.h>

/* Keys that name the channel, in the order they appear in the key. */
static const char *const naming_keys[] = {
	"port", "ipport", "name", "channel", "targetname", "file", NULL,
};

/* Start of the bottom segment: after the last '|' outside `@{...}`. */
static const char *bottom_segment(const char *s)
{
	const char *last = s;
	int depth = 0;

	for (const char *p = s; *p; p++) {
		if (p[0] == '@' && p[1] == '{') {
			depth++;
			p++;
		} else if (*p == '}' && depth > 0) {
			depth--;
		} else if (*p == '|' && depth == 0) {
			last = p + 1;
		}
	}
	return last;
}

static int append(char *buf, size_t cap, size_t *o, const char *a,
		  const char *b)
{
	int n = snprintf(buf + *o, cap - *o, "%s%s", a, b);

	if (n < 0 || (size_t)n >= cap - *o)
		return KD_EBUFS;
	*o += (size_t)n;
	return KD_OK;
}

int kd_srv_transport_key(const char *trans, char *buf, size_t cap)
{
	char scheme[32];
	const char *seg, *colon;
	struct kd_params *p = NULL;
	size_t n, o = 0;
	bool any = false;
	int rc;

	if (!trans || !buf || cap == 0)
		return KD_EINVAL;
	buf[0] = '\0';
	seg = bottom_segment(trans);
	colon = strchr(seg, ':');
	n = colon ? (size_t)(colon - seg) : strlen(seg);
	if (n == 0 || n >= sizeof(scheme))
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_SERVER,
				    "no transport name in '%.64s'", trans);
	for (size_t i = 0; i < n; i++) {
		char c = seg[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		scheme[i] = c;
	}
	scheme[n] = '\0';
	rc = kd_params_parse(&p, scheme, colon ? colon + 1 : NULL);
	if (rc < 0)
		return rc;
	rc = append(buf, cap, &o, scheme, ":");
	for (size_t k = 0; rc == KD_OK && naming_keys[k]; k++) {
		const char *v = kd_params_get(p, naming_keys[k]);

		if (!v)
			continue;
		if (any)
			rc = append(buf, cap, &o, ",", "");
		if (rc == KD_OK)
			rc = append(buf, cap, &o, naming_keys[k], "=");
		if (rc == KD_OK)
			rc = append(buf, cap, &o, v, "");
		any = true;
	}
	if (rc == KD_OK && !any)
		rc = append(buf, cap, &o, colon ? colon + 1 : "", "");
	kd_params_free(p);
	return rc;
}
