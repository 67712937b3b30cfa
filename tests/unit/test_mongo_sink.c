/* test_mongo_sink.c - unit tests for worker/mongo_sink.c: configuration
 * checks, and a sink whose MongoDB is unreachable (a closed loopback port)
 * gives up, counts and never blocks its caller. With CODEINSIGHT_MONGO_URL
 * set, a round trip through a real server; skipped without one (there is
 * no MongoDB server package for these machines). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <mongoc/mongoc.h>

#include "common/clock.h"
#include "common/config.h"
#include "common/err.h"
#include "common/metrics.h"
#include "common/metrics_table.h"
#include "worker/mongo_sink.h"

#include "tests/unit/loopback_peer.h"

/* Nothing listens there: connecting is refused at once. */
#define CLOSED_URL "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200"

static const char *const doc_fmt =
    "{\"job_id\":\"%s\",\"type\":\"review\",\"status\":\"done\","
    "\"finished_at\":\"2026-11-22T10:14:10.500Z\",\"file_path\":\"a.py\","
    "\"file_sha256\":\"abc\",\"repo_id\":\"r\",\"summary\":\"s\","
    "\"findings\":[{\"line\":1,\"severity\":\"minor\"}],"
    "\"job_files\":[{\"path\":\"a.py\",\"content\":\"x\"}]}";

static int setup(void **state)
{
    struct err e;
    (void)state;
    return metrics_table_init(CFG_WORKER, &e) == ERR_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    metrics_cleanup();
    return 0;
}

/* The value of codeinsight_history_writes_total{outcome="<outcome>"}. */
static long writes(const char *outcome)
{
    char *text = metrics_render(), want[96];
    const char *p;
    long v = 0;

    assert_non_null(text);
    snprintf(want, sizeof want, "codeinsight_history_writes_total{outcome=\"%s\"} ", outcome);
    if ((p = strstr(text, want)) != NULL)
        v = strtol(p + strlen(want), NULL, 10);
    free(text);
    return v;
}

static void test_config_refused(void **state)
{
    static const char *const bad_urls[] = {
        "http://127.0.0.1:27017/", "mongodb://", "mongodb://u:hunter2secret@/x",
        "mongodb://h:notaport/",
    };
    static const char *const bad_dbs[] = {"", "a.b", "a/b", "a b", "a$b",
                                          "0123456789012345678901234567890123456789"
                                          "012345678901234567890123"};
    struct err e;
    (void)state;

    for (size_t i = 0; i < sizeof bad_urls / sizeof bad_urls[0]; i++) {
        memset(&e, 0, sizeof e);
        assert_null(mongo_sink_new(bad_urls[i], "codeinsight", &e));
        assert_int_equal(e.code, ERR_CONFIG);
        assert_non_null(strstr(e.msg, "CODEINSIGHT_MONGO_URL"));
        assert_null(strstr(e.msg, "hunter2secret"));
    }
    for (size_t i = 0; i < sizeof bad_dbs / sizeof bad_dbs[0]; i++) {
        memset(&e, 0, sizeof e);
        assert_int_equal(mongo_sink_db_check(bad_dbs[i], &e), ERR_CONFIG);
        assert_null(mongo_sink_new(CLOSED_URL, bad_dbs[i], &e));
        assert_non_null(strstr(e.msg, "CODEINSIGHT_MONGO_DB"));
    }
    assert_int_equal(mongo_sink_db_check("codeinsight_history-1", &e), ERR_OK);
}

static void test_unreachable_gives_up_without_blocking(void **state)
{
    struct err e;
    struct mongo_sink *s = mongo_sink_new(CLOSED_URL, "codeinsight", &e);
    char doc[1024];
    long failed0 = writes("failed"), written0 = writes("written");
    int64_t t0;
    (void)state;

    assert_non_null(s);
    snprintf(doc, sizeof doc, doc_fmt, "j1");
    t0 = clock_mono_ms();
    assert_int_equal(mongo_sink_put(s, doc, strlen(doc)), 0);
    /* Handing over never waits on MongoDB (a generous bound: it is a copy). */
    assert_true(clock_mono_ms() - t0 < 1000);
    /* Four attempts, 0.5, 1 and 2 s apart, then given up. */
    for (int i = 0; i < 200 && writes("failed") == failed0; i++)
        usleep(50 * 1000);
    assert_int_equal(writes("failed"), failed0 + 1);
    assert_int_equal(writes("written"), written0);
    mongo_sink_free(s);
}

static void test_full_queue_drops_and_stop_drops_the_rest(void **state)
{
    struct err e;
    struct mongo_sink *s = mongo_sink_new(CLOSED_URL, "codeinsight", &e);
    char doc[1024];
    long dropped0 = writes("dropped"), failed0 = writes("failed");
    int refused = 0, n = MONGO_SINK_QUEUE_MAX + 50;
    (void)state;

    assert_non_null(s);
    snprintf(doc, sizeof doc, doc_fmt, "j2");
    for (int i = 0; i < n; i++)
        refused += mongo_sink_put(s, doc, strlen(doc)) != 0;
    /* The writer holds one, retrying; the queue holds MONGO_SINK_QUEUE_MAX. */
    assert_true(refused >= n - MONGO_SINK_QUEUE_MAX - 1);
    assert_int_equal(writes("dropped"), dropped0 + refused);
    /* Stopping gives the queue MONGO_SINK_DRAIN_MS, then drops the rest:
     * every document is counted once, one way or another. */
    mongo_sink_free(s);
    assert_int_equal(writes("dropped") - dropped0 + writes("failed") - failed0, n);
}

/* A server that accepts the connection and never answers holds a write as
 * long as the connection string lets it (20 s here): stopping does not
 * wait for it past the drain (MONGO_SINK_DRAIN_MS + MONGO_SINK_STOP_SLACK_MS),
 * says so (-1), and leaves the sink alone. Once the server goes, the
 * writer gives up and returns, and stopping again frees the sink (0). */
static void test_stop_does_not_wait_for_a_hung_write(void **state)
{
    struct loopback_peer p;
    struct err e;
    struct mongo_sink *s;
    char url[160], doc[1024];
    long failed0 = writes("failed");
    int64_t t0;
    (void)state;

    loopback_peer_start(&p);
    snprintf(url, sizeof url, "mongodb://127.0.0.1:%d/?connectTimeoutMS=20000&"
             "serverSelectionTimeoutMS=20000&socketTimeoutMS=20000", p.port);
    s = mongo_sink_new(url, "codeinsight", &e);
    assert_non_null(s);
    snprintf(doc, sizeof doc, doc_fmt, "j3");
    assert_int_equal(mongo_sink_put(s, doc, strlen(doc)), 0);
    /* The writer connected and asked (its hello), and waits for a reply. */
    for (int i = 0; i < 200 && !loopback_peer_take(&p); i++)
        usleep(25 * 1000);
    assert_true(loopback_peer_take(&p));
    t0 = clock_mono_ms();
    assert_int_equal(mongo_sink_free(s), -1);
    /* Not the write's 20 s: the drain and its slack (a generous bound). */
    assert_true(clock_mono_ms() - t0 < MONGO_SINK_DRAIN_MS + MONGO_SINK_STOP_SLACK_MS + 4000);
    loopback_peer_stop(&p);
    assert_int_equal(mongo_sink_free(s), 0);
    assert_int_equal(writes("failed"), failed0 + 1);
}

static void test_round_trip_with_a_server(void **state)
{
    const char *url = getenv("CODEINSIGHT_MONGO_URL");
    char db[64], doc[1024];
    struct err e;
    struct mongo_sink *s;
    mongoc_client_t *c;
    mongoc_collection_t *coll;
    mongoc_cursor_t *cur;
    const bson_t *got;
    bson_t q = BSON_INITIALIZER;
    bson_iter_t it;
    (void)state;

    if (url == NULL || url[0] == '\0') {
        print_message("skipped: CODEINSIGHT_MONGO_URL is not set, and no MongoDB server can "
                      "be installed on this machine\n");
        skip();
    }
    snprintf(db, sizeof db, "codeinsight_test_%ld", (long)getpid());
    s = mongo_sink_new(url, db, &e);
    assert_non_null(s);
    snprintf(doc, sizeof doc, doc_fmt, "j3");
    assert_int_equal(mongo_sink_put(s, doc, strlen(doc)), 0);
    assert_int_equal(mongo_sink_put(s, doc, strlen(doc)), 0);   /* redelivered: replaced */
    mongo_sink_free(s);                                         /* drains */

    c = mongoc_client_new(url);
    assert_non_null(c);
    coll = mongoc_client_get_collection(c, db, "jobs");
    assert_int_equal(mongoc_collection_count_documents(coll, &q, NULL, NULL, NULL, NULL), 1);
    BSON_APPEND_UTF8(&q, "_id", "j3");
    cur = mongoc_collection_find_with_opts(coll, &q, NULL, NULL);
    assert_true(mongoc_cursor_next(cur, &got));
    assert_true(bson_iter_init_find(&it, got, "finished_at"));
    assert_int_equal(bson_iter_date_time(&it), 1795342450500);
    assert_false(bson_iter_init_find(&it, got, "job_files"));
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(coll);
    coll = mongoc_client_get_collection(c, db, "file_snapshots");
    bson_reinit(&q);
    assert_int_equal(mongoc_collection_count_documents(coll, &q, NULL, NULL, NULL, NULL), 1);
    mongoc_collection_destroy(coll);
    {
        mongoc_database_t *d = mongoc_client_get_database(c, db);
        mongoc_database_drop(d, NULL);
        mongoc_database_destroy(d);
    }
    bson_destroy(&q);
    mongoc_client_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_refused),
        cmocka_unit_test(test_unreachable_gives_up_without_blocking),
        cmocka_unit_test(test_full_queue_drops_and_stop_drops_the_rest),
        cmocka_unit_test(test_stop_does_not_wait_for_a_hung_write),
        cmocka_unit_test(test_round_trip_with_a_server),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
