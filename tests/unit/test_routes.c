/* test_routes.c - unit tests for routes_find() in gateway/routes.c. The
 * handlers are only compared by address, never called. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/handlers.h"
#include "gateway/routes.h"

#define PARAM_CAP 64

struct found {
    enum route_match m;
    const struct route *route;
    char param[PARAM_CAP];
    char allow[64];
};

static enum route_match find(const char *method, const char *path, struct found *f)
{
    memset(f, 0, sizeof *f);
    memset(f->allow, '#', sizeof f->allow - 1);
    f->m = routes_find(method, path, &f->route, f->param, sizeof f->param, f->allow,
                       sizeof f->allow);
    return f->m;
}

static void test_post_review(void **state)
{
    struct found f;
    (void)state;

    assert_int_equal(find("POST", "/review", &f), ROUTE_MATCHED);
    assert_non_null(f.route);
    assert_ptr_equal(f.route->handler, handle_review);
    assert_string_equal(f.route->method, "POST");
    assert_true(f.route->flags & ROUTE_BODY);
}

static void test_get_job(void **state)
{
    struct found f;
    (void)state;

    assert_int_equal(find("GET", "/job/abc", &f), ROUTE_MATCHED);
    assert_ptr_equal(f.route->handler, handle_job_get);
    assert_string_equal(f.param, "abc");
    assert_false(f.route->flags & ROUTE_BODY);

    assert_int_equal(find("GET", "/job/01890a5d-ac96-774b-bcce-b302099a8057", &f),
                     ROUTE_MATCHED);
    assert_string_equal(f.param, "01890a5d-ac96-774b-bcce-b302099a8057");

    /* Cancelling it: the same parameter and job-read gate; it stores a row. */
    assert_int_equal(find("DELETE", "/job/abc", &f), ROUTE_MATCHED);
    assert_ptr_equal(f.route->handler, handle_job_cancel);
    assert_string_equal(f.param, "abc");
    assert_true(f.route->flags & ROUTE_JOB);
    assert_true(f.route->flags & ROUTE_WAITS);
    assert_false(f.route->flags & (ROUTE_BODY | ROUTE_VIEW));

    /* The job's event stream: same parameter, same job-read gate. */
    assert_int_equal(find("GET", "/job/abc/events", &f), ROUTE_MATCHED);
    assert_ptr_equal(f.route->handler, handle_job_events);
    assert_string_equal(f.param, "abc");
    assert_true(f.route->flags & ROUTE_JOB);
    assert_int_equal(find("POST", "/job/abc/events", &f), ROUTE_WRONG_METHOD);
    assert_int_equal(find("GET", "/job/abc/events/x", &f), ROUTE_NO_PATH);
}

static void test_apply_fix_and_audit(void **state)
{
    struct found f;
    (void)state;

    assert_int_equal(find("POST", "/apply-fix", &f), ROUTE_MATCHED);
    assert_ptr_equal(f.route->handler, handle_apply_fix);
    assert_true(f.route->flags & ROUTE_BODY);
    assert_int_equal(f.route->auth, AUTH_GATED);
    assert_int_equal(f.route->rclass, RC_AUTH);
    assert_int_equal(find("GET", "/apply-fix", &f), ROUTE_WRONG_METHOD);
    assert_string_equal(f.allow, "POST");

    assert_int_equal(find("GET", "/audit", &f), ROUTE_MATCHED);
    assert_ptr_equal(f.route->handler, handle_audit_list);
    assert_int_equal(f.route->auth, AUTH_GATED);
    assert_int_equal(f.route->rclass, RC_READ);
    assert_int_equal(find("GET", "/audit/x", &f), ROUTE_NO_PATH);
}

/* Figures over every user are for operators; the queue's numbers (what an
 * autoscaler reads) stay open to any caller (docs/operations.md). */
static void test_system_wide_routes(void **state)
{
    struct found f;
    (void)state;

    assert_int_equal(find("GET", "/stats", &f), ROUTE_MATCHED);
    assert_ptr_equal(f.route->handler, handle_stats);
    assert_int_equal(f.route->auth, AUTH_OPERATOR);
    assert_int_equal(f.route->rclass, RC_READ);
    assert_int_equal(find("HEAD", "/stats", &f), ROUTE_MATCHED);
    assert_int_equal(f.route->auth, AUTH_OPERATOR);
    assert_int_equal(find("GET", "/queue/info", &f), ROUTE_MATCHED);
    assert_ptr_equal(f.route->handler, handle_queue_info);
    assert_int_equal(f.route->auth, AUTH_GATED);
    assert_int_equal(find("GET", "/metrics", &f), ROUTE_MATCHED);
    assert_int_equal(f.route->auth, AUTH_PUBLIC);
}

static void test_probes(void **state)
{
    struct found f;
    (void)state;

    assert_int_equal(find("GET", "/healthz", &f), ROUTE_MATCHED);
    assert_ptr_equal(f.route->handler, handle_healthz);
    assert_true(f.route->flags & ROUTE_QUIET);
    assert_int_equal(find("GET", "/readyz", &f), ROUTE_MATCHED);
    assert_ptr_equal(f.route->handler, handle_readyz);
}

static void test_wrong_method(void **state)
{
    struct found f;
    (void)state;

    assert_int_equal(find("GET", "/review", &f), ROUTE_WRONG_METHOD);
    assert_string_equal(f.allow, "POST");
    assert_int_equal(find("PUT", "/review", &f), ROUTE_WRONG_METHOD);
    assert_string_equal(f.allow, "POST");
    assert_int_equal(find("PUT", "/job/x", &f), ROUTE_WRONG_METHOD);
    assert_string_equal(f.allow, "GET, HEAD, DELETE");
    assert_int_equal(find("POST", "/healthz", &f), ROUTE_WRONG_METHOD);
    assert_string_equal(f.allow, "GET, HEAD");
    assert_int_equal(find("PUT", "/keys", &f), ROUTE_WRONG_METHOD);
    assert_string_equal(f.allow, "POST, GET, HEAD");
    /* HEAD is GET's route (the server leaves the body out); no other. */
    assert_int_equal(find("HEAD", "/healthz", &f), ROUTE_MATCHED);
    assert_ptr_equal(f.route->handler, handle_healthz);
    assert_int_equal(find("HEAD", "/job/abc", &f), ROUTE_MATCHED);
    assert_ptr_equal(f.route->handler, handle_job_get);
    assert_int_equal(find("HEAD", "/review", &f), ROUTE_WRONG_METHOD);
    assert_string_equal(f.allow, "POST");
    /* Methods are case-sensitive (RFC 9110). */
    assert_int_equal(find("post", "/review", &f), ROUTE_WRONG_METHOD);
    assert_string_equal(f.allow, "POST");
}

static void test_no_path(void **state)
{
    static const char *const paths[] = {
        "/job/",  "/job",   "/job/a/b", "/job/a/", "/nope", "/reviewx", "/review/",
        "/revie", "",       "/",        "review",  "//review", "/REVIEW", "/job//x",
    };
    struct found f;
    (void)state;

    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        assert_int_equal(find("GET", paths[i], &f), ROUTE_NO_PATH);
        assert_int_equal(find("POST", paths[i], &f), ROUTE_NO_PATH);
    }
}

/* A ":param" segment longer than cap - 1 bytes never matches. */
static void test_param_cap(void **state)
{
    char path[PARAM_CAP + 16];
    struct found f;
    (void)state;

    memcpy(path, "/job/", 5);
    memset(path + 5, 'a', PARAM_CAP - 1);
    path[5 + PARAM_CAP - 1] = '\0';
    assert_int_equal(find("GET", path, &f), ROUTE_MATCHED);
    assert_int_equal(strlen(f.param), PARAM_CAP - 1);

    path[5 + PARAM_CAP - 1] = 'a';
    path[5 + PARAM_CAP] = '\0';
    assert_int_equal(find("GET", path, &f), ROUTE_NO_PATH);
    assert_int_equal(find("DELETE", path, &f), ROUTE_NO_PATH);
}

/* A small param buffer is never overrun (heap, so ASan would see it). */
static void test_small_param_buffer(void **state)
{
    const struct route *r = NULL;
    char *param = malloc(4);
    char allow[32];
    (void)state;

    assert_non_null(param);
    assert_int_equal(routes_find("GET", "/job/abc", &r, param, 4, allow, sizeof allow),
                     ROUTE_MATCHED);
    assert_string_equal(param, "abc");
    assert_int_equal(routes_find("GET", "/job/abcd", &r, param, 4, allow, sizeof allow),
                     ROUTE_NO_PATH);
    free(param);
}

/* A small allow buffer is never overrun. */
static void test_small_allow_buffer(void **state)
{
    const struct route *r = NULL;
    char param[PARAM_CAP];
    char *allow = malloc(3);
    (void)state;

    assert_non_null(allow);
    assert_int_equal(routes_find("GET", "/review", &r, param, sizeof param, allow, 3),
                     ROUTE_WRONG_METHOD);
    assert_string_equal(allow, "PO");
    free(allow);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_post_review),
        cmocka_unit_test(test_get_job),
        cmocka_unit_test(test_apply_fix_and_audit),
        cmocka_unit_test(test_system_wide_routes),
        cmocka_unit_test(test_probes),
        cmocka_unit_test(test_wrong_method),
        cmocka_unit_test(test_no_path),
        cmocka_unit_test(test_param_cap),
        cmocka_unit_test(test_small_param_buffer),
        cmocka_unit_test(test_small_allow_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
