/* engine.h - submits jobs and follows them to the end, concurrently.
 *
 * One event loop, at most ENGINE_INFLIGHT_MAX requests in flight. A job with
 * a body is POSTed to /review (202: followed; 200: a result-cache hit, done
 * at once; a job_id that is not a UUID: JOB_ERROR); a job with only an id is
 * followed from its first GET /job/:id (404 job_not_found: JOB_ERROR, "job
 * not found").
 * Polling backs off from ENGINE_POLL_FIRST_MS to ENGINE_POLL_MAX_MS. A poll
 * is conditional when the job's last view came with an ETag (If-None-Match):
 * a 304 says the view is unchanged, and the one kept stands. A 429
 * or 503 waits for Retry-After (capped) and retries, at most
 * ENGINE_RETRY_MAX times per job; a poll that cannot connect is retried the
 * same way (backing off from 1 s to 8 s) when the job was seen alive in
 * this run, and a submission or first poll that cannot connect fails at
 * once. When a format is asked for, a finished (done or failed) job's
 * document is fetched with GET /job/:id?format=<format>. A submission asks
 * for a fresh review (Cache-Control: no-cache) with no_cache, and when a
 * result-cache answer's document is 404 (the job is another user's, from a
 * result cache shared by an organisation): the file goes again, once.
 *
 * The timeout bounds the whole run: no request is given more than the time
 * left before it (nor more than API_TIMEOUT_MS), and a request it cuts
 * short leaves its job JOB_ERROR, "still <state> after the --timeout" (or,
 * when no connection was made, "cannot reach URL: ...").
 *
 *     struct engine_opts o = {.wait = 1, .timeout_ms = 900000, .progress = &p};
 *     engine_run(&api, &js, &o, msg, sizeof msg);   // every job final, or timed out
 */
#ifndef CI_CLI_ENGINE_H
#define CI_CLI_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "cli/jobset.h"

struct api;
struct progress;

/* Requests in flight at once. */
#define ENGINE_INFLIGHT_MAX 8
/* First poll after acceptance, and the longest interval, ms. */
#define ENGINE_POLL_FIRST_MS 200
#define ENGINE_POLL_MAX_MS 2000
/* Retries of one job after 429/503/connection loss while polling. */
#define ENGINE_RETRY_MAX 8
/* How often the engine wakes to send due requests and redraw, ms. */
#define ENGINE_TICK_MS 100

/* After an interrupt, how long cancelling the jobs not finished may take
 * in all, ms (engine_opts.cancel_on_interrupt). */
#define ENGINE_CANCEL_WAIT_MS 10000

struct engine_opts {
    int wait;                   /* 0: stop once submitted (review) or after one view (job) */
    const char *format;         /* "sarif", "rdjson", or NULL: no document */
    int64_t timeout_ms;         /* the whole run, requests in flight included */
    struct progress *progress;  /* borrowed; NULL: none */
    int cancel_on_interrupt;    /* an interrupt cancels the jobs not finished */
    int no_cache;               /* every submission asks for a fresh review */
};

/* Runs every job of js until it is final (or, without wait, submitted /
 * seen once). Jobs still open at the timeout become JOB_ERROR. SIGINT or
 * SIGTERM while it runs (its handlers are installed for the run only; a
 * second one kills) stops it at the next tick: nothing more is submitted or
 * polled, and jobs not final keep their state and id. With
 * cancel_on_interrupt, the requests in flight are let finish (a submission
 * in flight may yet name its job) and every job with an id that is not
 * final is cancelled (DELETE /job/:id; a 429 or 503 retried), all within
 * ENGINE_CANCEL_WAIT_MS; each job's cancel says what became of it.
 * Returns 0, the signal that ended the run (SIGINT or SIGTERM), or -1 with
 * msg when the run could not start (out of memory). */
int engine_run(struct api *api, struct jobset *js, const struct engine_opts *o, char *msg,
               size_t cap);

#endif
