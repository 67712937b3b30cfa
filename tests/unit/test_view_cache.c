/* test_view_cache.c - unit tests for gateway/view_cache.c: hits and misses,
 * owners, expiry, replacement, the byte budget and the entry limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/view_cache.h"

#define JOB_A "01a200c4-0000-7000-8000-00000000000a"
#define JOB_B "01a200c4-0000-7000-8000-00000000000b"
#define USER  "11111111-2222-4333-8444-555555555555"
#define NOW   1000000

/* Keeps text as id's view with its tag, as the gateway does. */
static void put(struct view_cache *c, const char *id, const char *owner, const char *text,
                size_t len, int64_t now)
{
    char tag[ETAG_LEN];

    etag_of(text, len, tag);
    view_cache_put(c, id, owner, text, len, tag, now);
}

/* The cached text of id, or NULL; the owner in owner. Its entity tag must
 * be the text's. */
static char *get(struct view_cache *c, const char *id, int64_t now, char owner[37])
{
    char *text;
    size_t len;
    char tag[ETAG_LEN];
    int rc = view_cache_get(c, id, now, &text, &len, owner, 37, tag);

    assert_int_not_equal(rc, -1);
    if (rc == 0) {
        assert_null(text);
        return NULL;
    }
    assert_int_equal(len, strlen(text));
    {
        /* The tag computed when it was kept is the text's own. */
        char want[ETAG_LEN];
        etag_of(text, len, want);
        assert_string_equal(tag, want);
    }
    return text;
}

static void test_hit_miss_owner(void **state)
{
    struct view_cache *c = view_cache_new(1 << 20);
    char owner[37], *t;

    (void)state;
    assert_non_null(c);
    assert_int_equal(view_cache_has(c, JOB_A, NOW), 0);
    assert_null(get(c, JOB_A, NOW, owner));
    put(c, JOB_A, USER, "{\"status\":\"done\"}", 17, NOW);
    assert_int_equal(view_cache_has(c, JOB_A, NOW), 1);
    assert_int_equal(view_cache_has(c, JOB_B, NOW), 0);
    t = get(c, JOB_A, NOW + 1, owner);
    assert_non_null(t);
    assert_string_equal(t, "{\"status\":\"done\"}");
    assert_string_equal(owner, USER);
    free(t);
    view_cache_free(c);
}

static void test_expiry_and_replacement(void **state)
{
    struct view_cache *c = view_cache_new(1 << 20);
    char owner[37], *t;
    size_t entries, bytes;

    (void)state;
    put(c, JOB_A, USER, "old", 3, NOW);
    put(c, JOB_A, USER, "newer", 5, NOW + 10);
    view_cache_stats(c, &entries, &bytes);
    assert_int_equal(entries, 1);
    assert_int_equal(bytes, 5);
    t = get(c, JOB_A, NOW + 20, owner);
    assert_string_equal(t, "newer");
    free(t);
    /* Gone once the TTL has passed since the put. */
    assert_int_equal(view_cache_has(c, JOB_A, NOW + 10 + VIEW_CACHE_TTL_MS - 1), 1);
    assert_int_equal(view_cache_has(c, JOB_A, NOW + 10 + VIEW_CACHE_TTL_MS), 0);
    assert_null(get(c, JOB_A, NOW + 10 + VIEW_CACHE_TTL_MS, owner));
    view_cache_free(c);
}

static void test_byte_budget(void **state)
{
    struct view_cache *c = view_cache_new(1000);
    char id[40], owner[37], text[300], *t;
    size_t entries, bytes;

    (void)state;
    memset(text, 'x', sizeof text);
    for (int i = 0; i < 20; i++) {
        snprintf(id, sizeof id, "01a200c4-0000-7000-8000-%012d", i);
        put(c, id, USER, text, sizeof text, NOW + i);
        view_cache_stats(c, &entries, &bytes);
        assert_true(bytes <= 1000);
        assert_int_equal(bytes, entries * sizeof text);
    }
    /* The newest entry was kept. */
    t = get(c, id, NOW + 20, owner);
    assert_non_null(t);
    free(t);
    /* Larger than the whole budget, or than an entry may be: not kept. */
    put(c, JOB_B, USER, text, 1001, NOW);
    assert_int_equal(view_cache_has(c, JOB_B, NOW), 0);
    view_cache_free(c);
}

static void test_entry_limit_and_off(void **state)
{
    struct view_cache *c = view_cache_new((size_t)4 * VIEW_CACHE_ENTRY_MAX);
    char *big = malloc(VIEW_CACHE_ENTRY_MAX + 1), owner[37];

    (void)state;
    assert_non_null(big);
    memset(big, 'y', VIEW_CACHE_ENTRY_MAX + 1);
    put(c, JOB_A, USER, big, VIEW_CACHE_ENTRY_MAX + 1, NOW);
    assert_int_equal(view_cache_has(c, JOB_A, NOW), 0);
    put(c, JOB_A, USER, big, VIEW_CACHE_ENTRY_MAX, NOW);
    assert_int_equal(view_cache_has(c, JOB_A, NOW), 1);
    free(big);
    view_cache_free(c);

    /* Off: no cache, every call a miss or a no-op. */
    assert_null(view_cache_new(0));
    put(NULL, JOB_A, USER, "x", 1, NOW);
    assert_int_equal(view_cache_has(NULL, JOB_A, NOW), 0);
    assert_null(get(NULL, JOB_A, NOW, owner));
}

static void test_many_jobs_stay_bounded(void **state)
{
    struct view_cache *c = view_cache_new(64u << 20);
    char id[40];
    size_t entries, bytes;

    (void)state;
    for (int i = 0; i < 3 * VIEW_CACHE_SLOTS; i++) {
        snprintf(id, sizeof id, "01a200c4-0000-7000-8000-%012d", i);
        put(c, id, USER, "{}", 2, NOW);
    }
    view_cache_stats(c, &entries, &bytes);
    assert_true(entries <= VIEW_CACHE_SLOTS);
    assert_true(entries > VIEW_CACHE_SLOTS / 2);
    assert_int_equal(bytes, entries * 2);
    /* The last one put is there. */
    assert_int_equal(view_cache_has(c, id, NOW), 1);
    view_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hit_miss_owner),
        cmocka_unit_test(test_expiry_and_replacement),
        cmocka_unit_test(test_byte_budget),
        cmocka_unit_test(test_entry_limit_and_off),
        cmocka_unit_test(test_many_jobs_stay_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
