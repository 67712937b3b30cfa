/* loop.c - event loop on libuv. */
#include "common/loop.h"

#include "common/clock.h"
#include "common/err.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

struct loop_signal {
    uv_signal_t sig;
    loop_signal_cb *cb;
    void *arg;
    struct loop_signal *next;
};

struct loop {
    uv_loop_t uv;
    struct loop_signal *signals;
    struct loop_proc *procs;        /* every child not yet freed, for loop_free */
};

struct loop_io {
    uv_poll_t poll;
    loop_io_cb *cb;
    void *arg;
};

struct loop_timer {
    uv_timer_t timer;
    loop_timer_cb *cb;
    void *arg;
};

/* Close callback for handles whose data points at their own heap owner. */
static void free_owner(uv_handle_t *h)
{
    free(h->data);
}

struct loop *loop_new(struct err *e)
{
    struct loop *loop = calloc(1, sizeof *loop);
    int rc;

    if (loop == NULL) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    rc = uv_loop_init(&loop->uv);
    if (rc != 0) {
        err_set(e, ERR_IO, "uv_loop_init: %s", uv_strerror(rc));
        free(loop);
        return NULL;
    }
    return loop;
}

int loop_run(struct loop *loop)
{
    uv_run(&loop->uv, UV_RUN_DEFAULT);
    return 0;
}

void loop_stop(struct loop *loop)
{
    uv_stop(&loop->uv);
}

static void procs_close(struct loop *loop);

static void close_leftover(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

void loop_free(struct loop *loop)
{
    struct loop_signal *s, *next;

    if (loop == NULL)
        return;
    for (s = loop->signals; s != NULL; s = s->next)
        uv_close((uv_handle_t *)&s->sig, NULL);
    /* Children still watched (running, or cancelled and not reaped yet) are
     * freed as their handles close; none is waited for: we are exiting. */
    procs_close(loop);
    /* Handles their owners forgot are closed without freeing: we are exiting. */
    uv_walk(&loop->uv, close_leftover, NULL);
    uv_run(&loop->uv, UV_RUN_DEFAULT);
    for (s = loop->signals; s != NULL; s = next) {
        next = s->next;
        free(s);
    }
    uv_loop_close(&loop->uv);
    free(loop);
}

/* ---- fd watchers ---- */

static void on_poll(uv_poll_t *p, int status, int events)
{
    struct loop_io *io = p->data;

    if (status < 0) {
        /* Let the owner's read or write discover the error. */
        io->cb(io->arg, 1, 1);
        return;
    }
    io->cb(io->arg, (events & UV_READABLE) != 0, (events & UV_WRITABLE) != 0);
}

struct loop_io *loop_io_new(struct loop *loop, int fd, loop_io_cb *cb, void *arg)
{
    struct loop_io *io = calloc(1, sizeof *io);

    if (io == NULL)
        return NULL;
    if (uv_poll_init(&loop->uv, &io->poll, fd) != 0) {
        free(io);
        return NULL;
    }
    io->poll.data = io;
    io->cb = cb;
    io->arg = arg;
    return io;
}

int loop_io_want(struct loop_io *io, int readable, int writable)
{
    int ev = (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0);

    if (ev == 0)
        return uv_poll_stop(&io->poll) == 0 ? 0 : -1;
    return uv_poll_start(&io->poll, ev, on_poll) == 0 ? 0 : -1;
}

void loop_io_free(struct loop_io *io)
{
    if (io == NULL)
        return;
    uv_poll_stop(&io->poll);
    uv_close((uv_handle_t *)&io->poll, free_owner);
}

/* ---- timers ---- */

static void on_timer(uv_timer_t *t)
{
    struct loop_timer *lt = t->data;
    lt->cb(lt->arg);
}

struct loop_timer *loop_timer_new(struct loop *loop, loop_timer_cb *cb, void *arg)
{
    struct loop_timer *t = calloc(1, sizeof *t);

    if (t == NULL)
        return NULL;
    uv_timer_init(&loop->uv, &t->timer);
    t->timer.data = t;
    t->cb = cb;
    t->arg = arg;
    return t;
}

void loop_timer_start(struct loop_timer *t, uint64_t ms, uint64_t repeat_ms)
{
    uv_timer_start(&t->timer, on_timer, ms, repeat_ms);
}

void loop_timer_stop(struct loop_timer *t)
{
    uv_timer_stop(&t->timer);
}

void loop_timer_free(struct loop_timer *t)
{
    if (t == NULL)
        return;
    uv_timer_stop(&t->timer);
    uv_close((uv_handle_t *)&t->timer, free_owner);
}

/* ---- signals ---- */

static void on_signal(uv_signal_t *h, int signum)
{
    struct loop_signal *s = h->data;
    s->cb(s->arg, signum);
}

int loop_on_signal(struct loop *loop, int signum, loop_signal_cb *cb, void *arg)
{
    struct loop_signal *s = calloc(1, sizeof *s);

    if (s == NULL)
        return -1;
    uv_signal_init(&loop->uv, &s->sig);
    s->sig.data = s;
    s->cb = cb;
    s->arg = arg;
    if (uv_signal_start(&s->sig, on_signal, signum) != 0) {
        uv_close((uv_handle_t *)&s->sig, free_owner);
        return -1;
    }
    s->next = loop->signals;
    loop->signals = s;
    return 0;
}

/* ---- child processes ---- */

#define PROC_READ_CHUNK 16384

struct proc_stream {
    uv_pipe_t pipe;
    char *buf;
    size_t len, cap;
    size_t start;               /* keep_tail: oldest byte once the ring is full */
    uint64_t total;             /* bytes read, kept or not */
    int truncated;
    int eof;
};

struct loop_proc {
    struct loop *loop;
    struct loop_proc *prev, *next;  /* in loop->procs */
    uv_process_t proc;
    struct proc_stream out, err;
    uv_timer_t timer;
    int handles_open;           /* closed handles still to be reported by libuv */
    int exited;
    int reported;
    size_t output_max;
    int keep_tail;              /* 1: keep the last output_max bytes, not the first */
    uint64_t kill_grace_ms;     /* the spec's */
    int termed;                 /* the grace's SIGTERM was sent */
    int64_t started_ms;
    loop_proc_cb *cb;
    void *arg;
    struct loop_proc_result res;
    char chunk[PROC_READ_CHUNK];
};

static void proc_handle_closed(uv_handle_t *h)
{
    struct loop_proc *p = h->data;

    if (--p->handles_open > 0)
        return;
    if (p->prev != NULL)
        p->prev->next = p->next;
    else
        p->loop->procs = p->next;
    if (p->next != NULL)
        p->next->prev = p->prev;
    free(p->out.buf);
    free(p->err.buf);
    free(p);
}

static void proc_close_all(struct loop_proc *p)
{
    uv_handle_t *hs[] = {(uv_handle_t *)&p->proc, (uv_handle_t *)&p->out.pipe,
                         (uv_handle_t *)&p->err.pipe, (uv_handle_t *)&p->timer};

    for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++)
        if (!uv_is_closing(hs[i]))
            uv_close(hs[i], proc_handle_closed);
}

/* loop_free: closes every child's handles (idempotent), which frees it. */
static void procs_close(struct loop *loop)
{
    for (struct loop_proc *p = loop->procs; p != NULL; p = p->next)
        proc_close_all(p);
}

static void reverse(char *b, size_t n)
{
    for (size_t i = 0; i < n / 2; i++) {
        char c = b[i];
        b[i] = b[n - 1 - i];
        b[n - 1 - i] = c;
    }
}

/* Puts a full ring back in order: oldest byte first, NUL after the last. */
static void stream_unring(struct proc_stream *ps)
{
    if (ps->start != 0) {
        reverse(ps->buf, ps->start);
        reverse(ps->buf + ps->start, ps->len - ps->start);
        reverse(ps->buf, ps->len);
        ps->start = 0;
    }
    if (ps->buf != NULL)
        ps->buf[ps->len] = '\0';
}

static void proc_report(struct loop_proc *p)
{
    static char empty[1] = "";

    if (p->reported)
        return;
    p->reported = 1;
    uv_timer_stop(&p->timer);
    stream_unring(&p->out);
    stream_unring(&p->err);
    p->res.out = p->out.buf ? p->out.buf : empty;
    p->res.out_len = p->out.len;
    p->res.out_truncated = p->out.truncated;
    p->res.err = p->err.buf ? p->err.buf : empty;
    p->res.err_len = p->err.len;
    p->res.err_truncated = p->err.truncated;
    p->res.out_total = p->out.total;
    p->res.err_total = p->err.total;
    p->res.duration_ms = clock_mono_ms() - p->started_ms;
    if (p->cb != NULL)
        p->cb(p->arg, &p->res);
    proc_close_all(p);
}

static void proc_maybe_done(struct loop_proc *p)
{
    if (p->exited && p->out.eof && p->err.eof)
        proc_report(p);
}

static void proc_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct loop_proc *p = h->data;

    (void)suggested;
    buf->base = p->chunk;
    buf->len = sizeof p->chunk;
}

/* Grows ps->buf to hold need bytes (a NUL included), at most output_max + 1.
 * Returns 0, or -1 when memory ran out. */
static int stream_reserve(struct loop_proc *p, struct proc_stream *ps, size_t need)
{
    size_t cap = ps->cap ? ps->cap : 4096;
    char *nb;

    if (need <= ps->cap)
        return 0;
    while (cap < need)
        cap *= 2;
    if (cap > p->output_max + 1)
        cap = p->output_max + 1;
    nb = realloc(ps->buf, cap);
    if (nb == NULL)
        return -1;
    ps->buf = nb;
    ps->cap = cap;
    return 0;
}

/* Keeps the first output_max bytes. */
static void stream_keep_head(struct loop_proc *p, struct proc_stream *ps, const char *data,
                             size_t n)
{
    size_t keep = n;

    if (ps->len + keep > p->output_max) {
        keep = p->output_max - ps->len;
        ps->truncated = 1;
    }
    if (keep > 0) {
        if (stream_reserve(p, ps, ps->len + keep + 1) != 0) {
            ps->truncated = 1;
            return;
        }
        memcpy(ps->buf + ps->len, data, keep);
        ps->len += keep;
        ps->buf[ps->len] = '\0';
    }
}

/* Keeps the last output_max bytes: a plain buffer until it is full, then a
 * ring whose oldest byte is at ps->start (put in order by stream_unring). */
static void stream_keep_tail(struct loop_proc *p, struct proc_stream *ps, const char *data,
                             size_t n)
{
    size_t max = p->output_max;

    if (max == 0 || stream_reserve(p, ps, max + 1) != 0) {
        ps->truncated = 1;
        return;
    }
    if (n >= max) {
        memcpy(ps->buf, data + (n - max), max);
        ps->truncated |= n > max || ps->len > 0;
        ps->len = max;
        ps->start = 0;
        return;
    }
    if (ps->len < max) {
        size_t k = max - ps->len < n ? max - ps->len : n;
        memcpy(ps->buf + ps->len, data, k);
        ps->len += k;
        data += k;
        n -= k;
    }
    while (n > 0) {
        size_t k = max - ps->start < n ? max - ps->start : n;
        memcpy(ps->buf + ps->start, data, k);
        ps->start = (ps->start + k) % max;
        data += k;
        n -= k;
        ps->truncated = 1;
    }
}

static void proc_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct loop_proc *p = s->data;
    struct proc_stream *ps = (s == (uv_stream_t *)&p->out.pipe) ? &p->out : &p->err;

    if (n < 0) {
        uv_read_stop(s);
        ps->eof = 1;
        proc_maybe_done(p);
        return;
    }
    if (n == 0)
        return;
    ps->total += (uint64_t)n;
    if (p->keep_tail)
        stream_keep_tail(p, ps, buf->base, (size_t)n);
    else
        stream_keep_head(p, ps, buf->base, (size_t)n);
}

static void proc_timeout(uv_timer_t *t);

/* Every child leads a session and process group of its own
 * (UV_PROCESS_DETACHED), so the kill reaches what it started as well, unless
 * that left the group. With a grace, the first kill is a SIGTERM to the
 * child alone, and the timer, restarted, brings the group's SIGKILL. */
static void proc_kill(struct loop_proc *p)
{
    if (p->kill_grace_ms > 0 && !p->termed && !p->exited) {
        p->termed = 1;
        kill(p->proc.pid, SIGTERM);
        uv_timer_start(&p->timer, proc_timeout, p->kill_grace_ms, p->kill_grace_ms);
        return;
    }
    kill(-p->proc.pid, SIGKILL);
}

static void proc_exit(uv_process_t *h, int64_t status, int term_signal)
{
    struct loop_proc *p = h->data;

    p->exited = 1;
    p->res.exit_code = (int)status;
    p->res.term_signal = term_signal;
    if (p->termed)
        proc_kill(p);   /* what it left of its group: its grace is over */
    proc_maybe_done(p);
}

static void proc_timeout(uv_timer_t *t)
{
    struct loop_proc *p = t->data;

    if (p->res.spawn_error != 0) {
        proc_report(p);
        return;
    }
    if (p->exited) {
        /* A process it left behind holds the pipes open. */
        proc_kill(p);
        proc_report(p);
        return;
    }
    p->res.timed_out = 1;
    proc_kill(p);
}

static struct loop_proc *proc_spawn(struct loop *loop, const struct loop_proc_spec *spec,
                                    int keep_tail, loop_proc_cb *cb, void *arg, struct err *e)
{
    struct loop_proc *p = calloc(1, sizeof *p);
    uv_process_options_t o;
    uv_stdio_container_t stdio[3];
    int rc;

    if (p == NULL) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    p->loop = loop;
    p->next = loop->procs;
    if (loop->procs != NULL)
        loop->procs->prev = p;
    loop->procs = p;
    p->cb = cb;
    p->arg = arg;
    p->output_max = spec->output_max;
    p->keep_tail = keep_tail;
    p->kill_grace_ms = spec->kill_grace_ms;
    p->started_ms = clock_mono_ms();
    uv_pipe_init(&loop->uv, &p->out.pipe, 0);
    uv_pipe_init(&loop->uv, &p->err.pipe, 0);
    uv_timer_init(&loop->uv, &p->timer);
    p->proc.data = p->out.pipe.data = p->err.pipe.data = p->timer.data = p;
    p->handles_open = 4;

    memset(&o, 0, sizeof o);
    memset(stdio, 0, sizeof stdio);
    stdio[0].flags = UV_IGNORE;
    stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[1].data.stream = (uv_stream_t *)&p->out.pipe;
    stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[2].data.stream = (uv_stream_t *)&p->err.pipe;
    o.exit_cb = proc_exit;
    o.flags = UV_PROCESS_DETACHED;
    o.file = spec->argv[0];
    o.args = (char **)spec->argv;
    o.env = (char **)spec->env;
    o.cwd = spec->cwd;
    o.stdio_count = 3;
    o.stdio = stdio;

    rc = uv_spawn(&loop->uv, &p->proc, &o);
    if (rc != 0) {
        p->res.spawn_error = -rc;
        /* Report from the loop, never from inside the caller. */
        uv_timer_start(&p->timer, proc_timeout, 0, 0);
        return p;
    }
    uv_read_start((uv_stream_t *)&p->out.pipe, proc_alloc, proc_read);
    uv_read_start((uv_stream_t *)&p->err.pipe, proc_alloc, proc_read);
    uv_timer_start(&p->timer, proc_timeout, spec->timeout_ms, spec->timeout_ms);
    return p;
}

struct loop_proc *loop_spawn(struct loop *loop, const struct loop_proc_spec *spec,
                             loop_proc_cb *cb, void *arg, struct err *e)
{
    return proc_spawn(loop, spec, 0, cb, arg, e);
}

struct loop_proc *loop_spawn_tail(struct loop *loop, const struct loop_proc_spec *spec,
                                  loop_proc_cb *cb, void *arg, struct err *e)
{
    return proc_spawn(loop, spec, 1, cb, arg, e);
}

void loop_proc_cancel(struct loop_proc *p)
{
    p->cb = NULL;
    if (p->res.spawn_error == 0 && !p->exited)
        proc_kill(p);
}

const char *loop_strerror(int spawn_error)
{
    return uv_strerror(-spawn_error);
}
