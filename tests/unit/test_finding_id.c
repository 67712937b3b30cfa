/* test_finding_id.c - unit tests for common/finding_id.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/finding_id.h"

static void test_assign(void **state)
{
    cJSON *list = cJSON_Parse("[{\"line\":1},{\"line\":2,\"id\":\"stale\"},7,{\"line\":9}]");
    (void)state;

    assert_non_null(list);
    finding_ids_assign(list);
    assert_string_equal(json_str(cJSON_GetArrayItem(list, 0), "id"), "f1");
    /* An id already there is replaced, not duplicated. */
    assert_string_equal(json_str(cJSON_GetArrayItem(list, 1), "id"), "f2");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetArrayItem(list, 1)), 2);
    /* A non-object keeps its position. */
    assert_true(cJSON_IsNumber(cJSON_GetArrayItem(list, 2)));
    assert_string_equal(json_str(cJSON_GetArrayItem(list, 3), "id"), "f4");
    /* Assigning again gives the same ids. */
    finding_ids_assign(list);
    assert_string_equal(json_str(cJSON_GetArrayItem(list, 3), "id"), "f4");
    cJSON_Delete(list);
    finding_ids_assign(NULL);
}

static void test_valid(void **state)
{
    static const char *const good[] = {"f1", "f9", "f10", "f100", "f999999", "fix"};
    static const char *const bad[] = {"", "f", "f0", "f01", "F1", "f1234567", "fix1", "fi",
                                      "1", "f 1", "f1\n", "f-1", "x1"};
    (void)state;

    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(finding_id_valid(good[i]));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(finding_id_valid(bad[i]));
    assert_false(finding_id_valid(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_assign),
        cmocka_unit_test(test_valid),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
