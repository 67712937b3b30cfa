/* cmd_job.c - codeinsight job ID: one job, followed by id. */
#include "cli/commands.h"

#include "cli/output.h"
#include "cli/termtext.h"

#include "common/crypto.h"

#include <stdio.h>

int cmd_job(const struct cli_args *a, struct api *api)
{
    struct jobset js = {0};
    struct cli_job *j;
    int rc;

    if (!crypto_uuid_valid(a->job_id)) {        /* as the service issues them */
        fputs("codeinsight: '", stderr);
        termtext_put(stderr, a->job_id, TERMTEXT_FLAT);
        fputs("' is not a job id (a UUID)\n", stderr);
        return CLI_EXIT_USAGE;
    }
    if ((j = jobset_add(&js, a->job_id, NULL)) == NULL) {
        fprintf(stderr, "codeinsight: out of memory\n");
        return CLI_EXIT_SERVICE;
    }
    snprintf(j->id, sizeof j->id, "%s", a->job_id);
    j->submitted = 1;
    j->state = JOB_PENDING;     /* not known to exist until the service shows it */
    if ((rc = commands_follow(a, api, &js, a->wait)) != 0)
        goto out;
    if (!job_state_final(j->state) && a->format != FMT_JSON) {
        /* Not finished (no --wait): say where it is; a document needs the end. */
        fprintf(stderr, "%s: %s\n", j->id, job_state_name(j->state));
        rc = a->format == FMT_TEXT ? CLI_EXIT_OK : CLI_EXIT_SERVICE;
        if (rc != CLI_EXIT_OK)
            fprintf(stderr, "codeinsight: the job has not finished; add --wait\n");
        goto out;
    }
    rc = output_results(stdout, stderr, &js, a);
out:
    jobset_cleanup(&js);
    return rc;
}
