/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the connection-string parser: the option parser, its
 * typed getters, and the registry's split/lookup/validate path
 * (kd_transport_check), which opens nothing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kd/sys/transport.h>
#include <kd/transport.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "tx", "rx", "both", NULL };
	struct kd_params *p = NULL;
	char *s;
	int sink = 0;

	if (size > 3 * KD_PARAMS_MAX_TEXT)
		return 0;
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	sink += kd_transport_check(s);
	if (kd_params_parse(&p, "fuzz", s) == 0) {
		size_t n = kd_params_count(p);

		for (size_t i = 0; i < n; i++) {
			const char *k, *v;
			uint64_t u64;
			uint32_t u;
			double d;
			int e;

			if (kd_params_at(p, i, &k, &v) != 0)
				abort();
			if (!kd_params_has(p, k))
				abort();
			sink += kd_params_get_u64(p, k, 0, UINT64_MAX, 0, &u64);
			sink += kd_params_get_u32(p, k, 1, 65535, 1, &u);
			sink += kd_params_get_double(p, k, 0, 1, 0, &d);
			sink += kd_params_get_enum(p, k, names, 0, &e);
			(void)kd_params_is_nested(p, k);
		}
		kd_params_free(p);
	}
	free(s);
	return sink > 0 ? 1 : 0; /* codes are never positive */
}
