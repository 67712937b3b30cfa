/* mongo_sink.c - finished jobs to MongoDB from a writer thread. */
#include "worker/mongo_sink.h"

#include "common/clock.h"
#include "common/config.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/metrics_table.h"
#include "worker/history_doc.h"

#include <mongoc/mongoc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* MongoDB's own limit on a database name's bytes. */
#define MONGO_DB_NAME_MAX 63
#define MONGO_APPNAME "codeinsight-worker"

struct item {
    struct item *next;
    size_t len;
    char doc[];                     /* NUL-terminated */
};

struct mongo_sink {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;              /* an item came, or stop */
    struct item *head, *tail;       /* under mu */
    size_t n, bytes;                /* under mu */
    int stopping;                   /* under mu */
    int stopped;                    /* under mu: the writer returned */
    int64_t deadline_ms;            /* monotonic; set with stopping */
    int64_t drop_logged_ms;         /* monotonic; under mu */
    mongoc_uri_t *uri;
    mongoc_client_t *client;        /* the thread's, created on the first write */
    char db[MONGO_DB_NAME_MAX + 1];
};

static pthread_once_t library_once = PTHREAD_ONCE_INIT;

/* mongo-c-driver's own messages, as log lines: warnings and errors only. */
static void on_mongoc_log(mongoc_log_level_t level, const char *domain, const char *message,
                          void *arg)
{
    struct log_line l;

    (void)arg;
    if (level > MONGOC_LOG_LEVEL_WARNING)
        return;
    log_begin(&l, level == MONGOC_LOG_LEVEL_WARNING ? LOG_WARN : LOG_ERROR, "mongoc_log");
    log_str(&l, "domain", domain);
    log_str(&l, "detail", message);
    log_end(&l);
}

static void library_init(void)
{
    mongoc_log_set_handler(on_mongoc_log, NULL);
    mongoc_init();
    atexit(mongoc_cleanup);
}

void mongo_sink_forget_counters(void)
{
    char name[32];

    /* The name libmongoc's counters use (mongoc-counters.c). */
    snprintf(name, sizeof name, "/mongoc-%d", (int)getpid());
    shm_unlink(name);
}

int mongo_sink_db_check(const char *db, struct err *e)
{
    if (db[0] != '\0' && strlen(db) <= MONGO_DB_NAME_MAX && strpbrk(db, "/\\. \"$*<>:|?") == NULL)
        return ERR_OK;
    return err_set(e, ERR_CONFIG, "CODEINSIGHT_MONGO_DB is not a MongoDB database name "
                                  "(1-63 bytes, none of / \\ . space \" $ * < > : | ?)");
}

static const char *const outcomes[] = {
    "outcome=\"written\"", "outcome=\"failed\"", "outcome=\"dropped\""};

static void count(const char *outcome)
{
    char labels[48];

    snprintf(labels, sizeof labels, "outcome=\"%s\"", outcome);
    metrics_inc(MET_HISTORY_WRITES, labels);
}

/* Waits on s->cv, under s->mu, for ms at most (woken earlier by a
 * broadcast: callers check their condition again). */
static void cv_wait_ms(struct mongo_sink *s, int64_t ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&s->cv, &s->mu, &ts);
}

/* Sleeps ms, less when told to stop past the drain deadline. Returns 0,
 * or -1 when the deadline passed. */
static int sink_wait(struct mongo_sink *s, int64_t ms)
{
    int64_t until = clock_mono_ms() + ms, now;
    int rc = 0;

    pthread_mutex_lock(&s->mu);
    while ((now = clock_mono_ms()) < until) {
        int64_t end = until;
        if (s->stopping && s->deadline_ms < end)
            end = s->deadline_ms;
        if (now >= end)
            break;
        cv_wait_ms(s, end - now);
    }
    if (s->stopping && clock_mono_ms() >= s->deadline_ms)
        rc = -1;
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* One upsert by _id: replace (jobs) or update (file_snapshots). */
static int upsert(struct mongo_sink *s, const char *coll, const bson_t *sel, const bson_t *doc,
                  int replace, bson_error_t *err)
{
    mongoc_collection_t *c = mongoc_client_get_collection(s->client, s->db, coll);
    bson_t opts = BSON_INITIALIZER;
    bool ok;

    BSON_APPEND_BOOL(&opts, "upsert", true);
    ok = replace ? mongoc_collection_replace_one(c, sel, doc, &opts, NULL, err)
                 : mongoc_collection_update_one(c, sel, doc, &opts, NULL, err);
    bson_destroy(&opts);
    mongoc_collection_destroy(c);
    return ok ? 0 : -1;
}

/* Writes one document: 0 written, -1 worth another try (err set), 1
 * never writable (not a job document). */
static int write_doc(struct mongo_sink *s, const struct item *it, bson_error_t *err)
{
    cJSON *doc = cJSON_ParseWithLength(it->doc, it->len);
    bson_t job = BSON_INITIALIZER, id = BSON_INITIALIZER;
    bson_t sel = BSON_INITIALIZER, upd = BSON_INITIALIZER;
    int rc = 1, snap = 0;

    if (doc == NULL || history_job(doc, &job) != 0 ||
        !BSON_APPEND_UTF8(&id, "_id", json_str(doc, "job_id")) ||
        (snap = history_snapshot(doc, &sel, &upd)) < 0)
        goto out;
    rc = -1;
    if (s->client == NULL) {
        s->client = mongoc_client_new_from_uri_with_error(s->uri, err);
        if (s->client == NULL)
            goto out;
        mongoc_client_set_error_api(s->client, MONGOC_ERROR_API_VERSION_2);
    }
    if (upsert(s, "jobs", &id, &job, 1, err) < 0 ||
        (snap == 1 && upsert(s, "file_snapshots", &sel, &upd, 0, err) < 0))
        goto out;
    rc = 0;
out:
    bson_destroy(&job);
    bson_destroy(&id);
    bson_destroy(&sel);
    bson_destroy(&upd);
    cJSON_Delete(doc);
    return rc;
}

static void log_failure(const struct item *it, const char *why, int attempts)
{
    cJSON *doc = cJSON_ParseWithLength(it->doc, it->len);
    struct log_line l;

    log_begin(&l, LOG_ERROR, "history_write_failed");
    log_str(&l, "job_id", json_str(doc, "job_id") ? json_str(doc, "job_id") : "");
    log_int(&l, "attempts", attempts);
    log_str(&l, "detail", why);
    log_end(&l);
    cJSON_Delete(doc);
}

/* Tries it MONGO_SINK_ATTEMPTS times, 0.5, 1 and 2 s apart. */
static void write_item(struct mongo_sink *s, const struct item *it)
{
    bson_error_t err;
    int64_t backoff = 500;
    int attempt = 0, rc;

    memset(&err, 0, sizeof err);
    while ((rc = write_doc(s, it, &err)) < 0 && ++attempt < MONGO_SINK_ATTEMPTS) {
        if (sink_wait(s, backoff) < 0)
            break;
        backoff *= 2;
    }
    if (rc == 0) {
        count("written");
        return;
    }
    count("failed");
    log_failure(it, rc > 0 ? "not a job document" : err.message, attempt + (rc > 0));
}

/* Drops what is left at the drain deadline. */
static void drop_rest(struct mongo_sink *s)
{
    size_t dropped = 0;

    while (s->head != NULL) {
        struct item *it = s->head;
        s->head = it->next;
        free(it);
        dropped++;
        count("dropped");
    }
    s->tail = NULL;
    s->n = s->bytes = 0;
    metrics_set(MET_HISTORY_QUEUE, "", 0);
    if (dropped > 0) {
        struct log_line l;
        log_begin(&l, LOG_WARN, "history_dropped");
        log_int(&l, "documents", (int64_t)dropped);
        log_str(&l, "reason", "the worker stopped before they were written");
        log_end(&l);
    }
}

static void *writer(void *arg)
{
    struct mongo_sink *s = arg;

    for (;;) {
        struct item *it;

        pthread_mutex_lock(&s->mu);
        while (s->head == NULL && !s->stopping)
            pthread_cond_wait(&s->cv, &s->mu);
        if (s->head == NULL || (s->stopping && clock_mono_ms() >= s->deadline_ms)) {
            drop_rest(s);
            s->stopped = 1;
            pthread_cond_broadcast(&s->cv);
            pthread_mutex_unlock(&s->mu);
            return NULL;
        }
        it = s->head;
        s->head = it->next;
        if (s->head == NULL)
            s->tail = NULL;
        s->n--;
        s->bytes -= it->len;
        metrics_set(MET_HISTORY_QUEUE, "", (double)s->n);
        pthread_mutex_unlock(&s->mu);
        write_item(s, it);
        free(it);
    }
}

/* 1 when msg holds the connection string's password. */
static int shows_password(const char *msg, const char *url)
{
    size_t off, len;

    return config_url_password(url, &off, &len) && len > 0 &&
           memmem(msg, strlen(msg), url + off, len) != NULL;
}

static mongoc_uri_t *uri_parse(const char *url, struct err *e)
{
    bson_error_t berr;
    mongoc_uri_t *uri;

    memset(&berr, 0, sizeof berr);
    uri = mongoc_uri_new_with_error(url, &berr);
    if (uri == NULL) {
        err_set(e, ERR_CONFIG,
                "CODEINSIGHT_MONGO_URL is not a MongoDB connection string "
                "(mongodb://[user:password@]host[:port][,...][/db][?options], or "
                "mongodb+srv://...): %s",
                shows_password(berr.message, url) ? "(the reason names its password)"
                                                  : berr.message);
        return NULL;
    }
    if (mongoc_uri_get_option_as_int32(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, -1) < 0)
        mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS,
                                       MONGO_SINK_SELECT_MS);
    /* A server that accepts and never answers holds a write this long at
     * most (mongo-c-driver waits five minutes). */
    if (mongoc_uri_get_option_as_int32(uri, MONGOC_URI_SOCKETTIMEOUTMS, -1) < 0)
        mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SOCKETTIMEOUTMS, MONGO_SINK_SOCKET_MS);
    if (mongoc_uri_get_appname(uri) == NULL)
        mongoc_uri_set_appname(uri, MONGO_APPNAME);
    return uri;
}

struct mongo_sink *mongo_sink_new(const char *url, const char *db, struct err *e)
{
    struct mongo_sink *s;

    if (mongo_sink_db_check(db, e) != ERR_OK)
        return NULL;
    pthread_once(&library_once, library_init);
    s = calloc(1, sizeof *s);
    if (s == NULL) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    snprintf(s->db, sizeof s->db, "%s", db);
    if ((s->uri = uri_parse(url, e)) == NULL) {
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (pthread_create(&s->thread, NULL, writer, s) != 0) {
        err_set(e, ERR_INTERNAL, "cannot start the history writer thread");
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        mongoc_uri_destroy(s->uri);
        free(s);
        return NULL;
    }
    /* Every outcome reads 0 from the start, so that the first loss is an
     * increase (an alert on increase() sees it). */
    for (size_t i = 0; i < sizeof outcomes / sizeof outcomes[0]; i++)
        metrics_add(MET_HISTORY_WRITES, outcomes[i], 0);
    metrics_set(MET_HISTORY_QUEUE, "", 0);
    return s;
}

int mongo_sink_put(struct mongo_sink *s, const char *doc, size_t len)
{
    struct item *it = NULL;
    const char *why = NULL;
    int64_t now;

    pthread_mutex_lock(&s->mu);
    if (s->stopping || s->n >= MONGO_SINK_QUEUE_MAX || len > MONGO_SINK_QUEUE_BYTES - s->bytes)
        why = "the history queue is full";
    else if ((it = malloc(sizeof *it + len + 1)) == NULL)
        why = "out of memory";
    if (it != NULL) {
        it->next = NULL;
        it->len = len;
        memcpy(it->doc, doc, len);
        it->doc[len] = '\0';
        if (s->tail != NULL)
            s->tail->next = it;
        else
            s->head = it;
        s->tail = it;
        s->n++;
        s->bytes += len;
        metrics_set(MET_HISTORY_QUEUE, "", (double)s->n);
        pthread_cond_signal(&s->cv);
    }
    /* While MongoDB is down the queue stays full: one line a second. */
    now = clock_mono_ms();
    if (why != NULL && now - s->drop_logged_ms >= 1000)
        s->drop_logged_ms = now;
    else if (why != NULL)
        why = "";
    pthread_mutex_unlock(&s->mu);
    if (it != NULL)
        return 0;
    count("dropped");
    if (why[0] != '\0')
        log_event(LOG_WARN, "history_dropped", "reason", why);
    return -1;
}

/* Waits, under s->mu, until the writer returned or the monotonic ms
 * until passed. Returns 1 when it returned. */
static int wait_stopped(struct mongo_sink *s, int64_t until)
{
    int64_t now;

    while (!s->stopped && (now = clock_mono_ms()) < until)
        cv_wait_ms(s, until - now);
    return s->stopped;
}

int mongo_sink_free(struct mongo_sink *s)
{
    int stopped;

    if (s == NULL)
        return 0;
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    s->deadline_ms = clock_mono_ms() + MONGO_SINK_DRAIN_MS;
    pthread_cond_broadcast(&s->cv);
    stopped = wait_stopped(s, s->deadline_ms + MONGO_SINK_STOP_SLACK_MS);
    pthread_mutex_unlock(&s->mu);
    if (!stopped) {
        /* Its write holds libmongoc: leave both to the process's end. */
        log_event(LOG_WARN, "history_writer_stuck", "detail",
                  "a MongoDB write outlived the drain; the worker exits without it");
        return -1;
    }
    pthread_join(s->thread, NULL);
    if (s->client != NULL)
        mongoc_client_destroy(s->client);
    mongoc_uri_destroy(s->uri);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
    return 0;
}
