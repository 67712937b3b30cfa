/* test_budget.c - unit tests for common/budget.c's pure parts: budget_month
 * at month, year and leap-day boundaries and for what it cannot show;
 * budget_key's text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/budget.h"
#include "common/plans.h"

static void test_month(void **state)
{
    static const struct {
        int64_t ms;
        const char *month;
    } cases[] = {
        {0, "1970-01"},
        {1795342448725, "2026-11"},             /* 2026-11-22T10:14:08.725Z */
        {1798761599999, "2026-12"},             /* 2026-12-31T23:59:59.999Z */
        {1798761600000, "2027-01"},             /* a millisecond later */
        {1709251199999, "2024-02"},             /* 2024-02-29T23:59:59.999Z */
        {1709251200000, "2024-03"},
        {253402300799999, "9999-12"},
        {-1, "1970-01"},                        /* before 1970 */
        {253402300800000, "1970-01"},           /* year 10000 */
    };
    char out[BUDGET_MONTH_LEN];

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(out, 'x', sizeof out);
        budget_month(cases[i].ms, out);
        assert_string_equal(out, cases[i].month);
    }
}

static void test_key(void **state)
{
    char key[BUDGET_KEY_MAX];

    (void)state;
    budget_key("0b7e0d4c-4a4e-4c1e-9a55-3f1d2c9b8a71", "2026-11", key);
    assert_string_equal(key, "budget:0b7e0d4c-4a4e-4c1e-9a55-3f1d2c9b8a71:2026-11");
}

static void test_estimate(void **state)
{
    (void)state;
    /* ceil(bytes/4) + the template overhead + the task's max output. */
    assert_int_equal(budget_estimate("review", 0, 1), PLANS_TEMPLATE_OVERHEAD + 2048);
    assert_int_equal(budget_estimate("review", 5, 1), 2 + PLANS_TEMPLATE_OVERHEAD + 2048);
    assert_int_equal(budget_estimate("architecture", 8, 1), 2 + PLANS_TEMPLATE_OVERHEAD + 8192);
    /* Each round of a debug job asks the model again. */
    assert_int_equal(budget_estimate("debug", 400, 2), 2 * (100 + PLANS_TEMPLATE_OVERHEAD + 4096));
    assert_int_equal(budget_estimate("debug", 400, 5), 5 * (100 + PLANS_TEMPLATE_OVERHEAD + 4096));
    assert_int_equal(budget_estimate("debug", 400, 0), budget_estimate("debug", 400, 1));
    assert_int_equal(budget_estimate("debug", 400, -3), budget_estimate("debug", 400, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_month),
        cmocka_unit_test(test_key),
        cmocka_unit_test(test_estimate),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
