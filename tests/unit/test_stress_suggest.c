/* test_stress_suggest.c - unit tests for worker/stress_suggest.c: the
 * model's suggestions are kept only on endpoints the run measured, as
 * measured, as the table showed them (redacted), or without their query. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/json.h"
#include "worker/redact.h"
#include "worker/stress_suggest.h"
#include "worker/task_answer.h"

/* A key redact_text replaces, split so this file holds none. */
#define KEY "sk_live_" "4eC39HqLyjWDarjtT1zdp7dc"

/* A report with the endpoints of stress_report_json, methods and paths only. */
static cJSON *report(void)
{
    cJSON *r = cJSON_Parse("{\"endpoints\": ["
                           "{\"method\": \"GET\", \"path\": \"/items?page=2\"},"
                           "{\"method\": \"POST\", \"path\": \"/login\"},"
                           "{\"method\": \"GET\", \"path\": \"/users/{id}\"},"
                           "{\"method\": \"GET\", \"path\": \"/pay?api_key=" KEY "\"}]}");

    assert_non_null(r);
    return r;
}

/* The suggestions for endpoints, "|"-separated, each {"endpoint", "kind", "advice"}. */
static cJSON *suggestions(const char *endpoints)
{
    cJSON *a = cJSON_CreateArray();
    char buf[512];
    const char *p = endpoints;

    assert_non_null(a);
    while (*p != '\0') {
        size_t n = strcspn(p, "|");
        cJSON *s = cJSON_CreateObject();

        snprintf(buf, sizeof buf, "%.*s", (int)n, p);
        cJSON_AddStringToObject(s, "endpoint", buf);
        cJSON_AddStringToObject(s, "kind", "other");
        cJSON_AddStringToObject(s, "advice", "a");
        cJSON_AddItemToArray(a, s);
        p += n + (p[n] == '|');
    }
    return a;
}

/* Keeps from given what the report measured: the kept endpoints are want
 * ("|"-separated), dropped the rest. */
static void expect_kept(const char *given, const char *want, int dropped)
{
    cJSON *r = report(), *a = suggestions(given), *s;
    char got[1024];
    size_t n = 0;

    assert_int_equal(stress_suggest_keep_measured(a, r), dropped);
    got[0] = '\0';
    cJSON_ArrayForEach(s, a) {
        n += (size_t)snprintf(got + n, sizeof got - n, "%s%s", n ? "|" : "",
                              json_str(s, "endpoint"));
        /* The entry is the model's, whole. */
        assert_string_equal(json_str(s, "kind"), "other");
    }
    if (strcmp(got, want) != 0)
        fail_msg("kept \"%s\" of \"%s\", want \"%s\"", got, given, want);
    cJSON_Delete(a);
    cJSON_Delete(r);
}

static void test_measured_endpoints_kept(void **state)
{
    (void)state;
    expect_kept("GET /items?page=2|POST /login|GET /users/{id}",
                "GET /items?page=2|POST /login|GET /users/{id}", 0);
    /* Without its query: the route measured. */
    expect_kept("GET /items", "GET /items", 0);
    expect_kept("GET /pay", "GET /pay", 0);
    expect_kept("", "", 0);
}

static void test_unmeasured_endpoints_dropped(void **state)
{
    (void)state;
    /* Invented, another method, another query, a prefix, a placeholder
     * filled in, a trailing slash. */
    expect_kept("GET /admin|GET /items?page=2|GET /login|GET /items?page=3|GET /item"
                "|GET /users/42|POST /login/|POST /login",
                "GET /items?page=2|POST /login", 6);
    expect_kept("DELETE /items?page=2", "", 1);
    /* Case matters in paths: they are the server's. */
    expect_kept("POST /Login", "", 1);
}

/* The table shows the key redacted; the model may name the endpoint so, or
 * as it was measured (the owner's own report holds it). */
static void test_redacted_path_names_the_endpoint(void **state)
{
    const char *path = "/pay?api_key=" KEY;
    struct redact_result rp;
    char given[512], want[512];

    (void)state;
    assert_int_equal(redact_text(path, strlen(path), &rp), 0);
    assert_non_null(strstr(rp.text, REDACT_MARK));
    snprintf(given, sizeof given, "GET %s|GET %s|GET /pay?api_key=[REDACTED:other]", rp.text,
             path);
    /* The first two kept; a placeholder of another kind was not shown. */
    snprintf(want, sizeof want, "GET %s|GET %s", rp.text, path);
    expect_kept(given, want, 1);
    redact_result_cleanup(&rp);
}

/* A path longer than the table shows is named as shown, cut at
 * STRESS_TABLE_PATH_MAX bytes, and the answer parser takes it. */
static void test_long_path_named_as_shown(void **state)
{
    char path[STRESS_TABLE_PATH_MAX + 101], shown[STRESS_ENDPOINT_MAX + 1];
    char answer[2 * STRESS_ENDPOINT_MAX], why[300];
    cJSON *r, *a, *parsed = NULL;

    (void)state;
    memset(path, 'a', sizeof path - 1);
    path[0] = '/';
    path[sizeof path - 1] = '\0';
    r = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(r, "endpoints"),
                         cJSON_Parse("{\"method\": \"OPTIONS\"}"));
    cJSON_AddStringToObject(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "endpoints"), 0), "path",
                            path);
    snprintf(shown, sizeof shown, "OPTIONS %.*s", STRESS_TABLE_PATH_MAX, path);
    assert_int_equal(strlen(shown), STRESS_ENDPOINT_MAX);
    snprintf(answer, sizeof answer, "{\"summary\": \"s\", \"suggestions\": [{\"endpoint\": "
             "\"%s\", \"kind\": \"other\", \"advice\": \"a\"}]}", shown);
    assert_int_equal(stress_answer_parse(answer, strlen(answer), &parsed, why, sizeof why), 0);
    a = cJSON_DetachItemFromObject(parsed, "suggestions");
    assert_int_equal(stress_suggest_keep_measured(a, r), 0);
    assert_int_equal(cJSON_GetArraySize(a), 1);
    assert_string_equal(json_str(cJSON_GetArrayItem(a, 0), "endpoint"), shown);
    cJSON_Delete(a);
    cJSON_Delete(parsed);
    cJSON_Delete(r);
}

static void test_odd_inputs(void **state)
{
    cJSON *r = report(), *a;

    (void)state;
    /* Nothing to check: no suggestions, or no report (every one goes). */
    assert_int_equal(stress_suggest_keep_measured(NULL, r), 0);
    a = suggestions("GET /items");
    assert_int_equal(stress_suggest_keep_measured(a, NULL), 1);
    assert_int_equal(cJSON_GetArraySize(a), 0);
    cJSON_Delete(a);
    /* An entry without an endpoint string names nothing. */
    a = cJSON_Parse("[{\"endpoint\": 7}, {}, {\"endpoint\": \"POST /login\"}]");
    assert_int_equal(stress_suggest_keep_measured(a, r), 2);
    assert_int_equal(cJSON_GetArraySize(a), 1);
    cJSON_Delete(a);
    cJSON_Delete(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_measured_endpoints_kept),
        cmocka_unit_test(test_unmeasured_endpoints_dropped),
        cmocka_unit_test(test_redacted_path_names_the_endpoint),
        cmocka_unit_test(test_long_path_named_as_shown),
        cmocka_unit_test(test_odd_inputs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
