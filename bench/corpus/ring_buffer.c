/* ring_buffer.c - a fixed-size byte ring buffer for the serial console
 * driver. One producer (the UART interrupt) and one consumer (the console
 * task); head and tail are only ever written by one side each. */
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct ring {
    uint8_t *buf;
    size_t cap;               /* a power of two */
    _Atomic size_t head;      /* next write position, producer only */
    _Atomic size_t tail;      /* next read position, consumer only */
    _Atomic uint32_t dropped; /* bytes lost because the ring was full */
};

static int is_pow2(size_t n)
{
    return n != 0 && (n & (n - 1)) == 0;
}

struct ring *ring_new(size_t cap)
{
    struct ring *r;

    if (!is_pow2(cap))
        return NULL;
    r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->buf = malloc(cap);
    r->cap = cap;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    atomic_init(&r->dropped, 0);
    return r;
}

void ring_free(struct ring *r)
{
    if (r == NULL)
        return;
    free(r->buf);
    free(r);
}

size_t ring_used(const struct ring *r)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    return head - tail;
}

size_t ring_free_space(const struct ring *r)
{
    return r->cap - ring_used(r);
}

/* Producer side: called from the interrupt handler, never blocks. */
size_t ring_write(struct ring *r, const uint8_t *data, size_t len)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    size_t space = r->cap - (head - tail);
    size_t n = len < space ? len : space;
    size_t off = head & (r->cap - 1);
    size_t first = r->cap - off;

    if (first > n)
        first = n;
    memcpy(r->buf + off, data, first);
    memcpy(r->buf, data + first, n - first);
    atomic_store_explicit(&r->head, head + n, memory_order_release);
    if (n < len)
        atomic_fetch_add_explicit(&r->dropped, (uint32_t)(len - n), memory_order_relaxed);
    return n;
}

/* Consumer side. */
size_t ring_read(struct ring *r, uint8_t *out, size_t len)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    size_t avail = head - tail;
    size_t n = len < avail ? len : avail;
    size_t off = tail & (r->cap - 1);
    size_t first = r->cap - off;

    if (first > n)
        first = n;
    memcpy(out, r->buf + off, first);
    memcpy(out + first, r->buf, n - first);
    atomic_store_explicit(&r->tail, tail + n, memory_order_release);
    return n;
}

/* Reads one line (without the '\n') into out; returns its length, or -1 if
 * no complete line is buffered yet. */
int ring_read_line(struct ring *r, char *out, size_t cap)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);

    for (size_t i = tail; i != head; i++) {
        if (r->buf[i & (r->cap - 1)] == '\n') {
            size_t len = i - tail;
            ring_read(r, (uint8_t *)out, len + 1);
            out[len] = '\0';
            return (int)len;
        }
    }
    (void)cap;
    return -1;
}

uint32_t ring_take_dropped(struct ring *r)
{
    return atomic_exchange_explicit(&r->dropped, 0, memory_order_relaxed);
}
