/* test_sandbox_sched.c - the life of sandboxed runs, against the real
 * bubblewrap: the parallel cap and its FIFO; a cancel, a sandbox_free and
 * the worker's death each take the whole sandbox down, whenever they land;
 * and the paths where no sandbox can be made or a spec is refused, where
 * nothing runs. Helpers: sandbox_fx.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/clock.h"
#include "common/err.h"
#include "tests/unit/sandbox_fx.h"
#include "worker/sandbox.h"
#include "worker/sandbox_exec.h"
#include "worker/scratch.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* test_cancel_at_any_moment: rounds, and the span their cancels spread
 * over. */
#define T_CANCEL_ROUNDS 40
#define T_CANCEL_SPREAD_MS 400

static void test_parallel_cap(void **state)
{
    static const char code[] = "import time\nprint('%.3f' % time.time(), flush=True)\n"
                               "time.sleep(1)\nprint('%.3f' % time.time())\n";
    struct sandbox_file file = {"p.py", code, sizeof code - 1};
    struct config cfg;
    struct fx *f;
    double prev_end = 0;

    (void)state;
    if (sbx_no_sandbox())
        skip();
    sbx_cfg_defaults(&cfg);
    cfg.sandbox_parallel = 1;
    f = sbx_fx_new(&cfg, "/proc/self/exe", NULL);
    for (int i = 0; i < 3; i++)
        sbx_start(f, i, "python", "p.py", &file, 1, NULL);
    sbx_wait_all(f);
    for (int i = 0; i < 3; i++) {
        double b, e;
        if (f->out[i].run == NULL)
            fail_msg("run %d: the sandbox failed: %s", i, f->out[i].why);
        assert_int_equal(f->out[i].order, i + 1);      /* FIFO */
        assert_int_equal(sscanf(sbx_str(f->out[i].run, "stdout_tail"), "%lf %lf", &b, &e), 2);
        if (b < prev_end)
            fail_msg("run %d started at %.3f before run %d ended at %.3f", i, b, i - 1, prev_end);
        prev_end = e;
    }
    sbx_fx_free(f);
}

static void test_cancel_and_free(void **state)
{
    static const char code[] = "import time\ntime.sleep(60)\n";
    struct sandbox_file file = {sbx_marked("s.py"), code, sizeof code - 1};
    struct fx *f = *state;
    struct sandbox_task *t;

    if (sbx_no_sandbox())
        skip();
    t = sbx_start(f, 0, "python", file.path, &file, 1, NULL);
    sbx_start(f, 1, "python", file.path, &file, 1, NULL);
    sbx_start(f, 2, "python", file.path, &file, 1, NULL);   /* waits: parallel is 2 */
    /* Until both run (a busy machine may take a while to start them). */
    for (int64_t until = clock_mono_ms() + T_TIMEOUT_MS;
         sbx_sandbox_procs() < 2 && clock_mono_ms() < until;)
        sbx_spin(f, 50);
    assert_true(sbx_sandbox_procs() >= 2);    /* they were running */
    sandbox_cancel(t);
    sbx_spin(f, 300);
    assert_false(f->out[0].done);
    sandbox_free(f->sb);            /* kills the second, drops the third */
    f->sb = NULL;
    sbx_spin(f, 300);
    assert_false(f->out[1].done);
    assert_false(f->out[2].done);
    sbx_expect_no_sandbox_procs();
}

/* A cancel must take the whole sandbox down whenever it lands: while the
 * launcher starts, while bwrap builds the namespaces, or once the program
 * runs. Bounded: T_CANCEL_ROUNDS rounds of at most T_CANCEL_SPREAD_MS. */
static void test_cancel_at_any_moment(void **state)
{
    static const char code[] = "import time\ntime.sleep(60)\n";
    struct sandbox_file file = {sbx_marked("c.py"), code, sizeof code - 1};
    struct fx *f = *state;

    if (sbx_no_sandbox())
        skip();
    for (int i = 0; i < T_CANCEL_ROUNDS; i++) {
        struct sandbox_task *t = sbx_start(f, 0, "python", file.path, &file, 1, NULL);
        int ms = (i * T_CANCEL_SPREAD_MS) / T_CANCEL_ROUNDS;

        if (ms > 0)
            sbx_spin(f, ms);
        if (f->out[0].done)
            fail_msg("round %d: the run ended by itself within %d ms: %s; stderr: %s", i, ms,
                     f->out[0].run == NULL ? f->out[0].why : "it ran",
                     f->out[0].run == NULL ? "" : sbx_str(f->out[0].run, "stderr_tail"));
        sandbox_cancel(t);
        f->pending--;
    }
    sbx_spin(f, 100);
    assert_false(f->out[0].done);
    sbx_expect_no_sandbox_procs();
}

/* Fills the sandbox user's RLIMIT_NPROC for hold_ms: a child turns into
 * that user and forks until the limit refuses (at most SANDBOX_NPROC more),
 * says so on a pipe, then all of them leave. Returns the child's pid (reap
 * it) once the limit is full, or -1. */
static pid_t fill_nproc(int hold_ms)
{
    int pfd[2];
    char ready;
    pid_t leader;

    if (pipe(pfd) != 0)
        return -1;
    leader = fork();
    if (leader != 0) {
        close(pfd[1]);
        if (leader < 0 || read(pfd[0], &ready, 1) != 1)
            leader = -1;
        close(pfd[0]);
        return leader;
    }
    {
        struct rlimit rl = {SANDBOX_NPROC, SANDBOX_NPROC};
        struct timespec hold = {hold_ms / 1000, (long)(hold_ms % 1000) * 1000000L};

        close(pfd[0]);
        if (setresgid(SANDBOX_EXEC_GID, SANDBOX_EXEC_GID, SANDBOX_EXEC_GID) != 0 ||
            setresuid(SANDBOX_EXEC_UID, SANDBOX_EXEC_UID, SANDBOX_EXEC_UID) != 0 ||
            setrlimit(RLIMIT_NPROC, &rl) != 0)
            _exit(2);
        for (int i = 0; i < SANDBOX_NPROC; i++) {
            pid_t p = fork();
            if (p < 0)
                break;
            if (p == 0) {
                nanosleep(&hold, NULL);
                _exit(0);
            }
        }
        if (write(pfd[1], "r", 1) != 1)
            _exit(3);
        nanosleep(&hold, NULL);
        while (wait(NULL) > 0)
            ;
        _exit(0);
    }
}

/* bwrap cannot fork while the sandbox user is at its process limit for a
 * moment (runs just cancelled, say): the set-up is tried again, and the run
 * goes ahead once the processes are gone. */
static void test_setup_retried_after_a_passing_shortage(void **state)
{
    struct fx *f = *state;
    int status;
    pid_t filler;
    cJSON *run;

    if (sbx_no_sandbox())
        skip();
    if (geteuid() != 0)
        skip();     /* only root can be the sandbox user (and it runs as root) */
    filler = fill_nproc(600);
    assert_true(filler > 0);
    run = sbx_run1(f, "python", "ok.py", "print('ok')\n", NULL);
    assert_string_equal(sbx_str(run, "stdout_tail"), "ok\n");
    assert_int_equal(waitpid(filler, &status, 0), filler);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* How many of pid's sandbox staging directories are in $TMPDIR (or /tmp). */
static int scratch_left(pid_t pid)
{
    const char *env = getenv("TMPDIR"), *tmp = env != NULL && env[0] == '/' ? env : "/tmp";
    char prefix[64];
    struct dirent *de;
    DIR *d = opendir(tmp);
    int n = 0;

    assert_non_null(d);
    snprintf(prefix, sizeof prefix, "%s-%ld-", SCRATCH_SANDBOX, (long)pid);
    while ((de = readdir(d)) != NULL)
        n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

/* A worker killed with SIGKILL takes its sandboxes with it: the launcher's
 * keeper gets the parent-death signal and kills bwrap, the sandbox's init
 * and its group (test_sandbox_keeper: the init out of the group). Their
 * staging directories, which only the worker could remove, are swept by
 * the next worker (scratch_sweep). */
static void test_worker_killed(void **state)
{
    static const char code[] = "import time\ntime.sleep(60)\n";
    struct sandbox_file file = {sbx_marked("k.py"), code, sizeof code - 1};
    int status;
    pid_t pid;

    (void)state;
    if (sbx_no_sandbox())
        skip();
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct config cfg;
        struct fx *f;

        sbx_cfg_defaults(&cfg);
        f = sbx_fx_new(&cfg, "/proc/self/exe", NULL);
        sbx_start(f, 0, "python", file.path, &file, 1, NULL);
        sbx_start(f, 1, "python", file.path, &file, 1, NULL);
        /* Until both programs run: keeper, bwrap, init and python each. */
        for (int64_t until = clock_mono_ms() + T_TIMEOUT_MS;
             sbx_sandbox_procs() < 8 && clock_mono_ms() < until;)
            sbx_spin(f, 50);
        raise(SIGKILL);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    sbx_expect_no_sandbox_procs();
    assert_int_equal(scratch_left(pid), 2);
    assert_true(scratch_sweep(SCRATCH_SANDBOX) >= 2);
    assert_int_equal(scratch_left(pid), 0);
}

/* ---- no sandbox, no run ---- */

static void expect_refused(const struct config *cfg, const char *self_exe, const char *bwrap,
                           const char *reason)
{
    static const char code[] = "import time\ntime.sleep(3)\nprint('RAN')\n";
    struct sandbox_file file = {sbx_marked("x.py"), code, sizeof code - 1};
    struct fx *f = sbx_fx_new(cfg, self_exe, bwrap);
    int64_t t0 = clock_mono_ms();

    if (sandbox_unavailable(f->sb) == NULL)
        fail_msg("the sandbox should be unavailable (%s)", reason);
    sbx_expect_in(sandbox_unavailable(f->sb), reason);
    sbx_start(f, 0, "python", file.path, &file, 1, NULL);
    assert_false(f->out[0].done);       /* never inside sandbox_run */
    sbx_wait_all(f);
    assert_null(f->out[0].run);
    sbx_expect_in(f->out[0].why, reason);
    assert_true(clock_mono_ms() - t0 < 3000);   /* the program sleeps 3 s */
    sbx_fx_free(f);
    assert_int_equal(sbx_sandbox_procs(), 0);
}

static void test_unavailable(void **state)
{
    struct config cfg;

    (void)state;
    sbx_cfg_defaults(&cfg);
    cfg.sandbox_enabled = 0;
    expect_refused(&cfg, "/proc/self/exe", NULL, "sandbox disabled by CODEINSIGHT_SANDBOX=0");
    if (sbx_no_sandbox())
        skip();
    cfg.sandbox_enabled = 1;
    expect_refused(&cfg, "/proc/self/exe", "/nonexistent/bwrap",
                   "bubblewrap not found at /nonexistent/bwrap");
    /* A "bwrap" that fails the way a broken one does: no child, exit 1. */
    expect_refused(&cfg, "/proc/self/exe", "/bin/false", "sandbox probe failed (exit 1)");
    expect_refused(&cfg, "/nonexistent/launcher", NULL, "cannot start the launcher");
}

static void test_invalid_specs(void **state)
{
    static const char *const many[SANDBOX_ARGS_MAX + 2] = {
        "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a",
        "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", NULL};
    struct sandbox_file ok = {"a.py", "print(1)\n", 9};
    struct sandbox_file bad = {"../a.py", "print(1)\n", 9};
    struct sandbox_file dup[] = {{"a.py", "", 0}, {"./a.py", "", 0}};
    struct sandbox_file clash[] = {{"a", "", 0}, {"a/b.py", "", 0}};
    struct {
        struct sandbox_spec spec;
        enum err_code code;
    } cases[] = {
        {{"ruby", "a.py", NULL, &ok, 1}, ERR_INVALID_FIELD_VALUE},
        {{NULL, "a.py", NULL, &ok, 1}, ERR_INVALID_FIELD_VALUE},
        {{"python", "b.py", NULL, &ok, 1}, ERR_INVALID_FIELD_VALUE},
        {{"python", NULL, NULL, &ok, 1}, ERR_INVALID_FIELD_VALUE},
        {{"python", "../a.py", NULL, &bad, 1}, ERR_INVALID_FILE_PATH},
        {{"python", "a.py", NULL, dup, 2}, ERR_INVALID_FILE_PATH},
        {{"python", "a/b.py", NULL, clash, 2}, ERR_INVALID_FILE_PATH},
        {{"cc", NULL, NULL, &ok, 1}, ERR_INVALID_FIELD_VALUE},
        {{"python", "a.py", many, &ok, 1}, ERR_INVALID_FIELD_VALUE},
    };
    struct config cfg;
    struct fx *f;

    (void)state;
    sbx_cfg_defaults(&cfg);
    cfg.sandbox_enabled = 0;    /* checked before anything else */
    f = sbx_fx_new(&cfg, "/proc/self/exe", NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct err e;
        err_clear(&e);
        if (sandbox_run(f->sb, &cases[i].spec, sbx_on_done, &f->out[0], &e) != NULL)
            fail_msg("case %zu was accepted", i);
        if (e.code != cases[i].code)
            fail_msg("case %zu: %s (%s)", i, err_code_str(e.code), e.msg);
    }
    sbx_spin(f, 50);
    assert_false(f->out[0].done);
    sbx_fx_free(f);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parallel_cap),
        cmocka_unit_test_setup_teardown(test_cancel_and_free, sbx_setup, sbx_teardown),
        cmocka_unit_test_setup_teardown(test_cancel_at_any_moment, sbx_setup, sbx_teardown),
        cmocka_unit_test_setup_teardown(test_setup_retried_after_a_passing_shortage, sbx_setup,
                                        sbx_teardown),
        cmocka_unit_test(test_worker_killed),
        cmocka_unit_test(test_unavailable),
        cmocka_unit_test(test_invalid_specs),
    };

    sbx_init(argc, argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
