/* http_client.c - libcurl-backed outbound HTTP. */
#include "common/http_client.h"

#include "common/err.h"

#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

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

/* Appends v[0..n) to h->value, after ", " when it holds a value already;
 * the length is checked first, so a value that does not fit is dropped whole
 * rather than cut into one that means something else ("max-age=6" of 600). */
static void header_append(struct http_header *h, const char *v, size_t n)
{
    size_t used = strlen(h->value);
    size_t sep = h->found ? 2 : 0;

    h->found = 1;
    if (h->too_long)
        return;
    if (used + sep + n > HTTP_HEADER_MAX - 1) {     /* n is at most a header line */
        h->too_long = 1;
        h->value[0] = '\0';
        return;
    }
    if (sep)
        memcpy(h->value + used, ", ", 2);
    memcpy(h->value + used + sep, v, n);
    h->value[used + sep + n] = '\0';
}

/* Before a response: nothing found yet. */
static void header_reset(struct http_header *h)
{
    h->value[0] = '\0';
    h->found = 0;
    h->too_long = 0;
}

/* CURLOPT_HEADERFUNCTION: one header line (not NUL-terminated, CRLF
 * included), status lines too. */
static size_t http_header_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct http_header *h = userdata;
    size_t n = size * nmemb, name_len = strlen(h->name), i;

    /* A new status line starts a response (after a 1xx): forget the last one's. */
    if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
        header_reset(h);
        return n;
    }
    if (n <= name_len || ptr[name_len] != ':' || strncasecmp(ptr, h->name, name_len) != 0)
        return n;
    i = name_len + 1;
    while (i < n && (ptr[i] == ' ' || ptr[i] == '\t'))
        i++;
    while (n > i && (ptr[n - 1] == '\r' || ptr[n - 1] == '\n' || ptr[n - 1] == ' ' ||
                     ptr[n - 1] == '\t'))
        n--;
    header_append(h, ptr + i, n - i);
    return size * nmemb;
}

static int http_set_protocols(CURL *c)
{
#if LIBCURL_VERSION_NUM >= 0x075500    /* 7.85.0: the string form; the mask is deprecated */
    if (curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK)
        return -1;
    if (curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK)
        return -1;
#else
    if (curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) !=
        CURLE_OK)
        return -1;
    if (curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) !=
        CURLE_OK)
        return -1;
#endif
    return 0;
}

int http_get(const char *url, long timeout_ms, size_t max_bytes, char **body, size_t *len,
             long *status, struct http_header *hdr, struct err *e)
{
    struct http_buf b = {.max = max_bytes};
    char errbuf[CURL_ERROR_SIZE] = "";
    CURL *c = NULL;
    CURLcode rc;
    int ret;

    *body = NULL;
    *len = 0;
    *status = 0;
    if (hdr != NULL)
        header_reset(hdr);
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
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK ||
        (hdr != NULL && hdr->name != NULL &&
         (curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, http_header_cb) != CURLE_OK ||
          curl_easy_setopt(c, CURLOPT_HEADERDATA, hdr) != CURLE_OK))) {
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

/* ---- URL parsing ---- */

/* Copies part of u into out (cap bytes); returns 1 when present, 0 when
 * absent, -1 when it does not fit or memory ran out. */
static int url_part(CURLU *u, CURLUPart what, unsigned flags, char *out, size_t cap)
{
    char *v = NULL;
    CURLUcode rc = curl_url_get(u, what, &v, flags);
    size_t n;

    if (rc != CURLUE_OK)
        return rc == CURLUE_OUT_OF_MEMORY ? -1 : 0;
    n = strlen(v);
    if (n >= cap) {
        curl_free(v);
        return -1;
    }
    memcpy(out, v, n + 1);
    curl_free(v);
    return 1;
}

int http_url_parse(const char *url, struct http_url *out, struct err *e)
{
    char host[HTTP_URL_HOST_MAX + 2];   /* room for IPv6 brackets */
    char port[16], scratch[8];
    size_t n;
    CURLU *u;
    int ret = ERR_OK;

    memset(out, 0, sizeof *out);
    out->port = -1;
    pthread_once(&http_once, http_global_init);
    u = curl_url();
    if (u == NULL)
        return err_set(e, ERR_INTERNAL, "out of memory");
    /* Any scheme parses, so the caller can say "http or https only". */
    if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
        ret = err_set(e, ERR_INVALID_FIELD_VALUE, "not an absolute URL libcurl can parse");
        goto out;
    }
    if (url_part(u, CURLUPART_SCHEME, 0, out->scheme, sizeof out->scheme) != 1) {
        ret = err_set(e, ERR_INVALID_FIELD_VALUE, "the URL scheme is missing or too long");
        goto out;
    }
    for (char *p = out->scheme; *p != '\0'; p++)
        *p = (char)tolower((unsigned char)*p);
    if (url_part(u, CURLUPART_HOST, 0, host, sizeof host) != 1 || host[0] == '\0') {
        ret = err_set(e, ERR_INVALID_FIELD_VALUE, "the URL host is missing or over %d bytes",
                      HTTP_URL_HOST_MAX - 1);
        goto out;
    }
    n = strlen(host);
    if (host[0] == '[' && n >= 2 && host[n - 1] == ']') {
        memcpy(out->host, host + 1, n - 2);
        out->host[n - 2] = '\0';
    } else if (n < sizeof out->host) {
        memcpy(out->host, host, n + 1);
    } else {
        ret = err_set(e, ERR_INVALID_FIELD_VALUE, "the URL host is over %d bytes",
                      HTTP_URL_HOST_MAX - 1);
        goto out;
    }
    if (url_part(u, CURLUPART_PORT, CURLU_DEFAULT_PORT, port, sizeof port) == 1)
        out->port = strtol(port, NULL, 10);
    /* A part that is present but does not fit scratch still counts (-1). */
    out->has_userinfo = url_part(u, CURLUPART_USER, 0, scratch, sizeof scratch) != 0 ||
                        url_part(u, CURLUPART_PASSWORD, 0, scratch, sizeof scratch) != 0 ||
                        url_part(u, CURLUPART_OPTIONS, 0, scratch, sizeof scratch) != 0;
    out->has_query = url_part(u, CURLUPART_QUERY, 0, scratch, sizeof scratch) != 0;
    out->has_fragment = url_part(u, CURLUPART_FRAGMENT, 0, scratch, sizeof scratch) != 0;
    out->has_zone = url_part(u, CURLUPART_ZONEID, 0, scratch, sizeof scratch) != 0;
out:
    curl_url_cleanup(u);
    return ret;
}

/* ---- asynchronous client: curl multi driven by the loop ---- */

#include "common/loop.h"

#include <stdio.h>

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
    http_addr_check_cb *addr_check;     /* NULL: any address */
    void *addr_check_arg;
    int refusals;                       /* addresses addr_check refused */
    char location[HTTP_LOCATION_MAX];   /* raw Location header, "" when none */
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

/* Copies the value of a header line into out (cap bytes), blanks trimmed.
 * Returns 0, or -1 when it did not fit and was cut. */
static int copy_header_value(const char *line, size_t n, size_t name_len, char *out,
                             size_t cap)
{
    const char *v = line + name_len;
    size_t vn = n - name_len;
    int cut = 0;

    while (vn > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        vn--;
    }
    while (vn > 0 && (v[vn - 1] == '\r' || v[vn - 1] == '\n' || v[vn - 1] == ' '))
        vn--;
    if (vn >= cap) {
        vn = cap - 1;
        cut = -1;
    }
    memcpy(out, v, vn);
    out[vn] = '\0';
    return cut;
}

/* The response header fields a transfer keeps: where each goes, and whether
 * a value too long for it is dropped (1) rather than cut. Each belongs to
 * one response: a new status line (the final response after a 1xx) empties
 * them all (xfer_new_response). */
static const struct {
    const char *name;               /* lower case, with the colon */
    size_t offset;                  /* of the char array in struct http_xfer */
    size_t cap;                     /* its bytes */
    int whole;
} xfer_fields[] = {
    {"retry-after:", offsetof(struct http_xfer, resp.retry_after),
     sizeof ((struct http_xfer *)0)->resp.retry_after, 0},
    {"anthropic-ratelimit-requests-reset:", offsetof(struct http_xfer, resp.reset),
     sizeof ((struct http_xfer *)0)->resp.reset, 0},
    {"location:", offsetof(struct http_xfer, location),
     sizeof ((struct http_xfer *)0)->location, 0},
    {"etag:", offsetof(struct http_xfer, resp.etag), sizeof ((struct http_xfer *)0)->resp.etag, 1},
    {"content-type:", offsetof(struct http_xfer, resp.content_type),
     sizeof ((struct http_xfer *)0)->resp.content_type, 0},
};

/* A status line starts a response: nothing of the last one's is kept. */
static void xfer_new_response(struct http_xfer *x)
{
    for (size_t i = 0; i < sizeof xfer_fields / sizeof xfer_fields[0]; i++)
        ((char *)x + xfer_fields[i].offset)[0] = '\0';
}

static size_t xfer_header_cb(char *line, size_t size, size_t nitems, void *userdata)
{
    struct http_xfer *x = userdata;
    size_t n = size * nitems;

    if (n > 5 && strncmp(line, "HTTP/", 5) == 0) {
        xfer_new_response(x);
        return n;
    }
    for (size_t i = 0; i < sizeof xfer_fields / sizeof xfer_fields[0]; i++) {
        size_t k = strlen(xfer_fields[i].name);
        char *out = (char *)x + xfer_fields[i].offset;

        if (n > k && strncasecmp(line, xfer_fields[i].name, k) == 0) {
            if (copy_header_value(line, n, k, out, xfer_fields[i].cap) != 0 &&
                xfer_fields[i].whole)
                out[0] = '\0';
            break;
        }
    }
    return n;
}

static void check_done(struct http_async *h)
{
    CURLMsg *m;
    int left;

    while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
        struct http_xfer *x = NULL;
        double secs = 0;
        long sent = 0;

        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        if (x == NULL)
            continue;
        curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME, &secs);
        x->resp.seconds = secs;
        /* Bytes of request written: none until a connection was made. */
        if (curl_easy_getinfo(x->easy, CURLINFO_REQUEST_SIZE, &sent) == CURLE_OK)
            x->resp.sent = sent > 0;
        if (m->data.result == CURLE_OK) {
            char *redirect = NULL;

            x->resp.transport_ok = 1;
            curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->resp.status);
            /* Set for a 3xx only; owned by the easy handle, freed after cb. */
            curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_URL, &redirect);
            x->resp.location = redirect ? redirect : x->location[0] ? x->location : NULL;
        } else {
            x->resp.addr_refused = x->refusals > 0;
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

int http_async_cancel(struct http_async *h, const void *arg)
{
    struct http_xfer *x, *next;
    int n = 0;

    for (x = h->xfers; x != NULL; x = next) {
        next = x->next;
        if (x->arg != arg)
            continue;
        /* Removing the handle also drops its completion message, should
         * check_done be about to read it. */
        xfer_unlink(x);
        h->inflight--;
        xfer_free(x);
        n++;
    }
    return n;
}

/* Connects only where x->addr_check allows. */
static curl_socket_t xfer_opensocket_cb(void *clientp, curlsocktype purpose,
                                        struct curl_sockaddr *a)
{
    struct http_xfer *x = clientp;
    struct err e;
    int fd;

    err_clear(&e);
    if (purpose != CURLSOCKTYPE_IPCXN) {
        err_set(&e, ERR_TARGET_NOT_ALLOWED, "only outgoing connections are allowed");
    } else if (x->addr_check(x->addr_check_arg, &a->addr, a->addrlen, &e) == ERR_OK) {
        /* CLOEXEC: the worker also runs child processes. */
        fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
        return fd < 0 ? CURL_SOCKET_BAD : fd;
    }
    x->refusals++;
    snprintf(x->resp.refused, sizeof x->resp.refused, "%s",
             e.msg[0] ? e.msg : "address refused");
    return CURL_SOCKET_BAD;
}

/* Frees a transfer that was never started. */
static void xfer_discard(struct http_xfer *x)
{
    curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->headers);
    free(x->body);
    free(x);
}

/* A transfer with what every request sets; not started yet. */
static struct http_xfer *xfer_new(struct http_async *h, const struct http_req *rq,
                                  http_async_cb *cb, void *arg, struct err *e)
{
    struct http_xfer *x = calloc(1, sizeof *x);

    if (x == NULL || (x->easy = curl_easy_init()) == NULL) {
        free(x);
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    x->h = h;
    x->cb = cb;
    x->arg = arg;
    x->buf.max = rq->max_response;
    for (const char *const *hd = rq->headers; hd != NULL && *hd != NULL; hd++) {
        struct curl_slist *n = curl_slist_append(x->headers, *hd);
        if (n == NULL) {
            xfer_discard(x);
            err_set(e, ERR_INTERNAL, "out of memory");
            return NULL;
        }
        x->headers = n;
    }
    curl_easy_setopt(x->easy, CURLOPT_URL, rq->url);
    http_set_protocols(x->easy);
    curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
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
    return x;
}

/* Copies body[0..len) into x (NUL-terminated); 0 or -1. */
static int xfer_copy_body(struct http_xfer *x, const char *body, size_t len)
{
    x->body = malloc(len + 1);
    if (x->body == NULL)
        return -1;
    if (len > 0)
        memcpy(x->body, body, len);
    x->body[len] = '\0';
    return 0;
}

/* Starts x, or frees it and fails. */
static int xfer_start(struct http_xfer *x, struct err *e)
{
    struct http_async *h = x->h;

    if (curl_multi_add_handle(h->multi, x->easy) != CURLM_OK) {
        xfer_discard(x);
        return err_set(e, ERR_INTERNAL, "cannot start the transfer");
    }
    x->next = h->xfers;
    if (h->xfers != NULL)
        h->xfers->prev = x;
    h->xfers = x;
    h->inflight++;
    return ERR_OK;
}

/* Frees a transfer that ran out of memory before it started. */
static int xfer_abandon(struct http_xfer *x, struct err *e)
{
    xfer_discard(x);
    return err_set(e, ERR_INTERNAL, "out of memory");
}

int http_async_post(struct http_async *h, const struct http_req *rq, http_async_cb *cb,
                    void *arg, struct err *e)
{
    struct http_xfer *x = xfer_new(h, rq, cb, arg, e);

    if (x == NULL)
        return e != NULL ? e->code : ERR_INTERNAL;
    if (xfer_copy_body(x, rq->body, rq->body_len) != 0)
        return xfer_abandon(x, e);
    curl_easy_setopt(x->easy, CURLOPT_POST, 1L);
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->body);
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
    return xfer_start(x, e);
}

/* The methods http_async_request sends; 1 when the method carries a body by
 * default (an empty one is sent when the request has none). */
static const struct {
    const char *name;
    int with_body;
} http_methods[] = {
    {"GET", 0}, {"HEAD", 0}, {"POST", 1}, {"PUT", 1}, {"PATCH", 1}, {"DELETE", 0},
    {"OPTIONS", 0},
};

static size_t http_discard_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct http_buf *b = userdata;
    size_t n = size * nmemb;

    (void)ptr;
    b->len += n;
    return n;
}

int http_async_request(struct http_async *h, const struct http_req *rq, http_async_cb *cb,
                       void *arg, struct err *e)
{
    const char *method = rq->method != NULL ? rq->method : "GET";
    struct http_xfer *x;
    int known = -1;

    for (size_t i = 0; i < sizeof http_methods / sizeof http_methods[0]; i++)
        if (strcmp(method, http_methods[i].name) == 0)
            known = (int)i;
    if (known < 0)
        return err_set(e, ERR_INTERNAL, "unsupported HTTP method");
    x = xfer_new(h, rq, cb, arg, e);
    if (x == NULL)
        return e != NULL ? e->code : ERR_INTERNAL;
    curl_easy_setopt(x->easy, CURLOPT_FOLLOWLOCATION, 0L);
    if (rq->discard_body)
        curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, http_discard_cb);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(x->easy, CURLOPT_NOBODY, 1L);
    } else if (rq->body != NULL || http_methods[known].with_body) {
        size_t len = rq->body != NULL ? rq->body_len : 0;

        if (xfer_copy_body(x, rq->body, len) != 0)
            return xfer_abandon(x, e);
        curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->body);
        curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, method);
    } else {
        curl_easy_setopt(x->easy, CURLOPT_HTTPGET, 1L);
        if (strcmp(method, "GET") != 0)
            curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, method);
    }
    if (rq->addr_check != NULL) {
        x->addr_check = rq->addr_check;
        x->addr_check_arg = rq->addr_check_arg;
        curl_easy_setopt(x->easy, CURLOPT_OPENSOCKETFUNCTION, xfer_opensocket_cb);
        curl_easy_setopt(x->easy, CURLOPT_OPENSOCKETDATA, x);
        curl_easy_setopt(x->easy, CURLOPT_PROXY, "");
    }
    return xfer_start(x, e);
}
