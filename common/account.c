/* account.c - users and API keys. */
#include "common/account.h"

#include "common/crypto.h"
#include "common/db.h"
#include "common/err.h"
#include "common/plans.h"
#include "common/utf8.h"

#include <ctype.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>

int account_key_shape_ok(const char *s, size_t len)
{
    size_t p = sizeof ACCOUNT_KEY_PREFIX - 1;

    if (len != ACCOUNT_KEY_LEN || strncmp(s, ACCOUNT_KEY_PREFIX, p) != 0)
        return 0;
    for (size_t i = p; i < len; i++)
        if (!isalnum((unsigned char)s[i]))
            return 0;
    return 1;
}

void account_key_hash(const char *key, size_t len, const char *pepper, char out[65])
{
    crypto_keyed_hash_hex(pepper, strlen(pepper), key, len, out);
}

/* The locale whose case table account_email_fold uses: PostgreSQL's
 * lower() under an LC_CTYPE of C.UTF-8 goes through the same towlower. */
#define ACCOUNT_FOLD_LOCALE "C.UTF-8"

/* A plausible address: one '@' with text on both sides, no space or control
 * character, valid UTF-8, at most ACCOUNT_EMAIL_MAX bytes. Its case is left
 * to PostgreSQL (lower($1) in each statement). */
static int email_ok(const char *email)
{
    size_t n = strlen(email);
    const char *at = strchr(email, '@');

    if (n == 0 || n > ACCOUNT_EMAIL_MAX || at == NULL || at == email || at[1] == '\0' ||
        strchr(at + 1, '@') != NULL || !utf8_valid(email, n, NULL))
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)email[i];
        if (c <= 0x20 || c == 0x7f)
            return 0;
    }
    return 1;
}

/* Each character of s through towlower under the calling thread's locale
 * (uselocale: a UTF-8 one) into out. Returns 0, or -1 when s is not in the
 * locale's encoding or the result does not fit cap. */
static int fold_chars(const char *s, char *out, size_t cap)
{
    mbstate_t in, to;
    size_t left = strlen(s), used = 0;

    memset(&in, 0, sizeof in);
    memset(&to, 0, sizeof to);
    while (left > 0) {
        char mb[MB_LEN_MAX];
        wchar_t wc;
        size_t n = mbrtowc(&wc, s, left, &in), m;

        if (n == 0 || n == (size_t)-1 || n == (size_t)-2)
            return -1;
        m = wcrtomb(mb, (wchar_t)towlower((wint_t)wc), &to);
        if (m == (size_t)-1 || used + m >= cap)
            return -1;
        memcpy(out + used, mb, m);
        used += m;
        s += n;
        left -= n;
    }
    out[used] = '\0';
    return 0;
}

int account_email_fold(const char *email, char *out, size_t cap)
{
    size_t n = strlen(email);
    locale_t loc, was;
    int rc;

    if (cap == 0 || !utf8_valid(email, n, NULL))
        return -1;
    loc = newlocale(LC_CTYPE_MASK, ACCOUNT_FOLD_LOCALE, (locale_t)0);
    if (loc == (locale_t)0) {
        /* No C.UTF-8 here: ASCII only (the "C" locale's tolower). */
        if (n >= cap)
            return -1;
        for (size_t i = 0; i <= n; i++)
            out[i] = (char)tolower((unsigned char)email[i]);
        return 0;
    }
    /* This thread only, and only for the loop: nothing else sees it. */
    was = uselocale(loc);
    rc = fold_chars(email, out, cap);
    uselocale(was);
    freelocale(loc);
    return rc;
}

/* The email, refused by name. */
static int user_email_check(const char *email, struct err *e)
{
    if (!email_ok(email))
        return err_set_field(e, ERR_INVALID_FIELD_VALUE, "email", "not a valid email address");
    return ERR_OK;
}

/* The email and the plan, each refused by name. */
static int user_fields_check(const char *email, const char *plan, struct err *e)
{
    int rc;

    if ((rc = user_email_check(email, e)) != ERR_OK)
        return rc;
    if (plans_parse(plan) < 0)
        return err_set_field(e, ERR_INVALID_FIELD_VALUE, "plan",
                             "plan must be lite, pro or business");
    return ERR_OK;
}

int account_user_create(struct db *db, const char *email, const char *plan,
                        const char *password, char user_id[37], struct err *e)
{
    char hash[CRYPTO_PWHASH_LEN], *id = NULL;
    int rc;

    if ((rc = user_fields_check(email, plan, e)) != ERR_OK)
        return rc;
    if (password != NULL) {
        size_t n = strlen(password);
        if (n < 8 || n > ACCOUNT_PASSWORD_MAX)
            return err_set_field(e, ERR_INVALID_FIELD_VALUE, "password",
                                 "passwords are 8 to %d bytes", ACCOUNT_PASSWORD_MAX);
        if (crypto_password_hash(password, n, hash) != 0)
            return err_set(e, ERR_INTERNAL, "cannot hash the password (out of memory)");
    }
    rc = db_query_value(db,
                        "INSERT INTO users (user_id, email, plan, password_hash)"
                        " VALUES (gen_random_uuid(), lower($1), $2, $3)"
                        " ON CONFLICT (email) DO NOTHING RETURNING user_id",
                        3, (const char *[]){email, plan, password ? hash : NULL}, &id, e);
    crypto_wipe(hash, sizeof hash);
    if (rc != ERR_OK)
        return rc;
    if (id == NULL)
        return err_set_field(e, ERR_INVALID_FIELD_VALUE, "email", "a user with this email exists");
    snprintf(user_id, 37, "%s", id);
    free(id);
    return ERR_OK;
}

/* Runs sql, an UPDATE of the user whose email is $1 with $2 = value that
 * returns its user_id; ERR_NOT_FOUND when no user has that email. */
static int user_update(struct db *db, const char *sql, const char *email, const char *value,
                       struct err *e)
{
    char *id = NULL;
    int rc = db_query_value(db, sql, 2, (const char *[]){email, value}, &id, e);

    if (rc == ERR_OK && id == NULL)
        rc = err_set(e, ERR_NOT_FOUND, "no user with this email");
    free(id);
    return rc;
}

int account_user_set_plan(struct db *db, const char *email, const char *plan, struct err *e)
{
    int rc;

    if ((rc = user_fields_check(email, plan, e)) != ERR_OK)
        return rc;
    return user_update(db, "UPDATE users SET plan = $2 WHERE email = lower($1)"
                       " RETURNING user_id", email, plan, e);
}

int account_user_set_operator(struct db *db, const char *email, int on, struct err *e)
{
    int rc;

    if ((rc = user_email_check(email, e)) != ERR_OK)
        return rc;
    return user_update(db, "UPDATE users SET operator = $2::boolean WHERE email = lower($1)"
                       " RETURNING user_id", email, on ? "true" : "false", e);
}

int account_user_by_email(struct db *db, const char *email, char user_id[37], struct err *e)
{
    char *id = NULL;
    int rc;

    if (!email_ok(email))
        return err_set(e, ERR_NOT_FOUND, "not a valid email address");
    rc = db_query_value(db, "SELECT user_id FROM users WHERE email = lower($1)", 1,
                        (const char *[]){email}, &id, e);
    if (rc == ERR_OK && id == NULL)
        rc = err_set(e, ERR_NOT_FOUND, "no user with this email");
    if (rc == ERR_OK)
        snprintf(user_id, 37, "%s", id);
    free(id);
    return rc;
}

int account_key_issue(struct db *db, const char *user_id, const char *name, const char *pepper,
                      struct account_key *out, struct err *e)
{
    char hash[65];
    cJSON *row = NULL;
    int rc;

    if (name == NULL || name[0] == '\0' || strlen(name) > ACCOUNT_KEY_NAME_MAX)
        return err_set_field(e, ERR_INVALID_FIELD_VALUE, "name", "name is 1 to %d bytes",
                             ACCOUNT_KEY_NAME_MAX);
    memset(out, 0, sizeof *out);
    memcpy(out->key, ACCOUNT_KEY_PREFIX, sizeof ACCOUNT_KEY_PREFIX - 1);
    crypto_random_base62(out->key + sizeof ACCOUNT_KEY_PREFIX - 1, ACCOUNT_KEY_RANDOM);
    memcpy(out->prefix, out->key, ACCOUNT_KEY_VISIBLE);
    account_key_hash(out->key, ACCOUNT_KEY_LEN, pepper, hash);
    rc = db_query_json(db,
                    "INSERT INTO api_keys (key_id, user_id, name, prefix, key_hash)"
                    " VALUES (gen_random_uuid(), $1, $2, $3, $4)"
                    " RETURNING jsonb_build_object('key_id', key_id,"
                    " 'created_at', ci_ts(created_at))",
                    4, (const char *[]){user_id, name, out->prefix, hash}, &row, e);
    if (rc != ERR_OK || row == NULL) {
        crypto_wipe(out->key, sizeof out->key);
        cJSON_Delete(row);
        return rc != ERR_OK ? rc : (int)err_set(e, ERR_PROTOCOL, "key not stored");
    }
    snprintf(out->key_id, sizeof out->key_id, "%s",
             json_str(row, "key_id") ? json_str(row, "key_id") : "");
    snprintf(out->created_at, sizeof out->created_at, "%s",
             json_str(row, "created_at") ? json_str(row, "created_at") : "");
    cJSON_Delete(row);
    return ERR_OK;
}

int account_key_revoke(struct db *db, const char *key_id, const char *user_id,
                       char hash_out[65], struct err *e)
{
    char *hash = NULL;
    int rc;

    if (!crypto_uuid_valid(key_id))
        return err_set(e, ERR_NOT_FOUND, "no such key");
    rc = db_query_value(db,
                        "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now())"
                        " WHERE key_id = $1 AND ($2::uuid IS NULL OR user_id = $2::uuid)"
                        " RETURNING key_hash",
                        2, (const char *[]){key_id, user_id}, &hash, e);
    if (rc == ERR_OK && hash == NULL)
        rc = err_set(e, ERR_NOT_FOUND, "no such key");
    if (rc == ERR_OK)
        snprintf(hash_out, 65, "%s", hash);
    free(hash);
    return rc;
}

int account_key_list(struct db *db, const char *user_id, cJSON **out, struct err *e)
{
    int rc = db_query_json(db,
                        "SELECT COALESCE(jsonb_agg(jsonb_build_object("
                        " 'key_id', key_id, 'name', name, 'prefix', prefix,"
                        " 'created_at', ci_ts(created_at), 'last_used_at', ci_ts(last_used_at),"
                        " 'revoked_at', ci_ts(revoked_at)) ORDER BY created_at DESC), '[]')"
                        " FROM api_keys WHERE user_id = $1",
                        1, (const char *[]){user_id}, out, e);

    if (rc == ERR_OK && *out == NULL)
        *out = cJSON_CreateArray();
    return rc;
}

int account_login_record(struct db *db, const char *email, cJSON **out, struct err *e)
{
    *out = NULL;
    if (!email_ok(email))
        return ERR_OK;
    return db_query_json(db,
                      "SELECT jsonb_build_object('user_id', user_id, 'plan', plan,"
                      " 'email', email, 'password_hash', password_hash)"
                      " FROM users WHERE email = lower($1)",
                      1, (const char *[]){email}, out, e);
}
