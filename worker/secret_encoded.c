/* secret_encoded.c - decoding of base64 runs that may hide a secret; see
 * secret_encoded.h.
 */
#include "worker/secret_encoded.h"

/* Value of a base64 digit, or -1 ('=' and the rest). */
static int b64_value(unsigned char c)
{
    if (ascii_is_upper(c))
        return c - 'A';
    if (ascii_is_lower(c))
        return c - 'a' + 26;
    if (ascii_is_digit(c))
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* 1 when a decoded byte may be part of text. */
static int is_text_byte(unsigned char c)
{
    return (c >= 0x20 && c != 0x7f) || c == '\n' || c == '\r' || c == '\t';
}

size_t secret_encoded_decode(const struct scan *s, size_t i, char *out, size_t *run)
{
    const unsigned char *t = (const unsigned char *)s->t;
    size_t r, digits, k, o = 0;
    unsigned acc = 0;
    int bits = 0, v;

    *run = 0;
    if (i > 0 && (is_b64(t[i - 1]) || t[i - 1] == '_' || t[i - 1] == '-'))
        return 0;
    r = scan_run_len(s, i, is_b64, ENCODED_MAX);
    *run = r;
    if (r < ENCODED_MIN || r > ENCODED_MAX)
        return 0;
    for (digits = r; digits > 0 && t[i + digits - 1] == '='; digits--)
        ;
    if (r - digits > 2 || digits % 4 == 1)
        return 0;
    for (k = 0; k < digits; k++) {
        if ((v = b64_value(t[i + k])) < 0)
            return 0;      /* '=' inside: not one base64 value */
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o] = (char)((acc >> bits) & 0xffu);
            if (!is_text_byte((unsigned char)out[o]))
                return 0;
            o++;
        }
    }
    return o;
}
