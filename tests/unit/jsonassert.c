/* jsonassert.c - members of a cJSON object that must be there. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

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
