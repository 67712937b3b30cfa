/* keys.c - the caller's API keys: create (shown once), list, revoke. */
#include "gateway/handlers.h"

#include "common/account.h"
#include "common/config.h"
#include "common/crypto.h"
#include "common/db.h"
#include "common/err.h"
#include "common/kv.h"
#include "common/log.h"
#include "gateway/auth.h"
#include "gateway/body.h"
#include "gateway/gate.h"
#include "gateway/gateway.h"
#include "gateway/ident_cache.h"
#include "gateway/key_revoke.h"
#include "gateway/request.h"
#include "gateway/respond.h"

#include <stdio.h>
#include <string.h>

/* Drops what the identity cache may hold for a new key's hash: only a
 * negative answer can be there (auth_fill_cache), for a guessed key. A
 * failure is logged; the key is issued all the same. */
static void forget_unknown(struct request *req, const char *key)
{
    char hash[65], cache[AUTH_CACHE_KEY_MAX];
    struct err e;
    struct kv *kv;

    account_key_hash(key, strlen(key), req->gw->cfg->key_pepper, hash);
    auth_key_cache_key(cache, hash);
    if ((kv = gateway_kv(req->gw, &e)) == NULL ||
        kv_call(kv, 2, (const char *[]){"DEL", cache}, NULL, NULL, &e) != ERR_OK) {
        struct log_line l;
        log_begin(&l, LOG_WARN, "api_key_cache_clear_failed");
        log_str(&l, "request_id", req->request_id);
        log_errfields(&l, &e);
        log_end(&l);
    }
}

void handle_keys_create(struct request *req)
{
    const struct identity *who = &req->who;
    struct account_key k;
    struct err e;
    struct db *db;
    cJSON *doc, *b;
    const char *name;

    if (body_parse_fields(req->body, req->body_len, &doc, &e) != ERR_OK) {
        respond_error(req, &e);
        return;
    }
    if (body_string_required(doc, "name", ACCOUNT_KEY_NAME_MAX, &name, &e) != ERR_OK) {
        cJSON_Delete(doc);
        respond_error(req, &e);
        return;
    }
    if ((db = gateway_db(req->gw, &e)) == NULL ||
        account_key_issue(db, who->user_id, name, req->gw->cfg->key_pepper, &k, &e) != ERR_OK) {
        cJSON_Delete(doc);
        gate_respond_error(req, &e);
        return;
    }
    forget_unknown(req, k.key);
    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "key_id", k.key_id);
    cJSON_AddStringToObject(b, "name", name);
    cJSON_AddStringToObject(b, "prefix", k.prefix);
    cJSON_AddStringToObject(b, "key", k.key);
    cJSON_AddStringToObject(b, "created_at", k.created_at);
    crypto_wipe(k.key, sizeof k.key);
    cJSON_Delete(doc);
    {
        struct log_line l;
        log_begin(&l, LOG_INFO, "api_key_issued");
        log_str(&l, "request_id", req->request_id);
        log_str(&l, "user_id", who->user_id);
        log_str(&l, "key_id", k.key_id);
        log_end(&l);
    }
    respond_json(req, 201, b);
}

void handle_keys_list(struct request *req)
{
    const struct identity *who = &req->who;
    struct err e;
    struct db *db;
    cJSON *keys = NULL, *b;

    if ((db = gateway_db(req->gw, &e)) == NULL ||
        account_key_list(db, who->user_id, &keys, &e) != ERR_OK) {
        gate_respond_error(req, &e);
        return;
    }
    b = cJSON_CreateObject();
    cJSON_AddItemToObject(b, "keys", keys);
    respond_json(req, 200, b);
}

void handle_keys_revoke(struct request *req)
{
    const struct identity *who = &req->who;
    struct err e;
    struct db *db;
    struct kv *kv;
    char hash[65], cache[AUTH_CACHE_KEY_MAX];

    if ((db = gateway_db(req->gw, &e)) == NULL ||
        account_key_revoke(db, req->param, who->user_id, hash, &e) != ERR_OK) {
        if (e.code == ERR_NOT_FOUND)
            err_set(&e, ERR_NOT_FOUND, "no such key");
        gate_respond_error(req, &e);
        return;
    }
    /* At once, on every replica: the cached identity and its copy for
     * PostgreSQL outages say revoked. */
    auth_key_cache_key(cache, hash);
    if ((kv = gateway_kv(req->gw, &e)) == NULL || key_revoke_cached(kv, hash, &e) != ERR_OK) {
        /* The row is revoked, but until Redis says so too the key still works
         * from a copy during a PostgreSQL outage: 503, and the client's retry
         * (revoking again changes nothing in PostgreSQL) writes it. */
        struct log_line l;
        log_begin(&l, LOG_WARN, "api_key_revoke_cache_failed");
        log_str(&l, "request_id", req->request_id);
        log_str(&l, "user_id", who->user_id);
        log_str(&l, "key_id", req->param);
        log_errfields(&l, &e);
        log_end(&l);
        idc_forget(req->gw->idents, cache);
        err_set(&e, ERR_REDIS_UNAVAILABLE,
                "the key is revoked but not every gateway could be told yet: retry");
        gate_respond_error(req, &e);
        return;
    }
    /* After Redis says revoked, so no request here can copy it back: one
     * whose script ran before is not recorded either (idc_record's gen). */
    idc_forget(req->gw->idents, cache);
    {
        struct log_line l;
        log_begin(&l, LOG_INFO, "api_key_revoked");
        log_str(&l, "request_id", req->request_id);
        log_str(&l, "user_id", who->user_id);
        log_str(&l, "key_id", req->param);
        log_end(&l);
    }
    respond_empty(req, 204);
}
