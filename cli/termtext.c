/* termtext.c - text made safe for a terminal; see termtext.h. */
#include "cli/termtext.h"

#include "common/utf8.h"

#include <string.h>

/* The character at s (s[0] != '\0'): returns the bytes it takes, with *rep
 * NULL when they are printed as they are, else what is printed instead. */
static size_t step(const char *s, enum termtext_mode mode, const char **rep)
{
    unsigned char c = (unsigned char)s[0];
    size_t n;

    *rep = NULL;
    if (c == '\n' || c == '\t') {
        if (mode == TERMTEXT_FLAT)
            *rep = " ";
        return 1;
    }
    if (c == '\r') {
        *rep = mode == TERMTEXT_FLAT ? " " : s[1] == '\n' ? "" : TERMTEXT_STANDIN;
        return 1;
    }
    if (c < 0x20 || c == 0x7f) {
        *rep = TERMTEXT_STANDIN;
        return 1;
    }
    if (c < 0x80)
        return 1;
    n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    /* strnlen: a sequence cut short by the end of s is not one. */
    if (n == 0 || strnlen(s, n) < n || !utf8_valid(s, n, NULL)) {
        *rep = TERMTEXT_STANDIN;
        return 1;
    }
    /* C1 controls, U+0080..U+009F: 0xc2 0x80..0x9f. */
    if (c == 0xc2 && (unsigned char)s[1] <= 0x9f)
        *rep = TERMTEXT_STANDIN;
    /* Bidirectional overrides and isolates, U+202A..U+202E (0xe2 0x80
     * 0xaa..0xae) and U+2066..U+2069 (0xe2 0x81 0xa6..0xa9): they reorder
     * what follows on the line, so a message could show other text than it
     * holds. */
    if (c == 0xe2 && (((unsigned char)s[1] == 0x80 && (unsigned char)s[2] >= 0xaa &&
                       (unsigned char)s[2] <= 0xae) ||
                      ((unsigned char)s[1] == 0x81 && (unsigned char)s[2] >= 0xa6 &&
                       (unsigned char)s[2] <= 0xa9)))
        *rep = TERMTEXT_STANDIN;
    return n;
}

char *termtext_clean(char *buf, size_t cap, const char *s, enum termtext_mode mode)
{
    size_t at = 0;

    if (cap == 0)
        return buf;
    while (s != NULL && *s != '\0') {
        const char *rep;
        size_t n = step(s, mode, &rep);
        const char *piece = rep != NULL ? rep : s;
        size_t len = rep != NULL ? strlen(rep) : n;

        if (len >= cap - at)
            break;
        memcpy(buf + at, piece, len);
        at += len;
        s += n;
    }
    buf[at] = '\0';
    return buf;
}

void termtext_put(FILE *out, const char *s, enum termtext_mode mode)
{
    const char *run = s;        /* start of the bytes printed as they are */

    if (s == NULL)
        return;
    while (*s != '\0') {
        const char *rep;
        size_t n = step(s, mode, &rep);

        if (rep != NULL) {
            fwrite(run, 1, (size_t)(s - run), out);
            fputs(rep, out);
            run = s + n;
        }
        s += n;
    }
    fwrite(run, 1, (size_t)(s - run), out);
}

void termtext_say(FILE *out, const char *msg)
{
    fputs("codeinsight: ", out);
    termtext_put(out, msg, TERMTEXT_FLAT);
    fputc('\n', out);
}

void termtext_put_json(FILE *out, const char *json)
{
    const char *s = json, *run = json;

    while (*s != '\0') {
        const char *rep;
        size_t n = step(s, TERMTEXT_LINES, &rep);
        unsigned char c = (unsigned char)s[0];

        /* Outside its strings a document cJSON printed is ASCII without
         * controls but '\n' and '\t' (kept by step): whatever step() would
         * not print as it is sits inside a string, and is written as the
         * escape of the same character; a byte that is not UTF-8 as
         * U+FFFD, the replacement character. */
        if (rep != NULL) {
            fwrite(run, 1, (size_t)(s - run), out);
            if (c < 0x80)
                fprintf(out, "\\u%04x", c);
            else if (n == 1)
                fputs("\\ufffd", out);
            else if (c == 0xc2)
                fprintf(out, "\\u%04x", (unsigned char)s[1]);
            else
                fprintf(out, "\\u20%02x", (((unsigned char)s[1] & 0x3f) << 6 |
                                             ((unsigned char)s[2] & 0x3f)) & 0xff);
            run = s + n;
        }
        s += n;
    }
    fwrite(run, 1, (size_t)(s - run), out);
}
