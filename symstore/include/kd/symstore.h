/* SPDX-License-Identifier: MIT */
/*
 * The symbol path and the symbol-server client: where a PDB (or an image)
 * named by its key is found, fetched, checked and cached.
 *
 * A symbol path is the WinDbg text (`-y`, _NT_SYMBOL_PATH, `.sympath`):
 * elements separated by ';', each one of
 *
 *   dir                       a plain folder (dir/name, dir/<ext>/name,
 *                             dir/symbols/<ext>/name)
 *   srv*Store                 a symbol store, no downstream cache (an HTTP
 *                             store then gets the default cache)
 *   srv*Cache*Store           a store with a downstream cache
 *   srv*C1*C2*...*Store       cascading caches, leftmost first; a hit is
 *                             copied into every cache to its left
 *   srv**Store                empty token: the default downstream cache
 *   symsrv*symsrv.dll*...     the long form of srv*
 *   cache*Dir / cache*        every element to its right is cached in Dir
 *                             (or the default cache)
 *
 * Store and cache layout: name/KEY/name, KEY being the GUID (Data1 %08X,
 * Data2 %04X, Data3 %04X, the 8 Data4 bytes %02X) and the age in %x for a
 * PDB, TimeDateStamp %08X and SizeOfImage %x for an image.  A store with
 * an index2.txt at its root is two-tier: na/name/KEY/name.
 *
 * Nothing found or fetched is trusted: a PDB must be an MSF 7.00 file with
 * the key's GUID and (DBI) age, an image an MZ/PE file with the key's
 * TimeDateStamp and SizeOfImage, before it is returned or enters a cache.
 * A download is written to a temporary file in the cache folder and
 * renamed into place, so a cache never holds a partial file.
 *
 * Errors: a failing call returns a negative KD_E* code and, where the
 * signature has no `why` buffer, leaves one line in kd_error_last().
 */
#ifndef KD_SYMSTORE_H
#define KD_SYMSTORE_H

#include <kd/common.h>

KD_BEGIN_DECLS

/* --- The symbol path ----------------------------------------------------- */

struct kd_sympath; /* a parsed symbol path; owns its strings */

/** Longest symbol path text accepted, and longest element. */
#define KD_SYMPATH_MAX 8192
#define KD_SYMPATH_ELEM_MAX 1024

/**
 * Parse @p text (';'-separated elements, see above; empty elements are
 * ignored, so "" and ";;" are the empty path).  On success *@p out owns
 * the result.  On failure *@p out is NULL, the return is KD_EINVAL (or
 * KD_ENOMEM) and kd_error_last() holds one line naming the element
 * ("symbol path: element 2 'srv*': no store after srv*").
 */
KD_API int kd_sympath_parse(struct kd_sympath **out, const char *text);

/**
 * Append the elements of @p text to @p path (`.sympath+`).  On failure
 * @p path is unchanged.
 */
KD_API int kd_sympath_append(struct kd_sympath *path, const char *text);

/** Release a parsed path.  NULL-safe. */
KD_API void kd_sympath_free(struct kd_sympath *path);

/**
 * Write the canonical text of @p path into @p buf (always NUL-terminated
 * when @p cap > 0): elements joined by ';', `srv*` chains as
 * `srv*cache*...*store` (the symsrv*symsrv.dll* form becomes srv*),
 * `cache*dir`.  Parsing the result gives the same path.  Returns the
 * length the whole text needs (like snprintf): a result >= @p cap means
 * it was cut.
 */
KD_API size_t kd_sympath_format(const struct kd_sympath *path, char *buf,
				size_t cap);

/** Number of elements in @p path (0 for NULL). */
KD_API size_t kd_sympath_count(const struct kd_sympath *path);

enum kd_sympath_kind {
	KD_SYMPATH_DIR = 1, /* plain folder */
	KD_SYMPATH_SRV,	    /* srv* chain */
	KD_SYMPATH_CACHE,   /* cache*dir: later elements are cached here */
};

#define KD_SYMPATH_TIERS_MAX 8 /* caches in one srv* chain */

/** A read-only view of one element; strings borrowed from the path. */
struct kd_sympath_elem {
	enum kd_sympath_kind kind;
	const char *dir;   /* DIR: the folder; CACHE: folder, NULL = default */
	const char *store; /* SRV: the last token (URL or folder) */
	bool http;	   /* SRV: store is http:// or https:// */
	size_t ncaches;	   /* SRV: caches before the store */
	const char *caches[KD_SYMPATH_TIERS_MAX]; /* NULL = default cache */
};

/** Element @p index (0-based) in *@p out.  KD_EINVAL past the end. */
KD_API int kd_sympath_elem(const struct kd_sympath *path, size_t index,
			   struct kd_sympath_elem *out);

/* --- Finding a file ------------------------------------------------------ */

/** Longest URL or file path the client builds or accepts. */
#define KD_SYMSTORE_PATH_MAX 4096

/* Remembered misses (negative cache): one per session, shared by lookups. */
struct kd_symstore_misses;

/** A new, empty miss set in *@p out. */
KD_API int kd_symstore_misses_new(struct kd_symstore_misses **out);

/** Forget every miss (`.reload /f` after the store changed). */
KD_API void kd_symstore_misses_clear(struct kd_symstore_misses *m);

/** Release.  NULL-safe. */
KD_API void kd_symstore_misses_free(struct kd_symstore_misses *m);

struct kd_symstore_opts {
	bool offline; /* never touch the network: caches and folders */
	/* Connect timeout, and how long a body may stall (no byte) before
	 * the request fails, in ms; 0 = 60000.  No limit on total time: a
	 * large PDB on a slow link is fine while it moves. */
	long timeout_ms;
	int retries; /* extra tries on a network error or 5xx; < 0 = 0 */
	/* !sym noisy: one line per step ("SYMSRV:  HTTPGET: ..."), no
	 * newline; also download progress for large files. */
	void (*log)(void *ctx, const char *line);
	void *log_ctx;
	volatile int *cancel;	/* non-zero aborts a download (Ctrl+C) */
	const char *user_agent; /* NULL = "Microsoft-Symbol-Server/10.0.0.0" */
	/* Default downstream cache (srv**URL, cache*, an HTTP store with no
	 * cache).  NULL = kd_symstore_default_cache(). */
	const char *default_cache;
	struct kd_symstore_misses *misses; /* NULL = no negative cache */
	bool refresh; /* `.reload /o`: fetch again over cached copies */
};

struct kd_symstore_key {
	const char *name; /* file name: "ntkrnlmp.pdb", "hal.dll" */
	/* PDB key (image == false): from the image's RSDS record. */
	uint8_t guid[16]; /* as stored in RSDS (Data1..3 little-endian) */
	uint32_t age;
	/* Image key (image == true): from the module list or a dump. */
	uint32_t timestamp, size_of_image;
	bool image;
};

/**
 * The key folder name for @p key into @p buf: "4FC7545E13D4F1504C4C442050"
 * "44422E1" for a PDB, "5F69600F1aa000" for an image.  KD_EBUFS when
 * @p cap is too small (34 bytes always suffice).
 */
KD_API int kd_symstore_key_dir(const struct kd_symstore_key *key, char *buf,
			       size_t cap);

/**
 * Find a verified local copy of @p key: search the elements of @p path in
 * order; for a srv* chain look in each cache, then in the store (a folder,
 * or over HTTP: name, then the CAB name with its last character '_', then
 * file.ptr), verify, move atomically into the caches, and return its path
 * in @p path_out.  A file.ptr from an HTTP store must name an http(s)
 * URL (a server may not point the client at local files); one in a
 * folder store names a file.  Redirects: at most 8, http/https only.
 *
 * Returns KD_OK and the path; KD_ENOTFOUND when no element has it (@p why
 * may say more: a file.ptr "MSG:" text, a remembered miss); or, when
 * nothing usable was found but something went wrong, an error with one
 * line in @p why (always NUL-terminated when @p whycap > 0):
 *   KD_EINVAL     a file was found but does not match the key (mismatch:
 *                 "ntkrnlmp.pdb: GUID/age ... does not match ...")
 *   KD_EPROTO     a file was found but is not a valid PDB/image/CAB
 *   KD_ETIMEOUT   the server did not answer in time
 *   KD_EDISCONNECTED  a network or HTTP error
 *   KD_EAGAIN     cancelled through opts->cancel
 *   KD_EBUFS      @p cap too small for the path
 * When several elements fail, the first failure is kept.  @p opts may be
 * NULL (online, defaults).
 */
KD_API int kd_symstore_find(const struct kd_sympath *path,
			    const struct kd_symstore_opts *opts,
			    const struct kd_symstore_key *key, char *path_out,
			    size_t cap, char *why, size_t whycap);

/**
 * The default downstream cache folder into @p buf:
 * $OPENKD_SYMCACHE, else $XDG_CACHE_HOME/openkd/sym, else
 * $HOME/.cache/openkd/sym.  KD_ENOTFOUND when none is set, KD_EBUFS when
 * @p cap is too small.
 */
KD_API int kd_symstore_default_cache(char *buf, size_t cap);

KD_END_DECLS

#endif /* KD_SYMSTORE_H */
