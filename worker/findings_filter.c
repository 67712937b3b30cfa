/* findings_filter.c - drops a review's findings outside its diff filter;
 * see findings_filter.h. */
#include "worker/findings_filter.h"

#include "common/diff_filter.h"
#include "common/udiff.h"

#include <string.h>

/* The finding's line (0 when it has none) and end line. */
static void finding_lines(const cJSON *f, long *line, long *end_line)
{
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(f, "line");
    const cJSON *el = cJSON_GetObjectItemCaseSensitive(f, "end_line");

    *line = cJSON_IsNumber(l) && l->valuedouble >= 1 && l->valuedouble < 1e9
                ? (long)l->valuedouble : 0;
    *end_line = cJSON_IsNumber(el) && el->valuedouble < 1e9 ? (long)el->valuedouble : *line;
}

int findings_filter_apply(const char *diff, const char *filter, cJSON *findings,
                          cJSON *members)
{
    struct udiff *d = NULL;
    struct diff_scope s;
    cJSON *changed = NULL, *hunks = NULL, *f, *next;
    int flt = diff_filter_parse(filter), dropped = 0, rc = -1;
    long line, end_line;

    memset(&s, 0, sizeof s);
    if (flt < 0 || diff == NULL || udiff_parse(diff, strlen(diff), &d, NULL) < 0 ||
        d->nfiles != 1 || diff_scope_build(&d->files[0], &s) < 0)
        goto out;
    changed = diff_scope_ranges_json(&s, 1);
    hunks = diff_scope_ranges_json(&s, 0);
    if (changed == NULL || hunks == NULL)
        goto out;
    for (f = findings != NULL ? findings->child : NULL; f != NULL; f = next) {
        next = f->next;
        finding_lines(f, &line, &end_line);
        if (line == 0 ? flt == DIFF_FILTER_FILE || flt == DIFF_FILTER_NOFILTER
                      : diff_scope_keeps(&s, (enum diff_filter)flt, line, end_line))
            continue;
        cJSON_Delete(cJSON_DetachItemViaPointer(findings, f));
        dropped++;
    }
    cJSON_AddStringToObject(members, "filter", diff_filter_str((enum diff_filter)flt));
    cJSON_AddNumberToObject(members, "filtered_out", dropped);
    cJSON_AddItemToObject(members, "changed_ranges", changed);
    cJSON_AddItemToObject(members, "diff_ranges", hunks);
    changed = hunks = NULL;
    rc = 0;
out:
    cJSON_Delete(changed);
    cJSON_Delete(hunks);
    diff_scope_cleanup(&s);
    udiff_free(d);
    return rc;
}
