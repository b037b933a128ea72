/* SPDX-License-Identifier: MIT */
/*
 * A small KD host for the kdsim integration tests: starts kdsim as a real
 * process, attaches over the channel it prints, and sends manipulate
 * requests through the host-role link (kd/link.h) and kdproto codecs.
 */
#ifndef KDSIM_CLIENT_H
#define KDSIM_CLIENT_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <kd/error.h>
#include <kd/link.h>
#include <kd/proto/layout.h>
#include <kd/proto/manipulate.h>
#include <kd/proto/packet.h>
#include <kd/proto/wire.h>
#include <kd/transport.h>

#define KC_TIMEOUT_MS 20000

struct kc {
	pid_t pid;
	int out_fd;		/* kdsim's stdout */
	char host_connstr[512]; /* from the ready line */
	struct kd_transport *t;
	struct kd_link *link;
	uint8_t buf[8192];
	size_t len;
	unsigned type;
	char prints[16384]; /* DbgPrint text seen so far */
	size_t prints_len;
	struct kd_state_change sc; /* last state change */
	uint8_t sc_raw[4096];
	size_t sc_len;
	bool have_sc;
	uint16_t cur_proc;
};

static inline void kc_die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

static inline void kc_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("kdsim test: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static inline void kc_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Path of the kdsim binary in this build; NULL when not built. */
static inline const char *kc_kdsim_path(void)
{
	static char path[1024];
	const char *b = getenv("KD_BUILD_DIR");

	snprintf(path, sizeof(path), "%s/tools/kdsim/kdsim",
		 b ? b : KD_BUILD_DIR);
	return access(path, X_OK) == 0 ? path : NULL;
}

/*
 * Start kdsim with @args (NULL-terminated) and wait for its ready line:
 * "kdsim ready: CONNSTR ...".  Exits 77 (skip) when kdsim is not built.
 */
static inline void kc_spawn(struct kc *c, const char *const *args)
{
	const char *exe = kc_kdsim_path();
	const char *argv[40];
	int p[2], i, n = 0;
	char line[1024];
	size_t have = 0;
	int waited = 0;

	memset(c, 0, sizeof(*c));
	c->pid = -1;
	if (!exe) {
		fprintf(stderr, "kdsim is not built (needs unicorn and "
				"clang-cl and lld-link): skipped\n");
		exit(77);
	}
	argv[n++] = exe;
	for (i = 0; args[i] && n < 38; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (pipe(p) < 0)
		kc_die("pipe: %s", strerror(errno));
	c->pid = fork();
	if (c->pid < 0)
		kc_die("fork: %s", strerror(errno));
	if (c->pid == 0) {
		/* Never outlive a test that died. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execv(exe, (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	c->out_fd = p[0];
	while (waited < KC_TIMEOUT_MS) {
		struct pollfd pfd = { c->out_fd, POLLIN, 0 };
		ssize_t r;
		char *nl;

		if (poll(&pfd, 1, 100) <= 0) {
			waited += 100;
			continue;
		}
		r = read(c->out_fd, line + have, sizeof(line) - 1 - have);
		if (r <= 0)
			kc_die("kdsim exited before it was ready");
		have += (size_t)r;
		line[have] = '\0';
		nl = strchr(line, '\n');
		if (nl) {
			const char *s = strstr(line, "kdsim ready: ");
			size_t l;

			if (!s)
				kc_die("unexpected kdsim output: %s", line);
			s += strlen("kdsim ready: ");
			l = strcspn(s, " \n");
			if (l >= sizeof(c->host_connstr))
				kc_die("ready line too long");
			memcpy(c->host_connstr, s, l);
			c->host_connstr[l] = '\0';
			return;
		}
	}
	kc_die("kdsim did not print its ready line");
}

static inline void kc_stop(struct kc *c)
{
	int st;

	if (c->link)
		kd_link_close(c->link);
	c->link = NULL;
	if (c->pid > 0) {
		kill(c->pid, SIGTERM);
		waitpid(c->pid, &st, 0);
	}
	c->pid = -1;
	if (c->out_fd > 0)
		close(c->out_fd);
}

/* Attach the host-role link to @connstr (default: the ready line's). */
static inline void kc_attach(struct kc *c, const char *connstr)
{
	struct kd_link_opts o = KD_LINK_OPTS_INIT;
	int rc, tries;

	o.role = KD_LINK_HOST;
	o.resets = 0;
	for (tries = 0; tries < 50; tries++) {
		rc = kd_transport_open(&c->t,
				       connstr ? connstr : c->host_connstr);
		if (rc == KD_OK)
			break;
		kc_sleep_ms(100);
	}
	if (rc < 0)
		kc_die("cannot open %s: %d",
		       connstr ? connstr : c->host_connstr, rc);
	rc = kd_link_open(&c->link, c->t, &o);
	if (rc < 0)
		kc_die("kd_link_open: %d", rc);
}

/*
 * Receive packets until a STATE_CHANGE64 (decoded into c->sc) or a
 * STATE_MANIPULATE (left in c->buf) arrives.  DebugIO prints are collected.
 * @return the packet type.
 */
static inline unsigned kc_recv(struct kc *c, int timeout_ms)
{
	for (;;) {
		int rc = kd_link_recv(c->link, &c->type, c->buf, sizeof(c->buf),
				      &c->len, timeout_ms);

		if (rc < 0)
			kc_die("kd_link_recv: %d (%s)", rc,
			       kd_error_message(rc));
		if (c->type == KD_PACKET_TYPE_DEBUG_IO) {
			struct kd_debug_io io;

			if (kd_debug_io_decode(&io, c->buf, c->len) == KD_OK &&
			    io.api == KD_DEBUG_IO_PRINT_STRING) {
				size_t room = sizeof(c->prints) - 1 -
					      c->prints_len;
				size_t n = io.text_len < room ? io.text_len :
								room;

				memcpy(c->prints + c->prints_len, io.text, n);
				c->prints_len += n;
				c->prints[c->prints_len] = '\0';
			}
			continue;
		}
		if (c->type == KD_PACKET_TYPE_STATE_CHANGE64) {
			/*
			 * A target re-sends its pending state change after a
			 * RESET (a host attaching with kd_link_sync()): the
			 * same bytes again are the same stop.
			 */
			if (c->have_sc && c->len == c->sc_len &&
			    memcmp(c->buf, c->sc_raw, c->len) == 0)
				continue;
			memcpy(c->sc_raw, c->buf, c->len);
			c->sc_len = c->len;
			c->have_sc = true;
			if (kd_state_change_decode(&c->sc, c->sc_raw, c->len) <
			    0)
				kc_die("bad state change");
			c->cur_proc = c->sc.processor;
			return c->type;
		}
		if (c->type == KD_PACKET_TYPE_STATE_MANIPULATE)
			return c->type;
	}
}

/* Wait for a state change; returns its exception code (0 for others). */
static inline uint32_t kc_wait_stop(struct kc *c)
{
	while (kc_recv(c, KC_TIMEOUT_MS) != KD_PACKET_TYPE_STATE_CHANGE64)
		;
	if (c->sc.new_state == KD_STATE_EXCEPTION)
		return c->sc.u.exception.record.code;
	return 0;
}

/* Send @m (+ data) and return the decoded reply (data view into c->buf). */
static inline void kc_request(struct kc *c, struct kd_manipulate *m,
			      const void *data, size_t data_len,
			      struct kd_manipulate *reply)
{
	uint8_t out[4096];
	size_t n;
	int rc;

	m->machine = KD_MACHINE_AMD64;
	m->return_status = KD_STATUS_PENDING;
	rc = kd_manipulate_encode(out, sizeof(out), &n, m, data, data_len);
	if (rc < 0)
		kc_die("encode api %#x: %d", m->api, rc);
	rc = kd_link_send(c->link, KD_PACKET_TYPE_STATE_MANIPULATE, out, n);
	if (rc < 0)
		kc_die("send api %#x: %d", m->api, rc);
	if (!reply) {
		/* Continue, switch, bug check: the next stop is a new one. */
		c->have_sc = false;
		return;
	}
	for (;;) {
		if (kc_recv(c, KC_TIMEOUT_MS) !=
		    KD_PACKET_TYPE_STATE_MANIPULATE)
			kc_die("state change while waiting for api %#x",
			       m->api);
		if (kd_manipulate_decode(reply, c->buf, c->len) < 0)
			kc_die("bad reply to %#x", m->api);
		if (reply->api == m->api)
			return;
	}
}

static inline void kc_init_req(struct kd_manipulate *m, uint32_t api,
			       uint16_t proc)
{
	memset(m, 0, sizeof(*m));
	m->api = api;
	m->processor = proc;
}

/* Read @len bytes of virtual (or physical / control) memory. */
static inline uint32_t kc_read(struct kc *c, uint32_t api, uint64_t addr,
			       void *out, uint32_t len)
{
	struct kd_manipulate m, r;

	kc_init_req(&m, api, c->cur_proc);
	m.u.mem.address = addr;
	m.u.mem.transfer_count = len;
	kc_request(c, &m, NULL, 0, &r);
	if (r.return_status != KD_STATUS_SUCCESS)
		return 0;
	if (r.data_len < r.u.mem.actual_count)
		kc_die("reply shorter than ActualBytesRead");
	memcpy(out, r.data, r.u.mem.actual_count);
	return r.u.mem.actual_count;
}

static inline uint64_t kc_read64(struct kc *c, uint64_t va)
{
	uint8_t b[8];

	if (kc_read(c, KD_API_READ_VIRTUAL_MEMORY, va, b, 8) != 8)
		kc_die("read64 at %#llx failed", (unsigned long long)va);
	return kd_get_le64(b);
}

static inline uint32_t kc_write(struct kc *c, uint32_t api, uint64_t addr,
				const void *in, uint32_t len)
{
	struct kd_manipulate m, r;

	kc_init_req(&m, api, c->cur_proc);
	m.u.mem.address = addr;
	m.u.mem.transfer_count = len;
	kc_request(c, &m, in, len, &r);
	return r.return_status == KD_STATUS_SUCCESS ? r.u.mem.actual_count : 0;
}

static inline void kc_version(struct kc *c, struct kd_version *v)
{
	struct kd_manipulate m, r;

	kc_init_req(&m, KD_API_GET_VERSION, c->cur_proc);
	kc_request(c, &m, NULL, 0, &r);
	if (r.return_status != KD_STATUS_SUCCESS)
		kc_die("GetVersion failed: %#x", r.return_status);
	*v = r.u.version;
}

static inline void kc_get_context(struct kc *c, uint16_t proc,
				  uint8_t ctx[KD_AMD64_CONTEXT_SIZE])
{
	struct kd_manipulate m, r;

	kc_init_req(&m, KD_API_GET_CONTEXT, proc);
	kc_request(c, &m, NULL, 0, &r);
	if (r.return_status != KD_STATUS_SUCCESS ||
	    r.data_len < KD_AMD64_CONTEXT_SIZE)
		kc_die("GetContext failed: %#x", r.return_status);
	memcpy(ctx, r.data, KD_AMD64_CONTEXT_SIZE);
}

static inline uint64_t kc_reg(const uint8_t *ctx, int reg)
{
	uint64_t v = 0;

	if (kd_amd64_context_get(ctx, KD_AMD64_CONTEXT_SIZE, reg, &v) < 0)
		kc_die("context reg %d", reg);
	return v;
}

static inline void kc_continue2(struct kc *c, bool trace)
{
	struct kd_manipulate m;

	kc_init_req(&m, KD_API_CONTINUE2, c->cur_proc);
	m.u.continue2.continue_status = KD_DBG_CONTINUE;
	m.u.continue2.trace_flag = trace ? 1 : 0;
	m.u.continue2.amd64.dr7 = 0x400;
	m.u.continue2.amd64.symbol_start = 1;
	kc_request(c, &m, NULL, 0, NULL);
}

/* Export @name of the PE image at @base, read through ReadVirtualMemory. */
static inline uint64_t kc_export(struct kc *c, uint64_t base, const char *name)
{
	uint8_t hdr[0x400], dir[40];
	uint32_t pe, rva, n, names, ords, funcs, i;

	if (kc_read(c, KD_API_READ_VIRTUAL_MEMORY, base, hdr, sizeof(hdr)) !=
	    sizeof(hdr))
		kc_die("cannot read the PE header");
	if (hdr[0] != 'M' || hdr[1] != 'Z')
		kc_die("no MZ at %#llx", (unsigned long long)base);
	pe = kd_get_le32(hdr + 0x3C);
	if (pe > sizeof(hdr) - 24 - 120 || memcmp(hdr + pe, "PE\0\0", 4))
		kc_die("no PE signature");
	if (kd_get_le16(hdr + pe + 24) != 0x20B)
		kc_die("not PE32+");
	rva = kd_get_le32(hdr + pe + 24 + 112);
	if (kc_read(c, KD_API_READ_VIRTUAL_MEMORY, base + rva, dir, 40) != 40)
		kc_die("cannot read the export directory");
	n = kd_get_le32(dir + 24);
	funcs = kd_get_le32(dir + 28);
	names = kd_get_le32(dir + 32);
	ords = kd_get_le32(dir + 36);
	for (i = 0; i < n && i < 512; i++) {
		uint8_t b[4], s[64];
		uint32_t nm;

		kc_read(c, KD_API_READ_VIRTUAL_MEMORY, base + names + i * 4, b,
			4);
		nm = kd_get_le32(b);
		if (kc_read(c, KD_API_READ_VIRTUAL_MEMORY, base + nm, s,
			    sizeof(s)) != sizeof(s))
			continue;
		if (memcmp(s, name, strlen(name) + 1) == 0) {
			uint16_t o;

			kc_read(c, KD_API_READ_VIRTUAL_MEMORY,
				base + ords + i * 2, b, 2);
			o = kd_get_le16(b);
			kc_read(c, KD_API_READ_VIRTUAL_MEMORY,
				base + funcs + o * 4u, b, 4);
			return base + kd_get_le32(b);
		}
	}
	return 0;
}

/* Translate @va by walking the page tables at @cr3 with ReadPhysical. */
static inline bool kc_translate(struct kc *c, uint64_t cr3, uint64_t va,
				uint64_t *pa)
{
	uint64_t table = cr3 & 0x000FFFFFFFFFF000ull;
	int level;

	for (level = 3; level >= 0; level--) {
		unsigned int shift = 12 + 9 * (unsigned int)level;
		uint8_t b[8];
		uint64_t e;

		if (kc_read(c, KD_API_READ_PHYSICAL_MEMORY,
			    table + ((va >> shift) & 511) * 8, b, 8) != 8)
			return false;
		e = kd_get_le64(b);
		if (!(e & 1))
			return false;
		if ((level == 1 || level == 2) && (e & 0x80)) {
			uint64_t mask = (1ull << shift) - 1;

			*pa = ((e & 0x000FFFFFFFFFF000ull) & ~mask) |
			      (va & mask);
			return true;
		}
		table = e & 0x000FFFFFFFFFF000ull;
	}
	*pa = table | (va & 0xFFF);
	return true;
}

/* UTF-16LE UNICODE_STRING at @us as ASCII into @out. */
static inline void kc_unicode(struct kc *c, uint64_t us, char *out, size_t cap)
{
	uint8_t hdr[16], s[512];
	uint16_t len;
	size_t i;

	if (kc_read(c, KD_API_READ_VIRTUAL_MEMORY, us, hdr, 16) != 16)
		kc_die("UNICODE_STRING read");
	len = kd_get_le16(hdr);
	if (len > sizeof(s))
		len = sizeof(s);
	if (kc_read(c, KD_API_READ_VIRTUAL_MEMORY, kd_get_le64(hdr + 8), s,
		    len) != len)
		kc_die("UNICODE_STRING buffer read");
	for (i = 0; i < len / 2u && i + 1 < cap; i++)
		out[i] = (char)s[i * 2];
	out[i] = '\0';
}

#endif /* KDSIM_CLIENT_H */
