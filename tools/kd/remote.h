/* SPDX-License-Identifier: MIT */
/* kd -remote: the debugging client (remote.c). */
#ifndef KD_TOOL_REMOTE_H
#define KD_TOOL_REMOTE_H

/*
 * Join the debugging server at @p spec (tcp:server=H,port=P[,password=X],
 * ssl:...,ca=FILE, or relay:NAME for a `.remote` console relay), send the
 * lines of @p script (may be NULL), then @p cmds (may be NULL), then
 * stdin; print what the server sends.  Returns kd's exit status: 0 after a
 * clean detach or when the server ended the session, 1 when the server
 * could not be reached or the connection broke.
 */
int kd_remote_main(const char *spec, const char *script, const char *cmds,
		   int timeout_ms);

#endif /* KD_TOOL_REMOTE_H */
