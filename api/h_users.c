/* h_users: users and authentication (API.md §3.1-3.6): sign-up, login with throttling,
 * refresh rotation, logout, profile get / patch / withdraw. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"
#include "api/config.h"
#include "api/handlers.h"
#include "api/http.h"
#include "api/login_throttle.h"
#include "api/worker.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/log.h"
#include "common/redis.h"
#include "common/throttle.h"
#include "common/token.h"
#include "common/tokstore.h"
#include "core/store_user.h"
#include "core/user.h"
#include "common/banned.h"

#define R_BLANK "공백일 수 없습니다"

typedef const char *(*field_rule)(const char *v);

static const char *rule_password_signup(const char *v)
{
	return user_rule_password(v, false);
}

static const char *rule_password_patch(const char *v)
{
	return user_rule_password(v, true);
}

struct field_spec {
	const char *key;
	field_rule rule;
	int required; /* absent/null is checked by the rule too */
	int secret;   /* never echoed: rejectedValue is "" (STYLE.md rule 17) */
};

/*
 * Reads the string fields of spec in order into values[], recording one error per invalid
 * field: a wrong JSON type, or the first failing rule. Absent optional fields stay NULL.
 */
static void read_fields(const struct req *r, const struct field_spec *spec, size_t n,
                        const char **values, struct field_errors *fe)
{
	for (size_t i = 0; i < n; i++) {
		const char *v = NULL;
		const char *reason;
		int rc = json_get_string(r->json, spec[i].key, fe, &v);

		values[i] = NULL;
		if (rc < 0)
			continue;
		if (rc == JSON_ABSENT && !spec[i].required)
			continue;
		reason = spec[i].rule(rc == JSON_PRESENT ? v : NULL);
		if (reason) {
			field_errors_add(fe, E_VALIDATION_FAILED, spec[i].key,
			                 rc == JSON_PRESENT && !spec[i].secret ? v : "", reason);
			continue;
		}
		values[i] = v;
	}
}

static cJSON *user_json(const struct user *u)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	json_add_string_or_null(o, "email", u->email);
	json_add_string_or_null(o, "displayName", u->display_name);
	json_add_string_or_null(o, "city", u->city);
	json_add_string_or_null(o, "detailAddress", u->detail_address);
	json_add_string_or_null(o, "realName", u->real_name);
	json_add_string_or_null(o, "phone", u->phone);
	cJSON_AddBoolToObject(o, "social", u->social);
	json_add_ts(o, "updatedAt", u->updated_at);
	json_add_ts(o, "createAt", u->created_at);
	return o;
}

/* ---- sign-up ---------------------------------------------------------------------------- */

int h_user_signup(struct req *r)
{
	static const struct field_spec spec[] = {
	    {"email", user_rule_email, 1, 0},
	    {"password", rule_password_signup, 1, 1},
	    {"displayName", user_rule_display_name, 1, 0},
	    {"city", user_rule_city, 1, 0},
	    {"detailAddress", user_rule_detail_address, 1, 0},
	    {"realName", user_rule_real_name, 1, 0},
	    {"phone", user_rule_phone, 0, 0},
	};
	const char *v[7];
	struct field_errors fe = {0};
	char hash[CRYPTO_HASH_MAX];
	struct user_created created;
	int rc;

	read_fields(r, spec, 7, v, &fe);
	if (fe.n)
		return http_send_field_errors(r, &fe);
	rc = crypto_password_hash(v[1], hash);
	if (rc)
		return http_send_error(r, rc, NULL);
	struct user_fields f = {.email = v[0],
	                        .password_hash = hash,
	                        .display_name = v[2],
	                        .city = v[3],
	                        .detail_address = v[4],
	                        .real_name = v[5],
	                        .phone = v[6]};
	rc = store_user_create(r->w->db, &f, (int64_t)clock_now(), &created);
	crypto_wipe(hash, sizeof(hash));
	if (rc)
		return http_send_error(r, rc, NULL);
	cJSON *data = cJSON_CreateObject();
	json_add_int(data, "userId", created.user_id);
	json_add_int(data, "normalCartId", created.normal_cart_id);
	json_add_int(data, "subscriptionCartId", created.subscription_cart_id);
	log_info("user signed up", "user:i", (long long)created.user_id);
	return http_send_data(r, 201, data);
}

/* ---- login ------------------------------------------------------------------------------ */

static char dummy_hash[CRYPTO_HASH_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy_hash(void)
{
	char pw[CRYPTO_TOKEN_LEN];
	if (crypto_token(pw) == 0)
		crypto_password_hash(pw, dummy_hash);
}

int h_user_login(struct req *r)
{
	static const struct field_spec spec[] = {
	    {"username", NULL, 1, 0},
	    {"password", NULL, 1, 1},
	};
	const char *v[2] = {NULL, NULL};
	struct field_errors fe = {0};
	char acct[256], ip[128];
	struct user u = {0};
	int64_t now_ms = clock_now_ms();
	int rc;

	for (size_t i = 0; i < 2; i++) {
		rc = json_get_string(r->json, spec[i].key, &fe, &v[i]);
		if (rc < 0)
			continue;
		if (rc == JSON_ABSENT || json_is_blank(v[i])) {
			field_errors_add(&fe, E_VALIDATION_FAILED, spec[i].key,
			                 rc == JSON_PRESENT && !spec[i].secret ? v[i] : "",
			                 R_BLANK);
			v[i] = NULL;
		}
	}
	if (fe.n)
		return http_send_field_errors(r, &fe);

	login_throttle_keys(r, v[0], acct, sizeof(acct), ip, sizeof(ip));
	if (login_throttle_check(r, acct, ip, now_ms))
		return 0;

	rc = store_user_by_email(r->w->db, v[0], &u);
	if (rc && rc != -E_USER_NOT_FOUND)
		return http_send_error(r, rc, NULL);
	if (rc == -E_USER_NOT_FOUND || !u.password_hash) {
		/* same cost as a real check, so timing does not reveal accounts */
		pthread_once(&dummy_once, make_dummy_hash);
		crypto_password_verify(v[1], dummy_hash);
		rc = -E_BAD_CREDENTIALS;
	} else {
		rc = crypto_password_verify(v[1], u.password_hash);
	}
	if (rc) {
		int crc = login_throttle_count_failure(r, acct, ip, now_ms);
		user_release(&u);
		return http_send_error(r, crc ? crc : -E_BAD_CREDENTIALS, NULL);
	}
	if (u.withdrawn) {
		user_release(&u);
		return http_send_error(r, -E_USER_WITHDRAWN, NULL);
	}
	rc = throttle_clear(r->w->redis, acct);
	if (rc == 0)
		rc = auth_issue_tokens(r, u.user_id, u.email, u.admin, NULL, NULL);
	if (rc) {
		user_release(&u);
		return http_send_error(r, rc, NULL);
	}
	cJSON *data = cJSON_CreateObject();
	json_add_int(data, "userId", u.user_id);
	r->auth.uid = u.user_id;
	user_release(&u);
	return http_send_data(r, 200, data);
}

/* ---- refresh and logout ----------------------------------------------------------------- */

int h_user_refresh(struct req *r)
{
	const char *token = req_header(r, "Refresh");
	struct token_claims c;
	struct user u = {0};
	int rc;

	if (!token || !*token)
		return http_send_error(r, -E_UNAUTHORIZED, NULL);
	rc = token_verify(&r->cfg->keys, token, TOKEN_REFRESH, (int64_t)clock_now(), &c);
	if (rc)
		return http_send_error(r, rc, NULL);
	rc = tokstore_check(r->w->redis, &c);
	if (rc == -E_ALREADY_LOGOUT)
		rc = -E_INVALID_TOKEN;
	if (rc)
		return http_send_error(r, rc, NULL);
	rc = store_user_get(r->w->db, c.uid, &u);
	if (rc == -E_USER_NOT_FOUND)
		rc = -E_INVALID_TOKEN;
	if (rc)
		return http_send_error(r, rc, NULL);
	if (u.withdrawn) {
		user_release(&u);
		return http_send_error(r, -E_USER_WITHDRAWN, NULL);
	}
	rc = auth_issue_tokens(r, u.user_id, u.email, u.admin, c.fam, c.jti);
	if (rc) {
		user_release(&u);
		return http_send_error(r, rc, NULL);
	}
	cJSON *data = cJSON_CreateObject();
	json_add_int(data, "userId", u.user_id);
	user_release(&u);
	return http_send_data(r, 200, data);
}

int h_user_logout(struct req *r)
{
	const char *refresh = req_header(r, "Refresh");
	int64_t now = (int64_t)clock_now();
	int64_t ttl = r->auth.exp - now;
	int rc;

	rc = tokstore_access_revoke(r->w->redis, r->auth.jti, ttl > 0 ? ttl : 1);
	if (rc == 0 && r->auth.fam[0])
		rc = tokstore_family_revoke(r->w->redis, r->auth.fam, (int)r->cfg->refresh_ttl_s);
	if (rc == 0 && refresh && *refresh) {
		struct token_claims c;
		if (token_verify(&r->cfg->keys, refresh, TOKEN_REFRESH, now, &c) == 0 &&
		    c.uid == r->auth.uid && strcmp(c.fam, r->auth.fam) != 0)
			rc = tokstore_family_revoke(r->w->redis, c.fam, (int)r->cfg->refresh_ttl_s);
	}
	if (rc)
		return http_send_error(r, rc, NULL);
	return http_send_data(r, 200, cJSON_CreateString("로그아웃 완료"));
}

/* ---- profile ---------------------------------------------------------------------------- */

/* Reads the {userId} path parameter; answers and returns non-zero on failure. */
static int path_user_id(struct req *r, struct field_errors *fe, int64_t *id)
{
	int rc = req_path_id(r, 0, "userId", fe, id);
	if (rc == 1)
		*id = 0; /* well-formed, matches nothing */
	return rc < 0 ? rc : 0;
}

/* Loads the user; answers 404 / 403 / errors. admin_ok: ADMIN may act too. */
static int load_owned(struct req *r, int64_t id, bool admin_ok, struct user *u)
{
	int rc = id > 0 ? store_user_get(r->w->db, id, u) : -E_USER_NOT_FOUND;
	if (rc)
		return http_send_error(r, rc, NULL), rc;
	if (!auth_owns(r, id, admin_ok)) {
		user_release(u);
		return http_send_error(r, -E_ACCESS_DENIED_USER, NULL), -E_ACCESS_DENIED_USER;
	}
	return 0;
}

int h_user_get(struct req *r)
{
	struct field_errors fe = {0};
	struct user u = {0};
	int64_t id = 0;

	if (path_user_id(r, &fe, &id))
		return http_send_field_errors(r, &fe);
	if (load_owned(r, id, true, &u))
		return 0;
	cJSON *data = user_json(&u);
	user_release(&u);
	return http_send_data(r, 200, data);
}

int h_user_patch(struct req *r)
{
	static const struct field_spec spec[] = {
	    {"password", rule_password_patch, 0, 1},
	    {"displayName", user_rule_display_name, 0, 0},
	    {"city", user_rule_city, 0, 0},
	    {"detailAddress", user_rule_detail_address, 0, 0},
	    {"realName", user_rule_real_name, 0, 0},
	    {"phone", user_rule_phone, 0, 0},
	};
	const char *v[6];
	struct field_errors fe = {0};
	struct user u = {0};
	char hash[CRYPTO_HASH_MAX];
	int64_t id = 0;
	int rc;

	path_user_id(r, &fe, &id);
	read_fields(r, spec, 6, v, &fe);
	if (fe.n)
		return http_send_field_errors(r, &fe);
	if (load_owned(r, id, false, &u))
		return 0;
	user_release(&u);
	if (v[0]) {
		rc = crypto_password_hash(v[0], hash);
		if (rc)
			return http_send_error(r, rc, NULL);
	}
	struct user_fields f = {.password_hash = v[0] ? hash : NULL,
	                        .display_name = v[1],
	                        .city = v[2],
	                        .detail_address = v[3],
	                        .real_name = v[4],
	                        .phone = v[5]};
	rc = store_user_update(r->w->db, id, &f, (int64_t)clock_now());
	crypto_wipe(hash, sizeof(hash));
	if (rc == 0)
		rc = store_user_get(r->w->db, id, &u);
	if (rc)
		return http_send_error(r, rc, NULL);
	cJSON *data = user_json(&u);
	user_release(&u);
	return http_send_data(r, 200, data);
}

int h_user_delete(struct req *r)
{
	struct field_errors fe = {0};
	struct user u = {0};
	int64_t id = 0;
	bool changed = false;
	int rc;

	if (path_user_id(r, &fe, &id))
		return http_send_field_errors(r, &fe);
	if (load_owned(r, id, true, &u))
		return 0;
	user_release(&u);
	rc = store_user_withdraw(r->w->db, id, (int64_t)clock_now(), &changed);
	/* revoke every token of the user; idempotent, so a retry after a Redis error works */
	if (rc == 0)
		rc = tokstore_user_withdraw(r->w->redis, id);
	if (rc)
		return http_send_error(r, rc, NULL);
	if (changed)
		log_info("user withdrew", "user:i", (long long)id, "by:i", (long long)r->auth.uid);
	return http_send_data(r, 200, cJSON_CreateString("USER_WITHDRAWAL"));
}
