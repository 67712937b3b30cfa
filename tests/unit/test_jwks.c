/* test_jwks.c - unit tests for common/jwks.c (key sets loaded from
 * documents, verification, concurrent use) and common/pkey.c. Key sets
 * fetched over HTTP are test_jwks_fetch.c's; keys and tokens are the
 * fixtures of tests/fixtures/jwt/ (jwks_fx.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "common/crypto.h"
#include "common/err.h"
#include "common/json.h"
#include "common/jwks.h"
#include "common/jwt.h"
#include "common/pkey.h"

#include "tests/unit/capture.h"
#include "tests/unit/fixture.h"
#include "tests/unit/jwks_fx.h"

/* Concurrency smoke test: verifier threads and verifications per thread. */
#define VERIFIERS 4
#define VERIFICATIONS 2000

/* common/pkey.c */

/* Splits a compact token into signing input length and decoded signature. */
static void split(const char *tok, size_t *signing_len, unsigned char *sig, size_t *sig_len)
{
    const char *d2 = strrchr(tok, '.');

    *signing_len = (size_t)(d2 - tok);
    assert_int_equal(jwt_b64url_decode(d2 + 1, strlen(d2 + 1), sig, 512, sig_len), 0);
}

static void test_pkey(void **state)
{
    cJSON *rj = first_jwk("jwks.json", 0), *ej = first_jwk("jwks.json", 1);
    struct err e;
    struct pkey *rsa = pkey_from_jwk(rj, &e), *ec = pkey_from_jwk(ej, &e);
    char *rs = fixture_read_trimmed(FIXTURES, "rs256.jwt", NULL);
    char *es = fixture_read_trimmed(FIXTURES, "es256.jwt", NULL);
    unsigned char sig[512];
    size_t sl, sn;
    (void)state;

    assert_non_null(rsa);
    assert_non_null(ec);
    assert_string_equal(pkey_alg(rsa), "RS256");
    assert_string_equal(pkey_alg(ec), "ES256");
    assert_int_equal(pkey_bits(rsa), 2048);
    assert_int_equal(pkey_bits(ec), 256);

    split(rs, &sl, sig, &sn);
    assert_int_equal(sn, 256);
    assert_int_equal(pkey_verify(rsa, "RS256", rs, sl, sig, sn), 1);
    assert_int_equal(pkey_verify(rsa, "RS256", rs, sl - 1, sig, sn), 0);
    assert_int_equal(pkey_verify(rsa, "RS256", rs, sl, sig, sn - 1), 0);
    assert_int_equal(pkey_verify(rsa, "ES256", rs, sl, sig, sn), 0);
    assert_int_equal(pkey_verify(ec, "RS256", rs, sl, sig, sn), 0);
    assert_int_equal(pkey_verify(rsa, "PS256", rs, sl, sig, sn), 0);
    assert_int_equal(pkey_verify(rsa, "RS384", rs, sl, sig, sn), 0);

    split(es, &sl, sig, &sn);
    assert_int_equal(sn, 64);
    assert_int_equal(pkey_verify(ec, "ES256", es, sl, sig, sn), 1);
    assert_int_equal(pkey_verify(ec, "RS256", es, sl, sig, sn), 0);
    assert_int_equal(pkey_verify(rsa, "ES256", es, sl, sig, sn), 0);
    assert_int_equal(pkey_verify(ec, "ES256", es, sl, sig, 63), 0);
    sig[40] ^= 1;
    assert_int_equal(pkey_verify(ec, "ES256", es, sl, sig, sn), 0);
    memset(sig, 0, 64);     /* r = s = 0 */
    assert_int_equal(pkey_verify(ec, "ES256", es, sl, sig, sn), 0);
    memset(sig, 0xff, 64);  /* r, s >= the group order */
    assert_int_equal(pkey_verify(ec, "ES256", es, sl, sig, sn), 0);

    pkey_free(rsa);
    pkey_free(ec);
    pkey_free(NULL);
    free(rs);
    free(es);
    cJSON_Delete(rj);
    cJSON_Delete(ej);
}

static void test_pkey_rejects(void **state)
{
    cJSON *rj = first_jwk("jwks.json", 0), *ej = first_jwk("jwks.json", 1);
    cJSON *weak = first_jwk("jwks_mixed.json", 1);
    cJSON *k;
    struct err e;
    (void)state;

    /* RSA-1024. */
    assert_null(pkey_from_jwk(weak, &e));
    assert_int_equal(e.code, ERR_PROTOCOL);
    assert_non_null(strstr(e.msg, "1024"));

    /* EC point off the curve: y changed. */
    k = cJSON_Duplicate(ej, 1);
    cJSON_ReplaceItemInObject(k, "y", cJSON_CreateString("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE"));
    assert_null(pkey_from_jwk(k, &e));
    assert_int_equal(e.code, ERR_PROTOCOL);
    cJSON_Delete(k);
    /* Coordinates of the wrong size, curves we do not support, bad base64url. */
    k = cJSON_Duplicate(ej, 1);
    cJSON_ReplaceItemInObject(k, "x", cJSON_CreateString("AAAA"));
    assert_null(pkey_from_jwk(k, &e));
    cJSON_ReplaceItemInObject(k, "x", cJSON_CreateString("EBOzdyNZKMcM9KjDl9BWfhopHaftRt7cwzDRbsiCNs="));
    assert_null(pkey_from_jwk(k, &e));
    cJSON_Delete(k);
    k = cJSON_Duplicate(ej, 1);
    cJSON_ReplaceItemInObject(k, "crv", cJSON_CreateString("P-384"));
    assert_null(pkey_from_jwk(k, &e));
    cJSON_Delete(k);
    /* RSA exponents: even, 1, too long; n missing. */
    k = cJSON_Duplicate(rj, 1);
    cJSON_ReplaceItemInObject(k, "e", cJSON_CreateString("AQAA"));
    assert_null(pkey_from_jwk(k, &e));
    cJSON_ReplaceItemInObject(k, "e", cJSON_CreateString("AQ"));
    assert_null(pkey_from_jwk(k, &e));
    cJSON_ReplaceItemInObject(k, "e", cJSON_CreateString("AQABAQAB"));
    assert_null(pkey_from_jwk(k, &e));
    cJSON_DeleteItemFromObject(k, "n");
    assert_null(pkey_from_jwk(k, &e));
    cJSON_Delete(k);
    /* Symmetric keys are never public keys. */
    k = cJSON_Parse("{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}");
    assert_null(pkey_from_jwk(k, &e));
    cJSON_Delete(k);
    k = cJSON_Parse("[]");
    assert_null(pkey_from_jwk(k, &e));
    cJSON_Delete(k);

    cJSON_Delete(weak);
    cJSON_Delete(rj);
    cJSON_Delete(ej);
}

/* common/jwks.c, static sets */

static void test_load(void **state)
{
    struct jwks *k = jwks_new(NULL, 60, 0);
    struct err e;
    (void)state;

    assert_non_null(k);
    assert_int_equal(jwks_key_count(k), 0);
    assert_int_equal(verify_fixture(k, "rs256.jwt"), ERR_TOKEN_UNKNOWN_KID);
    assert_int_equal(load(k, "jwks.json"), ERR_OK);
    assert_int_equal(jwks_key_count(k), 2);
    assert_int_equal(verify_fixture(k, "rs256.jwt"), ERR_OK);
    assert_int_equal(verify_fixture(k, "es256.jwt"), ERR_OK);

    /* Not a JWKS: refused, previous set kept. */
    assert_int_equal(jwks_load_json(k, "{\"keys\":{}}", 11, &e), ERR_PROTOCOL);
    assert_int_equal(jwks_load_json(k, "[]", 2, &e), ERR_PROTOCOL);
    assert_int_equal(jwks_load_json(k, "{\"keys\":[]", 10, &e), ERR_PROTOCOL);
    assert_int_equal(jwks_load_json(k, "{\"keys\":[]}", 11, &e), ERR_PROTOCOL);
    assert_int_equal(jwks_load_json(k, "", 0, &e), ERR_PROTOCOL);
    assert_int_equal(jwks_key_count(k), 2);

    /* Replacing drops keys no longer listed. */
    assert_int_equal(load(k, "jwks_rsa.json"), ERR_OK);
    assert_int_equal(jwks_key_count(k), 1);
    assert_int_equal(verify_fixture(k, "es256.jwt"), ERR_TOKEN_UNKNOWN_KID);
    assert_int_equal(verify_fixture(k, "rs256.jwt"), ERR_OK);

    /* A static set has nothing to refresh from. */
    assert_int_equal(jwks_refresh(k, &e), ERR_INTERNAL);
    jwks_free(k);
    jwks_free(NULL);
}

static void test_load_ignores(void **state)
{
    struct jwks *k = jwks_new(NULL, 60, 0);
    struct capture cap;
    char *out;
    int rc;
    (void)state;

    /* use:enc, RSA-1024, oct and OKP keys around one good key. */
    capture_begin(&cap);
    rc = load(k, "jwks_mixed.json");
    out = capture_end(&cap);
    assert_int_equal(rc, ERR_OK);
    assert_int_equal(jwks_key_count(k), 1);
    /* The weak key is worth a warning; keys for other uses are not. */
    assert_non_null(strstr(out, "\"event\":\"jwks_key_ignored\""));
    assert_non_null(strstr(out, "\"kid\":\"rsa-weak\""));
    assert_null(strstr(out, "rsa-enc"));
    assert_null(strstr(out, "hmac-1"));
    free(out);
    assert_int_equal(verify_fixture(k, "rs256.jwt"), ERR_OK);
    assert_int_equal(verify_fixture(k, "rs256_weak.jwt"), ERR_TOKEN_UNKNOWN_KID);

    /* Nothing usable at all: refused, previous set kept. */
    capture_begin(&cap);
    rc = load(k, "jwks_unusable.json");
    free(capture_end(&cap));
    assert_int_equal(rc, ERR_PROTOCOL);
    assert_int_equal(jwks_key_count(k), 1);
    assert_int_equal(verify_fixture(k, "rs256.jwt"), ERR_OK);
    jwks_free(k);
}

/* Loads {"keys": keys_array} (takes keys_array), its log lines swallowed. */
static int load_keys(struct jwks *k, cJSON *keys_array)
{
    cJSON *doc = cJSON_CreateObject();
    char *json;
    struct err e;
    struct capture cap;
    int rc;

    cJSON_AddItemToObject(doc, "keys", keys_array);
    json = cJSON_PrintUnformatted(doc);
    capture_begin(&cap);
    rc = jwks_load_json(k, json, strlen(json), &e);
    free(capture_end(&cap));
    cJSON_free(json);
    cJSON_Delete(doc);
    return rc;
}

static void test_load_key_policy(void **state)
{
    static const struct { const char *member, *value; int usable; } cases[] = {
        {"alg", "RS256", 1}, {"alg", "RS384", 0}, {"alg", "ES256", 0}, {"alg", "PS256", 0},
        {"alg", "none", 0}, {"use", "sig", 1}, {"use", "enc", 0}, {"kty", "oct", 0},
    };
    struct jwks *k = jwks_new(NULL, 60, 0);
    cJSON *rj = first_jwk("jwks.json", 0), *arr, *jwk;
    (void)state;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        jwk = cJSON_Duplicate(rj, 1);
        cJSON_ReplaceItemInObject(jwk, cases[i].member, cJSON_CreateString(cases[i].value));
        arr = cJSON_CreateArray();
        cJSON_AddItemToArray(arr, jwk);
        if (load_keys(k, arr) != (cases[i].usable ? ERR_OK : ERR_PROTOCOL))
            fail_msg("%s=%s", cases[i].member, cases[i].value);
    }
    /* key_ops must allow verify; use and alg may be absent. */
    jwk = cJSON_Duplicate(rj, 1);
    cJSON_DeleteItemFromObject(jwk, "use");
    cJSON_DeleteItemFromObject(jwk, "alg");
    cJSON_AddItemToObject(jwk, "key_ops", cJSON_Parse("[\"encrypt\"]"));
    arr = cJSON_CreateArray();
    cJSON_AddItemToArray(arr, jwk);
    assert_int_equal(load_keys(k, arr), ERR_PROTOCOL);
    jwk = cJSON_Duplicate(rj, 1);
    cJSON_DeleteItemFromObject(jwk, "use");
    cJSON_DeleteItemFromObject(jwk, "alg");
    cJSON_AddItemToObject(jwk, "key_ops", cJSON_Parse("[\"sign\",\"verify\"]"));
    arr = cJSON_CreateArray();
    cJSON_AddItemToArray(arr, jwk);
    assert_int_equal(load_keys(k, arr), ERR_OK);
    /* Duplicate kid: the first one wins. */
    arr = cJSON_CreateArray();
    cJSON_AddItemToArray(arr, cJSON_Duplicate(rj, 1));
    jwk = first_jwk("jwks.json", 1);
    cJSON_ReplaceItemInObject(jwk, "kid", cJSON_CreateString("rsa-1"));
    cJSON_AddItemToArray(arr, jwk);
    assert_int_equal(load_keys(k, arr), ERR_OK);
    assert_int_equal(jwks_key_count(k), 1);
    assert_int_equal(verify_fixture(k, "rs256.jwt"), ERR_OK);
    /* kid not a string, or too long. */
    jwk = cJSON_Duplicate(rj, 1);
    cJSON_ReplaceItemInObject(jwk, "kid", cJSON_CreateNumber(1));
    arr = cJSON_CreateArray();
    cJSON_AddItemToArray(arr, jwk);
    assert_int_equal(load_keys(k, arr), ERR_PROTOCOL);
    {
        char kid[200];
        memset(kid, 'k', 128);
        kid[128] = '\0';
        jwk = cJSON_Duplicate(rj, 1);
        cJSON_ReplaceItemInObject(jwk, "kid", cJSON_CreateString(kid));
        arr = cJSON_CreateArray();
        cJSON_AddItemToArray(arr, jwk);
        assert_int_equal(load_keys(k, arr), ERR_PROTOCOL);
    }
    cJSON_Delete(rj);
    jwks_free(k);
}

static void test_kidless(void **state)
{
    struct jwks *k = jwks_new(NULL, 60, 0);
    cJSON *rj, *ej, *arr;
    (void)state;

    /* The only key, without kid: tokens without kid use it; one naming a
     * kid does not (a miss, which refetches a set with a url). */
    assert_int_equal(load(k, "jwks_rsa_nokid.json"), ERR_OK);
    assert_int_equal(verify_fixture(k, "rs256_nokid.jwt"), ERR_OK);
    assert_int_equal(verify_fixture(k, "rs256.jwt"), ERR_TOKEN_UNKNOWN_KID);
    assert_int_equal(verify_fixture(k, "es256.jwt"), ERR_TOKEN_UNKNOWN_KID);

    /* Two keys, one without kid: only the one with a kid is kept. */
    rj = first_jwk("jwks_rsa_nokid.json", 0);
    ej = first_jwk("jwks.json", 1);
    arr = cJSON_CreateArray();
    cJSON_AddItemToArray(arr, rj);
    cJSON_AddItemToArray(arr, ej);
    assert_int_equal(load_keys(k, arr), ERR_OK);
    assert_int_equal(jwks_key_count(k), 1);
    assert_int_equal(verify_fixture(k, "es256.jwt"), ERR_OK);
    assert_int_equal(verify_fixture(k, "rs256_nokid.jwt"), ERR_TOKEN_ALG_NOT_ALLOWED);

    /* Two keys, neither with kid: nothing usable. */
    arr = cJSON_CreateArray();
    cJSON_AddItemToArray(arr, first_jwk("jwks_rsa_nokid.json", 0));
    ej = first_jwk("jwks.json", 1);
    cJSON_DeleteItemFromObject(ej, "kid");
    cJSON_AddItemToArray(arr, ej);
    assert_int_equal(load_keys(k, arr), ERR_PROTOCOL);
    jwks_free(k);
}

static void test_verify_direct(void **state)
{
    struct jwks *k = jwks_new(NULL, 60, 0);
    char *rs = fixture_read_trimmed(FIXTURES, "rs256.jwt", NULL);
    unsigned char sig[512];
    size_t sl, sn;
    struct err e;
    (void)state;

    assert_int_equal(load(k, "jwks.json"), ERR_OK);
    split(rs, &sl, sig, &sn);
    assert_int_equal(jwks_verify(k, "rsa-1", "RS256", rs, sl, sig, sn, &e), ERR_OK);
    assert_int_equal(jwks_verify(k, "rsa-1", "HS256", rs, sl, sig, sn, &e),
                     ERR_TOKEN_ALG_NOT_ALLOWED);
    assert_int_equal(jwks_verify(k, "rsa-1", NULL, rs, sl, sig, sn, &e),
                     ERR_TOKEN_ALG_NOT_ALLOWED);
    assert_int_equal(jwks_verify(k, "ec-1", "RS256", rs, sl, sig, sn, &e),
                     ERR_TOKEN_ALG_NOT_ALLOWED);
    assert_int_equal(jwks_verify(k, "rsa-2", "RS256", rs, sl, sig, sn, &e),
                     ERR_TOKEN_UNKNOWN_KID);
    assert_int_equal(jwks_verify(k, NULL, "RS256", rs, sl, sig, sn, &e), ERR_TOKEN_UNKNOWN_KID);
    sig[0] ^= 1;
    assert_int_equal(jwks_verify(k, "rsa-1", "RS256", rs, sl, sig, sn, &e), ERR_INVALID_TOKEN);
    assert_null(strstr(e.msg, "rsa-1"));
    free(rs);
    jwks_free(k);
}

/* Many verifying threads and a reloading one */

struct race {
    struct jwks *k;
    const char *tok;            /* borrowed */
    atomic_int done;            /* verifier threads finished */
    atomic_int failures;
    const char *json;           /* borrowed */
    size_t json_len;
    int loads;                  /* by the loader */
};

static void *race_verifier(void *arg)
{
    struct race *r = arg;

    for (int i = 0; i < VERIFICATIONS; i++)
        if (verify_tok(r->k, r->tok) != ERR_OK)
            atomic_fetch_add(&r->failures, 1);
    atomic_fetch_add(&r->done, 1);
    return NULL;
}

static void *race_loader(void *arg)
{
    struct race *r = arg;
    struct err e;

    while (atomic_load(&r->done) < VERIFIERS) {
        if (jwks_load_json(r->k, r->json, r->json_len, &e) != ERR_OK)
            atomic_fetch_add(&r->failures, 1);
        r->loads++;
    }
    return NULL;
}

static void test_concurrent_verify_and_reload(void **state)
{
    struct race r = {0};
    pthread_t th[VERIFIERS + 1];
    char *tok = fixture_read_trimmed(FIXTURES, "rs256.jwt", NULL);
    char *json;
    (void)state;

    json = fixture_read_trimmed(FIXTURES, "jwks.json", &r.json_len);
    r.json = json;
    r.tok = tok;
    r.k = jwks_new(NULL, 60, 0);
    assert_int_equal(jwks_load_json(r.k, json, r.json_len, NULL), ERR_OK);
    assert_int_equal(pthread_create(&th[VERIFIERS], NULL, race_loader, &r), 0);
    for (int i = 0; i < VERIFIERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, race_verifier, &r), 0);
    for (int i = 0; i <= VERIFIERS; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&r.failures), 0);
    assert_true(r.loads > 0);
    jwks_free(r.k);
    free(json);
    free(tok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pkey),
        cmocka_unit_test(test_pkey_rejects),
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_load_ignores),
        cmocka_unit_test(test_load_key_policy),
        cmocka_unit_test(test_kidless),
        cmocka_unit_test(test_verify_direct),
        cmocka_unit_test(test_concurrent_verify_and_reload),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
