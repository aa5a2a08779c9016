/* h_oauth: OAuth2 login (API.md §3.7): the authorization redirect, the provider callback,
 * profile completion (more-info) and linking a provider to a local account. Provider calls
 * go through external/oauth.h; SQL through core/store_oauth.h and core/store_user.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/auth.h"
#include "api/config.h"
#include "api/handlers.h"
#include "api/http.h"
#include "api/login_throttle.h"
#include "api/worker.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/log.h"
#include "common/redis.h"
#include "common/throttle.h"
#include "core/store_oauth.h"
#include "core/store_user.h"
#include "core/user.h"
#include "external/oauth.h"
#include "common/banned.h"

#define R_BLANK         "공백일 수 없습니다"
#define STATE_TTL_S     600
#define SIGNUP_TTL_S    1800
#define LINK_TTL_S      600
#define REAL_NAME_MAX   30
#define TOKEN_VALUE_MAX 512

/* ---- small helpers ----------------------------------------------------------------------- */

/* The configured provider named by the path, or NULL (unknown or empty client id). */
static const struct oauth_provider *provider_of(const struct req *r)
{
	const char *name = r->nparams ? r->params[0] : NULL;

	for (int k = 0; name && k < 2; k++) {
		const struct oauth_provider *p = &r->cfg->oauth[k];
		if (!strcmp(p->name, name) && p->client_id && *p->client_id)
			return p;
	}
	return NULL;
}

static int redirect_uri(const struct req *r, const struct oauth_provider *p, struct buf *b)
{
	const char *base = r->cfg->public_base_url;
	size_t n = strlen(base);

	while (n && base[n - 1] == '/')
		n--;
	return buf_printf(b, "%.*s/login/oauth2/code/%s", (int)n, base, p->name);
}

static int redis_key(const struct req *r, char *out, size_t n, const char *kind, const char *token)
{
	int len = snprintf(out, n, "%soauth:%s:%s", redis_prefix(r->w->redis), kind, token);
	return len < 0 || (size_t)len >= n ? -E_TOO_LONG : 0;
}

/* A token of ours is 43 base64url characters; anything else is unknown. */
static int token_shape_ok(const char *t)
{
	size_t n = 0;

	for (; t && t[n]; n++) {
		char c = t[n];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return 0;
	}
	return n == 43;
}

/* Stores value under oauth:<kind>:<new token> for ttl_s. */
static int token_put(struct req *r, const char *kind, const char *value, int ttl_s,
                     char token[CRYPTO_TOKEN_LEN])
{
	char key[160];
	int rc = crypto_token(token);

	if (rc == 0)
		rc = redis_key(r, key, sizeof(key), kind, token);
	if (rc == 0)
		rc = redis_cmd(r->w->redis, NULL, "SET %s %s EX %d", key, value, ttl_s);
	return rc;
}

/* Reads (consume: and deletes) oauth:<kind>:<token>. 0 with out; 1 when unknown; <0 error. */
static int token_get(struct req *r, const char *kind, const char *token, bool consume, char *out,
                     size_t n)
{
	redisReply *reply = NULL;
	char key[160];
	int rc;

	if (!token_shape_ok(token))
		return 1;
	rc = redis_key(r, key, sizeof(key), kind, token);
	if (rc)
		return rc;
	if (consume) {
		/* GET + DEL in one step (GETDEL needs Redis >= 6.2) */
		static const char take[] = "local v = redis.call('GET', KEYS[1])\n"
		                           "if v then redis.call('DEL', KEYS[1]) end\n"
		                           "return v";
		const char *argv[1] = {key};
		rc = redis_eval(r->w->redis, &reply, take, 1, 1, argv);
	} else {
		rc = redis_cmd(r->w->redis, &reply, "GET %s", key);
	}
	if (rc)
		return rc;
	if (reply->type != REDIS_REPLY_STRING || reply->len >= n) {
		freeReplyObject(reply);
		return 1;
	}
	memcpy(out, reply->str, reply->len);
	out[reply->len] = '\0';
	freeReplyObject(reply);
	return 0;
}

/* Removes the first header named name that a helper added, handing its value to the caller. */
static char *take_header(struct req *r, const char *name)
{
	for (size_t i = 0; i < r->nextra; i++) {
		if (strcasecmp(r->extra_name[i], name) != 0)
			continue;
		char *v = r->extra_value[i];
		for (size_t k = i + 1; k < r->nextra; k++) {
			r->extra_name[k - 1] = r->extra_name[k];
			r->extra_value[k - 1] = r->extra_value[k];
		}
		r->nextra--;
		return v;
	}
	return NULL;
}

static int send_redirect(struct req *r, const char *location)
{
	int rc = http_add_header(r, "Location", location);
	if (rc)
		return http_send_error(r, rc, NULL);
	return http_send_raw(r, 302, NULL, NULL, 0);
}

static bool json_mode(const struct req *r)
{
	const char *accept = req_header(r, "Accept");
	return accept && strstr(accept, "application/json") != NULL;
}

/* The error outcomes of the callback: JSON mode answers the error body; default mode
 * redirects to {storefrontUrl}/login?error=<code>. Other errors always get the error body. */
static int callback_error(struct req *r, int rc)
{
	struct buf loc = BUF_INIT(4096);
	int out;

	if (json_mode(r) || (rc != -E_OAUTH_STATE_INVALID && rc != -E_OAUTH_PROVIDER_ERROR &&
	                     rc != -E_USER_WITHDRAWN))
		return http_send_error(r, rc, NULL);
	r->error_rc = rc;
	if (buf_printf(&loc, "%s/login?error=%s", r->cfg->storefront_url, err_code(rc))) {
		buf_release(&loc);
		return http_send_error(r, -E_NOMEM, NULL);
	}
	out = send_redirect(r, loc.data);
	buf_release(&loc);
	return out;
}

/* Is c one of the Unicode White_Space characters? */
static bool is_space_cp(unsigned c)
{
	return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
	       (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
	       c == 0x205f || c == 0x3000;
}

/* realName of a new social user: the provider's name without whitespace, at most 30
 * characters; NULL when nothing is left. Caller frees. */
static char *real_name_of(const char *name)
{
	size_t len = name ? strlen(name) : 0, n = 0, chars = 0;
	char *out;

	if (!name)
		return NULL;
	out = malloc(len + 1);
	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)name; *p && chars < REAL_NAME_MAX;) {
		size_t k = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 : 4;
		unsigned cp = *p;
		size_t j;

		for (j = 1; j < k && p[j]; j++)
			;
		if (j < k)
			break; /* truncated sequence */
		if (k == 2)
			cp = ((p[0] & 0x1fu) << 6) | (p[1] & 0x3fu);
		else if (k == 3)
			cp = ((p[0] & 0x0fu) << 12) | ((p[1] & 0x3fu) << 6) | (p[2] & 0x3fu);
		if (!is_space_cp(cp)) {
			memcpy(out + n, p, k);
			n += k;
			chars++;
		}
		p += k;
	}
	out[n] = '\0';
	if (n == 0) {
		free(out);
		return NULL;
	}
	return out;
}

static bool profile_complete(const struct user *u)
{
	return u->display_name && u->city && u->detail_address && u->phone;
}

/* ---- GET /oauth2/authorization/{provider} ------------------------------------------------- */

int h_oauth_authorize(struct req *r)
{
	const struct oauth_provider *p = provider_of(r);
	struct buf uri = BUF_INIT(1024), loc = BUF_INIT(8192), val = BUF_INIT(256);
	char state[CRYPTO_TOKEN_LEN], verifier[CRYPTO_TOKEN_LEN];
	char challenge[OAUTH_CHALLENGE_LEN], key[160];
	int rc;

	if (!p)
		return http_send_error(r, -E_NOT_FOUND, NULL);
	rc = crypto_token(state);
	if (rc == 0 && p->pkce)
		rc = crypto_token(verifier);
	if (rc == 0 && p->pkce)
		rc = oauth_pkce_challenge(verifier, challenge);
	/* state value: "<provider> <verifier or ->" */
	if (rc == 0)
		rc = buf_printf(&val, "%s %s", p->name, p->pkce ? verifier : "-");
	if (rc == 0)
		rc = redis_key(r, key, sizeof(key), "state", state);
	if (rc == 0)
		rc = redis_cmd(r->w->redis, NULL, "SET %s %s EX %d", key, val.data, STATE_TTL_S);
	if (rc == 0)
		rc = redirect_uri(r, p, &uri);
	if (rc == 0)
		rc = oauth_authorize_url(p, uri.data, state, p->pkce ? challenge : NULL, &loc);
	if (rc == 0)
		rc = send_redirect(r, loc.data);
	else
		http_send_error(r, rc, NULL);
	crypto_wipe(verifier, sizeof(verifier));
	crypto_wipe(val.data, val.len);
	buf_release(&uri);
	buf_release(&loc);
	buf_release(&val);
	return rc;
}

/* ---- GET /login/oauth2/code/{provider} ----------------------------------------------------- */

/* Consumes state; 0 with the verifier ("" when PKCE was off), or -E_OAUTH_STATE_INVALID. */
static int take_state(struct req *r, const struct oauth_provider *p, char *verifier, size_t n)
{
	const char *state = req_query(r, "state");
	char val[TOKEN_VALUE_MAX];
	size_t plen = strlen(p->name);
	int rc = token_get(r, "state", state, true, val, sizeof(val));

	if (rc < 0)
		return rc;
	if (rc > 0 || strncmp(val, p->name, plen) != 0 || val[plen] != ' ')
		return -E_OAUTH_STATE_INVALID;
	snprintf(verifier, n, "%s", strcmp(val + plen + 1, "-") ? val + plen + 1 : "");
	crypto_wipe(val, sizeof(val));
	return 0;
}

/* Logged in with a complete profile: tokens as at login. */
static int answer_logged_in(struct req *r, const struct user *u)
{
	struct buf loc = BUF_INIT(16384);
	char *access = NULL, *refresh = NULL, *uid = NULL;
	int rc = auth_issue_tokens(r, u->user_id, u->email, u->admin, NULL, NULL);

	if (rc)
		return http_send_error(r, rc, NULL);
	r->auth.uid = u->user_id;
	if (json_mode(r)) {
		cJSON *data = cJSON_CreateObject();
		json_add_int(data, "userId", u->user_id);
		cJSON_AddBoolToObject(data, "profileComplete", 1);
		return http_send_data(r, 200, data);
	}
	/* default mode: the tokens travel in the fragment, not in headers */
	access = take_header(r, "Authorization");
	refresh = take_header(r, "Refresh");
	uid = take_header(r, "userId");
	rc = -E_INTERNAL_ERROR;
	if (access && refresh && uid && !strncmp(access, "Bearer ", 7)) {
		rc = buf_printf(&loc, "%s/#access_token=", r->cfg->storefront_url);
		if (rc == 0)
			rc = oauth_urlencode(&loc, access + 7);
		if (rc == 0)
			rc = buf_puts(&loc, "&refresh_token=");
		if (rc == 0)
			rc = oauth_urlencode(&loc, refresh);
		if (rc == 0)
			rc = buf_printf(&loc, "&userId=%lld", (long long)u->user_id);
	}
	if (rc == 0)
		rc = send_redirect(r, loc.data);
	else
		http_send_error(r, rc, NULL);
	crypto_wipe(loc.data, loc.len);
	buf_release(&loc);
	free(access);
	free(refresh);
	free(uid);
	return rc;
}

/* Profile incomplete: a signupToken bound to the user. */
static int answer_signup(struct req *r, const struct user *u)
{
	struct buf loc = BUF_INIT(4096);
	char token[CRYPTO_TOKEN_LEN], val[32];
	int rc;

	snprintf(val, sizeof(val), "%lld", (long long)u->user_id);
	rc = token_put(r, "signup", val, SIGNUP_TTL_S, token);
	if (rc)
		return http_send_error(r, rc, NULL);
	if (json_mode(r)) {
		cJSON *data = cJSON_CreateObject();
		json_add_int(data, "userId", u->user_id);
		cJSON_AddStringToObject(data, "email", u->email);
		cJSON_AddBoolToObject(data, "profileComplete", 0);
		cJSON_AddStringToObject(data, "signupToken", token);
		return http_send_data(r, 200, data);
	}
	rc = buf_printf(&loc, "%s/signup?email=", r->cfg->storefront_url);
	if (rc == 0)
		rc = oauth_urlencode(&loc, u->email);
	if (rc == 0)
		rc = buf_printf(&loc, "&userId=%lld#signupToken=%s", (long long)u->user_id, token);
	if (rc == 0)
		rc = send_redirect(r, loc.data);
	else
		http_send_error(r, rc, NULL);
	buf_release(&loc);
	return rc;
}

/* Email registered locally: a linkToken bound to the user and the provider identity. */
static int answer_link(struct req *r, const struct user *u, const struct oauth_provider *p,
                       const struct oauth_profile *prof)
{
	struct buf loc = BUF_INIT(4096), val = BUF_INIT(TOKEN_VALUE_MAX - 1);
	char token[CRYPTO_TOKEN_LEN];
	int rc;

	/* "<uid> <provider> <provider user id>" (none of them holds a space) */
	rc = buf_printf(&val, "%lld %s %s", (long long)u->user_id, p->name, prof->id);
	if (rc == 0 && strchr(prof->id, ' '))
		rc = -E_OAUTH_PROVIDER_ERROR;
	if (rc == 0)
		rc = token_put(r, "link", val.data, LINK_TTL_S, token);
	buf_release(&val);
	if (rc)
		return callback_error(r, rc);
	rc = http_add_header(r, "OAuth-Link-Token", token);
	if (rc)
		return http_send_error(r, rc, NULL);
	if (json_mode(r))
		return http_send_error(r, -E_OAUTH_EMAIL_EXISTS, NULL);
	/* the token is in the fragment; the header is for JSON mode only */
	free(take_header(r, "OAuth-Link-Token"));
	rc = buf_printf(&loc, "%s/login?error=OAUTH_EMAIL_EXISTS&email=", r->cfg->storefront_url);
	if (rc == 0)
		rc = oauth_urlencode(&loc, u->email);
	if (rc == 0)
		rc = buf_printf(&loc, "#linkToken=%s", token);
	if (rc == 0)
		rc = send_redirect(r, loc.data);
	else
		http_send_error(r, rc, NULL);
	buf_release(&loc);
	return rc;
}

int h_oauth_callback(struct req *r)
{
	const struct oauth_provider *p = provider_of(r);
	struct oauth_profile prof = {0};
	struct buf uri = BUF_INIT(1024);
	struct user u = {0};
	char verifier[TOKEN_VALUE_MAX];
	char *real_name = NULL;
	const char *code;
	int64_t uid = 0;
	int rc;

	if (!p)
		return http_send_error(r, -E_NOT_FOUND, NULL);
	rc = take_state(r, p, verifier, sizeof(verifier));
	if (rc) {
		callback_error(r, rc);
		goto out;
	}
	code = req_query(r, "code");
	if (req_query(r, "error") || !code || !*code) {
		callback_error(r, -E_OAUTH_PROVIDER_ERROR);
		rc = -E_OAUTH_PROVIDER_ERROR;
		goto out;
	}
	rc = redirect_uri(r, p, &uri);
	if (rc == 0)
		rc = oauth_login(p, code, uri.data, *verifier ? verifier : NULL, &prof);
	if (rc == 0 && (!prof.email || user_rule_email(prof.email)))
		rc = -E_OAUTH_PROVIDER_ERROR; /* no (usable) email */
	if (rc) {
		log_warn("oauth provider call failed", "provider:s", p->name);
		callback_error(r, -E_OAUTH_PROVIDER_ERROR);
		goto out;
	}

	/* 1. a linked user; 2. a local user with this email; 3. a new user */
	rc = store_oauth_find(r->w->db, p->name, prof.id, &uid);
	if (rc == 0) {
		rc = store_user_get(r->w->db, uid, &u);
	} else if (rc == -E_USER_NOT_FOUND) {
		rc = store_user_by_email(r->w->db, prof.email, &u);
		if (rc == 0 && !u.withdrawn) {
			rc = answer_link(r, &u, p, &prof);
			goto out;
		}
		if (rc == -E_USER_NOT_FOUND) {
			struct user_created created;
			real_name = real_name_of(prof.name);
			rc = store_oauth_create_user(r->w->db, prof.email, real_name, p->name,
			                             prof.id, (int64_t)clock_now(), &created);
			if (rc == 0) {
				log_info("social user created", "user:i",
				         (long long)created.user_id, "provider:s", p->name);
				rc = store_user_get(r->w->db, created.user_id, &u);
			}
		}
	}
	if (rc) {
		callback_error(r, rc);
		goto out;
	}
	if (u.withdrawn) {
		rc = -E_USER_WITHDRAWN;
		callback_error(r, rc);
		goto out;
	}
	rc = profile_complete(&u) ? answer_logged_in(r, &u) : answer_signup(r, &u);
out:
	crypto_wipe(verifier, sizeof(verifier));
	free(real_name);
	user_release(&u);
	oauth_profile_release(&prof);
	buf_release(&uri);
	return rc;
}

/* ---- POST /api/users/more-info -------------------------------------------------------------- */

static const char *rule_blank(const char *v)
{
	return !v || json_is_blank(v) ? R_BLANK : NULL;
}

typedef const char *(*field_rule)(const char *v);

struct field_spec {
	const char *key;
	field_rule rule;
	int secret; /* never echoed: rejectedValue is "" */
};

/* Every field is required; one error per invalid field, in table order. */
static void read_fields(const struct req *r, const struct field_spec *spec, size_t n,
                        const char **values, struct field_errors *fe)
{
	for (size_t i = 0; i < n; i++) {
		const char *v = NULL, *reason;
		int rc = json_get_string(r->json, spec[i].key, fe, &v);

		values[i] = NULL;
		if (rc < 0)
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

int h_user_more_info(struct req *r)
{
	static const struct field_spec spec[] = {
	    {"signupToken", rule_blank, 0},
	    {"email", user_rule_email, 0},
	    {"displayName", user_rule_display_name, 0},
	    {"city", user_rule_city, 0},
	    {"detailAddress", user_rule_detail_address, 0},
	    {"phone", user_rule_phone, 0},
	};
	const char *v[6];
	struct field_errors fe = {0};
	struct user u = {0};
	char val[TOKEN_VALUE_MAX];
	int64_t uid = 0, normal = 0, sub = 0;
	char *end;
	int rc;

	read_fields(r, spec, 6, v, &fe);
	if (fe.n)
		return http_send_field_errors(r, &fe);

	rc = token_get(r, "signup", v[0], false, val, sizeof(val));
	if (rc < 0)
		return http_send_error(r, rc, NULL);
	if (rc == 0)
		uid = strtoll(val, &end, 10);
	if (rc > 0 || uid <= 0)
		return http_send_error(r, -E_INVALID_OAUTH_TOKEN, NULL);
	rc = store_user_get(r->w->db, uid, &u);
	if (rc == -E_USER_NOT_FOUND)
		rc = -E_INVALID_OAUTH_TOKEN;
	if (rc == 0 && u.withdrawn)
		rc = -E_USER_WITHDRAWN;
	if (rc == 0 && strcasecmp(u.email, v[1]) != 0)
		rc = -E_ACCESS_DENIED_USER;
	if (rc == 0)
		rc = store_oauth_conflicts(r->w->db, uid, v[2], v[5]);
	if (rc == 0) {
		/* single use: whoever deletes the token completes the profile */
		char again[TOKEN_VALUE_MAX];
		rc = token_get(r, "signup", v[0], true, again, sizeof(again));
		if (rc > 0 || (rc == 0 && strcmp(again, val) != 0))
			rc = -E_INVALID_OAUTH_TOKEN;
	}
	if (rc == 0) {
		struct user_fields f = {
		    .display_name = v[2], .city = v[3], .detail_address = v[4], .phone = v[5]};
		rc = store_user_update(r->w->db, uid, &f, (int64_t)clock_now());
	}
	if (rc == 0)
		rc = store_oauth_carts(r->w->db, uid, &normal, &sub);
	if (rc == 0)
		rc = auth_issue_tokens(r, uid, u.email, u.admin, NULL, NULL);
	if (rc) {
		user_release(&u);
		return http_send_error(r, rc, NULL);
	}
	cJSON *data = cJSON_CreateObject();
	json_add_int(data, "userId", uid);
	json_add_int(data, "normalCartId", normal);
	json_add_int(data, "subscriptionCartId", sub);
	r->auth.uid = uid;
	log_info("social profile completed", "user:i", (long long)uid);
	user_release(&u);
	return http_send_data(r, 201, data);
}

/* ---- POST /api/users/oauth2/link ------------------------------------------------------------ */

int h_user_oauth_link(struct req *r)
{
	static const struct field_spec spec[] = {
	    {"linkToken", rule_blank, 0},
	    {"password", rule_blank, 1},
	};
	const char *v[2];
	struct field_errors fe = {0};
	struct user u = {0};
	char val[TOKEN_VALUE_MAX], provider[32] = "", puid[TOKEN_VALUE_MAX] = "";
	char acct[256], ip[128];
	long long uid = 0;
	int64_t now_ms = clock_now_ms();
	int rc;

	read_fields(r, spec, 2, v, &fe);
	if (fe.n)
		return http_send_field_errors(r, &fe);

	rc = token_get(r, "link", v[0], false, val, sizeof(val));
	if (rc < 0)
		return http_send_error(r, rc, NULL);
	if (rc > 0 || sscanf(val, "%lld %31s %511s", &uid, provider, puid) != 3 || uid <= 0)
		return http_send_error(r, -E_INVALID_OAUTH_TOKEN, NULL);
	rc = store_user_get(r->w->db, (int64_t)uid, &u);
	if (rc == -E_USER_NOT_FOUND)
		rc = -E_INVALID_OAUTH_TOKEN;
	if (rc)
		return http_send_error(r, rc, NULL);

	login_throttle_keys(r, u.email, acct, sizeof(acct), ip, sizeof(ip));
	if (login_throttle_check(r, acct, ip, now_ms)) {
		user_release(&u);
		return 0;
	}
	rc = crypto_password_verify(v[1], u.password_hash);
	if (rc) {
		int crc = login_throttle_count_failure(r, acct, ip, now_ms);
		user_release(&u);
		return http_send_error(r, crc ? crc : -E_BAD_CREDENTIALS, NULL);
	}
	if (u.withdrawn) {
		user_release(&u);
		return http_send_error(r, -E_USER_WITHDRAWN, NULL);
	}
	/* single use: consumed only by a successful link */
	char again[TOKEN_VALUE_MAX];
	rc = token_get(r, "link", v[0], true, again, sizeof(again));
	if (rc > 0 || (rc == 0 && strcmp(again, val) != 0))
		rc = -E_INVALID_OAUTH_TOKEN;
	if (rc == 0)
		rc = throttle_clear(r->w->redis, acct);
	if (rc == 0) {
		rc = store_oauth_link(r->w->db, u.user_id, provider, puid, u.email,
		                      (int64_t)clock_now());
		if (rc == -E_DB_DUPLICATE)
			rc = -E_INVALID_OAUTH_TOKEN; /* linked to another account meanwhile */
	}
	if (rc == 0)
		rc = auth_issue_tokens(r, u.user_id, u.email, u.admin, NULL, NULL);
	if (rc) {
		user_release(&u);
		return http_send_error(r, rc, NULL);
	}
	cJSON *data = cJSON_CreateObject();
	json_add_int(data, "userId", u.user_id);
	r->auth.uid = u.user_id;
	log_info("oauth identity linked", "user:i", (long long)u.user_id, "provider:s", provider);
	user_release(&u);
	return http_send_data(r, 200, data);
}
