/* job.h - the job model shared by gateway and worker: streams, Redis keys and
 * fields, the Lua scripts, the SQL entry points, and the public JSON view.
 */
#ifndef CI_JOB_H
#define CI_JOB_H

#include <stddef.h>

#include "common/json.h"
#include "common/kv.h"

/* Streams and their consumer groups. */
#define JOB_STREAM_FAST  "review_jobs"
#define JOB_STREAM_HEAVY "review_jobs:heavy"
#define JOB_GROUP_FAST   "fast"
#define JOB_GROUP_HEAVY  "heavy"

/* Redis key of a job's hot copy: "job:<uuid>". */
#define JOB_KEY_PREFIX "job:"
#define JOB_KEY_MAX (sizeof JOB_KEY_PREFIX + 36)

/* PostgreSQL entry points (functions defined in schema/migrations). */
#define JOB_SQL_SAVE "SELECT ci_job_save($1::jsonb)"
/* What ci_job_save answers when another delivery's result stands (schema/
 * migrations/008_fence.sql); else the job's charge in tokens, or NULL. */
#define JOB_SAVE_SUPERSEDED "-1"
#define JOB_SQL_GET  "SELECT ci_job_get($1::uuid)"
/* The caller's own copy of another user's finished job (a shared
 * result-cache hit, schema/migrations/012_job_copy.sql): source, the new
 * id, the caller, request id, repo id, the task_result members to copy
 * ("{a,b}"). Answers the copy's id (the one made before, for the same
 * caller and source), or NULL when the source is not a done job. */
#define JOB_SQL_COPY "SELECT ci_job_copy($1::uuid, $2::uuid, $3::uuid, $4, $5, $6::text[])"

enum job_type { JOB_REVIEW, JOB_DEBUG, JOB_ARCHITECTURE, JOB_STRESS, JOB__TYPES };

/* Lua scripts from schema/redis, embedded at build time. */
extern struct kv_script job_script_admit;       /* identity, bucket, budget, job, XADD */
extern struct kv_script job_script_gate;        /* identity and bucket of a read */
extern struct kv_script job_script_ratelimit;   /* buckets without an identity (login) */
extern struct kv_script job_script_start;
extern struct kv_script job_script_finish;
extern struct kv_script job_script_defer;       /* park a soft-throttled job */
extern struct kv_script job_script_undefer;     /* put due jobs back on the stream */
extern struct kv_script job_script_queue_info;  /* a stream as operators see it (read-only) */
extern struct kv_script job_script_event;       /* one live event of a pipeline step */
extern struct kv_script job_script_read;        /* a job's hash, else its stream entry */
extern struct kv_script job_script_cancel;      /* its owner cancels a job (DELETE /job/:id) */
extern struct kv_script job_script_heartbeat;   /* a worker's own entries kept fresh */
extern struct kv_script job_script_consumer_prune;  /* consumers holding nothing go */
extern struct kv_script job_script_auth_fill;   /* an identity into the cache, revocation kept */
extern struct kv_script job_script_unknown_key; /* unknown API keys per client address */
extern struct kv_script job_script_key_revoke;  /* a revoked API key into the cache */
extern struct kv_script job_script_release;     /* a drained job's delivery given back */

/* Live job events (GET /job/:id/events): the job's capped stream of events
 * "jobev:<id>" (fields type, data) and the channel every event is published
 * on as "<job id> <entry id> <type> <json>" (schema/redis/lib/events.lua). */
#define JOB_EVENTS_KEY_PREFIX "jobev:"
#define JOB_EVENTS_KEY_MAX (sizeof JOB_EVENTS_KEY_PREFIX + 36)
#define JOB_EVENTS_CHANNEL "ci:events"
/* Entries to ask for when reading a job's whole event stream: more than it
 * keeps (XADD MAXLEN 64 in schema/redis/lib/events.lua). */
#define JOB_EVENTS_READ_MAX "200"

/* Version of the whole review pipeline, part of every result-cache key and
 * of every answer version (worker/answer_version.h). */
#define JOB_PIPELINE_VERSION "1"

/* The result cache: "rcache:<user id or shared>:<digest of the request>"
 * holds "<job id> <answer version>", written by the worker that finished
 * the job; "answers:<stream>" holds the answer versions, space-separated,
 * the workers of that stream's pool give now (one per task of the pool),
 * published by each worker as it starts and with each heartbeat. admit.lua
 * answers from an entry only while its version is among its pool's
 * (docs/admission.md). */
#define JOB_ANSWERS_KEY_PREFIX "answers:"

/* Computes the scripts' SHA1s. Call once at start, before threads. */
void job_scripts_init(void);

/* "review" | "debug" | "architecture" | "stress". */
const char *job_type_str(enum job_type t);

/* Parses a request_type; returns -1 when unknown. */
int job_type_parse(const char *s);

/* 1 when name is a Debug Doctor runner ("python", "pytest", "node", "sh",
 * "bash", "cc"): how a submitted program may be run, never a shell string. */
int job_runner_valid(const char *name);

/* Stream a job type is queued on. */
const char *job_stream_for(enum job_type t);

/* Writes "job:<id>" into key (JOB_KEY_MAX bytes). */
void job_key(const char *job_id, char *key);

/* Soft-throttled jobs parked until due (docs/pipeline.md): a stream's
 * sorted set "deferred:<stream>" (scored by the due time, ms) and a parked
 * job's fields "deferred:job:<id>". */
#define JOB_DEFERRED_KEY_MAX 96

/* Writes "deferred:<stream>" into out. */
void job_deferred_set_key(const char *stream, char out[JOB_DEFERRED_KEY_MAX]);

/* Writes "deferred:job:<id>" into out. */
void job_deferred_hold_key(const char *job_id, char out[JOB_DEFERRED_KEY_MAX]);

/* A job id names the job's stream entry (docs/admission.md, "Job ids"). It
 * is a UUIDv7, "MMMMMMMM-MMMM-7FFF-TSSS-SSSRRRRRRRRR": M the entry's 48-bit
 * millisecond time, F the 12-bit fraction of that millisecond from Redis'
 * clock, T the variant nibble naming the stream ('8' fast, '9' heavy), S
 * the entry's 24-bit sequence number, R 36 random bits. Ids sort in the
 * order Redis admitted the jobs. A queued job has no hash: its entry is its
 * hot copy until a worker takes it (job_start.lua), so admission writes one
 * key fewer. The gateway sends a draft (job_id_draft) and admit.lua adds
 * the entry and writes its time and sequence into the draft. */
#define JOB_ID_STREAM_FAST  '8'
#define JOB_ID_STREAM_HEAVY '9'
/* T of a job that has no entry: a copy the gateway made of a finished job
 * (JOB_SQL_COPY), its M the copy's time and the rest random. */
#define JOB_ID_COPY 'a'
/* "<ms>-<seq>" of an entry a job id names, plus NUL. */
#define JOB_ENTRY_ID_MAX 32
/* The member of the entry's meta (a field in older entries) holding F and
 * R of its id (12 hex digits). */
#define JOB_ID_BITS_FIELD "id_bits"

/* The format of the stream entries this release writes: a decimal, the
 * member JOB_ENTRY_FORMAT_FIELD of an entry's meta. A release raises it
 * when an older worker could not run its entries as they say (a new
 * request type, a field whose meaning changed). A worker leaves an entry
 * of a later format pending for a worker that knows it (docs/operations.md,
 * "Upgrades"); an entry without one is format 1. */
#define JOB_ENTRY_FORMAT "1"
#define JOB_ENTRY_FORMAT_FIELD "format"

/* How this release reads an entry whose format is value (NULL when it has
 * none): 1 when it can (none, or not later than JOB_ENTRY_FORMAT), 0 when
 * it is of a later format, -1 when value is not a decimal of 1 to 9 digits
 * (the entry is malformed). */
int job_entry_format_known(const char *value);

/* Writes a draft id for a job of type t into out (37 bytes): random bits and
 * the stream's nibble; admit.lua completes it. Returns out. */
char *job_id_draft(enum job_type t, char *out);

/* Writes a new id for a copy (JOB_ID_COPY) into out (37 bytes). Returns out. */
char *job_id_copy(char *out);

/* The stream and entry id ("<ms>-<seq>") job_id names. Returns 0, or -1
 * when it names none (not a well-formed id, or one from before ids named
 * entries). */
int job_entry_of(const char *job_id, const char **stream, char eid[JOB_ENTRY_ID_MAX]);

/* Writes the id naming entry eid ("<ms>-<seq>") of stream, with bits (its
 * JOB_ID_BITS_FIELD), into out (37 bytes), as admit.lua does. Returns 0, or
 * -1 (out untouched) when one of them is malformed. */
int job_id_of_entry(const char *stream, const char *eid, const char *bits, char *out);

/* What job_read.lua and gate.lua are given to read a job's hot copy:
 * writes its hash key into key and, when the id names an entry, the stream
 * into *stream and the entry id into eid. Returns the number of keys: 2,
 * or 1 (the hash alone). */
int job_read_keys(const char *job_id, char key[JOB_KEY_MAX], const char **stream,
                  char eid[JOB_ENTRY_ID_MAX]);

/* Reads a job's hot copy, one script call (job_read.lua): its hash, else,
 * while no worker has taken it, the view's fields of its stream entry, as
 * an HGETALL reply (a flat cJSON array, empty when there is neither) in
 * *flat (owns). Returns an err code. */
int job_read(struct kv *kv, const char *job_id, cJSON **flat, struct err *e);

/* job_read for n jobs (0..KV_PIPELINE_MAX) in one round trip
 * (kv_eval_pipeline): flats[i] (owns) is job_ids[i]'s hot copy as job_read
 * gives it, or NULL when that read failed. Returns as kv_eval_pipeline:
 * ERR_OK; ERR_PROTOCOL when Redis refused some reads (e: the first);
 * ERR_REDIS_UNAVAILABLE when the connection failed (the reads answered
 * before it are kept); ERR_INTERNAL when out of memory (the reads it cost
 * are NULL) or n is out of range (flats untouched).
 *
 *     cJSON *flats[2];
 *     job_read_many(kv, 2, (const char *[]){id1, id2}, flats, &e);
 *     view = flats[0] ? job_view_from_hash(id1, flats[0]) : NULL; ...cJSON_Delete each
 */
int job_read_many(struct kv *kv, int n, const char *const *job_ids, cJSON **flats,
                  struct err *e);

/* A submission's small fields (type, created_at, file_path, ...) travel
 * as ONE member of the stream entry and of the job hash, JOB_META_FIELD: a
 * JSON object of strings. Redis then moves one argument instead of a pair
 * per field (docs/admission.md, "Batches"). admit.lua puts the admission's
 * own members first in the entry's meta (user_id, month, reserved,
 * throttled, degraded, degraded_reason, result_key, JOB_ID_BITS_FIELD);
 * entries of an older gateway hold those as fields. In a job hash a field
 * written separately (the worker's canonical language, a later degraded)
 * wins over the same name in meta; admission writes no name both ways into
 * a stream entry. */
#define JOB_META_FIELD "meta"

/* Encodes names[i]: values[i], for each non-NULL values[i], as a JSON
 * object. Returns the text (malloc'd, owns) or NULL when out of memory. */
char *job_meta_encode(const char *const names[], const char *const values[], size_t n);

/* Adds the string members of a meta text to obj, replacing members of the
 * same name. Returns 0, or -1 when meta is not a JSON object (obj is then
 * unchanged). */
int job_meta_expand(cJSON *obj, const char *meta);

/* A stream entry's flat field list [name, value, ...] (XREADGROUP's) as an
 * object, the members of a meta field as fields of their own; later
 * duplicates win, non-string pairs are skipped. Returns it (owns), or NULL
 * when out of memory. */
cJSON *job_entry_object(const cJSON *fields);

/* Builds the public view (GET /job/:id) from a Redis HGETALL reply (a flat
 * cJSON array of field, value strings). Returns the view (owns) or NULL when
 * the hash is empty or has no type/status (expired or never existed). */
cJSON *job_view_from_hash(const char *job_id, const cJSON *flat);

/* The workers' channel. Its messages: a job id, a running job its owner
 * cancelled (job_cancel.lua), which the worker holding it ends; and
 * JOB_RELEASED_MESSAGE followed by a stream's name, entries a draining
 * worker gave back (job_release.lua), which live workers of that stream
 * reclaim at once. Named for its first message; the name stays, so that
 * gateways and workers of two releases hear each other. */
#define WORKER_CHANNEL "ci:cancel"
#define JOB_RELEASED_MESSAGE "released "

/* The error text of a job its owner cancelled. */
#define JOB_CANCELLED_ERROR "cancelled by its owner"

/* 1 when a view's status is final (done, failed or cancelled): the job will
 * not change. */
int job_view_finished(const cJSON *view);

#endif
