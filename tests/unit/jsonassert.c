/* jsonassert.c - members of a cJSON object that must be there, or be what
 * they should. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/utf8.h"
#include "tests/unit/jsonassert.h"

double ja_num(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    if (!cJSON_IsNumber(v))
        print_error("member %s is not a number\n", name);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

const cJSON *ja_member(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    if (v == NULL)
        print_error("member %s is missing\n", name);
    assert_non_null(v);
    return v;
}

const cJSON *ja_at(const cJSON *o, const char *path)
{
    char step[64];

    while (o != NULL && *path != '\0') {
        size_t n = strcspn(path, ".");
        char *end;
        long i;

        if (n >= sizeof step)
            return NULL;
        memcpy(step, path, n);
        step[n] = '\0';
        path += n + (path[n] == '.');
        i = strtol(step, &end, 10);
        if (cJSON_IsArray(o) && end != step && *end == '\0')
            o = cJSON_GetArrayItem(o, (int)i);
        else
            o = cJSON_GetObjectItemCaseSensitive(o, step);
    }
    return o;
}

const char *ja_str_at(const cJSON *o, const char *path)
{
    const cJSON *v = ja_at(o, path);

    if (!cJSON_IsString(v))
        print_error("%s is not a string\n", path);
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

double ja_num_at(const cJSON *o, const char *path)
{
    const cJSON *v = ja_at(o, path);

    if (!cJSON_IsNumber(v))
        print_error("%s is not a number\n", path);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

void ja_str_is(const cJSON *o, const char *key, const char *want, const char *what)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    if (want == NULL) {
        if (!cJSON_IsNull(v))
            fail_msg("%s: %s is %s, want null", what, key,
                     cJSON_IsString(v) ? v->valuestring : "not a string");
        return;
    }
    if (!cJSON_IsString(v) || strcmp(v->valuestring, want) != 0)
        fail_msg("%s: %s is \"%s\", want \"%s\"", what, key,
                 cJSON_IsString(v) ? v->valuestring : "(not a string)", want);
}

void ja_clean_strings(const cJSON *o)
{
    const cJSON *c;

    if (cJSON_IsString(o)) {
        size_t n = strlen(o->valuestring);
        if (!utf8_valid(o->valuestring, n, NULL))
            fail_msg("invalid UTF-8 in output: %s", o->valuestring);
        for (size_t i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)o->valuestring[i];
            if ((ch < 0x20 && ch != '\t' && ch != '\n') || ch == 0x7f)
                fail_msg("control byte 0x%02x in output", ch);
        }
    }
    cJSON_ArrayForEach(c, o)
        ja_clean_strings(c);
}
