/* json.c - JSON helpers. */
#include "common/json.h"

#include "common/utf8.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexdig(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Copies a raw JSON member name, decoding its escapes (non-ASCII code
 * points become '?': member names we care about are ASCII). */
static void copy_key(const char *raw, size_t n, char *key, size_t cap)
{
    size_t o = 0;

    if (cap == 0)
        return;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        char c = raw[i];
        if (c == '\\' && i + 1 < n) {
            char e = raw[++i];
            if (e == 'u' && i + 4 < n) {
                int v = 0;
                for (int k = 1; k <= 4; k++) {
                    int d = hexdig(raw[i + k]);
                    v = d < 0 ? -1 : (v < 0 ? -1 : v * 16 + d);
                }
                i += 4;
                c = (v > 0 && v < 0x80) ? (char)v : '?';
            } else {
                c = e == 'n' ? '\n' : e == 't' ? '\t' : e;
            }
        }
        key[o++] = c;
    }
    key[o] = '\0';
}

/* Walks the text tracking strings, nesting depth and the current top-level
 * member name; does not validate (cJSON does that). */
/* Result bits of json_walk(). */
#define WALK_NUL 1
#define WALK_CTL 2

static int json_walk(const char *text, size_t len, char *key, size_t cap, size_t *ctl_at)
{
    size_t i = 0, key_start = 0, key_len = 0;
    int depth = 0;
    int expect_key = 0;     /* at depth 1 of an object, the next string is a name */
    int have_key = 0;

    while (i < len) {
        char c = text[i];

        if (c == '"') {
            size_t start = ++i;
            int is_key = depth == 1 && expect_key;
            while (i < len && text[i] != '"') {
                if ((unsigned char)text[i] < 0x20 && ctl_at != NULL) {
                    *ctl_at = i;
                    return WALK_CTL;
                }
                if (text[i] == '\\' && i + 1 < len) {
                    if (ctl_at == NULL && text[i + 1] == 'u' && i + 5 < len &&
                        memcmp(text + i + 2, "0000", 4) == 0) {
                        copy_key(text + key_start, (have_key && !is_key) ? key_len : 0, key,
                                 cap);
                        return WALK_NUL;
                    }
                    i += 2;
                    continue;
                }
                i++;
            }
            if (is_key) {
                key_start = start;
                key_len = i - start;
                have_key = 1;
                expect_key = 0;
            }
            i++;
            continue;
        }
        if (c == '{' || c == '[') {
            depth++;
            if (depth == 1)
                expect_key = (c == '{');
        } else if (c == '}' || c == ']') {
            depth--;
        } else if (c == ',' && depth == 1) {
            expect_key = 1;
            have_key = 0;
        }
        i++;
    }
    return 0;
}

/* 1 when some byte of text is below 0x20, eight at a time: a byte b < 0x20
 * is one where b - 0x20 borrows and b's own top bit is clear. */
static int any_control(const char *text, size_t len)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        uint64_t x;
        memcpy(&x, text + i, 8);
        if (((x - 0x20 * ones) & ~x & highs) != 0)
            return 1;
    }
    for (; i < len; i++)
        if ((unsigned char)text[i] < 0x20)
            return 1;
    return 0;
}

int json_find_nul_escape(const char *text, size_t len, char *key, size_t cap)
{
    /* Almost every body has none: one vectorised search instead of a walk. */
    if (memmem(text, len, "\\u0000", 6) == NULL)
        return 0;
    return json_walk(text, len, key, cap, NULL) == WALK_NUL;
}

int json_raw_control(const char *text, size_t len, size_t *at)
{
    size_t where = 0;

    /* Compact JSON has no byte below 0x20 at all; only then is a walk needed. */
    if (!any_control(text, len) || json_walk(text, len, NULL, 0, &where) != WALK_CTL)
        return 0;
    if (at != NULL)
        *at = where;
    return 1;
}

cJSON *json_item(const cJSON *obj, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(obj, name);
}

const char *json_str(const cJSON *obj, const char *name)
{
    const cJSON *v = json_item(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

void json_add_str_or_null(cJSON *o, const char *name, const char *value)
{
    if (value != NULL && value[0] != '\0')
        cJSON_AddStringToObject(o, name, value);
    else
        cJSON_AddNullToObject(o, name);
}

void json_write_string(json_sink *put, void *ctx, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t start = 0;

    put(ctx, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[7];
        size_t elen = 0;

        if (c == '"' || c == '\\') {
            esc[0] = '\\'; esc[1] = (char)c; elen = 2;
        } else if (c == '\n') {
            esc[0] = '\\'; esc[1] = 'n'; elen = 2;
        } else if (c < 0x20 || c == 0x7f) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4]; esc[5] = hex[c & 15]; elen = 6;
        } else if (c >= 0x80) {
            /* Pass whole valid sequences; replace a bad byte with U+FFFD so
             * the text stays valid JSON. */
            size_t seq = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
            if (i + seq <= n && utf8_valid(s + i, seq, NULL)) {
                i += seq - 1;
                continue;
            }
            memcpy(esc, "\\ufffd", 6);
            elen = 6;
        } else {
            continue;
        }
        put(ctx, s + start, i - start);
        put(ctx, esc, elen);
        start = i + 1;
    }
    put(ctx, s + start, n - start);
    put(ctx, "\"", 1);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int json_duplicate_name(const cJSON *v, char *name, size_t cap)
{
    const cJSON *c;
    const char **names;
    size_t n = 0;
    int rc = 0;

    if (v == NULL || (!cJSON_IsObject(v) && !cJSON_IsArray(v)))
        return 0;
    for (c = v->child; c != NULL; c = c->next) {
        if ((rc = json_duplicate_name(c, name, cap)) != 0)
            return rc;
        n++;
    }
    if (!cJSON_IsObject(v) || n < 2)
        return 0;
    if ((names = malloc(n * sizeof *names)) == NULL)
        return -1;
    n = 0;
    for (c = v->child; c != NULL; c = c->next)
        names[n++] = c->string != NULL ? c->string : "";
    qsort(names, n, sizeof *names, name_cmp);
    for (size_t i = 1; i < n && rc == 0; i++)
        if (strcmp(names[i - 1], names[i]) == 0) {
            snprintf(name, cap, "%s", names[i]);
            rc = 1;
        }
    free(names);
    return rc;
}
