/* http_client.c - libcurl-backed outbound HTTP. */
#include "common/http_client.h"

#include "common/err.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t http_once = PTHREAD_ONCE_INIT;
static CURLcode http_init_rc = CURLE_FAILED_INIT;

static void http_global_init(void)
{
    /* curl_global_init is not thread-safe on older libcurl: exactly once. */
    http_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Response body being received. */
struct http_buf {
    char *data;             /* owns; NULL until the first byte */
    size_t len;             /* bytes used, excluding the NUL */
    size_t cap;             /* bytes allocated */
    size_t max;             /* refuse more than this many body bytes */
    int too_large;          /* set when the cap aborted the transfer */
    int oom;
};

static size_t http_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct http_buf *b = userdata;
    size_t n = size * nmemb;

    if (n > b->max - b->len) {
        b->too_large = 1;
        return 0;       /* anything but n aborts with CURLE_WRITE_ERROR */
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        char *p;

        while (cap < b->len + n + 1)
            cap *= 2;
        if (cap > b->max + 1)       /* max is at most SIZE_MAX / 4 */
            cap = b->max + 1;
        p = realloc(b->data, cap);
        if (p == NULL) {
            b->oom = 1;
            return 0;
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

static int http_set_protocols(CURL *c)
{
#if LIBCURL_VERSION_NUM >= 0x075500    /* 7.85.0: the string form; the mask is deprecated */
    if (curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK)
        return -1;
    if (curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK)
        return -1;
#else
    if (curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) != CURLE_OK)
        return -1;
    if (curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) !=
        CURLE_OK)
        return -1;
#endif
    return 0;
}

int http_get(const char *url, long timeout_ms, size_t max_bytes, char **body, size_t *len,
             long *status, struct err *e)
{
    struct http_buf b = {.max = max_bytes};
    char errbuf[CURL_ERROR_SIZE] = "";
    CURL *c = NULL;
    CURLcode rc;
    int ret;

    *body = NULL;
    *len = 0;
    *status = 0;
    if (timeout_ms <= 0 || max_bytes > SIZE_MAX / 4)
        return err_set(e, ERR_INTERNAL, "http_get: bad timeout or size limit");
    pthread_once(&http_once, http_global_init);
    if (http_init_rc != CURLE_OK)
        return err_set(e, ERR_INTERNAL, "curl_global_init: %s", curl_easy_strerror(http_init_rc));
    c = curl_easy_init();
    if (c == NULL)
        return err_set(e, ERR_INTERNAL, "curl_easy_init failed");

    if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK || http_set_protocols(c) != 0 ||
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L) != CURLE_OK ||
        /* Signals are process-wide; without this libcurl uses SIGALRM for DNS timeouts. */
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_USERAGENT, HTTP_USER_AGENT) != CURLE_OK ||
        /* Refuses early on a Content-Length; 0 would mean "no limit" to libcurl. */
        (max_bytes > 0 &&
         curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_bytes) != CURLE_OK) ||
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_write_cb) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &b) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK) {
        ret = err_set(e, ERR_INTERNAL, "curl_easy_setopt failed");
        goto out;
    }

    rc = curl_easy_perform(c);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
        if (b.data == NULL) {
            b.data = malloc(1);
            if (b.data == NULL) {
                *status = 0;
                ret = err_set(e, ERR_INTERNAL, "out of memory");
                goto out;
            }
            b.data[0] = '\0';
        }
        *body = b.data;
        *len = b.len;
        b.data = NULL;
        ret = ERR_OK;
    } else if (b.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
        ret = err_set(e, ERR_PROTOCOL, "response body over %zu bytes", max_bytes);
    } else if (b.oom) {
        ret = err_set(e, ERR_INTERNAL, "out of memory");
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        ret = err_set(e, ERR_TIMEOUT, "no complete response within %ld ms", timeout_ms);
    } else if (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT ||
               rc == CURLE_WEIRD_SERVER_REPLY) {
        ret = err_set(e, ERR_PROTOCOL, "%s", curl_easy_strerror(rc));
    } else {
        /* errbuf may name the host, never the path or query. */
        ret = err_set(e, ERR_IO, "%s%s%s", curl_easy_strerror(rc), errbuf[0] ? ": " : "",
                      errbuf);
    }
out:
    free(b.data);
    curl_easy_cleanup(c);
    return ret;
}
