/* engine.c - submission and polling of many jobs on one loop. */
#include "cli/engine.h"

#include "cli/api.h"
#include "cli/progress.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/loop.h"
#include "common/utf8.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The signal (SIGINT, SIGTERM) that interrupted engine_run, or 0; pump()
 * reads it on the next tick. A signal handler can reach nothing else. */
static volatile sig_atomic_t engine_interrupted;

static void on_signal(int sig)
{
    engine_interrupted = sig;
}

struct engine {
    struct api *api;
    struct jobset *js;
    const struct engine_opts *o;
    struct loop_timer *tick;
    int inflight;
    int64_t deadline_ms;
    int64_t cancel_by_ms;       /* interrupted with cancel_on_interrupt: the end of it */
};

/* A request's context: which job, and what was asked. */
struct call {
    struct engine *en;
    struct cli_job *job;
    enum { CALL_SUBMIT, CALL_POLL, CALL_DOC, CALL_CANCEL } kind;
    int to_deadline;            /* its timeout is the time left before --timeout */
};

/* The job's state from a job view's status ("queued" ...), JOB_ERROR when
 * absent or unknown. */
static enum cli_job_state engine_state_of(const cJSON *view)
{
    const char *s = json_str(view, "status");

    if (s == NULL)
        return JOB_ERROR;
    if (strcmp(s, "queued") == 0)
        return JOB_QUEUED;
    if (strcmp(s, "running") == 0)
        return JOB_RUNNING;
    if (strcmp(s, "done") == 0)
        return JOB_DONE;
    if (strcmp(s, "failed") == 0 || strcmp(s, "cancelled") == 0)
        return JOB_FAILED;          /* cancelled: it did not finish either */
    return JOB_ERROR;
}

static void job_final(struct cli_job *j, enum cli_job_state s)
{
    j->state = s;
    j->finished_ms = clock_mono_ms();
}

static void job_error(struct cli_job *j, const char *what)
{
    snprintf(j->error, sizeof j->error, "%s", what);
    job_final(j, JOB_ERROR);
}

/* A finished job that still needs its ?format= document (a failed job's
 * log says why it failed: SARIF readers show that). */
static int needs_doc(const struct engine *en, const struct cli_job *j)
{
    enum cli_job_state s = engine_state_of(j->view);

    return en->o->format != NULL && j->doc == NULL && j->view != NULL &&
           (s == JOB_DONE || s == JOB_FAILED) && j->state != JOB_ERROR;
}

/* Nothing more to do for this job in this run. */
static int settled(const struct engine *en, const struct cli_job *j)
{
    if (job_state_final(j->state))
        return 1;
    if (j->inflight || en->o->wait)
        return 0;
    return j->body != NULL ? j->submitted : j->view != NULL && !needs_doc(en, j);
}

/* Schedules another try after a refusal that says "later" (why: the
 * answer, kept for timed_out); 0 when the job may retry, -1 when it has
 * used its retries. */
static int retry_later(struct cli_job *j, long retry_after_s, const char *why)
{
    int64_t wait_ms;

    if (j->retries >= ENGINE_RETRY_MAX)
        return -1;
    j->retries++;
    snprintf(j->refusal, sizeof j->refusal, "%s", why);
    wait_ms = retry_after_s >= 0 ? (retry_after_s > 0 ? retry_after_s * 1000 : 500)
                                 : (int64_t)500 << (j->retries < 4 ? j->retries : 4);
    j->next_ms = clock_mono_ms() + wait_ms;
    return 0;
}

static int retryable_status(long status)
{
    return status == 429 || status == 502 || status == 503 || status == 504;
}

static void take_view(struct engine *en, struct cli_job *j, const cJSON *json)
{
    enum cli_job_state s = engine_state_of(json);
    const char *err;

    cJSON_Delete(j->view);
    j->view = cJSON_Duplicate(json, 1);
    if (j->view == NULL) {
        job_error(j, "out of memory");
        return;
    }
    /* A job followed by id is shown by its path once known. */
    if (j->body == NULL && json_str(j->view, "file_path") != NULL) {
        char *label = strdup(json_str(j->view, "file_path"));
        if (label != NULL) {
            free(j->label);
            j->label = label;
        }
    }
    if (s == JOB_ERROR) {
        job_error(j, "the service answered a job without a known status");
    } else if (s == JOB_DONE || s == JOB_FAILED) {
        if (s == JOB_FAILED) {
            err = json_str(j->view, "error");
            if (strcmp(json_str(j->view, "status"), "cancelled") == 0)
                snprintf(j->error, sizeof j->error, "job cancelled by its owner");
            else
                snprintf(j->error, sizeof j->error, "job failed: %s",
                         err ? err : "no reason given");
        }
        if (en->o->format == NULL)
            job_final(j, s);
        else
            j->state = JOB_RUNNING;     /* final once the document is here */
        j->next_ms = 0;
    } else {
        j->state = s;
    }
}

static void on_submit(struct engine *en, struct cli_job *j, const struct api_resp *r,
                      const char *why)
{
    const char *id = json_str(r->json, "job_id");

    /* Not JSON (a proxy's page): why says so, and not that an id is bad. */
    if (r->transport_ok && (r->status == 202 || r->status == 200) && r->json == NULL) {
        job_error(j, why);
        return;
    }
    /* The id goes into URLs and onto the terminal: only what the service
     * issues, a UUID, is taken. */
    if (r->transport_ok && (r->status == 202 || r->status == 200) &&
        (id == NULL || !crypto_uuid_valid(id))) {
        job_error(j, "the service answered a job id that is not a UUID");
        return;
    }
    if (r->transport_ok && (r->status == 202 || r->status == 200)) {
        snprintf(j->id, sizeof j->id, "%s", id);
        j->submitted = 1;
        j->retries = 0;
        if (r->status == 200) {
            j->cached = 1;
            take_view(en, j, r->json);
        } else {
            j->state = JOB_QUEUED;
            j->poll_ms = ENGINE_POLL_FIRST_MS;
            j->next_ms = clock_mono_ms() + j->poll_ms;
        }
        return;
    }
    if (r->transport_ok && retryable_status(r->status) &&
        retry_later(j, r->retry_after_s, why) == 0)
        return;
    job_error(j, why);
}

/* Schedules the next poll of a job that answered, a little later than the
 * last, unless it is settled or needs its document now. */
static void poll_again(struct engine *en, struct cli_job *j)
{
    j->retries = 0;
    j->poll_ms = j->poll_ms * 3 / 2;
    if (j->poll_ms < ENGINE_POLL_FIRST_MS)
        j->poll_ms = ENGINE_POLL_FIRST_MS;
    if (j->poll_ms > ENGINE_POLL_MAX_MS)
        j->poll_ms = ENGINE_POLL_MAX_MS;
    if (!job_state_final(j->state) && !needs_doc(en, j))
        j->next_ms = clock_mono_ms() + j->poll_ms;
}

static void on_poll(struct engine *en, struct cli_job *j, const struct api_resp *r,
                    const char *why)
{
    if (r->transport_ok && r->status == 200 && r->json != NULL) {
        take_view(en, j, r->json);
        /* Its tag names this view; without one (an older server) the next
         * poll asks for the whole view. strdup failing costs only that. */
        free(j->etag);
        j->etag = r->etag != NULL ? strdup(r->etag) : NULL;
        poll_again(en, j);
        return;
    }
    /* Not modified: the poll named the kept view's tag, which still holds. */
    if (r->transport_ok && r->status == 304 && j->etag != NULL && j->view != NULL) {
        poll_again(en, j);
        return;
    }
    if (r->transport_ok && r->status == 404 && json_str(r->json, "code") != NULL &&
        strcmp(json_str(r->json, "code"), "job_not_found") == 0) {
        job_error(j, "job not found (job_not_found, HTTP 404)");
        return;
    }
    /* Connection loss is retried only for a job this run has seen alive:
     * following an id on a server that never answered fails at once. */
    if (((!r->transport_ok && (j->body != NULL || j->view != NULL)) ||
         (r->transport_ok && retryable_status(r->status))) &&
        retry_later(j, r->transport_ok ? r->retry_after_s : -1, why) == 0)
        return;
    job_error(j, why);
}

/* A result-cache answer whose document is not this user's to fetch (its
 * job is another user's, from a shared cache, answered so by a gateway
 * older than shared_hit.h: newer ones answer with the user's own copy):
 * the file goes again, asking for a fresh review, which is the user's own
 * job. */
static void submit_fresh(struct cli_job *j)
{
    cJSON_Delete(j->view);
    j->view = NULL;
    free(j->etag);
    j->etag = NULL;
    j->id[0] = '\0';
    j->submitted = 0;
    j->cached = 0;
    j->fresh = 1;
    j->state = JOB_PENDING;
    j->next_ms = 0;
}

/* The document must look like what was asked for: an older server ignores
 * ?format= and answers the job view. */
static void on_doc(struct engine *en, struct cli_job *j, const struct api_resp *r,
                   const char *why)
{
    const char *member = strcmp(en->o->format, "sarif") == 0 ? "runs" : "diagnostics";

    if (r->transport_ok && r->status == 200 &&
        cJSON_IsArray(cJSON_GetObjectItem(r->json, member))) {
        if ((j->doc = cJSON_Duplicate(r->json, 1)) == NULL)
            job_error(j, "out of memory");
        else
            job_final(j, engine_state_of(j->view));
        return;
    }
    if (r->transport_ok && r->status == 200) {
        char m[CLI_JOB_ERROR_MAX];

        snprintf(m, sizeof m, "the service did not answer a %s document for ?format=%s "
                 "(does it support that format?)", en->o->format, en->o->format);
        job_error(j, m);
        return;
    }
    if (r->transport_ok && r->status == 404 && j->cached && !j->fresh && j->body != NULL) {
        submit_fresh(j);
        return;
    }
    /* 409 job_not_finished: a copy that has not caught up yet; it says when. */
    if ((!r->transport_ok || retryable_status(r->status) || r->status == 409) &&
        retry_later(j, r->transport_ok ? r->retry_after_s : -1, why) == 0)
        return;
    job_error(j, why);
}

static void pump(struct engine *en);

/* The --timeout passed with j still open; waiting to try again after a
 * refusal, it names the last answer. */
static void timed_out(struct cli_job *j)
{
    char m[CLI_JOB_ERROR_MAX];

    if (j->retries > 0)
        utf8_fmt(m, sizeof m, "still %s after the --timeout; the last answer: %s",
                 job_state_name(j->state), j->refusal);
    else
        snprintf(m, sizeof m, "still %s after the --timeout", job_state_name(j->state));
    job_error(j, m);
}

static void cancel_refused(struct cli_job *j, const char *why)
{
    snprintf(j->cancel_error, sizeof j->cancel_error, "%s", why);
    j->cancel = CANCEL_REFUSED;
}

/* The answer to DELETE /job/:id after an interrupt. */
static void on_cancel(struct engine *en, struct cli_job *j, const struct api_resp *r,
                      const char *why)
{
    const char *code = json_str(r->json, "code");

    if (r->transport_ok && (r->status == 200 || r->status == 202)) {
        j->cancel = r->status == 200 ? CANCEL_CANCELLED : CANCEL_CANCELLING;
        return;
    }
    if (r->transport_ok && r->status == 409 && code != NULL &&
        strcmp(code, "job_finished") == 0) {
        j->cancel = CANCEL_FINISHED;
        return;
    }
    /* "Later" is worth one more try if it fits before the end. */
    if (r->transport_ok && retryable_status(r->status) &&
        retry_later(j, r->retry_after_s, why) == 0 && j->next_ms < en->cancel_by_ms)
        return;
    cancel_refused(j, why);
}

static void on_response(void *arg, const struct api_resp *r)
{
    struct call *c = arg;
    struct engine *en = c->en;
    struct cli_job *j = c->job;
    char why[CLI_JOB_ERROR_MAX];

    en->inflight--;
    j->inflight = 0;
    api_describe(r, why, sizeof why);
    /* The deadline ending a connection attempt says the service cannot be
     * reached, not that the job took too long. */
    if (c->kind == CALL_CANCEL)
        on_cancel(en, j, r, why);
    else if (r->timed_out && c->to_deadline && r->connect_failed)
        job_error(j, why);
    else if (r->timed_out && c->to_deadline)
        timed_out(j);
    else if (c->kind == CALL_SUBMIT)
        on_submit(en, j, r, why);
    else if (c->kind == CALL_POLL)
        on_poll(en, j, r, why);
    else
        on_doc(en, j, r, why);
    free(c);
    pump(en);
}

static void start(struct engine *en, struct cli_job *j)
{
    char path[CLI_JOB_ID_MAX + 48], msg[160];
    const char *method = "GET", *body = NULL;
    struct api_ask ask = {0};
    struct call *c = calloc(1, sizeof *c);
    int64_t left, end_ms = en->cancel_by_ms != 0 ? en->cancel_by_ms : en->deadline_ms;

    if (c == NULL) {
        job_error(j, "out of memory");
        return;
    }
    c->en = en;
    c->job = j;
    if (en->cancel_by_ms != 0) {
        c->kind = CALL_CANCEL;
        method = "DELETE";
        snprintf(path, sizeof path, "/job/%s", j->id);
    } else if (!j->submitted && j->body != NULL) {
        c->kind = CALL_SUBMIT;
        method = "POST";
        body = j->body;
        ask.no_cache = en->o->no_cache || j->fresh;
        snprintf(path, sizeof path, "/review");
    } else if (needs_doc(en, j)) {
        c->kind = CALL_DOC;
        snprintf(path, sizeof path, "/job/%s?format=%s", j->id, en->o->format);
    } else {
        c->kind = CALL_POLL;
        snprintf(path, sizeof path, "/job/%s", j->id);
        ask.if_none_match = j->etag;
    }
    if (j->started_ms == 0)
        j->started_ms = clock_mono_ms();
    /* No request outlives the --timeout (or, cancelling, its own end): it
     * gets at most the time left. */
    left = end_ms - clock_mono_ms();
    left = left > 1 ? left : 1;
    c->to_deadline = left < API_TIMEOUT_MS;
    if (api_send(en->api, method, path, body, &ask, c->to_deadline ? (long)left : API_TIMEOUT_MS,
                 on_response, c, msg, sizeof msg) != 0) {
        int cancelling = c->kind == CALL_CANCEL;

        free(c);
        if (cancelling)
            cancel_refused(j, msg);
        else
            job_error(j, msg);
        return;
    }
    j->inflight = 1;
    en->inflight++;
}

/* A job the interrupt leaves to cancel: it has an id and is not final. One
 * whose view is final (it waits for its document) is marked finished. */
static int to_cancel(struct cli_job *j)
{
    if (j->id[0] == '\0' || job_state_final(j->state) || j->cancel != CANCEL_NONE)
        return 0;
    if (j->view != NULL && job_state_final(engine_state_of(j->view))) {
        j->cancel = CANCEL_FINISHED;
        return 0;
    }
    return 1;
}

/* Interrupted with cancel_on_interrupt: lets what is in flight finish,
 * cancels each job to_cancel, ends when nothing is left or the time is up
 * (what is still in flight is dropped with the api). */
static void pump_cancel(struct engine *en, int64_t now)
{
    size_t open = 0;

    if (en->cancel_by_ms == 0) {
        en->cancel_by_ms = now + ENGINE_CANCEL_WAIT_MS;
        /* A poll's wait for its retry does not hold up the cancel. */
        for (size_t i = 0; i < en->js->n; i++) {
            en->js->jobs[i].next_ms = 0;
            en->js->jobs[i].retries = 0;
        }
    }
    for (size_t i = 0; i < en->js->n; i++) {
        struct cli_job *j = &en->js->jobs[i];

        if (j->inflight) {
            open++;
        } else if (to_cancel(j)) {
            open++;
            if (now >= j->next_ms && en->inflight < ENGINE_INFLIGHT_MAX)
                start(en, j);
        }
    }
    if (open == 0 || now >= en->cancel_by_ms)
        loop_stop(en->api->loop);
}

/* Sends what is due, ends the run when nothing is left. */
static void pump(struct engine *en)
{
    int64_t now = clock_mono_ms();
    size_t open = 0;

    if (engine_interrupted) {
        if (en->o->cancel_on_interrupt) {
            pump_cancel(en, now);
            return;
        }
        /* Nothing more is sent; what is in flight is dropped with the api. */
        loop_stop(en->api->loop);
        return;
    }
    for (size_t i = 0; i < en->js->n; i++) {
        struct cli_job *j = &en->js->jobs[i];

        if (settled(en, j))
            continue;
        open++;
        if (now >= en->deadline_ms && !j->inflight) {
            timed_out(j);
            open--;
            continue;
        }
        if (!j->inflight && now >= j->next_ms && en->inflight < ENGINE_INFLIGHT_MAX)
            start(en, j);
    }
    if (en->o->progress != NULL)
        progress_draw(en->o->progress, en->js, now);
    if (open == 0 || (now >= en->deadline_ms && en->inflight == 0))
        loop_stop(en->api->loop);
}

static void on_tick(void *arg)
{
    pump(arg);
}

int engine_run(struct api *api, struct jobset *js, const struct engine_opts *o, char *msg,
               size_t cap)
{
    struct sigaction sa, old_int, old_term;
    struct engine en;

    memset(&en, 0, sizeof en);
    en.api = api;
    en.js = js;
    en.o = o;
    en.deadline_ms = clock_mono_ms() + o->timeout_ms;
    if ((en.tick = loop_timer_new(api->loop, on_tick, &en)) == NULL) {
        snprintf(msg, cap, "out of memory");
        return -1;
    }
    /* Ctrl-C (or a CI runner's SIGTERM) ends the wait, not the process, so
     * that the jobs still pending can be named, or cancelled; a second one
     * kills (SA_RESETHAND). */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    engine_interrupted = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    loop_timer_start(en.tick, ENGINE_TICK_MS, ENGINE_TICK_MS);
    pump(&en);
    /* pump() stops the loop once every job is settled; the tick keeps it
     * alive until then, and the deadline bounds it. */
    loop_run(api->loop);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    loop_timer_free(en.tick);
    if (o->progress != NULL)
        progress_finish(o->progress, js, clock_mono_ms());
    return (int)engine_interrupted;
}
