/* clock.h - wall and monotonic time, and RFC 3339 formatting. */
#ifndef CI_CLOCK_H
#define CI_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Length of "2026-11-21T20:43:54.123Z" plus NUL. */
#define CLOCK_RFC3339_LEN 25

/* Milliseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t clock_now_ms(void);

/* Seconds since the Unix epoch. */
int64_t clock_now_s(void);

/* Microseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t clock_now_us(void);

/* Milliseconds from an arbitrary origin that never goes back (CLOCK_MONOTONIC). */
int64_t clock_mono_ms(void);

/* Microseconds, monotonic; for latency measurements. */
int64_t clock_mono_us(void);

/* Writes ms (epoch milliseconds) as "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf, which
 * must hold CLOCK_RFC3339_LEN bytes; before 1970 (or past year 9999) as the
 * epoch. Returns buf. Thread-safe. */
char *clock_rfc3339(int64_t ms, char *buf);

/* Epoch milliseconds of s, "YYYY-MM-DDTHH:MM:SS[.f...]Z" (UTC; fractions
 * past milliseconds are dropped), into *ms. Returns 0, or -1 when s is NULL,
 * not that form, out of range, or before 1970. */
int clock_parse_rfc3339(const char *s, int64_t *ms);

#endif
