/* jwks_fx.h - what test_jwks.c and test_jwks_fetch.c share: the JWT
 * fixtures of tests/fixtures/jwt/, loading a key set from one, verifying a
 * token against a set, a fixture's key, and the suites' setup. Include
 * after <cmocka.h>. */
#ifndef TESTS_JWKS_FX_H
#define TESTS_JWKS_FX_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/err.h"
#include "common/jwks.h"
#include "common/json.h"
#include "common/jwt.h"
#include "tests/unit/fixture.h"

#define FIXTURES "tests/fixtures/jwt/"
#define NOW INT64_C(1700001000)

static inline int load(struct jwks *k, const char *name)
{
    size_t len;
    char *json = fixture_read_trimmed(FIXTURES, name, &len);
    struct err e;
    int rc = jwks_load_json(k, json, len, &e);

    free(json);
    return rc;
}

/* Verifies a fixture token (or any NUL-terminated token) against k. */
static inline int verify_tok(struct jwks *k, const char *tok)
{
    struct jwt_verifier v = {.jwks = k, .leeway_s = 60, .require_exp = 1};
    struct jwt_claims c;
    struct err e;

    return jwt_verify(&v, tok, strlen(tok), NOW, &c, &e);
}

static inline int verify_fixture(struct jwks *k, const char *name)
{
    char *tok = fixture_read_trimmed(FIXTURES, name, NULL);
    int rc = verify_tok(k, tok);

    free(tok);
    return rc;
}

static inline int setup(void **state)
{
    (void)state;
    return crypto_init() == 0 ? 0 : -1;
}

/* The first key of a JWKS fixture (owns). */
static inline cJSON *first_jwk(const char *name, int index)
{
    char *json = fixture_read_trimmed(FIXTURES, name, NULL);
    cJSON *doc = cJSON_Parse(json);
    cJSON *k;

    free(json);
    assert_non_null(doc);
    k = cJSON_DetachItemFromArray(cJSON_GetObjectItem(doc, "keys"), index);
    cJSON_Delete(doc);
    assert_non_null(k);
    return k;
}

#endif
