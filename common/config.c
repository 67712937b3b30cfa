/* config.c - the configuration table and its loader. */
#include "common/config.h"

#include "common/err.h"
#include "common/log.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* STR: any text; URL: scheme://...; HTTP_URL: http(s)://host...; IPV4: a dotted
 * quad; ENUM: one of the '|'-separated words in `def`'s entry `choices`. */
enum cfg_type { CFG_T_STR, CFG_T_URL, CFG_T_PG_URL, CFG_T_HTTP_URL, CFG_T_IPV4, CFG_T_INT,
                CFG_T_LOGLEVEL, CFG_T_ENUM };

#define CFG_REQUIRED 0x1u
#define CFG_SECRET   0x2u   /* value (or URL password) never printed */

struct cfg_entry {
    const char *name;
    enum cfg_type type;
    size_t offset;
    const char *def;        /* NULL: no default */
    long min, max;          /* bounds for CFG_T_INT; for CFG_T_STR, when > 0: shortest
                             * and longest value, bytes */
    unsigned procs;         /* CFG_GATEWAY | CFG_WORKER | CFG_MIGRATE */
    unsigned flags;
    const char *help;
    const char *choices;    /* CFG_T_ENUM: "a|b|c" */
};

#define ALL (CFG_GATEWAY | CFG_WORKER | CFG_MIGRATE)
#define OFF(m) offsetof(struct config, m)

static const struct cfg_entry cfg_table[] = {
    {"PORT", CFG_T_INT, OFF(port), "8080", 1, 65535, CFG_GATEWAY, 0,
     "TCP port the gateway listens on."},
    {"CODEINSIGHT_BIND", CFG_T_IPV4, OFF(bind), "127.0.0.1", 0, 0, CFG_GATEWAY, 0,
     "IPv4 address the gateway binds (0.0.0.0 in containers)."},
    {"REDIS_URL", CFG_T_URL, OFF(redis_url), "redis://127.0.0.1:6379/0", 0, 0,
     CFG_GATEWAY | CFG_WORKER | CFG_ADMIN, CFG_SECRET,
     "Redis: redis://[:password@]host:port[/db]. No TLS (use a stunnel sidecar)."},
    {"DATABASE_URL", CFG_T_PG_URL, OFF(database_url), NULL, 0, 0, ALL | CFG_ADMIN,
     CFG_REQUIRED | CFG_SECRET, "PostgreSQL connection URI (libpq syntax)."},
    {"CODEINSIGHT_SCHEMA_DIR", CFG_T_STR, OFF(schema_dir), "schema/migrations", 0, 0,
     CFG_MIGRATE, 0, "Directory of versioned SQL migrations (NNN_name.sql)."},
    {"CODEINSIGHT_MIGRATE_LOCK_TIMEOUT_MS", CFG_T_INT, OFF(migrate_lock_timeout_ms), "5000", 0,
     3600000, CFG_MIGRATE, 0, "Longest a migration waits for each lock it needs (live traffic "
     "holding the table), ms; then it is rolled back and the run fails, to be run again. 0 "
     "waits without limit."},
    {"CODEINSIGHT_MIGRATE_OUT_OF_ORDER", CFG_T_INT, OFF(migrate_out_of_order), "0", 0, 1,
     CFG_MIGRATE, 0, "1: apply a pending migration numbered below the last one applied (a "
     "branch merged late, already applied in that order elsewhere); 0 refuses it."},
    {"CODEINSIGHT_LOG_LEVEL", CFG_T_LOGLEVEL, OFF(log_level), "info", 0, 0, ALL | CFG_ADMIN, 0,
     "debug, info, warn or error."},
    {"CODEINSIGHT_BODY_MAX", CFG_T_INT, OFF(body_max), "1048576", 1024, 67108864,
     CFG_GATEWAY, 0, "Largest accepted request body, bytes (413 above)."},
    {"CODEINSIGHT_HTTP_THREADS", CFG_T_INT, OFF(http_threads), "0", 0, 256,
     CFG_GATEWAY, 0, "Gateway request threads (HTTP parsing, polls and other quick routes); 0 "
     "means one per core."},
    {"CODEINSIGHT_HTTP_WAIT_THREADS", CFG_T_INT, OFF(http_wait_threads), "0", 0, 64,
     CFG_GATEWAY, 0, "Gateway threads for the routes that wait on I/O (submissions, PostgreSQL "
     "reads, logins with argon2); 0 means four per core."},
    {"CODEINSIGHT_HTTP_WAIT_QUEUE", CFG_T_INT, OFF(http_wait_queue), "1024", 1, 65536,
     CFG_GATEWAY, 0, "Requests queued for those threads at most, and submissions for the "
     "admission threads; beyond it 503 server_busy with Retry-After."},
    {"CODEINSIGHT_VIEW_CACHE_MB", CFG_T_INT, OFF(view_cache_mb), "32", 0, 4096, CFG_GATEWAY, 0,
     "Memory for finished jobs' rendered views, MB per gateway process: polls of a done or "
     "failed job are answered from it for up to 5 minutes; 0 turns it off."},
    {"CODEINSIGHT_HTTP_TIMEOUT", CFG_T_INT, OFF(http_timeout_s), "30", 1, 3600,
     CFG_GATEWAY, 0, "Idle client connection timeout, seconds."},
    {"CODEINSIGHT_JOB_TTL", CFG_T_INT, OFF(job_ttl_s), "86400", 60, 2592000,
     CFG_GATEWAY | CFG_WORKER, 0,
     "Lifetime of a job's Redis hot copy, seconds; PostgreSQL serves it afterwards."},
    {"CODEINSIGHT_WORKER_CONCURRENCY", CFG_T_INT, OFF(worker_concurrency), "0", 0,
     4096, CFG_WORKER, 0,
     "Jobs in flight per worker; 0 = pool default (fast: CODEINSIGHT_MAX_INFLIGHT, heavy: "
     "cores)."},
    {"CODEINSIGHT_LINT_PARALLEL", CFG_T_INT, OFF(lint_parallel), "0", 0, 256,
     CFG_WORKER, 0, "Linter processes running at once per worker; 0 = one per core."},
    {"CODEINSIGHT_LINT_TIMEOUT_MS", CFG_T_INT, OFF(lint_timeout_ms), "30000", 100,
     600000, CFG_WORKER, 0,
     "Wall-clock limit of one linter run, ms (then its process group is killed)."},
    {"CODEINSIGHT_LINT_OUTPUT_MAX", CFG_T_INT, OFF(lint_output_max), "1048576", 4096,
     67108864, CFG_WORKER, 0, "Linter output kept per stream, bytes (the rest is dropped)."},
    {"CODEINSIGHT_LINT_SANDBOX", CFG_T_INT, OFF(lint_sandbox), "1", 0, 2, CFG_WORKER, 0,
     "Where linters run. 1: each in a bubblewrap sandbox of its own when the start-up probe "
     "passes, else as with 0 and a warning; 2: only in the sandbox (without one, linters do "
     "not run and each job's lint notes say why); 0: as plain child processes (their flags "
     "keep them from running the code they read)."},
    {"CODEINSIGHT_LINT_MEMORY_MB", CFG_T_INT, OFF(lint_memory_mb), "2048", 256, 65536,
     CFG_WORKER, 0, "Address-space limit of a sandboxed linter, MB (RLIMIT_AS; ESLint gets "
     "1024 MB more for V8's reservations; shellcheck none, its collector needs about twice "
     "its heap: the CPU and wall-clock limits bound it)."},
    {"CODEINSIGHT_READ_BLOCK_MS", CFG_T_INT, OFF(read_block_ms), "2000", 10, 60000,
     CFG_WORKER, 0, "XREADGROUP BLOCK timeout, ms; bounds how fast a worker notices SIGTERM."},
    {"CODEINSIGHT_SHUTDOWN_GRACE", CFG_T_INT, OFF(shutdown_grace_s), "25", 1, 3600,
     CFG_WORKER, 0, "Seconds a stopping worker waits for in-flight jobs; the rest stay pending."},
    {"CODEINSIGHT_RETRY_MAX_MS", CFG_T_INT, OFF(retry_max_ms), "30000", 100, 600000,
     CFG_WORKER, 0, "Cap of the backoff between retries of a failed persistence, ms."},
    /* At most the BLAKE2b key size (crypto_keyed_hash_hex): a longer pepper
     * used to be cut to it without a word. */
    {"CODEINSIGHT_KEY_PEPPER", CFG_T_STR, OFF(key_pepper), NULL, 32, 64,
     CFG_GATEWAY | CFG_ADMIN, CFG_REQUIRED | CFG_SECRET,
     "Server pepper (32 to 64 bytes) keying the stored API-key hashes. Changing it "
     "invalidates every key. A longer one is refused; earlier releases used only its first "
     "64 bytes, so set it to those to keep the keys already issued."},
    {"CODEINSIGHT_JWT_SECRET", CFG_T_STR, OFF(jwt_secret), NULL, 32, 0, CFG_GATEWAY,
     CFG_REQUIRED | CFG_SECRET,
     "HS256 secret (at least 32 bytes) of the tokens POST /auth/login issues."},
    {"CODEINSIGHT_JWT_ISSUER", CFG_T_STR, OFF(jwt_issuer), "codeinsight", 0, 0, CFG_GATEWAY, 0,
     "iss claim of our own tokens."},
    {"CODEINSIGHT_JWT_TTL", CFG_T_INT, OFF(jwt_ttl_s), "3600", 60, 3600, CFG_GATEWAY, 0,
     "Lifetime of a login token, seconds."},
    {"CODEINSIGHT_AUTH_CACHE_TTL", CFG_T_INT, OFF(auth_cache_ttl_s), "60", 1, 3600,
     CFG_GATEWAY, 0, "Seconds a key or user identity stays cached in Redis."},
    {"CODEINSIGHT_IDENTITY_CACHE_MS", CFG_T_INT, OFF(identity_cache_ms), "5000", 0, 3600000,
     CFG_GATEWAY, 0,
     "Milliseconds a gateway uses its own copy of an identity (at most the Redis cache's "
     "TTL), with tokens leased from large buckets; a revocation drops it at once on every "
     "replica. 0: every request asks Redis."},
    {"CODEINSIGHT_TRUSTED_PROXIES", CFG_T_STR, OFF(trusted_proxies), "", 0, 0, CFG_GATEWAY, 0,
     "Comma-separated IPs and CIDRs of the reverse proxies in front of the gateway (e.g. "
     "10.0.0.0/8): from them, the client's address is read from X-Forwarded-For, for the "
     "per-address limits and audit records. Empty: the connection's peer is the client."},
    {"SUPABASE_JWT_SECRET", CFG_T_STR, OFF(supabase_jwt_secret), "", 32, 0, CFG_GATEWAY,
     CFG_SECRET, "Accept Supabase HS256 tokens signed with this secret (empty: off)."},
    {"SUPABASE_JWKS_URL", CFG_T_HTTP_URL, OFF(supabase_jwks_url), "", 0, 0, CFG_GATEWAY, 0,
     "Accept Supabase RS256/ES256 tokens signed by keys from this JWKS (empty: off)."},
    {"SUPABASE_JWT_ISSUER", CFG_T_STR, OFF(supabase_issuer), "", 0, 0, CFG_GATEWAY, 0,
     "Required iss of Supabase tokens (empty: not checked)."},
    {"SUPABASE_JWT_AUDIENCE", CFG_T_STR, OFF(supabase_audience), "", 0, 0, CFG_GATEWAY, 0,
     "Required aud of Supabase tokens, e.g. authenticated (empty: not checked)."},
    {"CODEINSIGHT_THROTTLE_COOLDOWN", CFG_T_INT, OFF(throttle_cooldown_s), "10800", 0, 604800,
     CFG_GATEWAY | CFG_WORKER, 0,
     "Seconds a soft-throttled job's model call is deferred (above 90% of the budget)."},
    {"CODEINSIGHT_RATE_LIMIT_SCALE", CFG_T_INT, OFF(rate_limit_scale_pct), "100", 1, 1000000,
     CFG_GATEWAY, 0, "Percent applied to every plan's rates and bursts (benchmarks, big tenants)."},
    {"CODEINSIGHT_LLM_PROVIDER", CFG_T_ENUM, OFF(llm_provider), "", 0, 0, CFG_WORKER, 0,
     "anthropic, openrouter, openai (any OpenAI-compatible server) or offline; empty: "
     "anthropic or openrouter when its key is set, else offline.",
     "anthropic|openrouter|openai|offline"},
    {"CODEINSIGHT_LLM_BASE_URL", CFG_T_HTTP_URL, OFF(llm_base_url), "", 0, 0, CFG_WORKER, 0,
     "Overrides the provider's API base URL (required for openai)."},
    {"CODEINSIGHT_LLM_MODEL", CFG_T_STR, OFF(llm_model), "", 0, 0, CFG_WORKER, 0,
     "Overrides the provider's default model."},
    {"ANTHROPIC_API_KEY", CFG_T_STR, OFF(anthropic_api_key), "", 0, 0, CFG_WORKER, CFG_SECRET,
     "Anthropic API key."},
    {"OPENROUTER_API_KEY", CFG_T_STR, OFF(openrouter_api_key), "", 0, 0, CFG_WORKER, CFG_SECRET,
     "OpenRouter API key."},
    {"CODEINSIGHT_LLM_API_KEY", CFG_T_STR, OFF(llm_api_key), "", 0, 0, CFG_WORKER, CFG_SECRET,
     "Key of an OpenAI-compatible server (optional for on-prem servers)."},
    {"CODEINSIGHT_MAX_INFLIGHT", CFG_T_INT, OFF(max_inflight), "512", 1, 8192, CFG_WORKER, 0,
     "Model calls in flight at once per worker (libcurl multi)."},
    {"CODEINSIGHT_LLM_TIMEOUT_MS", CFG_T_INT, OFF(llm_timeout_ms), "30000", 100, 600000,
     CFG_WORKER, 0, "Per-call timeout of a model request, ms."},
    {"CODEINSIGHT_HEAVY_LLM_TIMEOUT_MS", CFG_T_INT, OFF(heavy_llm_timeout_ms), "120000", 100,
     600000, CFG_WORKER, 0, "Per-call timeout of a model request in the heavy pool, ms (debug, "
     "architecture and stress answers are longer)."},
    {"CODEINSIGHT_LLM_CONNECT_TIMEOUT_MS", CFG_T_INT, OFF(llm_connect_timeout_ms), "5000", 50,
     60000, CFG_WORKER, 0, "Connect timeout of a model request, ms."},
    {"CODEINSIGHT_LLM_MAX_ATTEMPTS", CFG_T_INT, OFF(llm_max_attempts), "3", 1, 10, CFG_WORKER, 0,
     "Attempts per model call (429, 529, 5xx and timeouts are retried with backoff)."},
    {"CODEINSIGHT_LLM_PRICES", CFG_T_STR, OFF(llm_prices),
     "claude-sonnet-4-5=3,15,3.75,0.30;anthropic/claude-sonnet-4.5=3,15,3.75,0.30", 0, 0,
     CFG_WORKER, 0,
     "USD per million tokens, per model: model=input,output,cache_write,cache_read;..."},
    {"CODEINSIGHT_BREAKER_THRESHOLD", CFG_T_INT, OFF(breaker_threshold), "5", 1, 1000,
     CFG_WORKER, 0, "Consecutive failed model calls that open the circuit breaker."},
    {"CODEINSIGHT_BREAKER_COOLDOWN_MS", CFG_T_INT, OFF(breaker_cooldown_ms), "30000", 100,
     3600000, CFG_WORKER, 0, "How long an open circuit refuses model calls before one trial, ms."},
    {"CODEINSIGHT_CACHE_TTL_REVIEW", CFG_T_INT, OFF(cache_ttl_review_s), "86400", 0, 31536000,
     CFG_WORKER, 0, "Prompt and result cache lifetime of reviews, seconds."},
    {"CODEINSIGHT_CACHE_TTL_DEBUG", CFG_T_INT, OFF(cache_ttl_debug_s), "3600", 0, 31536000,
     CFG_WORKER, 0, "Cache lifetime of debug jobs, seconds."},
    {"CODEINSIGHT_CACHE_TTL_ARCHITECTURE", CFG_T_INT, OFF(cache_ttl_architecture_s), "604800", 0,
     31536000, CFG_WORKER, 0, "Cache lifetime of architecture jobs, seconds."},
    {"CODEINSIGHT_INPUT_MAX_BYTES", CFG_T_INT, OFF(input_max_bytes), "48000", 1000, 4000000,
     CFG_WORKER, 0,
     "Largest code excerpt sent to the model, bytes; the rest is listed as skipped, and the "
     "model's findings and fixes there are dropped."},
    {"CODEINSIGHT_PROMPTS_DIR", CFG_T_STR, OFF(prompts_dir), "prompts", 0, 0, CFG_WORKER, 0,
     "Directory of system_brain.json and templates/."},
    {"CODEINSIGHT_ESLINT_DIR", CFG_T_STR, OFF(eslint_dir), "deploy/eslint", 0, 0, CFG_WORKER, 0,
     "Directory with node_modules/.bin/eslint and eslint.config.mjs (installed by make deps)."},
    {"CODEINSIGHT_VISIBILITY_TIMEOUT_MS", CFG_T_INT, OFF(visibility_ms), "60000", 1000, 3600000,
     CFG_WORKER, 0,
     "A pending entry idle this long is reclaimed by another worker (XAUTOCLAIM); live "
     "workers refresh their entries at a third of it."},
    {"CODEINSIGHT_MAX_ATTEMPTS", CFG_T_INT, OFF(max_attempts), "5", 1, 100, CFG_WORKER, 0,
     "Deliveries of a job before it is dead-lettered (<stream>:dead) and marked failed."},
    {"CODEINSIGHT_RESULT_CACHE_SHARED", CFG_T_INT, OFF(result_cache_shared), "0", 0, 1,
     CFG_GATEWAY, 0, "1: identical submissions share results across users (one organisation); "
     "another user's hit is a job of the caller's own, a copy of the result with none of its "
     "owner's identifiers."},
    {"CODEINSIGHT_QUEUE_MAX", CFG_T_INT, OFF(queue_max), "100000", 0, 100000000, CFG_GATEWAY,
     0, "Entries a stream may hold (queued and running jobs, their code included); past it "
     "POST /review answers 503 queue_full, so a pool that is down or far behind cannot fill "
     "Redis. 0: no cap."},
    {"CODEINSIGHT_TARGET_DRAIN_S", CFG_T_INT, OFF(target_drain_s), "60", 1, 86400, CFG_GATEWAY,
     0, "Seconds a stream's backlog should take to drain: GET /queue/info sizes "
     "recommended_workers for it."},
    {"CODEINSIGHT_METRICS_PORT", CFG_T_INT, OFF(metrics_port), "0", 0, 65535, CFG_WORKER, 0,
     "Port of the worker's Prometheus listener (GET /metrics, and GET /livez); 0: off. "
     "The gateway serves /metrics on PORT."},
    {"CODEINSIGHT_METRICS_BIND", CFG_T_IPV4, OFF(metrics_bind), "127.0.0.1", 0, 0, CFG_WORKER, 0,
     "IPv4 address of the worker's metrics listener (0.0.0.0 in containers)."},
    {"CODEINSIGHT_MONGO_URL", CFG_T_URL, OFF(mongo_url), "", 0, 0, CFG_WORKER, CFG_SECRET,
     "MongoDB connection string (mongodb:// or mongodb+srv://) of the optional job-history "
     "sink: each finished job, and the latest review of each file version, are written "
     "there as well; empty: off. PostgreSQL stays the record."},
    {"CODEINSIGHT_MONGO_DB", CFG_T_STR, OFF(mongo_db), "codeinsight", 0, 0, CFG_WORKER, 0,
     "MongoDB database of the job-history sink (collections jobs and file_snapshots)."},
    {"CODEINSIGHT_SANDBOX", CFG_T_INT, OFF(sandbox_enabled), "1", 0, 1, CFG_WORKER, 0,
     "1: Debug Doctor reproduces failures and verifies fixes in a bubblewrap sandbox; 0: it "
     "never runs submitted code."},
    {"CODEINSIGHT_SANDBOX_PARALLEL", CFG_T_INT, OFF(sandbox_parallel), "0", 0, 256, CFG_WORKER,
     0, "Sandboxed runs at once per heavy worker; 0 = one per core."},
    {"CODEINSIGHT_SANDBOX_TIMEOUT_MS", CFG_T_INT, OFF(sandbox_timeout_ms), "20000", 500, 600000,
     CFG_WORKER, 0, "Wall-clock limit of one sandboxed run, ms (then the sandbox is killed)."},
    {"CODEINSIGHT_SANDBOX_CPU_S", CFG_T_INT, OFF(sandbox_cpu_s), "10", 1, 3600, CFG_WORKER, 0,
     "CPU-time limit of a sandboxed run, seconds (RLIMIT_CPU)."},
    {"CODEINSIGHT_SANDBOX_MEMORY_MB", CFG_T_INT, OFF(sandbox_memory_mb), "512", 64, 65536,
     CFG_WORKER, 0, "Address-space limit of a sandboxed run, MB (RLIMIT_AS; ASan builds: "
     "ASan's own RSS limit instead)."},
    {"CODEINSIGHT_SANDBOX_OUTPUT_MAX", CFG_T_INT, OFF(sandbox_output_max), "65536", 1024,
     16777216, CFG_WORKER, 0, "Bytes of stdout and of stderr kept per sandboxed run (the tail)."},
    {"CODEINSIGHT_DEBUG_FIX_ATTEMPTS", CFG_T_INT, OFF(debug_fix_attempts), "2", 1, 5,
     CFG_GATEWAY | CFG_WORKER, 0, "Diagnose-and-verify rounds of a debug job (a failed "
     "verification is sent back once per extra round); the gateway reserves a debug job's "
     "tokens for this many model calls: give gateways and workers the same value."},
    {"CODEINSIGHT_STRESS_ALLOWED_HOSTS", CFG_T_STR, OFF(stress_allowed_hosts), "", 0, 0,
     CFG_GATEWAY | CFG_WORKER, 0,
     "Comma-separated hosts (names, IP literals or CIDRs) stress tests may target; empty: "
     "stress tests are off. Private, loopback and link-local addresses must be listed "
     "explicitly (as IPs or CIDRs)."},
    {"CODEINSIGHT_STRESS_MAX_RPS", CFG_T_INT, OFF(stress_max_rps), "200", 1, 100000,
     CFG_GATEWAY | CFG_WORKER, 0, "Highest request rate a stress test may ask for, per second."},
    {"CODEINSIGHT_STRESS_MAX_CONCURRENCY", CFG_T_INT, OFF(stress_max_concurrency), "50", 1, 1000,
     CFG_GATEWAY | CFG_WORKER, 0, "Most requests of one stress test in flight at once."},
    {"CODEINSIGHT_STRESS_MAX_DURATION_S", CFG_T_INT, OFF(stress_max_duration_s), "60", 1, 3600,
     CFG_GATEWAY | CFG_WORKER, 0, "Longest stress test, seconds."},
    {"CODEINSIGHT_STRESS_MAX_REQUESTS", CFG_T_INT, OFF(stress_max_requests), "10000", 1,
     10000000, CFG_GATEWAY | CFG_WORKER, 0, "Most requests one stress test sends."},
    {"CODEINSIGHT_STRESS_TIMEOUT_MS", CFG_T_INT, OFF(stress_timeout_ms), "10000", 100, 120000,
     CFG_WORKER, 0, "Per-request timeout of a stress test, ms (a timeout counts as an error)."},
    {"CODEINSIGHT_INFO_URL", CFG_T_HTTP_URL, OFF(info_url), "", 0, 0, CFG_GATEWAY, 0,
     "Absolute http(s) URL of this deployment's documentation, named by exported SARIF "
     "(tool.driver.informationUri) and rdjson (source.url) logs; empty: not named."},
    {"CODEINSIGHT_SSE_HEARTBEAT_S", CFG_T_INT, OFF(sse_heartbeat_s), "15", 1, 300, CFG_GATEWAY,
     0, "Seconds between heartbeat comments on an idle GET /job/:id/events stream (keep it "
     "below every proxy's idle timeout)."},
    {"CODEINSIGHT_SSE_MAX_SUBSCRIBERS", CFG_T_INT, OFF(sse_max_subscribers), "10000", 1,
     1000000, CFG_GATEWAY, 0, "Open GET /job/:id/events streams per gateway process; beyond "
     "it 503 subscribers_full. Each holds one file descriptor."},
    {"CODEINSIGHT_SSE_MAX_PER_USER", CFG_T_INT, OFF(sse_max_per_user), "200", 1, 1000000,
     CFG_GATEWAY, 0, "Open GET /job/:id/events streams one user may hold per gateway process; "
     "beyond it 429 too_many_streams."},
};

#define CFG_COUNT (sizeof cfg_table / sizeof cfg_table[0])

static void cfg_bad(const struct cfg_entry *c, const char *why)
{
    struct log_line l;

    log_begin(&l, LOG_ERROR, "config_invalid");
    log_str(&l, "variable", c->name);
    log_str(&l, "detail", why);
    log_end(&l);
}

static int cfg_parse_long(const char *s, long *out)
{
    char *end = NULL;
    long v;

    /* strtol would skip leading blanks and take a '+': neither is a number
     * an operator meant to write. */
    if (!((s[0] >= '0' && s[0] <= '9') || (s[0] == '-' && s[1] >= '0' && s[1] <= '9')))
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

/* 1 when url is http:// or https://, then a host, and holds no blank or
 * control character (what libcurl and the exported logs take as is). */
static int cfg_http_url(const char *url)
{
    const char *host;

    if (strncmp(url, "http://", 7) == 0)
        host = url + 7;
    else if (strncmp(url, "https://", 8) == 0)
        host = url + 8;
    else
        return 0;
    if (*host == '\0' || *host == '/' || *host == ':' || *host == '?' || *host == '#')
        return 0;
    for (const char *p = url; *p != '\0'; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return 0;
    return 1;
}

/* 1 when val is one of the '|'-separated words of choices. */
static int cfg_choice(const char *choices, const char *val)
{
    size_t n = strlen(val);

    for (const char *p = choices; p != NULL; p = strchr(p, '|'), p = p ? p + 1 : NULL)
        if (strncmp(p, val, n) == 0 && (p[n] == '|' || p[n] == '\0'))
            return 1;
    return 0;
}

/* 1 when s holds a control character: a value copied from a file with its
 * last line break, say, which would go into every header and URI as is. */
static int cfg_has_control(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < ' ' || *s == 0x7f)
            return 1;
    return 0;
}

/* 1 when libpq can read url as a connection URI. Its message is dropped:
 * it may quote the password. */
static int cfg_pg_url(const char *url)
{
    char *msg = NULL;
    PQconninfoOption *o;

    if (strncmp(url, "postgresql://", 13) != 0 && strncmp(url, "postgres://", 11) != 0)
        return 0;
    o = PQconninfoParse(url, &msg);
    PQfreemem(msg);
    if (o == NULL)
        return 0;
    PQconninfoFree(o);
    return 1;
}

static int cfg_set(struct config *cfg, const struct cfg_entry *c, const char *val)
{
    char *base = (char *)cfg + c->offset;
    char why[160];
    long v;

    if (c->type != CFG_T_INT && c->type != CFG_T_LOGLEVEL && cfg_has_control(val)) {
        cfg_bad(c, "holds a control character (a line break at the end? kubectl create "
                   "secret --from-file keeps a file's last one)");
        return -1;
    }
    switch (c->type) {
    case CFG_T_STR:
    case CFG_T_URL:
    case CFG_T_PG_URL:
        if (strlen(val) >= CFG_STR_MAX) {
            snprintf(why, sizeof why, "longer than %d bytes", CFG_STR_MAX - 1);
            cfg_bad(c, why);
            return -1;
        }
        if (c->min > 0 && val[0] != '\0' && strlen(val) < (size_t)c->min) {
            snprintf(why, sizeof why, "shorter than %ld bytes", c->min);
            cfg_bad(c, why);
            return -1;
        }
        if (c->type == CFG_T_STR && c->max > 0 && strlen(val) > (size_t)c->max) {
            snprintf(why, sizeof why, "longer than %ld bytes", c->max);
            cfg_bad(c, why);
            return -1;
        }
        /* Empty only reaches here as an optional URL's default: off. */
        if (c->type == CFG_T_URL && val[0] != '\0' && strstr(val, "://") == NULL) {
            cfg_bad(c, "not a URL (scheme://...)");
            return -1;
        }
        if (c->type == CFG_T_PG_URL && !cfg_pg_url(val)) {
            cfg_bad(c, "not a PostgreSQL connection URI "
                       "(postgresql://user:password@host:port/database?options)");
            return -1;
        }
        memcpy(base, val, strlen(val) + 1);
        return 0;
    case CFG_T_HTTP_URL:
        if (val[0] != '\0' && !cfg_http_url(val)) {
            cfg_bad(c, "not an http:// or https:// URL with a host");
            return -1;
        }
        memcpy(base, val, strlen(val) + 1);
        return 0;
    case CFG_T_IPV4: {
        unsigned char addr[4];
        if (strlen(val) >= CFG_STR_MAX || inet_pton(AF_INET, val, addr) != 1) {
            cfg_bad(c, "not an IPv4 address (a.b.c.d)");
            return -1;
        }
        memcpy(base, val, strlen(val) + 1);
        return 0;
    }
    case CFG_T_ENUM:
        if (val[0] != '\0' && !cfg_choice(c->choices, val)) {
            snprintf(why, sizeof why, "must be one of %s", c->choices);
            cfg_bad(c, why);
            return -1;
        }
        memcpy(base, val, strlen(val) + 1);
        return 0;
    case CFG_T_INT:
        if (cfg_parse_long(val, &v) != 0) {
            cfg_bad(c, "not an integer");
            return -1;
        }
        if (v < c->min || v > c->max) {
            snprintf(why, sizeof why, "out of range [%ld, %ld]", c->min, c->max);
            cfg_bad(c, why);
            return -1;
        }
        *(long *)base = v;
        return 0;
    case CFG_T_LOGLEVEL:
        v = log_level_parse(val);
        if (v < 0) {
            cfg_bad(c, "must be debug, info, warn or error");
            return -1;
        }
        *(long *)base = v;
        return 0;
    }
    return -1;
}

/* Reads c's variable into cfg (its default when unset). Returns 0, or -1
 * after logging why it is refused. */
static int cfg_load_entry(struct config *cfg, const struct cfg_entry *c)
{
    const char *val = getenv(c->name);

    /* Set but empty is a mistake (a ConfigMap value left blank, a missing
     * secret key) unless empty is the default itself: it is refused rather
     * than read as the default. */
    if (val != NULL && val[0] == '\0' && c->def != NULL && c->def[0] != '\0') {
        cfg_bad(c, "set but empty (unset it to use the default)");
        return -1;
    }
    if (val == NULL || val[0] == '\0') {
        if (c->def == NULL) {
            if (c->flags & CFG_REQUIRED) {
                cfg_bad(c, val == NULL ? "required but not set" : "required but empty");
                return -1;
            }
            return 0;
        }
        val = c->def;
    }
    return cfg_set(cfg, c, val);
}

int config_load(struct config *cfg, unsigned procs, struct err *e)
{
    int bad = 0;

    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < CFG_COUNT; i++)
        /* Another process's variables are none of this one's business. */
        if ((cfg_table[i].procs & procs) && cfg_load_entry(cfg, &cfg_table[i]) != 0)
            bad++;
    if (bad > 0)
        return err_set(e, ERR_CONFIG, "%d invalid environment variable(s)", bad);
    return ERR_OK;
}

int config_load_only(struct config *cfg, const char *const *names, size_t n, struct err *e)
{
    int bad = 0;

    memset(cfg, 0, sizeof *cfg);
    for (size_t k = 0; k < n; k++) {
        size_t i = 0;

        while (i < CFG_COUNT && strcmp(cfg_table[i].name, names[k]) != 0)
            i++;
        if (i == CFG_COUNT)
            return err_set(e, ERR_INTERNAL, "config_load_only: no variable %s", names[k]);
        if (cfg_load_entry(cfg, &cfg_table[i]) != 0)
            bad++;
    }
    if (bad > 0)
        return err_set(e, ERR_CONFIG, "%d invalid environment variable(s)", bad);
    return ERR_OK;
}

/* Appends s[0..n) to out (cap bytes, NUL-terminated), cutting what does
 * not fit; *len counts what was wanted. */
static void mask_put(char *out, size_t cap, size_t *len, const char *s, size_t n)
{
    if (*len + 1 < cap) {
        size_t room = cap - 1 - *len;
        memcpy(out + *len, s, n < room ? n : room);
        out[*len + (n < room ? n : room)] = '\0';
    }
    *len += n;
}

int config_url_password(const char *url, size_t *off, size_t *len)
{
    const char *scheme = strstr(url, "://"), *auth, *auth_end, *at = NULL, *colon;

    if (scheme == NULL)
        return 0;
    /* The userinfo ends at the last '@' before the path, as both URL
     * parsers read it: a password may hold '@', '?' or '#'. */
    auth = scheme + 3;
    auth_end = auth + strcspn(auth, "/");
    for (const char *q = auth; q < auth_end; q++)
        if (*q == '@')
            at = q;
    colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    if (colon == NULL)
        return 0;
    *off = (size_t)(colon + 1 - url);
    *len = (size_t)(at - colon - 1);
    return 1;
}

void config_mask_url(const char *url, char *out, size_t cap)
{
    const char *p = url;
    size_t len = 0, pw_off, pw_len;

    if (cap == 0)
        return;
    out[0] = '\0';
    if (config_url_password(url, &pw_off, &pw_len)) {
        mask_put(out, cap, &len, url, pw_off);
        mask_put(out, cap, &len, "***", 3);
        p = url + pw_off + pw_len;
    }
    /* libpq also takes password=... as a query parameter: masked whatever
     * its length (an empty one stays empty). */
    for (const char *q = strstr(p, "password="); q != NULL; q = strstr(q + 1, "password=")) {
        const char *v = q + 9, *end = v + strcspn(v, "&#");
        if (q == url || (q[-1] != '?' && q[-1] != '&') || end == v)
            continue;
        mask_put(out, cap, &len, p, (size_t)(v - p));
        mask_put(out, cap, &len, "***", 3);
        p = end;
        q = end - 1;
    }
    mask_put(out, cap, &len, p, strlen(p));
}

static void cfg_format(const struct config *cfg, const struct cfg_entry *c, char *out,
                       size_t cap)
{
    const char *base = (const char *)cfg + c->offset;

    switch (c->type) {
    case CFG_T_URL:
    case CFG_T_PG_URL:
        config_mask_url(base, out, cap);
        return;
    case CFG_T_STR:
    case CFG_T_HTTP_URL:
    case CFG_T_IPV4:
    case CFG_T_ENUM:
        snprintf(out, cap, "%s", (c->flags & CFG_SECRET) ? "***" : base);
        return;
    case CFG_T_INT:
        snprintf(out, cap, "%ld", *(const long *)base);
        return;
    case CFG_T_LOGLEVEL: {
        static const char *const names[] = {"debug", "info", "warn", "error"};
        long v = *(const long *)base;
        snprintf(out, cap, "%s", (v >= 0 && v <= 3) ? names[v] : "?");
        return;
    }
    }
}

void config_log(const struct config *cfg, unsigned procs)
{
    struct log_line l;
    char val[CFG_STR_MAX + 8];

    log_begin(&l, LOG_INFO, "config");
    for (size_t i = 0; i < CFG_COUNT; i++) {
        if (!(cfg_table[i].procs & procs))
            continue;
        cfg_format(cfg, &cfg_table[i], val, sizeof val);
        log_str(&l, cfg_table[i].name, val);
    }
    log_end(&l);
}

void config_print_markdown(FILE *out)
{
    static const struct { unsigned bit; const char *name; } users[] = {
        {CFG_GATEWAY, "gateway"}, {CFG_WORKER, "worker"}, {CFG_MIGRATE, "migrate"},
        {CFG_ADMIN, "admin"}};

    fprintf(out, "| Variable | Used by | Default | Bounds | Description |\n");
    fprintf(out, "| --- | --- | --- | --- | --- |\n");
    for (size_t i = 0; i < CFG_COUNT; i++) {
        const struct cfg_entry *c = &cfg_table[i];
        char who[64] = "", bounds[64] = "", def[CFG_STR_MAX + 4];
        size_t used = 0;

        for (size_t u = 0; u < sizeof users / sizeof users[0]; u++)
            if ((c->procs & users[u].bit) && used < sizeof who)
                used += (size_t)snprintf(who + used, sizeof who - used, "%s%s",
                                         used ? ", " : "", users[u].name);
        if (c->type == CFG_T_INT)
            snprintf(bounds, sizeof bounds, "%ld..%ld", c->min, c->max);
        else if (c->type == CFG_T_IPV4)
            snprintf(bounds, sizeof bounds, "IPv4 address");
        else if (c->type == CFG_T_HTTP_URL)
            snprintf(bounds, sizeof bounds, "http(s) URL");
        else if (c->type == CFG_T_PG_URL)
            snprintf(bounds, sizeof bounds, "PostgreSQL URI");
        else if (c->type == CFG_T_URL)
            snprintf(bounds, sizeof bounds, "URL");
        else if (c->type == CFG_T_LOGLEVEL)
            snprintf(bounds, sizeof bounds, "debug, info, warn, error");
        else if (c->type == CFG_T_ENUM)
            /* '|' would end the Markdown cell: the words are listed with commas. */
            for (size_t k = 0, n = 0; c->choices[k] != '\0' && n + 3 < sizeof bounds; k++) {
                if (c->choices[k] == '|')
                    bounds[n++] = ',';
                bounds[n++] = c->choices[k] == '|' ? ' ' : c->choices[k];
                bounds[n] = '\0';
            }
        else if (c->min > 0 && c->max > 0)
            snprintf(bounds, sizeof bounds, "%ld..%ld bytes", c->min, c->max);
        else if (c->min > 0)
            snprintf(bounds, sizeof bounds, ">= %ld bytes", c->min);
        if (c->def != NULL && c->def[0] == '\0')
            snprintf(def, sizeof def, "(empty)");
        else if (c->def != NULL)
            snprintf(def, sizeof def, "`%s`", c->def);
        else
            snprintf(def, sizeof def, "(required)");
        fprintf(out, "| `%s` | %s | %s | %s | %s%s |\n", c->name, who, def, bounds, c->help,
                !(c->flags & CFG_SECRET) ? ""
                : c->type == CFG_T_URL || c->type == CFG_T_PG_URL
                    ? " The password is masked in logs."
                                         : " Secret: never logged.");
    }
}
