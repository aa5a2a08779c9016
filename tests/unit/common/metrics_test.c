/* metrics_test: the exact text exposition, histograms, type rules, limits, concurrency. */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "common/metrics.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/banned.h"

static void metrics_setup(void)
{
	metrics_reset();
}

static void metrics_teardown(void)
{
	metrics_reset();
}

/* Renders the registry and compares the whole text. */
static void expect_exposition(const char *expect)
{
	struct buf b = BUF_INIT(0);

	ck_assert_int_eq(metrics_render(&b), 0);
	ck_assert_str_eq(b.data ? b.data : "", expect);
	buf_release(&b);
}

START_TEST(test_small_registry_exposition)
{
	static const double bounds[] = {0.25, 0.5, 1};

	ck_assert_int_eq(metrics_declare("pv_http_requests_total", METRIC_COUNTER,
	                                 "HTTP requests by method and status.", NULL, 0),
	                 0);
	ck_assert_int_eq(
	    metrics_declare("pv_inflight", METRIC_GAUGE, "Requests in flight.", NULL, 0), 0);
	ck_assert_int_eq(
	    metrics_declare("pv_latency_seconds", METRIC_HISTOGRAM, "Latency.", bounds, 3), 0);
	ck_assert_int_eq(metrics_inc("pv_http_requests_total", "method=\"GET\",status=\"200\"", 1),
	                 0);
	ck_assert_int_eq(metrics_inc("pv_http_requests_total", "method=\"POST\",status=\"201\"", 1),
	                 0);
	ck_assert_int_eq(metrics_inc("pv_http_requests_total", "method=\"GET\",status=\"200\"", 2),
	                 0);
	ck_assert_int_eq(metrics_set("pv_inflight", "", 7), 0);
	ck_assert_int_eq(metrics_set("pv_inflight", "", 3), 0);
	ck_assert_int_eq(metrics_observe("pv_latency_seconds", "route=\"/a\"", 0.125), 0);
	ck_assert_int_eq(metrics_observe("pv_latency_seconds", "route=\"/a\"", 0.25), 0); /* le */
	ck_assert_int_eq(metrics_observe("pv_latency_seconds", "route=\"/a\"", 0.75), 0);
	ck_assert_int_eq(metrics_observe("pv_latency_seconds", "route=\"/a\"", 4), 0);
	ck_assert_int_eq(metrics_observe("pv_latency_seconds", "route=\"/b\"", 0.5), 0);
	expect_exposition("# HELP pv_http_requests_total HTTP requests by method and status.\n"
	                  "# TYPE pv_http_requests_total counter\n"
	                  "pv_http_requests_total{method=\"GET\",status=\"200\"} 3\n"
	                  "pv_http_requests_total{method=\"POST\",status=\"201\"} 1\n"
	                  "# HELP pv_inflight Requests in flight.\n"
	                  "# TYPE pv_inflight gauge\n"
	                  "pv_inflight 3\n"
	                  "# HELP pv_latency_seconds Latency.\n"
	                  "# TYPE pv_latency_seconds histogram\n"
	                  "pv_latency_seconds_bucket{route=\"/a\",le=\"0.25\"} 2\n"
	                  "pv_latency_seconds_bucket{route=\"/a\",le=\"0.5\"} 2\n"
	                  "pv_latency_seconds_bucket{route=\"/a\",le=\"1\"} 3\n"
	                  "pv_latency_seconds_bucket{route=\"/a\",le=\"+Inf\"} 4\n"
	                  "pv_latency_seconds_sum{route=\"/a\"} 5.125\n"
	                  "pv_latency_seconds_count{route=\"/a\"} 4\n"
	                  "pv_latency_seconds_bucket{route=\"/b\",le=\"0.25\"} 0\n"
	                  "pv_latency_seconds_bucket{route=\"/b\",le=\"0.5\"} 1\n"
	                  "pv_latency_seconds_bucket{route=\"/b\",le=\"1\"} 1\n"
	                  "pv_latency_seconds_bucket{route=\"/b\",le=\"+Inf\"} 1\n"
	                  "pv_latency_seconds_sum{route=\"/b\"} 0.5\n"
	                  "pv_latency_seconds_count{route=\"/b\"} 1\n");
}
END_TEST

START_TEST(test_unlabelled_histogram_and_default_buckets)
{
	ck_assert_uint_eq(metrics_latency_nbuckets, 13);
	ck_assert(metrics_latency_buckets[0] == 0.001);
	ck_assert(metrics_latency_buckets[12] == 10);
	ck_assert_int_eq(metrics_declare("pv_db_seconds", METRIC_HISTOGRAM, "DB call latency.",
	                                 metrics_latency_buckets, metrics_latency_nbuckets),
	                 0);
	ck_assert_int_eq(metrics_observe("pv_db_seconds", NULL, 0.003), 0);
	ck_assert_int_eq(metrics_observe("pv_db_seconds", "", 20), 0);
	expect_exposition("# HELP pv_db_seconds DB call latency.\n"
	                  "# TYPE pv_db_seconds histogram\n"
	                  "pv_db_seconds_bucket{le=\"0.001\"} 0\n"
	                  "pv_db_seconds_bucket{le=\"0.0025\"} 0\n"
	                  "pv_db_seconds_bucket{le=\"0.005\"} 1\n"
	                  "pv_db_seconds_bucket{le=\"0.01\"} 1\n"
	                  "pv_db_seconds_bucket{le=\"0.025\"} 1\n"
	                  "pv_db_seconds_bucket{le=\"0.05\"} 1\n"
	                  "pv_db_seconds_bucket{le=\"0.1\"} 1\n"
	                  "pv_db_seconds_bucket{le=\"0.25\"} 1\n"
	                  "pv_db_seconds_bucket{le=\"0.5\"} 1\n"
	                  "pv_db_seconds_bucket{le=\"1\"} 1\n"
	                  "pv_db_seconds_bucket{le=\"2.5\"} 1\n"
	                  "pv_db_seconds_bucket{le=\"5\"} 1\n"
	                  "pv_db_seconds_bucket{le=\"10\"} 1\n"
	                  "pv_db_seconds_bucket{le=\"+Inf\"} 2\n"
	                  "pv_db_seconds_sum 20.003\n"
	                  "pv_db_seconds_count 2\n");
}
END_TEST

START_TEST(test_declared_family_without_samples)
{
	ck_assert_int_eq(metrics_declare("pv_leader", METRIC_GAUGE, "1 while leader.", NULL, 0), 0);
	expect_exposition("# HELP pv_leader 1 while leader.\n# TYPE pv_leader gauge\n");
}
END_TEST

START_TEST(test_empty_registry)
{
	expect_exposition("");
}
END_TEST

START_TEST(test_value_formats)
{
	ck_assert_int_eq(metrics_declare("g", METRIC_GAUGE, "", NULL, 0), 0);
	ck_assert_int_eq(metrics_set("g", "k=\"a\"", 0.1), 0);
	ck_assert_int_eq(metrics_set("g", "k=\"b\"", -2.5), 0);
	ck_assert_int_eq(metrics_set("g", "k=\"c\"", 1e21), 0);
	ck_assert_int_eq(metrics_set("g", "k=\"d\"", 123456789), 0);
	ck_assert_int_eq(metrics_set("g", "k=\"e\"", INFINITY), 0);
	ck_assert_int_eq(metrics_set("g", "k=\"f\"", -INFINITY), 0);
	ck_assert_int_eq(metrics_set("g", "k=\"g\"", 1.0 / 3.0), 0);
	ck_assert_int_eq(metrics_set("g", "k=\"h\"", 0), 0);
	expect_exposition("# HELP g \n# TYPE g gauge\n"
	                  "g{k=\"a\"} 0.1\n"
	                  "g{k=\"b\"} -2.5\n"
	                  "g{k=\"c\"} 1e+21\n"
	                  "g{k=\"d\"} 123456789\n"
	                  "g{k=\"e\"} +Inf\n"
	                  "g{k=\"f\"} -Inf\n"
	                  "g{k=\"g\"} 0.3333333333333333\n"
	                  "g{k=\"h\"} 0\n");
}
END_TEST

START_TEST(test_help_is_escaped)
{
	ck_assert_int_eq(
	    metrics_declare("c_total", METRIC_COUNTER, "back\\slash\nnew line", NULL, 0), 0);
	expect_exposition("# HELP c_total back\\\\slash\\nnew line\n# TYPE c_total counter\n");
}
END_TEST

START_TEST(test_gauge_inc_both_ways)
{
	ck_assert_int_eq(metrics_declare("pv_open", METRIC_GAUGE, "Open.", NULL, 0), 0);
	ck_assert_int_eq(metrics_inc("pv_open", "", 5), 0);
	ck_assert_int_eq(metrics_inc("pv_open", "", -2), 0);
	expect_exposition("# HELP pv_open Open.\n# TYPE pv_open gauge\npv_open 3\n");
}
END_TEST

START_TEST(test_type_rules)
{
	static const double bounds[] = {1};

	ck_assert_int_eq(metrics_declare("c_total", METRIC_COUNTER, "c", NULL, 0), 0);
	ck_assert_int_eq(metrics_declare("g", METRIC_GAUGE, "g", NULL, 0), 0);
	ck_assert_int_eq(metrics_declare("h", METRIC_HISTOGRAM, "h", bounds, 1), 0);
	ck_assert_int_eq(metrics_inc("undeclared", "", 1), -E_CONFIG);
	ck_assert_int_eq(metrics_set("c_total", "", 1), -E_CONFIG);
	ck_assert_int_eq(metrics_observe("c_total", "", 1), -E_CONFIG);
	ck_assert_int_eq(metrics_observe("g", "", 1), -E_CONFIG);
	ck_assert_int_eq(metrics_inc("h", "", 1), -E_CONFIG);
	ck_assert_int_eq(metrics_set("h", "", 1), -E_CONFIG);
	ck_assert_int_eq(metrics_inc("c_total", "", -1), -E_CONFIG); /* counters only go up */
	ck_assert_int_eq(metrics_inc("c_total", "", NAN), -E_CONFIG);
	ck_assert_int_eq(metrics_set("g", "", NAN), -E_CONFIG);
	ck_assert_int_eq(metrics_observe("h", "", NAN), -E_CONFIG);
	ck_assert_int_eq(metrics_inc(NULL, "", 1), -E_CONFIG);
	/* nothing was recorded by the refused calls */
	expect_exposition("# HELP c_total c\n# TYPE c_total counter\n"
	                  "# HELP g g\n# TYPE g gauge\n"
	                  "# HELP h h\n# TYPE h histogram\n");
}
END_TEST

START_TEST(test_declare_rules)
{
	static const double unsorted[] = {1, 0.5};
	static const double dup[] = {1, 1};
	static const double ok[] = {1, 2};
	static const double other[] = {1, 3};
	const double inf[] = {1, INFINITY};

	ck_assert_int_eq(metrics_declare("", METRIC_COUNTER, "x", NULL, 0), -E_CONFIG);
	ck_assert_int_eq(metrics_declare(NULL, METRIC_COUNTER, "x", NULL, 0), -E_CONFIG);
	ck_assert_int_eq(metrics_declare("1abc", METRIC_COUNTER, "x", NULL, 0), -E_CONFIG);
	ck_assert_int_eq(metrics_declare("a-b", METRIC_COUNTER, "x", NULL, 0), -E_CONFIG);
	ck_assert_int_eq(metrics_declare("a b", METRIC_COUNTER, "x", NULL, 0), -E_CONFIG);
	ck_assert_int_eq(metrics_declare("ns:ok_name_1", METRIC_COUNTER, "x", NULL, 0), 0);
	ck_assert_int_eq(metrics_declare("h", METRIC_HISTOGRAM, "x", unsorted, 2), -E_CONFIG);
	ck_assert_int_eq(metrics_declare("h", METRIC_HISTOGRAM, "x", dup, 2), -E_CONFIG);
	ck_assert_int_eq(metrics_declare("h", METRIC_HISTOGRAM, "x", inf, 2), -E_CONFIG);
	ck_assert_int_eq(metrics_declare("h", METRIC_HISTOGRAM, "x", NULL, 2), -E_CONFIG);
	ck_assert_int_eq(metrics_declare("h", METRIC_HISTOGRAM, "x", ok, 2), 0);
	/* the same declaration again is harmless; a different one is refused */
	ck_assert_int_eq(metrics_declare("h", METRIC_HISTOGRAM, "x", ok, 2), 0);
	ck_assert_int_eq(metrics_declare("h", METRIC_HISTOGRAM, "x", other, 2), -E_CONFIG);
	ck_assert_int_eq(metrics_declare("h", METRIC_HISTOGRAM, "x", ok, 1), -E_CONFIG);
	ck_assert_int_eq(metrics_declare("h", METRIC_GAUGE, "x", NULL, 0), -E_CONFIG);
	ck_assert_int_eq(metrics_declare("bad_type", (enum metric_type)7, "x", NULL, 0), -E_CONFIG);
}
END_TEST

START_TEST(test_label_and_series_limits)
{
	char labels[1100];
	int rc = 0;
	int i;

	ck_assert_int_eq(metrics_declare("pv_many_total", METRIC_COUNTER, "m", NULL, 0), 0);
	memset(labels, 'a', sizeof(labels) - 1);
	labels[sizeof(labels) - 1] = '\0';
	ck_assert_int_eq(metrics_inc("pv_many_total", labels, 1), -E_TOO_LONG);
	for (i = 0; i < 10000 && rc == 0; i++) {
		snprintf(labels, sizeof(labels), "id=\"%d\"", i);
		rc = metrics_inc("pv_many_total", labels, 1);
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(metrics_inc("pv_many_total", "id=\"10000\"", 1), -E_TOO_LONG);
	/* existing series still count past the limit, and each is found again */
	for (i = 0; i < 10000; i++) {
		snprintf(labels, sizeof(labels), "id=\"%d\"", i);
		ck_assert_int_eq(metrics_inc("pv_many_total", labels, 1), 0);
	}
	{
		struct buf b = BUF_INIT(0);

		ck_assert_int_eq(metrics_render(&b), 0);
		ck_assert_ptr_nonnull(strstr(b.data, "\npv_many_total{id=\"0\"} 2\n"));
		ck_assert_ptr_nonnull(strstr(b.data, "\npv_many_total{id=\"9999\"} 2\n"));
		ck_assert_ptr_null(strstr(b.data, "id=\"10000\""));
		buf_release(&b);
	}
}
END_TEST

START_TEST(test_render_appends_and_fails_cleanly)
{
	struct buf b = BUF_INIT(40);

	ck_assert_int_eq(metrics_declare("pv_x_total", METRIC_COUNTER, "A help text.", NULL, 0), 0);
	ck_assert_int_eq(metrics_inc("pv_x_total", "", 1), 0);
	ck_assert_int_eq(buf_puts(&b, "prefix\n"), 0);
	ck_assert_int_eq(metrics_render(&b), -E_TOO_LONG);
	ck_assert_str_eq(b.data, "prefix\n");
	b.max = 0;
	ck_assert_int_eq(metrics_render(&b), 0);
	ck_assert_str_eq(b.data, "prefix\n# HELP pv_x_total A help text.\n"
	                         "# TYPE pv_x_total counter\npv_x_total 1\n");
	buf_release(&b);
}
END_TEST

START_TEST(test_reset_drops_everything)
{
	ck_assert_int_eq(metrics_declare("pv_a_total", METRIC_COUNTER, "a", NULL, 0), 0);
	ck_assert_int_eq(metrics_inc("pv_a_total", "", 1), 0);
	metrics_reset();
	expect_exposition("");
	ck_assert_int_eq(metrics_inc("pv_a_total", "", 1), -E_CONFIG);
	ck_assert_int_eq(metrics_declare("pv_a_total", METRIC_GAUGE, "a", NULL, 0), 0);
}
END_TEST

#define METRICS_THREADS 4
#define METRICS_INCS    20000

static void *metrics_thread_main(void *arg)
{
	for (int i = 0; i < METRICS_INCS; i++) {
		metrics_inc("pv_conc_total", (i & 1) ? "p=\"odd\"" : "p=\"even\"", 1);
		metrics_observe("pv_conc_seconds", "", 0.5);
	}
	return arg;
}

START_TEST(test_concurrent_updates)
{
	static const double bounds[] = {1};
	pthread_t t[METRICS_THREADS];

	ck_assert_int_eq(metrics_declare("pv_conc_total", METRIC_COUNTER, "c", NULL, 0), 0);
	ck_assert_int_eq(metrics_declare("pv_conc_seconds", METRIC_HISTOGRAM, "h", bounds, 1), 0);
	for (int i = 0; i < METRICS_THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, metrics_thread_main, NULL), 0);
	for (int i = 0; i < METRICS_THREADS; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	expect_exposition("# HELP pv_conc_total c\n# TYPE pv_conc_total counter\n"
	                  "pv_conc_total{p=\"even\"} 40000\n"
	                  "pv_conc_total{p=\"odd\"} 40000\n"
	                  "# HELP pv_conc_seconds h\n# TYPE pv_conc_seconds histogram\n"
	                  "pv_conc_seconds_bucket{le=\"1\"} 80000\n"
	                  "pv_conc_seconds_bucket{le=\"+Inf\"} 80000\n"
	                  "pv_conc_seconds_sum 40000\n"
	                  "pv_conc_seconds_count 80000\n");
}
END_TEST

Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("metrics");

	tcase_add_checked_fixture(tc, metrics_setup, metrics_teardown);
	tcase_add_test(tc, test_small_registry_exposition);
	tcase_add_test(tc, test_unlabelled_histogram_and_default_buckets);
	tcase_add_test(tc, test_declared_family_without_samples);
	tcase_add_test(tc, test_empty_registry);
	tcase_add_test(tc, test_value_formats);
	tcase_add_test(tc, test_help_is_escaped);
	tcase_add_test(tc, test_gauge_inc_both_ways);
	tcase_add_test(tc, test_type_rules);
	tcase_add_test(tc, test_declare_rules);
	tcase_add_test(tc, test_label_and_series_limits);
	tcase_add_test(tc, test_render_appends_and_fails_cleanly);
	tcase_add_test(tc, test_reset_drops_everything);
	tcase_add_test(tc, test_concurrent_updates);
	suite_add_tcase(s, tc);
	return s;
}
