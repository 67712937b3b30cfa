/* test_linters_parse.c - unit tests for the output parsers of
 * worker/linter_parse_*.c (through worker/linters.c's table, and each
 * linter's exit_ok), linked against them alone. The
 * table of linters per language is tested in test_linters_table.c, the
 * parsers against odd, huge or hostile output in test_linter_output.c.
 *
 * The fixtures in tests/fixtures/lint/ are real outputs of each linter run
 * with the argv from the table (see tests/fixtures/lint/README). Run from the
 * repository root.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/json.h"
#include "worker/linters.h"

#include "tests/unit/fixture.h"
#include "tests/unit/linters_fx.h"

struct expect {
    int line;
    int column;      /* 0: no "column" key */
    int end_line;    /* 0: no "end_line" key */
    const char *rule_id;
    const char *severity;
    const char *category;
};

/* Parses a fixture with the named linter and checks the findings, in
 * order, against want[0..n). Returns the owned findings array. */
static cJSON *check_fixture(const char *language, const char *tool,
                            const char *fixture, const struct expect *want,
                            size_t n)
{
    const struct linter *l = linter_named(language, tool);
    size_t len, i;
    char *out = fixture_read(FIXTURE_DIR, fixture, &len);
    cJSON *findings = cJSON_CreateArray();

    assert_non_null(findings);
    assert_int_equal(l->parse(out, len, findings), (int)n);
    assert_int_equal(cJSON_GetArraySize(findings), (int)n);
    for (i = 0; i < n; i++) {
        const cJSON *f = cJSON_GetArrayItem(findings, (int)i);

        check_shape(f, tool);
        if (strcmp(str_of(f, "rule_id"), want[i].rule_id) != 0 ||
            int_of(f, "line") != want[i].line)
            fail_msg("%s finding %zu: got %s at %d, want %s at %d", fixture,
                     i, str_of(f, "rule_id"), int_of(f, "line"),
                     want[i].rule_id, want[i].line);
        assert_string_equal(str_of(f, "severity"), want[i].severity);
        assert_string_equal(str_of(f, "category"), want[i].category);
        if (want[i].column > 0)
            assert_int_equal(int_of(f, "column"), want[i].column);
        else
            assert_false(cJSON_HasObjectItem(f, "column"));
        if (want[i].end_line > 0)
            assert_int_equal(int_of(f, "end_line"), want[i].end_line);
        else
            assert_false(cJSON_HasObjectItem(f, "end_line"));
    }
    free(out);
    return findings;
}

#define CHECK_FIXTURE(lang, tool, fixture, want) \
    check_fixture(lang, tool, fixture, want, sizeof(want) / sizeof(want[0]))

static void test_flake8_bad_py(void **state)
{
    static const struct expect want[] = {
        {1, 1, 0, "F401", "minor", "maintainability"},
        {2, 1, 0, "F401", "minor", "maintainability"},
        {3, 1, 0, "F401", "minor", "maintainability"},
        {10, 5, 0, "F841", "minor", "maintainability"},
        {11, 12, 0, "F821", "major", "correctness"},
        {14, 16, 0, "E203", "info", "style"},
        {16, 5, 0, "F841", "minor", "maintainability"},
        {16, 6, 0, "E225", "info", "style"},
        {17, 12, 0, "F821", "major", "correctness"},
        {20, 80, 0, "E501", "info", "style"},
        {21, 13, 0, "W291", "info", "style"},
    };
    cJSON *findings = CHECK_FIXTURE("python", "flake8", "bad.py.flake8.out",
                                    want);

    (void)state;
    assert_string_equal(message_at(findings, 0), "'os' imported but unused");
    assert_string_equal(message_at(findings, 9),
                        "line too long (89 > 79 characters)");
    cJSON_Delete(findings);
}

static void test_flake8_syntax_error(void **state)
{
    static const struct expect want[] = {
        {2, 14, 0, "E999", "major", "syntax"},
    };
    cJSON *findings = CHECK_FIXTURE("python", "flake8",
                                    "syntax_error.py.flake8.out", want);

    (void)state;
    /* The message keeps its own colons. */
    assert_string_equal(message_at(findings, 0), "SyntaxError: expected ':'");
    cJSON_Delete(findings);
}

static void test_pylint_bad_py(void **state)
{
    static const struct expect want[] = {
        {21, 13, 0, "C0303", "info", "style"},
        {1, 1, 0, "C0114", "info", "documentation"},
        {6, 1, 6, "C0116", "info", "documentation"},
        {8, 9, 8, "C0103", "info", "style"},
        {11, 12, 11, "E0602", "major", "correctness"},
        {14, 1, 14, "C0116", "info", "documentation"},
        {14, 1, 14, "C0103", "info", "style"},
        {16, 5, 16, "C0103", "info", "style"},
        {17, 12, 17, "E0602", "major", "correctness"},
        {16, 5, 16, "W0612", "minor", "maintainability"},
        {1, 1, 1, "W0611", "minor", "maintainability"},
        {2, 1, 2, "W0611", "minor", "maintainability"},
        {3, 1, 3, "W0611", "minor", "maintainability"},
    };
    cJSON *findings = CHECK_FIXTURE("python", "pylint", "bad.py.pylint.out",
                                    want);

    (void)state;
    assert_string_equal(message_at(findings, 10),
                        "Unused import os (unused-import)");
    assert_string_equal(message_at(findings, 4),
                        "Undefined variable 'totl' (undefined-variable)");
    assert_string_equal(message_at(findings, 3),
                        "Variable name \"v\" doesn't conform to snake_case "
                        "naming style (invalid-name)");
    cJSON_Delete(findings);
}

static void test_pylint_syntax_error(void **state)
{
    static const struct expect want[] = {
        {2, 14, 0, "E0001", "major", "syntax"},
    };
    cJSON *findings = CHECK_FIXTURE("python", "pylint",
                                    "syntax_error.py.pylint.out", want);

    (void)state;
    assert_string_equal(message_at(findings, 0),
                        "Parsing failed: 'expected ':' (<unknown>, line 2)' "
                        "(syntax-error)");
    cJSON_Delete(findings);
}

static void test_pylint_fatal(void **state)
{
    static const struct expect want[] = {
        {1, 1, 0, "F0001", "critical", "syntax"},
    };

    (void)state;
    cJSON_Delete(CHECK_FIXTURE("python", "pylint", "missing.py.pylint.out",
                               want));
}

static void test_shellcheck_bad_sh(void **state)
{
    static const struct expect want[] = {
        {4, 12, 4, "SC2086", "info", "correctness"},
        {6, 9, 6, "SC2086", "info", "correctness"},
        {8, 1, 8, "SC2164", "minor", "correctness"},
        {8, 4, 8, "SC2086", "info", "correctness"},
        {9, 6, 9, "SC2154", "minor", "correctness"},
        {9, 6, 9, "SC2086", "info", "correctness"},
        {12, 6, 12, "SC2046", "minor", "correctness"},
        {12, 6, 12, "SC2005", "info", "style"},
        {12, 6, 12, "SC2006", "info", "style"},
    };
    cJSON *findings = CHECK_FIXTURE("shell", "shellcheck",
                                    "bad.sh.shellcheck.out", want);

    (void)state;
    assert_string_equal(message_at(findings, 0),
                        "Double quote to prevent globbing and word "
                        "splitting.");
    cJSON_Delete(findings);
}

static void test_shellcheck_no_shebang(void **state)
{
    static const struct expect want[] = {
        {1, 1, 1, "SC2148", "major", "correctness"},
        {1, 6, 1, "SC2086", "info", "correctness"},
        {2, 8, 2, "SC2115", "minor", "security"},
        {2, 8, 2, "SC2086", "info", "correctness"},
    };

    (void)state;
    cJSON_Delete(CHECK_FIXTURE("shell", "shellcheck",
                               "noshebang.sh.shellcheck.out", want));
}

static void test_shellcheck_syntax_error(void **state)
{
    static const struct expect want[] = {
        {3, 3, 3, "SC1009", "info", "syntax"},
        {3, 8, 3, "SC1073", "major", "syntax"},
        {5, 1, 5, "SC1072", "major", "syntax"},
    };

    (void)state;
    cJSON_Delete(CHECK_FIXTURE("shell", "shellcheck",
                               "syntax_error.sh.shellcheck.out", want));
}

/* Real ESLint 9 output with the shipped config (deploy/eslint). */
static void test_eslint_bad_js(void **state)
{
    static const struct expect want[] = {
        {2, 10, 2, "no-unused-vars", "major", "maintainability"},
        {2, 12, 2, "no-unused-vars", "major", "maintainability"},
        {2, 24, 2, "no-undef", "major", "correctness"},
        {3, 15, 3, "no-debugger", "major", "correctness"},
    };

    (void)state;
    cJSON_Delete(CHECK_FIXTURE("javascript", "eslint", "bad.js.eslint.out", want));
}

static void test_eslint_bad_ts(void **state)
{
    static const struct expect want[] = {
        {1, 5, 1, "prefer-const", "major", "maintainability"},
        {1, 5, 1, "@typescript-eslint/no-unused-vars", "major", "maintainability"},
        {1, 8, 1, "@typescript-eslint/no-explicit-any", "major", "correctness"},
        {2, 7, 2, "@typescript-eslint/no-unused-vars", "major", "maintainability"},
    };

    (void)state;
    cJSON_Delete(CHECK_FIXTURE("typescript", "eslint", "bad.ts.eslint.out", want));
}

static void test_cppcheck_bad_c(void **state)
{
    static const struct expect want[] = {
        {32, 6, 0, "arrayIndexOutOfBounds", "major", "security"},
        {26, 5, 0, "memleak", "major", "correctness"},
        {8, 13, 0, "nullPointer", "major", "correctness"},
        {14, 12, 0, "uninitvar", "major", "correctness"},
        {13, 9, 0, "unassignedVariable", "info", "maintainability"},
    };
    cJSON *findings = CHECK_FIXTURE("c", "cppcheck", "bad.c.cppcheck.err",
                                    want);

    (void)state;
    assert_string_equal(message_at(findings, 0),
                        "Array 'a[10]' accessed at index 10, which is out "
                        "of bounds.");
    assert_string_equal(message_at(findings, 2),
                        "Null pointer dereference: p");
    cJSON_Delete(findings);
}

static void test_cppcheck_bad_cpp(void **state)
{
    static const struct expect want[] = {
        {6, 21, 0, "noCopyConstructor", "minor", "correctness"},
        {6, 21, 0, "noOperatorEq", "minor", "correctness"},
        {6, 5, 0, "noExplicitConstructor", "info", "maintainability"},
        {7, 17, 0, "mismatchAllocDealloc", "major", "correctness"},
        {26, 17, 0, "nullPointer", "major", "correctness"},
        {22, 29, 0, "passedByValue", "minor", "performance"},
        {18, 15, 0, "useStlAlgorithm", "info", "maintainability"},
        {19, 12, 0, "uninitvar", "minor", "correctness"},
        {18, 9, 0, "legacyUninitvar", "major", "correctness"},
        {17, 68, 0, "postfixOperator", "minor", "performance"},
    };

    (void)state;
    cJSON_Delete(CHECK_FIXTURE("cpp", "cppcheck", "bad.cpp.cppcheck.err",
                               want));
}

static void test_cppcheck_syntax_error(void **state)
{
    static const struct expect want[] = {
        {3, 13, 0, "syntaxError", "major", "syntax"},
    };

    (void)state;
    cJSON_Delete(CHECK_FIXTURE("c", "cppcheck",
                               "syntax_error.c.cppcheck.err", want));
}

static void test_exit_ok(void **state)
{
    const struct linter *flake8 = linter_named("python", "flake8");
    const struct linter *pylint = linter_named("python", "pylint");
    const struct linter *shellcheck = linter_named("shell", "shellcheck");
    const struct linter *cppcheck = linter_named("c", "cppcheck");

    (void)state;
    assert_true(flake8->exit_ok(0));
    assert_true(flake8->exit_ok(1));
    assert_false(flake8->exit_ok(2));
    assert_false(flake8->exit_ok(-1));
    assert_false(flake8->exit_ok(127));

    assert_true(pylint->exit_ok(0));
    assert_true(pylint->exit_ok(1));   /* fatal, still JSON */
    assert_true(pylint->exit_ok(2));
    assert_true(pylint->exit_ok(16));
    assert_true(pylint->exit_ok(22)); /* error|warning|convention */
    assert_true(pylint->exit_ok(31));
    assert_false(pylint->exit_ok(32)); /* usage error */
    assert_false(pylint->exit_ok(34));
    assert_false(pylint->exit_ok(127));
    assert_false(pylint->exit_ok(-1));

    assert_true(shellcheck->exit_ok(0));
    assert_true(shellcheck->exit_ok(1));
    assert_false(shellcheck->exit_ok(2));
    assert_false(shellcheck->exit_ok(3));
    assert_false(shellcheck->exit_ok(4));

    assert_true(cppcheck->exit_ok(0));
    assert_false(cppcheck->exit_ok(1));
}

/* Line, rule_id and message of findings[i]. */
static void check_cppcheck_at(const cJSON *findings, int i, int line, const char *rule_id,
                              const char *message)
{
    const cJSON *f = cJSON_GetArrayItem(findings, i);

    assert_non_null(f);
    check_shape(f, "cppcheck");
    assert_int_equal(int_of(f, "line"), line);
    assert_string_equal(str_of(f, "rule_id"), rule_id);
    assert_string_equal(str_of(f, "message"), message);
}

/* cppcheck reports what it finds in a header the file includes with the
 * header's lines (the real line of a 3-line file that includes hiredis'
 * sds.h): read, so the output is cppcheck's, but not the file's findings.
 * Headers are named by absolute paths or paths that begin with "..". */
static void test_cppcheck_header_findings_dropped(void **state)
{
    const struct linter *cppcheck = linter_named("c", "cppcheck");
    cJSON *findings;

    (void)state;
    assert_int_equal(parse_str(cppcheck,
                               "/usr/include/hiredis/sds.h\t196:36:style:constParameter:"
                               "Parameter 's' can be declared as pointer to const\n",
                               &findings),
                     0);
    assert_int_equal(cJSON_GetArraySize(findings), 0);
    cJSON_Delete(findings);

    assert_int_equal(parse_str(cppcheck,
                               "../hdrs/h.h\t1:38:error:arrayIndexOutOfBounds:Array 'a[2]'\n"
                               "inc.c\t3:5:style:unusedVariable:Unused variable: x\n"
                               "/usr/x\ty.h\t9:1:error:nullPointer:header, tab in its name\n"
                               "..\t/x.h\t9:1:error:nullPointer:header cut at a tab\n"
                               "\t9:1:error:nullPointer:no file\n"
                               "nofile\t0:0:information:toomanyconfigs:Too many configs\n",
                               &findings),
                     2);
    check_cppcheck_at(findings, 0, 3, "unusedVariable", "Unused variable: x");
    check_cppcheck_at(findings, 1, 1, "toomanyconfigs", "Too many configs");
    cJSON_Delete(findings);
}

/* A submitted path may hold ':', even in the shape of the fields that
 * follow it; it holds no tab, which ends it. */
static void test_cppcheck_path_with_colons(void **state)
{
    const struct linter *cppcheck = linter_named("c", "cppcheck");
    cJSON *findings;

    (void)state;
    assert_int_equal(parse_str(cppcheck,
                               "we:ird/a:1:2.c\t5:27:error:arrayIndexOutOfBounds:Array "
                               "'a[2]' accessed at index 5, which is out of bounds.\n"
                               "src:1:2:error:fakeId:m.c\t7:3:style:unreadVariable:a: b\n",
                               &findings),
                     2);
    check_cppcheck_at(findings, 0, 5, "arrayIndexOutOfBounds",
                      "Array 'a[2]' accessed at index 5, which is out of bounds.");
    assert_int_equal(int_of(cJSON_GetArrayItem(findings, 0), "column"), 27);
    assert_string_equal(str_of(cJSON_GetArrayItem(findings, 0), "category"), "security");
    check_cppcheck_at(findings, 1, 7, "unreadVariable", "a: b");
    cJSON_Delete(findings);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flake8_bad_py),
        cmocka_unit_test(test_flake8_syntax_error),
        cmocka_unit_test(test_pylint_bad_py),
        cmocka_unit_test(test_pylint_syntax_error),
        cmocka_unit_test(test_pylint_fatal),
        cmocka_unit_test(test_shellcheck_bad_sh),
        cmocka_unit_test(test_shellcheck_no_shebang),
        cmocka_unit_test(test_shellcheck_syntax_error),
        cmocka_unit_test(test_eslint_bad_js),
        cmocka_unit_test(test_eslint_bad_ts),
        cmocka_unit_test(test_cppcheck_bad_c),
        cmocka_unit_test(test_cppcheck_bad_cpp),
        cmocka_unit_test(test_cppcheck_syntax_error),
        cmocka_unit_test(test_cppcheck_header_findings_dropped),
        cmocka_unit_test(test_cppcheck_path_with_colons),
        cmocka_unit_test(test_exit_ok),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

