/* secret_pem.c - the PEM private-key rules; see secret_pem.h. The rules
 * are described in the table at the top of secret_rules.c.
 */
#include "worker/secret_pem.h"

#include <string.h>

/* Longest base64 run a private key body must hold, bytes. */
#define PEM_RUN_MIN 32
/* Bytes before a headless key's END label on its line (det_pem_tail). */
#define PEM_TAIL_LEAD_MAX 16
/* Bytes of a PEM label ("ENCRYPTED PRIVATE KEY"). */
#define PEM_LABEL_MAX 48

/* A PEM label at k naming a private key, followed by "-----". Returns the
 * offset past the dashes, or 0. */
static size_t pem_label(const struct scan *s, size_t k)
{
    const char *t = s->t;
    size_t j = k, len;

    while (j < s->n && j - k <= PEM_LABEL_MAX &&
           (ascii_is_upper_digit((unsigned char)t[j]) || t[j] == ' '))
        j++;
    if (!scan_has(s, j, "-----", 5))
        return 0;
    len = j - k;
    if ((len >= 11 && memcmp(t + j - 11, "PRIVATE KEY", 11) == 0) ||
        (len >= 17 && memcmp(t + j - 17, "PRIVATE KEY BLOCK", 17) == 0))
        return j + 5;
    return 0;
}

/* Bytes a key body may hold besides base64: blanks, line breaks, headers
 * (Proc-Type: 4,ENCRYPTED), and the quotes, commas and \n escapes of a key
 * pasted into a string literal. */
static int is_pem_body(unsigned char c)
{
    return is_b64(c) || is_space(c) || c == '\\' || is_quote(c) || c == ',' || c == ':' ||
           c == '-' || c == '.';
}

/* Bytes that may lead a key's body line: its indentation and a comment
 * leader, for a key pasted into comments ("# ", " * ", "; ", "> ", "% ",
 * "! "; "//" and "--" are body bytes already). */
static int is_pem_lead(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '#' || c == '*' || c == ';' || c == '>' || c == '%' ||
           c == '!';
}

/* Where a key's body line starting at j has its material: past its lead,
 * and past a whole armor header line ("Comment: Alice <a@b>", "DEK-Info:
 * AES-128-CBC,..."), whose bytes need not be body bytes. */
static size_t pem_line_start(const struct scan *s, size_t j)
{
    const char *t = s->t;
    size_t h;

    while (j < s->n && is_pem_lead((unsigned char)t[j]))
        j++;
    for (h = j; h < s->n && (ascii_is_alnum((unsigned char)t[h]) || t[h] == '-'); h++)
        ;
    if (h > j && scan_has(s, h, ": ", 2))
        while (h < s->n && t[h] != '\n' && t[h] != '\r')
            h++;
    else
        h = j;
    return h;
}

static size_t det_pem(struct scan *s, size_t i)
{
    const char *t = s->t;
    size_t k, j, run = 0, best = 0, last_good = 0, end = 0;

    if (!scan_has(s, i, "-----BEGIN ", 11))
        return 0;
    k = pem_label(s, i + 11);
    if (k == 0)
        return 0;
    for (j = k; j < s->n; j++) {
        unsigned char c = (unsigned char)t[j];

        if (is_b64(c)) {
            run++;
            continue;
        }
        if (run > best)
            best = run;
        if (run >= 16 || (run > 0 && t[j - 1] == '='))
            last_good = j;
        run = 0;
        if (c == '-' && scan_has(s, j, "-----END ", 9)) {
            end = pem_label(s, j + 9);
            break;
        }
        /* Another block starts: stop here, so no byte is read twice. */
        if (c == '-' && scan_has(s, j, "-----BEGIN", 10))
            break;
        if (!is_pem_body(c))
            break;
        if (c == '\n')
            j = pem_line_start(s, j + 1) - 1;
    }
    if (run > best)
        best = run;
    if (run >= 16 || (run > 0 && t[j - 1] == '='))
        last_good = j;
    if (best < PEM_RUN_MIN)
        return 0;
    if (end == 0)
        end = last_good;   /* unterminated: through the key material seen */
    if (end <= i)
        return 0;
    scan_add(s, i, end, K_PRIVATE_KEY, 0);
    return end;
}

/* The key material of line [ls, le): past its lead and an opening quote,
 * then only base64 up to trailing blanks, quotes, commas or a "\n" escape. Returns its bytes,
 * 0 when the line is anything else; *at is where the material starts. */
static size_t pem_tail_line(const struct scan *s, size_t ls, size_t le, size_t *at)
{
    const char *t = s->t;
    size_t j = ls, b;

    while (j < le && is_pem_lead((unsigned char)t[j]))
        j++;
    if (j < le && is_quote((unsigned char)t[j]))
        j++;                        /* a line of a string literal */
    for (;;) {
        if (le > j && (is_space((unsigned char)t[le - 1]) || is_quote((unsigned char)t[le - 1]) ||
                       t[le - 1] == ','))
            le--;
        else if (le - j >= 2 && t[le - 2] == '\\' && t[le - 1] == 'n')
            le -= 2;
        else
            break;
    }
    for (b = j; b < le && is_b64((unsigned char)t[b]); b++)
        ;
    *at = j;
    return b == le ? le - j : 0;
}

/* A key whose BEGIN line is gone (the tail of a long output, cut before
 * redaction): at -----END <label>----- not reached by det_pem, the lines
 * of key material just above it, back to the first line that is not one,
 * when they hold at least PEM_RUN_MIN bytes. Each line is read back once:
 * the walk stops at the line before, which is no key line. */
static size_t det_pem_tail(struct scan *s, size_t i)
{
    const char *t = s->t;
    size_t end, ls, start, at, total = 0;

    if (!scan_has(s, i, "-----END ", 9) || (end = pem_label(s, i + 9)) == 0)
        return 0;
    /* The END line starts its line, after a lead or a quote at most (a
     * bounded look back: a long line of END labels stays linear). */
    for (ls = i; ls > 0 && i - ls < PEM_TAIL_LEAD_MAX && t[ls - 1] != '\n' &&
                 (is_pem_lead((unsigned char)t[ls - 1]) || is_quote((unsigned char)t[ls - 1]));
         ls--)
        ;
    if (ls > 0 && t[ls - 1] != '\n')
        return 0;
    start = ls;
    while (ls > 0) {
        size_t le = ls - 1, n;      /* the '\n' ending the line above */
        for (ls = le; ls > 0 && t[ls - 1] != '\n'; ls--)
            ;
        if ((n = pem_tail_line(s, ls, le, &at)) == 0)
            break;
        total += n;
        start = at;
    }
    if (total < PEM_RUN_MIN)
        return 0;
    scan_add(s, start, end, K_PRIVATE_KEY, 0);
    return end;
}

size_t secret_pem_at(struct scan *s, size_t i)
{
    size_t next = det_pem(s, i);

    return next != 0 ? next : det_pem_tail(s, i);
}
