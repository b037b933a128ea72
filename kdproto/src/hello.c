/* SPDX-License-Identifier: MIT */
/*
 * Encode and decode the remote channel's handshake messages
 * (kd/proto/hello.h, docs/remote-channel.md).  Every message is the 8-byte
 * head (magic, version, type, two flag or status bytes), u8-length-prefixed
 * printable strings and fixed-size nonces and proofs; nothing may follow.
 * The encoding is canonical: what parses re-encodes to the same bytes.
 * Freestanding, like the rest of kdproto: no strnlen, only the mem*.
 */
#include <string.h>

#include <kd/proto/hello.h>

/* Length of @p s, at most @p max (strnlen, which freestanding lacks). */
static size_t bounded_len(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n] != '\0')
		n++;
	return n;
}

static bool printable(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	}
	return true;
}

/* Append a u8-length-prefixed string; false when out of bounds. */
static bool put_str(uint8_t *buf, size_t cap, size_t *pos, const char *s,
		    size_t max, bool allow_empty)
{
	size_t len = bounded_len(s, max + 1);

	if (len > max || (len == 0 && !allow_empty) || !printable(s, len))
		return false;
	if (*pos + 1 + len > cap)
		return false;
	buf[(*pos)++] = (uint8_t)len;
	memcpy(buf + *pos, s, len);
	*pos += len;
	return true;
}

static bool put_bytes(uint8_t *buf, size_t cap, size_t *pos, const void *p,
		      size_t len)
{
	if (*pos + len > cap)
		return false;
	memcpy(buf + *pos, p, len);
	*pos += len;
	return true;
}

static bool put_head(uint8_t *buf, size_t cap, size_t *pos, unsigned type,
		     unsigned b6, unsigned b7)
{
	if (cap < 8)
		return false;
	memcpy(buf, KD_RCHAN_MAGIC, 4);
	buf[4] = (uint8_t)KD_RCHAN_VERSION;
	buf[5] = (uint8_t)type;
	buf[6] = (uint8_t)b6;
	buf[7] = (uint8_t)b7;
	*pos = 8;
	return true;
}

size_t kd_rchan_enc_shello(uint8_t *buf, size_t cap,
			   const struct kd_rchan_shello *m)
{
	size_t pos;

	if (!put_head(buf, cap, &pos, KD_RCHAN_T_SHELLO,
		      m->flags & KD_RCHAN_SF_PASSWORD, 0) ||
	    !put_str(buf, cap, &pos, m->service, KD_RCHAN_SERVICE_MAX, false) ||
	    !put_bytes(buf, cap, &pos, m->nonce, KD_RCHAN_NONCE_LEN))
		return 0;
	return pos;
}

size_t kd_rchan_enc_chello(uint8_t *buf, size_t cap,
			   const struct kd_rchan_chello *m)
{
	unsigned int flags = m->flags & KD_RCHAN_CF_PROOF;
	size_t pos;

	if (!put_head(buf, cap, &pos, KD_RCHAN_T_CHELLO, flags, 0) ||
	    !put_str(buf, cap, &pos, m->service, KD_RCHAN_SERVICE_MAX, false) ||
	    !put_str(buf, cap, &pos, m->identity, KD_RCHAN_IDENTITY_MAX,
		     true) ||
	    !put_bytes(buf, cap, &pos, m->nonce, KD_RCHAN_NONCE_LEN))
		return 0;
	if (flags && !put_bytes(buf, cap, &pos, m->proof, KD_RCHAN_PROOF_LEN))
		return 0;
	return pos;
}

size_t kd_rchan_enc_verdict(uint8_t *buf, size_t cap,
			    const struct kd_rchan_verdict *m)
{
	unsigned int flags = m->flags & KD_RCHAN_VF_PROOF;
	size_t pos;

	if (m->status > KD_RCHAN_STATUS_MAX ||
	    (flags && m->status != KD_RCHAN_OK))
		return 0;
	if (!put_head(buf, cap, &pos, KD_RCHAN_T_VERDICT, m->status, flags) ||
	    !put_str(buf, cap, &pos, m->reason, KD_RCHAN_REASON_MAX, true))
		return 0;
	if (flags && !put_bytes(buf, cap, &pos, m->proof, KD_RCHAN_PROOF_LEN))
		return 0;
	return pos;
}

unsigned int kd_rchan_msg_type(const uint8_t *buf, size_t len)
{
	if (len < 8 || memcmp(buf, KD_RCHAN_MAGIC, 4) != 0)
		return 0;
	return buf[5];
}

/* Common prefix check: magic, version, type. */
static int get_head(const uint8_t *buf, size_t len, unsigned type,
		    unsigned int *version_out, const char **why)
{
	if (len < 4 || memcmp(buf, KD_RCHAN_MAGIC, 4) != 0) {
		*why = "not an openkd remote channel (bad magic)";
		return KD_EPROTO;
	}
	if (len < 8) {
		*why = "handshake message too short";
		return KD_EPROTO;
	}
	*version_out = buf[4];
	if (buf[4] != KD_RCHAN_VERSION) {
		*why = "unsupported remote channel version";
		return KD_ENOTSUP;
	}
	if (buf[5] != type) {
		*why = type == KD_RCHAN_T_SHELLO ? "not a server hello" :
		       type == KD_RCHAN_T_CHELLO ? "not a client hello" :
						   "not a verdict";
		return KD_EPROTO;
	}
	return KD_OK;
}

/* Take a u8-length-prefixed printable string into @p out. */
static bool get_str(const uint8_t *buf, size_t len, size_t *pos, char *out,
		    size_t max, bool allow_empty)
{
	size_t n;

	if (*pos >= len)
		return false;
	n = buf[*pos];
	if (n > max || (n == 0 && !allow_empty) || len - *pos - 1 < n)
		return false;
	memcpy(out, buf + *pos + 1, n);
	out[n] = '\0';
	if (!printable(out, n))
		return false;
	*pos += 1 + n;
	return true;
}

static bool get_bytes(const uint8_t *buf, size_t len, size_t *pos, void *out,
		      size_t n)
{
	if (len - *pos < n)
		return false;
	memcpy(out, buf + *pos, n);
	*pos += n;
	return true;
}

int kd_rchan_parse_shello(const uint8_t *buf, size_t len,
			  struct kd_rchan_shello *m, unsigned int *version_out,
			  const char **why)
{
	size_t pos = 8;
	int rc;

	memset(m, 0, sizeof(*m));
	rc = get_head(buf, len, KD_RCHAN_T_SHELLO, version_out, why);
	if (rc < 0)
		return rc;
	if (buf[6] & ~KD_RCHAN_SF_PASSWORD || buf[7] != 0) {
		*why = "unknown flags in server hello";
		return KD_EPROTO;
	}
	m->flags = buf[6];
	if (!get_str(buf, len, &pos, m->service, KD_RCHAN_SERVICE_MAX, false)) {
		*why = "bad service name in server hello";
		return KD_EPROTO;
	}
	if (!get_bytes(buf, len, &pos, m->nonce, KD_RCHAN_NONCE_LEN) ||
	    pos != len) {
		*why = "server hello has the wrong length";
		return KD_EPROTO;
	}
	return KD_OK;
}

int kd_rchan_parse_chello(const uint8_t *buf, size_t len,
			  struct kd_rchan_chello *m, unsigned int *version_out,
			  const char **why)
{
	size_t pos = 8;
	int rc;

	memset(m, 0, sizeof(*m));
	rc = get_head(buf, len, KD_RCHAN_T_CHELLO, version_out, why);
	if (rc < 0)
		return rc;
	if (buf[6] & ~KD_RCHAN_CF_PROOF || buf[7] != 0) {
		*why = "unknown flags in client hello";
		return KD_EPROTO;
	}
	m->flags = buf[6];
	if (!get_str(buf, len, &pos, m->service, KD_RCHAN_SERVICE_MAX, false)) {
		*why = "bad service name in client hello";
		return KD_EPROTO;
	}
	if (!get_str(buf, len, &pos, m->identity, KD_RCHAN_IDENTITY_MAX,
		     true)) {
		*why = "bad identity in client hello";
		return KD_EPROTO;
	}
	if (!get_bytes(buf, len, &pos, m->nonce, KD_RCHAN_NONCE_LEN) ||
	    ((m->flags & KD_RCHAN_CF_PROOF) &&
	     !get_bytes(buf, len, &pos, m->proof, KD_RCHAN_PROOF_LEN)) ||
	    pos != len) {
		*why = "client hello has the wrong length";
		return KD_EPROTO;
	}
	return KD_OK;
}

int kd_rchan_parse_verdict(const uint8_t *buf, size_t len,
			   struct kd_rchan_verdict *m,
			   unsigned int *version_out, const char **why)
{
	size_t pos = 8;
	int rc;

	memset(m, 0, sizeof(*m));
	rc = get_head(buf, len, KD_RCHAN_T_VERDICT, version_out, why);
	if (rc < 0)
		return rc;
	if (buf[6] > KD_RCHAN_STATUS_MAX) {
		*why = "unknown verdict status";
		return KD_EPROTO;
	}
	if (buf[7] & ~KD_RCHAN_VF_PROOF ||
	    (buf[7] != 0 && buf[6] != KD_RCHAN_OK)) {
		*why = "unknown flags in verdict";
		return KD_EPROTO;
	}
	m->status = buf[6];
	m->flags = buf[7];
	if (!get_str(buf, len, &pos, m->reason, KD_RCHAN_REASON_MAX, true)) {
		*why = "bad reason text in verdict";
		return KD_EPROTO;
	}
	if (((m->flags & KD_RCHAN_VF_PROOF) &&
	     !get_bytes(buf, len, &pos, m->proof, KD_RCHAN_PROOF_LEN)) ||
	    pos != len) {
		*why = "verdict has the wrong length";
		return KD_EPROTO;
	}
	return KD_OK;
}
