/*
 * 95_oauth: OAuth2 login (API.md §3.7) end to end. The suite starts its own fake provider
 * (build/.../bin/fake-oauth on $PV_IT_API_PORT+20) and a second pillivery-api on
 * $PV_IT_API_PORT+21 configured for it (kakao with PKCE, google without), sharing the test
 * database and Redis with the main daemon; both are stopped in the suite teardown.
 *
 * A login is driven the way a browser would: GET /oauth2/authorization/{p} (302 to the fake's
 * authorize URL), GET that URL (302 back to our callback with code and state), GET the
 * callback, in JSON mode (Accept: application/json) or redirect mode.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/redis.h"
#include "tests/it/lib/it.h"
#include "common/banned.h"

#define SHOP "http://shop.test"

static pid_t fake_pid = -1, api2_pid = -1;

static int fo_port(void)
{
	return it_api_port() + 20;
}

static int api2_port(void)
{
	return it_api_port() + 21;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* ---- suite fixture: the fake provider and the second daemon ------------------------------ */

static pid_t start_fake(void)
{
	char bin[512], log[512], listen[64];
	const char *dir = it_getenv("PV_IT_BIN_DIR");
	pid_t pid;

	snprintf(bin, sizeof(bin), "%s/fake-oauth", dir ? dir : ".");
	snprintf(log, sizeof(log), "%s/fakeoauth.log", it_var());
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", fo_port());
	if (access(bin, X_OK) != 0) {
		fprintf(stderr, "it: %s is not an executable (%s)\n", bin, strerror(errno));
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		sigset_t none;
		setpgid(0, 0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		setenv("PV_FAKEOAUTH_LISTEN", listen, 1);
		execl(bin, bin, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) {
		struct it_resp r = IT_RESP_INIT;
		int ok = it_http_to(fo_port(), 1000, "GET", "/__control/health", NULL, NULL, 0,
		                    &r) == 0 &&
		         r.status == 200;
		it_resp_free(&r);
		if (ok)
			return pid;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -1;
		sleep_ms(100);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

static void suite_setup(void)
{
	static char e[20][160];
	const char *env[21];
	int n = 0, fo = fo_port(), a2 = api2_port();

#define ENV(...) (snprintf(e[n], sizeof(e[n]), __VA_ARGS__), env[n] = e[n], n++)
	ENV("PV_API_PORT=%d", a2);
	ENV("PV_PUBLIC_BASE_URL=http://127.0.0.1:%d", a2);
	ENV("PV_STOREFRONT_URL=%s", SHOP);
	ENV("PV_LOGIN_MAX_FAILURES=3");
	ENV("PV_OAUTH_TIMEOUT_MS=2000");
	ENV("PV_OAUTH_CONNECT_TIMEOUT_MS=1000");
	ENV("PV_OAUTH_KAKAO_CLIENT_ID=fake-kakao-client");
	ENV("PV_OAUTH_KAKAO_CLIENT_SECRET=fake-kakao-secret");
	ENV("PV_OAUTH_KAKAO_AUTHORIZE_URL=http://127.0.0.1:%d/kakao/authorize", fo);
	ENV("PV_OAUTH_KAKAO_TOKEN_URL=http://127.0.0.1:%d/kakao/token", fo);
	ENV("PV_OAUTH_KAKAO_PROFILE_URL=http://127.0.0.1:%d/kakao/userinfo", fo);
	ENV("PV_OAUTH_KAKAO_PKCE=true");
	ENV("PV_OAUTH_GOOGLE_CLIENT_ID=fake-google-client");
	ENV("PV_OAUTH_GOOGLE_CLIENT_SECRET=fake-google-secret");
	ENV("PV_OAUTH_GOOGLE_AUTHORIZE_URL=http://127.0.0.1:%d/google/authorize", fo);
	ENV("PV_OAUTH_GOOGLE_TOKEN_URL=http://127.0.0.1:%d/google/token", fo);
	ENV("PV_OAUTH_GOOGLE_PROFILE_URL=http://127.0.0.1:%d/google/userinfo", fo);
	ENV("PV_OAUTH_GOOGLE_PKCE=false");
#undef ENV
	env[n] = NULL;
	fake_pid = start_fake();
	if (fake_pid < 0)
		fprintf(stderr, "it: oauth: the fake provider did not start\n");
	api2_pid = it_api_spawn(NULL, env, a2);
	if (api2_pid < 0)
		fprintf(stderr, "it: oauth: the second pillivery-api did not start\n");
}

static void suite_teardown(void)
{
	int st;

	if (api2_pid > 0)
		it_proc_stop(api2_pid, 10000, &st);
	if (fake_pid > 0) {
		kill(fake_pid, SIGTERM);
		for (int i = 0; i < 100 && waitpid(fake_pid, &st, WNOHANG) != fake_pid; i++)
			sleep_ms(100);
		kill(fake_pid, SIGKILL);
		waitpid(fake_pid, NULL, WNOHANG);
	}
	api2_pid = fake_pid = -1;
}

/* ---- helpers ----------------------------------------------------------------------------- */

static const char *const json_accept[] = {"Accept: application/json", NULL};

/* A request to the second daemon; json != NULL is sent with Content-Type: application/json. */
static void api2(const char *method, const char *path, const char *const *headers, const char *json,
                 struct it_resp *out)
{
	const char *h[8];
	size_t n = 0;

	for (size_t i = 0; headers && headers[i] && n < 6; i++)
		h[n++] = headers[i];
	if (json)
		h[n++] = "Content-Type: application/json";
	h[n] = NULL;
	ck_assert_msg(it_http_to(api2_port(), 15000, method, path, h, json, json ? strlen(json) : 0,
	                         out) == 0,
	              "%s %s: %s", method, path, out->error);
}

static void control(const char *json)
{
	struct it_resp r = IT_RESP_INIT;
	const char *h[] = {"Content-Type: application/json", NULL};

	ck_assert_msg(it_http_to(fo_port(), 5000, "POST", "/__control/profile", h, json,
	                         strlen(json), &r) == 0,
	              "fake control: %s", r.error);
	ck_assert_int_eq(r.status, 200);
	it_resp_free(&r);
}

/* The path (and query) of an absolute http://host:port/... URL. */
static const char *path_of(const char *url)
{
	const char *p = strstr(url, "://");
	ck_assert_ptr_nonnull(p);
	p = strchr(p + 3, '/');
	ck_assert_ptr_nonnull(p);
	return p;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c - 'a' + 10;
}

/* Query (or fragment) parameter name of url, percent-decoded into out; 0 when absent. */
static int param(const char *url, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);
	const char *p = url;

	while ((p = strpbrk(p, "?&#")) != NULL) {
		p++;
		if (strncmp(p, name, nl) || p[nl] != '=')
			continue;
		size_t k = 0;
		for (p += nl + 1; *p && *p != '&' && *p != '#' && k + 1 < n; p++) {
			if (*p == '%' && p[1] && p[2]) {
				out[k++] = (char)(hexval(p[1]) * 16 + hexval(p[2]));
				p += 2;
			} else {
				out[k++] = *p == '+' ? ' ' : *p;
			}
		}
		out[k] = '\0';
		return 1;
	}
	return 0;
}

static void unique_id(char *out, size_t n)
{
	char name[40];
	it_unique_name(name, sizeof(name), "id");
	snprintf(out, n, "%s", name);
}

/* Sets the next kakao profile (a numeric id unique to this run). */
static long long kakao_profile(const char *email, const char *nickname)
{
	static long long base;
	char json[1024];
	long long id;

	if (!base)
		base = (long long)time(NULL) * 100000 + (long long)(getpid() % 1000) * 100;
	id = base + (long long)it_seq();
	if (email)
		snprintf(json, sizeof(json),
		         "{\"provider\":\"kakao\",\"profile\":{\"id\":%lld,\"kakao_account\":{"
		         "\"email\":\"%s\",\"profile\":{\"nickname\":\"%s\"}}}}",
		         id, email, nickname);
	else
		snprintf(json, sizeof(json),
		         "{\"provider\":\"kakao\",\"profile\":{\"id\":%lld,\"kakao_account\":{"
		         "\"profile\":{\"nickname\":\"%s\"}}}}",
		         id, nickname);
	control(json);
	return id;
}

/* Sets the next google profile; sub is written into sub_out. */
static void google_profile(const char *email, bool verified, char *sub_out, size_t n)
{
	char json[1024];
	unique_id(sub_out, n);
	snprintf(json, sizeof(json),
	         "{\"provider\":\"google\",\"profile\":{\"sub\":\"%s\",\"email\":\"%s\","
	         "\"email_verified\":%s,\"name\":\"Google User\"}}",
	         sub_out, email, verified ? "true" : "false");
	control(json);
}

/* GET /oauth2/authorization/{p} on the second daemon; asserts 302 and copies Location. */
static void authorize(const char *provider, char *loc, size_t n)
{
	struct it_resp r = IT_RESP_INIT;
	char path[128];
	const char *l;

	snprintf(path, sizeof(path), "/oauth2/authorization/%s", provider);
	api2("GET", path, NULL, NULL, &r);
	it_assert_status(&r, 302);
	l = it_resp_header(&r, "Location");
	ck_assert_ptr_nonnull(l);
	snprintf(loc, n, "%s", l);
	it_resp_free(&r);
}

/* authorize + the fake's authorize: the callback path (with code and state) into cb. */
static void to_callback(const char *provider, char *cb, size_t n)
{
	struct it_resp r = IT_RESP_INIT;
	char loc[4096];
	const char *l;

	authorize(provider, loc, sizeof(loc));
	ck_assert_msg(it_http_to(fo_port(), 5000, "GET", path_of(loc), NULL, NULL, 0, &r) == 0,
	              "fake authorize: %s", r.error);
	it_assert_status(&r, 302);
	l = it_resp_header(&r, "Location");
	ck_assert_ptr_nonnull(l);
	snprintf(cb, n, "%s", path_of(l));
	it_resp_free(&r);
}

/* The whole login with the profile already set; JSON mode or redirect mode. */
static void login_flow(const char *provider, bool json, struct it_resp *out)
{
	char cb[4096];
	to_callback(provider, cb, sizeof(cb));
	api2("GET", cb, json ? json_accept : NULL, NULL, out);
}

/* JSON-mode login of a new kakao user with email: the signupToken and the user id. */
static int64_t new_social_user(const char *email, char *signup_token, size_t n)
{
	struct it_resp r = IT_RESP_INIT;
	cJSON *data;
	int64_t uid;

	kakao_profile(email, "Kim");
	login_flow("kakao", true, &r);
	it_assert_status(&r, 200);
	data = it_assert_wrapper(&r);
	uid = it_json_int(data, "userId");
	snprintf(signup_token, n, "%s", it_json_str(data, "signupToken"));
	it_resp_free(&r);
	return uid;
}

static char *more_info_json(const char *token, const char *email, const char *nick,
                            const char *phone)
{
	cJSON *o = cJSON_CreateObject();
	char *s;
	cJSON_AddStringToObject(o, "signupToken", token);
	cJSON_AddStringToObject(o, "email", email);
	cJSON_AddStringToObject(o, "displayName", nick);
	cJSON_AddStringToObject(o, "city", "서울");
	cJSON_AddStringToObject(o, "detailAddress", "압구정동 1");
	cJSON_AddStringToObject(o, "phone", phone);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

/* Completes the profile of a new social user; returns its access token in access. */
static void complete_profile(const char *token, const char *email, char *access, size_t n)
{
	struct it_resp r = IT_RESP_INIT;
	char nick[40], phone[32];
	char *body;

	it_unique_name(nick, sizeof(nick), "Soc");
	it_unique_phone(phone, sizeof(phone));
	body = more_info_json(token, email, nick, phone);
	api2("POST", "/api/users/more-info", NULL, body, &r);
	free(body);
	it_assert_status(&r, 201);
	it_bearer_at(IT_HERE, &r, access, n);
	it_resp_free(&r);
}

static bool is_token43(const char *s)
{
	size_t n = 0;
	for (; s && s[n]; n++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
		            s[n]))
			return false;
	return n == 43;
}

static struct redis *test_redis(void)
{
	const char *port = it_getenv("PV_REDIS_PORT");
	const char *prefix = it_getenv("PV_REDIS_PREFIX");
	struct redis_config c = {.host = "127.0.0.1",
	                         .port = port ? (int)strtol(port, NULL, 10) : 6379,
	                         .timeout_ms = 2000,
	                         .prefix = prefix ? prefix : "pv:"};
	struct redis *r = redis_new(&c);
	ck_assert_ptr_nonnull(r);
	return r;
}

/* ---- authorization redirect ------------------------------------------------------------- */

START_TEST(authorize_redirect_carries_state_and_pkce)
{
	char loc[4096], loc2[4096], v[512], expect[256], state[128], key[256];
	struct redis *rd;
	redisReply *reply = NULL;

	authorize("kakao", loc, sizeof(loc));
	snprintf(expect, sizeof(expect), "http://127.0.0.1:%d/kakao/authorize?", fo_port());
	ck_assert_msg(!strncmp(loc, expect, strlen(expect)), "Location %s", loc);
	ck_assert(param(loc, "response_type", v, sizeof(v)));
	ck_assert_str_eq(v, "code");
	ck_assert(param(loc, "client_id", v, sizeof(v)));
	ck_assert_str_eq(v, "fake-kakao-client");
	ck_assert(param(loc, "redirect_uri", v, sizeof(v)));
	snprintf(expect, sizeof(expect), "http://127.0.0.1:%d/login/oauth2/code/kakao",
	         api2_port());
	ck_assert_str_eq(v, expect);
	ck_assert(param(loc, "scope", v, sizeof(v)));
	ck_assert_str_eq(v, "profile_nickname account_email");
	ck_assert(param(loc, "state", state, sizeof(state)));
	ck_assert_msg(is_token43(state), "state %s is not 32 bytes base64url", state);
	ck_assert(param(loc, "code_challenge", v, sizeof(v)));
	ck_assert_msg(is_token43(v), "code_challenge %s", v);
	ck_assert(param(loc, "code_challenge_method", v, sizeof(v)));
	ck_assert_str_eq(v, "S256");

	/* kept in Redis for 10 min */
	rd = test_redis();
	snprintf(key, sizeof(key), "%soauth:state:%s", redis_prefix(rd), state);
	ck_assert_int_eq(redis_cmd(rd, &reply, "TTL %s", key), 0);
	ck_assert_int_eq(reply->type, REDIS_REPLY_INTEGER);
	ck_assert_msg(reply->integer > 590 && reply->integer <= 600, "TTL %lld", reply->integer);
	freeReplyObject(reply);
	redis_free(rd);

	/* a fresh state each time */
	authorize("kakao", loc2, sizeof(loc2));
	ck_assert(param(loc2, "state", v, sizeof(v)));
	ck_assert_str_ne(v, state);

	/* google: its scope, PKCE off here */
	authorize("google", loc, sizeof(loc));
	snprintf(expect, sizeof(expect), "http://127.0.0.1:%d/google/authorize?", fo_port());
	ck_assert_msg(!strncmp(loc, expect, strlen(expect)), "Location %s", loc);
	ck_assert(param(loc, "scope", v, sizeof(v)));
	ck_assert_str_eq(v, "openid email profile");
	ck_assert(param(loc, "client_id", v, sizeof(v)));
	ck_assert_str_eq(v, "fake-google-client");
	ck_assert(!param(loc, "code_challenge", v, sizeof(v)));
	ck_assert(!param(loc, "code_challenge_method", v, sizeof(v)));
}
END_TEST

START_TEST(unknown_or_unconfigured_provider_is_404)
{
	struct it_resp r = IT_RESP_INIT;

	api2("GET", "/oauth2/authorization/naver", NULL, NULL, &r);
	it_assert_error(&r, 404, "NOT_FOUND");
	api2("GET", "/login/oauth2/code/naver?code=a&state=b", json_accept, NULL, &r);
	it_assert_error(&r, 404, "NOT_FOUND");
	/* the main daemon has no client ids: both providers are unconfigured there */
	it_get("/oauth2/authorization/kakao", NULL, &r);
	it_assert_error(&r, 404, "NOT_FOUND");
	it_get("/oauth2/authorization/google", NULL, &r);
	it_assert_error(&r, 404, "NOT_FOUND");
	it_get("/login/oauth2/code/kakao?code=a&state=b", NULL, &r);
	it_assert_error(&r, 404, "NOT_FOUND");
	it_resp_free(&r);
}
END_TEST

/* ---- new users --------------------------------------------------------------------------- */

START_TEST(new_user_json_mode_gets_signup_token)
{
	struct it_resp r = IT_RESP_INIT;
	char email[128];
	cJSON *data;
	int64_t uid;

	it_unique_email(email, sizeof(email));
	kakao_profile(email, "홍 길\\t동");
	login_flow("kakao", true, &r);
	it_assert_status(&r, 200);
	it_assert_no_header(&r, "Authorization");
	it_assert_no_header(&r, "Refresh");
	data = it_assert_wrapper(&r);
	it_assert_keys(data, "userId", "email", "profileComplete", "signupToken", NULL);
	uid = it_json_int(data, "userId");
	ck_assert_str_eq(it_json_str(data, "email"), email);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(data, "profileComplete")));
	ck_assert(is_token43(it_json_str(data, "signupToken")));

	/* the account: realName without whitespace, no password, social, two carts */
	struct db_param p = DB_I64(uid);
	char *rn = it_sql_str("SELECT real_name FROM users WHERE user_id = ?", &p, 1);
	ck_assert_str_eq(rn, "홍길동");
	free(rn);
	ck_assert_int_eq(it_sql_i64("SELECT COUNT(*) FROM users WHERE user_id = ? AND password_hash"
	                            " IS NULL AND display_name IS NULL AND city IS NULL AND"
	                            " detail_address IS NULL AND phone IS NULL AND role = 'USER'",
	                            &p, 1),
	                 1);
	ck_assert_int_eq(it_sql_i64("SELECT COUNT(*) FROM carts WHERE user_id = ?", &p, 1), 2);
	ck_assert_int_eq(
	    it_sql_i64("SELECT COUNT(*) FROM user_oauth WHERE user_id = ? AND provider = 'kakao'",
	               &p, 1),
	    1);
	it_resp_free(&r);
}
END_TEST

START_TEST(new_user_redirect_mode_goes_to_signup)
{
	struct it_resp r = IT_RESP_INIT;
	char email[128], sub[64], expect[512], v[256];
	const char *loc;
	int64_t uid;

	it_unique_email(email, sizeof(email));
	google_profile(email, true, sub, sizeof(sub));
	login_flow("google", false, &r);
	it_assert_status(&r, 302);
	it_assert_no_header(&r, "Authorization");
	loc = it_resp_header(&r, "Location");
	ck_assert_ptr_nonnull(loc);
	struct db_param p = DB_STR(email);
	uid = it_sql_i64("SELECT user_id FROM users WHERE email = ?", &p, 1);
	ck_assert(param(loc, "signupToken", v, sizeof(v)));
	ck_assert(is_token43(v));
	snprintf(expect, sizeof(expect), SHOP "/signup?email=%s&userId=%lld#signupToken=%s", email,
	         (long long)uid, v);
	/* the email's '@' is percent-encoded */
	char *at = strchr(expect, '@');
	ck_assert_ptr_nonnull(at);
	char enc[512];
	snprintf(enc, sizeof(enc), "%.*s%%40%s", (int)(at - expect), expect, at + 1);
	ck_assert_str_eq(loc, enc);
	struct db_param q = DB_I64(uid);
	char *rn = it_sql_str("SELECT real_name FROM users WHERE user_id = ?", &q, 1);
	ck_assert_str_eq(rn, "GoogleUser");
	free(rn);
	it_resp_free(&r);
}
END_TEST

START_TEST(more_info_completes_profile_once_then_login_is_direct)
{
	struct it_resp r = IT_RESP_INIT;
	char email[128], token[64], nick[40], phone[32], access[2048], path[64], v[2048];
	char *body;
	cJSON *data;
	int64_t uid;
	long long kid;

	it_unique_email(email, sizeof(email));
	kid = kakao_profile(email, "Kim");
	login_flow("kakao", true, &r);
	it_assert_status(&r, 200);
	data = it_assert_wrapper(&r);
	uid = it_json_int(data, "userId");
	snprintf(token, sizeof(token), "%s", it_json_str(data, "signupToken"));

	it_unique_name(nick, sizeof(nick), "Soc");
	it_unique_phone(phone, sizeof(phone));
	body = more_info_json(token, email, nick, phone);
	api2("POST", "/api/users/more-info", NULL, body, &r);
	it_assert_status(&r, 201);
	data = it_assert_wrapper(&r);
	it_assert_keys(data, "userId", "normalCartId", "subscriptionCartId", NULL);
	ck_assert_int_eq(it_json_int(data, "userId"), uid);
	struct db_param p[2] = {DB_I64(uid), DB_STR("NORMAL")};
	ck_assert_int_eq(
	    it_json_int(data, "normalCartId"),
	    it_sql_i64("SELECT cart_id FROM carts WHERE user_id = ? AND kind = ?", p, 2));
	p[1] = DB_STR("SUBSCRIPTION");
	ck_assert_int_eq(
	    it_json_int(data, "subscriptionCartId"),
	    it_sql_i64("SELECT cart_id FROM carts WHERE user_id = ? AND kind = ?", p, 2));
	ck_assert_int_eq(it_sql_i64("SELECT COUNT(*) FROM carts WHERE user_id = ?", p, 1), 2);
	snprintf(v, sizeof(v), "%lld", (long long)uid);
	it_assert_header(&r, "userId", v);
	ck_assert_ptr_nonnull(it_resp_header(&r, "Refresh"));
	it_bearer_at(IT_HERE, &r, access, sizeof(access));

	/* the tokens work; the profile is stored */
	it_user_path(path, sizeof(path), uid);
	it_get(path, access, &r);
	it_assert_status(&r, 200);
	data = it_assert_wrapper(&r);
	ck_assert_str_eq(it_json_str(data, "displayName"), nick);
	ck_assert_str_eq(it_json_str(data, "phone"), phone);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(data, "social")));

	/* single use */
	api2("POST", "/api/users/more-info", NULL, body, &r);
	it_assert_error(&r, 401, "INVALID_OAUTH_TOKEN");
	free(body);

	/* the linked user now logs in directly: JSON mode */
	char json[512];
	snprintf(json, sizeof(json),
	         "{\"provider\":\"kakao\",\"profile\":{\"id\":%lld,\"kakao_account\":{\"email\":"
	         "\"%s\",\"profile\":{\"nickname\":\"Kim\"}}}}",
	         kid, email);
	control(json);
	login_flow("kakao", true, &r);
	it_assert_status(&r, 200);
	data = it_assert_wrapper(&r);
	it_assert_keys(data, "userId", "profileComplete", NULL);
	ck_assert_int_eq(it_json_int(data, "userId"), uid);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(data, "profileComplete")));
	it_bearer_at(IT_HERE, &r, access, sizeof(access));
	ck_assert_ptr_nonnull(it_resp_header(&r, "Refresh"));

	/* and in redirect mode: the tokens in the fragment, none in headers */
	control(json);
	login_flow("kakao", false, &r);
	it_assert_status(&r, 302);
	it_assert_no_header(&r, "Authorization");
	it_assert_no_header(&r, "Refresh");
	const char *loc = it_resp_header(&r, "Location");
	ck_assert_ptr_nonnull(loc);
	ck_assert_msg(!strncmp(loc, SHOP "/#access_token=", strlen(SHOP "/#access_token=")),
	              "Location %s", loc);
	ck_assert(param(loc, "refresh_token", v, sizeof(v)));
	ck_assert(param(loc, "userId", v, sizeof(v)));
	ck_assert_int_eq(strtoll(v, NULL, 10), uid);
	ck_assert(param(loc, "access_token", v, sizeof(v)));
	it_get(path, v, &r);
	it_assert_status(&r, 200);
	it_resp_free(&r);
}
END_TEST

START_TEST(more_info_checks_in_order)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user other;
	char email[128], token[64], nick[40], phone[32], access[2048];
	char *body;

	/* 400: every field, in table order */
	api2("POST", "/api/users/more-info", NULL, "{\"phone\":\"02-1\"}", &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 6);
	it_assert_field_error(&r, 0, "signupToken", "", IT_R_BLANK);
	it_assert_field_error(&r, 1, "email", "", IT_R_BLANK);
	it_assert_field_error(&r, 2, "displayName", "", IT_R_NICK_BLANK);
	it_assert_field_error(&r, 3, "city", "", IT_R_BLANK);
	it_assert_field_error(&r, 4, "detailAddress", "", IT_R_BLANK);
	it_assert_field_error(&r, 5, "phone", "02-1", IT_R_PHONE);

	it_unique_email(email, sizeof(email));
	new_social_user(email, token, sizeof(token));
	it_unique_name(nick, sizeof(nick), "Soc");
	it_unique_phone(phone, sizeof(phone));

	/* 401: unknown token (validation passes) */
	body = more_info_json("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", email, nick, phone);
	api2("POST", "/api/users/more-info", NULL, body, &r);
	free(body);
	it_assert_error(&r, 401, "INVALID_OAUTH_TOKEN");

	/* 403: another email */
	body = more_info_json(token, "someone.else@test.example", nick, phone);
	api2("POST", "/api/users/more-info", NULL, body, &r);
	free(body);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");

	/* 409: display name first, then phone */
	it_new_user(&other);
	body = more_info_json(token, email, other.display_name, other.phone);
	api2("POST", "/api/users/more-info", NULL, body, &r);
	free(body);
	it_assert_error(&r, 409, "EXIST_DISPLAY_NAME");
	body = more_info_json(token, email, nick, other.phone);
	api2("POST", "/api/users/more-info", NULL, body, &r);
	free(body);
	it_assert_error(&r, 409, "EXIST_PHONE_NUMBER");

	/* failures do not consume the token */
	complete_profile(token, email, access, sizeof(access));
	it_resp_free(&r);
}
END_TEST

/* ---- existing local email and linking -------------------------------------------------- */

/* A local user and a kakao login with its email (JSON mode): the link token. */
static void link_token_for(struct it_user *u, char *token, size_t n)
{
	struct it_resp r = IT_RESP_INIT;
	const char *h;

	kakao_profile(u->email, "Local");
	login_flow("kakao", true, &r);
	it_assert_error(&r, 409, "OAUTH_EMAIL_EXISTS");
	h = it_resp_header(&r, "OAuth-Link-Token");
	ck_assert_ptr_nonnull(h);
	ck_assert(is_token43(h));
	snprintf(token, n, "%s", h);
	it_resp_free(&r);
}

static char *link_json(const char *token, const char *password)
{
	cJSON *o = cJSON_CreateObject();
	char *s;
	cJSON_AddStringToObject(o, "linkToken", token);
	cJSON_AddStringToObject(o, "password", password);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

START_TEST(email_exists_then_link_with_password)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	char token[64], access[2048], path[64], v[32];
	char *body;
	cJSON *data;

	it_new_user(&u);
	link_token_for(&u, token, sizeof(token));
	body = link_json(token, u.password);
	api2("POST", "/api/users/oauth2/link", NULL, body, &r);
	it_assert_status(&r, 200);
	data = it_assert_wrapper(&r);
	it_assert_keys(data, "userId", NULL);
	ck_assert_int_eq(it_json_int(data, "userId"), u.id);
	snprintf(v, sizeof(v), "%lld", (long long)u.id);
	it_assert_header(&r, "userId", v);
	ck_assert_ptr_nonnull(it_resp_header(&r, "Refresh"));
	it_bearer_at(IT_HERE, &r, access, sizeof(access));
	it_user_path(path, sizeof(path), u.id);
	it_get(path, access, &r);
	it_assert_status(&r, 200);
	data = it_assert_wrapper(&r);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(data, "social")));

	/* single use */
	api2("POST", "/api/users/oauth2/link", NULL, body, &r);
	it_assert_error(&r, 401, "INVALID_OAUTH_TOKEN");
	free(body);
	it_resp_free(&r);
}
END_TEST

START_TEST(email_exists_redirect_mode)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	char v[128], expect[512];
	const char *loc, *at;

	it_new_user(&u);
	kakao_profile(u.email, "Local");
	login_flow("kakao", false, &r);
	it_assert_status(&r, 302);
	loc = it_resp_header(&r, "Location");
	ck_assert_ptr_nonnull(loc);
	ck_assert(param(loc, "linkToken", v, sizeof(v)));
	ck_assert(is_token43(v));
	at = strchr(u.email, '@');
	snprintf(expect, sizeof(expect),
	         SHOP "/login?error=OAUTH_EMAIL_EXISTS&email=%.*s%%40%s#linkToken=%s",
	         (int)(at - u.email), u.email, at + 1, v);
	ck_assert_str_eq(loc, expect);
	it_resp_free(&r);
}
END_TEST

START_TEST(link_wrong_password_counts_toward_throttle)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	char token[64], xff[96];
	const char *h[] = {xff, NULL};
	char *bad, *good;

	it_xff_header(xff, sizeof(xff));
	it_new_user(&u);
	link_token_for(&u, token, sizeof(token));
	bad = link_json(token, "Wrong-pass1!");
	good = link_json(token, u.password);
	for (int i = 0; i < 3; i++) {
		api2("POST", "/api/users/oauth2/link", h, bad, &r);
		it_assert_error(&r, 401, "BAD_CREDENTIALS");
	}
	/* PV_LOGIN_MAX_FAILURES=3 on this daemon: now throttled, even with the right password */
	api2("POST", "/api/users/oauth2/link", h, good, &r);
	it_assert_error(&r, 429, "TOO_MANY_LOGIN_ATTEMPTS");
	/* the same counters as the password login */
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "username", u.email);
	cJSON_AddStringToObject(o, "password", u.password);
	char *login = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	api2("POST", "/api/users/auth", NULL, login, &r);
	it_assert_error(&r, 429, "TOO_MANY_LOGIN_ATTEMPTS");
	free(login);
	free(bad);
	free(good);
	it_resp_free(&r);
}
END_TEST

START_TEST(link_validation_and_unknown_token)
{
	struct it_resp r = IT_RESP_INIT;
	char *body;

	api2("POST", "/api/users/oauth2/link", NULL, "{\"linkToken\":\" \",\"password\":\"\"}", &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 2);
	it_assert_field_error(&r, 0, "linkToken", " ", IT_R_BLANK);
	it_assert_field_error(&r, 1, "password", "", IT_R_BLANK);
	body = link_json("not-a-token", "Secret12!");
	api2("POST", "/api/users/oauth2/link", NULL, body, &r);
	free(body);
	it_assert_error(&r, 401, "INVALID_OAUTH_TOKEN");
	it_resp_free(&r);
}
END_TEST

START_TEST(link_withdrawn_user)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	char token[64], path[64];
	char *body;

	it_new_user(&u);
	link_token_for(&u, token, sizeof(token));
	it_user_path(path, sizeof(path), u.id);
	it_req("DELETE", path, u.access, NULL, NULL, &r);
	it_assert_status(&r, 200);
	body = link_json(token, u.password);
	api2("POST", "/api/users/oauth2/link", NULL, body, &r);
	free(body);
	it_assert_error(&r, 401, "USER_WITHDRAWN");
	it_resp_free(&r);
}
END_TEST

/* ---- state, provider errors, withdrawn -------------------------------------------------- */

START_TEST(state_invalid_reused_or_expired)
{
	struct it_resp r = IT_RESP_INIT;
	char cb[4096], email[128], path[256], state[128], key[256];
	struct redis *rd;

	/* unknown state: both modes */
	api2("GET",
	     "/login/oauth2/code/kakao?code=x&state=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	     json_accept, NULL, &r);
	it_assert_error(&r, 400, "OAUTH_STATE_INVALID");
	api2("GET", "/login/oauth2/code/kakao?code=x&state=nope", NULL, NULL, &r);
	it_assert_status(&r, 302);
	it_assert_header(&r, "Location", SHOP "/login?error=OAUTH_STATE_INVALID");
	api2("GET", "/login/oauth2/code/kakao?code=x", json_accept, NULL, &r);
	it_assert_error(&r, 400, "OAUTH_STATE_INVALID");

	/* reused */
	it_unique_email(email, sizeof(email));
	kakao_profile(email, "Kim");
	to_callback("kakao", cb, sizeof(cb));
	api2("GET", cb, json_accept, NULL, &r);
	it_assert_status(&r, 200);
	api2("GET", cb, json_accept, NULL, &r);
	it_assert_error(&r, 400, "OAUTH_STATE_INVALID");

	/* issued for google, presented to kakao */
	to_callback("google", cb, sizeof(cb));
	ck_assert(param(cb, "state", state, sizeof(state)));
	snprintf(path, sizeof(path), "/login/oauth2/code/kakao?code=x&state=%s", state);
	api2("GET", path, json_accept, NULL, &r);
	it_assert_error(&r, 400, "OAUTH_STATE_INVALID");

	/* expired: shorten its life in Redis */
	to_callback("kakao", cb, sizeof(cb));
	ck_assert(param(cb, "state", state, sizeof(state)));
	rd = test_redis();
	snprintf(key, sizeof(key), "%soauth:state:%s", redis_prefix(rd), state);
	ck_assert_int_eq(redis_cmd(rd, NULL, "PEXPIRE %s 1", key), 0);
	redis_free(rd);
	sleep_ms(50);
	api2("GET", cb, json_accept, NULL, &r);
	it_assert_error(&r, 400, "OAUTH_STATE_INVALID");
	it_resp_free(&r);
}
END_TEST

START_TEST(provider_refused_no_email_or_timeout)
{
	struct it_resp r = IT_RESP_INIT;
	char cb[4096], sub[64], email[128];

	/* the user refused at the provider */
	control("{\"provider\":\"kakao\",\"error\":\"access_denied\"}");
	to_callback("kakao", cb, sizeof(cb));
	ck_assert_msg(strstr(cb, "error=access_denied") != NULL, "callback %s", cb);
	api2("GET", cb, json_accept, NULL, &r);
	it_assert_error(&r, 502, "OAUTH_PROVIDER_ERROR");
	control("{\"provider\":\"kakao\",\"error\":\"access_denied\"}");
	login_flow("kakao", false, &r);
	it_assert_status(&r, 302);
	it_assert_header(&r, "Location", SHOP "/login?error=OAUTH_PROVIDER_ERROR");

	/* no email (kakao), unverified email (google) */
	kakao_profile(NULL, "Kim");
	login_flow("kakao", true, &r);
	it_assert_error(&r, 502, "OAUTH_PROVIDER_ERROR");
	it_unique_email(email, sizeof(email));
	google_profile(email, false, sub, sizeof(sub));
	login_flow("google", true, &r);
	it_assert_error(&r, 502, "OAUTH_PROVIDER_ERROR");
	struct db_param p = DB_STR(email);
	ck_assert_int_eq(it_sql_i64("SELECT COUNT(*) FROM users WHERE email = ?", &p, 1), 0);

	/* token endpoint failing, then hanging past PV_OAUTH_TIMEOUT_MS=2000 */
	control("{\"provider\":\"google\",\"status\":500}");
	login_flow("google", true, &r);
	it_assert_error(&r, 502, "OAUTH_PROVIDER_ERROR");
	control("{\"provider\":\"google\",\"hang\":\"token\"}");
	login_flow("google", true, &r);
	it_assert_error(&r, 502, "OAUTH_PROVIDER_ERROR");
	ck_assert_msg(r.seconds >= 1.5 && r.seconds < 6.0, "timeout took %.1f s", r.seconds);
	control("{\"provider\":\"kakao\",\"hang\":\"userinfo\"}");
	login_flow("kakao", false, &r);
	it_assert_status(&r, 302);
	it_assert_header(&r, "Location", SHOP "/login?error=OAUTH_PROVIDER_ERROR");
	it_resp_free(&r);
}
END_TEST

START_TEST(withdrawn_user_is_refused)
{
	struct it_resp r = IT_RESP_INIT;
	char email[128], token[64], access[2048], path[64], json[512];
	int64_t uid;
	long long kid;

	it_unique_email(email, sizeof(email));
	kid = kakao_profile(email, "Kim");
	login_flow("kakao", true, &r);
	it_assert_status(&r, 200);
	uid = it_json_int(it_assert_wrapper(&r), "userId");
	snprintf(token, sizeof(token), "%s", it_json_str(it_assert_wrapper(&r), "signupToken"));
	complete_profile(token, email, access, sizeof(access));
	it_user_path(path, sizeof(path), uid);
	it_req("DELETE", path, access, NULL, NULL, &r);
	it_assert_status(&r, 200);

	snprintf(json, sizeof(json),
	         "{\"provider\":\"kakao\",\"profile\":{\"id\":%lld,\"kakao_account\":{\"email\":"
	         "\"%s\",\"profile\":{\"nickname\":\"Kim\"}}}}",
	         kid, email);
	control(json);
	login_flow("kakao", true, &r);
	it_assert_error(&r, 401, "USER_WITHDRAWN");
	control(json);
	login_flow("kakao", false, &r);
	it_assert_status(&r, 302);
	it_assert_header(&r, "Location", SHOP "/login?error=USER_WITHDRAWN");
	it_resp_free(&r);
}
END_TEST

/* ---- the fake provider itself ---------------------------------------------------------- */

static void fake_token(const char *form, struct it_resp *out)
{
	const char *h[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
	ck_assert_msg(
	    it_http_to(fo_port(), 5000, "POST", "/kakao/token", h, form, strlen(form), out) == 0,
	    "fake token: %s", out->error);
}

START_TEST(fake_provider_checks_client_redirect_and_pkce)
{
	struct it_resp r = IT_RESP_INIT;
	char code[128], form[1024];
	const char *verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

	/* wrong client id at authorize */
	ck_assert_int_eq(it_http_to(fo_port(), 5000, "GET",
	                            "/kakao/authorize?response_type=code&client_id=nope"
	                            "&redirect_uri=http%3A%2F%2Fx%2Fcb&state=s",
	                            NULL, NULL, 0, &r),
	                 0);
	ck_assert_int_eq(r.status, 401);
	/* RFC 7636 appendix B pair */
	ck_assert_int_eq(
	    it_http_to(fo_port(), 5000, "GET",
	               "/kakao/authorize?response_type=code&client_id=fake-kakao-client"
	               "&redirect_uri=http%3A%2F%2Fx%2Fcb&state=s%2B1"
	               "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	               "&code_challenge_method=S256",
	               NULL, NULL, 0, &r),
	    0);
	ck_assert_int_eq(r.status, 302);
	ck_assert_ptr_nonnull(it_resp_header(&r, "Location"));
	ck_assert_msg(!strncmp(it_resp_header(&r, "Location"), "http://x/cb?code=", 17), "%s",
	              it_resp_header(&r, "Location"));
	ck_assert(param(it_resp_header(&r, "Location"), "code", code, sizeof(code)));
	ck_assert(param(it_resp_header(&r, "Location"), "state", form, sizeof(form)));
	ck_assert_str_eq(form, "s+1");

	snprintf(form, sizeof(form),
	         "grant_type=authorization_code&client_id=fake-kakao-client&client_secret=bad"
	         "&redirect_uri=http%%3A%%2F%%2Fx%%2Fcb&code=%s&code_verifier=%s",
	         code, verifier);
	fake_token(form, &r);
	ck_assert_int_eq(r.status, 401); /* wrong secret */
	snprintf(form, sizeof(form),
	         "grant_type=authorization_code&client_id=fake-kakao-client"
	         "&client_secret=fake-kakao-secret&redirect_uri=http%%3A%%2F%%2Fy%%2Fcb&code=%s"
	         "&code_verifier=%s",
	         code, verifier);
	fake_token(form, &r);
	ck_assert_int_eq(r.status, 400); /* another redirect_uri */
	snprintf(form, sizeof(form),
	         "grant_type=authorization_code&client_id=fake-kakao-client"
	         "&client_secret=fake-kakao-secret&redirect_uri=http%%3A%%2F%%2Fx%%2Fcb&code=%s"
	         "&code_verifier=dBjftJeZ4CVP-mJ92IjDZ2Yyn8VHqqsHMIe5TkQUVCc",
	         code);
	fake_token(form, &r);
	ck_assert_int_eq(r.status, 400); /* wrong verifier */
	snprintf(form, sizeof(form),
	         "grant_type=authorization_code&client_id=fake-kakao-client"
	         "&client_secret=fake-kakao-secret&redirect_uri=http%%3A%%2F%%2Fx%%2Fcb&code=%s"
	         "&code_verifier=%s",
	         code, verifier);
	fake_token(form, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(r.json);
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(r.json, "access_token"));
	fake_token(form, &r);
	ck_assert_int_eq(r.status, 400); /* a code is single use */
	it_resp_free(&r);
}
END_TEST

Suite *oauth_login_suite(void)
{
	Suite *s = suite_create("oauth_login");
	TCase *tc = tcase_create("oauth");

	tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, authorize_redirect_carries_state_and_pkce);
	tcase_add_test(tc, unknown_or_unconfigured_provider_is_404);
	tcase_add_test(tc, new_user_json_mode_gets_signup_token);
	tcase_add_test(tc, new_user_redirect_mode_goes_to_signup);
	tcase_add_test(tc, more_info_completes_profile_once_then_login_is_direct);
	tcase_add_test(tc, more_info_checks_in_order);
	tcase_add_test(tc, email_exists_then_link_with_password);
	tcase_add_test(tc, email_exists_redirect_mode);
	tcase_add_test(tc, link_wrong_password_counts_toward_throttle);
	tcase_add_test(tc, link_validation_and_unknown_token);
	tcase_add_test(tc, link_withdrawn_user);
	tcase_add_test(tc, state_invalid_reused_or_expired);
	tcase_add_test(tc, provider_refused_no_email_or_timeout);
	tcase_add_test(tc, withdrawn_user_is_refused);
	tcase_add_test(tc, fake_provider_checks_client_redirect_and_pkce);
	suite_add_tcase(s, tc);
	return s;
}
