/* fixture.c - fixture files for unit tests (see fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/fixture.h"

char *fixture_read(const char *dir, const char *name, size_t *len)
{
    char path[512];
    char *buf;
    FILE *f;
    int n;

    n = snprintf(path, sizeof(path), "%s%s", dir, name);
    assert_true(n > 0 && (size_t)n < sizeof(path));
    f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s (run from the repository root)", path);
    buf = malloc(FIXTURE_MAX + 1);
    assert_non_null(buf);
    *len = fread(buf, 1, FIXTURE_MAX, f);
    assert_int_equal(ferror(f), 0);
    assert_true(feof(f));
    fclose(f);
    buf[*len] = '\0';
    return buf;
}

char *fixture_read_trimmed(const char *dir, const char *name, size_t *len)
{
    size_t n;
    char *buf = fixture_read(dir, name, &n);

    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    return buf;
}

char *fixture_exact_copy(const char *s, size_t len)
{
    char *copy = malloc(len ? len : 1);

    assert_non_null(copy);
    memcpy(copy, s, len);
    return copy;
}
