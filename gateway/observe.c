/* observe.c - request and admission metrics. Label values come from the
 * route table or fixed lists, never from the raw request, so a client
 * cannot create series at will. */
#include "gateway/observe.h"

#include "common/decimal.h"
#include "common/metrics.h"
#include "common/metrics_table.h"
#include "gateway/request.h"
#include "gateway/routes.h"

#include <stdio.h>
#include <string.h>

/* The method as a label: a standard one, else "other". */
static const char *method_label(const char *method)
{
    static const char *const known[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE",
                                        "OPTIONS"};

    for (size_t i = 0; method != NULL && i < sizeof known / sizeof known[0]; i++)
        if (strcmp(method, known[i]) == 0)
            return known[i];
    return "other";
}

void observe_request(const struct request *req, double seconds)
{
    const char *route = req->route ? req->route->pattern : "unmatched";
    /* The request's own method: a HEAD served by a GET route is "HEAD". */
    const char *method = method_label(req->method);
    char status[DECIMAL_STR_MAX], labels[METRIC_LABELS_MAX + 1];

    if (!req->responded)
        return;
    decimal_str(status, req->status);
    if (metrics_labels(labels, sizeof labels, "route", route, "method", method, "status", status,
                       NULL) == 0)
        metrics_inc(MET_HTTP_REQUESTS, labels);
    if (metrics_labels(labels, sizeof labels, "route", route, "method", method, NULL) == 0)
        metrics_observe(MET_HTTP_DURATION, labels, seconds);
    if (req->err_code != NULL && strcmp(req->err_code, "rate_limited") == 0 &&
        metrics_labels(labels, sizeof labels, "route", route, NULL) == 0)
        metrics_inc(MET_RATE_LIMITED, labels);
}

void observe_admission(const char *outcome)
{
    char labels[64];

    if (metrics_labels(labels, sizeof labels, "outcome", outcome, NULL) == 0)
        metrics_inc(MET_ADMISSIONS, labels);
}
