/* pkey.c - JWK public keys and JWS signature verification with OpenSSL 3. */
#include "common/pkey.h"

#include "common/err.h"
#include "common/json.h"
#include "common/jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

enum pkey_kind { PKEY_KIND_RSA, PKEY_KIND_EC_P256 };

struct pkey {
    enum pkey_kind kind;
    int bits;           /* modulus bits (RSA) or 256 */
    EVP_PKEY *evp;      /* owns; only read after construction */
};

/* Coordinate of a P-256 point, bytes. */
#define P256_COORD 32
/* Largest decoded n: PKEY_RSA_MAX_BITS plus one leading zero byte. */
#define RSA_N_MAX (PKEY_RSA_MAX_BITS / 8 + 1)
/* Largest decoded e, bytes. */
#define RSA_E_MAX 4

/* Decodes the base64url string member name of jwk into out; the decoded
 * length must lie in min..cap. Returns 0, or -1 with e set. */
static int jwk_bytes(const cJSON *jwk, const char *name, unsigned char *out, size_t min,
                     size_t cap, size_t *out_len, struct err *e)
{
    const char *s = json_str(jwk, name);

    if (s == NULL) {
        err_set(e, ERR_PROTOCOL, "JWK member %s missing or not a string", name);
        return -1;
    }
    if (jwt_b64url_decode(s, strlen(s), out, cap, out_len) != 0 || *out_len < min) {
        err_set(e, ERR_PROTOCOL, "JWK member %s malformed or of the wrong size", name);
        return -1;
    }
    return 0;
}

/* Runs OpenSSL's own sanity checks on a freshly imported public key
 * (for EC: the point is on the curve and not the identity). */
static int evp_public_ok(EVP_PKEY *evp)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, evp, NULL);
    int ok = c != NULL && EVP_PKEY_public_check(c) == 1;

    EVP_PKEY_CTX_free(c);
    return ok;
}

/* Imports params as a public key of type name ("RSA", "EC"). Owns; NULL on failure. */
static EVP_PKEY *evp_from_params(const char *name, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *evp = NULL;

    if (params == NULL)
        return NULL;
    ctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL);
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &evp, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        EVP_PKEY_free(evp);
        evp = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return evp;
}

static EVP_PKEY *rsa_from_jwk(const cJSON *jwk, int *bits, struct err *e)
{
    unsigned char nb[RSA_N_MAX], eb[RSA_E_MAX];
    size_t n_len, e_len;
    BIGNUM *n = NULL, *ex = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    EVP_PKEY *evp = NULL;

    if (jwk_bytes(jwk, "n", nb, 1, sizeof nb, &n_len, e) != 0 ||
        jwk_bytes(jwk, "e", eb, 1, sizeof eb, &e_len, e) != 0)
        return NULL;
    n = BN_bin2bn(nb, (int)n_len, NULL);
    ex = BN_bin2bn(eb, (int)e_len, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (n == NULL || ex == NULL || bld == NULL) {
        err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    *bits = BN_num_bits(n);
    if (*bits < PKEY_RSA_MIN_BITS || *bits > PKEY_RSA_MAX_BITS) {
        err_set(e, ERR_PROTOCOL, "RSA modulus of %d bits (accepted: %d..%d)", *bits,
                PKEY_RSA_MIN_BITS, PKEY_RSA_MAX_BITS);
        goto out;
    }
    if (!BN_is_odd(ex) || BN_is_one(ex)) {
        err_set(e, ERR_PROTOCOL, "RSA public exponent not usable");
        goto out;
    }
    if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, ex) != 1) {
        err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    evp = evp_from_params("RSA", bld);
    if (evp == NULL || !evp_public_ok(evp)) {
        EVP_PKEY_free(evp);
        evp = NULL;
        err_set(e, ERR_PROTOCOL, "RSA key rejected by OpenSSL");
    }
out:
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(ex);
    return evp;
}

static EVP_PKEY *ec_from_jwk(const cJSON *jwk, struct err *e)
{
    unsigned char point[1 + 2 * P256_COORD];
    size_t x_len, y_len;
    const char *crv = json_str(jwk, "crv");
    OSSL_PARAM_BLD *bld = NULL;
    EVP_PKEY *evp = NULL;

    if (crv == NULL || strcmp(crv, "P-256") != 0) {
        err_set(e, ERR_PROTOCOL, "EC JWK curve not supported (only P-256)");
        return NULL;
    }
    /* Uncompressed SEC1 point: 0x04 || x || y. */
    point[0] = 0x04;
    if (jwk_bytes(jwk, "x", point + 1, P256_COORD, P256_COORD, &x_len, e) != 0 ||
        jwk_bytes(jwk, "y", point + 1 + P256_COORD, P256_COORD, P256_COORD, &y_len, e) != 0)
        return NULL;
    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL ||
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point) != 1) {
        err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    evp = evp_from_params("EC", bld);
    if (evp == NULL || !evp_public_ok(evp)) {
        EVP_PKEY_free(evp);
        evp = NULL;
        err_set(e, ERR_PROTOCOL, "EC key rejected by OpenSSL (point not on P-256?)");
    }
out:
    OSSL_PARAM_BLD_free(bld);
    return evp;
}

struct pkey *pkey_from_jwk(const struct cJSON *jwk, struct err *e)
{
    const char *kty = json_str(jwk, "kty");
    struct pkey *k;
    EVP_PKEY *evp;
    enum pkey_kind kind;
    int bits = 256;

    if (!cJSON_IsObject(jwk) || kty == NULL) {
        err_set(e, ERR_PROTOCOL, "JWK is not an object with a string kty");
        return NULL;
    }
    if (strcmp(kty, "RSA") == 0) {
        kind = PKEY_KIND_RSA;
        evp = rsa_from_jwk(jwk, &bits, e);
    } else if (strcmp(kty, "EC") == 0) {
        kind = PKEY_KIND_EC_P256;
        evp = ec_from_jwk(jwk, e);
    } else {
        err_set(e, ERR_PROTOCOL, "JWK kty not supported (only RSA and EC)");
        return NULL;
    }
    /* Failed imports leave reasons on this thread's OpenSSL error queue. */
    ERR_clear_error();
    if (evp == NULL)
        return NULL;
    k = malloc(sizeof *k);
    if (k == NULL) {
        EVP_PKEY_free(evp);
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    k->kind = kind;
    k->bits = bits;
    k->evp = evp;
    return k;
}

const char *pkey_alg(const struct pkey *k)
{
    return k->kind == PKEY_KIND_RSA ? "RS256" : "ES256";
}

int pkey_bits(const struct pkey *k)
{
    return k->bits;
}

/* Converts a raw JWS r||s signature to DER (owns; OPENSSL_free()). Returns the
 * DER length, or -1. */
static int es256_raw_to_der(const unsigned char *sig, unsigned char **der)
{
    ECDSA_SIG *s = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, P256_COORD, NULL);
    BIGNUM *sv = BN_bin2bn(sig + P256_COORD, P256_COORD, NULL);
    int n = -1;

    if (s == NULL || r == NULL || sv == NULL || ECDSA_SIG_set0(s, r, sv) != 1) {
        BN_free(r);
        BN_free(sv);
        ECDSA_SIG_free(s);
        return -1;
    }
    /* s owns r and sv now. */
    *der = NULL;
    n = i2d_ECDSA_SIG(s, der);
    ECDSA_SIG_free(s);
    return n > 0 ? n : -1;
}

int pkey_verify(const struct pkey *k, const char *alg, const void *msg, size_t len,
                const unsigned char *sig, size_t sig_len)
{
    EVP_MD_CTX *m = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char *der = NULL;
    const unsigned char *s = sig;
    size_t s_len = sig_len;
    int ok = 0;

    if (k == NULL || alg == NULL || strcmp(alg, pkey_alg(k)) != 0)
        return 0;
    if (k->kind == PKEY_KIND_RSA) {
        /* RFC 7518 3.3: the signature is exactly as long as the modulus. */
        if (sig_len != (size_t)EVP_PKEY_get_size(k->evp))
            return 0;
    } else {
        int n;

        if (sig_len != 2 * P256_COORD)
            return 0;
        n = es256_raw_to_der(sig, &der);
        if (n < 0)
            goto out;
        s = der;
        s_len = (size_t)n;
    }
    m = EVP_MD_CTX_new();
    if (m == NULL || EVP_DigestVerifyInit_ex(m, &pctx, "SHA256", NULL, NULL, k->evp, NULL) != 1)
        goto out;
    if (k->kind == PKEY_KIND_RSA && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
        goto out;
    ok = EVP_DigestVerify(m, s, s_len, msg, len) == 1;
out:
    EVP_MD_CTX_free(m);
    OPENSSL_free(der);
    /* A bad signature leaves reasons on this thread's error queue. */
    ERR_clear_error();
    return ok;
}

void pkey_free(struct pkey *k)
{
    if (k == NULL)
        return;
    EVP_PKEY_free(k->evp);
    free(k);
}
