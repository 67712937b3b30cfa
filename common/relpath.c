/* relpath.c - relative path validation. */
#include "common/relpath.h"

#include "common/utf8.h"

#include <ctype.h>
#include <string.h>

static int is_sep(char c)
{
    return c == '/' || c == '\\';
}

int relpath_valid(const char *path, size_t len)
{
    size_t seg = 0;

    if (len == 0 || is_sep(path[0]))
        return 0;
    if (len >= 2 && isalpha((unsigned char)path[0]) && path[1] == ':')
        return 0;
    if (!utf8_valid(path, len, NULL))
        return 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || is_sep(path[i])) {
            size_t n = i - seg;
            if (n == 2 && path[seg] == '.' && path[seg + 1] == '.')
                return 0;
            if (i == len && (n == 0 || (n == 1 && path[seg] == '.')))
                return 0;
            seg = i + 1;
            continue;
        }
        if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f)
            return 0;
        /* C1 controls, U+0080..U+009F, are 0xc2 0x80..0x9f in UTF-8. */
        if ((unsigned char)path[i] == 0xc2 && i + 1 < len &&
            (unsigned char)path[i + 1] >= 0x80 && (unsigned char)path[i + 1] <= 0x9f)
            return 0;
    }
    return 1;
}

int relpath_normal(const char *path, char *out, size_t cap)
{
    size_t len = path ? strlen(path) : 0, o = 0;
    const char *seg = path;

    if (len == 0 || !relpath_valid(path, len))
        return -1;
    for (const char *p = path;; p++) {
        if (*p == '/' || *p == '\0') {
            size_t n = (size_t)(p - seg);
            if (n > RELPATH_NAME_MAX)
                return -1;
            if (n > 0 && !(n == 1 && seg[0] == '.')) {
                if (o + n + 2 > cap)
                    return -1;
                if (o > 0)
                    out[o++] = '/';
                memcpy(out + o, seg, n);
                o += n;
            }
            if (*p == '\0')
                break;
            seg = p + 1;
        }
    }
    out[o] = '\0';
    return o > 0 ? 0 : -1;
}

/* 1 when a is b or a directory holding b. */
static int covers(const char *a, const char *b)
{
    size_t n = strlen(a);

    return strncmp(a, b, n) == 0 && (b[n] == '\0' || b[n] == '/');
}

int relpath_clash(const char *a, const char *b)
{
    return covers(a, b) || covers(b, a);
}
