/* test_history_doc.c - unit tests for worker/history_doc.c: how a finished
 * job's document maps to the MongoDB history documents, without a server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/crypto.h"
#include "worker/history_doc.h"

static const char *const job_doc =
    "{\"job_id\":\"0190a0c0-0000-7000-8000-000000000001\",\"type\":\"review\","
    "\"status\":\"done\",\"created_at\":\"2026-11-22T10:14:08.725Z\","
    "\"started_at\":\"2026-11-22T10:14:09.000Z\",\"finished_at\":\"2026-11-22T10:14:10.500Z\","
    "\"file_path\":\"src/a.py\",\"file_sha256\":\"" /* sha256 of "x\n" */
    "2c55fb4c5f1e6fe9b1e1c8b8e5e0c6c1f0f8c7b6a5d4e3f2a1b0c9d8e7f6a5b4\","
    "\"repo_id\":\"org/repo\",\"language\":\"python\",\"summary\":\"2 findings.\","
    "\"attempts\":1,\"usage\":{\"input_tokens\":1941,\"cost_usd\":0.0125},"
    "\"cached\":false,\"error\":null,"
    "\"findings\":[{\"id\":\"f1\",\"line\":3,\"severity\":\"major\",\"message\":\"m\"},"
    "{\"id\":\"f2\",\"line\":9,\"severity\":\"info\",\"message\":\"n\"}],"
    "\"job_files\":[{\"path\":\"src/a.py\",\"content\":\"SECRET=1\\n\"}]}";

static bson_iter_t find(const bson_t *b, const char *dotted)
{
    bson_iter_t it, found;

    assert_true(bson_iter_init(&it, b));
    if (!bson_iter_find_descendant(&it, dotted, &found))
        fail_msg("no %s in the document", dotted);
    return found;
}

static void test_job_document(void **state)
{
    cJSON *doc = cJSON_Parse(job_doc);
    bson_t b = BSON_INITIALIZER;
    bson_iter_t it;
    (void)state;

    assert_int_equal(history_job(doc, &b), 0);
    it = find(&b, "_id");
    assert_string_equal(bson_iter_utf8(&it, NULL), "0190a0c0-0000-7000-8000-000000000001");
    /* Times are dates, to the millisecond. */
    it = find(&b, "created_at");
    assert_int_equal(bson_iter_type(&it), BSON_TYPE_DATE_TIME);
    assert_int_equal(bson_iter_date_time(&it), 1795342448725);
    it = find(&b, "finished_at");
    assert_int_equal(bson_iter_date_time(&it), 1795342450500);
    /* Integers are int64; the rest keep their kind. */
    it = find(&b, "usage.input_tokens");
    assert_int_equal(bson_iter_type(&it), BSON_TYPE_INT64);
    assert_int_equal(bson_iter_int64(&it), 1941);
    it = find(&b, "usage.cost_usd");
    assert_int_equal(bson_iter_type(&it), BSON_TYPE_DOUBLE);
    it = find(&b, "findings.1.line");
    assert_int_equal(bson_iter_int64(&it), 9);
    it = find(&b, "findings.0.id");
    assert_string_equal(bson_iter_utf8(&it, NULL), "f1");
    it = find(&b, "cached");
    assert_int_equal(bson_iter_type(&it), BSON_TYPE_BOOL);
    it = find(&b, "error");
    assert_int_equal(bson_iter_type(&it), BSON_TYPE_NULL);
    /* The submitted code never goes to the history. */
    assert_true(bson_iter_init(&it, &b));
    assert_false(bson_iter_find(&it, "job_files"));
    assert_true(bson_iter_init(&it, &b));
    assert_false(bson_iter_find(&it, "job_id"));  /* it is _id */
    bson_destroy(&b);
    cJSON_Delete(doc);
}

static void test_job_needs_an_id_and_keeps_odd_times(void **state)
{
    cJSON *doc = cJSON_Parse("{\"type\":\"review\"}");
    cJSON *odd = cJSON_Parse("{\"job_id\":\"j\",\"created_at\":\"yesterday\","
                             "\"started_at\":null}");
    bson_t b = BSON_INITIALIZER;
    bson_iter_t it;
    (void)state;

    assert_int_equal(history_job(doc, &b), -1);
    assert_int_equal(history_job(NULL, &b), -1);
    bson_reinit(&b);
    assert_int_equal(history_job(odd, &b), 0);
    it = find(&b, "created_at");
    assert_string_equal(bson_iter_utf8(&it, NULL), "yesterday");
    it = find(&b, "started_at");
    assert_int_equal(bson_iter_type(&it), BSON_TYPE_NULL);
    bson_destroy(&b);
    cJSON_Delete(doc);
    cJSON_Delete(odd);
}

static void test_deep_nesting_is_cut(void **state)
{
    char text[4 * HISTORY_DEPTH_MAX + 64];
    size_t n = 0;
    cJSON *doc;
    bson_t b = BSON_INITIALIZER;
    bson_iter_t it;
    (void)state;

    n += (size_t)snprintf(text + n, sizeof text - n, "{\"job_id\":\"j\",\"x\":");
    for (int i = 0; i < HISTORY_DEPTH_MAX + 5; i++)
        text[n++] = '[';
    for (int i = 0; i < HISTORY_DEPTH_MAX + 5; i++)
        text[n++] = ']';
    text[n++] = '}';
    text[n] = '\0';
    doc = cJSON_Parse(text);
    assert_non_null(doc);
    assert_int_equal(history_job(doc, &b), 0);
    assert_true(bson_validate(&b, BSON_VALIDATE_NONE, NULL));
    assert_true(bson_iter_init(&it, &b));
    assert_true(bson_iter_find(&it, "x"));
    bson_destroy(&b);
    cJSON_Delete(doc);
}

static void test_snapshot(void **state)
{
    cJSON *doc = cJSON_Parse(job_doc);
    bson_t sel = BSON_INITIALIZER, upd = BSON_INITIALIZER;
    bson_iter_t it;
    char want[65];
    const char *key = "8:org/repo|8:src/a.py|"
                      "2c55fb4c5f1e6fe9b1e1c8b8e5e0c6c1f0f8c7b6a5d4e3f2a1b0c9d8e7f6a5b4";
    (void)state;

    assert_int_equal(history_snapshot(doc, &sel, &upd), 1);
    crypto_sha256_hex(key, strlen(key), want);
    it = find(&sel, "_id");
    assert_string_equal(bson_iter_utf8(&it, NULL), want);
    it = find(&upd, "$set.findings");
    assert_int_equal(bson_iter_int64(&it), 2);
    it = find(&upd, "$set.severities.major");
    assert_int_equal(bson_iter_int64(&it), 1);
    it = find(&upd, "$set.severities.critical");
    assert_int_equal(bson_iter_int64(&it), 0);
    it = find(&upd, "$set.reviewed_at");
    assert_int_equal(bson_iter_date_time(&it), 1795342450500);
    it = find(&upd, "$min.first_reviewed_at");
    assert_int_equal(bson_iter_date_time(&it), 1795342450500);
    it = find(&upd, "$set.job_id");
    assert_string_equal(bson_iter_utf8(&it, NULL), "0190a0c0-0000-7000-8000-000000000001");
    it = find(&upd, "$set.repo_id");
    assert_string_equal(bson_iter_utf8(&it, NULL), "org/repo");
    bson_destroy(&sel);
    bson_destroy(&upd);
    cJSON_Delete(doc);
}

static void test_no_snapshot_without_a_reviewed_file(void **state)
{
    static const char *const docs[] = {
        "{\"type\":\"review\",\"status\":\"failed\",\"file_path\":\"a.py\",\"file_sha256\":\"ab\"}",
        "{\"type\":\"review\",\"status\":\"done\",\"file_sha256\":\"ab\"}",
        "{\"type\":\"review\",\"status\":\"done\",\"file_path\":\"a.py\"}",
        "{\"type\":\"debug\",\"status\":\"done\",\"file_path\":\"a.py\",\"file_sha256\":\"ab\"}",
        "{\"status\":\"done\",\"file_path\":\"a.py\",\"file_sha256\":\"ab\"}",
    };
    (void)state;

    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        cJSON *doc = cJSON_Parse(docs[i]);
        bson_t sel = BSON_INITIALIZER, upd = BSON_INITIALIZER;
        assert_int_equal(history_snapshot(doc, &sel, &upd), 0);
        bson_destroy(&sel);
        bson_destroy(&upd);
        cJSON_Delete(doc);
    }
}

static void test_snapshot_keys_do_not_collide(void **state)
{
    /* "a|b" + "c" and "a" + "b|c": the same text joined, two files. */
    cJSON *d1 = cJSON_Parse("{\"type\":\"review\",\"status\":\"done\",\"repo_id\":\"a|b\","
                            "\"file_path\":\"c\","
                            "\"file_sha256\":\"s\"}");
    cJSON *d2 = cJSON_Parse("{\"type\":\"review\",\"status\":\"done\",\"repo_id\":\"a\","
                            "\"file_path\":\"b|c\","
                            "\"file_sha256\":\"s\"}");
    bson_t s1 = BSON_INITIALIZER, s2 = BSON_INITIALIZER, u1 = BSON_INITIALIZER,
           u2 = BSON_INITIALIZER;
    bson_iter_t i1, i2;
    (void)state;

    assert_int_equal(history_snapshot(d1, &s1, &u1), 1);
    assert_int_equal(history_snapshot(d2, &s2, &u2), 1);
    i1 = find(&s1, "_id");
    i2 = find(&s2, "_id");
    assert_string_not_equal(bson_iter_utf8(&i1, NULL), bson_iter_utf8(&i2, NULL));
    bson_destroy(&s1);
    bson_destroy(&u1);
    bson_destroy(&s2);
    bson_destroy(&u2);
    cJSON_Delete(d1);
    cJSON_Delete(d2);
}

/* No repository: repo_id is null, not missing. */
static void test_snapshot_without_repo(void **state)
{
    cJSON *doc = cJSON_Parse("{\"type\":\"review\",\"status\":\"done\",\"file_path\":\"a.py\","
                             "\"file_sha256\":\"s\","
                             "\"finished_at\":\"2026-11-22T10:14:10.500Z\"}");
    bson_t sel = BSON_INITIALIZER, upd = BSON_INITIALIZER;
    bson_iter_t it;
    (void)state;

    assert_int_equal(history_snapshot(doc, &sel, &upd), 1);
    it = find(&upd, "$set.repo_id");
    assert_int_equal(bson_iter_type(&it), BSON_TYPE_NULL);
    it = find(&upd, "$set.findings");
    assert_int_equal(bson_iter_int64(&it), 0);
    bson_destroy(&sel);
    bson_destroy(&upd);
    cJSON_Delete(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_job_document),
        cmocka_unit_test(test_job_needs_an_id_and_keeps_odd_times),
        cmocka_unit_test(test_deep_nesting_is_cut),
        cmocka_unit_test(test_snapshot),
        cmocka_unit_test(test_no_snapshot_without_a_reviewed_file),
        cmocka_unit_test(test_snapshot_keys_do_not_collide),
        cmocka_unit_test(test_snapshot_without_repo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
