/* cmd_account.c - codeinsight whoami and usage. */
#include "cli/commands.h"

#include "cli/account_view.h"
#include "cli/api.h"
#include "cli/termtext.h"

#include <stdio.h>
#include <stdlib.h>

typedef void view_fn(FILE *out, const cJSON *body);

/* GET path, then the body as JSON or through view. */
static int show(const struct cli_args *a, struct api *api, const char *path, view_fn *view)
{
    char msg[API_DESCRIBE_MAX];
    cJSON *body;
    long status;
    char *text;

    if (api_call(api, "GET", path, NULL, &status, &body, msg, sizeof msg) != 0) {
        fprintf(stderr, "codeinsight: %s\n", msg);
        return CLI_EXIT_SERVICE;
    }
    if (status != 200 || !cJSON_IsObject(body)) {
        fprintf(stderr, "codeinsight: %s\n", msg);     /* api_describe's words */
        cJSON_Delete(body);
        return CLI_EXIT_SERVICE;
    }
    if (a->json) {
        if ((text = cJSON_Print(body)) != NULL) {
            termtext_put_json(stdout, text);
            putchar('\n');
        }
        free(text);
    } else {
        view(stdout, body);
    }
    cJSON_Delete(body);
    return CLI_EXIT_OK;
}

int cmd_whoami(const struct cli_args *a, struct api *api)
{
    return show(a, api, "/whoami", account_view_whoami);
}

int cmd_usage(const struct cli_args *a, struct api *api)
{
    return show(a, api, "/usage", account_view_usage);
}
