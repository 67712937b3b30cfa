/* metrics.c - the Prometheus registry. Process-wide state is set once by
 * metrics_init(); afterwards series are found without a lock (an
 * append-only list per family, published with release stores) and updated
 * with relaxed atomics. */
#include "common/metrics.h"

#include "common/err.h"
#include "common/text.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct metric {
    _Atomic(struct metric *) next;  /* creation order; written once, under the lock */
    const struct metric_def *def;
    char labels[METRIC_LABELS_MAX + 1];
    /* Counter: whole increments in n, the rest (a double) in bits. Gauge:
     * the value in bits. Histogram: the sum in bits, counts in bucket[]. */
    _Atomic uint64_t n;
    _Atomic uint64_t bits;
    atomic_int hidden;              /* gauge cleared: not rendered */
    _Atomic uint64_t bucket[];      /* nbuckets + 1 (the last is +Inf), not cumulative */
};

struct family {
    const struct metric_def *def;
    int enabled;
    _Atomic(struct metric *) head;
    struct metric *tail;            /* guarded by reg.lock */
    int nseries;                    /* guarded by reg.lock */
};

static struct {
    struct family fam[METRIC_FAMILIES_MAX];
    int n;                          /* set before threads start */
    pthread_mutex_t lock;           /* serialises series creation */
} reg = {.lock = PTHREAD_MUTEX_INITIALIZER};

static uint64_t dbits(double v)
{
    uint64_t b;

    memcpy(&b, &v, sizeof b);
    return b;
}

static double bitsd(uint64_t b)
{
    double v;

    memcpy(&v, &b, sizeof v);
    return v;
}

/* Adds v to a double stored as bits. */
static void atomic_fadd(_Atomic uint64_t *a, double v)
{
    uint64_t old = atomic_load_explicit(a, memory_order_relaxed);

    while (!atomic_compare_exchange_weak_explicit(a, &old, dbits(bitsd(old) + v),
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

static struct metric *series_new(const struct metric_def *def, const char *labels)
{
    size_t nb = def->type == METRIC_HISTOGRAM ? (size_t)def->nbuckets + 1 : 0;
    struct metric *m = calloc(1, sizeof *m + nb * sizeof m->bucket[0]);

    if (m == NULL)
        return NULL;
    m->def = def;
    memcpy(m->labels, labels, strlen(labels) + 1);
    atomic_init(&m->next, NULL);
    atomic_init(&m->n, 0);
    atomic_init(&m->bits, dbits(0.0));
    atomic_init(&m->hidden, 0);
    for (size_t i = 0; i < nb; i++)
        atomic_init(&m->bucket[i], 0);
    return m;
}

static struct metric *series_find(struct family *f, const char *labels)
{
    struct metric *m = atomic_load_explicit(&f->head, memory_order_acquire);

    for (; m != NULL; m = atomic_load_explicit(&m->next, memory_order_acquire))
        if (strcmp(m->labels, labels) == 0)
            return m;
    return NULL;
}

static struct metric *series_create(struct family *f, const char *labels)
{
    struct metric *m;

    pthread_mutex_lock(&reg.lock);
    /* Another thread may have created it since the lock-free look. */
    m = series_find(f, labels);
    if (m == NULL && f->nseries < METRIC_SERIES_MAX && (m = series_new(f->def, labels)) != NULL) {
        if (f->tail == NULL)
            atomic_store_explicit(&f->head, m, memory_order_release);
        else
            atomic_store_explicit(&f->tail->next, m, memory_order_release);
        f->tail = m;
        f->nseries++;
    }
    pthread_mutex_unlock(&reg.lock);
    return m;
}

struct metric *metrics_get(int family, const char *labels)
{
    struct family *f;
    struct metric *m;

    if (family < 0 || family >= reg.n || labels == NULL)
        return NULL;
    f = &reg.fam[family];
    if (!f->enabled)
        return NULL;
    m = series_find(f, labels);
    if (m != NULL)
        return m;
    if (strlen(labels) > METRIC_LABELS_MAX)
        return NULL;
    return series_create(f, labels);
}

static int def_check(const struct metric_def *d, struct err *e)
{
    if (d->name == NULL || d->help == NULL)
        return err_set(e, ERR_CONFIG, "metrics: a family has no name or help");
    if (d->type != METRIC_HISTOGRAM)
        return ERR_OK;
    if (d->nbuckets < 1 || d->nbuckets > METRIC_BUCKETS_MAX || d->buckets == NULL)
        return err_set(e, ERR_CONFIG, "metrics: %s needs 1 to %d buckets", d->name,
                       METRIC_BUCKETS_MAX);
    for (int i = 1; i < d->nbuckets; i++)
        if (!(d->buckets[i] > d->buckets[i - 1]))
            return err_set(e, ERR_CONFIG, "metrics: %s buckets are not ascending", d->name);
    return ERR_OK;
}

int metrics_init(const struct metric_def *defs, int n, unsigned procs, struct err *e)
{
    metrics_cleanup();
    if (n < 0 || n > METRIC_FAMILIES_MAX)
        return err_set(e, ERR_CONFIG, "metrics: %d families (at most %d)", n,
                       METRIC_FAMILIES_MAX);
    for (int i = 0; i < n; i++)
        if (def_check(&defs[i], e) != ERR_OK)
            return ERR_CONFIG;
    for (int i = 0; i < n; i++) {
        struct family *f = &reg.fam[i];
        f->def = &defs[i];
        f->enabled = defs[i].procs == 0 || (defs[i].procs & procs) != 0;
        atomic_init(&f->head, NULL);
        f->tail = NULL;
        f->nseries = 0;
    }
    reg.n = n;
    for (int i = 0; i < n; i++) {
        const char *const *p = defs[i].preset;
        for (; reg.fam[i].enabled && p != NULL && *p != NULL; p++)
            if (metrics_get(i, *p) == NULL) {
                metrics_cleanup();
                return err_set(e, ERR_INTERNAL, "metrics: cannot create %s{%s}",
                               defs[i].name, *p);
            }
    }
    return ERR_OK;
}

void metrics_cleanup(void)
{
    for (int i = 0; i < reg.n; i++) {
        struct family *f = &reg.fam[i];
        struct metric *m = atomic_load_explicit(&f->head, memory_order_acquire);
        while (m != NULL) {
            struct metric *next = atomic_load_explicit(&m->next, memory_order_acquire);
            free(m);
            m = next;
        }
        atomic_store_explicit(&f->head, NULL, memory_order_release);
        f->tail = NULL;
        f->nseries = 0;
        f->enabled = 0;
    }
    reg.n = 0;
}

/* ---- updates ---- */

void metric_inc(struct metric *m)
{
    if (m != NULL && m->def->type == METRIC_COUNTER)
        atomic_fetch_add_explicit(&m->n, 1, memory_order_relaxed);
    else if (m != NULL && m->def->type == METRIC_GAUGE)
        metric_add(m, 1);
}

void metric_add(struct metric *m, double v)
{
    if (m == NULL || !isfinite(v))
        return;
    switch (m->def->type) {
    case METRIC_COUNTER:
        if (v < 0)
            return;
        /* Whole numbers take the cheap path; they are most of the traffic. */
        if (v < 9007199254740992.0 && v == floor(v))
            atomic_fetch_add_explicit(&m->n, (uint64_t)v, memory_order_relaxed);
        else
            atomic_fadd(&m->bits, v);
        return;
    case METRIC_GAUGE:
        atomic_fadd(&m->bits, v);
        atomic_store_explicit(&m->hidden, 0, memory_order_relaxed);
        return;
    case METRIC_HISTOGRAM:
        return;
    }
}

void metric_set(struct metric *m, double v)
{
    if (m == NULL || m->def->type != METRIC_GAUGE)
        return;
    atomic_store_explicit(&m->bits, dbits(v), memory_order_relaxed);
    atomic_store_explicit(&m->hidden, 0, memory_order_relaxed);
}

void metric_clear(struct metric *m)
{
    if (m != NULL && m->def->type == METRIC_GAUGE)
        atomic_store_explicit(&m->hidden, 1, memory_order_relaxed);
}

void metric_observe(struct metric *m, double v)
{
    int i, nb;

    if (m == NULL || m->def->type != METRIC_HISTOGRAM || isnan(v))
        return;
    nb = m->def->nbuckets;
    for (i = 0; i < nb && v > m->def->buckets[i]; i++)
        ;
    atomic_fetch_add_explicit(&m->bucket[i], 1, memory_order_relaxed);
    atomic_fadd(&m->bits, v);
}

void metrics_inc(int family, const char *labels) { metric_inc(metrics_get(family, labels)); }

void metrics_add(int family, const char *labels, double v)
{
    metric_add(metrics_get(family, labels), v);
}

void metrics_set(int family, const char *labels, double v)
{
    metric_set(metrics_get(family, labels), v);
}

void metrics_observe(int family, const char *labels, double v)
{
    metric_observe(metrics_get(family, labels), v);
}

/* ---- rendering ---- */

/* Shortest text that reads back as v; integers without an exponent. */
static void fmt_num(double v, char *out, size_t cap)
{
    if (isnan(v)) {
        snprintf(out, cap, "NaN");
    } else if (isinf(v)) {
        snprintf(out, cap, v > 0 ? "+Inf" : "-Inf");
    } else if (v == 0) {
        snprintf(out, cap, "0");
    } else if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(out, cap, "%.0f", v);
    } else {
        snprintf(out, cap, "%.15g", v);
        if (strtod(out, NULL) != v)
            snprintf(out, cap, "%.17g", v);
    }
}

/* HELP text: backslash and newline escaped. */
static void put_help(struct text *t, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '\\')
            text_puts(t, "\\\\");
        else if (*s == '\n')
            text_puts(t, "\\n");
        else
            text_put(t, s, 1);
    }
}

/* name[suffix]{labels[,extra]} value */
static void put_sample(struct text *t, const char *name, const char *suffix, const char *labels,
                       const char *extra, double v)
{
    char num[64];

    text_puts(t, name);
    text_puts(t, suffix);
    if (labels[0] != '\0' || extra != NULL) {
        text_puts(t, "{");
        text_puts(t, labels);
        if (extra != NULL) {
            if (labels[0] != '\0')
                text_puts(t, ",");
            text_puts(t, extra);
        }
        text_puts(t, "}");
    }
    fmt_num(v, num, sizeof num);
    text_puts(t, " ");
    text_puts(t, num);
    text_puts(t, "\n");
}

static void put_histogram(struct text *t, const struct metric *m)
{
    const struct metric_def *d = m->def;
    uint64_t cum = 0;
    char le[80], num[64];

    for (int i = 0; i <= d->nbuckets; i++) {
        cum += atomic_load_explicit(&m->bucket[i], memory_order_relaxed);
        if (i < d->nbuckets)
            fmt_num(d->buckets[i], num, sizeof num);
        else
            snprintf(num, sizeof num, "+Inf");
        snprintf(le, sizeof le, "le=\"%s\"", num);
        put_sample(t, d->name, "_bucket", m->labels, le, (double)cum);
    }
    put_sample(t, d->name, "_sum", m->labels, NULL,
               bitsd(atomic_load_explicit(&m->bits, memory_order_relaxed)));
    /* The same snapshot as +Inf, so the two always agree. */
    put_sample(t, d->name, "_count", m->labels, NULL, (double)cum);
}

static const char *type_name(enum metric_type type)
{
    return type == METRIC_COUNTER ? "counter" : type == METRIC_GAUGE ? "gauge" : "histogram";
}

static int visible(const struct metric *m)
{
    return m->def->type != METRIC_GAUGE || !atomic_load_explicit(&m->hidden, memory_order_relaxed);
}

char *metrics_render(void)
{
    struct text t = TEXT_INIT;

    for (int i = 0; i < reg.n; i++) {
        const struct family *f = &reg.fam[i];
        const struct metric_def *d = f->def;
        struct metric *m = atomic_load_explicit(&f->head, memory_order_acquire);
        int header = 0;

        for (; m != NULL; m = atomic_load_explicit(&m->next, memory_order_acquire)) {
            if (!visible(m))
                continue;
            if (!header) {
                text_puts(&t, "# HELP ");
                text_puts(&t, d->name);
                text_puts(&t, " ");
                put_help(&t, d->help);
                text_puts(&t, "\n# TYPE ");
                text_puts(&t, d->name);
                text_puts(&t, " ");
                text_puts(&t, type_name(d->type));
                text_puts(&t, "\n");
                header = 1;
            }
            if (d->type == METRIC_HISTOGRAM)
                put_histogram(&t, m);
            else if (d->type == METRIC_COUNTER)
                put_sample(&t, d->name, "", m->labels, NULL,
                           (double)atomic_load_explicit(&m->n, memory_order_relaxed) +
                               bitsd(atomic_load_explicit(&m->bits, memory_order_relaxed)));
            else
                put_sample(&t, d->name, "", m->labels, NULL,
                           bitsd(atomic_load_explicit(&m->bits, memory_order_relaxed)));
        }
    }
    return text_finish(&t);
}

int metrics_labels(char *out, size_t cap, ...)
{
    va_list ap;
    size_t used = 0;
    const char *k;
    int ok = 1;

    if (cap == 0)
        return -1;
    out[0] = '\0';
    va_start(ap, cap);
    while (ok && (k = va_arg(ap, const char *)) != NULL) {
        const char *v = va_arg(ap, const char *);
        size_t klen = strlen(k), n = (used ? 1 : 0) + klen + 2;  /* [,]key=" */
        if (n >= cap - used) {
            ok = 0;
            break;
        }
        if (used)
            out[used++] = ',';
        memcpy(out + used, k, klen);
        memcpy(out + used + klen, "=\"", 2);
        used += klen + 2;
        for (; v != NULL && *v != '\0' && ok; v++) {
            const char *esc = *v == '\\' ? "\\\\" : *v == '"' ? "\\\"" : *v == '\n' ? "\\n" : NULL;
            size_t len = esc ? 2 : 1;
            if (used + len >= cap) {
                ok = 0;
                break;
            }
            memcpy(out + used, esc ? esc : v, len);
            used += len;
        }
        if (!ok || used + 1 >= cap) {
            ok = 0;
            break;
        }
        out[used++] = '"';
        out[used] = '\0';
    }
    va_end(ap);
    if (!ok) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}
