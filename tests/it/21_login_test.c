/*
 * 21_login: POST /api/users/auth (API.md §3.3): the token headers and claims (§1.6), bad
 * credentials, withdrawn users, and the login throttle per account and per client address.
 * Every request that can fail on credentials sends its own X-Forwarded-For address (the
 * daemon trusts 127.0.0.1 as a proxy), so no test inherits another's counters.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/it/lib/it.h"
#include "common/banned.h"

#define MAX_FAILURES 10  /* PV_LOGIN_MAX_FAILURES default */
#define WINDOW_S     900 /* PV_LOGIN_WINDOW_S default */

/* Login from the client address ip ("" = the peer itself). */
static void login_from(const char *ip, const char *email, const char *password, struct it_resp *r)
{
	char xff[64];
	const char *hdrs[] = {xff, NULL};
	snprintf(xff, sizeof(xff), "X-Forwarded-For: %s", ip);
	it_login_raw(email, password, ip[0] ? hdrs : NULL, r);
}

static void assert_retry_after(const struct it_resp *r)
{
	const char *ra = it_resp_header(r, "Retry-After");
	long v = ra ? strtol(ra, NULL, 10) : -1;
	ck_assert_msg(v >= 1 && v <= WINDOW_S, "Retry-After must be 1..%d seconds, got %s",
		      WINDOW_S, ra ? ra : "(none)");
}

static bool is_jwt(const char *s)
{
	const char *d1 = strchr(s, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	return d1 && d2 && !strchr(d2 + 1, '.') && d1 > s && d2 > d1 + 1 && d2[1];
}

START_TEST(login_answers_tokens_in_headers)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	char access[2048], idtxt[32], path[64];
	const char *refresh;
	cJSON *data;

	it_user_fill(&u);
	it_signup(&u);
	it_login_raw(u.email, u.password, NULL, &r);
	it_assert_status(&r, 200);
	data = it_assert_wrapper(&r);
	it_assert_keys(data, "userId", NULL);
	ck_assert_int_eq(it_json_int(data, "userId"), u.id);

	it_bearer_at(IT_HERE, &r, access, sizeof(access));
	ck_assert_msg(is_jwt(access), "Authorization does not carry a JWT: %s", access);
	refresh = it_resp_header(&r, "Refresh");
	ck_assert_msg(refresh && is_jwt(refresh), "Refresh must be a bare JWT (no Bearer): %s",
		      refresh ? refresh : "(none)");
	snprintf(idtxt, sizeof(idtxt), "%lld", (long long)u.id);
	it_assert_header(&r, "userId", idtxt);
	/* tokens never appear in bodies */
	ck_assert_msg(strstr(r.body, access) == NULL && strstr(r.body, refresh) == NULL,
		      "a token is in the body");

	/* and the access token works */
	snprintf(u.access, sizeof(u.access), "%s", access);
	it_user_path(path, sizeof(path), u.id);
	it_get(path, u.access, &r);
	it_assert_status(&r, 200);
	it_resp_free(&r);
}
END_TEST

static void assert_claims(const char *jwt, const struct it_user *u, const char *typ, int64_t ttl)
{
	cJSON *h = it_jwt_header(jwt), *c = it_jwt_claims(jwt), *roles;
	int64_t iat, exp;

	ck_assert_msg(h && c, "%s token is not a decodable JWT", typ);
	ck_assert_str_eq(it_json_str(h, "alg"), "HS256");
	ck_assert_str_eq(it_json_str(c, "sub"), u->email);
	ck_assert_int_eq(it_json_int(c, "uid"), u->id);
	roles = cJSON_GetObjectItemCaseSensitive(c, "roles");
	ck_assert_msg(cJSON_IsArray(roles) && cJSON_GetArraySize(roles) == 1 &&
			  cJSON_IsString(cJSON_GetArrayItem(roles, 0)) &&
			  strcmp(cJSON_GetArrayItem(roles, 0)->valuestring, "USER") == 0,
		      "roles must be [\"USER\"]");
	ck_assert_msg(strlen(it_json_str(c, "jti")) > 0, "empty jti");
	ck_assert_str_eq(it_json_str(c, "iss"), IT_JWT_ISSUER);
	ck_assert_str_eq(it_json_str(c, "typ"), typ);
	iat = it_json_int(c, "iat");
	exp = it_json_int(c, "exp");
	ck_assert_msg(llabs((long long)(iat - it_now())) <= 60, "iat is not now");
	ck_assert_int_eq(exp - iat, ttl);
	if (strcmp(typ, "refresh") == 0)
		ck_assert_msg(strlen(it_json_str(c, "fam")) > 0, "refresh token without fam");
	cJSON_Delete(h);
	cJSON_Delete(c);
}

START_TEST(tokens_carry_the_contract_claims)
{
	struct it_user u;
	cJSON *a, *rf;

	it_new_user(&u);
	assert_claims(u.access, &u, "access", 1800);
	assert_claims(u.refresh, &u, "refresh", 604800);
	a = it_jwt_claims(u.access);
	rf = it_jwt_claims(u.refresh);
	ck_assert_str_ne(it_json_str(a, "jti"), it_json_str(rf, "jti"));
	cJSON_Delete(a);
	cJSON_Delete(rf);
}
END_TEST

START_TEST(unknown_email_is_bad_credentials)
{
	struct it_resp r = IT_RESP_INIT;
	char email[128], ip[32];

	it_unique_email(email, sizeof(email));
	it_unique_ip(ip, sizeof(ip));
	login_from(ip, email, "Secret12!", &r);
	it_assert_error(&r, 401, "BAD_CREDENTIALS");
	it_assert_no_header(&r, "Authorization");
	it_assert_no_header(&r, "Refresh");
	it_resp_free(&r);
}
END_TEST

START_TEST(wrong_password_is_bad_credentials)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	char ip[32], wrong[40];

	it_user_fill(&u);
	it_signup(&u);
	it_unique_ip(ip, sizeof(ip));
	snprintf(wrong, sizeof(wrong), "%sx", u.password);
	login_from(ip, u.email, wrong, &r);
	it_assert_error(&r, 401, "BAD_CREDENTIALS");
	it_assert_no_header(&r, "Authorization");
	it_resp_free(&r);
}
END_TEST

START_TEST(account_without_password_is_bad_credentials)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	char ip[32];
	struct db_param p[1];

	it_user_fill(&u);
	it_signup(&u);
	p[0] = DB_I64(u.id);
	ck_assert_int_eq(
	    it_sql_exec("UPDATE users SET password_hash = NULL WHERE user_id = ?", p, 1), 1);
	it_unique_ip(ip, sizeof(ip));
	login_from(ip, u.email, u.password, &r);
	it_assert_error(&r, 401, "BAD_CREDENTIALS");
	login_from(ip, u.email, "x", &r);
	it_assert_error(&r, 401, "BAD_CREDENTIALS");
	it_resp_free(&r);
}
END_TEST

START_TEST(blank_fields_are_400)
{
	struct it_resp r = IT_RESP_INIT;

	it_req("POST", "/api/users/auth", NULL, "{}", NULL, &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 2);
	it_assert_field_error(&r, 0, "username", "", IT_R_BLANK);
	it_assert_field_error(&r, 1, "password", "", IT_R_BLANK);

	it_req("POST", "/api/users/auth", NULL, "{\"password\":\"Secret12!\",\"username\":\"  \"}",
	       NULL, &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 1);
	it_assert_field_error(&r, 0, "username", "  ", IT_R_BLANK);

	it_req("POST", "/api/users/auth", NULL,
	       "{\"username\":\"a@test.example\",\"password\":null}", NULL, &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 1);
	it_assert_field_error(&r, 0, "password", "", IT_R_BLANK);

	it_req("POST", "/api/users/auth", NULL, "{\"username\":7,\"password\":\"Secret12!\"}", NULL,
	       &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_count(&r, 1);
	it_assert_field_error(&r, 0, "username", "7", IT_R_TYPE);
	it_resp_free(&r);
}
END_TEST

START_TEST(withdrawn_user_is_user_withdrawn_only_with_the_right_password)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	char path[64], ip[32], wrong[40];

	it_new_user(&u);
	it_user_path(path, sizeof(path), u.id);
	it_req("DELETE", path, u.access, NULL, NULL, &r);
	it_assert_status(&r, 200);

	it_unique_ip(ip, sizeof(ip));
	login_from(ip, u.email, u.password, &r);
	it_assert_error(&r, 401, "USER_WITHDRAWN");
	it_assert_no_header(&r, "Authorization");
	snprintf(wrong, sizeof(wrong), "%sx", u.password);
	login_from(ip, u.email, wrong, &r);
	it_assert_error(&r, 401, "BAD_CREDENTIALS");
	it_resp_free(&r);
}
END_TEST

START_TEST(ten_failures_on_one_account_throttle_it_from_every_address)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u, other;
	char ip[32], wrong[40];

	it_user_fill(&u);
	it_signup(&u);
	it_user_fill(&other);
	it_signup(&other);
	snprintf(wrong, sizeof(wrong), "%sx", u.password);
	for (int i = 0; i < MAX_FAILURES; i++) {
		it_unique_ip(ip, sizeof(ip));
		login_from(ip, u.email, wrong, &r);
		if (r.status != 401)
			ck_abort_msg("failure %d: expected 401 BAD_CREDENTIALS, got %ld %s", i + 1,
				     r.status, r.body);
		it_assert_error(&r, 401, "BAD_CREDENTIALS");
	}
	/* the right password, from a fresh address: throttled */
	it_unique_ip(ip, sizeof(ip));
	login_from(ip, u.email, u.password, &r);
	it_assert_error(&r, 429, "TOO_MANY_LOGIN_ATTEMPTS");
	assert_retry_after(&r);
	it_assert_no_header(&r, "Authorization");
	login_from(ip, u.email, wrong, &r);
	it_assert_error(&r, 429, "TOO_MANY_LOGIN_ATTEMPTS");
	/* the account key is the lower-cased email */
	{
		char shout[128];
		snprintf(shout, sizeof(shout), "%s", u.email);
		for (char *p = shout; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
		it_unique_ip(ip, sizeof(ip));
		login_from(ip, shout, u.password, &r);
		it_assert_error(&r, 429, "TOO_MANY_LOGIN_ATTEMPTS");
	}
	/* the address itself is not throttled: another account logs in from it */
	login_from(ip, other.email, other.password, &r);
	it_assert_status(&r, 200);
	it_resp_free(&r);
}
END_TEST

START_TEST(ten_failures_from_one_address_throttle_every_account)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u, v;
	char ip[32], email[128];

	it_user_fill(&u);
	it_signup(&u);
	it_user_fill(&v);
	it_signup(&v);
	it_unique_ip(ip, sizeof(ip));
	for (int i = 0; i < MAX_FAILURES; i++) {
		if (i % 2 == 0) {
			it_unique_email(email, sizeof(email));
			login_from(ip, email, "Secret12!", &r);
		} else {
			login_from(ip, v.email, "Wrong-pass1!", &r);
		}
		if (r.status != 401)
			ck_abort_msg("failure %d: expected 401 BAD_CREDENTIALS, got %ld %s", i + 1,
				     r.status, r.body);
	}
	/* u never failed, but its login comes from the throttled address */
	login_from(ip, u.email, u.password, &r);
	it_assert_error(&r, 429, "TOO_MANY_LOGIN_ATTEMPTS");
	assert_retry_after(&r);
	/* from another address u is fine */
	it_unique_ip(ip, sizeof(ip));
	login_from(ip, u.email, u.password, &r);
	it_assert_status(&r, 200);
	it_resp_free(&r);
}
END_TEST

START_TEST(success_clears_the_account_counter_not_the_address_counter)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user a, b, c;
	char ip1[32], ip2[32], ip3[32], wrong[40];

	it_user_fill(&a);
	it_signup(&a);
	it_user_fill(&b);
	it_signup(&b);
	it_user_fill(&c);
	it_signup(&c);
	it_unique_ip(ip1, sizeof(ip1));
	it_unique_ip(ip2, sizeof(ip2));
	it_unique_ip(ip3, sizeof(ip3));
	snprintf(wrong, sizeof(wrong), "%sx", a.password);

	/* 9 failures of a from ip1, then a success: both counters were below the limit */
	for (int i = 0; i < MAX_FAILURES - 1; i++) {
		login_from(ip1, a.email, wrong, &r);
		it_assert_error(&r, 401, "BAD_CREDENTIALS");
	}
	login_from(ip1, a.email, a.password, &r);
	it_assert_status(&r, 200);

	/* ip1 still holds its 9 failures: one more reaches the limit */
	login_from(ip1, b.email, "Wrong-pass1!", &r);
	it_assert_error(&r, 401, "BAD_CREDENTIALS");
	login_from(ip1, c.email, c.password, &r);
	it_assert_error(&r, 429, "TOO_MANY_LOGIN_ATTEMPTS");

	/* a's counter was cleared: 9 new failures do not reach the limit */
	for (int i = 0; i < MAX_FAILURES - 1; i++) {
		login_from(ip2, a.email, wrong, &r);
		if (r.status != 401)
			ck_abort_msg("failure %d after the success: expected 401, got %ld %s",
				     i + 1, r.status, r.body);
	}
	login_from(ip3, a.email, a.password, &r);
	it_assert_status(&r, 200);
	it_resp_free(&r);
}
END_TEST

START_TEST(only_bad_credentials_count_toward_the_throttle)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	char ip[32], xff[64];
	const char *hdrs[] = {xff, NULL};

	it_user_fill(&u);
	it_signup(&u);
	it_unique_ip(ip, sizeof(ip));
	snprintf(xff, sizeof(xff), "X-Forwarded-For: %s", ip);
	for (int i = 0; i < MAX_FAILURES + 2; i++) {
		it_req("POST", "/api/users/auth", NULL, "{\"username\":\"\",\"password\":\"\"}",
		       hdrs, &r);
		it_assert_error(&r, 400, "VALIDATION_FAILED");
	}
	login_from(ip, u.email, u.password, &r);
	it_assert_status(&r, 200);
	it_resp_free(&r);
}
END_TEST

START_TEST(the_client_address_is_the_first_forwarded_for_entry)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	char client[32], proxy[32], xff[128];
	const char *hdrs[] = {xff, NULL};

	it_user_fill(&u);
	it_signup(&u);
	it_unique_ip(client, sizeof(client));
	for (int i = 0; i < MAX_FAILURES; i++) {
		char email[128];
		it_unique_email(email, sizeof(email));
		it_unique_ip(proxy, sizeof(proxy));
		snprintf(xff, sizeof(xff), "X-Forwarded-For: %s, %s", client, proxy);
		it_login_raw(email, "Secret12!", hdrs, &r);
		it_assert_error(&r, 401, "BAD_CREDENTIALS");
	}
	it_unique_ip(proxy, sizeof(proxy));
	snprintf(xff, sizeof(xff), "X-Forwarded-For: %s, %s", client, proxy);
	it_login_raw(u.email, u.password, hdrs, &r);
	it_assert_error(&r, 429, "TOO_MANY_LOGIN_ATTEMPTS");
	/* the later entries are not the client */
	snprintf(xff, sizeof(xff), "X-Forwarded-For: %s", proxy);
	it_login_raw(u.email, u.password, hdrs, &r);
	it_assert_status(&r, 200);
	it_resp_free(&r);
}
END_TEST

Suite *login_suite(void)
{
	Suite *s = suite_create("login");
	TCase *tc;

	tc = tcase_create("credentials");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, login_answers_tokens_in_headers);
	tcase_add_test(tc, tokens_carry_the_contract_claims);
	tcase_add_test(tc, unknown_email_is_bad_credentials);
	tcase_add_test(tc, wrong_password_is_bad_credentials);
	tcase_add_test(tc, account_without_password_is_bad_credentials);
	tcase_add_test(tc, blank_fields_are_400);
	tcase_add_test(tc, withdrawn_user_is_user_withdrawn_only_with_the_right_password);
	suite_add_tcase(s, tc);

	tc = tcase_create("throttle");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, ten_failures_on_one_account_throttle_it_from_every_address);
	tcase_add_test(tc, ten_failures_from_one_address_throttle_every_account);
	tcase_add_test(tc, success_clears_the_account_counter_not_the_address_counter);
	tcase_add_test(tc, only_bad_credentials_count_toward_the_throttle);
	tcase_add_test(tc, the_client_address_is_the_first_forwarded_for_entry);
	suite_add_tcase(s, tc);
	return s;
}
