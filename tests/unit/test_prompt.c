/* test_prompt.c - unit tests for worker/prompt.c against the real prompts/
 * directory (run from the repository root) and broken copies of it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "worker/prompt.h"

#define PROMPTS_DIR "prompts"

/* A sentence only each role block has. */
static const char *const role_marks[][2] = {
    {"review", "You are a senior software engineer reviewing code"},
    {"security", "You are a senior application security engineer"},
    {"debug", "You are a senior software engineer debugging a failure"},
    {"architecture", "You are a software architect reviewing the design"},
};

#define ROLE_COUNT (sizeof(role_marks) / sizeof(role_marks[0]))

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (f == NULL)
        fail_msg("cannot open %s (run from the repository root)", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    if (len != NULL)
        *len = (size_t)n;
    return buf;
}

static void spit(const char *dir, const char *rel, const char *text)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

/* A temporary copy of prompts/; the path is in dir. */
static void copy_prompts(char *dir, size_t cap)
{
    static const char *const files[] = {"system_brain.json", "templates/review.txt",
                                        "templates/debug.txt", "templates/architecture.txt"};
    char sub[512];

    snprintf(dir, cap, "/tmp/ci_prompt_test_XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(sub, sizeof(sub), "%s/templates", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char src[256];
        char *text;
        snprintf(src, sizeof(src), "%s/%s", PROMPTS_DIR, files[i]);
        text = slurp(src, NULL);
        spit(dir, files[i], text);
        free(text);
    }
}

static void remove_prompts(const char *dir)
{
    static const char *const files[] = {"system_brain.json", "templates/review.txt",
                                        "templates/debug.txt", "templates/architecture.txt"};
    char path[512];

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    snprintf(path, sizeof(path), "%s/templates", dir);
    rmdir(path);
    rmdir(dir);
}

static struct prompt_set *load_real(void)
{
    struct err e = {0};
    struct prompt_set *ps = prompt_set_load(PROMPTS_DIR, &e);

    if (ps == NULL)
        fail_msg("loading %s: %s", PROMPTS_DIR, e.msg);
    return ps;
}

static void assert_role_only(const struct prompt *p, const char *role)
{
    for (size_t i = 0; i < ROLE_COUNT; i++) {
        const char *hit = strstr(p->system, role_marks[i][1]);
        if (strcmp(role_marks[i][0], role) == 0) {
            if (hit != p->system)
                fail_msg("%s prompt does not start with its role block", role);
        } else if (hit != NULL || strstr(p->user, role_marks[i][1]) != NULL) {
            fail_msg("%s prompt holds the %s role block", role, role_marks[i][0]);
        }
    }
}

static const struct prompt_vars sample = {
    .file_path = "src/parse.c",
    .language = "c",
    .code = "1| int main(void)\n2| {\n3|     return 0;\n4| }\n",
    .lint_summary = "L3 W1 minor: something\n",
    .diff = "@@ -3 +3 @@\n-    return 1;\n+    return 0;\n",
    .error_log = "parse.c:3: error: boom",
    .ranges_note = "lines 1-4 of 4",
};

static void test_review(void **state)
{
    struct prompt_set *ps = load_real();
    struct prompt p;
    struct err e = {0};

    (void)state;
    assert_int_equal(prompt_build(ps, "review", &sample, &p, &e), 0);
    assert_role_only(&p, "review");
    assert_string_equal(p.version, "review@1+brain@1");
    assert_int_equal(p.max_tokens, 2048);
    /* The fixed instructions follow the role block in the system part. */
    assert_non_null(strstr(p.system, "\n\nThe material arrives in tags:"));
    assert_null(strstr(p.system, "{{"));
    assert_null(strstr(p.user, "{{"));
    assert_non_null(strstr(p.user, "File: src/parse.c (c)\nNote: lines 1-4 of 4\n"));
    assert_non_null(
        strstr(p.user, "<diff>\n@@ -3 +3 @@\n-    return 1;\n+    return 0;\n\n</diff>"));
    assert_non_null(strstr(p.user, "<lint>\nL3 W1 minor: something\n</lint>"));
    assert_non_null(strstr(p.user, "<excerpt>\n1| int main(void)\n2| {\n"));
    /* The variable part is last: the excerpt closes the prompt. */
    assert_string_equal(p.user + strlen(p.user) - strlen("4| }\n</excerpt>\n"),
                        "4| }\n</excerpt>\n");
    assert_null(strstr(p.user, "boom"));        /* no error log in a review */
    prompt_cleanup(&p);
    prompt_cleanup(&p);
    prompt_set_free(ps);
}

static void test_debug(void **state)
{
    struct prompt_set *ps = load_real();
    struct prompt p;
    struct err e = {0};

    (void)state;
    assert_int_equal(prompt_build(ps, "debug", &sample, &p, &e), 0);
    assert_role_only(&p, "debug");
    assert_string_equal(p.version, "debug@1+brain@1");
    assert_int_equal(p.max_tokens, 4096);
    assert_non_null(strstr(p.user, "<log>\nparse.c:3: error: boom\n</log>"));
    assert_non_null(strstr(p.user, "<excerpt>\n1| int main(void)\n"));
    assert_non_null(strstr(p.user, "File: src/parse.c (c)"));
    prompt_cleanup(&p);
    prompt_set_free(ps);
}

static void test_architecture(void **state)
{
    struct prompt_set *ps = load_real();
    struct prompt p;
    struct err e = {0};

    (void)state;
    assert_int_equal(prompt_build(ps, "architecture", &sample, &p, &e), 0);
    assert_role_only(&p, "architecture");
    assert_string_equal(p.version, "architecture@1+brain@1");
    assert_int_equal(p.max_tokens, 8192);
    assert_non_null(strstr(p.user, "<excerpt>\n1| int main(void)\n"));
    assert_non_null(strstr(p.user, "L3 W1 minor: something"));
    prompt_cleanup(&p);
    prompt_set_free(ps);
}

static void test_empty_values_and_sections(void **state)
{
    struct prompt_set *ps = load_real();
    struct prompt_vars v = {.code = "1| x\n"};
    struct prompt p;
    struct err e = {0};

    (void)state;
    assert_int_equal(prompt_build(ps, "review", &v, &p, &e), 0);
    assert_null(strstr(p.user, "<diff>"));
    assert_null(strstr(p.user, "Note:"));
    assert_non_null(strstr(p.user, "File: \n"));        /* no " ()" */
    assert_non_null(strstr(p.user, "<lint>\nnone\n</lint>"));
    prompt_cleanup(&p);

    assert_int_equal(prompt_build(ps, "debug", NULL, &p, &e), 0);
    assert_non_null(strstr(p.user, "<log>\nnone given"));
    assert_non_null(strstr(p.user, "<excerpt>\n</excerpt>"));
    prompt_cleanup(&p);
    prompt_set_free(ps);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;

    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

static void test_values_not_expanded(void **state)
{
    struct prompt_set *ps = load_real();
    struct prompt_vars v = sample;
    struct prompt p;
    struct err e = {0};

    (void)state;
    v.file_path = "{{code}}";
    v.code = "1| printf(\"{{diff}} {{#code}}\");\n";
    v.lint_summary = "{{";
    assert_int_equal(prompt_build(ps, "review", &v, &p, &e), 0);
    assert_non_null(strstr(p.user, "File: {{code}} (c)\n"));
    assert_non_null(strstr(p.user, "1| printf(\"{{diff}} {{#code}}\");\n</excerpt>"));
    assert_non_null(strstr(p.user, "<lint>\n{{</lint>"));
    /* The code value appears once: "{{code}}" in the path was not expanded. */
    assert_int_equal(count(p.user, "printf"), 1);
    prompt_cleanup(&p);
    prompt_set_free(ps);
}

static void test_unknown_task(void **state)
{
    struct prompt_set *ps = load_real();
    struct prompt p;
    struct err e = {0};

    (void)state;
    assert_int_equal(prompt_build(ps, "security", &sample, &p, &e), -1);
    assert_int_equal(e.code, ERR_INVALID_REQUEST_TYPE);
    assert_null(p.system);
    assert_null(p.user);
    assert_int_equal(prompt_build(ps, NULL, &sample, &p, &e), -1);
    prompt_set_free(ps);
    prompt_set_free(NULL);
}

/* The fixed part of a review costs far less than the whole brain. */
static void test_compact(void **state)
{
    struct prompt_set *ps = load_real();
    struct prompt_vars v = {.file_path = "a.c", .language = "c", .code = ""};
    size_t brain_len;
    char *brain = slurp(PROMPTS_DIR "/system_brain.json", &brain_len);
    const char *const tasks[] = {"review", "debug", "architecture"};

    (void)state;
    for (size_t i = 0; i < 3; i++) {
        struct prompt p;
        struct err e = {0};
        size_t n;
        assert_int_equal(prompt_build(ps, tasks[i], &v, &p, &e), 0);
        n = strlen(p.system) + strlen(p.user);
        print_message("%s prompt without code: %zu bytes (~%zu tokens); brain %zu bytes\n",
                      tasks[i], n, n / 4, brain_len);
        assert_true(n * 5 < brain_len * 2);     /* under 40% of the brain */
        prompt_cleanup(&p);
    }
    free(brain);
    prompt_set_free(ps);
}

/* Loads dir and expects failure with code and every needle in the message. */
static void expect_load_error(const char *dir, enum err_code code, const char *n1,
                              const char *n2)
{
    struct err e = {0};
    struct prompt_set *ps = prompt_set_load(dir, &e);

    if (ps != NULL) {
        prompt_set_free(ps);
        fail_msg("loaded, expected an error naming %s", n1);
    }
    if (e.code != code || strstr(e.msg, n1) == NULL || (n2 != NULL && strstr(e.msg, n2) == NULL))
        fail_msg("error %s \"%s\", want %s with \"%s\" and \"%s\"", err_code_str(e.code), e.msg,
                 err_code_str(code), n1, n2 != NULL ? n2 : "");
}

static void test_missing(void **state)
{
    char dir[64], path[128];

    (void)state;
    expect_load_error("/nonexistent/prompts", ERR_IO, "/nonexistent/prompts/system_brain.json",
                      "No such file");
    copy_prompts(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/templates/debug.txt", dir);
    assert_int_equal(unlink(path), 0);
    expect_load_error(dir, ERR_IO, "templates/debug.txt", "No such file");
    remove_prompts(dir);
}

/* Each case: a file to overwrite in a fresh copy, its text, and what the
 * error must mention besides the file's name. */
static const struct bad_case {
    const char *file;
    const char *text;
    const char *needle;
} bad_cases[] = {
    {"system_brain.json", "{\"version\": \"1\", \"roles\": {", "malformed JSON"},
    {"system_brain.json", "{\"version\":\"1\",\"roles\":{\"review\":\"a\",\"security\":\"b\","
                          "\"debug\":\"c\",\"architecture\":\"d\"}} x", "after the JSON"},
    {"system_brain.json", "[]", "not a JSON object"},
    {"system_brain.json", "{\"version\":\"1\",\"roles\":{\"review\":\"a\",\"security\":\"b\","
                          "\"debug\":\"c\"}}", "\"architecture\""},
    {"system_brain.json", "{\"version\":\"1\",\"roles\":{\"review\":\"a\",\"security\":\"b\","
                          "\"debug\":\"c\",\"architecture\":\"\"}}", "\"architecture\""},
    {"system_brain.json", "{\"version\":\"1\",\"roles\":{\"review\":\"a\",\"security\":\"b\","
                          "\"debug\":\"c\",\"architecture\":7}}", "\"architecture\""},
    {"system_brain.json", "{\"version\":\"1\",\"roles\":{\"review\":\"a\",\"review\":\"b\","
                          "\"security\":\"b\",\"debug\":\"c\",\"architecture\":\"d\"}}",
     "twice"},
    {"system_brain.json", "{\"version\":\"1\",\"roles\":{\"review\":\"{{code}}\","
                          "\"security\":\"b\",\"debug\":\"c\",\"architecture\":\"d\"}}",
     "placeholder"},
    {"system_brain.json", "{\"version\":1,\"roles\":{\"review\":\"a\",\"security\":\"b\","
                          "\"debug\":\"c\",\"architecture\":\"d\"}}", "\"version\""},
    {"system_brain.json", "{\"version\":\"1\",\"rolez\":{}}", "unknown member \"rolez\""},
    {"system_brain.json", "{\"version\":\"1\",\"roles\":{\"review\":\"a\tb\","
                          "\"security\":\"b\",\"debug\":\"c\",\"architecture\":\"d\"}}",
     "control character"},
    {"templates/review.txt", "# version: 1\nfixed\n# --- user ---\nFile: {{file_paht}}\n",
     "unknown placeholder {{file_paht}}"},
    {"templates/review.txt", "# version: 1\nfixed\n# --- user ---\n{{#diff}}x\n",
     "not closed"},
    {"templates/review.txt", "# version: 1\nfixed\n# --- user ---\n{{#diff}}x{{/code}}\n",
     "does not close"},
    {"templates/review.txt", "# version: 1\nfixed\n# --- user ---\n{{code\n", "without"},
    {"templates/review.txt", "# version: 1\nfixed {{code}}\n# --- user ---\n{{code}}\n",
     "must not vary"},
    {"templates/review.txt", "fixed\n# --- user ---\n{{code}}\n", "# version"},
    {"templates/review.txt", "# version: one\n# --- user ---\n{{code}}\n", "version"},
    {"templates/review.txt", "# version: 0\n# --- user ---\n{{code}}\n", "version"},
    {"templates/review.txt", "# version: 1\nno marker {{code}}\n", "# --- user ---"},
    {"templates/review.txt", "# version: 1\n# --- user ---\nA\n# --- user ---\nB\n", "twice"},
    {"templates/architecture.txt", "# version: 1\n# --- user ---\n\xff\n", "UTF-8"},
};

static void test_bad_files(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        char dir[64];
        copy_prompts(dir, sizeof(dir));
        spit(dir, bad_cases[i].file, bad_cases[i].text);
        expect_load_error(dir, ERR_CONFIG, bad_cases[i].file, bad_cases[i].needle);
        remove_prompts(dir);
    }
}

static void test_too_large(void **state)
{
    char dir[64];
    size_t n = 64 * 1024 + 1;
    char *big = malloc(n + 1);

    (void)state;
    assert_non_null(big);
    memset(big, ' ', n);
    big[n] = '\0';
    copy_prompts(dir, sizeof(dir));
    spit(dir, "system_brain.json", big);
    expect_load_error(dir, ERR_CONFIG, "system_brain.json", "larger than");
    remove_prompts(dir);
    free(big);
}

static void test_good_variant(void **state)
{
    char dir[64];
    struct err e = {0};
    struct prompt_set *ps;
    struct prompt p;
    struct prompt_vars v = {.code = "C", .diff = "D"};

    (void)state;
    copy_prompts(dir, sizeof(dir));
    /* CRLF, no fixed part, nested and inverted sections, extra roles. */
    spit(dir, "templates/review.txt",
         "# version: 42\r\n# --- user ---\r\n[{{#diff}}d={{diff}}{{#language}}L{{/language}}"
         "{{^code}}no code{{/code}}{{/diff}}|{{^error_log}}E{{/error_log}}{{code}}]");
    spit(dir, "system_brain.json",
         "{\"version\":\"2026-11.a\",\"roles\":{\"review\":\"R\",\"security\":\"S\","
         "\"debug\":\"D\",\"architecture\":\"A\",\"future\":\"F\"}}\n");
    ps = prompt_set_load(dir, &e);
    if (ps == NULL)
        fail_msg("%s", e.msg);
    assert_int_equal(prompt_build(ps, "review", &v, &p, &e), 0);
    assert_string_equal(p.system, "R");
    assert_string_equal(p.user, "[d=D|EC]");
    assert_string_equal(p.version, "review@42+brain@2026-11.a");
    prompt_cleanup(&p);
    prompt_set_free(ps);
    remove_prompts(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_review),
        cmocka_unit_test(test_debug),
        cmocka_unit_test(test_architecture),
        cmocka_unit_test(test_empty_values_and_sections),
        cmocka_unit_test(test_values_not_expanded),
        cmocka_unit_test(test_unknown_task),
        cmocka_unit_test(test_compact),
        cmocka_unit_test(test_missing),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_good_variant),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
