/* SPDX-License-Identifier: MIT */
/*
 * The debugging server's commands: .server, .servers, .endsrv, .clients,
 * .remote (argument parsing here, the work in dbgserver.c).  The table is
 * added to the command interpreter's by api/session.c: the interpreter
 * (cmd/) sits below the debugging server and cannot name it.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/args.h"
#include "dbgserver/dbgserver.h"

/* The argument text without trailing white space, into @p buf. */
static const char *srv_arg(struct kd_session *s, struct kd_cmdctx *c, char *buf,
			   size_t cap)
{
	struct kd_args a;
	const char *args;
	size_t n;

	kd_args_init(&a, s, c);
	kd_args_take_rest(&a, 0, &args, &n);
	while (n > 0 && isspace((unsigned char)args[n - 1]))
		n--;
	if (n >= cap)
		n = cap - 1;
	memcpy(buf, args, n);
	buf[n] = '\0';
	return buf;
}

static int cmd_server(struct kd_session *s, struct kd_cmdctx *c)
{
	char spec[600];

	srv_arg(s, c, spec, sizeof(spec));
	if (!spec[0])
		return kd_fail(s, KD_EINVAL,
			       "Usage: .server tcp:port=Port[,password=P]"
			       "[,hidden] | ssl:port=Port,cert=F,key=K[,...]");
	return kd_srv_cmd_server(s, spec);
}

static int cmd_servers(struct kd_session *s, struct kd_cmdctx *c)
{
	(void)c;
	return kd_srv_cmd_servers(s);
}

static int cmd_endsrv(struct kd_session *s, struct kd_cmdctx *c)
{
	char arg[64];
	char *end;
	unsigned long id;

	srv_arg(s, c, arg, sizeof(arg));
	if (!arg[0])
		return kd_fail(s, KD_EINVAL,
			       "Usage: .endsrv ServerID (see .servers).  "
			       ".endsrv ends debugging servers only; it "
			       "cannot end a KD connection server: use "
			       ".endpsrv");
	id = strtoul(arg, &end, 0);
	if (*end != '\0' || !isdigit((unsigned char)arg[0]))
		return kd_fail(s, KD_EINVAL, "Bad server ID '%s'", arg);
	return kd_srv_cmd_endsrv(s, id);
}

static int cmd_clients(struct kd_session *s, struct kd_cmdctx *c)
{
	(void)c;
	return kd_srv_cmd_clients(s);
}

static int cmd_remote(struct kd_session *s, struct kd_cmdctx *c)
{
	char name[128];

	srv_arg(s, c, name, sizeof(name));
	if (!name[0])
		return kd_fail(s, KD_EINVAL, "Usage: .remote SessionName");
	return kd_srv_cmd_remote(s, name);
}

static int cmd_remote_exit(struct kd_session *s, struct kd_cmdctx *c)
{
	(void)c;
	return kd_fail(s, KD_EINVAL,
		       ".remote_exit works only in a debugging client "
		       "(kd -remote)");
}

const struct kd_command kd_cmds_server[] = {
	{ ".server", cmd_server, KD_CMDF_REST,
	  "start a debugging server (tcp:port=P[,password=X] | ssl:...)" },
	{ ".servers", cmd_servers, 0, "list the debugging servers" },
	{ ".endsrv", cmd_endsrv, 0,
	  "disable debugging server N (clients stay)" },
	{ ".clients", cmd_clients, 0, "list the connected clients" },
	{ ".remote", cmd_remote, 0,
	  "share the console as session NAME (kd -remote relay:NAME)" },
	{ ".remote_exit", cmd_remote_exit, KD_CMDF_REST,
	  "leave a debugging server (client side only)" },
	{ NULL, NULL, 0, NULL },
};
