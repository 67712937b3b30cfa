/* ranges.c - see ranges.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "tests/unit/ranges.h"

void assert_ranges_cover(const cJSON *reviewed, const cJSON *skipped, long total)
{
    char *seen = calloc((size_t)total + 2, 1);
    const cJSON *lists[2] = {reviewed, skipped};

    assert_non_null(seen);
    for (int k = 0; k < 2; k++) {
        const cJSON *pair;
        long prev = 0;
        assert_true(cJSON_IsArray(lists[k]));
        cJSON_ArrayForEach(pair, lists[k]) {
            long a = (long)cJSON_GetArrayItem(pair, 0)->valuedouble;
            long b = (long)cJSON_GetArrayItem(pair, 1)->valuedouble;
            assert_int_equal(cJSON_GetArraySize(pair), 2);
            assert_true(a >= 1 && a <= b && b <= total);
            assert_true(a > prev + (prev != 0));  /* sorted, not touching */
            prev = b;
            for (long i = a; i <= b; i++) {
                assert_int_equal(seen[i], 0);
                seen[i] = 1;
            }
        }
    }
    for (long i = 1; i <= total; i++)
        assert_int_equal(seen[i], 1);
    free(seen);
}
