/* SPDX-License-Identifier: MIT */
/*
 * kd: the console kernel debugger.  Reads WinDbg's kd command line,
 * attaches the engine to the target and runs commands from -cf, -c and
 * then the console (libedit) or a pipe, until `q` or end of input.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>
#include <wchar.h>

#include <kd/clock.h>
#include <kd/engine.h>
#include <kd/error.h>
#include <kd/textsafe.h>

#include "remote.h"

#ifdef KD_HAVE_LIBEDIT
#include <histedit.h>
#endif

#ifndef KD_VERSION_STRING
#define KD_VERSION_STRING "0.0.0"
#endif

/* Exit status (docs/kd.md). */
#define KD_EXIT_OK 0
#define KD_EXIT_FAILED 1 /* a command failed */
#define KD_EXIT_USAGE 2	 /* bad command line, or a mode not there yet */
#define KD_EXIT_ATTACH 3 /* the target could not be reached in time */

#define KD_BATCH_TIMEOUT_MS 10000
#define KD_WATCHDOG_GRACE_MS 1000

struct kd_args {
	const char *connstr; /* -k */
	const char *dump;    /* -z */
	const char *cmds;    /* -c */
	const char *script;  /* -cf / -cfr */
	const char *log;     /* -logo / -loga */
	bool log_append;
	bool bonc;	     /* -bonc, -b */
	bool quiet;	     /* -kqm */
	bool version;	     /* -version */
	int timeout_ms;	     /* --timeout; 0 = default */
	const char *server;  /* -server SPEC */
	const char *remote;  /* -remote SPEC */
	const char *sympath; /* -y */
	/* -lines -n -s -ses -sins -sflags: SYMOPT_* bits to set and clear */
	uint32_t symopt_set, symopt_clear;
};

static struct kd_session *g_session;

/*
 * Attach watchdog: the engine bounds attaching by the attach timeout, but
 * a transport may block longer (a socket that never appears); then the
 * SIGALRM (or a second Ctrl+C while attaching) ends kd with status 3 and
 * this message, written with write(2) from the handler.
 */
static volatile sig_atomic_t g_attaching;
static volatile sig_atomic_t g_sigints;
static char g_attach_msg[768];
static size_t g_attach_msg_len;

/* Set when the target was lost while running: exit status 1. */
static bool g_wait_failed;

static void kd_usage(FILE *f)
{
	fputs("usage: kd [-k ConnectString] [-c \"cmd; cmd\"] [-cf Script]\n"
	      "          [-logo LogFile | -loga LogFile] [-bonc]\n"
	      "          [--timeout MS] [-y SymbolPath] [-lines] [-n] [-s] "
	      "[-ses] [-sins]\n"
	      "          [-sflags 0xNumber] [-v] [-version] [-?]\n"
	      "\n"
	      "  -k com:port=/dev/ttyS0,baud=115200   serial line\n"
	      "  -k com:pipe,port=/path/vm.sock[,reconnect]  VM serial "
	      "port (unix socket)\n"
	      "  -k com:ipport=5555,port=127.0.0.1    serial over TCP\n"
	      "  -k net:port=50000,key=a.b.c.d        KDNET\n"
	      "  -c \"cmds\"     commands to run after the initial break\n"
	      "  -cf file      script to run first ($< semantics)\n"
	      "  -logo file    write a log (overwrite); -loga appends\n"
	      "  -bonc         break in as soon as the session starts\n"
	      "  --timeout MS  bound for attaching and each request "
	      "(default 10000\n"
	      "                when input is not a terminal)\n"
	      "  -z file       open a crash dump (MEMORY.DMP) or a PE image "
	      "(.exe/.dll/.sys)\n"
	      "                as a read-only target\n"
	      "  -server tcp:port=P[,password=X]   share the session "
	      "(first option)\n"
	      "  -remote tcp:server=H,port=P[,password=X] | relay:NAME\n"
	      "                join a debugging server (first option)\n"
	      "\n"
	      "Exit status: 0 all commands succeeded, 1 a command failed, "
	      "2 usage error,\n"
	      "3 the target could not be attached.  See docs/kd.md.\n",
	      f);
}

static int usage_error(const char *fmt, ...) KD_PRINTF(1, 2);

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("kd: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\nRun 'kd -?' for the usage.\n", stderr);
	va_end(ap);
	return KD_EXIT_USAGE;
}

/* Options that take a value, and those that are accepted and ignored. */
static const char *const value_opts[] = {
	"k",	   "c",	    "cf",     "cfr",	"logo",	   "loga",
	"logou",   "logau", "y",      "i",	"srcpath", "z",
	"timeout", "t",	    "remote", "server", "sflags",  NULL,
};
static const char *const ignored_opts[] = {
	"v", "myob", "noshell", "q", "qy", "qs", "qsy", NULL,
};

/* Switches that set or clear one symbol option (symbols.md §2.4). */
static const struct {
	const char *name;
	uint32_t set, clear;
} symopt_switches[] = {
	{ "lines", 0x10, 0 },	 /* SYMOPT_LOAD_LINES */
	{ "n", 0x80000000u, 0 }, /* SYMOPT_DEBUG: noisy loading */
	{ "s", 0, 0x4 },	 /* SYMOPT_DEFERRED_LOADS off */
	{ "ses", 0x400, 0 },	 /* SYMOPT_EXACT_SYMBOLS */
	{ "sins", 0x1000, 0 },	 /* SYMOPT_IGNORE_NT_SYMPATH */
};

/* -sflags 0xNumber: the whole mask. */
static int parse_sflags(const char *v, uint32_t *out)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(v, &end, 0);
	if (errno || end == v || *end != '\0' || n > UINT32_MAX)
		return -1;
	*out = (uint32_t)n;
	return 0;
}

static bool in_list(const char *const *list, const char *name)
{
	for (; *list; list++) {
		if (strcasecmp(*list, name) == 0)
			return true;
	}
	return false;
}

static bool symopt_switch(const char *name, struct kd_args *a)
{
	size_t i;

	for (i = 0; i < sizeof(symopt_switches) / sizeof(symopt_switches[0]);
	     i++) {
		if (strcasecmp(symopt_switches[i].name, name) != 0)
			continue;
		a->symopt_set = (a->symopt_set & ~symopt_switches[i].clear) |
				symopt_switches[i].set;
		a->symopt_clear = (a->symopt_clear & ~symopt_switches[i].set) |
				  symopt_switches[i].clear;
		return true;
	}
	return false;
}

static int parse_timeout(const char *v, int *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end != '\0' || n <= 0 || n > INT_MAX)
		return -1;
	*out = (int)n;
	return 0;
}

/*
 * Parse argv.  Returns -1 to go on, or the exit status to leave with
 * (after -?, -version, or an error already printed).
 */
static int parse_args(int argc, char **argv, struct kd_args *a)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const char *name, *val = NULL;
		char buf[32];
		const char *eq;

		if (arg[0] != '-' && arg[0] != '/')
			return usage_error("unexpected argument '%s'", arg);
		name = arg + 1;
		if (name[0] == '-') /* --timeout, --help */
			name++;
		eq = strchr(name, '=');
		if (eq && (size_t)(eq - name) < sizeof(buf) && arg[1] == '-') {
			memcpy(buf, name, (size_t)(eq - name));
			buf[eq - name] = '\0';
			name = buf;
			val = eq + 1;
		}
		if (strcmp(name, "remote") == 0 ||
		    strcmp(name, "server") == 0) {
			if (i != 1)
				return usage_error("%s must be the first "
						   "option",
						   arg);
			if (i + 1 >= argc)
				return usage_error("%s needs a value", arg);
			if (name[0] == 'r')
				a->remote = argv[++i];
			else
				a->server = argv[++i];
			continue;
		}
		if (strcmp(name, "?") == 0 || strcasecmp(name, "h") == 0 ||
		    strcasecmp(name, "help") == 0) {
			kd_usage(stdout);
			return KD_EXIT_OK;
		}
		if (strcasecmp(name, "version") == 0) {
			a->version = true;
			continue;
		}
		if (in_list(ignored_opts, name))
			continue;
		if (symopt_switch(name, a))
			continue;
		if (strcasecmp(name, "bonc") == 0 ||
		    strcasecmp(name, "b") == 0) {
			a->bonc = true;
			continue;
		}
		if (strcasecmp(name, "kqm") == 0) {
			a->quiet = true;
			continue;
		}
		if (!in_list(value_opts, name))
			return usage_error("unknown switch '%s'", arg);
		if (!val) {
			if (i + 1 >= argc)
				return usage_error("%s needs a value", arg);
			val = argv[++i];
		}
		if (strcasecmp(name, "k") == 0) {
			a->connstr = val;
		} else if (strcasecmp(name, "c") == 0) {
			a->cmds = val;
		} else if (strcasecmp(name, "cf") == 0 ||
			   strcasecmp(name, "cfr") == 0) {
			a->script = val;
		} else if (strncasecmp(name, "log", 3) == 0) {
			a->log = val;
			a->log_append = tolower((unsigned char)name[3]) == 'a';
		} else if (strcasecmp(name, "timeout") == 0) {
			if (parse_timeout(val, &a->timeout_ms) < 0)
				return usage_error("bad --timeout '%s' "
						   "(milliseconds, > 0)",
						   val);
		} else if (strcasecmp(name, "z") == 0) {
			a->dump = val;
		} else if (strcasecmp(name, "y") == 0) {
			a->sympath = val;
		} else if (strcasecmp(name, "sflags") == 0) {
			uint32_t v;

			if (parse_sflags(val, &v) < 0)
				return usage_error("bad -sflags '%s' (a 32-bit "
						   "number, e.g. 0xB0227)",
						   val);
			/* The whole mask: switches before it are
			 * overridden, later ones still apply. */
			a->symopt_clear = 0xFFFFFFFFu;
			a->symopt_set = v;
		}
		/* -i, -srcpath, -t: accepted, nothing to do yet. */
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* Console I/O                                                         */
/* ------------------------------------------------------------------ */

static void write_stdout(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	fwrite(text, 1, len, stdout);
	fflush(stdout);
}

/* GetString prompts from the target, `e` without values. */
static int read_stdin(void *ctx, const char *prompt, char *buf, size_t cap)
{
	(void)ctx;
	if (cap < 2 || cap > INT_MAX)
		return KD_EINVAL;
	fputs(prompt, stdout);
	fflush(stdout);
	if (!fgets(buf, (int)cap, stdin))
		return KD_EDISCONNECTED;
	buf[strcspn(buf, "\r\n")] = '\0';
	return KD_OK;
}

static void attach_give_up(void)
{
	ssize_t r = write(STDERR_FILENO, g_attach_msg, g_attach_msg_len);

	(void)r;
	_exit(KD_EXIT_ATTACH);
}

static void on_sigint(int sig)
{
	(void)sig;
	if (g_attaching && g_sigints++ > 0)
		attach_give_up();
	if (g_session)
		kd_session_interrupt(g_session);
}

static void on_alarm(int sig)
{
	(void)sig;
	if (g_attaching)
		attach_give_up();
}

/* Arm (ms > 0) or disarm (0) the attach watchdog. */
static void kd_watchdog(int ms)
{
	struct itimerval it;

	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = ms / 1000;
	it.it_value.tv_usec = (ms % 1000) * 1000;
	setitimer(ITIMER_REAL, &it, NULL);
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: blocking reads return */
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* While the target runs (after `g`), wait for it: input is not read. */
static void wait_target(struct kd_session *s)
{
	while (kd_session_running(s) && !kd_session_quit_requested(s)) {
		int rc = kd_session_wait(s, -1);

		if (rc == KD_OK || rc == KD_ETIMEOUT)
			continue;
		fprintf(stderr, "kd: waiting for the target failed: %s\n",
			kd_error_message(rc));
		g_wait_failed = true;
		return;
	}
}

/* Run one typed line; the log gets the prompt and the line. */
static void run_typed(struct kd_session *s, const char *line)
{
	kd_session_echo_local(s, line);
	kd_session_log_command(s, line);
	kd_session_execute(s, line);
	wait_target(s);
}

/* Bytes of stdin read ahead of the current line (the pipe loop). */
struct kd_inbuf {
	char *buf;
	size_t len, cap;
	bool eof;
};

/* Take one whole line (malloc'd, without its newline) or NULL. */
static char *inbuf_line(struct kd_inbuf *in)
{
	char *nl = in->len ? memchr(in->buf, '\n', in->len) : NULL;
	size_t n = nl ? (size_t)(nl - in->buf) : in->len;
	char *line;

	if (!nl && !(in->eof && in->len))
		return NULL;
	line = malloc(n + 1);
	if (!line)
		return NULL;
	memcpy(line, in->buf, n);
	line[n] = '\0';
	line[strcspn(line, "\r")] = '\0';
	n = nl ? n + 1 : n;
	memmove(in->buf, in->buf + n, in->len - n);
	in->len -= n;
	return line;
}

/* Read what stdin has (returns false on EINTR). */
static bool inbuf_fill(struct kd_inbuf *in)
{
	ssize_t r;

	if (in->len + 4096 > in->cap) {
		size_t cap = in->cap ? in->cap * 2 : 8192;
		char *b = realloc(in->buf, cap);

		if (!b) {
			in->eof = true;
			return true;
		}
		in->buf = b;
		in->cap = cap;
	}
	r = read(STDIN_FILENO, in->buf + in->len, 4096);
	if (r < 0 && errno == EINTR)
		return false;
	if (r <= 0)
		in->eof = true;
	else
		in->len += (size_t)r;
	return true;
}

/*
 * Input from a pipe or file: prompt, read a line, run it.  While waiting
 * for the line, commands from debugging-server clients run too.
 */
static void loop_pipe(struct kd_session *s)
{
	struct kd_inbuf in = { NULL, 0, 0, false };

	for (;;) {
		char *line;

		wait_target(s);
		kd_session_service(s, false);
		if (kd_session_quit_requested(s))
			break;
		fputs(kd_session_prompt(s), stdout);
		fflush(stdout);
		line = inbuf_line(&in);
		while (!line && !in.eof && !kd_session_quit_requested(s)) {
			struct pollfd pfd[2] = {
				{ STDIN_FILENO, POLLIN, 0 },
				{ kd_session_poll_fd(s), POLLIN, 0 },
			};
			int n = poll(pfd, pfd[1].fd >= 0 ? 2 : 1, -1);

			if (n < 0 && errno != EINTR)
				break;
			if (n < 0) {
				/* Ctrl+C at the prompt: a fresh prompt. */
				fputc('\n', stdout);
				fputs(kd_session_prompt(s), stdout);
				fflush(stdout);
				continue;
			}
			if (pfd[1].fd >= 0 && (pfd[1].revents & POLLIN) &&
			    kd_session_service(s, true) > 0 &&
			    !kd_session_quit_requested(s)) {
				fputs(kd_session_prompt(s), stdout);
				fflush(stdout);
			}
			if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
				if (!inbuf_fill(&in)) {
					fputc('\n', stdout);
					fputs(kd_session_prompt(s), stdout);
					fflush(stdout);
				}
			}
			line = inbuf_line(&in);
		}
		if (!line) {
			if (!kd_session_quit_requested(s))
				fputc('\n', stdout);
			break;
		}
		run_typed(s, line);
		free(line);
	}
	free(in.buf);
}

#ifdef KD_HAVE_LIBEDIT
/*
 * libedit's character reader: waits on the terminal and on the session's
 * remote-event fd together, so debugging-server clients are served while
 * the user edits a line (the line is redrawn after their output).
 */
static int kd_el_getc(EditLine *el, wchar_t *wc)
{
	static mbstate_t mbs;

	for (;;) {
		struct pollfd pfd[2] = {
			{ STDIN_FILENO, POLLIN, 0 },
			{ kd_session_poll_fd(g_session), POLLIN, 0 },
		};
		char ch;
		ssize_t r;
		size_t n;

		if (poll(pfd, pfd[1].fd >= 0 ? 2 : 1, -1) < 0)
			return -1; /* EINTR: Ctrl+C, el_gets returns */
		if (pfd[1].fd >= 0 && (pfd[1].revents & POLLIN)) {
			if (kd_session_service(g_session, true) > 0)
				el_set(el, EL_REFRESH);
			if (kd_session_quit_requested(g_session))
				return 0;
			continue;
		}
		r = read(STDIN_FILENO, &ch, 1);
		if (r <= 0)
			return r == 0 ? 0 : -1;
		n = mbrtowc(wc, &ch, 1, &mbs);
		if (n == (size_t)-2)
			continue; /* more bytes of this character */
		if (n == (size_t)-1) {
			memset(&mbs, 0, sizeof(mbs));
			*wc = (wchar_t)(unsigned char)ch;
		}
		return 1;
	}
}

static char *el_prompt(EditLine *el)
{
	(void)el;
	return (char *)kd_session_prompt(g_session);
}

/* The console: libedit line editing, ~/.kd_history, Enter repeats. */
static void loop_tty(struct kd_session *s)
{
	char hist_path[1024] = "";
	const char *home = getenv("HOME");
	char *last = NULL;
	HistEvent ev;
	History *h;
	EditLine *el;

	el = el_init("kd", stdin, stdout, stderr);
	h = history_init();
	if (!el || !h) {
		if (el)
			el_end(el);
		if (h)
			history_end(h);
		loop_pipe(s);
		return;
	}
	history(h, &ev, H_SETSIZE, 1000);
	history(h, &ev, H_SETUNIQUE, 1);
	el_set(el, EL_EDITOR, "emacs");
	el_set(el, EL_PROMPT, el_prompt);
	el_set(el, EL_HIST, history, h);
	el_set(el, EL_GETCFN, kd_el_getc);
	if (home && *home)
		snprintf(hist_path, sizeof(hist_path), "%s/.kd_history", home);
	if (hist_path[0])
		history(h, &ev, H_LOAD, hist_path);
	for (;;) {
		const char *got;
		char *line;
		int count = 0;

		wait_target(s);
		kd_session_service(s, false);
		if (kd_session_quit_requested(s))
			break;
		errno = 0;
		got = el_gets(el, &count);
		if (!got) {
			if (count < 0 && errno == EINTR) {
				fputc('\n', stdout);
				continue;
			}
			fputc('\n', stdout);
			break;
		}
		line = strdup(got);
		if (!line)
			break;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[strspn(line, " \t")] == '\0') {
			/* Enter alone repeats the last command (WinDbg). */
			free(line);
			if (last)
				run_typed(s, last);
			continue;
		}
		history(h, &ev, H_ENTER, line);
		if (hist_path[0])
			history(h, &ev, H_SAVE, hist_path);
		free(last);
		last = line;
		run_typed(s, line);
	}
	free(last);
	history_end(h);
	el_end(el);
}
#else
static void loop_tty(struct kd_session *s)
{
	loop_pipe(s);
}
#endif

/* ------------------------------------------------------------------ */
/* main                                                                */
/* ------------------------------------------------------------------ */

/* Run a command built from @p a and @p b ("$<" + path, ".logopen " ...). */
static void run_built(struct kd_session *s, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *cmd = malloc(la + lb + 1);

	if (!cmd) {
		fputs("kd: out of memory\n", stderr);
		return;
	}
	memcpy(cmd, a, la);
	memcpy(cmd + la, b, lb + 1);
	kd_session_execute(s, cmd);
	free(cmd);
}

int main(int argc, char **argv)
{
	struct kd_session_opts opts = KD_SESSION_OPTS_INIT;
	struct kd_args a;
	struct kd_session *s;
	bool tty = isatty(STDIN_FILENO) != 0;
	int rc, status;

	memset(&a, 0, sizeof(a));
	rc = parse_args(argc, argv, &a);
	if (rc >= 0)
		return rc;
	if (a.remote)
		return kd_remote_main(a.remote, a.script, a.cmds, a.timeout_ms);
	if (a.version) {
		printf("kd (openkd) version %s\n", KD_VERSION_STRING);
		if (!a.connstr && !a.cmds && !a.script)
			return KD_EXIT_OK;
	}
	if (!a.timeout_ms && !tty)
		a.timeout_ms = KD_BATCH_TIMEOUT_MS;
	opts.attach_timeout_ms = a.timeout_ms;
	opts.request_timeout_ms = a.timeout_ms;
	opts.break_on_connect = a.bonc;
	opts.quiet = a.quiet;
	rc = kd_session_new(&s, &opts);
	if (rc < 0) {
		fprintf(stderr, "kd: cannot start a session: %s\n",
			kd_error_message(rc));
		return KD_EXIT_FAILED;
	}
	g_session = s;
	kd_session_set_output(s, write_stdout, NULL);
	kd_session_set_input(s, read_stdin, NULL);
	/* The options first: -sins must keep the environment's path out. */
	if (a.symopt_set || a.symopt_clear)
		kd_session_change_symopt(s, a.symopt_set, a.symopt_clear);
	if (a.sympath && kd_session_set_sympath(s, a.sympath) < 0) {
		fprintf(stderr, "kd: -y: %s\n", kd_error_last()->message);
		g_session = NULL;
		kd_session_free(s);
		return KD_EXIT_USAGE;
	}
	install_signals();
	if (a.server && kd_session_server_start(s, a.server) < 0) {
		g_session = NULL;
		kd_session_free(s);
		return KD_EXIT_USAGE;
	}

	if (a.log) {
		/* Quoted so blanks and `;` in the name survive. */
		size_t qn = strlen(a.log) + 3;
		char *q = malloc(qn);

		if (q) {
			snprintf(q, qn, "\"%s\"", a.log);
			run_built(s, a.log_append ? ".logappend " : ".logopen ",
				  q);
			free(q);
		}
	}
	if (a.connstr) {
		uint64_t t0 = kd_mono_ms();
		char shown[1024];
		int n;

		/* kdsrv:server=@{...,password=X}: never shown. */
		kd_text_redact(shown, sizeof(shown), a.connstr);
		n = snprintf(g_attach_msg, sizeof(g_attach_msg),
			     "\nkd: gave up attaching to '%s' after %d ms: "
			     "the target did not answer\n",
			     shown, a.timeout_ms + KD_WATCHDOG_GRACE_MS);
		g_attach_msg_len = n < 0 ? 0 :
				   (size_t)n < sizeof(g_attach_msg) ?
					   (size_t)n :
					   sizeof(g_attach_msg) - 1;
		g_attaching = 1;
		if (a.timeout_ms)
			kd_watchdog(a.timeout_ms + KD_WATCHDOG_GRACE_MS);
		rc = kd_session_attach(s, a.connstr);
		kd_watchdog(0);
		g_attaching = 0;
		if (rc < 0) {
			uint64_t waited = kd_mono_ms() - t0;

			fprintf(stderr,
				"kd: could not attach to '%s' (waited %llu "
				"ms, limit %d ms): %s\n",
				shown, (unsigned long long)waited,
				a.timeout_ms ? a.timeout_ms : 10000,
				kd_error_message(rc));
			g_session = NULL;
			kd_session_servers_close(s, NULL);
			kd_session_free(s);
			return KD_EXIT_ATTACH;
		}
	}
	if (a.dump && !a.connstr) {
		rc = kd_session_open_dump(s, a.dump);
		if (rc < 0) {
			fprintf(stderr,
				"kd: could not open '%s': "
				"%s\n",
				a.dump, kd_error_message(rc));
			g_session = NULL;
			kd_session_servers_close(s, NULL);
			kd_session_free(s);
			return KD_EXIT_ATTACH;
		}
	}
	if (a.script && !kd_session_quit_requested(s))
		run_built(s, "$<", a.script);
	if (a.cmds && !kd_session_quit_requested(s)) {
		kd_session_print(s, "%s%s\n", kd_session_prompt(s), a.cmds);
		kd_session_execute(s, a.cmds);
		wait_target(s);
	}
	if (!kd_session_quit_requested(s)) {
		if (tty)
			loop_tty(s);
		else
			loop_pipe(s);
	}
	status = kd_session_failures(s) || g_wait_failed ? KD_EXIT_FAILED :
							   KD_EXIT_OK;
	g_session = NULL;
	kd_session_servers_close(s, NULL);
	kd_session_free(s);
	fflush(stdout);
	return status;
}
