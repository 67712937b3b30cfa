/* stress_suggest.c - suggestions on endpoints the run did not measure go. */
#include "worker/stress_suggest.h"

#include <string.h>

#include "common/stress_spec.h"
#include "common/utf8.h"
#include "worker/redact.h"
#include "worker/task_answer.h"

/* 1 when path (a suggestion's, after "METHOD ") is the endpoint's path,
 * or that path up to its '?' and has no query itself. */
static int path_names(const char *said, const char *path)
{
    size_t n = strcspn(path, "?");

    if (strcmp(said, path) == 0)
        return 1;
    return strchr(said, '?') == NULL && strlen(said) == n && memcmp(said, path, n) == 0;
}

/* 1 when endpoint ("METHOD /path") names the method and one of the paths. */
static int names(const char *endpoint, const char *method, const char *measured,
                 const char *shown)
{
    size_t m = strlen(method);

    if (strncmp(endpoint, method, m) != 0 || endpoint[m] != ' ')
        return 0;
    return path_names(endpoint + m + 1, measured) || path_names(endpoint + m + 1, shown);
}

/* 1 when the suggestion s names one of the n endpoints eps[], whose paths
 * as the table showed them are shown[]. */
static int measured(const cJSON *s, const cJSON *const *eps, const struct redact_result *shown,
                    int n)
{
    const char *endpoint = json_str(s, "endpoint");

    for (int i = 0; endpoint != NULL && i < n; i++)
        if (names(endpoint, json_str(eps[i], "method"), json_str(eps[i], "path"),
                  shown[i].text))
            return 1;
    return 0;
}

int stress_suggest_keep_measured(cJSON *suggestions, const cJSON *report)
{
    const cJSON *eps[STRESS_REQUESTS_MAX], *ep;
    struct redact_result shown[STRESS_REQUESTS_MAX];
    cJSON *s, *next;
    int n = 0, dropped = 0, rc = 0;

    memset(shown, 0, sizeof shown);
    cJSON_ArrayForEach(ep, cJSON_GetObjectItemCaseSensitive(report, "endpoints")) {
        const char *path = json_str(ep, "path");

        if (n == STRESS_REQUESTS_MAX)
            break;
        if (json_str(ep, "method") == NULL || path == NULL)
            continue;
        if (redact_text(path, strlen(path), &shown[n]) != 0) {
            rc = -1;
            goto out;
        }
        /* As the table shows it: a long path cut (stress_task.c). */
        shown[n].text[utf8_prec(shown[n].text, STRESS_TABLE_PATH_MAX)] = '\0';
        eps[n++] = ep;
    }
    for (s = suggestions != NULL ? suggestions->child : NULL; s != NULL; s = next) {
        next = s->next;
        if (!measured(s, eps, shown, n)) {
            cJSON_Delete(cJSON_DetachItemViaPointer(suggestions, s));
            dropped++;
        }
    }
    rc = dropped;
out:
    for (int i = 0; i < STRESS_REQUESTS_MAX; i++)
        redact_result_cleanup(&shown[i]);
    return rc;
}
