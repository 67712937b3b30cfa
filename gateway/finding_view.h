/* finding_view.h - reading one finding of a job's public view, as the
 * exporters (export_sarif.c, export_rdjson.c) need it. Pure. */
#ifndef GW_FINDING_VIEW_H
#define GW_FINDING_VIEW_H

#include <stddef.h>

#include "common/json.h"

/* The member name of f as a positive integer (line, column, end_line), or 0
 * when absent, not a number, below 1 or above INT32_MAX. */
long finding_num(const cJSON *f, const char *name);

/* The finding's rule_id, or "unknown" when it has none. Borrowed from f. */
const char *finding_rule(const cJSON *f);

/* The finding's stable id: its "id" member when a string, else "f<idx+1>"
 * (idx: its 0-based position in findings). Written to out (cap bytes,
 * truncated). Returns out. */
const char *finding_id(const cJSON *f, int idx, char *out, size_t cap);

/* The help page of a linter rule that has one per id (ShellCheck's wiki),
 * written to out (cap bytes); returns 1, or 0 when none is known. */
int finding_help_uri(const cJSON *f, char *out, size_t cap);

/* The finding's fix (a unified diff), or NULL. Borrowed from f. */
const char *finding_fix(const cJSON *f);

/* Rule id of a debug job's diagnosis as a finding. */
#define FINDING_DIAGNOSIS_RULE "debug-doctor/root-cause"

/* A finished debug job's diagnosis as one more finding, for the exporters:
 * {id "fix", rule_id FINDING_DIAGNOSIS_RULE, message (the root cause, and
 * whether the sandbox verified the fix), severity major, category
 * correctness, source "debug-doctor", line (the root frame's, when it has
 * one), fix (when the job's fix is for that file: its fix_file, or for a
 * view without that member the file the "+++" header names), confidence}.
 * *path is the file it is on: the root frame's, else the job's file_path
 * (borrowed from view). Returns it (owns), or NULL when view is no such
 * job. */
cJSON *finding_view_diagnosis(const cJSON *view, const char **path);

#endif
