/* store_refund: SQL of refunds and their outbox events (see store_refund.h). */
#include "core/store_refund.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/db.h"
#include "common/err.h"
#include "core/order.h"
#include "core/refund.h"
#include "common/banned.h"

static void copy_str(char *dst, size_t n, const char *src)
{
	size_t len = src ? strnlen(src, n - 1) : 0;

	if (len)
		memcpy(dst, src, len);
	dst[len] = '\0';
}

/* ---- the per-order lock --------------------------------------------------------------------- */

static const char sql_lock[] = "SELECT GET_LOCK(CONCAT('pv-refund:', ?), ?)";
static const char sql_unlock[] = "SELECT RELEASE_LOCK(CONCAT('pv-refund:', ?))";

int store_refund_lock(struct db *db, int64_t order_id, int wait_s, bool *got)
{
	struct db_param p[] = {DB_I64(order_id), DB_I64(1)};
	struct db_rows *rows = NULL;
	int rc = 0;

	*got = false;
	/* one second a try, so that no statement meets the statement time limit */
	for (int i = 0; i < (wait_s > 0 ? wait_s : 1) && !*got; i++) {
		rc = db_query(db, sql_lock, p, 2, &rows);
		if (rc)
			return rc;
		*got = db_rows_count(rows) == 1 && db_rows_i64(rows, 0, 0) == 1;
		db_rows_free(rows);
		rows = NULL;
	}
	return 0;
}

int store_refund_unlock(struct db *db, int64_t order_id)
{
	struct db_param p[] = {DB_I64(order_id)};
	struct db_rows *rows = NULL;
	int rc = db_query(db, sql_unlock, p, 1, &rows);

	db_rows_free(rows);
	return rc;
}

/* ---- begin ---------------------------------------------------------------------------------- */

static const char sql_order_lock[] =
    "SELECT status, expect_price FROM orders WHERE order_id = ? FOR UPDATE";
static const char sql_reserved[] =
    "SELECT COALESCE(SUM(amount), 0) FROM refunds WHERE order_id = ? AND refund_id <> ? "
    "AND status IN ('PENDING','CONFIRMED','QUEUED','FLAGGED')";
static const char sql_approved[] =
    "SELECT payment_id, cid, tid FROM payments WHERE order_id = ? AND status = 'APPROVED' "
    "AND tid IS NOT NULL LIMIT 1";
static const char sql_next_no[] =
    "SELECT COALESCE(MAX(request_no), 0) + 1 FROM refunds WHERE payment_id = ?";
static const char sql_insert[] =
    "INSERT INTO refunds (order_id, payment_id, request_no, status, amount, tax_free_amount, "
    "cancel_available_amount, requested_by_user_id, created_at, updated_at) "
    "VALUES (?, ?, ?, 'PENDING', ?, ?, ?, ?, FROM_UNIXTIME(?), FROM_UNIXTIME(?))";

struct begin_arg {
	int64_t order_id, amount, tax_free, user_id, now;
	struct refund_rec *out;
};

static int reserved_sum(struct db *db, int64_t order_id, int64_t except_id, int64_t *out)
{
	struct db_param p[] = {DB_I64(order_id), DB_I64(except_id)};
	struct db_rows *rows = NULL;
	int rc = db_query(db, sql_reserved, p, 2, &rows);

	if (rc)
		return rc;
	*out = db_rows_i64(rows, 0, 0);
	db_rows_free(rows);
	return 0;
}

static int begin_tx(struct db *db, void *varg)
{
	struct begin_arg *a = varg;
	struct refund_rec *o = a->out;
	struct db_rows *rows = NULL;
	enum order_status st;
	int64_t reserved = 0, no;
	uint64_t id = 0;
	int rc;

	{
		struct db_param p[] = {DB_I64(a->order_id)};
		rc = db_query(db, sql_order_lock, p, 1, &rows);
	}
	if (rc)
		goto out;
	if (db_rows_count(rows) == 0) {
		rc = -E_ORDER_NOT_FOUND;
		goto out;
	}
	st = order_status_parse(db_rows_str(rows, 0, 0));
	o->expect_price = db_rows_i64(rows, 0, 1);
	db_rows_free(rows);
	rows = NULL;
	if (st != ORDER_COMPLETE && st != ORDER_PARTIAL_REFUND) {
		rc = -E_ORDER_NOT_REFUNDABLE;
		goto out;
	}
	{
		struct db_param p[] = {DB_I64(a->order_id)};
		rc = db_query(db, sql_approved, p, 1, &rows);
	}
	if (rc)
		goto out;
	if (db_rows_count(rows) == 0) {
		rc = -E_ORDER_NOT_REFUNDABLE; /* e.g. a renewal order: charged by SID, no payment
		                                 row */
		goto out;
	}
	o->payment_id = db_rows_i64(rows, 0, 0);
	copy_str(o->cid, sizeof(o->cid), db_rows_str(rows, 0, 1));
	copy_str(o->tid, sizeof(o->tid), db_rows_str(rows, 0, 2));
	db_rows_free(rows);
	rows = NULL;
	rc = reserved_sum(db, a->order_id, 0, &reserved);
	if (rc)
		goto out;
	o->cancel_available = o->expect_price - reserved;
	if (a->amount > o->cancel_available) {
		rc = -E_REFUND_AMOUNT_EXCEEDED;
		goto out;
	}
	{
		struct db_param p[] = {DB_I64(o->payment_id)};
		rc = db_query(db, sql_next_no, p, 1, &rows);
	}
	if (rc)
		goto out;
	no = db_rows_i64(rows, 0, 0);
	{
		struct db_param p[] = {DB_I64(a->order_id),
		                       DB_I64(o->payment_id),
		                       DB_I64(no),
		                       DB_I64(a->amount),
		                       DB_I64(a->tax_free),
		                       DB_I64(o->cancel_available),
		                       a->user_id > 0 ? DB_I64(a->user_id) : DB_NULL(),
		                       DB_I64(a->now),
		                       DB_I64(a->now)};
		rc = db_exec(db, sql_insert, p, 9, NULL, &id);
	}
	if (rc)
		goto out;
	o->refund_id = (int64_t)id;
	o->order_id = a->order_id;
	o->amount = a->amount;
	o->tax_free_amount = a->tax_free;
	o->total_after = o->expect_price - o->cancel_available + a->amount;
	copy_str(o->status, sizeof(o->status), "PENDING");
out:
	db_rows_free(rows);
	return rc;
}

int store_refund_begin(struct db *db, int64_t order_id, int64_t amount, int64_t tax_free,
                       int64_t user_id, int64_t now, struct refund_rec *out)
{
	struct begin_arg a = {order_id, amount, tax_free, user_id, now, out};

	memset(out, 0, sizeof(*out));
	return db_tx(db, begin_tx, &a);
}

/* ---- get ------------------------------------------------------------------------------------ */

static const char sql_get[] =
    "SELECT r.order_id, r.payment_id, r.amount, r.tax_free_amount, r.status, p.cid, p.tid, "
    "o.expect_price FROM refunds r JOIN payments p ON p.payment_id = r.payment_id "
    "JOIN orders o ON o.order_id = r.order_id WHERE r.refund_id = ?";

int store_refund_get(struct db *db, int64_t refund_id, struct refund_rec *out)
{
	struct db_param p[] = {DB_I64(refund_id)};
	struct db_rows *rows = NULL;
	int64_t reserved = 0;
	int rc = db_query(db, sql_get, p, 1, &rows);

	if (rc)
		return rc;
	if (db_rows_count(rows) == 0) {
		db_rows_free(rows);
		return -E_DB_NO_ROW;
	}
	memset(out, 0, sizeof(*out));
	out->refund_id = refund_id;
	out->order_id = db_rows_i64(rows, 0, 0);
	out->payment_id = db_rows_i64(rows, 0, 1);
	out->amount = db_rows_i64(rows, 0, 2);
	out->tax_free_amount = db_rows_i64(rows, 0, 3);
	copy_str(out->status, sizeof(out->status), db_rows_str(rows, 0, 4));
	copy_str(out->cid, sizeof(out->cid), db_rows_str(rows, 0, 5));
	copy_str(out->tid, sizeof(out->tid), db_rows_str(rows, 0, 6));
	out->expect_price = db_rows_i64(rows, 0, 7);
	db_rows_free(rows);
	rc = reserved_sum(db, out->order_id, refund_id, &reserved);
	if (rc)
		return rc;
	out->cancel_available = out->expect_price - reserved;
	out->total_after = reserved + out->amount;
	return 0;
}

/* ---- confirm -------------------------------------------------------------------------------- */

static const char sql_refund_lock[] =
    "SELECT order_id, amount, status FROM refunds WHERE refund_id = ? FOR UPDATE";
static const char sql_order_refunded[] =
    "SELECT status, expect_price, refunded_amount FROM orders WHERE order_id = ? FOR UPDATE";
static const char sql_order_update[] =
    "UPDATE orders SET refunded_amount = ?, status = ?, updated_at = FROM_UNIXTIME(?) "
    "WHERE order_id = ?";
static const char sql_refund_confirm[] =
    "UPDATE refunds SET status = 'CONFIRMED', aid = ?, gateway_canceled_total = ?, "
    "confirmed_at = FROM_UNIXTIME(?), updated_at = FROM_UNIXTIME(?) WHERE refund_id = ?";

struct confirm_arg {
	int64_t refund_id, total, now;
	const char *aid;
	bool *changed;
};

static int confirm_tx(struct db *db, void *varg)
{
	struct confirm_arg *a = varg;
	struct db_rows *rows = NULL;
	enum order_status from, to;
	int64_t order_id, amount, expect, refunded;
	const char *st;
	int rc;

	*a->changed = false;
	{
		struct db_param p[] = {DB_I64(a->refund_id)};
		rc = db_query(db, sql_refund_lock, p, 1, &rows);
	}
	if (rc)
		goto out;
	if (db_rows_count(rows) == 0) {
		rc = -E_DB_NO_ROW;
		goto out;
	}
	order_id = db_rows_i64(rows, 0, 0);
	amount = db_rows_i64(rows, 0, 1);
	st = db_rows_str(rows, 0, 2);
	if (!st || (strcmp(st, "PENDING") && strcmp(st, "QUEUED")))
		goto out; /* confirmed (or closed) before: nothing to do */
	db_rows_free(rows);
	rows = NULL;
	{
		struct db_param p[] = {DB_I64(order_id)};
		rc = db_query(db, sql_order_refunded, p, 1, &rows);
	}
	if (rc)
		goto out;
	if (db_rows_count(rows) == 0) {
		rc = -E_DB_NO_ROW;
		goto out;
	}
	from = order_status_parse(db_rows_str(rows, 0, 0));
	expect = db_rows_i64(rows, 0, 1);
	refunded = db_rows_i64(rows, 0, 2) + amount;
	to = refund_status_after(from, expect, refunded);
	if (to == ORDER_NONE) {
		rc = -E_INTERNAL_ERROR;
		goto out;
	}
	{
		struct db_param p[] = {DB_I64(refunded), DB_STR(order_status_name(to)),
		                       DB_I64(a->now), DB_I64(order_id)};
		rc = db_exec(db, sql_order_update, p, 4, NULL, NULL);
	}
	if (rc)
		goto out;
	{
		struct db_param p[] = {DB_STR(a->aid && a->aid[0] ? a->aid : NULL),
		                       a->total >= 0 ? DB_I64(a->total) : DB_NULL(), DB_I64(a->now),
		                       DB_I64(a->now), DB_I64(a->refund_id)};
		rc = db_exec(db, sql_refund_confirm, p, 5, NULL, NULL);
	}
	if (rc == 0)
		*a->changed = true;
out:
	db_rows_free(rows);
	return rc;
}

int store_refund_confirm(struct db *db, int64_t refund_id, const char *aid,
                         int64_t gateway_canceled_total, int64_t now, bool *changed)
{
	struct confirm_arg a = {refund_id, gateway_canceled_total, now, aid, changed};
	return db_tx(db, confirm_tx, &a);
}

/* ---- fail, queue, note ---------------------------------------------------------------------- */

static const char sql_fail[] =
    "UPDATE refunds SET status = 'FAILED', last_error_code = ?, last_error_message = ?, "
    "updated_at = FROM_UNIXTIME(?) WHERE refund_id = ? AND status = 'PENDING'";

int store_refund_fail(struct db *db, int64_t refund_id, const char *code, const char *msg,
                      int64_t now)
{
	struct db_param p[] = {DB_STR(code), DB_STR(msg), DB_I64(now), DB_I64(refund_id)};
	return db_exec(db, sql_fail, p, 4, NULL, NULL);
}

static const char sql_queue[] =
    "UPDATE refunds SET status = 'QUEUED', last_error_code = ?, last_error_message = ?, "
    "updated_at = FROM_UNIXTIME(?) WHERE refund_id = ? AND status = 'PENDING'";
static const char sql_event[] =
    "INSERT INTO api_event (kind, payload, status, tries, next_attempt_at, dedup_key, "
    "created_at, updated_at) VALUES ('REFUND', JSON_OBJECT('refundId', ?), 'PENDING', 0, "
    "FROM_UNIXTIME(?), CONCAT('refund:', ?), FROM_UNIXTIME(?), FROM_UNIXTIME(?))";

struct queue_arg {
	int64_t refund_id, now, delay;
	const char *code, *msg;
};

static int queue_tx(struct db *db, void *varg)
{
	struct queue_arg *a = varg;
	uint64_t affected = 0;
	int rc;

	{
		struct db_param p[] = {DB_STR(a->code), DB_STR(a->msg), DB_I64(a->now),
		                       DB_I64(a->refund_id)};
		rc = db_exec(db, sql_queue, p, 4, &affected, NULL);
	}
	if (rc || affected == 0)
		return rc;
	{
		struct db_param p[] = {DB_I64(a->refund_id), DB_I64(a->now + a->delay),
		                       DB_I64(a->refund_id), DB_I64(a->now), DB_I64(a->now)};
		rc = db_exec(db, sql_event, p, 5, NULL, NULL);
	}
	return rc;
}

int store_refund_queue(struct db *db, int64_t refund_id, const char *code, const char *msg,
                       int64_t now, int64_t first_delay_s)
{
	struct queue_arg a = {refund_id, now, first_delay_s, code, msg};
	return db_tx(db, queue_tx, &a);
}

static const char sql_note[] = "UPDATE refunds SET last_error_code = ?, last_error_message = ?, "
                               "updated_at = FROM_UNIXTIME(?) WHERE refund_id = ?";

int store_refund_note(struct db *db, int64_t refund_id, const char *code, const char *msg,
                      int64_t now)
{
	struct db_param p[] = {DB_STR(code), DB_STR(msg), DB_I64(now), DB_I64(refund_id)};
	return db_exec(db, sql_note, p, 4, NULL, NULL);
}
