/* SPDX-License-Identifier: MIT */
/*
 * kdsim's scheduler: runs the processors in turn on the one unicorn engine,
 * turns int3, debug services, DR7 hits and faults into kdstub reports, and
 * applies what the host asked for (trace flag, switch, reboot, bug check).
 */
#include "sim_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <kd/clock.h>
#include <kd/proto/wire.h>

#include "simabi.h"

#define STATUS_ACCESS_VIOLATION 0xC0000005u
#define STATUS_ILLEGAL_INSTRUCTION 0xC000001Du
#define SIM_PRINT_MAX 512
#define SIM_SLOT_COUNT 2
#define SIM_BREAKIN_POLL_MS 10

/* --- unicorn hooks: record the event and stop; run() handles it --- */

static void hook_intr(uc_engine *uc, uint32_t intno, void *payload)
{
	struct kdsim *m = payload;

	m->ev.intno = intno;
	m->ev.rip = sim_reg(m, UC_X86_REG_RIP);
	if (intno == 3) {
		m->ev.kind = SIM_EV_BREAKPOINT;
		m->ev.rip -= 1; /* unicorn reports RIP past the 0xCC */
		sim_set_reg(m, UC_X86_REG_RIP, m->ev.rip);
	} else if (intno == SIMABI_VECTOR) {
		m->ev.kind = SIM_EV_SERVICE;
		m->ev.rax = sim_reg(m, UC_X86_REG_RAX);
		m->ev.rcx = sim_reg(m, UC_X86_REG_RCX);
		m->ev.rdx = sim_reg(m, UC_X86_REG_RDX);
	} else {
		m->ev.kind = SIM_EV_FAULT;
	}
	uc_emu_stop(uc);
}

static uint32_t hook_in(uc_engine *uc, uint32_t port, int size, void *payload)
{
	struct kdsim *m = payload;
	struct sim_cpu *c = &m->cpu[m->loaded < 0 ? 0 : m->loaded];
	uint32_t v;

	(void)uc;
	(void)size;
	if (port == SIMABI_PORT_COMMAND) {
		v = c->cmd;
		c->cmd = SIMABI_CMD_NONE;
		return v;
	}
	if (port == SIMABI_PORT_ARG)
		return c->cmd_arg;
	return port < sizeof(m->ports) ? m->ports[port] : 0xFF;
}

static void hook_out(uc_engine *uc, uint32_t port, int size, uint32_t value,
		     void *payload)
{
	struct kdsim *m = payload;
	int i;

	(void)uc;
	for (i = 0; i < size && port + (uint32_t)i < sizeof(m->ports); i++)
		m->ports[port + (uint32_t)i] = (uint8_t)(value >> (8 * i));
}

static bool hook_unmapped(uc_engine *uc, uc_mem_type type, uint64_t addr,
			  int size, int64_t value, void *payload)
{
	struct kdsim *m = payload;

	(void)uc;
	(void)type;
	(void)size;
	(void)value;
	m->ev.kind = SIM_EV_FAULT;
	m->ev.intno = 14;
	m->ev.rcx = addr;
	return false;
}

/* DR0-3 execute breakpoints of the running processor. */
static void hook_code(uc_engine *uc, uint64_t addr, uint32_t size,
		      void *payload)
{
	struct kdsim *m = payload;
	struct sim_cpu *c;
	unsigned int i;

	(void)size;
	if (m->loaded < 0)
		return;
	c = &m->cpu[m->loaded];
	if (c->skip_hw) {
		c->skip_hw = false;
		return;
	}
	for (i = 0; i < 4; i++) {
		bool enabled = (c->dr7 >> (i * 2)) & 3;
		unsigned int rw = (unsigned int)(c->dr7 >> (16 + i * 4)) & 3;

		if (enabled && rw == 0 && c->dr[i] == addr) {
			c->dr6 = (c->dr6 & ~0xFull) | (1ull << i);
			m->ev.kind = SIM_EV_HWBP;
			m->ev.rip = addr;
			uc_emu_stop(uc);
			return;
		}
	}
}

/* unicorn takes callbacks as void *; convert without a pedantic cast. */
static void *cb(void (*fn)(void))
{
	void *p;

	KD_STATIC_ASSERT(sizeof(p) == sizeof(fn), "function pointer size");
	memcpy(&p, &fn, sizeof(p));
	return p;
}

#define CB(f) cb((void (*)(void))(f))

void sim_update_hw_hook(struct kdsim *m)
{
	bool want = false;
	unsigned int i, j;

	for (i = 0; i < m->cfg.cpus && !want; i++)
		for (j = 0; j < 4; j++)
			if (((m->cpu[i].dr7 >> (j * 2)) & 3) &&
			    !((m->cpu[i].dr7 >> (16 + j * 4)) & 3))
				want = true;
	if (want && !m->hw_hook_on) {
		if (uc_hook_add(m->uc, &m->hw_hook, UC_HOOK_CODE, CB(hook_code),
				m, 1, 0) == UC_ERR_OK)
			m->hw_hook_on = true;
		/* Code translated before the hook existed does not call it. */
		sim_flush_code(m);
	} else if (!want && m->hw_hook_on) {
		uc_hook_del(m->uc, m->hw_hook);
		m->hw_hook_on = false;
		sim_flush_code(m);
	}
}

int sim_install_hooks(struct kdsim *m);

int sim_install_hooks(struct kdsim *m)
{
	uc_hook h;

	if (uc_hook_add(m->uc, &h, UC_HOOK_INTR, CB(hook_intr), m, 1, 0) ||
	    uc_hook_add(m->uc, &h, UC_HOOK_INSN, CB(hook_in), m, 1, 0,
			UC_X86_INS_IN) ||
	    uc_hook_add(m->uc, &h, UC_HOOK_INSN, CB(hook_out), m, 1, 0,
			UC_X86_INS_OUT) ||
	    uc_hook_add(m->uc, &h, UC_HOOK_MEM_UNMAPPED | UC_HOOK_MEM_PROT,
			CB(hook_unmapped), m, 1, 0))
		return KD_ERROR;
	return KD_OK;
}

/* --- reports --- */

struct run_state {
	const struct kdstub_io *io;
	int (*reopen)(void);
	uint64_t next_print, next_loadmod, bugcheck_at, reboot_at;
	uint64_t next_poll;
	unsigned int next_slot;
};

/* Apply what ended a stop; follow processor switches. */
static void after_stop(struct kdsim *m, struct kdstub_resume *r)
{
	while (r->kind == KDSTUB_RESUME_SWITCH) {
		uint16_t to = r->processor;

		if (to >= m->cfg.cpus)
			to = 0;
		if (kdstub_report_switch(&m->stub, to, r) < 0)
			return;
	}
	if (r->kind == KDSTUB_RESUME_BUGCHECK) {
		unsigned int i;
		bool asked = false;

		/* ops->bugcheck normally picked the processor already. */
		for (i = 0; i < m->cfg.cpus; i++)
			if (m->cpu[i].cmd == SIMABI_CMD_BUGCHECK)
				asked = true;
		if (!asked) {
			m->cpu[0].cmd = SIMABI_CMD_BUGCHECK;
			m->cpu[0].cmd_arg =
				KD_BUGCHECK_MANUALLY_INITIATED_CRASH;
		}
	}
}

static void report(struct kdsim *m, int cpu, uint32_t code, uint64_t addr,
		   uint32_t nparams, const uint64_t *params)
{
	struct kd_exception_record rec;
	struct kdstub_resume r;
	uint32_t i;

	memset(&rec, 0, sizeof(rec));
	memset(&r, 0, sizeof(r));
	rec.code = code;
	rec.address = addr;
	rec.number_parameters = nparams;
	for (i = 0; i < nparams && i < KD_EXCEPTION_MAXIMUM_PARAMETERS; i++)
		rec.information[i] = params[i];
	sim_log(m, "cpu %d: exception %#x at %#llx", cpu, code,
		(unsigned long long)addr);
	if (kdstub_report_exception(&m->stub, (uint16_t)cpu, &rec, true, &r) <
	    0)
		return;
	after_stop(m, &r);
}

static void do_print(struct kdsim *m, int cpu, uint64_t va, uint64_t len)
{
	char buf[SIM_PRINT_MAX];
	uint32_t done = 0;

	if (len > sizeof(buf))
		len = sizeof(buf);
	(void)sim_read_virtual(m, va, buf, (uint32_t)len, &done);
	if (m->cfg.verbose)
		fprintf(stderr, "kdsim: cpu %d: %.*s", cpu, (int)done, buf);
	(void)kdstub_print(&m->stub, (uint16_t)cpu, buf, done);
}

static void do_loadmod(struct kdsim *m, int cpu, unsigned int slot)
{
	struct kdstub_load_symbols ls;
	struct kdstub_resume r;
	unsigned int idx;
	char path[64];
	int rc = sim_load_module(m, slot, &idx);

	if (rc < 0)
		return;
	memset(&ls, 0, sizeof(ls));
	memset(&r, 0, sizeof(r));
	snprintf(path, sizeof(path), "\\SystemRoot\\system32\\drivers\\%s",
		 m->img[idx].name);
	ls.base_of_dll = m->img[idx].base;
	ls.process_id = 0;
	ls.checksum = m->img[idx].checksum;
	ls.size_of_image = m->img[idx].size;
	ls.path = path;
	ls.path_len = strlen(path);
	sim_log(m, "loaded %s at %#llx", m->img[idx].name,
		(unsigned long long)ls.base_of_dll);
	if (kdstub_report_load_symbols(&m->stub, (uint16_t)cpu, &ls, &r) == 0)
		after_stop(m, &r);
}

/* SVC_EXCEPTION: the kernel dispatches an exception record (except.c). */
static void do_exception(struct kdsim *m, int cpu, uint64_t va)
{
	uint8_t b[0x98];
	uint64_t params[15];
	uint32_t done = 0, n, i;

	if (sim_read_virtual(m, va, b, sizeof(b), &done) < 0 ||
	    done != sizeof(b))
		return;
	n = kd_get_le32(b + 0x18);
	if (n > 15)
		n = 15;
	for (i = 0; i < n; i++)
		params[i] = kd_get_le64(b + 0x20 + 8 * i);
	report(m, cpu, kd_get_le32(b), kd_get_le64(b + 0x10), n, params);
}

/*
 * Interrupt delivery as an x64 processor does it without a privilege or
 * stack change: align rsp down to 16, push SS, RSP, RFLAGS, CS and RIP
 * (past the int instruction), and go to the handler.  False when the
 * kernel has no handler or the stack cannot be written.
 */
static bool deliver(struct kdsim *m, int cpu, uint64_t handler)
{
	uint8_t f[40];
	uint64_t rsp, sp;
	uint32_t done = 0;

	if (!handler || sim_select_cpu(m, cpu) < 0)
		return false;
	rsp = sim_reg(m, UC_X86_REG_RSP);
	sp = (rsp & ~0xFull) - sizeof(f);
	kd_put_le64(f, sim_reg(m, UC_X86_REG_RIP));
	kd_put_le64(f + 8, sim_reg(m, UC_X86_REG_CS));
	kd_put_le64(f + 16, sim_reg(m, UC_X86_REG_RFLAGS));
	kd_put_le64(f + 24, rsp);
	kd_put_le64(f + 32, sim_reg(m, UC_X86_REG_SS));
	if (sim_write_virtual(m, sp, f, sizeof(f), &done) < 0 ||
	    done != sizeof(f))
		return false;
	sim_set_reg(m, UC_X86_REG_RSP, sp);
	sim_set_reg(m, UC_X86_REG_RIP, handler);
	return true;
}

static void do_service(struct kdsim *m, int cpu)
{
	uint8_t b[40];
	uint32_t done = 0;
	unsigned int i;

	switch (m->ev.rax & 0xFFFFFFFFu) {
	case SIMABI_SVC_PRINT:
		do_print(m, cpu, m->ev.rcx, m->ev.rdx);
		break;
	case SIMABI_SVC_BUGCHECK:
		if (sim_read_virtual(m, m->ev.rcx, b, sizeof(b), &done) == 0)
			for (i = 0; i < 5; i++)
				m->bugcheck[i] = kd_get_le64(b + i * 8);
		m->bugchecked = true;
		fprintf(stderr, "kdsim: bug check %#llx on cpu %d\n",
			(unsigned long long)m->bugcheck[0], cpu);
		break;
	case SIMABI_SVC_LOADMOD:
		do_loadmod(m, cpu, (unsigned int)m->ev.rcx);
		break;
	case SIMABI_SVC_HALT:
		m->cpu[cpu].halted = true;
		break;
	case SIMABI_SVC_EXCEPTION:
		do_exception(m, cpu, m->ev.rcx);
		break;
	default:
		break;
	}
}

/* A hard-coded int3 (DbgBreakPoint*) is stepped over on resume, as the
 * host would; an int3 the host wrote stays to be hit again. */
static void skip_hardcoded(struct kdsim *m, int cpu, uint64_t addr)
{
	uint8_t b = 0;
	uint32_t done = 0;

	if (sim_select_cpu(m, cpu) < 0 || sim_reg(m, UC_X86_REG_RIP) != addr)
		return;
	if (sim_read_virtual(m, addr, &b, 1, &done) == 0 && b == 0xCC &&
	    kdstub_breakpoint_at(&m->stub, addr) == 0)
		sim_set_reg(m, UC_X86_REG_RIP, addr + 1);
}

static void handle_event(struct kdsim *m, int cpu, bool stepped)
{
	struct sim_event ev = m->ev;
	uint64_t rip;

	m->ev.kind = SIM_EV_NONE;
	switch (ev.kind) {
	case SIM_EV_BREAKPOINT:
		if (ev.rip == m->bp_with_status && m->bugchecked) {
			uint64_t p = SIMABI_DBG_STATUS_BUGCHECK_FIRST;

			report(m, cpu, KD_STATUS_BREAKPOINT, ev.rip, 1, &p);
		} else {
			uint64_t p = 0;

			report(m, cpu, KD_STATUS_BREAKPOINT, ev.rip, 1, &p);
		}
		skip_hardcoded(m, cpu, ev.rip);
		return;
	case SIM_EV_SERVICE:
		do_service(m, cpu);
		break;
	case SIM_EV_HWBP:
		m->cpu[cpu].skip_hw = true;
		report(m, cpu, KD_STATUS_SINGLE_STEP, ev.rip, 0, NULL);
		return;
	case SIM_EV_FAULT: {
		uint64_t p[2] = { 0, ev.rcx };

		if (ev.intno == SIMABI_VECTOR_ASSERT &&
		    deliver(m, cpu, kdsim_kernel_export(m, "KiRaiseAssertion")))
			return;

		if (sim_select_cpu(m, cpu) == 0)
			rip = sim_reg(m, UC_X86_REG_RIP);
		else
			rip = ev.rip;
		fprintf(stderr, "kdsim: cpu %d: fault %u (%s) at %#llx\n", cpu,
			ev.intno, uc_strerror(ev.err), (unsigned long long)rip);
		report(m, cpu,
		       ev.intno == 6 ? STATUS_ILLEGAL_INSTRUCTION :
				       STATUS_ACCESS_VIOLATION,
		       rip, ev.intno == 14 ? 2 : 0, p);
		/* No exception dispatch in this kernel: the CPU stops. */
		m->cpu[cpu].halted = true;
		return;
	}
	case SIM_EV_NONE:
		break;
	}
	if (stepped && !m->cpu[cpu].halted && sim_select_cpu(m, cpu) == 0) {
		rip = sim_reg(m, UC_X86_REG_RIP);
		report(m, cpu, KD_STATUS_SINGLE_STEP, rip, 0, NULL);
	}
}

/* Run processor @cpu for @count instructions (1 = single step). */
static int run_cpu(struct kdsim *m, int cpu, uint64_t count)
{
	uint64_t rip;
	uc_err err;
	int rc;

	rc = sim_select_cpu(m, cpu);
	if (rc < 0)
		return rc;
	m->ev.kind = SIM_EV_NONE;
	rip = sim_reg(m, UC_X86_REG_RIP);
	err = uc_emu_start(m->uc, rip, 0, 0, count);
	if (err != UC_ERR_OK && m->ev.kind == SIM_EV_NONE) {
		m->ev.kind = SIM_EV_FAULT;
		m->ev.intno = err == UC_ERR_INSN_INVALID ? 6 : 13;
		m->ev.rip = rip;
	}
	if (m->ev.kind == SIM_EV_FAULT)
		m->ev.err = err;
	return KD_OK;
}

static void timers(struct kdsim *m, struct run_state *st)
{
	uint64_t t = kd_mono_ms();

	if (m->cfg.print_ms && t >= st->next_print) {
		st->next_print = t + m->cfg.print_ms;
		if (m->cpu[0].cmd == SIMABI_CMD_NONE)
			m->cpu[0].cmd = SIMABI_CMD_PRINT;
	}
	if (m->cfg.loadmod_ms && t >= st->next_loadmod &&
	    st->next_slot < SIM_SLOT_COUNT) {
		int cpu = (int)(st->next_slot % m->cfg.cpus);

		st->next_loadmod = t + m->cfg.loadmod_ms;
		if (m->cpu[cpu].cmd == SIMABI_CMD_NONE ||
		    m->cpu[cpu].cmd == SIMABI_CMD_PRINT) {
			m->cpu[cpu].cmd = SIMABI_CMD_LOADMOD;
			m->cpu[cpu].cmd_arg = st->next_slot++;
		}
	}
	if (st->bugcheck_at && t >= st->bugcheck_at) {
		st->bugcheck_at = 0;
		m->cpu[0].cmd = SIMABI_CMD_BUGCHECK;
		m->cpu[0].cmd_arg = m->cfg.bugcheck_code;
	}
	if (st->reboot_at && t >= st->reboot_at) {
		st->reboot_at = 0;
		m->reboot_pending = true;
	}
}

static int start_stub(struct kdsim *m, struct run_state *st)
{
	int rc = kdstub_init(&m->stub, st->io, &kdsim_platform_ops, m);

	if (rc < 0)
		fprintf(stderr, "kdsim: kdstub_init failed (%d)\n", rc);
	return rc;
}

static void arm_timers(struct kdsim *m, struct run_state *st)
{
	uint64_t t = kd_mono_ms();

	st->next_print = t + m->cfg.print_ms;
	st->next_loadmod = t + m->cfg.loadmod_ms;
	st->next_slot = 0;
	st->bugcheck_at = m->cfg.bugcheck_after_ms ?
				  t + m->cfg.bugcheck_after_ms :
				  0;
}

int kdsim_run(struct kdsim *m, const struct kdstub_io *io, int (*reopen)(void),
	      volatile int *stop)
{
	struct run_state st;
	int rc;
	int cpu = 0;

	memset(&st, 0, sizeof(st));
	st.io = io;
	st.reopen = reopen;
	arm_timers(m, &st);
	st.reboot_at = m->cfg.reboot_after_ms ?
			       kd_mono_ms() + m->cfg.reboot_after_ms :
			       0;
	rc = start_stub(m, &st);
	if (rc < 0)
		return rc;
	while (!*stop) {
		int stepping = -1;
		unsigned int i;
		bool all_halted = true;

		if (m->reboot_pending) {
			fprintf(stderr, "kdsim: rebooting\n");
			rc = sim_boot(m);
			if (rc < 0)
				return rc;
			if (st.reopen && st.reopen() < 0)
				return KD_EDISCONNECTED;
			rc = start_stub(m, &st);
			if (rc < 0)
				return rc;
			arm_timers(m, &st);
			cpu = 0;
			continue;
		}
		timers(m, &st);
		for (i = 0; i < m->cfg.cpus; i++) {
			if (m->cpu[i].step && stepping < 0)
				stepping = (int)i;
			if (!m->cpu[i].halted)
				all_halted = false;
		}
		if (stepping >= 0) {
			/* Trace flag: exactly one instruction, others wait. */
			m->cpu[stepping].step = false;
			rc = run_cpu(m, stepping, 1);
			if (rc < 0)
				return rc;
			handle_event(m, stepping, true);
			continue;
		}
		if (!all_halted) {
			while (m->cpu[cpu].halted)
				cpu = (cpu + 1) % (int)m->cfg.cpus;
			rc = run_cpu(m, cpu, m->cfg.slice);
			if (rc < 0)
				return rc;
			handle_event(m, cpu, false);
			cpu = (cpu + 1) % (int)m->cfg.cpus;
		} else {
			struct timespec ts = { 0, 2000000 };

			nanosleep(&ts, NULL);
		}
		/* Poll the line for a break-in every few milliseconds. */
		if (kd_mono_ms() < st.next_poll)
			continue;
		st.next_poll = kd_mono_ms() + SIM_BREAKIN_POLL_MS;
		if (kdstub_poll_breakin(&m->stub)) {
			int bc = 0;

			if (sim_select_cpu(m, bc) == 0) {
				uint64_t rip = sim_reg(m, UC_X86_REG_RIP);
				uint64_t p = 0;

				report(m, bc, KD_STATUS_BREAKPOINT, rip, 1, &p);
			}
		}
	}
	return KD_OK;
}
