/* jobs.c - GET /job/:id and GET /jobs: the caller's own jobs only, from the
 * Redis hot copy, else from PostgreSQL. */
#include "gateway/handlers.h"
#include "gateway/jobs.h"
#include "gateway/paging.h"

#include "common/config.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/db.h"
#include "common/err.h"
#include "common/job.h"
#include "common/kv.h"
#include "common/log.h"
#include "gateway/auth.h"
#include "gateway/export.h"
#include "gateway/gate.h"
#include "gateway/gateway.h"
#include "gateway/request.h"
#include "gateway/respond.h"
#include "gateway/routes.h"
#include "gateway/view_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JOBS_LIMIT_DEFAULT 20
#define JOBS_LIMIT_MAX 100
/* Recent job ids read from the caller's Redis index per batch. */
#define JOBS_RECENT_SCAN 200
/* Ids of that index one page reads at most (each costs a read of the job's
 * hot copy): a filter that skips more ends the page at the last id read,
 * and next_cursor continues after it. A multiple of JOBS_RECENT_SCAN. */
#define JOBS_SCAN_MAX (5 * JOBS_RECENT_SCAN)

/* Returns the view (owns), NULL when absent; ERR_REDIS_UNAVAILABLE in e when
 * Redis could not be asked. */
static cJSON *job_from_redis(struct request *req, const char *id, struct err *e)
{
    struct kv *kv;
    cJSON *flat = NULL, *view;

    if (req->prefetched != NULL) {
        /* Read with the gate, in the same round trip. */
        flat = req->prefetched;
        req->prefetched = NULL;
    } else {
        if ((kv = gateway_kv(req->gw, e)) == NULL)
            return NULL;
        if (job_read(kv, id, &flat, e) != ERR_OK)
            return NULL;
    }
    view = job_view_from_hash(id, flat);
    cJSON_Delete(flat);
    return view;
}

static cJSON *query_json(struct request *req, const char *sql, int n, const char *const *params,
                         struct err *e)
{
    struct db *db = gateway_db(req->gw, e);
    cJSON *v = NULL;

    if (db != NULL)
        db_query_json(db, sql, n, params, &v, e);
    return v;
}

static int owned_by(const cJSON *view, const char *user_id)
{
    const char *owner = json_str(view, "user_id");
    return owner != NULL && strcmp(owner, user_id) == 0;
}

/* 1 when a request thread must not read PostgreSQL itself (a poll, an
 * event stream): its threads wait on nothing slower than Redis
 * (docs/operations.md, "Request threads"), so the handler runs again on a
 * waiting thread. */
static int poll_defers(const struct request *req)
{
    return !req->waits && req->route != NULL && (req->route->flags & ROUTE_DB_LATER) &&
           req->gw->waiters != NULL;
}

/* jobs_view, and *hot (when not NULL) 1 when the view is Redis' hot copy;
 * *later (when not NULL) 1, and NULL returned, when the view is to be read
 * from PostgreSQL on a waiting thread (poll_defers). */
static cJSON *view_of(struct request *req, const char *id, int *hot, int *later,
                      struct err *e)
{
    struct err redis_e;
    cJSON *view;

    err_clear(e);
    err_clear(&redis_e);
    if (later != NULL)
        *later = 0;
    view = job_from_redis(req, id, &redis_e);
    if (hot != NULL)
        *hot = view != NULL;
    if (view == NULL && later != NULL && poll_defers(req)) {
        *later = 1;
        return NULL;
    }
    if (view == NULL) {
        if (redis_e.code != ERR_OK) {
            /* Reads survive a Redis outage through the record of truth. */
            struct log_line l;
            log_begin(&l, LOG_WARN, "job_read_fallback");
            log_str(&l, "request_id", req->request_id);
            log_errfields(&l, &redis_e);
            log_end(&l);
        }
        view = query_json(req, JOB_SQL_GET, 1, (const char *[]){id}, e);
    }
    return view;
}

cJSON *jobs_view(struct request *req, const char *id, struct err *e)
{
    return view_of(req, id, NULL, NULL, e);
}

static cJSON *view_owned(struct request *req, const char *id, int *hot, int *later,
                         struct err *e)
{
    cJSON *view = view_of(req, id, hot, later, e);

    if (view != NULL && !owned_by(view, req->who.user_id)) {
        /* Someone else's job looks exactly like no job. */
        cJSON_Delete(view);
        view = NULL;
    }
    return view;
}

cJSON *jobs_view_owned(struct request *req, const char *id, int *hot, struct err *e)
{
    return view_owned(req, id, hot, NULL, e);
}

int jobs_id_or_respond(struct request *req, const char *id)
{
    struct err e;

    if (crypto_uuid_valid(id))
        return 1;
    err_set(&e, ERR_JOB_NOT_FOUND, "no such job: job ids are UUIDs");
    respond_error(req, &e);
    return 0;
}

cJSON *jobs_view_or_respond(struct request *req, const char *id, int *hot)
{
    struct err e;
    int later;
    cJSON *view = view_owned(req, id, hot, &later, &e);

    if (later) {
        server_rerun_waiting(req);
        return NULL;
    }
    if (view == NULL) {
        if (e.code == ERR_OK)
            err_set(&e, ERR_JOB_NOT_FOUND, "no job %s", id);
        gate_respond_error(req, &e);
    }
    return view;
}

/* Answers from the finished-job cache; 1 when it answered. Someone else's
 * cached job is left to the normal path, which answers 404. */
static int job_from_view_cache(struct request *req, const char *id, const char *user_id)
{
    char owner[CRYPTO_UUID_LEN], *text, tag[ETAG_LEN];
    size_t len;

    if (view_cache_get(req->gw->views, id, clock_now_ms(), &text, &len, owner, sizeof owner,
                       tag) != 1)
        return 0;
    if (strcmp(owner, user_id) != 0) {
        free(text);
        return 0;
    }
    respond_tagged(req, "application/json", text, tag);
    return 1;
}

void handle_job_get(struct request *req)
{
    const char *id = req->param;    /* lower-cased by the server (ROUTE_JOB) */
    const struct identity *who = &req->who;
    struct err e;
    cJSON *view;
    int format = export_format_parse(request_query(req, "format"));

    err_clear(&e);
    if (!jobs_id_or_respond(req, id))
        return;
    if (format < 0) {
        err_set_field(&e, ERR_INVALID_FIELD_VALUE, "format", "format is json, sarif or rdjson");
        respond_error(req, &e);
        return;
    }
    if (format == EXPORT_JSON && job_from_view_cache(req, id, who->user_id))
        return;
    if ((view = jobs_view_or_respond(req, id, NULL)) == NULL)
        return;
    if (format == EXPORT_JSON) {
        char *text = cJSON_PrintUnformatted(view), tag[ETAG_LEN] = "";
        /* A finished job's view is rendered once, with its tag; later
         * polls are answered from memory. */
        if (text != NULL) {
            etag_of(text, strlen(text), tag);
            if (job_view_finished(view))
                view_cache_put(req->gw->views, id, who->user_id, text, strlen(text), tag,
                               clock_now_ms());
        }
        cJSON_Delete(view);
        respond_tagged(req, "application/json", text, tag);
        return;
    }
    export_respond(req, view, (enum export_format)format, req->gw->cfg->info_url);
}

/* ---- GET /jobs ---- */

static int matches(const cJSON *view, const char *status, const char *type)
{
    const char *s = json_str(view, "status"), *t = json_str(view, "type");
    return (status == NULL || (s && strcmp(s, status) == 0)) &&
           (type == NULL || (t && strcmp(t, type) == 0));
}

/* A job of the merge, and where it came from: Redis' before PostgreSQL's. */
struct ranked {
    cJSON *job;
    int order;
};

/* Newest id first; for one id, the earlier source first (qsort is not
 * stable, so the order says which copy wins). */
static int by_id_desc(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    const char *ix = json_str(x->job, "job_id"), *iy = json_str(y->job, "job_id");
    int c = strcmp(iy ? iy : "", ix ? ix : "");

    return c != 0 ? c : (x->order > y->order) - (x->order < y->order);
}

/* How far recent_jobs read the caller's Redis index. */
struct scan {
    int capped;                     /* stopped at JOBS_SCAN_MAX, more ids may follow */
    char last[CRYPTO_UUID_LEN];     /* the last id read, when capped */
    struct err cut;                 /* set when Redis failed: the scan ended early */
};

/* One page's scan of the index, as recent_jobs goes. */
struct scan_state {
    const char *user_id, *status, *type;    /* borrowed for the request */
    long want;                      /* views the page wants */
    long matched;                   /* views added so far */
    int depth;                      /* hot copies the next pipelined read asks for */
    char from[CRYPTO_UUID_LEN];     /* the last id looked at, "" before the first */
    struct err cut;                 /* why Redis ended the scan, when it did */
};

_Static_assert(JOBS_RECENT_SCAN <= KV_PIPELINE_MAX, "a batch of ids is one job_read_many");

/* Looks at n ids of the index (newest first) with their hot copies, read in
 * one round trip: adds the views that are the caller's and match the
 * filters to `into`, in order, until the page has st->want. Returns 1 when
 * the scan is to end (the page is full, or Redis failed), else 0. An id
 * whose hot copy is gone (expired, or its read refused) is skipped, as
 * job_from_redis' NULL was: the page has the job from PostgreSQL when it
 * was persisted. */
static int scan_ids(struct kv *kv, struct scan_state *st, const char *const *ids, int n,
                    cJSON *into)
{
    cJSON *flats[JOBS_RECENT_SCAN];
    struct err e;
    int rc, full = 0;

    err_clear(&e);
    rc = job_read_many(kv, n, ids, flats, &e);
    for (int i = 0; i < n; i++) {
        cJSON *view = NULL;

        if (!full) {
            snprintf(st->from, sizeof st->from, "%s", ids[i]);
            if (flats[i] != NULL)
                view = job_view_from_hash(ids[i], flats[i]);
            if (view != NULL && owned_by(view, st->user_id) &&
                matches(view, st->status, st->type)) {
                cJSON_AddItemToArray(into, view);
                st->matched++;
            } else {
                cJSON_Delete(view);
            }
            full = st->matched >= st->want;
        }
        cJSON_Delete(flats[i]);
    }
    /* The next read asks for twice as many: see recent_jobs. */
    st->depth = st->depth < JOBS_RECENT_SCAN / 2 ? 2 * st->depth : JOBS_RECENT_SCAN;
    if (rc == ERR_REDIS_UNAVAILABLE)
        st->cut = e;
    return full || rc == ERR_REDIS_UNAVAILABLE;
}

/* Recent jobs from the caller's Redis index (queued ones exist only there),
 * newest first from cursor, matching the filters, into `into`. Reads in
 * batches until `want` matched, the index ends, its ids go below oldest
 * (when not NULL: older ones cannot make the page), or JOBS_SCAN_MAX ids
 * were read (sc->capped).
 *
 * The hot copies of a batch's ids are read pipelined: the first read of a
 * page asks for `want` of them (a page without a filter rarely needs more),
 * each later one for twice as many as the one before, up to a batch. So a
 * filter that skips most ids costs a few round trips a batch instead of
 * one an id, and a page that fills early reads at most about twice the
 * hot copies it shows. */
static void recent_jobs(struct request *req, const char *user_id, const char *cursor,
                        const char *status, const char *type, long want, const char *oldest,
                        cJSON *into, struct scan *sc)
{
    struct scan_state st = {.user_id = user_id, .status = status, .type = type, .want = want};
    struct kv *kv;
    char index[64], max[48], count[16];
    int scanned = 0;

    sc->capped = 0;
    sc->last[0] = '\0';
    err_clear(&sc->cut);
    err_clear(&st.cut);
    /* One connection for the whole scan: when it breaks, the scan ends. */
    if ((kv = gateway_kv(req->gw, &sc->cut)) == NULL)
        return;
    st.depth = want < JOBS_RECENT_SCAN ? (int)want : JOBS_RECENT_SCAN;
    snprintf(index, sizeof index, "jobs:%s", user_id);
    snprintf(st.from, sizeof st.from, "%s", cursor ? cursor : "");
    snprintf(count, sizeof count, "%d", JOBS_RECENT_SCAN);
    while (scanned < JOBS_SCAN_MAX) {
        const char *ids[JOBS_RECENT_SCAN];      /* borrowed from batch */
        cJSON *batch = NULL, *it;
        int n, valid = 0, below = 0, stop = 0;

        snprintf(max, sizeof max, "%s%s", st.from[0] ? "(" : "+", st.from);
        if (kv_call(kv, 7, (const char *[]){"ZREVRANGEBYLEX", index, max, "-", "LIMIT", "0",
                                            count},
                    NULL, &batch, &sc->cut) != ERR_OK)
            return;
        n = cJSON_GetArraySize(batch);
        /* The ids the page may show: job ids, down to oldest. LIMIT keeps
         * them within ids[]. */
        cJSON_ArrayForEach(it, batch) {
            if (valid == JOBS_RECENT_SCAN)
                break;
            if (!cJSON_IsString(it) || !crypto_uuid_valid(it->valuestring))
                continue;
            if (oldest != NULL && strcmp(it->valuestring, oldest) < 0) {
                below = 1;
                break;
            }
            ids[valid++] = it->valuestring;
        }
        for (int i = 0, k; i < valid && !stop; i += k) {
            k = valid - i < st.depth ? valid - i : st.depth;
            stop = scan_ids(kv, &st, ids + i, k, into);
        }
        cJSON_Delete(batch);
        scanned += n;
        if (st.cut.code != ERR_OK) {
            sc->cut = st.cut;
            return;
        }
        /* A batch of no job ids would not move `from` (admit.lua writes
         * only job ids: not expected). */
        if (stop || below || n < JOBS_RECENT_SCAN || valid == 0)
            return;
    }
    sc->capped = 1;
    snprintf(sc->last, sizeof sc->last, "%s", st.from);
}

void handle_jobs_list(struct request *req)
{
    const struct identity *who = &req->who;
    struct err e;
    const char *status = request_query(req, "status"), *type = request_query(req, "type");
    const char *cursor;
    char lim[24];
    long limit;
    cJSON *pg, *all, *page;
    struct ranked *items = NULL;
    const char *oldest = NULL;
    struct scan sc;
    int n, taken = 0;

    if (paging_parse_or_respond(req, JOBS_LIMIT_DEFAULT, JOBS_LIMIT_MAX, &limit, &cursor) != 0)
        return;
    if (status != NULL && strcmp(status, "queued") && strcmp(status, "running") &&
        strcmp(status, "done") && strcmp(status, "failed") && strcmp(status, "cancelled")) {
        err_set_field(&e, ERR_INVALID_FIELD_VALUE, "status",
                      "status is queued, running, done, failed or cancelled");
        respond_error(req, &e);
        return;
    }
    if (type != NULL && job_type_parse(type) < 0) {
        err_set_field(&e, ERR_INVALID_FIELD_VALUE, "type",
                      "type is review, debug, architecture or stress");
        respond_error(req, &e);
        return;
    }
    snprintf(lim, sizeof lim, "%ld", limit + 1);
    err_clear(&e);
    pg = query_json(req, "SELECT ci_jobs_page($1::uuid, $2::uuid, $3, $4, $5::integer)", 5,
                    (const char *[]){who->user_id, cursor, status, type, lim}, &e);
    if (pg == NULL && e.code != ERR_OK) {
        gate_respond_error(req, &e);
        return;
    }
    /* PostgreSQL filled a page: Redis ids older than its last row cannot
     * make it. */
    if (cJSON_GetArraySize(pg) > limit)
        oldest = json_str(cJSON_GetArrayItem(pg, cJSON_GetArraySize(pg) - 1), "job_id");
    all = cJSON_CreateArray();
    recent_jobs(req, who->user_id, cursor, status, type, limit + 1, oldest, all, &sc);
    if (sc.cut.code != ERR_OK) {
        /* The page holds PostgreSQL's rows and what was read before: a job
         * only Redis holds (queued, running) may be missing from it. */
        struct log_line l;
        log_begin(&l, LOG_WARN, "jobs_list_partial");
        log_str(&l, "request_id", req->request_id);
        log_int(&l, "hot_copies_listed", cJSON_GetArraySize(all));
        log_errfields(&l, &sc.cut);
        log_end(&l);
    }
    /* Merge: the hot copy wins over the row; newest first; no duplicates.
     * When the scan stopped at its cap, nothing older than the last id it
     * read is shown: a job there only Redis holds was not looked at. */
    n = cJSON_GetArraySize(all) + cJSON_GetArraySize(pg);
    items = calloc((size_t)n + 1, sizeof *items);
    page = cJSON_CreateArray();
    if (items != NULL) {
        int k = 0;
        cJSON *it;
        for (; all->child != NULL; k++)
            items[k] = (struct ranked){cJSON_DetachItemViaPointer(all, all->child), k};
        for (; pg != NULL && pg->child != NULL; k++)
            items[k] = (struct ranked){cJSON_DetachItemViaPointer(pg, pg->child), k};
        char prev[CRYPTO_UUID_LEN] = "";
        qsort(items, (size_t)k, sizeof *items, by_id_desc);
        for (int i = 0; i < k; i++) {
            const char *jid;
            it = items[i].job;
            jid = json_str(it, "job_id");
            if (taken < limit + 1 && jid != NULL && strcmp(jid, prev) != 0 &&
                !(sc.capped && strcmp(jid, sc.last) < 0)) {
                snprintf(prev, sizeof prev, "%s", jid);
                cJSON_AddItemToArray(page, it);
                taken++;
            } else {
                cJSON_Delete(it);
            }
        }
    }
    free(items);
    cJSON_Delete(all);
    cJSON_Delete(pg);
    respond_json(req, 200,
                 paging_body("jobs", page, limit, "job_id", sc.capped ? sc.last : NULL));
}
