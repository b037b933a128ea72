/* SPDX-License-Identifier: MIT */
/*
 * Is this file what the key names?  A PDB must be an MSF 7.00 container
 * whose info-stream GUID and DBI age match the key (the DBI age is the one
 * the image's RSDS record carries: post-link tools bump only the info
 * age); an image must be MZ/PE with the key's TimeDateStamp and
 * SizeOfImage.  Nothing unverified is returned or cached.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kd/error.h>
#include <kd/io.h>
#include <kd/pdb.h>

#include "symstore_int.h"

static const char msf7_magic[] = "Microsoft C/C++ MSF 7.00\r\n\x1a"
				 "DS\0\0\0";
static const char msfz_magic[] = "Microsoft MSFZ Container";

static void guid_text(const uint8_t *g, char *buf, size_t cap)
{
	snprintf(buf, cap, "%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X",
		 (unsigned)kd_get_le32(g), kd_get_le16(g + 4),
		 kd_get_le16(g + 6), g[8], g[9], g[10], g[11], g[12], g[13],
		 g[14], g[15]);
}

/* What the first bytes look like, for a refused file's reason. */
static const char *looks_like(const uint8_t *b, size_t n)
{
	if (n >= 4 && memcmp(b, "MSCF", 4) == 0)
		return "a CAB file";
	if (n >= 2 && memcmp(b, "MZ", 2) == 0)
		return "a PE image";
	if (n >= 1 &&
	    (b[0] == '<' || b[0] == ' ' || b[0] == '\n' || b[0] == '\r'))
		return "text (an HTML page?)";
	if (n == 0)
		return "empty";
	return "unknown data";
}

static int verify_pdb(const char *path, const uint8_t *head, size_t n,
		      const struct kd_symstore_key *key, char *why,
		      size_t whycap)
{
	struct kd_pdb *pdb = NULL;
	struct kd_pdb_info info;
	char want[40], got[40];
	uint32_t age;
	int rc;

	if (n >= sizeof(msfz_magic) - 1 &&
	    memcmp(head, msfz_magic, sizeof(msfz_magic) - 1) == 0) {
		kd_symstore__why(why, whycap,
				 "%s: MSFZ (compressed PDB) not supported",
				 key->name);
		return KD_EPROTO;
	}
	if (n < sizeof(msf7_magic) - 1 ||
	    memcmp(head, msf7_magic, sizeof(msf7_magic) - 1) != 0) {
		kd_symstore__why(why, whycap, "%s: not a PDB (%s)", key->name,
				 looks_like(head, n));
		return KD_EPROTO;
	}
	rc = kd_pdb_open_file(&pdb, path);
	if (rc) {
		kd_symstore__why(why, whycap, "%s: damaged PDB: %s", key->name,
				 kd_error_message(rc));
		return KD_EPROTO;
	}
	kd_pdb_info(pdb, &info);
	kd_pdb_close(pdb);
	age = info.has_dbi ? info.dbi_age : info.age;
	if (memcmp(info.guid, key->guid, 16) != 0 || age != key->age) {
		guid_text(key->guid, want, sizeof(want));
		guid_text(info.guid, got, sizeof(got));
		kd_symstore__why(why, whycap,
				 "%s: mismatched PDB: has {%s} age %u, the "
				 "image wants {%s} age %u",
				 key->name, got, (unsigned)age, want,
				 (unsigned)key->age);
		return KD_EINVAL;
	}
	return KD_OK;
}

int kd_symstore__verify_image_buf(const uint8_t *buf, size_t len,
				  const struct kd_symstore_key *key, char *why,
				  size_t whycap)
{
	uint32_t lfanew, stamp, size;
	uint16_t magic;
	size_t opt;

	if (len < 0x40 || memcmp(buf, "MZ", 2) != 0) {
		kd_symstore__why(why, whycap, "%s: not a PE image (%s)",
				 key->name, looks_like(buf, len));
		return KD_EPROTO;
	}
	lfanew = kd_get_le32(buf + 0x3c);
	/* Signature, file header, optional header magic to SizeOfImage. */
	if (lfanew > len || len - lfanew < 4 + 20 + 60 ||
	    memcmp(buf + lfanew, "PE\0\0", 4) != 0) {
		kd_symstore__why(why, whycap,
				 "%s: not a PE image (no PE "
				 "header at 0x%x)",
				 key->name, (unsigned)lfanew);
		return KD_EPROTO;
	}
	stamp = kd_get_le32(buf + lfanew + 4 + 4);
	opt = (size_t)lfanew + 4 + 20;
	magic = kd_get_le16(buf + opt);
	if (magic != 0x10b && magic != 0x20b) {
		kd_symstore__why(why, whycap,
				 "%s: not a PE image (optional header magic "
				 "0x%x)",
				 key->name, magic);
		return KD_EPROTO;
	}
	size = kd_get_le32(buf + opt + 56);
	if (stamp != key->timestamp || size != key->size_of_image) {
		kd_symstore__why(why, whycap,
				 "%s: mismatched image: has %08X %x, wants "
				 "%08X %x",
				 key->name, (unsigned)stamp, (unsigned)size,
				 (unsigned)key->timestamp,
				 (unsigned)key->size_of_image);
		return KD_EINVAL;
	}
	return KD_OK;
}

int kd_symstore__verify(const char *path, const struct kd_symstore_key *key,
			char *why, size_t whycap)
{
	uint8_t head[4096];
	struct stat st;
	ssize_t n;
	int fd, rc;

	/* O_NONBLOCK: a FIFO planted in a store must not hang the lookup. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		kd_symstore__why(why, whycap, "%s: %s", path, strerror(errno));
		return errno == ENOENT || errno == ENOTDIR ? KD_ENOTFOUND :
							     KD_EPROTO;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		/* dir/name.pdb is a folder in a store layout: not a hit. */
		close(fd);
		kd_symstore__why(why, whycap, "%s: a folder", path);
		return KD_ENOTFOUND;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		kd_symstore__why(why, whycap, "%s: not a regular file", path);
		return KD_EPROTO;
	}
	if ((uint64_t)st.st_size > KD_SYMSTORE_FILE_MAX) {
		close(fd);
		kd_symstore__why(why, whycap, "%s: larger than 1 GiB", path);
		return KD_EPROTO;
	}
	n = kd_read_full(fd, head, sizeof(head));
	close(fd);
	if (n < 0) {
		kd_symstore__why(why, whycap, "%s: read failed", path);
		return KD_EPROTO;
	}
	if (key->image)
		rc = kd_symstore__verify_image_buf(head, (size_t)n, key, why,
						   whycap);
	else
		rc = verify_pdb(path, head, (size_t)n, key, why, whycap);
	return rc;
}
