/* test_sandbox_keeper.c - the launcher's keeper (worker/sandbox_exec.h) when
 * bwrap is gone: the sandbox's first process, the init of its pid namespace,
 * must not outlive the worker, nor a bwrap that died on its own.
 *
 * The real launcher (this binary, as the worker's is: main() hands it a
 * "--sandbox-exec" argv) runs a stand-in for bwrap, so the moment that
 * matters is reproduced every time: the init has left the launcher's process
 * group for a session of its own (bwrap --new-session) and has no
 * parent-death signal yet (bwrap's init arms --die-with-parent only later).
 * A stand-in worker, a child of this process, spawns the launcher as
 * loop_spawn does (a session of its own); this process is a child
 * subreaper, so whatever is orphaned on the way comes back to it to be
 * checked and reaped. The worker's own stop of a run (a timeout, a cancel)
 * is tested through the real loop (common/loop.h), which spawns the
 * launcher with its kill grace. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/loop.h"
#include "tests/unit/loop_until.h"
#include "worker/launcher.h"
#include "worker/mongo_sink.h"
#include "worker/sandbox_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* How long the stand-in's init sleeps: far longer than any wait here. */
#define T_INIT_SLEEP_S "30"
/* For the stand-in to write its status, and for a killed init to be gone:
 * milliseconds, but the machine may be busy. */
#define T_STATUS_MS 10000
#define T_GONE_MS 5000
#define T_POLL_MS 5

/* A stand-in for bwrap. Its child, the sandbox's init, enters a session of
 * its own and sleeps, with no parent-death signal; once it is out of the
 * group, the stand-in writes its pid to --json-status-fd as bwrap does
 * ("child-pid"; bwrap writes it just before, here it is just after, so that
 * the test, reading it, knows the init has left) and waits for it. The
 * command after "--" picks a variant:
 * "crash": the stand-in dies (SIGKILL) after writing, as a bwrap killed
 * from outside would; "held": the init stays in the group and no
 * "child-pid" is written (bwrap killed before it released its child), its
 * pid goes to "held-pid" for the test instead. */
static const char fake_bwrap[] =
    "#!/bin/sh\n"
    "fd=; last=\n"
    "while [ $# -gt 0 ]; do\n"
    "  [ \"$1\" = --json-status-fd ] && fd=$2\n"
    "  last=$1; shift\n"
    "done\n"
    "if [ \"$last\" = held ]; then\n"
    "  sleep " T_INIT_SLEEP_S " &\n"
    "  printf '{ \"held-pid\": %d }\\n' $! >&\"$fd\"\n"
    "  wait; exit 0\n"
    "fi\n"
    /* Not a group leader (no job control), so setsid(1) calls setsid() and
     * execs sleep in the same process: $! is the init. */
    "setsid sleep " T_INIT_SLEEP_S " &\n"
    "init=$! sid=\n"
    "until [ \"$sid\" = \"$init\" ]; do\n"
    "  read -r _ _ _ _ _ sid _ < /proc/$init/stat || exit 1\n"
    "done\n"
    "printf '{ \"child-pid\": %d }\\n' $init >&\"$fd\"\n"
    "[ \"$last\" = crash ] && kill -KILL $$\n"
    "wait; exit 0\n";

struct kfx {
    char dir[32];               /* private: the stage and the status file */
    char bin[32];               /* world-searchable: the stand-in */
    char stage[64], status[64], bwrap[64];
    pid_t worker;               /* this process's child; the launcher's parent */
};

/* The pid after key ("child-pid", "held-pid") in the status file; 0 while
 * there is none. */
static pid_t status_pid(const struct kfx *k, const char *key)
{
    char buf[512], *p, *end;
    ssize_t n;
    long v;
    int fd = open(k->status, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return 0;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    if ((p = strstr(buf, key)) == NULL || (p = strchr(p, ':')) == NULL)
        return 0;
    v = strtol(p + 1, &end, 10);
    return end != p + 1 && v > 1 ? (pid_t)v : 0;
}

/* The stand-in worker: spawns the launcher (this binary) in a session of
 * its own, with cmd after "--", and exits as it did. */
static void worker_main(const struct kfx *k, const char *cmd)
{
    char *const argv[] = {
        "/proc/self/exe", SANDBOX_EXEC_FLAG, "--bwrap", (char *)k->bwrap,
        "--stage", (char *)k->stage, "--status", (char *)k->status, "--cpu", "60",
        "--", (char *)cmd, NULL,
    };
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    pid_t pid;
    int status;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
    if (posix_spawn(&pid, argv[0], &fa, &attr, argv, (char *const *)launcher_env) != 0)
        _exit(120);
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            _exit(121);
    _exit(WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status));
}

/* Makes k's directories and writes the stand-in. */
static void prepare(struct kfx *k)
{
    FILE *fp;

    memset(k, 0, sizeof *k);
    snprintf(k->dir, sizeof k->dir, "/tmp/ci-keeper-XXXXXX");
    snprintf(k->bin, sizeof k->bin, "/tmp/ci-fake-bwrap-XXXXXX");
    assert_non_null(mkdtemp(k->dir));
    assert_non_null(mkdtemp(k->bin));
    /* A root launcher runs bwrap as SANDBOX_EXEC_UID: it must reach it. */
    assert_int_equal(chmod(k->bin, 0755), 0);
    snprintf(k->stage, sizeof k->stage, "%s/%s", k->dir, LAUNCHER_FILES_DIR);
    snprintf(k->status, sizeof k->status, "%s/status", k->dir);
    snprintf(k->bwrap, sizeof k->bwrap, "%s/bwrap", k->bin);
    assert_int_equal(mkdir(k->stage, 0700), 0);
    fp = fopen(k->bwrap, "w");
    assert_non_null(fp);
    fputs(fake_bwrap, fp);
    fclose(fp);
    assert_int_equal(chmod(k->bwrap, 0755), 0);
}

/* Starts a worker whose launcher runs the stand-in with cmd; returns the
 * pid the stand-in wrote under key, once it did. */
static pid_t start(struct kfx *k, const char *cmd, const char *key)
{
    int64_t until = clock_mono_ms() + T_STATUS_MS;
    pid_t init;

    prepare(k);
    k->worker = fork();
    assert_true(k->worker >= 0);
    if (k->worker == 0)
        worker_main(k, cmd);
    while ((init = status_pid(k, key)) == 0) {
        int status;
        if (waitpid(k->worker, &status, WNOHANG) == k->worker)
            fail_msg("the launcher ended (wait status %#x) before the stand-in wrote %s",
                     status, key);
        if (clock_mono_ms() > until)
            fail_msg("no %s in %d ms", key, T_STATUS_MS);
        usleep(T_POLL_MS * 1000);
    }
    return init;
}

/* Reaps this process's ended children (orphans come here too); 1 when one
 * of them was pid. */
static int reap(pid_t pid)
{
    int seen = 0, status;
    pid_t p;

    while ((p = waitpid(-1, &status, WNOHANG)) > 0)
        seen |= p == pid;
    return seen;
}

/* Waits at most T_GONE_MS for init to be gone (reaped, by its keeper or
 * here). Returns 1 when it is; else kills it and returns 0. */
static int gone(pid_t init)
{
    int64_t until = clock_mono_ms() + T_GONE_MS;
    siginfo_t si;

    for (;;) {
        if (reap(init) || (kill(init, 0) != 0 && errno == ESRCH))
            return 1;
        if (clock_mono_ms() > until)
            break;
        usleep(T_POLL_MS * 1000);
    }
    /* Orphaned, it is this subreaper's child: its pid cannot be another's. */
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, (id_t)init, &si, WEXITED | WNOHANG | WNOWAIT) == 0) {
        kill(init, SIGKILL);
        waitpid(init, NULL, 0);
    }
    return 0;
}

/* Reaps what is left (the worker, and the keeper if it came here) and
 * removes the files. */
static void finish(struct kfx *k)
{
    int64_t until = clock_mono_ms() + T_GONE_MS;

    while (waitpid(-1, NULL, WNOHANG) >= 0 && clock_mono_ms() < until)
        usleep(T_POLL_MS * 1000);
    unlink(k->bwrap);
    rmdir(k->bin);
    unlink(k->status);
    rmdir(k->stage);
    rmdir(k->dir);
}

/* The worker dies (SIGKILL) while the sandbox's init is out of the group
 * and unguarded: the keeper's parent-death SIGTERM must take the init too. */
static void test_worker_dies(void **state)
{
    struct kfx k;
    pid_t init;
    int ok;

    (void)state;
    init = start(&k, "run", "child-pid");
    assert_int_equal(kill(k.worker, SIGKILL), 0);
    ok = gone(init);
    finish(&k);
    if (!ok)
        fail_msg("the sandbox's init (pid %d) still ran %d ms after the worker died",
                 (int)init, T_GONE_MS);
}

/* bwrap dies on its own (killed from outside) with its init in the same
 * state: the keeper, which waits for bwrap, must not leave the init behind. */
static void test_bwrap_dies(void **state)
{
    struct kfx k;
    int status, ok;
    pid_t init;

    (void)state;
    init = start(&k, "crash", "child-pid");
    assert_int_equal(waitpid(k.worker, &status, 0), k.worker);
    /* The launcher exited as bwrap did: killed by SIGKILL. */
    ok = gone(init);
    finish(&k);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 128 + SIGKILL);
    if (!ok)
        fail_msg("the sandbox's init (pid %d) still ran %d ms after bwrap and its keeper ended",
                 (int)init, T_GONE_MS);
}

/* Before bwrap wrote "child-pid" its child is still in the group (bwrap
 * releases it only after writing): the group kill takes it. */
static void test_worker_dies_before_release(void **state)
{
    struct kfx k;
    pid_t init;
    int ok;

    (void)state;
    init = start(&k, "held", "held-pid");
    assert_int_equal(status_pid(&k, "child-pid"), 0);
    assert_int_equal(kill(k.worker, SIGKILL), 0);
    ok = gone(init);
    finish(&k);
    if (!ok)
        fail_msg("bwrap's child (pid %d), still in the group, ran %d ms after the worker died",
                 (int)init, T_GONE_MS);
}

static int status_written(void *arg)
{
    return status_pid(arg, "child-pid") != 0;
}

/* 1 once init is gone: reaped by its keeper, or, orphaned, here (only that
 * pid is waited for: the loop reaps its own children). */
static int init_gone(void *arg)
{
    pid_t init = *(pid_t *)arg;

    return waitpid(init, NULL, WNOHANG) == init || (kill(init, 0) != 0 && errno == ESRCH);
}

static void on_launcher_done(void *arg, const struct loop_proc_result *r)
{
    (void)r;
    *(int *)arg = 1;
}

/* The worker's own stop of a run, as its sandbox and linters do it: a
 * loop_proc_cancel of a launcher spawned with LAUNCHER_KILL_GRACE_MS, while
 * the init is out of the group and unguarded. The keeper, sent the SIGTERM,
 * must kill it; the group's SIGKILL alone leaves it running. */
static void test_worker_cancels(void **state)
{
    const char *argv[] = {
        "/proc/self/exe", SANDBOX_EXEC_FLAG, "--bwrap", NULL, "--stage", NULL, "--status", NULL,
        "--cpu", "60", "--", "run", NULL,
    };
    struct loop_proc_spec spec = {argv, launcher_env, "/", T_STATUS_MS, 4096,
                                  LAUNCHER_KILL_GRACE_MS};
    struct loop_until *lu;
    struct loop_proc *p;
    struct loop *loop;
    struct kfx k;
    struct err e;
    pid_t init;
    int reported = 0, ok;

    (void)state;
    prepare(&k);
    argv[3] = k.bwrap;
    argv[5] = k.stage;
    argv[7] = k.status;
    loop = loop_new(&e);
    assert_non_null(loop);
    lu = loop_until_new(loop);
    p = loop_spawn(loop, &spec, on_launcher_done, &reported, &e);
    assert_non_null(p);
    assert_true(loop_until_run(lu, status_written, &k, T_STATUS_MS));
    init = status_pid(&k, "child-pid");
    loop_proc_cancel(p);
    ok = loop_until_run(lu, init_gone, &init, T_GONE_MS);
    if (!ok)
        ok = gone(init);    /* kills it, and says it was not */
    loop_until_run(lu, NULL, NULL, 50);     /* the launcher's end, seen by the loop */
    loop_until_free(lu);
    loop_free(loop);
    finish(&k);
    assert_false(reported);     /* a cancelled run never reports */
    if (!ok)
        fail_msg("the sandbox's init (pid %d) still ran %d ms after the worker's cancel",
                 (int)init, T_GONE_MS);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worker_dies),
        cmocka_unit_test(test_bwrap_dies),
        cmocka_unit_test(test_worker_dies_before_release),
        cmocka_unit_test(test_worker_cancels),
    };

    /* As the worker's main() does: the launcher execs bwrap, never exiting
     * to remove libmongoc's counters. */
    mongo_sink_forget_counters();
    if (argc > 1 && strcmp(argv[1], SANDBOX_EXEC_FLAG) == 0)
        return sandbox_exec_main(argc, argv);       /* the launcher: never returns */
    /* Orphans of the worker, the launcher and the stand-in come here. */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
        perror("PR_SET_CHILD_SUBREAPER");
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
