/* SPDX-License-Identifier: MIT */
/*
 * !process and !thread against kdsim's kernel objects, all real processes:
 * kdsim (96 MiB, 2 processors, serial over a unix socket) and kd with
 * kdsim's kernel PDB.  What the commands print is checked against the
 * target's memory read with `dq`/`da` at offsets llvm-pdbutil reads from
 * the same PDB (not the engine's type layer, not kdsim's header): every
 * process kdsim made with its Cid, parent, image, DirBase, Peb and handle
 * table; every thread of every process with its Cid, owner and state.
 * DirBase is the real page-table root: System's is CR3, and each
 * process's translates the kernel as CR3 does and its own PEB page.  The
 * same commands on a `.dump /f` of that kdsim print the same text.
 */
#include "kdsim_client.h"
#include "kd_proc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "testsupport.h"

#define T_MS 60000
#define MAX_PROCS 16
#define MAX_THREADS 64

static char pdbutil[64], pdb_path[512], *types;
static char dir[128], dump_path[192];
static struct kp g_kd;

struct proc {
	uint64_t addr, pid, parent, dirbase, peb, table;
	char image[16];
};

struct thread {
	uint64_t addr, pid, tid, process;
};

static struct proc procs[MAX_PROCS];
static struct thread threads[MAX_THREADS];
static size_t nprocs, nthreads;
static uint64_t running[2];

/* ------------------------------------------------------------------ */
/* Offsets from llvm-pdbutil dump -types                               */
/* ------------------------------------------------------------------ */

/* Offset of member @p member of struct @p type, as llvm-pdbutil reads
 * the PDB: the defined LF_STRUCTURE's field list, its LF_MEMBER. */
static uint64_t pdb_off(const char *type, const char *member)
{
	char want[96], fl[16], rec[48], mem[96];
	const char *p = types, *end, *q;

	snprintf(want, sizeof(want), "LF_STRUCTURE [size = ");
	snprintf(mem, sizeof(mem), "- LF_MEMBER [name = `%s`,", member);
	for (;;) {
		char tick[100];

		p = strstr(p, want);
		if (!p)
			fail_msg("no defined %s in the PDB's types", type);
		end = strchr(p, '\n');
		snprintf(tick, sizeof(tick), "`%s`", type);
		q = strstr(p, tick);
		p = end ? end + 1 : p + 1;
		if (!q || (end && q > end))
			continue;
		q = strstr(p, "field list: ");
		if (!q || strncmp(q + 12, "0x", 2) != 0 || (size_t)(q - p) > 80)
			continue;
		snprintf(fl, sizeof(fl), "%.6s", q + 12);
		break;
	}
	snprintf(rec, sizeof(rec), "  %s | LF_FIELDLIST", fl);
	p = strstr(types, rec);
	if (!p)
		fail_msg("field list %s of %s missing", fl, type);
	p += strlen(rec);
	end = strstr(p, " | LF_");
	q = strstr(p, mem);
	if (!q || (end && q > end))
		fail_msg("%s.%s not in the PDB's types", type, member);
	q = strstr(q, "offset = ");
	assert_non_null(q);
	return strtoull(q + 9, NULL, 10);
}

/* ------------------------------------------------------------------ */
/* kd                                                                  */
/* ------------------------------------------------------------------ */

static char *cmd(struct kp *k, const char *c)
{
	char *out = kp_cmd(k, c, T_MS);

	if (!out)
		fail_msg("kd did not answer '%s'; stderr:\n%s", c,
			 k->err.data ? k->err.data : "");
	return out;
}

static uint64_t hexval(const char *s)
{
	char buf[24];
	size_t n = 0;

	while (*s == ' ')
		s++;
	while (n + 1 < sizeof(buf) &&
	       (isxdigit((unsigned char)*s) || *s == '`')) {
		if (*s != '`')
			buf[n++] = *s;
		s++;
	}
	buf[n] = '\0';
	if (!n)
		fail_msg("no number at '%.40s'", s);
	return strtoull(buf, NULL, 16);
}

/* The quadword at @p va, through `dq va L1`. */
static uint64_t q(uint64_t va)
{
	char c[64], *out;
	const char *p;
	uint64_t v;

	snprintf(c, sizeof(c), "dq %llx L1", (unsigned long long)va);
	out = cmd(&g_kd, c);
	p = strstr(out, "  ");
	if (!p || strchr(out, '?'))
		fail_msg("'%s' printed: %s", c, out);
	v = hexval(p);
	free(out);
	return v;
}

static uint64_t eval(const char *expr)
{
	char c[128], *out, *eq;
	uint64_t v;

	snprintf(c, sizeof(c), "? %s", expr);
	out = cmd(&g_kd, c);
	eq = strstr(out, " = ");
	if (!eq)
		fail_msg("'%s' printed: %s", c, out);
	v = hexval(eq + 3);
	free(out);
	return v;
}

/* The 15-byte ImageFileName through `da`. */
static void image_at(uint64_t va, char out[16])
{
	char c[64], *o, *a, *b;

	snprintf(c, sizeof(c), "da %llx L0n15", (unsigned long long)va);
	o = cmd(&g_kd, c);
	a = strchr(o, '"');
	b = a ? strchr(a + 1, '"') : NULL;
	if (!b || b - a - 1 > 15)
		fail_msg("'%s' printed: %s", c, o);
	snprintf(out, 16, "%.*s", (int)(b - a - 1), a + 1);
	free(o);
}

/* Walk the lists with dq at llvm-pdbutil's offsets. */
static void read_truth(void)
{
	uint64_t links = pdb_off("_EPROCESS", "ActiveProcessLinks");
	uint64_t pid = pdb_off("_EPROCESS", "UniqueProcessId");
	uint64_t ppid = pdb_off("_EPROCESS", "InheritedFromUniqueProcessId");
	uint64_t dtb = pdb_off("_EPROCESS", "Pcb") +
		       pdb_off("_KPROCESS", "DirectoryTableBase");
	uint64_t peb = pdb_off("_EPROCESS", "Peb");
	uint64_t table = pdb_off("_EPROCESS", "ObjectTable");
	uint64_t name = pdb_off("_EPROCESS", "ImageFileName");
	uint64_t tlist = pdb_off("_EPROCESS", "ThreadListHead");
	uint64_t tentry = pdb_off("_ETHREAD", "ThreadListEntry");
	uint64_t cid = pdb_off("_ETHREAD", "Cid");
	uint64_t up = pdb_off("_CLIENT_ID", "UniqueProcess");
	uint64_t ut = pdb_off("_CLIENT_ID", "UniqueThread");
	uint64_t owner = pdb_off("_ETHREAD", "Tcb") +
			 pdb_off("_KTHREAD", "Process");
	uint64_t head = eval("nt!PsActiveProcessHead"), e;

	nprocs = nthreads = 0;
	for (e = q(head); e != head; e = q(e)) {
		struct proc *p = &procs[nprocs];
		uint64_t th, t;

		if (nprocs == MAX_PROCS)
			fail_msg("the process list does not close");
		p->addr = e - links;
		p->pid = q(p->addr + pid);
		p->parent = q(p->addr + ppid);
		p->dirbase = q(p->addr + dtb);
		p->peb = q(p->addr + peb);
		p->table = q(p->addr + table);
		image_at(p->addr + name, p->image);
		nprocs++;
		th = p->addr + tlist;
		for (t = q(th); t != th; t = q(t)) {
			struct thread *x = &threads[nthreads];

			if (nthreads == MAX_THREADS)
				fail_msg("a thread list does not close");
			x->addr = t - tentry;
			x->pid = q(x->addr + cid + up);
			x->tid = q(x->addr + cid + ut);
			x->process = q(x->addr + owner);
			nthreads++;
		}
	}
}

static void want(const char *out, const char *line)
{
	if (!strstr(out, line))
		fail_msg("missing '%s' in:\n%s", line, out);
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static int group_setup(void **state)
{
	(void)state;
	snprintf(pdb_path, sizeof(pdb_path), "%s/ntoskrnl.pdb",
		 KD_KDSIM_KERNEL_DIR);
	if (KD_KDSIM_KERNEL_DIR[0] == '\0' || access(pdb_path, R_OK) != 0) {
		fprintf(stderr, "kdsim's kernel is not built: skipped\n");
		exit(77);
	}
	if (kdt_have("llvm-pdbutil"))
		snprintf(pdbutil, sizeof(pdbutil), "llvm-pdbutil");
	else if (kdt_have("llvm-pdbutil-14"))
		snprintf(pdbutil, sizeof(pdbutil), "llvm-pdbutil-14");
	else {
		fprintf(stderr, "llvm-pdbutil absent: skipped\n");
		exit(77);
	}
	types = kdt_run_out("%s dump -types '%s'", pdbutil, pdb_path);
	assert_non_null(types);
	snprintf(dir, sizeof(dir), "/tmp/openkd-kobj-%d", (int)getpid());
	assert_int_equal(kdt_sh("rm -rf '%s' && mkdir -p '%s'", dir, dir), 0);
	snprintf(dump_path, sizeof(dump_path), "%s/full.dmp", dir);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	free(types);
	(void)kdt_sh("rm -rf '%s'", dir);
	return 0;
}

/* The read-only commands whose output the dump must reproduce. */
static char *compare_cmds(void)
{
	size_t cap = 64 + nthreads * 40, n, i;
	char *s = malloc(cap);

	assert_non_null(s);
	n = (size_t)snprintf(s, cap, "!process 0 0; !process 0 7");
	for (i = 0; i < nthreads; i++)
		n += (size_t)snprintf(s + n, cap - n, "; !thread %llx",
				      (unsigned long long)threads[i].addr);
	return s;
}

static char *live_text;

/* The last line of @p out. */
static const char *last_line(const char *out)
{
	size_t n = strlen(out);

	while (n > 0 && out[n - 1] == '\n')
		n--;
	while (n > 0 && out[n - 1] != '\n')
		n--;
	return out + n;
}

/*
 * Hostile memory (after the dump is written): the commands end with one
 * line naming what is wrong, never a loop or a crash.
 */
static void hostile_lists(void)
{
	uint64_t links = pdb_off("_EPROCESS", "ActiveProcessLinks");
	uint64_t session = pdb_off("_EPROCESS", "Session");
	uint64_t head = eval("nt!PsActiveProcessHead");
	char c[128], want_line[160], *out;

	/* A Session the kernel's types cannot describe. */
	snprintf(c, sizeof(c), "eq %llx %llx",
		 (unsigned long long)procs[3].addr + session,
		 (unsigned long long)procs[3].addr);
	free(cmd(&g_kd, c));
	out = cmd(&g_kd, "!process 0 0");
	assert_string_equal(last_line(out),
			    "!process: _MM_SESSION_SPACE.SessionId not found "
			    "in nt's types\n");
	free(out);
	/* smss's Flink back to Registry: a loop that misses the head. */
	snprintf(c, sizeof(c), "eq %llx %llx",
		 (unsigned long long)procs[2].addr + links,
		 (unsigned long long)procs[1].addr + links);
	free(cmd(&g_kd, c));
	out = cmd(&g_kd, "!process 0 0");
	snprintf(want_line, sizeof(want_line),
		 "!process: list at %08llx`%08llx loops without coming back "
		 "to its head\n",
		 (unsigned long long)(head >> 32),
		 (unsigned long long)(head & 0xffffffffu));
	assert_string_equal(last_line(out), want_line);
	free(out);
	/* A zero Flink. */
	snprintf(c, sizeof(c), "eq %llx 0",
		 (unsigned long long)procs[2].addr + links);
	free(cmd(&g_kd, c));
	out = cmd(&g_kd, "!process 0 0");
	snprintf(want_line, sizeof(want_line),
		 "!process: list at %08llx`%08llx: a zero Flink\n",
		 (unsigned long long)(head >> 32),
		 (unsigned long long)(head & 0xffffffffu));
	assert_string_equal(last_line(out), want_line);
	free(out);
}

static void test_live(void **state)
{
	char sock[160], k[200], c[256];
	const char *simargs[] = { "-k",		k,	  "--mem-mib",
				  "96",		"--cpus", "2",
				  "--print-ms", "0",	  NULL };
	const char *kdargs[] = { "-k", NULL, "-y", KD_KDSIM_KERNEL_DIR, NULL };
	static const char *const images[] = { "System",	     "Registry",
					      "smss.exe",    "csrss.exe",
					      "wininit.exe", "kdsimapp.exe" };
	struct kc sim;
	char *out, *banner, *cmds, *sys_pa;
	size_t i, j;

	(void)state;
	snprintf(sock, sizeof(sock), "%s/live.sock", dir);
	snprintf(k, sizeof(k), "com:pipe,port=%s", sock);
	kc_spawn(&sim, simargs);
	kdargs[1] = sim.host_connstr;
	kp_start(&g_kd, kdargs);
	banner = kp_wait_prompt(&g_kd, T_MS);
	if (!banner)
		fail_msg("no prompt; stderr:\n%s",
			 g_kd.err.data ? g_kd.err.data : "");
	free(banner);

	read_truth();
	/* Exactly the processes kdsim made, each once, distinct Cids and
	 * address spaces. */
	assert_int_equal(nprocs, KD_ARRAY_SIZE(images));
	for (i = 0; i < nprocs; i++) {
		assert_string_equal(procs[i].image, images[i]);
		for (j = 0; j < i; j++) {
			assert_true(procs[i].pid != procs[j].pid);
			assert_true(procs[i].dirbase != procs[j].dirbase);
		}
		assert_true(procs[i].table != 0);
	}

	/* !process 0 0 prints each one as memory holds it. */
	out = cmd(&g_kd, "!process 0 0");
	want(out, "**** NT ACTIVE PROCESS DUMP ****\n");
	for (i = 0; i < nprocs; i++) {
		const struct proc *p = &procs[i];
		char line[256];

		snprintf(line, sizeof(line),
			 "PROCESS %016llx\n"
			 "    SessionId: none  Cid: %04llx    Peb: %08llx  "
			 "ParentCid: %04llx\n"
			 "    DirBase: %08llx  ObjectTable: %016llx  "
			 "HandleCount: <Data Not Accessible>\n"
			 "    Image: %s\n\n",
			 (unsigned long long)p->addr,
			 (unsigned long long)p->pid, (unsigned long long)p->peb,
			 (unsigned long long)p->parent,
			 (unsigned long long)p->dirbase,
			 (unsigned long long)p->table, p->image);
		want(out, line);
	}
	free(out);

	/* DirBase is the page-table root kdsim runs on (System: CR3) or
	 * builds (the others: the kernel half shared, a PEB of their own). */
	assert_int_equal(procs[0].dirbase, eval("@cr3"));
	snprintf(c, sizeof(c), "!vtop %llx nt!KiSystemStartup",
		 (unsigned long long)procs[0].dirbase);
	out = cmd(&g_kd, c);
	sys_pa = strstr(out, "translates to physical address ");
	if (!sys_pa)
		fail_msg("'%s' printed:\n%s", c, out);
	sys_pa = strdup(sys_pa);
	free(out);
	for (i = 1; i < nprocs; i++) {
		snprintf(c, sizeof(c), "!vtop %llx nt!KiSystemStartup",
			 (unsigned long long)procs[i].dirbase);
		out = cmd(&g_kd, c);
		want(out, sys_pa);
		free(out);
		if (!procs[i].peb)
			continue;
		snprintf(c, sizeof(c), "!vtop %llx %llx",
			 (unsigned long long)procs[i].dirbase,
			 (unsigned long long)procs[i].peb);
		out = cmd(&g_kd, c);
		want(out, "translates to physical address ");
		free(out);
		/* ... and only there: System's tables do not map it. */
		snprintf(c, sizeof(c), "!vtop %llx %llx",
			 (unsigned long long)procs[0].dirbase,
			 (unsigned long long)procs[i].peb);
		out = cmd(&g_kd, c);
		assert_null(strstr(out, "translates to physical address "));
		free(out);
	}
	free(sys_pa);

	/* !thread of every thread on every thread list. */
	free(cmd(&g_kd, "~1s"));
	running[1] = eval("@$thread");
	free(cmd(&g_kd, "~0s"));
	running[0] = eval("@$thread");
	assert_int_equal(nthreads, 9);
	for (i = 0; i < nthreads; i++) {
		const struct thread *t = &threads[i];
		char line[256];
		const struct proc *owner = NULL;

		for (j = 0; j < nprocs; j++)
			if (procs[j].addr == t->process)
				owner = &procs[j];
		assert_non_null(owner);
		assert_int_equal(t->pid, owner->pid);
		snprintf(c, sizeof(c), "!thread %llx",
			 (unsigned long long)t->addr);
		out = cmd(&g_kd, c);
		snprintf(line, sizeof(line),
			 "THREAD %016llx  Cid %04llx.%04llx  Teb: ",
			 (unsigned long long)t->addr,
			 (unsigned long long)t->pid,
			 (unsigned long long)t->tid);
		want(out, line);
		snprintf(
			line, sizeof(line),
			"Owning Process            %016llx       Image:         %s\n",
			(unsigned long long)owner->addr, owner->image);
		want(out, line);
		if (t->addr == running[0] || t->addr == running[1]) {
			snprintf(line, sizeof(line),
				 "RUNNING on processor %d\n",
				 t->addr == running[0] ? 0 : 1);
			want(out, line);
			want(out, "Win32 Start Address nt!KiSystemStartup (0x");
			want(out, " : nt!KiSystemStartup");
		} else {
			want(out, "WAIT: (");
			want(out, "  NotificationEvent\n");
		}
		free(out);
	}

	/* The current thread, and the pending IRP on kdsimapp's first. */
	out = cmd(&g_kd, "!thread");
	snprintf(c, sizeof(c), "THREAD %016llx  Cid 0004.",
		 (unsigned long long)running[0]);
	want(out, c);
	want(out, "RUNNING on processor 0\n");
	free(out);
	out = cmd(&g_kd, "!process 0 7 KDSIMAPP.EXE");
	want(out, "    Image: kdsimapp.exe\n");
	want(out, "        IRP List:\n");
	want(out, "WAIT: (UserRequest) UserMode Non-Alertable\n");
	assert_null(strstr(out, "Image: System"));
	free(out);
	snprintf(c, sizeof(c), "!process 0n%llu 0",
		 (unsigned long long)procs[3].pid);
	out = cmd(&g_kd, c);
	snprintf(c, sizeof(c), "PROCESS %016llx\n",
		 (unsigned long long)procs[3].addr);
	want(out, c);
	free(out);
	out = cmd(&g_kd, "!process -1 0");
	snprintf(c, sizeof(c), "PROCESS %016llx\n",
		 (unsigned long long)procs[0].addr);
	want(out, c);
	free(out);
	/* A failed request is one line. */
	out = cmd(&g_kd, "!process 0 0 nosuch.exe");
	want(out, "!process: no process named nosuch.exe\n");
	free(out);

	cmds = compare_cmds();
	live_text = cmd(&g_kd, cmds);
	free(cmds);
	snprintf(c, sizeof(c), ".dump /f %s", dump_path);
	out = cmd(&g_kd, c);
	if (!strstr(out, "Dump successfully written"))
		fail_msg(".dump /f printed:\n%s", out);
	free(out);
	hostile_lists();
	kp_send(&g_kd, "q\n");
	assert_int_equal(kp_finish(&g_kd, T_MS), 1); /* nosuch.exe */
	kp_free(&g_kd);
	kc_stop(&sim);
	unlink(sock);
}

/* The same commands on the dump print the same text. */
static void test_dump(void **state)
{
	const char *args[] = { "-z", dump_path, "-y", KD_KDSIM_KERNEL_DIR,
			       NULL };
	char *banner, *cmds, *out;

	(void)state;
	if (!live_text)
		skip();
	kp_start(&g_kd, args);
	banner = kp_wait_prompt(&g_kd, T_MS);
	assert_non_null(banner);
	free(banner);
	cmds = compare_cmds();
	out = cmd(&g_kd, cmds);
	assert_string_equal(out, live_text);
	free(out);
	free(cmds);
	free(live_text);
	live_text = NULL;
	kp_send(&g_kd, "q\n");
	assert_int_equal(kp_finish(&g_kd, T_MS), 0);
	kp_free(&g_kd);
}

/* Without nt's PDB the commands say so, in one line each. */
static void test_no_types(void **state)
{
	const char *args[] = { "-z", dump_path, "-y", dir, NULL };
	char *banner, *out;

	(void)state;
	if (access(dump_path, R_OK) != 0)
		skip();
	kp_start(&g_kd, args);
	banner = kp_wait_prompt(&g_kd, T_MS);
	assert_non_null(banner);
	free(banner);
	out = cmd(&g_kd, "!process 0 0");
	assert_string_equal(out, "!process: no type information for nt (its "
				 "PDB is not loaded)\n");
	free(out);
	out = cmd(&g_kd, "!thread");
	assert_string_equal(out, "!thread: no type information for nt (its "
				 "PDB is not loaded)\n");
	free(out);
	kp_send(&g_kd, "q\n");
	assert_int_equal(kp_finish(&g_kd, T_MS), 1);
	kp_free(&g_kd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_live),
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_no_types),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
