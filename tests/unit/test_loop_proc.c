/* test_loop_proc.c - unit tests for common/loop.c's children: exit code and
 * both outputs come back; every child leads a session of its own; a timeout
 * and a cancel kill what the child started as well, not just the child,
 * with a grace after a SIGTERM to the child alone when asked; a child
 * cancelled as the loop is freed is freed with it. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/loop.h"

#define T_GUARD_MS 30000        /* no test waits longer for a child */
#define T_GONE_MS 10000         /* for a killed process to disappear */
#define T_OUTPUT_MAX 4096

struct fx {
    struct loop *loop;
    struct loop_timer *guard;
    int done;
    int guard_fired;
    struct loop_proc_result res;
    char out[T_OUTPUT_MAX + 1];
    char err[T_OUTPUT_MAX + 1];
};

static const char *const env[] = {"PATH=/usr/bin:/bin", NULL};

static void on_done(void *arg, const struct loop_proc_result *r)
{
    struct fx *f = arg;

    f->res = *r;
    snprintf(f->out, sizeof f->out, "%s", r->out);
    snprintf(f->err, sizeof f->err, "%s", r->err);
    f->res.out = f->out;
    f->res.err = f->err;
    f->done = 1;
    loop_stop(f->loop);
}

static void on_guard(void *arg)
{
    struct fx *f = arg;

    f->guard_fired = 1;
    loop_stop(f->loop);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    struct err e;

    assert_non_null(f);
    f->loop = loop_new(&e);
    assert_non_null(f->loop);
    f->guard = loop_timer_new(f->loop, on_guard, f);
    assert_non_null(f->guard);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    loop_timer_free(f->guard);
    loop_free(f->loop);
    free(f);
    return 0;
}

/* Runs the loop for ms, or until the child reports when until_done. */
static void spin(struct fx *f, uint64_t ms, int until_done)
{
    f->guard_fired = 0;
    loop_timer_start(f->guard, ms, 0);
    while (!f->guard_fired && !(until_done && f->done))
        loop_run(f->loop);
    loop_timer_stop(f->guard);
}

static struct loop_proc *spawn_grace(struct fx *f, const char *script, uint64_t timeout_ms,
                                     uint64_t grace_ms)
{
    const char *argv[] = {"sh", "-c", script, NULL};
    struct loop_proc_spec spec = {argv, env, NULL, timeout_ms, T_OUTPUT_MAX, grace_ms};
    struct loop_proc *p;
    struct err e;

    p = loop_spawn(f->loop, &spec, on_done, f, &e);
    if (p == NULL)
        fail_msg("loop_spawn: %s", e.msg);
    return p;
}

static struct loop_proc *spawn(struct fx *f, const char *script, uint64_t timeout_ms)
{
    return spawn_grace(f, script, timeout_ms, 0);
}

/* 1 while pid is a live process (a zombie is not). */
static int alive(long pid)
{
    char path[64], buf[512], *state;
    FILE *fp;
    size_t n;

    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    fp = fopen(path, "r");
    if (fp == NULL)
        return 0;
    n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    state = strrchr(buf, ')');
    return state != NULL && state[1] == ' ' && state[2] != 'Z' && state[2] != 'X';
}

static void expect_gone(long pid)
{
    int64_t until = clock_mono_ms() + T_GONE_MS;

    assert_true(pid > 1);
    while (alive(pid) && clock_mono_ms() < until)
        usleep(20 * 1000);
    if (alive(pid))
        fail_msg("process %ld still runs %d ms after the kill", pid, T_GONE_MS);
}

static void test_exit_and_outputs(void **state)
{
    struct fx *f = *state;

    spawn(f, "echo out; echo err >&2; exit 3", T_GUARD_MS);
    spin(f, T_GUARD_MS, 1);
    assert_true(f->done);
    assert_int_equal(f->res.spawn_error, 0);
    assert_int_equal(f->res.exit_code, 3);
    assert_int_equal(f->res.term_signal, 0);
    assert_false(f->res.timed_out);
    assert_string_equal(f->out, "out\n");
    assert_string_equal(f->err, "err\n");
}

/* Field 6 of /proc/<pid>/stat is the session id. */
static void test_own_session(void **state)
{
    struct fx *f = *state;
    long pid = 0, sid = 0, pgrp = 0;

    spawn(f, "echo $$; cut -d' ' -f5,6 /proc/$$/stat", T_GUARD_MS);
    spin(f, T_GUARD_MS, 1);
    assert_true(f->done);
    assert_int_equal(f->res.exit_code, 0);
    assert_int_equal(sscanf(f->out, "%ld %ld %ld", &pid, &pgrp, &sid), 3);
    assert_true(pid > 1);
    assert_int_equal(pgrp, pid);
    assert_int_equal(sid, pid);
    assert_true(sid != getsid(0));
}

/* Runs script (it prints its grandchild's pid) with a wall clock of 300 ms
 * and grace_ms, and expects it killed by SIGKILL, timed out, with the
 * grandchild gone. */
static void expect_timeout_kill(struct fx *f, const char *script, uint64_t grace_ms)
{
    long grandchild = 0;

    spawn_grace(f, script, 300, grace_ms);
    spin(f, T_GUARD_MS, 1);
    assert_true(f->done);
    assert_true(f->res.timed_out);
    assert_int_equal(f->res.term_signal, SIGKILL);
    assert_int_equal(sscanf(f->out, "%ld", &grandchild), 1);
    expect_gone(grandchild);
}

/* The grandchild holds stdout open: without the group kill, the report would
 * wait for it, and it would outlive the timeout. */
static void test_timeout_kills_group(void **state)
{
    expect_timeout_kill(*state, "sleep 60 & echo $!; wait", 0);
}

/* The first number in the file at path, once something has written it
 * there (the loop runs meanwhile); 0 when nothing did in T_GUARD_MS. */
static long read_pid(struct fx *f, const char *path)
{
    long pid = 0;
    FILE *fp;

    for (int64_t until = clock_mono_ms() + T_GUARD_MS; pid == 0 && clock_mono_ms() < until;) {
        spin(f, 20, 0);
        fp = fopen(path, "r");
        if (fp != NULL) {
            if (fscanf(fp, "%ld", &pid) != 1)
                pid = 0;
            fclose(fp);
        }
    }
    return pid;
}

#define T_GRANDCHILD "sleep 60 & echo $! > %s.tmp && mv %s.tmp %s; wait"

/* Runs a child (its script: head, then T_GRANDCHILD) with a grace of
 * grace_ms, and cancels it once its grandchild runs. Returns the
 * grandchild's pid. */
static long cancel_running(struct fx *f, const char *head, uint64_t grace_ms)
{
    char path[] = "/tmp/codeinsight-test-loop-XXXXXX", script[512];
    long grandchild;
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    snprintf(script, sizeof script, "%s" T_GRANDCHILD, head, path, path, path);
    struct loop_proc *p = spawn_grace(f, script, T_GUARD_MS, grace_ms);
    grandchild = read_pid(f, path);
    unlink(path);
    assert_true(grandchild > 1);
    assert_true(alive(grandchild));
    loop_proc_cancel(p);
    return grandchild;
}

static void test_cancel_kills_group(void **state)
{
    struct fx *f = *state;
    long grandchild = cancel_running(f, "", 0);

    expect_gone(grandchild);
    spin(f, 100, 0);
    assert_false(f->done);      /* a cancelled child never reports */
}

/* With a grace, a cancel is a SIGTERM to the child first: its handler runs
 * (it writes its mark), and when it has exited its group is killed, long
 * before the grace (T_GUARD_MS) is over. */
static void test_cancel_with_grace_terms_first(void **state)
{
    struct fx *f = *state;
    char mark[] = "/tmp/codeinsight-test-mark-XXXXXX", head[256], got[32] = "";
    int fd = mkstemp(mark);
    long grandchild;
    FILE *fp;

    assert_true(fd >= 0);
    close(fd);
    snprintf(head, sizeof head, "trap 'echo termed > %s; exit 0' TERM; ", mark);
    grandchild = cancel_running(f, head, T_GUARD_MS);
    for (int64_t until = clock_mono_ms() + T_GONE_MS; alive(grandchild) &&
         clock_mono_ms() < until;)
        spin(f, 20, 0);
    assert_false(alive(grandchild));
    fp = fopen(mark, "r");
    assert_non_null(fp);
    assert_non_null(fgets(got, sizeof got, fp));
    fclose(fp);
    unlink(mark);
    assert_string_equal(got, "termed\n");
    assert_false(f->done);
}

/* A child that ignores the SIGTERM is killed with its group when the grace
 * is over; one that ends on it reports its own exit, still timed out. */
static void test_timeout_with_grace(void **state)
{
    struct fx *f = *state;
    long grandchild = 0;

    expect_timeout_kill(f, "trap '' TERM; sleep 60 & echo $!; wait; wait", 300);
    f->done = 0;
    spawn_grace(f, "trap 'echo bye; exit 7' TERM; sleep 60 & echo $!; wait", 300, T_GUARD_MS);
    spin(f, T_GUARD_MS, 1);
    assert_true(f->done);
    assert_true(f->res.timed_out);
    assert_int_equal(f->res.term_signal, 0);
    assert_int_equal(f->res.exit_code, 7);
    assert_int_equal(sscanf(f->out, "%ld", &grandchild), 1);
    assert_non_null(strstr(f->out, "bye\n"));
    expect_gone(grandchild);
}

/* A child cancelled just before the loop is freed (a worker stopping with a
 * run out) is freed too, though the loop never ran to see it exit (ASan). */
static void test_cancelled_child_freed_with_the_loop(void **state)
{
    struct fx *f = *state;
    struct loop_proc *p = spawn(f, "exec sleep 60", T_GUARD_MS);

    spin(f, 50, 0);
    loop_proc_cancel(p);
    assert_false(f->done);
    /* teardown: loop_free */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exit_and_outputs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_own_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_kills_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_kills_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_with_grace_terms_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_with_grace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancelled_child_freed_with_the_loop, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
