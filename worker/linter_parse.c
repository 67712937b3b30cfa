/* linter_parse.c - parsers for each linter's machine-readable output
 * (linter_parse.h): pure, nothing here runs a program.
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
 * pylint, by message type (the id's first letter when the type is missing):
 *   fatal (F0001 cannot read the file...)           critical / syntax
 *   syntax-error (E0001)                            major / syntax
 *   error                                           major / correctness
 *   warning: eval-used, exec-used                   minor / security
 *   warning: unused-*                               minor / maintainability
 *   other warnings                                  minor / correctness
 *   refactor                                        info / maintainability
 *   convention: *docstring*                         info / documentation
 *   other conventions                               info / style
 *   anything else (information...)                  info / maintainability
 *
 * shellcheck, severity by level: error major, warning minor, info and style
 *   info. Category: SC1xxx (parser messages) syntax; SC2114, SC2115
 *   (rm -rf on an unguarded variable / system directory) security; level
 *   style: style; the rest correctness. A script without a shebang gets
 *   SC2148 (level error, so major / correctness) and is then checked as
 *   bash, so it still gets the other findings.
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

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Bytes of one line of line-based output we look at; the rest of a longer
 * line only makes its message end in "...". */
#define LINE_BUF_MAX 4096

/* "..." appended to a truncated message, counted in LINTERS_MESSAGE_MAX. */
#define ELLIPSIS "..."
#define ELLIPSIS_LEN 3

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

struct finding {
    long line;             /* >= 1 */
    long end_line;         /* >= line, or 0 when absent */
    long column;           /* >= 1, or 0 when absent */
    const char *severity;  /* static */
    const char *category;  /* static */
    const char *rule_id;   /* borrowed, validated by rule_id_valid() */
    const char *message;   /* borrowed, from message_sanitize() */
};

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_blank(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        if (!is_space((unsigned char)s[i]))
            return 0;
    return 1;
}

/* 1 when s is 1..LINTERS_RULE_ID_MAX bytes of [A-Za-z0-9_.@/-]. */
static int rule_id_valid(const char *s)
{
    size_t n;

    for (n = 0; s[n] != '\0'; n++) {
        unsigned char c = (unsigned char)s[n];
        if (n >= LINTERS_RULE_ID_MAX)
            return 0;
        /* '@' and '/' for plugin rules: "@typescript-eslint/no-unused-vars". */
        if (!is_alpha(c) && !is_digit(c) && c != '_' && c != '-' && c != '.' && c != '@' &&
            c != '/')
            return 0;
    }
    return n > 0;
}

/* Length of the well-formed UTF-8 sequence of 2 to 4 bytes at s[0..avail),
 * or 0 when it is malformed, overlong, a surrogate or truncated. */
static size_t utf8_seq_len(const unsigned char *s, size_t avail)
{
    unsigned char lo = 0x80, hi = 0xbf;
    size_t n, i;

    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4;
    else
        return 0;
    if (s[0] == 0xe0)
        lo = 0xa0;
    else if (s[0] == 0xed)
        hi = 0x9f;
    else if (s[0] == 0xf0)
        lo = 0x90;
    else if (s[0] == 0xf4)
        hi = 0x8f;
    if (avail < n || s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

/* Writes src[0..len) into dst (cap + 1 bytes, cap >= ELLIPSIS_LEN) as at
 * most cap bytes of valid UTF-8: leading and trailing blanks dropped,
 * control characters turned into spaces, malformed bytes into '?'. When it
 * does not fit, or `more` says src was already cut, it is cut at a
 * character boundary and ends in "...". A cut inside a word goes back to
 * the blank before it, dropping the word: linters quote the file, and a
 * secret cut in half no longer matches the redaction's patterns
 * (redact_findings), so its first half would reach the model. Returns the
 * length written. */
static size_t message_sanitize(char *dst, size_t cap, const char *src,
                               size_t len, int more)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t i = 0, out = 0, cut = 0, cut_at = 0;
    int overflow = 0;

    while (i < len && is_space(s[i]))
        i++;
    while (i < len) {
        size_t n = 1;  /* bytes of src consumed and of dst written */

        if (s[i] >= 0x80)
            n = utf8_seq_len(s + i, len - i);
        if (out + (n > 0 ? n : 1) > cap) {
            overflow = 1;
            break;
        }
        if (n == 0) {
            dst[out++] = '?';
            n = 1;
        } else if (s[i] < 0x20 || s[i] == 0x7f) {
            dst[out++] = ' ';
        } else {
            memcpy(dst + out, s + i, n);
            out += n;
        }
        i += n;
        if (out <= cap - ELLIPSIS_LEN) {
            cut = out;
            cut_at = i;
        }
    }
    if (overflow || more) {
        /* The cut is inside a word unless a blank follows it in src (when
         * all of src fit, `more` says the text went on past its end). */
        int mid_word = cut_at < len ? !is_space(s[cut_at]) : 1;

        out = cut;
        if (mid_word)
            while (out > 0 && dst[out - 1] != ' ')
                out--;
    }
    while (out > 0 && dst[out - 1] == ' ')
        out--;
    if (overflow || more) {
        memcpy(dst + out, ELLIPSIS, ELLIPSIS_LEN);
        out += ELLIPSIS_LEN;
    }
    dst[out] = '\0';
    return out;
}

/* Appends f as a finding object to the array. Returns 0, or -1 when out
 * of memory (nothing appended). */
static int finding_append(cJSON *findings, const struct finding *f,
                          const char *source)
{
    cJSON *obj = cJSON_CreateObject();

    if (obj == NULL)
        return -1;
    if (cJSON_AddNumberToObject(obj, "line", (double)f->line) == NULL)
        goto fail;
    if (f->end_line >= f->line &&
        cJSON_AddNumberToObject(obj, "end_line", (double)f->end_line) == NULL)
        goto fail;
    if (f->column >= 1 &&
        cJSON_AddNumberToObject(obj, "column", (double)f->column) == NULL)
        goto fail;
    if (cJSON_AddStringToObject(obj, "severity", f->severity) == NULL ||
        cJSON_AddStringToObject(obj, "category", f->category) == NULL ||
        cJSON_AddStringToObject(obj, "rule_id", f->rule_id) == NULL ||
        cJSON_AddStringToObject(obj, "message", f->message) == NULL ||
        cJSON_AddStringToObject(obj, "source", source) == NULL)
        goto fail;
    if (!cJSON_AddItemToArray(findings, obj))
        goto fail;
    return 0;
fail:
    cJSON_Delete(obj);
    return -1;
}

/* Clamps a line number from a tool into [1, INT_MAX]. */
static long line_clamp(long line)
{
    if (line < 1)
        return 1;
    return line > INT_MAX ? INT_MAX : line;
}

/* Integer value of a JSON number, truncated and clamped to [-1, INT_MAX];
 * `missing` when item is absent, not a number, or NaN. */
static long json_long(const cJSON *item, long missing)
{
    double d;

    if (!cJSON_IsNumber(item))
        return missing;
    d = item->valuedouble;
    if (isnan(d))
        return missing;
    if (d < 0)
        return -1;
    if (d >= (double)INT_MAX)
        return INT_MAX;
    return (long)d;
}

/* valuestring of a JSON string, or NULL. */
static const char *json_string(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

    return cJSON_IsString(item) ? item->valuestring : NULL;
}

/* Parses the JSON document out[0..len), which must be followed by nothing
 * but blanks. Returns the owned root, or NULL. */
static cJSON *json_parse_whole(const char *out, size_t len)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(out, len, &end, 0);

    if (root == NULL)
        return NULL;
    if (end == NULL || end < out || end > out + len ||
        !is_blank(end, (size_t)(out + len - end))) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

/* Common argument checks. Returns 1 when the parser should go on, 0 when
 * the output is empty or blank (0 findings), -1 when it must fail. */
static int parse_precheck(const char *out, size_t len, const cJSON *findings)
{
    if (!cJSON_IsArray(findings) || len > LINTERS_OUTPUT_MAX)
        return -1;
    if (len == 0)
        return 0;
    if (out == NULL)
        return -1;
    return is_blank(out, len) ? 0 : 1;
}

/* The JSON document a JSON-speaking linter printed, into *root (owns; NULL
 * for empty or blank output). Returns 1 with *root an object or array, 0
 * for empty or blank output, -1 when it is not JSON of that shape. */
static int json_output(const char *out, size_t len, const cJSON *findings, cJSON **root)
{
    int rc = parse_precheck(out, len, findings);

    *root = NULL;
    if (rc <= 0)
        return rc;
    *root = json_parse_whole(out, len);
    if (!cJSON_IsArray(*root) && !cJSON_IsObject(*root)) {
        cJSON_Delete(*root);
        *root = NULL;
        return -1;
    }
    return 1;
}

/* f's line (at least 1), end_line and column from entry's "line",
 * "endLine" and "column" (1-based, as shellcheck's and ESLint's). */
static void json_span(const cJSON *entry, struct finding *f)
{
    f->line = line_clamp(json_long(cJSON_GetObjectItemCaseSensitive(entry, "line"), 1));
    f->end_line = json_long(cJSON_GetObjectItemCaseSensitive(entry, "endLine"), 0);
    f->column = json_long(cJSON_GetObjectItemCaseSensitive(entry, "column"), 0);
}

/* What a line_fn made of one line. */
enum {
    LINE_OOM = -1,          /* out of memory */
    LINE_OTHER = 0,         /* not a finding */
    LINE_APPENDED = 1,      /* a finding, appended */
    LINE_ELSEWHERE = 2,     /* a finding in another file than the one run, dropped */
};

/* Handles one NUL-terminated line (cut to LINE_BUF_MAX - 1 bytes; `more`
 * when it was longer). Returns one of LINE_*. */
typedef int (*line_fn)(char *line, int more, cJSON *findings);

/* Reads a decimal field made of digits only, followed by ':'. On success
 * stores it, moves *p past the ':' and returns 0; otherwise -1. */
static int field_number(char **p, long *value)
{
    char *end;
    long v;

    if (!is_digit((unsigned char)**p))
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

/* Sets f's message, built in msg (LINTERS_MESSAGE_MAX + 1 bytes): text
 * (cut; `more` when its line was longer), else fallback when text is NULL
 * or blank. */
static void finding_text(struct finding *f, char *msg, const char *text, int more,
                         const char *fallback)
{
    if (text == NULL ||
        message_sanitize(msg, LINTERS_MESSAGE_MAX, text, strlen(text), more) == 0)
        message_sanitize(msg, LINTERS_MESSAGE_MAX, fallback, strlen(fallback), 0);
    f->message = msg;
}

/* finding_text, then appends f. Returns LINE_APPENDED, or LINE_OOM. */
static int finding_append_text(cJSON *findings, struct finding *f, char *msg,
                               const char *text, int more, const char *fallback,
                               const char *source)
{
    finding_text(f, msg, text, more, fallback);
    return finding_append(findings, f, source) < 0 ? LINE_OOM : LINE_APPENDED;
}

/* Room a JSON item's converter has for the text it makes up. */
struct item_buf {
    char msg[LINTERS_MESSAGE_MAX + 1];
    char id[16];
};

/* Turns one item of a JSON linter's list into f (text it makes up goes
 * into b). Returns 1 when the item is a finding, 0 when it is skipped. */
typedef int (*item_fn)(const cJSON *item, struct finding *f, struct item_buf *b);

/* Appends a finding for each object of list (nothing when list is not an
 * array) that fn accepts, while count stays below LINTERS_FINDINGS_MAX.
 * Returns the new count, or -1 when out of memory. */
static int json_items(const cJSON *list, item_fn fn, const char *source, cJSON *findings,
                      int count)
{
    const cJSON *item;
    struct item_buf b;

    if (!cJSON_IsArray(list))
        return count;
    cJSON_ArrayForEach(item, list) {
        struct finding f = {0};

        if (count >= LINTERS_FINDINGS_MAX)
            break;
        if (!cJSON_IsObject(item) || !fn(item, &f, &b))
            continue;
        if (finding_append(findings, &f, source) < 0)
            return -1;
        count++;
    }
    return count;
}

/* Runs fn over each line of out[0..len) after parse_precheck. Returns the
 * number of findings appended (0 for empty or blank output, or when every
 * finding was another file's), or -1 when no line at all was a finding or
 * on out of memory. */
static int parse_lines(const char *out, size_t len, cJSON *findings,
                       line_fn fn)
{
    char buf[LINE_BUF_MAX];
    size_t pos = 0;
    int count = 0, matched = 0, rc = parse_precheck(out, len, findings);

    if (rc <= 0)
        return rc;

    while (pos < len && count < LINTERS_FINDINGS_MAX) {
        const char *nl = memchr(out + pos, '\n', len - pos);
        size_t end = nl != NULL ? (size_t)(nl - out) : len;
        size_t n = end - pos;
        int more = 0;

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
        field_word(&p, &code) < 0 || !is_alpha((unsigned char)code[0]) ||
        !rule_id_valid(code))
        return 0;
    f.line = line_clamp(row);
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
        field_word(&p, &id) < 0 || !rule_id_valid(id))
        return 0;
    for (i = 0; (*severity)[i] != '\0'; i++)
        if (!is_alpha((unsigned char)(*severity)[i]))
            return 0;
    f->line = line_clamp(row);
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

/* pylint message type from "type", or from the id's first letter. */
static char pylint_kind(const char *type, const char *id)
{
    static const struct {
        const char *type;
        char kind;
    } kinds[] = {
        {"fatal", 'F'}, {"error", 'E'}, {"warning", 'W'},
        {"refactor", 'R'}, {"convention", 'C'}, {"info", 'I'},
        {"information", 'I'},
    };
    size_t i;

    if (type != NULL)
        for (i = 0; i < COUNT_OF(kinds); i++)
            if (strcmp(type, kinds[i].type) == 0)
                return kinds[i].kind;
    return id[0];
}

static void pylint_classify(struct finding *f, const char *type,
                            const char *symbol)
{
    const char *sym = symbol != NULL ? symbol : "";

    f->severity = "info";
    f->category = "maintainability";
    switch (pylint_kind(type, f->rule_id)) {
    case 'F':
        f->severity = "critical";
        f->category = "syntax";
        break;
    case 'E':
        f->severity = "major";
        f->category = strcmp(sym, "syntax-error") == 0 ||
                              strcmp(f->rule_id, "E0001") == 0
                          ? "syntax" : "correctness";
        break;
    case 'W':
        f->severity = "minor";
        if (strcmp(sym, "eval-used") == 0 || strcmp(sym, "exec-used") == 0)
            f->category = "security";
        else if (strncmp(sym, "unused-", 7) == 0)
            f->category = "maintainability";
        else
            f->category = "correctness";
        break;
    case 'C':
        f->category = strstr(sym, "docstring") != NULL ? "documentation"
                                                         : "style";
        break;
    default:
        break;
    }
}

/* Builds "message (symbol)" into msg (LINTERS_MESSAGE_MAX + 1 bytes),
 * cutting the message, never the symbol. */
static void pylint_message(char *msg, const char *text, const char *symbol,
                           const char *id)
{
    size_t suffix = symbol != NULL ? strlen(symbol) + 3 : 0;
    size_t n;

    /* symbol passed rule_id_valid, so suffix <= 67 and the cap stays >= 3. */
    n = message_sanitize(msg, LINTERS_MESSAGE_MAX - suffix,
                         text != NULL ? text : "",
                         text != NULL ? strlen(text) : 0, 0);
    if (n == 0)
        n = message_sanitize(msg, LINTERS_MESSAGE_MAX - suffix, id,
                             strlen(id), 0);
    if (symbol != NULL && strcmp(symbol, msg) != 0) {
        size_t room = LINTERS_MESSAGE_MAX + 1 - n;
        int w = snprintf(msg + n, room, " (%s)", symbol);

        if (w < 0 || (size_t)w >= room)
            msg[n] = '\0';  /* not reached: the cap left room for it */
    }
}

static int pylint_item(const cJSON *entry, struct finding *f, struct item_buf *b)
{
    const char *id = json_string(entry, "message-id");
    const char *symbol = json_string(entry, "symbol");
    long column;

    if (id == NULL || !is_alpha((unsigned char)id[0]) || !rule_id_valid(id))
        return 0;
    if (symbol != NULL && !rule_id_valid(symbol))
        symbol = NULL;
    f->rule_id = id;
    json_span(entry, f);
    /* pylint columns are 0-based. */
    column = json_long(cJSON_GetObjectItemCaseSensitive(entry, "column"), -1);
    f->column = column >= 0 && column < INT_MAX ? column + 1 : 0;
    pylint_classify(f, json_string(entry, "type"), symbol);
    pylint_message(b->msg, json_string(entry, "message"), symbol, id);
    f->message = b->msg;
    return 1;
}

int parse_pylint(const char *out, size_t len, cJSON *findings)
{
    cJSON *root;
    int rc = json_output(out, len, findings, &root);

    if (rc > 0)
        rc = cJSON_IsArray(root) ? json_items(root, pylint_item, "lint:pylint", findings, 0)
                                 : -1;
    cJSON_Delete(root);
    return rc;
}

static int shellcheck_item(const cJSON *entry, struct finding *f, struct item_buf *b)
{
    long code = json_long(cJSON_GetObjectItemCaseSensitive(entry, "code"), -1);
    const char *level = json_string(entry, "level");
    int n;

    if (code < 1 || code > 99999)
        return 0;
    n = snprintf(b->id, sizeof b->id, "SC%ld", code);
    if (n < 0 || (size_t)n >= sizeof b->id)
        return 0;
    if (level == NULL)
        level = "";
    f->rule_id = b->id;
    json_span(entry, f);
    if (strcmp(level, "error") == 0)
        f->severity = "major";
    else if (strcmp(level, "warning") == 0)
        f->severity = "minor";
    else
        f->severity = "info";
    if (code >= 1000 && code <= 1999)
        f->category = "syntax";
    else if (code == 2114 || code == 2115)
        f->category = "security";
    else if (strcmp(level, "style") == 0)
        f->category = "style";
    else
        f->category = "correctness";
    finding_text(f, b->msg, json_string(entry, "message"), 0, b->id);
    return 1;
}

int parse_shellcheck(const char *out, size_t len, cJSON *findings)
{
    const cJSON *comments;
    cJSON *root;
    int rc = json_output(out, len, findings, &root);

    if (rc <= 0)
        return rc;
    comments = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "comments") : NULL;
    rc = cJSON_IsArray(comments)
             ? json_items(comments, shellcheck_item, "lint:shellcheck", findings, 0)
             : -1;
    cJSON_Delete(root);
    return rc;
}

/* One of ESLint's messages: {ruleId, severity (1 warn, 2 error), message,
 * line, column, endLine, fatal?}. A fatal message (a parse error) has no
 * ruleId. */
static int eslint_item(const cJSON *m, struct finding *f, struct item_buf *b)
{
    const char *rule = json_string(m, "ruleId");
    long sev = json_long(cJSON_GetObjectItemCaseSensitive(m, "severity"), 1);
    int fatal = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "fatal"));

    f->rule_id = rule != NULL && rule_id_valid(rule) ? rule : (fatal ? "parse-error" : "eslint");
    json_span(m, f);
    f->severity = fatal || sev >= 2 ? "major" : "minor";
    if (fatal)
        f->category = "syntax";
    else if (rule != NULL && (strstr(rule, "no-unused") || strstr(rule, "prefer-const")))
        f->category = "maintainability";
    else if (rule != NULL && (strstr(rule, "no-eval") || strstr(rule, "no-implied-eval")))
        f->category = "security";
    else
        f->category = "correctness";
    finding_text(f, b->msg, json_string(m, "message"), 0, f->rule_id);
    return 1;
}

/* ESLint's JSON formatter: [{filePath, messages: [...]}]. */
int parse_eslint(const char *out, size_t len, cJSON *findings)
{
    const cJSON *file;
    cJSON *root;
    int rc = json_output(out, len, findings, &root), count = 0;

    if (rc <= 0 || !cJSON_IsArray(root)) {
        cJSON_Delete(root);
        return rc <= 0 ? rc : -1;
    }
    cJSON_ArrayForEach(file, root) {
        count = json_items(cJSON_GetObjectItemCaseSensitive(file, "messages"), eslint_item,
                           "lint:eslint", findings, count);
        if (count < 0)
            break;
    }
    cJSON_Delete(root);
    return count;
}
