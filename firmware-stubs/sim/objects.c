/* SPDX-License-Identifier: MIT */
/*
 * The kernel objects kdsim lays out at boot, in the layouts of
 * kernel/ntstructs.h (the same header the synthetic kernel is built with,
 * so its PDB describes every one of them).  Offsets are offsetof() of
 * that header, never numbers of our own.
 *
 * What a debugger finds, and from where (all are kernel exports):
 *
 *  - Processes, through PsActiveProcessHead (EPROCESS.ActiveProcessLinks)
 *    and PsInitialSystemProcess:
 *      Cid  Image         Parent  Threads  DirBase        Peb
 *      4    System        0       1 a CPU  the boot PML4  none
 *      88   Registry      4       1        its own PML4   none
 *      364  smss.exe      4       1        its own PML4   mapped page
 *      480  csrss.exe     364     2        its own PML4   mapped page
 *      556  wininit.exe   364     1        its own PML4   mapped page
 *      4660 kdsimapp.exe  556     2        its own PML4   mapped page
 *    A process's own PML4 shares the kernel half of the boot one (kdsim
 *    runs every processor on the boot PML4; the others translate kernel
 *    addresses the same way, plus the process's PEB and TEB pages).
 *    Each has a HANDLE_TABLE (EPROCESS.ObjectTable, on the exported
 *    HandleTableListHead) whose level-0 table page holds no handles.
 *  - Threads, on both thread lists of their process (KPROCESS and
 *    EPROCESS.ThreadListHead): System's are the processors' threads
 *    (KPRCB.CurrentThread, State Running, Cid 4.8, 4.c, ...); the others
 *    wait (State Waiting, KTHREAD.WaitBlockList -> WaitBlock[0] -> a
 *    KEVENT of their process), each with a kernel stack of its own, user
 *    threads with a mapped TEB.  Thread ids: process id + 4, + 8...
 *  - Processors, through KiProcessorBlock: KPCR (Self, CurrentPrcb,
 *    IdtBase, GdtBase, TssBase, Irql 0, Major/MinorVersion 1) + KPRCB.
 *  - The IDT (KPCR.IdtBase): the vectors of the exported
 *    KiInterruptInitTable, each pointing at its nt!Ki... handler.
 *  - The object namespace, through ObpRootDirectoryObject: \ObjectTypes
 *    (the type objects), \Driver (PnpManager, kdsimflt), \Device
 *    (KdsimBus0).  Object types through ObTypeIndexTable (and
 *    PsProcessType, PsThreadType, IoDriverObjectType, IoDeviceObjectType,
 *    ObpDirectoryObjectType); OBJECT_HEADER.TypeIndex is not encoded.
 *    A named object's OBJECT_HEADER_NAME_INFO is just before its header.
 *  - Drivers: \Driver\PnpManager (DriverStart = nt, dispatch
 *    nt!PnpDispatch) owns the function device \Device\KdsimBus0;
 *    \Driver\kdsimflt (built into nt too, dispatch nt!KdsimFilterDispatch)
 *    owns an unnamed filter device attached over it
 *    (DEVICE_OBJECT.AttachedDevice, DEVOBJ_EXTENSION.AttachedTo).  Other
 *    MajorFunction entries are nt!IopInvalidDeviceRequest.
 *  - One pending IRP_MJ_READ with 2 stack locations: KdsimBus0's
 *    CurrentIrp (its DeviceQueue busy), location 1 current (the function
 *    device's), location 2 the filter's with its completion routine; on
 *    the first kdsimapp.exe thread's IrpList (IRP.Tail.Overlay.Thread).
 *  - Pool: every object above (and its names, handle table, events) is a
 *    block of kdsim's nonpaged pool pages behind a POOL_HEADER with a
 *    tag (Proc, Thre, Driv, Devi, Irp , Dire, ObjT, ObNm, ObDi, Obtb,
 *    Even); blocks follow each other in a page with PreviousSize and
 *    BlockSize in 16-byte units and the rest of a page is a free block.
 */
#include "sim_int.h"

#include <stdio.h>
#include <string.h>

#include <kd/proto/wire.h>

#include "ntstructs.h"
#include "simabi.h"

#define OFF(t, f) ((uint64_t)offsetof(struct t, f))
#define POOL_UNIT 16u
#define NONPAGED_POOL_TYPE 1 /* NonPagedPool + 1: allocated */
#define STATUS_PENDING 0x00000103
#define IRP_MJ_READ 0x03
#define IRP_MJ_DEVICE_CONTROL 0x0e
#define IRP_MJ_PNP 0x1b
#define SL_PENDING_RETURNED 0x01
#define SL_INVOKE_ON_ALL 0xe0 /* success, error, cancel */
#define THREAD_STACK_SIZE (2 * SIM_PAGE)
#define USER_PEB_BASE 0x0000003000000000ull

/* Object type indexes (ObTypeIndexTable). */
enum {
	TI_TYPE = 2,
	TI_DIRECTORY,
	TI_PROCESS,
	TI_THREAD,
	TI_DRIVER,
	TI_DEVICE,
	TI_COUNT
};

static const struct {
	const char *name;
	const char *tag;
	const char *export;
} obj_types[TI_COUNT] = {
	[TI_TYPE] = { "Type", "ObjT", NULL },
	[TI_DIRECTORY] = { "Directory", "Dire", "ObpDirectoryObjectType" },
	[TI_PROCESS] = { "Process", "Proc", "PsProcessType" },
	[TI_THREAD] = { "Thread", "Thre", "PsThreadType" },
	[TI_DRIVER] = { "Driver", "Driv", "IoDriverObjectType" },
	[TI_DEVICE] = { "Device", "Devi", "IoDeviceObjectType" },
};

static const struct {
	uint32_t pid, parent;
	const char *name;
	unsigned int threads; /* waiting threads; System's are the CPUs' */
	bool user;	      /* a PEB and TEBs */
	int8_t priority;
	uint8_t wait_reason; /* _KWAIT_REASON */
} procs[] = {
	{ 4, 0, "System", 0, false, 8, 0 },
	{ 88, 4, "Registry", 1, false, 8, 15 /* WrQueue */ },
	{ 364, 4, "smss.exe", 1, true, 11, 6 /* UserRequest */ },
	{ 480, 364, "csrss.exe", 2, true, 13, 6 },
	{ 556, 364, "wininit.exe", 1, true, 13, 6 },
	{ 4660, 556, "kdsimapp.exe", 2, true, 8, 6 },
};

static uint32_t tag_of(const char *t)
{
	return (uint32_t)(uint8_t)t[0] | (uint32_t)(uint8_t)t[1] << 8 |
	       (uint32_t)(uint8_t)t[2] << 16 | (uint32_t)(uint8_t)t[3] << 24;
}

static void pool_header(struct kdsim *m, uint64_t at, unsigned int prev,
			unsigned int units, unsigned int type, uint32_t tag)
{
	sim_vput32(m, at, prev | 0u << 8 | units << 16 | type << 24);
	sim_vput32(m, at + OFF(_POOL_HEADER, PoolTag), tag);
	sim_vput64(m, at + OFF(_POOL_HEADER, ProcessBilled), 0);
}

/* Close the current pool page: the rest of it is one free block. */
static void pool_close_page(struct kdsim *m)
{
	struct sim_objpool *p = &m->opool;
	uint64_t rest = SIM_PAGE - p->off;

	if (p->page && rest >= POOL_UNIT)
		pool_header(m, p->page + p->off, p->prev,
			    (unsigned int)(rest / POOL_UNIT), 0, 0);
	p->page = 0;
}

/*
 * @size bytes of tagged nonpaged pool: a POOL_HEADER, then the block.
 * Small-pool blocks never cross a page, as in Windows' pool.
 */
uint64_t sim_pool_alloc_tagged(struct kdsim *m, uint64_t size, const char *tag)
{
	struct sim_objpool *p = &m->opool;
	uint64_t units = (sizeof(struct _POOL_HEADER) + size + POOL_UNIT - 1) /
			 POOL_UNIT;
	uint64_t at;

	if (units * POOL_UNIT > SIM_PAGE - POOL_UNIT)
		return 0;
	if (!p->page || p->off + units * POOL_UNIT > SIM_PAGE) {
		pool_close_page(m);
		p->page = sim_pool_alloc(m, SIM_PAGE, SIM_PAGE);
		p->off = 0;
		p->prev = 0;
		if (!p->page)
			return 0;
	}
	at = p->page + p->off;
	pool_header(m, at, p->prev, (unsigned int)units, NONPAGED_POOL_TYPE,
		    tag_of(tag));
	p->off += units * POOL_UNIT;
	p->prev = (unsigned int)units;
	return at + sizeof(struct _POOL_HEADER);
}

/* A UNICODE_STRING at @us whose buffer is an "ObNm" pool block. */
static void put_name(struct kdsim *m, uint64_t us, const char *s)
{
	size_t n = strlen(s), i;
	uint64_t buf = sim_pool_alloc_tagged(m, (n + 1) * 2, "ObNm");

	for (i = 0; buf && i <= n; i++)
		sim_vput16(m, buf + i * 2, (uint8_t)s[i]);
	sim_vput16(m, us + OFF(_UNICODE_STRING, Length), (uint16_t)(n * 2));
	sim_vput16(m, us + OFF(_UNICODE_STRING, MaximumLength),
		   (uint16_t)(n * 2 + 2));
	sim_vput64(m, us + OFF(_UNICODE_STRING, Buffer), buf);
}

/* Windows' object-directory hash of a name, case-insensitively. */
static uint32_t name_hash(const char *s)
{
	uint32_t h = 0;

	for (; *s; s++) {
		uint32_t c = (uint8_t)*s;

		if (c >= 'a' && c <= 'z')
			c -= 'a' - 'A';
		h += (h << 1) + (h >> 1) + c;
	}
	return h;
}

static void dir_insert(struct kdsim *m, uint64_t dir, uint64_t obj,
		       const char *name)
{
	uint32_t h = name_hash(name);
	uint64_t bucket = dir + OFF(_OBJECT_DIRECTORY, HashBuckets) +
			  (h % NT_OB_HASH_BUCKETS) * 8ull;
	uint64_t e = sim_pool_alloc_tagged(
		m, sizeof(struct _OBJECT_DIRECTORY_ENTRY), "ObDi");
	uint8_t b[8];
	uint32_t done;

	if (!e)
		return;
	(void)sim_read_virtual(m, bucket, b, 8, &done);
	sim_vput64(m, e + OFF(_OBJECT_DIRECTORY_ENTRY, ChainLink),
		   kd_get_le64(b));
	sim_vput64(m, e + OFF(_OBJECT_DIRECTORY_ENTRY, Object), obj);
	sim_vput32(m, e + OFF(_OBJECT_DIRECTORY_ENTRY, HashValue), h);
	sim_vput64(m, bucket, e);
}

/*
 * An object of type @ti with a @body_size body: [POOL_HEADER]
 * [OBJECT_HEADER_NAME_INFO when named][OBJECT_HEADER][body].  Named
 * objects go into directory @dir.  Returns the body's address.
 */
static uint64_t ob_create(struct kdsim *m, unsigned int ti, uint64_t body_size,
			  const char *name, uint64_t dir)
{
	uint64_t ni = name ? sizeof(struct _OBJECT_HEADER_NAME_INFO) : 0;
	uint64_t hdr_size = OFF(_OBJECT_HEADER, Body);
	uint64_t blk = sim_pool_alloc_tagged(m, ni + hdr_size + body_size,
					     obj_types[ti].tag);
	uint64_t hdr, body;

	if (!blk)
		return 0;
	hdr = blk + ni;
	body = hdr + hdr_size;
	sim_vput64(m, hdr + OFF(_OBJECT_HEADER, PointerCount), 1);
	sim_vput64(m, hdr + OFF(_OBJECT_HEADER, HandleCount), 0);
	sim_vputs(m, hdr + OFF(_OBJECT_HEADER, TypeIndex), &(uint8_t){ ti }, 1);
	if (name) {
		uint8_t mask = NT_OB_INFO_NAME;

		sim_vputs(m, hdr + OFF(_OBJECT_HEADER, InfoMask), &mask, 1);
		sim_vput64(m, blk + OFF(_OBJECT_HEADER_NAME_INFO, Directory),
			   dir);
		put_name(m, blk + OFF(_OBJECT_HEADER_NAME_INFO, Name), name);
		if (dir)
			dir_insert(m, dir, body, name);
	}
	if (m->obtypes[ti]) {
		uint64_t t = m->obtypes[ti];
		uint8_t b[4];
		uint32_t done;

		(void)sim_read_virtual(
			m, t + OFF(_OBJECT_TYPE, TotalNumberOfObjects), b, 4,
			&done);
		sim_vput32(m, t + OFF(_OBJECT_TYPE, TotalNumberOfObjects),
			   kd_get_le32(b) + 1);
		sim_vput32(m, t + OFF(_OBJECT_TYPE, HighWaterNumberOfObjects),
			   kd_get_le32(b) + 1);
	}
	return body;
}

static int need(uint64_t v, const char *what)
{
	if (v)
		return KD_OK;
	fprintf(stderr, "kdsim: cannot lay out %s (kernel export or pool)\n",
		what);
	return KD_ENOMEM;
}

static int build_namespace(struct kdsim *m)
{
	uint64_t tbl = kdsim_kernel_export(m, "ObTypeIndexTable");
	uint64_t root_var = kdsim_kernel_export(m, "ObpRootDirectoryObject");
	uint64_t types_dir;
	unsigned int i;
	int rc = need(tbl, "ObTypeIndexTable");

	if (rc == KD_OK)
		rc = need(root_var, "ObpRootDirectoryObject");
	if (rc < 0)
		return rc;
	memset(m->obtypes, 0, sizeof(m->obtypes));
	/* The type objects first (unnamed until \ObjectTypes exists). */
	for (i = TI_TYPE; i < TI_COUNT; i++) {
		uint64_t t = ob_create(m, TI_TYPE, sizeof(struct _OBJECT_TYPE),
				       NULL, 0);

		if ((rc = need(t, "an object type")) < 0)
			return rc;
		m->obtypes[i] = t;
		sim_list_init(m, t + OFF(_OBJECT_TYPE, TypeList));
		put_name(m, t + OFF(_OBJECT_TYPE, Name), obj_types[i].name);
		sim_vputs(m, t + OFF(_OBJECT_TYPE, Index), &(uint8_t){ i }, 1);
		sim_vput32(m, t + OFF(_OBJECT_TYPE, Key),
			   tag_of(obj_types[i].tag));
		sim_vput64(m, tbl + i * 8ull, t);
		if (obj_types[i].export) {
			uint64_t v = kdsim_kernel_export(m,
							 obj_types[i].export);

			if ((rc = need(v, obj_types[i].export)) < 0)
				return rc;
			sim_vput64(m, v, t);
		}
	}
	/* The type objects counted themselves before "Type" existed. */
	sim_vput32(m,
		   m->obtypes[TI_TYPE] +
			   OFF(_OBJECT_TYPE, TotalNumberOfObjects),
		   TI_COUNT - TI_TYPE);
	m->root_dir = ob_create(m, TI_DIRECTORY,
				sizeof(struct _OBJECT_DIRECTORY), NULL, 0);
	types_dir = ob_create(m, TI_DIRECTORY, sizeof(struct _OBJECT_DIRECTORY),
			      "ObjectTypes", m->root_dir);
	m->driver_dir = ob_create(m, TI_DIRECTORY,
				  sizeof(struct _OBJECT_DIRECTORY), "Driver",
				  m->root_dir);
	m->device_dir = ob_create(m, TI_DIRECTORY,
				  sizeof(struct _OBJECT_DIRECTORY), "Device",
				  m->root_dir);
	if ((rc = need(m->root_dir && types_dir && m->driver_dir &&
			       m->device_dir,
		       "the object directories")) < 0)
		return rc;
	sim_vput64(m, root_var, m->root_dir);
	/* Name the types now: a name-info header cannot be added later, so
	 * \ObjectTypes lists them through its entries only. */
	for (i = TI_TYPE; i < TI_COUNT; i++)
		dir_insert(m, types_dir, m->obtypes[i], obj_types[i].name);
	return KD_OK;
}

/* A thread's common fields; @stack_top is its kernel stack's top. */
static void thread_init(struct kdsim *m, uint64_t t, uint64_t proc,
			uint32_t pid, uint32_t tid, uint64_t stack,
			uint64_t stack_top, int8_t priority)
{
	uint8_t type = NT_THREAD_OBJECT;

	sim_vputs(m, t + OFF(_KTHREAD, Header.Type), &type, 1);
	sim_list_init(m, t + OFF(_KTHREAD, Header.WaitListHead));
	sim_list_init(m, t + OFF(_KTHREAD, ApcState.ApcListHead[0]));
	sim_list_init(m, t + OFF(_KTHREAD, ApcState.ApcListHead[1]));
	sim_list_init(m, t + OFF(_ETHREAD, IrpList));
	sim_vput64(m, t + OFF(_KTHREAD, InitialStack), stack_top);
	sim_vput64(m, t + OFF(_KTHREAD, StackLimit), stack);
	sim_vput64(m, t + OFF(_KTHREAD, StackBase), stack_top);
	sim_vput64(m, t + OFF(_KTHREAD, Process), proc);
	sim_vput64(m, t + OFF(_KTHREAD, ApcState.Process), proc);
	sim_vputs(m, t + OFF(_KTHREAD, Priority), &priority, 1);
	sim_vputs(m, t + OFF(_KTHREAD, BasePriority), &priority, 1);
	sim_vput64(m, t + OFF(_ETHREAD, Cid.UniqueProcess), pid);
	sim_vput64(m, t + OFF(_ETHREAD, Cid.UniqueThread), tid);
	/* On both thread lists, as PspInsertThread puts a thread. */
	sim_list_insert_tail(m, proc + OFF(_KPROCESS, ThreadListHead),
			     t + OFF(_KTHREAD, ThreadListEntry));
	sim_list_insert_tail(m, proc + OFF(_EPROCESS, ThreadListHead),
			     t + OFF(_ETHREAD, ThreadListEntry));
}

static void add_active_thread(struct kdsim *m, uint64_t proc)
{
	uint8_t b[4];
	uint32_t done;

	(void)sim_read_virtual(m, proc + OFF(_EPROCESS, ActiveThreads), b, 4,
			       &done);
	sim_vput32(m, proc + OFF(_EPROCESS, ActiveThreads), kd_get_le32(b) + 1);
}

/* A waiting thread @k of process @i, waiting on the process's event. */
static int waiting_thread(struct kdsim *m, unsigned int i, unsigned int k,
			  uint64_t event, uint64_t root, uint64_t *out)
{
	uint64_t proc = m->procs[i];
	uint64_t t = ob_create(m, TI_THREAD, sizeof(struct _ETHREAD), NULL, 0);
	uint64_t stack = sim_pool_alloc(m, THREAD_STACK_SIZE, SIM_PAGE);
	uint64_t wb = t + OFF(_KTHREAD, WaitBlock);
	uint64_t top = stack + THREAD_STACK_SIZE;
	uint8_t state = NT_THREAD_WAITING, mode = procs[i].user;
	uint8_t wait_any = 1, blocked = 2;
	int rc = need(t && stack, "a thread");

	if (rc < 0)
		return rc;
	thread_init(m, t, proc, procs[i].pid, procs[i].pid + 4 * (k + 1), stack,
		    top, procs[i].priority);
	/* The stack a switch would resume on: below the initial frame. */
	sim_vput64(m, t + OFF(_KTHREAD, KernelStack), top - 0x1d0);
	sim_vputs(m, t + OFF(_KTHREAD, State), &state, 1);
	sim_vputs(m, t + OFF(_KTHREAD, WaitReason), &procs[i].wait_reason, 1);
	sim_vputs(m, t + OFF(_KTHREAD, WaitMode), &mode, 1);
	sim_vput64(m, t + OFF(_KTHREAD, WaitBlockList), wb);
	sim_vput64(m, wb + OFF(_KWAIT_BLOCK, Thread), t);
	sim_vput64(m, wb + OFF(_KWAIT_BLOCK, Object), event);
	sim_vputs(m, wb + OFF(_KWAIT_BLOCK, WaitType), &wait_any, 1);
	sim_vputs(m, wb + OFF(_KWAIT_BLOCK, BlockState), &blocked, 1);
	sim_list_insert_tail(m, event + OFF(_DISPATCHER_HEADER, WaitListHead),
			     wb + OFF(_KWAIT_BLOCK, WaitListEntry));
	if (procs[i].user) {
		uint64_t teb = USER_PEB_BASE + ((uint64_t)procs[i].pid << 20) +
			       (k + 1) * SIM_PAGE;

		rc = sim_map_new_page(m, root, teb);
		if (rc < 0)
			return rc;
		sim_vput64(m, t + OFF(_KTHREAD, Teb), teb);
	}
	add_active_thread(m, proc);
	*out = t;
	return KD_OK;
}

static int build_process(struct kdsim *m, unsigned int i)
{
	uint64_t e = ob_create(m, TI_PROCESS, sizeof(struct _EPROCESS), NULL,
			       0);
	uint64_t ht = sim_pool_alloc_tagged(m, sizeof(struct _HANDLE_TABLE),
					    "Obtb");
	uint64_t table = sim_pool_alloc(m, SIM_PAGE, SIM_PAGE);
	uint64_t event = sim_pool_alloc_tagged(m, sizeof(struct _KEVENT),
					       "Even");
	uint64_t root = m->pml4;
	uint8_t type = NT_PROCESS_OBJECT, ev_type = NT_EVENT_NOTIFICATION;
	char name[15] = { 0 };
	unsigned int k;
	int rc = need(e && ht && table && event, "a process");

	if (rc < 0)
		return rc;
	m->procs[i] = e;
	sim_vputs(m, e + OFF(_KPROCESS, Header.Type), &type, 1);
	/* Empty lists are self-linked, never zero, as in Windows: a
	 * walker that follows its rules takes zero for corrupt. */
	sim_list_init(m, e + OFF(_KPROCESS, Header.WaitListHead));
	sim_list_init(m, e + OFF(_KPROCESS, ProfileListHead));
	sim_list_init(m, e + OFF(_KPROCESS, ThreadListHead));
	sim_list_init(m, e + OFF(_KPROCESS, ReadyListHead));
	sim_list_init(m, e + OFF(_EPROCESS, ThreadListHead));
	if (i > 0) {
		rc = sim_new_address_space(m, &root);
		if (rc < 0)
			return rc;
	}
	sim_vput64(m, e + OFF(_KPROCESS, DirectoryTableBase), root);
	sim_vputs(m, e + OFF(_KPROCESS, BasePriority), &procs[i].priority, 1);
	sim_vput64(m, e + OFF(_EPROCESS, UniqueProcessId), procs[i].pid);
	sim_vput64(m, e + OFF(_EPROCESS, InheritedFromUniqueProcessId),
		   procs[i].parent);
	strncpy(name, procs[i].name, sizeof(name) - 1);
	sim_vputs(m, e + OFF(_EPROCESS, ImageFileName), name, sizeof(name));
	if (procs[i].user) {
		uint64_t peb = USER_PEB_BASE + ((uint64_t)procs[i].pid << 20);

		rc = sim_map_new_page(m, root, peb);
		if (rc < 0)
			return rc;
		sim_vput64(m, e + OFF(_EPROCESS, Peb), peb);
	}
	/* The handle table: a level-0 table page with no handle in use. */
	sim_vput64(m, ht + OFF(_HANDLE_TABLE, TableCode), table);
	sim_vput64(m, ht + OFF(_HANDLE_TABLE, QuotaProcess), e);
	sim_vput32(m, ht + OFF(_HANDLE_TABLE, UniqueProcessId), procs[i].pid);
	sim_vput32(m, ht + OFF(_HANDLE_TABLE, NextHandleNeedingPool),
		   (uint32_t)(SIM_PAGE / 16 * 4));
	sim_list_insert_tail(m, m->handle_table_list,
			     ht + OFF(_HANDLE_TABLE, HandleTableList));
	sim_vput64(m, e + OFF(_EPROCESS, ObjectTable), ht);
	sim_vputs(m, event + OFF(_DISPATCHER_HEADER, Type), &ev_type, 1);
	sim_list_init(m, event + OFF(_DISPATCHER_HEADER, WaitListHead));
	sim_list_insert_tail(m, m->ps_active_process_head,
			     e + OFF(_EPROCESS, ActiveProcessLinks));
	for (k = 0; k < procs[i].threads; k++) {
		uint64_t t;

		rc = waiting_thread(m, i, k, event, root, &t);
		if (rc < 0)
			return rc;
		if (k == 0)
			m->first_thread[i] = t;
	}
	return KD_OK;
}

int sim_build_processes(struct kdsim *m)
{
	uint64_t sys_var = kdsim_kernel_export(m, "PsInitialSystemProcess");
	unsigned int i;
	int rc;

	KD_STATIC_ASSERT(KD_ARRAY_SIZE(procs) <= SIM_MAX_PROCS, "procs");
	memset(&m->opool, 0, sizeof(m->opool));
	m->handle_table_list = kdsim_kernel_export(m, "HandleTableListHead");
	rc = need(sys_var, "PsInitialSystemProcess");
	if (rc == KD_OK)
		rc = need(m->handle_table_list, "HandleTableListHead");
	if (rc == KD_OK)
		rc = build_namespace(m);
	if (rc < 0)
		return rc;
	sim_list_init(m, m->ps_active_process_head);
	sim_list_init(m, m->handle_table_list);
	for (i = 0; i < KD_ARRAY_SIZE(procs); i++) {
		rc = build_process(m, i);
		if (rc < 0)
			return rc;
	}
	sim_vput64(m, sys_var, m->procs[0]);
	return KD_OK;
}

/* The running thread of processor @cpu: one of System's. */
uint64_t sim_cpu_thread(struct kdsim *m, unsigned int cpu, uint64_t stack,
			uint64_t stack_top, uint64_t start)
{
	uint64_t t = ob_create(m, TI_THREAD, sizeof(struct _ETHREAD), NULL, 0);
	uint8_t state = NT_THREAD_RUNNING, running = 1;

	if (!t)
		return 0;
	thread_init(m, t, m->procs[0], procs[0].pid, 8 + 4 * cpu, stack,
		    stack_top, procs[0].priority);
	sim_vput64(m, t + OFF(_KTHREAD, KernelStack), stack_top - 0x28);
	sim_vputs(m, t + OFF(_KTHREAD, State), &state, 1);
	sim_vputs(m, t + OFF(_KTHREAD, Running), &running, 1);
	sim_vput32(m, t + OFF(_KTHREAD, NextProcessor), cpu);
	sim_vput32(m, t + OFF(_KTHREAD, IdealProcessor), cpu);
	sim_vput64(m, t + OFF(_ETHREAD, StartAddress), start);
	sim_vput64(m, t + OFF(_ETHREAD, Win32StartAddress), start);
	add_active_thread(m, m->procs[0]);
	return t;
}

/* A processor's KPCR and KPRCB (the thread is already made). */
void sim_build_pcr(struct kdsim *m, unsigned int cpu)
{
	struct sim_cpu *c = &m->cpu[cpu];
	uint64_t p = c->kpcr, b = c->kprcb;

	KD_STATIC_ASSERT(offsetof(struct _KPCR, Self) == SIMABI_KPCR_SELF,
			 "simabi.h");
	KD_STATIC_ASSERT(offsetof(struct _KPCR, CurrentPrcb) ==
				 SIMABI_KPCR_CURRENT_PRCB,
			 "simabi.h");
	KD_STATIC_ASSERT(offsetof(struct _KPCR, Prcb) == SIMABI_KPCR_PRCB,
			 "simabi.h");
	KD_STATIC_ASSERT(offsetof(struct _KPRCB, CurrentThread) ==
				 SIMABI_KPRCB_CURRENT_THREAD,
			 "simabi.h");
	KD_STATIC_ASSERT(offsetof(struct _KPRCB, Number) == SIMABI_KPRCB_NUMBER,
			 "simabi.h");
	KD_STATIC_ASSERT(offsetof(struct _KPRCB, SimWorkTicks) ==
				 SIMABI_KPRCB_TICKS,
			 "simabi.h");
	KD_STATIC_ASSERT(sizeof(struct _KPCR) <= 2 * SIM_PAGE, "simabi.h");
	sim_vput64(m, p + OFF(_KPCR, GdtBase), m->gdt);
	sim_vput64(m, p + OFF(_KPCR, TssBase), m->tss);
	sim_vput64(m, p + OFF(_KPCR, Self), p);
	sim_vput64(m, p + OFF(_KPCR, CurrentPrcb), b);
	sim_vput64(m, p + OFF(_KPCR, IdtBase), m->idt);
	sim_vput16(m, p + OFF(_KPCR, MajorVersion), 1);
	sim_vput16(m, p + OFF(_KPCR, MinorVersion), 1);
	sim_vputs(m, p + OFF(_KPCR, ObsoleteNumber), &(uint8_t){ cpu }, 1);
	sim_vput64(m, p + OFF(_KPCR, KdVersionBlock), 0);
	sim_vput64(m, b + OFF(_KPRCB, CurrentThread), c->kthread);
	sim_vput32(m, b + OFF(_KPRCB, Number), cpu);
	sim_vputs(m, b + OFF(_KPRCB, LegacyNumber), &(uint8_t){ cpu }, 1);
	sim_vput64(m, b + OFF(_KPRCB, SetMember), 1ull << cpu);
	sim_vput32(m, b + OFF(_KPRCB, MxCsr), 0x1F80);
}

/* The IDT from the kernel's KiInterruptInitTable: interrupt gates. */
static int build_idt(struct kdsim *m)
{
	uint64_t tbl = kdsim_kernel_export(m, "KiInterruptInitTable");
	unsigned int i;
	int rc = need(tbl, "KiInterruptInitTable");

	for (i = 0; rc == KD_OK && i < 256; i++) {
		uint64_t e = tbl + i * sizeof(struct _KIDT_INIT_ENTRY);
		uint8_t b[sizeof(struct _KIDT_INIT_ENTRY)];
		uint32_t done, vec, dpl;
		uint64_t isr, g;

		if (sim_read_virtual(m, e, b, sizeof(b), &done) < 0)
			return need(0, "KiInterruptInitTable");
		vec = kd_get_le32(b + OFF(_KIDT_INIT_ENTRY, Vector));
		dpl = kd_get_le32(b + OFF(_KIDT_INIT_ENTRY, Dpl)) & 3;
		isr = kd_get_le64(b + OFF(_KIDT_INIT_ENTRY, ServiceRoutine));
		if (!isr)
			break;
		if (vec > 255)
			continue;
		g = m->idt + vec * sizeof(struct _KIDTENTRY64);
		sim_vput16(m, g + OFF(_KIDTENTRY64, OffsetLow), (uint16_t)isr);
		sim_vput16(m, g + OFF(_KIDTENTRY64, Selector), 0x10);
		/* IstIndex 0, Type 0xE (interrupt gate), Dpl, Present. */
		sim_vput16(m, g + OFF(_KIDTENTRY64, Selector) + 2,
			   (uint16_t)(0x0E00 | dpl << 13 | 0x8000));
		sim_vput16(m, g + OFF(_KIDTENTRY64, OffsetMiddle),
			   (uint16_t)(isr >> 16));
		sim_vput32(m, g + OFF(_KIDTENTRY64, OffsetHigh),
			   (uint32_t)(isr >> 32));
	}
	return rc;
}

struct drv_spec {
	const char *name;     /* under \Driver */
	const char *dispatch; /* export for READ, DEVICE_CONTROL, PNP */
};

static uint64_t build_driver(struct kdsim *m, const struct drv_spec *d)
{
	uint64_t o = ob_create(m, TI_DRIVER,
			       sizeof(struct _DRIVER_OBJECT) +
				       sizeof(struct _DRIVER_EXTENSION),
			       d->name, m->driver_dir);
	uint64_t x = o + sizeof(struct _DRIVER_OBJECT);
	uint64_t inval = kdsim_kernel_export(m, "IopInvalidDeviceRequest");
	uint64_t disp = kdsim_kernel_export(m, d->dispatch);
	char full[64];
	unsigned int i;

	if (!o || !inval || !disp)
		return 0;
	snprintf(full, sizeof(full), "\\Driver\\%s", d->name);
	sim_vput16(m, o + OFF(_DRIVER_OBJECT, Type), NT_IO_TYPE_DRIVER);
	sim_vput16(m, o + OFF(_DRIVER_OBJECT, Size),
		   sizeof(struct _DRIVER_OBJECT));
	sim_vput32(m, o + OFF(_DRIVER_OBJECT, Flags), 0x12); /* started */
	/* Both are built into the kernel image, like Windows' own
	 * \Driver\PnpManager: their code is nt's. */
	sim_vput64(m, o + OFF(_DRIVER_OBJECT, DriverStart), m->img[0].base);
	sim_vput32(m, o + OFF(_DRIVER_OBJECT, DriverSize), m->img[0].size);
	sim_vput64(m, o + OFF(_DRIVER_OBJECT, DriverExtension), x);
	put_name(m, o + OFF(_DRIVER_OBJECT, DriverName), full);
	for (i = 0; i < NT_IRP_MJ_COUNT; i++) {
		bool ours = i == IRP_MJ_READ || i == IRP_MJ_DEVICE_CONTROL ||
			    i == IRP_MJ_PNP;

		sim_vput64(m, o + OFF(_DRIVER_OBJECT, MajorFunction) + i * 8ull,
			   ours ? disp : inval);
	}
	sim_vput64(m, x + OFF(_DRIVER_EXTENSION, DriverObject), o);
	put_name(m, x + OFF(_DRIVER_EXTENSION, ServiceKeyName), d->name);
	return o;
}

static uint64_t build_device(struct kdsim *m, uint64_t drv, const char *name,
			     uint32_t type, uint32_t flags, int8_t stack_size)
{
	uint64_t ext_size = 0x20;
	uint64_t d = ob_create(m, TI_DEVICE,
			       sizeof(struct _DEVICE_OBJECT) + ext_size +
				       sizeof(struct _DEVOBJ_EXTENSION),
			       name, name ? m->device_dir : 0);
	uint64_t dx = d + sizeof(struct _DEVICE_OBJECT) + ext_size;
	uint8_t b[8];
	uint32_t done;

	if (!d)
		return 0;
	sim_vput16(m, d + OFF(_DEVICE_OBJECT, Type), NT_IO_TYPE_DEVICE);
	sim_vput16(m, d + OFF(_DEVICE_OBJECT, Size),
		   (uint16_t)(sizeof(struct _DEVICE_OBJECT) + ext_size));
	sim_vput32(m, d + OFF(_DEVICE_OBJECT, ReferenceCount), 1);
	sim_vput64(m, d + OFF(_DEVICE_OBJECT, DriverObject), drv);
	sim_vput32(m, d + OFF(_DEVICE_OBJECT, Flags), flags);
	sim_vput32(m, d + OFF(_DEVICE_OBJECT, Characteristics),
		   0x100); /* FILE_DEVICE_SECURE_OPEN */
	sim_vput64(m, d + OFF(_DEVICE_OBJECT, DeviceExtension),
		   d + sizeof(struct _DEVICE_OBJECT));
	sim_vput32(m, d + OFF(_DEVICE_OBJECT, DeviceType), type);
	sim_vputs(m, d + OFF(_DEVICE_OBJECT, StackSize), &stack_size, 1);
	sim_vput16(m, d + OFF(_DEVICE_OBJECT, DeviceQueue.Type), 0x14);
	sim_vput16(m, d + OFF(_DEVICE_OBJECT, DeviceQueue.Size),
		   sizeof(struct _KDEVICE_QUEUE));
	sim_list_init(m, d + OFF(_DEVICE_OBJECT, DeviceQueue.DeviceListHead));
	sim_vput64(m, d + OFF(_DEVICE_OBJECT, DeviceObjectExtension), dx);
	sim_vput16(m, dx + OFF(_DEVOBJ_EXTENSION, Type),
		   NT_IO_TYPE_DEVICE_OBJECT_EXTENSION);
	sim_vput16(m, dx + OFF(_DEVOBJ_EXTENSION, Size),
		   sizeof(struct _DEVOBJ_EXTENSION));
	sim_vput64(m, dx + OFF(_DEVOBJ_EXTENSION, DeviceObject), d);
	/* Head of the driver's device list (DRIVER_OBJECT.DeviceObject). */
	(void)sim_read_virtual(m, drv + OFF(_DRIVER_OBJECT, DeviceObject), b, 8,
			       &done);
	sim_vput64(m, d + OFF(_DEVICE_OBJECT, NextDevice), kd_get_le64(b));
	sim_vput64(m, drv + OFF(_DRIVER_OBJECT, DeviceObject), d);
	return d;
}

/* The pending read: issued to the filter, passed down, pending below. */
static int build_irp(struct kdsim *m, uint64_t fdo, uint64_t filter)
{
	uint64_t size = sizeof(struct _IRP) +
			2 * sizeof(struct _IO_STACK_LOCATION);
	uint64_t irp = sim_pool_alloc_tagged(m, size, "Irp ");
	uint64_t sl = irp + sizeof(struct _IRP);
	uint64_t thread = m->first_thread[KD_ARRAY_SIZE(procs) - 1];
	uint64_t compl = kdsim_kernel_export(m, "KdsimFilterCompletion");
	int8_t two = 2, one = 1;
	uint8_t v;
	unsigned int i;
	int rc = need(irp && thread && compl, "the IRP");

	if (rc < 0)
		return rc;
	sim_vput16(m, irp + OFF(_IRP, Type), NT_IO_TYPE_IRP);
	sim_vput16(m, irp + OFF(_IRP, Size), (uint16_t)size);
	sim_vput32(m, irp + OFF(_IRP, Flags), 0x00000900);
	sim_vput64(m, irp + OFF(_IRP, IoStatus.Status), STATUS_PENDING);
	v = 1;
	sim_vputs(m, irp + OFF(_IRP, RequestorMode), &v, 1);
	sim_vputs(m, irp + OFF(_IRP, PendingReturned), &v, 1);
	sim_vputs(m, irp + OFF(_IRP, StackCount), &two, 1);
	sim_vputs(m, irp + OFF(_IRP, CurrentLocation), &one, 1);
	sim_vput64(m, irp + OFF(_IRP, Tail.Overlay.Thread), thread);
	sim_vput64(m, irp + OFF(_IRP, Tail.Overlay.CurrentStackLocation), sl);
	sim_list_insert_tail(m, thread + OFF(_ETHREAD, IrpList),
			     irp + OFF(_IRP, ThreadListEntry));
	for (i = 0; i < 2; i++) {
		uint64_t s = sl + i * sizeof(struct _IO_STACK_LOCATION);

		v = IRP_MJ_READ;
		sim_vputs(m, s + OFF(_IO_STACK_LOCATION, MajorFunction), &v, 1);
		v = i ? SL_PENDING_RETURNED | SL_INVOKE_ON_ALL :
			SL_PENDING_RETURNED;
		sim_vputs(m, s + OFF(_IO_STACK_LOCATION, Control), &v, 1);
		sim_vput32(m,
			   s + OFF(_IO_STACK_LOCATION, Parameters.Read.Length),
			   0x200);
		sim_vput64(m, s + OFF(_IO_STACK_LOCATION, DeviceObject),
			   i ? filter : fdo);
		if (i)
			sim_vput64(
				m,
				s + OFF(_IO_STACK_LOCATION, CompletionRoutine),
				compl );
	}
	sim_vput64(m, fdo + OFF(_DEVICE_OBJECT, CurrentIrp), irp);
	v = 1;
	sim_vputs(m, fdo + OFF(_DEVICE_OBJECT, DeviceQueue.Busy), &v, 1);
	return KD_OK;
}

int sim_build_io(struct kdsim *m)
{
	static const struct drv_spec pnp = { "PnpManager", "PnpDispatch" };
	static const struct drv_spec flt = { "kdsimflt",
					     "KdsimFilterDispatch" };
	uint64_t pnp_drv, flt_drv, fdo, filter;
	int rc = build_idt(m);

	if (rc < 0)
		return rc;
	pnp_drv = build_driver(m, &pnp);
	flt_drv = build_driver(m, &flt);
	if ((rc = need(pnp_drv && flt_drv, "the drivers")) < 0)
		return rc;
	/* FILE_DEVICE_BUS_EXTENDER; DO_POWER_PAGABLE (+ DO_BUS_ENUMERATED). */
	fdo = build_device(m, pnp_drv, "KdsimBus0", 0x2a, 0x3000, 1);
	filter = build_device(m, flt_drv, NULL, 0x2a, 0x2000, 2);
	if ((rc = need(fdo && filter, "the device stack")) < 0)
		return rc;
	sim_vput64(m, fdo + OFF(_DEVICE_OBJECT, AttachedDevice), filter);
	sim_vput64(m,
		   filter + sizeof(struct _DEVICE_OBJECT) + 0x20 +
			   OFF(_DEVOBJ_EXTENSION, AttachedTo),
		   fdo);
	rc = build_irp(m, fdo, filter);
	pool_close_page(m);
	return rc;
}
