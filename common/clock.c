/* clock.c - time helpers. */
#include "common/clock.h"

#include <stdio.h>
#include <time.h>

int64_t clock_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_now_s(void)
{
    return (int64_t)time(NULL);
}

int64_t clock_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

char *clock_rfc3339(int64_t ms, char *buf)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;

    if (ms < 0 || gmtime_r(&secs, &tm) == NULL) {
        snprintf(buf, CLOCK_RFC3339_LEN, "1970-01-01T00:00:00.000Z");
        return buf;
    }
    /* "YYYY-MM-DDTHH:MM:SS" is 19 bytes for years 0..9999. */
    if (strftime(buf, CLOCK_RFC3339_LEN, "%Y-%m-%dT%H:%M:%S", &tm) != 19) {
        snprintf(buf, CLOCK_RFC3339_LEN, "1970-01-01T00:00:00.000Z");
        return buf;
    }
    snprintf(buf + 19, CLOCK_RFC3339_LEN - 19, ".%03uZ", (unsigned)(ms % 1000));
    return buf;
}
