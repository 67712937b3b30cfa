/* log.h - one JSON object per line on stdout, one line per event.
 *
 * Every line carries ts (RFC 3339, ms), level, proc and event, then the
 * event's own fields. Building a line never allocates; a line longer than
 * LOG_LINE_MAX is cut and marked "truncated":true. Secrets must never be
 * passed to these functions.
 *
 *     struct log_line l;
 *     log_begin(&l, LOG_INFO, "job_done");
 *     log_str(&l, "job_id", id);
 *     log_int(&l, "duration_ms", ms);
 *     log_end(&l);
 */
#ifndef CI_LOG_H
#define CI_LOG_H

#include <stddef.h>
#include <stdint.h>

struct err;

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

#define LOG_LINE_MAX 4096

struct log_line {
    int enabled;                /* 0 when the level is filtered out: calls are no-ops */
    int truncated;
    size_t len;                 /* bytes used in buf */
    char buf[LOG_LINE_MAX];
};

/* Sets the process name and minimum level. Call once, before any thread starts. */
void log_init(const char *proc, enum log_level min_level);

/* Parses "debug"|"info"|"warn"|"error"; returns -1 when unknown. */
int log_level_parse(const char *s);

/* 1 when lines of this level are written. */
int log_enabled(enum log_level level);

/* Starts a line for event (a stable snake_case name, borrowed). */
void log_begin(struct log_line *l, enum log_level level, const char *event);

/* Adds "key": value. Keys are borrowed literals; values are escaped.
 * log_str writes null when val is NULL. */
void log_str(struct log_line *l, const char *key, const char *val);
void log_strn(struct log_line *l, const char *key, const char *val, size_t len);
void log_int(struct log_line *l, const char *key, int64_t val);
/* A duration given in microseconds, written in milliseconds with three
 * decimals ("12.345"); a negative one as 0.000. No printf: the access log
 * writes one per request. */
void log_ms(struct log_line *l, const char *key, int64_t us);

/* Adds "code" and "detail" (and "field" when set) from an error. */
void log_errfields(struct log_line *l, const struct err *e);

/* Writes the line to stdout with a single write(2). */
void log_end(struct log_line *l);

/* Shorthand for an event with one string field (key may be NULL for none). */
void log_event(enum log_level level, const char *event, const char *key, const char *val);

#endif
