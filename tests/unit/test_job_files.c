/* test_job_files.c - unit tests for worker/job_files.c: which submitted
 * files a job's record keeps for POST /apply-fix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/crypto.h"
#include "worker/job_files.h"


static cJSON *keep(const char *files_json, const char *findings, const char *task_result)
{
    cJSON *f = cJSON_Parse(findings), *t = task_result ? cJSON_Parse(task_result) : NULL;
    cJSON *out = (cJSON *)1;

    assert_int_equal(job_files_to_keep("a.py", "x = 1\n", files_json, f, t, &out), 0);
    cJSON_Delete(f);
    cJSON_Delete(t);
    return out;
}

static void test_nothing_to_apply(void **state)
{
    cJSON *out = (cJSON *)1;
    (void)state;

    assert_null(keep(NULL, "[]", NULL));
    assert_null(keep(NULL, "[{\"id\":\"f1\",\"line\":1},{\"fix\":null}]", "{\"fix\":null}"));
    /* No file: nothing to keep, whatever the findings say. */
    assert_int_equal(job_files_to_keep(NULL, NULL, NULL, NULL, NULL, &out), 0);
    assert_null(out);
}

static void test_finding_fix_keeps_the_main_file(void **state)
{
    cJSON *out;
    const cJSON *f;
    (void)state;

    /* A review's fix applies to the main file only: neighbours are not kept. */
    out = keep("[{\"path\":\"b.py\",\"content\":\"y\\n\"}]",
               "[{\"line\":1},{\"line\":1,\"fix\":\"@@ -1 +1 @@\\n-x = 1\\n+x = 2\\n\"}]", NULL);
    assert_non_null(out);
    assert_int_equal(cJSON_GetArraySize(out), 1);
    f = cJSON_GetArrayItem(out, 0);
    assert_string_equal(json_str(f, "path"), "a.py");
    assert_string_equal(json_str(f, "content"), "x = 1\n");
    assert_int_equal(strlen(json_str(f, "sha256")), 64);
    cJSON_Delete(out);
}

static void test_debug_fix_keeps_every_file(void **state)
{
    cJSON *out;
    char sum[65];
    (void)state;

    out = keep("[{\"path\":\"lib/b.py\",\"content\":\"y\\n\"},{\"path\":\"c.py\"}]", "[]",
               "{\"fix\":\"--- a/lib/b.py\\n+++ b/lib/b.py\\n@@ -1 +1 @@\\n-y\\n+z\\n\"}");
    assert_non_null(out);
    /* The malformed entry (no content) is skipped. */
    assert_int_equal(cJSON_GetArraySize(out), 2);
    assert_string_equal(json_str(cJSON_GetArrayItem(out, 0), "path"), "a.py");
    assert_string_equal(json_str(cJSON_GetArrayItem(out, 1), "path"), "lib/b.py");
    /* The hash is of the content as given. */
    crypto_sha256_hex("y\n", 2, sum);
    assert_string_equal(json_str(cJSON_GetArrayItem(out, 1), "sha256"), sum);
    crypto_sha256_hex("x = 1\n", 6, sum);
    assert_string_equal(json_str(cJSON_GetArrayItem(out, 0), "sha256"), sum);
    cJSON_Delete(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_to_apply),
        cmocka_unit_test(test_finding_fix_keeps_the_main_file),
        cmocka_unit_test(test_debug_fix_keeps_every_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
