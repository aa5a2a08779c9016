/* data: unique test data, users, logins and direct SQL, see it.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "tests/it/lib/it.h"
#include "common/banned.h"

static uint32_t run_nonce;
static uint64_t counter;

void it_init(void)
{
	uint32_t v = 0;
	while (v == 0)
		if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
			v = (uint32_t)getpid() * 2654435761u;
	run_nonce = v;
}

static uint32_t nonce(void)
{
	if (!run_nonce)
		it_init();
	return run_nonce;
}

uint64_t it_seq(void)
{
	return ++counter;
}

void it_unique_email(char *out, size_t n)
{
	snprintf(out, n, "it.%06x.%ld.%llu@test.example", nonce() & 0xffffff, (long)getpid(),
		 (unsigned long long)it_seq());
}

void it_unique_name(char *out, size_t n, const char *prefix)
{
	/* at most 8 + 7 + 1 + 5 + 1 + 4 = 26 characters */
	snprintf(out, n, "%.8s%ld_%llu_%04x", prefix, (long)getpid(),
		 (unsigned long long)(it_seq() % 100000), nonce() & 0xffff);
}

void it_unique_digits(char out[9])
{
	/* Distinct (pid, seq) pairs of one run never meet: pids of a run are close together. */
	uint64_t v =
	    ((uint64_t)nonce() + (uint64_t)getpid() * 1000u + it_seq() % 1000u) % 100000000u;
	snprintf(out, 9, "%08llu", (unsigned long long)v);
}

void it_unique_phone(char *out, size_t n)
{
	char d[9];
	it_unique_digits(d);
	snprintf(out, n, "010-%.4s-%.4s", d, d + 4);
}

void it_unique_ip(char *out, size_t n)
{
	/* 30 bits, pid above 14 bits of the counter: 64.0.0.0 - 127.255.255.255 */
	uint32_t v = (((uint32_t)getpid() << 14) | (uint32_t)(it_seq() & 0x3fff)) & 0x3fffffff;
	snprintf(out, n, "%u.%u.%u.%u", 64 + (v >> 24), (v >> 16) & 255, (v >> 8) & 255, v & 255);
}

void it_xff_header(char *out, size_t n)
{
	char ip[32];
	it_unique_ip(ip, sizeof(ip));
	snprintf(out, n, "X-Forwarded-For: %s", ip);
}

/* ---- users ----------------------------------------------------------------------------------- */

void it_user_fill(struct it_user *u)
{
	memset(u, 0, sizeof(*u));
	it_unique_email(u->email, sizeof(u->email));
	snprintf(u->password, sizeof(u->password), "Secret12!%02llu",
		 (unsigned long long)(it_seq() % 100));
	it_unique_name(u->display_name, sizeof(u->display_name), "Nick");
	snprintf(u->city, sizeof(u->city), "서울");
	snprintf(u->detail_address, sizeof(u->detail_address), "압구정동 %llu",
		 (unsigned long long)it_seq());
	snprintf(u->real_name, sizeof(u->real_name), "홍길동");
	it_unique_phone(u->phone, sizeof(u->phone));
}

cJSON *it_user_json(const struct it_user *u)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "email", u->email);
	cJSON_AddStringToObject(o, "password", u->password);
	cJSON_AddStringToObject(o, "displayName", u->display_name);
	cJSON_AddStringToObject(o, "city", u->city);
	cJSON_AddStringToObject(o, "detailAddress", u->detail_address);
	cJSON_AddStringToObject(o, "realName", u->real_name);
	if (u->phone[0])
		cJSON_AddStringToObject(o, "phone", u->phone);
	return o;
}

void it_user_path(char *out, size_t n, int64_t id)
{
	snprintf(out, n, "/api/users/%lld", (long long)id);
}

void it_signup_at(struct it_loc at, struct it_user *u)
{
	struct it_resp r = IT_RESP_INIT;
	cJSON *body = it_user_json(u), *data;
	char *text = body ? cJSON_PrintUnformatted(body) : NULL;

	it_check_at(at, NULL, text != NULL, "out of memory");
	it_req_at(at, "POST", "/api/users", NULL, text, NULL, &r);
	it_check_at(at, &r, r.status == 201, "sign-up of %s: expected 201, got %ld", u->email,
		    r.status);
	data = it_assert_wrapper_at(at, &r);
	u->id = it_json_int_at(at, data, "userId");
	u->normal_cart_id = it_json_int_at(at, data, "normalCartId");
	u->subscription_cart_id = it_json_int_at(at, data, "subscriptionCartId");
	it_resp_free(&r);
	free(text);
	cJSON_Delete(body);
}

void it_login_raw_at(struct it_loc at, const char *username, const char *password,
		     const char *const *extra, struct it_resp *out)
{
	cJSON *o = cJSON_CreateObject();
	char *text;

	it_check_at(at, NULL, o != NULL, "out of memory");
	cJSON_AddStringToObject(o, "username", username);
	cJSON_AddStringToObject(o, "password", password);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	it_check_at(at, NULL, text != NULL, "out of memory");
	it_req_at(at, "POST", "/api/users/auth", NULL, text, extra, out);
	free(text);
}

void it_bearer_at(struct it_loc at, const struct it_resp *r, char *out, size_t n)
{
	const char *h = it_resp_header(r, "Authorization");
	it_check_at(at, r, h != NULL, "no Authorization response header");
	it_check_at(at, r, strncmp(h, "Bearer ", 7) == 0 && h[7],
		    "Authorization header is not \"Bearer <token>\": \"%s\"", h);
	it_check_at(at, r, strlen(h + 7) < n, "token too long");
	snprintf(out, n, "%s", h + 7);
}

void it_login_at(struct it_loc at, struct it_user *u)
{
	struct it_resp r = IT_RESP_INIT;
	const char *refresh;

	it_login_raw_at(at, u->email, u->password, NULL, &r);
	it_check_at(at, &r, r.status == 200, "login of %s: expected 200, got %ld", u->email,
		    r.status);
	it_bearer_at(at, &r, u->access, sizeof(u->access));
	refresh = it_resp_header(&r, "Refresh");
	it_check_at(at, &r, refresh && *refresh && strlen(refresh) < sizeof(u->refresh),
		    "no usable Refresh response header");
	snprintf(u->refresh, sizeof(u->refresh), "%s", refresh);
	it_resp_free(&r);
}

void it_new_user_at(struct it_loc at, struct it_user *u)
{
	it_user_fill(u);
	it_signup_at(at, u);
	it_login_at(at, u);
}

void it_new_admin_at(struct it_loc at, struct it_user *u)
{
	it_user_fill(u);
	it_signup_at(at, u);
	it_make_admin_at(at, u->id);
	it_login_at(at, u);
}

/* ---- SQL ------------------------------------------------------------------------------------- */

static struct db *conn;
static pid_t conn_pid;
/* The parent's handle, kept reachable in a child (a runner-side fixture may open one before
 * the tests fork): never used, never freed here, and not a leak. */
static struct db *volatile inherited; /* volatile: the store must not be optimised away */

struct db *it_db(void)
{
	/* A handle inherited through fork belongs to the parent: never touch it, open our own. */
	if (conn && conn_pid != getpid()) {
		inherited = conn;
		conn = NULL;
	}
	if (!conn) {
		const char *port = it_getenv("PV_DB_PORT");
		struct db_config cfg = {
		    .host = it_getenv("PV_DB_HOST") ? it_getenv("PV_DB_HOST") : "127.0.0.1",
		    .port = port ? (int)strtol(port, NULL, 10) : 3308,
		    .socket = it_getenv("PV_DB_SOCKET"),
		    .user = it_getenv("PV_DB_USER") ? it_getenv("PV_DB_USER") : "pillivery",
		    .password = getenv("PV_DB_PASSWORD") ? getenv("PV_DB_PASSWORD") : "pillivery",
		    .database = it_getenv("PV_DB_NAME") ? it_getenv("PV_DB_NAME") : "pillivery",
		    .connect_timeout_ms = 3000,
		    .query_timeout_ms = 10000,
		};
		conn = db_new(&cfg);
		conn_pid = getpid();
	}
	return conn;
}

void it_db_close(void)
{
	if (conn && conn_pid == getpid())
		db_free(conn);
	conn = NULL;
}

uint64_t it_sql_exec_at(struct it_loc at, const char *sql, const struct db_param *p, size_t n)
{
	struct db *db = it_db();
	uint64_t affected = 0;
	int rc;

	it_check_at(at, NULL, db != NULL, "db_new failed");
	rc = db_exec(db, sql, p, n, &affected, NULL);
	it_check_at(at, NULL, rc == 0, "SQL failed (%d: %s): %s", rc, db_last_error(db), sql);
	return affected;
}

static struct db_rows *one_row(struct it_loc at, const char *sql, const struct db_param *p,
			       size_t n)
{
	struct db *db = it_db();
	struct db_rows *rows = NULL;
	int rc;

	it_check_at(at, NULL, db != NULL, "db_new failed");
	rc = db_query(db, sql, p, n, &rows);
	it_check_at(at, NULL, rc == 0, "SQL failed (%d: %s): %s", rc, db_last_error(db), sql);
	it_check_at(at, NULL, db_rows_count(rows) == 1, "expected one row, got %zu: %s",
		    db_rows_count(rows), sql);
	return rows;
}

int64_t it_sql_i64_at(struct it_loc at, const char *sql, const struct db_param *p, size_t n)
{
	struct db_rows *rows = one_row(at, sql, p, n);
	int64_t v = db_rows_i64(rows, 0, 0);
	db_rows_free(rows);
	return v;
}

char *it_sql_str_at(struct it_loc at, const char *sql, const struct db_param *p, size_t n)
{
	struct db_rows *rows = one_row(at, sql, p, n);
	const char *s = db_rows_str(rows, 0, 0);
	char *v = s ? strdup(s) : NULL;
	db_rows_free(rows);
	return v;
}

void it_make_admin_at(struct it_loc at, int64_t user_id)
{
	struct db_param p[] = {DB_I64(user_id)};
	uint64_t n = it_sql_exec_at(at, "UPDATE users SET role = 'ADMIN' WHERE user_id = ?", p, 1);
	it_check_at(at, NULL, n == 1, "making user %lld an ADMIN changed %llu rows",
		    (long long)user_id, (unsigned long long)n);
}
