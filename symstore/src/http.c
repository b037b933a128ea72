/* SPDX-License-Identifier: MIT */
/*
 * One HTTP(S) GET with libcurl into a file descriptor: redirects followed
 * (bounded, http/https only, msdl sends every file to blob storage),
 * proxies from the environment (libcurl's http_proxy/https_proxy, or
 * _NT_SYMBOL_PROXY as WinDbg reads it), a connect timeout and a stall
 * timeout rather than a total one (a 30 MB PDB on a slow link is fine as
 * long as it moves), retries on network errors and 5xx, a size cap,
 * progress lines for large files and Ctrl+C through opts->cancel.
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <kd/io.h>

#include "symstore_int.h"

#define DEFAULT_TIMEOUT_MS 60000L
#define DEFAULT_AGENT "Microsoft-Symbol-Server/10.0.0.0"
#define MAX_REDIRECTS 8L
#define PROGRESS_MIN (1024 * 1024) /* files smaller than this stay quiet */

struct xfer {
	int fd;
	uint64_t max, got;
	bool too_big, write_failed;
	const struct kd_symstore_opts *opts;
	const char *url;
	int last_tenth; /* progress already logged, in tenths */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
	struct xfer *x = ctx;
	size_t len = size * n;

	if (len > x->max - x->got) {
		x->too_big = true;
		return 0; /* aborts with CURLE_WRITE_ERROR */
	}
	if (kd_write_all(x->fd, p, len) != 0) {
		x->write_failed = true;
		return 0;
	}
	x->got += len;
	return len;
}

static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	struct xfer *x = ctx;
	int tenth;

	(void)ultotal;
	(void)ulnow;
	if (x->opts && x->opts->cancel && *x->opts->cancel)
		return 1; /* CURLE_ABORTED_BY_CALLBACK */
	if (dltotal >= PROGRESS_MIN && dlnow > 0) {
		tenth = (int)(dlnow * 10 / dltotal);
		if (tenth > x->last_tenth) {
			x->last_tenth = tenth;
			kd_symstore__log(
				x->opts, "SYMSRV:  %s: %d%% of %lld bytes",
				x->url, tenth * 10, (long long)dltotal);
		}
	}
	return 0;
}

static bool retryable(CURLcode c, long status)
{
	if (c == CURLE_OK)
		return status >= 500 && status <= 599;
	switch (c) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
	case CURLE_COULDNT_RESOLVE_HOST:
		return true;
	default:
		return false;
	}
}

static bool cancelled(const struct kd_symstore_opts *opts)
{
	return opts && opts->cancel && *opts->cancel;
}

/* One attempt; *@p status gets the HTTP status (0 when none). */
static CURLcode get_once(const char *url, struct xfer *x, long *status)
{
	const struct kd_symstore_opts *o = x->opts;
	long tmo = o && o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	long stall = tmo < 1000 ? 1 : tmo / 1000;
	const char *proxy = getenv("_NT_SYMBOL_PROXY");
	CURLcode c;
	CURL *h;

	*status = 0;
	h = curl_easy_init();
	if (!h)
		return CURLE_OUT_OF_MEMORY;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, MAX_REDIRECTS);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, tmo);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, stall);
	curl_easy_setopt(h, CURLOPT_USERAGENT,
			 o && o->user_agent ? o->user_agent : DEFAULT_AGENT);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	if (proxy && *proxy)
		curl_easy_setopt(h, CURLOPT_PROXY, proxy);
	c = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(h);
	return c;
}

int kd_symstore__http_get(const char *url, int fd, uint64_t max,
			  const struct kd_symstore_opts *opts, char *why,
			  size_t whycap)
{
	int tries = opts && opts->retries > 0 ? opts->retries : 0;
	struct xfer x;
	long status;
	CURLcode c;
	int i;

	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK) {
		kd_symstore__why(why, whycap, "libcurl: %s",
				 curl_easy_strerror(curl_init_rc));
		return KD_EDISCONNECTED;
	}
	for (i = 0;; i++) {
		memset(&x, 0, sizeof(x));
		x.fd = fd;
		x.max = max;
		x.opts = opts;
		x.url = url;
		if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0) {
			kd_symstore__why(why, whycap,
					 "cannot reset the "
					 "temporary file");
			return KD_EPROTO;
		}
		kd_symstore__log(opts, "SYMSRV:  HTTPGET: %s", url);
		c = get_once(url, &x, &status);
		if (c == CURLE_OK && status == 200) {
			kd_symstore__log(opts,
					 "SYMSRV:  RESULT: 200, %llu "
					 "bytes",
					 (unsigned long long)x.got);
			return KD_OK;
		}
		if (c == CURLE_ABORTED_BY_CALLBACK || cancelled(opts)) {
			kd_symstore__why(why, whycap, "%s: cancelled", url);
			return KD_EAGAIN;
		}
		if (x.too_big || c == CURLE_FILESIZE_EXCEEDED) {
			kd_symstore__why(why, whycap,
					 "%s: larger than %llu bytes", url,
					 (unsigned long long)max);
			return KD_EPROTO;
		}
		if (c == CURLE_OK && (status == 404 || status == 410)) {
			kd_symstore__log(opts, "SYMSRV:  RESULT: %ld", status);
			return KD_ENOTFOUND;
		}
		if (!retryable(c, status) || i >= tries)
			break;
		kd_symstore__log(opts, "SYMSRV:  %s: %s, retrying", url,
				 c == CURLE_OK ? "server error" :
						 curl_easy_strerror(c));
		{
			struct timespec ts = { 0, 200000000L * (i + 1) };

			nanosleep(&ts, NULL);
		}
	}
	if (x.write_failed) {
		kd_symstore__why(why, whycap, "%s: cannot write the cache file",
				 url);
		return KD_EPROTO;
	}
	if (c == CURLE_OK) {
		kd_symstore__why(why, whycap, "%s: HTTP status %ld", url,
				 status);
		return KD_EDISCONNECTED;
	}
	kd_symstore__why(why, whycap, "%s: %s", url, curl_easy_strerror(c));
	kd_symstore__log(opts, "SYMSRV:  RESULT: %s", curl_easy_strerror(c));
	return c == CURLE_OPERATION_TIMEDOUT ? KD_ETIMEOUT : KD_EDISCONNECTED;
}
