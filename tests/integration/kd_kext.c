/* SPDX-License-Identifier: MIT */
/*
 * The kernel extensions of issue 16 (!pcr !prcb !irql !idt !running
 * !drvobj !devobj !devstack !irp !object !pool !poolused !pte !error)
 * against kdsim's kernel objects, all real processes: kdsim (2
 * processors, serial unix socket) and kd with the kernel's PDB on -y.
 *
 * Every expected value comes from outside the extensions: field offsets
 * and type sizes from llvm-pdbutil on the kernel's PDB, memory from `dq`
 * and `db` reads in the same session, addresses of functions from `?`.
 * The same read-only commands on a `.dump /f` of that kdsim, through kd
 * -z, print exactly what they printed live.  Skipped (77) without kd,
 * kdsim, llvm-pdbutil or the kernel's PDB.
 */
#include "kdsim_client.h"
#include "kd_proc.h"
#include "testsupport.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>

#include <cmocka.h>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define T_MS 60000

static char g_kdir[512], g_pdb[600], g_dir[128], g_dump[192];
static char *g_types; /* llvm-pdbutil dump --types */

/* Read-only commands compared between the live target and its dump;
 * their live output is kept here. */
#define MAX_SAME 24
static char g_same_cmd[MAX_SAME][128];
static char *g_same_out[MAX_SAME];
static int g_nsame;

/* ---- llvm-pdbutil ---------------------------------------------------- */

/* The field list index and size of the defining record of struct @p t. */
static bool pdb_struct(const char *t, unsigned *flist, uint64_t *size)
{
	char pat[128];
	const char *p = g_types;

	snprintf(pat, sizeof(pat), "LF_STRUCTURE [size = ");
	while ((p = strstr(p, pat)) != NULL) {
		const char *name = strchr(p, '`'), *nl = strchr(p, '\n');
		const char *fl, *sz;

		p += strlen(pat);
		if (!name || !nl || name > nl ||
		    strncmp(name + 1, t, strlen(t)) != 0 ||
		    name[1 + strlen(t)] != '`')
			continue;
		fl = strstr(nl, "field list: ");
		sz = strstr(nl, "sizeof ");
		if (!fl || !sz || strncmp(fl + 12, "0x", 2) != 0)
			continue;
		*flist = (unsigned)strtoul(fl + 12, NULL, 16);
		*size = strtoull(sz + 7, NULL, 10);
		return true;
	}
	return false;
}

static uint64_t pdb_sizeof(const char *t)
{
	unsigned fl = 0;
	uint64_t size = 0;

	if (!pdb_struct(t, &fl, &size))
		fail_msg("llvm-pdbutil has no %s", t);
	return size;
}

/* Offset of member @p m of struct @p t, from its LF_FIELDLIST. */
static uint64_t pdb_off(const char *t, const char *m)
{
	char head[64], want[128];
	unsigned fl = 0;
	uint64_t size = 0;
	const char *p, *end;

	if (!pdb_struct(t, &fl, &size))
		fail_msg("llvm-pdbutil has no %s", t);
	snprintf(head, sizeof(head), "0x%X | LF_FIELDLIST", fl);
	p = strstr(g_types, head);
	assert_non_null(p);
	end = strstr(p + strlen(head), " | LF_");
	snprintf(want, sizeof(want), "[name = `%s`, ", m);
	p = strstr(p, want);
	if (!p || (end && p > end))
		fail_msg("llvm-pdbutil: no %s.%s", t, m);
	p = strstr(p, "offset = ");
	assert_non_null(p);
	return strtoull(p + 9, NULL, 10);
}

/* ---- the kd session --------------------------------------------------- */

static char *cmd(struct kp *k, const char *c)
{
	char *out = kp_cmd(k, c, T_MS);

	if (!out)
		fail_msg("kd did not answer '%s'; stdout:\n%s\nstderr:\n%s", c,
			 k->out.data ? k->out.data : "",
			 k->err.data ? k->err.data : "");
	return out;
}

static char *cmdf(struct kp *k, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static char *cmdf(struct kp *k, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	return cmd(k, line);
}

/* A read-only command whose output the dump must reproduce. */
static char *same(struct kp *k, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static char *same(struct kp *k, const char *fmt, ...)
{
	va_list ap;
	char *out;

	assert_true(g_nsame < MAX_SAME);
	va_start(ap, fmt);
	vsnprintf(g_same_cmd[g_nsame], sizeof(g_same_cmd[0]), fmt, ap);
	va_end(ap);
	out = cmd(k, g_same_cmd[g_nsame]);
	g_same_out[g_nsame++] = strdup(out);
	return out;
}

/* The quadword at @p va through `dq` (its second column). */
static uint64_t dq1(struct kp *k, uint64_t va)
{
	char *out = cmdf(k, "dq %llx L1", (unsigned long long)va);
	char hex[40];
	size_t n = 0;
	const char *p = strstr(out, "  ");
	uint64_t v;

	if (!p)
		fail_msg("dq %llx printed:\n%s", (unsigned long long)va, out);
	for (p += 2; *p && *p != '\n' && n + 1 < sizeof(hex); p++) {
		if (*p != '`')
			hex[n++] = *p;
	}
	hex[n] = '\0';
	if (strchr(hex, '?'))
		fail_msg("dq %llx unreadable:\n%s", (unsigned long long)va,
			 out);
	v = strtoull(hex, NULL, 16);
	free(out);
	return v;
}

static unsigned db1(struct kp *k, uint64_t va)
{
	char *out = cmdf(k, "db %llx L1", (unsigned long long)va);
	const char *p = strstr(out, "  ");
	unsigned v;

	if (!p)
		fail_msg("db printed:\n%s", out);
	v = (unsigned)strtoul(p + 2, NULL, 16);
	free(out);
	return v;
}

static uint64_t eval(struct kp *k, const char *expr)
{
	char *out = cmdf(k, "? %s", expr);
	const char *p = strstr(out, "Evaluate expression: ");
	const char *eq = NULL;
	uint64_t v;

	if (!p || !(eq = strstr(p, " = ")))
		fail_msg("? %s printed:\n%s", expr, out);
	{
		char hex[40];
		size_t n = 0;

		for (eq += 3; *eq && *eq != '\n' && n + 1 < sizeof(hex); eq++) {
			if (*eq != '`')
				hex[n++] = *eq;
		}
		hex[n] = '\0';
		v = strtoull(hex, NULL, 16);
	}
	free(out);
	return v;
}

static void has_line(const char *out, const char *line, const char *what)
{
	char want[512];

	/* The first line, or one after a newline. */
	snprintf(want, sizeof(want), "\n%s\n", line);
	if (strncmp(out, want + 1, strlen(want + 1)) != 0 && !strstr(out, want))
		fail_msg("%s: no line\n%s\nin:\n%s", what, line, out);
}

static void start(struct kc *sim, struct kp *kd, const char *sock)
{
	char k[200];
	const char *simargs[] = { "-k",		k,	  "--mem-mib",
				  "96",		"--cpus", "2",
				  "--print-ms", "0",	  NULL };
	const char *kdargs[] = { "-k", sim->host_connstr, "-bonc", "-y", g_kdir,
				 NULL };
	char *out;

	snprintf(k, sizeof(k), "com:pipe,port=%s", sock);
	kc_spawn(sim, simargs);
	kp_start(kd, kdargs);
	out = kp_wait_prompt(kd, T_MS);
	if (!out)
		fail_msg("no prompt; stderr:\n%s",
			 kd->err.data ? kd->err.data : "");
	free(out);
	free(cmd(kd, ".reload /f nt"));
}

/* ---- the commands ------------------------------------------------------ */

static void check_cpu(struct kp *kd)
{
	uint64_t kpb = eval(kd, "nt!KiProcessorBlock");
	uint64_t prcb0 = dq1(kd, kpb), prcb1 = dq1(kd, kpb + 8);
	uint64_t pcr0 = prcb0 - pdb_off("_KPCR", "Prcb");
	uint64_t idt, isr, e0, e1, pf, cur0, cur1, next0, next1;
	char line[256], *out;
	unsigned irql;

	/* !pcr: each value read back through dq/db at the PDB's offset. */
	out = same(kd, "!pcr 0");
	snprintf(line, sizeof(line),
		 "KPCR for Processor 0 at %016llx:", (unsigned long long)pcr0);
	has_line(out, line, "!pcr");
	snprintf(line, sizeof(line), "\t            SelfPcr: %016llx",
		 (unsigned long long)dq1(kd, pcr0 + pdb_off("_KPCR", "Self")));
	has_line(out, line, "!pcr SelfPcr");
	snprintf(line, sizeof(line), "\t               Prcb: %016llx",
		 (unsigned long long)prcb0);
	has_line(out, line, "!pcr Prcb");
	idt = dq1(kd, pcr0 + pdb_off("_KPCR", "IdtBase"));
	snprintf(line, sizeof(line), "\t                IDT: %016llx",
		 (unsigned long long)idt);
	has_line(out, line, "!pcr IDT");
	irql = db1(kd, pcr0 + pdb_off("_KPCR", "Irql"));
	snprintf(line, sizeof(line), "\t               Irql: %016x", irql);
	has_line(out, line, "!pcr Irql");
	cur0 = dq1(kd, prcb0 + pdb_off("_KPRCB", "CurrentThread"));
	snprintf(line, sizeof(line), "\t      CurrentThread: %016llx",
		 (unsigned long long)cur0);
	has_line(out, line, "!pcr CurrentThread");
	free(out);

	/* !prcb 1 */
	cur1 = dq1(kd, prcb1 + pdb_off("_KPRCB", "CurrentThread"));
	next1 = dq1(kd, prcb1 + pdb_off("_KPRCB", "NextThread"));
	out = same(kd, "!prcb 1");
	snprintf(line, sizeof(line),
		 "PRCB for Processor 1 at %016llx:", (unsigned long long)prcb1);
	has_line(out, line, "!prcb");
	snprintf(line, sizeof(line),
		 "Threads--  Current %016llx Next %016llx Idle %016llx",
		 (unsigned long long)cur1, (unsigned long long)next1,
		 (unsigned long long)dq1(
			 kd, prcb1 + pdb_off("_KPRCB", "IdleThread")));
	has_line(out, line, "!prcb threads");
	snprintf(line, sizeof(line), "Number %u SetMember %08llx",
		 db1(kd, prcb1 + pdb_off("_KPRCB", "Number")),
		 (unsigned long long)dq1(
			 kd, prcb1 + pdb_off("_KPRCB", "SetMember")));
	has_line(out, line, "!prcb number");
	free(out);

	/* !irql: facts' "-- 0 (LOW_LEVEL)" for a zero saved IRQL. */
	irql = db1(kd, prcb0 + pdb_off("_KPRCB", "DebuggerSavedIRQL"));
	out = same(kd, "!irql 0");
	if (irql == 0)
		assert_string_equal(out, "Debugger saved IRQL for processor "
					 "0x0 -- 0 (LOW_LEVEL)\n");
	else
		assert_non_null(strstr(out, "Debugger saved IRQL for "));
	free(out);

	/* !idt: vector 0e decoded from the entry's bytes at the PDB's
	 * offsets, and equal to nt!KiPageFault. */
	e0 = dq1(kd, idt + 0xe * pdb_sizeof("_KIDTENTRY64"));
	e1 = dq1(kd, idt + 0xe * pdb_sizeof("_KIDTENTRY64") + 8);
	assert_int_equal(pdb_off("_KIDTENTRY64", "OffsetLow"), 0);
	assert_int_equal(pdb_off("_KIDTENTRY64", "OffsetMiddle"), 6);
	assert_int_equal(pdb_off("_KIDTENTRY64", "OffsetHigh"), 8);
	isr = (e0 & 0xffff) | ((e0 >> 48) << 16) | ((e1 & 0xffffffff) << 32);
	pf = eval(kd, "nt!KiPageFault");
	assert_int_equal(isr, pf);
	out = same(kd, "!idt");
	snprintf(line, sizeof(line), "Dumping IDT: %016llx\n",
		 (unsigned long long)idt);
	assert_memory_equal(out, line, strlen(line));
	snprintf(line, sizeof(line), "0e:\t%016llx nt!KiPageFault",
		 (unsigned long long)pf);
	has_line(out, line, "!idt 0e");
	free(out);

	/* !running -i: both processors' rows. */
	next0 = dq1(kd, prcb0 + pdb_off("_KPRCB", "NextThread"));
	out = same(kd, "!running -i");
	assert_memory_equal(out, "System Processors 3\n", 20);
	snprintf(line, sizeof(line), "  0  %016llx  %016llx  %016llx",
		 (unsigned long long)prcb0, (unsigned long long)cur0,
		 (unsigned long long)next0);
	has_line(out, line, "!running cpu 0");
	snprintf(line, sizeof(line), "  1  %016llx  %016llx  %016llx",
		 (unsigned long long)prcb1, (unsigned long long)cur1,
		 (unsigned long long)next1);
	has_line(out, line, "!running cpu 1");
	free(out);
}

/* The text of the UNICODE_STRING at @p us, through dq and du. */
static void ustr(struct kp *kd, uint64_t us, char *buf, size_t cap)
{
	uint64_t b = dq1(kd, us + pdb_off("_UNICODE_STRING", "Buffer"));
	unsigned len = db1(kd, us) | db1(kd, us + 1) << 8;
	char *out = cmdf(kd, "du %llx L%x", (unsigned long long)b, len / 2);
	const char *q = strchr(out, '"'), *e = q ? strrchr(q + 1, '"') : NULL;

	if (!q || !e)
		fail_msg("du printed:\n%s", out);
	snprintf(buf, cap, "%.*s", (int)(e - q - 1), q + 1);
	free(out);
}

static uint64_t listed(const char *out, const char *name)
{
	char want[128];
	const char *p;

	snprintf(want, sizeof(want), " %s\n", name);
	p = strstr(out, want);
	if (!p)
		fail_msg("no %s in:\n%s", name, out);
	/* "         fffff800`...  Type          Name": the address is the
	 * 16 hex digits after the line's blanks and bucket. */
	while (p > out && p[-1] != '\n')
		p--;
	p += 9;
	return strtoull(p, NULL, 16);
}

static void check_io(struct kp *kd)
{
	uint64_t flt_drv, bus_drv, bus, flt, irp, ext, csl;
	char line[512], name[128], *out;
	unsigned cur;

	/* \Driver lists the two drivers; their names read through du. */
	out = same(kd, "!object \\Driver");
	assert_non_null(strstr(out, "Directory\n"));
	flt_drv = listed(out, "kdsimflt");
	bus_drv = listed(out, "PnpManager");
	free(out);
	ustr(kd, flt_drv + pdb_off("_DRIVER_OBJECT", "DriverName"), name,
	     sizeof(name));
	assert_string_equal(name, "\\Driver\\kdsimflt");

	out = same(kd, "!drvobj kdsimflt 3");
	flt = dq1(kd, flt_drv + pdb_off("_DRIVER_OBJECT", "DeviceObject"));
	snprintf(line, sizeof(line),
		 "Driver object (%016llx) is for:\n \\Driver\\kdsimflt\n"
		 "Driver Extension List: (id , addr)\n"
		 "Device Object list:\n%016llx\n",
		 (unsigned long long)flt_drv, (unsigned long long)flt);
	assert_memory_equal(out, line, strlen(line));
	snprintf(line, sizeof(line),
		 "[03] IRP_MJ_READ                        %016llx"
		 "             nt!KdsimFilterDispatch",
		 (unsigned long long)dq1(kd, flt_drv +
						     pdb_off("_DRIVER_OBJECT",
							     "MajorFunction") +
						     3 * 8));
	has_line(out, line, "!drvobj dispatch");
	free(out);

	/* The bus device is PnpManager's; the filter sits on it. */
	bus = dq1(kd, bus_drv + pdb_off("_DRIVER_OBJECT", "DeviceObject"));
	assert_int_equal(
		dq1(kd, bus + pdb_off("_DEVICE_OBJECT", "AttachedDevice")),
		flt);
	out = same(kd, "!devstack %llx", (unsigned long long)bus);
	ext = dq1(kd, flt + pdb_off("_DEVICE_OBJECT", "DeviceExtension"));
	snprintf(line, sizeof(line),
		 "  !DevObj           !DrvObj            !DevExt           "
		 "ObjectName\n"
		 "  %016llx  \\Driver\\kdsimflt   %016llx  \n"
		 "> %016llx  \\Driver\\PnpManager %016llx  KdsimBus0\n",
		 (unsigned long long)flt, (unsigned long long)ext,
		 (unsigned long long)bus,
		 (unsigned long long)dq1(kd, bus + pdb_off("_DEVICE_OBJECT",
							   "DeviceExtension")));
	assert_string_equal(out, line);
	free(out);

	irp = dq1(kd, bus + pdb_off("_DEVICE_OBJECT", "CurrentIrp"));
	out = same(kd, "!devobj %llx", (unsigned long long)bus);
	snprintf(line, sizeof(line),
		 "Device object (%016llx) is for:\n"
		 " KdsimBus0 \\Driver\\PnpManager DriverObject %016llx\n",
		 (unsigned long long)bus, (unsigned long long)bus_drv);
	assert_memory_equal(out, line, strlen(line));
	snprintf(line, sizeof(line), "Current Irp %08llx RefCount ",
		 (unsigned long long)irp);
	assert_non_null(strstr(out, line));
	snprintf(line, sizeof(line),
		 "AttachedDevice (Upper) %016llx "
		 "\\Driver\\kdsimflt",
		 (unsigned long long)flt);
	has_line(out, line, "!devobj upper");
	has_line(out, "Device queue is busy.", "!devobj queue");
	free(out);

	/* !irp: the current location from the sizes llvm-pdbutil gives. */
	cur = db1(kd, irp + pdb_off("_IRP", "CurrentLocation"));
	assert_int_equal(db1(kd, irp + pdb_off("_IRP", "StackCount")), 2);
	csl = irp + pdb_sizeof("_IRP") +
	      (cur - 1) * pdb_sizeof("_IO_STACK_LOCATION");
	out = same(kd, "!irp %llx", (unsigned long long)irp);
	snprintf(line, sizeof(line),
		 "Irp is active with 2 stacks %u is current (= %#llx)", cur,
		 (unsigned long long)csl);
	has_line(out, line, "!irp");
	assert_non_null(strstr(out, ">[IRP_MJ_READ(3), N/A(0)]\n"));
	assert_non_null(strstr(out, "\t       \\Driver\\kdsimflt\t"
				    "nt!KdsimFilterCompletion\n"));
	assert_non_null(strstr(out, " Success Error Cancel pending\n"));
	free(out);

	/* !pool of the IRP: its block, tag "Irp ", behind the header. */
	out = same(kd, "!pool %llx", (unsigned long long)irp);
	snprintf(line, sizeof(line), "*%016llx size: ",
		 (unsigned long long)(irp - pdb_sizeof("_POOL_HEADER")));
	assert_non_null(strstr(out, line));
	assert_non_null(strstr(out, "(Allocated) *Irp \n"));
	assert_int_equal(db1(kd, irp - pdb_sizeof("_POOL_HEADER") +
					 pdb_off("_POOL_HEADER", "PoolTag")),
			 'I');
	free(out);

	/* !object of the device: its name and directory. */
	out = same(kd, "!object %llx", (unsigned long long)bus);
	snprintf(line, sizeof(line), "Object: %016llx  Type: (",
		 (unsigned long long)bus);
	assert_memory_equal(out, line, strlen(line));
	assert_non_null(strstr(out, ") Device\n"));
	assert_non_null(strstr(out, "  Name: KdsimBus0\n"));
	free(out);
}

static void check_misc(struct kp *kd)
{
	char *out;

	out = same(kd, "!error 2");
	assert_string_equal(out, "Error code: (Win32) 0x2 (2) - The system "
				 "cannot find the file specified.\n");
	free(out);
	out = same(kd, "!error 2 1");
	assert_string_equal(out,
			    "Error code: (NTSTATUS) 0x2 - STATUS_WAIT_2\n");
	free(out);
	out = cmd(kd, "!poolused");
	assert_string_equal(out, "nt!PoolTrackTable not found in nt's "
				 "symbols\n");
	free(out);
	/* kdsim's PML4 maps no self-map slot: said, not faked. */
	out = same(kd, "!pte nt!KiPageFault");
	assert_memory_equal(out, "No page-table self-map", 22);
	free(out);
}

/*
 * Hostile memory, written into the live kdsim after the dump: a device
 * attached to itself and a directory hash chain that loops each give
 * one line, not a bound's worth of output.
 */
static void check_loops(struct kp *kd)
{
	uint64_t bus_drv, bus, devdir, e;
	char line[256], *out;

	out = cmd(kd, "!object \\");
	devdir = listed(out, "Device");
	free(out);
	out = cmd(kd, "!object \\Driver");
	bus_drv = listed(out, "PnpManager");
	free(out);
	bus = dq1(kd, bus_drv + pdb_off("_DRIVER_OBJECT", "DeviceObject"));
	free(cmdf(kd, "eq %llx %llx",
		  (unsigned long long)bus +
			  pdb_off("_DEVICE_OBJECT", "AttachedDevice"),
		  (unsigned long long)bus));
	out = cmdf(kd, "!devstack %llx", (unsigned long long)bus);
	snprintf(line, sizeof(line),
		 "Device stack of %016llx: %016llx repeats or the stack has "
		 "more than 256 devices\n",
		 (unsigned long long)bus, (unsigned long long)bus);
	assert_string_equal(out, line);
	free(out);

	/* KdsimBus0's bucket: its entry's ChainLink points at itself. */
	out = cmd(kd, "!object \\Device");
	assert_non_null(strstr(out, "     19  "));
	free(out);
	e = dq1(kd,
		devdir + pdb_off("_OBJECT_DIRECTORY", "HashBuckets") + 19 * 8);
	free(cmdf(kd, "eq %llx %llx",
		  (unsigned long long)e +
			  pdb_off("_OBJECT_DIRECTORY_ENTRY", "ChainLink"),
		  (unsigned long long)e));
	snprintf(line, sizeof(line),
		 "Directory %016llx: entry %016llx repeats or the directory "
		 "has more than 1024 entries\n",
		 (unsigned long long)devdir, (unsigned long long)e);
	out = cmd(kd, "!devobj \\Device\\Nothing");
	assert_string_equal(out, line);
	free(out);
	out = cmd(kd, "!object \\Device");
	assert_non_null(strstr(out, line));
	free(out);
}

static void test_live_and_dump(void **state)
{
	char sock[160], line[256], *out;
	const char *zargs[] = { "-z", g_dump, "-y", g_kdir, NULL };
	struct kc sim;
	struct kp kd, z;
	int i;

	(void)state;
	snprintf(sock, sizeof(sock), "%s/live.sock", g_dir);
	start(&sim, &kd, sock);
	check_cpu(&kd);
	check_io(&kd);
	check_misc(&kd);
	out = cmdf(&kd, ".dump /f %s", g_dump);
	if (!strstr(out, "Dump successfully written"))
		fail_msg(".dump printed:\n%s", out);
	free(out);
	check_loops(&kd);
	kp_send(&kd, "q\n");
	/* !poolused failed on purpose: batch status 1. */
	assert_int_equal(kp_finish(&kd, T_MS), 1);
	kp_free(&kd);
	kc_stop(&sim);

	kp_start(&z, zargs);
	out = kp_wait_prompt(&z, T_MS);
	assert_non_null(out);
	free(out);
	free(cmd(&z, ".reload /f nt"));
	for (i = 0; i < g_nsame; i++) {
		out = cmd(&z, g_same_cmd[i]);
		if (strcmp(out, g_same_out[i]) != 0)
			fail_msg("'%s' differs on the dump\n--- live:\n%s"
				 "--- dump:\n%s",
				 g_same_cmd[i], g_same_out[i], out);
		free(out);
	}
	snprintf(line, sizeof(line), "q\n");
	kp_send(&z, line);
	assert_int_equal(kp_finish(&z, T_MS), 0);
	kp_free(&z);
}

/* Without nt's PDB (the real triage sample, no symbol path): one line
 * naming what is missing, batch exit status 1. */
static void test_no_pdb(void **state)
{
	char dmp[512], *out = NULL;
	const char *args[] = { "-z", dmp, "-c", "!devobj 0", NULL };
	int st;

	(void)state;
	if (kdt_shared_path(dmp, sizeof(dmp), "dumps/triage_x64.dmp") != 0)
		skip();
	st = kp_run(args, "q\n", T_MS, &out, NULL);
	assert_non_null(strstr(out, "\nno type information for nt (its PDB "
				    "is not loaded)\n"));
	assert_int_equal(st, 1);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_live_and_dump),
		cmocka_unit_test(test_no_pdb),
	};
	int rc, i;

	if (!kp_kd_path() || !kc_kdsim_path() || !kdt_have("llvm-pdbutil"))
		return 77;
	kdt_build_path(g_kdir, sizeof(g_kdir), "firmware-stubs/sim/kernel");
	snprintf(g_pdb, sizeof(g_pdb), "%s/ntoskrnl.pdb", g_kdir);
	if (access(g_pdb, R_OK) != 0)
		return 77;
	g_types = kdt_run_out("llvm-pdbutil dump --types '%s'", g_pdb);
	if (!g_types)
		return 77;
	snprintf(g_dir, sizeof(g_dir), "/tmp/openkd-kext-%d", (int)getpid());
	if (mkdir(g_dir, 0700) < 0)
		return 1;
	snprintf(g_dump, sizeof(g_dump), "%s/full.dmp", g_dir);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	for (i = 0; i < g_nsame; i++)
		free(g_same_out[i]);
	free(g_types);
	unlink(g_dump);
	rmdir(g_dir);
	return rc;
}
