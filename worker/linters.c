/* linters.c - which linters run for a language, with which arguments, what
 * their exit statuses mean, and which of their checks are the same issue.
 * See linters.h for the contract; the parsers of their output, and how each
 * maps to severity and category, are in linter_parse_lines.c (flake8,
 * cppcheck) and linter_parse_json.c (pylint, shellcheck, ESLint). Nothing
 * here runs a program.
 */
#include "worker/linters.h"

#include "common/language.h"
#include "worker/linter_parse.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int exit_ok_zero_or_one(int exit_code);
static int exit_ok_pylint(int exit_code);
static int exit_ok_zero(int exit_code);

/* --isolated: ignore setup.cfg, tox.ini, .flake8 and user configs.
 * --max-complexity: turns on mccabe's C901. The format has no file name, so
 * every output line is "row:col:code:text" and text may hold colons. */
static const char *const flake8_argv[] = {
    "flake8", "--isolated", "--jobs=1", "--max-complexity=10",
    "--format=%(row)d:%(col)d:%(code)s:%(text)s", "--no-show-source",
    LINTERS_FILE_PLACEHOLDER, NULL,
};

/* --rcfile=/dev/null: no pylintrc/pyproject.toml from the tree or HOME.
 * import-error and relative-beyond-top-level are disabled because the file
 * is checked alone, without its package or installed dependencies, so they
 * would fire on every third-party or relative import. */
static const char *const pylint_argv[] = {
    "pylint", "--output-format=json", "--persistent=n", "--score=n",
    "--rcfile=/dev/null", "--jobs=1",
    "--disable=import-error,relative-beyond-top-level",
    LINTERS_FILE_PLACEHOLDER, NULL,
};

/* json1 counts a tab as one column (json counts it as 8). No --shell: the
 * shebang decides; without one shellcheck reports SC2148 and assumes bash. */
static const char *const shellcheck_argv[] = {
    "shellcheck", "--norc", "--format=json1", LINTERS_FILE_PLACEHOLDER, NULL,
};

/* The template names each finding's file, then a tab: cppcheck also reports
 * what it finds in a header the file includes, with the header's lines, and
 * the parser keeps the file's own findings only (linter_parse_lines.c). A tab, not
 * ':', ends the file: a submitted path may hold ':' but no control
 * character. cppcheck turns the two characters "\t" into a tab. */
#define CPPCHECK_COMMON_ARGS \
    "--enable=warning,style,performance,portability", "--quiet", \
    "--suppress=missingIncludeSystem", \
    "--template={file}\\t{line}:{column}:{severity}:{id}:{message}"

static const char *const cppcheck_c_argv[] = {
    "cppcheck", "--language=c", CPPCHECK_COMMON_ARGS,
    LINTERS_FILE_PLACEHOLDER, NULL,
};

static const char *const cppcheck_cpp_argv[] = {
    "cppcheck", "--language=c++", CPPCHECK_COMMON_ARGS,
    LINTERS_FILE_PLACEHOLDER, NULL,
};

/* ESLint runs from the worker's install (CODEINSIGHT_ESLINT_DIR); the runner
 * writes a one-line config into the temp dir that re-exports the shipped
 * deploy/eslint/eslint.config.mjs, so the file is inside ESLint's base path.
 * --config names it: without it ESLint looks for eslint.config.js first, and
 * would import (run) a submitted file of that name. The stub is written
 * after the file, exclusively: a file named like it fails the lint instead. */
#define ESLINT_STUB "eslint.config.mjs"
static const char *const eslint_argv[] = {
    "eslint", "--config", ESLINT_STUB, "--format", "json", "--no-warn-ignored",
    LINTERS_FILE_PLACEHOLDER, NULL,
};

static const struct linter eslint_linter = {
    "eslint", eslint_argv, 0, exit_ok_zero_or_one, parse_eslint,
    ESLINT_STUB, "export { default } from \"", "\";\n",
};

static const struct linter flake8_linter = {
    "flake8", flake8_argv, 0, exit_ok_zero_or_one, parse_flake8,
};
static const struct linter pylint_linter = {
    "pylint", pylint_argv, 0, exit_ok_pylint, parse_pylint,
};
static const struct linter shellcheck_linter = {
    "shellcheck", shellcheck_argv, 0, exit_ok_zero_or_one, parse_shellcheck,
    .lf_lines_only = 1,             /* a lone "\r" is SC1017, not a line end */
};
static const struct linter cppcheck_c_linter = {
    "cppcheck", cppcheck_c_argv, 1, exit_ok_zero, parse_cppcheck,
};
static const struct linter cppcheck_cpp_linter = {
    "cppcheck", cppcheck_cpp_argv, 1, exit_ok_zero, parse_cppcheck,
};

static const struct linter *const python_linters[] = {
    &flake8_linter, &pylint_linter, NULL,
};
static const struct linter *const shell_linters[] = {&shellcheck_linter, NULL};
static const struct linter *const c_linters[] = {&cppcheck_c_linter, NULL};
static const struct linter *const cpp_linters[] = {&cppcheck_cpp_linter, NULL};
static const struct linter *const no_linters[] = {NULL};
static const struct linter *const js_linters[] = {&eslint_linter, NULL};
/* Each program once (cppcheck's C entry stands for both). */
static const struct linter *const all_linters[] = {
    &flake8_linter, &pylint_linter, &shellcheck_linter, &cppcheck_c_linter, &eslint_linter, NULL,
};

struct language {
    const char *name;                     /* canonical */
    const struct linter *const *linters;  /* NULL-terminated */
};

static const struct language languages[] = {
    {"python", python_linters},
    {"shell", shell_linters},
    {"c", c_linters},
    {"cpp", cpp_linters},
    {"javascript", js_linters},
    {"typescript", js_linters},
    {"go", no_linters},
    {"rust", no_linters},
    {"java", no_linters},
    {"kotlin", no_linters},
    {"ruby", no_linters},
    {"php", no_linters},
    {"csharp", no_linters},
    {"swift", no_linters},
    {"scala", no_linters},
    {"perl", no_linters},
    {"lua", no_linters},
};

struct name_map {
    const char *from;  /* alias */
    const char *to;    /* canonical language */
};

/* Aliases besides the canonical names themselves. zsh and fish are not
 * shell: shellcheck only understands sh, bash, dash and ksh. */
static const struct name_map language_aliases[] = {
    {"py", "python"}, {"python3", "python"}, {"python2", "python"},
    {"sh", "shell"}, {"bash", "shell"}, {"ksh", "shell"}, {"dash", "shell"},
    {"c++", "cpp"}, {"cxx", "cpp"}, {"cc", "cpp"},
    {"js", "javascript"}, {"node", "javascript"}, {"jsx", "javascript"},
    {"ts", "typescript"}, {"tsx", "typescript"},
    {"golang", "go"}, {"rs", "rust"}, {"kt", "kotlin"}, {"rb", "ruby"},
    {"cs", "csharp"}, {"c#", "csharp"}, {"pl", "perl"},
    /* Editors' language ids (VS Code's languageId). */
    {"shellscript", "shell"}, {"javascriptreact", "javascript"},
    {"typescriptreact", "typescript"},
};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

const char *linters_language_canonical(const char *lang)
{
    size_t i;

    if (lang == NULL)
        return NULL;
    for (i = 0; i < COUNT_OF(languages); i++)
        if (strcasecmp(lang, languages[i].name) == 0)
            return languages[i].name;
    for (i = 0; i < COUNT_OF(language_aliases); i++)
        if (strcasecmp(lang, language_aliases[i].from) == 0)
            return language_aliases[i].to;
    return NULL;
}

const char *linters_language_resolve(const char *given, const char *path, const char *text,
                                     size_t len)
{
    if (given != NULL && given[0] != '\0')
        return linters_language_canonical(given);
    return language_from_source(path, text, len);
}

const struct linter *const *linters_for(const char *language)
{
    const char *name = linters_language_canonical(language);
    size_t i;

    if (name == NULL)
        return no_linters;
    for (i = 0; i < COUNT_OF(languages); i++)
        if (strcmp(name, languages[i].name) == 0)
            return languages[i].linters;
    return no_linters;
}

const struct linter *const *linters_all(void)
{
    return all_linters;
}

/* flake8 and shellcheck: 0 clean, 1 findings; anything else failed. */
static int exit_ok_zero_or_one(int exit_code)
{
    return exit_code == 0 || exit_code == 1;
}

/* pylint ORs 1 fatal, 2 error, 4 warning, 8 refactor, 16 convention and 32
 * usage error. Fatal still prints its finding as JSON; 32 (bad options) or
 * anything above 63 (shell "not found", signals) did not run properly. */
static int exit_ok_pylint(int exit_code)
{
    return exit_code >= 0 && exit_code < 32;
}

/* cppcheck without --error-exitcode exits 0 whatever it finds. */
static int exit_ok_zero(int exit_code)
{
    return exit_code == 0;
}

/* The same check in flake8 (pycodestyle, pyflakes) and pylint. */
static const struct {
    const char *flake8, *pylint;
} same_checks[] = {
    {"F401", "W0611"}, {"F821", "E0602"}, {"F841", "W0612"}, {"F403", "W0401"},
    {"F541", "W1309"}, {"E501", "C0301"}, {"E722", "W0702"}, {"W605", "W1401"},
    {"E401", "C0410"}, {"E701", "C0321"}, {"W291", "C0303"}, {"W293", "C0303"},
    {"W391", "C0305"}, {"E711", "C0121"}, {"E712", "C0121"}, {"E999", "E0001"},
};

/* The first 'quoted' text of msg: its start and length, or 0 when none. */
static size_t quoted(const char *msg, const char **start)
{
    const char *open = strchr(msg, '\''), *close;

    if (open == NULL || (close = strchr(open + 1, '\'')) == NULL || close == open + 1)
        return 0;
    *start = open + 1;
    return (size_t)(close - open - 1);
}

static int is_word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.';
}

/* Whether name[0..n) stands in msg as a whole word. */
static int has_word(const char *msg, const char *name, size_t n)
{
    for (const char *p = msg; *p != '\0'; p++)
        if (strncmp(p, name, n) == 0 && (p == msg || !is_word_char(p[-1])) &&
            !is_word_char(p[n]))
            return 1;
    return 0;
}

int linters_same_finding(const char *rule_a, const char *message_a, const char *rule_b,
                         const char *message_b)
{
    const char *qa = NULL, *qb = NULL;
    size_t na, nb, i;

    if (rule_a == NULL || rule_b == NULL || message_a == NULL || message_b == NULL)
        return 0;
    for (i = 0; i < COUNT_OF(same_checks); i++)
        if ((strcmp(rule_a, same_checks[i].flake8) == 0 &&
             strcmp(rule_b, same_checks[i].pylint) == 0) ||
            (strcmp(rule_b, same_checks[i].flake8) == 0 &&
             strcmp(rule_a, same_checks[i].pylint) == 0))
            break;
    if (i == COUNT_OF(same_checks))
        return 0;
    na = quoted(message_a, &qa);
    nb = quoted(message_b, &qb);
    if (na > 0 && nb > 0)
        return na == nb && memcmp(qa, qb, na) == 0;
    if (na > 0)
        return has_word(message_b, qa, na);
    if (nb > 0)
        return has_word(message_a, qb, nb);
    return 1;
}

int linters_run_failed(const struct linter *l, int exit_code, int found)
{
    if (l->exit_ok == exit_ok_zero_or_one)
        return exit_code == 1 && found == 0;
    if (l->exit_ok == exit_ok_pylint)
        return (exit_code & 1) != 0 || (exit_code != 0 && found == 0);
    return 0;
}
