/* SPDX-License-Identifier: MIT */
/*
 * Internals of the PDB reader shared by its files: the container, the
 * streams it caches, the lazily built indexes.
 */
#ifndef KD_PDB_INT_H
#define KD_PDB_INT_H

#include <kd/common.h>
#include <kd/pdb.h>

/* Bounds a hostile file cannot push past (derived, generous for real PDBs). */
#define PDB_MAX_STREAMS 0x10000u
#define PDB_MAX_FIELD_CHAIN 4096u

/* A byte range inside the reader's memory (the mapping or a copy). */
struct pdb_buf {
	const uint8_t *p;
	uint32_t len;
};

/*
 * A part built on first use: its result and error line are kept, so every
 * later call fails the same way with the same line.
 */
struct pdb_lazy {
	bool done;
	int rc;
	char msg[256];
};

struct pdb_stream {
	uint32_t size;	      /* 0 for nil streams */
	uint32_t first_block; /* index into pdb->blocks */
	const uint8_t *data;  /* materialised on first use */
	bool owned;	      /* data was copied (kd_free it) */
	bool loaded;
};

struct pdb_mod {
	const char *name;
	const char *obj;
	uint16_t stream;
	uint32_t sym_bytes, c11_bytes, c13_bytes;
	uint16_t num_files;
};

struct pdb_sec {
	uint32_t va, size;
};

/* One entry of the address index (publics and procedures). */
struct pdb_addr {
	uint32_t rva;
	uint32_t size;
	uint32_t off;	/* record offset in the GSS or the module stream */
	int32_t module; /* -1: a public in the GSS */
};

struct pdb_contrib {
	uint32_t rva, size;
	uint16_t module;
};

/* A GSI/PSI name table decoded and checked. */
struct pdb_gsi {
	bool present;
	const uint8_t *hr; /* {i32 off+1, i32 cref} records */
	uint32_t hr_count;
	const uint8_t *bitmap;
	uint32_t nbuckets;
	const uint8_t *buckets; /* i32 per non-empty bucket */
	uint32_t nonempty;
	uint32_t *bucket_start; /* nbuckets+1 starts into hr, built at load */
};

struct pdb_fpo_ent {
	uint32_t start, idx; /* start RVA, record index in the stream */
};

/* An FPO_DATA or FRAMEDATA table, sorted by start RVA on first use. */
struct pdb_fpo_tab {
	struct pdb_lazy lazy;
	const uint8_t *base; /* first record */
	uint32_t n, esz;
	struct pdb_fpo_ent *order; /* by start RVA */
};

struct pdb_tpi {
	struct pdb_lazy lazy;
	bool present;
	struct pdb_buf rec; /* the record bytes */
	uint32_t ti_begin, ti_end;
	uint32_t *offs; /* record offsets, ti_end - ti_begin */
	/* Name -> defining type (open addressing), built on first use. */
	uint32_t *names;
	uint32_t names_cap;
	bool names_built;
};

struct kd_pdb {
	char name[96];
	const uint8_t *file;
	size_t file_len;
	size_t map_len; /* non-zero: file is our mmap */

	uint32_t bs, nblocks;
	uint32_t nstreams;
	struct pdb_stream *streams;
	uint32_t *blocks; /* every stream's block list, concatenated */

	/* Info stream. */
	uint32_t version, signature, age;
	uint8_t guid[16];
	bool has_ipi, minimal;
	const uint8_t *nm_keys;
	uint32_t nm_keys_len;
	const uint8_t *nm_entries; /* {u32 key offset, u32 stream} */
	uint32_t nm_count;

	/* DBI. */
	bool has_dbi;
	uint32_t dbi_age;
	uint16_t machine;
	uint16_t gsi_stream, psi_stream, gss_stream;
	struct pdb_mod *mods;
	uint32_t nmods;
	struct pdb_buf contribs; /* section contribution substream */
	struct pdb_buf dbg_hdr;	 /* optional debug header: u16 streams */

	/* Sections (lazily). */
	struct pdb_lazy secs_lazy;
	struct pdb_sec *secs;
	uint32_t nsecs;
	struct pdb_buf omap_from;

	/* Symbols (lazily). */
	struct pdb_lazy gs_lazy;
	struct pdb_buf gss;
	struct pdb_gsi gsi, psi;
	struct pdb_buf psi_addr; /* u32 GSS offsets of S_PUB32, by address */

	struct pdb_lazy idx_lazy;
	struct pdb_addr *addrs;
	uint32_t naddrs;

	struct pdb_lazy contribs_lazy;
	struct pdb_contrib *cons;
	uint32_t ncons;

	struct pdb_lazy names_lazy;
	struct pdb_buf names; /* /names string buffer */

	struct pdb_tpi tpi;
	struct pdb_tpi ipi; /* same layout; no name table */

	/* x86 frame tables (lazily). */
	struct pdb_fpo_tab fpo;	   /* FPO_DATA */
	struct pdb_fpo_tab frames; /* FRAMEDATA */
};

/* Record a malformed-file error "pdb: NAME: ..." and return @p code. */
int pdb_bad(struct kd_pdb *pdb, int code, const char *fmt, ...) KD_PRINTF(3, 4);

/*
 * True when @p l has run before: *@p rc is its result and, on failure, its
 * error line is recorded again.  False the first time (the caller builds,
 * then calls pdb_lazy_end).
 */
bool pdb_lazy_done(struct pdb_lazy *l, int *rc);

/* Keep @p rc (and the current error line) as @p l's result; returns rc. */
int pdb_lazy_end(struct pdb_lazy *l, int rc);

/* Stream @p idx materialised into *@p out. */
int pdb_stream(struct kd_pdb *pdb, uint32_t idx, struct pdb_buf *out);

/* Stream @p idx or an empty buffer for 0xFFFF / nil; errors as above. */
int pdb_stream_opt(struct kd_pdb *pdb, uint32_t idx, struct pdb_buf *out);

/* A NUL-terminated string at @p off in @p b; NULL when it runs off. */
const char *pdb_str(const struct pdb_buf *b, uint32_t off, uint32_t *len);

int pdb_dbi_load(struct kd_pdb *pdb);
int pdb_info_load(struct kd_pdb *pdb);
int pdb_sections_load(struct kd_pdb *pdb);
int pdb_rva(struct kd_pdb *pdb, uint16_t seg, uint32_t off, uint32_t *rva);
int pdb_mod_stream(struct kd_pdb *pdb, uint32_t mod, struct pdb_buf *out);
int pdb_names_load(struct kd_pdb *pdb);
int pdb_contribs_load(struct kd_pdb *pdb);
int pdb_index_build(struct kd_pdb *pdb);
void pdb_sym_free(struct kd_pdb *pdb);
void pdb_tpi_free(struct kd_pdb *pdb);
void pdb_fpo_free(struct kd_pdb *pdb);

/*
 * A CodeView numeric leaf at @p p (@p len bytes available): the value in
 * *@p val, its encoded size in *@p used.  False when cut short or unknown.
 */
bool pdb_numeric(const uint8_t *p, uint32_t len, int64_t *val, uint32_t *used);

/* LHashPbCb / hashStringV1 of @p len bytes. */
uint32_t pdb_hash_v1(const uint8_t *s, size_t len);

/* The index of the first entry > @p rva in the sorted address index. */
uint32_t pdb_addr_upper(const struct kd_pdb *pdb, uint32_t rva);

/* The indexed procedure whose code covers @p rva, or NULL. */
const struct pdb_addr *pdb_proc_at(const struct kd_pdb *pdb, uint32_t rva);

#endif /* KD_PDB_INT_H */
