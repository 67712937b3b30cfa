/* stress.h - the stress-test engine: a bounded HTTP load on the event loop.
 *
 * Sends the spec's requests, chosen by weight (smooth weighted round-robin,
 * so deterministic), at spec->rate per second from the start, never more
 * than spec->concurrency at once, until spec->duration_s has passed or
 * spec->max_requests were sent; then waits for those in flight (each bounded
 * by cfg->stress_timeout_ms) and reports (worker/stress_report.h).
 *
 * Nothing leaves unless the policy allows it: every URL is checked before
 * the first request, every connection's address when it is made, and every
 * 3xx's Location when it arrives. Redirects are never followed.
 *
 *     struct stress *s = stress_start(loop, cfg, spec, policy, on_done, ctx, &e);
 *     ...                     // on_done(ctx, rc, e, report) runs once, later
 */
#ifndef WK_STRESS_H
#define WK_STRESS_H

#include "common/json.h"

struct config;
struct err;
struct loop;
struct stress;
struct stress_spec;
struct target_policy;

/* The end of a run. rc is ERR_OK with report (takes: cJSON_Delete); or, with
 * report NULL and e saying why:
 *   ERR_FEATURE_DISABLED    the policy is empty; nothing was sent
 *   ERR_TARGET_NOT_ALLOWED  a URL is not allowed (nothing was sent), a
 *                           connection's address was refused, or a 3xx
 *                           pointed elsewhere ("redirect to http://10.0.0.1/
 *                           refused: ..."); the run stopped at once
 *   ERR_INTERNAL            out of memory
 * e is borrowed for the call. The run is over and freed by then. */
typedef void stress_done_cb(void *arg, int rc, const struct err *e, cJSON *report);

/* Starts a run on loop. cfg, spec (as stress_spec_parse made it with this
 * cfg) and policy are borrowed until cb has run or stress_cancel. Its HTTP
 * client is its own, so that every connection it uses was checked.
 * Returns the run (borrowed: valid until cb runs), whose cb runs exactly
 * once from the loop, never from inside this call; or NULL with e set
 * (ERR_INTERNAL: out of memory, or a spec outside cfg's caps) and cb never
 * runs. */
struct stress *stress_start(struct loop *loop, const struct config *cfg,
                            const struct stress_spec *spec, const struct target_policy *policy,
                            stress_done_cb *cb, void *arg, struct err *e);

/* Stops a run before its cb ran: aborts the requests in flight and frees
 * it; cb never runs. Accepts NULL. Not from inside cb. */
void stress_cancel(struct stress *s);

#endif
