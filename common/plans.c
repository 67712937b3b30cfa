/* plans.c - the plan table. */
#include "common/plans.h"

#include <string.h>

static const struct plan_limits plan_table[PLAN__COUNT] = {
    [PLAN_LITE] = {"lite",
                   {[RC_SUBMIT] = {20, 10}, [RC_READ] = {600, 100}, [RC_AUTH] = {30, 10}},
                   200000},
    [PLAN_PRO] = {"pro",
                  {[RC_SUBMIT] = {60, 20}, [RC_READ] = {600, 100}, [RC_AUTH] = {30, 10}},
                  500000},
    [PLAN_BUSINESS] = {"business",
                       {[RC_SUBMIT] = {300, 60}, [RC_READ] = {600, 100}, [RC_AUTH] = {30, 10}},
                       4000000},
};

const struct rate plans_login_per_ip = {30, 10};
const struct rate plans_login_per_email = {10, 5};
const struct rate plans_unknown_keys_per_ip = {20, 40};

const struct plan_limits *plans_get(enum plan p)
{
    return (unsigned)p < PLAN__COUNT ? &plan_table[p] : &plan_table[PLAN_LITE];
}

int plans_parse(const char *name)
{
    for (int i = 0; i < PLAN__COUNT; i++)
        if (name != NULL && strcmp(name, plan_table[i].name) == 0)
            return i;
    return -1;
}

const char *plans_class_str(enum route_class rc)
{
    static const char *const names[RC__COUNT] = {"submit", "read", "auth"};
    return (unsigned)rc < RC__COUNT ? names[rc] : "read";
}

int64_t plans_task_max_tokens(const char *task)
{
    if (task != NULL && strcmp(task, "debug") == 0)
        return 4096;
    if (task != NULL && strcmp(task, "architecture") == 0)
        return 8192;
    return 2048;
}
