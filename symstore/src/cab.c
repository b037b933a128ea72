/* SPDX-License-Identifier: MIT */
/*
 * Compressed store files ("name.pd_"): a Microsoft cabinet holding one
 * file, expanded with libmspack through our own mspack_system so every
 * byte written is counted against a cap (a hostile CAB that claims or
 * expands to more than the cap stops there) and the fuzz target can read
 * a CAB from memory and throw the output away.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mspack.h>
#include <string.h>
#include <unistd.h>

#include <kd/alloc.h>
#include <kd/io.h>

#include "symstore_int.h"

/* Names our system gives meaning to instead of opening a file. */
#define NAME_MEM "\001mem"
#define NAME_SINK "\001sink"

struct capsys {
	struct mspack_system base; /* first: libmspack hands us this */
	uint64_t cap, written;
	bool over;
	const uint8_t *mem;
	size_t memlen;
};

struct capfile {
	struct capsys *sys;
	int fd; /* -1 for the memory input and the sink */
	bool mem, sink;
	size_t pos; /* memory input */
};

static struct mspack_file *sys_open(struct mspack_system *self,
				    const char *name, int mode)
{
	struct capsys *s = (struct capsys *)self;
	struct capfile *f = kd_calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->sys = s;
	f->fd = -1;
	if (strcmp(name, NAME_MEM) == 0 && mode == MSPACK_SYS_OPEN_READ)
		f->mem = true;
	else if (strcmp(name, NAME_SINK) == 0 && mode == MSPACK_SYS_OPEN_WRITE)
		f->sink = true;
	else if (mode == MSPACK_SYS_OPEN_READ)
		f->fd = open(name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	else if (mode == MSPACK_SYS_OPEN_WRITE)
		f->fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			     0644);
	if (!f->mem && !f->sink && f->fd < 0) {
		kd_free(f);
		return NULL;
	}
	return (struct mspack_file *)f;
}

static void sys_close(struct mspack_file *file)
{
	struct capfile *f = (struct capfile *)file;

	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	kd_free(f);
}

static int sys_read(struct mspack_file *file, void *buf, int bytes)
{
	struct capfile *f = (struct capfile *)file;
	ssize_t n;

	if (bytes < 0)
		return -1;
	if (f->mem) {
		size_t left = f->sys->memlen - f->pos;
		size_t k = (size_t)bytes < left ? (size_t)bytes : left;

		memcpy(buf, f->sys->mem + f->pos, k);
		f->pos += k;
		return (int)k;
	}
	if (f->fd < 0)
		return -1;
	n = kd_read_full(f->fd, buf, (size_t)bytes);
	return n < 0 ? -1 : (int)n;
}

static int sys_write(struct mspack_file *file, void *buf, int bytes)
{
	struct capfile *f = (struct capfile *)file;
	struct capsys *s = f->sys;

	if (bytes < 0)
		return -1;
	if ((uint64_t)bytes > s->cap - s->written) {
		s->over = true;
		return -1;
	}
	s->written += (uint64_t)bytes;
	if (f->sink)
		return bytes;
	if (f->fd < 0 || kd_write_all(f->fd, buf, (size_t)bytes) != 0)
		return -1;
	return bytes;
}

static int sys_seek(struct mspack_file *file, off_t off, int mode)
{
	struct capfile *f = (struct capfile *)file;
	int whence;

	if (f->mem) {
		off_t base = mode == MSPACK_SYS_SEEK_START ?
				     0 :
			     mode == MSPACK_SYS_SEEK_CUR ?
				     (off_t)f->pos :
				     (off_t)f->sys->memlen;

		if ((off < 0 && -off > base) ||
		    (off > 0 && off > (off_t)f->sys->memlen - base))
			return -1;
		f->pos = (size_t)(base + off);
		return 0;
	}
	if (f->fd < 0)
		return -1;
	whence = mode == MSPACK_SYS_SEEK_START ? SEEK_SET :
		 mode == MSPACK_SYS_SEEK_CUR   ? SEEK_CUR :
						 SEEK_END;
	return lseek(f->fd, off, whence) < 0 ? -1 : 0;
}

static off_t sys_tell(struct mspack_file *file)
{
	struct capfile *f = (struct capfile *)file;

	if (f->mem)
		return (off_t)f->pos;
	if (f->fd < 0)
		return -1;
	return lseek(f->fd, 0, SEEK_CUR);
}

static void sys_message(struct mspack_file *file, const char *fmt, ...)
{
	/* libmspack's warnings are about the file we already refuse or
	 * accept by its result; keep the terminal quiet. */
	(void)file;
	(void)fmt;
}

static void *sys_alloc(struct mspack_system *self, size_t bytes)
{
	(void)self;
	return kd_malloc(bytes);
}

static void sys_free(void *p)
{
	kd_free(p);
}

static void sys_copy(void *src, void *dst, size_t bytes)
{
	memmove(dst, src, bytes);
}

static void capsys_init(struct capsys *s, uint64_t cap)
{
	memset(s, 0, sizeof(*s));
	s->base.open = sys_open;
	s->base.close = sys_close;
	s->base.read = sys_read;
	s->base.write = sys_write;
	s->base.seek = sys_seek;
	s->base.tell = sys_tell;
	s->base.message = sys_message;
	s->base.alloc = sys_alloc;
	s->base.free = sys_free;
	s->base.copy = sys_copy;
	s->cap = cap;
}

static const char *mspack_err(int e)
{
	switch (e) {
	case MSPACK_ERR_OPEN:
		return "cannot open";
	case MSPACK_ERR_READ:
		return "read error (truncated?)";
	case MSPACK_ERR_WRITE:
		return "write error";
	case MSPACK_ERR_SEEK:
		return "seek error (truncated?)";
	case MSPACK_ERR_NOMEMORY:
		return "out of memory";
	case MSPACK_ERR_SIGNATURE:
		return "not a CAB file";
	case MSPACK_ERR_DATAFORMAT:
		return "damaged CAB file";
	case MSPACK_ERR_CHECKSUM:
		return "CAB checksum error";
	case MSPACK_ERR_DECRUNCH:
		return "CAB data does not decompress";
	default:
		return "CAB error";
	}
}

/* Open @p name on @p s and expand its one file into @p out. */
static int extract(struct capsys *s, const char *name, const char *out,
		   char *why, size_t whycap)
{
	struct mscab_decompressor *d;
	struct mscabd_cabinet *cab;
	int rc = KD_OK, e;

	d = mspack_create_cab_decompressor(&s->base);
	if (!d) {
		kd_symstore__why(why, whycap, "CAB: out of memory");
		return KD_ENOMEM;
	}
	cab = d->open(d, name);
	if (!cab) {
		e = d->last_error(d);
		kd_symstore__why(why, whycap, "CAB: %s", mspack_err(e));
		mspack_destroy_cab_decompressor(d);
		return e == MSPACK_ERR_NOMEMORY ? KD_ENOMEM : KD_EPROTO;
	}
	if (!cab->files || cab->files->next || cab->next || cab->prevcab ||
	    cab->nextcab) {
		kd_symstore__why(why, whycap,
				 "CAB: holds %s file (a symbol-store CAB holds "
				 "one)",
				 cab->files ? "more than one" : "no");
		rc = KD_EPROTO;
	} else if ((uint64_t)cab->files->length > s->cap) {
		kd_symstore__why(why, whycap,
				 "CAB: file of %u bytes is larger than the "
				 "%llu-byte cap",
				 cab->files->length,
				 (unsigned long long)s->cap);
		rc = KD_EOVERFLOW;
	} else {
		e = d->extract(d, cab->files, out);
		if (s->over) {
			kd_symstore__why(why, whycap,
					 "CAB: expands past the %llu-byte cap",
					 (unsigned long long)s->cap);
			rc = KD_EOVERFLOW;
		} else if (e != MSPACK_ERR_OK) {
			kd_symstore__why(why, whycap, "CAB: %s", mspack_err(e));
			rc = e == MSPACK_ERR_NOMEMORY ? KD_ENOMEM : KD_EPROTO;
		} else if (s->written != cab->files->length) {
			kd_symstore__why(why, whycap,
					 "CAB: expanded to %llu bytes, the "
					 "header says %u",
					 (unsigned long long)s->written,
					 cab->files->length);
			rc = KD_EPROTO;
		}
	}
	d->close(d, cab);
	mspack_destroy_cab_decompressor(d);
	return rc;
}

int kd_symstore__cab_extract(const char *cab, const char *out, uint64_t cap,
			     char *why, size_t whycap)
{
	struct capsys s;

	capsys_init(&s, cap);
	return extract(&s, cab, out, why, whycap);
}

int kd_symstore__cab_check_mem(const uint8_t *buf, size_t len, uint64_t cap,
			       char *why, size_t whycap)
{
	struct capsys s;

	capsys_init(&s, cap);
	s.mem = buf;
	s.memlen = len;
	return extract(&s, NAME_MEM, NAME_SINK, why, whycap);
}

int kd_symstore__cab_name(const char *name, char *out, size_t cap)
{
	size_t n = strlen(name);

	if (n == 0 || n >= cap)
		return KD_EBUFS;
	memcpy(out, name, n - 1);
	out[n - 1] = '_';
	out[n] = '\0';
	return KD_OK;
}
