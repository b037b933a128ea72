/* SPDX-License-Identifier: MIT */
/*
 * What every target shares once open (kd_target_open, in open.c, picks
 * the driver): identification (identify(), the
 * debugger data block, the processors), WinDbg's "Connected to" and
 * version banners, the module list, DbgPrint text and prompts, and the
 * capability checks commands use instead of asking which target it is.
 */
#define _DEFAULT_SOURCE /* localtime_r, gmtime_r, tm_gmtoff */
#include <string.h>
#include <time.h>

#include <kd/dump.h>
#include <kd/textsafe.h>

#include "core/engine_int.h"
#include "core/memcache.h"

/* "Sat Nov 21 10:15:17.807 2026 (UTC + 0:00)" */
void kd_fmt_local_time(char buf[96], size_t cap, uint64_t unix_ms)
{
	time_t t = (time_t)(unix_ms / 1000u);
	struct tm tm;
	char day[48];
	long off;

	localtime_r(&t, &tm);
	strftime(day, sizeof(day), "%a %b %e %H:%M:%S", &tm);
	off = tm.tm_gmtoff / 60;
	snprintf(buf, cap, "%s.%03u %d (UTC %c %ld:%02ld)", day,
		 (unsigned)(unix_ms % 1000u), tm.tm_year + 1900,
		 off < 0 ? '-' : '+', (off < 0 ? -off : off) / 60,
		 (off < 0 ? -off : off) % 60);
}

const char *kd_windows_name(unsigned build)
{
	if (build >= 10240)
		return "Windows 10";
	if (build >= 9600)
		return "Windows 8.1";
	if (build >= 9200)
		return "Windows 8";
	if (build >= 7600)
		return "Windows 7";
	if (build >= 6000)
		return "Windows Vista";
	return "Windows";
}

/* Read the NtBuildLab string ("19041.1.amd64fre...") if the block has it. */
void kd_target_build_lab(struct kd_session *s, char *buf, size_t cap)
{
	size_t done = 0, i;

	buf[0] = '\0';
	if (!s->tgt.have_kdbg || !s->tgt.kdbg.nt_build_lab || cap < 2)
		return;
	if (kd_read_virtual(s, s->tgt.kdbg.nt_build_lab, buf, cap - 1, &done) <
	    0)
		done = 0;
	buf[done] = '\0';
	for (i = 0; i < done; i++) {
		if (buf[i] == '\0')
			break;
		if ((unsigned char)buf[i] < 0x20 ||
		    (unsigned char)buf[i] > 0x7e)
			buf[i] = '?';
	}
}

static const char *machine_name(uint32_t m)
{
	switch (m) {
	case KD_DUMP_MACHINE_AMD64:
		return "x64";
	case KD_DUMP_MACHINE_ARM64:
		return "ARM64";
	case KD_DUMP_MACHINE_I386:
		return "x86";
	default:
		return "unknown";
	}
}

/* "Thu Dec 12 08:17:24.456 2019 (UTC + 0:00)" from a FILETIME. */
static void fmt_filetime(char *buf, size_t cap, uint64_t ft)
{
	const uint64_t epoch = 116444736000000000ull;
	uint64_t ms;
	time_t t;
	struct tm tm;
	char day[48];

	if (ft < epoch) {
		snprintf(buf, cap, "not available");
		return;
	}
	ms = (ft - epoch) / 10000u;
	t = (time_t)(ms / 1000u);
	gmtime_r(&t, &tm);
	strftime(day, sizeof(day), "%a %b %e %H:%M:%S", &tm);
	snprintf(buf, cap, "%s.%03u %d (UTC + 0:00)", day,
		 (unsigned)(ms % 1000u), tm.tm_year + 1900);
}

/* "0 days 0:00:03.741" from 100 ns units. */
static void fmt_uptime(char *buf, size_t cap, uint64_t t100)
{
	uint64_t ms = t100 / 10000u, sec = ms / 1000u;

	if (t100 == 0) {
		snprintf(buf, cap, "not available");
		return;
	}
	snprintf(buf, cap, "%llu days %llu:%02llu:%02llu.%03llu",
		 (unsigned long long)(sec / 86400u),
		 (unsigned long long)(sec / 3600u % 24u),
		 (unsigned long long)(sec / 60u % 60u),
		 (unsigned long long)(sec % 60u),
		 (unsigned long long)(ms % 1000u));
}

/*
 * vertarget's block.  A snapshot (a dump) tells the time it was taken and
 * the uptime then; a live target has no clock kd can read: now, and no
 * uptime.
 */
void kd_target_print_version(struct kd_session *s)
{
	const struct kd_target_id *id = &s->tgt.id;
	char a[18], b[18], lab[128], when[96];
	unsigned build = s->tgt.version.minor_version;

	kd_out(s, "%s Kernel Version %u %s (%u procs) %s %s\n",
	       kd_windows_name(build), build,
	       (s->tgt.version.flags & KD_VERS_FLAG_MP) ? "MP" : "UP",
	       s->tgt.ncpus, id->checked_build ? "Checked" : "Free",
	       machine_name(id->machine));
	kd_target_build_lab(s, lab, sizeof(lab));
	if (lab[0])
		kd_out(s, "Built by: %s\n", lab);
	kd_out(s, "Machine Name:\n");
	kd_out(s, "Kernel base = 0x%s PsLoadedModuleList = 0x%s\n",
	       kd_fmt_ptr(s, a, s->tgt.version.kern_base),
	       kd_fmt_ptr(s, b, s->tgt.version.ps_loaded_module_list));
	if (id->snapshot)
		fmt_filetime(when, sizeof(when), id->system_time);
	else
		kd_fmt_local_time(when, sizeof(when), kd_now_ms());
	kd_out(s, "Debug session time: %s\n", when);
	if (id->snapshot)
		fmt_uptime(when, sizeof(when), id->system_uptime);
	else
		snprintf(when, sizeof(when), "not available");
	kd_out(s, "System Uptime: %s\n", when);
}

/* Find and decode KDDEBUGGER_DATA64 through DebuggerDataList. */
static void load_kdbg(struct kd_session *s)
{
	uint8_t buf[0x400];
	uint64_t flink = 0;
	size_t done = 0;

	s->tgt.have_kdbg = false;
	if (!s->tgt.version.debugger_data_list)
		return;
	if (kd_read_u64(s, s->tgt.version.debugger_data_list, &flink) < 0 ||
	    !flink)
		return;
	/* The block is shorter than the buffer on older builds and in
	 * triage dumps (0x340-0x380 bytes): a short read is fine as long as
	 * it holds what the block's own Size says. */
	if (kd_read_virtual(s, flink, buf, sizeof(buf), &done) < 0 && done == 0)
		return;
	if (kd_debugger_data_decode(&s->tgt.kdbg, buf, done) < 0)
		return;
	s->tgt.kdbg_addr = flink;
	s->tgt.have_kdbg = true;
}

#define KD_MAX_CPUS 256u /* processors kd keeps state for */

unsigned int kd_target_ncpus_used(unsigned int n)
{
	return n == 0 ? 1 : n > KD_MAX_CPUS ? KD_MAX_CPUS : n;
}

int kd_target_identify(struct kd_session *s, struct kd_target_id *id)
{
	int rc;

	rc = s->target->ops->identify(s->target, s->tgt.cpu, id);
	if (rc < 0)
		return rc;
	s->tgt.id = *id;
	s->tgt.version = id->version;
	s->tgt.have_version = true;
	/* The engine's x64 paths are the default: 0 unless x86 or ARM64. */
	s->tgt.machine = id->machine == KD_DUMP_MACHINE_I386 ||
					 id->machine == KD_DUMP_MACHINE_ARM64 ?
				 id->machine :
				 0;
	if (id->have_kdbg) {
		s->tgt.kdbg = id->kdbg;
		s->tgt.kdbg_addr = id->kdbg_addr;
		s->tgt.have_kdbg = true;
	} else {
		load_kdbg(s);
	}
	return KD_OK;
}

int kd_target_first_stop(struct kd_session *s, const struct kd_event *ev)
{
	struct kd_target_id id;
	char when[96];
	int rc;

	s->tgt.ncpus = kd_target_ncpus_used(ev->ncpus);
	if (s->tgt.ncpus != ev->ncpus) {
		/* Windows runs at most 2048 logical processors; a count
		 * past what kd keeps is a target bug, shown, not hidden. */
		kd_out(s,
		       "WARNING: the target reports %u processors; kd "
		       "uses %u\n",
		       ev->ncpus, s->tgt.ncpus);
	}
	s->tgt.cpu = ev->cpu < s->tgt.ncpus ? ev->cpu : 0;
	kd_free(s->tgt.cpus);
	s->tgt.cpus = kd_calloc(s->tgt.ncpus, sizeof(*s->tgt.cpus));
	if (!s->tgt.cpus)
		return KD_ENOMEM;
	rc = kd_target_identify(s, &id);
	if (rc < 0)
		return kd_fail(s, rc, "GetVersion failed: %s",
			       kd_error_message(rc));
	kd_fmt_local_time(when, sizeof(when), kd_now_ms());
	kd_out(s, "Connected to %s %u x64 target at (%s), ptr64 %s\n",
	       kd_windows_name(s->tgt.version.minor_version),
	       s->tgt.version.minor_version, when,
	       (s->tgt.version.flags & KD_VERS_FLAG_PTR64) ? "TRUE" : "FALSE");
	kd_out(s, "Kernel Debugger connection established.%s\n",
	       s->opts.break_on_connect ? "  (Initial Breakpoint requested)" :
					  "");
	kd_sym__print_banner(s);
	kd_target_print_version(s);
	s->sym.modules_valid = false;
	if (kd_modules_load(s) < 0)
		kd_out(s, "WARNING: the loaded module list could not be "
			  "read\n");
	if (!s->tgt.have_kdbg)
		kd_out(s, "WARNING: KDDEBUGGER_DATA64 not found: some "
			  "commands will not work\n");
	s->tgt.session_start = kd_now_ms();
	return KD_OK;
}

/*
 * DbgPrint text is the target's: shown with control bytes escaped
 * (kd/textsafe.h), so it cannot drive the terminal, a log viewer or a
 * debugging-server client.
 */
void kd_target_print(struct kd_session *s, const char *text, size_t len)
{
	char buf[1024];

	while (len > 0) {
		size_t used = 0;
		size_t n = kd_text_escape(buf, sizeof(buf), text, len, &used);

		if (used == 0)
			break;
		kd_out_raw(s, buf, n);
		text += used;
		len -= used;
	}
	s->tgt.prints_seen++;
}

int kd_target_prompt(struct kd_session *s, const char *prompt, char *buf,
		     size_t cap)
{
	char shown[512 * KD_TEXT_ESCAPE_MAX + 1];

	kd_text_escape(shown, sizeof(shown), prompt, strlen(prompt), NULL);
	kd_out(s, "%s", shown);
	if (!s->out.in_fn)
		return KD_ENOTSUP;
	return s->out.in_fn(s->out.in_ctx, "", buf, cap);
}

bool kd_target_has(const struct kd_session *s, uint32_t caps)
{
	return s->target && (s->target->ops->caps & caps) == caps;
}

int kd_target_refuse(struct kd_session *s, const char *what)
{
	return kd_fail(s, KD_ENOTSUP, "Cannot %s %s", what,
		       s->target && s->target->ops->noun ?
			       s->target->ops->noun :
			       "a crash dump target");
}

int kd_target_require(struct kd_session *s, uint32_t caps, const char *what)
{
	if (s->target && !kd_target_has(s, caps))
		return kd_target_refuse(s, what);
	return KD_OK;
}

int kd_target_require_run(struct kd_session *s, const char *what)
{
	return kd_target_require(s, KD_TCAP_RUN, what);
}
