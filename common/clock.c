/* clock.c - time helpers. */
#include "common/clock.h"

#include <string.h>
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
    static const char epoch[] = "1970-01-01T00:00:00.000Z";
    /* The calling thread's last second, formatted: every log line and
     * every job stamps the time, mostly within the same second. */
    static __thread int64_t cached_secs = -1;
    static __thread char cached[20];
    int64_t secs = ms / 1000;
    unsigned frac = (unsigned)(ms % 1000);

    if (ms < 0) {
        memcpy(buf, epoch, sizeof epoch);
        return buf;
    }
    if (secs != cached_secs) {
        time_t t = (time_t)secs;
        struct tm tm;
        /* "YYYY-MM-DDTHH:MM:SS" is 19 bytes for years 0..9999. */
        if (gmtime_r(&t, &tm) == NULL ||
            strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm) != 19) {
            cached_secs = -1;
            memcpy(buf, epoch, sizeof epoch);
            return buf;
        }
        cached_secs = secs;
    }
    memcpy(buf, cached, 19);
    buf[19] = '.';
    buf[20] = (char)('0' + frac / 100);
    buf[21] = (char)('0' + frac / 10 % 10);
    buf[22] = (char)('0' + frac % 10);
    buf[23] = 'Z';
    buf[24] = '\0';
    return buf;
}
