/* metrics: a small process-global Prometheus registry (see metrics.h). */
#include "common/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/banned.h"

#define METRICS_FAMILIES_MAX 256
#define METRICS_SERIES_MAX   10000 /* per family: a guard against unbounded label values */
#define METRICS_LABELS_MAX   1024
#define METRICS_BUCKETS_MAX  64

const double metrics_latency_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                          0.25,  0.5,    1,     2.5,  5,     10};
const size_t metrics_latency_nbuckets =
    sizeof(metrics_latency_buckets) / sizeof(metrics_latency_buckets[0]);

struct series {
	char *labels;
	struct series *next;      /* in insertion order */
	struct series *hash_next; /* in its hash chain */
	double value;             /* counter, gauge; histogram: sum */
	uint64_t count;           /* histogram */
	uint64_t *buckets;        /* histogram: per bucket (not cumulative) then +Inf */
};

struct family {
	char *name;
	char *help;
	enum metric_type type;
	const double *bounds;
	size_t nbounds;
	struct series *first, *last;
	struct series **hash;
	size_t nhash, nseries;
};

static pthread_mutex_t metrics_lock = PTHREAD_MUTEX_INITIALIZER;
static struct family *metrics_families;
static size_t metrics_nfamilies;

static int metrics_name_ok(const char *s)
{
	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (; *s; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == ':'))
			return 0;
	}
	return 1;
}

static struct family *metrics_find(const char *name)
{
	for (size_t i = 0; i < metrics_nfamilies; i++) {
		if (strcmp(metrics_families[i].name, name) == 0)
			return &metrics_families[i];
	}
	return NULL;
}

static uint64_t metrics_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static int metrics_rehash(struct family *f)
{
	size_t n = f->nhash ? f->nhash * 2 : 16;
	struct series **h = calloc(n, sizeof(*h));

	if (!h)
		return -E_NOMEM;
	for (struct series *s = f->first; s; s = s->next) {
		size_t k = metrics_hash(s->labels) & (n - 1);

		s->hash_next = h[k];
		h[k] = s;
	}
	free(f->hash);
	f->hash = h;
	f->nhash = n;
	return 0;
}

/* The series of f with these labels, created (zero) when new. */
static int metrics_series(struct family *f, const char *labels, struct series **out)
{
	struct series *s;
	size_t k;

	if (strlen(labels) > METRICS_LABELS_MAX)
		return -E_TOO_LONG;
	if (f->nhash) {
		k = metrics_hash(labels) & (f->nhash - 1);
		for (s = f->hash[k]; s; s = s->hash_next) {
			if (strcmp(s->labels, labels) == 0) {
				*out = s;
				return 0;
			}
		}
	}
	if (f->nseries >= METRICS_SERIES_MAX)
		return -E_TOO_LONG;
	if (f->nseries + 1 > f->nhash * 3 / 4 && metrics_rehash(f) != 0)
		return -E_NOMEM;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -E_NOMEM;
	s->labels = strdup(labels);
	if (f->type == METRIC_HISTOGRAM)
		s->buckets = calloc(f->nbounds + 1, sizeof(*s->buckets));
	if (!s->labels || (f->type == METRIC_HISTOGRAM && !s->buckets)) {
		free(s->labels);
		free(s->buckets);
		free(s);
		return -E_NOMEM;
	}
	k = metrics_hash(labels) & (f->nhash - 1);
	s->hash_next = f->hash[k];
	f->hash[k] = s;
	if (f->last)
		f->last->next = s;
	else
		f->first = s;
	f->last = s;
	f->nseries++;
	*out = s;
	return 0;
}

int metrics_declare(const char *family, enum metric_type type, const char *help,
                    const double *buckets, size_t nbuckets)
{
	struct family *f, *grown;
	int rc = 0;

	if (!metrics_name_ok(family) ||
	    (type != METRIC_COUNTER && type != METRIC_GAUGE && type != METRIC_HISTOGRAM))
		return -E_CONFIG;
	if (type == METRIC_HISTOGRAM) {
		if ((nbuckets && !buckets) || nbuckets > METRICS_BUCKETS_MAX)
			return -E_CONFIG;
		for (size_t i = 0; i < nbuckets; i++) {
			if (!isfinite(buckets[i]) || (i > 0 && !(buckets[i] > buckets[i - 1])))
				return -E_CONFIG;
		}
	} else {
		buckets = NULL;
		nbuckets = 0;
	}

	pthread_mutex_lock(&metrics_lock);
	f = metrics_find(family);
	if (f) {
		/* Declaring the same family twice the same way is harmless. */
		if (f->type != type || f->nbounds != nbuckets ||
		    (nbuckets && memcmp(f->bounds, buckets, nbuckets * sizeof(*buckets)) != 0))
			rc = -E_CONFIG;
		goto out;
	}
	if (metrics_nfamilies >= METRICS_FAMILIES_MAX) {
		rc = -E_TOO_LONG;
		goto out;
	}
	grown = realloc(metrics_families, (metrics_nfamilies + 1) * sizeof(*grown));
	if (!grown) {
		rc = -E_NOMEM;
		goto out;
	}
	metrics_families = grown;
	f = &metrics_families[metrics_nfamilies];
	memset(f, 0, sizeof(*f));
	f->name = strdup(family);
	f->help = strdup(help ? help : "");
	if (!f->name || !f->help) {
		free(f->name);
		free(f->help);
		rc = -E_NOMEM;
		goto out;
	}
	f->type = type;
	f->bounds = buckets;
	f->nbounds = nbuckets;
	metrics_nfamilies++;
out:
	pthread_mutex_unlock(&metrics_lock);
	return rc;
}

enum metrics_op { METRICS_INC, METRICS_SET, METRICS_OBSERVE };

static int metrics_update(const char *family, const char *labels, double v, enum metrics_op op)
{
	struct family *f;
	struct series *s;
	int rc;

	if (!family || isnan(v))
		return -E_CONFIG;
	pthread_mutex_lock(&metrics_lock);
	f = metrics_find(family);
	if (!f || (op == METRICS_INC && f->type == METRIC_HISTOGRAM) ||
	    (op == METRICS_INC && f->type == METRIC_COUNTER && v < 0) ||
	    (op == METRICS_SET && f->type != METRIC_GAUGE) ||
	    (op == METRICS_OBSERVE && f->type != METRIC_HISTOGRAM)) {
		rc = -E_CONFIG;
		goto out;
	}
	rc = metrics_series(f, labels ? labels : "", &s);
	if (rc)
		goto out;
	switch (op) {
	case METRICS_INC:
		s->value += v;
		break;
	case METRICS_SET:
		s->value = v;
		break;
	case METRICS_OBSERVE: {
		size_t i = 0;

		while (i < f->nbounds && v > f->bounds[i])
			i++;
		s->buckets[i]++;
		s->count++;
		s->value += v;
		break;
	}
	}
out:
	pthread_mutex_unlock(&metrics_lock);
	return rc;
}

int metrics_inc(const char *family, const char *labels, double v)
{
	return metrics_update(family, labels, v, METRICS_INC);
}

int metrics_set(const char *family, const char *labels, double v)
{
	return metrics_update(family, labels, v, METRICS_SET);
}

int metrics_observe(const char *family, const char *labels, double v)
{
	return metrics_update(family, labels, v, METRICS_OBSERVE);
}

/* A sample value as Prometheus (Go's ParseFloat) reads it: integers plainly, others as the
 * shortest text that reads back exactly. */
static void metrics_fmt_double(double v, char out[32])
{
	if (isnan(v)) {
		snprintf(out, 32, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(out, 32, "%s", v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(out, 32, "%.0f", v); /* counts read best without an exponent */
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(out, 32, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

/* HELP text escaping of the text format: backslash and newline. */
static int metrics_put_help(struct buf *b, const char *s)
{
	int rc = 0;

	for (; *s && !rc; s++) {
		if (*s == '\\')
			rc = buf_puts(b, "\\\\");
		else if (*s == '\n')
			rc = buf_puts(b, "\\n");
		else
			rc = buf_putc(b, *s);
	}
	return rc;
}

static int metrics_put_sample(struct buf *b, const char *name, const char *suffix,
                              const char *labels, const char *extra, double v)
{
	char num[32];
	int rc;

	metrics_fmt_double(v, num);
	rc = buf_printf(b, "%s%s", name, suffix);
	if (!rc && (*labels || extra))
		rc = buf_printf(b, "{%s%s%s}", labels, *labels && extra ? "," : "",
		                extra ? extra : "");
	if (!rc)
		rc = buf_printf(b, " %s\n", num);
	return rc;
}

static int metrics_put_family(struct buf *b, const struct family *f)
{
	static const char *const types[] = {"counter", "gauge", "histogram"};
	int rc;

	rc = buf_printf(b, "# HELP %s ", f->name);
	if (!rc)
		rc = metrics_put_help(b, f->help);
	if (!rc)
		rc = buf_printf(b, "\n# TYPE %s %s\n", f->name, types[f->type]);
	for (const struct series *s = f->first; s && !rc; s = s->next) {
		uint64_t cum = 0;
		char le[48], num[32];

		if (f->type != METRIC_HISTOGRAM) {
			rc = metrics_put_sample(b, f->name, "", s->labels, NULL, s->value);
			continue;
		}
		for (size_t i = 0; i <= f->nbounds && !rc; i++) {
			cum += s->buckets[i];
			if (i < f->nbounds) {
				metrics_fmt_double(f->bounds[i], num);
				snprintf(le, sizeof(le), "le=\"%s\"", num);
			} else {
				snprintf(le, sizeof(le), "le=\"+Inf\"");
			}
			rc = metrics_put_sample(b, f->name, "_bucket", s->labels, le, (double)cum);
		}
		if (!rc)
			rc = metrics_put_sample(b, f->name, "_sum", s->labels, NULL, s->value);
		if (!rc)
			rc = metrics_put_sample(b, f->name, "_count", s->labels, NULL,
			                        (double)s->count);
	}
	return rc;
}

int metrics_render(struct buf *out)
{
	size_t start = out->len;
	int rc = 0;

	pthread_mutex_lock(&metrics_lock);
	for (size_t i = 0; i < metrics_nfamilies && !rc; i++)
		rc = metrics_put_family(out, &metrics_families[i]);
	pthread_mutex_unlock(&metrics_lock);
	if (rc && out->data) {
		out->len = start;
		out->data[start] = '\0';
	}
	return rc;
}

void metrics_reset(void)
{
	pthread_mutex_lock(&metrics_lock);
	for (size_t i = 0; i < metrics_nfamilies; i++) {
		struct family *f = &metrics_families[i];
		struct series *s = f->first;

		while (s) {
			struct series *next = s->next;

			free(s->labels);
			free(s->buckets);
			free(s);
			s = next;
		}
		free(f->hash);
		free(f->name);
		free(f->help);
	}
	free(metrics_families);
	metrics_families = NULL;
	metrics_nfamilies = 0;
	pthread_mutex_unlock(&metrics_lock);
}
