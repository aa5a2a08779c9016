/*
 * throttle_test: sliding-window failure counters against a real Redis (PV_REDIS_HOST,
 * PV_REDIS_PORT). Time is passed explicitly (now_ms), so nothing here waits.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/redis.h"
#include "common/throttle.h"
#include "common/banned.h"

#define T0     1767590000000LL /* ms */
#define WIN    900             /* 15 min */
#define WIN_MS (WIN * 1000LL)

static char prefix[64];
static struct redis *r;

static const char SCRIPT_DEL_PREFIX[] =
    "for _, k in ipairs(redis.call('KEYS', ARGV[1] .. '*')) do redis.call('DEL', k) end\n"
    "return 0\n";

static void setup(void)
{
	const char *host = getenv("PV_REDIS_HOST");
	const char *port = getenv("PV_REDIS_PORT");
	struct redis_config cfg = {
	    .host = host && *host ? host : "127.0.0.1",
	    .port = port && *port ? (int)strtol(port, NULL, 10) : 6379,
	    .timeout_ms = 2000,
	    .prefix = prefix,
	};

	snprintf(prefix, sizeof(prefix), "pvtest:%ld:", (long)getpid());
	r = redis_new(&cfg);
	ck_assert_ptr_nonnull(r);
	ck_assert_msg(redis_ping(r) == 0, "Redis unreachable: %s", redis_last_error(r));
}

static void teardown(void)
{
	const char *argv[] = {prefix};

	if (r) {
		redis_eval(r, NULL, SCRIPT_DEL_PREFIX, 0, 1, argv);
		redis_free(r);
		r = NULL;
	}
}

/* 0 or 1 from throttle_check; *retry set to -1 first so an untouched value shows. */
static int check(const char *key, int limit, int64_t now, int *retry)
{
	int rc;

	*retry = -1;
	rc = throttle_check(r, key, limit, WIN, now, retry);
	ck_assert_int_ge(rc, 0);
	return rc;
}

static long long zcard(const char *key)
{
	redisReply *rep = NULL;
	long long n;

	ck_assert_int_eq(redis_cmd(r, &rep, "ZCARD %sthr:%s", prefix, key), 0);
	n = rep->integer;
	freeReplyObject(rep);
	return n;
}

START_TEST(test_limit_and_retry_after)
{
	int retry;

	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(check("acct:a", 3, T0 + i * 1000, &retry), 0);
		ck_assert_int_eq(retry, -1);
		ck_assert_int_eq(throttle_hit(r, "acct:a", WIN, T0 + i * 1000), 0);
	}
	/* Three failures at T0, T0+1s, T0+2s; the one at T0 leaves the window at T0+900.001s. */
	ck_assert_int_eq(check("acct:a", 3, T0 + 3000, &retry), 1);
	ck_assert_int_eq(retry, 898); /* ceil(897.001) */
	ck_assert_int_eq(check("acct:a", 4, T0 + 3000, &retry), 0);
	/* Stored under the prefix. */
	ck_assert_int_eq(zcard("acct:a"), 3);
}
END_TEST

START_TEST(test_window_slides)
{
	int retry;

	ck_assert_int_eq(throttle_hit(r, "ip:1", WIN, T0), 0);
	ck_assert_int_eq(throttle_hit(r, "ip:1", WIN, T0 + 10000), 0);
	/* At exactly T0 + window the first failure still counts ([now - window, now]). */
	ck_assert_int_eq(check("ip:1", 2, T0 + WIN_MS, &retry), 1);
	ck_assert_int_eq(retry, 1);
	ck_assert_int_eq(check("ip:1", 2, T0 + WIN_MS + 1, &retry), 0);
	ck_assert_int_eq(zcard("ip:1"), 1); /* dropped */
	ck_assert_int_eq(check("ip:1", 1, T0 + WIN_MS + 1, &retry), 1);
	ck_assert_int_eq(retry, 10);
	ck_assert_int_eq(check("ip:1", 1, T0 + 10000 + WIN_MS + 1, &retry), 0);
}
END_TEST

START_TEST(test_more_failures_than_limit)
{
	int retry;

	/* Five failures one minute apart, limit 3: a slot frees when the third oldest leaves. */
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(throttle_hit(r, "ip:2", WIN, T0 + i * 60000LL), 0);
	ck_assert_int_eq(check("ip:2", 3, T0 + 5 * 60000LL, &retry), 1);
	/* third oldest at T0 + 120 s leaves at T0 + 1020.001 s; now is T0 + 300 s */
	ck_assert_int_eq(retry, 721);
	ck_assert_int_eq(check("ip:2", 3, T0 + 120000 + WIN_MS + 1, &retry), 0);
}
END_TEST

START_TEST(test_same_ms_counts_twice_and_keys_are_separate)
{
	int retry;

	ck_assert_int_eq(throttle_hit(r, "ip:3", WIN, T0), 0);
	ck_assert_int_eq(throttle_hit(r, "ip:3", WIN, T0), 0);
	ck_assert_int_eq(check("ip:3", 2, T0, &retry), 1);
	ck_assert_int_eq(retry, WIN + 1); /* ceil((WIN_MS + 1) / 1000) */
	ck_assert_int_eq(check("ip:4", 1, T0, &retry), 0);
	ck_assert_int_eq(check("ip:", 1, T0, &retry), 0);
}
END_TEST

START_TEST(test_clear)
{
	int retry;

	ck_assert_int_eq(throttle_hit(r, "acct:b", WIN, T0), 0);
	ck_assert_int_eq(check("acct:b", 1, T0 + 1, &retry), 1);
	ck_assert_int_eq(throttle_clear(r, "acct:b"), 0);
	ck_assert_int_eq(check("acct:b", 1, T0 + 1, &retry), 0);
	ck_assert_int_eq(zcard("acct:b"), 0);
	ck_assert_int_eq(throttle_clear(r, "acct:never"), 0);
}
END_TEST

START_TEST(test_retry_after_is_at_least_one_second)
{
	int retry;

	ck_assert_int_eq(throttle_hit(r, "k", 1, T0), 0);
	ck_assert_int_eq(throttle_check(r, "k", 1, 1, T0 + 999, &retry), 1);
	ck_assert_int_eq(retry, 1);
	ck_assert_int_eq(throttle_check(r, "k", 1, 1, T0 + 1001, &retry), 0);
}
END_TEST

START_TEST(test_members_are_capped_and_keys_expire)
{
	redisReply *rep = NULL;
	int retry;

	for (int i = 0; i < 1100; i++)
		ck_assert_int_eq(throttle_hit(r, "flood", WIN, T0 + i), 0);
	ck_assert_int_eq(zcard("flood"), 1024);
	ck_assert_int_eq(check("flood", 10, T0 + 1100, &retry), 1);
	ck_assert_int_eq(redis_cmd(r, &rep, "PTTL %sthr:flood", prefix), 0);
	ck_assert_int_gt(rep->integer, 0);
	ck_assert_int_le(rep->integer, WIN_MS);
	freeReplyObject(rep);
}
END_TEST

START_TEST(test_bad_arguments)
{
	int retry = 0;

	ck_assert_int_eq(throttle_check(r, "x", 0, WIN, T0, &retry), -E_INTERNAL_ERROR);
	ck_assert_int_eq(throttle_check(r, "x", 3, 0, T0, &retry), -E_INTERNAL_ERROR);
	ck_assert_int_eq(throttle_hit(r, "x", 0, T0), -E_INTERNAL_ERROR);
}
END_TEST

Suite *throttle_suite(void)
{
	Suite *s = suite_create("throttle");
	TCase *tc = tcase_create("throttle");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_limit_and_retry_after);
	tcase_add_test(tc, test_window_slides);
	tcase_add_test(tc, test_more_failures_than_limit);
	tcase_add_test(tc, test_same_ms_counts_twice_and_keys_are_separate);
	tcase_add_test(tc, test_clear);
	tcase_add_test(tc, test_retry_after_is_at_least_one_second);
	tcase_add_test(tc, test_members_are_capped_and_keys_expire);
	tcase_add_test(tc, test_bad_arguments);
	suite_add_tcase(s, tc);
	return s;
}
