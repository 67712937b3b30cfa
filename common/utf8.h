/* utf8.h - UTF-8 validation (RFC 3629: no overlongs, no surrogates, <= U+10FFFF). */
#ifndef CI_UTF8_H
#define CI_UTF8_H

#include <stddef.h>

/* Returns 1 when s[0..len) is valid UTF-8, else 0 and the offset of the first
 * bad byte in *bad (when bad is not NULL). */
int utf8_valid(const char *s, size_t len, size_t *bad);

/* Largest n <= max such that s[0..n) does not end inside a UTF-8 sequence
 * (len when len <= max). For cutting text at a byte budget. */
size_t utf8_cut(const char *s, size_t len, size_t max);

/* Replaces, in place, every byte of s (NUL-terminated) that is not part of a
 * valid sequence with '?'. Returns s. */
char *utf8_sanitize(char *s);

#endif
