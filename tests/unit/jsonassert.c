/* jsonassert.c - members of a cJSON object that must be there. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

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
