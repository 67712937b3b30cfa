/* budget.h - monthly token budgets: estimates at admission, and the
 * reconciliation a worker performs once per job.
 *
 * The live counters are the Redis hash budget:<user_id>:<YYYY-MM> (used,
 * reserved); the durable ledger is PostgreSQL's token_charges (one row per
 * job). admit.lua reserves; job_finish.lua releases the reservation and adds
 * the real usage, once per job (guarded by the job hash's "charged" field),
 * in the same script that acknowledges the entry.
 */
#ifndef CI_BUDGET_H
#define CI_BUDGET_H

#include <stddef.h>
#include <stdint.h>

#define BUDGET_MONTH_LEN 8          /* "2026-11" plus NUL */
#define BUDGET_KEY_MAX 96

/* "YYYY-MM" (UTC) of epoch milliseconds ms; "1970-01" before 1970 or past
 * year 9999 (as clock_rfc3339). */
void budget_month(int64_t ms, char out[BUDGET_MONTH_LEN]);

/* Tokens reserved for a task over input_bytes of user text, for rounds
 * model calls (a debug job asks again after a failed verification, up to
 * CODEINSIGHT_DEBUG_FIX_ATTEMPTS rounds; other tasks ask once: 1): each
 * round's input ceil(bytes/4) plus the template overhead, plus the task's
 * max output. rounds below 1 count as 1. */
int64_t budget_estimate(const char *task, size_t input_bytes, long rounds);

/* Redis key of a user's counters for a month. */
void budget_key(const char *user_id, const char *month, char out[BUDGET_KEY_MAX]);

struct db;
struct err;

/* Tokens charged to user_id in month according to the PostgreSQL ledger
 * (the source the Redis counters are rebuilt from). */
int budget_ledger_used(struct db *db, const char *user_id, const char *month, int64_t *used,
                       struct err *e);

/* A job's charge, as the worker reconciles it. */
struct budget_charge {
    char month[BUDGET_MONTH_LEN];   /* "" when the job has no owner */
    int64_t reserved;               /* tokens reserved at admission */
    int64_t actual;                 /* tokens really used (0 without a model) */
};

#endif
