/* SPDX-License-Identifier: MIT */
/*
 * Benchmark: KDNET decrypt+verify throughput of kd_net_decode() against a
 * bare OpenSSL AES-256-CBC decrypt + HMAC-SHA256 over the same datagrams
 * with prepared contexts (the ceiling).  Prints MB/s of both and the ratio.
 * As the peer it calls OpenSSL directly, which only benchmarks may do.
 */
/* clock_gettime() and CLOCK_MONOTONIC are POSIX. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <kd/net_crypto.h>
#include <kd/proto/kdnet.h>

#define NDGRAM 64

struct set {
	size_t payload;
	uint8_t *dg[NDGRAM];
	size_t len;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* --- The peer: bare OpenSSL with prepared contexts --- */

struct peer {
	EVP_CIPHER *aes;
	EVP_CIPHER_CTX *dec;
	EVP_MAC *mac;
	EVP_MAC_CTX *mctx;
};

static void peer_init(struct peer *p, const uint8_t *aes_key,
		      const uint8_t *mac_key)
{
	OSSL_PARAM params[2];

	p->aes = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
	p->dec = EVP_CIPHER_CTX_new();
	p->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	p->mctx = p->mac ? EVP_MAC_CTX_new(p->mac) : NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!p->aes || !p->dec || !p->mctx ||
	    !EVP_DecryptInit_ex2(p->dec, p->aes, aes_key, NULL, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(p->dec, 0) ||
	    !EVP_MAC_init(p->mctx, mac_key, 32, params)) {
		fprintf(stderr, "OpenSSL set-up failed\n");
		exit(1);
	}
}

static void peer_free(struct peer *p)
{
	EVP_MAC_CTX_free(p->mctx);
	EVP_MAC_free(p->mac);
	EVP_CIPHER_CTX_free(p->dec);
	EVP_CIPHER_free(p->aes);
}

static int peer_open(struct peer *p, const uint8_t *dg, size_t len,
		     uint8_t *plain)
{
	size_t body = len - 22, ml = 0;
	const uint8_t *tag = dg + 6 + body;
	uint8_t mac[32];
	int outl = 0, fl = 0;

	if (!EVP_DecryptInit_ex2(p->dec, NULL, NULL, tag, NULL) ||
	    !EVP_DecryptUpdate(p->dec, plain, &outl, dg + 6, (int)body) ||
	    !EVP_DecryptFinal_ex(p->dec, plain + outl, &fl) ||
	    !EVP_MAC_init(p->mctx, NULL, 0, NULL) ||
	    !EVP_MAC_update(p->mctx, dg, 6) ||
	    !EVP_MAC_update(p->mctx, plain, body) ||
	    !EVP_MAC_final(p->mctx, mac, &ml, sizeof(mac)))
		return -1;
	return memcmp(mac, tag, 16) == 0 ? 0 : -1;
}

/* --- Runs --- */

static double run_ours(const struct kd_net_codec *c, const struct set *s,
		       uint8_t *plain, long iters)
{
	struct kd_net_frame f;
	double t0 = now();

	for (long i = 0; i < iters; i++) {
		if (kd_net_decode(c, s->dg[i % NDGRAM], s->len, plain,
				  KD_NET_MAX_BODY, &f) != 0 ||
		    f.payload_len != s->payload) {
			fprintf(stderr, "decode failed: %s\n", f.why);
			exit(1);
		}
	}
	return now() - t0;
}

static double run_peer(struct peer *p, const struct set *s, uint8_t *plain,
		       long iters)
{
	double t0 = now();

	for (long i = 0; i < iters; i++) {
		if (peer_open(p, s->dg[i % NDGRAM], s->len, plain) != 0) {
			fprintf(stderr, "peer decode failed\n");
			exit(1);
		}
	}
	return now() - t0;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 1024, 1400, 4096 };
	static const uint8_t data_key[32] = { 0xd4, 0x7a, 0x01 };
	bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
	double target_s = quick ? 0.1 : 2.0;
	int rounds = quick ? 3 : 5;
	struct kd_net_crypto crypto;
	struct kd_net_codec codec;
	struct peer peer;
	uint8_t ck[32], hk[32], *plain, *payload;
	double tot_ours = 0, tot_peer = 0;

	if (kd_net_key_parse("1.2.3.4", 7, ck, NULL) != 0 ||
	    kd_net_crypto_new(&crypto) != 0 ||
	    kd_net_codec_init(&codec, &crypto, ck) != 0 ||
	    kd_net_codec_set_data_key(&codec, data_key) != 0)
		return 1;
	kd_net_hmac_key(ck, hk);
	peer_init(&peer, data_key, hk);
	plain = malloc(KD_NET_MAX_BODY);
	payload = malloc(4096);
	if (!plain || !payload)
		return 1;
	srand(7);
	printf("kdnet decrypt+verify, %s run (MB/s of datagram bytes)\n",
	       quick ? "quick" : "full");
	for (size_t k = 0; k < KD_ARRAY_SIZE(sizes); k++) {
		struct set s = { .payload = sizes[k] };
		double best_o = 1e9, best_p = 1e9, mb;
		long iters;

		s.len = kd_net_encoded_size(s.payload);
		for (int i = 0; i < NDGRAM; i++) {
			struct kd_net_frame f = { 0 };
			size_t len;

			for (size_t j = 0; j < s.payload; j++)
				payload[j] = (uint8_t)rand();
			s.dg[i] = malloc(s.len);
			f.version = 4;
			f.channel = KD_NET_CHANNEL_DATA;
			f.seq = (uint64_t)i + 1;
			f.payload = payload;
			f.payload_len = s.payload;
			if (!s.dg[i] || kd_net_encode(&codec, &f, s.dg[i],
						      s.len, &len) != 0)
				return 1;
		}
		/* Calibrate to about target_s per measurement. */
		iters = 256;
		while (run_peer(&peer, &s, plain, iters) < target_s / 4)
			iters *= 2;
		iters *= 4;
		/* Interleave, keep the best of each (least disturbed). */
		for (int r = 0; r < rounds; r++) {
			double to = run_ours(&codec, &s, plain, iters);
			double tp = run_peer(&peer, &s, plain, iters);

			best_o = to < best_o ? to : best_o;
			best_p = tp < best_p ? tp : best_p;
		}
		mb = (double)s.len * (double)iters / 1e6;
		printf("payload %4zu B (datagram %4zu B): ours %8.1f MB/s, "
		       "openssl %8.1f MB/s, ratio %.3f\n",
		       s.payload, s.len, mb / best_o, mb / best_p,
		       best_p / best_o);
		tot_ours += best_o / mb;
		tot_peer += best_p / mb;
		for (int i = 0; i < NDGRAM; i++)
			free(s.dg[i]);
	}
	/* Overall: mean time per MB across the three sizes. */
	printf("overall ratio (ours/openssl throughput): %.3f (goal >= 0.8)\n",
	       tot_peer / tot_ours);
	peer_free(&peer);
	kd_net_crypto_free(&crypto);
	free(plain);
	free(payload);
	return 0;
}
