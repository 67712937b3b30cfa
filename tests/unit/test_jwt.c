/* test_jwt.c - unit tests for common/jwt.c (HS256 tokens made here, RS256 and
 * ES256 tokens made by the openssl CLI: tests/fixtures/jwt/gen.sh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/crypto.h"
#include "common/err.h"
#include "common/jwks.h"
#include "common/jwt.h"

#include "tests/unit/fixture.h"

#define FIXTURES "tests/fixtures/jwt/"

/* Inside the fixtures' validity: iat 1700000000, exp 1700003600. */
#define NOW INT64_C(1700001000)
#define ISSUER "https://example.supabase.co/auth/v1"
#define SECRET "unit-test-secret-of-32-bytes-min"

/* Token from raw header and payload JSON, HMAC-SHA-256 signed with secret (owns). */
static char *hs_token_key(const char *header, const char *payload, const void *key,
                          size_t key_len)
{
    size_t cap = 4 * JWT_MAX_LEN, o, n;
    char *t = malloc(cap);
    unsigned char mac[32];

    assert_non_null(t);
    o = jwt_b64url_encode(header, strlen(header), t, cap);
    t[o++] = '.';
    n = jwt_b64url_encode(payload, strlen(payload), t + o, cap - o);
    assert_true(n > 0 || payload[0] == '\0');
    o += n;
    crypto_hmac_sha256(key, key_len, t, o, mac);
    t[o++] = '.';
    assert_true(jwt_b64url_encode(mac, sizeof mac, t + o, cap - o) > 0);
    return t;
}

static char *hs_token(const char *header, const char *payload)
{
    return hs_token_key(header, payload, SECRET, strlen(SECRET));
}

#define HS_HEADER "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

/* HS256 token with the standard header and the given payload (owns). */
static char *hs_payload(const char *payload)
{
    return hs_token(HS_HEADER, payload);
}

/* Verifier accepting our own HS256 tokens. */
static struct jwt_verifier hs_verifier(void)
{
    struct jwt_verifier v = {
        .hs_secret = (const unsigned char *)SECRET,
        .hs_secret_len = strlen(SECRET),
        .leeway_s = 60,
        .require_exp = 1,
    };
    return v;
}

/* Asserts msg does not contain the first 12 characters of s (when it has that many). */
static void assert_no_piece(const char *msg, const char *s)
{
    char piece[13];

    if (strlen(s) < 12)
        return;
    memcpy(piece, s, 12);
    piece[12] = '\0';
    assert_null(strstr(msg, piece));
}

/* Runs jwt_verify on a NUL-terminated token and returns the code, checking
 * the error is consistent and never echoes the token or the secret. */
static int verify(const struct jwt_verifier *v, const char *tok, int64_t now, struct jwt_claims *c)
{
    struct err e;
    struct jwt_claims local;
    size_t n = strlen(tok);
    int rc;

    err_clear(&e);
    rc = jwt_verify(v, tok, n, now, c ? c : &local, &e);
    assert_int_equal(rc, (int)e.code);
    if (rc != ERR_OK) {
        const char *sig = memchr(tok, '.', n) ? strrchr(tok, '.') + 1 : tok;
        assert_true(e.msg[0] != '\0');
        assert_null(strstr(e.msg, SECRET));
        assert_no_piece(e.msg, tok);
        assert_no_piece(e.msg, sig);
    }
    return rc;
}

/* Static JWKS loaded from a fixture (owns). */
static struct jwks *jwks_fixture(const char *name)
{
    size_t len;
    char *json = fixture_read_trimmed(FIXTURES, name, &len);
    struct jwks *k = jwks_new(NULL, 60, 0);
    struct err e;

    assert_non_null(k);
    assert_int_equal(jwks_load_json(k, json, len, &e), ERR_OK);
    free(json);
    return k;
}

static int setup(void **state)
{
    (void)state;
    return crypto_init() == 0 ? 0 : -1;
}

static void test_b64url(void **state)
{
    static const struct { const char *raw, *enc; } v[] = {
        {"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"}, {"foob", "Zm9vYg"},
        {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}, {"\xfb\xff", "-_8"},
    };
    static const char *bad[] = {
        "Zg==", "Zm9v=", "Zm+v", "Zm/v", "Z", "Zm9vY", "Zh", "Zm9", "Zm 9v", "Zm\n9v", "Zm9v.",
    };
    char out[64];
    unsigned char dec[64];
    size_t n;
    (void)state;

    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t rl = strlen(v[i].raw);
        assert_int_equal(jwt_b64url_len(rl), strlen(v[i].enc));
        assert_int_equal(jwt_b64url_encode(v[i].raw, rl, out, sizeof out), strlen(v[i].enc));
        assert_string_equal(out, v[i].enc);
        assert_int_equal(jwt_b64url_decode(v[i].enc, strlen(v[i].enc), dec, sizeof dec, &n), 0);
        assert_int_equal(n, rl);
        assert_memory_equal(dec, v[i].raw, rl);
    }
    /* "Zm8" is canonical for "fo"; "Zm9" has non-zero unused bits. */
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(jwt_b64url_decode(bad[i], strlen(bad[i]), dec, sizeof dec, &n), -1);
    /* Too small a buffer. */
    assert_int_equal(jwt_b64url_decode("Zm9vYmFy", 8, dec, 5, &n), -1);
    assert_int_equal(jwt_b64url_encode("foobar", 6, out, 8), 0);
    assert_int_equal(jwt_b64url_encode("foobar", 6, out, 9), 8);
}

static void test_hs256_round_trip(void **state)
{
    struct jwt_claims c = {0}, got;
    struct jwt_verifier v = hs_verifier();
    char tok[1024];
    struct err e;
    (void)state;

    snprintf(c.sub, sizeof c.sub, "0190f2a4-0000-7000-8000-000000000001");
    snprintf(c.iss, sizeof c.iss, "codeinsight");
    snprintf(c.plan, sizeof c.plan, "pro");
    snprintf(c.email, sizeof c.email, "\"quoted\"\\@example.com");
    c.iat = NOW - 10;
    c.exp = NOW + 3590;
    c.has_iat = c.has_exp = 1;
    assert_int_equal(jwt_sign_hs256(&c, (const unsigned char *)SECRET, strlen(SECRET), tok,
                                    sizeof tok, &e), ERR_OK);
    /* The fixed header, byte for byte. */
    assert_memory_equal(tok, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", 37);

    v.issuer = "codeinsight";
    v.max_lifetime_s = 3600;
    assert_int_equal(verify(&v, tok, NOW, &got), ERR_OK);
    assert_string_equal(got.sub, c.sub);
    assert_string_equal(got.iss, "codeinsight");
    assert_string_equal(got.plan, "pro");
    assert_string_equal(got.email, c.email);
    assert_string_equal(got.alg, "HS256");
    assert_string_equal(got.kid, "");
    assert_true(got.has_iat && got.has_exp && !got.has_nbf);
    assert_int_equal(got.iat, NOW - 10);
    assert_int_equal(got.exp, NOW + 3590);

    /* Another secret does not verify it. */
    v.hs_secret = (const unsigned char *)"another-secret";
    v.hs_secret_len = 14;
    assert_int_equal(verify(&v, tok, NOW, NULL), ERR_INVALID_TOKEN);

    /* Optional claims left out; times beyond 2038 exact. */
    memset(&c, 0, sizeof c);
    snprintf(c.sub, sizeof c.sub, "u");
    c.exp = INT64_C(4102444800);
    c.has_exp = 1;
    assert_int_equal(jwt_sign_hs256(&c, (const unsigned char *)SECRET, strlen(SECRET), tok,
                                    sizeof tok, &e), ERR_OK);
    v = hs_verifier();
    assert_int_equal(verify(&v, tok, NOW, &got), ERR_OK);
    assert_int_equal(got.exp, INT64_C(4102444800));
    assert_string_equal(got.plan, "");
    assert_false(got.has_iat);
}

static void test_sign_errors(void **state)
{
    struct jwt_claims c = {0};
    char tok[1024];
    struct err e;
    (void)state;

    snprintf(c.sub, sizeof c.sub, "u");
    assert_int_equal(jwt_sign_hs256(&c, (const unsigned char *)"", 0, tok, sizeof tok, &e),
                     ERR_INTERNAL);
    assert_int_equal(jwt_sign_hs256(&c, (const unsigned char *)SECRET, strlen(SECRET), tok, 40,
                                    &e), ERR_INTERNAL);
    assert_string_equal(tok, "");
    memset(c.plan, 'x', sizeof c.plan);     /* not NUL-terminated */
    assert_int_equal(jwt_sign_hs256(&c, (const unsigned char *)SECRET, strlen(SECRET), tok,
                                    sizeof tok, &e), ERR_INTERNAL);
    memset(&c, 0, sizeof c);
    snprintf(c.sub, sizeof c.sub, "bad \xff utf-8");
    assert_int_equal(jwt_sign_hs256(&c, (const unsigned char *)SECRET, strlen(SECRET), tok,
                                    sizeof tok, &e), ERR_INTERNAL);
}

/* A token signed by `openssl dgst -mac HMAC` verifies: our HS256, base64url
 * and signing input agree with an independent implementation. */
static void test_hs256_openssl_fixture(void **state)
{
    size_t slen;
    char *secret = fixture_read_trimmed(FIXTURES, "hs256.secret", &slen);
    char *tok = fixture_read_trimmed(FIXTURES, "hs256.jwt", NULL);
    struct jwt_verifier v = {.hs_secret = (const unsigned char *)secret, .hs_secret_len = slen,
                             .issuer = "codeinsight", .audience = "authenticated",
                             .leeway_s = 60, .max_lifetime_s = 3600, .require_exp = 1};
    struct jwt_claims c;
    (void)state;

    assert_int_equal(verify(&v, tok, NOW, &c), ERR_OK);
    assert_string_equal(c.plan, "pro");
    assert_string_equal(c.sub, "user-1");
    assert_string_equal(c.email, "a@example.com");
    free(tok);
    free(secret);
}

static void test_rs256_es256_valid(void **state)
{
    struct jwks *k = jwks_fixture("jwks.json");
    struct jwt_verifier v = {.jwks = k, .issuer = ISSUER, .audience = "authenticated",
                             .leeway_s = 60, .require_exp = 1};
    char *rs = fixture_read_trimmed(FIXTURES, "rs256.jwt", NULL);
    char *es = fixture_read_trimmed(FIXTURES, "es256.jwt", NULL);
    char *arr = fixture_read_trimmed(FIXTURES, "rs256_aud_array.jwt", NULL);
    struct jwt_claims c;
    (void)state;

    assert_int_equal(verify(&v, rs, NOW, &c), ERR_OK);
    assert_string_equal(c.alg, "RS256");
    assert_string_equal(c.kid, "rsa-1");
    assert_string_equal(c.sub, "user-1");
    assert_string_equal(c.iss, ISSUER);
    assert_int_equal(c.iat, 1700000000);
    assert_int_equal(c.exp, 1700003600);

    assert_int_equal(verify(&v, es, NOW, &c), ERR_OK);
    assert_string_equal(c.alg, "ES256");
    assert_string_equal(c.kid, "ec-1");

    /* aud as an array containing the audience. */
    assert_int_equal(verify(&v, arr, NOW, &c), ERR_OK);
    v.audience = "other";
    assert_int_equal(verify(&v, arr, NOW, &c), ERR_OK);
    v.audience = "nobody";
    assert_int_equal(verify(&v, arr, NOW, &c), ERR_TOKEN_WRONG_AUDIENCE);
    assert_int_equal(verify(&v, rs, NOW, &c), ERR_TOKEN_WRONG_AUDIENCE);
    assert_string_equal(c.sub, "");     /* zeroed on failure */

    free(arr);
    free(es);
    free(rs);
    jwks_free(k);
}

/* Replaces the payload of tok with b64url(payload), keeping header and signature (owns). */
static char *swap_payload(const char *tok, const char *payload)
{
    const char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');
    char *t = malloc(strlen(tok) + 2 * strlen(payload) + 8);
    size_t o;

    assert_non_null(t);
    o = (size_t)(d1 - tok) + 1;
    memcpy(t, tok, o);
    o += jwt_b64url_encode(payload, strlen(payload), t + o, 2 * strlen(payload) + 8);
    memcpy(t + o, d2, strlen(d2) + 1);
    return t;
}

/* Changes the character at offset i from the end of tok to another base64url
 * character that keeps the encoding canonical. */
static void flip(char *tok, size_t from_end)
{
    char *p = tok + strlen(tok) - from_end;
    *p = *p == 'A' ? 'B' : 'A';
}

static void test_tampered(void **state)
{
    struct jwks *k = jwks_fixture("jwks.json");
    struct jwt_verifier v = {.jwks = k, .leeway_s = 60, .require_exp = 1};
    struct jwt_verifier hv = hs_verifier();
    static const char *names[] = {"rs256.jwt", "es256.jwt"};
    const char *evil = "{\"sub\":\"admin\",\"iss\":\"" ISSUER "\",\"aud\":\"authenticated\","
                       "\"iat\":1700000000,\"exp\":1700003600}";
    char *t, *h;
    (void)state;

    for (size_t i = 0; i < 2; i++) {
        char *tok = fixture_read_trimmed(FIXTURES, names[i], NULL);

        t = swap_payload(tok, evil);
        assert_int_equal(verify(&v, t, NOW, NULL), ERR_INVALID_TOKEN);
        free(t);
        flip(tok, 10);
        assert_int_equal(verify(&v, tok, NOW, NULL), ERR_INVALID_TOKEN);
        free(tok);
    }
    /* Truncated signatures. */
    t = fixture_read_trimmed(FIXTURES, "rs256.jwt", NULL);
    t[strlen(t) - 4] = '\0';
    assert_int_equal(verify(&v, t, NOW, NULL), ERR_INVALID_TOKEN);
    free(t);
    t = fixture_read_trimmed(FIXTURES, "es256.jwt", NULL);
    t[strlen(t) - 3] = '\0';
    assert_int_equal(verify(&v, t, NOW, NULL), ERR_INVALID_TOKEN);
    free(t);

    h = hs_payload("{\"sub\":\"u\",\"exp\":1700003600}");
    t = swap_payload(h, "{\"sub\":\"admin\",\"exp\":1700003600}");
    assert_int_equal(verify(&hv, h, NOW, NULL), ERR_OK);
    assert_int_equal(verify(&hv, t, NOW, NULL), ERR_INVALID_TOKEN);
    free(t);
    flip(h, 5);
    assert_int_equal(verify(&hv, h, NOW, NULL), ERR_INVALID_TOKEN);
    /* A non-canonical last character (same bytes, other unused bits). */
    free(h);
    h = hs_payload("{\"sub\":\"u\",\"exp\":1700003600}");
    {
        char *last = h + strlen(h) - 1;     /* 32-byte MAC: 43 chars, 2 unused bits */
        unsigned char dec[3];
        size_t n;
        static const char alpha[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        int idx = (int)(strchr(alpha, *last) - alpha);
        *last = alpha[idx ^ 1];
        assert_int_equal(jwt_b64url_decode(last - 2, 3, dec, sizeof dec, &n), -1);
    }
    assert_int_equal(verify(&hv, h, NOW, NULL), ERR_INVALID_TOKEN);
    free(h);
    jwks_free(k);
}

static void test_alg_not_allowed(void **state)
{
    struct jwks *k = jwks_fixture("jwks.json");
    struct jwt_verifier both = hs_verifier();
    struct jwt_verifier pub = {.jwks = k, .leeway_s = 60, .require_exp = 1};
    struct jwt_verifier hs = hs_verifier();
    static const char *algs[] = {"none", "None", "NONE", "HS384", "HS512", "RS384", "PS256",
                                 "ES384", "EdDSA", "", "HS256 ", "hs256"};
    const char *payload = "{\"sub\":\"u\",\"exp\":1700003600}";
    char hdr[128], *t, *rs, *conf;
    (void)state;

    both.jwks = k;
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        snprintf(hdr, sizeof hdr, "{\"alg\":\"%s\",\"typ\":\"JWT\"}", algs[i]);
        t = hs_token(hdr, payload);
        assert_int_equal(verify(&both, t, NOW, NULL), ERR_TOKEN_ALG_NOT_ALLOWED);
        /* alg none with an empty signature, the classic form. */
        strrchr(t, '.')[1] = '\0';
        assert_int_equal(verify(&both, t, NOW, NULL), ERR_TOKEN_ALG_NOT_ALLOWED);
        free(t);
    }
    /* HS256 where only public keys are configured. */
    t = hs_payload(payload);
    assert_int_equal(verify(&pub, t, NOW, NULL), ERR_TOKEN_ALG_NOT_ALLOWED);
    free(t);
    /* Key confusion: HMAC keyed with the RSA public key PEM, kid of the RSA key. */
    conf = fixture_read_trimmed(FIXTURES, "hs256_confusion.jwt", NULL);
    assert_int_equal(verify(&pub, conf, NOW, NULL), ERR_TOKEN_ALG_NOT_ALLOWED);
    assert_int_equal(verify(&both, conf, NOW, NULL), ERR_INVALID_TOKEN);
    free(conf);
    /* RS256 where only a shared secret is configured. */
    rs = fixture_read_trimmed(FIXTURES, "rs256.jwt", NULL);
    assert_int_equal(verify(&hs, rs, NOW, NULL), ERR_TOKEN_ALG_NOT_ALLOWED);
    free(rs);
    /* An empty secret counts as no secret. */
    hs.hs_secret_len = 0;
    t = hs_token_key(HS_HEADER, payload, "", 0);
    assert_int_equal(verify(&hs, t, NOW, NULL), ERR_TOKEN_ALG_NOT_ALLOWED);
    free(t);
    /* ES256 signed by the EC key, naming the RSA key: never valid. */
    t = fixture_read_trimmed(FIXTURES, "es256_rsa_kid.jwt", NULL);
    assert_int_equal(verify(&pub, t, NOW, NULL), ERR_TOKEN_ALG_NOT_ALLOWED);
    free(t);
    jwks_free(k);
}

static void test_unknown_kid_static(void **state)
{
    struct jwks *k = jwks_fixture("jwks.json");
    struct jwt_verifier v = {.jwks = k, .leeway_s = 60, .require_exp = 1};
    char *t = fixture_read_trimmed(FIXTURES, "rs256_unknown_kid.jwt", NULL);
    char *nokid = fixture_read_trimmed(FIXTURES, "rs256_nokid.jwt", NULL);
    (void)state;

    assert_int_equal(verify(&v, t, NOW, NULL), ERR_TOKEN_UNKNOWN_KID);
    /* No kid, two keys: which one is unknown. */
    assert_int_equal(verify(&v, nokid, NOW, NULL), ERR_TOKEN_UNKNOWN_KID);
    jwks_free(k);
    /* No kid, one key: that key. */
    k = jwks_fixture("jwks_rsa.json");
    v.jwks = k;
    assert_int_equal(verify(&v, nokid, NOW, NULL), ERR_OK);
    assert_int_equal(verify(&v, t, NOW, NULL), ERR_TOKEN_UNKNOWN_KID);
    free(nokid);
    free(t);
    jwks_free(k);
}

static void test_exp_leeway(void **state)
{
    struct jwt_verifier v = hs_verifier();
    char p[256], *t;
    (void)state;

    snprintf(p, sizeof p, "{\"sub\":\"u\",\"exp\":%lld}", (long long)(NOW - 30));
    t = hs_payload(p);
    assert_int_equal(verify(&v, t, NOW, NULL), ERR_OK);             /* within leeway */
    assert_int_equal(verify(&v, t, NOW + 30, NULL), ERR_OK);        /* exactly at the edge */
    assert_int_equal(verify(&v, t, NOW + 31, NULL), ERR_TOKEN_EXPIRED);
    v.leeway_s = 0;
    assert_int_equal(verify(&v, t, NOW, NULL), ERR_TOKEN_EXPIRED);
    v.leeway_s = -100;      /* negative leeway counts as 0, never as stricter-than-exp */
    assert_int_equal(verify(&v, t, NOW - 30, NULL), ERR_OK);
    free(t);

    /* exp is required ... */
    v = hs_verifier();
    t = hs_payload("{\"sub\":\"u\"}");
    assert_int_equal(verify(&v, t, NOW, NULL), ERR_INVALID_TOKEN);
    /* ... unless the verifier says otherwise. */
    v.require_exp = 0;
    assert_int_equal(verify(&v, t, NOW, NULL), ERR_OK);
    free(t);

    /* Fractional NumericDate rounds to the stricter side. */
    v = hs_verifier();
    v.leeway_s = 0;
    snprintf(p, sizeof p, "{\"exp\":%lld.5}", (long long)NOW);
    t = hs_payload(p);
    assert_int_equal(verify(&v, t, NOW, NULL), ERR_OK);
    assert_int_equal(verify(&v, t, NOW + 1, NULL), ERR_TOKEN_EXPIRED);
    free(t);
}

static void test_nbf(void **state)
{
    struct jwt_verifier v = hs_verifier();
    char p[256], *t;
    struct jwt_claims c;
    (void)state;

    snprintf(p, sizeof p, "{\"sub\":\"u\",\"exp\":%lld,\"nbf\":%lld}", (long long)(NOW + 3600),
             (long long)(NOW + 61));
    t = hs_payload(p);
    assert_int_equal(verify(&v, t, NOW, NULL), ERR_TOKEN_NOT_YET_VALID);
    assert_int_equal(verify(&v, t, NOW + 1, &c), ERR_OK);
    assert_true(c.has_nbf);
    assert_int_equal(c.nbf, NOW + 61);
    free(t);
}

static void test_issuer(void **state)
{
    struct jwt_verifier v = hs_verifier();
    char *good = hs_payload("{\"iss\":\"codeinsight\",\"exp\":1700003600}");
    char *bad = hs_payload("{\"iss\":\"codeinsight.evil\",\"exp\":1700003600}");
    char *none = hs_payload("{\"exp\":1700003600}");
    char *num = hs_payload("{\"iss\":7,\"exp\":1700003600}");
    (void)state;

    v.issuer = "codeinsight";
    assert_int_equal(verify(&v, good, NOW, NULL), ERR_OK);
    assert_int_equal(verify(&v, bad, NOW, NULL), ERR_TOKEN_WRONG_ISSUER);
    assert_int_equal(verify(&v, none, NOW, NULL), ERR_TOKEN_WRONG_ISSUER);
    assert_int_equal(verify(&v, num, NOW, NULL), ERR_INVALID_TOKEN);
    v.issuer = "";
    assert_int_equal(verify(&v, bad, NOW, NULL), ERR_OK);
    v.issuer = NULL;
    assert_int_equal(verify(&v, none, NOW, NULL), ERR_OK);
    free(good);
    free(bad);
    free(none);
    free(num);
}

static void test_audience(void **state)
{
    static const struct { const char *aud; int want; } cases[] = {
        {"\"authenticated\"", ERR_OK},
        {"\"authenticated2\"", ERR_TOKEN_WRONG_AUDIENCE},
        {"[\"x\",\"authenticated\"]", ERR_OK},
        {"[\"x\",\"y\"]", ERR_TOKEN_WRONG_AUDIENCE},
        {"[]", ERR_TOKEN_WRONG_AUDIENCE},
        {NULL, ERR_TOKEN_WRONG_AUDIENCE},
        {"7", ERR_INVALID_TOKEN},
        {"[\"authenticated\",7]", ERR_INVALID_TOKEN},
        {"{\"a\":\"authenticated\"}", ERR_INVALID_TOKEN},
        {"null", ERR_INVALID_TOKEN},
    };
    struct jwt_verifier v = hs_verifier();
    char p[256], *t;
    (void)state;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].aud != NULL)
            snprintf(p, sizeof p, "{\"aud\":%s,\"exp\":1700003600}", cases[i].aud);
        else
            snprintf(p, sizeof p, "{\"exp\":1700003600}");
        t = hs_payload(p);
        v.audience = "authenticated";
        assert_int_equal(verify(&v, t, NOW, NULL), cases[i].want);
        /* Without an audience to check only the type matters. */
        v.audience = NULL;
        assert_int_equal(verify(&v, t, NOW, NULL),
                         cases[i].want == ERR_INVALID_TOKEN ? ERR_INVALID_TOKEN : ERR_OK);
        free(t);
    }
}

static void test_claim_types(void **state)
{
    static const char *bad[] = {
        "{\"exp\":\"1700003600\"}",
        "{\"exp\":null}",
        "{\"exp\":true}",
        "{\"exp\":1700003600,\"iat\":\"x\"}",
        "{\"exp\":1700003600,\"nbf\":[1]}",
        "{\"exp\":1e300}",
        "{\"exp\":-1e300}",
        "{\"exp\":1e999}",
        "{\"exp\":1700003600,\"sub\":7}",
        "{\"exp\":1700003600,\"sub\":null}",
        "{\"exp\":1700003600,\"email\":{}}",
        "{\"exp\":1700003600,\"plan\":[\"pro\"]}",
        "{\"exp\":1700003600,\"sub\":\"a\",\"sub\":\"b\"}",
        "{\"exp\":1700003600,\"exp\":1800000000}",
        "{\"exp\":1700003600,\"plan\":\"0123456789abcdef\"}",      /* 16 > 15 */
        "{\"exp\":1700003600,\"sub\":\"a\\u0000b\"}",
        "{\"exp\":1700003600,\"sub\":\"tab\tinside\"}",
        "[1700003600]",
        "\"exp\"",
        "{\"exp\":1700003600",
        "{\"exp\":1700003600} x",
    };
    struct jwt_verifier v = hs_verifier();
    char p[1024], *t;
    struct jwt_claims c;
    (void)state;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t = hs_payload(bad[i]);
        if (verify(&v, t, NOW, NULL) != ERR_INVALID_TOKEN)
            fail_msg("payload %s accepted", bad[i]);
        free(t);
    }
    /* Longest values that fit; one more byte does not. */
    snprintf(p, sizeof p, "{\"exp\":1700003600,\"sub\":\"%0255d\",\"plan\":\"business\"}", 0);
    t = hs_payload(p);
    assert_int_equal(verify(&v, t, NOW, &c), ERR_OK);
    assert_int_equal(strlen(c.sub), 255);
    free(t);
    snprintf(p, sizeof p, "{\"exp\":1700003600,\"sub\":\"%0256d\"}", 0);
    t = hs_payload(p);
    assert_int_equal(verify(&v, t, NOW, NULL), ERR_INVALID_TOKEN);
    free(t);
    snprintf(p, sizeof p, "{\"exp\":1700003600,\"email\":\"%0319d\"}", 0);
    t = hs_payload(p);
    assert_int_equal(verify(&v, t, NOW, NULL), ERR_OK);
    free(t);
    snprintf(p, sizeof p, "{\"exp\":1700003600,\"email\":\"%0320d\"}", 0);
    t = hs_payload(p);
    assert_int_equal(verify(&v, t, NOW, NULL), ERR_INVALID_TOKEN);
    free(t);
    /* Unknown claims of any type are fine; a number is fine as a float. */
    t = hs_payload("{\"exp\":1700003600.0,\"role\":[1,{}],\"app_metadata\":{\"x\":null}}");
    assert_int_equal(verify(&v, t, NOW, NULL), ERR_OK);
    free(t);
}

static void test_max_lifetime(void **state)
{
    struct jwt_verifier v = hs_verifier();
    char p[256], *t;
    (void)state;

    v.max_lifetime_s = 3600;
    snprintf(p, sizeof p, "{\"iat\":%lld,\"exp\":%lld}", (long long)NOW, (long long)(NOW + 3600));
    t = hs_payload(p);
    assert_int_equal(verify(&v, t, NOW, NULL), ERR_OK);
    free(t);
    snprintf(p, sizeof p, "{\"iat\":%lld,\"exp\":%lld}", (long long)NOW, (long long)(NOW + 3601));
    t = hs_payload(p);
    assert_int_equal(verify(&v, t, NOW, NULL), ERR_INVALID_TOKEN);
    v.max_lifetime_s = 0;
    assert_int_equal(verify(&v, t, NOW, NULL), ERR_OK);
    free(t);
    /* Without iat the lifetime cannot be bounded. */
    v.max_lifetime_s = 3600;
    snprintf(p, sizeof p, "{\"exp\":%lld}", (long long)(NOW + 60));
    t = hs_payload(p);
    assert_int_equal(verify(&v, t, NOW, NULL), ERR_INVALID_TOKEN);
    free(t);
    /* Issued "in the future" to stretch the window. */
    snprintf(p, sizeof p, "{\"iat\":%lld,\"exp\":%lld}", (long long)(NOW + 86400),
             (long long)(NOW + 86400 + 3600));
    t = hs_payload(p);
    assert_int_equal(verify(&v, t, NOW, NULL), ERR_INVALID_TOKEN);
    free(t);
    /* iat a little ahead (clock skew) is within the leeway. */
    snprintf(p, sizeof p, "{\"iat\":%lld,\"exp\":%lld}", (long long)(NOW + 60),
             (long long)(NOW + 3600));
    t = hs_payload(p);
    assert_int_equal(verify(&v, t, NOW, NULL), ERR_OK);
    free(t);
}

static void test_too_large(void **state)
{
    struct jwt_verifier v = hs_verifier();
    struct jwt_claims c;
    struct err e;
    char *big = malloc(JWT_MAX_LEN + 2);
    char p[JWT_MAX_LEN];
    char *t;
    (void)state;

    assert_non_null(big);
    memset(big, 'A', JWT_MAX_LEN + 1);
    big[JWT_MAX_LEN + 1] = '\0';
    big[10] = '.';
    big[20] = '.';
    assert_int_equal(jwt_verify(&v, big, JWT_MAX_LEN + 1, NOW, &c, &e), ERR_TOKEN_TOO_LARGE);
    assert_int_equal(jwt_peek(big, JWT_MAX_LEN + 1, &c, &e), ERR_TOKEN_TOO_LARGE);
    /* At the limit it is parsed (and is garbage). */
    assert_int_equal(jwt_verify(&v, big, JWT_MAX_LEN, NOW, &c, &e), ERR_INVALID_TOKEN);
    free(big);

    /* A well-formed token just over the limit. */
    snprintf(p, sizeof p, "{\"exp\":1700003600,\"pad\":\"%06100d\"}", 0);
    t = hs_payload(p);
    assert_true(strlen(t) > JWT_MAX_LEN);
    assert_int_equal(verify(&v, t, NOW, NULL), ERR_TOKEN_TOO_LARGE);
    free(t);
    /* And one just under it verifies. */
    snprintf(p, sizeof p, "{\"exp\":1700003600,\"pad\":\"%05900d\"}", 0);
    t = hs_payload(p);
    assert_true(strlen(t) <= JWT_MAX_LEN);
    assert_int_equal(verify(&v, t, NOW, NULL), ERR_OK);
    free(t);
}

static void test_malformed(void **state)
{
    static const char *raw[] = {
        "",
        ".",
        "..",
        "abc",
        "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDM2MDB9",                 /* 2 segments */
        "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDM2MDB9.AAAA.AAAA",       /* 4 segments */
        "eyJhbGciOiJIUzI1NiJ9..AAAA",                                     /* empty payload */
        ".eyJleHAiOjE3MDAwMDM2MDB9.AAAA",                                 /* empty header */
        "eyJhbGciOiJIUzI1NiJ9=.eyJleHAiOjE3MDAwMDM2MDB9.AAAA",           /* padding */
        "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDM2MDB9.AA+A",            /* '+' */
        "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDM2MDB9.AA/A",            /* '/' */
        "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDM2MDB9.AAAAA",           /* 4k+1 chars */
        "eyJhbGciOiJIUzI1NiJ9 .eyJleHAiOjE3MDAwMDM2MDB9.AAAA",           /* space */
        "bm90IGpzb24.eyJleHAiOjE3MDAwMDM2MDB9.AAAA",                      /* "not json" */
        "WzFd.eyJleHAiOjE3MDAwMDM2MDB9.AAAA",                             /* "[1]" */
        "IkhTMjU2Ig.eyJleHAiOjE3MDAwMDM2MDB9.AAAA",                       /* "\"HS256\"" */
        "e30.eyJleHAiOjE3MDAwMDM2MDB9.AAAA",                              /* "{}" */
    };
    static const char *headers[] = {
        "{\"alg\":7}",
        "{\"alg\":null}",
        "{\"typ\":\"JWT\"}",
        "{\"alg\":\"HS256\",\"alg\":\"none\"}",
        "{\"alg\":\"none\",\"alg\":\"HS256\"}",
        "{\"alg\":\"HS256\",\"kid\":7}",
        "{\"alg\":\"HS256\",\"typ\":1}",
        "{\"alg\":\"HS256\",\"crit\":[\"exp\"]}",
        "{\"alg\":\"HS256\\u0000x\"}",
        "{\"alg\":\"HS256\"} trailing",
        "{\"alg\":\"HS256\"",
    };
    struct jwt_verifier v = hs_verifier();
    struct jwt_claims c;
    struct err e;
    char *t;
    (void)state;

    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
        int rc = jwt_verify(&v, raw[i], strlen(raw[i]), NOW, &c, &e);
        if (rc != ERR_INVALID_TOKEN)
            fail_msg("token %zu (%s): %s", i, raw[i], err_code_str(rc));
        assert_int_equal(jwt_peek(raw[i], strlen(raw[i]), &c, &e), ERR_INVALID_TOKEN);
    }
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        t = hs_token(headers[i], "{\"exp\":1700003600}");
        if (verify(&v, t, NOW, NULL) != ERR_INVALID_TOKEN)
            fail_msg("header %s not refused as invalid", headers[i]);
        free(t);
    }
    /* A kid too long for struct jwt_claims. */
    {
        char h[256];
        snprintf(h, sizeof h, "{\"alg\":\"HS256\",\"kid\":\"%0128d\"}", 0);
        t = hs_token(h, "{\"exp\":1700003600}");
        assert_int_equal(verify(&v, t, NOW, NULL), ERR_INVALID_TOKEN);
        free(t);
    }
    /* Not NUL-terminated: only len bytes are read. */
    t = hs_payload("{\"exp\":1700003600}");
    {
        size_t n = strlen(t);
        char *copy = malloc(n);
        assert_non_null(copy);
        memcpy(copy, t, n);
        assert_int_equal(jwt_verify(&v, copy, n, NOW, &c, &e), ERR_OK);
        assert_int_equal(jwt_verify(&v, copy, n - 1, NOW, &c, &e), ERR_INVALID_TOKEN);
        free(copy);
    }
    free(t);
    /* Extra header members we do not use are fine. */
    t = hs_token("{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"kid\":\"k1\",\"x5u\":\"http://x\"}",
                 "{\"exp\":1700003600}");
    assert_int_equal(verify(&v, t, NOW, &c), ERR_OK);
    assert_string_equal(c.kid, "k1");
    free(t);
}

static void test_peek(void **state)
{
    char *rs = fixture_read_trimmed(FIXTURES, "rs256.jwt", NULL);
    struct jwt_claims c;
    struct err e;
    char *t;
    (void)state;

    assert_int_equal(jwt_peek(rs, strlen(rs), &c, &e), ERR_OK);
    assert_string_equal(c.iss, ISSUER);
    assert_string_equal(c.kid, "rsa-1");
    assert_string_equal(c.alg, "RS256");
    assert_string_equal(c.sub, "user-1");
    assert_int_equal(c.exp, 1700003600);
    /* No signature check: a tampered signature still peeks. */
    flip(rs, 10);
    assert_int_equal(jwt_peek(rs, strlen(rs), &c, &e), ERR_OK);
    free(rs);
    /* Nor an alg check. */
    t = hs_token("{\"alg\":\"none\"}", "{\"iss\":\"x\"}");
    assert_int_equal(jwt_peek(t, strlen(t), &c, &e), ERR_OK);
    assert_string_equal(c.iss, "x");
    assert_string_equal(c.alg, "none");
    free(t);
    /* But types are checked. */
    t = hs_token(HS_HEADER, "{\"iss\":1}");
    assert_int_equal(jwt_peek(t, strlen(t), &c, &e), ERR_INVALID_TOKEN);
    assert_string_equal(c.alg, "");
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64url),
        cmocka_unit_test(test_hs256_round_trip),
        cmocka_unit_test(test_sign_errors),
        cmocka_unit_test(test_hs256_openssl_fixture),
        cmocka_unit_test(test_rs256_es256_valid),
        cmocka_unit_test(test_tampered),
        cmocka_unit_test(test_alg_not_allowed),
        cmocka_unit_test(test_unknown_kid_static),
        cmocka_unit_test(test_exp_leeway),
        cmocka_unit_test(test_nbf),
        cmocka_unit_test(test_issuer),
        cmocka_unit_test(test_audience),
        cmocka_unit_test(test_claim_types),
        cmocka_unit_test(test_max_lifetime),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_peek),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
