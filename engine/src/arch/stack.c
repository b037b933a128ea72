/* SPDX-License-Identifier: MIT */
/*
 * x64 stack walk: each frame is unwound with the image's RUNTIME_FUNCTION
 * and UNWIND_INFO codes (or as a leaf when there are none), starting from
 * the processor's context; bounded in depth and stopped on no progress.
 * amd64.c's unwind member hands it that context.  kd_stack_walk() (arch.c)
 * runs the machine's unwinder (x86_unwind.c: frame data, FPO, then the
 * EBP chain; arm64.c: the fp/lr frame records).  Called by the ops
 * files: calls only regs.c in arch/.
 */
#include <string.h>

#include "arch/arch.h"
#include "sym/sym_int.h"

#define KD_UNWIND_MAX_CHAIN 32

/* Unwind operation codes. */
enum {
	UWOP_PUSH_NONVOL = 0,
	UWOP_ALLOC_LARGE = 1,
	UWOP_ALLOC_SMALL = 2,
	UWOP_SET_FPREG = 3,
	UWOP_SAVE_NONVOL = 4,
	UWOP_SAVE_NONVOL_FAR = 5,
	UWOP_EPILOG = 6,
	UWOP_SPARE_CODE = 7,
	UWOP_SAVE_XMM128 = 8,
	UWOP_SAVE_XMM128_FAR = 9,
	UWOP_PUSH_MACHFRAME = 10,
};

#define UNW_FLAG_CHAININFO 0x4

/* Registers in x64 encoding order (rax rcx rdx rbx rsp rbp rsi rdi r8..) */
struct kd_uctx {
	uint64_t r[16];
	uint64_t rip;
	bool machframe; /* rip/rsp came from a machine frame */
};

#define R_RSP 4

/* Slots taken by one unwind code. */
static unsigned uwop_slots(uint8_t op, uint8_t info)
{
	switch (op) {
	case UWOP_ALLOC_LARGE:
		return info ? 3 : 2;
	case UWOP_SAVE_NONVOL:
	case UWOP_SAVE_XMM128:
	case UWOP_EPILOG:
		return 2;
	case UWOP_SAVE_NONVOL_FAR:
	case UWOP_SAVE_XMM128_FAR:
	case UWOP_SPARE_CODE:
		return 3;
	default:
		return 1;
	}
}

/*
 * Apply the unwind info at @p base + @p unwind_rva to @p c.  @p ipoff is
 * the offset of rip in the function, or UINT32_MAX for chained entries
 * (every code applies).  Follows chained info up to a bound.
 */
static int apply_unwind(struct kd_session *s, uint64_t base,
			uint32_t size_of_image, uint32_t unwind_rva,
			uint32_t ipoff, struct kd_uctx *c, unsigned depth)
{
	uint8_t ui[4 + 2 * 256 + 12];
	uint8_t flags, prolog, ncodes, fr, fo;
	uint64_t frame_base;
	size_t need, i;

	if (depth > KD_UNWIND_MAX_CHAIN || unwind_rva > size_of_image ||
	    size_of_image - unwind_rva < 4)
		return KD_EPROTO;
	if (kd_read_virtual_all(s, base + unwind_rva, ui, 4) != KD_OK)
		return KD_EFAULT;
	if ((ui[0] & 7) != 1 && (ui[0] & 7) != 2)
		return KD_EPROTO;
	flags = ui[0] >> 3;
	prolog = ui[1];
	ncodes = ui[2];
	fr = ui[3] & 0xf;
	fo = ui[3] >> 4;
	need = 4 + 2u * ncodes;
	if (flags & UNW_FLAG_CHAININFO)
		need = 4 + 2u * ((ncodes + 1u) & ~1u) + 12;
	if (need > sizeof(ui) || need > size_of_image - unwind_rva)
		return KD_EPROTO;
	if (kd_read_virtual_all(s, base + unwind_rva, ui, need) != KD_OK)
		return KD_EFAULT;

	/* The frame pointer is set once rip is past its SET_FPREG code. */
	frame_base = c->r[R_RSP];
	if (fr != 0) {
		for (i = 0; i < ncodes;) {
			uint8_t off = ui[4 + 2 * i], op = ui[5 + 2 * i] & 0xf;

			if (op == UWOP_SET_FPREG) {
				if (ipoff >= prolog || off <= ipoff)
					frame_base = c->r[fr] - 16u * fo;
				break;
			}
			i += uwop_slots(op, ui[5 + 2 * i] >> 4);
		}
	}

	for (i = 0; i < ncodes;) {
		uint8_t off = ui[4 + 2 * i];
		uint8_t op = ui[5 + 2 * i] & 0xf;
		uint8_t info = ui[5 + 2 * i] >> 4;
		unsigned slots = uwop_slots(op, info);
		const uint8_t *arg = ui + 4 + 2 * (i + 1);
		uint64_t v;

		if (i + slots > ncodes)
			return KD_EPROTO;
		/* Inside the prolog only the codes already run count. */
		if (ipoff < prolog && off > ipoff) {
			i += slots;
			continue;
		}
		switch (op) {
		case UWOP_PUSH_NONVOL:
			if (kd_read_u64(s, c->r[R_RSP], &v) != KD_OK)
				return KD_EFAULT;
			if (info != R_RSP)
				c->r[info] = v;
			c->r[R_RSP] += 8;
			break;
		case UWOP_ALLOC_LARGE:
			if (info == 0)
				c->r[R_RSP] += 8u * kd_get_le16(arg);
			else
				c->r[R_RSP] += kd_get_le32(arg);
			break;
		case UWOP_ALLOC_SMALL:
			c->r[R_RSP] += 8u * info + 8;
			break;
		case UWOP_SET_FPREG:
			c->r[R_RSP] = c->r[fr] - 16u * fo;
			break;
		case UWOP_SAVE_NONVOL:
		case UWOP_SAVE_NONVOL_FAR:
			v = op == UWOP_SAVE_NONVOL ? 8u * kd_get_le16(arg) :
						     kd_get_le32(arg);
			if (kd_read_u64(s, frame_base + v, &v) != KD_OK)
				return KD_EFAULT;
			if (info != R_RSP)
				c->r[info] = v;
			break;
		case UWOP_PUSH_MACHFRAME:
			/* rip at +0 (+8 with an error code), rsp at +24. */
			v = c->r[R_RSP] + (info ? 8 : 0);
			if (kd_read_u64(s, v, &c->rip) != KD_OK ||
			    kd_read_u64(s, v + 24, &c->r[R_RSP]) != KD_OK)
				return KD_EFAULT;
			c->machframe = true;
			return KD_OK;
		default:
			/* XMM saves, epilog markers: nothing to undo here. */
			break;
		}
		i += slots;
	}
	if (flags & UNW_FLAG_CHAININFO) {
		const uint8_t *rf = ui + 4 + 2 * ((ncodes + 1u) & ~1u);

		return apply_unwind(s, base, size_of_image, kd_get_le32(rf + 8),
				    UINT32_MAX, c, depth + 1);
	}
	return KD_OK;
}

/*
 * When rip sits in an epilog (add rsp / lea rsp, pops, then ret or a
 * tail jump), emulate the rest of it.  Returns true when it did.
 */
static bool try_epilog(struct kd_session *s, struct kd_uctx *c)
{
	uint8_t b[64];
	size_t done = 0, p = 0;
	uint64_t rsp = c->r[R_RSP];
	uint64_t regs[16];

	if (kd_read_virtual(s, c->rip, b, sizeof(b), &done) != KD_OK ||
	    done == 0)
		return false;
	memcpy(regs, c->r, sizeof(regs));
	/* add rsp, imm8 / imm32 */
	if (p + 4 <= done && b[p] == 0x48 && b[p + 1] == 0x83 &&
	    b[p + 2] == 0xc4) {
		rsp += b[p + 3];
		p += 4;
	} else if (p + 7 <= done && b[p] == 0x48 && b[p + 1] == 0x81 &&
		   b[p + 2] == 0xc4) {
		rsp += kd_get_le32(b + p + 3);
		p += 7;
	}
	for (;;) {
		uint8_t rex = 0, r;
		uint64_t v;

		if (p < done && (b[p] & 0xf0) == 0x40) {
			rex = b[p];
			p++;
		}
		if (p >= done)
			return false;
		if ((b[p] & 0xf8) == 0x58 &&
		    (rex == 0 || rex == 0x40 || rex == 0x41)) {
			r = (uint8_t)((b[p] & 7) | ((rex & 1) << 3));
			if (kd_read_u64(s, rsp, &v) != KD_OK)
				return false;
			regs[r] = v;
			rsp += 8;
			p++;
			continue;
		}
		if (rex)
			return false;
		break;
	}
	if (!(b[p] == 0xc3 || b[p] == 0xc2 || b[p] == 0xe9 ||
	      (b[p] == 0xf3 && p + 1 < done && b[p + 1] == 0xc3)))
		return false;
	if (p == 0 && b[p] == 0xe9)
		return false; /* a bare jmp is not an epilog */
	memcpy(c->r, regs, sizeof(regs));
	c->r[R_RSP] = rsp;
	return true;
}

/*
 * Unwind one frame: from @p c (rip, rsp, registers of the callee) to the
 * caller.  *ret_slot is where the return address was read.
 */
static int unwind_frame(struct kd_session *s, struct kd_uctx *c,
			uint64_t *ret_slot)
{
	const struct kd_rtfunc *rf;
	struct kd_module *m = NULL;
	uint64_t ret;
	int rc;

	c->machframe = false;
	rf = kd_pdata_lookup(s, c->rip, &m);
	if (rf && m) {
		struct kd_modsyms *ms = kd_module_syms(s, m);
		uint32_t ipoff = (uint32_t)(c->rip - m->base) - rf->begin;

		if (!try_epilog(s, c)) {
			rc = apply_unwind(s, m->base, ms->size_of_image,
					  rf->unwind, ipoff, c, 0);
			if (rc != KD_OK)
				return rc;
		}
		if (c->machframe) {
			*ret_slot = 0;
			return KD_OK;
		}
	}
	/* Leaf (no unwind data) or after the codes: pop the return address. */
	*ret_slot = c->r[R_RSP];
	if (kd_read_u64(s, c->r[R_RSP], &ret) != KD_OK)
		return KD_EFAULT;
	c->rip = ret;
	c->r[R_RSP] += 8;
	return KD_OK;
}

/* "nt!Sym+0x12", else the address as "0x80400100". */
void kd_stack__site(struct kd_session *s, uint64_t addr, char *buf, size_t cap)
{
	char a[18];

	if (kd_sym_format(s, addr, buf, cap) == KD_OK)
		return;
	snprintf(buf, cap, "0x%s", kd_fmt_ptr(s, a, addr));
}

int kd_amd64__unwind(struct kd_session *s, const uint8_t *ctx,
		     struct kd_frame *out, size_t max, size_t *n)
{
	struct kd_uctx c;
	size_t count = 0;
	int rc, i;

	*n = 0;
	memset(&c, 0, sizeof(c));
	/* kd_amd64_reg order matches the x64 encoding for rax..r15. */
	for (i = 0; i < 16; i++) {
		rc = kd_amd64_context_get(ctx, KD_AMD64_CONTEXT_SIZE,
					  KD_AMD64_RAX + i, &c.r[i]);
		if (rc != KD_OK)
			return rc;
	}
	rc = kd_amd64_context_get(ctx, KD_AMD64_CONTEXT_SIZE, KD_AMD64_RIP,
				  &c.rip);
	if (rc != KD_OK)
		return rc;
	(void)kd_modules_load(s);

	while (count < max) {
		struct kd_frame *f = &out[count];
		uint64_t sp = c.r[R_RSP], slot = 0;
		unsigned k;

		memset(f, 0, sizeof(*f));
		f->sp = sp;
		f->ip = c.rip;
		memcpy(f->regs, c.r, sizeof(f->regs)); /* .frame n, dv */
		f->have_regs = true;
		rc = unwind_frame(s, &c, &slot);
		count++;
		if (rc != KD_OK)
			break; /* the frame stays, with no return address */
		f->ret = c.rip;
		for (k = 0; slot && k < 4; k++) {
			if (kd_read_u64(s, slot + 8 + 8u * k, &f->args[k]) !=
			    KD_OK)
				f->args[k] = 0;
		}
		if (s->interrupt)
			break;
		/* Stop at the end of the chain or when nothing moved on. */
		if (c.rip == 0 || c.r[R_RSP] <= sp)
			break;
	}
	*n = count;
	return KD_OK;
}
