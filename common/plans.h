/* plans.h - what each plan may do: rate limits per route class and the
 * monthly token budget. The one table of these numbers. */
#ifndef CI_PLANS_H
#define CI_PLANS_H

#include <stdint.h>

enum plan { PLAN_LITE, PLAN_PRO, PLAN_BUSINESS, PLAN__COUNT };

enum route_class { RC_SUBMIT, RC_READ, RC_AUTH, RC__COUNT };

struct rate {
    double per_min;             /* refill, tokens per minute */
    double burst;               /* bucket capacity */
};

struct plan_limits {
    const char *name;
    struct rate rate[RC__COUNT];
    int64_t tokens_per_month;
};

/* Limits of a plan; never NULL (unknown plans get lite's). */
const struct plan_limits *plans_get(enum plan p);

/* Parses "lite" | "pro" | "business"; -1 when unknown. */
int plans_parse(const char *name);

/* "submit" | "read" | "auth". */
const char *plans_class_str(enum route_class rc);

/* Login limits, per client address and per email, for everyone. */
extern const struct rate plans_login_per_ip;
extern const struct rate plans_login_per_email;

/* API keys PostgreSQL does not know, per client address: past it, a key
 * missing from the identity cache is refused (429) before it is looked up. */
extern const struct rate plans_unknown_keys_per_ip;

/* The model's max output tokens per task ("review", "debug", "architecture"). */
int64_t plans_task_max_tokens(const char *task);

/* Tokens of prompt template around the user's text, for estimates. */
#define PLANS_TEMPLATE_OVERHEAD 1500

/* Soft-throttle threshold, percent of the monthly budget. */
#define PLANS_SOFT_THROTTLE_PCT 90

#endif
