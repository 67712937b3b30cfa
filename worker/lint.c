/* lint.c - runs linters as child processes watched by the loop, each in a
 * sandbox of its own when the pool has one. */
#include "worker/lint.h"

#include "common/config.h"
#include "common/err.h"
#include "common/log.h"
#include "common/loop.h"
#include "common/relpath.h"
#include "common/utf8.h"
#include "worker/launcher.h"
#include "worker/lint_lines.h"
#include "worker/linters.h"
#include "worker/sandbox.h"
#include "worker/sandbox_exec.h"
#include "worker/scratch.h"
#include "worker/strv.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LINT_ARGV_MAX 32
#define LINT_RUNS_MAX 8
#define LINT_ENV_MAX 8
#define LINT_PATH_DEFAULT "/usr/local/bin:/usr/bin:/bin"
/* How much of a failing linter's stderr goes into its note. */
#define LINT_NOTE_TAIL 160
/* Where ESLint's install (CODEINSIGHT_ESLINT_DIR) is mounted in a sandbox. */
#define LINT_ESLINT_MOUNT SANDBOX_EXEC_BIND_ROOT "eslint"
/* The largest file a sandbox takes: bwrap copies it under RLIMIT_FSIZE. */
#define LINT_SANDBOX_FILE_MAX ((size_t)SANDBOX_FSIZE_MB << 20)
/* PATH inside a sandbox: /usr/local is part of /usr there. */
#define LINT_SANDBOX_PATH "/usr/local/bin:/usr/bin:/bin"

struct lint_run {
    struct lint_task *task;
    const struct linter *linter;
    struct lint_run *next;          /* in the pool's wait queue */
    struct loop_proc *proc;         /* while running */
};

struct lint_task {
    struct lint_pool *pool;
    struct lint_task *prev, *next;  /* every live task, for lint_pool_free */
    struct lint_task *ready_next;   /* tasks completed by the kick timer */
    lint_done_cb *cb;
    void *arg;
    struct lint_result res;
    int pending;                    /* runs not finished yet */
    int nruns;
    struct lint_run runs[LINT_RUNS_MAX];
    char dir[PATH_MAX];             /* "" when not created (launcher.h's layout) */
    char files[PATH_MAX + 16];      /* dir/files: the file and the stubs; the cwd */
    char file_arg[PATH_MAX + 2];    /* "./<relative path>" */
    char rel[PATH_MAX];             /* the file's relative path */
    struct lint_lines *lines;       /* the file's lines (NULL: out of memory) */
    char env_buf[LINT_ENV_MAX][PATH_MAX + 32];
    const char *env[LINT_ENV_MAX + 1];
};

struct lint_pool {
    struct loop *loop;
    const struct config *cfg;
    long parallel;
    int running;
    struct lint_run *wait_head, *wait_tail;
    struct lint_task *tasks;
    struct lint_task *ready;
    struct loop_timer *kick;
    char path_env[PATH_MAX];
    char eslint_dir[PATH_MAX];      /* resolved CODEINSIGHT_ESLINT_DIR, "" when absent */
    char eslint_bin[PATH_MAX];      /* absolute, as the linter sees it; "" when not installed */
    char eslint_config[PATH_MAX];   /* as the linter sees it */
    int sandboxed;                  /* 1: runs in a sandbox (where), ESLint's maybe not */
    int eslint_plain;               /* sandboxed, but ESLint's install cannot be mounted */
    struct launcher where;
    char unsandboxed[LAUNCHER_WHY_MAX + 64];    /* why not (all) sandboxed, else "" */
};

static void pool_pump(struct lint_pool *pool);

static int is_eslint(const struct linter *l)
{
    return strcmp(l->argv[0], "eslint") == 0;
}

/* 1 when runs of l are sandboxed. */
static int linter_sandboxed(const struct lint_pool *pool, const struct linter *l)
{
    return pool->sandboxed && !(pool->eslint_plain && is_eslint(l));
}

/* 1 when l must not run at all (CODEINSIGHT_LINT_SANDBOX=2 without a sandbox for it). */
static int linter_refused(const struct lint_pool *pool, const struct linter *l)
{
    return pool->cfg->lint_sandbox == 2 && !linter_sandboxed(pool, l);
}

void lint_result_cleanup(struct lint_result *res)
{
    cJSON_Delete(res->findings);
    cJSON_Delete(res->linters);
    cJSON_Delete(res->notes);
    memset(res, 0, sizeof *res);
}

static void task_free(struct lint_task *t)
{
    struct lint_pool *pool = t->pool;

    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        pool->tasks = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    scratch_remove(t->dir);
    lint_result_cleanup(&t->res);
    lint_lines_free(t->lines);
    free(t);
}

/* Hands the result to the caller (who takes it) and frees the task. */
static void task_complete(struct lint_task *t)
{
    struct lint_result res = t->res;
    lint_done_cb *cb = t->cb;
    void *arg = t->arg;

    memset(&t->res, 0, sizeof t->res);
    task_free(t);
    cb(arg, &res);
}

/* Completes t from the loop, by the kick timer: for a task that ends
 * inside lint_start, whose callback must not run inside that call. */
static void task_ready(struct lint_task *t)
{
    t->ready_next = t->pool->ready;
    t->pool->ready = t;
    loop_timer_start(t->pool->kick, 0, 0);
}

static void note(struct lint_task *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct lint_task *t, const char *fmt, ...)
{
    char buf[512];
    va_list ap;

    va_start(ap, fmt);
    utf8_vfmt(buf, sizeof buf, fmt, ap);    /* a linter's words, cut on a character */
    va_end(ap);
    cJSON_AddItemToArray(t->res.notes, cJSON_CreateString(buf));
}

/* One entry of the result's linters: r NULL when nothing was started
 * (duration 0); exit_code only when r's process exited by itself. */
static void linter_record(struct lint_task *t, const char *tool, const char *status,
                          const struct loop_proc_result *r, int found)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, "tool", tool);
    cJSON_AddStringToObject(o, "status", status);
    if (r != NULL && r->spawn_error == 0 && r->term_signal == 0)
        cJSON_AddNumberToObject(o, "exit_code", r->exit_code);
    else
        cJSON_AddNullToObject(o, "exit_code");
    cJSON_AddNumberToObject(o, "duration_ms", r ? (double)r->duration_ms : 0);
    cJSON_AddNumberToObject(o, "findings", found);
    cJSON_AddItemToArray(t->res.linters, o);
}

/* Where run i's launcher writes its status. */
static void status_path(const struct lint_task *t, int i, char *out, size_t cap)
{
    snprintf(out, cap, "%s/status.%d", t->dir, i);
}

/* A sandboxed run's result as the linter's own: bwrap exits 128 + n when
 * the linter was killed by signal n. Returns 0, or -1 when the sandbox
 * could not be set up (nothing of the linter ran), with why set. */
static int unwrap(const struct lint_run *run, struct loop_proc_result *r, char *why, size_t cap)
{
    char path[PATH_MAX + 32];

    if (!linter_sandboxed(run->task->pool, run->linter) || r->spawn_error != 0)
        return 0;
    status_path(run->task, (int)(run - run->task->runs), path, sizeof path);
    if (!r->timed_out && !launcher_ran(path, r->term_signal != 0)) {
        launcher_failure(r, why, cap);
        return -1;
    }
    if (r->term_signal == 0 && r->exit_code > 128 && r->exit_code <= 128 + 64) {
        r->term_signal = r->exit_code - 128;
        r->exit_code = 0;
    }
    return 0;
}

/* Why a run that linters_run_failed failed: the last line of its stderr,
 * else the message of its first fatal finding (pylint's F...). */
static void failure_tail(const struct loop_proc_result *r, const cJSON *got, char *out,
                         size_t cap)
{
    const cJSON *f;

    scratch_last_line(r->err, r->err_len, LINT_NOTE_TAIL, out, cap);
    if (out[0] != '\0')
        return;
    cJSON_ArrayForEach(f, got) {
        const char *id = json_str(f, "rule_id"), *msg = json_str(f, "message");
        if (id != NULL && id[0] == 'F' && msg != NULL) {
            scratch_last_line(msg, strlen(msg), LINT_NOTE_TAIL, out, cap);
            return;
        }
    }
}

static void on_linter_done(void *arg, const struct loop_proc_result *res)
{
    struct lint_run *run = arg;
    struct lint_task *t = run->task;
    struct lint_pool *pool = t->pool;
    const struct linter *l = run->linter;
    struct loop_proc_result rr = *res, *r = &rr;
    char tail[LINT_NOTE_TAIL + 1], why[LAUNCHER_WHY_MAX];
    int found = 0;

    run->proc = NULL;
    pool->running--;
    if (unwrap(run, r, why, sizeof why) != 0) {
        struct loop_proc_result tried = *r;

        tried.spawn_error = -1;         /* no linter ran: no exit code, but the time spent */
        note(t, "%s did not run: %s", l->tool, why);
        linter_record(t, l->tool, "failed", &tried, 0);
    } else if (r->spawn_error != 0) {
        note(t, "%s did not run: %s", l->tool,
             r->spawn_error == ENOENT ? "it is not installed" : loop_strerror(r->spawn_error));
        linter_record(t, l->tool, "missing", r, 0);
    } else if (r->timed_out) {
        note(t, "%s was stopped after %ld ms", l->tool, pool->cfg->lint_timeout_ms);
        linter_record(t, l->tool, "timeout", r, 0);
    } else if (r->term_signal != 0 || !l->exit_ok(r->exit_code)) {
        scratch_last_line(r->err, r->err_len, LINT_NOTE_TAIL, tail, sizeof tail);
        note(t, "%s failed (%s %d)%s%s", l->tool, r->term_signal ? "signal" : "exit",
             r->term_signal ? r->term_signal : r->exit_code, tail[0] ? ": " : "", tail);
        linter_record(t, l->tool, "failed", r, 0);
    } else {
        const char *out = l->parse_stderr ? r->err : r->out;
        size_t len = l->parse_stderr ? r->err_len : r->out_len;
        int truncated = l->parse_stderr ? r->err_truncated : r->out_truncated;
        cJSON *got = cJSON_CreateArray();

        found = got != NULL ? l->parse(out, len, got) : -1;
        if (found < 0) {
            note(t, "%s output could not be read%s", l->tool,
                 truncated ? " (it exceeded the output cap)" : "");
            linter_record(t, l->tool, "failed", r, 0);
        } else if (linters_run_failed(l, r->exit_code, found)) {
            failure_tail(r, got, tail, sizeof tail);
            note(t, "%s failed (exit %d)%s%s", l->tool, r->exit_code, tail[0] ? ": " : "",
                 tail);
            linter_record(t, l->tool, "failed", r, 0);
        } else {
            lint_lines_map(t->lines, !l->lf_lines_only, got);
            while (got->child != NULL)
                cJSON_AddItemToArray(t->res.findings, cJSON_DetachItemViaPointer(got, got->child));
            if (truncated)
                note(t, "%s output exceeded the cap; later findings were dropped", l->tool);
            else if (found >= LINTERS_FINDINGS_MAX)
                /* The parser stops there: more may have followed. */
                note(t, "%s stopped at %d findings; any later ones were dropped", l->tool,
                     LINTERS_FINDINGS_MAX);
            linter_record(t, l->tool, "ok", r, found);
        }
        cJSON_Delete(got);
    }
    if (--t->pending == 0)
        task_complete(t);
    pool_pump(pool);
}

/* The program l runs: its argv[0], but ESLint comes from the worker's own
 * npm install (when found), not PATH. */
static const char *linter_program(const struct lint_pool *pool, const struct linter *l)
{
    return is_eslint(l) && pool->eslint_bin[0] != '\0' ? pool->eslint_bin : l->argv[0];
}

static const char *run_program(const struct lint_run *run)
{
    return linter_program(run->task->pool, run->linter);
}

/* Appends the linter's argv, with {file} replaced, to sv. */
static void run_argv(const struct lint_run *run, struct strv *sv)
{
    int n = 0;

    for (const char *const *a = run->linter->argv; *a != NULL && n < LINT_ARGV_MAX; a++, n++) {
        if (strcmp(*a, LINTERS_FILE_PLACEHOLDER) == 0)
            strv_add(sv, run->task->file_arg);
        else
            strv_add(sv, n == 0 ? run_program(run) : *a);
    }
}

/* The launcher's command line for a sandboxed run: the file and the stub
 * copied to /work, ESLint's install mounted read-only, caches in /tmp. */
static void sandbox_argv(const struct lint_run *run, struct strv *sv)
{
    const struct lint_task *t = run->task;
    const struct lint_pool *pool = t->pool;
    const struct config *cfg = pool->cfg;
    const struct linter *l = run->linter;
    char status[PATH_MAX + 32];
    long as_mb = cfg->lint_memory_mb;

    status_path(t, (int)(run - t->runs), status, sizeof status);
    if (is_eslint(l))
        as_mb += SANDBOX_NODE_AS_EXTRA_MB;      /* V8's reservations */
    else if (strcmp(l->tool, "shellcheck") == 0)
        as_mb = 0;      /* GHC's collector wants about twice its live heap: a clean 700 KB
                           script needs 1.5 GB and failed in 2 GB; CPU and wall clock bound it */
    launcher_head(sv, &pool->where, t->files, status, cfg->lint_timeout_ms / 1000 + 1, as_mb);
    strv_add(sv, "--linter");
    strv_add(sv, "--env");
    strv_add(sv, "PATH=" LINT_SANDBOX_PATH);
    strv_add(sv, "--env");
    strv_add(sv, "PYLINTHOME=/tmp/.pylint");
    strv_add(sv, "--env");
    strv_add(sv, "XDG_CACHE_HOME=/tmp/.cache");
    strv_add(sv, "--env");
    strv_add(sv, "LC_ALL=C.UTF-8");
    if (is_eslint(l) && pool->eslint_dir[0] != '\0') {
        strv_add(sv, "--ro-bind");
        strv_add(sv, pool->eslint_dir);
        strv_add(sv, LINT_ESLINT_MOUNT);
    }
    strv_add(sv, "--file");
    strv_add(sv, t->rel);
    if (l->stub_name != NULL) {
        strv_add(sv, "--file");
        strv_add(sv, l->stub_name);
    }
    strv_add(sv, "--");
}

/* 1 when prog is an executable: prog itself when it holds a '/', else in
 * one of the directories of the colon-separated list dirs. */
static int found_in(const char *prog, const char *dirs)
{
    char path[PATH_MAX];

    if (strchr(prog, '/') != NULL)
        return access(prog, X_OK) == 0;
    for (const char *d = dirs; *d != '\0';) {
        size_t n = strcspn(d, ":");
        int w = snprintf(path, sizeof path, "%.*s/%s", (int)n, d, prog);

        if (n > 0 && w > 0 && (size_t)w < sizeof path && access(path, X_OK) == 0)
            return 1;
        d += n + (d[n] == ':');
    }
    return 0;
}

/* 1 when a sandboxed run can find prog, so that a linter not installed is
 * "missing", as without a sandbox, and not a set-up failure (bwrap's exec
 * fails inside). An absolute prog is the ESLint install's, checked by the
 * probe. */
static int sandbox_has(const char *prog)
{
    return strchr(prog, '/') != NULL || found_in(prog, LINT_SANDBOX_PATH);
}

int lint_pool_missing(const struct lint_pool *pool, char *buf, size_t cap)
{
    int n = 0;

    if (cap > 0)
        buf[0] = '\0';
    for (const struct linter *const *l = linters_all(); *l != NULL; l++) {
        int boxed = linter_sandboxed(pool, *l);
        const char *prog = linter_program(pool, *l);
        size_t used = cap > 0 ? strlen(buf) : 0;

        if (boxed ? sandbox_has(prog) : found_in(prog, pool->path_env))
            continue;
        n++;
        if (used + strlen((*l)->tool) + 3 <= cap)
            snprintf(buf + used, cap - used, "%s%s", used ? ", " : "", (*l)->tool);
    }
    return n;
}

static void pool_pump(struct lint_pool *pool)
{
    while (pool->wait_head != NULL && pool->running < pool->parallel) {
        struct lint_run *run = pool->wait_head;
        struct lint_task *t = run->task;
        struct strv argv = {0};
        struct loop_proc_spec spec;
        struct err e;

        pool->wait_head = run->next;
        if (pool->wait_head == NULL)
            pool->wait_tail = NULL;
        int boxed = linter_sandboxed(pool, run->linter);

        memset(&spec, 0, sizeof spec);
        if (boxed)
            sandbox_argv(run, &argv);
        run_argv(run, &argv);
        if (boxed && !sandbox_has(run_program(run))) {
            strv_free(&argv);
            note(t, "%s did not run: it is not installed", run->linter->tool);
            linter_record(t, run->linter->tool, "missing", NULL, 0);
            if (--t->pending == 0)
                task_ready(t);      /* pool_pump may run inside lint_start */
            continue;
        }
        spec.argv = (const char *const *)argv.v;
        spec.env = boxed ? launcher_env : t->env;
        spec.cwd = boxed ? "/" : t->files;
        spec.timeout_ms = (uint64_t)pool->cfg->lint_timeout_ms;
        spec.output_max = (size_t)pool->cfg->lint_output_max;
        spec.kill_grace_ms = boxed ? LAUNCHER_KILL_GRACE_MS : 0;
        if (argv.oom) {
            run->proc = NULL;
            err_set(&e, ERR_INTERNAL, "out of memory");
        } else {
            run->proc = loop_spawn(pool->loop, &spec, on_linter_done, run, &e);
        }
        strv_free(&argv);
        if (run->proc == NULL) {
            note(t, "%s did not run: %s", run->linter->tool, e.msg);
            linter_record(t, run->linter->tool, "failed", NULL, 0);
            if (--t->pending == 0)
                task_ready(t);      /* pool_pump may run inside lint_start */
            continue;
        }
        pool->running++;
    }
}

static void on_kick(void *arg)
{
    struct lint_pool *pool = arg;

    while (pool->ready != NULL) {
        struct lint_task *t = pool->ready;
        pool->ready = t->ready_next;
        task_complete(t);
    }
}

/* Makes the private directory, writes the file, builds the environment. */
static int task_prepare(struct lint_task *t, const char *rel, const char *content, size_t len)
{
    char why[200];
    int n = 0;

    if (relpath_normal(rel, t->rel, sizeof t->rel) != 0) {
        snprintf(t->res.error, sizeof t->res.error, "invalid file path");
        return -1;
    }
    if (scratch_create(SCRATCH_LINT, t->dir, sizeof t->dir) != 0) {
        snprintf(t->res.error, sizeof t->res.error, "cannot create a temporary directory: %s",
                 strerror(errno));
        return -1;
    }
    snprintf(t->files, sizeof t->files, "%s/%s", t->dir, LAUNCHER_FILES_DIR);
    if (mkdir(t->files, 0700) != 0) {
        snprintf(t->res.error, sizeof t->res.error, "cannot create a temporary directory: %s",
                 strerror(errno));
        return -1;
    }
    if (scratch_write(t->files, t->rel, content, len, why, sizeof why) != 0) {
        snprintf(t->res.error, sizeof t->res.error, "cannot write the file: %s", why);
        return -1;
    }
    snprintf(t->file_arg, sizeof t->file_arg, "./%s", t->rel);
    t->lines = lint_lines_new(content, len);
    snprintf(t->env_buf[n++], sizeof t->env_buf[0], "PATH=%s", t->pool->path_env);
    snprintf(t->env_buf[n++], sizeof t->env_buf[0], "HOME=%s", t->dir);
    snprintf(t->env_buf[n++], sizeof t->env_buf[0], "TMPDIR=%s", t->dir);
    snprintf(t->env_buf[n++], sizeof t->env_buf[0], "PYLINTHOME=%s/.pylint", t->dir);
    snprintf(t->env_buf[n++], sizeof t->env_buf[0], "XDG_CACHE_HOME=%s/.cache", t->dir);
    snprintf(t->env_buf[n++], sizeof t->env_buf[0], "LANG=C.UTF-8");
    snprintf(t->env_buf[n++], sizeof t->env_buf[0], "LC_ALL=C.UTF-8");
    for (int i = 0; i < n; i++)
        t->env[i] = t->env_buf[i];
    t->env[n] = NULL;
    return 0;
}

/* Config stubs some linters need in their working directory (ESLint). */
static int write_stubs(struct lint_task *t, const struct linter *const *list)
{
    char body[PATH_MAX + 64], why[200];

    for (; *list != NULL; list++) {
        const struct linter *l = *list;
        if (l->stub_name == NULL)
            continue;
        snprintf(body, sizeof body, "%s%s%s", l->stub_prefix, t->pool->eslint_config,
                 l->stub_suffix);
        if (scratch_write(t->files, l->stub_name, body, strlen(body), why, sizeof why) != 0) {
            snprintf(t->res.error, sizeof t->res.error, "cannot write %s: %s", l->stub_name, why);
            return -1;
        }
    }
    return 0;
}

struct lint_task *lint_start(struct lint_pool *pool, const char *file_path, const char *content,
                             size_t len, const char *language, lint_done_cb *cb, void *arg,
                             struct err *e)
{
    struct lint_task *t = calloc(1, sizeof *t);
    const struct linter *const *list;

    if (t == NULL) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    t->pool = pool;
    t->cb = cb;
    t->arg = arg;
    t->res.findings = cJSON_CreateArray();
    t->res.linters = cJSON_CreateArray();
    t->res.notes = cJSON_CreateArray();
    t->next = pool->tasks;
    if (pool->tasks != NULL)
        pool->tasks->prev = t;
    pool->tasks = t;

    t->res.language = linters_language_resolve(language, file_path, content, len);
    list = linters_for(t->res.language);

    if (list[0] == NULL) {
        if (t->res.language == NULL && language != NULL && language[0] != '\0')
            note(t, "language '%s' not recognised: no linter ran", language);
        else if (t->res.language == NULL)
            note(t, "language not recognised: no linter ran");
        else
            note(t, "no linter is configured for %s", t->res.language);
    } else if (task_prepare(t, file_path, content, len) != 0) {
        t->res.failed = 1;
    } else if (write_stubs(t, list) != 0) {
        t->res.failed = 1;
    } else {
        for (; *list != NULL && t->nruns < LINT_RUNS_MAX; list++) {
            struct lint_run *run;
            if (linter_refused(pool, *list)) {
                note(t, "%s did not run: linters run only in a sandbox "
                     "(CODEINSIGHT_LINT_SANDBOX=2), and %s", (*list)->tool, pool->unsandboxed);
                linter_record(t, (*list)->tool, "failed", NULL, 0);
                continue;
            }
            if (linter_sandboxed(pool, *list) && len > LINT_SANDBOX_FILE_MAX) {
                note(t, "%s did not run: the file is larger than the sandbox's %d MB file "
                     "limit", (*list)->tool, SANDBOX_FSIZE_MB);
                linter_record(t, (*list)->tool, "failed", NULL, 0);
                continue;
            }
            run = &t->runs[t->nruns++];
            run->task = t;
            run->linter = *list;
            if (pool->wait_tail != NULL)
                pool->wait_tail->next = run;
            else
                pool->wait_head = run;
            pool->wait_tail = run;
        }
        t->pending = t->nruns;
        if (t->pending > 0) {
            pool_pump(pool);
            return t;
        }
    }
    /* Nothing to run: complete from the loop. */
    task_ready(t);
    return t;
}

/* Whether ESLint runs in the sandbox: "eslint --version" from the mount,
 * as the sandbox's user. Not when a directory above the install is closed
 * to that user (a clone in root's 0700 home), nor when the install is not
 * readable by others (copied under umask 027). Then ESLint alone runs
 * unsandboxed (CODEINSIGHT_LINT_SANDBOX=1) or not at all (2). */
static void eslint_probe(struct lint_pool *pool)
{
    const char *extra[] = {"--linter", "--ro-bind", pool->eslint_dir, LINT_ESLINT_MOUNT, NULL};
    const char *cmd[] = {LINT_ESLINT_MOUNT "/node_modules/.bin/eslint", "--version", NULL};
    char why[LAUNCHER_WHY_MAX];

    if (launcher_probe(&pool->where, extra, cmd, why, sizeof why) == 0)
        return;
    snprintf(pool->unsandboxed, sizeof pool->unsandboxed,
             "ESLint cannot run from its install in the sandbox: %s", why);
    pool->eslint_plain = 1;
}

/* Finds ESLint's install, and says where the linter will see it. */
static void eslint_paths(struct lint_pool *pool)
{
    char dir[PATH_MAX];

    if (realpath(pool->cfg->eslint_dir, dir) == NULL)
        return;
    snprintf(pool->eslint_dir, sizeof pool->eslint_dir, "%s", dir);
    snprintf(pool->eslint_bin, sizeof pool->eslint_bin, "%.*s/node_modules/.bin/eslint",
             (int)(sizeof pool->eslint_bin - 32), dir);
    if (access(pool->eslint_bin, X_OK) != 0) {
        pool->eslint_bin[0] = '\0';
        return;
    }
    if (pool->sandboxed)
        eslint_probe(pool);
    if (pool->sandboxed && !pool->eslint_plain) {
        snprintf(pool->eslint_bin, sizeof pool->eslint_bin, "%s",
                 LINT_ESLINT_MOUNT "/node_modules/.bin/eslint");
        snprintf(pool->eslint_config, sizeof pool->eslint_config, "%s",
                 LINT_ESLINT_MOUNT "/eslint.config.mjs");
    } else {
        snprintf(pool->eslint_config, sizeof pool->eslint_config, "%.*s/eslint.config.mjs",
                 (int)(sizeof pool->eslint_config - 32), dir);
    }
}

/* Decides whether runs are sandboxed: cfg->lint_sandbox and the probe. */
static void sandbox_decide(struct lint_pool *pool, const struct launcher *where)
{
    char why[LAUNCHER_WHY_MAX];

    if (pool->cfg->lint_sandbox == 0) {
        snprintf(pool->unsandboxed, sizeof pool->unsandboxed,
                 "turned off by CODEINSIGHT_LINT_SANDBOX=0");
    } else if (where == NULL) {
        snprintf(pool->unsandboxed, sizeof pool->unsandboxed, "there is no sandbox launcher");
    } else if (launcher_probe(where, (const char *const[]){"--linter", NULL}, NULL, why,
                              sizeof why) != 0) {
        snprintf(pool->unsandboxed, sizeof pool->unsandboxed, "the sandbox is unavailable: %s",
                 why);
    } else {
        pool->where = *where;
        pool->sandboxed = 1;
    }
}

const char *lint_pool_unsandboxed(const struct lint_pool *pool)
{
    return pool->unsandboxed[0] != '\0' ? pool->unsandboxed : NULL;
}

const char *lint_pool_unsandboxed_linters(const struct lint_pool *pool)
{
    if (pool->unsandboxed[0] == '\0')
        return NULL;
    return pool->sandboxed ? "eslint" : "all";
}

struct lint_pool *lint_pool_new(struct loop *loop, const struct config *cfg,
                                const struct launcher *where, struct err *e)
{
    struct lint_pool *pool = calloc(1, sizeof *pool);
    const char *path = getenv("PATH");

    if (pool == NULL) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    pool->loop = loop;
    pool->cfg = cfg;
    pool->parallel = cfg->lint_parallel;
    if (pool->parallel <= 0)
        pool->parallel = sysconf(_SC_NPROCESSORS_ONLN) > 0 ? sysconf(_SC_NPROCESSORS_ONLN) : 2;
    snprintf(pool->path_env, sizeof pool->path_env, "%s",
             path && path[0] ? path : LINT_PATH_DEFAULT);
    sandbox_decide(pool, where);
    eslint_paths(pool);
    pool->kick = loop_timer_new(loop, on_kick, pool);
    if (pool->kick == NULL) {
        free(pool);
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    return pool;
}

void lint_pool_free(struct lint_pool *pool)
{
    if (pool == NULL)
        return;
    /* Children still running are killed; their tasks are dropped unreported. */
    while (pool->tasks != NULL) {
        struct lint_task *t = pool->tasks;
        for (int i = 0; i < t->nruns; i++)
            if (t->runs[i].proc != NULL)
                loop_proc_cancel(t->runs[i].proc);  /* a keeper kills its sandbox */
        task_free(t);
    }
    loop_timer_free(pool->kick);
    free(pool);
}
