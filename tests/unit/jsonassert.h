/* jsonassert.h - test support: members of a cJSON object that must be there.
 *
 *     double n = ja_num(report, "completed");     // fails the test unless a number
 *     const cJSON *lat = ja_member(report, "latency_ms");
 */
#ifndef TEST_JSONASSERT_H
#define TEST_JSONASSERT_H

#include "common/json.h"

/* The number member `name` of o; fails the test (naming it) when it is absent
 * or not a number. */
double ja_num(const cJSON *o, const char *name);

/* The member `name` of o (borrowed); fails the test when absent. */
const cJSON *ja_member(const cJSON *o, const char *name);

#endif
