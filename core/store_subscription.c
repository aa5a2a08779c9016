/* store_subscription: shared subscription SQL (see store_subscription.h). */
#include "core/store_subscription.h"

#include <stdlib.h>

#include "common/db.h"
#include "common/err.h"
#include "common/banned.h"

static const char sql_live_sids[] =
	"SELECT DISTINCT cid, sid FROM subscriptions"
	" WHERE user_id = ? AND status <> 'SUBSCRIBE_CANCEL' FOR UPDATE";
static const char sql_fail_open_cycles[] =
	"UPDATE subscription_cycles c JOIN subscriptions s ON s.subscription_id = c.subscription_id"
	" SET c.status = 'FAILED', c.updated_at = FROM_UNIXTIME(?)"
	" WHERE s.user_id = ? AND s.status <> 'SUBSCRIBE_CANCEL' AND c.status = 'RETRYING'";
static const char sql_cancel[] =
	"UPDATE subscriptions SET status = 'SUBSCRIBE_CANCEL', canceled_at = FROM_UNIXTIME(?),"
	" cancel_reason = ?, next_payment_date = NULL, paused_at = NULL, next_retry_at = NULL,"
	" retry_state = IF(retry_state = 'SCHEDULED', 'EXHAUSTED', retry_state),"
	" updated_at = FROM_UNIXTIME(?) WHERE user_id = ? AND status <> 'SUBSCRIBE_CANCEL'";
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

int store_subscription_cancel_all_of_user(struct db *db, int64_t user_id,
					  enum sub_cancel_reason reason, int64_t now)
{
	struct db_rows *sids = NULL;
	int rc;

	struct db_param u = DB_I64(user_id);
	rc = db_query(db, sql_live_sids, &u, 1, &sids);
	if (rc)
		return rc;
	struct db_param f[2] = {DB_I64(now), DB_I64(user_id)};
	rc = db_exec(db, sql_fail_open_cycles, f, 2, NULL, NULL);
	if (rc)
		goto out;
	struct db_param c[4] = {DB_I64(now), DB_STR(reason_name(reason)), DB_I64(now),
				DB_I64(user_id)};
	rc = db_exec(db, sql_cancel, c, 4, NULL, NULL);
	if (rc)
		goto out;
	for (size_t i = 0; i < db_rows_count(sids); i++) {
		const char *cid = db_rows_str(sids, i, 0), *sid = db_rows_str(sids, i, 1);
		struct db_param q[7] = {DB_STR(cid), DB_STR(sid), DB_I64(now), DB_STR(sid),
					DB_I64(now), DB_I64(now), DB_STR(sid)};
		rc = db_exec(db, sql_queue_inactivation, q, 7, NULL, NULL);
		if (rc)
			goto out;
	}
out:
	db_rows_free(sids);
	return rc;
}
