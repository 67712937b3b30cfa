/* finding_id.c - numbering a job's findings. */
#include "common/finding_id.h"

#include <stdio.h>
#include <string.h>

void finding_ids_assign(cJSON *findings)
{
    cJSON *f;
    int n = 0;

    cJSON_ArrayForEach(f, findings) {
        char id[16];

        n++;
        if (!cJSON_IsObject(f))
            continue;
        snprintf(id, sizeof id, "f%d", n);
        if (cJSON_GetObjectItemCaseSensitive(f, "id") != NULL)
            cJSON_ReplaceItemInObjectCaseSensitive(f, "id", cJSON_CreateString(id));
        else
            cJSON_AddStringToObject(f, "id", id);
    }
}

int finding_id_valid(const char *s)
{
    size_t n;

    if (s == NULL)
        return 0;
    if (strcmp(s, FINDING_ID_JOB_FIX) == 0)
        return 1;
    n = strlen(s);
    if (n < 2 || n > FINDING_ID_MAX || s[0] != 'f' || s[1] == '0')
        return 0;
    for (size_t i = 1; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}
