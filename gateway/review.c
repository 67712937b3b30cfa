/* review.c - POST /review: validate, then record and enqueue in one Redis
 * round trip (the submit script), then answer 202. */
#include "gateway/handlers.h"

#include "common/clock.h"
#include "common/config.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/job.h"
#include "common/kv.h"
#include "gateway/gateway.h"
#include "gateway/request.h"
#include "gateway/respond.h"
#include "gateway/validate.h"

#include <stdio.h>
#include <string.h>

/* Seconds a client should wait before retrying when the queue is down. */
#define REVIEW_RETRY_AFTER "2"

/* Longest argument list: 2 keys, the TTL and 14 field/value pairs. */
#define SUBMIT_ARGS_MAX 40

struct submit_args {
    const char *argv[SUBMIT_ARGS_MAX];
    size_t lens[SUBMIT_ARGS_MAX];
    int argc;
};

static void add(struct submit_args *a, const char *s, size_t n)
{
    if (a->argc >= SUBMIT_ARGS_MAX)
        return;
    a->argv[a->argc] = s;
    a->lens[a->argc] = n;
    a->argc++;
}

static void add_field(struct submit_args *a, const char *name, const char *value)
{
    if (value == NULL)
        return;
    add(a, name, strlen(name));
    add(a, value, strlen(value));
}

static cJSON *accepted_body(const char *job_id, const char *poll)
{
    cJSON *b = cJSON_CreateObject();

    if (b == NULL)
        return NULL;
    cJSON_AddStringToObject(b, "job_id", job_id);
    cJSON_AddStringToObject(b, "status", "queued");
    cJSON_AddStringToObject(b, "poll", poll);
    return b;
}

void handle_review(struct request *req)
{
    struct review_request r;
    struct submit_args a = {.argc = 0};
    struct err e;
    struct kv *kv;
    char job_id[CRYPTO_UUID_LEN], key[JOB_KEY_MAX], created[CLOCK_RFC3339_LEN];
    char ttl[24], cursor[64], poll[64];
    int64_t now_us = clock_now_us();

    if (review_parse(req->body, req->body_len, &r, &e) != ERR_OK) {
        respond_error(req, &e);
        return;
    }
    kv = gateway_kv(req->gw, &e);
    if (kv == NULL) {
        review_request_cleanup(&r);
        respond_header(req, "Retry-After", REVIEW_RETRY_AFTER);
        respond_error(req, &e);
        return;
    }

    crypto_uuid7(now_us, job_id);
    job_key(job_id, key);
    clock_rfc3339(now_us / 1000, created);
    snprintf(ttl, sizeof ttl, "%ld", req->gw->cfg->job_ttl_s);

    add(&a, key, strlen(key));
    add(&a, job_stream_for(r.type), strlen(job_stream_for(r.type)));
    add(&a, ttl, strlen(ttl));
    add_field(&a, "job_id", job_id);
    add_field(&a, "type", job_type_str(r.type));
    add_field(&a, "created_at", created);
    add_field(&a, "request_id", req->request_id);
    add_field(&a, "file_path", r.file_path);
    add_field(&a, "language", r.language);
    add_field(&a, "repo_id", r.repo_id);
    add_field(&a, "file_content", r.file_content);
    add_field(&a, "diff", r.diff);
    add_field(&a, "error_log", r.error_log);
    if (r.has_cursor) {
        snprintf(cursor, sizeof cursor, "{\"line\":%ld,\"end_line\":%ld}", r.cursor_line,
                 r.cursor_end_line);
        add_field(&a, "cursor_context", cursor);
    }

    if (kv_eval(kv, &job_script_submit, 2, a.argc, a.argv, a.lens, NULL, &e) != ERR_OK) {
        review_request_cleanup(&r);
        if (e.code != ERR_REDIS_UNAVAILABLE) {
            char why[ERR_MSG_MAX];
            memcpy(why, e.msg, sizeof why);
            err_set(&e, ERR_REDIS_UNAVAILABLE, "the queue refused the job: %s", why);
        }
        respond_header(req, "Retry-After", REVIEW_RETRY_AFTER);
        respond_error(req, &e);
        return;
    }
    review_request_cleanup(&r);

    snprintf(poll, sizeof poll, "/job/%s", job_id);
    respond_header(req, "Location", poll);
    respond_json(req, 202, accepted_body(job_id, poll));
}
