/* answer.c - the model's answer: strict parsing with a reason the model can
 * act on (answer_validate.c checks it against the submitted file,
 * answer_merge.c merges it with the linter and secret findings). */
#include "worker/answer.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/patch.h"
#include "common/utf8.h"

/* Line numbers past this are out of any file we accept. */
#define LINE_MAX_NO 1000000000.0

/* Bytes of the answer quoted in a reason. */
#define WHY_QUOTE 24

/* What an answer that ends before its JSON object does is told: cut short,
 * most likely at the output token limit, so asking for the object alone
 * would get as long an answer again. */
#define WHY_UNFINISHED "the JSON object is not complete, it stops at \"%s\" (cut short at " \
                       "the output limit?): report fewer findings with shorter messages " \
                       "and fixes, so that the whole object fits"

/* The object answer_parse asks for when the answer is empty or an array. */
#define REVIEW_SHAPE "{\"findings\": [...], \"summary\": \"...\"}"

static const char *const severities[] = {"critical", "major", "minor", "info"};

_Static_assert(sizeof severities / sizeof severities[0] == ANSWER_SEVERITIES,
               "ANSWER_SEVERITIES names them all");

const char *answer_severity_name(int i)
{
    return severities[i];
}

void answer_count_severities(const cJSON *findings, int counts[ANSWER_SEVERITIES])
{
    const cJSON *f;

    memset(counts, 0, ANSWER_SEVERITIES * sizeof counts[0]);
    cJSON_ArrayForEach(f, findings) {
        const char *v = json_str(f, "severity");
        for (int i = 0; v != NULL && i < ANSWER_SEVERITIES; i++)
            if (strcmp(v, severities[i]) == 0)
                counts[i]++;
    }
}

static const char *const categories[] = {"syntax",          "correctness", "security",
                                         "performance",     "maintainability", "style",
                                         "documentation"};

/* Lenient spellings, compared case-insensitively. */
static const struct synonym {
    const char *said;
    const char *meant;
} severity_synonyms[] = {
    {"blocker", "critical"}, {"fatal", "critical"},   {"high", "major"},
    {"error", "major"},      {"severe", "major"},     {"serious", "major"},
    {"medium", "minor"},     {"moderate", "minor"},   {"low", "minor"},
    {"warning", "minor"},    {"warn", "minor"},       {"note", "info"},
    {"suggestion", "info"},  {"hint", "info"},        {"information", "info"},
    {"informational", "info"},
}, category_synonyms[] = {
    {"bug", "correctness"},          {"logic", "correctness"},
    {"correct", "correctness"},      {"reliability", "correctness"},
    {"concurrency", "correctness"},  {"error-handling", "correctness"},
    {"vulnerability", "security"},   {"vuln", "security"},
    {"perf", "performance"},         {"efficiency", "performance"},
    {"design", "maintainability"},   {"readability", "maintainability"},
    {"complexity", "maintainability"}, {"maintenance", "maintainability"},
    {"architecture", "maintainability"}, {"duplication", "maintainability"},
    {"formatting", "style"},         {"format", "style"},
    {"naming", "style"},             {"convention", "style"},
    {"docs", "documentation"},       {"doc", "documentation"},
    {"comment", "documentation"},    {"comments", "documentation"},
    {"compile", "syntax"},           {"compilation", "syntax"},
    {"parse", "syntax"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void why_set(char *why, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void why_set(char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;

    if (why == NULL || cap == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
}

/* Up to WHY_QUOTE bytes of s[0..n) for a reason, printable ASCII only. */
static void quote(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;

    for (size_t i = 0; i < n && i < WHY_QUOTE && o + 1 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : ' ';
    }
    out[o] = '\0';
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The last WHY_QUOTE bytes of s[0..n), as quote() writes them. */
static void quote_tail(const char *s, size_t n, char *out, size_t cap)
{
    size_t k = n < WHY_QUOTE ? n : WHY_QUOTE;

    quote(s + n - k, k, out, cap);
}

/* Whether JSON text s[0..n) stops inside a string or with a bracket still
 * open: the end of an answer cut short, not a syntax error in it. */
static int unfinished(const char *s, size_t n)
{
    long depth = 0;
    int in_str = 0;

    for (size_t i = 0; i < n; i++) {
        if (in_str) {
            if (s[i] == '\\')
                i++;
            else if (s[i] == '"')
                in_str = 0;
        } else if (s[i] == '"') {
            in_str = 1;
        } else if (s[i] == '{' || s[i] == '[') {
            depth++;
        } else if (s[i] == '}' || s[i] == ']') {
            depth--;
        }
    }
    return in_str || depth > 0;
}


double answer_confidence(double x)
{
    return round(x * 1000.0) / 1000.0;
}

/* 1 for what trimming takes off a string's ends: white space, and the
 * control characters the copy would turn into spaces. */
static int is_trimmed(char c)
{
    unsigned char u = (unsigned char)c;

    return u != '\0' && (u <= 0x20 || u == 0x7f);
}

char *answer_text_copy(const char *s, size_t max)
{
    size_t len, keep;
    char *out;

    while (is_trimmed(*s))
        s++;
    len = strlen(s);
    while (len > 0 && is_trimmed(s[len - 1]))
        len--;
    keep = len > max ? utf8_cut(s, len, max - 3) : len;
    out = malloc(keep + 4);
    if (out == NULL)
        return NULL;
    memcpy(out, s, keep);
    if (keep < len) {
        memcpy(out + keep, "...", 3);
        keep += 3;
    }
    out[keep] = '\0';
    for (size_t i = 0; i < keep; i++) {
        unsigned char c = (unsigned char)out[i];
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
            out[i] = ' ';
    }
    if (!utf8_valid(out, keep, NULL))
        utf8_sanitize(out);
    return out;
}

/* The canonical name for s among names[], or through synonyms; NULL when
 * unknown. */
static const char *enum_lookup(const char *s, const char *const *names, size_t n,
                               const struct synonym *syn, size_t nsyn)
{
    char buf[32];
    size_t len;

    if (s == NULL)
        return NULL;
    while (is_space(*s))
        s++;
    len = strlen(s);
    while (len > 0 && is_space(s[len - 1]))
        len--;
    if (len == 0 || len >= sizeof(buf))
        return NULL;
    for (size_t i = 0; i < len; i++)
        buf[i] = (s[i] == '_' || s[i] == ' ') ? '-' : s[i];
    buf[len] = '\0';
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(buf, names[i]) == 0)
            return names[i];
    for (size_t i = 0; i < nsyn; i++)
        if (strcasecmp(buf, syn[i].said) == 0)
            return syn[i].meant;
    return NULL;
}

int answer_line_no(const cJSON *v)
{
    double d;

    if (!cJSON_IsNumber(v))
        return 0;
    d = v->valuedouble;
    return d >= 1 && d <= LINE_MAX_NO && (double)(long)d == d;
}

const cJSON *answer_member(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

    return (v == NULL || cJSON_IsNull(v)) ? NULL : v;
}

/* Builds the normalised copy of one model finding. Returns 1 and *out
 * (owns), 0 when the entry has the wrong shape, -1 when out of memory. */
static int finding_normalise(const cJSON *in, cJSON **out)
{
    const cJSON *line, *end_line, *conf, *fix, *msg;
    const char *sev, *cat;
    char *text = NULL;
    char rule_id[32];
    double confidence = ANSWER_CONFIDENCE_DEFAULT;
    cJSON *f;

    *out = NULL;
    if (!cJSON_IsObject(in))
        return 0;
    line = cJSON_GetObjectItemCaseSensitive(in, "line");
    end_line = answer_member(in, "end_line");
    conf = answer_member(in, "confidence");
    fix = answer_member(in, "fix");
    msg = cJSON_GetObjectItemCaseSensitive(in, "message");
    sev = enum_lookup(json_str(in, "severity"), severities, COUNT(severities),
                      severity_synonyms, COUNT(severity_synonyms));
    cat = enum_lookup(json_str(in, "category"), categories, COUNT(categories),
                      category_synonyms, COUNT(category_synonyms));
    if (!answer_line_no(line) || sev == NULL || cat == NULL)
        return 0;
    if (end_line != NULL && (!answer_line_no(end_line) || end_line->valuedouble < line->valuedouble))
        return 0;
    if (conf != NULL) {
        if (!cJSON_IsNumber(conf) || !(conf->valuedouble >= 0 && conf->valuedouble <= 1))
            return 0;
        confidence = answer_confidence(conf->valuedouble);
    }
    if (fix != NULL && !cJSON_IsString(fix))
        return 0;
    if (!cJSON_IsString(msg))
        return 0;
    text = answer_text_copy(msg->valuestring, ANSWER_MESSAGE_MAX);
    if (text == NULL)
        return -1;
    if (text[0] == '\0') {
        free(text);
        return 0;
    }

    /* The API's findings all carry a rule_id; the model's name its category. */
    snprintf(rule_id, sizeof(rule_id), "model:%s", cat);
    f = cJSON_CreateObject();
    if (f == NULL || cJSON_AddNumberToObject(f, "line", line->valuedouble) == NULL ||
        (end_line != NULL &&
         cJSON_AddNumberToObject(f, "end_line", end_line->valuedouble) == NULL) ||
        cJSON_AddStringToObject(f, "severity", sev) == NULL ||
        cJSON_AddStringToObject(f, "category", cat) == NULL ||
        cJSON_AddStringToObject(f, "rule_id", rule_id) == NULL ||
        cJSON_AddStringToObject(f, "message", text) == NULL)
        goto oom;
    /* A fix that cannot be a valid diff is left out; the finding stays. */
    if (fix != NULL && fix->valuestring[0] != '\0' && strlen(fix->valuestring) <= PATCH_MAX &&
        cJSON_AddStringToObject(f, "fix", fix->valuestring) == NULL)
        goto oom;
    if (cJSON_AddNumberToObject(f, "confidence", confidence) == NULL ||
        cJSON_AddStringToObject(f, "source", "model") == NULL)
        goto oom;
    free(text);
    *out = f;
    return 1;
oom:
    free(text);
    cJSON_Delete(f);
    return -1;
}

/* Finds the JSON inside text: the whole (trimmed) text, or the inside of
 * one ``` / ```json fence. Returns 0 with [*start, *end), or -1 with why. */
static int unwrap(const char *text, size_t len, const char *shape, const char **start,
                  const char **end, char *why, size_t cap)
{
    const char *s = text, *e = text + len;
    char q[WHY_QUOTE + 1];

    while (s < e && is_space(*s))
        s++;
    while (e > s && is_space(e[-1]))
        e--;
    if (s == e) {
        why_set(why, cap, "the answer is empty: answer with the JSON object %s", shape);
        return -1;
    }
    if (e - s >= 3 && memcmp(s, "```", 3) == 0) {
        const char *body = s + 3;
        if (e - body >= 4 && strncasecmp(body, "json", 4) == 0)
            body += 4;
        while (body < e && (*body == ' ' || *body == '\t' || *body == '\r'))
            body++;
        if (body >= e || *body != '\n') {
            why_set(why, cap, "the opening ``` fence must be followed by a line break "
                              "(only ```json is allowed); better, answer with the JSON object "
                              "only, without a fence");
            return -1;
        }
        body++;
        if (e - body < 3 || memcmp(e - 3, "```", 3) != 0) {
            why_set(why, cap, "the ```json fence is not closed by a ``` line at the very end, "
                              "or text follows it: answer with the JSON object only");
            return -1;
        }
        e -= 3;
        if (memmem(body, (size_t)(e - body), "```", 3) != NULL) {
            why_set(why, cap, "the answer holds more than one ``` fence: answer with one JSON "
                              "object only");
            return -1;
        }
        s = body;
        while (s < e && is_space(*s))
            s++;
        while (e > s && is_space(e[-1]))
            e--;
        if (s == e) {
            why_set(why, cap, "the ```json fence is empty: answer with the JSON object");
            return -1;
        }
    }
    if (*s == '[') {
        why_set(why, cap, "the answer is a JSON array; it must be one object %s", shape);
        return -1;
    }
    if (*s != '{') {
        quote(s, (size_t)(e - s), q, sizeof(q));
        why_set(why, cap,
                "the answer must be the JSON object alone, but it begins with \"%s\"%s: no "
                "prose or markdown before or after the JSON",
                q, memchr(s, '{', (size_t)(e - s)) != NULL ? " before the '{'" : "");
        return -1;
    }
    if (e[-1] != '}') {
        const char *last = e;
        cJSON *done;
        while (last > s && last[-1] != '}')
            last--;
        /* Text follows the object when the object ends at that '}';
         * else, with brackets still open, the answer was cut short. */
        done = last > s ? cJSON_ParseWithLength(s, (size_t)(last - s)) : NULL;
        if (done == NULL && unfinished(s, (size_t)(e - s))) {
            quote_tail(s, (size_t)(e - s), q, sizeof(q));
            why_set(why, cap, WHY_UNFINISHED, q);
            return -1;
        }
        cJSON_Delete(done);
        quote(last, (size_t)(e - last), q, sizeof(q));
        why_set(why, cap,
                "the answer must be the JSON object alone, but text follows its closing '}' "
                "(\"%s\"): no prose or markdown before or after the JSON", q);
        return -1;
    }
    *start = s;
    *end = e;
    return 0;
}

cJSON *answer_json_object(const char *text, size_t len, const char *shape, char *why,
                          size_t cap)
{
    const char *s = NULL, *e = NULL, *parse_end = NULL;
    char key[64], q[WHY_QUOTE + 1];
    cJSON *doc;
    size_t at;

    if (why != NULL && cap > 0)
        why[0] = '\0';
    if (text == NULL)
        len = 0;
    if (len > ANSWER_TEXT_MAX) {
        why_set(why, cap, "the answer is longer than %d bytes: keep messages and fixes short",
                ANSWER_TEXT_MAX);
        return NULL;
    }
    if (len > 0 && memchr(text, '\0', len) != NULL) {
        why_set(why, cap, "the answer contains a NUL byte");
        return NULL;
    }
    if (unwrap(text != NULL ? text : "", len, shape, &s, &e, why, cap) < 0)
        return NULL;
    if (!utf8_valid(s, (size_t)(e - s), &at)) {
        why_set(why, cap, "the answer is not valid UTF-8 at byte %zu", at);
        return NULL;
    }
    if (json_raw_control(s, (size_t)(e - s), &at)) {
        why_set(why, cap,
                "raw control character (a line break or tab) inside a JSON string at byte %zu: "
                "escape it as \\n or \\t", at);
        return NULL;
    }
    if (json_find_nul_escape(s, (size_t)(e - s), key, sizeof(key))) {
        why_set(why, cap, "\\u0000 inside a JSON string%s%s%s: leave it out",
                key[0] ? " (member \"" : "", key, key[0] ? "\")" : "");
        return NULL;
    }
    doc = cJSON_ParseWithLengthOpts(s, (size_t)(e - s), &parse_end, 0);
    if (doc == NULL && unfinished(s, (size_t)(e - s))) {
        quote_tail(s, (size_t)(e - s), q, sizeof(q));
        why_set(why, cap, WHY_UNFINISHED, q);
        return NULL;
    }
    if (doc == NULL) {
        at = (parse_end != NULL && parse_end >= s && parse_end <= e) ? (size_t)(parse_end - s) : 0;
        quote(s + at, (size_t)(e - s) - at, q, sizeof(q));
        why_set(why, cap, "malformed JSON near byte %zu (\"%s\"): answer with one valid JSON "
                          "object", at, q);
        return NULL;
    }
    while (parse_end < e && is_space(*parse_end))
        parse_end++;
    if (parse_end != e) {
        quote(parse_end, (size_t)(e - parse_end), q, sizeof(q));
        why_set(why, cap, "text after the JSON object at byte %zu (\"%s\"): answer with one "
                          "JSON object only", (size_t)(parse_end - s), q);
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

cJSON *answer_findings(const cJSON *arr, int *dropped)
{
    const cJSON *item;
    cJSON *out = cJSON_CreateArray();
    int kept = 0, drop = 0;

    if (out == NULL || !cJSON_IsArray(arr))
        return out;
    cJSON_ArrayForEach(item, arr) {
        cJSON *f;
        int rc = finding_normalise(item, &f);
        if (rc < 0) {
            cJSON_Delete(out);
            return NULL;
        }
        if (rc == 0 || kept == ANSWER_FINDINGS_MAX) {
            cJSON_Delete(f);
            drop++;
            continue;
        }
        cJSON_AddItemToArray(out, f);
        kept++;
    }
    if (dropped != NULL)
        *dropped = drop;
    return out;
}

int answer_parse(const char *text, size_t len, cJSON **findings, char **summary, int *dropped,
                 char *why, size_t cap)
{
    const char *sum;
    cJSON *doc, *out = NULL;
    const cJSON *arr;
    char *sumcopy = NULL;
    int drop = 0;

    *findings = NULL;
    *summary = NULL;
    if (dropped != NULL)
        *dropped = 0;
    doc = answer_json_object(text, len, REVIEW_SHAPE, why, cap);
    if (doc == NULL)
        return -1;
    arr = cJSON_GetObjectItemCaseSensitive(doc, "findings");
    if (arr == NULL) {
        why_set(why, cap, "the JSON object has no \"findings\" member: give \"findings\": [] "
                          "when there is nothing to report");
        goto fail;
    }
    if (!cJSON_IsArray(arr)) {
        why_set(why, cap, "\"findings\" must be an array of finding objects");
        goto fail;
    }
    sum = json_str(doc, "summary");
    if (sum == NULL) {
        why_set(why, cap, "the JSON object has no \"summary\" string");
        goto fail;
    }
    sumcopy = answer_text_copy(sum, ANSWER_SUMMARY_MAX);
    if (sumcopy == NULL)
        goto oom;
    if (sumcopy[0] == '\0') {
        why_set(why, cap, "\"summary\" is empty: say in a sentence or two what you found");
        goto fail;
    }
    out = answer_findings(arr, &drop);
    if (out == NULL)
        goto oom;
    cJSON_Delete(doc);
    *findings = out;
    *summary = sumcopy;
    if (dropped != NULL)
        *dropped = drop;
    return 0;
oom:
    why_set(why, cap, "out of memory");
fail:
    cJSON_Delete(doc);
    free(sumcopy);
    return -1;
}

