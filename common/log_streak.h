/* log_streak.h - one log line when an operation that is retried on a timer
 * starts failing, and one when it is served again, however many attempts
 * failed in between.
 *
 * A worker retries its reads, its consumer group's creation and its answer
 * versions' publication several times a second while Redis refuses them
 * (LOADING after a restart, BUSY, NOREPLICAS, MISCONF): one line per
 * attempt would bury every other event.
 *
 *     static struct log_streak reads;
 *     ... on failure: log_streak_fail(&reads, "consumer_read_failed", e);
 *     ... on success: log_streak_ok(&reads, "consumer_read_recovered");
 */
#ifndef CI_LOG_STREAK_H
#define CI_LOG_STREAK_H

#include <stdint.h>

struct err;

struct log_streak {
    int64_t failures;           /* in a row; 0 while served */
    int64_t since_ms;           /* monotonic: the first of them */
};

/* Counts a failure; the first of a streak logs event at warn with e's code
 * and detail. */
void log_streak_fail(struct log_streak *s, const char *event, const struct err *e);

/* Ends a streak: after failures, logs recovered_event at info with
 * "failures" (how many) and "duration_ms" (since the first), and resets.
 * Nothing when there were none. */
void log_streak_ok(struct log_streak *s, const char *recovered_event);

#endif
