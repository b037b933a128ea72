/* SPDX-License-Identifier: MIT */
/*
 * !process and !thread: the kernel's process and thread objects, read
 * field by field through nt's PDB types (kobj.h), in WinDbg's shapes.
 * A field the kernel's types lack is one error line naming it; a value
 * the target does not keep (times kdsim never counts) prints as WinDbg
 * prints a zero one.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <kd/proto/wire.h>

#include "cmd/args.h"
#include "cmd/kobj.h"

#define KOBJ_MAX_FRAMES 32
#define DEFAULT_TIME_INCREMENT 156250 /* 100 ns units per clock tick */

static const char *const wait_reasons[] = {
	"Executive",	    "FreePage",		 "PageIn",
	"PoolAllocation",   "DelayExecution",	 "Suspended",
	"UserRequest",	    "WrExecutive",	 "WrFreePage",
	"WrPageIn",	    "WrPoolAllocation",	 "WrDelayExecution",
	"WrSuspended",	    "WrUserRequest",	 "WrSpare0",
	"WrQueue",	    "WrLpcReceive",	 "WrLpcReply",
	"WrVirtualMemory",  "WrPageOut",	 "WrRendezvous",
	"WrKeyedEvent",	    "WrTerminated",	 "WrProcessInSwap",
	"WrCpuRateControl", "WrCalloutStack",	 "WrKernel",
	"WrResource",	    "WrPushLock",	 "WrMutex",
	"WrQuantumEnd",	    "WrDispatchInt",	 "WrPreempted",
	"WrYieldExecution", "WrFastMutex",	 "WrGuardedMutex",
	"WrRundown",	    "WrAlertByThreadId", "WrDeferredPreempt",
};

static const char *const thread_states[] = {
	"INITIALIZED", "READY",
	"RUNNING",     "STANDBY",
	"TERMINATED",  "WAIT",
	"TRANSITION",  "DEFERREDREADY",
	"GATEWAIT",    "WAITINGFORPROCESSINSWAP",
};

/* DISPATCHER_HEADER.Type of a waited object, as !thread names it. */
static const char *const object_types[] = {
	"NotificationEvent",
	"SynchronizationEvent",
	"Mutant",
	"ProcessObject",
	"QueueObject",
	"Semaphore",
	"ThreadObject",
	"Gate",
	"NotificationTimer",
	"SynchronizationTimer",
};

struct proc_info {
	uint64_t addr, pid, parent, peb, dirbase, table, session, devmap;
	char image[16];
};

struct kobj_ctx {
	struct kd_kobj k;
	unsigned int flags;
	const char *indent;
	const char *image; /* !process 0 f Image: the name to match */
	size_t image_len;
	bool any;
	uint64_t want_pid; /* !process Cid: the one to find */
	uint64_t found;
};

static const char *fmt_hex(char buf[18], uint64_t v)
{
	snprintf(buf, 18, "%016llx", (unsigned long long)v);
	return buf;
}

static int read_process(struct kd_kobj *k, uint64_t e, struct proc_info *p)
{
	uint8_t name[16];
	size_t n = 0, i;
	int rc;

	memset(p, 0, sizeof(*p));
	p->addr = e;
	rc = kd_kobj__read(k, e, "_EPROCESS", "UniqueProcessId", &p->pid);
	if (rc == KD_OK)
		rc = kd_kobj__read(k, e, "_EPROCESS",
				   "InheritedFromUniqueProcessId", &p->parent);
	if (rc == KD_OK)
		rc = kd_kobj__read(k, e, "_EPROCESS", "Peb", &p->peb);
	if (rc == KD_OK)
		rc = kd_kobj__read(k, e, "_EPROCESS", "Pcb.DirectoryTableBase",
				   &p->dirbase);
	if (rc == KD_OK)
		rc = kd_kobj__read(k, e, "_EPROCESS", "ObjectTable", &p->table);
	if (rc == KD_OK)
		rc = kd_kobj__read(k, e, "_EPROCESS", "Session", &p->session);
	if (rc == KD_OK)
		rc = kd_kobj__read_bytes(k, e, "_EPROCESS", "ImageFileName",
					 name, 15, &n);
	if (rc < 0)
		return rc;
	for (i = 0; i < n && name[i]; i++)
		p->image[i] = (char)(name[i] >= 0x20 && name[i] < 0x7f ?
					     name[i] :
					     '?');
	p->image[i] = '\0';
	if (kd_kobj__has(k, "_EPROCESS", "DeviceMap"))
		rc = kd_kobj__read(k, e, "_EPROCESS", "DeviceMap", &p->devmap);
	return rc;
}

/* "00:00:00.015" from @p ticks clock ticks. */
static void fmt_ticks(struct kd_kobj *k, uint64_t ticks, char *buf, size_t cap)
{
	uint64_t inc = DEFAULT_TIME_INCREMENT, ms, addr;
	uint32_t v;

	if (kd_sym_lookup(k->s, "nt!KeMaximumIncrement", &addr) == KD_OK &&
	    kd_read_u32(k->s, addr, &v) == KD_OK && v)
		inc = v;
	ms = ticks * inc / 10000;
	snprintf(buf, cap, "%02llu:%02llu:%02llu.%03llu",
		 (unsigned long long)(ms / 3600000),
		 (unsigned long long)(ms / 60000 % 60),
		 (unsigned long long)(ms / 1000 % 60),
		 (unsigned long long)(ms % 1000));
}

/* The processor @p thread runs on now, or -1. */
static int running_cpu(struct kd_kobj *k, uint64_t thread, uint64_t next)
{
	uint64_t kpb, prcb, cur;

	if (next >= 64 || kd_sym_lookup(k->s, "nt!KiProcessorBlock", &kpb) ||
	    kd_read_u64(k->s, kpb + next * 8, &prcb) != KD_OK || !prcb ||
	    kd_kobj__read(k, prcb, "_KPRCB", "CurrentThread", &cur) != KD_OK)
		return -1;
	return cur == thread ? (int)next : -1;
}

static void print_stack(struct kd_kobj *k, const char *ind, int cpu)
{
	struct kd_frame frames[KOBJ_MAX_FRAMES];
	size_t n = 0, i;

	kd_out(k->s,
	       "%sChild-SP          RetAddr           : Args to Child      "
	       "                                                     : "
	       "Call Site\n",
	       ind);
	if (cpu < 0 ||
	    kd_stack_walk(k->s, (unsigned)cpu, frames, KOBJ_MAX_FRAMES, &n) < 0)
		return;
	for (i = 0; i < n && !k->s->interrupt; i++) {
		char sp[18], ret[18], a[4][18], site[256];
		unsigned j;

		if (kd_sym_format(k->s, frames[i].ip, site, sizeof(site)) !=
		    KD_OK)
			snprintf(site, sizeof(site), "0x%llx",
				 (unsigned long long)frames[i].ip);
		for (j = 0; j < 4; j++)
			kd_fmt_addr(a[j], frames[i].args[j]);
		kd_out(k->s, "%s%s %s : %s %s %s %s : %s\n", ind,
		       kd_fmt_addr(sp, frames[i].sp),
		       kd_fmt_addr(ret, frames[i].ret), a[0], a[1], a[2], a[3],
		       site);
	}
}

struct thread_info {
	uint64_t addr, pid, tid, teb, win32, state, reason, mode, alertable;
	uint64_t next, process;
	int cpu;
};

static int read_thread_head(struct kd_kobj *k, uint64_t t,
			    struct thread_info *ti)
{
	int rc;

	memset(ti, 0, sizeof(*ti));
	ti->addr = t;
	rc = kd_kobj__read(k, t, "_ETHREAD", "Cid.UniqueProcess", &ti->pid);
	if (rc == KD_OK)
		rc = kd_kobj__read(k, t, "_ETHREAD", "Cid.UniqueThread",
				   &ti->tid);
	if (rc == KD_OK)
		rc = kd_kobj__read(k, t, "_KTHREAD", "Teb", &ti->teb);
	if (rc == KD_OK)
		rc = kd_kobj__read(k, t, "_KTHREAD", "Win32Thread", &ti->win32);
	if (rc == KD_OK)
		rc = kd_kobj__read(k, t, "_KTHREAD", "State", &ti->state);
	if (rc == KD_OK)
		rc = kd_kobj__read(k, t, "_KTHREAD", "WaitReason", &ti->reason);
	if (rc == KD_OK)
		rc = kd_kobj__read(k, t, "_KTHREAD", "WaitMode", &ti->mode);
	if (rc == KD_OK)
		rc = kd_kobj__read(k, t, "_KTHREAD", "Alertable",
				   &ti->alertable);
	if (rc == KD_OK)
		rc = kd_kobj__read(k, t, "_KTHREAD", "NextProcessor",
				   &ti->next);
	if (rc == KD_OK)
		rc = kd_kobj__read(k, t, "_KTHREAD", "Process", &ti->process);
	ti->cpu = rc == KD_OK ? running_cpu(k, t, ti->next) : -1;
	return rc;
}

/* The THREAD line: "THREAD x  Cid p.t  Teb: ... RUNNING on processor 0". */
static void thread_line(struct kd_kobj *k, const char *ind,
			const struct thread_info *ti)
{
	char a[18], b[18], c[18], st[96];

	if (ti->state == 2 || ti->state == 1)
		snprintf(st, sizeof(st), "%s on processor %llu",
			 thread_states[ti->state],
			 (unsigned long long)ti->next);
	else if (ti->state == 5)
		snprintf(st, sizeof(st), "WAIT: (%s) %s %s",
			 ti->reason < KD_ARRAY_SIZE(wait_reasons) ?
				 wait_reasons[ti->reason] :
				 "Unknown",
			 ti->mode ? "UserMode" : "KernelMode",
			 ti->alertable ? "Alertable" : "Non-Alertable");
	else if (ti->state < KD_ARRAY_SIZE(thread_states))
		snprintf(st, sizeof(st), "%s", thread_states[ti->state]);
	else
		snprintf(st, sizeof(st), "UNKNOWN STATE %llu",
			 (unsigned long long)ti->state);
	kd_out(k->s,
	       "%sTHREAD %s  Cid %04llx.%04llx  Teb: %s Win32Thread: %s %s\n",
	       ind, fmt_hex(a, ti->addr), (unsigned long long)ti->pid,
	       (unsigned long long)ti->tid, fmt_hex(b, ti->teb),
	       fmt_hex(c, ti->win32), st);
}

static int print_wait_objects(struct kd_kobj *k, const char *ind, uint64_t t)
{
	uint64_t wb = 0, size = 0, obj = 0, type = 0, count = 1, i;
	char a[18];
	int rc = kd_kobj__read(k, t, "_KTHREAD", "WaitBlockList", &wb);

	if (rc == KD_OK)
		rc = kd_kobj__type_size(k, "_KWAIT_BLOCK", &size);
	if (rc < 0)
		return rc;
	if (kd_kobj__has(k, "_KTHREAD", "WaitBlockCount") &&
	    kd_kobj__read(k, t, "_KTHREAD", "WaitBlockCount", &count) < 0)
		return KD_EFAULT;
	for (i = 0; wb && i < count && i < 64; i++) {
		rc = kd_kobj__read(k, wb + i * size, "_KWAIT_BLOCK", "Object",
				   &obj);
		if (rc == KD_OK)
			rc = kd_kobj__read(k, obj, "_DISPATCHER_HEADER", "Type",
					   &type);
		if (rc < 0)
			return rc;
		kd_out(k->s, "%s    %s  %s\n", ind, fmt_hex(a, obj),
		       type < KD_ARRAY_SIZE(object_types) ? object_types[type] :
							    "Unknown");
	}
	return KD_OK;
}

struct irp_ctx {
	struct kd_kobj *k;
	const char *ind;
	bool any;
};

static int irp_line(void *vctx, uint64_t irp)
{
	struct irp_ctx *c = vctx;
	uint64_t type = 0, size = 0, flags = 0, mdl = 0;
	char a[18];
	int rc = kd_kobj__read(c->k, irp, "_IRP", "Type", &type);

	if (rc == KD_OK)
		rc = kd_kobj__read(c->k, irp, "_IRP", "Size", &size);
	if (rc == KD_OK)
		rc = kd_kobj__read(c->k, irp, "_IRP", "Flags", &flags);
	if (rc == KD_OK)
		rc = kd_kobj__read(c->k, irp, "_IRP", "MdlAddress", &mdl);
	if (rc < 0)
		return rc;
	if (!c->any)
		kd_out(c->k->s, "%sIRP List:\n", c->ind);
	c->any = true;
	kd_out(c->k->s,
	       "%s    %s: (%04llx,%04llx) Flags: %08llx  Mdl: %08llx\n", c->ind,
	       fmt_hex(a, irp), (unsigned long long)(type & 0xffff),
	       (unsigned long long)(size & 0xffff), (unsigned long long)flags,
	       (unsigned long long)mdl);
	return 0;
}

/* The IRP list walk reads _ETHREAD.IrpList: a wrapper naming it. */
static int thread_irps(struct kd_kobj *k, uint64_t t, struct irp_ctx *ic)
{
	struct kd_kobj_field f;
	int rc = kd_kobj__field(k, "_ETHREAD", "IrpList", &f);

	if (rc < 0)
		return rc;
	return kd_kobj__list_walk(k, t + f.offset, "_IRP", "ThreadListEntry",
				  irp_line, ic);
}

/* One thread as !thread shows it; @p flags: 0x4 with 0x2 adds its stack. */
static int print_thread(struct kd_kobj *k, const char *ind, uint64_t t,
			unsigned int flags)
{
	struct thread_info ti;
	struct proc_info p = { 0 };
	struct irp_ctx ic = { k, ind, false };
	uint64_t apc = 0, wait = 0, ctxsw = 0, ideal = 0, ut = 0, kt = 0;
	uint64_t start = 0, init = 0, cur = 0, base = 0, lim = 0;
	uint64_t prio = 0, bprio = 0, unusual = 0, fg = 0;
	char a[18], b[18], t1[24], t2[24], sym[200];
	int rc = read_thread_head(k, t, &ti);

	if (rc == KD_OK)
		rc = read_process(k, ti.process, &p);
	if (rc == KD_OK)
		rc = kd_kobj__read(k, t, "_KTHREAD", "ApcState.Process", &apc);
	if (rc == KD_OK)
		rc = kd_kobj__read(k, t, "_KTHREAD", "WaitTime", &wait);
	if (rc == KD_OK)
		rc = kd_kobj__read(k, t, "_KTHREAD", "ContextSwitches", &ctxsw);
	if (rc == KD_OK)
		rc = kd_kobj__read(k, t, "_KTHREAD", "IdealProcessor", &ideal);
	if (rc == KD_OK)
		rc = kd_kobj__read(k, t, "_KTHREAD", "UserTime", &ut);
	if (rc == KD_OK)
		rc = kd_kobj__read(k, t, "_KTHREAD", "KernelTime", &kt);
	if (rc == KD_OK)
		rc = kd_kobj__read(k, t, "_ETHREAD", "Win32StartAddress",
				   &start);
	if (rc == KD_OK)
		rc = kd_kobj__read(k, t, "_KTHREAD", "InitialStack", &init);
	if (rc == KD_OK)
		rc = kd_kobj__read(k, t, "_KTHREAD", "KernelStack", &cur);
	if (rc == KD_OK)
		rc = kd_kobj__read(k, t, "_KTHREAD", "StackBase", &base);
	if (rc == KD_OK)
		rc = kd_kobj__read(k, t, "_KTHREAD", "StackLimit", &lim);
	if (rc == KD_OK)
		rc = kd_kobj__read(k, t, "_KTHREAD", "Priority", &prio);
	if (rc == KD_OK)
		rc = kd_kobj__read(k, t, "_KTHREAD", "BasePriority", &bprio);
	if (rc == KD_OK)
		rc = kd_kobj__read(k, t, "_KTHREAD", "UnusualBoost", &unusual);
	if (rc == KD_OK)
		rc = kd_kobj__read(k, t, "_KTHREAD", "ForegroundBoost", &fg);
	if (rc < 0)
		return rc;
	thread_line(k, ind, &ti);
	if (ti.state == 5) {
		rc = print_wait_objects(k, ind, t);
		if (rc < 0)
			return rc;
	}
	rc = thread_irps(k, t, &ic);
	if (rc < 0)
		return rc;
	kd_out(k->s, "%sNot impersonating\n", ind);
	kd_out(k->s, "%sDeviceMap                 %s\n", ind,
	       fmt_hex(a, p.devmap));
	kd_out(k->s, "%sOwning Process            %s       Image:         %s\n",
	       ind, fmt_hex(a, ti.process), p.image);
	if (apc && apc != ti.process) {
		struct proc_info ap;

		rc = read_process(k, apc, &ap);
		if (rc < 0)
			return rc;
		kd_out(k->s,
		       "%sAttached Process          %s       Image:         "
		       "%s\n",
		       ind, fmt_hex(b, apc), ap.image);
	} else {
		kd_out(k->s,
		       "%sAttached Process          N/A            Image:    "
		       "     N/A\n",
		       ind);
	}
	kd_out(k->s, "%sWait Start TickCount      %llu\n", ind,
	       (unsigned long long)wait);
	kd_out(k->s,
	       "%sContext Switch Count      %-15lluIdealProcessor: %llu"
	       "             \n",
	       ind, (unsigned long long)ctxsw, (unsigned long long)ideal);
	fmt_ticks(k, ut, t1, sizeof(t1));
	fmt_ticks(k, kt, t2, sizeof(t2));
	kd_out(k->s, "%sUserTime                  %s\n", ind, t1);
	kd_out(k->s, "%sKernelTime                %s\n", ind, t2);
	if (start && kd_sym_format(k->s, start, sym, sizeof(sym)) == KD_OK)
		kd_out(k->s, "%sWin32 Start Address %s (0x%s)\n", ind, sym,
		       fmt_hex(a, start));
	else
		kd_out(k->s, "%sWin32 Start Address 0x%s\n", ind,
		       fmt_hex(a, start));
	kd_out(k->s, "%sStack Init %llx Current %llx\n", ind,
	       (unsigned long long)init, (unsigned long long)cur);
	kd_out(k->s, "%sBase %llx Limit %llx Call 0\n", ind,
	       (unsigned long long)base, (unsigned long long)lim);
	kd_out(k->s,
	       "%sPriority %lld BasePriority %lld UnusualBoost %lld "
	       "ForegroundBoost %lld\n",
	       ind, (long long)prio, (long long)bprio, (long long)unusual,
	       (long long)fg);
	/* A waiting thread's stack would start from its saved switch
	 * frame, which kdsim's threads never had: only running threads
	 * show one, from their processor's context. */
	if ((flags & 0x6) == 0x6 && ti.cpu >= 0)
		print_stack(k, ind, ti.cpu);
	return KD_OK;
}

static int thread_cb(void *vctx, uint64_t t)
{
	struct kobj_ctx *c = vctx;
	struct thread_info ti;
	int rc;

	if (!(c->flags & 0x2)) {
		rc = read_thread_head(&c->k, t, &ti);
		if (rc < 0)
			return rc;
		thread_line(&c->k, "        ", &ti);
		return 0;
	}
	rc = print_thread(&c->k, "        ", t, c->flags);
	if (rc < 0)
		return rc;
	kd_out(c->k.s, "\n");
	return 0;
}

static int print_process(struct kobj_ctx *c, const struct proc_info *p)
{
	struct kd_kobj *k = &c->k;
	struct kd_kobj_field f;
	char a[18], sid[24];
	uint64_t v;
	int rc;

	if (p->session) {
		rc = kd_kobj__read(k, p->session, "_MM_SESSION_SPACE",
				   "SessionId", &v);
		if (rc < 0)
			return rc;
		snprintf(sid, sizeof(sid), "%llu", (unsigned long long)v);
	} else {
		snprintf(sid, sizeof(sid), "none");
	}
	kd_out(k->s, "PROCESS %s\n", fmt_hex(a, p->addr));
	kd_out(k->s,
	       "    SessionId: %s  Cid: %04llx    Peb: %08llx  ParentCid: %04llx\n",
	       sid, (unsigned long long)p->pid, (unsigned long long)p->peb,
	       (unsigned long long)p->parent);
	if (kd_kobj__has(k, "_HANDLE_TABLE", "HandleCount") && p->table) {
		rc = kd_kobj__read(k, p->table, "_HANDLE_TABLE", "HandleCount",
				   &v);
		if (rc < 0)
			return rc;
		kd_out(k->s,
		       "    DirBase: %08llx  ObjectTable: %s  HandleCount: "
		       "%llu.\n",
		       (unsigned long long)p->dirbase, fmt_hex(a, p->table),
		       (unsigned long long)v);
	} else {
		kd_out(k->s,
		       "    DirBase: %08llx  ObjectTable: %s  HandleCount: "
		       "<Data Not Accessible>\n",
		       (unsigned long long)p->dirbase, fmt_hex(a, p->table));
	}
	kd_out(k->s, "    Image: %s\n", p->image);
	if (c->flags & 0x1) {
		uint64_t token = 0, ct = 0, ut = 0, kt = 0, bp = 0;
		char t1[24], t2[24];

		rc = kd_kobj__read(k, p->addr, "_EPROCESS", "Token.Value",
				   &token);
		if (rc == KD_OK)
			rc = kd_kobj__read(k, p->addr, "_EPROCESS",
					   "CreateTime", &ct);
		if (rc == KD_OK)
			rc = kd_kobj__read(k, p->addr, "_EPROCESS",
					   "Pcb.UserTime", &ut);
		if (rc == KD_OK)
			rc = kd_kobj__read(k, p->addr, "_EPROCESS",
					   "Pcb.KernelTime", &kt);
		if (rc == KD_OK)
			rc = kd_kobj__read(k, p->addr, "_EPROCESS",
					   "Pcb.BasePriority", &bp);
		if (rc < 0)
			return rc;
		fmt_ticks(k, ut, t1, sizeof(t1));
		fmt_ticks(k, kt, t2, sizeof(t2));
		kd_out(k->s, "    DeviceMap %s\n", fmt_hex(a, p->devmap));
		kd_out(k->s, "    Token                             %s\n",
		       fmt_hex(a, token & ~0xfull));
		/* No creation time kept: WinDbg's answer for a zero one. */
		kd_out(k->s, "    ElapsedTime                       %s\n",
		       ct ? "<Not available>" : "<Invalid>");
		kd_out(k->s, "    UserTime                          %s\n", t1);
		kd_out(k->s, "    KernelTime                        %s\n", t2);
		kd_out(k->s, "    BasePriority                      %lld\n",
		       (long long)bp);
	}
	kd_out(k->s, "\n");
	if (c->flags & 0x6) {
		rc = kd_kobj__field(k, "_EPROCESS", "ThreadListHead", &f);
		if (rc == KD_OK)
			rc = kd_kobj__list_walk(k, p->addr + f.offset,
						"_ETHREAD", "ThreadListEntry",
						thread_cb, c);
		if (rc < 0)
			return rc;
		if (!(c->flags & 0x2))
			kd_out(k->s, "\n");
	}
	return KD_OK;
}

/* ImageFileName compares without case, as WinDbg's does. */
static bool image_is(const char *image, const char *want, size_t len)
{
	size_t i;

	if (strlen(image) != len)
		return false;
	for (i = 0; i < len; i++)
		if (tolower((unsigned char)image[i]) !=
		    tolower((unsigned char)want[i]))
			return false;
	return true;
}

static int process_cb(void *vctx, uint64_t e)
{
	struct kobj_ctx *c = vctx;
	struct proc_info p;
	int rc = read_process(&c->k, e, &p);

	if (rc < 0)
		return rc;
	if (c->want_pid) {
		if (p.pid == c->want_pid) {
			c->found = e;
			return 1;
		}
		return 0;
	}
	if (c->image && !image_is(p.image, c->image, c->image_len))
		return 0;
	c->any = true;
	return print_process(c, &p);
}

static int process_list(struct kobj_ctx *c, const char *what)
{
	uint64_t head;

	if (kd_sym_lookup(c->k.s, "nt!PsActiveProcessHead", &head) != KD_OK) {
		snprintf(c->k.err, sizeof(c->k.err),
			 "nt!PsActiveProcessHead not found");
		return KD_ENOTFOUND;
	}
	(void)what;
	return kd_kobj__list_walk(&c->k, head, "_EPROCESS",
				  "ActiveProcessLinks", process_cb, c);
}

/* The current thread (@$thread) and its process (ApcState.Process). */
static int current_thread(struct kd_kobj *k, uint64_t *t)
{
	const char *end;

	if (kd_expr_eval(k->s, "@$thread", &end, t) != KD_OK || !*t) {
		snprintf(k->err, sizeof(k->err),
			 "the current thread is not known");
		return KD_ENOTFOUND;
	}
	return KD_OK;
}

static int cmd_process(struct kd_session *s, struct kd_cmdctx *cc)
{
	struct kobj_ctx c;
	struct kd_args a;
	uint64_t what = 0, flags = 3;
	bool have_what = false, have_flags = false, all = false;
	struct proc_info p;
	int rc;

	memset(&c, 0, sizeof(c));
	kd_args_init(&a, s, cc);
	kd_args_skip(&a);
	if (kd_args_peek(&a) == '/')
		return kd_fail(s, KD_ENOTSUP,
			       "!process: /s and /m are not supported");
	if (!kd_args_at_end(&a)) {
		rc = kd_args_take_expr(&a, &what);
		if (rc < 0)
			return rc;
		have_what = true;
		kd_args_skip(&a);
	}
	if (have_what && !kd_args_at_end(&a)) {
		rc = kd_args_take_expr(&a, &flags);
		if (rc < 0)
			return rc;
		have_flags = true;
		kd_args_skip(&a);
	}
	if (have_flags && what == 0 && !kd_args_at_end(&a)) {
		if (!kd_args_take_word(&a, &c.image, &c.image_len))
			return kd_args_error(&a);
	}
	rc = kd_args_end(&a);
	if (rc < 0)
		return rc;
	all = have_what && what == 0;
	if (have_what && !all && !have_flags)
		flags = 0xF;
	c.flags = (unsigned int)flags;
	rc = kd_kobj__open(&c.k, s);
	if (rc < 0)
		return kd_kobj__fail(&c.k, "!process", rc);
	if (all) {
		kd_out(s, "**** NT ACTIVE PROCESS DUMP ****\n");
		rc = process_list(&c, "!process");
		if (rc < 0)
			return kd_kobj__fail(&c.k, "!process", rc);
		if (c.image && !c.any)
			return kd_fail(s, KD_ENOTFOUND,
				       "!process: no process named %.*s",
				       (int)c.image_len, c.image);
		return KD_OK;
	}
	if (!have_what || what == (uint64_t)-1 ||
	    (!kd_is_ptr64(s) && what == 0xffffffffu)) {
		uint64_t t;

		rc = current_thread(&c.k, &t);
		if (rc == KD_OK)
			rc = kd_kobj__read(&c.k, t, "_KTHREAD",
					   "ApcState.Process", &what);
	} else if (what < (kd_is_ptr64(s) ? 0x100000000ull : 0x80000000ull)) {
		/* A process id: find it on the active list. */
		c.want_pid = what;
		rc = process_list(&c, "!process");
		if (rc >= 0 && !c.found)
			return kd_fail(s, KD_ENOTFOUND,
				       "!process: no process with Cid %llx",
				       (unsigned long long)what);
		what = c.found;
		c.want_pid = 0;
	}
	if (rc >= 0)
		rc = read_process(&c.k, what, &p);
	if (rc >= 0)
		rc = print_process(&c, &p);
	if (rc < 0)
		return kd_kobj__fail(&c.k, "!process", rc);
	return KD_OK;
}

static int cmd_thread(struct kd_session *s, struct kd_cmdctx *cc)
{
	struct kd_kobj k;
	struct kd_args a;
	uint64_t t = 0, flags = 6;
	bool have = false;
	int rc;

	kd_args_init(&a, s, cc);
	kd_args_skip(&a);
	if (kd_args_peek(&a) == '-')
		return kd_fail(s, KD_ENOTSUP,
			       "!thread: -p and -t are not supported");
	if (!kd_args_at_end(&a)) {
		rc = kd_args_take_expr(&a, &t);
		if (rc < 0)
			return rc;
		have = true;
		kd_args_skip(&a);
		if (!kd_args_at_end(&a)) {
			rc = kd_args_take_expr(&a, &flags);
			if (rc < 0)
				return rc;
		}
	}
	rc = kd_args_end(&a);
	if (rc < 0)
		return rc;
	rc = kd_kobj__open(&k, s);
	if (rc == KD_OK && (!have || t == (uint64_t)-1))
		rc = current_thread(&k, &t);
	if (rc == KD_OK)
		rc = print_thread(&k, "", t, (unsigned int)flags);
	if (rc < 0)
		return kd_kobj__fail(&k, "!thread", rc);
	return KD_OK;
}

const struct kd_command kd_cmds_kobj[] = {
	{ "!process", cmd_process, KD_CMDF_STOPPED,
	  "!process [0 Flags [Image] | Process [Flags] | -1]: processes" },
	{ "!thread", cmd_thread, KD_CMDF_STOPPED,
	  "!thread [Thread [Flags]]: a thread (default: the current one)" },
	{ NULL, NULL, 0, NULL },
};
