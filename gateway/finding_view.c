/* finding_view.c - one finding of a job's view, as the exporters read it. */
#include "gateway/finding_view.h"

#include <stdio.h>
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
