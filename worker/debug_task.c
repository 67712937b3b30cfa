/* debug_task.c - reproduce, diagnose, verify, retry. */
#include "worker/debug_task.h"

#include "common/config.h"
#include "common/err.h"
#include "worker/answer.h"
#include "worker/cancel.h"
#include "worker/context.h"
#include "worker/debug_text.h"
#include "common/patch.h"
#include "common/patch_target.h"
#include "common/utf8.h"
#include "worker/prompt.h"
#include "worker/redact.h"
#include "worker/sandbox.h"
#include "worker/task_answer.h"
#include "worker/traceback.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes of a failure note sent back to the model. */
#define DEBUG_FAILURE_MAX 6000

struct debug_state {
    struct debug_env env;
    struct debug_in in;
    model_done_cb *cb;
    void *arg;
    struct cancel *cancel;          /* the caller's (borrowed until cb or cancelled), or NULL */
    struct sandbox_task *sbx;       /* the sandbox run out, or NULL */
    struct cancel ask;              /* the model question's */
    cJSON *files;                   /* parsed `files` (owns) */
    cJSON *run;                     /* parsed `run` (owns) */
    int nsrc;                       /* main file + files */
    struct sandbox_file *sfiles;    /* what runs: original contents */
    struct tb_source *src;          /* paths as submitted, redacted contents: mapping the
                                       frames, the result's root frame */
    struct tb_source *shown;        /* what the model sees: paths redacted too */
    struct redact_result *red;      /* redacted neighbour files (nsrc - 1) */
    struct redact_result *red_path; /* their redacted paths (nsrc - 1) */
    int nred;                       /* entries of red and red_path (zeroed when unused) */
    cJSON *tb;                      /* the failure: parsed log, else reproduction */
    cJSON *shown_lines;             /* the main file's lines the last prompt showed
                                       (debug_shown_lines; owns), or NULL */
    cJSON *runs;                    /* every sandbox run */
    int reproduced;
    const cJSON *repro;             /* the reproducing run (in runs) */
    char reason[256];               /* why not reproduced / not verified */
    int verified;
    int rounds;                     /* model answers obtained */
    cJSON *answer;                  /* the latest answer (owns) */
    char *patched;                  /* the fixed file under verification (owns) */
    int patched_src;                /* the source it replaces, -1 when none */
    struct sandbox_file saved;      /* that source's original, put back after the run */
    char *prev_fix, *prev_failure;  /* sent back on the next round (own) */
    struct model_out out;
};

static void ask(struct debug_state *d);

/* ---- finishing ---- */

/* Frees d and what it owns, d->out aside (the outcome, or the caller's to
 * clean up). */
static void state_free(struct debug_state *d)
{
    cJSON_Delete(d->files);
    cJSON_Delete(d->run);
    for (int i = 0; i < d->nred; i++) {
        redact_result_cleanup(&d->red[i]);
        redact_result_cleanup(&d->red_path[i]);
    }
    free(d->red);
    free(d->red_path);
    free(d->sfiles);
    free(d->src);
    free(d->shown);
    cJSON_Delete(d->tb);
    cJSON_Delete(d->shown_lines);
    cJSON_Delete(d->runs);
    cJSON_Delete(d->answer);
    free(d->patched);
    free(d->prev_fix);
    free(d->prev_failure);
    free(d);
}

/* cancel_fn: the caller stopped the task (its cancel is already empty). */
static void state_cancel(void *state)
{
    struct debug_state *d = state;

    sandbox_cancel(d->sbx);
    cancel_now(&d->ask);
    model_out_cleanup(&d->out);
    state_free(d);
}

static void add_usage(struct debug_state *d, const struct model_answer *a)
{
    llm_usage_add(&d->out.usage, &a->usage);
    d->out.model_attempts += a->model_attempts;
    d->out.cached = a->cached;
}

/* "ZeroDivisionError: division by zero at app/main.py:3 in f", from the
 * parsed failure alone (what a degraded result can say). */
static char *static_root_cause(const struct debug_state *d)
{
    const char *type = json_str(d->tb, "error_type"), *msg = json_str(d->tb, "message");
    const cJSON *frames = cJSON_GetObjectItemCaseSensitive(d->tb, "frames");
    int src_i, root = traceback_root_frame(d->tb, d->src, d->nsrc, &src_i);
    const cJSON *f = cJSON_GetArrayItem(frames, root >= 0 ? root : 0);
    char buf[1600];
    size_t n = 0;

    if (type == NULL && msg == NULL)
        return NULL;
    /* utf8_fmt returns what it wrote: n stays below sizeof buf. */
    n += utf8_fmt(buf, sizeof buf, "%s%s%s", type ? type : "", type && msg ? ": " : "",
                  msg ? msg : "");
    if (f != NULL && json_str(f, "file") != NULL)
        n += utf8_fmt(buf + n, sizeof buf - n, " at %s:%d",
                      root >= 0 ? d->src[src_i].path : json_str(f, "file"),
                      (int)cJSON_GetNumberValue(cJSON_GetObjectItem(f, "line")));
    if (f != NULL && json_str(f, "function") != NULL)
        utf8_fmt(buf + n, sizeof buf - n, " in %s", json_str(f, "function"));
    return strdup(buf);
}

static cJSON *root_frame_json(const struct debug_state *d)
{
    int src_i, root = traceback_root_frame(d->tb, d->src, d->nsrc, &src_i);
    cJSON *f;

    if (root < 0)
        return cJSON_CreateNull();
    f = cJSON_Duplicate(cJSON_GetArrayItem(cJSON_GetObjectItem(d->tb, "frames"), root), 1);
    if (f != NULL) {
        cJSON_DeleteItemFromObjectCaseSensitive(f, "file");
        cJSON_AddStringToObject(f, "file", d->src[src_i].path);
    }
    return f;
}

static const char *sfile_path(const void *files, int i)
{
    return ((const struct sandbox_file *)files)[i].path;
}

/* Which source a diff is for (patch_target: the exact "+++ " name, then a
 * "b/" one; the main file when it names none). -1 when it names a file
 * not submitted. */
static int fix_target(const struct debug_state *d, const char *fix)
{
    return patch_target(fix, d->sfiles, d->nsrc, sfile_path);
}

/* The submitted path the answer's fix is for (borrowed), or NULL when
 * there is no fix or it names a file not submitted: the job's fix_file, so
 * that the exports offer the fix where the worker and POST /apply-fix
 * apply it. */
static const char *fix_file(const struct debug_state *d)
{
    const char *fix = json_str(d->answer, "fix");
    int t = fix != NULL ? fix_target(d, fix) : -1;

    return t >= 0 ? d->sfiles[t].path : NULL;
}

/* Hands the outcome out (its tokens counted, findings at least []) to the
 * task's callback, after freeing d. */
static void hand_over(struct debug_state *d, struct model_out out)
{
    model_done_cb *cb = d->cb;
    void *arg = d->arg;

    out.tokens = llm_usage_tokens(&out.usage);
    if (out.findings == NULL)
        out.findings = cJSON_CreateArray();
    cancel_clear(d->cancel);
    state_free(d);
    cb(arg, &out);
}

static void finish(struct debug_state *d)
{
    cJSON *r = cJSON_CreateObject(), *v, *err, *a = d->answer;
    char *root = NULL;

    if (r != NULL) {
        if (a != NULL) {
            d->out.answered = 1;
            cJSON_AddItemToObject(r, "root_cause",
                                  cJSON_Duplicate(cJSON_GetObjectItem(a, "root_cause"), 1));
            cJSON_AddItemToObject(r, "explanation",
                                  cJSON_Duplicate(cJSON_GetObjectItem(a, "explanation"), 1));
            cJSON_AddItemToObject(r, "fix", cJSON_Duplicate(cJSON_GetObjectItem(a, "fix"), 1));
            json_add_str_or_null(r, "fix_file", fix_file(d));
            cJSON_AddItemToObject(r, "verification_steps",
                                  cJSON_Duplicate(cJSON_GetObjectItem(a, "verification_steps"), 1));
            cJSON_AddItemToObject(r, "confidence",
                                  cJSON_Duplicate(cJSON_GetObjectItem(a, "confidence"), 1));
            d->out.summary = json_str(a, "root_cause") ? strdup(json_str(a, "root_cause")) : NULL;
            d->out.findings = cJSON_DetachItemFromObjectCaseSensitive(a, "findings");
            d->out.dropped = cJSON_GetObjectItem(a, "findings_dropped") != NULL
                                 ? cJSON_GetObjectItem(a, "findings_dropped")->valueint
                                 : 0;
            if (d->out.findings != NULL) {
                /* As for reviews: a finding or fix about lines the prompt
                 * did not show is a guess (every round shows the same). */
                struct answer_file file = {d->in.file_path, d->in.text, d->in.len,
                                           d->in.redacted, d->in.redacted_len,
                                           d->shown_lines};
                d->out.dropped += answer_validate(d->out.findings, &file);
            }
        } else {
            root = static_root_cause(d);
            json_add_str_or_null(r, "root_cause", root);
            cJSON_AddNullToObject(r, "explanation");
            cJSON_AddNullToObject(r, "fix");
            cJSON_AddNullToObject(r, "fix_file");
            cJSON_AddArrayToObject(r, "verification_steps");
            cJSON_AddNullToObject(r, "confidence");
            d->out.summary = root;
        }
        v = cJSON_AddObjectToObject(r, "verification");
        cJSON_AddBoolToObject(v, "reproduced", d->reproduced);
        cJSON_AddBoolToObject(v, "verified", d->verified);
        json_add_str_or_null(v, "reason", d->reason[0] ? d->reason : NULL);
        cJSON_AddNumberToObject(v, "rounds", d->rounds);
        cJSON_AddItemToObject(v, "runs", d->runs);
        d->runs = NULL;
        err = cJSON_AddObjectToObject(r, "failure");
        json_add_str_or_null(err, "kind", json_str(d->tb, "kind"));
        json_add_str_or_null(err, "type", json_str(d->tb, "error_type"));
        json_add_str_or_null(err, "message", json_str(d->tb, "message"));
        cJSON_AddItemToObject(r, "root_frame", root_frame_json(d));
        cJSON_AddItemToObject(r, "frames",
                              cJSON_DetachItemFromObjectCaseSensitive(d->tb, "frames"));
    }
    d->out.result = r;
    hand_over(d, d->out);
}

/* A round's question was deferred (soft throttle, cache miss): the outcome
 * is `deferred` with what was spent so far (a cached round's usage) and no
 * result. */
static void park(struct debug_state *d)
{
    struct model_out out = d->out;

    out.deferred = 1;
    hand_over(d, out);
}

static void degrade(struct debug_state *d, const char *reason)
{
    if (d->reason[0] == '\0')
        utf8_fmt(d->reason, sizeof d->reason, "no fix to verify: the model gave none (%s)",
                 reason);
    d->out.degraded = 1;
    utf8_fmt(d->out.degraded_reason, sizeof d->out.degraded_reason, "%s", reason);
    finish(d);
}

/* ---- runs ---- */

static int run_failed(const cJSON *run)
{
    const cJSON *ex = cJSON_GetObjectItem(run, "exit");

    return cJSON_IsTrue(cJSON_GetObjectItem(run, "timed_out")) ||
           !cJSON_IsNull(cJSON_GetObjectItem(run, "signal")) ||
           !cJSON_IsNumber(ex) || ex->valuedouble != 0;
}

/* Keeps a run, its output tails redacted like everything else stored. */
/* Replaces the string item by its redacted text when it holds a secret. */
static void redact_item(cJSON *item)
{
    struct redact_result rr;

    if (!cJSON_IsString(item) ||
        redact_text(item->valuestring, strlen(item->valuestring), &rr) != 0)
        return;
    if (rr.count > 0)
        cJSON_SetValuestring(item, rr.text);
    redact_result_cleanup(&rr);
}

static void keep_run(struct debug_state *d, cJSON *run, const char *purpose)
{
    cJSON *a;

    /* What is kept is stored and shown: the output tails and the arguments
     * (the user's run.args) without their secrets. */
    redact_item(cJSON_GetObjectItemCaseSensitive(run, "stdout_tail"));
    redact_item(cJSON_GetObjectItemCaseSensitive(run, "stderr_tail"));
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(run, "argv"))
        redact_item(a);
    cJSON_AddStringToObject(run, "purpose", purpose);
    cJSON_AddItemToArray(d->runs, run);
}

/* The run's arguments for the sandbox, borrowed from d->run. */
static int run_spec(struct debug_state *d, struct sandbox_spec *spec, const char **argv, int max)
{
    const cJSON *a;
    int n = 0;

    memset(spec, 0, sizeof *spec);
    spec->runner = json_str(d->run, "runner");
    spec->entry = json_str(d->run, "entry");
    cJSON_ArrayForEach(a, cJSON_GetObjectItem(d->run, "args"))
        if (cJSON_IsString(a) && n + 1 < max)
            argv[n++] = a->valuestring;
    argv[n] = NULL;
    spec->args = argv;
    spec->files = d->sfiles;
    spec->nfiles = d->nsrc;
    return spec->runner != NULL ? 0 : -1;
}

static void start_run(struct debug_state *d, sandbox_done_cb *cb)
{
    struct sandbox_spec spec;
    const char *argv[32];
    struct err e;

    if (run_spec(d, &spec, argv, 32) != 0) {
        cb(d, NULL, "malformed run");
        return;
    }
    /* cb never runs inside sandbox_run: d->sbx is set first. */
    d->sbx = sandbox_run(d->env.sandbox, &spec, cb, d, &e);
    if (d->sbx == NULL)
        cb(d, NULL, e.msg);         /* nothing ran */
}

/* What the model reads of a run (debug_run_text), redacted whole: its argv
 * holds the user's run.args, its tails the program's output. Owns; NULL when
 * out of memory. */
static char *run_text_redacted(const cJSON *run)
{
    char *t = debug_run_text(run), *out = NULL;
    struct redact_result rr;

    if (t != NULL && redact_text(t, strlen(t), &rr) == 0) {
        out = strdup(rr.text);
        redact_result_cleanup(&rr);
    }
    free(t);
    return out;
}

/* ---- verification ---- */

/* Reports a step (debug_step_cb) when the caller asked for steps: type is
 * also the name of its flag ({"verified": false, "round": 2, "reason": ...}). */
static void report(struct debug_state *d, const char *type, int value)
{
    cJSON *data;

    if (d->env.on_step == NULL || (data = cJSON_CreateObject()) == NULL)
        return;
    cJSON_AddBoolToObject(data, type, value);
    if (strcmp(type, "verified") == 0)
        cJSON_AddNumberToObject(data, "round", d->rounds);
    if (!value && d->reason[0] != '\0')
        cJSON_AddStringToObject(data, "reason", d->reason);
    d->env.on_step(d->env.step_arg, type, data);
}

/* A round failed: failure is its reason, already redacted (the model reads
 * it on the next round, the result keeps it); verify_failed when it was the
 * verification run (reported as a "verified" step with that reason). */
static void retry_or_finish(struct debug_state *d, const char *failure, int verify_failed)
{
    const char *fix = json_str(d->answer, "fix");

    utf8_fmt(d->reason, sizeof d->reason, "%s", failure);
    if (verify_failed)
        report(d, "verified", 0);
    if (d->rounds >= d->env.cfg->debug_fix_attempts) {
        finish(d);
        return;
    }
    free(d->prev_fix);
    free(d->prev_failure);
    d->prev_fix = fix ? strdup(fix) : NULL;
    d->prev_failure = strdup(failure);
    ask(d);
}

static void on_verified(void *arg, cJSON *run, const char *why)
{
    struct debug_state *d = arg;
    char *text, *note;

    d->sbx = NULL;
    /* The run is over: later rounds patch the original again. */
    if (d->patched_src >= 0)
        d->sfiles[d->patched_src] = d->saved;
    d->patched_src = -1;
    if (run == NULL) {
        utf8_fmt(d->reason, sizeof d->reason, "the fix could not be verified: %s",
                 why ? why : "sandbox failed");
        report(d, "verified", 0);
        finish(d);
        return;
    }
    keep_run(d, run, "verify");
    if (!run_failed(run)) {
        d->verified = 1;
        d->reason[0] = '\0';
        report(d, "verified", 1);
        finish(d);
        return;
    }
    /* Redacted before it is cut: a cut secret may no longer be recognised. */
    text = run_text_redacted(run);
    note = malloc(DEBUG_FAILURE_MAX);
    if (text == NULL || note == NULL) {
        free(text);
        free(note);
        snprintf(d->reason, sizeof d->reason, "the fix did not pass verification");
        report(d, "verified", 0);
        finish(d);
        return;
    }
    utf8_fmt(note, DEBUG_FAILURE_MAX, "with the fix applied the program still fails:\n%s", text);
    free(text);
    retry_or_finish(d, note, 1);
    free(note);
}

static void verify(struct debug_state *d)
{
    const char *fix = json_str(d->answer, "fix");
    size_t n;
    int t;

    if (!d->reproduced) {
        /* d->reason already says why there was nothing to reproduce. */
        finish(d);
        return;
    }
    if (fix == NULL) {
        snprintf(d->reason, sizeof d->reason, "the model proposed no fix");
        finish(d);
        return;
    }
    t = fix_target(d, fix);
    free(d->patched);
    d->patched = NULL;
    if (t < 0 || patch_apply(d->sfiles[t].content, d->sfiles[t].len, fix, strlen(fix),
                             &d->patched, &n) != 0) {
        retry_or_finish(d, t < 0 ? "the fix names a file that was not submitted"
                                 : "the fix does not apply to the file: it is not a unified "
                                   "diff of one file, or its context lines differ from the "
                                   "submitted text", 0);
        return;
    }
    /* Run the copy: the fixed file in place of the original, for this run. */
    d->saved = d->sfiles[t];
    d->sfiles[t].content = d->patched;
    d->sfiles[t].len = n;
    d->patched_src = t;
    start_run(d, on_verified);
}

/* ---- diagnosis ---- */

static void on_answer(void *arg, struct model_answer *a)
{
    struct debug_state *d = arg;

    add_usage(d, a);
    if (a->deferred) {
        model_answer_cleanup(a);
        park(d);
        return;
    }
    if (a->degraded || a->answer == NULL) {
        char reason[160];
        snprintf(reason, sizeof reason, "%s", a->degraded_reason[0] ? a->degraded_reason
                                                                      : "model unavailable");
        model_answer_cleanup(a);
        if (d->answer != NULL) {
            /* A later round failed: keep the last answer, unverified. */
            finish(d);
            return;
        }
        degrade(d, reason);
        return;
    }
    cJSON_Delete(d->answer);
    d->answer = a->answer;
    a->answer = NULL;
    model_answer_cleanup(a);
    d->rounds++;
    verify(d);
}

static void ask(struct debug_state *d)
{
    struct context_input ci;
    struct context_result cr;
    struct prompt_vars v;
    struct model_question q;
    char note[512];
    char *frames = NULL, *windows = NULL, *files = NULL, *repro = NULL;
    cJSON *w;
    int src_i = -1, root, rc;

    if (d->in.skip_reason != NULL) {
        degrade(d, d->in.skip_reason);
        return;
    }
    root = traceback_root_frame(d->tb, d->src, d->nsrc, &src_i);
    memset(&ci, 0, sizeof ci);
    memset(&cr, 0, sizeof cr);
    ci.text = d->in.redacted;
    ci.len = d->in.redacted_len;
    ci.lint_findings = d->in.lint_findings;
    ci.budget_bytes = (size_t)d->env.cfg->input_max_bytes;
    if (root >= 0 && src_i == 0) {
        /* Centre the excerpt on the failing line of the main file. */
        ci.has_cursor = 1;
        ci.cursor_line = ci.cursor_end_line = (long)cJSON_GetNumberValue(cJSON_GetObjectItem(
            cJSON_GetArrayItem(cJSON_GetObjectItem(d->tb, "frames"), root), "line"));
    }
    if (context_build(&ci, &cr) != 0) {
        degrade(d, "out of memory");
        return;
    }
    frames = debug_frames_text(d->tb);
    /* The frames come from redacted text (the log, a kept run's output): they
     * map to the redacted paths. */
    w = debug_windows(d->tb, d->shown, d->nsrc);
    windows = debug_windows_text(w);
    cJSON_Delete(d->shown_lines);
    d->shown_lines = debug_shown_lines(w, cr.reviewed_ranges);
    /* The note tells the lines of the main file the prompt shows: its
     * windows' when they stand in for the excerpt. */
    if (windows != NULL && *windows)
        context_lines_note(d->shown_lines, cr.total_lines, note, sizeof note);
    else
        context_ranges_note(&cr, note, sizeof note);
    cJSON_Delete(w);
    /* Neighbouring files within half the input budget. */
    files = d->nsrc > 1 ? debug_files_text(d->shown, d->nsrc,
                                           (size_t)d->env.cfg->input_max_bytes / 2) : NULL;
    if (d->repro != NULL)
        repro = run_text_redacted(d->repro);

    memset(&v, 0, sizeof v);
    v.file_path = d->in.redacted_path;
    v.language = d->in.redacted_language;
    v.code = cr.code;
    v.lint_summary = cr.lint_summary;
    v.error_log = d->in.error_log;
    v.diff = d->in.diff;
    v.ranges_note = note;
    v.frames = frames && *frames ? frames : NULL;
    v.windows = windows && *windows ? windows : NULL;
    v.files = files && *files ? files : NULL;
    v.reproduction = repro;
    v.previous_fix = d->prev_fix;
    v.previous_failure = d->prev_failure;
    memset(&q, 0, sizeof q);
    q.task = "debug";
    q.vars = &v;
    q.parse = debug_answer_parse;
    q.cache_ttl_s = model_cache_ttl(d->env.cfg, "debug");
    q.defer_unless_cached = d->in.defer_unless_cached;
    q.spent = d->env.spent;
    /* Without the lines shown its findings could not be checked: no ask. */
    rc = d->shown_lines != NULL ? model_ask(d->env.model, &q, on_answer, d, &d->ask) : -1;
    context_result_cleanup(&cr);
    free(frames);
    free(windows);
    free(files);
    free(repro);
    if (rc != 0)
        degrade(d, "out of memory");
}

/* ---- reproduction ---- */

static void on_reproduced(void *arg, cJSON *run, const char *why)
{
    struct debug_state *d = arg;

    d->sbx = NULL;
    if (run == NULL) {
        utf8_fmt(d->reason, sizeof d->reason, "not reproduced: %s",
                 why ? why : "the sandbox could not be created");
        report(d, "reproduced", 0);
        ask(d);
        return;
    }
    keep_run(d, run, "reproduce");
    d->reproduced = run_failed(run);
    if (!d->reproduced)
        snprintf(d->reason, sizeof d->reason, "not reproduced: the program ran without failing "
                 "(exit 0), so a fix cannot be verified");
    else
        d->repro = run;
    report(d, "reproduced", d->reproduced);
    /* Without a usable log, the reproduction says where it fails. */
    if (d->reproduced && cJSON_GetArraySize(cJSON_GetObjectItem(d->tb, "frames")) == 0) {
        const char *err = json_str(run, "stderr_tail"), *out = json_str(run, "stdout_tail");
        const char *text = err && *err ? err : out ? out : "";
        cJSON *tb = traceback_parse(text, strlen(text));
        if (tb != NULL && (cJSON_GetArraySize(cJSON_GetObjectItem(tb, "frames")) > 0 ||
                           json_str(d->tb, "error_type") == NULL)) {
            cJSON_Delete(d->tb);
            d->tb = tb;
        } else {
            cJSON_Delete(tb);
        }
    }
    ask(d);
}

/* ---- start ---- */

static int load_sources(struct debug_state *d)
{
    const cJSON *f;
    int n = 1 + cJSON_GetArraySize(d->files), i = 1;

    d->sfiles = calloc((size_t)n, sizeof *d->sfiles);
    d->src = calloc((size_t)n, sizeof *d->src);
    d->shown = calloc((size_t)n, sizeof *d->shown);
    d->red = calloc((size_t)n, sizeof *d->red);
    d->red_path = calloc((size_t)n, sizeof *d->red_path);
    if (d->sfiles == NULL || d->src == NULL || d->shown == NULL || d->red == NULL ||
        d->red_path == NULL)
        return -1;
    d->nred = n;
    d->sfiles[0] = (struct sandbox_file){d->in.file_path, d->in.text, d->in.len};
    d->src[0] = (struct tb_source){d->in.file_path, d->in.redacted, d->in.redacted_len};
    d->shown[0] = (struct tb_source){d->in.redacted_path ? d->in.redacted_path : "",
                                     d->in.redacted, d->in.redacted_len};
    d->nsrc = 1;
    cJSON_ArrayForEach(f, d->files) {
        const char *p = json_str(f, "path"), *c = json_str(f, "content");
        struct redact_result *rc = &d->red[i - 1], *rp = &d->red_path[i - 1];
        if (p == NULL || c == NULL)
            continue;
        /* A path can hold a secret as well as the content can. */
        if (redact_text(c, strlen(c), rc) != 0 || redact_text(p, strlen(p), rp) != 0)
            return -1;
        d->sfiles[i] = (struct sandbox_file){p, c, strlen(c)};
        d->src[i] = (struct tb_source){p, rc->text, rc->len};
        d->shown[i] = (struct tb_source){rp->text, rc->text, rc->len};
        d->nsrc = ++i;
    }
    return 0;
}

int debug_task_start(const struct debug_env *env, const struct debug_in *in, model_done_cb *cb,
                     void *arg, struct cancel *cancel)
{
    struct debug_state *d = calloc(1, sizeof *d);
    const char *why;

    if (d == NULL)
        return -1;
    d->env = *env;
    d->in = *in;
    d->cb = cb;
    d->arg = arg;
    d->cancel = cancel;
    cancel_set(cancel, state_cancel, d);
    d->patched_src = -1;
    d->files = in->files ? cJSON_Parse(in->files) : cJSON_CreateArray();
    d->run = in->run ? cJSON_Parse(in->run) : NULL;
    d->runs = cJSON_CreateArray();
    d->tb = traceback_parse(in->error_log ? in->error_log : "",
                            in->error_log ? strlen(in->error_log) : 0);
    if (d->files == NULL || d->runs == NULL || d->tb == NULL || (in->run && d->run == NULL) ||
        load_sources(d) != 0) {
        cancel_clear(cancel);
        state_free(d);
        return -1;
    }
    if (d->run == NULL) {
        snprintf(d->reason, sizeof d->reason, "not reproduced: no run was given (add run: "
                 "{runner, entry, args} to reproduce and verify)");
        ask(d);
        return 0;
    }
    why = env->sandbox == NULL ? "this worker has no sandbox" : sandbox_unavailable(env->sandbox);
    if (why != NULL) {
        /* No sandbox, no code runs. */
        utf8_fmt(d->reason, sizeof d->reason, "not reproduced: %s", why);
        ask(d);
        return 0;
    }
    start_run(d, on_reproduced);
    return 0;
}
