/* finding_view.c - one finding of a job's view, as the exporters read it. */
#include "gateway/finding_view.h"

#include "common/patch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long finding_num(const cJSON *f, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(f, name);

    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 1 && v->valuedouble <= 2147483647.0))
        return 0;
    return (long)v->valuedouble;
}

const char *finding_rule(const cJSON *f)
{
    const char *r = json_str(f, "rule_id");

    return r != NULL && r[0] != '\0' ? r : "unknown";
}

const char *finding_id(const cJSON *f, int idx, char *out, size_t cap)
{
    const char *id = json_str(f, "id");

    if (id != NULL && id[0] != '\0')
        snprintf(out, cap, "%s", id);
    else
        snprintf(out, cap, "f%d", idx + 1);
    return out;
}

int finding_help_uri(const cJSON *f, char *out, size_t cap)
{
    const char *rule = finding_rule(f), *source = json_str(f, "source");
    size_t digits = strspn(rule + (strncmp(rule, "SC", 2) == 0 ? 2 : 0), "0123456789");

    if (source != NULL && strcmp(source, "lint:shellcheck") == 0 && strncmp(rule, "SC", 2) == 0 &&
        digits > 0 && digits <= 6 && rule[2 + digits] == '\0') {
        int n = snprintf(out, cap, "https://www.shellcheck.net/wiki/%s", rule);
        return n > 0 && (size_t)n < cap;
    }
    return 0;
}

const char *finding_fix(const cJSON *f)
{
    const char *fix = json_str(f, "fix");

    return fix != NULL && fix[0] != '\0' ? fix : NULL;
}

/* Whether the debug fix is for path: the file the worker resolved it to
 * (fix_file, common/patch_target.h, as POST /apply-fix does; null when it
 * names a file not submitted). A job finished before fix_file was recorded
 * is read from the "+++" header alone: it names path, or it has none and
 * path is the job's own file; there a neighbour "b/<path>" cannot be told
 * apart. */
static int fix_is_for(const cJSON *view, const char *fix, const char *path,
                      const char *file_path)
{
    const cJSON *target = cJSON_GetObjectItemCaseSensitive(view, "fix_file");
    int named;

    if (target != NULL)
        return cJSON_IsString(target) && strcmp(target->valuestring, path) == 0;
    named = patch_names_path(fix, path);
    return named > 0 || (named < 0 && file_path != NULL && strcmp(path, file_path) == 0);
}

cJSON *finding_view_diagnosis(const cJSON *view, const char **path)
{
    const char *type = json_str(view, "type"), *status = json_str(view, "status");
    const char *root = json_str(view, "root_cause"), *fix = json_str(view, "fix");
    const char *file_path = json_str(view, "file_path");
    const cJSON *frame = cJSON_GetObjectItemCaseSensitive(view, "root_frame");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(view, "verification");
    const cJSON *conf = cJSON_GetObjectItemCaseSensitive(view, "confidence");
    const char *on = json_str(frame, "file") != NULL ? json_str(frame, "file") : file_path;
    long line = json_str(frame, "file") != NULL ? finding_num(frame, "line") : 0;
    char *msg;
    size_t n;
    cJSON *f;

    *path = NULL;
    if (type == NULL || strcmp(type, "debug") != 0 || status == NULL ||
        strcmp(status, "done") != 0 || root == NULL || root[0] == '\0' || on == NULL)
        return NULL;
    n = strlen(root) + 64;
    if ((f = cJSON_CreateObject()) == NULL || (msg = malloc(n)) == NULL) {
        cJSON_Delete(f);
        return NULL;
    }
    snprintf(msg, n, "%s%s", root,
             cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ver, "verified"))
                 ? " (the fix was verified in the sandbox)"
             : cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ver, "reproduced"))
                 ? " (reproduced in the sandbox; the fix is not verified)"
                 : "");
    cJSON_AddStringToObject(f, "id", "fix");
    cJSON_AddStringToObject(f, "rule_id", FINDING_DIAGNOSIS_RULE);
    cJSON_AddStringToObject(f, "message", msg);
    cJSON_AddStringToObject(f, "severity", "major");
    cJSON_AddStringToObject(f, "category", "correctness");
    cJSON_AddStringToObject(f, "source", "debug-doctor");
    if (line > 0)
        cJSON_AddNumberToObject(f, "line", (double)line);
    if (fix != NULL && fix_is_for(view, fix, on, file_path))
        cJSON_AddStringToObject(f, "fix", fix);
    if (cJSON_IsNumber(conf))
        cJSON_AddNumberToObject(f, "confidence", conf->valuedouble);
    free(msg);
    *path = on;
    return f;
}
