/* SPDX-License-Identifier: MIT */
/*
 * Target conformance: the live target and the dump target answer the
 * same read-only commands the same way.  All real processes: kd attached
 * to kdsim (serial unix socket) runs a list of read-only commands and
 * writes `.dump /f` of that very stop; kd -z on the file runs the same
 * list.  Every output must be identical line for line, except the lines
 * listed in `allowed` below, each with the reason the two targets may
 * differ there.  Both sessions are also checked to have really answered
 * (registers, memory, modules), so two empty outputs cannot pass.
 *
 * The image-file target too: kd -z on the kernel image file kdsim loads
 * (ntoskrnl.exe of this build, at its ImageBase, not relocated) answers
 * the commands that only need the image (`image_cmds`: its code, headers,
 * read-only data and exports) exactly as the live machine does.
 */
#include "kdsim_client.h"
#include "kd_proc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "testsupport.h"

#define T_MS 60000 /* generous: .dump /f under ASan on a loaded VM */

/* Read-only commands both targets support. */
static const char *const cmds[] = {
	"vertarget",
	"r",
	"~1s; r; ~0s",
	"r rip, rsp, cr3",
	"lm",
	"lmv m nt",
	"k",
	"db fffff800`00400000 L80",
	"dd fffff800`10fff000 L20",
	"dq fffff800`00100000 L8",
	"dq @rsp L8",
	"u nt!KeWorkerStep L4",
	"u @rip L3",
	"!dq 100f80 L4",
	"!db 400000 L20",
	"!pte fffff800`10000000",
	"? nt!KeWorkerStep",
	"ln @rip",
	"x nt!Ke*",
	".bugcheck",
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

/* Read-only commands about the kernel image alone: code, headers,
 * read-only data, exports. */
static const char *const image_cmds[] = {
	"u nt!KeWorkerStep L4",
	"u nt!KiSystemStartup L6",
	"? nt!KeWorkerStep",
	"ln nt!KeWorkerStep+4",
	"x nt!Ke*",
	"db fffff800`00400000 L80",
	"db nt!NtBuildLab L40",
	"dq fffff800`00401000 L10",
};
#define NIMAGE (sizeof(image_cmds) / sizeof(image_cmds[0]))

/*
 * Lines that may differ, by command and line prefix, each with why.
 */
static const struct {
	const char *cmd;
	const char *prefix;
	const char *why;
} allowed[] = {
	{ "vertarget", "Debug session time: ",
	  "a live target has no clock kd can read (now); a dump has the "
	  "time it was written" },
	{ "vertarget", "System Uptime: ",
	  "a live target's uptime is not available over KD; the dump "
	  "header carries it" },
	{ ".bugcheck", "Bugcheck code ",
	  "the dump was written with LIVE_SYSTEM_DUMP (0x161); the live "
	  "system has not bug checked" },
	{ ".bugcheck", "Arguments ",
	  "the parameters of that LIVE_SYSTEM_DUMP bug check" },
};

static char dir[128], dump_path[192];

static char *cmd(struct kp *k, const char *c)
{
	char *out = kp_cmd(k, c, T_MS);

	if (!out)
		fail_msg("kd did not answer '%s'; stdout:\n%s\nstderr:\n%s", c,
			 k->out.data ? k->out.data : "",
			 k->err.data ? k->err.data : "");
	return out;
}

static void wait_prompt(struct kp *k)
{
	char *b = kp_wait_prompt(k, T_MS);

	if (!b)
		fail_msg("no prompt; stdout:\n%s\nstderr:\n%s",
			 k->out.data ? k->out.data : "",
			 k->err.data ? k->err.data : "");
	free(b);
}

static bool line_allowed(const char *c, const char *line, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		size_t pl = strlen(allowed[i].prefix);

		if (strcmp(allowed[i].cmd, c) == 0 && len >= pl &&
		    memcmp(line, allowed[i].prefix, pl) == 0)
			return true;
	}
	return false;
}

/* The next line of *p (without its '\n'), or NULL at the end. */
static const char *next_line(const char **p, size_t *len)
{
	const char *s = *p, *e;

	if (!s || !*s)
		return NULL;
	e = strchr(s, '\n');
	*len = e ? (size_t)(e - s) : strlen(s);
	*p = e ? e + 1 : s + *len;
	return s;
}

/* Line for line; an allowed line must differ in both at the same place. */
static void compare(const char *c, const char *live, const char *dump)
{
	const char *a = live, *b = dump, *la, *lb;
	size_t na = 0, nb = 0;
	unsigned line = 0;

	for (;;) {
		la = next_line(&a, &na);
		lb = next_line(&b, &nb);
		line++;
		if (!la && !lb)
			return;
		if (la && lb && na == nb && memcmp(la, lb, na) == 0)
			continue;
		if (la && lb && line_allowed(c, la, na) &&
		    line_allowed(c, lb, nb))
			continue;
		fail_msg("'%s' differs at line %u\n--- live:\n%s--- dump:\n%s",
			 c, line, live, dump);
	}
}

static void conformance(void **state)
{
	char sock[160], k[200], line[256];
	const char *simargs[] = { "-k",		k,	  "--mem-mib",
				  "96",		"--cpus", "2",
				  "--print-ms", "0",	  NULL };
	struct kc sim;
	struct kp kd;
	const char *kdargs[] = { "-k", sim.host_connstr, "-bonc", NULL };
	const char *zargs[] = { "-z", dump_path, NULL };
	char image[512];
	const char *iargs[] = { "-z", image, NULL };
	char *live[NCMDS], *live_image[NIMAGE], *out;
	size_t i;

	(void)state;
	snprintf(sock, sizeof(sock), "%s/live.sock", dir);
	snprintf(k, sizeof(k), "com:pipe,port=%s", sock);
	kc_spawn(&sim, simargs);
	kp_start(&kd, kdargs);
	wait_prompt(&kd);
	for (i = 0; i < NCMDS; i++)
		live[i] = cmd(&kd, cmds[i]);
	for (i = 0; i < NIMAGE; i++)
		live_image[i] = cmd(&kd, image_cmds[i]);
	snprintf(line, sizeof(line), ".dump /f %s", dump_path);
	out = cmd(&kd, line);
	if (!strstr(out, "Dump successfully written"))
		fail_msg(".dump /f printed:\n%s", out);
	free(out);
	kp_send(&kd, "q\n");
	if (kp_finish(&kd, T_MS) != 0) {
		for (i = 0; i < NCMDS; i++)
			print_message("live '%s':\n%s", cmds[i], live[i]);
		fail_msg("the live session failed a command");
	}
	kp_free(&kd);
	kc_stop(&sim);
	unlink(sock);

	/* The live answers are real: registers, memory, modules. */
	assert_non_null(strstr(live[1], "rip=fffff800004"));
	assert_non_null(strstr(live[4], "ntoskrnl.exe"));
	assert_non_null(strstr(live[7], "fffff800`00400000  4d 5a 90 00"));

	kp_start(&kd, zargs);
	wait_prompt(&kd);
	for (i = 0; i < NCMDS; i++) {
		out = cmd(&kd, cmds[i]);
		compare(cmds[i], live[i], out);
		free(out);
		free(live[i]);
	}
	kp_send(&kd, "q\n");
	assert_int_equal(kp_finish(&kd, T_MS), 0);
	kp_free(&kd);

	/* The kernel's image file: the same answers as the live kernel. */
	assert_non_null(strstr(live_image[0], "nt!KeWorkerStep:\n"));
	assert_non_null(strstr(live_image[5], "  4d 5a 90 00"));
	kdt_build_path(image, sizeof(image),
		       "firmware-stubs/sim/kernel/ntoskrnl.exe");
	kp_start(&kd, iargs);
	wait_prompt(&kd);
	for (i = 0; i < NIMAGE; i++) {
		out = cmd(&kd, image_cmds[i]);
		compare(image_cmds[i], live_image[i], out);
		free(out);
		free(live_image[i]);
	}
	kp_send(&kd, "q\n");
	assert_int_equal(kp_finish(&kd, T_MS), 0);
	kp_free(&kd);
}

static int setup(void **state)
{
	(void)state;
	if (!kp_kd_path())
		return -1;
	snprintf(dir, sizeof(dir), "/tmp/openkd-conf-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(dump_path, sizeof(dump_path), "%s/full.dmp", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(dump_path);
	rmdir(dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(conformance),
	};

	if (!kp_kd_path())
		return 77;
	return cmocka_run_group_tests(tests, setup, teardown);
}
