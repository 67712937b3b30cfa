/* test_cli_args.c - unit tests for cli/args.c: commands, options, defaults
 * and the combinations refused with exit status 2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli/args.h"

/* Parses a NULL-terminated argument list (argv[0] supplied). */
static int parse(struct cli_args *a, char *msg, size_t cap, const char *const *args)
{
    char *argv[64];
    int argc = 0;

    argv[argc++] = (char *)"codeinsight";
    for (; *args != NULL && argc < 63; args++)
        argv[argc++] = (char *)*args;
    argv[argc] = NULL;
    return args_parse(argc, argv, a, msg, cap);
}

#define PARSE(a, msg, ...) parse(a, msg, sizeof msg, (const char *const[]){__VA_ARGS__, NULL})

static void test_review_defaults(void **state)
{
    struct cli_args a;
    char msg[256];

    (void)state;
    assert_int_equal(PARSE(&a, msg, "review", "a.py", "src/b.c"), 0);
    assert_int_equal(a.cmd, CMD_REVIEW);
    assert_int_equal(a.nfiles, 2);
    assert_string_equal(a.files[0], "a.py");
    assert_string_equal(a.files[1], "src/b.c");
    assert_string_equal(a.type, "review");
    assert_int_equal(a.format, FMT_TEXT);
    assert_int_equal(a.fail_on, SEV_MAJOR);
    assert_int_equal(a.timeout_s, CLI_TIMEOUT_DEFAULT);
    assert_int_equal(a.no_wait, 0);
    assert_int_equal(a.no_cache, 0);
    assert_null(a.diff);
    assert_null(a.url);
}

static void test_review_options(void **state)
{
    struct cli_args a;
    char msg[256];

    (void)state;
    assert_int_equal(PARSE(&a, msg, "--url", "http://h:1", "review", "-f", "sarif",
                           "--fail-on=minor", "--diff", "-", "--filter", "added", "x.py",
                           "--timeout", "30", "-q", "--", "--odd-name.py"), 0);
    assert_string_equal(a.url, "http://h:1");
    assert_int_equal(a.format, FMT_SARIF);
    assert_int_equal(a.fail_on, SEV_MINOR);
    assert_string_equal(a.diff, "-");
    assert_string_equal(a.filter, "added");
    assert_int_equal(a.timeout_s, 30);
    assert_int_equal(a.quiet, 1);
    assert_int_equal(a.nfiles, 2);
    assert_string_equal(a.files[1], "--odd-name.py");

    assert_int_equal(PARSE(&a, msg, "review", "--diff", "-"), 0);
    assert_int_equal(a.nfiles, 0);
    assert_int_equal(PARSE(&a, msg, "review", "a.py", "--fail-on", "never"), 0);
    assert_int_equal(a.fail_on, SEV_NEVER);
    assert_int_equal(PARSE(&a, msg, "review", "-", "--no-wait", "--format", "json"), 0);
    assert_int_equal(a.no_wait, 1);
    assert_string_equal(a.files[0], "-");
    assert_int_equal(PARSE(&a, msg, "review", "a.py", "--no-cache"), 0);
    assert_int_equal(a.no_cache, 1);
    assert_int_equal(a.cancel_on_interrupt, 0);
    assert_int_equal(PARSE(&a, msg, "review", "a.py", "--cancel-on-interrupt"), 0);
    assert_int_equal(a.cancel_on_interrupt, 1);
    assert_int_equal(PARSE(&a, msg, "job", "ID", "--wait", "--cancel-on-interrupt"), 0);
    assert_int_equal(a.cancel_on_interrupt, 1);
}

static void test_debug_and_architecture(void **state)
{
    struct cli_args a;
    char msg[256];

    (void)state;
    assert_int_equal(PARSE(&a, msg, "review", "-t", "debug", "--error-log", "log.txt", "m.py",
                           "helper.py"), 0);
    assert_string_equal(a.type, "debug");
    assert_string_equal(a.error_log, "log.txt");
    assert_int_equal(PARSE(&a, msg, "review", "--type", "architecture", "--request", "A blog"),
                     0);
    assert_string_equal(a.request, "A blog");
    assert_int_equal(a.nfiles, 0);
}

static void test_job_and_account_commands(void **state)
{
    struct cli_args a;
    char msg[256];

    (void)state;
    assert_int_equal(PARSE(&a, msg, "job", "01939d7e-0000-7000-8000-000000000000", "--wait",
                           "--format", "rdjson"), 0);
    assert_int_equal(a.cmd, CMD_JOB);
    assert_string_equal(a.job_id, "01939d7e-0000-7000-8000-000000000000");
    assert_int_equal(a.wait, 1);
    assert_int_equal(a.format, FMT_RDJSON);
    assert_int_equal(PARSE(&a, msg, "cancel", "id-1", "id-2", "--url", "http://x"), 0);
    assert_int_equal(a.cmd, CMD_CANCEL);
    assert_int_equal(a.ncancel_ids, 2);
    assert_string_equal(a.cancel_ids[0], "id-1");
    assert_string_equal(a.cancel_ids[1], "id-2");
    assert_string_equal(a.url, "http://x");
    assert_int_equal(PARSE(&a, msg, "whoami", "--json"), 0);
    assert_int_equal(a.cmd, CMD_WHOAMI);
    assert_int_equal(a.json, 1);
    assert_int_equal(PARSE(&a, msg, "usage"), 0);
    assert_int_equal(a.cmd, CMD_USAGE);
    assert_int_equal(PARSE(&a, msg, "login", "--url", "https://ci.example"), 0);
    assert_int_equal(a.cmd, CMD_LOGIN);
    assert_int_equal(PARSE(&a, msg, "--version"), 0);
    assert_int_equal(a.cmd, CMD_VERSION);
}

static void test_help_forms(void **state)
{
    struct cli_args a;
    char msg[256];

    (void)state;
    assert_int_equal(PARSE(&a, msg, "--help"), 0);
    assert_int_equal(a.help, 1);
    assert_int_equal(a.cmd, CMD_NONE);
    assert_int_equal(PARSE(&a, msg, "review", "-h"), 0);
    assert_int_equal(a.help, 1);
    assert_int_equal(a.cmd, CMD_REVIEW);
    assert_int_equal(PARSE(&a, msg, "help", "job"), 0);
    assert_int_equal(a.help, 1);
    assert_int_equal(a.cmd, CMD_JOB);
    assert_int_equal(PARSE(&a, msg, "help", "nope"), CLI_EXIT_USAGE);
}

/* Each refused command line, with a word of the message it must give. */
static void test_usage_errors(void **state)
{
    static const struct {
        const char *args[8];
        const char *says;
    } cases[] = {
        {{"frob"}, "unknown command"},
        {{"review"}, "at least one FILE"},
        {{"review", "a.py", "--format", "xml"}, "--format must be"},
        {{"review", "a.py", "--format"}, "needs a value"},
        {{"review", "a.py", "--fail-on", "info"}, "--fail-on must be"},
        {{"review", "a.py", "--type", "stress"}, "--type must be"},
        {{"review", "a.py", "--timeout", "0"}, "--timeout must be"},
        {{"review", "a.py", "--timeout", "5x"}, "--timeout must be"},
        {{"review", "a.py", "--no-wait=1"}, "takes no value"},
        {{"review", "a.py", "--wait"}, "does not take --wait"},
        {{"review", "a.py", "-xq"}, "unknown option"},
        {{"review", "a.py", "--filter", "added"}, "--filter needs --diff"},
        {{"review", "a.py", "--filter", "some", "--diff", "d"}, "--filter must be"},
        {{"review", "a.py", "--error-log", "l"}, "for --type debug"},
        {{"review", "-t", "debug", "a.py"}, "needs --error-log"},
        {{"review", "-t", "architecture"}, "needs --request"},
        {{"review", "a.py", "--request", "x"}, "for --type architecture"},
        {{"review", "-t", "debug", "--error-log", "l", "--diff", "d", "a"}, "--type review"},
        {{"review", "a.py", "--no-wait", "--format", "sarif"}, "--no-wait"},
        {{"review", "a.py", "--no-wait", "--cancel-on-interrupt"}, "not --no-wait"},
        {{"job", "ID", "--cancel-on-interrupt"}, "--cancel-on-interrupt needs --wait"},
        {{"cancel", "ID", "--cancel-on-interrupt"}, "does not take --cancel-on-interrupt"},
        {{"review", "-t", "architecture", "--request", "x", "-f", "rdjson"}, "no findings"},
        {{"review", "--diff", "-", "-t", "debug", "--error-log", "-"}, "--type review"},
        {{"job"}, "job needs a job ID"},
        {{"job", "a", "b"}, "unexpected argument"},
        {{"whoami", "extra"}, "unexpected argument"},
        {{"cancel"}, "at least one job ID"},
        {{"cancel", "x", "--wait"}, "does not take --wait"},
        {{"cancel", "x", "--json"}, "does not take --json"},
        {{"usage", "--format", "json"}, "does not take --format"},
    };
    struct cli_args a;
    char msg[256];

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        msg[0] = '\0';
        assert_int_equal(parse(&a, msg, sizeof msg, cases[i].args), CLI_EXIT_USAGE);
        if (strstr(msg, cases[i].says) == NULL)
            fail_msg("case %zu: '%s' does not say '%s'", i, msg, cases[i].says);
    }
}

static void test_too_many_files(void **state)
{
    char *argv[CLI_FILES_MAX + 3];
    struct cli_args a;
    char msg[256];
    int argc = 0;

    (void)state;
    argv[argc++] = (char *)"codeinsight";
    argv[argc++] = (char *)"review";
    for (int i = 0; i <= CLI_FILES_MAX; i++)
        argv[argc++] = (char *)"f.py";
    assert_int_equal(args_parse(argc, argv, &a, msg, sizeof msg), CLI_EXIT_USAGE);
    assert_non_null(strstr(msg, "at most"));
    assert_int_equal(args_parse(argc - 1, argv, &a, msg, sizeof msg), 0);
    assert_int_equal(a.nfiles, CLI_FILES_MAX);
}

static void test_sev_rank(void **state)
{
    (void)state;
    assert_int_equal(args_sev_rank("info"), SEV_INFO);
    assert_int_equal(args_sev_rank("minor"), SEV_MINOR);
    assert_int_equal(args_sev_rank("major"), SEV_MAJOR);
    assert_int_equal(args_sev_rank("critical"), SEV_CRITICAL);
    assert_int_equal(args_sev_rank("never"), -1);
    assert_int_equal(args_sev_rank("MAJOR"), -1);
    assert_int_equal(args_sev_rank(NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_review_defaults),
        cmocka_unit_test(test_review_options),
        cmocka_unit_test(test_debug_and_architecture),
        cmocka_unit_test(test_job_and_account_commands),
        cmocka_unit_test(test_help_forms),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_too_many_files),
        cmocka_unit_test(test_sev_rank),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
