/* test_launcher.c - what the worker reads from a launcher's status file
 * (bwrap's --json-status-fd) and the kill of a stopped sandbox's first
 * process (worker/launcher.h), against real processes. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "worker/launcher.h"

static char dir[] = "/tmp/ci-launcher-XXXXXX";
static char path[sizeof dir + 16];

static void write_status(const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_child_pid(void **state)
{
    static const struct {
        const char *text;
        pid_t want;
    } cases[] = {
        {"{ \"child-pid\": 4242 }\n", 4242},
        {"{ \"child-pid\":4242 }\n{ \"exit-code\": 0 }\n", 4242},
        {"{ \"child-pid\" :\n 77 }", 77},
        {"", 0},
        {"{ \"exit-code\": 1 }", 0},
        {"{ \"child-pid\": 1 }", 0},         /* never init of the worker's namespace */
        {"{ \"child-pid\": 0 }", 0},
        {"{ \"child-pid\": -5 }", 0},
        {"{ \"child-pid\": x }", 0},
        {"{ \"child-pid\" 42 }", 0},
        {"{ \"child-pid\": 99999999999999999999 }", 0},
    };
    (void)state;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_status(cases[i].text);
        if (launcher_child_pid(path) != cases[i].want)
            fail_msg("case %zu (%s): %d, want %d", i, cases[i].text, (int)launcher_child_pid(path),
                     (int)cases[i].want);
    }
    unlink(path);
    assert_int_equal(launcher_child_pid(path), 0);
    launcher_kill_sandbox(path);        /* no status: nothing to kill, no crash */
}

/* A process that left the launcher's group (bwrap --new-session) is not
 * reached by the group kill; named by the status file, it is killed. */
static void test_kill_outside_the_group(void **state)
{
    char text[64];
    int status;
    pid_t pid;
    (void)state;

    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setsid();
        for (int i = 0; i < 600; i++)   /* at most 60 s */
            usleep(100 * 1000);
        _exit(0);
    }
    snprintf(text, sizeof text, "{ \"child-pid\": %d }\n", (int)pid);
    write_status(text);
    launcher_kill_sandbox(path);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_child_pid),
        cmocka_unit_test(test_kill_outside_the_group),
    };
    int rc;

    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(path, sizeof path, "%s/status", dir);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(path);
    rmdir(dir);
    return rc;
}
