/*
 * 30_faults: dead dependencies and restarts (API.md §1.5, §1.9, §10; DESIGN.md §6, §8).
 * Redis down: everything that needs tokens or the login throttle answers a fast 503, sign-up
 * (MariaDB only) still works, /health stays 200 and /ready says which check is DOWN; Redis
 * back: logins work again. MariaDB down and back: the same, and the daemon recovers by
 * itself. A restarted daemon keeps every session (the state lives in Redis).
 *
 * Each tcase restores the services and the daemon in an unchecked teardown, which runs in the
 * runner's own process even when a test fails or times out.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/it/lib/it.h"
#include "common/banned.h"

#define RECOVERY_S 15  /* "a few seconds", with room for a slow machine */
#define FAST_503_S 5.0 /* Redis: 1 s timeout; MariaDB: refused connections fail at once */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static bool ready_up(void)
{
	struct it_resp r = IT_RESP_INIT;
	bool ok = it_http("GET", "/ready", NULL, NULL, 0, &r) == 0 && r.status == 200;
	it_resp_free(&r);
	return ok;
}

/*
 * Unchecked teardown: services up, then a fresh daemon (so that connections a failed test left
 * broken cannot leak into the next tcase), ready within 30 s.
 */
static void restore_everything(void)
{
	double deadline;

	if (it_services("start-redis") != 0)
		fprintf(stderr, "faults: could not restart Redis\n");
	if (it_services("start-db") != 0)
		fprintf(stderr, "faults: could not restart MariaDB\n");
	if (it_api_stop(NULL) != 0)
		fprintf(stderr, "faults: pillivery-api did not stop cleanly\n");
	if (it_api_start() != 0)
		fprintf(stderr, "faults: pillivery-api could not be started again\n");
	deadline = now_s() + 30;
	while (!ready_up() && now_s() < deadline)
		sleep_ms(200);
	if (!ready_up())
		fprintf(stderr, "faults: /ready is still not 200 after restoring the services\n");
}

static void assert_ready_down(const char *db, const char *redis)
{
	struct it_resp r = IT_RESP_INIT;
	const cJSON *checks;

	it_get("/ready", NULL, &r);
	it_assert_status(&r, 503);
	ck_assert_msg(cJSON_IsObject(r.json), "/ready must answer JSON: %s", r.body);
	it_assert_keys(r.json, "status", "checks", NULL);
	ck_assert_str_eq(it_json_str(r.json, "status"), "DOWN");
	checks = cJSON_GetObjectItemCaseSensitive(r.json, "checks");
	it_assert_keys(checks, "db", "redis", NULL);
	ck_assert_str_eq(it_json_str(checks, "db"), db);
	ck_assert_str_eq(it_json_str(checks, "redis"), redis);
	ck_assert_msg(r.seconds < FAST_503_S, "/ready took %.1f s", r.seconds);
	it_resp_free(&r);
}

static void assert_health_ok(void)
{
	struct it_resp r = IT_RESP_INIT;
	it_get("/health", NULL, &r);
	it_assert_status(&r, 200);
	ck_assert_str_eq(r.body, "OK");
	it_resp_free(&r);
}

static void assert_fast_503(const struct it_resp *r, const char *what)
{
	if (r->status != 503)
		ck_abort_msg("%s: expected 503 SERVICE_UNAVAILABLE, got %ld %s", what, r->status,
			     r->body);
	it_assert_error(r, 503, "SERVICE_UNAVAILABLE");
	ck_assert_msg(r->seconds < FAST_503_S, "%s: the 503 took %.1f s", what, r->seconds);
}

/*
 * After a dependency came back: within RECOVERY_S of `since`, ten answers 200 in a row; then
 * no worker may keep a dead connection: the next 100 requests all answer 200 (a 503 is only
 * for an unreachable dependency, §1.5).
 */
static void assert_recovered(const char *path, const char *token, double since)
{
	struct it_resp r = IT_RESP_INIT;
	double deadline = since + RECOVERY_S;
	int good = 0;

	while (good < 10 && now_s() < deadline) {
		it_get(path, token, &r);
		good = r.status == 200 ? good + 1 : 0;
		if (r.status != 200)
			sleep_ms(100);
	}
	ck_assert_msg(good >= 10, "GET %s did not recover within %d s (last %ld %s)", path,
		      RECOVERY_S, r.status, r.body);
	for (int i = 0; i < 100; i++) {
		it_get(path, token, &r);
		if (r.status != 200)
			ck_abort_msg(
			    "request %d of 100 after the recovery answered %ld %s (a worker "
			    "kept a dead connection?)",
			    i + 1, r.status, r.body);
	}
	it_resp_free(&r);
}

static void signup_body(char **text)
{
	struct it_user u;
	cJSON *j;
	it_user_fill(&u);
	j = it_user_json(&u);
	*text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	ck_assert_ptr_nonnull(*text);
}

START_TEST(redis_down_fails_fast_and_recovers)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	char path[64], *body;
	double deadline, since;

	it_new_user(&u);
	it_user_path(path, sizeof(path), u.id);
	ck_assert_int_eq(it_services("stop-redis"), 0);

	it_login_raw(u.email, u.password, NULL, &r);
	assert_fast_503(&r, "login without Redis");
	it_assert_no_header(&r, "Authorization");
	it_get(path, u.access, &r);
	assert_fast_503(&r, "GET /api/users/{id} without Redis");
	assert_health_ok();
	/* sign-up needs no Redis */
	signup_body(&body);
	it_req("POST", "/api/users", NULL, body, NULL, &r);
	it_assert_status(&r, 201);
	free(body);
	assert_ready_down("UP", "DOWN");

	ck_assert_int_eq(it_services("start-redis"), 0);
	since = now_s();
	deadline = since + RECOVERY_S;
	for (;;) {
		it_login_raw(u.email, u.password, NULL, &r);
		if (r.status == 200 || now_s() > deadline)
			break;
		sleep_ms(250);
	}
	it_assert_status(&r, 200);
	it_bearer_at(IT_HERE, &r, u.access, sizeof(u.access));
	assert_recovered(path, u.access, since);
	ck_assert_msg(ready_up(), "/ready is not 200 with Redis back");
	it_login(&u);
	it_resp_free(&r);
}
END_TEST

START_TEST(mariadb_down_fails_fast_and_recovers_without_a_restart)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	char path[64], *body;
	double deadline, since;

	it_new_user(&u);
	it_user_path(path, sizeof(path), u.id);
	ck_assert_int_eq(it_services("stop-db"), 0);

	signup_body(&body);
	it_req("POST", "/api/users", NULL, body, NULL, &r);
	assert_fast_503(&r, "sign-up without MariaDB");
	free(body);
	it_get(path, u.access, &r);
	assert_fast_503(&r, "GET /api/users/{id} without MariaDB");
	assert_health_ok();
	assert_ready_down("DOWN", "UP");

	ck_assert_int_eq(it_services("start-db"), 0);
	since = now_s();
	deadline = since + RECOVERY_S;
	while (!ready_up() && now_s() < deadline)
		sleep_ms(250);
	ck_assert_msg(ready_up(), "/ready is not 200 within %d s of MariaDB's restart", RECOVERY_S);
	assert_recovered(path, u.access, since);
	signup_body(&body);
	it_req("POST", "/api/users", NULL, body, NULL, &r);
	it_assert_status(&r, 201);
	free(body);
	it_resp_free(&r);
}
END_TEST

START_TEST(restarted_daemon_keeps_sessions_and_revocations)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	char path[64], keep_access[2048], keep_refresh[2048], h[2200];
	const char *hdrs[] = {h, NULL};

	it_user_fill(&u);
	it_signup(&u);
	it_login(&u);
	snprintf(keep_access, sizeof(keep_access), "%s", u.access);
	snprintf(keep_refresh, sizeof(keep_refresh), "%s", u.refresh);
	it_login(&u);
	it_user_path(path, sizeof(path), u.id);
	it_req("POST", "/api/users/logout", u.access, NULL, NULL, &r);
	it_assert_status(&r, 200);

	ck_assert_msg(it_api_restart() == 0, "the daemon did not stop cleanly (exit 0) or did not "
					     "start again; see above");

	it_get(path, keep_access, &r);
	it_assert_status(&r, 200);
	it_get(path, u.access, &r);
	it_assert_error(&r, 401, "ALREADY_LOGOUT");
	snprintf(h, sizeof(h), "Refresh: %s", keep_refresh);
	it_req("POST", "/api/users/refresh", NULL, NULL, hdrs, &r);
	it_assert_status(&r, 200);
	it_req("POST", "/api/users/refresh", NULL, NULL, hdrs, &r);
	it_assert_error(&r, 401, "REFRESH_TOKEN_REUSED");
	it_resp_free(&r);
}
END_TEST

Suite *faults_suite(void)
{
	Suite *s = suite_create("faults");
	TCase *tc;

	tc = tcase_create("redis");
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, NULL, restore_everything);
	tcase_add_test(tc, redis_down_fails_fast_and_recovers);
	suite_add_tcase(s, tc);

	tc = tcase_create("mariadb");
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, NULL, restore_everything);
	tcase_add_test(tc, mariadb_down_fails_fast_and_recovers_without_a_restart);
	suite_add_tcase(s, tc);

	tc = tcase_create("restart");
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, NULL, restore_everything);
	tcase_add_test(tc, restarted_daemon_keeps_sessions_and_revocations);
	suite_add_tcase(s, tc);
	return s;
}
