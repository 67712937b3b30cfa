/* shared_hit.c - the caller's own copy of another user's finished job. */
#include "gateway/shared_hit.h"

#include "common/db.h"
#include "common/err.h"
#include "common/job.h"
#include "gateway/gateway.h"
#include "gateway/request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The members of a job's task_result the copy takes: those that follow
 * from what was submitted and how the workers answered (a heavy task's
 * result, a diff review's ranges, what the model reported and was not
 * kept). A member the workers add later is not copied until it is named
 * here. The result's own columns (findings, summary, notes, linters,
 * provider, model, ...) are named in ci_job_copy. */
static const char copied_members[] =
    "{root_cause,explanation,fix,verification_steps,confidence,verification,failure,frames,"
    "root_frame,architecture,stress,filter,filtered_out,changed_ranges,diff_ranges,"
    "findings_dropped}";

int shared_hit_copy(struct request *req, const char *src, const char *caller,
                    const char *repo_id, char out[CRYPTO_UUID_LEN], struct err *e)
{
    struct db *db = gateway_db(req->gw, e);
    char id[CRYPTO_UUID_LEN], *made = NULL;

    if (db == NULL)
        return e->code;
    job_id_copy(id);
    if (db_query_value(db, JOB_SQL_COPY, 6,
                       (const char *[]){src, id, caller, req->request_id, repo_id,
                                        copied_members},
                       &made, e) != ERR_OK)
        return e->code;
    if (made == NULL || strlen(made) != CRYPTO_UUID_LEN - 1) {
        free(made);
        return err_set(e, ERR_JOB_NOT_FOUND, "the cached job is gone");
    }
    memcpy(out, made, CRYPTO_UUID_LEN);
    free(made);
    return ERR_OK;
}
