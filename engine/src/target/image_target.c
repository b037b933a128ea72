/* SPDX-License-Identifier: MIT */
/*
 * A PE image file (.exe, .dll, .sys) as a read-only target, as WinDbg
 * opens one with -z: the file is mapped at its ImageBase the way the
 * loader lays it out (target/pe_file.c) and is the one module of the
 * module list, so lm, x, ln, u, d* and expressions see it as they see a
 * driver of a live machine.  No registers, no processor state, nothing
 * that runs.  Also its driver for kd_target_open() ("image:<path>").
 */
#define _DEFAULT_SOURCE /* O_CLOEXEC */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/engine_int.h"
#include "core/memcache.h"
#include "target/pe_file.h"

struct image_target {
	struct kd_target base;
	const uint8_t *file; /* the whole file, mapped read-only */
	size_t len;
	struct kd_pef pe;
	char path[260];
};

static struct image_target *it(struct kd_target *t)
{
	return (struct image_target *)t;
}

/*
 * A read the image does not map.  A file has no memory but its own, so
 * this is not memory that happens to be paged out: the running command
 * fails with the reason (kd_target_failed) instead of showing `??`.
 */
static int outside(struct image_target *im, uint64_t va)
{
	struct kd_session *s = im->base.session;
	bool first = s->cmd.cmd_depth > 0 && !s->cmd.target_err;
	char a[18], b[18], c[18];

	(void)kd_target_failed(s, KD_EFAULT);
	if (first)
		snprintf(s->cmd.target_err_msg, sizeof(s->cmd.target_err_msg),
			 "%s is not in the image file (%s - %s)",
			 kd_fmt_ptr(s, a, va),
			 kd_fmt_ptr(s, b, im->pe.image_base),
			 kd_fmt_ptr(s, c,
				    im->pe.image_base + im->pe.size_of_image));
	return KD_EFAULT;
}

/* Only the image is memory: anything else is refused, never zeros.  A
 * read that runs off its end is short (*done < len), as the contract
 * says; the next one, at the end, is refused. */
static int image_read_virtual(struct kd_target *t, unsigned cpu, uint64_t va,
			      void *buf, size_t len, size_t *done)
{
	struct image_target *im = it(t);
	int rc;

	(void)cpu;
	*done = 0;
	if (va < im->pe.image_base)
		return outside(im, va);
	rc = kd_target__pe_read(&im->pe, im->file, im->len,
				va - im->pe.image_base, buf, len, done);
	return rc < 0 ? outside(im, va) : rc;
}

/* The contract asks every target for a CONTEXT; an image has none. */
static int image_get_context(struct kd_target *t, unsigned cpu, uint8_t *ctx)
{
	(void)t;
	(void)cpu;
	(void)ctx;
	return kd_error_set(KD_ENOTSUP, KD_ERRCLASS_ENGINE,
			    "an image file target has no registers");
}

/* Present, and failing the same way, because its presence is what says
 * the target may be another machine than x64 (kd_arch() then follows
 * identify()'s machine: an x86 or ARM64 image disassembles as such). */
static int image_get_native_context(struct kd_target *t, unsigned cpu,
				    uint8_t *buf, size_t cap, size_t *len)
{
	(void)buf;
	(void)cap;
	*len = 0;
	return image_get_context(t, cpu, NULL);
}

/* Nothing runs, so nothing ever stops. */
static int image_wait(struct kd_target *t, int timeout_ms, struct kd_event *ev)
{
	(void)t;
	(void)timeout_ms;
	(void)ev;
	return KD_ETIMEOUT;
}

static void image_close(struct kd_target *t)
{
	struct image_target *im = it(t);

	if (im->file)
		munmap((void *)im->file, im->len);
	kd_free(im);
}

static int image_identify(struct kd_target *t, unsigned cpu,
			  struct kd_target_id *id)
{
	struct image_target *im = it(t);

	(void)cpu;
	memset(id, 0, sizeof(*id));
	id->machine = im->pe.machine;
	id->version.machine_type = im->pe.machine;
	if (im->pe.pe32plus)
		id->version.flags |= KD_VERS_FLAG_PTR64;
	id->ncpus = 1;
	/* A file, not a moment of a machine: no time, no uptime. */
	id->snapshot = true;
	return KD_OK;
}

/* The module list: exactly this image, named from its file. */
static int image_modules(struct kd_target *t, struct kd_module **out, size_t *n)
{
	struct image_target *im = it(t);
	struct kd_module *m;
	const char *slash = strrchr(im->path, '/');
	const char *fn = slash ? slash + 1 : im->path;
	size_t fl;

	*out = NULL;
	*n = 0;
	m = kd_calloc(1, sizeof(*m));
	if (!m)
		return KD_ENOMEM;
	m->base = im->pe.image_base;
	m->size = im->pe.size_of_image;
	m->timestamp = im->pe.timestamp;
	m->checksum = im->pe.checksum;
	snprintf(m->path, sizeof(m->path), "%s", im->path);
	fl = strlen(fn);
	if (fl >= sizeof(m->image))
		fl = sizeof(m->image) - 1; /* the path keeps the whole name */
	memcpy(m->image, fn, fl);
	m->image[fl] = '\0';
	kd_sym__module_name(m->name, sizeof(m->name), m->image, m->base,
			    !im->pe.pe32plus);
	*out = m;
	*n = 1;
	return KD_OK;
}

static const struct kd_target_ops image_ops = {
	.version = KD_TARGET_OPS_VERSION,
	.name = "image",
	.caps = 0, /* read-only: no run, write, breakpoints or processors */
	.uncached = true,
	.noun = "an image file target",
	.identify = image_identify,
	.read_virtual = image_read_virtual,
	.get_context = image_get_context,
	.get_native_context = image_get_native_context,
	.wait = image_wait,
	.modules = image_modules,
	.close = image_close,
};

/* Map @p path read-only: *file and *len, or one line in @p err. */
static int map_file(const char *path, const uint8_t **file, size_t *len,
		    char *err, size_t cap)
{
	struct stat st;
	void *m;
	int fd, e;

	*file = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, cap, "%s", strerror(errno));
		return KD_ENOTFOUND;
	}
	if (fstat(fd, &st) < 0) {
		e = errno;
		close(fd);
		snprintf(err, cap, "%s", strerror(e));
		return KD_EINVAL;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err, cap, "not a regular file");
		return KD_EINVAL;
	}
	if (st.st_size < 0x40) {
		close(fd);
		snprintf(err, cap,
			 "not a PE image: %lld bytes, shorter than a DOS "
			 "header",
			 (long long)st.st_size);
		return KD_EPROTO;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	e = errno;
	close(fd);
	if (m == MAP_FAILED) {
		snprintf(err, cap, "%s", strerror(e));
		return KD_ENOMEM;
	}
	*file = m;
	*len = (size_t)st.st_size;
	return KD_OK;
}

/*
 * WinDbg's lines for an image file opened as a dump: the file, the
 * symbol path, the executable path, one ModLoad line for the image.
 */
static void image_banner(struct kd_session *s, const struct image_target *im)
{
	char a[18], b[18];
	uint64_t end = im->pe.image_base + im->pe.size_of_image;

	kd_out(s, "\nLoading Dump File [%s]\n", im->path);
	kd_sym__print_banner(s);
	if (im->pe.pe32plus)
		kd_out(s, "ModLoad: %s %s   %s\n",
		       kd_fmt_addr(a, im->pe.image_base), kd_fmt_addr(b, end),
		       im->path);
	else
		kd_out(s, "ModLoad: %08llx %08llx   %s\n",
		       (unsigned long long)im->pe.image_base,
		       (unsigned long long)end, im->path);
}

/* The image driver of kd_target_open(): kd -z @p path on a PE file. */
static int image_open(struct kd_session *s, const char *path,
		      struct kd_event *first)
{
	struct image_target *im;
	struct kd_target_id id;
	char err[256] = "";
	int rc;

	first->kind = KD_EV_NONE; /* nothing to report: it never ran */
	im = kd_calloc(1, sizeof(*im));
	if (!im)
		return kd_fail(s, KD_ENOMEM, "Out of memory");
	im->base.ops = &image_ops;
	im->base.session = s;
	if ((size_t)snprintf(im->path, sizeof(im->path), "%s", path) >=
	    sizeof(im->path)) {
		kd_free(im);
		return kd_fail(s, KD_EINVAL,
			       "Could not open image file: the path is longer "
			       "than %zu bytes",
			       sizeof(im->path) - 1);
	}
	rc = map_file(path, &im->file, &im->len, err, sizeof(err));
	if (rc == KD_OK)
		rc = kd_target__pe_parse(im->file, im->len, &im->pe, err,
					 sizeof(err));
	if (rc < 0) {
		image_close(&im->base);
		(void)kd_fail(s, rc, "Could not open image file [%s]: %s", path,
			      err);
		/* The caller's own line (kd's exit reason) says it too. */
		return kd_error_set(rc, KD_ERRCLASS_ENGINE, "%s", err);
	}
	kd_session_reset_target_state(s);
	s->tgt.ncpus = 1;
	s->tgt.cpus = kd_calloc(1, sizeof(*s->tgt.cpus));
	if (!s->tgt.cpus) {
		image_close(&im->base);
		return kd_fail(s, KD_ENOMEM, "Out of memory");
	}
	s->target = &im->base;
	snprintf(s->tgt.connstr, sizeof(s->tgt.connstr), "image:%s", path);
	(void)kd_target_identify(s, &id);
	s->tgt.have_kdbg = false;
	image_banner(s, im);
	s->sym.modules_valid = false;
	rc = kd_modules_load(s);
	if (rc < 0) {
		s->target = NULL;
		image_close(&im->base);
		return kd_fail(s, rc, "Could not list the image's module: %s",
			       kd_error_message(rc));
	}
	s->tgt.session_start = kd_now_ms();
	memset(&s->tgt.last, 0, sizeof(s->tgt.last));
	s->tgt.running = false;
	return KD_OK;
}

const struct kd_target_driver kd_target_image_driver = {
	.name = "image",
	.prefix = "image:",
	.ops = &image_ops,
	.open = image_open,
};
