/* job_files.h - what of a job's input its record keeps, so that an approved
 * fix can later be applied to it (POST /apply-fix, gateway/apply_fix.c):
 * the submitted file exactly as received (before redaction) and, for a
 * debug job whose own fix may name one of them, its neighbouring files.
 * Kept only when the result holds a fix; stored by ci_job_save() in table
 * job_files (schema/migrations/006_clients.sql).
 */
#ifndef WK_JOB_FILES_H
#define WK_JOB_FILES_H

#include "common/json.h"

/* Sets *out to the files to keep, as [{path, content, sha256 (hex of
 * content)}], main file first (owns), or to NULL when there is nothing to
 * apply: no finding in findings has a "fix" string and task_result has
 * none either, or the job had no file (file_path or file_content NULL).
 * files_json is a debug job's `files` queue field ([{path, content}] as
 * JSON text; may be NULL), added only when task_result holds a fix. Every
 * argument is borrowed and may be NULL. Returns 0, or -1 when out of
 * memory (*out NULL). */
int job_files_to_keep(const char *file_path, const char *file_content, const char *files_json,
                      const cJSON *findings, const cJSON *task_result, cJSON **out);

#endif
