/* config.h - all configuration, from environment variables, in one table.
 *
 * config_load() reads every variable the calling process uses once, at start,
 * validates types and bounds, and reports each bad variable by name. After
 * that the struct is read-only. Secrets have no default and never print.
 */
#ifndef CI_CONFIG_H
#define CI_CONFIG_H

#include <stddef.h>
#include <stdio.h>

struct err;

/* Which process reads a variable (a bit mask). */
#define CFG_GATEWAY 0x1u
#define CFG_WORKER  0x2u
#define CFG_MIGRATE 0x4u
#define CFG_ADMIN   0x8u

#define CFG_STR_MAX 512

struct config {
    char bind[CFG_STR_MAX];         /* gateway listen address */
    long port;                      /* gateway TCP port */
    char redis_url[CFG_STR_MAX];    /* redis://[:password@]host:port[/db] */
    char database_url[CFG_STR_MAX]; /* libpq connection URI */
    char schema_dir[CFG_STR_MAX];   /* directory of NNN_name.sql migrations */
    long migrate_lock_timeout_ms;   /* a migration's wait for each lock; 0 = no limit */
    long migrate_out_of_order;      /* 1: apply a pending file below the last applied */
    long log_level;                 /* enum log_level */
    long body_max;                  /* bytes, largest accepted request body */
    long view_cache_mb;             /* finished jobs' views kept by a gateway; 0 = off */
    long http_threads;              /* MHD thread pool size; 0 = number of cores */
    long http_wait_threads;         /* threads of the waiting routes; 0 = four per core */
    long http_wait_queue;           /* requests queued for them at most */
    long http_timeout_s;            /* idle connection timeout, seconds */
    long job_ttl_s;                 /* lifetime of a job's Redis hot copy, seconds */
    long worker_concurrency;        /* jobs in flight per worker; 0 = pool default */
    long lint_parallel;             /* linter processes at once; 0 = number of cores */
    long lint_timeout_ms;           /* wall-clock limit for one linter run */
    long lint_output_max;           /* bytes of linter output kept per stream */
    long lint_sandbox;              /* 0 off, 1 when it works here, 2 only sandboxed */
    long lint_memory_mb;            /* RLIMIT_AS of a sandboxed linter (ESLint: more) */
    long read_block_ms;             /* XREADGROUP BLOCK, bounds shutdown latency */
    long shutdown_grace_s;          /* in-flight work deadline after SIGTERM */
    long retry_max_ms;              /* cap of the persistence retry backoff */
    char key_pepper[CFG_STR_MAX];   /* secret: keys API-key hashes */
    char jwt_secret[CFG_STR_MAX];   /* secret: signs our own JWTs (HS256) */
    char jwt_issuer[CFG_STR_MAX];
    long jwt_ttl_s;                 /* lifetime of a login token, <= 3600 */
    long auth_cache_ttl_s;          /* Redis cache of key/user identities */
    long identity_cache_ms;         /* a gateway's own copy of them; 0 = off */
    char trusted_proxies[CFG_STR_MAX];  /* IPs/CIDRs whose X-Forwarded-For is believed */
    char supabase_jwt_secret[CFG_STR_MAX];  /* secret; "" when not used */
    char supabase_jwks_url[CFG_STR_MAX];    /* "" when not used */
    char supabase_issuer[CFG_STR_MAX];      /* "" = not checked */
    char supabase_audience[CFG_STR_MAX];    /* "" = not checked */
    long throttle_cooldown_s;       /* model-call deferral of a soft-throttled job */
    long rate_limit_scale_pct;      /* multiplies every plan rate and burst */
    char llm_provider[CFG_STR_MAX];        /* anthropic|openrouter|openai|offline|"" (auto) */
    char llm_base_url[CFG_STR_MAX];
    char llm_model[CFG_STR_MAX];
    char anthropic_api_key[CFG_STR_MAX];    /* secrets */
    char openrouter_api_key[CFG_STR_MAX];
    char llm_api_key[CFG_STR_MAX];
    long max_inflight;              /* model calls in flight per worker */
    long llm_timeout_ms;
    long heavy_llm_timeout_ms;      /* the heavy pool's, for its longer answers */
    long llm_connect_timeout_ms;
    long llm_max_attempts;
    char llm_prices[CFG_STR_MAX];   /* "model=in,out,cache_write,cache_read;..." USD per Mtok */
    long breaker_threshold;         /* consecutive failures that open the circuit */
    long breaker_cooldown_ms;
    long cache_ttl_review_s;
    long cache_ttl_debug_s;
    long cache_ttl_architecture_s;
    long input_max_bytes;           /* largest code excerpt sent to the model */
    char prompts_dir[CFG_STR_MAX];
    long result_cache_shared;       /* 1: the gateway's result cache spans users */
    long queue_max;                 /* entries a stream may hold; 0: no cap */
    char eslint_dir[CFG_STR_MAX];   /* npm install of eslint and its shipped config */
    long visibility_ms;             /* pending entries idle longer are reclaimed */
    long max_attempts;              /* deliveries before an entry is dead-lettered */
    long target_drain_s;            /* backlog drain time recommended_workers aims at */
    long metrics_port;              /* worker GET /metrics listener; 0 = off */
    char metrics_bind[CFG_STR_MAX]; /* its IPv4 address */
    long sandbox_enabled;           /* 0: Debug Doctor never runs code */
    long sandbox_parallel;          /* sandboxed runs at once; 0 = number of cores */
    long sandbox_timeout_ms;        /* wall-clock limit of one sandboxed run */
    long sandbox_cpu_s;             /* RLIMIT_CPU */
    long sandbox_memory_mb;         /* RLIMIT_AS */
    long sandbox_output_max;        /* bytes of stdout / stderr kept per run */
    long debug_fix_attempts;        /* diagnose -> verify rounds of a debug job */
    char stress_allowed_hosts[CFG_STR_MAX];  /* "" = stress tests off */
    char mongo_url[CFG_STR_MAX];    /* job-history sink; "" = off */
    char mongo_db[CFG_STR_MAX];
    long stress_max_rps;
    long stress_max_concurrency;
    long stress_max_duration_s;
    long stress_max_requests;
    long stress_timeout_ms;         /* per-request limit of a stress test */
    char info_url[CFG_STR_MAX];     /* named by exported logs; "" = none */
    long sse_heartbeat_s;           /* heartbeat comment period of event streams */
    long sse_max_subscribers;       /* open event streams per gateway process */
    long sse_max_per_user;          /* of which one user may hold */
};

/* Loads the variables used by the processes in `procs` (CFG_* mask) into cfg,
 * applying defaults. On failure logs one line per bad variable (naming it, never
 * echoing a secret) and returns ERR_CONFIG; cfg is then unusable. */
int config_load(struct config *cfg, unsigned procs, struct err *e);

/* Loads only the n variables named (each as config_load would: its default,
 * type, bounds, required), for a tool that uses nothing else of a process's
 * configuration (codeinsight-worker --check-live); the rest of cfg is zero.
 * Returns ERR_OK, ERR_CONFIG as config_load, or ERR_INTERNAL for a name
 * not in the table. */
int config_load_only(struct config *cfg, const char *const *names, size_t n, struct err *e);

/* Logs one "config" line with every value used by `procs`, secrets masked. */
void config_log(const struct config *cfg, unsigned procs);

/* Writes the whole table as a Markdown table (name, used by, default, bounds,
 * description) to out; docs/configuration.md embeds this output. */
void config_print_markdown(FILE *out);

/* Where url's userinfo password is ("scheme://user:PASSWORD@host..."; the
 * userinfo ends at the last '@' before the path): 1 with its offset and
 * length (maybe 0), else 0. */
int config_url_password(const char *url, size_t *off, size_t *len);

/* Copies url into out (cap bytes) with any password replaced by "***". */
void config_mask_url(const char *url, char *out, size_t cap);

#endif
