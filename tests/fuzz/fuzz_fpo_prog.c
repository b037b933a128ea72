/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the FRAMEDATA program evaluator: the input is the
 * program text, run over a small fake stack with the registers and the
 * dbghelp variables set as the x86 unwinder sets them.  Reads outside
 * the stack fail, as unreadable target memory does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kd/common.h>
#include <kd/pdb.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define STACK_BASE 0x8000u
#define STACK_WORDS 64

static int stack_read(void *ctx, uint32_t addr, uint32_t *v)
{
	const uint32_t *stack = ctx;

	if (addr < STACK_BASE || addr - STACK_BASE >= STACK_WORDS * 4u ||
	    (addr & 3))
		return KD_EFAULT;
	*v = stack[(addr - STACK_BASE) / 4];
	return KD_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {
		"$eip",		"$esp",	     "$ebp",	  "$ebx",
		"$esi",		"$edi",	     ".raSearch", ".cbLocals",
		".cbSavedRegs", ".cbParams", "$T0",
	};
	uint32_t stack[STACK_WORDS];
	struct kd_pdb_prog p;
	uint32_t v;
	size_t i;

	if (size > 4096)
		return 0;
	for (i = 0; i < STACK_WORDS; i++)
		stack[i] = STACK_BASE + (uint32_t)i * 8;
	memset(&p, 0, sizeof(p));
	p.read32 = stack_read;
	p.ctx = stack;
	kd_pdb_prog_set(&p, "$eip", 0x401000);
	kd_pdb_prog_set(&p, "$esp", STACK_BASE);
	kd_pdb_prog_set(&p, "$ebp", STACK_BASE + 0x40);
	kd_pdb_prog_set(&p, ".raSearch", STACK_BASE + 0x20);
	kd_pdb_prog_set(&p, ".cbLocals", 8);
	kd_pdb_prog_set(&p, ".cbSavedRegs", 4);
	kd_pdb_prog_set(&p, ".cbParams", 12);
	/* The length bound, not a NUL, ends the program. */
	(void)kd_pdb_prog_run(&p, (const char *)data, size);
	if (p.nvars > KD_PDB_PROG_MAX_VARS)
		abort();
	for (i = 0; i < KD_ARRAY_SIZE(names); i++)
		(void)kd_pdb_prog_get(&p, names[i], &v, NULL);
	return 0;
}
