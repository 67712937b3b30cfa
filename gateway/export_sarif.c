/* export_sarif.c - a job's view as a SARIF 2.1.0 log (export_sarif.h). */
#include "gateway/export_sarif.h"

#include "common/crypto.h"
#include "common/utf8.h"
#include "gateway/export.h"
#include "gateway/finding_view.h"
#include "gateway/fix_blocks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes of a percent-encoded artifact URI, at most: a longer file_path
 * (never accepted at submission) leaves the location out. */
#define SARIF_URI_MAX 4096

static const char *sarif_level(const char *severity)
{
    if (severity != NULL && (strcmp(severity, "critical") == 0 || strcmp(severity, "major") == 0))
        return "error";
    if (severity != NULL && strcmp(severity, "minor") == 0)
        return "warning";
    return "note";
}

/* GitHub's code scanning ranks security alerts by this (0.0-10.0, a string). */
static const char *security_severity(const char *severity)
{
    if (severity == NULL)
        return "1.0";
    if (strcmp(severity, "critical") == 0)
        return "9.0";
    if (strcmp(severity, "major") == 0)
        return "7.0";
    if (strcmp(severity, "minor") == 0)
        return "4.0";
    return "1.0";
}

/* path as a relative URI reference: '\' becomes '/', and every byte but
 * RFC 3986 unreserved characters and '/' is percent-encoded (so a ':' in
 * the first segment cannot read as a scheme). 0, or -1 when it does not fit. */
static int uri_encode(const char *path, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;

    for (const unsigned char *p = (const unsigned char *)path; *p != '\0'; p++) {
        unsigned char c = *p == '\\' ? '/' : *p;
        int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~' ||
                    c == '/';
        if (n + (plain ? 1 : 3) >= cap)
            return -1;
        if (plain) {
            out[n++] = (char)c;
        } else {
            out[n++] = '%';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        }
    }
    if (n == 0 || cap == 0)
        return -1;
    out[n] = '\0';
    return 0;
}

void sarif_fingerprint(const char *path, const char *rule_id, const char *message,
                       char out[17])
{
    struct crypto_sha256_state st;
    char hex[65], buf[256];
    size_t n = 0;
    int space = 0, digit = 0;

    crypto_sha256_init(&st);
    crypto_sha256_update(&st, path ? path : "", strlen(path ? path : "") + 1);
    crypto_sha256_update(&st, rule_id ? rule_id : "", strlen(rule_id ? rule_id : "") + 1);
    for (const unsigned char *p = (const unsigned char *)(message ? message : ""); *p; p++) {
        unsigned char c = *p;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
            space = n > 0 || space;     /* leading whitespace is dropped */
            digit = 0;
            continue;
        }
        if (c >= '0' && c <= '9') {
            if (digit)
                continue;
            digit = 1;
            c = '0';
        } else {
            digit = 0;
            if (c >= 'A' && c <= 'Z')
                c = (unsigned char)(c - 'A' + 'a');
        }
        if (n + 2 > sizeof buf) {
            crypto_sha256_update(&st, buf, n);
            n = 0;
        }
        if (space)
            buf[n++] = ' ';
        space = 0;
        buf[n++] = (char)c;
    }
    crypto_sha256_update(&st, buf, n);
    crypto_sha256_final_hex(&st, hex);
    memcpy(out, hex, 16);
    out[16] = '\0';
}

/* {"text": text} */
static cJSON *message(const char *text)
{
    cJSON *m = cJSON_CreateObject();

    cJSON_AddStringToObject(m, "text", text ? text : "");
    return m;
}

static cJSON *artifact_location(const char *uri)
{
    cJSON *a = cJSON_CreateObject();

    cJSON_AddStringToObject(a, "uri", uri);
    cJSON_AddStringToObject(a, "uriBaseId", "%SRCROOT%");
    return a;
}

/* The finding's region: only what is known (SARIF defaults the rest to
 * whole lines). NULL when it has no line. */
static cJSON *finding_region(const cJSON *f)
{
    long line = finding_num(f, "line"), col = finding_num(f, "column");
    long end = finding_num(f, "end_line");
    cJSON *r;

    if (line == 0)
        return NULL;
    r = cJSON_CreateObject();
    cJSON_AddNumberToObject(r, "startLine", (double)line);
    if (col > 0)
        cJSON_AddNumberToObject(r, "startColumn", (double)col);
    if (end > line)
        cJSON_AddNumberToObject(r, "endLine", (double)end);
    return r;
}

/* 1 when s is our timestamp shape, "YYYY-MM-DDTHH:MM:SS[.fff]Z". */
static int rfc3339(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    size_t i;

    if (s == NULL)
        return 0;
    for (i = 0; shape[i] != '\0'; i++)
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
            return 0;
    if (s[i] == '.') {
        if (s[++i] < '0' || s[i] > '9')
            return 0;
        while (s[i] >= '0' && s[i] <= '9')
            i++;
    }
    return s[i] == 'Z' && s[i + 1] == '\0';
}

/* The index of rule_id in rules, adding it (described by the finding f)
 * when new. -1 when out of memory. */
static int rule_index(cJSON *rules, const char *rule_id, const cJSON *f)
{
    const char *category = json_str(f, "category"), *source = json_str(f, "source");
    const char *msg = json_str(f, "message");
    char desc[160], help[160];
    int i = 0;
    cJSON *r, *it, *props, *tags, *cfg;

    cJSON_ArrayForEach(it, rules) {
        const char *id = json_str(it, "id");
        if (id != NULL && strcmp(id, rule_id) == 0)
            return i;
        i++;
    }
    if ((r = cJSON_CreateObject()) == NULL)
        return -1;
    cJSON_AddItemToArray(rules, r);
    cJSON_AddStringToObject(r, "id", rule_id);
    if (strncmp(rule_id, "model:", 6) == 0) {
        /* The model's messages differ per finding: name the category. */
        utf8_fmt(desc, sizeof desc, "Model review: %s", rule_id + 6);
        msg = desc;
    }
    cJSON_AddItemToObject(r, "shortDescription", message(msg ? msg : rule_id));
    cfg = cJSON_AddObjectToObject(r, "defaultConfiguration");
    cJSON_AddStringToObject(cfg, "level", sarif_level(json_str(f, "severity")));
    if (finding_help_uri(f, help, sizeof help))
        cJSON_AddStringToObject(r, "helpUri", help);
    props = cJSON_AddObjectToObject(r, "properties");
    if (category != NULL)
        cJSON_AddStringToObject(props, "category", category);
    tags = cJSON_AddArrayToObject(props, "tags");
    if (category != NULL)
        cJSON_AddItemToArray(tags, cJSON_CreateString(category));
    if (source != NULL)
        cJSON_AddItemToArray(tags, cJSON_CreateString(source));
    if (category != NULL && strcmp(category, "security") == 0)
        cJSON_AddStringToObject(props, "security-severity",
                                security_severity(json_str(f, "severity")));
    return i;
}

/* ":n", n counting earlier results with the same fingerprint base. */
static void occurrence(const cJSON *results, const char *base, char *out, size_t cap)
{
    const cJSON *it;
    int n = 1;
    size_t blen = strlen(base);

    cJSON_ArrayForEach(it, results) {
        const char *h = json_str(cJSON_GetObjectItemCaseSensitive(it, "partialFingerprints"),
                                 "primaryLocationLineHash");
        if (h != NULL && strncmp(h, base, blen) == 0 && h[blen] == ':')
            n++;
    }
    snprintf(out, cap, "%s:%d", base, n);
}

static cJSON *region_of(long line, long column, long end_line, long end_column)
{
    cJSON *r = cJSON_CreateObject();

    cJSON_AddNumberToObject(r, "startLine", (double)line);
    cJSON_AddNumberToObject(r, "startColumn", (double)column);
    cJSON_AddNumberToObject(r, "endLine", (double)end_line);
    cJSON_AddNumberToObject(r, "endColumn", (double)end_column);
    return r;
}

/* The finding's fix as a SARIF fix: one replacement per change block, its
 * deleted region exactly the old text the block replaces (whole lines with
 * their newlines: end at column 1 of the next line), empty for an
 * insertion. NULL when the diff cannot be read (it was checked to apply
 * when the job ran, so only a corrupt row gets here). */
static cJSON *fix_of(const char *diff, const char *uri, const char *source)
{
    struct fix_blocks fb;
    cJSON *fix, *change, *repls;
    char desc[96];

    if (fix_blocks_parse(diff, strlen(diff), &fb) < 0)
        return NULL;
    fix = cJSON_CreateObject();
    utf8_fmt(desc, sizeof desc, "Suggested fix%s%s", source ? " from " : "", source ? source : "");
    cJSON_AddItemToObject(fix, "description", message(desc));
    change = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(fix, "artifactChanges"), change);
    cJSON_AddItemToObject(change, "artifactLocation", artifact_location(uri));
    repls = cJSON_AddArrayToObject(change, "replacements");
    for (size_t i = 0; i < fb.n; i++) {
        const struct fix_block *b = &fb.v[i];
        cJSON *r = cJSON_CreateObject();
        cJSON_AddItemToObject(r, "deletedRegion",
                              region_of(b->old_start, 1, b->end_line, b->end_column));
        if (b->text_len > 0)    /* absent: a pure deletion */
            cJSON_AddStringToObject(cJSON_AddObjectToObject(r, "insertedContent"), "text", b->text);
        cJSON_AddItemToArray(repls, r);
    }
    fix_blocks_cleanup(&fb);
    return fix;
}

static cJSON *result_of(const cJSON *f, int idx, const char *path, const char *uri,
                        cJSON *rules, const cJSON *results)
{
    const char *rule_id = finding_rule(f);
    const char *msg = json_str(f, "message"), *source = json_str(f, "source");
    const char *category = json_str(f, "category"), *severity = json_str(f, "severity");
    const cJSON *conf = cJSON_GetObjectItemCaseSensitive(f, "confidence");
    char base[17], fp[48], fid[24];
    cJSON *r, *loc, *phys, *region, *props, *fix;
    int ri;

    if ((ri = rule_index(rules, rule_id, f)) < 0 || (r = cJSON_CreateObject()) == NULL)
        return NULL;
    cJSON_AddStringToObject(r, "ruleId", rule_id);
    cJSON_AddNumberToObject(r, "ruleIndex", ri);
    cJSON_AddStringToObject(r, "level", sarif_level(severity));
    cJSON_AddItemToObject(r, "message", message(msg));
    if (uri != NULL) {
        loc = cJSON_CreateObject();
        phys = cJSON_AddObjectToObject(loc, "physicalLocation");
        cJSON_AddItemToObject(phys, "artifactLocation", artifact_location(uri));
        if ((region = finding_region(f)) != NULL)
            cJSON_AddItemToObject(phys, "region", region);
        cJSON_AddItemToArray(cJSON_AddArrayToObject(r, "locations"), loc);
    }
    if (uri != NULL && finding_fix(f) != NULL &&
        (fix = fix_of(finding_fix(f), uri, source)) != NULL)
        cJSON_AddItemToArray(cJSON_AddArrayToObject(r, "fixes"), fix);
    sarif_fingerprint(path, rule_id, msg, base);
    occurrence(results, base, fp, sizeof fp);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(r, "partialFingerprints"),
                            "primaryLocationLineHash", fp);
    props = cJSON_AddObjectToObject(r, "properties");
    cJSON_AddStringToObject(props, "finding_id", finding_id(f, idx, fid, sizeof fid));
    if (severity != NULL)
        cJSON_AddStringToObject(props, "severity", severity);
    if (category != NULL)
        cJSON_AddStringToObject(props, "category", category);
    if (source != NULL)
        cJSON_AddStringToObject(props, "source", source);
    if (cJSON_IsNumber(conf))
        cJSON_AddNumberToObject(props, "confidence", conf->valuedouble);
    return r;
}

static void notify(cJSON *list, const char *level, const char *text)
{
    cJSON *n = cJSON_CreateObject();

    cJSON_AddStringToObject(n, "level", level);
    cJSON_AddItemToObject(n, "message", message(text));
    cJSON_AddItemToArray(list, n);
}

static cJSON *invocation(const cJSON *view)
{
    const char *status = json_str(view, "status"), *error = json_str(view, "error");
    const char *started = json_str(view, "started_at"), *finished = json_str(view, "finished_at");
    const char *reason = json_str(view, "degraded_reason");
    const cJSON *notes = cJSON_GetObjectItemCaseSensitive(view, "notes"), *it;
    cJSON *inv = cJSON_CreateObject(), *list;
    int ok = status != NULL && strcmp(status, "done") == 0;
    char text[160];

    cJSON_AddBoolToObject(inv, "executionSuccessful", ok);
    if (rfc3339(started))
        cJSON_AddStringToObject(inv, "startTimeUtc", started);
    if (rfc3339(finished))
        cJSON_AddStringToObject(inv, "endTimeUtc", finished);
    list = cJSON_AddArrayToObject(inv, "toolExecutionNotifications");
    if (!ok)
        notify(list, "error", error ? error : "the job failed");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(view, "degraded"))) {
        /* The reason may quote a vendor's error: cut on a character. */
        utf8_fmt(text, sizeof text, "The model review did not run: %s",
                 reason ? reason : "degraded");
        notify(list, "warning", text);
    }
    cJSON_ArrayForEach(it, notes)
        if (cJSON_IsString(it))
            notify(list, "note", it->valuestring);
    return inv;
}

/* A debug job's diagnosis, as one more result (finding_view.h). */
static void add_diagnosis(const cJSON *view, int idx, cJSON *rules, cJSON *results)
{
    const char *dpath;
    char duri[SARIF_URI_MAX];
    cJSON *d = finding_view_diagnosis(view, &dpath), *r;

    if (d != NULL && uri_encode(dpath, duri, sizeof duri) == 0 &&
        (r = result_of(d, idx, dpath, duri, rules, results)) != NULL)
        cJSON_AddItemToArray(results, r);
    cJSON_Delete(d);
}

cJSON *export_sarif(const cJSON *view, const char *info_uri)
{
    const char *path = json_str(view, "file_path"), *lang = json_str(view, "language");
    const char *status = json_str(view, "status");
    const cJSON *findings = cJSON_GetObjectItemCaseSensitive(view, "findings"), *f;
    char uri_buf[SARIF_URI_MAX];
    const char *uri = NULL;
    cJSON *log = cJSON_CreateObject(), *run, *driver, *rules, *results;
    int idx = 0;

    if (log == NULL)
        return NULL;
    if (path != NULL && uri_encode(path, uri_buf, sizeof uri_buf) == 0)
        uri = uri_buf;
    cJSON_AddStringToObject(log, "$schema", SARIF_SCHEMA_URI);
    cJSON_AddStringToObject(log, "version", "2.1.0");
    run = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(log, "runs"), run);
    driver = cJSON_AddObjectToObject(cJSON_AddObjectToObject(run, "tool"), "driver");
    cJSON_AddStringToObject(driver, "name", EXPORT_TOOL_NAME);
    cJSON_AddStringToObject(driver, "version", EXPORT_TOOL_VERSION);
    if (info_uri != NULL && info_uri[0] != '\0')
        cJSON_AddStringToObject(driver, "informationUri", info_uri);
    rules = cJSON_AddArrayToObject(driver, "rules");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(run, "invocations"), invocation(view));
    if (uri != NULL) {
        cJSON *art = cJSON_CreateObject();
        cJSON_AddItemToObject(art, "location", artifact_location(uri));
        if (lang != NULL)
            cJSON_AddStringToObject(art, "sourceLanguage", lang);
        cJSON_AddItemToArray(cJSON_AddArrayToObject(run, "artifacts"), art);
    }
    cJSON_AddStringToObject(run, "columnKind", "unicodeCodePoints");
    results = cJSON_AddArrayToObject(run, "results");
    if (status != NULL && strcmp(status, "done") == 0) {
        cJSON_ArrayForEach(f, findings) {
            cJSON *r = cJSON_IsObject(f) ? result_of(f, idx, path, uri, rules, results) : NULL;
            if (r != NULL)
                cJSON_AddItemToArray(results, r);
            idx++;
        }
        add_diagnosis(view, idx, rules, results);
    }
    return log;
}
