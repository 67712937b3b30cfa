/* audit.c - GET /audit: the caller's own fix_audit rows (POST /apply-fix
 * attempts), newest first, cursor-paginated like GET /jobs. */
#include "gateway/handlers.h"

#include "common/db.h"
#include "common/err.h"
#include "gateway/gate.h"
#include "gateway/gateway.h"
#include "gateway/paging.h"
#include "gateway/request.h"
#include "gateway/respond.h"

#include <stdio.h>

#define AUDIT_LIMIT_DEFAULT 20
#define AUDIT_LIMIT_MAX 100

void handle_audit_list(struct request *req)
{
    const char *cursor;
    char lim[24];
    long limit;
    struct err e;
    struct db *db;
    cJSON *rows = NULL;

    if (paging_parse_or_respond(req, AUDIT_LIMIT_DEFAULT, AUDIT_LIMIT_MAX, &limit, &cursor) != 0)
        return;
    snprintf(lim, sizeof lim, "%ld", limit + 1);
    if ((db = gateway_db(req->gw, &e)) == NULL ||
        db_query_json(db, "SELECT ci_audit_page($1::uuid, $2::uuid, $3::integer)", 3,
                      (const char *[]){req->who.user_id, cursor, lim}, &rows, &e) != ERR_OK) {
        gate_respond_error(req, &e);
        return;
    }
    if (!cJSON_IsArray(rows)) {
        cJSON_Delete(rows);
        err_set(&e, ERR_PROTOCOL, "ci_audit_page returned no array");
        respond_error(req, &e);
        return;
    }
    respond_json(req, 200, paging_body("entries", rows, limit, "audit_id", NULL));
}
