/* output.c - results of settled jobs in the chosen format. */
#include "cli/output.h"

#include "cli/findings.h"
#include "cli/merge.h"
#include "cli/termtext.h"

#include "common/json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Prints a JSON document, pretty, safe on a terminal (termtext_put_json),
 * and a newline. 0 or -1 (out of memory). */
static int print_doc(FILE *out, const cJSON *doc)
{
    char *s = doc != NULL ? cJSON_Print(doc) : NULL;

    if (s == NULL)
        return -1;
    termtext_put_json(out, s);
    fputc('\n', out);
    free(s);
    return 0;
}

/* Writes before, text made safe for the terminal as mode says (termtext.h),
 * then after. */
static void put(FILE *out, const char *before, const char *text, enum termtext_mode mode,
                const char *after)
{
    fputs(before, out);
    termtext_put(out, text, mode);
    fputs(after, out);
}

/* Multi-line text, ending with exactly one newline. */
static void put_lines(FILE *out, const char *before, const char *text)
{
    put(out, before, text, TERMTEXT_LINES, text[strlen(text) - 1] == '\n' ? "" : "\n");
}

/* Writes a debug job's diagnosis (root cause, explanation, fix, whether
 * the sandbox verified it) for label to out, when view holds one. */
static void output_debug(FILE *out, const char *label, const cJSON *view)
{
    const char *root = json_str(view, "root_cause"), *expl = json_str(view, "explanation");
    const char *fix = json_str(view, "fix");
    const cJSON *ver = json_item(view, "verification"), *step;

    if (root == NULL && fix == NULL)
        return;
    put(out, "\n", label, TERMTEXT_FLAT, ": root cause: ");
    put(out, "", root ? root : "unknown", TERMTEXT_FLAT, "\n");
    if (expl != NULL && expl[0] != '\0')
        put_lines(out, "", expl);
    if (cJSON_IsObject(ver))
        fprintf(out, "reproduced: %s, fix verified: %s\n",
                cJSON_IsTrue(json_item(ver, "reproduced")) ? "yes" : "no",
                cJSON_IsTrue(json_item(ver, "verified")) ? "yes" : "no");
    if (fix != NULL && fix[0] != '\0')
        put_lines(out, "fix:\n", fix);
    if (cJSON_GetArraySize(json_item(view, "verification_steps")) > 0) {
        fprintf(out, "verify:\n");
        cJSON_ArrayForEach(step, json_item(view, "verification_steps"))
            if (cJSON_IsString(step))
                put(out, "  - ", step->valuestring, TERMTEXT_FLAT, "\n");
    }
}

static void print_list(FILE *out, const cJSON *arch, const char *name, const char *title)
{
    const cJSON *v;

    if (cJSON_GetArraySize(json_item(arch, name)) == 0)
        return;
    fprintf(out, "\n%s:\n", title);
    cJSON_ArrayForEach(v, json_item(arch, name))
        if (cJSON_IsString(v))
            put(out, "  - ", v->valuestring, TERMTEXT_FLAT, "\n");
}

/* Writes an architecture job's design (summary, diagram, modules, lists). */
static void output_architecture(FILE *out, const cJSON *view)
{
    const cJSON *arch = json_item(view, "architecture"), *m;
    const char *summary = json_str(arch, "summary"), *diagram = json_str(arch, "diagram");

    if (!cJSON_IsObject(arch))
        return;
    if (summary != NULL)
        put(out, "", summary, TERMTEXT_LINES, "\n");
    if (diagram != NULL && diagram[0] != '\0')
        put_lines(out, "\n", diagram);
    if (cJSON_GetArraySize(json_item(arch, "modules")) > 0) {
        fprintf(out, "\nModules:\n");
        cJSON_ArrayForEach(m, json_item(arch, "modules")) {
            const char *name = json_str(m, "name"), *resp = json_str(m, "responsibility");

            put(out, "  - ", name ? name : "?", TERMTEXT_FLAT, ": ");
            put(out, "", resp ? resp : "", TERMTEXT_FLAT, "\n");
        }
    }
    print_list(out, arch, "data_flow", "Data flow");
    print_list(out, arch, "security", "Security");
    print_list(out, arch, "scaling", "Scaling");
    print_list(out, arch, "cost", "Cost");
}

static void print_text(FILE *out, const struct jobset *js, const struct cli_args *a)
{
    if (a->no_wait) {
        for (size_t i = 0; i < js->n; i++)
            if (js->jobs[i].id[0] != '\0') {
                put(out, "", js->jobs[i].id, TERMTEXT_FLAT, "\t");
                put(out, "", js->jobs[i].label, TERMTEXT_FLAT, "\n");
            }
        return;
    }
    findings_print(out, js);
    for (size_t i = 0; i < js->n; i++) {
        const struct cli_job *j = &js->jobs[i];
        const char *type = json_str(j->view, "type");

        if (j->state != JOB_DONE || type == NULL)
            continue;
        if (strcmp(type, "debug") == 0)
            output_debug(out, j->label, j->view);
        else if (strcmp(type, "architecture") == 0)
            output_architecture(out, j->view);
    }
}

/* One element of the json array for a job. */
static cJSON *job_json(const struct cli_job *j)
{
    cJSON *o;

    if (j->view != NULL)
        return cJSON_Duplicate(j->view, 1);
    if ((o = cJSON_CreateObject()) == NULL)
        return NULL;
    if (j->id[0] != '\0')
        cJSON_AddStringToObject(o, "job_id", j->id);
    cJSON_AddStringToObject(o, "file_path", j->label);
    cJSON_AddStringToObject(o, "status", job_state_name(j->state));
    if (j->state == JOB_ERROR)
        cJSON_AddStringToObject(o, "error", j->error);
    return o;
}

static int print_json(FILE *out, const struct jobset *js)
{
    cJSON *arr = cJSON_CreateArray();
    int rc;

    if (arr == NULL)
        return -1;
    for (size_t i = 0; i < js->n; i++) {
        cJSON *o = job_json(&js->jobs[i]);
        if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            cJSON_Delete(arr);
            return -1;
        }
    }
    rc = print_doc(out, arr);
    cJSON_Delete(arr);
    return rc;
}

static void report_errors(FILE *err, const struct jobset *js)
{
    for (size_t i = 0; i < js->n; i++) {
        const struct cli_job *j = &js->jobs[i];

        if (j->state == JOB_ERROR || j->state == JOB_FAILED) {
            put(err, "codeinsight: ", j->label, TERMTEXT_FLAT, ": ");
            put(err, "", j->error[0] ? j->error : "failed", TERMTEXT_FLAT, "\n");
        }
    }
}

int output_results(FILE *out, FILE *err, const struct jobset *js, const struct cli_args *a)
{
    cJSON *doc = NULL;
    int rc = 0, status;
    long counts[SEV_NEVER];
    char line[256];

    switch (a->format) {
    case FMT_TEXT:
        print_text(out, js, a);
        break;
    case FMT_JSON:
        rc = print_json(out, js);
        break;
    case FMT_SARIF:
    case FMT_RDJSON:
        doc = a->format == FMT_SARIF ? merge_sarif(js) : merge_rdjson(js);
        rc = print_doc(out, doc);
        cJSON_Delete(doc);
        break;
    }
    errno = 0;
    if (fflush(out) != 0 || ferror(out)) {
        fprintf(err, "codeinsight: cannot write the results: %s\n",
                errno != 0 ? strerror(errno) : "write error");
        clearerr(out);          /* said once, here */
        report_errors(err, js);
        return CLI_EXIT_SERVICE;
    }
    report_errors(err, js);
    if (rc != 0) {
        fprintf(err, "codeinsight: out of memory writing the results\n");
        return CLI_EXIT_SERVICE;
    }
    status = findings_exit_status(js, a->no_wait ? SEV_NEVER : a->fail_on);
    if (!a->quiet && !a->no_wait) {
        size_t not_reviewed = 0;

        /* A file the service did not review is not one without findings. */
        for (size_t i = 0; i < js->n; i++)
            not_reviewed += js->jobs[i].state == JOB_ERROR || js->jobs[i].state == JOB_FAILED;
        findings_count(js, counts);
        fprintf(err, "%s", findings_summary(line, sizeof line, counts, js->n - not_reviewed));
        if (not_reviewed > 0)
            fprintf(err, ", %zu not reviewed", not_reviewed);
        fputc('\n', err);
    }
    return status;
}
