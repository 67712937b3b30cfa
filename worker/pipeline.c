/* pipeline.c - a job's steps on the event loop, from its entry to the
 * model's answer (pipeline_job.h: the stages after it are
 * pipeline_finish.c). */
#include "worker/pipeline.h"
#include "worker/pipeline_job.h"

#include "common/config.h"
#include "common/kv_async.h"
#include "worker/answer.h"
#include "worker/arch_task.h"
#include "worker/debug_task.h"
#include "worker/linters.h"
#include "worker/progress.h"
#include "worker/stress_task.h"
#include "worker/worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* When the job was admitted, from its entry id (Redis' clock then), into
 * buf; NULL when the id says none. */
static const char *admitted_at(const struct pipeline_job *j, char buf[CLOCK_RFC3339_LEN])
{
    char *end;
    long long ms = strtoll(j->entry_id, &end, 10);

    if (end == j->entry_id || *end != '-' || ms <= 0)
        return NULL;
    return clock_rfc3339((int64_t)ms, buf);
}

/* Its owner cancelled it: it reports no findings, an error, and status
 * cancelled (job_status). */
static void mark_cancelled(struct pipeline_job *j)
{
    j->cancelled = 1;
    j->failed = 1;
    snprintf(j->error, sizeof j->error, "%s", JOB_CANCELLED_ERROR);
}

/* ---- start: status running, attempt counted ---- */

static void on_started(void *arg, cJSON *reply, const struct err *e)
{
    struct pipeline_job *j = arg;

    j->busy = 0;
    if (e->code != ERR_OK) {
        pj_retry_later(j, e);
        return;
    }
    j->attempts = cJSON_IsNumber(reply) ? (long)reply->valuedouble : 1;
    j->retry_ms = 0;
    if (j->attempts < 0) {
        /* Its owner cancelled it while no worker was running it. */
        j->attempts = -j->attempts - 1;
        mark_cancelled(j);
        pj_log(j, LOG_INFO, "job_cancelled", NULL);
        j->stage = ST_PERSIST;
        pj_step(j);
        return;
    }
    if (j->attempts == 0) {
        /* Another worker took the entry over and finished the job. */
        pj_log(j, LOG_INFO, "job_already_finished", NULL);
        pj_release(j, 1);
        return;
    }
    if (j->attempts > j->w->cfg->max_attempts) {
        /* Every earlier delivery died with its worker: stop trying. */
        j->failed = 1;
        j->dead = 1;
        snprintf(j->error, sizeof j->error, "gave up after %ld deliveries (the worker "
                 "processing it stopped each time)", j->attempts - 1);
        pj_log(j, LOG_ERROR, "job_dead_lettered", NULL);
        j->stage = ST_PERSIST;
        pj_step(j);
        return;
    }
    pj_log(j, LOG_INFO, "job_started", NULL);
    /* Only a submitted file has anything to lint. */
    j->stage = pj_field(j, "file_content") != NULL ? ST_LINT : ST_MODEL;
    pj_step(j);
}

static void do_start(struct pipeline_job *j)
{
    struct worker *w = j->w;
    char ttl[24];
    struct err e;
    const char *argv[16];
    int n = 0;

    snprintf(ttl, sizeof ttl, "%ld", w->cfg->job_ttl_s);
    argv[n++] = j->key;
    argv[n++] = w->stream;
    argv[n++] = ttl;
    argv[n++] = j->entry_id;
    argv[n++] = w->group;
    argv[n++] = "started_at";
    argv[n++] = j->started_at;
    argv[n++] = "pool";
    argv[n++] = w->pool;
    argv[n++] = "worker";
    argv[n++] = w->consumer;
    argv[n++] = "language";
    argv[n++] = j->language ? j->language : "";
    if (kv_async_eval(w->kv, &job_script_start, 2, n, argv, NULL, on_started, j, &e) != ERR_OK) {
        pj_retry_later(j, &e);
        return;
    }
    j->busy = 1;
}

/* ---- lint ---- */

static void on_linted(void *arg, struct lint_result *res)
{
    struct pipeline_job *j = arg;

    j->lint_task = NULL;
    j->lint = *res;
    /* Before they reach a prompt, a cache key, the result or a log. */
    redact_findings(j->lint.findings);
    /* Each issue once from here on (the model's context, the event, the
     * job): flake8's F401 and pylint's W0611 about one import are one. */
    if (cJSON_IsArray(j->lint.findings)) {
        cJSON *once = answer_merge(NULL, j->lint.findings, NULL);
        if (once != NULL) {
            cJSON_Delete(j->lint.findings);
            j->lint.findings = once;
        }
    }
    if (res->failed && !j->cancelled) {     /* a cancelled job keeps saying so */
        j->failed = 1;
        snprintf(j->error, sizeof j->error, "%s", res->error);
    }
    progress_linted(j->w, j->job_id, j->key, &j->lint);
    j->stage = ST_MODEL;
    pj_step(j);
}

/* ---- redact, then the model pj_step (context, prompt, cache, model) ---- */

/* Redacts, once, every field of the job a prompt may show: the file, the
 * diff, the log, and the short strings (file_path, language: the client's
 * own when we do not know it); the diff stays a diff (redact_diff), which
 * context.c parses for its hunks. The job keeps its fields as sent: they are
 * what it stores and shows; only the redacted texts go to a model, and so
 * into the prompt cache's key (model_ask: a digest of the prompt). */
static int redact_all(struct pipeline_job *j)
{
    const char *content = pj_field(j, "file_content"), *diff = pj_field(j, "diff");
    const char *log = pj_field(j, "error_log"), *path = pj_field(j, "file_path");
    const char *lang = j->language;

    if (j->redacted)
        return 0;
    if (content == NULL)
        content = "";
    if (redact_text(content, strlen(content), &j->red_file) != 0 ||
        (diff != NULL && redact_diff(diff, strlen(diff), &j->red_diff) != 0) ||
        (log != NULL && redact_text(log, strlen(log), &j->red_log) != 0) ||
        (path != NULL && redact_text(path, strlen(path), &j->red_path) != 0) ||
        (lang != NULL && redact_text(lang, strlen(lang), &j->red_lang) != 0))
        return -1;
    j->redacted = 1;
    return 0;
}

static void on_model_done(void *arg, struct model_out *out)
{
    struct pipeline_job *j = arg;

    model_out_cleanup(&j->model);
    j->model = *out;
    j->have_model = 1;
    j->charge.actual = out->tokens;
    if (out->failed && !j->failed) {
        j->failed = 1;
        snprintf(j->error, sizeof j->error, "%s", out->error);
    }
    if (!out->deferred)
        progress_model_called(j->w, j->job_id, j->key, &j->model);
    j->stage = out->deferred ? ST_DEFER : ST_PERSIST;
    pj_step(j);
}

/* When a soft-throttled job's model call becomes due. */
static int64_t defer_due_ms(const struct pipeline_job *j)
{
    return crypto_uuid7_ms(j->job_id) + (int64_t)j->w->cfg->throttle_cooldown_s * 1000;
}

/* Live events of Debug Doctor's sandbox runs (reproduced, verified). */
static void on_debug_step(void *arg, const char *type, cJSON *data)
{
    struct pipeline_job *j = arg;

    progress_emit(j->w, j->job_id, j->key, type, data);
}

/* The job's task after linting: a review's model step, or a heavy task.
 * Each honours in->defer_unless_cached: its outcome says `deferred` instead
 * of calling the model, and on_model_done parks the job. */
static int task_start(struct pipeline_job *j, const struct model_in *in)
{
    struct worker *w = j->w;
    const char *type = pj_field(j, "type");

    if (strcmp(type, "debug") == 0) {
        struct debug_env env = {w->cfg, &w->model, w->sandbox, on_debug_step, j,
                                &j->task_spent};
        struct debug_in d = {
            .file_path = in->file_path, .redacted_path = in->redacted_path,
            .redacted_language = in->redacted_language, .text = in->text, .len = in->len,
            .redacted = in->redacted, .redacted_len = in->redacted_len, .diff = in->diff,
            .error_log = in->error_log, .files = pj_field(j, "files"), .run = pj_field(j, "run"),
            .lint_findings = in->lint_findings, .skip_reason = in->skip_reason,
            .defer_unless_cached = in->defer_unless_cached,
        };
        return debug_task_start(&env, &d, on_model_done, j, &j->task);
    }
    if (strcmp(type, "architecture") == 0)
        return arch_task_start(&w->model, pj_field(j, "spec"), in->skip_reason,
                               in->defer_unless_cached, &j->task_spent, on_model_done, j,
                               &j->task);
    if (strcmp(type, "stress") == 0) {
        struct stress_env env = {w->loop, w->cfg, &w->model, w->stress_policy,
                                 &j->task_spent};
        return stress_task_start(&env, pj_field(j, "spec"), in->skip_reason,
                                 in->defer_unless_cached, on_model_done, j, &j->task);
    }
    return model_step_start(&w->model, in, on_model_done, j, &j->task);
}

static void do_model(struct pipeline_job *j)
{
    struct model_in in;
    struct err e;
    const char *cursor = pj_field(j, "cursor_context");

    if (redact_all(j) != 0) {
        err_set(&e, ERR_INTERNAL, "out of memory redacting");
        pj_retry_later(j, &e);
        return;
    }
    memset(&in, 0, sizeof in);
    in.task = pj_field(j, "type");
    in.file_path = pj_field(j, "file_path");
    in.redacted_path = pj_field(j, "file_path") ? j->red_path.text : NULL;
    in.redacted_language = j->language ? j->red_lang.text : NULL;
    in.text = pj_field(j, "file_content") ? pj_field(j, "file_content") : "";
    in.len = strlen(in.text);
    in.redacted = j->red_file.text;
    in.redacted_len = j->red_file.len;
    in.diff = pj_field(j, "diff") ? j->red_diff.text : NULL;
    in.error_log = pj_field(j, "error_log") ? j->red_log.text : NULL;
    if (cursor != NULL) {
        cJSON *c = cJSON_Parse(cursor);
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(c, "line");
        const cJSON *el = cJSON_GetObjectItemCaseSensitive(c, "end_line");
        if (cJSON_IsNumber(l)) {
            in.has_cursor = 1;
            in.cursor_line = (long)l->valuedouble;
            in.cursor_end_line = cJSON_IsNumber(el) ? (long)el->valuedouble : in.cursor_line;
        }
        cJSON_Delete(c);
    }
    in.lint_findings = j->lint.findings;
    if (j->failed)
        in.skip_reason = "the file could not be prepared";
    else if (pj_flag(j, "degraded"))
        in.skip_reason = "budget_exhausted";
    in.defer_unless_cached = pj_flag(j, "throttled") && pj_field(j, "defer_until_ms") == NULL &&
                             clock_now_ms() < defer_due_ms(j);
    in.spent = &j->task_spent;
    /* The outcome may arrive before this returns: touch nothing after it. */
    if (task_start(j, &in) != 0) {
        err_set(&e, ERR_INTERNAL, "out of memory starting the model step");
        pj_retry_later(j, &e);
    }
}

/* ---- defer: a soft-throttled job waits for its model call ---- */

static void on_deferred(void *arg, cJSON *reply, const struct err *e)
{
    struct pipeline_job *j = arg;

    j->busy = 0;
    if (e->code != ERR_OK) {
        pj_retry_later(j, e);
        return;
    }
    if (cJSON_IsNumber(reply) && reply->valuedouble == 0) {
        /* Not pending any more: another worker took it over and finished. */
        pj_log(j, LOG_INFO, "job_already_finished", NULL);
        pj_release(j, 1);
        return;
    }
    if (cJSON_IsNumber(reply) && reply->valuedouble == 2) {
        /* Its owner cancelled it while it was running: not parked, it ends
         * now (the cancellation's message may still be on its way). */
        if (!j->cancelled) {
            mark_cancelled(j);
            pj_log(j, LOG_INFO, "job_cancelled", NULL);
        }
        j->stage = ST_PERSIST;
        pj_step(j);
        return;
    }
    pj_log(j, LOG_INFO, "job_deferred", NULL);
    pj_count(j, "deferred");
    pj_release(j, 1);
}

static void do_defer(struct pipeline_job *j)
{
    struct worker *w = j->w;
    enum { DEFER_ARGS_MAX = 64 };
    const char *argv[DEFER_ARGS_MAX];
    char set[JOB_DEFERRED_KEY_MAX], hold[JOB_DEFERRED_KEY_MAX], due[24];
    char due_iso[CLOCK_RFC3339_LEN], ttl[24];
    const cJSON *it;
    struct err e;
    int n = 0;
    int64_t due_ms = defer_due_ms(j);

    job_deferred_set_key(w->stream, set);
    job_deferred_hold_key(j->job_id, hold);
    snprintf(due, sizeof due, "%lld", (long long)due_ms);
    clock_rfc3339(due_ms, due_iso);
    snprintf(ttl, sizeof ttl, "%ld", w->cfg->job_ttl_s + w->cfg->throttle_cooldown_s);
    argv[n++] = j->key;
    argv[n++] = w->stream;
    argv[n++] = set;
    argv[n++] = hold;
    argv[n++] = w->group;
    argv[n++] = j->entry_id;
    argv[n++] = due;
    argv[n++] = due_iso;
    argv[n++] = j->job_id;
    argv[n++] = ttl;
    cJSON_ArrayForEach(it, j->entry) {
        if (n + 2 > DEFER_ARGS_MAX || !cJSON_IsString(it))
            continue;
        argv[n++] = it->string;
        argv[n++] = it->valuestring;
    }
    if (kv_async_eval(w->kv, &job_script_defer, 4, n, argv, NULL, on_deferred, j, &e) != ERR_OK) {
        pj_retry_later(j, &e);
        return;
    }
    j->busy = 1;
}

static void do_lint(struct pipeline_job *j)
{
    const char *content = pj_field(j, "file_content");
    struct err e;

    j->lint_task = lint_start(j->w->lint, pj_field(j, "file_path"), content, strlen(content),
                              pj_field(j, "language"), on_linted, j, &e);
    if (j->lint_task == NULL) {
        pj_retry_later(j, &e);
        return;
    }
}

void pj_step(struct pipeline_job *j)
{
    if (j->released)
        return;     /* left pending (pipeline_release_all): nothing more of it happens */
    if (j->cancelled && (j->stage == ST_LINT || j->stage == ST_MODEL || j->stage == ST_DEFER))
        j->stage = ST_PERSIST;      /* no more work: it ends as cancelled */
    switch (j->stage) {
    case ST_START:   do_start(j);   break;
    case ST_LINT:    do_lint(j);    break;
    case ST_MODEL:   do_model(j);   break;
    case ST_DEFER:   do_defer(j);   break;
    case ST_PERSIST: pj_persist(j); break;
    case ST_PUBLISH: pj_publish(j); break;
    }
}

/* What a job of its type cannot do without. */
static int entry_complete(const struct pipeline_job *j)
{
    const char *type = pj_field(j, "type");

    if (type == NULL || job_type_parse(type) < 0 || pj_field(j, "created_at") == NULL)
        return 0;
    if (strcmp(type, "architecture") == 0 || strcmp(type, "stress") == 0)
        return pj_field(j, "spec") != NULL;
    return pj_field(j, "file_path") != NULL && pj_field(j, "file_content") != NULL;
}

/* Its entry is not ours to run (another release's gateway wrote it, or it
 * is damaged), nor to retry: the job fails as a "malformed queue entry",
 * and is stored, then published, as any failed job is, which retires the
 * entry and gives its reservation back (job_finish.lua). PostgreSQL keeps
 * the minimal form: what the entry says of the job (its owner, type and
 * created_at), none of the text in it. An entry naming no job is only
 * retired. */
static void reject(struct pipeline_job *j)
{
    char created[CLOCK_RFC3339_LEN];

    j->failed = 1;
    j->rejected = 1;
    snprintf(j->error, sizeof j->error, "malformed queue entry");
    pj_log(j, LOG_ERROR, "job_rejected", NULL);
    /* An older gateway's entry may lack it; a job always has one. Out of
     * memory, PostgreSQL refuses the row and the hot copy goes without. */
    if (pj_field(j, "created_at") == NULL && admitted_at(j, created) != NULL)
        cJSON_AddStringToObject(j->entry, "created_at", created);
    j->persist_form = PERSIST_MINIMAL;
    j->stage = j->job_id[0] != '\0' ? ST_PERSIST : ST_PUBLISH;
    pj_step(j);
}

/* Its entry is of a later format (a newer release's gateway wrote it, for
 * its own workers): not run, not failed, not acknowledged. It stays pending
 * here, kept fresh by no heartbeat, so that after
 * CODEINSIGHT_VISIBILITY_TIMEOUT_MS the next reclaim pass of any worker of
 * the pool takes it: a newer one runs it; an older one leaves it again. Its
 * job stays queued meanwhile; nothing is reserved or given back. */
static void leave_for_newer(struct pipeline_job *j)
{
    struct log_line l;

    pj_log_begin(&l, j, LOG_WARN, "job_left_for_newer");
    log_str(&l, "format", pj_field(j, JOB_ENTRY_FORMAT_FIELD));
    log_str(&l, "known", JOB_ENTRY_FORMAT);
    log_end(&l);
    pj_release(j, 0);
}

/* A retry's wait is over (pj_retry_later). */
static void on_retry(void *arg)
{
    pj_step(arg);
}

void pipeline_begin(struct worker *w, const char *entry_id, const cJSON *fields)
{
    struct pipeline_job *j = calloc(1, sizeof *j);
    const char *id, *lang, *text;
    int format;

    w->inflight++;
    if (j == NULL) {
        /* The entry stays pending and is retried by reclaim. */
        worker_job_released(w, 0);
        return;
    }
    j->w = w;
    j->began_ms = clock_mono_ms();
    j->next = w->jobs;
    if (w->jobs != NULL)
        w->jobs->prev = j;
    w->jobs = j;
    j->retry = loop_timer_new(w->loop, on_retry, j);
    snprintf(j->entry_id, sizeof j->entry_id, "%s", entry_id);
    j->entry = job_entry_object(fields);
    clock_rfc3339(clock_now_ms(), j->started_at);
    if (j->retry == NULL || j->entry == NULL) {
        pj_release(j, 0);
        return;
    }
    /* The job id names the entry (common/job.h); an entry put back after a
     * deferral, or queued before ids named entries, carries it instead. */
    id = pj_field(j, "job_id");
    if (id != NULL && crypto_uuid_valid(id))
        snprintf(j->job_id, sizeof j->job_id, "%s", id);
    else if (id == NULL)            /* leaves job_id "" when the entry is malformed */
        job_id_of_entry(w->stream, entry_id, pj_field(j, JOB_ID_BITS_FIELD), j->job_id);
    if (j->job_id[0] != '\0')
        job_key(j->job_id, j->key);
    /* Before the entry is judged: one this worker cannot use gives its
     * reservation back too (job_finish.lua). */
    if (pj_field(j, "user_id") != NULL && pj_field(j, "month") != NULL) {
        const char *reserved = pj_field(j, "reserved");
        snprintf(j->charge.month, sizeof j->charge.month, "%s", pj_field(j, "month"));
        j->charge.reserved = reserved != NULL ? strtoll(reserved, NULL, 10) : 0;
        j->charge.actual = 0;
        budget_key(pj_field(j, "user_id"), j->charge.month, j->budget_key);
    }
    format = job_entry_format_known(pj_field(j, JOB_ENTRY_FORMAT_FIELD));
    if (format == 0 && j->job_id[0] != '\0') {
        leave_for_newer(j);
        return;
    }
    if (j->job_id[0] == '\0' || format < 0 || !entry_complete(j)) {
        reject(j);
        return;
    }
    lang = pj_field(j, "language");
    text = pj_field(j, "file_content");
    j->language = linters_language_resolve(lang, pj_field(j, "file_path"), text,
                                           text != NULL ? strlen(text) : 0);
    if (j->language == NULL && lang != NULL && lang[0] != '\0')
        j->language = lang;     /* unknown to us, but what the client said */
    j->stage = ST_START;
    pj_step(j);
}

int pipeline_holds(const struct worker *w, const char *entry_id)
{
    for (const struct pipeline_job *j = w->jobs; j != NULL; j = j->next)
        if (strcmp(j->entry_id, entry_id) == 0)
            return 1;
    return 0;
}

int pipeline_held(const struct worker *w, const char **entry_ids, const char **job_ids, int max)
{
    int n = 0;

    for (const struct pipeline_job *j = w->jobs; j != NULL && n < max; j = j->next) {
        if (j->released)
            continue;       /* given back: no longer this worker's to keep */
        entry_ids[n] = j->entry_id;
        job_ids[n++] = j->job_id;
    }
    return n;
}

int pipeline_cancel(struct worker *w, const char *job_id)
{
    struct pipeline_job *j = w->jobs;

    while (j != NULL && strcmp(j->job_id, job_id) != 0)
        j = j->next;
    /* Past its model step the work is done: it ends as it is. */
    if (j == NULL || j->cancelled || j->dead || j->stage >= ST_PERSIST)
        return 0;
    mark_cancelled(j);
    pj_log(j, LOG_INFO, "job_cancelled", NULL);
    if (j->stage == ST_MODEL && j->task.fn != NULL) {
        /* Its model call is aborted (or sandbox run killed, load stopped):
         * its callback never runs, so the job goes on from here. */
        cancel_now(&j->task);
        /* The calls it made, the aborted one too; their usage and cost are
         * the job's (job_parts). */
        j->charge.actual = j->task_spent.tokens;
        pj_step(j);
    }
    /* Else the step under way (start, linters, a retry's wait, a deferral)
     * sees it when it ends. */
    return 1;
}

int pipeline_cancel_tasks(struct worker *w)
{
    int n = 0;

    for (struct pipeline_job *j = w->jobs; j != NULL; j = j->next) {
        if (j->task.fn == NULL)
            continue;
        cancel_now(&j->task);
        n++;
    }
    return n;
}

int pipeline_release_all(struct worker *w, kv_async_cb *cb)
{
    char attempts[24], idle[24], ttl[24];
    struct err e;
    int n = 0;

    snprintf(idle, sizeof idle, "%ld", w->cfg->visibility_ms);
    snprintf(ttl, sizeof ttl, "%ld", w->cfg->job_ttl_s);

    for (struct pipeline_job *j = w->jobs; j != NULL; j = j->next) {
        /* Only before anything of it is stored: a job that reached
         * PostgreSQL keeps its attempt, so that no later delivery's save
         * ties with it (ci_job_save). */
        if (j->released || j->attempts <= 0 || (j->stage != ST_LINT && j->stage != ST_MODEL))
            continue;
        if (j->task.fn != NULL)
            cancel_now(&j->task);
        j->released = 1;
        snprintf(attempts, sizeof attempts, "%ld", j->attempts);
        if (kv_async_eval(w->kv, &job_script_release, 2, 9,
                          (const char *[]){j->key, w->stream, w->consumer, attempts, w->group,
                                           j->entry_id, idle, WORKER_CHANNEL, ttl},
                          NULL, cb, w, &e) == ERR_OK)
            n++;
    }
    return n;
}

int pipeline_abandon_all(struct worker *w)
{
    int n = 0;

    while (w->jobs != NULL) {
        pj_log(w->jobs, LOG_WARN, "job_abandoned", NULL);
        pj_free(w->jobs);
        n++;
    }
    return n;
}
