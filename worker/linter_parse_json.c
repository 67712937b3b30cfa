/* linter_parse_json.c - the parsers of linters that print JSON, pylint,
 * shellcheck and ESLint (linter_parse.h): pure, nothing here runs a
 * program.
 *
 * Severity and category mapping (severity / category):
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
 *
 * ESLint, severity by its own: 2 (error) and a fatal message (a parse
 *   error, rule "parse-error") major, anything else minor. Category: fatal
 *   syntax; a rule holding no-unused or prefer-const maintainability
 *   (@typescript-eslint/no-unused-vars too), no-eval or no-implied-eval
 *   security; the rest correctness.
 */
#include "worker/linter_parse.h"

#include "common/crypto.h"

#include "worker/ascii.h"
#include "worker/linter_parse_finding.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

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

/* Value of the 4 hex digits at s, or -1. */
static long hex4(const char *s)
{
    long v = 0;

    for (int i = 0; i < 4; i++) {
        int d = crypto_hex_digit(s[i]);

        if (d < 0)
            return -1;
        v = v << 4 | d;
    }
    return v;
}

/* Offset, at or after from, of the next "\uXXXX" escape in s[0..len) that
 * cJSON reads wrong, or len when none; *rep is the escape read in its
 * place. Linters quote the file's own strings, and ESLint's
 * JSON.stringify writes a key "\uD800" of the file as that lone escape:
 * - half a surrogate pair without its other half names no character, and
 *   cJSON refuses the whole document for it: U+FFFD instead;
 * - "\u0000" becomes a NUL that ends the string, dropping the rest of the
 *   message: a space instead, as finding_sanitize makes of a control
 *   character.
 * A backslash outside a string makes no JSON document, so strings need
 * not be told apart. */
static size_t json_bad_escape(const char *s, size_t len, size_t from, const char **rep)
{
    size_t i = from;

    while (i + 1 < len) {
        long v;

        if (s[i] != '\\') {
            i++;
            continue;
        }
        if (s[i + 1] != 'u' || len - i < 6 || (v = hex4(s + i + 2)) < 0) {
            i += 2;  /* another escape ("\\" skipped whole), or not one */
            continue;
        }
        if (v == 0) {
            *rep = "\\u0020";
            return i;
        }
        if (v < 0xd800 || v > 0xdfff) {
            i += 6;
            continue;
        }
        if (v <= 0xdbff && len - i >= 12 && s[i + 6] == '\\' && s[i + 7] == 'u' &&
            (v = hex4(s + i + 8)) >= 0xdc00 && v <= 0xdfff) {
            i += 12;  /* a pair */
            continue;
        }
        *rep = "\\ufffd";
        return i;
    }
    return len;
}

/* Parses the JSON document out[0..len), which must be followed by nothing
 * but blanks; the escapes json_bad_escape finds read as it says. Returns
 * the owned root, or NULL (also when memory ran out). */
static cJSON *json_parse_whole(const char *out, size_t len)
{
    const char *end = NULL, *text = out, *rep;
    char *copy = NULL;
    size_t at = json_bad_escape(out, len, 0, &rep);
    cJSON *root;

    if (at < len) {
        /* Mended in a copy, escape for escape: six bytes each. */
        copy = malloc(len);
        if (copy == NULL)
            return NULL;
        memcpy(copy, out, len);
        for (; at < len; at = json_bad_escape(copy, len, at + 6, &rep))
            memcpy(copy + at, rep, 6);
        text = copy;
    }
    root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (root != NULL && (end == NULL || end < text || end > text + len ||
                         !finding_blank(end, (size_t)(text + len - end)))) {
        cJSON_Delete(root);
        root = NULL;
    }
    free(copy);
    return root;
}

/* The JSON document a JSON-speaking linter printed, into *root (owns; NULL
 * for empty or blank output). Returns 1 with *root an object or array, 0
 * for empty or blank output, -1 when it is not JSON of that shape. */
static int json_output(const char *out, size_t len, const cJSON *findings, cJSON **root)
{
    int rc = finding_precheck(out, len, findings);

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
    f->line = finding_line_clamp(json_long(cJSON_GetObjectItemCaseSensitive(entry, "line"), 1));
    f->end_line = json_long(cJSON_GetObjectItemCaseSensitive(entry, "endLine"), 0);
    f->column = json_long(cJSON_GetObjectItemCaseSensitive(entry, "column"), 0);
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

    /* symbol passed finding_rule_id_valid, so suffix <= 67 and the cap stays >= 3. */
    n = finding_sanitize(msg, LINTERS_MESSAGE_MAX - suffix,
                         text != NULL ? text : "",
                         text != NULL ? strlen(text) : 0, 0);
    if (n == 0)
        n = finding_sanitize(msg, LINTERS_MESSAGE_MAX - suffix, id,
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
    const char *id = json_str(entry, "message-id");
    const char *symbol = json_str(entry, "symbol");
    long column;

    if (id == NULL || !ascii_is_alpha((unsigned char)id[0]) || !finding_rule_id_valid(id))
        return 0;
    if (symbol != NULL && !finding_rule_id_valid(symbol))
        symbol = NULL;
    f->rule_id = id;
    json_span(entry, f);
    /* pylint columns are 0-based. */
    column = json_long(cJSON_GetObjectItemCaseSensitive(entry, "column"), -1);
    f->column = column >= 0 && column < INT_MAX ? column + 1 : 0;
    pylint_classify(f, json_str(entry, "type"), symbol);
    pylint_message(b->msg, json_str(entry, "message"), symbol, id);
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
    const char *level = json_str(entry, "level");
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
    finding_text(f, b->msg, json_str(entry, "message"), 0, b->id);
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
    const char *rule = json_str(m, "ruleId");
    long sev = json_long(cJSON_GetObjectItemCaseSensitive(m, "severity"), 1);
    int fatal = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "fatal"));

    f->rule_id = rule != NULL && finding_rule_id_valid(rule) ? rule : (fatal ? "parse-error" : "eslint");
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
    finding_text(f, b->msg, json_str(m, "message"), 0, f->rule_id);
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
