/* history_doc.h - the documents the job-history sink (worker/mongo_sink.h)
 * writes to MongoDB, mapped from a finished job's PostgreSQL document
 * (worker/job_result.h). Pure: no server involved.
 *
 * Collection `jobs`, one document per job, replaced whole on a redelivery:
 *   _id          the job id (string; the document's job_id)
 *   every other member of the PostgreSQL document but job_files (the submitted
 *   code, which may hold secrets: the history keeps findings, not code);
 *   integers as int64, other numbers as double; created_at, started_at and
 *   finished_at as BSON dates when they are RFC 3339 times.
 *
 * Collection `file_snapshots`, one document per reviewed file version (a
 * done review with file_path and file_sha256), its latest review:
 *   _id          hex SHA-256 of repo_id, file_path and file_sha256
 *   repo_id, file_path, file_sha256, language, job_id, summary
 *   findings     how many; severities {critical, major, minor, info}
 *   reviewed_at  the job's finished_at (date); first_reviewed_at: the
 *                earliest review of that version ($min)
 *
 *     bson_t job = BSON_INITIALIZER;
 *     if (history_job(doc, &job) == 0) ... replace_one({_id}, job, upsert) ...
 *     bson_destroy(&job);
 */
#ifndef WK_HISTORY_DOC_H
#define WK_HISTORY_DOC_H

#include <bson/bson.h>

#include "common/json.h"

/* Depth of nested objects and arrays mapped; deeper ones become null (the
 * document is the worker's own: this only bounds the recursion). */
#define HISTORY_DEPTH_MAX 32

/* Appends the jobs document of doc to out (initialised by the caller).
 * Returns 0, or -1 when doc is not an object with a job_id string or BSON
 * refuses a member (the document would pass 2 GB); out is then partial. */
int history_job(const cJSON *doc, bson_t *out);

/* Builds the file_snapshots selector ({_id}) and update ($set, $min) of
 * doc into sel and upd (initialised by the caller). Returns 1 when built,
 * 0 when doc has no snapshot (not a done review, or no file_path or
 * file_sha256),
 * -1 on a BSON error. */
int history_snapshot(const cJSON *doc, bson_t *sel, bson_t *upd);

#endif
