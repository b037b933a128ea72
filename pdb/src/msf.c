/* SPDX-License-Identifier: MIT */
/*
 * The MSF 7.00 container: superblock, stream directory (gathered through
 * its block map) and streams read across their blocks.  Every block number
 * is checked against the file, every block may belong to one stream only
 * (so a directory that loops or overlaps is refused), and a stream is
 * copied out only when its blocks are not already consecutive in the file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kd/alloc.h>
#include <kd/error.h>

#include "pdb_int.h"

static const uint8_t msf7_magic[32] = "Microsoft C/C++ MSF 7.00\r\n\x1a"
				      "DS\0\0\0";
static const char msf2_magic[] = "Microsoft C/C++ program database 2.00\r\n";
static const char msfz_magic[] = "Microsoft MSFZ Container\r\n";

int pdb_bad(struct kd_pdb *pdb, int code, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return kd_error_set(code, KD_ERRCLASS_DUMP, "pdb: %s: %s", pdb->name,
			    msg);
}

bool pdb_lazy_done(struct pdb_lazy *l, int *rc)
{
	if (!l->done) {
		l->done = true;
		return false;
	}
	*rc = l->rc;
	if (l->rc)
		kd_error_set(l->rc, KD_ERRCLASS_DUMP, "%s", l->msg);
	return true;
}

int pdb_lazy_end(struct pdb_lazy *l, int rc)
{
	l->rc = rc;
	if (rc)
		snprintf(l->msg, sizeof(l->msg), "%s", kd_error_message(rc));
	return rc;
}

const char *pdb_str(const struct pdb_buf *b, uint32_t off, uint32_t *len)
{
	const uint8_t *nul;

	if (off >= b->len)
		return NULL;
	nul = memchr(b->p + off, 0, b->len - off);
	if (!nul)
		return NULL;
	if (len)
		*len = (uint32_t)(nul - (b->p + off));
	return (const char *)(b->p + off);
}

static bool pow2_block(uint32_t bs)
{
	return bs >= 512 && bs <= 65536 && (bs & (bs - 1)) == 0;
}

/* Mark @p blk used; false if it is out of range, block 0, or used twice. */
static bool claim(struct kd_pdb *pdb, uint8_t *used, uint32_t blk)
{
	if (blk == 0 || blk >= pdb->nblocks)
		return false;
	if (used[blk >> 3] & (1u << (blk & 7)))
		return false;
	used[blk >> 3] |= (uint8_t)(1u << (blk & 7));
	return true;
}

static int load_directory(struct kd_pdb *pdb)
{
	const uint8_t *sb = pdb->file;
	uint32_t dir_bytes = kd_get_le32(sb + 44);
	uint32_t dir_blocks, map_blocks, i, j, n, total = 0, pos;
	uint8_t *used = NULL, *dir = NULL;
	uint32_t *dblk = NULL;
	int rc;

	if (dir_bytes < 4 || dir_bytes % 4 != 0 ||
	    dir_bytes > (uint64_t)pdb->nblocks * pdb->bs)
		return pdb_bad(pdb, KD_EPROTO,
			       "stream directory size %u is impossible",
			       dir_bytes);
	dir_blocks = (dir_bytes + pdb->bs - 1) / pdb->bs;
	map_blocks = (uint32_t)(((uint64_t)dir_blocks * 4 + pdb->bs - 1) /
				pdb->bs);
	if (52 + (uint64_t)map_blocks * 4 > pdb->bs)
		return pdb_bad(pdb, KD_EPROTO,
			       "stream directory needs %u map blocks, more "
			       "than the superblock holds",
			       map_blocks);
	used = kd_calloc(1, pdb->nblocks / 8 + 1);
	dblk = kd_malloc((size_t)dir_blocks * 4);
	dir = kd_malloc(dir_bytes);
	if (!used || !dblk || !dir) {
		rc = KD_ENOMEM;
		goto out;
	}
	/* The block map: the blocks that list the directory's blocks. */
	for (i = 0, n = 0; i < map_blocks; i++) {
		uint32_t mb = kd_get_le32(sb + 52 + i * 4);

		if (!claim(pdb, used, mb)) {
			rc = pdb_bad(pdb, KD_EPROTO,
				     "directory block map block %u is out of "
				     "range or used twice (%u blocks)",
				     mb, pdb->nblocks);
			goto out;
		}
		for (j = 0; j < pdb->bs / 4 && n < dir_blocks; j++, n++)
			dblk[n] = kd_get_le32(pdb->file + (size_t)mb * pdb->bs +
					      j * 4);
	}
	for (i = 0, pos = 0; i < dir_blocks; i++) {
		uint32_t take = dir_bytes - pos < pdb->bs ? dir_bytes - pos :
							    pdb->bs;

		if (!claim(pdb, used, dblk[i])) {
			rc = pdb_bad(pdb, KD_EPROTO,
				     "stream directory block %u is out of "
				     "range or used twice (%u blocks)",
				     dblk[i], pdb->nblocks);
			goto out;
		}
		memcpy(dir + pos, pdb->file + (size_t)dblk[i] * pdb->bs, take);
		pos += take;
	}

	pdb->nstreams = kd_get_le32(dir);
	if (pdb->nstreams == 0 || pdb->nstreams > PDB_MAX_STREAMS ||
	    4 + (uint64_t)pdb->nstreams * 4 > dir_bytes) {
		rc = pdb_bad(pdb, KD_EPROTO,
			     "stream count %u does not fit the %u-byte "
			     "directory",
			     pdb->nstreams, dir_bytes);
		goto out;
	}
	pdb->streams = kd_calloc(pdb->nstreams, sizeof(*pdb->streams));
	if (!pdb->streams) {
		rc = KD_ENOMEM;
		goto out;
	}
	for (i = 0; i < pdb->nstreams; i++) {
		uint32_t sz = kd_get_le32(dir + 4 + i * 4);

		if (sz == 0xffffffffu)
			sz = 0;
		if (sz > (uint64_t)pdb->nblocks * pdb->bs) {
			rc = pdb_bad(pdb, KD_EPROTO,
				     "stream %u claims %u bytes, more than "
				     "the file",
				     i, sz);
			goto out;
		}
		pdb->streams[i].size = sz;
		pdb->streams[i].first_block = total;
		total += (sz + pdb->bs - 1) / pdb->bs;
		if (total > pdb->nblocks) {
			rc = pdb_bad(pdb, KD_EPROTO,
				     "streams claim more blocks than the "
				     "file's %u",
				     pdb->nblocks);
			goto out;
		}
	}
	pos = 4 + pdb->nstreams * 4;
	if ((uint64_t)pos + (uint64_t)total * 4 > dir_bytes) {
		rc = pdb_bad(pdb, KD_ETRUNC,
			     "stream directory lists %u blocks but holds "
			     "room for %u",
			     total, (dir_bytes - pos) / 4);
		goto out;
	}
	pdb->blocks = kd_malloc((size_t)total * 4 + 4);
	if (!pdb->blocks) {
		rc = KD_ENOMEM;
		goto out;
	}
	for (i = 0; i < pdb->nstreams; i++) {
		struct pdb_stream *s = &pdb->streams[i];
		uint32_t nb = (s->size + pdb->bs - 1) / pdb->bs;

		for (j = 0; j < nb; j++) {
			uint32_t b = kd_get_le32(dir + pos +
						 (s->first_block + j) * 4);

			/* Stream 0 (the old directory) is never read: it
			 * may legitimately share pages with the current one. */
			if (i == 0 ? (b == 0 || b >= pdb->nblocks) :
				     !claim(pdb, used, b)) {
				rc = pdb_bad(pdb, KD_EPROTO,
					     "stream %u block %u is out of "
					     "range or used twice (%u "
					     "blocks)",
					     i, b, pdb->nblocks);
				goto out;
			}
			pdb->blocks[s->first_block + j] = b;
		}
	}
	rc = KD_OK;
out:
	kd_free(used);
	kd_free(dblk);
	kd_free(dir);
	return rc;
}

int pdb_stream(struct kd_pdb *pdb, uint32_t idx, struct pdb_buf *out)
{
	struct pdb_stream *s;
	uint32_t nb, i;
	const uint32_t *bl;
	uint8_t *copy;

	if (idx >= pdb->nstreams)
		return pdb_bad(pdb, KD_EPROTO,
			       "stream %u does not exist (%u streams)", idx,
			       pdb->nstreams);
	s = &pdb->streams[idx];
	if (!s->loaded) {
		nb = (s->size + pdb->bs - 1) / pdb->bs;
		bl = pdb->blocks + s->first_block;
		for (i = 1; i < nb; i++)
			if (bl[i] != bl[0] + i)
				break;
		if (nb == 0) {
			s->data = (const uint8_t *)"";
		} else if (i == nb) {
			/* Consecutive blocks: read the mapping in place. */
			s->data = pdb->file + (size_t)bl[0] * pdb->bs;
		} else {
			copy = kd_malloc(s->size);
			if (!copy)
				return KD_ENOMEM;
			for (i = 0; i < nb; i++) {
				uint32_t off = i * pdb->bs;
				uint32_t take = s->size - off < pdb->bs ?
							s->size - off :
							pdb->bs;

				memcpy(copy + off,
				       pdb->file + (size_t)bl[i] * pdb->bs,
				       take);
			}
			s->data = copy;
			s->owned = true;
		}
		s->loaded = true;
	}
	out->p = s->data;
	out->len = s->size;
	return KD_OK;
}

int pdb_stream_opt(struct kd_pdb *pdb, uint32_t idx, struct pdb_buf *out)
{
	if (idx == 0xffff || idx == 0xffffffffu) {
		out->p = (const uint8_t *)"";
		out->len = 0;
		return KD_OK;
	}
	return pdb_stream(pdb, idx, out);
}

static int open_common(struct kd_pdb *pdb)
{
	const uint8_t *sb = pdb->file;
	uint32_t fpm;
	int rc;

	if (pdb->file_len >= sizeof(msfz_magic) - 1 &&
	    memcmp(sb, msfz_magic, sizeof(msfz_magic) - 1) == 0)
		return pdb_bad(pdb, KD_ENOTSUP,
			       "MSFZ (compressed PDB) container is not "
			       "supported");
	if (pdb->file_len >= sizeof(msf2_magic) - 1 &&
	    memcmp(sb, msf2_magic, sizeof(msf2_magic) - 1) == 0)
		return pdb_bad(pdb, KD_ENOTSUP,
			       "old MSF 2.00 PDB format is not supported");
	if (pdb->file_len < 56 || memcmp(sb, msf7_magic, 32) != 0)
		return pdb_bad(pdb, pdb->file_len < 56 ? KD_ETRUNC : KD_EPROTO,
			       "not an MSF 7.00 PDB (bad magic or too short)");
	pdb->bs = kd_get_le32(sb + 32);
	fpm = kd_get_le32(sb + 36);
	pdb->nblocks = kd_get_le32(sb + 40);
	if (!pow2_block(pdb->bs))
		return pdb_bad(pdb, KD_EPROTO, "block size %u is not valid",
			       pdb->bs);
	if (fpm != 1 && fpm != 2)
		return pdb_bad(pdb, KD_EPROTO,
			       "free page map block %u is not 1 or 2", fpm);
	if (pdb->nblocks < 3 ||
	    (uint64_t)pdb->nblocks * pdb->bs > pdb->file_len)
		return pdb_bad(pdb, KD_ETRUNC,
			       "file has %zu bytes, superblock says %u "
			       "blocks of %u",
			       pdb->file_len, pdb->nblocks, pdb->bs);
	rc = load_directory(pdb);
	if (rc)
		return rc;
	rc = pdb_info_load(pdb);
	if (rc)
		return rc;
	return pdb_dbi_load(pdb);
}

static struct kd_pdb *pdb_new(const char *name)
{
	struct kd_pdb *pdb = kd_calloc(1, sizeof(*pdb));
	const char *base;

	if (!pdb)
		return NULL;
	if (!name)
		name = "<memory>";
	base = strrchr(name, '/');
	snprintf(pdb->name, sizeof(pdb->name), "%s", base ? base + 1 : name);
	return pdb;
}

int kd_pdb_open_mem(struct kd_pdb **out, const void *buf, size_t len,
		    const char *name)
{
	struct kd_pdb *pdb;
	int rc;

	if (!out)
		return KD_EINVAL;
	*out = NULL;
	if (!buf && len)
		return KD_EINVAL;
	pdb = pdb_new(name);
	if (!pdb)
		return KD_ENOMEM;
	pdb->file = buf;
	pdb->file_len = len;
	rc = open_common(pdb);
	if (rc) {
		kd_pdb_close(pdb);
		return rc;
	}
	*out = pdb;
	return KD_OK;
}

int kd_pdb_open_file(struct kd_pdb **out, const char *path)
{
	struct kd_pdb *pdb;
	struct stat st;
	void *map;
	int fd, rc;

	if (!out || !path)
		return KD_EINVAL;
	*out = NULL;
	pdb = pdb_new(path);
	if (!pdb)
		return KD_ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = kd_error_set_os(KD_ENOTFOUND, errno, "pdb: cannot open %s",
				     path);
		kd_pdb_close(pdb);
		return rc;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = kd_error_set(KD_EINVAL, KD_ERRCLASS_DUMP,
				  "pdb: %s is not a regular file", path);
		close(fd);
		kd_pdb_close(pdb);
		return rc;
	}
	if (st.st_size == 0) {
		close(fd);
		rc = pdb_bad(pdb, KD_ETRUNC, "file is empty");
		kd_pdb_close(pdb);
		return rc;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		rc = kd_error_set_os(KD_ERROR, errno, "pdb: cannot map %s",
				     path);
		kd_pdb_close(pdb);
		return rc;
	}
	pdb->file = map;
	pdb->file_len = (size_t)st.st_size;
	pdb->map_len = (size_t)st.st_size;
	rc = open_common(pdb);
	if (rc) {
		kd_pdb_close(pdb);
		return rc;
	}
	*out = pdb;
	return KD_OK;
}

void kd_pdb_close(struct kd_pdb *pdb)
{
	uint32_t i;

	if (!pdb)
		return;
	pdb_sym_free(pdb);
	pdb_tpi_free(pdb);
	pdb_fpo_free(pdb);
	kd_free(pdb->mods);
	kd_free(pdb->secs);
	if (pdb->streams)
		for (i = 0; i < pdb->nstreams; i++)
			if (pdb->streams[i].owned)
				kd_free((void *)pdb->streams[i].data);
	kd_free(pdb->streams);
	kd_free(pdb->blocks);
	if (pdb->map_len)
		munmap((void *)pdb->file, pdb->map_len);
	kd_free(pdb);
}

int kd_pdb_stream_size(struct kd_pdb *pdb, uint32_t stream, uint32_t *size)
{
	if (!pdb || !size || stream >= pdb->nstreams)
		return KD_EINVAL;
	*size = pdb->streams[stream].size;
	return KD_OK;
}
