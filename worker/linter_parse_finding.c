/* linter_parse_finding.c - what every linter output parser shares
 * (linter_parse_finding.h): the finding's checks, its message made safe
 * and cut, and the finding object it becomes. Pure.
 */
#include "worker/linter_parse_finding.h"

#include "worker/ascii.h"

#include <limits.h>
#include <string.h>

/* "..." appended to a truncated message, counted in LINTERS_MESSAGE_MAX. */
#define ELLIPSIS "..."
#define ELLIPSIS_LEN 3

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

int finding_blank(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        if (!is_space((unsigned char)s[i]))
            return 0;
    return 1;
}

int finding_rule_id_valid(const char *s)
{
    size_t n;

    for (n = 0; s[n] != '\0'; n++) {
        unsigned char c = (unsigned char)s[n];
        if (n >= LINTERS_RULE_ID_MAX)
            return 0;
        /* '@' and '/' for plugin rules: "@typescript-eslint/no-unused-vars". */
        if (!ascii_is_alnum(c) && c != '_' && c != '-' && c != '.' && c != '@' && c != '/')
            return 0;
    }
    return n > 0;
}

/* 1 when the character at s (well-formed) is a control character: C0,
 * DEL, or C1 (U+0080..U+009F, 0xc2 0x80..0x9f: CSI U+009B is ESC [ to a
 * terminal that honours it), as relpath.c and the CLI's termtext.c count
 * them. */
static int is_control(const unsigned char *s)
{
    return s[0] < 0x20 || s[0] == 0x7f || (s[0] == 0xc2 && s[1] <= 0x9f);
}

/* Length of the well-formed UTF-8 sequence of 2 to 4 bytes at s[0..avail),
 * or 0 when it is malformed, overlong, a surrogate or truncated. */
static size_t utf8_seq_len(const unsigned char *s, size_t avail)
{
    unsigned char lo = 0x80, hi = 0xbf;
    size_t n, i;

    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4;
    else
        return 0;
    if (s[0] == 0xe0)
        lo = 0xa0;
    else if (s[0] == 0xed)
        hi = 0x9f;
    else if (s[0] == 0xf0)
        lo = 0x90;
    else if (s[0] == 0xf4)
        hi = 0x8f;
    if (avail < n || s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

size_t finding_sanitize(char *dst, size_t cap, const char *src, size_t len, int more)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t i = 0, out = 0, cut = 0, cut_at = 0;
    int overflow = 0;

    while (i < len && is_space(s[i]))
        i++;
    while (i < len) {
        size_t n = 1;  /* bytes of src consumed */
        const char *rep = NULL;  /* what is written instead of them */

        if (s[i] >= 0x80)
            n = utf8_seq_len(s + i, len - i);
        if (n == 0) {
            rep = "?";
            n = 1;
        } else if (is_control(s + i)) {
            rep = " ";
        }
        if (out + (rep != NULL ? 1 : n) > cap) {
            overflow = 1;
            break;
        }
        if (rep != NULL) {
            dst[out++] = rep[0];
        } else {
            memcpy(dst + out, s + i, n);
            out += n;
        }
        i += n;
        if (out <= cap - ELLIPSIS_LEN) {
            cut = out;
            cut_at = i;
        }
    }
    if (overflow || more) {
        /* The cut is inside a word unless a blank follows it in src (when
         * all of src fit, `more` says the text went on past its end). */
        int mid_word = cut_at < len ? !is_space(s[cut_at]) : 1;

        out = cut;
        if (mid_word)
            while (out > 0 && dst[out - 1] != ' ')
                out--;
    }
    while (out > 0 && dst[out - 1] == ' ')
        out--;
    /* Nothing left but the ellipsis says nothing: 0, for the caller's
     * fallback. */
    if ((overflow || more) && out > 0) {
        memcpy(dst + out, ELLIPSIS, ELLIPSIS_LEN);
        out += ELLIPSIS_LEN;
    }
    dst[out] = '\0';
    return out;
}

int finding_append(cJSON *findings, const struct finding *f, const char *source)
{
    cJSON *obj = cJSON_CreateObject();

    if (obj == NULL)
        return -1;
    if (cJSON_AddNumberToObject(obj, "line", (double)f->line) == NULL)
        goto fail;
    if (f->end_line >= f->line &&
        cJSON_AddNumberToObject(obj, "end_line", (double)f->end_line) == NULL)
        goto fail;
    if (f->column >= 1 &&
        cJSON_AddNumberToObject(obj, "column", (double)f->column) == NULL)
        goto fail;
    if (cJSON_AddStringToObject(obj, "severity", f->severity) == NULL ||
        cJSON_AddStringToObject(obj, "category", f->category) == NULL ||
        cJSON_AddStringToObject(obj, "rule_id", f->rule_id) == NULL ||
        cJSON_AddStringToObject(obj, "message", f->message) == NULL ||
        cJSON_AddStringToObject(obj, "source", source) == NULL)
        goto fail;
    if (!cJSON_AddItemToArray(findings, obj))
        goto fail;
    return 0;
fail:
    cJSON_Delete(obj);
    return -1;
}

long finding_line_clamp(long line)
{
    if (line < 1)
        return 1;
    return line > INT_MAX ? INT_MAX : line;
}

int finding_precheck(const char *out, size_t len, const cJSON *findings)
{
    if (!cJSON_IsArray(findings) || len > LINTERS_OUTPUT_MAX)
        return -1;
    if (len == 0)
        return 0;
    if (out == NULL)
        return -1;
    return finding_blank(out, len) ? 0 : 1;
}

void finding_text(struct finding *f, char *msg, const char *text, int more,
                  const char *fallback)
{
    if (text == NULL ||
        finding_sanitize(msg, LINTERS_MESSAGE_MAX, text, strlen(text), more) == 0)
        finding_sanitize(msg, LINTERS_MESSAGE_MAX, fallback, strlen(fallback), 0);
    f->message = msg;
}
