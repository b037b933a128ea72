/* SPDX-License-Identifier: MIT */
/*
 * The debugger engine: a session owns one target (a live KD link now, a
 * crash dump later) and runs WinDbg-syntax commands against it.  All output
 * goes through one sink so the console, logs and remote clients see the
 * same text.
 */
#ifndef KD_ENGINE_H
#define KD_ENGINE_H

#include <kd/common.h>

KD_BEGIN_DECLS

struct kd_session;

/* Receives every byte of output, in order.  @p text is not NUL-terminated. */
typedef void (*kd_output_fn)(void *ctx, const char *text, size_t len);

/*
 * Asks the user for one line (GetString prompts, `e` without values).
 * Writes a NUL-terminated line without its newline into @p buf.
 * Returns KD_OK, or a negative code when no input is available (EOF).
 */
typedef int (*kd_input_fn)(void *ctx, const char *prompt, char *buf,
			   size_t cap);

#define KD_SESSION_OPTS_VERSION 1

/* Zero fields take the defaults named in the comments. */
struct kd_session_opts {
	unsigned int version;	/* KD_SESSION_OPTS_VERSION */
	int request_timeout_ms; /* one request/reply exchange; 5000 */
	int attach_timeout_ms;	/* sync + first state change; 10000 */
	bool break_on_connect;	/* -bonc / -b: break in after sync */
	bool quiet;		/* fewer banners */
};

#define KD_SESSION_OPTS_INIT                                \
	{                                                   \
		KD_SESSION_OPTS_VERSION, 0, 0, false, false \
	}

KD_API KD_WARN_UNUSED int kd_session_new(struct kd_session **out,
					 const struct kd_session_opts *opts);
/** Detach and free.  NULL-safe. */
KD_API void kd_session_free(struct kd_session *s);

/**
 * Change the symbol options (dbghelp's SYMOPT_* bits, as `.symopt`
 * shows them): clear @p clear, then set @p set.  kd's -lines, -n, -s,
 * -ses, -sins and -sflags go through here.  Set before the symbol path is
 * first needed, SYMOPT_IGNORE_NT_SYMPATH (0x1000) keeps _NT_SYMBOL_PATH
 * and _NT_ALT_SYMBOL_PATH out of the path (kd -sins).
 */
KD_API void kd_session_change_symopt(struct kd_session *s, uint32_t set,
				     uint32_t clear);
/** The symbol options now (KD and CDB start with 0xB0227). */
KD_API uint32_t kd_session_symopt(struct kd_session *s);

/**
 * Set the symbol path (`kd -y`), replacing what _NT_ALT_SYMBOL_PATH and
 * _NT_SYMBOL_PATH gave.  Nothing is loaded until a symbol is needed.
 * @return KD_OK; KD_EOVERFLOW for a path longer than 4095 bytes, KD_EINVAL
 * for one the symbol-path grammar refuses (kd_error_last() says why).
 */
KD_API int kd_session_set_sympath(struct kd_session *s, const char *path);

KD_API void kd_session_set_output(struct kd_session *s, kd_output_fn fn,
				  void *ctx);
KD_API void kd_session_set_input(struct kd_session *s, kd_input_fn fn,
				 void *ctx);

/**
 * Open @p connstr (a `-k` connection string), synchronise and wait for the
 * target to stop, printing the connection banners.  Blocks at most the
 * attach timeout (and for ever with `reconnect`/`resets=0`, until
 * kd_session_interrupt()).
 */
KD_API KD_WARN_UNUSED int kd_session_attach(struct kd_session *s,
					    const char *connstr);

/**
 * Open the crash dump or PE image file @p path as the session's target
 * (`kd -z`), printing WinDbg's banners (a dump: type, build, bug check,
 * the vertarget block; an image: the file and its ModLoad line).  An
 * image file is read-only: memory and symbols, no registers.
 * @return KD_OK; the reader's error (already printed as one line).
 */
KD_API KD_WARN_UNUSED int kd_session_open_dump(struct kd_session *s,
					       const char *path);

/**
 * Run one line of commands (`;`-separated).  Returns KD_OK when every
 * command succeeded, else the first failure (already reported in WinDbg's
 * words on the output).  A failure never ends the session.
 */
KD_API int kd_session_execute(struct kd_session *s, const char *line);

/**
 * Async-signal-safe: ask a running target to break in (Ctrl+C) and cancel
 * a long command.  Picked up by the engine's wait loops within ~50 ms.
 */
KD_API void kd_session_interrupt(struct kd_session *s);

/** True while the target runs (after `g`), false when it is stopped. */
KD_API bool kd_session_running(const struct kd_session *s);

/**
 * With the target running: wait up to @p timeout_ms (-1: until it stops or
 * kd_session_interrupt()) for it to stop, printing DbgPrint output and the
 * stop report.  KD_OK when stopped, KD_ETIMEOUT, or a link failure.
 */
KD_API int kd_session_wait(struct kd_session *s, int timeout_ms);

/** The prompt: "N: kd> " (multiprocessor) or "kd> ". */
KD_API const char *kd_session_prompt(struct kd_session *s);

/** True once `q`/`qq` ran. */
KD_API bool kd_session_quit_requested(const struct kd_session *s);

/** Commands that failed since the session started. */
KD_API unsigned long kd_session_failures(const struct kd_session *s);

/**
 * Record a command the user typed: "<prompt><line>" goes to the open log
 * file only (the console already shows what was typed).
 */
KD_API void kd_session_log_command(struct kd_session *s, const char *line);

/** Write text to the session's output (and the log). */
KD_API void kd_session_print(struct kd_session *s, const char *fmt, ...)
	KD_PRINTF(2, 3);

/* ---- debugging server (server.c, docs/remote-debugging.md) ---- */

/**
 * Start a debugging server (`kd -server SPEC`, `.server SPEC`), e.g.
 * "tcp:port=5005,password=X" or "ssl:port=5005,cert=F,key=K", and print
 * the "Server started." block.  From then on the session's output goes to
 * the local output function and to every client.
 * @return KD_OK or the error (already printed).
 */
KD_API KD_WARN_UNUSED int kd_session_server_start(struct kd_session *s,
						  const char *spec);

/**
 * Start a `.remote NAME` console relay: a unix socket, mode 0600, at
 * $XDG_RUNTIME_DIR/openkd/remote-NAME.sock or, without XDG_RUNTIME_DIR,
 * ${TMPDIR:-/tmp}/openkd-UID/remote-NAME.sock; the directory is created
 * mode 0700 and refused when it belongs to another user or is open to
 * others.
 */
KD_API KD_WARN_UNUSED int kd_session_remote_start(struct kd_session *s,
						  const char *name);

/** The relay socket path of session @p name (KD_EINVAL: bad name). */
KD_API KD_WARN_UNUSED int kd_session_relay_path(const char *name, char *buf,
						size_t cap);

/**
 * Connect to the relay socket of session @p name, checking first that its
 * directory is ours and closed to others, and then that the process that
 * listens runs as our user.  @return the connected fd, or KD_E* with the
 * reason in @p why.
 */
KD_API KD_WARN_UNUSED int kd_session_relay_connect(const char *name, char *why,
						   size_t cap);

/**
 * fd that is readable while remote events (client lines, connects,
 * leaves) wait for kd_session_service(); -1 when no server runs.
 */
KD_API int kd_session_poll_fd(struct kd_session *s);

/**
 * On the main thread: run what the clients sent, in arrival order, and
 * give fresh prompts to clients that saw others' output.  @p at_prompt
 * says the local console shows its prompt (a newline is printed before
 * remote text).  Returns 1 when it printed on the local console (then
 * reprint the local prompt), else 0.
 */
KD_API int kd_session_service(struct kd_session *s, bool at_prompt);

/**
 * A line typed on the local console is about to run: show it to the
 * clients as "<prompt><line>" (the console already shows it).
 */
KD_API void kd_session_echo_local(struct kd_session *s, const char *line);

/**
 * Stop every server and relay, tell the clients the session ended
 * (@p reason, NULL for the default sentence) and disconnect them.
 * Call before kd_session_free().  NULL-safe for a session without one.
 */
KD_API void kd_session_servers_close(struct kd_session *s, const char *reason);

KD_END_DECLS

#endif /* KD_ENGINE_H */
