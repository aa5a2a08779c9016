/*
 * 22_tokens: access and refresh tokens (API.md §1.6, §3.4, §3.5): rotation, reuse detection
 * revoking the whole family, logout, forged and expired tokens, and the 401 codes with their
 * WWW-Authenticate challenge (§1.5).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/it/lib/it.h"
#include "common/banned.h"

struct pair {
	char access[2048];
	char refresh[2048];
};

/* POST /api/users/refresh with the given Refresh header value (NULL: none). */
static void refresh_with(const char *refresh, struct it_resp *r)
{
	char h[2200];
	const char *hdrs[] = {h, NULL};
	snprintf(h, sizeof(h), "Refresh: %s", refresh ? refresh : "");
	it_req("POST", "/api/users/refresh", NULL, NULL, refresh ? hdrs : NULL, r);
}

/* Rotates p; asserts 200 and the §3.4 answer. */
static void rotate(const struct it_user *u, struct pair *p)
{
	struct it_resp r = IT_RESP_INIT;
	char idtxt[32];
	const char *rf;
	cJSON *data;

	refresh_with(p->refresh, &r);
	it_assert_status(&r, 200);
	data = it_assert_wrapper(&r);
	it_assert_keys(data, "userId", NULL);
	ck_assert_int_eq(it_json_int(data, "userId"), u->id);
	snprintf(idtxt, sizeof(idtxt), "%lld", (long long)u->id);
	it_assert_header(&r, "userId", idtxt);
	it_bearer_at(IT_HERE, &r, p->access, sizeof(p->access));
	rf = it_resp_header(&r, "Refresh");
	ck_assert_msg(rf && *rf, "no Refresh header after rotation");
	snprintf(p->refresh, sizeof(p->refresh), "%s", rf);
	it_resp_free(&r);
}

static void get_self(const struct it_user *u, const char *access, struct it_resp *r)
{
	char path[64];
	it_user_path(path, sizeof(path), u->id);
	it_get(path, access, r);
}

static void assert_self_ok(const struct it_user *u, const char *access)
{
	struct it_resp r = IT_RESP_INIT;
	get_self(u, access, &r);
	it_assert_status(&r, 200);
	it_resp_free(&r);
}

static void assert_self_401(const struct it_user *u, const char *access, const char *code)
{
	struct it_resp r = IT_RESP_INIT;
	get_self(u, access, &r);
	it_assert_error(&r, 401, code);
	it_assert_www_auth(&r, true);
	it_resp_free(&r);
}

static void login_pair(struct it_user *u, struct pair *p)
{
	it_login(u);
	snprintf(p->access, sizeof(p->access), "%s", u->access);
	snprintf(p->refresh, sizeof(p->refresh), "%s", u->refresh);
}

/* ---- refresh --------------------------------------------------------------------------------- */

START_TEST(refresh_rotates_both_tokens)
{
	struct it_user u;
	struct pair first, p;
	cJSON *c1, *c2;

	it_user_fill(&u);
	it_signup(&u);
	login_pair(&u, &first);
	p = first;
	rotate(&u, &p);
	ck_assert_str_ne(p.access, first.access);
	ck_assert_str_ne(p.refresh, first.refresh);
	assert_self_ok(&u, p.access);
	/* access tokens issued earlier stay valid until they expire */
	assert_self_ok(&u, first.access);

	/* same family, new refresh token, which rotates in turn */
	c1 = it_jwt_claims(first.refresh);
	c2 = it_jwt_claims(p.refresh);
	ck_assert_ptr_nonnull(c1);
	ck_assert_ptr_nonnull(c2);
	ck_assert_str_eq(it_json_str(c2, "typ"), "refresh");
	ck_assert_str_eq(it_json_str(c1, "fam"), it_json_str(c2, "fam"));
	ck_assert_str_ne(it_json_str(c1, "jti"), it_json_str(c2, "jti"));
	rotate(&u, &p);
	assert_self_ok(&u, p.access);
	cJSON_Delete(c1);
	cJSON_Delete(c2);
}
END_TEST

START_TEST(reused_refresh_token_revokes_the_whole_family)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	struct pair other, first, second;

	it_user_fill(&u);
	it_signup(&u);
	login_pair(&u, &other); /* another login: another family */
	login_pair(&u, &first);
	second = first;
	rotate(&u, &second);

	refresh_with(first.refresh, &r);
	it_assert_error(&r, 401, "REFRESH_TOKEN_REUSED");
	it_assert_no_header(&r, "Authorization");

	/* every token of the family is revoked: the rotated pair and the first access token */
	assert_self_401(&u, second.access, "INVALID_TOKEN");
	assert_self_401(&u, first.access, "INVALID_TOKEN");
	refresh_with(second.refresh, &r);
	it_assert_error(&r, 401, "INVALID_TOKEN");

	/* the other login's family is untouched */
	assert_self_ok(&u, other.access);
	rotate(&u, &other);
	assert_self_ok(&u, other.access);
	it_resp_free(&r);
}
END_TEST

START_TEST(refresh_without_the_header_is_unauthorized)
{
	struct it_resp r = IT_RESP_INIT;

	refresh_with(NULL, &r);
	it_assert_error(&r, 401, "UNAUTHORIZED");
	it_assert_www_auth(&r, false);
	it_resp_free(&r);
}
END_TEST

START_TEST(access_token_sent_as_refresh_is_invalid)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;

	it_new_user(&u);
	refresh_with(u.access, &r);
	it_assert_error(&r, 401, "INVALID_TOKEN");
	it_assert_www_auth(&r, true);
	refresh_with("garbage", &r);
	it_assert_error(&r, 401, "INVALID_TOKEN");
	/* and the refresh token still works afterwards */
	refresh_with(u.refresh, &r);
	it_assert_status(&r, 200);
	it_resp_free(&r);
}
END_TEST

START_TEST(refresh_token_sent_as_access_is_invalid)
{
	struct it_user u;

	it_new_user(&u);
	assert_self_401(&u, u.refresh, "INVALID_TOKEN");
}
END_TEST

START_TEST(expired_refresh_token_is_expired)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	cJSON *c;
	char *jwt;

	it_new_user(&u);
	c = it_jwt_claims(u.refresh);
	ck_assert_ptr_nonnull(c);
	cJSON_ReplaceItemInObject(c, "iat", cJSON_CreateNumber((double)(it_now() - 700000)));
	cJSON_ReplaceItemInObject(c, "exp", cJSON_CreateNumber((double)(it_now() - 60)));
	jwt = it_sign_claims(c);
	refresh_with(jwt, &r);
	it_assert_error(&r, 401, "EXPIRED_TOKEN");
	free(jwt);

	/* a refresh token signed with HS512 is refused whatever its claims */
	cJSON_ReplaceItemInObject(c, "exp", cJSON_CreateNumber((double)(it_now() + 600)));
	{
		char *text = cJSON_PrintUnformatted(c);
		jwt = it_forge_token("HS512", "{\"alg\":\"HS512\",\"typ\":\"JWT\"}", text);
		free(text);
	}
	refresh_with(jwt, &r);
	it_assert_error(&r, 401, "INVALID_TOKEN");
	free(jwt);
	cJSON_Delete(c);
	it_resp_free(&r);
}
END_TEST

START_TEST(refresh_after_withdrawal_is_user_withdrawn)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	char path[64];

	it_new_user(&u);
	it_user_path(path, sizeof(path), u.id);
	it_req("DELETE", path, u.access, NULL, NULL, &r);
	it_assert_status(&r, 200);
	refresh_with(u.refresh, &r);
	it_assert_error(&r, 401, "USER_WITHDRAWN");
	it_resp_free(&r);
}
END_TEST

/* ---- logout ---------------------------------------------------------------------------------- */

START_TEST(logout_revokes_the_access_token_and_its_family)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	char path[64];
	cJSON *data;

	it_new_user(&u);
	it_req("POST", "/api/users/logout", u.access, NULL, NULL, &r);
	it_assert_status(&r, 200);
	data = it_assert_wrapper(&r);
	ck_assert_msg(cJSON_IsString(data) && strcmp(data->valuestring, "로그아웃 완료") == 0,
		      "data must be \"로그아웃 완료\": %s", r.body);

	assert_self_401(&u, u.access, "ALREADY_LOGOUT");
	it_user_path(path, sizeof(path), u.id);
	it_req("PATCH", path, u.access, "{\"city\":\"부산\"}", NULL, &r);
	it_assert_error(&r, 401, "ALREADY_LOGOUT");
	it_req("POST", "/api/users/logout", u.access, NULL, NULL, &r);
	it_assert_error(&r, 401, "ALREADY_LOGOUT");
	it_assert_www_auth(&r, true);

	refresh_with(u.refresh, &r);
	it_assert_error(&r, 401, "INVALID_TOKEN");

	/* a new login works */
	it_login(&u);
	assert_self_ok(&u, u.access);
	it_resp_free(&r);
}
END_TEST

START_TEST(logout_with_refresh_revokes_that_family_too)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	struct pair one, two, three;
	char h[2200];
	const char *hdrs[] = {h, NULL};

	it_user_fill(&u);
	it_signup(&u);
	login_pair(&u, &one);
	login_pair(&u, &two);
	login_pair(&u, &three);
	snprintf(h, sizeof(h), "Refresh: %s", two.refresh);
	it_req("POST", "/api/users/logout", one.access, NULL, hdrs, &r);
	it_assert_status(&r, 200);

	assert_self_401(&u, one.access, "ALREADY_LOGOUT");
	refresh_with(one.refresh, &r);
	it_assert_error(&r, 401, "INVALID_TOKEN");
	refresh_with(two.refresh, &r);
	it_assert_error(&r, 401, "INVALID_TOKEN");
	assert_self_401(&u, two.access, "INVALID_TOKEN");
	/* a third login is another family */
	assert_self_ok(&u, three.access);
	rotate(&u, &three);
	it_resp_free(&r);
}
END_TEST

START_TEST(a_body_on_a_route_without_one_is_ignored)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	char h[2200];
	const char *hdrs[] = {h, "Content-Type: text/plain", NULL};

	it_new_user(&u);
	snprintf(h, sizeof(h), "Refresh: %s", u.refresh);
	ck_assert_int_eq(it_http("POST", "/api/users/refresh", hdrs, "{not json", 9, &r), 0);
	it_assert_status(&r, 200);
	it_bearer_at(IT_HERE, &r, u.access, sizeof(u.access));
	snprintf(h, sizeof(h), "Authorization: Bearer %s", u.access);
	ck_assert_int_eq(it_http("POST", "/api/users/logout", hdrs, "{not json", 9, &r), 0);
	it_assert_status(&r, 200);
	it_resp_free(&r);
}
END_TEST

START_TEST(logout_needs_a_token)
{
	struct it_resp r = IT_RESP_INIT;

	it_req("POST", "/api/users/logout", NULL, NULL, NULL, &r);
	it_assert_error(&r, 401, "UNAUTHORIZED");
	it_assert_www_auth(&r, false);
	it_resp_free(&r);
}
END_TEST

/* ---- authentication of requests -------------------------------------------------------------- */

START_TEST(missing_or_non_bearer_authorization_is_unauthorized)
{
	static const char *const headers[] = {NULL,
					      "Authorization: Basic dXNlcjpwYXNz",
					      "Authorization: Token abc",
					      "Authorization: Bearer",
					      "Authorization: bearer",
					      NULL};
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	char path[64];

	it_new_user(&u);
	it_user_path(path, sizeof(path), u.id);
	for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]) - 1; i++) {
		const char *hdrs[] = {headers[i], NULL};
		it_req("GET", path, NULL, NULL, headers[i] ? hdrs : NULL, &r);
		if (r.status != 401)
			ck_abort_msg("%s: expected 401 UNAUTHORIZED, got %ld %s",
				     headers[i] ? headers[i] : "no Authorization", r.status,
				     r.body);
		it_assert_error(&r, 401, "UNAUTHORIZED");
		if (!headers[i])
			it_assert_www_auth(&r, false);
	}
	it_resp_free(&r);
}
END_TEST

START_TEST(resigned_token_with_the_same_claims_is_accepted)
{
	/* the control for the forgeries below: the secret and the claim shapes are right */
	struct it_user u;
	cJSON *c;
	char *jwt;

	it_new_user(&u);
	c = it_jwt_claims(u.access);
	ck_assert_ptr_nonnull(c);
	jwt = it_sign_claims(c);
	assert_self_ok(&u, jwt);
	free(jwt);
	cJSON_Delete(c);
}
END_TEST

enum forgery {
	F_ALG_NONE,
	F_ALG_NONE_UPPER,
	F_HS512,
	F_BAD_SIGNATURE,
	F_OTHER_KEY,
	F_NO_SIGNATURE,
	F_WRONG_ISS,
	F_WRONG_TYP,
	F_NO_SUB,
	F_NO_UID,
	F_NO_ROLES,
	F_NO_JTI,
	F_NO_IAT,
	F_NO_EXP,
	F_NO_ISS,
	F_NO_TYP,
	F_GARBAGE,
	F_TWO_PARTS,
	F_EXPIRED_BAD_SIGNATURE,
	F_COUNT
};

static const char *const forgery_names[F_COUNT] = {
	"alg none",
	"alg None",
	"HS512",
	"bad signature",
	"other key",
	"no signature",
	"wrong iss",
	"wrong typ",
	"no sub",
	"no uid",
	"no roles",
	"no jti",
	"no iat",
	"no exp",
	"no iss",
	"no typ",
	"garbage",
	"two parts",
	"expired and badly signed",
};

static char *forge(enum forgery f, const char *access)
{
	static const char *const drop[] = {"sub", "uid", "roles", "jti",
					   "iat", "exp", "iss",   "typ"};
	cJSON *c = it_jwt_claims(access);
	char *text, *jwt = NULL;

	ck_assert_ptr_nonnull(c);
	switch (f) {
	case F_WRONG_ISS:
		cJSON_ReplaceItemInObject(c, "iss", cJSON_CreateString("evil"));
		break;
	case F_WRONG_TYP:
		cJSON_ReplaceItemInObject(c, "typ", cJSON_CreateString("refresh"));
		break;
	case F_NO_SUB:
	case F_NO_UID:
	case F_NO_ROLES:
	case F_NO_JTI:
	case F_NO_IAT:
	case F_NO_EXP:
	case F_NO_ISS:
	case F_NO_TYP:
		cJSON_DeleteItemFromObject(c, drop[f - F_NO_SUB]);
		break;
	case F_EXPIRED_BAD_SIGNATURE:
		cJSON_ReplaceItemInObject(c, "exp", cJSON_CreateNumber((double)(it_now() - 60)));
		break;
	default:
		break;
	}
	text = cJSON_PrintUnformatted(c);
	ck_assert_ptr_nonnull(text);
	switch (f) {
	case F_ALG_NONE:
		jwt = it_forge_token("none", "{\"alg\":\"none\",\"typ\":\"JWT\"}", text);
		break;
	case F_ALG_NONE_UPPER:
		jwt = it_forge_token("none", "{\"alg\":\"None\",\"typ\":\"JWT\"}", text);
		break;
	case F_HS512:
		jwt = it_forge_token("HS512", "{\"alg\":\"HS512\",\"typ\":\"JWT\"}", text);
		break;
	case F_OTHER_KEY:
		jwt = it_forge_token_key("HS256", "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", text,
					 "another-secret-of-at-least-32-bytes!!", 37);
		break;
	case F_NO_SIGNATURE: {
		char *signed_jwt =
		    it_forge_token("HS256", "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", text);
		*strrchr(signed_jwt, '.') = '\0';
		jwt = malloc(strlen(signed_jwt) + 2);
		snprintf(jwt, strlen(signed_jwt) + 2, "%s.", signed_jwt);
		free(signed_jwt);
		break;
	}
	case F_GARBAGE:
		jwt = strdup("abc.def.ghi");
		break;
	case F_TWO_PARTS: {
		char *signed_jwt =
		    it_forge_token("HS256", "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", text);
		*strrchr(signed_jwt, '.') = '\0';
		jwt = signed_jwt;
		break;
	}
	default:
		jwt = it_forge_token("HS256", "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", text);
		break;
	}
	if (f == F_BAD_SIGNATURE || f == F_EXPIRED_BAD_SIGNATURE) {
		/* change the first signature character: it carries 6 signature bits */
		char *sig = strrchr(jwt, '.') + 1;
		sig[0] = sig[0] == 'A' ? 'B' : 'A';
	}
	free(text);
	cJSON_Delete(c);
	return jwt;
}

START_TEST(forged_tokens_are_invalid)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	char *jwt;

	it_new_user(&u);
	jwt = forge((enum forgery)_i, u.access);
	get_self(&u, jwt, &r);
	if (r.status != 401)
		ck_abort_msg("%s: expected 401 INVALID_TOKEN, got %ld %s", forgery_names[_i],
			     r.status, r.body);
	it_assert_error(&r, 401, "INVALID_TOKEN");
	it_assert_www_auth(&r, true);
	free(jwt);
	it_resp_free(&r);
}
END_TEST

START_TEST(expired_token_is_expired)
{
	struct it_user u;
	cJSON *c;
	char *jwt;

	it_new_user(&u);
	c = it_jwt_claims(u.access);
	ck_assert_ptr_nonnull(c);
	cJSON_ReplaceItemInObject(c, "iat", cJSON_CreateNumber((double)(it_now() - 3600)));
	cJSON_ReplaceItemInObject(c, "exp", cJSON_CreateNumber((double)(it_now() - 60)));
	jwt = it_sign_claims(c);
	assert_self_401(&u, jwt, "EXPIRED_TOKEN");
	free(jwt);
	cJSON_Delete(c);
}
END_TEST

Suite *tokens_suite(void)
{
	Suite *s = suite_create("tokens");
	TCase *tc;

	tc = tcase_create("refresh");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, refresh_rotates_both_tokens);
	tcase_add_test(tc, reused_refresh_token_revokes_the_whole_family);
	tcase_add_test(tc, refresh_without_the_header_is_unauthorized);
	tcase_add_test(tc, access_token_sent_as_refresh_is_invalid);
	tcase_add_test(tc, refresh_token_sent_as_access_is_invalid);
	tcase_add_test(tc, expired_refresh_token_is_expired);
	tcase_add_test(tc, refresh_after_withdrawal_is_user_withdrawn);
	suite_add_tcase(s, tc);

	tc = tcase_create("logout");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, logout_revokes_the_access_token_and_its_family);
	tcase_add_test(tc, logout_with_refresh_revokes_that_family_too);
	tcase_add_test(tc, logout_needs_a_token);
	tcase_add_test(tc, a_body_on_a_route_without_one_is_ignored);
	suite_add_tcase(s, tc);

	tc = tcase_create("authentication");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, missing_or_non_bearer_authorization_is_unauthorized);
	tcase_add_test(tc, resigned_token_with_the_same_claims_is_accepted);
	tcase_add_loop_test(tc, forged_tokens_are_invalid, 0, F_COUNT);
	tcase_add_test(tc, expired_token_is_expired);
	suite_add_tcase(s, tc);
	return s;
}
