/* SPDX-License-Identifier: MIT */
/*
 * The loaded-module list: a bounded walk of PsLoadedModuleList through
 * target memory, giving each module WinDbg's name ("nt", "hal", "simdrv").
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sym/sym_int.h"

/* LDR_DATA_TABLE_ENTRY64 (x64 Windows 10). */
#define LDR_DLLBASE 0x30
#define LDR_SIZEOFIMAGE 0x40
#define LDR_FULLDLLNAME 0x48
#define LDR_BASEDLLNAME 0x58
#define LDR_TIMEDATESTAMP 0x80
#define LDR_READ_SIZE 0x88
/* LDR_DATA_TABLE_ENTRY32 (x86 Windows). */
#define LDR32_DLLBASE 0x18
#define LDR32_SIZEOFIMAGE 0x20
#define LDR32_FULLDLLNAME 0x24
#define LDR32_BASEDLLNAME 0x2C
#define LDR32_TIMEDATESTAMP 0x44
#define LDR32_READ_SIZE 0x48

/* Kernel image names WinDbg calls "nt", and HAL names it calls "hal". */
static const char *const nt_images[] = {
	"ntoskrnl.exe", "ntkrnlmp.exe", "ntkrnlpa.exe",
	"ntkrpamp.exe", "ntkrla57.exe",
};
static const char *const hal_images[] = {
	"hal.dll",     "halmacpi.dll", "halacpi.dll", "halaacpi.dll",
	"halapic.dll", "halmps.dll",   "halsp.dll",   "halx86.dll",
};

static bool name_in(const char *name, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcasecmp(name, list[i]) == 0)
			return true;
	}
	return false;
}

/*
 * Read a UNICODE_STRING (64-bit layout, or UNICODE_STRING32 when
 * @p ptr32) into @p out as ASCII (other characters become '?').  Lengths
 * that are odd, larger than MaximumLength or longer than @p cap allows
 * are cut; an unreadable buffer gives "".
 */
static void read_ustr(struct kd_session *s, const uint8_t *us, char *out,
		      size_t cap, bool ptr32)
{
	uint16_t len = kd_get_le16(us);
	uint16_t max = kd_get_le16(us + 2);
	uint64_t buf = ptr32 ? kd_get_le32(us + 4) : kd_get_le64(us + 8);
	uint8_t raw[2 * 259];
	size_t n, i, done = 0;

	out[0] = '\0';
	if (len > max || buf == 0)
		return;
	n = len / 2;
	if (n > cap - 1)
		n = cap - 1;
	if (n > sizeof(raw) / 2)
		n = sizeof(raw) / 2;
	if (n == 0)
		return;
	if (kd_read_virtual(s, buf, raw, n * 2, &done) != KD_OK)
		return;
	n = done / 2;
	for (i = 0; i < n; i++) {
		uint16_t ch = kd_get_le16(raw + 2 * i);

		if (ch == 0)
			break;
		out[i] = (char)((ch >= 0x20 && ch < 0x7f) ? ch : '?');
	}
	out[i] = '\0';
}

/* WinDbg's module name for an image file name. */
static void module_name(char *out, size_t cap, const char *image, uint64_t base,
			bool ptr32)
{
	const char *dot;
	size_t n;

	if (name_in(image, nt_images, KD_ARRAY_SIZE(nt_images))) {
		snprintf(out, cap, "nt");
		return;
	}
	if (name_in(image, hal_images, KD_ARRAY_SIZE(hal_images))) {
		snprintf(out, cap, "hal");
		return;
	}
	if (image[0] == '\0') {
		if (ptr32)
			snprintf(out, cap, "Unknown_Module_%08x",
				 (unsigned)(base & 0xffffffffu));
		else
			snprintf(out, cap, "Unknown_Module_%016llx",
				 (unsigned long long)base);
		return;
	}
	dot = strrchr(image, '.');
	n = dot && dot != image ? (size_t)(dot - image) : strlen(image);
	if (n > cap - 1)
		n = cap - 1;
	memcpy(out, image, n);
	out[n] = '\0';
	/* Module names are symbol-like: no blanks or '!'. */
	for (dot = out; *dot; dot++) {
		if (*dot == ' ' || *dot == '!')
			out[dot - out] = '_';
	}
}

void kd_sym__module_name(char *out, size_t cap, const char *image,
			 uint64_t base, bool ptr32)
{
	module_name(out, cap, image, base, ptr32);
}

/* Give duplicate names WinDbg's "_<base>" suffix. */
static void module_dedup(struct kd_module *mods, size_t n)
{
	size_t i, j;

	for (i = 1; i < n; i++) {
		for (j = 0; j < i; j++) {
			char tmp[sizeof(mods[i].name)];

			if (strcasecmp(mods[i].name, mods[j].name) != 0)
				continue;
			snprintf(tmp, sizeof(tmp), "%.40s_%llx", mods[i].name,
				 (unsigned long long)mods[i].base);
			memcpy(mods[i].name, tmp, sizeof(tmp));
			break;
		}
	}
}

static int module_cmp_base(const void *a, const void *b)
{
	const struct kd_module *x = a, *y = b;

	return x->base < y->base ? -1 : x->base > y->base;
}

/* Here, not in symbols.c, which looks modules up: the module list is
 * the lower of the two files and frees what hangs on its entries. */
void kd_modsyms_free(struct kd_module *m)
{
	struct kd_modsyms *ms = m->syms;

	if (!ms)
		return;
	kd_pdb_close(ms->pdb); /* the reader's, not pdbsyms.c's: no cycle */
	kd_free(ms->exports);
	kd_free(ms->names);
	kd_free(ms->pdata);
	kd_free(ms);
	m->syms = NULL;
}

/*
 * Hand the symbols of each module of the old list that is still loaded
 * (same base, size and image) to its entry in the new list, so a re-read
 * after a stop keeps loaded PDBs rather than opening them again.  Images
 * that could not be read are read again.
 */
static void modules_keep_syms(struct kd_session *s, struct kd_module *mods,
			      size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < s->sym.nmodules; j++) {
			struct kd_module *o = &s->sym.modules[j];

			if (o->syms &&
			    ((struct kd_modsyms *)o->syms)->status == KD_OK &&
			    o->base == mods[i].base &&
			    o->size == mods[i].size &&
			    strcasecmp(o->image, mods[i].image) == 0) {
				mods[i].syms = o->syms;
				mods[i].checksum = o->checksum;
				o->syms = NULL;
				break;
			}
		}
	}
}

static void modules_clear(struct kd_session *s)
{
	size_t i;

	for (i = 0; i < s->sym.nmodules; i++)
		kd_modsyms_free(&s->sym.modules[i]);
	kd_free(s->sym.modules);
	s->sym.modules = NULL;
	s->sym.nmodules = 0;
	s->sym.modules_valid = false;
}

/* Also the disassembler, through the hook its file set (sym may not
 * call into arch, which calls into sym). */
void kd_modules_free(struct kd_session *s)
{
	modules_clear(s);
	if (s->hooks.disasm_close)
		s->hooks.disasm_close(s);
}

void kd_modules_hook(struct kd_session *s)
{
	s->hooks.modules_free = kd_modules_free;
}

/* PsLoadedModuleList; 32-bit targets keep the low half of the
 * sign-extended KD pointer (entries hold 32-bit links). */
static uint64_t module_list_head(struct kd_session *s)
{
	uint64_t head = 0;

	if (s->tgt.have_kdbg && s->tgt.kdbg.ps_loaded_module_list)
		head = s->tgt.kdbg.ps_loaded_module_list;
	else if (s->tgt.have_version)
		head = s->tgt.version.ps_loaded_module_list;
	if (!kd_is_ptr64(s))
		head &= 0xffffffffu;
	return head;
}

/* One pointer-sized link at @p va (4 bytes on 32-bit targets). */
static int read_link(struct kd_session *s, uint64_t va, uint64_t *v, bool ptr32)
{
	uint32_t v32;
	int rc;

	if (!ptr32)
		return kd_read_u64(s, va, v);
	rc = kd_read_u32(s, va, &v32);
	if (rc == KD_OK)
		*v = v32;
	return rc;
}

/*
 * The modules .reload Name=Base,Size added replace what the target's list
 * has at their range or under their name, as WinDbg's do.
 */
static int modules_merge_added(struct kd_session *s, struct kd_module **mods,
			       size_t *n)
{
	struct kd_module *m = *mods;
	size_t i, j, k;

	if (s->sym.nadded == 0)
		return KD_OK;
	for (i = 0; i < s->sym.nadded; i++) {
		const struct kd_module *a = &s->sym.added[i];

		for (j = 0, k = 0; j < *n; j++) {
			bool overlap = m[j].base < a->base + a->size &&
				       a->base < m[j].base + m[j].size;

			if (overlap || strcasecmp(m[j].name, a->name) == 0)
				continue;
			m[k++] = m[j];
		}
		*n = k;
	}
	m = kd_realloc(*mods, (*n + s->sym.nadded) * sizeof(*m));
	if (!m)
		return KD_ENOMEM;
	for (i = 0; i < s->sym.nadded; i++) {
		m[*n] = s->sym.added[i];
		m[*n].syms = NULL;
		(*n)++;
	}
	*mods = m;
	return KD_OK;
}

int kd_sym__module_add(struct kd_session *s, const char *image, uint64_t base,
		       uint64_t size, uint32_t timestamp)
{
	struct kd_module *a = NULL;
	bool ptr32 = !kd_is_ptr64(s);
	char name[sizeof(a->name)];
	size_t i;

	if (size == 0 || size > UINT32_MAX || base + size < base ||
	    (ptr32 && base + size > 0x100000000ull))
		return KD_EINVAL;
	if (!image[0] || strlen(image) >= sizeof(a->image))
		return KD_EINVAL;
	module_name(name, sizeof(name), image, base, ptr32);
	for (i = 0; i < s->sym.nadded; i++)
		if (strcasecmp(s->sym.added[i].name, name) == 0)
			a = &s->sym.added[i];
	if (!a) {
		if (s->sym.nadded == KD_SYM_ADDED_MAX)
			return KD_EOVERFLOW;
		a = &s->sym.added[s->sym.nadded++];
	}
	memset(a, 0, sizeof(*a));
	a->base = base;
	a->size = (uint32_t)size;
	a->timestamp = timestamp;
	snprintf(a->image, sizeof(a->image), "%s", image);
	snprintf(a->path, sizeof(a->path), "%s", image);
	memcpy(a->name, name, sizeof(a->name));
	/* Read the list again so the entry takes its place now. */
	s->sym.modules_valid = false;
	return kd_modules_load(s);
}

void kd_sym__modules_forget_added(struct kd_session *s)
{
	s->sym.nadded = 0;
}

int kd_modules_load(struct kd_session *s)
{
	uint64_t head, link;
	uint64_t *seen = NULL;
	struct kd_module *mods = NULL;
	size_t n = 0, cap = 0, steps = 0, seen_cap = 0;
	bool ptr32 = !kd_is_ptr64(s);
	size_t esize = ptr32 ? LDR32_READ_SIZE : LDR_READ_SIZE;
	int rc;

	kd_modules_hook(s);
	if (s->sym.modules_valid)
		return KD_OK;
	/* Triage dumps carry the driver list instead of the LDR list. */
	if (s->target && s->target->ops->modules &&
	    s->target->ops->modules(s->target, &mods, &n) == KD_OK) {
		for (steps = 0; steps < n; steps++) {
			struct kd_module *m = &mods[steps];

			/* A target that names its modules (an image file)
			 * keeps the names; else the first one listed is
			 * the kernel (a triage dump's drivers). */
			if (m->name[0])
				continue;
			module_name(m->name, sizeof(m->name), m->image, m->base,
				    ptr32);
			if (steps == 0 && strcmp(m->name, "hal") != 0)
				snprintf(m->name, sizeof(m->name), "nt");
		}
		goto sort;
	}
	head = module_list_head(s);
	if (head == 0) {
		modules_clear(s);
		return KD_ENOTFOUND;
	}
	rc = read_link(s, head, &link, ptr32);
	if (rc != KD_OK) {
		modules_clear(s);
		return s->cmd.target_err ? kd_target_failure(s) : KD_EFAULT;
	}
	while (link != head && link != 0 && steps < KD_MAX_MODULES) {
		uint8_t e[LDR_READ_SIZE];
		struct kd_module *m;
		size_t i;

		for (i = 0; i < steps; i++) {
			if (seen[i] == link)
				break;
		}
		if (i < steps)
			break; /* a cycle that misses the head */
		if (kd_read_virtual_all(s, link, e, esize) != KD_OK)
			break;
		if (steps == seen_cap) {
			size_t ncap = seen_cap ? seen_cap * 2 : 16;
			uint64_t *ns = kd_realloc(seen, ncap * sizeof(*seen));

			if (!ns)
				goto nomem;
			seen = ns;
			seen_cap = ncap;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct kd_module *nm;

			nm = kd_realloc(mods, ncap * sizeof(*mods));
			if (!nm)
				goto nomem;
			mods = nm;
			cap = ncap;
		}
		seen[steps++] = link;
		m = &mods[n];
		memset(m, 0, sizeof(*m));
		if (ptr32) {
			m->base = kd_get_le32(e + LDR32_DLLBASE);
			m->size = kd_get_le32(e + LDR32_SIZEOFIMAGE);
			m->timestamp = kd_get_le32(e + LDR32_TIMEDATESTAMP);
			read_ustr(s, e + LDR32_FULLDLLNAME, m->path,
				  sizeof(m->path), true);
			read_ustr(s, e + LDR32_BASEDLLNAME, m->image,
				  sizeof(m->image), true);
		} else {
			m->base = kd_get_le64(e + LDR_DLLBASE);
			m->size = kd_get_le32(e + LDR_SIZEOFIMAGE);
			m->timestamp = kd_get_le32(e + LDR_TIMEDATESTAMP);
			read_ustr(s, e + LDR_FULLDLLNAME, m->path,
				  sizeof(m->path), false);
			read_ustr(s, e + LDR_BASEDLLNAME, m->image,
				  sizeof(m->image), false);
		}
		if (m->image[0] == '\0') {
			const char *slash = strrchr(m->path, '\\');
			const char *fn = slash ? slash + 1 : m->path;
			size_t fl = strlen(fn);

			if (fl >= sizeof(m->image))
				fl = sizeof(m->image) - 1;
			memcpy(m->image, fn, fl);
			m->image[fl] = '\0';
		}
		link = ptr32 ? kd_get_le32(e) : kd_get_le64(e);
		/* Entries without an image or with an absurd size are not
		 * modules a debugger can use. */
		if (m->base == 0 || m->size == 0 ||
		    m->base + m->size < m->base ||
		    (ptr32 && m->base + m->size > 0x100000000ull))
			continue;
		module_name(m->name, sizeof(m->name), m->image, m->base, ptr32);
		/* The first entry is the kernel whatever its file name. */
		if (steps == 1 && strcmp(m->name, "hal") != 0)
			snprintf(m->name, sizeof(m->name), "nt");
		n++;
	}
	kd_free(seen);
	if (s->cmd.target_err) {
		/* The walk was cut by a failed request, not by the list:
		 * keep nothing, the next command reads it again. */
		kd_free(mods);
		return kd_target_failure(s);
	}
sort:
	if (modules_merge_added(s, &mods, &n) != KD_OK)
		goto nomem;
	if (n > 1)
		qsort(mods, n, sizeof(*mods), module_cmp_base);
	module_dedup(mods, n);
	modules_keep_syms(s, mods, n);
	modules_clear(s);
	s->sym.modules = mods;
	s->sym.nmodules = n;
	s->sym.modules_valid = true;
	return KD_OK;
nomem:
	kd_free(seen);
	kd_free(mods);
	modules_clear(s);
	return KD_ENOMEM;
}

struct kd_module *kd_module_by_addr(struct kd_session *s, uint64_t addr)
{
	size_t i;

	if (kd_modules_load(s) != KD_OK)
		return NULL;
	for (i = 0; i < s->sym.nmodules; i++) {
		struct kd_module *m = &s->sym.modules[i];

		if (addr >= m->base && addr - m->base < m->size)
			return m;
	}
	return NULL;
}

struct kd_module *kd_module_by_name(struct kd_session *s, const char *name)
{
	size_t i;

	if (kd_modules_load(s) != KD_OK)
		return NULL;
	for (i = 0; i < s->sym.nmodules; i++) {
		if (strcasecmp(s->sym.modules[i].name, name) == 0)
			return &s->sym.modules[i];
	}
	return NULL;
}

bool kd_wildcard_match(const char *pat, const char *text)
{
	const char *star = NULL, *resume = NULL;

	while (*text) {
		if (*pat == '*') {
			star = pat++;
			resume = text;
		} else if (*pat == '?' ||
			   (*pat && tolower((unsigned char)*pat) ==
					    tolower((unsigned char)*text))) {
			pat++;
			text++;
		} else if (star) {
			pat = star + 1;
			text = ++resume;
		} else {
			return false;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}
