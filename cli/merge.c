/* merge.c - SARIF and rdjson documents of many jobs merged into one. */
#include "cli/merge.h"

#include "common/json.h"
#include "common/utf8.h"

#include <stdlib.h>
#include <string.h>

/* o[name] as an array, created (empty) when absent or not an array; NULL
 * when out of memory. */
static cJSON *array_member(cJSON *o, const char *name)
{
    cJSON *a = json_item(o, name);

    if (cJSON_IsArray(a))
        return a;
    cJSON_DeleteItemFromObjectCaseSensitive(o, name);
    return cJSON_AddArrayToObject(o, name);
}

static cJSON *driver_of(cJSON *run)
{
    return json_item(json_item(run, "tool"), "driver");
}

/* Index of the rule with this id in rules, or -1. */
static int rule_find(const cJSON *rules, const char *id)
{
    int i = 0;
    const cJSON *r;

    cJSON_ArrayForEach(r, rules) {
        const char *rid = json_str(r, "id");
        if (rid != NULL && strcmp(rid, id) == 0)
            return i;
        i++;
    }
    return -1;
}

/* A result's ruleIndex v as an index into n rules, or -1 when it is not one
 * (negative, fractional, n or more): checked before any conversion, as a
 * double out of int's range does not convert. */
static int rule_index(double v, int n)
{
    int i;

    if (!(v >= 0 && v < n))
        return -1;
    i = (int)v;
    return (double)i == v ? i : -1;
}

/* Shifts artifactLocation.index of every location in loc_array by offset. */
static void shift_locations(cJSON *loc_array, int offset)
{
    cJSON *loc;

    cJSON_ArrayForEach(loc, loc_array) {
        cJSON *idx = json_item(json_item(json_item(loc, "physicalLocation"),
                                         "artifactLocation"), "index");
        if (cJSON_IsNumber(idx))
            cJSON_SetNumberValue(idx, idx->valuedouble + offset);
    }
}

/* Appends run's rules, artifacts and results to the merged run m. 0 or -1. */
static int merge_run(cJSON *m, const cJSON *run)
{
    cJSON *mdriver = driver_of(m), *mrules, *marts, *mres, *minv = NULL, *r;
    const cJSON *rules = json_item(json_item(json_item(run, "tool"), "driver"), "rules");
    int nrules = cJSON_GetArraySize(rules), *map = NULL, i = 0, offset, rc = -1;

    if (mdriver == NULL || (mrules = array_member(mdriver, "rules")) == NULL ||
        (marts = array_member(m, "artifacts")) == NULL ||
        (mres = array_member(m, "results")) == NULL)
        return -1;
    if (nrules > 0 && (map = calloc((size_t)nrules, sizeof *map)) == NULL)
        return -1;
    cJSON_ArrayForEach(r, rules) {
        const char *id = json_str(r, "id");
        int at = id != NULL ? rule_find(mrules, id) : -1;

        if (at < 0) {
            cJSON *copy = cJSON_Duplicate(r, 1);
            if (copy == NULL || !cJSON_AddItemToArray(mrules, copy)) {
                cJSON_Delete(copy);
                goto out;
            }
            at = cJSON_GetArraySize(mrules) - 1;
        }
        map[i++] = at;
    }
    /* Each job ran once: its invocation (success, notifications) is kept. */
    cJSON_ArrayForEach(r, json_item(run, "invocations")) {
        cJSON *copy;

        if (minv == NULL && (minv = array_member(m, "invocations")) == NULL)
            goto out;
        copy = cJSON_Duplicate(r, 1);
        if (copy == NULL || !cJSON_AddItemToArray(minv, copy)) {
            cJSON_Delete(copy);
            goto out;
        }
    }
    offset = cJSON_GetArraySize(marts);
    cJSON_ArrayForEach(r, json_item(run, "artifacts")) {
        cJSON *copy = cJSON_Duplicate(r, 1);
        if (copy == NULL || !cJSON_AddItemToArray(marts, copy)) {
            cJSON_Delete(copy);
            goto out;
        }
    }
    cJSON_ArrayForEach(r, json_item(run, "results")) {
        cJSON *copy = cJSON_Duplicate(r, 1), *ri;

        if (copy == NULL || !cJSON_AddItemToArray(mres, copy)) {
            cJSON_Delete(copy);
            goto out;
        }
        ri = json_item(copy, "ruleIndex");
        if (cJSON_IsNumber(ri)) {
            int old = rule_index(ri->valuedouble, nrules);

            if (old >= 0)
                cJSON_SetNumberValue(ri, map[old]);
            else
                cJSON_DeleteItemFromObjectCaseSensitive(copy, "ruleIndex");
        }
        shift_locations(json_item(copy, "locations"), offset);
        shift_locations(json_item(copy, "relatedLocations"), offset);
    }
    rc = 0;
out:
    free(map);
    return rc;
}

/* Appends to the merged run m an invocation for job j, which failed or
 * errored without a log of its own: executionSuccessful false, and why as
 * an error notification. Without it the merged log of a run whose jobs all
 * failed is an empty, clean-looking one. 0 or -1. */
static int add_failure(cJSON *m, const struct cli_job *j)
{
    cJSON *minv = array_member(m, "invocations"), *inv, *list, *note, *msg;
    char text[CLI_JOB_ERROR_MAX + 1024];

    if (minv == NULL || (inv = cJSON_CreateObject()) == NULL)
        return -1;
    if (!cJSON_AddItemToArray(minv, inv)) {
        cJSON_Delete(inv);
        return -1;
    }
    if (cJSON_AddBoolToObject(inv, "executionSuccessful", 0) == NULL ||
        (list = cJSON_AddArrayToObject(inv, "toolExecutionNotifications")) == NULL ||
        (note = cJSON_CreateObject()) == NULL)
        return -1;
    if (!cJSON_AddItemToArray(list, note)) {
        cJSON_Delete(note);
        return -1;
    }
    utf8_fmt(text, sizeof text, "%s: %s", j->label, j->error[0] ? j->error : "failed");
    if (cJSON_AddStringToObject(note, "level", "error") == NULL ||
        (msg = cJSON_AddObjectToObject(note, "message")) == NULL ||
        cJSON_AddStringToObject(msg, "text", text) == NULL)
        return -1;
    return 0;
}

/* The merged run's skeleton: the first run without its rules, artifacts and
 * results (they are merged in), or a minimal one. */
static cJSON *run_skeleton(const cJSON *first)
{
    cJSON *run = first != NULL ? cJSON_Duplicate(first, 1) : NULL;

    if (run == NULL) {
        run = cJSON_CreateObject();
        if (run == NULL)
            return NULL;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(run, "artifacts");
    cJSON_DeleteItemFromObjectCaseSensitive(run, "results");
    cJSON_DeleteItemFromObjectCaseSensitive(run, "invocations");
    if (driver_of(run) == NULL) {
        cJSON *tool = cJSON_CreateObject(), *driver = cJSON_CreateObject();

        cJSON_DeleteItemFromObjectCaseSensitive(run, "tool");
        if (tool == NULL || driver == NULL || !cJSON_AddItemToObject(tool, "driver", driver)) {
            cJSON_Delete(tool);
            cJSON_Delete(driver);
            cJSON_Delete(run);
            return NULL;
        }
        cJSON_AddStringToObject(driver, "name", "codeinsight");
        cJSON_AddItemToObject(run, "tool", tool);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(driver_of(run), "rules");
    return run;
}

static const cJSON *first_doc(const struct jobset *js)
{
    for (size_t i = 0; i < js->n; i++)
        if (js->jobs[i].doc != NULL)
            return js->jobs[i].doc;
    return NULL;
}

cJSON *merge_sarif(const struct jobset *js)
{
    const cJSON *first = first_doc(js), *run;
    const char *schema = json_str(first, "$schema");
    cJSON *log = cJSON_CreateObject(), *runs, *m;

    if (log == NULL)
        return NULL;
    cJSON_AddStringToObject(log, "$schema", schema ? schema : MERGE_SARIF_SCHEMA);
    cJSON_AddStringToObject(log, "version", "2.1.0");
    runs = cJSON_AddArrayToObject(log, "runs");
    m = run_skeleton(cJSON_GetArrayItem(json_item(first, "runs"), 0));
    if (runs == NULL || m == NULL || !cJSON_AddItemToArray(runs, m) ||
        array_member(driver_of(m), "rules") == NULL || array_member(m, "results") == NULL) {
        cJSON_Delete(log);
        return NULL;
    }
    for (size_t i = 0; i < js->n; i++) {
        const struct cli_job *j = &js->jobs[i];

        if (j->doc == NULL && (j->state == JOB_FAILED || j->state == JOB_ERROR) &&
            add_failure(m, j) != 0) {
            cJSON_Delete(log);
            return NULL;
        }
        cJSON_ArrayForEach(run, json_item(j->doc, "runs")) {
            if (merge_run(m, run) != 0) {
                cJSON_Delete(log);
                return NULL;
            }
        }
    }
    if (cJSON_GetArraySize(json_item(m, "artifacts")) == 0)
        cJSON_DeleteItemFromObjectCaseSensitive(m, "artifacts");
    return log;
}

cJSON *merge_rdjson(const struct jobset *js)
{
    const cJSON *first = first_doc(js), *src = json_item(first, "source"), *d;
    cJSON *doc = cJSON_CreateObject(), *diags, *s;

    if (doc == NULL)
        return NULL;
    s = src != NULL ? cJSON_Duplicate(src, 1) : cJSON_CreateObject();
    if (s == NULL || !cJSON_AddItemToObject(doc, "source", s)) {
        cJSON_Delete(s);
        cJSON_Delete(doc);
        return NULL;
    }
    if (src == NULL)
        cJSON_AddStringToObject(s, "name", "codeinsight");
    if ((diags = cJSON_AddArrayToObject(doc, "diagnostics")) == NULL) {
        cJSON_Delete(doc);
        return NULL;
    }
    for (size_t i = 0; i < js->n; i++) {
        cJSON_ArrayForEach(d, json_item(js->jobs[i].doc, "diagnostics")) {
            cJSON *copy = cJSON_Duplicate(d, 1);
            if (copy == NULL || !cJSON_AddItemToArray(diags, copy)) {
                cJSON_Delete(copy);
                cJSON_Delete(doc);
                return NULL;
            }
        }
    }
    return doc;
}
