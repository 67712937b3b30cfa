/* export_rdjson.h - a job's public view as reviewdog's Diagnostic Format
 * (rdjson: `reviewdog -f=rdjson`). Pure: no I/O.
 *
 * One diagnostic per finding: message, location {path, range} (the job's
 * file_path as submitted; the range from line, column and end_line: start
 * {line, column?}; end {line} when end_line is known, which reviewdog reads
 * line-wise, end line included), severity ERROR|WARNING|INFO, source {name}
 * (the finding's source: "lint:flake8", "model", ...), code {value: rule_id,
 * url?}, and one suggestion per change block of the finding's fix, written
 * as reviewdog's own diff parser writes them: a replacement or deletion
 * covers its old lines line-wise (no columns) with the new lines as text,
 * without a final newline; an insertion is the empty range start == end =
 * {line, column 1} before which the text (each line with its newline) goes.
 * Only members reviewdog's schema defines are written: its protobuf JSON
 * reader refuses unknown ones. A failed job has no diagnostics.
 */
#ifndef GW_EXPORT_RDJSON_H
#define GW_EXPORT_RDJSON_H

#include "common/json.h"

/* The rdjson document of view (borrowed: a GET /job/:id view of a review or
 * debug job). info_uri (borrowed; NULL or "" for none; an absolute URL,
 * checked by the caller) becomes source.url.
 * Returns it (owns), or NULL when out of memory. Members of view that are
 * missing or of the wrong type are left out rather than failing. */
cJSON *export_rdjson(const cJSON *view, const char *info_uri);

#endif
