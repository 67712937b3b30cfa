/* jobs.h - reading a job's public view, shared by GET /job and the result
 * cache answer of POST /review. */
#ifndef GW_JOBS_H
#define GW_JOBS_H

#include "common/json.h"

struct err;
struct request;

/* The job's view from its Redis hot copy, else from PostgreSQL (also when
 * Redis cannot be asked). Returns it (owns) or NULL: not found (e->code
 * ERR_OK) or PostgreSQL unavailable. No ownership check. */
cJSON *jobs_view(struct request *req, const char *id, struct err *e);

#endif
