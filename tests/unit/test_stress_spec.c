/* test_stress_spec.c - unit tests for common/stress_spec.c: valid specs and
 * their defaults, every refused input with its exact code and field, the
 * caps taken from the configuration, and the canonical JSON round trip.
 * The parsed document is freed before the spec is read, so ASan catches a
 * spec that borrows from it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/config.h"
#include "common/err.h"
#include "common/json.h"
#include "common/stress_spec.h"

/* The members every valid body has, as JSON text without braces. */
#define BASE "\"base_url\":\"http://api.example.com\""
#define REQ "\"requests\":[{\"method\":\"GET\",\"path\":\"/\"}]"
#define LIMITS "\"rate\":10,\"duration_s\":5"

static struct config caps(void)
{
    struct config c;

    memset(&c, 0, sizeof c);
    c.stress_max_rps = 200;
    c.stress_max_concurrency = 50;
    c.stress_max_duration_s = 60;
    c.stress_max_requests = 10000;
    c.stress_timeout_ms = 10000;
    return c;
}

static int parse_cfg(const char *json, const struct config *cfg, struct stress_spec **s,
                     struct err *e)
{
    cJSON *doc = cJSON_Parse(json);
    int rc;

    if (doc == NULL)
        print_error("test body is not JSON: %s\n", json);
    assert_non_null(doc);
    err_clear(e);
    rc = stress_spec_parse(doc, cfg, s, e);
    cJSON_Delete(doc);
    return rc;
}

static struct stress_spec *parse_ok(const char *json, const struct config *cfg)
{
    struct stress_spec *s = NULL;
    struct err e;
    int rc = parse_cfg(json, cfg, &s, &e);

    if (rc != ERR_OK)
        print_error("%s: %s field \"%s\": %s\n", json, err_code_str((enum err_code)rc), e.field,
                    e.msg);
    assert_int_equal(rc, ERR_OK);
    assert_non_null(s);
    return s;
}

static void expect_err_cfg(const char *json, const struct config *cfg, enum err_code code,
                           const char *field)
{
    struct stress_spec *s = (struct stress_spec *)1;
    struct err e;
    int rc = parse_cfg(json, cfg, &s, &e);

    if (rc != (int)code || strcmp(e.field, field) != 0)
        print_error("%.300s: got %s field \"%s\" (%s), want %s field \"%s\"\n", json,
                    err_code_str((enum err_code)rc), e.field, e.msg, err_code_str(code), field);
    assert_int_equal(rc, code);
    assert_string_equal(e.field, field);
    assert_int_equal(e.http_status, err_http_status(code));
    assert_true(e.msg[0] != '\0');
    assert_null(s);
}

static void expect_err(const char *json, enum err_code code, const char *field)
{
    struct config c = caps();

    expect_err_cfg(json, &c, code, field);
}

/* {BASE, "requests":[{"method":"GET","path":"/"},{"method":"GET","path":"/"},<raw>], LIMITS}:
 * the third request (index 2) is raw. Owns the result. */
static char *with_third(const char *raw)
{
    size_t n = strlen(raw) + 256;
    char *out = malloc(n);

    assert_non_null(out);
    snprintf(out, n, "{" BASE ",\"requests\":[{\"method\":\"GET\",\"path\":\"/\"},"
                     "{\"method\":\"GET\",\"path\":\"/\"},%s]," LIMITS "}", raw);
    return out;
}

static void expect_third_err(const char *raw, enum err_code code, const char *field)
{
    char *json = with_third(raw);

    expect_err(json, code, field);
    free(json);
}

/* {BASE, REQ, LIMITS, <raw>} with raw an extra top-level member, or the
 * whole body with member `name` replaced by raw. Owns the result. */
static char *body_with(const char *name, const char *raw)
{
    const char *base = BASE, *req = REQ, *rate = "\"rate\":10", *dur = "\"duration_s\":5";
    size_t n = strlen(raw) + 512;
    char *out = malloc(n), *extra = malloc(n);

    assert_non_null(out);
    assert_non_null(extra);
    extra[0] = '\0';
    if (strcmp(name, "base_url") == 0)
        base = raw;
    else if (strcmp(name, "requests") == 0)
        req = raw;
    else if (strcmp(name, "rate") == 0)
        rate = raw;
    else if (strcmp(name, "duration_s") == 0)
        dur = raw;
    else
        snprintf(extra, n, ",%s", raw);
    snprintf(out, n, "{%s%s%s%s%s%s%s%s}", base, base[0] ? "," : "", req, req[0] ? "," : "",
             rate, rate[0] && dur[0] ? "," : "", dur, extra);
    free(extra);
    return out;
}

static void expect_member_err(const char *name, const char *raw, enum err_code code,
                              const char *field)
{
    char *json = body_with(name, raw);

    expect_err(json, code, field);
    free(json);
}

static void test_minimal_defaults(void **state)
{
    struct config c = caps();
    struct stress_spec *s = parse_ok("{" BASE "," REQ "," LIMITS "}", &c);
    char url[64];
    (void)state;

    assert_string_equal(s->base_url, "http://api.example.com");
    assert_int_equal(s->nrequests, 1);
    assert_string_equal(s->requests[0].method, "GET");
    assert_string_equal(s->requests[0].path, "/");
    assert_null(s->requests[0].body);
    assert_int_equal(s->requests[0].weight, 1);
    assert_int_equal(s->requests[0].nheaders, 0);
    assert_int_equal(s->rate, 10);
    assert_int_equal(s->duration_s, 5);
    assert_int_equal(s->concurrency, STRESS_CONCURRENCY_DEFAULT);
    assert_int_equal(s->max_requests, 50);     /* rate * duration */
    assert_int_equal(stress_spec_url(s, 0, url, sizeof url), 0);
    assert_string_equal(url, "http://api.example.com/");
    assert_int_equal(stress_spec_url(s, 0, url, 10), -1);
    stress_spec_free(s);
    stress_spec_free(NULL);
}

static void test_full(void **state)
{
    struct config c = caps();
    struct stress_spec *s = parse_ok(
        "{\"request_type\":\"stress\",\"base_url\":\"https://api.example.com:8443/v1/\","
        "\"requests\":[{\"method\":\"POST\",\"path\":\"/users?x=1\",\"body\":\"{\\\"a\\\":1}\","
        "\"weight\":3,\"headers\":{\"Content-Type\":\"application/json\",\"X-Empty\":\"\","
        "\"X-Tab\":\"a\\tb\"}},{\"method\":\"HEAD\",\"path\":\"/health\",\"weight\":100},"
        "{\"method\":\"DELETE\",\"path\":\"/x\",\"body\":null,\"weight\":null,\"headers\":null}],"
        "\"rate\":200,\"duration_s\":60,\"concurrency\":50,\"max_requests\":7,\"extra\":true}",
        &c);
    char url[128];
    (void)state;

    assert_string_equal(s->base_url, "https://api.example.com:8443/v1/");
    assert_int_equal(s->nrequests, 3);
    assert_string_equal(s->requests[0].method, "POST");
    assert_string_equal(s->requests[0].path, "/users?x=1");
    assert_string_equal(s->requests[0].body, "{\"a\":1}");
    assert_int_equal(s->requests[0].weight, 3);
    assert_int_equal(s->requests[0].nheaders, 3);
    assert_string_equal(s->requests[0].headers[0].name, "Content-Type");
    assert_string_equal(s->requests[0].headers[0].value, "application/json");
    assert_string_equal(s->requests[0].headers[1].name, "X-Empty");
    assert_string_equal(s->requests[0].headers[1].value, "");
    assert_string_equal(s->requests[0].headers[2].value, "a\tb");
    assert_int_equal(s->requests[1].weight, 100);
    assert_null(s->requests[2].body);
    assert_int_equal(s->requests[2].weight, 1);
    assert_int_equal(s->rate, 200);
    assert_int_equal(s->duration_s, 60);
    assert_int_equal(s->concurrency, 50);
    assert_int_equal(s->max_requests, 7);
    assert_int_equal(stress_spec_url(s, 0, url, sizeof url), 0);
    assert_string_equal(url, "https://api.example.com:8443/v1/users?x=1");
    stress_spec_free(s);
}

static void test_every_method(void **state)
{
    static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE",
                                          "OPTIONS"};
    struct config c = caps();
    (void)state;

    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        char json[256];
        struct stress_spec *s;

        snprintf(json, sizeof json,
                 "{" BASE ",\"requests\":[{\"method\":\"%s\",\"path\":\"/\"}]," LIMITS "}",
                 methods[i]);
        s = parse_ok(json, &c);
        assert_string_equal(s->requests[0].method, methods[i]);
        stress_spec_free(s);
    }
}

static void test_caps_from_config(void **state)
{
    struct config c = caps();
    struct stress_spec *s;
    (void)state;

    /* Defaults never exceed the caps. */
    c.stress_max_concurrency = 4;
    c.stress_max_requests = 30;
    s = parse_ok("{" BASE "," REQ "," LIMITS "}", &c);
    assert_int_equal(s->concurrency, 4);
    assert_int_equal(s->max_requests, 30);
    stress_spec_free(s);

    /* Each cap is the highest accepted value. */
    c = caps();
    c.stress_max_rps = 5;
    c.stress_max_duration_s = 3;
    c.stress_max_concurrency = 2;
    c.stress_max_requests = 9;
    s = parse_ok("{" BASE "," REQ ",\"rate\":5,\"duration_s\":3,\"concurrency\":2,"
                 "\"max_requests\":9}", &c);
    stress_spec_free(s);
    expect_err_cfg("{" BASE "," REQ ",\"rate\":6,\"duration_s\":3}", &c,
                   ERR_INVALID_FIELD_VALUE, "rate");
    expect_err_cfg("{" BASE "," REQ ",\"rate\":5,\"duration_s\":4}", &c,
                   ERR_INVALID_FIELD_VALUE, "duration_s");
    expect_err_cfg("{" BASE "," REQ ",\"rate\":5,\"duration_s\":3,\"concurrency\":3}", &c,
                   ERR_INVALID_FIELD_VALUE, "concurrency");
    expect_err_cfg("{" BASE "," REQ ",\"rate\":5,\"duration_s\":3,\"max_requests\":10}", &c,
                   ERR_INVALID_FIELD_VALUE, "max_requests");
}

static void test_cap_message_names_variable(void **state)
{
    struct config c = caps();
    struct stress_spec *s;
    struct err e;
    (void)state;

    assert_int_equal(parse_cfg("{" BASE "," REQ ",\"rate\":201,\"duration_s\":5}", &c, &s, &e),
                     ERR_INVALID_FIELD_VALUE);
    assert_non_null(strstr(e.msg, "between 1 and 200"));
    assert_non_null(strstr(e.msg, "CODEINSIGHT_STRESS_MAX_RPS"));
}

static void test_round_trip(void **state)
{
    struct config c = caps();
    struct stress_spec *a = parse_ok(
        "{\"base_url\":\"http://127.0.0.1:8080\",\"requests\":[{\"method\":\"PUT\","
        "\"path\":\"/a\",\"body\":\"x\\u00e9\",\"weight\":2,\"headers\":{\"X-A\":\"1\","
        "\"X-B\":\"\"}},{\"method\":\"GET\",\"path\":\"/b\"}],\"rate\":3,\"duration_s\":4}",
        &c);
    struct stress_spec *b;
    cJSON *ja = stress_spec_to_json(a), *jb;
    char *ta, *tb;
    (void)state;

    assert_non_null(ja);
    ta = cJSON_PrintUnformatted(ja);
    assert_non_null(ta);
    assert_string_equal(ta, "{\"base_url\":\"http://127.0.0.1:8080\",\"requests\":[{\"method\":"
                            "\"PUT\",\"path\":\"/a\",\"body\":\"x\xc3\xa9\","
                            "\"weight\":2,\"headers\":{\"X-A\":\"1\",\"X-B\":\"\"}},"
                            "{\"method\":\"GET\",\"path\":\"/b\",\"weight\":1}],"
                            "\"rate\":3,\"duration_s\":4}");
    b = parse_ok(ta, &c);
    /* Defaults left out, filled in again by the reader. */
    assert_int_equal(b->concurrency, 10);
    assert_int_equal(b->max_requests, 12);
    jb = stress_spec_to_json(b);
    tb = cJSON_PrintUnformatted(jb);
    assert_string_equal(ta, tb);
    cJSON_free(ta);
    cJSON_free(tb);
    cJSON_Delete(ja);
    cJSON_Delete(jb);
    stress_spec_free(a);
    stress_spec_free(b);
}

/* The gateway parses with its caps and queues the canonical form; a heavy
 * worker parses that with its own, which may be lower. What the body left
 * out is defaulted by the reader, within the reader's caps, so the worker
 * never refuses a value the client did not send; what the body gave is
 * kept, and checked against the worker's caps. */
static void test_defaults_are_the_readers(void **state)
{
    struct config gw = caps(), wk = caps();
    struct stress_spec *a, *b;
    struct err e;
    cJSON *j;
    char *t;
    (void)state;

    wk.stress_max_concurrency = 2;
    wk.stress_max_requests = 6;
    a = parse_ok("{" BASE "," REQ "," LIMITS "}", &gw);
    assert_int_equal(a->concurrency, STRESS_CONCURRENCY_DEFAULT);
    assert_int_equal(a->max_requests, 50);
    j = stress_spec_to_json(a);
    t = cJSON_PrintUnformatted(j);
    assert_non_null(t);
    assert_null(strstr(t, "concurrency"));
    assert_null(strstr(t, "max_requests"));
    b = parse_ok(t, &wk);
    assert_int_equal(b->concurrency, 2);
    assert_int_equal(b->max_requests, 6);
    stress_spec_free(b);
    /* With the gateway's own caps, the same spec as before. */
    b = parse_ok(t, &gw);
    assert_int_equal(b->concurrency, a->concurrency);
    assert_int_equal(b->max_requests, a->max_requests);
    stress_spec_free(b);
    cJSON_free(t);
    cJSON_Delete(j);
    stress_spec_free(a);

    /* Given: kept in the canonical form, refused over the worker's cap. */
    a = parse_ok("{" BASE "," REQ "," LIMITS ",\"concurrency\":5,\"max_requests\":6}", &gw);
    j = stress_spec_to_json(a);
    t = cJSON_PrintUnformatted(j);
    assert_non_null(t);
    assert_non_null(strstr(t, "\"concurrency\":5,\"max_requests\":6}"));
    b = (struct stress_spec *)1;
    assert_int_equal(parse_cfg(t, &wk, &b, &e), ERR_INVALID_FIELD_VALUE);
    assert_string_equal(e.field, "concurrency");
    assert_null(b);
    cJSON_free(t);
    cJSON_Delete(j);
    stress_spec_free(a);
}

static void test_not_an_object(void **state)
{
    (void)state;
    expect_err("[]", ERR_INVALID_JSON, "");
    expect_err("\"x\"", ERR_INVALID_JSON, "");
}

static void test_base_url(void **state)
{
    char *long_url = malloc(STRESS_URL_MAX + 64), *raw = malloc(STRESS_URL_MAX + 256);
    (void)state;

    expect_member_err("base_url", "", ERR_MISSING_FIELD, "base_url");
    expect_member_err("base_url", "\"base_url\":null", ERR_MISSING_FIELD, "base_url");
    expect_member_err("base_url", "\"base_url\":5", ERR_INVALID_FIELD_TYPE, "base_url");
    expect_member_err("base_url", "\"base_url\":\"ftp://api.example.com\"",
                      ERR_INVALID_FIELD_VALUE, "base_url");
    expect_member_err("base_url", "\"base_url\":\"api.example.com\"", ERR_INVALID_FIELD_VALUE,
                      "base_url");
    expect_member_err("base_url", "\"base_url\":\"http://u:p@api.example.com\"",
                      ERR_INVALID_FIELD_VALUE, "base_url");
    expect_member_err("base_url", "\"base_url\":\"http://api.example.com/?q=1\"",
                      ERR_INVALID_FIELD_VALUE, "base_url");
    expect_member_err("base_url", "\"base_url\":\"http://api.example.com/#f\"",
                      ERR_INVALID_FIELD_VALUE, "base_url");
    expect_member_err("base_url", "\"base_url\":\"http://a b/\"", ERR_INVALID_FIELD_VALUE,
                      "base_url");
    expect_member_err("base_url", "\"base_url\":\"http://\"", ERR_INVALID_FIELD_VALUE,
                      "base_url");
    expect_member_err("base_url", "\"base_url\":\"http://\xff.example\"", ERR_INVALID_ENCODING,
                      "base_url");

    assert_non_null(long_url);
    assert_non_null(raw);
    memcpy(long_url, "http://a.example/", 17);
    memset(long_url + 17, 'a', STRESS_URL_MAX - 17 + 1);
    long_url[STRESS_URL_MAX + 1] = '\0';
    snprintf(raw, STRESS_URL_MAX + 256, "\"base_url\":\"%s\"", long_url);
    expect_member_err("base_url", raw, ERR_FIELD_TOO_LONG, "base_url");
    long_url[STRESS_URL_MAX] = '\0';        /* exactly the limit */
    snprintf(raw, STRESS_URL_MAX + 256, "{\"base_url\":\"%s\"," REQ "," LIMITS "}", long_url);
    {
        struct config c = caps();
        stress_spec_free(parse_ok(raw, &c));
    }
    free(long_url);
    free(raw);
}

static void test_requests_array(void **state)
{
    char big[64 + 21 * 40] = "\"requests\":[";
    size_t at = strlen(big);
    (void)state;

    expect_member_err("requests", "", ERR_MISSING_FIELD, "requests");
    expect_member_err("requests", "\"requests\":{}", ERR_INVALID_FIELD_TYPE, "requests");
    expect_member_err("requests", "\"requests\":[]", ERR_INVALID_FIELD_VALUE, "requests");
    expect_member_err("requests", "\"requests\":[5]", ERR_INVALID_FIELD_TYPE, "requests[0]");
    for (int i = 0; i < STRESS_REQUESTS_MAX + 1; i++)
        at += (size_t)snprintf(big + at, sizeof big - at, "%s{\"method\":\"GET\",\"path\":\"/\"}",
                               i ? "," : "");
    snprintf(big + at, sizeof big - at, "]");
    expect_member_err("requests", big, ERR_INVALID_FIELD_VALUE, "requests");
}

/* Writes head, then n times c, then "\"}" into out (room for all of it). */
static void fill_member(char *out, const char *head, char c, size_t n)
{
    size_t h = strlen(head);

    memcpy(out, head, h);
    memset(out + h, c, n);
    memcpy(out + h + n, "\"}", 3);
}

static void test_request_members(void **state)
{
    char *body = malloc(STRESS_BODY_MAX + 128), *path = malloc(STRESS_PATH_MAX + 128);
    (void)state;

    expect_third_err("[]", ERR_INVALID_FIELD_TYPE, "requests[2]");
    expect_third_err("{\"path\":\"/\"}", ERR_MISSING_FIELD, "requests[2].method");
    expect_third_err("{\"method\":5,\"path\":\"/\"}", ERR_INVALID_FIELD_TYPE,
                     "requests[2].method");
    expect_third_err("{\"method\":\"get\",\"path\":\"/\"}", ERR_INVALID_FIELD_VALUE,
                     "requests[2].method");
    expect_third_err("{\"method\":\"CONNECT\",\"path\":\"/\"}", ERR_INVALID_FIELD_VALUE,
                     "requests[2].method");
    expect_third_err("{\"method\":\"TRACE\",\"path\":\"/\"}", ERR_INVALID_FIELD_VALUE,
                     "requests[2].method");
    expect_third_err("{\"method\":\"GETGETGETGET\",\"path\":\"/\"}", ERR_INVALID_FIELD_VALUE,
                     "requests[2].method");

    expect_third_err("{\"method\":\"GET\"}", ERR_MISSING_FIELD, "requests[2].path");
    expect_third_err("{\"method\":\"GET\",\"path\":[]}", ERR_INVALID_FIELD_TYPE,
                     "requests[2].path");
    expect_third_err("{\"method\":\"GET\",\"path\":\"x\"}", ERR_INVALID_FIELD_VALUE,
                     "requests[2].path");
    expect_third_err("{\"method\":\"GET\",\"path\":\"\"}", ERR_INVALID_FIELD_VALUE,
                     "requests[2].path");
    expect_third_err("{\"method\":\"GET\",\"path\":\"/a\\nb\"}", ERR_INVALID_FIELD_VALUE,
                     "requests[2].path");
    expect_third_err("{\"method\":\"GET\",\"path\":\"/a\\u007fb\"}", ERR_INVALID_FIELD_VALUE,
                     "requests[2].path");
    expect_third_err("{\"method\":\"GET\",\"path\":\"/a b\"}", ERR_INVALID_FIELD_VALUE,
                     "requests[2].path");
    expect_third_err("{\"method\":\"GET\",\"path\":\"/\xc3\"}", ERR_INVALID_ENCODING,
                     "requests[2].path");
    assert_non_null(path);
    fill_member(path, "{\"method\":\"GET\",\"path\":\"/", 'p', STRESS_PATH_MAX);
    expect_third_err(path, ERR_FIELD_TOO_LONG, "requests[2].path");
    free(path);

    expect_third_err("{\"method\":\"POST\",\"path\":\"/\",\"body\":{}}", ERR_INVALID_FIELD_TYPE,
                     "requests[2].body");
    expect_third_err("{\"method\":\"HEAD\",\"path\":\"/\",\"body\":\"\"}", ERR_INVALID_FIELD_VALUE,
                     "requests[2].body");
    expect_third_err("{\"method\":\"POST\",\"path\":\"/\",\"body\":\"\xff\"}", ERR_INVALID_ENCODING,
                     "requests[2].body");
    assert_non_null(body);
    fill_member(body, "{\"method\":\"POST\",\"path\":\"/\",\"body\":\"", 'b', STRESS_BODY_MAX + 1);
    expect_third_err(body, ERR_FIELD_TOO_LONG, "requests[2].body");
    free(body);

    expect_third_err("{\"method\":\"GET\",\"path\":\"/\",\"weight\":0}", ERR_INVALID_FIELD_VALUE,
                     "requests[2].weight");
    expect_third_err("{\"method\":\"GET\",\"path\":\"/\",\"weight\":101}",
                     ERR_INVALID_FIELD_VALUE, "requests[2].weight");
    expect_third_err("{\"method\":\"GET\",\"path\":\"/\",\"weight\":1.5}", ERR_INVALID_FIELD_TYPE,
                     "requests[2].weight");
    expect_third_err("{\"method\":\"GET\",\"path\":\"/\",\"weight\":\"2\"}",
                     ERR_INVALID_FIELD_TYPE, "requests[2].weight");
}

static void test_headers(void **state)
{
    char raw[4096];
    (void)state;

    expect_third_err("{\"method\":\"GET\",\"path\":\"/\",\"headers\":[]}", ERR_INVALID_FIELD_TYPE,
                     "requests[2].headers");
    expect_third_err("{\"method\":\"GET\",\"path\":\"/\",\"headers\":{\"a\":\"1\",\"b\":\"1\","
                     "\"c\":\"1\",\"d\":\"1\",\"e\":\"1\",\"f\":\"1\",\"g\":\"1\",\"h\":\"1\","
                     "\"i\":\"1\"}}", ERR_INVALID_FIELD_VALUE, "requests[2].headers");
    static const char *const refused[] = {"Host", "content-length", "Transfer-Encoding",
                                          "CONNECTION", "Upgrade"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        char field[64];

        snprintf(raw, sizeof raw, "{\"method\":\"GET\",\"path\":\"/\",\"headers\":{\"%s\":\"x\"}}",
                 refused[i]);
        snprintf(field, sizeof field, "requests[2].headers.%s", refused[i]);
        expect_third_err(raw, ERR_INVALID_FIELD_VALUE, field);
    }
    expect_third_err("{\"method\":\"GET\",\"path\":\"/\",\"headers\":{\"Bad Name\":\"x\"}}",
                     ERR_INVALID_FIELD_VALUE, "requests[2].headers");
    expect_third_err("{\"method\":\"GET\",\"path\":\"/\",\"headers\":{\"\":\"x\"}}",
                     ERR_INVALID_FIELD_VALUE, "requests[2].headers");
    expect_third_err("{\"method\":\"GET\",\"path\":\"/\",\"headers\":{\"X:Y\":\"x\"}}",
                     ERR_INVALID_FIELD_VALUE, "requests[2].headers");
    expect_third_err("{\"method\":\"GET\",\"path\":\"/\",\"headers\":"
                     "{\"X-Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":\"x\"}}",
                     ERR_INVALID_FIELD_VALUE, "requests[2].headers");
    expect_third_err("{\"method\":\"GET\",\"path\":\"/\",\"headers\":{\"X-A\":5}}",
                     ERR_INVALID_FIELD_TYPE, "requests[2].headers.X-A");
    expect_third_err("{\"method\":\"GET\",\"path\":\"/\",\"headers\":{\"X-A\":\"a\\r\\nHost: b\"}}",
                     ERR_INVALID_FIELD_VALUE, "requests[2].headers.X-A");
    expect_third_err("{\"method\":\"GET\",\"path\":\"/\",\"headers\":{\"X-A\":\"\xfe\"}}",
                     ERR_INVALID_ENCODING, "requests[2].headers.X-A");
    {
        char value[STRESS_HEADER_VALUE_MAX + 2];

        memset(value, 'v', sizeof value - 1);
        value[sizeof value - 1] = '\0';
        snprintf(raw, sizeof raw,
                 "{\"method\":\"GET\",\"path\":\"/\",\"headers\":{\"X-Long\":\"%s\"}}", value);
        expect_third_err(raw, ERR_FIELD_TOO_LONG, "requests[2].headers.X-Long");
    }
    /* A 40-byte name fits the field exactly. */
    expect_third_err("{\"method\":\"GET\",\"path\":\"/\",\"headers\":"
                     "{\"X-Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":5}}",
                     ERR_INVALID_FIELD_TYPE,
                     "requests[2].headers.X-Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
}

static void test_limits(void **state)
{
    (void)state;

    expect_member_err("rate", "", ERR_MISSING_FIELD, "rate");
    expect_member_err("rate", "\"rate\":0", ERR_INVALID_FIELD_VALUE, "rate");
    expect_member_err("rate", "\"rate\":-3", ERR_INVALID_FIELD_VALUE, "rate");
    expect_member_err("rate", "\"rate\":201", ERR_INVALID_FIELD_VALUE, "rate");
    expect_member_err("rate", "\"rate\":1e300", ERR_INVALID_FIELD_VALUE, "rate");
    expect_member_err("rate", "\"rate\":\"10\"", ERR_INVALID_FIELD_TYPE, "rate");
    expect_member_err("rate", "\"rate\":2.5", ERR_INVALID_FIELD_TYPE, "rate");
    expect_member_err("duration_s", "", ERR_MISSING_FIELD, "duration_s");
    expect_member_err("duration_s", "\"duration_s\":0", ERR_INVALID_FIELD_VALUE, "duration_s");
    expect_member_err("duration_s", "\"duration_s\":61", ERR_INVALID_FIELD_VALUE, "duration_s");
    expect_member_err("duration_s", "\"duration_s\":true", ERR_INVALID_FIELD_TYPE, "duration_s");
    expect_member_err("concurrency", "\"concurrency\":0", ERR_INVALID_FIELD_VALUE, "concurrency");
    expect_member_err("concurrency", "\"concurrency\":51", ERR_INVALID_FIELD_VALUE,
                      "concurrency");
    expect_member_err("concurrency", "\"concurrency\":[1]", ERR_INVALID_FIELD_TYPE,
                      "concurrency");
    expect_member_err("max_requests", "\"max_requests\":0", ERR_INVALID_FIELD_VALUE,
                      "max_requests");
    expect_member_err("max_requests", "\"max_requests\":10001", ERR_INVALID_FIELD_VALUE,
                      "max_requests");
    expect_member_err("max_requests", "\"max_requests\":1.25", ERR_INVALID_FIELD_TYPE,
                      "max_requests");
}

static void test_null_err_allowed(void **state)
{
    struct config c = caps();
    struct stress_spec *s;
    cJSON *doc = cJSON_Parse("{}");
    (void)state;

    assert_int_equal(stress_spec_parse(doc, &c, &s, NULL), ERR_MISSING_FIELD);
    assert_null(s);
    cJSON_Delete(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_defaults),
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_every_method),
        cmocka_unit_test(test_caps_from_config),
        cmocka_unit_test(test_cap_message_names_variable),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_defaults_are_the_readers),
        cmocka_unit_test(test_not_an_object),
        cmocka_unit_test(test_base_url),
        cmocka_unit_test(test_requests_array),
        cmocka_unit_test(test_request_members),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_null_err_allowed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
