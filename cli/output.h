/* output.h - what a review or job command prints once its jobs are settled.
 *
 * Results go to out (stdout), in the chosen format; the one-line summary
 * (findings in the files reviewed, and how many were not: an error or a
 * failed job) and each failed job's reason go to err (stderr):
 *  - text: compiler-style finding lines (findings.h), then for debug jobs
 *    the diagnosis and fix, for architecture jobs the design; with
 *    --no-wait, "JOB_ID<TAB>PATH" per submitted job;
 *  - json: an array of the job views (a job never seen: {job_id, status,
 *    file_path}; a request that failed: {file_path, status: "error", error});
 *  - sarif / rdjson: one merged document (merge.h).
 * Text meant for people (text format, err) is made safe for a terminal
 * (termtext.h); json, sarif and rdjson print control characters as JSON
 * escapes (termtext_put_json).
 */
#ifndef CI_CLI_OUTPUT_H
#define CI_CLI_OUTPUT_H

#include <stdio.h>

#include "cli/args.h"
#include "cli/jobset.h"

/* Writes the results of js as a asks, flushes out, and returns the exit
 * status (findings_exit_status; CLI_EXIT_SERVICE when out of memory, when
 * a job has not finished where a finished one is needed, or when out could
 * not be written: that is said on err, and out's error flag cleared). */
int output_results(FILE *out, FILE *err, const struct jobset *js, const struct cli_args *a);

#endif
