/* log.c - JSON lines logger. Process-wide state is set once by log_init(). */
#include "common/log.h"

#include "common/clock.h"
#include "common/decimal.h"
#include "common/err.h"
#include "common/json.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char *log_proc = "codeinsight";
static enum log_level log_min = LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_init(const char *proc, enum log_level min_level)
{
    log_proc = proc;
    log_min = min_level;
}

int log_level_parse(const char *s)
{
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++)
        if (strcasecmp(s, level_names[i]) == 0)
            return (int)i;
    return -1;
}

int log_enabled(enum log_level level)
{
    return level >= log_min;
}

/* Room kept for the closing `,"truncated":true}\n`. */
#define LOG_TAIL_RESERVE 24

static void put(struct log_line *l, const char *s, size_t n)
{
    if (l->truncated)
        return;
    if (l->len + n > LOG_LINE_MAX - LOG_TAIL_RESERVE) {
        l->truncated = 1;
        return;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void log_sink(void *ctx, const char *s, size_t n)
{
    put(ctx, s, n);
}

static void put_escaped(struct log_line *l, const char *s, size_t n)
{
    json_write_string(log_sink, l, s, n);
}

static void put_key(struct log_line *l, const char *key)
{
    put(l, ",", 1);
    put_escaped(l, key, strlen(key));
    put(l, ":", 1);
}

void log_begin(struct log_line *l, enum log_level level, const char *event)
{
    char ts[CLOCK_RFC3339_LEN];

    l->enabled = log_enabled(level);
    l->truncated = 0;
    l->len = 0;
    if (!l->enabled)
        return;
    put(l, "{\"ts\":\"", 7);
    clock_rfc3339(clock_now_ms(), ts);
    put(l, ts, strlen(ts));
    put(l, "\",\"level\":\"", 11);
    put(l, level_names[level], strlen(level_names[level]));
    put(l, "\"", 1);
    put_key(l, "proc");
    put_escaped(l, log_proc, strlen(log_proc));
    put_key(l, "event");
    put_escaped(l, event, strlen(event));
}

/* A field that does not fit is dropped whole, so the line stays valid JSON. */
static void rollback_if_cut(struct log_line *l, size_t mark)
{
    if (l->truncated)
        l->len = mark;
}

void log_strn(struct log_line *l, const char *key, const char *val, size_t len)
{
    size_t mark = l->len;

    if (!l->enabled)
        return;
    put_key(l, key);
    if (val == NULL)
        put(l, "null", 4);
    else
        put_escaped(l, val, len);
    rollback_if_cut(l, mark);
}

void log_str(struct log_line *l, const char *key, const char *val)
{
    log_strn(l, key, val, val ? strlen(val) : 0);
}

void log_int(struct log_line *l, const char *key, int64_t val)
{
    char num[DECIMAL_STR_MAX];
    size_t n;

    if (!l->enabled)
        return;
    size_t mark = l->len;
    n = decimal_str(num, val);
    put_key(l, key);
    put(l, num, n);
    rollback_if_cut(l, mark);
}

void log_ms(struct log_line *l, const char *key, int64_t us)
{
    char num[DECIMAL_MAX + 4];
    uint64_t u = us > 0 ? (uint64_t)us : 0;
    size_t n;

    if (!l->enabled)
        return;
    size_t mark = l->len;
    n = decimal_put(num, u / 1000);
    num[n++] = '.';
    num[n++] = (char)('0' + u / 100 % 10);
    num[n++] = (char)('0' + u / 10 % 10);
    num[n++] = (char)('0' + u % 10);
    put_key(l, key);
    put(l, num, n);
    rollback_if_cut(l, mark);
}

void log_errfields(struct log_line *l, const struct err *e)
{
    log_str(l, "code", err_code_str(e->code));
    log_str(l, "detail", e->msg);
    if (e->field[0] != '\0')
        log_str(l, "field", e->field);
}

void log_end(struct log_line *l)
{
    size_t off = 0;

    if (!l->enabled)
        return;
    if (l->truncated) {
        /* put() kept LOG_TAIL_RESERVE bytes free for exactly this. */
        static const char tail[] = ",\"truncated\":true";
        memcpy(l->buf + l->len, tail, sizeof tail - 1);
        l->len += sizeof tail - 1;
    }
    l->buf[l->len++] = '}';
    l->buf[l->len++] = '\n';
    while (off < l->len) {
        ssize_t n = write(STDOUT_FILENO, l->buf + off, l->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        off += (size_t)n;
    }
}

void log_event(enum log_level level, const char *event, const char *key, const char *val)
{
    struct log_line l;

    log_begin(&l, level, event);
    if (key != NULL)
        log_str(&l, key, val);
    log_end(&l);
}
