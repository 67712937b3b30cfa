/* job_files.c - the submitted files a job's record keeps for POST /apply-fix. */
#include "worker/job_files.h"

#include "common/crypto.h"

#include <string.h>

static int add_file(cJSON *arr, const char *path, const char *content)
{
    cJSON *o = cJSON_CreateObject();
    char sum[65];

    if (o == NULL)
        return -1;
    crypto_sha256_hex(content, strlen(content), sum);
    cJSON_AddItemToArray(arr, o);
    if (cJSON_AddStringToObject(o, "path", path) == NULL ||
        cJSON_AddStringToObject(o, "content", content) == NULL ||
        cJSON_AddStringToObject(o, "sha256", sum) == NULL)
        return -1;
    return 0;
}

int job_files_to_keep(const char *file_path, const char *file_content, const char *files_json,
                      const cJSON *findings, const cJSON *task_result, cJSON **out)
{
    int job_fix = json_str(task_result, "fix") != NULL, any = job_fix, rc;
    const cJSON *f;
    cJSON *keep, *more = NULL;

    *out = NULL;
    cJSON_ArrayForEach(f, findings)
        any |= json_str(f, "fix") != NULL;
    if (!any || file_path == NULL || file_content == NULL)
        return 0;
    if ((keep = cJSON_CreateArray()) == NULL)
        return -1;
    rc = add_file(keep, file_path, file_content);
    if (rc == 0 && job_fix && files_json != NULL)
        more = cJSON_Parse(files_json);
    cJSON_ArrayForEach(f, more) {
        const char *p = json_str(f, "path"), *c = json_str(f, "content");
        if (rc == 0 && p != NULL && c != NULL)
            rc = add_file(keep, p, c);
    }
    cJSON_Delete(more);
    if (rc != 0) {
        cJSON_Delete(keep);
        return -1;
    }
    *out = keep;
    return 0;
}
