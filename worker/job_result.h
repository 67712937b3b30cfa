/* job_result.h - the documents a finished job leaves behind: the result
 * every reader sees (the hot copy's "result" field, GET /job/:id), and the
 * same plus the job's metadata, the row PostgreSQL keeps (common/job.h's
 * JOB_SQL_SAVE). Building them does no I/O.
 *
 *     struct job_parts p = {.entry = fields, .job_id = id, ...};
 *     struct job_documents d;
 *     if (job_result_build(&p, &d) == 0)
 *         ... d.result, d.document ...
 *     job_documents_cleanup(&d);
 */
#ifndef WK_JOB_RESULT_H
#define WK_JOB_RESULT_H

#include <stdint.h>

#include "common/json.h"

struct lint_result;
struct llm_usage;
struct model_out;
struct redact_result;

/* What a finished (or failed) job is made of; everything borrowed. */
struct job_parts {
    const cJSON *entry;                 /* the stream entry: field -> string */
    const char *job_id;
    const char *language;               /* canonical, or NULL */
    const char *pool;
    const char *worker;                 /* the consumer name */
    const char *started_at;             /* RFC 3339; NULL: it never started */
    const char *finished_at;
    long attempts;
    int failed;                         /* the job reports error, no findings */
    const char *error;                  /* when failed */
    int cancelled;                      /* with failed: its owner cancelled it
                                           (status "cancelled") */
    int minimal;                        /* without any text a client, a linter or a
                                           run wrote: no notes, linters, degraded
                                           reason, ranges, diff members, file_path,
                                           repo_id or request_id */
    const struct lint_result *lint;     /* its NULL arrays count as empty */
    const struct redact_result *red_file;   /* the secret findings; may be NULL */
    const struct model_out *model;      /* NULL: no model step finished */
    const struct llm_usage *usage;      /* the job's model calls' usage (the model step's,
                                           or what a cancelled one's calls spent); NULL:
                                           none */
    const char *provider;               /* NULL: none */
    const char *model_name;
    double cost_usd;                    /* that usage's cost, 0 when unknown */
    int64_t charge_tokens;              /* what the ledger row charges */
};

/* The documents built; each member owned. */
struct job_documents {
    cJSON *findings;                    /* merged, filtered, ids assigned */
    char *result;                       /* GET /job/:id's result member */
    char *document;                     /* the PostgreSQL document */
    int filter_skipped;                 /* the diff filter could not be applied
                                           (every finding kept) */
    int not_utf8;                       /* a byte that is not UTF-8 became '?' */
};

/* Builds both documents into *out (any earlier content is not freed: start
 * from zero or job_documents_cleanup). The findings are the secret scan's,
 * the linters' and the model's merged (answer_merge), those of a diff review
 * kept by its filter, with their ids; none when failed. The summary is the
 * model's when it answered undegraded, else counted from the findings.
 * Returns 0, or -1 when out of memory (out holds what was built; clean it
 * up). */
int job_result_build(const struct job_parts *p, struct job_documents *out);

/* Frees the members and zeroes d; accepts a zeroed d. */
void job_documents_cleanup(struct job_documents *d);

/* Why the job's result is degraded: the model step's reason (model may be
 * NULL), else the admission's ("budget_exhausted" when it gave none), else
 * NULL. */
const char *job_result_degraded_reason(const cJSON *entry, const struct model_out *model);

/* The summary of a job that was not summarised by the model: "3 findings
 * (1 major, 2 minor) from flake8, pylint, secret scan." (owns; NULL when
 * out of memory). Exposed for tests. */
char *job_result_summary(const struct job_parts *p, const cJSON *findings);

#endif
