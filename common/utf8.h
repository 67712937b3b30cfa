/* utf8.h - UTF-8 validation (RFC 3629: no overlongs, no surrogates, <= U+10FFFF),
 * and cutting text to a byte budget without splitting a character.
 *
 * Text cut in the middle of a character is not UTF-8: PostgreSQL refuses a
 * document holding it ("invalid byte sequence for encoding UTF8"), and so do
 * JSON readers. Every cut of text that may be stored or sent goes through
 * these:
 *
 *     utf8_fmt(reason, sizeof reason, "not reproduced: %s", why);
 *     t = s + utf8_tail(s, len, 4000);             the last 4000 bytes at most
 *     snprintf(out, cap, "%.*s...", utf8_prec(s, 200), s);
 */
#ifndef CI_UTF8_H
#define CI_UTF8_H

#include <stdarg.h>
#include <stddef.h>

/* Returns 1 when s[0..len) is valid UTF-8, else 0 and the offset of the first
 * bad byte in *bad (when bad is not NULL). */
int utf8_valid(const char *s, size_t len, size_t *bad);

/* Largest n <= max such that s[0..n) does not end inside a UTF-8 sequence
 * (len when len <= max). For cutting text at a byte budget. */
size_t utf8_cut(const char *s, size_t len, size_t max);

/* The precision for "%.*s" that prints at most max bytes of the
 * NUL-terminated s without splitting a character: (int)utf8_cut(s, strlen(s),
 * max). max must fit an int. */
int utf8_prec(const char *s, size_t max);

/* Smallest offset i with len - i <= max such that s[i..len) does not start
 * inside a UTF-8 sequence (0 when len <= max). For keeping the end of a text
 * (an output's tail) within a byte budget. */
size_t utf8_tail(const char *s, size_t len, size_t max);

/* snprintf that never splits a character: formats into buf (cap bytes,
 * cap > 0) and, when the text does not fit, ends it after the last whole
 * character that does. Returns the bytes written, excluding the NUL. A "%s"
 * argument that is not UTF-8 stays as it is: only the cut is made safe.
 * Instead of a "%.200s" precision, which cuts bytes, size buf. */
size_t utf8_fmt(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* utf8_fmt with a va_list (ap is consumed). */
size_t utf8_vfmt(char *buf, size_t cap, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Replaces, in place, every byte of s (NUL-terminated) that is not part of a
 * valid sequence with '?'. Returns s. */
char *utf8_sanitize(char *s);

#endif
