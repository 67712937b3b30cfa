/* test_task_answer.c - unit tests for worker/task_answer.c: the Debug
 * Doctor, architecture and stress-test answers, parsed strictly and
 * normalised. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/json.h"
#include "worker/answer.h"
#include "common/patch.h"
#include "worker/task_answer.h"

/* The orchestrator's type (model_ask.h); each parser must fit it. */
typedef int parse_fn(const char *text, size_t len, cJSON **out, char *why, size_t cap);

static cJSON *expect_ok(parse_fn *parse, const char *text)
{
    char why[512] = "";
    cJSON *out = (cJSON *)1;
    int rc = parse(text, strlen(text), &out, why, sizeof why);

    if (rc != 0)
        fail_msg("rejected: %s\n  answer: %.300s", why, text);
    assert_true(cJSON_IsObject(out));
    return out;
}

static void expect_why(parse_fn *parse, const char *text, const char *needle)
{
    char why[512] = "";
    cJSON *out = (cJSON *)1;
    int rc = parse(text, text != NULL ? strlen(text) : 0, &out, why, sizeof why);

    if (rc == 0) {
        cJSON_Delete(out);
        fail_msg("accepted, wanted an error about \"%s\"\n  answer: %.300s", needle, text);
    }
    assert_int_equal(rc, -1);
    assert_null(out);
    if (strstr(why, needle) == NULL)
        fail_msg("why \"%s\" does not mention \"%s\"\n  answer: %.300s", why, needle, text);
}

/* base (a JSON object) with member name set to the JSON value (NULL: the
 * member removed). Returns the text (owns). */
static char *with(const char *base, const char *name, const char *value)
{
    cJSON *doc = cJSON_Parse(base);
    char *text;

    assert_non_null(doc);
    cJSON_DeleteItemFromObjectCaseSensitive(doc, name);
    if (value != NULL) {
        cJSON *v = cJSON_Parse(value);
        if (v == NULL)
            fail_msg("bad test value %s", value);
        cJSON_AddItemToObject(doc, name, v);
    }
    text = cJSON_PrintUnformatted(doc);
    assert_non_null(text);
    cJSON_Delete(doc);
    return text;
}

static void expect_ok_with(parse_fn *parse, const char *base, const char *name,
                           const char *value, cJSON **out)
{
    char *text = with(base, name, value);

    *out = expect_ok(parse, text);
    free(text);
}

static void expect_why_with(parse_fn *parse, const char *base, const char *name,
                            const char *value, const char *needle)
{
    char *text = with(base, name, value);

    expect_why(parse, text, needle);
    free(text);
}

/* The reasons for a required string member name of base when it is
 * missing, null, empty, blank or of another type. */
static void expect_required_string(parse_fn *parse, const char *base, const char *name)
{
    static const char *const values[] = {NULL, "null", "\"\"", "\" \\n\\t \"", "42", "[\"a\"]"};
    static const char *const whys[] = {"is missing", "is missing", "is empty", "is empty",
                                       "must be a string", "must be a string"};
    char needle[96];

    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        snprintf(needle, sizeof needle, "\"%s\" %s", name, whys[i]);
        expect_why_with(parse, base, name, values[i], needle);
    }
}

/* The same for a required array of non-empty strings. */
static void expect_required_list(parse_fn *parse, const char *base, const char *name)
{
    static const char *const values[] = {NULL, "null", "[]", "[\"\", \"  \"]", "\"one\"",
                                         "{\"a\": 1}", "[\"a\", 2]"};
    /* Each reason is before + name + after. */
    static const char *const whys[][2] = {
        {"no \"", "\" array"}, {"no \"", "\" array"}, {"\"", "\" is empty"}, {"\"", "\" is empty"},
        {"\"", "\" must be an array"}, {"\"", "\" must be an array"},
        {"\"", "\"[1] must be a string"},
    };
    char needle[96];

    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        snprintf(needle, sizeof needle, "%s%s%s", whys[i][0], name, whys[i][1]);
        expect_why_with(parse, base, name, values[i], needle);
    }
}

/* n copies of c (ASCII) as a JSON string literal, quotes included.
 * Returns it (owns). */
static char *long_string(char c, size_t n)
{
    char *raw = calloc(n + 1, 1), *literal;
    cJSON *v;

    assert_non_null(raw);
    memset(raw, c, n);
    v = cJSON_CreateString(raw);
    literal = cJSON_PrintUnformatted(v);
    assert_non_null(literal);
    cJSON_Delete(v);
    free(raw);
    return literal;
}

/* The string member key of o; the test fails when there is none. */
static const char *str_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    if (!cJSON_IsString(v))
        fail_msg("no string \"%s\" in %s", key, o->string != NULL ? o->string : "object");
    return v->valuestring;
}

/* Parses text inside the fence open ... close and drops the result. */
static void expect_fenced_ok(parse_fn *parse, const char *open, const char *text,
                             const char *close)
{
    size_t n = strlen(open) + strlen(text) + strlen(close) + 1;
    char *fenced = malloc(n);

    assert_non_null(fenced);
    snprintf(fenced, n, "%s%s%s", open, text, close);
    cJSON_Delete(expect_ok(parse, fenced));
    free(fenced);
}

/* The member names of o, comma-separated, in order. */
static void assert_members(const cJSON *o, const char *want)
{
    char got[512];
    size_t n = 0;
    const cJSON *m;

    got[0] = '\0';
    cJSON_ArrayForEach(m, o)
        n += (size_t)snprintf(got + n, sizeof got - n, "%s%s", n ? "," : "", m->string);
    if (strcmp(got, want) != 0)
        fail_msg("members %s, want %s", got, want);
}

/* The strings of array a, "|"-separated. */
static void assert_strings(const cJSON *a, const char *want)
{
    char got[2048];
    size_t n = 0;
    const cJSON *v;

    assert_true(cJSON_IsArray(a));
    got[0] = '\0';
    cJSON_ArrayForEach(v, a) {
        assert_true(cJSON_IsString(v));
        n += (size_t)snprintf(got + n, sizeof got - n, "%s%s", n ? "|" : "", v->valuestring);
    }
    if (strcmp(got, want) != 0)
        fail_msg("strings \"%s\", want \"%s\"", got, want);
}

/* ---- shared rules ---- */

static void test_signatures(void **state)
{
    parse_fn *const fns[] = {debug_answer_parse, arch_answer_parse, stress_answer_parse};
    cJSON *out = (cJSON *)1;

    (void)state;
    for (size_t i = 0; i < 3; i++) {
        /* why may be NULL; out is NULL on failure. */
        assert_int_equal(fns[i]("nope", 4, &out, NULL, 0), -1);
        assert_null(out);
        out = (cJSON *)1;
        assert_int_equal(fns[i](NULL, 0, &out, NULL, 0), -1);
        assert_null(out);
    }
}

/* Strict JSON comes from answer_json_object, the same as the review's. */
static void test_strict_json(void **state)
{
    parse_fn *const fns[] = {debug_answer_parse, arch_answer_parse, stress_answer_parse};
    const char *const shapes[] = {"\"root_cause\"", "\"diagram\"", "\"suggestions\""};

    (void)state;
    for (size_t i = 0; i < 3; i++) {
        expect_why(fns[i], "", "empty");
        expect_why(fns[i], "", shapes[i]);         /* the right skeleton is quoted */
        expect_why(fns[i], "[{\"summary\": \"x\"}]", "JSON array");
        expect_why(fns[i], "[{\"summary\": \"x\"}]", shapes[i]);
        expect_why(fns[i], "Here it is: {\"summary\": \"x\"}", "begins with \"Here it is:");
        expect_why(fns[i], "{\"summary\": \"x\"} Thanks!", "text follows its closing '}'");
        expect_why(fns[i], "{\"summary\": \"x\",}", "malformed JSON");
        expect_why(fns[i], "{'summary': \"x\"}", "malformed JSON");
        expect_why(fns[i], "{\"summary\": \"a\nb\"}", "raw control character");
        expect_why(fns[i], "{\"summary\": \"a\\u0000b\"}", "\\u0000");
        expect_why(fns[i], "{\"summary\": \"\xc3\x28\"}", "UTF-8");
        expect_why(fns[i], "{\"a\": 1} {\"b\": 2}", "text after the JSON");
        expect_why(fns[i], "```python\n{}\n```", "only ```json");
        expect_why(fns[i], "```json\n{}\n```\n```json\n{}\n```", "more than one");
    }
}

/* ---- debug ---- */

#define DIFF                                                                                  \
    "--- a/src/a.c\\n+++ b/src/a.c\\n@@ -5 +5 @@\\n-    copy_name(dst, src);\\n"                 \
    "+    snprintf(dst, n, \\\"%s\\\", src);\\n"

#define DEBUG_GOOD                                                                            \
    "{\"root_cause\": \"  strcpy at src/a.c:5 writes past dst  \", "                          \
    "\"explanation\": \"ASan reports a heap-buffer-overflow in copy().\\n\\n  "               \
    "dst has n bytes; src is longer.  \\r\\nA third line.\\nA fourth.\", "                    \
    "\"fix\": \"" DIFF "\", "                                                                 \
    "\"verification_steps\": [\"make test\", \"  \", \"./a < long.txt exits 0\"], "           \
    "\"confidence\": 0.85, "                                                                  \
    "\"findings\": [{\"line\": 5, \"severity\": \"high\", \"category\": \"bug\", "           \
    "\"message\": \"overflow\", \"extra\": 1}, {\"line\": 0, \"severity\": \"major\", "       \
    "\"category\": \"style\", \"message\": \"dropped\"}], "                                    \
    "\"notes\": \"unknown, dropped\"}"

static void test_debug_valid(void **state)
{
    cJSON *a;
    const cJSON *f;

    (void)state;
    a = expect_ok(debug_answer_parse, DEBUG_GOOD);
    assert_members(a, "root_cause,explanation,fix,verification_steps,confidence,findings,"
                      "findings_dropped");
    assert_string_equal(str_of(a, "root_cause"), "strcpy at src/a.c:5 writes past dst");
    /* Two non-blank lines, right-trimmed; the rest marked as left out. */
    assert_string_equal(str_of(a, "explanation"),
                        "ASan reports a heap-buffer-overflow in copy().\n"
                        "  dst has n bytes; src is longer....");
    assert_string_equal(str_of(a, "fix"),
                        "--- a/src/a.c\n+++ b/src/a.c\n@@ -5 +5 @@\n-    copy_name(dst, src);\n"
                        "+    snprintf(dst, n, \"%s\", src);\n");
    assert_strings(cJSON_GetObjectItemCaseSensitive(a, "verification_steps"),
                   "make test|./a < long.txt exits 0");
    assert_true(cJSON_GetObjectItemCaseSensitive(a, "confidence")->valuedouble == 0.85);
    /* Findings by answer_parse's rules: synonyms mapped, bad ones dropped. */
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(a, "findings")), 1);
    f = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(a, "findings"), 0);
    assert_string_equal(str_of(f, "severity"), "major");
    assert_string_equal(str_of(f, "category"), "correctness");
    assert_string_equal(str_of(f, "rule_id"), "model:correctness");
    assert_string_equal(str_of(f, "source"), "model");
    assert_null(cJSON_GetObjectItemCaseSensitive(f, "extra"));
    cJSON_Delete(a);
    expect_fenced_ok(debug_answer_parse, "```json\n", DEBUG_GOOD, "\n```\n");

    /* Two lines or fewer stay as they are. */
    expect_ok_with(debug_answer_parse, DEBUG_GOOD, "explanation", "\"one line\"", &a);
    assert_string_equal(str_of(a, "explanation"), "one line");
    cJSON_Delete(a);
}

static void test_debug_fix_and_findings(void **state)
{
    cJSON *a;
    char *big, *text;

    (void)state;
    /* fix: absent, null, empty or blank -> null. */
    const char *const nulls[] = {NULL, "null", "\"\"", "\" \\n \""};
    for (size_t i = 0; i < 4; i++) {
        expect_ok_with(debug_answer_parse, DEBUG_GOOD, "fix", nulls[i], &a);
        assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(a, "fix")));
        assert_members(a, "root_cause,explanation,fix,verification_steps,confidence,findings,"
                          "findings_dropped");
        cJSON_Delete(a);
    }
    /* A hunk header is enough: whether it applies is the caller's check. */
    expect_ok_with(debug_answer_parse, DEBUG_GOOD, "fix", "\"@@ -1 +1 @@\\n-a\\n+b\\n\"", &a);
    assert_string_equal(str_of(a, "fix"), "@@ -1 +1 @@\n-a\n+b\n");
    cJSON_Delete(a);
    expect_why_with(debug_answer_parse, DEBUG_GOOD, "fix", "\"use snprintf\"",
                    "\"fix\" is not a unified diff");
    expect_why_with(debug_answer_parse, DEBUG_GOOD, "fix", "3", "\"fix\" must be");
    /* A fix that writes a redaction placeholder into the code: refused. Context
     * and removed lines may hold one (the model saw the redacted text). */
    expect_why_with(debug_answer_parse, DEBUG_GOOD, "fix",
                    "\"@@ -1 +1 @@\\n-a\\n+k = \\\"[REDACTED:github_token]\\\"\\n\"",
                    "\"fix\" adds a line holding");
    expect_ok_with(debug_answer_parse, DEBUG_GOOD, "fix",
                   "\"--- a/x\\n+++ b/x\\n@@ -1,2 +1,2 @@\\n k = [REDACTED:aws]\\n-a\\n+b\\n\"", &a);
    cJSON_Delete(a);
    expect_why_with(debug_answer_parse, DEBUG_GOOD, "fix", "{}", "\"fix\" must be");

    big = malloc(PATCH_MAX + 64);
    assert_non_null(big);
    memcpy(big, "\"@@ -1 +1 @@\\n", 14);
    memset(big + 14, 'x', PATCH_MAX);
    memcpy(big + 14 + PATCH_MAX, "\"", 2);
    expect_why_with(debug_answer_parse, DEBUG_GOOD, "fix", big, "\"fix\" is longer than");
    free(big);

    /* findings: optional; absent or null -> []; not an array fails. */
    expect_ok_with(debug_answer_parse, DEBUG_GOOD, "findings", NULL, &a);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(a, "findings")), 0);
    assert_true(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(a, "findings")));
    cJSON_Delete(a);
    expect_ok_with(debug_answer_parse, DEBUG_GOOD, "findings", "null", &a);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(a, "findings")), 0);
    cJSON_Delete(a);
    expect_why_with(debug_answer_parse, DEBUG_GOOD, "findings", "{\"line\": 1}",
                    "\"findings\" must be an array");

    text = with(DEBUG_GOOD, "findings", "[]");
    a = expect_ok(debug_answer_parse, text);
    assert_int_equal(cJSON_GetObjectItem(a, "findings_dropped")->valueint, 0);
    cJSON_Delete(a);
    free(text);
    /* Entries answer_findings does not keep are counted, as for a review. */
    expect_ok_with(debug_answer_parse, DEBUG_GOOD, "findings",
                   "[{\"line\": 3, \"severity\": \"major\", \"category\": \"correctness\", "
                   "\"message\": \"kept\"}, {\"line\": \"x\"}, 7]", &a);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(a, "findings")), 1);
    assert_int_equal(cJSON_GetObjectItem(a, "findings_dropped")->valueint, 2);
    cJSON_Delete(a);
}

static void test_debug_sections(void **state)
{
    cJSON *a;

    (void)state;
    expect_why(debug_answer_parse, "{}", "\"root_cause\" is missing");
    expect_required_string(debug_answer_parse, DEBUG_GOOD, "root_cause");
    expect_required_string(debug_answer_parse, DEBUG_GOOD, "explanation");
    expect_why_with(debug_answer_parse, DEBUG_GOOD, "explanation", "\"\\n \\n\"",
                    "\"explanation\" is empty");
    expect_required_list(debug_answer_parse, DEBUG_GOOD, "verification_steps");
    expect_why_with(debug_answer_parse, DEBUG_GOOD, "confidence", NULL, "no \"confidence\"");
    expect_why_with(debug_answer_parse, DEBUG_GOOD, "confidence", "null", "no \"confidence\"");
    expect_why_with(debug_answer_parse, DEBUG_GOOD, "confidence", "\"0.9\"",
                    "\"confidence\" must be a number");
    expect_why_with(debug_answer_parse, DEBUG_GOOD, "confidence", "1.5", "\"confidence\" is 1.5");
    expect_why_with(debug_answer_parse, DEBUG_GOOD, "confidence", "-0.1",
                    "\"confidence\" is -0.1");
    expect_why_with(debug_answer_parse, DEBUG_GOOD, "confidence", "100", "from 0 to 1");

    /* Boundaries of confidence are fine. */
    expect_ok_with(debug_answer_parse, DEBUG_GOOD, "confidence", "0", &a);
    cJSON_Delete(a);
    expect_ok_with(debug_answer_parse, DEBUG_GOOD, "confidence", "1", &a);
    cJSON_Delete(a);
}

static void test_debug_caps(void **state)
{
    char *big = long_string('x', 5000);
    char steps[1024];
    cJSON *a;
    size_t n = 0;

    (void)state;
    expect_ok_with(debug_answer_parse, DEBUG_GOOD, "root_cause", big, &a);
    assert_int_equal(strlen(str_of(a, "root_cause")), DEBUG_ROOT_CAUSE_MAX);
    assert_string_equal(str_of(a, "root_cause") + DEBUG_ROOT_CAUSE_MAX - 3, "...");
    cJSON_Delete(a);

    expect_ok_with(debug_answer_parse, DEBUG_GOOD, "explanation", big, &a);
    assert_int_equal(strlen(str_of(a, "explanation")), DEBUG_EXPLANATION_MAX);
    cJSON_Delete(a);

    /* A cut never splits a character: "é" (2 bytes) straddling the cap. */
    big[1 + DEBUG_STEP_MAX - 4] = '\xc3';
    big[1 + DEBUG_STEP_MAX - 3] = '\xa9';
    n = (size_t)snprintf(steps, sizeof steps, "[%.*s\"", DEBUG_STEP_MAX + 10, big);
    for (int i = 2; i <= DEBUG_STEPS_MAX + 3; i++)
        n += (size_t)snprintf(steps + n, sizeof steps - n, ", \"step %d\"", i);
    snprintf(steps + n, sizeof steps - n, "]");
    expect_ok_with(debug_answer_parse, DEBUG_GOOD, "verification_steps", steps, &a);
    {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(a, "verification_steps");
        const char *first = cJSON_GetArrayItem(list, 0)->valuestring;
        assert_int_equal(cJSON_GetArraySize(list), DEBUG_STEPS_MAX);
        assert_int_equal(strlen(first), DEBUG_STEP_MAX - 4 + 3);   /* "é" did not fit */
        assert_string_equal(first + DEBUG_STEP_MAX - 4, "...");
        assert_string_equal(cJSON_GetArrayItem(list, DEBUG_STEPS_MAX - 1)->valuestring,
                            "step 8");
    }
    cJSON_Delete(a);
    free(big);
}

/* ---- architecture ---- */

#define ARCH_GOOD                                                                             \
    "{\"summary\": \"A gateway in front of two workers.\", "                                  \
    "\"diagram\": \"\\n \\n  +-----+     +----+  \\r\\n  | api | --> | db |\\n\\n"            \
    "  +-----+     +----+\\n\\n\", "                                                         \
    "\"modules\": [{\"name\": \"gateway\", \"responsibility\": \"HTTP, auth\", \"x\": 1}, "   \
    "{\"name\": \" worker \", \"responsibility\": \"runs jobs\"}], "                          \
    "\"data_flow\": [\"client -> gateway: POST /jobs\", \"gateway -> redis\"], "              \
    "\"security\": [\"JWT on every route\"], "                                                \
    "\"scaling\": [\"workers scale out\", \"\"], "                                            \
    "\"cost\": [\"one small VM\"], "                                                          \
    "\"extra\": {\"dropped\": true}}"

static void test_arch_valid(void **state)
{
    cJSON *a, *m;

    (void)state;
    a = expect_ok(arch_answer_parse, ARCH_GOOD);
    assert_members(a, "summary,diagram,modules,data_flow,security,scaling,cost");
    assert_string_equal(str_of(a, "summary"), "A gateway in front of two workers.");
    /* Indentation kept; "\r", line-end spaces and outer blank lines gone. */
    assert_string_equal(str_of(a, "diagram"),
                        "  +-----+     +----+\n  | api | --> | db |\n\n  +-----+     +----+");
    m = cJSON_GetObjectItemCaseSensitive(a, "modules");
    assert_int_equal(cJSON_GetArraySize(m), 2);
    assert_members(cJSON_GetArrayItem(m, 0), "name,responsibility");
    assert_string_equal(str_of(cJSON_GetArrayItem(m, 1), "name"), "worker");
    assert_strings(cJSON_GetObjectItemCaseSensitive(a, "data_flow"),
                   "client -> gateway: POST /jobs|gateway -> redis");
    assert_strings(cJSON_GetObjectItemCaseSensitive(a, "scaling"), "workers scale out");
    cJSON_Delete(a);
    expect_fenced_ok(arch_answer_parse, "```JSON\r\n", ARCH_GOOD, "\r\n```");
}

static void test_arch_sections(void **state)
{
    static const char *const lists[] = {"data_flow", "security", "scaling", "cost"};

    (void)state;
    expect_required_string(arch_answer_parse, ARCH_GOOD, "summary");
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        expect_required_list(arch_answer_parse, ARCH_GOOD, lists[i]);
    expect_why_with(arch_answer_parse, ARCH_GOOD, "diagram", NULL, "\"diagram\" is missing");
    expect_why_with(arch_answer_parse, ARCH_GOOD, "diagram", "\"\\n  \\n\"",
                    "\"diagram\" is empty");
    expect_why_with(arch_answer_parse, ARCH_GOOD, "diagram", "[\"a\", \"b\"]",
                    "\"diagram\" must be a string");
    expect_why_with(arch_answer_parse, ARCH_GOOD, "diagram", "\"[api] --> [db]\"",
                    "at least 2 lines");
    /* A diagram with escaped "\n" written out literally is one line. */
    expect_why_with(arch_answer_parse, ARCH_GOOD, "diagram", "\"[api]\\\\n[db]\"",
                    "at least 2 lines");
    expect_why_with(arch_answer_parse, ARCH_GOOD, "modules", NULL, "no \"modules\" array");
    expect_why_with(arch_answer_parse, ARCH_GOOD, "modules", "[]", "\"modules\" is empty");
    expect_why_with(arch_answer_parse, ARCH_GOOD, "modules", "{\"name\": \"a\"}",
                    "\"modules\" must be an array");
    expect_why_with(arch_answer_parse, ARCH_GOOD, "modules", "[\"gateway\"]",
                    "\"modules\"[0] must be an object");
    expect_why_with(arch_answer_parse, ARCH_GOOD, "modules",
                    "[{\"name\": \"a\", \"responsibility\": \"b\"}, {\"name\": \"c\"}]",
                    "\"modules[1].responsibility\" is missing");
    expect_why_with(arch_answer_parse, ARCH_GOOD, "modules",
                    "[{\"name\": \"\", \"responsibility\": \"b\"}]", "\"modules[0].name\" is empty");
    expect_why_with(arch_answer_parse, ARCH_GOOD, "modules",
                    "[{\"name\": 3, \"responsibility\": \"b\"}]",
                    "\"modules[0].name\" must be a string");
}

static void test_arch_caps(void **state)
{
    char *big = long_string('y', 9000), *list, *diagram;
    size_t cap = 64 * 1024, n, vlen;
    cJSON *a;

    (void)state;
    list = malloc(cap);
    diagram = malloc(cap);
    assert_non_null(list);
    assert_non_null(diagram);

    expect_ok_with(arch_answer_parse, ARCH_GOOD, "summary", big, &a);
    assert_int_equal(strlen(str_of(a, "summary")), ARCH_SUMMARY_MAX);
    cJSON_Delete(a);

    /* 35 modules with long names: the first 30 kept, names cut. */
    n = (size_t)snprintf(list, cap, "[");
    for (int i = 0; i < ARCH_MODULES_MAX + 5; i++)
        n += (size_t)snprintf(list + n, cap - n, "%s{\"name\": %.*s%d\", \"responsibility\": \"r\"}",
                              i ? ", " : "", ARCH_NAME_MAX + 20, big, i);
    snprintf(list + n, cap - n, "]");
    expect_ok_with(arch_answer_parse, ARCH_GOOD, "modules", list, &a);
    {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(a, "modules");
        assert_int_equal(cJSON_GetArraySize(m), ARCH_MODULES_MAX);
        assert_int_equal(strlen(str_of(cJSON_GetArrayItem(m, 0), "name")), ARCH_NAME_MAX);
    }
    cJSON_Delete(a);

    /* 25 items, one long: 20 kept, the long one cut. */
    n = (size_t)snprintf(list, cap, "[%.*s\"", ARCH_ITEM_MAX + 50, big);
    for (int i = 1; i < ARCH_ITEMS_MAX + 5; i++)
        n += (size_t)snprintf(list + n, cap - n, ", \"item %d\"", i);
    snprintf(list + n, cap - n, "]");
    expect_ok_with(arch_answer_parse, ARCH_GOOD, "cost", list, &a);
    {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(a, "cost");
        assert_int_equal(cJSON_GetArraySize(c), ARCH_ITEMS_MAX);
        assert_int_equal(strlen(cJSON_GetArrayItem(c, 0)->valuestring), ARCH_ITEM_MAX);
        assert_string_equal(cJSON_GetArrayItem(c, ARCH_ITEMS_MAX - 1)->valuestring, "item 19");
    }
    cJSON_Delete(a);

    /* The diagram is not cut: at the cap it is kept, past it refused. Lines
     * of 99 bytes and "\n", padded with '#' to ARCH_DIAGRAM_MAX bytes. */
    n = (size_t)snprintf(diagram, cap, "\"");
    vlen = 0;
    for (int i = 0; vlen + 100 <= ARCH_DIAGRAM_MAX; i++) {
        n += (size_t)snprintf(diagram + n, cap - n, "%s%.99s", i ? "\\n" : "", big + 1);
        vlen += (i ? 1 : 0) + 99;
    }
    memset(diagram + n, '#', ARCH_DIAGRAM_MAX - vlen);
    n += ARCH_DIAGRAM_MAX - vlen;
    snprintf(diagram + n, cap - n, "\"");
    expect_ok_with(arch_answer_parse, ARCH_GOOD, "diagram", diagram, &a);
    assert_int_equal(strlen(str_of(a, "diagram")), ARCH_DIAGRAM_MAX);
    cJSON_Delete(a);
    snprintf(diagram + n, cap - n, "#\"");
    expect_why_with(arch_answer_parse, ARCH_GOOD, "diagram", diagram, "\"diagram\" is 8193 bytes");

    free(diagram);
    free(list);
    free(big);
}

/* ---- stress ---- */

#define STRESS_GOOD                                                                           \
    "{\"summary\": \"GET /items is slow at p99 (2.1 s) and /login fails 4%.\", "              \
    "\"suggestions\": ["                                                                      \
    "{\"endpoint\": \" get   /api/items?page=1 \", \"kind\": \"Cache\", "                     \
    "\"advice\": \"Cache the list for 30 s.\", \"expected_impact\": \"p95 900 -> 80 ms\", "   \
    "\"priority\": 1}, "                                                                      \
    "{\"endpoint\": \"POST /login\", \"kind\": \"db-index\", \"advice\": \"Index users.email.\", " \
    "\"expected_impact\": null}, "                                                            \
    "{\"endpoint\": \"DELETE /items/{id}\", \"kind\": \"RATE LIMIT\", "                       \
    "\"advice\": \"Limit deletes.\", \"expected_impact\": \"  \"}], "                         \
    "\"load\": {\"rps\": 100}}"

static void test_stress_valid(void **state)
{
    cJSON *a = expect_ok(stress_answer_parse, STRESS_GOOD);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(a, "suggestions");

    (void)state;
    assert_members(a, "summary,suggestions");
    assert_int_equal(cJSON_GetArraySize(s), 3);
    assert_members(cJSON_GetArrayItem(s, 0), "endpoint,kind,advice,expected_impact");
    assert_string_equal(str_of(cJSON_GetArrayItem(s, 0), "endpoint"), "GET /api/items?page=1");
    assert_string_equal(str_of(cJSON_GetArrayItem(s, 0), "kind"), "caching");
    assert_string_equal(str_of(cJSON_GetArrayItem(s, 0), "expected_impact"),
                        "p95 900 -> 80 ms");
    /* expected_impact null or blank: left out. */
    assert_members(cJSON_GetArrayItem(s, 1), "endpoint,kind,advice");
    assert_string_equal(str_of(cJSON_GetArrayItem(s, 1), "kind"), "index");
    assert_members(cJSON_GetArrayItem(s, 2), "endpoint,kind,advice");
    assert_string_equal(str_of(cJSON_GetArrayItem(s, 2), "endpoint"), "DELETE /items/{id}");
    assert_string_equal(str_of(cJSON_GetArrayItem(s, 2), "kind"), "rate_limit");
    cJSON_Delete(a);
    expect_fenced_ok(stress_answer_parse, "```\n", STRESS_GOOD, "\n```");
}

/* The kind one suggestion with kind said normalises to, or NULL when the
 * answer is refused. */
static void expect_kind(const char *said, const char *want)
{
    char text[512];
    const cJSON *s;
    cJSON *a;

    snprintf(text, sizeof text,
             "{\"summary\": \"s\", \"suggestions\": [{\"endpoint\": \"GET /a\", \"kind\": \"%s\", "
             "\"advice\": \"a\"}]}", said);
    if (want == NULL) {
        expect_why(stress_answer_parse, text, "\"suggestions[0].kind\" must be one of");
        return;
    }
    a = expect_ok(stress_answer_parse, text);
    s = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(a, "suggestions"), 0);
    if (strcmp(str_of(s, "kind"), want) != 0)
        fail_msg("kind \"%s\" -> \"%s\", want \"%s\"", said, str_of(s, "kind"), want);
    cJSON_Delete(a);
}

static void test_stress_kinds(void **state)
{
    static const char *const canonical[] = {"caching",  "index",   "pagination",
                                            "batching", "connection_pool", "payload",
                                            "rate_limit", "async", "other"};

    (void)state;
    for (size_t i = 0; i < sizeof canonical / sizeof canonical[0]; i++)
        expect_kind(canonical[i], canonical[i]);
    expect_kind("CACHING", "caching");
    expect_kind("cache", "caching");
    expect_kind("Memoization", "caching");
    expect_kind("db_index", "index");
    expect_kind("DB-Index", "index");
    expect_kind("indexing", "index");
    expect_kind("indexes", "index");
    expect_kind("paging", "pagination");
    expect_kind("Paginate", "pagination");
    expect_kind("batch", "batching");
    expect_kind("bulk", "batching");
    expect_kind("N+1", "batching");
    expect_kind("connection-pool", "connection_pool");
    expect_kind("Connection Pooling", "connection_pool");
    expect_kind("pool", "connection_pool");
    expect_kind("compression", "payload");
    expect_kind("gzip", "payload");
    expect_kind("rate-limiting", "rate_limit");
    expect_kind("throttling", "rate_limit");
    expect_kind("asynchronous", "async");
    expect_kind("queue", "async");
    expect_kind("  Async  ", "async");
    expect_kind("magic", NULL);
    expect_kind("", NULL);
    expect_kind("caching and indexes", NULL);
    expect_kind("a-very-long-kind-name-that-is-not-any-kind", NULL);
}

/* Suggestions refused, each alone in an answer, and what the reason says. */
static const struct bad_suggestion {
    const char *suggestion;
    const char *needle;
} bad_suggestions[] = {
    {"\"GET /a\"", "\"suggestions\"[0] must be an object"},
    {"{\"kind\": \"cache\", \"advice\": \"a\"}", "\"suggestions[0].endpoint\" is missing"},
    {"{\"endpoint\": 7, \"kind\": \"cache\", \"advice\": \"a\"}",
     "\"suggestions[0].endpoint\" must be a string"},
    {"{\"endpoint\": \"/items\", \"kind\": \"cache\", \"advice\": \"a\"}",
     "\"suggestions[0].endpoint\" must be \"METHOD /path\""},
    {"{\"endpoint\": \"FETCH /items\", \"kind\": \"cache\", \"advice\": \"a\"}",
     "\"METHOD /path\""},
    {"{\"endpoint\": \"GET items\", \"kind\": \"cache\", \"advice\": \"a\"}",
     "\"METHOD /path\""},
    {"{\"endpoint\": \"GET/items\", \"kind\": \"cache\", \"advice\": \"a\"}",
     "\"METHOD /path\""},
    {"{\"endpoint\": \"GET /items and /users\", \"kind\": \"cache\", \"advice\": \"a\"}",
     "\"METHOD /path\""},
    {"{\"endpoint\": \"\", \"kind\": \"cache\", \"advice\": \"a\"}", "\"METHOD /path\""},
    {"{\"endpoint\": \"GET /a\", \"advice\": \"a\"}", "\"suggestions[0].kind\" is missing"},
    {"{\"endpoint\": \"GET /a\", \"kind\": [\"cache\"], \"advice\": \"a\"}",
     "\"suggestions[0].kind\" must be a string"},
    {"{\"endpoint\": \"GET /a\", \"kind\": \"cache\"}", "\"suggestions[0].advice\" is missing"},
    {"{\"endpoint\": \"GET /a\", \"kind\": \"cache\", \"advice\": \" \"}",
     "\"suggestions[0].advice\" is empty"},
    {"{\"endpoint\": \"GET /a\", \"kind\": \"cache\", \"advice\": \"a\", "
     "\"expected_impact\": 2}", "\"suggestions[0].expected_impact\" must be a string"},
};

static void test_stress_sections(void **state)
{
    char text[1024];

    (void)state;
    for (size_t i = 0; i < sizeof bad_suggestions / sizeof bad_suggestions[0]; i++) {
        snprintf(text, sizeof text, "[%s]", bad_suggestions[i].suggestion);
        expect_why_with(stress_answer_parse, STRESS_GOOD, "suggestions", text,
                        bad_suggestions[i].needle);
    }
    /* The index names the entry at fault. */
    expect_why_with(stress_answer_parse, STRESS_GOOD, "suggestions",
                    "[{\"endpoint\": \"GET /a\", \"kind\": \"cache\", \"advice\": \"a\"}, "
                    "{\"endpoint\": \"GET /b\", \"kind\": \"vibes\", \"advice\": \"b\"}]",
                    "\"suggestions[1].kind\"");
    expect_required_string(stress_answer_parse, STRESS_GOOD, "summary");
    expect_why_with(stress_answer_parse, STRESS_GOOD, "suggestions", NULL,
                    "no \"suggestions\" array");
    expect_why_with(stress_answer_parse, STRESS_GOOD, "suggestions", "{}",
                    "\"suggestions\" must be an array");
}

/* A healthy service: the role says to skip endpoints that are fast and
 * error-free, so when every one is, "suggestions": [] is the whole answer,
 * kept as [] (no repair round, the job is not degraded). The summary is
 * still required, and so is the array itself. */
static void test_stress_no_suggestions(void **state)
{
    cJSON *a;

    (void)state;
    a = expect_ok(stress_answer_parse, "{\"summary\": \" All 3 endpoints answer under 20 ms "
                                       "at p99, no errors. \", \"suggestions\": []}");
    assert_members(a, "summary,suggestions");
    assert_string_equal(str_of(a, "summary"), "All 3 endpoints answer under 20 ms at p99, "
                                              "no errors.");
    assert_true(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(a, "suggestions")));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(a, "suggestions")), 0);
    cJSON_Delete(a);
    expect_fenced_ok(stress_answer_parse, "```json\n",
                     "{\"summary\": \"Fine.\", \"suggestions\": []}", "\n```");
    expect_why(stress_answer_parse, "{\"summary\": \" \", \"suggestions\": []}",
               "\"summary\" is empty");
    expect_why(stress_answer_parse, "{\"suggestions\": []}", "\"summary\" is missing");
    expect_why(stress_answer_parse, "{\"summary\": \"Fine.\"}", "no \"suggestions\" array");
    expect_why(stress_answer_parse, "{\"summary\": \"Fine.\", \"suggestions\": null}",
               "no \"suggestions\" array");
}

static void test_stress_caps(void **state)
{
    char *big = long_string('z', 4000), *list;
    size_t cap = 256 * 1024, n;
    cJSON *a;
    const cJSON *s;

    (void)state;
    list = malloc(cap);
    assert_non_null(list);
    n = (size_t)snprintf(list, cap, "[");
    for (int i = 0; i < STRESS_SUGGESTIONS_MAX + 5; i++)
        n += (size_t)snprintf(list + n, cap - n,
                              "%s{\"endpoint\": \"GET /r%d\", \"kind\": \"other\", "
                              "\"advice\": %s, \"expected_impact\": %s}",
                              i ? ", " : "", i, big, big);
    snprintf(list + n, cap - n, "]");
    expect_ok_with(stress_answer_parse, STRESS_GOOD, "suggestions", list, &a);
    s = cJSON_GetObjectItemCaseSensitive(a, "suggestions");
    assert_int_equal(cJSON_GetArraySize(s), STRESS_SUGGESTIONS_MAX);
    assert_string_equal(str_of(cJSON_GetArrayItem(s, STRESS_SUGGESTIONS_MAX - 1), "endpoint"),
                        "GET /r19");
    assert_int_equal(strlen(str_of(cJSON_GetArrayItem(s, 0), "advice")), STRESS_ADVICE_MAX);
    assert_int_equal(strlen(str_of(cJSON_GetArrayItem(s, 0), "expected_impact")),
                     STRESS_IMPACT_MAX);
    cJSON_Delete(a);

    expect_ok_with(stress_answer_parse, STRESS_GOOD, "summary", big, &a);
    assert_int_equal(strlen(str_of(a, "summary")), STRESS_SUMMARY_MAX);
    cJSON_Delete(a);

    /* An endpoint is never cut: too long is refused. */
    snprintf(list, cap,
             "[{\"endpoint\": \"GET /%.*s\", \"kind\": \"other\", \"advice\": \"a\"}]",
             STRESS_ENDPOINT_MAX - 5, big + 1);
    expect_ok_with(stress_answer_parse, STRESS_GOOD, "suggestions", list, &a);
    cJSON_Delete(a);
    snprintf(list, cap,
             "[{\"endpoint\": \"GET /%.*s\", \"kind\": \"other\", \"advice\": \"a\"}]",
             STRESS_ENDPOINT_MAX - 4, big + 1);
    {
        char at_most[32];
        snprintf(at_most, sizeof at_most, "at most %d bytes", STRESS_ENDPOINT_MAX);
        expect_why_with(stress_answer_parse, STRESS_GOOD, "suggestions", list, at_most);
    }
    free(list);
    free(big);
}

/* A control character becomes a space, and a string is trimmed: a member
 * that holds only control characters (and white space) is empty once
 * cleaned, and a required one fails as "\"\" or "  " does; a kept string
 * never ends in a space the cleaning made. The diagram likewise: lines of
 * control characters only are blank lines, which leave it empty. */
static void test_control_only_is_empty(void **state)
{
    cJSON *a;

    (void)state;
    expect_why_with(arch_answer_parse, ARCH_GOOD, "summary", "\"\\u0001\"",
                    "\"summary\" is empty");
    expect_why_with(arch_answer_parse, ARCH_GOOD, "modules",
                    "[{\"name\": \"\\u0007\", \"responsibility\": \"b\"}]",
                    "\"modules[0].name\" is empty");
    expect_why_with(arch_answer_parse, ARCH_GOOD, "cost", "[\"\\u0002 \"]",
                    "\"cost\" is empty");
    expect_why_with(arch_answer_parse, ARCH_GOOD, "diagram", "\"\\u0001\\n\\u0002\"",
                    "\"diagram\" is empty");
    expect_why_with(stress_answer_parse, STRESS_GOOD, "summary", "\" \\u001b \"",
                    "\"summary\" is empty");
    expect_why_with(stress_answer_parse, STRESS_GOOD, "suggestions",
                    "[{\"endpoint\": \"GET /a\", \"kind\": \"cache\", \"advice\": \"\\u0003\"}]",
                    "\"suggestions[0].advice\" is empty");

    /* Trimmed after cleaning: "x \u0001" is "x". */
    expect_ok_with(arch_answer_parse, ARCH_GOOD, "summary", "\"x \\u0001\"", &a);
    assert_string_equal(str_of(a, "summary"), "x");
    cJSON_Delete(a);
    /* expected_impact of control characters only: empty, left out. */
    expect_ok_with(stress_answer_parse, STRESS_GOOD, "suggestions",
                   "[{\"endpoint\": \"GET /a\", \"kind\": \"cache\", \"advice\": \"a\", "
                   "\"expected_impact\": \"\\u0001\"}]", &a);
    assert_members(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(a, "suggestions"), 0),
                   "endpoint,kind,advice");
    cJSON_Delete(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signatures),
        cmocka_unit_test(test_strict_json),
        cmocka_unit_test(test_debug_valid),
        cmocka_unit_test(test_debug_fix_and_findings),
        cmocka_unit_test(test_debug_sections),
        cmocka_unit_test(test_debug_caps),
        cmocka_unit_test(test_arch_valid),
        cmocka_unit_test(test_arch_sections),
        cmocka_unit_test(test_arch_caps),
        cmocka_unit_test(test_stress_valid),
        cmocka_unit_test(test_stress_kinds),
        cmocka_unit_test(test_stress_sections),
        cmocka_unit_test(test_stress_no_suggestions),
        cmocka_unit_test(test_stress_caps),
        cmocka_unit_test(test_control_only_is_empty),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
