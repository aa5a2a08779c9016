/* store_outbox: SQL of the outbox (see store_outbox.h). */
#include "core/store_outbox.h"

#include <string.h>

#include "common/db.h"
#include "common/err.h"
#include "common/banned.h"

static void copy_str(char *dst, size_t n, const char *src)
{
	size_t len = src ? strnlen(src, n - 1) : 0;

	if (len)
		memcpy(dst, src, len);
	dst[len] = '\0';
}

static const char sql_enqueue[] =
    "INSERT INTO api_event (kind, payload, status, tries, next_attempt_at, dedup_key, "
    "created_at, updated_at) VALUES (?, ?, 'PENDING', 0, FROM_UNIXTIME(?), ?, "
    "FROM_UNIXTIME(?), FROM_UNIXTIME(?))";

int store_outbox_enqueue(struct db *db, const char *kind, const char *payload_json,
                         const char *dedup_key, int64_t due_at, int64_t now, int64_t *id)
{
	struct db_param p[] = {DB_STR(kind),      DB_STR(payload_json), DB_I64(due_at),
	                       DB_STR(dedup_key), DB_I64(now),          DB_I64(now)};
	uint64_t v = 0;
	int rc = db_exec(db, sql_enqueue, p, 6, NULL, &v);

	if (rc == 0 && id)
		*id = (int64_t)v;
	return rc;
}

static const char sql_due[] =
    "SELECT api_event_id, kind, CAST(payload AS CHAR), tries, UNIX_TIMESTAMP(created_at) "
    "FROM api_event WHERE status IN ('PENDING','SENDING') AND next_attempt_at <= "
    "FROM_UNIXTIME(?) ORDER BY next_attempt_at, api_event_id LIMIT ? FOR UPDATE SKIP LOCKED";
static const char sql_lease[] =
    "UPDATE api_event SET status = 'SENDING', tries = tries + 1, "
    "next_attempt_at = FROM_UNIXTIME(?), updated_at = FROM_UNIXTIME(?) WHERE api_event_id = ?";

struct claim_arg {
	int64_t now, lease;
	struct outbox_event *out;
	size_t max, *n;
};

static int claim_tx(struct db *db, void *varg)
{
	struct claim_arg *a = varg;
	struct db_param p[] = {DB_I64(a->now), DB_I64((int64_t)a->max)};
	struct db_rows *rows = NULL;
	size_t i, cnt;
	int rc;

	*a->n = 0;
	rc = db_query(db, sql_due, p, 2, &rows);
	if (rc)
		return rc;
	cnt = db_rows_count(rows);
	for (i = 0; i < cnt && i < a->max; i++) {
		struct outbox_event *e = &a->out[i];
		struct db_param q[3];

		memset(e, 0, sizeof(*e));
		e->id = db_rows_i64(rows, i, 0);
		copy_str(e->kind, sizeof(e->kind), db_rows_str(rows, i, 1));
		copy_str(e->payload, sizeof(e->payload), db_rows_str(rows, i, 2));
		e->tries = db_rows_i64(rows, i, 3) + 1;
		e->created_at = db_rows_i64(rows, i, 4);
		q[0] = DB_I64(a->now + a->lease);
		q[1] = DB_I64(a->now);
		q[2] = DB_I64(e->id);
		rc = db_exec(db, sql_lease, q, 3, NULL, NULL);
		if (rc)
			break;
	}
	db_rows_free(rows);
	if (rc == 0)
		*a->n = i;
	return rc;
}

int store_outbox_claim(struct db *db, int64_t now, int64_t lease_s, struct outbox_event *out,
                       size_t max, size_t *n)
{
	struct claim_arg a = {now, lease_s, out, max, n};

	*n = 0;
	if (max == 0)
		return 0;
	return db_tx(db, claim_tx, &a);
}

static const char sql_done[] =
    "UPDATE api_event SET status = 'DONE', done_at = FROM_UNIXTIME(?), last_error = NULL, "
    "updated_at = FROM_UNIXTIME(?) WHERE api_event_id = ? AND status = 'SENDING'";

int store_outbox_done(struct db *db, int64_t id, int64_t now)
{
	struct db_param p[] = {DB_I64(now), DB_I64(now), DB_I64(id)};
	return db_exec(db, sql_done, p, 3, NULL, NULL);
}

static const char sql_retry[] =
    "UPDATE api_event SET status = 'PENDING', next_attempt_at = FROM_UNIXTIME(?), "
    "last_error = LEFT(?, 1000), updated_at = FROM_UNIXTIME(?) "
    "WHERE api_event_id = ? AND status = 'SENDING'";

int store_outbox_retry(struct db *db, int64_t id, int64_t next_at, const char *error, int64_t now)
{
	struct db_param p[] = {DB_I64(next_at), DB_STR(error), DB_I64(now), DB_I64(id)};
	return db_exec(db, sql_retry, p, 4, NULL, NULL);
}

static const char sql_fail_copy[] =
    "INSERT INTO outbox_failed (api_event_id, kind, payload, tries, last_error, dedup_key, "
    "event_created_at, failed_at) SELECT api_event_id, kind, payload, tries, LEFT(?, 1000), "
    "dedup_key, created_at, FROM_UNIXTIME(?) FROM api_event WHERE api_event_id = ? "
    "AND status = 'SENDING'";
static const char sql_fail_delete[] =
    "DELETE FROM api_event WHERE api_event_id = ? AND status = 'SENDING'";

struct give_up_arg {
	int64_t id, now;
	const char *error;
};

static int give_up_tx(struct db *db, void *varg)
{
	struct give_up_arg *a = varg;
	struct db_param p[] = {DB_STR(a->error), DB_I64(a->now), DB_I64(a->id)};
	struct db_param d[] = {DB_I64(a->id)};
	int rc = db_exec(db, sql_fail_copy, p, 3, NULL, NULL);

	if (rc == 0)
		rc = db_exec(db, sql_fail_delete, d, 1, NULL, NULL);
	return rc;
}

int store_outbox_give_up(struct db *db, int64_t id, const char *error, int64_t now)
{
	struct give_up_arg a = {id, now, error};
	return db_tx(db, give_up_tx, &a);
}
