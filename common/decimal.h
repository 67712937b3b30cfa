/* decimal.h - unsigned integers as decimal text, without printf (for hot
 * paths: RESP headers, digest length prefixes, excerpt line numbers). */
#ifndef CI_DECIMAL_H
#define CI_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

/* Longest output of decimal_put: UINT64_MAX has 20 digits. */
#define DECIMAL_MAX 20

/* Digits of v (1 for 0). */
size_t decimal_len(uint64_t v);

/* Writes v's digits at out (no sign, no NUL; room for decimal_len(v)
 * bytes, at most DECIMAL_MAX) and returns how many. */
size_t decimal_put(char *out, uint64_t v);

/* Room decimal_str needs: a sign, DECIMAL_MAX digits and the NUL. */
#define DECIMAL_STR_MAX (DECIMAL_MAX + 2)

/* Writes v as NUL-terminated decimal text ("-" first when negative,
 * INT64_MIN too) into out and returns its length, without the NUL. */
size_t decimal_str(char out[DECIMAL_STR_MAX], int64_t v);

#endif
