/*
 * metrics: a small Prometheus registry (text format 0.0.4).
 *
 * Families are declared once at start (metrics_declare) with their type and help; samples
 * are then added by family name and a label string already in Prometheus syntax
 * (`method="GET",route="/health"`), or "" for none. Histograms use fixed buckets given at
 * declaration. The registry is process-global and guarded by a mutex; metrics_render writes
 * the whole exposition into a buf.
 *
 * Thread-safe.
 */
#ifndef PV_COMMON_METRICS_H
#define PV_COMMON_METRICS_H

#include <stddef.h>

struct buf;

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

/* buckets: ascending upper bounds (for histograms; +Inf is implicit), borrowed, static. */
int metrics_declare(const char *family, enum metric_type type, const char *help,
                    const double *buckets, size_t nbuckets);
int metrics_inc(const char *family, const char *labels, double v);     /* counters */
int metrics_set(const char *family, const char *labels, double v);     /* gauges */
int metrics_observe(const char *family, const char *labels, double v); /* histograms */
int metrics_render(struct buf *out);
void metrics_reset(void); /* drops everything (tests) */

/* Default latency buckets in seconds: 1 ms .. 10 s. */
extern const double metrics_latency_buckets[];
extern const size_t metrics_latency_nbuckets;

#endif
