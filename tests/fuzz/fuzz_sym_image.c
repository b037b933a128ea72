/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the symbol side of the engine with hostile target memory: the input
 * is a loaded image (PE headers, exports, .pdata/.xdata) that also serves
 * as the stack, and the module, symbol, disassembly and stack commands run
 * over it.
 *
 * Input: u32 rip offset, u32 rsp offset, u32 module size, u16 name length,
 * u16 flags, then the image bytes mapped at IMG_BASE.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sym/sym_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define IMG_BASE 0xfffff80000400000ull
#define LDR_BASE 0xfffff80010100000ull
#define HDR 16
#define MAX_IMG (256u << 10)

struct ffake {
	struct kd_target t;
	const uint8_t *img;
	size_t img_len;
	uint8_t ldr[0x400];
	uint64_t rip, rsp;
};

static int f_read(struct kd_target *t, unsigned cpu, uint64_t va, void *buf,
		  size_t len, size_t *done)
{
	struct ffake *f = (struct ffake *)t;
	const uint8_t *src = NULL;
	size_t avail = 0;

	(void)cpu;
	*done = 0;
	if (va >= IMG_BASE && va - IMG_BASE < f->img_len) {
		src = f->img + (va - IMG_BASE);
		avail = f->img_len - (size_t)(va - IMG_BASE);
	} else if (va >= LDR_BASE && va - LDR_BASE < sizeof(f->ldr)) {
		src = f->ldr + (va - LDR_BASE);
		avail = sizeof(f->ldr) - (size_t)(va - LDR_BASE);
	}
	if (!src)
		return KD_EFAULT;
	if (avail > len)
		avail = len;
	memcpy(buf, src, avail);
	*done = avail;
	return KD_OK;
}

static int f_context(struct kd_target *t, unsigned cpu, uint8_t *ctx)
{
	struct ffake *f = (struct ffake *)t;

	(void)cpu;
	memset(ctx, 0, KD_AMD64_CONTEXT_SIZE);
	kd_amd64_context_set(ctx, KD_AMD64_CONTEXT_SIZE, KD_AMD64_RIP, f->rip);
	kd_amd64_context_set(ctx, KD_AMD64_CONTEXT_SIZE, KD_AMD64_RSP, f->rsp);
	return KD_OK;
}

static const struct kd_target_ops f_ops = {
	.name = "fuzz",
	.read_virtual = f_read,
	.get_context = f_context,
};

static void discard(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	(void)text;
	(void)len;
}

/* One LDR entry (at +0x40) naming the image, the head at +0. */
static void build_ldr(struct ffake *f, uint32_t size, uint16_t namelen,
		      uint16_t flags)
{
	static const char name[] = "ntoskrnl.exe";
	uint8_t *e = f->ldr + 0x40;
	size_t i;

	memset(f->ldr, 0, sizeof(f->ldr));
	kd_put_le64(f->ldr, LDR_BASE + 0x40);
	kd_put_le64(f->ldr + 8, LDR_BASE + 0x40);
	/* flags bit 0: a second link back to the entry (a cycle). */
	kd_put_le64(e, (flags & 1) ? LDR_BASE + 0x40 : LDR_BASE);
	kd_put_le64(e + 0x30, IMG_BASE);
	kd_put_le32(e + 0x40, size);
	kd_put_le16(e + 0x58, namelen);
	kd_put_le16(e + 0x5a, (flags & 2) ? 2 : 0x200);
	kd_put_le64(e + 0x60, LDR_BASE + 0x200);
	for (i = 0; i < sizeof(name) - 1; i++)
		kd_put_le16(f->ldr + 0x200 + 2 * i, (uint8_t)name[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const cmds[] = {
		"lm",
		"lmv",
		"x *!*",
		"ln @rip",
		"k",
		"kb",
		"kf 20",
		"u",
		"ub",
		"uf @rip",
		"u @rip L20",
		".reload",
		"ln fffff80000400000",
	};
	struct kd_session *s = NULL;
	struct ffake f;
	uint32_t rip_off, rsp_off, modsize;
	size_t i;

	if (size < HDR || size - HDR > MAX_IMG)
		return 0;
	memset(&f, 0, sizeof(f));
	f.t.ops = &f_ops;
	f.img = data + HDR;
	f.img_len = size - HDR;
	rip_off = kd_get_le32(data);
	rsp_off = kd_get_le32(data + 4);
	modsize = kd_get_le32(data + 8);
	f.rip = IMG_BASE + (f.img_len ? rip_off % f.img_len : 0);
	f.rsp = IMG_BASE + (f.img_len ? (rsp_off % f.img_len) & ~7u : 0);
	build_ldr(&f, modsize, kd_get_le16(data + 12), kd_get_le16(data + 14));
	if (kd_session_new(&s, NULL) != KD_OK)
		return 0;
	f.t.session = s;
	s->target = &f.t;
	s->sandbox = true;
	s->tgt.ncpus = 1;
	s->tgt.cpus = kd_calloc(1, sizeof(*s->tgt.cpus));
	if (!s->tgt.cpus) {
		s->target = NULL;
		kd_session_free(s);
		return 0;
	}
	s->tgt.have_version = true;
	s->tgt.version.flags = KD_VERS_FLAG_PTR64;
	s->tgt.version.ps_loaded_module_list = LDR_BASE;
	kd_session_set_output(s, discard, NULL);
	for (i = 0; i < KD_ARRAY_SIZE(cmds); i++)
		(void)kd_session_execute(s, cmds[i]);
	s->target = NULL;
	kd_session_free(s);
	return 0;
}
