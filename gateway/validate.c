/* validate.c - request validation for POST /review. */
#include "gateway/validate.h"

#include "common/err.h"
#include "common/relpath.h"
#include "common/stress_spec.h"
#include "common/target_policy.h"
#include "common/utf8.h"
#include "gateway/validate_diff.h"
#include "gateway/body.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A file_path that is not text (not UTF-8, or holding "\u0000") is an
 * invalid file path: rc as body.c said it, with that code for file_path. */
static int as_file_path(int rc, struct err *e)
{
    char msg[sizeof e->msg];

    if (rc != ERR_INVALID_ENCODING || strcmp(e->field, "file_path") != 0)
        return rc;
    snprintf(msg, sizeof msg, "%s", e->msg);
    return err_set_field(e, ERR_INVALID_FILE_PATH, "file_path", "%s", msg);
}

/* Type-checks an optional string member (body_string). Returns 0 or an
 * error. */
static int opt_string(const cJSON *doc, const char *name, size_t max, const char **out,
                      struct err *e)
{
    return as_file_path(body_string(doc, name, max, out, e), e);
}

static int int_member(const cJSON *obj, const char *name, const char *field, int required,
                      long *out, struct err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    double d;

    if (v == NULL || cJSON_IsNull(v)) {
        if (required)
            return err_set_field(e, ERR_MISSING_FIELD, field, "%s is required", field);
        return 1;   /* absent */
    }
    if (!cJSON_IsNumber(v))
        return err_set_field(e, ERR_INVALID_FIELD_TYPE, field, "%s must be an integer", field);
    d = v->valuedouble;
    if (d != floor(d))
        return err_set_field(e, ERR_INVALID_FIELD_TYPE, field, "%s must be an integer", field);
    if (d < 1 || d > REVIEW_CURSOR_LINE_MAX)
        return err_set_field(e, ERR_INVALID_FIELD_VALUE, field, "%s must be between 1 and %d",
                             field, REVIEW_CURSOR_LINE_MAX);
    *out = (long)d;
    return ERR_OK;
}

static int parse_cursor(const cJSON *doc, struct review_request *r, struct err *e)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(doc, "cursor_context");
    int rc;

    if (c == NULL || cJSON_IsNull(c))
        return ERR_OK;
    if (!cJSON_IsObject(c))
        return err_set_field(e, ERR_INVALID_FIELD_TYPE, "cursor_context",
                             "cursor_context must be an object {line, end_line?}");
    rc = int_member(c, "line", "cursor_context.line", 1, &r->cursor_line, e);
    if (rc != ERR_OK)
        return rc;
    rc = int_member(c, "end_line", "cursor_context.end_line", 0, &r->cursor_end_line, e);
    if (rc == 1)
        r->cursor_end_line = r->cursor_line;
    else if (rc != ERR_OK)
        return rc;
    if (r->cursor_end_line < r->cursor_line)
        return err_set_field(e, ERR_INVALID_FIELD_VALUE, "cursor_context.end_line",
                             "cursor_context.end_line must not be before line");
    r->has_cursor = 1;
    return ERR_OK;
}

static int language_ok(char *lang)
{
    for (char *p = lang; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (!isalnum(c) && c != '+' && c != '#' && c != '-' && c != '_' && c != '.')
            return 0;
        *p = (char)tolower(c);
    }
    return lang[0] != '\0';
}

/* A JSON value printed for the queue; ERR_INTERNAL when out of memory. */
static int print_into(const cJSON *v, char **out, struct err *e)
{
    *out = cJSON_PrintUnformatted(v);
    return *out ? ERR_OK : err_set(e, ERR_INTERNAL, "out of memory");
}

/* Rewrites a relpath_valid path in place in its normal form ("./src//a.py"
 * -> "src/a.py": never longer), so that every later use, the sandbox's
 * tree and a fix's "+++" header among them, sees one spelling. A segment
 * longer than a file name can be is refused. */
static int path_normalize(char *path, const char *field, struct err *e)
{
    char buf[REVIEW_FILE_PATH_MAX + 2];

    if (strlen(path) >= sizeof buf || relpath_normal(path, buf, sizeof buf) != 0)
        return err_set_field(e, ERR_INVALID_FILE_PATH, field, "%s has a segment longer than "
                             "%d bytes, which no file name can be", field, RELPATH_NAME_MAX);
    memcpy(path, buf, strlen(buf) + 1);
    return ERR_OK;
}

/* One element of `files`: {path, content}; adds its size to *total. */
static int debug_file(const cJSON *f, int i, const struct review_request *r, const cJSON *seen,
                      size_t *total, struct err *e)
{
    char field[48];
    const cJSON *p, *c, *s;
    const char *other;
    size_t n;

    snprintf(field, sizeof field, "files[%d]", i);
    if (!cJSON_IsObject(f))
        return err_set_field(e, ERR_INVALID_FIELD_TYPE, field, "%s must be an object {path, "
                             "content}", field);
    p = cJSON_GetObjectItemCaseSensitive(f, "path");
    c = cJSON_GetObjectItemCaseSensitive(f, "content");
    snprintf(field, sizeof field, "files[%d].path", i);
    if (!cJSON_IsString(p))
        return err_set_field(e, p ? ERR_INVALID_FIELD_TYPE : ERR_MISSING_FIELD, field,
                             "%s must be a string", field);
    n = strlen(p->valuestring);
    if (n > REVIEW_FILE_PATH_MAX)
        return err_set_field(e, ERR_FIELD_TOO_LONG, field, "%s is %zu bytes; the limit is %d",
                             field, n, REVIEW_FILE_PATH_MAX);
    if (!relpath_valid(p->valuestring, n))
        return err_set_field(e, ERR_INVALID_FILE_PATH, field, "%s must be relative, without "
                             "'..' segments or control characters", field);
    if (path_normalize(p->valuestring, field, e) != ERR_OK)
        return e->code;
    if ((other = relpath_clash(p->valuestring, r->file_path) ? r->file_path : NULL) == NULL)
        cJSON_ArrayForEach(s, seen)
            if (relpath_clash(p->valuestring, s->string)) {
                other = s->string;
                break;
            }
    if (other != NULL)
        return err_set_field(e, ERR_INVALID_FIELD_VALUE, field, strcmp(other, p->valuestring) == 0
                             ? "%s repeats the path %s" : "%s (%s) and %s cannot both be files: "
                             "one would be a directory holding the other", field, p->valuestring,
                             other);
    snprintf(field, sizeof field, "files[%d].content", i);
    if (!cJSON_IsString(c))
        return err_set_field(e, c ? ERR_INVALID_FIELD_TYPE : ERR_MISSING_FIELD, field,
                             "%s must be a string", field);
    n = strlen(c->valuestring);
    *total += n;
    if (*total > DEBUG_FILES_TOTAL_MAX)
        return err_set_field(e, ERR_FIELD_TOO_LONG, "files", "files hold more than %d bytes "
                             "together", DEBUG_FILES_TOTAL_MAX);
    if (!utf8_valid(c->valuestring, n, NULL))
        return err_set_field(e, ERR_INVALID_ENCODING, field, "%s is not valid UTF-8", field);
    return ERR_OK;
}

static int debug_files(const cJSON *doc, struct review_request *r, struct err *e)
{
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(doc, "files"), *f;
    cJSON *seen, *out;
    size_t total = 0;
    int i = 0, rc = ERR_OK;

    if (files == NULL || cJSON_IsNull(files))
        return ERR_OK;
    if (!cJSON_IsArray(files))
        return err_set_field(e, ERR_INVALID_FIELD_TYPE, "files",
                             "files must be an array of {path, content}");
    if (cJSON_GetArraySize(files) > DEBUG_FILES_MAX)
        return err_set_field(e, ERR_INVALID_FIELD_VALUE, "files", "files holds at most %d "
                             "files", DEBUG_FILES_MAX);
    seen = cJSON_CreateObject();
    out = cJSON_CreateArray();
    if (seen == NULL || out == NULL)
        rc = err_set(e, ERR_INTERNAL, "out of memory");
    cJSON_ArrayForEach(f, files) {
        cJSON *o;
        if (rc != ERR_OK || (rc = debug_file(f, i++, r, seen, &total, e)) != ERR_OK)
            break;
        cJSON_AddTrueToObject(seen, json_str(f, "path"));
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "path", json_str(f, "path"));
        cJSON_AddStringToObject(o, "content", json_str(f, "content"));
        cJSON_AddItemToArray(out, o);
    }
    r->input_bytes += total;
    if (rc == ERR_OK)
        rc = print_into(out, &r->files, e);
    cJSON_Delete(seen);
    cJSON_Delete(out);
    return rc;
}

static int same_path(const char *path, const char *want)
{
    return strcmp(path, want) == 0;
}

/* A C source, as cc needs (want unused). */
static int c_source(const char *path, const char *want)
{
    size_t n = strlen(path);

    (void)want;
    return n > 2 && strcmp(path + n - 2, ".c") == 0;
}

/* Whether match(path, want) holds for the main file or one of `files`. */
static int debug_any_file(const cJSON *doc, const struct review_request *r,
                          int (*match)(const char *path, const char *want), const char *want)
{
    const cJSON *f;

    if (match(r->file_path, want))
        return 1;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(doc, "files")) {
        const char *p = json_str(f, "path");
        if (p != NULL && match(p, want))
            return 1;
    }
    return 0;
}

static int debug_run(const cJSON *doc, struct review_request *r, struct err *e)
{
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(doc, "run"), *runner, *entry, *args, *a;
    cJSON *out, *oargs;
    char field[32];
    int i = 0, rc;

    if (run == NULL || cJSON_IsNull(run))
        return ERR_OK;
    if (!cJSON_IsObject(run))
        return err_set_field(e, ERR_INVALID_FIELD_TYPE, "run",
                             "run must be an object {runner, entry?, args?}");
    runner = cJSON_GetObjectItemCaseSensitive(run, "runner");
    entry = cJSON_GetObjectItemCaseSensitive(run, "entry");
    args = cJSON_GetObjectItemCaseSensitive(run, "args");
    if (runner == NULL)
        return err_set_field(e, ERR_MISSING_FIELD, "run.runner", "run.runner is required");
    if (!cJSON_IsString(runner))
        return err_set_field(e, ERR_INVALID_FIELD_TYPE, "run.runner", "run.runner must be a "
                             "string");
    if (!job_runner_valid(runner->valuestring))
        return err_set_field(e, ERR_INVALID_FIELD_VALUE, "run.runner", "run.runner must be "
                             "python, pytest, node, sh, bash or cc");
    if (entry != NULL && !cJSON_IsNull(entry)) {
        if (!cJSON_IsString(entry))
            return err_set_field(e, ERR_INVALID_FIELD_TYPE, "run.entry", "run.entry must be a "
                                 "string");
        if (relpath_valid(entry->valuestring, strlen(entry->valuestring)) &&
            path_normalize(entry->valuestring, "run.entry", e) != ERR_OK)
            return e->code;
        if (!debug_any_file(doc, r, same_path, entry->valuestring))
            return err_set_field(e, ERR_INVALID_FIELD_VALUE, "run.entry", "run.entry must name "
                                 "file_path or one of files");
    }
    if (strcmp(runner->valuestring, "cc") == 0 && !debug_any_file(doc, r, c_source, NULL))
        return err_set_field(e, ERR_INVALID_FIELD_VALUE, "run.runner", "run.runner cc compiles "
                             "the .c files: file_path or one of files must end in .c");
    if (args != NULL && !cJSON_IsNull(args)) {
        if (!cJSON_IsArray(args))
            return err_set_field(e, ERR_INVALID_FIELD_TYPE, "run.args", "run.args must be an "
                                 "array of strings");
        if (cJSON_GetArraySize(args) > DEBUG_RUN_ARGS_MAX)
            return err_set_field(e, ERR_INVALID_FIELD_VALUE, "run.args", "run.args holds at "
                                 "most %d arguments", DEBUG_RUN_ARGS_MAX);
        cJSON_ArrayForEach(a, args) {
            snprintf(field, sizeof field, "run.args[%d]", i++);
            if (!cJSON_IsString(a))
                return err_set_field(e, ERR_INVALID_FIELD_TYPE, field, "%s must be a string",
                                     field);
            if (strlen(a->valuestring) > DEBUG_RUN_ARG_MAX)
                return err_set_field(e, ERR_FIELD_TOO_LONG, field, "%s is longer than %d "
                                     "bytes", field, DEBUG_RUN_ARG_MAX);
            if (!utf8_valid(a->valuestring, strlen(a->valuestring), NULL))
                return err_set_field(e, ERR_INVALID_ENCODING, field, "%s is not valid UTF-8",
                                     field);
        }
    }
    out = cJSON_CreateObject();
    oargs = args && cJSON_IsArray(args) ? cJSON_Duplicate(args, 1) : cJSON_CreateArray();
    cJSON_AddStringToObject(out, "runner", runner->valuestring);
    if (cJSON_IsString(entry))
        cJSON_AddStringToObject(out, "entry", entry->valuestring);
    else if (strcmp(runner->valuestring, "cc") != 0 && strcmp(runner->valuestring, "pytest") != 0)
        cJSON_AddStringToObject(out, "entry", r->file_path);
    cJSON_AddItemToObject(out, "args", oargs);
    rc = print_into(out, &r->run, e);
    cJSON_Delete(out);
    return rc;
}

static int debug_check(const cJSON *doc, struct review_request *r, struct err *e)
{
    int rc;

    if ((rc = debug_files(doc, r, e)) != ERR_OK || (rc = debug_run(doc, r, e)) != ERR_OK)
        return rc;
    if (r->error_log == NULL && r->run == NULL)
        return err_set_field(e, ERR_MISSING_FIELD, "error_log", "a debug job needs error_log "
                             "(the failure's output), run (how to reproduce it), or both");
    return ERR_OK;
}

static int arch_check(const cJSON *doc, struct review_request *r, struct err *e)
{
    static const struct { const char *name; size_t max; } fields[] = {
        {"user_request", ARCH_USER_REQUEST_MAX}, {"stack", ARCH_FIELD_MAX},
        {"scale", ARCH_FIELD_MAX}, {"db", ARCH_FIELD_MAX}, {"file_tree", ARCH_FILE_TREE_MAX},
    };
    cJSON *spec = cJSON_CreateObject();
    int rc = spec ? ERR_OK : err_set(e, ERR_INTERNAL, "out of memory");

    for (size_t i = 0; rc == ERR_OK && i < sizeof fields / sizeof fields[0]; i++) {
        const char *v;
        if ((rc = opt_string(doc, fields[i].name, fields[i].max, &v, e)) != ERR_OK)
            break;
        if (i == 0 && (v == NULL || v[strspn(v, " \t\r\n")] == '\0'))
            rc = err_set_field(e, ERR_MISSING_FIELD, "user_request", "an architecture job "
                               "needs user_request: what to build");
        else if (v != NULL) {
            cJSON_AddStringToObject(spec, fields[i].name, v);
            r->input_bytes += strlen(v);
        }
    }
    if (rc == ERR_OK)
        rc = print_into(spec, &r->spec, e);
    cJSON_Delete(spec);
    return rc;
}

/* The spec, then the target: a refused host answers before anything queues. */
static int stress_check(const cJSON *doc, struct review_request *r, const struct config *cfg,
                        const struct target_policy *policy, struct err *e)
{
    struct stress_spec *spec = NULL;
    cJSON *canon;
    int rc;

    if (cfg == NULL || policy == NULL || !target_policy_enabled(policy))
        return err_set(e, ERR_FEATURE_DISABLED, "stress tests are off: an operator must set "
                       "CODEINSIGHT_STRESS_ALLOWED_HOSTS");
    if ((rc = stress_spec_parse(doc, cfg, &spec, e)) != ERR_OK)
        return rc;
    if ((rc = target_policy_check_url(policy, spec->base_url, e)) != ERR_OK) {
        if (e != NULL)
            snprintf(e->field, sizeof e->field, "base_url");
        stress_spec_free(spec);
        return rc;
    }
    canon = stress_spec_to_json(spec);
    if (canon != NULL)
        rc = print_into(canon, &r->spec, e);
    else
        rc = err_set(e, ERR_INTERNAL, "out of memory");
    cJSON_Delete(canon);
    stress_spec_free(spec);
    return rc;
}

static int review_check(struct review_request *r, const struct config *cfg,
                        const struct target_policy *policy, struct err *e)
{
    const cJSON *doc = r->doc;
    const char *type, *filter;
    int rc, t;

    /* Types first, so the error names the first malformed field. */
    if ((rc = opt_string(doc, "request_type", 0, &type, e)) != ERR_OK ||
        (rc = opt_string(doc, "file_path", REVIEW_FILE_PATH_MAX, &r->file_path, e)) != ERR_OK ||
        (rc = opt_string(doc, "file_content", 0, &r->file_content, e)) != ERR_OK ||
        (rc = opt_string(doc, "language", REVIEW_LANGUAGE_MAX, &r->language, e)) != ERR_OK ||
        (rc = opt_string(doc, "repo_id", REVIEW_REPO_ID_MAX, &r->repo_id, e)) != ERR_OK ||
        (rc = opt_string(doc, "diff", REVIEW_DIFF_MAX, &r->diff, e)) != ERR_OK ||
        (rc = opt_string(doc, "filter", REVIEW_FILTER_MAX, &filter, e)) != ERR_OK ||
        (rc = opt_string(doc, "error_log", REVIEW_ERROR_LOG_MAX, &r->error_log, e)) != ERR_OK ||
        (rc = parse_cursor(doc, r, e)) != ERR_OK)
        return rc;

    if (type == NULL)
        return err_set_field(e, ERR_MISSING_FIELD, "request_type", "request_type is required "
                             "(review, debug, architecture or stress)");
    t = job_type_parse(type);
    if (t < 0)
        return err_set_field(e, ERR_INVALID_REQUEST_TYPE, "request_type",
                             "request_type must be review, debug, architecture or stress");
    r->type = (enum job_type)t;
    if (r->file_path != NULL && !relpath_valid(r->file_path, strlen(r->file_path)))
        return err_set_field(e, ERR_INVALID_FILE_PATH, "file_path",
                             "file_path must be relative, without '..' segments or control "
                             "characters");
    if (r->file_path != NULL &&
        (rc = path_normalize((char *)r->file_path, "file_path", e)) != ERR_OK)
        return rc;
    if (r->language != NULL && !language_ok((char *)r->language))
        return err_set_field(e, ERR_INVALID_FIELD_VALUE, "language",
                             "language may hold letters, digits and + # - _ . only");
    /* Refused, not ignored, where review_diff_check is not reached. */
    if (filter != NULL && (r->type == JOB_ARCHITECTURE || r->type == JOB_STRESS))
        return err_set_field(e, ERR_INVALID_FIELD_VALUE, "filter",
                             "filter applies to review requests only");
    if (r->type == JOB_ARCHITECTURE)
        return arch_check(doc, r, e);
    if (r->type == JOB_STRESS)
        return stress_check(doc, r, cfg, policy, e);
    if (r->file_path == NULL)
        return err_set_field(e, ERR_MISSING_FIELD, "file_path", "file_path is required");
    if (r->file_content == NULL)
        return err_set_field(e, ERR_MISSING_FIELD, "file_content", "file_content is required");
    if ((rc = review_diff_check(r, filter, e)) != ERR_OK)
        return rc;
    r->input_bytes = strlen(r->file_content) + (r->diff ? strlen(r->diff) : 0) +
                     (r->error_log ? strlen(r->error_log) : 0);
    return r->type == JOB_DEBUG ? debug_check(doc, r, e) : ERR_OK;
}

int review_parse(const char *body, size_t len, const struct config *cfg,
                 const struct target_policy *policy, struct review_request *out, struct err *e)
{
    int rc;

    memset(out, 0, sizeof *out);
    if ((rc = body_parse_fields(body, len, &out->doc, e)) != ERR_OK)
        return as_file_path(rc, e);
    rc = review_check(out, cfg, policy, e);
    if (rc != ERR_OK)
        review_request_cleanup(out);
    return rc;
}

void review_request_cleanup(struct review_request *r)
{
    cJSON_Delete(r->doc);
    free(r->files);
    free(r->run);
    free(r->spec);
    free(r->diff_section);
    memset(r, 0, sizeof *r);
}
