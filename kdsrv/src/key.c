/* SPDX-License-Identifier: MIT */
/*
 * Registry keys of transport strings: what names the physical channel a
 * client asks kdsrv to open, so two spellings of one channel collide; and
 * the parameters a client left out, filled from kdsrv's environment.
 */
#include <stdio.h>
#include <stdlib.h>
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

/* One parameter a left-out value may come from, per scheme. */
struct env_default {
	const char *scheme;
	const char *key;
	const char *var;
	bool device_only; /* not for com:pipe / com:ipport */
};

static const struct env_default env_defaults[] = {
	{ "com", "port", "_NT_DEBUG_PORT", false },
	{ "com", "baud", "_NT_DEBUG_BAUD_RATE", true },
	{ "net", "port", "OPENKD_KDNET_PORT", false },
	{ "net", "key", "OPENKD_KDNET_KEY", false },
	{ NULL, NULL, NULL, false },
};

/* An environment value usable as one parameter value (no separators). */
static bool env_value_ok(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > 200)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c <= 0x20 || c > 0x7e || strchr(",@{}|", c))
			return false;
	}
	return true;
}

int kd_srv_trans_defaults(const char *trans, char *buf, size_t cap)
{
	char scheme[32];
	const char *seg, *colon, *opts;
	struct kd_params *p = NULL;
	size_t n, o = 0;
	bool device, any;
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
	opts = colon ? colon + 1 : "";
	any = opts[0] != '\0';
	rc = kd_params_parse(&p, scheme, opts);
	if (rc < 0)
		return rc;
	device = !kd_params_has(p, "pipe") && !kd_params_has(p, "ipport");
	/* Everything up to the bottom scheme's options, as given. */
	if ((size_t)(seg - trans) + n + 1 >= cap) {
		kd_params_free(p);
		return KD_EBUFS;
	}
	memcpy(buf, trans, (size_t)(seg - trans) + n);
	o = (size_t)(seg - trans) + n;
	buf[o++] = ':';
	buf[o] = '\0';
	rc = append(buf, cap, &o, opts, "");
	for (size_t i = 0; rc == KD_OK && env_defaults[i].scheme; i++) {
		const struct env_default *d = &env_defaults[i];
		const char *v;

		if (strcmp(d->scheme, scheme) != 0 ||
		    kd_params_has(p, d->key) || (d->device_only && !device))
			continue;
		v = getenv(d->var);
		if (!v)
			continue;
		if (!env_value_ok(v)) {
			rc = kd_error_set(
				KD_EINVAL, KD_ERRCLASS_SERVER,
				"%s on the kdsrv machine is not a usable %s= value",
				d->var, d->key);
			break;
		}
		rc = append(buf, cap, &o, any ? "," : "", d->key);
		if (rc == KD_OK)
			rc = append(buf, cap, &o, "=", v);
		any = true;
	}
	kd_params_free(p);
	return rc;
}
