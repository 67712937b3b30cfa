/* login.c - POST /auth/login: email + password for a short-lived JWT.
 * Limited per client address and per email before any password is checked. */
#include "gateway/handlers.h"

#include "common/account.h"
#include "common/cidr.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/crypto.h"
#include "common/db.h"
#include "common/err.h"
#include "common/jwt.h"
#include "common/log.h"
#include "common/plans.h"
#include "gateway/auth.h"
#include "gateway/body.h"
#include "gateway/gate.h"
#include "gateway/gateway.h"
#include "gateway/request.h"
#include "gateway/respond.h"

#include <stdio.h>
#include <string.h>

/* Returns 0 when both buckets had a token; else answers 429 or 503. */
static int login_limit_or_respond(struct request *req, const char *email)
{
    char addr[CIDR_TEXT_MAX + 8], ip_key[96], mail_key[96], lower[ACCOUNT_EMAIL_FOLD_MAX];
    char digest[65];
    struct err e;

    /* One bucket for every case of the address, as PostgreSQL finds one
     * user for them (login_fields: whole UTF-8 within ACCOUNT_EMAIL_MAX,
     * so the fold fits; the address as sent otherwise). */
    if (account_email_fold(email, lower, sizeof lower) != 0)
        snprintf(lower, sizeof lower, "%s", email);
    /* Keys hold a digest, never the address itself. */
    crypto_sha256_hex(lower, strlen(lower), digest);
    request_client_bucket(req, addr, sizeof addr);
    snprintf(ip_key, sizeof ip_key, "rl:ip:%s:login", addr);
    snprintf(mail_key, sizeof mail_key, "rl:email:%.32s:login", digest);
    if (gate_buckets(req, 2, (const char *[]){ip_key, mail_key},
                     (const struct rate[]){plans_login_per_ip, plans_login_per_email},
                     "too many login attempts", &e) != 1) {
        gate_respond_error(req, &e);
        return -1;
    }
    return 0;
}

static void login_refused(struct request *req)
{
    struct err e;

    err_set(&e, ERR_INVALID_CREDENTIALS, "wrong email or password");
    auth_respond_401(req, &e);
}

/* email and password: both strings of whole UTF-8 within their limits. */
static int login_fields(const cJSON *doc, const char **email, const char **password,
                        struct err *e)
{
    int rc;

    if ((rc = body_string_required(doc, "email", ACCOUNT_EMAIL_MAX, email, e)) != ERR_OK)
        return rc;
    return body_string_required(doc, "password", ACCOUNT_PASSWORD_MAX, password, e);
}

/* Done with the credentials: the password's bytes, in the parsed document
 * and in the raw body, are wiped before the memory is freed or reused. */
static void forget_credentials(struct request *req, cJSON *doc)
{
    const cJSON *pw = cJSON_GetObjectItemCaseSensitive(doc, "password");

    if (cJSON_IsString(pw))
        crypto_wipe(pw->valuestring, strlen(pw->valuestring));
    cJSON_Delete(doc);
    if (req->body != NULL)
        crypto_wipe(req->body, req->body_len);
}

void handle_login(struct request *req)
{
    struct gateway *gw = req->gw;
    struct err e;
    struct db *db;
    cJSON *doc, *rec = NULL, *b;
    const char *email, *password, *hash;
    struct jwt_claims c;
    char token[1024];
    int ok;

    if (body_parse_fields(req->body, req->body_len, &doc, &e) != ERR_OK) {
        forget_credentials(req, NULL);
        respond_error(req, &e);
        return;
    }
    if (login_fields(doc, &email, &password, &e) != ERR_OK) {
        forget_credentials(req, doc);
        respond_error(req, &e);
        return;
    }
    if (login_limit_or_respond(req, email) != 0) {
        forget_credentials(req, doc);
        return;
    }
    if ((db = gateway_db(gw, &e)) == NULL || account_login_record(db, email, &rec, &e) != ERR_OK) {
        forget_credentials(req, doc);
        gate_respond_error(req, &e);
        return;
    }
    hash = json_str(rec, "password_hash");
    /* Unknown emails verify against a dummy hash: same answer, same time. */
    ok = crypto_password_verify(hash ? hash : gw->dummy_pwhash, password, strlen(password)) &&
         hash != NULL;
    forget_credentials(req, doc);
    if (!ok) {
        cJSON_Delete(rec);
        login_refused(req);
        return;
    }
    memset(&c, 0, sizeof c);
    snprintf(c.sub, sizeof c.sub, "%s", json_str(rec, "user_id"));
    snprintf(c.iss, sizeof c.iss, "%.255s", gw->cfg->jwt_issuer);
    snprintf(c.plan, sizeof c.plan, "%s", json_str(rec, "plan") ? json_str(rec, "plan") : "");
    c.iat = clock_now_s();
    c.exp = c.iat + gw->cfg->jwt_ttl_s;
    c.has_iat = c.has_exp = 1;
    cJSON_Delete(rec);
    if (jwt_sign_hs256(&c, (const unsigned char *)gw->cfg->jwt_secret, strlen(gw->cfg->jwt_secret),
                       token, sizeof token, &e) != ERR_OK) {
        respond_error(req, &e);
        return;
    }
    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "access_token", token);
    cJSON_AddStringToObject(b, "token_type", "Bearer");
    cJSON_AddNumberToObject(b, "expires_in", (double)gw->cfg->jwt_ttl_s);
    crypto_wipe(token, sizeof token);
    respond_json(req, 200, b);
}
