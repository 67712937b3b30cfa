/* merge.h - one SARIF log or one rdjson document from many jobs.
 *
 * Each finished job's document (GET /job/:id?format=sarif|rdjson, in
 * cli_job.doc; a failed job's log has no results and says why it failed)
 * is merged into one:
 *  - SARIF 2.1.0: a single run. The first run's tool and other members are
 *    kept; rules are united by id (each result's ruleIndex renumbered),
 *    artifacts appended (artifactLocation.index in results shifted), results
 *    and invocations appended in job order. One run per tool is what code-scanning upload
 *    expects.
 *  - rdjson: the first document's source, every diagnostic in job order.
 * A job that failed or errored without a document becomes, in SARIF, an
 * invocation with executionSuccessful false and "label: why" as an error
 * notification, so that a run whose jobs failed does not read as a clean
 * one (rdjson cannot say so: the exit status, 3, and stderr do). Other jobs
 * without a document are skipped; with none at all the result is a valid
 * empty document.
 */
#ifndef CI_CLI_MERGE_H
#define CI_CLI_MERGE_H

#include "cli/jobset.h"

/* URI written as $schema when no job's log names one. */
#define MERGE_SARIF_SCHEMA "https://json.schemastore.org/sarif-2.1.0.json"

/* Returns the merged SARIF log (owns: cJSON_Delete) or NULL when out of memory. */
cJSON *merge_sarif(const struct jobset *js);

/* Returns the merged rdjson document (owns) or NULL when out of memory. */
cJSON *merge_rdjson(const struct jobset *js);

#endif
