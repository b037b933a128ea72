/* SPDX-License-Identifier: MIT */
/*
 * One way to open a target: the registry of target drivers, looked up by
 * the spec's prefix (the live KD target is the default), and the check
 * that a driver follows this engine's contract before it is used.  Kept
 * apart from the helpers the drivers share (attach.c), so the drivers
 * and their helpers do not call each other in a circle.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/engine_int.h"

static const struct kd_target_driver *const target_drivers[] = {
	&kd_target_dump_driver, &kd_target_image_driver,
	&kd_target_live_driver, /* the default: last */
};

#define FILE_PREFIX "file:"

/*
 * kd -z takes a crash dump or a PE image file, as WinDbg's does: an "MZ"
 * file is an image, anything else goes to the dump reader (which says
 * what is wrong with a file that is neither).
 */
static const struct kd_target_driver *file_driver(const char *path)
{
	unsigned char magic[2] = { 0, 0 };
	FILE *f = fopen(path, "rb");

	if (f) {
		if (fread(magic, 1, sizeof(magic), f) != sizeof(magic))
			magic[0] = 0;
		fclose(f);
	}
	return magic[0] == 'M' && magic[1] == 'Z' ? &kd_target_image_driver :
						    &kd_target_dump_driver;
}

int kd_target_open(struct kd_session *s, const char *spec,
		   struct kd_event *first)
{
	const struct kd_target_driver *drv = NULL;
	size_t i, plen = 0;
	int rc;

	memset(first, 0, sizeof(*first));
	if (s->target)
		return kd_fail(s, KD_EBUSY, "A target is already attached");
	if (strncasecmp(spec, FILE_PREFIX, strlen(FILE_PREFIX)) == 0) {
		drv = file_driver(spec + strlen(FILE_PREFIX));
		plen = strlen(FILE_PREFIX);
	}
	for (i = 0; i < KD_ARRAY_SIZE(target_drivers) && !drv; i++) {
		const char *p = target_drivers[i]->prefix;

		if (!p || strncasecmp(spec, p, strlen(p)) == 0) {
			drv = target_drivers[i];
			plen = p ? strlen(p) : 0;
		}
	}
	/* A target built against another contract would be half-used:
	 * members it does not have read as garbage.  Refuse it. */
	if (!drv || !drv->ops || drv->ops->version != KD_TARGET_OPS_VERSION ||
	    !drv->ops->identify || !drv->ops->read_virtual ||
	    !drv->ops->get_context || !drv->ops->wait || !drv->ops->close)
		return kd_fail(s, KD_ENOTSUP,
			       "The %s target does not follow this engine's "
			       "target contract (version %u)",
			       drv ? drv->name : "requested",
			       KD_TARGET_OPS_VERSION);
	rc = drv->open(s, spec + plen, first);
	if (rc < 0)
		s->target = NULL;
	return rc;
}
