/* account_view.h - GET /whoami and GET /usage answers for humans; the
 * service's strings are made safe for a terminal (termtext.h). */
#ifndef CI_CLI_ACCOUNT_VIEW_H
#define CI_CLI_ACCOUNT_VIEW_H

#include <stdio.h>

#include "common/json.h"

/* Writes the caller's identity, plan, limits and budget from a /whoami
 * body: "email:  a@example.com" ... one item per line. Members that are
 * absent are left out. */
void account_view_whoami(FILE *out, const cJSON *who);

/* Writes this month's usage from a /usage body: totals, then one line per
 * task type. */
void account_view_usage(FILE *out, const cJSON *usage);

#endif
