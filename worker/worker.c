/* worker.c - the consumer: joins the group, reads as many entries as there
 * is room for, hands them to the pipeline, and drains on shutdown. */
#include "worker/worker.h"

#include "common/clock.h"
#include "common/config.h"
#include "common/crypto.h"
#include "common/db_async.h"
#include "common/err.h"
#include "common/job.h"
#include "common/kv_async.h"
#include "common/log.h"
#include "common/target_policy.h"
#include "common/loop.h"
#include "common/llm.h"
#include "common/metrics.h"
#include "common/metrics_http.h"
#include "common/metrics_table.h"
#include "common/migrate.h"
#include "worker/channel_watch.h"
#include "worker/lint.h"
#include "worker/prompt.h"
#include "worker/pipeline.h"
#include "worker/launcher.h"
#include "worker/mongo_sink.h"
#include "worker/sandbox.h"
#include "worker/scratch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Entries asked for in one XREADGROUP, at most. */
#define READ_COUNT_MAX 64
#define TICK_MS 250
/* How often a worker removes the group's consumers that hold nothing and
 * have been idle longer than CONSUMER_IDLE_MAX_MS (consumer_prune.lua): those
 * of stopped or dead workers, whose entries were reclaimed. */
#define CONSUMER_PRUNE_EVERY_MS (60 * 1000)
#define CONSUMER_IDLE_MAX_MS (60 * 60 * 1000)

static void read_more(struct worker *w);

/* Removes consumers holding nothing from the group: self ("" for none), and
 * any other idle past CONSUMER_IDLE_MAX_MS. Returns ERR_OK when sent. */
static int prune_consumers(struct worker *w, const char *self, kv_async_cb *cb)
{
    char idle[24];
    struct err e;

    snprintf(idle, sizeof idle, "%d", CONSUMER_IDLE_MAX_MS);
    return kv_async_eval(w->kv, &job_script_consumer_prune, 1, 4,
                         (const char *[]){w->stream, w->group, self, idle}, NULL, cb, w, &e);
}

static void on_left_group(void *arg, cJSON *reply, const struct err *e)
{
    struct worker *w = arg;

    (void)reply;
    (void)e;
    w->leaving = 2;
    loop_stop(w->loop);
}

/* Time the replies of job_release.lua are waited for past the deadline. */
#define RELEASE_WAIT_MS 1000

static void check_drained(struct worker *w);

static void on_released(void *arg, cJSON *reply, const struct err *e)
{
    struct worker *w = arg;

    (void)reply;
    (void)e;
    w->releasing--;
    check_drained(w);
}

/* Stops the loop once the jobs are done and no read is outstanding, the
 * consumer first removed from the group (it holds nothing then), or at
 * the deadline, once the jobs left pending have given their deliveries
 * back (RELEASE_WAIT_MS at most). */
static void check_drained(struct worker *w)
{
    int64_t now = clock_mono_ms();
    /* Past the deadline of a drain (0: worker_cleanup, which sends nothing). */
    int late = w->stop_deadline_ms > 0 && w->leaving != 2;

    if (!w->stopping)
        return;
    if (now >= w->stop_deadline_ms || w->leaving == 2) {
        if (late && w->release_until_ms == 0) {
            w->release_until_ms = now + RELEASE_WAIT_MS;
            if (w->kv != NULL && kv_async_connected(w->kv))
                w->releasing = pipeline_release_all(w, on_released);
        }
        if (late && w->releasing > 0 && now < w->release_until_ms)
            return;
        loop_stop(w->loop);
        return;
    }
    if (w->inflight != 0 || w->reading || w->leaving == 1)
        return;
    if (w->kv != NULL && kv_async_connected(w->kv) &&
        prune_consumers(w, w->consumer, on_left_group) == ERR_OK) {
        w->leaving = 1;
        return;
    }
    loop_stop(w->loop);
}

void worker_job_released(struct worker *w, int ok)
{
    w->inflight--;
    metrics_set(MET_JOBS_IN_FLIGHT, "", w->inflight);
    if (ok)
        w->jobs_done++;
    else
        w->jobs_failed++;
    if (w->stopping)
        check_drained(w);
    else
        read_more(w);
}

static void on_group(void *arg, cJSON *reply, const struct err *e)
{
    struct worker *w = arg;

    (void)reply;
    if (e->code == ERR_OK || (e->code == ERR_PROTOCOL && strstr(e->msg, "BUSYGROUP"))) {
        log_streak_ok(&w->group_streak, "consumer_group_recovered");
        w->group_ready = 1;
        read_more(w);
        return;
    }
    /* Retried with each tick (ensure_group). */
    log_streak_fail(&w->group_streak, "consumer_group_failed", e);
}

static void on_answers_published(void *arg, cJSON *reply, const struct err *e)
{
    struct worker *w = arg;

    (void)reply;
    if (e->code == ERR_OK) {
        w->answers_published = 1;
        log_streak_ok(&w->answers_streak, "answers_publish_recovered");
    } else {
        /* Retried with each heartbeat. */
        log_streak_fail(&w->answers_streak, "answers_publish_failed", e);
    }
}

/* Says which answers this pool gives now (answer_version.h): before the
 * group is read, and again with each heartbeat while the worker runs. The
 * key holds the versions of the worker that wrote it last: while two
 * releases (or settings) overlap in a pool it goes back and forth between
 * theirs, each an answer a live worker gives; once only one is left, its
 * versions are there within a heartbeat, even where a worker of the other
 * started after it (an old worker restarted during a rolling deployment),
 * so no result the pool no longer gives is served for long. */
static void answers_publish(struct worker *w)
{
    const char *argv[] = {"SET", w->answers_key, w->answers_all};
    struct err e;

    kv_async_call(w->kv, 3, argv, NULL, on_answers_published, w, &e);
}

/* Group from id 0: entries queued before any worker existed are delivered. */
static void ensure_group(struct worker *w)
{
    struct err e;

    answers_publish(w);
    if (kv_async_call(w->kv, 6,
                      (const char *[]){"XGROUP", "CREATE", w->stream, w->group, "0", "MKSTREAM"},
                      NULL, on_group, w, &e) != ERR_OK)
        log_event(LOG_DEBUG, "consumer_group_deferred", "detail", e.msg);
}

/* reply: [[stream, [[id, [field, value, ...]], ...]]] or null on timeout. */
static void on_read(void *arg, cJSON *reply, const struct err *e)
{
    struct worker *w = arg;
    const cJSON *s, *entry;

    w->reading = 0;
    if (e->code != ERR_OK) {
        if (e->code == ERR_PROTOCOL && strstr(e->msg, "NOGROUP") != NULL) {
            /* Redis lost the stream or its group: restarted without
             * persistence, failed over to an empty replica, or deleted. */
            log_event(LOG_WARN, "consumer_group_missing", "stream", w->stream);
            w->group_ready = 0;
            ensure_group(w);
        } else {
            /* The tick retries (4 a second) for as long as Redis refuses
             * (LOADING, BUSY, NOREPLICAS, a demoted master on each new
             * connection): one line when that starts, one when it ends. */
            log_streak_fail(&w->read_streak, "consumer_read_failed", e);
        }
        /* The tick timer retries. */
        check_drained(w);
        return;
    }
    log_streak_ok(&w->read_streak, "consumer_read_recovered");
    cJSON_ArrayForEach(s, reply) {
        const cJSON *entries = cJSON_GetArrayItem(s, 1);
        cJSON_ArrayForEach(entry, entries) {
            const cJSON *id = cJSON_GetArrayItem(entry, 0);
            const cJSON *fields = cJSON_GetArrayItem(entry, 1);
            if (cJSON_IsString(id))
                pipeline_begin(w, id->valuestring, fields);
        }
    }
    if (w->stopping)
        check_drained(w);
    else
        read_more(w);
}

static void read_more(struct worker *w)
{
    char count[16], block[16];
    long room = w->concurrency - w->inflight;
    struct err e;

    /* No job is taken while PostgreSQL is away (at start, or in an
     * outage): it could not be recorded; it waits in the stream, and the
     * tick reads again once db_async has reconnected. */
    if (w->stopping || w->reading || !w->group_ready || room <= 0 ||
        !db_async_connected(w->db))
        return;
    snprintf(count, sizeof count, "%ld", room < READ_COUNT_MAX ? room : READ_COUNT_MAX);
    snprintf(block, sizeof block, "%ld", w->cfg->read_block_ms);
    if (kv_async_call(w->kv_read, 11,
                      (const char *[]){"XREADGROUP", "GROUP", w->group, w->consumer, "COUNT",
                                       count, "BLOCK", block, "STREAMS", w->stream, ">"},
                      NULL, on_read, w, &e) != ERR_OK)
        return;     /* not connected yet: the tick timer retries */
    w->reading = 1;
}

/* Entries another consumer reclaimed from this one: the jobs go on here,
 * and whichever result is saved second gives way (job_finish.lua,
 * ci_job_save), but an operator should know this worker was cut off. */
static void on_heartbeat(void *arg, cJSON *reply, const struct err *e)
{
    struct worker *w = arg;
    int n = cJSON_GetArraySize(reply);

    if (e->code != ERR_OK || n == 0)
        return;
    {
        struct log_line l;
        log_begin(&l, LOG_WARN, "entries_taken_over");
        log_str(&l, "stream", w->stream);
        log_int(&l, "count", n);
        log_str(&l, "first", cJSON_IsString(reply->child) ? reply->child->valuestring : "");
        log_end(&l);
    }
}

/* Entries this worker holds are kept fresh (job_heartbeat.lua resets their
 * idle time) so no live worker reclaims them, and their jobs' hashes their
 * TTL; HB_MAX entries a call. */
static void heartbeat(struct worker *w)
{
    enum { HB_MAX = 512 };
    const char **ids, *argv[2 * HB_MAX + 4];
    char ttl[24];
    struct err e;
    int k;

    if (w->inflight <= 0 || (ids = malloc(2 * (size_t)w->inflight * sizeof *ids)) == NULL)
        return;
    k = pipeline_held(w, ids, ids + w->inflight, (int)w->inflight);
    snprintf(ttl, sizeof ttl, "%ld", w->cfg->job_ttl_s);
    for (int at = 0; at < k; at += HB_MAX) {
        int n = 0;
        argv[n++] = w->stream;
        argv[n++] = w->group;
        argv[n++] = w->consumer;
        argv[n++] = ttl;
        for (int i = at; i < k && i < at + HB_MAX; i++) {
            argv[n++] = ids[i];
            argv[n++] = ids[w->inflight + i];
        }
        if (kv_async_eval(w->kv, &job_script_heartbeat, 1, n, argv, NULL, on_heartbeat, w,
                          &e) != ERR_OK)
            break;
    }
    free(ids);
}

/* reply: [next_cursor, [[id, fields], ...], [deleted ids]]. */
static void on_reclaimed(void *arg, cJSON *reply, const struct err *e)
{
    struct worker *w = arg;
    const cJSON *entry, *cursor;
    int n = 0;

    w->reclaiming = 0;
    if (e->code != ERR_OK)
        return;
    /* A call looks at COUNT × 10 pending entries at most: the pass goes on
     * from where this one stopped at the next tick, until it has been
     * round them all (the cursor "0-0"). */
    cursor = cJSON_GetArrayItem(reply, 0);
    if (cJSON_IsString(cursor) && strlen(cursor->valuestring) < sizeof w->reclaim_cursor &&
        strcmp(cursor->valuestring, "0-0") != 0) {
        snprintf(w->reclaim_cursor, sizeof w->reclaim_cursor, "%s", cursor->valuestring);
        w->reclaim_due = 1;
    } else {
        snprintf(w->reclaim_cursor, sizeof w->reclaim_cursor, "0-0");
    }
    cJSON_ArrayForEach(entry, cJSON_GetArrayItem(reply, 1)) {
        const cJSON *id = cJSON_GetArrayItem(entry, 0), *fields = cJSON_GetArrayItem(entry, 1);
        if (!cJSON_IsString(id) || !cJSON_IsArray(fields) || pipeline_holds(w, id->valuestring))
            continue;
        pipeline_begin(w, id->valuestring, fields);
        n++;
    }
    if (n > 0) {
        struct log_line l;
        log_begin(&l, LOG_WARN, "entries_reclaimed");
        log_str(&l, "stream", w->stream);
        log_int(&l, "count", n);
        log_end(&l);
        w->reclaimed += n;
        metrics_add(MET_RECLAIMED, "", n);
    }
}

/* Entries a dead worker left pending longer than the visibility timeout,
 * and those a draining one gave back (job_release.lua), come to a live
 * one. Returns 1 when an XAUTOCLAIM was sent. */
static int reclaim(struct worker *w)
{
    char idle[24], count[16];
    long room = w->concurrency - w->inflight;
    struct err e;

    if (w->stopping || w->reclaiming || !w->group_ready || room <= 0)
        return 0;
    snprintf(idle, sizeof idle, "%ld", w->cfg->visibility_ms);
    snprintf(count, sizeof count, "%ld", room < READ_COUNT_MAX ? room : READ_COUNT_MAX);
    if (kv_async_call(w->kv, 8,
                      (const char *[]){"XAUTOCLAIM", w->stream, w->group, w->consumer, idle,
                                       w->reclaim_cursor, "COUNT", count},
                      NULL, on_reclaimed, w, &e) != ERR_OK)
        return 0;
    w->reclaiming = 1;
    w->reclaim_due = 0;
    return 1;
}

void worker_reclaim_soon(struct worker *w)
{
    if (w->stopping)
        return;
    snprintf(w->reclaim_cursor, sizeof w->reclaim_cursor, "0-0");
    w->reclaim_due = 1;
}

/* Every second: soft-throttled jobs whose time has come go back on the stream. */
static void undefer_due(struct worker *w)
{
    char set[JOB_DEFERRED_KEY_MAX], now[24];
    struct err e;

    if (++w->ticks % (1000 / TICK_MS) != 0)
        return;
    job_deferred_set_key(w->stream, set);
    snprintf(now, sizeof now, "%lld", (long long)clock_now_ms());
    kv_async_eval(w->kv, &job_script_undefer, 2, 4, (const char *[]){set, w->stream, now, "100"},
                  NULL, NULL, NULL, &e);
}

static void on_tick(void *arg)
{
    struct worker *w = arg;

    metrics_http_beat(w->health);   /* the loop runs: GET /livez */
    metrics_set(MET_JOBS_IN_FLIGHT, "", w->inflight);

    if (kv_async_connected(w->kv)) {
        int64_t now = clock_mono_ms();
        /* A draining worker keeps its jobs fresh too: they are still its own. */
        if (now - w->last_heartbeat_ms >= w->cfg->visibility_ms / 3) {
            w->last_heartbeat_ms = now;
            heartbeat(w);
            /* A stopping worker leaves the key to those that stay. */
            if (!w->stopping && w->answers_published)
                answers_publish(w);
        }
    }
    if (!w->stopping && kv_async_connected(w->kv)) {
        int64_t now = clock_mono_ms();
        undefer_due(w);
        /* Due until one is sent (the group created, room for a job). */
        if ((w->reclaim_due || now - w->last_reclaim_ms >= w->cfg->visibility_ms / 2) &&
            reclaim(w))
            w->last_reclaim_ms = now;
        if (now - w->last_prune_ms >= CONSUMER_PRUNE_EVERY_MS) {
            w->last_prune_ms = now;
            prune_consumers(w, "", NULL);
        }
    }
    if (w->stopping) {
        check_drained(w);
        return;
    }
    if (!w->group_ready)
        ensure_group(w);
    else
        read_more(w);
}

static void on_kv_state(void *arg, int connected)
{
    struct worker *w = arg;

    if (connected && !w->group_ready)
        ensure_group(w);
}

static void on_read_state(void *arg, int connected)
{
    struct worker *w = arg;

    if (!connected)
        w->reading = 0;
    else
        read_more(w);
}

/* What workers killed outright left in $TMPDIR: their runs' directories. */
static void sweep_scratch(void)
{
    int n = scratch_sweep(SCRATCH_LINT) + scratch_sweep(SCRATCH_SANDBOX) +
            scratch_sweep(SCRATCH_PROBE);
    struct log_line l;

    if (n == 0)
        return;
    log_begin(&l, LOG_INFO, "scratch_swept");
    log_int(&l, "directories", n);
    log_end(&l);
}

/* The answer version of each task of this worker's pool, and the key they
 * are published under. Returns ERR_OK, or e set. */
static int answers_compute(struct worker *w, struct err *e)
{
    char missing[256], prompt[PROMPT_VERSION_LEN];
    const char *not_run = w->cfg->lint_sandbox == 2 ? lint_pool_unsandboxed_linters(w->lint)
                                                    : NULL;
    size_t at = 0;

    lint_pool_missing(w->lint, missing, sizeof missing);
    snprintf(w->answers_key, sizeof w->answers_key, "%s%s", JOB_ANSWERS_KEY_PREFIX, w->stream);
    for (int t = 0; t < JOB__TYPES; t++) {
        struct answer_basis b;
        if (strcmp(job_stream_for((enum job_type)t), w->stream) != 0)
            continue;
        if (prompt_set_version(w->prompts, job_type_str((enum job_type)t), prompt, sizeof prompt,
                               e) != 0)
            return e->code;
        b = (struct answer_basis){
            .task = job_type_str((enum job_type)t),
            .prompt = prompt,
            .provider = llm_provider_name(w->llm),
            .model = llm_model_name(w->llm),
            .input_max_bytes = w->cfg->input_max_bytes,
            .debug_fix_attempts = w->cfg->debug_fix_attempts,
            .linters_missing = missing,
            .linters_not_run = not_run,
            .sandbox = w->sandbox != NULL && sandbox_unavailable(w->sandbox) == NULL,
        };
        answer_version(&b, w->answers[t]);
        /* Room for every task's: JOB__TYPES * (16 digits and a space or the NUL). */
        at += (size_t)snprintf(w->answers_all + at, sizeof w->answers_all - at, "%s%s",
                               at > 0 ? " " : "", w->answers[t]);
    }
    return ERR_OK;
}

int worker_start(struct worker *w, struct loop *loop, const struct config *cfg,
                 const char *pool, struct err *e)
{
    char host[64], rnd[9];
    int heavy;

    memset(w, 0, sizeof *w);
    if (strcmp(pool, "fast") != 0 && strcmp(pool, "heavy") != 0)
        return err_set(e, ERR_CONFIG, "--pool must be fast or heavy");
    heavy = strcmp(pool, "heavy") == 0;
    w->cfg = cfg;
    w->loop = loop;
    w->pool = heavy ? "heavy" : "fast";
    w->stream = heavy ? JOB_STREAM_HEAVY : JOB_STREAM_FAST;
    w->group = heavy ? JOB_GROUP_HEAVY : JOB_GROUP_FAST;
    snprintf(w->reclaim_cursor, sizeof w->reclaim_cursor, "0-0");
    w->reclaim_due = 1;             /* the first as it starts, whatever the clock says */
    w->concurrency = cfg->worker_concurrency;
    if (w->concurrency == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        /* Reviews wait on the model: as many as calls may be in flight. */
        w->concurrency = heavy ? (cores > 0 ? cores : 2) : cfg->max_inflight;
    }
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "worker");
    host[sizeof host - 1] = '\0';
    crypto_random_hex(rnd, 4);
    snprintf(w->consumer, sizeof w->consumer, "%s-%s-%ld-%s", w->pool, host, (long)getpid(), rnd);

    if (kv_url_parse(cfg->redis_url, &w->kv_url, e) != ERR_OK)
        return ERR_CONFIG;
    sweep_scratch();
    launcher_locate(&w->launcher, SANDBOX_BWRAP);
    w->lint = lint_pool_new(loop, cfg, &w->launcher, e);
    w->tick = loop_timer_new(loop, on_tick, w);
    if (w->lint == NULL || w->tick == NULL)
        goto fail;
    if ((w->prompts = prompt_set_load(cfg->prompts_dir, e)) == NULL) {
        /* Missing or broken prompts are the operator's to fix: named as such. */
        char why[ERR_MSG_MAX];
        snprintf(why, sizeof why, "%s", e->msg);
        err_set(e, ERR_CONFIG, "CODEINSIGHT_PROMPTS_DIR: %s", why);
        goto fail;
    }
    if ((w->llm = llm_new(loop, cfg, e)) == NULL)
        goto fail;
    w->kv = kv_async_new(loop, &w->kv_url, "commands", on_kv_state, w, e);
    if (w->kv == NULL)
        goto fail;
    w->kv_read = kv_async_new(loop, &w->kv_url, "reader", on_read_state, w, e);
    if (w->kv_read == NULL)
        goto fail;
    if ((w->channel = channel_watch_new(w, e)) == NULL)
        goto fail;
    w->db = db_async_new(loop, cfg->database_url, e);
    if (w->db == NULL)
        goto fail;
    /* A database older than this build (its migrations not run) is as good
     * as none: no job is taken, each connection looks again. */
    db_async_set_check(w->db, MIGRATE_SCHEMA_SQL, migrate_schema_accept, NULL);
    if (target_policy_new(cfg->stress_allowed_hosts, &w->stress_policy, e) != ERR_OK)
        goto fail;
    if (mongo_sink_db_check(cfg->mongo_db, e) != ERR_OK)
        goto fail;
    if (cfg->mongo_url[0] != '\0' &&
        (w->history = mongo_sink_new(cfg->mongo_url, cfg->mongo_db, e)) == NULL)
        goto fail;
    /* Only the heavy pool runs submitted code, and only in the sandbox. */
    if (heavy && (w->sandbox = sandbox_new(loop, cfg, w->launcher.self_exe, NULL, e)) == NULL)
        goto fail;
    if (answers_compute(w, e) != ERR_OK)
        goto fail;
    w->model.cfg = cfg;
    w->model.llm = w->llm;
    w->model.prompts = w->prompts;
    w->model.kv = w->kv;
    loop_timer_start(w->tick, TICK_MS, TICK_MS);
    w->started = 1;
    {
        struct log_line l;
        log_begin(&l, LOG_INFO, "worker_started");
        log_str(&l, "pool", w->pool);
        log_str(&l, "stream", w->stream);
        log_str(&l, "group", w->group);
        log_str(&l, "consumer", w->consumer);
        log_int(&l, "concurrency", w->concurrency);
        log_str(&l, "provider", llm_provider_name(w->llm));
        log_str(&l, "model", llm_model_name(w->llm));
        log_str(&l, "answers", w->answers_all);
        log_int(&l, "max_inflight", cfg->max_inflight);
        if (w->sandbox != NULL)
            log_str(&l, "sandbox", sandbox_unavailable(w->sandbox) ? sandbox_unavailable(w->sandbox)
                                                                   : "ready");
        log_str(&l, "lint_sandbox", lint_pool_unsandboxed(w->lint) ? lint_pool_unsandboxed(w->lint)
                                                                  : "ready");
        log_str(&l, "launcher", w->launcher.self_exe);
        log_str(&l, "history", w->history != NULL ? "mongodb" : "off");
        log_end(&l);
    }
    {
        char missing[128];
        if (lint_pool_missing(w->lint, missing, sizeof missing) > 0) {
            /* Said once here; each job's linters list says it again. */
            struct log_line l;
            log_begin(&l, LOG_WARN, "linters_missing");
            log_str(&l, "linters", missing);
            log_str(&l, "eslint_dir", cfg->eslint_dir);
            log_str(&l, "action", "their runs are reported \"missing\" on every job");
            log_end(&l);
        }
    }
    if (cfg->lint_sandbox != 0 && lint_pool_unsandboxed(w->lint) != NULL) {
        struct log_line l;
        log_begin(&l, cfg->lint_sandbox == 2 ? LOG_ERROR : LOG_WARN, "lint_sandbox_unavailable");
        log_str(&l, "reason", lint_pool_unsandboxed(w->lint));
        log_str(&l, "linters", lint_pool_unsandboxed_linters(w->lint));
        log_str(&l, "action", cfg->lint_sandbox == 2 ? "not run (CODEINSIGHT_LINT_SANDBOX=2)"
                                                     : "run without a sandbox");
        log_end(&l);
    }
    return ERR_OK;
fail:
    worker_cleanup(w);
    return e->code != ERR_OK ? e->code : ERR_INTERNAL;
}

void worker_stop(struct worker *w)
{
    if (w->stopping)
        return;
    w->stopping = 1;
    w->stop_deadline_ms = clock_mono_ms() + w->cfg->shutdown_grace_s * 1000;
    {
        struct log_line l;
        log_begin(&l, LOG_INFO, "worker_stopping");
        log_int(&l, "inflight", w->inflight);
        log_int(&l, "grace_s", w->cfg->shutdown_grace_s);
        log_end(&l);
    }
    check_drained(w);
}

int worker_cleanup(struct worker *w)
{
    int abandoned, stuck;

    /* Order matters: no callback may reach a job or a task after it is
     * freed. The jobs' tasks are cancelled first (their model calls,
     * sandbox runs and loads stopped, nothing of theirs calls back); then
     * linters are killed, and the connections fail what they still hold
     * (jobs see stopping past the deadline and let go; a cancelled model
     * question's cache lookup frees it); then the jobs left are dropped,
     * pending. The model client and the sandbox outlive the jobs, so a task
     * could still be cancelled while a job is freed. */
    w->stopping = 1;
    w->stop_deadline_ms = 0;
    pipeline_cancel_tasks(w);
    channel_watch_free(w->channel);
    w->channel = NULL;
    lint_pool_free(w->lint);
    w->lint = NULL;
    kv_async_free(w->kv_read);
    w->kv_read = NULL;
    kv_async_free(w->kv);
    w->kv = NULL;
    db_async_free(w->db);
    w->db = NULL;
    abandoned = pipeline_abandon_all(w);
    llm_free(w->llm);
    w->llm = NULL;
    w->model.llm = NULL;
    sandbox_free(w->sandbox);
    w->sandbox = NULL;
    loop_timer_free(w->tick);
    w->tick = NULL;
    prompt_set_free(w->prompts);
    w->prompts = NULL;
    target_policy_free(w->stress_policy);
    w->stress_policy = NULL;
    /* Last: what the jobs handed it is written (for a few seconds at most). */
    stuck = mongo_sink_free(w->history);
    w->history = NULL;
    /* A worker that never started (its set-up failed) did not stop either:
     * the failure's own line says what happened. */
    if (w->started) {
        struct log_line l;
        log_begin(&l, LOG_INFO, "worker_stopped");
        log_str(&l, "consumer", w->consumer);
        log_int(&l, "jobs_done", w->jobs_done);
        log_int(&l, "jobs_failed", w->jobs_failed);
        log_int(&l, "reclaimed", w->reclaimed);
        log_int(&l, "left_pending", abandoned);
        log_end(&l);
    }
    return stuck;
}
