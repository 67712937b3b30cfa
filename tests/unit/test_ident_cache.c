/* test_ident_cache.c - unit tests for gateway/ident_cache.c: lease sizes,
 * admission from a lease, the RateLimit-Remaining arithmetic, expiry (no
 * new lease while tokens are held), revocation (and replies that predate
 * it), collisions, the operator role and the disabled cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/ident_cache.h"

#define KEY_A "auth:key:aaaa"
#define KEY_B "auth:key:bbbb"
#define USER  "11111111-2222-4333-8444-555555555555"
#define TTL   5000
#define NOW   1000000
#define GEN0  0                     /* a new cache's generation (idc_ask.gen) */

/* An identity hash as the gate script returns it (HGETALL, flat). */
static cJSON *identity(const char *user, const char *read_burst)
{
    const char *f[] = {"user_id", user, "key_id", "k1", "email", "a@example.com", "plan", "pro",
                       "submit_burst", "10", "submit_rate", "20", "read_burst", read_burst,
                       "read_rate", "600", "auth_burst", "10", "auth_rate", "30",
                       "budget", "500000", "revoked", "0"};
    cJSON *a = cJSON_CreateArray();

    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(f[i]));
    return a;
}

static void test_lease_size(void **state)
{
    (void)state;
    assert_int_equal(idc_lease_size(0), 1);
    assert_int_equal(idc_lease_size(100), 1);                   /* every plan's real rates */
    assert_int_equal(idc_lease_size(2 * IDC_LEASE_DIV - 1), 1);
    assert_int_equal(idc_lease_size(2 * IDC_LEASE_DIV), 2);
    assert_int_equal(idc_lease_size(10000), 10000 / IDC_LEASE_DIV);
    assert_int_equal(idc_lease_size(100000000), IDC_LEASE_MAX);
}

static void test_unknown_asks_for_identity(void **state)
{
    struct idc *c = idc_new(TTL);
    struct idc_admitted a;
    struct idc_ask ask;
    (void)state;

    assert_non_null(c);
    assert_int_equal(idc_admit(c, KEY_A, RC_READ, NOW, &a, &ask), 0);
    assert_int_equal(ask.want, 1);
    assert_int_equal(ask.want_identity, 1);
    idc_free(c);
}

/* The script took 156 tokens (burst 10000); this request spent one, the
 * next 155 are admitted here, counting down, then Redis is asked again. */
static void test_lease_is_spent_locally(void **state)
{
    struct idc *c = idc_new(TTL);
    cJSON *id = identity(USER, "10000");
    struct idc_admitted a;
    struct idc_ask ask;
    long n = idc_lease_size(10000);
    (void)state;

    idc_record(c, KEY_A, GEN0, id, RC_READ, n, 10000, 10000 - n, 2, NOW, &a);
    assert_string_equal(a.user_id, USER);
    assert_int_equal(a.limit, 10000);
    assert_int_equal(a.remaining, 10000 - 1);          /* as if one token was taken */
    for (long i = 2; i <= n; i++) {
        assert_int_equal(idc_admit(c, KEY_A, RC_READ, NOW + i, &a, &ask), 1);
        assert_string_equal(a.user_id, USER);
        assert_string_equal(a.key_id, "k1");
        assert_string_equal(a.plan, "pro");
        assert_int_equal(a.budget, 500000);
        assert_int_equal(a.remaining, 10000 - i);
    }
    assert_int_equal(idc_admit(c, KEY_A, RC_READ, NOW + n + 1, &a, &ask), 0);
    assert_int_equal(ask.want, n);
    assert_int_equal(ask.want_identity, 0);             /* the copy is still fresh */
    /* Another class has its own bucket: nothing leased there yet. */
    assert_int_equal(idc_admit(c, KEY_A, RC_SUBMIT, NOW, &a, &ask), 0);
    assert_int_equal(ask.want, 1);                      /* submit burst 10: no lease */
    cJSON_Delete(id);
    idc_free(c);
}

/* Small buckets are exact: taken 1, nothing held, every request asks. */
static void test_no_lease_below_threshold(void **state)
{
    struct idc *c = idc_new(TTL);
    cJSON *id = identity(USER, "100");
    struct idc_admitted a;
    struct idc_ask ask;
    (void)state;

    idc_record(c, KEY_A, GEN0, id, RC_READ, 1, 100, 99, 1, NOW, &a);
    assert_int_equal(a.remaining, 99);
    assert_int_equal(idc_admit(c, KEY_A, RC_READ, NOW + 1, &a, &ask), 0);
    assert_int_equal(ask.want, 1);
    assert_int_equal(ask.want_identity, 0);
    cJSON_Delete(id);
    idc_free(c);
}

/* A stale copy is not used; while it still holds tokens, only one more is
 * asked for, so a replica never holds more than one lease. */
static void test_expiry(void **state)
{
    struct idc *c = idc_new(TTL);
    cJSON *id = identity(USER, "10000");
    struct idc_admitted a;
    struct idc_ask ask;
    (void)state;

    idc_record(c, KEY_A, GEN0, id, RC_READ, 100, 10000, 9900, 2, NOW, &a);
    assert_int_equal(idc_admit(c, KEY_A, RC_READ, NOW + TTL - 1, &a, &ask), 1);
    assert_int_equal(idc_admit(c, KEY_A, RC_READ, NOW + TTL, &a, &ask), 0);
    assert_int_equal(ask.want_identity, 1);
    assert_int_equal(ask.want, 1);
    /* Refreshed with one token taken: the 98 held are spent again. */
    idc_record(c, KEY_A, GEN0, id, RC_READ, 1, 10000, 9899, 2, NOW + TTL, &a);
    assert_int_equal(a.remaining, 9899 + 98);
    assert_int_equal(idc_admit(c, KEY_A, RC_READ, NOW + TTL + 1, &a, &ask), 1);
    assert_int_equal(a.remaining, 9899 + 97);
    /* A clock going backwards is not trusted either. */
    assert_int_equal(idc_admit(c, KEY_A, RC_READ, NOW, &a, &ask), 0);
    cJSON_Delete(id);
    idc_free(c);
}

static void test_forget_and_clear(void **state)
{
    struct idc *c = idc_new(TTL);
    cJSON *id = identity(USER, "10000");
    struct idc_admitted a;
    struct idc_ask ask;
    (void)state;

    idc_record(c, KEY_A, GEN0, id, RC_READ, 100, 10000, 9900, 2, NOW, &a);
    idc_record(c, KEY_B, GEN0, id, RC_READ, 100, 10000, 9900, 2, NOW, &a);
    idc_forget(c, KEY_A);
    assert_int_equal(idc_admit(c, KEY_A, RC_READ, NOW, &a, &ask), 0);
    assert_int_equal(ask.want_identity, 1);
    assert_int_equal(idc_admit(c, KEY_B, RC_READ, NOW, &a, &ask), 1);
    idc_forget(c, "auth:key:unknown");                  /* harmless */
    idc_clear(c);
    assert_int_equal(idc_admit(c, KEY_B, RC_READ, NOW, &a, &ask), 0);
    assert_int_equal(ask.want_identity, 1);
    cJSON_Delete(id);
    idc_free(c);
}

/* A reply asked for before a revocation and recorded after idc_forget()
 * (or idc_clear()) ran may say "not revoked": it must not bring the copy
 * back. A request asked after the forget records as usual. */
static void test_record_after_forget_is_dropped(void **state)
{
    struct idc *c = idc_new(TTL);
    cJSON *id = identity(USER, "10000");
    struct idc_admitted a;
    struct idc_ask before, after;
    (void)state;

    /* No copy yet: the request asks the script; the key is revoked (and
     * forgotten) while the script's reply is on its way. */
    assert_int_equal(idc_admit(c, KEY_A, RC_READ, NOW, &a, &before), 0);
    idc_forget(c, KEY_A);
    idc_record(c, KEY_A, before.gen, id, RC_READ, 100, 10000, 9900, 2, NOW, &a);
    assert_int_equal(a.limit, 10000);                   /* the headers still get the reply */
    assert_int_equal(a.remaining, 9900);
    assert_int_equal(idc_admit(c, KEY_A, RC_READ, NOW + 1, &a, &after), 0);
    assert_int_equal(after.want_identity, 1);

    /* A copy held and refreshed: the same for a stale one. */
    idc_record(c, KEY_A, after.gen, id, RC_READ, 100, 10000, 9900, 2, NOW + 1, &a);
    assert_int_equal(idc_admit(c, KEY_A, RC_READ, NOW + 2, &a, &before), 1);
    assert_int_equal(idc_admit(c, KEY_A, RC_READ, NOW + TTL + 2, &a, &before), 0);
    idc_forget(c, KEY_A);
    idc_record(c, KEY_A, before.gen, id, RC_READ, 1, 10000, 9899, 2, NOW + TTL + 2, &a);
    assert_int_equal(idc_admit(c, KEY_A, RC_READ, NOW + TTL + 3, &a, &after), 0);
    assert_int_equal(after.want_identity, 1);

    /* idc_clear() (a missed message) makes every earlier ask unrecordable. */
    assert_int_equal(idc_admit(c, KEY_B, RC_READ, NOW, &a, &before), 0);
    idc_clear(c);
    idc_record(c, KEY_B, before.gen, id, RC_READ, 100, 10000, 9900, 2, NOW, &a);
    assert_int_equal(idc_admit(c, KEY_B, RC_READ, NOW + 1, &a, &after), 0);
    idc_record(c, KEY_B, after.gen, id, RC_READ, 100, 10000, 9900, 2, NOW + 1, &a);
    assert_int_equal(idc_admit(c, KEY_B, RC_READ, NOW + 2, &a, &after), 1);
    cJSON_Delete(id);
    idc_free(c);
}

/* Without an identity a record neither creates a copy nor takes another
 * identity's slot; an identity without a user is refused. */
static void test_record_needs_identity(void **state)
{
    struct idc *c = idc_new(TTL);
    cJSON *bad = identity("", "10000");
    struct idc_admitted a;
    struct idc_ask ask;
    (void)state;

    idc_record(c, KEY_A, GEN0, NULL, RC_READ, 100, 10000, 9900, 2, NOW, &a);
    assert_int_equal(a.remaining, 9900);                /* the script's view, unchanged */
    assert_int_equal(idc_admit(c, KEY_A, RC_READ, NOW, &a, &ask), 0);
    idc_record(c, KEY_A, GEN0, bad, RC_READ, 100, 10000, 9900, 2, NOW, &a);
    assert_int_equal(idc_admit(c, KEY_A, RC_READ, NOW, &a, &ask), 0);
    cJSON_Delete(bad);
    idc_free(c);
}

/* Many keys: whichever share a slot replace each other; none is admitted
 * with another's identity. */
static void test_collisions_never_mix(void **state)
{
    struct idc *c = idc_new(TTL);
    struct idc_admitted a;
    struct idc_ask ask;
    char key[64], user[37];
    int admitted = 0;
    (void)state;

    for (int i = 0; i < 3 * IDC_SLOTS; i++) {
        cJSON *id;
        snprintf(key, sizeof key, "auth:key:%08d", i);
        snprintf(user, sizeof user, "00000000-0000-4000-8000-%012d", i);
        id = identity(user, "10000");
        idc_record(c, key, GEN0, id, RC_READ, 10, 10000, 9990, 2, NOW, &a);
        cJSON_Delete(id);
    }
    for (int i = 0; i < 3 * IDC_SLOTS; i++) {
        snprintf(key, sizeof key, "auth:key:%08d", i);
        snprintf(user, sizeof user, "00000000-0000-4000-8000-%012d", i);
        if (idc_admit(c, key, RC_READ, NOW, &a, &ask)) {
            assert_string_equal(a.user_id, user);
            admitted++;
        }
    }
    assert_true(admitted > 0 && admitted <= IDC_SLOTS);
    idc_free(c);
}

/* The identity with field operator set to value (appended to the flat
 * reply), as auth_fill.lua stores it. */
static cJSON *identity_role(const char *value)
{
    cJSON *id = identity(USER, "10000");

    cJSON_AddItemToArray(id, cJSON_CreateString("operator"));
    cJSON_AddItemToArray(id, cJSON_CreateString(value));
    return id;
}

/* The operator role travels with the copy, from the hash's "operator"
 * field, and a refreshed copy shows a grant or revocation; a hash without
 * the field (filled before migration 011) or with anything but "1" is no
 * operator. */
static void test_operator_role(void **state)
{
    struct idc *c = idc_new(TTL);
    cJSON *on = identity_role("1"), *off = identity_role("0"), *odd = identity_role("true");
    cJSON *none = identity(USER, "10000");
    struct idc_admitted a;
    struct idc_ask ask;
    (void)state;

    idc_record(c, KEY_A, GEN0, on, RC_READ, 100, 10000, 9900, 2, NOW, &a);
    assert_int_equal(a.is_operator, 1);
    assert_int_equal(idc_admit(c, KEY_A, RC_READ, NOW + 1, &a, &ask), 1);
    assert_int_equal(a.is_operator, 1);
    /* Revoked in PostgreSQL: the copy keeps the role until it is refreshed. */
    assert_int_equal(idc_admit(c, KEY_A, RC_READ, NOW + TTL, &a, &ask), 0);
    assert_int_equal(ask.want_identity, 1);
    idc_record(c, KEY_A, GEN0, off, RC_READ, 1, 10000, 9899, 2, NOW + TTL, &a);
    assert_int_equal(a.is_operator, 0);
    assert_int_equal(idc_admit(c, KEY_A, RC_READ, NOW + TTL + 1, &a, &ask), 1);
    assert_int_equal(a.is_operator, 0);
    /* Another identity in another slot, without the field or with another value. */
    idc_record(c, KEY_B, GEN0, none, RC_READ, 100, 10000, 9900, 2, NOW, &a);
    assert_int_equal(a.is_operator, 0);
    idc_record(c, KEY_B, GEN0, on, RC_READ, 1, 10000, 9899, 2, NOW + 1, &a);
    assert_int_equal(a.is_operator, 1);
    idc_record(c, KEY_B, GEN0, odd, RC_READ, 1, 10000, 9898, 2, NOW + 2, &a);
    assert_int_equal(a.is_operator, 0);
    cJSON_Delete(on);
    cJSON_Delete(off);
    cJSON_Delete(odd);
    cJSON_Delete(none);
    idc_free(c);
}

static void test_disabled(void **state)
{
    struct idc_admitted a;
    struct idc_ask ask;
    cJSON *id = identity(USER, "10000");
    (void)state;

    assert_null(idc_new(0));
    assert_int_equal(idc_admit(NULL, KEY_A, RC_READ, NOW, &a, &ask), 0);
    assert_int_equal(ask.want, 1);
    assert_int_equal(ask.want_identity, 0);
    idc_record(NULL, KEY_A, GEN0, id, RC_READ, 1, 600, 599, 1, NOW, &a);
    assert_int_equal(a.limit, 600);
    assert_int_equal(a.remaining, 599);
    idc_forget(NULL, KEY_A);
    idc_clear(NULL);
    idc_free(NULL);
    cJSON_Delete(id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lease_size),
        cmocka_unit_test(test_unknown_asks_for_identity),
        cmocka_unit_test(test_lease_is_spent_locally),
        cmocka_unit_test(test_no_lease_below_threshold),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_forget_and_clear),
        cmocka_unit_test(test_record_after_forget_is_dropped),
        cmocka_unit_test(test_record_needs_identity),
        cmocka_unit_test(test_collisions_never_mix),
        cmocka_unit_test(test_operator_role),
        cmocka_unit_test(test_disabled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
