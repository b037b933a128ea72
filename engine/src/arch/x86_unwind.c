/* SPDX-License-Identifier: MIT */
/*
 * x86 stack walk as dbghelp does it: for each frame, the FRAMEDATA
 * program of the code's module PDB first, then its FPO_DATA record, then
 * the EBP chain.  FPO code keeps no frame pointer, so the return address
 * is found from esp: past the arguments the frame pushed for its callee
 * (the callee's parameter bytes), its locals and its saved registers --
 * dbghelp's .raSearch -- checked to be a return address (inside a loaded
 * module, right after a call instruction), else searched for upwards a
 * bounded distance.  Called by x86.c's unwind member; calls regs.c and
 * sym/ only.
 */
#include <string.h>

#include <kd/pdb.h>

#include "arch/arch.h"
#include "sym/sym_int.h"

/* How far above .raSearch a return address is looked for (dwords). */
#define X86_RA_SCAN 64

/* The registers a frame program can restore. */
enum {
	X_EIP,
	X_ESP,
	X_EBP,
	X_EBX,
	X_ESI,
	X_EDI,
	X_NREGS
};
static const char *const x_names[X_NREGS] = {
	"$eip", "$esp", "$ebp", "$ebx", "$esi", "$edi",
};

struct x86_uctx {
	uint32_t r[X_NREGS];
	uint32_t callee_params; /* bytes the callee's arguments take */
};

static int prog_read(void *ctx, uint32_t addr, uint32_t *v)
{
	return kd_read_u32(ctx, addr, v);
}

/*
 * Whether @p ret can be a return address: inside a loaded module and
 * right after a call (e8 rel32, ff /2 with any addressing form).
 */
static bool is_return_address(struct kd_session *s, uint32_t ret)
{
	uint8_t b[7];
	unsigned k;

	if (ret < sizeof(b) || !kd_module_by_addr(s, ret) ||
	    kd_read_virtual_all(s, ret - sizeof(b), b, sizeof(b)) != KD_OK)
		return false;
	if (b[2] == 0xe8)
		return true;
	/* ff /2: modrm at b[k+1] with reg field 2, then its bytes. */
	for (k = 0; k + 1 < sizeof(b); k++) {
		uint8_t modrm = b[k + 1], mod = modrm >> 6, rm = modrm & 7;
		unsigned len = 2;
		bool disp32;

		if (b[k] != 0xff || ((modrm >> 3) & 7) != 2)
			continue;
		disp32 = mod == 2 || (mod == 0 && rm == 5);
		if (mod != 3 && rm == 4) {
			len++; /* SIB; base 5 with mod 0 is a disp32 */
			if (mod == 0 && k + 2 < sizeof(b) &&
			    (b[k + 2] & 7) == 5)
				disp32 = true;
		}
		len += disp32 ? 4u : mod == 1 ? 1u : 0u;
		if (k + len == sizeof(b))
			return true;
	}
	return false;
}

/* The return address slot at or above @p start (bounded search). */
static int find_return(struct kd_session *s, uint32_t start, uint32_t *slot)
{
	unsigned i;

	for (i = 0; i < X86_RA_SCAN; i++) {
		uint32_t v;

		if (kd_read_u32(s, start + 4u * i, &v) != KD_OK)
			return KD_EFAULT;
		/* Exactly at the expected slot, 0 ends the chain (a thread's
		 * first frame returns nowhere). */
		if ((i == 0 && v == 0) || is_return_address(s, v)) {
			*slot = start + 4u * i;
			return KD_OK;
		}
	}
	return KD_ENOTFOUND;
}

/* Unwind with the FRAMEDATA program of the code at eip. */
static int by_frame_data(struct kd_session *s, struct kd_pdb *pdb, uint32_t rva,
			 struct x86_uctx *c, uint32_t *slot)
{
	struct kd_pdb_frame fd;
	struct kd_pdb_prog p;
	uint32_t v, ra;
	unsigned i;
	bool set;
	int rc;

	if (kd_pdb_frame_at(pdb, rva, &fd) != KD_OK || !fd.program[0])
		return KD_ENOTFOUND;
	rc = find_return(
		s, c->r[X_ESP] + c->callee_params + fd.locals + fd.saved_regs,
		&ra);
	if (rc)
		return rc;
	memset(&p, 0, sizeof(p));
	p.read32 = prog_read;
	p.ctx = s;
	for (i = 0; i < X_NREGS; i++)
		(void)kd_pdb_prog_set(&p, x_names[i], c->r[i]);
	(void)kd_pdb_prog_set(&p, ".raSearch", ra);
	(void)kd_pdb_prog_set(&p, ".raSearchStart", ra);
	(void)kd_pdb_prog_set(&p, ".cbLocals", fd.locals);
	(void)kd_pdb_prog_set(&p, ".cbSavedRegs", fd.saved_regs);
	(void)kd_pdb_prog_set(&p, ".cbParams", fd.params);
	rc = kd_pdb_prog_run(&p, fd.program, strlen(fd.program));
	if (rc)
		return rc;
	if (kd_pdb_prog_get(&p, "$eip", &v, &set) != KD_OK || !set ||
	    kd_pdb_prog_get(&p, "$esp", &v, &set) != KD_OK || !set)
		return KD_EPROTO;
	for (i = 0; i < X_NREGS; i++)
		(void)kd_pdb_prog_get(&p, x_names[i], &c->r[i], NULL);
	c->callee_params = fd.params;
	*slot = c->r[X_ESP] - 4;
	return KD_OK;
}

/* Unwind with an FPO_DATA record: an FPO frame or a normal EBP one. */
static int by_fpo(struct kd_session *s, struct kd_pdb *pdb, uint32_t rva,
		  struct x86_uctx *c, uint32_t *slot)
{
	struct kd_pdb_fpo f;
	uint32_t ra, ret;
	int rc;

	if (kd_pdb_fpo_at(pdb, rva, &f) != KD_OK)
		return KD_ENOTFOUND;
	if (f.frame == KD_FPO_FRAME_NONFPO || f.frame == KD_FPO_FRAME_TRAP ||
	    f.frame == KD_FPO_FRAME_TSS)
		return KD_ENOTFOUND; /* the EBP chain below (traps: not yet) */
	/* Past the prolog the locals and saved registers are on the stack;
	 * inside it only what the prolog has pushed so far, unknown here. */
	rc = find_return(s,
			 c->r[X_ESP] + c->callee_params +
				 (rva - f.rva_start >= f.prolog ?
					  4u * f.locals_dwords + 4u * f.regs :
					  0),
			 &ra);
	if (rc)
		return rc;
	if (kd_read_u32(s, ra, &ret) != KD_OK)
		return KD_EFAULT;
	/* An FPO function that used EBP saved it first, below the return
	 * address. */
	if (f.use_bp && kd_read_u32(s, ra - 4, &c->r[X_EBP]) != KD_OK)
		return KD_EFAULT;
	c->r[X_EIP] = ret;
	c->r[X_ESP] = ra + 4;
	c->callee_params = 4u * f.params_dwords;
	*slot = ra;
	return KD_OK;
}

/* [ebp] the caller's ebp, [ebp+4] the return address. */
static int by_ebp(struct kd_session *s, struct x86_uctx *c, uint32_t *slot)
{
	uint8_t link[8];
	uint32_t ebp = c->r[X_EBP];

	if (ebp == 0 || (ebp & 3) ||
	    kd_read_virtual_all(s, ebp, link, 8) != KD_OK)
		return KD_EFAULT;
	c->r[X_EBP] = kd_get_le32(link);
	c->r[X_EIP] = kd_get_le32(link + 4);
	c->r[X_ESP] = ebp + 8;
	c->callee_params = 0;
	*slot = ebp + 4;
	return KD_OK;
}

int kd_x86__unwind(struct kd_session *s, const struct kd_arch_ops *ops,
		   unsigned cpu, struct kd_frame *out, size_t max, size_t *n)
{
	struct x86_uctx c;
	size_t count = 0;
	unsigned i;
	int rc = KD_OK;

	*n = 0;
	memset(&c, 0, sizeof(c));
	for (i = 0; i < X_NREGS; i++) {
		uint64_t v = 0;

		rc = kd_arch__reg_get(s, ops, cpu, x_names[i] + 1, 3, &v, NULL);
		if (rc < 0)
			return rc;
		c.r[i] = (uint32_t)v;
	}
	(void)kd_modules_load(s);
	while (count < max && !s->interrupt) {
		struct kd_frame *f = &out[count];
		struct kd_module *m = kd_module_by_addr(s, c.r[X_EIP]);
		struct kd_pdb *pdb = m ? kd_sym__pdb(s, m) : NULL;
		uint32_t rva = m ? (uint32_t)(c.r[X_EIP] - m->base) : 0;
		uint32_t esp = c.r[X_ESP], ebp = c.r[X_EBP], slot = 0;
		bool chain = false;
		unsigned k;

		memset(f, 0, sizeof(*f));
		f->ip = c.r[X_EIP];
		count++;
		rc = KD_ENOTFOUND;
		if (pdb)
			rc = by_frame_data(s, pdb, rva, &c, &slot);
		if (rc && pdb)
			rc = by_fpo(s, pdb, rva, &c, &slot);
		if (rc) {
			rc = by_ebp(s, &c, &slot);
			chain = true;
		}
		/* ChildEBP: the frame's base, where an EBP frame's saved ebp
		 * sits (just below the return address). */
		f->sp = slot ? slot - 4u : c.r[X_EBP];
		if (rc)
			break; /* the frame stays, with no return address */
		f->ret = c.r[X_EIP];
		for (k = 0; k < 3; k++) {
			uint32_t a;

			if (kd_read_u32(s, slot + 4 + 4u * k, &a) == KD_OK)
				f->args[k] = a;
		}
		/* The end of the chain, or no progress (a loop): an EBP
		 * chain must grow upwards, an FPO frame must pop something. */
		if (c.r[X_EIP] == 0 || (chain && c.r[X_EBP] <= ebp) ||
		    (!chain && c.r[X_ESP] <= esp))
			break;
	}
	*n = count;
	return KD_OK;
}
