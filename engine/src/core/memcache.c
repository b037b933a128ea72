/* SPDX-License-Identifier: MIT */
/*
 * Target memory as seen by the commands: a cache of 4 KiB pages that lives
 * for one stop (dropped when the target runs and on every write), and the
 * read/write entry points.  A miss reads the whole run of missing pages in
 * one target call, which the live target turns into maximum-size requests;
 * reads of KD_MEMCACHE_BYPASS bytes or more go straight to the target, and
 * so does every read of a target that asks for it (a dump is already in
 * memory: a cache in front of it only copies).
 *
 * The cache is emptied only before a fill, never in the middle of one:
 * the page a read is about to copy is always still there.
 */
#include <string.h>

#include "core/memcache.h"

#define KD_PAGE 4096u
#define KD_MEMCACHE_SLOTS 512u	   /* hash slots; half used at most */
#define KD_MEMCACHE_MAX_PAGES 256u /* ~1 MiB, WinDbg's default size */
#define KD_MEMCACHE_RUN 16u	   /* pages read per miss, at most */
#define KD_MEMCACHE_BYPASS (64u * 1024u)

struct kd_memcache_page {
	uint64_t addr;	/* page address */
	uint32_t valid; /* readable bytes from the page start */
	uint8_t data[KD_PAGE];
};

struct kd_memcache {
	struct kd_memcache_page *slots[KD_MEMCACHE_SLOTS];
	size_t npages;
	struct kd_memcache_stats stats;
	uint8_t run[KD_MEMCACHE_RUN * KD_PAGE];
};

struct kd_memcache *kd_memcache_new(void)
{
	return kd_calloc(1, sizeof(struct kd_memcache));
}

static void memcache_clear(struct kd_memcache *c)
{
	size_t i;

	for (i = 0; i < KD_MEMCACHE_SLOTS; i++) {
		kd_free(c->slots[i]);
		c->slots[i] = NULL;
	}
	c->npages = 0;
}

void kd_memcache_free(struct kd_memcache *c)
{
	if (!c)
		return;
	memcache_clear(c);
	kd_free(c);
}

void kd_memcache_stats(const struct kd_memcache *c,
		       struct kd_memcache_stats *out)
{
	*out = c->stats;
}

void kd_cache_invalidate(struct kd_session *s)
{
	if (s->cache)
		memcache_clear(s->cache);
}

static size_t slot_of(uint64_t page)
{
	uint64_t h = (page >> 12) * 0x9E3779B97F4A7C15ull;

	return (size_t)(h >> 55) & (KD_MEMCACHE_SLOTS - 1);
}

static struct kd_memcache_page *memcache_find(struct kd_memcache *c,
					      uint64_t page)
{
	size_t i = slot_of(page);
	size_t n;

	for (n = 0; n < KD_MEMCACHE_SLOTS; n++) {
		struct kd_memcache_page *p = c->slots[i];

		if (!p)
			return NULL;
		if (p->addr == page)
			return p;
		i = (i + 1) & (KD_MEMCACHE_SLOTS - 1);
	}
	return NULL;
}

/* Keep one page; the caller made room (memcache_fill). */
static int memcache_put(struct kd_memcache *c, uint64_t page,
			const uint8_t *data, uint32_t valid)
{
	struct kd_memcache_page *p;
	size_t i;

	if (c->npages >= KD_MEMCACHE_MAX_PAGES)
		return KD_ENOMEM; /* no room was made: a bug, not silence */
	p = kd_malloc(sizeof(*p));
	if (!p)
		return KD_ENOMEM;
	p->addr = page;
	p->valid = valid;
	if (valid)
		memcpy(p->data, data, valid);
	i = slot_of(page);
	while (c->slots[i])
		i = (i + 1) & (KD_MEMCACHE_SLOTS - 1);
	c->slots[i] = p;
	c->npages++;
	return KD_OK;
}

/* Read the run of missing pages starting at @p page, up to @p last. */
static int memcache_fill(struct kd_session *s, uint64_t page, uint64_t last)
{
	struct kd_memcache *c = s->cache;
	uint64_t end = page;
	size_t pages = 0, done = 0, i;
	int rc;

	while (pages < KD_MEMCACHE_RUN && end <= last &&
	       !memcache_find(c, end)) {
		pages++;
		end += KD_PAGE;
		if (end == 0)
			break; /* top of the address space */
	}
	if (pages == 0)
		return KD_OK;
	/*
	 * Make room for the whole run now.  Dropping pages later, between
	 * two puts of this run, could drop the very page the caller copies
	 * next (the bug that cut 16 MiB reads short at 960 KiB).
	 */
	if (c->npages + pages > KD_MEMCACHE_MAX_PAGES)
		memcache_clear(c);
	c->stats.reads++;
	c->stats.misses += pages;
	rc = s->target->ops->read_virtual(s->target, s->tgt.cpu, page, c->run,
					  pages * KD_PAGE, &done);
	if (rc < 0)
		return rc;
	for (i = 0; i < pages; i++) {
		size_t off = i * KD_PAGE;
		uint32_t valid = 0;

		if (done > off)
			valid = (uint32_t)(done - off > KD_PAGE ? KD_PAGE :
								  done - off);
		rc = memcache_put(c, page + off, c->run + off, valid);
		if (rc < 0)
			return kd_error_set(
				rc, KD_ERRCLASS_ENGINE,
				"out of memory for the memory cache");
		if (valid < KD_PAGE)
			break; /* the rest is unknown: not negative-cached */
	}
	return KD_OK;
}

int kd_read_virtual(struct kd_session *s, uint64_t va, void *buf, size_t len,
		    size_t *done)
{
	struct kd_memcache *c = s->cache;
	uint8_t *out = buf;
	size_t got = 0;
	int rc;

	*done = 0;
	if (!s->target || !s->target->ops->read_virtual)
		return kd_error_set(KD_EINVAL, KD_ERRCLASS_ENGINE,
				    "no target memory to read");
	if (len == 0)
		return KD_OK;
	if (len >= KD_MEMCACHE_BYPASS || !c || s->target->ops->uncached) {
		if (c)
			c->stats.bypass++;
		return s->target->ops->read_virtual(s->target, s->tgt.cpu, va,
						    buf, len, done);
	}
	while (got < len) {
		uint64_t addr = va + got;
		uint64_t page = addr & ~(uint64_t)(KD_PAGE - 1);
		size_t off = (size_t)(addr - page);
		size_t want = len - got;
		struct kd_memcache_page *p = memcache_find(c, page);
		size_t n;

		if (!p) {
			uint64_t last = (va + len - 1) &
					~(uint64_t)(KD_PAGE - 1);

			if (va + len - 1 < va)
				last = ~(uint64_t)(KD_PAGE - 1);
			rc = memcache_fill(s, page, last);
			if (rc == KD_ENOMEM) {
				/* No memory to cache: read the rest straight
				 * from the target, so the caller still gets
				 * every byte (nothing is left out). */
				size_t d = 0;

				c->stats.bypass++;
				rc = s->target->ops->read_virtual(
					s->target, s->tgt.cpu, addr, out + got,
					len - got, &d);
				*done = got + d;
				return *done ? KD_OK : rc;
			}
			if (rc < 0) {
				*done = got;
				return got ? KD_OK : rc;
			}
			p = memcache_find(c, page);
			if (!p) {
				/* The target answered nothing for this
				 * page without failing: it is unreadable. */
				break;
			}
		} else {
			c->stats.hits++;
		}
		if (p->valid <= off)
			break;
		n = p->valid - off;
		if (n > want)
			n = want;
		memcpy(out + got, p->data + off, n);
		got += n;
		if (off + n < KD_PAGE && got < len)
			break; /* readable part of this page ended */
		if (page + KD_PAGE == 0)
			break;
	}
	*done = got;
	return KD_OK;
}

int kd_write_virtual(struct kd_session *s, uint64_t va, const void *buf,
		     size_t len, size_t *done)
{
	*done = 0;
	if (!s->target || !s->target->ops->write_virtual)
		return kd_error_set(KD_ENOTSUP, KD_ERRCLASS_ENGINE,
				    "target memory is not writable");
	kd_cache_invalidate(s);
	return s->target->ops->write_virtual(s->target, s->tgt.cpu, va, buf,
					     len, done);
}
