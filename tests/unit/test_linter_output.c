/* test_linter_output.c - the linters' output parsers (worker/linter_parse_*.c,
 * through worker/linters.c's table) against output that is not the usual:
 * empty, garbage, odd JSON entries, line 0, messages past the cap (a secret
 * cut in half must not survive), more findings than the cap, and appending
 * to an array that holds findings already. Real outputs are in
 * test_linters_parse.c. */
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
        cmocka_unit_test(test_eslint_odd_items),
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
