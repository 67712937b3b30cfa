/* secret_placeholder.c - stand-ins for a value; see secret_placeholder.h.
 * Each test reads the value a bounded number of times (an opener's scan
 * stops at the next opener of its kind), so the whole test is linear.
 */
#include "worker/secret_placeholder.h"

#include <string.h>

#include "worker/ascii.h"
#include "worker/secret_text.h"

/* A lower-case copy of a value's first SECRET_VALUE_MAX bytes, for word tests. */
struct folded {
    char b[SECRET_VALUE_MAX];
    size_t n;
};

static void fold(struct folded *f, const char *v, size_t n)
{
    size_t i;

    f->n = n < sizeof(f->b) ? n : sizeof(f->b);
    for (i = 0; i < f->n; i++)
        f->b[i] = (char)ascii_lower((unsigned char)v[i]);
}

/* 1 when f holds any of the NULL-terminated words (lower case). */
static int folded_has_any(const struct folded *f, const char *const *words)
{
    size_t i, j, len;

    /* Plain search: the haystacks are short, so glibc memmem's table
     * set-up would cost more than the scan. */
    for (i = 0; words[i] != NULL; i++) {
        len = strlen(words[i]);
        for (j = 0; j + len <= f->n; j++)
            if (f->b[j] == words[i][0] && memcmp(f->b + j, words[i], len) == 0)
                return 1;
    }
    return 0;
}

/* Bytes of a bracketed name that are read (<your-api-key>). */
#define REF_BODY_MAX 64
/* Bytes of a name in brackets or after a '$' that starts the value, at
 * least ({user}, $db_pass); of one after a '$' in the middle of a value,
 * or between '%', one more ("x:$FROM_EMAIL", %APPDATA%). Random passwords
 * hold "{gq}", "$IN7", "%BZn%". A bracketed name that is the whole value
 * may be shorter ({pw}). */
#define REF_NAME_MIN 3

/* 1 when c may stand in a bracketed name: "your-api-key". No digit
 * ("{p8r}" is random text) and none of a password's symbols. */
static int ref_name_byte(unsigned char c)
{
    return ascii_is_alpha(c) || c == '_' || c == ' ' || c == '.' || c == '-';
}

/* Bytes of a template's body, at least, when the end of the value cut it. */
#define TEMPLATE_CUT_MIN 4

/* 1 when c may stand in a template expression: {{ x | default('y') }},
 * <%= ENV['X'] %>, $(cat ~/.token). Most of a random password's symbols
 * (! # & * + ; ? @ ^ < > `) are not. */
static int template_byte(unsigned char c)
{
    return ascii_is_alnum_us(c) || ascii_in_set((char)c, " .-|'\"()[]:,%$=/{}~");
}

/* Offset of close ending a bracketed name that v[i] opens, or 0: {prefix},
 * <your-key>, <API_KEY>, {userName}, %(name)s's "(name)". The name has min
 * letters at least, starts with a letter or '_' (after blanks) and is in
 * one case, or in camelCase (each capital followed by a small letter, one
 * more letter than min): "{eyJO}" and "<DSrvicNB>" are random text. When
 * the brackets are the whole value, any expression of template_byte
 * stands ({pw}, f"Bearer {random_key()}"). The scan stops at the next
 * opener (v[i]): a caller trying each opener reads each byte once, so the
 * test stays linear. */
static size_t bracketed_name(const char *v, size_t n, size_t i, char close, size_t min)
{
    size_t k, lead = i + 1;
    int up = 0, lo = 0, hump_ok = 1, name = 1;
    size_t letters = 0;

    while (lead < n && v[lead] == ' ')
        lead++;
    if (lead >= n || !(ascii_is_alpha((unsigned char)v[lead]) || v[lead] == '_'))
        return 0;
    for (k = lead; k < n && k - i <= REF_BODY_MAX; k++) {
        unsigned char c = (unsigned char)v[k];

        if (c == (unsigned char)close) {
            if (i == 0 && k + 1 == n)
                return k;
            if (!name || (up && lo && !hump_ok))
                return 0;
            return letters >= min + (size_t)(up && lo) ? k : 0;
        }
        if (v[k] == v[i] || !template_byte(c))
            return 0;
        name &= ref_name_byte(c);
        up |= ascii_is_upper(c);
        lo |= ascii_is_lower(c);
        letters += ascii_is_alpha(c);
        if (ascii_is_upper(c) && !(k + 1 < n && ascii_is_lower((unsigned char)v[k + 1])))
            hump_ok = 0;
    }
    return 0;
}

/* 1 when v[i] starts a template: ${x}, ${{ x }}, $(cmd), {{ x }}, {% x %},
 * <%= x %>, %{x}. After the opener and blanks ('=', '-' or '#' too for <%)
 * comes a letter, '_', '.', '$', '{' or '@', then up to REF_BODY_MAX bytes
 * of template_byte and the closer, or, for ${ and $(, the end of the value
 * (a quote inside the template ended it: `Basic ${Buffer.from(`). The scan
 * stops at the opener's first byte, so each byte is read once per kind of
 * opener. */
static int template_at(const char *v, size_t n, size_t i)
{
    static const char *const pairs[][2] = {
        {"${", "}"}, {"$(", ")"}, {"{{", "}}"}, {"{%", "%}"}, {"<%", "%>"}, {"%{", "}"},
    };
    size_t w, k, cn;

    if (i + 2 >= n)
        return 0;
    for (w = 0; w < sizeof(pairs) / sizeof(pairs[0]); w++)
        if (v[i] == pairs[w][0][0] && v[i + 1] == pairs[w][0][1])
            break;
    if (w == sizeof(pairs) / sizeof(pairs[0]))
        return 0;
    k = i + 2;
    if (v[i] == '<' && ascii_in_set(v[k], "=-#"))
        k++;
    while (k < n && k - i < REF_BODY_MAX && v[k] == ' ')
        k++;
    if (k >= n || !(ascii_is_alpha((unsigned char)v[k]) || ascii_in_set(v[k], "_.${@")))
        return 0;
    cn = strlen(pairs[w][1]);
    for (k++; k < n && k - i <= REF_BODY_MAX && v[k] != v[i]; k++) {
        if (k + cn <= n && memcmp(v + k, pairs[w][1], cn) == 0)
            return 1;
        if (!template_byte((unsigned char)v[k]))
            return 0;
    }
    return k == n && v[i] == '$' && k - i >= 2 + TEMPLATE_CUT_MIN;
}

/* 1 when a variable name follows the '$' at v[i]: in the middle of the
 * value a capital letter and more letters, digits and '_', in upper case,
 * with more than REF_NAME_MIN letters ("x:$FROM_EMAIL"); as its start, a
 * letter or '_' and a name in one case ($db_pass/) or, as the whole value,
 * any name without a digit ($dbPassword, a PHP variable). The "$KLP9xQ2"
 * of "Nm4$KLP9xQ2!zr" is random text. */
static int dollar_name(const char *v, size_t n, size_t i)
{
    int up = 0, lo = 0, di = 0;
    size_t k = i + 1, letters = 0;

    if (k >= n || !(ascii_is_alpha((unsigned char)v[k]) || v[k] == '_'))
        return 0;
    for (; k < n && ascii_is_alnum_us((unsigned char)v[k]); k++) {
        up |= ascii_is_upper((unsigned char)v[k]);
        lo |= ascii_is_lower((unsigned char)v[k]);
        di |= ascii_is_digit((unsigned char)v[k]);
        letters += ascii_is_alpha((unsigned char)v[k]);
    }
    if (i != 0)
        return ascii_is_upper((unsigned char)v[i + 1]) && !lo && letters > REF_NAME_MIN;
    return (k - i - 1 >= REF_NAME_MIN && !(up && lo)) || (k == n && !di);
}

/* 1 when v[i] (a '%') starts a printf conversion ("%0*d", or "user:%s",
 * %s or %d between bytes that are no letter or digit), %(name)s or
 * %APPDATA% (upper case). */
static int percent_ref(const char *v, size_t n, size_t i)
{
    size_t k = i + 1;

    if (k < n && v[k] == '(')
        return (k = bracketed_name(v, n, k, ')', 1)) != 0 && k + 1 < n &&
               ascii_is_alpha((unsigned char)v[k + 1]);
    while (k < n && k - i < REF_BODY_MAX && (ascii_is_digit((unsigned char)v[k]) ||
                                             ascii_in_set(v[k], "-+ #*.lhz")))
        k++;
    if (k < n && ascii_in_set(v[k], "sdiuxf") &&
        (k + 1 >= n || !ascii_is_alnum((unsigned char)v[k + 1])))
        return k > i + 1 ? 1 : ascii_in_set(v[k], "sd") &&
                                (i == 0 || !ascii_is_alnum((unsigned char)v[i - 1]));
    for (k = i + 1; k < n && (ascii_is_upper((unsigned char)v[k]) || v[k] == '_'); k++)
        ;
    return k - i - 1 > REF_NAME_MIN && k < n && v[k] == '%';   /* %APPDATA% */
}

/* 1 when v holds a regular expression's quantifier ({30,}, {2,4}, {8}) or
 * character range ([A-Za-z0-9]): a pattern for a secret, not one. */
static int regex_shaped(const char *v, size_t n)
{
    size_t i, k;

    for (i = 0; i + 2 < n; i++) {
        if (v[i] == '{' && ascii_is_digit((unsigned char)v[i + 1])) {
            for (k = i + 1; k < n && k - i < 8 && (ascii_is_digit((unsigned char)v[k]) ||
                                                   v[k] == ','); k++)
                ;
            if (k < n && v[k] == '}')
                return 1;
        }
        if (v[i] == '[' && i + 3 < n && v[i + 2] == '-' &&
            ((ascii_is_upper((unsigned char)v[i + 1]) && ascii_is_upper((unsigned char)v[i + 3])) ||
             (ascii_is_lower((unsigned char)v[i + 1]) && ascii_is_lower((unsigned char)v[i + 3])) ||
             (ascii_is_digit((unsigned char)v[i + 1]) && ascii_is_digit((unsigned char)v[i + 3]))))
            return 1;
    }
    return 0;
}

/* 1 when a reference to another value starts at v[i]: a template
 * (template_at), $VAR, %(x)s, %VAR%, %s, {x}, <your-key>. */
static int reference_at(const char *v, size_t n, size_t i)
{
    if (template_at(v, n, i))
        return 1;
    switch (v[i]) {
    case '$':
        return dollar_name(v, n, i);
    case '%':
        return percent_ref(v, n, i);
    case '{':
        return bracketed_name(v, n, i, '}', REF_NAME_MIN) != 0;
    case '<':
        return bracketed_name(v, n, i, '>', REF_NAME_MIN) != 0;
    default:
        return 0;
    }
}

/* 1 when v is a stand-in rather than a credential: empty, mostly one byte,
 * holding a reference to another value (reference_at) or a stand-in word.
 * A < > { } $ % that starts no reference is part of the password. */
int secret_placeholder_is(const char *v, size_t n)
{
    static const char *const words[] = {
        "changeme", "change_me", "change-me", "placeholder", "your", "example",
        "dummy", "sample", "replace", "redacted", "xxx", "***", "...", "todo",
        "fixme", "insert", NULL,
    };
    struct folded f;
    size_t i;

    if (n == 0 || secret_text_mostly_one_byte(v, n))
        return 1;
    for (i = 0; i < n; i++)
        if (ascii_in_set(v[i], "${%<") && reference_at(v, n, i))
            return 1;          /* "${DB_PASS}", "user:$(cat f)", "-auth=x:$FROM_EMAIL" */
    if (regex_shaped(v, n))
        return 1;
    fold(&f, v, n);
    return folded_has_any(&f, words);
}
