/* finding_id.h - the stable id of a finding within its job.
 *
 * A job's findings are numbered by position once the list is final (the
 * worker, when it writes the result out): "f1", "f2", ... PostgreSQL derives
 * the same ids from the findings' position (ci_job_get: 'f' || idx + 1), so
 * the Redis hot copy and the record of truth agree. A debug job's own `fix`
 * (the root cause's fix, not a finding's) is addressed as "fix".
 *
 *     finding_ids_assign(findings);            // worker: {"id": "f1", ...}
 *     if (!finding_id_valid(s)) ...            // gateway: a client's finding_id
 */
#ifndef CI_FINDING_ID_H
#define CI_FINDING_ID_H

#include "common/json.h"

/* Longest id accepted, bytes excluding the NUL ("f" and up to 6 digits). */
#define FINDING_ID_MAX 7

/* The id of a debug job's own fix. */
#define FINDING_ID_JOB_FIX "fix"

/* Sets member "id" of each object in findings (borrowed; may be NULL) to
 * "f<position from 1>", replacing one already there. Items that are not
 * objects keep their position but get nothing. */
void finding_ids_assign(cJSON *findings);

/* 1 when s (NUL-terminated) is "f" followed by 1 to 6 digits without a
 * leading zero, or FINDING_ID_JOB_FIX; else 0. */
int finding_id_valid(const char *s);

#endif
