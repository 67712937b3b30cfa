/* linters.h - the table of real linters the worker runs per language, and
 * pure parsers that turn each linter's output into findings.
 *
 * Nothing here spawns a process: the runner takes a struct linter, replaces
 * the "{file}" element of its argv, runs it in an empty working directory,
 * checks exit_ok() and hands stdout (or stderr when parse_stderr) to parse().
 *
 *     const struct linter *const *l = linters_for("py");
 *     for (; *l != NULL; l++) { run (*l)->argv; (*l)->parse(out, n, arr); }
 *
 * A finding is a cJSON object with exactly these keys:
 *     "line"      int >= 1 (a tool's 0, null or missing line becomes 1)
 *     "end_line"  int >= line, only when the tool reports it
 *     "column"    int >= 1, only when the tool reports it (always 1-based)
 *     "severity"  "critical" | "major" | "minor" | "info"
 *     "category"  "syntax" | "correctness" | "security" | "performance" |
 *                 "maintainability" | "style" | "documentation"
 *     "rule_id"   the tool's own id: "F401", "W0611", "SC2086", "nullPointer"
 *     "message"   at most LINTERS_MESSAGE_MAX bytes of valid UTF-8 without
 *                 control characters; longer ones are cut at a blank
 *                 and end in "..."
 *     "source"    "lint:<tool>", e.g. "lint:flake8"
 */
#ifndef CI_LINTERS_H
#define CI_LINTERS_H

#include <stddef.h>

#include "common/json.h"

/* The argv element the runner replaces with the file's path relative to the
 * working directory. The path must not begin with '-' (use "./name"). */
#define LINTERS_FILE_PLACEHOLDER "{file}"

/* Bytes of a finding's message, excluding the NUL; longer messages are cut
 * at a blank (a word the limit falls inside is dropped whole: it may be a
 * quoted secret) and end in "..." (which counts in the limit). */
#define LINTERS_MESSAGE_MAX 1024

/* Findings one parse() call appends at most; the rest are dropped. */
#define LINTERS_FINDINGS_MAX 500

/* Bytes of linter output a parser accepts; parse() returns -1 beyond it. */
#define LINTERS_OUTPUT_MAX ((size_t)16 * 1024 * 1024)

/* Bytes of a rule_id; a longer or oddly-spelt id makes the finding invalid. */
#define LINTERS_RULE_ID_MAX 64

struct linter {
    const char *tool;              /* "flake8"; findings carry "lint:<tool>" */
    const char *const *argv;       /* NULL-terminated; argv[0] is the program,
                                      exactly one element is "{file}" */
    int parse_stderr;              /* 1: findings on stderr; 0: stdout */
    /* Returns 1 when exit_code means "ran fine" (with or without findings),
     * 0 when the run failed and its output must not be trusted. */
    int (*exit_ok)(int exit_code);
    /* Appends findings parsed from out[0..len) to the cJSON array
     * `findings` (borrows both; out need not be NUL-terminated and may be
     * NULL when len is 0). Returns the number appended
     * (0..LINTERS_FINDINGS_MAX; empty or blank output gives 0), or -1 when
     * findings is not an array, out is not in the expected format or is
     * longer than LINTERS_OUTPUT_MAX (nothing appended), or memory ran out
     * (findings may hold some entries). A finding the linter reports in
     * another file (cppcheck: a header the file includes) is read, then
     * dropped: it counts for the format, not in the number returned. */
    int (*parse)(const char *out, size_t len, cJSON *findings);
    /* A config file the runner writes into the working directory first, or
     * NULL: stub_name, holding stub_prefix + the absolute path of the shipped
     * configuration + stub_suffix (ESLint). */
    const char *stub_name;
    const char *stub_prefix;
    const char *stub_suffix;
    /* 1: the tool ends lines at "\n" alone, as the service does; 0: a lone
     * "\r" ends one too (Python's universal newlines, cppcheck, ESLint),
     * and the runner maps its line numbers (lint_lines.h). */
    int lf_lines_only;
};

/* Canonical language name for a user-supplied name or alias, compared
 * case-insensitively: "py"/"python3" -> "python", "sh"/"bash"/"ksh"/"dash"
 * -> "shell", "c++"/"cxx"/"cc" -> "cpp", "js"/"node" -> "javascript",
 * "ts" -> "typescript", "golang" -> "go", "rs" -> "rust", ... Known
 * languages: python, shell, c, cpp, javascript, typescript, go, rust, java,
 * kotlin, ruby, php, csharp, swift, scala, perl, lua. Returns a static
 * string, or NULL when lang is NULL or unknown. */
const char *linters_language_canonical(const char *lang);

/* The language of a job: what the client said (given) when it names one,
 * else what path's extension says, for a ".h" header with its text[0..len)
 * (language_from_source: a C++ one is "cpp"; text may be NULL). Returns the
 * canonical name; NULL when the client named a language we do not know
 * ("cobol": its word stands, and no linter runs; the caller keeps given) or
 * neither says (common/language.h). An empty given counts as none. */
const char *linters_language_resolve(const char *given, const char *path, const char *text,
                                     size_t len);

/* Linters to run for a language (canonical name or alias, as accepted by
 * linters_language_canonical). Returns a static NULL-terminated array, in
 * run order; an empty array (never NULL) for an unknown language, NULL, or
 * a language without linters. */
const struct linter *const *linters_for(const char *language);

/* Every linter of the table, each program once (a NULL-terminated static
 * array): what a worker checks it can find when it starts. */
const struct linter *const *linters_all(void);

/* 1 when findings a (rule_a, message_a) and b (rule_b, message_b), from two
 * linters on one line, report one defect: their rules are the same check in
 * flake8 and pylint (F401 and W0611 unused-import, F821 and E0602
 * undefined-variable, E501 and C0301 line-too-long, ...) and they name the
 * same thing: the first 'quoted' name of one message is the other's first
 * quoted name, or a word of it when that has none ("'os' imported but
 * unused", "Unused import os"); messages without quotes match. NULL
 * arguments never match. */
int linters_same_finding(const char *rule_a, const char *message_a, const char *rule_b,
                         const char *message_b);

/* 1 when a run exit_ok accepted failed all the same, by its exit code and
 * the number of findings parse() read from it: flake8, shellcheck and
 * ESLint exit 1 only with findings to show, so exit 1 with none is the
 * interpreter's own failure (a MemoryError under the sandbox's address-space
 * limit, say); pylint's bit 1 is a fatal message (it could not check the
 * file: astroid crashed, or memory ran out), and its other bits say it
 * issued messages, so with none read its output was lost. */
int linters_run_failed(const struct linter *l, int exit_code, int found);

#endif
