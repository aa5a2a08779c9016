/* log_test: the JSON line format, typed fields, levels, per-thread request ids, whole lines. */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "common/log.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/banned.h"

static int log_fd_out = -1;

/* Every test logs into its own temp file at a pinned time: 2026-01-05T04:45:10.123Z. */
static void log_setup(void)
{
	char path[] = "/tmp/pv-log-test-XXXXXX";

	log_fd_out = mkstemp(path);
	ck_assert_int_ge(log_fd_out, 0);
	unlink(path);
	clock_set_fixed(1767588310123LL);
	log_init("test-daemon", LOG_DEBUG, log_fd_out);
	log_set_request_id(NULL);
}

static void log_teardown(void)
{
	clock_set_fixed(0);
	if (log_fd_out >= 0)
		close(log_fd_out);
	log_fd_out = -1;
}

/* Everything written so far (caller frees). */
static char *log_output(void)
{
	off_t end = lseek(log_fd_out, 0, SEEK_END);
	char *s;

	ck_assert_int_ge(end, 0);
	s = malloc((size_t)end + 1);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(pread(log_fd_out, s, (size_t)end, 0), end);
	s[end] = '\0';
	return s;
}

static size_t log_count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

START_TEST(test_line_is_exact)
{
	char *out;

	log_set_request_id("req-1");
	log_info("request", "method", "GET", "status:i", 200LL, "bytes:u", 18446744073709551615ULL,
	         "ratio:f", 0.25, "ok:b", 1, "none:s", (const char *)NULL, "neg:i", -7LL, "off:b",
	         0);
	out = log_output();
	ck_assert_str_eq(out, "{\"time\":\"2026-01-05T04:45:10.123Z\",\"level\":\"info\","
	                      "\"daemon\":\"test-daemon\",\"request_id\":\"req-1\","
	                      "\"msg\":\"request\",\"method\":\"GET\",\"status\":200,"
	                      "\"bytes\":18446744073709551615,\"ratio\":0.25,\"ok\":true,"
	                      "\"none\":null,\"neg\":-7,\"off\":false}\n");
	free(out);
}
END_TEST

START_TEST(test_no_request_id_no_fields)
{
	char *out;

	log_error("boom");
	out = log_output();
	ck_assert_str_eq(out, "{\"time\":\"2026-01-05T04:45:10.123Z\",\"level\":\"error\","
	                      "\"daemon\":\"test-daemon\",\"msg\":\"boom\"}\n");
	free(out);
}
END_TEST

START_TEST(test_strings_are_escaped)
{
	const char *nasty = "quote\" back\\ nl\n tab\t ctl\x01 한글 </script>";
	const char *key = "we\"ird";
	cJSON *j;
	char *out;

	log_warn(nasty, key, nasty, "doubles:f", 1.0 / 3.0, "nan:f", NAN, "inf:f", INFINITY);
	out = log_output();
	ck_assert_uint_eq(log_count_lines(out), 1);
	j = cJSON_Parse(out);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "msg")->valuestring, nasty);
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, key)->valuestring, nasty);
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "level")->valuestring, "warn");
	ck_assert(cJSON_GetObjectItemCaseSensitive(j, "doubles")->valuedouble == 1.0 / 3.0);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "nan")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "inf")));
	cJSON_Delete(j);
	free(out);
}
END_TEST

START_TEST(test_level_filter)
{
	char *out;

	log_set_level(LOG_WARN);
	ck_assert(!log_enabled(LOG_DEBUG));
	ck_assert(!log_enabled(LOG_INFO));
	ck_assert(log_enabled(LOG_WARN));
	ck_assert(log_enabled(LOG_ERROR));
	log_debug("d");
	log_info("i");
	log_warn("w");
	log_error("e");
	out = log_output();
	ck_assert_uint_eq(log_count_lines(out), 2);
	ck_assert_ptr_null(strstr(out, "\"msg\":\"i\""));
	ck_assert_ptr_nonnull(
	    strstr(out, "\"level\":\"warn\",\"daemon\":\"test-daemon\",\"msg\":\"w\""));
	ck_assert_ptr_nonnull(strstr(out, "\"level\":\"error\""));
	free(out);
}
END_TEST

START_TEST(test_debug_level_name)
{
	char *out;

	log_debug("dbg", "k", "v");
	out = log_output();
	ck_assert_ptr_nonnull(strstr(out, "\"level\":\"debug\""));
	ck_assert_ptr_nonnull(strstr(out, "\"k\":\"v\"}\n"));
	free(out);
}
END_TEST

START_TEST(test_level_parse)
{
	enum log_level l = LOG_ERROR;

	ck_assert_int_eq(log_level_parse("debug", &l), 0);
	ck_assert_int_eq(l, LOG_DEBUG);
	ck_assert_int_eq(log_level_parse("info", &l), 0);
	ck_assert_int_eq(l, LOG_INFO);
	ck_assert_int_eq(log_level_parse("WARN", &l), 0);
	ck_assert_int_eq(l, LOG_WARN);
	ck_assert_int_eq(log_level_parse("warning", &l), 0);
	ck_assert_int_eq(l, LOG_WARN);
	ck_assert_int_eq(log_level_parse("error", &l), 0);
	ck_assert_int_eq(l, LOG_ERROR);
	ck_assert_int_eq(log_level_parse("verbose", &l), -E_CONFIG);
	ck_assert_int_eq(log_level_parse("", &l), -E_CONFIG);
	ck_assert_int_eq(log_level_parse(NULL, &l), -E_CONFIG);
	ck_assert_int_eq(l, LOG_ERROR); /* untouched on failure */
}
END_TEST

static void *log_thread_main(void *arg)
{
	log_info("from thread without id");
	log_set_request_id((const char *)arg);
	log_info("from thread with id");
	return NULL;
}

START_TEST(test_request_id_is_per_thread)
{
	pthread_t t;
	char *out;

	log_set_request_id("main-id");
	ck_assert_int_eq(pthread_create(&t, NULL, log_thread_main, "job-7"), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	log_info("from main");
	log_set_request_id(NULL);
	log_info("cleared");
	out = log_output();
	ck_assert_ptr_nonnull(
	    strstr(out, "\"daemon\":\"test-daemon\",\"msg\":\"from thread without id\""));
	ck_assert_ptr_nonnull(
	    strstr(out, "\"request_id\":\"job-7\",\"msg\":\"from thread with id\""));
	ck_assert_ptr_nonnull(strstr(out, "\"request_id\":\"main-id\",\"msg\":\"from main\""));
	ck_assert_ptr_nonnull(strstr(out, "\"daemon\":\"test-daemon\",\"msg\":\"cleared\""));
	free(out);
}
END_TEST

#define LOG_THREADS 4
#define LOG_LINES   300

static void *log_flood_main(void *arg)
{
	char pad[600];

	memset(pad, 'a' + (int)(long)arg, sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	for (long long i = 0; i < LOG_LINES; i++)
		log_info("flood", "thread:i", (long long)(long)arg, "i:i", i, "pad", pad);
	return NULL;
}

/* Concurrent threads never interleave within a line: every line parses on its own. */
START_TEST(test_concurrent_lines_are_whole)
{
	pthread_t t[LOG_THREADS];
	int seen[LOG_THREADS] = {0};
	char *out, *line, *nl;
	size_t n = 0;

	for (long i = 0; i < LOG_THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, log_flood_main, (void *)i), 0);
	for (int i = 0; i < LOG_THREADS; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	out = log_output();
	for (line = out; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		cJSON *j;
		int th;

		*nl = '\0';
		j = cJSON_Parse(line);
		ck_assert_ptr_nonnull(j);
		th = (int)cJSON_GetObjectItemCaseSensitive(j, "thread")->valuedouble;
		ck_assert_int_ge(th, 0);
		ck_assert_int_lt(th, LOG_THREADS);
		ck_assert_uint_eq(strlen(cJSON_GetObjectItemCaseSensitive(j, "pad")->valuestring),
		                  599);
		ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(j, "pad")->valuestring[0],
		                 'a' + th);
		seen[th]++;
		n++;
		cJSON_Delete(j);
	}
	ck_assert_str_eq(line, ""); /* nothing after the last newline */
	ck_assert_uint_eq(n, LOG_THREADS * LOG_LINES);
	for (int i = 0; i < LOG_THREADS; i++)
		ck_assert_int_eq(seen[i], LOG_LINES);
	free(out);
}
END_TEST

START_TEST(test_oversized_field_truncates_line)
{
	size_t n = 100 * 1024;
	char *big = malloc(n + 1);
	cJSON *j;
	char *out;

	ck_assert_ptr_nonnull(big);
	memset(big, 'b', n);
	big[n] = '\0';
	log_info("big", "first:i", 1LL, "big", big, "after:i", 2LL);
	out = log_output();
	ck_assert_uint_eq(log_count_lines(out), 1);
	ck_assert_uint_le(strlen(out), 64 * 1024);
	j = cJSON_Parse(out);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(j, "first")->valuedouble, 1);
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(j, "big"));
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(j, "after"));
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "log_truncated")));
	cJSON_Delete(j);
	free(out);
	free(big);
}
END_TEST

START_TEST(test_long_message_is_cut_on_utf8_boundary)
{
	size_t n = 3 * 5000; /* 5000 Hangul syllables, 15000 bytes */
	char *msg = malloc(n + 1);
	const char *got;
	cJSON *j;
	char *out;

	ck_assert_ptr_nonnull(msg);
	for (size_t i = 0; i < n; i += 3)
		memcpy(msg + i, "가", 3);
	msg[n] = '\0';
	log_info(msg, "k:i", 5LL);
	out = log_output();
	j = cJSON_Parse(out);
	ck_assert_ptr_nonnull(j);
	got = cJSON_GetObjectItemCaseSensitive(j, "msg")->valuestring;
	/* 8192 bytes cut back to 8190 (a whole syllable), then "..." */
	ck_assert_uint_eq(strlen(got), 8190 + 3);
	ck_assert_int_eq(memcmp(got, msg, 8190), 0);
	ck_assert_str_eq(got + 8190, "...");
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(j, "k")->valuedouble, 5);
	cJSON_Delete(j);
	free(out);
	free(msg);
}
END_TEST

START_TEST(test_time_follows_the_clock)
{
	char *out;

	clock_set_fixed(86400000LL + 7); /* 1970-01-02T00:00:00.007Z */
	log_info("t");
	out = log_output();
	ck_assert_ptr_nonnull(strstr(out, "{\"time\":\"1970-01-02T00:00:00.007Z\","));
	free(out);
}
END_TEST

Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");

	tcase_add_checked_fixture(tc, log_setup, log_teardown);
	tcase_add_test(tc, test_line_is_exact);
	tcase_add_test(tc, test_no_request_id_no_fields);
	tcase_add_test(tc, test_strings_are_escaped);
	tcase_add_test(tc, test_level_filter);
	tcase_add_test(tc, test_debug_level_name);
	tcase_add_test(tc, test_level_parse);
	tcase_add_test(tc, test_request_id_is_per_thread);
	tcase_add_test(tc, test_concurrent_lines_are_whole);
	tcase_add_test(tc, test_oversized_field_truncates_line);
	tcase_add_test(tc, test_long_message_is_cut_on_utf8_boundary);
	tcase_add_test(tc, test_time_follows_the_clock);
	suite_add_tcase(s, tc);
	return s;
}
