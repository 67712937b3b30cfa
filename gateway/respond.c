/* respond.c - builds and queues responses on the libmicrohttpd connection. */
#include "gateway/respond.h"

#include "common/err.h"
#include "common/log.h"
#include "gateway/etag.h"
#include "gateway/request.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void respond_header(struct request *req, const char *name, const char *value)
{
    if (req->n_extra >= REQUEST_EXTRA_HEADERS)
        return;
    size_t n = strlen(value);
    char *v = req->extra[req->n_extra].value;

    if (n >= sizeof req->extra[0].value)
        n = sizeof req->extra[0].value - 1;     /* truncated (respond.h) */
    memcpy(v, value, n);
    v[n] = '\0';
    req->extra[req->n_extra].name = name;
    req->n_extra++;
}

/* Queues r (and drops this reference), or holds it when the request runs on
 * a waiting thread: only a request thread may queue (server.c). */
static void respond_queue(struct request *req, unsigned status, struct MHD_Response *r)
{
    if (req->waits) {
        req->held = r;
        req->held_status = status;
        return;
    }
    MHD_queue_response(req->conn, status, r);
    MHD_destroy_response(r);
}

/* Takes text (malloc'd, NUL-terminated). */
static void respond_send(struct request *req, int status, const char *ctype, char *text)
{
    struct MHD_Response *r;

    if (req->responded) {
        free(text);
        return;
    }
    req->responded = 1;
    req->status = status;
    r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(text);
        return;
    }
    if (ctype != NULL)      /* NULL: a response without content (204) */
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Request-Id", req->request_id);
    for (int i = 0; i < req->n_extra; i++)
        MHD_add_response_header(r, req->extra[i].name, req->extra[i].value);
    respond_queue(req, (unsigned)status, r);
}

/* A streamed body: our reader behind MHD's content reader callback. */
struct stream_src {
    respond_reader *reader;
    respond_reader_done *done;
    void *arg;
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream_src *src = cls;
    long n;

    (void)pos;
    n = src->reader(src->arg, buf, max);
    return n < 0 ? (ssize_t)MHD_CONTENT_READER_END_OF_STREAM : (ssize_t)n;
}

static void stream_free(void *cls)
{
    struct stream_src *src = cls;

    src->done(src->arg);
    free(src);
}

void respond_stream(struct request *req, const char *ctype, respond_reader *reader,
                    respond_reader_done *done, void *arg)
{
    struct stream_src *src;
    struct MHD_Response *r;

    if (req->responded || (src = malloc(sizeof *src)) == NULL) {
        done(arg);
        if (!req->responded) {
            struct err e;
            err_set(&e, ERR_INTERNAL, "out of memory starting a stream");
            respond_error(req, &e);
        }
        return;
    }
    src->reader = reader;
    src->done = done;
    src->arg = arg;
    /* The block size bounds each read (MHD's buffer may be smaller). */
    r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, src, stream_free);
    if (r == NULL) {
        stream_free(src);
        return;
    }
    req->responded = 1;
    req->status = 200;
    if (ctype != NULL)      /* NULL: a response without content (204) */
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    /* nginx and the like buffer responses unless told not to. */
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    MHD_add_response_header(r, "X-Request-Id", req->request_id);
    for (int i = 0; i < req->n_extra; i++)
        MHD_add_response_header(r, req->extra[i].name, req->extra[i].value);
    respond_queue(req, MHD_HTTP_OK, r);
}

/* Last resort when even building the error body fails. */
static char *fallback_body(void)
{
    static const char body[] = "{\"type\":\"urn:codeinsight:problem:internal_error\","
                               "\"title\":\"Internal error\",\"status\":500,"
                               "\"code\":\"internal_error\"}";
    return strdup(body);
}

void respond_empty(struct request *req, int status)
{
    char *none = strdup("");

    if (none != NULL)
        respond_send(req, status, NULL, none);
}

void respond_text(struct request *req, int status, const char *ctype, char *text)
{
    if (text == NULL) {
        struct err e;
        err_set(&e, ERR_INTERNAL, "out of memory building the response");
        respond_error(req, &e);
        return;
    }
    respond_send(req, status, ctype, text);
}

void respond_tagged(struct request *req, const char *ctype, char *text, const char *tag)
{
    char own[ETAG_LEN];

    if (text == NULL) {
        respond_text(req, 200, ctype, NULL);
        return;
    }
    if (tag == NULL) {
        etag_of(text, strlen(text), own);
        tag = own;
    }
    respond_header(req, "ETag", tag);
    if (etag_none_match(request_header(req, MHD_HTTP_HEADER_IF_NONE_MATCH), tag)) {
        free(text);
        respond_empty(req, MHD_HTTP_NOT_MODIFIED);
        return;
    }
    respond_send(req, 200, ctype, text);
}

void respond_json(struct request *req, int status, cJSON *body)
{
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;

    cJSON_Delete(body);
    respond_text(req, status, "application/json", text);
}

static const char *public_detail(enum err_code code)
{
    switch (code) {
    case ERR_REDIS_UNAVAILABLE:
        return "the queue is unreachable; retry after the Retry-After delay";
    case ERR_DATABASE_UNAVAILABLE:
        return "the database is unreachable; retry later";
    case ERR_SERVER_BUSY:
        return "this server is busy; retry after the Retry-After delay";
    case ERR_QUEUE_FULL:
        return "the queue for this kind of job is full; retry after the Retry-After delay";
    case ERR_SUBSCRIBERS_FULL:
        return "this server holds its most event streams; retry after the Retry-After delay";
    case ERR_TIMEOUT:
        return "a service this server depends on did not answer in time; retry later";
    default:
        return "an internal error occurred; quote the request_id when reporting it";
    }
}

void respond_error_with(struct request *req, const struct err *e, cJSON *extra)
{
    char type[96];
    cJSON *p = cJSON_CreateObject();
    char *text;
    int status = err_http_status(e->code);

    snprintf(type, sizeof type, "urn:codeinsight:problem:%s", err_code_str(e->code));
    if (p != NULL) {
        cJSON_AddStringToObject(p, "type", type);
        cJSON_AddStringToObject(p, "title", err_title(e->code));
        cJSON_AddNumberToObject(p, "status", status);
        /* A server-side failure's detail may name internal hosts and ports:
         * clients get a generic one; the log line keeps the real message. */
        cJSON_AddStringToObject(p, "detail", status >= 500 && e->code != ERR_NOT_READY
                                                 ? public_detail(e->code) : e->msg);
        cJSON_AddStringToObject(p, "code", err_code_str(e->code));
        cJSON_AddStringToObject(p, "request_id", req->request_id);
        if (e->field[0] != '\0')
            cJSON_AddStringToObject(p, "field", e->field);
        if (extra != NULL) {
            cJSON *it = extra->child;
            while (it != NULL) {
                cJSON *next = it->next;
                cJSON_AddItemToObject(p, it->string, cJSON_DetachItemViaPointer(extra, it));
                it = next;
            }
        }
    }
    cJSON_Delete(extra);
    text = p ? cJSON_PrintUnformatted(p) : NULL;
    cJSON_Delete(p);
    if (text == NULL) {
        text = fallback_body();
        status = 500;
        if (text == NULL)
            return;
    }
    req->err_code = err_code_str(e->code);
    if (status >= 500) {
        /* Server-side failures are logged where they are answered; client
         * errors appear in the access line with their code. */
        struct log_line l;
        log_begin(&l, LOG_ERROR, "request_failed");
        log_str(&l, "request_id", req->request_id);
        log_errfields(&l, e);
        log_end(&l);
    }
    respond_send(req, status, "application/problem+json", text);
}

void respond_error(struct request *req, const struct err *e)
{
    respond_error_with(req, e, NULL);
}
