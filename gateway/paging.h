/* paging.h - cursor pagination of the caller's lists (GET /jobs, GET
 * /audit): newest first, `limit` items a page, `next_cursor` the id of the
 * last item when more follow. A cursor is an id: the next page holds the
 * items older than it, so a list that stopped reading before it found
 * `limit` (a filter skipped too many) ends its page at the last id it read
 * and continues from there.
 *
 *     if (paging_parse_or_respond(req, 20, 100, &limit, &cursor) != 0) return;
 *     items = <query limit + 1 items older than cursor>;
 *     respond_json(req, 200, paging_body("jobs", items, limit, "job_id", NULL));
 */
#ifndef GW_PAGING_H
#define GW_PAGING_H

#include "common/json.h"

struct request;

/* Reads the query arguments limit (1..max, def when absent) and cursor (a
 * UUID: a next_cursor value, in either case; *cursor NULL when absent, else
 * lower-cased and borrowed for the request). Returns 0, or answers 400
 * invalid_field_value naming the argument and returns -1. */
int paging_parse_or_respond(struct request *req, long def, long max, long *limit,
                            const char **cursor);

/* {name: the first limit items, next_cursor: member id of the last of them
 * when items held more than limit, else resume (NULL: null)}. Takes items
 * (an array, newest first, at most limit + 1 long). resume, when not NULL,
 * is the last id the list was read down to (no item is older): more may
 * follow past it. Returns the body (owns) or NULL when out of memory. */
cJSON *paging_body(const char *name, cJSON *items, long limit, const char *id,
                   const char *resume);

#endif
