/* db: see db.h. */
#include "common/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/banned.h"

#define DB_CACHE_SLOTS        512 /* open addressing, power of two */
#define DB_CACHE_MAX          256 /* entries; the cache is flushed when full */
#define DB_ERR_MAX            512
#define DB_KEY_MAX            65
#define DB_CELL_INIT          256                 /* first fetch buffer per column */
#define DB_ROWS_MAX_BYTES     (64u * 1024 * 1024) /* cap on one result's text */
#define DB_TX_TRIES           3
#define DB_IDLE_CHECK_MS      1000 /* ping a connection idle longer than this before use */
#define DB_CONNECT_TIMEOUT_MS 3000
#define DB_QUERY_TIMEOUT_MS   5000

struct db_stmt {
	const char *sql; /* key: the caller's pointer */
	MYSQL_STMT *stmt;
};

struct db {
	char *host;
	int port;
	char *socket;
	char *user;
	char *password;
	char *database;
	int connect_timeout_ms;
	int query_timeout_ms;

	MYSQL *my;            /* NULL while closed */
	int64_t last_used_ms; /* monotonic time of the last use of my */
	bool in_tx;
	bool tx_lost; /* the connection died inside the open transaction */
	struct db_stmt cache[DB_CACHE_SLOTS];
	size_t ncached;

	char last_error[DB_ERR_MAX];
	char dup_key[DB_KEY_MAX];
};

struct db_rows {
	size_t nrows;
	size_t ncols;
	size_t cap;   /* rows allocated */
	char **cells; /* nrows * ncols; NULL for SQL NULL */
};

static bool library_ready;

int db_library_init(void)
{
	if (library_ready)
		return 0;
	if (mysql_library_init(0, NULL, NULL) != 0)
		return -E_INTERNAL_ERROR;
	library_ready = true;
	return 0;
}

void db_library_end(void)
{
	if (!library_ready)
		return;
	mysql_library_end();
	library_ready = false;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

struct db *db_new(const struct db_config *cfg)
{
	struct db *db = calloc(1, sizeof(*db));

	if (!db)
		return NULL;
	db->port = cfg->port;
	db->connect_timeout_ms =
	    cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : DB_CONNECT_TIMEOUT_MS;
	db->query_timeout_ms =
	    cfg->query_timeout_ms > 0 ? cfg->query_timeout_ms : DB_QUERY_TIMEOUT_MS;
	db->host = dup_or_null(cfg->host ? cfg->host : "127.0.0.1");
	db->socket = cfg->socket && *cfg->socket ? strdup(cfg->socket) : NULL;
	db->user = dup_or_null(cfg->user);
	db->password = dup_or_null(cfg->password);
	db->database = dup_or_null(cfg->database);
	if (!db->host || (cfg->socket && *cfg->socket && !db->socket) || (cfg->user && !db->user) ||
	    (cfg->password && !db->password) || (cfg->database && !db->database)) {
		db_free(db);
		return NULL;
	}
	return db;
}

static void cache_drop(struct db *db)
{
	for (size_t i = 0; i < DB_CACHE_SLOTS; i++) {
		if (db->cache[i].stmt)
			mysql_stmt_close(db->cache[i].stmt);
		db->cache[i].stmt = NULL;
		db->cache[i].sql = NULL;
	}
	db->ncached = 0;
}

/* Drops the connection and every statement prepared on it; the next call reconnects. */
static void db_close(struct db *db)
{
	cache_drop(db);
	if (db->my)
		mysql_close(db->my);
	db->my = NULL;
	if (db->in_tx)
		db->tx_lost = true;
}

void db_free(struct db *db)
{
	if (!db)
		return;
	db_close(db);
	if (db->password) {
		memset(db->password, 0, strlen(db->password));
		free(db->password);
	}
	free(db->host);
	free(db->socket);
	free(db->user);
	free(db->database);
	free(db);
}

const char *db_last_error(const struct db *db)
{
	return db->last_error;
}

const char *db_dup_key(const struct db *db)
{
	return db->dup_key;
}

/* "Duplicate entry 'x' for key 'users.uk_users_email'" -> "uk_users_email". */
static void remember_dup_key(struct db *db, const char *msg)
{
	size_t len = strlen(msg);
	const char *end, *start, *dot;

	db->dup_key[0] = '\0';
	if (len < 2 || msg[len - 1] != '\'')
		return;
	end = msg + len - 1;
	start = end;
	while (start > msg && start[-1] != '\'')
		start--;
	if (start == msg)
		return;
	for (dot = start; dot < end; dot++)
		if (*dot == '.')
			start = dot + 1;
	if ((size_t)(end - start) >= sizeof(db->dup_key))
		return;
	memcpy(db->dup_key, start, (size_t)(end - start));
	db->dup_key[end - start] = '\0';
}

static bool is_connection_error(unsigned int code)
{
	switch (code) {
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_COMMANDS_OUT_OF_SYNC: /* the protocol state is unknown: start over */
	case CR_SERVER_LOST_EXTENDED:
	case ER_SERVER_SHUTDOWN:
	case ER_CONNECTION_KILLED:
	case ER_STATEMENT_TIMEOUT:
		return true;
	default:
		return false;
	}
}

/* Maps a server or client error to our table; a connection error closes the handle. */
static int db_fail(struct db *db, unsigned int code, const char *msg)
{
	snprintf(db->last_error, sizeof(db->last_error), "%u: %s", code, msg ? msg : "");
	switch (code) {
	case ER_DUP_ENTRY:
		remember_dup_key(db, msg ? msg : "");
		return -E_DB_DUPLICATE;
	case ER_LOCK_DEADLOCK:
	case ER_LOCK_WAIT_TIMEOUT:
		return -E_DB_RETRY;
	default:
		break;
	}
	if (is_connection_error(code)) {
		db_close(db);
		return -E_SERVICE_UNAVAILABLE;
	}
	return -E_INTERNAL_ERROR;
}

static int db_fail_my(struct db *db)
{
	return db_fail(db, mysql_errno(db->my), mysql_error(db->my));
}

/* An error while fetching unbuffered rows lands on the connection, not the statement. */
static int db_fail_stmt(struct db *db, MYSQL_STMT *stmt)
{
	if (mysql_stmt_errno(stmt) == 0 && db->my && mysql_errno(db->my) != 0)
		return db_fail_my(db);
	if (mysql_stmt_errno(stmt) == 0)
		return db_fail(db, CR_UNKNOWN_ERROR, "unknown statement error");
	return db_fail(db, mysql_stmt_errno(stmt), mysql_stmt_error(stmt));
}

static int db_fail_text(struct db *db, int rc, const char *msg)
{
	snprintf(db->last_error, sizeof(db->last_error), "%s", msg);
	return rc;
}

static unsigned int seconds_up(int ms)
{
	return (unsigned int)((ms + 999) / 1000);
}

static int db_connect(struct db *db)
{
	unsigned int connect_s = seconds_up(db->connect_timeout_ms);
	unsigned int io_s = seconds_up(db->query_timeout_ms);
	my_bool off = 0;
	char set[384];
	MYSQL *my;

	if (db->my) {
		int64_t now = clock_mono_ms();
		/*
		 * A connection idle for a while may have died with a server restart: check it
		 * with a ping before use (never inside a transaction), so the first request after
		 * an outage does not fail on a stale socket.
		 */
		if (!db->in_tx && now - db->last_used_ms > DB_IDLE_CHECK_MS &&
		    mysql_ping(db->my) != 0)
			db_close(db);
		else {
			db->last_used_ms = now;
			return 0;
		}
	}
	if (db->tx_lost)
		return db_fail_text(db, -E_SERVICE_UNAVAILABLE,
		                    "connection lost inside a transaction");
	my = mysql_init(NULL);
	if (!my)
		return db_fail_text(db, -E_NOMEM, "mysql_init failed");
	if (mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &connect_s) ||
	    mysql_options(my, MYSQL_OPT_READ_TIMEOUT, &io_s) ||
	    mysql_options(my, MYSQL_OPT_WRITE_TIMEOUT, &io_s) ||
	    mysql_options(my, MYSQL_OPT_RECONNECT, &off) ||
	    mysql_options(my, MYSQL_SET_CHARSET_NAME, "utf8mb4")) {
		mysql_close(my);
		return db_fail_text(db, -E_INTERNAL_ERROR, "mysql_options failed");
	}
	if (!mysql_real_connect(my, db->socket ? NULL : db->host, db->user, db->password,
	                        db->database, (unsigned int)db->port, db->socket,
	                        CLIENT_FOUND_ROWS)) {
		snprintf(db->last_error, sizeof(db->last_error), "connect: %u: %s", mysql_errno(my),
		         mysql_error(my));
		mysql_close(my);
		return -E_SERVICE_UNAVAILABLE;
	}
	snprintf(set, sizeof(set),
	         "SET SESSION time_zone='+00:00', sql_mode='STRICT_ALL_TABLES,NO_ZERO_DATE,"
	         "NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION', "
	         "max_statement_time=%d.%03d",
	         db->query_timeout_ms / 1000, db->query_timeout_ms % 1000);
	if (mysql_real_query(my, set, strlen(set))) {
		snprintf(db->last_error, sizeof(db->last_error), "session setup: %u: %s",
		         mysql_errno(my), mysql_error(my));
		mysql_close(my);
		return -E_SERVICE_UNAVAILABLE;
	}
	db->my = my;
	db->last_used_ms = clock_mono_ms();
	return 0;
}

int db_ping(struct db *db)
{
	MYSQL_RES *res;
	int rc = db_connect(db);

	if (rc)
		return rc;
	if (mysql_real_query(db->my, "SELECT 1", 8))
		return db_fail_my(db);
	res = mysql_store_result(db->my);
	if (!res)
		return db_fail_my(db);
	mysql_free_result(res);
	return 0;
}

/* ---- statement cache ------------------------------------------------------------------ */

static size_t slot_of(const char *sql)
{
	uintptr_t h = (uintptr_t)sql;

	h ^= h >> 17;
	h *= (uintptr_t)0x9e3779b97f4a7c15ull;
	h ^= h >> 29;
	return (size_t)h & (DB_CACHE_SLOTS - 1);
}

/* The prepared statement for sql, preparing (and caching) it on first use. */
static int stmt_get(struct db *db, const char *sql, MYSQL_STMT **out)
{
	size_t i = slot_of(sql);
	MYSQL_STMT *stmt;
	int rc;

	while (db->cache[i].sql) {
		if (db->cache[i].sql == sql) {
			*out = db->cache[i].stmt;
			return 0;
		}
		i = (i + 1) & (DB_CACHE_SLOTS - 1);
	}
	stmt = mysql_stmt_init(db->my);
	if (!stmt)
		return db_fail_my(db);
	if (mysql_stmt_prepare(stmt, sql, strlen(sql))) {
		rc = db_fail_stmt(db, stmt);
		mysql_stmt_close(stmt);
		return rc;
	}
	if (db->ncached >= DB_CACHE_MAX) {
		cache_drop(db);
		i = slot_of(sql);
	}
	db->cache[i].sql = sql;
	db->cache[i].stmt = stmt;
	db->ncached++;
	*out = stmt;
	return 0;
}

/* Connects if needed, prepares, binds and executes. */
static int stmt_run(struct db *db, const char *sql, const struct db_param *params, size_t n,
                    MYSQL_STMT **out)
{
	MYSQL_STMT *stmt = NULL;
	MYSQL_BIND *bind = NULL;
	unsigned long *lens = NULL;
	int rc;

	db->dup_key[0] = '\0';
	if (db->tx_lost)
		return db_fail_text(db, -E_SERVICE_UNAVAILABLE,
		                    "connection lost inside a transaction");
	rc = db_connect(db);
	if (rc)
		return rc;
	rc = stmt_get(db, sql, &stmt);
	if (rc)
		return rc;
	if (mysql_stmt_param_count(stmt) != n)
		return db_fail_text(db, -E_INTERNAL_ERROR, "parameter count mismatch");
	if (n) {
		bind = calloc(n, sizeof(*bind));
		lens = calloc(n, sizeof(*lens));
		if (!bind || !lens) {
			rc = db_fail_text(db, -E_NOMEM, "out of memory");
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct db_param *p = &params[i];

		if (p->type == DB_T_I64) {
			bind[i].buffer_type = MYSQL_TYPE_LONGLONG;
			bind[i].buffer = (void *)&p->i;
		} else if (p->type == DB_T_STR && p->s) {
			lens[i] = (unsigned long)p->len;
			bind[i].buffer_type = MYSQL_TYPE_STRING;
			bind[i].buffer = (void *)p->s;
			bind[i].buffer_length = lens[i];
			bind[i].length = &lens[i];
		} else if (p->type == DB_T_NULL || p->type == DB_T_STR) {
			bind[i].buffer_type = MYSQL_TYPE_NULL;
		} else {
			rc = db_fail_text(db, -E_INTERNAL_ERROR, "unknown parameter type");
			goto out;
		}
	}
	if (n && mysql_stmt_bind_param(stmt, bind)) {
		rc = db_fail_stmt(db, stmt);
		goto out;
	}
	if (mysql_stmt_execute(stmt)) {
		rc = db_fail_stmt(db, stmt);
		goto out;
	}
	*out = stmt;
out:
	free(lens);
	free(bind);
	return rc;
}

int db_exec(struct db *db, const char *sql, const struct db_param *params, size_t n,
            uint64_t *affected, uint64_t *insert_id)
{
	MYSQL_STMT *stmt;
	int rc = stmt_run(db, sql, params, n, &stmt);

	if (rc)
		return rc;
	if (mysql_stmt_field_count(stmt) > 0) {
		/* A statement with a result set: read it off the wire and drop it. */
		if (mysql_stmt_store_result(stmt))
			return db_fail_stmt(db, stmt);
		mysql_stmt_free_result(stmt);
	}
	if (affected)
		*affected = (uint64_t)mysql_stmt_affected_rows(stmt);
	if (insert_id)
		*insert_id = (uint64_t)mysql_stmt_insert_id(stmt);
	return 0;
}

/* ---- results ---------------------------------------------------------------------- */

static int rows_grow(struct db_rows *r)
{
	size_t cap = r->cap ? r->cap * 2 : 16;
	char **cells;

	if (r->ncols && cap > SIZE_MAX / sizeof(char *) / r->ncols)
		return -E_NOMEM;
	cells = realloc(r->cells, cap * (r->ncols ? r->ncols : 1) * sizeof(char *));
	if (!cells)
		return -E_NOMEM;
	r->cells = cells;
	r->cap = cap;
	return 0;
}

/* Copies the current row (bound as text) into r; long values are fetched again in full. */
static int rows_take(struct db *db, MYSQL_STMT *stmt, struct db_rows *r, MYSQL_BIND *bind,
                     unsigned long *lens, my_bool *nulls, size_t *bytes)
{
	char **row;
	int rc;

	if (r->nrows == r->cap) {
		rc = rows_grow(r);
		if (rc)
			return db_fail_text(db, rc, "out of memory");
	}
	row = r->cells + r->nrows * r->ncols;
	for (size_t c = 0; c < r->ncols; c++)
		row[c] = NULL;
	r->nrows++;
	for (size_t c = 0; c < r->ncols; c++) {
		char *cell;

		if (nulls[c])
			continue;
		*bytes += lens[c] + 1 + sizeof(char *);
		if (*bytes > DB_ROWS_MAX_BYTES)
			return db_fail_text(db, -E_TOO_LONG, "result too large");
		cell = malloc(lens[c] + 1);
		if (!cell)
			return db_fail_text(db, -E_NOMEM, "out of memory");
		row[c] = cell;
		if (lens[c] <= bind[c].buffer_length) {
			memcpy(cell, bind[c].buffer, lens[c]);
		} else {
			MYSQL_BIND full;
			unsigned long got = 0;
			my_bool is_null = 0;

			memset(&full, 0, sizeof(full));
			full.buffer_type = MYSQL_TYPE_STRING;
			full.buffer = cell;
			full.buffer_length = lens[c];
			full.length = &got;
			full.is_null = &is_null;
			if (mysql_stmt_fetch_column(stmt, &full, (unsigned int)c, 0))
				return db_fail_stmt(db, stmt);
		}
		cell[lens[c]] = '\0';
	}
	return 0;
}

int db_query(struct db *db, const char *sql, const struct db_param *params, size_t n,
             struct db_rows **out)
{
	MYSQL_STMT *stmt;
	MYSQL_BIND *bind = NULL;
	unsigned long *lens = NULL;
	my_bool *nulls = NULL, *errs = NULL;
	char *bufs = NULL;
	struct db_rows *r = NULL;
	size_t ncols, bytes = 0;
	bool fetching = false;
	int rc;

	rc = stmt_run(db, sql, params, n, &stmt);
	if (rc)
		return rc;
	fetching = true;
	ncols = mysql_stmt_field_count(stmt);
	r = calloc(1, sizeof(*r));
	if (!r) {
		rc = db_fail_text(db, -E_NOMEM, "out of memory");
		goto out;
	}
	r->ncols = ncols;
	if (ncols == 0) {
		fetching = false;
		goto out;
	}
	bind = calloc(ncols, sizeof(*bind));
	lens = calloc(ncols, sizeof(*lens));
	nulls = calloc(ncols, sizeof(*nulls));
	errs = calloc(ncols, sizeof(*errs));
	bufs = malloc(ncols * DB_CELL_INIT);
	if (!bind || !lens || !nulls || !errs || !bufs) {
		rc = db_fail_text(db, -E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t c = 0; c < ncols; c++) {
		bind[c].buffer_type = MYSQL_TYPE_STRING;
		bind[c].buffer = bufs + c * DB_CELL_INIT;
		bind[c].buffer_length = DB_CELL_INIT;
		bind[c].length = &lens[c];
		bind[c].is_null = &nulls[c];
		bind[c].error = &errs[c];
	}
	if (mysql_stmt_bind_result(stmt, bind)) {
		rc = db_fail_stmt(db, stmt);
		goto out;
	}
	for (;;) {
		int f = mysql_stmt_fetch(stmt);

		if (f == MYSQL_NO_DATA)
			break;
		if (f == 1) {
			rc = db_fail_stmt(db, stmt);
			fetching = false; /* the error ended the result (or the connection) */
			goto out;
		}
		rc = rows_take(db, stmt, r, bind, lens, nulls, &bytes);
		if (rc)
			goto out;
	}
	fetching = false;
	mysql_stmt_free_result(stmt);
out:
	if (rc && fetching && db->my) {
		/* Stopped in the middle of a result: discard the rest on the server side. */
		if (mysql_stmt_reset(stmt))
			db_close(db);
	} else if (rc && db->my && ncols) {
		mysql_stmt_free_result(stmt);
	}
	free(bufs);
	free(errs);
	free(nulls);
	free(lens);
	free(bind);
	if (rc) {
		db_rows_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

size_t db_rows_count(const struct db_rows *r)
{
	return r ? r->nrows : 0;
}

size_t db_rows_columns(const struct db_rows *r)
{
	return r ? r->ncols : 0;
}

static const char *cell(const struct db_rows *r, size_t row, size_t col)
{
	if (!r || row >= r->nrows || col >= r->ncols)
		return NULL;
	return r->cells[row * r->ncols + col];
}

bool db_rows_is_null(const struct db_rows *r, size_t row, size_t col)
{
	return cell(r, row, col) == NULL;
}

const char *db_rows_str(const struct db_rows *r, size_t row, size_t col)
{
	return cell(r, row, col);
}

int64_t db_rows_i64(const struct db_rows *r, size_t row, size_t col)
{
	const char *s = cell(r, row, col);
	long long v;

	if (!s)
		return 0;
	v = strtoll(s, NULL, 10);
	return (int64_t)v;
}

void db_rows_free(struct db_rows *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nrows * r->ncols; i++)
		free(r->cells[i]);
	free(r->cells);
	free(r);
}

/* ---- transactions ------------------------------------------------------------------ */

int db_begin(struct db *db)
{
	int rc;

	if (db->in_tx)
		return db_fail_text(db, -E_INTERNAL_ERROR, "transaction already open");
	rc = db_connect(db);
	if (rc)
		return rc;
	if (mysql_real_query(db->my, "START TRANSACTION", 17))
		return db_fail_my(db);
	db->in_tx = true;
	db->tx_lost = false;
	return 0;
}

int db_commit(struct db *db)
{
	int rc = 0;

	if (!db->in_tx)
		return db_fail_text(db, -E_INTERNAL_ERROR, "no open transaction");
	if (db->tx_lost || !db->my)
		rc = db_fail_text(db, -E_SERVICE_UNAVAILABLE,
		                  "connection lost inside a transaction");
	else if (mysql_commit(db->my))
		rc = db_fail_my(db);
	db->in_tx = false;
	db->tx_lost = false;
	return rc;
}

int db_rollback(struct db *db)
{
	int rc = 0;

	if (!db->in_tx)
		return 0;
	/* A lost connection took the transaction with it: nothing left to roll back. */
	if (!db->tx_lost && db->my && mysql_rollback(db->my))
		rc = db_fail_my(db);
	db->in_tx = false;
	db->tx_lost = false;
	return rc;
}

int db_tx(struct db *db, int (*fn)(struct db *db, void *arg), void *arg)
{
	int rc = 0;

	for (int try = 0; try < DB_TX_TRIES; try++) {
		rc = db_begin(db);
		if (rc)
			return rc;
		rc = fn(db, arg);
		if (rc == 0) {
			rc = db_commit(db);
			if (rc == 0)
				return 0;
		}
		db_rollback(db);
		if (rc != -E_DB_RETRY)
			return rc;
	}
	return rc;
}

/* ---- scripts ------------------------------------------------------------------------ */

int db_exec_script(struct db *db, const char *sql)
{
	int rc, status, nth = 1;

	if (db->tx_lost)
		return db_fail_text(db, -E_SERVICE_UNAVAILABLE,
		                    "connection lost inside a transaction");
	rc = db_connect(db);
	if (rc)
		return rc;
	if (mysql_set_server_option(db->my, MYSQL_OPTION_MULTI_STATEMENTS_ON))
		return db_fail_my(db);
	status = mysql_real_query(db->my, sql, strlen(sql));
	for (;;) {
		MYSQL_RES *res;

		if (status) {
			unsigned int code = mysql_errno(db->my);
			char msg[DB_ERR_MAX];

			snprintf(msg, sizeof(msg), "statement %d: %s", nth, mysql_error(db->my));
			rc = db_fail(db, code, msg);
			break;
		}
		res = mysql_store_result(db->my);
		if (res)
			mysql_free_result(res);
		else if (mysql_field_count(db->my) != 0) {
			status = 1;
			continue;
		}
		status = mysql_next_result(db->my);
		if (status < 0) { /* no more results */
			rc = 0;
			break;
		}
		nth++;
	}
	if (db->my && mysql_set_server_option(db->my, MYSQL_OPTION_MULTI_STATEMENTS_OFF) && !rc)
		rc = db_fail_my(db);
	return rc;
}
