/* jobset.h - the jobs one CLI invocation submits or follows.
 *
 * A cli_job is one request to the service and what came back: its state as
 * the user sees it, the job view and, for SARIF/rdjson, the formatted
 * document. The engine (engine.h) moves jobs through the states; the
 * progress renderer and the output formats only read them.
 */
#ifndef CI_CLI_JOBSET_H
#define CI_CLI_JOBSET_H

#include <stddef.h>
#include <stdint.h>

#include "common/json.h"

/* Bytes of a job id kept, including the NUL (a UUID is 36). */
#define CLI_JOB_ID_MAX 64
/* Bytes of a job's error message, including the NUL. */
#define CLI_JOB_ERROR_MAX 320

enum cli_job_state {
    JOB_PENDING = 0,        /* not submitted yet */
    JOB_QUEUED,             /* accepted, waiting for a worker */
    JOB_RUNNING,
    JOB_DONE,               /* finished: view (and doc) hold the result */
    JOB_FAILED,             /* the job failed on the server (view holds why) */
    JOB_ERROR,              /* the request failed: refused, unreachable, timed out */
};

/* What became of cancelling a job not finished when the wait was
 * interrupted (engine_opts.cancel_on_interrupt). */
enum cli_cancel {
    CANCEL_NONE = 0,        /* not asked (or no answer in time) */
    CANCEL_CANCELLED,       /* it was queued: cancelled (200) */
    CANCEL_CANCELLING,      /* it runs: its worker stops it (202) */
    CANCEL_FINISHED,        /* it finished first (409 job_finished) */
    CANCEL_REFUSED,         /* another answer: cancel_error says it */
};

struct cli_job {
    char *label;                /* owns: the path shown to the user (the local path) */
    char *body;                 /* owns: the POST /review JSON; NULL when following an id */
    char id[CLI_JOB_ID_MAX];    /* "" until accepted */
    enum cli_job_state state;
    int submitted;              /* 1 once accepted (202 or cache hit) */
    int cached;                 /* 1: answered from the result cache */
    int fresh;                  /* 1: submitted (again) asking for a fresh review */
    cJSON *view;                /* owns: the latest job view, NULL until seen */
    char *etag;                 /* owns: the ETag of the 200 that gave view, NULL when it
                                 * had none: the next poll's If-None-Match */
    cJSON *doc;                 /* owns: the ?format= document (SARIF log, rdjson) */
    char error[CLI_JOB_ERROR_MAX];  /* JOB_ERROR / JOB_FAILED: why */
    /* Engine bookkeeping (monotonic ms). */
    int64_t started_ms;         /* when first sent */
    int64_t finished_ms;        /* when it reached a final state; 0 before */
    int64_t next_ms;            /* next request not before this */
    int64_t poll_ms;            /* current poll interval */
    int inflight;               /* a request is in flight */
    int retries;                /* 429/503 retries so far (since the last answer taken) */
    char refusal[CLI_JOB_ERROR_MAX];    /* the answer last retried (retries > 0): what
                                         * the --timeout names */
    enum cli_cancel cancel;     /* after an interrupt, with --cancel-on-interrupt */
    char cancel_error[CLI_JOB_ERROR_MAX];   /* CANCEL_REFUSED: why */
};

struct jobset {
    struct cli_job *jobs;       /* owns: n jobs */
    size_t n;
};

/* Adds a job labelled label (copied) with body (takes; may be NULL).
 * Returns the job (borrowed from js) or NULL when out of memory (body freed). */
struct cli_job *jobset_add(struct jobset *js, const char *label, char *body);

/* Frees every job and the array; js is empty afterwards. */
void jobset_cleanup(struct jobset *js);

/* 1 when a state is final (done, failed, error). */
int job_state_final(enum cli_job_state s);

/* "queued", "running", "done", "failed", "error", "pending". */
const char *job_state_name(enum cli_job_state s);

#endif
