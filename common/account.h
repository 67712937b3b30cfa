/* account.h - users and API keys in PostgreSQL, shared by the gateway's
 * key routes and codeinsight-admin. All account SQL lives in account.c.
 *
 * API keys are "ci_live_" + 32 base62 characters. Only a keyed BLAKE2b-256
 * hash (keyed with the server pepper) is stored; the key is returned once.
 *
 * Emails are case-insensitive by one rule, PostgreSQL's lower() (the users
 * table's check: email = lower(email)): every statement here stores and
 * looks up lower($1), so the check and the transform always agree. Beyond
 * ASCII, lower() folds letters only in a database whose LC_CTYPE is a UTF-8
 * locale (C.UTF-8, en_US.UTF-8); in a C one, "Ä" and "ä" are two addresses
 * (docs/admission.md, "Emails").
 */
#ifndef CI_ACCOUNT_H
#define CI_ACCOUNT_H

#include <stddef.h>

#include "common/json.h"

struct db;
struct err;

#define ACCOUNT_KEY_PREFIX "ci_live_"
#define ACCOUNT_KEY_RANDOM 32
#define ACCOUNT_KEY_LEN (sizeof ACCOUNT_KEY_PREFIX - 1 + ACCOUNT_KEY_RANDOM)   /* 40 */
#define ACCOUNT_KEY_VISIBLE 12          /* characters of the key shown as its prefix */
#define ACCOUNT_EMAIL_MAX 254
/* Room for a folded email (account_email_fold), with the NUL: a character's
 * lower case is at most half as long again as it (U+023A, 2 bytes -> 3). */
#define ACCOUNT_EMAIL_FOLD_MAX (ACCOUNT_EMAIL_MAX * 2 + 1)
#define ACCOUNT_PASSWORD_MAX 1024
#define ACCOUNT_KEY_NAME_MAX 100

struct account_key {
    char key[ACCOUNT_KEY_LEN + 1];      /* the secret; shown once, wipe after use */
    char key_id[37];
    char prefix[ACCOUNT_KEY_VISIBLE + 1];
    char created_at[40];
};

/* 1 when s has the exact shape of an API key. */
int account_key_shape_ok(const char *s, size_t len);

/* The stored hash of a key (64 hex chars plus NUL) under pepper. */
void account_key_hash(const char *key, size_t len, const char *pepper, char out[65]);

/* The email as lower() folds it in a database whose LC_CTYPE is glibc's
 * C.UTF-8 (en_US.UTF-8 and most glibc UTF-8 locales share its case table;
 * Turkish ones do not), each character through towlower, into out (cap
 * bytes: ACCOUNT_EMAIL_FOLD_MAX for a valid email); ASCII letters only when
 * the process cannot load C.UTF-8. For keys that must not tell an address's
 * cases apart before PostgreSQL is asked (the login limiter's); what is
 * stored or looked up PostgreSQL lower-cases itself. Returns 0, or -1 when
 * email is not UTF-8 or its fold does not fit. */
int account_email_fold(const char *email, char *out, size_t cap);

/* Creates a user (email lower-cased by PostgreSQL; password may be NULL for
 * key-only users). Writes the new id into user_id (37 bytes).
 * ERR_INVALID_FIELD_VALUE for a bad email/plan or an email in use;
 * availability errors otherwise. */
int account_user_create(struct db *db, const char *email, const char *plan,
                        const char *password, char user_id[37], struct err *e);

/* Sets a user's plan by email. ERR_NOT_FOUND when no such user. */
int account_user_set_plan(struct db *db, const char *email, const char *plan, struct err *e);

/* Grants (on 1) or revokes (on 0) the operator role (users.operator: may
 * read system-wide figures, GET /stats) of a user by email. Gateways see
 * the change when their cached identity is next read from PostgreSQL
 * (docs/operations.md, "Operators"). ERR_NOT_FOUND when no such user. */
int account_user_set_operator(struct db *db, const char *email, int on, struct err *e);

/* Looks a user up by email into user_id. ERR_NOT_FOUND when absent. */
int account_user_by_email(struct db *db, const char *email, char user_id[37], struct err *e);

/* Issues a new key for user_id. On ERR_OK, out holds the key (shown once). */
int account_key_issue(struct db *db, const char *user_id, const char *name, const char *pepper,
                      struct account_key *out, struct err *e);

/* Revokes key_id (owned by user_id when user_id is not NULL) and writes its
 * hash into hash_out. ERR_NOT_FOUND when no such (unrevoked or revoked) key. */
int account_key_revoke(struct db *db, const char *key_id, const char *user_id,
                       char hash_out[65], struct err *e);

/* The keys of a user, newest first, without secrets: an array of {key_id,
 * name, prefix, created_at, last_used_at, revoked_at} (owns). */
int account_key_list(struct db *db, const char *user_id, cJSON **out, struct err *e);

/* Login lookup: {user_id, plan, email, password_hash} for an email, or NULL
 * in *out when absent (owns). */
int account_login_record(struct db *db, const char *email, cJSON **out, struct err *e);

#endif
