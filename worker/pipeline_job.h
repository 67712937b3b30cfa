/* pipeline_job.h - one job in the worker's pipeline (worker/pipeline.h):
 * its state, and what every step shares. Internal to worker/pipeline*.c:
 * pipeline.c takes an entry over and runs the steps up to the model's
 * answer (start, lint, model, defer), pipeline_finish.c stores the result
 * and publishes it (persist, publish + acknowledge), pipeline_job.c holds
 * the helpers below. Each step ends by setting j->stage and calling
 * pj_step, or by a retry (pj_retry_later) or a release (pj_release).
 */
#ifndef WK_PIPELINE_JOB_H
#define WK_PIPELINE_JOB_H

#include "common/budget.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/job.h"
#include "common/json.h"
#include "common/log.h"
#include "common/loop.h"
#include "worker/cancel.h"
#include "worker/job_result.h"
#include "worker/lint.h"
#include "worker/model_step.h"
#include "worker/redact.h"

#include <stdint.h>

struct worker;

/* What do_persist stores, in the order PostgreSQL's refusals walk them. */
enum persist_form {
    PERSIST_FULL,       /* the result as built */
    PERSIST_FAILED,     /* the job failed, "the result could not be stored":
                           no findings, task members or files */
    PERSIST_MINIMAL,    /* and no text a client, a linter or a run wrote:
                           no notes, linters, degraded reason, diff members,
                           file_path, repo_id or request_id; a rejected
                           job's first */
    PERSIST_NONE,       /* nothing: the hot copy (the minimal form) is
                           published and the entry acknowledged */
};

enum stage { ST_START, ST_LINT, ST_MODEL, ST_DEFER, ST_PERSIST, ST_PUBLISH };

struct pipeline_job {
    struct worker *w;
    struct pipeline_job *prev, *next;
    enum stage stage;
    int busy;                       /* a Redis/PostgreSQL callback is outstanding */
    char entry_id[64];
    char job_id[CRYPTO_UUID_LEN];   /* "" when the entry had none */
    char key[JOB_KEY_MAX];
    cJSON *entry;                   /* object: field -> string, from the stream entry */
    const char *language;           /* canonical, static, or NULL */
    long attempts;
    int64_t began_ms;               /* monotonic */
    char started_at[CLOCK_RFC3339_LEN];
    char finished_at[CLOCK_RFC3339_LEN];
    struct lint_result lint;        /* owned once linting finished */
    struct lint_task *lint_task;    /* while linting */
    int failed;
    char error[256];
    int persist_rejects;            /* refusals of the current form */
    enum persist_form persist_form;
    struct job_documents docs;      /* the result and PostgreSQL document, once built */
    struct loop_timer *retry;
    unsigned retry_ms;
    struct budget_charge charge;    /* reconciled once, in job_finish.lua */
    char budget_key[BUDGET_KEY_MAX];
    int redacted;                   /* the redacted fields below are ready */
    struct redact_result red_file, red_diff, red_log;
    struct redact_result red_path, red_lang;    /* file_path, language: what the model reads */
    struct cancel task;             /* the model step or heavy task while it runs */
    struct model_spent task_spent;  /* what its task's model calls have spent so far
                                       (model_question.spent): charged, and reported as
                                       its usage and cost, if it is cancelled */
    struct model_out model;         /* owned once the model step finished */
    int have_model;
    int dead;                       /* given up: dead-lettered when published */
    int cancelled;                  /* its owner cancelled it: ends as such */
    int rejected;                   /* its entry was unusable: it never started */
    int released;                   /* its delivery given back at shutdown: it stops here */
};

/* Runs the job's current stage (pipeline.c). Nothing when the job was
 * released; a cancelled job skips to ST_PERSIST. */
void pj_step(struct pipeline_job *j);

/* The two last stages (pipeline_finish.c): store the result in PostgreSQL,
 * falling back to smaller forms when it is refused (pipeline.h); publish
 * the hot copy, charge and acknowledge in one script (job_finish.lua). */
void pj_persist(struct pipeline_job *j);
void pj_publish(struct pipeline_job *j);

/* The status the job ends with: "cancelled", "failed" or "done". */
const char *pj_status(const struct pipeline_job *j);

/* Field name of the job's entry (borrowed), or NULL; pj_flag: 1 when it
 * is "1". */
const char *pj_field(const struct pipeline_job *j, const char *name);
int pj_flag(const struct pipeline_job *j, const char *name);

/* Starts a log line naming the job: job_id, request_id, entry_id, pool. */
void pj_log_begin(struct log_line *l, const struct pipeline_job *j, enum log_level lvl,
                  const char *event);

/* One log line about the job, with e's fields when e is not NULL;
 * "job_done" adds its status, findings, attempts and duration. */
void pj_log(const struct pipeline_job *j, enum log_level lvl, const char *event,
            const struct err *e);

/* Counts a job leaving the worker (codeinsight_jobs_total, by outcome)
 * and, unless it was only parked ("deferred"), its duration. */
void pj_count(const struct pipeline_job *j, const char *outcome);

/* Frees the job and unlinks it from its worker; pj_release also tells the
 * worker (worker_job_released, ok as given). */
void pj_free(struct pipeline_job *j);
void pj_release(struct pipeline_job *j, int ok);

/* Runs the current stage again later: capped exponential backoff with
 * jitter (CODEINSIGHT_RETRY_MAX_MS); a stopping worker past its deadline
 * gives the job up instead (job_abandoned). */
void pj_retry_later(struct pipeline_job *j, const struct err *e);

#endif
