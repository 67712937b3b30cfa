/* job_result.c - the result and the PostgreSQL document of a finished job. */
#include "worker/job_result.h"

#include "common/crypto.h"
#include "common/finding_id.h"
#include "common/job.h"
#include "common/utf8.h"
#include "worker/answer.h"
#include "worker/findings_filter.h"
#include "worker/job_files.h"
#include "worker/lint.h"
#include "worker/model_step.h"
#include "worker/redact.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for a summary counted from the findings. */
#define SUMMARY_MAX 600

static const char *field(const struct job_parts *p, const char *name)
{
    return json_str(p->entry, name);
}

static int flag(const cJSON *entry, const char *name)
{
    const char *v = json_str(entry, name);
    return v != NULL && strcmp(v, "1") == 0;
}

const char *job_result_degraded_reason(const cJSON *entry, const struct model_out *model)
{
    if (model != NULL && model->degraded)
        return model->degraded_reason;
    if (flag(entry, "degraded"))
        return json_str(entry, "degraded_reason") ? json_str(entry, "degraded_reason")
                                                  : "budget_exhausted";
    return NULL;
}

/* Appends "<sep><text>" to buf when it fits whole (a list is never cut
 * inside an item). */
static void list_add(char *buf, size_t cap, const char *text)
{
    size_t used = strlen(buf);
    const char *sep = used ? ", " : "";

    if (used + strlen(sep) + strlen(text) < cap)
        snprintf(buf + used, cap - used, "%s%s", sep, text);
}

char *job_result_summary(const struct job_parts *p, const cJSON *findings)
{
    char counts[128] = "", tools[160] = "", item[48], *out;
    int total = cJSON_GetArraySize(findings), n[ANSWER_SEVERITIES];
    const cJSON *it;
    const cJSON *linters = p->lint != NULL ? p->lint->linters : NULL;

    if (p->cancelled)
        return strdup("Cancelled by its owner before it finished.");
    if (p->failed)
        return strdup("The review could not run.");
    if (p->model != NULL && p->model->summary != NULL && !p->model->degraded)
        return strdup(p->model->summary);
    answer_count_severities(findings, n);
    for (int s = 0; s < ANSWER_SEVERITIES; s++) {
        if (n[s] > 0) {
            snprintf(item, sizeof item, "%d %s", n[s], answer_severity_name(s));
            list_add(counts, sizeof counts, item);
        }
    }
    cJSON_ArrayForEach(it, linters) {
        const char *st = json_str(it, "status"), *tool = json_str(it, "tool");
        if (st != NULL && tool != NULL && strcmp(st, "ok") == 0)
            list_add(tools, sizeof tools, tool);
    }
    if (p->red_file != NULL && p->red_file->count > 0)
        list_add(tools, sizeof tools, "secret scan");
    out = malloc(SUMMARY_MAX);
    if (out == NULL)
        return NULL;
    if (tools[0] == '\0')
        snprintf(out, SUMMARY_MAX, "No static analysis ran for this file; see notes.");
    else if (total == 0)
        snprintf(out, SUMMARY_MAX, "No findings from %s.", tools);
    else
        snprintf(out, SUMMARY_MAX, "%d finding%s (%s) from %s.", total, total == 1 ? "" : "s",
                 counts, tools);
    return out;
}

/* r as text (owns; NULL when out of memory), always UTF-8: every cut of
 * text is made at a character boundary, but one that is not would make
 * PostgreSQL refuse the whole document, so a byte that is not UTF-8 becomes
 * '?' here, and out->not_utf8 says so. */
static char *printed(const cJSON *r, struct job_documents *out)
{
    char *s = cJSON_PrintUnformatted(r);

    if (s != NULL && !utf8_valid(s, strlen(s), NULL)) {
        out->not_utf8 = 1;
        utf8_sanitize(s);
    }
    return s;
}

/* The merged findings, a diff review's kept by its filter (the filter's
 * members go to diff_members), with their ids. */
static cJSON *findings_build(const struct job_parts *p, cJSON *diff_members,
                             struct job_documents *out)
{
    const cJSON *secrets = p->red_file != NULL ? p->red_file->findings : NULL;
    const cJSON *lint = p->lint != NULL ? p->lint->findings : NULL;
    cJSON *f;

    /* A failed job reports its error, not partial findings. */
    f = p->failed ? cJSON_CreateArray()
                  : answer_merge(secrets, lint, p->model != NULL ? p->model->findings : NULL);
    if (f == NULL)
        return NULL;
    if (field(p, "filter") != NULL && !p->minimal &&
        findings_filter_apply(field(p, "diff"), field(p, "filter"), f, diff_members) < 0)
        out->filter_skipped = 1;
    /* The list is final here: every reader sees the same ids. */
    finding_ids_assign(f);
    return f;
}

/* arr (borrowed, kept by reference) unless the minimal form or NULL: then
 * an empty array. */
static void add_array(cJSON *r, const char *name, const cJSON *arr, int minimal)
{
    if (arr != NULL && !minimal)
        cJSON_AddItemReferenceToObject(r, name, (cJSON *)arr);
    else
        cJSON_AddArrayToObject(r, name);
}

static void add_usage(cJSON *r, const struct job_parts *p)
{
    const struct llm_usage *m = p->usage;
    cJSON *u = cJSON_AddObjectToObject(r, "usage");

    cJSON_AddNumberToObject(u, "input_tokens", m ? (double)m->input_tokens : 0);
    cJSON_AddNumberToObject(u, "output_tokens", m ? (double)m->output_tokens : 0);
    cJSON_AddNumberToObject(u, "cache_read_tokens", m ? (double)m->cache_read_tokens : 0);
    cJSON_AddNumberToObject(u, "cache_write_tokens", m ? (double)m->cache_write_tokens : 0);
    cJSON_AddNumberToObject(u, "cost_usd", p->cost_usd > 0 ? p->cost_usd : 0);
}

/* The result every reader sees, findings and task members by reference;
 * task gets a heavy task's own members (root_cause, architecture, stress...)
 * and a diff review's, which PostgreSQL keeps as one document,
 * task_result. */
/* 1 when a job of type (a request_type) asks the model for findings. */
static int reports_findings(const char *type)
{
    return type != NULL && (strcmp(type, job_type_str(JOB_REVIEW)) == 0 ||
                            strcmp(type, job_type_str(JOB_DEBUG)) == 0);
}

static int reader_members(cJSON *r, const struct job_parts *p, const cJSON *findings,
                          const char *summary, const cJSON *diff_members, cJSON *task)
{
    const struct model_out *m = p->model;
    const struct lint_result *lint = p->lint;
    const char *reason = p->minimal ? NULL : job_result_degraded_reason(p->entry, m);
    const char *content = field(p, "file_content");
    const cJSON *it;

    cJSON_AddItemReferenceToObject(r, "findings", (cJSON *)findings);
    cJSON_AddStringToObject(r, "summary", summary);
    add_array(r, "notes", lint != NULL ? lint->notes : NULL, p->minimal);
    add_array(r, "linters", lint != NULL ? lint->linters : NULL, p->minimal);
    json_add_str_or_null(r, "provider", p->provider);
    json_add_str_or_null(r, "model", p->model_name);
    add_usage(r, p);
    cJSON_AddBoolToObject(r, "cached", m != NULL && m->cached);
    cJSON_AddBoolToObject(r, "degraded", reason != NULL);
    json_add_str_or_null(r, "degraded_reason", reason);
    add_array(r, "reviewed_ranges", m != NULL ? m->reviewed_ranges : NULL, p->minimal);
    add_array(r, "skipped_ranges", m != NULL ? m->skipped_ranges : NULL, p->minimal);
    if (m != NULL && m->result != NULL && !p->failed)
        cJSON_ArrayForEach(it, m->result)
            cJSON_AddItemReferenceToObject(task, it->string, (cJSON *)it);
    cJSON_ArrayForEach(it, diff_members)
        cJSON_AddItemReferenceToObject(task, it->string, (cJSON *)it);
    if (m != NULL && m->answered && !p->failed && reports_findings(field(p, "type")))
        /* What the model reported that was not kept (answer_validate). */
        cJSON_AddNumberToObject(task, "findings_dropped", m->dropped);
    cJSON_ArrayForEach(it, task)
        cJSON_AddItemReferenceToObject(r, it->string, (cJSON *)it);
    if (content != NULL) {
        /* What was reviewed, as received (before redaction). */
        char sum[65];
        crypto_sha256_hex(content, strlen(content), sum);
        cJSON_AddStringToObject(r, "file_sha256", sum);
    }
    return 0;
}

/* What PostgreSQL keeps beyond the reader's result: the files when there is
 * a fix to apply, and the job's metadata. */
static int record_members(cJSON *r, const struct job_parts *p, const cJSON *findings)
{
    cJSON *keep = NULL;

    if (!p->failed &&
        job_files_to_keep(field(p, "file_path"), field(p, "file_content"), field(p, "files"),
                          findings, p->model != NULL ? p->model->result : NULL, &keep) != 0)
        return -1;
    if (keep != NULL)
        cJSON_AddItemToObject(r, "job_files", keep);
    cJSON_AddStringToObject(r, "job_id", p->job_id);
    json_add_str_or_null(r, "type", field(p, "type"));
    cJSON_AddStringToObject(r, "status", p->cancelled ? "cancelled"
                                         : p->failed  ? "failed"
                                                      : "done");
    json_add_str_or_null(r, "created_at", field(p, "created_at"));
    json_add_str_or_null(r, "started_at", p->started_at);
    cJSON_AddStringToObject(r, "finished_at", p->finished_at);
    cJSON_AddNumberToObject(r, "attempts", (double)p->attempts);
    json_add_str_or_null(r, "file_path", p->minimal ? NULL : field(p, "file_path"));
    json_add_str_or_null(r, "language", p->language);
    json_add_str_or_null(r, "repo_id", p->minimal ? NULL : field(p, "repo_id"));
    json_add_str_or_null(r, "request_id", p->minimal ? NULL : field(p, "request_id"));
    cJSON_AddStringToObject(r, "pool", p->pool);
    cJSON_AddStringToObject(r, "worker", p->worker);
    json_add_str_or_null(r, "error", p->failed ? p->error : NULL);
    json_add_str_or_null(r, "user_id", field(p, "user_id"));
    cJSON_AddBoolToObject(r, "throttled", flag(p->entry, "throttled"));
    if (field(p, "user_id") != NULL && field(p, "month") != NULL) {
        /* The ledger row: every token kind the model used. */
        cJSON_AddStringToObject(r, "charge_month", field(p, "month"));
        cJSON_AddNumberToObject(r, "charge_tokens", (double)p->charge_tokens);
    }
    return 0;
}

int job_result_build(const struct job_parts *p, struct job_documents *out)
{
    cJSON *r = cJSON_CreateObject(), *task = cJSON_CreateObject();
    cJSON *diff_members = cJSON_CreateObject();   /* filter, filtered_out, ranges */
    char *summary = NULL;
    int rc = -1;

    if (r == NULL || task == NULL || diff_members == NULL)
        goto out;
    out->findings = findings_build(p, diff_members, out);
    if (out->findings == NULL || (summary = job_result_summary(p, out->findings)) == NULL)
        goto out;
    reader_members(r, p, out->findings, summary, diff_members, task);
    out->result = printed(r, out);
    if (task->child != NULL) {
        cJSON_AddItemToObject(r, "task_result", task);
        task = NULL;
    }
    if (record_members(r, p, out->findings) < 0)
        goto out;
    out->document = printed(r, out);
    rc = out->result != NULL && out->document != NULL ? 0 : -1;
out:
    cJSON_Delete(r);
    cJSON_Delete(task);
    cJSON_Delete(diff_members);
    free(summary);
    return rc;
}

void job_documents_cleanup(struct job_documents *d)
{
    cJSON_Delete(d->findings);
    free(d->result);
    free(d->document);
    memset(d, 0, sizeof *d);
}
