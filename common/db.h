/*
 * db: one MariaDB connection (MariaDB Connector/C, the mysqlclient API) per thread.
 *
 * struct db owns a MYSQL handle, its cache of prepared statements (keyed by the SQL text's
 * address: pass string literals or other storage that lives as long as the handle) and the
 * last error. It connects lazily and reconnects explicitly (never MYSQL_OPT_RECONNECT): a
 * lost connection marks the handle closed and answers -E_SERVICE_UNAVAILABLE; the next call
 * reconnects and re-prepares. Every session runs with time_zone '+00:00', utf8mb4, strict
 * SQL mode and a statement time limit; connect, read and write have timeouts.
 *
 * SQL goes only through prepared statements with bound parameters (db_exec, db_query);
 * db_exec_script runs trusted multi-statement text (migrations) and nothing else.
 *
 * Errors: -E_DB_DUPLICATE (unique key; db_dup_key names the key), -E_DB_RETRY (deadlock or
 * lock wait timeout: db_tx retries), -E_SERVICE_UNAVAILABLE (unreachable, lost, timed out),
 * -E_INTERNAL_ERROR (anything else; db_last_error has the text for the log).
 *
 * Not thread-safe: a handle belongs to one thread at a time. mysql_library_init must have
 * run (db_library_init) before threads start.
 */
#ifndef PV_COMMON_DB_H
#define PV_COMMON_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct db_config {
	const char *host; /* "127.0.0.1"; ignored when socket is set */
	int port;
	const char *socket; /* unix socket path or NULL/"" */
	const char *user;
	const char *password;
	const char *database;
	int connect_timeout_ms; /* <= 0: 3000 */
	int query_timeout_ms;   /* read/write timeout and max_statement_time; <= 0: 5000 */
};

enum db_type { DB_T_NULL, DB_T_I64, DB_T_STR };

struct db_param {
	enum db_type type;
	int64_t i;
	const char *s;
	size_t len;
};

#define DB_I64(v) ((struct db_param){.type = DB_T_I64, .i = (int64_t)(v)})
#define DB_NULL() ((struct db_param){.type = DB_T_NULL})
/*
 * A NULL pointer binds SQL NULL. A function rather than a bare compound literal, so that a
 * char array argument (-Waddress) or a literal NULL (-Wnonnull) does not warn and v is
 * evaluated once.
 */
static inline struct db_param db_param_str(const char *v)
{
	return (struct db_param){
	    .type = v ? DB_T_STR : DB_T_NULL, .s = v, .len = v ? strlen(v) : 0};
}
#define DB_STR(v) db_param_str(v)

struct db;
struct db_rows;

int db_library_init(void); /* once, in main, before threads */
void db_library_end(void);

/* Copies cfg; does not connect. NULL only when out of memory. */
struct db *db_new(const struct db_config *cfg);
void db_free(struct db *db);

int db_ping(struct db *db); /* connects if needed, then SELECT 1 */
const char *db_last_error(const struct db *db);
const char *db_dup_key(const struct db *db); /* key name of the last -E_DB_DUPLICATE, or "" */

/*
 * Prepared statement with n bound parameters; *affected and *insert_id may be NULL.
 * *affected counts the rows matched (CLIENT_FOUND_ROWS, as JDBC does), so an UPDATE that
 * finds its row but changes nothing reports 1.
 */
int db_exec(struct db *db, const char *sql, const struct db_param *params, size_t n,
            uint64_t *affected, uint64_t *insert_id);
/* Prepared query; the whole result is fetched into *out (caller frees with db_rows_free). */
int db_query(struct db *db, const char *sql, const struct db_param *params, size_t n,
             struct db_rows **out);

size_t db_rows_count(const struct db_rows *r);
size_t db_rows_columns(const struct db_rows *r);
bool db_rows_is_null(const struct db_rows *r, size_t row, size_t col);
const char *db_rows_str(const struct db_rows *r, size_t row, size_t col); /* NULL for NULL */
int64_t db_rows_i64(const struct db_rows *r, size_t row, size_t col);     /* 0 for NULL */
void db_rows_free(struct db_rows *r);

int db_begin(struct db *db);
int db_commit(struct db *db);
int db_rollback(struct db *db);
/*
 * Runs fn inside a transaction: begin, fn, commit; rolls back when fn returns non-zero.
 * A deadlock or lock wait timeout (from fn or the commit) restarts the whole transaction, up
 * to 3 tries. Returns fn's result or the commit's error.
 */
int db_tx(struct db *db, int (*fn)(struct db *db, void *arg), void *arg);

/* Trusted multi-statement text (migrations); not for input. */
int db_exec_script(struct db *db, const char *sql);

#endif
