/* SPDX-License-Identifier: MIT */
/*
 * kd_symstore_find: walk the symbol path for one key.
 *
 * Plain folders are searched flat (dir/name, dir/<ext>/name,
 * dir/symbols/<ext>/name) and as a store.  A srv* chain looks in each
 * cache, leftmost first, then in its store: a folder, or HTTP (index2.txt
 * probed once per store for the two-tier layout, then name, name with its
 * last character '_' (a CAB), file.ptr).  What is fetched is written to a
 * temporary file in the leftmost cache's key folder, verified, and
 * renamed into place; a hit further right is copied into every cache to
 * its left the same way.  A cache*dir element adds dir as the leftmost
 * cache of everything to its right.
 *
 * A file.ptr from an HTTP store may only point at an http(s) URL: a
 * server must not make the client read arbitrary local files.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kd/error.h>
#include <kd/io.h>

#include "symstore_int.h"

#define PMAX KD_SYMSTORE_PATH_MAX
#define NAME_MAX_LEN 255

struct find {
	const struct kd_symstore_opts *o;
	const struct kd_symstore_key *key;
	char keydir[40];
	char zname[NAME_MAX_LEN + 1]; /* name.pd_ */
	int first_rc;		      /* first failure, 0 = none */
	char first_why[512];
	char notfound_why[512]; /* a file.ptr MSG:, a remembered miss */
};

static void note(struct find *f, int rc, const char *why)
{
	if (rc == KD_OK || rc == KD_ENOTFOUND || f->first_rc)
		return;
	f->first_rc = rc;
	kd_symstore__why(f->first_why, sizeof(f->first_why), "%s", why);
}

static bool is_http(const char *s)
{
	return strncasecmp(s, "http://", 7) == 0 ||
	       strncasecmp(s, "https://", 8) == 0;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static int pathf(char *buf, const char *fmt, ...) KD_PRINTF(2, 3);

/* snprintf into a PMAX buffer; KD_EBUFS when it does not fit. */
static int pathf(char *buf, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, PMAX, fmt, ap);
	va_end(ap);
	return n < 0 || n >= PMAX ? KD_EBUFS : KD_OK;
}

/* mkdir -p of the folder @p dir. */
static int mkdirs(const char *dir)
{
	char p[PMAX];
	size_t i, n = strlen(dir);

	if (n == 0 || n >= sizeof(p))
		return -1;
	memcpy(p, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			return -1;
		p[i] = i < n ? '/' : '\0';
	}
	return 0;
}

/* Entries looked at per folder when matching a name's case. */
#define CI_SCAN_MAX 100000

/*
 * Symbol stores come from Windows, whose file names ignore case: a cache
 * copied from there may hold NTKRNLMP.PDB/<guid>/ntkrnlmp.pdb.  Where a
 * component of @p path after its first @p from bytes does not exist,
 * the one entry of its folder equal to it but for ASCII case is taken
 * (same length, so in place).  Nothing changes when no such entry is.
 */
static void ci_fix(char *path, size_t from)
{
	char *comp = path + from;

	while (*comp == '/')
		comp++;
	while (*comp) {
		char *end = strchr(comp, '/');
		size_t len = end ? (size_t)(end - comp) : strlen(comp);
		char saved = comp[len];
		struct dirent *d;
		unsigned seen = 0;
		bool fixed = false;
		DIR *dir;

		comp[len] = '\0';
		if (!exists(path)) {
			/* The folder holding it: path up to comp. */
			if (comp == path) {
				dir = opendir(".");
			} else {
				comp[-1] = '\0';
				dir = opendir(comp == path + 1 ? "/" : path);
				comp[-1] = '/';
			}
			while (dir && (d = readdir(dir)) != NULL &&
			       ++seen <= CI_SCAN_MAX) {
				if (strlen(d->d_name) == len &&
				    strcasecmp(d->d_name, comp) == 0) {
					memcpy(comp, d->d_name, len);
					fixed = true;
					break;
				}
			}
			if (dir)
				closedir(dir);
		}
		comp[len] = saved;
		if (!exists(path) && !fixed)
			return;
		if (!end)
			return;
		comp = end + 1;
	}
}

/* The key folder of a local store @p root (two-tier when index2.txt). */
static int local_keydir(struct find *f, const char *root, char *out)
{
	char probe[PMAX];
	const char *name = f->key->name;

	if (pathf(probe, "%s/index2.txt", root))
		return KD_EBUFS;
	if (exists(probe))
		return pathf(out, "%s/%.2s/%s/%s", root, name, name, f->keydir);
	return pathf(out, "%s/%s/%s", root, name, f->keydir);
}

/* Copy @p src to a temporary file in @p dir, returned open in *@p fd. */
static int make_temp(const char *dir, char *tmp, int *fd)
{
	if (pathf(tmp, "%s/.kdtmp.XXXXXX", dir))
		return KD_EBUFS;
	*fd = mkstemp(tmp);
	return *fd < 0 ? KD_EPROTO : KD_OK;
}

/* Copy file @p src into the key folder of cache @p root; path in @p out. */
static int copy_into(struct find *f, const char *root, const char *src,
		     char *out)
{
	char dir[PMAX], tmp[PMAX], buf[65536];
	int in, fd, rc = KD_OK;
	ssize_t n;

	if (local_keydir(f, root, dir) ||
	    pathf(out, "%s/%s", dir, f->key->name))
		return KD_EBUFS;
	if (strcmp(out, src) == 0)
		return KD_OK;
	if (mkdirs(dir) != 0 || make_temp(dir, tmp, &fd) != KD_OK) {
		kd_symstore__log(f->o, "SYMSRV:  cannot write the cache %s",
				 dir);
		return KD_EPROTO;
	}
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		rc = KD_EPROTO;
	while (rc == KD_OK && (n = kd_read_full(in, buf, sizeof(buf))) > 0)
		if (kd_write_all(fd, buf, (size_t)n) != 0)
			rc = KD_EPROTO;
	if (in >= 0)
		close(in);
	if (close(fd) != 0)
		rc = KD_EPROTO;
	if (rc == KD_OK && rename(tmp, out) != 0)
		rc = KD_EPROTO;
	if (rc != KD_OK)
		unlink(tmp);
	return rc;
}

/* Verify @p path; note a failure.  KD_OK when it is the file. */
static int check(struct find *f, const char *path)
{
	char why[512];
	int rc = kd_symstore__verify(path, f->key, why, sizeof(why));

	if (rc == KD_OK)
		kd_symstore__log(f->o, "SYMSRV:  %s - OK", path);
	else if (rc == KD_ENOTFOUND)
		kd_symstore__log(f->o, "SYMSRV:  %s - path not found", path);
	else {
		kd_symstore__log(f->o, "SYMSRV:  %s - refused: %s", path, why);
		note(f, rc, why);
	}
	return rc;
}

/*
 * Expand CAB @p cab into a temporary file in @p dir, verify it, rename it
 * to @p dest.  KD_OK when @p dest is now the verified file.
 */
static int expand(struct find *f, const char *cab, const char *dir,
		  const char *dest)
{
	char tmp[PMAX], why[512];
	int fd, rc;

	if (make_temp(dir, tmp, &fd) != KD_OK)
		return KD_EPROTO;
	close(fd);
	rc = kd_symstore__cab_extract(cab, tmp, KD_SYMSTORE_FILE_MAX, why,
				      sizeof(why));
	if (rc != KD_OK) {
		kd_symstore__log(f->o, "SYMSRV:  %s - refused: %s", cab, why);
		note(f, rc, why);
	} else if ((rc = check(f, tmp)) == KD_OK && rename(tmp, dest) != 0)
		rc = KD_EPROTO;
	if (rc != KD_OK)
		unlink(tmp);
	return rc;
}

/*
 * Look in the local store @p root: name, name_, file.ptr.  KD_OK with the
 * verified file's path in @p out (inside @p root, a file.ptr target, or
 * the expanded CAB).  A CAB is expanded into cache @p unpack (NULL: next
 * to the CAB), so a store is not written to when a cache is at hand.
 */
static int local_store(struct find *f, const char *root, const char *unpack,
		       char *out)
{
	char dir[PMAX], p[PMAX], body[KD_SYMSTORE_FILEPTR_MAX + 1];
	char loc[PMAX];
	ssize_t n;
	int fd, rc;

	if (local_keydir(f, root, dir) ||
	    pathf(out, "%s/%s", dir, f->key->name))
		return KD_EBUFS;
	ci_fix(out, strlen(root));
	if (check(f, out) == KD_OK)
		return KD_OK;
	if (pathf(p, "%s/%s", dir, f->zname))
		return KD_EBUFS;
	ci_fix(p, strlen(root));
	if (exists(p)) {
		char udir[PMAX];

		if (local_keydir(f, unpack ? unpack : root, udir) ||
		    pathf(out, "%s/%s", udir, f->key->name))
			return KD_EBUFS;
		if (mkdirs(udir) == 0 && expand(f, p, udir, out) == KD_OK)
			return KD_OK;
	} else
		kd_symstore__log(f->o, "SYMSRV:  %s - path not found", p);
	if (pathf(p, "%s/file.ptr", dir))
		return KD_EBUFS;
	ci_fix(p, strlen(root));
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		kd_symstore__log(f->o, "SYMSRV:  %s - path not found", p);
		return KD_ENOTFOUND;
	}
	n = kd_read_full(fd, body, sizeof(body));
	close(fd);
	if (n < 0)
		return KD_ENOTFOUND;
	rc = kd_symstore__fileptr_parse(body, (size_t)n, loc, sizeof(loc));
	if (rc == KD_ENOTFOUND) {
		kd_symstore__why(f->notfound_why, sizeof(f->notfound_why),
				 "%s: file.ptr says: %s", f->key->name, loc);
		return KD_ENOTFOUND;
	}
	if (rc != KD_OK) {
		kd_symstore__why(body, sizeof(body), "%s: damaged file.ptr", p);
		note(f, KD_EPROTO, body);
		return KD_EPROTO;
	}
	for (char *c = loc; *c; c++)
		if (*c == '\\')
			*c = '/';
	if (is_http(loc))
		return KD_ENOTFOUND; /* a local store points at local files */
	if (pathf(out, "%s", loc))
		return KD_EBUFS;
	return check(f, out);
}

/* A plain folder: flat names first, then the store layout. */
static int plain_dir(struct find *f, const char *dir, char *out)
{
	const char *name = f->key->name, *ext = strrchr(name, '.');

	if (pathf(out, "%s/%s", dir, name) == KD_OK && check(f, out) == KD_OK)
		return KD_OK;
	if (ext && ext[1]) {
		if (pathf(out, "%s/%s/%s", dir, ext + 1, name) == KD_OK &&
		    check(f, out) == KD_OK)
			return KD_OK;
		if (pathf(out, "%s/symbols/%s/%s", dir, ext + 1, name) ==
			    KD_OK &&
		    check(f, out) == KD_OK)
			return KD_OK;
	}
	return local_store(f, dir, NULL, out);
}

/* GET @p url into @p fd: the http_get codes, failures noted. */
static int get(struct find *f, const char *url, int fd, uint64_t max)
{
	char why[512];
	int rc = kd_symstore__http_get(url, fd, max, f->o, why, sizeof(why));

	note(f, rc, why);
	return rc;
}

/*
 * Fetch the key from HTTP store @p url into cache @p root.  KD_OK with
 * the cached path in @p out; KD_ENOTFOUND when the store has none of the
 * three forms; a network error otherwise.
 */
static int http_store(struct find *f, const char *url, const char *root,
		      char *out)
{
	const struct kd_symstore_opts *o = f->o;
	char miss[PMAX + 64], tier[PMAX + 16], base[PMAX], u[PMAX];
	char dir[PMAX], tmp[PMAX], body[KD_SYMSTORE_FILEPTR_MAX + 1];
	char loc[PMAX];
	struct kd_symstore_misses *m = o ? o->misses : NULL;
	size_t ulen = strlen(url);
	bool two = false;
	int fd, rc, r1, r2, r3;
	ssize_t n;

	while (ulen > 0 && url[ulen - 1] == '/')
		ulen--;
	if (o && o->offline) {
		kd_symstore__log(o, "SYMSRV:  %.*s - offline, not asked",
				 (int)ulen, url);
		return KD_ENOTFOUND;
	}
	snprintf(miss, sizeof(miss), "miss|%.*s|%s/%s", (int)ulen, url,
		 f->key->name, f->keydir);
	if (kd_symstore__miss_has(m, miss)) {
		kd_symstore__log(o, "SYMSRV:  %.*s/%s/%s - known miss",
				 (int)ulen, url, f->key->name, f->keydir);
		kd_symstore__why(f->notfound_why, sizeof(f->notfound_why),
				 "%s: not on %.*s (remembered from an earlier "
				 "lookup)",
				 f->key->name, (int)ulen, url);
		return KD_ENOTFOUND;
	}
	if (local_keydir(f, root, dir) || mkdirs(dir) != 0 ||
	    pathf(out, "%s/%s", dir, f->key->name)) {
		kd_symstore__why(body, sizeof(body),
				 "cannot create the cache folder %s", dir);
		note(f, KD_EPROTO, body);
		return KD_EPROTO;
	}
	if (make_temp(dir, tmp, &fd) != KD_OK) {
		note(f, KD_EPROTO, "cannot create a file in the cache");
		return KD_EPROTO;
	}
	/* The tier probe, once per store and session. */
	snprintf(tier, sizeof(tier), "two|%.*s", (int)ulen, url);
	if (kd_symstore__miss_has(m, tier))
		two = true;
	else {
		snprintf(tier, sizeof(tier), "one|%.*s", (int)ulen, url);
		if (!kd_symstore__miss_has(m, tier)) {
			if (pathf(u, "%.*s/index2.txt", (int)ulen, url)) {
				rc = KD_EBUFS;
				goto out;
			}
			rc = get(f, u, fd, 65536);
			if (rc != KD_OK && rc != KD_ENOTFOUND)
				goto out;
			two = rc == KD_OK;
			snprintf(tier, sizeof(tier), "%s|%.*s",
				 two ? "two" : "one", (int)ulen, url);
			kd_symstore__miss_add(m, tier);
		}
	}
	if (two)
		rc = pathf(base, "%.*s/%.2s/%s/%s", (int)ulen, url,
			   f->key->name, f->key->name, f->keydir);
	else
		rc = pathf(base, "%.*s/%s/%s", (int)ulen, url, f->key->name,
			   f->keydir);
	if (rc)
		goto out;

	/* 1: the file itself. */
	if ((rc = pathf(u, "%s/%s", base, f->key->name)))
		goto out;
	r1 = rc = get(f, u, fd, KD_SYMSTORE_FILE_MAX);
	if (rc == KD_OK) {
		if (close(fd) == 0 && check(f, tmp) == KD_OK &&
		    rename(tmp, out) == 0) {
			fd = -1;
			goto out;
		}
		fd = open(tmp, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			rc = KD_EPROTO;
			goto out;
		}
	} else if (rc != KD_ENOTFOUND)
		goto out; /* network trouble: the other forms would fail too */

	/* 2: the CAB. */
	if ((rc = pathf(u, "%s/%s", base, f->zname)))
		goto out;
	r2 = rc = get(f, u, fd, KD_SYMSTORE_FILE_MAX);
	if (rc == KD_OK) {
		rc = expand(f, tmp, dir, out);
		if (rc == KD_OK)
			goto out;
	} else if (rc != KD_ENOTFOUND)
		goto out;

	/* 3: file.ptr. */
	if ((rc = pathf(u, "%s/file.ptr", base)))
		goto out;
	r3 = rc = get(f, u, fd, KD_SYMSTORE_FILEPTR_MAX);
	if (rc == KD_OK) {
		n = pread(fd, body, sizeof(body), 0);
		rc = kd_symstore__fileptr_parse(body, n > 0 ? (size_t)n : 0,
						loc, sizeof(loc));
		if (rc == KD_ENOTFOUND) {
			kd_symstore__why(
				f->notfound_why, sizeof(f->notfound_why),
				"%s: file.ptr says: %s", f->key->name, loc);
			goto out;
		}
		if (rc != KD_OK || !is_http(loc)) {
			kd_symstore__why(
				body, sizeof(body),
				"%s: file.ptr does not name an http(s) URL", u);
			note(f, KD_EPROTO, body);
			rc = KD_EPROTO;
			goto out;
		}
		kd_symstore__log(o, "SYMSRV:  file.ptr: %s", loc);
		rc = get(f, loc, fd, KD_SYMSTORE_FILE_MAX);
		if (rc == KD_OK) {
			if (close(fd) == 0 && check(f, tmp) == KD_OK &&
			    rename(tmp, out) == 0) {
				fd = -1;
				goto out;
			}
			fd = -1;
			rc = KD_EPROTO;
		}
		goto out;
	} else if (rc != KD_ENOTFOUND)
		goto out;
	/* Remember a clean miss only: a network error may heal, and a
	 * refused file is reported again rather than hidden. */
	if (r1 == KD_ENOTFOUND && r2 == KD_ENOTFOUND && r3 == KD_ENOTFOUND)
		kd_symstore__miss_add(m, miss);
	rc = KD_ENOTFOUND;
out:
	if (fd >= 0)
		close(fd);
	if (rc != KD_OK) {
		unlink(tmp);
		/* Leave no empty key folder behind for a miss. */
		if (rmdir(dir) == 0 && strrchr(dir, '/')) {
			*strrchr(dir, '/') = '\0';
			rmdir(dir);
		}
	}
	return rc;
}

/* The default cache folder, or a noted failure. */
static int default_cache(struct find *f, char *buf)
{
	const char *d = f->o ? f->o->default_cache : NULL;

	if (d && *d)
		return pathf(buf, "%s", d);
	if (kd_symstore_default_cache(buf, PMAX) != KD_OK) {
		kd_symstore__why(
			f->notfound_why, sizeof(f->notfound_why),
			"no default symbol cache (set OPENKD_SYMCACHE or "
			"HOME)");
		return KD_ENOTFOUND;
	}
	return KD_OK;
}

/*
 * Copy @p hit into caches [@p from, @p to) of @p tiers.  @p out is the copy
 * in the first of them, or @p hit when there is none or the copy failed
 * (the file is still good where it is).
 */
static int spread(struct find *f, char (*tiers)[PMAX], size_t from, size_t to,
		  const char *hit, char *out)
{
	char p[PMAX];
	bool first = true;
	size_t j;

	if (pathf(out, "%s", hit))
		return KD_EBUFS;
	for (j = from; j < to; j++) {
		if (copy_into(f, tiers[j], hit, p) == KD_OK && first)
			pathf(out, "%s", p);
		first = false;
	}
	return KD_OK;
}

/* A srv* chain, with @p extra (a cache*dir) as its leftmost cache. */
static int srv_chain(struct find *f, const struct sympath_elem *e,
		     const char *extra, char *out)
{
	char tiers[KD_SYMPATH_TIERS_MAX + 1][PMAX], p[PMAX], hit[PMAX];
	size_t nt = 0, i;
	int rc;

	if (extra && pathf(tiers[nt++], "%s", extra))
		return KD_EBUFS;
	for (i = 0; i < e->ncaches; i++) {
		if (e->caches[i])
			rc = pathf(tiers[nt], "%s", e->caches[i]);
		else
			rc = default_cache(f, tiers[nt]);
		if (rc)
			return rc;
		nt++;
	}
	if (nt == 0 && e->http) {
		if (default_cache(f, tiers[0]))
			return KD_ENOTFOUND;
		nt = 1;
	}
	/* The caches, leftmost first, unless /o asks for a fresh copy. */
	for (i = 0;
	     i < nt && !(f->o && f->o->refresh && e->http && !f->o->offline);
	     i++)
		if (local_store(f, tiers[i], NULL, hit) == KD_OK)
			return spread(f, tiers, 0, i, hit, out);
	if (e->http) {
		/* Fetched into the leftmost cache; the others get copies. */
		rc = http_store(f, e->store, tiers[0], hit);
		if (rc != KD_OK)
			return rc;
		spread(f, tiers, 1, nt, hit, p);
		return pathf(out, "%s", hit);
	}
	rc = local_store(f, e->store, nt ? tiers[0] : NULL, hit);
	if (rc != KD_OK)
		return rc;
	return spread(f, tiers, 0, nt, hit, out);
}

static bool name_ok(const char *name)
{
	size_t n, i;

	if (!name)
		return false;
	n = strnlen(name, NAME_MAX_LEN + 1);
	if (n == 0 || n > NAME_MAX_LEN || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return false;
	for (i = 0; i < n; i++)
		if (name[i] == '/' || name[i] == '\\' ||
		    (unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return false;
	return true;
}

int kd_symstore_find(const struct kd_sympath *path,
		     const struct kd_symstore_opts *opts,
		     const struct kd_symstore_key *key, char *path_out,
		     size_t cap, char *why, size_t whycap)
{
	char found[PMAX], extra[PMAX], copy[PMAX];
	bool have_extra = false;
	struct find f;
	size_t i;
	int rc = KD_ENOTFOUND;

	kd_symstore__why(why, whycap, "%s", "");
	if (cap > 0)
		path_out[0] = '\0';
	if (!key || !name_ok(key->name)) {
		kd_symstore__why(why, whycap,
				 "symbol file name is not a "
				 "plain file name");
		return KD_EINVAL;
	}
	memset(&f, 0, sizeof(f));
	f.o = opts;
	f.key = key;
	kd_symstore_key_dir(key, f.keydir, sizeof(f.keydir));
	kd_symstore__cab_name(key->name, f.zname, sizeof(f.zname));
	kd_symstore__log(opts, "SYMSRV:  BYINDEX: %s %s", key->name, f.keydir);
	for (i = 0; path && i < path->n && rc != KD_OK; i++) {
		const struct sympath_elem *e = &path->v[i];

		if (opts && opts->cancel && *opts->cancel) {
			note(&f, KD_EAGAIN, "cancelled");
			break;
		}
		switch (e->kind) {
		case KD_SYMPATH_CACHE:
			if (e->dir)
				have_extra = pathf(extra, "%s", e->dir) == 0;
			else
				have_extra = default_cache(&f, extra) == 0;
			continue;
		case KD_SYMPATH_DIR:
			rc = plain_dir(&f, e->dir, found);
			if (rc == KD_OK && have_extra &&
			    copy_into(&f, extra, found, copy) == KD_OK)
				rc = pathf(found, "%s", copy);
			break;
		case KD_SYMPATH_SRV:
			rc = srv_chain(&f, e, have_extra ? extra : NULL, found);
			if (rc == KD_EAGAIN)
				i = path->n;
			break;
		}
	}
	if (rc == KD_OK) {
		if (strlen(found) >= cap) {
			kd_symstore__why(why, whycap,
					 "path longer than the "
					 "caller's buffer");
			return KD_EBUFS;
		}
		memcpy(path_out, found, strlen(found) + 1);
		kd_symstore__log(opts, "DBGHELP: %s - found %s", key->name,
				 found);
		return KD_OK;
	}
	if (f.first_rc) {
		kd_symstore__why(why, whycap, "%s", f.first_why);
		kd_symstore__log(opts, "DBGHELP: %s - %s", key->name,
				 f.first_why);
		return f.first_rc;
	}
	if (f.notfound_why[0])
		kd_symstore__why(why, whycap, "%s", f.notfound_why);
	else
		kd_symstore__why(why, whycap,
				 "%s: not found in the symbol "
				 "path",
				 key->name);
	kd_symstore__log(opts, "DBGHELP: %s - file not found", key->name);
	return KD_ENOTFOUND;
}
