/* jobset.c - the list of jobs of one invocation. */
#include "cli/jobset.h"

#include <stdlib.h>
#include <string.h>

struct cli_job *jobset_add(struct jobset *js, const char *label, char *body)
{
    struct cli_job *grown, *j;

    grown = realloc(js->jobs, (js->n + 1) * sizeof *js->jobs);
    if (grown == NULL) {
        free(body);
        return NULL;
    }
    js->jobs = grown;
    j = &js->jobs[js->n];
    memset(j, 0, sizeof *j);
    if ((j->label = strdup(label)) == NULL) {
        free(body);
        return NULL;
    }
    j->body = body;
    js->n++;
    return j;
}

void jobset_cleanup(struct jobset *js)
{
    for (size_t i = 0; i < js->n; i++) {
        free(js->jobs[i].label);
        free(js->jobs[i].body);
        cJSON_Delete(js->jobs[i].view);
        free(js->jobs[i].etag);
        cJSON_Delete(js->jobs[i].doc);
    }
    free(js->jobs);
    js->jobs = NULL;
    js->n = 0;
}

int job_state_final(enum cli_job_state s)
{
    return s == JOB_DONE || s == JOB_FAILED || s == JOB_ERROR;
}

const char *job_state_name(enum cli_job_state s)
{
    switch (s) {
    case JOB_PENDING: return "pending";
    case JOB_QUEUED:  return "queued";
    case JOB_RUNNING: return "running";
    case JOB_DONE:    return "done";
    case JOB_FAILED:  return "failed";
    case JOB_ERROR:   return "error";
    }
    return "?";
}
