/* jwt.c - JWS compact tokens: parsing, HS256 signing, verification. */
#include "common/jwt.h"

#include "common/crypto.h"
#include "common/err.h"
#include "common/json.h"
#include "common/jwks.h"
#include "common/utf8.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest decoded segment: a whole token of base64url is 3/4 as many bytes. */
#define SEG_MAX (JWT_MAX_LEN / 4 * 3 + 3)
/* HMAC-SHA-256 output, bytes. */
#define HS256_LEN 32
/* Claim times are kept within +-2^53 s so that sums with a leeway cannot
 * overflow and every value is exact in a double. */
#define JWT_TIME_MAX INT64_C(9007199254740992)

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t jwt_b64url_len(size_t n)
{
    return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

size_t jwt_b64url_encode(const void *in, size_t n, char *out, size_t cap)
{
    const unsigned char *p = in;
    size_t need = jwt_b64url_len(n), o = 0, i = 0;

    if (cap < need + 1)
        return 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = b64url_alphabet[v >> 18];
        out[o++] = b64url_alphabet[(v >> 12) & 63];
        out[o++] = b64url_alphabet[(v >> 6) & 63];
        out[o++] = b64url_alphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        out[o++] = b64url_alphabet[v >> 18];
        out[o++] = b64url_alphabet[(v >> 12) & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        out[o++] = b64url_alphabet[v >> 18];
        out[o++] = b64url_alphabet[(v >> 12) & 63];
        out[o++] = b64url_alphabet[(v >> 6) & 63];
    }
    out[o] = '\0';
    return o;
}

static int b64url_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

int jwt_b64url_decode(const char *in, size_t n, unsigned char *out, size_t cap, size_t *out_len)
{
    size_t need = n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1);
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;

    *out_len = 0;
    if (n % 4 == 1 || need > cap)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int v = b64url_val((unsigned char)in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6 | (uint32_t)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    /* Leftover bits must be zero: otherwise several strings decode to the
     * same bytes, and a signature could be altered and still verify. */
    if ((acc & ((1u << bits) - 1)) != 0)
        return -1;
    *out_len = o;
    return 0;
}

/* A token split and decoded, before anything is verified. */
struct jwt_parts {
    cJSON *header;              /* owns; an object */
    const char *alg;            /* borrowed from header */
    const char *kid;            /* borrowed from header; NULL when absent */
    const char *payload_b64;    /* borrowed from the token */
    size_t payload_b64_len;
    size_t signing_len;         /* bytes of "header.payload" at the token's start */
    unsigned char sig[SEG_MAX];
    size_t sig_len;
};

/* 1 when obj holds at most one member called name. cJSON returns the first of
 * duplicates where RFC 7515 wants them refused or the last one taken: refusing
 * keeps every JSON parser that might look at this token in agreement. */
static int member_unique(const cJSON *obj, const char *name)
{
    int n = 0;

    for (const cJSON *c = obj->child; c != NULL; c = c->next)
        if (c->string != NULL && strcmp(c->string, name) == 0 && ++n > 1)
            return 0;
    return 1;
}

/* Decodes one segment and parses it as a JSON object (owns). NULL when the
 * segment is not strict base64url of a UTF-8 JSON object without NUL escapes
 * or raw control characters. */
static cJSON *segment_object(const char *seg, size_t n)
{
    char buf[SEG_MAX + 1];
    char key[8];
    size_t len;
    const char *end = NULL;
    cJSON *doc;

    if (n == 0 || jwt_b64url_decode(seg, n, (unsigned char *)buf, SEG_MAX, &len) != 0)
        return NULL;
    buf[len] = '\0';
    if (memchr(buf, '\0', len) != NULL || !utf8_valid(buf, len, NULL) ||
        json_find_nul_escape(buf, len, key, sizeof key) || json_raw_control(buf, len, NULL))
        return NULL;
    doc = cJSON_ParseWithOpts(buf, &end, 1);
    if (doc == NULL || !cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

/* Splits and decodes token into *p: exactly three segments, strict base64url,
 * a header object with a string alg, optional string kid and typ, no crit.
 * On ERR_OK the caller owns p->header. */
static int jwt_split(const char *token, size_t len, struct jwt_parts *p, struct err *e)
{
    const char *d1, *d2;
    const cJSON *alg, *kid, *typ;

    memset(p, 0, offsetof(struct jwt_parts, sig));
    p->sig_len = 0;
    if (len > JWT_MAX_LEN)
        return err_set(e, ERR_TOKEN_TOO_LARGE, "token over %d bytes", JWT_MAX_LEN);
    if (token == NULL || len == 0)
        return err_set(e, ERR_INVALID_TOKEN, "empty token");
    d1 = memchr(token, '.', len);
    d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
    if (d2 == NULL || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)) != NULL)
        return err_set(e, ERR_INVALID_TOKEN, "token is not three dot-separated segments");
    p->payload_b64 = d1 + 1;
    p->payload_b64_len = (size_t)(d2 - (d1 + 1));
    p->signing_len = (size_t)(d2 - token);
    if (p->payload_b64_len == 0 ||
        jwt_b64url_decode(d2 + 1, len - p->signing_len - 1, p->sig, sizeof p->sig,
                          &p->sig_len) != 0)
        return err_set(e, ERR_INVALID_TOKEN, "token payload or signature malformed");

    p->header = segment_object(token, (size_t)(d1 - token));
    if (p->header == NULL)
        return err_set(e, ERR_INVALID_TOKEN, "token header is not a base64url JSON object");
    alg = cJSON_GetObjectItemCaseSensitive(p->header, "alg");
    kid = cJSON_GetObjectItemCaseSensitive(p->header, "kid");
    typ = cJSON_GetObjectItemCaseSensitive(p->header, "typ");
    if (!member_unique(p->header, "alg") || !member_unique(p->header, "kid") ||
        !member_unique(p->header, "typ") || !cJSON_IsString(alg) ||
        (kid != NULL && !cJSON_IsString(kid)) || (typ != NULL && !cJSON_IsString(typ)) ||
        /* RFC 7515 4.1.11: extensions we do not understand must be refused. */
        cJSON_GetObjectItemCaseSensitive(p->header, "crit") != NULL) {
        cJSON_Delete(p->header);
        p->header = NULL;
        return err_set(e, ERR_INVALID_TOKEN, "token header members missing or of the wrong type");
    }
    p->alg = alg->valuestring;
    p->kid = kid ? kid->valuestring : NULL;
    return ERR_OK;
}

/* Copies a string claim into dst (cap bytes). Returns 0, or -1 when it has
 * the wrong type, is duplicated or does not fit. */
static int claim_str(const cJSON *obj, const char *name, char *dst, size_t cap)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    size_t n;

    dst[0] = '\0';
    if (it == NULL)
        return 0;
    if (!cJSON_IsString(it) || !member_unique(obj, name))
        return -1;
    n = strlen(it->valuestring);
    if (n >= cap)
        return -1;
    memcpy(dst, it->valuestring, n + 1);
    return 0;
}

/* Rounding of a NumericDate (which may have a fraction) to whole seconds,
 * always towards the stricter side. */
enum round_dir { ROUND_DOWN, ROUND_UP };

/* Reads a NumericDate claim. Returns 0 (with *has 0 or 1), or -1 when it is
 * not a number, is duplicated or lies beyond +-JWT_TIME_MAX. */
static int claim_time(const cJSON *obj, const char *name, enum round_dir dir, int64_t *v,
                      int *has)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    double d;
    int64_t t;

    *v = 0;
    *has = 0;
    if (it == NULL)
        return 0;
    if (!cJSON_IsNumber(it) || !member_unique(obj, name))
        return -1;
    d = it->valuedouble;
    /* Also false for NaN; cJSON turns 1e999 into infinity. */
    if (!(d >= -(double)JWT_TIME_MAX && d <= (double)JWT_TIME_MAX))
        return -1;
    t = (int64_t)d;
    if (dir == ROUND_DOWN && (double)t > d)
        t--;
    else if (dir == ROUND_UP && (double)t < d)
        t++;
    *v = t;
    *has = 1;
    return 0;
}

/* 1 when aud is absent, a string, or an array of strings. */
static int aud_well_typed(const cJSON *aud)
{
    const cJSON *it;

    if (aud == NULL || cJSON_IsString(aud))
        return 1;
    if (!cJSON_IsArray(aud))
        return 0;
    cJSON_ArrayForEach(it, aud)
        if (!cJSON_IsString(it))
            return 0;
    return 1;
}

/* Fills the header fields of *out from p. */
static int claims_from_header(const struct jwt_parts *p, struct jwt_claims *out, struct err *e)
{
    size_t alg_len = strlen(p->alg), kid_len = p->kid ? strlen(p->kid) : 0;

    if (alg_len >= sizeof out->alg || kid_len >= sizeof out->kid)
        return err_set(e, ERR_INVALID_TOKEN, "token header member too long");
    memcpy(out->alg, p->alg, alg_len + 1);
    if (p->kid != NULL)
        memcpy(out->kid, p->kid, kid_len + 1);
    return ERR_OK;
}

/* Parses the payload of p into *out (header fields included). On ERR_OK,
 * *payload is the payload object (owns). */
static int claims_parse(const struct jwt_parts *p, struct jwt_claims *out, cJSON **payload,
                        struct err *e)
{
    cJSON *doc;

    *payload = NULL;
    memset(out, 0, sizeof *out);
    if (claims_from_header(p, out, e) != ERR_OK)
        return ERR_INVALID_TOKEN;
    doc = segment_object(p->payload_b64, p->payload_b64_len);
    if (doc == NULL)
        return err_set(e, ERR_INVALID_TOKEN, "token payload is not a base64url JSON object");
    if (claim_str(doc, "sub", out->sub, sizeof out->sub) != 0 ||
        claim_str(doc, "iss", out->iss, sizeof out->iss) != 0 ||
        claim_str(doc, "email", out->email, sizeof out->email) != 0 ||
        claim_str(doc, "plan", out->plan, sizeof out->plan) != 0 ||
        claim_time(doc, "iat", ROUND_DOWN, &out->iat, &out->has_iat) != 0 ||
        claim_time(doc, "exp", ROUND_DOWN, &out->exp, &out->has_exp) != 0 ||
        claim_time(doc, "nbf", ROUND_UP, &out->nbf, &out->has_nbf) != 0 ||
        !member_unique(doc, "aud") ||
        !aud_well_typed(cJSON_GetObjectItemCaseSensitive(doc, "aud"))) {
        cJSON_Delete(doc);
        memset(out, 0, sizeof *out);
        return err_set(e, ERR_INVALID_TOKEN, "token claim of the wrong type or too long");
    }
    *payload = doc;
    return ERR_OK;
}

int jwt_peek(const char *token, size_t len, struct jwt_claims *out, struct err *e)
{
    struct jwt_parts *p = malloc(sizeof *p);
    cJSON *payload = NULL;
    int rc;

    memset(out, 0, sizeof *out);
    if (p == NULL)
        return err_set(e, ERR_INTERNAL, "out of memory");
    rc = jwt_split(token, len, p, e);
    if (rc == ERR_OK)
        rc = claims_parse(p, out, &payload, e);
    cJSON_Delete(payload);
    cJSON_Delete(p->header);
    free(p);
    return rc;
}

static int hs256_check(const struct jwt_verifier *v, const char *token,
                       const struct jwt_parts *p, struct err *e)
{
    unsigned char mac[HS256_LEN];
    int ok;

    if (p->sig_len != HS256_LEN)
        return err_set(e, ERR_INVALID_TOKEN, "token signature invalid");
    crypto_hmac_sha256(v->hs_secret, v->hs_secret_len, token, p->signing_len, mac);
    ok = crypto_equal(mac, p->sig, HS256_LEN);
    crypto_wipe(mac, sizeof mac);
    return ok ? ERR_OK : err_set(e, ERR_INVALID_TOKEN, "token signature invalid");
}

/* Checks alg against the allow-list, then the signature. */
static int signature_check(const struct jwt_verifier *v, const char *token,
                           const struct jwt_parts *p, struct err *e)
{
    /* The alg value is never echoed: it is part of the token. */
    if (strcmp(p->alg, "HS256") == 0) {
        if (v->hs_secret == NULL || v->hs_secret_len == 0)
            return err_set(e, ERR_TOKEN_ALG_NOT_ALLOWED, "HS256 tokens are not accepted here");
        return hs256_check(v, token, p, e);
    }
    if (strcmp(p->alg, "RS256") == 0 || strcmp(p->alg, "ES256") == 0) {
        if (v->jwks == NULL)
            return err_set(e, ERR_TOKEN_ALG_NOT_ALLOWED,
                           "public-key tokens are not accepted here");
        return jwks_verify(v->jwks, p->kid, p->alg, token, p->signing_len, p->sig, p->sig_len,
                           e);
    }
    return err_set(e, ERR_TOKEN_ALG_NOT_ALLOWED, "token alg not allowed");
}

/* 1 when aud (string or array of strings) contains want. */
static int aud_contains(const cJSON *aud, const char *want)
{
    const cJSON *it;

    if (cJSON_IsString(aud))
        return strcmp(aud->valuestring, want) == 0;
    cJSON_ArrayForEach(it, aud)
        if (cJSON_IsString(it) && strcmp(it->valuestring, want) == 0)
            return 1;
    return 0;
}

/* Checks the verified claims against v at now_s. */
static int claims_check(const struct jwt_verifier *v, const struct jwt_claims *c,
                        const cJSON *payload, int64_t now_s, struct err *e)
{
    int64_t leeway = v->leeway_s > 0 ? v->leeway_s : 0;

    /* Claim values are within +-2^53 and leeway within int: no overflow. */
    if (v->require_exp && !c->has_exp)
        return err_set(e, ERR_INVALID_TOKEN, "token has no exp");
    if (c->has_exp && now_s > c->exp + leeway)
        return err_set(e, ERR_TOKEN_EXPIRED, "token expired");
    if (c->has_nbf && now_s < c->nbf - leeway)
        return err_set(e, ERR_TOKEN_NOT_YET_VALID, "token not valid yet (nbf)");
    if (v->max_lifetime_s > 0) {
        if (!c->has_iat || !c->has_exp)
            return err_set(e, ERR_INVALID_TOKEN, "token lacks iat or exp");
        if (c->exp - c->iat > v->max_lifetime_s)
            return err_set(e, ERR_INVALID_TOKEN, "token lifetime over %" PRId64 " s",
                           v->max_lifetime_s);
        /* Otherwise a token issued "in the future" would outlive the limit. */
        if (c->iat - leeway > now_s)
            return err_set(e, ERR_INVALID_TOKEN, "token iat in the future");
    }
    if (v->issuer != NULL && v->issuer[0] != '\0' && strcmp(c->iss, v->issuer) != 0)
        return err_set(e, ERR_TOKEN_WRONG_ISSUER, "token issuer not accepted");
    if (v->audience != NULL && v->audience[0] != '\0') {
        const cJSON *aud = cJSON_GetObjectItemCaseSensitive(payload, "aud");
        if (aud == NULL || !aud_contains(aud, v->audience))
            return err_set(e, ERR_TOKEN_WRONG_AUDIENCE, "token audience not accepted");
    }
    return ERR_OK;
}

int jwt_verify(const struct jwt_verifier *v, const char *token, size_t len, int64_t now_s,
               struct jwt_claims *out, struct err *e)
{
    struct jwt_parts *p;
    cJSON *payload = NULL;
    int rc;

    memset(out, 0, sizeof *out);
    if (len > JWT_MAX_LEN)      /* before allocating anything */
        return err_set(e, ERR_TOKEN_TOO_LARGE, "token over %d bytes", JWT_MAX_LEN);
    p = malloc(sizeof *p);
    if (p == NULL)
        return err_set(e, ERR_INTERNAL, "out of memory");
    rc = jwt_split(token, len, p, e);
    if (rc != ERR_OK)
        goto out;
    rc = signature_check(v, token, p, e);
    if (rc != ERR_OK)
        goto out;
    /* Only now is the payload authentic. */
    rc = claims_parse(p, out, &payload, e);
    if (rc != ERR_OK)
        goto out;
    rc = claims_check(v, out, payload, now_s, e);
out:
    if (rc != ERR_OK)
        memset(out, 0, sizeof *out);
    cJSON_Delete(payload);
    cJSON_Delete(p->header);
    free(p);
    return rc;
}

/* 1 when s is NUL-terminated within cap bytes and valid UTF-8. */
static int field_ok(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    return n < cap && utf8_valid(s, n, NULL);
}

static int add_time(cJSON *obj, const char *name, int64_t v)
{
    char num[24];

    snprintf(num, sizeof num, "%" PRId64, v);
    return cJSON_AddRawToObject(obj, name, num) != NULL ? 0 : -1;
}

static int add_str(cJSON *obj, const char *name, const char *v)
{
    return v[0] == '\0' || cJSON_AddStringToObject(obj, name, v) != NULL ? 0 : -1;
}

int jwt_sign_hs256(const struct jwt_claims *c, const unsigned char *secret, size_t secret_len,
                   char *out, size_t cap, struct err *e)
{
    static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    unsigned char mac[HS256_LEN];
    cJSON *doc = NULL;
    char *json = NULL;
    size_t o, n;
    int rc = ERR_INTERNAL;

    if (cap > 0)
        out[0] = '\0';
    if (secret == NULL || secret_len == 0)
        return err_set(e, ERR_INTERNAL, "jwt_sign_hs256: empty secret");
    if (!field_ok(c->sub, sizeof c->sub) || !field_ok(c->iss, sizeof c->iss) ||
        !field_ok(c->email, sizeof c->email) || !field_ok(c->plan, sizeof c->plan))
        return err_set(e, ERR_INTERNAL, "jwt_sign_hs256: claim not a NUL-terminated UTF-8 string");
    doc = cJSON_CreateObject();
    if (doc == NULL || add_str(doc, "sub", c->sub) != 0 || add_str(doc, "iss", c->iss) != 0 ||
        add_str(doc, "plan", c->plan) != 0 || add_str(doc, "email", c->email) != 0 ||
        (c->has_iat && add_time(doc, "iat", c->iat) != 0) ||
        (c->has_nbf && add_time(doc, "nbf", c->nbf) != 0) ||
        (c->has_exp && add_time(doc, "exp", c->exp) != 0) ||
        (json = cJSON_PrintUnformatted(doc)) == NULL) {
        err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    o = jwt_b64url_encode(header, sizeof header - 1, out, cap);
    if (o == 0 || o + 1 >= cap)
        goto small;
    out[o++] = '.';
    n = jwt_b64url_encode(json, strlen(json), out + o, cap - o);
    if (n == 0 || o + n + 1 >= cap)
        goto small;
    o += n;
    crypto_hmac_sha256(secret, secret_len, out, o, mac);
    out[o++] = '.';
    n = jwt_b64url_encode(mac, sizeof mac, out + o, cap - o);
    crypto_wipe(mac, sizeof mac);
    if (n == 0)
        goto small;
    rc = ERR_OK;
    goto out;
small:
    out[0] = '\0';
    err_set(e, ERR_INTERNAL, "jwt_sign_hs256: output buffer of %zu bytes too small", cap);
out:
    cJSON_free(json);
    cJSON_Delete(doc);
    return rc;
}
