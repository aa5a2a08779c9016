/*
 * tokstore_test: refresh-token families, rotation and reuse detection, logout and
 * withdrawal against a real Redis (PV_REDIS_HOST, PV_REDIS_PORT); keys pvtest:<pid>:...
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/redis.h"
#include "common/token.h"
#include "common/tokstore.h"
#include "common/banned.h"

#define TTL 600

static char prefix[64];
static struct redis *r;

static struct redis *open_redis(int port)
{
	const char *host = getenv("PV_REDIS_HOST");
	const char *p = getenv("PV_REDIS_PORT");
	struct redis_config cfg = {
	    .host = host && *host ? host : "127.0.0.1",
	    .port = port      ? port
	            : p && *p ? (int)strtol(p, NULL, 10)
	                      : 6379,
	    .timeout_ms = 2000,
	    .prefix = prefix,
	};
	struct redis *h = redis_new(&cfg);

	ck_assert_ptr_nonnull(h);
	return h;
}

static const char SCRIPT_DEL_PREFIX[] =
    "for _, k in ipairs(redis.call('KEYS', ARGV[1] .. '*')) do redis.call('DEL', k) end\n"
    "return 0\n";

static void setup(void)
{
	snprintf(prefix, sizeof(prefix), "pvtest:%ld:", (long)getpid());
	r = open_redis(0);
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

static struct token_claims claims(int64_t uid, const char *jti, const char *fam)
{
	struct token_claims c = {.uid = uid, .iat = 1, .exp = 2};

	snprintf(c.sub, sizeof(c.sub), "u%lld@example.com", (long long)uid);
	snprintf(c.jti, sizeof(c.jti), "%s", jti);
	snprintf(c.fam, sizeof(c.fam), "%s", fam);
	return c;
}

static long long ttl_of(const char *kind, const char *id)
{
	redisReply *rep = NULL;
	long long t;

	ck_assert_int_eq(redis_cmd(r, &rep, "TTL %s%s:%s", prefix, kind, id), 0);
	ck_assert_int_eq(rep->type, REDIS_REPLY_INTEGER);
	t = rep->integer;
	freeReplyObject(rep);
	return t;
}

static char *hget(const char *fam, const char *field)
{
	redisReply *rep = NULL;
	char *v = NULL;

	ck_assert_int_eq(redis_cmd(r, &rep, "HGET %sfam:%s %s", prefix, fam, field), 0);
	if (rep->type == REDIS_REPLY_STRING)
		v = strdup(rep->str);
	freeReplyObject(rep);
	return v;
}

START_TEST(test_family_create_and_rotate)
{
	struct token_claims c = claims(7, "r2", "famA");
	char *v;

	ck_assert_int_eq(tokstore_family_create(r, "famA", 7, "r1", TTL), 0);
	v = hget("famA", "uid");
	ck_assert_str_eq(v, "7");
	free(v);
	v = hget("famA", "cur");
	ck_assert_str_eq(v, "r1");
	free(v);
	ck_assert_int_gt(ttl_of("fam", "famA"), TTL - 5);

	ck_assert_int_eq(tokstore_family_rotate(r, "famA", "r1", "r2", TTL * 2), 0);
	v = hget("famA", "cur");
	ck_assert_str_eq(v, "r2");
	free(v);
	ck_assert_int_gt(ttl_of("fam", "famA"), TTL * 2 - 5); /* extended */
	ck_assert_int_eq(tokstore_family_rotate(r, "famA", "r2", "r3", TTL), 0);
	ck_assert_int_eq(tokstore_check(r, &c), 0);
}
END_TEST

START_TEST(test_reuse_revokes_the_family)
{
	struct token_claims c = claims(7, "r3", "famB");

	ck_assert_int_eq(tokstore_family_create(r, "famB", 7, "r1", TTL), 0);
	ck_assert_int_eq(tokstore_family_rotate(r, "famB", "r1", "r2", TTL), 0);
	ck_assert_int_eq(tokstore_family_rotate(r, "famB", "r2", "r3", TTL), 0);
	/* r1 presented again: reuse; the whole family is revoked. */
	ck_assert_int_eq(tokstore_family_rotate(r, "famB", "r1", "x", TTL),
	                 -E_REFRESH_TOKEN_REUSED);
	ck_assert_int_gt(ttl_of("famrev", "famB"), TTL - 5);
	ck_assert_int_eq(ttl_of("fam", "famB"), -2); /* gone */
	/* Even the current one is dead now, and so are the family's access tokens. */
	ck_assert_int_eq(tokstore_family_rotate(r, "famB", "r3", "r4", TTL), -E_INVALID_TOKEN);
	ck_assert_int_eq(tokstore_check(r, &c), -E_INVALID_TOKEN);
}
END_TEST

START_TEST(test_two_handles_rotating_one_token)
{
	struct redis *r2 = open_redis(0);
	int a, b;

	ck_assert_int_eq(tokstore_family_create(r, "famC", 9, "r1", TTL), 0);
	a = tokstore_family_rotate(r, "famC", "r1", "rA", TTL);
	b = tokstore_family_rotate(r2, "famC", "r1", "rB", TTL);
	ck_assert_int_eq(a, 0);
	ck_assert_int_eq(b, -E_REFRESH_TOKEN_REUSED);
	ck_assert_int_eq(tokstore_family_rotate(r, "famC", "rA", "rA2", TTL), -E_INVALID_TOKEN);
	redis_free(r2);
}
END_TEST

START_TEST(test_unknown_and_revoked_families)
{
	struct token_claims c = claims(7, "a1", "famD");

	ck_assert_int_eq(tokstore_family_rotate(r, "nosuch", "r1", "r2", TTL), -E_INVALID_TOKEN);
	ck_assert_int_eq(ttl_of("famrev", "nosuch"), -2); /* unknown is not reuse */

	ck_assert_int_eq(tokstore_family_create(r, "famD", 7, "r1", TTL), 0);
	ck_assert_int_eq(tokstore_check(r, &c), 0);
	ck_assert_int_eq(tokstore_family_revoke(r, "famD", TTL), 0);
	ck_assert_int_eq(ttl_of("fam", "famD"), -2);
	ck_assert_int_gt(ttl_of("famrev", "famD"), TTL - 5);
	ck_assert_int_eq(tokstore_family_rotate(r, "famD", "r1", "r2", TTL), -E_INVALID_TOKEN);
	ck_assert_int_eq(tokstore_check(r, &c), -E_INVALID_TOKEN);
	/* Revoking twice is fine. */
	ck_assert_int_eq(tokstore_family_revoke(r, "famD", TTL), 0);
	ck_assert_int_eq(tokstore_family_create(r, "famE", 7, "r1", 0), -E_INTERNAL_ERROR);
}
END_TEST

START_TEST(test_access_revoke_and_withdraw)
{
	struct token_claims c = claims(11, "acc1", "famF"), other = claims(11, "acc2", "famG");
	struct token_claims stranger = claims(12, "acc3", "famH");

	ck_assert_int_eq(tokstore_check(r, &c), 0);
	ck_assert_int_eq(tokstore_access_revoke(r, "acc1", 120), 0);
	ck_assert_int_eq(tokstore_check(r, &c), -E_ALREADY_LOGOUT);
	ck_assert_int_gt(ttl_of("jtirev", "acc1"), 100);
	ck_assert_int_eq(tokstore_check(r, &other), 0);
	/* Already expired: nothing to store. */
	ck_assert_int_eq(tokstore_access_revoke(r, "acc9", 0), 0);
	ck_assert_int_eq(ttl_of("jtirev", "acc9"), -2);

	ck_assert_int_eq(tokstore_user_withdraw(r, 11), 0);
	ck_assert_int_eq(tokstore_check(r, &other), -E_USER_WITHDRAWN);
	ck_assert_int_eq(tokstore_check(r, &stranger), 0);
}
END_TEST

START_TEST(test_check_order)
{
	struct token_claims c = claims(21, "j1", "famI"), nofam = claims(22, "j2", "");

	ck_assert_int_eq(tokstore_family_revoke(r, "famI", TTL), 0);
	ck_assert_int_eq(tokstore_check(r, &c), -E_INVALID_TOKEN);
	ck_assert_int_eq(tokstore_access_revoke(r, "j1", TTL), 0);
	ck_assert_int_eq(tokstore_check(r, &c), -E_ALREADY_LOGOUT);
	ck_assert_int_eq(tokstore_user_withdraw(r, 21), 0);
	ck_assert_int_eq(tokstore_check(r, &c), -E_USER_WITHDRAWN);

	/* Without a family only the user and the jti are looked at. */
	ck_assert_int_eq(tokstore_check(r, &nofam), 0);
	ck_assert_int_eq(tokstore_access_revoke(r, "j2", TTL), 0);
	ck_assert_int_eq(tokstore_check(r, &nofam), -E_ALREADY_LOGOUT);
}
END_TEST

START_TEST(test_redis_down_is_unavailable)
{
	struct token_claims c = claims(1, "j", "f");
	struct redis *dead = open_redis(1); /* nothing listens on port 1 */

	ck_assert_int_eq(tokstore_check(dead, &c), -E_SERVICE_UNAVAILABLE);
	ck_assert_int_eq(tokstore_family_rotate(dead, "f", "a", "b", TTL), -E_SERVICE_UNAVAILABLE);
	redis_free(dead);
}
END_TEST

Suite *tokstore_suite(void)
{
	Suite *s = suite_create("tokstore");
	TCase *tc = tcase_create("tokstore");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_family_create_and_rotate);
	tcase_add_test(tc, test_reuse_revokes_the_family);
	tcase_add_test(tc, test_two_handles_rotating_one_token);
	tcase_add_test(tc, test_unknown_and_revoked_families);
	tcase_add_test(tc, test_access_revoke_and_withdraw);
	tcase_add_test(tc, test_check_order);
	tcase_add_test(tc, test_redis_down_is_unavailable);
	suite_add_tcase(s, tc);
	return s;
}
