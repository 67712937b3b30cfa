/* api.c - requests to the Code Insight API over the shared curl-multi client. */
#include "cli/api.h"

#include "cli/termtext.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/http_client.h"
#include "common/loop.h"
#include "common/utf8.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int api_init(struct api *a, const char *url, const char *key, struct err *e)
{
    struct http_url u;
    size_t n = strlen(url);
    int w;

    memset(a, 0, sizeof *a);
    if (http_url_parse(url, &u, e) != ERR_OK ||
        (strcmp(u.scheme, "http") != 0 && strcmp(u.scheme, "https") != 0) ||
        u.has_query || u.has_fragment)
        return err_set(e, ERR_INVALID_FIELD_VALUE,
                       "the service URL must be http:// or https:// without a query");
    while (n > 0 && url[n - 1] == '/')
        n--;
    if (n >= sizeof a->base)
        return err_set(e, ERR_INVALID_FIELD_VALUE, "the service URL is too long");
    memcpy(a->base, url, n);
    a->base[n] = '\0';
    if (key != NULL && key[0] != '\0') {
        w = snprintf(a->auth, sizeof a->auth, "Authorization: Bearer %s", key);
        if (w < 0 || (size_t)w >= sizeof a->auth) {
            crypto_wipe(a->auth, sizeof a->auth);
            return err_set(e, ERR_INVALID_FIELD_VALUE, "the API key is too long");
        }
        a->has_key = 1;
    }
    if ((a->loop = loop_new(e)) == NULL) {
        crypto_wipe(a->auth, sizeof a->auth);
        return e != NULL ? e->code : ERR_INTERNAL;
    }
    if ((a->http = http_async_new(a->loop, e)) == NULL) {
        loop_free(a->loop);
        a->loop = NULL;
        crypto_wipe(a->auth, sizeof a->auth);
        return e != NULL ? e->code : ERR_INTERNAL;
    }
    return ERR_OK;
}

void api_cleanup(struct api *a)
{
    http_async_free(a->http);
    a->http = NULL;
    loop_free(a->loop);
    a->loop = NULL;
    crypto_wipe(a->auth, sizeof a->auth);
}

struct api_call_ctx {
    api_cb *cb;
    void *arg;
    const char *url;            /* borrowed from the struct api */
};

static long retry_after_seconds(const char *v)
{
    char *end;
    long s;

    if (v == NULL || v[0] == '\0')
        return -1;
    errno = 0;
    s = strtol(v, &end, 10);
    /* Digits past a long's range (or cut by the client): the longest wait. */
    if (end != v && *end == '\0' && errno == ERANGE && s == LONG_MAX)
        return API_RETRY_AFTER_MAX;
    /* An HTTP date is not sent by our server; treat it as "soon". */
    if (errno != 0 || end == v || *end != '\0' || s < 0)
        return 1;
    return s > API_RETRY_AFTER_MAX ? API_RETRY_AFTER_MAX : s;
}

/* 1 when v is one entity-tag: an optional W/, then *etagc in double quotes,
 * etagc being any byte but controls, space, '"' and DEL (RFC 9110 8.8.3).
 * What goes back into a header line is only that. */
static int etag_valid(const char *v)
{
    size_t n;

    if (strncmp(v, "W/", 2) == 0)
        v += 2;
    n = strlen(v);
    if (n < 2 || v[0] != '"' || v[n - 1] != '"')
        return 0;
    for (size_t i = 1; i < n - 1; i++)
        if ((unsigned char)v[i] <= ' ' || v[i] == '"' || v[i] == 0x7f)
            return 0;
    return 1;
}

static void on_http_done(void *arg, const struct http_resp *hr)
{
    struct api_call_ctx *c = arg;
    struct api_resp r;

    memset(&r, 0, sizeof r);
    r.transport_ok = hr->transport_ok;
    r.status = hr->status;
    r.body = hr->body;
    r.len = hr->len;
    r.retry_after_s = retry_after_seconds(hr->retry_after);
    r.etag = etag_valid(hr->etag) ? hr->etag : NULL;
    r.content_type = hr->content_type;
    r.location = hr->status >= 300 && hr->status < 400 ? hr->location : NULL;
    r.timed_out = !hr->transport_ok && hr->timed_out;
    r.connect_failed = !hr->transport_ok && !hr->sent;
    r.url = c->url;
    if (hr->transport_ok)
        r.json = cJSON_ParseWithLength(hr->body, hr->len);
    else
        snprintf(r.error, sizeof r.error, "%s%s", hr->timed_out ? "timed out: " : "",
                 hr->error[0] ? hr->error : "connection failed");
    c->cb(c->arg, &r);
    cJSON_Delete(r.json);
    free(c);
}

int api_send(struct api *a, const char *method, const char *path, const char *body,
             const struct api_ask *ask, long timeout_ms, api_cb *cb, void *arg, char *msg,
             size_t cap)
{
    const char *if_none_match = ask != NULL ? ask->if_none_match : NULL;
    const char *headers[6];
    struct api_call_ctx *c;
    char url[API_URL_MAX], inm[HTTP_ETAG_MAX + 16];
    struct http_req rq;
    struct err e;
    int n = 0, w;

    w = snprintf(url, sizeof url, "%s%s", a->base, path);
    if (w < 0 || (size_t)w >= sizeof url) {
        snprintf(msg, cap, "URL too long");
        return -1;
    }
    if (a->has_key)
        headers[n++] = a->auth;
    headers[n++] = "Accept: application/json";
    if (body != NULL)
        headers[n++] = "Content-Type: application/json";
    if (if_none_match != NULL) {
        w = snprintf(inm, sizeof inm, "If-None-Match: %s", if_none_match);
        if (!etag_valid(if_none_match) || w < 0 || (size_t)w >= sizeof inm) {
            snprintf(msg, cap, "not an entity tag");
            return -1;
        }
        headers[n++] = inm;
    }
    if (ask != NULL && ask->no_cache)
        headers[n++] = "Cache-Control: no-cache";
    headers[n] = NULL;
    if ((c = calloc(1, sizeof *c)) == NULL) {
        snprintf(msg, cap, "out of memory");
        return -1;
    }
    c->cb = cb;
    c->arg = arg;
    c->url = a->base;
    memset(&rq, 0, sizeof rq);
    rq.url = url;
    rq.headers = headers;
    rq.method = method;
    rq.body = body;
    rq.body_len = body != NULL ? strlen(body) : 0;
    rq.timeout_ms = timeout_ms > 0 && timeout_ms < API_TIMEOUT_MS ? timeout_ms : API_TIMEOUT_MS;
    rq.connect_timeout_ms = rq.timeout_ms < API_CONNECT_TIMEOUT_MS ? rq.timeout_ms
                                                                   : API_CONNECT_TIMEOUT_MS;
    rq.max_response = API_RESPONSE_MAX;
    if (http_async_request(a->http, &rq, on_http_done, c, &e) != ERR_OK) {
        free(c);
        snprintf(msg, cap, "%s", e.msg);
        return -1;
    }
    return 0;
}

struct sync_result {
    struct loop *loop;
    int done;
    long status;
    cJSON *json;
    char said[API_DESCRIBE_MAX];    /* api_describe of the answer */
    int transport_ok;
};

static void on_sync_done(void *arg, const struct api_resp *r)
{
    struct sync_result *s = arg;

    s->done = 1;
    loop_stop(s->loop);
    s->transport_ok = r->transport_ok;
    s->status = r->status;
    api_describe(r, s->said, sizeof s->said);
    if (r->transport_ok && r->json != NULL)
        s->json = cJSON_Duplicate(r->json, 1);
}

int api_call(struct api *a, const char *method, const char *path, const char *body,
             long *status, cJSON **json, char *msg, size_t cap)
{
    struct sync_result s;

    memset(&s, 0, sizeof s);
    s.loop = a->loop;
    *status = 0;
    *json = NULL;
    if (api_send(a, method, path, body, NULL, 0, on_sync_done, &s, msg, cap) != 0)
        return -1;
    /* The callback stops the loop; the request's own timeout bounds the wait.
     * Idle kept-alive connections may stay watched, so "nothing left to
     * wait for" is not relied on. */
    loop_run(a->loop);
    if (!s.done) {
        char u[API_DESCRIBE_MAX];

        utf8_fmt(msg, cap, "no answer from %s",
                 termtext_clean(u, sizeof u, a->base, TERMTEXT_FLAT));
        return -1;
    }
    utf8_fmt(msg, cap, "%s", s.said);
    if (!s.transport_ok) {
        cJSON_Delete(s.json);
        return -1;
    }
    *status = s.status;
    *json = s.json;
    return 0;
}

void api_describe_json(long status, const cJSON *json, char *out, size_t cap)
{
    const char *code = json_str(json, "code"), *detail = json_str(json, "detail");
    char c[API_DESCRIBE_MAX], d[API_DESCRIBE_MAX];

    /* The server's words: flattened, and no escape codes for the terminal. */
    termtext_clean(c, sizeof c, code, TERMTEXT_FLAT);
    termtext_clean(d, sizeof d, detail, TERMTEXT_FLAT);
    if (code != NULL && detail != NULL)
        utf8_fmt(out, cap, "%s: %s (HTTP %ld)", c, d, status);
    else if (code != NULL)
        utf8_fmt(out, cap, "%s (HTTP %ld)", c, status);
    else
        utf8_fmt(out, cap, "unexpected answer (HTTP %ld)", status);
}

/* The media type of a Content-Type value (its parameters dropped), cleaned
 * for the terminal into buf; "" when there is none. */
static const char *media_type(char *buf, size_t cap, const char *content_type)
{
    char t[sizeof ((struct http_resp *)0)->content_type];
    size_t n = content_type != NULL ? strcspn(content_type, ";") : 0;

    if (n >= sizeof t)
        n = sizeof t - 1;
    memcpy(t, content_type != NULL ? content_type : "", n);
    while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t'))
        n--;
    t[n] = '\0';
    return termtext_clean(buf, cap, t, TERMTEXT_FLAT);
}

void api_describe(const struct api_resp *r, char *out, size_t cap)
{
    char e[sizeof r->error], u[API_DESCRIBE_MAX], w[API_DESCRIBE_MAX];
    const char *url = termtext_clean(u, sizeof u, r->url ? r->url : "the service",
                                     TERMTEXT_FLAT);

    if (!r->transport_ok) {
        utf8_fmt(out, cap, "%s %s: %s",
                 r->connect_failed ? "cannot reach" : "no complete answer from", url,
                 termtext_clean(e, sizeof e, r->error, TERMTEXT_FLAT));
    } else if (r->location != NULL) {
        utf8_fmt(out, cap, "redirected to %s (HTTP %ld), not followed: is %s the service's URL?",
                 termtext_clean(w, sizeof w, r->location, TERMTEXT_FLAT), r->status, url);
    } else if (r->json == NULL && r->len > 0) {
        /* A proxy's error page, a captive portal, a body cut short: not ours. */
        media_type(w, sizeof w, r->content_type);
        utf8_fmt(out, cap, "unexpected answer (HTTP %ld%s%s, not JSON) from %s", r->status,
                 w[0] != '\0' ? ", " : "", w, url);
    } else {
        api_describe_json(r->status, r->json, out, cap);
    }
}
