/* mongo_sink.h - the optional job-history sink: each finished job, once
 * PostgreSQL holds it, is also written to MongoDB (collections `jobs` and
 * `file_snapshots`, worker/history_doc.h) by a thread of its own, so the
 * worker's loop never waits on MongoDB (mongo-c-driver blocks).
 *
 * PostgreSQL stays the record: the sink may lose a document, never a job.
 * A document waits in a bounded queue (MONGO_SINK_QUEUE_MAX documents,
 * MONGO_SINK_QUEUE_BYTES); one that does not fit is dropped
 * (history_dropped, warn). A write MongoDB refuses or cannot take is tried
 * MONGO_SINK_ATTEMPTS times, 0.5, 1 and 2 s apart, then given up
 * (history_write_failed, error). Writes are upserts by _id, so a redelivered
 * job replaces its document. codeinsight_history_writes_total{outcome}
 * counts written, failed and dropped.
 *
 *     struct mongo_sink *s = mongo_sink_new(cfg->mongo_url, cfg->mongo_db, &e);
 *     mongo_sink_put(s, doc_text, strlen(doc_text));   // any thread
 *     mongo_sink_free(s);                              // drains, then stops
 */
#ifndef WK_MONGO_SINK_H
#define WK_MONGO_SINK_H

#include <stddef.h>

struct err;
struct mongo_sink;

#define MONGO_SINK_QUEUE_MAX 1024
#define MONGO_SINK_QUEUE_BYTES ((size_t)64 << 20)
#define MONGO_SINK_ATTEMPTS 4
/* What mongo_sink_free gives the queue before dropping the rest. */
#define MONGO_SINK_DRAIN_MS 5000
/* And what it gives the writer after that to drop the rest and return. */
#define MONGO_SINK_STOP_SLACK_MS 500
/* Server selection (connecting) waits at most this long per write, unless
 * the connection string sets serverSelectionTimeoutMS itself. */
#define MONGO_SINK_SELECT_MS 3000
/* A reply is waited for at most this long, unless the connection string
 * sets socketTimeoutMS. */
#define MONGO_SINK_SOCKET_MS 10000

/* Removes the name of the shared-memory segment libmongoc maps for its
 * counters, /dev/shm/mongoc-<pid>, before main() runs (the library
 * initialises itself when it is loaded, used or not). It unlinks the name
 * only at a clean exit, so a worker killed (SIGKILL, the OOM killer) would
 * leave one behind for good, and a later process given the same pid would
 * print a warning outside the JSON log. The mapping stays; nothing is left
 * on disk. Call first thing in main(). */
void mongo_sink_forget_counters(void);

/* ERR_OK when db can name a MongoDB database (1-63 bytes, none of
 * / \ . space " $ * < > : | ?), else ERR_CONFIG with e set. */
int mongo_sink_db_check(const char *db, struct err *e);

/* Checks url (a mongodb:// or mongodb+srv:// connection string) and db
 * (a database name), then starts the writer thread; nothing connects until
 * the first write. Returns the sink (owns; mongo_sink_free) or NULL with e
 * set: ERR_CONFIG for a bad url or db (the message never holds the url),
 * ERR_INTERNAL otherwise. */
struct mongo_sink *mongo_sink_new(const char *url, const char *db, struct err *e);

/* Queues a copy of doc[0..len), a finished job's PostgreSQL document (JSON
 * text). Returns 0, or -1 when it was dropped (the queue is full, or memory
 * ran out). Thread-safe. */
int mongo_sink_put(struct mongo_sink *s, const char *doc, size_t len);

/* Writes what is queued for up to MONGO_SINK_DRAIN_MS, drops the rest
 * (logged), stops the thread and frees; accepts NULL. Returns 0. A write
 * still in flight at the deadline (a server that accepted it and does not
 * answer holds it up to MONGO_SINK_SOCKET_MS per document) is not waited
 * for past MONGO_SINK_STOP_SLACK_MS more: history_writer_stuck is logged,
 * the thread and the sink are left as they are, and -1 is returned: the
 * process must then end without running exit handlers (_exit), which would
 * tear the driver down under the thread, or call mongo_sink_free again
 * (the same bounded wait; 0 once the writer has returned). */
int mongo_sink_free(struct mongo_sink *s);

#endif
