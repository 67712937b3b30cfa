/* findings.h - the findings of finished jobs as compiler-style lines, and
 * what they mean for the exit status.
 *
 *     path:line:col: severity: message [rule] (source)
 *
 * col is 1 when the finding has none; [rule] and (source) are left out when
 * empty; newlines in a message become spaces, and every text is made safe
 * for a terminal (termtext.h). Lines are sorted by path,
 * line, column, then the service's order.
 */
#ifndef CI_CLI_FINDINGS_H
#define CI_CLI_FINDINGS_H

#include <stddef.h>
#include <stdio.h>

#include "cli/args.h"
#include "cli/jobset.h"

/* Formats one finding (a job view's findings[] element) for path into buf
 * (cap bytes; cut when longer). Returns buf. */
char *findings_line(char *buf, size_t cap, const char *path, const cJSON *finding);

/* Writes every finished job's findings as sorted lines to out. Returns the
 * number of lines, or -1 when out of memory. */
long findings_print(FILE *out, const struct jobset *js);

/* Counts per severity rank (counts[SEV_INFO..SEV_CRITICAL]) over finished
 * jobs; unknown severities count as info. */
void findings_count(const struct jobset *js, long counts[SEV_NEVER]);

/* "3 findings (1 major, 2 minor) in 2 files" or "no findings in 1 file",
 * into buf. Returns buf. */
char *findings_summary(char *buf, size_t cap, const long counts[SEV_NEVER], size_t nfiles);

/* The exit status for a finished run: CLI_EXIT_SERVICE when a job failed or
 * errored, else CLI_EXIT_FINDINGS when a finding is at or above fail_on
 * (never with SEV_NEVER), else CLI_EXIT_OK. Jobs not finished are ignored. */
int findings_exit_status(const struct jobset *js, enum cli_sev fail_on);

#endif
