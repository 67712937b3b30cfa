/* sandbox_fx.c - test support for the sandbox tests (sandbox_fx.h). */
#include "tests/unit/sandbox_fx.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/clock.h"
#include "common/err.h"
#include "worker/mongo_sink.h"
#include "worker/sandbox_exec.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T_MEMORY_MB 512
/* For killed sandbox processes to disappear: well under a second, but the
 * machine may be busy. (Processes that outlived this once, gone "minutes
 * later", were sandboxes orphaned by a cancel during bwrap's set-up, whose
 * 60 s sleep had ended: test_sandbox_sched.c, test_cancel_at_any_moment.) */
#define T_REAP_MS 15000

static const char *skip_reason;     /* set when bwrap cannot work here */
static char marker[32];             /* "cisbx<pid>", see sbx_sandbox_procs() */

void sbx_on_done(void *arg, cJSON *run, const char *why)
{
    struct outcome *o = arg;

    o->run = run;
    snprintf(o->why, sizeof o->why, "%s", why ? why : "");
    o->done = 1;
    o->order = ++o->fx->finished;
    if (--o->fx->pending == 0)
        loop_stop(o->fx->loop);
}

static void on_guard(void *arg)
{
    struct fx *f = arg;

    f->guard_fired = 1;
    loop_stop(f->loop);
}

void sbx_cfg_defaults(struct config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->sandbox_enabled = 1;
    cfg->sandbox_parallel = 2;
    cfg->sandbox_timeout_ms = T_TIMEOUT_MS;
    cfg->sandbox_cpu_s = T_CPU_S;
    cfg->sandbox_memory_mb = T_MEMORY_MB;
    cfg->sandbox_output_max = T_OUTPUT_MAX;
}

struct fx *sbx_fx_new(const struct config *cfg, const char *self_exe, const char *bwrap)
{
    struct fx *f = calloc(1, sizeof *f);
    struct err e;

    assert_non_null(f);
    f->cfg = *cfg;
    f->loop = loop_new(&e);
    assert_non_null(f->loop);
    f->guard = loop_timer_new(f->loop, on_guard, f);
    assert_non_null(f->guard);
    f->sb = sandbox_new(f->loop, &f->cfg, self_exe, bwrap, &e);
    assert_non_null(f->sb);
    for (int i = 0; i < T_RUNS_MAX; i++)
        f->out[i].fx = f;
    return f;
}

void sbx_fx_free(struct fx *f)
{
    sandbox_free(f->sb);
    loop_timer_free(f->guard);
    for (int i = 0; i < T_RUNS_MAX; i++)
        cJSON_Delete(f->out[i].run);
    loop_free(f->loop);
    free(f);
}

int sbx_setup(void **state)
{
    struct config cfg;

    if (skip_reason != NULL)
        return 0;
    sbx_cfg_defaults(&cfg);
    *state = sbx_fx_new(&cfg, "/proc/self/exe", NULL);
    return 0;
}

/* Runs end at the wall clock: T_SHORT_MS. */
int sbx_setup_short(void **state)
{
    struct config cfg;

    if (skip_reason != NULL)
        return 0;
    sbx_cfg_defaults(&cfg);
    cfg.sandbox_timeout_ms = T_SHORT_MS;
    *state = sbx_fx_new(&cfg, "/proc/self/exe", NULL);
    return 0;
}

int sbx_teardown(void **state)
{
    if (*state != NULL)
        sbx_fx_free(*state);
    *state = NULL;
    return 0;
}

/* 1, with the reason printed, when the sandbox cannot work here. */
int sbx_no_sandbox(void)
{
    if (skip_reason != NULL)
        print_message("skipped: %s\n", skip_reason);
    return skip_reason != NULL;
}

/* Runs the loop until every started run has reported, at most T_GUARD_MS. */
void sbx_wait_all(struct fx *f)
{
    f->guard_fired = 0;
    loop_timer_start(f->guard, T_GUARD_MS, 0);
    while (f->pending > 0 && !f->guard_fired)
        loop_run(f->loop);
    loop_timer_stop(f->guard);
    if (f->pending > 0)
        fail_msg("%d sandbox runs did not report within %d ms", f->pending, T_GUARD_MS);
}

/* Runs the loop for ms (callbacks may run meanwhile). */
void sbx_spin(struct fx *f, int ms)
{
    f->guard_fired = 0;
    loop_timer_start(f->guard, (uint64_t)ms, 0);
    while (!f->guard_fired)
        loop_run(f->loop);
}

/* Frees slot's outcome, for another run. */
void sbx_forget(struct fx *f, int slot)
{
    cJSON_Delete(f->out[slot].run);
    memset(&f->out[slot], 0, sizeof f->out[slot]);
    f->out[slot].fx = f;
}

struct sandbox_task *sbx_start(struct fx *f, int slot, const char *runner, const char *entry,
                               const struct sandbox_file *files, int nfiles,
                               const char *const *args)
{
    struct sandbox_spec spec = {runner, entry, args, files, nfiles};
    struct sandbox_task *t;
    struct err e;

    t = sandbox_run(f->sb, &spec, sbx_on_done, &f->out[slot], &e);
    if (t == NULL)
        fail_msg("sandbox_run: %s", e.msg);
    f->pending++;
    return t;
}

/* One file, one run, waited for. Returns the run (borrowed from f). */
cJSON *sbx_run1(struct fx *f, const char *runner, const char *name, const char *code,
                const char *const *args)
{
    struct sandbox_file file = {name, code, strlen(code)};

    sbx_start(f, 0, runner, strcmp(runner, "cc") == 0 ? NULL : name, &file, 1, args);
    sbx_wait_all(f);
    if (f->out[0].run == NULL)
        fail_msg("the sandbox failed: %s", f->out[0].why);
    return f->out[0].run;
}

const char *sbx_str(const cJSON *run, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(run, name);

    if (!cJSON_IsString(v))
        fail_msg("run has no string %s", name);
    return v->valuestring;
}

/* A number member; -1 for null. */
double sbx_num(const cJSON *run, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(run, name);

    if (cJSON_IsNull(v))
        return -1;
    if (!cJSON_IsNumber(v))
        fail_msg("run has no number %s", name);
    return v->valuedouble;
}

int sbx_timed_out(const cJSON *run)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(run, "timed_out"));
}

void sbx_expect_in(const char *hay, const char *needle)
{
    if (strstr(hay, needle) == NULL)
        fail_msg("expected \"%s\" in:\n%.3000s", needle, hay);
}

void sbx_expect_not_in(const char *hay, const char *needle)
{
    if (strstr(hay, needle) != NULL)
        fail_msg("did not expect \"%s\" in:\n%.3000s", needle, hay);
}

/* Live (not zombie) processes of the sandbox user whose command line holds
 * `marker` (this test process's, in the names of the files it runs), so that
 * sandboxes of other test processes do not count. */
int sbx_sandbox_procs(void)
{
    unsigned want = getuid() == 0 ? SANDBOX_EXEC_UID : getuid();
    DIR *d = opendir("/proc");
    struct dirent *de;
    int n = 0;

    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        char path[300], line[256], cmd[4096];
        unsigned ruid = 0;
        int zombie = 0, fd;
        ssize_t len;
        FILE *fp;

        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/status", de->d_name);
        fp = fopen(path, "r");
        if (fp == NULL)
            continue;
        while (fgets(line, sizeof line, fp) != NULL) {
            char state;
            if (sscanf(line, "State: %c", &state) == 1)
                zombie = state == 'Z' || state == 'X';
            if (sscanf(line, "Uid: %u", &ruid) == 1)
                break;
        }
        fclose(fp);
        if (zombie || ruid != want)
            continue;
        snprintf(path, sizeof path, "/proc/%s/cmdline", de->d_name);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        len = read(fd, cmd, sizeof cmd - 1);
        close(fd);
        if (len <= 0)
            continue;
        for (ssize_t i = 0; i < len; i++)
            if (cmd[i] == '\0')
                cmd[i] = ' ';
        cmd[len] = '\0';
        n += strstr(cmd, marker) != NULL;
    }
    closedir(d);
    return n;
}

/* Waits (bounded) until none of this test's sandbox processes is left. */
void sbx_expect_no_sandbox_procs(void)
{
    int64_t until = clock_mono_ms() + T_REAP_MS;
    int n;

    while ((n = sbx_sandbox_procs()) > 0 && clock_mono_ms() < until)
        usleep(50 * 1000);
    if (n > 0)
        fail_msg("%d sandbox processes (uid %d) still running %d ms after the run", n,
                 SANDBOX_EXEC_UID, T_REAP_MS);
}

/* "<marker>-<base>": a file name sbx_sandbox_procs() recognises. */
const char *sbx_marked(const char *base)
{
    static char names[8][64];
    static int next;
    char *s = names[next++ % 8];

    snprintf(s, sizeof names[0], "%s-%s", marker, base);
    return s;
}


/* bwrap with user namespaces must work here; else the sandbox tests skip. */
static void check_bwrap(void)
{
    struct config cfg;
    struct loop *loop;
    struct sandbox *sb;
    struct err e;
    static char why[300];

    sbx_cfg_defaults(&cfg);
    loop = loop_new(&e);
    sb = loop ? sandbox_new(loop, &cfg, "/proc/self/exe", NULL, &e) : NULL;
    if (sb == NULL) {
        snprintf(why, sizeof why, "cannot create the sandbox: %s", e.msg);
        skip_reason = why;
    } else if (sandbox_unavailable(sb) != NULL) {
        snprintf(why, sizeof why, "%s", sandbox_unavailable(sb));
        skip_reason = why;
    }
    sandbox_free(sb);
    loop_free(loop);
    if (skip_reason != NULL)
        printf("sandbox tests skip: %s\n", skip_reason);
}

void sbx_init(int argc, char **argv)
{
    /* As the worker's main() does: this binary, re-executed as the launcher,
     * execs bwrap and never exits to remove it. */
    mongo_sink_forget_counters();
    if (argc > 1 && strcmp(argv[1], SANDBOX_EXEC_FLAG) == 0)
        exit(sandbox_exec_main(argc, argv));     /* never returns */
    snprintf(marker, sizeof marker, "cisbx%d", (int)getpid());
    /* A secret of the worker's environment the sandbox must never see. */
    setenv("CODEINSIGHT_CANARY_SECRET", "canary-7f3d1c9e2b", 1);
    check_bwrap();
}
