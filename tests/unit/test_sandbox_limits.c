/* test_sandbox_limits.c - the limits of a sandboxed run, against the real
 * bubblewrap: processes (a fork bomb), memory (python, node, cc), CPU (an
 * infinite loop) and the wall clock; none leaves a process behind. Helpers:
 * sandbox_fx.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/unit/sandbox_fx.h"

#include <signal.h>
#include <string.h>

static void test_fork_bomb(void **state)
{
    struct fx *f = *state;
    cJSON *run;

    if (sbx_no_sandbox())
        skip();
    run = sbx_run1(f, "bash", sbx_marked("bomb.sh"), "bomb() { bomb | bomb & }\nbomb\nwait\n",
                   NULL);
    /* It ended, one way or the other (burnt out against RLIMIT_NPROC, or at
     * the wall clock), and took every process with it. */
    assert_true(sbx_num(run, "duration_ms") < T_TIMEOUT_MS);
    sbx_expect_no_sandbox_procs();
}

static void test_memory_bomb(void **state)
{
    struct fx *f = *state;
    cJSON *run;

    if (sbx_no_sandbox())
        skip();
    run = sbx_run1(f, "python", "mem.py",
                   "chunks = []\n"
                   "for i in range(40):\n"
                   "    chunks.append(bytearray(50 * 1024 * 1024))\n"
                   "print('ALLOCATED 2 GB')\n",
                   NULL);
    assert_true(sbx_num(run, "exit") != 0);
    assert_false(sbx_timed_out(run));
    sbx_expect_in(sbx_str(run, "stderr_tail"), "MemoryError");
    sbx_expect_not_in(sbx_str(run, "stdout_tail"), "ALLOCATED");
}

/* node: RLIMIT_AS is memory + SANDBOX_NODE_AS_EXTRA_MB, the V8 heap capped
 * at memory; cc: no RLIMIT_AS, AddressSanitizer's RSS limit instead. */
static void test_memory_bomb_node_cc(void **state)
{
    static const char js[] = "const a = [];\n"
                             "for (let i = 0; i < 40; i++)\n"
                             "    a.push(Buffer.alloc(50 * 1024 * 1024, 1));\n"
                             "console.log('ALLOCATED 2 GB');\n";
    static const char c[] = "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
                            "int main(void)\n{\n"
                            "    for (int i = 0; i < 40; i++) {\n"
                            "        char *p = malloc(50 << 20);\n"
                            "        if (p == NULL) {\n"
                            "            printf(\"malloc failed at %d MB\\n\", i * 50);\n"
                            "            return 3;\n"
                            "        }\n"
                            "        memset(p, 1, 50 << 20);\n"
                            "    }\n"
                            "    printf(\"ALLOCATED 2 GB\\n\");\n"
                            "    return 0;\n}\n";
    struct fx *f = *state;
    cJSON *run;

    if (sbx_no_sandbox())
        skip();
    run = sbx_run1(f, "node", "mem.js", js, NULL);
    assert_true(sbx_num(run, "exit") != 0);
    sbx_expect_in(sbx_str(run, "stderr_tail"), "RangeError");
    sbx_expect_not_in(sbx_str(run, "stdout_tail"), "ALLOCATED");
    sbx_forget(f, 0);

    run = sbx_run1(f, "cc", "mem.c", c, NULL);
    assert_true(sbx_num(run, "exit") != 0);
    assert_false(sbx_timed_out(run));
    sbx_expect_not_in(sbx_str(run, "stdout_tail"), "ALLOCATED");
    if (strstr(sbx_str(run, "stderr_tail"), "AddressSanitizer: hard rss limit exhausted") == NULL)
        sbx_expect_in(sbx_str(run, "stdout_tail"), "malloc failed");
}

static void test_infinite_loop(void **state)
{
    struct fx *f = *state;
    cJSON *run;

    if (sbx_no_sandbox())
        skip();
    run = sbx_run1(f, "python", "spin.py", "while True:\n    pass\n", NULL);
    assert_true(sbx_num(run, "exit") == -1);
    /* RLIMIT_CPU: SIGXCPU at T_CPU_S, SIGKILL a second later; not the wall
     * clock. */
    assert_true(sbx_num(run, "signal") == SIGXCPU || sbx_num(run, "signal") == SIGKILL);
    assert_false(sbx_timed_out(run));
}

static void test_timeout(void **state)
{
    struct fx *f = *state;
    cJSON *run;

    if (sbx_no_sandbox())
        skip();
    run = sbx_run1(f, "python", sbx_marked("sleep.py"),
                   "import time\nprint('sleeping', flush=True)\ntime.sleep(60)\n", NULL);
    assert_true(sbx_timed_out(run));
    assert_int_equal(sbx_num(run, "exit"), -1);
    assert_int_equal(sbx_num(run, "signal"), SIGKILL);
    assert_string_equal(sbx_str(run, "stdout_tail"), "sleeping\n");
    /* The loop's clock is read once per turn: the kill may come a few ms
     * before T_SHORT_MS after the spawn; and long before the sleep's end. */
    assert_true(sbx_num(run, "duration_ms") > T_SHORT_MS - 500);
    assert_true(sbx_num(run, "duration_ms") < 60000 - T_SHORT_MS);
    sbx_expect_no_sandbox_procs();
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fork_bomb, sbx_setup_short, sbx_teardown),
        cmocka_unit_test_setup_teardown(test_memory_bomb, sbx_setup, sbx_teardown),
        cmocka_unit_test_setup_teardown(test_memory_bomb_node_cc, sbx_setup, sbx_teardown),
        cmocka_unit_test_setup_teardown(test_infinite_loop, sbx_setup, sbx_teardown),
        cmocka_unit_test_setup_teardown(test_timeout, sbx_setup_short, sbx_teardown),
    };

    sbx_init(argc, argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
