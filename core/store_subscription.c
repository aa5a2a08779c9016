/* store_subscription: shared subscription SQL (see store_subscription.h). */
#include "core/store_subscription.h"

#include <stdlib.h>

#include "common/db.h"
#include "common/err.h"
#include "common/banned.h"

static const char sql_lock_one[] =
    "SELECT user_id, status = 'SUBSCRIBE_CANCEL', cid, sid FROM subscriptions"
    " WHERE subscription_id = ? FOR UPDATE";
static const char sql_live_of_user[] =
    "SELECT subscription_id FROM subscriptions"
    " WHERE user_id = ? AND status <> 'SUBSCRIBE_CANCEL' ORDER BY subscription_id FOR UPDATE";
static const char sql_fail_open_cycle[] =
    "UPDATE subscription_cycles SET status = 'FAILED', updated_at = FROM_UNIXTIME(?)"
    " WHERE subscription_id = ? AND status = 'RETRYING'";
static const char sql_cancel[] =
    "UPDATE subscriptions SET status = 'SUBSCRIBE_CANCEL', canceled_at = FROM_UNIXTIME(?),"
    " cancel_reason = ?, next_payment_date = NULL, paused_at = NULL, next_retry_at = NULL,"
    " retry_state = IF(retry_state = 'SCHEDULED', 'EXHAUSTED', retry_state),"
    " updated_at = FROM_UNIXTIME(?)"
    " WHERE subscription_id = ? AND status <> 'SUBSCRIBE_CANCEL'";
static const char sql_queue_inactivation[] =
    "INSERT INTO api_event (kind, payload, status, tries, next_attempt_at, dedup_key,"
    " created_at, updated_at)"
    " SELECT 'SID_INACTIVATE', JSON_OBJECT('cid', ?, 'sid', ?), 'PENDING', 0,"
    " FROM_UNIXTIME(?), CONCAT('sid-inactivate:', ?), FROM_UNIXTIME(?), FROM_UNIXTIME(?)"
    " FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM subscriptions WHERE sid = ?"
    " AND status <> 'SUBSCRIBE_CANCEL')"
    " ON DUPLICATE KEY UPDATE api_event_id = api_event_id";

static const char *reason_name(enum sub_cancel_reason r)
{
	switch (r) {
	case SUB_CANCEL_ADMIN:
		return "ADMIN";
	case SUB_CANCEL_WITHDRAWAL:
		return "WITHDRAWAL";
	default:
		return "CUSTOMER";
	}
}

/* Locks the row: 0 with its fields, or -E_SUBSCRIPTION_NOT_FOUND. *rows owned by the caller. */
static int lock_one(struct db *db, int64_t id, struct db_rows **rows)
{
	struct db_param p = DB_I64(id);
	int rc = db_query(db, sql_lock_one, &p, 1, rows);

	if (rc == 0 && db_rows_count(*rows) == 0)
		rc = -E_SUBSCRIPTION_NOT_FOUND;
	return rc;
}

static int cancel_locked(struct db *db, int64_t id, const char *cid, const char *sid,
                         enum sub_cancel_reason reason, int64_t now)
{
	struct db_param f[2] = {DB_I64(now), DB_I64(id)};
	int rc = db_exec(db, sql_fail_open_cycle, f, 2, NULL, NULL);
	if (rc)
		return rc;
	struct db_param c[4] = {DB_I64(now), DB_STR(reason_name(reason)), DB_I64(now), DB_I64(id)};
	rc = db_exec(db, sql_cancel, c, 4, NULL, NULL);
	if (rc)
		return rc;
	struct db_param q[7] = {DB_STR(cid), DB_STR(sid), DB_I64(now), DB_STR(sid),
	                        DB_I64(now), DB_I64(now), DB_STR(sid)};
	return db_exec(db, sql_queue_inactivation, q, 7, NULL, NULL);
}

int store_subscription_cancel(struct db *db, int64_t subscription_id, enum sub_cancel_reason reason,
                              int64_t now)
{
	struct db_rows *row = NULL;
	int rc = lock_one(db, subscription_id, &row);

	if (rc == 0 && db_rows_i64(row, 0, 1))
		rc = -E_SUBSCRIPTION_STATE_CONFLICT;
	if (rc == 0)
		rc = cancel_locked(db, subscription_id, db_rows_str(row, 0, 2),
		                   db_rows_str(row, 0, 3), reason, now);
	db_rows_free(row);
	return rc;
}

int store_subscription_cancel_all_of_user(struct db *db, int64_t user_id,
                                          enum sub_cancel_reason reason, int64_t now)
{
	struct db_rows *ids = NULL;
	struct db_param u = DB_I64(user_id);
	int rc = db_query(db, sql_live_of_user, &u, 1, &ids);

	for (size_t i = 0; rc == 0 && i < db_rows_count(ids); i++)
		rc = store_subscription_cancel(db, db_rows_i64(ids, i, 0), reason, now);
	db_rows_free(ids);
	return rc;
}

struct cancel_by {
	int64_t id, uid, now;
	bool admin;
};

static int cancel_by_tx(struct db *db, void *arg)
{
	const struct cancel_by *a = arg;
	struct db_rows *row = NULL;
	int rc = lock_one(db, a->id, &row);

	if (rc == 0 && !a->admin && db_rows_i64(row, 0, 0) != a->uid)
		rc = -E_ACCESS_DENIED_USER;
	if (rc == 0 && db_rows_i64(row, 0, 1))
		rc = -E_SUBSCRIPTION_STATE_CONFLICT;
	if (rc == 0)
		rc = cancel_locked(db, a->id, db_rows_str(row, 0, 2), db_rows_str(row, 0, 3),
		                   a->admin ? SUB_CANCEL_ADMIN : SUB_CANCEL_CUSTOMER, a->now);
	db_rows_free(row);
	return rc;
}

int store_subscription_cancel_by(struct db *db, int64_t subscription_id, int64_t actor_uid,
                                 bool actor_admin, int64_t now)
{
	struct cancel_by a = {subscription_id, actor_uid, now, actor_admin};
	return db_tx(db, cancel_by_tx, &a);
}
