/* task_answer.c - strict parsing of the heavy tasks' answers. Each parser
 * is answer_json_object (answer.c) followed by a list of members, each
 * checked and copied into a new object by one add_* function, so what is
 * not named here never reaches the output. */
#include "worker/task_answer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/utf8.h"
#include "worker/answer.h"
#include "worker/redact.h"
#include "common/patch.h"

/* The skeletons quoted when an answer is empty or an array. */
#define DEBUG_SHAPE                                                                           \
    "{\"root_cause\": \"...\", \"explanation\": \"...\", \"fix\": \"...\" or null, "           \
    "\"verification_steps\": [\"...\"], \"confidence\": 0.8}"
#define ARCH_SHAPE                                                                            \
    "{\"summary\", \"diagram\", \"modules\": [{\"name\", \"responsibility\"}], "             \
    "\"data_flow\", \"security\", \"scaling\", \"cost\"}"
#define STRESS_SHAPE                                                                          \
    "{\"summary\": \"...\", \"suggestions\": [{\"endpoint\": \"GET /path\", "                  \
    "\"kind\": \"caching\", \"advice\": \"...\"}]}"

/* Bytes of a reason's member path, e.g. "suggestions[19].expected_impact". */
#define WHERE_MAX 48
/* Bytes of a stress kind as the model spells it, at most. */
#define KIND_SAID_MAX 32

static const char *const http_methods[] = {"GET",   "HEAD",   "POST",   "PUT",
                                           "PATCH", "DELETE", "OPTIONS"};

/* Stress kinds: canonical names (mapping to themselves) and synonyms, after
 * lower-casing and reading "-" and " " as "_". */
static const struct kind_name {
    const char *said;
    const char *kind;
} stress_kinds[] = {
    {"caching", "caching"},           {"cache", "caching"},
    {"caches", "caching"},            {"cached", "caching"},
    {"memoization", "caching"},       {"memoize", "caching"},
    {"response_cache", "caching"},    {"http_cache", "caching"},
    {"index", "index"},               {"indexes", "index"},
    {"indices", "index"},             {"indexing", "index"},
    {"db_index", "index"},            {"database_index", "index"},
    {"add_index", "index"},           {"pagination", "pagination"},
    {"paginate", "pagination"},       {"paging", "pagination"},
    {"batching", "batching"},         {"batch", "batching"},
    {"bulk", "batching"},             {"n_plus_one", "batching"},
    {"n+1", "batching"},              {"connection_pool", "connection_pool"},
    {"connection_pooling", "connection_pool"}, {"pool", "connection_pool"},
    {"pooling", "connection_pool"},   {"db_pool", "connection_pool"},
    {"payload", "payload"},           {"payload_size", "payload"},
    {"compression", "payload"},       {"compress", "payload"},
    {"gzip", "payload"},              {"response_size", "payload"},
    {"rate_limit", "rate_limit"},     {"rate_limiting", "rate_limit"},
    {"ratelimit", "rate_limit"},      {"throttling", "rate_limit"},
    {"throttle", "rate_limit"},       {"async", "async"},
    {"asynchronous", "async"},        {"queue", "async"},
    {"queueing", "async"},            {"background", "async"},
    {"background_job", "async"},      {"other", "other"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The caller's reason buffer. */
struct why {
    char *buf;
    size_t cap;
};

/* Adds one member (or array entry) of out from in; 0 or -1 with w set. */
typedef int add_fn(cJSON *out, const cJSON *in, size_t index, struct why *w);

static int fail(struct why *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes the reason; returns -1 for the callers' return statements. */
static int fail(struct why *w, const char *fmt, ...)
{
    va_list ap;

    if (w->buf == NULL || w->cap == 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(w->buf, w->cap, fmt, ap);
    va_end(ap);
    return -1;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Present and not null. */
static const cJSON *member(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

    return cJSON_IsNull(v) ? NULL : v;
}

/* 0 when v (a member's value, NULL when absent or null) is a string, else
 * -1 with a reason naming where. */
static int need_string(const cJSON *v, const char *where, struct why *w)
{
    if (v == NULL)
        return fail(w, "\"%s\" is missing: give a non-empty string", where);
    if (!cJSON_IsString(v))
        return fail(w, "\"%s\" must be a string", where);
    return 0;
}

/* Adds name: a cleaned copy of s (cut to max bytes) to the object out, or
 * appends it to the array out when name is NULL. Returns 1 without adding
 * when the copy is empty, 0 when added, -1 when out of memory. */
static int add_clean(cJSON *out, const char *name, const char *s, size_t max, struct why *w)
{
    char *c = answer_text_copy(s, max);
    cJSON *item;

    if (c == NULL)
        return fail(w, "out of memory");
    if (c[0] == '\0') {
        free(c);
        return 1;
    }
    item = cJSON_CreateString(c);
    free(c);
    if (item == NULL || !(name != NULL ? cJSON_AddItemToObject(out, name, item)
                                       : cJSON_AddItemToArray(out, item))) {
        cJSON_Delete(item);
        return fail(w, "out of memory");
    }
    return 0;
}

/* Adds name: a cleaned copy (cut to max bytes) of in's member name, which
 * must be a non-empty string; where is its path in reasons (NULL: name). */
static int add_text(cJSON *out, const cJSON *in, const char *name, const char *where,
                    size_t max, struct why *w)
{
    const cJSON *v = member(in, name);
    int rc;

    where = where != NULL ? where : name;
    if (need_string(v, where, w) < 0)
        return -1;
    rc = add_clean(out, name, v->valuestring, max, w);
    return rc > 0 ? fail(w, "\"%s\" is empty: give a non-empty string", where) : rc;
}

/* How add_array takes an array member. */
struct array_rule {
    const char *what;           /* its entries, for reasons: "non-empty strings" */
    size_t least;               /* entries required, at least (0 or 1) */
    size_t most;                /* entries kept at most */
    size_t max;                 /* strings: bytes of each, at most */
    add_fn *add;                /* objects: fills one from an entry; NULL: strings */
};

/* Appends a cleaned copy of entry (a string) to list. Returns 1, 0 when
 * the copy is empty (skipped), -1 with w set. */
static int string_entry(cJSON *list, const cJSON *entry, const char *name, size_t index,
                        const struct array_rule *rule, struct why *w)
{
    int rc;

    if (!cJSON_IsString(entry))
        return fail(w, "\"%s\"[%zu] must be a string", name, index);
    rc = add_clean(list, NULL, entry->valuestring, rule->max, w);
    return rc < 0 ? -1 : rc == 0;
}

/* Appends an object to list filled by rule->add from entry (an object).
 * Returns 1, or -1 with w set. */
static int object_entry(cJSON *list, const cJSON *entry, const char *name, size_t index,
                        const struct array_rule *rule, struct why *w)
{
    cJSON *o;

    if (!cJSON_IsObject(entry))
        return fail(w, "\"%s\"[%zu] must be an object", name, index);
    o = cJSON_CreateObject();
    if (o == NULL || !cJSON_AddItemToArray(list, o)) {
        cJSON_Delete(o);
        return fail(w, "out of memory");
    }
    return rule->add(o, entry, index, w) < 0 ? -1 : 1;
}

/* Adds name: an array built from in's array name by rule, from its first
 * entries, at most rule->most of them; at least rule->least. */
static int add_array(cJSON *out, const cJSON *in, const char *name,
                     const struct array_rule *rule, struct why *w)
{
    const cJSON *arr = member(in, name), *v;
    size_t index = 0, kept = 0;
    cJSON *list;

    if (arr == NULL)
        return fail(w, "the JSON object has no \"%s\" array", name);
    if (!cJSON_IsArray(arr))
        return fail(w, "\"%s\" must be an array of %s", name, rule->what);
    list = cJSON_AddArrayToObject(out, name);
    if (list == NULL)
        return fail(w, "out of memory");
    cJSON_ArrayForEach(v, arr) {
        int rc;

        if (kept == rule->most)
            break;
        rc = rule->add != NULL ? object_entry(list, v, name, index, rule, w)
                               : string_entry(list, v, name, index, rule, w);
        if (rc < 0)
            return -1;
        kept += (size_t)rc;
        index++;
    }
    if (kept < rule->least)
        return fail(w, "\"%s\" is empty: give 1 to %zu %s", name, rule->most, rule->what);
    return 0;
}

/* Extracts the object, builds the normalised answer from it with add (index
 * 0), and hands it over in *out. */
static int parse_with(const char *text, size_t len, const char *shape, add_fn *add,
                      cJSON **out, char *why, size_t cap)
{
    struct why w = {why, cap};
    cJSON *doc, *o;

    *out = NULL;
    doc = answer_json_object(text, len, shape, why, cap);
    if (doc == NULL)
        return -1;
    o = cJSON_CreateObject();
    if (o == NULL) {
        cJSON_Delete(doc);
        return fail(&w, "out of memory");
    }
    if (add(o, doc, 0, &w) < 0) {
        cJSON_Delete(doc);
        cJSON_Delete(o);
        return -1;
    }
    cJSON_Delete(doc);
    *out = o;
    return 0;
}

/* ---- debug ---- */

/* The first most non-blank lines of s, right-trimmed and joined by "\n",
 * with "..." appended when lines were left out. Returns it (owns) or
 * NULL. */
static char *first_lines(const char *s, int most)
{
    size_t o = 0;
    int kept = 0;
    char *buf = malloc(strlen(s) + 4);

    if (buf == NULL)
        return NULL;
    while (*s != '\0') {
        const char *nl = strchr(s, '\n');
        size_t len = nl != NULL ? (size_t)(nl - s) : strlen(s), end = len, start = 0;

        while (end > 0 && is_blank(s[end - 1]))
            end--;
        while (start < end && is_blank(s[start]))
            start++;
        if (start < end) {
            if (kept == most) {
                memcpy(buf + o, "...", 3);
                o += 3;
                break;
            }
            if (kept > 0)
                buf[o++] = '\n';
            memcpy(buf + o, s, end);
            o += end;
            kept++;
        }
        s += len + (nl != NULL);
    }
    buf[o] = '\0';
    return buf;
}

static int add_explanation(cJSON *out, const cJSON *in, struct why *w)
{
    const cJSON *v = member(in, "explanation");
    char *lines;
    int rc;

    if (need_string(v, "explanation", w) < 0)
        return -1;
    lines = first_lines(v->valuestring, DEBUG_EXPLANATION_LINES);
    if (lines == NULL)
        return fail(w, "out of memory");
    rc = add_clean(out, "explanation", lines, DEBUG_EXPLANATION_MAX, w);
    free(lines);
    return rc > 0 ? fail(w, "\"explanation\" is empty: give a non-empty string") : rc;
}

/* 1 when diff holds a line starting with a hunk header "@@ -". */
static int has_hunk(const char *diff)
{
    return strncmp(diff, "@@ -", 4) == 0 || strstr(diff, "\n@@ -") != NULL;
}

static int add_fix(cJSON *out, const cJSON *in, struct why *w)
{
    const cJSON *v = member(in, "fix");
    const char *s;

    if (v != NULL && !cJSON_IsString(v))
        return fail(w, "\"fix\" must be a unified diff string, or null");
    for (s = v != NULL ? v->valuestring : ""; is_blank(*s); s++)
        ;
    if (*s == '\0')
        return cJSON_AddNullToObject(out, "fix") != NULL ? 0 : fail(w, "out of memory");
    if (strlen(v->valuestring) > PATCH_MAX)
        return fail(w, "\"fix\" is longer than %d bytes: give a minimal diff, or null",
                    PATCH_MAX);
    if (!has_hunk(v->valuestring))
        return fail(w, "\"fix\" is not a unified diff: it needs \"@@ -l,n +l,n @@\" hunks "
                       "(or give null)");
    if (redact_diff_adds_mark(v->valuestring))
        return fail(w, "\"fix\" adds a line holding \"" REDACT_MARK "...]\": that would write the "
                       "placeholder into the code; leave lines with secrets as they are (or give "
                       "null)");
    return cJSON_AddStringToObject(out, "fix", v->valuestring) != NULL
               ? 0
               : fail(w, "out of memory");
}

static int add_confidence(cJSON *out, const cJSON *in, struct why *w)
{
    const cJSON *v = member(in, "confidence");

    if (v == NULL)
        return fail(w, "the JSON object has no \"confidence\" number (0 to 1)");
    if (!cJSON_IsNumber(v))
        return fail(w, "\"confidence\" must be a number from 0 to 1");
    if (!(v->valuedouble >= 0 && v->valuedouble <= 1))
        return fail(w, "\"confidence\" is %g: it must be from 0 to 1", v->valuedouble);
    return cJSON_AddNumberToObject(out, "confidence", answer_confidence(v->valuedouble)) != NULL
               ? 0
               : fail(w, "out of memory");
}

static int add_findings(cJSON *out, const cJSON *in, struct why *w)
{
    const cJSON *v = member(in, "findings");
    cJSON *arr;
    int dropped = 0;

    if (v != NULL && !cJSON_IsArray(v))
        return fail(w, "\"findings\" must be an array of finding objects, or left out");
    arr = answer_findings(v, &dropped);
    if (arr == NULL || !cJSON_AddItemToObject(out, "findings", arr)) {
        cJSON_Delete(arr);
        return fail(w, "out of memory");
    }
    return cJSON_AddNumberToObject(out, "findings_dropped", dropped) != NULL
               ? 0
               : fail(w, "out of memory");
}

static const struct array_rule steps_rule = {"non-empty strings", 1, DEBUG_STEPS_MAX,
                                             DEBUG_STEP_MAX, NULL};

static int debug_add(cJSON *out, const cJSON *in, size_t index, struct why *w)
{
    (void)index;
    if (add_text(out, in, "root_cause", NULL, DEBUG_ROOT_CAUSE_MAX, w) < 0 ||
        add_explanation(out, in, w) < 0 || add_fix(out, in, w) < 0 ||
        add_array(out, in, "verification_steps", &steps_rule, w) < 0 ||
        add_confidence(out, in, w) < 0 || add_findings(out, in, w) < 0)
        return -1;
    return 0;
}

int debug_answer_parse(const char *text, size_t len, cJSON **out, char *why, size_t cap)
{
    return parse_with(text, len, DEBUG_SHAPE, debug_add, out, why, cap);
}

/* ---- architecture ---- */

/* The diagram as header task_answer.h describes it, in buf (strlen(s) + 1
 * bytes); returns its length and its line count in *lines. */
static size_t diagram_clean(const char *s, char *buf, size_t *lines)
{
    size_t o = 0;

    *lines = 0;
    while (*s != '\0') {
        const char *nl = strchr(s, '\n');
        size_t len = nl != NULL ? (size_t)(nl - s) : strlen(s), end = len;

        /* Control characters become spaces: at a line's end, trimmed. */
        while (end > 0 && (is_blank(s[end - 1]) || (unsigned char)s[end - 1] < 0x20 ||
                           s[end - 1] == 0x7f))
            end--;
        if (end > 0 || o > 0) {         /* blank lines at the top go */
            for (size_t i = 0; i < end; i++) {
                unsigned char c = (unsigned char)s[i];
                buf[o++] = (c < 0x20 && c != '\t') || c == 0x7f ? ' ' : (char)c;
            }
            buf[o++] = '\n';
        }
        s += len + (nl != NULL);
    }
    while (o > 0 && buf[o - 1] == '\n')     /* and those at the bottom */
        o--;
    buf[o] = '\0';
    for (size_t i = 0; i < o; i++)
        *lines += buf[i] == '\n';
    *lines += o > 0;
    return o;
}

static int add_diagram(cJSON *out, const cJSON *in, struct why *w)
{
    const cJSON *v = member(in, "diagram");
    size_t n, lines;
    char *buf;
    int rc = -1;

    if (need_string(v, "diagram", w) < 0)
        return -1;
    buf = malloc(strlen(v->valuestring) + 1);
    if (buf == NULL)
        return fail(w, "out of memory");
    n = diagram_clean(v->valuestring, buf, &lines);
    if (n == 0)
        fail(w, "\"diagram\" is empty: draw the components as ASCII art");
    else if (lines < ARCH_DIAGRAM_LINES_MIN)
        fail(w, "\"diagram\" has %zu line: draw ASCII art of at least %d lines, separated by "
                "\\n", lines, ARCH_DIAGRAM_LINES_MIN);
    else if (n > ARCH_DIAGRAM_MAX)
        fail(w, "\"diagram\" is %zu bytes: draw it in at most %d", n, ARCH_DIAGRAM_MAX);
    else if (cJSON_AddStringToObject(out, "diagram", utf8_sanitize(buf)) == NULL)
        fail(w, "out of memory");
    else
        rc = 0;
    free(buf);
    return rc;
}

static int module_add(cJSON *out, const cJSON *in, size_t index, struct why *w)
{
    char where[WHERE_MAX];

    snprintf(where, sizeof where, "modules[%zu].name", index);
    if (add_text(out, in, "name", where, ARCH_NAME_MAX, w) < 0)
        return -1;
    snprintf(where, sizeof where, "modules[%zu].responsibility", index);
    return add_text(out, in, "responsibility", where, ARCH_RESPONSIBILITY_MAX, w);
}

static const struct array_rule modules_rule = {"objects", 1, ARCH_MODULES_MAX, 0, module_add};
static const struct array_rule arch_list_rule = {"non-empty strings", 1, ARCH_ITEMS_MAX,
                                                 ARCH_ITEM_MAX, NULL};

static int arch_add(cJSON *out, const cJSON *in, size_t index, struct why *w)
{
    static const char *const lists[] = {"data_flow", "security", "scaling", "cost"};

    (void)index;
    if (add_text(out, in, "summary", NULL, ARCH_SUMMARY_MAX, w) < 0 ||
        add_diagram(out, in, w) < 0 || add_array(out, in, "modules", &modules_rule, w) < 0)
        return -1;
    for (size_t i = 0; i < COUNT(lists); i++)
        if (add_array(out, in, lists[i], &arch_list_rule, w) < 0)
            return -1;
    return 0;
}

int arch_answer_parse(const char *text, size_t len, cJSON **out, char *why, size_t cap)
{
    return parse_with(text, len, ARCH_SHAPE, arch_add, out, why, cap);
}

/* ---- stress ---- */

/* "METHOD /path" from s, normalised into buf (STRESS_ENDPOINT_MAX + 1
 * bytes); 0, or -1 when s is not one. */
static int endpoint_normalise(const char *s, char *buf)
{
    const char *m, *p, *end;
    size_t mlen;
    int n;

    while (is_blank(*s))
        s++;
    for (m = s; (*m >= 'A' && *m <= 'Z') || (*m >= 'a' && *m <= 'z'); m++)
        ;
    mlen = (size_t)(m - s);
    for (p = m; *p == ' ' || *p == '\t'; p++)
        ;
    if (p == m || *p != '/')
        return -1;
    for (end = p; (unsigned char)*end > 0x20 && *end != 0x7f; end++)
        ;
    for (const char *t = end; *t != '\0'; t++)
        if (!is_blank(*t))
            return -1;
    for (size_t i = 0; i < COUNT(http_methods); i++) {
        if (strlen(http_methods[i]) != mlen || strncasecmp(s, http_methods[i], mlen) != 0)
            continue;
        n = snprintf(buf, STRESS_ENDPOINT_MAX + 1, "%s %.*s", http_methods[i],
                     (int)(end - p), p);
        return n > 0 && n <= STRESS_ENDPOINT_MAX ? 0 : -1;
    }
    return -1;
}

static int add_endpoint(cJSON *out, const cJSON *in, size_t index, struct why *w)
{
    const cJSON *v = member(in, "endpoint");
    char buf[STRESS_ENDPOINT_MAX + 1], where[WHERE_MAX];

    snprintf(where, sizeof where, "suggestions[%zu].endpoint", index);
    if (need_string(v, where, w) < 0)
        return -1;
    if (endpoint_normalise(v->valuestring, buf) < 0)
        return fail(w, "\"%s\" must be \"METHOD /path\" as in the table (e.g. \"GET /items\"), "
                       "at most %d bytes", where, STRESS_ENDPOINT_MAX);
    return cJSON_AddStringToObject(out, "endpoint", buf) != NULL ? 0 : fail(w, "out of memory");
}

/* The kind s names (canonical or synonym), or NULL; *oom set when memory
 * ran out. */
static const char *kind_lookup(const char *s, int *oom)
{
    /* Trimmed; a longer name than any ends in "..." and matches none. */
    char *said = answer_text_copy(s, KIND_SAID_MAX);
    const char *kind = NULL;

    *oom = said == NULL;
    if (said == NULL)
        return NULL;
    for (char *c = said; *c != '\0'; c++)
        *c = (*c == '-' || *c == ' ') ? '_' : *c;
    for (size_t i = 0; i < COUNT(stress_kinds) && kind == NULL; i++)
        if (strcasecmp(said, stress_kinds[i].said) == 0)
            kind = stress_kinds[i].kind;
    free(said);
    return kind;
}

static int add_kind(cJSON *out, const cJSON *in, size_t index, struct why *w)
{
    const cJSON *v = member(in, "kind");
    char where[WHERE_MAX];
    const char *kind;
    int oom;

    snprintf(where, sizeof where, "suggestions[%zu].kind", index);
    if (need_string(v, where, w) < 0)
        return -1;
    kind = kind_lookup(v->valuestring, &oom);
    if (oom)
        return fail(w, "out of memory");
    if (kind == NULL)
        return fail(w, "\"%s\" must be one of caching, index, pagination, batching, "
                       "connection_pool, payload, rate_limit, async, other", where);
    return cJSON_AddStringToObject(out, "kind", kind) != NULL ? 0 : fail(w, "out of memory");
}

static int suggestion_add(cJSON *out, const cJSON *in, size_t index, struct why *w)
{
    const cJSON *impact = member(in, "expected_impact");
    char where[WHERE_MAX];

    if (add_endpoint(out, in, index, w) < 0 || add_kind(out, in, index, w) < 0)
        return -1;
    snprintf(where, sizeof where, "suggestions[%zu].advice", index);
    if (add_text(out, in, "advice", where, STRESS_ADVICE_MAX, w) < 0)
        return -1;
    if (impact == NULL)
        return 0;
    if (!cJSON_IsString(impact))
        return fail(w, "\"suggestions[%zu].expected_impact\" must be a string, or left out",
                    index);
    return add_clean(out, "expected_impact", impact->valuestring, STRESS_IMPACT_MAX, w) < 0
               ? -1
               : 0;
}

/* None is a whole answer: every endpoint fast and error-free. */
static const struct array_rule suggestions_rule = {"objects", 0, STRESS_SUGGESTIONS_MAX, 0,
                                                   suggestion_add};

static int stress_add(cJSON *out, const cJSON *in, size_t index, struct why *w)
{
    (void)index;
    if (add_text(out, in, "summary", NULL, STRESS_SUMMARY_MAX, w) < 0)
        return -1;
    return add_array(out, in, "suggestions", &suggestions_rule, w);
}

int stress_answer_parse(const char *text, size_t len, cJSON **out, char *why, size_t cap)
{
    return parse_with(text, len, STRESS_SHAPE, stress_add, out, why, cap);
}
