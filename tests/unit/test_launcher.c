/* test_launcher.c - what the worker and the launcher's keeper read from a
 * launcher's status file (bwrap's --json-status-fd): the sandbox's first
 * process (worker/sandbox_exec.h) and whether the program ran
 * (worker/launcher.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "worker/launcher.h"
#include "worker/sandbox_exec.h"

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
        if (sandbox_exec_child_pid(cases[i].text) != cases[i].want)
            fail_msg("case %zu (%s): %d, want %d", i, cases[i].text,
                     (int)sandbox_exec_child_pid(cases[i].text), (int)cases[i].want);
    }
}

/* bwrap's status file says the program ran: "exit-code" written, or
 * "child-pid" when the run was stopped from outside; nothing, or no file,
 * says it did not. */
static void test_ran(void **state)
{
    static const struct {
        const char *text;
        int stopped, want;
    } cases[] = {
        {"{ \"child-pid\": 42 }\n{ \"exit-code\": 1 }\n", 0, 1},
        {"{ \"child-pid\": 42 }\n{ \"exit-code\": 0 }\n", 1, 1},
        {"{ \"child-pid\": 42 }\n", 1, 1},
        {"{ \"child-pid\": 42 }\n", 0, 0},  /* bwrap's own set-up failed */
        {"", 1, 0},
        {"", 0, 0},
    };
    (void)state;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_status(cases[i].text);
        if (launcher_ran(path, cases[i].stopped) != cases[i].want)
            fail_msg("case %zu (%s, stopped %d): want %d", i, cases[i].text, cases[i].stopped,
                     cases[i].want);
    }
    unlink(path);
    assert_int_equal(launcher_ran(path, 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_child_pid),
        cmocka_unit_test(test_ran),
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
