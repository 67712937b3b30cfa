/* test_subs.c - unit tests for gateway/subs.c: the registry of event
 * streams, with fake connections (suspend/resume only counted). */
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
#include "common/metrics.h"
#include "common/metrics_table.h"
#include "gateway/subs.h"

#define JOB_A "01a1ffe2-7fe5-7599-8590-d46d328f5668"
#define JOB_B "01a1ffe2-7fe5-7599-8590-d46d328f5669"
#define USER "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"

struct fake_conn {
    int suspended;      /* suspend calls minus resume calls */
    int resumes;
};

static void fake_suspend(void *conn)
{
    ((struct fake_conn *)conn)->suspended++;
}

static void fake_resume(void *conn)
{
    struct fake_conn *c = conn;
    /* resume only ever follows a suspend */
    assert_int_equal(c->suspended, 1);
    c->suspended--;
    c->resumes++;
}

/* Everything readable now, NUL-terminated (static buffer). */
static const char *drain(struct sub *s, ssize_t *last)
{
    static char out[8192];
    size_t used = 0;
    ssize_t n;

    while ((n = sub_read(s, out + used, sizeof out - 1 - used)) > 0)
        used += (size_t)n;
    out[used] = '\0';
    *last = n;
    return out;
}

static void frame(char *buf, size_t cap, uint64_t ms, const char *type)
{
    snprintf(buf, cap, "id: %llu-0\nevent: %s\ndata: {}\n\n", (unsigned long long)ms, type);
}

/* Returns what subs_publish returns: the streams the event was queued to. */
static int publish(struct subs *subs, const char *job, uint64_t ms, const char *type)
{
    char f[128];
    struct sse_id id = {ms, 0};

    frame(f, sizeof f, ms, type);
    return subs_publish(subs, job, &id, f, strlen(f), sse_type_final(type));
}

static int history(struct sub *s, uint64_t ms, const char *type)
{
    char f[128];
    struct sse_id id = {ms, 0};

    frame(f, sizeof f, ms, type);
    return subs_history(s, &id, f, strlen(f), sse_type_final(type));
}

static int resync_event(struct subs *subs, const char *job, uint64_t ms, const char *type)
{
    char f[128];
    struct sse_id id = {ms, 0};

    frame(f, sizeof f, ms, type);
    return subs_resync_event(subs, job, &id, f, strlen(f), sse_type_final(type));
}

/* codeinsight_sse_events_total as rendered now; 0 before the series'
 * first use creates it. */
static double sse_events_total(void)
{
    static const char name[] = "\ncodeinsight_sse_events_total ";
    char *text = metrics_render(), *at, *end;
    double v = 0;

    assert_non_null(text);
    if ((at = strstr(text, name)) != NULL) {
        v = strtod(at + strlen(name), &end);
        assert_true(end != at + strlen(name));
    }
    free(text);
    return v;
}

static struct sub *add(struct subs *subs, const char *job, const char *user, uint64_t after,
                       struct fake_conn *c, enum subs_refusal *why)
{
    static const char pre[] = "retry: 1\n\n";
    const char *p[1] = {pre};
    size_t pl[1] = {sizeof pre - 1};
    struct sse_id a = {after, 0};

    return subs_add(subs, job, user, &a, c, p, pl, 1, why);
}

static void test_history_then_live_no_gap_no_duplicate(void **state)
{
    struct subs *subs = subs_new(10, 10, fake_suspend, fake_resume);
    struct fake_conn c = {0, 0};
    enum subs_refusal why;
    struct sub *s;
    ssize_t last;
    (void)state;

    s = add(subs, JOB_A, USER, 0, &c, &why);
    assert_non_null(s);
    /* Live events while the history is being read: parked, not queued. */
    assert_int_equal(publish(subs, JOB_A, 20, "linted"), 0);
    assert_int_equal(publish(subs, JOB_A, 30, "model_called"), 0);
    assert_int_equal(history(s, 10, "running"), 1);
    assert_int_equal(history(s, 20, "linted"), 1);  /* also in the history: sent once */
    assert_int_equal(subs_synced(s), 1);            /* 30 only */
    assert_string_equal(drain(s, &last),
                        "retry: 1\n\n"
                        "id: 10-0\nevent: running\ndata: {}\n\n"
                        "id: 20-0\nevent: linted\ndata: {}\n\n"
                        "id: 30-0\nevent: model_called\ndata: {}\n\n");
    /* Nothing queued: the connection is suspended until the next event. */
    assert_int_equal(last, 0);
    assert_int_equal(c.suspended, 1);
    assert_int_equal(publish(subs, JOB_A, 30, "model_called"), 0);  /* a repeat: skipped */
    assert_int_equal(c.suspended, 1);
    assert_int_equal(publish(subs, JOB_B, 35, "running"), 0);       /* another job's */
    assert_int_equal(c.suspended, 1);
    assert_int_equal(publish(subs, JOB_A, 40, "done"), 1);
    assert_int_equal(c.suspended, 0);
    assert_int_equal(c.resumes, 1);
    assert_string_equal(drain(s, &last), "id: 40-0\nevent: done\ndata: {}\n\n");
    /* After the final event the stream ends instead of waiting. */
    assert_int_equal(last, -1);
    assert_true(sub_final(s));
    assert_int_equal(subs_count(subs), 1);
    sub_release(s);
    assert_int_equal(subs_count(subs), 0);
    subs_free(subs);
}

static void test_resume_from_last_id(void **state)
{
    struct subs *subs = subs_new(10, 10, fake_suspend, fake_resume);
    struct fake_conn c = {0, 0}, c2 = {0, 0};
    enum subs_refusal why;
    struct sub *s;
    ssize_t last;
    (void)state;

    s = add(subs, JOB_A, USER, 20, &c, &why);
    assert_int_equal(history(s, 10, "running"), 0);
    assert_int_equal(history(s, 20, "linted"), 0);
    assert_int_equal(history(s, 30, "done"), 1);
    assert_int_equal(history(s, 40, "running"), 0);     /* nothing after the final event */
    assert_int_equal(subs_synced(s), 0);
    assert_string_equal(drain(s, &last), "retry: 1\n\nid: 30-0\nevent: done\ndata: {}\n\n");
    assert_int_equal(last, -1);
    sub_release(s);

    /* A Last-Event-ID after every event: nothing sent, but the final event
     * still ends the stream (it used to wait for ever). */
    s = add(subs, JOB_B, USER, 1000, &c2, &why);
    assert_int_equal(history(s, 10, "running"), 0);
    assert_int_equal(subs_synced(s), 0);
    assert_string_equal(drain(s, &last), "retry: 1\n\n");
    assert_int_equal(last, 0);
    assert_false(sub_final(s));
    assert_int_equal(publish(subs, JOB_B, 20, "linted"), 0);
    assert_int_equal(c2.suspended, 1);
    assert_int_equal(publish(subs, JOB_B, 30, "done"), 0);     /* ends it, unsent */
    assert_int_equal(c2.suspended, 0);
    assert_string_equal(drain(s, &last), "");
    assert_int_equal(last, -1);
    assert_true(sub_final(s));
    sub_release(s);
    subs_free(subs);
}

static void test_caps(void **state)
{
    struct subs *subs = subs_new(3, 2, fake_suspend, fake_resume);
    struct fake_conn c[4] = {{0, 0}};
    enum subs_refusal why;
    struct sub *s[3];
    (void)state;

    s[0] = add(subs, JOB_A, USER, 0, &c[0], &why);
    s[1] = add(subs, JOB_B, USER, 0, &c[1], &why);
    assert_non_null(s[0]);
    assert_non_null(s[1]);
    assert_null(add(subs, JOB_A, USER, 0, &c[2], &why));
    assert_int_equal(why, SUBS_USER_FULL);
    s[2] = add(subs, JOB_A, "another-user", 0, &c[2], &why);
    assert_non_null(s[2]);
    assert_null(add(subs, JOB_A, "a-third-user", 0, &c[3], &why));
    assert_int_equal(why, SUBS_FULL);
    sub_release(s[0]);
    /* A released stream frees its user's slot and the process'. */
    s[0] = add(subs, JOB_A, USER, 0, &c[0], &why);
    assert_non_null(s[0]);
    for (int i = 0; i < 3; i++)
        sub_release(s[i]);
    assert_int_equal(subs_count(subs), 0);
    subs_free(subs);
}

static void test_heartbeat_and_close_all(void **state)
{
    struct subs *subs = subs_new(10, 10, fake_suspend, fake_resume);
    struct fake_conn c = {0, 0}, d = {0, 0};
    enum subs_refusal why;
    struct sub *s, *t;
    ssize_t last;
    (void)state;

    s = add(subs, JOB_A, USER, 0, &c, &why);
    t = add(subs, JOB_B, USER, 0, &d, &why);
    subs_synced(s);
    /* t is still syncing: no heartbeat for it. */
    drain(s, &last);
    assert_int_equal(c.suspended, 1);
    assert_int_equal(subs_heartbeat(subs), 1);
    assert_int_equal(c.suspended, 0);
    assert_string_equal(drain(s, &last), SSE_HEARTBEAT);
    assert_int_equal(last, 0);
    subs_close_all(subs);
    assert_int_equal(c.suspended, 0);
    assert_int_equal(drain(s, &last)[0], '\0');
    assert_int_equal(last, -1);
    assert_null(add(subs, JOB_A, USER, 0, &c, &why));
    assert_int_equal(why, SUBS_CLOSING);
    sub_release(s);
    sub_release(t);
    subs_free(subs);
}

static void test_resync_after_reconnection(void **state)
{
    struct subs *subs = subs_new(10, 10, fake_suspend, fake_resume);
    struct fake_conn c[3] = {{0, 0}};
    enum subs_refusal why;
    struct sub *s[3];
    char jobs[4][40];
    struct sse_id from[4];
    ssize_t last;
    char f[128];
    struct sse_id id;
    int n;
    (void)state;

    s[0] = add(subs, JOB_A, USER, 10, &c[0], &why);
    s[1] = add(subs, JOB_B, USER, 0, &c[1], &why);
    s[2] = add(subs, JOB_A, USER, 20, &c[2], &why);
    for (int i = 0; i < 3; i++) {
        subs_synced(s[i]);
        drain(s[i], &last);
    }
    n = subs_resync_begin(subs, jobs, from, 4);
    assert_int_equal(n, 2);
    for (int i = 0; i < n; i++) {
        if (strcmp(jobs[i], JOB_A) == 0)
            assert_true(from[i].ms == 10);     /* the earliest of A's streams */
        else
            assert_true(strcmp(jobs[i], JOB_B) == 0 && from[i].ms == 0);
    }
    /* A live event during the catch-up waits for it. */
    assert_int_equal(publish(subs, JOB_A, 40, "model_called"), 0);
    assert_int_equal(drain(s[0], &last)[0], '\0');
    /* 20 is queued to s[0] only (s[2] has it), 30 to both. */
    for (uint64_t ms = 20; ms <= 30; ms += 10) {
        id.ms = ms;
        id.seq = 0;
        frame(f, sizeof f, ms, ms == 20 ? "running" : "linted");
        assert_int_equal(subs_resync_event(subs, JOB_A, &id, f, strlen(f), 0), ms == 20 ? 1 : 2);
    }
    assert_int_equal(subs_resync_end(subs, JOB_A), 2);     /* 40, to each stream */
    assert_string_equal(drain(s[0], &last),
                        "id: 20-0\nevent: running\ndata: {}\n\n"
                        "id: 30-0\nevent: linted\ndata: {}\n\n"
                        "id: 40-0\nevent: model_called\ndata: {}\n\n");
    assert_string_equal(drain(s[2], &last),
                        "id: 30-0\nevent: linted\ndata: {}\n\n"
                        "id: 40-0\nevent: model_called\ndata: {}\n\n");
    assert_int_equal(subs_resync_end(subs, JOB_B), 0);
    for (int i = 0; i < 3; i++)
        sub_release(s[i]);
    subs_free(subs);
}

static void test_slow_client_ends(void **state)
{
    struct subs *subs = subs_new(10, 10, fake_suspend, fake_resume);
    struct fake_conn c = {0, 0};
    enum subs_refusal why;
    struct sub *s;
    size_t size = SUBS_PENDING_MAX / 3 + 64;
    char *big = malloc(size + 1);
    struct sse_id id = {1, 0};
    ssize_t last;
    size_t total = 0;
    (void)state;

    assert_non_null(big);
    memset(big, 'x', size);
    big[size] = '\0';
    s = add(subs, JOB_A, USER, 0, &c, &why);
    subs_synced(s);
    /* Three frames of more than a third of the limit: the third does not fit. */
    for (int i = 0; i < 3; i++, id.ms++)
        assert_int_equal(subs_publish(subs, JOB_A, &id, big, strlen(big), 0), i < 2);
    for (;;) {
        static char buf[4096];
        ssize_t n = sub_read(s, buf, sizeof buf);
        if (n <= 0) {
            last = n;
            break;
        }
        total += (size_t)n;
    }
    /* Whole frames only, then the end (the client resumes elsewhere). */
    assert_int_equal(total, strlen("retry: 1\n\n") + 2 * strlen(big));
    assert_int_equal(last, -1);
    sub_release(s);
    subs_free(subs);
    free(big);
}

/* codeinsight_sse_events_total grows by the events really queued, each
 * once per stream, wherever they come from (history, live, parked, resync);
 * skipped, parked and refused ones do not count. */
static void test_events_counted_once_queued(void **state)
{
    struct subs *subs = subs_new(10, 10, fake_suspend, fake_resume);
    struct fake_conn c[3] = {{0, 0}};
    enum subs_refusal why;
    struct sub *s[3];
    char jobs[4][40];
    struct sse_id from[4];
    struct err e;
    ssize_t last;
    (void)state;

    assert_int_equal(metrics_table_init(CFG_GATEWAY, &e), ERR_OK);
    assert_true(sse_events_total() == 0);
    s[0] = add(subs, JOB_A, USER, 0, &c[0], &why);
    s[1] = add(subs, JOB_A, USER, 1000, &c[1], &why);   /* has every event */
    publish(subs, JOB_A, 20, "linted");                 /* parked by both */
    history(s[0], 10, "running");
    history(s[0], 20, "linted");
    history(s[1], 10, "running");
    assert_true(sse_events_total() == 2);
    subs_synced(s[0]);                                  /* 20 again: dropped */
    subs_synced(s[1]);                                  /* 20 is before 1000 */
    assert_true(sse_events_total() == 2);
    publish(subs, JOB_A, 30, "model_called");           /* s[0] only */
    assert_true(sse_events_total() == 3);
    /* A catch-up: 40 from the stream, 50 live (parked, then queued). */
    s[2] = add(subs, JOB_B, USER, 0, &c[2], &why);      /* syncing: not resynced */
    assert_int_equal(subs_resync_begin(subs, jobs, from, 4), 2);
    publish(subs, JOB_A, 50, "done");
    assert_true(sse_events_total() == 3);
    resync_event(subs, JOB_A, 30, "model_called");      /* s[0] has it */
    resync_event(subs, JOB_A, 40, "linted");
    assert_true(sse_events_total() == 4);
    subs_resync_end(subs, JOB_A);
    subs_resync_end(subs, JOB_B);
    assert_true(sse_events_total() == 5);
    /* Ended streams are offered events, never sent them. */
    publish(subs, JOB_A, 60, "running");
    assert_true(sse_events_total() == 5);
    assert_string_equal(drain(s[0], &last),
                        "retry: 1\n\n"
                        "id: 10-0\nevent: running\ndata: {}\n\n"
                        "id: 20-0\nevent: linted\ndata: {}\n\n"
                        "id: 30-0\nevent: model_called\ndata: {}\n\n"
                        "id: 40-0\nevent: linted\ndata: {}\n\n"
                        "id: 50-0\nevent: done\ndata: {}\n\n");
    assert_string_equal(drain(s[1], &last), "retry: 1\n\n");
    assert_int_equal(last, -1);
    for (int i = 0; i < 3; i++)
        sub_release(s[i]);
    subs_free(subs);
    metrics_cleanup();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_history_then_live_no_gap_no_duplicate),
        cmocka_unit_test(test_resume_from_last_id),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_heartbeat_and_close_all),
        cmocka_unit_test(test_resync_after_reconnection),
        cmocka_unit_test(test_slow_client_ends),
        cmocka_unit_test(test_events_counted_once_queued),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
