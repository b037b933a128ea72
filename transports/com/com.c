/* SPDX-License-Identifier: MIT */
/*
 * com: KD over a serial byte stream.  A tty device configured through
 * libserialport (termios directly when libserialport refuses the device, as
 * it does for ptys), a unix socket (`pipe`) or TCP (`ipport`), as client or
 * server.  Only the transport registry in src/transport.c refers to it.
 */
#include "transport_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libserialport.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <kd/error.h>

#define COM_DEFAULT_BAUD 115200u
#define COM_RETRY_MS 100
#define COM_BREAKIN_BYTE 0x62 /* kd-protocol.md 1.8 */

enum com_mode {
	COM_DEVICE,
	COM_PIPE,
	COM_TCP
};

struct com {
	enum com_mode mode;
	bool server;
	int fd;	 /* data channel; -1 until a server accepted its peer */
	int lfd; /* listening socket of a server until it accepted */
	struct sp_port *sp;
	bool unlink_path;
	bool reconnect; /* re-establish a lost pipe/TCP peer (WinDbg) */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char host[256]; /* TCP client: where to reconnect */
	uint32_t ipport;
};

static const struct kd_param_spec com_keys[] = {
	{ "port", KD_PARAM_VALUE },
	{ "baud", KD_PARAM_VALUE },
	{ "pipe", KD_PARAM_FLAG },
	{ "ipport", KD_PARAM_VALUE },
	{ "server", KD_PARAM_FLAG },
	{ "resets", KD_PARAM_VALUE },
	{ "reconnect", KD_PARAM_FLAG },
	{ "modem", KD_PARAM_FLAG },
	{ NULL, 0 },
};

/* The one place errno becomes a KD_E* code. */
static int com_map_error(int err, const char *what, const char *name)
{
	int code;

	switch (err) {
	case ENOENT:
	case ENXIO:
		code = KD_ENOTFOUND;
		break;
	case EPIPE:
	case ECONNRESET:
	case ENOTCONN:
	case EIO:
	case ESHUTDOWN:
		code = KD_EDISCONNECTED;
		break;
	case EBUSY:
	case EADDRINUSE:
		code = KD_EBUSY;
		break;
	case ETIMEDOUT:
		code = KD_ETIMEOUT;
		break;
	default:
		code = KD_ERROR;
		break;
	}
	return kd_error_set_os(code, err, "%s '%s'", what, name);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	return 0;
}

/* --- tty devices --- */

static int baud_to_speed(uint32_t baud, speed_t *out)
{
	static const struct {
		uint32_t baud;
		speed_t speed;
	} map[] = {
		{ 1200, B1200 },     { 2400, B2400 },	  { 4800, B4800 },
		{ 9600, B9600 },     { 19200, B19200 },	  { 38400, B38400 },
		{ 57600, B57600 },   { 115200, B115200 }, { 230400, B230400 },
		{ 460800, B460800 }, { 921600, B921600 },
	};

	for (size_t i = 0; i < KD_ARRAY_SIZE(map); i++) {
		if (map[i].baud == baud) {
			*out = map[i].speed;
			return KD_OK;
		}
	}
	return kd_error_set(KD_EINVAL, KD_ERRCLASS_TRANSPORT,
			    "baud %u not supported on this device", baud);
}

/* Raw 8N1 without flow control through termios (ptys, odd devices). */
static int open_termios(struct com *c, const char *path, uint32_t baud)
{
	struct termios tio;
	speed_t speed = B115200;
	int rc;

	rc = baud_to_speed(baud, &speed);
	if (rc < 0)
		return rc;
	c->fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (c->fd < 0)
		return com_map_error(errno, "cannot open", path);
	if (tcgetattr(c->fd, &tio) < 0) {
		rc = kd_error_set(KD_EINVAL, KD_ERRCLASS_TRANSPORT,
				  "'%s' is not a serial device", path);
		goto err_close;
	}
	cfmakeraw(&tio);
	tio.c_cflag &= (tcflag_t) ~(CSTOPB | PARENB | CRTSCTS | CSIZE);
	tio.c_cflag |= CS8 | CLOCAL | CREAD;
	tio.c_iflag &= (tcflag_t) ~(IXON | IXOFF | IXANY);
	tio.c_cc[VMIN] = 1;
	tio.c_cc[VTIME] = 0;
	cfsetispeed(&tio, speed);
	cfsetospeed(&tio, speed);
	if (tcsetattr(c->fd, TCSANOW, &tio) < 0) {
		rc = com_map_error(errno, "cannot configure", path);
		goto err_close;
	}
	return KD_OK;
err_close:
	close(c->fd);
	c->fd = -1;
	return rc;
}

static int open_device(struct com *c, const char *path, uint32_t baud)
{
	enum sp_return r;
	int fd;

	r = sp_get_port_by_name(path, &c->sp);
	if (r != SP_OK) {
		/*
		 * libserialport 0.1.1 looks ports up in sysfs and refuses
		 * /dev/pts/N; a pty is still a tty, so configure it directly.
		 */
		c->sp = NULL;
		return open_termios(c, path, baud);
	}
	r = sp_open(c->sp, SP_MODE_READ_WRITE);
	if (r != SP_OK) {
		int err = errno;

		sp_free_port(c->sp);
		c->sp = NULL;
		return com_map_error(err, "cannot open", path);
	}
	if (sp_set_baudrate(c->sp, (int)baud) != SP_OK ||
	    sp_set_bits(c->sp, 8) != SP_OK ||
	    sp_set_parity(c->sp, SP_PARITY_NONE) != SP_OK ||
	    sp_set_stopbits(c->sp, 1) != SP_OK ||
	    sp_set_flowcontrol(c->sp, SP_FLOWCONTROL_NONE) != SP_OK ||
	    sp_get_port_handle(c->sp, &fd) != SP_OK || set_nonblock(fd) < 0) {
		char *msg = sp_last_error_message();
		int rc = kd_error_set(KD_ERROR, KD_ERRCLASS_TRANSPORT,
				      "cannot configure '%s' (%u 8N1): %s",
				      path, baud, msg ? msg : "unknown error");

		sp_free_error_message(msg);
		sp_close(c->sp);
		sp_free_port(c->sp);
		c->sp = NULL;
		return rc;
	}
	c->fd = fd;
	return KD_OK;
}

/* --- Sockets --- */

static int unix_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_TRANSPORT,
				    "socket path longer than %zu bytes",
				    sizeof(sa->sun_path) - 1);
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return KD_OK;
}

static bool retryable(int err)
{
	return err == ENOENT || err == ECONNREFUSED || err == ENETUNREACH ||
	       err == EHOSTUNREACH || err == ETIMEDOUT;
}

static int open_pipe_client(struct com *c, const char *path, bool reconnect)
{
	struct sockaddr_un sa;
	int rc;

	rc = unix_addr(&sa, path);
	if (rc < 0)
		return rc;
	for (;;) {
		int err;

		c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c->fd < 0)
			return com_map_error(errno, "socket for", path);
		if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		err = errno;
		close(c->fd);
		c->fd = -1;
		if (!reconnect || !retryable(err))
			return com_map_error(err, "cannot connect to", path);
		sleep_ms(COM_RETRY_MS);
	}
	if (set_nonblock(c->fd) < 0) {
		rc = com_map_error(errno, "cannot configure", path);
		close(c->fd);
		c->fd = -1;
	}
	return rc;
}

static int open_pipe_server(struct com *c, const char *path)
{
	struct sockaddr_un sa;
	int rc;

	rc = unix_addr(&sa, path);
	if (rc < 0)
		return rc;
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->lfd < 0)
		return com_map_error(errno, "socket for", path);
	if (bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;
		int probe;
		struct stat st;
		bool stale;

		if (err != EADDRINUSE) {
			rc = com_map_error(err, "cannot listen on", path);
			goto err_close;
		}
		/* A socket file nobody listens on is stale: replace it. */
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		stale = probe >= 0 && lstat(path, &st) == 0 &&
			S_ISSOCK(st.st_mode) &&
			connect(probe, (struct sockaddr *)&sa, sizeof(sa)) <
				0 &&
			errno == ECONNREFUSED;
		if (probe >= 0)
			close(probe);
		if (!stale) {
			rc = com_map_error(EADDRINUSE, "cannot listen on",
					   path);
			goto err_close;
		}
		unlink(path);
		if (bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			rc = com_map_error(errno, "cannot listen on", path);
			goto err_close;
		}
	}
	memcpy(c->path, sa.sun_path, sizeof(c->path));
	c->unlink_path = true;
	if (listen(c->lfd, 1) < 0) {
		rc = com_map_error(errno, "cannot listen on", path);
		unlink(path);
		c->unlink_path = false;
		goto err_close;
	}
	return KD_OK;
err_close:
	close(c->lfd);
	c->lfd = -1;
	return rc;
}

static int open_tcp(struct kd_transport *t, struct com *c, const char *host,
		    uint32_t port, bool reconnect)
{
	struct addrinfo hints, *res = NULL, *ai;
	char service[8];
	int gai;
	int err = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = c->server ? AI_PASSIVE | AI_NUMERICSERV :
				     AI_NUMERICSERV;
	snprintf(service, sizeof(service), "%u", port);
	for (;;) {
		gai = getaddrinfo(host, service, &hints, &res);
		if (gai != 0)
			return kd_error_set(KD_ENOTFOUND, KD_ERRCLASS_TRANSPORT,
					    "cannot resolve '%s': %s", host,
					    gai_strerror(gai));
		for (ai = res; ai; ai = ai->ai_next) {
			int fd = socket(ai->ai_family,
					ai->ai_socktype | SOCK_CLOEXEC,
					ai->ai_protocol);
			int one = 1;

			if (fd < 0) {
				err = errno;
				continue;
			}
			if (c->server) {
				setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
					   sizeof(one));
				if (bind(fd, ai->ai_addr, ai->ai_addrlen) ==
					    0 &&
				    listen(fd, 1) == 0 &&
				    set_nonblock(fd) == 0) {
					c->lfd = fd;
					break;
				}
			} else if (connect(fd, ai->ai_addr, ai->ai_addrlen) ==
					   0 &&
				   set_nonblock(fd) == 0) {
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
					   sizeof(one));
				c->fd = fd;
				break;
			}
			err = errno;
			close(fd);
		}
		freeaddrinfo(res);
		if (c->fd >= 0 || c->lfd >= 0)
			break;
		if (c->server || !reconnect || !retryable(err))
			return com_map_error(err,
					     c->server ? "cannot listen on" :
							 "cannot connect to",
					     host);
		sleep_ms(COM_RETRY_MS);
	}
	if (c->server) {
		struct sockaddr_storage ss = { 0 };
		socklen_t sl = sizeof(ss);

		if (getsockname(c->lfd, (struct sockaddr *)&ss, &sl) == 0) {
			uint16_t p = ss.ss_family == AF_INET6 ?
					     ntohs(((struct sockaddr_in6 *)&ss)
							   ->sin6_port) :
					     ntohs(((struct sockaddr_in *)&ss)
							   ->sin_port);

			kd_transport_set_local_port(t, p);
		}
	}
	return KD_OK;
}

/* --- Ops --- */

static int com_open(struct kd_transport *t, const struct kd_params *params)
{
	struct com *c = kd_transport_priv(t);
	struct kd_transport_link_opts link = { -1, false };
	const char *port = NULL;
	uint32_t baud, ipport, resets;
	bool pipe = kd_params_has(params, "pipe");
	bool tcp = kd_params_has(params, "ipport");
	int rc;

	c->fd = -1;
	c->lfd = -1;
	c->server = kd_params_has(params, "server");
	if (kd_params_has(params, "modem"))
		return kd_error_set(KD_ENOTSUP, KD_ERRCLASS_TRANSPORT,
				    "com:modem is not supported");
	if (pipe && tcp)
		return kd_error_set(
			KD_EINVAL, KD_ERRCLASS_TRANSPORT,
			"options 'pipe' and 'ipport' exclude each other");
	if (c->server && !pipe && !tcp)
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_TRANSPORT,
				    "option 'server' needs 'pipe' or 'ipport'");
	rc = kd_params_get_u32(params, "baud", 50, 4000000, COM_DEFAULT_BAUD,
			       &baud);
	if (rc == KD_OK)
		rc = kd_params_get_u32(params, "ipport", c->server ? 0 : 1,
				       65535, 0, &ipport);
	if (rc == KD_OK)
		rc = kd_params_get_u32(params, "resets", 0, 0x7fffffff, 0,
				       &resets);
	if (rc == KD_OK)
		rc = kd_params_get_str(params, "port",
				       tcp && c->server ? "127.0.0.1" : NULL,
				       &port);
	if (rc < 0)
		return rc;
	if (!port)
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_TRANSPORT,
				    "missing option 'port' for com");
	if (kd_params_has(params, "resets"))
		link.resets = (int)resets;
	link.reconnect = kd_params_has(params, "reconnect");
	kd_transport_set_link_opts(t, &link);
	c->reconnect = link.reconnect;
	c->ipport = ipport;
	if (strlen(port) >= sizeof(c->host))
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_TRANSPORT,
				    "value for 'port' is too long");
	memcpy(c->host, port, strlen(port) + 1);
	if (pipe && !c->server && strlen(port) < sizeof(c->path))
		memcpy(c->path, port, strlen(port) + 1);

	if (pipe) {
		c->mode = COM_PIPE;
		if (c->server)
			return open_pipe_server(c, port);
		return open_pipe_client(c, port, link.reconnect);
	}
	if (tcp) {
		c->mode = COM_TCP;
		return open_tcp(t, c, port, ipport, link.reconnect);
	}
	c->mode = COM_DEVICE;
	return open_device(c, port, baud);
}

static void com_close(struct kd_transport *t)
{
	struct com *c = kd_transport_priv(t);

	if (c->sp) {
		sp_close(c->sp);
		sp_free_port(c->sp);
	} else if (c->fd >= 0) {
		close(c->fd);
	}
	if (c->lfd >= 0)
		close(c->lfd);
	if (c->unlink_path)
		unlink(c->path);
}

/* Server side: wait for the one peer until @p deadline. */
static int accept_peer(struct com *c, int64_t deadline)
{
	struct pollfd pfd = { c->lfd, POLLIN, 0 };
	int n;
	int fd;
	int one = 1;

	for (;;) {
		n = poll(&pfd, 1, kd_transport__left_ms(deadline));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return com_map_error(errno, "poll on", "listener");
		if (n == 0)
			return KD_ETIMEOUT;
		fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd >= 0)
			break;
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			return com_map_error(errno, "accept on", "listener");
	}
	if (c->mode == COM_TCP)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (!c->reconnect) {
		close(c->lfd);
		c->lfd = -1;
	}
	c->fd = fd;
	return KD_OK;
}

/*
 * The peer went away.  Without `reconnect` that ends the channel.  With it
 * (WinDbg's "disconnect and reconnect the pipe if a read/write failure
 * occurs"), a server accepts the next peer and a client connects again,
 * trying until @p deadline; KD_ETIMEOUT tells the caller to come back.
 */
static int connect_again(struct kd_transport *t, struct com *c,
			 int64_t deadline)
{
	for (;;) {
		int rc;

		if (c->mode == COM_PIPE)
			rc = open_pipe_client(c, c->path, false);
		else
			rc = open_tcp(t, c, c->host, c->ipport, false);
		if (rc == KD_OK)
			return KD_OK;
		if (deadline >= 0 && kd_transport__left_ms(deadline) == 0)
			return KD_ETIMEOUT;
		sleep_ms(COM_RETRY_MS);
	}
}

/* Make sure there is a peer: accept one (server) or reconnect (client). */
static int ensure_peer(struct kd_transport *t, struct com *c, int64_t deadline)
{
	if (c->fd >= 0)
		return KD_OK;
	if (c->server)
		return accept_peer(c, deadline);
	if (c->reconnect)
		return connect_again(t, c, deadline);
	return kd_error_set(KD_EDISCONNECTED, KD_ERRCLASS_TRANSPORT,
			    "com peer is gone");
}

static int peer_lost(struct kd_transport *t, struct com *c, int64_t deadline,
		     const char *why)
{
	if (!c->reconnect || c->mode == COM_DEVICE)
		return why ? kd_error_set(KD_EDISCONNECTED,
					  KD_ERRCLASS_TRANSPORT, "%s", why) :
			     KD_EDISCONNECTED; /* detail already recorded */
	close(c->fd);
	c->fd = -1;
	return ensure_peer(t, c, deadline);
}

static int com_send(struct kd_transport *t, const void *buf, size_t len)
{
	struct com *c = kd_transport_priv(t);
	const uint8_t *p = buf;
	int rc;

	rc = ensure_peer(t, c, -1);
	if (rc < 0)
		return rc;
	while (len > 0) {
		ssize_t n;

		if (c->mode == COM_DEVICE)
			n = write(c->fd, p, len);
		else
			n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			struct pollfd pfd = { c->fd, POLLOUT, 0 };

			if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
				return com_map_error(errno, "poll on", "port");
			if (pfd.revents & (POLLERR | POLLHUP) &&
			    !(pfd.revents & POLLOUT)) {
				rc = peer_lost(t, c, -1, "com peer hung up");
				if (rc < 0)
					return rc;
			}
			continue;
		}
		rc = com_map_error(n < 0 ? errno : EIO, "write to", "port");
		if (rc != KD_EDISCONNECTED)
			return rc;
		rc = peer_lost(t, c, -1, NULL);
		if (rc < 0)
			return rc;
	}
	return KD_OK;
}

static int com_recv(struct kd_transport *t, void *buf, size_t cap,
		    size_t *len_out, int timeout_ms)
{
	struct com *c = kd_transport_priv(t);
	int64_t deadline = kd_transport__deadline(timeout_ms);
	int rc;

	rc = ensure_peer(t, c, deadline);
	if (rc < 0)
		return rc;
	for (;;) {
		struct pollfd pfd = { c->fd, POLLIN, 0 };
		ssize_t n;

		n = poll(&pfd, 1, kd_transport__left_ms(deadline));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return com_map_error(errno, "poll on", "port");
		if (n == 0)
			return KD_ETIMEOUT;
		n = read(c->fd, buf, cap);
		if (n > 0) {
			*len_out = (size_t)n;
			return KD_OK;
		}
		if (n == 0) {
			rc = peer_lost(t, c, deadline,
				       "com peer closed the connection");
			if (rc < 0)
				return rc;
			continue;
		}
		if (errno == EAGAIN || errno == EINTR)
			continue;
		rc = com_map_error(errno, "read from", "port");
		if (rc != KD_EDISCONNECTED)
			return rc;
		rc = peer_lost(t, c, deadline, NULL);
		if (rc < 0)
			return rc;
	}
}

static int com_wait_handle(struct kd_transport *t, struct kd_wait_handle *out)
{
	struct com *c = kd_transport_priv(t);

	out->fd = c->fd >= 0 ? c->fd : c->lfd;
	return KD_OK;
}

static int com_break_in(struct kd_transport *t)
{
	static const uint8_t brk = COM_BREAKIN_BYTE;

	return com_send(t, &brk, 1);
}

const struct kd_transport_ops kd_transport_com = {
	.version = KD_TRANSPORT_OPS_VERSION,
	.scheme = "com",
	.caps = KD_TRANSPORT_CAP_STREAM | KD_TRANSPORT_CAP_WAITABLE |
		KD_TRANSPORT_CAP_BREAKIN,
	.priv_size = sizeof(struct com),
	.keys = com_keys,
	.open = com_open,
	.close = com_close,
	.send = com_send,
	.recv = com_recv,
	.wait_handle = com_wait_handle,
	.break_in = com_break_in,
};
