/* jwks.h - a cached JSON Web Key Set (RFC 7517) for RS256/ES256 verification.
 *
 * One struct jwks is shared by every gateway thread: jwks_verify() may run in
 * any number of threads at once, alongside jwks_load_json()/jwks_refresh().
 * Keys are held in an immutable, reference-counted set: a verification uses
 * the set it started with even if another thread swaps in a new one meanwhile.
 * The HTTP fetch never runs under the lock that verifications take.
 *
 *     struct jwks *k = jwks_new(url, JWKS_MIN_REFRESH_S, JWKS_MAX_AGE_S);
 *     jwks_refresh(k, &e);            // optional warm-up; a miss fetches anyway
 *     rc = jwks_verify(k, kid, "RS256", input, input_len, sig, sig_len, &e);
 *     jwks_free(k);                   // after every thread is done with it
 */
#ifndef CI_JWKS_H
#define CI_JWKS_H

#include <stddef.h>

struct err;

/* Fetch limits: whole-transfer timeout and largest JWKS document accepted. */
#define JWKS_FETCH_TIMEOUT_MS 3000
#define JWKS_MAX_BYTES (256 * 1024)
/* Keys kept from one document; later ones are ignored. */
#define JWKS_MAX_KEYS 64
/* The gateway's settings (jwks_new()): an unknown kid refetches at most once
 * a minute, and a set older than 10 minutes is refetched by the next
 * verification, so a key the IdP withdrew stops verifying within about 10
 * minutes (Supabase caches its JWKS for as long). */
#define JWKS_MIN_REFRESH_S 60
#define JWKS_MAX_AGE_S 600

struct jwks;

/* New, empty key set fetched from url (http:// or https://; copied), or a
 * static set when url is NULL (filled with jwks_load_json() only). An unknown
 * kid triggers a refetch at most once per min_refresh_s seconds (monotonic
 * clock; negative counts as 0); the first miss always fetches. A set loaded
 * max_age_s seconds ago or more is refetched by the next verification, within
 * the same min_refresh_s limit (0 or negative: sets never age; a static set
 * never does). A fetched set whose response has Cache-Control max-age or
 * s-maxage (the smaller when both) ages sooner: at min(that, max_age_s), but
 * never below min_refresh_s; no-cache and no-store count as 0; malformed
 * values are ignored. Nothing is fetched here. Returns the set (owns; jwks_free()),
 * or NULL when out of memory or the lock cannot be created. */
struct jwks *jwks_new(const char *url, int min_refresh_s, int max_age_s);

/* Replaces the key set with the keys of a JWKS document json[0..len)
 * ({"keys":[...]}). Keys are skipped silently when "not for us": kty other than
 * RSA or EC, crv other than P-256, use other than "sig", key_ops without
 * "verify", or an alg other than RS256 (RSA) / ES256 (EC). Keys that should
 * be usable but are not (RSA under 2048 bits, malformed material, kid not a
 * string or over 127 bytes, a duplicate kid) are skipped with a
 * `jwks_key_ignored` warning. A key without kid is kept only when it is the
 * only usable key (it then verifies only tokens without kid). Returns
 * ERR_OK; ERR_PROTOCOL when the document is not a JWKS or has no usable key
 * (the previous set is then kept); ERR_INTERNAL when out of memory. */
int jwks_load_json(struct jwks *k, const char *json, size_t len, struct err *e);

/* Fetches the JWKS from the url now, whatever min_refresh_s says (fetches
 * are serialised: this waits for one under way in another thread), and loads
 * it. Counts as a fetch for min_refresh_s. Logs `jwks_fetch_failed` (warn) or
 * `jwks_fetched` (info) once, with `reason` "refresh" (a verification's
 * fetches say "unknown_kid" or "max_age"); `jwks_fetched` has `max_age_s`,
 * the new set's effective maximum age (absent when sets never age). Returns
 * ERR_OK; ERR_INTERNAL for a static set; else the http_get() or
 * jwks_load_json() error (a non-200 status is ERR_PROTOCOL); the previous set
 * is kept on failure. */
int jwks_refresh(struct jwks *k, struct err *e);

/* Verifies sig over msg[0..len) with the key named kid (NULL when the token
 * has none) for alg. A set past max_age_s is refetched first (rate-limited,
 * see jwks_new(); when another thread is fetching, or the fetch fails, the
 * set at hand is used). Key selection: the key whose kid equals kid; a
 * token without kid uses the set's only key (none when it holds several). A
 * token naming a kid the set lacks is a miss, whatever else the set holds:
 * with a url, it refetches once (rate-limited) and looks again. A fetch may
 * block up to JWKS_FETCH_TIMEOUT_MS. Returns ERR_OK when valid;
 *   ERR_TOKEN_ALG_NOT_ALLOWED  alg is not RS256/ES256, or not the key's alg
 *                              (an EC key never verifies RS256 and vice versa)
 *   ERR_TOKEN_UNKNOWN_KID      no key found, even after a refetch
 *   ERR_INVALID_TOKEN          the signature does not verify
 * The message never contains kid, alg or signature bytes. Thread-safe. */
int jwks_verify(struct jwks *k, const char *kid, const char *alg, const void *msg, size_t len,
                const unsigned char *sig, size_t sig_len, struct err *e);

/* Number of keys in the current set. Thread-safe. */
size_t jwks_key_count(struct jwks *k);

/* Frees k and its keys; accepts NULL. No other thread may use k any more. */
void jwks_free(struct jwks *k);

#endif
