/* apply_fix.c - POST /apply-fix: a reviewed fix applied, with the caller's
 * approval, to the file the job reviewed; the patched text is returned
 * (nothing is written anywhere else) and the attempt is audited in the same
 * PostgreSQL transaction as reading what it applied. docs/apply-fix.md. */
#include "gateway/handlers.h"

#include "common/clock.h"
#include "common/crypto.h"
#include "common/db.h"
#include "common/err.h"
#include "common/finding_id.h"
#include "common/log.h"
#include "common/patch.h"
#include "common/patch_target.h"
#include "gateway/fix_request.h"
#include "gateway/gate.h"
#include "gateway/gateway.h"
#include "gateway/jobs.h"
#include "gateway/request.h"
#include "gateway/respond.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIX_SQL_SOURCE "SELECT ci_fix_source($1::uuid, $2::uuid, $3)"
#define FIX_SQL_RECORD "SELECT ci_fix_record($1::jsonb)"

/* One attempt, from reading what it applies to until it is recorded. */
struct fix_attempt {
    const struct fix_request *fr;
    const char *file_path;          /* borrowed from source */
    const char *before;             /* the kept file's sha256, borrowed from source */
    char after[65];                 /* the patched text's, "" unless applied */
    const char *outcome;            /* applied | base_mismatch | patch_does_not_apply */
    char *patched;                  /* owns: the patched text when applied */
    cJSON *source;                  /* owns: ci_fix_source()'s answer */
    cJSON *recorded;                /* owns: {audit_id, created_at} */
};

/* The kept file named path, or NULL. */
static const cJSON *kept_file(const cJSON *files, const char *path)
{
    const cJSON *f;

    cJSON_ArrayForEach(f, files) {
        const char *p = json_str(f, "path");
        if (p != NULL && path != NULL && strcmp(p, path) == 0)
            return f;
    }
    return NULL;
}

static const char *kept_path(const void *files, int i)
{
    return json_str(cJSON_GetArrayItem(files, i), "path");
}

/* The kept file a fix applies to: for a finding's fix, the reviewed file
 * (the worker checked it against that one); for a debug job's own fix, the
 * file its "+++ " header names as the worker read it (patch_target: the
 * exact name first, then without "b/"), the reviewed file when it names
 * none. NULL when that file was not kept. */
static const cJSON *fix_file(const cJSON *source, const char *finding_id, const char *fix)
{
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(source, "files");
    const char *main_path = json_str(source, "file_path");
    int i;

    if (strcmp(finding_id, FINDING_ID_JOB_FIX) != 0 || main_path == NULL ||
        patch_names_path(fix, main_path) < 0)
        return kept_file(files, main_path);
    i = patch_target(fix, files, cJSON_GetArraySize(files), kept_path);
    return i >= 0 ? cJSON_GetArrayItem(files, i) : NULL;
}

/* Decides the attempt from what PostgreSQL holds: ERR_OK with a->outcome
 * set (to be recorded), or the refusal that is not recorded. */
static int fix_decide(struct fix_attempt *a, struct err *e)
{
    const struct fix_request *fr = a->fr;
    const cJSON *src = a->source, *file;
    const char *fix = json_str(src, "fix"), *content;
    size_t n;

    if (src == NULL)
        return err_set(e, ERR_JOB_NOT_FOUND, "no job %s", fr->job_id);
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(src, "found")))
        return err_set_field(e, ERR_FINDING_NOT_FOUND, "finding_id", "job %s has no finding %s",
                             fr->job_id, fr->finding_id);
    if (fix == NULL)
        return err_set_field(e, ERR_FIX_NOT_AVAILABLE, "finding_id", "%s %s has no fix to apply",
                             strcmp(fr->finding_id, FINDING_ID_JOB_FIX) == 0 ? "the debug job's"
                             : "finding", fr->finding_id);
    file = fix_file(src, fr->finding_id, fix);
    content = json_str(file, "content");
    a->file_path = json_str(file, "path");
    a->before = json_str(file, "sha256");
    if (content == NULL || a->file_path == NULL || a->before == NULL)
        return err_set_field(e, ERR_FIX_NOT_AVAILABLE, "finding_id", "the file this fix applies "
                             "to was not kept with the job (it names a file that was not "
                             "submitted, or the job predates apply-fix)");
    if (strcmp(a->before, fr->base_sha256) != 0) {
        a->outcome = "base_mismatch";
        return ERR_OK;
    }
    if (patch_apply(content, strlen(content), fix, strlen(fix), &a->patched, &n) != 0) {
        a->outcome = "patch_does_not_apply";
        return ERR_OK;
    }
    crypto_sha256_hex(a->patched, n, a->after);
    a->outcome = "applied";
    return ERR_OK;
}

/* {job_id, finding_id, file_path, base_sha256}: what the audit row and the
 * answer share. Returns it (owns) or NULL when out of memory. */
static cJSON *attempt_object(const struct fix_attempt *a)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, "job_id", a->fr->job_id);
    cJSON_AddStringToObject(o, "finding_id", a->fr->finding_id);
    cJSON_AddStringToObject(o, "file_path", a->file_path);
    cJSON_AddStringToObject(o, "base_sha256", a->fr->base_sha256);
    return o;
}

/* Writes the audit row; a->recorded holds its id and time. */
static int fix_record(struct request *req, struct db *db, struct fix_attempt *a, struct err *e)
{
    char audit_id[CRYPTO_UUID_LEN], addr[64], *text;
    cJSON *doc = attempt_object(a);
    int rc;

    request_client_addr(req, addr, sizeof addr);
    crypto_uuid7(clock_now_us(), audit_id);
    if (doc == NULL)
        return err_set(e, ERR_INTERNAL, "out of memory");
    cJSON_AddStringToObject(doc, "audit_id", audit_id);
    cJSON_AddStringToObject(doc, "user_id", req->who.user_id);
    json_add_str_or_null(doc, "key_id", req->who.key_id);
    cJSON_AddStringToObject(doc, "outcome", a->outcome);
    cJSON_AddStringToObject(doc, "before_sha256", a->before);
    json_add_str_or_null(doc, "after_sha256", a->after);
    cJSON_AddStringToObject(doc, "client_addr", addr);
    cJSON_AddStringToObject(doc, "request_id", req->request_id);
    text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    if (text == NULL)
        return err_set(e, ERR_INTERNAL, "out of memory");
    rc = db_query_json(db, FIX_SQL_RECORD, 1, (const char *[]){text}, &a->recorded, e);
    free(text);
    if (rc == ERR_OK && json_str(a->recorded, "audit_id") == NULL)
        rc = err_set(e, ERR_PROTOCOL, "ci_fix_record returned no audit id");
    return rc;
}

/* Reads, decides and records in one transaction. ERR_OK: a->outcome was
 * recorded and committed. Anything else was rolled back. */
static int fix_attempt_run(struct request *req, struct fix_attempt *a, struct err *e)
{
    const struct fix_request *fr = a->fr;
    struct db *db = gateway_db(req->gw, e);
    int rc;

    if (db == NULL)
        return e->code;
    if ((rc = db_exec(db, "BEGIN", e)) != ERR_OK)
        return rc;
    rc = db_query_json(db, FIX_SQL_SOURCE, 3,
                       (const char *[]){req->who.user_id, fr->job_id, fr->finding_id},
                       &a->source, e);
    if (rc == ERR_OK)
        rc = fix_decide(a, e);
    if (rc == ERR_OK)
        rc = fix_record(req, db, a, e);
    if (rc == ERR_OK)
        rc = db_exec(db, "COMMIT", e);
    else
        db_exec(db, "ROLLBACK", NULL);
    return rc;
}

static void fix_log(const struct request *req, const struct fix_attempt *a)
{
    struct log_line l;

    log_begin(&l, LOG_INFO, strcmp(a->outcome, "applied") == 0 ? "fix_applied" : "fix_refused");
    log_str(&l, "request_id", req->request_id);
    log_str(&l, "user_id", req->who.user_id);
    log_str(&l, "job_id", a->fr->job_id);
    log_str(&l, "finding_id", a->fr->finding_id);
    log_str(&l, "outcome", a->outcome);
    log_str(&l, "audit_id", json_str(a->recorded, "audit_id"));
    log_end(&l);
}

/* The answer to a recorded attempt: 200 with the patched text, or the
 * refusal with the audit id (and, for a mismatch, the reviewed file's hash:
 * it is the caller's own file). */
static void fix_respond(struct request *req, struct fix_attempt *a)
{
    const struct fix_request *fr = a->fr;
    const char *audit_id = json_str(a->recorded, "audit_id");
    struct err e;
    cJSON *b;

    if (strcmp(a->outcome, "applied") == 0) {
        b = attempt_object(a);
        cJSON_AddStringToObject(b, "sha256", a->after);
        cJSON_AddStringToObject(b, "content", a->patched);
        cJSON_AddStringToObject(b, "audit_id", audit_id);
        json_add_str_or_null(b, "applied_at", json_str(a->recorded, "created_at"));
        respond_json(req, 200, b);
        return;
    }
    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "file_path", a->file_path);
    cJSON_AddStringToObject(b, "audit_id", audit_id);
    if (strcmp(a->outcome, "base_mismatch") == 0) {
        cJSON_AddStringToObject(b, "expected_sha256", a->before);
        err_set_field(&e, ERR_BASE_MISMATCH, "base_sha256", "base_sha256 is not the SHA-256 of "
                      "the file job %s reviewed (expected_sha256); review this version first",
                      fr->job_id);
    } else {
        err_set(&e, ERR_PATCH_DOES_NOT_APPLY, "the fix does not apply to the file job %s "
                "reviewed: its context lines differ from the submitted text", fr->job_id);
    }
    respond_error_with(req, &e, b);
}

void handle_apply_fix(struct request *req)
{
    struct fix_request fr;
    struct fix_attempt a = {.fr = &fr};
    struct err e;
    cJSON *view;
    const char *status;

    if (fix_request_parse(req->body, req->body_len, &fr, &e) != ERR_OK) {
        respond_error(req, &e);
        return;
    }
    /* Queued and running jobs exist only in the hot copy: ask it first. */
    view = jobs_view_owned(req, fr.job_id, NULL, &e);
    if (view == NULL) {
        if (e.code == ERR_OK)
            err_set_field(&e, ERR_JOB_NOT_FOUND, "job_id", "no job %s", fr.job_id);
        gate_respond_error(req, &e);
        return;
    }
    status = json_str(view, "status");
    if (status == NULL || strcmp(status, "done") != 0) {
        err_set_field(&e, ERR_JOB_NOT_DONE, "job_id", "job %s is %s: only a done job's fixes "
                      "can be applied", fr.job_id, status ? status : "not done");
        cJSON_Delete(view);
        respond_error(req, &e);
        return;
    }
    cJSON_Delete(view);
    if (fix_attempt_run(req, &a, &e) != ERR_OK)
        gate_respond_error(req, &e);
    else {
        fix_log(req, &a);
        fix_respond(req, &a);
    }
    free(a.patched);
    cJSON_Delete(a.source);
    cJSON_Delete(a.recorded);
}
