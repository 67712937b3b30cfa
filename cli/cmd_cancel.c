/* cmd_cancel.c - codeinsight cancel ID...: DELETE /job/:id for each. */
#include "cli/commands.h"

#include "cli/api.h"
#include "cli/termtext.h"

#include "common/crypto.h"
#include "common/json.h"

#include <stdio.h>

/* What one id's answer means: 0 cancelled or being cancelled (said on
 * stdout), else CLI_EXIT_SERVICE (said on stderr). */
static int cancel_one(struct api *api, const char *id)
{
    char path[64], msg[API_DESCRIBE_MAX];
    cJSON *body = NULL;
    long status;
    const char *st;

    snprintf(path, sizeof path, "/job/%s", id);
    if (api_call(api, "DELETE", path, NULL, &status, &body, msg, sizeof msg) != 0) {
        fprintf(stderr, "codeinsight: %s: %s\n", id, msg);
        return CLI_EXIT_SERVICE;
    }
    st = json_str(body, "status");
    if ((status == 200 || status == 202) && st != NULL) {
        /* 202: its worker stops it; `codeinsight job ID --wait` shows the end.
         * Our words, not the server's: nothing it sends reaches the terminal
         * raw. */
        printf("%s\t%s\n", id, status == 200 ? "cancelled" : "cancelling");
        cJSON_Delete(body);
        return 0;
    }
    fprintf(stderr, "codeinsight: %s: %s\n", id, msg);     /* api_describe's words */
    cJSON_Delete(body);
    return CLI_EXIT_SERVICE;
}

int cmd_cancel(const struct cli_args *a, struct api *api)
{
    int rc = CLI_EXIT_OK;

    /* Every id is checked before anything is sent. */
    for (size_t i = 0; i < a->ncancel_ids; i++) {
        if (!crypto_uuid_valid(a->cancel_ids[i])) {
            fputs("codeinsight: '", stderr);
            termtext_put(stderr, a->cancel_ids[i], TERMTEXT_FLAT);
            fputs("' is not a job id (a UUID)\n", stderr);
            return CLI_EXIT_USAGE;
        }
    }
    for (size_t i = 0; i < a->ncancel_ids; i++)
        if (cancel_one(api, a->cancel_ids[i]) != 0)
            rc = CLI_EXIT_SERVICE;
    return rc;
}
