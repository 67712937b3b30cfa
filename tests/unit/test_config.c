/* test_config.c - unit tests for common/config.c (and the logger it writes
 * through), driven by setenv/unsetenv.
 *
 * Every test starts from an environment with none of the variables set.
 * stdout is redirected (dup2) to a temporary file while config_load() and
 * config_log() run, then restored before any assertion.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/config.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"

#define ALL_PROCS (CFG_GATEWAY | CFG_WORKER | CFG_MIGRATE)
#define DB_URL "postgresql://ci:dbsecret@127.0.0.1:5432/ci"

/* One name per member of struct config. */
static const char *const var_names[] = {
    "PORT",
    "CODEINSIGHT_BIND",
    "REDIS_URL",
    "DATABASE_URL",
    "CODEINSIGHT_SCHEMA_DIR",
    "CODEINSIGHT_LOG_LEVEL",
    "CODEINSIGHT_BODY_MAX",
    "CODEINSIGHT_HTTP_THREADS",
    "CODEINSIGHT_HTTP_TIMEOUT",
    "CODEINSIGHT_JOB_TTL",
    "CODEINSIGHT_WORKER_CONCURRENCY",
    "CODEINSIGHT_LINT_PARALLEL",
    "CODEINSIGHT_LINT_TIMEOUT_MS",
    "CODEINSIGHT_LINT_OUTPUT_MAX",
    "CODEINSIGHT_READ_BLOCK_MS",
    "CODEINSIGHT_SHUTDOWN_GRACE",
    "CODEINSIGHT_RETRY_MAX_MS",
    "CODEINSIGHT_JWT_ISSUER",
    "CODEINSIGHT_JWT_TTL",
    "CODEINSIGHT_AUTH_CACHE_TTL",
    "SUPABASE_JWT_SECRET",
    "SUPABASE_JWKS_URL",
    "SUPABASE_JWT_ISSUER",
    "SUPABASE_JWT_AUDIENCE",
    "CODEINSIGHT_THROTTLE_COOLDOWN",
    "CODEINSIGHT_RATE_LIMIT_SCALE",
    "CODEINSIGHT_LLM_PROVIDER",
    "CODEINSIGHT_LLM_BASE_URL",
    "CODEINSIGHT_INFO_URL",
    "CODEINSIGHT_METRICS_BIND",
};

/* Required secrets, set valid by setup(); tests that need them wrong say so. */
#define PEPPER "pepper-0123456789abcdef0123456789abcdef"
#define JWT_SECRET "jwtsecret-0123456789abcdef0123456789abcdef"

#define VAR_COUNT (sizeof var_names / sizeof var_names[0])

#include "tests/unit/capture.h"

/* config_load with its log lines captured into *out (owns). */
static int load(struct config *cfg, unsigned procs, struct err *e, char **out)
{
    struct capture c;
    int rc;

    err_clear(e);
    capture_begin(&c);
    rc = config_load(cfg, procs, e);
    *out = capture_end(&c);
    return rc;
}

/* Number of config_invalid lines in out naming variable `name`; asserts
 * every line of out is a JSON object. */
static int count_invalid(const char *out, const char *name)
{
    int hits = 0;
    const char *p = out;

    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        cJSON *doc;

        assert_non_null(nl);
        doc = cJSON_ParseWithLength(p, (size_t)(nl - p));
        assert_non_null(doc);
        if (json_str(doc, "event") != NULL &&
            strcmp(json_str(doc, "event"), "config_invalid") == 0 &&
            json_str(doc, "variable") != NULL && strcmp(json_str(doc, "variable"), name) == 0)
            hits++;
        cJSON_Delete(doc);
        p = nl + 1;
    }
    return hits;
}

static int count_lines(const char *out)
{
    int n = 0;
    for (; *out != '\0'; out++)
        n += *out == '\n';
    return n;
}

static int setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < VAR_COUNT; i++)
        unsetenv(var_names[i]);
    setenv("CODEINSIGHT_KEY_PEPPER", PEPPER, 1);
    setenv("CODEINSIGHT_JWT_SECRET", JWT_SECRET, 1);
    log_init("unit_config", LOG_INFO);
    return 0;
}

/* Asserts config_load rejects name=value for procs, naming that variable. */
static void assert_rejected(unsigned procs, const char *name, const char *value)
{
    struct config cfg;
    struct err e;
    char *out;

    setenv("DATABASE_URL", DB_URL, 1);
    setenv(name, value, 1);
    assert_int_equal(load(&cfg, procs, &e, &out), ERR_CONFIG);
    assert_int_equal(e.code, ERR_CONFIG);
    assert_int_equal(count_invalid(out, name), 1);
    assert_int_equal(count_lines(out), 1);
    free(out);
    unsetenv(name);
}

/* Asserts config_load succeeds silently for the current environment. */
static void load_ok(unsigned procs, struct config *cfg)
{
    struct err e;
    char *out;

    assert_int_equal(load(cfg, procs, &e, &out), ERR_OK);
    assert_string_equal(out, "");
    free(out);
}

static void test_defaults(void **state)
{
    struct config cfg;
    (void)state;

    setenv("DATABASE_URL", DB_URL, 1);
    load_ok(ALL_PROCS, &cfg);
    assert_int_equal(cfg.port, 8080);
    assert_string_equal(cfg.bind, "127.0.0.1");
    assert_string_equal(cfg.redis_url, "redis://127.0.0.1:6379/0");
    assert_string_equal(cfg.database_url, DB_URL);
    assert_string_equal(cfg.schema_dir, "schema/migrations");
    assert_int_equal(cfg.log_level, LOG_INFO);
    assert_int_equal(cfg.body_max, 1048576);
    assert_int_equal(cfg.http_threads, 0);
    assert_int_equal(cfg.http_timeout_s, 30);
    assert_int_equal(cfg.job_ttl_s, 86400);
    assert_int_equal(cfg.worker_concurrency, 0);
    assert_int_equal(cfg.lint_parallel, 0);
    assert_int_equal(cfg.lint_timeout_ms, 30000);
    assert_int_equal(cfg.lint_output_max, 1048576);
    assert_int_equal(cfg.read_block_ms, 2000);
    assert_int_equal(cfg.shutdown_grace_s, 25);
    assert_int_equal(cfg.retry_max_ms, 30000);
}

static void test_overrides(void **state)
{
    struct config cfg;
    (void)state;

    setenv("DATABASE_URL", DB_URL, 1);
    setenv("PORT", "9000", 1);
    setenv("CODEINSIGHT_BIND", "0.0.0.0", 1);
    setenv("REDIS_URL", "redis://:pw@redis:6390/2", 1);
    setenv("CODEINSIGHT_LOG_LEVEL", "debug", 1);
    setenv("CODEINSIGHT_BODY_MAX", "1024", 1);          /* lower bound */
    setenv("CODEINSIGHT_HTTP_THREADS", "256", 1);       /* upper bound */
    setenv("CODEINSIGHT_JOB_TTL", "2592000", 1);
    load_ok(ALL_PROCS, &cfg);
    assert_int_equal(cfg.port, 9000);
    assert_string_equal(cfg.bind, "0.0.0.0");
    assert_string_equal(cfg.redis_url, "redis://:pw@redis:6390/2");
    assert_int_equal(cfg.log_level, LOG_DEBUG);
    assert_int_equal(cfg.body_max, 1024);
    assert_int_equal(cfg.http_threads, 256);
    assert_int_equal(cfg.job_ttl_s, 2592000);

    setenv("PORT", "1", 1);
    setenv("CODEINSIGHT_LOG_LEVEL", "error", 1);
    load_ok(CFG_GATEWAY, &cfg);
    assert_int_equal(cfg.port, 1);
    assert_int_equal(cfg.log_level, LOG_ERROR);
    setenv("PORT", "65535", 1);
    load_ok(CFG_GATEWAY, &cfg);
    assert_int_equal(cfg.port, 65535);

    /* Unset, the default applies. */
    unsetenv("PORT");
    load_ok(CFG_GATEWAY, &cfg);
    assert_int_equal(cfg.port, 8080);
}

/* Set but empty is refused where the default is not empty; where it is
 * (an optional setting), empty is that default. */
static void test_empty_values(void **state)
{
    static const struct { unsigned procs; const char *name; } refused[] = {
        {CFG_GATEWAY, "PORT"}, {CFG_GATEWAY, "CODEINSIGHT_BIND"}, {CFG_GATEWAY, "REDIS_URL"},
        {CFG_WORKER, "CODEINSIGHT_LOG_LEVEL"}, {CFG_WORKER, "CODEINSIGHT_SHUTDOWN_GRACE"},
    };
    struct config cfg;
    (void)state;

    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        assert_rejected(refused[i].procs, refused[i].name, "");
    setenv("DATABASE_URL", DB_URL, 1);
    setenv("CODEINSIGHT_TRUSTED_PROXIES", "", 1);
    setenv("SUPABASE_JWT_ISSUER", "", 1);
    load_ok(CFG_GATEWAY, &cfg);
    assert_string_equal(cfg.trusted_proxies, "");
    assert_string_equal(cfg.supabase_issuer, "");
    unsetenv("CODEINSIGHT_TRUSTED_PROXIES");
    unsetenv("SUPABASE_JWT_ISSUER");
}

/* Addresses, URLs and the provider are checked by kind; a good value of
 * each kind still loads. */
static void test_kinds(void **state)
{
    static const char *const good[][2] = {
        {"DATABASE_URL", DB_URL},
        {"CODEINSIGHT_BIND", "0.0.0.0"},
        {"SUPABASE_JWKS_URL", "https://x.supabase.co/auth/v1/.well-known/jwks.json"},
        {"CODEINSIGHT_LLM_BASE_URL", "http://127.0.0.1:8000"},
        {"CODEINSIGHT_INFO_URL", "https://docs.example.com/codeinsight"},
        {"CODEINSIGHT_LLM_PROVIDER", "openrouter"},
        {"SUPABASE_JWT_SECRET", JWT_SECRET},
    };
    struct config cfg;
    (void)state;

    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        setenv(good[i][0], good[i][1], 1);
    load_ok(CFG_GATEWAY, &cfg);
    assert_string_equal(cfg.bind, "0.0.0.0");
    /* The model is the workers' alone: the gateway does not read it. */
    assert_string_equal(cfg.llm_provider, "");
    setenv("CODEINSIGHT_METRICS_BIND", "0.0.0.0", 1);
    load_ok(CFG_WORKER, &cfg);
    assert_string_equal(cfg.metrics_bind, "0.0.0.0");
    assert_string_equal(cfg.llm_provider, "openrouter");
    assert_string_equal(cfg.llm_base_url, "http://127.0.0.1:8000");

    assert_rejected(CFG_GATEWAY, "CODEINSIGHT_BIND", "notanip");
    assert_rejected(CFG_WORKER, "CODEINSIGHT_METRICS_BIND", "localhost");
    assert_rejected(CFG_GATEWAY, "SUPABASE_JWKS_URL", "notaurl");
    assert_rejected(CFG_WORKER, "CODEINSIGHT_LLM_BASE_URL", "ftp://x");
    assert_rejected(CFG_GATEWAY, "CODEINSIGHT_INFO_URL", "docs.example.com");
    assert_rejected(CFG_WORKER, "CODEINSIGHT_LLM_PROVIDER", "Anthropic");
    assert_rejected(CFG_WORKER, "CODEINSIGHT_LLM_PROVIDER", "anthropi");
    assert_rejected(CFG_GATEWAY, "SUPABASE_JWT_SECRET", "short-secret");
    /* A value copied with its file's last line break, or holding any other
     * control character, is refused: it would reach headers and URIs. */
    assert_rejected(CFG_GATEWAY, "SUPABASE_JWT_SECRET", JWT_SECRET "\n");
    assert_rejected(CFG_GATEWAY, "DATABASE_URL", DB_URL "\n");
    assert_rejected(CFG_WORKER, "ANTHROPIC_API_KEY", "sk-ant-abc\r\n");
    assert_rejected(CFG_WORKER, "REDIS_URL", "redis://127.0.0.1:6379/0\n");
    assert_rejected(CFG_WORKER, "CODEINSIGHT_LLM_MODEL", "claude\tx");
    setenv("DATABASE_URL", "postgres://db.internal/ci?sslmode=require", 1);
    load_ok(CFG_WORKER, &cfg);
    setenv("DATABASE_URL", DB_URL, 1);
    unsetenv("CODEINSIGHT_BIND");
}

/* Parses one row of config_print_markdown: name, the first process using
 * it (CFG_* bit), its default ("" when empty, "(required)" when there is
 * none) and its bounds text.
 * Returns 0, or -1 for a line that is not a row. */
static int table_row(const char *line, char *name, size_t ncap, unsigned *proc, char *def,
                     size_t dcap, char *bounds, size_t bcap)
{
    static const struct { const char *word; unsigned bit; } users[] = {
        {"gateway", CFG_GATEWAY}, {"worker", CFG_WORKER}, {"migrate", CFG_MIGRATE},
        {"admin", CFG_ADMIN}};
    const char *cell[5];
    size_t len[5];
    const char *p = line;

    if (strncmp(line, "| `", 3) != 0)
        return -1;
    for (int i = 0; i < 5; i++) {
        const char *bar = strchr(p + 1, '|');
        if (bar == NULL)
            return -1;
        cell[i] = p + 2;
        len[i] = bar - 1 > cell[i] ? (size_t)(bar - 1 - cell[i]) : 0;
        p = bar;
    }
    snprintf(name, ncap, "%.*s", (int)len[0] - 2, cell[0] + 1);
    *proc = 0;
    for (size_t u = 0; u < sizeof users / sizeof users[0] && *proc == 0; u++)
        if (memmem(cell[1], len[1], users[u].word, strlen(users[u].word)) != NULL)
            *proc = users[u].bit;
    if (cell[2][0] == '`')
        snprintf(def, dcap, "%.*s", (int)len[2] - 2, cell[2] + 1);
    else if (strncmp(cell[2], "(required)", 10) == 0)
        snprintf(def, dcap, "(required)");
    else
        def[0] = '\0';
    snprintf(bounds, bcap, "%.*s", (int)len[3], cell[3]);
    return *proc != 0 ? 0 : -1;
}

/* Values each kind of the Bounds column must refuse (NULL-terminated). */
static const struct {
    const char *bounds;
    const char *values[6];
} kind_bad[] = {
    {"IPv4 address", {"localhost", "999.1.1.1", "1.2.3", "::1", " 127.0.0.1", NULL}},
    {"http(s) URL", {"example.com", "ftp://example.com/", "http://", "https:///path",
                     "http://exa mple.com", NULL}},
    {"URL", {"127.0.0.1:6379", NULL}},
    {"PostgreSQL URI", {"127.0.0.1:5432", "mysql://u:p@h/db", "postgresql://%zz@h/db",
                        "postgresql://h/db?bogus=1", "postgresql://[::1/db", NULL}},
};

/* Every variable of the table: a value of the wrong shape is refused with one
 * config_invalid line naming it, whichever process reads it. Integers: words,
 * fractions, blanks, signs, out of bounds, past a long; addresses, URLs and
 * words by the kind the Bounds column names; anything with a default: empty.
 * (tests/e2e/test_config_refused.py runs the programs over the same table,
 * for the checks made after the loader too.) */
static void test_every_variable_refuses_bad_values(void **state)
{
    char *buf = NULL, *line, *next;
    size_t len = 0, rows = 0;
    FILE *f = open_memstream(&buf, &len);
    (void)state;

    assert_non_null(f);
    config_print_markdown(f);
    assert_int_equal(fclose(f), 0);
    for (line = buf; line != NULL && *line != '\0'; line = next) {
        char name[64], def[CFG_STR_MAX + 4], bounds[64], old[CFG_STR_MAX + 1] = "";
        const char *was;
        unsigned proc;
        long lo, hi;
        int had;

        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        if (table_row(line, name, sizeof name, &proc, def, sizeof def, bounds,
                      sizeof bounds) != 0)
            continue;
        rows++;
        was = getenv(name);
        had = was != NULL;
        if (had)
            snprintf(old, sizeof old, "%s", was);
        if (sscanf(bounds, "%ld..%ld", &lo, &hi) == 2) {
            static const char *const words[] = {"abc", "1.5", "1e3", "0x10", " 5", "+5", "5 ",
                                                "99999999999999999999",
                                                "-99999999999999999999"};
            char num[32];

            for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
                assert_rejected(proc, name, words[i]);
            snprintf(num, sizeof num, "%ld", lo - 1);
            assert_rejected(proc, name, num);
            snprintf(num, sizeof num, "%ld", hi + 1);
            assert_rejected(proc, name, num);
        }
        for (size_t k = 0; k < sizeof kind_bad / sizeof kind_bad[0]; k++)
            if (strcmp(bounds, kind_bad[k].bounds) == 0)
                for (const char *const *v = kind_bad[k].values; *v != NULL; v++)
                    assert_rejected(proc, name, *v);
        if (strchr(bounds, ',') != NULL) {          /* a list of words */
            assert_rejected(proc, name, "bogus");
            assert_rejected(proc, name, "INFO ");
        } else if (strncmp(bounds, ">= ", 3) == 0) {
            assert_rejected(proc, name, "short");
        }
        if (def[0] != '\0')
            assert_rejected(proc, name, "");
        if (had)
            setenv(name, old, 1);
    }
    free(buf);
    /* The table was read: at least the variables this file names. */
    assert_true(rows >= VAR_COUNT);
}

static void test_database_url_required(void **state)
{
    static const unsigned procs[] = {CFG_GATEWAY, CFG_WORKER, CFG_MIGRATE};
    struct config cfg;
    struct err e;
    char *out;
    (void)state;

    for (size_t i = 0; i < sizeof procs / sizeof procs[0]; i++) {
        assert_int_equal(load(&cfg, procs[i], &e, &out), ERR_CONFIG);
        assert_int_equal(e.code, ERR_CONFIG);
        assert_int_equal(count_invalid(out, "DATABASE_URL"), 1);
        free(out);
    }
    setenv("DATABASE_URL", "", 1);
    assert_int_equal(load(&cfg, CFG_GATEWAY, &e, &out), ERR_CONFIG);
    assert_int_equal(count_invalid(out, "DATABASE_URL"), 1);
    free(out);
}

/* The loader does not stop at the first bad variable. */
static void test_reports_every_bad_variable(void **state)
{
    struct config cfg;
    struct err e;
    char *out;
    (void)state;

    setenv("PORT", "abc", 1);
    setenv("CODEINSIGHT_BODY_MAX", "1", 1);
    setenv("CODEINSIGHT_LOG_LEVEL", "verbose", 1);
    assert_int_equal(load(&cfg, CFG_GATEWAY, &e, &out), ERR_CONFIG);
    assert_int_equal(e.code, ERR_CONFIG);
    assert_int_equal(count_invalid(out, "PORT"), 1);
    assert_int_equal(count_invalid(out, "CODEINSIGHT_BODY_MAX"), 1);
    assert_int_equal(count_invalid(out, "CODEINSIGHT_LOG_LEVEL"), 1);
    assert_int_equal(count_invalid(out, "DATABASE_URL"), 1);
    assert_int_equal(count_lines(out), 4);
    assert_non_null(strstr(e.msg, "4"));
    free(out);
}

/* Only the variables named are read and judged: DATABASE_URL unset and a
 * bad value elsewhere do not matter; a bad one named is reported as
 * config_load would, and a name not in the table is a programmer's error. */
static void test_load_only(void **state)
{
    static const char *const names[] = {"CODEINSIGHT_METRICS_PORT", "CODEINSIGHT_METRICS_BIND"};
    struct config cfg;
    struct capture c;
    struct err e;
    char *out;
    int rc;
    (void)state;

    setenv("CODEINSIGHT_JOB_TTL", "-1", 1);
    setenv("CODEINSIGHT_METRICS_PORT", "9464", 1);
    capture_begin(&c);
    rc = config_load_only(&cfg, names, 2, &e);
    out = capture_end(&c);
    assert_int_equal(rc, ERR_OK);
    assert_string_equal(out, "");
    free(out);
    assert_int_equal(cfg.metrics_port, 9464);
    assert_string_equal(cfg.metrics_bind, "127.0.0.1");   /* its default */
    assert_int_equal(cfg.job_ttl_s, 0);                   /* not read */

    setenv("CODEINSIGHT_METRICS_BIND", "localhost", 1);
    capture_begin(&c);
    rc = config_load_only(&cfg, names, 2, &e);
    out = capture_end(&c);
    assert_int_equal(rc, ERR_CONFIG);
    assert_int_equal(count_invalid(out, "CODEINSIGHT_METRICS_BIND"), 1);
    assert_int_equal(count_lines(out), 1);
    free(out);

    assert_int_equal(config_load_only(&cfg, (const char *const[]){"NO_SUCH_VARIABLE"}, 1, &e),
                     ERR_INTERNAL);
    unsetenv("CODEINSIGHT_JOB_TTL");
    unsetenv("CODEINSIGHT_METRICS_PORT");
    unsetenv("CODEINSIGHT_METRICS_BIND");
}

static void test_bad_integers(void **state)
{
    (void)state;
    assert_rejected(CFG_GATEWAY, "PORT", "abc");
    assert_rejected(CFG_GATEWAY, "PORT", "12x");
    assert_rejected(CFG_GATEWAY, "PORT", "8080 ");
    assert_rejected(CFG_GATEWAY, "PORT", "0x1f");
    assert_rejected(CFG_GATEWAY, "PORT", "1e3");
    assert_rejected(CFG_GATEWAY, "PORT", "-");
    assert_rejected(CFG_GATEWAY, "PORT", "0");
    assert_rejected(CFG_GATEWAY, "PORT", "-1");
    assert_rejected(CFG_GATEWAY, "PORT", "65536");
    assert_rejected(CFG_GATEWAY, "PORT", "99999999999999999999");
    assert_rejected(CFG_GATEWAY, "PORT", "-99999999999999999999");
    assert_rejected(CFG_GATEWAY, "CODEINSIGHT_BODY_MAX", "1");
    assert_rejected(CFG_GATEWAY, "CODEINSIGHT_BODY_MAX", "1023");
    assert_rejected(CFG_GATEWAY, "CODEINSIGHT_BODY_MAX", "67108865");
    assert_rejected(CFG_GATEWAY, "CODEINSIGHT_HTTP_THREADS", "257");
    assert_rejected(CFG_GATEWAY, "CODEINSIGHT_HTTP_TIMEOUT", "0");
    assert_rejected(CFG_WORKER, "CODEINSIGHT_LINT_TIMEOUT_MS", "99");
    assert_rejected(CFG_WORKER, "CODEINSIGHT_READ_BLOCK_MS", "60001");
    assert_rejected(CFG_WORKER, "CODEINSIGHT_JOB_TTL", "59");
}

static void test_bad_strings(void **state)
{
    char longval[CFG_STR_MAX + 16];
    (void)state;

    assert_rejected(CFG_GATEWAY, "CODEINSIGHT_LOG_LEVEL", "verbose");
    assert_rejected(CFG_GATEWAY, "CODEINSIGHT_LOG_LEVEL", "info ");
    assert_rejected(CFG_GATEWAY, "REDIS_URL", "127.0.0.1:6379");

    memcpy(longval, "redis://", 8);
    memset(longval + 8, 'h', sizeof longval - 9);
    longval[sizeof longval - 1] = '\0';
    assert_rejected(CFG_GATEWAY, "REDIS_URL", longval);
    memset(longval, 'b', sizeof longval - 1);
    assert_rejected(CFG_GATEWAY, "CODEINSIGHT_JWT_ISSUER", longval);
    /* CFG_STR_MAX - 1 bytes still fit. */
    longval[CFG_STR_MAX - 1] = '\0';
    setenv("DATABASE_URL", DB_URL, 1);
    setenv("CODEINSIGHT_JWT_ISSUER", longval, 1);
    {
        struct config cfg;
        load_ok(CFG_GATEWAY, &cfg);
        assert_int_equal(strlen(cfg.jwt_issuer), CFG_STR_MAX - 1);
    }
}

/* A rejected secret is named, never echoed. */
static void test_rejected_secret_not_echoed(void **state)
{
    struct config cfg;
    struct err e;
    char *out;
    (void)state;

    setenv("DATABASE_URL", "host=db password=hunter2", 1);
    assert_int_equal(load(&cfg, CFG_GATEWAY, &e, &out), ERR_CONFIG);
    assert_int_equal(count_invalid(out, "DATABASE_URL"), 1);
    assert_null(strstr(out, "hunter2"));
    assert_null(strstr(e.msg, "hunter2"));
    free(out);
}

static void test_mask_url(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"redis://:secret@h:1/0", "redis://:***@h:1/0"},
        {"redis://user:pw@h", "redis://user:***@h"},
        {"postgresql://ci:hunter2@db:5432/ci?sslmode=disable",
         "postgresql://ci:***@db:5432/ci?sslmode=disable"},
        {"redis://h:6379/0", "redis://h:6379/0"},
        {"redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"},
        {"postgresql://ci@db:5432/ci", "postgresql://ci@db:5432/ci"},
        /* A password holding '@', '?' or '#' (both URL parsers take it). */
        {"redis://:s3cr#t@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"},
        {"postgresql://app:pa?ss@db:5432/ci", "postgresql://app:***@db:5432/ci"},
        {"redis://:a@b?c#d@h:1/0", "redis://:***@h:1/0"},
        /* libpq's password parameter, whatever its length. */
        {"postgresql://db/ci?user=ci&password=ab", "postgresql://db/ci?user=ci&password=***"},
        {"postgresql://db/ci?password=longer-secret&sslmode=disable",
         "postgresql://db/ci?password=***&sslmode=disable"},
        {"postgresql://u:x@db/ci?password=y&a=1&password=zz#f",
         "postgresql://u:***@db/ci?password=***&a=1&password=***#f"},
        {"postgresql://db/ci?password=", "postgresql://db/ci?password="},
        {"postgresql://db/ci?xpassword=abc", "postgresql://db/ci?xpassword=abc"},
        {"not a url", "not a url"},
        {"", ""},
    };
    char out[CFG_STR_MAX + 8];
    (void)state;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        config_mask_url(cases[i].in, out, sizeof out);
        assert_string_equal(out, cases[i].out);
    }
    config_mask_url("redis://:secret@h:1/0", out, sizeof out);
    assert_null(strstr(out, "secret"));
    assert_non_null(strstr(out, "***"));

    /* Where the userinfo password is, for callers that must not show it. */
    {
        size_t off = 0, len = 0;
        assert_int_equal(config_url_password("mongodb://u:a@b?c@h:1/x", &off, &len), 1);
        assert_int_equal(off, 12);
        assert_int_equal(len, 5);      /* "a@b?c": the last '@' ends it */
        assert_int_equal(config_url_password("redis://:@h:1/0", &off, &len), 1);
        assert_int_equal(len, 0);
        assert_int_equal(config_url_password("redis://u@h:1/0", &off, &len), 0);
        assert_int_equal(config_url_password("no scheme", &off, &len), 0);
    }

    /* A small buffer truncates without overflowing (ASan checks the heap). */
    {
        char *small = malloc(10);
        assert_non_null(small);
        config_mask_url("redis://:secret@h:1/0", small, 10);
        assert_int_equal(strlen(small), 9);
        assert_null(strstr(small, "secret"));
        /* Cut anywhere, the password is never what is left. */
        free(small);
        for (size_t cap = 1; cap <= 40; cap++) {
            static const char url[] = "postgresql://db/x?password=zz&a=1";
            small = malloc(cap);
            assert_non_null(small);
            config_mask_url(url, small, cap);
            assert_int_equal(strlen(small), cap - 1 < 34 ? cap - 1 : 34);
            assert_null(strstr(small, "zz"));
            free(small);
        }
    }
}

/* Secrets too short to be keys are refused, and never echoed. */
static void test_short_secrets(void **state)
{
    char pepper[66];
    struct config cfg;
    (void)state;
    assert_rejected(CFG_GATEWAY, "CODEINSIGHT_KEY_PEPPER", "short-pepper");
    /* The pepper keys BLAKE2b: over 64 bytes it used to be cut silently, in
     * both processes that hash keys. */
    memset(pepper, 'p', 65);
    pepper[65] = '\0';
    assert_rejected(CFG_GATEWAY, "CODEINSIGHT_KEY_PEPPER", pepper);
    assert_rejected(CFG_ADMIN, "CODEINSIGHT_KEY_PEPPER", pepper);
    pepper[64] = '\0';
    setenv("CODEINSIGHT_KEY_PEPPER", pepper, 1);
    load_ok(CFG_GATEWAY, &cfg);
    assert_string_equal(cfg.key_pepper, pepper);
    setenv("CODEINSIGHT_KEY_PEPPER", PEPPER, 1);
    assert_rejected(CFG_GATEWAY, "CODEINSIGHT_JWT_SECRET", "short");
    setenv("CODEINSIGHT_JWT_SECRET", JWT_SECRET, 1);
}

static void test_config_log_masks(void **state)
{
    struct config cfg;
    struct capture c;
    cJSON *doc;
    char *out;
    (void)state;

    setenv("DATABASE_URL", DB_URL, 1);
    setenv("REDIS_URL", "redis://:redissecret@redis:6379/0", 1);
    load_ok(ALL_PROCS, &cfg);

    capture_begin(&c);
    config_log(&cfg, CFG_GATEWAY);
    out = capture_end(&c);
    assert_int_equal(count_lines(out), 1);
    assert_null(strstr(out, "redissecret"));
    assert_null(strstr(out, "dbsecret"));
    assert_null(strstr(out, PEPPER));
    assert_null(strstr(out, JWT_SECRET));
    doc = cJSON_Parse(out);
    assert_non_null(doc);
    assert_string_equal(json_str(doc, "event"), "config");
    assert_string_equal(json_str(doc, "REDIS_URL"), "redis://:***@redis:6379/0");
    assert_string_equal(json_str(doc, "DATABASE_URL"),
                        "postgresql://ci:***@127.0.0.1:5432/ci");
    assert_string_equal(json_str(doc, "PORT"), "8080");
    assert_string_equal(json_str(doc, "CODEINSIGHT_LOG_LEVEL"), "info");
    assert_null(cJSON_GetObjectItem(doc, "truncated"));
    /* Only the variables the gateway uses. */
    assert_null(cJSON_GetObjectItem(doc, "CODEINSIGHT_LINT_TIMEOUT_MS"));
    assert_null(cJSON_GetObjectItem(doc, "CODEINSIGHT_SCHEMA_DIR"));
    cJSON_Delete(doc);
    free(out);

    capture_begin(&c);
    config_log(&cfg, CFG_WORKER);
    out = capture_end(&c);
    assert_null(strstr(out, "redissecret"));
    assert_null(strstr(out, "dbsecret"));
    assert_null(strstr(out, PEPPER));
    assert_null(strstr(out, JWT_SECRET));
    doc = cJSON_Parse(out);
    assert_non_null(doc);
    assert_string_equal(json_str(doc, "CODEINSIGHT_LINT_TIMEOUT_MS"), "30000");
    assert_null(cJSON_GetObjectItem(doc, "PORT"));
    cJSON_Delete(doc);
    free(out);
}

static void test_print_markdown(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    (void)state;

    assert_non_null(f);
    config_print_markdown(f);
    assert_int_equal(fclose(f), 0);
    assert_non_null(buf);
    assert_non_null(strstr(buf, "| Variable |"));
    for (size_t i = 0; i < VAR_COUNT; i++) {
        char cell[80];
        snprintf(cell, sizeof cell, "| `%s` |", var_names[i]);
        assert_non_null(strstr(buf, cell));
    }
    /* Header, separator, at least one row per variable. */
    assert_true(count_lines(buf) >= (int)VAR_COUNT + 2);
    assert_non_null(strstr(buf, "(required)"));
    assert_non_null(strstr(buf, "`8080`"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults, setup),
        cmocka_unit_test_setup(test_overrides, setup),
        cmocka_unit_test_setup(test_empty_values, setup),
        cmocka_unit_test_setup(test_kinds, setup),
        cmocka_unit_test_setup(test_every_variable_refuses_bad_values, setup),
        cmocka_unit_test_setup(test_database_url_required, setup),
        cmocka_unit_test_setup(test_reports_every_bad_variable, setup),
        cmocka_unit_test_setup(test_load_only, setup),
        cmocka_unit_test_setup(test_bad_integers, setup),
        cmocka_unit_test_setup(test_bad_strings, setup),
        cmocka_unit_test_setup(test_rejected_secret_not_echoed, setup),
        cmocka_unit_test_setup(test_mask_url, setup),
        cmocka_unit_test_setup(test_short_secrets, setup),
        cmocka_unit_test_setup(test_config_log_masks, setup),
        cmocka_unit_test_setup(test_print_markdown, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
