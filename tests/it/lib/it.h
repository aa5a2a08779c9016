/*
 * it: the integration-test harness of pillivery-api. The tests are black-box: they speak HTTP
 * to the real daemon (started by tests/it/main.c against the private MariaDB and Redis of
 * tests/lib/check.sh) and assert what spec/API.md says, nothing else.
 *
 *   daemon     it_api_migrate/start/stop/restart: the binary $PV_IT_BIN_DIR/pillivery-api, its
 *              output appended to $PV_IT_VAR/api.log, its pid in $PV_IT_VAR/api.pid
 *   services   it_services("stop-redis") etc. through $PV_IT_SERVICES (tests/lib/services.sh)
 *   HTTP       it_http (libcurl, a fresh connection per request, 10 s timeouts) and it_raw (a
 *              raw socket, for requests curl cannot express); struct it_resp owns everything
 *   data       unique emails, names, phones and client addresses; it_signup, it_login
 *   tokens     it_forge_token: HS256/HS512 JWTs signed with IT_JWT_SECRET (own SHA-2 code, so
 *              the tests never share the daemon's crypto)
 *   SQL        it_db and it_sql_*: direct state checks through common/db.h
 *   asserts    it_assert_*: macros, so a failure names the test's own file and line
 *
 * Ownership: an it_resp is initialised with IT_RESP_INIT, filled by one request (a request
 * frees what it held before) and released with it_resp_free. Strings returned by it_forge_*,
 * it_sql_str and it_read_file are malloc'd and freed by the caller.
 *
 * Not thread-safe: Check runs each test in its own forked process, one at a time.
 */
#ifndef PV_TESTS_IT_H
#define PV_TESTS_IT_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <cjson/cJSON.h>

#include "common/db.h"

/* The daemon's secret and issuer (given to it by it_api_start), so tests can forge tokens. */
#define IT_JWT_SECRET   "pillivery-it-jwt-secret-0123456789-abcdefghijklmnop"
#define IT_JWT_ISSUER   "pillivery"
#define IT_ORIGIN_LOCAL "http://localhost:3000"
#define IT_ORIGIN_SHOP  "https://shop.example"
#define IT_PROFILE      "it"

/* Message texts of API.md §1.5, §3.1 and §3.3, verbatim. */
#define IT_R_BLANK          "공백일 수 없습니다"
#define IT_R_REQUIRED       "필수 값입니다"
#define IT_R_TYPE           "잘못된 파라미터 타입입니다."
#define IT_R_EMAIL_FORMAT   "올바른 이메일 형식이 아닙니다."
#define IT_R_PASSWORD       "비밀번호는 숫자+영문자+특수문자 조합으로 8자리 이상이어야 합니다."
#define IT_R_PASSWORD_PATCH "비밀번호는 숫자+영문자+특수문자 조합으로 8자리 이상 입력해 주세요!"
#define IT_R_NICK_BLANK     "닉네임은 공백일 수 없습니다."
#define IT_R_NO_SPACE       "공백이 있어서는 안됩니다."
#define IT_R_PHONE          "올바른 연락처 형식이 아닙니다."
#define IT_R_MAX30          "30자 이하여야 합니다"
#define IT_R_MAX100         "100자 이하여야 합니다"
#define IT_R_MAX200         "200자 이하여야 합니다"

/* Where an assertion was written; the it_assert_* macros pass it. */
struct it_loc {
	const char *file;
	int line;
};
#define IT_HERE ((struct it_loc){__FILE__, __LINE__})

/* ---- environment and the daemon -------------------------------------------------------------- */

/* $name, or NULL when unset or empty. */
const char *it_getenv(const char *name);
int it_api_port(void);    /* $PV_IT_API_PORT */
const char *it_var(void); /* $PV_IT_VAR */
/* Per-run random value (set once by it_init in main, inherited by every test process). */
void it_init(void);

/*
 * The daemon's environment: the runner's own plus PV_API_PORT, PV_API_BIND=127.0.0.1,
 * PV_JWT_SECRET, PV_JWT_ISSUER, PV_TRUSTED_PROXIES=127.0.0.1, PV_CORS_ALLOWED_ORIGINS,
 * PV_PROFILE=it, PV_LOG_LEVEL=info; extra ("NAME=value" to set, "NAME" to unset, NULL-
 * terminated, may be NULL) is applied last.
 */

/* Runs pillivery-api --migrate (output appended to api.log); 0 when it exits 0 within 120 s,
 * else -1 after printing why and the log tail to stderr. */
int it_api_migrate(void);
/* Starts the daemon in its own process group, writes api.pid and waits up to 20 s for
 * GET /health 200. 0, or -1 after printing why and the log tail to stderr. */
int it_api_start(void);
/*
 * SIGTERM to the daemon of api.pid, then waits up to 10 s. 0 when it is gone; -1 when it had
 * to be killed (after printing why). *exit_status (may be NULL) gets the wait status when
 * this process could reap it, else -1.
 */
int it_api_stop(int *exit_status);
/* it_api_stop (which must report a clean exit 0 when the status is known) + it_api_start. */
int it_api_restart(void);
/* true when GET /health answers 200 within 2 s. */
bool it_api_alive(void);
/* Prints the last n lines of api.log to stderr. */
void it_api_log_tail(int n);

/*
 * Starts another pillivery-api with args (NULL-terminated, without argv[0]) and extra env,
 * expected to listen on port; waits up to 20 s for /health there. Returns its pid or -1.
 */
pid_t it_api_spawn(const char *const *args, const char *const *extra_env, int port);
/* SIGTERM, wait up to timeout_ms (then SIGKILL). 0 when it exited by itself, -1 otherwise;
 * *status gets the wait status (or -1 when unknown). */
int it_proc_stop(pid_t pid, int timeout_ms, int *status);
/*
 * Runs pillivery-api with args and extra env to completion (killed after timeout_ms).
 * *status is the wait status; *output (caller frees) is stdout+stderr. Returns 0 when it
 * ended by itself, 1 when it had to be killed, -1 when it could not be started.
 */
int it_run_api(const char *const *args, const char *const *extra_env, int timeout_ms, int *status,
	       char **output);

/* Shared by the helpers of every binary the tests start (pillivery-api, pillivery-billing,
 * scripts). */
#define IT_SPAWN_APPEND          1u /* append to out_path (else truncate it) */
#define IT_SPAWN_DIE_WITH_PARENT 2u /* SIGKILL when the spawning test process ends */
/* "$PV_IT_BIN_DIR/<name>" into out. */
void it_bin_path(char *out, size_t n, const char *name);
/*
 * fork + exec of path (a name without '/' is looked up in PATH) with args (NULL-terminated,
 * without argv[0]) and the daemon environment above plus extra_env, in its own process group,
 * stdin /dev/null, stdout and stderr to out_path. Returns the pid, or -1 after printing why.
 */
pid_t it_spawn(const char *path, const char *const *args, const char *const *extra_env,
	       const char *out_path, unsigned flags);
/* it_run_api for any path (the child dies with the test process). */
int it_run(const char *path, const char *const *args, const char *const *extra_env,
	   int timeout_ms, int *status, char **output);
/* Waits up to timeout_ms for pid to end: 1 when it ended (*status: the wait status when this
 * process could reap it, else -1), 0 on timeout. */
int it_wait_end(pid_t pid, int timeout_ms, int *status);
/* "exit status N", "killed by signal N (...)" of a wait status (-1: unknown). */
void it_describe_status(char *out, size_t n, int st);

/* bash $PV_IT_SERVICES verb $PV_IT_VAR [port]: verbs stop-redis, start-redis, stop-db,
 * start-db. Returns the script's exit status (0 = done). */
int it_services(const char *verb);

/* Reads a whole file (caller frees); NULL when it cannot. */
char *it_read_file(const char *path, size_t *len);

/* ---- HTTP ------------------------------------------------------------------------------------ */

struct it_header {
	char *name;
	char *value;
};

struct it_resp {
	long status; /* 0 when the request failed (error says why) */
	struct it_header *headers;
	size_t nheaders;
	char *body; /* NUL-terminated (the NUL is not counted) */
	size_t body_len;
	cJSON *json;     /* the body parsed as JSON, NULL when it is not JSON */
	char error[256]; /* transport error */
	double seconds;  /* time taken */
};

#define IT_RESP_INIT {0}

/*
 * One HTTP/1.1 request to 127.0.0.1:$PV_IT_API_PORT. headers: "Name: value" strings,
 * NULL-terminated (may be NULL), sent as given; curl adds only Host, Accept and, for a body,
 * Content-Length (never a Content-Type of its own, never Expect). body may be NULL (POST then
 * sends Content-Length: 0; other methods send no body). Returns 0, or -1 with out->error.
 */
int it_http(const char *method, const char *path, const char *const *headers, const void *body,
	    size_t body_len, struct it_resp *out);
/* The same to another port, with a total timeout in ms. */
int it_http_to(int port, int timeout_ms, const char *method, const char *path,
	       const char *const *headers, const void *body, size_t body_len, struct it_resp *out);
/*
 * Sends raw bytes on a new connection to the daemon and reads one response (10 s timeout).
 * The request may announce a body it never sends. Returns 0, or -1 with out->error.
 */
int it_raw(const void *request, size_t len, struct it_resp *out);

/* First header named name (case-insensitive), NULL when absent. */
const char *it_resp_header(const struct it_resp *r, const char *name);
/* Number of headers whose name starts with prefix (case-insensitive). */
size_t it_resp_header_prefix_count(const struct it_resp *r, const char *prefix);
void it_resp_free(struct it_resp *r);

/*
 * Convenience request that fails the test on a transport error: method and path, a bearer
 * token (NULL: no Authorization), a JSON body (NULL: none; else sent with Content-Type:
 * application/json) and extra headers (NULL-terminated, may be NULL).
 */
void it_req_at(struct it_loc at, const char *method, const char *path, const char *token,
	       const char *json, const char *const *extra, struct it_resp *out);
#define it_req(method, path, token, json, extra, out)                                              \
	it_req_at(IT_HERE, method, path, token, json, extra, out)
#define it_get(path, token, out) it_req_at(IT_HERE, "GET", path, token, NULL, NULL, out)

/* ---- unique test data ------------------------------------------------------------------------ */

uint64_t it_seq(void); /* per-process counter, from 1 */
/* it.<nonce>.<pid>.<seq>@test.example */
void it_unique_email(char *out, size_t n);
/* prefix + pid + seq + nonce, at most 30 characters (prefix at most 8) */
void it_unique_name(char *out, size_t n, const char *prefix);
/* 8 unique digits: the subscriber part of a 010 phone number */
void it_unique_digits(char out[9]);
/* 010-XXXX-XXXX */
void it_unique_phone(char *out, size_t n);
/* A unique IPv4 address for X-Forwarded-For (so each test has its own throttle counters). */
void it_unique_ip(char *out, size_t n);
/* "X-Forwarded-For: <unique ip>" into out (size n). */
void it_xff_header(char *out, size_t n);

/* ---- users ----------------------------------------------------------------------------------- */

struct it_user {
	char email[128];
	char password[32];
	char display_name[64];
	char city[128];
	char detail_address[128];
	char real_name[64];
	char phone[32]; /* "" = absent */
	int64_t id;
	int64_t normal_cart_id;
	int64_t subscription_cart_id;
	char access[2048];
	char refresh[2048];
};

/* Fills u with valid, unique sign-up data (no request). */
void it_user_fill(struct it_user *u);
/* The sign-up body of u (every field; phone only when set). Caller frees with cJSON_Delete. */
cJSON *it_user_json(const struct it_user *u);
/* POST /api/users with u; asserts 201 and stores the ids. */
void it_signup_at(struct it_loc at, struct it_user *u);
#define it_signup(u) it_signup_at(IT_HERE, u)
/* POST /api/users/auth (no X-Forwarded-For); asserts 200 and stores the tokens. */
void it_login_at(struct it_loc at, struct it_user *u);
#define it_login(u) it_login_at(IT_HERE, u)
/* it_user_fill + it_signup + it_login. */
void it_new_user_at(struct it_loc at, struct it_user *u);
#define it_new_user(u) it_new_user_at(IT_HERE, u)
/* it_new_user, then role ADMIN in SQL, then a fresh login (so the tokens carry ADMIN). */
void it_new_admin_at(struct it_loc at, struct it_user *u);
#define it_new_admin(u) it_new_admin_at(IT_HERE, u)
/* POST /api/users/auth with username/password and extra headers; no assertion. */
void it_login_raw_at(struct it_loc at, const char *username, const char *password,
		     const char *const *extra, struct it_resp *out);
#define it_login_raw(username, password, extra, out)                                               \
	it_login_raw_at(IT_HERE, username, password, extra, out)
/* "/api/users/<id>" into out. */
void it_user_path(char *out, size_t n, int64_t id);
/* The token after "Bearer " of the Authorization response header into out; asserts it. */
void it_bearer_at(struct it_loc at, const struct it_resp *r, char *out, size_t n);

/* ---- tokens ---------------------------------------------------------------------------------- */

/*
 * A JWT "<b64url(header_json)>.<b64url(claims_json)>.<signature>": alg "HS256" or "HS512"
 * signs with key (IT_JWT_SECRET for it_forge_token); any other alg gives an empty signature.
 * The JSON texts are used byte for byte. Caller frees.
 */
char *it_forge_token(const char *alg, const char *header_json, const char *claims_json);
char *it_forge_token_key(const char *alg, const char *header_json, const char *claims_json,
			 const void *key, size_t key_len);
/* HS256 with {"alg":"HS256","typ":"JWT"} over the compact print of claims. Caller frees. */
char *it_sign_claims(const cJSON *claims);
/* The decoded header or claims of a JWT (caller frees with cJSON_Delete); NULL if malformed. */
cJSON *it_jwt_header(const char *jwt);
cJSON *it_jwt_claims(const char *jwt);
/* Exposed for the harness's own checks. */
void it_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
		    unsigned char out[32]);
void it_hmac_sha512(const void *key, size_t klen, const void *msg, size_t mlen,
		    unsigned char out[64]);
/* base64url without padding; returns malloc'd text. */
char *it_b64url(const void *data, size_t n);
int64_t it_now(void); /* Unix seconds */

/* ---- SQL ------------------------------------------------------------------------------------- */

/* This process's connection to the test database (from PV_DB_*), opened on first use. */
struct db *it_db(void);
/* Closes this process's connection (a runner-side fixture must, so the tests it forks later do
 * not inherit it). */
void it_db_close(void);
/* Runs a statement; asserts success; returns the affected rows. */
uint64_t it_sql_exec_at(struct it_loc at, const char *sql, const struct db_param *p, size_t n);
/* First column of the only row as an integer; asserts exactly one row. */
int64_t it_sql_i64_at(struct it_loc at, const char *sql, const struct db_param *p, size_t n);
/* First column of the only row as text (caller frees; NULL for SQL NULL). */
char *it_sql_str_at(struct it_loc at, const char *sql, const struct db_param *p, size_t n);
#define it_sql_exec(sql, p, n) it_sql_exec_at(IT_HERE, sql, p, n)
#define it_sql_i64(sql, p, n)  it_sql_i64_at(IT_HERE, sql, p, n)
#define it_sql_str(sql, p, n)  it_sql_str_at(IT_HERE, sql, p, n)
/* UPDATE users SET role='ADMIN' WHERE user_id=? */
void it_make_admin_at(struct it_loc at, int64_t user_id);
#define it_make_admin(id) it_make_admin_at(IT_HERE, id)

/* ---- assertions ------------------------------------------------------------------------------ */

/* The Korean message of an API.md §11 code, NULL for an unknown code. */
const char *it_error_message(const char *code);

void it_assert_status_at(struct it_loc at, const struct it_resp *r, long status);
/*
 * The error body of §1.5: the status, Content-Type application/json; charset=utf-8, exactly
 * the keys status/code/message (+ customFieldErrors only for VALIDATION_FAILED and
 * INVALID_PARAMETER_TYPE, then a non-empty array of {field, rejectedValue, reason} objects),
 * the message of §11 verbatim; 401 carries WWW-Authenticate: Bearer..., 405 Allow, 429
 * Retry-After.
 */
void it_assert_error_at(struct it_loc at, const struct it_resp *r, long status, const char *code);
/* customFieldErrors[index]; rejected NULL = not checked. */
void it_assert_field_error_at(struct it_loc at, const struct it_resp *r, int index,
			      const char *field, const char *rejected, const char *reason);
void it_assert_field_count_at(struct it_loc at, const struct it_resp *r, int n);
/* {data, createTime} exactly; JSON content type; createTime in +09:00 and within 5 min of now.
 * Returns data (borrowed). */
cJSON *it_assert_wrapper_at(struct it_loc at, const struct it_resp *r);
/* Exactly these keys (NULL-terminated list), each once. */
void it_assert_keys_at(struct it_loc at, const cJSON *obj, ...);
/* "YYYY-MM-DDTHH:MM:SS+09:00" */
void it_assert_ts_at(struct it_loc at, const char *what, const cJSON *v);
/* it_assert_ts, and within slack_s seconds of now (so the offset really is +09:00). */
void it_assert_ts_recent_at(struct it_loc at, const char *what, const cJSON *v, long slack_s);
/* A JSON integer (integral number) stored under key; returns it. */
int64_t it_json_int_at(struct it_loc at, const cJSON *obj, const char *key);
/* A JSON string under key; returns it (borrowed). */
const char *it_json_str_at(struct it_loc at, const cJSON *obj, const char *key);
/* Header present and equal (case-sensitive value) / absent. */
void it_assert_header_at(struct it_loc at, const struct it_resp *r, const char *name,
			 const char *value);
void it_assert_no_header_at(struct it_loc at, const struct it_resp *r, const char *name);
/* WWW-Authenticate is a Bearer challenge; with or without error="invalid_token". */
void it_assert_www_auth_at(struct it_loc at, const struct it_resp *r, bool invalid_token);

#define it_assert_status(r, st)      it_assert_status_at(IT_HERE, r, st)
#define it_assert_error(r, st, code) it_assert_error_at(IT_HERE, r, st, code)
#define it_assert_field_error(r, i, field, rej, reason)                                            \
	it_assert_field_error_at(IT_HERE, r, i, field, rej, reason)
#define it_assert_field_count(r, n)         it_assert_field_count_at(IT_HERE, r, n)
#define it_assert_wrapper(r)                it_assert_wrapper_at(IT_HERE, r)
#define it_assert_keys(obj, ...)            it_assert_keys_at(IT_HERE, obj, __VA_ARGS__)
#define it_assert_ts(what, v)               it_assert_ts_at(IT_HERE, what, v)
#define it_assert_ts_recent(what, v, slack) it_assert_ts_recent_at(IT_HERE, what, v, slack)
#define it_json_int(obj, key)               it_json_int_at(IT_HERE, obj, key)
#define it_json_str(obj, key)               it_json_str_at(IT_HERE, obj, key)
#define it_assert_header(r, name, value)    it_assert_header_at(IT_HERE, r, name, value)
#define it_assert_no_header(r, name)        it_assert_no_header_at(IT_HERE, r, name)
#define it_assert_www_auth(r, inv)          it_assert_www_auth_at(IT_HERE, r, inv)

/* Fails the test at `at` with a printf message (the response, when given, is appended). */
void it_fail_at(struct it_loc at, const struct it_resp *r, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));
#define it_check_at(at, r, cond, ...)                                                              \
	do {                                                                                       \
		if (!(cond))                                                                       \
			it_fail_at(at, r, __VA_ARGS__);                                            \
	} while (0)

#endif
