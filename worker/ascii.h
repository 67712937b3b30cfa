/* ascii.h - ASCII byte classes that ignore the locale, unlike <ctype.h>:
 * a byte >= 0x80 is in no class. Header only, so the scanners that test
 * every byte of a text can inline them; each may also be passed as a
 * predicate (int (*)(unsigned char)).
 */
#ifndef WK_ASCII_H
#define WK_ASCII_H

#include <string.h>

static inline int ascii_is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static inline int ascii_is_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
static inline int ascii_is_lower(unsigned char c) { return c >= 'a' && c <= 'z'; }
static inline int ascii_is_alpha(unsigned char c) { return ascii_is_upper(c) || ascii_is_lower(c); }
static inline int ascii_is_alnum(unsigned char c) { return ascii_is_alpha(c) || ascii_is_digit(c); }

/* [A-Z0-9] */
static inline int ascii_is_upper_digit(unsigned char c)
{
    return ascii_is_upper(c) || ascii_is_digit(c);
}

/* [A-Za-z0-9_] */
static inline int ascii_is_alnum_us(unsigned char c) { return ascii_is_alnum(c) || c == '_'; }

/* [A-Z0-9_] */
static inline int ascii_is_upper_digit_us(unsigned char c)
{
    return ascii_is_upper_digit(c) || c == '_';
}

/* c with A-Z mapped to a-z; any other byte unchanged. */
static inline unsigned char ascii_lower(unsigned char c)
{
    return ascii_is_upper(c) ? (unsigned char)(c - 'A' + 'a') : c;
}

/* 1 when c is one of the bytes of the NUL-terminated set (never for NUL). */
static inline int ascii_in_set(char c, const char *set)
{
    return c != '\0' && strchr(set, c) != NULL;
}

#endif
