/* clock.c - time helpers. */
#include "common/clock.h"

#include <stdio.h>
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

int clock_parse_rfc3339(const char *s, int64_t *ms)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    struct tm tm;
    int n = 0, frac = 0, digits = 0;
    time_t t;

    if (s == NULL)
        return -1;
    memset(&tm, 0, sizeof tm);
    /* %n after the last field: every digit count checked below. */
    if (strlen(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' ||
        sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 || n != 19)
        return -1;
    for (int i = 0; i < 19; i++)
        if (i != 4 && i != 7 && i != 10 && i != 13 && i != 16 && (s[i] < '0' || s[i] > '9'))
            return -1;
    if (s[n] == '.') {
        for (n++; s[n] >= '0' && s[n] <= '9'; n++, digits++)
            if (digits < 3)
                frac = frac * 10 + (s[n] - '0');
        if (digits == 0)
            return -1;
        for (; digits < 3; digits++)
            frac *= 10;
    }
    if (s[n] != 'Z' || s[n + 1] != '\0' || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
        tm.tm_mday > mdays[tm.tm_mon - 1] || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    if ((t = timegm(&tm)) == (time_t)-1 || t < 0)
        return -1;
    *ms = (int64_t)t * 1000 + frac;
    return 0;
}
