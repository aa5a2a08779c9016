/* store_payment: SQL of the payment routes (see store_payment.h). */
#include "core/store_payment.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/db.h"
#include "common/err.h"
#include "core/cart.h"
#include "core/store_cart.h"
#include "common/banned.h"

/* Copies src (NULL = "") into dst[n], cut at n-1 bytes. */
static void copy_str(char *dst, size_t n, const char *src)
{
	size_t len = src ? strnlen(src, n - 1) : 0;

	if (len)
		memcpy(dst, src, len);
	dst[len] = '\0';
}

/* ---- orders --------------------------------------------------------------------------------- */

static const char sql_order[] =
    "SELECT o.user_id, o.status, o.is_subscription, o.ordered_at_cart, o.expect_price, "
    "o.total_quantity, o.total_items, "
    "(SELECT i.product_name FROM order_items oi JOIN items i ON i.item_id = oi.item_id "
    " WHERE oi.order_id = o.order_id ORDER BY oi.order_item_id LIMIT 1) "
    "FROM orders o WHERE o.order_id = ?";

int store_payment_order(struct db *db, int64_t order_id, struct pay_order *out)
{
	struct db_param p[] = {DB_I64(order_id)};
	struct db_rows *rows = NULL;
	int rc = db_query(db, sql_order, p, 1, &rows);

	if (rc)
		return rc;
	if (db_rows_count(rows) == 0) {
		db_rows_free(rows);
		return -E_ORDER_NOT_FOUND;
	}
	memset(out, 0, sizeof(*out));
	out->order_id = order_id;
	out->user_id = db_rows_i64(rows, 0, 0);
	out->status = order_status_parse(db_rows_str(rows, 0, 1));
	out->subscription = db_rows_i64(rows, 0, 2) != 0;
	out->ordered_at_cart = db_rows_i64(rows, 0, 3) != 0;
	out->expect_price = db_rows_i64(rows, 0, 4);
	out->total_quantity = db_rows_i64(rows, 0, 5);
	out->nlines = db_rows_i64(rows, 0, 6);
	copy_str(out->first_product, sizeof(out->first_product), db_rows_str(rows, 0, 7));
	db_rows_free(rows);
	return 0;
}

/* ---- records -------------------------------------------------------------------------------- */

#define REC_COLS                                                                                   \
	"payment_id, order_id, ready_no, status, payment_key, cid, partner_order_id, "             \
	"partner_user_id, item_name, tid, quantity, amount "

static void read_rec(const struct db_rows *rows, size_t i, struct payment_rec *r)
{
	int st = payment_state_parse(db_rows_str(rows, i, 3));

	memset(r, 0, sizeof(*r));
	r->payment_id = db_rows_i64(rows, i, 0);
	r->order_id = db_rows_i64(rows, i, 1);
	r->ready_no = db_rows_i64(rows, i, 2);
	r->state = st < 0 ? PAYMENT_FAILED : (enum payment_state)st;
	copy_str(r->payment_key, sizeof(r->payment_key), db_rows_str(rows, i, 4));
	copy_str(r->cid, sizeof(r->cid), db_rows_str(rows, i, 5));
	copy_str(r->partner_order_id, sizeof(r->partner_order_id), db_rows_str(rows, i, 6));
	copy_str(r->partner_user_id, sizeof(r->partner_user_id), db_rows_str(rows, i, 7));
	copy_str(r->item_name, sizeof(r->item_name), db_rows_str(rows, i, 8));
	copy_str(r->tid, sizeof(r->tid), db_rows_str(rows, i, 9));
	r->quantity = db_rows_i64(rows, i, 10);
	r->amount = db_rows_i64(rows, i, 11);
}

static int query_rec(struct db *db, const char *sql, const struct db_param *p, size_t n,
                     struct payment_rec *out)
{
	struct db_rows *rows = NULL;
	int rc = db_query(db, sql, p, n, &rows);

	if (rc)
		return rc;
	if (db_rows_count(rows) == 0)
		rc = -E_PAYMENT_NOT_FOUND;
	else
		read_rec(rows, 0, out);
	db_rows_free(rows);
	return rc;
}

static const char sql_lock_order[] = "SELECT status FROM orders WHERE order_id = ? FOR UPDATE";
static const char sql_max_ready[] =
    "SELECT COALESCE(MAX(ready_no), 0) FROM payments WHERE order_id = ?";
/*
 * The open records are found with a plain (non-locking) read and superseded one by one by
 * primary key: the order row lock already serialises the readies of one order, and a ranged
 * UPDATE on order_id would take next-key locks on the gap where other orders' payments are
 * inserted, which deadlocks concurrent readies of different orders.
 */
static const char sql_open_ids[] =
    "SELECT payment_id FROM payments WHERE order_id = ? AND status IN ('CREATED', 'READY')";
static const char sql_supersede[] =
    "UPDATE payments SET status = 'SUPERSEDED', closed_at = FROM_UNIXTIME(?), "
    "updated_at = FROM_UNIXTIME(?) WHERE payment_id = ? AND status IN ('CREATED', 'READY')";
static const char sql_insert[] =
    "INSERT INTO payments (order_id, ready_no, status, payment_key, cid, partner_order_id, "
    "partner_user_id, item_name, quantity, amount, tax_free_amount, created_at, updated_at) "
    "VALUES (?, ?, 'CREATED', ?, ?, ?, ?, ?, ?, ?, 0, FROM_UNIXTIME(?), FROM_UNIXTIME(?))";

struct create_tx {
	const struct pay_order *o;
	const char *cid;
	const char *item_name;
	int64_t now;
	struct payment_rec *out;
};

static int lock_order_status(struct db *db, int64_t order_id, enum order_status *st)
{
	struct db_param p[] = {DB_I64(order_id)};
	struct db_rows *rows = NULL;
	int rc = db_query(db, sql_lock_order, p, 1, &rows);

	if (rc)
		return rc;
	if (db_rows_count(rows) == 0)
		rc = -E_ORDER_NOT_FOUND;
	else
		*st = order_status_parse(db_rows_str(rows, 0, 0));
	db_rows_free(rows);
	return rc;
}

static int create_fn(struct db *db, void *arg)
{
	struct create_tx *t = arg;
	struct payment_rec *r = t->out;
	enum order_status st = ORDER_NONE;
	struct db_rows *rows = NULL;
	unsigned char raw[24];
	uint64_t id = 0;
	int rc;

	rc = lock_order_status(db, t->o->order_id, &st);
	if (rc)
		return rc;
	if (st != ORDER_REQUEST)
		return -E_ORDER_NOT_PAYABLE;
	struct db_param mp[] = {DB_I64(t->o->order_id)};
	rc = db_query(db, sql_max_ready, mp, 1, &rows);
	if (rc)
		return rc;
	memset(r, 0, sizeof(*r));
	r->ready_no = (db_rows_count(rows) ? db_rows_i64(rows, 0, 0) : 0) + 1;
	db_rows_free(rows);
	rc = db_query(db, sql_open_ids, mp, 1, &rows);
	if (rc)
		return rc;
	for (size_t i = 0; rc == 0 && i < db_rows_count(rows); i++) {
		struct db_param sp[] = {DB_I64(t->now), DB_I64(t->now),
		                        DB_I64(db_rows_i64(rows, i, 0))};
		rc = db_exec(db, sql_supersede, sp, 3, NULL, NULL);
	}
	db_rows_free(rows);
	rows = NULL;
	if (rc)
		return rc;
	/* 24 random bytes = 32 base64url characters */
	if (crypto_random(raw, sizeof(raw)) ||
	    crypto_b64url_encode(raw, sizeof(raw), r->payment_key, sizeof(r->payment_key)) !=
	        PAYMENT_KEY_LEN)
		return -E_INTERNAL_ERROR;
	if (payment_partner_order_id(t->o->order_id, r->ready_no, r->partner_order_id,
	                             sizeof(r->partner_order_id)) ||
	    payment_partner_user_id(t->o->user_id, r->partner_user_id, sizeof(r->partner_user_id)))
		return -E_INTERNAL_ERROR;
	r->order_id = t->o->order_id;
	r->state = PAYMENT_CREATED;
	copy_str(r->cid, sizeof(r->cid), t->cid);
	copy_str(r->item_name, sizeof(r->item_name), t->item_name);
	r->quantity = t->o->total_quantity;
	r->amount = t->o->expect_price;
	struct db_param ip[] = {DB_I64(r->order_id),
	                        DB_I64(r->ready_no),
	                        DB_STR(r->payment_key),
	                        DB_STR(r->cid),
	                        DB_STR(r->partner_order_id),
	                        DB_STR(r->partner_user_id),
	                        DB_STR(r->item_name),
	                        DB_I64(r->quantity),
	                        DB_I64(r->amount),
	                        DB_I64(t->now),
	                        DB_I64(t->now)};
	rc = db_exec(db, sql_insert, ip, 11, NULL, &id);
	if (rc)
		return rc == -E_DB_DUPLICATE ? -E_DB_RETRY : rc;
	r->payment_id = (int64_t)id;
	return 0;
}

int store_payment_create(struct db *db, const struct pay_order *o, const char *cid,
                         const char *item_name, int64_t now, struct payment_rec *out)
{
	struct payment_rec tmp;
	struct create_tx t = {o, cid, item_name, now, &tmp};
	int rc = db_tx(db, create_fn, &t);

	if (rc == 0)
		*out = tmp;
	return rc;
}

static const char sql_ready[] =
    "UPDATE payments SET status = 'READY', tid = ?, next_redirect_pc_url = ?, "
    "next_redirect_mobile_url = ?, gateway_created_at = FROM_UNIXTIME(?), "
    "ready_at = FROM_UNIXTIME(?), updated_at = FROM_UNIXTIME(?) "
    "WHERE payment_id = ? AND status = 'CREATED'";

int store_payment_ready(struct db *db, int64_t payment_id, const struct pay_result *res,
                        int64_t now, bool *changed)
{
	char pc[256], mobile[256];
	uint64_t n = 0;
	int rc;

	copy_str(pc, sizeof(pc), res->next_redirect_pc_url);
	copy_str(mobile, sizeof(mobile), res->next_redirect_mobile_url);
	struct db_param p[] = {
	    DB_STR(res->tid),  DB_STR(pc),
	    DB_STR(mobile),    res->created_at >= 0 ? DB_I64(res->created_at) : DB_NULL(),
	    DB_I64(now),       DB_I64(now),
	    DB_I64(payment_id)};
	rc = db_exec(db, sql_ready, p, 7, &n, NULL);
	if (rc == 0)
		*changed = n > 0;
	return rc;
}

static const char sql_move[] =
    "UPDATE payments SET status = ?, "
    "closed_at = IF(? <> 0, FROM_UNIXTIME(?), closed_at), "
    "approving_at = IF(? <> 0, FROM_UNIXTIME(?), approving_at), "
    "last_error_code = COALESCE(?, last_error_code), "
    "last_error_message = COALESCE(?, last_error_message), updated_at = FROM_UNIXTIME(?) "
    "WHERE payment_id = ? AND status = ?";

int store_payment_move(struct db *db, int64_t payment_id, enum payment_state from,
                       enum payment_state to, const char *err_code, const char *err_msg,
                       int64_t now, bool *changed)
{
	bool closed = to == PAYMENT_CANCELED || to == PAYMENT_FAILED || to == PAYMENT_EXPIRED ||
	              to == PAYMENT_SUPERSEDED;
	char msg[500];
	uint64_t n = 0;
	int rc;

	if (!payment_can_transition(from, to))
		return -E_INTERNAL_ERROR;
	if (err_msg) {
		/* cut on a UTF-8 boundary: the column holds 500 characters, and strict mode refuses
		 * a broken sequence */
		size_t len = strnlen(err_msg, sizeof(msg) - 1);
		if (len == sizeof(msg) - 1)
			while (len && (err_msg[len] & 0xC0) == 0x80)
				len--;
		memcpy(msg, err_msg, len);
		msg[len] = '\0';
	}
	struct db_param p[] = {DB_STR(payment_state_name(to)),  DB_I64(closed), DB_I64(now),
	                       DB_I64(to == PAYMENT_APPROVING), DB_I64(now),    DB_STR(err_code),
	                       DB_STR(err_msg ? msg : NULL),    DB_I64(now),    DB_I64(payment_id),
	                       DB_STR(payment_state_name(from))};
	rc = db_exec(db, sql_move, p, 10, &n, NULL);
	if (rc == 0)
		*changed = n > 0;
	return rc;
}

static const char sql_current[] =
    "SELECT " REC_COLS "FROM payments WHERE order_id = ? ORDER BY ready_no DESC LIMIT 1";

int store_payment_current(struct db *db, int64_t order_id, struct payment_rec *out)
{
	struct db_param p[] = {DB_I64(order_id)};
	struct payment_rec r;
	int rc = query_rec(db, sql_current, p, 1, &r);

	if (rc)
		return rc;
	if (r.state != PAYMENT_READY && r.state != PAYMENT_APPROVING)
		return -E_PAYMENT_NOT_FOUND;
	*out = r;
	return 0;
}

static const char sql_by_key[] =
    "SELECT " REC_COLS ", (SELECT COUNT(*) FROM payments q WHERE q.order_id = p.order_id "
    "AND q.ready_no > p.ready_no) FROM payments p WHERE order_id = ? AND payment_key = ?";

int store_payment_by_key(struct db *db, int64_t order_id, const char *key, struct payment_rec *out,
                         bool *newest)
{
	struct db_param p[] = {DB_I64(order_id), DB_STR(key)};
	struct db_rows *rows = NULL;
	int rc = db_query(db, sql_by_key, p, 2, &rows);

	if (rc)
		return rc;
	if (db_rows_count(rows) == 0) {
		rc = -E_PAYMENT_NOT_FOUND;
	} else {
		read_rec(rows, 0, out);
		*newest = db_rows_i64(rows, 0, 12) == 0;
	}
	db_rows_free(rows);
	return rc;
}

static const char sql_for_lookup[] =
    "SELECT " REC_COLS "FROM payments WHERE order_id = ? AND tid IS NOT NULL "
    "ORDER BY status = 'APPROVED' DESC, ready_no DESC LIMIT 1";

int store_payment_for_lookup(struct db *db, int64_t order_id, struct payment_rec *out)
{
	struct db_param p[] = {DB_I64(order_id)};
	return query_rec(db, sql_for_lookup, p, 1, out);
}

static const char sql_get[] = "SELECT " REC_COLS "FROM payments WHERE payment_id = ?";

int store_payment_get(struct db *db, int64_t payment_id, struct payment_rec *out)
{
	struct db_param p[] = {DB_I64(payment_id)};
	return query_rec(db, sql_get, p, 1, out);
}

static const char sql_result[] = "SELECT approval_result FROM payments "
                                 "WHERE order_id = ? AND status = 'APPROVED' LIMIT 1";

int store_payment_approval_result(struct db *db, int64_t order_id, char **out)
{
	struct db_param p[] = {DB_I64(order_id)};
	struct db_rows *rows = NULL;
	const char *v;
	int rc = db_query(db, sql_result, p, 1, &rows);

	if (rc)
		return rc;
	if (db_rows_count(rows) == 0 || !(v = db_rows_str(rows, 0, 0))) {
		rc = -E_PAYMENT_NOT_FOUND;
	} else if (!(*out = strdup(v))) {
		rc = -E_NOMEM;
	}
	db_rows_free(rows);
	return rc;
}

/* ---- approval ------------------------------------------------------------------------------- */

static const char sql_approve[] =
    "UPDATE payments SET status = 'APPROVED', aid = ?, sid = ?, payment_method_type = ?, "
    "approved_total = ?, approved_tax_free = ?, approved_vat = ?, approved_point = ?, "
    "approved_discount = ?, approved_at = FROM_UNIXTIME(?), approval_result = ?, "
    "updated_at = FROM_UNIXTIME(?) WHERE payment_id = ? AND status IN ('READY', 'APPROVING')";
static const char sql_order_complete[] =
    "UPDATE orders SET status = 'COMPLETE', paid_at = FROM_UNIXTIME(?), "
    "updated_at = FROM_UNIXTIME(?) WHERE order_id = ? AND status = 'REQUEST'";
static const char sql_sales[] =
    "UPDATE items i JOIN (SELECT item_id, SUM(quantity) AS q FROM order_items "
    "WHERE order_id = ? GROUP BY item_id) s ON s.item_id = i.item_id SET i.sales = i.sales + s.q";
static const char sql_lines[] =
    "SELECT order_item_id, item_id, quantity, is_subscription, period, real_price "
    "FROM order_items WHERE order_id = ? ORDER BY order_item_id";
static const char sql_receiver[] =
    "SELECT user_id, ordered_at_cart, receiver_real_name, receiver_phone, receiver_city, "
    "receiver_detail_address FROM orders WHERE order_id = ?";
static const char sql_sub_insert[] =
    "INSERT INTO subscriptions (user_id, order_id, order_item_id, item_id, payment_id, quantity, "
    "period, status, first_payment_date, last_payment_date, last_settled_cycle_date, "
    "next_payment_date, cid, sid, partner_user_id, receiver_real_name, receiver_phone, "
    "receiver_city, receiver_detail_address, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, "
    "'SUBSCRIPTION', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, FROM_UNIXTIME(?), FROM_UNIXTIME(?))";
static const char sql_line_sub[] =
    "UPDATE order_items SET subscription_id = ? WHERE order_item_id = ?";
static const char sql_cycle_insert[] =
    "INSERT INTO subscription_cycles (subscription_id, cycle_date, status, attempts, amount, "
    "order_id, paid_at, created_at, updated_at) VALUES (?, ?, 'PAID', 1, ?, ?, "
    "FROM_UNIXTIME(?), FROM_UNIXTIME(?), FROM_UNIXTIME(?))";

struct complete_tx {
	const struct payment_approval *a;
	int64_t now;
	int32_t today;
};

static int add_subscriptions(struct db *db, const struct complete_tx *t,
                             const struct db_rows *order, const struct db_rows *lines)
{
	const struct payment_approval *a = t->a;
	char f[CLOCK_DATE_LEN], next[CLOCK_DATE_LEN];
	int64_t order_id = a->rec->order_id;
	int rc;

	if (clock_format_day(t->today, f))
		return -E_INTERNAL_ERROR;
	for (size_t i = 0; i < db_rows_count(lines); i++) {
		uint64_t sub_id = 0;
		int64_t line_id = db_rows_i64(lines, i, 0), qty = db_rows_i64(lines, i, 2);
		int64_t period = db_rows_i64(lines, i, 4);

		if (!db_rows_i64(lines, i, 3))
			continue;
		if (!a->sid || !a->sid[0])
			return -E_PAYMENT_GATEWAY_TIMEOUT;
		if (clock_format_day(t->today + (int32_t)period, next))
			return -E_INTERNAL_ERROR;
		struct db_param sp[] = {DB_I64(db_rows_i64(order, 0, 0)),
		                        DB_I64(order_id),
		                        DB_I64(line_id),
		                        DB_I64(db_rows_i64(lines, i, 1)),
		                        DB_I64(a->rec->payment_id),
		                        DB_I64(qty),
		                        DB_I64(period),
		                        DB_STR(f),
		                        DB_STR(f),
		                        DB_STR(f),
		                        DB_STR(next),
		                        DB_STR(a->rec->cid),
		                        DB_STR(a->sid),
		                        DB_STR(a->rec->partner_user_id),
		                        DB_STR(db_rows_str(order, 0, 2)),
		                        DB_STR(db_rows_str(order, 0, 3)),
		                        DB_STR(db_rows_str(order, 0, 4)),
		                        DB_STR(db_rows_str(order, 0, 5)),
		                        DB_I64(t->now),
		                        DB_I64(t->now)};
		rc = db_exec(db, sql_sub_insert, sp, sizeof(sp) / sizeof(sp[0]), NULL, &sub_id);
		if (rc)
			return rc;
		struct db_param lp[] = {DB_I64(sub_id), DB_I64(line_id)};
		rc = db_exec(db, sql_line_sub, lp, 2, NULL, NULL);
		if (rc)
			return rc;
		struct db_param cp[] = {
		    DB_I64(sub_id),   DB_STR(f),      DB_I64(db_rows_i64(lines, i, 5) * qty),
		    DB_I64(order_id), DB_I64(t->now), DB_I64(t->now),
		    DB_I64(t->now)};
		rc = db_exec(db, sql_cycle_insert, cp, 7, NULL, NULL);
		if (rc)
			return rc;
	}
	return 0;
}

static int remove_from_carts(struct db *db, int64_t user_id, const struct db_rows *lines)
{
	size_t n = db_rows_count(lines), nn = 0, ns = 0;
	int64_t *normal = calloc(n + 1, sizeof(*normal));
	int64_t *subs = calloc(n + 1, sizeof(*subs));
	int rc = -E_NOMEM;

	if (!normal || !subs)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (db_rows_i64(lines, i, 3))
			subs[ns++] = db_rows_i64(lines, i, 1);
		else
			normal[nn++] = db_rows_i64(lines, i, 1);
	}
	rc = store_cart_remove_items(db, user_id, CART_NORMAL, normal, nn);
	if (rc == 0)
		rc = store_cart_remove_items(db, user_id, CART_SUBSCRIPTION, subs, ns);
out:
	free(normal);
	free(subs);
	return rc;
}

static int complete_fn(struct db *db, void *arg)
{
	struct complete_tx *t = arg;
	const struct payment_approval *a = t->a;
	int64_t order_id = a->rec->order_id;
	int64_t approved_at = a->approved_at >= 0 ? a->approved_at : t->now;
	struct db_rows *order = NULL, *lines = NULL;
	enum order_status st = ORDER_NONE;
	uint64_t n = 0;
	int rc;

	rc = lock_order_status(db, order_id, &st);
	if (rc)
		return rc;
	if (st != ORDER_REQUEST)
		return -E_ORDER_NOT_PAYABLE;
	struct db_param ap[] = {DB_STR(a->aid),
	                        DB_STR(a->sid && a->sid[0] ? a->sid : NULL),
	                        DB_STR(a->payment_method_type && a->payment_method_type[0]
	                                   ? a->payment_method_type
	                                   : NULL),
	                        DB_I64(a->amount.total),
	                        DB_I64(a->amount.tax_free),
	                        DB_I64(a->amount.vat),
	                        DB_I64(a->amount.point),
	                        DB_I64(a->amount.discount),
	                        DB_I64(approved_at),
	                        DB_STR(a->result_json),
	                        DB_I64(t->now),
	                        DB_I64(a->rec->payment_id)};
	rc = db_exec(db, sql_approve, ap, 12, &n, NULL);
	if (rc)
		return rc;
	if (n == 0)
		return -E_ORDER_NOT_PAYABLE;
	struct db_param op[] = {DB_I64(t->now), DB_I64(t->now), DB_I64(order_id)};
	rc = db_exec(db, sql_order_complete, op, 3, NULL, NULL);
	if (rc)
		return rc;
	struct db_param idp[] = {DB_I64(order_id)};
	rc = db_exec(db, sql_sales, idp, 1, NULL, NULL);
	if (rc)
		return rc;
	rc = db_query(db, sql_receiver, idp, 1, &order);
	if (rc)
		goto out;
	if (db_rows_count(order) == 0) {
		rc = -E_ORDER_NOT_FOUND;
		goto out;
	}
	rc = db_query(db, sql_lines, idp, 1, &lines);
	if (rc)
		goto out;
	rc = add_subscriptions(db, t, order, lines);
	if (rc == 0 && db_rows_i64(order, 0, 1))
		rc = remove_from_carts(db, db_rows_i64(order, 0, 0), lines);
out:
	db_rows_free(order);
	db_rows_free(lines);
	return rc;
}

int store_payment_complete(struct db *db, const struct payment_approval *a, int64_t now,
                           int32_t today)
{
	struct complete_tx t = {a, now, today};
	return db_tx(db, complete_fn, &t);
}

/* ---- cancel --------------------------------------------------------------------------------- */

static const char sql_cancel_pay[] =
    "UPDATE payments SET status = 'CANCELED', closed_at = FROM_UNIXTIME(?), "
    "updated_at = FROM_UNIXTIME(?) WHERE payment_id = ? AND status = 'READY'";
static const char sql_cancel_order[] =
    "UPDATE orders SET status = 'CANCELED', canceled_at = FROM_UNIXTIME(?), "
    "updated_at = FROM_UNIXTIME(?) WHERE order_id = ? AND status = 'REQUEST'";

struct cancel_tx {
	int64_t payment_id, order_id, now;
	bool changed;
};

static int cancel_fn(struct db *db, void *arg)
{
	struct cancel_tx *t = arg;
	enum order_status st = ORDER_NONE;
	uint64_t n = 0;
	int rc;

	t->changed = false;
	rc = lock_order_status(db, t->order_id, &st);
	if (rc || st != ORDER_REQUEST)
		return rc;
	struct db_param pp[] = {DB_I64(t->now), DB_I64(t->now), DB_I64(t->payment_id)};
	rc = db_exec(db, sql_cancel_pay, pp, 3, &n, NULL);
	if (rc || n == 0)
		return rc;
	struct db_param op[] = {DB_I64(t->now), DB_I64(t->now), DB_I64(t->order_id)};
	rc = db_exec(db, sql_cancel_order, op, 3, NULL, NULL);
	if (rc == 0)
		t->changed = true;
	return rc;
}

int store_payment_cancel_order(struct db *db, int64_t payment_id, int64_t order_id, int64_t now,
                               bool *changed)
{
	struct cancel_tx t = {payment_id, order_id, now, false};
	int rc = db_tx(db, cancel_fn, &t);

	if (rc == 0)
		*changed = t.changed;
	return rc;
}

/* ---- the sweepers --------------------------------------------------------------------------- */

/* REC_COLS, then the time the sweeper measures from and the order's subscription flag. */
#define DUE_COLS                                                                                   \
	REC_COLS ", UNIX_TIMESTAMP(COALESCE(ready_at, created_at)), "                              \
	         "(SELECT o.is_subscription FROM orders o WHERE o.order_id = payments.order_id) "
static const char sql_due_created[] =
    "SELECT " DUE_COLS "FROM payments WHERE status = 'CREATED' AND flagged_at IS NULL "
    "AND created_at <= FROM_UNIXTIME(?) AND payment_id > ? ORDER BY payment_id LIMIT ?";
static const char sql_due_ready[] =
    "SELECT " DUE_COLS "FROM payments WHERE status = 'READY' AND flagged_at IS NULL "
    "AND ready_at <= FROM_UNIXTIME(?) AND payment_id > ? ORDER BY payment_id LIMIT ?";
static const char sql_due_approving[] =
    "SELECT " DUE_COLS "FROM payments WHERE status = 'APPROVING' AND flagged_at IS NULL "
    "AND approving_at <= FROM_UNIXTIME(?) AND payment_id > ? ORDER BY payment_id LIMIT ?";

int store_payment_due(struct db *db, enum payment_state state, int64_t before, int64_t after_id,
                      struct payment_due *out, size_t max, size_t *n)
{
	const char *sql = state == PAYMENT_CREATED     ? sql_due_created
	                  : state == PAYMENT_READY     ? sql_due_ready
	                  : state == PAYMENT_APPROVING ? sql_due_approving
	                                               : NULL;
	struct db_param p[] = {DB_I64(before), DB_I64(after_id), DB_I64(max)};
	struct db_rows *rows = NULL;
	size_t count;
	int rc;

	if (!sql)
		return -E_INTERNAL_ERROR;
	if (max == 0) {
		*n = 0;
		return 0;
	}
	rc = db_query(db, sql, p, 3, &rows);
	if (rc)
		return rc;
	count = db_rows_count(rows);
	if (count > max)
		count = max;
	for (size_t i = 0; i < count; i++) {
		read_rec(rows, i, &out[i].rec);
		out[i].ready_at = db_rows_i64(rows, i, 12);
		out[i].subscription = db_rows_i64(rows, i, 13) != 0;
	}
	db_rows_free(rows);
	*n = count;
	return 0;
}

static const char sql_flag[] =
    "UPDATE payments SET flagged_at = FROM_UNIXTIME(?), flag_reason = ?, "
    "updated_at = FROM_UNIXTIME(?) WHERE payment_id = ? AND status = ? AND flagged_at IS NULL";

int store_payment_flag(struct db *db, int64_t payment_id, enum payment_state state,
                       const char *reason, int64_t now, bool *changed)
{
	char text[256 * 4];
	size_t len = 0, chars = 0;
	uint64_t n = 0;
	int rc;

	/* flag_reason holds 255 characters: cut on a UTF-8 boundary */
	while (reason && reason[len] && chars < 255 && len < sizeof(text) - 5) {
		len++;
		while ((reason[len] & 0xC0) == 0x80)
			len++;
		chars++;
	}
	if (len)
		memcpy(text, reason, len);
	text[len] = '\0';
	struct db_param p[] = {DB_I64(now), DB_STR(text), DB_I64(now), DB_I64(payment_id),
	                       DB_STR(payment_state_name(state))};
	rc = db_exec(db, sql_flag, p, 5, &n, NULL);
	if (rc == 0)
		*changed = n > 0;
	return rc;
}

#define OPEN_OR_PAID "('CREATED', 'READY', 'APPROVING', 'APPROVED')"
static const char sql_stale_orders[] =
    "SELECT o.order_id FROM orders o WHERE o.status = 'REQUEST' "
    "AND o.created_at <= FROM_UNIXTIME(?) AND o.order_id > ? AND NOT EXISTS "
    "(SELECT 1 FROM payments p WHERE p.order_id = o.order_id AND p.status IN " OPEN_OR_PAID ") "
    "ORDER BY o.order_id LIMIT ?";
static const char sql_open_count[] =
    "SELECT COUNT(*) FROM payments WHERE order_id = ? AND status IN " OPEN_OR_PAID;

int store_payment_stale_orders(struct db *db, int64_t before, int64_t after_id, int64_t *ids,
                               size_t max, size_t *n)
{
	struct db_param p[] = {DB_I64(before), DB_I64(after_id), DB_I64(max)};
	struct db_rows *rows = NULL;
	size_t count;
	int rc;

	if (max == 0) {
		*n = 0;
		return 0;
	}
	rc = db_query(db, sql_stale_orders, p, 3, &rows);
	if (rc)
		return rc;
	count = db_rows_count(rows);
	if (count > max)
		count = max;
	for (size_t i = 0; i < count; i++)
		ids[i] = db_rows_i64(rows, i, 0);
	db_rows_free(rows);
	*n = count;
	return 0;
}

struct expire_tx {
	int64_t order_id, now;
	bool changed;
};

static int expire_fn(struct db *db, void *arg)
{
	struct expire_tx *t = arg;
	enum order_status st = ORDER_NONE;
	struct db_rows *rows = NULL;
	int64_t open;
	int rc;

	t->changed = false;
	rc = lock_order_status(db, t->order_id, &st);
	if (rc || st != ORDER_REQUEST)
		return rc;
	/* a plain read is enough: every insert of a record takes the order lock held here, and
	 * no closed record ever opens again */
	struct db_param ip[] = {DB_I64(t->order_id)};
	rc = db_query(db, sql_open_count, ip, 1, &rows);
	if (rc)
		return rc;
	open = db_rows_count(rows) ? db_rows_i64(rows, 0, 0) : 1;
	db_rows_free(rows);
	if (open)
		return 0;
	struct db_param op[] = {DB_I64(t->now), DB_I64(t->now), DB_I64(t->order_id)};
	rc = db_exec(db, sql_cancel_order, op, 3, NULL, NULL);
	if (rc == 0)
		t->changed = true;
	return rc;
}

int store_payment_expire_order(struct db *db, int64_t order_id, int64_t now, bool *changed)
{
	struct expire_tx t = {order_id, now, false};
	int rc = db_tx(db, expire_fn, &t);

	if (rc == 0)
		*changed = t.changed;
	return rc;
}
