/* jobs.h - reading a job's public view, shared by GET /job, the result
 * cache answer of POST /review and POST /apply-fix. */
#ifndef GW_JOBS_H
#define GW_JOBS_H

#include "common/json.h"

struct err;
struct request;

/* The job's view from its Redis hot copy, else from PostgreSQL (also when
 * Redis cannot be asked). Returns it (owns) or NULL: not found (e->code
 * ERR_OK) or PostgreSQL unavailable. No ownership check. */
cJSON *jobs_view(struct request *req, const char *id, struct err *e);

/* Same, for the caller (req->who) only: someone else's job is NULL with
 * e->code ERR_OK, exactly like no job. *hot (when not NULL) is 1 when the
 * view came from the Redis hot copy, 0 when from PostgreSQL. */
cJSON *jobs_view_owned(struct request *req, const char *id, int *hot, struct err *e);

/* For the routes of one job (GET, DELETE /job/:id, its events): 1 when id
 * (the path's, lower-cased) is a job id, else answers 404 job_not_found
 * and returns 0. */
int jobs_id_or_respond(struct request *req, const char *id);

/* jobs_view_owned, or NULL having answered: 404 job_not_found when there
 * is no such job of the caller's, the error when it could not be read. On
 * a request thread, a route marked ROUTE_DB_LATER (a poll, an event
 * stream) whose job Redis does not hold is not read from PostgreSQL
 * there: the handler runs again on a waiting thread
 * (server_rerun_waiting), which answers; NULL is returned. */
cJSON *jobs_view_or_respond(struct request *req, const char *id, int *hot);

#endif
