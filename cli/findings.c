/* findings.c - compiler-style lines, counts and the exit status. */
#include "cli/findings.h"

#include "cli/termtext.h"

#include <stdlib.h>
#include <string.h>

/* Longest text line written, bytes (a longer message is cut). */
#define FINDINGS_LINE_MAX 8192

static long int_member(const cJSON *o, const char *name, long dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    return cJSON_IsNumber(v) && v->valuedouble >= 1 && v->valuedouble < 1e9
           ? (long)v->valuedouble : dflt;
}

/* Appends s to buf at *at made safe for a terminal (termtext.h): newlines
 * and tabs as spaces, other controls and bytes that are not UTF-8 as '?'. */
static void append_flat(char *buf, size_t cap, size_t *at, const char *s)
{
    termtext_clean(buf + *at, cap - *at, s, TERMTEXT_FLAT);
    *at += strlen(buf + *at);
}

static void append(char *buf, size_t cap, size_t *at, const char *s)
{
    int n = snprintf(buf + *at, cap - *at, "%s", s);

    *at += n < 0 ? 0 : (size_t)n >= cap - *at ? cap - *at - 1 : (size_t)n;
}

char *findings_line(char *buf, size_t cap, const char *path, const cJSON *f)
{
    const char *sev = json_str(f, "severity"), *msg = json_str(f, "message");
    const char *rule = json_str(f, "rule_id"), *src = json_str(f, "source");
    char head[64];
    size_t at = 0;

    if (cap == 0)
        return buf;
    buf[0] = '\0';
    append_flat(buf, cap, &at, path);
    snprintf(head, sizeof head, ":%ld:%ld: ", int_member(f, "line", 1),
             int_member(f, "column", 1));
    append(buf, cap, &at, head);
    append_flat(buf, cap, &at, sev ? sev : "info");
    append(buf, cap, &at, ": ");
    append_flat(buf, cap, &at, msg ? msg : "");
    if (rule != NULL && rule[0] != '\0') {
        append(buf, cap, &at, " [");
        append_flat(buf, cap, &at, rule);
        append(buf, cap, &at, "]");
    }
    if (src != NULL && src[0] != '\0') {
        append(buf, cap, &at, " (");
        append_flat(buf, cap, &at, src);
        append(buf, cap, &at, ")");
    }
    return buf;
}

struct ref {
    const char *path;
    const cJSON *f;
    long line, col;
    size_t order;
};

static int ref_cmp(const void *pa, const void *pb)
{
    const struct ref *a = pa, *b = pb;
    int c = strcmp(a->path, b->path);

    if (c != 0)
        return c;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    if (a->col != b->col)
        return a->col < b->col ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

static const cJSON *job_findings(const struct cli_job *j)
{
    if (j->state != JOB_DONE || j->view == NULL)
        return NULL;
    return cJSON_GetObjectItemCaseSensitive(j->view, "findings");
}

long findings_print(FILE *out, const struct jobset *js)
{
    struct ref *refs;
    size_t n = 0, cap = 0;
    char *line;
    const cJSON *f;

    for (size_t i = 0; i < js->n; i++)
        cap += (size_t)cJSON_GetArraySize(job_findings(&js->jobs[i]));
    if (cap == 0)
        return 0;
    refs = calloc(cap, sizeof *refs);
    line = malloc(FINDINGS_LINE_MAX);
    if (refs == NULL || line == NULL) {
        free(refs);
        free(line);
        return -1;
    }
    for (size_t i = 0; i < js->n; i++) {
        cJSON_ArrayForEach(f, job_findings(&js->jobs[i])) {
            if (n >= cap)
                break;
            refs[n] = (struct ref){js->jobs[i].label, f, int_member(f, "line", 1),
                                   int_member(f, "column", 1), n};
            n++;
        }
    }
    qsort(refs, n, sizeof *refs, ref_cmp);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s\n", findings_line(line, FINDINGS_LINE_MAX, refs[i].path, refs[i].f));
    free(refs);
    free(line);
    return (long)n;
}

void findings_count(const struct jobset *js, long counts[SEV_NEVER])
{
    const cJSON *f;

    memset(counts, 0, SEV_NEVER * sizeof counts[0]);
    for (size_t i = 0; i < js->n; i++) {
        cJSON_ArrayForEach(f, job_findings(&js->jobs[i])) {
            int r = args_sev_rank(json_str(f, "severity"));
            counts[r < 0 ? SEV_INFO : r]++;
        }
    }
}

char *findings_summary(char *buf, size_t cap, const long counts[SEV_NEVER], size_t nfiles)
{
    static const char *const names[] = {"info", "minor", "major", "critical"};
    long total = 0;
    size_t at = 0;
    int first = 1;

    for (int r = 0; r < SEV_NEVER; r++)
        total += counts[r];
    if (total == 0) {
        snprintf(buf, cap, "no findings in %zu file%s", nfiles, nfiles == 1 ? "" : "s");
        return buf;
    }
    buf[0] = '\0';
    at = (size_t)snprintf(buf, cap, "%ld finding%s (", total, total == 1 ? "" : "s");
    for (int r = SEV_CRITICAL; r >= SEV_INFO && at < cap; r--) {
        int n;

        if (counts[r] == 0)
            continue;
        n = snprintf(buf + at, cap - at, "%s%ld %s", first ? "" : ", ", counts[r], names[r]);
        at += n < 0 ? 0 : (size_t)n;
        first = 0;
    }
    if (at < cap)
        snprintf(buf + at, cap - at, ") in %zu file%s", nfiles, nfiles == 1 ? "" : "s");
    return buf;
}

int findings_exit_status(const struct jobset *js, enum cli_sev fail_on)
{
    long counts[SEV_NEVER];

    for (size_t i = 0; i < js->n; i++)
        if (js->jobs[i].state == JOB_FAILED || js->jobs[i].state == JOB_ERROR)
            return CLI_EXIT_SERVICE;
    if (fail_on == SEV_NEVER)
        return CLI_EXIT_OK;
    findings_count(js, counts);
    for (int r = (int)fail_on; r < SEV_NEVER; r++)
        if (counts[r] > 0)
            return CLI_EXIT_FINDINGS;
    return CLI_EXIT_OK;
}
