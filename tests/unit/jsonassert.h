/* jsonassert.h - test support: members of a cJSON object that must be there,
 * or be what they should.
 *
 *     double n = ja_num(report, "completed");     // fails the test unless a number
 *     const cJSON *lat = ja_member(report, "latency_ms");
 *     const char *lvl = ja_str_at(log, "runs.0.results.0.level");
 */
#ifndef TEST_JSONASSERT_H
#define TEST_JSONASSERT_H

#include "common/json.h"

/* The number member `name` of o; fails the test (naming it) when it is absent
 * or not a number. */
double ja_num(const cJSON *o, const char *name);

/* The member `name` of o (borrowed); fails the test when absent. */
const cJSON *ja_member(const cJSON *o, const char *name);

/* The value at a dotted path of members and array indexes, e.g.
 * "runs.0.results.1.level" (borrowed), or NULL when any step is missing.
 * Steps are at most 63 bytes. */
const cJSON *ja_at(const cJSON *o, const char *path);

/* The string at path (borrowed); fails the test, naming path, when it is
 * missing or not a string. */
const char *ja_str_at(const cJSON *o, const char *path);

/* The number at path; fails the test, naming path, when missing or not a
 * number. */
double ja_num_at(const cJSON *o, const char *path);

/* The member key of o is the string want, or JSON null when want is NULL;
 * fails the test naming what and key otherwise. */
void ja_str_is(const cJSON *o, const char *key, const char *want, const char *what);

/* Every string in o (recursively) is valid UTF-8 without control bytes
 * other than tab and newline; fails the test otherwise. */
void ja_clean_strings(const cJSON *o);

#endif
