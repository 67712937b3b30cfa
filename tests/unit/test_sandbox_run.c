/* test_sandbox_run.c - what a sandboxed run reports, against the real
 * bubblewrap: each runner (python, node, cc under AddressSanitizer, pytest,
 * sh) with its exit, signal, argv and output, and the output tail of a run
 * that writes over 10 MiB, files named like the launcher's own. Helpers: sandbox_fx.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/utf8.h"
#include "tests/unit/sandbox_fx.h"

#include <string.h>

static void test_python_traceback(void **state)
{
    struct fx *f = *state;
    cJSON *run, *argv;

    if (sbx_no_sandbox())
        skip();
    run = sbx_run1(f, "python", "main.py", "def f(x):\n    return 1 / x\n\nprint('before')\nf(0)\n",
                   NULL);
    assert_int_equal(sbx_num(run, "exit"), 1);
    assert_int_equal(sbx_num(run, "signal"), -1);
    assert_false(sbx_timed_out(run));
    assert_string_equal(sbx_str(run, "stdout_tail"), "before\n");
    sbx_expect_in(sbx_str(run, "stderr_tail"), "ZeroDivisionError: division by zero");
    sbx_expect_in(sbx_str(run, "stderr_tail"), "File \"/work/main.py\", line 2, in f");
    assert_int_equal(sbx_num(run, "stdout_bytes"), 7);
    assert_true(sbx_num(run, "duration_ms") >= 0 && sbx_num(run, "duration_ms") < T_TIMEOUT_MS);
    argv = cJSON_GetObjectItemCaseSensitive(run, "argv");
    assert_int_equal(cJSON_GetArraySize(argv), 5);
    assert_string_equal(cJSON_GetArrayItem(argv, 0)->valuestring, "python3");
    assert_string_equal(cJSON_GetArrayItem(argv, 1)->valuestring, "-E");
    assert_string_equal(cJSON_GetArrayItem(argv, 4)->valuestring, "main.py");
}

static void test_node_type_error(void **state)
{
    struct fx *f = *state;
    cJSON *run;

    if (sbx_no_sandbox())
        skip();
    run = sbx_run1(f, "node", "app.js",
                   "const o = null;\nconsole.log('start');\nconsole.log(o.x);\n",
                   NULL);
    assert_int_equal(sbx_num(run, "exit"), 1);
    assert_false(sbx_timed_out(run));
    assert_string_equal(sbx_str(run, "stdout_tail"), "start\n");
    sbx_expect_in(sbx_str(run, "stderr_tail"), "TypeError: Cannot read properties of null");
    sbx_expect_in(sbx_str(run, "stderr_tail"), "/work/app.js:3");
}

static void test_cc_asan_overflow(void **state)
{
    static const char main_c[] =
        "#include <stdio.h>\n#include <stdlib.h>\n"
        "int fill(char *p, int n);\n"
        "int main(int argc, char **argv)\n{\n"
        "    char *p = malloc(8);\n"
        "    printf(\"args %d %s\\n\", argc, argc > 1 ? argv[1] : \"-\");\n"
        "    fflush(stdout);\n"
        "    return fill(p, 9);\n}\n";
    static const char fill_c[] =
        "int fill(char *p, int n)\n{\n    for (int i = 0; i < n; i++)\n        p[i] = 1;\n"
        "    return 0;\n}\n";
    static const char *const args[] = {"$(id) ; x", NULL};
    struct sandbox_file files[] = {
        {"main.c", main_c, sizeof main_c - 1},
        {"lib/fill.c", fill_c, sizeof fill_c - 1},
    };
    struct fx *f = *state;
    cJSON *run;

    if (sbx_no_sandbox())
        skip();
    sbx_start(f, 0, "cc", NULL, files, 2, args);
    sbx_wait_all(f);
    run = f->out[0].run;
    if (run == NULL)
        fail_msg("the sandbox failed: %s", f->out[0].why);
    assert_true(sbx_num(run, "exit") != 0);
    assert_false(sbx_timed_out(run));
    assert_string_equal(sbx_str(run, "stdout_tail"), "args 2 $(id) ; x\n");
    sbx_expect_in(sbx_str(run, "stderr_tail"), "AddressSanitizer: heap-buffer-overflow");
    sbx_expect_in(sbx_str(run, "stderr_tail"), "lib/fill.c:4");
}

static void test_pytest_and_sh_args(void **state)
{
    static const char test_py[] = "def test_ok():\n    assert 1 + 1 == 2\n\n"
                                  "def test_bad():\n    assert 1 + 1 == 3\n";
    static const char *const args[] = {"$(id)", "a b", "; echo pwned", "-c", "*", NULL};
    struct sandbox_file tf = {"tests/test_calc.py", test_py, sizeof test_py - 1};
    struct fx *f = *state;
    cJSON *run;

    if (sbx_no_sandbox())
        skip();
    sbx_start(f, 0, "pytest", NULL, &tf, 1, NULL);
    sbx_wait_all(f);
    run = f->out[0].run;
    if (run == NULL)
        fail_msg("the sandbox failed: %s", f->out[0].why);
    assert_int_equal(sbx_num(run, "exit"), 1);
    sbx_expect_in(sbx_str(run, "stdout_tail"), "1 failed, 1 passed");
    sbx_forget(f, 0);

    run = sbx_run1(f, "sh", "-x.sh", "for a in \"$@\"; do printf '[%s]\\n' \"$a\"; done\n", args);
    assert_int_equal(sbx_num(run, "exit"), 0);
    assert_string_equal(sbx_str(run, "stdout_tail"), "[$(id)]\n[a b]\n[; echo pwned]\n[-c]\n[*]\n");
}


static void test_output_tail(void **state)
{
    struct fx *f = *state;
    const char *out;
    size_t len;
    cJSON *run;

    if (sbx_no_sandbox())
        skip();
    /* 1 + 10,260 lines of 1,023 bytes (two-byte characters) + the end mark:
     * over 10 MiB, and the cut falls inside a line, which the tail drops (a
     * secret cut there would have lost what redaction knows it by): it
     * starts on a line. A cut tail of one unbroken line (stderr) keeps its
     * whole characters. */
    run = sbx_run1(f, "python", "loud.py",
                   "import sys\n"
                   "w = sys.stdout.buffer.write\n"
                   "w(b'a')\n"
                   "line = ('\\u00e9' * 511 + '\\n').encode()\n"
                   "for i in range(10260):\n"
                   "    w(line)\n"
                   "w(b'THE-END\\n')\n"
                   "sys.stderr.write('e' * 100000)\n",
                   NULL);
    out = sbx_str(run, "stdout_tail");
    len = strlen(out);
    assert_int_equal(sbx_num(run, "exit"), 0);
    assert_true(sbx_num(run, "stdout_bytes") >= 10.0 * 1024 * 1024);
    assert_int_equal(sbx_num(run, "stdout_bytes"), 1 + 10260 * 1023 + 8);
    assert_int_equal(sbx_num(run, "stderr_bytes"), 100000);
    assert_true(len < T_OUTPUT_MAX && len >= T_OUTPUT_MAX - 1023);
    assert_int_equal((len - 8) % 1023, 0);        /* whole lines, then the end mark */
    assert_true(len > 8 && strcmp(out + len - 8, "THE-END\n") == 0);
    assert_true(strncmp(out, "\xc3\xa9", 2) == 0);
    assert_true(utf8_valid(out, len, NULL));
    assert_int_equal(strlen(sbx_str(run, "stderr_tail")), T_OUTPUT_MAX);
}

/* The launcher's own files (its status file) live beside the staged files,
 * never among them: submitted files named like them are ordinary files.
 * (A file named "status" once failed the set-up: "create status file: File
 * exists".) */
static void test_files_named_like_the_launchers(void **state)
{
    static const char main_py[] =
        "import os\nprint(sorted(os.listdir('.')), open('status').read(),\n"
        "      open('files/status').read())\n";
    const struct sandbox_file files[] = {
        {"main.py", main_py, sizeof main_py - 1},
        {"status", "S1", 2},
        {"files/status", "S2", 2},
    };
    struct fx *f = *state;
    cJSON *run;

    if (sbx_no_sandbox())
        skip();
    sbx_start(f, 0, "python", "main.py", files, 3, NULL);
    sbx_wait_all(f);
    if (f->out[0].run == NULL)
        fail_msg("the sandbox failed: %s", f->out[0].why);
    run = f->out[0].run;
    assert_int_equal(sbx_num(run, "exit"), 0);
    assert_string_equal(sbx_str(run, "stdout_tail"), "['files', 'main.py', 'status'] S1 S2\n");
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_python_traceback, sbx_setup, sbx_teardown),
        cmocka_unit_test_setup_teardown(test_node_type_error, sbx_setup, sbx_teardown),
        cmocka_unit_test_setup_teardown(test_cc_asan_overflow, sbx_setup, sbx_teardown),
        cmocka_unit_test_setup_teardown(test_pytest_and_sh_args, sbx_setup, sbx_teardown),
        cmocka_unit_test_setup_teardown(test_output_tail, sbx_setup, sbx_teardown),
        cmocka_unit_test_setup_teardown(test_files_named_like_the_launchers, sbx_setup,
                                        sbx_teardown),
    };

    sbx_init(argc, argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
