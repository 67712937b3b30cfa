/* sandbox.c - queues, stages and starts sandboxed runs; reads their results.
 * What the sandbox enforces is set up by the launcher (sandbox_exec.c). */
#include "worker/sandbox.h"

#include "common/clock.h"
#include "common/config.h"
#include "common/err.h"
#include "common/job.h"
#include "common/loop.h"
#include "common/relpath.h"
#include "common/utf8.h"
#include "worker/launcher.h"
#include "worker/sandbox_exec.h"
#include "worker/scratch.h"
#include "worker/strv.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SANDBOX_WHY_MAX LAUNCHER_WHY_MAX

/* The cc runner: $1 address-space limit for the compiler (KB), $2 the number
 * n of sources, then n sources, then the program's arguments. build() moves
 * the n sources behind the arguments and drops the arguments. */
static const char cc_script[] =
    "m=$1; n=$2; shift 2\n"
    "build() {\n"
    "  i=0\n"
    "  while [ \"$i\" -lt \"$n\" ]; do set -- \"$@\" \"$1\"; shift; i=$((i + 1)); done\n"
    "  shift $(($# - n))\n"
    "  ulimit -v \"$m\" && exec cc -g -O0 -fsanitize=address,undefined -fno-omit-frame-pointer"
    " -o /tmp/a.out \"$@\" -lm\n"
    "}\n"
    "(build \"$@\") || { s=$?; echo \"compilation failed (exit $s)\" >&2; exit \"$s\"; }\n"
    "shift \"$n\"\n"
    "exec /tmp/a.out \"$@\"\n";

enum task_state { TASK_WAITING, TASK_RUNNING, TASK_READY, TASK_RETRYING };

struct sandbox_task {
    struct sandbox *sb;
    struct sandbox_task *prev, *next;   /* every live task, for sandbox_free */
    struct sandbox_task *qnext;         /* in the wait queue or the ready list */
    enum task_state state;
    sandbox_done_cb *cb;
    void *arg;
    struct loop_proc *proc;             /* while running */
    struct loop_timer *retry;           /* TASK_RETRYING: until the next try */
    int tries;                          /* set-ups that failed for a passing shortage */
    struct strv argv;                   /* the launcher's; the sandbox's from `inner` on */
    int inner;
    char dir[PATH_MAX];                 /* "" when not created (launcher.h's layout) */
    char stage[PATH_MAX + 16];          /* dir/files */
    char status[PATH_MAX + 16];         /* dir/status */
    char why[SANDBOX_WHY_MAX];          /* TASK_READY: why nothing ran */
};

struct sandbox {
    struct loop *loop;
    const struct config *cfg;
    long parallel;
    int running;
    struct sandbox_task *wait_head, *wait_tail;
    struct sandbox_task *ready_head, *ready_tail;
    struct sandbox_task *tasks;
    struct loop_timer *kick;
    struct launcher where;
    char unavailable[SANDBOX_WHY_MAX];  /* "" when usable */
};

/* ---- tasks ---- */

static void pump(struct sandbox *sb);

static void list_remove(struct sandbox_task **head, struct sandbox_task **tail,
                        struct sandbox_task *t)
{
    struct sandbox_task *prev = NULL;

    for (struct sandbox_task *c = *head; c != NULL; prev = c, c = c->qnext) {
        if (c != t)
            continue;
        if (prev != NULL)
            prev->qnext = c->qnext;
        else
            *head = c->qnext;
        if (*tail == c)
            *tail = prev;
        break;
    }
    t->qnext = NULL;
}

static void list_append(struct sandbox_task **head, struct sandbox_task **tail,
                        struct sandbox_task *t)
{
    t->qnext = NULL;
    if (*tail != NULL)
        (*tail)->qnext = t;
    else
        *head = t;
    *tail = t;
}

/* Unlinks t from every list, kills its run, removes its files, frees it. */
static void task_free(struct sandbox_task *t)
{
    struct sandbox *sb = t->sb;

    if (t->state == TASK_WAITING)
        list_remove(&sb->wait_head, &sb->wait_tail, t);
    else if (t->state == TASK_READY)
        list_remove(&sb->ready_head, &sb->ready_tail, t);
    if (t->proc != NULL) {
        loop_proc_cancel(t->proc);      /* its keeper kills the sandbox */
        sb->running--;
    }
    if (t->retry != NULL)
        loop_timer_free(t->retry);
    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        sb->tasks = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    scratch_remove(t->dir);
    strv_free(&t->argv);
    free(t);
}

/* Nothing will run: reports why from the loop. */
static void task_fail_later(struct sandbox_task *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void task_fail_later(struct sandbox_task *t, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(t->why, sizeof t->why, fmt, ap);
    va_end(ap);
    t->state = TASK_READY;
    list_append(&t->sb->ready_head, &t->sb->ready_tail, t);
    loop_timer_start(t->sb->kick, 0, 0);
}

static void on_kick(void *arg)
{
    struct sandbox *sb = arg;
    struct sandbox_task *t = sb->ready_head;
    char why[SANDBOX_WHY_MAX];
    sandbox_done_cb *cb;
    void *cb_arg;

    if (t == NULL)
        return;
    snprintf(why, sizeof why, "%s", t->why);
    cb = t->cb;
    cb_arg = t->arg;
    task_free(t);
    /* One per turn: the callback may free the sandbox. */
    if (sb->ready_head != NULL)
        loop_timer_start(sb->kick, 0, 0);
    cb(cb_arg, NULL, why);
}

/* A stream's tail as a JSON string: from a UTF-8 boundary when it was cut,
 * NULs and invalid bytes as '?'. */
static cJSON *tail_string(const char *buf, size_t len, int cut)
{
    const char *nl = cut ? memchr(buf, '\n', len) : NULL;
    size_t skip = 0;
    char *s;
    cJSON *j;

    /* A cut tail starts with the end of a line: drop it, so that no secret
     * is kept whose first bytes, which redaction would know it by ("ghp_"),
     * were cut off. A tail of one unbroken line keeps its whole characters. */
    if (nl != NULL)
        skip = (size_t)(nl - buf) + 1;
    while (cut && nl == NULL && skip < len && skip < 3 && ((unsigned char)buf[skip] & 0xc0) == 0x80)
        skip++;
    s = malloc(len - skip + 1);
    if (s == NULL)
        return cJSON_CreateString("");
    memcpy(s, buf + skip, len - skip);
    s[len - skip] = '\0';
    for (size_t i = 0; i < len - skip; i++)
        if (s[i] == '\0')
            s[i] = '?';
    j = cJSON_CreateString(utf8_sanitize(s));
    free(s);
    return j;
}

static cJSON *run_json(const struct sandbox_task *t, const struct loop_proc_result *r)
{
    cJSON *run = cJSON_CreateObject(), *argv = cJSON_AddArrayToObject(run, "argv");
    int sig = 0, code = r->exit_code;

    for (int i = t->inner; i < t->argv.n; i++)
        cJSON_AddItemToArray(argv, cJSON_CreateString(t->argv.v[i]));
    /* bwrap exits 128 + n when its child was killed by signal n. */
    if (r->term_signal != 0)
        sig = r->term_signal;
    else if (code > 128 && code <= 128 + 64)
        sig = code - 128;
    if (sig != 0) {
        cJSON_AddNullToObject(run, "exit");
        cJSON_AddNumberToObject(run, "signal", sig);
    } else {
        cJSON_AddNumberToObject(run, "exit", code);
        cJSON_AddNullToObject(run, "signal");
    }
    cJSON_AddBoolToObject(run, "timed_out", r->timed_out);
    cJSON_AddItemToObject(run, "stdout_tail", tail_string(r->out, r->out_len, r->out_truncated));
    cJSON_AddItemToObject(run, "stderr_tail", tail_string(r->err, r->err_len, r->err_truncated));
    cJSON_AddNumberToObject(run, "stdout_bytes", (double)r->out_total);
    cJSON_AddNumberToObject(run, "stderr_bytes", (double)r->err_total);
    cJSON_AddNumberToObject(run, "duration_ms", (double)r->duration_ms);
    return run;
}

static void on_retry(void *arg)
{
    struct sandbox_task *t = arg;

    t->state = TASK_WAITING;
    list_append(&t->sb->wait_head, &t->sb->wait_tail, t);
    pump(t->sb);
}

/* Queues t again after a set-up that failed for a passing shortage, unless
 * it had its tries. Returns 1 when queued (its callback waits), else 0. */
static int retry_later(struct sandbox_task *t, const struct loop_proc_result *r)
{
    if (!launcher_transient(r) || t->tries >= SANDBOX_SETUP_RETRIES)
        return 0;
    if (t->retry == NULL && (t->retry = loop_timer_new(t->sb->loop, on_retry, t)) == NULL)
        return 0;
    /* The launcher creates the status file anew (O_EXCL). */
    if (unlink(t->status) != 0 && errno != ENOENT)
        return 0;
    loop_timer_start(t->retry, (uint64_t)SANDBOX_SETUP_RETRY_MS << t->tries, 0);
    t->tries++;
    t->state = TASK_RETRYING;
    return 1;
}

static void on_run_done(void *arg, const struct loop_proc_result *r)
{
    struct sandbox_task *t = arg;
    struct sandbox *sb = t->sb;
    char why[SANDBOX_WHY_MAX];
    sandbox_done_cb *cb = t->cb;
    void *cb_arg = t->arg;
    cJSON *run = NULL;

    t->proc = NULL;
    sb->running--;
    why[0] = '\0';
    if (r->spawn_error != 0) {
        snprintf(why, sizeof why, "cannot start the sandbox launcher: %s",
                 loop_strerror(r->spawn_error));
    } else if (launcher_ran(t->status, r->timed_out || r->term_signal != 0)) {
        /* Killed after the program started: the program's run (what it
         * wrote is its own, and is handled as such: redacted, kept). */
        run = run_json(t, r);
    } else if (r->timed_out) {
        snprintf(why, sizeof why, "sandbox set-up did not finish in %ld ms",
                 sb->cfg->sandbox_timeout_ms);
    } else if (retry_later(t, r)) {
        pump(sb);
        return;
    } else {
        /* Nothing of the program ran, so all output is bwrap's or ours. */
        launcher_failure(r, why, sizeof why);
    }
    task_free(t);
    pump(sb);
    /* Last: the callback may free the sandbox. */
    cb(cb_arg, run, run != NULL ? NULL : why);
}

static void pump(struct sandbox *sb)
{
    while (sb->wait_head != NULL && sb->running < sb->parallel) {
        struct sandbox_task *t = sb->wait_head;
        struct loop_proc_spec spec;
        struct err e;

        list_remove(&sb->wait_head, &sb->wait_tail, t);
        memset(&spec, 0, sizeof spec);
        spec.argv = (const char *const *)t->argv.v;
        spec.env = launcher_env;
        spec.cwd = "/";
        spec.timeout_ms = (uint64_t)sb->cfg->sandbox_timeout_ms;
        spec.output_max = (size_t)sb->cfg->sandbox_output_max;
        spec.kill_grace_ms = LAUNCHER_KILL_GRACE_MS;
        t->proc = loop_spawn_tail(sb->loop, &spec, on_run_done, t, &e);
        if (t->proc == NULL) {
            task_fail_later(t, "cannot start the sandbox: %s", e.msg);
            continue;
        }
        t->state = TASK_RUNNING;
        sb->running++;
    }
}

/* ---- spec checks ---- */

/* Copies path without "." and empty segments into out (cap bytes). Returns
 * 0, or -1 when it is not an acceptable relative path. */
static int path_normal(const char *path, char *out, size_t cap)
{
    if (path == NULL || strlen(path) > SANDBOX_PATH_MAX)
        return -1;
    return relpath_normal(path, out, cap);
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n > k && strcmp(s + n - k, suffix) == 0;
}


/* Checks spec and writes the normal form of each path into paths. */
static enum err_code spec_check(const struct sandbox_spec *spec,
                                char (*paths)[SANDBOX_PATH_MAX + 1], char *entry, struct err *e)
{
    size_t total = 0;
    int nargs = 0, nc = 0;

    if (spec->runner == NULL || !job_runner_valid(spec->runner))
        return err_set(e, ERR_INVALID_FIELD_VALUE, "unknown runner");
    if (spec->nfiles < 0 || spec->nfiles > SANDBOX_FILES_MAX || (spec->nfiles > 0 && !spec->files))
        return err_set(e, ERR_INVALID_FIELD_VALUE, "at most %d files", SANDBOX_FILES_MAX);
    for (int i = 0; i < spec->nfiles; i++) {
        const struct sandbox_file *f = &spec->files[i];
        if (path_normal(f->path, paths[i], SANDBOX_PATH_MAX + 1) != 0)
            return err_set(e, ERR_INVALID_FILE_PATH, "file %d: not an acceptable relative path", i);
        if (f->len > 0 && f->content == NULL)
            return err_set(e, ERR_INVALID_FIELD_VALUE, "file %d has no content", i);
        total += f->len;
        if (total > SANDBOX_FILES_BYTES_MAX)
            return err_set(e, ERR_FIELD_TOO_LONG, "files hold more than %d bytes together",
                           SANDBOX_FILES_BYTES_MAX);
        for (int j = 0; j < i; j++)
            if (relpath_clash(paths[i], paths[j]))
                return err_set(e, ERR_INVALID_FILE_PATH, "file %d: path clashes with file %d",
                               i, j);
        nc += has_suffix(paths[i], ".c");
    }
    entry[0] = '\0';
    if (spec->entry != NULL) {
        int found = 0;
        if (path_normal(spec->entry, entry, SANDBOX_PATH_MAX + 1) != 0)
            return err_set(e, ERR_INVALID_FILE_PATH, "entry: not an acceptable relative path");
        for (int i = 0; i < spec->nfiles && !found; i++)
            found = strcmp(paths[i], entry) == 0;
        if (!found)
            return err_set(e, ERR_INVALID_FIELD_VALUE, "entry is not one of the files");
    } else if (strcmp(spec->runner, "pytest") != 0 && strcmp(spec->runner, "cc") != 0) {
        return err_set(e, ERR_INVALID_FIELD_VALUE, "runner %s needs an entry", spec->runner);
    }
    if (strcmp(spec->runner, "cc") == 0 && nc == 0)
        return err_set(e, ERR_INVALID_FIELD_VALUE, "runner cc needs at least one .c file");
    for (const char *const *a = spec->args; a != NULL && *a != NULL; a++) {
        if (++nargs > SANDBOX_ARGS_MAX)
            return err_set(e, ERR_INVALID_FIELD_VALUE, "at most %d arguments", SANDBOX_ARGS_MAX);
        if (strlen(*a) > SANDBOX_ARG_MAX)
            return err_set(e, ERR_FIELD_TOO_LONG, "argument %d is longer than %d bytes", nargs,
                           SANDBOX_ARG_MAX);
    }
    return ERR_OK;
}

/* The launcher's argv for a checked spec (sandbox.h lists the runners). */
static void task_argv(struct sandbox_task *t, const struct sandbox_spec *spec,
                      char (*paths)[SANDBOX_PATH_MAX + 1], const char *entry)
{
    const struct config *cfg = t->sb->cfg;
    struct strv *sv = &t->argv;
    const char *r = spec->runner;
    long mem = cfg->sandbox_memory_mb, as_mb = mem;
    int cc = strcmp(r, "cc") == 0, node = strcmp(r, "node") == 0;
    char entry_arg[SANDBOX_PATH_MAX + 3];

    /* An entry must not read as an option. */
    snprintf(entry_arg, sizeof entry_arg, "%s%s", entry[0] == '-' ? "./" : "", entry);
    if (node)
        as_mb = mem + SANDBOX_NODE_AS_EXTRA_MB;
    else if (cc)
        as_mb = 0;
    launcher_head(sv, &t->sb->where, t->stage, t->status, cfg->sandbox_cpu_s, as_mb);
    if (cc) {
        strv_add(sv, "--env");
        strv_addf(sv,
                "ASAN_OPTIONS=hard_rss_limit_mb=%ld:max_allocation_size_mb=%ld:"
                "allocator_may_return_null=1:detect_leaks=0",
                mem, mem);
        strv_add(sv, "--env");
        strv_add(sv, "UBSAN_OPTIONS=print_stacktrace=1");
    }
    for (int i = 0; i < spec->nfiles; i++) {
        strv_add(sv, "--file");
        strv_add(sv, paths[i]);
    }
    strv_add(sv, "--");
    t->inner = sv->n;
    if (strcmp(r, "python") == 0 || strcmp(r, "pytest") == 0) {
        /* -E -s: no PYTHON* variables, no user site; not -I, whose -P
         * (3.11) keeps the script's directory off sys.path, so that the
         * submitted neighbours could not be imported. */
        strv_add(sv, "python3");
        strv_add(sv, "-E");
        strv_add(sv, "-s");
        strv_add(sv, "-B");
        if (strcmp(r, "pytest") == 0) {
            strv_add(sv, "-m");
            strv_add(sv, "pytest");
            strv_add(sv, "-q");
            strv_add(sv, "-p");
            strv_add(sv, "no:cacheprovider");
        }
    } else if (node) {
        strv_add(sv, "node");
        strv_addf(sv, "--max-old-space-size=%ld", mem);
    } else if (cc) {
        int n = 0;
        strv_add(sv, "sh");
        strv_add(sv, "-c");
        strv_add(sv, cc_script);
        strv_add(sv, "sh");
        strv_addf(sv, "%ld", mem * 1024);
        for (int i = 0; i < spec->nfiles; i++)
            n += has_suffix(paths[i], ".c");
        strv_addf(sv, "%d", n);
        for (int i = 0; i < spec->nfiles; i++)
            if (has_suffix(paths[i], ".c"))
                strv_addf(sv, "%s%s", paths[i][0] == '-' ? "./" : "", paths[i]);
    } else {
        strv_add(sv, r);
    }
    if (entry[0] != '\0' && !cc)
        strv_add(sv, entry_arg);
    for (const char *const *a = spec->args; a != NULL && *a != NULL; a++)
        strv_add(sv, *a);
}

struct sandbox_task *sandbox_run(struct sandbox *sb, const struct sandbox_spec *spec,
                                 sandbox_done_cb *cb, void *arg, struct err *e)
{
    char (*paths)[SANDBOX_PATH_MAX + 1] = calloc(SANDBOX_FILES_MAX + 1, sizeof *paths);
    struct sandbox_task *t = NULL;
    char why[SANDBOX_WHY_MAX - 64];
    char *entry;

    if (paths == NULL) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    entry = paths[SANDBOX_FILES_MAX];
    if (spec_check(spec, paths, entry, e) != ERR_OK)
        goto out;
    t = calloc(1, sizeof *t);
    if (t == NULL) {
        err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    t->sb = sb;
    t->cb = cb;
    t->arg = arg;
    t->next = sb->tasks;
    if (sb->tasks != NULL)
        sb->tasks->prev = t;
    sb->tasks = t;

    if (sb->unavailable[0] != '\0') {
        task_fail_later(t, "%s", sb->unavailable);
        goto out;
    }
    if (scratch_create(SCRATCH_SANDBOX, t->dir, sizeof t->dir) != 0) {
        task_fail_later(t, "cannot create a staging directory: %s", strerror(errno));
        goto out;
    }
    snprintf(t->stage, sizeof t->stage, "%s/%s", t->dir, LAUNCHER_FILES_DIR);
    snprintf(t->status, sizeof t->status, "%s/status", t->dir);
    if (mkdir(t->stage, 0700) != 0) {
        task_fail_later(t, "cannot create a staging directory: %s", strerror(errno));
        goto out;
    }
    for (int i = 0; i < spec->nfiles; i++) {
        if (scratch_write(t->stage, paths[i], spec->files[i].content, spec->files[i].len, why,
                       sizeof why) != 0) {
            task_fail_later(t, "cannot stage file %d: %s", i, why);
            goto out;
        }
    }
    task_argv(t, spec, paths, entry);
    if (t->argv.oom) {
        task_free(t);
        t = NULL;
        err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    t->state = TASK_WAITING;
    list_append(&sb->wait_head, &sb->wait_tail, t);
    pump(sb);
out:
    free(paths);
    return t;
}

void sandbox_cancel(struct sandbox_task *t)
{
    struct sandbox *sb;

    if (t == NULL)
        return;
    sb = t->sb;
    task_free(t);
    pump(sb);
}

const char *sandbox_unavailable(const struct sandbox *sb)
{
    return sb->unavailable[0] != '\0' ? sb->unavailable : NULL;
}

struct sandbox *sandbox_new(struct loop *loop, const struct config *cfg, const char *self_exe,
                            const char *bwrap, struct err *e)
{
    struct sandbox *sb = calloc(1, sizeof *sb);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);

    if (sb == NULL) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    sb->loop = loop;
    sb->cfg = cfg;
    sb->parallel = cfg->sandbox_parallel > 0 ? cfg->sandbox_parallel : (cores > 0 ? cores : 2);
    snprintf(sb->where.self_exe, sizeof sb->where.self_exe, "%s", self_exe);
    snprintf(sb->where.bwrap, sizeof sb->where.bwrap, "%s", bwrap != NULL ? bwrap : SANDBOX_BWRAP);
    sb->kick = loop_timer_new(loop, on_kick, sb);
    if (sb->kick == NULL) {
        free(sb);
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    if (!cfg->sandbox_enabled)
        snprintf(sb->unavailable, sizeof sb->unavailable,
                 "sandbox disabled by CODEINSIGHT_SANDBOX=0");
    else if (launcher_probe(&sb->where, NULL, NULL, sb->unavailable, sizeof sb->unavailable) == 0)
        sb->unavailable[0] = '\0';
    return sb;
}

void sandbox_free(struct sandbox *sb)
{
    if (sb == NULL)
        return;
    while (sb->tasks != NULL)
        task_free(sb->tasks);
    loop_timer_free(sb->kick);
    free(sb);
}
