/* account_view.c - whoami and usage, one item per line. */
#include "cli/account_view.h"

#include "cli/termtext.h"
#include "common/json.h"

#include <stdlib.h>

/* Longest month or task name shown, bytes including the NUL (cut when longer). */
#define ACCOUNT_VIEW_TEXT_MAX 128

/* A number sent as a string ("0.0123"); 0 when it is not one. */
static double parse_num(const char *s)
{
    char *end;
    double d = strtod(s, &end);

    return end != s && *end == '\0' ? d : 0;
}

static double num(const cJSON *o, const char *name)
{
    const cJSON *v = json_item(o, name);

    /* PostgreSQL numerics may arrive as strings. */
    if (cJSON_IsString(v))
        return parse_num(v->valuestring);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* A string the service sent, made safe for a terminal, into buf. */
static const char *clean(char *buf, size_t cap, const char *s)
{
    return termtext_clean(buf, cap, s, TERMTEXT_FLAT);
}

static void field(FILE *out, const char *name, const char *value)
{
    if (value != NULL) {
        fprintf(out, "%-9s ", name);
        termtext_put(out, value, TERMTEXT_FLAT);
        fputc('\n', out);
    }
}

static void rate(FILE *out, const cJSON *limits, const char *name)
{
    const cJSON *r = json_item(limits, name);

    if (cJSON_IsObject(r))
        fprintf(out, "  %-7s %g/min, burst %g\n", name, num(r, "rate_per_min"), num(r, "burst"));
}

void account_view_whoami(FILE *out, const cJSON *who)
{
    const cJSON *limits = json_item(who, "limits"), *usage = json_item(who, "usage");

    field(out, "email:", json_str(who, "email"));
    field(out, "plan:", json_str(who, "plan"));
    field(out, "user id:", json_str(who, "user_id"));
    if (cJSON_IsTrue(json_item(who, "operator")))
        field(out, "role:", "operator (may read GET /stats)");
    if (cJSON_IsObject(usage)) {
        const char *month = json_str(usage, "month");
        char m[ACCOUNT_VIEW_TEXT_MAX];

        fprintf(out, "%-9s %.0f used", "tokens:", num(usage, "tokens_used"));
        if (cJSON_IsNumber(json_item(limits, "tokens_per_month")))
            fprintf(out, " of %.0f", num(limits, "tokens_per_month"));
        fprintf(out, " in %s, %.0f reserved\n", clean(m, sizeof m, month ? month : "this month"),
                num(usage, "tokens_reserved"));
    }
    if (cJSON_IsObject(limits)) {
        fprintf(out, "limits:\n");
        rate(out, limits, "submit");
        rate(out, limits, "read");
        rate(out, limits, "auth");
    }
    if (cJSON_IsTrue(json_item(who, "soft_throttled")))
        fprintf(out, "note:     soft-throttled (over 90%% of the monthly budget)\n");
    if (cJSON_IsTrue(json_item(who, "degraded")))
        fprintf(out, "note:     budget exhausted: static analysis only\n");
}

void account_view_usage(FILE *out, const cJSON *u)
{
    const cJSON *t;
    const char *month = json_str(u, "month");
    char m[ACCOUNT_VIEW_TEXT_MAX];

    fprintf(out, "%-11s %s\n", "month:", clean(m, sizeof m, month ? month : "?"));
    fprintf(out, "%-11s %.0f\n", "tokens:", num(u, "tokens"));
    fprintf(out, "%-11s $%.4f\n", "cost:", num(u, "cost_usd"));
    fprintf(out, "%-11s %.0f (%.0f from the cache)\n", "jobs:", num(u, "jobs"),
            num(u, "cache_hits"));
    if (cJSON_GetArraySize(json_item(u, "by_task")) == 0)
        return;
    fprintf(out, "by task:\n");
    cJSON_ArrayForEach(t, json_item(u, "by_task"))
        fprintf(out, "  %-13s %10.0f tokens  $%.4f  %.0f jobs  %.0f cached\n",
                clean(m, sizeof m, t->string ? t->string : "?"), num(t, "tokens"),
                num(t, "cost_usd"), num(t, "jobs"), num(t, "cache_hits"));
}
