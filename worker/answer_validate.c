/* answer_validate.c - the model's findings checked against the submitted
 * file: lines inside it, fixes that apply (answer.h). */
#include "worker/answer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/metrics.h"
#include "common/metrics_table.h"
#include "common/patch.h"
#include "worker/redact.h"
#include "worker/replace_fix.h"

static long count_lines(const char *file, size_t len)
{
    long n = 0;

    if (file == NULL || len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (file[i] == '\n')
            n++;
    if (file[len - 1] != '\n')
        n++;
    return n;
}

/* The line after the one at l, or NULL at the last. */
static const char *next_line(const char *l)
{
    const char *nl = strchr(l, '\n');

    return nl != NULL ? nl + 1 : NULL;
}

/* Whether a fix is written as a unified diff rather than as new lines. A
 * "--- " line alone is not a diff's: it is a Lua or SQL comment ("---
 * Adds two numbers", a LDoc line), and indentation is the code's, so
 * nothing is skipped before looking. */
static int reads_as_diff(const char *fix)
{
    const char *l, *n;

    if (strncmp(fix, "diff --git ", 11) == 0 || strncmp(fix, "@@ ", 3) == 0)
        return 1;
    for (l = fix; l != NULL; l = n) {
        n = next_line(l);
        if (strncmp(l, "@@ -", 4) == 0 ||
            (strncmp(l, "--- ", 4) == 0 && n != NULL && strncmp(n, "+++ ", 4) == 0))
            return 1;
    }
    return 0;
}

static int applies(const char *diff, const struct answer_file *file)
{
    return patch_apply(file->text != NULL ? file->text : "", file->len, diff, strlen(diff), NULL,
                       NULL) == 0;
}

/* Outcomes of a fix in codeinsight_model_fixes_total besides replace_fix's. */
#define FIX_KEPT "kept"
#define FIX_REDACTED "redacted"             /* touches a redacted line, or writes a placeholder */
#define FIX_DOES_NOT_APPLY "does_not_apply" /* a diff the model wrote */
#define FIX_OUTSIDE "outside_lines"         /* a diff changing lines far from its finding */
#define FIX_UNSEEN "unseen_lines"           /* changes a line the prompt did not show */

/* Range i of shown ([first, last]) into *a, *b. Returns 0, or -1 when it
 * is not a pair of numbers. */
static int shown_range(const cJSON *rg, long *a, long *b)
{
    const cJSON *x = cJSON_GetArrayItem(rg, 0), *y = cJSON_GetArrayItem(rg, 1);

    if (!cJSON_IsNumber(x) || !cJSON_IsNumber(y))
        return -1;
    *a = (long)x->valuedouble;
    *b = (long)y->valuedouble;
    return 0;
}

/* Whether some line of first..last was shown (shown NULL: all were). */
static int seen_any(const cJSON *shown, long first, long last)
{
    const cJSON *rg;
    long a, b;

    if (shown == NULL)
        return 1;
    cJSON_ArrayForEach(rg, shown)
        if (shown_range(rg, &a, &b) == 0 && a <= last && b >= first)
            return 1;
    return 0;
}

/* Whether every line of first..last was shown (shown NULL: all were). The
 * ranges may touch one another; each pass over them moves on or stops. */
static int seen_all(const cJSON *shown, long first, long last)
{
    const cJSON *rg;
    long a, b, at = first, before;

    if (shown == NULL)
        return 1;
    do {
        before = at;
        cJSON_ArrayForEach(rg, shown)
            if (shown_range(rg, &a, &b) == 0 && a <= at && b >= at)
                at = b + 1;
    } while (at <= last && at != before);
    return at > last;
}

/* The outcome of a fix the model wrote as a diff for lines first..last of a
 * file of total lines: kept only when it applies, changes nothing further
 * than ANSWER_FIX_SLACK lines from them, and nothing the prompt did not
 * show (the model would overwrite code it never read). A diff elsewhere would make a harmless
 * finding carry another change (one planted by text in the reviewed code,
 * say), applied by whoever approves the finding. */
static const char *diff_outcome(const char *fix, const struct answer_file *file, long first,
                                long last, long total)
{
    long from, to;

    if (redact_diff_adds_mark(fix))
        return FIX_REDACTED;
    if (patch_span(file->text != NULL ? file->text : "", file->len, fix, strlen(fix), &from,
                   &to) != 0)
        return FIX_DOES_NOT_APPLY;
    /* Context lines alone: nothing to apply, nor to export (fix_blocks). */
    if (from == 0)
        return REPLACE_FIX_UNCHANGED;
    if (from < first - ANSWER_FIX_SLACK || to > last + ANSWER_FIX_SLACK)
        return FIX_OUTSIDE;
    /* An addition after the last line counts the line after it: none. */
    if (!seen_all(file->shown, from, to < total ? to : total))
        return FIX_UNSEEN;
    return FIX_KEPT;
}

/* The diff that finding f's fix (new lines) stands for, when it applies
 * (see answer_validate); NULL otherwise, with *why the fixes metric's
 * outcome. Returns it (owns). */
static char *lines_diff(const cJSON *f, const char *fix, const struct answer_file *file,
                        const char **why)
{
    const cJSON *end_line = answer_member(f, "end_line");
    long first = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(f, "line"));
    long last = end_line != NULL ? (long)end_line->valuedouble : first;
    const char *seen = file->seen != NULL ? file->seen : file->text;
    size_t seen_len = file->seen != NULL ? file->seen_len : file->len;
    char *diff;

    *why = FIX_REDACTED;
    if (strstr(fix, REDACT_MARK) != NULL)
        return NULL;
    diff = replace_fix_diff(seen, seen_len, file->path, first, last, fix, strlen(fix), why);
    /* Made from what the model saw, it fails on the file only where the
     * two differ: a redacted line. */
    if (diff != NULL && !applies(diff, file)) {
        *why = FIX_REDACTED;
        free(diff);
        diff = NULL;
    }
    return diff;
}

/* Counts a fix in codeinsight_model_fixes_total. */
static void fix_counted(const char *form, const char *outcome)
{
    char labels[96];

    if (metrics_labels(labels, sizeof labels, "form", form, "outcome", outcome, NULL) == 0)
        metrics_inc(MET_MODEL_FIXES, labels);
}

int answer_validate(cJSON *findings, const struct answer_file *file)
{
    long total = count_lines(file->text, file->len);
    cJSON *f, *next, *s;
    int dropped = 0;

    if (!cJSON_IsArray(findings))
        return 0;
    for (f = findings->child; f != NULL; f = next) {
        const cJSON *line = cJSON_GetObjectItemCaseSensitive(f, "line");
        const cJSON *end_line = answer_member(f, "end_line");
        const char *fix = json_str(f, "fix");
        char *diff;
        long first, last;

        next = f->next;
        if (!answer_line_no(line) || line->valuedouble > (double)total ||
            (end_line != NULL && (!answer_line_no(end_line) ||
                                  end_line->valuedouble > (double)total))) {
            cJSON_Delete(cJSON_DetachItemViaPointer(findings, f));
            dropped++;
            continue;
        }
        first = (long)line->valuedouble;
        last = end_line != NULL ? (long)end_line->valuedouble : first;
        /* About lines the model was not shown: a guess, or text planted in
         * the shown code steering it elsewhere. */
        if (!seen_any(file->shown, first, last)) {
            if (fix != NULL)
                fix_counted(reads_as_diff(fix) ? "diff" : "lines", FIX_UNSEEN);
            cJSON_Delete(cJSON_DetachItemViaPointer(findings, f));
            dropped++;
            continue;
        }
        if (fix == NULL)
            continue;
        if (reads_as_diff(fix)) {
            const char *outcome = diff_outcome(fix, file, first, last, total);
            fix_counted("diff", outcome);
            if (strcmp(outcome, FIX_KEPT) == 0)
                continue;
            diff = NULL;
        } else if (!seen_all(file->shown, first, last)) {
            fix_counted("lines", FIX_UNSEEN);
            diff = NULL;
        } else {
            const char *why;
            diff = lines_diff(f, fix, file, &why);
            fix_counted("lines", diff != NULL ? FIX_KEPT : why);
        }
        s = diff != NULL ? cJSON_CreateString(diff) : NULL;
        if (s == NULL || !cJSON_ReplaceItemInObjectCaseSensitive(f, "fix", s)) {
            cJSON_Delete(s);
            cJSON_DeleteItemFromObjectCaseSensitive(f, "fix");
        }
        free(diff);
    }
    return dropped;
}
