/* log_streak.c - one line per failing streak; see log_streak.h. */
#include "common/log_streak.h"

#include "common/clock.h"
#include "common/log.h"

void log_streak_fail(struct log_streak *s, const char *event, const struct err *e)
{
    struct log_line l;

    if (s->failures++ > 0)
        return;
    s->since_ms = clock_mono_ms();
    log_begin(&l, LOG_WARN, event);
    log_errfields(&l, e);
    log_end(&l);
}

void log_streak_ok(struct log_streak *s, const char *recovered_event)
{
    struct log_line l;

    if (s->failures == 0)
        return;
    log_begin(&l, LOG_INFO, recovered_event);
    log_int(&l, "failures", s->failures);
    log_int(&l, "duration_ms", clock_mono_ms() - s->since_ms);
    log_end(&l);
    s->failures = 0;
}
