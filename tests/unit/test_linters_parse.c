/* test_linters_parse.c - unit tests for the output parsers of
 * worker/linter_parse.c (through worker/linters.c's table, and each
 * linter's exit_ok), linked against them alone. The
 * table of linters per language is tested in test_linters_table.c.
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

#define FIXTURE_DIR "tests/fixtures/lint/"

struct expect {
    int line;
    int column;      /* 0: no "column" key */
    int end_line;    /* 0: no "end_line" key */
    const char *rule_id;
    const char *severity;
    const char *category;
};

static const struct linter *linter_named(const char *language,
                                         const char *tool)
{
    const struct linter *const *l;

    for (l = linters_for(language); *l != NULL; l++)
        if (strcmp((*l)->tool, tool) == 0)
            return *l;
    fail_msg("no linter %s for %s", tool, language);
    return NULL;
}

static int int_of(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

    assert_true(cJSON_IsNumber(item));
    return item->valueint;
}

static const char *str_of(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

    assert_true(cJSON_IsString(item));
    return item->valuestring;
}

static int in_set(const char *s, const char *const *set)
{
    for (; *set != NULL; set++)
        if (strcmp(s, *set) == 0)
            return 1;
    return 0;
}

/* Checks one finding has exactly the documented keys and value ranges. */
static void check_shape(const cJSON *f, const char *tool)
{
    static const char *const keys[] = {
        "line", "end_line", "column", "severity", "category", "rule_id",
        "message", "source", NULL,
    };
    static const char *const severities[] = {
        "critical", "major", "minor", "info", NULL,
    };
    static const char *const categories[] = {
        "syntax", "correctness", "security", "performance",
        "maintainability", "style", "documentation", NULL,
    };
    char source[64];
    const cJSON *item;

    assert_true(cJSON_IsObject(f));
    cJSON_ArrayForEach(item, f) assert_true(in_set(item->string, keys));
    assert_true(int_of(f, "line") >= 1);
    if (cJSON_HasObjectItem(f, "end_line"))
        assert_true(int_of(f, "end_line") >= int_of(f, "line"));
    if (cJSON_HasObjectItem(f, "column"))
        assert_true(int_of(f, "column") >= 1);
    assert_true(in_set(str_of(f, "severity"), severities));
    assert_true(in_set(str_of(f, "category"), categories));
    assert_true(strlen(str_of(f, "rule_id")) > 0);
    assert_true(strlen(str_of(f, "message")) > 0);
    assert_true(strlen(str_of(f, "message")) <= LINTERS_MESSAGE_MAX);
    snprintf(source, sizeof(source), "lint:%s", tool);
    assert_string_equal(str_of(f, "source"), source);
}

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

static const char *message_at(const cJSON *findings, int i)
{
    return str_of(cJSON_GetArrayItem(findings, i), "message");
}

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

/* Runs parse on a NUL-terminated string with a fresh array. */
static int parse_str(const struct linter *l, const char *s, cJSON **out)
{
    cJSON *findings = cJSON_CreateArray();
    int rc;

    assert_non_null(findings);
    rc = l->parse(s, strlen(s), findings);
    if (out != NULL)
        *out = findings;
    else
        cJSON_Delete(findings);
    return rc;
}

static void test_empty_output(void **state)
{
    static const char *const langs[] = {"python", "shell", "c", "cpp"};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(langs) / sizeof(langs[0]); i++) {
        const struct linter *const *l;

        for (l = linters_for(langs[i]); *l != NULL; l++) {
            cJSON *findings = cJSON_CreateArray();

            assert_non_null(findings);
            assert_int_equal((*l)->parse("", 0, findings), 0);
            assert_int_equal((*l)->parse(NULL, 0, findings), 0);
            assert_int_equal((*l)->parse(" \n\r\n\t", 5, findings), 0);
            assert_int_equal(cJSON_GetArraySize(findings), 0);
            /* Not an array, or more than LINTERS_OUTPUT_MAX: refused
             * before anything is read. */
            assert_int_equal((*l)->parse("", 0, NULL), -1);
            assert_int_equal(
                (*l)->parse("x", (size_t)LINTERS_OUTPUT_MAX + 1, findings),
                -1);
            cJSON_Delete(findings);
        }
    }
    /* pylint and shellcheck with nothing to say. */
    assert_int_equal(parse_str(linter_named("python", "pylint"), "[]\n", NULL),
                     0);
    assert_int_equal(parse_str(linter_named("shell", "shellcheck"),
                               "{\"comments\":[]}\n", NULL),
                     0);
}

static void test_garbage(void **state)
{
    static const char *const json_garbage[] = {
        "not json", "[", "[{\"message-id\": \"W0611\"", "{\"comments\":",
        "\x01\x02\xff", "[] trailing", "nul",
    };
    const struct linter *pylint = linter_named("python", "pylint");
    const struct linter *shellcheck = linter_named("shell", "shellcheck");
    const struct linter *flake8 = linter_named("python", "flake8");
    const struct linter *cppcheck = linter_named("c", "cppcheck");
    cJSON *findings;
    size_t i, len;
    char *out;

    (void)state;
    for (i = 0; i < sizeof(json_garbage) / sizeof(json_garbage[0]); i++) {
        assert_int_equal(parse_str(pylint, json_garbage[i], NULL), -1);
        assert_int_equal(parse_str(shellcheck, json_garbage[i], NULL), -1);
    }
    /* Valid JSON of the wrong shape. */
    assert_int_equal(parse_str(pylint, "{}", NULL), -1);
    assert_int_equal(parse_str(pylint, "42", NULL), -1);
    assert_int_equal(parse_str(shellcheck, "[]", NULL), -1);
    assert_int_equal(parse_str(shellcheck, "{\"comments\": 5}", NULL), -1);
    assert_int_equal(parse_str(shellcheck, "{}", NULL), -1);

    /* Truncated real output, every cut point. */
    out = fixture_read(FIXTURE_DIR, "bad.py.pylint.out", &len);
    for (i = 1; i + 2 < len; i += 7) {
        findings = cJSON_CreateArray();
        assert_non_null(findings);
        assert_int_equal(pylint->parse(out, i, findings), -1);
        cJSON_Delete(findings);
    }
    free(out);
    out = fixture_read(FIXTURE_DIR, "bad.sh.shellcheck.out", &len);
    for (i = 1; i + 2 < len; i += 5) {
        findings = cJSON_CreateArray();
        assert_non_null(findings);
        assert_int_equal(shellcheck->parse(out, i, findings), -1);
        cJSON_Delete(findings);
    }
    free(out);

    /* Line formats: nothing that looks like a finding. */
    assert_int_equal(parse_str(flake8, "hello world\n", NULL), -1);
    assert_int_equal(parse_str(flake8, "1:2\n:::\n-1:1:F401:x\n", NULL), -1);
    assert_int_equal(parse_str(flake8, "99999999999999999999:1:F401:x\n",
                               NULL),
                     -1);
    assert_int_equal(
        parse_str(cppcheck,
                  "cppcheck: error: could not find or open any of the paths "
                  "given.\n",
                  NULL),
        -1);
    assert_int_equal(parse_str(cppcheck, "a.c\t1:1:err or:id:x\n", NULL), -1);
    /* The template before it named the file: no file, no finding. */
    assert_int_equal(parse_str(cppcheck, "1:1:error:someId:x\n", NULL), -1);

    /* Odd lines among good ones are skipped. */
    assert_int_equal(parse_str(flake8, "junk\n3:4:E501:long\n\xff\xfe\n",
                               &findings),
                     1);
    assert_int_equal(int_of(cJSON_GetArrayItem(findings, 0), "line"), 3);
    cJSON_Delete(findings);
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

static void test_odd_json_entries(void **state)
{
    const struct linter *pylint = linter_named("python", "pylint");
    const struct linter *shellcheck = linter_named("shell", "shellcheck");
    cJSON *findings;
    const cJSON *f;

    (void)state;
    /* Non-objects and entries without a usable id are skipped; bad numbers
     * are clamped or dropped, never converted out of range. */
    assert_int_equal(
        parse_str(pylint,
                  "[1, \"x\", null, {\"message-id\": 5},"
                  " {\"message-id\": \"bad id!\"},"
                  " {\"message-id\": \"W0611\", \"line\": -3, \"column\": "
                  "null, \"endLine\": -1, \"type\": \"warning\"},"
                  " {\"message-id\": \"E1\", \"line\": 1e300, \"column\": "
                  "1e300, \"endLine\": \"x\", \"message\": 7},"
                  " {\"message-id\": \"R1\", \"line\": 0, \"column\": -5,"
                  " \"symbol\": \"no such symbol!\"}]",
                  &findings),
        3);
    f = cJSON_GetArrayItem(findings, 0);
    assert_int_equal(int_of(f, "line"), 1);
    assert_false(cJSON_HasObjectItem(f, "column"));
    assert_false(cJSON_HasObjectItem(f, "end_line"));
    assert_string_equal(str_of(f, "severity"), "minor");
    assert_string_equal(str_of(f, "message"), "W0611");
    f = cJSON_GetArrayItem(findings, 1);
    assert_int_equal(int_of(f, "line"), INT_MAX);
    assert_false(cJSON_HasObjectItem(f, "column"));
    assert_string_equal(str_of(f, "severity"), "major"); /* from the E */
    f = cJSON_GetArrayItem(findings, 2);
    assert_int_equal(int_of(f, "line"), 1);
    assert_false(cJSON_HasObjectItem(f, "column"));
    assert_string_equal(str_of(f, "category"), "maintainability");
    assert_string_equal(str_of(f, "message"), "R1");
    cJSON_Delete(findings);

    assert_int_equal(
        parse_str(shellcheck,
                  "{\"comments\": [{\"code\": -1}, {\"code\": 1e99},"
                  " {\"code\": \"2086\"}, 3,"
                  " {\"code\": 2086, \"line\": null, \"level\": 7},"
                  " {\"code\": 2034, \"line\": 4, \"endLine\": 2,"
                  " \"column\": 0, \"level\": \"warning\", \"message\": "
                  "\"a\\u0000b\"}]}",
                  &findings),
        2);
    f = cJSON_GetArrayItem(findings, 0);
    assert_string_equal(str_of(f, "rule_id"), "SC2086");
    assert_int_equal(int_of(f, "line"), 1);
    assert_string_equal(str_of(f, "severity"), "info");
    assert_string_equal(str_of(f, "message"), "SC2086");
    f = cJSON_GetArrayItem(findings, 1);
    assert_int_equal(int_of(f, "line"), 4);
    assert_false(cJSON_HasObjectItem(f, "end_line"));
    assert_false(cJSON_HasObjectItem(f, "column"));
    assert_string_equal(str_of(f, "severity"), "minor");
    cJSON_Delete(findings);
}

static void test_line_zero_clamped(void **state)
{
    cJSON *findings;
    const cJSON *f;

    (void)state;
    assert_int_equal(
        parse_str(linter_named("python", "flake8"),
                  "0:1:E902:FileNotFoundError: [Errno 2] No such file or "
                  "directory: 'nope.py'\n",
                  &findings),
        1);
    f = cJSON_GetArrayItem(findings, 0);
    assert_int_equal(int_of(f, "line"), 1);
    assert_string_equal(str_of(f, "severity"), "major");
    assert_string_equal(str_of(f, "category"), "syntax");
    cJSON_Delete(findings);

    assert_int_equal(parse_str(linter_named("c", "cppcheck"),
                               "nofile\t0:0:information:toomanyconfigs:Too many "
                               "configs\r\n",
                               &findings),
                     1);
    f = cJSON_GetArrayItem(findings, 0);
    assert_int_equal(int_of(f, "line"), 1);
    assert_false(cJSON_HasObjectItem(f, "column"));
    assert_string_equal(str_of(f, "severity"), "info");
    assert_string_equal(str_of(f, "message"), "Too many configs");
    cJSON_Delete(findings);
}

/* 1 when s is well-formed UTF-8 without control characters. */
static int clean_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p != '\0') {
        size_t n, i;

        if (*p < 0x20 || *p == 0x7f)
            return 0;
        if (*p < 0x80) {
            p++;
            continue;
        }
        if (*p >= 0xc2 && *p <= 0xdf)
            n = 2;
        else if (*p >= 0xe0 && *p <= 0xef)
            n = 3;
        else if (*p >= 0xf0 && *p <= 0xf4)
            n = 4;
        else
            return 0;
        for (i = 1; i < n; i++)
            if (p[i] < 0x80 || p[i] > 0xbf)
                return 0;
        p += n;
    }
    return 1;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Parses text with the tool of language, which must give one finding;
 * returns its message (borrowed from *findings). */
static const char *parse_one(const char *language, const char *tool, const char *text,
                             cJSON **findings)
{
    assert_int_equal(parse_str(linter_named(language, tool), text, findings), 1);
    return message_at(*findings, 0);
}

static void test_message_cap(void **state)
{
    const size_t body = 5000;
    char *line = malloc(body + 64);
    cJSON *findings;
    const char *msg;
    size_t i, n;

    (void)state;
    assert_non_null(line);

    /* flake8: ASCII words; the cap falls inside one ("a|bcd"), which is
     * dropped whole: the message ends at the blank before it. */
    n = (size_t)snprintf(line, 64, "7:1:E501:");
    for (i = 0; i + 5 <= body; i += 5)
        memcpy(line + n + i, "abcd ", 5);
    line[n + i] = '\0';
    msg = parse_one("python", "flake8", line, &findings);
    assert_int_equal(strlen(msg), LINTERS_MESSAGE_MAX - 2);
    assert_true(ends_with(msg, " abcd..."));
    cJSON_Delete(findings);

    /* A cut that falls just before a blank keeps the word before it. */
    n = (size_t)snprintf(line, 64, "7:1:E501:");
    memset(line + n, 'x', LINTERS_MESSAGE_MAX - 3);
    memcpy(line + n + LINTERS_MESSAGE_MAX - 3, " more words", 12);
    msg = parse_one("python", "flake8", line, &findings);
    assert_int_equal(strlen(msg), LINTERS_MESSAGE_MAX);
    assert_true(ends_with(msg, "xxx..."));
    cJSON_Delete(findings);

    /* cppcheck: two-byte characters are never split. */
    n = (size_t)snprintf(line, 64, "a.c\t7:1:error:someId:");
    for (i = 0; i + 7 <= body; i += 7)
        memcpy(line + n + i, "\xc3\xa9\xc3\xa9\xc3\xa9 ", 7);
    line[n + i] = '\0';
    msg = parse_one("c", "cppcheck", line, &findings);
    assert_true(strlen(msg) <= LINTERS_MESSAGE_MAX);
    assert_true(strlen(msg) >= LINTERS_MESSAGE_MAX - 9);
    assert_true(ends_with(msg, " \xc3\xa9\xc3\xa9\xc3\xa9..."));
    assert_true(clean_utf8(msg));
    cJSON_Delete(findings);

    /* Control characters become spaces, malformed bytes '?'. */
    assert_int_equal(parse_str(linter_named("python", "flake8"),
                               "1:1:E1:  a\tb\x01" "c\xff\xc3 d\x7f  \n",
                               &findings),
                     1);
    assert_string_equal(message_at(findings, 0), "a b c?? d");
    cJSON_Delete(findings);
    free(line);
}

/* Fills dst[0..len) with copies of word (cut at len); no NUL. */
static void words_fill(char *dst, size_t len, const char *word)
{
    size_t i, w = strlen(word);

    for (i = 0; i < len; i++)
        dst[i] = word[i % w];
}

/* A secret the cap falls inside: linters quote the file, and half a token
 * no longer matches a redaction pattern, so the cut drops the whole word. */
static void test_message_cap_secret(void **state)
{
    static const char token[] = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
    char *doc = malloc(LINTERS_MESSAGE_MAX + 256);
    cJSON *findings;
    const char *msg;
    size_t n, at, shift;

    (void)state;
    assert_non_null(doc);
    /* The token starts 1..39 bytes before the cap's last content byte. */
    for (shift = 1; shift < sizeof(token) - 1; shift += 6) {
        n = (size_t)snprintf(doc, 256, "{\"comments\": [{\"code\": 2154, \"line\": 3,"
                                       " \"message\": \"");
        at = LINTERS_MESSAGE_MAX - 3 - shift;
        words_fill(doc + n, at - 1, "is ");
        doc[n + at - 1] = ' ';
        memcpy(doc + n + at, token, sizeof(token) - 1);
        snprintf(doc + n + at + sizeof(token) - 1, 256, " is unset\"}]}");
        msg = parse_one("shell", "shellcheck", doc, &findings);
        assert_null(strstr(msg, "ghp_"));
        assert_true(ends_with(msg, "..."));
        assert_true(strlen(msg) <= LINTERS_MESSAGE_MAX);
        cJSON_Delete(findings);
    }
    free(doc);
}

static void test_message_cap_json(void **state)
{
    const size_t body = 3000;
    char *doc = malloc(body + 256);
    cJSON *findings;
    const char *msg;
    size_t n;

    (void)state;
    assert_non_null(doc);

    /* pylint keeps the symbol and cuts the message before it. */
    n = (size_t)snprintf(doc, 256,
                         "[{\"type\": \"warning\", \"message-id\": \"W0611\","
                         " \"symbol\": \"unused-import\", \"line\": 1,"
                         " \"message\": \"");
    words_fill(doc + n, body, "mmmm ");
    snprintf(doc + n + body, 256, "\\nnext\"}]");
    msg = parse_one("python", "pylint", doc, &findings);
    assert_true(strlen(msg) <= LINTERS_MESSAGE_MAX);
    assert_true(strlen(msg) >= LINTERS_MESSAGE_MAX - 5);
    assert_true(ends_with(msg, " mmmm... (unused-import)"));
    cJSON_Delete(findings);

    /* shellcheck: newline inside a short message becomes a space. */
    assert_int_equal(parse_str(linter_named("shell", "shellcheck"),
                               "{\"comments\": [{\"code\": 2086, \"line\": 2,"
                               " \"level\": \"info\", \"message\": "
                               "\"two\\nlines\"}]}",
                               &findings),
                     1);
    assert_string_equal(message_at(findings, 0), "two lines");
    cJSON_Delete(findings);

    n = (size_t)snprintf(doc, 256,
                         "{\"comments\": [{\"code\": 2086, \"line\": 2,"
                         " \"message\": \"");
    words_fill(doc + n, body, "ss ");
    snprintf(doc + n + body, 256, "\"}]}");
    msg = parse_one("shell", "shellcheck", doc, &findings);
    assert_true(strlen(msg) <= LINTERS_MESSAGE_MAX);
    assert_true(strlen(msg) >= LINTERS_MESSAGE_MAX - 3);
    assert_true(ends_with(msg, " ss..."));
    cJSON_Delete(findings);
    free(doc);
}

/* Builds a growing string; owns buf. */
struct text {
    char *buf;
    size_t len, cap;
};

static void text_add(struct text *t, const char *s)
{
    size_t n = strlen(s);

    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->buf = realloc(t->buf, t->cap);
        assert_non_null(t->buf);
    }
    memcpy(t->buf + t->len, s, n + 1);
    t->len += n;
}

static void test_findings_cap(void **state)
{
    const int lines = LINTERS_FINDINGS_MAX + 100;
    struct text flake8 = {0}, cppcheck = {0}, pylint = {0}, shellcheck = {0};
    char one[256];
    cJSON *findings;
    int i;

    (void)state;
    text_add(&pylint, "[");
    text_add(&shellcheck, "{\"comments\": [");
    for (i = 1; i <= lines; i++) {
        snprintf(one, sizeof(one), "%d:1:E501:line too long\n", i);
        text_add(&flake8, one);
        snprintf(one, sizeof(one), "a.c\t%d:1:style:unusedVariable:unused\n", i);
        text_add(&cppcheck, one);
        /* Another file's findings do not count towards the cap. */
        text_add(&cppcheck, "/usr/include/x.h\t1:1:style:unusedVariable:unused\n");
        snprintf(one, sizeof(one),
                 "%s{\"message-id\": \"C0301\", \"line\": %d}",
                 i > 1 ? "," : "", i);
        text_add(&pylint, one);
        snprintf(one, sizeof(one), "%s{\"code\": 2086, \"line\": %d}",
                 i > 1 ? "," : "", i);
        text_add(&shellcheck, one);
    }
    text_add(&pylint, "]");
    text_add(&shellcheck, "]}");

    assert_int_equal(parse_str(linter_named("python", "flake8"), flake8.buf,
                               &findings),
                     LINTERS_FINDINGS_MAX);
    assert_int_equal(cJSON_GetArraySize(findings), LINTERS_FINDINGS_MAX);
    assert_int_equal(
        int_of(cJSON_GetArrayItem(findings, LINTERS_FINDINGS_MAX - 1),
               "line"),
        LINTERS_FINDINGS_MAX);
    cJSON_Delete(findings);
    assert_int_equal(parse_str(linter_named("c", "cppcheck"), cppcheck.buf,
                               &findings),
                     LINTERS_FINDINGS_MAX);
    assert_int_equal(cJSON_GetArraySize(findings), LINTERS_FINDINGS_MAX);
    cJSON_Delete(findings);
    assert_int_equal(parse_str(linter_named("python", "pylint"), pylint.buf,
                               &findings),
                     LINTERS_FINDINGS_MAX);
    assert_int_equal(cJSON_GetArraySize(findings), LINTERS_FINDINGS_MAX);
    cJSON_Delete(findings);
    assert_int_equal(parse_str(linter_named("shell", "shellcheck"),
                               shellcheck.buf, &findings),
                     LINTERS_FINDINGS_MAX);
    assert_int_equal(cJSON_GetArraySize(findings), LINTERS_FINDINGS_MAX);
    cJSON_Delete(findings);

    free(flake8.buf);
    free(cppcheck.buf);
    free(pylint.buf);
    free(shellcheck.buf);
}

/* ESLint's lists: a message that is not an object, or "messages" that is
 * not an array, is no finding; files' messages add up. */
static void test_eslint_odd_items(void **state)
{
    cJSON *findings;
    const char *out =
        "[{\"messages\": [1, \"x\", {\"ruleId\": \"no-eval\", \"severity\": 2, "
        "\"line\": 3, \"message\": \"eval can be harmful.\"}]},"
        " {\"messages\": {\"ruleId\": \"semi\", \"line\": 9}},"
        " {\"messages\": [{\"fatal\": true, \"line\": 1, \"message\": \"Parsing error\"}]}]";

    (void)state;
    assert_int_equal(parse_str(linter_named("javascript", "eslint"), out, &findings), 2);
    assert_int_equal(cJSON_GetArraySize(findings), 2);
    assert_string_equal(str_of(cJSON_GetArrayItem(findings, 0), "rule_id"), "no-eval");
    assert_string_equal(str_of(cJSON_GetArrayItem(findings, 0), "category"), "security");
    assert_string_equal(str_of(cJSON_GetArrayItem(findings, 1), "rule_id"), "parse-error");
    assert_string_equal(str_of(cJSON_GetArrayItem(findings, 1), "category"), "syntax");
    cJSON_Delete(findings);
}

static void test_appends_to_existing(void **state)
{
    cJSON *findings = cJSON_CreateArray();
    size_t len;
    char *out = fixture_read(FIXTURE_DIR, "bad.py.flake8.out", &len);

    (void)state;
    assert_non_null(findings);
    assert_int_equal(linter_named("python", "flake8")->parse(out, len,
                                                             findings),
                     11);
    free(out);
    out = fixture_read(FIXTURE_DIR, "bad.py.pylint.out", &len);
    assert_int_equal(linter_named("python", "pylint")->parse(out, len,
                                                             findings),
                     13);
    assert_int_equal(cJSON_GetArraySize(findings), 24);
    assert_string_equal(
        str_of(cJSON_GetArrayItem(findings, 11), "source"), "lint:pylint");
    free(out);
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
        cmocka_unit_test(test_eslint_odd_items),
        cmocka_unit_test(test_cppcheck_bad_c),
        cmocka_unit_test(test_cppcheck_bad_cpp),
        cmocka_unit_test(test_cppcheck_syntax_error),
        cmocka_unit_test(test_cppcheck_header_findings_dropped),
        cmocka_unit_test(test_cppcheck_path_with_colons),
        cmocka_unit_test(test_exit_ok),
        cmocka_unit_test(test_empty_output),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_odd_json_entries),
        cmocka_unit_test(test_line_zero_clamped),
        cmocka_unit_test(test_message_cap),
        cmocka_unit_test(test_message_cap_json),
        cmocka_unit_test(test_message_cap_secret),
        cmocka_unit_test(test_findings_cap),
        cmocka_unit_test(test_appends_to_existing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

