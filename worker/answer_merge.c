/* answer_merge.c - secret, linter and model findings as one list, ordered
 * by line, each issue once (answer.h). */
#include "worker/answer.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "worker/linters.h"

enum { FROM_SECRETS, FROM_LINT, FROM_MODEL };

static const char *const from_names[] = {"secrets", "lint", "model"};

struct merge_item {
    const cJSON *f;
    double line;                /* 0 when missing */
    int from;                   /* FROM_*: the preference, lowest first */
    size_t index;               /* position within its input */
    const char *category;
    const char *rule_id;
    const char *message;
};

static int merge_cmp(const void *a, const void *b)
{
    const struct merge_item *x = a, *y = b;

    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->from != y->from)
        return x->from - y->from;
    return (x->index > y->index) - (x->index < y->index);
}

/* Whether b repeats a (same line). A tool's rule fired twice on a line with
 * the same message is one issue; with different messages ("'os' imported
 * but unused", "'sys' imported but unused") it is two. flake8's and pylint's
 * findings of one check about one name are one issue (linters_same_finding).
 * The model's rule ids
 * only name its category ("model:correctness"), so two of its findings on a
 * line are two issues. */
static int same_issue(const struct merge_item *a, const struct merge_item *b)
{
    if (a->line != b->line)
        return 0;
    if (a->rule_id != NULL && b->rule_id != NULL && a->rule_id[0] != '\0' &&
        !(a->from == FROM_MODEL && b->from == FROM_MODEL) && strcmp(a->rule_id, b->rule_id) == 0)
        return a->message == NULL || b->message == NULL || strcmp(a->message, b->message) == 0;
    if (a->from == FROM_LINT && b->from == FROM_LINT)
        return linters_same_finding(a->rule_id, a->message, b->rule_id, b->message);
    return a->from != b->from && a->category != NULL && b->category != NULL &&
           strcmp(a->category, b->category) == 0;
}

cJSON *answer_merge(const cJSON *secrets, const cJSON *lint, const cJSON *model)
{
    const cJSON *inputs[3] = {secrets, lint, model};
    struct merge_item *items;
    size_t n = 0, cap = 0, group = 0;
    cJSON *out;

    for (int k = 0; k < 3; k++)
        if (cJSON_IsArray(inputs[k]))
            cap += (size_t)cJSON_GetArraySize(inputs[k]);
    items = calloc(cap + 1, sizeof *items);
    out = cJSON_CreateArray();
    if (items == NULL || out == NULL)
        goto oom;
    for (int k = 0; k < 3; k++) {
        const cJSON *f;
        size_t index = 0;
        if (!cJSON_IsArray(inputs[k]))
            continue;
        cJSON_ArrayForEach(f, inputs[k]) {
            const cJSON *line = cJSON_GetObjectItemCaseSensitive(f, "line");
            if (!cJSON_IsObject(f))
                continue;
            items[n].f = f;
            items[n].line = cJSON_IsNumber(line) ? line->valuedouble : 0;
            items[n].from = k;
            items[n].index = index++;
            items[n].category = json_str(f, "category");
            items[n].rule_id = json_str(f, "rule_id");
            items[n].message = json_str(f, "message");
            n++;
        }
    }
    qsort(items, n, sizeof *items, merge_cmp);

    for (size_t i = 0; i < n; i++) {
        int dup = 0;
        cJSON *copy;

        if (i > 0 && items[i].line != items[i - 1].line)
            group = i;
        /* Earlier items of the same line are preferred; a dropped one
         * (f == NULL) no longer counts. */
        for (size_t j = group; j < i && !dup; j++)
            dup = items[j].f != NULL && same_issue(&items[j], &items[i]);
        if (dup) {
            items[i].f = NULL;
            continue;
        }
        copy = cJSON_Duplicate(items[i].f, 1);
        if (copy == NULL)
            goto oom;
        cJSON_AddItemToArray(out, copy);
        if (json_str(copy, "source") == NULL) {
            cJSON_DeleteItemFromObjectCaseSensitive(copy, "source");
            if (cJSON_AddStringToObject(copy, "source", from_names[items[i].from]) == NULL)
                goto oom;
        }
    }
    free(items);
    return out;
oom:
    free(items);
    cJSON_Delete(out);
    return NULL;
}

