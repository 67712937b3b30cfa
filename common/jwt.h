/* jwt.h - JSON Web Tokens in JWS compact form (RFC 7515, 7519).
 *
 * Accepted algs: HS256 with a shared secret, RS256 and ES256 with keys from a
 * JWKS (common/jwks.h). Anything else, "none" included, is refused. The
 * signature is checked before any claim is looked at.
 *
 *     struct jwt_verifier v = {.hs_secret = s, .hs_secret_len = n,
 *                              .issuer = "codeinsight", .leeway_s = 60,
 *                              .max_lifetime_s = 3600, .require_exp = 1};
 *     struct jwt_claims c;
 *     if (jwt_verify(&v, tok, tok_len, clock_now_ms() / 1000, &c, &e) != ERR_OK)
 *         ... e.code is one of the ERR_TOKEN_* / ERR_INVALID_TOKEN codes ...
 */
#ifndef CI_JWT_H
#define CI_JWT_H

#include <stddef.h>
#include <stdint.h>

struct err;
struct jwks;

/* Longest token accepted, bytes. */
#define JWT_MAX_LEN 8192

/* Claims and header fields of one token. Strings are NUL-terminated, "" when
 * absent; a value that does not fit its array makes the token invalid. */
struct jwt_claims {
    char sub[256];
    char iss[256];
    char email[320];
    char plan[16];
    char kid[128];              /* header */
    char alg[16];               /* header */
    int64_t iat, exp, nbf;      /* seconds since the epoch; valid when has_* */
    int has_iat, has_exp, has_nbf;
};

/* What a token must satisfy. All pointers are borrowed for the duration of
 * each jwt_verify() call; one verifier may be shared by many threads. */
struct jwt_verifier {
    const unsigned char *hs_secret;     /* HS256 key; NULL (or length 0): HS256 refused */
    size_t hs_secret_len;               /* bytes */
    struct jwks *jwks;                  /* RS256/ES256 keys; NULL: RS256/ES256 refused */
    const char *issuer;                 /* iss must equal it; NULL or "": not checked */
    const char *audience;               /* aud (string, or array of strings) must
                                         * contain it; NULL or "": not checked */
    int leeway_s;                       /* clock skew allowed on exp, nbf and iat, seconds */
    int64_t max_lifetime_s;             /* 0: no limit; else iat and exp are required,
                                         * exp - iat <= it and iat <= now + leeway */
    int require_exp;                    /* 1: a token without exp is invalid */
};

/* Parses header and payload WITHOUT verifying anything, to pick a verifier
 * (by iss) before jwt_verify(). Nothing in *out may be trusted.
 * Returns ERR_OK and fills *out; ERR_TOKEN_TOO_LARGE when len > JWT_MAX_LEN;
 * ERR_INVALID_TOKEN when the token is not three strict base64url segments,
 * the header or payload is not a JSON object, alg is missing, or a claim has
 * the wrong type or does not fit *out. token need not be NUL-terminated. */
int jwt_peek(const char *token, size_t len, struct jwt_claims *out, struct err *e);

/* Verifies token[0..len) at time now_s (seconds since the epoch): structure,
 * alg allow-list, signature (HS256 compared in constant time), then claims.
 * Returns ERR_OK and fills *out. Otherwise *out is zeroed and the result is
 *   ERR_TOKEN_TOO_LARGE        len > JWT_MAX_LEN
 *   ERR_INVALID_TOKEN          malformed (not 3 strict base64url segments, header
 *                              or payload not a JSON object, duplicate or "crit"
 *                              members), bad signature, a claim of the wrong
 *                              type (iat/exp/nbf not numbers, iss/sub/... not
 *                              strings, aud not a string or array of strings),
 *                              exp missing when required, lifetime over
 *                              max_lifetime_s, iat in the future
 *   ERR_TOKEN_ALG_NOT_ALLOWED  alg not HS256/RS256/ES256, HS256 without
 *                              hs_secret, RS256/ES256 without jwks, or alg not
 *                              the alg of the JWKS key named by kid
 *   ERR_TOKEN_UNKNOWN_KID      no JWKS key for kid, even after a refetch
 *   ERR_TOKEN_EXPIRED          now_s > exp + leeway_s
 *   ERR_TOKEN_NOT_YET_VALID    now_s + leeway_s < nbf
 *   ERR_TOKEN_WRONG_ISSUER     issuer set and iss differs or is missing
 *   ERR_TOKEN_WRONG_AUDIENCE   audience set and aud lacks it or is missing
 * The error message never contains the token, a claim value or the secret.
 * May block on a JWKS fetch (see jwks_verify()). Thread-safe. */
int jwt_verify(const struct jwt_verifier *v, const char *token, size_t len, int64_t now_s,
               struct jwt_claims *out, struct err *e);

/* Writes an HS256 token for c into out (cap bytes, NUL-terminated): header
 * {"alg":"HS256","typ":"JWT"}, payload with sub and iss (when not ""), plan
 * and email (when not ""), iat, nbf and exp (when has_*); kid and alg of c
 * are ignored. Returns ERR_OK; ERR_INTERNAL when secret_len is 0, a string
 * in c is not NUL-terminated, cap is too small or memory runs out. */
int jwt_sign_hs256(const struct jwt_claims *c, const unsigned char *secret, size_t secret_len,
                   char *out, size_t cap, struct err *e);

/* Strict base64url (RFC 4648 section 5) without padding, as JOSE uses it.
 * Encodes n bytes into out (cap >= jwt_b64url_len(n) + 1, NUL-terminated);
 * returns the length written, or 0 with out untouched when cap is too small
 * (and n > 0). */
size_t jwt_b64url_len(size_t n);
size_t jwt_b64url_encode(const void *in, size_t n, char *out, size_t cap);

/* Decodes in[0..n) into out (cap bytes), setting *out_len. Refuses padding,
 * characters outside [A-Za-z0-9_-], a length of 4k+1 and non-zero unused
 * trailing bits (so each byte string has one encoding). Returns 0, or -1 when
 * malformed or cap is too small. */
int jwt_b64url_decode(const char *in, size_t n, unsigned char *out, size_t cap, size_t *out_len);

#endif
