/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the argument cursor (engine/src/cmd/args.c): the
 * input is a small program and a text.  Byte 0 says how many program
 * bytes follow (0..15); each picks one take (word, option, quoted string,
 * group, number, expression, range, rest, end...) with its flags, run in
 * order over the rest of the input as one command's arguments.  After
 * every take the cursor must still be inside the text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/args.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_INPUT 4096

static void fz_sink(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	(void)text;
	(void)len;
}

/* One take, picked by @p op; the cursor is checked by the caller. */
static void fz_take(struct kd_args *a, uint8_t op)
{
	static const char *const leads[] = { "/", "-", "/-", "[" };
	static const char *const letters[] = { NULL, "1", "bwdqau", "cp" };
	const char *t = NULL;
	unsigned long n = 0;
	uint64_t v = 0, addr = 0, count = 0;
	size_t len = 0;
	bool have = false;
	char *u;

	switch (op & 0x0f) {
	case 0:
		kd_args_skip(a);
		break;
	case 1:
		kd_args_skip_also(a, ",;");
		break;
	case 2:
		(void)kd_args_take_word(a, &t, &len);
		break;
	case 3:
		(void)kd_args_take_option(a, leads[(op >> 4) & 3],
					  letters[(op >> 6) & 3], op >> 4);
		break;
	case 4:
		if (kd_args_take_quoted(a, op >> 4, &t, &len) == KD_OK) {
			u = kd_args_unescape(t, len);
			kd_free(u);
		}
		break;
	case 5:
		(void)kd_args_take_group(a, (op & 0x10) ? '(' : '[',
					 (op & 0x10) ? ')' : ']');
		break;
	case 6:
		(void)kd_args_take_number(a, (op & 0x10) ? 16 : 10, &n);
		break;
	case 7:
		(void)kd_args_take_expr(a, &v);
		break;
	case 8:
		(void)kd_args_take_range(a, 1u << ((op >> 4) & 3), &addr,
					 &count, &have);
		break;
	case 9:
		kd_args_take_rest(a, op >> 4, &t, &len);
		break;
	case 10:
		(void)kd_args_end(a);
		break;
	case 11:
		kd_args_advance(a, op >> 4);
		break;
	case 12:
		(void)kd_args_peek_at(a, op >> 4);
		(void)kd_args_at_word_end(a);
		(void)kd_args_blank_rest(a);
		break;
	case 13:
		(void)kd_args_error(a);
		break;
	case 14:
		(void)kd_args_error_eol(a);
		break;
	default:
		(void)kd_skip_blanks(a->p);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kd_session *s = NULL;
	struct kd_cmdctx c;
	struct kd_args a;
	size_t nops, i, len;
	char *text;

	if (size < 1 || size > FZ_MAX_INPUT)
		return 0;
	nops = data[0] & 0x0f;
	if (1 + nops > size)
		return 0;
	len = size - 1 - nops;
	/* Exactly sized: a take reading past the NUL shows under ASan. */
	text = malloc(len + 1);
	if (!text)
		return 0;
	memcpy(text, data + 1 + nops, len);
	text[len] = '\0';
	len = strlen(text);
	if (kd_session_new(&s, NULL) != KD_OK) {
		free(text);
		return 0;
	}
	s->sandbox = true;
	kd_session_set_output(s, fz_sink, NULL);
	c.line = text;
	c.name = "";
	c.args = text;
	kd_args_init(&a, s, &c);
	for (i = 0; i < nops; i++) {
		fz_take(&a, data[1 + i]);
		if (a.p < text || a.p > text + len)
			abort();
	}
	kd_session_free(s);
	free(text);
	return 0;
}
