/* store_subscription: subscription SQL (see store_subscription.h). */
#include "core/store_subscription.h"

#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/db.h"
#include "common/err.h"
#include "core/rules.h"
#include "core/sched.h"
#include "common/banned.h"

/* ---- statements ----------------------------------------------------------------------------- */

/*
 * Locking reads see the latest committed rows, whatever snapshot the transaction's first read
 * took: the subscription row is locked (the billing daemon claims a cycle under the same
 * lock) and its open attempts are read with a shared lock.
 */
static const char sql_lock[] =
    "SELECT user_id, status, retry_state = 'UNKNOWN', period, first_payment_date,"
    " last_payment_date, last_settled_cycle_date, next_payment_date, cid, sid"
    " FROM subscriptions WHERE subscription_id = ? FOR UPDATE";
static const char sql_charge_open[] =
    "SELECT COUNT(*) FROM billing_attempt b"
    " WHERE b.subscription_id = ? AND b.status IN ('PENDING', 'UNKNOWN')"
    " LOCK IN SHARE MODE";

static const char sql_get[] =
    "SELECT s.subscription_id, s.order_id, s.order_item_id, s.user_id, s.status, s.period,"
    " s.quantity, s.item_id, i.enterprise, i.thumbnail, i.product_name, i.origin_price,"
    " i.discount_p10, s.first_payment_date, s.last_payment_date, s.next_payment_date,"
    " s.retry_state, s.failed_cycle_date, s.retry_attempts, UNIX_TIMESTAMP(s.next_retry_at),"
    " UNIX_TIMESTAMP(s.last_failure_at), s.last_failure_code, s.last_failure_message,"
    " s.receiver_real_name, s.receiver_phone, s.receiver_city, s.receiver_detail_address,"
    " UNIX_TIMESTAMP(s.paused_at), UNIX_TIMESTAMP(s.canceled_at),"
    " UNIX_TIMESTAMP(s.created_at), UNIX_TIMESTAMP(s.updated_at)"
    " FROM subscriptions s JOIN items i ON i.item_id = s.item_id"
    " WHERE s.subscription_id = ?";
static const char sql_cycles[] =
    "SELECT cycle_date, status, attempts, amount, order_id, UNIX_TIMESTAMP(paid_at)"
    " FROM subscription_cycles WHERE subscription_id = ? ORDER BY cycle_date DESC LIMIT ?";

static const char sql_set_period[] =
    "UPDATE subscriptions SET period = ?, next_payment_date = ?, updated_at = FROM_UNIXTIME(?)"
    " WHERE subscription_id = ?";
static const char sql_pause[] =
    "UPDATE subscriptions SET status = 'PAUSED', paused_at = FROM_UNIXTIME(?),"
    " next_payment_date = NULL, updated_at = FROM_UNIXTIME(?) WHERE subscription_id = ?";
static const char sql_resume[] =
    "UPDATE subscriptions SET status = 'SUBSCRIPTION', paused_at = NULL, next_payment_date = ?,"
    " updated_at = FROM_UNIXTIME(?) WHERE subscription_id = ?";
/* A row left for the date by an earlier attempt keeps its attempts; a PAID row cannot be
 * there (the date is after C) and would fail the table's PAID check rather than change. */
static const char sql_skip_cycle[] =
    "INSERT INTO subscription_cycles (subscription_id, cycle_date, status, attempts,"
    " created_at, updated_at) VALUES (?, ?, 'SKIPPED', 0, FROM_UNIXTIME(?), FROM_UNIXTIME(?))"
    " ON DUPLICATE KEY UPDATE status = 'SKIPPED', updated_at = VALUES(updated_at)";
static const char sql_skip[] =
    "UPDATE subscriptions SET last_settled_cycle_date = ?, next_payment_date = ?,"
    " updated_at = FROM_UNIXTIME(?) WHERE subscription_id = ?";

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

/* ---- helpers -------------------------------------------------------------------------------- */

/* A DATE column as a local day; -E_INTERNAL_ERROR when NULL or malformed. */
static int day_col(const struct db_rows *rows, size_t row, size_t col, int32_t *out)
{
	const char *s = db_rows_str(rows, row, col);

	return s && clock_parse_day(s, out) == 0 ? 0 : -E_INTERNAL_ERROR;
}

/* A nullable DATE column: *present false for NULL. */
static int opt_day_col(const struct db_rows *rows, size_t row, size_t col, bool *present,
                       int32_t *out)
{
	*present = !db_rows_is_null(rows, row, col);
	return *present ? day_col(rows, row, col, out) : 0;
}

/* A nullable UNIX_TIMESTAMP column: -1 for NULL. */
static int64_t ts_col(const struct db_rows *rows, size_t row, size_t col)
{
	return db_rows_is_null(rows, row, col) ? -1 : db_rows_i64(rows, row, col);
}

/* *dst = copy of column col (NULL for SQL NULL); -E_NOMEM. */
static int dup_col(const struct db_rows *rows, size_t row, size_t col, char **dst)
{
	const char *s = db_rows_str(rows, row, col);

	*dst = NULL;
	if (!s)
		return 0;
	*dst = strdup(s);
	return *dst ? 0 : -E_NOMEM;
}

/* Copies column col into out[cap]; -E_INTERNAL_ERROR when NULL or too long. */
static int copy_col(const struct db_rows *rows, size_t row, size_t col, char *out, size_t cap)
{
	const char *s = db_rows_str(rows, row, col);
	size_t n = s ? strlen(s) : cap;

	if (n >= cap)
		return -E_INTERNAL_ERROR;
	memcpy(out, s, n + 1);
	return 0;
}

/* ---- lock and state ------------------------------------------------------------------------- */

int store_subscription_lock(struct db *db, int64_t subscription_id, struct sub_state *out)
{
	struct db_rows *rows = NULL;
	struct db_param p = DB_I64(subscription_id);
	struct sub_state st = {0};
	int rc = db_query(db, sql_lock, &p, 1, &rows);

	if (rc)
		return rc;
	if (db_rows_count(rows) == 0) {
		rc = -E_SUBSCRIPTION_NOT_FOUND;
		goto out;
	}
	st.user_id = db_rows_i64(rows, 0, 0);
	st.status = sub_status_parse(db_rows_str(rows, 0, 1));
	st.retry_unknown = db_rows_i64(rows, 0, 2) != 0;
	st.period = (int32_t)db_rows_i64(rows, 0, 3);
	rc = day_col(rows, 0, 4, &st.first_day);
	if (rc == 0)
		rc = day_col(rows, 0, 5, &st.last_paid_day);
	if (rc == 0)
		rc = day_col(rows, 0, 6, &st.last_settled_day);
	if (rc == 0)
		rc = opt_day_col(rows, 0, 7, &st.has_next, &st.next_day);
	if (rc == 0)
		rc = copy_col(rows, 0, 8, st.cid, sizeof(st.cid));
	if (rc == 0)
		rc = copy_col(rows, 0, 9, st.sid, sizeof(st.sid));
	if (rc == 0)
		*out = st;
out:
	db_rows_free(rows);
	return rc;
}

/* *open = a billing attempt of the subscription is PENDING or UNKNOWN. */
static int charge_open(struct db *db, int64_t subscription_id, bool *open)
{
	struct db_rows *rows = NULL;
	struct db_param p = DB_I64(subscription_id);
	int rc = db_query(db, sql_charge_open, &p, 1, &rows);

	if (rc == 0)
		*open = db_rows_count(rows) && db_rows_i64(rows, 0, 0) > 0;
	db_rows_free(rows);
	return rc;
}

int store_subscription_lock_for(struct db *db, int64_t subscription_id, enum sub_op op,
                                int64_t actor_uid, struct sub_state *out)
{
	struct sub_state st;
	bool open = false;
	int rc = store_subscription_lock(db, subscription_id, &st);

	if (rc)
		return rc;
	if (st.user_id != actor_uid)
		return -E_ACCESS_DENIED_USER;
	rc = charge_open(db, subscription_id, &open);
	if (rc)
		return rc;
	if (!sub_op_allowed(op, st.status, st.retry_unknown, open))
		return -E_SUBSCRIPTION_STATE_CONFLICT;
	*out = st;
	return 0;
}

/* ---- reading one subscription --------------------------------------------------------------- */

void sub_detail_release(struct sub_detail *d)
{
	free(d->enterprise);
	free(d->thumbnail);
	free(d->product);
	free(d->last_failure_code);
	free(d->last_failure_message);
	free(d->real_name);
	free(d->phone);
	free(d->city);
	free(d->detail_address);
	memset(d, 0, sizeof(*d));
}

static int read_cycles(struct db *db, struct sub_detail *d)
{
	struct db_rows *rows = NULL;
	struct db_param p[2] = {DB_I64(d->subscription_id), DB_I64(SUB_CYCLES_MAX)};
	int rc = db_query(db, sql_cycles, p, 2, &rows);

	for (size_t i = 0; rc == 0 && i < db_rows_count(rows) && i < SUB_CYCLES_MAX; i++) {
		struct sub_cycle *c = &d->cycles[i];

		rc = day_col(rows, i, 0, &c->day);
		if (rc == 0)
			rc = copy_col(rows, i, 1, c->status, sizeof(c->status));
		c->attempts = (int32_t)db_rows_i64(rows, i, 2);
		c->paid = !strcmp(c->status, "PAID");
		c->amount = db_rows_i64(rows, i, 3);
		c->order_id = db_rows_i64(rows, i, 4);
		c->paid_at = ts_col(rows, i, 5);
		d->ncycles = i + 1;
	}
	db_rows_free(rows);
	return rc;
}

int store_subscription_get(struct db *db, int64_t subscription_id, struct sub_detail *out)
{
	struct db_rows *rows = NULL;
	struct db_param p = DB_I64(subscription_id);
	struct sub_detail d = {0};
	bool has_next = false;
	int rc = db_query(db, sql_get, &p, 1, &rows);

	if (rc)
		return rc;
	if (db_rows_count(rows) == 0) {
		db_rows_free(rows);
		return -E_SUBSCRIPTION_NOT_FOUND;
	}
	d.subscription_id = db_rows_i64(rows, 0, 0);
	d.order_id = db_rows_i64(rows, 0, 1);
	d.order_item_id = db_rows_i64(rows, 0, 2);
	d.user_id = db_rows_i64(rows, 0, 3);
	d.status = sub_status_parse(db_rows_str(rows, 0, 4));
	d.period = (int32_t)db_rows_i64(rows, 0, 5);
	d.quantity = (int32_t)db_rows_i64(rows, 0, 6);
	d.item_id = db_rows_i64(rows, 0, 7);
	if (retry_state_parse(db_rows_str(rows, 0, 16), &d.retry))
		rc = -E_INTERNAL_ERROR;
	/* the schema keeps origin >= 0 and p10 in 0..1000, so this cannot fail on good data */
	if (rc == 0 &&
	    price_derive(db_rows_i64(rows, 0, 11), (int)db_rows_i64(rows, 0, 12), &d.price))
		rc = -E_INTERNAL_ERROR;
	if (rc == 0)
		rc = dup_col(rows, 0, 8, &d.enterprise);
	if (rc == 0)
		rc = dup_col(rows, 0, 9, &d.thumbnail);
	if (rc == 0)
		rc = dup_col(rows, 0, 10, &d.product);
	if (rc == 0)
		rc = day_col(rows, 0, 13, &d.first_day);
	if (rc == 0)
		rc = day_col(rows, 0, 14, &d.last_paid_day);
	if (rc == 0)
		rc = opt_day_col(rows, 0, 15, &has_next, &d.next_day);
	d.has_next = has_next && sub_next_date_shown(d.status, d.retry == RETRY_EXHAUSTED);
	if (rc == 0)
		rc = opt_day_col(rows, 0, 17, &d.has_failed_cycle, &d.failed_cycle_day);
	d.retry_attempts = (int32_t)db_rows_i64(rows, 0, 18);
	d.next_retry_at = ts_col(rows, 0, 19);
	d.last_failure_at = ts_col(rows, 0, 20);
	if (rc == 0)
		rc = dup_col(rows, 0, 21, &d.last_failure_code);
	if (rc == 0)
		rc = dup_col(rows, 0, 22, &d.last_failure_message);
	if (rc == 0)
		rc = dup_col(rows, 0, 23, &d.real_name);
	if (rc == 0)
		rc = dup_col(rows, 0, 24, &d.phone);
	if (rc == 0)
		rc = dup_col(rows, 0, 25, &d.city);
	if (rc == 0)
		rc = dup_col(rows, 0, 26, &d.detail_address);
	d.paused_at = ts_col(rows, 0, 27);
	d.canceled_at = ts_col(rows, 0, 28);
	d.created_at = ts_col(rows, 0, 29);
	d.updated_at = ts_col(rows, 0, 30);
	db_rows_free(rows);
	if (rc == 0)
		rc = read_cycles(db, &d);
	if (rc) {
		sub_detail_release(&d);
		return rc;
	}
	*out = d;
	return 0;
}

/* ---- the customer's changes ----------------------------------------------------------------- */

struct change {
	enum sub_op op;
	int64_t id;
	int64_t uid;
	int64_t now;
	int32_t today;
	int32_t period; /* SUB_OP_CHANGE */
};

/* A local day as "YYYY-MM-DD" in out. */
static int day_text(int32_t day, char out[CLOCK_DATE_LEN])
{
	return clock_format_day(day, out) ? -E_INTERNAL_ERROR : 0;
}

static int write_period(struct db *db, const struct change *c, const struct sub_state *st)
{
	char next[CLOCK_DATE_LEN];
	bool active = st->status == SUB_SUBSCRIPTION;

	/* a paused subscription has no next date; resume computes it with the new period */
	if (active && day_text(sched_next(st->first_day, c->period, st->last_paid_day,
	                                  st->last_settled_day, c->today),
	                       next))
		return -E_INTERNAL_ERROR;
	struct db_param p[4] = {DB_I64(c->period), DB_STR(active ? next : NULL), DB_I64(c->now),
	                        DB_I64(c->id)};
	return db_exec(db, sql_set_period, p, 4, NULL, NULL);
}

static int write_pause(struct db *db, const struct change *c)
{
	struct db_param p[3] = {DB_I64(c->now), DB_I64(c->now), DB_I64(c->id)};
	return db_exec(db, sql_pause, p, 3, NULL, NULL);
}

static int write_resume(struct db *db, const struct change *c, const struct sub_state *st)
{
	char next[CLOCK_DATE_LEN];
	int rc = day_text(sched_next(st->first_day, st->period, st->last_paid_day,
	                             st->last_settled_day, c->today),
	                  next);
	if (rc)
		return rc;
	struct db_param p[3] = {DB_STR(next), DB_I64(c->now), DB_I64(c->id)};
	return db_exec(db, sql_resume, p, 3, NULL, NULL);
}

static int write_skip(struct db *db, const struct change *c, const struct sub_state *st)
{
	char skipped[CLOCK_DATE_LEN], next[CLOCK_DATE_LEN];
	int rc;

	if (!st->has_next) /* an active subscription always has one; refuse rather than guess */
		return -E_SUBSCRIPTION_STATE_CONFLICT;
	rc = day_text(st->next_day, skipped);
	if (rc == 0)
		rc = day_text(sched_next(st->first_day, st->period, st->last_paid_day, st->next_day,
		                         c->today),
		              next);
	if (rc)
		return rc;
	struct db_param cp[4] = {DB_I64(c->id), DB_STR(skipped), DB_I64(c->now), DB_I64(c->now)};
	rc = db_exec(db, sql_skip_cycle, cp, 4, NULL, NULL);
	if (rc)
		return rc;
	struct db_param sp[4] = {DB_STR(skipped), DB_STR(next), DB_I64(c->now), DB_I64(c->id)};
	return db_exec(db, sql_skip, sp, 4, NULL, NULL);
}

/* The lock and the checks in the contract's order (404, 403, 409), then the write. */
static int change_tx(struct db *db, void *arg)
{
	const struct change *c = arg;
	struct sub_state st;
	int rc = store_subscription_lock_for(db, c->id, c->op, c->uid, &st);

	if (rc)
		return rc;
	switch (c->op) {
	case SUB_OP_CHANGE:
		return write_period(db, c, &st);
	case SUB_OP_PAUSE:
		return write_pause(db, c);
	case SUB_OP_RESUME:
		return write_resume(db, c, &st);
	case SUB_OP_SKIP:
		return write_skip(db, c, &st);
	default:
		return -E_INTERNAL_ERROR;
	}
}

int store_subscription_set_period(struct db *db, int64_t subscription_id, int64_t actor_uid,
                                  int32_t period, int64_t now, int32_t today)
{
	struct change c = {SUB_OP_CHANGE, subscription_id, actor_uid, now, today, period};

	if (rule_period(period))
		return -E_VALIDATION_FAILED;
	return db_tx(db, change_tx, &c);
}

int store_subscription_pause(struct db *db, int64_t subscription_id, int64_t actor_uid, int64_t now)
{
	struct change c = {SUB_OP_PAUSE, subscription_id, actor_uid, now, 0, 0};
	return db_tx(db, change_tx, &c);
}

int store_subscription_resume(struct db *db, int64_t subscription_id, int64_t actor_uid,
                              int64_t now, int32_t today)
{
	struct change c = {SUB_OP_RESUME, subscription_id, actor_uid, now, today, 0};
	return db_tx(db, change_tx, &c);
}

int store_subscription_skip(struct db *db, int64_t subscription_id, int64_t actor_uid, int64_t now,
                            int32_t today)
{
	struct change c = {SUB_OP_SKIP, subscription_id, actor_uid, now, today, 0};
	return db_tx(db, change_tx, &c);
}

/* ---- cancellation --------------------------------------------------------------------------- */

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

/* The cancellation of a row locked by the caller, whose status allows it. */
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

/* §2.5: cancel is allowed in every status but SUBSCRIBE_CANCEL, even with a charge open. */
static bool cancel_allowed(const struct sub_state *st)
{
	return sub_op_allowed(SUB_OP_CANCEL, st->status, st->retry_unknown, false);
}

int store_subscription_cancel(struct db *db, int64_t subscription_id, enum sub_cancel_reason reason,
                              int64_t now)
{
	struct sub_state st;
	int rc = store_subscription_lock(db, subscription_id, &st);

	if (rc)
		return rc;
	if (!cancel_allowed(&st))
		return -E_SUBSCRIPTION_STATE_CONFLICT;
	return cancel_locked(db, subscription_id, st.cid, st.sid, reason, now);
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
	struct sub_state st;
	int rc = store_subscription_lock(db, a->id, &st);

	if (rc)
		return rc;
	if (!a->admin && st.user_id != a->uid)
		return -E_ACCESS_DENIED_USER;
	if (!cancel_allowed(&st))
		return -E_SUBSCRIPTION_STATE_CONFLICT;
	return cancel_locked(db, a->id, st.cid, st.sid,
	                     a->admin ? SUB_CANCEL_ADMIN : SUB_CANCEL_CUSTOMER, a->now);
}

int store_subscription_cancel_by(struct db *db, int64_t subscription_id, int64_t actor_uid,
                                 bool actor_admin, int64_t now)
{
	struct cancel_by a = {subscription_id, actor_uid, now, actor_admin};
	return db_tx(db, cancel_by_tx, &a);
}
