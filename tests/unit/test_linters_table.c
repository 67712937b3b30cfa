/* test_linters_table.c - unit tests for the linter table of
 * worker/linters.c: language names and file extensions, which linters run
 * for a language, and their argv. The output parsers are tested in
 * test_linters_parse.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/language.h"
#include "worker/linters.h"

static void test_language_aliases(void **state)
{
    static const char *const pairs[][2] = {
        {"python", "python"}, {"py", "python"}, {"PY", "python"},
        {"Python3", "python"}, {"sh", "shell"}, {"bash", "shell"},
        {"BASH", "shell"}, {"shell", "shell"}, {"c", "c"}, {"C", "c"},
        {"c++", "cpp"}, {"cxx", "cpp"}, {"CPP", "cpp"}, {"cc", "cpp"},
        {"js", "javascript"}, {"JavaScript", "javascript"},
        {"ts", "typescript"}, {"typescript", "typescript"},
        {"go", "go"}, {"golang", "go"}, {"rust", "rust"}, {"rs", "rust"},
        {"java", "java"}, {"ruby", "ruby"}, {"rb", "ruby"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        const char *got = linters_language_canonical(pairs[i][0]);

        if (got == NULL || strcmp(got, pairs[i][1]) != 0)
            fail_msg("%s -> %s, want %s", pairs[i][0],
                     got != NULL ? got : "NULL", pairs[i][1]);
    }
    assert_null(linters_language_canonical(NULL));
    assert_null(linters_language_canonical(""));
    assert_null(linters_language_canonical("cobol"));
    assert_null(linters_language_canonical("python "));
    assert_null(linters_language_canonical("zsh"));
}

static void test_language_from_path(void **state)
{
    static const char *const pairs[][2] = {
        {"a.py", "python"}, {"src/pkg/mod.PY", "python"},
        {"run.sh", "shell"}, {"x/y/build.bash", "shell"},
        {"main.c", "c"}, {"inc/api.h", "c"}, {"a.cpp", "cpp"},
        {"a.cc", "cpp"}, {"a.cxx", "cpp"}, {"a.hpp", "cpp"},
        {"app.js", "javascript"}, {"app.tsx", "typescript"},
        {"main.go", "go"}, {"lib.rs", "rust"}, {"A.java", "java"},
        {"x.rb", "ruby"}, {"dir.d/file.c", "c"}, {"a.pyw", "python"},
        {"a.pyi", "python"}, {"a.ksh", "shell"}, {"a.dash", "shell"},
        {"a.c++", "cpp"}, {"a.hh", "cpp"}, {"a.hxx", "cpp"}, {"a.h++", "cpp"},
        {"a.mjs", "javascript"}, {"a.cjs", "javascript"}, {"a.jsx", "javascript"},
        {"a.ts", "typescript"}, {"a.mts", "typescript"}, {"a.cts", "typescript"},
        {"a.kt", "kotlin"}, {"a.kts", "kotlin"}, {"a.php", "php"}, {"a.cs", "csharp"},
        {"a.swift", "swift"}, {"a.scala", "scala"}, {"a.pl", "perl"}, {"a.pm", "perl"},
        {"a.lua", "lua"},
    };
    static const char *const unknown[] = {
        "Makefile", ".bashrc", "dir.py/README", "a.", "a.tar.gz", "",
        "noext", "dir/", ".py",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        const char *got = language_from_path(pairs[i][0]);

        if (got == NULL || strcmp(got, pairs[i][1]) != 0)
            fail_msg("%s -> %s, want %s", pairs[i][0],
                     got != NULL ? got : "NULL", pairs[i][1]);
        /* common/language.c names the worker's languages. */
        assert_string_equal(linters_language_canonical(got), got);
    }
    for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
        if (language_from_path(unknown[i]) != NULL)
            fail_msg("%s should have no language", unknown[i]);
    assert_null(language_from_path(NULL));
}

/* flake8's and pylint's reports of one check about one name are one finding. */
static void test_same_finding(void **state)
{
    static const struct {
        const char *rule_a, *msg_a, *rule_b, *msg_b;
        int want;
    } cases[] = {
        {"F401", "'os' imported but unused", "W0611", "Unused import os (unused-import)", 1},
        {"W0611", "Unused import os.path (unused-import)", "F401",
         "'os.path' imported but unused", 1},
        {"F821", "undefined name 'undefined_name'", "E0602",
         "Undefined variable 'undefined_name' (undefined-variable)", 1},
        {"E501", "line too long (120 > 79 characters)", "C0301",
         "Line too long (120/100) (line-too-long)", 1},
        /* Other names, other checks, one tool twice, unknown rules, NULLs. */
        {"F401", "'os' imported but unused", "W0611", "Unused import sys (unused-import)", 0},
        {"F401", "'os' imported but unused", "W0611", "Unused import oss (unused-import)", 0},
        {"F821", "undefined name 'a'", "E0602", "Undefined variable 'b' (undefined-variable)", 0},
        {"F401", "'os' imported but unused", "W0612", "Unused variable 'os' (unused-variable)", 0},
        {"F401", "'os' imported but unused", "F401", "'os' imported but unused", 0},
        {"SC2086", "x", "SC2086", "x", 0},
        {NULL, "x", "W0611", "x", 0},
        {"F401", NULL, "W0611", "x", 0},
    };
    (void)state;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (linters_same_finding(cases[i].rule_a, cases[i].msg_a, cases[i].rule_b,
                                 cases[i].msg_b) != cases[i].want)
            fail_msg("case %zu: %s / %s, want %d", i, cases[i].msg_a ? cases[i].msg_a : "NULL",
                     cases[i].msg_b, cases[i].want);
}

/* The client's word wins over the extension, even when we do not know it. */
static void test_language_resolve(void **state)
{
    static const char cpp_h[] = "#pragma once\n\nclass Point {\npublic:\n    int x;\n};\n";
    static const char c_h[] = "#ifndef P_H\n#define P_H\nstruct point { int x; };\n"
                              "/* a class of its own */\n#endif\n";

    (void)state;
    assert_string_equal(linters_language_resolve("bash", "a.py", NULL, 0), "shell");
    assert_string_equal(linters_language_resolve("shellscript", "run", NULL, 0), "shell");
    assert_string_equal(linters_language_resolve("typescriptreact", "a.tsx", NULL, 0),
                        "typescript");
    assert_null(linters_language_resolve("cobol", "q.c", NULL, 0));
    assert_string_equal(linters_language_resolve(NULL, "q.c", NULL, 0), "c");
    assert_string_equal(linters_language_resolve("", "q.c", NULL, 0), "c");
    assert_null(linters_language_resolve(NULL, "Makefile", NULL, 0));
    assert_null(linters_language_resolve(NULL, NULL, NULL, 0));
    /* A header is C by its name, C++ by its text; a .c file by its name. */
    assert_string_equal(linters_language_resolve(NULL, "p.h", cpp_h, strlen(cpp_h)), "cpp");
    assert_string_equal(linters_language_resolve(NULL, "inc/P.H", cpp_h, strlen(cpp_h)), "cpp");
    assert_string_equal(linters_language_resolve(NULL, "p.h", c_h, strlen(c_h)), "c");
    assert_string_equal(linters_language_resolve(NULL, "p.h", NULL, 0), "c");
    assert_string_equal(linters_language_resolve(NULL, "p.c", cpp_h, strlen(cpp_h)), "c");
    assert_string_equal(linters_language_resolve("c", "p.h", cpp_h, strlen(cpp_h)), "c");
    assert_string_equal(linters_language_resolve(NULL, "v.h", "std::vector<int> v;",
                                                 19), "cpp");
    assert_string_equal(linters_language_resolve(NULL, "n.h", "  namespace a {}", 16), "cpp");
    /* Only the first LANGUAGE_SNIFF_MAX bytes are read. */
    {
        size_t n = LANGUAGE_SNIFF_MAX + 64;
        char *big = malloc(n);
        assert_non_null(big);
        memset(big, '\n', n);
        memcpy(big + LANGUAGE_SNIFF_MAX + 8, "class A;", 8);
        assert_string_equal(linters_language_resolve(NULL, "b.h", big, n), "c");
        memcpy(big + 8, "class A;", 8);
        assert_string_equal(linters_language_resolve(NULL, "b.h", big, n), "cpp");
        free(big);
    }
}

static size_t linter_count(const char *language)
{
    const struct linter *const *l = linters_for(language);
    size_t n = 0;

    assert_non_null(l);
    while (l[n] != NULL)
        n++;
    return n;
}

static int argv_has(const struct linter *l, const char *arg)
{
    size_t i;

    for (i = 0; l->argv[i] != NULL; i++)
        if (strcmp(l->argv[i], arg) == 0)
            return 1;
    return 0;
}

static void test_linters_for(void **state)
{
    static const char *const none[] = {
        "go", "rust", "java", "ruby", "cobol", "", NULL,
    };
    size_t i;

    (void)state;
    assert_int_equal(linter_count("python"), 2);
    assert_string_equal(linters_for("python")[0]->tool, "flake8");
    assert_string_equal(linters_for("python")[1]->tool, "pylint");
    assert_int_equal(linter_count("py"), 2);
    assert_int_equal(linter_count("shell"), 1);
    assert_string_equal(linters_for("bash")[0]->tool, "shellcheck");
    assert_int_equal(linter_count("c"), 1);
    assert_int_equal(linter_count("cpp"), 1);
    assert_string_equal(linters_for("c")[0]->tool, "cppcheck");
    assert_true(argv_has(linters_for("c")[0], "--language=c"));
    assert_false(argv_has(linters_for("c")[0], "--language=c++"));
    assert_true(argv_has(linters_for("c++")[0], "--language=c++"));
    assert_int_equal(linter_count("javascript"), 1);
    assert_int_equal(linter_count("typescript"), 1);
    assert_string_equal(linters_for("js")[0]->tool, "eslint");
    assert_string_equal(linters_for("ts")[0]->stub_name, "eslint.config.mjs");
    for (i = 0; i < sizeof(none) / sizeof(none[0]); i++)
        assert_int_equal(linter_count(none[i]), 0);
}

static void test_argv_placeholder(void **state)
{
    static const char *const langs[] = {"python", "shell", "c", "cpp"};
    size_t i, j;

    (void)state;
    for (i = 0; i < sizeof(langs) / sizeof(langs[0]); i++) {
        const struct linter *const *l;

        for (l = linters_for(langs[i]); *l != NULL; l++) {
            int placeholders = 0;

            assert_non_null((*l)->argv);
            assert_string_equal((*l)->argv[0], (*l)->tool);
            for (j = 0; (*l)->argv[j] != NULL; j++)
                if (strcmp((*l)->argv[j], LINTERS_FILE_PLACEHOLDER) == 0)
                    placeholders++;
            assert_int_equal(placeholders, 1);
            assert_int_equal((*l)->parse_stderr,
                             strcmp((*l)->tool, "cppcheck") == 0);
            assert_non_null((*l)->exit_ok);
            assert_non_null((*l)->parse);
        }
    }
}

/* The tool of that name among language's linters. */
static const struct linter *named(const char *language, const char *tool)
{
    for (const struct linter *const *l = linters_for(language); *l != NULL; l++)
        if (strcmp((*l)->tool, tool) == 0)
            return *l;
    fail_msg("%s has no %s", language, tool);
    return NULL;
}

static void test_run_failed(void **state)
{
    const struct linter *flake8 = named("python", "flake8");
    const struct linter *pylint = named("python", "pylint");
    const struct linter *cppcheck = named("c", "cppcheck");
    (void)state;

    /* Exit 1 promises findings: without any, the run failed. */
    assert_true(linters_run_failed(flake8, 1, 0));
    assert_false(linters_run_failed(flake8, 1, 3));
    assert_false(linters_run_failed(flake8, 0, 0));
    assert_true(linters_run_failed(named("shell", "shellcheck"), 1, 0));
    assert_true(linters_run_failed(named("javascript", "eslint"), 1, 0));
    /* pylint: bit 1 is a fatal message, whatever else it found. */
    assert_true(linters_run_failed(pylint, 1, 1));
    assert_true(linters_run_failed(pylint, 1 | 4, 2));
    assert_false(linters_run_failed(pylint, 2 | 4 | 16, 5));
    assert_false(linters_run_failed(pylint, 0, 0));
    /* Its other bits say messages of a type were issued: without any
     * read (an empty or lost output), the run failed too. */
    assert_true(linters_run_failed(pylint, 2, 0));
    assert_true(linters_run_failed(pylint, 4 | 16, 0));
    assert_false(linters_run_failed(pylint, 16, 1));
    assert_false(linters_run_failed(cppcheck, 0, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_language_aliases),
        cmocka_unit_test(test_language_from_path),
        cmocka_unit_test(test_language_resolve),
        cmocka_unit_test(test_same_finding),
        cmocka_unit_test(test_linters_for),
        cmocka_unit_test(test_argv_placeholder),
        cmocka_unit_test(test_run_failed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
