/* SPDX-License-Identifier: MIT */
/*
 * A crash dump as a debugger target: memory, registers and control space
 * come from a kd_dump; execution operations are absent.  Also its driver
 * for kd_target_open() ("dump:<path>", kd -z), which fills the session and
 * prints WinDbg's dump banners.
 */
#define _DEFAULT_SOURCE /* gmtime_r */
#include <string.h>
#include <time.h>

#include <kd/dump.h>
#include <kd/dumpfmt.h>

#include "core/engine_int.h"
#include "core/memcache.h"

struct kd_dump_target {
	struct kd_target base;
	struct kd_dump *dump;
	unsigned int pending_cpu; /* ~Ns: the processor wait() reports */
	bool pending;
};

static struct kd_dump_target *dump_target_dt(struct kd_target *t)
{
	return (struct kd_dump_target *)t;
}

static int dt_read_virtual(struct kd_target *t, unsigned cpu, uint64_t va,
			   void *buf, size_t len, size_t *done)
{
	(void)cpu;
	*done = 0;
	(void)kd_dump_read_virtual(dump_target_dt(t)->dump, va, buf, len, done);
	return KD_OK;
}

static int dt_read_physical(struct kd_target *t, uint64_t pa, void *buf,
			    size_t len, size_t *done)
{
	*done = 0;
	(void)kd_dump_read_physical(dump_target_dt(t)->dump, pa, buf, len,
				    done);
	return KD_OK;
}

/* Convert the dump's CONTEXT into the engine's x64 CONTEXT layout. */
static void dt_convert_context(const struct kd_dump_info *in,
			       const uint8_t *src, size_t len, uint8_t *ctx)
{
	static const struct {
		uint16_t from, to;
	} x86[] = {
		{ 0xB0, KD_CTX_AMD64_RAX }, { 0xAC, KD_CTX_AMD64_RCX },
		{ 0xA8, KD_CTX_AMD64_RDX }, { 0xA4, KD_CTX_AMD64_RBX },
		{ 0xC4, KD_CTX_AMD64_RSP }, { 0xB4, KD_CTX_AMD64_RBP },
		{ 0xA0, KD_CTX_AMD64_RSI }, { 0x9C, KD_CTX_AMD64_RDI },
		{ 0xB8, KD_CTX_AMD64_RIP },
	};
	size_t i;

	memset(ctx, 0, KD_AMD64_CONTEXT_SIZE);
	if (in->machine == KD_DUMP_MACHINE_AMD64 ||
	    (in->ptr64 && in->machine != KD_DUMP_MACHINE_ARM64)) {
		memcpy(ctx, src,
		       len < KD_AMD64_CONTEXT_SIZE ? len :
						     KD_AMD64_CONTEXT_SIZE);
		return;
	}
	if (in->machine == KD_DUMP_MACHINE_ARM64 && len >= 0x110) {
		/* Only for generic code (pc, sp, frame, return value):
		 * r, expressions and k read the native CONTEXT. */
		kd_put_le64(ctx + KD_CTX_AMD64_RAX, kd_get_le64(src + 0x08));
		kd_put_le64(ctx + KD_CTX_AMD64_RIP, kd_get_le64(src + 0x108));
		kd_put_le64(ctx + KD_CTX_AMD64_RSP, kd_get_le64(src + 0x100));
		kd_put_le64(ctx + KD_CTX_AMD64_RBP, kd_get_le64(src + 0xF0));
		kd_put_le64(ctx + KD_CTX_AMD64_RCX, kd_get_le64(src + 0x08));
		kd_put_le64(ctx + KD_CTX_AMD64_RDX, kd_get_le64(src + 0x10));
		kd_put_le64(ctx + KD_CTX_AMD64_R8, kd_get_le64(src + 0x18));
		kd_put_le64(ctx + KD_CTX_AMD64_R8 + 8, kd_get_le64(src + 0x20));
		kd_put_le32(ctx + KD_CTX_AMD64_EFLAGS, kd_get_le32(src + 4));
		return;
	}
	if (len >= KD_CTX_X86_SIZE) {
		for (i = 0; i < KD_ARRAY_SIZE(x86); i++)
			kd_put_le64(ctx + x86[i].to,
				    kd_get_le32(src + x86[i].from));
		kd_put_le16(ctx + KD_CTX_AMD64_SEG_CS,
			    (uint16_t)kd_get_le32(src + 0xBC));
		kd_put_le16(ctx + KD_CTX_AMD64_SEG_SS,
			    (uint16_t)kd_get_le32(src + 0xC8));
		kd_put_le16(ctx + KD_CTX_AMD64_SEG_DS,
			    (uint16_t)kd_get_le32(src + 0x98));
		kd_put_le16(ctx + KD_CTX_AMD64_SEG_ES,
			    (uint16_t)kd_get_le32(src + 0x94));
		kd_put_le16(ctx + KD_CTX_AMD64_SEG_FS,
			    (uint16_t)kd_get_le32(src + 0x90));
		kd_put_le16(ctx + KD_CTX_AMD64_SEG_GS,
			    (uint16_t)kd_get_le32(src + 0x8C));
		kd_put_le32(ctx + KD_CTX_AMD64_EFLAGS, kd_get_le32(src + 0xC0));
	}
}

static int dt_get_context(struct kd_target *t, unsigned cpu, uint8_t *ctx)
{
	struct kd_dump *d = dump_target_dt(t)->dump;
	uint8_t raw[KD_DMP64_CONTEXT_RECORD_SIZE];
	size_t len = 0;
	int rc;

	rc = kd_dump_context(d, cpu, raw, sizeof(raw), &len);
	if (rc < 0)
		return kd_error_set(rc, KD_ERRCLASS_ENGINE,
				    "the dump has no context for processor %u",
				    cpu);
	dt_convert_context(kd_dump_info(d), raw, len, ctx);
	return KD_OK;
}

/* The dump's own CONTEXT of an x86 or ARM64 processor. */
static int dt_get_native_context(struct kd_target *t, unsigned cpu,
				 uint8_t *buf, size_t cap, size_t *len)
{
	struct kd_dump *d = dump_target_dt(t)->dump;
	uint8_t raw[KD_DMP64_CONTEXT_RECORD_SIZE];
	size_t n = 0;
	int rc;

	*len = 0;
	rc = kd_dump_context(d, cpu, raw, sizeof(raw), &n);
	if (rc < 0)
		return kd_error_set(rc, KD_ERRCLASS_ENGINE,
				    "the dump has no context for processor %u",
				    cpu);
	if (n > cap)
		n = cap;
	memcpy(buf, raw, n);
	*len = n;
	return KD_OK;
}

/* KPRCB address of @p cpu: KiProcessorBlock[cpu]. */
static int dt_prcb(struct kd_target *t, unsigned cpu, uint64_t *prcb)
{
	struct kd_session *s = t->session;
	struct kd_dump *d = dump_target_dt(t)->dump;
	uint8_t b[8] = { 0 };
	unsigned psz = kd_dump_info(d)->ptr64 ? 8u : 4u;

	if (!s->tgt.have_kdbg || !s->tgt.kdbg.ki_processor_block)
		return KD_ENOTFOUND;
	if (kd_dump_read_virtual(
		    d, s->tgt.kdbg.ki_processor_block + (uint64_t)psz * cpu, b,
		    psz, NULL) != KD_OK)
		return KD_ENOTFOUND;
	*prcb = psz == 8 ? kd_get_le64(b) : kd_get_le32(b);
	return *prcb ? KD_OK : KD_ENOTFOUND;
}

static int dt_read_control(struct kd_target *t, unsigned cpu, uint64_t sel,
			   void *buf, size_t len, size_t *done)
{
	struct kd_session *s = t->session;
	struct kd_dump *d = dump_target_dt(t)->dump;
	uint8_t out[KD_AMD64_KSPECIAL_SIZE];
	size_t n = 0;
	uint64_t prcb = 0, v = 0;

	*done = 0;
	if (sel == KD_AMD64_CS_KSPECIAL) {
		struct kd_amd64_kspecial ks;

		memset(&ks, 0, sizeof(ks));
		/* The processor state saved in the KPRCB, if present. */
		if (s->tgt.have_kdbg &&
		    s->tgt.kdbg.offset_prcb_proc_state_special_reg &&
		    dt_prcb(t, cpu, &prcb) == KD_OK &&
		    kd_dump_read_virtual(
			    d,
			    prcb + s->tgt.kdbg
					    .offset_prcb_proc_state_special_reg,
			    out, KD_AMD64_KSPECIAL_SIZE_OLD, NULL) == KD_OK)
			(void)kd_amd64_kspecial_decode(
				&ks, out, KD_AMD64_KSPECIAL_SIZE_OLD);
		/* Translation always uses the dump's own directory base. */
		ks.cr3 = kd_dump_info(d)->dtb;
		ks.has_xcr0 = true;
		if (kd_amd64_kspecial_encode(out, sizeof(out), &n, &ks) < 0)
			return KD_EPROTO;
	} else if (sel <= 3) {
		if (dt_prcb(t, cpu, &prcb) != KD_OK)
			return KD_ENOTFOUND;
		if (sel == 0)
			v = prcb - 0x180; /* KPCR.Prcb */
		else if (sel == 1)
			v = prcb;
		else if (kd_dump_read_virtual(
				 d,
				 prcb + s->tgt.kdbg.offset_prcb_current_thread,
				 out, 8, NULL) == KD_OK)
			v = kd_get_le64(out);
		else
			return KD_ENOTFOUND;
		kd_put_le64(out, v);
		n = 8;
	} else {
		return KD_ENOTFOUND;
	}
	if (n > len)
		n = len;
	memcpy(buf, out, n);
	*done = n;
	return KD_OK;
}

/* ~Ns: no processor runs; wait() reports the chosen one as stopped. */
static int dt_switch_cpu(struct kd_target *t, unsigned cpu)
{
	dump_target_dt(t)->pending_cpu = cpu;
	dump_target_dt(t)->pending = true;
	return KD_OK;
}

static int dt_wait(struct kd_target *t, int timeout_ms, struct kd_event *ev)
{
	struct kd_dump_target *dt = dump_target_dt(t);
	uint8_t ctx[KD_AMD64_CONTEXT_SIZE];

	(void)timeout_ms;
	if (!dt->pending)
		return KD_ETIMEOUT;
	dt->pending = false;
	memset(ev, 0, sizeof(*ev));
	ev->kind = KD_EV_EXCEPTION;
	ev->cpu = dt->pending_cpu;
	ev->ncpus = t->session->tgt.ncpus;
	ev->code = KD_STATUS_BREAKPOINT;
	ev->first_chance = true;
	if (dt_get_context(t, ev->cpu, ctx) == KD_OK)
		ev->pc = kd_get_le64(ctx + KD_CTX_AMD64_RIP);
	return KD_OK;
}

static void dt_close(struct kd_target *t)
{
	kd_dump_close(dump_target_dt(t)->dump);
	kd_free(t);
}

/* ---- modules of triage dumps (no PsLoadedModuleList in memory) ---- */

static int dt_modules(struct kd_target *t, struct kd_module **out, size_t *nout)
{
	struct kd_dump *d = dump_target_dt(t)->dump;
	struct kd_module *mods;
	unsigned int n, i;
	size_t k = 0;

	*out = NULL;
	*nout = 0;
	n = kd_dump_triage_driver_count(d);
	if (n == 0)
		return KD_ENOTFOUND;
	mods = kd_calloc(n, sizeof(*mods));
	if (!mods)
		return KD_ENOMEM;
	for (i = 0; i < n; i++) {
		struct kd_module *m = &mods[k];
		const char *slash;
		size_t fl;

		if (kd_dump_triage_driver(d, i, &m->base, &m->size, m->path,
					  sizeof(m->path)) != KD_OK ||
		    m->base == 0 || m->size == 0 || m->base + m->size < m->base)
			continue;
		/* The image key: the image's pages are rarely in a triage
		 * dump, so symbols come from a store copy found by it. */
		if (kd_dump_triage_driver_stamp(d, i, &m->timestamp,
						&m->checksum) != KD_OK)
			m->timestamp = m->checksum = 0;
		slash = strrchr(m->path, '\\');
		slash = slash ? slash + 1 : m->path;
		fl = strlen(slash);
		if (fl >= sizeof(m->image))
			fl = sizeof(m->image) - 1;
		memcpy(m->image, slash, fl);
		m->image[fl] = '\0';
		k++;
	}
	*out = mods;
	*nout = k;
	return KD_OK;
}

/* ---- identification and opening ---- */

/* Who the dump's system was: all from the header and the stored debugger
 * data block. */
static int dt_identify(struct kd_target *t, unsigned cpu,
		       struct kd_target_id *id)
{
	struct kd_dump *d = dump_target_dt(t)->dump;
	const struct kd_dump_info *in = kd_dump_info(d);
	const uint8_t *kb = NULL;
	size_t kl = kd_dump_kdbg_block(d, &kb);
	unsigned i;

	(void)cpu;
	memset(id, 0, sizeof(*id));
	id->version.major_version = (uint16_t)(in->major << 8);
	id->version.minor_version = (uint16_t)in->minor;
	id->version.flags = KD_VERS_FLAG_DATA;
	if (in->ptr64)
		id->version.flags |= KD_VERS_FLAG_PTR64;
	if (in->ncpus > 1)
		id->version.flags |= KD_VERS_FLAG_MP;
	id->version.machine_type = (uint16_t)in->machine;
	id->version.ps_loaded_module_list = in->ps_loaded_module_list;
	if (kl && kd_debugger_data_decode(&id->kdbg, kb, kl) == KD_OK) {
		id->have_kdbg = true;
		id->kdbg_addr = in->kdbg;
		id->version.kern_base = id->kdbg.kern_base;
	}
	id->machine = in->machine;
	id->ncpus = in->ncpus;
	id->crash_cpu = kd_dump_crash_cpu(d);
	id->bugcheck_code = in->bugcheck_code;
	for (i = 0; i < 4; i++)
		id->bugcheck_params[i] = in->bugcheck_params[i];
	id->snapshot = true;
	id->checked_build = in->major == 0xC;
	id->system_time = in->system_time;
	id->system_uptime = in->system_uptime;
	id->dtb = in->dtb;
	return KD_OK;
}

static const struct kd_target_ops dump_ops = {
	.version = KD_TARGET_OPS_VERSION,
	.name = "dump",
	.caps = KD_TCAP_SWITCH_CPU | KD_TCAP_PHYSICAL | KD_TCAP_CONTROL,
	.uncached = true,
	.identify = dt_identify,
	.read_virtual = dt_read_virtual,
	.read_physical = dt_read_physical,
	.read_control = dt_read_control,
	.get_context = dt_get_context,
	.get_native_context = dt_get_native_context,
	.wait = dt_wait,
	.switch_cpu = dt_switch_cpu,
	.modules = dt_modules,
	.close = dt_close,
};

static int dump_target_new(struct kd_session *s, struct kd_dump *d,
			   struct kd_target **out)
{
	struct kd_dump_target *dt = kd_calloc(1, sizeof(*dt));

	*out = NULL;
	if (!dt)
		return KD_ENOMEM;
	dt->base.ops = &dump_ops;
	dt->base.session = s;
	dt->dump = d;
	*out = &dt->base;
	return KD_OK;
}

static void dump_banner(struct kd_session *s, const char *path,
			struct kd_dump *d)
{
	const struct kd_dump_info *in = kd_dump_info(d);
	unsigned w;

	kd_out(s, "\nLoading Dump File [%s]\n", path);
	switch (in->type) {
	case KD_DUMP_TRIAGE:
		kd_out(s, "Mini Kernel Dump File: Only registers and stack "
			  "trace are available\n");
		break;
	case KD_DUMP_FULL:
		kd_out(s, "Kernel Complete Dump File: Full address space is "
			  "available\n");
		break;
	case KD_DUMP_BITMAP_FULL:
		kd_out(s, "Kernel Bitmap Dump File: Full address space is "
			  "available\n");
		break;
	case KD_DUMP_BITMAP_KERNEL:
	case KD_DUMP_SUMMARY:
		kd_out(s, "Kernel Bitmap Dump File: Kernel address space is "
			  "available, User address space may not be "
			  "available.\n");
		break;
	default:
		kd_out(s, "Kernel Dump File (header only): no memory is "
			  "available\n");
		break;
	}
	for (w = 0; kd_dump_warning(d, w); w++)
		kd_out(s, "WARNING: %s\n", kd_dump_warning(d, w));
	if (in->kdbg_encoded)
		kd_out(s, "The debugger data block was encoded: decoded\n");
	kd_out(s, "\n");
	kd_sym__print_banner(s);
	kd_target_print_version(s);
}

/* The dump driver of kd_target_open(): kd -z @p path. */
static int dump_driver_open(struct kd_session *s, const char *path,
			    struct kd_event *first)
{
	struct kd_dump *d = NULL;
	struct kd_target *t = NULL;
	struct kd_target_id id;
	const struct kd_dump_info *in;
	char err[256];
	int rc;

	first->kind = KD_EV_NONE; /* the stop is reported here */
	rc = kd_dump_open(&d, path, err, sizeof(err));
	if (rc < 0)
		return kd_fail(s, rc, "Could not open dump file [%s]: %s", path,
			       err[0] ? err : kd_error_message(rc));
	rc = dump_target_new(s, d, &t);
	if (rc < 0) {
		kd_dump_close(d);
		return kd_fail(s, rc, "Out of memory");
	}
	in = kd_dump_info(d);
	kd_session_reset_target_state(s);
	s->tgt.ncpus = in->ncpus;
	s->tgt.cpus = kd_calloc(s->tgt.ncpus, sizeof(*s->tgt.cpus));
	if (!s->tgt.cpus) {
		t->ops->close(t);
		return kd_fail(s, KD_ENOMEM, "Out of memory");
	}
	s->target = t;
	s->tgt.dump = d;
	snprintf(s->tgt.connstr, sizeof(s->tgt.connstr), "dump:%s", path);
	s->tgt.have_kdbg = false;
	(void)kd_target_identify(s, &id);
	s->tgt.cpu = id.crash_cpu;
	if (s->tgt.cpu >= s->tgt.ncpus)
		s->tgt.cpu = 0;
	dump_banner(s, path, d);
	s->sym.modules_valid = false;
	(void)kd_modules_load(s);
	if (!s->tgt.have_kdbg)
		kd_out(s, "WARNING: KDDEBUGGER_DATA64 not found: some "
			  "commands will not work\n");
	s->tgt.session_start = kd_now_ms();
	memset(&s->tgt.last, 0, sizeof(s->tgt.last));
	s->tgt.last.kind = KD_EV_EXCEPTION;
	s->tgt.last.cpu = s->tgt.cpu;
	s->tgt.last.ncpus = s->tgt.ncpus;
	s->tgt.last.code = in->bugcheck_code;
	s->tgt.running = false;
	if (in->bugcheck_code) {
		char p[4][18];
		unsigned i;

		for (i = 0; i < 4; i++)
			snprintf(p[i], sizeof(p[i]), "%llx",
				 (unsigned long long)in->bugcheck_params[i]);
		kd_out(s, "\nBugCheck %X, {%s, %s, %s, %s}\n\n",
		       in->bugcheck_code, p[0], p[1], p[2], p[3]);
		kd_out(s, "Use !analyze -v to get detailed debugging "
			  "information.\n\n");
	}
	rc = kd_print_current_instruction(s);
	if (rc < 0) {
		/* kd_target_open forgets a target whose open failed: close
		 * it here (with the reader it owns). */
		s->target = NULL;
		s->tgt.dump = NULL;
		t->ops->close(t);
	}
	return rc;
}

const struct kd_target_driver kd_target_dump_driver = {
	.name = "dump",
	.prefix = "dump:",
	.ops = &dump_ops,
	.open = dump_driver_open,
};
