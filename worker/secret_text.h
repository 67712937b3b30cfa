/* secret_text.h - what a short string looks like, for the secret rules
 * (secret_rules.c): Shannon entropy, character mix, names that say they
 * hold a secret (db_password, apiKey, x-api-key) and assigned values that
 * look like one. Stand-ins ("changeme", "${DB_PASS}") are
 * secret_placeholder.h's.
 *
 * Pure functions: each borrows its arguments for the call only, keeps no
 * state and allocates nothing. Texts are byte ranges, not NUL-terminated.
 *
 *     unsigned nf = secret_text_name_flags(t, ns, ne);
 *     if ((nf & SECRET_NAME_LISTED) != 0 && secret_text_generic_ok(v, n, 1)) ...
 */
#ifndef WK_SECRET_TEXT_H
#define WK_SECRET_TEXT_H

#include <stddef.h>

/* Bytes of a name before an assignment operator that are looked at. */
#define SECRET_NAME_MAX 64
/* Bytes of an assigned value; longer values are data, not a credential. */
#define SECRET_VALUE_MAX 512
/* Bytes of the shortest value the filters take for a secret (shorter ones
 * are mostly examples and test fixtures: "hunter2", "admin"). */
#define SECRET_VALUE_MIN 8

/* What secret_text_name_flags says about a name. (Bits 0x08 and 0x10 are
 * taken by the value hints of secret_rules.c; both travel in one span.) */
#define SECRET_NAME_SECRET   0x01u   /* the name contains "secret" */
#define SECRET_NAME_RAZORPAY 0x02u   /* the name contains "razorpay" */
#define SECRET_NAME_AWS      0x04u   /* the name says AWS secret access key */
#define SECRET_NAME_LISTED   0x20u   /* the name is one of the secret names */
#define SECRET_NAME_PASSWORD 0x40u   /* its last word says password (passwd,
                                        pwd, passphrase, pass) */

/* Shannon entropy of v[0..n), bits per byte; 0 when n is 0 or more than
 * SECRET_VALUE_MAX. */
double secret_text_entropy(const char *v, size_t n);

/* Returns 1 when v[0..n) has an upper-case letter, a lower-case letter and
 * a digit, else 0. */
int secret_text_mixed_case_digit(const char *v, size_t n);

/* Returns 1 when v[0..n) has two of upper-case letters, lower-case letters
 * and digits (a random token's body, not a word: "npm_" + 36), else 0. */
int secret_text_two_classes(const char *v, size_t n);

/* Returns 1 when more than half of v[0..n) is one byte value (ghp_xxxx...,
 * ****), else 0; 0 when n is 0. */
int secret_text_mostly_one_byte(const char *v, size_t n);

/* Returns the SECRET_NAME_* flags of the name t[ns..ne). Words are split
 * at anything but letters and at camelCase humps (HTTPAuthToken: http auth
 * token); the last word decides SECRET_NAME_LISTED, so token_url,
 * password_hash and PASSWORD_MIN_LENGTH are not listed (secret_key_base
 * is: base after key in a name holding secret). A bare key or appid
 * is listed only as a URL's query parameter: when the byte before the name
 * (t[ns - 1], read when ns > 0) is '?' or '&'. Only the first
 * SECRET_NAME_MAX letters and digits count for the other flags. */
unsigned secret_text_name_flags(const char *t, size_t ns, size_t ne);

/* Returns 1 when the assigned value v[0..n) passes the generic-secret
 * filters (length, no blanks, character classes, entropy; not a URL, path
 * (a base64 key starting with '/' is none: few slashes, mixed case and
 * digits), Stripe publishable key or words naming a secret; unquoted, not
 * code), else 0. quoted: the value was a string literal. The placeholder
 * test is separate (secret_placeholder_is). */
int secret_text_generic_ok(const char *v, size_t n, int quoted);

/* Returns 1 when the value v[0..n), assigned to a name that says password
 * (SECRET_NAME_PASSWORD), is one, else 0: the generic filters with a lower
 * entropy floor (the passwords people choose: Passw0rd!, Summer2024), or,
 * quoted, a passphrase of four or more words of letters and single blanks
 * ("correct horse battery staple"; not prose: "must contain letters").
 * Values under 8 bytes ("hunter2", "admin") stay out, as for any name: short
 * values under a password name are mostly examples and test fixtures. The
 * placeholder test is separate. */
int secret_text_password_ok(const char *v, size_t n, int quoted);

#endif
