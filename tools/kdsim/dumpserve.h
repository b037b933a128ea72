/* SPDX-License-Identifier: MIT */
/*
 * kdsim --dump: serve an x64 kernel crash dump to a KD host through kdstub,
 * as a target stopped for good at the dump's state.
 */
#ifndef KDSIM_DUMPSERVE_H
#define KDSIM_DUMPSERVE_H

#include <stdbool.h>
#include <stddef.h>

#include <kdstub/kdstub.h>

struct kdsim_dump;

/**
 * Open @p path with the dump reader and prepare the platform.
 * @return KD_OK; KD_ENOTSUP (not an x64 dump); the reader's error.
 *         @p err gets a one-line reason on failure.
 */
int kdsim_dump_open(struct kdsim_dump **out, const char *path, bool verbose,
		    char *err, size_t errlen);

/** Processors the dump describes (what the host will see). */
unsigned int kdsim_dump_cpus(const struct kdsim_dump *ds);

/**
 * Report the dump's stop over @p io and answer the host until @p stop
 * becomes true.  Every resume reports the same stop again.
 * @return KD_OK when stopped; kdstub_init's error.
 */
int kdsim_dump_serve(struct kdsim_dump *ds, const struct kdstub_io *io,
		     volatile int *stop);

/** Close the dump.  NULL-safe. */
void kdsim_dump_close(struct kdsim_dump *ds);

#endif /* KDSIM_DUMPSERVE_H */
