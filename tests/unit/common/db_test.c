/*
 * db_test: the MariaDB handle against a real server (PV_DB_HOST, PV_DB_PORT, PV_DB_USER,
 * PV_DB_PASSWORD, PV_DB_NAME): parameters, results, errors, transactions and retries,
 * the statement cache, reconnects. Each test works on its own table t_dbtest_<pid>.
 */
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/db.h"
#include "common/err.h"
#include "common/banned.h"

static char tbl[64];
static struct db *db;

static int env_int(const char *name, int def)
{
	const char *v = getenv(name);

	return v && *v ? (int)strtol(v, NULL, 10) : def;
}

static const char *env_str(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

static struct db_config test_config(void)
{
	struct db_config cfg = {
	    .host = env_str("PV_DB_HOST", "127.0.0.1"),
	    .port = env_int("PV_DB_PORT", 3306),
	    .user = env_str("PV_DB_USER", "pillivery"),
	    .password = env_str("PV_DB_PASSWORD", "pillivery"),
	    .database = env_str("PV_DB_NAME", "pillivery"),
	    .connect_timeout_ms = 5000,
	    .query_timeout_ms = 5000,
	};
	return cfg;
}

static struct db *open_db(void)
{
	struct db_config cfg = test_config();
	struct db *h = db_new(&cfg);

	ck_assert_ptr_nonnull(h);
	ck_assert_msg(db_ping(h) == 0, "MariaDB at %s:%d unreachable: %s", cfg.host, cfg.port,
	              db_last_error(h));
	return h;
}

/* SQL text must outlive the handle (the cache keys on its address): static buffers. */
#define SQL(buf, fmt) (snprintf(buf, sizeof(buf), fmt, tbl), (const char *)buf)

static void setup(void)
{
	static char create[512];

	ck_assert_int_eq(db_library_init(), 0);
	snprintf(tbl, sizeof(tbl), "t_dbtest_%ld", (long)getpid());
	db = open_db();
	ck_assert_int_eq(
	    db_exec(db,
	            SQL(create, "CREATE TABLE %s (id BIGINT AUTO_INCREMENT PRIMARY KEY, i BIGINT "
	                        "NULL, s VARCHAR(6000) NULL, b VARBINARY(64) NULL, u VARCHAR(64) "
	                        "NULL, UNIQUE KEY uk_dbtest_u (u)) ENGINE=InnoDB"),
	            NULL, 0, NULL, NULL),
	    0);
}

static void teardown(void)
{
	static char drop[128];

	if (db) {
		db_exec(db, SQL(drop, "DROP TABLE IF EXISTS %s"), NULL, 0, NULL, NULL);
		db_free(db);
		db = NULL;
	}
}

static int64_t count_rows(struct db *h)
{
	static char q[128];
	struct db_rows *r = NULL;
	int64_t n;

	ck_assert_int_eq(db_query(h, SQL(q, "SELECT COUNT(*) FROM %s"), NULL, 0, &r), 0);
	n = db_rows_i64(r, 0, 0);
	db_rows_free(r);
	return n;
}

static int64_t conn_id(struct db *h)
{
	struct db_rows *r = NULL;
	int64_t id;

	ck_assert_int_eq(db_query(h, "SELECT CONNECTION_ID()", NULL, 0, &r), 0);
	id = db_rows_i64(r, 0, 0);
	db_rows_free(r);
	return id;
}

static void kill_conn(int64_t id)
{
	struct db *killer = open_db();
	struct db_param p[] = {DB_I64(id)};

	ck_assert_int_eq(db_exec(killer, "KILL CONNECTION ?", p, 1, NULL, NULL), 0);
	db_free(killer);
}

START_TEST(test_params_of_every_type)
{
	static char ins[256], sel[256];
	const char quoted[] = "O'Reilly \"q\" \\ ; -- DROP TABLE x; %s 한글";
	const char bin[] = {'a', '\0', '\'', '"', '\\', (char)0xff, 'z'};
	struct db_param p[] = {
	    DB_I64(INT64_MIN),
	    DB_STR(quoted),
	    {.type = DB_T_STR, .s = bin, .len = sizeof(bin)},
	    DB_NULL(),
	};
	struct db_param p2[] = {DB_I64(INT64_MAX), DB_STR(NULL), DB_NULL(), DB_STR("")};
	struct db_rows *r = NULL;
	uint64_t affected = 0, id1 = 0, id2 = 0;

	SQL(ins, "INSERT INTO %s (i, s, b, u) VALUES (?, ?, ?, ?)");
	ck_assert_int_eq(db_exec(db, ins, p, 4, &affected, &id1), 0);
	ck_assert_uint_eq(affected, 1);
	ck_assert_uint_ge(id1, 1);
	ck_assert_int_eq(db_exec(db, ins, p2, 4, &affected, &id2), 0);
	ck_assert_uint_eq(id2, id1 + 1);

	SQL(sel, "SELECT id, i, s, HEX(b), u FROM %s ORDER BY id");
	ck_assert_int_eq(db_query(db, sel, NULL, 0, &r), 0);
	ck_assert_uint_eq(db_rows_count(r), 2);
	ck_assert_uint_eq(db_rows_columns(r), 5);
	ck_assert_int_eq(db_rows_i64(r, 0, 0), (int64_t)id1);
	ck_assert_int_eq(db_rows_i64(r, 0, 1), INT64_MIN);
	ck_assert_str_eq(db_rows_str(r, 0, 2), quoted);
	ck_assert_str_eq(db_rows_str(r, 0, 3), "610027225CFF7A");
	ck_assert(db_rows_is_null(r, 0, 4));
	ck_assert_ptr_null(db_rows_str(r, 0, 4));
	ck_assert_int_eq(db_rows_i64(r, 0, 4), 0);
	ck_assert_int_eq(db_rows_i64(r, 1, 1), INT64_MAX);
	ck_assert(db_rows_is_null(r, 1, 2));
	ck_assert(db_rows_is_null(r, 1, 3));
	ck_assert(!db_rows_is_null(r, 1, 4));
	ck_assert_str_eq(db_rows_str(r, 1, 4), "");
	db_rows_free(r);
}
END_TEST

START_TEST(test_params_in_where_and_bad_counts)
{
	static char ins[256], sel[256];
	struct db_param p[] = {DB_I64(7), DB_STR("x'y")};
	struct db_param w[] = {DB_STR("x'y")};
	struct db_rows *r = NULL;

	SQL(ins, "INSERT INTO %s (i, s) VALUES (?, ?)");
	ck_assert_int_eq(db_exec(db, ins, p, 2, NULL, NULL), 0);
	SQL(sel, "SELECT i FROM %s WHERE s = ?");
	ck_assert_int_eq(db_query(db, sel, w, 1, &r), 0);
	ck_assert_uint_eq(db_rows_count(r), 1);
	ck_assert_int_eq(db_rows_i64(r, 0, 0), 7);
	db_rows_free(r);

	/* Wrong parameter count and bad SQL are internal errors; the handle stays usable. */
	r = NULL;
	ck_assert_int_eq(db_query(db, sel, NULL, 0, &r), -E_INTERNAL_ERROR);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(db_exec(db, "SELEKT 1", NULL, 0, NULL, NULL), -E_INTERNAL_ERROR);
	ck_assert_ptr_nonnull(strstr(db_last_error(db), "1064"));
	ck_assert_int_eq(db_ping(db), 0);
}
END_TEST

START_TEST(test_affected_rows_count_matched_rows)
{
	static char ins[256], upd[256], del[256];
	struct db_param p[] = {DB_I64(1)};
	struct db_param same[] = {DB_I64(1)};
	uint64_t affected = 99;

	SQL(ins, "INSERT INTO %s (i) VALUES (?)");
	for (int k = 0; k < 3; k++)
		ck_assert_int_eq(db_exec(db, ins, p, 1, NULL, NULL), 0);
	SQL(upd, "UPDATE %s SET i = ? WHERE i = 1");
	/* Same value: the rows match but do not change; CLIENT_FOUND_ROWS counts them. */
	ck_assert_int_eq(db_exec(db, upd, same, 1, &affected, NULL), 0);
	ck_assert_uint_eq(affected, 3);
	SQL(del, "DELETE FROM %s WHERE i = 42");
	ck_assert_int_eq(db_exec(db, del, NULL, 0, &affected, NULL), 0);
	ck_assert_uint_eq(affected, 0);
}
END_TEST

START_TEST(test_duplicate_key_is_named)
{
	static char ins[256];
	struct db_param p[] = {DB_STR("a@b.c")};

	SQL(ins, "INSERT INTO %s (u) VALUES (?)");
	ck_assert_int_eq(db_exec(db, ins, p, 1, NULL, NULL), 0);
	ck_assert_str_eq(db_dup_key(db), "");
	ck_assert_int_eq(db_exec(db, ins, p, 1, NULL, NULL), -E_DB_DUPLICATE);
	ck_assert_str_eq(db_dup_key(db), "uk_dbtest_u");
	ck_assert_ptr_nonnull(strstr(db_last_error(db), "1062"));
	/* The next statement forgets it. */
	ck_assert_int_eq(db_ping(db), 0);
	ck_assert_int_eq(db_exec(db, ins, (struct db_param[]){DB_STR("other")}, 1, NULL, NULL), 0);
	ck_assert_str_eq(db_dup_key(db), "");
}
END_TEST

START_TEST(test_long_values_and_many_rows)
{
	static char ins[256], sel[256];
	char *big = malloc(5001);
	struct db_rows *r = NULL;

	ck_assert_ptr_nonnull(big);
	for (int k = 0; k < 5000; k++)
		big[k] = (char)('a' + k % 26);
	big[5000] = '\0';
	SQL(ins, "INSERT INTO %s (i, s) VALUES (?, ?)");
	for (int k = 0; k < 300; k++) {
		struct db_param p[] = {DB_I64(k), DB_STR(k % 100 == 0 ? big : "short")};

		ck_assert_int_eq(db_exec(db, ins, p, 2, NULL, NULL), 0);
	}
	SQL(sel, "SELECT i, s, LENGTH(s) FROM %s ORDER BY i");
	ck_assert_int_eq(db_query(db, sel, NULL, 0, &r), 0);
	ck_assert_uint_eq(db_rows_count(r), 300);
	for (size_t k = 0; k < 300; k++) {
		ck_assert_int_eq(db_rows_i64(r, k, 0), (int64_t)k);
		ck_assert_str_eq(db_rows_str(r, k, 1), k % 100 == 0 ? big : "short");
	}
	ck_assert_int_eq(db_rows_i64(r, 200, 2), 5000);
	db_rows_free(r);
	free(big);
}
END_TEST

START_TEST(test_rows_accessors_out_of_range)
{
	static char sel[256];
	struct db_rows *r = NULL;

	SQL(sel, "SELECT id, u FROM %s");
	ck_assert_int_eq(db_query(db, sel, NULL, 0, &r), 0);
	ck_assert_uint_eq(db_rows_count(r), 0);
	ck_assert_uint_eq(db_rows_columns(r), 2);
	ck_assert_ptr_null(db_rows_str(r, 0, 0));
	ck_assert(db_rows_is_null(r, 5, 5));
	ck_assert_int_eq(db_rows_i64(r, 0, 9), 0);
	db_rows_free(r);
	db_rows_free(NULL);

	ck_assert_int_eq(db_query(db, "SELECT -12, '0042', 3.75, 'abc', NULL", NULL, 0, &r), 0);
	ck_assert_int_eq(db_rows_i64(r, 0, 0), -12);
	ck_assert_int_eq(db_rows_i64(r, 0, 1), 42);
	ck_assert_str_eq(db_rows_str(r, 0, 2), "3.75");
	ck_assert_int_eq(db_rows_i64(r, 0, 3), 0);
	ck_assert(db_rows_is_null(r, 0, 4));
	db_rows_free(r);
}
END_TEST

START_TEST(test_session_settings)
{
	struct db_rows *r = NULL;

	ck_assert_int_eq(db_query(db,
	                          "SELECT @@session.time_zone, @@session.sql_mode, "
	                          "@@session.max_statement_time, @@character_set_client, "
	                          "@@session.autocommit",
	                          NULL, 0, &r),
	                 0);
	ck_assert_str_eq(db_rows_str(r, 0, 0), "+00:00");
	ck_assert_ptr_nonnull(strstr(db_rows_str(r, 0, 1), "STRICT_ALL_TABLES"));
	ck_assert_ptr_nonnull(strstr(db_rows_str(r, 0, 1), "NO_ZERO_DATE"));
	ck_assert_ptr_nonnull(strstr(db_rows_str(r, 0, 1), "ERROR_FOR_DIVISION_BY_ZERO"));
	ck_assert_int_eq(db_rows_i64(r, 0, 2), 5);
	ck_assert_str_eq(db_rows_str(r, 0, 3), "utf8mb4");
	ck_assert_int_eq(db_rows_i64(r, 0, 4), 1);
	db_rows_free(r);
}
END_TEST

static int tx_insert_ok(struct db *h, void *arg)
{
	static char ins[256];
	struct db_param p[] = {DB_I64(*(int *)arg)};

	return db_exec(h, SQL(ins, "INSERT INTO %s (i) VALUES (?)"), p, 1, NULL, NULL);
}

static int tx_insert_then_fail(struct db *h, void *arg)
{
	int rc = tx_insert_ok(h, arg);

	return rc ? rc : -E_VALIDATION_FAILED;
}

START_TEST(test_tx_commit_and_rollback)
{
	struct db *other = open_db();
	int v = 5;

	ck_assert_int_eq(db_tx(db, tx_insert_ok, &v), 0);
	ck_assert_int_eq(count_rows(other), 1);
	ck_assert_int_eq(db_tx(db, tx_insert_then_fail, &v), -E_VALIDATION_FAILED);
	ck_assert_int_eq(count_rows(other), 1);
	ck_assert_int_eq(count_rows(db), 1);

	/* By hand: invisible to others until commit; no nesting. */
	ck_assert_int_eq(db_begin(db), 0);
	ck_assert_int_eq(db_begin(db), -E_INTERNAL_ERROR);
	ck_assert_int_eq(tx_insert_ok(db, &v), 0);
	ck_assert_int_eq(count_rows(other), 1);
	ck_assert_int_eq(db_commit(db), 0);
	ck_assert_int_eq(count_rows(other), 2);
	ck_assert_int_eq(db_begin(db), 0);
	ck_assert_int_eq(tx_insert_ok(db, &v), 0);
	ck_assert_int_eq(db_rollback(db), 0);
	ck_assert_int_eq(count_rows(other), 2);
	ck_assert_int_eq(db_commit(db), -E_INTERNAL_ERROR); /* nothing open */
	db_free(other);
}
END_TEST

/* Two transactions lock rows 1 and 2 in opposite orders; the barrier makes the first
 * attempt of each take its first lock before either asks for its second. */
struct deadlock_arg {
	struct db *h;
	int64_t first, second;
	pthread_barrier_t *barrier;
	int attempts;
	int rc;
};

static char cross_upd[256]; /* built before the threads start */

static int tx_cross_update(struct db *h, void *p)
{
	struct deadlock_arg *a = p;
	struct db_param p1[] = {DB_I64(a->first)};
	struct db_param p2[] = {DB_I64(a->second)};
	int rc;

	a->attempts++;
	rc = db_exec(h, cross_upd, p1, 1, NULL, NULL);
	if (rc)
		return rc;
	if (a->attempts == 1)
		pthread_barrier_wait(a->barrier);
	return db_exec(h, cross_upd, p2, 1, NULL, NULL);
}

static void *deadlock_thread(void *p)
{
	struct deadlock_arg *a = p;

	a->rc = db_tx(a->h, tx_cross_update, a);
	return NULL;
}

START_TEST(test_tx_retries_a_real_deadlock)
{
	static char ins[256], sel[256];
	pthread_barrier_t barrier;
	struct deadlock_arg a, b;
	pthread_t ta, tb;
	struct db_rows *r = NULL;

	SQL(ins, "INSERT INTO %s (id, i) VALUES (1, 0), (2, 0)");
	ck_assert_int_eq(db_exec(db, ins, NULL, 0, NULL, NULL), 0);
	SQL(cross_upd, "UPDATE %s SET i = i + 1 WHERE id = ?");
	pthread_barrier_init(&barrier, NULL, 2);
	a = (struct deadlock_arg){open_db(), 1, 2, &barrier, 0, -1};
	b = (struct deadlock_arg){open_db(), 2, 1, &barrier, 0, -1};
	ck_assert_int_eq(pthread_create(&ta, NULL, deadlock_thread, &a), 0);
	ck_assert_int_eq(pthread_create(&tb, NULL, deadlock_thread, &b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	pthread_barrier_destroy(&barrier);

	ck_assert_int_eq(a.rc, 0);
	ck_assert_int_eq(b.rc, 0);
	/* One of them was the deadlock victim and ran a second time. */
	ck_assert_int_eq(a.attempts + b.attempts, 3);
	ck_assert_int_eq(db_query(db, SQL(sel, "SELECT i FROM %s ORDER BY id"), NULL, 0, &r), 0);
	ck_assert_int_eq(db_rows_i64(r, 0, 0), 2);
	ck_assert_int_eq(db_rows_i64(r, 1, 0), 2);
	db_rows_free(r);
	db_free(a.h);
	db_free(b.h);
}
END_TEST

static int64_t prepares(struct db *h)
{
	struct db_rows *r = NULL;
	int64_t n;

	ck_assert_int_eq(db_query(h,
	                          "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS "
	                          "WHERE VARIABLE_NAME = 'COM_STMT_PREPARE'",
	                          NULL, 0, &r),
	                 0);
	ck_assert_uint_eq(db_rows_count(r), 1);
	n = db_rows_i64(r, 0, 0);
	db_rows_free(r);
	return n;
}

START_TEST(test_statement_cache_reuses_and_caps)
{
	static char ins[256];
	static char many[300][48];
	int64_t before, after;

	before = prepares(db); /* prepares (and caches) the status query itself */
	SQL(ins, "INSERT INTO %s (i) VALUES (?)");
	for (int k = 0; k < 10; k++)
		ck_assert_int_eq(db_exec(db, ins, (struct db_param[]){DB_I64(k)}, 1, NULL, NULL),
		                 0);
	after = prepares(db);
	ck_assert_int_eq(after - before, 1);

	/* More distinct statements than the cache holds: still correct. */
	for (int k = 0; k < 300; k++) {
		struct db_rows *r = NULL;

		snprintf(many[k], sizeof(many[k]), "SELECT %d + ?", k);
		ck_assert_int_eq(db_query(db, many[k], (struct db_param[]){DB_I64(1)}, 1, &r), 0);
		ck_assert_int_eq(db_rows_i64(r, 0, 0), k + 1);
		db_rows_free(r);
	}
	ck_assert_int_eq(count_rows(db), 10);
}
END_TEST

START_TEST(test_reconnect_after_kill)
{
	static char ins[256];
	int64_t id = conn_id(db), id2;

	SQL(ins, "INSERT INTO %s (i) VALUES (?)");
	ck_assert_int_eq(db_exec(db, ins, (struct db_param[]){DB_I64(1)}, 1, NULL, NULL), 0);
	kill_conn(id);
	ck_assert_int_eq(db_exec(db, ins, (struct db_param[]){DB_I64(2)}, 1, NULL, NULL),
	                 -E_SERVICE_UNAVAILABLE);
	/* The next call reconnects and prepares the cached statement again. */
	ck_assert_int_eq(db_exec(db, ins, (struct db_param[]){DB_I64(3)}, 1, NULL, NULL), 0);
	id2 = conn_id(db);
	ck_assert_int_ne(id, id2);
	ck_assert_int_eq(count_rows(db), 2);
}
END_TEST

static int tx_killed_midway(struct db *h, void *arg)
{
	int v = 1, rc;

	ck_assert_int_eq(tx_insert_ok(h, &v), 0);
	kill_conn(conn_id(h));
	rc = tx_insert_ok(h, &v);
	ck_assert_int_eq(rc, -E_SERVICE_UNAVAILABLE);
	/* No silent reconnect inside the lost transaction. */
	ck_assert_int_eq(tx_insert_ok(h, &v), -E_SERVICE_UNAVAILABLE);
	ck_assert_int_eq(db_ping(h), -E_SERVICE_UNAVAILABLE);
	(*(int *)arg)++;
	return rc;
}

START_TEST(test_connection_lost_inside_tx)
{
	int calls = 0;

	ck_assert_int_eq(db_tx(db, tx_killed_midway, &calls), -E_SERVICE_UNAVAILABLE);
	ck_assert_int_eq(calls, 1);
	ck_assert_int_eq(count_rows(db), 0);

	/* By hand: commit reports the loss, then the handle works again. */
	ck_assert_int_eq(db_begin(db), 0);
	kill_conn(conn_id(db));
	ck_assert_int_eq(db_ping(db), -E_SERVICE_UNAVAILABLE);
	ck_assert_int_eq(db_commit(db), -E_SERVICE_UNAVAILABLE);
	ck_assert_int_eq(db_ping(db), 0);
}
END_TEST

START_TEST(test_statement_timeout)
{
	struct db_config cfg = test_config();
	struct db *h;
	struct db_rows *r = NULL;

	cfg.query_timeout_ms = 1500; /* server limit 1.5 s, client read timeout 2 s */
	h = db_new(&cfg);
	ck_assert_ptr_nonnull(h);
	ck_assert_int_eq(db_query(h, "SELECT SLEEP(5)", NULL, 0, &r), -E_SERVICE_UNAVAILABLE);
	ck_assert_ptr_null(r);
	ck_assert_ptr_nonnull(strstr(db_last_error(h), "1969"));
	ck_assert_int_eq(db_ping(h), 0);
	db_free(h);
}
END_TEST

static int free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(test_unreachable_server_fails_fast)
{
	struct db_config cfg = test_config();
	struct db *h;
	struct db_rows *r = NULL;
	int64_t t0;

	cfg.port = free_port();
	cfg.connect_timeout_ms = 10000;
	h = db_new(&cfg);
	ck_assert_ptr_nonnull(h);
	t0 = mono_ms();
	ck_assert_int_eq(db_ping(h), -E_SERVICE_UNAVAILABLE);
	ck_assert_int_eq(db_query(h, "SELECT 1", NULL, 0, &r), -E_SERVICE_UNAVAILABLE);
	ck_assert_int_eq(db_tx(h, tx_insert_ok, &(int){1}), -E_SERVICE_UNAVAILABLE);
	ck_assert_int_lt(mono_ms() - t0, 5000); /* refused, not waiting for the timeout */
	ck_assert_ptr_nonnull(strstr(db_last_error(h), "connect"));
	db_free(h);

	/* Wrong credentials: also unavailable, and the password is not in the text. */
	cfg = test_config();
	cfg.password = "wrong-secret-xyz";
	h = db_new(&cfg);
	ck_assert_int_eq(db_ping(h), -E_SERVICE_UNAVAILABLE);
	ck_assert_ptr_null(strstr(db_last_error(h), "wrong-secret-xyz"));
	db_free(h);
}
END_TEST

START_TEST(test_exec_script)
{
	static char script[1024], bad[512];
	struct db_rows *r = NULL;

	snprintf(script, sizeof(script),
	         "-- a migration\n"
	         "INSERT INTO %s (i, s) VALUES (1, 'a;b');\n"
	         "\n"
	         "/* block comment */ INSERT INTO %s (i) VALUES (2);\n"
	         "-- trailing comment;\n"
	         "UPDATE %s SET i = i * 10;\n",
	         tbl, tbl, tbl);
	ck_assert_int_eq(db_exec_script(db, script), 0);
	ck_assert_int_eq(db_query(db, SQL(bad, "SELECT SUM(i), MAX(s) FROM %s"), NULL, 0, &r), 0);
	ck_assert_int_eq(db_rows_i64(r, 0, 0), 30);
	ck_assert_str_eq(db_rows_str(r, 0, 1), "a;b");
	db_rows_free(r);

	snprintf(script, sizeof(script),
	         "INSERT INTO %s (i) VALUES (3);\n"
	         "INSERT INTO %s (nope) VALUES (4);\n"
	         "INSERT INTO %s (i) VALUES (5);\n",
	         tbl, tbl, tbl);
	ck_assert_int_eq(db_exec_script(db, script), -E_INTERNAL_ERROR);
	ck_assert_ptr_nonnull(strstr(db_last_error(db), "statement 2"));
	ck_assert_int_eq(count_rows(db), 3); /* the first ran, the third did not */

	/* Multi-statement mode is off again for everything else. */
	ck_assert_int_eq(db_exec(db, "SELECT 1; SELECT 2", NULL, 0, NULL, NULL), -E_INTERNAL_ERROR);
	ck_assert_int_eq(db_ping(db), 0);
}
END_TEST

Suite *db_suite(void)
{
	Suite *s = suite_create("db");
	TCase *tc = tcase_create("db");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_params_of_every_type);
	tcase_add_test(tc, test_params_in_where_and_bad_counts);
	tcase_add_test(tc, test_affected_rows_count_matched_rows);
	tcase_add_test(tc, test_duplicate_key_is_named);
	tcase_add_test(tc, test_long_values_and_many_rows);
	tcase_add_test(tc, test_rows_accessors_out_of_range);
	tcase_add_test(tc, test_session_settings);
	tcase_add_test(tc, test_tx_commit_and_rollback);
	tcase_add_test(tc, test_tx_retries_a_real_deadlock);
	tcase_add_test(tc, test_statement_cache_reuses_and_caps);
	tcase_add_test(tc, test_reconnect_after_kill);
	tcase_add_test(tc, test_connection_lost_inside_tx);
	tcase_add_test(tc, test_statement_timeout);
	tcase_add_test(tc, test_unreachable_server_fails_fast);
	tcase_add_test(tc, test_exec_script);
	suite_add_tcase(s, tc);
	return s;
}
