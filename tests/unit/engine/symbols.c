/* SPDX-License-Identifier: MIT */
/*
 * Modules, export symbols, disassembly and stack walks over a fake target
 * that maps the BUILT kdsim kernel images (sections at ImageBase + RVA)
 * and a PsLoadedModuleList in fake memory.  Expected values come from the
 * image files, read independently here, and from objdump where present.
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "sym/sym_int.h"
#include "testsupport.h"

/* ------------------------------------------------------------------ */
/* Fake memory                                                         */
/* ------------------------------------------------------------------ */

struct region {
	uint64_t base;
	size_t size;
	uint8_t *data;
};

#define MAX_REGIONS 16

struct fake {
	struct kd_target t;
	struct region r[MAX_REGIONS];
	unsigned nr;
	uint64_t regs[16];
	uint64_t rip;
};

static int fake_read(struct kd_target *t, unsigned cpu, uint64_t va, void *buf,
		     size_t len, size_t *done)
{
	struct fake *f = (struct fake *)t;
	size_t got = 0;

	(void)cpu;
	*done = 0;
	while (got < len) {
		uint64_t a = va + got;
		unsigned i;
		bool hit = false;

		for (i = 0; i < f->nr; i++) {
			struct region *r = &f->r[i];
			size_t n;

			if (a < r->base || a - r->base >= r->size)
				continue;
			n = r->size - (size_t)(a - r->base);
			if (n > len - got)
				n = len - got;
			memcpy((uint8_t *)buf + got, r->data + (a - r->base),
			       n);
			got += n;
			hit = true;
			break;
		}
		if (!hit)
			break;
	}
	*done = got;
	return got ? KD_OK : KD_EFAULT;
}

static int fake_get_context(struct kd_target *t, unsigned cpu, uint8_t *ctx)
{
	struct fake *f = (struct fake *)t;
	int i;

	(void)cpu;
	memset(ctx, 0, KD_AMD64_CONTEXT_SIZE);
	for (i = 0; i < 16; i++)
		kd_amd64_context_set(ctx, KD_AMD64_CONTEXT_SIZE,
				     KD_AMD64_RAX + i, f->regs[i]);
	kd_amd64_context_set(ctx, KD_AMD64_CONTEXT_SIZE, KD_AMD64_RIP, f->rip);
	return KD_OK;
}

static const struct kd_target_ops fake_ops = {
	.name = "fake",
	.read_virtual = fake_read,
	.get_context = fake_get_context,
};

static uint8_t *add_region(struct fake *f, uint64_t base, size_t size)
{
	struct region *r;

	assert_true(f->nr < MAX_REGIONS);
	r = &f->r[f->nr++];
	r->base = base;
	r->size = size;
	r->data = calloc(1, size);
	assert_non_null(r->data);
	return r->data;
}

/* ------------------------------------------------------------------ */
/* The image files, parsed independently of the engine                 */
/* ------------------------------------------------------------------ */

struct img_export {
	char name[128];
	uint32_t rva;
};

struct image {
	const char *file;    /* "ntoskrnl.exe" */
	const char *modname; /* WinDbg's name */
	uint8_t *raw;
	size_t raw_len;
	uint64_t base;
	uint32_t size;
	uint32_t timestamp;
	uint8_t *mapped; /* SizeOfImage bytes */
	struct img_export exp[256];
	unsigned nexp;
};

static const char *const img_files[] = {
	"ntoskrnl.exe", "hal.dll", "kdcom.dll", "simdrv.sys", "simnet.sys",
};
static const char *const img_names[] = {
	"nt", "hal", "kdcom", "simdrv", "simnet",
};
#define NIMG 5

static struct image imgs[NIMG];
static char objdump_path[] = "/usr/bin/objdump";

static uint32_t rd32(const uint8_t *p)
{
	return kd_get_le32(p);
}
static uint16_t rd16(const uint8_t *p)
{
	return kd_get_le16(p);
}

/* Map the file's headers and sections into img->mapped. */
static void image_map(struct image *img)
{
	const uint8_t *raw = img->raw;
	uint32_t pe = rd32(raw + 0x3c);
	const uint8_t *fh = raw + pe + 4;
	const uint8_t *opt = fh + 20;
	uint16_t nsec = rd16(fh + 2), optsz = rd16(fh + 16);
	uint32_t hdrs, i;

	assert_memory_equal(raw + pe, "PE\0\0", 4);
	assert_int_equal(rd16(opt), 0x20b);
	img->timestamp = rd32(fh + 4);
	img->base = kd_get_le64(opt + 24);
	img->size = rd32(opt + 56);
	hdrs = rd32(opt + 60);
	img->mapped = calloc(1, img->size);
	assert_non_null(img->mapped);
	memcpy(img->mapped, raw, hdrs < img->raw_len ? hdrs : img->raw_len);
	for (i = 0; i < nsec; i++) {
		const uint8_t *sh = opt + optsz + 40 * i;
		uint32_t rva = rd32(sh + 12), rawsz = rd32(sh + 16);
		uint32_t rawoff = rd32(sh + 20);

		if (rawsz == 0)
			continue;
		assert_true(rawoff + rawsz <= img->raw_len);
		assert_true(rva + rawsz <= img->size);
		memcpy(img->mapped + rva, raw + rawoff, rawsz);
	}
	/* Exports, straight from the mapped copy. */
	{
		uint32_t ert = rd32(opt + 112), ers = rd32(opt + 116);
		const uint8_t *ed = img->mapped + ert;
		uint32_t nnames, funcs, names, ords, j;

		img->nexp = 0;
		if (ert == 0)
			return;
		nnames = rd32(ed + 24);
		funcs = rd32(ed + 28);
		names = rd32(ed + 32);
		ords = rd32(ed + 36);
		for (j = 0; j < nnames && img->nexp < 256; j++) {
			uint16_t o = rd16(img->mapped + ords + 2 * j);
			uint32_t rva = rd32(img->mapped + funcs + 4 * o);
			const char *nm = (const char *)img->mapped +
					 rd32(img->mapped + names + 4 * j);

			if (rva >= ert && rva < ert + ers)
				continue; /* forwarder */
			snprintf(img->exp[img->nexp].name, 128, "%s", nm);
			img->exp[img->nexp].rva = rva;
			img->nexp++;
		}
	}
}

static uint32_t img_export_rva(const struct image *img, const char *name)
{
	unsigned i;

	for (i = 0; i < img->nexp; i++) {
		if (strcmp(img->exp[i].name, name) == 0)
			return img->exp[i].rva;
	}
	fail_msg("export %s not in %s", name, img->file);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Session around the fake                                             */
/* ------------------------------------------------------------------ */

#define LDR_AREA 0xfffff80010100000ull
#define STACK_AREA 0xfffff80010200000ull
#define STACK_SIZE 0x10000u

struct outbuf {
	char *text;
	size_t len, cap;
};

static void out_cb(void *ctx, const char *text, size_t len)
{
	struct outbuf *o = ctx;

	if (o->len + len + 1 > o->cap) {
		o->cap = (o->len + len + 1) * 2;
		o->text = realloc(o->text, o->cap);
		assert_non_null(o->text);
	}
	memcpy(o->text + o->len, text, len);
	o->len += len;
	o->text[o->len] = '\0';
}

struct env {
	struct fake f;
	struct kd_session *s;
	struct outbuf out;
	uint8_t *ldr;
	uint8_t *stack;
};

static void put_ustr(uint8_t *ldr, uint64_t ldr_base, size_t *strpos,
		     uint8_t *us, const char *text)
{
	size_t n = strlen(text), i;

	kd_put_le16(us, (uint16_t)(2 * n));
	kd_put_le16(us + 2, (uint16_t)(2 * n + 2));
	kd_put_le64(us + 8, ldr_base + *strpos);
	for (i = 0; i < n; i++)
		kd_put_le16(ldr + *strpos + 2 * i, (uint8_t)text[i]);
	*strpos += 2 * n + 2;
	*strpos = (*strpos + 7) & ~(size_t)7;
}

/* Head at LDR_AREA, entries every 0x100 from +0x100, strings at +0x1000. */
static void build_ldr(struct env *e, unsigned n)
{
	size_t strpos = 0x1000;
	unsigned i;

	for (i = 0; i < n; i++) {
		uint64_t ent = LDR_AREA + 0x100 * (i + 1);
		uint8_t *p = e->ldr + 0x100 * (i + 1);
		uint64_t next = i + 1 < n ? ent + 0x100 : LDR_AREA;
		uint64_t prev = i > 0 ? ent - 0x100 : LDR_AREA;
		char path[128];

		kd_put_le64(p, next);
		kd_put_le64(p + 8, prev);
		kd_put_le64(p + 0x30, imgs[i].base);
		kd_put_le64(p + 0x38, imgs[i].base + 0x1000);
		kd_put_le32(p + 0x40, imgs[i].size);
		snprintf(path, sizeof(path), "\\SystemRoot\\system32\\%s%s",
			 i >= 2 ? "drivers\\" : "", imgs[i].file);
		put_ustr(e->ldr, LDR_AREA, &strpos, p + 0x48, path);
		put_ustr(e->ldr, LDR_AREA, &strpos, p + 0x58, imgs[i].file);
		kd_put_le32(p + 0x80, imgs[i].timestamp);
	}
	kd_put_le64(e->ldr, n ? LDR_AREA + 0x100 : LDR_AREA);
	kd_put_le64(e->ldr + 8, n ? LDR_AREA + 0x100 * n : LDR_AREA);
}

static int group_setup(void **state)
{
	char path[512];
	unsigned i;

	(void)state;
	for (i = 0; i < NIMG; i++) {
		kdt_build_path(path, sizeof(path),
			       "firmware-stubs/sim/kernel/");
		strncat(path, img_files[i], sizeof(path) - strlen(path) - 1);
		imgs[i].file = img_files[i];
		imgs[i].modname = img_names[i];
		imgs[i].raw = kdt_read_file(path, &imgs[i].raw_len);
		if (!imgs[i].raw) {
			fprintf(stderr, "skipped: kernel image %s not built\n",
				path);
			exit(KD_TEST_SKIP);
		}
		image_map(&imgs[i]);
	}
	return 0;
}

static int group_teardown(void **state)
{
	unsigned i;

	(void)state;
	for (i = 0; i < NIMG; i++) {
		free(imgs[i].raw);
		free(imgs[i].mapped);
	}
	return 0;
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	unsigned i;

	assert_non_null(e);
	e->f.t.ops = &fake_ops;
	for (i = 0; i < NIMG; i++) {
		uint8_t *m = add_region(&e->f, imgs[i].base, imgs[i].size);

		memcpy(m, imgs[i].mapped, imgs[i].size);
	}
	e->ldr = add_region(&e->f, LDR_AREA, 0x4000);
	e->stack = add_region(&e->f, STACK_AREA, STACK_SIZE);
	build_ldr(e, NIMG);
	assert_int_equal(kd_session_new(&e->s, NULL), KD_OK);
	e->f.t.session = e->s;
	e->s->target = &e->f.t;
	e->s->tgt.ncpus = 1;
	e->s->tgt.cpus = kd_calloc(1, sizeof(*e->s->tgt.cpus));
	e->s->tgt.have_version = true;
	e->s->tgt.version.flags = KD_VERS_FLAG_PTR64 | KD_VERS_FLAG_MP;
	e->s->tgt.version.kern_base = imgs[0].base;
	e->s->tgt.version.ps_loaded_module_list = LDR_AREA;
	kd_session_set_output(e->s, out_cb, &e->out);
	e->f.rip = imgs[0].base + img_export_rva(&imgs[0], "KeWorkerStep");
	e->f.regs[4] = STACK_AREA + STACK_SIZE - 0x100;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	unsigned i;

	e->s->target = NULL;
	kd_session_free(e->s);
	for (i = 0; i < e->f.nr; i++)
		free(e->f.r[i].data);
	free(e->out.text);
	free(e);
	return 0;
}

static const char *run(struct env *e, const char *cmd, int want_rc)
{
	int rc;

	e->out.len = 0;
	if (e->out.text)
		e->out.text[0] = '\0';
	rc = kd_session_execute(e->s, cmd);
	if (rc != want_rc)
		fail_msg("'%s' returned %d, wanted %d; output:\n%s", cmd, rc,
			 want_rc, e->out.text ? e->out.text : "");
	return e->out.text ? e->out.text : "";
}

/* The @p n-th line (0-based) of @p text, copied into @p buf. */
static const char *line_of(const char *text, unsigned n, char *buf, size_t cap)
{
	const char *p = text;
	size_t len;

	while (n-- > 0) {
		p = strchr(p, '\n');
		if (!p)
			return NULL;
		p++;
	}
	len = strcspn(p, "\n");
	if (len >= cap)
		len = cap - 1;
	memcpy(buf, p, len);
	buf[len] = '\0';
	return buf;
}

static unsigned count_lines(const char *text)
{
	unsigned n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

static char *fmt_addr(uint64_t a)
{
	static char buf[4][18];
	static unsigned k;

	k = (k + 1) % 4;
	return kd_fmt_addr(buf[k], a);
}

/* ------------------------------------------------------------------ */
/* Modules                                                             */
/* ------------------------------------------------------------------ */

static void test_module_list(void **state)
{
	struct env *e = *state;
	struct kd_module *m;
	unsigned i;

	assert_int_equal(kd_modules_load(e->s), KD_OK);
	assert_int_equal(e->s->sym.nmodules, NIMG);
	for (i = 0; i < NIMG; i++) {
		m = kd_module_by_name(e->s, imgs[i].modname);
		assert_non_null(m);
		assert_int_equal(m->base, imgs[i].base);
		assert_int_equal(m->size, imgs[i].size);
		assert_int_equal(m->timestamp, imgs[i].timestamp);
		assert_string_equal(m->image, imgs[i].file);
		assert_ptr_equal(kd_module_by_addr(e->s, imgs[i].base + 5), m);
		assert_ptr_equal(kd_module_by_addr(
					 e->s, imgs[i].base + imgs[i].size - 1),
				 m);
	}
	assert_null(kd_module_by_addr(e->s, imgs[0].base - 1));
	assert_null(kd_module_by_addr(e->s, imgs[0].base + imgs[0].size));
	/* Case-insensitive names as in WinDbg. */
	assert_non_null(kd_module_by_name(e->s, "NT"));
	assert_null(kd_module_by_name(e->s, "ntoskrnl"));
	m = kd_module_by_name(e->s, "nt");
	assert_string_equal(m->path, "\\SystemRoot\\system32\\ntoskrnl.exe");
}

static void test_lm(void **state)
{
	struct env *e = *state;
	const char *out = run(e, "lm", KD_OK);
	char line[256], want[256];
	unsigned i;

	assert_string_equal(
		line_of(out, 0, line, sizeof(line)),
		"start             end                 module name");
	assert_int_equal(count_lines(out), 1 + NIMG);
	/* Sorted by address; the kdsim images are loaded in this order. */
	for (i = 0; i < NIMG; i++) {
		snprintf(want, sizeof(want), "%s %s   %-10s %-22s %s",
			 fmt_addr(imgs[i].base),
			 fmt_addr(imgs[i].base + imgs[i].size), imgs[i].modname,
			 "(export symbols)", imgs[i].file);
		assert_string_equal(line_of(out, i + 1, line, sizeof(line)),
				    want);
	}
	assert_string_equal(
		line_of(out, 1, line, sizeof(line)) + 17 + 1 + 17,
		"   nt         (export symbols)       ntoskrnl.exe");

	out = run(e, "lm m s*", KD_OK);
	assert_int_equal(count_lines(out), 3);
	assert_non_null(strstr(out, "   simdrv     (export symbols)"));
	assert_non_null(strstr(out, "   simnet     (export symbols)"));

	out = run(e, "lmvm nt", KD_OK);
	assert_non_null(strstr(
		out, "   nt         (export symbols)       ntoskrnl.exe\n"
		     "    Loaded symbol image file: ntoskrnl.exe\n"
		     "    Image path: \\SystemRoot\\system32\\ntoskrnl.exe\n"
		     "    Image name: ntoskrnl.exe\n"));
	snprintf(want, sizeof(want), "    ImageSize:        %08X\n",
		 imgs[0].size);
	assert_non_null(strstr(out, want));
	/* kdsim's images are linked with /Brepro: the stamp is a hash. */
	assert_non_null(
		strstr(out, "    Image was built with /Brepro flag.\n"));
	snprintf(want, sizeof(want),
		 "    Timestamp:        %08X (This is a reproducible build "
		 "file hash, not a timestamp)\n",
		 imgs[0].timestamp);
	assert_non_null(strstr(out, want));
	snprintf(want, sizeof(want), "    CheckSum:         %08X\n",
		 rd32(imgs[0].raw + rd32(imgs[0].raw + 0x3c) + 24 + 64));
	assert_non_null(strstr(out, want));
	assert_null(strstr(out, "hal.dll"));

	out = run(e, "lm v m hal", KD_OK);
	assert_non_null(strstr(out, "    Image name: hal.dll\n"));
	out = run(e, "lmsm", KD_OK);
	assert_non_null(strstr(line_of(out, 1, line, sizeof(line)), " hal "));
	assert_non_null(
		strstr(line_of(out, 5, line, sizeof(line)), " simnet "));
	run(e, "lm q", KD_EINVAL);
	run(e, "lm m", KD_EINVAL);
}

static void test_reload(void **state)
{
	struct env *e = *state;
	const char *out;

	assert_int_equal(kd_modules_load(e->s), KD_OK);
	/* A module "loaded" after the list was read appears after .reload. */
	build_ldr(e, 3);
	assert_int_equal(e->s->sym.nmodules, NIMG);
	out = run(e, ".reload", KD_OK);
	assert_string_equal(out, "Loading Kernel Symbols\n...\n"
				 "Loading User Symbols\n"
				 "Loading unloaded module list\n");
	assert_int_equal(e->s->sym.nmodules, 3);
	assert_null(kd_module_by_name(e->s, "simdrv"));
}

/* ------------------------------------------------------------------ */
/* Symbols                                                             */
/* ------------------------------------------------------------------ */

static bool rva_has_name(const struct image *img, uint32_t rva,
			 const char *name)
{
	unsigned i;

	for (i = 0; i < img->nexp; i++) {
		if (img->exp[i].rva == rva &&
		    strcmp(img->exp[i].name, name) == 0)
			return true;
	}
	return false;
}

static void test_exports_both_ways(void **state)
{
	struct env *e = *state;
	unsigned i, j, total = 0;

	for (i = 0; i < NIMG; i++) {
		const struct image *img = &imgs[i];

		for (j = 0; j < img->nexp; j++) {
			char name[200], sym[256];
			uint64_t addr = 0;
			uint64_t va = img->base + img->exp[j].rva;
			const char *bang;

			snprintf(name, sizeof(name), "%s!%s", img->modname,
				 img->exp[j].name);
			assert_int_equal(kd_sym_lookup(e->s, name, &addr),
					 KD_OK);
			assert_int_equal(addr, va);
			assert_int_equal(
				kd_sym_format(e->s, va, sym, sizeof(sym)),
				KD_OK);
			bang = strchr(sym, '!');
			assert_non_null(bang);
			assert_int_equal(bang - sym, strlen(img->modname));
			assert_memory_equal(sym, img->modname, bang - sym);
			/* Aliases share an address: any of them is right. */
			assert_true(
				rva_has_name(img, img->exp[j].rva, bang + 1));
			total++;
		}
	}
	assert_true(total >= 20);
}

static void test_sym_format_offsets(void **state)
{
	struct env *e = *state;
	uint64_t ke = imgs[0].base + img_export_rva(&imgs[0], "KeWorkerStep");
	uint64_t crc = imgs[0].base +
		       img_export_rva(&imgs[0], "RtlComputeCrc32");
	uint64_t addr;
	char sym[128];

	assert_int_equal(kd_sym_format(e->s, ke + 0x12, sym, sizeof(sym)),
			 KD_OK);
	assert_string_equal(sym, "nt!KeWorkerStep+0x12");
	assert_int_equal(kd_sym_format(e->s, ke, sym, sizeof(sym)), KD_OK);
	assert_string_equal(sym, "nt!KeWorkerStep");
	/* Before the first export: module+offset; the base: the module. */
	assert_int_equal(
		kd_sym_format(e->s, imgs[0].base + 0x10, sym, sizeof(sym)),
		KD_OK);
	assert_string_equal(sym, "nt+0x10");
	assert_int_equal(kd_sym_format(e->s, imgs[0].base, sym, sizeof(sym)),
			 KD_OK);
	assert_string_equal(sym, "nt");
	/* Outside every module. */
	assert_int_equal(kd_sym_format(e->s, 0x1000, sym, sizeof(sym)),
			 KD_ENOTFOUND);
	assert_string_equal(sym, "");
	/* Bare names: nt first; module names; case folding. */
	assert_int_equal(kd_sym_lookup(e->s, "RtlComputeCrc32", &addr), KD_OK);
	assert_int_equal(addr, crc);
	assert_int_equal(kd_sym_lookup(e->s, "nt!rtlcomputecrc32", &addr),
			 KD_OK);
	assert_int_equal(addr, crc);
	assert_int_equal(kd_sym_lookup(e->s, "hal", &addr), KD_OK);
	assert_int_equal(addr, imgs[1].base);
	assert_int_equal(kd_sym_lookup(e->s, "nt!NoSuchThing", &addr),
			 KD_ENOTFOUND);
	assert_int_equal(kd_sym_lookup(e->s, "nosuchmod!KeWorkerStep", &addr),
			 KD_ENOTFOUND);
	assert_int_equal(kd_sym_lookup(e->s, "nt!", &addr), KD_ENOTFOUND);
	assert_int_equal(kd_sym_lookup(e->s, "!x", &addr), KD_ENOTFOUND);
}

static void test_x_and_ln(void **state)
{
	struct env *e = *state;
	uint64_t ke = imgs[0].base + img_export_rva(&imgs[0], "KeWorkerStep");
	uint64_t crc = imgs[0].base +
		       img_export_rva(&imgs[0], "RtlComputeCrc32");
	uint64_t fib = imgs[0].base + img_export_rva(&imgs[0], "RtlFibonacci");
	uint64_t kwc = imgs[0].base + img_export_rva(&imgs[0], "KiWorkCounter");
	uint64_t next = 0;
	char want[512], cmd[64];
	const char *out;
	unsigned i;

	out = run(e, "x nt!Rtl*", KD_OK);
	snprintf(want, sizeof(want),
		 "%s nt!RtlComputeCrc32 (<no parameter info>)\n"
		 "%s nt!RtlFibonacci (<no parameter info>)\n",
		 fmt_addr(crc), fmt_addr(fib));
	/* RtlpBreakWithStatusInstruction also matches, at a lower address. */
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, " nt!RtlpBreakWithStatusInstruction "));
	assert_int_equal(count_lines(out), 3);

	out = run(e, "x nt!KiWorkCounter", KD_OK);
	snprintf(want, sizeof(want),
		 "%s nt!KiWorkCounter = <no type information>\n",
		 fmt_addr(kwc));
	assert_string_equal(out, want);
	out = run(e, "x *!KeWorker?tep", KD_OK);
	assert_int_equal(count_lines(out), 1);
	out = run(e, "x nt!NothingLikeThis*", KD_OK);
	assert_string_equal(out, "");

	/* The export after KeWorkerStep, from the file. */
	for (i = 0; i < imgs[0].nexp; i++) {
		uint64_t a = imgs[0].base + imgs[0].exp[i].rva;

		if (a > ke && (next == 0 || a < next))
			next = a;
	}
	assert_true(next != 0);
	snprintf(cmd, sizeof(cmd), "ln %llx", (unsigned long long)(ke + 0x12));
	out = run(e, cmd, KD_OK);
	{
		char sym[128];

		assert_int_equal(kd_sym_format(e->s, next, sym, sizeof(sym)),
				 KD_OK);
		snprintf(want, sizeof(want),
			 "(%s)   nt!KeWorkerStep+0x12   |  (%s)   %s\n",
			 fmt_addr(ke), fmt_addr(next), sym);
	}
	assert_string_equal(out, want);
	out = run(e, "ln nt!KeWorkerStep", KD_OK);
	assert_non_null(strstr(out, "   nt!KeWorkerStep   |  ("));
	assert_non_null(strstr(out,
			       "\nExact matches:\n"
			       "    nt!KeWorkerStep (<no parameter info>)\n"));
	out = run(e, "ln 1000", KD_OK);
	assert_string_equal(out, "");
}

/* ------------------------------------------------------------------ */
/* Disassembly                                                         */
/* ------------------------------------------------------------------ */

/*
 * The line WinDbg prints for the prologue instruction at @p c (push r64,
 * push r8-r15 or sub rsp,imm8: what the kdsim build's functions start
 * with), decoded from the bytes; its length, 0 for anything else.
 */
static unsigned prolog_line(const uint8_t *c, uint64_t at, char *out,
			    size_t cap)
{
	static const char *const r64[] = {
		"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
		"r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15",
	};
	char hex[16], text[32];
	unsigned len, i;

	if ((c[0] & 0xf8) == 0x50) {
		len = 1;
		snprintf(text, sizeof(text), "push    %s", r64[c[0] & 7]);
	} else if (c[0] == 0x41 && (c[1] & 0xf8) == 0x50) {
		len = 2;
		snprintf(text, sizeof(text), "push    %s", r64[8 + (c[1] & 7)]);
	} else if (c[0] == 0x48 && c[1] == 0x83 && c[2] == 0xec &&
		   c[3] < 0x80) {
		len = 4;
		/* MASM numbers: 8, 28h, 0A8h (imm8 < 0x80 here) */
		if (c[3] < 10)
			snprintf(text, sizeof(text), "sub     rsp,%u", c[3]);
		else if ((c[3] >> 4) >= 10)
			snprintf(text, sizeof(text), "sub     rsp,0%Xh", c[3]);
		else
			snprintf(text, sizeof(text), "sub     rsp,%Xh", c[3]);
	} else {
		return 0;
	}
	for (i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", c[i]);
	snprintf(out, cap, "%s %-16s%s", fmt_addr(at), hex, text);
	return len;
}

static void test_disasm_layout(void **state)
{
	struct env *e = *state;
	uint64_t ke = imgs[0].base + img_export_rva(&imgs[0], "KeWorkerStep");
	uint64_t crc = imgs[0].base +
		       img_export_rva(&imgs[0], "RtlComputeCrc32");
	const uint8_t *code = imgs[0].mapped + (ke - imgs[0].base);
	char line[512], want[512];
	unsigned len, off, l0, l1;
	bool call, ret, branch;

	/* KeWorkerStep begins with a push then another push or the stack
	 * allocation (the kdsim build); the lines are decoded from it. */
	l0 = prolog_line(code, ke, want, sizeof(want));
	assert_true(l0 == 1 || l0 == 2); /* a push */
	assert_int_equal(kd_disasm_line(e->s, ke, line, sizeof(line), &len),
			 KD_OK);
	assert_string_equal(line, want);
	assert_int_equal(len, l0);
	assert_int_equal(strstr(line, "push") - line, 34);
	assert_int_equal(
		kd_disasm_line(e->s, ke + l0, line, sizeof(line), &len), KD_OK);
	l1 = prolog_line(code + l0, ke + l0, want, sizeof(want));
	assert_true(l1 != 0);
	assert_string_equal(line, want);
	assert_int_equal(len, l1);

	/* The call to RtlComputeCrc32 (e8 rel32) shows the symbol. */
	for (off = 0; off < 0x60; off++) {
		if (code[off] == 0xe8 &&
		    ke + off + 5 + (int32_t)rd32(code + off + 1) == crc)
			break;
	}
	assert_true(off < 0x60);
	assert_int_equal(
		kd_disasm_line(e->s, ke + off, line, sizeof(line), &len),
		KD_OK);
	snprintf(want, sizeof(want),
		 "%s %02x%02x%02x%02x%02x      call    "
		 "nt!RtlComputeCrc32 (%s)",
		 fmt_addr(ke + off), code[off], code[off + 1], code[off + 2],
		 code[off + 3], code[off + 4], fmt_addr(crc));
	assert_string_equal(line, want);
	assert_int_equal(
		kd_insn_info(e->s, ke + off, &len, &call, &ret, &branch),
		KD_OK);
	assert_int_equal(len, 5);
	assert_true(call);
	assert_false(ret);
	assert_true(branch);
	assert_int_equal(kd_insn_info(e->s, ke, &len, &call, &ret, &branch),
			 KD_OK);
	assert_false(call || ret || branch);

	/* Unreadable memory. */
	assert_int_equal(kd_disasm_line(e->s, 0x1000, line, sizeof(line), &len),
			 KD_EFAULT);
	assert_string_equal(line, "00000000`00001000 ??              ???");
	assert_int_equal(len, 1);
}

/* objdump's "0x1c0" -> WinDbg's "1C0h", "0xff" -> "0FFh", "0x9" -> "9". */
static void masm_number(const char *hex, size_t n, char *out, size_t cap)
{
	char digits[32];
	size_t i, k = 0;

	while (n > 1 && *hex == '0') {
		hex++;
		n--;
	}
	for (i = 0; i < n && k + 1 < sizeof(digits); i++)
		digits[k++] = (char)toupper((unsigned char)hex[i]);
	digits[k] = '\0';
	if (k == 1 && isdigit((unsigned char)digits[0]))
		snprintf(out, cap, "%s", digits);
	else if (isalpha((unsigned char)digits[0]))
		snprintf(out, cap, "0%sh", digits);
	else
		snprintf(out, cap, "%sh", digits);
}

/* objdump -M intel operands in WinDbg's spelling (no symbols). */
static void objdump_to_windbg(const char *in, char *out, size_t cap)
{
	size_t o = 0;
	const char *p = in;

	while (*p && o + 20 < cap) {
		if (strncmp(p, "+0x0]", 5) == 0) {
			p += 4; /* a zero displacement is not printed */
		} else if ((p[0] == 'g' || p[0] == 'f') &&
			   strncmp(p + 1, "s:0x", 4) == 0) {
			/* WinDbg brackets an absolute segment offset. */
			size_t n = 0;
			char num[40];

			p += 5;
			while (isxdigit((unsigned char)p[n]))
				n++;
			masm_number(p, n, num, sizeof(num));
			o += (size_t)snprintf(out + o, cap - o, "%cs:[%s]",
					      p[-5], num);
			p += n;
		} else if (p[0] == '0' && p[1] == 'x') {
			size_t n = 0;
			char num[40];

			p += 2;
			while (isxdigit((unsigned char)p[n]))
				n++;
			masm_number(p, n, num, sizeof(num));
			o += (size_t)snprintf(out + o, cap - o, "%s", num);
			p += n;
		} else if (strncmp(p, "*1]", 3) == 0 ||
			   strncmp(p, "*1+", 3) == 0 ||
			   strncmp(p, "*1-", 3) == 0) {
			p += 2;
		} else if (strncmp(p, " PTR ", 5) == 0) {
			o += (size_t)snprintf(out + o, cap - o, " ptr ");
			p += 5;
		} else {
			out[o++] = (char)tolower((unsigned char)*p++);
		}
	}
	out[o] = '\0';
}

/*
 * Compare our lines for [from, to) against objdump -d -M intel: same
 * addresses, lengths, mnemonics and, for plain operands, the operands.
 */
static void compare_with_objdump(struct env *e, const struct image *img,
				 uint64_t from, uint64_t to,
				 unsigned *checked_ops)
{
	char cmd[1024], path[512], buf[512];
	FILE *p;
	unsigned n = 0;

	kdt_build_path(path, sizeof(path), "firmware-stubs/sim/kernel/");
	strncat(path, img->file, sizeof(path) - strlen(path) - 1);
	snprintf(cmd, sizeof(cmd),
		 "%s -d -M intel -w --start-address=0x%llx "
		 "--stop-address=0x%llx '%s'",
		 objdump_path, (unsigned long long)from, (unsigned long long)to,
		 path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(buf, sizeof(buf), p)) {
		unsigned long long a;
		char hexb[64], mn[32], ops[256], ours[512], want_ops[300];
		char *tab1, *tab2, *hash;
		unsigned len, nb = 0;
		const char *q;
		char ourmn[32], ourops[300];

		if (sscanf(buf, " %llx:", &a) != 1 || !strchr(buf, '\t'))
			continue;
		tab1 = strchr(buf, '\t');
		tab2 = strchr(tab1 + 1, '\t');
		if (!tab2)
			continue;
		*tab2 = '\0';
		snprintf(hexb, sizeof(hexb), "%s", tab1 + 1);
		for (q = hexb; *q; q++)
			nb += isxdigit((unsigned char)q[0]) &&
					      isxdigit((unsigned char)q[1]) ?
				      (q++, 1) :
				      0;
		buf[strcspn(tab2 + 1, "\n") + (size_t)(tab2 + 1 - buf)] = '\0';
		hash = strstr(tab2 + 1, "    #");
		if (hash)
			*hash = '\0';
		ops[0] = '\0';
		mn[0] = '\0';
		sscanf(tab2 + 1, "%31s %255[^\n]", mn, ops);
		assert_int_equal(
			kd_disasm_line(e->s, a, ours, sizeof(ours), &len),
			KD_OK);
		assert_int_equal(len, nb);
		/* Mnemonic at column 34 unless the bytes overflow their
		 * field; operands follow it. */
		ourmn[0] = ourops[0] = '\0';
		sscanf(ours, "%*s %*s %31s %299[^\n]", ourmn, ourops);
		if (nb <= 7)
			assert_int_equal(strstr(ours, ourmn) - ours, 34);
		n++;
		if (strcmp(mn, "int3") == 0) {
			assert_string_equal(ourmn, "int");
			assert_string_equal(ourops, "3");
			continue;
		}
		if (strncmp(mn, "data16", 6) == 0 || strcmp(mn, "cs") == 0)
			continue; /* prefix spelling differs; length checked */
		assert_string_equal(ourmn, mn);
		if (strchr(ops, '<') || strstr(ops, "rip"))
			continue; /* symbolic: checked by the layout test */
		if (strchr(ourops, '(') && strchr(ourops, '`')) {
			/* Ours symbolic, objdump's a bare target (an image
			 * without a COFF symbol table): same address. */
			const char *t = strchr(ourops, '(') + 1;
			uint64_t hi = strtoull(t, NULL, 16);
			uint64_t lo = strtoull(strchr(t, '`') + 1, NULL, 16);

			assert_int_equal(hi << 32 | lo,
					 strtoull(ops, NULL, 16));
			(*checked_ops)++;
			continue;
		}
		objdump_to_windbg(ops, want_ops, sizeof(want_ops));
		assert_string_equal(ourops, want_ops);
		(*checked_ops)++;
	}
	pclose(p);
	assert_true(n > 5);
}

static void test_disasm_vs_objdump(void **state)
{
	struct env *e = *state;
	static const char *const funcs[] = {
		"KeWorkerStep",
		"RtlFibonacci",
		"RtlComputeCrc32",
		"KiSystemStartup",
	};
	unsigned i, checked = 0;

	if (access(objdump_path, X_OK) != 0) {
		fprintf(stderr, "objdump absent: comparison skipped\n");
		return;
	}
	for (i = 0; i < KD_ARRAY_SIZE(funcs); i++) {
		uint64_t a = imgs[0].base + img_export_rva(&imgs[0], funcs[i]);
		uint64_t end;
		unsigned j;
		const struct kd_rtfunc *rf;
		struct kd_module *m;

		/* The function's extent from the engine's .pdata agrees with
		 * the export (checked), then objdump decodes that range.  A
		 * leaf has no .pdata: up to the next export. */
		m = NULL;
		rf = kd_pdata_lookup(e->s, a, &m);
		if (rf) {
			assert_int_equal(m->base + rf->begin, a);
			end = m->base + rf->end;
		} else {
			end = 0;
			for (j = 0; j < imgs[0].nexp; j++) {
				uint64_t x = imgs[0].base + imgs[0].exp[j].rva;

				if (x > a && (end == 0 || x < end))
					end = x;
			}
			assert_true(end != 0);
		}
		compare_with_objdump(e, &imgs[0], a, end, &checked);
	}
	assert_true(checked > 40);
}

static void test_u_commands(void **state)
{
	struct env *e = *state;
	uint64_t ke = imgs[0].base + img_export_rva(&imgs[0], "KeWorkerStep");
	char line[512], want[512], l2[512], i0[128], i1[128];
	const uint8_t *code;
	const char *out;
	unsigned len, l0, l1;

	/* Bare u: 8 instructions at rip (KeWorkerStep), label first. */
	out = run(e, "u", KD_OK);
	assert_int_equal(count_lines(out), 9);
	assert_string_equal(line_of(out, 0, line, sizeof(line)),
			    "nt!KeWorkerStep:");
	kd_disasm_line(e->s, ke, want, sizeof(want), &len);
	assert_string_equal(line_of(out, 1, line, sizeof(line)), want);
	/* A second bare u continues after the 8th. */
	line_of(out, 8, l2, sizeof(l2));
	out = run(e, "u", KD_OK);
	assert_int_equal(count_lines(out), 9);
	{
		uint64_t last = strtoull(l2, NULL, 16) << 32 |
				strtoull(l2 + 9, NULL, 16);
		uint64_t first;

		assert_int_equal(
			kd_disasm_line(e->s, last, want, sizeof(want), &len),
			KD_OK);
		line_of(out, 1, line, sizeof(line));
		first = strtoull(line, NULL, 16) << 32 |
			strtoull(line + 9, NULL, 16);
		assert_int_equal(first, last + len);
		snprintf(want, sizeof(want), "nt!KeWorkerStep+0x%llx:",
			 (unsigned long long)(first - ke));
		assert_string_equal(line_of(out, 0, line, sizeof(line)), want);
	}
	/* u addr L count: the first two instructions, from the image. */
	out = run(e, "u nt!KeWorkerStep L2", KD_OK);
	code = imgs[0].mapped + (ke - imgs[0].base);
	l0 = prolog_line(code, ke, i0, sizeof(i0));
	l1 = prolog_line(code + l0, ke + l0, i1, sizeof(i1));
	assert_true(l0 != 0 && l1 != 0);
	snprintf(want, sizeof(want), "nt!KeWorkerStep:\n%s\n%s\n", i0, i1);
	assert_string_equal(out, want);
	/* u start end (inclusive). */
	snprintf(l2, sizeof(l2), "u %llx %llx", (unsigned long long)ke,
		 (unsigned long long)(ke + l0));
	out = run(e, l2, KD_OK);
	assert_string_equal(out, want);
	/* ub ends just before the address. */
	snprintf(l2, sizeof(l2), "ub %llx L2",
		 (unsigned long long)(ke + l0 + l1));
	out = run(e, l2, KD_OK);
	assert_string_equal(out, want);
	/* A label appears where a new symbol starts. */
	out = run(e, "u nt!RtlFibonacci-2 L3", KD_OK);
	assert_non_null(strstr(out, "\nnt!RtlFibonacci:\n"));
	/* uf prints the whole .pdata extent, ending in ret or padding. */
	out = run(e, "uf nt!KeWorkerStep", KD_OK);
	assert_string_equal(line_of(out, 0, line, sizeof(line)),
			    "nt!KeWorkerStep:");
	assert_non_null(strstr(out, " ret\n"));
	run(e, "u nt!KeWorkerStep L0", KD_EINVAL);
	run(e, "u nt!KeWorkerStep L2 junk", KD_EINVAL);
	run(e, "uf", KD_EINVAL);
}

/* ------------------------------------------------------------------ */
/* Stacks                                                              */
/* ------------------------------------------------------------------ */

/* Bytes a prolog pushes and allocates, decoded from its instructions. */
static unsigned prolog_frame(const uint8_t *code, unsigned *pushes)
{
	unsigned p = 0, alloc = 0;

	*pushes = 0;
	for (;;) {
		if ((code[p] & 0xf8) == 0x50) {
			p++;
			(*pushes)++;
		} else if (code[p] == 0x41 && (code[p + 1] & 0xf8) == 0x50) {
			p += 2;
			(*pushes)++;
		} else {
			break;
		}
	}
	if (code[p] == 0x48 && code[p + 1] == 0x83 && code[p + 2] == 0xec)
		alloc = code[p + 3];
	else if (code[p] == 0x48 && code[p + 1] == 0x81 && code[p + 2] == 0xec)
		alloc = rd32(code + p + 3);
	return 8 * *pushes + alloc;
}

/* Address after the first `call target` in [from, from+limit). */
static uint64_t ret_after_call(const struct image *img, uint64_t from,
			       uint64_t target)
{
	const uint8_t *c = img->mapped + (from - img->base);
	unsigned off;

	for (off = 0; off < 0x100; off++) {
		if (c[off] == 0xe8 &&
		    from + off + 5 + (int32_t)rd32(c + off + 1) == target)
			return from + off + 5;
	}
	fail_msg("no call found");
	return 0;
}

struct synth {
	uint64_t ke, crc, kss;
	unsigned ke_push0;  /* length of KeWorkerStep's first push */
	unsigned ke_pushes; /* registers its prolog pushes */
	unsigned ke_alloc;  /* bytes its prolog allocates after them */
	uint64_t sp0, sp1, sp2;
	uint64_t ret0, ret1;
};

/*
 * KiSystemStartup -> KeWorkerStep -> RtlComputeCrc32 (rip inside it).
 * Frame sizes come from decoding the prologs, not from .xdata.
 */
static void build_stack(struct env *e, struct synth *y)
{
	unsigned pushes, fs_ke, fs_kss;
	uint64_t top = STACK_AREA + STACK_SIZE - 0x200;
	uint8_t *st = e->stack;

	y->ke = imgs[0].base + img_export_rva(&imgs[0], "KeWorkerStep");
	y->crc = imgs[0].base + img_export_rva(&imgs[0], "RtlComputeCrc32");
	y->kss = imgs[0].base + img_export_rva(&imgs[0], "KiSystemStartup");
	fs_ke = prolog_frame(imgs[0].mapped + (y->ke - imgs[0].base), &pushes);
	assert_true(pushes >= 1);
	y->ke_pushes = pushes;
	y->ke_alloc = fs_ke - 8 * pushes;
	y->ke_push0 = imgs[0].mapped[y->ke - imgs[0].base] == 0x41 ? 2 : 1;
	fs_kss = prolog_frame(imgs[0].mapped + (y->kss - imgs[0].base),
			      &pushes);
	assert_true(pushes >= 2);
	y->ret0 = ret_after_call(&imgs[0], y->ke, y->crc);
	y->ret1 = ret_after_call(&imgs[0], y->kss, y->ke);
	/* KiSystemStartup's frame: its return address is 0 (thread start). */
	y->sp2 = top - 8 - fs_kss;
	kd_put_le64(st + (top - 8 - STACK_AREA), 0);
	/* KeWorkerStep's frame below it. */
	y->sp1 = y->sp2 - 8 - fs_ke;
	kd_put_le64(st + (y->sp2 - 8 - STACK_AREA), y->ret1);
	/* A register pushed by KeWorkerStep, home slots of its caller. */
	kd_put_le64(st + (y->sp1 + fs_ke - 8 - STACK_AREA), 0x1111);
	kd_put_le64(st + (y->sp2 - STACK_AREA), 0xa0);
	kd_put_le64(st + (y->sp2 + 8 - STACK_AREA), 0xa1);
	kd_put_le64(st + (y->sp2 + 16 - STACK_AREA), 0xa2);
	kd_put_le64(st + (y->sp2 + 24 - STACK_AREA), 0xa3);
	/* RtlComputeCrc32 is a leaf: only the return address. */
	y->sp0 = y->sp1 - 8;
	kd_put_le64(st + (y->sp0 - STACK_AREA), y->ret0);
	e->f.rip = y->crc + 3;
	e->f.regs[4] = y->sp0;
}

static void test_stack_walk(void **state)
{
	struct env *e = *state;
	struct kd_frame fr[16];
	struct synth y;
	size_t n = 0;

	build_stack(e, &y);
	assert_int_equal(kd_stack_walk(e->s, 0, fr, 16, &n), KD_OK);
	assert_int_equal(n, 3);
	assert_int_equal(fr[0].ip, y.crc + 3);
	assert_int_equal(fr[0].sp, y.sp0);
	assert_int_equal(fr[0].ret, y.ret0);
	assert_int_equal(fr[1].ip, y.ret0);
	assert_int_equal(fr[1].sp, y.sp1);
	assert_int_equal(fr[1].ret, y.ret1);
	assert_int_equal(fr[2].ip, y.ret1);
	assert_int_equal(fr[2].sp, y.sp2);
	assert_int_equal(fr[2].ret, 0);
	/* Home slots above KeWorkerStep's return address. */
	assert_int_equal(fr[1].args[0], 0xa0);
	assert_int_equal(fr[1].args[3], 0xa3);
	/* max bounds the walk. */
	assert_int_equal(kd_stack_walk(e->s, 0, fr, 2, &n), KD_OK);
	assert_int_equal(n, 2);
}

static void test_stack_prolog_epilog(void **state)
{
	struct env *e = *state;
	struct kd_frame fr[8];
	struct synth y;
	const uint8_t *code;
	unsigned off, p, pops;
	size_t n = 0;

	build_stack(e, &y);
	/* In KeWorkerStep's prolog, after its first push: only that register
	 * is on the stack above the return address. */
	e->f.rip = y.ke + y.ke_push0;
	e->f.regs[4] = y.sp2 - 16;
	e->s->tgt.cpus[0].valid = false;
	assert_int_equal(kd_stack_walk(e->s, 0, fr, 8, &n), KD_OK);
	assert_int_equal(n, 2);
	assert_int_equal(fr[0].ret, y.ret1);
	assert_int_equal(fr[1].sp, y.sp2);
	/* In the epilog at "add rsp,N" (then one pop per push and ret): the
	 * frame is still allocated. */
	code = imgs[0].mapped + (y.ke - imgs[0].base);
	assert_true(y.ke_alloc < 0x80);
	p = 0;
	for (off = 8; off < 0x100; off++) {
		if (code[off] != 0x48 || code[off + 1] != 0x83 ||
		    code[off + 2] != 0xc4 || code[off + 3] != y.ke_alloc)
			continue;
		for (p = off + 4, pops = 0; pops < y.ke_pushes; pops++) {
			if ((code[p] & 0xf8) == 0x58)
				p += 1;
			else if (code[p] == 0x41 &&
				 (code[p + 1] & 0xf8) == 0x58)
				p += 2;
			else
				break;
		}
		if (pops == y.ke_pushes && code[p] == 0xc3)
			break;
	}
	assert_true(off < 0x100);
	e->f.rip = y.ke + off;
	e->f.regs[4] = y.sp1;
	e->s->tgt.cpus[0].valid = false;
	assert_int_equal(kd_stack_walk(e->s, 0, fr, 8, &n), KD_OK);
	assert_int_equal(n, 2);
	assert_int_equal(fr[0].ret, y.ret1);
	/* At the ret itself. */
	e->f.rip = y.ke + p;
	e->f.regs[4] = y.sp2 - 8;
	e->s->tgt.cpus[0].valid = false;
	assert_int_equal(kd_stack_walk(e->s, 0, fr, 8, &n), KD_OK);
	assert_int_equal(n, 2);
	assert_int_equal(fr[0].ret, y.ret1);
	/* A stack pointer into unmapped memory: one frame, no crash. */
	e->f.regs[4] = 0x2000;
	e->s->tgt.cpus[0].valid = false;
	assert_int_equal(kd_stack_walk(e->s, 0, fr, 8, &n), KD_OK);
	assert_int_equal(n, 1);
	assert_int_equal(fr[0].ret, 0);
}

static void test_k_commands(void **state)
{
	struct env *e = *state;
	char want[512], line[512], site[128];
	const char *out;
	struct synth y;

	build_stack(e, &y);
	out = run(e, "k", KD_OK);
	assert_string_equal(line_of(out, 0, line, sizeof(line)),
			    " # Child-SP          RetAddr               "
			    "Call Site");
	assert_int_equal(count_lines(out), 4);
	snprintf(want, sizeof(want), "00 %s %s     nt!RtlComputeCrc32+0x3",
		 fmt_addr(y.sp0), fmt_addr(y.ret0));
	assert_string_equal(line_of(out, 1, line, sizeof(line)), want);
	kd_sym_format(e->s, y.ret0, site, sizeof(site));
	assert_int_equal(strncmp(site, "nt!KeWorkerStep+0x", 18), 0);
	snprintf(want, sizeof(want), "01 %s %s     %s", fmt_addr(y.sp1),
		 fmt_addr(y.ret1), site);
	assert_string_equal(line_of(out, 2, line, sizeof(line)), want);
	kd_sym_format(e->s, y.ret1, site, sizeof(site));
	assert_int_equal(strncmp(site, "nt!KiSystemStartup+0x", 21), 0);
	snprintf(want, sizeof(want), "02 %s 00000000`00000000     %s",
		 fmt_addr(y.sp2), site);
	assert_string_equal(line_of(out, 3, line, sizeof(line)), want);

	out = run(e, "k 2", KD_OK);
	assert_int_equal(count_lines(out), 3);
	out = run(e, "kn 1", KD_OK);
	assert_int_equal(count_lines(out), 2);

	out = run(e, "kb", KD_OK);
	assert_string_equal(
		line_of(out, 0, line, sizeof(line)),
		" # Child-SP          RetAddr               : Args to Child"
		"                                                           "
		": Call Site");
	kd_sym_format(e->s, y.ret0, site, sizeof(site));
	snprintf(want, sizeof(want),
		 "01 %s %s     : 00000000`000000a0 "
		 "00000000`000000a1 00000000`000000a2 00000000`000000a3 : %s",
		 fmt_addr(y.sp1), fmt_addr(y.ret1), site);
	assert_string_equal(line_of(out, 2, line, sizeof(line)), want);
	/* The columns line up: the Call Site colon over the rows'. */
	assert_int_equal(
		strrchr(line_of(out, 0, line, sizeof(line)), ':') - line, 117);
}

static void test_kc_layout(void **state)
{
	struct env *e = *state;
	const char *out;
	struct synth y;
	char line[256];

	build_stack(e, &y);
	out = run(e, "kc", KD_OK);
	assert_string_equal(line_of(out, 0, line, sizeof(line)),
			    " # Call Site");
	assert_string_equal(line_of(out, 1, line, sizeof(line)),
			    "00 nt!RtlComputeCrc32+0x3");
	out = run(e, "kf", KD_OK);
	assert_string_equal(line_of(out, 0, line, sizeof(line)),
			    " #   Memory  Child-SP          RetAddr          "
			    "     Call Site");
	run(e, "kz", KD_EINVAL);
}

/* ------------------------------------------------------------------ */
/* Hostile target memory                                               */
/* ------------------------------------------------------------------ */

static void test_ldr_cycle_and_garbage(void **state)
{
	struct env *e = *state;
	uint8_t *p1 = e->ldr + 0x100, *p2 = e->ldr + 0x200;

	/* Entry 2 points back to entry 1: a loop that never reaches the
	 * head. */
	kd_put_le64(p2, LDR_AREA + 0x100);
	/* Entry 1's name claims a huge, odd length. */
	kd_put_le16(p1 + 0x58, 0xffff);
	kd_put_le16(p1 + 0x5a, 0x10);
	assert_int_equal(kd_modules_load(e->s), KD_OK);
	assert_int_equal(e->s->sym.nmodules, 2);
	/* The first entry is the kernel whatever its name says. */
	assert_non_null(kd_module_by_name(e->s, "nt"));
	kd_modules_free(e->s);
	/* Unreadable head. */
	e->s->tgt.version.ps_loaded_module_list = 0x3000;
	assert_int_equal(kd_modules_load(e->s), KD_EFAULT);
	run(e, "lm", KD_EFAULT);
	e->s->tgt.version.ps_loaded_module_list = 0;
	assert_int_equal(kd_modules_load(e->s), KD_ENOTFOUND);
}

static void test_bad_pe_headers(void **state)
{
	struct env *e = *state;
	uint8_t *nt = e->f.r[0].data;
	uint32_t pe = rd32(nt + 0x3c);
	uint32_t ert = rd32(nt + pe + 24 + 112);
	char sym[64];
	uint64_t addr;
	const char *out;

	/* Export directory claims 0xffffffff names far outside the image. */
	kd_put_le32(nt + ert + 24, 0xffffffffu);
	kd_put_le32(nt + ert + 32, 0xfffffff0u);
	/* hal: e_lfanew points past the header page. */
	kd_put_le32(e->f.r[1].data + 0x3c, 0x7ffffff0u);
	assert_int_equal(kd_sym_lookup(e->s, "nt!KeWorkerStep", &addr),
			 KD_ENOTFOUND);
	assert_int_equal(
		kd_sym_format(e->s, imgs[0].base + 0x1234, sym, sizeof(sym)),
		KD_OK);
	assert_string_equal(sym, "nt+0x1234");
	out = run(e, "lm", KD_OK);
	assert_non_null(strstr(out, "   hal        (no symbols)           "
				    "hal.dll\n"));
	/* Exports of the other modules are unaffected. */
	assert_int_equal(kd_sym_lookup(e->s, "kdcom", &addr), KD_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_module_list, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exports_both_ways, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sym_format_offsets, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_x_and_ln, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disasm_layout, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_disasm_vs_objdump, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_u_commands, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stack_walk, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stack_prolog_epilog, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_k_commands, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_kc_layout, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ldr_cycle_and_garbage,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_pe_headers, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
