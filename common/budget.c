/* budget.c - token budget arithmetic. */
#include "common/budget.h"

#include "common/clock.h"
#include "common/db.h"
#include "common/err.h"
#include "common/plans.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void budget_month(int64_t ms, char out[BUDGET_MONTH_LEN])
{
    char t[CLOCK_RFC3339_LEN];

    /* The timestamp's own formatter, cached per second: an admission formats
     * the same instant for created_at. */
    memcpy(out, clock_rfc3339(ms, t), BUDGET_MONTH_LEN - 1);
    out[BUDGET_MONTH_LEN - 1] = '\0';
}

int64_t budget_estimate(const char *task, size_t input_bytes, long rounds)
{
    return (rounds > 1 ? rounds : 1) * ((int64_t)((input_bytes + 3) / 4) +
                                        PLANS_TEMPLATE_OVERHEAD + plans_task_max_tokens(task));
}

void budget_key(const char *user_id, const char *month, char out[BUDGET_KEY_MAX])
{
    snprintf(out, BUDGET_KEY_MAX, "budget:%s:%s", user_id, month);
}

int budget_ledger_used(struct db *db, const char *user_id, const char *month, int64_t *used,
                       struct err *e)
{
    char *v = NULL;
    int rc = db_query_value(db, "SELECT ci_month_used($1::uuid, $2)", 2,
                            (const char *[]){user_id, month}, &v, e);

    *used = rc == ERR_OK && v != NULL ? strtoll(v, NULL, 10) : 0;
    free(v);
    return rc;
}
