/*
 * 23_profile: GET, PATCH and DELETE /api/users/{userId} (API.md §3.6): the user JSON,
 * ownership and ADMIN rights (§0), the check order (§1.5), partial updates with the PATCH
 * rules and conflicts, and withdrawal with its effects.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/it/lib/it.h"
#include "common/banned.h"

#define NO_SUCH_USER "/api/users/999999999999"

static void user_path(char *out, size_t n, const struct it_user *u)
{
	it_user_path(out, n, u->id);
}

/* Asserts the 9-key user JSON of §3.6 equals u (phone "" = null); returns data. */
static cJSON *assert_user_json(const struct it_resp *r, const struct it_user *u)
{
	cJSON *data = it_assert_wrapper(r), *phone, *social;

	it_assert_keys(data, "email", "displayName", "city", "detailAddress", "realName", "phone",
		       "social", "updatedAt", "createAt", NULL);
	ck_assert_str_eq(it_json_str(data, "email"), u->email);
	ck_assert_str_eq(it_json_str(data, "displayName"), u->display_name);
	ck_assert_str_eq(it_json_str(data, "city"), u->city);
	ck_assert_str_eq(it_json_str(data, "detailAddress"), u->detail_address);
	ck_assert_str_eq(it_json_str(data, "realName"), u->real_name);
	phone = cJSON_GetObjectItemCaseSensitive(data, "phone");
	if (u->phone[0])
		ck_assert_str_eq(it_json_str(data, "phone"), u->phone);
	else
		ck_assert_msg(cJSON_IsNull(phone), "phone must be null when never set");
	social = cJSON_GetObjectItemCaseSensitive(data, "social");
	ck_assert_msg(cJSON_IsFalse(social), "social must be false for a local account");
	/* every user of these tests was created a moment ago */
	it_assert_ts_recent("updatedAt", cJSON_GetObjectItemCaseSensitive(data, "updatedAt"), 300);
	it_assert_ts_recent("createAt", cJSON_GetObjectItemCaseSensitive(data, "createAt"), 300);
	return data;
}

/* ---- GET ------------------------------------------------------------------------------------- */

START_TEST(own_profile_has_exactly_the_nine_keys)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	char path[64];

	it_new_user(&u);
	user_path(path, sizeof(path), &u);
	it_get(path, u.access, &r);
	it_assert_status(&r, 200);
	assert_user_json(&r, &u);
	ck_assert_msg(strstr(r.body, "password") == NULL, "the body mentions a password");
	it_resp_free(&r);
}
END_TEST

START_TEST(profile_without_phone_has_phone_null)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	char path[64];

	it_user_fill(&u);
	u.phone[0] = '\0';
	it_signup(&u);
	it_login(&u);
	user_path(path, sizeof(path), &u);
	it_get(path, u.access, &r);
	it_assert_status(&r, 200);
	assert_user_json(&r, &u);
	it_resp_free(&r);
}
END_TEST

START_TEST(another_users_profile_is_403)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user a, b;
	char path[64];

	it_new_user(&a);
	it_user_fill(&b);
	it_signup(&b);
	user_path(path, sizeof(path), &b);
	it_get(path, a.access, &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	it_resp_free(&r);
}
END_TEST

START_TEST(admin_reads_any_profile)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user admin, b;
	char path[64];
	cJSON *claims, *roles;

	it_new_admin(&admin);
	claims = it_jwt_claims(admin.access);
	roles = cJSON_GetObjectItemCaseSensitive(claims, "roles");
	ck_assert_msg(cJSON_IsArray(roles) && cJSON_GetArraySize(roles) == 1 &&
			  cJSON_IsString(cJSON_GetArrayItem(roles, 0)) &&
			  strcmp(cJSON_GetArrayItem(roles, 0)->valuestring, "ADMIN") == 0,
		      "an ADMIN's token must carry roles [\"ADMIN\"]");
	cJSON_Delete(claims);

	it_user_fill(&b);
	it_signup(&b);
	user_path(path, sizeof(path), &b);
	it_get(path, admin.access, &r);
	it_assert_status(&r, 200);
	assert_user_json(&r, &b);

	/* ADMIN implies every USER right on its own account */
	user_path(path, sizeof(path), &admin);
	it_get(path, admin.access, &r);
	it_assert_status(&r, 200);
	assert_user_json(&r, &admin);
	it_req("PATCH", path, admin.access, "{\"city\":\"인천\"}", NULL, &r);
	it_assert_status(&r, 200);
	snprintf(admin.city, sizeof(admin.city), "인천");
	assert_user_json(&r, &admin);
	it_resp_free(&r);
}
END_TEST

START_TEST(non_numeric_id_is_invalid_parameter_type)
{
	static const char *const ids[] = {"abc", "1.5", "12abc", "1e3", "0x10", NULL};
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	char path[64];

	it_new_user(&u);
	for (size_t i = 0; ids[i]; i++) {
		snprintf(path, sizeof(path), "/api/users/%s", ids[i]);
		it_get(path, u.access, &r);
		if (r.status != 400)
			ck_abort_msg("%s: expected 400 INVALID_PARAMETER_TYPE, got %ld %s", path,
				     r.status, r.body);
		it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
		it_assert_field_count(&r, 1);
		it_assert_field_error(&r, 0, "userId", ids[i], IT_R_TYPE);
	}
	/* authentication comes first */
	it_get("/api/users/abc", NULL, &r);
	it_assert_error(&r, 401, "UNAUTHORIZED");
	it_resp_free(&r);
}
END_TEST

START_TEST(unknown_id_is_404_for_admin_and_user)
{
	static const char *const paths[] = {NO_SUCH_USER, "/api/users/0", "/api/users/-1", NULL};
	struct it_resp r = IT_RESP_INIT;
	struct it_user admin, u;

	it_new_admin(&admin);
	it_new_user(&u);
	for (size_t i = 0; paths[i]; i++) {
		it_get(paths[i], admin.access, &r);
		it_assert_error(&r, 404, "USER_NOT_FOUND");
		/* existence is checked before ownership */
		it_get(paths[i], u.access, &r);
		it_assert_error(&r, 404, "USER_NOT_FOUND");
		/* authentication before existence */
		it_get(paths[i], NULL, &r);
		it_assert_error(&r, 401, "UNAUTHORIZED");
	}
	it_resp_free(&r);
}
END_TEST

/* ---- PATCH ----------------------------------------------------------------------------------- */

static void patch(const struct it_user *as, const struct it_user *target, const char *json,
		  struct it_resp *r)
{
	char path[64];
	user_path(path, sizeof(path), target);
	it_req("PATCH", path, as->access, json, NULL, r);
}

START_TEST(patch_replaces_only_the_fields_sent)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	char path[64];

	it_new_user(&u);
	patch(&u, &u, "{\"city\":\"부산\"}", &r);
	it_assert_status(&r, 200);
	snprintf(u.city, sizeof(u.city), "부산");
	assert_user_json(&r, &u);

	/* null equals absent: nothing changes */
	patch(&u, &u, "{\"city\":null,\"detailAddress\":null}", &r);
	it_assert_status(&r, 200);
	assert_user_json(&r, &u);

	patch(&u, &u, "{\"detailAddress\":\"해운대 1\",\"realName\":\"김철수\"}", &r);
	it_assert_status(&r, 200);
	snprintf(u.detail_address, sizeof(u.detail_address), "해운대 1");
	snprintf(u.real_name, sizeof(u.real_name), "김철수");
	assert_user_json(&r, &u);

	user_path(path, sizeof(path), &u);
	it_get(path, u.access, &r);
	it_assert_status(&r, 200);
	assert_user_json(&r, &u);
	it_resp_free(&r);
}
END_TEST

START_TEST(patch_ignores_the_email)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	char other[128], body[512];
	struct db_param p[1];

	it_new_user(&u);
	it_unique_email(other, sizeof(other));
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"city\":\"대전\"}", other);
	patch(&u, &u, body, &r);
	it_assert_status(&r, 200);
	snprintf(u.city, sizeof(u.city), "대전");
	assert_user_json(&r, &u);
	p[0] = DB_STR(other);
	ck_assert_int_eq(it_sql_i64("SELECT COUNT(*) FROM users WHERE email = ?", p, 1), 0);
	it_login(&u);
	it_resp_free(&r);
}
END_TEST

START_TEST(patch_password_rule_has_its_own_reason)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;

	it_new_user(&u);
	patch(&u, &u, "{\"password\":\"short\"}", &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 1);
	it_assert_field_error(&r, 0, "password", NULL, IT_R_PASSWORD_PATCH);
	patch(&u, &u, "{\"password\":\"\"}", &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_error(&r, 0, "password", "", IT_R_PASSWORD_PATCH);
	it_resp_free(&r);
}
END_TEST

START_TEST(patched_password_is_the_new_login_password)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	char old[32], body[128], *hash, xff[64];
	const char *hdrs[] = {xff, NULL};
	struct db_param p[1];

	it_new_user(&u);
	snprintf(old, sizeof(old), "%s", u.password);
	snprintf(u.password, sizeof(u.password), "New-pass9=%llu", (unsigned long long)it_seq());
	snprintf(body, sizeof(body), "{\"password\":\"%s\"}", u.password);
	patch(&u, &u, body, &r);
	it_assert_status(&r, 200);
	assert_user_json(&r, &u);
	ck_assert_msg(strstr(r.body, u.password) == NULL, "the new password is in the body");

	p[0] = DB_I64(u.id);
	hash = it_sql_str("SELECT password_hash FROM users WHERE user_id = ?", p, 1);
	ck_assert_msg(hash && (strncmp(hash, "$y$", 3) == 0 || strncmp(hash, "$2b$", 4) == 0),
		      "the new password is not stored as a yescrypt or bcrypt hash");
	ck_assert_msg(strstr(hash, u.password) == NULL, "the raw password is stored");
	free(hash);

	it_login(&u);
	it_xff_header(xff, sizeof(xff));
	it_login_raw(u.email, old, hdrs, &r);
	it_assert_error(&r, 401, "BAD_CREDENTIALS");
	it_resp_free(&r);
}
END_TEST

START_TEST(patch_reports_every_invalid_field_in_table_order)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;

	it_new_user(&u);
	patch(&u, &u,
	      "{\"phone\":\"x\",\"realName\":\"a b\",\"detailAddress\":\"\",\"city\":\" \","
	      "\"displayName\":\"\",\"password\":\"abc\"}",
	      &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 6);
	it_assert_field_error(&r, 0, "password", NULL, IT_R_PASSWORD_PATCH);
	it_assert_field_error(&r, 1, "displayName", "", IT_R_NICK_BLANK);
	it_assert_field_error(&r, 2, "city", " ", IT_R_BLANK);
	it_assert_field_error(&r, 3, "detailAddress", "", IT_R_BLANK);
	it_assert_field_error(&r, 4, "realName", "a b", IT_R_NO_SPACE);
	it_assert_field_error(&r, 5, "phone", "x", IT_R_PHONE);

	patch(&u, &u, "{\"city\":5}", &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_error(&r, 0, "city", "5", IT_R_TYPE);
	it_resp_free(&r);
}
END_TEST

START_TEST(patch_conflicts_phone_before_display_name)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user a, b;
	char body[256], name[64], digits[32];

	it_user_fill(&a);
	it_signup(&a);
	it_new_user(&b);
	snprintf(name, sizeof(name), "%s", a.display_name);
	for (char *p = name; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	snprintf(digits, sizeof(digits), "010%.4s%.4s", a.phone + 4, a.phone + 9);

	snprintf(body, sizeof(body), "{\"displayName\":\"%s\",\"phone\":\"%s\"}", name, digits);
	patch(&b, &b, body, &r);
	it_assert_error(&r, 409, "EXIST_PHONE_NUMBER");

	snprintf(body, sizeof(body), "{\"displayName\":\"%s\"}", name);
	patch(&b, &b, body, &r);
	it_assert_error(&r, 409, "EXIST_DISPLAY_NAME");

	/* nothing was changed */
	{
		char path[64];
		user_path(path, sizeof(path), &b);
		it_get(path, b.access, &r);
		it_assert_status(&r, 200);
		assert_user_json(&r, &b);
	}
	it_resp_free(&r);
}
END_TEST

START_TEST(patch_with_own_current_values_never_conflicts)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	char body[256];

	it_new_user(&u);
	snprintf(body, sizeof(body), "{\"displayName\":\"%s\",\"phone\":\"%s\"}", u.display_name,
		 u.phone);
	patch(&u, &u, body, &r);
	it_assert_status(&r, 200);
	assert_user_json(&r, &u);

	/* the same digits written differently are still the user's own phone */
	{
		char digits[32];
		snprintf(digits, sizeof(digits), "010%.4s%.4s", u.phone + 4, u.phone + 9);
		snprintf(u.phone, sizeof(u.phone), "%s", digits);
	}
	snprintf(body, sizeof(body), "{\"phone\":\"%s\"}", u.phone);
	patch(&u, &u, body, &r);
	it_assert_status(&r, 200);
	assert_user_json(&r, &u);
	it_resp_free(&r);
}
END_TEST

START_TEST(patch_of_another_user_is_403_even_for_admin)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user a, b, admin;

	it_new_user(&a);
	it_user_fill(&b);
	it_signup(&b);
	it_new_admin(&admin);
	patch(&a, &b, "{\"city\":\"부산\"}", &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	/* owner, not owner/admin: ADMIN may only read */
	patch(&admin, &b, "{\"city\":\"부산\"}", &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	it_resp_free(&r);
}
END_TEST

START_TEST(patch_checks_validation_then_existence_then_ownership)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user a, b;
	char path[64];

	it_new_user(&a);
	it_user_fill(&b);
	it_signup(&b);
	patch(&a, &b, "{\"city\":\"\"}", &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_req("PATCH", NO_SUCH_USER, a.access, "{\"city\":\"\"}", NULL, &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_req("PATCH", NO_SUCH_USER, a.access, "{\"city\":\"부산\"}", NULL, &r);
	it_assert_error(&r, 404, "USER_NOT_FOUND");
	it_req("PATCH", "/api/users/abc", a.access, "{\"city\":\"부산\"}", NULL, &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_error(&r, 0, "userId", "abc", IT_R_TYPE);
	user_path(path, sizeof(path), &b);
	it_req("PATCH", path, a.access, "{", NULL, &r);
	it_assert_error(&r, 400, "MALFORMED_REQUEST");
	it_resp_free(&r);
}
END_TEST

/* ---- DELETE ---------------------------------------------------------------------------------- */

static void assert_withdrawal_body(const struct it_resp *r)
{
	cJSON *data;
	it_assert_status(r, 200);
	data = it_assert_wrapper(r);
	ck_assert_msg(cJSON_IsString(data) && strcmp(data->valuestring, "USER_WITHDRAWAL") == 0,
		      "data must be \"USER_WITHDRAWAL\": %s", r->body);
}

START_TEST(delete_withdraws_the_user)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u, again;
	char path[64], ip[64], *status;
	const char *hdrs[] = {ip, NULL};
	struct db_param p[1];
	cJSON *body;

	it_new_user(&u);
	user_path(path, sizeof(path), &u);
	it_req("DELETE", path, u.access, NULL, NULL, &r);
	assert_withdrawal_body(&r);

	p[0] = DB_I64(u.id);
	status = it_sql_str("SELECT status FROM users WHERE user_id = ?", p, 1);
	ck_assert_str_eq(status, "USER_WITHDRAWAL");
	free(status);
	ck_assert_int_eq(
	    it_sql_i64("SELECT withdrawn_at IS NOT NULL FROM users WHERE user_id = ?", p, 1), 1);
	ck_assert_int_eq(it_sql_i64("SELECT COUNT(*) FROM carts WHERE user_id = ?", p, 1), 0);

	/* login and every token of the user */
	it_xff_header(ip, sizeof(ip));
	it_login_raw(u.email, u.password, hdrs, &r);
	it_assert_error(&r, 401, "USER_WITHDRAWN");
	it_get(path, u.access, &r);
	it_assert_error(&r, 401, "USER_WITHDRAWN");
	it_req("DELETE", path, u.access, NULL, NULL, &r);
	it_assert_error(&r, 401, "USER_WITHDRAWN");

	/* email, display name and phone stay reserved */
	it_user_fill(&again);
	snprintf(again.email, sizeof(again.email), "%s", u.email);
	body = it_user_json(&again);
	{
		char *text = cJSON_PrintUnformatted(body);
		it_req("POST", "/api/users", NULL, text, NULL, &r);
		free(text);
	}
	it_assert_error(&r, 409, "EXIST_EMAIL");
	cJSON_Delete(body);
	it_user_fill(&again);
	snprintf(again.display_name, sizeof(again.display_name), "%s", u.display_name);
	body = it_user_json(&again);
	{
		char *text = cJSON_PrintUnformatted(body);
		it_req("POST", "/api/users", NULL, text, NULL, &r);
		free(text);
	}
	it_assert_error(&r, 409, "EXIST_DISPLAY_NAME");
	cJSON_Delete(body);
	it_user_fill(&again);
	snprintf(again.phone, sizeof(again.phone), "%s", u.phone);
	body = it_user_json(&again);
	{
		char *text = cJSON_PrintUnformatted(body);
		it_req("POST", "/api/users", NULL, text, NULL, &r);
		free(text);
	}
	it_assert_error(&r, 409, "EXIST_PHONE_NUMBER");
	cJSON_Delete(body);
	it_resp_free(&r);
}
END_TEST

START_TEST(delete_of_another_user_is_403)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user a, b;
	char path[64], *status;
	struct db_param p[1];

	it_new_user(&a);
	it_user_fill(&b);
	it_signup(&b);
	user_path(path, sizeof(path), &b);
	it_req("DELETE", path, a.access, NULL, NULL, &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	p[0] = DB_I64(b.id);
	status = it_sql_str("SELECT status FROM users WHERE user_id = ?", p, 1);
	ck_assert_str_eq(status, "USER_ACTIVE");
	free(status);
	it_req("DELETE", NO_SUCH_USER, a.access, NULL, NULL, &r);
	it_assert_error(&r, 404, "USER_NOT_FOUND");
	it_resp_free(&r);
}
END_TEST

START_TEST(admin_deletes_a_user_and_again)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user admin, b;
	char path[64], *status;
	struct db_param p[1];

	it_new_admin(&admin);
	it_new_user(&b);
	user_path(path, sizeof(path), &b);
	it_req("DELETE", path, admin.access, NULL, NULL, &r);
	assert_withdrawal_body(&r);
	p[0] = DB_I64(b.id);
	status = it_sql_str("SELECT status FROM users WHERE user_id = ?", p, 1);
	ck_assert_str_eq(status, "USER_WITHDRAWAL");
	free(status);
	ck_assert_int_eq(it_sql_i64("SELECT COUNT(*) FROM carts WHERE user_id = ?", p, 1), 0);
	it_get(path, b.access, &r);
	it_assert_error(&r, 401, "USER_WITHDRAWN");

	/* an already withdrawn user: the same 200, no change */
	it_req("DELETE", path, admin.access, NULL, NULL, &r);
	assert_withdrawal_body(&r);

	it_req("DELETE", NO_SUCH_USER, admin.access, NULL, NULL, &r);
	it_assert_error(&r, 404, "USER_NOT_FOUND");
	it_req("DELETE", "/api/users/x1", admin.access, NULL, NULL, &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_resp_free(&r);
}
END_TEST

Suite *profile_suite(void)
{
	Suite *s = suite_create("profile");
	TCase *tc;

	tc = tcase_create("get");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, own_profile_has_exactly_the_nine_keys);
	tcase_add_test(tc, profile_without_phone_has_phone_null);
	tcase_add_test(tc, another_users_profile_is_403);
	tcase_add_test(tc, admin_reads_any_profile);
	tcase_add_test(tc, non_numeric_id_is_invalid_parameter_type);
	tcase_add_test(tc, unknown_id_is_404_for_admin_and_user);
	suite_add_tcase(s, tc);

	tc = tcase_create("patch");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, patch_replaces_only_the_fields_sent);
	tcase_add_test(tc, patch_ignores_the_email);
	tcase_add_test(tc, patch_password_rule_has_its_own_reason);
	tcase_add_test(tc, patched_password_is_the_new_login_password);
	tcase_add_test(tc, patch_reports_every_invalid_field_in_table_order);
	tcase_add_test(tc, patch_conflicts_phone_before_display_name);
	tcase_add_test(tc, patch_with_own_current_values_never_conflicts);
	tcase_add_test(tc, patch_of_another_user_is_403_even_for_admin);
	tcase_add_test(tc, patch_checks_validation_then_existence_then_ownership);
	suite_add_tcase(s, tc);

	tc = tcase_create("delete");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, delete_withdraws_the_user);
	tcase_add_test(tc, delete_of_another_user_is_403);
	tcase_add_test(tc, admin_deletes_a_user_and_again);
	suite_add_tcase(s, tc);
	return s;
}
