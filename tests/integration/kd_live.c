/* SPDX-License-Identifier: MIT */
/*
 * `kd` against a live kdsim, both real processes: over the serial unix
 * socket and over KDNET on loopback.  Attach banners, breakpoints on real
 * code (plain, one-shot, with a pass count, conditional with j/gc), single
 * step, step over a call, go up, a stack walk through several frames,
 * break-in while running, processor switch, and a reboot with re-attach.
 */
#include "kdsim_client.h"
#include "kd_proc.h"

#include <kdsim/pe.h>
#include "testsupport.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define T_MS 20000

/* An export of the kernel image kdsim loads, read from the file. */
struct image_fn {
	uint64_t addr;
	uint8_t code[16];
	unsigned first_len; /* length of its first (prologue) instruction */
	char first_hex[16]; /* its bytes as WinDbg shows them: "4156" */
};

static void image_export(const char *name, struct image_fn *f)
{
	char path[512];
	size_t len = 0;
	uint8_t *d, *img;
	struct kdsim_pe pe;
	uint32_t rva;
	unsigned i;

	kdt_build_path(path, sizeof(path),
		       "firmware-stubs/sim/kernel/ntoskrnl.exe");
	d = kdt_read_file(path, &len);
	if (!d) {
		fprintf(stderr, "kernel image %s not built: skipped\n", path);
		exit(77);
	}
	assert_int_equal(kdsim_pe_parse(&pe, d, len, NULL), KD_OK);
	img = malloc(pe.size_of_image);
	assert_non_null(img);
	assert_int_equal(kdsim_pe_layout(&pe, d, len, img, pe.size_of_image),
			 KD_OK);
	rva = kdsim_pe_export(img, pe.size_of_image, name);
	assert_true(rva != 0 && rva + sizeof(f->code) <= pe.size_of_image);
	f->addr = pe.image_base + rva;
	memcpy(f->code, img + rva, sizeof(f->code));
	free(img);
	free(d);
	/* push r64, push r8-r15, sub rsp,imm8: what a prologue starts with */
	if ((f->code[0] & 0xf8) == 0x50)
		f->first_len = 1;
	else if (f->code[0] == 0x41 && (f->code[1] & 0xf8) == 0x50)
		f->first_len = 2;
	else if (memcmp(f->code, "\x48\x83\xec", 3) == 0)
		f->first_len = 4;
	assert_true(f->first_len != 0);
	for (i = 0; i < f->first_len; i++)
		snprintf(f->first_hex + 2 * i, 3, "%02x", f->code[i]);
}

/* fffff800`00401830 */
static const char *fmt_addr(uint64_t a, char *buf, size_t cap)
{
	snprintf(buf, cap, "%08llx`%08llx", (unsigned long long)(a >> 32),
		 (unsigned long long)(a & 0xffffffffu));
	return buf;
}

struct live {
	struct kc sim;
	struct kp kd;
	char sock[128];
};

static uint64_t reg_in(const char *out, const char *name)
{
	char key[16];
	const char *p;

	snprintf(key, sizeof(key), "%s=", name);
	p = strstr(out, key);
	assert_non_null(p);
	return strtoull(p + strlen(key), NULL, 16);
}

static char *cmd(struct live *l, const char *c)
{
	char *out = kp_cmd(&l->kd, c, T_MS);

	if (!out)
		fail_msg("kd did not answer '%s'; stdout so far:\n%s\nstderr:"
			 "\n%s",
			 c, l->kd.out.data ? l->kd.out.data : "",
			 l->kd.err.data ? l->kd.err.data : "");
	return out;
}

static void expect(struct live *l, const char *c, const char *needle)
{
	char *out = cmd(l, c);

	if (!strstr(out, needle))
		fail_msg("'%s' printed:\n%s\nexpected: %s", c, out, needle);
	free(out);
}

static void start(struct live *l, bool kdnet, const char *cpus)
{
	char k[160], host[sizeof(l->sim.host_connstr)];
	const char *kdargs[] = { "-k", host, "-bonc", NULL };
	int port = 20000 + (int)(getpid() % 20000);
	char *banner;

	memset(l, 0, sizeof(*l));
	if (kdnet) {
		snprintf(
			k, sizeof(k),
			"net:port=%d,key=1.2.3.4,hostip=127.0.0.1,offer_ms=200",
			port);
		snprintf(host, sizeof(host), "net:port=%d,key=1.2.3.4", port);
	} else {
		snprintf(l->sock, sizeof(l->sock), "/tmp/openkd-kdlive-%d.sock",
			 (int)getpid());
		snprintf(k, sizeof(k), "com:pipe,port=%s", l->sock);
	}
	{
		const char *args[] = { "-k",	 k,    "--print-ms", "0",
				       "--cpus", cpus, NULL };

		kc_spawn(&l->sim, args);
	}
	if (!kdnet)
		snprintf(host, sizeof(host), "%s", l->sim.host_connstr);
	kp_start(&l->kd, kdargs);
	banner = kp_wait_prompt(&l->kd, T_MS);
	if (!banner)
		fail_msg("no prompt; stdout:\n%s\nstderr:\n%s",
			 l->kd.out.data ? l->kd.out.data : "",
			 l->kd.err.data ? l->kd.err.data : "");
	/* windbg-conventions §4.1 banners */
	if (kdnet) {
		assert_non_null(strstr(banner, "Using NET for debugging"));
		assert_non_null(strstr(banner, "Connected to target"));
	} else {
		assert_non_null(strstr(banner, "Opened /tmp/openkd-kdlive-"));
	}
	assert_non_null(strstr(banner, "Waiting to reconnect..."));
	assert_non_null(strstr(
		banner, "Connected to Windows 10 19041 x64 target at ("));
	assert_non_null(strstr(banner, "), ptr64 TRUE"));
	assert_non_null(
		strstr(banner, "Kernel Debugger connection established."));
	assert_non_null(strstr(banner, "Kernel Version 19041 MP ("));
	assert_non_null(strstr(banner, "Kernel base = 0xfffff800`00400000 "
				       "PsLoadedModuleList = 0xfffff800`"));
	assert_non_null(strstr(banner, "Break instruction exception - code "
				       "80000003 (first chance)"));
	assert_non_null(strstr(banner, "THIS IS NOT A BUG OR A SYSTEM CRASH"));
	free(banner);
}

static void stop(struct live *l)
{
	kp_send(&l->kd, "q\n");
	assert_int_equal(kp_finish(&l->kd, T_MS), 0);
	kp_free(&l->kd);
	kc_stop(&l->sim);
	if (l->sock[0])
		unlink(l->sock);
}

static void session(bool kdnet)
{
	struct live l;
	char *out, line[128], at[24];
	uint64_t call_at, rsp_in;
	struct image_fn ke;

	/* Where KeWorkerStep is and how it starts come from the image. */
	image_export("KeWorkerStep", &ke);
	fmt_addr(ke.addr, at, sizeof(at));
	start(&l, kdnet, "2");
	expect(&l, "vertarget",
	       "Windows 10 Kernel Version 19041 MP (2 procs) "
	       "Free x64");

	/* A breakpoint on real code, listed, hit. */
	expect(&l, "bp nt!KeWorkerStep", "");
	snprintf(line, sizeof(line), "e  %s     0001 (0001) nt!KeWorkerStep",
		 at);
	expect(&l, "bl", line);
	out = cmd(&l, "g");
	assert_non_null(strstr(out, "Breakpoint 0 hit"));
	snprintf(line, sizeof(line), "nt!KeWorkerStep:\n%s %s ", at,
		 ke.first_hex);
	assert_non_null(strstr(out, line));
	free(out);
	/* The other processor would hit it too while we step. */
	expect(&l, "bc *", "");

	/* t: one instruction, the registers and the next instruction. */
	out = cmd(&l, "t");
	assert_int_equal(reg_in(out, "rip"), ke.addr + ke.first_len);
	snprintf(line, sizeof(line), "nt!KeWorkerStep+0x%x:", ke.first_len);
	assert_non_null(strstr(out, line));
	assert_non_null(strstr(out, "iopl=0"));
	free(out);

	/* pc: run to the call of RtlComputeCrc32; p steps over it. */
	out = cmd(&l, "pc");
	call_at = reg_in(out, "rip");
	assert_non_null(strstr(out, "call"));
	assert_non_null(strstr(out, "nt!RtlComputeCrc32"));
	free(out);
	out = cmd(&l, "p");
	assert_int_equal(reg_in(out, "rip"), call_at + 5);
	free(out);

	/* Into the next call (RtlFibonacci) and back out with gu. */
	out = cmd(&l, "pc");
	call_at = reg_in(out, "rip");
	free(out);
	out = cmd(&l, "t");
	assert_non_null(strstr(out, "nt!RtlFibonacci:"));
	rsp_in = reg_in(out, "rsp");
	free(out);

	/* A stack walk through several frames with the unwind data. */
	out = cmd(&l, "k");
	assert_non_null(strstr(out, " # Child-SP          RetAddr"));
	assert_non_null(strstr(out, "00 "));
	assert_non_null(strstr(out, "nt!RtlFibonacci"));
	snprintf(line, sizeof(line), "nt!KeWorkerStep+0x%llx",
		 (unsigned long long)(call_at + 5 - ke.addr));
	assert_non_null(strstr(out, line));
	assert_non_null(strstr(out, "02 "));
	assert_non_null(strstr(out, "nt!KiSystemStartup+0x"));
	free(out);

	out = cmd(&l, "gu");
	assert_int_equal(reg_in(out, "rip"), call_at + 5);
	assert_true(reg_in(out, "rsp") > rsp_in);
	free(out);

	/* Pass count: the third hit stops. */
	expect(&l, "bc *", "");
	expect(&l, "bp nt!RtlFibonacci 3", "");
	expect(&l, "bl", "0003 (0003) nt!RtlFibonacci");
	out = cmd(&l, "g");
	assert_non_null(strstr(out, "Breakpoint 0 hit"));
	free(out);
	expect(&l, "bc 0", "");

	/* Conditional: j on processor 1's argument, gc otherwise. */
	expect(&l, "bp nt!KeWorkerStep \"j (@rcx == 1) ''; 'gc'\"", "");
	out = cmd(&l, "g");
	assert_non_null(strstr(out, "Breakpoint 0 hit"));
	free(out);
	out = cmd(&l, "r rcx");
	assert_non_null(strstr(out, "rcx=0000000000000001"));
	free(out);
	assert_true(strstr(l.kd.out.data, "1: kd> ") != NULL);

	/* Disabled breakpoints do not stop; one-shot ones vanish. */
	expect(&l, "bd 0", "");
	snprintf(line, sizeof(line), "  0 d  %s", at);
	expect(&l, "bl", line);
	expect(&l, "bc *", "");
	expect(&l, "bp /1 nt!RtlComputeCrc32", "");
	out = cmd(&l, "g");
	assert_non_null(strstr(out, "Breakpoint 0 hit"));
	free(out);
	out = cmd(&l, "bl");
	assert_null(strstr(out, "RtlComputeCrc32"));
	free(out);

	/* Hardware execute breakpoint through the debug registers. */
	expect(&l, "ba e1 nt!RtlFibonacci", "");
	expect(&l, "bl", "e 1 0001 (0001) nt!RtlFibonacci");
	out = cmd(&l, "g");
	assert_non_null(strstr(out, "Breakpoint 0 hit"));
	assert_non_null(strstr(out, "nt!RtlFibonacci:"));
	free(out);
	expect(&l, "bc *", "");

	/* Processor switch. */
	expect(&l, "~0s", "");
	expect(&l, "r rip", "rip=");
	assert_non_null(strstr(l.kd.out.data, "0: kd> "));

	/* Break-in while running (Ctrl+C = SIGINT to kd). */
	assert_true(kp_send(&l.kd, "g\n"));
	kc_sleep_ms(300);
	kp_interrupt(&l.kd);
	out = kp_wait_prompt(&l.kd, T_MS);
	assert_non_null(out);
	assert_non_null(strstr(out, "Break instruction exception - code "
				    "80000003 (first chance)"));
	assert_non_null(strstr(out, "CTRL+C"));
	free(out);
	stop(&l);
}

static void test_serial_session(void **state)
{
	(void)state;
	session(false);
}

static void test_kdnet_session(void **state)
{
	(void)state;
	if (!kd_transport_available("net"))
		skip();
	session(true);
}

/* .reboot: the target restarts, kd says so and attaches again. */
static void test_reboot_reattach(void **state)
{
	struct live l;
	char *out;

	(void)state;
	start(&l, false, "1");
	out = kp_cmd(&l.kd, ".reboot", 30000);
	assert_non_null(out);
	assert_non_null(strstr(out, "Shutdown occurred at ("));
	assert_non_null(strstr(out, "Waiting to reconnect..."));
	assert_non_null(strstr(out, "Connected to Windows 10 19041 x64"));
	free(out);
	expect(&l, "r rip", "rip=fffff800");
	expect(&l, "vertarget", "Windows 10 Kernel Version 19041 MP (1 procs)");
	stop(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serial_session),
		cmocka_unit_test(test_kdnet_session),
		cmocka_unit_test(test_reboot_reattach),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
