/*
 * 11_config: the command line and configuration of pillivery-api (DESIGN.md §7; API.md §1.6
 * for the secret): --help lists every option, a bad value stops the daemon with a message
 * naming the option, --config FILE is read and the environment wins over it, --migrate can
 * run again.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/it/lib/it.h"
#include "common/banned.h"

static bool exited_with(int st, bool zero)
{
	if (st < 0 || !WIFEXITED(st))
		return false;
	return zero ? WEXITSTATUS(st) == 0 : WEXITSTATUS(st) != 0;
}

/* A port next to the test daemon's for a second instance, or for one that should not start. */
static int spare_port(void)
{
	return it_api_port() + 1;
}

START_TEST(help_lists_every_option)
{
	static const char *const options[] = {"PV_API_PORT",
					      "PV_API_BIND",
					      "PV_DB_HOST",
					      "PV_DB_PORT",
					      "PV_DB_USER",
					      "PV_DB_PASSWORD",
					      "PV_DB_NAME",
					      "PV_REDIS_HOST",
					      "PV_REDIS_PORT",
					      "PV_JWT_SECRET",
					      "PV_JWT_ISSUER",
					      "PV_JWT_ACCESS_TTL_S",
					      "PV_JWT_REFRESH_TTL_S",
					      "PV_LOGIN_MAX_FAILURES",
					      "PV_LOGIN_WINDOW_S",
					      "PV_MAX_BODY_BYTES",
					      "PV_JSON_MAX_DEPTH",
					      "PV_TIMEZONE",
					      "PV_METRICS_ALLOW",
					      "PV_TRUSTED_PROXIES",
					      "PV_CORS_ALLOWED_ORIGINS",
					      "PV_PROFILE",
					      "PV_LOG_LEVEL",
					      "PV_PASSWORD_HASH_CONCURRENCY",
					      "PV_VIEWS_FLUSH_S",
					      "PV_MAIN_CACHE_TTL_S",
					      "PV_BILLING_RETRY_DELAYS",
					      "PV_KAKAOPAY_BASE_URL",
					      "PV_KAKAOPAY_SECRET_KEY",
					      "PV_KAKAOPAY_CID_ONETIME",
					      "PV_KAKAOPAY_CID_SUBSCRIPTION",
					      "PV_KAKAOPAY_CID_SECRET",
					      "PV_KAKAOPAY_CONNECT_TIMEOUT_MS",
					      "PV_KAKAOPAY_TIMEOUT_MS",
					      "PV_OAUTH_CONNECT_TIMEOUT_MS",
					      "PV_OAUTH_TIMEOUT_MS",
					      "PV_OAUTH_KAKAO_CLIENT_ID",
					      "PV_OAUTH_KAKAO_CLIENT_SECRET",
					      "PV_OAUTH_KAKAO_AUTHORIZE_URL",
					      "PV_OAUTH_KAKAO_TOKEN_URL",
					      "PV_OAUTH_KAKAO_PROFILE_URL",
					      "PV_OAUTH_KAKAO_SCOPE",
					      "PV_OAUTH_KAKAO_PKCE",
					      "PV_OAUTH_GOOGLE_CLIENT_ID",
					      "PV_OAUTH_GOOGLE_CLIENT_SECRET",
					      "PV_OAUTH_GOOGLE_AUTHORIZE_URL",
					      "PV_OAUTH_GOOGLE_TOKEN_URL",
					      "PV_OAUTH_GOOGLE_PROFILE_URL",
					      "PV_OAUTH_GOOGLE_SCOPE",
					      "PV_OAUTH_GOOGLE_PKCE",
					      "--config",
					      "--migrate",
					      NULL};
	const char *args[] = {"--help", NULL};
	char *out = NULL;
	int st;

	ck_assert_int_eq(it_run_api(args, NULL, 10000, &st, &out), 0);
	ck_assert_msg(exited_with(st, true), "--help must exit 0 (wait status %d): %s", st, out);
	for (size_t i = 0; options[i]; i++)
		ck_assert_msg(strstr(out, options[i]) != NULL, "--help does not mention %s",
			      options[i]);
	ck_assert_msg(strstr(out, IT_JWT_SECRET) == NULL, "--help prints the JWT secret");
	free(out);
}
END_TEST

static const char *const bad_values[][2] = {
	{"PV_API_PORT", "abc"},
	{"PV_API_PORT", "70000"},
	{"PV_JWT_ACCESS_TTL_S", "-5"},
	{"PV_JWT_REFRESH_TTL_S", "soon"},
	{"PV_LOGIN_MAX_FAILURES", "0"},
	{"PV_LOGIN_WINDOW_S", "12x"},
	{"PV_MAX_BODY_BYTES", "big"},
	{"PV_JSON_MAX_DEPTH", "-1"},
	{"PV_TRUSTED_PROXIES", "not-an-address"},
	{"PV_METRICS_ALLOW", "10.0.0.0/99"},
	{"PV_TIMEZONE", "Nowhere/Atlantis"},
	{"PV_BILLING_RETRY_DELAYS", "0,24x"},
	{"PV_BILLING_RETRY_DELAYS", "0,24h,"},
	{"PV_KAKAOPAY_SECRET_KEY", ""}, /* required (KAKAOPAY.md §0) */
	{"PV_KAKAOPAY_BASE_URL", "http://pay.example.com"}, /* http:// only for loopback */
	{"PV_KAKAOPAY_TIMEOUT_MS", "0"},
};
#define N_BAD ((int)(sizeof(bad_values) / sizeof(bad_values[0])))

START_TEST(bad_value_stops_the_daemon_naming_the_option)
{
	char kv[128], port[64];
	const char *env[] = {port, kv, NULL};
	char *out = NULL;
	int st, rc;

	snprintf(port, sizeof(port), "PV_API_PORT=%d", spare_port());
	snprintf(kv, sizeof(kv), "%s=%s", bad_values[_i][0], bad_values[_i][1]);
	rc = it_run_api(NULL, env, 10000, &st, &out);
	ck_assert_msg(rc == 0, "%s: the daemon did not stop by itself within 10 s", kv);
	ck_assert_msg(exited_with(st, false), "%s: expected a non-zero exit, wait status %d", kv,
		      st);
	ck_assert_msg(strstr(out, bad_values[_i][0]) != NULL,
		      "%s: the message does not name %s: %s", kv, bad_values[_i][0], out);
	ck_assert_msg(strstr(out, IT_JWT_SECRET) == NULL, "%s: the output shows the JWT secret",
		      kv);
	free(out);
}
END_TEST

START_TEST(short_jwt_secret_is_refused)
{
	/* 31 bytes: one short of the minimum of §1.6 */
	const char *env[] = {"PV_JWT_SECRET=0123456789012345678901234567890", NULL};
	char port[64];
	const char *env2[] = {port, env[0], NULL};
	char *out = NULL;
	int st, rc;

	snprintf(port, sizeof(port), "PV_API_PORT=%d", spare_port());
	rc = it_run_api(NULL, env2, 10000, &st, &out);
	ck_assert_msg(rc == 0, "the daemon did not stop by itself within 10 s");
	ck_assert_msg(exited_with(st, false), "a 31-byte secret must stop the daemon: %s", out);
	ck_assert_msg(strstr(out, "PV_JWT_SECRET") != NULL,
		      "the message does not name PV_JWT_SECRET: %s", out);
	ck_assert_msg(strstr(out, "0123456789012345678901234567890") == NULL,
		      "the message shows the secret");
	free(out);
}
END_TEST

static char *profile_at(int port)
{
	struct it_resp r = IT_RESP_INIT;
	char *v;
	ck_assert_msg(it_http_to(port, 5000, "GET", "/profile", NULL, NULL, 0, &r) == 0, "%s",
		      r.error);
	it_assert_status(&r, 200);
	v = strdup(r.body);
	it_resp_free(&r);
	return v;
}

START_TEST(config_file_is_read_and_env_wins)
{
	char path[512], port[64], *v;
	const char *args[] = {"--config", path, NULL};
	const char *env_file[] = {"PV_PROFILE", "PV_API_PORT", NULL}; /* unset: the file decides */
	const char *env_wins[] = {"PV_PROFILE=from-env", "PV_API_PORT", NULL};
	FILE *f;
	pid_t pid;
	int st;

	snprintf(path, sizeof(path), "%s/it-config-%ld.env", it_var(), (long)getpid());
	snprintf(port, sizeof(port), "%d", spare_port());
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "# it: a config file\nPV_PROFILE=from-file\n\nPV_API_PORT=%s\n", port);
	fclose(f);

	pid = it_api_spawn(args, env_file, spare_port());
	ck_assert_msg(pid > 0, "pillivery-api --config %s did not start on port %s", path, port);
	v = profile_at(spare_port());
	ck_assert_int_eq(it_proc_stop(pid, 10000, &st), 0);
	ck_assert_msg(exited_with(st, true), "SIGTERM: expected exit 0, wait status %d", st);
	ck_assert_str_eq(v, "from-file");
	free(v);

	pid = it_api_spawn(args, env_wins, spare_port());
	ck_assert_msg(pid > 0, "pillivery-api --config %s did not start on port %s", path, port);
	v = profile_at(spare_port());
	ck_assert_int_eq(it_proc_stop(pid, 10000, &st), 0);
	ck_assert_msg(exited_with(st, true), "SIGTERM: expected exit 0, wait status %d", st);
	ck_assert_str_eq(v, "from-env");
	free(v);
	unlink(path);
}
END_TEST

START_TEST(metrics_can_be_limited_to_client_networks)
{
	struct it_resp r = IT_RESP_INIT;
	char port[64];
	const char *env[] = {port, "PV_METRICS_ALLOW=10.99.0.0/16", NULL};
	pid_t pid;
	int st;

	snprintf(port, sizeof(port), "PV_API_PORT=%d", spare_port());
	pid = it_api_spawn(NULL, env, spare_port());
	ck_assert_msg(pid > 0, "pillivery-api with PV_METRICS_ALLOW did not start");
	ck_assert_msg(it_http_to(spare_port(), 5000, "GET", "/metrics", NULL, NULL, 0, &r) == 0,
		      "%s", r.error);
	ck_assert_int_eq(it_proc_stop(pid, 10000, &st), 0);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	ck_assert_msg(exited_with(st, true), "SIGTERM: expected exit 0, wait status %d", st);
	it_resp_free(&r);
}
END_TEST

START_TEST(token_lifetimes_and_throttle_limit_are_configurable)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	char port[64], ip[32], xff[64];
	const char *env[] = {port, "PV_JWT_ACCESS_TTL_S=60", "PV_JWT_REFRESH_TTL_S=120",
			     "PV_LOGIN_MAX_FAILURES=2", NULL};
	const char *hdrs[] = {"Content-Type: application/json", xff, NULL};
	char body[512], access[2048];
	cJSON *c;
	pid_t pid;
	int st;

	it_user_fill(&u);
	it_signup(&u);
	snprintf(port, sizeof(port), "PV_API_PORT=%d", spare_port());
	pid = it_api_spawn(NULL, env, spare_port());
	ck_assert_msg(pid > 0, "pillivery-api with custom lifetimes did not start");

	it_unique_ip(ip, sizeof(ip));
	snprintf(xff, sizeof(xff), "X-Forwarded-For: %s", ip);
	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"%s\"}", u.email,
		 u.password);
	ck_assert_int_eq(it_http_to(spare_port(), 10000, "POST", "/api/users/auth", hdrs, body,
				    strlen(body), &r),
			 0);
	it_assert_status(&r, 200);
	it_bearer_at(IT_HERE, &r, access, sizeof(access));
	c = it_jwt_claims(access);
	ck_assert_int_eq(it_json_int(c, "exp") - it_json_int(c, "iat"), 60);
	cJSON_Delete(c);
	c = it_jwt_claims(it_resp_header(&r, "Refresh"));
	ck_assert_int_eq(it_json_int(c, "exp") - it_json_int(c, "iat"), 120);
	cJSON_Delete(c);

	/* two failures, then 429 */
	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"Wrong-pass1!\"}",
		 u.email);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(it_http_to(spare_port(), 10000, "POST", "/api/users/auth", hdrs,
					    body, strlen(body), &r),
				 0);
		it_assert_error(&r, 401, "BAD_CREDENTIALS");
	}
	ck_assert_int_eq(it_http_to(spare_port(), 10000, "POST", "/api/users/auth", hdrs, body,
				    strlen(body), &r),
			 0);
	it_assert_error(&r, 429, "TOO_MANY_LOGIN_ATTEMPTS");

	ck_assert_int_eq(it_proc_stop(pid, 10000, &st), 0);
	ck_assert_msg(exited_with(st, true), "SIGTERM: expected exit 0, wait status %d", st);
	it_resp_free(&r);
}
END_TEST

START_TEST(migrate_runs_again)
{
	const char *args[] = {"--migrate", NULL};
	char *out = NULL;
	int st;

	ck_assert_int_eq(it_run_api(args, NULL, 60000, &st, &out), 0);
	ck_assert_msg(exited_with(st, true), "a second --migrate must exit 0: %s", out);
	free(out);
	ck_assert_msg(it_api_alive(), "the running daemon suffered from --migrate");
}
END_TEST

/*
 * The daemon refuses to start against a schema older than its migrations and says how to
 * migrate. The newest schema_migrations row is hidden for the duration of the test (the running
 * daemon checked the schema at its own start and is not affected) and put back afterwards.
 */
START_TEST(refuses_an_older_schema)
{
	const char *args[] = {NULL};
	char *out = NULL, *name = NULL;
	int64_t version;
	int st, ended;

	version = it_sql_i64("SELECT MAX(version) FROM schema_migrations", NULL, 0);
	ck_assert_int_gt(version, 0);
	struct db_param v = DB_I64(version);
	name = it_sql_str("SELECT name FROM schema_migrations WHERE version = ?", &v, 1);
	it_sql_exec("DELETE FROM schema_migrations WHERE version = ?", &v, 1);
	ended = it_run_api(args, NULL, 20000, &st, &out);
	struct db_param back[2] = {DB_I64(version), DB_STR(name)};
	it_sql_exec("INSERT INTO schema_migrations (version, name, applied_at)"
		    " VALUES (?, ?, UTC_TIMESTAMP())",
		    back, 2);
	ck_assert_msg(ended == 0, "the daemon kept running against an older schema");
	ck_assert_msg(!exited_with(st, true), "expected a non-zero exit, output: %s", out);
	ck_assert_msg(out && strstr(out, "--migrate"), "the message must say how to migrate: %s",
		      out ? out : "");
	free(out);
	free(name);
}
END_TEST

Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("options");

	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, help_lists_every_option);
	tcase_add_test(tc, refuses_an_older_schema);
	tcase_add_loop_test(tc, bad_value_stops_the_daemon_naming_the_option, 0, N_BAD);
	tcase_add_test(tc, short_jwt_secret_is_refused);
	tcase_add_test(tc, config_file_is_read_and_env_wins);
	tcase_add_test(tc, metrics_can_be_limited_to_client_networks);
	tcase_add_test(tc, token_lifetimes_and_throttle_limit_are_configurable);
	tcase_add_test(tc, migrate_runs_again);
	suite_add_tcase(s, tc);
	return s;
}
