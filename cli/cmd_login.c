/* cmd_login.c - codeinsight login: ask, trade a password for a key if
 * need be, check the key, store it. The password is never stored and no
 * secret is ever printed. */
#include "cli/commands.h"

#include "cli/api.h"
#include "cli/prompt.h"
#include "cli/termtext.h"
#include "common/crypto.h"
#include "common/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Longest email sent, bytes (the service's limit). */
#define LOGIN_EMAIL_MAX 254
/* Longest plan name shown, bytes including the NUL (cut when longer). */
#define LOGIN_PLAN_MAX 64

/* One request with its own client: bearer may be NULL. Returns 0 with
 * *status, *json (owns) and msg (API_DESCRIBE_MAX bytes) describing the
 * answer (api_call), or -1 having printed why. */
static int request(const char *url, const char *bearer, const char *method, const char *path,
                   const char *body, long *status, cJSON **json, char *msg)
{
    struct api api;
    struct err e;
    int rc;

    if (api_init(&api, url, bearer, &e) != ERR_OK) {
        fprintf(stderr, "codeinsight: %s\n", e.msg);
        return -1;
    }
    rc = api_call(&api, method, path, body, status, json, msg, API_DESCRIBE_MAX);
    api_cleanup(&api);
    if (rc != 0)
        fprintf(stderr, "codeinsight: %s\n", msg);
    return rc;
}

/* Prints why a response was not the one expected (said, request's msg);
 * returns CLI_EXIT_SERVICE. */
static int refused(const char *what, const char *said)
{
    fprintf(stderr, "codeinsight: %s: %s\n", what, said);
    return CLI_EXIT_SERVICE;
}

/* Wipes a string member's text before the document is freed. */
static void wipe_member(cJSON *o, const char *name)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    if (cJSON_IsString(v))
        crypto_wipe(v->valuestring, strlen(v->valuestring));
}

static void wipe_free(char *s)
{
    if (s != NULL)
        crypto_wipe(s, strlen(s));
    free(s);
}

/* POST `path` with {name: value, ...} built from pairs, as bearer; returns
 * as request. */
static int post_json(const char *url, const char *bearer, const char *path,
                     const char *const *pairs, long *status, cJSON **json, char *msg)
{
    cJSON *o = cJSON_CreateObject();
    char *body;
    int rc;

    for (size_t i = 0; o != NULL && pairs[i] != NULL; i += 2)
        if (cJSON_AddStringToObject(o, pairs[i], pairs[i + 1]) == NULL) {
            cJSON_Delete(o);
            o = NULL;
        }
    body = o != NULL ? cJSON_PrintUnformatted(o) : NULL;
    for (size_t i = 0; o != NULL && pairs[i] != NULL; i += 2)
        wipe_member(o, pairs[i]);
    cJSON_Delete(o);
    if (body == NULL) {
        fprintf(stderr, "codeinsight: out of memory\n");
        return -1;
    }
    rc = request(url, bearer, "POST", path, body, status, json, msg);
    wipe_free(body);
    return rc;
}

/* Email and password for a JWT, the JWT for a new API key in key. */
static int mint_key(const char *url, char *key, size_t cap)
{
    char email[PROMPT_LINE_MAX + 1], password[PROMPT_LINE_MAX + 1], host[128], name[192];
    char said[API_DESCRIBE_MAX];
    char *token = NULL;
    cJSON *json = NULL;
    long status;
    int rc = CLI_EXIT_SERVICE;
    const char *v;

    if (prompt_line("Email: ", 0, email, sizeof email) != 0 || email[0] == '\0' ||
        strlen(email) > LOGIN_EMAIL_MAX ||
        prompt_line("Password: ", 1, password, sizeof password) != 0) {
        fprintf(stderr, "codeinsight: login needs an email and a password\n");
        crypto_wipe(password, sizeof password);
        return CLI_EXIT_USAGE;
    }
    if (post_json(url, NULL, "/auth/login",
                  (const char *[]){"email", email, "password", password, NULL},
                  &status, &json, said) != 0)
        goto out;
    if (status != 200 || (v = json_str(json, "access_token")) == NULL) {
        rc = refused("signing in", said);
        goto out;
    }
    token = strdup(v);
    wipe_member(json, "access_token");
    cJSON_Delete(json);
    json = NULL;
    if (token == NULL)
        goto out;
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "unknown host");
    host[sizeof host - 1] = '\0';
    snprintf(name, sizeof name, "codeinsight CLI on %s", host);
    if (post_json(url, token, "/keys", (const char *[]){"name", name, NULL}, &status,
                  &json, said) != 0)
        goto out;
    if (status != 201 || (v = json_str(json, "key")) == NULL || strlen(v) >= cap) {
        rc = refused("creating an API key", said);
        goto out;
    }
    snprintf(key, cap, "%s", v);
    rc = 0;
out:
    wipe_member(json, "key");
    cJSON_Delete(json);
    wipe_free(token);
    crypto_wipe(password, sizeof password);
    return rc;
}

int cmd_login(const struct cli_args *a, const struct cli_config *current, const char *path)
{
    char answer[PROMPT_LINE_MAX + 1], question[SETTINGS_URL_MAX + 32];
    char shown[SETTINGS_URL_MAX + 1];
    char email[LOGIN_EMAIL_MAX + 1], plan[LOGIN_PLAN_MAX], said[API_DESCRIBE_MAX];
    struct cli_config out;
    cJSON *who = NULL;
    long status;
    int rc = CLI_EXIT_USAGE;

    memset(&out, 0, sizeof out);
    if (a->url != NULL) {
        snprintf(out.url, sizeof out.url, "%s", a->url);
    } else {
        snprintf(question, sizeof question, "Service URL [%s]: ",
                 termtext_clean(shown, sizeof shown, current->url, TERMTEXT_FLAT));
        if (prompt_line(question, 0, answer, sizeof answer) != 0) {
            fprintf(stderr, "codeinsight: login needs the service URL\n");
            return CLI_EXIT_USAGE;
        }
        if (strlen(answer) > SETTINGS_URL_MAX) {
            fprintf(stderr, "codeinsight: the URL is too long\n");
            return CLI_EXIT_USAGE;
        }
        snprintf(out.url, sizeof out.url, "%s", answer[0] ? answer : current->url);
    }
    if (prompt_line("API key (empty: sign in with email and password): ", 1, answer,
                    sizeof answer) != 0) {
        fprintf(stderr, "codeinsight: login needs an API key, or an email and password\n");
        goto out;
    }
    if (strlen(answer) > SETTINGS_KEY_MAX) {
        fprintf(stderr, "codeinsight: the API key is too long\n");
        goto out;
    }
    if (answer[0] != '\0')
        memcpy(out.api_key, answer, strlen(answer) + 1);    /* fits: checked above */
    else if ((rc = mint_key(out.url, out.api_key, sizeof out.api_key)) != 0)
        goto out;
    rc = CLI_EXIT_SERVICE;
    if (request(out.url, out.api_key, "GET", "/whoami", NULL, &status, &who, said) != 0)
        goto out;
    /* Only the service's own answer says the key works: a login portal's
     * 200 page does not. */
    if (status != 200 || !cJSON_IsObject(who)) {
        rc = refused("checking the API key", said);
        goto out;
    }
    if (settings_write(path, &out, answer, sizeof answer) != 0) {
        termtext_say(stderr, answer);
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    /* The email and plan are the server's words, the URL and path the
     * user's: no escape codes from them. */
    fputs("Logged in to ", stderr);
    termtext_put(stderr, out.url, TERMTEXT_FLAT);
    fprintf(stderr, " as %s (plan %s). Key saved in ",
            termtext_clean(email, sizeof email, json_str(who, "email") ? json_str(who, "email")
                           : "?", TERMTEXT_FLAT),
            termtext_clean(plan, sizeof plan, json_str(who, "plan") ? json_str(who, "plan")
                           : "?", TERMTEXT_FLAT));
    termtext_put(stderr, path, TERMTEXT_FLAT);
    fputc('\n', stderr);
    rc = CLI_EXIT_OK;
out:
    cJSON_Delete(who);
    crypto_wipe(answer, sizeof answer);
    settings_wipe(&out);
    return rc;
}
