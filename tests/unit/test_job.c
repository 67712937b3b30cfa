/* test_job.c - unit tests for common/job.c (model helpers; no Redis). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/job.h"

#define JOB_ID "01890a5d-ac96-774b-bcce-b302099a8057"

/* The members of the public view, in order. */
static const char *const view_keys[] = {
    "job_id",     "type",     "status", "created_at", "started_at", "finished_at",
    "attempts",   "file_path", "language", "repo_id", "request_id", "pool",
    "worker",     "user_id",  "findings", "summary", "notes",     "linters",
    "error",      "throttled", "degraded", "degraded_reason", "deferred_until",
};
#define VIEW_KEYS (sizeof view_keys / sizeof view_keys[0])

/* A flat HGETALL-style array from n alternating field, value strings. */
static cJSON *flat_of(const char *const *kv, size_t n)
{
    cJSON *a = cJSON_CreateArray();

    assert_non_null(a);
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(kv[i]));
    return a;
}

#define FLAT(...)                                                                  \
    flat_of((const char *const[]){__VA_ARGS__},                                    \
            sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

/* Asserts the view has exactly the documented members, each once. */
static void assert_view_keys(const cJSON *view)
{
    const cJSON *m;
    size_t n = 0;

    assert_true(cJSON_IsObject(view));
    cJSON_ArrayForEach(m, view) {
        size_t k;
        for (k = 0; k < VIEW_KEYS; k++)
            if (strcmp(m->string, view_keys[k]) == 0)
                break;
        assert_true(k < VIEW_KEYS);
        n++;
    }
    assert_int_equal(n, VIEW_KEYS);
    for (size_t k = 0; k < VIEW_KEYS; k++)
        assert_non_null(cJSON_GetObjectItemCaseSensitive(view, view_keys[k]));
}

static int is_null(const cJSON *view, const char *name)
{
    return cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(view, name));
}

static void test_type_roundtrip(void **state)
{
    static const enum job_type types[] = {JOB_REVIEW, JOB_DEBUG, JOB_ARCHITECTURE};
    (void)state;

    for (size_t i = 0; i < 3; i++)
        assert_int_equal(job_type_parse(job_type_str(types[i])), types[i]);
    assert_string_equal(job_type_str(JOB_REVIEW), "review");
    assert_string_equal(job_type_str(JOB_DEBUG), "debug");
    assert_string_equal(job_type_str(JOB_ARCHITECTURE), "architecture");
}

static void test_type_unknown(void **state)
{
    static const char *const bad[] = {"", "Review", "REVIEW", "review ", " debug", "arch",
                                      "reviews", "lint"};
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(job_type_parse(bad[i]), -1);
}

static void test_stream_for(void **state)
{
    (void)state;
    assert_string_equal(job_stream_for(JOB_REVIEW), JOB_STREAM_FAST);
    assert_string_equal(job_stream_for(JOB_DEBUG), JOB_STREAM_HEAVY);
    assert_string_equal(job_stream_for(JOB_ARCHITECTURE), JOB_STREAM_HEAVY);
    assert_string_equal(JOB_STREAM_FAST, "review_jobs");
    assert_string_equal(JOB_STREAM_HEAVY, "review_jobs:heavy");
}

static void test_key(void **state)
{
    char *key = malloc(JOB_KEY_MAX);   /* heap: ASan sees an overrun */
    (void)state;

    assert_non_null(key);
    job_key(JOB_ID, key);
    assert_string_equal(key, "job:" JOB_ID);
    /* A longer id is cut to fit, never overflowing. */
    job_key(JOB_ID "-and-more", key);
    assert_string_equal(key, "job:" JOB_ID);
    free(key);
}

/* The parked jobs' keys, as job_defer.lua, job_undefer.lua and
 * job_cancel.lua know them. */
static void test_deferred_keys(void **state)
{
    char *out = malloc(JOB_DEFERRED_KEY_MAX);   /* heap: ASan sees an overrun */
    (void)state;

    assert_non_null(out);
    job_deferred_set_key(JOB_STREAM_HEAVY, out);
    assert_string_equal(out, "deferred:review_jobs:heavy");
    job_deferred_hold_key(JOB_ID, out);
    assert_string_equal(out, "deferred:job:" JOB_ID);
    free(out);
}

/* A draft names the stream by its variant nibble and is a UUIDv7. */
static void test_id_draft(void **state)
{
    char id[37];
    (void)state;

    assert_ptr_equal(job_id_draft(JOB_REVIEW, id), id);
    assert_int_equal(strlen(id), 36);
    assert_int_equal(id[14], '7');
    assert_int_equal(id[19], JOB_ID_STREAM_FAST);
    job_id_draft(JOB_DEBUG, id);
    assert_int_equal(id[19], JOB_ID_STREAM_HEAVY);
    job_id_draft(JOB_STRESS, id);
    assert_int_equal(id[19], JOB_ID_STREAM_HEAVY);
}

/* A copy's id is a UUIDv7 of now that names no entry: reading it never
 * looks at a stream (a random entry of the same millisecond could be
 * another job's). */
static void test_id_copy(void **state)
{
    char id[37], eid[JOB_ENTRY_ID_MAX];
    const char *stream;
    int64_t before = clock_now_ms(), at;
    (void)state;

    assert_ptr_equal(job_id_copy(id), id);
    at = crypto_uuid7_ms(id);
    assert_true(crypto_uuid_valid(id));
    assert_int_equal(id[14], '7');
    assert_int_equal(id[19], JOB_ID_COPY);
    assert_true(at >= before && at <= clock_now_ms());
    assert_int_equal(job_entry_of(id, &stream, eid), -1);
    assert_int_equal(job_read_keys(id, (char[JOB_KEY_MAX]){0}, &stream, eid), 1);
}

/* An entry's format: none or one not later than this release's is
 * readable, a later one is left for a newer worker, anything but a small
 * decimal is malformed. */
static void test_entry_format(void **state)
{
    static const char *const malformed[] = {"", "x", "2.x", "-1", "+1", " 1", "1 ",
                                            "1234567890", "0x2"};
    (void)state;

    assert_int_equal(job_entry_format_known(NULL), 1);
    assert_int_equal(job_entry_format_known(JOB_ENTRY_FORMAT), 1);
    assert_int_equal(job_entry_format_known("0"), 1);
    assert_int_equal(job_entry_format_known("01"), 1);
    assert_int_equal(job_entry_format_known("2"), 0);
    assert_int_equal(job_entry_format_known("999999999"), 0);
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++)
        assert_int_equal(job_entry_format_known(malformed[i]), -1);
}

/* The id of an entry, as admit.lua writes it, and back. */
static void test_id_of_entry_roundtrip(void **state)
{
    static const struct {
        const char *stream, *eid, *id;
    } cases[] = {
        {JOB_STREAM_FAST, "1732000000123-5", "0193433e-a87b-7012-8000-0053456789ab"},
        {JOB_STREAM_HEAVY, "1732000000123-16777214", "0193433e-a87b-7012-9fff-ffe3456789ab"},
        {JOB_STREAM_FAST, "0-0", "00000000-0000-7012-8000-0003456789ab"},
        {JOB_STREAM_FAST, "281474976710655-4096", "ffffffff-ffff-7012-8001-0003456789ab"},
    };
    char id[37], eid[JOB_ENTRY_ID_MAX];
    const char *stream;
    (void)state;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(job_id_of_entry(cases[i].stream, cases[i].eid, "0123456789ab", id), 0);
        assert_string_equal(id, cases[i].id);
        assert_int_equal(job_entry_of(id, &stream, eid), 0);
        assert_string_equal(stream, cases[i].stream);
        assert_string_equal(eid, cases[i].eid);
    }
}

/* Ids of one stream and millisecond fraction sort as its entries: by
 * time, then sequence number, whatever the random bits. */
static void test_id_order(void **state)
{
    static const char *const eids[] = {"1732000000123-0", "1732000000123-1",
                                       "1732000000123-4095", "1732000000123-4096",
                                       "1732000000124-0", "1732000065536-0"};
    char prev[37] = "", id[37];
    (void)state;

    for (size_t i = 0; i < sizeof eids / sizeof eids[0]; i++) {
        assert_int_equal(job_id_of_entry(JOB_STREAM_FAST, eids[i], "abcfffffffff", id), 0);
        assert_true(strcmp(prev, id) < 0);
        /* the random bits do not decide the order */
        assert_int_equal(job_id_of_entry(JOB_STREAM_FAST, eids[i], "abc000000000", prev), 0);
        assert_true(strcmp(prev, id) < 0);
    }
}

/* Within a millisecond the fraction orders ids, across the two streams. */
static void test_id_order_fraction(void **state)
{
    char a[37], b[37];
    (void)state;

    assert_int_equal(job_id_of_entry(JOB_STREAM_HEAVY, "1732000000123-7", "001fffffffff", a), 0);
    assert_int_equal(job_id_of_entry(JOB_STREAM_FAST, "1732000000123-0", "002000000000", b), 0);
    assert_true(strcmp(a, b) < 0);
}

static void test_id_of_entry_refuses(void **state)
{
    static const char *const bad_eids[] = {"", "1", "1-", "-1", "1-2x", "x-1", "1--1",
                                           "1-16777216", "281474976710656-0",
                                           "99999999999999999999999-0"};
    static const char *const bad_rands[] = {"", "0123456789a", "0123456789abc", "0123456789ag"};
    char id[37] = "unchanged";
    (void)state;

    for (size_t i = 0; i < sizeof bad_eids / sizeof bad_eids[0]; i++)
        assert_int_equal(job_id_of_entry(JOB_STREAM_FAST, bad_eids[i], "0123456789ab", id), -1);
    for (size_t i = 0; i < sizeof bad_rands / sizeof bad_rands[0]; i++)
        assert_int_equal(job_id_of_entry(JOB_STREAM_FAST, "1-1", bad_rands[i], id), -1);
    assert_int_equal(job_id_of_entry(JOB_STREAM_FAST, "1-1", NULL, id), -1);
    assert_int_equal(job_id_of_entry("review_jobs:other", "1-1", "0123456789ab", id), -1);
    assert_string_equal(id, "unchanged");
}

/* Ids that name no entry: malformed, another version, another variant. */
static void test_entry_of_refuses(void **state)
{
    static const char *const ids[] = {"", "not-a-uuid", "0193433e-a87b-7000-8005-0123456789a",
                                      "0193433e-a87b-6000-8005-0123456789ab",
                                      "0193433e-a87b-7000-a005-0123456789ab",
                                      "0193433e-a87b-7000-c005-0123456789ab",
                                      "0193433e+a87b-7000-8005-0123456789ab"};
    char eid[JOB_ENTRY_ID_MAX];
    const char *stream;
    (void)state;

    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        assert_int_equal(job_entry_of(ids[i], &stream, eid), -1);
}

static void test_view_full(void **state)
{
    cJSON *flat = FLAT("type", "review", "status", "done", "created_at",
                       "2026-01-01T00:00:00.000Z", "attempts", "2", "file_path", "src/a.py",
                       "result",
                       "{\"findings\":[{\"line\":1}],\"summary\":\"s\",\"notes\":[\"n\"],"
                       "\"linters\":[]}");
    cJSON *view = job_view_from_hash(JOB_ID, flat);
    const cJSON *findings, *notes, *linters;
    (void)state;

    assert_non_null(view);
    assert_view_keys(view);
    assert_string_equal(json_str(view, "job_id"), JOB_ID);
    assert_string_equal(json_str(view, "type"), "review");
    assert_string_equal(json_str(view, "status"), "done");
    assert_string_equal(json_str(view, "created_at"), "2026-01-01T00:00:00.000Z");
    assert_string_equal(json_str(view, "file_path"), "src/a.py");
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(view, "attempts")));
    assert_int_equal(cJSON_GetObjectItem(view, "attempts")->valuedouble, 2);
    assert_true(is_null(view, "started_at"));
    assert_true(is_null(view, "finished_at"));
    assert_true(is_null(view, "language"));
    assert_true(is_null(view, "repo_id"));
    assert_true(is_null(view, "request_id"));
    assert_true(is_null(view, "pool"));
    assert_true(is_null(view, "worker"));
    assert_true(is_null(view, "error"));

    findings = cJSON_GetObjectItem(view, "findings");
    assert_true(cJSON_IsArray(findings));
    assert_int_equal(cJSON_GetArraySize(findings), 1);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(findings, 0), "line")->valuedouble,
                     1);
    assert_string_equal(json_str(view, "summary"), "s");
    notes = cJSON_GetObjectItem(view, "notes");
    assert_int_equal(cJSON_GetArraySize(notes), 1);
    assert_string_equal(cJSON_GetArrayItem(notes, 0)->valuestring, "n");
    linters = cJSON_GetObjectItem(view, "linters");
    assert_true(cJSON_IsArray(linters));
    assert_int_equal(cJSON_GetArraySize(linters), 0);

    cJSON_Delete(view);
    cJSON_Delete(flat);
}

/* Meta: the small fields as one JSON member; escapes, absent values and
 * bytes that are not UTF-8 round-trip into valid JSON. */
static void test_meta_roundtrip(void **state)
{
    static const char *const names[] = {"type", "file_path", "repo_id", "filter"};
    const char *values[] = {"review", "dir/\"q\"\\a\nb\x01.py", NULL, "bad\xff"};
    char *meta = job_meta_encode(names, values, 4);
    cJSON *o = cJSON_CreateObject(), *parsed;
    (void)state;

    assert_non_null(meta);
    parsed = cJSON_Parse(meta);
    assert_true(cJSON_IsObject(parsed));
    assert_int_equal(cJSON_GetArraySize(parsed), 3);       /* repo_id absent */
    cJSON_Delete(parsed);
    cJSON_AddStringToObject(o, "type", "old");
    cJSON_AddStringToObject(o, "user_id", "u1");
    assert_int_equal(job_meta_expand(o, meta), 0);
    assert_string_equal(json_str(o, "type"), "review");    /* replaced */
    assert_string_equal(json_str(o, "file_path"), "dir/\"q\"\\a\nb\x01.py");
    assert_string_equal(json_str(o, "filter"), "bad\xef\xbf\xbd");
    assert_string_equal(json_str(o, "user_id"), "u1");
    assert_null(json_item(o, "repo_id"));
    assert_int_equal(cJSON_GetArraySize(o), 4);
    free(meta);

    meta = job_meta_encode(names, (const char *const[]){NULL, NULL, NULL, NULL}, 4);
    assert_string_equal(meta, "{}");
    free(meta);
    /* Not an object: refused, nothing added. */
    assert_int_equal(job_meta_expand(o, "[\"type\",\"x\"]"), -1);
    assert_int_equal(job_meta_expand(o, "{\"type\":"), -1);
    assert_int_equal(cJSON_GetArraySize(o), 4);
    /* Members that are not strings are skipped. */
    assert_int_equal(job_meta_expand(o, "{\"n\":1,\"x\":\"y\"}"), 0);
    assert_null(json_item(o, "n"));
    assert_string_equal(json_str(o, "x"), "y");
    cJSON_Delete(o);
}

/* A hash whose small fields sit in meta shows them; a field of its own
 * (the worker's canonical language) wins over meta's. */
static void test_view_from_meta(void **state)
{
    cJSON *flat = FLAT("status", "running", "attempts", "1", "user_id", "u1", "language", "python",
                       "meta", "{\"type\":\"review\",\"created_at\":\"2026-11-22T00:00:00.000Z\","
                       "\"file_path\":\"a.py\",\"language\":\"py\",\"repo_id\":\"r\","
                       "\"request_id\":\"q\",\"filter\":\"added\"}");
    cJSON *view = job_view_from_hash(JOB_ID, flat);
    (void)state;

    assert_non_null(view);
    assert_view_keys(view);
    assert_string_equal(json_str(view, "type"), "review");
    assert_string_equal(json_str(view, "created_at"), "2026-11-22T00:00:00.000Z");
    assert_string_equal(json_str(view, "file_path"), "a.py");
    assert_string_equal(json_str(view, "language"), "python");
    assert_string_equal(json_str(view, "repo_id"), "r");
    assert_string_equal(json_str(view, "request_id"), "q");
    assert_string_equal(json_str(view, "user_id"), "u1");
    cJSON_Delete(view);
    cJSON_Delete(flat);

    /* A meta that does not parse gives no type: no view. */
    flat = FLAT("status", "queued", "meta", "{\"type\":");
    assert_null(job_view_from_hash(JOB_ID, flat));
    cJSON_Delete(flat);
}

static void test_view_minimal(void **state)
{
    cJSON *flat = FLAT("status", "queued", "type", "debug");
    cJSON *view = job_view_from_hash(JOB_ID, flat);
    (void)state;

    assert_non_null(view);
    assert_view_keys(view);
    assert_string_equal(json_str(view, "type"), "debug");
    assert_string_equal(json_str(view, "status"), "queued");
    assert_int_equal(cJSON_GetObjectItem(view, "attempts")->valuedouble, 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(view, "findings")), 0);
    assert_true(cJSON_IsArray(cJSON_GetObjectItem(view, "notes")));
    assert_true(cJSON_IsArray(cJSON_GetObjectItem(view, "linters")));
    assert_true(is_null(view, "summary"));
    assert_true(is_null(view, "created_at"));
    cJSON_Delete(view);
    cJSON_Delete(flat);
}

static void test_view_error_and_empty_strings(void **state)
{
    cJSON *flat = FLAT("type", "review", "status", "failed", "error", "linter crashed",
                       "language", "", "pool", "fast", "worker", "w-1");
    cJSON *view = job_view_from_hash(JOB_ID, flat);
    (void)state;

    assert_non_null(view);
    assert_view_keys(view);
    assert_string_equal(json_str(view, "error"), "linter crashed");
    assert_string_equal(json_str(view, "pool"), "fast");
    assert_string_equal(json_str(view, "worker"), "w-1");
    assert_true(is_null(view, "language"));     /* "" reads as absent */
    cJSON_Delete(view);
    cJSON_Delete(flat);
}

/* A cancelled job is final; a running one its owner asked to cancel
 * says so, and is not. */
static void test_view_cancelled(void **state)
{
    cJSON *flat = FLAT("type", "review", "status", "running", "cancel_requested", "1");
    cJSON *view = job_view_from_hash(JOB_ID, flat);
    (void)state;

    assert_non_null(view);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(view, "cancel_requested")));
    assert_false(job_view_finished(view));
    cJSON_Delete(view);
    cJSON_Delete(flat);

    flat = FLAT("type", "review", "status", "cancelled", "error", JOB_CANCELLED_ERROR);
    view = job_view_from_hash(JOB_ID, flat);
    assert_non_null(view);
    assert_view_keys(view);     /* no cancel_requested unless asked while it ran */
    assert_true(job_view_finished(view));
    assert_string_equal(json_str(view, "error"), JOB_CANCELLED_ERROR);
    cJSON_Delete(view);
    cJSON_Delete(flat);

    flat = FLAT("type", "review", "status", "done");
    view = job_view_from_hash(JOB_ID, flat);
    assert_true(job_view_finished(view));
    cJSON_Delete(view);
    cJSON_Delete(flat);
    flat = FLAT("type", "review", "status", "queued");
    view = job_view_from_hash(JOB_ID, flat);
    assert_false(job_view_finished(view));
    cJSON_Delete(view);
    cJSON_Delete(flat);
}

static void test_view_absent(void **state)
{
    cJSON *flat;
    (void)state;

    flat = cJSON_CreateArray();
    assert_null(job_view_from_hash(JOB_ID, flat));
    cJSON_Delete(flat);

    flat = FLAT("type", "review", "created_at", "2026-01-01T00:00:00.000Z");
    assert_null(job_view_from_hash(JOB_ID, flat));
    cJSON_Delete(flat);

    flat = FLAT("status", "queued");
    assert_null(job_view_from_hash(JOB_ID, flat));
    cJSON_Delete(flat);

    /* A field name with no value (odd length) does not count. */
    flat = FLAT("type", "review", "status");
    assert_null(job_view_from_hash(JOB_ID, flat));
    cJSON_Delete(flat);

    /* Values that are not strings (nil) do not count either. */
    flat = FLAT("type", "review", "status");
    cJSON_AddItemToArray(flat, cJSON_CreateNull());
    assert_null(job_view_from_hash(JOB_ID, flat));
    cJSON_Delete(flat);

    assert_null(job_view_from_hash(JOB_ID, NULL));
}

static void test_view_corrupt_result(void **state)
{
    static const char *const results[] = {
        "{\"findings\":[", "not json", "", "[1,2]", "null", "{\"summary\":",
    };
    (void)state;

    for (size_t i = 0; i < sizeof results / sizeof results[0]; i++) {
        cJSON *flat = FLAT("type", "review", "status", "done", "result", results[i]);
        cJSON *view = job_view_from_hash(JOB_ID, flat);

        assert_non_null(view);
        assert_view_keys(view);
        assert_true(cJSON_IsArray(cJSON_GetObjectItem(view, "findings")));
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(view, "findings")), 0);
        assert_true(is_null(view, "summary"));
        assert_true(cJSON_IsArray(cJSON_GetObjectItem(view, "notes")));
        assert_true(cJSON_IsArray(cJSON_GetObjectItem(view, "linters")));
        cJSON_Delete(view);
        cJSON_Delete(flat);
    }
}

/* The view owns its members: it outlives the hash it was built from. */
static void test_view_independent_of_hash(void **state)
{
    cJSON *flat = FLAT("type", "architecture", "status", "running", "started_at", "t1",
                       "result", "{\"findings\":[{\"line\":3}]}");
    cJSON *view = job_view_from_hash(JOB_ID, flat);
    char *text;
    (void)state;

    assert_non_null(view);
    cJSON_Delete(flat);
    text = cJSON_PrintUnformatted(view);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"type\":\"architecture\""));
    assert_non_null(strstr(text, "\"started_at\":\"t1\""));
    assert_non_null(strstr(text, "\"findings\":[{\"line\":3}]"));
    free(text);
    cJSON_Delete(view);
}

/* An entry's flat fields: meta members spread out, later duplicates win,
 * non-string pairs and an odd last name skipped, a meta that is no object
 * kept as a plain field. */
static void test_entry_object(void **state)
{
    cJSON *fields = cJSON_Parse("[\"type\",\"review\",\"" JOB_META_FIELD "\","
                                "\"{\\\"file_path\\\":\\\"a.py\\\"}\",\"n\",1,"
                                "\"type\",\"debug\",\"dangling\"]");
    cJSON *o, *bad;

    (void)state;
    assert_non_null(fields);
    o = job_entry_object(fields);
    assert_non_null(o);
    assert_string_equal(json_str(o, "type"), "debug");
    assert_string_equal(json_str(o, "file_path"), "a.py");
    assert_null(cJSON_GetObjectItemCaseSensitive(o, "n"));
    assert_null(cJSON_GetObjectItemCaseSensitive(o, "dangling"));
    assert_null(cJSON_GetObjectItemCaseSensitive(o, JOB_META_FIELD));
    cJSON_Delete(o);
    cJSON_Delete(fields);

    bad = cJSON_Parse("[\"" JOB_META_FIELD "\",\"not json\"]");
    o = job_entry_object(bad);
    assert_string_equal(json_str(o, JOB_META_FIELD), "not json");
    cJSON_Delete(o);
    cJSON_Delete(bad);
    o = job_entry_object(NULL);
    assert_non_null(o);
    assert_null(o->child);
    cJSON_Delete(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_roundtrip),
        cmocka_unit_test(test_entry_object),
        cmocka_unit_test(test_type_unknown),
        cmocka_unit_test(test_stream_for),
        cmocka_unit_test(test_key),
        cmocka_unit_test(test_deferred_keys),
        cmocka_unit_test(test_id_draft),
        cmocka_unit_test(test_id_copy),
        cmocka_unit_test(test_entry_format),
        cmocka_unit_test(test_id_of_entry_roundtrip),
        cmocka_unit_test(test_id_order),
        cmocka_unit_test(test_id_order_fraction),
        cmocka_unit_test(test_id_of_entry_refuses),
        cmocka_unit_test(test_entry_of_refuses),
        cmocka_unit_test(test_view_full),
        cmocka_unit_test(test_view_minimal),
        cmocka_unit_test(test_view_error_and_empty_strings),
        cmocka_unit_test(test_view_cancelled),
        cmocka_unit_test(test_view_absent),
        cmocka_unit_test(test_view_corrupt_result),
        cmocka_unit_test(test_view_independent_of_hash),
        cmocka_unit_test(test_meta_roundtrip),
        cmocka_unit_test(test_view_from_meta),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
