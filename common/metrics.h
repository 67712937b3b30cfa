/* metrics.h - the process's Prometheus registry: counters, gauges and
 * histograms, rendered in the text exposition format (version 0.0.4).
 *
 * Like the logger it is process-wide and set up once, before any thread
 * starts, from a table of families (name, type, help, buckets). A series is
 * a family plus a fixed label string (`route="/review",status="202"`, or ""
 * for none). Series are created on first use under a mutex and updated with
 * C11 atomics afterwards; finding an existing series never locks, so any
 * thread may update while another renders.
 *
 *     metrics_init(table, n, CFG_WORKER, &e);          // before threads
 *     metrics_inc(MET_JOBS, "type=\"review\",outcome=\"done\"");
 *     char *text = metrics_render();                   // owns: free()
 *
 * Every update function accepts a NULL series and does nothing, so code
 * instrumented for one process runs unchanged in another (or in a unit test
 * that never called metrics_init).
 */
#ifndef CI_METRICS_H
#define CI_METRICS_H

#include <stddef.h>

struct err;
struct metric;

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

#define METRIC_BUCKETS_MAX 24   /* upper bounds of a histogram, without +Inf */
#define METRIC_LABELS_MAX 256   /* bytes of a series' label string, excluding the NUL */
#define METRIC_SERIES_MAX 512   /* series per family; later ones are dropped */
#define METRIC_FAMILIES_MAX 64

/* One family. Tables of these are static data (common/metrics_table.c). */
struct metric_def {
    const char *name;           /* with its unit: _seconds, _bytes, _total */
    enum metric_type type;
    const char *help;
    const double *buckets;      /* histograms: ascending upper bounds, no +Inf */
    int nbuckets;
    unsigned procs;             /* processes that expose it (CFG_* bits); 0: every one */
    const char *const *preset;  /* NULL-terminated label strings created at init, so
                                   they read 0 before their first event; may be NULL */
};

/* Registers the n families of defs (borrowed: static), enabling those whose
 * procs include a bit of `procs`; the index of a family in defs is its id.
 * Call once before threads start (again only after metrics_cleanup).
 * Returns ERR_OK, or ERR_CONFIG for a malformed table (too many families or
 * buckets, unsorted buckets) or ERR_INTERNAL when out of memory. */
int metrics_init(const struct metric_def *defs, int n, unsigned procs, struct err *e);

/* Frees every series; later lookups return NULL. Call after threads stopped. */
void metrics_cleanup(void);

/* The series of family `family` with these labels (borrowed; copied on
 * creation), created on first use. Returns the series (borrowed until
 * metrics_cleanup), or NULL when the family is unknown or disabled, the
 * labels are longer than METRIC_LABELS_MAX, the family already holds
 * METRIC_SERIES_MAX series, or memory ran out. */
struct metric *metrics_get(int family, const char *labels);

/* Counters: +1, or +v (v >= 0; a negative v is ignored). Gauges: add v
 * (may be negative). Histograms: ignored. */
void metric_inc(struct metric *m);
void metric_add(struct metric *m, double v);

/* Gauges only: set the value (the series shows again after metric_clear). */
void metric_set(struct metric *m, double v);

/* Gauges only: hide the series from rendering until the next metric_set (a
 * value that could not be read at scrape time is omitted, not stale). */
void metric_clear(struct metric *m);

/* Histograms only: counts v in the first bucket whose bound is >= v. */
void metric_observe(struct metric *m, double v);

/* Shorthands: metric_x(metrics_get(family, labels), ...). */
void metrics_inc(int family, const char *labels);
void metrics_add(int family, const char *labels, double v);
void metrics_set(int family, const char *labels, double v);
void metrics_observe(int family, const char *labels, double v);

/* The whole registry in the text exposition format: per family with at
 * least one visible series, "# HELP" and "# TYPE" lines, then its series in
 * creation order (histograms as _bucket{le=...} cumulative, _sum, _count).
 * Returns the text (owns: free) or NULL when out of memory. */
char *metrics_render(void);

/* Builds a label string from key, value pairs ending with NULL, escaping
 * the values (backslash, double quote, newline):
 *     metrics_labels(buf, sizeof buf, "route", "/job/:id", "status", "200", NULL)
 *     -> route="/job/:id",status="200"
 * Returns 0, or -1 (out set to "") when it does not fit in cap bytes. */
int metrics_labels(char *out, size_t cap, ...) __attribute__((sentinel));

#endif
