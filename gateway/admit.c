/* admit.c - admit.lua's arguments, batched script calls, and the answers to
 * its outcomes (admit.h). */
#include "gateway/admit.h"
#include "gateway/cache_control.h"

#include "common/budget.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/crypto.h"
#include "common/db.h"
#include "common/decimal.h"
#include "common/err.h"
#include "common/json.h"
#include "common/job.h"
#include "common/kv.h"
#include "common/log.h"
#include "common/text.h"
#include "gateway/auth.h"
#include "gateway/gate.h"
#include "gateway/gateway.h"
#include "gateway/ident_cache.h"
#include "gateway/jobs.h"
#include "gateway/observe.h"
#include "gateway/offload.h"
#include "gateway/request.h"
#include "gateway/respond.h"
#include "gateway/shared_hit.h"
#include "gateway/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* admit.lua's FIELDS, in its order: each submission sends the values it
 * has and a mask saying which (the script supplies the names). The first,
 * JOB_META_FIELD, holds the small ones (META_NAMES) as one JSON object. */
#define ADMIT_FIELDS 7
static const char *const meta_names[] = {"type", "created_at", "request_id", "file_path",
                                         "language", "repo_id", "filter", "cursor_context",
                                         JOB_ENTRY_FORMAT_FIELD};
#define META_NAMES (sizeof meta_names / sizeof meta_names[0])
/* Longest argument list of one admission: 2 keys, 12 fixed args and a
 * value per field. */
#define ADMIT_ARGS_MAX (14 + ADMIT_FIELDS)
#define ADMIT_KEYS 2
/* Positions in the argument list (keys first) of what is patched per attempt. */
#define ADMIT_ARG_FLOOR 6
#define ADMIT_ARG_DIGEST 8
/* Script runs of one admission at most: a cache miss, a missing budget
 * counter, a stale result-cache entry, then admission. */
#define ADMIT_ATTEMPTS 4

/* How the caller was admitted: by the gateway's own copy (local), or by the
 * script, whose reply then updates that copy. */
struct admission {
    int local;
    struct idc_admitted a;          /* the headers' values */
    int64_t now_ms;
    uint64_t gen;                   /* idc_ask's: for idc_record */
};

/* Outcomes of admit.lua that a waiting thread finishes (outcome_work). */
enum pending { PENDING_NONE, PENDING_CACHED, PENDING_MISS, PENDING_NEED_BUDGET };

/* One submission on its way through admission; owns everything the
 * argument list points at. */
struct admit_job {
    struct request *req;            /* borrowed; suspended while queued */
    struct review_request r;        /* owns */
    struct identity id;
    struct admission adm;
    const char *argv[ADMIT_ARGS_MAX];
    size_t lens[ADMIT_ARGS_MAX];
    int argc;
    int attempts;                   /* script runs so far */
    int skip_cache;                 /* the result-cache entry pointed at a vanished job */
    enum cache_mode cache;          /* what the submission's Cache-Control asks */
    int replayed;                   /* PENDING_CACHED: the key's first answer was that hit */
    enum pending pending;           /* the outcome a waiting thread continues from */
    char pending_x[64];             /* and its second field (a job id, a user id) */
    char caller[CRYPTO_UUID_LEN];   /* PENDING_CACHED: the caller's user id, as the script
                                       saw it ("" unknown) */
    char draft[CRYPTO_UUID_LEN], created[CLOCK_RFC3339_LEN];   /* draft: job_id_draft */
    char idem[256];
    char cursor[64], month[BUDGET_MONTH_LEN], est[DECIMAL_STR_MAX], digest[65];
    char floor[DECIMAL_STR_MAX];
    char rdigest[66], budget[DECIMAL_STR_MAX], want[DECIMAL_STR_MAX], mask[ADMIT_FIELDS + 1];
    char *meta;                     /* owns: the JOB_META_FIELD value */
};

enum step { STEP_DONE, STEP_WORK, STEP_AGAIN };

static void add(struct admit_job *j, const char *s, size_t n)
{
    if (j->argc >= ADMIT_ARGS_MAX)
        return;
    j->argv[j->argc] = s;
    j->lens[j->argc] = n;
    j->argc++;
}

static void add_str(struct admit_job *j, const char *s)
{
    add(j, s, strlen(s));
}

/* The value of admit.lua's FIELDS[i + 1], or NULL when the submission has
 * none. */
static void add_field(struct admit_job *j, size_t i, const char *value)
{
    j->mask[i] = value != NULL ? '1' : '0';
    if (value != NULL)
        add_str(j, value);
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

/* What makes two submissions' results interchangeable as far as the
 * gateway can tell: the request's own content and the pipeline version.
 * The caller's scope is added by admit.lua, and what the workers' answers
 * depend on (model, prompts, their limits) by the answer version an entry
 * carries, which the script checks (worker/answer_version.h). */
static void result_digest(const struct review_request *r, const char *cursor, char out[65])
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
    crypto_sha256_final_hex(&st, out);
}

/* Fills j's argument list (admit.lua's header says what each is). Returns
 * 0, or -1 when out of memory. */
static int job_args(struct admit_job *j, const char *idem)
{
    struct request *req = j->req;
    const struct review_request *r = &j->r;
    int64_t now_us = clock_now_us();
    struct idc_ask ask;

    job_id_draft(r->type, j->draft);
    clock_rfc3339(now_us / 1000, j->created);
    budget_month(now_us / 1000, j->month);
    decimal_str(j->est, budget_estimate(job_type_str(r->type), r->input_bytes,
                                        r->type == JOB_DEBUG ? req->gw->cfg->debug_fix_attempts
                                                             : 1));
    /* Only idempotent submissions need the body's digest. */
    if (idem != NULL) {
        snprintf(j->idem, sizeof j->idem, "%s", idem);
        crypto_sha256_hex(req->body, req->body_len, j->digest);
    }
    if (r->has_cursor)
        snprintf(j->cursor, sizeof j->cursor, "{\"line\":%ld,\"end_line\":%ld}", r->cursor_line,
                 r->cursor_end_line);
    /* The digest goes after a byte that says the mode (admit_call). */
    result_digest(r, r->has_cursor ? j->cursor : NULL, j->rdigest + 1);
    j->cache = cache_control_mode(request_header(req, "Cache-Control"));
    {
        const char *meta[META_NAMES] = {job_type_str(r->type), j->created, req->request_id,
                                        r->file_path, r->language, r->repo_id, r->filter,
                                        r->has_cursor ? j->cursor : NULL, JOB_ENTRY_FORMAT};
        if ((j->meta = job_meta_encode(meta_names, meta, META_NAMES)) == NULL)
            return -1;
    }

    add_str(j, j->id.cache_key);
    add_str(j, job_stream_for(r->type));
    add_str(j, j->month);
    add_str(j, j->est);
    add_str(j, j->idem);
    add_str(j, j->digest);
    add(j, j->floor, 0);            /* patched once the ledger was read */
    add_str(j, j->draft);
    add(j, j->rdigest, 65);         /* set by admit_call */
    /* Admitted here when this gateway's copy of the caller holds a token. */
    j->adm.now_ms = clock_mono_ms();
    j->adm.local = idc_admit(req->gw->idents, j->id.cache_key, RC_SUBMIT, j->adm.now_ms,
                             &j->adm.a, &ask);
    j->adm.gen = ask.gen;
    if (j->adm.local)
        decimal_str(j->budget, j->adm.a.budget);
    decimal_str(j->want, ask.want);
    add_str(j, j->adm.local ? j->adm.a.user_id : "");
    add_str(j, j->budget);
    add_str(j, j->want);
    add_str(j, ask.want_identity ? "1" : "0");
    add(j, j->mask, ADMIT_FIELDS);
    {
        /* meta goes without its opening brace: admit.lua puts the
         * admission's own members before the submission's. */
        const char *values[ADMIT_FIELDS] = {j->meta + 1, r->file_content, r->diff, r->error_log,
                                            r->files, r->run, r->spec};
        for (size_t i = 0; i < ADMIT_FIELDS; i++)
            add_field(j, i, values[i]);
    }
    return 0;
}

static void job_free(struct admit_job *j)
{
    free(j->meta);
    review_request_cleanup(&j->r);
    free(j);
}

/* Runs admit.lua once for jobs[0..n): keys of all, the batch's three
 * arguments, then per job the count of its arguments and the arguments. On
 * ERR_OK *replies is an array of n replies (owns). */
static int admit_call(struct kv *kv, struct admit_job **jobs, int n, cJSON **replies,
                      struct err *e)
{
    const char *argv[3 + ADMIT_BATCH_MAX * (ADMIT_ARGS_MAX + 1)];
    size_t lens[3 + ADMIT_BATCH_MAX * (ADMIT_ARGS_MAX + 1)];
    char counts[ADMIT_BATCH_MAX][8], ttl[24], qmax[24];
    int argc = 0, rc;

    for (int i = 0; i < n; i++) {
        for (int k = 0; k < ADMIT_KEYS; k++) {
            argv[argc] = jobs[i]->argv[k];
            lens[argc++] = jobs[i]->lens[k];
        }
    }
    lens[argc] = (size_t)snprintf(ttl, sizeof ttl, "%ld", jobs[0]->req->gw->cfg->job_ttl_s);
    argv[argc++] = ttl;
    lens[argc] = 1;
    argv[argc++] = jobs[0]->req->gw->cfg->result_cache_shared ? "1" : "0";
    lens[argc] = (size_t)snprintf(qmax, sizeof qmax, "%ld", jobs[0]->req->gw->cfg->queue_max);
    argv[argc++] = qmax;
    for (int i = 0; i < n; i++) {
        struct admit_job *j = jobs[i];
        j->lens[ADMIT_ARG_FLOOR] = strlen(j->floor);
        /* admit.lua's result-cache digest: "" skips the cache (the entry
         * pointed at a vanished job), "!<digest>" refreshes it, "-<digest>"
         * bypasses it (Cache-Control no-cache, no-store). */
        j->rdigest[0] = j->cache == CACHE_REFRESH ? '!' : '-';
        j->argv[ADMIT_ARG_DIGEST] = j->cache == CACHE_USE ? j->rdigest + 1 : j->rdigest;
        j->lens[ADMIT_ARG_DIGEST] = j->skip_cache ? 0 : j->cache == CACHE_USE ? 64 : 65;
        lens[argc] = decimal_put(counts[i], (size_t)(j->argc - ADMIT_KEYS));
        argv[argc++] = counts[i];
        for (int k = ADMIT_KEYS; k < j->argc; k++) {
            argv[argc] = j->argv[k];
            lens[argc++] = j->lens[k];
        }
        j->attempts++;
    }
    rc = kv_eval(kv, &job_script_admit, ADMIT_KEYS * n, argc, argv, lens, replies, e);
    if (rc == ERR_OK && (!cJSON_IsArray(*replies) || cJSON_GetArraySize(*replies) != n)) {
        cJSON_Delete(*replies);
        *replies = NULL;
        rc = err_set(e, ERR_PROTOCOL, "redis: admit.lua answered %s", "a malformed batch");
    }
    if (rc != ERR_OK && e->code != ERR_REDIS_UNAVAILABLE) {
        char why[ERR_MSG_MAX];
        memcpy(why, e->msg, sizeof why);
        rc = err_set(e, ERR_REDIS_UNAVAILABLE, "the queue refused the job: %s", why);
    }
    return rc;
}

/* The 202 body, {"job_id", "status", "poll"[, "warnings"]}, written out
 * rather than built as a document. Owns, or NULL when out of memory. */
static char *accepted_body(const char *job_id, const char *poll, int throttled, int degraded,
                           long cooldown_s)
{
    struct text t = TEXT_INIT;
    char msg[192];

    text_puts(&t, "{\"job_id\":");
    json_write_string(text_sink, &t, job_id, strlen(job_id));
    text_puts(&t, ",\"status\":\"queued\",\"poll\":");
    json_write_string(text_sink, &t, poll, strlen(poll));
    if (degraded) {
        text_puts(&t, ",\"warnings\":[\"degraded: the monthly token budget is used up; this job "
                      "gets static analysis only\"]");
    } else if (throttled) {
        snprintf(msg, sizeof msg, ",\"warnings\":[\"soft_throttled: over 90%% of the monthly "
                 "token budget; the model call is deferred by %ld s unless cached\"]", cooldown_s);
        text_puts(&t, msg);
    }
    text_puts(&t, "}");
    return text_finish(&t);
}

/* The 202 of an admitted job, or the same again for an idempotent replay;
 * the rate-limit headers are already set. */
static void accepted_or_replayed(struct request *req, const char *job_id, int throttled,
                                 int degraded, int replay)
{
    char poll[64];

    snprintf(poll, sizeof poll, "/job/%s", job_id);
    respond_header(req, "Location", poll);
    if (replay)
        respond_header(req, "Idempotent-Replayed", "true");
    if (throttled || degraded)
        respond_header(req, "Warning", degraded
                           ? "299 codeinsight \"token budget exhausted: static analysis only\""
                           : "299 codeinsight \"soft-throttled: model call deferred\"");
    respond_text(req, 202, "application/json",
                 accepted_body(job_id, poll, throttled, degraded,
                               req->gw->cfg->throttle_cooldown_s));
}

/* A reply past the bucket: {status, _, limit, remaining, reset, throttled,
 * degraded, taken, identity}. Records what the script took and saw. */
static void admission_seen(struct admit_job *j, const cJSON *r)
{
    const cJSON *flat = cJSON_GetArrayItem(r, 8);

    if (j->adm.local)
        return;
    idc_record(j->req->gw->idents, j->id.cache_key, j->adm.gen,
               cJSON_IsArray(flat) ? flat : NULL, RC_SUBMIT, gate_reply_num(r, 7),
               gate_reply_num(r, 2), gate_reply_num(r, 3), gate_reply_num(r, 4), j->adm.now_ms,
               &j->adm.a);
}

static void admission_headers(struct admit_job *j)
{
    gate_rate_headers(j->req, j->adm.a.limit, j->adm.a.remaining, j->adm.a.reset);
}

/* The 202 of job_id, admitted now. */
static enum step admitted(struct admit_job *j, const char *job_id, int throttled, int degraded)
{
    observe_admission(degraded ? "degraded" : throttled ? "throttled" : "admitted");
    admission_headers(j);
    accepted_or_replayed(j->req, job_id, throttled, degraded, 0);
    return STEP_DONE;
}

/* Answers what one script reply allows without waiting: STEP_DONE when the
 * request is answered, STEP_WORK when the outcome (kept in j) needs
 * PostgreSQL or a job's view first (outcome_work). */
static enum step outcome_answer(struct admit_job *j, const cJSON *r)
{
    struct request *req = j->req;
    const char *st = gate_reply_status(r), *s = cJSON_GetStringValue(r);
    struct err e;

    /* The 'ok' of a caller the gateway admitted itself is one string,
     * "<job id><throttled><degraded>" (admit.lua): nothing to record. */
    if (s != NULL && strlen(s) == CRYPTO_UUID_LEN + 1) {
        char id[CRYPTO_UUID_LEN];
        memcpy(id, s, CRYPTO_UUID_LEN - 1);
        id[CRYPTO_UUID_LEN - 1] = '\0';
        return admitted(j, id, s[CRYPTO_UUID_LEN - 1] == '1', s[CRYPTO_UUID_LEN] == '1');
    }

    j->replayed = strcmp(st, "replay_cached") == 0;
    if (strcmp(st, "ok") == 0 || strcmp(st, "cached") == 0 || strcmp(st, "replay") == 0 ||
        strcmp(st, "conflict") == 0 || strcmp(st, "queue_full") == 0 || j->replayed)
        admission_seen(j, r);
    if (strcmp(st, "ok") == 0)
        return admitted(j, gate_reply_str(r, 1), gate_reply_num(r, 5) != 0,
                        gate_reply_num(r, 6) != 0);
    if (strcmp(st, "queue_full") == 0) {
        /* The stream is at CODEINSIGHT_QUEUE_MAX: its workers are down or
         * far behind; nothing was queued, nothing reserved. */
        admission_headers(j);
        observe_admission("queue_full");
        respond_header(req, "Retry-After", "30");
        err_set(&e, ERR_QUEUE_FULL, "the %s queue is full (%ld jobs): try again later",
                gate_reply_str(r, 1), req->gw->cfg->queue_max);
        respond_error(req, &e);
        return STEP_DONE;
    }
    if (strcmp(st, "replay") == 0 || strcmp(st, "conflict") == 0) {
        admission_headers(j);
        if (st[0] == 'c') {
            err_set(&e, ERR_IDEMPOTENCY_KEY_REUSED,
                    "this Idempotency-Key was used with a different body");
            respond_error(req, &e);
            return STEP_DONE;
        }
        observe_admission("replayed");
        accepted_or_replayed(req, gate_reply_str(r, 1), gate_reply_num(r, 5) != 0,
                             gate_reply_num(r, 6) != 0, 1);
        return STEP_DONE;
    }
    if (strcmp(st, "revoked") == 0)
        idc_forget(req->gw->idents, j->id.cache_key);
    j->pending = strcmp(st, "cached") == 0 || j->replayed ? PENDING_CACHED
                 : strcmp(st, "miss") == 0                ? PENDING_MISS
                 : strcmp(st, "need_budget") == 0         ? PENDING_NEED_BUDGET
                                                          : PENDING_NONE;
    if (j->pending != PENDING_NONE) {
        snprintf(j->pending_x, sizeof j->pending_x, "%s", gate_reply_str(r, 1));
        if (j->pending == PENDING_CACHED)
            snprintf(j->caller, sizeof j->caller, "%s", gate_reply_str(r, 9));
        return STEP_WORK;
    }
    if (gate_refusal_or_respond(req, &j->id, r))
        return STEP_DONE;
    if (strcmp(st, "error") == 0) {
        /* This admission failed inside the script; the batch's others stand. */
        err_set(&e, ERR_REDIS_UNAVAILABLE, "the queue refused the job: %s", gate_reply_str(r, 1));
        gate_respond_error(req, &e);
        return STEP_DONE;
    }
    err_set(&e, ERR_INTERNAL, "unexpected admission reply");
    respond_error(req, &e);
    return STEP_DONE;
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

/* The caller's own copy of another user's finished job src, whose view
 * is the caller's answer (the cache is shared: shared_hit.h); NULL, logged, when
 * it cannot be made: the submission is then admitted as a miss. */
static cJSON *copy_for_caller(struct admit_job *j, const char *src, char copy[CRYPTO_UUID_LEN])
{
    struct err e;
    cJSON *view = NULL;

    if (shared_hit_copy(j->req, src, j->caller, j->r.repo_id, copy, &e) == ERR_OK)
        view = finished_job(j->req, copy);
    else if (e.code != ERR_JOB_NOT_FOUND) {
        struct log_line l;
        log_begin(&l, LOG_WARN, "shared_hit_copy_failed");
        log_str(&l, "request_id", j->req->request_id);
        log_errfields(&l, &e);
        log_end(&l);
    }
    return view;
}

/* Tokens already charged this month, from the durable ledger. */
static int ledger_floor(struct admit_job *j, struct err *e)
{
    struct db *db = gateway_db(j->req->gw, e);
    int64_t used;
    int rc;

    if (db == NULL)
        return e->code;
    if ((rc = budget_ledger_used(db, j->pending_x, j->month, &used, e)) == ERR_OK)
        decimal_str(j->floor, used);
    return rc;
}

/* The waiting part of a STEP_WORK outcome: STEP_DONE when answered,
 * STEP_AGAIN when the script must run again (cache or ledger filled, or a
 * stale result-cache entry to skip). */
static enum step outcome_work(struct admit_job *j)
{
    struct request *req = j->req;
    struct err e;
    char poll[80];

    if (j->pending == PENDING_CACHED) {
        cJSON *view = finished_job(req, j->pending_x);
        const char *owner = json_str(view, "user_id");
        char copy[CRYPTO_UUID_LEN];
        const char *id = j->pending_x;

        /* Only a shared cache holds other users' jobs: the caller gets a
         * copy of their own. */
        if (view != NULL && (owner == NULL || j->caller[0] == '\0' ||
                             strcmp(owner, j->caller) != 0)) {
            cJSON_Delete(view);
            view = j->caller[0] != '\0' ? copy_for_caller(j, j->pending_x, copy) : NULL;
            id = copy;
        }
        if (view == NULL) {
            /* The pointed-at job is gone: admit normally this time. */
            j->skip_cache = 1;
            return STEP_AGAIN;
        }
        admission_headers(j);
        snprintf(poll, sizeof poll, "/job/%s", id);
        respond_header(req, "Content-Location", poll);
        respond_header(req, "X-Cache", "hit");
        if (j->replayed)
            respond_header(req, "Idempotent-Replayed", "true");
        observe_admission(j->replayed ? "replayed" : "cached");
        respond_json(req, 200, view);
        return STEP_DONE;
    }
    if (j->pending == PENDING_MISS) {
        if (auth_fill_cache(req, &j->id, &e) == ERR_OK)
            return STEP_AGAIN;
    } else if (ledger_floor(j, &e) == ERR_OK) {
        return STEP_AGAIN;
    }
    gate_respond_error(req, &e);
    return STEP_DONE;
}

/* Admission from where j stands, on a thread that may wait: the rest of
 * the outcome's work, then script runs until one settles it. */
static void admit_waiting(struct admit_job *j)
{
    enum step s = j->pending != PENDING_NONE ? outcome_work(j) : STEP_AGAIN;
    struct err e;

    while (s == STEP_AGAIN && j->attempts < ADMIT_ATTEMPTS) {
        struct kv *kv = gateway_kv(j->req->gw, &e);
        cJSON *replies = NULL;

        j->pending = PENDING_NONE;
        if (kv == NULL || admit_call(kv, &j, 1, &replies, &e) != ERR_OK) {
            gate_respond_error(j->req, &e);
            return;
        }
        s = outcome_answer(j, cJSON_GetArrayItem(replies, 0));
        cJSON_Delete(replies);
        if (s == STEP_WORK)
            s = outcome_work(j);
    }
    if (s == STEP_AGAIN) {
        err_set(&e, ERR_INTERNAL, "admission did not settle");
        respond_error(j->req, &e);
    }
}

/* The request is answered: frees j and gives the connection back. */
static void admit_finish(struct admit_job *j)
{
    void *conn = j->req->conn;

    job_free(j);
    server_resume(conn);
}

/* On a waiting thread. */
static void admit_continue(void *arg)
{
    struct admit_job *j = arg;

    admit_waiting(j);
    admit_finish(j);
}

/* On an admission thread: one script call for the batch, then each
 * admission answered, or continued on a waiting thread. */
static void admit_batch(void *ctx, void **args, int n)
{
    struct gateway *gw = ctx;
    struct admit_job **jobs = (struct admit_job **)args;
    struct kv *kv;
    cJSON *replies = NULL;
    struct err e;
    int rc;

    kv = gateway_kv(gw, &e);
    rc = kv != NULL ? admit_call(kv, jobs, n, &replies, &e) : (int)e.code;
    for (int i = 0; i < n; i++) {
        struct admit_job *j = jobs[i];
        if (rc != ERR_OK) {
            gate_respond_error(j->req, &e);
        } else if (outcome_answer(j, cJSON_GetArrayItem(replies, i)) == STEP_WORK) {
            if (offload_submit(gw->waiters, admit_continue, j) == 0)
                continue;
            server_respond_busy(j->req);
        }
        admit_finish(j);
    }
    cJSON_Delete(replies);
}

struct offload *admit_pool_new(struct gateway *gw, struct err *e)
{
    return offload_new_batched(ADMIT_THREADS, (int)gw->cfg->http_wait_queue, ADMIT_BATCH_MAX,
                               admit_batch, gw, e);
}

void admit_submit(struct request *req, const struct identity *id, struct review_request *r,
                  const char *idem)
{
    struct admit_job *j = calloc(1, sizeof *j);
    struct err e;

    if (j == NULL) {
        review_request_cleanup(r);
        err_set(&e, ERR_INTERNAL, "out of memory");
        respond_error(req, &e);
        return;
    }
    j->req = req;
    j->r = *r;
    memset(r, 0, sizeof *r);
    j->id = *id;
    if (job_args(j, idem) != 0) {
        job_free(j);
        err_set(&e, ERR_INTERNAL, "out of memory");
        respond_error(req, &e);
        return;
    }
    if (server_hand_over(req, req->gw->admitter, NULL, j) != 0)
        job_free(j);
}
