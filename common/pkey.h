/* pkey.h - public keys for JWS verification (the one place OpenSSL EVP, RSA
 * and EC are used).
 *
 * A struct pkey is immutable once built, so one key may verify in many
 * threads at once.
 *
 *     struct pkey *k = pkey_from_jwk(jwk, &e);     // owns
 *     ok = pkey_verify(k, "RS256", input, input_len, sig, sig_len);
 *     pkey_free(k);
 */
#ifndef CI_PKEY_H
#define CI_PKEY_H

#include <stddef.h>

struct cJSON;
struct err;

/* RSA moduli accepted, in bits. Below the minimum is weak; above the maximum
 * only makes verification slow (a peer could pick it to burn our CPU). */
#define PKEY_RSA_MIN_BITS 2048
#define PKEY_RSA_MAX_BITS 8192

struct pkey;

/* Builds a public key from the key material of a JWK object (borrowed):
 *   {"kty":"RSA", "n":..., "e":...}              -> verifies RS256 only
 *   {"kty":"EC", "crv":"P-256", "x":..., "y":...} -> verifies ES256 only
 * (n, e, x, y strict base64url, no padding). Only kty and the material are
 * looked at: use, alg, key_ops and kid are the caller's policy.
 * Returns the key (owns; pkey_free()), or NULL with ERR_PROTOCOL in e for an
 * unsupported kty or crv, malformed material, a point not on the curve, an
 * RSA modulus outside PKEY_RSA_MIN_BITS..PKEY_RSA_MAX_BITS bits or an
 * exponent that is even, 1, or over 32 bits; ERR_INTERNAL when out of memory. */
struct pkey *pkey_from_jwk(const struct cJSON *jwk, struct err *e);

/* The one JWS alg this key verifies: "RS256" or "ES256" (static string). */
const char *pkey_alg(const struct pkey *k);

/* Modulus bits for RSA, 256 for P-256. */
int pkey_bits(const struct pkey *k);

/* Verifies sig over msg[0..len) with alg ("RS256": RSASSA-PKCS1-v1_5 SHA-256,
 * sig exactly the modulus size; "ES256": ECDSA P-256 SHA-256, sig the raw
 * 64-byte r||s of JWS). Returns 1 when valid, 0 otherwise, including when alg
 * is anything else or is not this key's alg (an EC key never verifies RS256).
 * Thread-safe; allocates only transiently. */
int pkey_verify(const struct pkey *k, const char *alg, const void *msg, size_t len,
                const unsigned char *sig, size_t sig_len);

/* Frees k; accepts NULL. */
void pkey_free(struct pkey *k);

#endif
