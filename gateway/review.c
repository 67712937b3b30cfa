/* review.c - POST /review: validate, then admit in one Redis round trip
 * (admit.lua: identity, bucket, idempotency, budget, job, XADD), answer 202. */
#include "gateway/handlers.h"

#include "common/budget.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/crypto.h"
#include "common/db.h"
#include "common/decimal.h"
#include "common/err.h"
#include "common/job.h"
#include "common/kv.h"
#include "common/log.h"
#include "gateway/auth.h"
#include "gateway/gate.h"
#include "gateway/gateway.h"
#include "gateway/ident_cache.h"
#include "gateway/jobs.h"
#include "gateway/observe.h"
#include "gateway/request.h"
#include "gateway/respond.h"
#include "gateway/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IDEMPOTENCY_KEY_MAX 255

/* Longest argument list: 3 keys, 14 fixed args and 15 field/value pairs. */
#define ADMIT_ARGS_MAX 48
/* Positions in the argument list (keys first) of what is patched per attempt. */
#define ADMIT_ARG_FLOOR 8
#define ADMIT_ARG_DIGEST 10

struct admit_args {
    const char *argv[ADMIT_ARGS_MAX];
    size_t lens[ADMIT_ARGS_MAX];
    int argc;
};

static void add(struct admit_args *a, const char *s, size_t n)
{
    if (a->argc >= ADMIT_ARGS_MAX)
        return;
    a->argv[a->argc] = s;
    a->lens[a->argc] = n;
    a->argc++;
}

static void add_field(struct admit_args *a, const char *name, const char *value)
{
    if (value == NULL)
        return;
    add(a, name, strlen(name));
    add(a, value, strlen(value));
}

/* 1..255 visible ASCII characters. */
static int idempotency_key_ok(const char *k)
{
    size_t n = strlen(k);

    if (n == 0 || n > IDEMPOTENCY_KEY_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)k[i] < 0x21 || (unsigned char)k[i] > 0x7e)
            return 0;
    return 1;
}

static cJSON *accepted_body(const char *job_id, int throttled, int degraded, long cooldown_s)
{
    cJSON *b = cJSON_CreateObject(), *w;
    char poll[64], msg[160];

    if (b == NULL)
        return NULL;
    snprintf(poll, sizeof poll, "/job/%s", job_id);
    cJSON_AddStringToObject(b, "job_id", job_id);
    cJSON_AddStringToObject(b, "status", "queued");
    cJSON_AddStringToObject(b, "poll", poll);
    if (throttled || degraded) {
        w = cJSON_AddArrayToObject(b, "warnings");
        if (degraded)
            snprintf(msg, sizeof msg, "degraded: the monthly token budget is used up; this "
                     "job gets static analysis only");
        else
            snprintf(msg, sizeof msg, "soft_throttled: over 90%% of the monthly token budget; "
                     "the model call is deferred by %ld s unless cached", cooldown_s);
        cJSON_AddItemToArray(w, cJSON_CreateString(msg));
    }
    return b;
}

/* Feeds one length-prefixed part into a running digest text. */
static void digest_part(struct crypto_sha256_state *st, const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    char len[DECIMAL_MAX + 1];
    size_t k = decimal_put(len, n);

    len[k++] = ':';                 /* "<decimal length>:" then the bytes */
    crypto_sha256_update(st, len, k);
    if (n > 0)
        crypto_sha256_update(st, s, n);
}

/* What makes two submissions' results interchangeable: the request's own
 * content, the pipeline version and the model. The caller's scope is added
 * by admit.lua. */
static void result_digest(const struct request *req, const struct review_request *r,
                          const char *cursor, char out[65])
{
    struct crypto_sha256_state st;

    crypto_sha256_init(&st);
    digest_part(&st, job_type_str(r->type));
    digest_part(&st, r->language);
    digest_part(&st, r->file_path);
    digest_part(&st, r->file_content);
    digest_part(&st, r->diff);
    if (r->filter != NULL)          /* present exactly when a review has a diff */
        digest_part(&st, r->filter);
    digest_part(&st, cursor);
    digest_part(&st, r->error_log);
    digest_part(&st, r->files);
    digest_part(&st, r->run);
    digest_part(&st, r->spec);
    digest_part(&st, JOB_PIPELINE_VERSION);
    digest_part(&st, req->gw->llm_target);
    crypto_sha256_final_hex(&st, out);
}

/* The finished job a result-cache hit points at, or NULL. */
static cJSON *finished_job(struct request *req, const char *job_id)
{
    struct err e;
    cJSON *view = jobs_view(req, job_id, &e);
    const char *status = json_str(view, "status");

    if (view != NULL && (status == NULL || strcmp(status, "done") != 0)) {
        cJSON_Delete(view);
        view = NULL;
    }
    return view;
}

/* The 202 of an admitted job, or the same again for an idempotent replay:
 * reply = {'ok'|'replay', _, limit, remaining, reset, throttled, degraded};
 * the rate-limit headers are already set. */
static void accepted_or_replayed(struct request *req, const char *job_id, const cJSON *r,
                                 int replay)
{
    int throttled = gate_reply_num(r, 5) != 0, degraded = gate_reply_num(r, 6) != 0;
    char poll[64];

    snprintf(poll, sizeof poll, "/job/%s", job_id);
    respond_header(req, "Location", poll);
    if (replay)
        respond_header(req, "Idempotent-Replayed", "true");
    if (throttled || degraded)
        respond_header(req, "Warning", degraded
                           ? "299 codeinsight \"token budget exhausted: static analysis only\""
                           : "299 codeinsight \"soft-throttled: model call deferred\"");
    respond_json(req, 202, accepted_body(job_id, throttled, degraded,
                                         req->gw->cfg->throttle_cooldown_s));
}

/* Tokens already charged this month, from the durable ledger. */
static int ledger_floor(struct request *req, const char *user_id, const char *month,
                        char *out, size_t cap, struct err *e)
{
    struct db *db = gateway_db(req->gw, e);
    int64_t used;
    int rc;

    if (db == NULL)
        return e->code;
    if ((rc = budget_ledger_used(db, user_id, month, &used, e)) == ERR_OK)
        snprintf(out, cap, "%lld", (long long)used);
    return rc;
}

/* Answers the outcome of admit.lua; returns 1 when the request is finished,
 * 0 when the script must run again (cache or ledger filled). */
/* How the caller was admitted: by the gateway's own copy (local), or by the
 * script, whose reply then updates that copy. */
struct admission {
    struct identity *id;
    int local;
    struct idc_admitted a;          /* the headers' values */
    int64_t now_ms;
};

/* A reply past the bucket: {status, _, limit, remaining, reset, throttled,
 * degraded, taken, identity}. Records what the script took and saw. */
static void admission_seen(struct request *req, struct admission *adm, const cJSON *r)
{
    const cJSON *flat = cJSON_GetArrayItem(r, 8);

    if (adm->local)
        return;
    idc_record(req->gw->idents, adm->id->cache_key, cJSON_IsArray(flat) ? flat : NULL,
               RC_SUBMIT, gate_reply_num(r, 7), gate_reply_num(r, 2), gate_reply_num(r, 3),
               gate_reply_num(r, 4), adm->now_ms, &adm->a);
}

static void admission_headers(struct request *req, const struct admission *adm)
{
    gate_rate_headers(req, adm->a.limit, adm->a.remaining, adm->a.reset);
}

static int admit_outcome(struct request *req, struct admission *adm, const cJSON *r,
                         const char *job_id, char *floor, size_t floor_cap, int *skip_cache)
{
    const char *st = gate_reply_status(r);
    struct identity *id = adm->id;
    struct err e;
    char poll[64];

    if (strcmp(st, "ok") == 0 || strcmp(st, "cached") == 0 || strcmp(st, "replay") == 0 ||
        strcmp(st, "conflict") == 0)
        admission_seen(req, adm, r);
    if (strcmp(st, "ok") == 0) {
        observe_admission(gate_reply_num(r, 6) ? "degraded"
                          : gate_reply_num(r, 5) ? "throttled" : "admitted");
        admission_headers(req, adm);
        accepted_or_replayed(req, job_id, r, 0);
        return 1;
    }
    if (strcmp(st, "cached") == 0) {
        cJSON *view = finished_job(req, gate_reply_str(r, 1));
        if (view == NULL) {
            /* The pointed-at job is gone: admit normally this time. */
            *skip_cache = 1;
            return 0;
        }
        admission_headers(req, adm);
        snprintf(poll, sizeof poll, "/job/%s", gate_reply_str(r, 1));
        respond_header(req, "Content-Location", poll);
        respond_header(req, "X-Cache", "hit");
        observe_admission("cached");
        respond_json(req, 200, view);
        return 1;
    }
    if (strcmp(st, "replay") == 0 || strcmp(st, "conflict") == 0) {
        admission_headers(req, adm);
        if (st[0] == 'c') {
            err_set(&e, ERR_IDEMPOTENCY_KEY_REUSED,
                    "this Idempotency-Key was used with a different body");
            respond_error(req, &e);
            return 1;
        }
        observe_admission("replayed");
        accepted_or_replayed(req, gate_reply_str(r, 1), r, 1);
        return 1;
    }
    if (strcmp(st, "revoked") == 0)
        idc_forget(req->gw->idents, id->cache_key);
    if (gate_refusal_or_respond(req, r))
        return 1;
    if (strcmp(st, "miss") == 0) {
        if (auth_fill_cache(req, id, &e) != ERR_OK) {
            gate_respond_error(req, &e);
            return 1;
        }
        return 0;
    }
    if (strcmp(st, "need_budget") == 0) {
        char month[BUDGET_MONTH_LEN];
        budget_month(crypto_uuid7_ms(job_id), month);
        if (ledger_floor(req, gate_reply_str(r, 1), month, floor, floor_cap, &e) != ERR_OK) {
            gate_respond_error(req, &e);
            return 1;
        }
        return 0;
    }
    err_set(&e, ERR_INTERNAL, "unexpected admission reply");
    respond_error(req, &e);
    return 1;
}

void handle_review(struct request *req)
{
    struct review_request r;
    struct identity id;
    struct admit_args a = {.argc = 0};
    struct err e;
    const char *idem = request_header(req, "Idempotency-Key");
    char job_id[CRYPTO_UUID_LEN], key[JOB_KEY_MAX], created[CLOCK_RFC3339_LEN];
    char ttl[24], cursor[64] = "", month[BUDGET_MONTH_LEN], est[24], digest[65], floor[24] = "";
    char rdigest[65], budget[24] = "", want[24], nshared[8] = "";
    struct admission adm;
    struct idc_ask ask;
    int skip_cache = 0, shared_from;
    int64_t now_us = clock_now_us();
    size_t input;

    if (auth_parse_or_respond(req, &id) != 0)
        return;
    if (idem != NULL && !idempotency_key_ok(idem)) {
        err_set(&e, ERR_INVALID_IDEMPOTENCY_KEY, "Idempotency-Key is 1 to %d visible ASCII "
                "characters", IDEMPOTENCY_KEY_MAX);
        /* An unknown caller learns nothing but 401 (admission checks keys
         * only later, in the same script as the rest of its work). */
        if (auth_known_or_respond(req, &id) == 0)
            respond_error(req, &e);
        return;
    }
    if (review_parse(req->body, req->body_len, req->gw->cfg, req->gw->stress_policy, &r, &e) != ERR_OK) {
        if (auth_known_or_respond(req, &id) == 0)
            respond_error(req, &e);
        return;
    }

    crypto_uuid7(now_us, job_id);
    job_key(job_id, key);
    clock_rfc3339(now_us / 1000, created);
    budget_month(now_us / 1000, month);
    input = r.input_bytes;
    snprintf(est, sizeof est, "%lld", (long long)budget_estimate(job_type_str(r.type), input));
    snprintf(ttl, sizeof ttl, "%ld", req->gw->cfg->job_ttl_s);
    /* Only idempotent submissions need the body's digest. */
    if (idem != NULL)
        crypto_sha256_hex(req->body, req->body_len, digest);
    else
        digest[0] = '\0';

    add(&a, id.cache_key, strlen(id.cache_key));
    add(&a, key, strlen(key));
    add(&a, job_stream_for(r.type), strlen(job_stream_for(r.type)));
    add(&a, month, strlen(month));
    add(&a, est, strlen(est));
    add(&a, ttl, strlen(ttl));
    add(&a, idem ? idem : "", idem ? strlen(idem) : 0);
    add(&a, digest, strlen(digest));
    if (r.has_cursor)
        snprintf(cursor, sizeof cursor, "{\"line\":%ld,\"end_line\":%ld}", r.cursor_line,
                 r.cursor_end_line);
    result_digest(req, &r, r.has_cursor ? cursor : NULL, rdigest);
    add(&a, floor, 0);              /* patched below once the ledger was read */
    add(&a, job_id, strlen(job_id));
    add(&a, rdigest, 64);           /* emptied below when the cache must be skipped */
    add(&a, req->gw->cfg->result_cache_shared ? "1" : "0", 1);
    /* Admitted here when this gateway's copy of the caller holds a token. */
    adm.id = &id;
    adm.now_ms = clock_mono_ms();
    adm.local = idc_admit(req->gw->idents, id.cache_key, RC_SUBMIT, adm.now_ms, &adm.a, &ask);
    if (adm.local)
        snprintf(budget, sizeof budget, "%lld", adm.a.budget);
    snprintf(want, sizeof want, "%ld", ask.want);
    add(&a, adm.local ? adm.a.user_id : "", adm.local ? strlen(adm.a.user_id) : 0);
    add(&a, budget, strlen(budget));
    add(&a, want, strlen(want));
    add(&a, ask.want_identity ? "1" : "0", 1);
    add(&a, nshared, 0);            /* patched below */
    shared_from = a.argc;
    add_field(&a, "job_id", job_id);
    add_field(&a, "type", job_type_str(r.type));
    add_field(&a, "created_at", created);
    add_field(&a, "request_id", req->request_id);
    add_field(&a, "file_path", r.file_path);
    add_field(&a, "language", r.language);
    add_field(&a, "repo_id", r.repo_id);
    add_field(&a, "filter", r.filter);
    /* The bulky fields go to the stream entry only. */
    snprintf(nshared, sizeof nshared, "%d", a.argc - shared_from);
    a.lens[shared_from - 1] = strlen(nshared);
    add_field(&a, "file_content", r.file_content);
    add_field(&a, "diff", r.diff);
    add_field(&a, "error_log", r.error_log);
    if (r.has_cursor)
        add_field(&a, "cursor_context", cursor);
    add_field(&a, "files", r.files);
    add_field(&a, "run", r.run);
    add_field(&a, "spec", r.spec);

    /* At most: a cache miss, a missing budget counter, a stale result-cache
     * entry, then admission. */
    for (int attempt = 0; attempt < 4; attempt++) {
        struct kv *kv = gateway_kv(req->gw, &e);
        cJSON *reply = NULL;
        int done;

        a.lens[ADMIT_ARG_FLOOR] = strlen(floor);
        a.lens[ADMIT_ARG_DIGEST] = skip_cache ? 0 : 64;
        if (kv == NULL ||
            kv_eval(kv, &job_script_admit, 3, a.argc, a.argv, a.lens, &reply, &e) != ERR_OK) {
            if (e.code != ERR_REDIS_UNAVAILABLE) {
                char why[ERR_MSG_MAX];
                memcpy(why, e.msg, sizeof why);
                err_set(&e, ERR_REDIS_UNAVAILABLE, "the queue refused the job: %s", why);
            }
            gate_respond_error(req, &e);
            review_request_cleanup(&r);
            return;
        }
        done = admit_outcome(req, &adm, reply, job_id, floor, sizeof floor, &skip_cache);
        cJSON_Delete(reply);
        if (done) {
            review_request_cleanup(&r);
            return;
        }
    }
    review_request_cleanup(&r);
    err_set(&e, ERR_INTERNAL, "admission did not settle");
    respond_error(req, &e);
}
