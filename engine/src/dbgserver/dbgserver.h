/* SPDX-License-Identifier: MIT */
/*
 * Debugging server internals shared by dbgserver.c and cmd_server.c: the
 * commands' bodies (.server, .servers, .endsrv, .clients, .remote).
 */
#ifndef KD_DBGSERVER_H
#define KD_DBGSERVER_H

#include "core/engine_int.h"

/* Caps (docs/remote-debugging.md). */
#define KD_DBGSRV_MAX_SERVERS 16u
#define KD_DBGSRV_MAX_CLIENTS 32u
#define KD_DBGSRV_MAX_RELAYS 8u
#define KD_DBGSRV_MAX_AHEAD 32u	      /* lines a client may queue */
#define KD_DBGSRV_MAX_OUTQ (8u << 20) /* bytes queued for one client */
#define KD_DBGSRV_MAX_RELAY_NAME 48u

/* .server SPEC: start a debugging server and print every client line. */
int kd_srv_cmd_server(struct kd_session *s, const char *spec);
/* .servers */
int kd_srv_cmd_servers(struct kd_session *s);
/* .endsrv ID */
int kd_srv_cmd_endsrv(struct kd_session *s, unsigned long id);
/* .clients */
int kd_srv_cmd_clients(struct kd_session *s);
/* .remote NAME */
int kd_srv_cmd_remote(struct kd_session *s, const char *name);

/* True when @p name is a usable relay name ([A-Za-z0-9_.-], 1..48). */
bool kd_srv_relay_name_ok(const char *name);

/* $XDG_RUNTIME_DIR/openkd/remote-NAME.sock (without it,
 * ${TMPDIR:-/tmp}/openkd-UID/remote-NAME.sock) into @p buf. */
int kd_srv_relay_path(const char *name, char *buf, size_t cap);

/* The relay directory is ours and closed to others (@p create: make it,
 * mode 0700, when missing); else KD_E* with the sentence in @p why. */
int kd_srv_relay_dir_check(bool create, char *why, size_t cap);

#endif /* KD_DBGSERVER_H */
