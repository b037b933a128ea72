/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the crash-dump reader: the input is a dump file (written to a
 * memfd and opened by path like any dump), then its header facts,
 * physical and virtual reads, translation, contexts and the triage driver
 * list are exercised, and a session runs the read-only commands over it.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <kd/dump.h>

#include "core/engine_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_out(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	(void)text;
	(void)len;
}

static void fz_reader(const char *path)
{
	struct kd_dump *d = NULL;
	const struct kd_dump_info *in;
	uint8_t buf[0x1000];
	char name[64];
	uint64_t pa = 0, base = 0;
	uint32_t sz = 0, code = 0;
	size_t done = 0;
	unsigned i;

	if (kd_dump_open(&d, path, NULL, 0) != KD_OK)
		return;
	in = kd_dump_info(d);
	for (i = 0; kd_dump_warning(d, i); i++)
		(void)strlen(kd_dump_warning(d, i));
	(void)kd_dump_read_physical(d, 0, buf, sizeof(buf), &done);
	(void)kd_dump_read_physical(d, in->dtb & ~0xfffull, buf, 64, &done);
	(void)kd_dump_read_virtual(d, in->kdbg, buf, sizeof(buf), &done);
	(void)kd_dump_read_virtual(d, in->ps_loaded_module_list, buf, 16,
				   &done);
	(void)kd_dump_read_virtual(d, in->bugcheck_params[1] - 8, buf, 32,
				   &done);
	(void)kd_dump_translate(d, 0, in->kdbg, &pa);
	(void)kd_dump_translate(d, 0, 0xfffff78000000000ull, &pa);
	for (i = 0; i < 4 && i < in->ncpus; i++)
		(void)kd_dump_context(d, i, buf, sizeof(buf), &done);
	for (i = 0; i < 4; i++) {
		uint32_t ts, cs;

		(void)kd_dump_triage_driver(d, i, &base, &sz, name,
					    sizeof(name));
		(void)kd_dump_triage_driver_stamp(d, i, &ts, &cs);
	}
	(void)kd_dump_exception(d, &code, &pa);
	kd_dump_close(d);
}

static void fz_session(const char *path)
{
	struct kd_session *s = NULL;

	if (kd_session_new(&s, NULL) != KD_OK)
		return;
	s->sandbox = true;
	kd_session_set_output(s, fz_out, NULL);
	if (kd_session_open_dump(s, path) == KD_OK)
		(void)kd_session_execute(s, "r; k; lm; .bugcheck; !analyze -v; "
					    "dq @rsp L4; ~1s; !pte @rip; "
					    "vertarget");
	kd_session_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = memfd_create("fuzz_dump", 0);

	if (fd < 0)
		return 0;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	fz_reader(path);
	fz_session(path);
	close(fd);
	return 0;
}
