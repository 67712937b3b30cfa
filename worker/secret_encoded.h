/* secret_encoded.h - text hidden in base64: a PEM key encoded whole
 * ("LS0tLS1CRUdJTi..."), a Kubernetes Secret's data values, a
 * .dockerconfigjson. The run is decoded here (bounded); secret_rules.c
 * scans the decoded text with every rule and, when it holds a secret,
 * redacts the whole encoded run.
 */
#ifndef WK_SECRET_ENCODED_H
#define WK_SECRET_ENCODED_H

#include <stddef.h>

#include "worker/secret_scan.h"

/* Shortest base64 run decoded, bytes (24 bytes of text). */
#define ENCODED_MIN 32
/* Longest base64 run decoded, bytes: a 4096-bit RSA key in PEM, encoded,
 * is about 4.4 KiB; a longer run is left alone. */
#define ENCODED_MAX (16 * 1024)
/* Bytes of the decoded text, at most. */
#define ENCODED_TEXT_MAX (ENCODED_MAX / 4 * 3)

/* When a base64 run of ENCODED_MIN..ENCODED_MAX bytes starts at t[i] (the
 * byte before it is none of [A-Za-z0-9+/=_-]) and decodes to text (no
 * control bytes but blanks and line breaks), writes the text to out
 * (ENCODED_TEXT_MAX bytes, borrowed) and returns its length, with *run
 * set to the run's bytes. Else returns 0; *run is then the bytes of the
 * run read (0 when i starts none), so that the caller need not look at
 * them again for this rule. */
size_t secret_encoded_decode(const struct scan *s, size_t i, char *out, size_t *run);

#endif
