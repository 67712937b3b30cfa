/* history_doc.c - a finished job's PostgreSQL document as MongoDB documents. */
#include "worker/history_doc.h"

#include "common/clock.h"
#include "common/crypto.h"
#include "worker/answer.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Numbers that are integers up to here go as int64 (beyond, a double would
 * not hold them exactly anyway). */
#define HISTORY_INT_MAX 9007199254740992.0     /* 2^53 */

/* Top-level members that are times. */
static int is_date_key(const char *k)
{
    return strcmp(k, "created_at") == 0 || strcmp(k, "started_at") == 0 ||
           strcmp(k, "finished_at") == 0;
}

static int append_value(bson_t *b, const char *key, const cJSON *v, int depth);

static int append_children(bson_t *b, const cJSON *v, int array, int depth)
{
    const cJSON *it;
    uint32_t i = 0;

    cJSON_ArrayForEach(it, v) {
        char buf[16];
        const char *key = it->string;

        if (array)
            bson_uint32_to_string(i++, &key, buf, sizeof buf);
        else if (key == NULL)
            continue;
        if (append_value(b, key, it, depth + 1) < 0)
            return -1;
    }
    return 0;
}

static int append_value(bson_t *b, const char *key, const cJSON *v, int depth)
{
    bson_t child;
    int ok, array = cJSON_IsArray(v);

    if (cJSON_IsString(v))
        return bson_append_utf8(b, key, -1, v->valuestring, -1) ? 0 : -1;
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (isfinite(d) && d == floor(d) && fabs(d) <= HISTORY_INT_MAX)
            return bson_append_int64(b, key, -1, (int64_t)d) ? 0 : -1;
        return bson_append_double(b, key, -1, d) ? 0 : -1;
    }
    if (cJSON_IsBool(v))
        return bson_append_bool(b, key, -1, cJSON_IsTrue(v)) ? 0 : -1;
    if ((!array && !cJSON_IsObject(v)) || depth >= HISTORY_DEPTH_MAX)
        return bson_append_null(b, key, -1) ? 0 : -1;
    if (!(array ? bson_append_array_begin(b, key, -1, &child)
                : bson_append_document_begin(b, key, -1, &child)))
        return -1;
    ok = append_children(&child, v, array, depth) == 0;
    if (!(array ? bson_append_array_end(b, &child) : bson_append_document_end(b, &child)))
        return -1;
    return ok ? 0 : -1;
}

/* A time as a BSON date when it is one, else as it is. */
static int append_time(bson_t *b, const char *key, const cJSON *v)
{
    int64_t ms;

    if (cJSON_IsString(v) && clock_parse_rfc3339(v->valuestring, &ms) == 0)
        return bson_append_date_time(b, key, -1, ms) ? 0 : -1;
    return append_value(b, key, v, 1);
}

int history_job(const cJSON *doc, bson_t *out)
{
    const char *id = json_str(doc, "job_id");
    const cJSON *it;

    if (!cJSON_IsObject(doc) || id == NULL || !bson_append_utf8(out, "_id", -1, id, -1))
        return -1;
    cJSON_ArrayForEach(it, doc) {
        int rc;

        if (strcmp(it->string, "job_files") == 0 || strcmp(it->string, "job_id") == 0 ||
            strcmp(it->string, "_id") == 0)
            continue;
        rc = is_date_key(it->string) ? append_time(out, it->string, it)
                                     : append_value(out, it->string, it, 1);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* {critical: n, major: n, minor: n, info: n} of the findings. */
static int append_severities(bson_t *b, const cJSON *findings)
{
    int n[ANSWER_SEVERITIES];
    bson_t child;

    if (!bson_append_document_begin(b, "severities", -1, &child))
        return -1;
    answer_count_severities(findings, n);
    for (int s = 0; s < ANSWER_SEVERITIES; s++)
        bson_append_int64(&child, answer_severity_name(s), -1, n[s]);
    return bson_append_document_end(b, &child) ? 0 : -1;
}

int history_snapshot(const cJSON *doc, bson_t *sel, bson_t *upd)
{
    const char *status = json_str(doc, "status"), *path = json_str(doc, "file_path");
    const char *sha = json_str(doc, "file_sha256"), *repo = json_str(doc, "repo_id");
    const char *type = json_str(doc, "type");
    const cJSON *findings = cJSON_GetObjectItemCaseSensitive(doc, "findings");
    const cJSON *finished = cJSON_GetObjectItemCaseSensitive(doc, "finished_at");
    char id[65], *key;
    size_t n;
    bson_t set, min;
    int ok;

    if (status == NULL || strcmp(status, "done") != 0 || type == NULL ||
        strcmp(type, "review") != 0 || path == NULL || sha == NULL)
        return 0;
    /* Each part with its length first: no two triples give one key. */
    n = strlen(path) + strlen(sha) + (repo ? strlen(repo) : 0) + 64;
    key = bson_malloc(n);
    snprintf(key, n, "%zu:%s|%zu:%s|%s", repo ? strlen(repo) : 0, repo ? repo : "",
             strlen(path), path, sha);
    crypto_sha256_hex(key, strlen(key), id);
    bson_free(key);
    if (!bson_append_utf8(sel, "_id", -1, id, -1) ||
        !bson_append_document_begin(upd, "$set", -1, &set))
        return -1;
    ok = (repo ? bson_append_utf8(&set, "repo_id", -1, repo, -1)
               : bson_append_null(&set, "repo_id", -1)) &&
         bson_append_utf8(&set, "file_path", -1, path, -1) &&
         bson_append_utf8(&set, "file_sha256", -1, sha, -1) &&
         append_value(&set, "language", cJSON_GetObjectItemCaseSensitive(doc, "language"),
                      1) == 0 &&
         append_value(&set, "job_id", cJSON_GetObjectItemCaseSensitive(doc, "job_id"), 1) == 0 &&
         append_value(&set, "summary", cJSON_GetObjectItemCaseSensitive(doc, "summary"),
                      1) == 0 &&
         bson_append_int64(&set, "findings", -1, cJSON_GetArraySize(findings)) &&
         append_severities(&set, findings) == 0 &&
         append_time(&set, "reviewed_at", finished) == 0;
    if (!bson_append_document_end(upd, &set) || !ok ||
        !bson_append_document_begin(upd, "$min", -1, &min))
        return -1;
    ok = append_time(&min, "first_reviewed_at", finished) == 0;
    if (!bson_append_document_end(upd, &min) || !ok)
        return -1;
    return 1;
}
