/* test_proc_guard.c - a guarded process's environment is closed to the
 * other processes of its user; an unguarded one's is open (the control).
 *
 * Both processes must be one unprivileged user (root reads everything), so
 * the test needs to start as root to become one: it is skipped, and says
 * so, otherwise. */
#include "common/proc_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#define NOBODY 65534

/* Exit statuses of the holder (the process that may guard itself). */
#define HOLDER_READ_OK 10       /* its reader could open its environ */
#define HOLDER_READ_DENIED 11   /* the reader got EACCES */
#define HOLDER_BROKEN 12        /* a set-up step failed */

/* As nobody: guards itself or not, then has a child (nobody too) try to
 * open its /proc/<pid>/environ. Exits with one of the statuses above. */
static void holder(int guard)
{
    char path[64];
    pid_t reader;
    int st;

    if (setgid(NOBODY) != 0 || setuid(NOBODY) != 0)
        _exit(HOLDER_BROKEN);
    /* setuid() clears dumpable; the control makes this process dumpable. */
    if (guard ? proc_guard_secrets() != 0 : prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0)
        _exit(HOLDER_BROKEN);
    snprintf(path, sizeof path, "/proc/%d/environ", (int)getpid());
    reader = fork();
    if (reader == 0) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
            _exit(HOLDER_READ_OK);
        _exit(errno == EACCES ? HOLDER_READ_DENIED : HOLDER_BROKEN);
    }
    if (reader < 0 || waitpid(reader, &st, 0) != reader || !WIFEXITED(st))
        _exit(HOLDER_BROKEN);
    _exit(WEXITSTATUS(st));
}

static int run_holder(int guard)
{
    pid_t p = fork();
    int st;

    if (p == 0)
        holder(guard);
    assert_true(p > 0);
    assert_int_equal(waitpid(p, &st, 0), p);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static void test_environ_closed_to_same_user(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        print_message("skipped: needs root to run two processes as nobody\n");
        skip();
    }
    assert_int_equal(run_holder(0), HOLDER_READ_OK);
    assert_int_equal(run_holder(1), HOLDER_READ_DENIED);
}

static void test_guard_is_set(void **state)
{
    (void)state;
    assert_int_equal(proc_guard_secrets(), 0);
    assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_environ_closed_to_same_user),
        cmocka_unit_test(test_guard_is_set),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
