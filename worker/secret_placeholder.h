/* secret_placeholder.h - stand-ins for a secret value, for the secret
 * rules (secret_rules.c): a value that is empty, mostly one byte, a
 * reference to another value ("${DB_PASS}", "$TOKEN", "{{ x }}",
 * "<your-key>", "%s") or a word such as changeme is no credential.
 *
 * A pure function: it borrows its arguments for the call only, keeps no
 * state and allocates nothing. The value is a byte range, not
 * NUL-terminated.
 *
 *     if (!secret_placeholder_is(v, n) && secret_text_generic_ok(v, n, 1)) ...
 */
#ifndef WK_SECRET_PLACEHOLDER_H
#define WK_SECRET_PLACEHOLDER_H

#include <stddef.h>

/* Returns 1 when v[0..n) looks like a stand-in rather than a credential:
 * empty, mostly one byte, holding a reference to another value ($VAR,
 * ${X}, $(cmd), {{ x }}, {x}, <your-key>, <%= x %>, %(x)s, %s, %APPDATA%),
 * a regular expression's quantifier or range ({30,}, [A-Z]), or a word such
 * as changeme, your, example, xxx, todo; else 0. A reference must be well
 * formed (a name of a few letters in one case or camelCase, a closed
 * template): a < > { } $ or % that starts none is part of a password
 * ("t8#Qz{v2!Lp9<xR4", "Nm4$KLP9xQ2!zr"). */
int secret_placeholder_is(const char *v, size_t n);

#endif
