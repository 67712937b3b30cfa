/* linter_parse_lines.c - the parsers of linters that print a finding per
 * line, flake8 and cppcheck (linter_parse.h): pure, nothing here runs a
 * program.
 *
 * Severity and category mapping (severity / category):
 *
 * flake8 (pyflakes F, pycodestyle E/W, mccabe C90), by code prefix:
 *   E9xx (E999 syntax error, E902 I/O error), F7xx  major / syntax
 *   F63x (F632 `is` with a literal...), F82x (F821 undefined name)
 *                                                   major / correctness
 *   F4xx (unused / star imports), F811, F841, F842, F541
 *                                                   minor / maintainability
 *   any other F                                     major / correctness
 *   W6xx (deprecated syntax, invalid escape)        minor / correctness
 *   C90x (too complex)                              info / maintainability
 *   other E and W                                   info / style
 *   D (docstring plugins)                           info / documentation
 *   anything else                                   info / maintainability
 *
 * cppcheck, by severity:
 *   syntaxError, preprocessorErrorDirective         major / syntax
 *   unknownMacro, internalAstError, cppcheckError, internalError (cppcheck
 *   could not analyse the code: a limit of the tool, not a defect)
 *                                                   info / maintainability
 *   error                                           major / correctness
 *   warning                                         minor / correctness
 *   (error and warning ids about out-of-bounds memory, double free and use
 *   after free take category security instead)
 *   performance                                     minor / performance
 *   portability                                     info / correctness
 *   style, information and anything else            info / maintainability
 *   Only findings in the file run are kept: what cppcheck finds in a header
 *   the file includes carries the header's line numbers (cppcheck_line).
 */
#include "worker/linter_parse.h"

#include "common/relpath.h"
#include "worker/ascii.h"
#include "worker/linter_parse_finding.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Bytes of one line of line-based output we look at; the rest of a longer
 * line only makes its message end in "...". */
#define LINE_BUF_MAX 4096

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* What a line_fn made of one line. */
enum {
    LINE_OOM = -1,          /* out of memory */
    LINE_OTHER = 0,         /* not a finding */
    LINE_APPENDED = 1,      /* a finding, appended */
    LINE_ELSEWHERE = 2,     /* a finding in another file than the one run, dropped */
};

/* Handles one NUL-terminated line (cut to LINE_BUF_MAX - 1 bytes; `more`
 * when it was longer, or is the output's last and has no "\n"). Returns
 * one of LINE_*. */
typedef int (*line_fn)(char *line, int more, cJSON *findings);

/* Reads a decimal field made of digits only, followed by ':'. On success
 * stores it, moves *p past the ':' and returns 0; otherwise -1. */
static int field_number(char **p, long *value)
{
    char *end;
    long v;

    if (!ascii_is_digit((unsigned char)**p))
        return -1;
    errno = 0;
    v = strtol(*p, &end, 10);
    if (errno == ERANGE || end == *p || *end != ':')
        return -1;
    *value = v;
    *p = end + 1;
    return 0;
}

/* Cuts the field ending at the next ':' into a string. On success stores
 * its start, moves *p past the ':' and returns 0; -1 when there is no ':'. */
static int field_word(char **p, char **word)
{
    char *colon = strchr(*p, ':');

    if (colon == NULL)
        return -1;
    *colon = '\0';
    *word = *p;
    *p = colon + 1;
    return 0;
}

/* finding_text, then appends f. Returns LINE_APPENDED, or LINE_OOM. */
static int finding_append_text(cJSON *findings, struct finding *f, char *msg,
                               const char *text, int more, const char *fallback,
                               const char *source)
{
    finding_text(f, msg, text, more, fallback);
    return finding_append(findings, f, source) < 0 ? LINE_OOM : LINE_APPENDED;
}

/* Runs fn over each line of out[0..len) after finding_precheck. Returns the
 * number of findings appended (0 for empty or blank output, or when every
 * finding was another file's), or -1 when no line at all was a finding or
 * on out of memory. */
static int parse_lines(const char *out, size_t len, cJSON *findings,
                       line_fn fn)
{
    char buf[LINE_BUF_MAX];
    size_t pos = 0;
    int count = 0, matched = 0, rc = finding_precheck(out, len, findings);

    if (rc <= 0)
        return rc;

    while (pos < len && count < LINTERS_FINDINGS_MAX) {
        const char *nl = memchr(out + pos, '\n', len - pos);
        size_t end = nl != NULL ? (size_t)(nl - out) : len;
        size_t n = end - pos;
        /* A last line without its "\n" was cut short (the runner's output
         * cap): it may end inside a word quoted from the file. */
        int more = nl == NULL;

        if (n > 0 && out[pos + n - 1] == '\r')
            n--;
        if (n >= sizeof(buf)) {
            n = sizeof(buf) - 1;
            more = 1;
        }
        memcpy(buf, out + pos, n);
        buf[n] = '\0';
        pos = end + 1;
        if (n == 0)
            continue;
        rc = fn(buf, more, findings);
        if (rc == LINE_OOM)
            return -1;
        if (rc != LINE_OTHER)
            matched = 1;
        if (rc == LINE_APPENDED)
            count++;
    }
    return matched ? count : -1;
}

/* "row:col:code:text" */
static int flake8_line(char *line, int more, cJSON *findings)
{
    char msg[LINTERS_MESSAGE_MAX + 1];
    struct finding f = {0};
    char *p = line, *code;
    long row, col;

    if (field_number(&p, &row) < 0 || field_number(&p, &col) < 0 ||
        field_word(&p, &code) < 0 || !ascii_is_alpha((unsigned char)code[0]) ||
        !finding_rule_id_valid(code))
        return 0;
    f.line = finding_line_clamp(row);
    f.column = col >= 1 && col <= INT_MAX ? col : 0;
    f.rule_id = code;
    f.severity = "info";
    f.category = "maintainability";
    if (strncmp(code, "E9", 2) == 0 || strncmp(code, "F7", 2) == 0) {
        f.severity = "major";
        f.category = "syntax";
    } else if (strncmp(code, "F63", 3) == 0 || strncmp(code, "F82", 3) == 0) {
        f.severity = "major";
        f.category = "correctness";
    } else if (strncmp(code, "F4", 2) == 0 || strcmp(code, "F811") == 0 ||
               strcmp(code, "F841") == 0 || strcmp(code, "F842") == 0 ||
               strcmp(code, "F541") == 0) {
        f.severity = "minor";
        f.category = "maintainability";
    } else if (code[0] == 'F') {
        f.severity = "major";
        f.category = "correctness";
    } else if (strncmp(code, "W6", 2) == 0) {
        f.severity = "minor";
        f.category = "correctness";
    } else if (strncmp(code, "C90", 3) == 0) {
        f.category = "maintainability";
    } else if (code[0] == 'E' || code[0] == 'W') {
        f.category = "style";
    } else if (code[0] == 'D') {
        f.category = "documentation";
    }
    return finding_append_text(findings, &f, msg, p, more, code, "lint:flake8");
}

int parse_flake8(const char *out, size_t len, cJSON *findings)
{
    return parse_lines(out, len, findings, flake8_line);
}

/* cppcheck ids that are memory-safety defects. */
static const char *const cppcheck_security_ids[] = {
    "arrayIndexOutOfBounds", "arrayIndexOutOfBoundsCond",
    "bufferAccessOutOfBounds", "negativeIndex", "outOfBounds",
    "pointerOutOfBounds", "pointerOutOfBoundsCond", "doubleFree",
    "deallocuse", "bufferNotZeroTerminated", "invalidScanfFormatWidth",
    "insecureCmdLineArgs",
};

/* cppcheck ids that say it could not analyse the code. */
static const char *const cppcheck_tool_ids[] = {
    "unknownMacro", "internalAstError", "cppcheckError", "internalError",
};

static int in_list(const char *s, const char *const *list, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return 1;
    return 0;
}

/* Reads "line:column:severity:id:" at p into f and *severity, leaving
 * *text at the message. Returns 1, or 0 when the line is not in that form. */
static int cppcheck_fields(char *p, struct finding *f, char **severity, char **text)
{
    char *id;
    long row, col;
    size_t i;

    if (field_number(&p, &row) < 0 || field_number(&p, &col) < 0 ||
        field_word(&p, severity) < 0 || (*severity)[0] == '\0' ||
        field_word(&p, &id) < 0 || !finding_rule_id_valid(id))
        return 0;
    for (i = 0; (*severity)[i] != '\0'; i++)
        if (!ascii_is_alpha((unsigned char)(*severity)[i]))
            return 0;
    f->line = finding_line_clamp(row);
    f->column = col >= 1 && col <= INT_MAX ? col : 0;
    f->rule_id = id;
    *text = p;
    return 1;
}

/* f's severity and category from cppcheck's severity and f's rule_id. */
static void cppcheck_classify(struct finding *f, const char *severity)
{
    const char *id = f->rule_id;

    f->severity = "info";
    f->category = "maintainability";
    if (strcmp(id, "syntaxError") == 0 ||
        strcmp(id, "preprocessorErrorDirective") == 0) {
        f->severity = "major";
        f->category = "syntax";
    } else if (in_list(id, cppcheck_tool_ids, COUNT_OF(cppcheck_tool_ids))) {
        /* info / maintainability */
    } else if (strcmp(severity, "error") == 0 ||
               strcmp(severity, "warning") == 0) {
        f->severity = severity[0] == 'e' ? "major" : "minor";
        f->category = in_list(id, cppcheck_security_ids,
                              COUNT_OF(cppcheck_security_ids))
                          ? "security" : "correctness";
    } else if (strcmp(severity, "performance") == 0) {
        f->severity = "minor";
        f->category = "performance";
    } else if (strcmp(severity, "portability") == 0) {
        f->category = "correctness";
    }
}

/* 1 when cppcheck's name for a finding's file (simplified: no "." segment,
 * ".." only in front) is the file it was run on. The runner's working
 * directory holds that file alone, so any other file cppcheck reads, a
 * header the file includes, lies outside it: its path is absolute or
 * begins with "..", which no submitted path does (relpath_valid). The
 * file's own spelling may differ (cppcheck replaces a "{line}" inside it),
 * so this is not a comparison with the path given. "nofile" (a finding
 * without a location) is about the run, and kept. */
static int cppcheck_file_is_run(const char *file)
{
    return relpath_valid(file, strlen(file));
}

/* "file\tline:column:severity:id:message" (linters.c's template). A
 * submitted path holds no tab, so the first tab ends the file however many
 * ':' it holds; a header's path cut at a tab of its own still begins with
 * '/' or "..". */
static int cppcheck_line(char *line, int more, cJSON *findings)
{
    char msg[LINTERS_MESSAGE_MAX + 1];
    struct finding f = {0};
    char *tab = strchr(line, '\t'), *severity, *text;

    if (tab == NULL)
        return LINE_OTHER;
    *tab = '\0';
    if (!cppcheck_fields(tab + 1, &f, &severity, &text))
        return LINE_OTHER;
    if (!cppcheck_file_is_run(line))
        return LINE_ELSEWHERE;
    cppcheck_classify(&f, severity);
    return finding_append_text(findings, &f, msg, text, more, f.rule_id, "lint:cppcheck");
}

int parse_cppcheck(const char *out, size_t len, cJSON *findings)
{
    return parse_lines(out, len, findings, cppcheck_line);
}
