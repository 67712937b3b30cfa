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

/* ---- asynchronous client: curl multi driven by the loop ---- */

#include "common/loop.h"

#include <stdio.h>
#include <strings.h>

#define HTTP_ASYNC_MAXCONNECTS 1024L

struct http_async {
    struct loop *loop;
    CURLM *multi;
    struct loop_timer *timer;
    int inflight;
    struct http_xfer *xfers;        /* every transfer in flight, for free() */
};

/* One socket curl asked us to watch. */
struct http_sock {
    struct http_async *h;
    curl_socket_t fd;
    struct loop_io *io;
};

struct http_xfer {
    struct http_async *h;
    struct http_xfer *prev, *next;
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    struct http_buf buf;
    struct http_resp resp;
    http_async_cb *cb;
    void *arg;
    char errbuf[CURL_ERROR_SIZE];
};

static void xfer_unlink(struct http_xfer *x)
{
    if (x->prev != NULL)
        x->prev->next = x->next;
    else
        x->h->xfers = x->next;
    if (x->next != NULL)
        x->next->prev = x->prev;
}

static void xfer_free(struct http_xfer *x)
{
    curl_multi_remove_handle(x->h->multi, x->easy);
    curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->headers);
    free(x->body);
    free(x->buf.data);
    free(x);
}

static void copy_header_value(const char *line, size_t n, size_t name_len, char *out,
                              size_t cap)
{
    const char *v = line + name_len;
    size_t vn = n - name_len;

    while (vn > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        vn--;
    }
    while (vn > 0 && (v[vn - 1] == '\r' || v[vn - 1] == '\n' || v[vn - 1] == ' '))
        vn--;
    if (vn >= cap)
        vn = cap - 1;
    memcpy(out, v, vn);
    out[vn] = '\0';
}

static size_t xfer_header_cb(char *line, size_t size, size_t nitems, void *userdata)
{
    struct http_xfer *x = userdata;
    size_t n = size * nitems;
    static const char ra[] = "retry-after:";
    static const char rr[] = "anthropic-ratelimit-requests-reset:";

    if (n > sizeof ra - 1 && strncasecmp(line, ra, sizeof ra - 1) == 0)
        copy_header_value(line, n, sizeof ra - 1, x->resp.retry_after, sizeof x->resp.retry_after);
    else if (n > sizeof rr - 1 && strncasecmp(line, rr, sizeof rr - 1) == 0)
        copy_header_value(line, n, sizeof rr - 1, x->resp.reset, sizeof x->resp.reset);
    return n;
}

static void check_done(struct http_async *h)
{
    CURLMsg *m;
    int left;

    while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
        struct http_xfer *x = NULL;
        double secs = 0;

        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        if (x == NULL)
            continue;
        curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME, &secs);
        x->resp.seconds = secs;
        if (m->data.result == CURLE_OK) {
            x->resp.transport_ok = 1;
            curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->resp.status);
        } else {
            x->resp.timed_out = m->data.result == CURLE_OPERATION_TIMEDOUT;
            snprintf(x->resp.error, sizeof x->resp.error, "%.127s",
                     x->buf.too_large ? "response too large"
                     : x->errbuf[0] ? x->errbuf : curl_easy_strerror(m->data.result));
        }
        x->resp.body = x->buf.data ? x->buf.data : "";
        x->resp.len = x->buf.len;
        xfer_unlink(x);
        h->inflight--;
        x->cb(x->arg, &x->resp);
        xfer_free(x);
    }
}

static void on_sock_io(void *arg, int readable, int writable)
{
    struct http_sock *s = arg;
    struct http_async *h = s->h;
    int running = 0;
    int flags = (readable ? CURL_CSELECT_IN : 0) | (writable ? CURL_CSELECT_OUT : 0);

    curl_multi_socket_action(h->multi, s->fd, flags, &running);
    check_done(h);
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct http_async *h = userp;
    struct http_sock *s = socketp;

    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (s != NULL) {
            loop_io_free(s->io);
            free(s);
            curl_multi_assign(h->multi, fd, NULL);
        }
        return 0;
    }
    if (s == NULL) {
        s = calloc(1, sizeof *s);
        if (s == NULL)
            return -1;
        s->h = h;
        s->fd = fd;
        s->io = loop_io_new(h->loop, fd, on_sock_io, s);
        if (s->io == NULL) {
            free(s);
            return -1;
        }
        curl_multi_assign(h->multi, fd, s);
    }
    loop_io_want(s->io, (what & CURL_POLL_IN) != 0, (what & CURL_POLL_OUT) != 0);
    return 0;
}

static void on_timeout(void *arg)
{
    struct http_async *h = arg;
    int running = 0;

    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(h);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    struct http_async *h = userp;

    (void)multi;
    if (timeout_ms < 0)
        loop_timer_stop(h->timer);
    else
        loop_timer_start(h->timer, (uint64_t)timeout_ms, 0);
    return 0;
}

struct http_async *http_async_new(struct loop *loop, struct err *e)
{
    struct http_async *h;

    pthread_once(&http_once, http_global_init);
    if (http_init_rc != CURLE_OK) {
        err_set(e, ERR_INTERNAL, "libcurl could not be initialised");
        return NULL;
    }
    h = calloc(1, sizeof *h);
    if (h == NULL || (h->multi = curl_multi_init()) == NULL) {
        free(h);
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    h->loop = loop;
    h->timer = loop_timer_new(loop, on_timeout, h);
    if (h->timer == NULL) {
        curl_multi_cleanup(h->multi);
        free(h);
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    /* Keep a connection per call in flight; multiplex where HTTP/2 allows. */
    curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, HTTP_ASYNC_MAXCONNECTS);
    curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    return h;
}

void http_async_free(struct http_async *h)
{
    if (h == NULL)
        return;
    while (h->xfers != NULL) {
        struct http_xfer *x = h->xfers;
        xfer_unlink(x);
        xfer_free(x);
    }
    /* Closing the multi handle closes its sockets (CURL_POLL_REMOVE first). */
    curl_multi_cleanup(h->multi);
    loop_timer_free(h->timer);
    free(h);
}

int http_async_inflight(const struct http_async *h)
{
    return h->inflight;
}

int http_async_post(struct http_async *h, const struct http_req *rq, http_async_cb *cb,
                    void *arg, struct err *e)
{
    struct http_xfer *x = calloc(1, sizeof *x);

    if (x == NULL)
        return err_set(e, ERR_INTERNAL, "out of memory");
    x->h = h;
    x->cb = cb;
    x->arg = arg;
    x->buf.max = rq->max_response;
    x->easy = curl_easy_init();
    x->body = malloc(rq->body_len + 1);
    if (x->easy == NULL || x->body == NULL) {
        curl_easy_cleanup(x->easy);
        free(x->body);
        free(x);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    memcpy(x->body, rq->body, rq->body_len);
    x->body[rq->body_len] = '\0';
    for (const char *const *hd = rq->headers; hd != NULL && *hd != NULL; hd++) {
        struct curl_slist *n = curl_slist_append(x->headers, *hd);
        if (n == NULL) {
            x->headers = NULL;
            break;
        }
        x->headers = n;
    }
    curl_easy_setopt(x->easy, CURLOPT_URL, rq->url);
    http_set_protocols(x->easy);
    curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(x->easy, CURLOPT_POST, 1L);
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->body);
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
    curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
    curl_easy_setopt(x->easy, CURLOPT_USERAGENT, HTTP_USER_AGENT);
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, rq->timeout_ms);
    curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS, rq->connect_timeout_ms);
    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, http_write_cb);
    curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, &x->buf);
    curl_easy_setopt(x->easy, CURLOPT_HEADERFUNCTION, xfer_header_cb);
    curl_easy_setopt(x->easy, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
    curl_easy_setopt(x->easy, CURLOPT_TCP_KEEPALIVE, 1L);
    /* HTTP/2 where TLS offers it. No PIPEWAIT: over HTTP/1.1 it would hold
     * every call of a burst until the first connection answered. */
    curl_easy_setopt(x->easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    if (curl_multi_add_handle(h->multi, x->easy) != CURLM_OK) {
        curl_easy_cleanup(x->easy);
        curl_slist_free_all(x->headers);
        free(x->body);
        free(x);
        return err_set(e, ERR_INTERNAL, "cannot start the transfer");
    }
    x->next = h->xfers;
    if (h->xfers != NULL)
        h->xfers->prev = x;
    h->xfers = x;
    h->inflight++;
    return ERR_OK;
}
