/* usage.c - GET /usage: this month's tokens, cost, jobs and cache hits by
 * task type, from the PostgreSQL ledger. */
#include "gateway/handlers.h"

#include "common/budget.h"
#include "common/clock.h"
#include "common/db.h"
#include "common/err.h"
#include "gateway/gate.h"
#include "gateway/gateway.h"
#include "gateway/request.h"
#include "gateway/respond.h"

#include <stdlib.h>
#include <string.h>

/* 1 when s is YYYY-MM with a month of 01 to 12. */
static int month_valid(const char *s)
{
    if (strlen(s) != 7 || strspn(s, "0123456789") != 4 || s[4] != '-' ||
        strspn(s + 5, "0123456789") != 2)
        return 0;
    return (s[5] == '0' && s[6] != '0') || (s[5] == '1' && s[6] <= '2');
}

void handle_usage(struct request *req)
{
    const char *want = request_query(req, "month");
    char month[BUDGET_MONTH_LEN];
    struct err e;
    struct db *db;
    cJSON *body;

    if (want != NULL) {
        if (!month_valid(want)) {
            err_set_field(&e, ERR_INVALID_FIELD_VALUE, "month", "month is YYYY-MM");
            respond_error(req, &e);
            return;
        }
        memcpy(month, want, 8);
    } else {
        budget_month(clock_now_ms(), month);
    }
    if ((db = gateway_db(req->gw, &e)) == NULL ||
        db_query_json(db, "SELECT ci_usage($1::uuid, $2)", 2,
                      (const char *[]){req->who.user_id, month}, &body, &e) != ERR_OK) {
        gate_respond_error(req, &e);
        return;
    }
    if (body == NULL) {
        err_set(&e, ERR_INTERNAL, "malformed usage from postgres");
        respond_error(req, &e);
        return;
    }
    respond_json(req, 200, body);
}
